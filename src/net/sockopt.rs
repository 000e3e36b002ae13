//! Socket options Go sets for you.
//!
//! Go: `src/net/sockopt_posix.go`, `sockopt_linux.go` (`setDefaultListenerSockopts`) and
//! `tcpsockopt_unix.go` (`setKeepAlivePeriod`), plus `newTCPConn`, which turns on
//! TCP_NODELAY and keep-alive for every accepted and dialed TCP connection.

use std::io;
use std::time::Duration;

use socket2::{Socket, TcpKeepalive};

use crate::net::error::SyscallError;
use crate::net::fd::NetFd;

/// Go's keep-alive period when `ListenConfig.KeepAlive` / `Dialer.KeepAlive` is zero.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Go: `setDefaultListenerSockopts`: SO_REUSEADDR, so a restarted server can bind while
/// old connections sit in TIME_WAIT. (Not SO_REUSEPORT: a second listener on a taken
/// port must fail, as in Go.)
pub(crate) fn set_default_listener_sockopts(sock: &Socket) -> Result<(), SyscallError> {
    sock.set_reuse_address(true)
        .map_err(|e| SyscallError::new("setsockopt", e))
}

/// Go: `setKeepAlivePeriod`: idle time and probe interval both set to `period`
/// (rounded up to whole seconds, at least one).
pub(crate) fn set_keep_alive_period(sock: &Socket, period: Duration) -> io::Result<()> {
    let secs = Duration::from_secs(period.as_secs().max(1) + u64::from(period.subsec_nanos() > 0));
    let params = TcpKeepalive::new().with_time(secs).with_interval(secs);
    sock.set_tcp_keepalive(&params)
}

/// Go's `newTCPConn` options for a dialed conn: TCP_NODELAY, then keep-alive with
/// `keep_alive` as the period (`None`: leave keep-alive off).
pub(crate) fn set_tcp_conn_opts(fd: &NetFd, keep_alive: Option<Duration>) -> io::Result<()> {
    fd.set_nodelay(true)?;
    if let Some(period) = keep_alive {
        // set_tcp_keepalive also turns SO_KEEPALIVE on.
        fd.set_keep_alive_period(period)?;
    }
    Ok(())
}

/// The options every conn accepted from a TCP listener gets: Go's `newTCPConn` sets
/// TCP_NODELAY and the `ListenConfig.KeepAlive` period on each one after `accept`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AcceptedTcpOpts {
    /// The keep-alive period; `None` leaves keep-alive off.
    pub keep_alive: Option<Duration>,
}

/// Sets [`AcceptedTcpOpts`] on the listening socket, before it listens, instead of on
/// each accepted conn: Linux builds every accepted socket as a copy of the listener
/// (`tcp_create_openreq_child` -> `inet_csk_clone_lock` -> `sk_clone_lock` in
/// net/ipv4/tcp_minisocks.c and net/core/sock.c), so TCP_NODELAY, SO_KEEPALIVE,
/// TCP_KEEPIDLE and TCP_KEEPINTVL arrive already set, and the keep-alive timer starts
/// with the connection. The same conns as Go's, without four `setsockopt` calls in the
/// accept loop, which is what paces a burst of connects (bench/PROFILE.md).
/// tests/listen.rs reads the options back from accepted conns.
pub(crate) fn set_accepted_tcp_opts_on_listener(
    sock: &Socket,
    opts: AcceptedTcpOpts,
) -> Result<(), SyscallError> {
    let syscall = |e| SyscallError::new("setsockopt", e);
    sock.set_tcp_nodelay(true).map_err(syscall)?;
    if let Some(period) = opts.keep_alive {
        set_keep_alive_period(sock, period).map_err(syscall)?;
    }
    Ok(())
}
