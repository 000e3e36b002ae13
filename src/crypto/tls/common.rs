//! The configuration and the types around it. Go: `crypto/tls/common.go`.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use rustls::pki_types::CertificateDer;
use rustls::sign::{CertifiedKey, SigningKey};

use crate::crypto::x509::{self, CertPool};
use crate::net::Conn as NetConn;

/// TLS 1.0. Go: `tls.VersionTLS10`. rustls does not speak it: a `min_version` this low
/// means TLS 1.2.
pub const VERSION_TLS10: u16 = 0x0301;
/// TLS 1.1. Go: `tls.VersionTLS11`. Not spoken (see [`VERSION_TLS10`]).
pub const VERSION_TLS11: u16 = 0x0302;
/// TLS 1.2. Go: `tls.VersionTLS12`; the lowest version gonet speaks (Go 1.19's default
/// minimum for clients).
pub const VERSION_TLS12: u16 = 0x0303;
/// TLS 1.3. Go: `tls.VersionTLS13`; the default maximum.
pub const VERSION_TLS13: u16 = 0x0304;

/// Go's name for a TLS version: `"TLS 1.3"`, or `"0x0305"` for one it does not know.
///
/// Go: `tls.VersionName` (Go 1.21).
///
/// ```
/// use gonet::crypto::tls;
/// assert_eq!(tls::version_name(tls::VERSION_TLS13), "TLS 1.3");
/// assert_eq!(tls::version_name(0x0305), "0x0305");
/// ```
pub fn version_name(version: u16) -> String {
    match version {
        VERSION_TLS10 => "TLS 1.0".into(),
        VERSION_TLS11 => "TLS 1.1".into(),
        VERSION_TLS12 => "TLS 1.2".into(),
        VERSION_TLS13 => "TLS 1.3".into(),
        0x0300 => "SSLv3".into(),
        v => format!("0x{v:04X}"),
    }
}

/// A key exchange group. Go: `tls.CurveID`.
///
/// ```
/// assert_eq!(gonet::crypto::tls::X25519.0, 29);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurveId(pub u16);

/// NIST P-256. Go: `tls.CurveP256`.
pub const CURVE_P256: CurveId = CurveId(23);
/// NIST P-384. Go: `tls.CurveP384`.
pub const CURVE_P384: CurveId = CurveId(24);
/// NIST P-521. Go: `tls.CurveP521` (not offered by the aws-lc-rs provider's defaults).
pub const CURVE_P521: CurveId = CurveId(25);
/// X25519. Go: `tls.X25519`.
pub const X25519: CurveId = CurveId(29);
/// The X25519 + ML-KEM-768 hybrid. Go 1.24: `tls.X25519MLKEM768`.
pub const X25519_MLKEM768: CurveId = CurveId(4588);

/// How a server asks for client certificates. Go: `tls.ClientAuthType`, same values.
///
/// ```
/// use gonet::crypto::tls::ClientAuthType;
/// assert_eq!(ClientAuthType::default(), ClientAuthType::NoClientCert);
/// assert_eq!(ClientAuthType::RequireAndVerifyClientCert as i32, 4);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ClientAuthType {
    /// Ask for none. Go: `tls.NoClientCert`.
    #[default]
    NoClientCert = 0,
    /// Ask, take whatever comes (or nothing), verify nothing. Go: `tls.RequestClientCert`.
    RequestClientCert = 1,
    /// Require one, verify nothing. Go: `tls.RequireAnyClientCert`.
    RequireAnyClientCert = 2,
    /// Ask, and verify one if sent. Go: `tls.VerifyClientCertIfGiven`.
    VerifyClientCertIfGiven = 3,
    /// Require one and verify it against [`Config::client_cas`].
    /// Go: `tls.RequireAndVerifyClientCert`.
    RequireAndVerifyClientCert = 4,
}

impl fmt::Display for ClientAuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go: common_string.go.
        f.write_str(match self {
            ClientAuthType::NoClientCert => "NoClientCert",
            ClientAuthType::RequestClientCert => "RequestClientCert",
            ClientAuthType::RequireAnyClientCert => "RequireAnyClientCert",
            ClientAuthType::VerifyClientCertIfGiven => "VerifyClientCertIfGiven",
            ClientAuthType::RequireAndVerifyClientCert => "RequireAndVerifyClientCert",
        })
    }
}

/// A private key, loaded and ready to sign (by the aws-lc-rs provider).
///
/// Go: the `crypto.PrivateKey` in `tls.Certificate.PrivateKey`. Made by
/// [`x509_key_pair`](super::x509_key_pair) or [`PrivateKey::from_pem`].
///
/// ```
/// let err = gonet::crypto::tls::PrivateKey::from_pem(b"nothing").unwrap_err();
/// assert_eq!(err.to_string(), "tls: failed to find any PEM data in key input");
/// ```
#[derive(Clone)]
pub struct PrivateKey {
    pub(crate) key: Arc<dyn SigningKey>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.key.algorithm())
            .finish()
    }
}

/// A certificate chain and its private key: what a server presents (or a client, when
/// the server asks).
///
/// Go: `tls.Certificate{Certificate, PrivateKey, Leaf}`. Load one with
/// [`load_x509_key_pair`](super::load_x509_key_pair) or
/// [`x509_key_pair`](super::x509_key_pair).
///
/// ```no_run
/// use gonet::crypto::tls;
/// let cert = tls::load_x509_key_pair("cert.pem", "key.pem")?;
/// let config = tls::Config { certificates: vec![cert], ..Default::default() };
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The chain, leaf first, DER-encoded. Go: `Certificate` (`[][]byte`).
    pub certificate: Vec<Vec<u8>>,
    /// The leaf's private key. Go: `PrivateKey`.
    pub private_key: PrivateKey,
    /// The parsed leaf. Go: `Leaf` (filled in by the loaders here, as Go 1.23 does).
    pub leaf: Option<x509::Certificate>,
}

impl Certificate {
    /// The chain and key as rustls's certified key.
    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        let chain = self
            .certificate
            .iter()
            .map(|d| CertificateDer::from(d.clone()))
            .collect();
        Arc::new(CertifiedKey::new(chain, self.private_key.key.clone()))
    }

    /// The parsed leaf: `leaf`, or parsed now.
    pub(crate) fn leaf(&self) -> Option<x509::Certificate> {
        match &self.leaf {
            Some(l) => Some(l.clone()),
            None => x509::parse_certificate(self.certificate.first()?).ok(),
        }
    }
}

/// What a client said in its ClientHello: the argument of [`Config::get_certificate`].
///
/// Go: `tls.ClientHelloInfo` (without `SupportedVersions` and `SupportedPoints`, which
/// rustls does not show).
///
/// ```
/// let hello = gonet::crypto::tls::ClientHelloInfo::default();
/// assert!(hello.server_name.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientHelloInfo {
    /// The cipher suites the client offered. Go: `CipherSuites`.
    pub cipher_suites: Vec<u16>,
    /// The SNI name, empty if none was sent. Go: `ServerName`.
    pub server_name: String,
    /// The key exchange groups offered. Go: `SupportedCurves`.
    pub supported_curves: Vec<CurveId>,
    /// The signature schemes offered. Go: `SignatureSchemes`.
    pub signature_schemes: Vec<u16>,
    /// The ALPN protocols offered. Go: `SupportedProtos`.
    pub supported_protos: Vec<String>,
    /// The connection underneath. Go: `Conn`.
    pub conn: Option<NetConn>,
}

/// Chooses the certificate for a ClientHello: `Ok(Some(cert))`, `Ok(None)` to fall back
/// to [`Config::certificates`], or an error that ends the handshake.
pub type GetCertificateFn =
    Arc<dyn Fn(&ClientHelloInfo) -> io::Result<Option<Certificate>> + Send + Sync>;

/// A cache of sessions for clients to resume. Go: `tls.ClientSessionCache`, made by
/// [`new_lru_client_session_cache`].
///
/// ```
/// let cache = gonet::crypto::tls::new_lru_client_session_cache(0);
/// let config = gonet::crypto::tls::Config { client_session_cache: Some(cache), ..Default::default() };
/// assert!(config.client_session_cache.is_some());
/// ```
#[derive(Clone)]
pub struct ClientSessionCache {
    pub(crate) store: Arc<dyn rustls::client::ClientSessionStore>,
}

impl fmt::Debug for ClientSessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSessionCache")
    }
}

/// An in-memory cache of `capacity` sessions (Go's default of 64 when `capacity` is 0
/// or less) for [`Config::client_session_cache`].
///
/// Go: `tls.NewLRUClientSessionCache(capacity)`. Keyed by server name, as Go's is.
///
/// ```
/// let cache = gonet::crypto::tls::new_lru_client_session_cache(128);
/// # drop(cache);
/// ```
pub fn new_lru_client_session_cache(capacity: i32) -> ClientSessionCache {
    let n = if capacity < 1 { 64 } else { capacity as usize };
    ClientSessionCache {
        store: Arc::new(rustls::client::ClientSessionMemoryCache::new(n)),
    }
}

/// Where [`Config::key_log_writer`] writes: any writer, shared.
pub type KeyLogWriter = Arc<Mutex<dyn io::Write + Send>>;

/// A TLS configuration for clients and servers.
///
/// Go: `tls.Config`, with the fields rustls can honour, under Go's names. Build it as a
/// struct literal, as in Go: `tls::Config { certificates: vec![cert], ..Default::default() }`.
/// Like Go's, a `Config` must not change once it was handed to a listener or conn (it is
/// copied then); gonet caches what it builds from it, so reuse one `Config` (or clones
/// of it) rather than rebuilding it per connection.
///
/// **Go fields with no rustls counterpart**, and what happens instead:
/// - `Rand`, `Time`: rustls takes randomness from the provider and the system clock.
/// - `GetConfigForClient`, `GetClientCertificate`, `VerifyPeerCertificate`,
///   `VerifyConnection`: not offered; [`get_certificate`](Config::get_certificate)
///   covers per-name certificates; a client presents the first of
///   [`certificates`](Config::certificates) that fits the server's request, as Go does.
/// - `NameToCertificate` / `BuildNameToCertificate`: deprecated in Go; the name
///   matching of Go's `getCertificate` is done on the leaves instead.
/// - `PreferServerCipherSuites`: ignored by Go since 1.17; rustls also prefers the
///   server's order.
/// - `SessionTicketKey`, `SetSessionTicketKeys`: ticket keys are random per `Config`
///   and rotated by rustls's ticketer (every 6 hours), so tickets do not survive a restart.
/// - `Renegotiation`: rustls never renegotiates (Go's default, `RenegotiateNever`).
/// - `DynamicRecordSizingDisabled`: rustls sends full records.
/// - TLS 1.0 and 1.1 ([`VERSION_TLS10`], [`VERSION_TLS11`]): not spoken; a lower
///   `min_version` means TLS 1.2.
/// - `CipherSuites` with suites rustls does not implement (CBC, RSA key exchange,
///   3DES): those entries are ignored.
///
/// ```
/// use gonet::crypto::tls;
/// let config = tls::Config {
///     min_version: tls::VERSION_TLS13,
///     next_protos: vec!["h2".into(), "http/1.1".into()],
///     ..Default::default()
/// };
/// assert_eq!(config.max_version, 0); // 0: the highest gonet speaks, TLS 1.3
/// ```
#[derive(Clone, Default)]
pub struct Config {
    /// Certificates to present: a server's (Go picks by SNI among several) or a
    /// client's, for servers that ask. Go: `Certificates`.
    pub certificates: Vec<Certificate>,
    /// Picks the certificate from the ClientHello (SNI); consulted first when set,
    /// unless there are `certificates` and the client sent no name. Runs in the
    /// connection's coroutine, so it may block on gonet I/O. Go: `GetCertificate`.
    pub get_certificate: Option<GetCertificateFn>,
    /// The roots a client trusts; `None`: the system's ([`x509::system_cert_pool`]).
    /// Go: `RootCAs`.
    pub root_cas: Option<CertPool>,
    /// ALPN protocols, most preferred first. Go: `NextProtos`.
    pub next_protos: Vec<String>,
    /// The name a client verifies (and sends as SNI); `dial` fills it from the address
    /// when empty. Go: `ServerName`.
    pub server_name: String,
    /// The server's policy for client certificates. Go: `ClientAuth`.
    pub client_auth: ClientAuthType,
    /// The roots client certificates are verified against; `None`: the system's.
    /// Go: `ClientCAs`.
    pub client_cas: Option<CertPool>,
    /// A client accepts any server certificate and name (tests only!).
    /// Go: `InsecureSkipVerify`.
    pub insecure_skip_verify: bool,
    /// TLS 1.2 cipher suites allowed, by Go's IDs (`TLS_ECDHE_...`); empty: the
    /// provider's defaults. TLS 1.3 suites are not configurable, as in Go.
    /// Go: `CipherSuites`.
    pub cipher_suites: Vec<u16>,
    /// Turns off session tickets on a server (TLS 1.2 tickets and TLS 1.3 resumption).
    /// Go: `SessionTicketsDisabled`.
    pub session_tickets_disabled: bool,
    /// A client resumes sessions kept here; `None`: no resumption (Go's default).
    /// Go: `ClientSessionCache`.
    pub client_session_cache: Option<ClientSessionCache>,
    /// The lowest version; 0: TLS 1.2. Go: `MinVersion`.
    pub min_version: u16,
    /// The highest version; 0: TLS 1.3. Go: `MaxVersion`.
    pub max_version: u16,
    /// Key exchange groups in order of preference; empty: the provider's defaults
    /// (X25519, P-256, P-384, then X25519MLKEM768). Go: `CurvePreferences`.
    pub curve_preferences: Vec<CurveId>,
    /// Writes secrets in NSS key log format (for Wireshark). Go: `KeyLogWriter`.
    pub key_log_writer: Option<KeyLogWriter>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("certificates", &self.certificates.len())
            .field("get_certificate", &self.get_certificate.is_some())
            .field("root_cas", &self.root_cas)
            .field("next_protos", &self.next_protos)
            .field("server_name", &self.server_name)
            .field("client_auth", &self.client_auth)
            .field("client_cas", &self.client_cas)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("cipher_suites", &self.cipher_suites)
            .field("session_tickets_disabled", &self.session_tickets_disabled)
            .field("client_session_cache", &self.client_session_cache.is_some())
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("curve_preferences", &self.curve_preferences)
            .field("key_log_writer", &self.key_log_writer.is_some())
            .finish()
    }
}

impl Config {
    /// A copy. Go: `config.Clone()`. (`Config` is also `Clone`.)
    ///
    /// ```
    /// let c = gonet::crypto::tls::Config { server_name: "a".into(), ..Default::default() };
    /// assert_eq!(c.clone_config().server_name, "a");
    /// ```
    pub fn clone_config(&self) -> Config {
        self.clone()
    }

    /// The versions to enable, lowest and highest, or Go's error when none is left.
    pub(crate) fn versions(
        &self,
    ) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
        let min = if self.min_version == 0 {
            VERSION_TLS12
        } else {
            self.min_version.max(VERSION_TLS12)
        };
        let max = if self.max_version == 0 {
            VERSION_TLS13
        } else {
            self.max_version
        };
        let mut out = Vec::new();
        if min <= VERSION_TLS13 && max >= VERSION_TLS13 {
            out.push(&rustls::version::TLS13);
        }
        if min <= VERSION_TLS12 && max >= VERSION_TLS12 {
            out.push(&rustls::version::TLS12);
        }
        if out.is_empty() {
            return Err("tls: no supported versions satisfy MinVersion and MaxVersion".into());
        }
        Ok(out)
    }
}

/// What a connection negotiated. Go: `tls.ConnectionState` (without `VerifiedChains`,
/// `SignedCertificateTimestamps`, `OCSPResponse` and `TLSUnique`, which rustls does not
/// expose).
///
/// ```
/// let st = gonet::crypto::tls::ConnectionState::default();
/// assert!(!st.handshake_complete);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectionState {
    /// The version, [`VERSION_TLS12`] or [`VERSION_TLS13`]. Go: `Version`.
    pub version: u16,
    /// Go: `HandshakeComplete`.
    pub handshake_complete: bool,
    /// The session was resumed. Go: `DidResume`.
    pub did_resume: bool,
    /// The cipher suite's ID (see [`cipher_suite_name`](super::cipher_suite_name)).
    /// Go: `CipherSuite`.
    pub cipher_suite: u16,
    /// The ALPN protocol agreed, or empty. Go: `NegotiatedProtocol`.
    pub negotiated_protocol: String,
    /// Always true (deprecated in Go). Go: `NegotiatedProtocolIsMutual`.
    pub negotiated_protocol_is_mutual: bool,
    /// The SNI name: what a server received, or what a client sent. Go: `ServerName`.
    pub server_name: String,
    /// The peer's certificates, leaf first. Go: `PeerCertificates`.
    pub peer_certificates: Vec<x509::Certificate>,
}
