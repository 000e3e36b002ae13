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

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// `len`, `is_empty` and `cap`, which both ends have (Go's `len(ch)` and `cap(ch)`), each
/// given its own doc comment.
macro_rules! buffer_queries {
    ($(#[$len:meta])* len; $(#[$is_empty:meta])* is_empty; $(#[$cap:meta])* cap;) => {
        $(#[$len])*
        pub fn len(&self) -> usize {
            self.chan.len()
        }

        $(#[$is_empty])*
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        $(#[$cap])*
        pub fn cap(&self) -> usize {
            self.chan.cap
        }
    };
}

mod close;
mod error;
mod hchan;
mod iter;
mod recv;
mod send;
mod waitq;

pub use error::{
    CloseError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub(crate) use hchan::RawLock;
pub use iter::{IntoIter, Iter};

use hchan::Chan;

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

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chan.fmt_end("Sender", f)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chan.fmt_end("Receiver", f)
    }
}

// select! cases (Go: runtime/select.go's scase), used by `select!` and by the blocking
// methods: their types live in send.rs and recv.rs.

/// What the expansion of [`select!`](crate::select!) calls; not part of the API.
#[doc(hidden)]
pub mod __select {
    pub use super::recv::RecvCase;
    pub use super::send::SendCase;
    pub use crate::select::{CaseRef, select as run};
}
