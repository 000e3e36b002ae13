//! `select!` (Go's `select`): random choice among ready cases, blocking until one is
//! ready, the timeout and default arms, send arms, closed channels, clean-up of the
//! entries a select leaves on the channels it did not take, and many competing selects.

#[path = "util/vocab.rs"]
mod vocab;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gonet::{SendError, TrySendError, chan, select, time};
use vocab::{Counted, expect, expect_n, spawn_report, workers};

const WINDOW: Duration = Duration::from_millis(50);

#[test]
fn both_ready_arms_are_chosen_about_equally() {
    const N: usize = 4000;
    let (atx, arx) = chan::<u8>(N);
    let (btx, brx) = chan::<u8>(N);
    for _ in 0..N {
        atx.send(0).unwrap();
        btx.send(1).unwrap();
    }
    let (mut a, mut b) = (0, 0);
    for _ in 0..N {
        select! {
            recv(arx) => a += 1,
            recv(brx) => b += 1,
        }
    }
    assert_eq!(a + b, N);
    // Fair: p = 1/2 gives sd ~32; these bounds are ~12 sd wide.
    assert!((1600..=2400).contains(&a), "a={a} b={b}");
}

#[test]
fn three_ready_arms_are_all_chosen() {
    let (tx, rx) = chan::<u8>(1);
    tx.send(0).unwrap();
    let (stx, srx) = chan::<u8>(1);
    let mut seen = [0usize; 3];
    for _ in 0..3000 {
        let i = select! {
            recv(rx) -> v => {
                tx.send(v.unwrap()).unwrap(); // keep it ready
                0
            }
            send(stx, 1) => {
                srx.recv().unwrap(); // keep room
                1
            }
            default => 2, // not taken: something is always ready
        };
        seen[i] += 1;
    }
    assert_eq!(seen[2], 0, "default ran while cases were ready");
    assert!(seen[0] > 1000 && seen[1] > 1000, "{seen:?}");
}

#[test]
fn default_runs_only_when_nothing_is_ready() {
    let (tx, rx) = chan::<i32>(1);
    let r = select! {
        recv(rx) -> v => v,
        default => Some(-1),
    };
    assert_eq!(r, Some(-1));
    tx.send(4).unwrap();
    let r = select! {
        recv(rx) -> v => v,
        default => Some(-1),
    };
    assert_eq!(r, Some(4));
    // Only a default: Go's `select { default: }`.
    assert_eq!(select! { default => 7 }, 7);
}

#[test]
fn timeout_arm_fires_when_nothing_arrives() {
    let (_tx, rx) = chan::<i32>(0);
    let start = Instant::now();
    let got = select! {
        recv(rx) -> v => v,
        recv(time::after(Duration::from_millis(30))) -> t => {
            assert!(t.is_some(), "after() delivers the time");
            None
        }
    };
    assert_eq!(got, None);
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn a_value_beats_the_timeout() {
    let (tx, rx) = chan::<i32>(0);
    let got = spawn_report(move || {
        select! {
            recv(rx) -> v => v,
            recv(time::after(Duration::from_secs(30))) => None,
        }
    });
    tx.send(11).unwrap();
    assert_eq!(expect(&got, "select"), Some(11));
}

#[test]
fn a_blocked_select_wakes_on_whichever_channel_is_used() {
    for which in 0..2 {
        let (atx, arx) = chan::<&str>(0);
        let (btx, brx) = chan::<&str>(0);
        // Keep both channels' receiving side alive after the select is done.
        let _keep = (arx.clone(), brx.clone());
        let got = spawn_report(move || {
            select! {
                recv(arx) -> v => ("a", v),
                recv(brx) -> v => ("b", v),
            }
        });
        assert!(got.recv_timeout(WINDOW).is_err(), "select returned early");
        if which == 0 {
            atx.send("x").unwrap();
            assert_eq!(expect(&got, "select"), ("a", Some("x")));
        } else {
            btx.send("y").unwrap();
            assert_eq!(expect(&got, "select"), ("b", Some("y")));
        }
        // The entry on the other channel was withdrawn: nobody receives there.
        assert_eq!(atx.try_send("late"), Err(TrySendError::Full("late")));
        assert_eq!(btx.try_send("late"), Err(TrySendError::Full("late")));
    }
}

#[test]
fn send_arm_hands_over_to_a_parked_receiver() {
    let (tx, rx) = chan::<u32>(0);
    let (_other_tx, other_rx) = chan::<u32>(0);
    let got = spawn_report(move || rx.recv());
    let r = spawn_report(move || {
        select! {
            send(tx, 5) -> res => res.is_ok(),
            recv(other_rx) => false,
        }
    });
    assert!(expect(&r, "select"));
    assert_eq!(expect(&got, "receiver"), Some(5));
}

#[test]
fn closed_channels_are_ready() {
    let (tx, rx) = chan::<u8>(0);
    tx.close().unwrap();
    let r = select! {
        recv(rx) -> v => v,
        recv(time::after(Duration::from_secs(30))) => Some(1),
    };
    assert_eq!(r, None, "a closed channel receives None at once");
    let r = select! {
        send(tx, 3) -> res => res,
        default => Ok(()),
    };
    assert_eq!(r, Err(SendError(3)));

    // Closing wakes a parked select.
    let (tx, rx) = chan::<u8>(0);
    let (_keep, idle) = chan::<u8>(0);
    let got = spawn_report(move || {
        select! {
            recv(rx) -> v => v,
            recv(idle) => Some(9),
        }
    });
    assert!(got.recv_timeout(WINDOW).is_err());
    tx.close().unwrap();
    assert_eq!(expect(&got, "select woken by close"), None);
}

#[test]
fn bodies_can_break_and_continue_the_enclosing_loop() {
    let (tx, rx) = chan::<u32>(8);
    let (qtx, quit) = chan::<()>(1);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    qtx.send(()).unwrap();
    let mut seen = 0;
    let mut quits = 0;
    for _ in 0..100 {
        select! {
            recv(rx) -> v => {
                if v == Some(0) {
                    continue;
                }
                seen += 1;
            }
            recv(quit) => {
                quits += 1;
                if rx.is_empty() {
                    break;
                }
                qtx.send(()).unwrap(); // not done yet: ask again later
            }
        }
    }
    assert_eq!((seen, quits > 0), (4, true));
}

#[test]
fn unchosen_send_values_are_dropped_and_chosen_ones_delivered() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (atx, arx) = chan::<Counted>(1);
    let (btx, _brx) = chan::<Counted>(0); // never ready
    let r = select! {
        send(atx, Counted(drops.clone())) -> res => res.is_ok(),
        send(btx, Counted(drops.clone())) => false,
    };
    assert!(r);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the unsent value is dropped"
    );
    drop(arx.recv());
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn same_channel_twice_in_one_select() {
    let (tx, rx) = chan::<u8>(1);
    // Buffer empty: only the send can go.
    let r = select! {
        recv(rx) -> v => v,
        send(tx, 1) => None,
    };
    assert_eq!(r, None);
    // Buffer full: only the receive can go.
    let r = select! {
        recv(rx) -> v => v,
        send(tx, 2) => None,
    };
    assert_eq!(r, Some(1));
    let r = select! {
        recv(rx) -> v => v,
        recv(rx) -> v => v,
        default => Some(0),
    };
    assert_eq!(r, Some(0));
}

#[test]
fn a_plain_thread_can_block_in_select() {
    let (tx, rx) = chan::<u8>(0);
    let (_keep, idle) = chan::<u8>(0);
    gonet::go!(move || {
        time::sleep(Duration::from_millis(10));
        tx.send(1).unwrap();
    });
    let r = select! {
        recv(idle) => 0,
        recv(rx) -> v => v.unwrap(),
        recv(time::after(Duration::from_secs(30))) => 2,
    };
    assert_eq!(r, 1);
}

/// Many coroutines each selecting over the same two channels while producers feed both:
/// every value is received exactly once (no lost or duplicated hand-over when several
/// selects race for one value, or one select is offered values on both channels at once).
#[test]
fn competing_selects_lose_and_duplicate_nothing() {
    const CONSUMERS: usize = 200;
    const PER: u64 = 2000;
    let (atx, arx) = chan::<u64>(0);
    let (btx, brx) = chan::<u64>(3);
    let (ctx, crx) = mpsc::channel();
    for _ in 0..CONSUMERS {
        let (arx, brx, ctx) = (arx.clone(), brx.clone(), ctx.clone());
        gonet::go!(move || {
            let (mut n, mut sum) = (0u64, 0u64);
            let mut add = |v: u64| {
                n += 1;
                sum += v;
            };
            // Once one channel is closed its case is always ready (Go would set it to
            // nil): finish with a plain range over the other.
            loop {
                select! {
                    recv(arx) -> v => match v {
                        Some(v) => add(v),
                        None => {
                            brx.iter().for_each(&mut add);
                            break;
                        }
                    },
                    recv(brx) -> v => match v {
                        Some(v) => add(v),
                        None => {
                            arx.iter().for_each(&mut add);
                            break;
                        }
                    },
                }
            }
            let _ = ctx.send((n, sum));
        });
    }
    drop((arx, brx));
    let pa = gonet::go!(move || (0..PER).for_each(|v| atx.send(v).unwrap()));
    let pb = gonet::go!(move || (PER..2 * PER).for_each(|v| btx.send(v).unwrap()));
    let totals = expect_n(&crx, CONSUMERS, "consumers");
    pa.join().unwrap();
    pb.join().unwrap();
    let n: u64 = totals.iter().map(|t| t.0).sum();
    let sum: u64 = totals.iter().map(|t| t.1).sum();
    assert_eq!(n, 2 * PER);
    assert_eq!(sum, (2 * PER) * (2 * PER - 1) / 2);
}

/// Selects on both sides: senders select over two channels, receivers too.
#[test]
fn selecting_senders_meet_selecting_receivers() {
    let n = 4 * workers();
    const PER: u64 = 500;
    let (atx, arx) = chan::<u64>(0);
    let (btx, brx) = chan::<u64>(0);
    let (done_tx, done_rx) = mpsc::channel();
    for p in 0..n as u64 {
        let (atx, btx, done_tx) = (atx.clone(), btx.clone(), done_tx.clone());
        gonet::go!(move || {
            for i in 0..PER {
                let v = p * PER + i;
                select! {
                    send(atx, v) -> r => r.unwrap(),
                    send(btx, v) -> r => r.unwrap(),
                }
            }
            let _ = done_tx.send(());
        });
    }
    drop((atx, btx));
    let total = n as u64 * PER;
    let sum = spawn_report(move || {
        let (mut count, mut sum) = (0, 0u64);
        while count < total {
            select! {
                recv(arx) -> v => { sum += v.unwrap(); count += 1; }
                recv(brx) -> v => { sum += v.unwrap(); count += 1; }
            }
        }
        sum
    });
    expect_n(&done_rx, n, "selecting senders");
    assert_eq!(expect(&sum, "selecting receiver"), total * (total - 1) / 2);
}

#[test]
fn a_never_channel_switches_an_arm_off_like_a_nil_channel() {
    // Nothing on it is ever ready: default and timeout arms run instead.
    let off = gonet::never::<i32>();
    let got = select! {
        recv(off) -> v => Some(v),
        default => None,
    };
    assert_eq!(got, None);
    assert!(
        matches!(off.try_recv(), Err(gonet::TryRecvError::Empty)),
        "never closed"
    );
    let fired = select! {
        recv(off) -> _ => false,
        recv(time::after(Duration::from_millis(5))) -> _ => true,
    };
    assert!(fired);

    // Go's merge loop: set a closed channel to nil so its arm stops firing. Two producer
    // coroutines send 100 values each, at their own pace, then close.
    let (a_tx, mut a) = chan::<u64>(0);
    let (b_tx, mut b) = chan::<u64>(0);
    for (tx, base) in [(a_tx, 0u64), (b_tx, 1000)] {
        gonet::go!(move || {
            for i in 0..100 {
                tx.send(base + i).unwrap();
            }
        });
    }
    let merged = gonet::go!(move || {
        let (mut open, mut got) = (2, Vec::new());
        while open > 0 {
            select! {
                recv(a) -> v => match v {
                    Some(v) => got.push(v),
                    None => { a = gonet::never(); open -= 1; }
                },
                recv(b) -> v => match v {
                    Some(v) => got.push(v),
                    None => { b = gonet::never(); open -= 1; }
                },
            }
        }
        got
    });
    let mut got = merged.join().unwrap();
    got.sort_unstable();
    let want: Vec<u64> = (0..100).chain(1000..1100).collect();
    assert_eq!(got, want, "every value once, and the loop ended");
}
