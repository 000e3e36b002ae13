//! The errors of a context that ended (Go: `Canceled`, `DeadlineExceeded`) and Go's
//! `errors.Is` for them.

use std::error::Error as StdError;
use std::fmt;
use std::io;

// ---------------------------------------------------------------------------------------

/// The error of [`Context::err`](super::Context::err) when the context was cancelled.
///
/// Go: `context.Canceled`, "context canceled". Its `io::ErrorKind` is `Other`.
///
/// ```
/// assert_eq!(gonet::context::Canceled.to_string(), "context canceled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Canceled;

impl fmt::Display for Canceled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("context canceled")
    }
}

impl StdError for Canceled {}

impl From<Canceled> for io::Error {
    /// ```
    /// let err = std::io::Error::from(gonet::context::Canceled);
    /// assert!(gonet::context::is_canceled(&err));
    /// ```
    fn from(e: Canceled) -> io::Error {
        io::Error::other(e)
    }
}

/// The error of [`Context::err`](super::Context::err) when the context's deadline passed.
///
/// Go: `context.DeadlineExceeded`, "context deadline exceeded", whose `Timeout()` and
/// `Temporary()` are true. Its `io::ErrorKind` is `TimedOut`, so
/// [`is_timeout`](crate::is_timeout) is true for it.
///
/// ```
/// use gonet::context::DeadlineExceeded;
/// assert_eq!(DeadlineExceeded.to_string(), "context deadline exceeded");
/// assert!(DeadlineExceeded.timeout());
/// assert!(gonet::is_timeout(&DeadlineExceeded.into()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeadlineExceeded;

impl DeadlineExceeded {
    /// Always true: a deadline is a timeout. Go: `Timeout()`.
    ///
    /// ```
    /// assert!(gonet::context::DeadlineExceeded.timeout());
    /// ```
    pub fn timeout(&self) -> bool {
        true
    }

    /// Always true, as in Go: `Temporary()`.
    ///
    /// ```
    /// assert!(gonet::context::DeadlineExceeded.temporary());
    /// ```
    pub fn temporary(&self) -> bool {
        true
    }
}

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("context deadline exceeded")
    }
}

impl StdError for DeadlineExceeded {}

impl From<DeadlineExceeded> for io::Error {
    /// ```
    /// let err = std::io::Error::from(gonet::context::DeadlineExceeded);
    /// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// ```
    fn from(e: DeadlineExceeded) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}

/// Whether `err`, or an error it wraps, is [`Canceled`]; the net layer's "operation was
/// canceled" ([`ErrCanceled`](crate::net::ErrCanceled)) counts too, as in Go.
///
/// Go: `errors.Is(err, context.Canceled)`. Looks inside `io::Error`s and down
/// `source()` chains (Go's `Unwrap`). A lookup's `DnsError` does not wrap its cause, in
/// Go 1.19 as here.
///
/// ```
/// use gonet::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// cancel();
/// let err = ctx.err().unwrap();
/// assert!(context::is_canceled(&err));
/// assert!(!context::is_deadline_exceeded(&err));
/// // A wrapped error still is (Go: fmt.Errorf("...: %w", err)).
/// let wrapped = gonet::OpError::new("dial", "tcp", err);
/// assert!(context::is_canceled(&wrapped));
/// ```
pub fn is_canceled(err: &(dyn StdError + 'static)) -> bool {
    chain_any(err, &|e| {
        e.is::<Canceled>() || e.is::<crate::net::error::ErrCanceled>()
    })
}

/// Whether `err`, or an error it wraps, is [`DeadlineExceeded`]; the net layer's "i/o
/// timeout" for a context's or a dialer's deadline ([`ErrTimeout`](crate::net::ErrTimeout))
/// counts too, as in Go, but not a connection's read or write deadline
/// ([`DeadlineExceeded`](crate::DeadlineExceeded), Go's `os.ErrDeadlineExceeded`).
///
/// Go: `errors.Is(err, context.DeadlineExceeded)`.
///
/// ```
/// use gonet::context;
/// use std::time::Duration;
/// let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::ZERO);
/// assert!(context::is_deadline_exceeded(&ctx.err().unwrap()));
/// ```
pub fn is_deadline_exceeded(err: &(dyn StdError + 'static)) -> bool {
    chain_any(err, &|e| {
        e.is::<DeadlineExceeded>() || e.is::<crate::net::error::ErrTimeout>()
    })
}

/// Go's `errors.Is` walk: `err`, then what it wraps. `io::Error::source` skips the
/// error an `io::Error` carries, so that one is looked at explicitly.
fn chain_any(
    err: &(dyn StdError + 'static),
    pred: &dyn Fn(&(dyn StdError + 'static)) -> bool,
) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if pred(e) {
            return true;
        }
        cur = match e.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    false
}
