//! The client side: `dial`, `dial_timeout`, `Dialer` over real loopback sockets, with
//! Go's error texts, its options, Happy Eyeballs racing and thousands of simultaneous
//! dials from coroutines.
//!
//! Tests that count this process's descriptors hold `exclusive()`, every other test
//! holds `shared()`, so no test opens descriptors while another counts them.

mod util;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use util::{FullBacklog, Refusing, eventually, fd_count, in_coroutine};

static FDS: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    util::init();
    FDS.read().unwrap_or_else(|e| e.into_inner())
}

/// For tests that count descriptors; may's own (epoll, timers) are made beforehand.
fn exclusive() -> RwLockWriteGuard<'static, ()> {
    util::init();
    let guard = FDS.write().unwrap_or_else(|e| e.into_inner());
    in_coroutine(Duration::from_secs(5), || ());
    guard
}

const LIMIT: Duration = Duration::from_secs(20);

fn errno(err: &io::Error) -> Option<i32> {
    gonet::OpError::of(err).and_then(|op| op.errno())
}

#[test]
fn refused_is_gos_error() {
    let _g = shared();
    for ip in ["127.0.0.1", "::1"] {
        let r = Refusing::new(ip);
        let addr = r.addr.to_string();
        let err = in_coroutine(LIMIT, move || gonet::dial("tcp", &addr).unwrap_err());
        assert_eq!(
            err.to_string(),
            format!("dial tcp {}: connect: connection refused", r.addr)
        );
        assert_eq!(errno(&err), Some(libc::ECONNREFUSED));
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(!gonet::is_timeout(&err));
    }
}

#[test]
fn timeout_against_a_full_backlog_is_gos_and_leaks_nothing() {
    let _g = exclusive();
    let hole = FullBacklog::new("127.0.0.1");
    let addr = hole.addr.to_string();
    let base = fd_count();
    // In a coroutine (parked in the netpoller) and on this plain thread (poll(2)).
    let a = addr.clone();
    let (err, took) = in_coroutine(LIMIT, move || {
        let start = Instant::now();
        let err = gonet::dial_timeout("tcp", &a, Duration::from_millis(200)).unwrap_err();
        (err, start.elapsed())
    });
    assert_eq!(err.to_string(), format!("dial tcp {addr}: i/o timeout"));
    assert!(gonet::is_timeout(&err), "{err}");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(fd_count(), base, "the timed-out socket is closed");

    let d = gonet::Dialer {
        deadline: Some(Instant::now() + Duration::from_millis(100)),
        ..Default::default()
    };
    let err = d.dial("tcp", &addr).unwrap_err();
    assert_eq!(err.to_string(), format!("dial tcp {addr}: i/o timeout"));
    assert!(gonet::is_timeout(&err));
    assert_eq!(fd_count(), base);
}

#[test]
fn a_passed_deadline_fails_before_connecting() {
    let _g = shared();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    ln.set_deadline(Some(Instant::now() + Duration::from_millis(300)))
        .unwrap();
    let d = gonet::Dialer {
        deadline: Some(Instant::now()),
        ..Default::default()
    };
    let err = d.dial("tcp", &addr).unwrap_err();
    // Go: dialSerial finds the context done and does not try the address.
    assert_eq!(err.to_string(), format!("dial tcp {addr}: i/o timeout"));
    assert!(gonet::is_timeout(&err));
    assert!(
        gonet::is_timeout(&ln.accept().unwrap_err()),
        "nothing connected"
    );
}

#[test]
fn unix_missing_file_and_abstract_names() {
    let _g = shared();
    let dir = util::TempDir::new("dial");
    let missing = dir.sock("missing.sock");
    let err = gonet::dial("unix", &missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial unix {missing}: connect: no such file or directory")
    );
    assert_eq!(errno(&err), Some(libc::ENOENT));

    let name = util::abstract_name("dial");
    let err = gonet::dial("unix", &name).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial unix {name}: connect: connection refused")
    );

    let (ln, accept_loop) = util::spawn_echo(gonet::listen("unix", &name).unwrap());
    let n = name.clone();
    let (remote, echoed) = in_coroutine(LIMIT, move || {
        let conn = gonet::dial("unix", &n).unwrap();
        conn.write(b"u").unwrap();
        let mut b = [0u8; 1];
        conn.read_full(&mut b).unwrap();
        (conn.remote_addr(), b)
    });
    assert_eq!(remote.to_string(), name);
    assert_eq!(remote.network(), "unix");
    assert_eq!(&echoed, b"u");
    ln.close().unwrap();
    accept_loop.join().unwrap();
}

#[test]
fn local_addr_is_bound_before_connecting() {
    let _g = shared();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let d = gonet::Dialer {
        local_addr: Some("127.0.0.2:0".parse::<SocketAddr>().unwrap().into()),
        ..Default::default()
    };
    let conn = d.dial("tcp", &addr).unwrap();
    let server = ln.accept().unwrap();
    let local = conn.local_addr().socket_addr().unwrap();
    assert_eq!(local.ip().to_string(), "127.0.0.2");
    assert_ne!(local.port(), 0);
    assert_eq!(server.remote_addr(), conn.local_addr());

    // Go: a local address narrows the remote ones to its family, or fails.
    let v6 = gonet::Dialer {
        local_addr: Some("[::1]:0".parse::<SocketAddr>().unwrap().into()),
        ..Default::default()
    };
    let err = v6.dial("tcp", &addr).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dial tcp: address [::1]:0: no suitable address found"
    );
    let unix = gonet::Dialer {
        local_addr: Some(gonet::Addr::Unix(gonet::UnixAddr::new(
            "/tmp/x.sock",
            "unix",
        ))),
        ..Default::default()
    };
    let err = unix.dial("tcp", &addr).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dial tcp: address /tmp/x.sock: mismatched local address type"
    );
    let err = d.dial("unix", "/tmp/nonexistent.sock").unwrap_err();
    assert_eq!(
        err.to_string(),
        "dial unix: address 127.0.0.2:0: mismatched local address type"
    );
}

#[test]
fn keep_alive_default_and_off() {
    let _g = shared();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let on = gonet::dial("tcp", &addr).unwrap();
    let sock = socket2::SockRef::from(&on);
    assert!(sock.keepalive().unwrap());
    assert_eq!(
        sock.tcp_keepalive_time().unwrap(),
        gonet::DEFAULT_KEEP_ALIVE
    );
    assert_eq!(
        sock.tcp_keepalive_interval().unwrap(),
        gonet::DEFAULT_KEEP_ALIVE
    );
    assert!(
        sock.tcp_nodelay().unwrap(),
        "Go turns Nagle off on dialed conns"
    );

    let d = gonet::Dialer {
        keep_alive: None,
        ..Default::default()
    };
    let off = d.dial("tcp", &addr).unwrap();
    let sock = socket2::SockRef::from(&off);
    assert!(!sock.keepalive().unwrap());
    assert!(sock.tcp_nodelay().unwrap());

    let d = gonet::Dialer {
        keep_alive: Some(Duration::from_secs(42)),
        ..Default::default()
    };
    let custom = d.dial("tcp", &addr).unwrap();
    assert_eq!(
        socket2::SockRef::from(&custom)
            .tcp_keepalive_time()
            .unwrap(),
        Duration::from_secs(42)
    );
}

#[test]
fn control_sees_the_family_network_and_its_error_aborts_the_dial() {
    let _g = shared();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    let d = gonet::Dialer {
        control: Some(Arc::new(
            move |network: &str, address: &str, fd: std::os::fd::BorrowedFd<'_>| {
                c.lock()
                    .unwrap()
                    .push((network.to_string(), address.to_string()));
                // The socket exists and is not connected yet.
                assert!(socket2::SockRef::from(&fd).peer_addr().is_err());
                if address.starts_with("127.") {
                    Ok(())
                } else {
                    Err("control says no".into())
                }
            },
        )),
        ..Default::default()
    };
    let ln4 = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let ln6 = gonet::listen("tcp", "[::1]:0").unwrap();
    let (a4, a6) = (ln4.addr().to_string(), ln6.addr().to_string());
    d.dial("tcp", &a4).unwrap();
    let err = d.dial("tcp", &a6).unwrap_err();
    assert_eq!(err.to_string(), format!("dial tcp {a6}: control says no"));
    let err = d.dial("unix", "/nonexistent/x.sock").unwrap_err();
    assert_eq!(
        err.to_string(),
        "dial unix /nonexistent/x.sock: control says no"
    );
    assert_eq!(
        *calls.lock().unwrap(),
        [
            ("tcp4".to_string(), a4.clone()),
            ("tcp6".to_string(), a6.clone()),
            ("unix".to_string(), "/nonexistent/x.sock".to_string()),
        ]
    );
    ln6.set_deadline(Some(Instant::now() + Duration::from_millis(200)))
        .unwrap();
    assert!(
        gonet::is_timeout(&ln6.accept().unwrap_err()),
        "the refused dial never connected"
    );
}

#[test]
fn happy_eyeballs_primary_refused_falls_back_at_once() {
    let _g = shared();
    let refused = Refusing::new("::1");
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let ok = ln.addr().socket_addr().unwrap();
    let d = gonet::Dialer {
        fallback_delay: Some(Duration::from_secs(30)),
        ..Default::default()
    };
    let start = Instant::now();
    let conn = in_coroutine(LIMIT, move || {
        d.dial_addrs("tcp", &[refused.addr, ok]).unwrap()
    });
    // Go: a failed primary starts the fallback without waiting out the delay.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(conn.remote_addr(), ln.addr());
}

#[test]
fn happy_eyeballs_both_fail_reports_the_primary_error() {
    let _g = shared();
    let (r6, r4) = (Refusing::new("::1"), Refusing::new("127.0.0.1"));
    let (a6, a4) = (r6.addr, r4.addr);
    let err = in_coroutine(LIMIT, move || {
        gonet::Dialer::default()
            .dial_addrs("tcp", &[a6, a4])
            .unwrap_err()
    });
    assert_eq!(
        err.to_string(),
        format!("dial tcp {a6}: connect: connection refused")
    );
    let err = in_coroutine(LIMIT, move || {
        gonet::Dialer::default()
            .dial_addrs("tcp", &[a4, a6])
            .unwrap_err()
    });
    assert_eq!(
        err.to_string(),
        format!("dial tcp {a4}: connect: connection refused")
    );
}

#[test]
fn happy_eyeballs_hanging_primary_loses_to_the_fallback_and_is_closed() {
    let _g = exclusive();
    for (hole_ip, ok_ip) in [("::1", "127.0.0.1"), ("127.0.0.1", "::1")] {
        let hole = FullBacklog::new(hole_ip);
        let ln = gonet::listen("tcp", &gonet::join_host_port(ok_ip, "0")).unwrap();
        let ok = ln.addr().socket_addr().unwrap();
        let base = fd_count();
        let delay = Duration::from_millis(150);
        let d = gonet::Dialer {
            fallback_delay: Some(delay),
            ..Default::default()
        };
        let hole_addr = hole.addr;
        let (conn, took) = in_coroutine(LIMIT, move || {
            let start = Instant::now();
            let conn = d.dial_addrs("tcp", &[hole_addr, ok]).unwrap();
            (conn, start.elapsed())
        });
        assert_eq!(conn.remote_addr(), ln.addr());
        assert!(took >= delay && took < Duration::from_secs(5), "{took:?}");
        // The winner is ours; the primary's socket, still connecting, was closed.
        let closed = eventually(Duration::from_secs(5), || fd_count() == base + 1);
        assert!(closed, "fds: {} want {}", fd_count(), base + 1);
        drop(conn);
        assert_eq!(fd_count(), base);
    }
}

#[test]
fn without_fallback_delay_addresses_are_tried_in_turn() {
    let _g = shared();
    let hole = FullBacklog::new("::1");
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let ok = ln.addr().socket_addr().unwrap();
    let d = gonet::Dialer {
        fallback_delay: None,
        timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let hole_addr = hole.addr;
    let err = in_coroutine(LIMIT, move || {
        d.dial_addrs("tcp", &[hole_addr, ok]).unwrap_err()
    });
    // Go's partialDeadline: with less than 2 s left, the first address gets all of it.
    assert_eq!(
        err.to_string(),
        format!("dial tcp {hole_addr}: i/o timeout")
    );

    // tcp4 and tcp6 never race either.
    let d = gonet::Dialer {
        timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let err = d.dial_addrs("tcp6", &[hole_addr, ok]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial tcp6 {hole_addr}: i/o timeout")
    );
}

#[test]
fn a_long_deadline_is_shared_between_addresses() {
    let _g = shared();
    // Two hanging addresses and 5 s: each gets its share, 2.5 s, so the second is tried.
    let (h1, h2) = (FullBacklog::new("127.0.0.1"), FullBacklog::new("127.0.0.1"));
    let tried = Arc::new(AtomicUsize::new(0));
    let t = tried.clone();
    let d = gonet::Dialer {
        timeout: Some(Duration::from_secs(5)),
        control: Some(Arc::new(
            move |_: &str, _: &str, _: std::os::fd::BorrowedFd<'_>| {
                t.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        )),
        ..Default::default()
    };
    let (a1, a2) = (h1.addr, h2.addr);
    let (err, took) = in_coroutine(LIMIT, move || {
        let start = Instant::now();
        (d.dial_addrs("tcp", &[a1, a2]).unwrap_err(), start.elapsed())
    });
    assert_eq!(
        err.to_string(),
        format!("dial tcp {a1}: i/o timeout"),
        "the first error is reported"
    );
    assert_eq!(tried.load(Ordering::SeqCst), 2);
    assert!(
        took >= Duration::from_millis(4900) && took < Duration::from_secs(8),
        "{took:?}"
    );
}

#[test]
fn five_thousand_simultaneous_dials() {
    let _g = exclusive();
    let base = fd_count();
    const N: usize = 5000;
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let (ln, accept_loop) = util::spawn_echo(ln);
    let (tx, rx) = may::sync::mpsc::channel();
    let start = Instant::now();
    for i in 0..N {
        let (tx, addr) = (tx.clone(), addr.clone());
        gonet::go!(move || {
            let result = (|| -> io::Result<gonet::Conn> {
                let conn = gonet::dial("tcp", &addr)?;
                let byte = [i as u8];
                conn.write(&byte)?;
                let mut back = [0u8; 1];
                conn.read_full(&mut back)?;
                if back != byte {
                    return Err(io::Error::other(format!("echoed {back:?}, sent {byte:?}")));
                }
                Ok(conn)
            })();
            let _ = tx.send(result);
        });
    }
    drop(tx);
    let end = start + Duration::from_secs(120);
    let (mut conns, mut errors) = (Vec::with_capacity(N), Vec::new());
    for _ in 0..N {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(Ok(conn)) => conns.push(conn),
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(e) => panic!(
                "{} of {N} dials done after {:?}: {e}",
                conns.len(),
                start.elapsed()
            ),
        }
    }
    let took = start.elapsed();
    eprintln!(
        "{N} simultaneous dials + 1-byte echo: {took:?}; open fds {}",
        fd_count()
    );
    errors.truncate(5);
    assert!(errors.is_empty(), "errors: {errors:?}");
    assert_eq!(conns.len(), N);
    assert!(
        fd_count() >= base + 2 * N,
        "every conn and its server side are open at once"
    );
    drop(conns);
    ln.close().unwrap();
    accept_loop.join().unwrap();
    drop(ln);
    let drained = eventually(Duration::from_secs(30), || fd_count() <= base);
    assert!(drained, "fds: {} want {base}", fd_count());
}
