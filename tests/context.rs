//! `gonet::context` (Go's `context`): cancellation reaching `select!` on `done()` in
//! coroutines and plain threads, deadlines on the timer thread, the cancel tree (10,000
//! children at once, a million cycles on one long-lived parent with its child set empty
//! and RSS flat, dropped children leaving), values, causes, `after_func`,
//! `without_cancel`, and the texts and `errors.Is` answers of live Go 1.19.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/vocab.rs"]
mod vocab;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use gonet::context::{self, Canceled, Context, DeadlineExceeded};
use gonet::{TryRecvError, select};
use vocab::{LIMIT, expect, spawn_report, stays_false, wait_until};

/// The window within which an event that should not happen is watched for.
const WINDOW: Duration = Duration::from_millis(50);

#[test]
fn context_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Context>();
    assert_send_sync::<context::CancelFunc>();
    assert_send_sync::<context::CancelCauseFunc>();
    assert_send_sync::<context::StopFunc>();
    // A handle is one pointer (plus the enum tag).
    assert!(std::mem::size_of::<Context>() <= 2 * std::mem::size_of::<usize>());
}

#[test]
fn cancel_wakes_a_select_on_done_in_a_coroutine() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (parked_tx, parked) = mpsc::channel();
    let c = ctx.clone();
    let woke = spawn_report(move || {
        let (_tx, never_sent) = gonet::chan::<u32>(0);
        parked_tx.send(()).unwrap();
        select! {
            recv(never_sent) => "work".to_string(),
            recv(c.done()) -> v => format!("{v:?} {}", c.err().unwrap()),
        }
    });
    expect(&parked, "the coroutine started");
    assert!(
        stays_false(WINDOW, || woke.try_recv().is_ok()),
        "woke before the cancel"
    );
    cancel();
    assert_eq!(
        expect(&woke, "the cancel woke the select"),
        "None context canceled"
    );
}

#[test]
fn cancel_wakes_a_select_on_done_in_a_plain_thread() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, woke) = mpsc::channel();
    let c = ctx.clone();
    let t = std::thread::spawn(move || {
        let (_tx, never_sent) = gonet::chan::<u32>(0);
        let r = select! {
            recv(never_sent) => "work",
            recv(c.done()) => "done",
        };
        tx.send(r).unwrap();
    });
    assert!(
        stays_false(WINDOW, || woke.try_recv().is_ok()),
        "woke before the cancel"
    );
    cancel();
    assert_eq!(expect(&woke, "the cancel woke the thread"), "done");
    t.join().unwrap();
}

#[test]
fn a_deadline_fires_within_a_bounded_window() {
    for timeout in [Duration::from_millis(1), Duration::from_millis(30)] {
        let start = Instant::now();
        let (ctx, cancel) = context::with_timeout(&context::background(), timeout);
        let rx = spawn_report(move || {
            let got = ctx.done().recv();
            (got, start.elapsed(), ctx.err().unwrap())
        });
        let (got, elapsed, err) = expect(&rx, "the deadline fired");
        assert_eq!(got, None);
        assert!(elapsed >= timeout, "fired early: {elapsed:?} < {timeout:?}");
        // Generous: the machine is shared; a missing timer would never fire at all.
        assert!(
            elapsed < timeout + Duration::from_secs(2),
            "fired late: {elapsed:?}"
        );
        assert_eq!(err.to_string(), "context deadline exceeded");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert!(err.get_ref().unwrap().is::<DeadlineExceeded>());
        assert!(gonet::is_timeout(&err));
        assert!(context::is_deadline_exceeded(&err) && !context::is_canceled(&err));
        cancel();
    }
}

#[test]
fn deadlines_in_the_past_are_exceeded_at_once() {
    let (ctx, _cancel) = context::with_deadline(&context::background(), Instant::now());
    assert_eq!(ctx.err().unwrap().to_string(), "context deadline exceeded");
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Closed));
    let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::ZERO);
    assert!(context::is_deadline_exceeded(&ctx.err().unwrap()));
}

#[test]
fn a_huge_timeout_never_fires() {
    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::MAX);
    assert!(ctx.err().is_none());
    cancel();
    assert!(context::is_canceled(&ctx.err().unwrap()));
}

#[test]
fn cancelling_a_parent_closes_ten_thousand_done_channels() {
    const N: usize = 10_000;
    let (parent, cancel) = context::with_cancel(&context::background());
    let mut children = Vec::with_capacity(N);
    for _ in 0..N {
        let (child, cancel_child) = context::with_cancel(&parent);
        let done = child.done();
        children.push((child, cancel_child, done));
    }
    assert_eq!(parent.__children(), N);
    assert!(
        children
            .iter()
            .all(|(_, _, done)| done.try_recv() == Err(TryRecvError::Empty))
    );
    cancel();
    // Synchronous: every child is done when cancel() returns.
    for (child, _, done) in &children {
        assert_eq!(done.try_recv(), Err(TryRecvError::Closed));
        assert!(child.err().unwrap().get_ref().unwrap().is::<Canceled>());
    }
    assert_eq!(parent.__children(), 0);
}

#[test]
fn cancel_reaches_grandchildren_through_values_and_deadlines() {
    #[derive(Debug, PartialEq)]
    struct Tag(u8);
    let (root, cancel) = context::with_cancel(&context::background());
    let v = context::with_value(&root, Tag(1));
    let (t, _c1) = context::with_timeout(&v, Duration::from_secs(3600));
    let (c, _c2) = context::with_cancel(&t);
    let deep = context::with_value(&c, Tag(2));
    let done = deep.done();
    assert_eq!(
        root.__children(),
        1,
        "the timeout ctx registers with root, past the value"
    );
    cancel();
    assert_eq!(done.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(
        t.err().unwrap().to_string(),
        "context canceled",
        "cancel beat the deadline"
    );
    assert_eq!(deep.value::<Tag>(), Some(&Tag(2)));
    assert_eq!(c.value::<Tag>(), Some(&Tag(1)));
}

#[test]
fn a_million_cancel_cycles_leave_the_parent_empty_and_rss_flat() {
    let (parent, _cancel) = context::with_cancel(&context::background());
    let _ = parent.done(); // a parent someone waits on, as a request's context is
    let cycle = |n: usize| {
        for _ in 0..n {
            let (child, cancel) = context::with_cancel(&parent);
            cancel();
            drop(child);
        }
    };
    cycle(100_000); // warm the allocator up
    let before = rss_bytes();
    let start = Instant::now();
    cycle(1_000_000);
    let per = start.elapsed() / 1_000_000;
    let after = rss_bytes();
    assert_eq!(parent.__children(), 0);
    // A leaked node is far above 32 bytes: a million of them would be tens of MiB.
    let grew = after.saturating_sub(before);
    assert!(
        grew < 16 << 20,
        "RSS grew by {grew} bytes over a million cycles"
    );
    eprintln!("with_cancel + cancel: {per:?} per cycle, RSS {before} -> {after}");
}

#[test]
fn dropped_children_leave_their_parent() {
    let (parent, _cancel) = context::with_cancel(&context::background());
    for _ in 0..100_000 {
        // Neither cancelled nor kept: Go would keep these until the parent ends.
        let (child, cancel) = context::with_cancel(&parent);
        drop((child, cancel));
        let (child, cancel) = context::with_timeout(&parent, Duration::from_secs(3600));
        drop((child, cancel));
    }
    assert_eq!(parent.__children(), 0);
    // Registered (waited on) and dropped the same way.
    for _ in 0..100_000 {
        let (child, cancel) = context::with_cancel(&parent);
        let _ = child.done();
        drop((child, cancel));
        let (child, cancel) = context::with_timeout(&parent, Duration::from_secs(3600));
        let _ = child.done();
        drop((child, cancel));
    }
    assert_eq!(parent.__children(), 0);
    // Kept children stay registered, and a grandchild keeps its parent alive.
    let (child, cancel_child) = context::with_cancel(&parent);
    let (grandchild, _c) = context::with_cancel(&child);
    let _wait = grandchild.done(); // registers the grandchild, and the child above it
    drop(child);
    assert_eq!(parent.__children(), 1);
    cancel_child();
    assert_eq!(parent.__children(), 0);
    assert!(grandchild.err().is_some());
}

#[test]
fn children_register_when_first_watched_and_see_an_unwatched_parents_end() {
    let (root, cancel) = context::with_cancel(&context::background());
    let (mid, _m) = context::with_cancel(&root);
    let v = context::with_value(&mid, 7u8);
    let (leaf, _l) = context::with_cancel(&v);
    assert_eq!(
        (root.__children(), mid.__children()),
        (0, 0),
        "nothing waits yet"
    );
    let done = leaf.done(); // registers the leaf with mid, and mid with root
    assert_eq!((root.__children(), mid.__children()), (1, 1));
    let (unwatched, _u) = context::with_cancel(&mid);
    assert_eq!(mid.__children(), 1);
    cancel();
    // Synchronous for both: the registered leaf was cancelled, the unwatched child looks up.
    assert_eq!(done.try_recv(), Err(TryRecvError::Closed));
    assert!(context::is_canceled(&leaf.err().unwrap()));
    assert!(context::is_canceled(&unwatched.err().unwrap()));
    assert!(context::cause(&unwatched).unwrap().is::<Canceled>());
    assert_eq!(unwatched.done().try_recv(), Err(TryRecvError::Closed));
    let (tx, ran) = mpsc::channel();
    let _stop = context::after_func(&unwatched, move || tx.send(()).unwrap());
    expect(
        &ran,
        "after_func on a context whose parent ended runs at once",
    );
    assert_eq!((root.__children(), mid.__children()), (0, 0));
}

#[test]
fn a_deadline_after_the_parents_cancel_changes_nothing() {
    let (parent, cancel) = context::with_cancel(&context::background());
    let deadline = Instant::now() + Duration::from_millis(30);
    let (unwatched, _a) = context::with_deadline(&parent, deadline);
    let (watched, _b) = context::with_deadline(&parent, deadline);
    let done = watched.done();
    cancel();
    assert_eq!(done.try_recv(), Err(TryRecvError::Closed));
    // The timer heap fires equal deadlines in the order they were set: once this one has
    // fired, so has (or would have) the unwatched child's.
    let (marker, _c) = context::with_deadline(&context::background(), deadline);
    assert_eq!(marker.done().recv(), None);
    for ctx in [&unwatched, &watched] {
        let err = ctx.err().unwrap();
        assert!(context::is_canceled(&err), "{ctx}: {err}");
        assert!(context::cause(ctx).unwrap().is::<Canceled>());
    }
}

#[test]
fn registrations_racing_a_cancel_all_close() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 200;
    for _ in 0..ROUNDS {
        let (root, cancel) = context::with_cancel(&context::background());
        let (mid, _m) = context::with_cancel(&root); // nobody waits on mid itself
        let start = Arc::new(Barrier::new(THREADS + 1));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (mid, start) = (mid.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    (0..50)
                        .map(|_| {
                            let (c, _cancel) = context::with_cancel(&mid);
                            let (g, _cg) = context::with_cancel(&c);
                            let done = g.done();
                            (g, done)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        start.wait();
        cancel();
        for h in handles {
            for (g, done) in h.join().unwrap() {
                assert_eq!(done.try_recv(), Err(TryRecvError::Closed), "{g}");
                assert!(g.err().is_some());
            }
        }
        assert_eq!((root.__children(), mid.__children()), (0, 0));
    }
}

#[test]
fn done_is_made_lazily_and_is_the_same_channel() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (child, _c) = context::with_cancel(&ctx);
    assert!(!ctx.__done_made() && !child.__done_made());
    let a = child.done();
    let b = child.done();
    assert!(child.__done_made() && !ctx.__done_made());
    cancel();
    assert!(!ctx.__done_made(), "cancel makes no channel");
    assert_eq!(a.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(b.try_recv(), Err(TryRecvError::Closed));
    // Asked for after the cancel: already closed.
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn roots_and_without_cancel_are_never_done() {
    for ctx in [context::background(), context::todo(), Context::default()] {
        assert!(ctx.err().is_none() && ctx.deadline().is_none());
        assert!(context::cause(&ctx).is_none());
        let done = ctx.done();
        let got = select! {
            recv(done) => "done",
            recv(gonet::time::after(Duration::from_millis(5))) => "timeout",
        };
        assert_eq!(got, "timeout");
    }
    let (parent, cancel) = context::with_timeout(&context::background(), Duration::from_millis(1));
    let bg = context::without_cancel(&parent);
    let (child, _c) = context::with_cancel(&bg);
    assert_eq!(bg.deadline(), None);
    cancel();
    assert!(bg.err().is_none() && child.err().is_none());
    assert_eq!(
        parent.__children(),
        0,
        "nothing below without_cancel registers above it"
    );
    let name = bg.to_string();
    assert!(
        name.starts_with("context.Background.WithDeadline(") && name.ends_with(").WithoutCancel"),
        "{name}"
    );
}

#[test]
fn values_are_found_by_type_nearest_first() {
    #[derive(Debug, PartialEq)]
    struct User(&'static str);
    #[derive(Debug, PartialEq)]
    struct RequestId(u64);
    let a = context::with_value(&context::background(), User("ana"));
    let b = context::with_value(&a, RequestId(7));
    let c = context::with_value(&b, User("bo"));
    assert_eq!(c.value::<User>(), Some(&User("bo")));
    assert_eq!(c.value::<RequestId>(), Some(&RequestId(7)));
    assert_eq!(b.value::<User>(), Some(&User("ana")));
    assert_eq!(a.value::<RequestId>(), None);
    assert_eq!(context::todo().value::<User>(), None);
}

#[test]
fn a_deadline_is_never_later_than_the_parents() {
    let soon = Instant::now() + Duration::from_secs(10);
    let (parent, _c) = context::with_deadline(&context::background(), soon);
    let (later, _c2) = context::with_deadline(&parent, soon + Duration::from_secs(10));
    assert_eq!(later.deadline(), Some(soon));
    let sooner = soon - Duration::from_secs(5);
    let (child, _c3) = context::with_deadline(&parent, sooner);
    assert_eq!(child.deadline(), Some(sooner));
    let v = context::with_value(&child, 1u8);
    assert_eq!(v.deadline(), Some(sooner));
}

#[test]
fn causes_are_recorded_and_inherited() {
    #[derive(Debug)]
    struct Overloaded;
    impl std::fmt::Display for Overloaded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("overloaded")
        }
    }
    impl std::error::Error for Overloaded {}

    let (parent, cancel) = context::with_cancel_cause(&context::background());
    let (child, cancel_child) = context::with_cancel(&parent);
    let v = context::with_value(&child, 5u32);
    cancel(Some(Box::new(Overloaded)));
    cancel(Some("second call: ignored".into()));
    for ctx in [&parent, &child, &v] {
        assert_eq!(ctx.err().unwrap().to_string(), "context canceled");
        let cause = context::cause(ctx).unwrap();
        assert!(cause.is::<Overloaded>(), "{ctx}: {cause}");
    }
    cancel_child();
    assert!(context::cause(&child).unwrap().is::<Overloaded>());

    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    cancel(None);
    assert!(context::cause(&ctx).unwrap().is::<Canceled>());

    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_millis(1));
    assert_eq!(ctx.done().recv(), None);
    assert!(context::cause(&ctx).unwrap().is::<DeadlineExceeded>());

    let (ctx, _c) = context::with_timeout_cause(
        &context::background(),
        Duration::from_millis(1),
        Some(Box::new(Overloaded)),
    );
    assert_eq!(ctx.done().recv(), None);
    assert!(
        ctx.err()
            .unwrap()
            .get_ref()
            .unwrap()
            .is::<DeadlineExceeded>()
    );
    assert!(context::cause(&ctx).unwrap().is::<Overloaded>());
}

#[test]
fn after_func_runs_once_in_its_own_coroutine_after_the_cancel() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, ran) = mpsc::channel();
    let c = ctx.clone();
    let stop = context::after_func(&ctx, move || {
        let in_coroutine = may::coroutine::is_coroutine();
        tx.send((c.err().map(|e| e.to_string()), in_coroutine))
            .unwrap();
    });
    assert!(stays_false(WINDOW, || ran.try_recv().is_ok()));
    assert_eq!(ctx.__children(), 1);
    cancel();
    let (err, in_coroutine) = expect(&ran, "after_func ran");
    assert_eq!(
        err.as_deref(),
        Some("context canceled"),
        "err is set before f runs"
    );
    assert!(in_coroutine);
    assert!(!stop(), "too late to stop");
    assert!(ran.recv_timeout(WINDOW).is_err(), "ran twice");
}

#[test]
fn a_stopped_after_func_never_runs_and_leaves_the_parent() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let stop = context::after_func(&ctx, move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(ctx.__children(), 1);
    assert!(stop());
    assert!(!stop(), "a second stop stops nothing");
    assert_eq!(ctx.__children(), 0);
    cancel();
    assert!(stays_false(WINDOW, || runs.load(Ordering::SeqCst) > 0));
}

#[test]
fn after_func_on_a_done_context_runs_at_once_and_never_on_a_root() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel();
    let (tx, ran) = mpsc::channel();
    let stop = context::after_func(&ctx, move || tx.send(()).unwrap());
    expect(&ran, "after_func on a done context");
    assert!(!stop());

    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let stop = context::after_func(&context::background(), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert!(stays_false(WINDOW, || runs.load(Ordering::SeqCst) > 0));
    assert!(stop(), "stopping an after_func that could never run");
}

#[test]
fn a_deep_chain_cancels_and_drops_in_a_coroutine() {
    // A coroutine's stack is small (32 KiB): neither cancel nor drop may recurse per level.
    let rx = spawn_report(|| {
        let (root, cancel) = context::with_cancel(&context::background());
        let mut ctx = root.clone();
        let mut cancels = Vec::new();
        for i in 0..50_000 {
            if i % 2 == 0 {
                let (c, f) = context::with_cancel(&ctx);
                cancels.push(f);
                ctx = c;
            } else {
                ctx = context::with_value(&ctx, i);
            }
        }
        let leaf = ctx.done();
        cancel();
        let closed = leaf.try_recv() == Err(TryRecvError::Closed);
        drop(cancels);
        drop(ctx);
        drop(leaf);
        (closed, root.__children())
    });
    assert_eq!(expect(&rx, "deep chain"), (true, 0));
}

#[test]
fn concurrent_children_and_cancel_neither_deadlock_nor_leak() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 200;
    for _ in 0..ROUNDS {
        let (parent, cancel) = context::with_cancel(&context::background());
        let start = Arc::new(Barrier::new(THREADS + 1));
        let made = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (parent, start, made) = (parent.clone(), start.clone(), made.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut kept = Vec::new();
                    for i in 0..50 {
                        let (child, c) = context::with_cancel(&parent);
                        let _ = context::after_func(&child, || {});
                        made.fetch_add(1, Ordering::Relaxed);
                        if i % 3 == 0 {
                            c();
                        } else {
                            kept.push(child);
                        }
                    }
                    kept
                })
            })
            .collect();
        start.wait();
        cancel();
        for h in handles {
            for child in h.join().unwrap() {
                // Made before or after the cancel: done either way.
                assert_eq!(child.done().try_recv(), Err(TryRecvError::Closed));
            }
        }
        assert_eq!(made.load(Ordering::Relaxed), THREADS * 50);
        assert_eq!(parent.__children(), 0);
    }
}

#[test]
fn many_coroutines_wait_on_one_done() {
    const N: usize = 1000;
    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(3600));
    let woke = Arc::new(AtomicUsize::new(0));
    let (ready_tx, ready) = mpsc::channel();
    for _ in 0..N {
        let (ctx, woke, ready_tx) = (ctx.clone(), woke.clone(), ready_tx.clone());
        gonet::go!(move || {
            let done = ctx.done();
            ready_tx.send(()).unwrap();
            if done.recv().is_none() {
                woke.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    for _ in 0..N {
        expect(&ready, "a waiter started");
    }
    cancel();
    assert!(wait_until(LIMIT, || woke.load(Ordering::SeqCst) == N));
}

#[test]
fn names_follow_go() {
    let (c, _x) = context::with_cancel(&context::background());
    let (cc, _y) = context::with_cancel(&c);
    assert_eq!(cc.to_string(), "context.Background.WithCancel.WithCancel");
    let v = context::with_value(&context::todo(), "v");
    assert_eq!(v.to_string(), "context.TODO.WithValue(type &str, val v)");
    let v = context::with_value(&context::todo(), 3u8);
    assert_eq!(
        v.to_string(),
        "context.TODO.WithValue(type u8, val <not Stringer>)"
    );
    let (d, _z) = context::with_timeout(&context::background(), Duration::from_secs(60));
    assert!(
        d.to_string()
            .starts_with("context.Background.WithDeadline(["),
        "{d}"
    );
    assert_eq!(format!("{:?}", context::background()), "context.Background");
}

/// Go 1.19's answers (tests/go/context/context.go) for everything both sides can do, line
/// for line: error texts, `errors.Is(err, context.Canceled)`, `errors.Is(err,
/// context.DeadlineExceeded)`, `Timeout()`, and the names of contexts.
#[test]
fn texts_match_go() {
    let bin = go_util::go_binary("tests/go/context/context.go");
    let out = std::process::Command::new(&bin)
        .output()
        .expect("run the Go context program");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let go_lines: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    let ours = gonet_lines();
    assert_eq!(
        ours.len(),
        go_lines.len(),
        "ours:\n{}\ngo:\n{}",
        ours.join("\n"),
        go_lines.join("\n")
    );
    for (o, g) in ours.iter().zip(&go_lines) {
        assert_eq!(o, g);
    }
}

/// What tests/go/context/context.go prints, computed with gonet.
fn gonet_lines() -> Vec<String> {
    let mut lines = Vec::new();
    let mut err = |case: &str, e: &(dyn std::error::Error + 'static), timeout: bool| {
        lines.push(format!(
            "{case}\t{e}\tcanceled={}\tdeadline={}\ttimeout={timeout}",
            context::is_canceled(e),
            context::is_deadline_exceeded(e),
        ));
    };
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel();
    let e = ctx.err().unwrap();
    err("err canceled", &e, gonet::is_timeout(&e));
    let (ctx, _c) = context::with_timeout(&context::background(), Duration::from_nanos(1));
    assert_eq!(ctx.done().recv(), None);
    let e = ctx.err().unwrap();
    err("err deadline", &e, gonet::is_timeout(&e));
    err("Canceled", &Canceled, false);
    err(
        "DeadlineExceeded",
        &DeadlineExceeded,
        DeadlineExceeded.timeout(),
    );

    let (c1, _a) = context::with_cancel(&context::background());
    let (c2, _b) = context::with_cancel(&c1);
    let (t1, _t) = context::with_cancel(&context::todo());
    for (case, ctx) in [
        ("name background", context::background()),
        ("name todo", context::todo()),
        ("name with_cancel", c1.clone()),
        ("name nested", c2),
        ("name todo with_cancel", t1),
    ] {
        lines.push(format!("{case}\t{ctx}"));
    }
    lines
}

/// This process's resident set size.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("statm's resident field");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).unwrap_or(4096)
}
