//! What a keep-alive request costs the server in heap allocations, counted by a global
//! allocator over real requests on loopback.
//!
//! Go's net/http allocates per request for its `*Request`, `*response`, header map and
//! context; gonet reuses one `Request`, header and set of buffers per connection, so a
//! request served by a handler that allocates nothing itself allocates nothing.
//!
//! GONET_ALLOC_TRACE=1 prints a backtrace for every allocation made while counting
//! (`cargo test --release --test http_alloc -- --nocapture`), to find one that crept in.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gonet::net::http::{self, Request, ResponseWriter};

static COUNT: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);
static TRACE: AtomicBool = AtomicBool::new(false);
/// Heap bytes allocated and not yet freed, always counted.
static LIVE: AtomicI64 = AtomicI64::new(0);

fn live(delta: isize) {
    LIVE.fetch_add(delta as i64, Ordering::Relaxed);
}

thread_local! {
    // Set while a backtrace is being printed, so its own allocations are not traced.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

fn note() {
    if !COUNTING.load(Ordering::Relaxed) || IN_TRACE.with(Cell::get) {
        return;
    }
    COUNT.fetch_add(1, Ordering::Relaxed);
    if TRACE.load(Ordering::Relaxed) && !IN_TRACE.with(|t| t.replace(true)) {
        eprintln!(
            "allocation:\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        IN_TRACE.with(|t| t.set(false));
    }
}

// SAFETY: forwards every call to the system allocator unchanged; the counters are
// atomics and a const-initialised thread-local Cell, which allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's layout, passed on.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            live(l.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's layout, passed on.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            live(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        live(-(l.size() as isize));
        // SAFETY: p was allocated by System with l.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        // SAFETY: as for dealloc, and n is the caller's new size.
        let q = unsafe { System.realloc(p, l, n) };
        if !q.is_null() {
            live(n as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn hello(w: &mut dyn ResponseWriter, _r: &mut Request) {
    w.header().set("Content-Type", "text/plain; charset=utf-8");
    let _ = w.write(b"Hello, World!");
}

fn json(w: &mut dyn ResponseWriter, _r: &mut Request) {
    w.header().set("Content-Type", "application/json");
    let _ = w.write(br#"{"message":"Hello, World!"}"#);
}

/// Starts a server with the routes on a mux; returns its address.
fn start() -> String {
    let mux = http::ServeMux::new();
    mux.handle_func("/", hello);
    mux.handle_func("GET /json", json);
    mux.handle_func(
        "GET /items/{id}",
        |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = w.write(r.path_value("id").as_bytes());
        },
    );
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    gonet::go!(move || http::serve(ln, mux));
    addr
}

/// Reads one response with a Content-Length from `c` into `buf` (reused); returns its
/// length. The client allocates nothing after its first call.
fn read_response(c: &mut std::net::TcpStream, buf: &mut [u8], have: &mut usize) -> usize {
    loop {
        if let Some(end) = buf[..*have].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = &buf[..end];
            let cl = head
                .split(|&b| b == b'\n')
                .find_map(|l| l.strip_prefix(b"Content-Length: "))
                .map(|v| {
                    v.iter()
                        .take_while(|b| b.is_ascii_digit())
                        .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'))
                })
                .expect("Content-Length");
            let total = end + 4 + cl;
            if *have >= total {
                buf.copy_within(total..*have, 0);
                *have -= total;
                return total;
            }
        }
        let n = c.read(&mut buf[*have..]).expect("read");
        assert!(n > 0, "server closed");
        *have += n;
    }
}

/// Allocations per request over `n` requests of `req` (sent `depth` at a time, i.e.
/// pipelined when depth > 1), after a warm-up on the same connection.
fn allocations_per_request(addr: &str, req: &[u8], depth: usize, n: usize) -> f64 {
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut have = 0;
    let batch: Vec<u8> = req.repeat(depth);
    let mut round = |c: &mut std::net::TcpStream| {
        c.write_all(&batch).unwrap();
        for _ in 0..depth {
            read_response(c, &mut buf, &mut have);
        }
    };
    for _ in 0..200 {
        round(&mut c);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    COUNT.store(0, Ordering::SeqCst);
    TRACE.store(
        std::env::var_os("GONET_ALLOC_TRACE").is_some(),
        Ordering::SeqCst,
    );
    COUNTING.store(true, Ordering::SeqCst);
    let rounds = n / depth;
    for _ in 0..rounds {
        round(&mut c);
        assert!(Instant::now() < deadline, "took too long");
    }
    COUNTING.store(false, Ordering::SeqCst);
    COUNT.load(Ordering::SeqCst) as f64 / (rounds * depth) as f64
}

/// Heap bytes the process holds per idle keep-alive connection: `conns` connections,
/// each served one `GET /` and then left open. Polls (up to 10 s) until the figure is at
/// most `most` (the server parks each one once its answer is out, a moment after the
/// client has it); returns the last figure.
fn heap_per_idle_conn(addr: &str, conns: usize, most: f64) -> f64 {
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::with_capacity(conns);
    let mut buf = vec![0u8; 4096];
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..conns {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c.write_all(req).unwrap();
        let mut have = 0;
        read_response(&mut c, &mut buf, &mut have);
        held.push(c);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let per = (LIVE.load(Ordering::SeqCst) - before) as f64 / conns as f64;
        if per <= most || Instant::now() >= deadline {
            return per;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What may's scheduler allocates per request: a 32-slot block of its run queue every
/// 32 wake-ups (may_queue's spmc `BlockNode`), about 0.03 per request. Any allocation
/// on the request path itself costs at least 1 per request.
const MAY: f64 = 0.1;

/// The heap an idle keep-alive connection may hold. Measured: about 5.7 KiB (Request,
/// header maps, connection state; 7.2-7.4 KiB while one pool of 128 buffer sets served
/// every worker); holding its three buffers (4 + 4 + 2 KiB) while idle, as before
/// src/net/http/idle.rs, makes it about 17.4 KiB.
const IDLE_HEAP_MOST: f64 = 12288.0;

// One test function, so no other test's allocations are counted meanwhile.
#[test]
fn keep_alive_requests_allocate_nothing() {
    let addr = start();
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n")
            .into_bytes()
    };
    for (what, req, depth, most) in [
        ("hello", get("/"), 1, MAY),
        ("json", get("/json"), 1, MAY),
        ("hello, pipelined 16 deep", get("/"), 16, MAY),
        // A wildcard match: Go's ServeMux allocates its matches slice (one), and so
        // does gonet's (routing_tree.rs); the values go into the request's path-value
        // strings, kept between requests.
        ("path value", get("/items/12345"), 1, 1.0 + MAY),
        (
            "POST with a 64-byte body the handler ignores",
            format!(
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n{}",
                "x".repeat(64)
            )
            .into_bytes(),
            1,
            MAY,
        ),
    ] {
        let per = allocations_per_request(&addr, &req, depth, 2000);
        println!("{what}: {per:.3} allocations per request");
        assert!(
            per <= most,
            "{what}: {per} allocations per request, want <= {most}"
        );
    }
    // An idle keep-alive connection lends its read, output and body buffers (10 KiB)
    // to the server's pool while it waits for its next request (src/net/http/idle.rs);
    // what it keeps on the heap is its Request, header maps and connection state.
    let most = IDLE_HEAP_MOST;
    let per = heap_per_idle_conn(&addr, 300, most);
    println!("idle keep-alive connection: {per:.0} heap bytes");
    assert!(
        per <= most,
        "{per} heap bytes per idle keep-alive connection, want <= {most}"
    );
}
