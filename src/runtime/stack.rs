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
//!   1,000,000 parked coroutines in about 2,100 mappings (the rest of the process's
//!   included). On older kernels the `mprotect`
//!   guard stays (two mappings per stack: see [`super::max_map_count`]).
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

use std::cell::Cell;
use std::fmt;
use std::io;
use std::mem::size_of;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use may::coroutine::JoinHandle;

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
/// In generator's `Context` (`#[repr(C)]`), `stack_guard: (bottom, end)` follows
/// `local_data` after `err: Option<Box<dyn Any + Send>>` (two words).
const LOCAL_DATA_TO_GUARD: usize = 3 * size_of::<usize>();

/// `MADV_GUARD_INSTALL` (Linux 6.13, uapi asm-generic/mman-common.h); libc does not name it.
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Below the stack pointer of the frame that releases pages, this much is left alone
/// (the frames of `madvise` itself run there).
const RELEASE_MARGIN: usize = 2048;
/// Closures bigger than this are boxed, so that the frames between a coroutine's first
/// frame and generator's context (which hold copies of the closure) stay small.
const BOX_ABOVE: usize = 1024;
/// The frames above gonet's first frame in a coroutine, besides copies of the closure and
/// its result: generator's bootstrap, may's closure, catch_unwind.
const SCAN_BASE: usize = 8192;

// ---------------------------------------------------------------------------------------
// Which guard is in use
// ---------------------------------------------------------------------------------------

/// The kind of guard page below every coroutine stack.
///
/// Go: none (goroutine stacks are checked by the function prologue and grow by copying).
///
/// ```
/// match gonet::runtime::stack_guard() {
///     gonet::runtime::StackGuard::Lightweight => {} // Linux 6.13+: no mapping per stack
///     gonet::runtime::StackGuard::Mprotect => {}    // older kernels: two mappings per stack
///     _ => {}
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StackGuard {
    /// A page-table guard marker (`madvise(MADV_GUARD_INSTALL)`, Linux 6.13+): it costs
    /// no mapping, so stacks share mappings and `vm.max_map_count` does not bound the
    /// number of coroutines.
    Lightweight,
    /// A `PROT_NONE` page (`mprotect`), generator's own guard: every stack is two
    /// mappings, so `vm.max_map_count` / 2 bounds the number of live coroutines.
    Mprotect,
}

impl fmt::Display for StackGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StackGuard::Lightweight => "lightweight guard pages (MADV_GUARD_INSTALL)",
            StackGuard::Mprotect => "mprotect guard pages",
        })
    }
}

/// 0: not probed yet; 1: lightweight; 2: mprotect.
static GUARD_KIND: AtomicU8 = AtomicU8::new(0);

/// The guard kind in use for coroutine stacks: [`StackGuard::Lightweight`] where the
/// kernel supports guard markers (probed once, on a scratch mapping), else
/// [`StackGuard::Mprotect`]. `GONETDEBUG=stackguard=mprotect` in the environment keeps
/// the mprotect guards on any kernel, to see how a program runs on Linux before 6.13.
///
/// ```
/// let guard = gonet::runtime::stack_guard();
/// println!("coroutine stacks use {guard}");
/// ```
pub fn stack_guard() -> StackGuard {
    match GUARD_KIND.load(Ordering::Relaxed) {
        1 => StackGuard::Lightweight,
        2 => StackGuard::Mprotect,
        _ => {
            let kind = if !mprotect_forced() && probe_guard_markers() {
                1
            } else {
                2
            };
            GUARD_KIND.store(kind, Ordering::Relaxed);
            stack_guard()
        }
    }
}

/// Whether `GONETDEBUG` holds `stackguard=mprotect` (its comma-separated settings read
/// like Go's `GODEBUG`; runtime/sysmon.rs reads the others).
fn mprotect_forced() -> bool {
    std::env::var("GONETDEBUG").is_ok_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|item| item == "stackguard=mprotect")
    })
}

/// A fresh private anonymous read-write mapping of `len` bytes, or `None`.
fn map_anonymous(len: usize) -> Option<*mut libc::c_void> {
    // SAFETY: a new mapping at an address of the kernel's choosing touches no existing
    // memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p)
}

/// Whether `madvise(MADV_GUARD_INSTALL)` works here, tried on a mapping of our own.
fn probe_guard_markers() -> bool {
    let page = page_size();
    let Some(p) = map_anonymous(2 * page) else {
        return false;
    };
    // SAFETY: `p` is our own fresh mapping, used for nothing but this probe and unmapped
    // before returning.
    unsafe {
        let ok = libc::madvise(p, page, MADV_GUARD_INSTALL) == 0;
        libc::munmap(p, 2 * page);
        ok
    }
}

pub(super) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let p = usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096);
    PAGE.store(p, Ordering::Relaxed);
    p
}

/// The usable bytes of a stack of may's configured size, as generator maps it
/// (`SysStack::allocate`: the size rounded up to whole pages).
pub(super) fn configured_stack_bytes() -> usize {
    let page = page_size();
    let bytes = may::config()
        .get_stack_size()
        .saturating_mul(size_of::<usize>())
        .max(page);
    ((bytes - 1) & !(page - 1)) + page
}

// ---------------------------------------------------------------------------------------
// Counters (for tests and the benchmark; not part of the API)
// ---------------------------------------------------------------------------------------

static CONVERTED: AtomicUsize = AtomicUsize::new(0);
static RELEASED: AtomicUsize = AtomicUsize::new(0);
static UNMANAGED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

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

/// The running coroutine's stack as gonet sees it, `(bottom, top)`: its usable bytes,
/// above the guard page. `None` outside a coroutine or for a stack gonet does not manage.
/// Not part of the API: tests/goroutines.rs checks generator's layout with it (call it
/// near the start of a coroutine: it looks for generator's context above its own frame).
#[doc(hidden)]
#[inline(never)]
pub fn __current_stack() -> Option<(usize, usize)> {
    let local = generator::get_local_data() as usize;
    if local == 0 {
        return None;
    }
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    let bytes = configured_stack_bytes();
    locate(local, sp, 4 * SCAN_BASE, bytes, Reads::Direct).map(|bottom| (bottom, bottom + bytes))
}

/// The stack of the coroutine running on this thread, `(bottom, top)`, found from `sp`,
/// a stack pointer inside it (a signal handler's interrupted one); `None` outside a
/// coroutine or for a stack gonet does not manage. Async-signal-safe: it reads
/// generator's thread-local context and, through [`Reads::Probed`], the words above `sp`.
///
/// The signal can land in the middle of a context switch (generator's `swap_registers`),
/// where `sp` is already on the thread's own stack while generator's thread-local still
/// names the coroutine: a plain scan up from there runs off the top of that stack into
/// unmapped memory or a guard page, and faults inside the handler (seen in
/// tests/pipe.rs, about 1 run in 60, as a SIGSEGV of the whole test process).
pub(super) fn running_stack(sp: usize) -> Option<(usize, usize)> {
    let local = generator::get_local_data() as usize;
    if local == 0 || sp == 0 {
        return None;
    }
    let bytes = configured_stack_bytes();
    locate(local, sp, bytes, bytes, Reads::Probed).map(|bottom| (bottom, bottom + bytes))
}

/// How [`locate`] reads the words it looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Plain loads: the caller runs on the coroutine's own stack, so every word between
    /// its frame and generator's context is mapped.
    Direct,
    /// Each word through `process_vm_readv` on this process, which fails with `EFAULT`
    /// where a load would fault (unmapped memory, a guard page): for a signal handler,
    /// whose interrupted stack pointer may not be on the coroutine's stack at all. Only
    /// the fast path (one word per page) runs this way; without a learnt
    /// [`CONTEXT_OFFSET`] the stack is not located.
    Probed,
}

impl Reads {
    fn word(self, addr: usize) -> Option<usize> {
        match self {
            // SAFETY: `Direct` is used only where [addr, addr + 8) is on the caller's own
            // stack, below generator's context (see `locate`'s callers).
            Reads::Direct => Some(unsafe { std::ptr::read_volatile(addr as *const usize) }),
            Reads::Probed => probe_word(addr),
        }
    }
}

/// The word at `addr`, or `None` if reading it would fault. Async-signal-safe (two
/// system calls, no lock, no allocation).
fn probe_word(addr: usize) -> Option<usize> {
    let mut out = 0usize;
    let word = size_of::<usize>();
    let local = libc::iovec {
        iov_base: (&raw mut out).cast(),
        iov_len: word,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: word,
    };
    // SAFETY: the kernel writes at most `word` bytes into `out` and reads `addr` on our
    // behalf, failing with EFAULT instead of faulting; getpid has no preconditions.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    (n == word as isize).then_some(out)
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

/// `top - &context.local_data`, learnt from the first coroutine located by a full scan:
/// generator places its `GeneratorImpl` (the context inside it) at the top of the stack,
/// the same way every time.
static CONTEXT_OFFSET: AtomicUsize = AtomicUsize::new(0);

/// Locates the running coroutine's stack from one of its frames, converts its guard if it
/// is new and installs the overflow handler; `None` outside a coroutine, or for a stack
/// gonet does not recognise (left exactly as generator made it). `scan` bounds how far
/// above this frame generator's context may be.
#[inline(never)]
pub(crate) fn enter(scan: usize) -> Option<Frame> {
    let local = generator::get_local_data() as usize;
    if local == 0 {
        return None;
    }
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    let bytes = configured_stack_bytes();
    let Some(bottom) = locate(local, sp, scan, bytes, Reads::Direct) else {
        UNMANAGED.fetch_add(1, Ordering::Relaxed);
        return None;
    };
    let words = bottom as *const usize;
    // SAFETY: `locate` checked that [bottom, bottom + bytes) is this coroutine's own stack
    // (generator's context says so); its lowest words are mapped and readable.
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

/// Finds generator's context above `sp` by its `local_data` word, and returns the stack's
/// bottom from the context's `stack_guard`, checked against `bytes`.
fn locate(local: usize, sp: usize, scan: usize, bytes: usize, reads: Reads) -> Option<usize> {
    let page = page_size();
    let word = size_of::<usize>();
    // The context's own checks: its stack bottom is page-aligned, below this frame, the
    // stack is `bytes` long, and its `end` (the bump allocator's low mark) is between this
    // frame and the context.
    let check = |p: usize, top: usize| -> Option<usize> {
        // p and the two words after it lie between this frame and the top of the stack
        // (the callers only pass such p): mapped, for `Reads::Direct`.
        let bottom = reads.word(p + LOCAL_DATA_TO_GUARD)?;
        let end = reads.word(p + LOCAL_DATA_TO_GUARD + word)?;
        (bottom % page == 0
            && bottom < sp
            && top.checked_sub(bottom) == Some(bytes)
            && end > sp
            && end <= p)
            .then_some(bottom)
    };
    let limit = sp.saturating_add(scan);
    // Fast path: the context sits at the same offset below the top in every stack, and the
    // top is the first page boundary above it.
    let offset = CONTEXT_OFFSET.load(Ordering::Relaxed);
    if offset != 0 {
        let mut top = (sp | (page - 1)) + 1;
        while top <= limit + page {
            if let Some(p) = top.checked_sub(offset).filter(|&p| p > sp) {
                // top is at most this stack's top (the loop stops at the first match,
                // which is the real top), so p is inside the stack; a probed read that
                // fails means `sp` was not on a coroutine's stack.
                if reads.word(p)? == local {
                    if let Some(bottom) = check(p, top) {
                        return Some(bottom);
                    }
                }
            }
            top += page;
        }
    }
    if reads == Reads::Probed {
        return None;
    }
    // Full scan, word by word from this frame up.
    let mut p = (sp + word) & !(word - 1);
    while p + LOCAL_DATA_TO_GUARD + 2 * word <= limit {
        // SAFETY: every word from here up to generator's context is this stack's; the scan
        // stops at the context.
        if unsafe { std::ptr::read_volatile(p as *const usize) } == local {
            let top = (p | (page - 1)) + 1;
            if let Some(bottom) = check(p, top) {
                CONTEXT_OFFSET.store(top - p, Ordering::Relaxed);
                return Some(bottom);
            }
        }
        p += word;
    }
    None
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

// ---------------------------------------------------------------------------------------
// Stack overflow: fatal, with Go's words
// ---------------------------------------------------------------------------------------

/// The `SIGSEGV` action that was in place before gonet's (generator's, which chains to
/// Rust's): faults that are not a coroutine's overflow go there.
struct PrevAction(std::cell::UnsafeCell<std::mem::MaybeUninit<libc::sigaction>>);
// SAFETY: written once, inside `INSTALL.call_once`, before the handler that reads it is
// installed; read-only afterwards.
unsafe impl Sync for PrevAction {}
static PREV_SEGV: PrevAction =
    PrevAction(std::cell::UnsafeCell::new(std::mem::MaybeUninit::zeroed()));
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs gonet's `SIGSEGV` handler on top of generator's. Called from inside a
/// coroutine, so generator's handler (installed when its first coroutine starts) is there
/// already and ends up below ours.
fn install_overflow_handler() {
    if INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is valid; PREV_SEGV is written before ours is
        // installed and never again.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_segv as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let prev = (*PREV_SEGV.0.get()).as_mut_ptr();
            if libc::sigaction(libc::SIGSEGV, std::ptr::null(), prev) != 0 {
                return;
            }
            libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut());
        }
        INSTALLED.store(true, Ordering::Relaxed);
    });
}

/// The stack pointer of the interrupted code.
///
/// # Safety
/// `ctx` is the `ucontext_t` the kernel passed to a `SA_SIGINFO` handler.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(super) unsafe fn fault_sp(ctx: *mut libc::c_void) -> usize {
    let uc = ctx as *const libc::ucontext_t;
    // SAFETY: `ctx` is the kernel's ucontext_t for this signal (the caller's contract).
    unsafe { (*uc).uc_mcontext.gregs[libc::REG_RSP as usize] as usize }
}

/// The stack pointer of the interrupted code.
///
/// # Safety
/// `ctx` is the `ucontext_t` the kernel passed to a `SA_SIGINFO` handler.
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
pub(super) unsafe fn fault_sp(ctx: *mut libc::c_void) -> usize {
    let uc = ctx as *const libc::ucontext_t;
    // SAFETY: `ctx` is the kernel's ucontext_t for this signal (the caller's contract).
    unsafe { (*uc).uc_mcontext.sp as usize }
}

/// The stack pointer of the interrupted code (unknown on this target: every fault is
/// passed on).
///
/// # Safety
/// Always safe; the signature matches the other targets'.
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub(super) unsafe fn fault_sp(_ctx: *mut libc::c_void) -> usize {
    0
}

/// A fault at the stack pointer of a running coroutine is its stack overflowing into the
/// guard page: report it as Go does and exit with status 2. Anything else goes to the
/// previous handler. Only async-signal-safe calls: `write`, `_exit`, `sigaction`.
extern "C" fn on_segv(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext to a SA_SIGINFO handler.
    let (addr, sp) = unsafe { ((*info).si_addr() as usize, fault_sp(ctx)) };
    let near_sp = sp != 0 && addr <= sp.saturating_add(256) && addr.saturating_add(1 << 16) >= sp;
    if near_sp && !generator::get_local_data().is_null() {
        let page = page_size();
        let lo = (addr | (page - 1)) + 1;
        let mut buf = Buf::new();
        let _ = fmt::write(
            &mut buf,
            format_args!(
                "runtime: goroutine stack exceeds {}-byte limit\nruntime: sp={:#x} stack=[{:#x}, {:#x}]\nfatal error: stack overflow\n\n(a gonet coroutine ran off the end of its stack: set a bigger one with gonet::runtime::set_stack_size)\n",
                configured_stack_bytes(),
                sp,
                lo,
                lo + configured_stack_bytes()
            ),
        );
        buf.write_stderr();
        // SAFETY: _exit is async-signal-safe and ends the process at once.
        unsafe { libc::_exit(2) };
    }
    // SAFETY: PREV_SEGV holds the action that was installed before ours; calling it with
    // the same arguments is what the kernel would have done.
    unsafe {
        let prev = &*(*PREV_SEGV.0.get()).as_ptr();
        let handler = prev.sa_sigaction;
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            // Default action: put it back and return, so the fault happens again and
            // kills the process the way it would have.
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(handler);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
            f(sig);
        }
    }
}

/// A fixed buffer for messages written where allocating is not possible (a signal
/// handler, a process out of memory).
struct Buf {
    bytes: [u8; 1024],
    len: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            bytes: [0; 1024],
            len: 0,
        }
    }

    fn write_stderr(&self) {
        let mut done = 0;
        while done < self.len {
            // SAFETY: the range is inside `bytes`; write is async-signal-safe.
            let n = unsafe {
                libc::write(
                    libc::STDERR_FILENO,
                    self.bytes[done..].as_ptr().cast(),
                    self.len - done,
                )
            };
            if n <= 0 {
                return;
            }
            done += n as usize;
        }
    }
}

impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Spawning
// ---------------------------------------------------------------------------------------

/// Finished coroutines may's pool probably holds (a stack to reuse): counted up when a
/// gonet coroutine ends, down at every gonet spawn. An estimate (may's own spawns move the
/// pool too); when it is 0 the next spawn probably maps a new stack.
static POOL_ESTIMATE: AtomicUsize = AtomicUsize::new(0);

/// Called once before may's scheduler starts, which fills its pool with
/// `get_pool_capacity()` ready coroutines (stacks mapped off the accept path: an
/// 8,000-dial burst takes its first thousand stacks from there).
///
/// Measured: starting with an empty pool instead (capacity 1 while the scheduler
/// starts, then back) saved 2,000 mappings at start and a guard conversion in each of the
/// first thousand spawns, but every connection of the burst then mapped its stack on the
/// accept path, and the burst overflowed the listen queue in every round
/// (bench/PROFILE.md section 10).
pub(super) fn init_pool_estimate() {
    POOL_ESTIMATE.store(may::config().get_pool_capacity(), Ordering::Relaxed);
}

/// Counts a spawn out of may's pool; whether the pool probably had a stack for it.
fn take_pooled() -> bool {
    POOL_ESTIMATE
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

thread_local! {
    /// Set while this thread is inside may's spawn: a panic there (generator's "failed to
    /// alloc sys stack") is gonet's to report, and the panic hook stays quiet about it.
    static SPAWNING: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the panic hook once, so that a failed stack allocation inside may's spawn is
/// reported by gonet (as an error) and not printed, with a backtrace that cannot be
/// symbolized when the mappings are gone (it deadlocks).
fn quiet_spawn_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        if std::thread::panicking() {
            return;
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if SPAWNING.with(Cell::get) {
                return;
            }
            previous(info)
        }));
    });
}

/// Why a coroutine could not be started: its stack could not be mapped.
///
/// Go: the runtime's `fatal error: out of memory`; `gonet::go!` reports it the same way,
/// [`try_go`](super::try_go) returns it (as an [`io::Error`] of kind `OutOfMemory`).
#[derive(Debug, Clone)]
pub struct SpawnError {
    stack_bytes: usize,
    os: Option<i32>,
    detail: String,
    limit: Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// The process has (nearly) `vm.max_map_count` mappings.
    MapCount { maps: usize, max: usize },
    /// The address space limit (`RLIMIT_AS`, `ulimit -v`) is (nearly) reached.
    AddressSpace { limit: usize, used: usize },
    /// Neither: the kernel refused the memory (`vm.overcommit_memory`, cgroup limits).
    Memory,
}

impl SpawnError {
    fn new(os: Option<i32>, detail: String) -> SpawnError {
        let stack_bytes = configured_stack_bytes();
        SpawnError {
            stack_bytes,
            os,
            detail,
            limit: diagnose(stack_bytes),
        }
    }

    /// Reports the error as Go's runtime does when it runs out of memory and exits with
    /// status 2. Writes without allocating.
    pub(crate) fn fatal(&self) -> ! {
        let mut buf = Buf::new();
        let _ = fmt::write(
            &mut buf,
            format_args!("runtime: {self}\nfatal error: out of memory\n"),
        );
        buf.write_stderr();
        // SAFETY: _exit ends the process at once; nothing is left half-done that exit's
        // handlers could finish (Go's fatal errors do not run them either).
        unsafe { libc::_exit(2) }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot allocate a {}-byte coroutine stack: {}",
            self.stack_bytes, self.detail
        )?;
        match self.limit {
            Limit::MapCount { maps, max } => write!(
                f,
                "; the process has {maps} memory mappings and vm.max_map_count is {max} (raise it: sysctl -w vm.max_map_count={}; {})",
                (max.max(65530) * 4).next_power_of_two(),
                match stack_guard() {
                    StackGuard::Lightweight =>
                        "coroutine stacks share mappings here, but a new one needs two until it starts",
                    StackGuard::Mprotect =>
                        "each coroutine stack is two mappings on this kernel: Linux 6.13+ has lightweight guard pages, which need none",
                }
            ),
            Limit::AddressSpace { limit, used } => write!(
                f,
                "; the address space limit (RLIMIT_AS, ulimit -v) is {limit} bytes and {used} are in use (raise it, or lower the stack size with gonet::runtime::set_stack_size)"
            ),
            Limit::Memory => f.write_str(
                "; the kernel refused the memory (see vm.overcommit_memory and the cgroup's memory limit)",
            ),
        }
    }
}

impl std::error::Error for SpawnError {}

impl From<SpawnError> for io::Error {
    fn from(e: SpawnError) -> io::Error {
        io::Error::new(io::ErrorKind::OutOfMemory, e)
    }
}

impl SpawnError {
    /// The OS error that failed the stack's mapping, if one did.
    ///
    /// ```
    /// # let _ = |e: gonet::runtime::SpawnError| e.raw_os_error();
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.os
    }
}

/// Which limit a failed stack allocation ran into.
fn diagnose(stack_bytes: usize) -> Limit {
    let map_bytes = stack_bytes + 2 * page_size();
    if let (Some(max), Some(maps)) = (super::max_map_count(), super::map_count()) {
        if maps + 16 >= max {
            return Limit::MapCount { maps, max };
        }
    }
    if let Some(limit) = address_space_limit() {
        let used = address_space_used().unwrap_or(0);
        if used.saturating_add(map_bytes) > limit {
            return Limit::AddressSpace { limit, used };
        }
    }
    Limit::Memory
}

/// The soft `RLIMIT_AS`, if there is one.
pub(super) fn address_space_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    Some(usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX))
}

/// The process's mapped address space (the first field of /proc/self/statm, in pages).
pub(super) fn address_space_used() -> Option<usize> {
    use std::io::Read;
    let mut f = std::fs::File::open("/proc/self/statm").ok()?;
    let mut buf = [0u8; 128];
    let n = f.read(&mut buf).ok()?;
    let pages: usize = std::str::from_utf8(&buf[..n])
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(pages * page_size())
}

/// Spawns that needed a new stack since start, for spacing out the room checks.
static SPAWNS: AtomicUsize = AtomicUsize::new(0);
/// Set when a room check found the process near a limit: every spawn then first maps (and
/// unmaps) a stack of its own, as generator would, so that a failure is an error here and
/// not a panic inside may.
static CAREFUL: AtomicBool = AtomicBool::new(false);
/// How many spawns apart the room checks are.
const CHECK_EVERY: usize = 4096;
/// How many new stacks' worth of room a check wants, to stay out of careful mode.
const ROOM_FOR: usize = 256;

/// Fails if a new stack could not be mapped now; cheap unless the process is near a
/// limit. Called for spawns that map a new stack: a stack from may's pool needs no room
/// (and a check reads /proc/self/maps, thousands of lines).
fn check_room(stack_bytes: usize) -> Result<(), SpawnError> {
    if SPAWNS.fetch_add(1, Ordering::Relaxed) % CHECK_EVERY == 0 {
        CAREFUL.store(near_limit(stack_bytes), Ordering::Relaxed);
    }
    if CAREFUL.load(Ordering::Relaxed) {
        probe_stack(stack_bytes)?;
    }
    Ok(())
}

/// Whether the next `ROOM_FOR` new stacks might not fit. (Between checks a process can
/// use more: then generator's failure is caught, quietly, inside may's spawn.)
fn near_limit(stack_bytes: usize) -> bool {
    let map_bytes = stack_bytes + 2 * page_size();
    if let Some(limit) = address_space_limit() {
        let used = address_space_used().unwrap_or(limit);
        if used.saturating_add(ROOM_FOR * map_bytes) >= limit {
            return true;
        }
    }
    // The mapping count is only cheap to read when stacks share mappings; with mprotect
    // guards a near-full table is tens of thousands of lines, and a failure there is
    // still caught (quietly) in may's spawn.
    if stack_guard() == StackGuard::Lightweight {
        if let (Some(max), Some(maps)) = (super::max_map_count(), super::map_count()) {
            // Each new stack needs up to two mappings until it is converted.
            return maps + 2 * ROOM_FOR + 64 >= max;
        }
    }
    false
}

/// Maps, guards and unmaps a stack the way generator's `SysStack::allocate` does.
fn probe_stack(stack_bytes: usize) -> Result<(), SpawnError> {
    let page = page_size();
    let len = stack_bytes + 2 * page;
    // SAFETY: a fresh private anonymous mapping, unmapped before returning.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            return Err(SpawnError::new(e.raw_os_error(), format!("mmap: {e}")));
        }
        let rc = libc::mprotect(p, page, libc::PROT_NONE);
        let e = io::Error::last_os_error();
        libc::munmap(p, len);
        if rc != 0 {
            return Err(SpawnError::new(e.raw_os_error(), format!("mprotect: {e}")));
        }
    }
    Ok(())
}

/// Starts `f` in a new coroutine on gonet's stacks, placed by `proc::spawn`; the body
/// behind `go!`, `try_go` and `gonet::Server`. `site` is the `go!` site.
pub(crate) fn spawn<F, T>(
    site: &'static std::panic::Location<'static>,
    f: F,
) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if size_of::<F>() > BOX_ABOVE {
        // A big closure is copied into several frames above the coroutine's first one:
        // boxed, it stays out of `enter`'s way (and off the stack).
        let f: Box<dyn FnOnce() -> T + Send> = Box::new(f);
        return spawn_small(site, f);
    }
    spawn_small(site, f)
}

fn spawn_small<F, T>(
    site: &'static std::panic::Location<'static>,
    f: F,
) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    super::init();
    quiet_spawn_panics();
    if !take_pooled() {
        check_room(configured_stack_bytes())?;
    }
    SPAWNING.with(|s| s.set(true));
    let spawned = catch_unwind(AssertUnwindSafe(|| {
        super::proc::spawn(may::coroutine::Builder::new(), site, f)
    }));
    SPAWNING.with(|s| s.set(false));
    let failed = match spawned {
        Ok(Ok((handle, local))) => {
            // After SPAWNING is reset: this may park, and resume on another thread.
            if local {
                super::proc::after_local_spawn();
            }
            return Ok(handle);
        }
        Ok(Err(e)) => SpawnError::new(e.raw_os_error(), e.to_string()),
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "may's spawn panicked".to_string());
            // generator: "failed to alloc sys stack: IoError(Os { code: 12, .. })".
            let os = text
                .split_once("code: ")
                .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            let detail = match os {
                Some(code) => format!("mmap: {}", io::Error::from_raw_os_error(code)),
                None => text,
            };
            SpawnError::new(os, detail)
        }
    };
    FAILED.fetch_add(1, Ordering::Relaxed);
    // Near a limit from now on: check before every spawn until a room check says
    // otherwise.
    CAREFUL.store(true, Ordering::Relaxed);
    Err(failed)
}

/// How far above `enter`'s frame generator's context may be, for a coroutine running an
/// `F` that returns a `T`: copies of the closure and of its result sit in the frames
/// between (generator's functor, may's closure, proc's closure).
pub(crate) fn scan_hint<F, T>() -> usize {
    3 * size_of::<F>() + 2 * size_of::<T>() + SCAN_BASE
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
