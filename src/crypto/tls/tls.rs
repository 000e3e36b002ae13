//! Listening, dialing and loading key pairs. Go: `crypto/tls/tls.go` (`Server`,
//! `Client`, `Listen`, `NewListener`, `Dial`, `DialWithDialer`, `LoadX509KeyPair`,
//! `X509KeyPair`).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::sign::CertifiedKey;

use super::common::{Certificate, Config, PrivateKey};
use super::conn::Conn;
use super::error::{Fault, TlsError};
use super::handshake_server::{ServerSide, server_side};
use crate::crypto::x509;
use crate::net::{self, Addr, Dialer};

/// A TLS connection on the server side of `conn`; the handshake runs on first use.
///
/// Go: `tls.Server(conn, config)`. A config that cannot serve (no certificate) makes
/// the handshake fail with Go's error.
///
/// ```
/// use gonet::crypto::tls;
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let _client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let conn = tls::server(ln.accept().unwrap(), &tls::Config::default());
/// let err = conn.handshake().unwrap_err();
/// assert_eq!(err.to_string(), "tls: neither Certificates, GetCertificate, nor GetConfigForClient set in Config");
/// ```
pub fn server(conn: net::Conn, config: &Config) -> Conn {
    Conn::server_with(conn, server_side(config))
}

/// A TLS connection on the client side of `conn`; the handshake runs on first use. The
/// config must name the server (`server_name`) or skip verification.
///
/// Go: `tls.Client(conn, config)`.
///
/// ```
/// use gonet::crypto::tls;
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let conn = tls::client(raw, &tls::Config::default());
/// let err = conn.handshake().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "tls: either ServerName or InsecureSkipVerify must be specified in the tls.Config"
/// );
/// ```
pub fn client(conn: net::Conn, config: &Config) -> Conn {
    Conn::client_with(conn, config)
}

/// A listener whose `accept` gives TLS connections (handshake on first use, as in Go).
///
/// Go: the `net.Listener` that `tls.Listen` and `tls.NewListener` return.
///
/// ```
/// use gonet::crypto::tls;
/// let err = tls::listen("tcp", "127.0.0.1:0", &tls::Config::default()).unwrap_err();
/// assert_eq!(err.to_string(), "tls: neither Certificates, GetCertificate, nor GetConfigForClient set in Config");
/// ```
pub struct Listener {
    inner: Arc<net::Listener>,
    side: Result<Arc<ServerSide>, Fault>,
}

impl Listener {
    /// Waits for a connection and wraps it for TLS (no handshake yet).
    ///
    /// Go: `ln.Accept()`.
    ///
    /// ```no_run
    /// use gonet::crypto::tls;
    /// let cert = tls::load_x509_key_pair("cert.pem", "key.pem")?;
    /// let ln = tls::listen("tcp", ":8443", &tls::Config { certificates: vec![cert], ..Default::default() })?;
    /// loop {
    ///     let conn = ln.accept()?;
    ///     gonet::go!(move || {
    ///         let mut buf = [0u8; 4096];
    ///         while let Ok(n) = conn.read(&mut buf) {
    ///             if n == 0 || conn.write(&buf[..n]).is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     });
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn accept(&self) -> io::Result<Conn> {
        let raw = self.inner.accept()?;
        Ok(Conn::server_with(raw, self.side.clone()))
    }

    /// The address listened on. Go: `ln.Addr()`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = tls::new_listener(gonet::listen("tcp", "127.0.0.1:0").unwrap(), &tls::Config::default());
    /// assert!(ln.addr().to_string().starts_with("127.0.0.1:"));
    /// ```
    pub fn addr(&self) -> Addr {
        self.inner.addr()
    }

    /// Stops listening; a parked `accept` fails with "use of closed network connection".
    /// Go: `ln.Close()`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = tls::new_listener(gonet::listen("tcp", "127.0.0.1:0").unwrap(), &tls::Config::default());
    /// ln.close().unwrap();
    /// assert!(gonet::is_closed(&ln.accept().unwrap_err()));
    /// ```
    pub fn close(&self) -> io::Result<()> {
        self.inner.close()
    }

    /// The plain listener underneath (shared), e.g. to close it from elsewhere or to
    /// hand it to [`Server::serve_tls`](crate::Server::serve_tls).
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = tls::new_listener(gonet::listen("tcp", "127.0.0.1:0").unwrap(), &tls::Config::default());
    /// assert_eq!(ln.net_listener().addr(), ln.addr());
    /// ```
    pub fn net_listener(&self) -> &Arc<net::Listener> {
        &self.inner
    }

    /// A conn accepted from the listener underneath, wrapped as `accept` wraps it.
    pub(crate) fn wrap(&self, raw: net::Conn) -> Conn {
        Conn::server_with(raw, self.side.clone())
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tls::Listener")
            .field("addr", &self.addr().to_string())
            .finish()
    }
}

/// Wraps a listener so that it accepts TLS connections.
///
/// Go: `tls.NewListener(inner, config)`. (Go does not check the config here; neither
/// does this: a config without certificates fails each handshake.)
///
/// ```
/// use gonet::crypto::tls;
/// let inner = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let ln = tls::new_listener(inner, &tls::Config::default());
/// # drop(ln);
/// ```
pub fn new_listener(inner: impl Into<Arc<net::Listener>>, config: &Config) -> Listener {
    Listener {
        inner: inner.into(),
        side: server_side(config),
    }
}

/// Listens on `address` and accepts TLS connections.
///
/// Go: `tls.Listen(network, laddr, config)`; fails with Go's error when the config has
/// no certificate and no `get_certificate`.
///
/// ```
/// use gonet::crypto::tls;
/// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
/// # std::fs::write("/tmp/gonet-doc-listen.pem", ck.cert.pem()).unwrap();
/// # std::fs::write("/tmp/gonet-doc-listen.key", ck.signing_key.serialize_pem()).unwrap();
/// let cert = tls::load_x509_key_pair("/tmp/gonet-doc-listen.pem", "/tmp/gonet-doc-listen.key").unwrap();
/// let config = tls::Config { certificates: vec![cert], ..Default::default() };
/// let ln = tls::listen("tcp", "127.0.0.1:0", &config).unwrap();
/// assert_eq!(ln.addr().network(), "tcp");
/// ```
pub fn listen(network: &str, address: &str, config: &Config) -> io::Result<Listener> {
    if config.certificates.is_empty() && config.get_certificate.is_none() {
        return Err(Fault::msg(
            "tls: neither Certificates, GetCertificate, nor GetConfigForClient set in Config",
        )
        .to_io());
    }
    let side = server_side(config).map_err(|f| f.to_io())?;
    Ok(Listener {
        inner: Arc::new(net::listen(network, address)?),
        side: Ok(side),
    })
}

/// Dials `address` and runs the handshake. An empty `server_name` is taken from the
/// address's host, as Go does.
///
/// Go: `tls.Dial(network, addr, config)`.
///
/// ```
/// use gonet::crypto::tls;
/// let plain = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let addr = plain.addr().to_string();
/// let h = gonet::go!(move || {
///     let c = plain.accept().unwrap();
///     c.write(b"HTTP/1.0 400 Bad Request\r\n\r\n").unwrap();
/// });
/// let err = tls::dial("tcp", &addr, &tls::Config::default()).unwrap_err();
/// assert_eq!(err.to_string(), "tls: first record does not look like a TLS handshake");
/// h.join().unwrap();
/// ```
pub fn dial(network: &str, address: &str, config: &Config) -> io::Result<Conn> {
    dial_with_dialer(&Dialer::default(), network, address, config)
}

/// Dials with `dialer` and runs the handshake; the dialer's timeout and deadline bound
/// the dial and the handshake together.
///
/// Go: `tls.DialWithDialer(dialer, network, addr, config)`. A handshake cut by the
/// dialer's time limit fails with Go's `context deadline exceeded`.
///
/// ```
/// use gonet::crypto::tls;
/// use std::time::Duration;
/// let silent = gonet::listen("tcp", "127.0.0.1:0").unwrap(); // accepts, never answers
/// let dialer = gonet::Dialer { timeout: Some(Duration::from_millis(100)), ..Default::default() };
/// let cfg = tls::Config { insecure_skip_verify: true, ..Default::default() };
/// let err = tls::dial_with_dialer(&dialer, "tcp", &silent.addr().to_string(), &cfg).unwrap_err();
/// assert_eq!(err.to_string(), "context deadline exceeded");
/// assert!(gonet::is_timeout(&err));
/// ```
pub fn dial_with_dialer(
    dialer: &Dialer,
    network: &str,
    address: &str,
    config: &Config,
) -> io::Result<Conn> {
    let start = Instant::now();
    let deadline = match (dialer.timeout.map(|t| start + t), dialer.deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let raw = dialer.dial(network, address)?;
    let named;
    let config = if config.server_name.is_empty() {
        let host = match address.rfind(':') {
            Some(i) => &address[..i],
            None => address,
        };
        named = Config {
            server_name: host.to_string(),
            ..config.clone()
        };
        &named
    } else {
        config
    };
    let conn = client(raw.clone(), config);
    if deadline.is_some() {
        raw.set_deadline(deadline)?;
    }
    match conn.handshake() {
        Ok(()) => {
            if deadline.is_some() {
                raw.set_deadline(None)?;
            }
            Ok(conn)
        }
        Err(e) => {
            let _ = raw.close();
            if deadline.is_some_and(|d| Instant::now() >= d) && crate::net::is_timeout(&e) {
                return Err(Fault::DialTimeout.to_io());
            }
            Err(e)
        }
    }
}

/// Reads a certificate chain and its private key from PEM files.
///
/// Go: `tls.LoadX509KeyPair(certFile, keyFile)`. A missing file fails with Go's
/// `open NAME: no such file or directory`; bad contents as in [`x509_key_pair`].
///
/// ```
/// let err = gonet::crypto::tls::load_x509_key_pair("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
/// assert_eq!(err.to_string(), "open /nonexistent/cert.pem: no such file or directory");
/// ```
pub fn load_x509_key_pair(cert_file: &str, key_file: &str) -> io::Result<Certificate> {
    let read = |path: &str| {
        std::fs::read(path).map_err(|e| {
            let text = match e.raw_os_error() {
                Some(code) => {
                    crate::net::SyscallError::new("open", io::Error::from_raw_os_error(code))
                        .to_string()
                        .trim_start_matches("open: ")
                        .to_string()
                }
                None => e.to_string(),
            };
            io::Error::new(e.kind(), TlsError::new(format!("open {path}: {text}")))
        })
    };
    let cert = read(cert_file)?;
    let key = read(key_file)?;
    x509_key_pair(&cert, &key)
}

/// Parses a certificate chain and its private key from PEM data.
///
/// Go: `tls.X509KeyPair(certPEMBlock, keyPEMBlock)`, with Go's errors: `tls: failed to
/// find any PEM data in certificate input`, `tls: private key does not match public
/// key`, ... RSA, ECDSA and Ed25519 keys in PKCS#8, PKCS#1 or SEC1 form are read.
///
/// ```
/// use gonet::crypto::tls;
/// let ck = rcgen::generate_simple_self_signed(vec!["example.com".to_string()]).unwrap();
/// let cert = tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
/// assert_eq!(cert.leaf.unwrap().dns_names, ["example.com"]);
///
/// let other = rcgen::KeyPair::generate().unwrap();
/// let err = tls::x509_key_pair(ck.cert.pem().as_bytes(), other.serialize_pem().as_bytes()).unwrap_err();
/// assert_eq!(err.to_string(), "tls: private key does not match public key");
/// ```
pub fn x509_key_pair(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Certificate> {
    let fail = |m: String| Fault::Msg(m).to_io();
    let mut chain = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(cert_pem) {
        match section {
            Ok((SectionKind::Certificate, der)) => chain.push(der),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    if chain.is_empty() {
        let skipped = pem_labels(cert_pem);
        return Err(fail(if skipped.is_empty() {
            "tls: failed to find any PEM data in certificate input".into()
        } else if skipped.iter().any(|l| l.ends_with("PRIVATE KEY")) {
            "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched".into()
        } else {
            format!(
                "tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping PEM blocks of the following types: [{}]",
                skipped.join(" ")
            )
        }));
    }
    let private_key = PrivateKey::from_pem(key_pem)?;
    let leaf = x509::parse_certificate(&chain[0]).map_err(|e| fail(e.to_string()))?;
    let cert = Certificate {
        certificate: chain,
        private_key,
        leaf: Some(leaf),
    };
    let ck: Arc<CertifiedKey> = cert.certified_key();
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        ck.keys_match()
    {
        return Err(fail("tls: private key does not match public key".into()));
    }
    Ok(cert)
}

impl PrivateKey {
    /// Reads the first `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block of
    /// `pem`, with Go's errors for what else it may find.
    ///
    /// Go: the key half of `tls.X509KeyPair`.
    ///
    /// ```
    /// let k = rcgen::KeyPair::generate().unwrap();
    /// assert!(gonet::crypto::tls::PrivateKey::from_pem(k.serialize_pem().as_bytes()).is_ok());
    /// ```
    pub fn from_pem(pem: &[u8]) -> io::Result<PrivateKey> {
        let fail = |m: String| Fault::Msg(m).to_io();
        let der = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(d) => d,
            Err(_) => {
                let skipped: Vec<String> = pem_labels(pem)
                    .into_iter()
                    .filter(|l| !l.ends_with("PRIVATE KEY"))
                    .collect();
                let any_key = pem_labels(pem).iter().any(|l| l.ends_with("PRIVATE KEY"));
                return Err(fail(if any_key {
                    "tls: failed to parse private key".into()
                } else if skipped.is_empty() {
                    "tls: failed to find any PEM data in key input".into()
                } else if skipped == ["CERTIFICATE"] {
                    "tls: found a certificate rather than a key in the PEM for the private key"
                        .into()
                } else {
                    format!(
                        "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after skipping PEM blocks of the following types: [{}]",
                        skipped.join(" ")
                    )
                }));
            }
        };
        let provider = super::cipher_suites::default_provider();
        let key = provider
            .key_provider
            .load_private_key(der)
            .map_err(|_| fail("tls: failed to parse private key".into()))?;
        Ok(PrivateKey { key })
    }
}

/// The labels of the PEM blocks in `pem` (`-----BEGIN LABEL-----`), for Go's messages
/// about what was skipped.
fn pem_labels(pem: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pem);
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
                .map(str::to_string)
        })
        .collect()
}
