//! The routing half of Go 1.22's `ServeMux` (server.go: `registerErr`, `findHandler`,
//! `matchOrRedirect`, `exactMatch`, `matchingMethods`, `cleanPath`, `stripHostPort`),
//! independent of the handler type, so that servemux.rs is only the public face.

use super::pattern::{Pattern, describe_conflict, go_quote, parse_pattern};
use super::routing_index::RoutingIndex;
use super::routing_tree::{Fnv, Matches, RoutingNode};
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

/// Why a registration was refused: Go's panic value, as an error.
///
/// Its text is Go's: `parsing "GET /{": at offset 5: bad wildcard segment (must end
/// with '}')`, `pattern "/a" (registered at src/main.rs:9) conflicts with pattern "/a"
/// (registered at src/main.rs:8):\n/a matches the same requests as /a`, or
/// `http: invalid pattern`.
///
/// ```
/// # use gonet::net::http::{self, Request, ResponseWriter};
/// let mux = http::ServeMux::new();
/// let e: http::PatternError = mux.try_handle("", |_: &mut dyn ResponseWriter, _: &mut Request| {}).unwrap_err();
/// assert_eq!(e.to_string(), "http: invalid pattern");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    msg: String,
}

impl PatternError {
    pub(crate) fn new(msg: impl Into<String>) -> PatternError {
        PatternError { msg: msg.into() }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for PatternError {}

/// Registered patterns, their tree and their index (Go's `ServeMux` fields).
pub(crate) struct MuxCore<H> {
    tree: RoutingNode<H>,
    index: RoutingIndex,
    pub(crate) patterns: Vec<Arc<Pattern>>,
    /// What `find` returns for the static paths of the registered patterns, by path and
    /// method: a memo of the tree's own answers, so that `GET /json` costs one hash
    /// lookup instead of a walk down host, method and segments.
    fast: FastRoutes<H>,
}

/// Past this many patterns the memo is not kept (each registration recomputes it, one
/// tree lookup per static path and method).
const FAST_MAX_PATTERNS: usize = 256;

type FastRoutes<H> = HashMap<Box<str>, Vec<FastRoute<H>>, BuildHasherDefault<Fnv>>;

/// One memoised answer: `find` on a request with this method and path (any host, no
/// query) gives this handler and pattern, no wildcard values, no redirect.
struct FastRoute<H> {
    method: Box<str>,
    handler: H,
    pattern: Arc<Pattern>,
}

impl<H> Default for MuxCore<H> {
    fn default() -> Self {
        MuxCore {
            tree: RoutingNode::default(),
            index: RoutingIndex::default(),
            patterns: Vec::new(),
            fast: HashMap::default(),
        }
    }
}

/// The one path a pattern with only literal segments (and perhaps a trailing `/` or
/// `{$}`) names exactly: `/json` for `/json`, `/a/` for `/a/` and `/a/{$}`, `/` for `/`.
fn static_path(p: &Pattern) -> Option<String> {
    let mut k = String::new();
    for seg in &p.segments {
        if seg.multi || (!seg.wild && seg.s == b"/") {
            k.push('/');
        } else if seg.wild || seg.s.contains(&b'/') || seg.s.contains(&b'%') {
            return None;
        } else {
            k.push('/');
            k.push_str(std::str::from_utf8(&seg.s).ok()?);
        }
    }
    Some(k)
}

/// What the mux decided for a request (Go's `findHandler` results).
pub(crate) enum Route<'m, 'p, H> {
    /// A registered pattern matched: its handler, pattern and wildcard values.
    Handler {
        handler: &'m H,
        pattern: &'m Arc<Pattern>,
        matches: Matches<'p>,
    },
    /// A 301 to `location`; `pattern` is what will match after it ("" if nothing).
    Redirect { location: String, pattern: String },
    /// Patterns match the path but not the method: 405 with these in `Allow`.
    MethodNotAllowed(Vec<String>),
    /// Nothing matches: 404.
    NotFound,
}

/// The parts of a request the mux looks at.
pub(crate) struct RouteRequest<'a> {
    pub(crate) method: &'a str,
    /// The Host header (`r.Host`).
    pub(crate) host: &'a str,
    /// `r.URL.Host`: set only for absolute-form request targets.
    pub(crate) url_host: &'a str,
    /// `r.URL.Path`, unescaped.
    pub(crate) path: &'a str,
    /// `r.URL.EscapedPath()`.
    pub(crate) escaped_path: &'a str,
    pub(crate) raw_query: &'a str,
}

impl<H: Clone> MuxCore<H> {
    /// Go's `registerErr` after its nil-handler checks: parse, refuse a conflict (in
    /// Go's words, naming both registration sites), add to the tree and index.
    pub(crate) fn register(
        &mut self,
        patstr: &str,
        handler: H,
        loc: String,
    ) -> Result<(), PatternError> {
        if patstr.is_empty() {
            return Err(PatternError::new("http: invalid pattern"));
        }
        let mut pat = parse_pattern(patstr).map_err(|e| {
            PatternError::new(format!("parsing {}: {e}", go_quote(patstr.as_bytes())))
        })?;
        pat.loc = loc;
        self.index.possibly_conflicting_patterns(&pat, |pat2| {
            if pat.conflicts_with(pat2) {
                return Err(PatternError::new(format!(
                    "pattern {} (registered at {}) conflicts with pattern {} (registered at {}):\n{}",
                    go_quote(pat.str.as_bytes()),
                    pat.loc,
                    go_quote(pat2.str.as_bytes()),
                    pat2.loc,
                    describe_conflict(&pat, pat2)
                )));
            }
            Ok(())
        })?;
        let pat = Arc::new(pat);
        self.tree.add_pattern(pat.clone(), handler);
        self.index.add_pattern(&pat);
        self.patterns.push(pat);
        self.fast = self.fast_routes();
        Ok(())
    }

    /// The memo `find` consults first: for every static path of a registered pattern and
    /// every method a pattern names (and GET), the tree's answer when it is a handler
    /// with no wildcard values. The tree's answer for a clean path without a query does
    /// not depend on the request's host when no pattern names a host (the root then
    /// has only its "" child), so none is kept if one does, nor for CONNECT (matched
    /// apart) or past `FAST_MAX_PATTERNS`.
    fn fast_routes(&self) -> FastRoutes<H> {
        let mut fast = FastRoutes::default();
        if self.patterns.len() > FAST_MAX_PATTERNS
            || self.patterns.iter().any(|p| !p.host.is_empty())
        {
            return fast;
        }
        let mut methods: Vec<&str> = vec!["GET"];
        for p in &self.patterns {
            if !p.method.is_empty() && p.method != "CONNECT" && !methods.contains(&&*p.method) {
                methods.push(&p.method);
            }
        }
        for p in &self.patterns {
            let Some(k) = static_path(p) else { continue };
            if fast.contains_key(k.as_str()) || clean_path(&k) != k {
                continue;
            }
            let mut routes = Vec::new();
            for &method in &methods {
                let r = RouteRequest {
                    method,
                    host: "",
                    url_host: "",
                    path: &k,
                    escaped_path: &k,
                    raw_query: "",
                };
                if let Route::Handler {
                    handler,
                    pattern,
                    matches,
                } = self.find_in_tree(&r)
                {
                    if matches.is_empty() {
                        routes.push(FastRoute {
                            method: method.into(),
                            handler: handler.clone(),
                            pattern: pattern.clone(),
                        });
                    }
                }
            }
            if !routes.is_empty() {
                fast.insert(k.into_boxed_str(), routes);
            }
        }
        fast
    }

    /// Go's `findHandler`: the memo of static routes first, then the tree.
    pub(crate) fn find<'m, 'p>(&'m self, r: &RouteRequest<'p>) -> Route<'m, 'p, H> {
        if let Some(hit) = self
            .fast
            .get(r.escaped_path)
            .and_then(|v| v.iter().find(|e| *e.method == *r.method))
        {
            return Route::Handler {
                handler: &hit.handler,
                pattern: &hit.pattern,
                matches: Matches::new(),
            };
        }
        self.find_in_tree(r)
    }

    /// Go's `findHandler`, on the tree.
    ///
    /// CONNECT requests are matched as they come (path and host unchanged), apart from
    /// the `/tree` -> `/tree/` redirect. Every other request is matched on its Host
    /// without the port and its cleaned escaped path; an unclean path is redirected to
    /// the clean one.
    fn find_in_tree<'m, 'p>(&'m self, r: &RouteRequest<'p>) -> Route<'m, 'p, H> {
        let (host, n, matches) = if r.method == "CONNECT" {
            // The /tree -> /tree/ redirect applies (on the URL's host), path cleaning
            // does not; the match is then redone on the Host header.
            if let Err(redirect) =
                self.match_or_redirect(r.url_host, r.method, r.escaped_path, Some(r))
            {
                return redirect;
            }
            let (n, m) = self
                .match_or_redirect(r.host, r.method, r.escaped_path, None)
                .unwrap_or((None, Matches::new()));
            (r.host, n, m)
        } else {
            let host = strip_host_port(r.host);
            let cleaned = clean_path(r.escaped_path);
            if cleaned != r.escaped_path {
                // Redirect to the cleaned path, unless the trailing-slash one applies.
                // (Go 1.22 builds this URL from the escaped path as if it were
                // unescaped, escaping it twice, a bug later fixed; Go 1.19 and gonet
                // send the clean path as the client escaped it.)
                let pattern = match self.match_or_redirect(host, r.method, &cleaned, Some(r)) {
                    Err(redirect) => return redirect,
                    Ok((n, _)) => n.and_then(|n| n.pattern.as_ref()).map(|p| p.str.clone()),
                };
                return Route::Redirect {
                    location: with_query(cleaned.into_owned(), r.raw_query),
                    pattern: pattern.unwrap_or_default(),
                };
            }
            match self.match_or_redirect(host, r.method, r.escaped_path, Some(r)) {
                Err(redirect) => return redirect,
                Ok((n, m)) => (host, n, m),
            }
        };
        match n {
            Some(n) => match (&n.handler, &n.pattern) {
                (Some(handler), Some(pattern)) => Route::Handler {
                    handler,
                    pattern,
                    matches,
                },
                _ => Route::NotFound,
            },
            None => {
                // No match with this method: 405 if another method would match.
                let allowed = self.matching_methods(host, r.escaped_path);
                if allowed.is_empty() {
                    Route::NotFound
                } else {
                    Route::MethodNotAllowed(allowed)
                }
            }
        }
    }

    /// Go's `matchOrRedirect`: the node matching host, method and path; and with the
    /// request's URL (`url`), when `path` does not match exactly but `path + "/"`
    /// does, the 301 to the subtree root instead.
    #[allow(clippy::type_complexity)]
    fn match_or_redirect<'m, 'q, 'x>(
        &'m self,
        host: &str,
        method: &str,
        path: &'q str,
        url: Option<&RouteRequest<'_>>,
    ) -> Result<(Option<&'m RoutingNode<H>>, Matches<'q>), Route<'m, 'x, H>> {
        let mut matches = Matches::new();
        let n = self.tree.match_request(host, method, path, &mut matches);
        if let Some(r) = url {
            if !exact_match(n.and_then(|n| n.pattern.as_deref()), path) {
                // path + "/", on the stack when it is short (a subtree match such as
                // "/static/" for "/static/app.js" comes here on every request).
                let mut stack = [0u8; 256];
                let heap;
                let with_slash: &str = if path.len() < stack.len() {
                    stack[..path.len()].copy_from_slice(path.as_bytes());
                    stack[path.len()] = b'/';
                    // A str and an ASCII byte: still UTF-8.
                    std::str::from_utf8(&stack[..path.len() + 1]).unwrap_or_default()
                } else {
                    heap = format!("{path}/");
                    &heap
                };
                let mut m = Matches::new();
                let n2 = self.tree.match_request(host, method, with_slash, &mut m);
                if exact_match(n2.and_then(|n| n.pattern.as_deref()), with_slash) {
                    // Go: &url.URL{Path: cleanPath(u.Path) + "/", RawQuery: u.RawQuery}:
                    // the unescaped path, cleaned, escaped again by URL.String.
                    let target = format!("{}/", clean_path(r.path));
                    return Err(Route::Redirect {
                        location: with_query(url_path_string(&target), r.raw_query),
                        pattern: target,
                    });
                }
            }
        }
        Ok((n, matches))
    }

    /// Go's `matchingMethods`: sorted, for both `path` and `path + "/"` (the match is
    /// retried with a slash).
    pub(crate) fn matching_methods(&self, host: &str, path: &str) -> Vec<String> {
        let mut ms = Vec::new();
        self.tree.matching_methods(host, path, &mut ms);
        self.tree
            .matching_methods(host, &format!("{path}/"), &mut ms);
        ms.sort();
        ms.dedup();
        ms
    }
}

fn with_query(mut s: String, raw_query: &str) -> String {
    if !raw_query.is_empty() {
        s.push('?');
        s.push_str(raw_query);
    }
    s
}

/// Go's `exactMatch`: a match is inexact when a multi wildcard matched a non-empty
/// rest of the path (`/` for `/a`, `/a/{x...}` for `/a/b`); every other match is exact.
pub(crate) fn exact_match(p: Option<&Pattern>, path: &str) -> bool {
    let Some(p) = p else { return false };
    if !p.last_segment().multi {
        return true;
    }
    // A path without a trailing slash leaves the multi a non-empty match.
    if !path.is_empty() && !path.ends_with('/') {
        return false;
    }
    // Exact when there are as many pattern segments as slashes in the path:
    // "/a/b/{$}" and "/a/b/{x...}" match "/a/b/" exactly, "/a/" does not.
    p.segments.len() == path.bytes().filter(|&b| b == b'/').count()
}

/// Go's `cleanPath`: the canonical path, `.` and `..` elements and repeated slashes
/// removed, a trailing slash kept. Borrows when `p` is already clean.
pub(crate) fn clean_path(p: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if p.is_empty() {
        return Cow::Borrowed("/");
    }
    if p.starts_with('/') && is_clean(p) {
        return Cow::Borrowed(p);
    }
    let rooted;
    let p = if p.starts_with('/') {
        p
    } else {
        rooted = format!("/{p}");
        &rooted
    };
    let mut np = super::path::clean(p);
    // path.Clean drops a trailing slash except for the root; put it back.
    if p.ends_with('/') && np != "/" {
        np.push('/');
    }
    Cow::Owned(np)
}

/// Whether a rooted path is already what `cleanPath` would make of it: no empty, `.`
/// or `..` element (a trailing slash is fine).
fn is_clean(p: &str) -> bool {
    // One pass over the bytes: after each '/', an element that is empty, "." or "..".
    let b = p.as_bytes();
    let n = b.len();
    let mut i = 0;
    while i < n {
        // b[i] == '/': look at the element after it.
        let rest = &b[i + 1..];
        let len = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
        let last = i + 1 + len == n;
        match &rest[..len] {
            b"" if last => return true, // a trailing slash (or "/" itself)
            b"" | b"." | b".." => return false,
            _ => {}
        }
        i += 1 + len;
    }
    true
}

/// Go's `stripHostPort`: `h` without a trailing `:port` (unchanged if it does not split).
pub(crate) fn strip_host_port(h: &str) -> &str {
    if !h.contains(':') {
        return h;
    }
    match split_host_port(h) {
        Some(host) => host,
        None => h,
    }
}

/// The host part of Go's `net.SplitHostPort`, borrowed.
fn split_host_port(hostport: &str) -> Option<&str> {
    let i = hostport.rfind(':')?;
    if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != i {
            return None;
        }
        let host = &hostport[1..end];
        if host.contains(['[', ']']) || hostport[i + 1..].contains(['[', ']']) {
            return None;
        }
        return Some(host);
    }
    let host = &hostport[..i];
    if host.contains(':') || host.contains(['[', ']']) || hostport[i + 1..].contains(['[', ']']) {
        return None;
    }
    Some(host)
}

/// `url.URL{Path: p}.String()`: `p` escaped as Go escapes a path.
pub(crate) fn url_path_string(p: &str) -> String {
    crate::net::url::Url {
        path: p.to_string(),
        ..Default::default()
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Go's TestCleanPath idea, with path.Clean's own table.
    #[test]
    fn cleans_paths_as_go_does() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/a/", "/a/"),
            ("/a//b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/a/..", "/"),
            ("/a/../", "/"),
            ("/../a", "/a"),
            ("a/b", "/a/b"),
            ("/a/b/.", "/a/b"),
            ("/a/b/./", "/a/b/"),
            ("//x", "/x"),
            ("/x//", "/x/"),
            ("/...", "/..."),
            ("/.a/b..", "/.a/b.."),
        ];
        for (input, want) in cases {
            assert_eq!(clean_path(input), want, "{input:?}");
        }
        assert!(matches!(clean_path("/a/b/"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn strips_ports_as_go_does() {
        for (input, want) in [
            ("example.com", "example.com"),
            ("example.com:8080", "example.com"),
            ("[::1]:80", "::1"),
            ("::1", "::1"),
            ("[::1]", "[::1]"),
            ("a:b:c", "a:b:c"),
            ("host:", "host"),
        ] {
            assert_eq!(strip_host_port(input), want, "{input}");
        }
    }

    #[test]
    fn exact_matches_as_go_defines_them() {
        let p = |s| parse_pattern(s).unwrap();
        assert!(exact_match(Some(&p("/a")), "/a"));
        assert!(exact_match(Some(&p("/{x}")), "/a"));
        assert!(exact_match(Some(&p("/a/{$}")), "/a/"));
        assert!(exact_match(Some(&p("/a/")), "/a/"));
        assert!(!exact_match(Some(&p("/")), "/a"));
        assert!(!exact_match(Some(&p("/a/{x...}")), "/a/b"));
        assert!(!exact_match(None, "/a"));
    }

    fn req<'a>(method: &'a str, host: &'a str, path: &'a str) -> RouteRequest<'a> {
        RouteRequest {
            method,
            host,
            url_host: "",
            path,
            escaped_path: path,
            raw_query: "",
        }
    }

    fn describe(m: &MuxCore<&'static str>, r: &RouteRequest<'_>) -> String {
        describe_route(m.find(r))
    }

    fn describe_route(route: Route<'_, '_, &'static str>) -> String {
        match route {
            Route::Handler {
                handler, matches, ..
            } => {
                let v: Vec<String> = matches
                    .iter()
                    .map(|m| String::from_utf8_lossy(m).into_owned())
                    .collect();
                format!("{handler} {v:?}")
            }
            Route::Redirect { location, pattern } => format!("301 {location} ({pattern})"),
            Route::MethodNotAllowed(a) => format!("405 {}", a.join(", ")),
            Route::NotFound => "404".into(),
        }
    }

    // The memo of static routes answers as the tree does, whatever else is registered:
    // more specific methods, wildcards that HEAD or POST prefer, `{$}`, subtrees.
    #[test]
    fn static_route_memo_agrees_with_the_tree() {
        let sets: &[&[&'static str]] = &[
            &["/json", "/"],
            &["GET /json", "/json", "/"],
            &["GET /json", "HEAD /{x}", "POST /{x}", "PUT /json/"],
            &["/a/", "/a/{$}", "GET /a/b", "/{x}/b", "PUT /a/b/"],
            &["GET /", "/{x...}", "DELETE /json", "/json/"],
            &["/a//b", "/a/%2F", "/c", "example.com/c"],
        ];
        let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "PATCH"];
        let paths = [
            "/", "/json", "/json/", "/a", "/a/", "/a/b", "/a/b/", "/x/b", "/c", "/a//b",
        ];
        for set in sets {
            let mut m = MuxCore::default();
            for p in *set {
                // Some sets hold conflicting pairs: the later one is refused.
                let _ = m.register(p, *p, String::new());
            }
            for method in methods {
                for path in paths {
                    for host in ["", "example.com", "example.com:80"] {
                        let r = req(method, host, path);
                        assert_eq!(
                            describe(&m, &r),
                            describe_route(m.find_in_tree(&r)),
                            "{set:?}: {method} {host} {path}"
                        );
                    }
                }
            }
        }
        // The memo is there for the usual static mux, and off once a host is named.
        let mut m = MuxCore::default();
        m.register("/json", "json", String::new()).unwrap();
        m.register("/", "root", String::new()).unwrap();
        assert_eq!(m.fast.len(), 2);
        m.register("example.com/", "host", String::new()).unwrap();
        assert!(m.fast.is_empty());
    }

    #[test]
    fn finds_handlers_redirects_and_405s() {
        let mut m = MuxCore::default();
        for p in [
            "/tree/",
            "GET /items/{id}",
            "POST /items/{id}",
            "/files/{path...}",
            "example.com/",
            "/{$}",
            "CONNECT /c/",
        ] {
            m.register(p, p, "here".into()).unwrap();
        }
        let cases = [
            (req("GET", "x", "/tree"), "301 /tree/ (/tree/)"),
            (req("GET", "x", "/tree/a"), "/tree/ []"),
            (req("GET", "x", "/items/7"), "GET /items/{id} [\"7\"]"),
            (req("HEAD", "x", "/items/7"), "GET /items/{id} [\"7\"]"),
            (req("DELETE", "x", "/items/7"), "405 GET, HEAD, POST"),
            (req("GET", "x", "/files/a/b"), "/files/{path...} [\"a/b\"]"),
            (req("GET", "x", "/files"), "301 /files/ (/files/)"),
            (req("GET", "example.com:80", "/anything"), "example.com/ []"),
            (req("GET", "x", "/"), "/{$} []"),
            (req("GET", "x", "/nope"), "404"),
            (req("GET", "x", "/a/../tree/x"), "301 /tree/x (/tree/)"),
            (req("GET", "x", "//tree/x"), "301 /tree/x (/tree/)"),
            (req("GET", "x", "/x/.."), "301 / (/{$})"),
            (req("CONNECT", "x", "/c"), "301 /c/ (/c/)"),
            (req("CONNECT", "x", "/c/../d"), "CONNECT /c/ []"),
        ];
        for (r, want) in cases {
            assert_eq!(describe(&m, &r), want, "{} {} {}", r.method, r.host, r.path);
        }
    }

    #[test]
    fn refuses_in_go_words() {
        let mut m = MuxCore::default();
        m.register("/a/{x}", "1", "main.rs:1".into()).unwrap();
        let e = m.register("/{y}/b", "2", "main.rs:2".into()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pattern \"/{y}/b\" (registered at main.rs:2) conflicts with pattern \"/a/{x}\" \
             (registered at main.rs:1):\n/{y}/b and /a/{x} both match some paths, like \"/a/b\".\n\
             But neither is more specific than the other.\n\
             /{y}/b matches \"/y/b\", but /a/{x} doesn't.\n\
             /a/{x} matches \"/a/x\", but /{y}/b doesn't."
        );
        assert_eq!(
            m.register("", "3", String::new()).unwrap_err().to_string(),
            "http: invalid pattern"
        );
        assert_eq!(
            m.register("GET /{", "4", String::new())
                .unwrap_err()
                .to_string(),
            "parsing \"GET /{\": at offset 5: bad wildcard segment (must end with '}')"
        );
        // A refused pattern leaves nothing behind.
        assert_eq!(m.patterns.len(), 1);
    }

    #[test]
    fn escapes_redirect_paths_as_go_does() {
        assert_eq!(url_path_string("/a b/"), "/a%20b/");
        assert_eq!(url_path_string("/a?b#c/"), "/a%3Fb%23c/");
        assert_eq!(url_path_string("/é!/"), "/%C3%A9%21/");
        assert_eq!(url_path_string("/$&+,:;=@-_.~/"), "/$&+,:;=@-_.~/");
    }
}
