//! `PacketConn` and `ListenPacket`: datagram sockets of any kind, as Go's servers use them.
//!
//! Go: `net.PacketConn` (net.go) and `ListenPacket` / `ListenConfig.ListenPacket`
//! (dial.go), with `conn.SetReadBuffer` / `SetWriteBuffer` (net.go).
//!
//! Go's `net.PacketConn` is an interface that `*UDPConn`, `*UnixConn` and `*IPConn`
//! implement; `ListenPacket` returns one. gonet makes it a concrete type, as it makes
//! [`Conn`] and [`Listener`](crate::Listener) concrete: one `PacketConn` holds a UDP or a
//! unixgram socket and dispatches on it, so
//! - `listen_packet` returns one type for every network, without a `Box<dyn ..>`, and a
//!   Go function `serve(pc net.PacketConn)` ports as `fn serve(pc: PacketConn)`;
//! - it is `Clone + Send + Sync` (an `Arc` inside), so a reader and a writer coroutine
//!   share it as Go's goroutines share the interface value, with no generics to spell;
//! - Go's type assertions are conversions: `pc.(*net.UDPConn)` is
//!   `UdpConn::try_from(pc)`, and a [`UdpConn`](crate::net::UdpConn) or datagram [`UnixConn`](crate::UnixConn)
//!   goes back with `.into()`.
//!
//! What a trait would add, fakes of `PacketConn` in tests, Go code rarely does with
//! packet conns; a loopback socket is as cheap and tests the real thing.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use crate::net::dial::{ListenConfig, first_ipv4, parse_network};
use crate::net::error::{AddrError, BoxError, OpError};
use crate::net::fd::NetFd;
use crate::net::ipsock::internet_addr_list_context;
use crate::net::udpsock::{UdpAddr, is_udp};
use crate::net::{Addr, Conn, UnixAddr};

/// A datagram socket: UDP or unixgram, bound by [`listen_packet`].
///
/// Go: `net.PacketConn` (see the module docs for why a type, not a trait). Every call
/// parks only the calling coroutine (a plain thread blocks in poll(2)); concurrent
/// readers take turns, and so do writers; `close()` from anywhere wakes a parked
/// `read_from` with "use of closed network connection"; deadlines fail calls with
/// "i/o timeout". `Clone` gives another handle to the same socket.
///
/// ```
/// use gonet::net;
/// let pc = net::listen_packet("udp", "127.0.0.1:0")?;
/// let client = net::dial("udp", &pc.local_addr().to_string())?;
/// client.write(b"ping")?;
/// let mut buf = [0u8; 1500];
/// let (n, addr) = pc.read_from(&mut buf)?; // n, addr, err := pc.ReadFrom(buf)
/// pc.write_to(&buf[..n], &addr)?; // pc.WriteTo(buf[:n], addr)
/// assert_eq!(client.read(&mut buf)?, 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct PacketConn {
    pub(crate) fd: Arc<NetFd>,
}

impl PacketConn {
    /// Reads one datagram into `buf`: its length (cut to `buf.len()` if longer) and its
    /// sender. A unixgram sender that is not bound has no name: its address is a
    /// [`UnixAddr`] with an empty name, which `write_to` refuses, as Go refuses nil.
    ///
    /// Go: `pc.ReadFrom(b)`. Errors name the local address:
    /// `read udp 127.0.0.1:5353: i/o timeout`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    /// pc.set_read_deadline(Some(std::time::Instant::now())).unwrap();
    /// let err = pc.read_from(&mut [0u8; 16]).unwrap_err();
    /// assert_eq!(err.to_string(), format!("read udp4 {}: i/o timeout", pc.local_addr()));
    /// ```
    pub fn read_from(&self, buf: &mut [u8]) -> io::Result<(usize, Addr)> {
        if is_udp(&self.fd) {
            let (n, a) = crate::net::udpsock::read_from_udp(&self.fd, buf)?;
            return Ok((n, Addr::Udp(a)));
        }
        let (n, a) = crate::net::unixsock::read_from_unix(&self.fd, buf)?;
        let a = a.unwrap_or_else(|| UnixAddr::new("", self.fd.net()));
        Ok((n, Addr::Unix(a)))
    }

    /// Sends `buf` as one datagram to `addr`; returns `buf.len()`. The address must be
    /// of the socket's kind ([`Addr::Udp`] for UDP, [`Addr::Unix`] for unixgram): any
    /// other fails with Go's `invalid argument`.
    ///
    /// Go: `pc.WriteTo(b, addr)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// assert_eq!(pc.write_to(b"to myself", &pc.local_addr()).unwrap(), 9);
    /// let mut buf = [0u8; 16];
    /// let (n, from) = pc.read_from(&mut buf).unwrap();
    /// assert_eq!((&buf[..n], from), (&b"to myself"[..], pc.local_addr()));
    /// ```
    pub fn write_to(&self, buf: &[u8], addr: &Addr) -> io::Result<usize> {
        if is_udp(&self.fd) {
            return crate::net::udpsock::write_to_addr(&self.fd, buf, addr);
        }
        crate::net::unixsock::write_to_addr(&self.fd, buf, addr)
    }

    /// Closes the socket: a parked `read_from` or `write_to`, and every later call, fail
    /// with "use of closed network connection"; so does a second `close`.
    ///
    /// Go: `pc.Close()`. Dropping the last handle closes it too.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// pc.close().unwrap();
    /// assert!(gonet::is_closed(&pc.close().unwrap_err()));
    /// ```
    pub fn close(&self) -> io::Result<()> {
        self.fd.close()
    }

    /// The address the socket is bound to. Go: `pc.LocalAddr()`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", ":0").unwrap();
    /// assert!(pc.local_addr().to_string().starts_with("[::]:"));
    /// assert_eq!(pc.local_addr().network(), "udp");
    /// ```
    pub fn local_addr(&self) -> Addr {
        self.fd.local_addr()
    }

    /// Sets the read and write deadlines (absolute; `None` clears them); a call already
    /// parked sees the new deadline at once. Go: `pc.SetDeadline(t)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// pc.set_deadline(Some(std::time::Instant::now())).unwrap();
    /// assert!(gonet::is_timeout(&pc.read_from(&mut [0u8; 1]).unwrap_err()));
    /// ```
    pub fn set_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(t, true, true)
    }

    /// Sets the read deadline only. Go: `pc.SetReadDeadline(t)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// pc.set_read_deadline(None).unwrap();
    /// ```
    pub fn set_read_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(t, true, false)
    }

    /// Sets the write deadline only. Go: `pc.SetWriteDeadline(t)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// pc.set_write_deadline(Some(std::time::Instant::now())).unwrap();
    /// assert!(gonet::is_timeout(&pc.write_to(b"x", &pc.local_addr()).unwrap_err()));
    /// ```
    pub fn set_write_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(t, false, true)
    }

    /// Sets the socket's receive buffer (SO_RCVBUF; the kernel doubles it, and caps it
    /// at `net.core.rmem_max`): how many datagrams may queue before the kernel drops
    /// new ones. Go: `UDPConn.SetReadBuffer(bytes)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// pc.set_read_buffer(1 << 20).unwrap();
    /// ```
    pub fn set_read_buffer(&self, bytes: usize) -> io::Result<()> {
        self.fd.set_read_buffer(bytes)
    }

    /// Sets the socket's send buffer (SO_SNDBUF). Go: `UDPConn.SetWriteBuffer(bytes)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// pc.set_write_buffer(1 << 20).unwrap();
    /// ```
    pub fn set_write_buffer(&self, bytes: usize) -> io::Result<()> {
        self.fd.set_write_buffer(bytes)
    }

    /// Another handle to the same socket (no new descriptor). Go has no equivalent (an
    /// interface value is shared by copying it).
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0").unwrap();
    /// assert_eq!(pc.try_clone().unwrap(), pc);
    /// ```
    pub fn try_clone(&self) -> io::Result<PacketConn> {
        Ok(self.clone())
    }

    /// A new descriptor for the socket (close-on-exec), for another process to take
    /// over with [`file_packet_conn`]: closing the `PacketConn` does not close it, nor
    /// the other way round.
    ///
    /// Go: `UDPConn.File()` / `UnixConn.File()` (an `*os.File`; here an [`OwnedFd`]).
    /// After `close()`: `file udp 127.0.0.1:5353: use of closed network connection`.
    ///
    /// ```
    /// let pc = gonet::net::listen_packet("udp", "127.0.0.1:0")?;
    /// let fd = pc.file()?;
    /// pc.close()?;
    /// let again = gonet::net::file_packet_conn(&fd)?; // the socket lives on in `fd`
    /// assert_eq!(again.local_addr(), pc.local_addr());
    /// assert!(gonet::is_closed(&pc.file().unwrap_err()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file(&self) -> io::Result<OwnedFd> {
        self.fd.dup().map_err(|f| {
            let raddr = self.fd.is_connected().then(|| self.fd.remote_addr());
            OpError::new("file", self.fd.net(), f.into_cause())
                .with_addrs(Some(self.fd.local_addr()), raddr)
                .into()
        })
    }
}

/// A `PacketConn` for the datagram socket behind descriptor `f` (a duplicate of it:
/// close `f` when you no longer need it): UDP or unixgram, as inherited from a parent
/// or from systemd (`ListenDatagram=`).
///
/// Go: `net.FilePacketConn(f)`. Errors as for [`file_conn`](crate::net::file_conn): a
/// descriptor that is not a socket is `getsockopt: socket operation on non-socket`; a
/// TCP (or raw IP) socket is `invalid argument`, as in Go, which has no `IPConn` here.
///
/// ```
/// use gonet::net;
/// let pc = net::listen_packet("udp", "127.0.0.1:0")?;
/// let copy = net::file_packet_conn(&pc.file()?)?;
/// assert_eq!(copy.local_addr(), pc.local_addr());
/// assert_ne!(copy, pc); // another PacketConn for the same socket
///
/// let ln = net::listen("tcp", "127.0.0.1:0")?;
/// let err = net::file_packet_conn(&ln.file()?).unwrap_err();
/// assert!(err.to_string().ends_with(": invalid argument"), "{err}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn file_packet_conn(f: impl AsFd) -> io::Result<PacketConn> {
    use socket2::{Domain, SockRef, Type};
    let f = f.as_fd();
    // Go: filePacketConn: UDP and Unix sockets only. Asked of the descriptor first, so
    // that a TCP socket is refused before file_conn sets its options.
    let s = SockRef::from(&f);
    let family = s.local_addr().map(|a| a.domain());
    let refused = match (family, s.r#type()) {
        (Ok(Domain::UNIX), Ok(_)) | (Ok(_), Ok(Type::DGRAM)) => false,
        (Ok(_), Ok(_)) => true,
        // Not a socket, say: file_conn reports it in Go's words.
        _ => false,
    };
    if !refused {
        let c = crate::net::file_conn(f)?;
        if let Some(fd) = c.sock() {
            if is_udp(fd) || fd.net().starts_with("unix") {
                return Ok(PacketConn { fd: fd.clone() });
            }
        }
    }
    let name = std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd()))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("fd {}", f.as_raw_fd()));
    Err(
        OpError::new("file", "file+net", crate::net::Errno(libc::EINVAL))
            .with_addrs(None, Some(Addr::File(name)))
            .into(),
    )
}

impl PartialEq for PacketConn {
    /// The same socket: Go's `pc1 == pc2` on interface values.
    fn eq(&self, other: &PacketConn) -> bool {
        Arc::ptr_eq(&self.fd, &other.fd)
    }
}

impl Eq for PacketConn {}

impl fmt::Debug for PacketConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketConn")
            .field("net", &self.fd.net())
            .field("local", &self.local_addr().to_string())
            .finish()
    }
}

/// The socket's descriptor number, -1 once `close()` has run; as for
/// [`Conn`](crate::net::Conn)'s `AsRawFd`, valid only while no close can run meanwhile.
impl AsRawFd for PacketConn {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.sysfd()
    }
}

/// The socket's descriptor until `close()`, a placeholder failing with EBADF after it,
/// as for [`Conn`](crate::net::Conn)'s `AsFd`.
impl AsFd for PacketConn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.borrow_fd()
    }
}

// Go: net.go's `conn.SetReadBuffer` / `SetWriteBuffer`, methods of every `Conn`.
impl Conn {
    /// Sets the socket's receive buffer (SO_RCVBUF). Go: `conn.SetReadBuffer(bytes)`
    /// (`TCPConn`, `UDPConn`, `UnixConn`).
    ///
    /// ```
    /// let c = gonet::net::dial("udp", "127.0.0.1:9").unwrap();
    /// c.set_read_buffer(256 << 10).unwrap();
    /// ```
    pub fn set_read_buffer(&self, bytes: usize) -> io::Result<()> {
        match self.sock() {
            Some(fd) => fd.set_read_buffer(bytes),
            None => Err(crate::net::pipe::unsupported("set")),
        }
    }

    /// Sets the socket's send buffer (SO_SNDBUF). Go: `conn.SetWriteBuffer(bytes)`.
    ///
    /// ```
    /// let c = gonet::net::dial("udp", "127.0.0.1:9").unwrap();
    /// c.set_write_buffer(256 << 10).unwrap();
    /// ```
    pub fn set_write_buffer(&self, bytes: usize) -> io::Result<()> {
        match self.sock() {
            Some(fd) => fd.set_write_buffer(bytes),
            None => Err(crate::net::pipe::unsupported("set")),
        }
    }
}

impl ListenConfig {
    /// Binds a datagram socket on `network` ("udp", "udp4", "udp6", "unixgram") at
    /// `address`, with this config's Control hook.
    ///
    /// Go: `ListenConfig.ListenPacket(ctx, network, address)`. See [`listen_packet`].
    ///
    /// ```
    /// let pc = gonet::ListenConfig::default().listen_packet("udp4", ":0").unwrap();
    /// assert!(pc.local_addr().to_string().starts_with("0.0.0.0:"));
    /// ```
    pub fn listen_packet(&self, network: &str, address: &str) -> io::Result<PacketConn> {
        self.listen_packet_context(&crate::context::background(), network, address)
    }

    /// [`ListenConfig::listen_packet`], the host name lookup giving up when `ctx` ends:
    /// `listen udp: lookup localhost: operation was canceled`, as in Go.
    ///
    /// Go: `ListenConfig.ListenPacket(ctx, network, address)`.
    ///
    /// ```
    /// use gonet::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// cancel();
    /// let err = gonet::ListenConfig::default()
    ///     .listen_packet_context(&ctx, "udp", "localhost:0")
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "listen udp: lookup localhost: operation was canceled");
    /// ```
    pub fn listen_packet_context(
        &self,
        ctx: &crate::context::Context,
        network: &str,
        address: &str,
    ) -> io::Result<PacketConn> {
        crate::os::rlimit::raise_open_files_limit();
        let fail = |err: BoxError| -> io::Error { OpError::new("listen", network, err).into() };
        let (afnet, _proto) = parse_network(network).map_err(fail)?;
        let fd = match afnet {
            "udp" | "udp4" | "udp6" => {
                let addrs = internet_addr_list_context(afnet, address, ctx, None).map_err(fail)?;
                let la = UdpAddr::from(first_ipv4(addrs));
                crate::net::udpsock::sys_listen_udp(self, network, &la)?
            }
            "unix" | "unixgram" | "unixpacket" => {
                let la = UnixAddr::new(address, afnet);
                crate::net::unixsock::sys_listen_unixgram(self, network, &la)?
            }
            _ => {
                // Go resolves TCP and IP addresses too, then refuses them here. (Go opens
                // a raw IP socket for "ip:proto"; gonet has no raw IP sockets.)
                let la = if afnet.starts_with("tcp") {
                    Addr::Tcp(first_ipv4(
                        internet_addr_list_context(afnet, address, ctx, None).map_err(fail)?,
                    ))
                } else {
                    Addr::Ip(crate::net::dial::ip_addr(address).map_err(fail)?)
                };
                let e = AddrError::new("unexpected address type", address);
                return Err(OpError::new("listen", network, e)
                    .with_addrs(None, Some(la))
                    .into());
            }
        };
        Ok(PacketConn { fd: Arc::new(fd) })
    }
}

/// Binds a datagram socket on a local address and returns it.
///
/// Go: `net.ListenPacket(network, address)`:
/// - "udp", "udp4", "udp6": the address forms of [`listen`](crate::listen) (`":53"`,
///   `"127.0.0.1:0"`, `"[::1]:5353"`, names from /etc/hosts, service names); a wildcard
///   "udp" address is one dual-stack IPv6 socket printing `[::]:PORT`;
/// - "unixgram": a path, `"@name"` (abstract) or `""` (the kernel picks an abstract
///   name). As in Go, the socket file is **not** removed on close.
///
/// Errors are Go's texts, e.g. `listen udp: address 99999: invalid port`,
/// `listen udp4: address ::1: no suitable address found`.
///
/// ```
/// let pc = gonet::net::listen_packet("udp", ":0").unwrap();
/// assert!(pc.local_addr().to_string().starts_with("[::]:"));
///
/// let err = gonet::net::listen_packet("udp", ":99999").unwrap_err();
/// assert_eq!(err.to_string(), "listen udp: address 99999: invalid port");
/// ```
pub fn listen_packet(network: &str, address: &str) -> io::Result<PacketConn> {
    ListenConfig::default().listen_packet(network, address)
}
