//! Sending (Go's `chansend`): hand the value straight to a parked receiver, else put it
//! in the buffer, else park in the send queue with it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::hchan::Chan;
use super::hchan::{RawLock, State};
use super::waitq::{Waiter, claim_first, enqueue, wake, withdraw};
use super::{CloseError, SendError, SendTimeoutError, Sender, TrySendError};
use crate::select::{self, Case, CaseRef, Mode, Signal};
// Named only in doc links.
#[cfg(doc)]
use super::{Receiver, chan};

/// The result of a send attempt made under the lock.
enum SendAttempt<T> {
    /// Done; wake this signal (a receiver we handed the value to) after unlocking.
    Sent(Option<Arc<Signal>>),
    /// Closed or orphaned: the value is returned.
    Closed(T),
    /// Would park: the value is returned.
    Full(T),
}

impl<T> State<T> {
    fn try_send(&mut self, cap: usize, v: T) -> SendAttempt<T> {
        if self.closed || self.orphaned {
            return SendAttempt::Closed(v);
        }
        if let Some(w) = claim_first(&mut self.recvq) {
            // SAFETY: we claimed w's signal under the channel lock.
            unsafe { w.put(v) };
            w.signal.fire(w.case);
            return SendAttempt::Sent(Some(w.signal.clone()));
        }
        if self.buf.len() < cap {
            self.buf.push_back(v);
            return SendAttempt::Sent(None);
        }
        SendAttempt::Full(v)
    }
}

impl<T> Sender<T> {
    /// Sends `v`, parking the coroutine (or thread) while the buffer is full; on an
    /// unbuffered channel, returns only after a receiver has taken the value.
    ///
    /// Go: `ch <- v`. Go panics on a closed channel; this returns `Err(SendError(v))`,
    /// also when every [`Receiver`] has been dropped (Go would block forever).
    ///
    /// ```
    /// let (tx, rx) = gonet::chan::<i32>(1);
    /// tx.send(1).unwrap(); // fits in the buffer: does not park
    /// assert_eq!(rx.recv(), Some(1));
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2); // nobody can receive it
    /// ```
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        let mut case = SendCase::new(self, v);
        select::run(&mut [case.case()], Mode::Block);
        case.into_result()
    }

    /// Sends `v` only if that can be done without parking.
    ///
    /// Go: `select { case ch <- v: default: }`.
    ///
    /// ```
    /// let (tx, rx) = gonet::chan::<i32>(0);
    /// assert!(tx.try_send(1).is_err()); // unbuffered, no receiver parked
    /// # drop(rx);
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let r = {
            let mut g = self.chan.locked();
            g.state().try_send(self.chan.cap, v)
        };
        match r {
            SendAttempt::Sent(w) => {
                wake(w);
                Ok(())
            }
            SendAttempt::Closed(v) => Err(TrySendError::Closed(v)),
            SendAttempt::Full(v) => Err(TrySendError::Full(v)),
        }
    }

    /// Sends `v`, parking at most `timeout`.
    ///
    /// Go: `select { case ch <- v: case <-time.After(timeout): }`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = gonet::chan::<i32>(1);
    /// assert!(tx.send_timeout(1, Duration::from_millis(10)).is_ok());
    /// assert!(tx.send_timeout(2, Duration::from_millis(10)).is_err()); // full
    /// # drop(rx);
    /// ```
    pub fn send_timeout(&self, v: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        let mut case = SendCase::new(self, v);
        let fired = select::run(&mut [case.case()], Mode::deadline_after(timeout));
        if fired == select::NONE {
            return Err(SendTimeoutError::Timeout(case.take_value()));
        }
        case.into_result()
            .map_err(|SendError(v)| SendTimeoutError::Closed(v))
    }

    /// Closes the channel: receivers drain the buffer, then get `None`; parked and future
    /// sends fail.
    ///
    /// Go: `close(ch)`. Closing twice panics in Go; here it returns `Err(CloseError)`.
    /// Dropping the last `Sender` closes the channel too.
    ///
    /// ```
    /// let (tx, rx) = gonet::chan::<i32>(2);
    /// tx.send(1).unwrap();
    /// tx.close().unwrap();
    /// assert_eq!(rx.recv(), Some(1)); // buffered values are still delivered
    /// assert_eq!(rx.recv(), None);    // then: closed
    /// assert!(tx.close().is_err());
    /// ```
    pub fn close(&self) -> Result<(), CloseError> {
        self.chan.close()
    }

    buffer_queries! {
        /// The number of values queued in the buffer.
        ///
        /// Go: `len(ch)`.
        ///
        /// ```
        /// let (tx, _rx) = gonet::chan::<i32>(3);
        /// tx.send(1).unwrap();
        /// assert_eq!(tx.len(), 1);
        /// ```
        len;

        /// True if no value is queued in the buffer.
        ///
        /// Go: `len(ch) == 0`.
        ///
        /// ```
        /// let (tx, _rx) = gonet::chan::<i32>(3);
        /// assert!(tx.is_empty());
        /// ```
        is_empty;

        /// The buffer size given to [`chan`].
        ///
        /// Go: `cap(ch)`.
        ///
        /// ```
        /// let (tx, _rx) = gonet::chan::<i32>(3);
        /// assert_eq!(tx.cap(), 3);
        /// ```
        cap;
    }

    /// How many Receivers are alive (the timer uses it to drop unobserved timers).
    pub(crate) fn receiver_count(&self) -> usize {
        self.chan.receivers.load(Ordering::Acquire)
    }

    /// Removes every buffered value (the timer uses it on Stop/Reset).
    pub(crate) fn drain(&self) {
        let buf = std::mem::take(&mut self.chan.locked().state().buf);
        drop(buf);
    }
}

/// A send case of [`select!`](crate::select!); built by the macro, not part of the API.
#[doc(hidden)]
pub struct SendCase<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    waiter: Option<Arc<Waiter<T>>>,
    /// Some(Ok): sent; Some(Err): closed (the value is back in `value`).
    result: Option<Result<(), ()>>,
    wake: Option<Arc<Signal>>,
}

impl<'a, T> SendCase<'a, T> {
    /// The case for `send(tx, v)`.
    pub fn new(tx: &'a Sender<T>, v: T) -> Self {
        SendCase {
            chan: &tx.chan,
            value: Some(v),
            waiter: None,
            result: None,
            wake: None,
        }
    }

    /// Type-erased handle for `select::run`.
    pub fn case(&mut self) -> CaseRef<'_> {
        CaseRef::new(self)
    }

    /// `Ok` if the value was sent, else the value back. Only meaningful for the chosen
    /// case.
    pub fn into_result(mut self) -> Result<(), SendError<T>> {
        match self.result {
            Some(Ok(())) => Ok(()),
            _ => match self.value.take() {
                Some(v) => Err(SendError(v)),
                // Unreachable by construction: a failed send keeps its value.
                None => Ok(()),
            },
        }
    }

    pub(crate) fn take_value(&mut self) -> T {
        match self.value.take() {
            Some(v) => v,
            None => unreachable!("gonet: a timed-out send lost its value"),
        }
    }
}

impl<T> Case for SendCase<'_, T> {
    fn lock(&self) -> &RawLock {
        &self.chan.lock
    }

    unsafe fn poll(&mut self) -> bool {
        let Some(v) = self.value.take() else {
            return false;
        };
        // SAFETY: the caller holds our lock.
        let st = unsafe { self.chan.state_locked() };
        match st.try_send(self.chan.cap, v) {
            SendAttempt::Sent(wake) => {
                self.result = Some(Ok(()));
                self.wake = wake;
                true
            }
            SendAttempt::Closed(v) => {
                self.value = Some(v);
                self.result = Some(Err(()));
                true
            }
            SendAttempt::Full(v) => {
                self.value = Some(v);
                false
            }
        }
    }

    unsafe fn enqueue(&mut self, signal: &Arc<Signal>, case: usize) {
        let slot = self.value.take();
        // SAFETY: the caller holds our lock.
        let q = unsafe { &mut self.chan.state_locked().sendq };
        self.waiter = Some(enqueue(q, signal, case, slot));
    }

    fn wake_after_unlock(&mut self) {
        wake(self.wake.take());
    }

    fn finish(&mut self, chosen: bool) {
        let Some(w) = self.waiter.take() else { return };
        if !chosen {
            let mut g = self.chan.locked();
            withdraw(&mut g.state().sendq, &w);
        }
        // SAFETY: the signal is settled (FIRED for some case, seen with Acquire, or
        // ABANDONED by us): no counterparty can claim it, so the slot is ours again. A
        // receiver that took the value left the slot empty; a close left it full.
        self.value = unsafe { w.take() };
        if chosen {
            self.result = Some(if self.value.is_none() {
                Ok(())
            } else {
                Err(())
            });
        }
    }
}
