//! The TLS connection. Go: `crypto/tls/conn.go` (`Conn`: `Read`, `Write`, `Handshake`,
//! `Close`, `CloseWrite`, `ConnectionState`).
//!
//! rustls is a state machine without I/O; this file moves its bytes over a gonet
//! [`net::Conn`](crate::net::Conn), so every wait parks the coroutine in the netpoller
//! and the conn's deadlines apply to the handshake, reads and writes alike.
//!
//! Like Go's, a `Conn` takes a reader and a writer at once (Go's `in` and `out` half
//! connections): one coroutine at a time reads (the read turn, conn/read.rs) and one
//! writes (the write turn, conn/write.rs, whose buffer of ciphertext serves only pipes).
//! rustls's state sits behind a short lock that is never held across a wait: each turn
//! takes it only to hand bytes in or take bytes out (the reader's non-blocking socket
//! read goes straight into rustls under it; a wait for the socket is made without it).
//! Bytes that the reading side makes rustls want to send (a key update, an alert) are
//! sent by the reader if the write turn is free, and otherwise by the writer holding it,
//! which looks again after it lets go.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use rustls::pki_types::ServerName;
use rustls::server::Acceptor;

use super::common::{Config, ConnectionState};
use super::error::{self, Context, Fault};
use super::handshake_server::{self, ServerSide};
use super::record::{RecordTracker, client_hello_versions};
use crate::crypto::x509;
use crate::net::{Addr, Conn as NetConn};

mod read;
mod write;

use self::read::{Failed, Got, ReadTurn};

/// A TLS connection over a gonet connection.
///
/// Go: `*tls.Conn`. Made by [`server`](super::server), [`client`](super::client),
/// [`dial`](super::dial) or a TLS [`Listener`](super::Listener)'s `accept`. Methods take
/// `&self` and the handle is cheap to clone: one coroutine may read while another
/// writes, as with a plain [`net::Conn`](crate::net::Conn). The handshake runs on the
/// first read or write, or on [`handshake`](Conn::handshake); the deadlines of the conn
/// below bound it (a peer that never completes the handshake hits the read deadline).
///
/// ```
/// use gonet::crypto::tls;
/// use std::io::{Read, Write};
/// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
/// # let cert = gonet::crypto::tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
/// # let mut pool = gonet::crypto::x509::CertPool::new();
/// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
/// let server_cfg = tls::Config { certificates: vec![cert], ..Default::default() };
/// let ln = tls::listen("tcp", "127.0.0.1:0", &server_cfg).unwrap();
/// let addr = ln.addr().to_string();
/// let h = gonet::go!(move || {
///     let mut conn = ln.accept().unwrap();
///     let mut buf = [0u8; 5];
///     conn.read_exact(&mut buf).unwrap();
///     conn.write_all(&buf).unwrap();
/// });
/// let client_cfg = tls::Config {
///     root_cas: Some(pool),
///     server_name: "localhost".into(),
///     ..Default::default()
/// };
/// let mut conn = tls::dial("tcp", &addr, &client_cfg).unwrap();
/// conn.write_all(b"hello").unwrap();
/// let mut buf = [0u8; 5];
/// conn.read_exact(&mut buf).unwrap();
/// assert_eq!(&buf, b"hello");
/// assert_eq!(conn.connection_state().version, tls::VERSION_TLS13);
/// h.join().unwrap();
/// ```
#[derive(Clone)]
pub struct Conn {
    inner: Arc<Inner>,
}

struct Inner {
    raw: NetConn,
    server: bool,
    /// Why the connection cannot start (a config rustls refused); the handshake says so.
    setup: Option<Fault>,
    side: Option<Arc<ServerSide>>,
    state: Mutex<State>,
    hs_lock: may::sync::Mutex<()>,
    hs_done: AtomicBool,
    hs_err: Mutex<Option<Fault>>,
    rturn: may::sync::Mutex<ReadTurn>,
    wturn: may::sync::Mutex<Vec<u8>>,
    close_notify_sent: AtomicBool,
    closed: AtomicBool,
}

enum Tls {
    Accepting(Box<Acceptor>),
    Conn(Box<rustls::Connection>),
    /// Only when the config could not be used (see `Inner::setup`).
    None,
}

struct State {
    tls: Tls,
    records: RecordTracker,
    /// Go's `c.in.err`: what every later read returns.
    rerr: Option<Fault>,
    /// Go's `c.out.err`.
    werr: Option<Fault>,
    client_protos: Vec<String>,
    client_versions: Vec<u16>,
    sni: String,
}

impl State {
    fn conn(&mut self) -> Option<&mut rustls::Connection> {
        match &mut self.tls {
            Tls::Conn(c) => Some(c),
            _ => None,
        }
    }

    fn wants_write(&self) -> bool {
        matches!(&self.tls, Tls::Conn(c) if c.wants_write())
    }

    fn context(&self) -> Context<'_> {
        let tls13 = match &self.tls {
            Tls::Conn(c) => c.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3),
            _ => false,
        };
        Context {
            server: matches!(&self.tls, Tls::Accepting(_))
                || matches!(&self.tls, Tls::Conn(c) if matches!(**c, rustls::Connection::Server(_))),
            last_record_len: self.records.last_len,
            client_protos: &self.client_protos,
            client_versions: &self.client_versions,
            tls13,
        }
    }
}

impl Conn {
    fn new(
        raw: NetConn,
        server: bool,
        tls: Result<Tls, Fault>,
        side: Option<Arc<ServerSide>>,
    ) -> Conn {
        let (tls, setup) = match tls {
            Ok(t) => (t, None),
            Err(f) => (Tls::None, Some(f)),
        };
        Conn {
            inner: Arc::new(Inner {
                raw,
                server,
                setup,
                side,
                state: Mutex::new(State {
                    tls,
                    records: if server {
                        RecordTracker::capturing()
                    } else {
                        RecordTracker::default()
                    },
                    rerr: None,
                    werr: None,
                    client_protos: Vec::new(),
                    client_versions: Vec::new(),
                    sni: String::new(),
                }),
                hs_lock: may::sync::Mutex::new(()),
                hs_done: AtomicBool::new(false),
                hs_err: Mutex::new(None),
                rturn: may::sync::Mutex::new(ReadTurn::default()),
                wturn: may::sync::Mutex::new(Vec::new()),
                close_notify_sent: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// The server side of a connection, with the server setup of a listener.
    pub(crate) fn server_with(raw: NetConn, side: Result<Arc<ServerSide>, Fault>) -> Conn {
        match side {
            Ok(side) => Conn::new(raw, true, Ok(Tls::Accepting(Box::default())), Some(side)),
            Err(f) => Conn::new(raw, true, Err(f), None),
        }
    }

    /// The client side of a connection, verifying (and sending SNI for)
    /// `config.server_name`.
    pub(crate) fn client_with(raw: NetConn, config: &Config) -> Conn {
        let tls = (|| {
            let cc = super::handshake_client::client_config(config)?;
            let name = server_name(config, &raw)?;
            let c = rustls::ClientConnection::new(cc, name)
                .map_err(|e| error::from_rustls(&e, &no_context()))?;
            Ok(Tls::Conn(Box::new(rustls::Connection::Client(c))))
        })();
        let conn = Conn::new(raw, false, tls, None);
        conn.state().sni = config.server_name.clone();
        conn
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the handshake now, if it has not run: parks until it is done, fails, or a
    /// deadline of the conn below passes. A failed handshake's error is returned by
    /// every later call, as in Go.
    ///
    /// Go: `conn.Handshake()`. Reads and writes call it first, so calling it is only
    /// needed to see the handshake's outcome (or the connection state) before any I/O.
    ///
    /// ```
    /// use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let _peer = ln.accept().unwrap(); // accepts, but never speaks TLS
    /// raw.set_read_deadline(Some(std::time::Instant::now() + std::time::Duration::from_millis(50))).unwrap();
    /// let conn = tls::client(raw, &tls::Config { insecure_skip_verify: true, ..Default::default() });
    /// let err = conn.handshake().unwrap_err();
    /// assert!(gonet::is_timeout(&err), "{err}");
    /// ```
    pub fn handshake(&self) -> io::Result<()> {
        if self.inner.hs_done.load(Ordering::Acquire) {
            return Ok(());
        }
        let _one = self
            .inner
            .hs_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.inner.hs_done.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(f) = &*self.hs_err() {
            return Err(f.to_io());
        }
        match self.run_handshake() {
            Ok(()) => {
                self.inner.hs_done.store(true, Ordering::Release);
                Ok(())
            }
            Err(f) => {
                let e = f.to_io();
                *self.hs_err() = Some(f);
                Err(e)
            }
        }
    }

    fn hs_err(&self) -> MutexGuard<'_, Option<Fault>> {
        self.inner
            .hs_err
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn run_handshake(&self) -> Result<(), Fault> {
        if let Some(f) = &self.inner.setup {
            return Err(f.clone());
        }
        if self.inner.server {
            self.accept_client_hello()?;
        }
        loop {
            let (handshaking, wants_write) = {
                let mut st = self.state();
                let Some(c) = st.conn() else {
                    return Err(Fault::msg("tls: internal error: no connection"));
                };
                (c.is_handshaking(), c.wants_write())
            };
            if wants_write {
                let mut out = self.wturn();
                self.flush(&mut out)?;
                continue;
            }
            if !handshaking {
                return Ok(());
            }
            let r = self.pull(&mut self.rturn());
            match r {
                Ok(Got::Bytes) => {}
                Ok(Got::Eof) => return Err(self.eof_fault()),
                Err(Failed::Net(f)) => return Err(f),
                Err(Failed::Tls(f)) => {
                    self.send_alert_best_effort();
                    return Err(f);
                }
            }
        }
    }

    /// The server's first step: read the ClientHello, pick the certificate (Go's
    /// `getCertificate`, outside any lock: the callback may park), and make the
    /// rustls connection.
    fn accept_client_hello(&self) -> Result<(), Fault> {
        let mut turn = self.rturn();
        let accepted = loop {
            {
                let mut st = self.state();
                let Tls::Accepting(acceptor) = &mut st.tls else {
                    return Ok(());
                };
                match acceptor.accept() {
                    Ok(Some(a)) => break a,
                    Ok(None) => {}
                    Err((e, mut alert)) => {
                        let f = self.map_with_hello(&mut st, &e);
                        drop(st);
                        let _ = alert.write_all(&mut &self.inner.raw);
                        return Err(f);
                    }
                }
            }
            if let Got::Eof = self.pull(&mut turn).map_err(Failed::into_fault)? {
                return Err(self.eof_fault());
            }
        };
        drop(turn);
        let Some(side) = &self.inner.side else {
            return Err(Fault::msg("tls: internal error: no server configuration"));
        };
        let hello = handshake_server::hello_info(&accepted.client_hello(), &self.inner.raw);
        let mut config = if side.chooses() {
            let schemes = accepted.client_hello().signature_schemes().to_vec();
            side.with_key(side.choose(&hello, &schemes)?)
        } else {
            side.base.clone()
        };
        let fallback =
            handshake_server::http11_fallback(&config.alpn_protocols, &hello.supported_protos);
        let chacha = super::cipher_suites::client_prefers_chacha(&hello.cipher_suites);
        if fallback || chacha {
            let mut c = (*config).clone();
            if fallback {
                // Go's negotiateALPN: an "http/1.1" client reaches an "h2"-only server
                // as if neither spoke ALPN (Go issue 46310).
                c.alpn_protocols.clear();
            }
            if chacha {
                c.ignore_client_order = false;
            }
            config = Arc::new(c);
        }
        let mut st = self.state();
        st.sni = hello.server_name;
        st.client_protos = hello.supported_protos;
        match accepted.into_connection(config) {
            Ok(sc) => {
                st.tls = Tls::Conn(Box::new(rustls::Connection::Server(sc)));
                st.records.stop_capture();
                Ok(())
            }
            Err((e, mut alert)) => {
                let f = self.map_with_hello(&mut st, &e);
                drop(st);
                let _ = alert.write_all(&mut &self.inner.raw);
                Err(f)
            }
        }
    }

    /// The end of the stream during the handshake: Go's `io.EOF` at a record boundary,
    /// `io.ErrUnexpectedEOF` inside a record.
    fn eof_fault(&self) -> Fault {
        if self.state().records.at_boundary() {
            Fault::Eof
        } else {
            Fault::UnexpectedEof
        }
    }

    /// Maps a server-side error, with the client's versions read from its hello.
    fn map_with_hello(&self, st: &mut State, e: &rustls::Error) -> Fault {
        if let Some(v) = client_hello_versions(st.records.first_record()) {
            st.client_versions = v;
        }
        error::from_rustls(e, &st.context())
    }

    fn rturn(&self) -> may::sync::MutexGuard<'_, ReadTurn> {
        self.inner
            .rturn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn wturn(&self) -> may::sync::MutexGuard<'_, Vec<u8>> {
        self.inner
            .wturn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends close_notify (if the handshake is done and no write is in flight, within
    /// 5 seconds) and closes the connection below.
    ///
    /// Go: `conn.Close()`. A parked read or write on the conn fails with "use of closed
    /// network connection".
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let conn = tls::client(raw, &tls::Config::default());
    /// conn.close().unwrap();
    /// assert!(gonet::is_closed(&conn.close().unwrap_err()));
    /// ```
    pub fn close(&self) -> io::Result<()> {
        if !self.inner.closed.swap(true, Ordering::AcqRel)
            && self.inner.hs_done.load(Ordering::Acquire)
        {
            // Go: a Close during a Write only breaks the Write (no alert).
            if let Ok(mut out) = self.inner.wturn.try_lock() {
                let _ = self.close_notify(&mut out);
            }
        }
        self.inner.raw.close()
    }

    /// What the handshake negotiated (defaults before it completes).
    ///
    /// Go: `conn.ConnectionState()`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = gonet::crypto::tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = gonet::crypto::x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// # let cfg = tls::Config { certificates: vec![cert], next_protos: vec!["h2".into()], ..Default::default() };
    /// # let ln = tls::listen("tcp", "127.0.0.1:0", &cfg).unwrap();
    /// # let addr = ln.addr().to_string();
    /// # let h = gonet::go!(move || { let c = ln.accept().unwrap(); c.handshake().unwrap(); c.connection_state() });
    /// let cfg = tls::Config {
    ///     root_cas: Some(pool),
    ///     server_name: "localhost".into(),
    ///     next_protos: vec!["h2".into(), "http/1.1".into()],
    ///     ..Default::default()
    /// };
    /// let conn = tls::dial("tcp", &addr, &cfg).unwrap();
    /// let st = conn.connection_state();
    /// assert!(st.handshake_complete);
    /// assert_eq!(st.negotiated_protocol, "h2");
    /// assert_eq!(st.peer_certificates[0].dns_names, ["localhost"]);
    /// assert_eq!(h.join().unwrap().server_name, "localhost"); // the SNI the server saw
    /// ```
    pub fn connection_state(&self) -> ConnectionState {
        let done = self.inner.hs_done.load(Ordering::Acquire);
        let mut st = self.state();
        let sni = st.sni.clone();
        let Some(c) = st.conn() else {
            return ConnectionState {
                server_name: sni,
                ..ConnectionState::default()
            };
        };
        ConnectionState {
            version: c.protocol_version().map_or(0, u16::from),
            handshake_complete: done && !c.is_handshaking(),
            did_resume: c.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            cipher_suite: c
                .negotiated_cipher_suite()
                .map_or(0, |s| u16::from(s.suite())),
            negotiated_protocol: c
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default(),
            negotiated_protocol_is_mutual: true,
            server_name: sni,
            peer_certificates: c
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .filter_map(|d| x509::parse_certificate(d).ok())
                .collect(),
        }
    }

    /// The connection below. Go: `conn.NetConn()`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let conn = tls::client(raw.clone(), &tls::Config::default());
    /// assert_eq!(conn.net_conn().local_addr(), raw.local_addr());
    /// ```
    pub fn net_conn(&self) -> &NetConn {
        &self.inner.raw
    }

    /// The local address. Go: `conn.LocalAddr()`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = tls::client(gonet::dial("tcp", &ln.addr().to_string()).unwrap(), &tls::Config::default());
    /// assert_eq!(conn.remote_addr(), ln.addr());
    /// assert_ne!(conn.local_addr(), ln.addr());
    /// ```
    pub fn local_addr(&self) -> Addr {
        self.inner.raw.local_addr()
    }

    /// The remote address. Go: `conn.RemoteAddr()`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = tls::client(gonet::dial("tcp", &ln.addr().to_string()).unwrap(), &tls::Config::default());
    /// assert_eq!(conn.remote_addr(), ln.addr());
    /// ```
    pub fn remote_addr(&self) -> Addr {
        self.inner.raw.remote_addr()
    }

    /// Sets the read and write deadlines of the conn below (the handshake is bound by
    /// them too). Go: `conn.SetDeadline(t)`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = tls::client(gonet::dial("tcp", &ln.addr().to_string()).unwrap(), &tls::Config::default());
    /// conn.set_deadline(Some(std::time::Instant::now())).unwrap();
    /// ```
    pub fn set_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.inner.raw.set_deadline(t)
    }

    /// Sets the read deadline. Go: `conn.SetReadDeadline(t)`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = tls::client(gonet::dial("tcp", &ln.addr().to_string()).unwrap(), &tls::Config::default());
    /// conn.set_read_deadline(None).unwrap();
    /// ```
    pub fn set_read_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.inner.raw.set_read_deadline(t)
    }

    /// Sets the write deadline. Go: `conn.SetWriteDeadline(t)`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = tls::client(gonet::dial("tcp", &ln.addr().to_string()).unwrap(), &tls::Config::default());
    /// conn.set_write_deadline(None).unwrap();
    /// ```
    pub fn set_write_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.inner.raw.set_write_deadline(t)
    }

    /// Checks the peer's certificate against `host`, as the handshake checked
    /// `server_name`. Go: `conn.VerifyHostname(host)` (on a client, after the handshake;
    /// the chain itself was verified by the handshake).
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = tls::client(gonet::dial("tcp", &ln.addr().to_string()).unwrap(), &tls::Config::default());
    /// let err = conn.verify_hostname("example.com").unwrap_err();
    /// assert_eq!(err.to_string(), "tls: handshake has not yet been performed");
    /// ```
    pub fn verify_hostname(&self, host: &str) -> io::Result<()> {
        if self.inner.server {
            return Err(Fault::msg("tls: VerifyHostname called on TLS server connection").to_io());
        }
        if !self.inner.hs_done.load(Ordering::Acquire) {
            return Err(Fault::msg("tls: handshake has not yet been performed").to_io());
        }
        let st = self.connection_state();
        let Some(leaf) = st.peer_certificates.into_iter().next() else {
            return Err(Fault::msg("tls: handshake did not verify certificate chain").to_io());
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ok = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => leaf.ip_addresses.contains(&ip),
            Err(_) => leaf
                .dns_names
                .iter()
                .any(|d| x509::match_hostnames(d, host)),
        };
        if ok {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                x509::HostnameError {
                    certificate: leaf,
                    host: host.to_string(),
                },
            ))
        }
    }
}

/// The name a client verifies: the config's (brackets of an IPv6 literal dropped), or,
/// with `insecure_skip_verify` and no name, the peer's IP (which sends no SNI, as Go
/// sends none without a name).
fn server_name(config: &Config, raw: &NetConn) -> Result<ServerName<'static>, Fault> {
    let name = config
        .server_name
        .trim_start_matches('[')
        .trim_end_matches(']');
    if name.is_empty() {
        if !config.insecure_skip_verify {
            return Err(Fault::msg(
                "tls: either ServerName or InsecureSkipVerify must be specified in the tls.Config",
            ));
        }
        let ip = raw
            .remote_addr()
            .socket_addr()
            .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip());
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(name.to_string())
        .map_err(|_| Fault::msg(format!("tls: invalid server name {name:?}")))
}

fn no_context() -> Context<'static> {
    Context {
        server: false,
        last_record_len: 0,
        client_protos: &[],
        client_versions: &[],
        tls13: false,
    }
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tls::Conn")
            .field("server", &self.inner.server)
            .field("local", &self.local_addr().to_string())
            .field("remote", &self.remote_addr().to_string())
            .field(
                "handshake_complete",
                &self.inner.hs_done.load(Ordering::Relaxed),
            )
            .finish()
    }
}
