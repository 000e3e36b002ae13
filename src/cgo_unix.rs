//! The system resolver, `getaddrinfo(3)`, run off the coroutine worker threads.
//!
//! Go: `src/net/cgo_unix.go` (`cgoLookupIPCNAME`) calls `getaddrinfo` through cgo, and a
//! cgo call gets an OS thread of its own, so the blocked goroutine costs Go one thread and
//! no scheduler time; `net.go`'s `acquireThread` caps how many run at once.
//!
//! may has no such escape hatch: a blocking call made on one of its worker threads stalls
//! every coroutine queued on that worker. So `getaddrinfo` runs on a small pool of plain
//! OS threads (at most [`MAX_THREADS`], started on first need and then kept), fed through
//! a crossbeam channel, which is where OS threads meet. The answer comes back through a
//! may channel, so only the calling coroutine parks while it waits; a caller on a plain
//! thread just blocks. The caller stops waiting at its deadline; a job whose caller gave
//! up before a pool thread reached it is skipped.

use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use may::sync::mpsc::Receiver;

use crate::error::DnsError;

/// The most resolver threads that ever run; later lookups queue behind them.
pub(crate) const MAX_THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    tx: crossbeam::channel::Sender<Job>,
    rx: crossbeam::channel::Receiver<Job>,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Threads started (they never exit).
    threads: usize,
    /// Jobs submitted and not yet finished.
    busy: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = crossbeam::channel::unbounded();
        Pool {
            tx,
            rx,
            counts: Mutex::new(Counts::default()),
        }
    })
}

impl Pool {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The lock guards two counters and no invariant a panic could break.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`, starting another thread if every running one is busy.
    fn submit(&'static self, job: Job) {
        let start = {
            let mut c = self.counts();
            c.busy += 1;
            let start = c.busy > c.threads && c.threads < MAX_THREADS;
            if start {
                c.threads += 1;
            }
            start
        };
        if start {
            let spawned = std::thread::Builder::new()
                .name("gonet-resolver".into())
                .spawn(move || self.work());
            if let Err(e) = spawned {
                let mut c = self.counts();
                c.threads -= 1;
                if c.threads == 0 {
                    // No thread to hand the job to: run it here rather than never.
                    c.busy -= 1;
                    drop(c);
                    log::warn!("gonet: cannot start a resolver thread ({e}); resolving inline");
                    job();
                    return;
                }
                log::warn!("gonet: cannot start another resolver thread: {e}");
            }
        }
        // The pool owns a receiver, so sending on the unbounded channel cannot fail.
        let _ = self.tx.send(job);
    }

    fn work(&self) {
        while let Ok(job) = self.rx.recv() {
            if catch_unwind(AssertUnwindSafe(job)).is_err() {
                log::error!("gonet: a resolver job panicked");
            }
            self.counts().busy -= 1;
        }
    }
}

/// Runs `f` on a resolver thread and waits for its answer until `deadline`, parking only
/// the calling coroutine. `None` when the deadline passed first (then `f` is skipped if
/// no thread has started it yet).
pub(crate) fn run<T, F>(f: F, deadline: Option<Instant>) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if deadline.is_some_and(|d| d <= Instant::now()) {
        return None;
    }
    let (tx, rx) = may::sync::mpsc::channel();
    let abandoned = Arc::new(AtomicBool::new(false));
    let gave_up = abandoned.clone();
    pool().submit(Box::new(move || {
        if !gave_up.load(Ordering::Acquire) {
            // The caller may have left meanwhile: then nobody wants the answer.
            let _ = tx.send(f());
        }
    }));
    let answer = recv_until(&rx, deadline).ok();
    if answer.is_none() {
        abandoned.store(true, Ordering::Release);
    }
    answer
}

/// Receives from `rx`, giving up at `deadline` (`None`: waits as long as it takes).
///
/// may keeps a park's timeout in whole milliseconds and reads zero as "no timeout", so a
/// plain `recv_timeout` of less than a millisecond would wait forever in a coroutine.
/// Each wait here is rounded up to a whole millisecond, and a passed deadline only
/// looks at what is already there.
pub(crate) fn recv_until<T>(
    rx: &Receiver<T>,
    deadline: Option<Instant>,
) -> Result<T, RecvTimeoutError> {
    let Some(deadline) = deadline else {
        return rx.recv().map_err(|_| RecvTimeoutError::Disconnected);
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            });
        }
        let ms = u64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
        match rx.recv_timeout(Duration::from_millis(ms.max(1))) {
            Err(RecvTimeoutError::Timeout) => continue,
            r => return r,
        }
    }
}

/// The number of resolver threads started so far (for tests and diagnostics).
pub(crate) fn threads() -> usize {
    pool().counts().threads
}

/// The system resolver (getaddrinfo(3)): DNS and whatever nsswitch.conf lists. Blocks the
/// calling thread: call it through [`run`].
pub(crate) fn getaddrinfo(host: &str) -> Result<Vec<IpAddr>, DnsError> {
    let fail = |err: String, temporary: bool| DnsError {
        err,
        name: host.to_string(),
        is_not_found: false,
        is_temporary: temporary,
        is_timeout: false,
    };
    let Ok(c_host) = std::ffi::CString::new(host) else {
        return Err(DnsError::not_found(host));
    };
    // SAFETY: addrinfo is plain data; all-zero is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: c_host is NUL-terminated, hints is initialised and res is an out-pointer;
    // on success res is freed below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(match rc {
            libc::EAI_NONAME | libc::EAI_NODATA => DnsError::not_found(host),
            libc::EAI_AGAIN => fail("server misbehaving".into(), true),
            _ => fail(gai_error_text(rc), false),
        });
    }
    let mut ips = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned, which stays valid until freed.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() {
            // SAFETY: ai_addr points to ai_addrlen bytes of a socket address, and at most
            // the size of the storage is copied.
            let sa = unsafe {
                socket2::SockAddr::try_init(|storage, len| {
                    let n =
                        (ai.ai_addrlen as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
                    std::ptr::copy_nonoverlapping(ai.ai_addr.cast::<u8>(), storage.cast::<u8>(), n);
                    *len = n as libc::socklen_t;
                    Ok(())
                })
            };
            if let Ok(((), sa)) = sa {
                if let Some(ip) = sa.as_socket().map(|s| s.ip()) {
                    if !ips.contains(&ip) {
                        ips.push(ip);
                    }
                }
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from a successful getaddrinfo and is freed exactly once.
    unsafe { libc::freeaddrinfo(res) };
    if ips.is_empty() {
        return Err(DnsError::not_found(host));
    }
    Ok(ips)
}

fn gai_error_text(rc: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    let msg = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) };
    msg.to_string_lossy().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_jobs_and_gives_up_at_the_deadline() {
        assert_eq!(run(|| 6 * 7, None), Some(42));
        let (release_tx, release_rx) = crossbeam::channel::bounded::<()>(1);
        let start = Instant::now();
        let slow = run(
            move || release_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            Some(start + Duration::from_millis(50)),
        );
        assert_eq!(slow, None);
        assert!(start.elapsed() >= Duration::from_millis(50));
        release_tx.send(()).unwrap();
        assert!(threads() >= 1 && threads() <= MAX_THREADS);
        assert_eq!(
            run(|| 1, Some(Instant::now())),
            None,
            "a passed deadline runs nothing"
        );
    }

    #[test]
    fn waits_shorter_than_a_millisecond_end() {
        // may would read a 0 ms park timeout as "forever".
        let h = crate::go!(|| {
            let (_tx, rx) = may::sync::mpsc::channel::<()>();
            for us in [0, 1, 300, 999, 1500] {
                let start = Instant::now();
                let r = recv_until(&rx, Some(start + Duration::from_micros(us)));
                assert_eq!(r, Err(RecvTimeoutError::Timeout));
                assert!(start.elapsed() < Duration::from_secs(1));
            }
        });
        let (tx, rx) = may::sync::mpsc::channel();
        crate::go!(move || {
            let _ = tx.send(h.join().is_ok());
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
    }
}
