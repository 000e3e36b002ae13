//! The cooperative I/O budget: a coroutine whose socket reads and writes never
//! would-block still lets its worker serve other connections, and sysmon never judges it
//! stuck (Go: the scheduler preempts a goroutine that ran 10 ms; gonet: a socket I/O call
//! goes round the scheduler after a budget of calls with no park).
//!
//! - `bulk_io_that_never_blocks_is_not_stuck`: two coroutines (one per worker, may's
//!   default of two set explicitly) each stream 16 KiB chunks through a loopback TCP pair
//!   they own both ends of, a write then a read: neither call ever finds the socket not
//!   ready, so neither coroutine parks on its own. For at least 250 ms, a ping-pong on
//!   another connection keeps being answered (p99 under 100 ms), and
//!   `gonet::runtime::spin_reports()` stays 0. Without the budget each worker is stuck
//!   within 10 ms and the count is at least 1.
//!
//! One test in this file: sysmon's counts are the process's.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A chunk of the bulk transfer.
const CHUNK: usize = 16 * 1024;

/// Streams chunks from one end of a loopback pair to the other until `stop` (or 10 s):
/// the write always finds room (the previous chunk was read) and the read always finds
/// the chunk. Returns the bytes moved.
fn bulk(stop: Arc<AtomicBool>) -> u64 {
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    let a = gonet::dial("tcp", &ln.addr().to_string()).expect("dial");
    let b = ln.accept().expect("accept");
    let out = vec![7u8; CHUNK];
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    let mut moved = 0u64;
    while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(10) {
        (&a).write_all(&out).expect("bulk write");
        (&b).read_exact(&mut buf).expect("bulk read");
        moved += CHUNK as u64;
    }
    moved
}

#[test]
fn bulk_io_that_never_blocks_is_not_stuck() {
    util::init();
    gonet::runtime::set_max_procs(2);
    // The ping-pong server: one byte back for each byte.
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    let addr = ln.addr().to_string();
    gonet::go!(move || {
        while let Ok(conn) = ln.accept() {
            gonet::go!(move || {
                let mut b = [0u8; 1];
                while (&conn).read_exact(&mut b).is_ok() && (&conn).write_all(&b).is_ok() {}
            });
        }
    });
    let mut ping = TcpStream::connect(&addr).expect("connect");
    ping.set_nodelay(true).expect("nodelay");
    ping.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let trip = |s: &mut TcpStream| {
        let t = Instant::now();
        s.write_all(b"p").expect("ping write");
        let mut b = [0u8; 1];
        s.read_exact(&mut b).expect("ping answered");
        t.elapsed()
    };
    trip(&mut ping);

    let stop = Arc::new(AtomicBool::new(false));
    let bulks: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            gonet::go!(move || bulk(stop))
        })
        .collect();
    let start = Instant::now();
    let mut lat = Vec::new();
    while (start.elapsed() < Duration::from_millis(250) || lat.len() < 50) && lat.len() < 100_000 {
        lat.push(trip(&mut ping));
    }
    let ran = start.elapsed();
    let reports = gonet::runtime::spin_reports();
    stop.store(true, Ordering::Relaxed);
    let moved: u64 = bulks.into_iter().map(|h| h.join().expect("bulk")).sum();
    lat.sort();
    let p99 = lat[lat.len() * 99 / 100];
    eprintln!(
        "bulk: {} MiB in {ran:?}; {} pings, p99 {p99:?}, max {:?}; spin reports {reports}",
        moved >> 20,
        lat.len(),
        lat[lat.len() - 1]
    );
    assert!(
        moved >= 64 << 20,
        "the bulk transfer moved only {moved} bytes"
    );
    assert_eq!(reports, 0, "sysmon judged a bulk transfer stuck");
    assert!(p99 < Duration::from_millis(100), "ping p99 {p99:?}");
}
