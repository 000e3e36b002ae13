//! `gonet-stress http` against gonet's own HTTP server, the examples run as users run
//! them (examples/http.rs and examples/rest.rs on `gonet::net::http`): every response
//! read to its end and counted, none in error, byte counts that only add up if every
//! response was whole, and, for rest, the server's own count (its access log) equal to
//! the tool's.

#[path = "../../tests/util/process.rs"]
mod process;
#[path = "../../tests/util/mod.rs"]
mod util;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::Server;

/// A gonet example (`cargo build --example NAME` of the gonet package), started on a
/// kernel-chosen loopback port.
fn start_example(name: &str, args: &[&str]) -> Server {
    let mut cmd = Command::new(util::build::package_example("gonet", name));
    cmd.arg("127.0.0.1:0").args(args);
    Server::start(cmd)
}

/// The request `gonet-stress http` sends (stress/src/run.rs), so one response can be
/// fetched with the same bytes and measured.
fn stress_request(addr: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: gonet-stress\r\nAccept: */*\r\n\r\n"
    )
}

/// One response to `request`, whole (status line, header, Content-Length body).
fn one_response(addr: &str, request: &str) -> Vec<u8> {
    let conn = gonet::dial("tcp", addr).expect("dial the server");
    conn.set_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    conn.write(request.as_bytes()).expect("send a request");
    let mut r = BufReader::new(conn);
    let mut raw = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("a header line");
        raw.extend_from_slice(line.as_bytes());
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.trim().parse().expect("a length");
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).expect("the body");
    raw.extend(body);
    raw
}

/// Runs `gonet-stress http --json` against `addr` for `duration` with `conns`
/// connections and returns its report; the run must succeed (exit 0).
fn stress_http(addr: &str, path: &str, conns: usize, duration: &str) -> serde_json::Value {
    let c = conns.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_gonet-stress"))
        .args([
            "http", "--addr", addr, "--path", path, "-c", &c, "-d", duration,
        ])
        .args(["--timeout", "10s", "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("run gonet-stress");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "gonet-stress exited {:?}: {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line {last:?} is not JSON: {e}"))
}

/// Asserts a clean run: every connection did its job, no error, every response had
/// `status`, at least `min` of them, and the bytes are exactly requests x (request +
/// `response`) (a response cut short, or one with other headers, breaks the sum).
/// Returns the number of responses.
fn assert_clean(
    v: &serde_json::Value,
    conns: usize,
    status: u16,
    request: &str,
    response: &[u8],
    min: u64,
) -> u64 {
    assert_eq!(v["errors"], 0, "errors: {}", v["error_kinds"]);
    assert_eq!(v["ok_conns"], conns as u64, "{v}");
    let n = v["requests"].as_u64().expect("requests");
    assert!(n >= min, "only {n} responses: {v}");
    assert_eq!(
        v["status"],
        serde_json::json!({ status.to_string(): n }),
        "{v}"
    );
    let per = (request.len() + response.len()) as u64;
    assert_eq!(v["bytes"], n * per, "{n} exchanges of {per} bytes: {v}");
    n
}

/// examples/http.rs under 500 keep-alive connections for 2 s, and its JSON route and
/// its 404 (counted as responses, not errors) under 20.
#[test]
fn stress_http_drives_the_gonet_http_example() {
    let srv = start_example("http", &[]);
    let addr = srv.loopback();
    for (path, conns, duration, status, min) in [
        ("/", 500, "2s", 200, 500),
        ("/json", 20, "1s", 200, 20),
        ("/nope", 20, "1s", 404, 20),
    ] {
        let request = stress_request(&addr, path);
        let response = one_response(&addr, &request);
        let v = stress_http(&addr, path, conns, duration);
        let n = assert_clean(&v, conns, status, &request, &response, min);
        eprintln!(
            "http {path}: {n} responses, {} req/s, p99 {} us",
            v["rps"], v["p99_us"]
        );
        if status == 404 {
            assert_eq!(v["non_2xx_3xx"], n);
        }
    }
    assert!(
        srv.lines().iter().all(|l| !l.contains("panic")),
        "{:?}",
        srv.lines()
    );
}

/// examples/rest.rs (patterns, the logging middleware, JSON) under 100 connections for
/// 2 s: a clean run, and then, after SIGTERM, the server's access log holds exactly one
/// `GET /items 200 3` line per response the tool counted, and the server exits 0.
#[test]
fn stress_http_drives_the_gonet_rest_example_and_the_counts_agree() {
    let mut srv = start_example("rest", &["10s"]);
    let addr = srv.loopback();
    let request = stress_request(&addr, "/items");
    let response = one_response(&addr, &request);
    assert!(
        response.ends_with(b"\r\n\r\n[]\n"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    let v = stress_http(&addr, "/items", 100, "2s");
    let n = assert_clean(&v, 100, 200, &request, &response, 100);

    srv.signal(libc::SIGTERM);
    let status = srv.wait_exit(Duration::from_secs(20)).expect("rest exits");
    assert_eq!(status.code(), Some(0));
    let lines = srv.lines();
    let logged = lines
        .iter()
        .filter(|l| l.ends_with(" GET /items 200 3"))
        .count() as u64;
    // One more: the response this test fetched itself.
    assert_eq!(
        logged,
        n + 1,
        "the server logged {logged}, the tool counted {n}"
    );
    assert!(
        lines.last().is_some_and(|l| l.ends_with(" rest: stopped")),
        "{lines:?}"
    );
}
