//! A descriptor's registrations with may's netpoller.
//!
//! Go: `internal/poll/fd_poll_runtime.go` (`pollDesc`: `init`, `wait`, `evict`,
//! `close`). may lets one coroutine park on a registration at a time, so a descriptor has
//! up to two: the primary one, made by the first call that parks, and a second one on a
//! `dup` of the descriptor, made the first time a reader and a writer park together.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use may::io::{CoIo, WaitIo};

use crate::net::deadline::TimerSlot;
use crate::net::fd::Fail;

/// A descriptor number for may's `CoIo`, which only registers it: the `NetFd` owns and
/// closes the descriptor itself, after the registration is gone.
struct RawSock(RawFd);

impl AsRawFd for RawSock {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// One epoll registration and the call parked on it, if any.
pub(crate) struct Reg {
    /// On gonet's list of registrations, for the rescue poller (runtime/netpoll.rs);
    /// dropped, as declared, before `io` leaves may's poller.
    _tracked: Option<crate::runtime::netpoll::Tracked>,
    io: CoIo<RawSock>,
    /// A call holds this registration (and may be parked on it).
    busy: AtomicBool,
    /// Made on first use of a deadline.
    timer: OnceLock<Arc<TimerSlot>>,
}

impl Reg {
    /// Go: `pollDesc.init` (`runtime_pollOpen`). Dropping it is `pollDesc.close`: may's
    /// `IoData` takes the descriptor out of the epoll set (`EPOLL_CTL_DEL`) at once.
    pub(crate) fn new(fd: RawFd) -> io::Result<Reg> {
        let io = CoIo::new(RawSock(fd)).map_err(io::Error::from)?;
        Ok(Reg {
            _tracked: crate::runtime::netpoll::track(&io),
            io,
            busy: AtomicBool::new(false),
            timer: OnceLock::new(),
        })
    }

    fn try_take(&self) -> bool {
        self.busy
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    pub(crate) fn release(&self) {
        self.busy.store(false, Ordering::SeqCst);
    }

    /// Forgets the events reported so far. Only for a registration nobody can be parked
    /// on (a conn still being dialed).
    fn forget_events(&self) {
        // may deprecates reset_io because wait_io resets by itself; here the point is
        // to drop what the socket reported before it was connected.
        #[allow(deprecated)]
        self.io.reset_io();
    }

    /// Wakes the call parked here, if there is one, so it looks at its state again.
    fn nudge(&self) {
        if self.busy.load(Ordering::SeqCst) {
            self.io.waker().wakeup();
        }
    }

    /// Parks the coroutine until the poller reports an event (or a nudge, or the timer
    /// for `due`, in deadline units; 0 = none). Go: `pollDesc.wait`.
    /// Returns the epoll event bits that ended the wait (0 for a timer or a nudge).
    pub(crate) fn wait(&self, due: u64) -> usize {
        let timer = (due != 0).then(|| {
            let t = self
                .timer
                .get_or_init(|| TimerSlot::new(crate::runtime::netpoll::io_wake(&self.io)));
            t.arm(due);
            t
        });
        let events = crate::runtime::netpoll::wait_io(&self.io);
        if let Some(t) = timer {
            t.disarm();
        }
        events
    }
}

/// The second registration, on a `dup` of the descriptor. Fields drop in order: the
/// registration leaves epoll before the duplicate is closed.
struct Secondary {
    reg: Reg,
    _dup: OwnedFd,
}

/// Both registrations of a descriptor. Dropping it takes both out of the epoll set
/// (and closes the duplicate); the descriptor itself is the `NetFd`'s to close.
#[derive(Default)]
pub(crate) struct PollDesc {
    /// Made by the first call that parks (listeners: at creation).
    primary: OnceLock<Reg>,
    /// Held while the primary registration is made, so a reader and a writer that park
    /// for the first time together register the descriptor once.
    registering: Mutex<()>,
    secondary: OnceLock<Secondary>,
}

impl PollDesc {
    /// A descriptor registered now (a listener: `listen` fails as Go's does if the
    /// poller refuses it).
    pub(crate) fn registered(fd: RawFd) -> io::Result<PollDesc> {
        let pd = PollDesc::default();
        let _ = pd.primary.set(Reg::new(fd)?);
        Ok(pd)
    }

    /// The primary registration, made now if this is the first call to park.
    fn primary(&self, fd: RawFd) -> Result<&Reg, Fail> {
        if let Some(reg) = self.primary.get() {
            return Ok(reg);
        }
        // A std lock in a coroutine is safe here: nothing parks while it is held, and
        // the one system call it covers does not block.
        let _one = self
            .registering
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(reg) = self.primary.get() {
            return Ok(reg);
        }
        let reg = Reg::new(fd).map_err(|e| Fail::Sys("epollctl", e))?;
        Ok(self.primary.get_or_init(|| reg))
    }

    /// A free registration for descriptor `fd`: the primary, else the secondary (made
    /// on first need); release it with [`Reg::release`].
    pub(crate) fn take_reg(&self, fd: BorrowedFd<'_>) -> Result<&Reg, Fail> {
        loop {
            let primary = self.primary(fd.as_raw_fd())?;
            if primary.try_take() {
                return Ok(primary);
            }
            let second = match self.secondary.get() {
                Some(s) => s,
                None => {
                    let dup = fd.as_fd().try_clone_to_owned();
                    let dup = dup.map_err(|e| Fail::Sys("dup", e))?;
                    let reg = Reg::new(dup.as_raw_fd()).map_err(|e| Fail::Sys("epollctl", e))?;
                    // Only the one call that found the primary taken gets here.
                    let _ = self.secondary.set(Secondary { reg, _dup: dup });
                    match self.secondary.get() {
                        Some(s) => s,
                        None => continue,
                    }
                }
            };
            if second.reg.try_take() {
                return Ok(&second.reg);
            }
            // Readers and writers each take turns, so at most two calls park at once and
            // one of the two registrations is always free; this is only a moment's race
            // with a call that is just releasing one.
            may::coroutine::yield_now();
        }
    }

    /// Forgets what the registrations reported so far (a socket that just connected).
    pub(crate) fn forget_events(&self) {
        if let Some(p) = self.primary.get() {
            p.forget_events();
        }
        if let Some(s) = self.secondary.get() {
            s.reg.forget_events();
        }
    }

    /// Wakes the coroutines parked on either registration. Go: `pollDesc.evict` (on
    /// close) and the wake-up of `setDeadlineImpl`.
    pub(crate) fn nudge_all(&self) {
        if let Some(p) = self.primary.get() {
            p.nudge();
        }
        if let Some(s) = self.secondary.get() {
            s.reg.nudge();
        }
    }
}
