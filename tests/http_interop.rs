//! gonet::net::http with clients nobody here wrote: curl, Python's http.client, ab, wrk
//! and Go's net/http client; a slowloris client cut by `read_header_timeout`; 10,000
//! keep-alive connections held by one server; graceful shutdown and hijacking.

mod util;

#[path = "util/go.rs"]
mod go_util;

use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet::net::http::{self, Request, ResponseWriter};

/// The app every client talks to.
fn app(peers: Arc<Mutex<Vec<String>>>) -> impl http::Handler {
    move |w: &mut dyn ResponseWriter, r: &mut Request| match r.url.path.as_str() {
        "/echo" => {
            let mut b = Vec::new();
            match r.body.read_to_end(&mut b) {
                Ok(_) => {
                    let _ = write!(
                        w,
                        "len={} te={:?} sum={}",
                        b.len(),
                        r.transfer_encoding,
                        b.iter().map(|&x| u64::from(x)).sum::<u64>()
                    );
                }
                Err(e) => http::error(w, &e.to_string(), 400),
            }
        }
        "/slow" => {
            gonet::time::sleep(Duration::from_millis(300));
            let _ = w.write(b"slow done");
        }
        "/hijack" => {
            let (conn, rest) = w.hijack().expect("hijack");
            let _ = conn.write(format!("RAW {} buffered\n", rest.len()).as_bytes());
            let _ = conn.close();
        }
        _ => {
            peers.lock().unwrap().push(r.remote_addr.clone());
            w.header().set("Content-Type", "text/plain; charset=utf-8");
            let _ = w.write(b"Hello, World!");
        }
    }
}

struct Running {
    addr: String,
    srv: http::Server,
    serving: Option<may::coroutine::JoinHandle<std::io::Result<()>>>,
    peers: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn start(srv: http::Server) -> Running {
        util::init();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let srv = srv.handler(app(peers.clone()));
        let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
        let addr = ln.addr().to_string();
        let s = srv.clone();
        let serving = Some(gonet::go!(move || s.serve(ln)));
        Running {
            addr,
            srv,
            serving,
            peers,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.srv.close();
        if let Some(h) = self.serving.take() {
            let _ = h.join();
        }
    }
}

/// Runs a command to its end (bounded by its own timeouts); returns (ok, stdout, stderr).
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_file(tag: &str, len: usize) -> (util::TempDir, String, u64) {
    let dir = util::TempDir::new(tag);
    let path = dir.sock("payload.bin");
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let sum = data.iter().map(|&x| u64::from(x)).sum();
    (dir, path, sum)
}

#[test]
fn curl_keeps_the_connection_alive() {
    let s = Running::start(http::Server::new());
    let (ok, out, err) =
        run(Command::new("curl").args(["-sS", "--max-time", "20", &s.url("/"), &s.url("/?again")]));
    assert!(ok, "{err}");
    assert_eq!(out, "Hello, World!Hello, World!");
    let peers = s.peers.lock().unwrap().clone();
    assert_eq!(peers.len(), 2);
    assert_eq!(
        peers[0], peers[1],
        "curl opened a second connection: {peers:?}"
    );
}

#[test]
fn curl_uploads_a_file_with_content_length_and_chunked() {
    let s = Running::start(http::Server::new());
    let (_dir, path, sum) = temp_file("curl-upload", 300_000);
    let data = format!("@{path}");
    let (ok, out, err) = run(Command::new("curl").args([
        "-sS",
        "--max-time",
        "20",
        "--data-binary",
        &data,
        &s.url("/echo"),
    ]));
    assert!(ok, "{err}");
    assert_eq!(out, format!("len=300000 te=[] sum={sum}"));
    let (ok, out, err) = run(Command::new("curl").args([
        "-sS",
        "--max-time",
        "20",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &data,
        &s.url("/echo"),
    ]));
    assert!(ok, "{err}");
    assert_eq!(out, format!("len=300000 te=[\"chunked\"] sum={sum}"));
}

#[test]
fn python_http_client_reuses_its_connection() {
    let s = Running::start(http::Server::new());
    let script = format!(
        r#"
import http.client
c = http.client.HTTPConnection("127.0.0.1", {port}, timeout=20)
c.request("GET", "/")
r = c.getresponse()
print(r.status, r.getheader("Content-Type"), r.read().decode())
c.request("POST", "/echo", body=b"x" * 70000, headers={{"Content-Type": "application/octet-stream"}})
r = c.getresponse()
print(r.status, r.read().decode())
c.request("GET", "/")
r = c.getresponse()
print(r.status, r.read().decode())
"#,
        port = s.addr.rsplit(':').next().unwrap()
    );
    let (ok, out, err) = run(Command::new("python3").args(["-c", &script]));
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!(
            "200 text/plain; charset=utf-8 Hello, World!\n200 len=70000 te=[] sum={}\n200 Hello, World!\n",
            120 * 70000
        )
    );
    let peers = s.peers.lock().unwrap().clone();
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0], peers[1]);
}

#[test]
fn go_net_http_client_gets_and_posts_chunked() {
    let s = Running::start(http::Server::new());
    let client = go_util::go_binary("tests/go/httpclient/main.go");
    let (ok, out, err) = run(Command::new(&client).args(["get", &s.url("/")]));
    assert!(ok, "{out}{err}");
    assert_eq!(out, "200\nHello, World!");
    let (ok, out, err) = run(Command::new(&client).args(["post", &s.url("/echo"), "hello gopher"]));
    assert!(ok, "{out}{err}");
    let sum: u64 = b"hello gopher".iter().map(|&b| u64::from(b)).sum();
    assert_eq!(out, format!("200\nlen=12 te=[\"chunked\"] sum={sum}"));
}

#[test]
fn ab_with_keep_alive_completes_every_request() {
    let s = Running::start(http::Server::new());
    let (ok, out, err) = run(Command::new("ab").args([
        "-q",
        "-k",
        "-n",
        "2000",
        "-c",
        "20",
        "-s",
        "20",
        &s.url("/"),
    ]));
    assert!(ok, "{out}{err}");
    assert!(out.contains("Complete requests:      2000"), "{out}");
    assert!(out.contains("Failed requests:        0"), "{out}");
    assert!(out.contains("Keep-Alive requests:    2000"), "{out}");
}

#[test]
fn wrk_sees_no_errors() {
    let s = Running::start(http::Server::new());
    let (ok, out, err) =
        run(Command::new("timeout").args(["60", "wrk", "-t1", "-c20", "-d1s", &s.url("/")]));
    assert!(ok, "{out}{err}");
    assert!(out.contains("requests in"), "{out}");
    assert!(!out.contains("Socket errors"), "{out}");
    assert!(!out.contains("Non-2xx"), "{out}");
}

#[test]
fn slowloris_is_cut_by_read_header_timeout() {
    let s = Running::start(http::Server::new().read_header_timeout(Duration::from_millis(300)));
    let c = gonet::dial("tcp", &s.addr).unwrap();
    c.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    let start = Instant::now();
    let mut w = c.clone();
    w.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    // Trickle one byte every 50 ms from another coroutine, for up to 5 s.
    let trickle = gonet::go!(move || {
        for _ in 0..100 {
            gonet::time::sleep(Duration::from_millis(50));
            if w.write_all(b"x").is_err() {
                return;
            }
        }
    });
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf).unwrap_or(0);
    let took = start.elapsed();
    assert_eq!(
        n,
        0,
        "the server answered a half-sent header: {:?}",
        &buf[..n]
    );
    assert!(took >= Duration::from_millis(250), "cut after {took:?}");
    assert!(took < Duration::from_secs(5), "not cut: {took:?}");
    let _ = c.close();
    let _ = trickle.join();
}

#[test]
fn ten_thousand_keep_alive_connections_are_held() {
    let s = Running::start(http::Server::new());
    let client = go_util::go_binary("tests/go/httpclient/main.go");
    let (ok, out, err) = run(Command::new("timeout")
        .arg("300")
        .arg(&client)
        .args(["hold", &s.addr, "10000"]));
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "held 10000");
    assert_eq!(s.peers.lock().unwrap().len(), 20_000);
}

#[test]
fn shutdown_waits_for_the_busy_and_closes_the_idle() {
    let s = Running::start(http::Server::new());
    // One idle keep-alive connection...
    let mut idle = gonet::dial("tcp", &s.addr).unwrap();
    idle.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    // ... and one busy with a slow handler.
    let mut busy = gonet::dial("tcp", &s.addr).unwrap();
    busy.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    gonet::time::sleep(Duration::from_millis(50));
    let start = Instant::now();
    s.srv.shutdown_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "did not wait for /slow"
    );
    let mut resp = Vec::new();
    let _ = busy.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("Connection: close\r\n"), "{resp}");
    assert!(resp.ends_with("slow done"), "{resp}");
    assert_eq!(
        idle.read(&mut buf).unwrap_or(0),
        0,
        "the idle connection stayed open"
    );
    let err = s.srv.listen_and_serve().unwrap_err();
    assert_eq!(http::Error::of(&err), Some(http::Error::ServerClosed));
}

#[test]
fn shutdown_times_out_with_go_s_error() {
    let s = Running::start(http::Server::new());
    let mut busy = gonet::dial("tcp", &s.addr).unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    gonet::time::sleep(Duration::from_millis(50));
    let err = s
        .srv
        .shutdown_timeout(Duration::from_millis(20))
        .unwrap_err();
    assert_eq!(err.to_string(), "context deadline exceeded");
}

#[test]
fn hijack_hands_over_the_connection_and_its_buffered_bytes() {
    let s = Running::start(http::Server::new());
    let mut c = gonet::dial("tcp", &s.addr).unwrap();
    c.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    c.write_all(b"GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nextra")
        .unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert_eq!(out, "RAW 5 buffered\n");
}
