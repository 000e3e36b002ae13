//! Go's `Handler`, `HandlerFunc` and `ResponseWriter` (server.go), and the small helpers
//! every server uses: `Error`, `NotFound`, `Redirect` and their handlers.

use std::io;
use std::sync::Arc;

use super::errors::Error;
use super::header::Header;
use super::path;
use super::request::Request;
use super::status::status_text;
use crate::net::Conn;
use crate::net::url::Url;

/// Answers one HTTP request: Go's `http.Handler`.
///
/// `serve_http` writes the response through `w` and returns; the server then finishes
/// the response (flushes it, adds a Content-Length or ends the chunked body) and reads
/// the next request. A handler that panics has its connection closed and the panic
/// logged (`http: panic serving ADDR: ...`), as Go does; the server goes on.
///
/// Closures `Fn(&mut dyn ResponseWriter, &mut Request)` are handlers, so Go's
/// `http.HandlerFunc(f)` is just `f` (or [`HandlerFunc`]`(f)`, which reads the same as
/// Go's and helps the closure's argument types be inferred).
///
/// ```
/// use gonet::net::http::{self, Handler, Request, ResponseWriter};
///
/// struct Hello;
///
/// impl Handler for Hello {
///     fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
///         w.header().set("Content-Type", "text/plain");
///         let _ = w.write(format!("hello, {}", r.url.path).as_bytes());
///     }
/// }
///
/// let mut rec = http::httptest::ResponseRecorder::new();
/// let mut req = http::httptest::new_request("GET", "/gopher", "");
/// Hello.serve_http(&mut rec, &mut req);
/// assert_eq!(rec.body_string(), "hello, /gopher");
/// ```
pub trait Handler: Send + Sync {
    /// Writes the response to `r` through `w`. Go: `ServeHTTP(w, r)`.
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request);
}

impl<F> Handler for F
where
    F: Fn(&mut dyn ResponseWriter, &mut Request) + Send + Sync,
{
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        self(w, r)
    }
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        (**self).serve_http(w, r)
    }
}

/// A function as a [`Handler`]: Go's `http.HandlerFunc(f)`.
///
/// Every `Fn(&mut dyn ResponseWriter, &mut Request)` is already a handler; wrapping it
/// reads like the Go it ports, and lets the compiler infer the closure's argument
/// types, which middleware in Go's shape needs:
///
/// ```
/// use gonet::net::http::{self, Handler, HandlerFunc};
///
/// // func logging(next http.Handler) http.Handler {
/// //     return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ... })
/// // }
/// fn logging(next: impl Handler + 'static) -> impl Handler {
///     HandlerFunc(move |w, r| {
///         w.header().set("X-Seen", "yes");
///         next.serve_http(w, r);
///     })
/// }
///
/// let h = logging(HandlerFunc(|w, _r| {
///     let _ = w.write(b"hi");
/// }));
/// let mut rec = http::httptest::ResponseRecorder::new();
/// h.serve_http(&mut rec, &mut http::httptest::new_request("GET", "/", ""));
/// assert_eq!(rec.header().get("X-Seen"), "yes");
/// assert_eq!(rec.body_string(), "hi");
/// ```
pub struct HandlerFunc<F>(pub F)
where
    F: Fn(&mut dyn ResponseWriter, &mut Request) + Send + Sync;

impl<F> Handler for HandlerFunc<F>
where
    F: Fn(&mut dyn ResponseWriter, &mut Request) + Send + Sync,
{
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        (self.0)(w, r)
    }
}

/// What a handler writes its response through: Go's `http.ResponseWriter`, with the
/// optional interfaces Go reaches by type assertion (`http.Flusher`, `http.Hijacker`) as
/// methods that a writer may leave unsupported.
///
/// - [`header`](ResponseWriter::header): the response header, to change before the
///   first `write` or `write_header` (later changes are not sent, as in Go).
/// - [`write_header`](ResponseWriter::write_header): sends the status line and header;
///   only the first call counts (a second logs Go's "superfluous
///   response.WriteHeader call").
/// - [`write`](ResponseWriter::write): body bytes; the first call sends an implicit
///   `200 OK`, with a `Content-Type` sniffed from the first 512 bytes when none was set.
///
/// `dyn ResponseWriter` is also an [`io::Write`], so `write!(w, ...)` and `io::copy`
/// work on it. A middleware that wraps the writer (to record the status, say)
/// implements this trait and forwards to the writer it wraps:
///
/// ```
/// use gonet::net::http::{self, Header, ResponseWriter};
///
/// struct StatusRecorder<'a> {
///     w: &'a mut dyn ResponseWriter,
///     status: u16,
/// }
///
/// impl ResponseWriter for StatusRecorder<'_> {
///     fn header(&mut self) -> &mut Header {
///         self.w.header()
///     }
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
///         self.w.write(b)
///     }
///     fn write_header(&mut self, code: u16) {
///         self.status = code;
///         self.w.write_header(code);
///     }
/// }
///
/// let mut rec = http::httptest::ResponseRecorder::new();
/// let mut sr = StatusRecorder { w: &mut rec, status: 200 };
/// http::not_found(&mut sr, &http::httptest::new_request("GET", "/x", ""));
/// assert_eq!(sr.status, 404);
/// ```
pub trait ResponseWriter: Send {
    /// The header that `write_header` (or the first `write`) will send. Go: `Header()`.
    fn header(&mut self) -> &mut Header;

    /// Writes body bytes, sending the header first if it was not sent yet. Go: `Write`.
    /// Fails with [`Error::BodyNotAllowed`] for `HEAD`'s body-less statuses (204, 304,
    /// 1xx), [`Error::Hijacked`] after a hijack, [`Error::ContentLength`] past a declared
    /// `Content-Length`, or the connection's error.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;

    /// Sends the status line and the header. Go: `WriteHeader(statusCode)`. A 1xx code
    /// other than 101 sends an informational response and may be followed by the real
    /// one; codes below 100 or above 999 panic, as in Go.
    fn write_header(&mut self, status_code: u16);

    /// Sends everything buffered so far to the client (the header too). Go:
    /// `w.(http.Flusher).Flush()` (and Go 1.20's `ResponseController.Flush`, which
    /// returns an error): writers that cannot flush return
    /// [`Error::NotSupported`], the default.
    fn flush(&mut self) -> io::Result<()> {
        Err(Error::NotSupported.into())
    }

    /// Takes the connection over: the server stops managing it (no response is written
    /// for this request, and the connection is not read again) and the caller gets the
    /// [`Conn`] and the bytes already read from it past this request's header.
    ///
    /// Go: `w.(http.Hijacker).Hijack()` (there the bytes come in a `bufio.ReadWriter`).
    /// Writers that cannot hijack return [`Error::NotSupported`], the default.
    fn hijack(&mut self) -> io::Result<(Conn, Vec<u8>)> {
        Err(Error::NotSupported.into())
    }

    /// The server connection this writer answers on, for
    /// [`max_bytes_reader`](super::max_bytes_reader) to tell the server to close it
    /// after the response. Only the server's own writer has one: as in Go (where
    /// `MaxBytesReader` reaches the server through the unexported `requestTooLarger`
    /// interface of `*response`), a writer that wraps it hides it. Not part of the API.
    #[doc(hidden)]
    fn __server_conn(&mut self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        None
    }
}

impl io::Write for dyn ResponseWriter + '_ {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        ResponseWriter::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        // io::Write's flush means "push buffered bytes on", which a writer that cannot
        // flush has nothing to push for.
        match ResponseWriter::flush(self) {
            Err(e) if Error::of(&e) == Some(Error::NotSupported) => Ok(()),
            r => r,
        }
    }
}

/// Replies with `code` and the plain-text body `error` plus a newline: Go's `http.Error`
/// (Content-Type `text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`). The
/// handler should write nothing more.
///
/// ```
/// use gonet::net::http;
/// let mut rec = http::httptest::ResponseRecorder::new();
/// http::error(&mut rec, "no such item", http::STATUS_NOT_FOUND);
/// assert_eq!(rec.code, 404);
/// assert_eq!(rec.header().get("Content-Type"), "text/plain; charset=utf-8");
/// assert_eq!(rec.body_string(), "no such item\n");
/// ```
pub fn error(w: &mut dyn ResponseWriter, error: &str, code: u16) {
    let h = w.header();
    h.set("Content-Type", "text/plain; charset=utf-8");
    h.set("X-Content-Type-Options", "nosniff");
    w.write_header(code);
    let mut body = Vec::with_capacity(error.len() + 1);
    body.extend_from_slice(error.as_bytes());
    body.push(b'\n');
    let _ = w.write(&body);
}

/// Replies `404 page not found`. Go: `http.NotFound`.
///
/// ```
/// use gonet::net::http;
/// let mut rec = http::httptest::ResponseRecorder::new();
/// http::not_found(&mut rec, &http::httptest::new_request("GET", "/x", ""));
/// assert_eq!((rec.code, rec.body_string().as_str()), (404, "404 page not found\n"));
/// ```
pub fn not_found(w: &mut dyn ResponseWriter, _r: &Request) {
    error(w, "404 page not found", super::STATUS_NOT_FOUND)
}

/// A handler that answers every request with [`not_found`]. Go: `http.NotFoundHandler()`.
///
/// ```
/// use gonet::net::http::{self, Handler};
/// let mut rec = http::httptest::ResponseRecorder::new();
/// http::not_found_handler().serve_http(&mut rec, &mut http::httptest::new_request("GET", "/", ""));
/// assert_eq!(rec.code, 404);
/// ```
pub fn not_found_handler() -> impl Handler {
    |w: &mut dyn ResponseWriter, r: &mut Request| not_found(w, r)
}

/// Replies with a redirect to `url` (made absolute against the request path when it is
/// relative, and cleaned) and status `code` (3xx). For GET and HEAD requests without a
/// Content-Type set, the body is a short HTML link, as in Go.
///
/// Go: `http.Redirect`.
///
/// ```
/// use gonet::net::http;
/// let mut rec = http::httptest::ResponseRecorder::new();
/// let r = http::httptest::new_request("GET", "/a/b", "");
/// http::redirect(&mut rec, &r, "c?x=1", http::STATUS_FOUND);
/// assert_eq!(rec.code, 302);
/// assert_eq!(rec.header().get("Location"), "/a/c?x=1");
/// assert_eq!(rec.body_string(), "<a href=\"/a/c?x=1\">Found</a>.\n\n");
/// ```
pub fn redirect(w: &mut dyn ResponseWriter, r: &Request, url: &str, code: u16) {
    let mut url = url.to_string();
    if let Ok(u) = Url::parse(&url) {
        // A relative target: make its path absolute against the request's, as Go does
        // (RFC 7231 section 7.1.2).
        if u.scheme.is_empty() && u.host.is_empty() {
            let oldpath = if r.url.path.is_empty() {
                "/"
            } else {
                r.url.path.as_str()
            };
            if !url.starts_with('/') {
                let (olddir, _) = path::split(oldpath);
                url = format!("{olddir}{url}");
            }
            let mut query = String::new();
            if let Some(i) = url.find('?') {
                query = url[i..].to_string();
                url.truncate(i);
            }
            let trailing = url.ends_with('/');
            url = path::clean(&url);
            if trailing && !url.ends_with('/') {
                url.push('/');
            }
            url.push_str(&query);
        }
    }
    let h = w.header();
    let had_ct = h.has("Content-Type");
    h.set("Location", &hex_escape_non_ascii(&url));
    if !had_ct && (r.method == "GET" || r.method == "HEAD") {
        h.set("Content-Type", "text/html; charset=utf-8");
    }
    w.write_header(code);
    if !had_ct && r.method == "GET" {
        // fmt.Fprintln(w, body): the body ends "</a>.\n" and Fprintln adds another "\n".
        let body = format!(
            "<a href=\"{}\">{}</a>.\n\n",
            html_escape(&url),
            status_text(code)
        );
        let _ = w.write(body.as_bytes());
    }
}

/// A handler that redirects every request to `url` with `code`. Go: `http.RedirectHandler`.
///
/// ```
/// use gonet::net::http::{self, Handler};
/// let h = http::redirect_handler("/new", http::STATUS_MOVED_PERMANENTLY);
/// let mut rec = http::httptest::ResponseRecorder::new();
/// h.serve_http(&mut rec, &mut http::httptest::new_request("GET", "/old", ""));
/// assert_eq!((rec.code, rec.header().get("Location")), (301, "/new"));
/// ```
pub fn redirect_handler(url: &str, code: u16) -> impl Handler + use<> {
    let url = url.to_string();
    move |w: &mut dyn ResponseWriter, r: &mut Request| redirect(w, r, &url, code)
}

/// Go: server.go `htmlEscape` (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Go: http.go `hexEscapeNonASCII`: every byte >= 0x80 as `%xx` (lower-case hex).
pub(crate) fn hex_escape_non_ascii(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b >= 0x80 {
            out.push_str(&format!("%{b:x}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(hex_escape_non_ascii("/é"), "/%c3%a9");
    }
}
