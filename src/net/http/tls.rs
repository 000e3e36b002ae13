//! HTTPS: Go's `Server.ServeTLS` and `Server.ListenAndServeTLS`, the package-level
//! `http.ServeTLS` / `http.ListenAndServeTLS`, and the connection type the server
//! speaks on (plain, or gonet::crypto::tls over it).
//!
//! As in Go's `conn.serve`: the TLS handshake runs first in the connection's coroutine,
//! bounded by the shortest of the read-header, read and write timeouts
//! (`tlsHandshakeTimeout`); a plaintext HTTP request to the TLS port is answered
//! `400 Bad Request` with "Client sent an HTTP request to an HTTPS server."; any other
//! handshake failure is logged (`http: TLS handshake error from ADDR: ERR`) and the
//! connection closed. Requests carry what the handshake negotiated in
//! [`Request::tls`](super::Request::tls) (Go's `r.TLS`).

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::errors::Error;
use super::server::{IntoHandler, Server};
use crate::crypto::tls;
use crate::net::{self, Addr, Listener};

/// The connection an HTTP server reads requests from and writes answers to.
#[derive(Clone)]
pub(crate) enum Conn {
    Plain(net::Conn),
    Tls(tls::Conn),
}

impl From<net::Conn> for Conn {
    fn from(c: net::Conn) -> Conn {
        Conn::Plain(c)
    }
}

impl Conn {
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(c) => c.read(buf),
            Conn::Tls(c) => c.read(buf),
        }
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(c) => c.write(buf),
            Conn::Tls(c) => c.write(buf),
        }
    }

    /// Go's `closeWriteAndWait` half-close: TCP's FIN, or TLS's close_notify.
    pub(crate) fn close_write(&self) -> io::Result<()> {
        match self {
            Conn::Plain(c) => c.close_write(),
            Conn::Tls(c) => c.close_write(),
        }
    }

    pub(crate) fn set_read_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.net().set_read_deadline(t)
    }

    pub(crate) fn set_write_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.net().set_write_deadline(t)
    }

    pub(crate) fn remote_addr(&self) -> Addr {
        self.net().remote_addr()
    }

    /// The plain connection (under TLS, the one below it).
    pub(crate) fn net(&self) -> &net::Conn {
        match self {
            Conn::Plain(c) => c,
            Conn::Tls(c) => c.net_conn(),
        }
    }

    /// The connection for `Hijack`: only a plain one can be handed over as a
    /// `net::Conn` (Go hands over the `*tls.Conn`; here that fails with
    /// `ErrNotSupported`).
    pub(crate) fn hijackable(&self) -> io::Result<net::Conn> {
        match self {
            Conn::Plain(c) => Ok(c.clone()),
            Conn::Tls(_) => Err(Error::NotSupported.into()),
        }
    }

    /// What the handshake negotiated, for `Request::tls`.
    pub(crate) fn tls_state(&self) -> Option<Arc<tls::ConnectionState>> {
        match self {
            Conn::Plain(_) => None,
            Conn::Tls(c) => Some(Arc::new(c.connection_state())),
        }
    }
}

/// Go's `tlsRecordHeaderLooksLikeHTTP`.
fn looks_like_http(hdr: &[u8; 5]) -> bool {
    matches!(hdr, b"GET /" | b"HEAD " | b"POST " | b"PUT /" | b"OPTIO")
}

impl Server {
    /// The TLS configuration for [`serve_tls`](Server::serve_tls) and
    /// [`listen_and_serve_tls`](Server::listen_and_serve_tls). Go: `Server.TLSConfig`.
    ///
    /// ```
    /// use gonet::crypto::tls;
    /// let srv = gonet::net::http::Server::new().tls_config(tls::Config {
    ///     min_version: tls::VERSION_TLS13,
    ///     ..Default::default()
    /// });
    /// # let _ = srv;
    /// ```
    pub fn tls_config(mut self, cfg: tls::Config) -> Server {
        self.cfg.tls_config = Some(Arc::new(cfg));
        self
    }

    /// Serves HTTPS on every connection `ln` accepts: the TLS handshake first (see the
    /// module notes), then HTTP/1.1 as [`serve`](Server::serve) does. The certificate
    /// comes from `cert_file` and `key_file` (PEM) when given, else from
    /// [`tls_config`](Server::tls_config)'s `certificates` / `get_certificate`;
    /// "http/1.1" is added to its ALPN protocols, as Go does. Go: `Server.ServeTLS`;
    /// always returns an error, [`Error::ServerClosed`] after a shutdown.
    ///
    /// ```
    /// use gonet::crypto::{tls, x509};
    /// use gonet::net::http;
    /// use std::io::Read;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// let srv = http::Server::new()
    ///     .handler(|w: &mut dyn http::ResponseWriter, r: &mut http::Request| {
    ///         let st = r.tls.as_ref().unwrap(); // r.TLS
    ///         let _ = w.write(tls::version_name(st.version).as_bytes());
    ///     })
    ///     .tls_config(tls::Config { certificates: vec![cert], ..Default::default() });
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let addr = ln.addr().to_string();
    /// let s = srv.clone();
    /// let serving = gonet::go!(move || s.serve_tls(ln, "", ""));
    ///
    /// let cfg = tls::Config {
    ///     root_cas: Some(pool),
    ///     server_name: "localhost".into(),
    ///     next_protos: vec!["http/1.1".into()], // the server added it to its own
    ///     ..Default::default()
    /// };
    /// let mut c = tls::dial("tcp", &addr, &cfg).unwrap();
    /// c.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    /// let mut resp = String::new();
    /// c.read_to_string(&mut resp).unwrap();
    /// assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    /// assert!(resp.ends_with("TLS 1.3"));
    /// assert_eq!(c.connection_state().negotiated_protocol, "http/1.1");
    ///
    /// srv.shutdown_timeout(std::time::Duration::from_secs(1)).unwrap();
    /// assert_eq!(serving.join().unwrap().unwrap_err().to_string(), "http: Server closed");
    /// ```
    pub fn serve_tls(
        &self,
        ln: impl Into<Arc<Listener>>,
        cert_file: &str,
        key_file: &str,
    ) -> io::Result<()> {
        let ln: Arc<Listener> = ln.into();
        let mut config = self.cfg.tls_config.as_deref().cloned().unwrap_or_default();
        if !config.next_protos.iter().any(|p| p == "http/1.1") {
            config.next_protos.push("http/1.1".into());
        }
        let configured = !config.certificates.is_empty() || config.get_certificate.is_some();
        if !configured || !cert_file.is_empty() || !key_file.is_empty() {
            config.certificates = vec![tls::load_x509_key_pair(cert_file, key_file)?];
        }
        let listener = tls::new_listener(ln.clone(), &config);
        let handshake_timeout = [
            self.cfg.read_header_timeout,
            self.cfg.read_timeout,
            self.cfg.write_timeout,
        ]
        .into_iter()
        .flatten()
        .min();
        let cfg = self.cfg.clone();
        let handler = cfg
            .handler
            .clone()
            .unwrap_or_else(super::server::default_handler);
        let side = Arc::new(listener);
        let r = self.core.serve_tracked(
            ln.clone(),
            move |raw, track| {
                let conn = side.wrap(raw.clone());
                if !handshake(&conn, &raw, handshake_timeout) {
                    return;
                }
                super::conn::serve_conn(&cfg, &*handler, Conn::Tls(conn.clone()), track);
                // Go's conn.close: the TLS Close, close_notify first.
                let _ = conn.close();
            },
            false,
        );
        if self.core.is_stopping() {
            return Err(Error::ServerClosed.into());
        }
        r?;
        Err(ln.accept().err().unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "use of closed network connection",
            )
        }))
    }

    /// Listens on TCP [`addr`](Server::addr) (`""`: `":https"`, port 443) and serves
    /// HTTPS with the key pair in `cert_file` and `key_file`. Go:
    /// `Server.ListenAndServeTLS(certFile, keyFile)`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().addr("127.0.0.1:0");
    /// let err = srv.listen_and_serve_tls("/nonexistent.pem", "/nonexistent.key").unwrap_err();
    /// assert_eq!(err.to_string(), "open /nonexistent.pem: no such file or directory");
    /// ```
    pub fn listen_and_serve_tls(&self, cert_file: &str, key_file: &str) -> io::Result<()> {
        if self.core.is_stopping() {
            return Err(Error::ServerClosed.into());
        }
        let addr = if self.cfg.addr.is_empty() {
            ":https"
        } else {
            self.cfg.addr.as_str()
        };
        let ln = net::listen("tcp", addr)?;
        self.serve_tls(ln, cert_file, key_file)
    }
}

/// Go's TLS step of `conn.serve`: the handshake under the handshake timeout, Go's
/// plaintext answer to an HTTP client, the log line for anything else. Whether to go on.
fn handshake(conn: &tls::Conn, raw: &net::Conn, timeout: Option<Duration>) -> bool {
    if let Some(d) = timeout {
        let _ = raw.set_deadline(Some(Instant::now() + d));
    }
    if let Err(e) = conn.handshake() {
        let plain = e
            .get_ref()
            .and_then(|r| r.downcast_ref::<tls::RecordHeaderError>());
        if let Some(re) = plain.filter(|re| looks_like_http(&re.record_header)) {
            if let Some(c) = &re.conn {
                let _ = super::transfer::write_all(
                    &Conn::Plain(c.clone()),
                    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
                );
                let _ = c.close();
                return false;
            }
        }
        log::error!("http: TLS handshake error from {}: {e}", raw.remote_addr());
        return false;
    }
    if timeout.is_some() {
        let _ = raw.set_deadline(None);
    }
    true
}

/// Listens on TCP `addr` and serves HTTPS with `handler` (`None`: the default mux) and
/// the key pair in `cert_file` / `key_file`. Go: `http.ListenAndServeTLS(addr,
/// certFile, keyFile, handler)`.
///
/// ```no_run
/// use gonet::net::http;
/// fn hello(w: &mut dyn http::ResponseWriter, _r: &mut http::Request) {
///     let _ = w.write(b"Hello over TLS");
/// }
/// // log.Fatal(http.ListenAndServeTLS(":8443", "cert.pem", "key.pem", http.HandlerFunc(hello)))
/// let err = http::listen_and_serve_tls(":8443", "cert.pem", "key.pem", http::HandlerFunc(hello)).unwrap_err();
/// eprintln!("{err}");
/// ```
pub fn listen_and_serve_tls(
    addr: &str,
    cert_file: &str,
    key_file: &str,
    handler: impl IntoHandler,
) -> io::Result<()> {
    Server::new()
        .addr(addr)
        .handler(handler)
        .listen_and_serve_tls(cert_file, key_file)
}

/// Serves HTTPS on every connection `ln` accepts with `handler` (`None`: the default
/// mux). Go: `http.ServeTLS(l, handler, certFile, keyFile)`.
///
/// ```no_run
/// use gonet::net::http;
/// let ln = gonet::net::listen("tcp", ":8443").unwrap();
/// let err = http::serve_tls(ln, http::not_found_handler(), "cert.pem", "key.pem").unwrap_err();
/// eprintln!("{err}");
/// ```
pub fn serve_tls(
    ln: impl Into<Arc<Listener>>,
    handler: impl IntoHandler,
    cert_file: &str,
    key_file: &str,
) -> io::Result<()> {
    Server::new()
        .handler(handler)
        .serve_tls(ln, cert_file, key_file)
}
