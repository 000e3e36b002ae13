//! Unit tests of the stack locator's reads (stack.rs): what a signal handler may touch.

use super::*;
use crate::runtime::stack_guard::map_anonymous;
use crate::runtime::stack_locate::{CONTEXT_OFFSET, probe_word};

/// Two fresh pages: the first read-write, the second `PROT_NONE` (a guard).
fn page_then_guard() -> usize {
    let page = page_size();
    let p = map_anonymous(2 * page).expect("mmap");
    // SAFETY: `p` is our own fresh mapping; nothing else refers to it.
    let guarded = unsafe { libc::mprotect(p.cast::<u8>().add(page).cast(), page, libc::PROT_NONE) };
    assert_eq!(guarded, 0, "mprotect");
    p as usize
}

#[test]
fn a_probed_read_of_a_guard_or_unmapped_page_fails_instead_of_faulting() {
    let base = page_then_guard();
    let page = page_size();
    // SAFETY: the first page is ours and read-write.
    unsafe { std::ptr::write_volatile(base as *mut usize, 0x5eed) };
    assert_eq!(probe_word(base), Some(0x5eed));
    assert_eq!(probe_word(base + page), None, "the PROT_NONE page");
    // SAFETY: unmapping our own mapping, which nothing uses any more.
    assert_eq!(
        unsafe { libc::munmap(base as *mut libc::c_void, 2 * page) },
        0
    );
    assert_eq!(probe_word(base), None, "an unmapped page");
}

/// A signal that lands mid-switch sees an interrupted stack pointer that is not on the
/// coroutine's stack, while generator's thread-local still names the coroutine: locating
/// from there must give up at the first page it cannot read, not fault (a plain read of
/// the guard page here kills the process with SIGSEGV).
#[test]
fn locating_from_a_stack_pointer_off_the_coroutine_stack_gives_up_cleanly() {
    let base = page_then_guard();
    let found = crate::go!(move || {
        // Inside a gonet coroutine: generator's local data is set and the context offset
        // has been learnt by this coroutine's own `enter`.
        assert!(__current_stack().is_some(), "a gonet coroutine's own stack");
        assert_ne!(CONTEXT_OFFSET.load(Ordering::Relaxed), 0);
        running_stack(base + 64)
    })
    .join()
    .expect("the coroutine ran");
    assert_eq!(found, None);
    // SAFETY: unmapping our own mapping, which nothing uses any more.
    assert_eq!(
        unsafe { libc::munmap(base as *mut libc::c_void, 2 * page_size()) },
        0
    );
}
