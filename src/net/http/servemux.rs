//! `ServeMux`, the default mux and `strip_prefix`: Go 1.22's ServeMux (server.go).
//!
//! The routing itself is in mux_core.rs (what matches, what redirects) over
//! pattern.rs, routing_tree.rs and routing_index.rs; this file is the public face: the
//! `Handler` impl, registration, the default mux behind [`handle`] and [`handle_func`].

use super::handler::{Handler, ResponseWriter, error, not_found, redirect};
use super::mux_core::{MuxCore, PatternError, Route, RouteRequest};
use super::request::Request;
use super::status::{STATUS_BAD_REQUEST, STATUS_METHOD_NOT_ALLOWED, STATUS_MOVED_PERMANENTLY};
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

/// An HTTP request multiplexer with Go 1.22's patterns (Go's `http.ServeMux`).
///
/// It matches each request against the registered patterns and calls the handler of
/// the most specific one.
///
/// # Patterns
///
/// `[METHOD ][HOST]/[PATH]`, all three parts optional (`"/"` is a pattern):
///
/// - `"/index.html"` matches the path `/index.html` for any host and method;
/// - `"GET /static/"` matches a GET (or HEAD) request whose path begins with `/static/`;
/// - `"example.com/"` matches any request to the host `example.com`;
/// - `"example.com/{$}"` matches requests to `example.com` with the path `/`;
/// - `"/b/{bucket}/o/{objectname...}"` matches paths whose first segment is `b` and third
///   is `o`; [`Request::path_value`] gives `bucket` (the second segment) and
///   `objectname` (the rest of the path).
///
/// A method must be followed by a space. A pattern with no method matches every method;
/// `GET` also matches `HEAD`; any other method matches only itself. A pattern with a host
/// matches only that host (the Host header, port stripped). A wildcard `{NAME}` is a whole
/// segment (`/b_{bucket}` is invalid) with a Go identifier for a name; `{NAME...}` takes
/// the rest of the path and must come last; a trailing slash is an anonymous `{...}`;
/// `{$}` matches only the end of the path after a slash. Pattern paths and request paths
/// are unescaped segment by segment: `/a%2Fb/100%25` has the segments `a/b` and `100%`.
///
/// # Precedence
///
/// When several patterns match, the most specific wins: P1 is more specific than P2 if
/// P2 matches all of P1's requests and more. `/images/thumbnails/` beats `/images/`.
/// Patterns that neither rule orders conflict: registering one that conflicts with a
/// registered pattern fails (Go panics; here [`ServeMux::handle`] panics with Go's text
/// and [`ServeMux::try_handle`] returns it as a [`PatternError`]). `GET /` and
/// `/index.html` conflict: both match a GET for `/index.html`, and each matches
/// requests the other does not. One exception, kept from Go 1.21: a pattern with a host
/// beats one without.
///
/// # Redirects, 404 and 405
///
/// A request for a subtree root without its slash (`/images` when only `/images/` is
/// registered) gets a 301 to `/images/`. A path with `.` or `..` elements or repeated
/// slashes gets a 301 to the clean path. A path that no pattern matches gets Go's `404
/// page not found`; one that patterns match for other methods only gets `405 Method Not
/// Allowed` with an `Allow` header listing those methods.
///
/// # Go versions
///
/// Everything Go 1.19 and 1.22 share (plain path patterns, subtree and clean-path
/// redirects, host patterns, the 404) is checked byte for byte against live Go 1.19
/// (tests/http_mux.rs); methods, wildcards, `{$}`, conflicts and 405 follow Go 1.22's
/// documentation and source (pattern.go, routing_tree.go, routing_index.go, server.go).
/// There is no `GODEBUG=httpmuxgo121=1`.
///
/// ```
/// use gonet::net::http::{self, Handler, Request, ResponseWriter};
///
/// let mux = http::ServeMux::new();
/// mux.handle_func("GET /items/{id}", |w: &mut dyn ResponseWriter, r: &mut Request| {
///     let _ = write!(w, "item {}", r.path_value("id"));
/// });
///
/// let mut rec = http::httptest::ResponseRecorder::new();
/// mux.serve_http(&mut rec, &mut http::httptest::new_request("GET", "/items/42", ""));
/// assert_eq!(rec.body_string(), "item 42");
///
/// let mut rec = http::httptest::ResponseRecorder::new();
/// mux.serve_http(&mut rec, &mut http::httptest::new_request("DELETE", "/items/42", ""));
/// assert_eq!(rec.code, 405);
/// assert_eq!(rec.result_header().get("Allow"), "GET, HEAD");
/// # use std::io::Write;
/// ```
pub struct ServeMux {
    // A std lock: readers never wait except behind a registration, which is rare and
    // short, and no lock is held while a handler runs.
    inner: RwLock<MuxCore<Arc<dyn Handler>>>,
}

impl Default for ServeMux {
    fn default() -> Self {
        ServeMux::new()
    }
}

impl fmt::Debug for ServeMux {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.inner.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("ServeMux")
            .field(
                "patterns",
                &core
                    .patterns
                    .iter()
                    .map(|p| p.str.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ServeMux {
    /// A new, empty mux (Go's `http.NewServeMux()`).
    ///
    /// ```
    /// let mux = gonet::net::http::ServeMux::new();
    /// let r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// assert_eq!(mux.handler(&r).1, "");
    /// ```
    pub fn new() -> ServeMux {
        ServeMux {
            inner: RwLock::new(MuxCore::default()),
        }
    }

    /// Registers `handler` for `pattern` (Go's `ServeMux.Handle`).
    ///
    /// # Panics
    ///
    /// As Go does, if the pattern does not parse or conflicts with a registered one, with
    /// Go's message (which names both patterns' registration sites). Use
    /// [`try_handle`](ServeMux::try_handle) to get the error instead.
    ///
    /// ```should_panic
    /// # use gonet::net::http::{self, Request, ResponseWriter};
    /// let mux = http::ServeMux::new();
    /// mux.handle("/a", |_: &mut dyn ResponseWriter, _: &mut Request| {});
    /// mux.handle("/a", |_: &mut dyn ResponseWriter, _: &mut Request| {}); // conflicts
    /// ```
    #[track_caller]
    pub fn handle(&self, pattern: &str, handler: impl Handler + 'static) {
        if let Err(e) = self.register(pattern, Arc::new(handler)) {
            panic!("{e}");
        }
    }

    /// Registers the function `handler` for `pattern` (Go's `ServeMux.HandleFunc`).
    ///
    /// # Panics
    ///
    /// Like [`handle`](ServeMux::handle).
    ///
    /// ```
    /// # use gonet::net::http::{self, Request, ResponseWriter};
    /// let mux = http::ServeMux::new();
    /// mux.handle_func("/hello", |w: &mut dyn ResponseWriter, _: &mut Request| {
    ///     let _ = w.write(b"hi");
    /// });
    /// ```
    #[track_caller]
    pub fn handle_func<F>(&self, pattern: &str, handler: F)
    where
        F: Fn(&mut dyn ResponseWriter, &mut Request) + Send + Sync + 'static,
    {
        if let Err(e) = self.register(pattern, Arc::new(handler)) {
            panic!("{e}");
        }
    }

    /// Registers `handler` for `pattern`, or says why not: Go's `registerErr`, whose
    /// error is what Go's `Handle` panics with. A refused pattern changes nothing.
    ///
    /// ```
    /// # use gonet::net::http::{self, Request, ResponseWriter};
    /// let mux = http::ServeMux::new();
    /// let h = |_: &mut dyn ResponseWriter, _: &mut Request| {};
    /// mux.try_handle("GET /", h).unwrap();
    /// let e = mux.try_handle("/index.html", h).unwrap_err();
    /// assert!(e.to_string().starts_with("pattern \"/index.html\" (registered at "));
    /// assert!(e.to_string().ends_with(
    ///     "/index.html matches more methods than GET /, but has a more specific path pattern"));
    /// let e = mux.try_handle("/a/{x", h).unwrap_err();
    /// assert_eq!(e.to_string(), "parsing \"/a/{x\": at offset 3: bad wildcard segment (must end with '}')");
    /// ```
    #[track_caller]
    pub fn try_handle(
        &self,
        pattern: &str,
        handler: impl Handler + 'static,
    ) -> Result<(), PatternError> {
        self.register(pattern, Arc::new(handler))
    }

    #[track_caller]
    fn register(&self, pattern: &str, handler: Arc<dyn Handler>) -> Result<(), PatternError> {
        let loc = std::panic::Location::caller();
        let loc = format!("{}:{}", loc.file(), loc.line());
        let mut core = self.inner.write().unwrap_or_else(|e| e.into_inner());
        core.register(pattern, handler, loc)
    }

    /// The handler for `r` and the pattern that matched it (Go's `ServeMux.Handler`),
    /// from `r.method`, `r.host` and `r.url`; always a handler. For a redirect it is a
    /// handler that redirects, with the pattern that will match after it; with no match,
    /// Go's "page not found" (or a 405) handler and "".
    ///
    /// ```
    /// # use gonet::net::http::{self, Request, ResponseWriter};
    /// let mux = http::ServeMux::new();
    /// mux.handle_func("/tree/", |_: &mut dyn ResponseWriter, _: &mut Request| {});
    /// let r = http::httptest::new_request("GET", "/tree/leaf", "");
    /// assert_eq!(mux.handler(&r).1, "/tree/");
    /// let r = http::httptest::new_request("GET", "/tree", "");
    /// assert_eq!(mux.handler(&r).1, "/tree/"); // after the redirect
    /// ```
    pub fn handler(&self, r: &Request) -> (Arc<dyn Handler>, String) {
        let escaped = escaped_path(&r.url);
        let core = self.inner.read().unwrap_or_else(|e| e.into_inner());
        match core.find(&route_request(r, &escaped)) {
            Route::Handler {
                handler, pattern, ..
            } => (handler.clone(), pattern.str.clone()),
            Route::Redirect { location, pattern } => (
                Arc::new(move |w: &mut dyn ResponseWriter, r: &mut Request| {
                    redirect(w, r, &location, STATUS_MOVED_PERMANENTLY)
                }),
                pattern,
            ),
            Route::MethodNotAllowed(allowed) => {
                (Arc::new(method_not_allowed(allowed)), String::new())
            }
            Route::NotFound => (
                Arc::new(|w: &mut dyn ResponseWriter, r: &mut Request| not_found(w, r)),
                String::new(),
            ),
        }
    }
}

/// `r.url.escaped_path()`, without its escaping pass for the common path that needs
/// none: no raw path, and only bytes Go never escapes in a path.
fn escaped_path(u: &crate::net::url::Url) -> std::borrow::Cow<'_, str> {
    const fn table() -> [bool; 256] {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_'
                        | b'.'
                        | b'~'
                        | b'$'
                        | b'&'
                        | b'+'
                        | b','
                        | b'/'
                        | b':'
                        | b';'
                        | b'='
                        | b'@'
                );
            c += 1;
        }
        t
    }
    static SAFE: [bool; 256] = table();
    if u.raw_path.is_empty() && u.path.bytes().all(|b| SAFE[b as usize]) {
        return std::borrow::Cow::Borrowed(&u.path);
    }
    u.escaped_path()
}

fn route_request<'a>(r: &'a Request, escaped_path: &'a str) -> RouteRequest<'a> {
    RouteRequest {
        method: &r.method,
        host: &r.host,
        url_host: &r.url.host,
        path: &r.url.path,
        escaped_path,
        raw_query: &r.url.raw_query,
    }
}

/// Go's 405 handler: `Allow`, then `Error(w, "Method Not Allowed", 405)`.
fn method_not_allowed(allowed: Vec<String>) -> impl Fn(&mut dyn ResponseWriter, &mut Request) {
    let allow = allowed.join(", ");
    move |w: &mut dyn ResponseWriter, _r: &mut Request| {
        w.header().set("Allow", &allow);
        error(w, "Method Not Allowed", STATUS_METHOD_NOT_ALLOWED);
    }
}

impl Handler for ServeMux {
    /// Go's `ServeMux.ServeHTTP`: `*` requests get 400 (with `Connection: close` from
    /// HTTP/1.1 on); others go to the matching handler with their path values and
    /// `pattern` set, or get the redirect, 405 or 404.
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        if r.request_uri == "*" {
            if r.proto_at_least(1, 1) {
                w.header().set("Connection", "close");
            }
            w.write_header(STATUS_BAD_REQUEST);
            return;
        }
        let handler = {
            // Field by field, so that the request's pattern can be set under the lock
            // while its URL is borrowed.
            let escaped = escaped_path(&r.url);
            let route = RouteRequest {
                method: &r.method,
                host: &r.host,
                url_host: &r.url.host,
                path: &r.url.path,
                escaped_path: &escaped,
                raw_query: &r.url.raw_query,
            };
            let core = self.inner.read().unwrap_or_else(|e| e.into_inner());
            match core.find(&route) {
                Route::Handler {
                    handler,
                    pattern,
                    matches,
                } => {
                    r.pattern.clear();
                    r.pattern.push_str(&pattern.str);
                    let handler = handler.clone();
                    if matches.is_empty() {
                        drop(core);
                        drop(escaped);
                        r.clear_path_values();
                    } else {
                        // The values borrow the request's path (and the names the
                        // pattern, under the lock): copied into the request's own
                        // path-value strings, a field apart from its URL, which allocate
                        // nothing once the connection has held as many values.
                        r.path_values.clear();
                        let names = pattern
                            .segments
                            .iter()
                            .filter(|s| s.wild && !s.s.is_empty());
                        for (seg, m) in names.zip(matches.iter()) {
                            r.path_values.push_match(&seg.s, m);
                        }
                        drop(matches);
                        drop(core);
                        drop(escaped);
                    }
                    handler
                }
                Route::Redirect { location, .. } => {
                    drop(core);
                    drop(escaped);
                    redirect(w, r, &location, STATUS_MOVED_PERMANENTLY);
                    return;
                }
                Route::MethodNotAllowed(allowed) => {
                    drop(core);
                    drop(escaped);
                    method_not_allowed(allowed)(w, r);
                    return;
                }
                Route::NotFound => {
                    drop(core);
                    drop(escaped);
                    not_found(w, r);
                    return;
                }
            }
        };
        handler.serve_http(w, r);
    }
}

/// The mux the package-level [`handle`] and [`handle_func`] register on and a server
/// with no handler serves (Go's `http.DefaultServeMux`).
///
/// ```
/// # use gonet::net::http::{self, Handler, Request, ResponseWriter};
/// http::handle_func("/doc-default", |w: &mut dyn ResponseWriter, _: &mut Request| {
///     let _ = w.write(b"default");
/// });
/// let mut rec = http::httptest::ResponseRecorder::new();
/// http::default_serve_mux().serve_http(&mut rec, &mut http::httptest::new_request("GET", "/doc-default", ""));
/// assert_eq!(rec.body_string(), "default");
/// ```
pub fn default_serve_mux() -> &'static ServeMux {
    static DEFAULT: OnceLock<ServeMux> = OnceLock::new();
    DEFAULT.get_or_init(ServeMux::new)
}

/// Registers `handler` for `pattern` on the [`default_serve_mux`] (Go's `http.Handle`).
///
/// # Panics
///
/// Like [`ServeMux::handle`].
///
/// ```
/// # use gonet::net::http::{self, Request, ResponseWriter};
/// http::handle("/doc-handle", |_: &mut dyn ResponseWriter, _: &mut Request| {});
/// ```
#[track_caller]
pub fn handle(pattern: &str, handler: impl Handler + 'static) {
    default_serve_mux().handle(pattern, handler)
}

/// Registers the function `handler` for `pattern` on the [`default_serve_mux`] (Go's
/// `http.HandleFunc`).
///
/// # Panics
///
/// Like [`ServeMux::handle`].
///
/// ```
/// # use gonet::net::http::{self, Request, ResponseWriter};
/// http::handle_func("/doc-handle-func", |_: &mut dyn ResponseWriter, _: &mut Request| {});
/// ```
#[track_caller]
pub fn handle_func<F>(pattern: &str, handler: F)
where
    F: Fn(&mut dyn ResponseWriter, &mut Request) + Send + Sync + 'static,
{
    default_serve_mux().handle_func(pattern, handler)
}

/// A handler that serves requests by removing `prefix` from the URL's path (and raw
/// path, if set) and calling `h` (Go's `http.StripPrefix`). A request whose path does
/// not start with `prefix` gets a 404, as does one whose raw path holds the prefix
/// escaped differently. The request's URL is as it was once `h` returns.
///
/// ```
/// use gonet::net::http::{self, Request, ResponseWriter};
/// let h = http::strip_prefix("/static", |w: &mut dyn ResponseWriter, r: &mut Request| {
///     let _ = w.write(r.url.path.as_bytes());
/// });
/// let mut rec = http::httptest::ResponseRecorder::new();
/// h.serve_http(&mut rec, &mut http::httptest::new_request("GET", "/static/css/a.css", ""));
/// assert_eq!(rec.body_string(), "/css/a.css");
/// let mut rec = http::httptest::ResponseRecorder::new();
/// h.serve_http(&mut rec, &mut http::httptest::new_request("GET", "/other", ""));
/// assert_eq!(rec.code, 404);
/// # use gonet::net::http::Handler;
/// ```
pub fn strip_prefix(prefix: &str, h: impl Handler + 'static) -> StripPrefix {
    StripPrefix {
        prefix: prefix.to_string(),
        h: Box::new(h),
    }
}

/// The handler [`strip_prefix`] returns.
///
/// ```
/// # use gonet::net::http::{self, Request, ResponseWriter};
/// let h: http::StripPrefix = http::strip_prefix("/v1", |_: &mut dyn ResponseWriter, _: &mut Request| {});
/// assert_eq!(format!("{h:?}"), "StripPrefix { prefix: \"/v1\" }");
/// ```
pub struct StripPrefix {
    prefix: String,
    h: Box<dyn Handler>,
}

impl fmt::Debug for StripPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripPrefix")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Handler for StripPrefix {
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        if self.prefix.is_empty() {
            return self.h.serve_http(w, r);
        }
        let p = r.url.path.strip_prefix(self.prefix.as_str());
        let rp = r.url.raw_path.strip_prefix(self.prefix.as_str());
        match (p, rp) {
            (Some(p), rp) if r.url.raw_path.is_empty() || rp.is_some() => {
                // Go hands the handler a shallow copy with the new URL; the caller's
                // request keeps its URL. Here: change it, call, change it back.
                let (p, rp) = (p.to_string(), rp.unwrap_or("").to_string());
                let old_path = std::mem::replace(&mut r.url.path, p);
                let old_raw = std::mem::replace(&mut r.url.raw_path, rp);
                self.h.serve_http(w, r);
                r.url.path = old_path;
                r.url.raw_path = old_raw;
            }
            _ => not_found(w, r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::httptest::{ResponseRecorder, new_request};
    use super::*;

    fn serve(mux: &ServeMux, method: &str, target: &str) -> ResponseRecorder {
        let mut rec = ResponseRecorder::new();
        let mut r = new_request(method, target, "");
        mux.serve_http(&mut rec, &mut r);
        rec
    }

    fn echo_pattern() -> impl Fn(&mut dyn ResponseWriter, &mut Request) {
        |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = w.write(
                format!(
                    "{}|{}|{}",
                    r.pattern,
                    r.path_value("a"),
                    r.path_value("rest")
                )
                .as_bytes(),
            );
        }
    }

    #[test]
    fn serves_values_patterns_and_go_answers() {
        let mux = ServeMux::new();
        mux.handle_func("GET /x/{a}/{rest...}", echo_pattern());
        mux.handle_func("/tree/", echo_pattern());
        mux.handle_func("POST /only", echo_pattern());
        let rec = serve(&mux, "GET", "/x/1/2/3");
        assert_eq!(rec.body_string(), "GET /x/{a}/{rest...}|1|2/3");
        let rec = serve(&mux, "GET", "/x/%61%2Fb/c%20d");
        assert_eq!(rec.body_string(), "GET /x/{a}/{rest...}|a/b|c d");
        let rec = serve(&mux, "GET", "/tree?q=1");
        assert_eq!(rec.code, 301);
        assert_eq!(rec.result_header().get("Location"), "/tree/?q=1");
        assert_eq!(
            rec.body_string(),
            "<a href=\"/tree/?q=1\">Moved Permanently</a>.\n\n"
        );
        let rec = serve(&mux, "GET", "/nothing");
        assert_eq!(
            (rec.code, rec.body_string().as_str()),
            (404, "404 page not found\n")
        );
        let rec = serve(&mux, "GET", "/only");
        assert_eq!(
            (rec.code, rec.body_string().as_str()),
            (405, "Method Not Allowed\n")
        );
        assert_eq!(rec.result_header().get("Allow"), "POST");
        let rec = serve(&mux, "GET", "/a/../tree/x");
        assert_eq!(rec.result_header().get("Location"), "/tree/x");
    }

    #[test]
    fn star_requests_get_400() {
        let mux = ServeMux::new();
        let mut rec = ResponseRecorder::new();
        let mut r = new_request("OPTIONS", "/", "");
        r.request_uri = "*".into();
        mux.serve_http(&mut rec, &mut r);
        assert_eq!(rec.code, 400);
        assert_eq!(rec.result_header().get("Connection"), "close");
    }

    #[test]
    fn a_handler_may_register_while_serving() {
        let mux = Arc::new(ServeMux::new());
        let m2 = mux.clone();
        mux.handle_func(
            "/add",
            move |_: &mut dyn ResponseWriter, _: &mut Request| {
                m2.handle_func("/added", |w: &mut dyn ResponseWriter, _: &mut Request| {
                    let _ = w.write(b"new");
                });
            },
        );
        serve(&mux, "GET", "/add");
        assert_eq!(serve(&mux, "GET", "/added").body_string(), "new");
    }

    #[test]
    fn conflict_panics_name_both_sites() {
        let mux = ServeMux::new();
        mux.handle_func("/a/{x}", echo_pattern());
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            mux.handle_func("/{y}/b", echo_pattern());
        }))
        .unwrap_err();
        let msg = e.downcast_ref::<String>().unwrap();
        let here = file!();
        assert!(
            msg.starts_with(&format!("pattern \"/{{y}}/b\" (registered at {here}:")),
            "{msg}"
        );
        assert!(
            msg.contains(&format!(
                "conflicts with pattern \"/a/{{x}}\" (registered at {here}:"
            )),
            "{msg}"
        );
    }

    #[test]
    fn strip_prefix_keeps_raw_paths_consistent() {
        let h = strip_prefix("/p", echo_pattern());
        let mut rec = ResponseRecorder::new();
        let mut r = new_request("GET", "/p%2Fx", "");
        h.serve_http(&mut rec, &mut r);
        // RawPath "/p%2Fx" starts with "/p" too: stripped to "%2Fx"... as Go does.
        assert_eq!(rec.code, 200);
        assert_eq!(r.url.path, "/p/x");
        let h = strip_prefix("/p/", echo_pattern());
        let mut rec = ResponseRecorder::new();
        h.serve_http(&mut rec, &mut new_request("GET", "/p%2Fx", ""));
        assert_eq!(rec.code, 404);
    }
}
