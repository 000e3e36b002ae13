//! `Request::context()` and `Server::shutdown(&ctx)` on real connections: the request's
//! context ends when the client goes away or the handler returns, and not before; the
//! byte the server's background read takes is not lost; shutdown returns the context's
//! error when it ends first.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gonet::Sender;
use gonet::context::{self, Context};
use gonet::net::http::{self, Request, ResponseWriter};

fn serve(h: impl http::Handler + 'static) -> (String, http::Server) {
    util::init();
    let srv = http::Server::new().handler(h);
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = srv.clone();
    gonet::go!(move || s.serve(ln));
    (addr, srv)
}

fn dial(addr: &str) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Reads one response with a Content-Length; returns its body.
fn read_body(c: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(c.read(&mut b).expect("read"), 1, "closed in {buf:?}");
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let cl: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
    let mut body = vec![0u8; cl];
    c.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

/// What the handler's select saw: the context's error, or "alive" after `wait`.
fn wait_on(ctx: &Context, wait: Duration) -> String {
    gonet::select! {
        recv(ctx.done()) => ctx.err().map_or("done without error".into(), |e| e.to_string()),
        recv(gonet::time::after(wait)) => "alive".to_string(),
    }
}

#[test]
fn the_context_ends_when_the_client_goes_away() {
    let (started_tx, started) = gonet::chan::<()>(1);
    let (seen_tx, seen) = gonet::chan::<(String, Duration)>(1);
    let (addr, _srv) = serve(move |w: &mut dyn ResponseWriter, r: &mut Request| {
        let ctx = r.context();
        let _ = started_tx.send(());
        let t0 = Instant::now();
        let what = wait_on(&ctx, Duration::from_secs(10));
        let _ = seen_tx.send((what, t0.elapsed()));
        let _ = w.write(b"too late");
    });
    let mut c = dial(&addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    started.recv().unwrap();
    drop(c);
    let (what, took) = seen.recv().unwrap();
    assert_eq!(what, "context canceled");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

// Go starts its background read once the body has been read (registerOnHitEOF): a
// client still sending its body is not "gone".
#[test]
fn with_a_body_the_watch_starts_once_the_body_is_read() {
    let (seen_tx, seen) = gonet::chan::<String>(1);
    let (addr, _srv) = serve(move |w: &mut dyn ResponseWriter, r: &mut Request| {
        let ctx = r.context();
        let mut body = String::new();
        r.body.read_to_string(&mut body).unwrap();
        let _ = w.write(format!("got {body}").as_bytes());
        let _ = w.flush();
        let _ = seen_tx.send(wait_on(&ctx, Duration::from_secs(10)));
    });
    let mut c = dial(&addr);
    // The handler asks for its context before it reads the body.
    c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap();
    let mut buf = [0u8; 256];
    let n = c.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("got hello"));
    drop(c);
    assert_eq!(seen.recv().unwrap(), "context canceled");
}

#[test]
fn the_context_ends_when_the_handler_returns_and_not_before() {
    let (ctx_tx, ctxs) = gonet::chan::<Context>(4);
    let (addr, _srv) = serve(move |w: &mut dyn ResponseWriter, r: &mut Request| {
        let ctx = r.context();
        let what = wait_on(&ctx, Duration::from_millis(200));
        let _ = ctx_tx.send(ctx);
        let _ = w.write(what.as_bytes());
    });
    let mut c = dial(&addr);
    for _ in 0..2 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        // The client stays: the context is alive while the handler runs.
        assert_eq!(read_body(&mut c), "alive");
        let ctx = ctxs.recv().unwrap();
        // Once the handler has returned, it is done.
        assert_eq!(ctx.done().recv(), None);
        assert!(context::is_canceled(&ctx.err().unwrap()));
    }
}

// The background read takes the first byte of whatever the client sends while the
// handler runs (Go keeps it in connReader.byteBuf): the next request must be whole.
/// Bytes queued, unread, on the server's end of the connection `c` (from
/// /proc/net/tcp): the background read has taken its byte when this reaches 0.
fn server_rx_queue(c: &TcpStream) -> Option<u64> {
    let hex = |a: std::net::SocketAddr| match a {
        std::net::SocketAddr::V4(v4) => {
            format!(
                "{:08X}:{:04X}",
                u32::from_le_bytes(v4.ip().octets()),
                v4.port()
            )
        }
        std::net::SocketAddr::V6(_) => unreachable!("IPv4 loopback only"),
    };
    let (server, client) = (hex(c.peer_addr().ok()?), hex(c.local_addr().ok()?));
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&server.as_str()) && f.get(2) == Some(&client.as_str()))
            .then(|| f[4].split(':').nth(1))
            .flatten()
            .and_then(|rx| u64::from_str_radix(rx, 16).ok())
    })
}

/// Sends one byte and waits (bounded) until the server's background read has taken it.
fn feed_the_background_read(c: &mut TcpStream, b: u8) {
    c.write_all(&[b]).unwrap();
    assert!(
        util::eventually(Duration::from_secs(10), || server_rx_queue(c) == Some(0)),
        "the byte stayed queued: {:?}",
        server_rx_queue(c)
    );
}

#[test]
fn the_byte_the_background_read_takes_starts_the_next_request() {
    let (go_tx, go_on) = gonet::chan::<()>(1);
    let (waiting_tx, waiting) = gonet::chan::<()>(1);
    let (addr, _srv) = serve(move |w: &mut dyn ResponseWriter, r: &mut Request| {
        if r.url.path == "/first" {
            let _ = r.context();
            let _ = waiting_tx.send(());
            let _ = go_on.recv();
        }
        let _ = w.write(r.url.path.as_bytes());
    });
    let mut c = dial(&addr);
    c.write_all(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    waiting.recv().unwrap();
    feed_the_background_read(&mut c, b'G');
    c.write_all(b"ET /second HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    go_tx.send(()).unwrap();
    assert_eq!(read_body(&mut c), "/first");
    assert_eq!(read_body(&mut c), "/second");
}

#[test]
fn a_hijack_gets_the_byte_the_background_read_took() {
    let (go_tx, go_on) = gonet::chan::<()>(1);
    let (waiting_tx, waiting) = gonet::chan::<()>(1);
    let (addr, _srv) = serve(move |w: &mut dyn ResponseWriter, r: &mut Request| {
        let _ = r.context();
        let _ = waiting_tx.send(());
        let _ = go_on.recv();
        let (conn, rest) = w.hijack().unwrap();
        let mut more = [0u8; 2];
        conn.read_full(&mut more).unwrap();
        let _ = conn.write(
            format!(
                "rest={} more={}",
                String::from_utf8_lossy(&rest),
                String::from_utf8_lossy(&more)
            )
            .as_bytes(),
        );
        let _ = conn.close();
    });
    let mut c = dial(&addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    waiting.recv().unwrap();
    feed_the_background_read(&mut c, b'X');
    c.write_all(b"YZ").unwrap();
    go_tx.send(()).unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    assert_eq!(all, "rest=X more=YZ");
}

/// A server whose handler holds its request until told to go on.
fn busy_server() -> (String, http::Server, Sender<()>, gonet::Receiver<()>) {
    let (release_tx, release) = gonet::chan::<()>(1);
    let (started_tx, started) = gonet::chan::<()>(1);
    let (addr, srv) = serve(move |w: &mut dyn ResponseWriter, _r: &mut Request| {
        let _ = started_tx.send(());
        let _ = release.recv();
        let _ = w.write(b"finished");
    });
    (addr, srv, release_tx, started)
}

#[test]
fn shutdown_returns_the_contexts_error_when_it_ends_first() {
    let (addr, srv, release, started) = busy_server();
    let mut c = dial(&addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    started.recv().unwrap();

    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_millis(100));
    let t0 = Instant::now();
    let err = srv.shutdown(&ctx).unwrap_err();
    cancel();
    assert_eq!(err.to_string(), "context deadline exceeded");
    assert!(context::is_deadline_exceeded(&err));
    assert!(
        t0.elapsed() >= Duration::from_millis(90),
        "{:?}",
        t0.elapsed()
    );

    let (ctx, cancel) = context::with_cancel(&context::background());
    let s = srv.clone();
    let waiting = gonet::go!(move || s.shutdown(&ctx));
    cancel();
    assert_eq!(
        waiting.join().unwrap().unwrap_err().to_string(),
        "context canceled"
    );

    // The busy request finishes, with Connection: close, and shutdown now succeeds.
    release.send(()).unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    assert!(all.contains("Connection: close\r\n"), "{all}");
    assert!(all.ends_with("finished"), "{all}");
    let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(10));
    srv.shutdown(&ctx).unwrap();
    cancel();
}

#[test]
fn shutdown_closes_idle_connections_and_serve_says_server_closed() {
    util::init();
    let srv = http::Server::new().handler(|w: &mut dyn ResponseWriter, _r: &mut Request| {
        let _ = w.write(b"ok");
    });
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = srv.clone();
    let serving = gonet::go!(move || s.serve(ln));
    let mut c = dial(&addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_body(&mut c), "ok");
    let (ran_tx, ran) = gonet::chan::<()>(1);
    srv.register_on_shutdown(move || {
        let _ = ran_tx.send(());
    });
    srv.shutdown(&context::background()).unwrap();
    assert_eq!(
        serving.join().unwrap().unwrap_err().to_string(),
        "http: Server closed"
    );
    // The idle keep-alive connection was closed.
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).unwrap(), 0);
    ran.recv().unwrap();
    assert!(TcpStream::connect(&addr).is_err(), "still listening");
}
