//! ServeMux: Go 1.22 patterns, precedence, conflicts, redirects, 404 and 405.
//!
//! - `matches_go_1_19_on_what_they_share`: every row of tests/go/nethttp/mux.tsv goes
//!   through live Go 1.19's ServeMux and through gonet's (both behind a response
//!   recorder), with the same registrations (`MUX_PATTERNS`, 1.19-compatible: plain
//!   paths, subtrees, hosts); status, headers and body must be the same, byte for byte.
//!   The rows where Go 1.22's source decides otherwise than Go 1.19 are listed in
//!   `GO_1_22_DIFFERS` with the answer Go 1.22 gives, and checked against that.
//! - The Go 1.22-only behaviour (methods, wildcards, `{$}`, precedence, conflicts, 405)
//!   is checked against Go 1.22's documented answers.
//!
//! Run: `cargo test --release --test http_mux`.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/nethttp.rs"]
mod nethttp;

use gonet::net::http::httptest::{ResponseRecorder, new_request};
use gonet::net::http::{self, Handler, Request, ResponseWriter, ServeMux};
use std::io::Write as _;

/// The registrations of tests/go/nethttp/main.go's registerMux.
const MUX_PATTERNS: &[&str] = &[
    "/exact",
    "/tree/",
    "/tree/sub/",
    "/a/b",
    "/a/b/",
    "/über/",
    "example.com/",
    "example.com/host/",
    "api.example.com/v1/",
    "/x.y/z",
];

/// Rows (method, host, target) where Go 1.22 answers differently from Go 1.19, and
/// what Go 1.22's ServeMux answers (code, Location or pattern):
/// - A host pattern that matches beats the subtree redirect of a host-less pattern:
///   1.19 redirects `/tree` to `/tree/` before it looks at hosts; 1.22 matches
///   `example.com/` first and only redirects on an exact `path + "/"` match.
/// - `%2F` is no longer a slash: 1.19 matched the unescaped path `/tree/leaf`; 1.22
///   unescapes segment by segment, so `tree%2Fleaf` is one segment no pattern has.
const GO_1_22_DIFFERS: &[(&str, &str, &str, &str)] = &[
    ("GET", "example.com", "/tree", "200 example.com/"),
    ("GET", "x.com", "/tree%2Fleaf", "404"),
];

fn pattern_handler(p: &'static str) -> impl Fn(&mut dyn ResponseWriter, &mut Request) {
    move |w: &mut dyn ResponseWriter, r: &mut Request| {
        w.header().set("X-Pattern", p);
        let _ = writeln!(
            w,
            "pattern {p} path {} query {}",
            r.url.path, r.url.raw_query
        );
    }
}

fn parity_mux() -> ServeMux {
    let mux = ServeMux::new();
    for p in MUX_PATTERNS {
        mux.handle_func(p, pattern_handler(p));
    }
    mux
}

fn serve(mux: &ServeMux, method: &str, host: &str, target: &str) -> ResponseRecorder {
    let mut r = new_request(method, target, "");
    r.host = host.to_string();
    let mut rec = ResponseRecorder::new();
    mux.serve_http(&mut rec, &mut r);
    rec
}

fn short(rec: &ResponseRecorder) -> String {
    let h = rec.result_header();
    match rec.code {
        301 => format!("301 {}", h.get("Location")),
        200 => format!("200 {}", h.get("X-Pattern")),
        c => c.to_string(),
    }
}

#[test]
fn matches_go_1_19_on_what_they_share() {
    let table = std::fs::read_to_string(go_util::manifest_dir().join("tests/go/nethttp/mux.tsv"))
        .expect("read mux.tsv");
    let go = nethttp::run_go("mux", None, &table);
    let rows = nethttp::rows(&table);
    assert_eq!(go.len(), rows.len(), "one Go answer per row");
    let mux = parity_mux();
    let mut compared = 0;
    for (row, want) in rows.iter().zip(&go) {
        let (method, host, target) = (row[0], row[1], row[2]);
        let rec = serve(&mux, method, host, target);
        if let Some(d) = GO_1_22_DIFFERS
            .iter()
            .find(|d| (d.0, d.1, d.2) == (method, host, target))
        {
            assert_eq!(
                short(&rec),
                d.3,
                "{method} {host} {target} (Go 1.22's answer)"
            );
            assert_ne!(
                &nethttp::answer(&rec),
                want,
                "{method} {host} {target}: Go 1.19 agrees now?"
            );
            continue;
        }
        assert_eq!(&nethttp::answer(&rec), want, "{method} {host} {target}");
        compared += 1;
    }
    assert!(compared >= 50, "only {compared} rows compared");
}

// The same table over real sockets: a Go 1.19 net/http server with the same mux and a
// gonet http::Server with gonet's; whole answers compared byte for byte (Date
// normalised).
#[test]
fn mux_over_sockets_answers_as_go_1_19_does() {
    let table = std::fs::read_to_string(go_util::manifest_dir().join("tests/go/nethttp/mux.tsv"))
        .expect("read mux.tsv");
    let go = nethttp::GoServer::start("serve-mux", None);
    let ours = nethttp::GonetServer::start(parity_mux());
    let mut compared = 0;
    for row in nethttp::rows(&table) {
        let (method, host, target) = (row[0], row[1], row[2]);
        if GO_1_22_DIFFERS
            .iter()
            .any(|d| (d.0, d.1, d.2) == (method, host, target))
        {
            continue; // checked above, behind the recorder
        }
        let req =
            format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let want = nethttp::exchange(&go.addr, &req);
        let got = nethttp::exchange(&ours.addr, &req);
        assert_eq!(got, want, "{req:?}");
        compared += 1;
    }
    assert!(compared >= 50);
}

// Peers nobody here wrote: curl and Go's client follow the mux's redirects to the
// handler, and see its 404 and 405 as Go's server sends them.
#[test]
fn curl_and_go_clients_follow_the_mux() {
    let mux = parity_mux();
    mux.handle_func(
        "POST /submit/{id}",
        |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = write!(w, "submitted {}", r.path_value("id"));
        },
    );
    let s = nethttp::GonetServer::start(mux);
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10"])
            .args(args)
            .output()
            .expect("run curl (apt-get install curl)");
        assert!(out.status.success(), "curl {args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let url = |p: &str| format!("http://{}{p}", s.addr);
    assert_eq!(
        curl(&["-L", &url("/a/../tree?x=1")]),
        "pattern /tree/ path /tree/ query x=1\n"
    );
    assert_eq!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            &url("/tree")
        ]),
        format!("301 {}", url("/tree/"))
    );
    assert_eq!(curl(&["-X", "POST", &url("/submit/9")]), "submitted 9");
    assert_eq!(
        curl(&["-o", "/dev/null", "-w", "%{http_code}", &url("/submit/9")]),
        "405"
    );
    assert_eq!(curl(&[&url("/nowhere")]), "404 page not found\n");
    let client = go_util::go_binary("tests/go/httpclient/main.go");
    let out = std::process::Command::new(&client)
        .args(["get", &url("/tree/sub")])
        .output()
        .expect("run the Go client");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200\npattern /tree/sub/ path /tree/sub/ query \n"
    );
}

fn h(tag: &'static str) -> impl Fn(&mut dyn ResponseWriter, &mut Request) {
    move |w: &mut dyn ResponseWriter, r: &mut Request| {
        let _ = write!(w, "{tag}");
        for name in ["id", "rest", "x", "y", "bucket", "obj"] {
            let v = r.path_value(name);
            if !v.is_empty() {
                let _ = write!(w, " {name}={v}");
            }
        }
    }
}

fn body(mux: &ServeMux, method: &str, host: &str, target: &str) -> String {
    let rec = serve(mux, method, host, target);
    match rec.code {
        200 => rec.body_string(),
        301 => format!("301 {}", rec.result_header().get("Location")),
        405 => format!("405 Allow: {}", rec.result_header().get("Allow")),
        c => c.to_string(),
    }
}

// The examples of Go 1.22's ServeMux documentation and its precedence rules.
#[test]
fn routes_go_1_22_patterns_as_documented() {
    let mux = ServeMux::new();
    for (p, tag) in [
        ("/index.html", "index"),
        ("GET /static/", "static"),
        ("example.com/", "host"),
        ("example.com/{$}", "host-root"),
        ("/b/{bucket}/o/{obj...}", "object"),
        ("/images/", "images"),
        ("/images/thumbnails/", "thumbs"),
        ("GET /items/{id}", "get-item"),
        ("POST /items/{id}", "post-item"),
        ("DELETE /items/{id}", "delete-item"),
        ("GET /items/special", "special"),
        ("/{$}", "root"),
        ("/a/{x}/c", "a-x-c"),
        ("/a/b/z", "a-b-z"),
        ("/files/{rest...}", "files"),
        ("HEAD /head-only", "head"),
        ("PUT /put-only/{id}", "put"),
    ] {
        mux.handle_func(p, h(tag));
    }
    let cases = [
        ("GET", "x", "/index.html", "index"),
        ("POST", "x", "/index.html", "index"),
        ("GET", "x", "/static/css/a.css", "static"),
        ("HEAD", "x", "/static/", "static"),
        ("POST", "x", "/static/a", "405 Allow: GET, HEAD"),
        ("GET", "example.com", "/anything", "host"),
        ("GET", "example.com", "/", "host-root"),
        ("GET", "example.com:8080", "/", "host-root"),
        (
            "GET",
            "x",
            "/b/mybucket/o/path/to/obj",
            "object bucket=mybucket obj=path/to/obj",
        ),
        ("GET", "x", "/b/mybucket/x/obj", "404"),
        ("GET", "x", "/images/thumbnails/1.png", "thumbs"),
        ("GET", "x", "/images/1.png", "images"),
        ("GET", "x", "/images", "301 /images/"),
        ("GET", "x", "/items/42", "get-item id=42"),
        ("HEAD", "x", "/items/42", "get-item id=42"),
        ("POST", "x", "/items/42", "post-item id=42"),
        (
            "PATCH",
            "x",
            "/items/42",
            "405 Allow: DELETE, GET, HEAD, POST",
        ),
        ("GET", "x", "/items/special", "special"),
        ("DELETE", "x", "/items/special", "delete-item id=special"),
        ("GET", "x", "/", "root"),
        ("GET", "x", "/nothing-here", "404"),
        ("GET", "x", "/a/b/c", "a-x-c x=b"),
        ("GET", "x", "/a/b/z", "a-b-z"),
        ("GET", "x", "/a/z/c", "a-x-c x=z"),
        ("GET", "x", "/files/", "files"),
        ("GET", "x", "/files/a/b%20c", "files rest=a/b c"),
        ("GET", "x", "/files", "301 /files/"),
        ("GET", "x", "/items/%34%32", "get-item id=42"),
        ("GET", "x", "/items/a%2Fb", "get-item id=a/b"),
        ("HEAD", "x", "/head-only", "head"),
        ("GET", "x", "/head-only", "405 Allow: HEAD"),
        ("GET", "x", "/put-only/1", "405 Allow: PUT"),
        ("GET", "x", "/items/42/../7", "301 /items/7"),
    ];
    for (method, host, target, want) in cases {
        assert_eq!(
            body(&mux, method, host, target),
            want,
            "{method} {host} {target}"
        );
    }
}

#[test]
fn handler_reports_the_pattern_go_reports() {
    let mux = ServeMux::new();
    mux.handle_func("GET /items/{id}", h("item"));
    mux.handle_func("/tree/", h("tree"));
    let pat = |method: &str, target: &str| {
        let mut r = new_request(method, target, "");
        r.host = "x".into();
        mux.handler(&r).1
    };
    assert_eq!(pat("GET", "/items/1"), "GET /items/{id}");
    assert_eq!(pat("GET", "/tree"), "/tree/");
    assert_eq!(pat("GET", "/tree/../items/1"), "GET /items/{id}");
    assert_eq!(pat("POST", "/items/1"), "");
    assert_eq!(pat("GET", "/none"), "");
    // The handler of a redirect redirects.
    let mut r = new_request("GET", "/tree?a=b", "");
    r.host = "x".into();
    let (handler, _) = mux.handler(&r);
    let mut rec = ResponseRecorder::new();
    handler.serve_http(&mut rec, &mut r);
    assert_eq!(
        (rec.code, rec.result_header().get("Location")),
        (301, "/tree/?a=b")
    );
    // And Request::pattern is set for the handler, as Go 1.23 sets Request.Pattern.
    let mux = ServeMux::new();
    mux.handle_func(
        "GET /p/{x}",
        |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = w.write(r.pattern.as_bytes());
        },
    );
    assert_eq!(serve(&mux, "GET", "x", "/p/1").body_string(), "GET /p/{x}");
}

// Go 1.22's conflict rules, and its panic texts (here: try_handle's errors).
#[test]
fn refuses_conflicts_in_go_words() {
    let ok = |_: &mut dyn ResponseWriter, _: &mut Request| {};
    let cases: &[(&[&str], &str, &str)] = &[
        (&["/a"], "/a", "/a matches the same requests as /a"),
        (
            &["/a/{x}"],
            "/a/{y}",
            "/a/{y} matches the same requests as /a/{x}",
        ),
        (
            &["GET /"],
            "/index.html",
            "/index.html matches more methods than GET /, but has a more specific path pattern",
        ),
        (
            &["/a/{x}"],
            "/{y}/b",
            "/{y}/b and /a/{x} both match some paths, like \"/a/b\".\nBut neither is more specific than the other.\n/{y}/b matches \"/y/b\", but /a/{x} doesn't.\n/a/{x} matches \"/a/x\", but /{y}/b doesn't.",
        ),
        (
            &["/a"],
            "POST /",
            "POST / matches fewer methods than /a, but has a more general path pattern",
        ),
    ];
    for (first, pattern, want) in cases {
        let mux = ServeMux::new();
        for p in *first {
            mux.try_handle(p, ok).unwrap();
        }
        let e = mux.try_handle(pattern, ok).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "pattern \"{pattern}\" (registered at {}:",
                file!()
            )),
            "{e}"
        );
        assert!(e.contains(" conflicts with pattern \""), "{e}");
        let desc = e.split_once(":\n").map(|x| x.1).unwrap_or("");
        assert!(
            desc.starts_with(want) || desc.contains(want),
            "{pattern}: {desc}"
        );
    }
    // Patterns that do not conflict.
    let mux = ServeMux::new();
    for p in [
        "/",
        "/a",
        "/a/",
        "GET /a/{x}",
        "/a/{x}/b",
        "HEAD /a/b",
        "example.com/a",
        "/{$}",
        "/images/thumbnails/",
        "/images/",
        "POST /a/{x}",
        "GET /b/{x}/c",
        "GET /b/d/e",
    ] {
        mux.try_handle(p, ok).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    // Syntax errors, as Go words them.
    for (p, want) in [
        ("", "http: invalid pattern"),
        (
            "GET  ",
            "parsing \"GET  \": at offset 4: host/path missing /",
        ),
        (
            "/{x}x",
            "parsing \"/{x}x\": at offset 1: bad wildcard segment (must end with '}')",
        ),
        (
            "/{1x}",
            "parsing \"/{1x}\": at offset 1: bad wildcard name \"1x\"",
        ),
        (
            "/a/{x}/{x}",
            "parsing \"/a/{x}/{x}\": at offset 7: duplicate wildcard name \"x\"",
        ),
        (
            "GET /a/../b",
            "parsing \"GET /a/../b\": at offset 4: non-CONNECT pattern with unclean path can never match",
        ),
        (
            "B@D /",
            "parsing \"B@D /\": at offset 0: invalid method \"B@D\"",
        ),
        (
            "/{$}x",
            "parsing \"/{$}x\": at offset 1: bad wildcard segment (must end with '}')",
        ),
    ] {
        assert_eq!(
            mux.try_handle(p, ok).map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{p}"
        );
    }
    let e = std::panic::catch_unwind(|| {
        let mux = ServeMux::new();
        mux.handle("/{x", ok);
    })
    .unwrap_err();
    assert_eq!(
        e.downcast_ref::<String>().map(String::as_str),
        Some("parsing \"/{x\": at offset 1: bad wildcard segment (must end with '}')")
    );
}

#[test]
fn default_mux_serves_package_level_registrations() {
    http::handle_func(
        "/test-default-mux/{name}",
        |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = write!(w, "hello {}", r.path_value("name"));
        },
    );
    http::handle("/test-default-mux-handle", h("handle"));
    let mut rec = ResponseRecorder::new();
    http::default_serve_mux().serve_http(
        &mut rec,
        &mut new_request("GET", "/test-default-mux/gopher", ""),
    );
    assert_eq!(rec.body_string(), "hello gopher");
    let mut rec = ResponseRecorder::new();
    http::default_serve_mux().serve_http(
        &mut rec,
        &mut new_request("GET", "/test-default-mux-handle", ""),
    );
    assert_eq!(rec.body_string(), "handle");
}

#[test]
fn strip_prefix_serves_under_a_prefix() {
    let mux = ServeMux::new();
    mux.handle(
        "/api/",
        http::strip_prefix("/api", |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = write!(w, "{} raw={}", r.url.path, r.url.raw_path);
        }),
    );
    assert_eq!(body(&mux, "GET", "x", "/api/users/7"), "/users/7 raw=");
    assert_eq!(body(&mux, "GET", "x", "/api/a%2Fb"), "/a/b raw=/a%2Fb");
    let sp = http::strip_prefix("/p/", h("x"));
    let mut rec = ResponseRecorder::new();
    sp.serve_http(&mut rec, &mut new_request("GET", "/q/", ""));
    assert_eq!(
        (rec.code, rec.body_string().as_str()),
        (404, "404 page not found\n")
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn nop() -> impl Fn(&mut dyn ResponseWriter, &mut Request) {
        |_: &mut dyn ResponseWriter, _: &mut Request| {}
    }

    /// A piece of a generated pattern path, and how to make a request path segment for
    /// it (None: the piece ends the pattern).
    #[derive(Clone, Debug)]
    enum Piece {
        Lit(&'static str),
        Wild(&'static str),
    }

    fn pattern_strategy() -> impl Strategy<Value = (String, Vec<Piece>, u8)> {
        let piece = prop_oneof![
            prop_oneof![Just("a"), Just("b"), Just("c"), Just("%61")].prop_map(Piece::Lit),
            prop_oneof![Just("x"), Just("y"), Just("z")].prop_map(Piece::Wild),
        ];
        (
            prop_oneof![Just(""), Just("GET "), Just("POST "), Just("HEAD ")],
            proptest::collection::vec(piece, 0..4),
            0u8..4, // end: 0 nothing, 1 "/", 2 "/{rest...}", 3 "/{$}"
        )
            .prop_filter_map("distinct wildcard names", |(method, pieces, end)| {
                let mut names: Vec<&str> = pieces
                    .iter()
                    .filter_map(|p| {
                        if let Piece::Wild(n) = p {
                            Some(*n)
                        } else {
                            None
                        }
                    })
                    .collect();
                names.sort();
                let n = names.len();
                names.dedup();
                if names.len() != n || (pieces.is_empty() && end == 0) {
                    return None;
                }
                let mut s = method.to_string();
                for p in &pieces {
                    match p {
                        Piece::Lit(l) => s.push_str(&format!("/{l}")),
                        Piece::Wild(w) => s.push_str(&format!("/{{{w}}}")),
                    }
                }
                s.push_str(["", "/", "/{rest...}", "/{$}"][end as usize]);
                Some((s, pieces, end))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        // Any string: registration never panics, and refusals are in Go's words.
        #[test]
        fn any_pattern_string_registers_or_is_refused_in_go_words(
            s in "([A-Z]{0,4}[ \t]{0,2})?[a-z.:\\[\\]0-9]{0,6}(/(\\{[a-z$.]{0,5}\\}?|[a-z%0-9.]{0,3})){0,4}/?",
            req in "(/([a-z0-9.]{0,3}|%2[0-9A-F]|%61)){0,4}/?",
        ) {
            let mux = ServeMux::new();
            match mux.try_handle(&s, nop()) {
                Ok(()) => {}
                Err(e) => {
                    let e = e.to_string();
                    prop_assert!(e == "http: invalid pattern" || e.starts_with(&format!("parsing {s:?}: at offset ")), "{}", e);
                }
            }
            // And any request routes without a panic.
            let _ = serve(&mux, "GET", "x", if req.is_empty() { "/" } else { &req });
        }

        // Conflicts do not depend on registration order.
        #[test]
        fn conflicts_are_symmetric(p in pattern_strategy(), q in pattern_strategy()) {
            let ab = ServeMux::new();
            let ba = ServeMux::new();
            let first = ab.try_handle(&p.0, nop()).and_then(|_| ab.try_handle(&q.0, nop()));
            let second = ba.try_handle(&q.0, nop()).and_then(|_| ba.try_handle(&p.0, nop()));
            prop_assert_eq!(first.is_ok(), second.is_ok(), "{} / {}", p.0, q.0);
        }

        // A path made from a pattern matches it, with the wildcards' values.
        #[test]
        fn a_path_made_from_a_pattern_matches_it(
            (pat, pieces, end) in pattern_strategy(),
            vals in proptest::collection::vec("[a-z]{1,3}", 6),
            rest in "([a-z]{1,2}/){0,2}[a-z]{0,2}",
        ) {
            let mux = ServeMux::new();
            mux.handle_func(&pat, |w: &mut dyn ResponseWriter, r: &mut Request| {
                let _ = write!(w, "{}|{}|{}|{}", r.path_value("x"), r.path_value("y"), r.path_value("z"), r.path_value("rest"));
            });
            let mut path = String::new();
            let (mut x, mut y, mut z) = (String::new(), String::new(), String::new());
            for (i, p) in pieces.iter().enumerate() {
                match p {
                    Piece::Lit(l) => path.push_str(&format!("/{}", if *l == "%61" { "a" } else { l })),
                    Piece::Wild(w) => {
                        let v = &vals[i];
                        path.push('/');
                        path.push_str(v);
                        match *w { "x" => x = v.clone(), "y" => y = v.clone(), _ => z = v.clone() }
                    }
                }
            }
            let mut rest_val = String::new();
            match end {
                1 => path.push('/'),
                2 => { path.push('/'); path.push_str(&rest); rest_val = rest.clone(); }
                3 => path.push('/'),
                _ => {}
            }
            let method = pat.split_once(' ').map(|(m, _)| m).unwrap_or("GET");
            let rec = serve(&mux, method, "x", &path);
            prop_assert_eq!(rec.code, 200, "{} for {}", pat, path);
            prop_assert_eq!(rec.body_string(), format!("{x}|{y}|{z}|{rest_val}"), "{} for {}", pat, path);
        }
    }
}

/// Counts this thread's allocations, to show what routing a request costs.
mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: forwards every call to the system allocator unchanged; the counter is a
    // const-initialised thread-local Cell, which allocates nothing.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: the caller's layout, passed on.
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: p was allocated by System.alloc with l.
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: as for dealloc, and n is the caller's new size.
            unsafe { System.realloc(p, l, n) }
        }
    }

    pub fn count() -> u64 {
        COUNT.with(|c| c.get())
    }
}

#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;

/// A writer that keeps nothing: only routing is measured.
struct Discard(gonet::net::http::Header);

impl ResponseWriter for Discard {
    fn header(&mut self) -> &mut gonet::net::http::Header {
        &mut self.0
    }
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        Ok(b.len())
    }
    fn write_header(&mut self, _: u16) {}
}

// Go's ServeMux allocates nothing to route a static path; neither does gonet's (the
// request's pattern string reuses its buffer). A wildcard match allocates its matches
// list once (Go 1.22 its matches slice too); the values are copied into the request's
// own strings, which keep their memory between requests. Timings are printed
// (--nocapture), not asserted.
#[test]
fn routing_a_static_path_allocates_nothing() {
    let mux = ServeMux::new();
    for i in 0..40 {
        mux.handle_func(
            &format!("GET /api/v1/resource{i}/{{id}}"),
            |_: &mut dyn ResponseWriter, _: &mut Request| {},
        );
        mux.handle_func(
            &format!("/static{i}/"),
            |_: &mut dyn ResponseWriter, _: &mut Request| {},
        );
        mux.handle_func(
            &format!("/page{i}"),
            |_: &mut dyn ResponseWriter, _: &mut Request| {},
        );
    }
    let mut w = Discard(gonet::net::http::Header::new());
    for (target, want_allocs) in [
        ("/page17", Some(0)),
        ("/static23/css/site.css", Some(0)),
        ("/api/v1/resource31/12345", Some(1)),
    ] {
        let mut r = new_request("GET", target, "");
        mux.serve_http(&mut w, &mut r); // warm: the pattern buffer, the tree's pages
        // GONET_MUX_ITERATIONS: for `perf stat` runs that subtract a 0-iteration run.
        let n: u32 = std::env::var("GONET_MUX_ITERATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        let before = alloc_count::count();
        let t = std::time::Instant::now();
        for _ in 0..n {
            mux.serve_http(&mut w, &mut r);
        }
        let per = t.elapsed() / n.max(1);
        let allocs = (alloc_count::count() - before) as f64 / n.max(1) as f64;
        println!("route {target}: {per:?} per request, {allocs} allocations per request");
        if let Some(want) = want_allocs {
            assert_eq!(allocs, want as f64, "{target}");
        }
    }
    // Go 1.19's mux on the same paths (its {id} route is a prefix pattern), for the
    // record: bench/PROFILE.md section 5.
    let n = std::env::var("GONET_MUX_ITERATIONS").unwrap_or_else(|_| "100000".into());
    let out = std::process::Command::new(go_util::go_binary("tests/go/nethttp/main.go"))
        .args(["bench-mux", &n])
        .output()
        .expect("run the Go mux benchmark");
    print!("{}", String::from_utf8_lossy(&out.stdout));
}
