//! `gonet::Server`: one coroutine per connection, the connection limit, panics caught,
//! read and idle timeouts, a closed listener ending `serve`.
//!
//! Run: `cargo test --release --test server`.

mod util;
use util::server as server_util;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use server_util::{closed_by_server, connect, echo, eventually, logs, round_trip};

/// Serves `handler` with `server` on a fresh loopback listener from a plain thread;
/// returns the address and the thread running `serve`.
fn start<H>(
    server: &gonet::Server,
    handler: H,
) -> (String, std::thread::JoinHandle<std::io::Result<()>>)
where
    H: Fn(gonet::Conn) + Send + Sync + 'static,
{
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    let addr = ln.addr().to_string();
    let s = server.clone();
    (addr, std::thread::spawn(move || s.serve(ln, handler)))
}

fn stop(server: &gonet::Server, serving: std::thread::JoinHandle<std::io::Result<()>>) -> usize {
    let cut = server.shutdown(Duration::from_secs(2));
    serving
        .join()
        .expect("serve thread")
        .expect("serve ends with Ok");
    cut
}

#[test]
fn serves_many_connections_at_once() {
    let server = gonet::Server::new();
    let (addr, serving) = start(&server, echo);
    // 50 clients connected at the same time, each doing 20 round trips: they can only all
    // finish if each connection has its own coroutine.
    let clients: Vec<_> = (0..50).map(|_| connect(&addr)).collect();
    let threads: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            std::thread::spawn(move || {
                for round in 0..20u8 {
                    round_trip(&mut c, &[i as u8, round, 7, 9]);
                }
                c
            })
        })
        .collect();
    let clients: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("client"))
        .collect();
    assert_eq!(server.stats().active, 50);
    drop(clients);
    assert!(
        eventually(Duration::from_secs(5), || server.active() == 0),
        "handlers did not return"
    );
    let stats = server.stats();
    assert_eq!(stats.accepted, 50);
    assert_eq!(stats.panics, 0);
    assert_eq!(stop(&server, serving), 0);
}

#[test]
fn max_conns_keeps_extra_clients_waiting_in_the_backlog() {
    let server = gonet::Server::new().max_conns(2);
    let peak = Arc::new(AtomicUsize::new(0));
    let live = Arc::new(AtomicUsize::new(0));
    let (p, l) = (peak.clone(), live.clone());
    let (addr, serving) = start(&server, move |conn| {
        let now = l.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        echo(conn);
        l.fetch_sub(1, Ordering::SeqCst);
    });
    let mut a = connect(&addr);
    let mut b = connect(&addr);
    round_trip(&mut a, b"a");
    round_trip(&mut b, b"b");
    // The third connects (the kernel queues it) but is not served while two are.
    let mut c = connect(&addr);
    c.write_all(b"c").unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 1];
    let err = c.read(&mut buf).expect_err("a third connection must wait");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    // One leaves: the third is served.
    drop(a);
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.read_exact(&mut buf).expect("served once a slot is free");
    assert_eq!(&buf, b"c");
    round_trip(&mut b, b"still");
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "never more than max_conns handlers"
    );
    drop((b, c));
    assert!(eventually(Duration::from_secs(5), || server.active() == 0));
    assert_eq!(stop(&server, serving), 0);
}

#[test]
fn a_panicking_handler_is_logged_and_the_others_go_on() {
    let logs = logs();
    let server = gonet::Server::new();
    let (addr, serving) = start(&server, |conn| {
        let mut first = [0u8; 1];
        if conn.read(&mut first).is_ok_and(|n| n == 1) && first[0] == b'P' {
            panic!("handler bug on purpose");
        }
        let _ = conn.write(&first);
        echo(conn);
    });
    let mut healthy = connect(&addr);
    round_trip(&mut healthy, b"h");
    let mut doomed = connect(&addr);
    let doomed_port = doomed.local_addr().unwrap().port();
    doomed.write_all(b"P").unwrap();
    assert!(
        closed_by_server(&mut doomed, Duration::from_secs(5)),
        "the panicking handler's conn is closed"
    );
    // The healthy connection and new ones are unaffected.
    round_trip(&mut healthy, b"after the panic");
    let mut fresh = connect(&addr);
    round_trip(&mut fresh, b"n");
    round_trip(&mut fresh, b"fresh");
    let stats = server.stats();
    assert_eq!(stats.panics, 1);
    let lines = logs.matching(&format!("panic serving 127.0.0.1:{doomed_port}"));
    assert_eq!(lines.len(), 1, "one log line names the peer: {lines:?}");
    assert!(
        lines[0].starts_with("ERROR") && lines[0].contains("handler bug on purpose"),
        "{lines:?}"
    );
    drop((healthy, fresh));
    assert_eq!(stop(&server, serving), 0);
}

#[test]
fn closing_the_listener_ends_serve_and_leaves_handlers_be() {
    let server = gonet::Server::new();
    let ln = Arc::new(gonet::listen("tcp", "127.0.0.1:0").unwrap());
    let addr = ln.addr().to_string();
    let s = server.clone();
    let l2 = ln.clone();
    let serving = std::thread::spawn(move || s.serve(l2, echo));
    let mut c = connect(&addr);
    round_trip(&mut c, b"before");
    let start = Instant::now();
    ln.close().unwrap();
    serving
        .join()
        .unwrap()
        .expect("a closed listener ends serve with Ok");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "serve took {:?} to end",
        start.elapsed()
    );
    // The connection being served is left alone, as in Go.
    round_trip(&mut c, b"after");
    assert_eq!(server.active(), 1);
    drop(c);
    assert!(eventually(Duration::from_secs(5), || server.active() == 0));
    // shutdown ends a serve at once; serve on a server already shut down returns at once
    // and closes its listener.
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let s = server.clone();
    let serving = std::thread::spawn(move || s.serve(ln, echo));
    assert_eq!(server.close(), 0);
    serving.join().unwrap().unwrap();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    server.serve(ln, echo).unwrap();
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "the listener is closed"
    );
}

#[test]
fn read_timeout_cuts_a_slowloris_client() {
    let server = gonet::Server::new().read_timeout(Duration::from_secs(1));
    let (addr, serving) = start(&server, echo);
    let mut slow = connect(&addr);
    let start = Instant::now();
    let mut fast_done = false;
    let mut sent = 0;
    // One byte every 300 ms (bounded: at most 10 bytes), while a fast client is served.
    let mut cut_after = None;
    for _ in 0..10 {
        if slow.write_all(b"s").is_err() {
            cut_after = Some(start.elapsed());
            break;
        }
        sent += 1;
        if !fast_done {
            let mut fast = connect(&addr);
            for _ in 0..100 {
                round_trip(&mut fast, b"fast client");
            }
            fast_done = true;
        }
        if closed_by_server(&mut slow, Duration::from_millis(300)) {
            cut_after = Some(start.elapsed());
            break;
        }
    }
    let cut_after = cut_after.expect("the slow client was never cut");
    assert!(
        cut_after >= Duration::from_millis(900) && cut_after < Duration::from_secs(3),
        "cut after {cut_after:?}, {sent} bytes"
    );
    assert!(eventually(Duration::from_secs(5), || server.active() == 0));
    assert_eq!(stop(&server, serving), 0);
}

#[test]
fn idle_timeout_frees_silent_and_non_reading_clients() {
    let idle = Duration::from_millis(500);
    let server = gonet::Server::new().idle_timeout(idle);
    let (addr, serving) = start(&server, echo);
    let start = Instant::now();
    // Silent: connects and sends nothing.
    let mut silent = connect(&addr);
    // Non-reading: sends until its writes stall (the server's echo fills our receive
    // buffer, then the server stops reading), and never reads.
    let mut deaf = connect(&addr);
    deaf.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut pushed = 0usize;
    for _ in 0..1000 {
        match deaf.write(&chunk) {
            Ok(n) => pushed += n,
            Err(_) => break,
        }
    }
    assert!(pushed > 64 * 1024, "pushed {pushed}");
    // Chatty: a byte every 100 ms for 1.5 s is never idle.
    let mut chatty = connect(&addr);
    for _ in 0..15 {
        round_trip(&mut chatty, b"c");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        closed_by_server(&mut silent, Duration::from_secs(3)),
        "the silent client is timed out"
    );
    let silent_cut = start.elapsed();
    assert!(silent_cut >= idle, "cut after {silent_cut:?}");
    // The deaf client: once the server gave up, its connection is gone.
    assert!(
        eventually(Duration::from_secs(5), || server.active() == 1),
        "only the chatty client is left, active = {}",
        server.active()
    );
    round_trip(&mut chatty, b"still served");
    assert!(server.stats().idle_closed >= 2, "{:?}", server.stats());
    deaf.shutdown(Shutdown::Both).ok();
    drop((deaf, chatty, silent));
    assert!(eventually(Duration::from_secs(5), || server.active() == 0));
    assert_eq!(stop(&server, serving), 0);
}
