//! How a plain OS thread (not a coroutine) waits on a descriptor: poll(2) on it and on
//! an eventfd of the thread's own, which `close` and `set_deadline` write to so that the
//! thread looks at the descriptor's state again.
//!
//! Go has no such path (every goroutine waits in the netpoller); gonet keeps `accept`,
//! `read` and `write` working from `main` and other threads. Go's `Close` releases the
//! descriptor without `shutdown(2)` (a duplicate, in a child process say, keeps the
//! socket open), so a thread parked in poll(2) cannot be woken through the socket: it is
//! woken through its eventfd instead.
//!
//! A thread's eventfd lives as long as the thread and then goes back to a pool for the
//! next thread, never closed: a waker that read the number just before the thread left
//! can only cause one spurious wake-up of whoever uses it next, never a write into an
//! unrelated descriptor.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// With no eventfd (the process ran out of descriptors), a thread looks again this often.
const FALLBACK_SLICE: Duration = Duration::from_millis(50);

/// Eventfds of threads that have ended, kept for new threads.
static POOL: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

/// This thread's eventfd (never closed: see the module docs).
struct WakeFd(RawFd);

impl WakeFd {
    fn get() -> Option<WakeFd> {
        let pooled = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
        if let Some(fd) = pooled {
            drain(fd);
            return Some(WakeFd(fd));
        }
        // SAFETY: eventfd has no memory arguments; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            log::debug!(
                "gonet: eventfd: {}; threads poll in slices",
                std::io::Error::last_os_error()
            );
            return None;
        }
        Some(WakeFd(fd))
    }
}

impl Drop for WakeFd {
    fn drop(&mut self) {
        POOL.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.0);
    }
}

thread_local! {
    // A plain thread's own: only read outside coroutines, which never move threads.
    static WAKE: Option<WakeFd> = WakeFd::get();
}

/// Empties an eventfd's counter.
fn drain(fd: RawFd) {
    let mut buf = [0u8; 8];
    // SAFETY: buf is valid for 8 bytes, the size an eventfd read takes; fd is an eventfd
    // that is never closed. EAGAIN (already empty) is fine.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
}

/// The threads parked on one descriptor, one slot per direction (readers take turns, so
/// do writers: at most one thread waits in each); -1 for none.
pub(crate) struct ThreadWaiters([AtomicI32; 2]);

impl Default for ThreadWaiters {
    fn default() -> ThreadWaiters {
        ThreadWaiters([AtomicI32::new(-1), AtomicI32::new(-1)])
    }
}

impl ThreadWaiters {
    /// Blocks the thread until `fd` reports `events` (POLLIN or POLLOUT), `timeout_ms`
    /// passes (-1: no limit), or [`wake_all`](Self::wake_all) runs. `still_wanted` is
    /// asked after this thread is visible to `wake_all`, so a close or a new deadline
    /// that came just before is not missed.
    pub(crate) fn wait(
        &self,
        slot: usize,
        fd: RawFd,
        events: libc::c_short,
        timeout_ms: i32,
        still_wanted: impl FnOnce() -> bool,
    ) {
        let wake = WAKE.with(|w| w.as_ref().map(|w| w.0));
        if let Some(w) = wake {
            self.0[slot].store(w, Ordering::SeqCst);
        }
        if still_wanted() {
            let mut pfds = [
                libc::pollfd {
                    fd,
                    events,
                    revents: 0,
                },
                libc::pollfd {
                    fd: wake.unwrap_or(-1),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let (nfds, timeout_ms) = match wake {
                Some(_) => (2, timeout_ms),
                None => {
                    let slice = FALLBACK_SLICE.as_millis() as i32;
                    (
                        1,
                        if timeout_ms < 0 {
                            slice
                        } else {
                            timeout_ms.min(slice)
                        },
                    )
                }
            };
            // SAFETY: pfds is valid for `nfds` entries for the duration of the call. An
            // error (EINTR) just sends the caller round its loop again.
            unsafe { libc::poll(pfds.as_mut_ptr(), nfds, timeout_ms) };
            if pfds[1].revents != 0 {
                drain(pfds[1].fd);
            }
        }
        if wake.is_some() {
            self.0[slot].store(-1, Ordering::SeqCst);
        }
    }

    /// Wakes the threads parked on the descriptor, if any, so they look again.
    pub(crate) fn wake_all(&self) {
        for slot in &self.0 {
            let w = slot.load(Ordering::SeqCst);
            if w >= 0 {
                let one = 1u64.to_ne_bytes();
                // SAFETY: one is valid for 8 bytes, an eventfd write's size; the eventfd
                // is never closed (see the module docs), so the number cannot have been
                // reused for something else.
                unsafe { libc::write(w, one.as_ptr().cast(), one.len()) };
            }
        }
    }
}
