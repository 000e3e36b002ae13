//! The limits a server runs into, each in a child process (this test binary again, in a
//! role, see tests/util/server.rs), never in the shared test process:
//!
//! - the descriptor ceiling: a server under `prlimit --nofile=64:64` flooded past it backs
//!   off on EMFILE without spinning (its CPU time is measured from /proc/PID/stat), keeps
//!   serving the connections it holds, and serves new ones once the flood ends;
//! - a full mapping table: Linux caps a process at `vm.max_map_count` memory mappings, and
//!   with mprotect guards (Linux before 6.13; forced here with
//!   `GONETDEBUG=stackguard=mprotect`) every stack is two. A child uses up its own mapping
//!   budget with mappings of its own (one page at a time, cheaply, topped up before each
//!   new connection), so that coroutine spawns fail: the new connection is closed cleanly,
//!   the process and its held connections go on, and once the budget is given back new
//!   connections are served again; a server started with less coroutine room than
//!   descriptor room warns once, naming the sysctl. (With lightweight guards a new stack
//!   may merge into its neighbours' mapping and need none, so a full table stops some
//!   spawns and not others.)
//! - a small address space (`ulimit -v`, `RLIMIT_AS`): every stack reserves its full
//!   256 KiB, so a child limited to 32 MiB more than it uses fits about 120 more: the
//!   connections past that are closed cleanly, the warning names `RLIMIT_AS` and the stack
//!   size (not the sysctl), and connections are served again once some end;
//! - the real mapping ceiling: a child spawns parked coroutines with may's own spawn,
//!   whose stacks keep generator's `PROT_NONE` guard page (two mappings each, what every
//!   stack costs on a kernel without lightweight guards), until may cannot map another
//!   (32,726 here, with the default `vm.max_map_count` of 65530; about 0.7 s): its gonet
//!   server still answers, its held connection is served, a new one is closed cleanly, and
//!   once the coroutines end new ones are served again.
//!
//! Run: `cargo test --release --test ceiling -- --nocapture` (prints what it measured).

mod util;
use util::server as server_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use server_util::{Child, connect, echo, eventually, round_trip, say};

// ---------------------------------------------------------------------------------------
// Child side
// ---------------------------------------------------------------------------------------

/// In a child: logs to stderr (RUST_LOG from the parent), serves echo on a loopback
/// listener, prints `ADDR <addr>`; returns the server.
fn child_server() -> gonet::Server {
    let _ = env_logger::builder().format_timestamp(None).try_init();
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    say(&format!("ADDR {}", ln.addr()));
    let server = gonet::Server::new();
    let s = server.clone();
    std::thread::spawn(move || s.serve(ln, echo));
    server
}

fn say_stats(server: &gonet::Server) {
    let st = server.stats();
    say(&format!(
        "STATS accepted={} refused={} active={} accept_errors={}",
        st.accepted, st.refused, st.active, st.accept_errors
    ));
}

#[test]
#[ignore = "child process of emfile_backs_off_without_spinning_and_recovers"]
fn child_emfile() {
    if !server_util::is_child("emfile") {
        return;
    }
    let server = child_server();
    server_util::child_commands(|cmd| {
        if cmd == "stats" {
            say_stats(&server);
        }
    });
}

/// Mappings made on purpose, to use up the process's `vm.max_map_count` budget: one
/// PROT_NONE region whose every other page is made readable, so that each page is its
/// own mapping. Nothing is touched: it costs no memory.
struct Burner {
    base: *mut libc::c_void,
    len: usize,
    /// The next page to make readable.
    next: usize,
}

impl Burner {
    /// Adds mappings until the process has `max_map_count` of them.
    fn burn() -> Burner {
        let page = 4096;
        let max = gonet::runtime::max_map_count().expect("max_map_count");
        let used = gonet::runtime::map_count().expect("map_count");
        let pages = 2 * (max - used) + 2 + 2 * 4096; // and room to top up
        let len = pages * page;
        // SAFETY: a fresh anonymous private mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap the burner region");
        let mut burner = Burner { base, len, next: 1 };
        burner.top_up();
        burner
    }

    /// Adds mappings until the process has `max_map_count` of them again: with
    /// lightweight guards, new stacks merge with their neighbours, and one mapping given
    /// back anywhere in the process lets spawns through.
    fn top_up(&mut self) {
        let page = 4096;
        let pages = self.len / page;
        let max = gonet::runtime::max_map_count().expect("max_map_count");
        while self.next < pages {
            // Re-count every 512 pages (the count moves as the process runs).
            let now = gonet::runtime::map_count().expect("map_count");
            let missing = max.saturating_sub(now);
            if missing == 0 {
                return;
            }
            for _ in 0..(missing / 2).clamp(1, 512) {
                if self.next >= pages {
                    return;
                }
                // SAFETY: the page lies inside the region mapped in `burn`.
                let rc = unsafe {
                    libc::mprotect(
                        self.base.cast::<u8>().add(self.next * page).cast(),
                        page,
                        libc::PROT_READ,
                    )
                };
                if rc != 0 {
                    return; // ENOMEM: the budget is used up
                }
                self.next += 2;
            }
        }
    }
}

impl Drop for Burner {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region mapped in `burn`, which nothing else uses.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

#[test]
#[ignore = "child process of a_failed_spawn_closes_the_new_connection_and_the_server_goes_on"]
fn child_maps() {
    if !server_util::is_child("maps") {
        return;
    }
    // mprotect guards, as on Linux before 6.13: every new stack needs mappings of its own,
    // so a full table stops every spawn. (With lightweight guards a new stack can merge
    // into its neighbours and need none: at a full table some spawns then succeed, and
    // which ones depends on where the kernel places them. a_small_address_space_... covers
    // failed spawns with lightweight guards.) Set before the first coroutine, when gonet
    // picks the guard; the test harness runs this child on one thread.
    // SAFETY: the child runs this one test on the harness's only thread
    // (--test-threads=1), before gonet starts a thread: nothing reads the environment
    // meanwhile.
    unsafe { std::env::set_var("GONETDEBUG", "stackguard=mprotect") };
    // A small pool of ready-made coroutines, so that spawns need new stacks soon.
    may::config().set_pool_capacity(4);
    let server = child_server();
    let mut burner = None;
    server_util::child_commands(|cmd| match cmd {
        "burn" => {
            match burner.as_mut() {
                None => burner = Some(Burner::burn()),
                Some(b) => b.top_up(),
            }
            say(&format!(
                "BURNED coroutine_capacity={} maps={}",
                gonet::runtime::coroutine_capacity().unwrap_or(0),
                gonet::runtime::map_count().unwrap_or(0)
            ));
        }
        "serve2" => {
            // A second server started now has less coroutine room than descriptor room
            // (and no thread could be spawned for it: its listener is closed first, so
            // that serve only does its start-up checks and returns).
            let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
            ln.close().expect("close");
            gonet::Server::new().serve(ln, echo).expect("serve");
            say("SERVED2");
        }
        "free" => {
            burner = None;
            say(&format!(
                "FREED coroutine_capacity={}",
                gonet::runtime::coroutine_capacity().unwrap_or(0)
            ));
        }
        "stats" => say_stats(&server),
        _ => {}
    });
}

/// The process's mapped address space now, in bytes (/proc/self/statm's first field).
fn address_space_used() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm.split_whitespace().next().unwrap().parse().unwrap();
    pages * 4096
}

#[test]
#[ignore = "child process of a_small_address_space_refuses_what_does_not_fit"]
fn child_as() {
    if !server_util::is_child("as") {
        return;
    }
    // A small pool of ready-made coroutines: new connections need new stacks soon, and
    // the stacks of ended coroutines are unmapped (giving their space back) beyond it.
    may::config().set_pool_capacity(4);
    let server = child_server();
    server_util::child_commands(|cmd| match cmd {
        "limit" => {
            let lim = libc::rlimit {
                rlim_cur: address_space_used() + (32 << 20),
                rlim_max: libc::RLIM_INFINITY,
            };
            // SAFETY: a valid rlimit for this process.
            assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);
            say(&format!(
                "LIMITED coroutine_capacity={} connection_capacity={}",
                gonet::runtime::coroutine_capacity().unwrap_or(0),
                gonet::runtime::connection_capacity().unwrap_or(0)
            ));
        }
        "serve2" => {
            // As in child_maps: a second server's start-up checks, on a closed listener.
            let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
            ln.close().expect("close");
            gonet::Server::new().serve(ln, echo).expect("serve");
            say("SERVED2");
        }
        "stats" => say_stats(&server),
        _ => {}
    });
}

#[test]
#[ignore = "child process of real_coroutine_ceiling"]
fn child_real() {
    if !server_util::is_child("real") {
        return;
    }
    let server = child_server();
    let release = Arc::new(may::sync::SyncFlag::new());
    let live = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    server_util::child_commands(|cmd| match cmd {
        "park" => {
            let start = Instant::now();
            let capacity = gonet::runtime::coroutine_capacity().unwrap_or(0);
            let mut parked = 0usize;
            let mut failure = String::new();
            for _ in 0..200_000 {
                let (r, l) = (release.clone(), live.clone());
                let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    // SAFETY: as for gonet::go!: no thread-locals, a shallow stack.
                    unsafe {
                        may::coroutine::Builder::new().spawn(move || {
                            l.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            r.wait();
                            l.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        })
                    }
                }));
                match spawned {
                    Ok(Ok(_)) => parked += 1,
                    Ok(Err(e)) => {
                        failure = e.to_string();
                        break;
                    }
                    Err(p) => {
                        failure = p
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        break;
                    }
                }
            }
            let l = live.clone();
            eventually(Duration::from_secs(60), || {
                l.load(std::sync::atomic::Ordering::SeqCst) == parked
            });
            say(&format!(
                "PARKED {parked} capacity_estimate={capacity} maps={} took_ms={} failure={failure}",
                gonet::runtime::map_count().unwrap_or(0),
                start.elapsed().as_millis()
            ));
        }
        "release" => {
            release.fire();
            let l = live.clone();
            let done = eventually(Duration::from_secs(60), || {
                l.load(std::sync::atomic::Ordering::SeqCst) == 0
            });
            say(&format!("RELEASED {done}"));
        }
        "stats" => say_stats(&server),
        _ => {}
    });
}

// ---------------------------------------------------------------------------------------
// Parent side
// ---------------------------------------------------------------------------------------

/// Parses `key=value` words of a child's line.
fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

/// Sends a byte on a new connection and says what the server did with it: `Some(true)`
/// served (echoed), `Some(false)` closed or reset it, `None` nothing within `limit`.
fn try_new_conn(addr: &str, limit: Duration) -> Option<bool> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(limit)).unwrap();
    if s.write_all(b"?").is_err() {
        return Some(false);
    }
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(1) => Some(true),
        Ok(_) => Some(false),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(_) => Some(false),
    }
}

#[test]
fn emfile_backs_off_without_spinning_and_recovers() {
    let nofile = 64;
    let mut child = Child::spawn("emfile", "child_emfile", Some(nofile));
    let addr = child.expect_line("ADDR ", Duration::from_secs(30));
    let mut held: Vec<TcpStream> = (0..5).map(|_| connect(&addr)).collect();
    for c in &mut held {
        round_trip(c, b"held");
    }
    // The flood: far more connections than the child has descriptors. The kernel
    // completes them into the listen backlog; the server accepts until EMFILE.
    let flood: Vec<TcpStream> = (0..150).map(|_| connect(&addr)).collect();
    let saturated = eventually(Duration::from_secs(10), || {
        !child
            .stderr_matching("accept4: too many open files")
            .is_empty()
    });
    assert!(
        saturated,
        "no EMFILE in the child's log:\n{}",
        child.stderr_text()
    );
    assert!(
        child.fd_count() as u64 >= nofile - 2,
        "child holds {} fds",
        child.fd_count()
    );

    // Saturated, and the back-off at its 1 s cap: measure the child's CPU time over a 3 s
    // window.
    let capped = eventually(Duration::from_secs(10), || {
        !child.stderr_matching("retrying in 1s").is_empty()
    });
    assert!(
        capped,
        "the back-off never reached 1 s:\n{}",
        child.stderr_text()
    );
    let window = Duration::from_secs(3);
    let (t0, c0) = (Instant::now(), child.cpu_ticks());
    let logged_before = child.stderr_matching("accept error").len();
    std::thread::sleep(window); // the measurement window, not a synchronisation
    let (wall, cpu) = (t0.elapsed(), child.cpu_ticks() - c0);
    let cpu_fraction = cpu as f64 / server_util::clk_tck() as f64 / wall.as_secs_f64();
    let logged_in_window = child.stderr_matching("accept error").len() - logged_before;
    // The connections it holds are still served while it is saturated.
    for c in &mut held {
        round_trip(c, b"still held");
    }
    let retry_lines = child.stderr_matching("accept error");

    // The flood ends: new clients are served again.
    drop(flood);
    let t_end = Instant::now();
    let mut fresh = None;
    for _ in 0..100 {
        if let Some(true) = try_new_conn(&addr, Duration::from_secs(3)) {
            fresh = Some(t_end.elapsed());
            break;
        }
        if t_end.elapsed() > Duration::from_secs(15) {
            break;
        }
    }
    let fresh = fresh.expect("no new connection served after the flood ended");
    child.send("stats");
    let stats = child.expect_line("STATS ", Duration::from_secs(10));
    assert!(child.alive(), "the server process died");
    eprintln!(
        "EMFILE: nofile {nofile}, CPU {cpu} ticks over {wall:?} = {:.2}% while saturated, \
         {logged_in_window} retries logged in the window, {} in all; a new conn served \
         {fresh:?} after the flood ended; child {stats}",
        cpu_fraction * 100.0,
        retry_lines.len()
    );
    assert!(
        cpu_fraction < 0.05,
        "the child used {:.1}% CPU while saturated",
        cpu_fraction * 100.0
    );
    assert!(
        logged_in_window <= 6,
        "{logged_in_window} retries in {window:?}: it spins"
    );
    assert!(field(&stats, "accept_errors") >= 5);
    drop(held);
}

#[test]
fn a_failed_spawn_closes_the_new_connection_and_the_server_goes_on() {
    let mut child = Child::spawn("maps", "child_maps", None);
    let addr = child.expect_line("ADDR ", Duration::from_secs(30));
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect(&addr)).collect();
    for c in &mut held {
        round_trip(c, b"held");
    }
    child.send("burn");
    let burned = child.expect_line("BURNED ", Duration::from_secs(60));
    // New connections, each with the table topped up to its limit first: their spawns
    // fail (a pooled stack may serve one or two first).
    let mut outcomes = Vec::new();
    let mut kept = Vec::new();
    for i in 0..12 {
        if i > 0 {
            child.send("burn");
            child.expect_line("BURNED ", Duration::from_secs(60));
        }
        let mut s = TcpStream::connect(&addr).expect("the kernel still accepts connections");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"?").ok();
        let mut b = [0u8; 1];
        let outcome = match s.read(&mut b) {
            Ok(1) => "served",
            Ok(_) => "closed",
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                "hung"
            }
            Err(_) => "reset",
        };
        outcomes.push(outcome);
        kept.push(s); // served ones stay open: their coroutines stay alive
    }
    assert!(
        !outcomes.contains(&"hung"),
        "a connection got no answer: {outcomes:?}"
    );
    let refused = outcomes.iter().filter(|o| **o != "served").count();
    assert!(refused >= 1, "no spawn failed: {outcomes:?} ({burned})");
    assert!(child.alive(), "the process died:\n{}", child.stderr_text());
    for c in &mut held {
        round_trip(c, b"held, still served");
    }
    // The server closes a refused connection, then logs: wait for the last line.
    let logged = child.stderr_wait(
        "cannot start a coroutine for a new connection",
        refused,
        Duration::from_secs(10),
    );
    assert_eq!(
        logged.len(),
        refused,
        "one error line per refused connection"
    );
    // A server starting now warns that coroutines, not descriptors, are the limit.
    child.send("serve2");
    child.expect_line("SERVED2", Duration::from_secs(10));
    // The warning line (stderr is read apart from stdout: wait for it).
    let warned = child.stderr_wait("more coroutines", 1, Duration::from_secs(10));
    assert!(
        warned
            .iter()
            .any(|l| l.contains("sysctl -w vm.max_map_count")),
        "no room warning:\n{}",
        child.stderr_text()
    );
    // Budget back: new connections are served again.
    child.send("free");
    child.expect_line("FREED ", Duration::from_secs(10));
    let t = Instant::now();
    let mut served_again = false;
    for _ in 0..20 {
        if try_new_conn(&addr, Duration::from_secs(3)) == Some(true) {
            served_again = true;
            break;
        }
    }
    assert!(served_again, "nothing served after the budget came back");
    child.send("stats");
    let stats = child.expect_line("STATS ", Duration::from_secs(10));
    eprintln!(
        "map ceiling: {burned}; 12 new conns: {outcomes:?}; served again {:?} after freeing; {stats}",
        t.elapsed()
    );
    assert_eq!(field(&stats, "refused") as usize, refused);
    drop(kept);
}

/// What the server did with a new connection: "served" (echoed), "closed" (or reset),
/// "hung" (no answer within `limit`). The stream is returned, to be kept open.
fn new_conn_outcome(addr: &str, limit: Duration) -> (&'static str, TcpStream) {
    let mut s = TcpStream::connect(addr).expect("the kernel still accepts connections");
    s.set_read_timeout(Some(limit)).unwrap();
    s.write_all(b"?").ok();
    let mut b = [0u8; 1];
    let outcome = match s.read(&mut b) {
        Ok(1) => "served",
        Ok(_) => "closed",
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            "hung"
        }
        Err(_) => "closed",
    };
    (outcome, s)
}

#[test]
fn a_small_address_space_refuses_what_does_not_fit() {
    let mut child = Child::spawn("as", "child_as", None);
    let addr = child.expect_line("ADDR ", Duration::from_secs(30));
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect(&addr)).collect();
    for c in &mut held {
        round_trip(c, b"held");
    }
    child.send("limit");
    let limited = child.expect_line("LIMITED ", Duration::from_secs(30));
    // 32 MiB of room, 256 KiB stacks (plus two pages each): about 120 coroutines, and
    // connection_capacity says the same (the descriptors allow thousands).
    let estimate = field(&limited, "coroutine_capacity");
    assert!((60..=130).contains(&estimate), "{limited}");
    assert_eq!(
        field(&limited, "connection_capacity"),
        estimate,
        "{limited}"
    );
    // New connections, each held open (its coroutine parked in read), until one is
    // refused: within the estimate and a margin (may's pool, stacks of other coroutines).
    let mut kept = Vec::new();
    let refused_at = loop {
        let (outcome, s) = new_conn_outcome(&addr, Duration::from_secs(10));
        assert_ne!(outcome, "hung", "connection {} got no answer", kept.len());
        if outcome != "served" {
            break kept.len();
        }
        kept.push(s);
        assert!(
            kept.len() < 4 * estimate as usize + 100,
            "{} connections served under a limit with room for about {estimate}",
            kept.len()
        );
    };
    assert!(child.alive(), "the process died:\n{}", child.stderr_text());
    for c in &mut held {
        round_trip(c, b"held, still served");
    }
    for c in &mut kept {
        round_trip(c, b"kept, still served");
    }
    let logged = child.stderr_wait(
        "cannot start a coroutine for a new connection",
        1,
        Duration::from_secs(10),
    );
    assert!(
        logged.iter().all(|l| l.contains("RLIMIT_AS")),
        "the refusal does not name the limit: {logged:?}"
    );
    // A server starting now warns about the address space, not the mapping sysctl.
    child.send("serve2");
    child.expect_line("SERVED2", Duration::from_secs(10));
    // The warning line (stderr is read apart from stdout: wait for it).
    let warned = child.stderr_wait("more coroutines", 1, Duration::from_secs(10));
    assert_eq!(warned.len(), 1, "{}", child.stderr_text());
    assert!(
        warned[0].contains("RLIMIT_AS") && warned[0].contains("set_stack_size"),
        "{warned:?}"
    );
    assert!(!warned[0].contains("sysctl"), "{warned:?}");
    // Half the kept connections end: their stacks are unmapped and new ones fit again.
    let ended = kept.len() / 2;
    for c in kept.drain(..ended) {
        c.shutdown(std::net::Shutdown::Both).ok();
    }
    let t = Instant::now();
    let mut served_again = false;
    while t.elapsed() < Duration::from_secs(30) {
        if try_new_conn(&addr, Duration::from_secs(3)) == Some(true) {
            served_again = true;
            break;
        }
    }
    assert!(
        served_again,
        "nothing served after {ended} connections ended"
    );
    child.send("stats");
    let stats = child.expect_line("STATS ", Duration::from_secs(10));
    eprintln!(
        "address space: {limited}; refused the connection after {refused_at}; served again \
         {:?} after {ended} ended; {stats}",
        t.elapsed()
    );
    assert!(field(&stats, "refused") >= 1);
    drop(kept);
}

#[test]
fn real_coroutine_ceiling() {
    let mut child = Child::spawn("real", "child_real", None);
    let addr = child.expect_line("ADDR ", Duration::from_secs(30));
    let mut held = connect(&addr);
    round_trip(&mut held, b"held");
    child.send("park");
    let parked = child.expect_line("PARKED ", Duration::from_secs(300));
    assert!(child.alive());
    // What ran out is the mapping table (not memory or address space).
    let max = gonet::runtime::max_map_count().expect("max_map_count") as u64;
    assert!(field(&parked, "maps") + 64 >= max, "{parked}");
    round_trip(&mut held, b"held, past the ceiling");
    let refused = try_new_conn(&addr, Duration::from_secs(5));
    assert_eq!(
        refused,
        Some(false),
        "a new connection past the ceiling is closed"
    );
    child.send("release");
    let released = child.expect_line("RELEASED ", Duration::from_secs(120));
    assert_eq!(released, "true");
    let mut served = None;
    for _ in 0..10 {
        served = try_new_conn(&addr, Duration::from_secs(3));
        if served == Some(true) {
            break;
        }
    }
    assert_eq!(
        served,
        Some(true),
        "served again once the coroutines are gone"
    );
    child.send("stats");
    let stats = child.expect_line("STATS ", Duration::from_secs(10));
    eprintln!("real ceiling: PARKED {parked}; {stats}");
    assert!(field(&stats, "refused") >= 1);
}
