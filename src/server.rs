//! A server that stays up: Go's `net/http` accept loop, for any protocol.
//!
//! Go: `net/http/server.go` (`Server.Serve`, `Shutdown`, `Close`, `ReadTimeout`,
//! `WriteTimeout`, `IdleTimeout`, the panic recovery in `conn.serve`) and
//! `golang.org/x/net/netutil.LimitListener` (the connection limit), with the handler
//! taking the raw [`Conn`] instead of an HTTP request.
//!
//! What keeps it up:
//! - **Temporary accept errors** (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, `ECONNABORTED`,
//!   a listener deadline, ...) are logged at warn level as
//!   `accept error: ...; retrying in 5ms` and retried after a pause of 5 ms, doubling up to
//!   1 s and reset by the next success, as net/http does: the loop never spins and never
//!   exits. An error that concerns only the new connection (setting its options, adding it
//!   to the poller) is handled the same way.
//! - **A failed coroutine spawn** (no stack could be mapped: the mapping table, the
//!   address space or memory is full, see [`runtime::try_go`](crate::runtime::try_go) and
//!   [`runtime::connection_capacity`](crate::runtime::connection_capacity)) closes the new
//!   connection with a logged error naming the limit and backs off like a temporary
//!   error; the connections already being served go on.
//! - **A panicking handler** is caught in its coroutine, logged with the peer address
//!   (`panic serving 127.0.0.1:5000: ...`), and its connection closed; the others go on.
//! - **Timeouts** are [`Conn`] deadlines, so they wake a parked read or write with
//!   "i/o timeout": see [`Server::read_timeout`], [`Server::write_timeout`] and
//!   [`Server::idle_timeout`] (slowloris protection).
//! - **Graceful shutdown**: [`Server::shutdown`] stops accepting, lets the handlers finish
//!   for up to a grace period, then closes what is left and says how many it cut.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use may::sync::{Condvar, Mutex, MutexGuard};

use crate::net::error::{OpError, SyscallError, is_closed, is_temporary};
use crate::net::{Conn, Listener};

/// The first pause after a temporary accept error. Go: net/http's `tempDelay` start.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
/// The longest pause between accept retries. Go: net/http's `tempDelay` cap.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long `shutdown` waits, after closing the connections left at the end of the grace
/// period, for their handlers to return.
const CUT_WAIT: Duration = Duration::from_millis(500);

/// An accept loop that serves every connection in its own coroutine and stays up.
///
/// Go: `http.Server` (its `Serve` loop, timeouts, `Shutdown`, `Close`), for any protocol:
/// the handler gets the [`Conn`] itself. Options are set builder-style before
/// [`serve`](Server::serve); the `Server` is a cheap handle (clone it to call
/// [`shutdown`](Server::shutdown) from another thread or coroutine).
///
/// The connection is closed when its handler returns (as net/http does), so a handler
/// that hands its `Conn` to other coroutines must wait for them before returning.
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
///
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let addr = ln.addr().to_string();
/// let server = gonet::Server::new().max_conns(100).idle_timeout(Duration::from_secs(60));
/// let s = server.clone();
/// let serving = std::thread::spawn(move || {
///     s.serve(ln, |conn| {
///         let mut buf = [0u8; 512];
///         while let Ok(n) = conn.read(&mut buf) {
///             if n == 0 || conn.write(&buf[..n]).is_err() {
///                 break;
///             }
///         }
///     })
/// });
/// let mut c = gonet::dial("tcp", &addr).unwrap();
/// c.write_all(b"hello").unwrap();
/// let mut buf = [0u8; 5];
/// c.read_exact(&mut buf).unwrap();
/// assert_eq!(&buf, b"hello");
/// drop(c);
/// assert_eq!(server.shutdown(Duration::from_secs(1)), 0); // nobody had to be cut
/// serving.join().unwrap().unwrap();
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    /// 0: no limit.
    max_conns: AtomicUsize,
    /// Nanoseconds; 0: none.
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
    idle_timeout: AtomicU64,
    state: Mutex<State>,
    /// Signalled (notify_all) on every change of `state`.
    changed: Condvar,
    next_id: AtomicU64,
    accepted: AtomicU64,
    panics: AtomicU64,
    refused: AtomicU64,
    accept_errors: AtomicU64,
    idle_closed: AtomicU64,
    watchdog: AtomicBool,
    /// `state.shutting_down`, readable without the lock (per request, by net/http).
    stopping: Arc<AtomicBool>,
}

/// A function to run when shutdown starts.
type Hook = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct State {
    /// The connections whose handlers are running, by id.
    conns: HashMap<u64, Conn>,
    listeners: Vec<Arc<Listener>>,
    /// `shutdown` started: no more accepting.
    shutting_down: bool,
    /// The grace period is over: new connections are closed at once.
    cutting: bool,
    /// `shutdown` has finished, or every handler returned after a shutdown started.
    done: bool,
    /// A `shutdown(grace)` is running (a second one waits for it).
    cutter: bool,
    /// Run by `shutdown` once the listeners are closed.
    on_shutdown: Vec<Hook>,
    /// Each connection's idle/active state, by id (net/http's `conn.curState`).
    tracks: HashMap<u64, Arc<ConnTrack>>,
}

// --- Per-connection state, for protocols that serve many requests per connection
// (net/http's `ConnState` and `closeIdleConns`).

/// A connection accepted and not yet used. Go: `http.StateNew`.
const CONN_NEW: u8 = 0;
/// Serving a request. Go: `http.StateActive`.
const CONN_ACTIVE: u8 = 1;
/// Waiting for the next request. Go: `http.StateIdle`.
const CONN_IDLE: u8 = 2;
/// Closed by `close_idle_conns` while idle. Go: `http.StateClosed`.
const CONN_CLOSED: u8 = 3;

/// How long a new connection that has sent nothing counts as active: after that,
/// shutdown closes it as idle. Go: `closeIdleConns`' 5 seconds for `StateNew`.
const NEW_CONN_GRACE: Duration = Duration::from_secs(5);

/// One connection's state, shared by its coroutine and the server. Lock-free: the
/// coroutine moves it between active and idle on every request.
pub(crate) struct ConnTrack {
    state: std::sync::atomic::AtomicU8,
    accepted: Instant,
    conn: Conn,
    stopping: Arc<AtomicBool>,
    /// The handler took the connection over (an HTTP hijack): do not close it.
    detached: AtomicBool,
}

impl ConnTrack {
    /// Leaves the connection open when the handler returns: its new owner closes it.
    pub(crate) fn detach(&self) {
        self.detached.store(true, Ordering::Release);
    }

    /// Marks the connection idle (between requests). Returns false if the server is
    /// shutting down: the caller should close the connection instead of waiting.
    pub(crate) fn set_idle(&self) -> bool {
        // Active (after a request) or new (before the first): one compare-and-swap
        // when the first one matches, the usual case.
        if self
            .state
            .compare_exchange(CONN_ACTIVE, CONN_IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            let _ = self.state.compare_exchange(
                CONN_NEW,
                CONN_IDLE,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        !self.stopping.load(Ordering::Acquire)
    }

    /// Marks the connection active (a request began). Returns false if shutdown closed
    /// it as idle first: the request must be dropped, as Go's would be.
    pub(crate) fn set_active(&self) -> bool {
        loop {
            let cur = self.state.load(Ordering::Acquire);
            if cur == CONN_CLOSED {
                return false;
            }
            if cur == CONN_ACTIVE
                || self
                    .state
                    .compare_exchange(cur, CONN_ACTIVE, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return true;
            }
        }
    }

    /// Whether the server is shutting down (no more keep-alive).
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Closes the connection if it is idle (or new and silent for 5 s); returns whether
    /// it was closed.
    fn close_if_idle(&self) -> bool {
        let cur = self.state.load(Ordering::Acquire);
        let idle = cur == CONN_IDLE
            || cur == CONN_NEW && self.accepted.elapsed() >= NEW_CONN_GRACE
            || cur == CONN_CLOSED;
        if !idle {
            return false;
        }
        if cur != CONN_CLOSED
            && self
                .state
                .compare_exchange(cur, CONN_CLOSED, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return false;
        }
        let _ = self.conn.close();
        true
    }
}

/// Counters describing a [`Server`]'s life so far.
///
/// Go: no direct equivalent (net/http keeps these in its unexported `activeConn` map and
/// `ConnState` hook).
///
/// ```
/// let stats = gonet::Server::new().stats();
/// assert_eq!(stats, gonet::ServerStats::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections whose handler is running now (live coroutines).
    pub active: usize,
    /// Connections accepted and handed to a handler, in all.
    pub accepted: u64,
    /// Handlers that panicked (each one's connection was closed).
    pub panics: u64,
    /// Connections closed at once because their coroutine could not be spawned.
    pub refused: u64,
    /// Accept errors retried after a pause (temporary ones, like `EMFILE`).
    pub accept_errors: u64,
    /// Connections timed out by [`Server::idle_timeout`].
    pub idle_closed: u64,
}

impl Default for Server {
    fn default() -> Server {
        Server::new()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("max_conns", &self.inner.max_conns.load(Ordering::Relaxed))
            .field("read_timeout", &nanos(&self.inner.read_timeout))
            .field("write_timeout", &nanos(&self.inner.write_timeout))
            .field("idle_timeout", &nanos(&self.inner.idle_timeout))
            .field("stats", &self.stats())
            .finish()
    }
}

impl Server {
    /// A server with no connection limit and no timeouts.
    ///
    /// Go: `&http.Server{}`.
    ///
    /// ```
    /// let server = gonet::Server::new();
    /// assert_eq!(server.stats().active, 0);
    /// ```
    pub fn new() -> Server {
        Server {
            inner: Arc::new(Inner {
                max_conns: AtomicUsize::new(0),
                read_timeout: AtomicU64::new(0),
                write_timeout: AtomicU64::new(0),
                idle_timeout: AtomicU64::new(0),
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                next_id: AtomicU64::new(0),
                accepted: AtomicU64::new(0),
                panics: AtomicU64::new(0),
                refused: AtomicU64::new(0),
                accept_errors: AtomicU64::new(0),
                idle_closed: AtomicU64::new(0),
                watchdog: AtomicBool::new(false),
                stopping: Arc::new(AtomicBool::new(false)),
            }),
        }
    }

    /// Serves at most `n` connections at once (`0`: no limit). When `n` handlers are
    /// running, the server stops accepting until one returns: clients wait in the
    /// listener's backlog, they are not refused. The limit covers every listener the
    /// server serves.
    ///
    /// Go: `netutil.LimitListener(l, n)`.
    ///
    /// ```
    /// let server = gonet::Server::new().max_conns(10_000);
    /// # let _ = server;
    /// ```
    pub fn max_conns(self, n: usize) -> Server {
        self.inner.max_conns.store(n, Ordering::Relaxed);
        self
    }

    /// Gives every connection `d` from its accept to finish reading: its read deadline is
    /// set to accept time + `d`, after which a parked or later read fails with
    /// "i/o timeout". The defence against slowloris clients that trickle a request in.
    /// A handler serving request after request moves the deadline forward itself
    /// (`conn.set_read_deadline(Some(Instant::now() + d))` before each request), as
    /// net/http does per request.
    ///
    /// Go: `http.Server.ReadTimeout`.
    ///
    /// ```
    /// let server = gonet::Server::new().read_timeout(std::time::Duration::from_secs(10));
    /// # let _ = server;
    /// ```
    pub fn read_timeout(self, d: Duration) -> Server {
        store_nanos(&self.inner.read_timeout, d);
        self
    }

    /// Gives every connection `d` from its accept to finish writing: its write deadline is
    /// set to accept time + `d` (a handler may move it forward per response).
    ///
    /// Go: `http.Server.WriteTimeout`.
    ///
    /// ```
    /// let server = gonet::Server::new().write_timeout(std::time::Duration::from_secs(10));
    /// # let _ = server;
    /// ```
    pub fn write_timeout(self, d: Duration) -> Server {
        store_nanos(&self.inner.write_timeout, d);
        self
    }

    /// Times out a TCP connection on which no data has moved either way for `d`: the
    /// kernel's own clock for the socket (`TCP_INFO`: last data received, last data sent)
    /// is checked a few times per period, and an idle connection gets its deadlines set
    /// to now, so its parked read or write fails with "i/o timeout"; if its handler is
    /// still running one period later, the connection is closed. This frees the
    /// coroutines of clients that went silent, and of clients that stopped reading (the
    /// server's writes stall on a full send buffer). Unix connections are not checked.
    ///
    /// Go: `http.Server.IdleTimeout` (there: the wait between requests).
    ///
    /// ```
    /// let server = gonet::Server::new().idle_timeout(std::time::Duration::from_secs(120));
    /// # let _ = server;
    /// ```
    pub fn idle_timeout(self, d: Duration) -> Server {
        store_nanos(&self.inner.idle_timeout, d);
        self
    }

    /// Registers `f` to be called when [`shutdown`](Server::shutdown) starts, right after
    /// the listeners are closed (new clients are refused from then on) and before the
    /// grace period: say, to log it or to tell long-lived handlers to wrap up. `f` runs in
    /// the caller of `shutdown`, which waits for it.
    ///
    /// Go: `srv.RegisterOnShutdown(f)` (Go runs `f` in its own goroutine).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// let told = Arc::new(AtomicBool::new(false));
    /// let t = told.clone();
    /// let server = gonet::Server::new().on_shutdown(move || t.store(true, Ordering::SeqCst));
    /// server.shutdown(std::time::Duration::ZERO);
    /// assert!(told.load(Ordering::SeqCst));
    /// ```
    pub fn on_shutdown(self, f: impl Fn() + Send + Sync + 'static) -> Server {
        self.inner.lock().on_shutdown.push(Arc::new(f));
        self
    }

    /// The server's counters now.
    ///
    /// ```
    /// let server = gonet::Server::new();
    /// assert_eq!(server.stats().accepted, 0);
    /// ```
    pub fn stats(&self) -> ServerStats {
        let i = &self.inner;
        ServerStats {
            active: self.active(),
            accepted: i.accepted.load(Ordering::Relaxed),
            panics: i.panics.load(Ordering::Relaxed),
            refused: i.refused.load(Ordering::Relaxed),
            accept_errors: i.accept_errors.load(Ordering::Relaxed),
            idle_closed: i.idle_closed.load(Ordering::Relaxed),
        }
    }

    /// How many connections are being served now: handler coroutines still running.
    ///
    /// Go: no exported equivalent (`len(srv.activeConn)`).
    ///
    /// ```
    /// assert_eq!(gonet::Server::new().active(), 0);
    /// ```
    pub fn active(&self) -> usize {
        self.inner.lock().conns.len()
    }

    /// Accepts connections on `ln` and runs `handler` for each in its own coroutine, until
    /// the listener is closed or [`shutdown`](Server::shutdown) is called. Returns
    /// `Ok(())` then: after a shutdown, only once the shutdown has finished (every handler
    /// returned or was cut), so a `main` that returns after `serve` leaves nothing
    /// half-written. A listener closed some other way ends `serve` at once and leaves the
    /// running handlers be. Errors that are neither temporary nor about one connection
    /// only (say `EBADF`) are returned.
    ///
    /// Go: `srv.Serve(l)`, which returns `http.ErrServerClosed` where this returns
    /// `Ok(())`. Call it from `main` or from a coroutine; several listeners may be served
    /// at once, each by its own `serve` call. Pass the `Listener`, or an
    /// `Arc<Listener>` to keep a handle that can close it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let server = gonet::Server::new();
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let s = server.clone();
    /// let h = gonet::go!(move || s.serve(ln, |conn| drop(conn)));
    /// server.shutdown(Duration::from_secs(1));
    /// h.join().unwrap().unwrap();
    /// ```
    pub fn serve<H>(&self, ln: impl Into<Arc<Listener>>, handler: H) -> io::Result<()>
    where
        H: Fn(Conn) + Send + Sync + 'static,
    {
        self.serve_tracked(ln.into(), move |conn, _track| handler(conn), true)
    }

    /// [`serve`](Server::serve) for protocols with many requests per connection: the
    /// handler also gets the connection's [`ConnTrack`], to mark it idle between
    /// requests (so [`close_idle_conns`](Server::close_idle_conns) may close it) and to
    /// see a shutdown. With `wait_done` false, a shutdown ends `serve` at once (Go's
    /// `Serve` returning `ErrServerClosed`) instead of after the shutdown finished.
    pub(crate) fn serve_tracked<H>(
        &self,
        ln: Arc<Listener>,
        handler: H,
        wait_done: bool,
    ) -> io::Result<()>
    where
        H: Fn(Conn, Arc<ConnTrack>) + Send + Sync + 'static,
    {
        {
            let mut st = self.inner.lock();
            if st.shutting_down {
                drop(st);
                let _ = ln.close();
                return Ok(());
            }
            st.listeners.push(ln.clone());
        }
        crate::os::rlimit::raise_open_files_limit();
        warn_if_short_of_room(self.inner.max_conns.load(Ordering::Relaxed));
        self.start_watchdog();
        let handler = Arc::new(handler);
        let result = self.accept_loop(&ln, &handler);
        let mut st = self.inner.lock();
        st.listeners.retain(|l| !Arc::ptr_eq(l, &ln));
        if result.is_ok() && st.shutting_down && wait_done {
            while !st.done {
                st = wait(&self.inner.changed, st);
            }
        }
        result
    }

    fn accept_loop<H>(&self, ln: &Listener, handler: &Arc<H>) -> io::Result<()>
    where
        H: Fn(Conn, Arc<ConnTrack>) + Send + Sync + 'static,
    {
        let mut delay = Duration::ZERO;
        loop {
            self.wait_for_slot();
            match ln.accept() {
                Ok(conn) => match self.start(conn, handler) {
                    Ok(()) => delay = Duration::ZERO,
                    Err(why) => {
                        delay = backoff(delay);
                        log::error!(
                            "gonet: cannot start a coroutine for a new connection ({why}); closed it, pausing accept for {delay:?}"
                        );
                        self.pause(delay);
                    }
                },
                Err(e) if is_closed(&e) => return Ok(()),
                Err(e) if retryable(&e) => {
                    self.inner.accept_errors.fetch_add(1, Ordering::Relaxed);
                    delay = backoff(delay);
                    log::warn!("accept error: {e}; retrying in {delay:?}");
                    self.pause(delay);
                }
                Err(e) => {
                    log::error!("gonet: serve: {e}");
                    return Err(e);
                }
            }
        }
    }

    /// Registers `conn` and runs the handler on it in a new coroutine. On failure the
    /// connection is closed and the reason returned.
    fn start<H>(&self, conn: Conn, handler: &Arc<H>) -> Result<(), String>
    where
        H: Fn(Conn, Arc<ConnTrack>) + Send + Sync + 'static,
    {
        let inner = &self.inner;
        let now = Instant::now();
        if let Some(d) = nanos(&inner.read_timeout) {
            let _ = conn.set_read_deadline(Some(now + d));
        }
        if let Some(d) = nanos(&inner.write_timeout) {
            let _ = conn.set_write_deadline(Some(now + d));
        }
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut st = inner.lock();
            if st.cutting {
                // Accepted while the shutdown was closing everything: nobody would wait
                // for it.
                drop(st);
                let _ = conn.close();
                return Ok(());
            }
            st.conns.insert(id, conn.clone());
        }
        let track = Arc::new(ConnTrack {
            state: std::sync::atomic::AtomicU8::new(CONN_NEW),
            accepted: now,
            conn: conn.clone(),
            stopping: inner.stopping.clone(),
            detached: AtomicBool::new(false),
        });
        inner.lock().tracks.insert(id, track.clone());
        let body = {
            let inner = inner.clone();
            let handler = handler.clone();
            let conn = conn.clone();
            move || run_handler(inner, id, conn, track, &*handler)
        };
        // A stack that cannot be mapped (a limit: see `runtime::try_go`) only costs this
        // connection.
        let why = match crate::runtime::try_go(body) {
            Ok(_detached) => {
                inner.accepted.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Err(e) => e.to_string(),
        };
        inner.refused.fetch_add(1, Ordering::Relaxed);
        let _ = conn.close();
        inner.finish(id);
        Err(format!("serving {}: {why}", conn.remote_addr()))
    }

    /// Go's LimitListener: waits until fewer than `max_conns` handlers run (or shutdown).
    fn wait_for_slot(&self) {
        let max = self.inner.max_conns.load(Ordering::Relaxed);
        if max == 0 {
            return;
        }
        let mut st = self.inner.lock();
        while st.conns.len() >= max && !st.shutting_down {
            st = wait(&self.inner.changed, st);
        }
    }

    /// Sleeps `d`, or less if shutdown starts meanwhile.
    fn pause(&self, d: Duration) {
        let end = Instant::now() + d;
        let mut st = self.inner.lock();
        loop {
            let now = Instant::now();
            if st.shutting_down || now >= end {
                return;
            }
            st = wait_timeout(&self.inner.changed, st, end - now);
        }
    }

    /// Stops accepting, waits up to `grace` for the running handlers to return, then
    /// closes the connections still open (their parked reads and writes fail with
    /// "use of closed network connection") and waits briefly (500 ms at most) for those
    /// handlers to return. Returns how many connections were cut. A second call waits for
    /// the first to finish and returns 0.
    ///
    /// Go: `srv.Shutdown(ctx)` with a `ctx` that times out after `grace`, followed by
    /// `srv.Close()` if it did. Called from inside a handler, it waits for that handler
    /// too: it cuts it when the grace period ends.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::time::{Duration, Instant};
    /// let server = gonet::Server::new();
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let addr = ln.addr().to_string();
    /// let s = server.clone();
    /// // A handler that never returns by itself: it waits for data that never comes.
    /// let h = gonet::go!(move || s.serve(ln, |conn| while conn.read(&mut [0u8; 1]).is_ok() {}));
    /// let mut c = gonet::dial("tcp", &addr).unwrap();
    /// c.write_all(b"x").unwrap();
    /// while server.active() == 0 { gonet::runtime::gosched(); }
    /// let start = Instant::now();
    /// assert_eq!(server.shutdown(Duration::from_millis(100)), 1); // one connection cut
    /// assert!(start.elapsed() < Duration::from_secs(1));
    /// h.join().unwrap().unwrap();
    /// ```
    pub fn shutdown(&self, grace: Duration) -> usize {
        let inner = &self.inner;
        let deadline = Instant::now() + grace;
        {
            let mut st = inner.lock();
            if st.cutter {
                while !st.done {
                    st = wait(&inner.changed, st);
                }
                return 0;
            }
            st.cutter = true;
        }
        // A no-op after a shutdown_context, which has stopped accepting already.
        self.stop_accepting();
        let mut st = inner.lock();
        log::info!(
            "gonet: shutting down: {} connections in flight, grace period {grace:?}",
            st.conns.len()
        );
        loop {
            let now = Instant::now();
            if st.conns.is_empty() || now >= deadline {
                break;
            }
            st = wait_timeout(&inner.changed, st, deadline - now);
        }
        st.cutting = true;
        let cut: Vec<Conn> = st.conns.values().cloned().collect();
        drop(st);
        if !cut.is_empty() {
            log::info!(
                "gonet: shutdown: grace period {grace:?} over, closing {} connections",
                cut.len()
            );
            for conn in &cut {
                let _ = conn.close();
            }
            let end = Instant::now() + CUT_WAIT;
            let mut st = inner.lock();
            loop {
                let now = Instant::now();
                if st.conns.is_empty() || now >= end {
                    break;
                }
                st = wait_timeout(&inner.changed, st, end - now);
            }
            if !st.conns.is_empty() {
                log::warn!(
                    "gonet: shutdown: {} handlers still running after their connections were closed",
                    st.conns.len()
                );
            }
        }
        inner.lock().done = true;
        inner.changed.notify_all();
        cut.len()
    }

    /// Stops accepting, then waits for the running handlers to return, or for `ctx` to
    /// end: then it returns `ctx.err()` and leaves the handlers running (call
    /// [`close`](Server::close) or [`shutdown`](Server::shutdown) to cut them, as Go
    /// code calls `srv.Close()`). The [`on_shutdown`](Server::on_shutdown) hooks run once
    /// the listeners are closed.
    ///
    /// Go: net/http's `srv.Shutdown(ctx)`, for any protocol. The connections are the
    /// handlers' (gonet cannot tell an idle one from a busy one), so it waits for every
    /// handler; [`serve`](Server::serve) returns once they all have.
    ///
    /// ```
    /// use gonet::context;
    /// use std::io::Write;
    /// use std::time::Duration;
    /// let server = gonet::Server::new();
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let addr = ln.addr().to_string();
    /// let s = server.clone();
    /// // A handler that returns only when its client goes away.
    /// let h = gonet::go!(move || s.serve(ln, |conn| while conn.read(&mut [0u8; 1]).unwrap_or(0) > 0 {}));
    /// let mut c = gonet::dial("tcp", &addr).unwrap();
    /// c.write_all(b"x").unwrap();
    /// while server.active() == 0 { gonet::runtime::gosched(); }
    ///
    /// // ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
    /// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_millis(50));
    /// let err = server.shutdown_context(&ctx).unwrap_err(); // the handler is still busy
    /// assert_eq!(err.to_string(), "context deadline exceeded");
    /// cancel();
    /// drop(c); // the client leaves: the handler returns
    /// server.shutdown_context(&context::background()).unwrap();
    /// h.join().unwrap().unwrap();
    /// ```
    pub fn shutdown_context(&self, ctx: &crate::context::Context) -> io::Result<()> {
        self.stop_accepting();
        let inner = self.inner.clone();
        // Wakes the wait below when ctx ends (taking the lock first, so that a waiter
        // that has just seen no error is already waiting).
        let stop = crate::context::after_func(ctx, move || {
            drop(inner.lock());
            inner.changed.notify_all();
        });
        let inner = &self.inner;
        let mut st = inner.lock();
        log::info!(
            "gonet: shutting down: {} connections in flight, until the context ends",
            st.conns.len()
        );
        let result = loop {
            if st.conns.is_empty() {
                st.done = true;
                break Ok(());
            }
            if let Some(err) = ctx.err() {
                break Err(err);
            }
            st = wait(&inner.changed, st);
        };
        drop(st);
        inner.changed.notify_all();
        stop();
        result
    }

    /// Whether a shutdown has started.
    pub(crate) fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// The first step of a shutdown, without waiting: stops accepting (closes the
    /// listeners; `serve` calls return) and runs the [`on_shutdown`](Server::on_shutdown)
    /// hooks. Returns false if a shutdown had already started. Go: the start of
    /// `Server.Shutdown` (`inShutdown`, `closeListenersLocked`, `onShutdown`).
    pub(crate) fn stop_accepting(&self) -> bool {
        let inner = &self.inner;
        let (listeners, hooks) = {
            let mut st = inner.lock();
            if st.shutting_down {
                return false;
            }
            st.shutting_down = true;
            inner.stopping.store(true, Ordering::Release);
            (std::mem::take(&mut st.listeners), st.on_shutdown.clone())
        };
        inner.changed.notify_all();
        for ln in &listeners {
            let _ = ln.close();
        }
        for hook in &hooks {
            hook();
        }
        true
    }

    /// Closes every idle connection (and new ones silent for 5 s); returns whether no
    /// connection is left that is not idle. Go: `Server.closeIdleConns`.
    pub(crate) fn close_idle_conns(&self) -> bool {
        let tracks: Vec<Arc<ConnTrack>> = self.inner.lock().tracks.values().cloned().collect();
        let mut quiescent = true;
        for t in &tracks {
            if !t.close_if_idle() {
                quiescent = false;
            }
        }
        quiescent
    }

    /// Closes every connection now (their coroutines see "use of closed network
    /// connection"); returns how many there were. Go: the loop in `Server.Close`.
    pub(crate) fn close_all_conns(&self) -> usize {
        let conns: Vec<Conn> = self.inner.lock().conns.values().cloned().collect();
        for c in &conns {
            let _ = c.close();
        }
        conns.len()
    }

    /// Closes the listeners and every connection at once; returns how many were open.
    ///
    /// Go: `srv.Close()`. The same as `shutdown(Duration::ZERO)`.
    ///
    /// ```
    /// let server = gonet::Server::new();
    /// assert_eq!(server.close(), 0);
    /// ```
    pub fn close(&self) -> usize {
        self.shutdown(Duration::ZERO)
    }

    /// Starts the idle watchdog if an idle timeout is set and it is not running.
    fn start_watchdog(&self) {
        if nanos(&self.inner.idle_timeout).is_none()
            || self.inner.watchdog.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let inner = self.inner.clone();
        let body = move || {
            inner.watch_idle();
            inner.watchdog.store(false, Ordering::Release);
        };
        if crate::runtime::try_go(body).is_err() {
            self.inner.watchdog.store(false, Ordering::Release);
            log::error!(
                "gonet: cannot start the idle-timeout watchdog: idle connections will not be timed out"
            );
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A handler returned: forget its connection and tell whoever waits.
    fn finish(&self, id: u64) {
        {
            let mut st = self.lock();
            st.conns.remove(&id);
            st.tracks.remove(&id);
            if st.shutting_down && st.conns.is_empty() && !st.cutter {
                // The last handler of a shutdown_context that gave up: serve returns.
                st.done = true;
            }
        }
        self.changed.notify_all();
    }

    /// The idle watchdog: every quarter of the idle timeout, times out TCP connections on
    /// which no data moved for the whole timeout; closes those still there a period later.
    fn watch_idle(&self) {
        let mut timed_out: HashSet<u64> = HashSet::new();
        loop {
            let Some(idle) = nanos(&self.idle_timeout) else {
                return;
            };
            let period = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
            let conns: Vec<(u64, Conn)> = {
                let end = Instant::now() + period;
                let mut st = self.lock();
                loop {
                    let now = Instant::now();
                    if st.shutting_down {
                        return;
                    }
                    if now >= end {
                        break;
                    }
                    st = wait_timeout(&self.changed, st, end - now);
                }
                timed_out.retain(|id| st.conns.contains_key(id));
                st.conns.iter().map(|(id, c)| (*id, c.clone())).collect()
            };
            for (id, conn) in conns {
                let Some(quiet) = tcp_quiet_time(&conn) else {
                    continue;
                };
                if quiet < idle {
                    timed_out.remove(&id);
                    continue;
                }
                if timed_out.insert(id) {
                    self.idle_closed.fetch_add(1, Ordering::Relaxed);
                    log::debug!(
                        "gonet: {} idle for {quiet:?}: timing it out",
                        conn.remote_addr()
                    );
                    let _ = conn.set_deadline(Some(Instant::now()));
                } else if quiet >= idle + period {
                    let _ = conn.close();
                }
            }
        }
    }
}

/// The coroutine body for one connection: run the handler, catch its panic, close.
fn run_handler<H: Fn(Conn, Arc<ConnTrack>)>(
    inner: Arc<Inner>,
    id: u64,
    conn: Conn,
    track: Arc<ConnTrack>,
    handler: &H,
) {
    // Runs even if the coroutine is cancelled (unwound) while parked.
    struct Finish<'a>(&'a Inner, u64, &'a Conn, Arc<ConnTrack>);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            if !self.3.detached.load(Ordering::Acquire) {
                let _ = self.2.close();
            }
            self.0.finish(self.1);
        }
    }
    let _finish = Finish(&inner, id, &conn, track.clone());
    let peer = conn.remote_addr();
    let c = conn.clone();
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(c, track))) {
        inner.panics.fetch_add(1, Ordering::Relaxed);
        log::error!("gonet: panic serving {peer}: {}", panic_message(&*panic));
    }
}

/// How long no data moved either way on a TCP socket, by the kernel's clock; `None` for
/// other sockets.
fn tcp_quiet_time(conn: &Conn) -> Option<Duration> {
    // SAFETY: tcp_info is plain data; all-zero is a valid value for getsockopt to fill.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // Holding a reference on the descriptor, so a concurrent close cannot release it.
    let rc = conn.sock()?.control(|fd| {
        // SAFETY: info and len are valid for writes of the sizes given; `fd` is open for
        // the duration of the call.
        unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            )
        }
    });
    let Ok(rc) = rc else {
        return None;
    };
    if rc != 0 || (len as usize) < std::mem::size_of::<libc::tcp_info>() / 2 {
        return None;
    }
    let ms = info.tcpi_last_data_recv.min(info.tcpi_last_data_sent);
    Some(Duration::from_millis(u64::from(ms)))
}

/// Whether an accept error is worth a pause and a retry rather than ending `serve`.
fn retryable(e: &io::Error) -> bool {
    if is_temporary(e) {
        return true;
    }
    let Some(sys) = OpError::of(e).and_then(|op| op.err.downcast_ref::<SyscallError>()) else {
        return false;
    };
    // A call on the new connection (getsockname, epoll_ctl, setsockopt) failed: only
    // that connection is lost. Linux's accept(2) also passes on network errors pending
    // on the new socket, to be retried.
    sys.syscall != "accept4"
        || matches!(
            sys.err.raw_os_error(),
            Some(
                libc::ENETDOWN
                    | libc::EPROTO
                    | libc::ENOPROTOOPT
                    | libc::EHOSTDOWN
                    | libc::ENONET
                    | libc::EHOSTUNREACH
                    | libc::EOPNOTSUPP
                    | libc::ENETUNREACH
                    | libc::EPERM
            )
        )
}

/// net/http's `tempDelay`: 5 ms, doubling, at most 1 s.
fn backoff(delay: Duration) -> Duration {
    (delay * 2).clamp(BACKOFF_MIN, BACKOFF_MAX)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_string()
    }
}

fn store_nanos(cell: &AtomicU64, d: Duration) {
    cell.store(
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

fn nanos(cell: &AtomicU64) -> Option<Duration> {
    match cell.load(Ordering::Relaxed) {
        0 => None,
        n => Some(Duration::from_nanos(n)),
    }
}

fn wait<'a>(cv: &Condvar, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    cv.wait(st).unwrap_or_else(|e| e.into_inner())
}

fn wait_timeout<'a>(cv: &Condvar, st: MutexGuard<'a, State>, d: Duration) -> MutexGuard<'a, State> {
    // may 0.3.51 keeps a parked coroutine's timeout in whole milliseconds (`AtomicDuration`):
    // it truncates, and a timeout under 1 ms becomes no timeout at all. Round up.
    let ms = u64::try_from(d.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1);
    match cv.wait_timeout(st, Duration::from_millis(ms)) {
        Ok((st, _)) => st,
        Err(e) => e.into_inner().0,
    }
}

/// Warns once per process when fewer coroutines fit (in the mapping table, in memory or
/// under `ulimit -v`: [`crate::runtime::coroutine_capacity`]) than there are descriptors
/// (or allowed connections) for.
fn warn_if_short_of_room(max_conns: usize) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.load(Ordering::Relaxed) {
        return;
    }
    let (Some((coroutines, limit)), Some(nofile), Some(open)) = (
        crate::runtime::coroutine_room(),
        crate::runtime::open_files_limit(),
        crate::runtime::open_files(),
    ) else {
        return;
    };
    if let Some(msg) = room_warning(coroutines, nofile.saturating_sub(open), max_conns, limit) {
        if !WARNED.swap(true, Ordering::Relaxed) {
            log::warn!("{msg}");
        }
    }
}

/// The warning for `warn_if_short_of_room`, if one is due: it names the limit that
/// binds and how to raise it.
fn room_warning(
    coroutines: usize,
    files: usize,
    max_conns: usize,
    limit: crate::runtime::RoomLimit,
) -> Option<String> {
    use crate::runtime::RoomLimit;
    let wanted = if max_conns == 0 {
        files
    } else {
        files.min(max_conns)
    };
    if coroutines >= wanted {
        return None;
    }
    let (why, raise) = match limit {
        RoomLimit::MapCount { lightweight: true } => (
            "the process's memory mappings are at vm.max_map_count, and a new coroutine \
             stack needs two mappings until it starts",
            "Raise it with `sysctl -w vm.max_map_count=262144`",
        ),
        RoomLimit::MapCount { lightweight: false } => (
            "vm.max_map_count: each coroutine stack is 2 memory mappings on this kernel, \
             which has no lightweight guard pages (MADV_GUARD_INSTALL, Linux 6.13+)",
            "Raise it with `sysctl -w vm.max_map_count=262144`",
        ),
        RoomLimit::Memory => (
            "MemAvailable: a parked coroutine holds about 5.5 KiB",
            "Give the process more memory",
        ),
        RoomLimit::AddressSpace => (
            "the address space limit, RLIMIT_AS (ulimit -v): each coroutine stack reserves \
             its full size",
            "Raise it with `ulimit -v`, or lower the stack size with \
             gonet::runtime::set_stack_size",
        ),
    };
    Some(format!(
        "gonet: room for about {coroutines} more coroutines ({why}), fewer than the \
         {wanted} connections the open-file limit allows; past that, new connections are \
         closed at once. {raise} (or set a lower Server::max_conns)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_5ms_to_1s() {
        let mut d = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..10 {
            d = backoff(d);
            seen.push(d.as_millis());
        }
        assert_eq!(seen, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    }

    #[test]
    fn room_warning_only_when_coroutines_are_short() {
        use crate::runtime::RoomLimit;
        let limits = [
            RoomLimit::MapCount { lightweight: true },
            RoomLimit::MapCount { lightweight: false },
            RoomLimit::Memory,
            RoomLimit::AddressSpace,
        ];
        for limit in limits {
            assert!(room_warning(32_000, 20_000, 0, limit).is_none());
            assert!(room_warning(10_000, 20_000, 5_000, limit).is_none());
            let w = room_warning(10_000, 20_000, 0, limit).expect("a warning");
            assert!(w.contains("room for about 10000 more coroutines"), "{w}");
            assert!(w.contains("20000 connections"), "{w}");
            // The advice fits the limit: the sysctl only where mappings are the limit.
            let sysctl = w.contains("sysctl -w vm.max_map_count");
            match limit {
                RoomLimit::MapCount { .. } => assert!(sysctl, "{w}"),
                RoomLimit::Memory => assert!(!sysctl && w.contains("MemAvailable"), "{w}"),
                RoomLimit::AddressSpace => {
                    assert!(
                        !sysctl && w.contains("RLIMIT_AS") && w.contains("set_stack_size"),
                        "{w}"
                    )
                }
            }
        }
    }

    #[test]
    fn accept_errors_are_sorted_like_go() {
        let err = |call, errno| -> io::Error {
            OpError::new(
                "accept",
                "tcp",
                SyscallError::new(call, io::Error::from_raw_os_error(errno)),
            )
            .into()
        };
        assert!(retryable(&err("accept4", libc::EMFILE)));
        assert!(retryable(&err("accept4", libc::ENFILE)));
        assert!(retryable(&err("accept4", libc::ENOBUFS)));
        assert!(retryable(&err("accept4", libc::ECONNABORTED)));
        assert!(retryable(&err("epollctl", libc::ENOSPC)));
        assert!(!retryable(&err("accept4", libc::EBADF)));
        assert!(!retryable(&err("accept4", libc::EINVAL)));
    }
}
