//! Channels (Go's `chan T`): rendezvous, buffering, close, many coroutines, parking that
//! leaves the worker thread free, plain-thread use, cancellation.

#[path = "util/vocab.rs"]
mod vocab;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gonet::{RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError, chan};
use vocab::{Counted, LIMIT, expect, expect_n, spawn_report, stays_false, wait_until, workers};

const WINDOW: Duration = Duration::from_millis(50);

#[test]
fn ends_are_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<gonet::Sender<String>>();
    check::<gonet::Receiver<String>>();
}

#[test]
fn unbuffered_send_without_receiver_does_not_complete() {
    let (tx, rx) = chan::<i32>(0);
    let start = Instant::now();
    assert_eq!(
        tx.send_timeout(7, Duration::from_millis(30)),
        Err(SendTimeoutError::Timeout(7))
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(tx.try_send(8), Err(TrySendError::Full(8)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.len(), 0);
}

#[test]
fn unbuffered_sender_is_released_only_when_the_receiver_takes() {
    let (tx, rx) = chan::<u32>(0);
    let ready = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicBool::new(false));
    let (r, s) = (ready.clone(), sent.clone());
    let done = spawn_report(move || {
        r.store(true, Ordering::SeqCst);
        let res = tx.send(42);
        s.store(true, Ordering::SeqCst);
        res
    });
    assert!(wait_until(LIMIT, || ready.load(Ordering::SeqCst)));
    // The sender is in (or about to enter) send: it must stay there until we take.
    assert!(
        stays_false(WINDOW, || sent.load(Ordering::SeqCst)),
        "send returned before any receiver took the value"
    );
    assert_eq!(rx.recv(), Some(42));
    assert_eq!(expect(&done, "sender released"), Ok(()));
    assert!(sent.load(Ordering::SeqCst));
}

#[test]
fn unbuffered_receiver_waits_for_a_sender() {
    let (tx, rx) = chan::<u32>(0);
    let got = spawn_report(move || rx.recv());
    assert!(
        got.recv_timeout(WINDOW).is_err(),
        "recv returned with nothing sent"
    );
    tx.send(5).unwrap();
    assert_eq!(expect(&got, "receiver"), Some(5));
}

#[test]
fn buffered_send_parks_only_when_full_and_keeps_fifo_order() {
    let (tx, rx) = chan::<u32>(2);
    assert_eq!(tx.cap(), 2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(tx.len(), 2);
    assert_eq!(tx.try_send(99), Err(TrySendError::Full(99)));

    let sent = Arc::new(AtomicBool::new(false));
    let s = sent.clone();
    let tx2 = tx.clone();
    let done = spawn_report(move || {
        let r = tx2.send(3);
        s.store(true, Ordering::SeqCst);
        r
    });
    assert!(
        stays_false(WINDOW, || sent.load(Ordering::SeqCst)),
        "send into a full buffer returned"
    );
    assert_eq!(rx.recv(), Some(1)); // frees a slot: the parked sender moves in
    assert_eq!(expect(&done, "parked sender"), Ok(()));
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv(), Some(2));
    assert_eq!(rx.recv(), Some(3));
    assert!(rx.is_empty());
}

#[test]
fn close_drains_the_buffer_then_reports_closed() {
    let (tx, rx) = chan::<&str>(3);
    tx.send("a").unwrap();
    tx.send("b").unwrap();
    tx.close().unwrap();
    assert_eq!(tx.send("c"), Err(SendError("c")));
    assert_eq!(tx.try_send("d"), Err(TrySendError::Closed("d")));
    assert_eq!(rx.recv(), Some("a"));
    assert_eq!(rx.try_recv(), Ok("b"));
    assert_eq!(rx.recv(), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)),
        Err(RecvTimeoutError::Closed)
    );
}

#[test]
fn close_twice_is_an_error_with_gos_text() {
    let (tx, _rx) = chan::<()>(0);
    tx.close().unwrap();
    let err = tx.close().unwrap_err();
    assert_eq!(err.to_string(), "close of closed channel");
    assert_eq!(
        tx.send(()).unwrap_err().to_string(),
        "send on closed channel"
    );
}

#[test]
fn close_wakes_every_parked_receiver_and_sender() {
    let (tx, rx) = chan::<usize>(0);
    let n = 4 * workers();
    let (rtx, rrx) = mpsc::channel();
    for _ in 0..n {
        let (rx, rtx) = (rx.clone(), rtx.clone());
        gonet::go!(move || {
            let _ = rtx.send(rx.recv());
        });
    }
    assert!(
        rrx.recv_timeout(WINDOW).is_err(),
        "a receiver returned early"
    );
    tx.close().unwrap();
    assert!(
        expect_n(&rrx, n, "receivers woken by close")
            .iter()
            .all(Option::is_none)
    );

    // Parked senders get their value back.
    let (tx, rx) = chan::<usize>(0);
    let (stx, srx) = mpsc::channel();
    for i in 0..n {
        let (tx, stx) = (tx.clone(), stx.clone());
        gonet::go!(move || {
            let _ = stx.send((i, tx.send(i)));
        });
    }
    assert!(srx.recv_timeout(WINDOW).is_err(), "a sender returned early");
    tx.close().unwrap();
    let mut back: Vec<usize> = expect_n(&srx, n, "senders woken by close")
        .into_iter()
        .map(|(i, r)| {
            assert_eq!(r, Err(SendError(i)));
            i
        })
        .collect();
    back.sort_unstable();
    assert_eq!(back, (0..n).collect::<Vec<_>>());
    drop(rx);
}

#[test]
fn dropping_the_last_sender_closes() {
    let (tx, rx) = chan::<i32>(1);
    let tx2 = tx.clone();
    drop(tx);
    tx2.send(1).unwrap();
    let got = spawn_report(move || (rx.recv(), rx.recv()));
    drop(tx2);
    assert_eq!(expect(&got, "receiver"), (Some(1), None));
}

#[test]
fn dropping_the_last_receiver_fails_sends_and_frees_the_buffer() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::<Counted>(2);
    tx.send(Counted(drops.clone())).unwrap();
    tx.send(Counted(drops.clone())).unwrap();
    let tx2 = tx.clone();
    let parked = spawn_report(move || tx2.send(Counted(Arc::new(AtomicUsize::new(0)))).is_err());
    assert!(
        parked.recv_timeout(WINDOW).is_err(),
        "send into a full buffer returned"
    );
    let rx2 = rx.clone();
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "a receiver is still alive");
    drop(rx2);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "buffered values not dropped"
    );
    assert!(expect(&parked, "parked sender released"));
    let err = tx.send(Counted(drops.clone())).unwrap_err();
    drop(err);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let (tx, rx) = chan::<Counted>(8);
        for _ in 0..5 {
            tx.send(Counted(drops.clone())).unwrap();
        }
        drop(rx.recv());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop((tx, rx));
    }
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[test]
fn recv_timeout_waits_then_gives_up_or_delivers() {
    let (tx, rx) = chan::<u8>(0);
    let start = Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(30)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    // A timed-out receive leaves no stale waiter: a send still finds nobody.
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));

    let sender = spawn_report(move || tx.send(9));
    assert_eq!(rx.recv_timeout(LIMIT), Ok(9));
    assert_eq!(expect(&sender, "sender"), Ok(()));
}

#[test]
fn range_over_a_channel_ends_at_close() {
    let (tx, rx) = chan::<u64>(0);
    gonet::go!(move || {
        for i in 1..=100 {
            tx.send(i).unwrap();
        }
        tx.close().unwrap();
    });
    let sum = spawn_report(move || rx.into_iter().sum::<u64>());
    assert_eq!(expect(&sum, "range"), 5050);
}

/// 1,000 producers and 1,000 consumers over one channel, unbuffered and buffered: every
/// value arrives exactly once.
#[test]
fn a_thousand_producers_and_consumers() {
    for cap in [0, 16] {
        const PRODUCERS: u64 = 1000;
        const PER: u64 = 20;
        let (tx, rx) = chan::<u64>(cap);
        let (ptx, prx) = mpsc::channel();
        for p in 0..PRODUCERS {
            let (tx, ptx) = (tx.clone(), ptx.clone());
            gonet::go!(move || {
                for i in 0..PER {
                    tx.send(p * PER + i).unwrap();
                }
                let _ = ptx.send(());
            });
        }
        drop(tx);
        let (ctx, crx) = mpsc::channel();
        for _ in 0..1000 {
            let (rx, ctx) = (rx.clone(), ctx.clone());
            gonet::go!(move || {
                let (mut n, mut sum) = (0u64, 0u64);
                for v in &rx {
                    n += 1;
                    sum += v;
                }
                let _ = ctx.send((n, sum));
            });
        }
        drop(rx);
        expect_n(&prx, PRODUCERS as usize, "producers");
        let totals = expect_n(&crx, 1000, "consumers");
        let count: u64 = totals.iter().map(|t| t.0).sum();
        let sum: u64 = totals.iter().map(|t| t.1).sum();
        let all = PRODUCERS * PER;
        assert_eq!(count, all, "cap {cap}");
        assert_eq!(sum, all * (all - 1) / 2, "cap {cap}");
    }
}

/// Four times more parked coroutines than worker threads, all parked in `recv` before
/// anything is sent: if a park blocked its worker thread, the sender could never run.
#[test]
fn parked_coroutines_do_not_block_their_worker_thread() {
    let n = 4 * workers();
    let (tx, rx) = chan::<usize>(0);
    let (parked_tx, parked_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    for _ in 0..n {
        let (rx, parked_tx, done_tx) = (rx.clone(), parked_tx.clone(), done_tx.clone());
        gonet::go!(move || {
            let _ = parked_tx.send(());
            let _ = done_tx.send(rx.recv());
        });
    }
    expect_n(&parked_rx, n, "receivers started");
    assert!(
        done_rx.recv_timeout(WINDOW).is_err(),
        "a receiver returned early"
    );
    // The sender is a coroutine too: it needs a worker thread to run on.
    gonet::go!(move || {
        for i in 0..n {
            tx.send(i).unwrap();
        }
    });
    let mut got: Vec<usize> = expect_n(&done_rx, n, "receivers")
        .into_iter()
        .map(|v| v.expect("a value"))
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

/// A ring of coroutines passing a token over unbuffered channels, many laps: each hop is
/// a park and a wake-up on the worker threads.
#[test]
fn token_ring() {
    let n = 8 * workers() + 1;
    let laps = 50;
    let (first_tx, mut prev_rx) = chan::<u32>(0);
    for _ in 0..n - 1 {
        let (tx, rx) = chan::<u32>(0);
        let from = prev_rx;
        gonet::go!(move || {
            for v in &from {
                tx.send(v + 1).unwrap();
            }
        });
        prev_rx = rx;
    }
    let last_rx = prev_rx;
    let got = spawn_report(move || {
        let mut v = 0;
        for _ in 0..laps {
            first_tx.send(v).unwrap();
            v = last_rx.recv().unwrap();
        }
        v
    });
    assert_eq!(expect(&got, "token ring"), laps * (n as u32 - 1));
}

#[test]
fn works_between_plain_threads_and_coroutines() {
    let (tx, rx) = chan::<u32>(0);
    let (back_tx, back_rx) = chan::<u32>(0);
    // Thread -> coroutine -> thread.
    gonet::go!(move || {
        for v in &rx {
            back_tx.send(v * 2).unwrap();
        }
    });
    let t = std::thread::spawn(move || {
        for i in 0..100 {
            tx.send(i).unwrap();
        }
    });
    let mut sum = 0;
    for _ in 0..100 {
        sum += back_rx.recv_timeout(LIMIT).unwrap();
    }
    t.join().unwrap();
    assert_eq!(sum, 2 * (0..100).sum::<u32>());

    // Thread <-> thread, parking both ways.
    let (tx, rx) = chan::<u32>(0);
    let t = std::thread::spawn(move || rx.iter().count());
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    drop(tx);
    assert_eq!(t.join().unwrap(), 1000);
}

/// A coroutine cancelled while parked in `recv` withdraws its queue entry: the channel
/// does not hand the next value to a dead receiver.
#[test]
fn a_cancelled_receiver_leaves_no_stale_entry() {
    let (tx, rx) = chan::<u32>(0);
    let (parked_tx, parked_rx) = mpsc::channel();
    let rx2 = rx.clone();
    let h = gonet::go!(move || {
        let _ = parked_tx.send(());
        rx2.recv()
    });
    expect(&parked_rx, "receiver started");
    assert!(
        stays_false(WINDOW, || h.is_done()),
        "recv returned with nothing sent"
    );
    // SAFETY: cancel unwinds the coroutine out of its park; it owns nothing but its
    // receiver clone, which the unwinding drops.
    unsafe { h.coroutine().cancel() };
    assert!(h.join().is_err(), "a cancelled coroutine reports a panic");
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)), "stale receiver");
    let got = spawn_report(move || rx.recv());
    tx.send(2).unwrap();
    assert_eq!(expect(&got, "live receiver"), Some(2));
}

#[test]
fn sub_millisecond_timeouts_end_inside_a_coroutine() {
    // may keeps coroutine park timeouts in whole milliseconds, 0 meaning "forever": a
    // 300 µs timeout must still end.
    let h = gonet::go!(|| {
        let (tx, rx) = gonet::chan::<u8>(0);
        let t0 = std::time::Instant::now();
        let r = rx.recv_timeout(std::time::Duration::from_micros(300));
        let s = tx.send_timeout(1, std::time::Duration::from_micros(300));
        (r.is_err(), s.is_err(), t0.elapsed())
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(h.join().unwrap()));
    let (recv_timed_out, send_timed_out, took) = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("sub-millisecond timeouts hung");
    assert!(recv_timed_out && send_timed_out);
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
}
