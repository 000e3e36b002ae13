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

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use may::io::CoIo;

use crate::runtime::proc;

/// Yield slots per worker: coroutines yielding at once on one worker beyond these take
/// the injector instead.
const SLOTS: usize = 4;

/// One eventfd on one worker's poller, used by one yielding coroutine at a time.
struct Slot {
    busy: AtomicBool,
    /// Made when the scheduler starts, so the process's descriptors are all there from
    /// its start (no descriptor appears at a first yield, hours later).
    fd: OwnedFd,
    /// Registered with may's poller on first use; `None`: it could not be.
    /// It borrows `fd`, which the slot owns: slots live as long as the process.
    io: OnceLock<Option<CoIo<BorrowedFd<'static>>>>,
}

static POOL: OnceLock<Vec<Vec<Slot>>> = OnceLock::new();

/// Makes every worker's yield eventfds (`SLOTS` each, worker `j`'s numbered `j` modulo
/// `n`): called once as gonet's scheduler starts.
pub(crate) fn init(n: usize) -> std::io::Result<()> {
    let mut pool = Vec::with_capacity(n);
    for j in 0..n {
        let mut slots = Vec::with_capacity(SLOTS);
        for _ in 0..SLOTS {
            slots.push(Slot {
                busy: AtomicBool::new(false),
                fd: proc::eventfd_with_residue(j, n)?,
                io: OnceLock::new(),
            });
        }
        pool.push(slots);
    }
    let _ = POOL.set(pool);
    Ok(())
}

/// Parks the calling coroutine until its worker's poller has run once (with it, every
/// ready socket of the worker). `false` when that cannot be done here (not on an
/// identified worker, every slot busy, no eventfd): the caller goes through the injector.
pub(crate) fn yield_to_poller() -> bool {
    let Some(j) = proc::worker_index() else {
        return false;
    };
    let Some(slots) = POOL.get().and_then(|p| p.get(j)) else {
        return false;
    };
    let Some(slot) = slots.iter().find(|s| !s.busy.swap(true, Ordering::Acquire)) else {
        return false;
    };
    let fd = slot.fd.as_raw_fd();
    let io = slot.io.get_or_init(|| {
        CoIo::new(slot.fd.as_fd())
            .map_err(|e| log::warn!("gonet: yield eventfd for worker {j}: {e}"))
            .ok()
    });
    let done = io.as_ref().is_some_and(|io| {
        proc::write_eventfd(fd);
        crate::runtime::netpoll::wait_io(io);
        proc::drain_eventfd(fd);
        true
    });
    slot.busy.store(false, Ordering::Release);
    done
}
