//! The wait queues: a parked send or receive is one entry (Go's `sudog`) in a channel's
//! queue of parked senders or of parked receivers (Go's `waitq`).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::Arc;

use crate::select::Signal;

/// A parked send or receive: one entry in a channel's wait queue (Go's `sudog`).
///
/// `slot` holds the value a parked sender offers, or receives the value handed to a parked
/// receiver. Access rules (what makes the `UnsafeCell` sound):
/// - before the entry is queued, only its owner touches it;
/// - while queued and its signal is WAITING, nobody touches it;
/// - a counterparty that *claimed* the signal (WAITING -> CLAIMED, under the channel lock)
///   may touch it until it stores FIRED;
/// - once the owner has seen FIRED (Acquire) or has itself moved the signal to ABANDONED,
///   only the owner touches it again.
pub(crate) struct Waiter<T> {
    pub(super) signal: Arc<Signal>,
    pub(super) case: usize,
    slot: UnsafeCell<Option<T>>,
}

// SAFETY: the slot is accessed by one thread at a time, as described on `Waiter`; the
// hand-over points are the signal's Acquire/Release atomics or the channel lock.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T> Waiter<T> {
    /// # Safety
    /// The caller has the right to touch the slot (see the rules on [`Waiter`]).
    pub(super) unsafe fn take(&self) -> Option<T> {
        // SAFETY: exclusive access is the caller's contract.
        unsafe { (*self.slot.get()).take() }
    }

    /// # Safety
    /// As for [`Waiter::take`].
    pub(super) unsafe fn put(&self, v: T) {
        // SAFETY: exclusive access is the caller's contract.
        unsafe { *self.slot.get() = Some(v) }
    }
}

pub(super) type Queue<T> = VecDeque<Arc<Waiter<T>>>;

/// Queues an entry for case `case` of the operation parked on `signal` (a sender's carries
/// its value in `slot`) and returns it, for withdrawing later. Called under the lock.
pub(super) fn enqueue<T>(
    q: &mut Queue<T>,
    signal: &Arc<Signal>,
    case: usize,
    slot: Option<T>,
) -> Arc<Waiter<T>> {
    let w = Arc::new(Waiter {
        signal: signal.clone(),
        case,
        slot: UnsafeCell::new(slot),
    });
    q.push_back(w.clone());
    w
}

/// Pops the first entry whose signal can still be claimed; entries of operations that
/// were completed elsewhere or abandoned are dropped on the way. Called under the lock.
pub(super) fn claim_first<T>(q: &mut Queue<T>) -> Option<Arc<Waiter<T>>> {
    while let Some(w) = q.pop_front() {
        if w.signal.claim() {
            return Some(w);
        }
    }
    None
}

/// Removes `w` from `q` (an operation that completed elsewhere, or gave up). Called under
/// the lock.
pub(super) fn withdraw<T>(q: &mut Queue<T>, w: &Arc<Waiter<T>>) {
    q.retain(|x| !Arc::ptr_eq(x, w));
}

/// Wakes the counterparty an operation completed, if it parked. Called after unlocking.
pub(super) fn wake(signal: Option<Arc<Signal>>) {
    if let Some(s) = signal {
        s.wake();
    }
}
