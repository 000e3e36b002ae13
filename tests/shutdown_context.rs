//! `Server::shutdown_context`: net/http's `Shutdown(ctx)` for gonet's `Server`. It stops
//! accepting at once, waits for the handlers, and returns `ctx.err()` when the context
//! ends first, leaving the handlers running for `close()` to cut, as Go code does.

mod util;

use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gonet::context;
use util::eventually;

const LIMIT: Duration = Duration::from_secs(10);

/// A server whose handlers run until their client half-closes (or the connection is
/// closed under them); returns it, its address and a channel that gets `serve`'s result.
fn start() -> (gonet::Server, String, mpsc::Receiver<String>) {
    util::init();
    let server = gonet::Server::new();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let (tx, served) = mpsc::channel();
    let s = server.clone();
    gonet::go!(move || {
        let r = s.serve(ln, |conn| {
            let mut buf = [0u8; 64];
            while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
        });
        let _ = tx.send(format!("{r:?}"));
    });
    (server, addr, served)
}

/// A client whose handler is running.
fn busy_client(server: &gonet::Server, addr: &str) -> gonet::Conn {
    let before = server.active();
    let mut c = gonet::dial("tcp", addr).unwrap();
    c.write_all(b"x").unwrap();
    assert!(
        eventually(LIMIT, || server.active() > before),
        "the handler started"
    );
    c
}

#[test]
fn it_waits_for_the_handlers_and_then_serve_returns() {
    let (server, addr, served) = start();
    let clients: Vec<_> = (0..5).map(|_| busy_client(&server, &addr)).collect();
    let (ctx, cancel) = context::with_timeout(&context::background(), LIMIT);
    let s = server.clone();
    let (tx, shut) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(s.shutdown_context(&ctx).map_err(|e| e.to_string()));
    });
    // Accepting stops at once; the handlers go on.
    assert!(eventually(LIMIT, || gonet::dial("tcp", &addr).is_err()));
    assert!(
        shut.recv_timeout(Duration::from_millis(50)).is_err(),
        "returned early"
    );
    assert_eq!(server.active(), 5);
    for c in &clients {
        c.close_write().unwrap();
    }
    assert_eq!(shut.recv_timeout(LIMIT).unwrap(), Ok(()));
    assert_eq!(server.active(), 0);
    assert_eq!(served.recv_timeout(LIMIT).unwrap(), "Ok(())");
    cancel();
}

#[test]
fn a_deadline_returns_its_error_and_leaves_the_handlers_for_close() {
    let (server, addr, served) = start();
    let _client = busy_client(&server, &addr);
    let start = Instant::now();
    let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(100));
    let err = server.shutdown_context(&ctx).unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.to_string(), "context deadline exceeded");
    assert!(gonet::is_timeout(&err) && context::is_deadline_exceeded(&err));
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(server.active(), 1, "the handler is left running");
    assert!(served.try_recv().is_err(), "serve waits for the handler");
    // Go: if err := srv.Shutdown(ctx); err != nil { srv.Close() }
    assert_eq!(server.close(), 1);
    assert_eq!(served.recv_timeout(LIMIT).unwrap(), "Ok(())");
}

#[test]
fn a_cancel_ends_the_wait_at_once() {
    let (server, addr, served) = start();
    let client = busy_client(&server, &addr);
    let (ctx, cancel) = context::with_cancel(&context::background());
    let s = server.clone();
    let (tx, shut) = mpsc::channel();
    gonet::go!(move || {
        let _ = tx.send(s.shutdown_context(&ctx).map_err(|e| e.to_string()));
    });
    assert!(
        shut.recv_timeout(Duration::from_millis(50)).is_err(),
        "returned early"
    );
    let cancelled_at = Instant::now();
    cancel();
    assert_eq!(
        shut.recv_timeout(LIMIT).unwrap(),
        Err("context canceled".to_string())
    );
    assert!(cancelled_at.elapsed() < Duration::from_secs(2));
    // The handler ends by itself later: serve returns then, without another call.
    client.close_write().unwrap();
    assert_eq!(served.recv_timeout(LIMIT).unwrap(), "Ok(())");
}

#[test]
fn with_nothing_in_flight_it_returns_at_once_even_for_a_done_context() {
    let (server, addr, served) = start();
    let _ = addr;
    let (ctx, cancel) = context::with_cancel(&context::background());
    cancel();
    assert!(server.shutdown_context(&ctx).is_ok());
    assert_eq!(served.recv_timeout(LIMIT).unwrap(), "Ok(())");
    // A second call, and a shutdown(grace) after it, find nothing to do.
    assert!(server.shutdown_context(&context::background()).is_ok());
    assert_eq!(server.shutdown(Duration::from_millis(10)), 0);
}
