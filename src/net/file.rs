//! Sockets taken over from a descriptor, and descriptors handed out for sockets.
//!
//! Go: `src/net/file.go` (`FileConn`, `FileListener`, `fileAddr`) and `file_unix.go`
//! (`dupSocket`, `newFileFD`, `fileConn`, `fileListener`), with the `File` methods of
//! `net.go`, `tcpsock.go` and `unixsock.go` (`netFD.dup`); `FilePacketConn` is in
//! packetconn.rs, beside `PacketConn`. This is how a server takes the sockets systemd
//! opened for it ([`activation`](crate::net::activation)) and how a zero-downtime
//! restart passes its listener to the new process.
//!
//! Every call works on a duplicate, as Go's do: `file_listener(&f)` leaves `f` open and
//! yours to close, and `ln.file()` hands out a new descriptor that `ln.close()` does not
//! close. The socket itself lives until its last descriptor is closed.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicBool;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::net::error::{BoxError, Errno, OpError, SyscallError};
use crate::net::fd::{Fail, NetFd};
use crate::net::{Addr, Conn, Listener, TcpAddr, UnixAddr};

/// A listener for the listening socket behind descriptor `f` (a duplicate of it: close
/// `f` when you no longer need it). TCP and Unix-domain sockets are accepted; `accept`
/// on one that is not listening fails as Go's does.
///
/// Go: `net.FileListener(f)`. Errors are Go's, naming the file as Go's `f.Name()` would
/// for a file opened by path (the target of `/proc/self/fd/N`):
/// `file file+net /etc/hosts: getsockopt: socket operation on non-socket`, and
/// `invalid argument` for a socket that cannot listen (UDP).
///
/// ```
/// use gonet::net;
/// let ln = net::listen("tcp", "127.0.0.1:0")?;
/// let fd = ln.file()?; // what a parent passes to its successor
/// let inherited = net::file_listener(&fd)?;
/// assert_eq!(inherited.addr(), ln.addr());
/// ln.close()?; // the socket stays open: `fd` and `inherited` hold it
/// let _client = net::dial("tcp", &inherited.addr().to_string())?;
/// assert!(inherited.accept().is_ok());
///
/// let hosts = std::fs::File::open("/etc/hosts")?;
/// let err = net::file_listener(&hosts).unwrap_err();
/// assert_eq!(err.to_string(), "file file+net /etc/hosts: getsockopt: socket operation on non-socket");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn file_listener(f: impl AsFd) -> io::Result<Listener> {
    let f = f.as_fd();
    file_listener_inner(f).map_err(|e| file_error(f, e))
}

/// A connection for the connected socket behind descriptor `f` (a duplicate of it).
/// TCP conns get TCP_NODELAY, as Go's `newTCPConn` sets.
///
/// Go: `net.FileConn(f)`; errors as for [`file_listener`].
///
/// ```
/// use gonet::net;
/// let ln = net::listen("tcp", "127.0.0.1:0")?;
/// let client = net::dial("tcp", &ln.addr().to_string())?;
/// let copy = net::file_conn(&client.file()?)?;
/// assert_eq!(copy.local_addr(), client.local_addr());
/// assert_eq!(copy.remote_addr(), ln.addr());
/// assert_ne!(copy, client); // another Conn for the same socket
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn file_conn(f: impl AsFd) -> io::Result<Conn> {
    let f = f.as_fd();
    file_conn_inner(f).map_err(|e| file_error(f, e))
}

/// Go: `fileListener`.
fn file_listener_inner(f: BorrowedFd<'_>) -> Result<Listener, BoxError> {
    let file = new_file_fd(f)?;
    match &file.laddr {
        Addr::Tcp(_) => {
            // Go's accept gives every conn TCP_NODELAY and the default keep-alive (a
            // file listener has a zero ListenConfig); gonet sets both on the listening
            // socket, which Linux copies into each accepted one (sockopt.rs). Best
            // effort, as in Go, where accept ignores these errors.
            let opts = crate::net::sockopt::AcceptedTcpOpts {
                keep_alive: Some(crate::net::sockopt::DEFAULT_KEEP_ALIVE),
            };
            if let Err(e) = crate::net::sockopt::set_accepted_tcp_opts_on_listener(&file.sock, opts)
            {
                log::debug!("gonet: options on an inherited listener: {e}");
            }
        }
        Addr::Unix(_) => {}
        _ => return Err(Errno(libc::EINVAL).into()),
    }
    let fd = NetFd::new(file.sock, file.net, true).map_err(errno_of)?;
    fd.set_addrs(file.laddr, None);
    // Go: UnixListener{unlink: false}: the file is not ours to remove.
    Ok(Listener {
        fd: std::sync::Arc::new(fd),
        proxy: None,
        unlink: None,
        unlink_on_close: AtomicBool::new(false),
    })
}

/// Go: `fileConn`. UDP and `unixgram` sockets give a connected datagram `Conn`.
fn file_conn_inner(f: BorrowedFd<'_>) -> Result<Conn, BoxError> {
    let file = new_file_fd(f)?;
    let tcp = matches!(file.laddr, Addr::Tcp(_));
    let fd = NetFd::new(file.sock, file.net, false).map_err(errno_of)?;
    fd.set_addrs(file.laddr, file.raddr);
    if tcp {
        // Go: newTCPConn -> setNoDelay(fd, true), its error ignored.
        let _ = fd.set_nodelay(true);
    }
    Ok(Conn::new(fd))
}

/// The socket behind `f`, duplicated, with what Go's `newFileFD` learns of it.
struct FileFd {
    sock: Socket,
    net: &'static str,
    laddr: Addr,
    raddr: Option<Addr>,
}

/// Go: `dupSocket`: a close-on-exec duplicate, made non-blocking.
fn dup_socket(f: BorrowedFd<'_>) -> Result<Socket, BoxError> {
    let dup = dup_cloexec(f.as_raw_fd()).map_err(|e| SyscallError::new("fcntl", e))?;
    let sock = Socket::from(dup);
    sock.set_nonblocking(true)
        .map_err(|e| SyscallError::new("setnonblock", e))?;
    Ok(sock)
}

/// Go: `poll.DupCloseOnExec`: `fcntl(fd, F_DUPFD_CLOEXEC, 0)`.
fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC reads no memory; a bad `fd` is EBADF.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `n` is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Go: `newFileFD`: the socket type, its addresses, and so its network.
fn new_file_fd(f: BorrowedFd<'_>) -> Result<FileFd, BoxError> {
    let sock = dup_socket(f)?;
    let sotype = sock
        .r#type()
        .map_err(|e| SyscallError::new("getsockopt", e))?;
    let lsa = sock.local_addr().ok();
    let rsa = sock.peer_addr().ok();
    let family = match &lsa {
        Some(sa) if matches!(sa.domain(), Domain::IPV4 | Domain::IPV6 | Domain::UNIX) => {
            sa.domain()
        }
        _ => return Err(Errno(libc::EPROTONOSUPPORT).into()),
    };
    // Go: netFD.addrFunc, then fd.net = laddr.Network().
    let net = match (family, sotype) {
        (Domain::UNIX, Type::STREAM) => "unix",
        (Domain::UNIX, Type::DGRAM) => "unixgram",
        (Domain::UNIX, Type::SEQPACKET) => "unixpacket",
        (Domain::UNIX, _) => return Err(Errno(libc::EPROTONOSUPPORT).into()),
        (_, Type::STREAM) => "tcp",
        (_, Type::DGRAM) => "udp",
        (_, Type::RAW) => "ip",
        // Go's addrFunc has no address type for these (SCTP, say) and would crash.
        _ => return Err(Errno(libc::EPROTONOSUPPORT).into()),
    };
    let to_addr = |sa: &SockAddr| file_addr(sa, net);
    let laddr = lsa
        .as_ref()
        .map(to_addr)
        .ok_or(Errno(libc::EPROTONOSUPPORT))?;
    let raddr = rsa.as_ref().map(to_addr);
    Ok(FileFd {
        sock,
        net,
        laddr,
        raddr,
    })
}

/// Go: `sockaddrToTCP` / `sockaddrToUDP` / `sockaddrToIP` / `sockaddrToUnix*`.
fn file_addr(sa: &SockAddr, net: &'static str) -> Addr {
    match (sa.as_socket(), net) {
        (Some(ip), "ip") => Addr::Ip(TcpAddr::from(ip)),
        (None, _) => match crate::net::sock::sockaddr_to_addr(sa, net) {
            Addr::Unix(u) => Addr::Unix(UnixAddr::new(u.name, net)),
            other => other,
        },
        _ => crate::net::sock::sockaddr_to_addr(sa, net),
    }
}

/// An error of `newFD`'s `init` (the poller refused the socket): Go returns the bare
/// errno.
fn errno_of(e: io::Error) -> BoxError {
    match e.raw_os_error() {
        Some(n) => Errno(n).into(),
        None => e.into(),
    }
}

/// Go: `&OpError{Op: "file", Net: "file+net", Addr: fileAddr(f.Name()), Err: err}`.
fn file_error(f: BorrowedFd<'_>, err: BoxError) -> io::Error {
    OpError::new("file", "file+net", err)
        .with_addrs(None, Some(Addr::File(file_name(f))))
        .into()
}

/// What Go's `f.Name()` is for a file opened by path: the path, read back from
/// `/proc/self/fd`; other descriptors have the kernel's name for them (`socket:[N]`,
/// `pipe:[N]`), or their number if even that is unknown.
fn file_name(f: BorrowedFd<'_>) -> String {
    let fd = f.as_raw_fd();
    match std::fs::read_link(format!("/proc/self/fd/{fd}")) {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(_) => format!("fd {fd}"),
    }
}

/// The error of a `file()` call: Go's `&OpError{Op: "file", Net: fd.net, ...}`.
fn dup_error(fd: &NetFd, listener: bool, fail: Fail) -> io::Error {
    let e = OpError::new("file", fd.net(), fail.into_cause());
    let e = if listener {
        e.with_addrs(None, Some(fd.local_addr()))
    } else {
        e.with_addrs(Some(fd.local_addr()), fd.raddr())
    };
    e.into()
}

impl Listener {
    /// A new descriptor for the listening socket (close-on-exec), for a child process
    /// to take over with [`file_listener`]. Closing the listener does not close it, nor
    /// the other way round: the socket keeps accepting as long as either is open.
    ///
    /// Go: `TCPListener.File()` / `UnixListener.File()`, which return an `*os.File`;
    /// here an [`OwnedFd`], which converts into `std::fs::File`,
    /// `std::net::TcpListener` or `socket2::Socket` if you need one of those. The
    /// duplicate shares the socket's file status flags, non-blocking included, as Go's
    /// does. To hand it to a child, make it the child's descriptor 3 (say) with
    /// `dup2` in `std::os::unix::process::CommandExt::pre_exec`, which also clears
    /// close-on-exec on the copy.
    ///
    /// ```
    /// let ln = gonet::listen("tcp", "127.0.0.1:0")?;
    /// let fd = ln.file()?;
    /// ln.close()?;
    /// let err = ln.file().unwrap_err();
    /// assert!(err.to_string().starts_with("file tcp 127.0.0.1:"));
    /// assert!(gonet::is_closed(&err));
    /// let again = gonet::net::file_listener(fd)?;
    /// assert_eq!(again.addr(), ln.addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file(&self) -> io::Result<OwnedFd> {
        self.fd.dup().map_err(|f| dup_error(&self.fd, true, f))
    }
}

impl Conn {
    /// A new descriptor for the connection's socket (close-on-exec): closing the
    /// `Conn` does not close it, nor the other way round.
    ///
    /// Go: `conn.File()` (an `*os.File`; here an [`OwnedFd`]: see [`Listener::file`]).
    /// After `close()`: `file tcp L->R: use of closed network connection`.
    ///
    /// ```
    /// use std::io::Read;
    /// let ln = gonet::listen("tcp", "127.0.0.1:0")?;
    /// let client = gonet::dial("tcp", &ln.addr().to_string())?;
    /// let server = ln.accept()?;
    /// let mut raw = std::net::TcpStream::from(server.file()?);
    /// server.close()?; // the socket stays open through `raw`
    /// client.write(b"still here")?;
    /// raw.set_nonblocking(false)?;
    /// let mut buf = [0u8; 10];
    /// raw.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"still here");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file(&self) -> io::Result<OwnedFd> {
        match self.sock() {
            Some(fd) => fd.dup().map_err(|f| dup_error(fd, false, f)),
            // Go's pipe has no File method.
            None => Err(crate::net::pipe::unsupported("file")),
        }
    }
}
