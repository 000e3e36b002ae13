//! The stress tool (gonet-stress): its engine run in-process against gonet servers,
//! the built binary driven as a subprocess, and its numbers cross-checked against two
//! independent clients (a Go echo client, and wrk for http).
//!
//! The heavy tests hold thousands of sockets on both ends in this one process, so they
//! take turns (`heavy()`): the descriptor limit (~19,000) fits one of them at a time.

#[path = "../../tests/util/go.rs"]
mod go_util;
#[path = "../../tests/util/mod.rs"]
mod util;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use gonet_stress as engine;
use gonet_stress::{Config, Live, Mode, Report};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// One heavy test at a time: each holds thousands of descriptors.
fn heavy() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// A gonet server for the tests: one coroutine per connection running `handler`; the
/// listener closes (and the accept loop ends) when this is dropped.
struct Server {
    ln: Arc<gonet::Listener>,
    /// The most connections open at once.
    peak: Arc<AtomicUsize>,
    /// Connections open now (their handlers still running).
    open: Arc<AtomicUsize>,
}

impl Server {
    fn start<H>(addr: &str, handler: H) -> Server
    where
        H: Fn(gonet::Conn, usize) + Send + Sync + 'static,
    {
        let network = engine::network_of(addr);
        let ln = Arc::new(gonet::listen(network, addr).expect("listen"));
        let (open, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let handler = Arc::new(handler);
        let (l2, o2, p2) = (ln.clone(), open.clone(), peak.clone());
        gonet::go!(move || {
            let mut n = 0usize;
            // Ends when the listener is closed (Server's drop).
            loop {
                match l2.accept() {
                    Ok(conn) => {
                        let (h, o, p, id) = (handler.clone(), o2.clone(), p2.clone(), n);
                        n += 1;
                        let now = o.fetch_add(1, Ordering::SeqCst) + 1;
                        p.fetch_max(now, Ordering::SeqCst);
                        gonet::go!(move || {
                            h(conn, id);
                            o.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                    Err(e) if gonet::is_closed(&e) => return,
                    // Temporary (EMFILE...): back off as net/http does.
                    Err(_) => gonet::time::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { ln, peak, open }
    }

    /// A TCP server on 127.0.0.1, port chosen by the kernel.
    fn tcp<H>(handler: H) -> Server
    where
        H: Fn(gonet::Conn, usize) + Send + Sync + 'static,
    {
        Server::start("127.0.0.1:0", handler)
    }

    fn addr(&self) -> String {
        self.ln.addr().to_string()
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.ln.close();
    }
}

/// Echoes with one byte of every chunk flipped: a server that answers wrong bytes.
fn corrupting_echo(conn: gonet::Conn, _id: usize) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            return;
        }
        buf[0] ^= 0x01;
        if conn.write(&buf[..n]).is_err() {
            return;
        }
    }
}

/// Reads and drops everything, never answers.
fn silent(conn: gonet::Conn, _id: usize) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            return;
        }
    }
}

/// A minimal HTTP/1.1 keep-alive responder on gonet, for the http mode:
/// - `/`          200, Content-Length body
/// - `/missing`   404
/// - `/chunked`   200, chunked body (two chunks and a trailer)
/// - `/mixed`     200 and 503 in turn on each connection
/// - `/close`     200 with `Connection: close`, then closes
/// - `/no-content` 204
fn http_responder(conn: gonet::Conn, _id: usize) {
    let mut buf = vec![0u8; 8192];
    let (mut start, mut end) = (0usize, 0usize);
    let mut served = 0u64;
    loop {
        // One request: up to the empty line (GETs have no body).
        let head_end = loop {
            if let Some(i) = buf[start..end].windows(4).position(|w| w == b"\r\n\r\n") {
                break start + i + 4;
            }
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            if end == buf.len() {
                return; // request too large for this test server
            }
            match conn.read(&mut buf[end..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => end += n,
            }
        };
        let head = String::from_utf8_lossy(&buf[start..head_end]).into_owned();
        start = head_end;
        let path = head.split(' ').nth(1).unwrap_or("/");
        served += 1;
        let body = "hello from gonet\n";
        let resp = match path {
            "/" => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            "/chunked" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 6\r\nhello \r\nb;ext=1\r\nfrom gonet\n\r\n0\r\nX-Trailer: yes\r\n\r\n"
                .to_string(),
            "/mixed" if served % 2 == 0 => {
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy".to_string()
            }
            "/mixed" => format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            "/close" => format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            "/no-content" => "HTTP/1.1 204 No Content\r\n\r\n".to_string(),
            _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_string(),
        };
        if conn.write(resp.as_bytes()).is_err() || path == "/close" {
            return;
        }
    }
}

/// Runs the engine in-process (preflight first, as the command line does).
fn run(cfg: &Config) -> Report {
    run_live(cfg).0
}

/// [`run`], also returning the live counters as the run left them.
fn run_live(cfg: &Config) -> (Report, Arc<Live>) {
    engine::preflight(cfg).unwrap_or_else(|e| panic!("preflight refused the run: {e}"));
    let started = Instant::now();
    let live = Arc::new(Live::new());
    let report = engine::run(cfg, live.clone());
    // The engine's own bound: the run never outlives duration + timeout (+1 s slack).
    let bound = cfg.duration + cfg.timeout + Duration::from_secs(2);
    assert!(
        started.elapsed() <= bound,
        "the run took {:?}, past its bound {bound:?}",
        started.elapsed()
    );
    eprintln!("{}", report.text());
    (report, live)
}

fn cfg(mode: Mode, addr: &str, conns: usize, duration: Duration) -> Config {
    Config {
        conns,
        duration,
        ..Config::new(mode, addr)
    }
}

/// The stress tool's binary, built once with this test's profile.
fn stress_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gonet-stress"))
}

/// Runs the binary to completion (it is bounded by its own deadlines).
fn run_bin(args: &[&str]) -> Output {
    Command::new(stress_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the stress binary")
}

/// The last line of `out`'s stdout, parsed as JSON.
fn last_json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line {last:?} is not JSON: {e}"))
}

/// The number of errors of `kind`.
fn kind(report: &Report, kind: &str) -> u64 {
    report.error_kinds.get(kind).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// The modes against gonet servers
// ---------------------------------------------------------------------------------------

#[test]
fn echo_2000_conns_no_errors_every_byte_checked() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let r = run(&cfg(Mode::Echo, &srv.addr(), 2000, Duration::from_secs(2)));
    assert_eq!(r.errors, 0, "errors: {:?}", r.error_kinds);
    assert_eq!(r.ok_conns, 2000);
    assert!(r.requests >= 2000, "only {} round trips", r.requests);
    assert_eq!(r.latency.len(), r.requests, "one latency per round trip");
    assert_eq!(r.bytes, r.requests * 2 * 64);
    assert_eq!(
        srv.peak(),
        2000,
        "the server saw all 2000 connections at once"
    );
    assert!(r.rps > 0.0 && r.quantile_us(0.5) <= r.quantile_us(0.99));
    assert!(r.is_clean());
}

#[test]
fn idle_holds_5000_conns_for_the_duration() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let started = Instant::now();
    // Each connection is held until the run's end, counted from its start: the hold
    // must outlast the slowest of the 5,000 dials (seconds on a loaded machine, when the
    // accept queue overflows and SYNs are retried) for all 5,000 to be up at once.
    let r = run(&Config {
        size: 16,
        ..cfg(Mode::Idle, &srv.addr(), 5000, Duration::from_secs(6))
    });
    assert_eq!(r.errors, 0, "errors: {:?}", r.error_kinds);
    assert_eq!(r.ok_conns, 5000, "held until the end");
    assert_eq!(r.requests, 5000, "one proof round trip each");
    assert_eq!(r.latency.len(), 5000, "one dial time each");
    assert_eq!(
        srv.peak(),
        5000,
        "the server held all 5000 at once (slowest dial {} µs)",
        r.quantile_us(1.0)
    );
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "held for the duration"
    );
}

#[test]
fn idle_counts_the_conns_the_server_drops() {
    let _g = heavy();
    // Answers the proof, then drops every other connection.
    let srv = Server::tcp(|c, id| {
        let mut buf = [0u8; 16];
        if c.read_full(&mut buf).is_err() || c.write(&buf).is_err() {
            return;
        }
        if id % 2 == 0 {
            util::echo(c);
        }
    });
    let r = run(&Config {
        size: 16,
        ..cfg(Mode::Idle, &srv.addr(), 200, Duration::from_secs(1))
    });
    assert_eq!(r.ok_conns, 100, "half were held");
    assert_eq!(kind(&r, "read: EOF"), 100, "errors: {:?}", r.error_kinds);
    assert_eq!(r.errors, 100);
    assert!(!r.is_clean());
}

#[test]
fn burst_3000_conns_dial_at_once() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let (r, live) = run_live(&cfg(Mode::Burst, &srv.addr(), 3000, Duration::from_secs(1)));
    assert_eq!(r.errors, 0, "errors: {:?}", r.error_kinds);
    assert_eq!(r.ok_conns, 3000);
    assert_eq!(r.requests, 3000, "one proof round trip each");
    assert_eq!(r.latency.len(), 3000, "one dial time each");
    let all = r.all_connected.expect("time to all connected");
    assert!(
        Duration::from_micros(r.max_us()) <= all + Duration::from_millis(1),
        "the slowest dial ({}us) is within the time to all connected ({all:?})",
        r.max_us()
    );
    assert_eq!(srv.peak(), 3000, "all 3000 were up at once");
    // The run returns with its sockets closed.
    assert_eq!(live.conns_up(), 0, "connections left open after the run");
    assert_eq!(live.dialed(), 3000);
}

#[test]
fn echo_reports_mismatches_from_a_server_that_answers_wrong_bytes() {
    let _g = heavy();
    let srv = Server::tcp(corrupting_echo);
    let r = run(&cfg(Mode::Echo, &srv.addr(), 50, Duration::from_secs(1)));
    assert_eq!(r.requests, 0, "no corrupted round trip counts as a request");
    assert!(
        r.errors >= 50,
        "each connection failed at least once: {:?}",
        r.error_kinds
    );
    assert_eq!(
        kind(&r, "echo: mismatch"),
        r.errors,
        "errors: {:?}",
        r.error_kinds
    );
    assert_eq!(r.ok_conns, 0);
    assert!(!r.is_clean());
}

#[test]
fn echo_counts_refused_dials_and_stops_on_time() {
    let _g = heavy();
    // A bound port nobody listens on refuses connections.
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    let addr = sock
        .local_addr()
        .expect("getsockname")
        .as_socket()
        .expect("an IP address");
    let r = run(&cfg(
        Mode::Echo,
        &addr.to_string(),
        10,
        Duration::from_millis(500),
    ));
    assert_eq!(r.requests, 0);
    assert!(r.errors >= 10, "errors: {:?}", r.error_kinds);
    assert_eq!(kind(&r, "dial: connection refused"), r.errors);
    // Back-off (10 ms doubling) keeps a refused dial from spinning: at most ~6 a conn.
    assert!(
        r.errors <= 10 * 8,
        "{} dials in 500 ms: no back-off",
        r.errors
    );
}

#[test]
fn echo_times_out_on_a_silent_server() {
    let _g = heavy();
    let srv = Server::tcp(silent);
    let r = run(&Config {
        timeout: Duration::from_millis(300),
        ..cfg(Mode::Echo, &srv.addr(), 20, Duration::from_millis(500))
    });
    assert_eq!(r.requests, 0);
    assert!(r.errors >= 20, "errors: {:?}", r.error_kinds);
    assert_eq!(
        kind(&r, "read: i/o timeout"),
        r.errors,
        "errors: {:?}",
        r.error_kinds
    );
}

#[test]
fn echo_over_unix_sockets_path_and_abstract() {
    let _g = heavy();
    let dir = util::TempDir::new("stress");
    for addr in [dir.sock("echo.sock"), util::abstract_name("stress")] {
        let srv = Server::start(&addr, |c, _| util::echo(c));
        let r = run(&Config {
            size: 100_000, // above the 32 KiB piece size: sent and checked in pieces
            ..cfg(Mode::Echo, &addr, 100, Duration::from_millis(500))
        });
        assert_eq!(r.errors, 0, "{addr}: errors: {:?}", r.error_kinds);
        assert_eq!(r.ok_conns, 100, "{addr}");
        assert!(r.requests >= 100, "{addr}: {} round trips", r.requests);
        assert_eq!(r.bytes, r.requests * 200_000);
        drop(srv);
    }
}

#[test]
fn rate_limit_keeps_the_open_loop_rate() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let r = run(&Config {
        rate: Some(2000.0),
        ..cfg(Mode::Echo, &srv.addr(), 20, Duration::from_secs(2))
    });
    assert_eq!(r.errors, 0, "errors: {:?}", r.error_kinds);
    // 2000/s for 2 s, staggered over the 20 conns: 4000 requests, give or take a few.
    assert!(
        (3900..=4000).contains(&r.requests),
        "{} requests at --rate 2000 for 2s",
        r.requests
    );
    assert!(
        (r.rps - 2000.0).abs() < 100.0,
        "{} req/s at --rate 2000",
        r.rps
    );
    assert_eq!(r.to_json()["rate"], 2000.0);
}

#[test]
fn http_counts_status_codes() {
    let _g = heavy();
    let srv = Server::tcp(http_responder);
    let get = |path: &str| {
        run(&Config {
            path: path.to_string(),
            ..cfg(Mode::Http, &srv.addr(), 20, Duration::from_millis(500))
        })
    };
    let only = |r: &Report, code: u16| {
        assert_eq!(r.errors, 0, "errors: {:?}", r.error_kinds);
        assert!(r.requests >= 20, "{} responses", r.requests);
        assert_eq!(r.statuses, BTreeMap::from([(code, r.requests)]));
    };

    let ok = get("/");
    only(&ok, 200);
    assert_eq!(ok.ok_conns, 20);
    assert_eq!(ok.non_2xx_3xx(), 0);

    let missing = get("/missing");
    only(&missing, 404);
    assert_eq!(
        missing.non_2xx_3xx(),
        missing.requests,
        "404s are counted, not errors"
    );

    only(&get("/chunked"), 200);
    only(&get("/no-content"), 204);

    let close = get("/close");
    only(&close, 200);
    assert!(close.requests > 20, "re-dialed after Connection: close");

    let mixed = get("/mixed");
    assert_eq!(mixed.errors, 0, "errors: {:?}", mixed.error_kinds);
    let (ok200, busy) = (mixed.statuses[&200], mixed.statuses[&503]);
    assert_eq!(ok200 + busy, mixed.requests);
    assert!(
        ok200.abs_diff(busy) <= 20,
        "alternating: {ok200} 200s, {busy} 503s"
    );
    assert_eq!(mixed.to_json()["status"]["503"], busy);
}

#[test]
fn http_reports_a_server_that_is_not_http() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let r = run(&cfg(Mode::Http, &srv.addr(), 5, Duration::from_millis(300)));
    assert_eq!(r.requests, 0);
    assert!(r.errors >= 5);
    assert_eq!(
        kind(&r, "http: malformed response (status line)"),
        r.errors,
        "errors: {:?}",
        r.error_kinds
    );
}

// ---------------------------------------------------------------------------------------
// Ctrl-C: ending a run early, with its numbers
// ---------------------------------------------------------------------------------------

/// Runs `cfg` (a long run) on a thread, calls `Live::interrupt` once `ready` says the
/// load is on, and returns the report and how long the run went on after the interrupt.
fn interrupted_run(cfg: Config, ready: impl Fn(&Live) -> bool) -> (Report, Duration) {
    engine::preflight(&cfg).unwrap_or_else(|e| panic!("preflight refused the run: {e}"));
    let live = Arc::new(Live::new());
    let l2 = live.clone();
    let run = std::thread::spawn(move || engine::run(&cfg, l2));
    assert!(
        util::eventually(Duration::from_secs(20), || ready(&live)),
        "the load never started"
    );
    assert!(live.interrupt(), "the first interrupt counts");
    assert!(!live.interrupt(), "a second one changes nothing");
    let at = Instant::now();
    let report = run.join().expect("the run");
    let after = at.elapsed();
    eprintln!("{}", report.text());
    (report, after)
}

#[test]
fn interrupt_ends_an_echo_run_with_the_numbers_so_far() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let c = cfg(Mode::Echo, &srv.addr(), 200, Duration::from_secs(120));
    let (report, after) = interrupted_run(c, |l| l.requests() >= 2_000);
    // Requests in flight finish (64-byte echoes take microseconds here); none start.
    assert!(
        after < Duration::from_secs(3),
        "the run went on for {after:?}"
    );
    assert!(report.interrupted.is_some());
    assert!(
        report.elapsed < Duration::from_secs(60),
        "{:?}",
        report.elapsed
    );
    assert!(report.requests >= 2_000, "{} requests", report.requests);
    assert_eq!(report.errors, 0, "{:?}", report.error_kinds);
    assert_eq!(report.ok_conns, 200);
    assert!(
        report.text().contains("interrupted after"),
        "{}",
        report.text()
    );
    assert_eq!(report.to_json()["interrupted"], true);
}

#[test]
fn interrupt_stops_idle_holding_at_once_and_counts_the_conns_as_held() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let c = cfg(Mode::Idle, &srv.addr(), 300, Duration::from_secs(120));
    // Each idle conn waits in a read whose deadline was the planned end, 2 minutes away.
    let (report, after) = interrupted_run(c, |l| l.conns_up() == 300);
    assert!(
        after < Duration::from_secs(3),
        "the run went on for {after:?}"
    );
    assert_eq!(report.ok_conns, 300, "{:?}", report.error_kinds);
    assert_eq!(report.errors, 0, "{:?}", report.error_kinds);
    // Closed on return, as at a planned end.
    assert!(
        util::eventually(Duration::from_secs(5), || srv.open() == 0),
        "{} conns still open on the server",
        srv.open()
    );
}

#[test]
fn interrupt_does_not_wait_for_a_slow_open_loop_turn() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    // 20 conns at 2 req/s in all: each conn's next turn is up to 10 s away.
    let c = Config {
        rate: Some(2.0),
        ..cfg(Mode::Echo, &srv.addr(), 20, Duration::from_secs(120))
    };
    let (report, after) = interrupted_run(c, |l| l.requests() >= 2);
    assert!(
        after < Duration::from_secs(2),
        "the run went on for {after:?}"
    );
    assert_eq!(report.errors, 0, "{:?}", report.error_kinds);
}

#[test]
fn binary_prints_the_summary_on_ctrl_c_and_exits_130() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let addr = srv.addr();
    let mut child = Command::new(stress_bin())
        .args(["echo", "--addr", &addr, "-c", "50", "-d", "120s", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the stress binary");
    assert!(
        util::eventually(Duration::from_secs(20), || srv.peak() == 50),
        "the binary never connected"
    );
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) with a valid pid and signal has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let mut status = None;
    assert!(
        util::eventually(Duration::from_secs(10), || {
            status = child.try_wait().expect("wait");
            status.is_some()
        }),
        "still running 10 s after Ctrl-C"
    );
    let status = status.expect("exited");
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = last_json(&out);
    assert_eq!(v["interrupted"], true, "{v}");
    assert!(
        v["interrupted_after_s"].as_f64().is_some_and(|s| s < 60.0),
        "{v}"
    );
    assert!(v["requests"].as_u64().is_some_and(|n| n > 0), "{v}");
    assert_eq!(v["errors"], 0, "{v}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Output and the command line
// ---------------------------------------------------------------------------------------

#[test]
fn json_report_has_the_fields() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let r = run(&cfg(
        Mode::Echo,
        &srv.addr(),
        10,
        Duration::from_millis(300),
    ));
    let text = r.to_json().to_string();
    let v: serde_json::Value = serde_json::from_str(&text).expect("the JSON parses");
    for field in [
        "mode",
        "conns",
        "ok_conns",
        "errors",
        "requests",
        "rps",
        "p50_us",
        "p99_us",
        "p999_us",
        "max_us",
        "p90_us",
        "error_kinds",
        "elapsed_s",
    ] {
        assert!(!v[field].is_null(), "field {field} missing in {text}");
    }
    assert_eq!(v["mode"], "echo");
    assert_eq!(v["conns"], 10);
    assert_eq!(v["ok_conns"], 10);
    assert_eq!(v["errors"], 0);
    assert_eq!(v["requests"], r.requests);
    let p = |f: &str| v[f].as_u64().unwrap_or_else(|| panic!("{f} is a number"));
    assert!(
        p("p50_us") <= p("p99_us") && p("p99_us") <= p("p999_us") && p("p999_us") <= p("max_us")
    );
    assert!(p("p50_us") > 0);
    let rps = v["rps"].as_f64().expect("rps is a number");
    let elapsed = v["elapsed_s"].as_f64().expect("elapsed_s is a number");
    assert!(
        (rps * elapsed - r.requests as f64).abs() < 1.0,
        "rps = requests / elapsed"
    );
}

#[test]
fn binary_prints_json_last_and_exits_0() {
    let _g = heavy();
    let srv = Server::tcp(|c, _| util::echo(c));
    let addr = srv.addr();
    let out = run_bin(&["echo", "--addr", &addr, "-c", "20", "-d", "500ms", "--json"]);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v = last_json(&out);
    assert_eq!(v["mode"], "echo");
    assert_eq!(v["conns"], 20);
    assert_eq!(v["ok_conns"], 20);
    assert_eq!(v["errors"], 0);
    assert!(v["requests"].as_u64().is_some_and(|n| n >= 20), "{v}");
    for field in ["rps", "p50_us", "p99_us", "p999_us", "max_us"] {
        assert!(v[field].is_number(), "{field} in {v}");
    }
    assert!(
        out.stderr.is_empty(),
        "no progress line when stderr is not a terminal"
    );
}

#[test]
fn binary_exits_1_and_names_the_mismatch() {
    let _g = heavy();
    let srv = Server::tcp(corrupting_echo);
    let addr = srv.addr();
    let out = run_bin(&["echo", "--addr", &addr, "-c", "5", "-d", "300ms"]);
    assert_eq!(out.status.code(), Some(1), "a failed run exits 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("echo: mismatch"), "summary: {text}");
    assert!(text.contains("p99.9"), "summary: {text}");
}

#[test]
fn binary_refuses_more_conns_than_the_fd_limit() {
    let _g = heavy();
    let (_, hard) = engine::nofile_limit().expect("getrlimit");
    let too_many = (hard + 1000).to_string();
    let srv = Server::tcp(|c, _| util::echo(c));
    let addr = srv.addr();
    let started = Instant::now();
    let out = run_bin(&["echo", "--addr", &addr, "-c", &too_many, "-d", "10s"]);
    assert_eq!(out.status.code(), Some(2), "refused before starting");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("limit is {hard}")), "message: {err}");
    assert!(err.contains("connections fit"), "message: {err}");
    assert_eq!(err.lines().count(), 1, "one clear line, not a flood: {err}");
    assert_eq!(srv.peak(), 0, "no connection was attempted");
}

#[test]
fn binary_help_explains_every_option() {
    let out = run_bin(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "echo",
        "idle",
        "burst",
        "http",
        "--addr",
        "--conns",
        "--duration",
        "--size",
        "--rate",
        "--json",
        "--path",
        "--timeout",
        "Examples:",
        "Unix socket",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn preflight_says_how_many_conns_fit() {
    let (_, hard) = engine::nofile_limit().expect("getrlimit");
    let c = Config {
        conns: (hard + 1) as usize,
        ..Config::new(Mode::Echo, "127.0.0.1:1")
    };
    let err = engine::preflight(&c).expect_err("more conns than descriptors");
    assert!(err.contains("at most"), "{err}");
    let fit: u64 = err
        .split("at most ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after 'at most': {err}"));
    assert!(fit > 0 && fit < hard, "{err}");
    // And the limit was raised to the hard limit on the way.
    assert_eq!(engine::nofile_limit().expect("getrlimit").0, hard);
    assert!(
        engine::preflight(&Config {
            conns: 10,
            ..c.clone()
        })
        .is_ok()
    );
    assert!(engine::preflight(&Config { conns: 0, ..c }).is_err());
}

#[test]
fn durations_parse_as_go_writes_them() {
    let ms = Duration::from_millis;
    for (text, want) in [
        ("10s", ms(10_000)),
        ("500ms", ms(500)),
        ("1m30s", ms(90_000)),
        ("1.5s", ms(1500)),
        ("2h", ms(7_200_000)),
        ("250us", Duration::from_micros(250)),
        ("3", ms(3000)),
    ] {
        assert_eq!(engine::parse_duration(text), Ok(want), "{text}");
    }
    for bad in ["", "s", "10x", "-1s", "25h", "1.2.3s", "ms10"] {
        assert!(
            engine::parse_duration(bad).is_err(),
            "{bad:?} should not parse"
        );
    }
}

#[test]
fn errors_group_by_go_text() {
    let refused = gonet::dial("tcp", "127.0.0.1:1").expect_err("port 1 refuses");
    assert_eq!(
        engine::error_kind("dial", &refused),
        "dial: connection refused"
    );
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    let c = gonet::dial("tcp", &ln.addr().to_string()).expect("dial");
    c.set_read_deadline(Some(Instant::now())).expect("deadline");
    let timeout = c.read(&mut [0u8; 1]).expect_err("deadline passed");
    assert_eq!(engine::error_kind("read", &timeout), "read: i/o timeout");
    c.close().expect("close");
    let closed = c.read(&mut [0u8; 1]).expect_err("closed");
    assert_eq!(
        engine::error_kind("read", &closed),
        "read: use of closed network connection"
    );
    assert_eq!(engine::network_of("/tmp/x.sock"), "unix");
    assert_eq!(engine::network_of("@abstract"), "unix");
    assert_eq!(engine::network_of("[::1]:80"), "tcp");
}

// ---------------------------------------------------------------------------------------
// Cross-checks against independent clients
// ---------------------------------------------------------------------------------------

/// Allowed disagreement between the stress tool's rate and an independent client's:
/// loose, because client and server share 2 cores, so each client's own CPU cost per
/// request moves the rate it can drive (the server-side counts below are the exact
/// check of honesty).
const MARGIN: f64 = 1.6;

/// Runs `ours` and `theirs` in turn, `rounds` times (adjacent runs see the same load on
/// this shared machine), and asserts the median of the per-round ratios is within
/// [`MARGIN`]: one round disturbed by another process cannot decide the outcome.
fn cross_check(
    what: &str,
    rounds: usize,
    mut ours: impl FnMut() -> f64,
    mut theirs: impl FnMut() -> f64,
) {
    let mut ratios = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        let (a, b) = (ours(), theirs());
        let ratio = a / b;
        eprintln!(
            "cross-check {what}, round {round}: stress {a:.0}/s, reference {b:.0}/s, ratio {ratio:.3}"
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    eprintln!("cross-check {what}: median ratio {median:.3} (rounds: {ratios:.3?})");
    assert!(
        (1.0 / MARGIN..=MARGIN).contains(&median),
        "{what}: stress and the reference disagree: median ratio {median:.3} over rounds \
         {ratios:.3?}, allowed {:.3}..{MARGIN}",
        1.0 / MARGIN
    );
}

/// Runs the stress binary with `--json`, checks it ran clean, returns its req/s.
fn bin_rps(args: &[&str]) -> f64 {
    bin_json(args)["rps"].as_f64().expect("rps is a number")
}

/// Runs the stress binary with `--json`, checks it ran clean, returns its report.
fn bin_json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run_bin(&all);
    let v = last_json(&out);
    eprintln!("stress {}: {v}", args.join(" "));
    assert_eq!(out.status.code(), Some(0), "stress {}: {v}", args.join(" "));
    v
}

/// Asserts a client's reported round trips match what the server counted: the server
/// can have echoed at most one message per connection that the client did not see.
fn assert_counts_agree(who: &str, reported: u64, server_bytes: u64, size: u64, conns: u64) {
    let served = server_bytes / size;
    assert!(
        reported <= served && served <= reported + conns,
        "{who} reported {reported} round trips, the server echoed {served}"
    );
}

#[test]
fn cross_check_echo_against_a_go_client() {
    let _g = heavy();
    // The server counts what it echoes: the ground truth both clients must report.
    let echoed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let e2 = echoed.clone();
    let srv = Server::tcp(move |c, _| {
        let mut buf = [0u8; 4096];
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 || c.write(&buf[..n]).is_err() {
                break;
            }
            e2.fetch_add(n as u64, Ordering::SeqCst);
        }
    });
    let count = move || echoed.load(Ordering::SeqCst);
    let count2 = count.clone();
    let addr = srv.addr();
    let main_go = go_util::manifest_dir().join("tests/go/echoclient/main.go");
    let (conns, secs) = (50usize, 2u64);
    // Compiled before the clock runs (go run caches the build).
    go_util::go_run(&main_go, &["-addr", &addr, "-c", "1", "-d", "50ms"], b"");
    cross_check(
        "echo vs Go client",
        3,
        || {
            let before = count();
            let v = bin_json(&[
                "echo",
                "--addr",
                &addr,
                "-c",
                &conns.to_string(),
                "-d",
                &format!("{secs}s"),
                "-s",
                "64",
            ]);
            let reported = v["requests"].as_u64().expect("requests");
            assert_counts_agree("stress", reported, count() - before, 64, conns as u64);
            v["rps"].as_f64().expect("rps")
        },
        || {
            let before = count2();
            let out = go_util::go_run(
                &main_go,
                &[
                    "-addr",
                    &addr,
                    "-c",
                    &conns.to_string(),
                    "-d",
                    &format!("{secs}s"),
                ],
                b"",
            );
            let v: serde_json::Value = serde_json::from_str(out.trim()).expect("Go client's JSON");
            assert_eq!(v["errors"], 0, "Go client errors: {v}");
            assert_eq!(v["ok_conns"], conns, "{v}");
            let reported = v["round_trips"].as_u64().expect("round_trips");
            assert_counts_agree("Go client", reported, count2() - before, 64, conns as u64);
            v["rps"].as_f64().expect("rps")
        },
    );
}

/// `wrk`: `$WRK` if set, else on PATH; a clear failure when missing (CI installs it).
fn wrk_tool() -> PathBuf {
    if let Some(w) = std::env::var_os("WRK").filter(|w| !w.is_empty()) {
        return PathBuf::from(w);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("wrk"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "wrk is not on PATH: this test cross-checks `stress http` against wrk. \
                 Install it (`apt-get install -y wrk`; CI installs it) or point $WRK at it"
            )
        })
}

/// wrk's "Requests/sec:" line.
fn wrk_rps(stdout: &str) -> f64 {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{stdout}"))
}

#[test]
fn cross_check_http_against_wrk() {
    let _g = heavy();
    let wrk = wrk_tool();
    let srv = Server::tcp(http_responder);
    let addr = srv.addr();
    let (conns, secs) = (50usize, 2u64);
    cross_check(
        "http vs wrk",
        3,
        || {
            let c = conns.to_string();
            bin_rps(&[
                "http",
                "--addr",
                &addr,
                "--path",
                "/",
                "-c",
                &c,
                "-d",
                &format!("{secs}s"),
            ])
        },
        || {
            let out = Command::new(&wrk)
                .args(["-t2", &format!("-c{conns}"), &format!("-d{secs}s")])
                .arg(format!("http://{addr}/"))
                .stdin(Stdio::null())
                .output()
                .expect("run wrk");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "wrk failed: {text}");
            assert!(!text.contains("Non-2xx"), "wrk saw errors: {text}");
            wrk_rps(&text)
        },
    );
}
