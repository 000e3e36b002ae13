//! Name resolution off the worker threads, with ONE may worker thread: while a lookup
//! is pending on a resolver thread, the worker goes on running other coroutines.
//!
//! `may::config().set_workers(1)` is process-wide and must come before may starts, so
//! these tests live in their own binary and every test calls `setup()` first. No DNS
//! query is ever sent: the only name looked up is "localhost", which /etc/hosts answers;
//! the slowness of a real DNS server is played by a resolver hook that blocks its
//! resolver thread until the test releases it.

mod util;

use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, Sender};

const LIMIT: Duration = Duration::from_secs(10);

/// One worker thread, set before anything starts may; and one test at a time, since the
/// resolver hook is process-wide.
fn setup() -> MutexGuard<'static, ()> {
    static ONE_WORKER: Once = Once::new();
    static SERIAL: Mutex<()> = Mutex::new(());
    ONE_WORKER.call_once(|| {
        may::config().set_workers(1);
    });
    util::init();
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets a resolver hook for the test's lifetime (also when it panics).
struct Hook;

impl Hook {
    fn set(f: impl Fn(&str) + Send + Sync + 'static) -> Hook {
        gonet::__set_resolver_hook(Some(Arc::new(f)));
        Hook
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        gonet::__set_resolver_hook(None);
    }
}

/// A name looked up, and the name of the thread that looked it up.
type Entered = (String, Option<String>);

/// A hook that reports each name and the thread looking it up, then blocks that thread
/// until released (or 10 s pass): a DNS server that is slow for as long as we like.
fn slow_resolver() -> (Hook, Receiver<Entered>, Sender<()>) {
    let (entered_tx, entered_rx) = crossbeam::channel::unbounded();
    let (release_tx, release_rx) = crossbeam::channel::unbounded::<()>();
    let hook = Hook::set(move |name: &str| {
        let thread = std::thread::current().name().map(String::from);
        let _ = entered_tx.send((name.to_string(), thread));
        let _ = release_rx.recv_timeout(LIMIT);
    });
    (hook, entered_rx, release_tx)
}

fn listener() -> (gonet::Listener, u16) {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let port = ln.addr().socket_addr().unwrap().port();
    (ln, port)
}

#[test]
fn a_slow_lookup_parks_only_its_coroutine() {
    let _g = setup();
    let (ln, port) = listener();
    assert_eq!(may::config().get_workers(), 1);
    let (_hook, entered, release) = slow_resolver();

    let (a_tx, a_rx) = may::sync::mpsc::channel();
    gonet::go!(move || {
        let _ =
            a_tx.send(gonet::dial("tcp", &format!("localhost:{port}")).map(|c| c.remote_addr()));
    });
    let (name, thread) = entered
        .recv_timeout(LIMIT)
        .expect("the lookup reached the resolver pool");
    assert_eq!(name, "localhost");
    // The resolver is a user of gonet's blocking pool.
    assert_eq!(thread.as_deref(), Some("gonet-blocking"));

    // The dial above waits for its lookup. The one worker thread still runs another
    // coroutine, network I/O included; had the lookup blocked the worker, it never would.
    let (b_tx, b_rx) = may::sync::mpsc::channel();
    let literal = ln.addr().to_string();
    gonet::go!(move || {
        let _ = b_tx.send(gonet::dial("tcp", &literal).map(|c| c.remote_addr()));
    });
    let other = b_rx
        .recv_timeout(LIMIT)
        .expect("another coroutine ran meanwhile");
    assert_eq!(other.unwrap(), ln.addr());
    assert!(a_rx.try_recv().is_err(), "the slow lookup is still pending");

    release.send(()).unwrap();
    let slow = a_rx
        .recv_timeout(LIMIT)
        .expect("the lookup finished once released");
    assert_eq!(slow.unwrap(), ln.addr());
}

#[test]
fn the_dial_deadline_bounds_the_wait_for_the_resolver() {
    let _g = setup();
    let (_ln, port) = listener();
    let (_hook, entered, release) = slow_resolver();
    let address = format!("localhost:{port}");
    let a = address.clone();
    let (err, took) = util::in_coroutine(LIMIT, move || {
        let start = Instant::now();
        let err = gonet::dial_timeout("tcp", &a, Duration::from_millis(200)).unwrap_err();
        (err, start.elapsed())
    });
    assert_eq!(err.to_string(), "dial tcp: lookup localhost: i/o timeout");
    assert!(gonet::is_timeout(&err));
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    let dns = gonet::OpError::of(&err)
        .and_then(|op| op.err.downcast_ref::<gonet::DnsError>())
        .expect("a DnsError inside");
    assert!(dns.is_timeout && !dns.is_not_found);
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(entered.recv_timeout(LIMIT).unwrap().0, "localhost");

    // The same on a plain thread, which blocks instead of parking.
    let d = gonet::Dialer {
        deadline: Some(Instant::now() + Duration::from_millis(100)),
        ..Default::default()
    };
    let err = d.dial("tcp", &address).unwrap_err();
    assert_eq!(err.to_string(), "dial tcp: lookup localhost: i/o timeout");
    for _ in 0..2 {
        release.send(()).unwrap();
    }
}

#[test]
fn plain_threads_and_literals() {
    let _g = setup();
    let (ln, port) = listener();
    let (seen_tx, seen) = crossbeam::channel::unbounded();
    let _hook = Hook::set(move |name: &str| {
        let _ = seen_tx.send(name.to_string());
    });
    // A plain thread (this one) waits for the resolver thread's answer.
    let conn = gonet::dial("tcp", &format!("localhost:{port}")).unwrap();
    assert_eq!(conn.remote_addr(), ln.addr());
    assert_eq!(seen.try_recv().as_deref(), Ok("localhost"));
    // IP literals never reach the resolver.
    gonet::dial("tcp", &format!("127.0.0.1:{port}")).unwrap();
    gonet::dial("tcp4", &format!("[::ffff:127.0.0.1]:{port}")).unwrap();
    assert!(seen.try_recv().is_err());
    // Names that cannot be domain names fail at once, as in Go.
    let err = gonet::dial("tcp", &format!("256.0.0.1:{port}")).unwrap_err();
    assert_eq!(err.to_string(), "dial tcp: lookup 256.0.0.1: no such host");
    assert!(seen.try_recv().is_err());
}

#[test]
fn at_most_four_resolver_threads() {
    let _g = setup();
    let (ln, port) = listener();
    let (_hook, entered, release) = slow_resolver();
    const N: usize = 8;
    let (tx, rx) = may::sync::mpsc::channel();
    for _ in 0..N {
        let tx = tx.clone();
        gonet::go!(move || {
            let _ =
                tx.send(gonet::dial("tcp", &format!("localhost:{port}")).map(|c| c.remote_addr()));
        });
    }
    for _ in 0..4 {
        entered
            .recv_timeout(LIMIT)
            .expect("four lookups run at once");
    }
    assert_eq!(gonet::__resolver_threads(), 4);
    // All four threads are blocked: the other lookups wait in the queue.
    assert!(entered.recv_timeout(Duration::from_millis(200)).is_err());
    for _ in 0..N {
        release.send(()).unwrap();
    }
    for _ in 0..N {
        let r = rx.recv_timeout(LIMIT).expect("every dial finished");
        assert_eq!(r.unwrap(), ln.addr());
    }
    assert_eq!(gonet::__resolver_threads(), 4);
}

#[test]
fn lookup_host_ip_and_port_answer_as_go_does() {
    let _g = setup(); // no resolver hook from another test while this runs
    // What Go 1.19 (Debian's golang-go) prints for the same calls on this machine; only
    // /etc/hosts names and strings that are no domain names, so no query leaves it.
    let port = |n: &str, s: &str| match gonet::lookup_port(n, s) {
        Ok(p) => p.to_string(),
        Err(e) => e.to_string(),
    };
    for (network, service, want) in [
        ("tcp", "http", "80"),
        ("tcp4", "HTTP", "80"),
        ("udp", "domain", "53"),
        ("tcp", "nosuchsvc", "address tcp/nosuchsvc: unknown port"),
        ("udp6", "nosuchsvc", "address udp/nosuchsvc: unknown port"),
        ("", "http", "address ip/http: unknown port"),
        ("ip", "http", "address ip: unknown network"),
        ("unix", "http", "address unix: unknown network"),
        ("tcp", "99999", "address 99999: invalid port"),
        ("tcp", "-1", "address -1: invalid port"),
        ("tcp", "8080", "8080"),
        ("unix", "80", "80"),
        ("tcp", "", "0"),
    ] {
        assert_eq!(
            port(network, service),
            want,
            "LookupPort({network:?}, {service:?})"
        );
    }
    let host = |h: &str| match gonet::lookup_host(h) {
        Ok(v) => v.join(" "),
        Err(e) => e.to_string(),
    };
    let ip = |h: &str| match gonet::lookup_ip(h) {
        Ok(v) => v
            .iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        Err(e) => e.to_string(),
    };
    for (name, want_host, want_ip) in [
        ("localhost", "127.0.0.1", "127.0.0.1"),
        ("LOCALHOST", "127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1", "127.0.0.1"),
        ("::1", "::1", "::1"),
        ("fe80::1%lo", "fe80::1%lo", "fe80::1"),
        ("", "lookup : no such host", "lookup : no such host"),
        (
            "256.0.0.1",
            "lookup 256.0.0.1: no such host",
            "lookup 256.0.0.1: no such host",
        ),
    ] {
        assert_eq!(host(name), want_host, "LookupHost({name:?})");
        assert_eq!(ip(name), want_ip, "LookupIP({name:?})");
    }
    // The errors carry Go's types, and say "not found" to std too.
    let err = gonet::lookup_host("256.0.0.1").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let dns = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<gonet::DnsError>());
    assert!(dns.is_some_and(|d| d.is_not_found), "{err:?}");
    let err = gonet::lookup_port("tcp", "nosuchsvc").unwrap_err();
    assert!(
        err.get_ref()
            .is_some_and(|e| e.downcast_ref::<gonet::AddrError>().is_some())
    );
}
