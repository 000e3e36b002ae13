//! Helpers shared by the integration tests (one test file per type or behaviour).
//!
//! Each test file says `mod util;` and uses what it needs.
#![allow(dead_code)]

pub mod build;
pub mod server;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Logs to the test output when RUST_LOG is set; harmless to call many times.
pub fn init() {
    let _ = env_logger::builder().is_test(true).try_init();
}

/// A fresh directory for Unix socket files, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("gonet-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// A path inside the directory, as a string for `listen("unix", ..)`.
    pub fn sock(&self, name: &str) -> String {
        self.0
            .join(name)
            .to_str()
            .expect("utf-8 temp path")
            .to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An abstract Unix socket name unique to this process and call.
pub fn abstract_name(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "@gonet-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Serves an echo handler (one coroutine per connection, like examples/echo.rs) on `ln`
/// until it is closed. Returns the shared listener and the accept loop's handle.
pub fn spawn_echo(ln: gonet::Listener) -> (Arc<gonet::Listener>, may::coroutine::JoinHandle<()>) {
    let ln = Arc::new(ln);
    let l2 = ln.clone();
    let h = gonet::go!(move || loop {
        match l2.accept() {
            Ok(conn) => {
                gonet::go!(move || echo(conn));
            }
            Err(e) if gonet::is_closed(&e) => return,
            Err(e) => panic!("accept: {e}"),
        }
    });
    (ln, h)
}

/// A connected pair over loopback TCP: (client, server).
pub fn pair() -> (gonet::Conn, gonet::Conn) {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let s = ln.accept().unwrap();
    (c, s)
}

/// Echoes everything read until end of stream or error.
pub fn echo(conn: gonet::Conn) {
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

/// Open descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Polls `cond` (cheaply, with a short park) until it holds or `limit` passes; for
/// state that changes in another process or the kernel, where there is no event to wait
/// on. Returns whether it held.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

/// The error's text, for asserting Go's messages.
pub fn text<T: std::fmt::Debug>(r: io::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

/// A loopback address where `connect` hangs: a raw listener with a backlog of 0 that
/// never accepts, whose one accept-queue slot is already taken by a finished handshake.
/// Linux then drops every further SYN (net.ipv4.tcp_abort_on_overflow=0, the default), so
/// a connect stays in SYN_SENT until its deadline, as towards a blackholed host.
pub struct FullBacklog {
    pub addr: std::net::SocketAddr,
    _listener: socket2::Socket,
    _filler: std::net::TcpStream,
}

impl FullBacklog {
    /// On `ip` (127.0.0.1 or ::1), port chosen by the kernel.
    pub fn new(ip: &str) -> FullBacklog {
        use socket2::{Domain, Socket, Type};
        let ip: std::net::IpAddr = ip.parse().expect("an IP literal");
        let bind = std::net::SocketAddr::new(ip, 0);
        let listener = Socket::new(Domain::for_address(bind), Type::STREAM, None).expect("socket");
        listener.bind(&bind.into()).expect("bind");
        listener.listen(0).expect("listen");
        let addr = listener
            .local_addr()
            .expect("getsockname")
            .as_socket()
            .expect("an IP address");
        // A blocking connect returns once the handshake is done: the slot is taken.
        let filler = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .expect("fill the backlog");
        FullBacklog {
            addr,
            _listener: listener,
            _filler: filler,
        }
    }
}

/// A loopback address that refuses connections: a socket bound to it (so no one else
/// can take the port) that does not listen.
pub struct Refusing {
    pub addr: std::net::SocketAddr,
    _sock: socket2::Socket,
}

impl Refusing {
    /// On `ip` (127.0.0.1 or ::1), port chosen by the kernel.
    pub fn new(ip: &str) -> Refusing {
        use socket2::{Domain, Socket, Type};
        let ip: std::net::IpAddr = ip.parse().expect("an IP literal");
        let bind = std::net::SocketAddr::new(ip, 0);
        let sock = Socket::new(Domain::for_address(bind), Type::STREAM, None).expect("socket");
        sock.bind(&bind.into()).expect("bind");
        let addr = sock
            .local_addr()
            .expect("getsockname")
            .as_socket()
            .expect("an IP address");
        Refusing { addr, _sock: sock }
    }
}

/// Runs `f` in a coroutine (so gonet parks it in the netpoller, as in a server) and
/// returns its result; panics if it takes longer than `limit`.
pub fn in_coroutine<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = may::sync::mpsc::channel();
    gonet::go!(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the coroutine ran longer than {limit:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the coroutine panicked"),
    }
}

/// The calling thread's kernel thread id, for [`wait_until_sleeping`].
pub fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// The scheduler state of thread `tid` of this process ('R', 'S', 'D', ...), from
/// /proc/self/task/TID/stat; `None` once the thread is gone.
pub fn thread_state(tid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Waits, up to `limit`, until thread `tid` sleeps in the kernel (state 'S'). A thread
/// that said it is about to block on a socket is then blocked in poll(2); the worker of a
/// coroutine that said so has parked it and waits in epoll_wait (a coroutine runs until
/// it parks, so its worker cannot sleep before). Returns whether it happened.
pub fn wait_until_sleeping(tid: i32, limit: Duration) -> bool {
    eventually(limit, || thread_state(tid) == Some('S'))
}
