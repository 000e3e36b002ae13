//! Zero-downtime restarts: hand the listening sockets to a freshly started copy of the
//! program, let it get ready, then drain and exit.
//!
//! Go services use `github.com/cloudflare/tableflip` for this; this module is that
//! package for gonet, with its names (`New`, `Listen`, `Ready`, `Upgrade`, `Exit`,
//! `Stop`, `HasParent`, `WaitForParent`) and its error texts.
//!
//! ```no_run
//! use std::time::Duration;
//! use gonet::net::tableflip::{self, Upgrader};
//! use gonet::signal::{self, Signal};
//!
//! // upg, _ := tableflip.New(tableflip.Options{})
//! let upg = Upgrader::new(tableflip::Options::default())?;
//! // go func() { for range sig { upg.Upgrade() } }()
//! let (tx, sigs) = gonet::chan::<Signal>(1);
//! signal::notify(&tx, &[Signal::HUP])?;
//! let u = upg.clone();
//! gonet::go!(move || for _ in &sigs {
//!     if let Err(e) = u.upgrade() {
//!         eprintln!("upgrade failed: {e}");
//!     }
//! });
//! // ln, _ := upg.Listen("tcp", "localhost:8080"): the parent's socket, or a new one.
//! let ln = upg.listen("tcp", "127.0.0.1:8080")?;
//! let server = gonet::Server::new();
//! let s = server.clone();
//! let serving = std::thread::spawn(move || s.serve(ln, |conn| drop(conn)));
//! upg.ready()?; // the parent, if any, now drains and exits
//! upg.exit().recv(); // <-upg.Exit(): a successor is ready
//! server.shutdown(Duration::from_secs(30)); // drain what this process accepted
//! serving.join().unwrap()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How it works (tableflip's protocol, on Linux)
//! [`Upgrader::upgrade`] starts the program again (the executable this process was
//! started from, with the same arguments and environment) with, as descriptors 3, 4,
//! 5, ...: the write end of a *ready* pipe, the read end of an *exit* pipe, and a
//! duplicate of every listening socket made by [`Upgrader::listen`]; their names
//! (network and address, as given to `listen`) are in the environment. The new process's
//! [`Upgrader::new`] takes them over, its `listen` returns the inherited socket instead
//! of binding a new one, and its [`Upgrader::ready`] writes one byte on the ready pipe.
//! The old process then closes its [`Upgrader::exit`] channel, stops accepting and
//! drains; the socket stays open in the new process the whole time, so its accept
//! queue keeps every connection that arrives in between: none is refused. When the old
//! process exits, the kernel closes its end of the exit pipe, which is how the new one
//! learns that its parent is gone ([`Upgrader::wait_for_parent`]); only then may it be
//! upgraded in turn. A new process that exits, or is not ready within
//! [`Options::upgrade_timeout`], fails the upgrade (it is killed on timeout) and the old
//! process goes on serving.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::chan::{Receiver, Sender, chan};
use crate::context::Context;
use crate::net::{ListenConfig, Listener, file_listener};

/// How long a new process gets to call [`Upgrader::ready`] before the upgrade fails.
///
/// Go: `tableflip.DefaultUpgradeTimeout`.
pub const DEFAULT_UPGRADE_TIMEOUT: Duration = Duration::from_secs(60);

/// Set in the new process's environment: it was started by an upgrade.
const SENTINEL_ENV: &str = "GONET_TABLEFLIP";
/// The names of the inherited descriptors 5, 6, ...: `network US address`, joined by RS
/// (the ASCII unit and record separators, which no network or address contains).
const NAMES_ENV: &str = "GONET_TABLEFLIP_FDS";
/// The new process's end of the ready pipe, and of the exit pipe.
const READY_FD: RawFd = 3;
const EXIT_FD: RawFd = 4;
/// The first passed socket.
const FIRST_FD: RawFd = 5;
/// The byte that says "ready". Go: tableflip's `notifyReady`.
const NOTIFY_READY: u8 = 42;

/// How an [`Upgrader`] behaves.
///
/// Go: `tableflip.Options`.
///
/// ```
/// let opts = gonet::net::tableflip::Options::default();
/// assert_eq!(opts.upgrade_timeout, gonet::net::tableflip::DEFAULT_UPGRADE_TIMEOUT);
/// assert!(opts.pid_file.is_none());
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    /// How long a new process may take to become ready before the upgrade fails and it
    /// is killed. Go: `UpgradeTimeout` (zero means [`DEFAULT_UPGRADE_TIMEOUT`]).
    pub upgrade_timeout: Duration,
    /// A file the pid of a ready process is written to (atomically: a temporary file
    /// renamed over it), for systemd's `PIDFile=` and `ExecReload=kill -HUP $MAINPID`.
    /// Go: `PIDFile`.
    pub pid_file: Option<PathBuf>,
    /// How [`Upgrader::listen`] makes a socket it did not inherit. Go: `ListenConfig`.
    pub listen_config: ListenConfig,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            upgrade_timeout: DEFAULT_UPGRADE_TIMEOUT,
            pid_file: None,
            listen_config: ListenConfig::default(),
        }
    }
}

/// Hands this process's listening sockets to its successor.
///
/// Go: `*tableflip.Upgrader`. A cheap handle: clone it to call [`upgrade`] from a
/// signal-handling coroutine while another waits on [`exit`]. One per process.
///
/// [`upgrade`]: Upgrader::upgrade
/// [`exit`]: Upgrader::exit
#[derive(Clone)]
pub struct Upgrader {
    inner: Arc<Inner>,
}

struct Inner {
    opts: Options,
    /// The program and arguments the successor is started with.
    exe: PathBuf,
    args: Vec<OsString>,
    state: Mutex<State>,
    /// Closed when this process should exit (a successor is ready, or `stop`).
    exit_tx: Sender<()>,
    exit_rx: Receiver<()>,
    /// Closed when the parent has exited (at once when there is none).
    parent_gone_rx: Receiver<()>,
    parent_gone: Arc<AtomicBool>,
    has_parent: bool,
}

#[derive(Default)]
struct State {
    /// The parent's sockets not (yet) taken by `listen`, by (network, address).
    inherited: HashMap<(String, String), OwnedFd>,
    /// The sockets a successor gets: every listener `listen` returned.
    used: Vec<((String, String), OwnedFd)>,
    /// The parent's ready pipe, until `ready`.
    ready_fd: Option<OwnedFd>,
    ready: bool,
    upgrading: Option<u32>,
    upgraded: bool,
    stopped: bool,
    /// After a successful upgrade: our end of the successor's exit pipe, kept open until
    /// this process exits (the kernel closes it then, which tells the successor).
    exit_pipe: Option<OwnedFd>,
}

static CREATED: AtomicBool = AtomicBool::new(false);

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

impl Upgrader {
    /// The process's upgrader: with the sockets of the parent that started this process
    /// in an upgrade, or none. Only the first call in a process succeeds:
    /// `tableflip: only a single Upgrader allowed`.
    ///
    /// Go: `tableflip.New(opts)`. Call it early, before threads that read the
    /// environment start: it removes the variables the parent set.
    ///
    /// ```
    /// use gonet::net::tableflip::{Options, Upgrader};
    /// let upg = Upgrader::new(Options::default())?;
    /// assert!(!upg.has_parent());
    /// let again = Upgrader::new(Options::default()).err().unwrap();
    /// assert_eq!(again.to_string(), "tableflip: only a single Upgrader allowed");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(opts: Options) -> io::Result<Upgrader> {
        if CREATED.swap(true, Ordering::AcqRel) {
            return Err(err("tableflip: only a single Upgrader allowed"));
        }
        let mut opts = opts;
        if opts.upgrade_timeout.is_zero() {
            opts.upgrade_timeout = DEFAULT_UPGRADE_TIMEOUT;
        }
        let exe = std::env::current_exe()?;
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        let mut state = State::default();
        let (gone_tx, parent_gone_rx) = chan::<()>(0);
        let parent_gone = Arc::new(AtomicBool::new(false));
        let has_parent = std::env::var_os(SENTINEL_ENV).is_some();
        if has_parent {
            let names = std::env::var(NAMES_ENV).unwrap_or_default();
            // SAFETY: std serialises its own environment reads and writes; what remains is
            // C code reading `environ` on another thread at this moment (getaddrinfo on
            // gonet's resolver threads). Only one Upgrader is ever made (CREATED above),
            // at start-up before the program looks up names, as its doc says.
            unsafe {
                std::env::remove_var(SENTINEL_ENV);
                std::env::remove_var(NAMES_ENV);
            }
            state.ready_fd = Some(take_fd(READY_FD)?);
            let exit_fd = take_fd(EXIT_FD)?;
            for (i, name) in names.split('\x1e').filter(|s| !s.is_empty()).enumerate() {
                let (network, address) = name
                    .split_once('\x1f')
                    .ok_or_else(|| err(format!("tableflip: bad inherited name {name:?}")))?;
                let fd = take_fd(FIRST_FD + i as RawFd)?;
                state
                    .inherited
                    .insert((network.to_string(), address.to_string()), fd);
            }
            // The parent's exit closes its end of the pipe: a read returns 0 then.
            let gone = parent_gone.clone();
            std::thread::Builder::new()
                .name("tableflip-parent".into())
                .spawn(move || {
                    let mut f = std::fs::File::from(exit_fd);
                    let mut b = [0u8; 16];
                    while let Ok(n) = io::Read::read(&mut f, &mut b) {
                        if n == 0 {
                            break;
                        }
                    }
                    gone.store(true, Ordering::Release);
                    let _ = gone_tx.close();
                })?;
        } else {
            parent_gone.store(true, Ordering::Release);
            let _ = gone_tx.close();
        }
        let (exit_tx, exit_rx) = chan::<()>(0);
        Ok(Upgrader {
            inner: Arc::new(Inner {
                opts,
                exe,
                args,
                state: Mutex::new(state),
                exit_tx,
                exit_rx,
                parent_gone_rx,
                parent_gone,
                has_parent,
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A listener on `network` ("tcp", "tcp4", "tcp6", "unix", "unixpacket") at
    /// `address`: the parent's socket for the same network and address if it passed one,
    /// else a new one from [`Options::listen_config`]. Either way it is handed on at the
    /// next upgrade. Call it before [`ready`](Upgrader::ready).
    ///
    /// Go: `upg.Listen(network, addr)` (`Fds.Listen`). The address is matched as given,
    /// so a program that listens on `":0"` gets its parent's port, whatever it was.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// let ln = upg.listen("tcp", "127.0.0.1:0")?;
    /// let _c = gonet::dial("tcp", &ln.addr().to_string())?;
    /// assert!(ln.accept().is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn listen(&self, network: &str, address: &str) -> io::Result<Listener> {
        let lc = self.inner.opts.listen_config.clone();
        self.listen_with_callback(network, address, |n, a| lc.listen(n, a))
    }

    /// [`listen`](Upgrader::listen), with `callback` making the socket when none was
    /// inherited (a [`ListenConfig`] of your own, SO_REUSEPORT, ...).
    ///
    /// Go: `Fds.ListenWithCallback(network, addr, callback)`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// let lc = gonet::ListenConfig { keep_alive: None, ..Default::default() };
    /// let ln = upg.listen_with_callback("tcp", "127.0.0.1:0", |n, a| lc.listen(n, a))?;
    /// assert!(ln.addr().to_string().starts_with("127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn listen_with_callback(
        &self,
        network: &str,
        address: &str,
        callback: impl FnOnce(&str, &str) -> io::Result<Listener>,
    ) -> io::Result<Listener> {
        if let Some(ln) = self.listener(network, address)? {
            return Ok(ln);
        }
        let ln = callback(network, address)?;
        let mut st = self.state();
        // The file must outlive this process's listener: the successor serves it (`stop`
        // removes it when there is no successor).
        ln.unlink_on_close.store(false, Ordering::Release);
        let fd = ln.file()?;
        st.used
            .push(((network.to_string(), address.to_string()), fd));
        Ok(ln)
    }

    /// The listener the parent passed for `network` and `address`, if it passed one
    /// (`None` when this process was not started by an upgrade); it is handed on at the
    /// next upgrade.
    ///
    /// Go: `Fds.Listener(network, addr)`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// assert!(upg.listener("tcp", "127.0.0.1:8080")?.is_none()); // no parent
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn listener(&self, network: &str, address: &str) -> io::Result<Option<Listener>> {
        let key = (network.to_string(), address.to_string());
        let mut st = self.state();
        let Some(fd) = st.inherited.remove(&key) else {
            return Ok(None);
        };
        let ln = file_listener(&fd)?;
        st.used.push((key, fd));
        Ok(Some(ln))
    }

    /// Says this process is ready: its parent, if any, closes its exit channel and
    /// drains. The parent's sockets that `listen` did not take are closed, and the pid
    /// file is written.
    ///
    /// Go: `upg.Ready()`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// let _ln = upg.listen("tcp", "127.0.0.1:0")?;
    /// upg.ready()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ready(&self) -> io::Result<()> {
        let ready_fd = {
            let mut st = self.state();
            st.ready = true;
            st.inherited.clear();
            st.ready_fd.take()
        };
        if let Some(path) = &self.inner.opts.pid_file {
            write_pid_file(path)
                .map_err(|e| err(format!("tableflip: can't write PID file: {e}")))?;
        }
        if let Some(fd) = ready_fd {
            let mut f = std::fs::File::from(fd);
            io::Write::write_all(&mut f, &[NOTIFY_READY])
                .map_err(|e| err(format!("tableflip: can't notify parent process: {e}")))?;
        }
        Ok(())
    }

    /// A channel that is closed when this process should exit: a successor is ready
    /// (after [`upgrade`](Upgrader::upgrade)), or [`stop`](Upgrader::stop) was called.
    /// `recv()` on it returns `None` then.
    ///
    /// Go: `<-upg.Exit()`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// let exit = upg.exit();
    /// assert!(exit.try_recv().is_err()); // still running
    /// upg.stop();
    /// assert_eq!(exit.recv(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn exit(&self) -> Receiver<()> {
        self.inner.exit_rx.clone()
    }

    /// No more upgrades; closes the exit channel. Called before an upgrade succeeded
    /// (a plain shutdown), it also removes the socket files of the Unix listeners
    /// `listen` handed out, inherited or new: their listeners do not remove them on
    /// close, since a successor may be serving them.
    /// An upgrade in progress is abandoned and its new process killed.
    ///
    /// Go: `upg.Stop()`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// upg.stop();
    /// assert_eq!(upg.upgrade().unwrap_err().to_string(), "terminating");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(&self) {
        let mut st = self.state();
        if st.stopped {
            return;
        }
        st.stopped = true;
        if let Some(pid) = st.upgrading {
            // SAFETY: kill has no memory preconditions; the pid is our unreaped child
            // (the upgrade reaps it, after this).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        if !st.upgraded {
            // Go: `Fds.closeAndRemoveUsed`: the Unix socket files of every listener
            // handed out, inherited or new (abstract names have none).
            for ((network, address), _) in &st.used {
                if network.starts_with("unix") && !address.is_empty() && !address.starts_with('@') {
                    let _ = std::fs::remove_file(address);
                }
            }
        }
        drop(st);
        let _ = self.inner.exit_tx.close();
    }

    /// Whether this process was started by an upgrade.
    ///
    /// Go: `upg.HasParent()`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// assert!(!upg.has_parent());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn has_parent(&self) -> bool {
        self.inner.has_parent
    }

    /// Waits until the parent has exited (at once when there is none), or `ctx` ends:
    /// then its error (`context canceled`, `context deadline exceeded`).
    ///
    /// Go: `upg.WaitForParent(ctx)`.
    ///
    /// ```
    /// # let upg = gonet::net::tableflip::Upgrader::new(Default::default())?;
    /// upg.wait_for_parent(&gonet::context::background())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_for_parent(&self, ctx: &Context) -> io::Result<()> {
        let done = ctx.done();
        crate::select! {
            recv(self.inner.parent_gone_rx) -> _ => Ok(()),
            recv(done) -> _ => Err(ctx.err().unwrap_or_else(|| err("context canceled"))),
        }
    }

    /// Starts a successor with this process's listening sockets and waits until it is
    /// ready; then closes the [`exit`](Upgrader::exit) channel and returns `Ok`. On an
    /// error this process goes on as before, and may try again.
    ///
    /// Go: `upg.Upgrade()`, with its errors: `process is not ready yet` (before
    /// [`ready`](Upgrader::ready)), `parent hasn't exited` (the previous generation is
    /// still draining), `upgrade in progress`, `already upgraded`, `terminating` (after
    /// [`stop`](Upgrader::stop)), `can't start child: ...`, `child pid=N exited: exit
    /// status 1`, `new child pid=N timed out`. Parks the calling coroutine while it
    /// waits.
    pub fn upgrade(&self) -> io::Result<()> {
        let mut st = self.state();
        if st.stopped {
            return Err(err("terminating"));
        }
        if st.upgraded {
            return Err(err("already upgraded"));
        }
        if st.upgrading.is_some() {
            return Err(err("upgrade in progress"));
        }
        if !st.ready {
            return Err(err("process is not ready yet"));
        }
        if !self.inner.parent_gone.load(Ordering::Acquire) {
            return Err(err("parent hasn't exited"));
        }
        let passed: Vec<(String, RawFd)> = st
            .used
            .iter()
            .map(|((n, a), fd)| (format!("{n}\x1f{a}"), fd.as_raw_fd()))
            .collect();
        let started = self.start_child(&passed);
        let (child, ready_r, exit_w) = match started {
            Ok(c) => c,
            Err(e) => return Err(err(format!("can't start child: {e}"))),
        };
        let pid = child.id();
        st.upgrading = Some(pid);
        drop(st);

        let timeout = self.inner.opts.upgrade_timeout;
        let result = crate::runtime::blocking(|| wait_ready(child, &ready_r, timeout, self));

        let mut st = self.state();
        st.upgrading = None;
        match result {
            Ok(()) if st.stopped => Err(err("terminating")),
            Ok(()) => {
                st.upgraded = true;
                st.exit_pipe = Some(exit_w);
                // This process's copies: the successor has its own.
                st.used.clear();
                drop(st);
                let _ = self.inner.exit_tx.close();
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Starts the successor: returns it, our end of its ready pipe and of its exit pipe.
    fn start_child(
        &self,
        passed: &[(String, RawFd)],
    ) -> io::Result<(std::process::Child, OwnedFd, OwnedFd)> {
        use std::os::unix::process::CommandExt;
        let (ready_r, ready_w) = pipe()?;
        let (exit_r, exit_w) = pipe()?;
        // The child's descriptors 3, 4, 5...: first copied above that range, so that no
        // source is overwritten by an earlier dup2 in the child.
        let base = FIRST_FD + passed.len() as RawFd;
        let mut sources = vec![dup_above(ready_w.as_raw_fd(), base)?];
        sources.push(dup_above(exit_r.as_raw_fd(), base)?);
        for (_, fd) in passed {
            sources.push(dup_above(*fd, base)?);
        }
        drop((ready_w, exit_r));
        let raw: Vec<RawFd> = sources.iter().map(AsRawFd::as_raw_fd).collect();
        let names: Vec<&str> = passed.iter().map(|(n, _)| n.as_str()).collect();
        let mut cmd = std::process::Command::new(&self.inner.exe);
        cmd.args(&self.inner.args)
            .env(SENTINEL_ENV, "yes")
            .env(NAMES_ENV, names.join("\x1e"));
        // SAFETY: the closure runs in the forked child before exec and only calls dup2,
        // which is async-signal-safe; `raw` is moved in and not reallocated.
        unsafe {
            cmd.pre_exec(move || {
                for (i, &fd) in raw.iter().enumerate() {
                    // dup2 clears close-on-exec on the new descriptor.
                    if libc::dup2(fd, READY_FD + i as RawFd) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        drop(sources);
        Ok((child, ready_r, exit_w))
    }
}

/// Waits for the successor's ready byte; kills it on timeout or `stop`.
fn wait_ready(
    mut child: std::process::Child,
    ready_r: &OwnedFd,
    timeout: Duration,
    upg: &Upgrader,
) -> io::Result<()> {
    let pid = child.id();
    let end = Instant::now() + timeout;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() || upg.state().stopped {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err(if left.is_zero() {
                format!("new child pid={pid} timed out")
            } else {
                "terminating".to_string()
            }));
        }
        let mut pfd = libc::pollfd {
            fd: ready_r.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // In slices of 100 ms, to notice a stop.
        let ms = left.min(Duration::from_millis(100)).as_millis() as libc::c_int;
        // SAFETY: pfd is one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            continue;
        }
        let mut b = [0u8; 1];
        // SAFETY: b is a valid one-byte buffer; the fd is ours and open.
        let got = unsafe { libc::read(ready_r.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
        if got == 1 && b[0] == NOTIFY_READY {
            // The successor runs on (dropping `child` neither kills nor waits for it);
            // when this process exits it is reparented.
            drop(child);
            return Ok(());
        }
        // End of file: the child closed its end without saying ready (it exited, or
        // `stop` killed it).
        let status = child.wait()?;
        if upg.state().stopped {
            return Err(err("terminating"));
        }
        // Go: `child.result` carries cmd.Wait()'s error, nil for exit status 0.
        return Err(err(if status.success() {
            format!("child pid={pid} exited")
        } else {
            format!("child pid={pid} exited: {}", exit_text(status))
        }));
    }
}

/// Go's `os.ProcessState.String()`: `exit status 1`, `signal: killed`.
fn exit_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => {
            // SAFETY: strsignal returns a string for any signal number, copied at once.
            let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) };
            format!("signal: {}", name.to_string_lossy().to_lowercase())
        }
        _ => status.to_string(),
    }
}

/// Takes over inherited descriptor `fd`, marking it close-on-exec so it does not leak
/// into other children.
fn take_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl on any number is safe; it fails with EBADF if fd is not open.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(err(format!(
            "tableflip: inherited descriptor {fd}: {}",
            io::Error::last_os_error()
        )));
    }
    // SAFETY: the descriptor is open (fcntl succeeded) and was passed to this process to
    // own; nothing else in the process owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid array of two descriptors for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are new and ours alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec duplicate of `fd` numbered `min` or more.
fn dup_above(fd: RawFd, min: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we hold open has no memory effects.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Writes this process's pid to `path` through a temporary file renamed over it, so a
/// reader never sees a partial file. Go: tableflip's `writePIDFile`, which makes the
/// temporary file with `ioutil.TempFile(dir, name)` (`dir/name` plus a random number, mode
/// 0600), so its errors name that file as Go's do (`open /run/x.pid123: permission
/// denied`); the temporary file is removed if the rename fails.
///
/// `gonet::os` names files with strings, as Go does; a path that is not UTF-8 (which Go,
/// whose strings are bytes, would take as it is) is refused with an error naming it,
/// rather than written under a name with U+FFFD in place of its bytes.
fn write_pid_file(path: &std::path::Path) -> io::Result<()> {
    let path = utf8_path(path)?;
    // filepath.Split: everything up to the last '/' is the directory.
    let (dir, name) = path.split_at(path.rfind('/').map_or(0, |i| i + 1));
    let dir = match dir {
        // tableflip uses the directory the process started in (its initialWD).
        "" => utf8_path(&std::env::current_dir()?)?.to_string(),
        d => d.to_string(),
    };
    let tmp = crate::os::create_temp(&dir, name)?;
    let result = tmp
        .write_string(&std::process::id().to_string())
        .and_then(|_| crate::os::rename(tmp.name(), path));
    if result.is_err() {
        let _ = crate::os::remove(tmp.name());
    }
    result
}

/// `path` as text, or Go's `open PATH: ...` error shape saying why it cannot be named.
fn utf8_path(path: &std::path::Path) -> io::Result<&str> {
    path.to_str().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("open {}: path is not valid UTF-8", path.display()),
        )
    })
}
