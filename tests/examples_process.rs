//! The porting kit's examples whose behaviour is the process's beside their Go twins:
//! graceful (shutdown on SIGTERM), goroutines (parking many), fanout (errgroup, exit
//! codes) and fleet (SO_REUSEPORT workers). The Rust example
//! (built with `cargo build --release --example NAME`) and examples/go/NAME.go (built with
//! `go build`) run as child processes, the same scripted client talks to both, and the
//! bytes that come back must be the same, and the ones the protocol defines (helpers in
//! tests/util/twins.rs).
//!
//! Run: `cargo test --release --test examples_process`.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

#[path = "util/twins.rs"]
mod twins;

use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use process::Server;
use twins::{Client, SCRIPT_LIMIT, go_twin, pattern, rust_example, start_twins, twins};

// ---------------------------------------------------------------------------------------
// graceful
// ---------------------------------------------------------------------------------------

/// Waits (bounded) until the server has printed `line`.
fn wait_for_line(s: &Server, line: &str) {
    let seen = util::eventually(Duration::from_secs(10), || {
        s.lines().iter().any(|l| l == line)
    });
    assert!(seen, "{line:?} not printed: {:?}", s.lines());
}

/// SIGTERM while a client is mid-transfer, grace 10 s: the listener closes (new dials are
/// refused), the client goes on and gets every byte it sent echoed, the server exits 0.
/// Returns the server's stderr lines, the address replaced by "ADDR".
fn graceful_drains(bin: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "10s"]);
    let mut s = Server::start(cmd);
    let addr = s.loopback();
    let mut c = Client::connect("tcp", &addr);
    // In flight: the first part is echoed before the signal.
    let first = pattern(20_000, 1);
    c.conn().write(&first).unwrap();
    let mut got = vec![0u8; first.len()];
    c.conn().read_full(&mut got).unwrap();
    assert!(got == first);

    s.signal(libc::SIGTERM);
    wait_for_line(&s, "graceful: shutting down");
    let err = gonet::dial("tcp", &addr).expect_err("a new conn after the signal");
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: connect: connection refused")
    );

    // The conn in flight is still served: more bytes, a half-close, all of it echoed.
    let second = pattern(30_000, 2);
    let conn = c.conn().clone();
    let to_send = second.clone();
    let writer = gonet::go!(move || -> std::io::Result<()> {
        conn.write(&to_send)?;
        conn.close_write()
    });
    let rest = c.rest();
    writer
        .join()
        .expect("writer")
        .expect("write and close_write");
    assert!(
        rest == second,
        "echoed {} bytes after the signal, sent {}",
        rest.len(),
        second.len()
    );
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    s.lines_without_addr()
}

/// SIGTERM with grace 300 ms while a client stays connected: after the grace period the
/// server closes it (the client reads EOF) and exits 0. Returns the stderr lines.
fn graceful_cuts_after_grace(bin: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "300ms"]);
    let mut s = Server::start(cmd);
    let mut c = Client::connect("tcp", &s.loopback());
    c.send("x");
    let mut b = [0u8; 1];
    c.conn().read_full(&mut b).unwrap();
    let t0 = Instant::now();
    s.signal(libc::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "it waited out the grace period"
    );
    assert_eq!(c.rest(), b"", "closed by the server");
    s.lines_without_addr()
}

const DRAINED: &[&str] = &[
    "graceful: listening on ADDR",
    "graceful: shutting down",
    "graceful: all connections finished",
];
const CUT: &[&str] = &[
    "graceful: listening on ADDR",
    "graceful: shutting down",
    "graceful: grace period over, closing 1 connections",
];

/// Both graceful twins: on SIGTERM mid-transfer the conn in flight gets every byte echoed,
/// new dials are refused, exit 0; with a short grace the straggler is cut; the same lines.
#[test]
fn graceful_twins_shut_down_the_same_way() {
    for bin in [rust_example("graceful"), go_twin("graceful")] {
        assert_eq!(graceful_drains(&bin), DRAINED, "{}", bin.display());
        assert_eq!(graceful_cuts_after_grace(&bin), CUT, "{}", bin.display());
    }
}

// ---------------------------------------------------------------------------------------
// goroutines: the same program parks the same number of goroutines
// ---------------------------------------------------------------------------------------

#[test]
fn goroutines_twins_park_and_finish_the_same() {
    // 100,000 need lightweight guard pages (Linux 6.13+); with mprotect guards every
    // stack is two mappings and about 32,700 fit the default vm.max_map_count.
    let many = match gonet::runtime::stack_guard() {
        gonet::runtime::StackGuard::Lightweight => "100000",
        _ => "20000",
    };
    for [rust, go] in [[many], ["1"]].map(|args| twins("goroutines", &args)) {
        let outs = [rust, go].map(|mut cmd| {
            let out = cmd.output().expect("run a goroutines twin");
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The measurements (stderr) differ; each names the same fields.
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            for key in [
                "oneoff_go_ns=",
                "burst_ns=",
                "rss_per_goroutine=",
                "maps=",
                "release_ms=",
            ] {
                assert!(
                    stderr.contains(key),
                    "{cmd:?} did not measure {key}: {stderr}"
                );
            }
            out.stdout
        });
        assert_eq!(
            String::from_utf8_lossy(&outs[0]),
            String::from_utf8_lossy(&outs[1])
        );
    }
}

// ---------------------------------------------------------------------------------------
// fanout: errgroup.WithContext fans out dials; the first failure cancels the rest
// ---------------------------------------------------------------------------------------

/// What the fanout backends have seen in the current run: OK backends whose client has
/// read its line and closed, silent backends whose client is connected and waiting.
#[derive(Default)]
struct FanoutSeen {
    ok_closed: usize,
    silent_accepted: usize,
    /// What fanout_err waits for in this run: (OK clients closed, silent clients waiting).
    want: (usize, usize),
}

type FanoutState = std::sync::Arc<(std::sync::Mutex<FanoutSeen>, std::sync::Condvar)>;

/// A backend on 127.0.0.1 that handles every connection with `serve` (a thread each);
/// returns its address. The listener lives as long as the test process.
fn fanout_backend(state: &FanoutState, serve: fn(std::net::TcpStream, &FanoutState)) -> String {
    let ln = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a backend");
    let addr = ln.local_addr().expect("backend address").to_string();
    let state = state.clone();
    std::thread::spawn(move || {
        for conn in ln.incoming().flatten() {
            let state = state.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(SCRIPT_LIMIT));
                serve(conn, &state)
            });
        }
    });
    addr
}

/// Waits (bounded) until the peer closes `conn`.
fn until_closed(mut conn: &std::net::TcpStream) {
    let _ = conn.read_to_end(&mut Vec::new());
}

/// Sends "OK <port>", then counts the client's close.
fn fanout_ok(mut conn: std::net::TcpStream, state: &FanoutState) {
    use std::io::Write;
    let port = conn.local_addr().map(|a| a.port()).unwrap_or(0);
    let _ = writeln!(conn, "OK port {port}");
    until_closed(&conn);
    let (seen, cv) = &**state;
    seen.lock().unwrap().ok_closed += 1;
    cv.notify_all();
}

/// Sends nothing: the client waits on its read until the group's context ends it.
fn fanout_silent(conn: std::net::TcpStream, state: &FanoutState) {
    {
        let (seen, cv) = &**state;
        seen.lock().unwrap().silent_accepted += 1;
        cv.notify_all();
    }
    until_closed(&conn);
}

/// Fails ("ERR overloaded") once every OK backend's client has closed and every silent
/// backend's client is waiting (the counts are the test's, set before each run), so the
/// failure is the first thing to end a dial or a read.
fn fanout_err(mut conn: std::net::TcpStream, state: &FanoutState) {
    use std::io::Write;
    let (seen, cv) = &**state;
    let guard = seen.lock().unwrap();
    let (ok, silent) = guard.want;
    let (_guard, timeout) = cv
        .wait_timeout_while(guard, SCRIPT_LIMIT, |s| {
            s.ok_closed < ok || s.silent_accepted < silent
        })
        .unwrap();
    assert!(
        !timeout.timed_out(),
        "the fanout's other backends never got their clients"
    );
    let _ = conn.write_all(b"ERR overloaded\n");
    until_closed(&conn);
}

/// Runs both fanout twins with `args`, one after the other (the backends count per run),
/// and returns what each printed on stdout and its exit code: [Rust, Go].
fn fanout_runs(state: &FanoutState, want: (usize, usize), args: &[String]) -> Vec<(String, i32)> {
    [
        rust_example("fanout"),
        go_util::go_binary_with_debian_lib("examples/go/fanout.go", "golang.org/x/sync"),
    ]
    .into_iter()
    .map(|bin| {
        *state.0.lock().unwrap() = FanoutSeen {
            want,
            ..FanoutSeen::default()
        };
        let mut cmd = Command::new(&bin);
        cmd.args(args);
        let (status, stdout) = process::run_capturing(cmd, process::Captured::Stdout, SCRIPT_LIMIT);
        (stdout, status.code().unwrap_or(-1))
    })
    .collect()
}

/// Both twins print `want` and exit with `code`.
fn assert_fanout(runs: &[(String, i32)], want: &str, code: i32) {
    assert_eq!(runs[0], runs[1], "the Rust fanout and its Go twin differ");
    assert_eq!(runs[0], (want.to_string(), code));
}

/// `out` with the cancel of `silent`'s dial written as the cancel of its read.
///
/// A silent backend has accepted its client once the kernel completed the handshake,
/// which can be before the client's poller has woken its dial: a cancel that lands in
/// that window ends the dial ("dial tcp ADDR: operation was canceled", Go's net.Dialer
/// checks its context as the connect returns) instead of the read ("context canceled").
/// Both are what the program does; no backend can see which one its client is in.
fn cancel_as_read(out: &(String, i32), silent: &str) -> (String, i32) {
    let dial = format!("{silent} dial tcp {silent}: operation was canceled\n");
    let read = format!("{silent} context canceled\n");
    (out.0.replace(&dial, &read), out.1)
}

fn fanout_state() -> FanoutState {
    Default::default()
}

#[test]
fn fanout_twins_print_every_backend_when_all_answer() {
    let state = fanout_state();
    let oks: Vec<String> = (0..3).map(|_| fanout_backend(&state, fanout_ok)).collect();
    let runs = fanout_runs(&state, (0, 0), &oks);
    let mut want = String::new();
    for a in &oks {
        let port = a.rsplit(':').next().unwrap();
        want += &format!("{a} OK port {port}\n");
    }
    want += "all 3 backends OK\n";
    assert_fanout(&runs, &want, 0);
}

#[test]
fn fanout_twins_first_error_cancels_the_other_dials_and_reads() {
    let state = fanout_state();
    let ok1 = fanout_backend(&state, fanout_ok);
    let silent = fanout_backend(&state, fanout_silent);
    let backlog = util::FullBacklog::new("127.0.0.1"); // a dial that never completes
    let hang = backlog.addr.to_string();
    let err = fanout_backend(&state, fanout_err);
    let ok2 = fanout_backend(&state, fanout_ok);
    let args = [&ok1, &silent, &hang, &err, &ok2].map(|a| a.to_string());
    // The ERR line comes once both OK backends are done and the silent one's client
    // waits: it is the group's first error, and it cancels the dial and the read.
    let runs: Vec<_> = fanout_runs(&state, (2, 1), &args)
        .iter()
        .map(|out| cancel_as_read(out, &silent))
        .collect();
    let port = |a: &str| a.rsplit(':').next().unwrap().to_string();
    let want = format!(
        "{ok1} OK port {}\n\
         {silent} context canceled\n\
         {hang} dial tcp {hang}: operation was canceled\n\
         {err} ERR overloaded\n\
         {ok2} OK port {}\n\
         fanout: {err}: ERR overloaded\n",
        port(&ok1),
        port(&ok2)
    );
    assert_fanout(&runs, &want, 1);
}

#[test]
fn fanout_twins_report_a_refused_dial_and_cancel_a_connecting_one() {
    let backlog = util::FullBacklog::new("127.0.0.1");
    let hang = backlog.addr.to_string();
    let refusing = util::Refusing::new("127.0.0.1");
    let refused = refusing.addr.to_string();
    let runs = fanout_runs(&fanout_state(), (0, 0), &[hang.clone(), refused.clone()]);
    let want = format!(
        "{hang} dial tcp {hang}: operation was canceled\n\
         {refused} dial tcp {refused}: connect: connection refused\n\
         fanout: dial tcp {refused}: connect: connection refused\n"
    );
    assert_fanout(&runs, &want, 1);
}

#[test]
fn fanout_twins_stop_every_read_at_the_deadline() {
    let state = fanout_state();
    let s1 = fanout_backend(&state, fanout_silent);
    let s2 = fanout_backend(&state, fanout_silent);
    let args = [
        "-timeout".to_string(),
        "1s".to_string(),
        s1.clone(),
        s2.clone(),
    ];
    let start = Instant::now();
    let runs = fanout_runs(&state, (0, 0), &args);
    let want = format!(
        "{s1} context deadline exceeded\n\
         {s2} context deadline exceeded\n\
         fanout: context deadline exceeded\n"
    );
    assert_fanout(&runs, &want, 1);
    // Two runs of a 1 s deadline, well short of the reads' own limits.
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "a run ended before its deadline"
    );
}

// ---------------------------------------------------------------------------------------
// fleet: N SO_REUSEPORT workers on one port
// ---------------------------------------------------------------------------------------

/// The workers' pids, from the parent's `fleet: worker I pid P` lines.
fn fleet_pids(s: &Server) -> Vec<u32> {
    s.lines()
        .iter()
        .filter_map(|l| l.strip_prefix("fleet: worker ")?.split_once(" pid "))
        .map(|(_, pid)| pid.parse().expect("a pid"))
        .collect()
}

/// 48 connections to the fleet: each gets `remote=<its own address> pid=<a worker's>`,
/// then has a pattern echoed. Returns the transcripts with the address and pid replaced
/// by `CLIENT` and `WORKER`, and how many connections each worker served.
fn fleet_script(s: &Server) -> (Vec<Vec<u8>>, std::collections::BTreeMap<u32, usize>) {
    let pids = fleet_pids(s);
    let mut per_pid = std::collections::BTreeMap::new();
    let mut transcripts = Vec::new();
    for i in 0..48 {
        let mut c = Client::connect("tcp", &s.loopback());
        let hello = c.line();
        let me = c.conn().local_addr().to_string();
        let pid = hello
            .strip_prefix(&format!("remote={me} pid="))
            .and_then(|p| p.trim_end().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("conn from {me} got {hello:?}"));
        assert!(pids.contains(&pid), "pid {pid} is not a worker of {pids:?}");
        *per_pid.entry(pid).or_insert(0) += 1;
        let (sent, got) = c.send_all_and_read_rest(vec![pattern(3000 + i * 100, i)]);
        assert!(
            got == sent,
            "conn {i}: {} bytes back of {}",
            got.len(),
            sent.len()
        );
        let mut t = b"remote=CLIENT pid=WORKER\n".to_vec();
        t.extend_from_slice(&got);
        transcripts.push(t);
    }
    (transcripts, per_pid)
}

/// Both fleet twins with 4 workers: the parent names 4 distinct worker pids, then
/// listens; every connection is greeted with its own address and a worker's pid and is
/// echoed byte for byte; the kernel spreads the 48 connections over more than one worker;
/// SIGTERM stops the workers and the parent exits 0 with `fleet: stopped`. The twins'
/// transcripts and lines are the same, pids and ports aside.
#[test]
fn fleet_twins_spread_connections_over_reuseport_workers() {
    let mut results = Vec::new();
    for mut s in start_twins("fleet", &["127.0.0.1:0", "4"]) {
        let pids = fleet_pids(&s);
        let distinct: std::collections::BTreeSet<_> = pids.iter().collect();
        assert_eq!(distinct.len(), 4, "{:?}", s.lines());
        let (transcripts, per_pid) = fleet_script(&s);
        assert!(
            per_pid.len() > 1,
            "all 48 connections went to one worker: {per_pid:?}"
        );
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(15)).expect("exits");
        assert_eq!(status.code(), Some(0), "{:?}", s.lines());
        for pid in &pids {
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "worker {pid} outlived the fleet"
            );
        }
        let lines: Vec<String> = s
            .lines_without_addr()
            .iter()
            // env_logger's lines (the runtime's warnings on a loaded machine) aside.
            .filter(|l| !l.starts_with('['))
            .map(|l| match l.split_once(" pid ") {
                Some((head, _)) => format!("{head} pid PID"),
                None => l.clone(),
            })
            .collect();
        results.push((transcripts, lines));
    }
    assert_eq!(
        results[0].1,
        [
            "fleet: worker 0 pid PID",
            "fleet: worker 1 pid PID",
            "fleet: worker 2 pid PID",
            "fleet: worker 3 pid PID",
            "fleet: listening on ADDR",
            "fleet: stopped",
        ]
    );
    assert_eq!(results[0].1, results[1].1, "the twins' lines");
    assert!(
        results[0].0 == results[1].0,
        "the twins' transcripts differ"
    );
}

/// Both fleet twins behind a (scripted) load balancer: `--proxy-protocol` makes every
/// worker require a PROXY protocol header, and the greeting names the client address the
/// header carries (v1 here, v2 in tests/haproxy.rs), not the balancer's; the bytes after
/// the header are echoed. A connection that sends no header gets no greeting.
#[test]
fn fleet_twins_with_proxy_protocol_greet_the_address_the_header_carries() {
    let mut results = Vec::new();
    for mut s in start_twins("fleet", &["127.0.0.1:0", "2", "--proxy-protocol"]) {
        let pids = fleet_pids(&s);
        let mut transcripts = Vec::new();
        for i in 0..8u32 {
            let mut c = Client::connect("tcp", &s.loopback());
            let header = format!(
                "PROXY TCP4 192.0.2.{} 198.51.100.7 {} 8080\r\n",
                i + 1,
                5000 + i
            );
            let body = format!("hello {i}\n");
            c.send(&format!("{header}{body}"));
            let hello = c.line();
            let want = format!("remote=192.0.2.{}:{} pid=", i + 1, 5000 + i);
            let pid = hello
                .strip_prefix(&want)
                .and_then(|p| p.trim_end().parse::<u32>().ok())
                .unwrap_or_else(|| panic!("conn {i} got {hello:?}, want {want}PID"));
            assert!(pids.contains(&pid), "pid {pid} is not a worker of {pids:?}");
            assert_eq!(
                c.line(),
                body,
                "conn {i}: the bytes after the header, echoed"
            );
            transcripts.push(hello.replace(&pid.to_string(), "WORKER"));
        }
        // No header: the worker never greets it (gonet closes it; go-proxyproto fails
        // the first read): no "remote=" line arrives.
        let mut bare = Client::connect("tcp", &s.loopback());
        bare.conn()
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(15)))
            .unwrap();
        bare.send("hello without a header\n");
        let got = bare.rest();
        assert!(
            !String::from_utf8_lossy(&got).contains("remote="),
            "a connection without a header was greeted: {got:?}"
        );
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(15)).expect("exits");
        assert_eq!(status.code(), Some(0), "{:?}", s.lines());
        results.push(transcripts);
    }
    assert_eq!(results[0], results[1], "the twins' greetings");
}
