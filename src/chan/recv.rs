//! Receiving (Go's `chanrecv`): take a buffered value (and move a parked sender's into
//! the freed slot), else take the value straight from a parked sender, else park.

use std::sync::Arc;
use std::time::Duration;

use super::hchan::Chan;
use super::hchan::{RawLock, State};
use super::waitq::{Waiter, claim_first, enqueue, wake, withdraw};
use super::{Iter, Receiver, RecvTimeoutError, TryRecvError};
use crate::select::{self, Case, CaseRef, Mode, Signal};
// Named only in doc links.
#[cfg(doc)]
use super::chan;

/// The result of a receive attempt made under the lock.
enum RecvAttempt<T> {
    /// Got a value; wake this signal (a sender whose value we took) after unlocking.
    Got(T, Option<Arc<Signal>>),
    Closed,
    Empty,
}

impl<T> State<T> {
    fn try_recv(&mut self) -> RecvAttempt<T> {
        if let Some(v) = self.buf.pop_front() {
            // A slot freed: move the first parked sender's value into the buffer.
            let mut wake = None;
            if let Some(w) = claim_first(&mut self.sendq) {
                // SAFETY: we claimed w's signal under the channel lock.
                if let Some(sv) = unsafe { w.take() } {
                    self.buf.push_back(sv);
                }
                w.signal.fire(w.case);
                wake = Some(w.signal.clone());
            }
            return RecvAttempt::Got(v, wake);
        }
        // Unbuffered (or an empty buffer, which cannot have parked senders): take the value
        // straight from a parked sender.
        if let Some(w) = claim_first(&mut self.sendq) {
            // SAFETY: we claimed w's signal under the channel lock.
            let v = unsafe { w.take() };
            w.signal.fire(w.case);
            if let Some(v) = v {
                return RecvAttempt::Got(v, Some(w.signal.clone()));
            }
        }
        if self.closed {
            RecvAttempt::Closed
        } else {
            RecvAttempt::Empty
        }
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking the coroutine (or thread) until one arrives. Returns
    /// `None` once the channel is closed and its buffer drained.
    ///
    /// Go: `v, ok := <-ch` (`None` is `ok == false`).
    ///
    /// ```
    /// let (tx, rx) = gonet::chan::<i32>(0);
    /// gonet::go!(move || tx.send(42).unwrap());
    /// assert_eq!(rx.recv(), Some(42));
    /// assert_eq!(rx.recv(), None); // the sender is gone: closed
    /// ```
    pub fn recv(&self) -> Option<T> {
        let mut case = RecvCase::new(self);
        select::run(&mut [case.case()], Mode::Block);
        case.into_result()
    }

    /// Receives a value only if that can be done without parking.
    ///
    /// Go: `select { case v, ok := <-ch: default: }`.
    ///
    /// ```
    /// let (tx, rx) = gonet::chan::<i32>(1);
    /// assert!(rx.try_recv().is_err());
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let r = self.chan.locked().state().try_recv();
        match r {
            RecvAttempt::Got(v, w) => {
                wake(w);
                Ok(v)
            }
            RecvAttempt::Closed => Err(TryRecvError::Closed),
            RecvAttempt::Empty => Err(TryRecvError::Empty),
        }
    }

    /// Receives a value, parking at most `timeout`.
    ///
    /// Go: `select { case v, ok := <-ch: case <-time.After(timeout): }`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = gonet::chan::<i32>(1);
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Ok(3));
    /// assert!(rx.recv_timeout(Duration::from_millis(5)).is_err());
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let mut case = RecvCase::new(self);
        let fired = select::run(&mut [case.case()], Mode::deadline_after(timeout));
        if fired == select::NONE {
            return Err(RecvTimeoutError::Timeout);
        }
        case.into_result().ok_or(RecvTimeoutError::Closed)
    }

    /// An iterator that receives until the channel is closed and drained.
    ///
    /// Go: `for v := range ch`.
    ///
    /// ```
    /// let (tx, rx) = gonet::chan::<i32>(3);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// tx.close().unwrap();
    /// assert_eq!(rx.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    buffer_queries! {
        /// The number of values queued in the buffer.
        ///
        /// Go: `len(ch)`.
        ///
        /// ```
        /// let (tx, rx) = gonet::chan::<i32>(3);
        /// tx.send(1).unwrap();
        /// tx.send(2).unwrap();
        /// assert_eq!(rx.len(), 2);
        /// ```
        len;

        /// True if no value is queued in the buffer.
        ///
        /// Go: `len(ch) == 0`.
        ///
        /// ```
        /// let (_tx, rx) = gonet::chan::<i32>(3);
        /// assert!(rx.is_empty());
        /// ```
        is_empty;

        /// The buffer size given to [`chan`].
        ///
        /// Go: `cap(ch)`.
        ///
        /// ```
        /// let (_tx, rx) = gonet::chan::<i32>(0);
        /// assert_eq!(rx.cap(), 0);
        /// ```
        cap;
    }
}

/// A receive case of [`select!`](crate::select!); built by the macro, not part of the API.
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    chan: &'a Chan<T>,
    waiter: Option<Arc<Waiter<T>>>,
    /// Some(Some(v)): received v; Some(None): closed.
    result: Option<Option<T>>,
    wake: Option<Arc<Signal>>,
}

impl<'a, T> RecvCase<'a, T> {
    /// The case for `recv(rx)`.
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvCase {
            chan: &rx.chan,
            waiter: None,
            result: None,
            wake: None,
        }
    }

    /// Type-erased handle for `select::run`.
    pub fn case(&mut self) -> CaseRef<'_> {
        CaseRef::new(self)
    }

    /// The received value (`None`: closed). Only meaningful for the chosen case.
    pub fn into_result(self) -> Option<T> {
        self.result.flatten()
    }
}

impl<T> Case for RecvCase<'_, T> {
    fn lock(&self) -> &RawLock {
        &self.chan.lock
    }

    unsafe fn poll(&mut self) -> bool {
        // SAFETY: the caller holds our lock.
        let st = unsafe { self.chan.state_locked() };
        match st.try_recv() {
            RecvAttempt::Got(v, wake) => {
                self.result = Some(Some(v));
                self.wake = wake;
                true
            }
            RecvAttempt::Closed => {
                self.result = Some(None);
                true
            }
            RecvAttempt::Empty => false,
        }
    }

    unsafe fn enqueue(&mut self, signal: &Arc<Signal>, case: usize) {
        let slot = None;
        // SAFETY: the caller holds our lock.
        let q = unsafe { &mut self.chan.state_locked().recvq };
        self.waiter = Some(enqueue(q, signal, case, slot));
    }

    fn wake_after_unlock(&mut self) {
        wake(self.wake.take());
    }

    fn finish(&mut self, chosen: bool) {
        let Some(w) = self.waiter.take() else { return };
        if chosen {
            // SAFETY: the signal is FIRED for this case (seen with Acquire): the
            // counterparty is done with the slot.
            self.result = Some(unsafe { w.take() });
        } else {
            let mut g = self.chan.locked();
            withdraw(&mut g.state().recvq, &w);
        }
    }
}
