//! The public types every Go server uses: `Addr`, `Conn`, `Listener`.
//!
//! Go: `src/net/net.go` (`Conn`, `Listener`, `Addr`), with the address types of
//! `tcpsock.go` (`TCPAddr`) and `unixsock.go` (`UnixAddr`).

use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::net::UdpAddr;
use crate::net::fd::NetFd;
use crate::net::ipsock::join_host_port;
use crate::net::pipe::{self, End};

/// A network endpoint: what `addr()`, `local_addr()` and `remote_addr()` return.
///
/// Go: `net.Addr`. `Display` is Go's `Addr.String()` and [`Addr::network`] is
/// `Addr.Network()`, so `"[::]:8080"` and `"tcp"` print exactly as in Go.
///
/// ```
/// let ln = gonet::listen("tcp", ":0").unwrap();
/// let addr = ln.addr();
/// assert_eq!(addr.network(), "tcp");
/// assert!(addr.to_string().starts_with("[::]:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Addr {
    /// A TCP endpoint. Go: `*net.TCPAddr`.
    Tcp(TcpAddr),
    /// A UDP endpoint: what UDP sockets report. Go: `*net.UDPAddr`.
    Udp(UdpAddr),
    /// A bare IP (only seen in errors). Go: `*net.IPAddr`; prints without a port.
    Ip(TcpAddr),
    /// A Unix-domain socket. Go: `*net.UnixAddr`.
    Unix(UnixAddr),
    /// A file, by name: only seen in the errors of [`file_listener`](crate::net::file_listener)
    /// and [`file_conn`](crate::net::file_conn). Go: net's `fileAddr`; network "file+net".
    File(String),
    /// An end of a [`pipe`](crate::net::pipe). Go: net's `pipeAddr`; network and text
    /// "pipe".
    Pipe,
}

impl Addr {
    /// The network name: "tcp", "udp", "ip", the Unix address's own ("unix",
    /// "unixpacket", "unixgram"), "file+net" or "pipe".
    ///
    /// Go: `Addr.Network()`.
    ///
    /// ```
    /// let a = gonet::Addr::Unix(gonet::UnixAddr::new("/tmp/x.sock", "unix"));
    /// assert_eq!(a.network(), "unix");
    /// ```
    pub fn network(&self) -> &str {
        match self {
            Addr::Tcp(_) => "tcp",
            Addr::Udp(_) => "udp",
            Addr::Ip(_) => "ip",
            Addr::Unix(u) => &u.net,
            Addr::File(_) => "file+net",
            Addr::Pipe => "pipe",
        }
    }

    /// The IP endpoint as a `SocketAddr`, for TCP and UDP addresses (a missing IP reads
    /// as the IPv6 wildcard `::`).
    ///
    /// ```
    /// let ln = gonet::listen("tcp4", "127.0.0.1:0").unwrap();
    /// let sa = ln.addr().socket_addr().unwrap();
    /// assert_eq!(sa.ip(), std::net::Ipv4Addr::LOCALHOST);
    /// ```
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            Addr::Tcp(t) => Some(t.socket_addr()),
            Addr::Udp(u) => Some(u.socket_addr()),
            Addr::Ip(_) | Addr::Unix(_) | Addr::File(_) | Addr::Pipe => None,
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp(t) => t.fmt(f),
            Addr::Udp(u) => u.fmt(f),
            Addr::Ip(t) => f.write_str(&t.host()),
            Addr::Unix(u) => u.fmt(f),
            Addr::File(name) => f.write_str(name),
            Addr::Pipe => f.write_str("pipe"),
        }
    }
}

impl From<SocketAddr> for Addr {
    /// A TCP address; IPv4-mapped IPv6 addresses become plain IPv4, as Go prints them.
    fn from(sa: SocketAddr) -> Addr {
        Addr::Tcp(TcpAddr::from(sa))
    }
}

impl From<TcpAddr> for Addr {
    /// Go: a `*net.TCPAddr` used as a `net.Addr`.
    fn from(a: TcpAddr) -> Addr {
        Addr::Tcp(a)
    }
}

impl From<UdpAddr> for Addr {
    /// Go: a `*net.UDPAddr` used as a `net.Addr`.
    fn from(a: UdpAddr) -> Addr {
        Addr::Udp(a)
    }
}

impl From<UnixAddr> for Addr {
    /// Go: a `*net.UnixAddr` used as a `net.Addr`.
    fn from(a: UnixAddr) -> Addr {
        Addr::Unix(a)
    }
}

/// An IP endpoint: IP (absent for the wildcard), port and IPv6 zone.
///
/// Go: `net.TCPAddr{IP, Port, Zone}`. `Display` is Go's `TCPAddr.String()`:
/// `127.0.0.1:80`, `[::1]:80`, `[fe80::1%lo]:80`, and `:80` when the IP is absent.
///
/// ```
/// let a = gonet::TcpAddr { ip: None, port: 8080, zone: String::new() };
/// assert_eq!(a.to_string(), ":8080");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TcpAddr {
    /// The IP; `None` for a listen address given without a host (":8080").
    pub ip: Option<IpAddr>,
    /// The port.
    pub port: u16,
    /// The IPv6 zone (interface name or number), or empty.
    pub zone: String,
}

impl TcpAddr {
    /// As a `SocketAddr`; an absent IP reads as `::`, a numeric zone as the scope id.
    ///
    /// ```
    /// let a = gonet::TcpAddr { ip: None, port: 80, zone: String::new() };
    /// assert_eq!(a.socket_addr().to_string(), "[::]:80");
    /// ```
    pub fn socket_addr(&self) -> SocketAddr {
        match self.ip {
            Some(IpAddr::V4(v4)) => SocketAddr::from((v4, self.port)),
            Some(IpAddr::V6(v6)) => {
                let scope = crate::net::ipsock::zone_index(&self.zone);
                SocketAddr::V6(std::net::SocketAddrV6::new(v6, self.port, 0, scope))
            }
            None => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, self.port)),
        }
    }

    /// The host part as Go prints it: the IP (IPv4-mapped shown as IPv4) plus "%zone".
    pub(crate) fn host(&self) -> String {
        let ip = match self.ip {
            None => String::new(),
            Some(ip) => ip.to_canonical().to_string(),
        };
        if self.zone.is_empty() {
            ip
        } else {
            format!("{ip}%{}", self.zone)
        }
    }
}

impl fmt::Display for TcpAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&join_host_port(&self.host(), &self.port.to_string()))
    }
}

impl From<SocketAddr> for TcpAddr {
    fn from(sa: SocketAddr) -> TcpAddr {
        let zone = match sa {
            SocketAddr::V6(v6) if v6.scope_id() != 0 => {
                crate::net::ipsock::zone_name(v6.scope_id())
            }
            _ => String::new(),
        };
        TcpAddr {
            ip: Some(sa.ip().to_canonical()),
            port: sa.port(),
            zone,
        }
    }
}

/// A Unix-domain socket address: a path, an abstract name written `@name`, or empty.
///
/// Go: `net.UnixAddr{Name, Net}`. `Display` prints the name.
///
/// ```
/// let a = gonet::UnixAddr::new("@gonet-doc", "unix");
/// assert_eq!(a.to_string(), "@gonet-doc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnixAddr {
    /// The path, or `@name` for Linux's abstract namespace.
    pub name: String,
    /// "unix", "unixpacket" or "unixgram".
    pub net: String,
}

impl UnixAddr {
    /// A Unix address `name` on network `net`.
    ///
    /// Go: `&net.UnixAddr{Name: name, Net: net}`.
    ///
    /// ```
    /// assert_eq!(gonet::UnixAddr::new("/run/app.sock", "unix").name, "/run/app.sock");
    /// ```
    pub fn new(name: impl Into<String>, net: impl Into<String>) -> UnixAddr {
        UnixAddr {
            name: name.into(),
            net: net.into(),
        }
    }
}

impl fmt::Display for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A connection: TCP, Unix, connected UDP, or an end of an in-memory
/// [`pipe`](crate::net::pipe).
///
/// Go: `net.Conn`. Reads and writes park the calling coroutine in may's netpoller, so a
/// handler is plain blocking code. Methods take `&self`, as in Go: one coroutine may read
/// while another writes, and `close()` from anywhere wakes both with
/// "use of closed network connection". `write` writes the whole buffer (or fails), as
/// Go's `Write` does. The descriptor is released by `close()` (or when the last handle
/// is dropped), whatever clones are still held, as in Go.
///
/// `Conn` implements `Read` and `Write`, and so does `&Conn`.
///
/// ```
/// use std::io::{Read, Write};
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let mut client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let server = ln.accept().unwrap();
/// client.write_all(b"ping").unwrap();
/// let mut buf = [0u8; 4];
/// server.read_full(&mut buf).unwrap();
/// assert_eq!(&buf, b"ping");
/// ```
#[derive(Clone)]
pub struct Conn {
    imp: Imp,
}

/// What a `Conn` is: a socket (nearly always), or an end of a [`pipe`](crate::net::pipe).
/// An enum rather than a trait object: a socket call costs one predictable branch, and
/// a `Conn` stays one pointer plus a tag.
#[derive(Clone)]
enum Imp {
    Sock(Arc<NetFd>),
    Pipe(Arc<End>),
    /// A socket that came with a PROXY protocol header (net/proxyproto): the socket's
    /// calls, the header's addresses.
    Proxied(Arc<crate::net::proxyproto::Proxied>),
}

/// Runs `$sock` on a socket conn's `NetFd` (a proxied conn's too), `$pipe` on a pipe end.
macro_rules! on {
    ($conn:expr, |$fd:ident| $sock:expr, |$end:ident| $pipe:expr) => {
        match &$conn.imp {
            Imp::Sock($fd) => $sock,
            Imp::Proxied(p) => {
                let $fd = &p.fd;
                $sock
            }
            Imp::Pipe($end) => $pipe,
        }
    };
}

impl Conn {
    pub(crate) fn new(fd: NetFd) -> Conn {
        Conn::from_fd(Arc::new(fd))
    }

    pub(crate) fn from_fd(fd: Arc<NetFd>) -> Conn {
        Conn { imp: Imp::Sock(fd) }
    }

    pub(crate) fn from_pipe(end: Arc<End>) -> Conn {
        Conn {
            imp: Imp::Pipe(end),
        }
    }

    pub(crate) fn from_proxied(p: Arc<crate::net::proxyproto::Proxied>) -> Conn {
        Conn {
            imp: Imp::Proxied(p),
        }
    }

    /// The PROXY protocol state of a conn a proxyproto listener made.
    pub(crate) fn proxied(&self) -> Option<&Arc<crate::net::proxyproto::Proxied>> {
        match &self.imp {
            Imp::Proxied(p) => Some(p),
            _ => None,
        }
    }

    /// The socket, or `None` for a pipe.
    pub(crate) fn sock(&self) -> Option<&Arc<NetFd>> {
        match &self.imp {
            Imp::Sock(fd) => Some(fd),
            Imp::Proxied(p) => Some(&p.fd),
            Imp::Pipe(_) => None,
        }
    }

    /// The socket of a conn that is known to be one: the socket types ([`TcpConn`],
    /// [`UnixConn`](crate::net::UnixConn), [`UdpConn`](crate::net::UdpConn)) are only
    /// ever made from socket conns (their constructors and `TryFrom`s check).
    pub(crate) fn fd(&self) -> &Arc<NetFd> {
        match &self.imp {
            Imp::Sock(fd) => fd,
            Imp::Proxied(p) => &p.fd,
            Imp::Pipe(_) => unreachable!("a socket type holds a pipe"),
        }
    }

    /// Reads into `buf`, parking the coroutine until data arrives; `Ok(0)` is end of
    /// stream (Go's `io.EOF`).
    ///
    /// Go: `conn.Read(b)`. A passed read deadline fails it with "i/o timeout"; `close()`
    /// fails it with "use of closed network connection".
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let server = ln.accept().unwrap();
    /// client.write(b"hi").unwrap();
    /// let mut buf = [0u8; 16];
    /// let n = server.read(&mut buf).unwrap();
    /// assert_eq!(&buf[..n], b"hi");
    /// ```
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        on!(self, |fd| fd.read(buf), |p| p.read(buf))
    }

    /// Reads what is there now, without waiting: data, `Ok(0)` at end of stream, or an
    /// error of kind `WouldBlock` when nothing has arrived yet. Closed and deadline
    /// errors are as for [`read`](Conn::read).
    ///
    /// Go has no equivalent (its `Read` always waits); with [`readable`](Conn::readable)
    /// it lets a handler hold no buffer while its connection is idle.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let server = ln.accept().unwrap();
    /// let mut buf = [0u8; 8];
    /// let err = server.try_read(&mut buf).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    /// client.write(b"now").unwrap();
    /// server.readable().unwrap();
    /// assert_eq!(server.try_read(&mut buf).unwrap(), 3);
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        on!(self, |fd| fd.try_read(buf), |p| p.try_read(buf))
    }

    /// Parks until the connection may be readable (data, end of stream or an error is
    /// likely waiting), holding no buffer meanwhile; the deadline and `close()` end the
    /// wait with their usual errors. It can return when nothing is readable after all:
    /// follow it with [`try_read`](Conn::try_read) and wait again on `WouldBlock`.
    ///
    /// Go has no equivalent: Go's netpoller does this wait inside `Read`. An idle
    /// connection waiting here costs one stack page instead of its read buffer too:
    /// the echo example uses it to hold less memory per idle connection than Go.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let server = ln.accept().unwrap();
    /// client.write(b"x").unwrap();
    /// server.readable().unwrap();
    /// let mut buf = vec![0u8; 4096]; // allocated only once there is something to read
    /// assert_eq!(server.try_read(&mut buf).unwrap(), 1);
    /// ```
    pub fn readable(&self) -> io::Result<()> {
        on!(self, |fd| fd.readable(), |p| p.readable())
    }

    /// [`try_read`](Conn::try_read) into several buffers, filled in order. On a pipe it
    /// fills the first buffer only.
    pub(crate) fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        match &self.imp {
            Imp::Sock(fd) => fd.try_read_vectored(bufs),
            Imp::Proxied(p) => p.fd.try_read_vectored(bufs),
            Imp::Pipe(p) => match bufs.first_mut() {
                Some(b) => p.try_read(b),
                None => Ok(0),
            },
        }
    }

    /// One write attempt that does not wait: the bytes taken (from the front of `bufs`),
    /// or an error of kind `WouldBlock` when the socket's buffer is full. A pipe
    /// ([`pipe`](crate::net::pipe)) hands bytes over only to a reader that takes them,
    /// so there this fails with `Unsupported` and the caller writes as usual.
    pub(crate) fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match &self.imp {
            Imp::Sock(fd) => fd.try_write_vectored(bufs),
            Imp::Proxied(p) => p.fd.try_write_vectored(bufs),
            Imp::Pipe(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }

    /// Parks until the socket may take more bytes (after a `WouldBlock` from
    /// [`try_write_vectored`](Conn::try_write_vectored)); the write deadline and
    /// `close()` end the wait with their usual errors.
    pub(crate) fn writable(&self) -> io::Result<()> {
        match &self.imp {
            Imp::Sock(fd) => fd.writable(),
            Imp::Proxied(p) => p.fd.writable(),
            Imp::Pipe(_) => Ok(()),
        }
    }

    /// Reads exactly `buf.len()` bytes. Go: `io.ReadFull(conn, buf)`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let server = ln.accept().unwrap();
    /// client.write(b"hello").unwrap();
    /// let mut buf = [0u8; 5];
    /// server.read_full(&mut buf).unwrap();
    /// assert_eq!(&buf, b"hello");
    /// ```
    pub fn read_full(&self, buf: &mut [u8]) -> io::Result<()> {
        (&mut &*self).read_exact(buf)
    }

    /// Writes all of `buf`, parking while the socket's send buffer is full; returns
    /// `buf.len()`, or the error that stopped it (after a partial write, the count
    /// written so far; the next call reports the error).
    ///
    /// Go: `conn.Write(b)`. Concurrent writers do not interleave their buffers.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// assert_eq!(client.write(b"abc").unwrap(), 3);
    /// ```
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        on!(self, |fd| fd.write(buf), |p| p.write(buf))
    }

    /// Writes from several buffers in one system call (a pipe takes the first non-empty
    /// one), returning how many bytes went; `Write::write_vectored`.
    pub(crate) fn write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> io::Result<usize> {
        on!(self, |fd| fd.write_vectored(bufs), |p| {
            let first = bufs.iter().find(|b| !b.is_empty());
            p.write(first.map_or(&[][..], |b| &b[..]))
        })
    }

    /// Closes the connection: every blocked and later `read`/`write` on it fails with
    /// "use of closed network connection", and once the calls in flight have returned
    /// the descriptor is closed (the peer sees end of stream). A second `close` fails
    /// the same way.
    ///
    /// Go: `conn.Close()` (`poll.FD.Close`): it returns when the descriptor is released,
    /// even while clones of this `Conn` are still held (by a coroutine that leaked, say);
    /// their calls fail as above. Dropping the last handle also closes. A duplicate made
    /// by `file()` keeps the socket itself open, as in Go.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.close().unwrap();
    /// assert!(gonet::is_closed(&conn.write(b"x").unwrap_err()));
    /// ```
    pub fn close(&self) -> io::Result<()> {
        on!(self, |fd| fd.close(), |p| p.close())
    }

    /// Shuts down the reading side. Go: `TCPConn.CloseRead` / `UnixConn.CloseRead`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.close_read().unwrap();
    /// assert_eq!(conn.read(&mut [0u8; 4]).unwrap(), 0);
    /// ```
    pub fn close_read(&self) -> io::Result<()> {
        on!(self, |fd| fd.shutdown(std::net::Shutdown::Read), |_p| Err(
            pipe::unsupported("close")
        ))
    }

    /// Shuts down the writing side: the peer reads end of stream, and can still send.
    /// Go: `TCPConn.CloseWrite` / `UnixConn.CloseWrite` (a proxy's half-close).
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let server = ln.accept().unwrap();
    /// client.close_write().unwrap();
    /// assert_eq!(server.read(&mut [0u8; 4]).unwrap(), 0);
    /// server.write(b"still open").unwrap();
    /// ```
    pub fn close_write(&self) -> io::Result<()> {
        on!(self, |fd| fd.shutdown(std::net::Shutdown::Write), |_p| Err(
            pipe::unsupported("close")
        ))
    }

    /// The local address. Go: `conn.LocalAddr()`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp4", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// assert_eq!(conn.local_addr().socket_addr().unwrap().ip().to_string(), "127.0.0.1");
    /// ```
    pub fn local_addr(&self) -> Addr {
        if let Imp::Proxied(p) = &self.imp {
            return p.local.clone();
        }
        on!(self, |fd| fd.local_addr(), |_p| Addr::Pipe)
    }

    /// The remote address. Go: `conn.RemoteAddr()`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp4", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// assert_eq!(conn.remote_addr(), ln.addr());
    /// ```
    pub fn remote_addr(&self) -> Addr {
        if let Imp::Proxied(p) = &self.imp {
            return p.remote.clone();
        }
        on!(self, |fd| fd.remote_addr(), |_p| Addr::Pipe)
    }

    /// Sets the read and write deadlines: an absolute instant after which blocked and
    /// future calls fail with "i/o timeout" (`ErrorKind::TimedOut`); `None` clears them.
    /// A call already parked sees the new deadline at once.
    ///
    /// Go: `conn.SetDeadline(t)`; `None` is Go's zero `time.Time`.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_deadline(Some(Instant::now() + Duration::from_millis(20))).unwrap();
    /// let err = conn.read(&mut [0u8; 1]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// ```
    pub fn set_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        on!(self, |fd| fd.set_deadline(t, true, true), |p| p
            .set_deadline(t, true, true))
    }

    /// Sets the read deadline only. Go: `conn.SetReadDeadline(t)`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_read_deadline(Some(std::time::Instant::now())).unwrap();
    /// assert!(gonet::is_timeout(&conn.read(&mut [0u8; 1]).unwrap_err()));
    /// ```
    pub fn set_read_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        on!(self, |fd| fd.set_deadline(t, true, false), |p| p
            .set_deadline(t, true, false))
    }

    /// Sets the write deadline only. Go: `conn.SetWriteDeadline(t)`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_write_deadline(Some(std::time::Instant::now())).unwrap();
    /// assert!(gonet::is_timeout(&conn.write(b"x").unwrap_err()));
    /// ```
    pub fn set_write_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        on!(self, |fd| fd.set_deadline(t, false, true), |p| p
            .set_deadline(t, false, true))
    }

    /// Another handle to the same connection (no new descriptor): reads on one and writes
    /// on the other may run in different coroutines; `close()` on either closes both.
    ///
    /// Go has no equivalent (a `net.Conn` is already shared by copying it).
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let writer = conn.try_clone().unwrap();
    /// assert_eq!(writer.local_addr(), conn.local_addr());
    /// ```
    pub fn try_clone(&self) -> io::Result<Conn> {
        Ok(self.clone())
    }

    /// Turns Nagle's algorithm off (`true`, Go's default for every TCP conn) or on.
    ///
    /// Go: `TCPConn.SetNoDelay`. Fails on Unix connections.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_nodelay(false).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        on!(self, |fd| fd.set_nodelay(nodelay), |_p| Err(
            pipe::unsupported("set")
        ))
    }

    /// Turns TCP keep-alive probes on or off.
    ///
    /// Go: `TCPConn.SetKeepAlive`. Fails on Unix connections.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_keep_alive(false).unwrap();
    /// ```
    pub fn set_keep_alive(&self, keep_alive: bool) -> io::Result<()> {
        on!(self, |fd| fd.set_keep_alive(keep_alive), |_p| Err(
            pipe::unsupported("set")
        ))
    }

    /// Sets the keep-alive idle time and probe interval (Go sets both to the period).
    ///
    /// Go: `TCPConn.SetKeepAlivePeriod`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_keep_alive_period(std::time::Duration::from_secs(30)).unwrap();
    /// ```
    pub fn set_keep_alive_period(&self, period: Duration) -> io::Result<()> {
        on!(self, |fd| fd.set_keep_alive_period(period), |_p| Err(
            pipe::unsupported("set")
        ))
    }

    /// Sets `SO_LINGER`: `Some(Duration::ZERO)` makes close send a reset (RST) and drop
    /// unsent data; `None` restores the default (graceful close in the background).
    ///
    /// Go: `TCPConn.SetLinger(sec)` (negative = `None`).
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// conn.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        on!(self, |fd| fd.set_linger(linger), |_p| Err(
            pipe::unsupported("set")
        ))
    }
}

/// Two `Conn`s are equal when they are handles of the same connection (clones of one
/// another), as Go compares `net.Conn` interface values: `if src == p.lconn`. Two
/// connections between the same addresses (one closed, one new) are not equal, nor is
/// a `Conn` made by [`file_conn`](crate::net::file_conn) from this one's `file()`.
///
/// ```
/// use std::collections::HashSet;
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let a = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let b = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// assert_eq!(a, a.clone());
/// assert_ne!(a, b);
/// let live: HashSet<gonet::Conn> = [a.clone(), b.clone(), a.clone()].into_iter().collect();
/// assert_eq!(live.len(), 2);
/// ```
impl PartialEq for Conn {
    fn eq(&self, other: &Conn) -> bool {
        match (&self.imp, &other.imp) {
            (Imp::Sock(a), Imp::Sock(b)) => Arc::ptr_eq(a, b),
            (Imp::Proxied(a), Imp::Proxied(b)) => Arc::ptr_eq(a, b),
            (Imp::Pipe(a), Imp::Pipe(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Conn {}

impl std::hash::Hash for Conn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.imp {
            Imp::Sock(fd) => std::ptr::hash(Arc::as_ptr(fd), state),
            Imp::Proxied(p) => std::ptr::hash(Arc::as_ptr(p), state),
            Imp::Pipe(p) => std::ptr::hash(Arc::as_ptr(p), state),
        }
    }
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("net", &on!(self, |fd| fd.net(), |_p| "pipe"))
            .field("local", &self.local_addr().to_string())
            .field("remote", &self.remote_addr().to_string())
            .finish()
    }
}

/// `Read` and `Write` for a connection type, through the `Conn` that `$conn` names.
macro_rules! conn_io {
    ($t:ty, |$c:ident| $conn:expr) => {
        impl std::io::Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let $c = self;
                crate::net::Conn::read(&$conn, buf)
            }
        }

        impl std::io::Write for $t {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let $c = self;
                crate::net::Conn::write(&$conn, buf)
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let $c = self;
                crate::net::Conn::write_vectored(&$conn, bufs)
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    };
}
pub(crate) use conn_io;

conn_io!(Conn, |c| c);
conn_io!(&Conn, |c| c);

/// The socket's descriptor number, for system calls gonet does not wrap; -1 once
/// `close()` has run, and for a pipe. Go: the `Fd` behind `SyscallConn`. Valid only
/// while no `close()` can run on any handle meanwhile: the number is released at close
/// and may then be reused.
impl AsRawFd for Conn {
    fn as_raw_fd(&self) -> RawFd {
        on!(self, |fd| fd.sysfd(), |_p| -1)
    }
}

/// The socket's descriptor (`socket2::SockRef::from(&x)` reads and sets options
/// through it). As for `AsRawFd`, the borrow is the socket only until `close()` runs on
/// some handle; after that it lends a placeholder on which every call fails with EBADF,
/// never a socket that reused the number (a pipe, which has no descriptor, lends it too).
impl AsFd for Conn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        on!(self, |fd| fd.borrow_fd(), |_p| {
            crate::net::fd::placeholder_fd()
        })
    }
}

/// A stream listener: TCP or Unix.
///
/// Go: `net.Listener`. `Send + Sync`: share it through an `Arc` to accept from several
/// coroutines, or to `close()` it from another one, which wakes a parked `accept` with
/// "use of closed network connection" ([`is_closed`](crate::is_closed)).
///
/// ```
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let conn = ln.accept().unwrap();
/// assert_eq!(conn.remote_addr(), client.local_addr());
/// ```
pub struct Listener {
    pub(crate) fd: Arc<NetFd>,
    /// A Unix socket file to remove on close. Go: `UnixListener.unlink`.
    pub(crate) unlink: Option<PathBuf>,
    pub(crate) unlink_on_close: AtomicBool,
    /// A proxyproto wrapper's queue: `accept` takes connections from it (their PROXY
    /// header read); `None` for a plain listener.
    pub(crate) proxy: Option<Arc<crate::net::proxyproto::Queue>>,
}

impl Listener {
    /// Waits for the next connection and returns it. TCP conns come with TCP_NODELAY
    /// and the listener's keep-alive set, as Go's do.
    ///
    /// Go: `ln.Accept()`. Parks the coroutine (or blocks the thread) until a client
    /// connects; fails with "use of closed network connection" once `close()` is called.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let _client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let conn = ln.accept().unwrap();
    /// assert_eq!(conn.local_addr(), ln.addr());
    /// ```
    pub fn accept(&self) -> io::Result<Conn> {
        if let Some(q) = &self.proxy {
            return q.accept(&self.fd);
        }
        // TCP conns inherit TCP_NODELAY and keep-alive from the listening socket
        // (sockopt.rs: `set_accepted_tcp_opts_on_listener`).
        Ok(Conn::new(self.fd.accept()?))
    }

    /// The address the listener is bound to. Go: `ln.Addr()`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", ":0").unwrap();
    /// assert!(ln.addr().to_string().starts_with("[::]:"));
    /// ```
    pub fn addr(&self) -> Addr {
        self.fd.local_addr()
    }

    /// Stops listening: a parked `accept` and all later ones fail with "use of closed
    /// network connection"; a Unix listener removes its socket file. It returns once
    /// the descriptor is closed (connections still queued are reset). A second `close`
    /// fails the same way.
    ///
    /// Go: `ln.Close()`. Dropping the listener closes it too.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// ln.close().unwrap();
    /// assert!(gonet::is_closed(&ln.close().unwrap_err()));
    /// ```
    pub fn close(&self) -> io::Result<()> {
        if let Some(q) = &self.proxy {
            // The wrapped listener unlinks and closes the socket.
            return q.close();
        }
        // Unlink first, as Go does: an accept woken by the close may let the program
        // exit at once, and the file must be gone by then.
        self.remove_socket_file();
        self.fd.close()
    }

    fn remove_socket_file(&self) {
        if let Some(path) = &self.unlink {
            if self.unlink_on_close.swap(false, Ordering::AcqRel) {
                if let Err(e) = std::fs::remove_file(path) {
                    log::debug!("gonet: removing {}: {e}", path.display());
                }
            }
        }
    }

    /// An iterator of accepted connections (each item an `accept()` result); it never
    /// ends by itself, so stop on [`is_closed`](crate::is_closed) errors.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let _client = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    /// let first = ln.incoming().next().unwrap().unwrap();
    /// assert_eq!(first.local_addr(), ln.addr());
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// Sets a deadline for `accept`: after it, a blocked and every later `accept` fails
    /// with "i/o timeout"; `None` clears it.
    ///
    /// Go: `TCPListener.SetDeadline` / `UnixListener.SetDeadline`.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// ln.set_deadline(Some(std::time::Instant::now())).unwrap();
    /// assert!(gonet::is_timeout(&ln.accept().unwrap_err()));
    /// ```
    pub fn set_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        if let Some(q) = &self.proxy {
            // Checks that the socket is open, as a plain listener's does.
            self.fd.set_deadline(None, false, false)?;
            q.set_deadline(t);
            return Ok(());
        }
        self.fd.set_deadline(t, true, false)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(q) = &self.proxy {
            // The accept coroutine holds the socket: stop it, or it never closes.
            if !q.closed() {
                let _ = q.close();
            }
            return;
        }
        self.remove_socket_file();
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("net", &self.fd.net())
            .field("addr", &self.addr().to_string())
            .finish()
    }
}

/// The socket's descriptor number, for system calls gonet does not wrap; -1 once
/// `close()` has run. Go: the `Fd` behind `SyscallConn`. Valid only while no `close()`
/// can run on any handle meanwhile: the number is released at close and may then be
/// reused.
impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.sysfd()
    }
}

/// The socket's descriptor (`socket2::SockRef::from(&x)` reads and sets options
/// through it). As for `AsRawFd`, the borrow is the socket only until `close()` runs on
/// some handle; after that it lends a placeholder on which every call fails with EBADF,
/// never a socket that reused the number.
impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.borrow_fd()
    }
}

/// The iterator returned by [`Listener::incoming`].
///
/// ```
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// for conn in ln.incoming().take(1) {
///     assert!(conn.is_ok());
/// }
/// ```
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a Listener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<Conn>;

    fn next(&mut self) -> Option<io::Result<Conn>> {
        Some(self.listener.accept())
    }
}
