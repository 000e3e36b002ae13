//! TCP listeners and connections, and Go's typed calls `ResolveTCPAddr`, `ListenTCP`
//! and `DialTCP`.
//!
//! Go: `src/net/tcpsock.go` (`TCPListener`, `TCPConn`, `ResolveTCPAddr`, `ListenTCP`,
//! `DialTCP`) and `tcpsock_posix.go` (`sysListener.listenTCP`, `sysDialer.dialTCP`).

use std::io;
use std::ops::Deref;
use std::sync::atomic::AtomicBool;

use socket2::Type;

use crate::net::dial::{Dialer, ListenConfig, intern_network};
use crate::net::error::{OpError, UnknownNetworkError};
use crate::net::fd::NetFd;
use crate::net::ipsock::{
    favorite_addr_family, for_resolve, internet_addr_list, ip_to_sockaddr, resolve_error,
};
use crate::net::sock::{SocketError, SocketSpec, socket};
use crate::net::{Addr, Conn, Listener, TcpAddr};

/// A TCP listener. Derefs to [`Listener`]; [`accept_tcp`](TcpListener::accept_tcp)
/// returns the concrete [`TcpConn`].
///
/// Go: `*net.TCPListener`.
///
/// ```
/// let ln = gonet::TcpListener::listen("tcp", "127.0.0.1:0").unwrap();
/// let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let conn: gonet::TcpConn = ln.accept_tcp().unwrap();
/// assert_eq!(conn.local_addr(), ln.addr());
/// ```
#[derive(Debug)]
pub struct TcpListener(Listener);

impl TcpListener {
    /// Listens on a TCP network ("tcp", "tcp4", "tcp6") with Go's defaults.
    ///
    /// Go: `net.ListenTCP` (which takes a resolved `*TCPAddr`; this takes the string, like
    /// `net.Listen`, and fails for non-TCP networks).
    ///
    /// ```
    /// let ln = gonet::TcpListener::listen("tcp4", ":0").unwrap();
    /// assert!(ln.addr().to_string().starts_with("0.0.0.0:"));
    /// assert!(gonet::TcpListener::listen("unix", "/tmp/x.sock").is_err());
    /// ```
    pub fn listen(network: &str, address: &str) -> io::Result<TcpListener> {
        ListenConfig::default().listen(network, address)?.try_into()
    }

    /// Accepts the next connection as a [`TcpConn`]. Go: `TCPListener.AcceptTCP`.
    ///
    /// ```
    /// let ln = gonet::TcpListener::listen("tcp", "127.0.0.1:0").unwrap();
    /// let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// assert!(ln.accept_tcp().is_ok());
    /// ```
    pub fn accept_tcp(&self) -> io::Result<TcpConn> {
        self.0.accept().map(TcpConn)
    }

    /// The general [`Listener`]. Go: assigning a `*TCPListener` to a `net.Listener`.
    ///
    /// ```
    /// let ln = gonet::TcpListener::listen("tcp", "127.0.0.1:0").unwrap();
    /// let general: gonet::Listener = ln.into_listener();
    /// ```
    pub fn into_listener(self) -> Listener {
        self.0
    }
}

impl Deref for TcpListener {
    type Target = Listener;
    fn deref(&self) -> &Listener {
        &self.0
    }
}

impl TryFrom<Listener> for TcpListener {
    type Error = io::Error;

    /// Go: the type assertion `ln.(*net.TCPListener)`.
    fn try_from(ln: Listener) -> io::Result<TcpListener> {
        if ln.fd.is_tcp() {
            Ok(TcpListener(ln))
        } else {
            let e = OpError::new("listen", ln.fd.net(), "not a TCP listener");
            Err(e.with_addrs(None, Some(ln.addr())).into())
        }
    }
}

/// A TCP connection. Derefs to [`Conn`]; reads and writes as `Conn` does.
///
/// Go: `*net.TCPConn`. Accepted and dialed conns have TCP_NODELAY on and keep-alive
/// probes every 15 s, as in Go.
///
/// ```
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let tcp = gonet::TcpConn::try_from(client).unwrap();
/// tcp.close_write().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcpConn(pub(crate) Conn);

impl TcpConn {
    /// The general [`Conn`]. Go: assigning a `*TCPConn` to a `net.Conn`.
    ///
    /// ```
    /// let ln = gonet::TcpListener::listen("tcp", "127.0.0.1:0").unwrap();
    /// let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let conn: gonet::Conn = ln.accept_tcp().unwrap().into_conn();
    /// ```
    pub fn into_conn(self) -> Conn {
        self.0
    }
}

impl Deref for TcpConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl TryFrom<Conn> for TcpConn {
    type Error = Conn;

    /// Go: the type assertion `conn.(*net.TCPConn)`; gives the `Conn` back if it is not TCP.
    fn try_from(conn: Conn) -> Result<TcpConn, Conn> {
        if conn.sock().is_some_and(|fd| fd.is_tcp()) {
            Ok(TcpConn(conn))
        } else {
            Err(conn)
        }
    }
}

crate::net::net::conn_io!(TcpConn, |c| c.0);

/// Resolves `address` ("host:port") on a TCP network to one [`TcpAddr`].
///
/// Go: `net.ResolveTCPAddr(network, address)`: networks "tcp", "tcp4", "tcp6" ("" means
/// "tcp"); host names resolve through /etc/hosts, then DNS; of several addresses the
/// first IPv4 one wins, or the first IPv6 one when the address was written in brackets.
/// Errors are Go's bare causes (no `OpError` around them): `address 99999: invalid
/// port`, `unknown network udp`, `lookup nosuch.invalid on 10.0.0.53:53: no such host`.
///
/// ```
/// let a = gonet::net::resolve_tcp_addr("tcp", "localhost:http").unwrap();
/// assert_eq!(a.to_string(), "127.0.0.1:80");
/// let err = gonet::net::resolve_tcp_addr("udp", "localhost:80").unwrap_err();
/// assert_eq!(err.to_string(), "unknown network udp");
/// ```
pub fn resolve_tcp_addr(network: &str, address: &str) -> io::Result<TcpAddr> {
    let network = match network {
        "tcp" | "tcp4" | "tcp6" => network,
        "" => "tcp",
        _ => return Err(resolve_error(UnknownNetworkError(network.into()).into())),
    };
    let addrs = internet_addr_list(network, address, None).map_err(resolve_error)?;
    Ok(for_resolve(network, address, addrs))
}

/// Listens on `laddr` (`None`: every address, a port the kernel picks).
///
/// Go: `net.ListenTCP(network, laddr)`: networks "tcp", "tcp4", "tcp6", the listener of
/// [`listen`](crate::listen) (dual-stack wildcard, SO_REUSEADDR, somaxconn backlog,
/// accepted conns with TCP_NODELAY and 15 s keep-alive). Errors are Go's:
/// `listen tcp4 [::1]:0: address ::1: non-IPv4 address`.
///
/// ```
/// let ln = gonet::net::listen_tcp("tcp", None).unwrap();
/// assert!(ln.addr().to_string().starts_with("[::]:"));
/// let laddr = gonet::net::resolve_tcp_addr("tcp", "127.0.0.1:0").unwrap();
/// let ln = gonet::net::listen_tcp("tcp4", Some(&laddr)).unwrap();
/// assert!(ln.addr().to_string().starts_with("127.0.0.1:"));
/// ```
pub fn listen_tcp(network: &str, laddr: Option<&TcpAddr>) -> io::Result<TcpListener> {
    if !matches!(network, "tcp" | "tcp4" | "tcp6") {
        let e = OpError::new("listen", network, UnknownNetworkError(network.into()));
        return Err(e.with_addrs(None, laddr.cloned().map(Addr::Tcp)).into());
    }
    let laddr = laddr.cloned().unwrap_or_default();
    sys_listen_tcp(&ListenConfig::default(), network, &laddr).map(TcpListener)
}

/// Connects to `raddr`, from `laddr` when one is given.
///
/// Go: `net.DialTCP(network, laddr, raddr)`: no timeout, TCP_NODELAY on, and, as in Go
/// (which sets it only through a `Dialer`), no keep-alive. Errors are Go's, with both
/// addresses: `dial tcp 127.0.0.1:5->127.0.0.1:1: connect: connection refused`.
///
/// ```
/// let ln = gonet::net::listen_tcp("tcp", None).unwrap();
/// let port = ln.addr().socket_addr().unwrap().port();
/// let raddr = gonet::net::resolve_tcp_addr("tcp", &format!("127.0.0.1:{port}")).unwrap();
/// let conn = gonet::net::dial_tcp("tcp", None, &raddr).unwrap();
/// assert_eq!(conn.remote_addr().to_string(), raddr.to_string());
/// ```
pub fn dial_tcp(network: &str, laddr: Option<&TcpAddr>, raddr: &TcpAddr) -> io::Result<TcpConn> {
    if !matches!(network, "tcp" | "tcp4" | "tcp6") {
        let e = OpError::new("dial", network, UnknownNetworkError(network.into()));
        let e = e.with_addrs(
            laddr.cloned().map(Addr::Tcp),
            Some(Addr::Tcp(raddr.clone())),
        );
        return Err(e.into());
    }
    crate::os::rlimit::raise_open_files_limit();
    let d = Dialer {
        local_addr: laddr.cloned().map(Addr::Tcp),
        keep_alive: None,
        ..Dialer::default()
    };
    d.dial_tcp(&crate::context::background(), network, raddr, None)
        .map(TcpConn)
}

/// Go: `sysListener.listenTCP`: a listening socket for `laddr`, registered with the
/// netpoller, its address read back from the kernel.
pub(crate) fn sys_listen_tcp(
    lc: &ListenConfig,
    network: &str,
    laddr: &TcpAddr,
) -> io::Result<Listener> {
    let fail = |err: crate::net::error::BoxError| -> io::Error {
        OpError::new("listen", network, err)
            .with_addrs(None, Some(Addr::Tcp(laddr.clone())))
            .into()
    };
    let sock = internet_socket(lc, network, laddr).map_err(|e| match e {
        SocketError::Sys(s) => fail(s.into()),
        SocketError::Control(c) => fail(c),
    })?;
    let fd = NetFd::new(sock, intern_network(network), true)
        .map_err(|e| fail(crate::net::error::SyscallError::new("epollctl", e).into()))?;
    fd.set_addrs_from_kernel()
        .map_err(|e| fail(crate::net::error::SyscallError::new("getsockname", e).into()))?;
    Ok(Listener {
        fd: std::sync::Arc::new(fd),
        proxy: None,
        unlink: None,
        unlink_on_close: AtomicBool::new(false),
    })
}

/// Go: `internetSocket` (ipsock_posix.go): pick the family, then `socket`.
fn internet_socket(
    lc: &ListenConfig,
    network: &str,
    laddr: &TcpAddr,
) -> Result<socket2::Socket, SocketError> {
    let (family, ipv6only) = favorite_addr_family(network, laddr);
    let sa = ip_to_sockaddr(family, laddr.ip, laddr.port, &laddr.zone)
        // Not the hook's error, but returned as it is, like the hook's.
        .map_err(|e| SocketError::Control(e.into()))?;
    let sa = socket2::SockAddr::from(sa);
    let ctrl_network = crate::net::sock::ctrl_network(network, family);
    socket(&SocketSpec {
        ctrl_network: &ctrl_network,
        ctrl_address: &laddr.to_string(),
        family,
        sotype: Type::STREAM,
        ipv6only: (family == socket2::Domain::IPV6).then_some(ipv6only),
        reuse_addr: true,
        accepted: Some(crate::net::sockopt::AcceptedTcpOpts {
            keep_alive: lc.keep_alive,
        }),
        laddr: &sa,
        control: lc.control.as_ref(),
    })
}
