//! Zero-downtime restarts (`gonet::net::tableflip`, cloudflare/tableflip's approach):
//! under continuous load from `gonet-stress echo` and from clients that connect, echo and
//! hang up in a tight loop, a server is restarted three times by SIGHUP. Each time the
//! new process inherits the listening socket and says it is ready, the old one stops
//! accepting, drains what it accepted (nothing is cut) and exits 0; no connection is
//! refused and no byte is wrong.
//!
//! The server is this test binary itself, re-executed with `UPGRADE_CHILD` set
//! (`child_server` below), so every generation is the same program, as in a real
//! restart after a deploy.

mod util;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet::net::tableflip::{Options, Upgrader};
use gonet::signal::{self, Signal};

const CHILD_ENV: &str = "UPGRADE_CHILD";

/// The server every generation runs: an echo server behind a tableflip Upgrader. SIGHUP
/// upgrades, SIGTERM stops; when its exit channel closes it drains (up to 20 s) and
/// exits, saying how many connections it had to cut. Knobs, from the environment (which
/// every generation inherits): `UPGRADE_TIMEOUT_MS` (the upgrade timeout),
/// `UPGRADE_SUCCESSOR=exit|hang` (a generation started by an upgrade exits 7, or never
/// says ready), `UPGRADE_UNIX=PATH` (also serve a Unix socket there).
#[test]
fn child_server() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return; // run by the harness as a test: nothing to do
    }
    let pid = std::process::id();
    let knob = |k: &str| std::env::var(k).unwrap_or_default();
    let timeout = knob("UPGRADE_TIMEOUT_MS").parse().unwrap_or(30_000);
    let upg = Upgrader::new(Options {
        upgrade_timeout: Duration::from_millis(timeout),
        ..Options::default()
    })
    .expect("tableflip::New");
    let ln = upg.listen("tcp", "127.0.0.1:0").expect("listen");
    let addr = ln.addr().to_string();
    let unix = knob("UPGRADE_UNIX");
    let unix_ln = (!unix.is_empty()).then(|| upg.listen("unix", &unix).expect("listen unix"));
    if upg.has_parent() {
        match knob("UPGRADE_SUCCESSOR").as_str() {
            "exit" => std::process::exit(7),
            "hang" => loop {
                std::thread::sleep(Duration::from_secs(1)); // killed by the timeout
            },
            _ => {}
        }
    }
    let (tx, sigs) = gonet::chan::<Signal>(4);
    signal::notify(&tx, &[Signal::HUP, Signal::TERM]).expect("signal.Notify");
    let u = upg.clone();
    gonet::go!(move || {
        for sig in &sigs {
            if sig == Signal::TERM {
                u.stop();
            } else if let Err(e) = u.upgrade() {
                say(format!("upgrade: pid {pid} upgrade failed: {e}"));
            }
        }
    });
    let server = gonet::Server::new();
    let s = server.clone();
    let serving = std::thread::spawn(move || s.serve(ln, util::echo));
    let unix_serving = unix_ln.map(|ln| {
        let s = server.clone();
        std::thread::spawn(move || s.serve(ln, util::echo))
    });
    upg.ready().expect("Ready");
    say(format!(
        "upgrade: pid {pid} ready on {addr} (parent: {})",
        upg.has_parent()
    ));
    let _ = upg.exit().recv(); // <-upg.Exit()
    say(format!("upgrade: pid {pid} handing over"));
    let cut = server.shutdown(Duration::from_secs(20));
    serving.join().expect("serve thread").expect("serve");
    if let Some(t) = unix_serving {
        t.join().expect("serve thread").expect("serve unix");
    }
    say(format!("upgrade: pid {pid} drained, cut {cut}"));
    std::process::exit(if cut == 0 { 0 } else { 3 });
}

/// One line on stderr in one write: the generations share the pipe, and `eprintln!`
/// may write a line in pieces that another process's line could split.
fn say(line: String) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// The stderr lines of every generation (they share the first one's stderr).
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn wait_for(&self, limit: Duration, f: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + limit;
        loop {
            if let Some(l) = self.0.lock().unwrap().iter().find(|l| f(l)) {
                return l.clone();
            }
            assert!(
                Instant::now() < end,
                "no such line within {limit:?}: {:?}",
                self.0.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The pid in `upgrade: pid P ...`.
fn pid_of(line: &str) -> u32 {
    line.strip_prefix("upgrade: pid ")
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"))
}

/// Reaps `pid` (a child, or an orphan reparented to us as subreaper) within `limit`;
/// returns its exit code. Panics if it is still running then.
fn reap(pid: u32, limit: Duration) -> Option<i32> {
    let end = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only to `status`; WNOHANG does not block.
        let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
        if r == pid as libc::pid_t {
            return libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        }
        assert!(
            r == 0,
            "waitpid({pid}): {}",
            std::io::Error::last_os_error()
        );
        assert!(Instant::now() < end, "{pid} still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts generation 0 with `env` and waits for its ready line: (child, lines, tcp
/// address).
fn start_server(env: &[(&str, &str)]) -> (std::process::Child, Lines, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_server", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the server");
    let lines = Lines(Arc::new(Mutex::new(Vec::new())));
    let sink = lines.0.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(l);
        }
    });
    let ready = lines.wait_for(Duration::from_secs(60), |l| l.contains(" ready on "));
    let addr = ready
        .split(" ready on ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_string();
    assert_eq!(pid_of(&ready), child.id());
    (child, lines, addr)
}

/// One echo round trip on a new connection to `network` `addr`.
fn round_trip(network: &str, addr: &str) -> std::io::Result<()> {
    let c = gonet::dial(network, addr)?;
    c.set_deadline(Some(Instant::now() + Duration::from_secs(20)))?;
    c.write(b"ping")?;
    let mut b = [0u8; 4];
    c.read_full(&mut b)?;
    assert_eq!(&b, b"ping");
    Ok(())
}

/// Kills the generations of a test that failed part-way (they are no longer the test's
/// children once their parent exited, so nothing else would).
#[derive(Default)]
struct KillOnPanic(Mutex<Vec<u32>>);

impl KillOnPanic {
    fn add(&self, pid: u32) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
    }
}

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for &pid in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                // SAFETY: kill has no memory preconditions.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }
}

fn hup(pid: u32) {
    // SAFETY: kill has no memory preconditions; the pid is a live server of this test.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) }, 0);
}

/// Sets this process as the subreaper of the generations (each is orphaned when its
/// parent, the previous one, exits).
fn subreaper() {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) has no memory effects.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
}

/// A successor that exits before it is ready, then one that never says ready (killed at
/// the 500 ms timeout): both upgrades fail with tableflip's texts and the old process
/// goes on serving, on the same socket.
#[test]
fn failed_upgrades_leave_the_old_process_serving() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    subreaper();
    for (mode, want) in [("exit", "exited: exit status 7"), ("hang", "timed out")] {
        let (mut child, lines, addr) =
            start_server(&[("UPGRADE_SUCCESSOR", mode), ("UPGRADE_TIMEOUT_MS", "500")]);
        let pid = child.id();
        round_trip("tcp", &addr).expect("served before");
        hup(pid);
        let failed = lines.wait_for(Duration::from_secs(60), |l| l.contains("upgrade failed"));
        let prefix = format!("upgrade: pid {pid} upgrade failed: ");
        let e = failed
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{failed}"));
        let child_pid = e
            .split("pid=")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap_or_else(|| panic!("no child pid in {e:?}"));
        let want = match mode {
            "exit" => format!("child pid={child_pid} {want}"),
            _ => format!("new child pid={child_pid} {want}"),
        };
        assert_eq!(e, want);
        round_trip("tcp", &addr).expect("still served after the failed upgrade");
        // SAFETY: kill has no memory preconditions; `pid` is our unreaped child.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        assert_eq!(child.wait().unwrap().code(), Some(0), "{:?}", lines.0);
    }
}

/// While the previous generation still drains (a client keeps its connection open), the
/// new one refuses to upgrade (`parent hasn't exited`); once the client is done and the
/// old one exits, the upgrade goes through. A Unix socket is handed over too: its file
/// stays in place while generations come and go, and is removed by the last one's stop.
#[test]
fn no_upgrade_while_the_parent_drains_and_unix_sockets_are_handed_over() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    subreaper();
    let dir = util::TempDir::new("upgrade");
    let path = dir.sock("echo.sock");
    let (mut first, lines, addr) = start_server(&[("UPGRADE_UNIX", &path)]);
    let gen0 = first.id();
    let guard = KillOnPanic::default();
    guard.add(gen0);
    round_trip("unix", &path).expect("unix served");
    // Held open: generation 0 must wait for it.
    let held = gonet::dial("tcp", &addr).unwrap();
    held.write(b"x").unwrap();
    let mut b = [0u8; 1];
    held.read_full(&mut b).unwrap();
    hup(gen0);
    let line = lines.wait_for(Duration::from_secs(60), |l| {
        l.contains(" ready on ") && pid_of(l) != gen0
    });
    let gen1 = pid_of(&line);
    guard.add(gen1);
    lines.wait_for(Duration::from_secs(60), |l| {
        l == format!("upgrade: pid {gen0} handing over")
    });
    round_trip("unix", &path).expect("unix served by the new generation");
    round_trip("tcp", &addr).expect("tcp served by the new generation");
    hup(gen1);
    let failed = lines.wait_for(Duration::from_secs(60), |l| l.contains("upgrade failed"));
    assert_eq!(
        failed,
        format!("upgrade: pid {gen1} upgrade failed: parent hasn't exited")
    );
    // The held conn is still gen0's, still served.
    held.write(b"y").unwrap();
    held.read_full(&mut b).unwrap();
    assert_eq!(&b, b"y");
    drop(held);
    assert_eq!(first.wait().unwrap().code(), Some(0), "{:?}", lines.0);
    assert!(
        std::path::Path::new(&path).exists(),
        "the socket file stays"
    );
    // The parent is gone now; gen1 learns it when the exit pipe's end closes, at once
    // or a moment later: until then it still refuses, so retry (bounded).
    let end = Instant::now() + Duration::from_secs(60);
    let refusals = |l: &Lines| {
        let v = l.0.lock().unwrap();
        v.iter()
            .filter(|l| l.ends_with("parent hasn't exited"))
            .count()
    };
    let gen2 = loop {
        let before = refusals(&lines);
        hup(gen1);
        let mut found = None;
        assert!(util::eventually(Duration::from_secs(60), || {
            found = lines.0.lock().unwrap().iter().find_map(|l| {
                let new = l.contains(" ready on ") && pid_of(l) != gen0 && pid_of(l) != gen1;
                new.then(|| pid_of(l))
            });
            found.is_some() || refusals(&lines) > before
        }));
        if let Some(pid) = found {
            guard.add(pid);
            break pid;
        }
        assert!(Instant::now() < end, "{:?}", lines.0);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(reap(gen1, Duration::from_secs(30)), Some(0));
    round_trip("unix", &path).expect("unix served by generation 2");
    // SAFETY: kill has no memory preconditions; gen2 is alive.
    unsafe { libc::kill(gen2 as libc::pid_t, libc::SIGTERM) };
    assert_eq!(reap(gen2, Duration::from_secs(30)), Some(0));
    assert!(
        !std::path::Path::new(&path).exists(),
        "stop removes the file"
    );
}

/// In-process: `upgrade` before `ready` and after `stop`, the exit channel, one
/// Upgrader per process.
#[test]
fn upgrade_refuses_before_ready_and_after_stop() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let upg = Upgrader::new(Options::default()).unwrap();
    assert!(!upg.has_parent());
    assert_eq!(
        Upgrader::new(Options::default()).err().unwrap().to_string(),
        "tableflip: only a single Upgrader allowed"
    );
    let ln = upg.listen("tcp", "127.0.0.1:0").unwrap();
    assert_eq!(
        upg.upgrade().unwrap_err().to_string(),
        "process is not ready yet"
    );
    upg.ready().unwrap();
    upg.wait_for_parent(&gonet::context::background()).unwrap();
    let exit = upg.exit();
    assert!(exit.try_recv().is_err(), "open until an upgrade or stop");
    upg.stop();
    assert_eq!(exit.recv(), None);
    assert_eq!(upg.upgrade().unwrap_err().to_string(), "terminating");
    round_trip_on(&ln);
}

/// The listener `listen` gave still accepts after stop (stop only ends upgrades).
fn round_trip_on(ln: &gonet::Listener) {
    let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    assert!(ln.accept().is_ok());
}

#[derive(Default)]
struct Tally {
    runs: AtomicU64,
    requests: AtomicU64,
    short_conns: AtomicU64,
    errors: Mutex<Vec<String>>,
}

/// Three SIGHUP restarts under load: each new generation inherits the socket (it listens
/// on the same address, `parent: true`), each old one drains with nothing cut and exits
/// 0; the back-to-back `gonet-stress echo` runs and the connect-echo-close clients see no
/// refused connection, no mismatched byte, no error at all.
#[test]
fn three_restarts_under_load_refuse_nothing() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    subreaper();
    let stress = util::build::package_bin("gonet-stress", "gonet-stress");
    let (mut first, lines, addr) = start_server(&[]);
    let mut pid = first.id();
    let guard = KillOnPanic::default();
    guard.add(pid);

    // The load, until `stop` (and at most 3 minutes).
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let load_end = Instant::now() + Duration::from_secs(180);
    let mut loaders = Vec::new();
    {
        let (stop, tally, addr) = (stop.clone(), tally.clone(), addr.clone());
        loaders.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && Instant::now() < load_end {
                let out = Command::new(&stress)
                    .args(["echo", "--addr", &addr, "-c", "32", "-d", "700ms"])
                    .args(["-s", "512", "--timeout", "20s", "--json"])
                    .stdin(Stdio::null())
                    .output()
                    .expect("run gonet-stress");
                let text = String::from_utf8_lossy(&out.stdout);
                let v: serde_json::Value = serde_json::from_str(text.trim())
                    .unwrap_or_else(|e| panic!("stress JSON ({e}): {text}"));
                tally.runs.fetch_add(1, Ordering::Relaxed);
                tally
                    .requests
                    .fetch_add(v["requests"].as_u64().unwrap(), Ordering::Relaxed);
                if v["errors"] != 0 || v["ok_conns"] != 32 {
                    tally.errors.lock().unwrap().push(v.to_string());
                }
            }
        }));
    }
    for k in 0..4usize {
        let (stop, tally, addr) = (stop.clone(), tally.clone(), addr.clone());
        loaders.push(std::thread::spawn(move || {
            let msg: Vec<u8> = (0..300).map(|i| (i * 7 + k) as u8).collect();
            while !stop.load(Ordering::Relaxed) && Instant::now() < load_end {
                let r = (|| -> std::io::Result<()> {
                    let c = gonet::Dialer {
                        timeout: Some(Duration::from_secs(20)),
                        ..Default::default()
                    }
                    .dial("tcp", &addr)?;
                    c.set_deadline(Some(Instant::now() + Duration::from_secs(20)))?;
                    c.write(&msg)?;
                    let mut back = vec![0u8; msg.len()];
                    c.read_full(&mut back)?;
                    if back != msg {
                        return Err(std::io::Error::other("echo: mismatch"));
                    }
                    Ok(())
                })();
                match r {
                    Ok(()) => tally.short_conns.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        tally.errors.lock().unwrap().push(e.to_string());
                        0
                    }
                };
            }
        }));
    }

    // Until `n` more short connections and one more whole stress run have been served.
    let wait_load = |n: u64| {
        let before = tally.short_conns.load(Ordering::Relaxed);
        let runs = tally.runs.load(Ordering::Relaxed);
        assert!(util::eventually(Duration::from_secs(60), || {
            tally.short_conns.load(Ordering::Relaxed) >= before + n
                && tally.runs.load(Ordering::Relaxed) > runs
        }));
    };
    wait_load(200);
    let mut handovers = Vec::new();
    for round in 1..=3 {
        let old = pid;
        let t0 = Instant::now();
        hup(old);
        let line = lines.wait_for(Duration::from_secs(60), |l| {
            l.contains(" ready on ")
                && pid_of(l) != old
                && !handovers.contains(&pid_of(l))
                && pid_of(l) != first.id()
        });
        let ready_after = t0.elapsed();
        pid = pid_of(&line);
        guard.add(pid);
        assert!(
            line.ends_with(&format!("ready on {addr} (parent: true)")),
            "{line}"
        );
        let drained = lines.wait_for(Duration::from_secs(60), |l| {
            l.starts_with(&format!("upgrade: pid {old} drained"))
        });
        assert_eq!(drained, format!("upgrade: pid {old} drained, cut 0"));
        let code = if old == first.id() {
            let end = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(s) = first.try_wait().unwrap() {
                    break s.code();
                }
                assert!(Instant::now() < end, "generation 0 did not exit");
                std::thread::sleep(Duration::from_millis(10));
            }
        } else {
            reap(old, Duration::from_secs(30))
        };
        assert_eq!(code, Some(0), "generation {old} after round {round}");
        eprintln!(
            "upgrade: round {round}: {old} -> {pid}: ready after {ready_after:?}, \
             old gone after {:?}",
            t0.elapsed()
        );
        handovers.push(pid);
        wait_load(100); // the new generation serves before the next restart
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.join().expect("load thread");
    }
    // SAFETY: as above; `pid` is the last generation, alive.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    assert_eq!(reap(pid, Duration::from_secs(30)), Some(0));
    let _ = first.wait(); // reaped in round 1: this returns its status again
    let errors = tally.errors.lock().unwrap().clone();
    eprintln!(
        "upgrade: {} stress runs, {} echo requests, {} short connections, errors {errors:?}",
        tally.runs.load(Ordering::Relaxed),
        tally.requests.load(Ordering::Relaxed),
        tally.short_conns.load(Ordering::Relaxed)
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(tally.runs.load(Ordering::Relaxed) >= 2);
    let all = lines.0.lock().unwrap().clone();
    assert!(!all.iter().any(|l| l.contains("failed")), "{all:?}");
}
