//! Absolute deadlines (Go's `SetDeadline`) on may's netpoller.
//!
//! Go: `internal/poll/fd_poll_runtime.go` (`setDeadlineImpl`) and the runtime timers
//! behind it. Go's deadlines are absolute, apply to calls already blocked, and a deadline
//! in the past fails the next call at once. may only offers a per-call relative timeout
//! that a parked call cannot see change, so gonet keeps the deadline itself and has the
//! timer thread ([`crate::time::timer`]) wake the coroutine parked in the netpoller when its
//! deadline comes.
//!
//! A parked call arms its registration's [`TimerSlot`] with its deadline; each slot has at
//! most one entry queued (the earliest), and an entry that fires early for a deadline that
//! was moved later is queued again, so a server that pushes an idle deadline forward on
//! every request does not pile up timers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::runtime::netpoll::IoWake;

/// Nanoseconds since this process-wide origin stand for an `Instant` in an atomic.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// `t` as nanoseconds past the origin, plus one so that 0 can mean "no deadline"; times
/// before the origin become 1, which has passed.
fn to_nanos(t: Instant) -> u64 {
    let since = t.saturating_duration_since(origin()).as_nanos();
    u64::try_from(since).unwrap_or(u64::MAX - 1) + 1
}

fn from_nanos(n: u64) -> Instant {
    origin() + Duration::from_nanos(n - 1)
}

/// The current time in deadline units.
pub(crate) fn now() -> u64 {
    to_nanos(Instant::now())
}

/// How long until the deadline `due` (in deadline units), zero if it has passed.
pub(crate) fn remaining(due: u64) -> Duration {
    from_nanos(due).saturating_duration_since(Instant::now())
}

/// One direction's deadline: none, or an absolute instant.
#[derive(Default)]
pub(crate) struct Deadline(AtomicU64);

impl Deadline {
    pub(crate) fn set(&self, t: Option<Instant>) {
        self.0.store(t.map_or(0, to_nanos), Ordering::SeqCst);
    }

    /// The deadline in deadline units, 0 when there is none.
    pub(crate) fn raw(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The timer state of one netpoller registration.
pub(crate) struct TimerSlot {
    waker: IoWake,
    times: Mutex<SlotTimes>,
}

#[derive(Default)]
struct SlotTimes {
    /// The deadline of the call parked on the registration now; 0 when none is parked.
    due: u64,
    /// The time of the earliest entry queued at the timer thread; 0 when none is.
    queued: u64,
}

impl TimerSlot {
    pub(crate) fn new(waker: IoWake) -> Arc<TimerSlot> {
        Arc::new(TimerSlot {
            waker,
            times: Mutex::default(),
        })
    }

    fn times(&self) -> std::sync::MutexGuard<'_, SlotTimes> {
        self.times.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A call is about to park until `due`: make sure the timer thread wakes it then.
    pub(crate) fn arm(self: &Arc<Self>, due: u64) {
        let mut t = self.times();
        t.due = due;
        if t.queued == 0 || t.queued > due {
            t.queued = due;
            drop(t);
            crate::time::timer::schedule(from_nanos(due), due, self.clone());
        }
    }

    /// The parked call is back: nothing to wake any more.
    pub(crate) fn disarm(&self) {
        self.times().due = 0;
    }
}

/// An entry's tag is the deadline (in deadline units) it was queued for.
impl crate::time::timer::Fire for TimerSlot {
    fn is_live(&self, at: u64) -> bool {
        self.times().queued == at
    }

    fn fire(self: Arc<Self>, at: u64, _when: Instant, _now: Instant) -> Option<(Instant, u64)> {
        let mut t = self.times();
        if t.queued == at {
            t.queued = 0;
        }
        if t.due == 0 {
            return None;
        }
        if t.due <= now() {
            drop(t);
            // Woken from a worker that is not stuck (runtime/proc.rs: the injector).
            crate::runtime::netpoll::wake_from_thread(&self.waker);
            None
        } else if t.queued == 0 {
            // The deadline moved later while we waited: wait for the new one.
            t.queued = t.due;
            Some((from_nanos(t.due), t.due))
        } else {
            None
        }
    }
}
