//! Parking a coroutine until another thread, anywhere, wakes it; and `sleep` on it.
//!
//! Go: `runtime/proc.go` (`gopark`, `goready`). A coroutine parks on a [`Parker`] (may's
//! `FastBlocker`, which whoever wakes it may run on their own thread). [`Parker::unpark`]
//! from a may worker runs the coroutine there just long enough for it to queue itself on
//! that worker (a yield); from any other thread it goes through the injector (`proc.rs`),
//! and a worker that is not stuck (or a rescue thread, when none is) runs it.
//! A may cancel of the parked coroutine ends the park with [`Cancelled`]; the caller
//! decides when to let the unwind go on.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use may::sync::FastBlocker;

use crate::runtime::proc::{self, Cancelled, Runnable};

/// A coroutine's place to wait until [`Parker::unpark`].
pub(crate) struct Parker(FastBlocker);

impl Parker {
    /// A parker for the calling coroutine, which must park on it itself. Panics outside
    /// a coroutine.
    pub(crate) fn new() -> Parker {
        Parker(FastBlocker::new())
    }

    /// Waits until [`unpark`](Parker::unpark) (at once if it already came). `Err` when a
    /// may cancel of this coroutine came instead: nothing waited, and the cancel's unwind
    /// is the caller's to resume.
    pub(crate) fn park(&self) -> Result<(), Cancelled> {
        let site = proc::current_site();
        // Err(Canceled) only comes with the unwind, which catch_unwind turns into Err.
        let _ = catch_unwind(AssertUnwindSafe(|| self.0.park(None)))?;
        if !proc::take_handed_over() && proc::on_worker() {
            // Resumed by a coroutine on this worker, inside its unpark: queue up here
            // and let it go on. (A dispatcher's hand-over runs on instead.)
            may::coroutine::yield_now();
        }
        proc::mark(site);
        Ok(())
    }

    /// Wakes the parked coroutine, or the next park if none is parked yet.
    pub(crate) fn unpark(self: &Arc<Self>) {
        if proc::on_worker() && may::coroutine::is_coroutine() {
            self.0.unpark();
        } else {
            proc::inject(Runnable::Resume(self.clone()));
        }
    }

    /// Runs the parked coroutine on this thread until it yields or parks again (the
    /// injector's part of `unpark`).
    pub(crate) fn resume_here(&self) {
        self.0.unpark();
    }
}

/// The timer entry of a [`sleep`].
struct Wakeup {
    parker: Arc<Parker>,
    done: AtomicBool,
}

impl crate::time::timer::Fire for Wakeup {
    fn fire(self: Arc<Self>, _: u64, _: Instant, _: Instant) -> Option<(Instant, u64)> {
        if !self.done.load(Ordering::Acquire) {
            self.parker.unpark();
        }
        None
    }

    fn is_live(&self, _: u64) -> bool {
        !self.done.load(Ordering::Acquire)
    }
}

/// `time::sleep` in a coroutine, on gonet's timer: may's own sleep resumes the coroutine
/// on may's timer thread, where one that never parks afterwards stops every timer.
pub(crate) fn sleep(d: Duration) {
    if !may::coroutine::is_coroutine() {
        std::thread::sleep(d);
        return;
    }
    if d.is_zero() {
        return;
    }
    if proc::sched().is_none() {
        may::coroutine::sleep(d);
        return;
    }
    let deadline = Instant::now() + d;
    let w = Arc::new(Wakeup {
        parker: Arc::new(Parker::new()),
        done: AtomicBool::new(false),
    });
    loop {
        crate::time::timer::schedule(deadline, 0, w.clone());
        if let Err(cancel) = w.parker.park() {
            w.done.store(true, Ordering::Release);
            resume_unwind(cancel);
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    w.done.store(true, Ordering::Release);
}
