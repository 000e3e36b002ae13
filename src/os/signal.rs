//! Incoming Unix signals, delivered on channels.
//!
//! Go: package `os/signal` (`signal.go`, `signal_unix.go`). [`notify`] asks for signals to
//! be sent on a [`Sender`], [`stop`] takes it back, [`ignore`] and [`reset`] set what the
//! process does with a signal nobody asked for. The usual graceful shutdown:
//!
//! ```
//! use gonet::signal::{self, Signal};
//!
//! // sigs := make(chan os.Signal, 1)
//! // signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
//! let (tx, sigs) = gonet::chan::<Signal>(1);
//! signal::notify(&tx, &[Signal::INTERRUPT, Signal::TERM]).unwrap();
//! # signal::raise(Signal::TERM).unwrap(); // as if `kill -TERM` came
//! let got = sigs.recv().unwrap(); // <-sigs: parks a coroutine, blocks a thread
//! assert_eq!(got.to_string(), "terminated");
//! ```
//!
//! How it works, as in Go's runtime: a handler installed with `sigaction` only writes the
//! signal number to a pipe (`write(2)` is async-signal-safe; nothing else is done inside
//! the handler), and one thread, `gonet-signal`, reads the pipe and sends each signal to
//! every channel that asked for it. Sending never blocks: as in Go, a channel whose buffer
//! is full misses the signal, so give it a buffer of at least 1. The channel can be
//! received from a coroutine or a plain thread alike.

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use crate::chan::Sender;

/// A Unix signal.
///
/// Go: `os.Signal` (whose Unix values are `syscall.Signal`). Displays as Go prints it:
/// `interrupt`, `terminated`, `user defined signal 1`, ...
///
/// ```
/// use gonet::signal::Signal;
/// assert_eq!(Signal::INTERRUPT.to_string(), "interrupt"); // os.Interrupt
/// assert_eq!(Signal::from_raw(libc::SIGHUP), Signal::HUP);
/// assert_eq!(Signal::TERM.as_raw(), libc::SIGTERM);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(i32);

impl Signal {
    /// SIGINT, Ctrl-C. Go: `os.Interrupt`.
    pub const INTERRUPT: Signal = Signal(libc::SIGINT);
    /// SIGTERM, what `kill` and service managers send. Go: `syscall.SIGTERM`.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// SIGHUP, the terminal hung up; daemons often reload on it. Go: `syscall.SIGHUP`.
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// SIGQUIT, Ctrl-\. Go: `syscall.SIGQUIT`.
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// SIGUSR1. Go: `syscall.SIGUSR1`.
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// SIGUSR2. Go: `syscall.SIGUSR2`.
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// SIGWINCH, the terminal was resized. Go: `syscall.SIGWINCH`.
    pub const WINCH: Signal = Signal(libc::SIGWINCH);
    /// SIGKILL, which no process can catch. Go: `os.Kill`.
    pub const KILL: Signal = Signal(libc::SIGKILL);

    /// The signal with this number (`libc::SIGINT`, ...).
    ///
    /// Go: `syscall.Signal(n)`.
    ///
    /// ```
    /// assert_eq!(gonet::signal::Signal::from_raw(2), gonet::signal::Signal::INTERRUPT);
    /// ```
    pub const fn from_raw(signo: i32) -> Signal {
        Signal(signo)
    }

    /// The signal's number.
    ///
    /// Go: `int(sig.(syscall.Signal))`.
    ///
    /// ```
    /// assert_eq!(gonet::signal::Signal::USR1.as_raw(), libc::SIGUSR1);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

/// Go's names for Linux signals (syscall's `signals` table), by number.
const NAMES: [&str; 32] = [
    "",
    "hangup",
    "interrupt",
    "quit",
    "illegal instruction",
    "trace/breakpoint trap",
    "aborted",
    "bus error",
    "floating point exception",
    "killed",
    "user defined signal 1",
    "segmentation fault",
    "user defined signal 2",
    "broken pipe",
    "alarm clock",
    "terminated",
    "stack fault",
    "child exited",
    "continued",
    "stopped (signal)",
    "stopped",
    "stopped (tty input)",
    "stopped (tty output)",
    "urgent I/O condition",
    "CPU time limit exceeded",
    "file size limit exceeded",
    "virtual timer expired",
    "profiling timer expired",
    "window changed",
    "I/O possible",
    "power failure",
    "bad system call",
];

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match usize::try_from(self.0).ok().and_then(|i| NAMES.get(i)) {
            Some(name) if !name.is_empty() => f.write_str(name),
            // Go: "signal " + itoa(int(s)).
            _ => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signal({}: {self})", self.0)
    }
}

/// The signals [`notify`] relays when given none, as Go's `signal.Notify(c)` relays "all
/// incoming signals": every signal a program can catch that does not report a fault in
/// the program itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT and SIGSYS stay
/// with Rust's runtime), and not SIGPIPE, which Rust programs ignore (a write to a closed
/// socket fails with EPIPE instead).
const ALL: [i32; 15] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGCHLD,
    libc::SIGCONT,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGURG,
    libc::SIGWINCH,
    libc::SIGIO,
];

/// Signal numbers run 1..=64 on Linux: one bit each.
type Mask = u64;

/// The bit of `sig` in a [`Mask`]; 0 for a number that is no signal.
fn bit(sig: i32) -> Mask {
    match u32::try_from(sig) {
        Ok(n @ 1..=64) => 1 << (n - 1),
        _ => 0,
    }
}

/// A channel that asked for signals, and which.
struct Subscriber {
    tx: Sender<Signal>,
    wanted: Mask,
}

/// What the process does with each signal, and who listens.
struct Registry {
    subscribers: Vec<Subscriber>,
    /// The disposition each signal had before gonet first changed it, restored by
    /// [`reset`] (and by [`stop`] when nobody listens any more). Indexed by number.
    original: Vec<Option<libc::sigaction>>,
    /// Signals whose handler is gonet's relay now.
    relayed: Mask,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            Mutex::new(Registry {
                subscribers: Vec::new(),
                original: vec![None; 65],
                relayed: 0,
            })
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The write end of the signal pipe, for the handler; -1 until the relay thread runs.
static PIPE_W: AtomicI32 = AtomicI32::new(-1);

/// The signal handler: the number goes down the pipe, nothing else happens here.
extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: write(2) and errno access are async-signal-safe; errno is saved and
    // restored so the interrupted code never sees the handler's. A full pipe drops the
    // byte (the write end is non-blocking), as Go drops a signal for a full channel.
    unsafe {
        let errno = *libc::__errno_location();
        let fd = PIPE_W.load(Ordering::Relaxed);
        if fd >= 0 {
            let byte = sig as u8;
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
        *libc::__errno_location() = errno;
    }
}

/// Starts the relay thread and its pipe, once.
fn start_relay() -> io::Result<()> {
    static STARTED: OnceLock<Result<(), (i32, &'static str)>> = OnceLock::new();
    let r = STARTED.get_or_init(|| {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 writes two descriptors into the array on success.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err((last_errno(), "pipe2"));
        }
        let (r, w) = (fds[0], fds[1]);
        // The handler must never block: a full pipe drops the signal instead.
        // SAFETY: plain fcntl calls on a descriptor we own.
        if unsafe { libc::fcntl(w, libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
            return Err((last_errno(), "fcntl"));
        }
        let spawned = std::thread::Builder::new()
            .name("gonet-signal".into())
            .spawn(move || relay(r));
        if let Err(e) = spawned {
            return Err((e.raw_os_error().unwrap_or(libc::EAGAIN), "thread"));
        }
        PIPE_W.store(w, Ordering::SeqCst);
        Ok(())
    });
    match r {
        Ok(()) => Ok(()),
        Err((errno, call)) => Err(io::Error::other(format!(
            "signal: {call}: {}",
            io::Error::from_raw_os_error(*errno)
        ))),
    }
}

fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The relay thread: reads signal numbers from the pipe and sends each to the channels
/// that asked for it, without blocking on any of them.
fn relay(pipe: RawFd) {
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: reads into a buffer we own, at most its length.
        let n = unsafe { libc::read(pipe, buf.as_mut_ptr().cast(), buf.len()) };
        let n = match usize::try_from(n) {
            Ok(0) => return, // the write end is never closed; nothing more can come
            Ok(n) => n,
            Err(_) if last_errno() == libc::EINTR => continue,
            Err(_) => {
                log::error!("signal relay: read: {}", io::Error::last_os_error());
                return;
            }
        };
        let reg = registry();
        for &signo in &buf[..n] {
            let sig = Signal(i32::from(signo));
            for s in reg
                .subscribers
                .iter()
                .filter(|s| s.wanted & bit(sig.0) != 0)
            {
                // Go: "Package signal will not block sending to c": a full channel
                // misses this one.
                let _ = s.tx.try_send(sig);
            }
        }
    }
}

/// Points `sig` at gonet's relay (saving what it did before), or back at `action`.
fn set_disposition(reg: &mut Registry, sig: i32, action: Disposition) -> io::Result<()> {
    // `check` let only 1..=64 through.
    let idx = usize::try_from(sig)
        .unwrap_or(0)
        .min(reg.original.len() - 1);
    let mut new = zeroed_sigaction();
    let mut old = zeroed_sigaction();
    match action {
        Disposition::Relay => {
            new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SA_RESTART: a signal does not make blocking calls on other threads fail
            // with EINTR (Go installs its handlers with it too).
            new.sa_flags = libc::SA_RESTART;
        }
        Disposition::Ignore => new.sa_sigaction = libc::SIG_IGN,
        Disposition::Original => match reg.original[idx] {
            Some(saved) => new = saved,
            None => return Ok(()), // never changed: nothing to restore
        },
    }
    // SAFETY: both pointers are to valid sigaction values; sa_mask is left empty.
    if unsafe { libc::sigaction(sig, &new, &mut old) } != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("signal: cannot catch {}: {e}", Signal(sig)),
        ));
    }
    if reg.original[idx].is_none() {
        reg.original[idx] = Some(old);
    }
    match action {
        Disposition::Relay => reg.relayed |= bit(sig),
        Disposition::Ignore | Disposition::Original => reg.relayed &= !bit(sig),
    }
    Ok(())
}

fn zeroed_sigaction() -> libc::sigaction {
    // SAFETY: an all-zero sigaction is a valid value (empty mask, no flags, SIG_DFL).
    unsafe { std::mem::zeroed() }
}

#[derive(Clone, Copy)]
enum Disposition {
    Relay,
    Ignore,
    Original,
}

/// Refuses numbers that are no signal, before anything changes.
fn check(signals: &[Signal]) -> io::Result<()> {
    match signals.iter().find(|s| bit(s.0) == 0) {
        Some(bad) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal: bad signal {}", bad.0),
        )),
        None => Ok(()),
    }
}

/// The signals asked for, or [`ALL`] for none.
fn mask_of(signals: &[Signal]) -> Mask {
    if signals.is_empty() {
        ALL.iter().fold(0, |m, &s| m | bit(s))
    } else {
        signals.iter().fold(0, |m, s| m | bit(s.0))
    }
}

fn each(mask: Mask) -> impl Iterator<Item = i32> {
    (1..=64).filter(move |&s| mask & bit(s) != 0)
}

/// Relays `signals` to `tx` (all catchable ones if `signals` is empty), adding to what
/// `tx` already receives. The signals stop doing what they did before (SIGINT no longer
/// ends the process) until [`stop`] or [`reset`].
///
/// Go: `signal.Notify(c, sig...)`. Errors (Go ignores them): a signal that cannot be
/// caught, such as SIGKILL, gives `signal: cannot catch killed: ...`, and nothing changes.
///
/// ```
/// use gonet::signal::{self, Signal};
/// let (tx, rx) = gonet::chan::<Signal>(1);
/// signal::notify(&tx, &[Signal::USR1]).unwrap();
/// signal::raise(Signal::USR1).unwrap();
/// assert_eq!(rx.recv(), Some(Signal::USR1));
///
/// let err = signal::notify(&tx, &[Signal::KILL]).unwrap_err();
/// assert!(err.to_string().starts_with("signal: cannot catch killed"));
/// ```
pub fn notify(tx: &Sender<Signal>, signals: &[Signal]) -> io::Result<()> {
    check(signals)?;
    let wanted = mask_of(signals);
    start_relay()?;
    let mut reg = registry();
    // All or nothing: install every handler first, undo them if one fails.
    let new = wanted & !reg.relayed;
    for sig in each(new) {
        if let Err(e) = set_disposition(&mut reg, sig, Disposition::Relay) {
            for done in each(new).take_while(|&s| s != sig) {
                let _ = set_disposition(&mut reg, done, Disposition::Original);
            }
            return Err(e);
        }
    }
    match reg.subscribers.iter_mut().find(|s| s.tx.same_channel(tx)) {
        Some(s) => s.wanted |= wanted,
        None => reg.subscribers.push(Subscriber {
            tx: tx.clone(),
            wanted,
        }),
    }
    Ok(())
}

/// Stops relaying signals to `tx`. A signal nobody else asked for goes back to what it
/// did before the first [`notify`] (SIGINT ends the process again). When `stop` returns,
/// `tx` gets no more signals.
///
/// Go: `signal.Stop(c)`.
///
/// ```
/// use gonet::signal::{self, Signal};
/// let (tx, rx) = gonet::chan::<Signal>(1);
/// signal::notify(&tx, &[Signal::USR2]).unwrap();
/// signal::stop(&tx);
/// assert!(rx.try_recv().is_err()); // nothing came, nothing will
/// ```
pub fn stop(tx: &Sender<Signal>) {
    let mut reg = registry();
    reg.subscribers.retain(|s| !s.tx.same_channel(tx));
    release_unwanted(&mut reg);
}

/// Signals gonet relays that no subscriber wants any more go back to their original
/// disposition.
fn release_unwanted(reg: &mut Registry) {
    let wanted = reg.subscribers.iter().fold(0, |m, s| m | s.wanted);
    for sig in each(reg.relayed & !wanted) {
        if let Err(e) = set_disposition(reg, sig, Disposition::Original) {
            log::warn!("{e}");
        }
    }
}

/// Ignores `signals` (all catchable ones if empty): they neither reach any channel nor
/// do what they did before.
///
/// Go: `signal.Ignore(sig...)`.
///
/// ```
/// use gonet::signal::{self, Signal};
/// signal::ignore(&[Signal::HUP]).unwrap(); // keep running when the terminal goes away
/// signal::raise(Signal::HUP).unwrap(); // would end the process otherwise
/// ```
pub fn ignore(signals: &[Signal]) -> io::Result<()> {
    take_away(signals, Disposition::Ignore)
}

/// Undoes [`notify`] and [`ignore`] for `signals` (all if empty): no channel gets them,
/// and they do what they did before gonet changed them.
///
/// Go: `signal.Reset(sig...)`.
///
/// ```
/// use gonet::signal::{self, Signal};
/// let (tx, rx) = gonet::chan::<Signal>(1);
/// signal::notify(&tx, &[Signal::WINCH]).unwrap();
/// signal::reset(&[Signal::WINCH]).unwrap();
/// signal::raise(Signal::WINCH).unwrap(); // its default: nothing happens
/// assert!(rx.try_recv().is_err());
/// ```
pub fn reset(signals: &[Signal]) -> io::Result<()> {
    take_away(signals, Disposition::Original)
}

/// [`ignore`] and [`reset`]: no channel gets `signals` any more, and the process does
/// `action` with them.
fn take_away(signals: &[Signal], action: Disposition) -> io::Result<()> {
    check(signals)?;
    let mask = mask_of(signals);
    let mut reg = registry();
    for s in reg.subscribers.iter_mut() {
        s.wanted &= !mask;
    }
    for sig in each(mask) {
        set_disposition(&mut reg, sig, action)?;
    }
    Ok(())
}

/// Sends `sig` to this process, as `kill -SIG <pid>` would.
///
/// Go: `syscall.Kill(os.Getpid(), sig)`; for tests and examples.
///
/// ```
/// use gonet::signal::{self, Signal};
/// let (tx, rx) = gonet::chan::<Signal>(1);
/// signal::notify(&tx, &[Signal::QUIT]).unwrap();
/// signal::raise(Signal::QUIT).unwrap();
/// assert_eq!(rx.recv().unwrap().to_string(), "quit");
/// ```
pub fn raise(sig: Signal) -> io::Result<()> {
    // SAFETY: kill(2) on our own pid; no memory is involved.
    if unsafe { libc::kill(libc::getpid(), sig.0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
