//! Unix-domain listeners and connections: paths, Linux abstract names (`@name`) and
//! autobind (an empty name).
//!
//! Go: `src/net/unixsock.go` (`UnixListener`, `UnixConn`) and `unixsock_posix.go`
//! (`sysListener.listenUnix`, `unixSocket`, unlink-on-close).

use std::io;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, SockAddr, Type};

use crate::net::dial::{ListenConfig, intern_network};
use crate::net::error::Errno;
use crate::net::error::{BoxError, OpError, SyscallError};
use crate::net::fd::NetFd;
use crate::net::sock::{SocketError, SocketSpec, socket};
use crate::net::{Addr, Conn, Listener, PacketConn, UnixAddr};

/// A Unix-domain listener. Derefs to [`Listener`]. A listener on a path removes the
/// socket file when closed or dropped (Go's `SetUnlinkOnClose(true)` default).
///
/// Go: `*net.UnixListener`.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("gonet-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("app.sock");
/// let ln = gonet::UnixListener::listen("unix", path.to_str().unwrap()).unwrap();
/// assert!(path.exists());
/// ln.close().unwrap();
/// assert!(!path.exists());
/// ```
#[derive(Debug)]
pub struct UnixListener(Listener);

impl UnixListener {
    /// Listens on a Unix network ("unix", "unixpacket").
    ///
    /// Go: `net.ListenUnix` (taking the address as a string, like `net.Listen`).
    ///
    /// ```
    /// let ln = gonet::UnixListener::listen("unix", "@gonet-doc-listen").unwrap();
    /// assert_eq!(ln.addr().to_string(), "@gonet-doc-listen");
    /// ```
    pub fn listen(network: &str, address: &str) -> io::Result<UnixListener> {
        ListenConfig::default().listen(network, address)?.try_into()
    }

    /// Accepts the next connection as a [`UnixConn`]. Go: `UnixListener.AcceptUnix`.
    ///
    /// ```
    /// let ln = gonet::UnixListener::listen("unix", "@gonet-doc-accept").unwrap();
    /// let _c = gonet::dial("unix", "@gonet-doc-accept").unwrap();
    /// assert!(ln.accept_unix().is_ok());
    /// ```
    pub fn accept_unix(&self) -> io::Result<UnixConn> {
        self.0.accept().map(UnixConn)
    }

    /// Whether `close` (and drop) removes the socket file. Go: `SetUnlinkOnClose`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("gonet-doc-keep-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("keep.sock");
    /// let ln = gonet::UnixListener::listen("unix", path.to_str().unwrap()).unwrap();
    /// ln.set_unlink_on_close(false);
    /// drop(ln);
    /// assert!(path.exists());
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn set_unlink_on_close(&self, unlink: bool) {
        self.0.unlink_on_close.store(unlink, Ordering::Release);
    }

    /// The general [`Listener`].
    ///
    /// ```
    /// let ln = gonet::UnixListener::listen("unix", "@gonet-doc-into").unwrap();
    /// let general: gonet::Listener = ln.into_listener();
    /// ```
    pub fn into_listener(self) -> Listener {
        self.0
    }
}

impl Deref for UnixListener {
    type Target = Listener;
    fn deref(&self) -> &Listener {
        &self.0
    }
}

impl TryFrom<Listener> for UnixListener {
    type Error = io::Error;

    /// Go: the type assertion `ln.(*net.UnixListener)`.
    fn try_from(ln: Listener) -> io::Result<UnixListener> {
        if ln.fd.net().starts_with("unix") {
            Ok(UnixListener(ln))
        } else {
            let e = OpError::new("listen", ln.fd.net(), "not a Unix listener");
            Err(e.with_addrs(None, Some(ln.addr())).into())
        }
    }
}

/// A Unix-domain connection. Derefs to [`Conn`].
///
/// Go: `*net.UnixConn`.
///
/// ```
/// let ln = gonet::listen("unix", "@gonet-doc-conn").unwrap();
/// let client = gonet::dial("unix", "@gonet-doc-conn").unwrap();
/// let unix = gonet::UnixConn::try_from(client).unwrap();
/// assert_eq!(unix.remote_addr().to_string(), "@gonet-doc-conn");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnixConn(pub(crate) Conn);

impl UnixConn {
    /// The general [`Conn`].
    ///
    /// ```
    /// let ln = gonet::UnixListener::listen("unix", "@gonet-doc-into-conn").unwrap();
    /// let _c = gonet::dial("unix", "@gonet-doc-into-conn").unwrap();
    /// let conn: gonet::Conn = ln.accept_unix().unwrap().into_conn();
    /// ```
    pub fn into_conn(self) -> Conn {
        self.0
    }
}

impl Deref for UnixConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl TryFrom<Conn> for UnixConn {
    type Error = Conn;

    /// Go: the type assertion `conn.(*net.UnixConn)`.
    fn try_from(conn: Conn) -> Result<UnixConn, Conn> {
        if conn.sock().is_some_and(|fd| fd.net().starts_with("unix")) {
            Ok(UnixConn(conn))
        } else {
            Err(conn)
        }
    }
}

crate::net::net::conn_io!(UnixConn, |c| c.0);

// Datagram mode (Go: unixsock.go's ReadFromUnix, WriteToUnix, ReadMsgUnix, WriteMsgUnix):
// a unixgram UnixConn from listen_unixgram, dial_unix or dial("unixgram", ..).
impl UnixConn {
    /// Reads one datagram: its length (cut to `buf.len()` if longer) and its sender,
    /// `None` for a sender that is not bound (Go's nil `*UnixAddr`).
    ///
    /// Go: `UnixConn.ReadFromUnix(b)`.
    ///
    /// ```
    /// use gonet::net::{self, UnixAddr};
    /// let server = net::listen_unixgram("unixgram", &UnixAddr::new("@gonet-doc-rfu", "unixgram"))?;
    /// let client = net::dial_unix("unixgram", Some(&UnixAddr::new("@gonet-doc-rfu-c", "unixgram")),
    ///     &UnixAddr::new("@gonet-doc-rfu", "unixgram"))?;
    /// client.write(b"hi")?;
    /// let mut buf = [0u8; 16];
    /// let (n, from) = server.read_from_unix(&mut buf)?;
    /// assert_eq!((n, from.unwrap().name.as_str()), (2, "@gonet-doc-rfu-c"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_from_unix(&self, buf: &mut [u8]) -> io::Result<(usize, Option<UnixAddr>)> {
        read_from_unix(self.0.fd(), buf)
    }

    /// Reads one datagram: its length and its sender as an [`Addr`] (an unbound sender
    /// is a `UnixAddr` with an empty name). Go: `UnixConn.ReadFrom(b)`.
    ///
    /// ```
    /// let pc = gonet::net::listen_unixgram("unixgram", &gonet::UnixAddr::new("", "unixgram")).unwrap();
    /// pc.set_read_deadline(Some(std::time::Instant::now())).unwrap();
    /// assert!(gonet::is_timeout(&pc.read_from(&mut [0u8; 8]).unwrap_err()));
    /// ```
    pub fn read_from(&self, buf: &mut [u8]) -> io::Result<(usize, Addr)> {
        let (n, a) = read_from_unix(self.0.fd(), buf)?;
        let a = a.unwrap_or_else(|| UnixAddr::new("", self.0.fd().net()));
        Ok((n, Addr::Unix(a)))
    }

    /// Reads one message and its control messages (`SCM_RIGHTS` descriptors arrive
    /// close-on-exec, as in Go): (bytes, control bytes, message flags, sender).
    ///
    /// Go: `UnixConn.ReadMsgUnix(b, oob)`.
    ///
    /// ```
    /// let (a, b) = (gonet::UnixAddr::new("@gonet-doc-rmu", "unixgram"), gonet::UnixAddr::new("@gonet-doc-rmu-b", "unixgram"));
    /// let server = gonet::net::listen_unixgram("unixgram", &a).unwrap();
    /// let client = gonet::net::listen_unixgram("unixgram", &b).unwrap();
    /// client.write_msg_unix(b"msg", &[], Some(&a)).unwrap();
    /// let (n, oobn, _flags, from) = server.read_msg_unix(&mut [0u8; 8], &mut [0u8; 64]).unwrap();
    /// assert_eq!((n, oobn, from), (3, 0, Some(b)));
    /// ```
    pub fn read_msg_unix(
        &self,
        buf: &mut [u8],
        oob: &mut [u8],
    ) -> io::Result<(usize, usize, i32, Option<UnixAddr>)> {
        let fd = self.0.fd();
        let (n, oobn, flags, sa) = fd.recv_msg(buf, oob, libc::MSG_CMSG_CLOEXEC)?;
        Ok((n, oobn, flags, sockaddr_to_unix(&sa, fd.net())))
    }

    /// Sends `buf` as one datagram to `addr`, whose network must be the socket's
    /// ("unixgram"); returns `buf.len()`.
    ///
    /// Go: `UnixConn.WriteToUnix(b, addr)`: refused on a connected socket
    /// ([`ErrWriteToConnected`](crate::net::ErrWriteToConnected)); another network is
    /// `address family not supported by protocol`.
    ///
    /// ```
    /// let a = gonet::UnixAddr::new("@gonet-doc-wtu", "unixgram");
    /// let pc = gonet::net::listen_unixgram("unixgram", &a).unwrap();
    /// assert_eq!(pc.write_to_unix(b"me", &a).unwrap(), 2);
    /// let err = pc.write_to_unix(b"me", &gonet::UnixAddr::new("@x", "unix")).unwrap_err();
    /// assert!(err.to_string().ends_with("address family not supported by protocol"));
    /// ```
    pub fn write_to_unix(&self, buf: &[u8], addr: &UnixAddr) -> io::Result<usize> {
        write_to_unix(self.0.fd(), buf, addr)
    }

    /// Sends `buf` as one datagram to `addr`, which must be an [`Addr::Unix`] (any other
    /// kind: Go's `invalid argument`). Go: `UnixConn.WriteTo(b, addr)`.
    ///
    /// ```
    /// let a = gonet::UnixAddr::new("@gonet-doc-wt", "unixgram");
    /// let pc = gonet::net::listen_unixgram("unixgram", &a).unwrap();
    /// assert_eq!(pc.write_to(b"me", &a.into()).unwrap(), 2);
    /// ```
    pub fn write_to(&self, buf: &[u8], addr: &Addr) -> io::Result<usize> {
        write_to_addr(self.0.fd(), buf, addr)
    }

    /// Sends `buf` with control messages `oob` (e.g. `SCM_RIGHTS` descriptors), to
    /// `addr`, or to the peer (`None`, on a connected or stream socket); returns (bytes,
    /// control bytes). On a stream socket an empty `buf` with control messages sends
    /// one zero byte (so the control messages travel) and reports 0, as Go does.
    ///
    /// Go: `UnixConn.WriteMsgUnix(b, oob, addr)`. As in Go 1.19, a connected unixgram
    /// socket refuses it ([`ErrWriteToConnected`](crate::net::ErrWriteToConnected)).
    ///
    /// ```
    /// let a = gonet::UnixAddr::new("@gonet-doc-wmu", "unixgram");
    /// let pc = gonet::net::listen_unixgram("unixgram", &a).unwrap();
    /// assert_eq!(pc.write_msg_unix(b"abc", &[], Some(&a)).unwrap(), (3, 0));
    /// ```
    pub fn write_msg_unix(
        &self,
        buf: &[u8],
        oob: &[u8],
        addr: Option<&UnixAddr>,
    ) -> io::Result<(usize, usize)> {
        let fd = self.0.fd();
        let target = || addr.cloned().map(Addr::Unix);
        let fail = |err: BoxError| crate::net::udpsock::op_error(fd, "write", target(), err);
        let dgram = fd.net() == "unixgram";
        if dgram && fd.is_connected() {
            return Err(fail(crate::net::ErrWriteToConnected.into()));
        }
        let to = match addr {
            Some(a) if a.net != fd.net() => {
                return Err(fail(Errno::new(libc::EAFNOSUPPORT).into()));
            }
            Some(a) => Some(unix_sockaddr(&a.name).map_err(|e| fail(Errno::of(&e).into()))?),
            None => None,
        };
        // Go's SendmsgN: control messages need at least one byte on a stream socket.
        if !dgram && buf.is_empty() && !oob.is_empty() {
            let (_, oobn) = fd.send_msg(&[0], oob, to.as_ref(), target)?;
            return Ok((0, oobn));
        }
        fd.send_msg(buf, oob, to.as_ref(), target)
    }
}

impl UnixConn {
    /// The general [`PacketConn`]. Go: assigning a `*UnixConn` to a `net.PacketConn`.
    ///
    /// ```
    /// let c = gonet::net::listen_unixgram("unixgram", &gonet::UnixAddr::new("", "unixgram")).unwrap();
    /// let pc: gonet::net::PacketConn = c.into_packet_conn();
    /// assert_eq!(pc.local_addr().network(), "unixgram");
    /// ```
    pub fn into_packet_conn(self) -> PacketConn {
        PacketConn {
            fd: self.0.fd().clone(),
        }
    }
}

impl TryFrom<PacketConn> for UnixConn {
    type Error = PacketConn;

    /// Go: the type assertion `pc.(*net.UnixConn)`; gives the `PacketConn` back if it is
    /// not a Unix socket.
    fn try_from(pc: PacketConn) -> Result<UnixConn, PacketConn> {
        if pc.fd.net().starts_with("unix") {
            Ok(UnixConn(Conn::from_fd(pc.fd)))
        } else {
            Err(pc)
        }
    }
}

impl From<UnixConn> for PacketConn {
    fn from(c: UnixConn) -> PacketConn {
        c.into_packet_conn()
    }
}

/// Go: `UnixConn.readFrom`: one datagram and its sender, `None` when it has no name.
pub(crate) fn read_from_unix(fd: &NetFd, buf: &mut [u8]) -> io::Result<(usize, Option<UnixAddr>)> {
    let (n, sa) = fd.recv_from(buf)?;
    Ok((n, sockaddr_to_unix(&sa, fd.net())))
}

/// A sender's address as Go's `readFrom` gives it: none for an unnamed socket (the
/// kernel gives no address at all), else the path or `@name`, on the socket's network.
fn sockaddr_to_unix(sa: &SockAddr, net: &str) -> Option<UnixAddr> {
    if !sa.is_unix() || sa.is_unnamed() {
        return None;
    }
    match crate::net::sock::sockaddr_to_addr(sa, net) {
        Addr::Unix(u) => Some(u),
        _ => None,
    }
}

/// Go: `UnixConn.WriteToUnix` / `writeTo`.
pub(crate) fn write_to_unix(fd: &NetFd, buf: &[u8], addr: &UnixAddr) -> io::Result<usize> {
    let target = || Some(Addr::Unix(addr.clone()));
    let fail = |err: BoxError| crate::net::udpsock::op_error(fd, "write", target(), err);
    if fd.is_connected() {
        return Err(fail(crate::net::ErrWriteToConnected.into()));
    }
    if addr.net != fd.net() {
        return Err(fail(Errno::new(libc::EAFNOSUPPORT).into()));
    }
    // Go builds the sockaddr inside sendto, so a bad name fails as the system call.
    let sa = unix_sockaddr(&addr.name).map_err(|e| fail(SyscallError::new("sendto", e).into()))?;
    fd.send_to(buf, &sa, target)
}

/// Go: `UnixConn.WriteTo(b, addr)`: only a Unix address will do (else EINVAL). A Unix
/// address with no name is what `read_from` gives for Go's nil `Addr` (a sender with no
/// name), and fails as Go's `WriteTo(b, nil)` does: `invalid argument`, no address.
pub(crate) fn write_to_addr(fd: &NetFd, buf: &[u8], addr: &Addr) -> io::Result<usize> {
    match addr {
        Addr::Unix(a) if a.name.is_empty() => Err(crate::net::udpsock::op_error(
            fd,
            "write",
            None,
            Errno::new(libc::EINVAL).into(),
        )),
        Addr::Unix(a) => write_to_unix(fd, buf, a),
        other => Err(crate::net::udpsock::op_error(
            fd,
            "write",
            Some(other.clone()),
            Errno::new(libc::EINVAL).into(),
        )),
    }
}

/// Makes a Unix address for `address` on `network` ("unix", "unixgram", "unixpacket").
///
/// Go: `net.ResolveUnixAddr(network, address)`: nothing is looked up; any other network
/// is `unknown network NAME` (a bare error, as in Go).
///
/// ```
/// let a = gonet::net::resolve_unix_addr("unixgram", "/run/app.sock").unwrap();
/// assert_eq!((a.name.as_str(), a.net.as_str()), ("/run/app.sock", "unixgram"));
/// let err = gonet::net::resolve_unix_addr("udp", "/run/app.sock").unwrap_err();
/// assert_eq!(err.to_string(), "unknown network udp");
/// ```
pub fn resolve_unix_addr(network: &str, address: &str) -> io::Result<UnixAddr> {
    match network {
        "unix" | "unixgram" | "unixpacket" => Ok(UnixAddr::new(address, network)),
        _ => Err(crate::net::ipsock::resolve_error(
            crate::net::UnknownNetworkError(network.into()).into(),
        )),
    }
}

/// Listens on the Unix stream or seqpacket socket `laddr` ("unix", "unixpacket").
///
/// Go: `net.ListenUnix(network, laddr)`: the listener of [`listen`](crate::listen),
/// which removes its socket file on close.
///
/// ```
/// let a = gonet::net::resolve_unix_addr("unix", "@gonet-doc-listen-unix").unwrap();
/// let ln = gonet::net::listen_unix("unix", &a).unwrap();
/// assert_eq!(ln.addr().to_string(), "@gonet-doc-listen-unix");
/// let err = gonet::net::listen_unix("unixgram", &a).unwrap_err();
/// assert_eq!(err.to_string(), "listen unixgram @gonet-doc-listen-unix: unknown network unixgram");
/// ```
pub fn listen_unix(network: &str, laddr: &UnixAddr) -> io::Result<UnixListener> {
    if !matches!(network, "unix" | "unixpacket") {
        let e = crate::net::UnknownNetworkError(network.into());
        return Err(listen_error(network, laddr, e.into()));
    }
    crate::os::rlimit::raise_open_files_limit();
    sys_listen_unix(&ListenConfig::default(), network, laddr).map(UnixListener)
}

/// Binds a unixgram socket to `laddr`: a path, `@name`, or `""` (an abstract name the
/// kernel picks). The file stays after close, as in Go.
///
/// Go: `net.ListenUnixgram(network, laddr)`.
///
/// ```
/// let pc = gonet::net::listen_unixgram("unixgram", &gonet::UnixAddr::new("", "unixgram")).unwrap();
/// assert!(pc.local_addr().to_string().starts_with('@'));
/// assert_eq!(pc.local_addr().network(), "unixgram");
/// ```
pub fn listen_unixgram(network: &str, laddr: &UnixAddr) -> io::Result<UnixConn> {
    if network != "unixgram" {
        let e = crate::net::UnknownNetworkError(network.into());
        return Err(listen_error(network, laddr, e.into()));
    }
    crate::os::rlimit::raise_open_files_limit();
    let fd = sys_listen_unixgram(&ListenConfig::default(), network, laddr)?;
    Ok(UnixConn(Conn::new(fd)))
}

/// Connects to `raddr`, from `laddr` when one is given. On "unixgram" an empty `raddr`
/// name with a `laddr` makes a bound socket with no peer (Go's nil `raddr`), for
/// `write_to_unix`.
///
/// Go: `net.DialUnix(network, laddr, raddr)`.
///
/// ```
/// let server = gonet::net::listen_unixgram("unixgram", &gonet::UnixAddr::new("@gonet-doc-du", "unixgram")).unwrap();
/// let c = gonet::net::dial_unix("unixgram", None, &gonet::UnixAddr::new("@gonet-doc-du", "unixgram")).unwrap();
/// assert_eq!(c.remote_addr().to_string(), "@gonet-doc-du");
/// let err = gonet::net::dial_unix("unix", None, &gonet::UnixAddr::new("", "unix")).unwrap_err();
/// assert_eq!(err.to_string(), "dial unix : missing address");
/// ```
pub fn dial_unix(
    network: &str,
    laddr: Option<&UnixAddr>,
    raddr: &UnixAddr,
) -> io::Result<UnixConn> {
    let fail = |err: BoxError| -> io::Error {
        OpError::new("dial", network, err)
            .with_addrs(
                laddr.cloned().map(Addr::Unix),
                Some(Addr::Unix(raddr.clone())),
            )
            .into()
    };
    if !matches!(network, "unix" | "unixgram" | "unixpacket") {
        return Err(fail(crate::net::UnknownNetworkError(network.into()).into()));
    }
    crate::os::rlimit::raise_open_files_limit();
    // Go's unixSocket in "dial" mode: an empty name is no address.
    let la = laddr.filter(|a| !a.name.is_empty());
    let ra = Some(raddr).filter(|a| !a.name.is_empty());
    let sotype = unix_sotype(network);
    if ra.is_none() && (sotype != Type::DGRAM || la.is_none()) {
        return Err(fail(crate::net::udpsock::MISSING_ADDRESS.into()));
    }
    let sys = |call: &'static str| move |e| fail(SyscallError::new(call, e).into());
    let sock = crate::net::sock::sys_socket(Domain::UNIX, sotype).map_err(|e| fail(e.into()))?;
    if let Some(la) = la {
        let sa = unix_sockaddr(&la.name).map_err(sys("bind"))?;
        sock.bind(&sa).map_err(sys("bind"))?;
    }
    let fd = NetFd::new(sock, intern_network(network), false).map_err(sys("epollctl"))?;
    if let Some(ra) = ra {
        let target = unix_sockaddr(&ra.name).map_err(sys("connect"))?;
        fd.connect(&target, None)
            .map_err(|f| fail(f.into_cause()))?;
    }
    fd.set_dgram_addrs_from_kernel()
        .map_err(sys("getsockname"))?;
    Ok(UnixConn(Conn::new(fd)))
}

/// The socket type for a Unix network.
pub(crate) fn unix_sotype(network: &str) -> Type {
    match network {
        "unixpacket" => Type::SEQPACKET,
        "unixgram" => Type::DGRAM,
        _ => Type::STREAM,
    }
}

/// Go: `SockaddrUnix.sockaddr`: "" is unnamed (bind autobinds an abstract name), a
/// leading '@' is Linux's abstract namespace, anything else a path. A name that does not
/// fit `sun_path` (107 bytes for a path, 108 for an abstract name) is EINVAL, as in Go.
pub(crate) fn unix_sockaddr(name: &str) -> io::Result<SockAddr> {
    let bytes = name.as_bytes();
    let max = std::mem::size_of::<libc::sockaddr_un>() - std::mem::size_of::<libc::sa_family_t>();
    let abstract_name = bytes.first() == Some(&b'@');
    if bytes.len() > max || (bytes.len() == max && !abstract_name) || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: try_init hands us zeroed storage at least as large as sockaddr_un; we write
    // the family and at most `max` name bytes into sun_path and report the length used.
    let ((), sa) = unsafe {
        SockAddr::try_init(|storage, len| {
            let un = storage.cast::<libc::sockaddr_un>();
            (*un).sun_family = libc::AF_UNIX as libc::sa_family_t;
            let path = std::ptr::addr_of_mut!((*un).sun_path).cast::<u8>();
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), path, bytes.len());
            let mut sl = std::mem::size_of::<libc::sa_family_t>();
            if !bytes.is_empty() {
                sl += bytes.len() + 1;
            }
            if abstract_name {
                // The '@' stands for the leading NUL, and no trailing NUL is counted.
                *path = 0;
                sl -= 1;
            }
            *len = sl as libc::socklen_t;
            Ok(())
        })
    }?;
    Ok(sa)
}

/// Go: `unixSocket` in "listen" mode: a socket of the network's type bound to `laddr`
/// (and listening, for the stream types).
fn unix_listen_socket(
    lc: &ListenConfig,
    network: &str,
    laddr: &UnixAddr,
) -> io::Result<socket2::Socket> {
    let fail = |err: BoxError| listen_error(network, laddr, err);
    let sa = unix_sockaddr(&laddr.name).map_err(|e| fail(SyscallError::new("bind", e).into()))?;
    let sotype = unix_sotype(network);
    let spec = SocketSpec {
        ctrl_network: network,
        ctrl_address: &laddr.name,
        family: Domain::UNIX,
        sotype,
        ipv6only: None,
        reuse_addr: false,
        accepted: None,
        laddr: &sa,
        control: lc.control.as_ref(),
    };
    socket(&spec).map_err(|e| match e {
        SocketError::Sys(s) => fail(s.into()),
        SocketError::Control(c) => fail(c),
    })
}

/// Go's `&OpError{Op: "listen", Net: network, Addr: laddr, Err: err}`.
fn listen_error(network: &str, laddr: &UnixAddr, err: BoxError) -> io::Error {
    OpError::new("listen", network, err)
        .with_addrs(None, Some(Addr::Unix(laddr.clone())))
        .into()
}

/// Go: `sysListener.listenUnix`: bind (and, for streams, listen) on `laddr`.
pub(crate) fn sys_listen_unix(
    lc: &ListenConfig,
    network: &str,
    laddr: &UnixAddr,
) -> io::Result<Listener> {
    let sock = unix_listen_socket(lc, network, laddr)?;
    let fail = |err: BoxError| listen_error(network, laddr, err);
    let fd = NetFd::new(sock, intern_network(network), true)
        .map_err(|e| fail(SyscallError::new("epollctl", e).into()))?;
    fd.set_addrs_from_kernel()
        .map_err(|e| fail(SyscallError::new("getsockname", e).into()))?;
    // Go unlinks the path it bound on Close, never an abstract or autobound name.
    let unlink = (!laddr.name.is_empty() && !laddr.name.starts_with('@'))
        .then(|| PathBuf::from(&laddr.name));
    Ok(Listener {
        fd: std::sync::Arc::new(fd),
        proxy: None,
        unlink_on_close: AtomicBool::new(unlink.is_some()),
        unlink,
    })
}

/// Go: `sysListener.listenUnixgram`: a datagram socket bound to `laddr`. Its socket file
/// stays when it closes, as in Go (a `UnixConn` has no unlink-on-close). For "unix" and
/// "unixpacket", which Go's `ListenPacket` also takes, the socket listens.
pub(crate) fn sys_listen_unixgram(
    lc: &ListenConfig,
    network: &str,
    laddr: &UnixAddr,
) -> io::Result<NetFd> {
    let sock = unix_listen_socket(lc, network, laddr)?;
    let fail = |err: BoxError| listen_error(network, laddr, err);
    let fd = NetFd::new(sock, intern_network(network), false)
        .map_err(|e| fail(SyscallError::new("epollctl", e).into()))?;
    fd.set_dgram_addrs_from_kernel()
        .map_err(|e| fail(SyscallError::new("getsockname", e).into()))?;
    Ok(fd)
}
