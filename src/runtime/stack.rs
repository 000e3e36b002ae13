//! Coroutine stacks: what Go's `runtime/stack.go` does for goroutines, done for may's
//! fixed-size coroutine stacks.
//!
//! A may coroutine runs on a stack that `generator` 0.8.12 maps for it (`Stack::new`): one
//! anonymous `mmap` of the stack size plus two pages, whose lowest page is made `PROT_NONE`
//! (`mprotect`) as the guard, and whose lowest usable 8 words get a sentinel
//! (`0xDEADBEEF`) that may reads back when the coroutine ends (`Done::drop_coroutine`:
//! a missing sentinel reads as "stack overflow detected" and exits the process). Left
//! alone that costs two kernel mappings and two resident pages per coroutine: about
//! 32,700 coroutines under the default `vm.max_map_count` of 65530, 8 KiB each.
//!
//! gonet keeps generator's stacks and changes what they cost, from inside each coroutine
//! it starts ([`enter`], first thing in the coroutine):
//!
//! - **The guard costs no mapping** (Linux 6.13+): the `PROT_NONE` page becomes a
//!   lightweight guard (`madvise(MADV_GUARD_INSTALL)`: a page-table marker that faults
//!   like the unmapped page it replaces) and is made read-write again, so the stack is one
//!   plain anonymous mapping that the kernel merges with its neighbours. A new stack only
//!   merges if it is converted before the next one is mapped (the kernel picks a new
//!   mapping's `anon_vma` at its first fault, from a compatible neighbour), so the
//!   conversion runs on the spawning thread: every gonet spawn starts the coroutine there
//!   (`proc::spawn`, may's `spawn_local`) and [`enter`] is its first call. Measured:
//!   1,000,000 parked coroutines in about 105 mappings (the rest of the process's
//!   included; may's pool is warmed the same way, `stack_pool.rs`). On older kernels the
//!   `mprotect` guard stays (two mappings per stack: see [`super::max_map_count`]).
//! - **The sentinel page is released** once the coroutine runs (`MADV_DONTNEED` on the
//!   pages below its first frame, which also frees what the stack's previous user left
//!   there), and the sentinel is written back when the coroutine ends, before may looks
//!   for it: a parked coroutine holds one page, not two. On a new stack that happens as
//!   the coroutine starts; on a stack reused from may's pool (whose sentinel page the
//!   previous user wrote back) at its first gonet park ([`before_park`]: a channel, lock
//!   or timer wait, the netpoller), so that a coroutine that ends without parking costs
//!   no system call and no page fault, as a Go goroutine reusing a free stack costs none.
//! - **An overflow is fatal, as in Go**: a `SIGSEGV` at the stack pointer of a coroutine
//!   prints Go's `runtime: goroutine stack exceeds N-byte limit` and `fatal error: stack
//!   overflow` and exits with status 2. (generator's own handler prints "coroutine has
//!   overflowed its stack" and abandons the coroutine without unwinding it: the locks it
//!   held stay locked and the process runs on half-broken.)
//! - **A spawn that cannot get a stack says why**: [`spawn`] returns an error naming the
//!   limit that was hit (`vm.max_map_count`, `RLIMIT_AS`, memory) instead of letting
//!   generator panic (with `RUST_BACKTRACE` set, that panic deadlocks: printing the
//!   backtrace needs a mapping too, the allocation fails, and the out-of-memory hook waits
//!   for the backtrace lock the panic holds).
//!
//! The layout facts this relies on are generator 0.8.12's and may 0.3.51's (both pinned in
//! Cargo.toml); tests/goroutines.rs fails loudly if one stops holding.
//!
//! The parts: which guard is in use (`stack_guard.rs`), finding a coroutine's stack from
//! a frame or a signal handler (`stack_locate.rs`), the overflow handler
//! (`stack_overflow.rs`), spawning and may's pool (`stack_spawn.rs`), the order of unmaps
//! (`stack_exit.rs`); this file is what a coroutine does to its own stack, from its
//! first frame to its end.

use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::stack_guard::{GUARD_KIND, MADV_GUARD_INSTALL};
use super::stack_locate::locate_running;
use super::stack_overflow::install_overflow_handler;
use super::stack_pool::POOL_ESTIMATE;

pub use super::stack_guard::{StackGuard, stack_guard};
pub(super) use super::stack_guard::{configured_stack_bytes, page_size};
#[doc(hidden)]
pub use super::stack_locate::__current_stack;
pub(super) use super::stack_locate::running_stack;
pub(super) use super::stack_overflow::fault_sp;
pub(super) use super::stack_pool::init_pool;
pub use super::stack_spawn::SpawnError;
pub(super) use super::stack_spawn::{address_space_limit, address_space_used};
pub(crate) use super::stack_spawn::{scan_hint, spawn};

// ---------------------------------------------------------------------------------------
// Pinned layout facts (generator 0.8.12, may 0.3.51)
// ---------------------------------------------------------------------------------------

/// generator's `STACK_SENTINEL`, written over the lowest `SENTINEL_WORDS` words of every
/// stack by `Stack::new` and compared by `Stack::get_used_size`.
const SENTINEL: usize = 0xDEAD_BEEF;
/// generator's `STACK_USAGE_SAMPLE`: the sentinel words of an even-sized stack.
const SENTINEL_WORDS: usize = 8;
/// gonet's word right above the sentinel: "this stack's guard has been converted". It
/// lives in the sentinel page and is written back with the sentinel.
const MARK: usize = 0x6b74_5354_656e_6f67; // "gonetStk"
/// Below the stack pointer of the frame that releases pages, this much is left alone
/// (the frames of `madvise` itself run there).
const RELEASE_MARGIN: usize = 2048;

// ---------------------------------------------------------------------------------------
// Counters (for tests and the benchmark; not part of the API)
// ---------------------------------------------------------------------------------------

static CONVERTED: AtomicUsize = AtomicUsize::new(0);
static RELEASED: AtomicUsize = AtomicUsize::new(0);
static UNMANAGED: AtomicUsize = AtomicUsize::new(0);
pub(super) static FAILED: AtomicUsize = AtomicUsize::new(0);

/// What gonet did to coroutine stacks so far. Not part of the API: for tests and bench/.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct StackStats {
    /// Guards converted to lightweight guard markers (one per new stack).
    pub converted: usize,
    /// Coroutines whose unused pages (the sentinel page first) were released.
    pub released: usize,
    /// Coroutines whose stack gonet could not locate (left as generator made it).
    pub unmanaged: usize,
    /// Spawns that failed for want of a stack.
    pub failed: usize,
    /// Coroutines that waited at their end for their stack's turn to be unmapped.
    pub exits_ordered: usize,
    /// Spawns queued on the spawning worker's own run queue (not through the injector).
    pub spawned_local: usize,
}

#[doc(hidden)]
pub fn __stack_stats() -> StackStats {
    StackStats {
        converted: CONVERTED.load(Ordering::Relaxed),
        released: RELEASED.load(Ordering::Relaxed),
        unmanaged: UNMANAGED.load(Ordering::Relaxed),
        failed: FAILED.load(Ordering::Relaxed),
        exits_ordered: super::stack_exit::GATED.load(Ordering::Relaxed),
        spawned_local: super::proc::LOCAL_SPAWNS.load(Ordering::Relaxed),
    }
}

// ---------------------------------------------------------------------------------------
// Inside a coroutine: locate its stack, convert the guard, release pages
// ---------------------------------------------------------------------------------------

/// A coroutine's hold on its own stack, from its first frame to its end.
pub(crate) struct Frame {
    /// The lowest usable address (generator's `SysStack::bottom`): the sentinel is here
    /// and the guard page right below.
    bottom: usize,
    /// Whether the stack is new (generator just wrote its sentinel page): released at
    /// once. A pooled one is released at the coroutine's first park ([`before_park`]).
    fresh: bool,
    /// Whether the coroutine waited for its turn to leave (see `stack_exit`).
    gated: bool,
}

/// Locates the running coroutine's stack from one of its frames, converts its guard if it
/// is new and installs the overflow handler; `None` outside a coroutine, or for a stack
/// gonet does not recognise (left exactly as generator made it). `scan` bounds how far
/// above this frame generator's context may be.
#[inline(never)]
pub(crate) fn enter(scan: usize) -> Option<Frame> {
    let Some(bottom) = locate_running(scan)? else {
        UNMANAGED.fetch_add(1, Ordering::Relaxed);
        return None;
    };
    let words = bottom as *const usize;
    // SAFETY: `locate_running` checked that [bottom, bottom + the stack size) is this
    // coroutine's own stack (generator's context says so); its lowest words are mapped
    // and readable.
    let (sentinel, marked) = unsafe {
        (
            (0..SENTINEL_WORDS).all(|i| std::ptr::read_volatile(words.add(i)) == SENTINEL),
            std::ptr::read_volatile(words.add(SENTINEL_WORDS)) == MARK,
        )
    };
    if !sentinel {
        // Not the state generator or gonet leaves a stack in: touch nothing.
        UNMANAGED.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    install_overflow_handler();
    if !marked {
        convert_guard(bottom);
    }
    Some(Frame {
        bottom,
        fresh: !marked,
        gated: false,
    })
}
/// Replaces the `PROT_NONE` guard below `bottom` with a guard marker and makes the page
/// read-write again, so that the stack is one mapping that merges with its neighbours.
fn convert_guard(bottom: usize) {
    if stack_guard() != StackGuard::Lightweight {
        return;
    }
    let page = page_size();
    let guard = (bottom - page) as *mut libc::c_void;
    // SAFETY: `guard` is the guard page generator put below this coroutine's stack; the
    // marker goes on first, so the page is never accessible.
    unsafe {
        if libc::madvise(guard, page, MADV_GUARD_INSTALL) != 0 {
            // The PROT_NONE guard stays: still a guard, still two mappings.
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                GUARD_KIND.store(2, Ordering::Relaxed);
            }
            return;
        }
        if libc::mprotect(guard, page, libc::PROT_READ | libc::PROT_WRITE) == 0 {
            CONVERTED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Frame {
    /// Releases the pages below the caller's frame: the sentinel page and whatever the
    /// stack's previous user left resident. Called from the coroutine's first frame, once
    /// it runs on its worker.
    #[inline(never)]
    pub(crate) fn release(&mut self) {
        let page = page_size();
        let here = 0u8;
        let sp = std::hint::black_box(&here) as *const u8 as usize;
        let end = sp.saturating_sub(RELEASE_MARGIN) & !(page - 1);
        if end <= self.bottom {
            return;
        }
        // SAFETY: [bottom, end) lies below every live frame of this coroutine (it is the
        // coroutine itself that calls, from its first frame) and above its guard: nothing
        // there is in use. The sentinel is written back in `drop`.
        let rc = unsafe {
            libc::madvise(
                self.bottom as *mut _,
                end - self.bottom,
                libc::MADV_DONTNEED,
            )
        };
        if rc == 0 {
            RELEASED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// The running coroutine's pending release, armed by [`run`] on a pooled stack:
    /// (its stack's bottom, the address of its [`Deferred`] word, the token in it);
    /// all 0 when none.
    static DEFERRED: Cell<(usize, usize, usize)> = const { Cell::new((0, 0, 0)) };
}

/// Tokens for [`Deferred`]: odd, never 0.
static TOKENS: AtomicUsize = AtomicUsize::new(1);

/// A pending release of a pooled stack's pages, in the coroutine's first frame: its word
/// holds a token while the frame lives, so a park on this thread tells whether it runs
/// on the coroutine that armed the release (a stale entry, left by a coroutine that
/// parked where gonet does not see it, names a stack the running coroutine is not on,
/// or a frame that no longer holds its token).
#[repr(transparent)]
struct Deferred(usize);

impl Deferred {
    // Thread-local readers are never inlined (see `proc::mark`): `drop` runs after the
    // coroutine may have moved threads.
    #[inline(never)]
    fn arm(&mut self, bottom: usize) {
        let token = TOKENS.fetch_add(2, Ordering::Relaxed) | 1;
        // SAFETY: a valid, aligned field of self, which stays in place (its address
        // escapes below) until it is dropped.
        unsafe { std::ptr::write_volatile(&mut self.0, token) };
        let at = std::hint::black_box(&self.0) as *const usize as usize;
        DEFERRED.set((bottom, at, token));
    }
}

impl Drop for Deferred {
    #[inline(never)]
    fn drop(&mut self) {
        let at = &self.0 as *const usize as usize;
        // SAFETY: a valid, aligned field of self. Cleared so that the stack's next user
        // cannot be taken for this coroutine.
        unsafe { std::ptr::write_volatile(&mut self.0, 0) };
        if DEFERRED.get().1 == at {
            DEFERRED.set((0, 0, 0));
        }
    }
}

/// Called by gonet's park points (`Parker::park`, the netpoller, `select!`) right before
/// the coroutine parks: the first park of a coroutine on a pooled stack releases the
/// pages below it (Go's parked goroutine holds only the stack it uses). Costs one
/// thread-local read otherwise.
#[inline(never)]
pub(crate) fn before_park() {
    let (bottom, at, token) = DEFERRED.get();
    if token != 0 {
        release_deferred(bottom, at, token);
    }
}

#[cold]
#[inline(never)]
fn release_deferred(bottom: usize, at: usize, token: usize) {
    DEFERRED.set((0, 0, 0));
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    let top = bottom + configured_stack_bytes();
    // This frame must be on the armed stack (then that stack is the running coroutine's
    // own, and mapped: a stack has one user at a time), the armed word above this frame,
    // and the word must still hold its token: then the running coroutine is the one that
    // armed it (its first frame is live).
    if sp <= bottom || sp >= top || at <= sp || at >= top {
        return;
    }
    // SAFETY: `at` lies in the running coroutine's own stack above this frame: mapped,
    // and aligned (it was a usize's address).
    if unsafe { std::ptr::read_volatile(at as *const usize) } != token {
        return;
    }
    let page = page_size();
    let end = sp.saturating_sub(RELEASE_MARGIN) & !(page - 1);
    if end <= bottom {
        return;
    }
    // SAFETY: [bottom, end) lies below every live frame of the running coroutine (this
    // frame is its deepest) and above its guard; the coroutine is gonet's (its first frame
    // armed the release), so the sentinel is written back when it ends.
    if unsafe { libc::madvise(bottom as *mut _, end - bottom, libc::MADV_DONTNEED) } == 0 {
        RELEASED.fetch_add(1, Ordering::Relaxed);
    }
}

impl Frame {
    /// The coroutine's function has returned. If its stack is about to be unmapped (may's
    /// pool looks full) while the process has many mappings, waits until unmapping it
    /// does not cut a shared mapping in two (see `stack_exit`).
    fn before_exit(&mut self) {
        if stack_guard() == StackGuard::Lightweight
            && POOL_ESTIMATE.load(Ordering::Relaxed) >= may::config().get_pool_capacity()
        {
            self.gated = super::stack_exit::wait_turn(self.bottom);
        }
    }
}

impl Drop for Frame {
    /// The coroutine ends (returns, panics or is cancelled): the sentinel and gonet's mark
    /// go back before may checks the sentinel.
    fn drop(&mut self) {
        let words = self.bottom as *mut usize;
        // SAFETY: the coroutine is back in its first frame: the bottom of its stack holds
        // no live frame, and it is mapped read-write. (Written whether or not its page was
        // released: a page still resident costs no fault.)
        unsafe {
            for i in 0..SENTINEL_WORDS {
                std::ptr::write_volatile(words.add(i), SENTINEL);
            }
            std::ptr::write_volatile(words.add(SENTINEL_WORDS), MARK);
        }
        if self.gated {
            super::stack_exit::left();
        }
    }
}

/// The body of a coroutine that warms may's pool (`stack_pool::warm`): its guard is
/// converted (by `enter`, before the next stack is mapped), it parks until the warm-up
/// lets it go, and it ends with the sentinel and gonet's mark back, so the next user of
/// its stack finds it converted. Its sentinel page is not released: it would be written
/// back at once.
pub(super) fn hold_for_pool(scan: usize) {
    let _ended = Ended; // dropped after `frame`
    let frame = enter(scan);
    may::coroutine::park();
    drop(frame);
}

/// Dropped last in a gonet coroutine: its stack is about to go back to may's pool (if the
/// pool has room: may keeps `get_pool_capacity()` finished coroutines).
struct Ended;

impl Drop for Ended {
    fn drop(&mut self) {
        let capacity = may::config().get_pool_capacity();
        let _ = POOL_ESTIMATE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < capacity).then_some(n + 1)
        });
    }
}

/// Runs a coroutine's function `f` on the stack `enter` found: releases the pages below
/// (now that the coroutine runs on its worker), and at the end waits for its turn to
/// leave if that matters (`stack_exit`) and writes the sentinel back (`Frame`'s drop).
pub(crate) fn run<T>(frame: Option<Frame>, f: impl FnOnce() -> T) -> T {
    let _ended = Ended; // dropped after `frame`
    let mut frame = frame;
    let mut deferred = Deferred(0); // dropped before `frame`
    if let Some(frame) = frame.as_mut() {
        if frame.fresh {
            frame.release();
        } else {
            deferred.arm(frame.bottom);
        }
    }
    let result = f();
    drop(deferred);
    if let Some(frame) = frame.as_mut() {
        frame.before_exit();
    }
    result
}

#[cfg(test)]
#[path = "stack_test.rs"]
mod tests;
