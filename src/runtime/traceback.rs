//! What a thread stuck in a coroutine is running: the coroutine's `go!` site, for sysmon's
//! warning, and its stack, for the `spinabort` report.
//!
//! Go: `runtime/traceback.go`, and `GOTRACEBACK=crash`, which signals every thread to
//! print its stack before dying. Here sysmon sends one thread `SIGURG` (Go's preemption
//! signal too) and its handler, on that thread, either reads the interrupted coroutine's
//! site record (`proc::running_site`: memory reads only, async-signal-safe) or captures
//! the thread's backtrace, which runs through the signal frame into the coroutine it
//! interrupted; sysmon prints it. The capture allocates, which a signal handler should not
//! do, so it is only asked for right before `abort()`: if the interrupted code holds the
//! allocator's lock the thread does not answer, sysmon gives up waiting, and the report
//! says so. A system call the signal interrupts returns `EINTR` (std retries its own),
//! as in a Go program, where `SIGURG` preempts goroutines.

use std::backtrace::Backtrace;
use std::cell::UnsafeCell;
use std::panic::Location;
use std::sync::Once;
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::runtime::proc::{self, ThreadSlot};

const IDLE: u8 = 0;
const ASKED_STACK: u8 = 1;
const DONE: u8 = 2;
const ASKED_SITE: u8 = 3;
/// A handler has claimed the request and is answering it.
const WORKING: u8 = 4;

static STATE: AtomicU8 = AtomicU8::new(IDLE);
static TARGET: AtomicI32 = AtomicI32::new(0);
/// The answer to `ASKED_SITE`: the site's address (0: not in a gonet coroutine).
static SITE: AtomicUsize = AtomicUsize::new(0);

struct Slot(UnsafeCell<Option<Backtrace>>);
// SAFETY: written only by the one handler run that claims a stack request (STATE from
// ASKED_STACK to WORKING, then DONE), read only by sysmon after it sees DONE.
unsafe impl Sync for Slot {}
static CAPTURED: Slot = Slot(UnsafeCell::new(None));

extern "C" fn on_signal(_: libc::c_int, _: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: gettid has no preconditions.
    let me = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
    if me != TARGET.load(Ordering::Acquire) {
        return;
    }
    // Claim the request, so that a late answer to one sysmon gave up on cannot be taken
    // for the answer to the next.
    let claim = |asked| {
        STATE
            .compare_exchange(asked, WORKING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    };
    match STATE.load(Ordering::Acquire) {
        ASKED_SITE if claim(ASKED_SITE) => {
            // SAFETY: the kernel passes a valid ucontext to a SA_SIGINFO handler.
            let sp = unsafe { super::stack::fault_sp(ctx) };
            SITE.store(proc::running_site(sp) as usize, Ordering::Release);
            STATE.store(DONE, Ordering::Release);
        }
        ASKED_STACK if claim(ASKED_STACK) => {
            let bt = Backtrace::force_capture();
            // SAFETY: see `Slot`: only this run writes, before publishing DONE.
            unsafe { *CAPTURED.0.get() = Some(bt) };
            STATE.store(DONE, Ordering::Release);
        }
        _ => {}
    }
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: sa is fully initialised before sigaction reads it; the handler is an
        // extern "C" fn of the SA_SIGINFO shape.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGURG, &sa, std::ptr::null_mut());
        }
    });
}

/// Signals the thread behind `slot` with request `ask`; whether it answered within
/// `limit`. Only sysmon asks, one request at a time.
fn ask(slot: &ThreadSlot, ask: u8, limit: Duration) -> bool {
    install();
    if STATE.load(Ordering::Acquire) == WORKING {
        // An earlier stack capture never finished (see the module docs).
        return false;
    }
    STATE.store(IDLE, Ordering::Release);
    TARGET.store(slot.tid, Ordering::Release);
    STATE.store(ask, Ordering::Release);
    // SAFETY: the pthread_t is of a live thread (scheduler threads never exit).
    if unsafe { libc::pthread_kill(slot.pthread, libc::SIGURG) } != 0 {
        STATE.store(IDLE, Ordering::Release);
        return false;
    }
    let mut end = Instant::now() + limit;
    loop {
        match STATE.load(Ordering::Acquire) {
            DONE => return true,
            WORKING if ask == ASKED_SITE && Instant::now() >= end => {
                // Claimed: the answer is a few memory reads away.
                end += limit;
            }
            _ if Instant::now() >= end => {
                // Never claimed: withdraw the request (a handler that runs later finds
                // nothing to answer). A claimed stack capture may never finish.
                return STATE
                    .compare_exchange(ask, IDLE, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                    && STATE.load(Ordering::Acquire) == DONE;
            }
            _ => std::thread::sleep(Duration::from_micros(200)),
        }
    }
}

/// The `go!` site of the coroutine running on the thread behind `slot` now (null: the
/// thread is not in a coroutine gonet started); `None` if it did not answer within
/// `limit`.
pub(crate) fn running_site(slot: &ThreadSlot, limit: Duration) -> Option<*const Location<'static>> {
    if !ask(slot, ASKED_SITE, limit) {
        return None;
    }
    let site = SITE.swap(0, Ordering::AcqRel) as *const Location<'static>;
    STATE.store(IDLE, Ordering::Release);
    Some(site)
}

/// The backtrace of the thread behind `slot`, waiting at most `limit` for it.
pub(crate) fn capture(slot: &ThreadSlot, limit: Duration) -> Option<String> {
    if !ask(slot, ASKED_STACK, limit) {
        return None;
    }
    // SAFETY: DONE was published after the write; the handler will not write again
    // until STATE asks for a stack once more.
    let bt = unsafe { (*CAPTURED.0.get()).take() }?;
    STATE.store(IDLE, Ordering::Release);
    Some(indent(&bt.to_string()))
}

/// The frames after the handler's own, indented.
fn indent(text: &str) -> String {
    let mut out = String::new();
    let mut started = false;
    for line in text.lines() {
        // Skip the capture machinery and the signal trampoline above the real frames.
        if !started {
            if line.contains("__restore_rt") || line.contains("<unknown>") {
                started = true;
            }
            continue;
        }
        out.push_str("    ");
        out.push_str(line.trim_start());
        out.push('\n');
    }
    if out.is_empty() {
        // No trampoline frame seen: print everything.
        for line in text.lines() {
            out.push_str("    ");
            out.push_str(line.trim_start());
            out.push('\n');
        }
    }
    out
}
