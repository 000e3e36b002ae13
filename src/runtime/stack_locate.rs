//! Finding a coroutine's stack from one of its frames, by generator's context at the
//! stack's top: for [`super::stack::enter`] (plain reads, on the coroutine's own stack)
//! and for signal handlers (SIGURG's traceback, sysmon's report: probed reads, from an
//! interrupted stack pointer that may not be on a coroutine's stack at all).

use std::mem::size_of;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::stack_guard::{configured_stack_bytes, page_size};

/// In generator's `Context` (`#[repr(C)]`), `stack_guard: (bottom, end)` follows
/// `local_data` after `err: Option<Box<dyn Any + Send>>` (two words).
const LOCAL_DATA_TO_GUARD: usize = 3 * size_of::<usize>();
/// The frames above gonet's first frame in a coroutine, besides copies of the closure and
/// its result: generator's bootstrap, may's closure, catch_unwind.
pub(super) const SCAN_BASE: usize = 8192;

/// The running coroutine's stack as gonet sees it, `(bottom, top)`: its usable bytes,
/// above the guard page. `None` outside a coroutine or for a stack gonet does not manage.
/// Not part of the API: tests/goroutines.rs checks generator's layout with it (call it
/// near the start of a coroutine: it looks for generator's context above its own frame).
#[doc(hidden)]
#[inline(never)]
pub fn __current_stack() -> Option<(usize, usize)> {
    let bottom = locate_running(4 * SCAN_BASE)??;
    Some((bottom, bottom + configured_stack_bytes()))
}

/// The bottom of the running coroutine's stack, found from this call's frame, with
/// generator's context at most `scan` bytes above it: `None` outside a coroutine,
/// `Some(None)` for a stack gonet does not recognise. Plain reads: call it on the
/// coroutine's own stack (its first frames: `stack::enter`).
#[inline(never)]
pub(super) fn locate_running(scan: usize) -> Option<Option<usize>> {
    let local = generator::get_local_data() as usize;
    if local == 0 {
        return None;
    }
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    Some(locate(
        local,
        sp,
        scan,
        configured_stack_bytes(),
        Reads::Direct,
    ))
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
pub(super) fn probe_word(addr: usize) -> Option<usize> {
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

/// `top - &context.local_data`, learnt from the first coroutine located by a full scan:
/// generator places its `GeneratorImpl` (the context inside it) at the top of the stack,
/// the same way every time.
pub(super) static CONTEXT_OFFSET: AtomicUsize = AtomicUsize::new(0);

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
