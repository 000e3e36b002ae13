//! Go's `http.TimeoutHandler` (server.go `timeoutHandler` and `timeoutWriter`).

use std::any::Any;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::errors::Error;
use super::handler::{Handler, ResponseWriter};
use super::header::Header;
use super::request::Request;
use super::response::check_write_header_code;
use super::status::STATUS_SERVICE_UNAVAILABLE;
use crate::context::{self, is_deadline_exceeded};

/// Go's default body of the 503 a timed-out handler gets.
const DEFAULT_BODY: &str =
    "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>";

/// Runs `h` with a time limit of `dt`: a handler that has not returned by then gets
/// its client a `503 Service Unavailable` with `msg` as the body (Go's HTML "Timeout"
/// page when `msg` is empty), and from then on its writes fail with
/// [`Error::HandlerTimeout`] ("http: Handler timeout"). The request's context carries
/// the deadline, so a handler that watches [`Request::context`] stops at once.
///
/// Go: `http.TimeoutHandler(h, dt, msg)`. As there, `h` runs in a coroutine of its own
/// and its response is buffered until it returns; its writer cannot flush or hijack.
/// A panic in `h` is raised again in the server's coroutine (and so closes the
/// connection, with Go's log line).
///
/// ```
/// use std::time::Duration;
/// use gonet::net::http::{self, Handler, Request, ResponseWriter};
///
/// let slow = |w: &mut dyn ResponseWriter, r: &mut Request| {
///     let ctx = r.context();
///     gonet::select! {
///         recv(gonet::time::after(Duration::from_secs(10))) => {}
///         recv(ctx.done()) => {}
///     }
///     // Too late: the client has had its 503.
///     assert_eq!(w.write(b"done").unwrap_err().to_string(), "http: Handler timeout");
/// };
/// let h = http::timeout_handler(slow, Duration::from_millis(20), "too slow\n");
/// let mut rec = http::httptest::ResponseRecorder::new();
/// h.serve_http(&mut rec, &mut http::httptest::new_request("GET", "/", ""));
/// assert_eq!(rec.code, 503);
/// assert_eq!(rec.body_string(), "too slow\n");
/// ```
pub fn timeout_handler(h: impl Handler + 'static, dt: Duration, msg: &str) -> TimeoutHandler {
    TimeoutHandler {
        handler: Arc::new(h),
        dt,
        body: msg.to_string(),
    }
}

/// The handler [`timeout_handler`] returns. Go: the unexported `timeoutHandler`.
#[derive(Clone)]
pub struct TimeoutHandler {
    handler: Arc<dyn Handler>,
    dt: Duration,
    body: String,
}

impl std::fmt::Debug for TimeoutHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutHandler")
            .field("dt", &self.dt)
            .field("body", &self.body)
            .finish()
    }
}

/// What the handler's writer and the waiting side share. Go: `timeoutWriter`'s fields
/// under `mu`.
#[derive(Default)]
struct Shared {
    wbuf: Vec<u8>,
    code: u16,
    wrote_header: bool,
    /// Set when the time ran out (or the request's context was cancelled): every later
    /// write fails.
    err: Option<Stop>,
    /// The handler's header, handed over when it returns.
    header: Option<Header>,
}

fn lock(s: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why the handler's writes fail: Go's `tw.err`.
#[derive(Clone, Copy)]
enum Stop {
    /// `ErrHandlerTimeout`.
    Timeout,
    /// The context's error, "context canceled".
    Canceled,
}

impl Stop {
    fn error(self) -> io::Error {
        match self {
            Stop::Timeout => Error::HandlerTimeout.into(),
            Stop::Canceled => context::Canceled.into(),
        }
    }
}

/// Go: `timeoutWriter`.
struct TimeoutWriter {
    h: Header,
    shared: Arc<Mutex<Shared>>,
}

impl TimeoutWriter {
    /// Go: `timeoutWriter.writeHeaderLocked`.
    fn write_header_locked(s: &mut Shared, code: u16) {
        check_write_header_code(code);
        if s.err.is_some() {
            return;
        }
        if s.wrote_header {
            log::error!("http: superfluous response.WriteHeader call");
            return;
        }
        s.wrote_header = true;
        s.code = code;
    }
}

impl ResponseWriter for TimeoutWriter {
    fn header(&mut self) -> &mut Header {
        &mut self.h
    }

    fn write(&mut self, p: &[u8]) -> io::Result<usize> {
        let mut s = lock(&self.shared);
        if let Some(e) = s.err {
            return Err(e.error());
        }
        if !s.wrote_header {
            TimeoutWriter::write_header_locked(&mut s, 200);
        }
        s.wbuf.extend_from_slice(p);
        Ok(p.len())
    }

    fn write_header(&mut self, code: u16) {
        let mut s = lock(&self.shared);
        TimeoutWriter::write_header_locked(&mut s, code);
    }
}

type Outcome = Option<Box<dyn Any + Send>>;

impl Handler for TimeoutHandler {
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        // ctx, cancelCtx := context.WithTimeout(r.Context(), h.dt); defer cancelCtx()
        let (ctx, cancel) = context::with_timeout(&r.context(), self.dt);
        // r = r.WithContext(ctx): the handler's coroutine owns its request.
        let mut inner = r.hand_off();
        inner.set_context(ctx.clone());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (done_tx, done) = crate::chan::<(Outcome, Request)>(1);
        let tw_shared = shared.clone();
        let handler = self.handler.clone();
        crate::go!(move || {
            let mut tw = TimeoutWriter {
                h: Header::new(),
                shared: tw_shared,
            };
            let res = catch_unwind(AssertUnwindSafe(|| handler.serve_http(&mut tw, &mut inner)));
            lock(&tw.shared).header = Some(std::mem::take(&mut tw.h));
            let _ = done_tx.send((res.err(), inner));
        });
        let ended = crate::select! {
            recv(done) -> v => v,
            recv(ctx.done()) => None,
        };
        match ended {
            Some((Some(panic), back)) => {
                r.take_back(back);
                cancel();
                std::panic::resume_unwind(panic);
            }
            Some((None, back)) => {
                r.take_back(back);
                let mut s = lock(&shared);
                if let Some(h) = s.header.take() {
                    let dst = w.header();
                    for (k, vs) in h.iter() {
                        let vs: Vec<&str> = vs.iter().map(String::as_str).collect();
                        dst.set_values(k, &vs);
                    }
                }
                let code = if s.wrote_header { s.code } else { 200 };
                w.write_header(code);
                let _ = w.write(&s.wbuf);
                s.wbuf = Vec::new();
            }
            None => {
                let mut s = lock(&shared);
                w.write_header(STATUS_SERVICE_UNAVAILABLE);
                let timed_out = ctx.err().is_some_and(|e| is_deadline_exceeded(&e));
                if timed_out {
                    let body = if self.body.is_empty() {
                        DEFAULT_BODY
                    } else {
                        &self.body
                    };
                    let _ = w.write(body.as_bytes());
                    s.err = Some(Stop::Timeout);
                } else {
                    // The client went away (the server cancelled the request's context).
                    s.err = Some(Stop::Canceled);
                }
            }
        }
        cancel();
    }
}
