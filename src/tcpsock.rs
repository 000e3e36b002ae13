//! TCP listeners and connections.
//!
//! Go: `src/net/tcpsock.go` (`TCPListener`, `TCPConn`, `ListenTCP`) and
//! `tcpsock_posix.go` (`sysListener.listenTCP`).

use std::io;
use std::ops::Deref;
use std::sync::atomic::AtomicBool;

use socket2::Type;

use crate::dial::{intern_network, ListenConfig};
use crate::error::OpError;
use crate::fd::NetFd;
use crate::ipsock::{favorite_addr_family, to_sockaddr};
use crate::net::{Addr, Conn, Listener, TcpAddr};
use crate::sock::{socket, SocketError, SocketSpec};

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
#[derive(Debug, Clone)]
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
        if conn.fd.is_tcp() {
            Ok(TcpConn(conn))
        } else {
            Err(conn)
        }
    }
}

crate::net::conn_io!(TcpConn, |c| c.0);

/// Go: `sysListener.listenTCP`: a listening socket for `laddr`, registered with the
/// netpoller, its address read back from the kernel.
pub(crate) fn listen_tcp(
    lc: &ListenConfig,
    network: &str,
    laddr: &TcpAddr,
) -> io::Result<Listener> {
    let fail = |err: crate::error::BoxError| -> io::Error {
        OpError::new("listen", network, err)
            .with_addrs(None, Some(Addr::Tcp(laddr.clone())))
            .into()
    };
    let sock = internet_socket(lc, network, laddr).map_err(|e| match e {
        SocketError::Sys(s) => fail(s.into()),
        SocketError::Control(c) => fail(c),
    })?;
    let fd = NetFd::new(sock, intern_network(network), true)
        .map_err(|e| fail(crate::error::SyscallError::new("epollctl", e).into()))?;
    fd.set_addrs_from_kernel()
        .map_err(|e| fail(crate::error::SyscallError::new("getsockname", e).into()))?;
    Ok(Listener {
        fd,
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
    let sa = socket2::SockAddr::from(to_sockaddr(family, laddr));
    let ctrl_network = crate::sock::ctrl_network(network, family);
    socket(&SocketSpec {
        ctrl_network: &ctrl_network,
        ctrl_address: &laddr.to_string(),
        family,
        sotype: Type::STREAM,
        ipv6only: (family == socket2::Domain::IPV6).then_some(ipv6only),
        reuse_addr: true,
        accepted: Some(crate::sockopt::AcceptedTcpOpts {
            keep_alive: lc.keep_alive,
        }),
        laddr: &sa,
        control: lc.control.as_ref(),
    })
}
