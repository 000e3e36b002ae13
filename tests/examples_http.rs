//! The porting kit's HTTP examples beside their Go twins: http (and minihttp, the benchmark
//! peer) and rest (patterns, middleware, SIGTERM shutdown). The Rust example
//! (built with `cargo build --release --example NAME`) and examples/go/NAME.go (built with
//! `go build`) run as child processes, the same scripted client talks to both, and the
//! bytes that come back must be the same, and the ones the protocol defines (helpers in
//! tests/util/twins.rs).
//!
//! Run: `cargo test --release --test examples_http`.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

#[path = "util/twins.rs"]
mod twins;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use process::Server;
use twins::{Client, assert_same_first_line, go_twin, rust_example, start_twins};

// ---------------------------------------------------------------------------------------
// http
// ---------------------------------------------------------------------------------------

/// A response as the test compares it: the status code, Content-Type, nosniff and body
/// (and the whole response, Date aside, in `raw`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reply {
    code: u16,
    content_type: Option<String>,
    nosniff: bool,
    body: String,
}

/// Reads one HTTP/1.1 response (Content-Length framed, as both servers send): its
/// status line, its parts, and its whole text with the Date value replaced by "X".
fn read_reply(r: &mut BufReader<gonet::Conn>) -> (String, Reply, String) {
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    let mut raw = status.clone();
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let (mut len, mut content_type, mut nosniff) = (None, None, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
        if h.starts_with("Date: ") {
            raw.push_str("Date: X\r\n");
        } else {
            raw.push_str(&h);
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').expect("a header");
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => len = Some(value.parse::<usize>().expect("a length")),
            "content-type" => content_type = Some(value),
            "x-content-type-options" => nosniff = value == "nosniff",
            _ => {}
        }
    }
    let mut body = vec![0u8; len.expect("Content-Length")];
    r.read_exact(&mut body).expect("body");
    let body = String::from_utf8(body).expect("a UTF-8 body");
    raw.push_str(&body);
    (
        status.trim_end().to_string(),
        Reply {
            code,
            content_type,
            nosniff,
            body,
        },
        raw,
    )
}

const PATHS: &[&str] = &["/", "/json", "/nope", "/json?pretty=1", "/?q=1", "/json/"];

/// GETs every path on one keep-alive connection, then all of them again pipelined.
fn http_script(addr: &str) -> Vec<(String, Reply, String)> {
    let c = Client::connect("tcp", addr);
    let mut r = c.r;
    let get = |p: &str| format!("GET {p} HTTP/1.1\r\nHost: gonet.test\r\nUser-Agent: t\r\n\r\n");
    let mut replies = Vec::new();
    for p in PATHS {
        r.get_ref().write(get(p).as_bytes()).unwrap();
        replies.push(read_reply(&mut r));
    }
    let batch: String = PATHS.iter().map(|p| get(p)).collect();
    r.get_ref().write(batch.as_bytes()).unwrap();
    for _ in PATHS {
        replies.push(read_reply(&mut r));
    }
    replies
}

/// What every path answers: "/" and "/json" (query or not) are 200, anything else is
/// Go's 404.
fn http_want(p: &str) -> Reply {
    let text = |c: &str| Some(format!("text/{c}; charset=utf-8"));
    match p.split('?').next().unwrap() {
        "/" => Reply {
            code: 200,
            content_type: text("plain"),
            nosniff: false,
            body: "Hello, World!".into(),
        },
        "/json" => Reply {
            code: 200,
            content_type: Some("application/json".into()),
            nosniff: false,
            body: r#"{"message":"Hello, World!"}"#.into(),
        },
        _ => Reply {
            code: 404,
            content_type: text("plain"),
            nosniff: true,
            body: "404 page not found\n".into(),
        },
    }
}

/// The http twins (gonet::net::http and net/http) answer every path with the same
/// bytes, Date aside: sequential and pipelined requests alike.
#[test]
fn http_twins_answer_the_same_bytes() {
    let servers = start_twins("http", &["127.0.0.1:0"]);
    assert_same_first_line(&servers);
    let rust = http_script(&servers[0].loopback());
    let go = http_script(&servers[1].loopback());
    for (who, replies) in [("rust", &rust), ("go", &go)] {
        assert_eq!(replies.len(), 2 * PATHS.len());
        for (i, (_, reply, _)) in replies.iter().enumerate() {
            let p = PATHS[i % PATHS.len()];
            assert_eq!(reply, &http_want(p), "{who} GET {p}");
        }
    }
    for (i, (r, g)) in rust.iter().zip(&go).enumerate() {
        assert_eq!(r.2, g.2, "GET {}", PATHS[i % PATHS.len()]);
    }
    assert_eq!(go[0].0, "HTTP/1.1 200 OK");
}

/// The may_minihttp version (examples/minihttp.rs, the benchmark peer) answers the same
/// status codes, Content-Types and bodies as net/http; its one documented difference
/// is the 200 reason phrase.
#[test]
fn minihttp_answers_the_same_status_and_bodies_as_go() {
    let rust = Server::start({
        let mut c = Command::new(rust_example("minihttp"));
        c.arg("127.0.0.1:0");
        c
    });
    let replies = http_script(&rust.loopback());
    assert_eq!(replies.len(), 2 * PATHS.len());
    for (i, (status, reply, _)) in replies.iter().enumerate() {
        let p = PATHS[i % PATHS.len()];
        assert_eq!(reply, &http_want(p), "minihttp GET {p}");
        if reply.code == 404 {
            assert_eq!(status, "HTTP/1.1 404 Not Found", "GET {p}");
        }
    }
    assert_eq!(replies[0].0, "HTTP/1.1 200 Ok");
}

// ---------------------------------------------------------------------------------------
// rest: a JSON API over patterns, a logging middleware, SIGTERM shutdown
// ---------------------------------------------------------------------------------------

/// Reads one response and returns it whole, the Date value replaced by "X". No body
/// after a HEAD, a 1xx, a 204 or a 304; else Content-Length bytes, or (no length, not
/// chunked) everything to the end of the stream.
fn rest_response(r: &mut BufReader<gonet::Conn>, head: bool) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    raw.extend_from_slice(status.as_bytes());
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let mut len = None;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
        if h.starts_with("Date: ") {
            raw.extend_from_slice(b"Date: X\r\n");
        } else {
            raw.extend_from_slice(h.as_bytes());
        }
        match h.trim_end().split_once(':') {
            None => break,
            Some((name, v)) if name.eq_ignore_ascii_case("content-length") => {
                len = Some(v.trim().parse::<usize>().expect("a length"))
            }
            Some((name, v)) if name.eq_ignore_ascii_case("transfer-encoding") => {
                panic!("a chunked answer ({v}): this script's answers are small")
            }
            Some(_) => {}
        }
    }
    if head || code < 200 || code == 204 || code == 304 {
        return raw;
    }
    match len {
        Some(n) => {
            let mut body = vec![0u8; n];
            r.read_exact(&mut body).expect("body");
            raw.extend_from_slice(&body);
        }
        None => {
            r.read_to_end(&mut raw).expect("a body to the end");
        }
    }
    raw
}

/// One request of the rest script: its bytes; for `Expect: 100-continue`, the head
/// goes first, and the body after the interim answer.
struct RestStep {
    head: Vec<u8>,
    body: Vec<u8>,
    expect_continue: bool,
}

fn rest_req(method: &str, path: &str) -> RestStep {
    RestStep {
        head: format!("{method} {path} HTTP/1.1\r\nHost: rest.test\r\nUser-Agent: t\r\n\r\n")
            .into_bytes(),
        body: Vec::new(),
        expect_continue: false,
    }
}

fn rest_post(body: &[u8]) -> RestStep {
    RestStep {
        head: format!(
            "POST /items HTTP/1.1\r\nHost: rest.test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body: body.to_vec(),
        expect_continue: false,
    }
}

/// The rest script: every route, Go's JSON rules in and out, and the errors: 400s on
/// bodies encoding/json refuses, 404s, 405s with Allow, 413 past the body limit (the
/// connection stays: the logging middleware's writer hides the server's from
/// `max_bytes_reader`, as in Go), a cleaning redirect, HEAD, a chunked body,
/// 100-continue.
fn rest_steps() -> Vec<(&'static str, RestStep)> {
    let mut chunked = rest_post(b"");
    chunked.head =
        b"POST /items HTTP/1.1\r\nHost: rest.test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked.body = b"9\r\n{\"name\":\"\r\n11\r\nchunked\",\"qty\":7}\r\n0\r\n\r\n".to_vec();
    let mut continued = rest_post(br#"{"name":"continued","qty":8}"#);
    continued.head = b"POST /items HTTP/1.1\r\nHost: rest.test\r\nExpect: 100-continue\r\n\
                       Content-Length: 28\r\n\r\n"
        .to_vec();
    continued.expect_continue = true;
    let mut too_large = rest_post(&[b' '; 70_000]);
    too_large.body[0] = b'{';
    vec![
        ("empty list", rest_req("GET", "/items")),
        ("create", rest_post(br#"{"name":"apple","qty":3}"#)),
        (
            "keys any case, last wins, unknown skipped, HTML escaped",
            rest_post(
                br#"{"NAME":"<pear> & \u2028 \u2029","Qty":1,"qty":2,"extra":[1,{"a":null}]}"#,
            ),
        ),
        (
            "invalid UTF-8 is U+FFFD",
            rest_post(b"{\"name\":\"caf\xe9 \xe2\x82x \xed\xa0\x80\"}"),
        ),
        (
            "control characters",
            rest_post(r#"{"name":"t\tn\nr\rb\bf\fz\u0000d\u007f\u001f/\/é"}"#.as_bytes()),
        ),
        (
            "trailing space",
            rest_post(b" {\"name\":\"spaced\"} \r\n\t"),
        ),
        (
            "max int",
            rest_post(br#"{"name":"big","qty":9223372036854775807}"#),
        ),
        ("chunked body", chunked),
        ("100-continue", continued),
        ("null name", rest_post(br#"{"name":null,"qty":1}"#)),
        ("null body", rest_post(b"null")),
        ("empty name", rest_post(br#"{"name":""}"#)),
        ("negative qty", rest_post(br#"{"name":"x","qty":-1}"#)),
        ("fraction", rest_post(br#"{"name":"x","qty":1.5}"#)),
        ("exponent", rest_post(br#"{"name":"x","qty":1e2}"#)),
        (
            "past int64",
            rest_post(br#"{"name":"x","qty":9223372036854775808}"#),
        ),
        ("string qty", rest_post(br#"{"name":"x","qty":"1"}"#)),
        ("number name", rest_post(br#"{"name":5}"#)),
        ("array", rest_post(b"[1]")),
        ("string", rest_post(b"\"x\"")),
        ("empty body", rest_post(b"")),
        ("truncated", rest_post(br#"{"name":"x""#)),
        ("trailing comma", rest_post(br#"{"name":"x",}"#)),
        ("trailing data", rest_post(br#"{"name":"x"} {}"#)),
        ("bad escape", rest_post(br#"{"name":"\x"}"#)),
        ("raw control", rest_post(b"{\"name\":\"a\x01\"}")),
        ("list", rest_req("GET", "/items")),
        ("list with query", rest_req("GET", "/items?full=1")),
        ("get", rest_req("GET", "/items/2")),
        ("get +2", rest_req("GET", "/items/+2")),
        ("get missing", rest_req("GET", "/items/99")),
        ("get negative", rest_req("GET", "/items/-1")),
        ("get not a number", rest_req("GET", "/items/abc")),
        ("head list", rest_req("HEAD", "/items")),
        ("head item", rest_req("HEAD", "/items/1")),
        ("delete", rest_req("DELETE", "/items/1")),
        ("delete again", rest_req("DELETE", "/items/1")),
        ("delete not a number", rest_req("DELETE", "/items/x")),
        ("get deleted", rest_req("GET", "/items/1")),
        ("PUT list: 405", rest_req("PUT", "/items")),
        ("DELETE list: 405", rest_req("DELETE", "/items")),
        ("PATCH item: 405", rest_req("PATCH", "/items/2")),
        ("POST item: 405", rest_req("POST", "/items/2")),
        ("root: 404", rest_req("GET", "/")),
        ("empty id: 404", rest_req("GET", "/items/")),
        ("deeper: 404", rest_req("GET", "/items/2/x")),
        ("elsewhere: 404", rest_req("GET", "/nope")),
        ("unclean: 301", rest_req("GET", "/items/../items")),
        (
            "413 (a wrapped writer: the connection stays, as in Go)",
            too_large,
        ),
        ("after 413: the same connection", rest_req("GET", "/items")),
    ]
}

/// Runs the rest script against `addr`, a new connection whenever the server closed
/// one, and returns every answer (a closing server adds "<closed>").
fn rest_script(addr: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut c = Client::connect("tcp", addr);
    let mut answers = Vec::new();
    for (name, step) in rest_steps() {
        let head = step.head.starts_with(b"HEAD ");
        c.conn().write(&step.head).expect("write a request head");
        let mut got = Vec::new();
        if step.expect_continue {
            got = rest_response(&mut c.r, false);
        }
        if !step.body.is_empty() {
            c.conn().write(&step.body).expect("write a request body");
        }
        got.extend(rest_response(&mut c.r, head));
        let closes = String::from_utf8_lossy(&got).contains("\r\nConnection: close\r\n");
        if closes {
            assert_eq!(c.rest(), b"", "{name}: bytes after a closing answer");
            got.extend_from_slice(b"<closed>");
            c = Client::connect("tcp", addr);
        }
        answers.push((name, got));
    }
    answers
}

/// A log line without its `2009/11/10 23:00:00 ` prefix (which must be there: Go's
/// standard flags) and with the listening address as "ADDR".
fn rest_log_line(s: &Server, line: &str) -> String {
    let (stamp, rest) = line.split_at(line.len().min(20));
    let shape = stamp.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'/',
        10 | 19 => b == b' ',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    assert!(shape && stamp.len() == 20, "no Go log timestamp: {line:?}");
    rest.replace(&s.addr, "ADDR")
}

fn rest_log(s: &Server) -> Vec<String> {
    s.lines().iter().map(|l| rest_log_line(s, l)).collect()
}

/// The first status line of each answer in the script, for the assertions that do
/// not need Go: what each step must answer.
const REST_STATUSES: &[u16] = &[
    200, 201, 201, 201, 201, 201, 201, 201, 100, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,
    400, 400, 400, 400, 400, 400, 400, 200, 200, 200, 200, 404, 404, 400, 200, 200, 204, 404, 400,
    404, 405, 405, 405, 405, 404, 404, 404, 404, 301, 413, 200,
];

/// The rest twins (gonet::net::http with Go 1.22 patterns, and net/http routed by hand)
/// answer the whole script with the same bytes, Date aside, log the same lines, and on
/// SIGTERM with nothing in flight stop and exit 0.
#[test]
fn rest_twins_answer_the_same_bytes_and_log_the_same_lines() {
    let mut servers = start_twins("rest", &["127.0.0.1:0"]);
    let rust = rest_script(&servers[0].loopback());
    let go = rest_script(&servers[1].loopback());
    assert_eq!(rust.len(), REST_STATUSES.len());
    for ((name, r), (_, g)) in rust.iter().zip(&go) {
        assert!(
            r == g,
            "{name}:\n--- gonet\n{}\n--- Go\n{}",
            String::from_utf8_lossy(r),
            String::from_utf8_lossy(g)
        );
    }
    for ((name, g), want) in go.iter().zip(REST_STATUSES) {
        let status = format!("HTTP/1.1 {want} ");
        assert!(
            g.starts_with(status.as_bytes()),
            "{name}: {}",
            String::from_utf8_lossy(g)
        );
    }
    let list = &go.iter().find(|(n, _)| *n == "list").unwrap().1;
    assert!(
        list.ends_with(
            "[{\"id\":1,\"name\":\"apple\",\"qty\":3},\
         {\"id\":2,\"name\":\"\\u003cpear\\u003e \\u0026 \\u2028 \\u2029\",\"qty\":2},\
         {\"id\":3,\"name\":\"caf\u{fffd} \u{fffd}\u{fffd}x \u{fffd}\u{fffd}\u{fffd}\",\"qty\":0},\
         {\"id\":4,\"name\":\"t\\tn\\nr\\rb\\u0008f\\u000cz\\u0000d\u{7f}\\u001f//é\",\"qty\":0},\
         {\"id\":5,\"name\":\"spaced\",\"qty\":0},\
         {\"id\":6,\"name\":\"big\",\"qty\":9223372036854775807},\
         {\"id\":7,\"name\":\"chunked\",\"qty\":7},\
         {\"id\":8,\"name\":\"continued\",\"qty\":8}]\n"
                .as_bytes()
        )
    );
    for s in &mut servers {
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
        assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    }
    let [rust_log, go_log] = [rest_log(&servers[0]), rest_log(&servers[1])];
    assert_eq!(rust_log, go_log);
    assert_eq!(go_log.first().unwrap(), "rest: listening on ADDR");
    assert!(
        go_log.contains(&"PUT /items 405 19".to_string()),
        "{go_log:?}"
    );
    assert!(
        go_log.contains(&"GET /items?full=1 200 369".to_string()),
        "{go_log:?}"
    );
    assert_eq!(
        go_log[go_log.len() - 2..],
        ["rest: shutting down", "rest: stopped"]
    );
}

/// SIGTERM while a request is in its handler (a 100-continue POST whose body is not sent
/// yet) and another connection is idle: the listener closes (new dials are refused) and
/// the idle connection with it; the request in flight finishes, answered with
/// `Connection: close`; then "rest: stopped" and exit 0. Returns the in-flight answer
/// and the log.
fn rest_drains(bin: &PathBuf) -> (Vec<u8>, Vec<String>) {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "10s"]);
    let mut s = Server::start(cmd);
    let addr = s.loopback();
    let mut idle = Client::connect("tcp", &addr);
    idle.conn().write(&rest_req("GET", "/items").head).unwrap();
    rest_response(&mut idle.r, false);

    let mut busy = Client::connect("tcp", &addr);
    let body = br#"{"name":"in flight","qty":1}"#;
    let head = format!(
        "POST /items HTTP/1.1\r\nHost: rest.test\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    busy.conn().write(head.as_bytes()).unwrap();
    // The 100 Continue comes once the handler reads the body: it is running.
    let mut answer = rest_response(&mut busy.r, false);

    s.signal(libc::SIGTERM);
    let seen = util::eventually(Duration::from_secs(10), || {
        s.lines()
            .iter()
            .any(|l| l.ends_with(" rest: shutting down"))
    });
    assert!(seen, "no shutting down line: {:?}", s.lines());
    let err = gonet::dial("tcp", &addr).expect_err("a new conn after the signal");
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: connect: connection refused")
    );
    assert_eq!(idle.rest(), b"", "the idle connection is closed");

    busy.conn().write(body).unwrap();
    answer.extend(rest_response(&mut busy.r, false));
    assert_eq!(busy.rest(), b"", "closed after the answer");
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    (answer, rest_log(&s))
}

/// SIGTERM with grace 300 ms while a request stays in its handler: Shutdown gives up
/// with "context deadline exceeded", exit 1. Returns the log.
fn rest_gives_up(bin: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "300ms"]);
    let mut s = Server::start(cmd);
    let mut busy = Client::connect("tcp", &s.loopback());
    busy.conn()
        .write(b"POST /items HTTP/1.1\r\nHost: rest.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    rest_response(&mut busy.r, false);
    let t0 = Instant::now();
    s.signal(libc::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(1), "{:?}", s.lines());
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "it waited out the grace"
    );
    rest_log(&s)
}

/// Both rest twins shut down on SIGTERM the same way: the request in flight is served
/// to its end (same bytes), idle and new connections are not; past the grace period
/// both give up with Go's context error.
#[test]
fn rest_twins_finish_the_request_in_flight_on_sigterm() {
    let [rust, go] = [rust_example("rest"), go_twin("rest")].map(|bin| rest_drains(&bin));
    assert!(
        rust.0 == go.0,
        "--- gonet\n{}\n--- Go\n{}",
        String::from_utf8_lossy(&rust.0),
        String::from_utf8_lossy(&go.0)
    );
    let text = String::from_utf8_lossy(&go.0);
    assert!(
        text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert_eq!(rust.1, go.1);
    assert_eq!(
        go.1,
        [
            "rest: listening on ADDR",
            "GET /items 200 3",
            "rest: shutting down",
            "POST /items 201 36",
            "rest: stopped"
        ]
    );

    let [rust, go] = [rust_example("rest"), go_twin("rest")].map(|bin| rest_gives_up(&bin));
    assert_eq!(rust, go);
    assert_eq!(
        go,
        [
            "rest: listening on ADDR",
            "rest: shutting down",
            "rest: shutdown: context deadline exceeded"
        ]
    );
}
