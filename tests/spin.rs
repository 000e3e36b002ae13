//! Coroutines that never park: the rest of the server goes on, the spinner is reported,
//! and GONETDEBUG=spinabort ends a wedged process. Every server runs in a child process
//! (this test binary again, in a role), since a coroutine spinning forever would
//! outlive a test in the shared test process. Each child runs may's default of two
//! workers here (set explicitly, so that a machine with more cores runs the same test).
//!
//! - `one_spinner_*`, `two_spinners_*`: a handler that spins forever (no park, no system
//!   call) on one, then on both workers; right after, 1,000 fresh connections, one after
//!   another, are all answered (p99 printed, and bounded), and a connection opened before
//!   the spin is still served. With the accept loop on a plain thread (the README's
//!   server) and in a coroutine.
//! - `the_warning_reports_the_spinning_coroutine`: a log::warn! names how long and the
//!   worker, once per episode; `gonet::runtime` counts it.
//! - `the_warnings_name_the_go_site`: the warnings name the handler's go! line in this
//!   file, also when may resumed the handler (a wait on may's own channel), which leaves
//!   the thread's last recorded site another coroutine's.
//! - `a_blocking_call_on_a_worker_is_contained_too`: `std::thread::sleep` in a handler,
//!   not through the blocking pool: reported as a blocking system call, others served.
//! - `a_spinner_after_a_sleep_does_not_stop_the_timers`: may's own sleep resumes a
//!   coroutine on may's timer thread; gonet's does not, so timers go on.
//! - `spinabort_aborts_with_a_stack_report`: GONETDEBUG=spinabort=300ms: SIGABRT, and on
//!   stderr the report with the spinning function in the stack.
//! - `mays_routing_is_what_the_rescue_assumes`: with gonet's watchdog off
//!   (GONETDEBUG=sysmon=0), the bug is there: with one spinner, exactly the
//!   connections whose descriptor is the stuck worker's modulo 2 hang. If may changes how
//!   it assigns descriptors to workers, this fails loudly: runtime/proc.rs and
//!   runtime/netpoll.rs rely on it (may is pinned to =0.3.51 in Cargo.toml).

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use util::server as server_util;
use util::server::{Child, say};

// ---------------------------------------------------------------------------------------
// Child side: a line server whose handlers can be told to misbehave
// ---------------------------------------------------------------------------------------

/// Spins forever: no park, no system call.
#[inline(never)]
fn spin_forever() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

/// One connection: each line is answered by itself, except the commands.
/// Set in the "thread-greet" role: each handler first says its descriptor.
static GREET_FD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn handle(conn: gonet::Conn) {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&conn);
    if GREET_FD.load(std::sync::atomic::Ordering::Relaxed)
        && (&conn).write_all(format!("{fd}\n").as_bytes()).is_err()
    {
        return;
    }
    let mut r = BufReader::new(&conn);
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim();
        if matches!(
            cmd,
            "SPIN" | "BLOCK" | "SLEEP-THEN-SPIN" | "MAYWAIT-THEN-SPIN"
        ) {
            // Said before misbehaving, so that the client knows the spin has begun.
            let _ = (&conn).write_all(format!("OK {cmd}\n").as_bytes());
        }
        match cmd {
            "SPIN" => spin_forever(),
            // A blocking call made on the worker itself (not through the pool).
            "BLOCK" => std::thread::sleep(Duration::from_secs(60)),
            "SLEEP-THEN-SPIN" => {
                gonet::time::sleep(Duration::from_millis(2));
                spin_forever()
            }
            "MAYWAIT-THEN-SPIN" => {
                // A wait on may's own channel, which gonet's scheduling points do not
                // see: another coroutine runs on the worker meanwhile and this one is
                // resumed by may, so the thread's last recorded site is not this
                // coroutine's (the warning must still name this one).
                let (tx, rx) = may::sync::mpsc::channel::<()>();
                drop(gonet::go!(move || {
                    gonet::time::sleep(Duration::from_millis(2));
                    let _ = tx.send(());
                }));
                let _ = rx.recv();
                spin_forever()
            }
            _ => {
                if (&conn).write_all(line.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

/// The child server. `role`: "thread" (accept loop on a plain thread, as in README) or
/// "co" (in a coroutine); GONETDEBUG comes from the role's suffix, set before gonet
/// starts.
fn child_main(accept_in_coroutine: bool) {
    let _ = env_logger::builder().format_timestamp(None).try_init();
    gonet::runtime::set_max_procs(2);
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    say(&format!("ADDR {}", ln.addr()));
    let accept = move || {
        while let Ok(conn) = ln.accept() {
            gonet::go!(move || handle(conn));
        }
    };
    if accept_in_coroutine {
        gonet::go!(accept);
    } else {
        std::thread::spawn(accept);
    }
    server_util::child_commands(|cmd| match cmd {
        "stats" => say(&format!(
            "STATS spinning={} reports={}",
            gonet::runtime::num_spinning(),
            gonet::runtime::spin_reports()
        )),
        "bump" => {
            // One coroutine spawned from this plain thread: may hands it to the next
            // worker's global queue in turn, which shifts which worker the next accepted
            // connection's handler lands on (mays_routing_is_what_the_rescue_assumes).
            drop(gonet::go!(|| {}));
            say("BUMPED");
        }
        "timer" => {
            // Ten 5 ms sleeps in a coroutine, timed.
            let h = gonet::go!(|| {
                let start = Instant::now();
                for _ in 0..10 {
                    gonet::time::sleep(Duration::from_millis(5));
                }
                start.elapsed()
            });
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(h.join());
            });
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(Ok(d)) => say(&format!("TIMER {}", d.as_millis())),
                _ => say("TIMER stuck"),
            }
        }
        _ => {}
    });
}

#[test]
#[ignore = "child process of the tests in this file"]
fn child_server() {
    let Ok(role) = std::env::var("GONET_CHILD") else {
        return;
    };
    let Some(rest) = role.strip_prefix("spin-") else {
        return;
    };
    let (mode, debug) = rest.split_once(':').unwrap_or((rest, ""));
    if !debug.is_empty() {
        // Read once, when gonet's scheduler starts: before anything here touches gonet.
        // SAFETY: the child runs this one test on the harness's only thread
        // (--test-threads=1), before gonet starts a thread: nothing reads the
        // environment meanwhile.
        unsafe { std::env::set_var("GONETDEBUG", debug) };
    }
    GREET_FD.store(mode == "thread-greet", std::sync::atomic::Ordering::Relaxed);
    child_main(mode == "co");
}

// ---------------------------------------------------------------------------------------
// Parent side
// ---------------------------------------------------------------------------------------

fn start(mode: &str, debug: &str) -> (Child, String) {
    let role = if debug.is_empty() {
        format!("spin-{mode}")
    } else {
        format!("spin-{mode}:{debug}")
    };
    let child = Child::spawn(&role, "child_server", None);
    let addr = child.expect_line("ADDR ", Duration::from_secs(60));
    (child, addr)
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `cmd` on a connection of its own, which is then left to its fate; returns once
/// the handler has said it is about to misbehave.
fn misbehave(addr: &str, cmd: &str) -> TcpStream {
    let mut s = connect(addr);
    s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
    // (A greeting may come first: the "thread-greet" role.)
    let want = format!("OK {cmd}");
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    while line.trim_end() != want {
        line.clear();
        match r.read_line(&mut line) {
            Ok(n) if n > 0 => {}
            other => panic!("no {want:?} from the handler: {other:?}"),
        }
    }
    s
}

/// One line round trip on `s`; its time, or None if no answer came.
fn trip(s: &mut TcpStream, msg: &str) -> Option<Duration> {
    let start = Instant::now();
    s.write_all(format!("{msg}\n").as_bytes()).ok()?;
    let mut back = vec![0u8; msg.len() + 1];
    s.read_exact(&mut back).ok()?;
    (back == format!("{msg}\n").as_bytes()).then(|| start.elapsed())
}

/// Unanswered connections in a row (3 s each) after which the server is taken to have
/// stopped serving: the test fails in seconds rather than at the deadline.
const HUNG_AFTER: usize = 5;

/// `n` fresh connections, one after another, each dialed, asked one line, closed:
/// (answered, sorted latencies including the dial). Stops early, after 120 s or
/// [`HUNG_AFTER`] unanswered connections in a row.
fn fresh_connections(addr: &str, n: usize) -> (usize, Vec<Duration>) {
    let mut lat = Vec::with_capacity(n);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut unanswered = 0;
    for i in 0..n {
        if Instant::now() > deadline || unanswered == HUNG_AFTER {
            eprintln!("stopped after {i} connections ({unanswered} unanswered in a row)");
            break;
        }
        let start = Instant::now();
        let mut s = connect(addr);
        if trip(&mut s, &format!("ping {i}")).is_some() {
            lat.push(start.elapsed());
            unanswered = 0;
        } else {
            unanswered += 1;
        }
    }
    lat.sort();
    (lat.len(), lat)
}

fn p99(lat: &[Duration]) -> Duration {
    lat.get(lat.len() * 99 / 100).copied().unwrap_or_default()
}

/// The bound: every connection answered, p99 under 100 ms (on a quiet machine;
/// loaded shared machines get this much more).
const P99_BOUND: Duration = Duration::from_millis(250);

fn spinners_leave_the_rest_served(mode: &str, spinners: usize) {
    let (mut child, addr) = start(mode, "");
    let mut before = connect(&addr);
    // Two trips before the spin. A connection's first park registers it with its
    // worker's poller, and the registration reports the socket writable at that worker's
    // next poll: one wake-up of the parked handler that nothing asked for. Were it to
    // come in the same poll as a spinner's, may would queue it behind the spinner, and
    // with every worker stuck nobody could take it from there (the limitation
    // docs/PORTING.md states). By the second answer that wake-up has come and gone, so
    // what is asserted below is what gonet promises: an idle connection stays served.
    assert!(trip(&mut before, "before").is_some());
    assert!(trip(&mut before, "before again").is_some());
    let _spinning: Vec<TcpStream> = (0..spinners).map(|_| misbehave(&addr, "SPIN")).collect();
    // No wait for the watchdog: the first connections come while it has not noticed yet.
    let (answered, lat) = fresh_connections(&addr, 1000);
    eprintln!(
        "{spinners} spinner(s), accept loop in a {mode}: {answered}/1000 answered, p50 {:?}, p99 {:?}, max {:?}",
        lat.get(lat.len() / 2).copied().unwrap_or_default(),
        p99(&lat),
        lat.last().copied().unwrap_or_default()
    );
    assert_eq!(
        answered,
        1000,
        "fresh connections not answered; stderr: {}",
        child.stderr_text()
    );
    assert!(p99(&lat) < P99_BOUND, "p99 {:?}", p99(&lat));
    assert!(
        trip(&mut before, "after").is_some(),
        "a connection opened before the spin is no longer served; stderr: {}",
        child.stderr_text()
    );
    // Every spinner is reported, and in the end exactly the spinners' threads count as
    // stuck. sysmon judges a thread once it has had the CPU for half of SPIN_AFTER (or
    // slept that long in one system call): a spinner that a rescue thread runs competes
    // for the two cores with both spinning workers, so on a loaded machine its report
    // can come after the 1,000 connections. With two spinners on two cores the machine
    // is overloaded by design, and a rescue thread that waits that long for a core or
    // for a lock a preempted thread holds is reported too, for as long as it waits:
    // with one spinner, exactly one report; with two, at least one per spinner.
    let mut stats = String::new();
    let judged = format!("spinning={spinners} ");
    util::eventually(Duration::from_secs(10), || {
        child.send("stats");
        stats = child.expect_line("STATS ", Duration::from_secs(10));
        stats.starts_with(&judged)
    });
    let reports: usize = stats
        .rsplit_once("reports=")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0);
    let reported = if spinners == 1 {
        reports == 1
    } else {
        reports >= spinners
    };
    assert!(
        stats.starts_with(&judged) && reported,
        "stats {stats:?} (want spinning={spinners}, one report per spinner); stderr: {}",
        child.stderr_text()
    );
    assert!(child.alive());
}

#[test]
fn one_spinner_accept_on_a_thread() {
    spinners_leave_the_rest_served("thread", 1);
}

#[test]
fn one_spinner_accept_in_a_coroutine() {
    spinners_leave_the_rest_served("co", 1);
}

#[test]
fn two_spinners_accept_on_a_thread() {
    spinners_leave_the_rest_served("thread", 2);
}

#[test]
fn two_spinners_accept_in_a_coroutine() {
    spinners_leave_the_rest_served("co", 2);
}

/// Waits for a stderr line of the child containing `needle`.
fn wait_stderr(child: &Child, needle: &str, limit: Duration) -> String {
    let mut found = None;
    let ok = util::eventually(limit, || {
        found = child.stderr_matching(needle).into_iter().next();
        found.is_some()
    });
    assert!(
        ok,
        "no {needle:?} in the child's stderr:\n{}",
        child.stderr_text()
    );
    found.unwrap_or_default()
}

/// The line of this file where `handle` is spawned with go!.
fn go_line() -> usize {
    let src = include_str!("spin.rs");
    1 + src
        .lines()
        .position(|l| l.contains("gonet::go!(move || handle(conn));"))
        .expect("the go! line")
}

#[test]
fn the_warning_reports_the_spinning_coroutine() {
    let (mut child, addr) = start("thread", "");
    let _spinner = misbehave(&addr, "SPIN");
    let warning = wait_stderr(&child, "without parking", Duration::from_secs(20));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains("has run") && warning.contains(" ms "),
        "{warning}"
    );
    // On a worker; or, on a machine so loaded that no worker took the new handler
    // within 10 ms, on the rescue thread that started it instead.
    assert!(
        warning.contains("on worker 0")
            || warning.contains("on worker 1")
            || warning.contains("on rescue thread 0"),
        "{warning}"
    );
    child.send("stats");
    assert_eq!(
        child.expect_line("STATS ", Duration::from_secs(10)),
        "spinning=1 reports=1"
    );
    // Reported once per episode, however long it spins.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(child.stderr_matching("without parking").len(), 1);
}

#[test]
fn a_blocking_call_on_a_worker_is_contained_too() {
    let (child, addr) = start("thread", "");
    let _blocked = misbehave(&addr, "BLOCK");
    let (answered, lat) = fresh_connections(&addr, 200);
    assert_eq!(answered, 200);
    assert!(p99(&lat) < P99_BOUND, "p99 {:?}", p99(&lat));
    wait_stderr(&child, "blocking system call", Duration::from_secs(20));
}

/// The go! site in the warnings: read from the stuck coroutine's own stack (its record in
/// `go_entry`'s frame), not from what the thread last recorded.
#[test]
fn the_warnings_name_the_go_site() {
    let site = format!("go! at tests/spin.rs:{}", go_line());
    for (what, heard) in [
        ("SPIN", "without parking"),
        ("BLOCK", "blocking system call"),
        ("MAYWAIT-THEN-SPIN", "without parking"),
    ] {
        let (child, addr) = start("thread", "");
        let _stuck = misbehave(&addr, what);
        let warning = wait_stderr(&child, heard, Duration::from_secs(20));
        assert!(warning.contains(&site), "{warning} (want {site})");
    }
}

#[test]
fn a_spinner_after_a_sleep_does_not_stop_the_timers() {
    let (mut child, addr) = start("thread", "");
    let _spinner = misbehave(&addr, "SLEEP-THEN-SPIN");
    wait_stderr(&child, "without parking", Duration::from_secs(20));
    child.send("timer");
    let ms: u64 = match child.expect_line("TIMER ", Duration::from_secs(20)).parse() {
        Ok(ms) => ms,
        Err(_) => panic!("timers stopped:\n{}", child.stderr_text()),
    };
    assert!((50..2000).contains(&ms), "ten 5 ms sleeps took {ms} ms");
}

#[test]
fn spinabort_aborts_with_a_stack_report() {
    let (mut child, addr) = start("thread", "spinabort=300ms");
    let start = Instant::now();
    let _spinner = misbehave(&addr, "SPIN");
    assert!(
        util::eventually(Duration::from_secs(30), || !child.alive()),
        "still running with GONETDEBUG=spinabort=300ms"
    );
    let took = start.elapsed();
    let text = child.stderr_text();
    assert!(took >= Duration::from_millis(300), "aborted after {took:?}");
    assert!(
        text.contains("gonet: fatal: a coroutine ran 300 ms without parking"),
        "{text}"
    );
    assert!(
        text.contains("without parking: the coroutine started by go! at tests/spin.rs:"),
        "{text}"
    );
    assert!(
        text.contains("spin_forever"),
        "no stack in the report:\n{text}"
    );
    let status = child.wait();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
}

#[test]
fn mays_routing_is_what_the_rescue_assumes() {
    let (mut child, addr) = start("thread-greet", "sysmon=0");
    let _spinner = misbehave(&addr, "SPIN");
    // Each connection: the handler says its descriptor, then parks in a read on it (the
    // client sends its line only after the greeting), on worker fd % 2's poller.
    // may gives the handlers spawned by the accept thread to the workers' global queues
    // in turn, and each connection also takes the next descriptor: a bump (one more
    // spawn from a plain thread) every third connection keeps the handlers that run,
    // all on the free worker, from all having one parity.
    let (mut hung, mut served) = (Vec::new(), Vec::new());
    let (mut held, mut never_ran) = (Vec::new(), 0);
    for i in 0..16 {
        if i % 3 == 2 {
            child.send("bump");
            child.expect_line("BUMPED", Duration::from_secs(10));
        }
        let mut s = connect(&addr);
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut line = String::new();
        if !r.read_line(&mut line).is_ok_and(|n| n > 0) {
            // Its handler was queued on the stuck worker: not what is measured here.
            never_ran += 1;
            held.push(s);
            continue;
        }
        let fd: usize = line.trim().parse().expect("a descriptor number");
        s.write_all(b"x\n").unwrap();
        line.clear();
        if r.read_line(&mut line).is_ok_and(|n| n > 0) {
            served.push(fd);
        } else {
            hung.push(fd);
        }
        // Kept open, so that descriptor numbers keep growing.
        held.push(s);
    }
    let residues = |fds: &[usize]| {
        fds.iter()
            .map(|fd| fd % 2)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(
        !hung.is_empty(),
        "with gonet's watchdog off, no parked connection hung behind a spinning coroutine \
         (served {served:?}): may no longer strands a stuck worker's sockets"
    );
    let hung_parity = residues(&hung);
    assert_eq!(
        hung_parity.len(),
        1,
        "hung {hung:?}, served {served:?}: may no longer assigns a descriptor to worker \
         fd % workers, which runtime/proc.rs and runtime/netpoll.rs rely on (may is pinned \
         to =0.3.51)"
    );
    assert!(
        residues(&served).difference(&hung_parity).next().is_some(),
        "no connection of the free worker's parity was served (hung {hung:?}, served \
         {served:?}, {never_ran} handlers never ran)"
    );
}
