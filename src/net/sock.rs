//! Creating a socket and making it listen.
//!
//! Go: `src/net/sock_posix.go` (`socket`, `netFD.listenStream`) and `sock_linux.go`
//! (`maxListenerBacklog`). The chain is Go's: `sys_socket` (non-blocking, close-on-exec),
//! the default listener options, the user's `Control` hook, `bind`, then `listen` with
//! the system's backlog.

use std::os::fd::AsFd;
use std::sync::OnceLock;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::net::dial::ControlFn;
use crate::net::error::SyscallError;
use crate::net::{Addr, UnixAddr};

/// What `socket` needs to make a listening socket.
pub(crate) struct SocketSpec<'a> {
    /// Go's network name, as passed to the Control hook ("tcp4", "tcp6", "unix").
    pub ctrl_network: &'a str,
    /// The address as passed to the Control hook (Go's `laddr.String()`).
    pub ctrl_address: &'a str,
    pub family: Domain,
    pub sotype: Type,
    /// `Some(v)`: set IPV6_V6ONLY to `v` (Go sets it on every AF_INET6 socket).
    pub ipv6only: Option<bool>,
    /// TCP listeners get SO_REUSEADDR (Go's `setDefaultListenerSockopts`).
    pub reuse_addr: bool,
    /// TCP listeners: the options their accepted conns inherit.
    pub accepted: Option<crate::net::sockopt::AcceptedTcpOpts>,
    pub laddr: &'a SockAddr,
    pub control: Option<&'a ControlFn>,
}

/// Why `socket` failed: a system call, or the Control hook's own error.
pub(crate) enum SocketError {
    Sys(SyscallError),
    Control(Box<dyn std::error::Error + Send + Sync>),
}

impl From<SyscallError> for SocketError {
    fn from(e: SyscallError) -> SocketError {
        SocketError::Sys(e)
    }
}

/// Go: `socket` for the listening case: `sysSocket`, options, `listenStream`.
pub(crate) fn socket(spec: &SocketSpec<'_>) -> Result<Socket, SocketError> {
    let sock = sys_socket(spec.family, spec.sotype)?;
    if let Some(only) = spec.ipv6only {
        sock.set_only_v6(only)
            .map_err(|e| SyscallError::new("setsockopt", e))?;
    }
    // Go's setDefaultSockopts: IP datagram sockets may broadcast.
    if spec.sotype == Type::DGRAM && spec.family != Domain::UNIX {
        sock.set_broadcast(true)
            .map_err(|e| SyscallError::new("setsockopt", e))?;
    }
    if spec.reuse_addr {
        crate::net::sockopt::set_default_listener_sockopts(&sock)?;
    }
    if let Some(opts) = spec.accepted {
        crate::net::sockopt::set_accepted_tcp_opts_on_listener(&sock, opts)?;
    }
    listen_stream(&sock, spec, listener_backlog())?;
    Ok(sock)
}

/// The network name the Control hook sees. Go: `netFD.ctrlNetwork`: "tcp4"/"tcp6" for
/// a "tcp" socket by its family; explicit and Unix names as they are.
pub(crate) fn ctrl_network(network: &str, family: Domain) -> String {
    match network.as_bytes().last() {
        Some(b'4' | b'6') => network.to_string(),
        _ if network.starts_with("unix") => network.to_string(),
        _ if family == Domain::IPV4 => format!("{network}4"),
        _ => format!("{network}6"),
    }
}

/// Go: `sysSocket`: a socket that is non-blocking and close-on-exec from birth.
pub(crate) fn sys_socket(family: Domain, sotype: Type) -> Result<Socket, SyscallError> {
    Socket::new(family, sotype.nonblocking().cloexec(), None)
        .map_err(|e| SyscallError::new("socket", e))
}

/// Go: `netFD.listenStream` (and `listenDatagram`): the Control hook, bind, listen.
fn listen_stream(sock: &Socket, spec: &SocketSpec<'_>, backlog: i32) -> Result<(), SocketError> {
    if let Some(control) = spec.control {
        control(spec.ctrl_network, spec.ctrl_address, sock.as_fd())
            .map_err(SocketError::Control)?;
    }
    sock.bind(spec.laddr)
        .map_err(|e| SyscallError::new("bind", e))?;
    // A datagram socket is only bound (Go: `listenDatagram`).
    if spec.sotype != Type::DGRAM {
        sock.listen(backlog)
            .map_err(|e| SyscallError::new("listen", e))?;
    }
    Ok(())
}

/// The backlog for every listener: `/proc/sys/net/core/somaxconn`, read once.
///
/// Go: `listenerBacklog()` / `maxListenerBacklog()` (sock_linux.go). On a read or parse
/// failure, or a value of 0, Go uses `syscall.SOMAXCONN` (128); kernels before 4.1 kept
/// the value in 16 bits, so larger values are clamped to 65535 there. (may's own
/// `TcpListener::bind` uses 1024 and std uses 128, so a burst of connects overflows their
/// queues where Go's does not.)
pub fn listener_backlog() -> i32 {
    static BACKLOG: OnceLock<i32> = OnceLock::new();
    *BACKLOG.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap_or_default();
        backlog_from(&text, kernel_version())
    })
}

/// Go's rule, apart from the I/O: parse, fall back to 128, clamp on old kernels.
pub(crate) fn backlog_from(somaxconn: &str, kernel: Option<(u32, u32)>) -> i32 {
    const SOMAXCONN: i32 = 128;
    let n = match somaxconn.trim().parse::<u32>() {
        Ok(0) | Err(_) => return SOMAXCONN,
        Ok(n) => n,
    };
    let old_kernel = kernel.is_some_and(|(major, minor)| major < 4 || (major == 4 && minor < 1));
    let n = if n > 0xFFFF && old_kernel { 0xFFFF } else { n };
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The running kernel's (major, minor) version, from uname(2).
fn kernel_version() -> Option<(u32, u32)> {
    // SAFETY: utsname is plain data; uname fills it and NUL-terminates its strings.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uts is a valid, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let release: String = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A kernel socket address as Go's `Addr` for network `net`.
pub(crate) fn sockaddr_to_addr(sa: &SockAddr, net: &str) -> Addr {
    if let Some(ip) = sa.as_socket() {
        if net.starts_with("udp") {
            return Addr::Udp(crate::net::UdpAddr::from(ip));
        }
        return Addr::from(ip);
    }
    let unix_net = if net.starts_with("unix") { net } else { "unix" };
    let name = if let Some(path) = sa.as_pathname() {
        path.to_string_lossy().into_owned()
    } else if let Some(abs) = sa.as_abstract_namespace() {
        format!("@{}", String::from_utf8_lossy(abs))
    } else {
        // An unnamed socket (a client that did not bind): Go prints "@".
        "@".to_string()
    };
    Addr::Unix(UnixAddr::new(name, unix_net))
}

#[cfg(test)]
mod tests {
    use super::backlog_from;

    #[test]
    fn backlog_follows_go() {
        assert_eq!(backlog_from("4096\n", Some((6, 1))), 4096);
        assert_eq!(backlog_from("0\n", Some((6, 1))), 128);
        assert_eq!(backlog_from("junk", Some((6, 1))), 128);
        assert_eq!(backlog_from("", None), 128);
        assert_eq!(backlog_from("100000", Some((4, 0))), 65535);
        assert_eq!(backlog_from("100000", Some((3, 19))), 65535);
        assert_eq!(backlog_from("100000", Some((4, 1))), 100000);
    }
}
