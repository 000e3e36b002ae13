//! `gonet::sync` (Go's `sync`): WaitGroup with many coroutines and Go's negative-counter
//! panic, Once and OnceLock with initialisers that park, and may's locks re-exported,
//! checked for parking the coroutine rather than the worker thread.

#[path = "util/vocab.rs"]
mod vocab;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use gonet::sync::{Condvar, Mutex, Once, OnceLock, RwLock, Semaphore, WaitGroup};
use vocab::{expect, expect_n, spawn_report, workers};

const WINDOW: Duration = Duration::from_millis(50);

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    match p.downcast::<&str>() {
        Ok(s) => s.to_string(),
        Err(p) => p.downcast::<String>().map(|s| *s).unwrap_or_default(),
    }
}

#[test]
fn wait_group_waits_for_a_thousand_coroutines() {
    let wg = WaitGroup::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = gonet::chan::<()>(0);
    for _ in 0..1000 {
        wg.add(1);
        let (wg, hits, gate_rx) = (wg.clone(), hits.clone(), gate_rx.clone());
        gonet::go!(move || {
            gate_rx.recv(); // all park until the gate closes
            hits.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    let w = wg.clone();
    let waited = spawn_report(move || w.wait());
    assert!(
        waited.recv_timeout(WINDOW).is_err(),
        "wait returned with the counter at 1000"
    );
    drop(gate_tx); // closes: releases all 1000
    expect(&waited, "wait");
    assert_eq!(hits.load(Ordering::SeqCst), 1000);
    wg.wait(); // and from a plain thread: already zero
}

#[test]
fn wait_group_releases_every_waiter() {
    let wg = WaitGroup::new();
    wg.add(1);
    let (tx, rx) = mpsc::channel();
    for _ in 0..2 * workers() {
        let (wg, tx) = (wg.clone(), tx.clone());
        gonet::go!(move || {
            wg.wait();
            let _ = tx.send(());
        });
    }
    let w = wg.clone();
    let t = std::thread::spawn(move || w.wait());
    assert!(rx.recv_timeout(WINDOW).is_err(), "a waiter returned early");
    wg.done();
    expect_n(&rx, 2 * workers(), "coroutine waiters");
    t.join().unwrap();
}

#[test]
fn negative_counter_panics_with_gos_message() {
    let wg = WaitGroup::new();
    wg.add(1);
    let p = std::panic::catch_unwind(|| wg.add(-2)).unwrap_err();
    assert_eq!(panic_text(p), "sync: negative WaitGroup counter");
    // The counter was left alone: one done() brings it to zero.
    wg.done();
    wg.wait();
    let p = std::panic::catch_unwind(|| wg.done()).unwrap_err();
    assert_eq!(panic_text(p), "sync: negative WaitGroup counter");
}

#[test]
fn wait_group_go_counts_and_survives_a_panic() {
    let wg = WaitGroup::new();
    let hits = Arc::new(AtomicUsize::new(0));
    for i in 0..100 {
        let hits = hits.clone();
        wg.go(move || {
            if i == 50 {
                panic!("one task fails");
            }
            hits.fetch_add(1, Ordering::SeqCst);
        });
    }
    let w = wg.clone();
    expect(
        &spawn_report(move || w.wait()),
        "wait after a panicking task",
    );
    assert_eq!(hits.load(Ordering::SeqCst), 99);
}

/// The lock holder parks inside the critical section; 4x more waiters than workers queue
/// on the lock. If waiting blocked the worker thread, the holder could not resume.
#[test]
fn mutex_waiters_park_the_coroutine_not_the_thread() {
    let m = Arc::new(Mutex::new(0u64));
    let n = 4 * workers();
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let holder = {
        let m = m.clone();
        let started_tx = started_tx.clone();
        spawn_report(move || {
            let mut g = m.lock().unwrap();
            let _ = started_tx.send(());
            gonet::time::sleep(Duration::from_millis(30)); // parks while holding the lock
            *g += 1;
        })
    };
    expect(&started_rx, "holder has the lock");
    for _ in 0..n {
        let (m, done_tx) = (m.clone(), done_tx.clone());
        gonet::go!(move || {
            for _ in 0..10 {
                *m.lock().unwrap() += 1;
                gonet::runtime::gosched();
            }
            let _ = done_tx.send(());
        });
    }
    expect(&holder, "lock holder");
    expect_n(&done_rx, n, "lock waiters");
    assert_eq!(*m.lock().unwrap(), 1 + 10 * n as u64);
}

#[test]
fn rwlock_and_condvar_work_across_coroutines() {
    let l = Arc::new(RwLock::new(Vec::new()));
    let wg = WaitGroup::new();
    for i in 0..100 {
        let l = l.clone();
        wg.go(move || l.write().unwrap().push(i));
    }
    wg.wait();
    assert_eq!(l.read().unwrap().len(), 100);

    let pair = Arc::new((Mutex::new(0), Condvar::new()));
    let n = 2 * workers();
    let (tx, rx) = mpsc::channel();
    for _ in 0..n {
        let (pair, tx) = (pair.clone(), tx.clone());
        gonet::go!(move || {
            let mut g = pair.0.lock().unwrap();
            while *g == 0 {
                g = pair.1.wait(g).unwrap();
            }
            let _ = tx.send(*g);
        });
    }
    assert!(rx.recv_timeout(WINDOW).is_err(), "woke without a broadcast");
    *pair.0.lock().unwrap() = 7;
    pair.1.notify_all();
    assert!(expect_n(&rx, n, "broadcast").iter().all(|&v| v == 7));
}

#[test]
fn semaphore_bounds_concurrency() {
    let sem = Arc::new(Semaphore::new(3));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let wg = WaitGroup::new();
    for _ in 0..60 {
        let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
        wg.go(move || {
            sem.wait();
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            gonet::time::sleep(Duration::from_millis(1));
            running.fetch_sub(1, Ordering::SeqCst);
            sem.post();
        });
    }
    let w = wg.clone();
    expect(&spawn_report(move || w.wait()), "semaphore users");
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "peak concurrency {peak}");
}

#[test]
fn once_runs_a_parking_initialiser_exactly_once() {
    static ONCE: Once = Once::new();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static READY: AtomicBool = AtomicBool::new(false);
    let n = 4 * workers();
    let (tx, rx) = mpsc::channel();
    for _ in 0..n {
        let tx = tx.clone();
        gonet::go!(move || {
            ONCE.call_once(|| {
                CALLS.fetch_add(1, Ordering::SeqCst);
                gonet::time::sleep(Duration::from_millis(20)); // parks inside
                READY.store(true, Ordering::SeqCst);
            });
            // Nobody returns before the initialiser finished.
            let _ = tx.send(READY.load(Ordering::SeqCst));
        });
    }
    assert!(expect_n(&rx, n, "call_once callers").iter().all(|&r| r));
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert!(ONCE.is_completed());
}

#[test]
fn once_counts_a_panicking_call_as_done() {
    let once = Once::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        once.call_once(|| panic!("init failed"))
    }));
    assert!(r.is_err());
    let mut ran = false;
    once.call_once(|| ran = true);
    assert!(!ran, "Go's Once does not call f again after a panic");
}

#[test]
fn once_lock_initialises_once_and_retries_after_a_panic() {
    static CELL: OnceLock<usize> = OnceLock::new();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let n = 4 * workers();
    let (tx, rx) = mpsc::channel();
    for i in 0..n {
        let tx = tx.clone();
        gonet::go!(move || {
            let v = *CELL.get_or_init(|| {
                CALLS.fetch_add(1, Ordering::SeqCst);
                gonet::time::sleep(Duration::from_millis(20));
                i
            });
            let _ = tx.send(v);
        });
    }
    let got = expect_n(&rx, n, "get_or_init callers");
    assert!(got.iter().all(|&v| v == got[0]), "{got:?}");
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(CELL.get(), Some(&got[0]));

    let cell = OnceLock::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cell.get_or_init(|| -> u8 { panic!("first try fails") })
    }));
    assert!(r.is_err());
    assert_eq!(cell.get(), None);
    assert_eq!(*cell.get_or_init(|| 2), 2, "a later call initialises");
    assert_eq!(cell.set(3), Err(3));
}

#[test]
fn sub_millisecond_timed_waits_end_inside_a_coroutine() {
    // may keeps coroutine park timeouts in whole milliseconds, 0 meaning "forever".
    let h = gonet::go!(|| {
        let (m, cv) = (Mutex::new(()), Condvar::new());
        let (_g, r) = cv
            .wait_timeout(m.lock().unwrap(), Duration::from_micros(300))
            .unwrap();
        let sem = Semaphore::new(0);
        (r.timed_out(), sem.wait_timeout(Duration::from_micros(300)))
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(h.join().unwrap()));
    let (cv_timed_out, sem_got) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a sub-millisecond timed wait hung");
    assert!(cv_timed_out);
    assert!(!sem_got);
}
