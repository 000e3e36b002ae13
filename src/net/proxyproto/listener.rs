//! The listener wrapper: connections come out of `accept` with their header read and
//! their addresses the client's.
//!
//! Go: go-proxyproto's protocol.go (`Listener`, `Conn`, `NewConn`). Go's wrapper reads
//! the header lazily, on the connection's first `Read` (or `RemoteAddr`), inside the
//! handler's goroutine. Here a coroutine of the listener accepts, and each connection's
//! header is read in a coroutine of its own, under the read-header deadline; `accept`
//! hands out connections whose header is done. So a slow or bad header never holds up
//! the accept loop or another connection, `remote_addr()` never blocks, and a
//! connection that fails its header is closed (with a logged reason) before the server
//! ever sees it, which keeps it out of `Server::max_conns` and the handler counts.
//!
//! The header is read by peeking at the socket (`MSG_PEEK`) until it is complete, then
//! taking exactly its bytes: what follows is the client's, untouched, and the `Conn`
//! handed out is the plain socket, with nothing buffered in front of it.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::sync::{Condvar, Mutex, MutexGuard};

use super::error::{Error, ErrorKind};
use super::header::{DEFAULT_MAX_V2_HEADER_SIZE, Header, Step, cut_short, parse_stream};
use super::policy::{ConnPolicyFn, ConnPolicyOptions, Policy};
use crate::net::error::{BoxError, is_closed, is_temporary};
use crate::net::fd::{Fail, NetFd};
use crate::net::{Addr, Conn};

/// How long a header may take by default. Go: `proxyproto.DefaultReadHeaderTimeout`.
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections whose header is read, waiting for `accept`, before the listener stops
/// accepting more (the kernel's backlog holds the rest, as for a plain listener).
const READY_CAP: usize = 128;

/// The first pause after a temporary accept error, and the longest: net/http's.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A validator: an error closes the connection. Go: `proxyproto.Validator`.
pub type Validator = dyn Fn(&Header) -> Result<(), BoxError> + Send + Sync;

/// A listener whose connections may start with a PROXY protocol header (v1 or v2, from
/// HAProxy's `send-proxy` / `send-proxy-v2`, nginx's `proxy_protocol on`, AWS NLB, ...):
/// their `remote_addr()` and `local_addr()` are the client's addresses from the header,
/// and [`Conn::proxy_header`] has the header itself, TLVs included.
///
/// Go: `proxyproto.Listener{Listener, ConnPolicy, ValidateHeader, ReadHeaderTimeout}`.
/// Build it around a listener, set what you need, and pass it wherever a
/// [`Listener`](crate::net::Listener) goes ([`Server::serve`](crate::Server::serve),
/// [`http::serve`](crate::net::http::serve): both take it directly), or turn it into one
/// with [`into_listener`](Listener::into_listener) to call `accept` yourself.
///
/// Each accepted connection's header is read in a coroutine of its own under a read
/// deadline ([`read_header_timeout`](Listener::read_header_timeout), 10 s by default);
/// `accept` returns only connections whose header is done. A connection with a bad
/// header, a header that did not come in time, or one its [`Policy`] refuses is closed,
/// and the reason logged at warn level (`proxyproto: closed the connection from
/// 127.0.0.1:5000: proxyproto: invalid address`); the listener goes on. Not one byte
/// past the header is read: the client's data is all in the `Conn`.
///
/// ```
/// use std::io::Read;
/// use gonet::net::{self, proxyproto};
///
/// let ln = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?).into_listener();
/// let client = net::dial("tcp", &ln.addr().to_string())?;
/// client.write(b"PROXY TCP4 192.0.2.7 198.51.100.1 4242 443\r\nhello")?;
/// let conn = ln.accept()?;
/// assert_eq!(conn.remote_addr().to_string(), "192.0.2.7:4242");
/// assert_eq!(conn.local_addr().to_string(), "198.51.100.1:443");
/// assert_eq!(conn.raw().remote_addr(), client.local_addr()); // the proxy's own address
/// let mut hello = [0u8; 5];
/// conn.read_full(&mut hello)?;
/// assert_eq!(&hello, b"hello");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Listener {
    inner: crate::net::Listener,
    cfg: Config,
}

/// The settings of a wrapped listener, shared by its coroutines.
#[derive(Clone)]
struct Config {
    policy: Policy,
    conn_policy: Option<Arc<ConnPolicyFn>>,
    validate: Option<Arc<Validator>>,
    timeout: Option<Duration>,
    max_v2: u16,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("proxyproto::Listener")
            .field("addr", &self.inner.addr().to_string())
            .field("policy", &self.cfg.policy)
            .field("conn_policy", &self.cfg.conn_policy.as_ref().map(|_| "Fn"))
            .field("read_header_timeout", &self.cfg.timeout)
            .finish()
    }
}

impl Listener {
    /// Wraps `ln`, with go-proxyproto's defaults: [`Policy::Require`] for every
    /// connection, a 10 s read-header timeout, version 2 headers up to 4 KiB.
    ///
    /// Go: `&proxyproto.Listener{Listener: ln}`.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let pl = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?);
    /// assert!(format!("{pl:?}").contains("Require"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(ln: crate::net::Listener) -> Listener {
        Listener {
            inner: ln,
            cfg: Config {
                policy: Policy::default(),
                conn_policy: None,
                validate: None,
                timeout: Some(DEFAULT_READ_HEADER_TIMEOUT),
                max_v2: DEFAULT_MAX_V2_HEADER_SIZE,
            },
        }
    }

    /// The policy for every connection (when no [`conn_policy`](Listener::conn_policy)
    /// is set). Go: `proxyproto.DefaultPolicy`, or a `ConnPolicy` returning a constant.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto::{self, Policy}};
    /// let ln = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?)
    ///     .policy(Policy::Use) // a header is optional
    ///     .read_header_timeout(Some(std::time::Duration::from_millis(100)))
    ///     .into_listener();
    /// let client = net::dial("tcp", &ln.addr().to_string())?;
    /// client.write(b"GET / HTTP/1.0\r\n\r\n")?; // no header: served as it is
    /// assert_eq!(ln.accept()?.remote_addr(), client.local_addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn policy(mut self, policy: Policy) -> Listener {
        self.cfg.policy = policy;
        self
    }

    /// A policy per connection, from its upstream and downstream addresses: see
    /// [`ConnPolicyFn`] and the ready-made ones ([`trust_proxy_header_from`]
    /// (super::trust_proxy_header_from), [`policy_from_ranges`](super::policy_from_ranges),
    /// ...). Go: `Listener.ConnPolicy`.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let ln = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?)
    ///     .conn_policy(proxyproto::trust_proxy_header_from_ranges(&["127.0.0.0/8"])?)
    ///     .into_listener();
    /// # drop(ln);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn conn_policy(
        mut self,
        f: impl Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync + 'static,
    ) -> Listener {
        self.cfg.conn_policy = Some(Arc::new(f));
        self
    }

    /// A check of each header before its connection is accepted: an error closes the
    /// connection. Go: `Listener.ValidateHeader`.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let ln = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?)
    ///     .validate_header(|h| match h.version {
    ///         2 => Ok(()),
    ///         v => Err(format!("version {v} headers are not accepted here").into()),
    ///     })
    ///     .into_listener();
    /// # drop(ln);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn validate_header(
        mut self,
        f: impl Fn(&Header) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Listener {
        self.cfg.validate = Some(Arc::new(f));
        self
    }

    /// How long a connection may take to send its header; `None`: no limit (not for
    /// listeners that untrusted clients can reach). A connection that sent nothing by
    /// then has no header (closed under [`Policy::Require`], served under
    /// [`Policy::Use`]); one that sent part of a header is closed. Go:
    /// `Listener.ReadHeaderTimeout` (10 s when zero; negative disables).
    ///
    /// ```
    /// use std::time::Duration;
    /// use gonet::net::{self, proxyproto};
    /// let ln = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?)
    ///     .read_header_timeout(Some(Duration::from_millis(50)))
    ///     .into_listener();
    /// let slow = net::dial("tcp", &ln.addr().to_string())?;
    /// slow.write(b"PROXY TCP4 ")?; // and no more: closed after 50 ms
    /// let mut b = [0u8; 1];
    /// assert!(matches!(slow.read(&mut b), Ok(0) | Err(_)));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_header_timeout(mut self, timeout: Option<Duration>) -> Listener {
        self.cfg.timeout = timeout;
        self
    }

    /// The longest version 2 address block plus TLVs accepted (4096 by default; the
    /// format allows 65,535). Go: `proxyproto.MaxV2HeaderSize`.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let ln = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?)
    ///     .max_v2_header_size(65_535) // TLVs with client certificates can be large
    ///     .into_listener();
    /// # drop(ln);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_v2_header_size(mut self, bytes: u16) -> Listener {
        self.cfg.max_v2 = bytes;
        self
    }

    /// The wrapped listener, accepting: a coroutine of its own now accepts connections
    /// and reads their headers, until the listener is closed (or dropped).
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let plain = net::listen("tcp", "127.0.0.1:0")?;
    /// let addr = plain.addr();
    /// let ln = proxyproto::Listener::new(plain).into_listener();
    /// assert_eq!(ln.addr(), addr); // the same socket
    /// ln.close()?;
    /// assert!(gonet::is_closed(&ln.accept().unwrap_err()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_listener(self) -> crate::net::Listener {
        let Listener { inner, cfg } = self;
        let fd = inner.fd.clone();
        let queue = Arc::new(Queue {
            inner,
            cfg,
            st: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let q = queue.clone();
        crate::go!(move || q.accept_loop());
        crate::net::Listener {
            fd,
            unlink: None,
            unlink_on_close: std::sync::atomic::AtomicBool::new(false),
            proxy: Some(queue),
        }
    }
}

impl From<Listener> for crate::net::Listener {
    fn from(l: Listener) -> crate::net::Listener {
        l.into_listener()
    }
}

impl From<Listener> for Arc<crate::net::Listener> {
    /// So that `Server::serve(pl, ..)` and `http::serve(pl, ..)` take it as it is.
    fn from(l: Listener) -> Arc<crate::net::Listener> {
        Arc::new(l.into_listener())
    }
}

/// What a wrapped listener's `accept`, `close` and `set_deadline` reach: the connections
/// ready to hand out, and the accept coroutine's state.
pub(crate) struct Queue {
    /// The listener wrapped (its socket is also the outer listener's `fd`).
    inner: crate::net::Listener,
    cfg: Config,
    st: Mutex<State>,
    /// Signalled (notify_all) on every change of `st`.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Accept results ready to hand out: connections with their header read, and the
    /// errors `accept` passes on.
    ready: VecDeque<io::Result<Conn>>,
    /// Connections whose header is being read, by id, for `close` to close.
    reading: HashMap<u64, Conn>,
    next_id: u64,
    closed: bool,
    /// The accept coroutine stopped on an error that is not temporary: every `accept`
    /// returns it (its kind and text) from then on.
    failed: Option<(io::ErrorKind, String)>,
    /// The accept deadline (`Listener::set_deadline`).
    deadline: Option<Instant>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>, until: Option<Instant>) -> MutexGuard<'a, State> {
        match until {
            None => self.changed.wait(g).unwrap_or_else(|p| p.into_inner()),
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                match self.changed.wait_timeout(g, left) {
                    Ok((g, _)) => g,
                    Err(p) => p.into_inner().0,
                }
            }
        }
    }

    /// `Listener::accept` of the outer listener (`fd` is its socket, for errors).
    pub(crate) fn accept(&self, fd: &NetFd) -> io::Result<Conn> {
        let mut st = self.lock();
        loop {
            if let Some(item) = st.ready.pop_front() {
                self.changed.notify_all();
                return item;
            }
            if st.closed {
                return Err(fd.op_error("accept", Fail::Closed));
            }
            if let Some((kind, text)) = &st.failed {
                return Err(io::Error::new(*kind, text.clone()));
            }
            if st.deadline.is_some_and(|d| d <= Instant::now()) {
                return Err(fd.op_error("accept", Fail::Timeout));
            }
            let until = st.deadline;
            st = self.wait(st, until);
        }
    }

    /// `Listener::set_deadline`: for the queue's wait, not the socket's accept.
    pub(crate) fn set_deadline(&self, t: Option<Instant>) {
        self.lock().deadline = t;
        self.changed.notify_all();
    }

    /// `Listener::close`: no more accepting; the connections not handed out yet (ready
    /// or still reading their header) are closed; then the wrapped listener closes
    /// (removing its socket file, for a Unix listener). A second close fails as a plain
    /// listener's does.
    pub(crate) fn close(&self) -> io::Result<()> {
        let (ready, reading) = {
            let mut st = self.lock();
            st.closed = true;
            (
                std::mem::take(&mut st.ready),
                std::mem::take(&mut st.reading),
            )
        };
        self.changed.notify_all();
        for c in ready.into_iter().flatten() {
            let _ = c.close();
        }
        for c in reading.into_values() {
            let _ = c.close();
        }
        self.inner.close()
    }

    fn push(&self, item: io::Result<Conn>) {
        let mut st = self.lock();
        if st.closed {
            drop(st);
            if let Ok(c) = item {
                let _ = c.close();
            }
            return;
        }
        st.ready.push_back(item);
        self.changed.notify_all();
    }

    /// Waits while `READY_CAP` connections wait for `accept` (the application is
    /// behind); false once closed.
    fn wait_for_room(&self) -> bool {
        let mut st = self.lock();
        while st.ready.len() >= READY_CAP && !st.closed {
            st = self.wait(st, None);
        }
        !st.closed
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The accept coroutine: accepts, picks the policy, starts each header read.
    fn accept_loop(self: Arc<Self>) {
        let mut delay = Duration::ZERO;
        while self.wait_for_room() {
            let conn = match self.inner.accept() {
                Ok(c) => c,
                Err(e) if is_closed(&e) => {
                    // Closed through the outer listener, or under it (the socket).
                    self.lock().closed = true;
                    self.changed.notify_all();
                    return;
                }
                Err(e) if is_temporary(&e) || retryable(&e) => {
                    delay = (delay * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
                    // Passed on, as Go's wrapper returns it: a server's accept loop logs
                    // it and backs off too.
                    self.push(Err(e));
                    may::coroutine::sleep(delay);
                    continue;
                }
                Err(e) => {
                    self.lock().failed = Some((e.kind(), e.to_string()));
                    self.push(Err(e));
                    return;
                }
            };
            delay = Duration::ZERO;
            let policy = match &self.cfg.conn_policy {
                None => self.cfg.policy,
                Some(f) => {
                    let opts = ConnPolicyOptions {
                        upstream: conn.remote_addr(),
                        downstream: conn.local_addr(),
                    };
                    match f(&opts) {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = conn.close();
                            if Error::is_in(&*e, ErrorKind::InvalidUpstream) {
                                log::warn!(
                                    "proxyproto: closed the connection from {}: {e}",
                                    opts.upstream
                                );
                            } else {
                                // Go: Accept returns the policy's error.
                                self.push(Err(io::Error::other(e)));
                            }
                            continue;
                        }
                    }
                }
            };
            if policy == Policy::Skip {
                self.push(Ok(conn));
                continue;
            }
            self.start_reading(conn, policy);
        }
    }

    /// Reads `conn`'s header in a coroutine of its own, then queues it (or closes it).
    fn start_reading(self: &Arc<Self>, conn: Conn, policy: Policy) {
        let id = {
            let mut st = self.lock();
            let id = st.next_id;
            st.next_id += 1;
            st.reading.insert(id, conn.clone());
            id
        };
        let q = self.clone();
        let c = conn.clone();
        let body = move || {
            let peer = c.remote_addr();
            let result = read_header(&c, policy, &q.cfg);
            let still_ours = q.lock().reading.remove(&id).is_some();
            match result {
                Ok(c) if still_ours => q.push(Ok(c)),
                Ok(c) => {
                    let _ = c.close();
                }
                Err(e) => {
                    // Closed by `close`: nothing to report.
                    if still_ours {
                        log::warn!("proxyproto: closed the connection from {peer}: {e}");
                    }
                    let _ = c.close();
                }
            }
        };
        // A stack that cannot be mapped (a limit: see `runtime::try_go`) only costs this
        // connection.
        if let Err(e) = crate::runtime::try_go(body) {
            log::error!(
                "proxyproto: cannot start a coroutine to read the header from {}; closed it: {e}",
                conn.remote_addr()
            );
            self.lock().reading.remove(&id);
            let _ = conn.close();
            may::coroutine::sleep(BACKOFF_MIN);
        }
    }

    /// Whether the queue has been closed (for the outer listener's `Drop`).
    pub(crate) fn closed(&self) -> bool {
        self.is_closed()
    }
}

/// Accept errors that concern one connection only (as `Server` retries them).
fn retryable(e: &io::Error) -> bool {
    crate::net::error::OpError::of(e)
        .and_then(|op| op.err.downcast_ref::<crate::net::error::SyscallError>())
        .is_some_and(|sys| sys.syscall != "accept4")
}

/// The state of one proxied connection: the socket, its header and the addresses the
/// header gives it. What a `Conn` made by the wrapper holds.
pub(crate) struct Proxied {
    pub(crate) fd: Arc<NetFd>,
    pub(crate) header: Header,
    pub(crate) local: Addr,
    pub(crate) remote: Addr,
}

/// Reads and takes `conn`'s header under `cfg`, applying `policy`; returns the
/// connection as it goes on (proxied, or as it was).
fn read_header(conn: &Conn, policy: Policy, cfg: &Config) -> Result<Conn, BoxError> {
    let Some(fd) = conn.sock() else {
        return Err("proxyproto: not a socket".into());
    };
    if let Some(t) = cfg.timeout {
        conn.set_read_deadline(Some(Instant::now() + t))?;
    }
    let got = take_header(fd, cfg.max_v2);
    if cfg.timeout.is_some() {
        // Best effort: the header (or its error) is what counts.
        let _ = conn.set_read_deadline(None);
    }
    // Go: readHeader's handling of each policy.
    match got? {
        None if policy == Policy::Require => Err(Error::new(ErrorKind::NoProxyProtocol).into()),
        None => Ok(conn.clone()),
        Some(_) if policy == Policy::Reject => {
            Err(Error::new(ErrorKind::SuperfluousProxyHeader).into())
        }
        Some(_) if matches!(policy, Policy::Ignore | Policy::Skip) => Ok(conn.clone()),
        Some(h) => {
            if let Some(v) = &cfg.validate {
                v(&h)?;
            }
            // Go: LocalAddr / RemoteAddr keep the socket's for a LOCAL header.
            let (local, remote) = match (&h.destination_addr, &h.source_addr) {
                (Some(d), Some(s)) if h.command.is_proxy() => (d.clone(), s.clone()),
                _ => (conn.local_addr(), conn.remote_addr()),
            };
            Ok(Conn::from_proxied(Arc::new(Proxied {
                fd: fd.clone(),
                header: h,
                local,
                remote,
            })))
        }
    }
}

/// Peeks until the header is complete, then takes exactly its bytes. `None`: the
/// stream does not start with a PROXY header (nothing taken), or sent nothing before
/// the deadline.
fn take_header(fd: &NetFd, max_v2: u16) -> Result<Option<Header>, BoxError> {
    let mut buf = vec![0u8; 256];
    let mut seen = 0;
    loop {
        let n = match fd.peek_past(&mut buf, seen) {
            Ok(n) => n,
            Err(e) if crate::net::is_timeout(&e) => {
                // Go: a timeout is "no header". A signature not yet complete may be the
                // client's own data ("P..."); one that is complete is a slow header.
                return match parse_stream(&buf[..seen], max_v2)? {
                    Step::NotProxy => Ok(None),
                    Step::More(_) if !signature_complete(&buf[..seen]) => Ok(None),
                    _ => Err(cut_short(&buf[..seen], "i/o timeout").into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let eof = n == seen;
        match parse_stream(&buf[..n], max_v2)? {
            Step::NotProxy => return Ok(None),
            Step::Header(h, len) => {
                // Already queued, so one read takes it all; loop in case it does not.
                let mut header_bytes = vec![0u8; len];
                let mut got = 0;
                while got < len {
                    match fd.read(&mut header_bytes[got..])? {
                        0 => return Err(cut_short(&header_bytes[..got], "EOF").into()),
                        k => got += k,
                    }
                }
                return Ok(Some(h));
            }
            Step::More(_) if eof => {
                return match signature_complete(&buf[..n]) {
                    // Go: a stream that ends inside the signature has no header.
                    false => Ok(None),
                    true => Err(cut_short(&buf[..n], "EOF").into()),
                };
            }
            Step::More(need) => {
                if need > buf.len() {
                    buf.resize(need, 0);
                }
                seen = n;
            }
        }
    }
}

/// Whether `buf` holds a whole v1 or v2 signature (what follows it is a header).
fn signature_complete(buf: &[u8]) -> bool {
    buf.starts_with(&super::header::SIGV1) || buf.starts_with(&super::header::SIGV2)
}

/// Reads `conn`'s PROXY header now (in the calling coroutine; a plain thread waits for a
/// coroutine that does it) under `policy`, giving up after `read_header_timeout`; returns
/// the connection to use from then on: proxied (its addresses the header's) or as it
/// was.
///
/// Go: `proxyproto.NewConn(conn, proxyproto.WithPolicy(p),
/// proxyproto.SetReadHeaderTimeout(t))`, where Go reads at the first `Read`. For your own
/// accept loop; [`Listener`] does this for every connection, off the accept path. The
/// connection's read deadline is cleared afterwards. Errors: the header's
/// ([`Error::of`]), or the socket's.
///
/// ```
/// use gonet::net::{self, proxyproto::{self, Policy}};
/// let ln = net::listen("tcp", "127.0.0.1:0")?;
/// let client = net::dial("tcp", &ln.addr().to_string())?;
/// client.write(b"PROXY UNKNOWN\r\n")?; // what a proxy says for its own connections
/// let conn = proxyproto::new_conn(ln.accept()?, Policy::Require, None)?;
/// assert_eq!(conn.remote_addr(), client.local_addr()); // LOCAL: the real addresses
/// assert!(conn.proxy_header().unwrap().command.is_local());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn new_conn(
    conn: Conn,
    policy: Policy,
    read_header_timeout: Option<Duration>,
) -> io::Result<Conn> {
    let cfg = Config {
        policy,
        conn_policy: None,
        validate: None,
        timeout: read_header_timeout,
        max_v2: DEFAULT_MAX_V2_HEADER_SIZE,
    };
    if policy == Policy::Skip {
        return Ok(conn);
    }
    let run = move || read_header(&conn, policy, &cfg).map_err(into_io);
    if may::coroutine::is_coroutine() {
        return run();
    }
    // A plain thread's poll(2) cannot wait for "more bytes" (fd.rs: peek_past).
    crate::go!(run)
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("proxyproto: the header reader panicked")))
}

/// A header error as an `io::Error` (the `Error` itself inside, for [`Error::of`]); a
/// socket error as it came.
fn into_io(e: BoxError) -> io::Error {
    match e.downcast::<io::Error>() {
        Ok(io) => *io,
        Err(e) => match e.downcast::<Error>() {
            Ok(p) => (*p).into(),
            Err(e) => io::Error::new(io::ErrorKind::InvalidData, e),
        },
    }
}

impl Conn {
    /// The PROXY header this connection came with, if a
    /// [`proxyproto::Listener`](Listener) (or [`new_conn`]) read one and its policy used
    /// it; `None` for every other connection.
    ///
    /// Go: `conn.(*proxyproto.Conn).ProxyHeader()`.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let ln = net::listen("tcp", "127.0.0.1:0")?;
    /// let client = net::dial("tcp", &ln.addr().to_string())?;
    /// client.write(b"PROXY TCP6 2001:db8::1 2001:db8::2 1000 2000\r\n")?;
    /// let conn = proxyproto::new_conn(ln.accept()?, proxyproto::Policy::Use, None)?;
    /// let h = conn.proxy_header().unwrap();
    /// assert_eq!(h.source_addr.as_ref().unwrap().to_string(), "[2001:db8::1]:1000");
    /// assert!(client.proxy_header().is_none());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn proxy_header(&self) -> Option<&Header> {
        self.proxied().map(|p| &p.header)
    }

    /// The same connection with the socket's own addresses (the proxy's, for a proxied
    /// connection); for any other connection, a clone.
    ///
    /// Go: `conn.(*proxyproto.Conn).Raw()`.
    ///
    /// ```
    /// use gonet::net::{self, proxyproto};
    /// let ln = net::listen("tcp", "127.0.0.1:0")?;
    /// let lb = net::dial("tcp", &ln.addr().to_string())?;
    /// lb.write(b"PROXY TCP4 192.0.2.7 192.0.2.8 1000 80\r\n")?;
    /// let conn = proxyproto::new_conn(ln.accept()?, proxyproto::Policy::Require, None)?;
    /// assert_eq!(conn.remote_addr().to_string(), "192.0.2.7:1000");
    /// assert_eq!(conn.raw().remote_addr(), lb.local_addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn raw(&self) -> Conn {
        match self.proxied() {
            Some(p) => Conn::from_fd(p.fd.clone()),
            None => self.clone(),
        }
    }
}
