//! Contexts in the net layer: `Dialer::dial_context` cancelled or timed out while it
//! connects to a backlog that never accepts (it returns at once, and every descriptor
//! it opened is released), or while a slow resolver looks its name up (the answer is
//! dropped), or while both address families race (Happy Eyeballs: both racers end and
//! close their sockets); `listen_context` and the `lookup_*_context` calls; and every text and
//! `errors.Is` answer compared with live Go 1.19 (tests/go/dial_context/dial_context.go).
//!
//! No DNS query is ever sent: the only name looked up is "localhost" (in /etc/hosts); a
//! slow DNS server is played by gonet's resolver hook. The hook is process-wide, so the
//! tests here run one at a time.

#[path = "util/go.rs"]
mod go_util;
mod util;

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use gonet::context;
use util::{FullBacklog, eventually, fd_count, in_coroutine};

const LIMIT: Duration = Duration::from_secs(10);

/// One test at a time, with may's scheduler (and its poller descriptors) already
/// running, so that counting descriptors counts only a test's own.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    util::init();
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    gonet::go!(move || gonet::dial("tcp", &addr).map(drop))
        .join()
        .unwrap()
        .unwrap();
    g
}

/// Sets a resolver hook for the test's lifetime (also when it panics).
struct Hook;

impl Hook {
    /// A hook that reports each name looked up, then holds its resolver thread until
    /// released (or [`LIMIT`] passes).
    fn slow() -> (
        Hook,
        crossbeam::channel::Receiver<String>,
        crossbeam::channel::Sender<()>,
    ) {
        let (entered_tx, entered) = crossbeam::channel::unbounded();
        let (release, release_rx) = crossbeam::channel::unbounded::<()>();
        gonet::__set_resolver_hook(Some(Arc::new(move |name: &str| {
            let _ = entered_tx.send(name.to_string());
            let _ = release_rx.recv_timeout(LIMIT);
        })));
        (Hook, entered, release)
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        gonet::__set_resolver_hook(None);
    }
}

fn summary(r: io::Result<gonet::Conn>) -> String {
    match r {
        Ok(c) => format!("connected to {}", c.remote_addr()),
        Err(e) => e.to_string(),
    }
}

/// A dial to `addr` ended by its context's cancel, `took` after the cancel: Go's text, an
/// `OpError` around `ErrCanceled`, `is_canceled` and not a timeout, and at once.
fn assert_cancelled_at_once(err: &io::Error, addr: &str, took: Duration) {
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: operation was canceled")
    );
    assert!(context::is_canceled(err) && !gonet::is_timeout(err));
    let op = gonet::OpError::of(err).expect("an OpError");
    assert!(op.err.is::<gonet::net::ErrCanceled>());
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn a_cancel_mid_connect_returns_at_once_and_releases_every_socket() {
    let _g = serial();
    const DIALS: usize = 32;
    let backlog = FullBacklog::new("127.0.0.1");
    let addr = backlog.addr.to_string();
    let baseline = fd_count();
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, results) = std::sync::mpsc::channel();
    for _ in 0..DIALS {
        let (ctx, addr, tx) = (ctx.clone(), addr.clone(), tx.clone());
        gonet::go!(move || {
            let r = gonet::Dialer::default().dial_context(&ctx, "tcp", &addr);
            let _ = tx.send((r.map(|c| c.remote_addr()), Instant::now()));
        });
    }
    // Every dial holds its socket while its SYN goes unanswered.
    assert!(
        eventually(LIMIT, || fd_count() >= baseline + DIALS),
        "{} of {DIALS} dials started",
        fd_count().saturating_sub(baseline)
    );
    assert!(
        results.try_recv().is_err(),
        "a dial ended before the cancel"
    );
    let cancelled_at = Instant::now();
    cancel();
    for _ in 0..DIALS {
        let (r, at) = results
            .recv_timeout(LIMIT)
            .expect("the cancel ended the dial");
        assert_cancelled_at_once(&r.unwrap_err(), &addr, at - cancelled_at);
    }
    assert!(
        eventually(LIMIT, || fd_count() <= baseline),
        "{} descriptors left",
        fd_count().saturating_sub(baseline)
    );
}

#[test]
fn a_cancel_mid_happy_eyeballs_ends_both_racers() {
    let _g = serial();
    // Both families hang (full backlogs), so after the fallback delay two racers are
    // connecting, each on its own socket, when the context is cancelled.
    let (hole6, hole4) = (FullBacklog::new("::1"), FullBacklog::new("127.0.0.1"));
    let addrs = [hole6.addr, hole4.addr];
    let baseline = fd_count();
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, result) = std::sync::mpsc::channel();
    gonet::go!(move || {
        let d = gonet::Dialer {
            fallback_delay: Some(Duration::from_millis(20)),
            ..Default::default()
        };
        let _ = tx.send((d.dial_addrs_context(&ctx, "tcp", &addrs), Instant::now()));
    });
    assert!(
        eventually(LIMIT, || fd_count() >= baseline + 2),
        "the fallback racer never started ({} sockets)",
        fd_count().saturating_sub(baseline)
    );
    assert!(
        result.try_recv().is_err(),
        "the dial ended before the cancel"
    );
    let cancelled_at = Instant::now();
    cancel();
    let (r, at) = result
        .recv_timeout(LIMIT)
        .expect("the cancel ended the dial");
    // Go's dialParallel: when both racers fail, the primary's error.
    let primary = hole6.addr.to_string();
    assert_cancelled_at_once(&r.unwrap_err(), &primary, at - cancelled_at);
    assert!(
        eventually(LIMIT, || fd_count() <= baseline),
        "{} descriptors left",
        fd_count().saturating_sub(baseline)
    );
}

#[test]
fn a_cancel_mid_connect_wakes_a_plain_thread() {
    let _g = serial();
    let backlog = FullBacklog::new("127.0.0.1");
    let addr = backlog.addr.to_string();
    // Round 0 warms up: a plain thread's first wait takes an eventfd that gonet keeps in
    // a pool for later threads (src/net/fd_poll_thread.rs).
    for round in 0..2 {
        let baseline = fd_count();
        let (ctx, cancel) = context::with_cancel(&context::background());
        let a = addr.clone();
        let dialer = std::thread::spawn(move || {
            let r = gonet::Dialer::default().dial_context(&ctx, "tcp", &a);
            (summary(r), Instant::now())
        });
        assert!(
            eventually(LIMIT, || fd_count() > baseline),
            "the dial started"
        );
        let cancelled_at = Instant::now();
        cancel();
        let (text, at) = dialer.join().unwrap();
        assert_eq!(text, format!("dial tcp {addr}: operation was canceled"));
        assert!(at - cancelled_at < Duration::from_secs(2));
        if round > 0 {
            let released = eventually(LIMIT, || fd_count() <= baseline);
            assert!(released, "{} descriptors left", fd_count() - baseline);
        }
    }
}

#[test]
fn a_context_deadline_mid_connect_is_an_i_o_timeout() {
    let _g = serial();
    let backlog = FullBacklog::new("127.0.0.1");
    let addr = backlog.addr.to_string();
    let baseline = fd_count();
    for via_context in [true, false] {
        let a = addr.clone();
        let (err, took) = in_coroutine(LIMIT, move || {
            let start = Instant::now();
            let timeout = Duration::from_millis(100);
            let err = if via_context {
                let (ctx, _cancel) = context::with_timeout(&context::background(), timeout);
                gonet::Dialer::default().dial_context(&ctx, "tcp", &a)
            } else {
                gonet::dial_timeout("tcp", &a, timeout)
            };
            (err.unwrap_err(), start.elapsed())
        });
        assert_eq!(err.to_string(), format!("dial tcp {addr}: i/o timeout"));
        assert!(gonet::is_timeout(&err) && context::is_deadline_exceeded(&err));
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(!context::is_canceled(&err));
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_secs(3),
            "{took:?}"
        );
    }
    assert!(eventually(LIMIT, || fd_count() <= baseline));
}

#[test]
fn an_ended_context_opens_no_socket() {
    let _g = serial();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let unix_name = util::abstract_name("dial-context");
    let _uln = gonet::listen("unix", &unix_name).unwrap();
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel();
    let baseline = fd_count();
    let d = gonet::Dialer::default();
    for (network, address) in [
        ("tcp", ln.addr().to_string()),
        ("tcp4", ln.addr().to_string()),
        ("unix", unix_name.clone()),
        ("udp", "127.0.0.1:9".to_string()),
    ] {
        let err = d.dial_context(&ctx, network, &address).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("dial {network} {address}: operation was canceled")
        );
        assert!(context::is_canceled(&err));
    }
    assert_eq!(fd_count(), baseline);
    // Nothing was left in the listener's queue.
    ln.set_deadline(Some(Instant::now())).unwrap();
    assert!(gonet::is_timeout(&ln.accept().unwrap_err()));
}

#[test]
fn a_cancel_during_the_lookup_ends_the_dial_and_drops_the_answer() {
    let _g = serial();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let port = ln.addr().socket_addr().unwrap().port();
    let (hook, entered, release) = Hook::slow();
    let (ctx, cancel) = context::with_cancel(&context::background());
    let address = format!("localhost:{port}");
    let (tx, result) = std::sync::mpsc::channel();
    let (c, a) = (ctx.clone(), address.clone());
    gonet::go!(move || {
        let _ = tx.send(summary(
            gonet::Dialer::default().dial_context(&c, "tcp", &a),
        ));
    });
    assert_eq!(entered.recv_timeout(LIMIT).unwrap(), "localhost");
    assert!(
        result.recv_timeout(Duration::from_millis(50)).is_err(),
        "the lookup is pending"
    );
    let cancelled_at = Instant::now();
    cancel();
    let text = result
        .recv_timeout(LIMIT)
        .expect("the cancel ended the lookup");
    assert!(cancelled_at.elapsed() < Duration::from_secs(2));
    assert_eq!(text, "dial tcp: lookup localhost: operation was canceled");
    // The resolver thread's late answer finds nobody; the next dial works as ever.
    release.send(()).unwrap();
    drop(hook);
    let conn = gonet::Dialer::default()
        .dial_context(&context::background(), "tcp", &address)
        .unwrap();
    assert_eq!(conn.remote_addr(), ln.addr());
    // And no connection was made for the cancelled dial.
    let _first = ln.accept().unwrap();
    ln.set_deadline(Some(Instant::now())).unwrap();
    assert!(gonet::is_timeout(&ln.accept().unwrap_err()));
}

#[test]
fn a_context_deadline_bounds_the_lookup() {
    let _g = serial();
    let (hook, entered, release) = Hook::slow();
    let (err, took) = in_coroutine(LIMIT, || {
        let start = Instant::now();
        let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(100));
        let err = gonet::lookup_ip_context(&ctx, "localhost").unwrap_err();
        (err, start.elapsed())
    });
    assert_eq!(err.to_string(), "lookup localhost: i/o timeout");
    assert!(gonet::is_timeout(&err));
    let dns = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<gonet::DnsError>())
        .unwrap();
    assert!(dns.is_timeout);
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(entered.recv_timeout(LIMIT).unwrap(), "localhost");
    release.send(()).unwrap();
    // A fresh hook, so that the release above cannot reach the lookup below.
    drop(hook);
    let (_hook, entered, release) = Hook::slow();

    // lookup_host_context, cancelled while the resolver is slow.
    let (ctx, cancel) = context::with_cancel(&context::background());
    let c = ctx.clone();
    let (tx, result) = std::sync::mpsc::channel();
    gonet::go!(move || {
        let _ = tx.send(gonet::lookup_host_context(&c, "localhost").map_err(|e| e.to_string()));
    });
    assert_eq!(entered.recv_timeout(LIMIT).unwrap(), "localhost");
    cancel();
    let r = result.recv_timeout(LIMIT).unwrap();
    assert_eq!(r.unwrap_err(), "lookup localhost: operation was canceled");
    release.send(()).unwrap();
}

#[test]
fn listen_context_looks_names_up_under_the_context() {
    let _g = serial();
    let lc = gonet::ListenConfig::default();
    let (ctx, cancel) = context::with_cancel(&context::background());
    let ln = lc.listen_context(&ctx, "tcp", "localhost:0").unwrap();
    assert_eq!(ln.addr().network(), "tcp");
    cancel();
    let err = lc.listen_context(&ctx, "tcp", "localhost:0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "listen tcp: lookup localhost: operation was canceled"
    );
    // No lookup, no use for the context: as in Go.
    assert!(lc.listen_context(&ctx, "tcp", "127.0.0.1:0").is_ok());
    assert!(
        lc.listen_context(&ctx, "unix", &util::abstract_name("lc"))
            .is_ok()
    );
    assert!(lc.listen_packet_context(&ctx, "udp", "127.0.0.1:0").is_ok());
}

/// Go 1.19's answers for the same calls, line for line.
#[test]
fn texts_match_go() {
    let _g = serial();
    let bin = go_util::go_binary("tests/go/dial_context/dial_context.go");
    let out = std::process::Command::new(&bin)
        .output()
        .expect("run the Go program");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let go_lines: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    let ours = gonet_lines();
    for (o, g) in ours.iter().zip(&go_lines) {
        if o.contains("mid-connect\tdial tcp 127.0.0.1:PORT: i/o timeout") {
            // Go races here: its poller's write deadline (os.ErrDeadlineExceeded, which
            // is not context.DeadlineExceeded) and its context's timer (errTimeout, which
            // is) end the connect at the same instant, and either may report first. The
            // text and Timeout() are the same either way; gonet always reports the
            // second.
            let stable = |l: &str| l.replace("deadline=false", "deadline=true");
            assert_eq!(stable(o), stable(g));
            continue;
        }
        assert_eq!(o, g);
    }
    assert_eq!(ours.len(), go_lines.len(), "ours:\n{}", ours.join("\n"));
}

/// The lines of the parity report.
#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    /// The never-accepting listener's port, printed as PORT.
    port: String,
}

impl Lines {
    fn err(&mut self, case: &str, err: io::Error) {
        let text = err.to_string().replace(&format!(":{}", self.port), ":PORT");
        self.lines.push(format!(
            "{case}\t{text}\tcanceled={}\tdeadline={}\ttimeout={}",
            context::is_canceled(&err),
            context::is_deadline_exceeded(&err),
            gonet::is_timeout(&err),
        ));
    }

    fn ok(&mut self, case: &str, v: impl std::fmt::Display) {
        self.lines.push(format!("{case}\tok {v}"));
    }
}

/// What tests/go/dial_context/dial_context.go prints, computed with gonet.
fn gonet_lines() -> Vec<String> {
    let backlog = FullBacklog::new("127.0.0.1");
    let hang = backlog.addr.to_string();
    let mut out = Lines {
        port: backlog.addr.port().to_string(),
        ..Default::default()
    };
    let bg = context::background();
    let (canceled, cancel) = context::with_cancel(&bg);
    cancel();
    let (expired, _c2) = context::with_deadline(&bg, Instant::now() - Duration::from_secs(1));
    let d = gonet::Dialer::default();
    for (case, network, address) in [
        ("dial canceled ip", "tcp", "127.0.0.1:80"),
        ("dial canceled ip6", "tcp", "[::1]:80"),
        ("dial canceled tcp4", "tcp4", "127.0.0.1:80"),
        ("dial canceled localhost", "tcp", "localhost:80"),
        ("dial canceled unix", "unix", "@gonet-parity-nonexistent"),
        ("dial canceled udp", "udp", "127.0.0.1:53"),
        ("dial canceled bad network", "tcpx", "127.0.0.1:80"),
        ("dial canceled missing address", "tcp", ""),
        ("dial canceled bad port", "tcp", "127.0.0.1:99999"),
    ] {
        out.err(
            case,
            d.dial_context(&canceled, network, address).unwrap_err(),
        );
    }
    out.err(
        "dial expired ip",
        d.dial_context(&expired, "tcp", "127.0.0.1:80").unwrap_err(),
    );
    let err = d.dial_context(&expired, "tcp", "localhost:80").unwrap_err();
    out.err("dial expired localhost", err);
    let past = gonet::Dialer {
        deadline: Some(Instant::now() - Duration::from_secs(1)),
        ..Default::default()
    };
    out.err(
        "dialer deadline passed ip",
        past.dial("tcp", "127.0.0.1:80").unwrap_err(),
    );
    out.err(
        "dialer deadline passed localhost",
        past.dial("tcp", "localhost:80").unwrap_err(),
    );

    // Cancelled once the connect has its socket: while it waits for the handshake.
    let (mid, cancel_mid) = context::with_cancel(&bg);
    let baseline = fd_count();
    let canceller = std::thread::spawn(move || {
        assert!(
            eventually(LIMIT, || fd_count() > baseline),
            "the dial started"
        );
        cancel_mid();
    });
    out.err(
        "dial canceled mid-connect",
        d.dial_context(&mid, "tcp", &hang).unwrap_err(),
    );
    canceller.join().unwrap();
    let (soon, _c3) = context::with_timeout(&bg, Duration::from_millis(50));
    out.err(
        "dial deadline mid-connect",
        d.dial_context(&soon, "tcp", &hang).unwrap_err(),
    );
    let err = gonet::dial_timeout("tcp", &hang, Duration::from_millis(50)).unwrap_err();
    out.err("dialer timeout mid-connect", err);

    let lc = gonet::ListenConfig::default();
    let err = lc
        .listen_context(&canceled, "tcp", "localhost:0")
        .unwrap_err();
    out.err("listen canceled localhost", err);
    let err = lc
        .listen_context(&expired, "tcp", "localhost:0")
        .unwrap_err();
    out.err("listen expired localhost", err);
    let ln = lc.listen_context(&canceled, "tcp", "127.0.0.1:0").unwrap();
    out.ok("listen canceled ip", ln.addr().network());
    drop(ln);
    let err = lc
        .listen_packet_context(&canceled, "udp", "localhost:0")
        .map(|_| ())
        .unwrap_err();
    out.err("listen packet canceled localhost", err);

    let lookup = |ctx: &context::Context, host: &str| gonet::lookup_ip_context(ctx, host);
    out.err(
        "lookup ip canceled",
        lookup(&canceled, "localhost").unwrap_err(),
    );
    out.err(
        "lookup ip expired",
        lookup(&expired, "localhost").unwrap_err(),
    );
    out.err(
        "lookup ip canceled not a name",
        lookup(&canceled, "256.0.0.1").unwrap_err(),
    );
    out.err(
        "lookup ip canceled empty",
        lookup(&canceled, "").unwrap_err(),
    );
    out.ok(
        "lookup ip canceled literal",
        lookup(&canceled, "127.0.0.1").unwrap()[0],
    );
    let hosts = gonet::lookup_host_context(&canceled, "localhost").unwrap();
    // Go prints a slice as [a b].
    out.ok(
        "lookup host canceled localhost",
        format!("[{}]", hosts.join(" ")),
    );
    let err = gonet::lookup_host_context(&canceled, "256.0.0.1").unwrap_err();
    out.err("lookup host canceled not a name", err);
    let p = gonet::lookup_port_context(&canceled, "tcp", "http").unwrap();
    out.ok("lookup port canceled", p);
    out.lines
}
