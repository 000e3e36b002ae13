//! Reference counting and turn-taking for one descriptor, with Go's close semantics.
//!
//! Go: `internal/poll/fd_mutex.go` (`fdMutex`). One 64-bit word holds a closed flag, a
//! read lock, a write lock, a count of references (every call in flight on the
//! descriptor holds one) and the number of readers and writers waiting for their lock.
//! `Close` sets the flag and takes a reference in one step (`increfAndClose`), wakes
//! every waiter (they see the flag and fail with "use of closed network connection"),
//! and whoever drops the last reference afterwards closes the descriptor (`decref` and
//! `rwunlock` return true for exactly that caller). A call that is parked keeps its
//! reference until it returns, so the descriptor number is never reused under it.
//!
//! Go's three semaphores (`rsema`, `wsema` and `FD.csema`, on which `Close` waits for
//! the last reference) are one small queue here, behind one lock that is only taken
//! when somebody has to wait: a descriptor nobody waits on costs the word and an empty
//! `VecDeque`. Waiters park with may's `Blocker`, so a coroutine parks and a plain
//! thread blocks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use may::sync::Blocker;

// The bits of `state`, as in fd_mutex.go.
const MUTEX_CLOSED: u64 = 1 << 0;
const MUTEX_RLOCK: u64 = 1 << 1;
const MUTEX_WLOCK: u64 = 1 << 2;
const MUTEX_REF: u64 = 1 << 3;
const MUTEX_REF_MASK: u64 = ((1 << 20) - 1) << 3;
const MUTEX_RWAIT: u64 = 1 << 23;
const MUTEX_RMASK: u64 = ((1 << 20) - 1) << 23;
const MUTEX_WWAIT: u64 = 1 << 43;
const MUTEX_WMASK: u64 = ((1 << 20) - 1) << 43;

/// Go's panic text for a count that would overflow; gonet returns it as an error.
pub(crate) const OVERFLOW_MSG: &str =
    "too many concurrent operations on a single file or socket (max 1048575)";

/// Why a reference or lock was not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The descriptor is closed (Go: `errClosing`).
    Closed,
    /// More than 2^20 - 1 calls at once (Go panics with [`OVERFLOW_MSG`]).
    Overflow,
}

/// Which of the three semaphores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sema {
    Read = 0,
    Write = 1,
    /// `FD.csema`: released once the descriptor has been closed.
    Close = 2,
}

#[derive(Default)]
struct Semas {
    /// Releases not yet taken, per semaphore (Go's semaphore count).
    permits: [u32; 3],
    /// Who waits, in arrival order, and on which semaphore.
    waiters: VecDeque<(Sema, Arc<Blocker>)>,
}

/// Go's `fdMutex`.
#[derive(Default)]
pub(crate) struct FdMutex {
    state: AtomicU64,
    semas: Mutex<Semas>,
}

impl FdMutex {
    /// Whether `Close` has run (the descriptor may still be in use by calls in flight).
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & MUTEX_CLOSED != 0
    }

    /// Takes a reference. Go: `fdMutex.incref`.
    pub(crate) fn incref(&self) -> Result<(), Refused> {
        let mut old = self.state.load(Ordering::Acquire);
        loop {
            if old & MUTEX_CLOSED != 0 {
                return Err(Refused::Closed);
            }
            let new = old.wrapping_add(MUTEX_REF);
            if new & MUTEX_REF_MASK == 0 {
                return Err(Refused::Overflow);
            }
            match self
                .state
                .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(now) => old = now,
            }
        }
    }

    /// Marks the descriptor closed, takes a reference, and wakes every reader and writer
    /// waiting for its lock (they find the flag and give up). Fails if already closed.
    /// Go: `fdMutex.increfAndClose`.
    pub(crate) fn incref_and_close(&self) -> Result<(), Refused> {
        let mut old = self.state.load(Ordering::Acquire);
        loop {
            if old & MUTEX_CLOSED != 0 {
                return Err(Refused::Closed);
            }
            // Mark as closed and acquire a reference.
            let mut new = (old | MUTEX_CLOSED).wrapping_add(MUTEX_REF);
            if new & MUTEX_REF_MASK == 0 {
                return Err(Refused::Overflow);
            }
            // Remove all read and write waiters.
            new &= !(MUTEX_RMASK | MUTEX_WMASK);
            match self
                .state
                .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // Wake all read and write waiters; they observe the flag after wakeup.
                    let readers = (old & MUTEX_RMASK) / MUTEX_RWAIT;
                    let writers = (old & MUTEX_WMASK) / MUTEX_WWAIT;
                    self.release_n(Sema::Read, readers);
                    self.release_n(Sema::Write, writers);
                    return Ok(());
                }
                Err(now) => old = now,
            }
        }
    }

    /// Drops a reference; true if it was the last one of a closed descriptor, which the
    /// caller must now close. Go: `fdMutex.decref`.
    #[must_use = "the caller of the last reference of a closed descriptor closes it"]
    pub(crate) fn decref(&self) -> bool {
        let old = self.state.fetch_sub(MUTEX_REF, Ordering::AcqRel);
        debug_assert!(old & MUTEX_REF_MASK != 0, "inconsistent fdMutex");
        let new = old.wrapping_sub(MUTEX_REF);
        new & (MUTEX_CLOSED | MUTEX_REF_MASK) == MUTEX_CLOSED
    }

    /// Takes the read (or write) lock and a reference, waiting for an earlier holder.
    /// Go: `fdMutex.rwlock`.
    pub(crate) fn rwlock(&self, read: bool) -> Result<(), Refused> {
        let (bit, wait, mask, sema) = lock_bits(read);
        let mut old = self.state.load(Ordering::Acquire);
        loop {
            if old & MUTEX_CLOSED != 0 {
                return Err(Refused::Closed);
            }
            let free = old & bit == 0;
            let new = if free {
                // Lock is free, acquire it.
                let new = (old | bit).wrapping_add(MUTEX_REF);
                if new & MUTEX_REF_MASK == 0 {
                    return Err(Refused::Overflow);
                }
                new
            } else {
                // Wait for the lock.
                let new = old.wrapping_add(wait);
                if new & mask == 0 {
                    return Err(Refused::Overflow);
                }
                new
            };
            match self
                .state
                .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if free {
                        return Ok(());
                    }
                    self.acquire(sema);
                    // The signaller has subtracted our wait count: try again.
                    old = self.state.load(Ordering::Acquire);
                }
                Err(now) => old = now,
            }
        }
    }

    /// Releases the read (or write) lock and its reference, waking one waiter; true if
    /// that was the last reference of a closed descriptor. Go: `fdMutex.rwunlock`.
    #[must_use = "the caller of the last reference of a closed descriptor closes it"]
    pub(crate) fn rwunlock(&self, read: bool) -> bool {
        let (bit, wait, mask, sema) = lock_bits(read);
        let mut old = self.state.load(Ordering::Acquire);
        loop {
            debug_assert!(
                old & bit != 0 && old & MUTEX_REF_MASK != 0,
                "inconsistent fdMutex"
            );
            // Drop the lock, drop the reference and wake a waiter if there is one.
            let mut new = (old & !bit).wrapping_sub(MUTEX_REF);
            if old & mask != 0 {
                new = new.wrapping_sub(wait);
            }
            match self
                .state
                .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if old & mask != 0 {
                        self.release_n(sema, 1);
                    }
                    return new & (MUTEX_CLOSED | MUTEX_REF_MASK) == MUTEX_CLOSED;
                }
                Err(now) => old = now,
            }
        }
    }

    /// `Close` waits here until the descriptor has been closed. Go: `Semacquire(&fd.csema)`.
    pub(crate) fn wait_closed(&self) {
        self.acquire(Sema::Close);
    }

    /// The descriptor has been closed: lets `Close` return. Go: `Semrelease(&fd.csema)`.
    pub(crate) fn signal_closed(&self) {
        self.release_n(Sema::Close, 1);
    }

    fn semas(&self) -> std::sync::MutexGuard<'_, Semas> {
        // Nothing panics while holding this lock; recover the data anyway.
        self.semas.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Go: `runtime_Semacquire`.
    fn acquire(&self, sema: Sema) {
        let me = {
            let mut s = self.semas();
            if s.permits[sema as usize] > 0 {
                s.permits[sema as usize] -= 1;
                return;
            }
            // `true`: a cancelled coroutine still waits; it must not leave while a later
            // release may hand it the permit (which would then be lost).
            let me = Arc::new(Blocker::new(true));
            s.waiters.push_back((sema, me.clone()));
            me
        };
        // Blocker::park returns once unparked (it ignores cancellation, see above).
        while me.park(None).is_err() {}
    }

    /// Go: `runtime_Semrelease`, `n` times: each release wakes the longest waiter of
    /// `sema`, or is kept for the next acquire.
    fn release_n(&self, sema: Sema, n: u64) {
        for _ in 0..n {
            let next = {
                let mut s = self.semas();
                match s.waiters.iter().position(|(k, _)| *k == sema) {
                    Some(i) => s.waiters.remove(i).map(|(_, b)| b),
                    None => {
                        s.permits[sema as usize] += 1;
                        None
                    }
                }
            };
            if let Some(b) = next {
                b.unpark();
            }
        }
    }
}

fn lock_bits(read: bool) -> (u64, u64, u64, Sema) {
    if read {
        (MUTEX_RLOCK, MUTEX_RWAIT, MUTEX_RMASK, Sema::Read)
    } else {
        (MUTEX_WLOCK, MUTEX_WWAIT, MUTEX_WMASK, Sema::Write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_reference_out_of_a_closed_mutex_is_told_to_close() {
        let mu = FdMutex::default();
        mu.rwlock(true).unwrap();
        mu.incref().unwrap();
        mu.incref_and_close().unwrap();
        assert_eq!(mu.incref(), Err(Refused::Closed));
        assert_eq!(mu.rwlock(false), Err(Refused::Closed));
        assert_eq!(mu.incref_and_close(), Err(Refused::Closed));
        assert!(
            !mu.decref(),
            "the reader and the closer still hold references"
        );
        assert!(!mu.rwunlock(true), "the closer still holds one");
        assert!(mu.decref(), "the closer's reference was the last");
    }

    #[test]
    fn an_unclosed_mutex_never_asks_for_a_close() {
        let mu = FdMutex::default();
        mu.incref().unwrap();
        assert!(!mu.decref());
        mu.rwlock(false).unwrap();
        assert!(!mu.rwunlock(false));
        assert_eq!(mu.state.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn close_wakes_a_thread_waiting_for_the_lock() {
        let mu = Arc::new(FdMutex::default());
        mu.rwlock(true).unwrap();
        let m2 = mu.clone();
        let waiter = std::thread::spawn(move || m2.rwlock(true));
        // Wait until the waiter has counted itself, then close.
        while mu.state.load(Ordering::SeqCst) & MUTEX_RMASK == 0 {
            std::thread::yield_now();
        }
        mu.incref_and_close().unwrap();
        assert_eq!(waiter.join().unwrap(), Err(Refused::Closed));
        assert!(!mu.rwunlock(true));
        assert!(mu.decref());
    }

    #[test]
    fn close_waits_for_the_release_whichever_comes_first() {
        let mu = FdMutex::default();
        mu.signal_closed();
        mu.wait_closed(); // the permit was kept
        let mu = Arc::new(mu);
        let m2 = mu.clone();
        let t = std::thread::spawn(move || m2.wait_closed());
        mu.signal_closed();
        t.join().unwrap();
    }

    #[test]
    fn too_many_references_are_refused_not_wrapped() {
        let mu = FdMutex::default();
        mu.state.store(MUTEX_REF_MASK, Ordering::SeqCst);
        assert_eq!(mu.incref(), Err(Refused::Overflow));
        assert_eq!(mu.rwlock(true), Err(Refused::Overflow));
    }
}
