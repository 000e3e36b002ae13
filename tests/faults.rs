//! Clients that misbehave the way real networks do: reset mid-request (SO_LINGER 0),
//! half-close, trickle one byte per second, never read (the server's send buffer fills),
//! connect and vanish. The server stays responsive to a well-behaved client throughout,
//! and when they are gone it holds no extra descriptor (counted in /proc/self/fd) and no
//! handler coroutine (`Server::active() == 0`).
//!
//! ONE test in this file: it counts the descriptors of the whole process.
//!
//! Run: `cargo test --release --test faults -- --nocapture` (prints what it measured).

mod util;
use util::server as server_util;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use server_util::{connect, echo, eventually, fd_count, round_trip};

/// Resets the connection: SO_LINGER 0, then close.
fn reset(s: TcpStream) {
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(s);
}

/// Fills the pipe both ways without reading: returns how many bytes went out.
fn push_until_stalled(s: &mut TcpStream) -> usize {
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![b'n'; 64 * 1024];
    let mut pushed = 0;
    for _ in 0..1000 {
        match s.write(&chunk) {
            Ok(n) => pushed += n,
            Err(_) => break,
        }
    }
    pushed
}

#[test]
fn faulty_clients_leave_no_descriptor_and_no_coroutine_behind() {
    // Warm up: the scheduler, its poller and timer thread, the logger, a first listener
    // and connection, so that what is counted next is the server's own.
    {
        let warm = gonet::Server::new();
        let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
        let addr = ln.addr().to_string();
        let w = warm.clone();
        let t = std::thread::spawn(move || w.serve(ln, echo));
        round_trip(&mut connect(&addr), b"warm");
        assert!(eventually(Duration::from_secs(5), || warm.active() == 0));
        warm.shutdown(Duration::from_secs(1));
        t.join().unwrap().unwrap();
    }
    let fds_before = fd_count();

    let server = gonet::Server::new();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let serving = std::thread::spawn(move || s.serve(ln, echo));

    // The well-behaved client: a round trip every 20 ms, timed, while the faults run.
    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut c = connect(&addr);
            let mut rtts = Vec::new();
            for _ in 0..2000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let t = Instant::now();
                round_trip(&mut c, b"probe");
                rtts.push(t.elapsed());
                std::thread::sleep(Duration::from_millis(20));
            }
            rtts
        })
    };

    let mut faults: Vec<(&str, std::thread::JoinHandle<()>)> = Vec::new();
    let mut conns = 1; // the probe
    // Reset mid-request: half a request sent, then RST.
    for _ in 0..20 {
        let addr = addr.clone();
        faults.push((
            "reset mid-request",
            std::thread::spawn(move || {
                let mut s = connect(&addr);
                s.write_all(&[b'r'; 100]).unwrap();
                reset(s);
            }),
        ));
    }
    conns += 20;
    // Reset while the server is writing to it: 1 MiB pushed, nothing read, then RST.
    for _ in 0..5 {
        let addr = addr.clone();
        faults.push((
            "reset mid-response",
            std::thread::spawn(move || {
                let mut s = connect(&addr);
                assert!(push_until_stalled(&mut s) > 0);
                reset(s);
            }),
        ));
    }
    conns += 5;
    // Half-close: send, shut down the writing side, read everything back.
    for i in 0..20 {
        let addr = addr.clone();
        faults.push((
            "half-close",
            std::thread::spawn(move || {
                let mut s = connect(&addr);
                let data: Vec<u8> = (0..10_000).map(|b| (b * i % 251) as u8).collect();
                s.write_all(&data).unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                let mut back = Vec::new();
                s.read_to_end(&mut back).unwrap();
                assert!(
                    back == data,
                    "half-closed client got {} of {} bytes",
                    back.len(),
                    data.len()
                );
            }),
        ));
    }
    conns += 20;
    // Slow: one byte per second, three bytes, each echoed, then a normal close.
    for _ in 0..3 {
        let addr = addr.clone();
        faults.push((
            "one byte per second",
            std::thread::spawn(move || {
                let mut s = connect(&addr);
                for b in [b'a', b'b', b'c'] {
                    round_trip(&mut s, &[b]);
                    std::thread::sleep(Duration::from_secs(1));
                }
            }),
        ));
    }
    conns += 3;
    // Never reads: writes until both directions stall, holds on for a second, leaves.
    for _ in 0..5 {
        let addr = addr.clone();
        faults.push((
            "never reads",
            std::thread::spawn(move || {
                let mut s = connect(&addr);
                assert!(push_until_stalled(&mut s) > 0);
                std::thread::sleep(Duration::from_secs(1));
                drop(s); // unread data: the kernel sends a reset
            }),
        ));
    }
    conns += 5;
    // Connect and vanish without a byte.
    for _ in 0..20 {
        let addr = addr.clone();
        faults.push((
            "connect and close",
            std::thread::spawn(move || drop(connect(&addr))),
        ));
    }
    conns += 20;

    for (what, f) in faults {
        f.join()
            .unwrap_or_else(|_| panic!("a '{what}' client failed"));
    }
    stop.store(true, Ordering::SeqCst);
    let mut rtts = probe.join().expect("the probe client");
    rtts.sort();
    let p50 = rtts[rtts.len() / 2];
    let max = *rtts.last().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || server.active() == 0),
        "handler coroutines left: {}",
        server.active()
    );
    let stats = server.stats();
    assert_eq!(server.shutdown(Duration::from_secs(1)), 0);
    serving.join().unwrap().expect("serve ends with Ok");
    let settled = eventually(Duration::from_secs(5), || fd_count() == fds_before);
    let fds_after = fd_count();
    eprintln!(
        "faults: {conns} conns, probe {} round trips p50 {p50:?} max {max:?}; fds before {fds_before} after {fds_after}; {stats:?}",
        rtts.len()
    );
    assert!(
        settled,
        "descriptors: {fds_before} before, {fds_after} after"
    );
    assert_eq!(stats.accepted, conns as u64);
    assert_eq!(stats.panics, 0);
    assert!(rtts.len() >= 50, "the probe ran {} round trips", rtts.len());
    assert!(p50 < Duration::from_millis(50), "probe p50 {p50:?}");
    assert!(max < Duration::from_secs(1), "probe max {max:?}");
}
