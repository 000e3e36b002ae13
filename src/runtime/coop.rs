//! The cooperative I/O budget's yield: a coroutine that has made many socket I/O calls
//! without parking lets its worker poll.
//!
//! Go: `runtime/proc.go` (`sysmon`, `preemptone`): a goroutine that runs 10 ms is
//! preempted, whatever it does. gonet cannot preempt, so its socket I/O calls count
//! (`proc::io_budget`, as tokio's coop budget does) and the one past the budget yields
//! here first. Neither of may's ways round the scheduler reaches the worker's poller:
//! `yield_now` requeues the coroutine on the local run queue, and a trip through gonet's
//! injector parks it until a dispatcher resumes it, but `run_queued_tasks` keeps the
//! worker stealing that coroutine back from the other worker's queue and never returns
//! to `epoll_wait` (measured: a ping on the worker's sockets went unanswered for
//! seconds). So the coroutine waits on worker `j`'s own poller instead: a few eventfds
//! per worker, numbered `j` modulo the worker count (may 0.3.51 registers a descriptor
//! with worker `fd % workers`, pinned and checked by tests/spin.rs), each written and then
//! waited on. Only that worker's `epoll_wait` reports the write, together with every
//! other ready socket of the worker, and resumes the coroutine on it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use may::io::CoIo;

use crate::runtime::proc;

/// Yield slots per worker: coroutines yielding at once on one worker beyond these take
/// the injector instead.
const SLOTS: usize = 8;

/// One eventfd on one worker's poller, used by one yielding coroutine at a time.
#[derive(Default)]
struct Slot {
    busy: AtomicBool,
    /// Registered on first use (may's poller must be running); `None`: it could not be.
    io: OnceLock<Option<CoIo<OwnedFd>>>,
}

fn slots(j: usize, n: usize) -> Option<&'static [Slot]> {
    static POOL: OnceLock<Vec<Vec<Slot>>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        (0..n)
            .map(|_| (0..SLOTS).map(|_| Slot::default()).collect())
            .collect()
    });
    pool.get(j).map(Vec::as_slice)
}

/// Parks the calling coroutine until its worker's poller has run once (with it, every
/// ready socket of the worker). `false` when that cannot be done here (not on an
/// identified worker, every slot busy, no eventfd): the caller goes through the injector.
pub(crate) fn yield_to_poller() -> bool {
    let (Some(j), Some(s)) = (proc::worker_index(), proc::sched()) else {
        return false;
    };
    let n = s.workers.len();
    let Some(slots) = slots(j, n) else {
        return false;
    };
    let Some(slot) = slots.iter().find(|s| !s.busy.swap(true, Ordering::Acquire)) else {
        return false;
    };
    let io = slot.io.get_or_init(|| {
        let fd = proc::eventfd_with_residue(j, n)
            .map_err(|e| log::warn!("gonet: no yield eventfd for worker {j}: {e}"))
            .ok()?;
        CoIo::new(fd)
            .map_err(|e| log::warn!("gonet: yield eventfd for worker {j}: {e}"))
            .ok()
    });
    let done = io.as_ref().is_some_and(|io| {
        let fd = io.inner().as_raw_fd();
        proc::write_eventfd(fd);
        crate::runtime::netpoll::wait_io(io);
        proc::drain_eventfd(fd);
        true
    });
    slot.busy.store(false, Ordering::Release);
    done
}
