//! net/http's error values (`http.ErrServerClosed`, `http.ErrHijacked`, ...), with Go's
//! texts, carried inside `io::Error`.

use std::fmt;
use std::io;

/// One of net/http's sentinel errors. Inside an [`io::Error`]; find it with
/// [`Error::of`], as Go code compares with `errors.Is(err, http.ErrServerClosed)`.
///
/// ```
/// use gonet::net::http;
/// let e: std::io::Error = http::Error::ServerClosed.into();
/// assert_eq!(e.to_string(), "http: Server closed");
/// assert_eq!(http::Error::of(&e), Some(http::Error::ServerClosed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// "http: Server closed": `serve` after `shutdown` or `close`. Go: `ErrServerClosed`.
    ServerClosed,
    /// "http: connection has been hijacked". Go: `ErrHijacked`.
    Hijacked,
    /// "http: request method or response status code does not allow body".
    /// Go: `ErrBodyNotAllowed`.
    BodyNotAllowed,
    /// "http: wrote more than the declared Content-Length". Go: `ErrContentLength`.
    ContentLength,
    /// "http: Handler timeout". Go: `ErrHandlerTimeout`.
    HandlerTimeout,
    /// "http: invalid Read on closed Body". Go: `ErrBodyReadAfterClose`.
    BodyReadAfterClose,
    /// "feature not supported": a writer without flush or hijack. Go: `ErrNotSupported`.
    NotSupported,
    /// "http: request body too large": past [`max_bytes_reader`](super::max_bytes_reader)'s
    /// limit. Go: `*MaxBytesError`.
    MaxBytes,
    /// "http: POST too large": a form body over 10 MB.
    PostTooLarge,
    /// "missing form body".
    MissingFormBody,
}

impl Error {
    /// Go's text.
    ///
    /// ```
    /// assert_eq!(gonet::net::http::Error::Hijacked.text(), "http: connection has been hijacked");
    /// ```
    pub fn text(self) -> &'static str {
        match self {
            Error::ServerClosed => "http: Server closed",
            Error::Hijacked => "http: connection has been hijacked",
            Error::BodyNotAllowed => {
                "http: request method or response status code does not allow body"
            }
            Error::ContentLength => "http: wrote more than the declared Content-Length",
            Error::HandlerTimeout => "http: Handler timeout",
            Error::BodyReadAfterClose => "http: invalid Read on closed Body",
            Error::NotSupported => "feature not supported",
            Error::MaxBytes => "http: request body too large",
            Error::PostTooLarge => "http: POST too large",
            Error::MissingFormBody => "missing form body",
        }
    }

    /// The net/http error inside `e`, if it is one. Go: `errors.Is(err, http.ErrX)`.
    ///
    /// ```
    /// use gonet::net::http;
    /// let e = std::io::Error::other("something else");
    /// assert_eq!(http::Error::of(&e), None);
    /// ```
    pub fn of(e: &io::Error) -> Option<Error> {
        e.get_ref()?.downcast_ref::<Error>().copied()
    }

    fn kind(self) -> io::ErrorKind {
        match self {
            Error::NotSupported => io::ErrorKind::Unsupported,
            Error::MaxBytes | Error::PostTooLarge => io::ErrorKind::InvalidData,
            Error::HandlerTimeout => io::ErrorKind::TimedOut,
            Error::ServerClosed | Error::Hijacked | Error::BodyReadAfterClose => {
                io::ErrorKind::NotConnected
            }
            _ => io::ErrorKind::Other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}
