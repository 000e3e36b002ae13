//! gonet::runtime::blocking: a call that blocks its thread runs on the blocking pool,
//! and only the calling coroutine waits for it.
//!
//! - `sixty_four_slow_calls_overlap_while_a_ping_pong_keeps_its_latency`: 64 coroutines
//!   each make a 100 ms blocking call (`std::thread::sleep`) on 2 worker threads; all are
//!   done in about 100-200 ms (on the workers themselves they would take 3.2 s), and a
//!   ping-pong on another connection, measured all the while, keeps its latency.
//! - the rest: a panic comes back to the caller, borrowed data is safe, a plain thread
//!   runs the call itself, the pool queues past its limit (in a child process, since the
//!   limit is process-wide), and a may cancel of the caller waits for the call.

mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use util::server as server_util;

/// Two workers, as the numbers assume; every test here asks for the same.
fn two_workers() {
    gonet::runtime::set_max_procs(2);
}

#[test]
fn sixty_four_slow_calls_overlap_while_a_ping_pong_keeps_its_latency() {
    two_workers();
    // The ping-pong: an echo server in coroutines, a client coroutine timing each trip.
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let (_ln, _accept) = util::spawn_echo(ln);
    let (stop_tx, stop_rx) = gonet::chan::<()>(1);
    let (lat_tx, lat_rx) = gonet::chan::<Vec<Duration>>(1);
    gonet::go!(move || {
        let conn = gonet::dial("tcp", &addr).unwrap();
        let mut lat = Vec::new();
        let mut buf = [0u8; 4];
        // Bounded: at most 10 s of trips, one every millisecond.
        let end = Instant::now() + Duration::from_secs(10);
        while stop_rx.try_recv().is_err() && Instant::now() < end {
            let start = Instant::now();
            conn.write(b"ping").unwrap();
            let mut got = 0;
            while got < 4 {
                got += conn.read(&mut buf[got..]).unwrap();
            }
            lat.push(start.elapsed());
            gonet::time::sleep(Duration::from_millis(1));
        }
        let _ = lat_tx.send(lat);
    });

    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let (tx, rx) = gonet::chan::<Duration>(64);
    for _ in 0..64 {
        let tx = tx.clone();
        let done = done.clone();
        gonet::go!(move || {
            let called = Instant::now();
            gonet::runtime::blocking(|| std::thread::sleep(Duration::from_millis(100)));
            done.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(called.elapsed());
        });
    }
    for _ in 0..64 {
        let each = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a blocking call ended");
        assert!(each >= Duration::from_millis(100));
    }
    let total = start.elapsed();
    stop_tx.send(()).unwrap();
    let mut lat = lat_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    lat.sort();
    let p99 = lat[lat.len() * 99 / 100];
    let max = *lat.last().unwrap();
    eprintln!(
        "64 x 100 ms blocking calls: {total:?} in all; ping-pong: {} trips, p99 {p99:?}, max {max:?}; pool threads {}",
        lat.len(),
        gonet::runtime::blocking_threads()
    );
    assert_eq!(done.load(Ordering::SeqCst), 64);
    // About 100-200 ms on a quiet machine; run serially on the workers it would be 3.2 s.
    assert!(total < Duration::from_millis(1000), "took {total:?}");
    assert!(lat.len() >= 20, "only {} round trips", lat.len());
    assert!(p99 < Duration::from_millis(50), "ping-pong p99 {p99:?}");
}

#[test]
fn a_panic_in_the_call_comes_back_to_the_caller() {
    two_workers();
    let h = gonet::go!(|| gonet::runtime::blocking(|| -> u8 { panic!("boom in the pool") }));
    let payload = h.join().expect_err("the coroutine panicked");
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert_eq!(msg, "boom in the pool");
    // The pool is still fine.
    assert_eq!(
        gonet::go!(|| gonet::runtime::blocking(|| 7))
            .join()
            .unwrap(),
        7
    );
}

#[test]
fn the_call_may_borrow_from_the_caller() {
    two_workers();
    let h = gonet::go!(|| {
        let mut v = vec![1, 2, 3];
        let caller = std::thread::current().id();
        let pool_thread = gonet::runtime::blocking(|| {
            v.push(4);
            std::thread::current().id()
        });
        assert_ne!(pool_thread, caller, "the call ran on a pool thread");
        v
    });
    assert_eq!(h.join().unwrap(), [1, 2, 3, 4]);
}

#[test]
fn a_plain_thread_makes_the_call_itself() {
    let me = std::thread::current().id();
    assert_eq!(gonet::runtime::blocking(|| std::thread::current().id()), me);
}

#[test]
fn a_cancel_of_the_caller_waits_for_the_call() {
    two_workers();
    let (started_tx, started_rx) = gonet::chan::<()>(1);
    let h = gonet::go!(move || {
        let mut data = [0u8; 64];
        gonet::runtime::blocking(|| {
            let _ = started_tx.send(());
            std::thread::sleep(Duration::from_millis(200));
            // Writes into the caller's frame: it must still be there.
            data.fill(7);
        });
        data.iter().map(|&b| u32::from(b)).sum::<u32>()
    });
    started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let start = Instant::now();
    // SAFETY: may's cancel unwinds the coroutine at its next cancellable park; the
    // blocking call's own wait is not one, so the borrowed frame outlives the call.
    unsafe { h.coroutine().cancel() };
    let r = h.join();
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "join returned before the blocking call ended"
    );
    // Either it finished (and saw the write) or the cancel unwound it after the call.
    if let Ok(sum) = r {
        assert_eq!(sum, 7 * 64);
    }
}

/// The child: a pool of at most 4 threads, 8 calls of 100 ms.
#[test]
#[ignore = "child process of calls_past_the_limit_wait_their_turn"]
fn child_small_pool() {
    if !server_util::is_child("small-pool") {
        return;
    }
    two_workers();
    assert_eq!(gonet::runtime::set_max_blocking_threads(4), 512);
    let start = Instant::now();
    let peak = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let peak = peak.clone();
            gonet::go!(move || {
                gonet::runtime::blocking(|| {
                    peak.fetch_max(gonet::runtime::blocking_threads(), Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    server_util::say(&format!(
        "RESULT {} {}",
        start.elapsed().as_millis(),
        peak.load(Ordering::SeqCst)
    ));
}

#[test]
fn calls_past_the_limit_wait_their_turn() {
    let child = server_util::Child::spawn("small-pool", "child_small_pool", None);
    let line = child.expect_line("RESULT ", Duration::from_secs(60));
    let (ms, peak) = line.split_once(' ').unwrap();
    let (ms, peak): (u64, usize) = (ms.parse().unwrap(), peak.parse().unwrap());
    assert!(peak <= 4, "{peak} pool threads with a limit of 4");
    // Two rounds of four.
    assert!(ms >= 200, "8 calls of 100 ms on 4 threads took {ms} ms");
}
