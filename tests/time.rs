//! `gonet::time` (Go's `time`): sleep, after, tick and Ticker (dropping ticks for slow
//! readers), Timer stop/reset with Go 1.23's no-stale-value rule, and timers that cost no
//! thread each. Sleeps in these tests are what is being tested, or the slow reader.

#[path = "util/vocab.rs"]
mod vocab;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use gonet::time::{self, Ticker, Timer};
use gonet::{RecvTimeoutError, TryRecvError};
use vocab::{LIMIT, expect, expect_n, spawn_report, thread_count, wait_until, workers};

const MS: Duration = Duration::from_millis(1);

#[test]
fn sleep_parks_a_coroutine_for_at_least_the_duration() {
    let took = spawn_report(|| {
        let start = Instant::now();
        time::sleep(30 * MS);
        start.elapsed()
    });
    let took = expect(&took, "sleeper");
    assert!(took >= 30 * MS, "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // And a plain thread.
    let start = Instant::now();
    time::sleep(10 * MS);
    assert!(start.elapsed() >= 10 * MS);
}

/// 8x more sleeping coroutines than workers, all asleep at once: sleeping must not hold
/// the worker, or the whole set would take 8 sleeps instead of about one.
#[test]
fn sleeping_coroutines_do_not_hold_their_worker() {
    let n = 8 * workers();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    for _ in 0..n {
        let tx = tx.clone();
        gonet::go!(move || {
            time::sleep(200 * MS);
            let _ = tx.send(());
        });
    }
    expect_n(&rx, n, "sleepers");
    let took = start.elapsed();
    assert!(took >= 200 * MS);
    assert!(
        took < 1000 * MS,
        "sleeps ran one worker at a time: {took:?}"
    );
}

#[test]
fn after_fires_once_after_the_duration() {
    let start = Instant::now();
    let c = time::after(20 * MS);
    let at = c
        .recv_timeout(Duration::from_secs(10))
        .expect("after fires");
    assert!(at >= start + 20 * MS);
    assert!(start.elapsed() >= 20 * MS);
    // Once only, and the channel is not closed (Go: a second receive blocks forever).
    assert_eq!(c.recv_timeout(30 * MS), Err(RecvTimeoutError::Timeout));
}

#[test]
fn tick_drops_ticks_for_a_slow_reader() {
    let t = Ticker::new(5 * MS);
    // A slow reader: 20 periods pass without a receive.
    std::thread::sleep(100 * MS);
    // At most the latest tick was kept (buffer 1): the others were dropped, not queued.
    // Draining finds one, or two if a fresh tick lands meanwhile; a ticker that queued
    // would have about twenty waiting.
    let mut waiting = 0;
    while t.c.try_recv().is_ok() && waiting < 100 {
        waiting += 1;
    }
    assert!((1..=2).contains(&waiting), "{waiting} ticks were waiting");
    // Ticking goes on.
    assert!(t.c.recv_timeout(Duration::from_secs(5)).is_ok());
    t.stop();
}

#[test]
fn tick_keeps_its_period() {
    let c = time::tick(10 * MS);
    let start = Instant::now();
    let mut last = start;
    for _ in 0..10 {
        let at = c.recv_timeout(Duration::from_secs(5)).expect("a tick");
        assert!(at >= last, "ticks go forward");
        last = at;
    }
    let took = start.elapsed();
    // Ten ticks take about ten periods (the first may come up to a period early).
    assert!(took >= 90 * MS, "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn tick_of_zero_never_fires() {
    let c = time::tick(Duration::ZERO);
    assert_eq!(c.recv_timeout(30 * MS), Err(RecvTimeoutError::Timeout));
}

#[test]
fn ticker_stop_and_reset() {
    let t = Ticker::new(2 * MS);
    t.c.recv_timeout(Duration::from_secs(5)).expect("ticking");
    t.stop();
    assert_eq!(t.c.recv_timeout(40 * MS), Err(RecvTimeoutError::Timeout));
    let start = Instant::now();
    t.reset(20 * MS);
    t.c.recv_timeout(Duration::from_secs(5))
        .expect("ticking again");
    assert!(start.elapsed() >= 20 * MS);
    t.stop();
}

#[test]
#[should_panic(expected = "non-positive interval for NewTicker")]
fn ticker_of_zero_panics_like_go() {
    let _ = Ticker::new(Duration::ZERO);
}

#[test]
fn timer_stop_reset_follow_go() {
    let t = Timer::new(Duration::from_secs(3600));
    assert!(t.stop(), "pending");
    assert!(!t.stop(), "already stopped");
    assert_eq!(t.c.recv_timeout(20 * MS), Err(RecvTimeoutError::Timeout));

    assert!(!t.reset(5 * MS), "was stopped");
    assert!(t.c.recv_timeout(Duration::from_secs(5)).is_ok());
    assert!(!t.stop(), "already fired");

    // Go 1.23: a fired but unreceived value is discarded by Stop and Reset.
    let t = Timer::new(MS);
    assert!(
        wait_until(LIMIT, || t.c.len() == 1),
        "fired into the buffer"
    );
    t.stop();
    assert_eq!(t.c.try_recv(), Err(TryRecvError::Empty));
    t.reset(Duration::from_secs(3600));
    assert_eq!(t.c.recv_timeout(20 * MS), Err(RecvTimeoutError::Timeout));
}

/// 10,000 pending timers cost no thread each: the thread count does not move.
#[test]
fn ten_thousand_timers_share_one_thread() {
    // Start may's scheduler and the timer thread first.
    expect(&spawn_report(|| ()), "warm-up coroutine");
    time::after(MS).recv().unwrap();
    let before = thread_count();
    let timers: Vec<_> = (0..10_000u64)
        .map(|i| time::after(Duration::from_millis(20 + i % 30)))
        .collect();
    let during = thread_count();
    for t in &timers {
        t.recv_timeout(Duration::from_secs(10))
            .expect("every timer fires");
    }
    // Other tests in this binary may start threads of their own meanwhile (the test
    // harness runs them in parallel): allow for those, not for one per timer.
    assert!(
        during <= before + 8,
        "threads: {before} before, {during} with 10k timers"
    );
}

/// A `select!` loop that makes a fresh `after(1h)` per iteration and never waits for it:
/// the abandoned timers are compacted away (the heap is rebuilt as it grows), and live
/// timers around them still fire.
#[test]
fn abandoned_timers_do_not_stop_live_ones() {
    let live = time::after(30 * MS);
    let (tx, rx) = gonet::chan::<u32>(1);
    let mut got = 0;
    for i in 0..20_000 {
        tx.send(i).unwrap();
        gonet::select! {
            recv(rx) -> v => got += v.map_or(0, |_| 1),
            recv(time::after(Duration::from_secs(3600))) => unreachable!(),
        }
    }
    assert_eq!(got, 20_000);
    let stopped: Vec<Timer> = (0..5_000)
        .map(|_| Timer::new(Duration::from_secs(3600)))
        .collect();
    assert!(stopped.iter().all(Timer::stop));
    assert!(live.recv_timeout(Duration::from_secs(10)).is_ok());
    assert!(
        time::after(MS)
            .recv_timeout(Duration::from_secs(10))
            .is_ok()
    );
}
