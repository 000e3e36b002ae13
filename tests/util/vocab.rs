//! Helpers for the tests of Go's concurrency vocabulary (chan, select, sync, time).
//!
//! Include from a test file with `#[path = "util/vocab.rs"] mod vocab;`.
//!
//! The tests observe coroutines from the test thread through `std::sync::mpsc`: the test
//! thread is not a may worker, so blocking it is harmless, and an unbounded std send never
//! blocks the coroutine that makes it. That keeps the checks independent of the gonet code
//! under test, and every wait here is bounded by [`LIMIT`].
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any single wait in these tests may take before the test fails.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The number of may worker threads.
pub fn workers() -> usize {
    gonet::runtime::set_max_procs(0)
}

/// Runs `f` in a coroutine; its result arrives on the returned std receiver (nothing
/// arrives if it panics).
pub fn spawn_report<T, F>(f: F) -> mpsc::Receiver<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    gonet::go!(move || {
        let _ = tx.send(f());
    });
    rx
}

/// The next report, or a test failure after [`LIMIT`].
pub fn expect<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(LIMIT) {
        Ok(v) => v,
        Err(e) => panic!("{what}: nothing within {LIMIT:?} ({e})"),
    }
}

/// Collects `n` reports, failing the test if they do not all arrive within [`LIMIT`].
pub fn expect_n<T>(rx: &mpsc::Receiver<T>, n: usize, what: &str) -> Vec<T> {
    let end = Instant::now() + LIMIT;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(v) => out.push(v),
            Err(e) => panic!("{what}: {} of {n} within {LIMIT:?} ({e})", out.len()),
        }
    }
    out
}

/// Polls `cond` from the test thread (yielding between tries) until it holds or `limit`
/// passes; returns whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::yield_now();
    }
    cond()
}

/// Checks that `cond` stays false for the whole of `window`, polling from the test thread.
/// Used to give a bug (a sender released too early) the time to show; the test's outcome
/// never depends on the window's length.
pub fn stays_false(window: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + window;
    while Instant::now() < end {
        if cond() {
            return false;
        }
        std::thread::yield_now();
    }
    !cond()
}

/// The number of threads in this process.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A value that counts its drops, to check that channels neither leak nor double-drop.
pub struct Counted(pub Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
