//! `Server::shutdown`: stop accepting, let the connections in flight finish within the
//! grace period, cut the rest, and end `serve` within grace + 1 s. Also the graceful
//! example, driven by SIGTERM, with connections in flight.
//!
//! Run: `cargo test --release --test shutdown`.

mod util;
use util::server as server_util;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use server_util::{closed_by_server, connect, echo, eventually, round_trip};

/// Bytes that differ from position to position and client to client.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13) % 251) as u8)
        .collect()
}

const CLIENTS: usize = 1000;
const CHUNKS: usize = 20;
const CHUNK: usize = 2048;

/// One client in flight: `CHUNKS` round trips of `CHUNK` bytes, paced, then a half-close;
/// counts itself in `mid` after its third chunk. Returns (bytes sent, bytes echoed back).
fn paced_client(addr: String, seed: usize, mid: Arc<AtomicUsize>) -> (usize, usize) {
    let conn = match gonet::dial("tcp", &addr) {
        Ok(c) => c,
        Err(e) => panic!("client {seed}: dial: {e}"),
    };
    conn.set_deadline(Some(Instant::now() + Duration::from_secs(60)))
        .unwrap();
    let (mut sent, mut echoed) = (0, 0);
    let mut back = vec![0u8; CHUNK];
    for k in 0..CHUNKS {
        let chunk = pattern(CHUNK, seed * CHUNKS + k);
        conn.write(&chunk)
            .unwrap_or_else(|e| panic!("client {seed} chunk {k}: {e}"));
        sent += chunk.len();
        conn.read_full(&mut back)
            .unwrap_or_else(|e| panic!("client {seed} chunk {k}: {e}"));
        assert!(back == chunk, "client {seed} chunk {k}: the echo differs");
        echoed += back.len();
        if k == 2 {
            mid.fetch_add(1, Ordering::SeqCst);
        }
        gonet::time::sleep(Duration::from_millis(20));
    }
    conn.close_write().unwrap();
    let mut rest = [0u8; 16];
    assert_eq!(
        conn.read(&mut rest).unwrap(),
        0,
        "client {seed}: end of stream after the echo"
    );
    (sent, echoed)
}

#[test]
fn every_byte_of_1000_connections_in_flight_is_echoed() {
    let server = gonet::Server::new();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let serving = std::thread::spawn(move || s.serve(ln, echo));

    let mid = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (addr, mid) = (addr.clone(), mid.clone());
            gonet::go!(move || paced_client(addr, i, mid))
        })
        .collect();
    // Shut down while every client is mid-transfer (past its third chunk, far from its
    // twentieth).
    assert!(
        eventually(Duration::from_secs(30), || mid.load(Ordering::SeqCst)
            == CLIENTS),
        "only {} clients got going",
        mid.load(Ordering::SeqCst)
    );
    let grace = Duration::from_secs(10);
    let start = Instant::now();
    let s = server.clone();
    let stopper = std::thread::spawn(move || s.shutdown(grace));
    // New clients are refused from the moment the listener is closed.
    let mut probes_in = 0;
    assert!(
        eventually(
            Duration::from_secs(2),
            || match std::net::TcpStream::connect(&addr) {
                Ok(_) => {
                    probes_in += 1;
                    false
                }
                Err(_) => true,
            }
        ),
        "the listener still accepts"
    );
    let (mut sent, mut echoed) = (0, 0);
    for h in clients {
        let (s, e) = h.join().expect("a client failed");
        sent += s;
        echoed += e;
    }
    let cut = stopper.join().unwrap();
    serving.join().unwrap().expect("serve ends with Ok");
    let took = start.elapsed();
    eprintln!(
        "shutdown with {CLIENTS} conns in flight: {echoed} of {sent} bytes echoed, {cut} cut, serve ended after {took:?}"
    );
    assert_eq!(sent, CLIENTS * CHUNKS * CHUNK);
    assert_eq!(echoed, sent, "every byte sent is echoed");
    assert_eq!(cut, 0, "everyone finished within the grace period");
    assert!(took < grace + Duration::from_secs(1), "took {took:?}");
    let stats = server.stats();
    // A probe that connected before the close may or may not have been accepted.
    let accepted = stats.accepted as usize;
    assert!(
        (CLIENTS..=CLIENTS + probes_in).contains(&accepted),
        "accepted {accepted}, probes in {probes_in}"
    );
    assert_eq!(stats.active, 0);
}

#[test]
fn stragglers_are_cut_when_the_grace_period_ends() {
    let server = gonet::Server::new();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let serving = std::thread::spawn(move || s.serve(ln, echo));
    // Ten clients that never finish: connected, served, silent.
    let mut idle: Vec<_> = (0..10).map(|_| connect(&addr)).collect();
    for c in &mut idle {
        round_trip(c, b"here");
    }
    // One that finishes during the grace period.
    let mut quick = connect(&addr);
    round_trip(&mut quick, b"quick");
    let grace = Duration::from_millis(400);
    let start = Instant::now();
    let s = server.clone();
    let stopper = std::thread::spawn(move || s.shutdown(grace));
    round_trip(&mut quick, b"served during the grace period");
    drop(quick);
    let cut = stopper.join().unwrap();
    let took = start.elapsed();
    serving.join().unwrap().expect("serve ends with Ok");
    let serve_took = start.elapsed();
    eprintln!(
        "grace {grace:?}: {cut} cut, shutdown took {took:?}, serve ended after {serve_took:?}"
    );
    assert_eq!(cut, 10);
    assert!(took >= grace, "waited out the grace period: {took:?}");
    assert!(
        serve_took < grace + Duration::from_secs(1),
        "{serve_took:?}"
    );
    for c in &mut idle {
        assert!(
            closed_by_server(c, Duration::from_secs(2)),
            "a straggler was not closed"
        );
    }
    assert_eq!(server.active(), 0);
    // A second shutdown has nothing left to do.
    assert_eq!(server.shutdown(grace), 0);
}

#[test]
fn the_graceful_example_drains_200_connections_on_sigterm() {
    let bin = server_util::example("graceful");
    let mut child = std::process::Command::new(bin)
        .args(["127.0.0.1:0", "3s"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the graceful example");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the listening line");
    let addr = first
        .strip_prefix("graceful: listening on ")
        .expect("listening on")
        .to_string();

    // 200 clients in flight: each sends a first half and reads it back, then waits for the
    // signal, then sends the second half, half-closes, and reads everything back.
    let n = 200;
    let barrier = Arc::new(std::sync::Barrier::new(n + 1));
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let (addr, barrier) = (addr.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut c = connect(&addr);
                let data = pattern(16 * 1024, i);
                round_trip(&mut c, &data[..8 * 1024]);
                barrier.wait(); // everyone is mid-transfer
                barrier.wait(); // the signal has been sent
                c.write_all(&data[8 * 1024..]).unwrap();
                c.shutdown(std::net::Shutdown::Write).unwrap();
                let mut rest = Vec::new();
                c.read_to_end(&mut rest).unwrap();
                assert!(
                    rest == data[8 * 1024..],
                    "client {i}: got {} of {} bytes",
                    rest.len(),
                    8 * 1024
                );
                data.len()
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let line = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the shutting down line");
    assert_eq!(line, "graceful: shutting down");
    barrier.wait();
    let echoed: usize = clients.into_iter().map(|c| c.join().expect("client")).sum();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "still running at grace + 1 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    let last = rx
        .recv_timeout(Duration::from_secs(1))
        .expect("the last line");
    eprintln!(
        "graceful example: {echoed} bytes echoed over {n} conns, exit {status} after {took:?}"
    );
    assert_eq!(last, "graceful: all connections finished");
    assert_eq!(status.code(), Some(0));
    assert_eq!(echoed, n * 16 * 1024);
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "nothing more printed"
    );
}
