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

use crate::dial::{intern_network, ListenConfig};
use crate::error::{BoxError, OpError, SyscallError};
use crate::fd::NetFd;
use crate::net::{Addr, Conn, Listener, UnixAddr};
use crate::sock::{socket, SocketError, SocketSpec};

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
#[derive(Debug, Clone)]
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
        if conn.fd.net().starts_with("unix") {
            Ok(UnixConn(conn))
        } else {
            Err(conn)
        }
    }
}

crate::net::conn_io!(UnixConn, |c| c.0);

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

/// Go: `sysListener.listenUnix`: bind (and, for streams, listen) on `laddr`.
pub(crate) fn listen_unix(
    lc: &ListenConfig,
    network: &str,
    laddr: &UnixAddr,
) -> io::Result<Listener> {
    let fail = |err: BoxError| -> io::Error {
        OpError::new("listen", network, err)
            .with_addrs(None, Some(Addr::Unix(laddr.clone())))
            .into()
    };
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
    let sock = socket(&spec).map_err(|e| match e {
        SocketError::Sys(s) => fail(s.into()),
        SocketError::Control(c) => fail(c),
    })?;
    let fd = NetFd::new(sock, intern_network(network), true)
        .map_err(|e| fail(SyscallError::new("epollctl", e).into()))?;
    fd.set_addrs_from_kernel()
        .map_err(|e| fail(SyscallError::new("getsockname", e).into()))?;
    // Go unlinks the path it bound on Close, never an abstract or autobound name.
    let unlink = (!laddr.name.is_empty() && !laddr.name.starts_with('@'))
        .then(|| PathBuf::from(&laddr.name));
    Ok(Listener {
        fd,
        unlink_on_close: AtomicBool::new(unlink.is_some()),
        unlink,
    })
}
