//! systemd socket activation: the listening sockets a launcher opened for this process.
//!
//! Go servers use `github.com/coreos/go-systemd/activation` (files_unix.go: `Files`;
//! listeners.go: `Listeners`, `ListenersWithNames`; packetconns.go: `PacketConns`); this
//! is that package for gonet.
//! The protocol is `sd_listen_fds(3)`: the launcher (systemd for a `.socket` unit,
//! `systemd-socket-activate` for a try on the command line) passes the sockets as
//! descriptors 3, 4, ..., with `LISTEN_PID` (the process meant), `LISTEN_FDS` (how many)
//! and optionally `LISTEN_FDNAMES` (their names, `:`-separated, from `FileDescriptorName=`
//! or `--fdname=`).
//!
//! ```no_run
//! use gonet::net::{self, activation};
//!
//! // systemd-socket-activate -l 127.0.0.1:8080 --fdname=web ./server
//! let mut by_name = activation::listeners_with_names()?;
//! let ln = match by_name.remove("web").and_then(|mut v| v.pop()) {
//!     Some(ln) => ln,
//!     None => net::listen("tcp", ":8080")?, // started by hand: listen ourselves
//! };
//! eprintln!("serving on {}", ln.addr()); // the inherited address
//! loop {
//!     let conn = ln.accept()?;
//!     gonet::go!(move || drop(conn));
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The environment variables are removed when the descriptors are taken (go-systemd's
//! `unsetEnv`), so that a child process does not take them for its own; like any
//! `std::env::remove_var`, do it before starting threads that read the environment.
//! The descriptors are handed out once per process: a second call finds none, since two
//! owners of one descriptor would close it twice.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::net::{Listener, PacketConn};

/// The first inherited descriptor. Go (go-systemd): `listenFdsStart`; C:
/// `SD_LISTEN_FDS_START`.
pub const LISTEN_FDS_START: RawFd = 3;

/// An inherited descriptor and its name.
///
/// Go: the `*os.File` that go-systemd's `Files` returns, `f.Name()` being the name
/// given in `LISTEN_FDNAMES`, else `LISTEN_FD_<n>`. Dropping it closes the descriptor.
///
/// ```
/// // Without a launcher there is nothing to inherit.
/// assert!(gonet::net::activation::files(false).is_empty());
/// ```
#[derive(Debug)]
pub struct File {
    fd: OwnedFd,
    name: String,
}

impl File {
    /// The name: `LISTEN_FDNAMES`'s entry for it, or `LISTEN_FD_3`, `LISTEN_FD_4`, ...
    /// Go: `f.Name()`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The descriptor, to keep (for [`file_listener`](crate::net::file_listener) or
    /// other uses).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<File> for OwnedFd {
    fn from(f: File) -> OwnedFd {
        f.fd
    }
}

/// Whether this process has taken its inherited descriptors already.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The descriptors passed to this process, in order (3, 4, ...), each made
/// close-on-exec; empty if `LISTEN_PID` is not this process or `LISTEN_FDS` is missing
/// or 0 (started by hand). With `unset_env`, `LISTEN_PID`, `LISTEN_FDS` and
/// `LISTEN_FDNAMES` are removed from the environment: call it at start-up, before the
/// program resolves names or starts threads that read the environment (removing a
/// variable races with a concurrent `getenv`: see [`std::env::remove_var`]).
///
/// Go: go-systemd's `activation.Files(unsetEnv)`. Unlike Go's, a descriptor that is not
/// open is left out (Go would wrap it anyway), and a second call returns nothing: the
/// first one owns the descriptors.
///
/// ```
/// let files = gonet::net::activation::files(true);
/// for f in &files {
///     eprintln!("inherited {} as descriptor {}", f.name(), std::os::fd::AsRawFd::as_raw_fd(f));
/// }
/// ```
pub fn files(unset_env: bool) -> Vec<File> {
    let pid = std::env::var("LISTEN_PID").ok();
    let nfds = std::env::var("LISTEN_FDS").ok();
    let names = std::env::var("LISTEN_FDNAMES").unwrap_or_default();
    if unset_env {
        // go-systemd's deferred os.Unsetenv calls, here before the work: the values
        // were read above.
        // SAFETY: std serialises its own environment reads and writes; what remains is
        // C code reading `environ` on another thread at this moment (getaddrinfo on
        // gonet's resolver threads). `files` runs at start-up, before the program looks
        // up a name or starts such threads, as its doc says (and as go-systemd's is used).
        unsafe {
            std::env::remove_var("LISTEN_PID");
            std::env::remove_var("LISTEN_FDS");
            std::env::remove_var("LISTEN_FDNAMES");
        }
    }
    let Some(n) = ours(pid.as_deref(), nfds.as_deref()) else {
        return Vec::new();
    };
    if TAKEN.swap(true, Ordering::AcqRel) {
        return Vec::new();
    }
    let names: Vec<&str> = names.split(':').collect();
    let mut files = Vec::with_capacity(n as usize);
    for fd in LISTEN_FDS_START..LISTEN_FDS_START + n {
        // Go: syscall.CloseOnExec(fd). A descriptor that is not open fails here.
        // SAFETY: fcntl with F_SETFD reads no memory; a closed `fd` is EBADF.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            log::warn!(
                "gonet: LISTEN_FDS names descriptor {fd}, which is not open: {}",
                io::Error::last_os_error()
            );
            continue;
        }
        let offset = (fd - LISTEN_FDS_START) as usize;
        let name = match names.get(offset) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => format!("LISTEN_FD_{fd}"),
        };
        // SAFETY: the launcher passed `fd` to this process to own (sd_listen_fds(3)), it
        // is open (checked above), and TAKEN makes this the only owner gonet creates.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        files.push(File { fd, name });
    }
    files
}

/// The number of descriptors meant for this process, from `LISTEN_PID` and
/// `LISTEN_FDS`; `None` when they are not ours, absent, 0 or out of range.
fn ours(pid: Option<&str>, nfds: Option<&str>) -> Option<i32> {
    let pid: u32 = pid?.parse().ok()?;
    if pid != std::process::id() {
        return None;
    }
    let n: i32 = nfds?.parse().ok()?;
    // Descriptors 3..3+n must be valid numbers.
    (n > 0 && n <= i32::MAX - LISTEN_FDS_START).then_some(n)
}

/// A listener for each inherited descriptor, in order, `None` for those that are not
/// listening sockets (a UDP socket, say). The environment is cleared as by
/// [`files(true)`](files).
///
/// Go: go-systemd's `activation.Listeners()`. As there, each original descriptor is
/// closed once its listener (which holds a duplicate) is made; the others are closed
/// too here (Go leaves them open, with no way to reach them): use [`files`] to keep them.
///
/// ```
/// let listeners = gonet::net::activation::listeners()?;
/// assert!(listeners.is_empty()); // not started by a launcher
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn listeners() -> io::Result<Vec<Option<Listener>>> {
    Ok(files(true)
        .into_iter()
        .map(|f| crate::net::file_listener(&f).ok())
        .collect())
}

/// The inherited listeners by name (`LISTEN_FDNAMES`, `--fdname=`), in order within
/// each name; descriptors that are not listening sockets are left out (and closed).
///
/// Go: go-systemd's `activation.ListenersWithNames()`.
///
/// ```
/// let by_name = gonet::net::activation::listeners_with_names()?;
/// assert!(by_name.get("web").is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn listeners_with_names() -> io::Result<HashMap<String, Vec<Listener>>> {
    let mut by_name: HashMap<String, Vec<Listener>> = HashMap::new();
    for f in files(true) {
        if let Ok(ln) = crate::net::file_listener(&f) {
            by_name.entry(f.name).or_default().push(ln);
        }
    }
    Ok(by_name)
}

/// A packet conn for each inherited descriptor, in order, `None` for those that are not
/// datagram sockets. The environment is cleared as by [`files(true)`](files).
///
/// Go: go-systemd's `activation.PacketConns()` (`systemd-socket-activate --datagram`,
/// a `ListenDatagram=` socket unit). As for [`listeners`], the originals are closed.
///
/// ```
/// assert!(gonet::net::activation::packet_conns()?.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn packet_conns() -> io::Result<Vec<Option<PacketConn>>> {
    Ok(files(true)
        .into_iter()
        .map(|f| crate::net::file_packet_conn(&f).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::ours;

    #[test]
    fn only_this_process_with_a_count_is_activated() {
        let me = std::process::id().to_string();
        assert_eq!(ours(Some(&me), Some("2")), Some(2));
        assert_eq!(ours(Some(&me), Some("0")), None);
        assert_eq!(ours(Some(&me), Some("-1")), None);
        assert_eq!(ours(Some(&me), Some("x")), None);
        assert_eq!(ours(Some(&me), None), None);
        assert_eq!(ours(Some(&me), Some("2147483647")), None);
        assert_eq!(ours(Some("1"), Some("2")), None);
        assert_eq!(ours(None, Some("2")), None);
        assert_eq!(ours(Some(""), Some("2")), None);
    }
}
