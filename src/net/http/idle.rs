//! What an idle keep-alive connection holds: its coroutine's stack, its `Request` and
//! header strings, and none of its three I/O buffers (read buffer, output buffer,
//! body buffer: 10 KiB).
//!
//! Go's idle `conn` keeps its 4 KiB `bufio.Reader` and 4 KiB `bufio.Writer` while it
//! waits in `bufr.Peek`/`readRequest` (only the response's 2 KiB writer goes back to a
//! pool after each request). Here a connection about to wait for its client's next
//! request, with nothing buffered either way, lends its buffers to a small pool shared
//! by all connections and parks until the socket is readable
//! ([`net::Conn::readable`](crate::net::Conn::readable)), then takes a set back, so its
//! memory per idle connection is the stack and the request alone. The pool keeps at most
//! [`POOL_MAX`] sets (the busy connections' share); a set past that goes back to the
//! allocator, and a connection that finds the pool empty allocates a new one. In steady
//! keep-alive traffic every set comes back from the pool: no allocation per request.

use std::mem::take;
use std::sync::{Mutex, PoisonError};

use super::response::ConnOut;
use super::tls::Conn;
use super::transfer::Input;

/// The most buffer sets the pool keeps: about 1.3 MiB.
const POOL_MAX: usize = 128;

/// A connection's I/O buffers, lent while it idles.
struct Set {
    input: Vec<u8>,
    out: Vec<u8>,
    bw: Vec<u8>,
}

static POOL: Mutex<Vec<Set>> = Mutex::new(Vec::new());

/// Waits, holding no buffer, until `input`'s connection may be readable; called where
/// the connection loop would block reading the next request with both directions
/// empty. Does nothing over TLS (rustls may hold decrypted bytes the socket no longer
/// shows) or when anything is buffered; a set whose buffers have grown (a large header
/// or answer) keeps them, as before. Errors (close, deadline) are left for the read
/// that follows, which reports them as it did.
pub(crate) fn wait_readable(input: &mut Input, out: &mut ConnOut) {
    let Conn::Plain(conn) = &input.conn else {
        return;
    };
    if !input.buffered().is_empty()
        || !out.out.is_empty()
        || !out.bw.is_empty()
        || !input.is_standard()
        || !out.is_standard()
    {
        return;
    }
    put(Set {
        input: take(&mut input.buf),
        out: take(&mut out.out),
        bw: take(&mut out.bw),
    });
    let _ = conn.readable();
    let s = get();
    input.buf = s.input;
    out.out = s.out;
    out.bw = s.bw;
}

fn put(s: Set) {
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < POOL_MAX {
        pool.push(s);
    }
}

fn get() -> Set {
    let pooled = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
    pooled.unwrap_or_else(|| Set {
        input: Input::new_buf(),
        out: ConnOut::new_out(),
        bw: ConnOut::new_bw(),
    })
}
