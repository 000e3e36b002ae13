//! The entry points: `listen`, `ListenConfig`, `dial`, `Dialer`.
//!
//! Go: `src/net/dial.go`. `listen(network, address)` is `ListenConfig::default()
//! .listen(..)`, which parses the network, resolves the address and hands off to
//! `listen_tcp` or `listen_unix`; `dial` is `Dialer::default().dial(..)`.
//!
//! The dial side follows `Dialer.DialContext`: resolve the address (`lookup.rs`: IP
//! literals and /etc/hosts names at once, other names by `getaddrinfo` on a resolver
//! thread, so the may worker keeps running other coroutines; the dial's deadline bounds
//! the wait), keep the remote addresses that match `local_addr`, then `dial_parallel`:
//! on "tcp" with both IPv4 and IPv6 addresses, the primaries (the first address's
//! family) dial in one coroutine and the fallbacks in another after `fallback_delay`
//! ("Happy Eyeballs", RFC 6555); the first connection wins and the loser is cancelled by
//! closing the socket it is connecting (Go cancels a context). Each racer is
//! `dial_serial`: its addresses in turn, the time left shared by `partial_deadline`, each
//! a non-blocking connect that parks in the netpoller until writable (`fd.rs`).

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Type};

use crate::context::Context;
use crate::net::error::{
    AddrError, BoxError, ErrTimeout, OpError, SyscallError, UnknownNetworkError, map_err,
};
use crate::net::fd::{Fail, NetFd};
use crate::net::ipsock::{internet_addr_list_context, is_ipv4, parse_ip_zone};
use crate::net::sockopt::DEFAULT_KEEP_ALIVE;
use crate::net::{Addr, Conn, Listener, TcpAddr, UnixAddr};

/// The `Control` hook: called with the network ("tcp4", "tcp6", "unix", ...), the
/// address and the raw socket after it is created and before it is bound (listen) or
/// connected (dial). An error aborts the call and is returned inside its `OpError`.
///
/// Go: `Control func(network, address string, c syscall.RawConn) error`.
pub type ControlFn = Arc<dyn Fn(&str, &str, BorrowedFd<'_>) -> Result<(), BoxError> + Send + Sync>;

/// Options for listening.
///
/// Go: `net.ListenConfig`. The zero value of Go's struct is [`ListenConfig::default()`]:
/// no hook, and keep-alive probes every 15 s on accepted TCP conns.
///
/// `control` is Go's `Control` hook: where Go calls `c.Control(func(fd uintptr) {
/// syscall.SetsockoptInt(int(fd), SOL_SOCKET, SO_REUSEPORT, 1) })`, the hook gets the
/// socket as a `BorrowedFd`, which `socket2::SockRef` takes for its setters. SO_REUSEPORT
/// lets several processes listen on one port, the kernel spreading the connections over
/// them: examples/fleet.rs runs such a fleet, and `net::tableflip` hands the sockets on
/// for zero-downtime restarts.
///
/// ```
/// use std::os::fd::AsRawFd;
/// use std::sync::Arc;
///
/// // The classic use: SO_REUSEPORT, so several listeners share one port.
/// let lc = gonet::ListenConfig {
///     control: Some(Arc::new(|_network: &str, _address: &str, fd: std::os::fd::BorrowedFd<'_>| {
///         socket2::SockRef::from(&fd).set_reuse_port(true)?;
///         Ok(())
///     })),
///     ..Default::default()
/// };
/// let a = lc.listen("tcp", "127.0.0.1:0").unwrap();
/// let b = lc.listen("tcp", &a.addr().to_string()).unwrap();
/// assert_eq!(a.addr(), b.addr());
/// ```
#[derive(Clone)]
pub struct ListenConfig {
    /// Go's `Control`: runs after socket creation, before bind.
    pub control: Option<ControlFn>,
    /// Keep-alive period for accepted TCP conns: `Some(period)`, or `None` to leave
    /// keep-alive off. Go's `KeepAlive`: zero means 15 s (our default), negative disables.
    pub keep_alive: Option<Duration>,
}

impl Default for ListenConfig {
    fn default() -> ListenConfig {
        ListenConfig {
            control: None,
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
        }
    }
}

impl fmt::Debug for ListenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenConfig")
            .field("control", &self.control.as_ref().map(|_| "Fn"))
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

impl ListenConfig {
    /// Listens on `network` ("tcp", "tcp4", "tcp6", "unix", "unixpacket") at `address`.
    ///
    /// Go: `ListenConfig.Listen(ctx, network, address)`. See [`listen`] for the address
    /// forms and Go's behaviours.
    ///
    /// ```
    /// let lc = gonet::ListenConfig { keep_alive: None, ..Default::default() };
    /// let ln = lc.listen("tcp4", "127.0.0.1:0").unwrap();
    /// assert_eq!(ln.addr().network(), "tcp");
    /// ```
    pub fn listen(&self, network: &str, address: &str) -> io::Result<Listener> {
        self.listen_context(&crate::context::background(), network, address)
    }

    /// [`ListenConfig::listen`], the host name lookup giving up when `ctx` ends: Go's
    /// `listen tcp: lookup NAME: operation was canceled` (or `i/o timeout` at the
    /// context's deadline). An IP literal or a Unix address needs no lookup and is
    /// listened on whatever the context, as in Go.
    ///
    /// Go: `ListenConfig.Listen(ctx, network, address)`.
    ///
    /// ```
    /// use gonet::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let lc = gonet::ListenConfig::default();
    /// let ln = lc.listen_context(&ctx, "tcp", "localhost:0").unwrap();
    /// assert_eq!(ln.addr().socket_addr().unwrap().ip().to_string(), "127.0.0.1");
    /// cancel();
    /// let err = lc.listen_context(&ctx, "tcp", "localhost:0").unwrap_err();
    /// assert_eq!(err.to_string(), "listen tcp: lookup localhost: operation was canceled");
    /// assert!(lc.listen_context(&ctx, "tcp", "127.0.0.1:0").is_ok());
    /// ```
    pub fn listen_context(
        &self,
        ctx: &Context,
        network: &str,
        address: &str,
    ) -> io::Result<Listener> {
        crate::os::rlimit::raise_open_files_limit();
        let fail = |err: BoxError| -> io::Error { OpError::new("listen", network, err).into() };
        let (afnet, _proto) = parse_network(network).map_err(fail)?;
        match afnet {
            "tcp" | "tcp4" | "tcp6" => {
                let addrs = internet_addr_list_context(afnet, address, ctx, None).map_err(fail)?;
                let la = first_ipv4(addrs);
                crate::net::tcpsock::sys_listen_tcp(self, network, &la)
            }
            "unix" | "unixpacket" | "unixgram" => crate::net::unixsock::sys_listen_unix(
                self,
                network,
                &UnixAddr::new(address, network),
            ),
            _ => {
                // Go resolves UDP and IP addresses, then refuses them here.
                let la = if afnet.starts_with("udp") {
                    Addr::Udp(
                        first_ipv4(
                            internet_addr_list_context(afnet, address, ctx, None).map_err(fail)?,
                        )
                        .into(),
                    )
                } else {
                    Addr::Ip(ip_addr(address).map_err(fail)?)
                };
                let e = AddrError::new("unexpected address type", address);
                Err(OpError::new("listen", network, e)
                    .with_addrs(None, Some(la))
                    .into())
            }
        }
    }
}

/// Listens on a local network address and returns the listener.
///
/// Go: `net.Listen(network, address)`, with Go's behaviours:
/// - networks "tcp", "tcp4", "tcp6", "unix", "unixpacket" (and "unixgram", which Go also
///   accepts: a bound datagram socket whose accept fails);
/// - `":8080"`, `""` and `"0.0.0.0:0"` on "tcp" listen dual-stack on one IPv6 socket and
///   print `[::]:PORT`; port 0 picks a free port; service names work (`"127.0.0.1:http"`);
///   host names resolve through /etc/hosts, then DNS; the first IPv4 address wins;
/// - SO_REUSEADDR (not SO_REUSEPORT), and the system's listen backlog (somaxconn);
/// - Unix: a path, `"@name"` (abstract), or `""` (the kernel picks an abstract name). The
///   socket file is removed on close; a stale one is "address already in use".
///
/// Errors are Go's texts, e.g. `listen tcp: address 99999: invalid port`.
///
/// ```
/// let ln = gonet::listen("tcp", ":0").unwrap();
/// assert!(ln.addr().to_string().starts_with("[::]:"));
///
/// let err = gonet::listen("tcp", ":99999").unwrap_err();
/// assert_eq!(err.to_string(), "listen tcp: address 99999: invalid port");
/// ```
pub fn listen(network: &str, address: &str) -> io::Result<Listener> {
    ListenConfig::default().listen(network, address)
}

/// Options for dialing.
///
/// Go: `net.Dialer`. `Dialer::default()` is Go's zero `Dialer`: no timeout, keep-alive
/// every 15 s, TCP_NODELAY on, 300 ms before falling back between address families.
///
/// Everything a dial waits for parks only the calling coroutine, never a may worker
/// thread: the connect waits in the netpoller, and host names that are not IP literals
/// or in /etc/hosts are resolved by `getaddrinfo(3)` on gonet's own resolver threads (at
/// most 4), the answer coming back through a coroutine-aware channel. `timeout` and
/// `deadline` bound the whole dial, resolution included.
///
/// ```
/// use std::time::Duration;
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let d = gonet::Dialer { timeout: Some(Duration::from_secs(2)), ..Default::default() };
/// let conn = d.dial("tcp", &ln.addr().to_string()).unwrap();
/// assert_eq!(conn.remote_addr(), ln.addr());
/// ```
#[derive(Clone)]
pub struct Dialer {
    /// Longest time a whole dial may take (resolution and every address tried).
    /// Go: `Timeout`.
    pub timeout: Option<Duration>,
    /// An absolute time by which the dial must finish. Go: `Deadline`.
    pub deadline: Option<Instant>,
    /// The local address to bind before connecting (its port may be 0). Go: `LocalAddr`.
    pub local_addr: Option<Addr>,
    /// Keep-alive period for the new TCP conn: `Some(period)`, or `None` to leave
    /// keep-alive off. Go: `KeepAlive` (zero means 15 s, our default; negative disables).
    pub keep_alive: Option<Duration>,
    /// For "tcp" to a host with both IPv4 and IPv6 addresses: how long the addresses of
    /// the first family get before those of the other family race them ("Happy
    /// Eyeballs", RFC 6555); `None` tries every address in turn instead.
    /// Go: `FallbackDelay` (zero means 300 ms, our default; negative disables).
    pub fallback_delay: Option<Duration>,
    /// Go's `Control`: runs after socket creation, before connect.
    pub control: Option<ControlFn>,
}

impl Default for Dialer {
    fn default() -> Dialer {
        Dialer {
            timeout: None,
            deadline: None,
            local_addr: None,
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            fallback_delay: Some(DEFAULT_FALLBACK_DELAY),
            control: None,
        }
    }
}

/// Go: `Dialer.fallbackDelay()` for a zero `FallbackDelay`.
const DEFAULT_FALLBACK_DELAY: Duration = Duration::from_millis(300);

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dialer")
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("local_addr", &self.local_addr)
            .field("keep_alive", &self.keep_alive)
            .field("fallback_delay", &self.fallback_delay)
            .field("control", &self.control.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl Dialer {
    /// Connects to `address` on `network` ("tcp", "tcp4", "tcp6", "unix", "unixpacket",
    /// "unixgram", "udp", "udp4", "udp6": a UDP "connection" is a socket with its peer
    /// fixed, see [`UdpConn`](crate::net::UdpConn)).
    ///
    /// Go: `Dialer.Dial`. The coroutine parks while the name is resolved (on a resolver
    /// thread, see [`Dialer`]) and while the connection is made; a caller on a plain
    /// thread blocks instead. The addresses a host resolves to are tried in order, the
    /// time left split between them as Go does; on "tcp", when they include both IPv4
    /// and IPv6, the second family races the first after `fallback_delay` and the first
    /// connection made wins (the other attempt is cancelled and its socket closed). When
    /// every address fails, the error is the first address's, as in Go.
    ///
    /// A passed `timeout` or `deadline` fails with Go's texts:
    /// `dial tcp 10.0.0.1:80: i/o timeout`, or `dial tcp: lookup NAME: i/o timeout`
    /// while resolving; [`is_timeout`](crate::is_timeout) is true for both.
    ///
    /// ```
    /// let ln = gonet::listen("unix", "@gonet-doc-dialer").unwrap();
    /// let conn = gonet::Dialer::default().dial("unix", "@gonet-doc-dialer").unwrap();
    /// assert_eq!(conn.remote_addr().to_string(), "@gonet-doc-dialer");
    /// ```
    pub fn dial(&self, network: &str, address: &str) -> io::Result<Conn> {
        self.dial_context(&crate::context::background(), network, address)
    }

    /// [`Dialer::dial`], giving up when `ctx` ends: while the name is resolved (the
    /// resolver thread's answer is then dropped: `dial tcp: lookup NAME: operation was
    /// canceled`) and while connecting (the socket is closed at once and its descriptor
    /// released: `dial tcp 127.0.0.1:80: operation was canceled`). At the context's
    /// deadline the text is Go's `i/o timeout`, a timeout. The context's deadline also
    /// bounds the dial as `deadline` does, and shares the time between the addresses.
    ///
    /// Go: `Dialer.DialContext(ctx, network, address)`. [`context::is_canceled`] is
    /// true for a cancelled connect, as `errors.Is(err, context.Canceled)` is in Go (not
    /// for a cancelled lookup, whose `DnsError` wraps nothing, in Go 1.19 as here).
    ///
    /// [`context::is_canceled`]: crate::context::is_canceled
    ///
    /// ```
    /// use gonet::context;
    /// use std::time::Duration;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let d = gonet::Dialer::default();
    /// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(5));
    /// let conn = d.dial_context(&ctx, "tcp", &ln.addr().to_string()).unwrap();
    /// assert_eq!(conn.remote_addr(), ln.addr());
    /// cancel();
    /// let err = d.dial_context(&ctx, "tcp", &ln.addr().to_string()).unwrap_err();
    /// assert_eq!(err.to_string(), format!("dial tcp {}: operation was canceled", ln.addr()));
    /// assert!(context::is_canceled(&err));
    /// ```
    pub fn dial_context(&self, ctx: &Context, network: &str, address: &str) -> io::Result<Conn> {
        crate::os::rlimit::raise_open_files_limit();
        let fail = |err: BoxError| -> io::Error { OpError::new("dial", network, err).into() };
        let (afnet, _proto) = parse_network(network).map_err(fail)?;
        if address.is_empty() {
            return Err(fail("missing address".into()));
        }
        let deadline = self.deadline_from(Instant::now(), ctx);
        match afnet {
            "tcp" | "tcp4" | "tcp6" => {
                let addrs =
                    internet_addr_list_context(afnet, address, ctx, deadline).map_err(fail)?;
                let addrs = self.match_local_addr(addrs).map_err(fail)?;
                self.dial_addr_list(ctx, network, addrs, deadline)
            }
            "unix" | "unixpacket" | "unixgram" => {
                if let Some(la) = self.local_addr.as_ref().filter(|la| la.network() != afnet) {
                    let e = AddrError::new("mismatched local address type", la.to_string());
                    return Err(fail(e.into()));
                }
                self.dial_unix(ctx, network, &UnixAddr::new(address, network), deadline)
            }
            "udp" | "udp4" | "udp6" => {
                self.dial_udp_address(ctx, network, afnet, address, deadline)
            }
            _ => Err(fail(
                AddrError::new("unexpected address type", address).into(),
            )),
        }
    }

    /// Connects to one of `addrs`, exactly as [`Dialer::dial`] does once a host name has
    /// been resolved to them: in order, and on "tcp" with both address families racing
    /// after `fallback_delay`. For tests and callers that resolve names themselves.
    ///
    /// Go: none (the part of `DialContext` after `resolveAddrList`).
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let refused: std::net::SocketAddr = "[::1]:1".parse().unwrap();
    /// let addrs = [refused, ln.addr().socket_addr().unwrap()];
    /// let conn = gonet::Dialer::default().dial_addrs("tcp", &addrs).unwrap();
    /// assert_eq!(conn.remote_addr(), ln.addr());
    /// ```
    #[doc(hidden)]
    pub fn dial_addrs(&self, network: &str, addrs: &[SocketAddr]) -> io::Result<Conn> {
        self.dial_addrs_context(&crate::context::background(), network, addrs)
    }

    /// [`Dialer::dial_addrs`] under `ctx`, as [`Dialer::dial_context`] dials once the
    /// name is resolved: cancelling `ctx` ends every racer and closes its socket.
    ///
    /// Go: none (the part of `DialContext` after `resolveAddrList`).
    ///
    /// ```
    /// use gonet::context;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let addrs = [ln.addr().socket_addr().unwrap()];
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// cancel();
    /// let err = gonet::Dialer::default().dial_addrs_context(&ctx, "tcp", &addrs).unwrap_err();
    /// assert_eq!(err.to_string(), format!("dial tcp {}: operation was canceled", ln.addr()));
    /// ```
    #[doc(hidden)]
    pub fn dial_addrs_context(
        &self,
        ctx: &Context,
        network: &str,
        addrs: &[SocketAddr],
    ) -> io::Result<Conn> {
        crate::os::rlimit::raise_open_files_limit();
        let fail = |err: BoxError| -> io::Error { OpError::new("dial", network, err).into() };
        match parse_network(network).map_err(fail)? {
            ("tcp" | "tcp4" | "tcp6", _) => {}
            _ => return Err(fail(UnknownNetworkError(network.to_string()).into())),
        }
        let deadline = self.deadline_from(Instant::now(), ctx);
        let addrs = addrs.iter().map(|&a| TcpAddr::from(a)).collect();
        let addrs = self.match_local_addr(addrs).map_err(fail)?;
        self.dial_addr_list(ctx, network, addrs, deadline)
    }

    /// Go: the end of `resolveAddrList` for "dial": a local TCP address keeps only the
    /// remote addresses of its own family (unless either is a wildcard); any other kind
    /// of local address is a mismatch.
    fn match_local_addr(&self, addrs: Vec<TcpAddr>) -> Result<Vec<TcpAddr>, BoxError> {
        let Some(hint) = &self.local_addr else {
            return Ok(addrs);
        };
        let Addr::Tcp(la) = hint else {
            return Err(AddrError::new("mismatched local address type", hint.to_string()).into());
        };
        let wildcard = |a: &TcpAddr| a.ip.is_none_or(|ip| ip.is_unspecified());
        let v4 = |a: &TcpAddr| a.ip.is_some_and(|ip| is_ipv4(&ip));
        let kept: Vec<TcpAddr> = addrs
            .into_iter()
            .filter(|ra| wildcard(la) || wildcard(ra) || v4(la) == v4(ra))
            .collect();
        if kept.is_empty() {
            return Err(AddrError::new("no suitable address found", hint.to_string()).into());
        }
        Ok(kept)
    }

    /// Go: `Dialer.deadline`: the earliest of `now + timeout`, the context's deadline
    /// and `deadline`.
    fn deadline_from(&self, now: Instant, ctx: &Context) -> Option<Instant> {
        let by_timeout = self.timeout.and_then(|t| now.checked_add(t));
        [by_timeout, ctx.deadline(), self.deadline]
            .into_iter()
            .flatten()
            .min()
    }

    /// Go: the end of `DialContext`: on "tcp" with a fallback delay, split the addresses
    /// into primaries (the first address's family) and fallbacks, then `dialParallel`.
    fn dial_addr_list(
        &self,
        ctx: &Context,
        network: &str,
        addrs: Vec<TcpAddr>,
        deadline: Option<Instant>,
    ) -> io::Result<Conn> {
        match self.fallback_delay {
            Some(delay) if network == "tcp" => {
                let (primaries, fallbacks) = partition_by_family(addrs);
                self.dial_parallel(ctx, network, primaries, fallbacks, deadline, delay)
            }
            _ => self.dial_serial(ctx, network, &addrs, deadline),
        }
    }

    /// Go: `dialParallel`: the primaries in one coroutine; if they have not connected
    /// after `delay` (or failed sooner), the fallbacks in another. The first connection
    /// wins and the other racer is cancelled (each racer dials under a child of `ctx`,
    /// cancelled when this returns: its socket is closed, which wakes its parked
    /// connect); when both fail, the primaries' error is returned.
    fn dial_parallel(
        &self,
        ctx: &Context,
        network: &str,
        primaries: Vec<TcpAddr>,
        fallbacks: Vec<TcpAddr>,
        deadline: Option<Instant>,
        delay: Duration,
    ) -> io::Result<Conn> {
        if fallbacks.is_empty() {
            return self.dial_serial(ctx, network, &primaries, deadline);
        }
        let (tx, results) = may::sync::mpsc::channel::<(bool, io::Result<Conn>)>();
        // Go: primaryCtx, fallbackCtx := context.WithCancel(ctx), with `defer cancel()`.
        let (primary_ctx, cancel_primary) = crate::context::with_cancel(ctx);
        let (fallback_ctx, cancel_fallback) = crate::context::with_cancel(ctx);
        let _cancel_racers = CancelOnDrop([cancel_primary, cancel_fallback]);
        self.start_racer(&primary_ctx, network, primaries, deadline, true, tx.clone());
        // The fallback racer, until it starts; then nobody here holds a sender, and a
        // racer that ended without a word shows up as a disconnect instead of a hang.
        let mut fallback = Some((fallbacks, tx));
        let mut fallback_at = Instant::now() + delay;
        let (mut primary_err, mut fallback_err) = (None, None);
        loop {
            let waited = match fallback {
                Some(_) => crate::net::cgo_unix::recv_until(&results, Some(fallback_at)),
                None => crate::net::cgo_unix::recv_until(&results, None),
            };
            let got = match waited {
                Ok(r) => Some(r),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let Some((primary, result)) = got else {
                // The fallback timer fired.
                if let Some((addrs, tx)) = fallback.take() {
                    self.start_racer(&fallback_ctx, network, addrs, deadline, false, tx);
                }
                continue;
            };
            match result {
                // The loser is cancelled as `_cancel_racers` drops.
                Ok(conn) => return Ok(conn),
                Err(e) if primary => {
                    primary_err = Some(e);
                    // Go: the primaries failed before the timer fired; race now.
                    fallback_at = Instant::now();
                }
                Err(e) => fallback_err = Some(e),
            }
            if primary_err.is_some() && fallback_err.is_some() {
                break;
            }
        }
        Err(primary_err.or(fallback_err).unwrap_or_else(|| {
            OpError::new("dial", network, "connection attempt ended without a result").into()
        }))
    }

    /// Go: `startRacer`: dials `addrs` in a coroutine of its own and sends the outcome.
    /// A connection nobody wants any more (the other racer won) is closed when the
    /// channel drops it.
    fn start_racer(
        &self,
        ctx: &Context,
        network: &str,
        addrs: Vec<TcpAddr>,
        deadline: Option<Instant>,
        primary: bool,
        tx: may::sync::mpsc::Sender<(bool, io::Result<Conn>)>,
    ) {
        let (dialer, network, ctx) = (self.clone(), network.to_string(), ctx.clone());
        crate::go!(move || {
            let result = dialer.dial_serial(&ctx, &network, &addrs, deadline);
            let _ = tx.send((primary, result));
        });
    }

    /// Go: `dialSerial`: each address in turn, each with its share of the time left; the
    /// first error is the one reported, unless `ctx` ends, which stops at once with
    /// `mapErr(ctx.Err())` for the next address.
    fn dial_serial(
        &self,
        ctx: &Context,
        network: &str,
        addrs: &[TcpAddr],
        deadline: Option<Instant>,
    ) -> io::Result<Conn> {
        let mut first_err = None;
        for (i, ra) in addrs.iter().enumerate() {
            if let Some(why) = ctx.ended() {
                return Err(self.addr_error(network, ra, map_err(why)));
            }
            let part = match deadline {
                None => None,
                Some(d) => match partial_deadline(Instant::now(), d, addrs.len() - i) {
                    Some(p) => Some(p),
                    None => {
                        // Go: out of time before this address was tried.
                        first_err
                            .get_or_insert_with(|| self.addr_error(network, ra, ErrTimeout.into()));
                        break;
                    }
                },
            };
            match self.dial_tcp(ctx, network, ra, part) {
                Ok(c) => return Ok(c),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| OpError::new("dial", network, "missing address").into()))
    }

    /// The local TCP address to bind, if `local_addr` is one.
    fn local_tcp_addr(&self) -> Option<TcpAddr> {
        match &self.local_addr {
            Some(Addr::Tcp(t)) => Some(t.clone()),
            _ => None,
        }
    }

    /// Go's `&OpError{Op: "dial", Net: network, Source: LocalAddr, Addr: ra, Err: err}`.
    fn addr_error(&self, network: &str, ra: &TcpAddr, err: BoxError) -> io::Error {
        OpError::new("dial", network, err)
            .with_addrs(
                self.local_tcp_addr().map(Addr::Tcp),
                Some(Addr::Tcp(ra.clone())),
            )
            .into()
    }

    /// Go: `sysDialer.dialTCP` -> `internetSocket(.., "dial", ..)` -> `netFD.connect`.
    pub(crate) fn dial_tcp(
        &self,
        ctx: &Context,
        network: &str,
        ra: &TcpAddr,
        deadline: Option<Instant>,
    ) -> io::Result<Conn> {
        let la = self.local_tcp_addr();
        let fail = |err: BoxError| -> io::Error { self.addr_error(network, ra, err) };
        let family = match network.as_bytes().last() {
            Some(b'4') => Domain::IPV4,
            Some(b'6') => Domain::IPV6,
            _ => {
                let v4 = |a: &TcpAddr| a.ip.is_none_or(|ip| is_ipv4(&ip));
                if la.as_ref().is_none_or(v4) && v4(ra) {
                    Domain::IPV4
                } else {
                    Domain::IPV6
                }
            }
        };
        let sock =
            crate::net::sock::sys_socket(family, Type::STREAM).map_err(|e| fail(e.into()))?;
        let sys = |call: &'static str| move |e| fail(SyscallError::new(call, e).into());
        if family == Domain::IPV6 {
            sock.set_only_v6(network.ends_with('6'))
                .map_err(sys("setsockopt"))?;
        }
        self.run_control(network, family, &ra.to_string(), &sock)
            .map_err(fail)?;
        if let Some(la) = &la {
            let sa = crate::net::ipsock::ip_to_sockaddr(family, la.ip, la.port, &la.zone)
                .map_err(|e| fail(e.into()))?;
            let sa = SockAddr::from(sa);
            sock.bind(&sa).map_err(sys("bind"))?;
        }
        let fd = NetFd::new(sock, crate::net::dial::intern_network(network), false)
            .map_err(sys("epollctl"))?;
        let fd = Arc::new(fd);
        let target = crate::net::ipsock::ip_to_sockaddr(family, ra.ip, ra.port, &ra.zone)
            .map_err(|e| fail(e.into()))?;
        let target = SockAddr::from(target);
        connect(ctx, &fd, &target, deadline).map_err(fail)?;
        fd.set_addrs_from_kernel().map_err(sys("getsockname"))?;
        crate::net::sockopt::set_tcp_conn_opts(&fd, self.keep_alive)?;
        Ok(Conn::from_fd(fd))
    }

    /// Go: `sysDialer.dialUnix`.
    fn dial_unix(
        &self,
        ctx: &Context,
        network: &str,
        ra: &UnixAddr,
        deadline: Option<Instant>,
    ) -> io::Result<Conn> {
        let la = match &self.local_addr {
            Some(Addr::Unix(u)) => Some(u.clone()),
            _ => None,
        };
        let fail = |err: BoxError| -> io::Error {
            OpError::new("dial", network, err)
                .with_addrs(la.clone().map(Addr::Unix), Some(Addr::Unix(ra.clone())))
                .into()
        };
        let sys = |call: &'static str| move |e| fail(SyscallError::new(call, e).into());
        // Go: dialSerial's look at the context before the one address.
        if let Some(why) = ctx.ended() {
            return Err(fail(map_err(why)));
        }
        let sotype = crate::net::unixsock::unix_sotype(network);
        let sock =
            crate::net::sock::sys_socket(Domain::UNIX, sotype).map_err(|e| fail(e.into()))?;
        self.run_control(network, Domain::UNIX, &ra.name, &sock)
            .map_err(fail)?;
        if let Some(la) = &la {
            let sa = crate::net::unixsock::unix_sockaddr(&la.name).map_err(sys("bind"))?;
            sock.bind(&sa).map_err(sys("bind"))?;
        }
        let target = crate::net::unixsock::unix_sockaddr(&ra.name).map_err(sys("connect"))?;
        let fd = NetFd::new(sock, crate::net::dial::intern_network(network), false)
            .map_err(sys("epollctl"))?;
        let fd = Arc::new(fd);
        connect(ctx, &fd, &target, deadline).map_err(fail)?;
        fd.set_addrs_from_kernel().map_err(sys("getsockname"))?;
        Ok(Conn::from_fd(fd))
    }

    fn run_control(
        &self,
        network: &str,
        family: Domain,
        address: &str,
        sock: &socket2::Socket,
    ) -> Result<(), BoxError> {
        let Some(control) = &self.control else {
            return Ok(());
        };
        use std::os::fd::AsFd;
        control(
            &crate::net::sock::ctrl_network(network, family),
            address,
            sock.as_fd(),
        )
    }
}

/// Cancels the racers' contexts when [`Dialer::dial_parallel`] returns (Go's `defer
/// primaryCancel()` and `defer fallbackCancel()`).
struct CancelOnDrop([crate::context::CancelFunc; 2]);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        for cancel in &self.0 {
            cancel();
        }
    }
}

/// Go: `addrList.partition(isIPv4)`: the addresses of the first address's family, in
/// order, and the others, in order.
fn partition_by_family(addrs: Vec<TcpAddr>) -> (Vec<TcpAddr>, Vec<TcpAddr>) {
    let v4 = |a: &TcpAddr| a.ip.is_some_and(|ip| is_ipv4(&ip));
    let first = addrs.first().map(v4);
    addrs.into_iter().partition(|a| Some(v4(a)) == first)
}

/// Connects, turning the descriptor's failure into the cause Go reports, and gives up
/// when `ctx` ends.
///
/// Go: `netFD.connect`'s interrupter goroutine, which wakes the parked connect when the
/// context is done, and reports `mapErr(ctx.Err())` (also when the connect won the race:
/// the socket is closed then). Here [`after_func`](crate::context::after_func) closes the
/// socket, which wakes the connect at once; a context that cannot be cancelled costs
/// nothing. A passed deadline is Go's `errTimeout` ([`ErrTimeout`]), as for a context.
fn connect(
    ctx: &Context,
    fd: &Arc<NetFd>,
    target: &SockAddr,
    deadline: Option<Instant>,
) -> Result<(), BoxError> {
    let cause = |f: Fail| match f {
        Fail::Timeout => ErrTimeout.into(),
        f => f.into_cause(),
    };
    if !ctx.can_cancel() {
        return fd.connect(target, deadline).map_err(cause);
    }
    let watched = fd.clone();
    let stop = crate::context::after_func(ctx, move || {
        let _ = watched.close();
    });
    let r = fd.connect(target, deadline).map_err(cause);
    stop();
    if let Some(why) = ctx.ended() {
        // The caller drops `fd` with the error: the descriptor goes with it (or, if the
        // after_func is closing it right now, with that coroutine's copy).
        let _ = fd.close();
        return Err(map_err(why));
    }
    r
}

/// Go: `partialDeadline`: a fair share of the time left for each remaining address, but
/// never less than 2 s unless less than that is left; `None` when no time is left.
fn partial_deadline(now: Instant, deadline: Instant, addrs_remaining: usize) -> Option<Instant> {
    const SANE_MINIMUM: Duration = Duration::from_secs(2);
    let left = deadline.saturating_duration_since(now);
    if left.is_zero() {
        return None;
    }
    let share = left / u32::try_from(addrs_remaining.max(1)).unwrap_or(u32::MAX);
    if share < SANE_MINIMUM {
        if left < SANE_MINIMUM {
            return Some(deadline);
        }
        return Some(now + SANE_MINIMUM);
    }
    Some(now + share)
}

/// Connects to `address` on `network` with Go's defaults.
///
/// Go: `net.Dial(network, address)`. Only the calling coroutine waits, for the name
/// lookup (on a resolver thread) and the connect (in the netpoller); see [`Dialer::dial`]
/// for how several addresses are tried. Errors are Go's, e.g.
/// `dial tcp 127.0.0.1:1: connect: connection refused`.
///
/// ```
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// assert_eq!(conn.remote_addr(), ln.addr());
///
/// let err = gonet::dial("tcp", "127.0.0.1:1").unwrap_err();
/// assert_eq!(err.to_string(), "dial tcp 127.0.0.1:1: connect: connection refused");
/// ```
pub fn dial(network: &str, address: &str) -> io::Result<Conn> {
    Dialer::default().dial(network, address)
}

/// Like [`dial`], giving up with "i/o timeout" after `timeout`, name lookup included.
///
/// Go: `net.DialTimeout(network, address, timeout)`. The attempt in progress is
/// abandoned and its socket closed: `dial tcp 10.0.0.1:80: i/o timeout`, or
/// `dial tcp: lookup NAME: i/o timeout` while still resolving.
///
/// ```
/// use std::time::Duration;
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let conn = gonet::dial_timeout("tcp", &ln.addr().to_string(), Duration::from_secs(1)).unwrap();
/// assert_eq!(conn.remote_addr(), ln.addr());
///
/// let err = gonet::dial_timeout("tcp", &ln.addr().to_string(), Duration::ZERO).unwrap_err();
/// assert!(gonet::is_timeout(&err));
/// ```
pub fn dial_timeout(network: &str, address: &str, timeout: Duration) -> io::Result<Conn> {
    Dialer {
        timeout: Some(timeout),
        ..Dialer::default()
    }
    .dial(network, address)
}

/// Go: `parseNetwork`: the address family part of `network` and, for "ip:proto", the
/// protocol number. Names are case-sensitive, as in Go.
pub(crate) fn parse_network(network: &str) -> Result<(&str, i32), BoxError> {
    let Some(i) = network.rfind(':') else {
        return match network {
            "tcp" | "tcp4" | "tcp6" | "udp" | "udp4" | "udp6" | "unix" | "unixgram"
            | "unixpacket" => Ok((network, 0)),
            // Go: an "ip" network needs a protocol ("ip4:icmp").
            _ => Err(UnknownNetworkError(network.to_string()).into()),
        };
    };
    let afnet = &network[..i];
    match afnet {
        "ip" | "ip4" | "ip6" => {
            let proto = &network[i + 1..];
            let num = match proto.parse::<i32>() {
                Ok(n) => n,
                Err(_) => lookup_protocol(proto)?,
            };
            Ok((afnet, num))
        }
        _ => Err(UnknownNetworkError(network.to_string()).into()),
    }
}

/// Go: `lookupProtocol`: /etc/protocols, else Go's built-in table.
fn lookup_protocol(name: &str) -> Result<i32, BoxError> {
    let lower = name.to_ascii_lowercase();
    let from_file = std::fs::read_to_string("/etc/protocols")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut f = line.split('#').next()?.split_whitespace();
                let (n, num) = (f.next()?, f.next()?.parse::<i32>().ok()?);
                let names: Vec<&str> = std::iter::once(n).chain(f).collect();
                names
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&lower))
                    .then_some(num)
            })
        });
    let builtin = || match lower.as_str() {
        "icmp" => Some(1),
        "igmp" => Some(2),
        "tcp" => Some(6),
        "udp" => Some(17),
        "ipv6-icmp" => Some(58),
        _ => None,
    };
    from_file
        .or_else(builtin)
        .ok_or_else(|| AddrError::new("unknown IP protocol specified", name).into())
}

/// The address of an "ip" network: a host, no port.
pub(crate) fn ip_addr(address: &str) -> Result<TcpAddr, BoxError> {
    if address.is_empty() {
        return Ok(TcpAddr::default());
    }
    let (ip, zone) = match parse_ip_zone(address) {
        Some(ipz) => ipz,
        None => {
            let ips = crate::net::lookup::lookup_ip_until(address, None)?;
            let ip = ips.iter().copied().find(is_ipv4).or(ips.first().copied());
            (
                ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
                String::new(),
            )
        }
    };
    Ok(TcpAddr {
        ip: Some(ip),
        port: 0,
        zone,
    })
}

/// Go: `addrList.first(isIPv4)`: the first IPv4 address, else the first address.
pub(crate) fn first_ipv4(addrs: Vec<TcpAddr>) -> TcpAddr {
    let pos = addrs
        .iter()
        .position(|a| a.ip.is_some_and(|ip| is_ipv4(&ip)))
        .unwrap_or(0);
    addrs.into_iter().nth(pos).unwrap_or_default()
}

/// The network name as a `&'static str` for errors (Go's `netFD.net`).
pub(crate) fn intern_network(network: &str) -> &'static str {
    match network {
        "tcp4" => "tcp4",
        "tcp6" => "tcp6",
        "unix" => "unix",
        "unixpacket" => "unixpacket",
        "unixgram" => "unixgram",
        "udp" => "udp",
        "udp4" => "udp4",
        "udp6" => "udp6",
        _ => "tcp",
    }
}
