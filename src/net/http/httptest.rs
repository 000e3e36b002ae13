//! Go's `net/http/httptest` for handler unit tests: [`ResponseRecorder`] and
//! [`new_request`].
//!
//! ```
//! use gonet::net::http::{self, httptest};
//! let mut rec = httptest::ResponseRecorder::new();
//! let mut req = httptest::new_request("GET", "/hello", "");
//! let hello = |w: &mut dyn http::ResponseWriter, r: &mut http::Request| {
//!     let _ = w.write(format!("hi {}", r.url.path).as_bytes());
//! };
//! http::Handler::serve_http(&hello, &mut rec, &mut req);
//! assert_eq!(rec.code, 200);
//! assert_eq!(rec.header().get("Content-Type"), "text/plain; charset=utf-8");
//! assert_eq!(rec.body_string(), "hi /hello");
//! ```

use std::io;

use super::body::Body;
use super::handler::ResponseWriter;
use super::header::Header;
use super::request::Request;
use super::sniff::{SNIFF_LEN, detect_content_type};
use crate::net::url::Url;

/// A [`ResponseWriter`] that records what a handler did. Go: `httptest.ResponseRecorder`.
///
/// ```
/// use gonet::net::http::{self, httptest::ResponseRecorder, ResponseWriter};
/// let mut rec = ResponseRecorder::new();
/// rec.header().set("X-A", "1");
/// rec.write_header(http::STATUS_CREATED);
/// rec.header().set("X-B", "late"); // after the header was sent: not in the snapshot
/// let _ = rec.write(b"made");
/// assert_eq!(rec.code, 201);
/// assert_eq!(rec.result_header().get("X-A"), "1");
/// assert_eq!(rec.result_header().get("X-B"), "");
/// ```
#[derive(Debug, Default)]
pub struct ResponseRecorder {
    /// The status written (200 until a handler writes another). Go: `Code`.
    pub code: u16,
    /// The header the handler changes. Go: `HeaderMap`.
    pub header_map: Header,
    /// The body written. Go: `Body`.
    pub body: Vec<u8>,
    /// Whether the handler called flush. Go: `Flushed`.
    pub flushed: bool,
    wrote_header: bool,
    snap_header: Header,
}

impl ResponseRecorder {
    /// A recorder with code 200. Go: `httptest.NewRecorder()`.
    ///
    /// ```
    /// assert_eq!(gonet::net::http::httptest::ResponseRecorder::new().code, 200);
    /// ```
    pub fn new() -> ResponseRecorder {
        ResponseRecorder {
            code: 200,
            ..ResponseRecorder::default()
        }
    }

    /// The header the handler changes (the same as [`ResponseWriter::header`], callable
    /// without the trait in scope). Go: `rec.Header()`.
    ///
    /// ```
    /// let mut rec = gonet::net::http::httptest::ResponseRecorder::new();
    /// rec.header().set("A", "1");
    /// assert_eq!(rec.header_map.get("A"), "1");
    /// ```
    pub fn header(&mut self) -> &mut Header {
        &mut self.header_map
    }

    /// The body as text (bytes that are not UTF-8 become U+FFFD). Go: `rec.Body.String()`.
    ///
    /// ```
    /// let rec = gonet::net::http::httptest::ResponseRecorder::new();
    /// assert_eq!(rec.body_string(), "");
    /// ```
    pub fn body_string(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The header as it was when the status was written (what a client would see).
    /// Go: `rec.Result().Header`.
    ///
    /// ```
    /// use gonet::net::http::ResponseWriter;
    /// let mut rec = gonet::net::http::httptest::ResponseRecorder::new();
    /// rec.header().set("A", "1");
    /// assert_eq!(rec.result_header().get("A"), "1"); // not written yet: the live header
    /// ```
    pub fn result_header(&self) -> &Header {
        if self.wrote_header {
            &self.snap_header
        } else {
            &self.header_map
        }
    }

    fn write_header_for(&mut self, b: &[u8]) {
        if self.wrote_header {
            return;
        }
        let m = &mut self.header_map;
        if !m.has("Content-Type") && m.get("Transfer-Encoding").is_empty() {
            m.set(
                "Content-Type",
                detect_content_type(&b[..b.len().min(SNIFF_LEN)]),
            );
        }
        self.write_header(200);
    }
}

impl ResponseWriter for ResponseRecorder {
    fn header(&mut self) -> &mut Header {
        &mut self.header_map
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_header_for(buf);
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn write_header(&mut self, status_code: u16) {
        if self.wrote_header {
            return;
        }
        super::response::check_write_header_code(status_code);
        self.code = status_code;
        self.wrote_header = true;
        self.snap_header = self.header_map.clone();
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.write_header(200);
        }
        self.flushed = true;
        Ok(())
    }
}

/// A request as a server would hand it to a handler, for tests: `target` is a path
/// (`/a?b=c`) or an absolute URL; the protocol is HTTP/1.1, the remote address
/// `192.0.2.1:1234`, the host `example.com` unless the target names one, and the body
/// `body` (its length as `content_length`). An empty method means GET.
///
/// Go: `httptest.NewRequest`, which also panics on a target that does not parse.
///
/// ```
/// let r = gonet::net::http::httptest::new_request("", "http://golang.org/x?y=1", "");
/// assert_eq!((r.method.as_str(), r.host.as_str(), r.url.path.as_str()), ("GET", "golang.org", "/x"));
/// assert_eq!(r.remote_addr, "192.0.2.1:1234");
/// ```
pub fn new_request(method: &str, target: &str, body: impl Into<Body>) -> Request {
    let url = Url::parse_request_uri(target)
        .unwrap_or_else(|e| panic!("invalid NewRequest arguments; {e}"));
    let body: Body = body.into();
    let content_length = match &body.inner {
        super::body::Inner::Memory(c) => c.get_ref().len() as i64,
        _ => 0,
    };
    let mut r = Request::new(method, "/", body).expect("\"/\" parses");
    r.host = if url.host.is_empty() {
        "example.com".to_string()
    } else {
        url.host.clone()
    };
    r.url = url;
    r.request_uri = target.to_string();
    r.content_length = content_length;
    r.remote_addr = "192.0.2.1:1234".to_string();
    r
}
