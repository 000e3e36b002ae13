//! The errors of channel operations: where Go panics (send on a closed channel, a second
//! close) or a `select` takes its `default` or timeout arm.

use std::fmt;

// Named only in doc links.
#[cfg(doc)]
use super::{Receiver, Sender};

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

/// `Debug`, `Display` and `Error` for an error whose every variant holds the value that
/// was not sent: `Debug` shows the variant alone (`T` need not be `Debug`), `Display` the
/// variant's text.
macro_rules! unsent_value_error {
    ($name:ident { $($variant:ident => $text:literal,)+ }) => {
        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($name::$variant(_) => f.write_str(concat!(stringify!($variant), "(..)")),)+
                }
            }
        }
        impl<T> fmt::Display for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($name::$variant(_) => f.write_str($text),)+
                }
            }
        }
        impl<T> std::error::Error for $name<T> {}
    };
}

unsent_value_error!(TrySendError {
    Full => "send on full channel",
    Closed => "send on closed channel",
});

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

unsent_value_error!(SendTimeoutError {
    Timeout => "timed out sending on channel",
    Closed => "send on closed channel",
});

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
