//! `gonet::sync::errgroup` (golang.org/x/sync/errgroup), against its documented
//! semantics: the first error wins and cancels its siblings through the group's context,
//! `wait` cancels the context too, the zero group cancels nothing, `set_limit` bounds the
//! running tasks (and panics, in Go's words, while tasks run), `try_go` refuses past the
//! limit, a panicking task is resumed by `wait`, and a fan-out of real dials stops at
//! the first failure.

mod util;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gonet::context;
use gonet::sync::errgroup::{self, Group};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn the_first_error_cancels_the_siblings_through_the_context() {
    const SIBLINGS: usize = 20;
    let (g, ctx) = errgroup::with_context::<io::Error>(&context::background());
    let (started_tx, started) = mpsc::channel();
    let saw_cancel = Arc::new(AtomicUsize::new(0));
    for _ in 0..SIBLINGS {
        let (ctx, started_tx, saw_cancel) = (ctx.clone(), started_tx.clone(), saw_cancel.clone());
        g.go(move || {
            started_tx.send(()).unwrap();
            gonet::select! {
                recv(ctx.done()) => {
                    saw_cancel.fetch_add(1, Ordering::SeqCst);
                    Err(ctx.err().unwrap()) // a later error: ignored
                }
                recv(gonet::time::after(LIMIT)) => Ok(()),
            }
        });
    }
    for _ in 0..SIBLINGS {
        started.recv_timeout(LIMIT).unwrap();
    }
    assert!(ctx.err().is_none());
    let start = Instant::now();
    g.go(|| Err(io::Error::other("backend 7 refused")));
    let err = g.wait().unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the siblings were not cancelled"
    );
    assert_eq!(err.to_string(), "backend 7 refused");
    assert_eq!(saw_cancel.load(Ordering::SeqCst), SIBLINGS);
    assert_eq!(ctx.err().unwrap().to_string(), "context canceled");
    assert_eq!(
        context::cause(&ctx).unwrap().to_string(),
        "backend 7 refused"
    );
    assert!(g.wait().is_ok(), "the error is handed out once");
}

#[test]
fn wait_cancels_the_context_even_without_an_error() {
    let (parent, _cancel) = context::with_cancel(&context::background());
    let (g, ctx) = errgroup::with_context::<io::Error>(&parent);
    for _ in 0..5 {
        g.go(|| Ok(()));
    }
    assert!(g.wait().is_ok());
    assert!(context::is_canceled(&ctx.err().unwrap()));
    assert!(context::cause(&ctx).unwrap().is::<context::Canceled>());
    assert!(parent.err().is_none(), "the parent is not the group's");
    assert_eq!(
        parent.__children(),
        0,
        "the group's context left its parent"
    );
}

#[test]
fn the_zero_group_keeps_the_first_error_and_cancels_nothing() {
    let g = Group::<String>::new();
    let (release_tx, release) = gonet::chan::<()>(0);
    g.go(|| Err("first".to_string()));
    // Started only after "first" has failed: it must not be cut short by anything.
    let r = release.clone();
    let waited = gonet::go!(move || {
        let g2 = Group::<String>::new();
        g2.go(move || {
            r.recv();
            Err("second".to_string())
        });
        g2
    })
    .join()
    .unwrap();
    drop(release_tx);
    assert_eq!(g.wait(), Err("first".to_string()));
    assert_eq!(waited.wait(), Err("second".to_string()));
}

#[test]
fn set_limit_bounds_the_running_tasks() {
    for limit in [1usize, 3, 8] {
        let g = Group::<io::Error>::new();
        g.set_limit(limit as isize);
        let (running, max, ran) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        for _ in 0..200 {
            let (running, max, ran) = (running.clone(), max.clone(), ran.clone());
            g.go(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                gonet::runtime::gosched();
                running.fetch_sub(1, Ordering::SeqCst);
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        g.wait().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 200);
        let max = max.load(Ordering::SeqCst);
        assert!(max >= 1 && max <= limit, "limit {limit}: {max} ran at once");
    }
}

#[test]
fn try_go_refuses_past_the_limit() {
    let g = Group::<io::Error>::new();
    g.set_limit(1);
    let (release_tx, release) = gonet::chan::<()>(0);
    assert!(g.try_go(move || {
        release.recv();
        Ok(())
    }));
    assert!(!g.try_go(|| Ok(())), "the one slot is taken");
    release_tx.send(()).unwrap();
    g.wait().unwrap();
    assert!(g.try_go(|| Ok(())), "the slot is free again");
    g.wait().unwrap();

    g.set_limit(0);
    assert!(!g.try_go(|| Ok(())), "a limit of 0 starts nothing");
    g.set_limit(-1);
    for _ in 0..50 {
        assert!(g.try_go(|| Ok(())), "no limit");
    }
    g.wait().unwrap();
}

#[test]
fn changing_the_limit_while_tasks_run_panics_in_gos_words() {
    let g = Group::<io::Error>::new();
    g.set_limit(2);
    let (release_tx, release) = gonet::chan::<()>(0);
    g.go(move || {
        release.recv();
        Ok(())
    });
    let g2 = g.clone();
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || g2.set_limit(5)))
        .unwrap_err();
    let text = p.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(
        text,
        "errgroup: modify limit while 1 goroutines in the group are still active"
    );
    drop(release_tx);
    g.wait().unwrap();
}

#[test]
fn a_panicking_task_cancels_the_group_and_wait_resumes_the_panic() {
    let (g, ctx) = errgroup::with_context::<io::Error>(&context::background());
    let c = ctx.clone();
    g.go(move || {
        c.done().recv();
        Ok(())
    });
    g.go(|| panic!("task blew up"));
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.wait())).unwrap_err();
    assert_eq!(p.downcast_ref::<&str>(), Some(&"task blew up"));
    assert_eq!(
        context::cause(&ctx).unwrap().to_string(),
        "errgroup: a task panicked: task blew up"
    );
}

#[test]
fn tasks_can_start_tasks() {
    let g = Group::<io::Error>::new();
    let count = Arc::new(AtomicUsize::new(0));
    let (g2, c) = (g.clone(), count.clone());
    g.go(move || {
        for _ in 0..10 {
            let c = c.clone();
            g2.go(move || {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        Ok(())
    });
    g.wait().unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 10);
}

#[test]
fn a_fan_out_of_dials_stops_at_the_first_refusal() {
    // Nine backends that never accept (their connects hang) and one that refuses.
    let hanging: Vec<util::FullBacklog> = (0..9)
        .map(|_| util::FullBacklog::new("127.0.0.1"))
        .collect();
    let refusing = util::Refusing::new("127.0.0.1");
    let mut addrs: Vec<String> = hanging.iter().map(|b| b.addr.to_string()).collect();
    addrs.push(refusing.addr.to_string());
    let (g, ctx) = errgroup::with_context::<io::Error>(&context::background());
    let start = Instant::now();
    for addr in addrs {
        let ctx = ctx.clone();
        g.go(move || {
            let conn = gonet::Dialer::default().dial_context(&ctx, "tcp", &addr)?;
            drop(conn);
            Ok(())
        });
    }
    let err = g.wait().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial tcp {}: connect: connection refused", refusing.addr)
    );
    assert!(
        start.elapsed() < LIMIT,
        "the hanging dials were not cancelled"
    );
    assert_eq!(context::cause(&ctx).unwrap().to_string(), err.to_string());
}
