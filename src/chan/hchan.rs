//! The channel itself (Go's `hchan`): a spin lock around the buffer and the two wait
//! queues.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossbeam::utils::Backoff;

use super::waitq::Queue;

/// The channel lock: a test-and-test-and-set spin lock that backs off to
/// `std::thread::yield_now`. It is held only for a few queue operations and never across a
/// park, so its holder is always a running OS thread (a coroutine cannot be switched out
/// while it holds it), and waiting for it is short. `select!` takes the locks of all its
/// channels at once, in address order.
pub(crate) struct RawLock(AtomicBool);

impl RawLock {
    pub(super) const fn new() -> Self {
        RawLock(AtomicBool::new(false))
    }

    pub(crate) fn lock(&self) {
        let backoff = Backoff::new();
        loop {
            if self
                .0
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            while self.0.load(Ordering::Relaxed) {
                backoff.snooze();
            }
        }
    }

    pub(crate) fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }

    /// The address that orders lock acquisition in `select!`.
    pub(crate) fn addr(&self) -> usize {
        self as *const RawLock as usize
    }
}

/// What the channel lock protects.
pub(crate) struct State<T> {
    pub(super) buf: VecDeque<T>,
    pub(super) recvq: Queue<T>,
    pub(super) sendq: Queue<T>,
    pub(super) closed: bool,
    /// Every Receiver is gone: sends fail.
    pub(super) orphaned: bool,
}

/// The shared channel (Go's `hchan`).
pub(crate) struct Chan<T> {
    pub(super) lock: RawLock,
    state: UnsafeCell<State<T>>,
    pub(super) cap: usize,
    pub(super) senders: AtomicUsize,
    pub(super) receivers: AtomicUsize,
}

// SAFETY: `state` is only accessed under `lock`; values of T move between threads.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// Holds the channel lock; unlocks on drop.
pub(super) struct Locked<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        self.chan.lock.unlock();
    }
}

impl<T> Locked<'_, T> {
    pub(super) fn state(&mut self) -> &mut State<T> {
        // SAFETY: we hold the lock, and `&mut self` makes this the only live reference.
        unsafe { self.chan.state_locked() }
    }
}

impl<T> Chan<T> {
    pub(super) fn new(cap: usize, senders: usize) -> Self {
        Chan {
            lock: RawLock::new(),
            state: UnsafeCell::new(State {
                buf: VecDeque::with_capacity(cap.min(1024)),
                recvq: VecDeque::new(),
                sendq: VecDeque::new(),
                closed: false,
                orphaned: false,
            }),
            cap,
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
        }
    }

    pub(super) fn locked(&self) -> Locked<'_, T> {
        self.lock.lock();
        Locked { chan: self }
    }

    /// # Safety
    /// The caller holds `self.lock` and has no other reference into the state.
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn state_locked(&self) -> &mut State<T> {
        // SAFETY: the caller's contract.
        unsafe { &mut *self.state.get() }
    }

    /// The number of values queued in the buffer (Go: `len(ch)`).
    pub(super) fn len(&self) -> usize {
        self.locked().state().buf.len()
    }

    /// The `Debug` of an end of the channel: `name { len, cap }`.
    pub(super) fn fmt_end(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("len", &self.len())
            .field("cap", &self.cap)
            .finish()
    }
}
