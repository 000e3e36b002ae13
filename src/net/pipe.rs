//! `pipe()`: Go's synchronous, in-memory, full-duplex `net.Pipe`.
//!
//! Go: `src/net/pipe.go`. Each end is a [`Conn`]; a write on one end blocks until reads
//! on the other have taken all of it, copying straight from the writer's buffer into
//! the reader's (there is no buffer in between). Go builds this from unbuffered
//! channels (`rdRx`/`wrTx` carry the writer's slice, `rdTx`/`wrRx` the count taken);
//! here one lock guards both directions and two condition variables wake their waiters:
//! the same hand-offs, with the copy made under the lock while the writer is parked.
//! Waits park the coroutine (a plain thread blocks), through gonet's `sync` primitives.
//!
//! Errors are Go's: `io: read/write on closed pipe` ([`ErrClosedPipe`], unwrapped) for
//! anything on an end after its own `close()` and for a write after the other end's,
//! end of stream (`Ok(0)`) for a read after the other end's close, and
//! `read pipe: i/o timeout` / `write pipe: i/o timeout` once a deadline has passed.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::net::error::{DeadlineExceeded, Errno, OpError};
use crate::sync::{Condvar, Mutex, MutexGuard};

/// Reading from or writing to a pipe that is closed.
///
/// Go: `io.ErrClosedPipe`, "io: read/write on closed pipe", which `net.Pipe` returns
/// unwrapped. Its `io::ErrorKind` is `BrokenPipe`.
///
/// ```
/// let (a, _b) = gonet::net::pipe();
/// a.close().unwrap();
/// let err = a.write(b"x").unwrap_err();
/// assert_eq!(err.to_string(), "io: read/write on closed pipe");
/// assert!(err.get_ref().unwrap().is::<gonet::net::ErrClosedPipe>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrClosedPipe;

impl fmt::Display for ErrClosedPipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("io: read/write on closed pipe")
    }
}

impl std::error::Error for ErrClosedPipe {}

impl From<ErrClosedPipe> for io::Error {
    fn from(e: ErrClosedPipe) -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, e)
    }
}

/// A synchronous, in-memory, full-duplex connection: two [`Conn`]s, where each write on
/// one blocks until reads on the other have taken all of it. Reads take what one write
/// offers, up to their buffer's size; concurrent writes do not interleave, concurrent
/// reads share the bytes. Deadlines, `close()` and the addresses (`pipe`) behave as in
/// Go; the socket-only calls (`set_nodelay`, `close_write`, `file` ...) fail with
/// "operation not supported".
///
/// Go: `net.Pipe()`, the Conn of nearly every Go test suite: a handler written for a
/// `Conn` is tested against one end while the test plays the client on the other.
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
/// let (client, server) = gonet::net::pipe();
/// let h = gonet::go!(move || {
///     // The handler under test: echo one line, upper-cased.
///     let mut line = String::new();
///     BufReader::new(&server).read_line(&mut line).unwrap();
///     (&server).write_all(line.to_uppercase().as_bytes()).unwrap();
/// });
/// (&client).write_all(b"hello\n").unwrap();
/// let mut back = String::new();
/// BufReader::new(&client).read_line(&mut back).unwrap();
/// assert_eq!(back, "HELLO\n");
/// assert_eq!(client.remote_addr().to_string(), "pipe");
/// h.join().unwrap();
/// ```
pub fn pipe() -> (Conn, Conn) {
    // What the ends lend as their `AsFd`, opened now while descriptors are likely free.
    let _ = crate::net::fd::placeholder();
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        changed: [Condvar::new(), Condvar::new()],
    });
    let end = |me| {
        Conn::from_pipe(Arc::new(End {
            shared: shared.clone(),
            me,
        }))
    };
    (end(0), end(1))
}

use crate::net::Conn;

/// One end of a pipe.
pub(crate) struct End {
    shared: Arc<Shared>,
    /// 0 or 1: this end's index into the shared state.
    me: usize,
}

struct Shared {
    state: Mutex<State>,
    /// `changed[d]`: something changed for the data written by end `d` (an offer, a
    /// take, a writer leaving), or for either end (close, deadlines). Readers of that
    /// data and writers of it wait here.
    changed: [Condvar; 2],
}

#[derive(Default)]
struct State {
    /// `closed[e]`: `close()` ran on end `e` (Go: `localDone` of `e`).
    closed: [bool; 2],
    /// `flows[d]`: the data end `d` writes and end `1 - d` reads.
    flows: [Flow; 2],
    read_deadline: [Option<Instant>; 2],
    write_deadline: [Option<Instant>; 2],
}

#[derive(Default)]
struct Flow {
    /// A writer holds the turn (Go: `wrMu`): a whole write goes before the next.
    writing: bool,
    /// What the writer offers now (Go: the slice sent on `wrTx`).
    offer: Option<Offer>,
    /// How much of the offer a reader took (Go: the count sent back on `rdTx`).
    taken: Option<usize>,
}

/// The unread part of a parked writer's buffer.
struct Offer {
    ptr: *const u8,
    len: usize,
}

// SAFETY: an Offer points into the buffer of a writer that is parked in `write` until
// the offer is taken or withdrawn, both under the state's lock (see `End::write`), so
// the bytes are valid and unchanged whenever a reader (on any thread) copies them.
unsafe impl Send for Offer {}

/// Why a call on an end stopped, before it becomes Go's error.
enum Stop {
    Closed,
    Eof,
    Timeout,
}

impl End {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; recover the state anyway.
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits on `changed[flow]` until notified or `deadline` passes.
    fn wait<'a>(
        &self,
        flow: usize,
        g: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, State> {
        let cv = &self.shared.changed[flow];
        match deadline {
            None => cv
                .wait(g)
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                match cv.wait_timeout(g, left.max(Duration::from_micros(1))) {
                    Ok((g, _)) => g,
                    Err(poisoned) => poisoned.into_inner().0,
                }
            }
        }
    }

    fn notify_all(&self) {
        self.shared.changed[0].notify_all();
        self.shared.changed[1].notify_all();
    }

    /// Go's checks at the top of `pipe.read`, and in its `select`: closed here, closed
    /// there (end of stream), deadline.
    fn read_stop(&self, s: &State) -> Option<Stop> {
        if s.closed[self.me] {
            Some(Stop::Closed)
        } else if s.closed[1 - self.me] {
            Some(Stop::Eof)
        } else if passed(s.read_deadline[self.me]) {
            Some(Stop::Timeout)
        } else {
            None
        }
    }

    /// Go's checks of `pipe.write`: either end closed, deadline.
    fn write_stop(&self, s: &State) -> Option<Stop> {
        if s.closed[self.me] || s.closed[1 - self.me] {
            Some(Stop::Closed)
        } else if passed(s.write_deadline[self.me]) {
            Some(Stop::Timeout)
        } else {
            None
        }
    }

    /// Takes what the other end's writer offers, up to `buf.len()`, if it offers
    /// something. An empty offer (a zero-length write) is taken and acknowledged but
    /// only ends a read with an empty buffer: for a Rust reader `Ok(0)` would mean end
    /// of stream (Go's `Read` returns `0, nil` there).
    fn take(&self, s: &mut State, buf: &mut [u8]) -> Option<usize> {
        let flow = &mut s.flows[1 - self.me];
        let offer = flow.offer.as_ref()?;
        let n = offer.len.min(buf.len());
        // SAFETY: see `unsafe impl Send for Offer`: the writer is parked with the
        // buffer borrowed until it sees `taken` (set below, under the same lock), so
        // `offer.ptr` is valid for `offer.len >= n` bytes; `buf` is a distinct `&mut`.
        unsafe { std::ptr::copy_nonoverlapping(offer.ptr, buf.as_mut_ptr(), n) };
        flow.offer = None;
        flow.taken = Some(n);
        self.shared.changed[1 - self.me].notify_all();
        (n > 0 || buf.is_empty()).then_some(n)
    }

    /// Go: `pipe.read`.
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.lock();
        if let Some(stop) = self.read_stop(&s) {
            return read_error(stop);
        }
        loop {
            if let Some(n) = self.take(&mut s, buf) {
                return Ok(n);
            }
            if let Some(stop) = self.read_stop(&s) {
                return read_error(stop);
            }
            let deadline = s.read_deadline[self.me];
            s = self.wait(1 - self.me, s, deadline);
        }
    }

    /// A read that does not wait: `WouldBlock` when nothing is offered.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.lock();
        if let Some(stop) = self.read_stop(&s) {
            return read_error(stop);
        }
        match self.take(&mut s, buf) {
            Some(n) => Ok(n),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Waits until a write is offered (or the read would fail).
    pub(crate) fn readable(&self) -> io::Result<()> {
        let mut s = self.lock();
        loop {
            match self.read_stop(&s) {
                Some(Stop::Eof) => return Ok(()),
                Some(stop) => return read_error(stop).map(|_| ()),
                None => {}
            }
            if s.flows[1 - self.me].offer.is_some() {
                return Ok(());
            }
            let deadline = s.read_deadline[self.me];
            s = self.wait(1 - self.me, s, deadline);
        }
    }

    /// Go: `pipe.write`: the whole of `buf` goes to readers of the other end before
    /// another write starts; returns once they have taken all of it. After a partial
    /// write that then fails, returns the count (the next call reports the error), as
    /// `Conn::write` does.
    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let me = self.me;
        let mut s = self.lock();
        if let Some(stop) = self.write_stop(&s) {
            return write_error(stop);
        }
        // Go: p.wrMu.Lock(), which waits for the writer before however long it takes.
        while s.flows[me].writing {
            s = self.wait(me, s, None);
        }
        s.flows[me].writing = true;
        let mut done = 0;
        let mut once = true;
        let result = loop {
            if !once && done == buf.len() {
                break Ok(done);
            }
            once = false;
            // Go: case p.wrTx <- b.
            let rest = &buf[done..];
            s.flows[me].offer = Some(Offer {
                ptr: rest.as_ptr(),
                len: rest.len(),
            });
            s.flows[me].taken = None;
            self.shared.changed[me].notify_all();
            let stopped = loop {
                if let Some(n) = s.flows[me].taken.take() {
                    done += n;
                    break None;
                }
                if let Some(stop) = self.write_stop(&s) {
                    break Some(stop);
                }
                let deadline = s.write_deadline[me];
                s = self.wait(me, s, deadline);
            };
            if let Some(stop) = stopped {
                // Withdraw the offer before `buf` goes back to the caller.
                s.flows[me].offer = None;
                break if done > 0 {
                    Ok(done)
                } else {
                    write_error(stop)
                };
            }
        };
        s.flows[me].writing = false;
        drop(s);
        self.shared.changed[me].notify_all();
        result
    }

    /// Go: `pipe.Close`: marks this end closed, waking everyone; never fails.
    pub(crate) fn close(&self) -> io::Result<()> {
        self.lock().closed[self.me] = true;
        self.notify_all();
        Ok(())
    }

    /// Go: `pipe.SetDeadline` / `SetReadDeadline` / `SetWriteDeadline`: refused with
    /// `ErrClosedPipe` once either end is closed.
    pub(crate) fn set_deadline(
        &self,
        t: Option<Instant>,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        let mut s = self.lock();
        if s.closed[0] || s.closed[1] {
            return Err(ErrClosedPipe.into());
        }
        if read {
            s.read_deadline[self.me] = t;
        }
        if write {
            s.write_deadline[self.me] = t;
        }
        drop(s);
        self.notify_all();
        Ok(())
    }
}

fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|t| Instant::now() >= t)
}

/// Go: `pipe.Read`'s errors: `io.ErrClosedPipe` and `io.EOF` as they are, anything else
/// in an `OpError`.
fn read_error(stop: Stop) -> io::Result<usize> {
    match stop {
        Stop::Closed => Err(ErrClosedPipe.into()),
        Stop::Eof => Ok(0),
        Stop::Timeout => Err(OpError::new("read", "pipe", DeadlineExceeded).into()),
    }
}

/// Go: `pipe.Write`'s errors.
fn write_error(stop: Stop) -> io::Result<usize> {
    match stop {
        Stop::Closed | Stop::Eof => Err(ErrClosedPipe.into()),
        Stop::Timeout => Err(OpError::new("write", "pipe", DeadlineExceeded).into()),
    }
}

/// The error of a socket-only call on a pipe: `OP pipe: operation not supported`.
pub(crate) fn unsupported(op: &'static str) -> io::Error {
    OpError::new(op, "pipe", Errno(libc::EOPNOTSUPP)).into()
}
