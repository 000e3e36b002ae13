//! The stack of a thread stuck in a coroutine, for the `spinabort` report.
//!
//! Go: `runtime/traceback.go`, and `GOTRACEBACK=crash`, which signals every thread to
//! print its stack before dying. Here sysmon sends one thread `SIGURG` (Go's preemption
//! signal too) and its handler captures the thread's backtrace, which runs through the
//! signal frame into the coroutine it interrupted; sysmon prints it. Only used right
//! before `abort()`: the capture allocates, which a signal handler should not do, and if
//! the interrupted code holds the allocator's lock the thread does not answer, sysmon
//! gives up waiting, and the report says so.

use std::backtrace::Backtrace;
use std::cell::UnsafeCell;
use std::sync::Once;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::runtime::proc::ThreadSlot;

const IDLE: u8 = 0;
const ASKED: u8 = 1;
const DONE: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(IDLE);
static TARGET: AtomicI32 = AtomicI32::new(0);

struct Slot(UnsafeCell<Option<Backtrace>>);
// SAFETY: written only by the one handler run that moves STATE from ASKED to DONE, read
// only by sysmon after it sees DONE.
unsafe impl Sync for Slot {}
static CAPTURED: Slot = Slot(UnsafeCell::new(None));

extern "C" fn on_signal(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: gettid has no preconditions.
    let me = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
    if me != TARGET.load(Ordering::Acquire) || STATE.load(Ordering::Acquire) != ASKED {
        return;
    }
    let bt = Backtrace::force_capture();
    // SAFETY: see `Slot`: only this run writes, before publishing DONE.
    unsafe { *CAPTURED.0.get() = Some(bt) };
    STATE.store(DONE, Ordering::Release);
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

/// The backtrace of the thread behind `slot`, waiting at most `limit` for it.
pub(crate) fn capture(slot: &ThreadSlot, limit: Duration) -> Option<String> {
    install();
    STATE.store(IDLE, Ordering::Release);
    TARGET.store(slot.tid, Ordering::Release);
    STATE.store(ASKED, Ordering::Release);
    // SAFETY: the pthread_t is of a live thread (scheduler threads never exit).
    if unsafe { libc::pthread_kill(slot.pthread, libc::SIGURG) } != 0 {
        return None;
    }
    let end = Instant::now() + limit;
    while STATE.load(Ordering::Acquire) != DONE {
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: DONE was published after the write; the handler will not write again
    // until STATE is ASKED once more.
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
