//! Go's `http.Server`: `ListenAndServe`, `Serve`, timeouts, `Shutdown`, `Close`,
//! `RegisterOnShutdown`, `SetKeepAlivesEnabled`; and the package-level
//! `http.ListenAndServe` / `http.Serve`.
//!
//! The accept loop is [`gonet::Server`](crate::Server)'s (Go's `Serve` loop: temporary
//! errors back off from 5 ms to 1 s, a panicking handler costs only its connection);
//! each connection runs Go's `conn.serve` in its own coroutine.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::context::{self, Context};

use super::conn::serve_conn;
use super::errors::Error;
use super::handler::Handler;
use crate::net::{Listener, listen};

/// Go: `http.DefaultMaxHeaderBytes` (1 MiB).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 1 << 20;

/// What can serve as a server's handler: any [`Handler`], or `None` for the default
/// mux (Go's `nil` handler: `http.ListenAndServe(":8080", nil)`).
///
/// ```
/// use gonet::net::http::{self, IntoHandler};
/// assert!(http::not_found_handler().into_handler().is_some());
/// assert!(None.into_handler().is_none());
/// ```
pub trait IntoHandler {
    /// The handler, or `None` for the default mux.
    fn into_handler(self) -> Option<Arc<dyn Handler>>;
}

impl<H: Handler + 'static> IntoHandler for H {
    fn into_handler(self) -> Option<Arc<dyn Handler>> {
        Some(Arc::new(self))
    }
}

impl IntoHandler for Option<Arc<dyn Handler>> {
    fn into_handler(self) -> Option<Arc<dyn Handler>> {
        self
    }
}

/// The handler behind a `None`: Go's `DefaultServeMux` (what `http::handle` and
/// `http::handle_func` register on).
pub(super) fn default_handler() -> Arc<dyn Handler> {
    Arc::new(
        |w: &mut dyn super::ResponseWriter, r: &mut super::Request| {
            super::default_serve_mux().serve_http(w, r)
        },
    )
}

/// A server's settings, fixed when it starts serving.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) addr: String,
    pub(crate) handler: Option<Arc<dyn Handler>>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) read_header_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_header_bytes: usize,
    pub(crate) keep_alives: Arc<AtomicBool>,
    /// Go: `Server.TLSConfig` (net/http/tls.rs).
    pub(crate) tls_config: Option<Arc<crate::crypto::tls::Config>>,
}

impl Config {
    /// Go: `Server.readHeaderTimeout` (falls back to `ReadTimeout`).
    pub(crate) fn read_header_timeout(&self) -> Option<Duration> {
        self.read_header_timeout.or(self.read_timeout)
    }

    /// Go: `Server.idleTimeout` (falls back to `ReadTimeout`).
    pub(crate) fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout.or(self.read_timeout)
    }

    /// Go: `Server.initialReadLimitSize`: `MaxHeaderBytes` + 4096 of bufio slop.
    pub(crate) fn header_limit(&self) -> usize {
        self.max_header_bytes + 4096
    }

    /// Go: `Server.doKeepAlives` (shutdown is checked per connection).
    pub(crate) fn keep_alives(&self) -> bool {
        self.keep_alives.load(Ordering::Acquire)
    }
}

/// An HTTP server: Go's `http.Server`.
///
/// Set it up builder-style (each method is Go's field of the same name) and start it
/// with [`listen_and_serve`](Server::listen_and_serve) or [`serve`](Server::serve); the
/// `Server` is a cheap handle: clone it to call [`shutdown`](Server::shutdown)
/// from another coroutine or thread.
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use gonet::net::http;
///
/// // srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
/// let srv = http::Server::new()
///     .handler(|w: &mut dyn http::ResponseWriter, _r: &mut http::Request| {
///         let _ = w.write(b"Hello, World!");
///     })
///     .read_header_timeout(Duration::from_secs(5));
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let addr = ln.addr().to_string();
/// let s = srv.clone();
/// let serving = gonet::go!(move || s.serve(ln));
///
/// let mut c = gonet::dial("tcp", &addr).unwrap();
/// c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
/// let mut resp = String::new();
/// c.read_to_string(&mut resp).unwrap();
/// assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(resp.ends_with("\r\n\r\nHello, World!"));
///
/// srv.shutdown_timeout(Duration::from_secs(1)).unwrap();
/// let err = serving.join().unwrap().unwrap_err();
/// assert_eq!(err.to_string(), "http: Server closed");
/// ```
#[derive(Clone)]
pub struct Server {
    pub(super) cfg: Config,
    pub(super) core: crate::Server,
}

impl Default for Server {
    fn default() -> Server {
        Server::new()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.cfg.addr)
            .field("read_timeout", &self.cfg.read_timeout)
            .field("read_header_timeout", &self.cfg.read_header_timeout)
            .field("write_timeout", &self.cfg.write_timeout)
            .field("idle_timeout", &self.cfg.idle_timeout)
            .field("max_header_bytes", &self.cfg.max_header_bytes)
            .finish()
    }
}

impl Server {
    /// A server with Go's defaults: no timeouts, 1 MiB of header, keep-alives on, the
    /// default mux as handler. Go: `&http.Server{}`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new();
    /// # let _ = srv;
    /// ```
    pub fn new() -> Server {
        Server {
            cfg: Config {
                addr: String::new(),
                handler: None,
                read_timeout: None,
                read_header_timeout: None,
                write_timeout: None,
                idle_timeout: None,
                max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
                keep_alives: Arc::new(AtomicBool::new(true)),
                tls_config: None,
            },
            core: crate::Server::new(),
        }
    }

    /// The address [`listen_and_serve`](Server::listen_and_serve) listens on (`":8080"`;
    /// "" means `":http"`, port 80). Go: `Server.Addr`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().addr("127.0.0.1:8080");
    /// # let _ = srv;
    /// ```
    pub fn addr(mut self, addr: &str) -> Server {
        self.cfg.addr = addr.to_string();
        self
    }

    /// The handler for every request (`None`: the default mux). Go: `Server.Handler`.
    ///
    /// ```
    /// use gonet::net::http;
    /// let srv = http::Server::new().handler(http::not_found_handler());
    /// # let _ = srv;
    /// ```
    pub fn handler(mut self, h: impl IntoHandler) -> Server {
        self.cfg.handler = h.into_handler();
        self
    }

    /// The time from a connection's read of a request to the end of its body: headers
    /// and body both; also the idle and header timeouts when those are not set.
    /// Go: `Server.ReadTimeout`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().read_timeout(std::time::Duration::from_secs(10));
    /// # let _ = srv;
    /// ```
    pub fn read_timeout(mut self, d: Duration) -> Server {
        self.cfg.read_timeout = non_zero(d);
        self
    }

    /// The time to read a request's header (the slowloris defence): a client that
    /// trickles its header in is cut, without an answer, when it passes.
    /// Go: `Server.ReadHeaderTimeout`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().read_header_timeout(std::time::Duration::from_secs(5));
    /// # let _ = srv;
    /// ```
    pub fn read_header_timeout(mut self, d: Duration) -> Server {
        self.cfg.read_header_timeout = non_zero(d);
        self
    }

    /// The time, from the end of a request's header, to write its response.
    /// Go: `Server.WriteTimeout`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().write_timeout(std::time::Duration::from_secs(10));
    /// # let _ = srv;
    /// ```
    pub fn write_timeout(mut self, d: Duration) -> Server {
        self.cfg.write_timeout = non_zero(d);
        self
    }

    /// How long a keep-alive connection may wait for its next request.
    /// Go: `Server.IdleTimeout`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().idle_timeout(std::time::Duration::from_secs(120));
    /// # let _ = srv;
    /// ```
    pub fn idle_timeout(mut self, d: Duration) -> Server {
        self.cfg.idle_timeout = non_zero(d);
        self
    }

    /// The most header bytes a request may have (request line included); past it,
    /// plus 4096 bytes of slack as in Go, the answer is `431 Request Header Fields Too
    /// Large`. 0 means the default, 1 MiB. Go: `Server.MaxHeaderBytes`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().max_header_bytes(64 << 10);
    /// # let _ = srv;
    /// ```
    pub fn max_header_bytes(mut self, n: usize) -> Server {
        self.cfg.max_header_bytes = if n == 0 { DEFAULT_MAX_HEADER_BYTES } else { n };
        self
    }

    /// Serves at most `n` connections at once (0: no limit): gonet's
    /// [`Server::max_conns`](crate::Server::max_conns), Go's `netutil.LimitListener`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().max_conns(10_000);
    /// # let _ = srv;
    /// ```
    pub fn max_conns(mut self, n: usize) -> Server {
        self.core = self.core.max_conns(n);
        self
    }

    /// Turns HTTP keep-alive on or off: off, every response closes its connection (and
    /// says `Connection: close`). Go: `Server.SetKeepAlivesEnabled`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new();
    /// srv.set_keep_alives_enabled(false);
    /// ```
    pub fn set_keep_alives_enabled(&self, v: bool) {
        self.cfg.keep_alives.store(v, Ordering::Release);
        if !v {
            let _ = self.core.close_idle_conns();
        }
    }

    /// Registers `f` to run, in a coroutine of its own, when [`shutdown`](Server::shutdown)
    /// starts, as the listeners close: for long-lived connections (hijacked ones, say)
    /// to wrap up. Go: `Server.RegisterOnShutdown`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new();
    /// srv.register_on_shutdown(|| log::info!("shutting down"));
    /// ```
    pub fn register_on_shutdown(&self, f: impl Fn() + Send + Sync + 'static) {
        // Go: `go f()` for each, so a slow one holds up nothing.
        let f = Arc::new(f);
        let _ = self.core.clone().on_shutdown(move || {
            let f = f.clone();
            crate::go!(move || f());
        });
    }

    /// Listens on TCP [`addr`](Server::addr) and serves. Go: `Server.ListenAndServe`;
    /// always returns an error: [`Error::ServerClosed`] after a shutdown, or why it
    /// could not listen or accept.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new().addr("127.0.0.1:99999");
    /// let err = srv.listen_and_serve().unwrap_err();
    /// assert_eq!(err.to_string(), "listen tcp: address 99999: invalid port");
    /// ```
    pub fn listen_and_serve(&self) -> io::Result<()> {
        if self.core.is_stopping() {
            return Err(Error::ServerClosed.into());
        }
        let addr = if self.cfg.addr.is_empty() {
            ":http"
        } else {
            self.cfg.addr.as_str()
        };
        let ln = listen("tcp", addr)?;
        self.serve(ln)
    }

    /// Serves HTTP on every connection `ln` accepts, each in its own coroutine, until
    /// the listener fails or the server shuts down. `ln` is any gonet [`Listener`]:
    /// TCP, Unix, one inherited from systemd. Go: `Server.Serve`; always returns an
    /// error: [`Error::ServerClosed`] after [`shutdown`](Server::shutdown) or
    /// [`close`](Server::close), at once.
    ///
    /// ```
    /// use gonet::net::http;
    /// let srv = http::Server::new();
    /// srv.close();
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// assert_eq!(srv.serve(ln).unwrap_err().to_string(), "http: Server closed");
    /// ```
    pub fn serve(&self, ln: impl Into<Arc<Listener>>) -> io::Result<()> {
        let ln: Arc<Listener> = ln.into();
        let cfg = self.cfg.clone();
        let handler = cfg.handler.clone().unwrap_or_else(default_handler);
        let r = self.core.serve_tracked(
            ln.clone(),
            move |conn, track| serve_conn(&cfg, &*handler, conn.into(), track),
            false,
        );
        if self.core.is_stopping() {
            return Err(Error::ServerClosed.into());
        }
        r?;
        // The listener was closed by someone else: Go's Serve returns the accept error.
        Err(ln.accept().err().unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "use of closed network connection",
            )
        }))
    }

    /// Shuts down gracefully: closes the listeners (the `serve` calls return
    /// [`Error::ServerClosed`] at once), runs the
    /// [`register_on_shutdown`](Server::register_on_shutdown) functions, then closes the
    /// idle connections and waits, polling (1 ms, doubling to 500 ms), until the busy
    /// ones have finished their response and closed, or `ctx` is done: then it returns
    /// `ctx`'s error ("context deadline exceeded", "context canceled") and leaves the
    /// busy connections be (call [`close`](Server::close) to cut them). A busy
    /// connection's response says `Connection: close`.
    ///
    /// Go: `Server.Shutdown(ctx)`. As in Go, the contexts of requests in flight are not
    /// cancelled by it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gonet::context;
    /// use gonet::net::http;
    ///
    /// let srv = http::Server::new().handler(|w: &mut dyn http::ResponseWriter, _r: &mut http::Request| {
    ///     let _ = w.write(b"hi");
    /// });
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let s = srv.clone();
    /// let serving = gonet::go!(move || s.serve(ln));
    ///
    /// // ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
    /// // defer cancel()
    /// // if err := srv.Shutdown(ctx); err != nil { log.Fatal(err) }
    /// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(5));
    /// srv.shutdown(&ctx).unwrap();
    /// cancel();
    /// assert_eq!(serving.join().unwrap().unwrap_err().to_string(), "http: Server closed");
    /// ```
    pub fn shutdown(&self, ctx: &Context) -> io::Result<()> {
        self.core.stop_accepting();
        let mut interval = Duration::from_millis(1);
        loop {
            if self.core.close_idle_conns() {
                return Ok(());
            }
            // Go: select { case <-ctx.Done(): return ctx.Err(); case <-timer.C: }
            if let Some(e) = ctx.err() {
                return Err(e);
            }
            crate::select! {
                recv(ctx.done()) => {}
                recv(crate::time::after(interval)) => {}
            }
            interval = (interval * 2).min(Duration::from_millis(500));
        }
    }

    /// [`shutdown`](Server::shutdown) with a context that times out after `timeout`:
    /// `srv.shutdown(&context::with_timeout(&context::background(), timeout).0)`.
    ///
    /// ```
    /// let srv = gonet::net::http::Server::new();
    /// srv.shutdown_timeout(std::time::Duration::from_secs(1)).unwrap();
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration) -> io::Result<()> {
        let (ctx, cancel) = context::with_timeout(&context::background(), timeout);
        let r = self.shutdown(&ctx);
        cancel();
        r
    }

    /// Closes the listeners and every connection at once, busy or not. Go: `Server.Close`.
    ///
    /// ```
    /// gonet::net::http::Server::new().close();
    /// ```
    pub fn close(&self) {
        self.core.stop_accepting();
        self.core.close_all_conns();
    }
}

fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Listens on TCP `addr` and serves `handler` (`None`: the default mux) with a
/// default [`Server`]. Go: `http.ListenAndServe(addr, handler)`.
///
/// ```no_run
/// use gonet::net::http;
/// fn hello(w: &mut dyn http::ResponseWriter, _r: &mut http::Request) {
///     let _ = w.write(b"Hello, World!");
/// }
/// // log.Fatal(http.ListenAndServe(":8080", http.HandlerFunc(hello)))
/// let err = http::listen_and_serve(":8080", http::HandlerFunc(hello)).unwrap_err();
/// eprintln!("{err}");
/// ```
pub fn listen_and_serve(addr: &str, handler: impl IntoHandler) -> io::Result<()> {
    Server::new().addr(addr).handler(handler).listen_and_serve()
}

/// Serves `handler` (`None`: the default mux) on every connection `ln` accepts, with a
/// default [`Server`]. Go: `http.Serve(l, handler)`.
///
/// ```no_run
/// use gonet::net::http;
/// let ln = gonet::net::listen("tcp", ":8080").unwrap();
/// let err = http::serve(ln, http::not_found_handler()).unwrap_err();
/// eprintln!("{err}");
/// ```
pub fn serve(ln: impl Into<Arc<Listener>>, handler: impl IntoHandler) -> io::Result<()> {
    Server::new().handler(handler).serve(ln)
}
