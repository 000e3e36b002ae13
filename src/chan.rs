//! Channels: Go's `chan T` (`runtime/chan.go`), coroutine-aware.
//!
//! [`chan`] makes a channel and returns its two ends, [`Sender`] and [`Receiver`]. Both
//! are `Clone + Send + Sync` (a Go channel has any number of senders and receivers), and
//! every blocking call parks only the calling *coroutine*: the may worker thread goes on
//! running the other coroutines queued on it. The same calls also work from a plain OS
//! thread (`main()`, a test), where they park the thread.
//!
//! Do not use `std::sync::mpsc` or `crossbeam-channel` between coroutines: their blocking
//! calls park the OS thread, which stalls every coroutine queued on that worker (and
//! deadlocks outright when the coroutine that would wake it is queued behind it).
//!
//! # How it works (Go's design, our code)
//! As in Go's `hchan`, a channel is a lock around a ring buffer (`cap` slots, 0 for an
//! unbuffered channel) and two wait queues, of parked senders and of parked receivers.
//! A sender first hands its value straight to a parked receiver, else puts it in the
//! buffer, else parks in the send queue with the value; a receiver mirrors that. A parked
//! operation is a [`Signal`](crate::select) (one per blocked `send`/`recv`/`select!`) plus a
//! queue entry per channel; whoever completes it claims the signal with a compare-and-swap,
//! so a `select!` parked on several channels is completed exactly once.
//!
//! The lock is a short spin lock (held for a few queue operations, never across a park,
//! and never while running user code such as a value's `Drop`).
//!
//! # Differences from Go
//! Go panics where gonet returns an error: sending on a closed channel gives
//! `Err(SendError(value))`, closing twice gives `Err(CloseError)`. Two situations that are
//! a guaranteed deadlock (or leaked goroutine) in Go return instead: when the last
//! [`Sender`] is dropped the channel is closed (nobody could send or close it any more),
//! and when the last [`Receiver`] is dropped every send fails with [`SendError`] (nobody
//! could ever receive the value).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam::utils::Backoff;

use crate::select::{self, Case, Mode, Signal};
use __select::{RecvCase, SendCase};

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// The error of [`Sender::send`]: the channel is closed, or every [`Receiver`] is gone.
/// The value that could not be sent is returned inside.
///
/// Go: `ch <- v` on a closed channel panics with "send on closed channel"; gonet
/// returns this error instead (and its text is Go's panic message).
///
/// ```
/// let (tx, rx) = gonet::chan::<i32>(1);
/// tx.close().unwrap();
/// let err = tx.send(7).unwrap_err();
/// assert_eq!(err.0, 7);
/// assert_eq!(err.to_string(), "send on closed channel");
/// # drop(rx);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// The error of [`Sender::try_send`].
///
/// Go: the `default` branch of `select { case ch <- v: ... default: ... }`.
///
/// ```
/// use gonet::TrySendError;
/// let (tx, rx) = gonet::chan::<i32>(1);
/// assert!(tx.try_send(1).is_ok());
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// tx.close().unwrap();
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// # drop(rx);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full (or, unbuffered, no receiver is waiting): the send would park.
    Full(T),
    /// The channel is closed, or every [`Receiver`] is gone.
    Closed(T),
}

/// The error of [`Sender::send_timeout`].
///
/// Go: `select { case ch <- v: ... case <-time.After(d): ... }`.
///
/// ```
/// use gonet::SendTimeoutError;
/// use std::time::Duration;
/// let (tx, rx) = gonet::chan::<i32>(0); // nobody receives
/// let err = tx.send_timeout(5, Duration::from_millis(10)).unwrap_err();
/// assert_eq!(err, SendTimeoutError::Timeout(5));
/// # drop(rx);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// No receiver took the value (and no buffer slot freed) before the timeout.
    Timeout(T),
    /// The channel is closed, or every [`Receiver`] is gone.
    Closed(T),
}

/// The error of [`Receiver::try_recv`].
///
/// Go: `select { case v, ok := <-ch: ... default: ... }`.
///
/// ```
/// use gonet::TryRecvError;
/// let (tx, rx) = gonet::chan::<i32>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.close().unwrap();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// Nothing to receive now: the receive would park.
    Empty,
    /// The channel is closed and drained (Go: `ok == false`).
    Closed,
}

/// The error of [`Receiver::recv_timeout`].
///
/// Go: `select { case v, ok := <-ch: ... case <-time.After(d): ... }`.
///
/// ```
/// use gonet::RecvTimeoutError;
/// use std::time::Duration;
/// let (tx, rx) = gonet::chan::<i32>(0);
/// assert_eq!(rx.recv_timeout(Duration::from_millis(10)), Err(RecvTimeoutError::Timeout));
/// drop(tx); // the last sender closes the channel
/// assert_eq!(rx.recv_timeout(Duration::from_millis(10)), Err(RecvTimeoutError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvTimeoutError {
    /// Nothing arrived before the timeout.
    Timeout,
    /// The channel is closed and drained (Go: `ok == false`).
    Closed,
}

/// The error of [`Sender::close`] on a channel that is already closed.
///
/// Go: `close(ch)` twice panics with "close of closed channel"; gonet returns this error
/// (whose text is Go's panic message).
///
/// ```
/// let (tx, _rx) = gonet::chan::<()>(0);
/// assert!(tx.close().is_ok());
/// assert_eq!(tx.close().unwrap_err().to_string(), "close of closed channel");
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct CloseError;

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}
impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("send on closed channel")
    }
}
impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("send on full channel"),
            TrySendError::Closed(_) => f.write_str("send on closed channel"),
        }
    }
}
impl<T> std::error::Error for TrySendError<T> {}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// Go: the value of a send case that `select` did not choose.
    ///
    /// ```
    /// let (tx, _rx) = gonet::chan::<String>(0);
    /// let err = tx.try_send("hi".to_string()).unwrap_err();
    /// assert_eq!(err.into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out sending on channel"),
            SendTimeoutError::Closed(_) => f.write_str("send on closed channel"),
        }
    }
}
impl<T> std::error::Error for SendTimeoutError<T> {}

impl<T> SendTimeoutError<T> {
    /// The value that was not sent.
    ///
    /// Go: the value of a send case that `select` did not choose.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = gonet::chan::<u8>(0);
    /// let err = tx.send_timeout(9, Duration::from_millis(1)).unwrap_err();
    /// assert_eq!(err.into_inner(), 9);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receive on empty channel"),
            TryRecvError::Closed => f.write_str("receive on closed channel"),
        }
    }
}
impl std::error::Error for TryRecvError {}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving on channel"),
            RecvTimeoutError::Closed => f.write_str("receive on closed channel"),
        }
    }
}
impl std::error::Error for RecvTimeoutError {}

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("close of closed channel")
    }
}
impl std::error::Error for CloseError {}

// ---------------------------------------------------------------------------------------
// The channel: Go's hchan
// ---------------------------------------------------------------------------------------

/// The channel lock: a test-and-test-and-set spin lock that backs off to
/// `std::thread::yield_now`. It is held only for a few queue operations and never across a
/// park, so its holder is always a running OS thread (a coroutine cannot be switched out
/// while it holds it), and waiting for it is short. `select!` takes the locks of all its
/// channels at once, in address order.
pub(crate) struct RawLock(AtomicBool);

impl RawLock {
    const fn new() -> Self {
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
    signal: Arc<Signal>,
    case: usize,
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
    unsafe fn take(&self) -> Option<T> {
        // SAFETY: exclusive access is the caller's contract.
        unsafe { (*self.slot.get()).take() }
    }

    /// # Safety
    /// As for [`Waiter::take`].
    unsafe fn put(&self, v: T) {
        // SAFETY: exclusive access is the caller's contract.
        unsafe { *self.slot.get() = Some(v) }
    }
}

type Queue<T> = VecDeque<Arc<Waiter<T>>>;

/// Pops the first entry whose signal can still be claimed; entries of operations that
/// were completed elsewhere or abandoned are dropped on the way. Called under the lock.
fn claim_first<T>(q: &mut Queue<T>) -> Option<Arc<Waiter<T>>> {
    while let Some(w) = q.pop_front() {
        if w.signal.claim() {
            return Some(w);
        }
    }
    None
}

/// What the channel lock protects.
pub(crate) struct State<T> {
    buf: VecDeque<T>,
    recvq: Queue<T>,
    sendq: Queue<T>,
    closed: bool,
    /// Every Receiver is gone: sends fail.
    orphaned: bool,
}

/// The result of a send attempt made under the lock.
enum SendAttempt<T> {
    /// Done; wake this signal (a receiver we handed the value to) after unlocking.
    Sent(Option<Arc<Signal>>),
    /// Closed or orphaned: the value is returned.
    Closed(T),
    /// Would park: the value is returned.
    Full(T),
}

/// The result of a receive attempt made under the lock.
enum RecvAttempt<T> {
    /// Got a value; wake this signal (a sender whose value we took) after unlocking.
    Got(T, Option<Arc<Signal>>),
    Closed,
    Empty,
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

    /// Completes every parked operation: receivers get "closed" (an empty slot), senders
    /// get their value back (a full slot). Returns the signals to wake after unlocking.
    fn fire_all(&mut self) -> Vec<Arc<Signal>> {
        let mut wake = Vec::new();
        for q in [&mut self.recvq, &mut self.sendq] {
            while let Some(w) = claim_first(q) {
                w.signal.fire(w.case);
                wake.push(w.signal.clone());
            }
        }
        wake
    }
}

/// The shared channel (Go's `hchan`).
pub(crate) struct Chan<T> {
    lock: RawLock,
    state: UnsafeCell<State<T>>,
    cap: usize,
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

// SAFETY: `state` is only accessed under `lock`; values of T move between threads.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// Holds the channel lock; unlocks on drop.
struct Locked<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        self.chan.lock.unlock();
    }
}

impl<T> Locked<'_, T> {
    fn state(&mut self) -> &mut State<T> {
        // SAFETY: we hold the lock, and `&mut self` makes this the only live reference.
        unsafe { self.chan.state_locked() }
    }
}

impl<T> Chan<T> {
    fn new(cap: usize, senders: usize) -> Self {
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

    fn locked(&self) -> Locked<'_, T> {
        self.lock.lock();
        Locked { chan: self }
    }

    /// # Safety
    /// The caller holds `self.lock` and has no other reference into the state.
    #[allow(clippy::mut_from_ref)]
    unsafe fn state_locked(&self) -> &mut State<T> {
        // SAFETY: the caller's contract.
        unsafe { &mut *self.state.get() }
    }

    /// Closes the channel; `Err` if it was already closed.
    fn close(&self) -> Result<(), CloseError> {
        let wake = {
            let mut g = self.locked();
            let st = g.state();
            if st.closed {
                return Err(CloseError);
            }
            st.closed = true;
            st.fire_all()
        };
        for s in wake {
            s.wake();
        }
        Ok(())
    }

    /// The last receiver is gone: fail every parked and future send, free the buffer.
    fn orphan(&self) {
        let (wake, buf) = {
            let mut g = self.locked();
            let st = g.state();
            st.orphaned = true;
            let wake = st.fire_all();
            (wake, std::mem::take(&mut st.buf))
        };
        // Values are dropped here, outside the lock: their Drop may use this channel.
        drop(buf);
        for s in wake {
            s.wake();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The public ends
// ---------------------------------------------------------------------------------------

/// Makes a channel with room for `cap` values and returns its two ends.
///
/// Go: `ch := make(chan T, cap)`; `make(chan T)` is `chan(0)`.
///
/// With `cap == 0` the channel is unbuffered: [`Sender::send`] returns only once a receiver
/// has taken the value (a rendezvous). Otherwise `send` parks only while the buffer is full.
/// Clone either end to get more senders or receivers (each value goes to one receiver).
///
/// Every blocking call parks only the calling *coroutine*; the may worker thread goes on
/// running the others. The same calls work from a plain OS thread (`main`, a test), which
/// they park. Do not use `std::sync::mpsc` or crossbeam channels between coroutines: they
/// park the OS thread, stalling every coroutine queued on that worker (a deadlock when
/// the coroutine that would wake it is one of them).
///
/// # Differences from Go
/// - Go panics where gonet returns an error: a send on a closed channel gives
///   `Err(SendError(value))`, a second close gives `Err(CloseError)`.
/// - Dropping the last [`Sender`] closes the channel (nobody could send or close it any
///   more: in Go, receivers would block forever).
/// - Dropping the last [`Receiver`] makes every parked and later send fail with
///   [`SendError`] (in Go, the senders would block forever), and drops buffered values.
/// - There is no nil channel; a `select!` arm cannot be switched off by setting its channel
///   to nil: use a separate `select!` without it.
///
/// ```
/// let (tx, rx) = gonet::chan::<i32>(0);
/// let h = gonet::go!(move || {
///     for i in 1..=3 {
///         tx.send(i).unwrap(); // parks until main takes it
///     }
///     tx.close().unwrap();
/// });
/// let got: Vec<i32> = rx.into_iter().collect(); // for v := range ch
/// assert_eq!(got, [1, 2, 3]);
/// h.join().unwrap();
/// ```
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let c = Arc::new(Chan::new(cap, 1));
    (Sender { chan: c.clone() }, Receiver { chan: c })
}

/// A channel that dropping its Senders does not close: it counts one sender that no handle
/// owns. Timer channels are such, as in Go: once a timer has fired (or was stopped) and
/// its Sender is gone, another receive parks (forever) instead of reporting "closed".
pub(crate) fn unclosed_chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let c = Arc::new(Chan::new(cap, 2));
    (Sender { chan: c.clone() }, Receiver { chan: c })
}

/// A receiver that never delivers anything and is never closed: Go's nil channel, for
/// receiving. A `select!` arm on it is never chosen, which is how Go code switches an arm
/// off (`ch = nil`) once its channel is closed. A plain `recv()` on it parks forever.
/// (`time::tick` returns one for a zero period.)
///
/// Go: a nil `<-chan T` (`var ch <-chan T`, or `ch = nil`).
///
/// ```
/// // Merge two channels until both are closed, switching each arm off when its
/// // channel closes: Go's `a = nil`.
/// let (a_tx, mut a) = gonet::chan::<i32>(2);
/// let (b_tx, mut b) = gonet::chan::<i32>(2);
/// a_tx.send(1).unwrap();
/// b_tx.send(2).unwrap();
/// drop((a_tx, b_tx)); // both closed, after their values
/// let (mut open, mut sum) = (2, 0);
/// while open > 0 {
///     gonet::select! {
///         recv(a) -> v => match v {
///             Some(v) => sum += v,
///             None => { a = gonet::never(); open -= 1; }
///         },
///         recv(b) -> v => match v {
///             Some(v) => sum += v,
///             None => { b = gonet::never(); open -= 1; }
///         },
///     }
/// }
/// assert_eq!(sum, 3);
/// ```
pub fn never<T>() -> Receiver<T> {
    unclosed_chan(0).1
}

/// The sending end of a channel. Clone it for more senders.
///
/// Go: a `chan<- T` (or a bidirectional `chan T` used for sending).
///
/// ```
/// let (tx, rx) = gonet::chan::<&str>(2);
/// let tx2 = tx.clone();
/// tx.send("a").unwrap();
/// tx2.send("b").unwrap();
/// assert_eq!(rx.recv(), Some("a"));
/// assert_eq!(rx.recv(), Some("b"));
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving end of a channel. Clone it for more receivers (each value goes to one of
/// them); iterate it for Go's `for v := range ch`.
///
/// Go: a `<-chan T` (or a bidirectional `chan T` used for receiving).
///
/// ```
/// let (tx, rx) = gonet::chan::<u32>(4);
/// for i in 0..4 {
///     tx.send(i).unwrap();
/// }
/// drop(tx); // closes: the loop below ends once the buffer is drained
/// let mut sum = 0;
/// for v in &rx {
///     sum += v;
/// }
/// assert_eq!(sum, 6);
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
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
            SendAttempt::Sent(wake) => {
                if let Some(s) = wake {
                    s.wake();
                }
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

    /// The number of values queued in the buffer.
    ///
    /// Go: `len(ch)`.
    ///
    /// ```
    /// let (tx, _rx) = gonet::chan::<i32>(3);
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.locked().state().buf.len()
    }

    /// True if no value is queued in the buffer.
    ///
    /// Go: `len(ch) == 0`.
    ///
    /// ```
    /// let (tx, _rx) = gonet::chan::<i32>(3);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer size given to [`chan`].
    ///
    /// Go: `cap(ch)`.
    ///
    /// ```
    /// let (tx, _rx) = gonet::chan::<i32>(3);
    /// assert_eq!(tx.cap(), 3);
    /// ```
    pub fn cap(&self) -> usize {
        self.chan.cap
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
            RecvAttempt::Got(v, wake) => {
                if let Some(s) = wake {
                    s.wake();
                }
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
    pub fn len(&self) -> usize {
        self.chan.locked().state().buf.len()
    }

    /// True if no value is queued in the buffer.
    ///
    /// Go: `len(ch) == 0`.
    ///
    /// ```
    /// let (_tx, rx) = gonet::chan::<i32>(3);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer size given to [`chan`].
    ///
    /// Go: `cap(ch)`.
    ///
    /// ```
    /// let (_tx, rx) = gonet::chan::<i32>(0);
    /// assert_eq!(rx.cap(), 0);
    /// ```
    pub fn cap(&self) -> usize {
        self.chan.cap
    }
}

impl<T> Sender<T> {
    /// Whether `self` and `other` send on the same channel.
    pub(crate) fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: nobody can send or close any more. Close, unless done.
            let _ = self.chan.close();
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.orphan();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("cap", &self.cap())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("cap", &self.cap())
            .finish()
    }
}

/// Receives until the channel is closed and drained; see [`Receiver::iter`].
///
/// Go: `for v := range ch`.
///
/// ```
/// let (tx, rx) = gonet::chan::<i32>(1);
/// tx.send(1).unwrap();
/// drop(tx);
/// let mut it = rx.iter();
/// assert_eq!(it.next(), Some(1));
/// assert_eq!(it.next(), None);
/// ```
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv()
    }
}

/// Receives until the channel is closed and drained, owning the [`Receiver`].
///
/// Go: `for v := range ch`.
///
/// ```
/// let (tx, rx) = gonet::chan::<i32>(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// drop(tx);
/// assert_eq!(rx.into_iter().collect::<Vec<_>>(), [1, 2]);
/// ```
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

// ---------------------------------------------------------------------------------------
// select! cases (Go: runtime/select.go's scase), used by `select!` and by the methods above
// ---------------------------------------------------------------------------------------

/// What the expansion of [`select!`](crate::select!) calls; not part of the API.
#[doc(hidden)]
pub mod __select {
    use super::*;
    pub use crate::select::{select as run, CaseRef};

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
            let w = Arc::new(Waiter {
                signal: signal.clone(),
                case,
                slot: UnsafeCell::new(None),
            });
            // SAFETY: the caller holds our lock.
            unsafe { self.chan.state_locked() }
                .recvq
                .push_back(w.clone());
            self.waiter = Some(w);
        }

        fn wake_after_unlock(&mut self) {
            if let Some(s) = self.wake.take() {
                s.wake();
            }
        }

        fn finish(&mut self, chosen: bool) {
            let Some(w) = self.waiter.take() else { return };
            if chosen {
                // SAFETY: the signal is FIRED for this case (seen with Acquire): the
                // counterparty is done with the slot.
                self.result = Some(unsafe { w.take() });
            } else {
                let mut g = self.chan.locked();
                g.state().recvq.retain(|x| !Arc::ptr_eq(x, &w));
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
            let w = Arc::new(Waiter {
                signal: signal.clone(),
                case,
                slot: UnsafeCell::new(self.value.take()),
            });
            // SAFETY: the caller holds our lock.
            unsafe { self.chan.state_locked() }
                .sendq
                .push_back(w.clone());
            self.waiter = Some(w);
        }

        fn wake_after_unlock(&mut self) {
            if let Some(s) = self.wake.take() {
                s.wake();
            }
        }

        fn finish(&mut self, chosen: bool) {
            let Some(w) = self.waiter.take() else { return };
            if !chosen {
                let mut g = self.chan.locked();
                g.state().sendq.retain(|x| !Arc::ptr_eq(x, &w));
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
}
