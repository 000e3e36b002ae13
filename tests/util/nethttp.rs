//! Comparing gonet's net/http handlers with Go's: run tests/go/nethttp (Go's ServeMux,
//! FileServer, ServeFile and cookies behind httptest recorders) on a table, and print
//! gonet's recorder the way that program prints Go's.
//!
//! Include with `#[path = "util/go.rs"] mod go_util;` and
//! `#[path = "util/nethttp.rs"] mod nethttp;`.
#![allow(dead_code)]

use super::go_util::{Json, go_binary, parse_flat_object};
use gonet::net::http::httptest::ResponseRecorder;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// One answer: the fields Go printed (code, header, body; or out).
pub type Answer = BTreeMap<String, String>;

/// Runs tests/go/nethttp in `mode` (with `dir` as its directory argument, if any) on
/// `input`; one answer per input line that is not blank or a comment.
pub fn run_go(mode: &str, dir: Option<&str>, input: &str) -> Vec<Answer> {
    let bin = go_binary("tests/go/nethttp/main.go");
    let mut cmd = Command::new(&bin);
    cmd.arg(mode);
    if let Some(d) = dir {
        cmd.arg(d);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("feed the Go program");
    let out = child.wait_with_output().expect("wait for the Go program");
    assert!(
        out.status.success(),
        "nethttp {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("Go printed UTF-8")
        .lines()
        .map(|l| {
            parse_flat_object(l)
                .into_iter()
                .map(|(k, v)| match v {
                    Json::Str(s) => (k, s),
                    Json::Bool(b) => (k, b.to_string()),
                })
                .collect()
        })
        .collect()
}

/// The table's rows: lines that are not blank or comments, split at tabs.
pub fn rows(input: &str) -> Vec<Vec<&str>> {
    input
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect()
}

/// gonet's recorder as the Go program prints Go's: the code, the header as sorted
/// `Key: value` lines, the body.
pub fn answer(rec: &ResponseRecorder) -> Answer {
    let h = rec.result_header();
    let mut keys: Vec<&str> = h.keys().collect();
    keys.sort();
    let mut header = String::new();
    for k in keys {
        for v in h.values(k) {
            header.push_str(&format!("{k}: {v}\n"));
        }
    }
    let mut a = Answer::new();
    a.insert("code".into(), rec.code.to_string());
    a.insert("header".into(), header);
    a.insert(
        "body".into(),
        String::from_utf8_lossy(&rec.body).into_owned(),
    );
    a
}

/// A one-field answer (`out`), for the cookie modes.
pub fn out(s: impl Into<String>) -> Answer {
    let mut a = Answer::new();
    a.insert("out".into(), s.into());
    a
}

/// A Go 1.19 net/http server from tests/go/nethttp ("serve-mux", or "serve-fs" on
/// `dir`), on a loopback port; it exits when dropped (its standard input closes).
pub struct GoServer {
    pub addr: String,
    child: std::process::Child,
}

impl GoServer {
    pub fn start(mode: &str, dir: Option<&str>) -> GoServer {
        use std::io::BufRead;
        let bin = go_binary("tests/go/nethttp/main.go");
        let mut cmd = Command::new(&bin);
        cmd.arg(mode);
        if let Some(d) = dir {
            cmd.arg(d);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the Go server prints its address");
        let addr = line.trim().to_string();
        assert!(
            addr.parse::<std::net::SocketAddr>().is_ok(),
            "the Go server said {line:?}, not its address"
        );
        GoServer { addr, child }
    }
}

impl Drop for GoServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A gonet http::Server with `handler` on a loopback port, closed when dropped.
pub struct GonetServer {
    pub addr: String,
    srv: gonet::net::http::Server,
    serving: Option<may::coroutine::JoinHandle<std::io::Result<()>>>,
}

impl GonetServer {
    pub fn start(handler: impl gonet::net::http::Handler + 'static) -> GonetServer {
        let srv = gonet::net::http::Server::new().handler(handler);
        let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen on loopback");
        let addr = ln.addr().to_string();
        let s = srv.clone();
        let serving = Some(gonet::go!(move || s.serve(ln)));
        GonetServer { addr, srv, serving }
    }
}

impl Drop for GonetServer {
    fn drop(&mut self) {
        self.srv.close();
        if let Some(h) = self.serving.take() {
            let _ = h.join();
        }
    }
}

/// Sends `request` (a whole HTTP/1.1 request, `Connection: close`) to `addr` and reads
/// the answer to the end (bounded by a 10 s timeout), with the Date header's value
/// replaced by `DATE`.
pub fn exchange(addr: &str, request: &str) -> String {
    use std::io::Read;
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    c.write_all(request.as_bytes()).expect("send the request");
    let mut out = Vec::new();
    c.read_to_end(&mut out).expect("read the answer");
    let text = String::from_utf8_lossy(&out).into_owned();
    let mut norm = String::with_capacity(text.len());
    for (i, line) in text.split("\r\n").enumerate() {
        if i > 0 {
            norm.push_str("\r\n");
        }
        if line.starts_with("Date: ") {
            norm.push_str("Date: DATE");
        } else {
            norm.push_str(line);
        }
    }
    norm
}
