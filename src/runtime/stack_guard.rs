//! Which guard page coroutine stacks get, and the sizes of things: the half of
//! [`super::stack`] that runs before any coroutine does (a probe on a scratch mapping).
//!
//! Go: none (a goroutine's stack is checked by each function's prologue and grows by
//! copying, so it needs no guard page).

use std::fmt;
use std::mem::size_of;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// `MADV_GUARD_INSTALL` (Linux 6.13, uapi asm-generic/mman-common.h); libc does not name it.
pub(super) const MADV_GUARD_INSTALL: libc::c_int = 102;

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
pub(super) static GUARD_KIND: AtomicU8 = AtomicU8::new(0);

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
pub(super) fn map_anonymous(len: usize) -> Option<*mut libc::c_void> {
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
