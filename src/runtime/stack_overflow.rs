//! Stack overflow: fatal, with Go's words. A `SIGSEGV` at the stack pointer of a
//! coroutine is its stack running into the guard page below (see [`super::stack`]).
//!
//! Go: `runtime: goroutine stack exceeds N-byte limit`, `fatal error: stack overflow`,
//! exit status 2 (runtime/stack.go `newstack`).

use std::fmt;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use super::stack_guard::{configured_stack_bytes, page_size};

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
pub(super) fn install_overflow_handler() {
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
pub(super) struct Buf {
    bytes: [u8; 1024],
    len: usize,
}

impl Buf {
    pub(super) fn new() -> Buf {
        Buf {
            bytes: [0; 1024],
            len: 0,
        }
    }

    pub(super) fn write_stderr(&self) {
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
