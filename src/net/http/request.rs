//! Go's `http.Request` (request.go) as the server hands it to a handler: the parsed
//! request line and header, the body, forms, and Go 1.22's path values.

use std::io::Read;

use std::sync::{Arc, OnceLock};

use super::body::Body;
use super::errors::Error;
use super::header::Header;
use super::trailer::Trailer;
use super::transfer::Shared;
use crate::context::{self, CancelFunc, Context};
use crate::net::url::{self, Url, Values, parse_query_into};

/// The request's context and the server's cancel function for it.
#[derive(Default)]
struct ReqCtx(OnceLock<(Context, Option<CancelFunc>)>);

impl std::fmt::Debug for ReqCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.get() {
            Some((ctx, _)) => std::fmt::Debug::fmt(ctx, f),
            None => f.write_str("(not made)"),
        }
    }
}

/// Go: request.go `defaultMaxMemory`'s sibling: the most `parse_form` reads of a form
/// body without a [`max_bytes_reader`](super::max_bytes_reader) (10 MB).
const MAX_FORM_SIZE: u64 = 10 << 20;

/// An HTTP request, as a server received it: Go's `http.Request`, field for field.
///
/// ```
/// use gonet::net::http;
/// let mut r = http::httptest::new_request("POST", "/items/7?full=1", "name=gopher");
/// r.header.set("Content-Type", "application/x-www-form-urlencoded");
/// assert_eq!(r.method, "POST");
/// assert_eq!(r.url.path, "/items/7");
/// assert_eq!(r.url.query().get("full"), "1");
/// assert_eq!(r.proto, "HTTP/1.1");
/// assert_eq!(r.form_value("name"), "gopher");
/// assert_eq!(r.form_value("full"), "1");
/// ```
#[derive(Debug, Default)]
pub struct Request {
    /// `GET`, `POST`, ... Go: `Method`.
    pub method: String,
    /// The parsed request target. Go: `URL`.
    pub url: Url,
    /// `HTTP/1.1`. Go: `Proto`.
    pub proto: String,
    /// 1. Go: `ProtoMajor`.
    pub proto_major: i32,
    /// 1 or 0. Go: `ProtoMinor`.
    pub proto_minor: i32,
    /// The request's header fields, keys canonical; `Host` is moved to [`host`](Request::host).
    /// Go: `Header`.
    pub header: Header,
    /// The body. Go: `Body`.
    pub body: Body,
    /// The body's length: -1 when unknown (chunked), 0 when there is none.
    /// Go: `ContentLength`.
    pub content_length: i64,
    /// The transfer codings, outermost first (`["chunked"]`). Go: `TransferEncoding`.
    pub transfer_encoding: Vec<String>,
    /// Whether the connection closes after this request (`Connection: close`, or
    /// HTTP/1.0 without keep-alive). Go: `Close`.
    pub close: bool,
    /// The host the request is for: the `Host` header, or the absolute URL's host.
    /// Go: `Host`.
    pub host: String,
    /// The query and (for POST, PUT and PATCH) urlencoded body values, after
    /// [`parse_form`](Request::parse_form). Go: `Form`.
    pub form: Values,
    /// The urlencoded body values only, after `parse_form`. Go: `PostForm`.
    pub post_form: Values,
    /// Trailer fields of a chunked body: the keys the client declared, with their
    /// values once the body has been read to its end. Go: `Trailer`.
    pub trailer: Trailer,
    /// The client's address, `IP:port`. Go: `RemoteAddr`.
    pub remote_addr: String,
    /// The request target as sent on the request line. Go: `RequestURI`.
    pub request_uri: String,
    /// The ServeMux pattern that matched the request. Go 1.23: `Pattern`.
    pub pattern: String,
    /// What the TLS handshake negotiated, for a request that came over TLS
    /// ([`Server::serve_tls`](super::Server::serve_tls)); `None` over plain TCP.
    /// Go: `TLS`.
    pub tls: Option<std::sync::Arc<crate::crypto::tls::ConnectionState>>,
    /// Go 1.22 path wildcards by name (`{id}`), set by the mux. A field of its own, so
    /// the mux can set them while it borrows the request's URL.
    pub(crate) path_values: PathValues,
    form_parsed: bool,
    post_form_parsed: bool,
    /// The request's context, made on the first [`context`](Request::context) call, and
    /// the server's cancel function for it.
    ctx: ReqCtx,
    /// The connection this request came on (a server's request).
    pub(crate) conn: Option<Arc<Shared>>,
}

impl Request {
    /// A request for `method` and `url` with `body`, as a client would build it.
    ///
    /// Go: `http.NewRequest(method, url, body)`: the URL is parsed with
    /// [`Url::parse`], `host` is taken from it, the protocol is HTTP/1.1. An empty
    /// method means GET.
    ///
    /// ```
    /// let r = gonet::net::http::Request::new("GET", "http://example.com/a?b=c", "").unwrap();
    /// assert_eq!(r.host, "example.com");
    /// assert_eq!(r.url.path, "/a");
    /// assert!(gonet::net::http::Request::new("GET", ":bad", "").is_err());
    /// ```
    pub fn new(method: &str, url: &str, body: impl Into<Body>) -> Result<Request, url::Error> {
        let url = Url::parse(url)?;
        let body = body.into();
        Ok(Request {
            method: if method.is_empty() { "GET" } else { method }.to_string(),
            host: url.host.clone(),
            url,
            proto: "HTTP/1.1".to_string(),
            proto_major: 1,
            proto_minor: 1,
            body,
            ..Request::default()
        })
    }

    /// The value of the path wildcard `name` in the pattern that matched (`{id}` in
    /// `GET /items/{id}`), or "" if there is none. Go 1.22: `Request.PathValue`.
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/items/7", "");
    /// r.set_path_value("id", "7");
    /// assert_eq!(r.path_value("id"), "7");
    /// assert_eq!(r.path_value("other"), "");
    /// ```
    pub fn path_value(&self, name: &str) -> &str {
        self.path_values.get(name)
    }

    /// Sets the path value `name` (what [`path_value`](Request::path_value) returns).
    /// Go 1.22: `Request.SetPathValue`.
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.set_path_value("a", "1");
    /// r.set_path_value("a", "2");
    /// assert_eq!(r.path_value("a"), "2");
    /// ```
    pub fn set_path_value(&mut self, name: &str, value: &str) {
        self.path_values.set(name, value);
    }

    /// Forgets what a handler of the connection's previous request left in the fields
    /// the request line and header do not set (the server reuses one `Request`, and
    /// its memory, per connection): forms, trailer, pattern, path values.
    pub(crate) fn reset_for_next_request(&mut self) {
        if self.form_parsed || !self.form.is_empty() {
            self.form = Values::new();
        }
        if self.post_form_parsed || !self.post_form.is_empty() {
            self.post_form = Values::new();
        }
        self.form_parsed = false;
        self.post_form_parsed = false;
        self.trailer = Trailer::default();
        self.pattern.clear();
        self.path_values.clear();
    }

    /// The request's context: Go's `Request.Context()`.
    ///
    /// On the server it is cancelled when the client goes away (its connection reaches
    /// end of stream or fails while the handler runs, once the body has been read), when
    /// the connection ends, or when the handler returns; pass it to the work the
    /// request starts, and select on its [`done`](Context::done) to stop early. For
    /// other requests it is [`context::background`] unless
    /// [`set_context`](Request::set_context) gave one. Made on the first call: a handler
    /// that never asks pays nothing for it.
    ///
    /// ```
    /// use gonet::net::http::{self, Request, ResponseWriter};
    /// fn handler(w: &mut dyn ResponseWriter, r: &mut Request) {
    ///     let ctx = r.context();
    ///     let (_tx, results) = gonet::chan::<String>(0); // work that may take long
    ///     gonet::select! {
    ///         recv(results) -> res => { let _ = w.write(res.unwrap_or_default().as_bytes()); }
    ///         // The client went away: nobody reads the answer.
    ///         recv(ctx.done()) => log::info!("{}", ctx.err().unwrap()),
    ///         recv(gonet::time::after(std::time::Duration::from_millis(10))) => {
    ///             http::error(w, "slow", http::STATUS_SERVICE_UNAVAILABLE)
    ///         }
    ///     }
    /// }
    /// let mut rec = http::httptest::ResponseRecorder::new();
    /// handler(&mut rec, &mut http::httptest::new_request("GET", "/", ""));
    /// assert_eq!(rec.code, 503);
    /// ```
    pub fn context(&self) -> Context {
        self.ctx
            .0
            .get_or_init(|| match &self.conn {
                Some(shared) => {
                    let (ctx, cancel) = shared.request_context();
                    (ctx, Some(cancel))
                }
                None => (context::background(), None),
            })
            .0
            .clone()
    }

    /// Gives the request another context: Go's `r = r.WithContext(ctx)`, for middleware
    /// that passes a derived context (a deadline, a value) to the next handler. The
    /// server still cancels the context it made when the handler returns.
    ///
    /// ```
    /// use gonet::context;
    /// #[derive(Debug, PartialEq)]
    /// struct User(&'static str);
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// let ctx = context::with_value(&r.context(), User("ana"));
    /// r.set_context(ctx);
    /// assert_eq!(r.context().value::<User>(), Some(&User("ana")));
    /// ```
    pub fn set_context(&mut self, ctx: Context) {
        let cancel = self.ctx.0.take().and_then(|(_, c)| c);
        let _ = self.ctx.0.set((ctx, cancel));
    }

    /// Cancels the context the server made for this request, if a handler asked for it,
    /// and forgets it. Go: `w.cancelCtx()` after `ServeHTTP`.
    pub(crate) fn end_context(&mut self) {
        if let Some((_, Some(cancel))) = self.ctx.0.take() {
            cancel();
        }
    }

    /// Moves the request out for a handler that runs in another coroutine (Go hands it
    /// the same `*Request`): this one keeps its context slot (the server's cancel
    /// function stays with the server) and its connection.
    pub(crate) fn hand_off(&mut self) -> Request {
        let mut out = std::mem::take(self);
        std::mem::swap(&mut self.ctx, &mut out.ctx);
        self.conn.clone_from(&out.conn);
        out
    }

    /// Takes back a request given away by [`hand_off`](Request::hand_off), keeping this
    /// one's context slot.
    pub(crate) fn take_back(&mut self, mut back: Request) {
        std::mem::swap(&mut self.ctx, &mut back.ctx);
        *self = back;
    }

    /// Removes every path value (the mux does, before it sets a match's values).
    pub(crate) fn clear_path_values(&mut self) {
        self.path_values.clear();
    }

    /// The `User-Agent` header. Go: `Request.UserAgent`.
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.header.set("User-Agent", "curl/8");
    /// assert_eq!(r.user_agent(), "curl/8");
    /// ```
    pub fn user_agent(&self) -> &str {
        self.header.get("User-Agent")
    }

    /// The `Referer` header. Go: `Request.Referer`.
    ///
    /// ```
    /// let r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// assert_eq!(r.referer(), "");
    /// ```
    pub fn referer(&self) -> &str {
        self.header.get("Referer")
    }

    /// Whether the request's protocol is at least `major.minor`. Go: `ProtoAtLeast`.
    ///
    /// ```
    /// let r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// assert!(r.proto_at_least(1, 1));
    /// assert!(!r.proto_at_least(2, 0));
    /// ```
    pub fn proto_at_least(&self, major: i32, minor: i32) -> bool {
        self.proto_major > major || self.proto_major == major && self.proto_minor >= minor
    }

    /// Whether the client asked for `100 Continue` before it sends the body.
    /// Go: `Request.expectsContinue`.
    #[allow(dead_code)] // the server
    pub(crate) fn expects_continue(&self) -> bool {
        has_token(self.header.get("Expect"), "100-continue")
    }

    /// The user name and password of a `Basic` `Authorization` header.
    /// Go: `Request.BasicAuth` (its `ok` is the `Some`).
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.header.set("Authorization", "Basic Z29waGVyOnMzY3JldA==");
    /// assert_eq!(r.basic_auth(), Some(("gopher".to_string(), "s3cret".to_string())));
    /// ```
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let auth = self.header.get("Authorization");
        const PREFIX: &str = "Basic ";
        if auth.len() < PREFIX.len() || !auth[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
            return None;
        }
        let decoded = base64_decode(&auth[PREFIX.len()..])?;
        let s = String::from_utf8(decoded).ok()?;
        let (user, pass) = s.split_once(':')?;
        Some((user.to_string(), pass.to_string()))
    }

    /// Fills [`form`](Request::form) from the URL query and, for POST, PUT and PATCH
    /// with `Content-Type: application/x-www-form-urlencoded`, from the body (read up to
    /// 10 MB, or up to a [`max_bytes_reader`](super::max_bytes_reader)'s limit), body
    /// values first; and [`post_form`](Request::post_form) from the body alone. Parses
    /// once; later calls return at once. Pairs that parse are kept even when another
    /// fails; the first error is returned.
    ///
    /// Go: `Request.ParseForm` (multipart bodies are not parsed: Go's
    /// `ParseMultipartForm` has no equivalent here yet).
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("PUT", "/?a=q", "a=body&b=2");
    /// r.header.set("Content-Type", "application/x-www-form-urlencoded");
    /// r.parse_form().unwrap();
    /// assert_eq!(r.form.values("a"), ["body", "q"]);
    /// assert_eq!(r.post_form.values("a"), ["body"]);
    /// ```
    pub fn parse_form(&mut self) -> std::io::Result<()> {
        let mut err: Option<std::io::Error> = None;
        if !self.post_form_parsed {
            self.post_form_parsed = true;
            if matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") {
                if let Err(e) = self.parse_post_form() {
                    err = Some(e);
                }
            }
        }
        if !self.form_parsed {
            self.form_parsed = true;
            let mut form = self.post_form.clone();
            let mut query = Values::new();
            let r = parse_query_into(&mut query, &self.url.raw_query);
            if let Err(e) = r {
                err.get_or_insert_with(|| std::io::Error::new(std::io::ErrorKind::InvalidData, e));
            }
            form.append(&query);
            self.form = form;
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Go: request.go `parsePostForm`.
    fn parse_post_form(&mut self) -> std::io::Result<()> {
        let mut ct = self.header.get("Content-Type");
        if ct.is_empty() {
            ct = "application/octet-stream";
        }
        let media = parse_media_type(ct)?;
        if media != "application/x-www-form-urlencoded" {
            return Ok(());
        }
        let mut b = Vec::new();
        if self.body.limited {
            self.body.read_to_end(&mut b)?;
        } else {
            (&mut self.body)
                .take(MAX_FORM_SIZE + 1)
                .read_to_end(&mut b)?;
            if b.len() as u64 > MAX_FORM_SIZE {
                return Err(Error::PostTooLarge.into());
            }
        }
        let s = String::from_utf8_lossy(&b);
        parse_query_into(&mut self.post_form, &s)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// The first value of `key` in the form (body values before query values), parsing
    /// the form first if needed; "" if there is none. Errors of the parse are ignored,
    /// as in Go.
    ///
    /// Go: `Request.FormValue`.
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/?q=rust", "");
    /// assert_eq!(r.form_value("q"), "rust");
    /// assert_eq!(r.form_value("nope"), "");
    /// ```
    pub fn form_value(&mut self, key: &str) -> String {
        if !self.form_parsed {
            let _ = self.parse_form();
        }
        self.form.get(key).to_string()
    }

    /// The first value of `key` in the urlencoded body only. Go: `Request.PostFormValue`.
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("POST", "/?q=url", "q=body");
    /// r.header.set("Content-Type", "application/x-www-form-urlencoded");
    /// assert_eq!(r.post_form_value("q"), "body");
    /// ```
    pub fn post_form_value(&mut self, key: &str) -> String {
        if !self.post_form_parsed {
            let _ = self.parse_form();
        }
        self.post_form.get(key).to_string()
    }
}

/// Whether the comma-separated list `v` holds `token`, case-insensitively.
/// Go: httpguts.HeaderValuesContainsToken for one value.
#[allow(dead_code)] // the server
pub(crate) fn has_token(v: &str, token: &str) -> bool {
    // Over the bytes, element by element, the length compared before the letters: this
    // runs on every request's Connection and Expect (str::split and trim_matches cost
    // hundreds of instructions per call).
    let (v, token) = (v.as_bytes(), token.as_bytes());
    if v.len() <= token.len() {
        // No room for blanks or a second element: the whole value or nothing.
        return v.len() == token.len() && v.eq_ignore_ascii_case(token);
    }
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut i = 0;
    loop {
        let mut j = i;
        while j < v.len() && v[j] != b',' {
            j += 1;
        }
        let (mut s, mut e) = (i, j);
        while s < e && blank(v[s]) {
            s += 1;
        }
        while e > s && blank(v[e - 1]) {
            e -= 1;
        }
        if e - s == token.len() && v[s..e].eq_ignore_ascii_case(token) {
            return true;
        }
        if j == v.len() {
            return false;
        }
        i = j + 1;
    }
}

/// The media type of a `Content-Type`, lower case: Go's `mime.ParseMediaType` (the type
/// part; its parameters are not needed here).
fn parse_media_type(v: &str) -> std::io::Result<String> {
    let base = v.split(';').next().unwrap_or("");
    let media = base
        .trim_matches(|c| c == ' ' || c == '\t')
        .to_ascii_lowercase();
    let bad = |s: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, s.to_string());
    if media.is_empty() {
        return Err(bad("mime: no media type"));
    }
    let (major, minor) = match media.split_once('/') {
        Some(p) => p,
        None => (media.as_str(), ""),
    };
    let tok = |s: &str| !s.is_empty() && s.bytes().all(super::header::is_token_byte);
    if !tok(major) {
        return Err(bad("mime: no media type"));
    }
    if !media.contains('/') {
        return Err(bad("mime: expected slash after first token"));
    }
    if !tok(minor) {
        return Err(bad("mime: expected token after slash"));
    }
    Ok(media)
}

/// Standard base64 (with padding), for `basic_auth`.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (ci, chunk) in b.chunks(4).enumerate() {
        let last = ci == b.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || pad > 0 && !last {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | val(c)?;
        }
        n <<= 6 * pad as u32;
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_like_go() {
        assert_eq!(
            parse_media_type("Application/X-WWW-Form-Urlencoded; charset=utf-8").unwrap(),
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            parse_media_type("").unwrap_err().to_string(),
            "mime: no media type"
        );
        assert_eq!(
            parse_media_type("text").unwrap_err().to_string(),
            "mime: expected slash after first token"
        );
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("Z28=").unwrap(), b"go");
        assert_eq!(base64_decode("Zw==").unwrap(), b"g");
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zw==Zw==").is_none());
    }

    #[test]
    fn tokens() {
        assert!(has_token("foo, 100-Continue", "100-continue"));
        assert!(!has_token("100-continuex", "100-continue"));
        assert!(has_token("\t keep-alive\t", "keep-alive"));
        assert!(has_token("Upgrade,,close", "close"));
        assert!(has_token("close", "close"));
        assert!(!has_token(" , ,", "close"));
        assert!(!has_token("", "close"));
        assert!(!has_token("clos e", "close"));
        // Against Go's definition (split on commas, trim blanks, compare folded), over
        // every string of up to five bytes from a small alphabet.
        let reference = |v: &str, t: &str| {
            v.split(',')
                .any(|e| e.trim_matches([' ', '\t']).eq_ignore_ascii_case(t))
        };
        let alphabet = [" ", "\t", ",", "a", "B", "ab"];
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let more: Vec<String> = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |a| format!("{w}{a}")))
                .collect();
            words.extend(more);
            words.sort();
            words.dedup();
        }
        for v in &words {
            for t in ["", "a", "ab", "b"] {
                assert_eq!(has_token(v, t), reference(v, t), "{v:?} {t:?}");
            }
        }
    }
}

/// A request's path values: `slots[..n]` are live; the rest keep their strings' memory
/// for the connection's next request (the server reuses one `Request` per connection),
/// so setting values allocates nothing once a connection has seen as many as now.
#[derive(Debug, Default, Clone)]
pub(crate) struct PathValues {
    slots: Vec<(String, String)>,
    n: usize,
}

impl PathValues {
    pub(crate) fn clear(&mut self) {
        self.n = 0;
    }

    fn get(&self, name: &str) -> &str {
        self.slots[..self.n]
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Go's `SetPathValue`: replaces the value of `name`, or adds it.
    fn set(&mut self, name: &str, value: &str) {
        if let Some((_, v)) = self.slots[..self.n].iter_mut().find(|(k, _)| k == name) {
            v.clear();
            v.push_str(value);
            return;
        }
        let (k, v) = self.next_slot();
        k.push_str(name);
        v.push_str(value);
    }

    /// Adds a wildcard's match, as the mux does after [`clear`](Self::clear): the names
    /// of one pattern differ (a pattern with a repeated name is refused), so no search.
    /// Bytes that are not UTF-8 become U+FFFD, as `String::from_utf8_lossy` makes them.
    pub(crate) fn push_match(&mut self, name: &[u8], value: &[u8]) {
        let (k, v) = self.next_slot();
        k.push_str(&String::from_utf8_lossy(name));
        v.push_str(&String::from_utf8_lossy(value));
    }

    /// The next free slot, emptied (a new one only past every slot used so far).
    fn next_slot(&mut self) -> (&mut String, &mut String) {
        if self.n == self.slots.len() {
            self.slots.push((String::new(), String::new()));
        }
        let (k, v) = &mut self.slots[self.n];
        self.n += 1;
        k.clear();
        v.clear();
        (k, v)
    }
}
