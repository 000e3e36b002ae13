//! The entry points: `listen`, `ListenConfig`, `dial`, `Dialer`.
//!
//! Go: `src/net/dial.go`. `listen(network, address)` is `ListenConfig::default()
//! .listen(..)`, which parses the network, resolves the address and hands off to
//! `listen_tcp` or `listen_unix`; `dial` is `Dialer::default().dial(..)`.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Type};

use crate::error::{AddrError, BoxError, OpError, SyscallError, UnknownNetworkError};
use crate::fd::{Fail, NetFd};
use crate::ipsock::{internet_addr_list, is_ipv4, parse_ip_zone};
use crate::net::{Addr, Conn, Listener, TcpAddr, UnixAddr};
use crate::sockopt::DEFAULT_KEEP_ALIVE;

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
        crate::rlimit::raise_open_files_limit();
        let fail = |err: BoxError| -> io::Error { OpError::new("listen", network, err).into() };
        let (afnet, _proto) = parse_network(network).map_err(|e| fail(e.into()))?;
        match afnet {
            "tcp" | "tcp4" | "tcp6" => {
                let addrs = internet_addr_list(afnet, address).map_err(fail)?;
                let la = first_ipv4(addrs);
                crate::tcpsock::listen_tcp(self, network, &la)
            }
            "unix" | "unixpacket" | "unixgram" => {
                crate::unixsock::listen_unix(self, network, &UnixAddr::new(address, network))
            }
            _ => {
                // Go resolves UDP and IP addresses, then refuses them here.
                let la = if afnet.starts_with("udp") {
                    Addr::Udp(first_ipv4(internet_addr_list(afnet, address).map_err(fail)?))
                } else {
                    Addr::Ip(ip_addr(address).map_err(fail)?)
                };
                let e = AddrError::new("unexpected address type", address);
                Err(OpError::new("listen", network, e).with_addrs(None, Some(la)).into())
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
    /// How long to wait for the first address family before racing the other one.
    /// Go: `FallbackDelay` (zero means 300 ms, our default).
    pub fallback_delay: Duration,
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
            fallback_delay: Duration::from_millis(300),
            control: None,
        }
    }
}

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
    /// Connects to `address` on `network` ("tcp", "tcp4", "tcp6", "unix", "unixpacket").
    ///
    /// Go: `Dialer.Dial`. The coroutine parks while the connection is made. Addresses a
    /// host resolves to are tried in order, the time left split between them as Go does.
    ///
    /// ```
    /// let ln = gonet::listen("unix", "@gonet-doc-dialer").unwrap();
    /// let conn = gonet::Dialer::default().dial("unix", "@gonet-doc-dialer").unwrap();
    /// assert_eq!(conn.remote_addr().to_string(), "@gonet-doc-dialer");
    /// ```
    pub fn dial(&self, network: &str, address: &str) -> io::Result<Conn> {
        crate::rlimit::raise_open_files_limit();
        let fail = |err: BoxError| -> io::Error { OpError::new("dial", network, err).into() };
        let (afnet, _proto) = parse_network(network).map_err(|e| fail(e.into()))?;
        if address.is_empty() {
            return Err(fail("missing address".into()));
        }
        let deadline = self.deadline_from(Instant::now());
        match afnet {
            "tcp" | "tcp4" | "tcp6" => {
                let addrs = internet_addr_list(afnet, address).map_err(fail)?;
                self.dial_serial(network, &addrs, deadline)
            }
            "unix" | "unixpacket" | "unixgram" => {
                self.dial_unix(network, &UnixAddr::new(address, network), deadline)
            }
            _ => Err(fail(AddrError::new("unexpected address type", address).into())),
        }
    }

    /// Go: `Dialer.deadline`: the earlier of `now + timeout` and `deadline`.
    fn deadline_from(&self, now: Instant) -> Option<Instant> {
        let by_timeout = self.timeout.map(|t| now + t);
        match (by_timeout, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Go: `dialSerial`: each address in turn; the first error is the one reported.
    fn dial_serial(&self, network: &str, addrs: &[TcpAddr], deadline: Option<Instant>) -> io::Result<Conn> {
        let mut first_err = None;
        for (i, ra) in addrs.iter().enumerate() {
            let part = deadline.map(|d| partial_deadline(Instant::now(), d, addrs.len() - i));
            match self.dial_tcp(network, ra, part) {
                Ok(c) => return Ok(c),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| OpError::new("dial", network, "no addresses").into()))
    }

    /// Go: `sysDialer.dialTCP` -> `internetSocket(.., "dial", ..)` -> `netFD.connect`.
    fn dial_tcp(&self, network: &str, ra: &TcpAddr, deadline: Option<Instant>) -> io::Result<Conn> {
        let la = match &self.local_addr {
            Some(Addr::Tcp(t)) => Some(t.clone()),
            _ => None,
        };
        let fail = |err: BoxError| -> io::Error {
            OpError::new("dial", network, err)
                .with_addrs(la.clone().map(Addr::Tcp), Some(Addr::Tcp(ra.clone())))
                .into()
        };
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
        let sock = crate::sock::sys_socket(family, Type::STREAM).map_err(|e| fail(e.into()))?;
        let sys = |call: &'static str| move |e| fail(SyscallError::new(call, e).into());
        if family == Domain::IPV6 {
            sock.set_only_v6(network.ends_with('6')).map_err(sys("setsockopt"))?;
        }
        self.run_control(network, family, &ra.to_string(), &sock).map_err(fail)?;
        if let Some(la) = &la {
            let sa = SockAddr::from(crate::ipsock::to_sockaddr(family, la));
            sock.bind(&sa).map_err(sys("bind"))?;
        }
        let fd = NetFd::new(sock, crate::dial::intern_network(network), false).map_err(sys("epollctl"))?;
        let target = SockAddr::from(crate::ipsock::to_sockaddr(family, ra));
        connect(&fd, &target, deadline).map_err(fail)?;
        fd.set_addrs_from_kernel().map_err(sys("getsockname"))?;
        crate::sockopt::set_accepted_tcp_opts(&fd, self.keep_alive)?;
        Ok(Conn::new(fd))
    }

    /// Go: `sysDialer.dialUnix`.
    fn dial_unix(&self, network: &str, ra: &UnixAddr, deadline: Option<Instant>) -> io::Result<Conn> {
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
        let sotype = crate::unixsock::unix_sotype(network);
        let sock = crate::sock::sys_socket(Domain::UNIX, sotype).map_err(|e| fail(e.into()))?;
        self.run_control(network, Domain::UNIX, &ra.name, &sock).map_err(fail)?;
        if let Some(la) = &la {
            let sa = crate::unixsock::unix_sockaddr(&la.name).map_err(sys("bind"))?;
            sock.bind(&sa).map_err(sys("bind"))?;
        }
        let target = crate::unixsock::unix_sockaddr(&ra.name).map_err(sys("connect"))?;
        let fd = NetFd::new(sock, crate::dial::intern_network(network), false).map_err(sys("epollctl"))?;
        connect(&fd, &target, deadline).map_err(fail)?;
        fd.set_addrs_from_kernel().map_err(sys("getsockname"))?;
        Ok(Conn::new(fd))
    }

    fn run_control(&self, network: &str, family: Domain, address: &str, sock: &socket2::Socket) -> Result<(), BoxError> {
        let Some(control) = &self.control else {
            return Ok(());
        };
        use std::os::fd::AsFd;
        let ctrl_network = match network.as_bytes().last() {
            Some(b'4' | b'6') => network.to_string(),
            _ if network.starts_with("unix") => network.to_string(),
            _ if family == Domain::IPV4 => format!("{network}4"),
            _ => format!("{network}6"),
        };
        control(&ctrl_network, address, sock.as_fd())
    }
}

/// Connects, turning the descriptor's failure into the cause Go reports.
fn connect(fd: &NetFd, target: &SockAddr, deadline: Option<Instant>) -> Result<(), BoxError> {
    fd.connect(target, deadline).map_err(|f| -> BoxError {
        match f {
            Fail::Closed => crate::error::ErrClosed.into(),
            Fail::Timeout => crate::error::DeadlineExceeded.into(),
            Fail::Sys(call, e) => SyscallError::new(call, e).into(),
        }
    })
}

/// Go: `partialDeadline`: a fair share of the time left for each remaining address, but
/// never less than 2 s unless less than that is left.
fn partial_deadline(now: Instant, deadline: Instant, addrs_remaining: usize) -> Instant {
    const SANE_MINIMUM: Duration = Duration::from_secs(2);
    let left = deadline.saturating_duration_since(now);
    let share = left / u32::try_from(addrs_remaining.max(1)).unwrap_or(u32::MAX);
    if share < SANE_MINIMUM {
        if left < SANE_MINIMUM {
            return deadline;
        }
        return now + SANE_MINIMUM;
    }
    now + share
}

/// Connects to `address` on `network` with Go's defaults.
///
/// Go: `net.Dial(network, address)`. Errors are Go's, e.g.
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

/// Like [`dial`], giving up with "i/o timeout" after `timeout`.
///
/// Go: `net.DialTimeout(network, address, timeout)`.
///
/// ```
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let conn = gonet::dial_timeout("tcp", &ln.addr().to_string(), std::time::Duration::from_secs(1)).unwrap();
/// assert_eq!(conn.remote_addr(), ln.addr());
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
            "tcp" | "tcp4" | "tcp6" | "udp" | "udp4" | "udp6" | "unix" | "unixgram" | "unixpacket" => {
                Ok((network, 0))
            }
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
    let from_file = std::fs::read_to_string("/etc/protocols").ok().and_then(|text| {
        text.lines().find_map(|line| {
            let mut f = line.split('#').next()?.split_whitespace();
            let (n, num) = (f.next()?, f.next()?.parse::<i32>().ok()?);
            let names: Vec<&str> = std::iter::once(n).chain(f).collect();
            names.iter().any(|x| x.eq_ignore_ascii_case(&lower)).then_some(num)
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
fn ip_addr(address: &str) -> Result<TcpAddr, BoxError> {
    if address.is_empty() {
        return Ok(TcpAddr::default());
    }
    let (ip, zone) = match parse_ip_zone(address) {
        Some(ipz) => ipz,
        None => {
            let ips = crate::lookup::lookup_ip(address)?;
            let ip = ips.iter().copied().find(is_ipv4).or(ips.first().copied());
            (ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)), String::new())
        }
    };
    Ok(TcpAddr {
        ip: Some(ip),
        port: 0,
        zone,
    })
}

/// Go: `addrList.first(isIPv4)`: the first IPv4 address, else the first address.
fn first_ipv4(addrs: Vec<TcpAddr>) -> TcpAddr {
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
        _ => "tcp",
    }
}
