//! What an idle keep-alive connection holds: its coroutine's stack, its `Request` and
//! header strings, and none of its three I/O buffers (read buffer, output buffer,
//! body buffer: 10 KiB).
//!
//! Go's idle `conn` keeps its 4 KiB `bufio.Reader` and 4 KiB `bufio.Writer` while it
//! waits in `bufr.Peek`/`readRequest` (only the response's 2 KiB writer goes back to a
//! pool after each request). Here a connection about to wait for its client's next
//! request, with nothing buffered either way, lends its buffers to a small pool (its
//! worker's) and parks until the socket is readable
//! ([`net::Conn::readable`](crate::net::Conn::readable)), then takes a set back, so its
//! memory per idle connection is the stack and the request alone. A pool keeps at most
//! [`POOL_MAX`] sets (the busy connections' share); a set past that goes back to the
//! allocator, and a connection that finds the pool empty allocates a new one. In steady
//! keep-alive traffic every set comes back from the pool: no allocation per request.
//!
//! The pool is per thread (each may worker has its own). A connection takes a set back
//! right after its coroutine resumes and lends it again just before it parks next, with
//! no park in between unless the handler blocks: both ends of that stretch run on the
//! same worker, whichever it is (a stolen coroutine included), so no pool drains into
//! another. One pool behind a mutex shared by the workers cost two lock round trips per
//! request on a cache line that moved between the cores with the requests
//! (bench/PROFILE.md section 8).

use std::cell::RefCell;
use std::mem::take;

use super::response::ConnOut;
use super::tls::Conn;
use super::transfer::Input;

/// The most buffer sets a thread's pool keeps: about 650 KiB (128 sets, 1.3 MiB, on
/// may's default two workers, what the one shared pool kept). A thread's busy
/// connections each hold one set only from their resume to their next park, so a
/// worker rarely has more than a few out at once.
const POOL_MAX: usize = 64;

/// A connection's I/O buffers, lent while it idles.
struct Set {
    input: Vec<u8>,
    out: Vec<u8>,
    bw: Vec<u8>,
}

thread_local! {
    /// This thread's sets. Borrowed only inside `put` and `get`, which neither park nor
    /// call out, so a coroutine never holds the borrow across a switch of threads.
    static POOL: RefCell<Vec<Set>> = const { RefCell::new(Vec::new()) };
}

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

// Not inlined (like every thread-local reader that runs in a coroutine): inlined into
// `wait_readable`, the address of this thread's POOL computed before the park could be
// used after the coroutine resumed on another worker, and two threads would share one
// RefCell.
#[inline(never)]
fn put(s: Set) {
    // A set past the limit (or on a thread that is exiting) goes back to the allocator.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_MAX {
            pool.push(s);
        }
    });
}

// Not inlined: see `put`.
#[inline(never)]
fn get() -> Set {
    let pooled = POOL.try_with(|pool| pool.borrow_mut().pop()).ok().flatten();
    pooled.unwrap_or_else(|| Set {
        input: Input::new_buf(),
        out: ConnOut::new_out(),
        bw: ConnOut::new_bw(),
    })
}
