//! The system resolver, `getaddrinfo(3)`, run off the coroutine worker threads.
//!
//! Go: `src/net/cgo_unix.go` (`cgoLookupIPCNAME`) calls `getaddrinfo` through cgo, and a
//! cgo call gets an OS thread of its own, so the blocked goroutine costs Go one thread and
//! no scheduler time; `net.go`'s `acquireThread` caps how many run at once.
//!
//! gonet does the same with its blocking pool (`runtime::blocking`): `getaddrinfo` runs on
//! a pool thread, at most [`MAX_THREADS`] lookups at once (later ones queue, in order,
//! as behind Go's `acquireThread`). The answer comes back through a gonet channel, so
//! only the calling coroutine parks while it waits; a caller on a plain thread just
//! blocks. The caller stops waiting at its deadline or when its context ends (then the
//! answer is dropped when it comes); a job whose caller gave up before a pool thread
//! reached it is skipped.

use std::io;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use may::sync::mpsc::Receiver;

use crate::context::{Context, Ended};
use crate::net::error::DnsError;

/// The most resolver threads that ever run; later lookups queue behind them.
pub(crate) const MAX_THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Lookups {
    /// Lookups running on pool threads now.
    running: usize,
    /// The most that ever ran at once.
    peak: usize,
    waiting: std::collections::VecDeque<Job>,
}

fn lookups() -> std::sync::MutexGuard<'static, Lookups> {
    static L: Mutex<Lookups> = Mutex::new(Lookups {
        running: 0,
        peak: 0,
        waiting: std::collections::VecDeque::new(),
    });
    // Counters and a queue, no invariant a panic could break.
    L.lock().unwrap_or_else(|e| e.into_inner())
}

/// The resolver's share of the blocking pool.
struct Pool;

fn pool() -> &'static Pool {
    &Pool
}

impl Pool {
    /// Queues `job`: on a pool thread now if fewer than [`MAX_THREADS`] lookups run, else
    /// after one of them, on its thread.
    fn submit(&'static self, job: Job) {
        {
            let mut l = lookups();
            if l.running >= MAX_THREADS {
                l.waiting.push_back(job);
                return;
            }
            l.running += 1;
            l.peak = l.peak.max(l.running);
        }
        crate::runtime::spawn_detached(Box::new(move || {
            let mut job = job;
            loop {
                if catch_unwind(AssertUnwindSafe(job)).is_err() {
                    log::error!("gonet: a resolver job panicked");
                }
                let mut l = lookups();
                match l.waiting.pop_front() {
                    Some(next) => job = next,
                    None => {
                        l.running -= 1;
                        return;
                    }
                }
            }
        }));
    }
}

/// Runs `f` on a pool thread and waits for its answer until `deadline` or until
/// `ctx` ends, parking only the calling coroutine (Go: the `select` on the lookup's
/// result and `ctx.Done()` in `lookupIPAddr` and `cgoLookupIPCNAME`). When the wait ends
/// first, the reason is returned and the answer, if it still comes, is dropped: a job no
/// pool thread has started yet is skipped.
pub(crate) fn run<T, F>(f: F, ctx: &Context, deadline: Option<Instant>) -> Result<T, Ended>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if let Some(why) = ctx.ended() {
        return Err(why);
    }
    if deadline.is_some_and(|d| d <= Instant::now()) {
        return Err(Ended::DeadlineExceeded);
    }
    // A buffer of one: the pool thread never waits for the caller, and once the caller
    // has gone (its receiver dropped) the send fails and the answer is dropped.
    let (tx, rx) = crate::chan::chan::<T>(1);
    let abandoned = Arc::new(AtomicBool::new(false));
    let gave_up = abandoned.clone();
    pool().submit(Box::new(move || {
        if !gave_up.load(Ordering::Acquire) {
            let _ = tx.send(f());
        }
    }));
    let timer = deadline.map(|d| crate::time::after(d.saturating_duration_since(Instant::now())));
    let answer = if ctx.can_cancel() {
        let done = ctx.done();
        let timer = timer.unwrap_or_else(crate::chan::never);
        crate::select! {
            recv(rx) -> v => v.ok_or(Ended::DeadlineExceeded),
            recv(done) => Err(ctx.ended().unwrap_or(Ended::Canceled)),
            recv(timer) => Err(Ended::DeadlineExceeded),
        }
    } else {
        match timer {
            None => rx.recv().ok_or(Ended::DeadlineExceeded),
            Some(timer) => crate::select! {
                recv(rx) -> v => v.ok_or(Ended::DeadlineExceeded),
                recv(timer) => Err(Ended::DeadlineExceeded),
            },
        }
    };
    // (A closed `rx` means the job panicked without an answer: reported as a timeout,
    // the lookup's only other way of ending without one.)
    if answer.is_err() {
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

/// The most lookups that have run at once so far (for tests and diagnostics).
pub(crate) fn threads() -> usize {
    lookups().peak
}

/// The system resolver (getaddrinfo(3)): DNS and whatever nsswitch.conf lists. Blocks the
/// calling thread: call it through [`run`].
pub(crate) fn getaddrinfo(host: &str) -> Result<Vec<IpAddr>, DnsError> {
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
        let errno = (rc == libc::EAI_SYSTEM).then(io::Error::last_os_error);
        return Err(gai_error(
            host,
            rc,
            errno,
            crate::net::dnsconfig::go_resolver(host),
        ));
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

/// The error of a failed getaddrinfo, as Go reports the same failure.
///
/// Where Go would have used its own DNS client (`go_resolver`: Go's default with
/// `hosts: files dns`), its texts, naming the server as Go does: a name that does not
/// exist (or has no address) was answered by the first name server, `lookup NAME on
/// SERVER: no such host`; a temporary failure (SERVFAIL, no answer) is the last server
/// tried, `lookup NAME on SERVER: server misbehaving`. Otherwise Go's cgo texts (Go's
/// cgoLookupIPCNAME): `no such host` for EAI_NONAME, and the C library's own message for
/// the rest (`Temporary failure in name resolution`).
pub(crate) fn gai_error(
    host: &str,
    rc: i32,
    errno: Option<io::Error>,
    go_resolver: bool,
) -> DnsError {
    let mut e = DnsError {
        err: String::new(),
        name: host.to_string(),
        server: String::new(),
        is_not_found: false,
        is_temporary: false,
        is_timeout: false,
    };
    if go_resolver && matches!(rc, libc::EAI_NONAME | libc::EAI_NODATA | libc::EAI_AGAIN) {
        let servers = crate::net::dnsconfig::servers();
        if rc == libc::EAI_AGAIN {
            e.err = "server misbehaving".into();
            e.is_temporary = true;
            e.server = servers.last().cloned().unwrap_or_default();
        } else {
            e.err = "no such host".into();
            e.is_not_found = true;
            e.server = servers.first().cloned().unwrap_or_default();
        }
        return e;
    }
    match rc {
        libc::EAI_NONAME => {
            e.err = "no such host".into();
            e.is_not_found = true;
        }
        libc::EAI_SYSTEM => {
            // Go: EAI_SYSTEM with no errno is reported as EMFILE (golang.org/issue/6232).
            let errno = errno
                .filter(|e| e.raw_os_error().is_some_and(|n| n != 0))
                .unwrap_or_else(|| io::Error::from_raw_os_error(libc::EMFILE));
            e.err = crate::net::Errno::of(&errno).to_string();
        }
        _ => {
            e.err = gai_error_text(rc);
            e.is_temporary = rc == libc::EAI_AGAIN;
        }
    }
    e
}

/// For tests (tests/dns_errors.rs): the error gonet reports for getaddrinfo's `rc` on
/// `host`, as Go's own DNS client (`go_resolver`) or its cgo mode would; and whether Go
/// would use its own client for `host` on this machine.
#[doc(hidden)]
pub fn __gai_error(host: &str, rc: i32, go_resolver: bool) -> DnsError {
    gai_error(host, rc, None, go_resolver)
}

#[doc(hidden)]
pub fn __go_resolver(host: &str) -> bool {
    crate::net::dnsconfig::go_resolver(host)
}

/// Go: `addrinfoErrno.Error()`: `gai_strerror`'s text as it is.
fn gai_error_text(rc: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    let msg = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) };
    msg.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_jobs_and_gives_up_at_the_deadline() {
        let bg = crate::context::background();
        assert_eq!(run(|| 6 * 7, &bg, None), Ok(42));
        let (release_tx, release_rx) = crossbeam::channel::bounded::<()>(1);
        let start = Instant::now();
        let slow = run(
            move || release_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            &bg,
            Some(start + Duration::from_millis(50)),
        );
        assert_eq!(slow, Err(Ended::DeadlineExceeded));
        assert!(start.elapsed() >= Duration::from_millis(50));
        release_tx.send(()).unwrap();
        assert!(threads() >= 1 && threads() <= MAX_THREADS);
        assert_eq!(
            run(|| 1, &bg, Some(Instant::now())),
            Err(Ended::DeadlineExceeded),
            "a passed deadline runs nothing"
        );
        let (ctx, cancel) = crate::context::with_cancel(&bg);
        cancel();
        assert_eq!(
            run(|| 1, &ctx, None),
            Err(Ended::Canceled),
            "an ended context runs nothing"
        );
    }

    #[test]
    fn a_cancel_ends_the_wait_and_drops_the_answer() {
        let (ctx, cancel) = crate::context::with_cancel(&crate::context::background());
        let (release_tx, release_rx) = crossbeam::channel::bounded::<()>(1);
        let (dropped_tx, dropped_rx) = crossbeam::channel::bounded::<()>(1);
        struct Answer(crossbeam::channel::Sender<()>);
        impl Drop for Answer {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let (started_tx, started_rx) = crossbeam::channel::bounded::<()>(1);
        let canceller = std::thread::spawn(move || {
            // Cancel while the caller waits: once the job runs on a pool thread.
            let _ = started_rx.recv_timeout(Duration::from_secs(10));
            cancel();
        });
        let start = Instant::now();
        let r = run(
            move || {
                let _ = started_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(10));
                Answer(dropped_tx)
            },
            &ctx,
            None,
        );
        assert!(matches!(r, Err(Ended::Canceled)));
        assert!(start.elapsed() < Duration::from_secs(5));
        canceller.join().unwrap();
        release_tx.send(()).unwrap();
        // The late answer is made, finds nobody waiting, and is dropped.
        assert!(dropped_rx.recv_timeout(Duration::from_secs(10)).is_ok());
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
