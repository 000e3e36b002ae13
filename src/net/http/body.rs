//! A request body: Go's `Request.Body` (`io.ReadCloser`), `http.NoBody`.

use std::fmt;
use std::io::{self, Read};

use std::sync::Arc;

use super::errors::Error;
use super::transfer::Shared;

/// The body of a request, read with [`Read`]: Go's `Request.Body`.
///
/// On the server it streams from the connection (chunked bodies decoded, a
/// `Content-Length` body cut at its length, `Expect: 100-continue` answered on the first
/// read), and the server closes it when the handler returns. [`Body::default`] is Go's
/// `http.NoBody`; handlers and tests can make bodies from bytes or any reader.
///
/// ```
/// use std::io::Read;
/// use gonet::net::http::Body;
/// let mut b = Body::from("hello");
/// let mut s = String::new();
/// b.read_to_string(&mut s).unwrap();
/// assert_eq!(s, "hello");
/// ```
#[derive(Default)]
pub struct Body {
    pub(crate) inner: Inner,
    /// Set by `max_bytes_reader`: `parse_form` then trusts the limit instead of its own.
    pub(crate) limited: bool,
}

#[derive(Default)]
pub(crate) enum Inner {
    #[default]
    Empty,
    Memory(io::Cursor<Vec<u8>>),
    Reader(Box<dyn Read + Send>),
    /// A server request's body, streaming from the connection.
    Server {
        shared: Arc<Shared>,
        generation: u64,
    },
    Closed,
}

impl Body {
    /// A body that reads `r`. Go: `io.NopCloser(r)` assigned to `r.Body`.
    ///
    /// ```
    /// use std::io::Read;
    /// let mut b = gonet::net::http::Body::new(std::io::repeat(b'x').take(3));
    /// let mut v = Vec::new();
    /// b.read_to_end(&mut v).unwrap();
    /// assert_eq!(v, b"xxx");
    /// ```
    pub fn new(r: impl Read + Send + 'static) -> Body {
        Body {
            inner: Inner::Reader(Box::new(r)),
            limited: false,
        }
    }

    /// An empty body. Go: `http.NoBody`.
    ///
    /// ```
    /// use std::io::Read;
    /// assert_eq!(gonet::net::http::Body::empty().read(&mut [0u8; 4]).unwrap(), 0);
    /// ```
    pub fn empty() -> Body {
        Body::default()
    }

    /// Closes the body: later reads fail with "http: invalid Read on closed Body".
    /// Go: `Body.Close()`.
    ///
    /// ```
    /// use std::io::Read;
    /// let mut b = gonet::net::http::Body::from("x");
    /// b.close();
    /// assert_eq!(b.read(&mut [0u8; 1]).unwrap_err().to_string(), "http: invalid Read on closed Body");
    /// ```
    pub fn close(&mut self) {
        self.inner = Inner::Closed;
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Empty => Ok(0),
            Inner::Memory(c) => c.read(buf),
            Inner::Reader(r) => r.read(buf),
            Inner::Server { shared, generation } => shared.read_body(*generation, buf),
            Inner::Closed => Err(Error::BodyReadAfterClose.into()),
        }
    }
}

impl Body {
    /// The server's body for the request of `generation`.
    pub(crate) fn server(shared: Arc<Shared>, generation: u64) -> Body {
        Body {
            inner: Inner::Server { shared, generation },
            limited: false,
        }
    }

    /// Makes this the body of request `generation` on `shared`'s connection: the
    /// handle the last request left is kept and moved on to the new generation, so a
    /// request costs no reference-count round trip on the connection's `Shared`.
    pub(crate) fn set_server(&mut self, shared: &Arc<Shared>, generation: u64) {
        if let Inner::Server {
            shared: s,
            generation: g,
        } = &mut self.inner
        {
            if Arc::ptr_eq(s, shared) {
                *g = generation;
                self.limited = false;
                return;
            }
        }
        *self = Body::server(shared.clone(), generation);
    }

    /// Whether this is a body the server made on `shared`'s connection (of any
    /// generation: a stale one reads nothing).
    pub(crate) fn is_server_of(&self, shared: &Arc<Shared>) -> bool {
        matches!(&self.inner, Inner::Server { shared: s, .. } if Arc::ptr_eq(s, shared))
    }
}

/// A body cut at `n` bytes: Go's `http.MaxBytesReader`. Reading past the limit fails
/// with "http: request body too large" ([`Error::MaxBytes`]) and, when `w` is the
/// server's own writer, tells the server to close the connection after the response
/// (`Connection: close`). As in Go, a writer that wraps the server's (a middleware's
/// status recorder, say) hides it: then the server reads and drops the rest of the body
/// (up to 256 KiB) and keeps the connection.
///
/// Go: `r.Body = http.MaxBytesReader(w, r.Body, n)` is
/// `r.body = http::max_bytes_reader(w, std::mem::take(&mut r.body), n)`.
///
/// ```
/// use std::io::Read;
/// use gonet::net::http::{self, Body};
/// let mut rec = http::httptest::ResponseRecorder::new();
/// let mut b = http::max_bytes_reader(&mut rec, Body::from("hello world"), 5);
/// let mut s = String::new();
/// let err = b.read_to_string(&mut s).unwrap_err();
/// assert_eq!(err.to_string(), "http: request body too large");
/// assert_eq!(s, "hello");
/// ```
pub fn max_bytes_reader(w: &mut dyn super::ResponseWriter, r: Body, n: i64) -> Body {
    // Go: `l.w.(requestTooLarger)`, asked of the writer, not of the body.
    let shared = w.__server_conn().and_then(|s| s.downcast::<Shared>().ok());
    Body {
        inner: Inner::Reader(Box::new(MaxBytesReader {
            r,
            n: n.max(0) as u64,
            shared,
            failed: false,
        })),
        limited: true,
    }
}

struct MaxBytesReader {
    r: Body,
    n: u64,
    shared: Option<Arc<Shared>>,
    failed: bool,
}

impl Read for MaxBytesReader {
    fn read(&mut self, p: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(Error::MaxBytes.into());
        }
        if p.is_empty() {
            return Ok(0);
        }
        let cap = usize::try_from(self.n.saturating_add(1)).unwrap_or(usize::MAX);
        let p = if p.len() > cap { &mut p[..cap] } else { p };
        let n = self.r.read(p)?;
        if n as u64 <= self.n {
            self.n -= n as u64;
            return Ok(n);
        }
        // One byte past the limit: report the limit, as Go does.
        let n = self.n as usize;
        self.n = 0;
        self.failed = true;
        if let Some(s) = &self.shared {
            s.too_large
                .store(true, std::sync::atomic::Ordering::Release);
        }
        if n > 0 {
            return Ok(n);
        }
        Err(Error::MaxBytes.into())
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body {
            inner: Inner::Memory(io::Cursor::new(v)),
            limited: false,
        }
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Body {
        Body::from(s.as_bytes().to_vec())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(s.into_bytes())
    }
}

impl From<&[u8]> for Body {
    fn from(s: &[u8]) -> Body {
        Body::from(s.to_vec())
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::Empty => "empty",
            Inner::Memory(_) => "memory",
            Inner::Reader(_) => "reader",
            Inner::Server { .. } => "server",
            Inner::Closed => "closed",
        };
        f.debug_struct("Body").field("kind", &kind).finish()
    }
}
