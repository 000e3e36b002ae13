//! Differential parity with live Go 1.19: one small net/http app written twice
//! (tests/go/httpparity/main.go and `parity_handler` below, route for route), the same
//! raw requests sent to both, and the whole responses compared byte for byte with only
//! the Date value normalised. Every difference is a bug or listed in `KNOWN` with why.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use gonet::net::http::{self, Handler, Request, ResponseWriter};

/// The Rust twin of tests/go/httpparity/main.go's `handler`.
fn parity_handler(w: &mut dyn ResponseWriter, r: &mut Request) {
    match r.url.path.as_str() {
        "/" => {
            w.header().set("Content-Type", "text/plain; charset=utf-8");
            let _ = w.write(b"Hello, World!");
        }
        "/json" => {
            w.header().set("Content-Type", "application/json");
            let _ = w.write(br#"{"message":"Hello, World!"}"#);
        }
        "/sniff" => {
            let _ = w.write(b"<html><body>sniffed</body></html>");
        }
        "/big" => {
            let _ = w.write(&[b'x'; 5000]);
        }
        "/many" => {
            for i in 0..100 {
                let _ = w.write((i % 10).to_string().repeat(50).as_bytes());
            }
        }
        "/exact2048" => {
            let _ = w.write(&[b'e'; 2048]);
        }
        "/echo" => {
            let mut b = Vec::new();
            if let Err(e) = r.body.read_to_end(&mut b) {
                http::error(w, &format!("read error: {e}"), http::STATUS_BAD_REQUEST);
                return;
            }
            let _ = write!(w, "len={} body={}", b.len(), go_quote_bytes(&b));
        }
        "/noread" => {
            let _ = w.write(b"did not read");
        }
        "/panic" => panic!("boom"),
        "/flush" => {
            let _ = w.write(b"first ");
            let _ = w.flush();
            let _ = w.write(b"second");
        }
        "/error" => http::error(w, "I'm a teapot, really", http::STATUS_TEAPOT),
        "/redirect" => http::redirect(w, r, "target?x=1", http::STATUS_FOUND),
        "/redirect-post" => http::redirect(w, r, "/elsewhere", http::STATUS_SEE_OTHER),
        "/notfound" => http::not_found(w, r),
        "/cl" => {
            w.header().set("Content-Length", "5");
            let _ = w.write(b"hello");
        }
        "/cl-short" => {
            w.header().set("Content-Length", "10");
            let _ = w.write(b"hello");
        }
        "/cl-bad" => {
            w.header().set("Content-Length", "abc");
            let _ = w.write(b"hello");
        }
        "/early-hints" => {
            w.header().set("Link", "</style.css>; rel=preload");
            w.write_header(http::STATUS_EARLY_HINTS);
            w.header().del("Link");
            let _ = w.write(b"after hints");
        }
        "/empty" => {}
        "/nocontent" => w.write_header(http::STATUS_NO_CONTENT),
        "/notmodified" => {
            w.header().set("Content-Type", "text/plain");
            w.header().set("Etag", "\"x\"");
            w.write_header(http::STATUS_NOT_MODIFIED);
        }
        "/created" => {
            w.header().set("Location", "/items/1");
            w.write_header(http::STATUS_CREATED);
            let _ = w.write(b"made");
        }
        "/odd-status" => {
            w.write_header(299);
            let _ = w.write(b"odd");
        }
        "/superfluous" => {
            w.write_header(202);
            w.write_header(500);
            let _ = w.write(b"accepted");
        }
        "/late-header" => {
            w.write_header(200);
            w.header().set("X-Late", "not sent");
            let _ = w.write(b"late");
        }
        "/close" => {
            w.header().set("Connection", "close");
            let _ = w.write(b"closing");
        }
        "/te-chunked" => {
            w.header().set("Transfer-Encoding", "chunked");
            let _ = w.write(b"self-chunked");
        }
        "/nodate" => {
            w.header().set_values("Date", &[]);
            let _ = w.write(b"no date");
        }
        "/multi" => {
            let h = w.header();
            h.add("X-B", "2");
            h.add("X-A", "1");
            h.add("X-A", "one");
            h.set("x-lower", "canon");
            let _ = w.write(b"multi");
        }
        "/form" => {
            let err = r.parse_form();
            let e = match &err {
                Ok(()) => "<nil>".to_string(),
                Err(e) => e.to_string(),
            };
            let _ = w.write(format!("err={e}\n").as_bytes());
            for (k, vs) in r.form.iter() {
                let _ = w.write(format!("{k}={}\n", go_quote_list(vs)).as_bytes());
            }
            let _ = w.write(format!("post={}\n", r.post_form.len()).as_bytes());
        }
        "/maxbytes" => {
            r.body = http::max_bytes_reader(w, std::mem::take(&mut r.body), 8);
            let mut b = Vec::new();
            if let Err(e) = r.body.read_to_end(&mut b) {
                http::error(w, &e.to_string(), http::STATUS_REQUEST_ENTITY_TOO_LARGE);
                return;
            }
            let _ = write!(w, "ok {}", go_quote_bytes(&b));
        }
        "/trailer" => {
            let _ = write!(w, "before={}", trailer_string(&r.trailer));
            let declared = r.header.has("Trailer");
            let mut b = Vec::new();
            let err = match r.body.read_to_end(&mut b) {
                Ok(_) => "<nil>".to_string(),
                Err(e) => e.to_string(),
            };
            let _ = write!(
                w,
                " body={} err={err} after={} header-trailer={declared}",
                go_quote_bytes(&b),
                trailer_string(&r.trailer)
            );
        }
        "/ctx" => {
            let err = r
                .context()
                .err()
                .map_or("<nil>".to_string(), |e| e.to_string());
            let _ = write!(w, "err={err}");
        }
        p if p.starts_with("/timeout/") => match timeouts().get(p) {
            Some(h) => h.serve_http(w, r),
            None => http::not_found(w, r),
        },
        "/bodyafter" => {
            let _ = r.body.read_to_end(&mut Vec::new());
            r.body.close();
            let err = r.body.read(&mut [0u8; 1]).unwrap_err();
            let _ = write!(w, "{err}");
        }
        _ => {
            let s = format!(
                "method={} uri={} path={} rawpath={} query={} proto={} {}.{} host={} cl={} te={} close={}\n",
                r.method,
                r.request_uri,
                go_quote(&r.url.path),
                go_quote(&r.url.raw_path),
                go_quote(&r.url.raw_query),
                r.proto,
                r.proto_major,
                r.proto_minor,
                r.host,
                r.content_length,
                format_args!("[{}]", r.transfer_encoding.join(" ")),
                r.close
            );
            let _ = w.write(s.as_bytes());
            let mut keys: Vec<&str> = r.header.keys().collect();
            keys.sort();
            // One write per line, as the Go twin's Fprintf calls.
            for k in keys {
                let line = format!("{k}: {}\n", go_quote_list(r.header.values(k)));
                let _ = w.write(line.as_bytes());
            }
        }
    }
}

/// The Go twin's `trailerString`: sorted keys with their values.
fn trailer_string(t: &http::Trailer) -> String {
    let mut keys = t.keys();
    keys.sort();
    let items: Vec<String> = keys
        .iter()
        .map(|k| format!("{k}={}", go_quote_list(&t.values(k))))
        .collect();
    format!("[{}]", items.join(" "))
}

/// The Go twin's `timeouts`.
fn timeouts() -> &'static std::collections::HashMap<&'static str, http::TimeoutHandler> {
    static T: std::sync::OnceLock<std::collections::HashMap<&'static str, http::TimeoutHandler>> =
        std::sync::OnceLock::new();
    T.get_or_init(|| {
        let wait = |w: &mut dyn ResponseWriter, r: &mut Request, say: &[u8]| {
            let _ = r.context().done().recv();
            if !say.is_empty() {
                let _ = w.write(say);
            }
        };
        let mut m = std::collections::HashMap::new();
        m.insert(
            "/timeout/fast",
            http::timeout_handler(
                |w: &mut dyn ResponseWriter, _r: &mut Request| {
                    w.header().set("X-Inner", "1");
                    let _ = w.write(b"fast");
                },
                Duration::from_secs(5),
                "too slow\n",
            ),
        );
        m.insert(
            "/timeout/code",
            http::timeout_handler(
                |w: &mut dyn ResponseWriter, _r: &mut Request| {
                    w.header().set("Location", "/made");
                    w.write_header(http::STATUS_CREATED);
                    w.write_header(http::STATUS_ACCEPTED);
                    let _ = w.write(b"made");
                },
                Duration::from_secs(5),
                "",
            ),
        );
        m.insert(
            "/timeout/slow",
            http::timeout_handler(
                move |w: &mut dyn ResponseWriter, r: &mut Request| wait(w, r, b"late"),
                Duration::from_millis(50),
                "too slow\n",
            ),
        );
        m.insert(
            "/timeout/default",
            http::timeout_handler(
                move |w: &mut dyn ResponseWriter, r: &mut Request| wait(w, r, b""),
                Duration::from_millis(50),
                "",
            ),
        );
        m
    })
}

/// Go's `%q` of a string (ASCII inputs here).
fn go_quote(s: &str) -> String {
    go_quote_bytes(s.as_bytes())
}

fn go_quote_bytes(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for &c in b {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                out.push_str(&format!("\\x{c:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
fn go_quote_list(vs: &[String]) -> String {
    let items: Vec<String> = vs.iter().map(|v| go_quote(v)).collect();
    format!("[{}]", items.join(" "))
}

/// The raw requests: (name, bytes). Each is sent in one write, then the client closes
/// its sending side and reads until the server closes.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut add = |name: &'static str, s: &str| v.push((name, s.as_bytes().to_vec()));
    // Good requests.
    add("hello", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    add("json", "GET /json HTTP/1.1\r\nHost: x\r\n\r\n");
    add("sniff", "GET /sniff HTTP/1.1\r\nHost: x\r\n\r\n");
    add("big-chunked", "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    add("many-writes", "GET /many HTTP/1.1\r\nHost: x\r\n\r\n");
    add("exactly-2048", "GET /exact2048 HTTP/1.1\r\nHost: x\r\n\r\n");
    add("big-http10", "GET /big HTTP/1.0\r\n\r\n");
    add("head", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    add("head-big", "HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n");
    add("head-empty", "HEAD /empty HTTP/1.1\r\nHost: x\r\n\r\n");
    add("flush", "GET /flush HTTP/1.1\r\nHost: x\r\n\r\n");
    add("flush-http10", "GET /flush HTTP/1.0\r\n\r\n");
    add("error", "GET /error HTTP/1.1\r\nHost: x\r\n\r\n");
    add("redirect", "GET /a/redirect HTTP/1.1\r\nHost: x\r\n\r\n");
    add("redirect-rel", "GET /redirect HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "redirect-head",
        "HEAD /redirect HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "redirect-post",
        "POST /redirect-post HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    add("notfound", "GET /notfound HTTP/1.1\r\nHost: x\r\n\r\n");
    add("explicit-cl", "GET /cl HTTP/1.1\r\nHost: x\r\n\r\n");
    add("short-cl", "GET /cl-short HTTP/1.1\r\nHost: x\r\n\r\n");
    add("bad-handler-cl", "GET /cl-bad HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "early-hints-103",
        "GET /early-hints HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add("empty", "GET /empty HTTP/1.1\r\nHost: x\r\n\r\n");
    add("204", "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
    add("304", "GET /notmodified HTTP/1.1\r\nHost: x\r\n\r\n");
    add("201", "GET /created HTTP/1.1\r\nHost: x\r\n\r\n");
    add("odd-status", "GET /odd-status HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "superfluous",
        "GET /superfluous HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "late-header",
        "GET /late-header HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "handler-close",
        "GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add("handler-te", "GET /te-chunked HTTP/1.1\r\nHost: x\r\n\r\n");
    add("nodate", "GET /nodate HTTP/1.1\r\nHost: x\r\n\r\n");
    add("multi-header", "GET /multi HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "inspect",
        "GET /inspect/a%20b?q=1&r=%zz HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\naccept-encoding: gzip\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n",
    );
    add(
        "inspect-rawpath",
        "GET /inspect/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "absolute-form",
        "GET http://other.example/inspect?x HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add("options-star", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "connect",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    );
    add(
        "pragma",
        "GET /inspect HTTP/1.1\r\nHost: x\r\nPragma: no-cache\r\n\r\n",
    );
    add(
        "custom-method",
        "PURGE /inspect HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    // Keep-alive, pipelining, HTTP/1.0.
    add(
        "pipelined-3",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\nGET /notfound HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "pipelined-close",
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add("http10", "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    add(
        "http10-keepalive",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /json HTTP/1.0\r\n\r\n",
    );
    add(
        "http10-keepalive-chunky",
        "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    );
    add("http11-no-host", "GET / HTTP/1.1\r\n\r\n");
    add("http12", "GET /inspect HTTP/1.2\r\nHost: x\r\n\r\n");
    // Bodies.
    add(
        "post-cl",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    );
    add(
        "post-chunked",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
    );
    add(
        "post-chunked-trailer",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3\r\nabc\r\n0\r\nX-T: v\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "post-chunked-upper",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
    );
    add(
        "bad-chunk-size",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    add(
        "bad-chunk-end",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
    );
    add(
        "body-unread-keepalive",
        "POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "body-short",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello",
    );
    add(
        "expect-100",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    );
    add(
        "expect-100-noread",
        "POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    );
    add(
        "expect-100-http10",
        "POST /echo HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    );
    add(
        "expect-other-417",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: something\r\n\r\nhello",
    );
    add(
        "cl-and-te",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    add(
        "te-http10-ignored",
        "POST /echo HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
    );
    add(
        "form",
        "POST /form?b=q&a=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\na=body&c=x+y\n",
    );
    add(
        "form-bad",
        "GET /form?a=%zz&b=1;c=2&d=ok HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "maxbytes-ok",
        "POST /maxbytes HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd",
    );
    add(
        "maxbytes-over",
        "POST /maxbytes HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n01234567890123456789GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "body-after-close",
        "POST /bodyafter HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
    );
    add(
        "dup-cl-same",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
    );
    // Malformed requests: Go's raw answers.
    add(
        "dup-cl-differ",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    );
    add(
        "negative-cl",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    );
    add(
        "plus-cl",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na",
    );
    add(
        "huge-cl",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    );
    add(
        "unknown-te",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    );
    add(
        "two-te",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    add(
        "te-list",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    );
    // Request trailers (r.trailer), TimeoutHandler, the request's context.
    add(
        "trailer",
        "POST /trailer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, x-other\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 6\r\nX-Undeclared: u\r\nx-sum: 7\r\n\r\n",
    );
    add(
        "trailer-none",
        "POST /trailer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /trailer HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add(
        "trailer-not-chunked",
        "POST /trailer HTTP/1.1\r\nHost: x\r\nTrailer: X-Sum\r\nContent-Length: 3\r\n\r\nabc",
    );
    add(
        "trailer-bad-key",
        "POST /trailer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n",
    );
    add(
        "timeout-fast",
        "GET /timeout/fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    add(
        "timeout-code",
        "GET /timeout/code HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    add(
        "timeout-slow",
        "GET /timeout/slow HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    add(
        "timeout-default-body",
        "GET /timeout/default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    add(
        "timeout-head",
        "HEAD /timeout/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    add(
        "context",
        "GET /ctx HTTP/1.1\r\nHost: x\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    add("bad-request-line", "GARBAGE\r\n\r\n");
    add("bad-version", "GET / HTTP/x.y\r\nHost: x\r\n\r\n");
    add("http2-version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
    add("http3-version", "GET / HTTP/3.1\r\nHost: x\r\n\r\n");
    add("lowercase-proto", "GET / http/1.1\r\nHost: x\r\n\r\n");
    add("bad-uri", "GET foo HTTP/1.1\r\nHost: x\r\n\r\n");
    add("bad-uri-escape", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    add("empty-method", " / HTTP/1.1\r\nHost: x\r\n\r\n");
    add("bad-method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n");
    add("two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    add("bad-host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n");
    add("bad-host-char", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n");
    // The Host field in any case, empty, between other fields, and on HTTP/1.0: it
    // sets r.Host and is gone from r.Header.
    add(
        "host-case",
        "GET /inspect HTTP/1.1\r\nX-A: 1\r\nhOsT: Example.COM:80\r\nX-B: 2\r\n\r\n",
    );
    add("host-empty", "GET /inspect HTTP/1.1\r\nHost:\r\n\r\n");
    add(
        "host-http10",
        "GET /inspect HTTP/1.0\r\nHOST: ten\r\n\r\nGET /inspect HTTP/1.0\r\n\r\n",
    );
    add(
        "two-hosts-apart",
        "GET /inspect HTTP/1.1\r\nhost: a\r\nX: y\r\nHost: a\r\n\r\n",
    );
    add(
        "bad-header-name",
        "GET / HTTP/1.1\r\nHost: x\r\nBad(Name: v\r\n\r\n",
    );
    add(
        "bad-header-value",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
    );
    add(
        "header-no-colon",
        "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
    );
    add(
        "space-before-colon",
        "GET / HTTP/1.1\r\nHost: x\r\nX-A : v\r\n\r\n",
    );
    add("leading-crlf", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "crlf-after-post",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    add("truncated-head", "GET / HTTP/1.1\r\nHost: x\r\n");
    add("truncated-line", "GET / HT");
    add("nothing", "");
    add("panic", "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
    add(
        "panic-after-good",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat((1 << 20) + 5000)
    );
    v.push(("oversized-header-431", big_header.into_bytes()));
    v.push((
        "host-not-utf8",
        b"GET /inspect HTTP/1.1\r\nHost: a\xffb\r\n\r\n".to_vec(),
    ));
    let near_limit = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat((1 << 20) - 100)
    );
    v.push(("near-limit-header", near_limit.into_bytes()));
    let many_headers: String = (0..200).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    v.push((
        "200-headers",
        format!("GET /inspect HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
    ));
    v
}

/// Known differences, each with its reason: none so far.
const KNOWN: &[(&str, &str)] = &[];

/// Cases whose client keeps its sending side open (their last request says
/// `Connection: close`): a half-close ends the request's context in Go and here (the
/// server's background read sees the end of stream), which would race the handlers
/// that watch it.
const KEEP_OPEN: &[&str] = &[
    "timeout-fast",
    "timeout-code",
    "timeout-slow",
    "timeout-default-body",
    "timeout-head",
    "context",
];

/// Sends `req` to `addr`, half-closes (unless `keep_open`), and reads until the server
/// closes (or 10 s).
fn exchange(addr: &str, req: &[u8], keep_open: bool) -> Vec<u8> {
    let conn = gonet::dial("tcp", addr).unwrap_or_else(|e| panic!("dial {addr}: {e}"));
    conn.set_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    let mut c = conn.clone();
    // A large request may meet an early answer and a close: write what goes.
    let _ = c.write_all(req);
    if !keep_open {
        let _ = conn.close_write();
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// The response with every Date value replaced by "X".
fn normalise(resp: &[u8]) -> String {
    let s = String::from_utf8_lossy(resp).into_owned();
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("\r\nDate: ") {
        out.push_str(&rest[..i + 8]);
        out.push('X');
        rest = &rest[i + 8..];
        rest = rest.get(29..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[test]
fn same_bytes_as_go_net_http() {
    util::init();
    let go = process::Server::start(std::process::Command::new(go_util::go_binary(
        "tests/go/httpparity/main.go",
    )));
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let rust_addr = ln.addr().to_string();
    let srv = http::Server::new().handler(parity_handler);
    let s = srv.clone();
    let serving = gonet::go!(move || s.serve(ln));

    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut diffs = Vec::new();
    for (name, req) in &cases {
        let keep_open = KEEP_OPEN.contains(name);
        let want = normalise(&exchange(&go.addr, req, keep_open));
        let got = normalise(&exchange(&rust_addr, req, keep_open));
        if want != got && !KNOWN.iter().any(|(k, _)| k == name) {
            diffs.push(format!(
                "--- {name}: request {:?}\n    go:   {want:?}\n    rust: {got:?}",
                String::from_utf8_lossy(&req[..req.len().min(200)])
            ));
        }
    }
    srv.close();
    let _ = serving.join();
    assert!(
        diffs.is_empty(),
        "{} of {} cases differ from Go:\n{}",
        diffs.len(),
        cases.len(),
        diffs.join("\n")
    );
}
