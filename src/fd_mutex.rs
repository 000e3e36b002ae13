//! Serialises the readers (and, separately, the writers) of one descriptor.
//!
//! Go: `internal/poll/fd_mutex.go`. Go lets many goroutines call `Read` on one `Conn`;
//! they take turns. may allows one parked coroutine per epoll registration, so gonet
//! needs the same turn-taking. `may::sync::Mutex` would do, but it allocates a block
//! queue per instance; with two per connection that shows in the memory of 10,000 idle
//! connections. This lock is one word plus an empty `VecDeque` until someone waits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use may::sync::Blocker;

/// A lock that parks the coroutine (or thread) that waits for it, never spins.
#[derive(Default)]
pub(crate) struct FdMutex {
    /// Holders plus waiters: 0 = free, 1 = held, n > 1 = held with n - 1 waiting.
    count: AtomicUsize,
    /// Who waits, in order. Every waiter pushes itself here *before* counting itself, so
    /// an unlock that sees waiters in `count` always finds one here.
    waiters: Mutex<VecDeque<Arc<Blocker>>>,
}

/// Releases the lock when dropped.
pub(crate) struct FdGuard<'a>(&'a FdMutex);

impl FdMutex {
    pub(crate) fn lock(&self) -> FdGuard<'_> {
        if self
            .count
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return FdGuard(self);
        }
        // `true`: a cancelled coroutine still waits for its turn; it must not leave
        // while a later unlock may hand it the lock.
        let me = Arc::new(Blocker::new(true));
        self.queue().push_back(me.clone());
        if self.count.fetch_add(1, Ordering::AcqRel) == 0 {
            // The holder left between our first try and our count: the lock is ours to
            // give, and the longest waiter (maybe us) gets it.
            self.wake_one();
        }
        // Blocker::park returns once unparked (it ignores cancellation, see above).
        while me.park(None).is_err() {}
        FdGuard(self)
    }

    fn unlock(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) > 1 {
            self.wake_one();
        }
    }

    fn wake_one(&self) {
        if let Some(next) = self.queue().pop_front() {
            next.unpark();
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Blocker>>> {
        // Nothing panics while holding this lock; recover the data anyway.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for FdGuard<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}
