//! Where coroutines run: may's worker threads, gonet's dispatchers on them, the injector
//! that gonet's own threads hand work to, and the rescue threads that run coroutines
//! while every worker is stuck.
//!
//! Go: `runtime/proc.go`. Go's scheduler preempts a goroutine that runs 10 ms, its
//! netpoller belongs to no thread, and its global run queue is served by every P. may has
//! none of that: each worker owns a run queue, an epoll instance (a socket belongs to
//! worker `fd % workers`) and a global queue that only it takes from, so one coroutine
//! that never parks strands its worker's sockets and everything queued or spawned there.
//! Preempting a coroutine from a signal handler is unsound in Rust, so gonet contains the
//! damage instead, with may's public API and two facts about may 0.3.51 (pinned in
//! Cargo.toml and checked by tests/spin.rs: `fd % workers`, and that a worker's global
//! queue is taken by that worker alone):
//!
//! - **Dispatchers.** Each worker `j` runs one gonet coroutine, its dispatcher, parked on
//!   an eventfd whose number is `j` modulo the worker count, so only worker `j`'s poller
//!   wakes it. Writing that eventfd (a poke) is how another thread gets work onto worker
//!   `j`, and the dispatcher's running is how sysmon (`sysmon.rs`) knows `j` is alive.
//! - **The injector** ([`inject`]): gonet's own threads (the timer, the blocking pool,
//!   sysmon, rescue threads) never wake a coroutine with may's `schedule` from outside a
//!   worker, which puts it on the global queue of a worker chosen round-robin, stuck or
//!   not. They queue the wake-up here, in one queue every dispatcher drains, and poke a
//!   worker that is not stuck; if it gets stuck before draining, sysmon pokes another.
//! - **Spawning** ([`spawn`]): from a coroutine on a worker that sysmon has not marked
//!   stuck, while another worker is not stuck either, the new coroutine starts on that
//!   worker's own run queue (may's `spawn_local`, then a yield), which idle workers steal
//!   from, as Go's `newproc` puts it on the current P (`runqput`): no system call. From
//!   any other thread (or a stuck worker, or when the others are stuck and could not
//!   steal it) it parks at once and is started through the injector. may's own `spawn`
//!   would put it on a round-robin global queue.
//! - **Rescue threads** (`gonet-rescue`, Go's extra Ms): when every worker is stuck,
//!   sysmon starts one; it serves the injector and the sockets of stuck workers
//!   (`netpoll.rs`) by running their coroutines itself, and another starts if it gets
//!   stuck too.
//!
//! Each thread that runs coroutines has a [`ThreadSlot`], Go's `schedtick`: a counter
//! bumped at every gonet scheduling point (a netpoller park, a channel wait, a gonet
//! park, a coroutine's start) and the `go!` site of the coroutine running there.

use std::any::Any;
use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crossbeam::queue::SegQueue;
use may::coroutine::{Builder, JoinHandle};
use may::io::{CoIo, WaitIo};

use crate::runtime::park::Parker;

// ---------------------------------------------------------------------------------------
// Time, in nanoseconds since a process-wide origin (atomics hold it)
// ---------------------------------------------------------------------------------------

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Nanoseconds since gonet's scheduler clock started (never 0 once it has).
pub(crate) fn now_ns() -> u64 {
    u64::try_from(origin().elapsed().as_nanos()).unwrap_or(u64::MAX) + 1
}

// ---------------------------------------------------------------------------------------
// Threads that run coroutines
// ---------------------------------------------------------------------------------------

/// What a thread is to gonet's scheduler.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// A may worker (a dispatcher has run here).
    Worker,
    /// A gonet rescue thread.
    Rescue,
}

/// One thread that runs coroutines, as sysmon sees it.
pub(crate) struct ThreadSlot {
    pub(crate) role: Role,
    /// Bumped at every gonet scheduling point on this thread (Go's `schedtick`).
    pub(crate) progress: AtomicU64,
    /// The `go!` site of the coroutine that last passed a scheduling point here; null
    /// when the scheduler itself (a dispatcher, a rescue loop) did.
    pub(crate) site: AtomicPtr<Location<'static>>,
    /// A rescue thread is running a coroutine (not waiting for work).
    pub(crate) busy: AtomicBool,
    /// For signalling the thread (the abort report's stack capture).
    pub(crate) pthread: libc::pthread_t,
    pub(crate) tid: i32,
    /// The thread's number among threads of its role, for messages.
    pub(crate) index: usize,
}

thread_local! {
    static SLOT: Cell<Option<&'static ThreadSlot>> = const { Cell::new(None) };
    /// The index of the worker this thread is, once its dispatcher has run here at home
    /// (`usize::MAX`: not a worker, or not identified).
    static WORKER_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Local spawns on this thread since its last scheduling point ([`mark`]).
    static LOCAL_RUN: Cell<usize> = const { Cell::new(0) };
    /// Socket I/O calls on this thread since its last scheduling point ([`mark`]).
    static IO_RUN: Cell<u32> = const { Cell::new(0) };
}

/// After this many local spawns with no scheduling point between, the spawner goes round
/// the scheduler once (Go: the preemption check a goroutine meets at a call).
const LOCAL_BATCH: usize = 64;

/// Every registered thread, in registration order.
pub(crate) fn threads() -> Vec<&'static ThreadSlot> {
    registry()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

fn registry() -> &'static Mutex<Vec<&'static ThreadSlot>> {
    static THREADS: Mutex<Vec<&'static ThreadSlot>> = Mutex::new(Vec::new());
    &THREADS
}

/// The calling thread's slot, registered now in `role` if it has none. Slots live for the
/// process (threads that run coroutines are few and long-lived).
fn slot_or_register(role: Role) -> &'static ThreadSlot {
    if let Some(s) = SLOT.get() {
        return s;
    }
    let mut all = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let index = all.iter().filter(|s| s.role == role).count();
    let slot: &'static ThreadSlot = Box::leak(Box::new(ThreadSlot {
        role,
        progress: AtomicU64::new(1),
        site: AtomicPtr::new(ptr::null_mut()),
        busy: AtomicBool::new(false),
        // SAFETY: pthread_self and gettid have no preconditions.
        pthread: unsafe { libc::pthread_self() },
        tid: unsafe { libc::syscall(libc::SYS_gettid) } as i32,
        index,
    }));
    all.push(slot);
    SLOT.set(Some(slot));
    slot
}

/// Whether a wake-up made here should go through the injector: gonet's scheduler runs
/// and this is not a may worker (where may queues the coroutine locally).
#[inline(never)]
pub(crate) fn wake_from_outside() -> bool {
    sched().is_some() && !on_worker()
}

/// Whether the calling thread is a may worker (known once a dispatcher ran on it).
#[inline(never)]
pub(crate) fn on_worker() -> bool {
    SLOT.get().is_some_and(|s| s.role == Role::Worker)
}

/// A scheduling point on this thread: the coroutine that passed it is the one running
/// here now, with its `go!` site `site` (null: unknown or the scheduler).
///
/// This and the other thread-local readers here are never inlined: a coroutine that
/// parks may resume on another thread, and a thread-local's address computed before the
/// park, inlined into the caller, could be reused after it (may's caveat about
/// thread-locals in coroutines): the mark would then count on the thread the coroutine
/// left, and the one it runs on would look stuck.
#[inline(never)]
pub(crate) fn mark(site: *const Location<'static>) {
    LOCAL_RUN.set(0);
    IO_RUN.set(0);
    if let Some(s) = SLOT.get() {
        s.progress
            .store(s.progress.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        s.site.store(site.cast_mut(), Ordering::Relaxed);
    }
}

/// The `go!` site recorded on this thread: what a coroutine about to park saves, to
/// restore it with [`mark`] wherever it resumes. Every gonet park point calls it first,
/// so it also releases a pooled stack's unused pages at the coroutine's first park
/// (`stack::before_park`).
#[inline(never)]
pub(crate) fn current_site() -> *const Location<'static> {
    super::stack::before_park();
    SLOT.get()
        .map_or(ptr::null(), |s| s.site.load(Ordering::Relaxed).cast_const())
}

/// Runs a coroutine's body: the frame the abort report looks for, and its start is a
/// scheduling point. Its frame holds the coroutine's [`SiteRecord`] while `f` runs.
#[inline(never)]
fn go_entry<F: FnOnce() -> T, T>(site: &'static Location<'static>, f: F) -> T {
    mark(site);
    let record = SiteRecord::new(site);
    // The record's address escapes: the compiler keeps its words in this frame, as they
    // are, until it is dropped (after `f`, or while unwinding).
    std::hint::black_box(&record);
    let out = f();
    drop(record);
    out
}

/// A coroutine's `go!` site, kept in its first frame (`go_entry`) for as long as it
/// runs: what sysmon's report names. The thread slot's `site` says which coroutine last
/// passed a gonet scheduling point on a thread, which goes stale when may switches
/// coroutines on its own (a nested resume, a may primitive); the record cannot, since it
/// lives on the coroutine's own stack. A signal handler on the stuck thread finds it
/// ([`running_site`], from `traceback.rs`) by scanning the interrupted coroutine's stack.
#[repr(C)]
struct SiteRecord {
    magic: usize,
    site: usize,
    /// `site ^ SITE_CHECK`: a stray `SITE_MAGIC` word on a stack is not a record.
    check: usize,
}

/// "go!site" in ASCII.
const SITE_MAGIC: usize = 0x6574_6973_2167_6f67;
const SITE_CHECK: usize = 0x5a5a_a5a5_0f0f_f0f0;

impl SiteRecord {
    fn new(site: &'static Location<'static>) -> SiteRecord {
        let site = site as *const Location<'static> as usize;
        SiteRecord {
            magic: SITE_MAGIC,
            site,
            check: site ^ SITE_CHECK,
        }
    }
}

impl Drop for SiteRecord {
    fn drop(&mut self) {
        // A stack is reused by the next coroutine (may's pool): leave no record behind.
        // SAFETY: a valid, aligned field of self.
        unsafe { ptr::write_volatile(&mut self.magic, 0) };
    }
}

/// The `go!` site of the coroutine whose stack holds `sp`, read from its [`SiteRecord`];
/// null if the thread is not in a coroutine gonet started. Only reads memory of the
/// running coroutine's stack, so a signal handler may call it (it allocates nothing and
/// takes no lock).
pub(crate) fn running_site(sp: usize) -> *const Location<'static> {
    let Some((bottom, top)) = super::stack::running_stack(sp) else {
        return ptr::null();
    };
    let word = std::mem::size_of::<usize>();
    // From the top down: go_entry's frame is among the coroutine's first.
    let mut p = (top - 3 * word) & !(word - 1);
    let low = sp.max(bottom);
    while p >= low {
        // SAFETY: [sp, top) is the interrupted coroutine's live stack (running_stack
        // checked generator's context), all of it mapped and readable.
        let (magic, site, check) = unsafe {
            (
                ptr::read_volatile(p as *const usize),
                ptr::read_volatile((p + word) as *const usize),
                ptr::read_volatile((p + 2 * word) as *const usize),
            )
        };
        if magic == SITE_MAGIC && check == site ^ SITE_CHECK && site != 0 {
            return site as *const Location<'static>;
        }
        p -= word;
    }
    ptr::null()
}

// ---------------------------------------------------------------------------------------
// Workers and their dispatchers
// ---------------------------------------------------------------------------------------

/// One may worker, as gonet tracks it.
pub(crate) struct Worker {
    /// The eventfd whose number is this worker's index modulo the worker count.
    ev: OwnedFd,
    /// A poke is on its way (the eventfd was written and the dispatcher has not run).
    pending: AtomicBool,
    /// When the current poke was written (0: none outstanding).
    pub(crate) poked_at: AtomicU64,
    /// When the dispatcher last ran (the worker reached its scheduler loop); 0 until
    /// its first run, which is the first thing the worker runs.
    pub(crate) alive_at: AtomicU64,
    /// sysmon's verdict: the worker has not come back to its loop for a while.
    pub(crate) stuck: AtomicBool,
    /// The worker's thread (null: not identified).
    pub(crate) thread: AtomicPtr<ThreadSlot>,
}

pub(crate) struct Sched {
    pub(crate) workers: Vec<Worker>,
    /// The next worker a poke tries first (round-robin).
    next: AtomicUsize,
    /// The rescue threads' eventfd (registered in netpoll's epoll set).
    pub(crate) rescue_ev: OwnedFd,
    pub(crate) rescue_threads: AtomicUsize,
}

static SCHED: OnceLock<Sched> = OnceLock::new();

/// gonet's scheduler state, once started.
pub(crate) fn sched() -> Option<&'static Sched> {
    SCHED.get()
}

/// Starts gonet's side of the scheduler (dispatchers, sysmon) once; may's scheduler starts
/// with it. Called on the first spawn or netpoller registration, after the program has
/// configured may. `false` if it could not start (then gonet runs on may alone).
pub(crate) fn start() -> bool {
    static STARTED: OnceLock<bool> = OnceLock::new();
    *STARTED.get_or_init(|| match try_start() {
        Ok(()) => {
            // may's scheduler runs: fill its pool before the program goes on.
            super::stack_pool::warm();
            true
        }
        Err(e) => {
            // Its capacity back, at least (may fills the pool if it starts later).
            super::stack_pool::warm();
            log::warn!("gonet: cannot start the spinning-coroutine watchdog: {e}; a coroutine that never parks will stall its worker");
            false
        }
    })
}

fn try_start() -> io::Result<()> {
    if !crate::runtime::sysmon::enabled() {
        return Err(io::Error::other("GONETDEBUG=sysmon=0"));
    }
    let n = may::config().get_workers().max(1);
    let mut workers = Vec::with_capacity(n);
    for j in 0..n {
        workers.push(Worker {
            ev: eventfd_with_residue(j, n)?,
            pending: AtomicBool::new(false),
            poked_at: AtomicU64::new(0),
            alive_at: AtomicU64::new(0),
            stuck: AtomicBool::new(false),
            thread: AtomicPtr::new(ptr::null_mut()),
        });
    }
    super::coop::init(n)?;
    let rescue_ev = eventfd()?;
    crate::runtime::netpoll::init(rescue_ev.as_raw_fd())?;
    let _ = SCHED.set(Sched {
        workers,
        next: AtomicUsize::new(0),
        rescue_ev,
        rescue_threads: AtomicUsize::new(0),
    });
    for j in 0..n {
        // Worker j's global queue: only worker j takes from it, so the dispatcher's first
        // run is there, and its eventfd is registered with worker j's poller either way.
        // SAFETY: the dispatcher keeps no thread-local data across its parks.
        unsafe { Builder::new().id(j).spawn(move || dispatcher(j)) }?;
    }
    crate::runtime::sysmon::spawn()?;
    Ok(())
}

fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd has no memory arguments.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An eventfd whose descriptor number is `j` modulo `n`: may registers a descriptor with
/// worker `fd % n`'s poller.
pub(crate) fn eventfd_with_residue(j: usize, n: usize) -> io::Result<OwnedFd> {
    let ev = eventfd()?;
    let mut at = ev.as_raw_fd();
    loop {
        if at as usize % n == j {
            // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor (the lowest free one >= at).
            let dup = unsafe { libc::fcntl(ev.as_raw_fd(), libc::F_DUPFD_CLOEXEC, at) };
            if dup < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a new descriptor nobody else owns.
            let dup = unsafe { OwnedFd::from_raw_fd(dup) };
            if dup.as_raw_fd() as usize % n == j {
                return Ok(dup);
            }
            // Taken: try the next number of the same residue.
            at = dup.as_raw_fd() + 1;
            drop(dup);
        } else {
            at += 1;
        }
        if at > 1 << 20 {
            return Err(io::Error::other("no free descriptor number of the residue"));
        }
    }
}

/// A descriptor number for `CoIo`, which only registers it.
struct Raw(RawFd);

impl AsRawFd for Raw {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Worker `j`'s dispatcher: woken through worker `j`'s poller, it proves the worker alive
/// and runs what was injected.
fn dispatcher(j: usize) {
    let Some(s) = sched() else { return };
    let w = &s.workers[j];
    let io = match CoIo::new(Raw(w.ev.as_raw_fd())) {
        Ok(io) => io,
        Err(e) => {
            log::error!(
                "gonet: worker {j}'s dispatcher cannot register: {}",
                io::Error::from(e)
            );
            return;
        }
    };
    let slot = slot_or_register(Role::Worker);
    let me = slot as *const ThreadSlot as *mut ThreadSlot;
    if tag(s.workers.len()) {
        w.thread.store(me, Ordering::Release);
    }
    loop {
        let slot = slot_or_register(Role::Worker);
        mark(ptr::null());
        let me = slot as *const ThreadSlot as *mut ThreadSlot;
        let home = w.thread.load(Ordering::Acquire);
        // Run elsewhere (stolen from worker j's queue): says nothing of j now.
        if home == me {
            WORKER_INDEX.set(j);
        }
        if home.is_null() || home == me {
            w.alive_at.store(now_ns(), Ordering::Release);
            w.poked_at.store(0, Ordering::Release);
        }
        w.pending.store(false, Ordering::SeqCst);
        drain_eventfd(w.ev.as_raw_fd());
        run_injected();
        io.wait_io();
    }
}

/// Which thread is which worker: every dispatcher's first run is on its own worker's
/// global queue, which only that worker takes from; one could still be stolen from the
/// worker's local queue by another worker, but then that worker's own dispatcher could
/// not run (the thief's thread waits here), so if all `n` meet here, within a moment,
/// each is on its own worker. `false` if they did not (the mapping stays unknown).
fn tag(n: usize) -> bool {
    static MET: Mutex<(usize, bool)> = Mutex::new((0, false));
    static CV: std::sync::Condvar = std::sync::Condvar::new();
    let mut met = MET.lock().unwrap_or_else(PoisonError::into_inner);
    met.0 += 1;
    if met.0 == n {
        met.1 = true;
        CV.notify_all();
        return true;
    }
    let end = Instant::now() + Duration::from_millis(200);
    while !met.1 {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            log::debug!("gonet: worker threads not identified (a worker was busy at start)");
            return false;
        }
        met = CV
            .wait_timeout(met, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    true
}

pub(crate) fn drain_eventfd(fd: RawFd) {
    let mut buf = [0u8; 8];
    // SAFETY: buf is valid for 8 bytes; the eventfd is non-blocking.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), 8) };
}

pub(crate) fn write_eventfd(fd: RawFd) {
    let one = 1u64.to_ne_bytes();
    // SAFETY: one is valid for 8 bytes; an eventfd write only fails when the counter
    // would overflow, which a pending wake-up makes harmless.
    unsafe { libc::write(fd, one.as_ptr().cast(), 8) };
}

impl Sched {
    /// Pokes worker `j` unless a poke is already on its way.
    pub(crate) fn poke(&self, j: usize) {
        let w = &self.workers[j];
        if !w.pending.swap(true, Ordering::SeqCst) {
            w.poked_at.store(now_ns(), Ordering::Release);
            write_eventfd(w.ev.as_raw_fd());
        }
    }

    /// Whether some worker is not stuck.
    pub(crate) fn any_healthy(&self) -> bool {
        self.workers
            .iter()
            .any(|w| !w.stuck.load(Ordering::Acquire))
    }

    /// Gets injected work taken: pokes the next worker that is not stuck (one with a poke
    /// pending will drain anyway), else the rescue threads.
    pub(crate) fn wake_one(&self) {
        let n = self.workers.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let j = (start + i) % n;
            let w = &self.workers[j];
            if w.stuck.load(Ordering::Acquire) {
                continue;
            }
            if !w.pending.load(Ordering::SeqCst) {
                self.poke(j);
            }
            return;
        }
        self.poke_rescue();
    }

    pub(crate) fn poke_rescue(&self) {
        if self.rescue_threads.load(Ordering::Acquire) == 0 {
            crate::runtime::sysmon::need_rescue_thread();
        }
        write_eventfd(self.rescue_ev.as_raw_fd());
    }
}

// ---------------------------------------------------------------------------------------
// The injector (Go: injectglist, the global run queue)
// ---------------------------------------------------------------------------------------

/// Work handed to the scheduler from outside a worker.
pub(crate) enum Runnable {
    /// Resume a coroutine parked on a gonet [`Parker`].
    Resume(Arc<Parker>),
    /// Run a closure on a scheduler thread; its argument says whether that is a worker
    /// (else a rescue thread). Coroutines it wakes are run there, inline.
    Call(Box<dyn FnOnce(bool) + Send>),
}

struct Injector {
    queue: SegQueue<Runnable>,
    /// When the queue was last drained. Not the age of what waits in it (work queued
    /// after a quiet spell finds this old): sysmon tells the two apart by looking twice.
    drained_at: AtomicU64,
    /// Set by sysmon when injected work has waited [`SPIN_AFTER`](super::SPIN_AFTER)
    /// with no drain: the rescue thread it pokes runs the work itself.
    starving: AtomicBool,
}

fn injector() -> &'static Injector {
    static INJ: OnceLock<Injector> = OnceLock::new();
    INJ.get_or_init(|| Injector {
        queue: SegQueue::new(),
        drained_at: AtomicU64::new(0),
        starving: AtomicBool::new(false),
    })
}

/// Queues `r` for a scheduler thread and gets one to take it.
pub(crate) fn inject(r: Runnable) {
    let Some(s) = sched() else {
        // gonet's scheduler is off: run it here, as may would.
        run(r, false);
        return;
    };
    injector().queue.push(r);
    s.wake_one();
}

/// Whether injected work waits, and when the queue was last drained: sysmon's look at
/// the injector, which keeps no clock per item (that would cost every `inject`).
pub(crate) fn injector_state() -> (bool, u64) {
    let inj = injector();
    (
        !inj.queue.is_empty(),
        inj.drained_at.load(Ordering::Acquire),
    )
}

/// sysmon's verdict: injected work has waited too long for a worker; the next rescue
/// thread to wake runs it.
pub(crate) fn set_injector_starving() {
    injector().starving.store(true, Ordering::Release);
}

/// Runs everything injected so far, on the calling scheduler thread.
pub(crate) fn run_injected() {
    let inj = injector();
    inj.drained_at.store(now_ns(), Ordering::Release);
    let worker = on_worker();
    while let Some(r) = inj.queue.pop() {
        run(r, worker);
    }
}

thread_local! {
    /// Set by a scheduler thread right before it resumes an injected coroutine, which
    /// then runs on until it parks (see `Parker::park`); cleared by that coroutine.
    static HANDED_OVER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling coroutine was just resumed by a dispatcher or rescue thread, to run
/// on right there (true at most once per hand-over).
#[inline(never)]
pub(crate) fn take_handed_over() -> bool {
    HANDED_OVER.replace(false)
}

fn run(r: Runnable, worker: bool) {
    match r {
        // The coroutine runs here, inside the dispatcher (or rescue loop), until it
        // parks: never on a run queue, where it could wait behind a spinning one.
        Runnable::Resume(p) => {
            HANDED_OVER.set(true);
            p.resume_here();
            HANDED_OVER.set(false);
        }
        Runnable::Call(f) => {
            if catch_unwind(AssertUnwindSafe(|| f(worker))).is_err() {
                log::error!("gonet: an injected call panicked");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Spawning (Go: newproc)
// ---------------------------------------------------------------------------------------

/// Spawns `f` as a coroutine configured by `builder`, where it cannot be stranded behind
/// a stuck worker (see the module docs). `site` is the `go!` call's location. The flag
/// says the local path was taken: the caller then calls [`after_local_spawn`].
pub(crate) fn spawn<F, T>(
    builder: Builder,
    site: &'static Location<'static>,
    f: F,
) -> io::Result<(JoinHandle<T>, bool)>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // The coroutine's stack (runtime/stack.rs): `enter` converts its guard on the
    // spawning thread, before another stack is mapped; `run` does the rest around `f`.
    let scan = super::stack::scan_hint::<F, T>();
    if !start() {
        // SAFETY: as for go! (see lib.rs).
        return unsafe {
            builder
                .spawn(move || super::stack::run(super::stack::enter(scan), || go_entry(site, f)))
        }
        .map(|h| (h, false));
    }
    if local_spawn_ok() {
        LOCAL_SPAWNS.fetch_add(1, Ordering::Relaxed);
        // Go's `newproc` + `runqput`: the coroutine starts on this worker (its guard is
        // converted there, in `enter`) and yields at once onto this worker's own run
        // queue, the tail of which idle workers steal. The spawner goes on; no system
        // call, no other thread woken.
        // SAFETY: as for go! (see lib.rs).
        let h = unsafe {
            builder.spawn_local(move || {
                let stack = super::stack::enter(scan);
                may::coroutine::yield_now();
                super::stack::run(stack, || go_entry(site, f))
            })
        }?;
        return Ok((h, true));
    }
    // The coroutine parks at once, and the injector starts it: a dispatcher runs it on
    // its worker (round-robin among those not stuck), or a rescue thread does. Never on
    // a run queue where it could wait behind a coroutine that never parks.
    let handoff: Arc<OnceLock<Arc<Parker>>> = Arc::new(OnceLock::new());
    let theirs = handoff.clone();
    // SAFETY: as for go! (see lib.rs).
    let h = unsafe {
        builder.spawn_local(move || {
            let stack = super::stack::enter(scan);
            let p = Arc::new(Parker::new());
            let _ = theirs.set(p.clone());
            drop(theirs);
            if let Err(cancel) = p.park() {
                resume_unwind(cancel);
            }
            drop(p);
            super::stack::run(stack, || go_entry(site, f))
        })
    }?;
    if let Some(p) = handoff.get() {
        inject(Runnable::Resume(p.clone()));
    }
    Ok((h, false))
}

/// Spawns that took the local path (for tests and bench/).
pub(crate) static LOCAL_SPAWNS: AtomicUsize = AtomicUsize::new(0);

/// After a spawn that took the local path (the caller, `stack::spawn_small`, calls it
/// once the spawn is over and its thread-local state is reset): counts it, and the
/// [`LOCAL_BATCH`]th with no scheduling point between reschedules the spawner. A
/// coroutine that spawns in a loop without parking would keep this worker from its
/// poller and its dispatcher, and sysmon would find it stuck (and send every later spawn
/// through the injector). Go preempts such a goroutine at a call; here the go statement
/// is the call: the spawner parks and the injector resumes it (on whichever worker is
/// free), while this worker runs what it spawned and polls its sockets. (Not inlined,
/// like every thread-local reader here: see [`mark`].)
#[inline(never)]
pub(crate) fn after_local_spawn() {
    let run = LOCAL_RUN.get() + 1;
    LOCAL_RUN.set(run);
    if run >= LOCAL_BATCH {
        reschedule();
    }
}

/// Socket I/O calls a coroutine may make with no park between before the next one goes
/// round the scheduler first (measured: bench/PROFILE.md section 6).
pub(crate) const IO_BUDGET: u32 = 64;

/// Before a socket I/O call (`NetFd`'s syscall loop, a TLS pull or flush): counts it,
/// and the [`IO_BUDGET`]th with no scheduling point between reschedules the caller. A
/// coroutine streaming a bulk transfer whose reads and writes never would-block never
/// parks: its worker would not poll its epoll (the worker's other sockets starve) and
/// sysmon would judge it stuck. Go's scheduler preempts such a goroutine after 10 ms;
/// here the I/O call is the preemption point, as in tokio's cooperative budget: the
/// coroutine waits for its worker's poller (`coop.rs`), or else goes through the
/// injector. (Not inlined, like every thread-local reader here: see [`mark`].)
#[inline(never)]
pub(crate) fn io_budget() {
    let run = IO_RUN.get() + 1;
    if run < IO_BUDGET {
        IO_RUN.set(run);
        return;
    }
    IO_RUN.set(0);
    if sched().is_some() && may::coroutine::is_coroutine() && !super::coop::yield_to_poller() {
        reschedule();
    }
}

/// The worker this thread is, once identified (see [`WORKER_INDEX`]). Not inlined: see
/// [`mark`].
#[inline(never)]
pub(crate) fn worker_index() -> Option<usize> {
    Some(WORKER_INDEX.get()).filter(|&j| j != usize::MAX)
}

/// Whether a spawn here may queue the new coroutine on this worker's own run queue: the
/// caller is a coroutine on an identified worker that sysmon has not marked stuck, and
/// some other worker is not stuck either (should this one get stuck before the new
/// coroutine runs, that one steals it; a rescue thread cannot take from a may run queue).
#[inline(never)]
fn local_spawn_ok() -> bool {
    let j = WORKER_INDEX.get();
    if j == usize::MAX || !may::coroutine::is_coroutine() {
        return false;
    }
    let Some(s) = sched() else { return false };
    let Some(me) = s.workers.get(j) else {
        return false;
    };
    if me.stuck.load(Ordering::Acquire) {
        return false;
    }
    s.workers
        .iter()
        .enumerate()
        .any(|(i, w)| i != j && !w.stuck.load(Ordering::Acquire))
}

/// Parks the calling coroutine and has the injector resume it: a trip round the
/// scheduler that lets the worker reach its poller.
fn reschedule() {
    let p = Arc::new(Parker::new());
    inject(Runnable::Resume(p.clone()));
    if let Err(cancel) = p.park() {
        resume_unwind(cancel);
    }
}

/// Go's `runtime.Gosched` on gonet's scheduler: on a worker, may's yield (to the back of
/// the local queue); elsewhere (a rescue thread, may's timer thread), through the
/// injector, since may's yield there would pick a worker round-robin.
pub(crate) fn gosched() {
    if !may::coroutine::is_coroutine() {
        std::thread::yield_now();
        return;
    }
    if on_worker() || sched().is_none() {
        let site = current_site();
        may::coroutine::yield_now();
        mark(site);
        return;
    }
    reschedule();
}

// ---------------------------------------------------------------------------------------
// Rescue threads (Go: the extra Ms started while Ps are blocked)
// ---------------------------------------------------------------------------------------

/// Starts one more rescue thread (sysmon decides when).
pub(crate) fn start_rescue_thread() {
    let Some(s) = sched() else { return };
    let n = s.rescue_threads.fetch_add(1, Ordering::AcqRel);
    let spawned = std::thread::Builder::new()
        .name("gonet-rescue".into())
        .spawn(rescue_loop);
    match spawned {
        Ok(_) => log::debug!("gonet: rescue thread {n} started"),
        Err(e) => {
            s.rescue_threads.fetch_sub(1, Ordering::AcqRel);
            log::error!("gonet: cannot start a rescue thread: {e}");
        }
    }
}

/// A rescue thread: waits for injected work and for readiness of the sockets of stuck
/// workers, and runs their coroutines itself while no worker can.
fn rescue_loop() {
    let Some(s) = sched() else { return };
    let slot = slot_or_register(Role::Rescue);
    let mut events = crate::runtime::netpoll::Events::new();
    loop {
        mark(ptr::null());
        crate::runtime::netpoll::wait(&mut events, Duration::from_millis(50));
        slot.busy.store(true, Ordering::Release);
        let healthy = s.any_healthy();
        for ev in events.iter() {
            match ev {
                crate::runtime::netpoll::Ready::Poke => drain_eventfd(s.rescue_ev.as_raw_fd()),
                crate::runtime::netpoll::Ready::Io(wake, bits) => {
                    let call = Runnable::Call(Box::new(move |_| wake.wake(bits, true)));
                    if healthy {
                        inject(call);
                    } else {
                        // Run below, from the injector, one at a time: a coroutine woken
                        // here may never park, and the readiness of the rest of this
                        // batch (edge-triggered, never reported again) must then stay
                        // where the next rescue thread finds it.
                        injector().queue.push(call);
                    }
                }
            }
        }
        // Poked when no worker is left, or when poked workers do not drain (sysmon's
        // verdict: work queued a moment ago is a healthy worker's to run, and one that
        // never parks would keep this thread from the rescued sockets): run it here.
        if !healthy || injector().starving.swap(false, Ordering::AcqRel) {
            run_injected();
        } else if !injector().queue.is_empty() {
            s.wake_one();
        }
        slot.busy.store(false, Ordering::Release);
    }
}

/// A coroutine's body panicked or was cancelled: what `park` hands back.
pub(crate) type Cancelled = Box<dyn Any + Send>;
