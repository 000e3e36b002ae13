//! The blocking pool: OS threads that run calls which would block a worker thread.
//!
//! Go: `runtime/proc.go` (`entersyscall`, `exitsyscall`, `handoffp`). A goroutine that
//! enters a blocking system call or a cgo call keeps its OS thread, and the scheduler
//! hands the thread's P to another thread, so the other goroutines keep running. may's
//! workers cannot be handed off: a worker blocked in `read(2)` on a slow disk, in a C
//! library or in a long computation stalls every coroutine queued on it and every socket
//! its poller owns. So gonet moves the call instead of the scheduler: [`blocking`] runs
//! it on a thread of this pool, and only the calling coroutine parks meanwhile.
//!
//! The pool grows on demand, one thread per call that finds no idle thread, up to
//! [`set_max_blocking_threads`] (512 by default; calls past it queue in order), and a
//! thread idle for [`BLOCKING_IDLE_TIMEOUT`] exits. Threads are named `gonet-blocking`.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use crate::runtime::park::Parker;

/// How long a pool thread waits for another call before it exits.
pub const BLOCKING_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The default for [`set_max_blocking_threads`].
pub const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// Runs `f` on a thread of the blocking pool and returns what it returns, parking only
/// the calling coroutine meanwhile; the worker thread goes on running other coroutines
/// and serving their sockets. Called from a plain thread (not a coroutine), it just runs
/// `f` there.
///
/// Go: what the runtime does for every blocking system call and cgo call (`entersyscall`
/// / `exitsyscall`); Go code needs no wrapper. Use it around anything that blocks the
/// thread: file I/O (`gonet::os` already does), a C library call, `std::thread::sleep`, a
/// std or crossbeam lock held for long, or a computation longer than a millisecond or so.
///
/// `f` may borrow from the caller: the caller cannot leave until `f` has returned (a may
/// cancel of the calling coroutine waits for it too, holding the worker thread, and then
/// unwinds). A panic in `f` is re-raised in the caller. The caller is resumed on a worker
/// that is not stuck (see [`num_spinning`](crate::runtime::num_spinning)).
///
/// ```
/// let h = gonet::go!(|| {
///     let buf = [1u8, 2, 3];
///     // Borrowed by the pool thread; the coroutine parks until the sum is back.
///     gonet::runtime::blocking(|| buf.iter().map(|&b| u32::from(b)).sum::<u32>())
/// });
/// assert_eq!(h.join().unwrap(), 6);
/// ```
pub fn blocking<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    if !may::coroutine::is_coroutine() {
        return f();
    }
    let job = ScopedJob {
        f: UnsafeCell::new(Some(f)),
        out: UnsafeCell::new(None),
        done: AtomicBool::new(false),
        parker: Arc::new(Parker::new()),
    };
    let ptr: *const (dyn RunScoped + '_) = &job;
    // SAFETY: only the lifetime is erased. `job` lives on this coroutine's stack, and this
    // function does not return (nor unwind: nothing below panics before `done`) until
    // the pool thread has set `done`, after which the pool thread no longer touches `job`
    // (it cloned the parker out first). So the pointer is valid whenever it is used.
    let ptr: *const (dyn RunScoped + 'static) = unsafe { std::mem::transmute(ptr) };
    pool().submit(Task::Scoped(ScopedPtr(ptr)));
    let mut cancelled = None;
    while !job.done.load(Ordering::Acquire) {
        if let Err(cancel) = job.parker.park() {
            // A may cancel: this coroutine can no longer park, but `f` still uses its
            // frame. Hold the thread until `f` is done, then let the cancel unwind.
            while !job.done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
            }
            cancelled = Some(cancel);
        }
    }
    if let Some(cancel) = cancelled {
        resume_unwind(cancel);
    }
    // SAFETY: `done` (Acquire) orders the pool thread's write of `out` before this read,
    // and the pool thread no longer touches `job`.
    match unsafe { (*job.out.get()).take() } {
        Some(Ok(v)) => v,
        Some(Err(panic)) => resume_unwind(panic),
        // The pool thread sets `out` before `done`.
        None => unreachable!("a blocking job finished without a result"),
    }
}

/// Sets the most threads the blocking pool runs at once and returns the previous limit;
/// `0` changes nothing and just reports it. Calls past the limit wait, in order, for a
/// thread to come free. The default is [`DEFAULT_MAX_BLOCKING_THREADS`].
///
/// Go: `runtime/debug.SetMaxThreads` (10,000 by default), which bounds all of Go's
/// threads and crashes the program past it; here only the pool is bounded, and calls
/// queue instead.
///
/// ```
/// let before = gonet::runtime::set_max_blocking_threads(0);
/// assert_eq!(before, gonet::runtime::DEFAULT_MAX_BLOCKING_THREADS);
/// ```
pub fn set_max_blocking_threads(n: usize) -> usize {
    let mut st = pool().state();
    let previous = st.max;
    if n > 0 {
        st.max = n;
    }
    previous
}

/// The threads the blocking pool has now, busy or idle.
///
/// ```
/// gonet::go!(|| gonet::runtime::blocking(|| ())).join().unwrap();
/// assert!(gonet::runtime::blocking_threads() >= 1);
/// ```
pub fn blocking_threads() -> usize {
    pool().state().threads
}

/// Queues `job` on the pool without waiting for it: for callers that wait in their own
/// way (the resolver stops waiting at a deadline).
pub(crate) fn spawn_detached(job: Box<dyn FnOnce() + Send + 'static>) {
    pool().submit(Task::Owned(job));
}

/// A `blocking` call, on its caller's stack.
struct ScopedJob<F, T> {
    f: UnsafeCell<Option<F>>,
    out: UnsafeCell<Option<Result<T, Box<dyn Any + Send>>>>,
    done: AtomicBool,
    parker: Arc<Parker>,
}

trait RunScoped {
    /// Runs the call and wakes its caller.
    ///
    /// # Safety
    /// Called once, by one pool thread, while the caller waits for `done`.
    unsafe fn run(&self);
}

impl<F: FnOnce() -> T + Send, T: Send> RunScoped for ScopedJob<F, T> {
    unsafe fn run(&self) {
        // SAFETY (both cells): the caller reads them only after `done`, and this is
        // the only thread that touches them before it.
        let f = unsafe { (*self.f.get()).take() };
        let out = match f {
            Some(f) => catch_unwind(AssertUnwindSafe(f)),
            None => return,
        };
        unsafe { *self.out.get() = Some(out) };
        // After `done` the caller may return and free `self`: keep our own handle.
        let parker = self.parker.clone();
        self.done.store(true, Ordering::Release);
        parker.unpark();
    }
}

/// A pointer to a [`ScopedJob`], sent to a pool thread.
struct ScopedPtr(*const (dyn RunScoped + 'static));

// SAFETY: the job behind the pointer is Send (F and T are) and is used by exactly one
// pool thread while its owner waits.
unsafe impl Send for ScopedPtr {}

enum Task {
    Scoped(ScopedPtr),
    Owned(Box<dyn FnOnce() + Send + 'static>),
}

impl Task {
    fn run(self) {
        match self {
            // SAFETY: the pointer is valid until `run` sets `done` (see `blocking`).
            Task::Scoped(p) => unsafe { (*p.0).run() },
            Task::Owned(job) => {
                if catch_unwind(AssertUnwindSafe(job)).is_err() {
                    log::error!("gonet: a blocking-pool job panicked");
                }
            }
        }
    }
}

struct Pool {
    tx: crossbeam::channel::Sender<Task>,
    rx: crossbeam::channel::Receiver<Task>,
    state: Mutex<State>,
}

struct State {
    /// Threads running (busy or idle).
    threads: usize,
    /// Threads waiting for a task.
    idle: usize,
    /// Tasks submitted that no thread has taken yet.
    queued: usize,
    max: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = crossbeam::channel::unbounded();
        Pool {
            tx,
            rx,
            state: Mutex::new(State {
                threads: 0,
                idle: 0,
                queued: 0,
                max: DEFAULT_MAX_BLOCKING_THREADS,
            }),
        }
    })
}

impl Pool {
    fn state(&self) -> MutexGuard<'_, State> {
        // Counters only, and nothing panics while the lock is held.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `task`, starting a thread if every thread is busy and the limit allows.
    fn submit(&'static self, task: Task) {
        let mut st = self.state();
        st.queued += 1;
        if st.queued > st.idle && st.threads < st.max {
            st.threads += 1;
            let spawned = std::thread::Builder::new()
                .name("gonet-blocking".into())
                .spawn(move || self.work());
            if let Err(e) = spawned {
                st.threads -= 1;
                if st.threads == 0 {
                    // No thread will ever take it: run it here rather than never.
                    st.queued -= 1;
                    drop(st);
                    log::warn!("gonet: cannot start a blocking-pool thread ({e}); running inline");
                    task.run();
                    return;
                }
                log::warn!("gonet: cannot start another blocking-pool thread: {e}");
            }
        }
        // The pool holds a receiver, so a send on the unbounded channel cannot fail. It
        // happens under the lock: a thread that times out sees `queued` and stays.
        let _ = self.tx.send(task);
    }

    fn work(&self) {
        loop {
            self.state().idle += 1;
            let got = self.rx.recv_timeout(BLOCKING_IDLE_TIMEOUT);
            let mut st = self.state();
            st.idle -= 1;
            match got {
                Ok(task) => {
                    st.queued -= 1;
                    drop(st);
                    task.run();
                }
                // A task is on its way to the channel: stay for it.
                Err(_) if st.queued > 0 => {}
                Err(_) => {
                    st.threads -= 1;
                    return;
                }
            }
        }
    }
}
