//! Go's `crypto/tls` on rustls, over gonet connections.
//!
//! `use gonet::crypto::tls;` mirrors Go's `import "crypto/tls"`, and the calls port line
//! for line: `tls.Listen("tcp", ":443", cfg)` is `tls::listen("tcp", ":443", &cfg)`,
//! `tls.Dial` is [`dial`], `tls.Server(conn, cfg)` is [`server`], `tls.LoadX509KeyPair`
//! is [`load_x509_key_pair`], and `&tls.Config{...}` is a [`Config`] struct literal.
//! A TLS [`Conn`] reads and writes through a gonet [`net::Conn`](crate::net::Conn), so a
//! coroutine waiting on TLS traffic parks in the netpoller exactly as one waiting on
//! plain traffic, and the conn's deadlines bound the handshake too.
//!
//! ```
//! use gonet::crypto::tls;
//! use std::io::{Read, Write};
//! # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
//! # let (cert_pem, key_pem) = (ck.cert.pem(), ck.signing_key.serialize_pem());
//! // The server: tls.X509KeyPair, tls.Listen, ln.Accept, go handle(conn).
//! let cert = tls::x509_key_pair(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
//! let ln = tls::listen("tcp", "127.0.0.1:0", &tls::Config {
//!     certificates: vec![cert],
//!     ..Default::default()
//! }).unwrap();
//! let addr = ln.addr().to_string();
//! gonet::go!(move || {
//!     let mut conn = ln.accept().unwrap();
//!     let mut line = [0u8; 4];
//!     conn.read_exact(&mut line).unwrap();
//!     conn.write_all(&line).unwrap();
//! });
//!
//! // The client: a pool with the server's certificate, tls.Dial.
//! let mut roots = gonet::crypto::x509::CertPool::new();
//! roots.append_certs_from_pem(cert_pem.as_bytes());
//! let mut conn = tls::dial("tcp", &addr, &tls::Config {
//!     root_cas: Some(roots),
//!     server_name: "localhost".into(),
//!     ..Default::default()
//! }).unwrap();
//! conn.write_all(b"ping").unwrap();
//! let mut back = [0u8; 4];
//! conn.read_exact(&mut back).unwrap();
//! assert_eq!(&back, b"ping");
//! ```
//!
//! ## What rustls does and does not do
//! TLS 1.2 and 1.3 only (no SSLv3, TLS 1.0, 1.1, renegotiation, RSA key exchange or
//! CBC suites). [`Config`] lists Go's fields that have no counterpart here and what
//! happens instead. Errors are Go's texts, wrapped as Go wraps them (see [`TlsError`],
//! [`AlertError`], [`RecordHeaderError`] and [`crate::crypto::x509`]); where rustls
//! cannot tell what Go tells (the versions a ClientHello offered, say, which gonet reads
//! from the record itself), the error says what rustls knows.
//!
//! ## The crypto provider: aws-lc-rs
//! rustls runs on aws-lc-rs (its default) rather than *ring*, on these measurements
//! made on this project's build machine (2 shared cores; rustls 0.23.46, a client and a
//! server in one thread over memory, TLS 1.3, ECDSA P-256, two runs each):
//!
//! | | *ring* 0.17.14 | aws-lc-rs 1.19.0 (aws-lc-sys 0.47) |
//! |---|---|---|
//! | clean release build of rustls + provider | 35 s (39 s CPU) | 57 s (86 s CPU) |
//! | full handshakes/s | 3,160 - 3,470 | 3,770 - 4,060 |
//! | resumed handshakes/s | 5,030 - 5,720 | 6,750 - 6,770 |
//! | bulk AES-256-GCM, encrypt + decrypt | 2,820 - 3,120 MiB/s | 4,820 - 4,900 MiB/s |
//!
//! aws-lc-rs is 1.1-1.3x faster at handshakes and 1.6x at bulk encryption, which is
//! what a server competing with Go's assembly AES-GCM needs; it costs 22 s more on a
//! clean build, once. Building it needs a C compiler (`gcc` or `cc`), which *ring* needs
//! as well; aws-lc-sys 0.47 builds with the `cc` crate and needs no cmake on Linux
//! x86_64 and aarch64.

/// The three signature methods of a rustls certificate verifier (Go:
/// `verifyHandshakeSignature`), alike in every verifier here: `algs` checks with the
/// provider's algorithms in `self.algs`; `inner` asks the wrapped verifier `self.inner`.
macro_rules! verify_signatures {
    (algs) => {
        verify_signatures!(@with |this, message, cert, dss| {
            schemes: this.algs.supported_schemes(),
            verify_tls12_signature: rustls::crypto::verify_tls12_signature(message, cert, dss, &this.algs),
            verify_tls13_signature: rustls::crypto::verify_tls13_signature(message, cert, dss, &this.algs),
        });
    };
    (inner) => {
        verify_signatures!(@with |this, message, cert, dss| {
            schemes: this.inner.supported_verify_schemes(),
            verify_tls12_signature: this.inner.verify_tls12_signature(message, cert, dss),
            verify_tls13_signature: this.inner.verify_tls13_signature(message, cert, dss),
        });
    };
    (@with |$this:ident, $m:ident, $c:ident, $d:ident| {
        schemes: $schemes:expr, $($method:ident: $body:expr,)+
    }) => {
        $(
            fn $method(
                &self,
                $m: &[u8],
                $c: &rustls::pki_types::CertificateDer<'_>,
                $d: &rustls::DigitallySignedStruct,
            ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
                let $this = self;
                $body
            }
        )+

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            let $this = self;
            $schemes
        }
    };
}

mod alert;
mod cipher_suites;
mod common;
mod config_cache;
mod conn;
mod error;
mod handshake_client;
mod handshake_server;
mod record;
mod serve;
// Go's tls.go: the file is named after Go's, inside the module named after Go's package.
#[allow(clippy::module_inception)]
mod tls;

pub use self::alert::AlertError;
pub use self::cipher_suites::{
    TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    cipher_suite_name,
};
pub use self::common::{
    CURVE_P256, CURVE_P384, CURVE_P521, Certificate, ClientAuthType, ClientHelloInfo,
    ClientSessionCache, Config, ConnectionState, CurveId, GetCertificateFn, KeyLogWriter,
    PrivateKey, VERSION_TLS10, VERSION_TLS11, VERSION_TLS12, VERSION_TLS13, X25519,
    X25519_MLKEM768, new_lru_client_session_cache, version_name,
};
pub use self::conn::Conn;
pub use self::error::{RecordHeaderError, TlsError};
#[doc(hidden)]
pub use self::record::observe_stream as __observe_records;
pub use self::tls::{
    Listener, client, dial, dial_with_dialer, listen, load_x509_key_pair, new_listener, server,
    x509_key_pair,
};
