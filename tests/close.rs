//! Go's `Close` semantics (internal/poll/fd_mutex.go): the descriptor is released as
//! soon as `close()` runs and the calls in flight on it return, however many clones of
//! the `Conn` (or `Arc`s of the `Listener`) are still held, and a call parked at the
//! time never sees a descriptor that reused the number.
//!
//! The proxy test is the one that found it: a Go proxy whose copy goroutines leak still
//! gives back every descriptor (tests/go/leakproxy measures Go 1.19 doing so); a port
//! on gonet must too.

#[path = "util/go.rs"]
mod go_util;
mod util;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use util::{eventually, fd_count, pair};

/// What descriptor `fd` of this process is now ("socket:[INODE]"), if it is open.
fn fd_target(fd: RawFd) -> Option<String> {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Whether the socket that had descriptor `fd` (then `target`) is gone from it: the
/// number is closed or now names another file (tests run in parallel and reuse numbers).
fn released(fd: RawFd, target: &str) -> bool {
    fd_target(fd).as_deref() != Some(target)
}

#[test]
fn close_releases_the_descriptor_while_clones_are_held() {
    let (c, _s) = pair();
    let clones: Vec<gonet::Conn> = (0..3).map(|_| c.clone()).collect();
    let fd = c.as_raw_fd();
    let target = fd_target(fd).expect("an open socket");
    assert!(target.starts_with("socket:["), "{target}");
    c.close().unwrap();
    assert!(released(fd, &target), "fd {fd} still names {target}");
    for k in &clones {
        assert_eq!(k.as_raw_fd(), -1, "Go's Sysfd is -1 after Close");
        assert!(gonet::is_closed(&k.read(&mut [0u8; 4]).unwrap_err()));
        assert!(gonet::is_closed(&k.write(b"x").unwrap_err()));
        assert!(gonet::is_closed(&k.close().unwrap_err()));
    }
}

#[test]
fn the_peer_sees_end_of_stream_at_close_while_a_clone_is_held() {
    let (c, s) = pair();
    let held = c.clone();
    c.write(b"last words").unwrap();
    c.close().unwrap();
    let mut got = Vec::new();
    s.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    (&mut &s).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"last words");
    drop(held);
}

#[test]
fn a_descriptor_borrowed_after_close_fails_with_ebadf_not_on_another_socket() {
    let (c, _s) = pair();
    c.close().unwrap();
    // A socket opened now may well get the closed number back.
    let (other, _o) = pair();
    let sock = socket2::SockRef::from(&c);
    let err = sock.tcp_nodelay().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    assert_ne!(c.as_fd().as_raw_fd(), other.as_raw_fd());
    assert!(socket2::SockRef::from(&other).tcp_nodelay().unwrap());
}

#[test]
fn a_listener_closed_while_an_accept_loop_holds_it_gives_its_port_back() {
    let ln = Arc::new(gonet::listen("tcp4", "127.0.0.1:0").unwrap());
    let addr = ln.addr().to_string();
    let fd = ln.as_raw_fd();
    let target = fd_target(fd).unwrap();
    let l2 = ln.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let accept_loop = gonet::go!(move || {
        tx.send(()).unwrap();
        let r = l2.accept();
        // The loop "leaks": it keeps its Arc of the listener after accept fails.
        (r.map(|_| ()), l2)
    });
    rx.recv().unwrap();
    ln.close().unwrap();
    assert!(released(fd, &target));
    // The port is free at once: nothing listens there any more, and it can be taken.
    assert!(
        gonet::dial("tcp", &addr).is_err(),
        "still accepting on {addr}"
    );
    let again = gonet::listen("tcp4", &addr).unwrap();
    assert_eq!(again.addr().to_string(), addr);
    let (r, _l2) = accept_loop.join().unwrap();
    assert!(gonet::is_closed(&r.unwrap_err()));
}

/// Readers and writers parked (or about to park, or running) on a conn while another
/// coroutine closes it, 200 times: every call ends with Go's closed error (or a count
/// written before it), close returns with the descriptor released, nothing hangs.
#[test]
fn close_racing_parked_reads_and_writes_releases_the_descriptor_every_time() {
    let rounds = 200;
    let done = util::in_coroutine(Duration::from_secs(120), move || {
        for round in 0..rounds {
            let (c, s) = pair();
            let fd = c.as_raw_fd();
            let target = fd_target(fd).unwrap();
            let r = c.clone();
            let reader = gonet::go!(move || r.read(&mut [0u8; 64]));
            let w = c.clone();
            let writer = gonet::go!(move || {
                // The peer never reads: this fills the buffers and parks.
                let chunk = vec![7u8; 256 * 1024];
                loop {
                    if let Err(e) = w.write(&chunk) {
                        return e;
                    }
                }
            });
            if round % 2 == 0 {
                gonet::time::sleep(Duration::from_micros(200));
            }
            c.close().unwrap();
            assert!(released(fd, &target), "round {round}: fd {fd} still open");
            let rerr = reader.join().unwrap().unwrap_err();
            assert!(gonet::is_closed(&rerr), "round {round}: read: {rerr}");
            let werr = writer.join().unwrap();
            assert!(gonet::is_closed(&werr), "round {round}: write: {werr}");
            drop(s);
        }
        rounds
    });
    assert_eq!(done, rounds);
}

#[test]
fn a_parked_read_does_not_read_from_the_socket_that_reuses_its_number() {
    util::in_coroutine(Duration::from_secs(60), || {
        for _ in 0..50 {
            let (c, _s) = pair();
            let r = c.clone();
            let reader = gonet::go!(move || r.read(&mut [0u8; 16]));
            gonet::time::sleep(Duration::from_micros(100));
            let old = c.as_raw_fd();
            c.close().unwrap();
            // New sockets take the lowest free numbers: likely `old` among them.
            let (n, peer) = pair();
            peer.write(b"for the new socket").unwrap();
            let mut buf = [0u8; 18];
            n.read_full(&mut buf).unwrap();
            assert_eq!(
                &buf,
                b"for the new socket",
                "(old fd {old}, new {})",
                n.as_raw_fd()
            );
            let err = reader.join().unwrap().unwrap_err();
            assert!(gonet::is_closed(&err), "{err}");
        }
    });
}

#[test]
fn set_deadline_from_another_thread_wakes_a_read_blocked_in_a_thread() {
    let (c, _s) = pair();
    let r = c.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        tx.send(()).unwrap();
        let start = Instant::now();
        let e = r.read(&mut [0u8; 8]).unwrap_err();
        (e, start.elapsed())
    });
    rx.recv().unwrap();
    // Whether or not the reader is in poll(2) yet, it must notice the past deadline.
    std::thread::sleep(Duration::from_millis(20));
    c.set_read_deadline(Some(Instant::now())).unwrap();
    let (e, took) = h.join().unwrap();
    assert!(gonet::is_timeout(&e), "{e}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn close_from_a_coroutine_wakes_an_accept_blocked_in_a_thread() {
    let ln = Arc::new(gonet::listen("tcp", "127.0.0.1:0").unwrap());
    let l2 = ln.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        tx.send(()).unwrap();
        l2.accept().map(|_| ())
    });
    rx.recv().unwrap();
    let l3 = ln.clone();
    gonet::go!(move || l3.close()).join().unwrap().unwrap();
    assert!(gonet::is_closed(&h.join().unwrap().unwrap_err()));
}

// --- The ported proxy ------------------------------------------------------------------

/// How many connections the proxy test resets, and how many clients dial at once.
const PROXY_CONNS: usize = 5_000;
const PROXY_CLIENTS: usize = 8;

/// Copies `src` to `dst` (Go's `io.Copy`), returning how it ended.
fn copy(dst: &gonet::Conn, src: &gonet::Conn) -> std::io::Result<u64> {
    std::io::copy(&mut &*src, &mut &*dst)
}

/// One proxied connection the way a hurried Go port writes it: both copies report on a
/// channel, the handler takes the first report, closes both conns and returns. The copy
/// goroutines then leak (here: they wait on `leak` until the test is done), each still
/// holding both conns.
fn proxy_handle(
    client: gonet::Conn,
    upstream: &str,
    leak: gonet::Receiver<()>,
    leaked: Arc<AtomicUsize>,
) {
    let Ok(server) = gonet::dial("tcp", upstream) else {
        return;
    };
    let (done_tx, done_rx) = gonet::chan::<()>(2);
    for (dst, src) in [
        (server.clone(), client.clone()),
        (client.clone(), server.clone()),
    ] {
        let (done, leak, leaked) = (done_tx.clone(), leak.clone(), leaked.clone());
        gonet::go!(move || {
            let _ = copy(&dst, &src);
            let _ = done.send(());
            leaked.fetch_add(1, Ordering::SeqCst);
            // Leaked: parked here with `dst` and `src` until the test closes `leak`.
            let _ = leak.recv();
            leaked.fetch_sub(1, Ordering::SeqCst);
            drop((dst, src));
        });
    }
    let _ = done_rx.recv();
    // defer client.Close(); defer server.Close()
    let _ = client.close();
    let _ = server.close();
}

/// A client that sends a request, reads the echo back through the proxy, and resets the
/// connection (SO_LINGER 0), as a client that gives up does.
fn reset_client(proxy: std::net::SocketAddr) {
    let mut s = std::net::TcpStream::connect_timeout(&proxy, Duration::from_secs(10))
        .expect("dial the proxy");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).expect("the echo through the proxy");
    assert_eq!(&buf, b"ping");
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

#[test]
fn leaked_coroutines_hold_no_descriptors_after_5000_reset_connections_through_a_proxy() {
    util::init();
    let (upstream, _echo) = util::spawn_echo(gonet::listen("tcp4", "127.0.0.1:0").unwrap());
    let upstream_addr = upstream.addr().to_string();
    let proxy = Arc::new(gonet::listen("tcp4", "127.0.0.1:0").unwrap());
    let proxy_addr = proxy.addr().socket_addr().unwrap();
    let (leak_tx, leak_rx) = gonet::chan::<()>(0);
    let leaked = Arc::new(AtomicUsize::new(0));
    let handled = Arc::new(AtomicUsize::new(0));
    let baseline = fd_count();

    let (p, l, h) = (proxy.clone(), leaked.clone(), handled.clone());
    let accept_loop = gonet::go!(move || loop {
        let client = match p.accept() {
            Ok(c) => c,
            Err(e) if gonet::is_closed(&e) => return,
            Err(e) => panic!("accept: {e}"),
        };
        let (up, leak, leaked, handled) =
            (upstream_addr.clone(), leak_rx.clone(), l.clone(), h.clone());
        gonet::go!(move || {
            proxy_handle(client, &up, leak, leaked);
            handled.fetch_add(1, Ordering::SeqCst);
        });
    });

    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..PROXY_CLIENTS)
        .map(|_| {
            let next = next.clone();
            std::thread::spawn(move || {
                while next.fetch_add(1, Ordering::SeqCst) < PROXY_CONNS {
                    assert!(start.elapsed() < Duration::from_secs(240), "too slow");
                    reset_client(proxy_addr);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    assert!(
        eventually(Duration::from_secs(60), || handled.load(Ordering::SeqCst)
            == PROXY_CONNS),
        "handled {} of {PROXY_CONNS}",
        handled.load(Ordering::SeqCst)
    );
    // Every handler has returned; its copy coroutines are parked, holding their conns.
    let at_baseline = eventually(Duration::from_secs(30), || fd_count() <= baseline);
    let (now, leaking) = (fd_count(), leaked.load(Ordering::SeqCst));
    assert!(
        at_baseline,
        "{} descriptors more than before {PROXY_CONNS} reset connections \
         ({leaking} coroutines leaked)",
        now - baseline
    );
    assert_eq!(
        leaking,
        2 * PROXY_CONNS,
        "every copy coroutine is still parked"
    );

    drop(leak_tx); // closes the channel: the leaked coroutines end
    assert!(eventually(Duration::from_secs(30), || leaked
        .load(Ordering::SeqCst)
        == 0));
    proxy.close().unwrap();
    accept_loop.join().unwrap();
    upstream.close().unwrap();
}

/// The same proxy in Go 1.19, with the same leak: Go gives every descriptor back.
#[test]
fn go_gives_back_every_descriptor_of_the_same_leaky_proxy() {
    let bin = go_util::go_binary("tests/go/leakproxy/main.go");
    let out = std::process::Command::new(&bin)
        .args(["-conns", &PROXY_CONNS.to_string()])
        .output()
        .expect("run the Go proxy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // handled=N leaked_goroutines=N extra_fds=N
    let num = |k: &str| -> i64 {
        stdout
            .split_whitespace()
            .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k} in {stdout:?}"))
    };
    assert_eq!(num("handled"), PROXY_CONNS as i64, "{stdout}");
    assert_eq!(num("leaked_goroutines"), 2 * PROXY_CONNS as i64, "{stdout}");
    assert_eq!(num("extra_fds"), 0, "{stdout}");
}
