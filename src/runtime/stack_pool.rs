//! may's pool of ready coroutines, warmed with converted stacks before the program's
//! first spawn: the part of [`super::stack`] that runs once, when the scheduler starts.
//!
//! Go: `runtime/proc.go` `gfget`/`gfput` (a dead G keeps its stack for the next `go`)
//! and `runtime/stack.go` `stackpool` (free stacks by size). Both start empty and fill
//! as goroutines end; nothing is mapped per goroutine, since stacks come from Go's heap.
//!
//! may 0.3.51's pool is a FIFO (`SegQueue`) of finished coroutines that keeps up to
//! `get_pool_capacity()` of them (1,000 by default), and may fills it when its scheduler
//! starts, with stacks that gonet has not seen: mapped back to back, each with generator's
//! `PROT_NONE` guard (2,000 mappings that never merge), and the first thousand spawns
//! each pay the guard's conversion. gonet instead lets may start with one, and fills the
//! pool itself ([`warm`]): a thousand coroutines started one after another on the calling
//! thread, each converted before the next is mapped (so their stacks share mappings),
//! parked until all exist, then let go to end, which puts their stacks in the pool with
//! gonet's mark (converted). An 8,000-dial burst takes its first thousand stacks from
//! there, and a one-off spawn costs no system call from the first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use may::coroutine::Builder;

use super::stack_guard::configured_stack_bytes;

/// Finished coroutines may's pool probably holds (a stack to reuse): counted up when a
/// gonet coroutine ends, down at every gonet spawn. An estimate (may's own spawns move the
/// pool too); when it is 0 the next spawn probably maps a new stack.
pub(super) static POOL_ESTIMATE: AtomicUsize = AtomicUsize::new(0);

/// The pool capacity the program asked for, set back by [`warm`] once may's scheduler
/// exists; `usize::MAX` when there is none to set back.
static POOL_CAPACITY: AtomicUsize = AtomicUsize::new(usize::MAX);

/// may's pool capacity while its scheduler starts: the stacks may maps itself then.
/// (0 would read as may's default, 1,000.)
const START_POOL: usize = 1;

/// The most coroutines [`warm`] starts: may's default capacity. A program that asks for
/// a bigger pool gets the rest from coroutines that end (each warmed stack holds two
/// resident pages for as long as it sits in the pool).
const WARM_MAX: usize = 1000;

/// How long [`warm`], on a plain thread, waits for the warmed coroutines to end (they
/// run on the workers, which are idle at start unless the program already keeps them busy).
const WARM_WAIT: Duration = Duration::from_secs(1);

/// The warmed coroutines that have ended, for [`warm`] to wait on: (ended, how many it
/// waits for, `usize::MAX` until it does). Only the last one wakes it (one `futex` call,
/// not one per coroutine).
struct WarmEnded {
    state: Mutex<(usize, usize)>,
    cv: Condvar,
}

impl WarmEnded {
    fn new() -> WarmEnded {
        WarmEnded {
            state: Mutex::new((0, usize::MAX)),
            cv: Condvar::new(),
        }
    }

    fn one(&self) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.0 += 1;
        if st.0 >= st.1 {
            self.cv.notify_all();
        }
    }

    /// Until `n` have ended or `bound` has passed.
    fn wait_for(&self, n: usize, bound: Duration) {
        let end = Instant::now() + bound;
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.1 = n;
        while st.0 < n {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            st = self
                .cv
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Called once before may's scheduler starts (`runtime::init`): may fills its pool with
/// [`START_POOL`] coroutines, not the capacity the program asked for, which [`warm`] sets
/// back.
pub(super) fn init_pool() {
    let config = may::config();
    POOL_CAPACITY.store(config.get_pool_capacity(), Ordering::Relaxed);
    config.set_pool_capacity(START_POOL);
    POOL_ESTIMATE.store(START_POOL, Ordering::Relaxed);
}

/// Counts a spawn out of may's pool; whether the pool probably had a stack for it.
pub(super) fn take_pooled() -> bool {
    POOL_ESTIMATE
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// Sets may's pool capacity back to what the program asked for (unless it set another
/// meanwhile) and fills the pool with up to [`WARM_MAX`] converted stacks, started on the
/// calling thread; returns how many. Called once, when gonet's scheduler starts (`proc::start`),
/// before the program's first spawn or socket goes on: an accept loop never waits for it.
/// It costs what may's prefill cost (a mapping and a guard per stack) plus the guard
/// conversions the first thousand spawns paid after it (bench/PROFILE.md section 10).
pub(crate) fn warm() -> usize {
    let want = POOL_CAPACITY.swap(usize::MAX, Ordering::Relaxed);
    let config = may::config();
    if want == usize::MAX || config.get_pool_capacity() != START_POOL {
        return 0;
    }
    let n = want.min(WARM_MAX);
    // Near a limit (a full mapping table, a small `ulimit -v`), the program's own spawns
    // come first.
    if n == 0 || super::stack_spawn::near_limit(configured_stack_bytes()) {
        config.set_pool_capacity(want);
        return 0;
    }
    let scan = super::stack::scan_hint::<fn(), ()>();
    let ended = Arc::new(WarmEnded::new());
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        // The coroutine runs at once, here, until it parks: `enter` converts its guard
        // before the next stack is mapped.
        // SAFETY: the coroutine keeps no thread-local data across its park.
        let theirs = ended.clone();
        let spawned = super::stack_spawn::quietly(|| unsafe {
            Builder::new().spawn_local(move || {
                super::stack::hold_for_pool(scan);
                theirs.one();
            })
        });
        match spawned {
            Ok(Ok(h)) => held.push(h),
            // No stack: the pool holds what it has; the program's spawns will say why.
            _ => break,
        }
    }
    let warmed = held.len();
    // The first of them took may's one ready coroutine; each counts itself in as it ends.
    POOL_ESTIMATE.store(0, Ordering::Relaxed);
    // may's scheduler exists now (the first spawn started it, if nothing had): the
    // capacity set back from here on is what the pool keeps as coroutines end.
    config.set_pool_capacity(want);
    // Let go, they end on the workers within moments; a plain thread (`main`, an accept
    // loop's) waits for them, so that its first spawns find the pool full. Bounded, and
    // not from a coroutine: this runs inside `proc::start`'s once-only initialisation,
    // and a worker thread that blocks there (a may coroutine of the program's reaching
    // `start` meanwhile) holds the ones queued on it.
    for h in held {
        h.coroutine().unpark();
    }
    if !may::coroutine::is_coroutine() {
        ended.wait_for(warmed, WARM_WAIT);
    }
    log::debug!("gonet: may's pool warmed with {warmed} converted stacks");
    warmed
}
