//! UDP: addresses, connections, and Go's typed calls `ResolveUDPAddr`, `ListenUDP` and
//! `DialUDP`.
//!
//! Go: `src/net/udpsock.go` (`UDPAddr`, `UDPConn`, its `ReadFrom*` / `WriteTo*` /
//! `ReadMsgUDP` / `WriteMsgUDP`) and `udpsock_posix.go` (`readFrom`, `writeTo`,
//! `sysListener.listenUDP`, `sysDialer.dialUDP`). A UDP socket is a [`NetFd`] like every
//! other: non-blocking, parked in may's netpoller on EAGAIN, with Go's deadlines and
//! close. Its datagram calls are `fd.rs`'s `recv_from` / `send_to` / `recv_msg` /
//! `send_msg`.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::time::Instant;

use socket2::{Domain, SockAddr, Type};

use crate::net::dial::{Dialer, ListenConfig, intern_network};
use crate::net::error::{AddrError, BoxError, OpError, SyscallError, UnknownNetworkError};
use crate::net::fd::{Fail, NetFd};
use crate::net::ipsock::{
    favorite_addr_family, for_resolve, internet_addr_list, ip_to_sockaddr, is_ipv4, join_host_port,
    resolve_error,
};
use crate::net::sock::{SocketError, SocketSpec, ctrl_network, socket, sys_socket};
use crate::net::{Addr, Conn, PacketConn, TcpAddr};

/// A UDP endpoint: IP (absent for the wildcard), port and IPv6 zone.
///
/// Go: `net.UDPAddr{IP, Port, Zone}`. `Display` is Go's `UDPAddr.String()`:
/// `127.0.0.1:53`, `[::1]:53`, `[fe80::1%lo]:53`, and `:53` when the IP is absent.
///
/// ```
/// use gonet::net::UdpAddr;
/// let a = UdpAddr { ip: Some("::1".parse().unwrap()), port: 53, zone: String::new() };
/// assert_eq!(a.to_string(), "[::1]:53");
/// assert_eq!(UdpAddr::default().to_string(), ":0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct UdpAddr {
    /// The IP; `None` for a listen address given without a host (":53").
    pub ip: Option<IpAddr>,
    /// The port.
    pub port: u16,
    /// The IPv6 zone (interface name or number), or empty.
    pub zone: String,
}

impl UdpAddr {
    /// As a `SocketAddr`; an absent IP reads as `::`, a zone as the scope id.
    ///
    /// Go: `UDPAddr.AddrPort()`.
    ///
    /// ```
    /// let a = gonet::net::resolve_udp_addr("udp", "127.0.0.1:53").unwrap();
    /// assert_eq!(a.socket_addr(), "127.0.0.1:53".parse().unwrap());
    /// ```
    pub fn socket_addr(&self) -> SocketAddr {
        TcpAddr::from(self.clone()).socket_addr()
    }

    /// The network name, always "udp". Go: `UDPAddr.Network()`.
    ///
    /// ```
    /// assert_eq!(gonet::net::UdpAddr::default().network(), "udp");
    /// ```
    pub fn network(&self) -> &'static str {
        "udp"
    }
}

impl fmt::Display for UdpAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = TcpAddr::from(self.clone()).host();
        f.write_str(&join_host_port(&host, &self.port.to_string()))
    }
}

impl From<SocketAddr> for UdpAddr {
    /// IPv4-mapped IPv6 addresses become plain IPv4, as Go prints them.
    /// Go: `net.UDPAddrFromAddrPort`.
    fn from(sa: SocketAddr) -> UdpAddr {
        UdpAddr::from(TcpAddr::from(sa))
    }
}

impl From<TcpAddr> for UdpAddr {
    /// The same endpoint as a UDP address. Go: `&net.UDPAddr{IP: t.IP, Port: t.Port, Zone: t.Zone}`.
    fn from(t: TcpAddr) -> UdpAddr {
        UdpAddr {
            ip: t.ip,
            port: t.port,
            zone: t.zone,
        }
    }
}

impl From<UdpAddr> for TcpAddr {
    /// The same endpoint as a TCP address.
    fn from(u: UdpAddr) -> TcpAddr {
        TcpAddr {
            ip: u.ip,
            port: u.port,
            zone: u.zone,
        }
    }
}

/// Resolves `address` ("host:port") on a UDP network to one [`UdpAddr`].
///
/// Go: `net.ResolveUDPAddr(network, address)`: networks "udp", "udp4", "udp6" ("" means
/// "udp"); host names resolve through /etc/hosts, then DNS; of several addresses the
/// first IPv4 one wins, or the first IPv6 one when the address was written in brackets.
/// Errors are Go's bare causes, without an `OpError` around them:
/// `address 99999: invalid port`, `unknown network tcp`.
///
/// ```
/// let a = gonet::net::resolve_udp_addr("udp", "localhost:53").unwrap();
/// assert_eq!(a.to_string(), "127.0.0.1:53");
/// let err = gonet::net::resolve_udp_addr("udp", ":99999").unwrap_err();
/// assert_eq!(err.to_string(), "address 99999: invalid port");
/// ```
pub fn resolve_udp_addr(network: &str, address: &str) -> io::Result<UdpAddr> {
    let network = match network {
        "udp" | "udp4" | "udp6" => network,
        "" => "udp",
        _ => return Err(resolve_error(UnknownNetworkError(network.into()).into())),
    };
    let addrs = internet_addr_list(network, address, None).map_err(resolve_error)?;
    Ok(UdpAddr::from(for_resolve(network, address, addrs)))
}

/// The error of a `write_to` on a connected socket.
///
/// Go: `net.ErrWriteToConnected`, "use of WriteTo with pre-connected connection": a
/// socket made by [`dial_udp`] (or `dial("udp", ..)`) has its peer; use `write`.
///
/// ```
/// let server = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
/// let conn = gonet::net::dial("udp", &server.local_addr().to_string()).unwrap();
/// let conn = gonet::net::UdpConn::try_from(conn).unwrap();
/// let err = conn.write_to(b"x", &server.local_addr()).unwrap_err();
/// let op = gonet::OpError::of(&err).unwrap();
/// assert!(op.err.is::<gonet::net::ErrWriteToConnected>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrWriteToConnected;

impl fmt::Display for ErrWriteToConnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("use of WriteTo with pre-connected connection")
    }
}

impl std::error::Error for ErrWriteToConnected {}

pub(crate) use crate::net::error::Errno;

/// Go's "missing address" (`errMissingAddress`).
pub(crate) const MISSING_ADDRESS: &str = "missing address";

/// A UDP socket: bound by [`listen_udp`] / [`listen_packet`](crate::net::listen_packet)
/// (read from anyone, write to anyone), or connected by [`dial_udp`] / `dial("udp", ..)`
/// (one peer: `read` and `write`). Derefs to [`Conn`] for `read`, `write`, `close`,
/// deadlines, `local_addr` and the buffer sizes.
///
/// Go: `*net.UDPConn`. As in Go, every call parks only the calling coroutine (a plain
/// thread blocks in poll(2)), concurrent readers take turns, `close()` wakes a parked
/// call with "use of closed network connection", and a read deadline ends it with
/// "i/o timeout". A datagram longer than the buffer is cut to fit (the rest is lost),
/// and a read of an empty datagram returns `Ok(0)`: on UDP that is not end of stream.
///
/// ```
/// use gonet::net;
/// let server = net::listen_udp("udp", Some(&net::resolve_udp_addr("udp", "127.0.0.1:0")?))?;
/// let Some(net::Addr::Udp(to)) = Some(server.local_addr()) else { unreachable!() };
/// let client = net::dial_udp("udp", None, &to)?;
/// client.write(b"ping")?;
/// let mut buf = [0u8; 64];
/// let (n, from) = server.read_from_udp(&mut buf)?;
/// server.write_to_udp(&buf[..n], &from)?;
/// assert_eq!(client.read(&mut buf)?, 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UdpConn(pub(crate) Conn);

impl UdpConn {
    pub(crate) fn from_fd(fd: NetFd) -> UdpConn {
        UdpConn(Conn::new(fd))
    }

    /// Reads one datagram; returns its length and sender.
    ///
    /// Go: `UDPConn.ReadFromUDP(b)`. Errors name the local address:
    /// `read udp 127.0.0.1:5353: i/o timeout`.
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// pc.set_read_deadline(Some(std::time::Instant::now())).unwrap();
    /// let err = pc.read_from_udp(&mut [0u8; 16]).unwrap_err();
    /// assert!(gonet::is_timeout(&err));
    /// ```
    pub fn read_from_udp(&self, buf: &mut [u8]) -> io::Result<(usize, UdpAddr)> {
        read_from_udp(self.0.fd(), buf)
    }

    /// Reads one datagram; returns its length and sender as an [`Addr`].
    ///
    /// Go: `UDPConn.ReadFrom(b)` (`net.PacketConn`'s method).
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// pc.close().unwrap();
    /// assert!(gonet::is_closed(&pc.read_from(&mut [0u8; 16]).unwrap_err()));
    /// ```
    pub fn read_from(&self, buf: &mut [u8]) -> io::Result<(usize, Addr)> {
        read_from_udp(self.0.fd(), buf).map(|(n, a)| (n, Addr::Udp(a)))
    }

    /// Reads one datagram; returns its length and sender as a `SocketAddr` (IPv4-mapped
    /// senders as IPv4).
    ///
    /// Go: `UDPConn.ReadFromUDPAddrPort(b)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp", None).unwrap();
    /// let c = gonet::net::dial("udp", &format!("127.0.0.1:{}", pc.local_addr().socket_addr().unwrap().port())).unwrap();
    /// c.write(b"hi").unwrap();
    /// let (n, from) = pc.read_from_udp_addr_port(&mut [0u8; 8]).unwrap();
    /// assert_eq!((n, from), (2, c.local_addr().socket_addr().unwrap()));
    /// ```
    pub fn read_from_udp_addr_port(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, sa) = self.0.fd().recv_from(buf)?;
        Ok((n, sockaddr_to_udp(&sa).socket_addr()))
    }

    /// Reads one datagram and its control messages (ancillary data) into `oob`: returns
    /// (bytes, control bytes, the message flags, the sender). `flags & libc::MSG_TRUNC`
    /// says the datagram was longer than `buf`.
    ///
    /// Go: `UDPConn.ReadMsgUDP(b, oob)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// let c = gonet::net::dial("udp", &format!("127.0.0.1:{}", pc.local_addr().socket_addr().unwrap().port())).unwrap();
    /// c.write(b"too long").unwrap();
    /// let (n, oobn, flags, _from) = pc.read_msg_udp(&mut [0u8; 3], &mut []).unwrap();
    /// assert_eq!((n, oobn), (3, 0));
    /// assert!(flags & libc::MSG_TRUNC != 0);
    /// ```
    pub fn read_msg_udp(
        &self,
        buf: &mut [u8],
        oob: &mut [u8],
    ) -> io::Result<(usize, usize, i32, UdpAddr)> {
        let (n, oobn, flags, sa) = self.0.fd().recv_msg(buf, oob, 0)?;
        Ok((n, oobn, flags, sockaddr_to_udp(&sa)))
    }

    /// Sends `buf` as one datagram to `addr`; returns `buf.len()`.
    ///
    /// Go: `UDPConn.WriteToUDP(b, addr)`. Fails on a connected socket
    /// ([`ErrWriteToConnected`]), and, as in Go, for an IPv6 target on an IPv4 socket:
    /// `write udp 127.0.0.1:5->[::1]:9: address ::1: non-IPv4 address`.
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// let to = gonet::net::resolve_udp_addr("udp", "[::1]:9").unwrap();
    /// let err = pc.write_to_udp(b"x", &to).unwrap_err();
    /// assert!(err.to_string().ends_with("->[::1]:9: address ::1: non-IPv4 address"));
    /// ```
    pub fn write_to_udp(&self, buf: &[u8], addr: &UdpAddr) -> io::Result<usize> {
        write_to_udp(self.0.fd(), buf, addr)
    }

    /// Sends `buf` as one datagram to `addr`, a `SocketAddr`.
    ///
    /// Go: `UDPConn.WriteToUDPAddrPort(b, addr)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp", None).unwrap();
    /// let to = pc.local_addr().socket_addr().unwrap();
    /// assert_eq!(pc.write_to_udp_addr_port(b"self", to).unwrap(), 4);
    /// ```
    pub fn write_to_udp_addr_port(&self, buf: &[u8], addr: SocketAddr) -> io::Result<usize> {
        write_to_udp(self.0.fd(), buf, &UdpAddr::from(addr))
    }

    /// Sends `buf` as one datagram to `addr`, which must be an [`Addr::Udp`]; any other
    /// kind fails with Go's `invalid argument`.
    ///
    /// Go: `UDPConn.WriteTo(b, addr)` (`net.PacketConn`'s method).
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// let unix = gonet::Addr::Unix(gonet::UnixAddr::new("/tmp/x", "unixgram"));
    /// let err = pc.write_to(b"x", &unix).unwrap_err();
    /// assert!(err.to_string().ends_with("->/tmp/x: invalid argument"));
    /// ```
    pub fn write_to(&self, buf: &[u8], addr: &Addr) -> io::Result<usize> {
        write_to_addr(self.0.fd(), buf, addr)
    }

    /// Sends `buf` as one datagram with control messages `oob`, to `addr` (`None` on a
    /// connected socket); returns (bytes, control bytes).
    ///
    /// Go: `UDPConn.WriteMsgUDP(b, oob, addr)`: `addr` must be `None` exactly when the
    /// socket is connected ([`ErrWriteToConnected`], else "missing address").
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// let me = pc.local_addr().socket_addr().unwrap().into();
    /// assert_eq!(pc.write_msg_udp(b"abc", &[], Some(&me)).unwrap(), (3, 0));
    /// let err = pc.write_msg_udp(b"abc", &[], None).unwrap_err();
    /// assert!(err.to_string().ends_with(": missing address"));
    /// ```
    pub fn write_msg_udp(
        &self,
        buf: &[u8],
        oob: &[u8],
        addr: Option<&UdpAddr>,
    ) -> io::Result<(usize, usize)> {
        let fd = self.0.fd();
        let target = || addr.cloned().map(Addr::Udp);
        let fail = |err: BoxError| op_error(fd, "write", target(), err);
        if fd.is_connected() && addr.is_some() {
            return Err(fail(ErrWriteToConnected.into()));
        }
        if !fd.is_connected() && addr.is_none() {
            return Err(fail(MISSING_ADDRESS.into()));
        }
        let to = match addr {
            Some(a) => Some(SockAddr::from(
                ip_to_sockaddr(fd.family(), a.ip, a.port, &a.zone).map_err(|e| fail(e.into()))?,
            )),
            None => None,
        };
        fd.send_msg(buf, oob, to.as_ref(), target)
    }

    /// The connected peer, or `None` for a socket that is only bound.
    ///
    /// Go: `UDPConn.RemoteAddr()` (nil when not connected).
    ///
    /// ```
    /// let pc = gonet::net::listen_udp("udp4", None).unwrap();
    /// assert_eq!(pc.remote_addr(), None);
    /// let c = gonet::net::dial("udp", "127.0.0.1:9").unwrap();
    /// let c = gonet::net::UdpConn::try_from(c).unwrap();
    /// assert_eq!(c.remote_addr().unwrap().to_string(), "127.0.0.1:9");
    /// ```
    pub fn remote_addr(&self) -> Option<Addr> {
        self.0
            .fd()
            .is_connected()
            .then(|| self.0.fd().remote_addr())
    }

    /// The general [`Conn`]. Go: assigning a `*UDPConn` to a `net.Conn`.
    ///
    /// ```
    /// let c = gonet::net::dial_udp("udp", None, &"127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    /// let conn: gonet::Conn = c.into_conn();
    /// assert_eq!(conn.remote_addr().to_string(), "127.0.0.1:9");
    /// ```
    pub fn into_conn(self) -> Conn {
        self.0
    }

    /// The general [`PacketConn`]. Go: assigning a `*UDPConn` to a `net.PacketConn`.
    ///
    /// ```
    /// let pc: gonet::net::PacketConn = gonet::net::listen_udp("udp4", None).unwrap().into_packet_conn();
    /// assert_eq!(pc.local_addr().network(), "udp");
    /// ```
    pub fn into_packet_conn(self) -> PacketConn {
        PacketConn {
            fd: self.0.fd().clone(),
        }
    }
}

impl Deref for UdpConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl TryFrom<Conn> for UdpConn {
    type Error = Conn;

    /// Go: the type assertion `conn.(*net.UDPConn)`; gives the `Conn` back if it is not UDP.
    fn try_from(conn: Conn) -> Result<UdpConn, Conn> {
        if conn.sock().is_some_and(|fd| is_udp(fd)) {
            Ok(UdpConn(conn))
        } else {
            Err(conn)
        }
    }
}

impl TryFrom<PacketConn> for UdpConn {
    type Error = PacketConn;

    /// Go: the type assertion `pc.(*net.UDPConn)`; gives the `PacketConn` back if it is
    /// not UDP.
    fn try_from(pc: PacketConn) -> Result<UdpConn, PacketConn> {
        if is_udp(&pc.fd) {
            Ok(UdpConn(Conn::from_fd(pc.fd)))
        } else {
            Err(pc)
        }
    }
}

impl From<UdpConn> for Conn {
    fn from(c: UdpConn) -> Conn {
        c.0
    }
}

impl From<UdpConn> for PacketConn {
    fn from(c: UdpConn) -> PacketConn {
        c.into_packet_conn()
    }
}

crate::net::net::conn_io!(UdpConn, |c| c.0);

/// Listens for datagrams on `laddr` (`None`: every address, a port the kernel picks).
///
/// Go: `net.ListenUDP(network, laddr)`: networks "udp", "udp4", "udp6". A wildcard
/// address on "udp" is one dual-stack IPv6 socket printing `[::]:PORT`, as for TCP;
/// sockets get SO_BROADCAST, as Go's do. Errors are Go's:
/// `listen udp 127.0.0.1:53: bind: address already in use`.
///
/// ```
/// let pc = gonet::net::listen_udp("udp", None).unwrap();
/// assert!(pc.local_addr().to_string().starts_with("[::]:"));
/// let err = gonet::net::listen_udp("tcp", None).unwrap_err();
/// assert_eq!(err.to_string(), "listen tcp: unknown network tcp");
/// ```
pub fn listen_udp(network: &str, laddr: Option<&UdpAddr>) -> io::Result<UdpConn> {
    if !matches!(network, "udp" | "udp4" | "udp6") {
        let e = OpError::new("listen", network, UnknownNetworkError(network.into()));
        return Err(e.with_addrs(None, laddr.cloned().map(Addr::Udp)).into());
    }
    let laddr = laddr.cloned().unwrap_or_default();
    sys_listen_udp(&ListenConfig::default(), network, &laddr).map(UdpConn::from_fd)
}

/// Makes a UDP socket connected to `raddr`, bound to `laddr` when one is given.
///
/// Go: `net.DialUDP(network, laddr, raddr)`. Connecting a UDP socket sends nothing: it
/// fixes the peer, so `read` only sees its datagrams, and an ICMP "port unreachable"
/// from it fails the next `read` or `write` with
/// `read udp L->R: read: connection refused`.
///
/// ```
/// let to = gonet::net::resolve_udp_addr("udp", "127.0.0.1:9").unwrap();
/// let c = gonet::net::dial_udp("udp", None, &to).unwrap();
/// assert_eq!(c.remote_addr().unwrap().to_string(), "127.0.0.1:9");
/// ```
pub fn dial_udp(network: &str, laddr: Option<&UdpAddr>, raddr: &UdpAddr) -> io::Result<UdpConn> {
    let fail = |err: BoxError| -> io::Error {
        OpError::new("dial", network, err)
            .with_addrs(
                laddr.cloned().map(Addr::Udp),
                Some(Addr::Udp(raddr.clone())),
            )
            .into()
    };
    if !matches!(network, "udp" | "udp4" | "udp6") {
        return Err(fail(UnknownNetworkError(network.into()).into()));
    }
    sys_dial_udp(&Dialer::default(), network, laddr, raddr)
        .map(UdpConn::from_fd)
        .map_err(fail)
}

impl Dialer {
    /// Go: `Dialer.DialContext` for the UDP networks: resolve `address`, keep the
    /// addresses that match `local_addr` (`resolveAddrList`), then `dialSerial` (UDP
    /// never races address families: Go's Happy Eyeballs is for "tcp" only).
    pub(crate) fn dial_udp_address(
        &self,
        ctx: &crate::context::Context,
        network: &str,
        afnet: &str,
        address: &str,
        deadline: Option<Instant>,
    ) -> io::Result<Conn> {
        let fail = |err: BoxError| -> io::Error { OpError::new("dial", network, err).into() };
        let addrs = crate::net::ipsock::internet_addr_list_context(afnet, address, ctx, deadline)
            .map_err(fail)?;
        let la = match &self.local_addr {
            None => None,
            Some(Addr::Udp(u)) => Some(u.clone()),
            Some(other) => {
                let e = AddrError::new("mismatched local address type", other.to_string());
                return Err(fail(e.into()));
            }
        };
        let addrs: Vec<UdpAddr> = addrs.into_iter().map(UdpAddr::from).collect();
        let addrs = match &la {
            None => addrs,
            Some(la) => {
                let wildcard = |a: &UdpAddr| a.ip.is_none_or(|ip| ip.is_unspecified());
                let v4 = |a: &UdpAddr| a.ip.is_some_and(|ip| is_ipv4(&ip));
                let kept: Vec<UdpAddr> = addrs
                    .into_iter()
                    .filter(|ra| wildcard(la) || wildcard(ra) || v4(la) == v4(ra))
                    .collect();
                if kept.is_empty() {
                    let e = AddrError::new("no suitable address found", la.to_string());
                    return Err(fail(e.into()));
                }
                kept
            }
        };
        let mut first_err = None;
        for ra in &addrs {
            let fail = |err: BoxError| -> io::Error {
                OpError::new("dial", network, err)
                    .with_addrs(la.clone().map(Addr::Udp), Some(Addr::Udp(ra.clone())))
                    .into()
            };
            // Go: dialSerial stops at once when the context has ended.
            if let Some(why) = ctx.ended() {
                return Err(fail(crate::net::error::map_err(why)));
            }
            if deadline.is_some_and(|d| d <= Instant::now()) {
                first_err.get_or_insert_with(|| fail(crate::net::ErrTimeout.into()));
                break;
            }
            match sys_dial_udp(self, network, la.as_ref(), ra) {
                Ok(fd) => return Ok(Conn::new(fd)),
                Err(e) => {
                    first_err.get_or_insert_with(|| fail(e));
                }
            }
        }
        Err(first_err.unwrap_or_else(|| fail(MISSING_ADDRESS.into())))
    }
}

/// Go: `sysListener.listenUDP` -> `internetSocket(.., SOCK_DGRAM, .., "listen", ..)` ->
/// `netFD.listenDatagram`: the family as for TCP, SO_BROADCAST, the Control hook, bind.
/// A multicast address binds the wildcard with SO_REUSEADDR instead (several listeners
/// on one group port), as Go's `listenDatagram` does.
pub(crate) fn sys_listen_udp(
    lc: &ListenConfig,
    network: &str,
    laddr: &UdpAddr,
) -> io::Result<NetFd> {
    let fail = |err: BoxError| -> io::Error {
        OpError::new("listen", network, err)
            .with_addrs(None, Some(Addr::Udp(laddr.clone())))
            .into()
    };
    let (family, ipv6only) = favorite_addr_family(network, &TcpAddr::from(laddr.clone()));
    let multicast = laddr.ip.is_some_and(|ip| ip.is_multicast());
    let bind_ip = if multicast { None } else { laddr.ip };
    let sa =
        ip_to_sockaddr(family, bind_ip, laddr.port, &laddr.zone).map_err(|e| fail(e.into()))?;
    let sock = socket(&SocketSpec {
        ctrl_network: &ctrl_network(network, family),
        ctrl_address: &laddr.to_string(),
        family,
        sotype: Type::DGRAM,
        ipv6only: (family == Domain::IPV6).then_some(ipv6only),
        reuse_addr: multicast,
        accepted: None,
        laddr: &SockAddr::from(sa),
        control: lc.control.as_ref(),
    })
    .map_err(|e| match e {
        SocketError::Sys(s) => fail(s.into()),
        SocketError::Control(c) => fail(c),
    })?;
    let fd = NetFd::new(sock, intern_network(network), false)
        .map_err(|e| fail(SyscallError::new("epollctl", e).into()))?;
    fd.set_dgram_addrs_from_kernel()
        .map_err(|e| fail(SyscallError::new("getsockname", e).into()))?;
    Ok(fd)
}

/// Go: `sysDialer.dialUDP` -> `internetSocket(.., "dial", ..)` -> `netFD.dial`: the
/// family from both addresses, SO_BROADCAST, the Control hook, bind `laddr`, connect.
/// The error is the cause; the caller wraps it with both addresses.
fn sys_dial_udp(
    d: &Dialer,
    network: &str,
    laddr: Option<&UdpAddr>,
    raddr: &UdpAddr,
) -> Result<NetFd, BoxError> {
    let family = match network.as_bytes().last() {
        Some(b'4') => Domain::IPV4,
        Some(b'6') => Domain::IPV6,
        _ => {
            // Go's UDPAddr.family(): no IP or an IPv4 one is AF_INET.
            let v4 = |a: &UdpAddr| a.ip.is_none_or(|ip| is_ipv4(&ip));
            if laddr.is_none_or(v4) && v4(raddr) {
                Domain::IPV4
            } else {
                Domain::IPV6
            }
        }
    };
    let sock = sys_socket(family, Type::DGRAM)?;
    let sys = |call: &'static str| move |e| -> BoxError { SyscallError::new(call, e).into() };
    if family == Domain::IPV6 {
        sock.set_only_v6(network.ends_with('6'))
            .map_err(sys("setsockopt"))?;
    }
    sock.set_broadcast(true).map_err(sys("setsockopt"))?;
    if let Some(control) = &d.control {
        use std::os::fd::AsFd;
        control(
            &ctrl_network(network, family),
            &raddr.to_string(),
            sock.as_fd(),
        )?;
    }
    if let Some(la) = laddr {
        let lsa = ip_to_sockaddr(family, la.ip, la.port, &la.zone)?;
        sock.bind(&SockAddr::from(lsa)).map_err(sys("bind"))?;
    }
    let rsa = ip_to_sockaddr(family, raddr.ip, raddr.port, &raddr.zone)?;
    let fd = NetFd::new(sock, intern_network(network), false).map_err(sys("epollctl"))?;
    fd.connect(&SockAddr::from(rsa), None)
        .map_err(Fail::into_cause)?;
    fd.set_dgram_addrs_from_kernel()
        .map_err(sys("getsockname"))?;
    Ok(fd)
}

/// Whether `fd` is a UDP socket.
pub(crate) fn is_udp(fd: &NetFd) -> bool {
    fd.net().starts_with("udp")
}

/// A kernel address of a UDP socket as a [`UdpAddr`].
fn sockaddr_to_udp(sa: &SockAddr) -> UdpAddr {
    sa.as_socket().map(UdpAddr::from).unwrap_or_default()
}

/// Go's `OpError` for a datagram call on `fd` towards `addr`.
pub(crate) fn op_error(
    fd: &NetFd,
    op: &'static str,
    addr: Option<Addr>,
    err: BoxError,
) -> io::Error {
    OpError::new(op, fd.net(), err)
        .with_addrs(Some(fd.local_addr()), addr)
        .into()
}

/// Go: `UDPConn.readFromUDP` over [`NetFd::recv_from`].
pub(crate) fn read_from_udp(fd: &NetFd, buf: &mut [u8]) -> io::Result<(usize, UdpAddr)> {
    let (n, sa) = fd.recv_from(buf)?;
    Ok((n, sockaddr_to_udp(&sa)))
}

/// Go: `UDPConn.WriteToUDP` / `writeTo`: refused on a connected socket, then the target
/// as a socket address of the socket's own family.
pub(crate) fn write_to_udp(fd: &NetFd, buf: &[u8], addr: &UdpAddr) -> io::Result<usize> {
    let target = || Some(Addr::Udp(addr.clone()));
    if fd.is_connected() {
        return Err(op_error(fd, "write", target(), ErrWriteToConnected.into()));
    }
    let sa = ip_to_sockaddr(fd.family(), addr.ip, addr.port, &addr.zone)
        .map_err(|e| op_error(fd, "write", target(), e.into()))?;
    fd.send_to(buf, &SockAddr::from(sa), target)
}

/// Go: `UDPConn.WriteTo(b, addr)`: only a UDP address will do (else EINVAL; an unnamed
/// Unix address stands for Go's nil `Addr`, which the error does not name).
pub(crate) fn write_to_addr(fd: &NetFd, buf: &[u8], addr: &Addr) -> io::Result<usize> {
    match addr {
        Addr::Udp(a) => write_to_udp(fd, buf, a),
        Addr::Unix(u) if u.name.is_empty() => {
            Err(op_error(fd, "write", None, Errno::new(libc::EINVAL).into()))
        }
        other => Err(op_error(
            fd,
            "write",
            Some(other.clone()),
            Errno::new(libc::EINVAL).into(),
        )),
    }
}
