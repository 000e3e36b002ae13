//! The rescue poller: readiness of the sockets of a stuck worker, served elsewhere.
//!
//! Go: `runtime/netpoll.go`, `netpoll_epoll.go`. Go has one epoll set that any thread can
//! poll. may gives each worker its own and registers a descriptor with worker
//! `fd % workers`, so the sockets of a worker stuck in a coroutine that never parks get no
//! readiness at all. gonet keeps the fast path as it is (may's pollers) and keeps a list
//! of its registrations by worker ([`track`], called by `net/fd.rs` for every netpoller
//! registration). When sysmon finds a worker stuck, [`rescue`] adds that worker's
//! descriptors to one more epoll set, served by the rescue threads (`proc.rs`), which
//! wake each parked coroutine on a healthy worker (or, when no worker is healthy, run it
//! themselves). [`unrescue`] takes them out again when the worker is back. An epoll set
//! may hold a descriptor that another one holds too, and a wake-up that both deliver is
//! only taken once (may's `EventData` keeps the parked coroutine in an atomic slot).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use may::io::{AsIoData, CoIo};

/// Wakes the coroutine parked on one may registration: sets the events the poller saw
/// and schedules it (on a worker: its local queue) or, `inline`, runs it on this thread.
#[derive(Clone)]
pub(crate) struct IoWake(Arc<dyn Fn(usize, bool) + Send + Sync>);

impl IoWake {
    pub(crate) fn wake(&self, events: usize, inline: bool) {
        (self.0)(events, inline)
    }
}

/// The [`IoWake`] of a may registration.
pub(crate) fn io_wake<T: AsRawFd>(io: &CoIo<T>) -> IoWake {
    // may's per-registration state: the parked coroutine and the event bits. Its type
    // has no public name; the closure captures it by inference.
    let data = (**io.as_io_data()).clone();
    IoWake(Arc::new(move |events: usize, inline: bool| {
        data.io_flag.fetch_or(events, Ordering::Release);
        if inline {
            data.fast_schedule();
        } else {
            data.schedule();
        }
    }))
}

/// may's bit for "woken without an event" (`WaitIoWaker::wakeup` sets it too); gonet's
/// netpoller reads it as "look at the socket again".
const NUDGE: usize = 0x8000_0000;

/// Wakes the coroutine parked on `wake` from a thread that is not a worker (the timer
/// thread): through the injector, so on a worker that is not stuck.
pub(crate) fn wake_from_thread(wake: &IoWake) {
    if crate::runtime::proc::on_worker() || crate::runtime::proc::sched().is_none() {
        wake.wake(NUDGE, false);
        return;
    }
    let wake = wake.clone();
    crate::runtime::proc::inject(crate::runtime::proc::Runnable::Call(Box::new(move |_| {
        wake.wake(NUDGE, true)
    })));
}

/// may's `wait_io` as a gonet scheduling point: the coroutine's `go!` site goes with it
/// to whichever thread resumes it.
#[inline]
pub(crate) fn wait_io<T: AsRawFd>(io: &CoIo<T>) -> usize {
    use may::io::WaitIo;
    let site = crate::runtime::proc::current_site();
    let events = io.wait_io();
    crate::runtime::proc::mark(site);
    events
}

/// A registration on gonet's list; dropping it takes it off (and out of the rescue set).
pub(crate) struct Tracked {
    home: usize,
    key: u32,
}

struct Entry {
    fd: RawFd,
    wake: IoWake,
}

#[derive(Default)]
struct Shard {
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    /// The worker is stuck: its descriptors are in the rescue set.
    rescued: bool,
}

struct Netpoll {
    epoll: OwnedFd,
    shards: Vec<Mutex<Shard>>,
}

static NETPOLL: OnceLock<Netpoll> = OnceLock::new();

/// epoll data of the rescue threads' eventfd.
const POKE: u64 = u64::MAX;

fn shard(np: &Netpoll, k: usize) -> MutexGuard<'_, Shard> {
    // Plain bookkeeping, nothing that panics while held.
    np.shards[k].lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes the rescue epoll set, with the rescue threads' eventfd `poke` in it.
pub(crate) fn init(poke: RawFd) -> io::Result<()> {
    // SAFETY: epoll_create1 has no memory arguments.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor nobody else owns.
    let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
    ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, poke, POKE)?;
    let n = may::config().get_workers().max(1);
    let _ = NETPOLL.set(Netpoll {
        epoll,
        shards: (0..n).map(|_| Mutex::new(Shard::default())).collect(),
    });
    Ok(())
}

fn ctl(epoll: RawFd, op: i32, fd: RawFd, data: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
        u64: data,
    };
    // SAFETY: ev is a valid epoll_event for the call.
    if unsafe { libc::epoll_ctl(epoll, op, fd, &mut ev) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Puts a may registration on gonet's list, under the worker whose poller has it.
/// `None` when gonet's scheduler is off.
pub(crate) fn track<T: AsRawFd>(io: &CoIo<T>) -> Option<Tracked> {
    if !crate::runtime::proc::start() {
        return None;
    }
    let np = NETPOLL.get()?;
    let fd = io.as_raw_fd();
    let home = usize::try_from(fd).ok()? % np.shards.len();
    let wake = io_wake(io);
    let mut sh = shard(np, home);
    let key = match sh.free.pop() {
        Some(k) => {
            sh.entries[k as usize] = Some(Entry { fd, wake });
            k
        }
        None => {
            sh.entries.push(Some(Entry { fd, wake }));
            u32::try_from(sh.entries.len() - 1).ok()?
        }
    };
    if sh.rescued {
        let _ = ctl(
            np.epoll.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            fd,
            data_of(home, key),
        );
    }
    Some(Tracked { home, key })
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let Some(np) = NETPOLL.get() else { return };
        let mut sh = shard(np, self.home);
        if let Some(e) = sh.entries.get_mut(self.key as usize).and_then(Option::take) {
            if sh.rescued {
                let _ = ctl(np.epoll.as_raw_fd(), libc::EPOLL_CTL_DEL, e.fd, 0);
            }
            sh.free.push(self.key);
        }
    }
}

fn data_of(home: usize, key: u32) -> u64 {
    ((home as u64) << 32) | u64::from(key)
}

/// Worker `k` is stuck: serve its descriptors from the rescue set. Returns how many.
pub(crate) fn rescue(k: usize) -> usize {
    let Some(np) = NETPOLL.get() else { return 0 };
    let mut sh = shard(np, k);
    if sh.rescued {
        return 0;
    }
    sh.rescued = true;
    let mut n = 0;
    for (key, e) in sh.entries.iter().enumerate() {
        if let Some(e) = e {
            if ctl(
                np.epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                e.fd,
                data_of(k, key as u32),
            )
            .is_ok()
            {
                n += 1;
            }
        }
    }
    n
}

/// Worker `k` is back: its poller serves its descriptors alone again.
pub(crate) fn unrescue(k: usize) {
    let Some(np) = NETPOLL.get() else { return };
    let mut sh = shard(np, k);
    if !sh.rescued {
        return;
    }
    sh.rescued = false;
    for e in sh.entries.iter().flatten() {
        let _ = ctl(np.epoll.as_raw_fd(), libc::EPOLL_CTL_DEL, e.fd, 0);
    }
}

/// What a rescue thread found ready.
pub(crate) enum Ready {
    /// Its eventfd: injected work.
    Poke,
    /// A rescued registration, and the events.
    Io(IoWake, usize),
}

/// A buffer for [`wait`].
pub(crate) struct Events {
    raw: Vec<libc::epoll_event>,
    ready: Vec<Ready>,
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            raw: vec![libc::epoll_event { events: 0, u64: 0 }; 256],
            ready: Vec::new(),
        }
    }

    pub(crate) fn iter(&mut self) -> impl Iterator<Item = Ready> + '_ {
        self.ready.drain(..)
    }
}

/// Waits up to `timeout` on the rescue set and fills `events`.
pub(crate) fn wait(events: &mut Events, timeout: Duration) {
    events.ready.clear();
    let Some(np) = NETPOLL.get() else {
        std::thread::sleep(timeout);
        return;
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: raw is valid for raw.len() events for the call.
    let n = unsafe {
        libc::epoll_wait(
            np.epoll.as_raw_fd(),
            events.raw.as_mut_ptr(),
            events.raw.len() as i32,
            ms,
        )
    };
    for ev in &events.raw[..usize::try_from(n).unwrap_or(0)] {
        let data = ev.u64;
        if data == POKE {
            events.ready.push(Ready::Poke);
            continue;
        }
        let (k, key) = ((data >> 32) as usize, data as u32);
        let Some(lock) = np.shards.get(k) else {
            continue;
        };
        let sh = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(Some(e)) = sh.entries.get(key as usize) {
            events
                .ready
                .push(Ready::Io(e.wake.clone(), ev.events as usize));
        }
    }
}
