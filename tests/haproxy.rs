//! HAProxy in front of gonet backends that read the PROXY protocol
//! (`gonet::net::proxyproto`): the backends see the client's real address, through v1
//! (`send-proxy`) and v2 (`send-proxy-v2`), over IPv4 and IPv6; when a backend is killed
//! mid-run, HAProxy's health checks move the traffic to the other one with a bounded
//! number of failed connections, and report both UP again once it is back.
//!
//! Each backend is a process of its own (this test binary started again, running
//! `backend_process`), so a kill is a real SIGKILL. The backends require a header on
//! every connection (`Policy::Require`), HAProxy's health checks included
//! (`check-send-proxy`). HAProxy's stats socket (`show stat`) says what it thinks of
//! each server. Clients connect from 127.0.0.2 (and ::1), HAProxy connects to the
//! backends from 127.0.0.1, so the address a backend reports can only be the client's if
//! it came through the header. A third test holds 1,000 connections through HAProxy at
//! once, each with its own address at its backend.
//!
//! Needs `haproxy` (Debian's package; .ci/run installs it).

#[path = "util/process.rs"]
mod process;
mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet::net::proxyproto::{self, Policy};
use gonet::net::{self, Conn};

/// The environment variables that make this binary's `backend_process` a backend.
const ENV_NAME: &str = "GONET_HAPROXY_BACKEND";
const ENV_ADDR: &str = "GONET_HAPROXY_BACKEND_ADDR";

/// How long any one wait on HAProxy or a backend may take before the test fails.
const LIMIT: Duration = Duration::from_secs(30);

/// A backend exits by itself after this long, should the test that started it die
/// without killing it.
const BACKEND_LIFETIME: Duration = Duration::from_secs(180);

/// The backend server, when this binary runs as one (see `Backend::start`): a
/// proxyproto listener on `$GONET_HAPROXY_BACKEND_ADDR` that greets each connection with
/// `remote=<remote_addr()> local=<local_addr()> backend=<name> v=<header version>`, then
/// echoes it. Run by the tests below; on its own (no environment) it does nothing.
#[test]
#[ignore = "a backend process the HAProxy tests start"]
fn backend_process() {
    let (Ok(name), Ok(addr)) = (std::env::var(ENV_NAME), std::env::var(ENV_ADDR)) else {
        return;
    };
    let _ = env_logger::builder()
        .filter_level(log::LevelFilter::Warn)
        .target(env_logger::Target::Stderr)
        .try_init();
    let ln = proxyproto::Listener::new(net::listen("tcp", &addr).expect("backend listen"))
        .policy(Policy::Require)
        .read_header_timeout(Some(Duration::from_secs(2)))
        .into_listener();
    eprintln!("{name}: listening on {}", ln.addr());
    std::thread::spawn(|| {
        std::thread::sleep(BACKEND_LIFETIME);
        std::process::exit(3);
    });
    loop {
        let conn = match ln.accept() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{name}: accept: {e}");
                continue;
            }
        };
        let name = name.clone();
        gonet::go!(move || {
            let v = conn.proxy_header().map_or(0, |h| h.version);
            let hello = format!(
                "remote={} local={} backend={name} v={v}\n",
                conn.remote_addr(),
                conn.local_addr()
            );
            // A health check closes at once: its greeting may fail, as may its echo.
            if conn.write(hello.as_bytes()).is_err() {
                return;
            }
            let mut buf = [0u8; 4096];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 || conn.write(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
}

/// A backend process: this test binary running `backend_process`, killed when dropped.
struct Backend {
    server: process::Server,
    addr: String,
}

impl Backend {
    /// Starts backend `name` on `addr` (port 0: any) and waits until it listens.
    fn start(name: &str, addr: &str) -> Backend {
        let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
        cmd.args(["--exact", "backend_process", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(ENV_NAME, name)
            .env(ENV_ADDR, addr);
        let server = process::Server::start(cmd);
        let addr = server.addr.clone();
        Backend { server, addr }
    }

    /// SIGKILL, and the process reaped: its sockets are gone when this returns.
    fn kill(mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
    }
}

/// A port free on 127.0.0.1 and ::1 now (for HAProxy's frontends, which must be named
/// in its configuration before it starts).
fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// HAProxy, started on a configuration of our own, killed when dropped.
struct Haproxy {
    child: Child,
    _dir: util::TempDir,
    stats: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Haproxy {
    /// Starts `haproxy -db` on `config` (`STATS` in it is replaced by the stats socket's
    /// path); panics, with HAProxy's output, if it does not start.
    fn start(tag: &str, config: &str) -> Haproxy {
        let dir = util::TempDir::new(tag);
        let stats = dir.0.join("stats.sock");
        let cfg = dir.0.join("haproxy.cfg");
        let text = config.replace("STATS", stats.to_str().expect("utf-8 temp path"));
        std::fs::write(&cfg, text).expect("write haproxy.cfg");
        let check = Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap_or_else(|e| panic!("haproxy: {e} (install Debian's haproxy package)"));
        assert!(
            check.status.success(),
            "haproxy -c refused the configuration: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let mut child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start haproxy");
        let err = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let l2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(line);
            }
        });
        let h = Haproxy {
            child,
            _dir: dir,
            stats,
            log,
        };
        h.wait_for("its stats socket", |h| h.command("show info").is_ok());
        h
    }

    /// A command on the stats socket, and HAProxy's whole answer.
    fn command(&self, cmd: &str) -> std::io::Result<String> {
        let mut s = UnixStream::connect(&self.stats)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(format!("{cmd}\n").as_bytes())?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    }

    /// Each server's status in `backend` (`UP`, `DOWN`, `UP 1/2`, ...), from `show stat`.
    fn statuses(&self, backend: &str) -> Vec<(String, String)> {
        let Ok(csv) = self.command("show stat") else {
            return Vec::new();
        };
        let mut lines = csv.lines();
        let Some(head) = lines.next() else {
            return Vec::new();
        };
        let cols: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
        let col = |name: &str| cols.iter().position(|c| *c == name).expect(name);
        let (px, sv, st) = (col("pxname"), col("svname"), col("status"));
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > st && f[px] == backend)
            .filter(|f| f[sv] != "BACKEND" && f[sv] != "FRONTEND")
            .map(|f| (f[sv].to_string(), f[st].to_string()))
            .collect()
    }

    /// Whether HAProxy reports `server` of `backend` exactly `status` (`UP`, `DOWN`).
    fn is(&self, backend: &str, server: &str, status: &str) -> bool {
        self.statuses(backend)
            .iter()
            .any(|(s, st)| s == server && st == status)
    }

    /// Polls `cond` every 20 ms for up to `LIMIT`; panics, with HAProxy's view, if it
    /// never holds. Returns how long it took.
    fn wait_for(&self, what: &str, cond: impl Fn(&Haproxy) -> bool) -> Duration {
        let start = Instant::now();
        while !cond(self) {
            assert!(
                start.elapsed() < LIMIT,
                "HAProxy: no {what} after {LIMIT:?}: stat {:?}, log {:?}",
                self.command("show stat"),
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        start.elapsed()
    }
}

/// What a backend told one client: its `remote=`, `local=`, `backend=` and `v=` fields.
#[derive(Debug)]
struct Greeting {
    remote: String,
    local: String,
    backend: String,
    version: String,
}

/// One client connection through HAProxy from `from` to `to`: reads the backend's
/// greeting, echoes `msg` and checks it came back whole. Every wait is under a 5 s
/// deadline.
fn round_trip(from: &str, to: &str, msg: &[u8]) -> std::io::Result<(Greeting, Conn)> {
    let src: SocketAddr = format!("{from}:0").parse().unwrap_or_else(|_| {
        format!("[{from}]:0")
            .parse()
            .expect("a literal source address")
    });
    let d = net::Dialer {
        timeout: Some(Duration::from_secs(5)),
        local_addr: Some(src.into()),
        ..Default::default()
    };
    let conn = d.dial("tcp", to)?;
    conn.set_deadline(Some(Instant::now() + Duration::from_secs(5)))?;
    let mut r = BufReader::new(conn.clone());
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 || !line.ends_with('\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("no greeting (got {line:?})"),
        ));
    }
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(k))
            .unwrap_or_default()
            .to_string()
    };
    let g = Greeting {
        remote: field("remote="),
        local: field("local="),
        backend: field("backend="),
        version: field("v="),
    };
    conn.write(msg)?;
    let mut back = vec![0u8; msg.len()];
    r.read_exact(&mut back)?;
    if back != msg {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the echo came back different",
        ));
    }
    Ok((g, conn))
}

/// The configuration of both tests: a frontend on `port` (IPv4 and IPv6) balancing over
/// servers `a` and `b` with `send-proxy-v2` and health checks every 100 ms; a second
/// frontend on `port_v1` sending version 1 headers to `a`.
fn config(port: u16, port_v1: u16, a: &str, b: &str) -> String {
    format!(
        "global
    stats socket STATS mode 600 level admin
    stats timeout 10s
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 1s
    retries 3
    option redispatch 1
frontend fe_v2
    bind 127.0.0.1:{port}
    bind [::1]:{port}
    default_backend gonet
frontend fe_v1
    bind 127.0.0.1:{port_v1}
    default_backend gonet_v1
backend gonet
    balance roundrobin
    default-server send-proxy-v2 check check-send-proxy inter 100ms fall 2 rise 2 source 127.0.0.1
    server a {a}
    server b {b}
backend gonet_v1
    server a {a} send-proxy source 127.0.0.1
"
    )
}

#[test]
fn backends_see_the_clients_address_through_v1_and_v2_over_ipv4_and_ipv6() {
    util::init();
    let a = Backend::start("a", "127.0.0.1:0");
    let b = Backend::start("b", "127.0.0.1:0");
    let (port, port_v1) = (free_port(), free_port());
    let h = Haproxy::start("haproxy-addr", &config(port, port_v1, &a.addr, &b.addr));
    h.wait_for("both servers UP", |h| {
        h.is("gonet", "a", "UP") && h.is("gonet", "b", "UP")
    });

    let mut seen = std::collections::BTreeMap::new();
    for (i, (from, to, version)) in [
        ("127.0.0.2", format!("127.0.0.1:{port}"), "2"),
        ("::1", format!("[::1]:{port}"), "2"),
        ("127.0.0.2", format!("127.0.0.1:{port_v1}"), "1"),
    ]
    .iter()
    .cycle()
    .take(30)
    .enumerate()
    {
        let msg = format!("message {i} from {from}\n");
        let (g, conn) = round_trip(from, to, msg.as_bytes())
            .unwrap_or_else(|e| panic!("round trip {i} {from} -> {to}: {e}; {:?}", h.log));
        // The client's own address, port included, and the frontend's: not HAProxy's
        // connection to the backend (from 127.0.0.1 to the backend's port).
        assert_eq!(g.remote, conn.local_addr().to_string(), "{g:?}");
        assert_eq!(g.local, conn.remote_addr().to_string(), "{g:?}");
        assert_eq!(g.version, *version, "{g:?}");
        *seen.entry((g.backend, g.version)).or_insert(0) += 1;
    }
    // Round robin over a and b for v2; v1 goes to a alone.
    assert!(
        seen.get(&("a".into(), "2".into())).is_some_and(|n| *n > 0),
        "{seen:?}"
    );
    assert!(
        seen.get(&("b".into(), "2".into())).is_some_and(|n| *n > 0),
        "{seen:?}"
    );
    assert_eq!(seen.get(&("a".into(), "1".into())), Some(&10), "{seen:?}");
    assert_eq!(seen.get(&("b".into(), "1".into())), None, "{seen:?}");
    // Nothing was refused for want of a header: health checks send one too.
    for be in [&a, &b] {
        let lines = be.server.stderr.lock().unwrap().clone();
        assert!(
            !lines.iter().any(|l| l.contains("proxyproto")),
            "a backend closed a connection: {lines:?}"
        );
    }
    drop(h);
}

/// What the client workers of the fail-over test counted.
#[derive(Default)]
struct Tally {
    ok_a: AtomicUsize,
    ok_b: AtomicUsize,
    errors: AtomicUsize,
    /// Round trips that began after HAProxy reported `a` DOWN, and where they went.
    after_down_a: AtomicUsize,
    after_down_errors: AtomicUsize,
    /// The first failures' texts, for the report.
    why: Mutex<Vec<String>>,
}

#[test]
fn a_killed_backend_is_taken_out_and_back_with_bounded_errors() {
    util::init();
    let a = Backend::start("a", "127.0.0.1:0");
    let b = Backend::start("b", "127.0.0.1:0");
    let a_addr = a.addr.clone();
    let (port, port_v1) = (free_port(), free_port());
    let h = Haproxy::start("haproxy-failover", &config(port, port_v1, &a.addr, &b.addr));
    let up = h.wait_for("both servers UP", |h| {
        h.is("gonet", "a", "UP") && h.is("gonet", "b", "UP")
    });
    eprintln!("haproxy: both servers UP {up:?} after start");

    // Four clients, each one connection after another (a round trip each), until told
    // to stop; bounded by count and time.
    const WORKERS: usize = 4;
    const MAX_PER_WORKER: usize = 5_000;
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let down = Arc::new(AtomicBool::new(false));
    let to = format!("127.0.0.1:{port}");
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (tally, stop, down, to) = (tally.clone(), stop.clone(), down.clone(), to.clone());
            std::thread::spawn(move || {
                let start = Instant::now();
                for i in 0..MAX_PER_WORKER {
                    if stop.load(Ordering::SeqCst) || start.elapsed() > 2 * LIMIT {
                        break;
                    }
                    let after_down = down.load(Ordering::SeqCst);
                    let msg = format!("worker {w} round trip {i}\n");
                    match round_trip("127.0.0.2", &to, msg.as_bytes()) {
                        Ok((g, conn)) => {
                            assert_eq!(g.remote, conn.local_addr().to_string(), "{g:?}");
                            if g.backend == "a" {
                                tally.ok_a.fetch_add(1, Ordering::Relaxed);
                                if after_down {
                                    tally.after_down_a.fetch_add(1, Ordering::Relaxed);
                                }
                            } else {
                                tally.ok_b.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(e) => {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            let mut why = tally.why.lock().unwrap();
                            if why.len() < 16 {
                                why.push(e.to_string());
                            }
                            drop(why);
                            if after_down {
                                tally.after_down_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let total = |t: &Tally| {
        t.ok_a.load(Ordering::Relaxed)
            + t.ok_b.load(Ordering::Relaxed)
            + t.errors.load(Ordering::Relaxed)
    };
    // Both serve under load before the kill.
    h.wait_for("traffic on both servers", |_| {
        tally.ok_a.load(Ordering::Relaxed) >= 50 && tally.ok_b.load(Ordering::Relaxed) >= 50
    });
    let before = (
        tally.ok_a.load(Ordering::Relaxed),
        tally.ok_b.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
    );
    assert_eq!(
        before.2, 0,
        "errors before the kill: {before:?}; {:?}",
        h.log
    );

    // Kill a mid-run: HAProxy's checks mark it DOWN; the traffic goes to b.
    a.kill();
    let killed = Instant::now();
    let took_down = h.wait_for("server a DOWN", |h| h.is("gonet", "a", "DOWN"));
    down.store(true, Ordering::SeqCst);
    let errors_at_down = tally.errors.load(Ordering::Relaxed);
    let at_down = total(&tally);
    h.wait_for("200 round trips with a DOWN", |_| {
        total(&tally) >= at_down + 200
    });
    assert_eq!(
        tally.after_down_a.load(Ordering::Relaxed),
        0,
        "a round trip reached the killed backend"
    );
    assert_eq!(
        tally.after_down_errors.load(Ordering::Relaxed),
        0,
        "errors once HAProxy had a DOWN"
    );

    // Back on the same address: HAProxy's checks bring it UP, and it serves again.
    let a = Backend::start("a", &a_addr);
    let restarted = Instant::now();
    let took_up = h.wait_for("both servers UP again", |h| {
        h.is("gonet", "a", "UP") && h.is("gonet", "b", "UP")
    });
    let a_at_up = tally.ok_a.load(Ordering::Relaxed);
    h.wait_for("traffic on a again", |_| {
        tally.ok_a.load(Ordering::Relaxed) >= a_at_up + 50
    });
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("a client worker panicked");
    }
    let errors = tally.errors.load(Ordering::Relaxed);
    eprintln!(
        "haproxy fail-over: {} round trips (a {}, b {}), {errors} failed ({errors_at_down} \
         by the DOWN, none begun after it); a DOWN {took_down:?} after the kill ({:?} in \
         all), UP {took_up:?} after its restart ({:?} in all); failures: {:?}",
        total(&tally),
        tally.ok_a.load(Ordering::Relaxed),
        tally.ok_b.load(Ordering::Relaxed),
        killed.elapsed(),
        restarted.elapsed(),
        tally.why.lock().unwrap(),
    );
    // Only connections in flight on a when it died may fail (HAProxy redispatches a
    // refused connect to b): at most a few per worker.
    assert!(
        errors <= 4 * WORKERS,
        "{errors} failed round trips (bound {})",
        4 * WORKERS
    );
    let lines = a.server.stderr.lock().unwrap().clone();
    assert!(
        !lines.iter().any(|l| l.contains("proxyproto")),
        "the restarted backend closed a connection: {lines:?}"
    );
}

/// `show stat`'s `scur` (sessions now) of every row of `px` (FRONTEND, BACKEND, servers).
fn current_sessions(h: &Haproxy, px: &str) -> Vec<(String, usize)> {
    let Ok(csv) = h.command("show stat") else {
        return Vec::new();
    };
    let mut lines = csv.lines();
    let head: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let col = |name: &str| head.iter().position(|c| *c == name).expect(name);
    let (p, sv, scur) = (col("pxname"), col("svname"), col("scur"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > scur && f[p] == px)
        .map(|f| (f[sv].to_string(), f[scur].parse().unwrap_or(0)))
        .collect()
}

#[test]
fn a_thousand_concurrent_connections_through_haproxy_each_see_their_own_address() {
    util::init();
    const N: usize = 1000;
    let a = Backend::start("a", "127.0.0.1:0");
    let b = Backend::start("b", "127.0.0.1:0");
    let (port, port_v1) = (free_port(), free_port());
    let h = Haproxy::start("haproxy-many", &config(port, port_v1, &a.addr, &b.addr));
    h.wait_for("both servers UP", |h| {
        h.is("gonet", "a", "UP") && h.is("gonet", "b", "UP")
    });

    // N coroutines, each one connection held open after its round trip until `done` is
    // closed (Go's close(done)).
    let (results, got) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = gonet::chan::<()>(0);
    let to = format!("127.0.0.1:{port}");
    let start = Instant::now();
    for i in 0..N {
        let (results, done, to) = (results.clone(), done_rx.clone(), to.clone());
        gonet::go!(move || {
            let msg = format!("connection {i}\n");
            match round_trip("127.0.0.2", &to, msg.as_bytes()) {
                Ok((g, conn)) => {
                    let _ = results.send(Ok((g, conn.local_addr().to_string())));
                    let _ = done.recv(); // held until the count is taken
                }
                Err(e) => {
                    let _ = results.send(Err(e.to_string()));
                }
            }
        });
    }
    drop(results);
    let mut remotes = std::collections::HashSet::new();
    let mut per_backend = std::collections::BTreeMap::new();
    for k in 0..N {
        let left = (2 * LIMIT).saturating_sub(start.elapsed());
        match got.recv_timeout(left) {
            Ok(Ok((g, own))) => {
                assert_eq!(g.remote, own, "connection {k}: {g:?}");
                remotes.insert(g.remote);
                *per_backend.entry(g.backend).or_insert(0usize) += 1;
            }
            Ok(Err(e)) => panic!("connection {k} of {N} failed: {e}"),
            Err(e) => panic!("{k} of {N} connections after {:?}: {e}", start.elapsed()),
        }
    }
    let connected = start.elapsed();
    assert_eq!(remotes.len(), N, "every client port seen once");
    // HAProxy holds them all at once: N sessions on the frontend and on the servers.
    h.wait_for("N sessions on the frontend", |h| {
        current_sessions(h, "fe_v2")
            .iter()
            .any(|(sv, n)| sv == "FRONTEND" && *n == N)
    });
    let servers: Vec<_> = current_sessions(&h, "gonet")
        .into_iter()
        .filter(|(sv, _)| sv == "a" || sv == "b")
        .collect();
    assert_eq!(
        servers.iter().map(|(_, n)| n).sum::<usize>(),
        N,
        "{servers:?}"
    );
    assert!(servers.iter().all(|(_, n)| *n > 0), "{servers:?}");
    eprintln!(
        "haproxy: {N} concurrent connections through HAProxy, each with its own address at \
         its backend, connected and proven in {connected:?}; per backend {per_backend:?}"
    );
    done_tx.close().expect("close done");
    h.wait_for("the sessions gone", |h| {
        current_sessions(h, "fe_v2")
            .iter()
            .any(|(sv, n)| sv == "FRONTEND" && *n == 0)
    });
}
