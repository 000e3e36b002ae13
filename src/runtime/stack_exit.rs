//! The order in which coroutine stacks are unmapped, when that order matters: the other
//! half of [`super::stack`].
//!
//! With lightweight guards, neighbouring stacks share one kernel mapping (VMA). When a
//! coroutine ends and may's pool of finished coroutines is full, generator unmaps its
//! stack, and unmapping a stack from the middle of a shared mapping splits it in two: one
//! more mapping per hole. Coroutines that end in an order unrelated to their addresses
//! leave a hole per stack: a million parked coroutines released at once on two workers
//! (each worker finishes every other one, and the two drift apart) took the process to
//! `vm.max_map_count` (65,531 mappings), and past that limit the unmaps themselves fail
//! and the stacks leak. With one worker the same release stayed at 2,077 mappings.
//!
//! So once the process has many mappings ([`PRESSURE_ON`]), a coroutine whose stack would
//! be unmapped waits at its very end (its function has returned; may has not seen it
//! finish) until it can leave without cutting a mapping in two more than it must:
//! waiting neighbours form runs, and a run leaves when it borders stacks that left before
//! it (the hole grows) or when it is [`LONG_RUN`] stacks long (one new hole for that many
//! stacks), and those let go leave [`IN_FLIGHT`] at a time (the workers unmap those in
//! any order). Nobody waits longer than [`max_wait`] for its run to be let go (a joiner
//! waits for it: 10 s, or 2 minutes once the mapping table is a quarter full: the holes
//! that timeouts make are what fills it), then for its turn among those let go; a waiting
//! coroutine holds one page. There is no thread: arrivals and leavers do the bookkeeping,
//! a few hash-map operations each, and nothing happens while the pressure is off.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Mappings above which stack exits are ordered (hysteresis down to [`PRESSURE_OFF`]).
const PRESSURE_ON: usize = 8192;
const PRESSURE_OFF: usize = 4096;
/// A run of waiting neighbours this long leaves even if it borders no hole.
const LONG_RUN: usize = 64;
/// How many let-go coroutines may be on their way out at once (the workers unmap them in
/// any order: up to this many holes for a moment).
const IN_FLIGHT: usize = 1024;
/// How long a coroutine waits for its run to be let go, by how full the mapping table is
/// (a joiner waits for it; a hole costs more the closer the table is to its limit): see
/// [`max_wait`].
fn max_wait() -> Duration {
    let maps = MAPS.load(Ordering::Relaxed);
    let max = super::max_map_count().unwrap_or(65530);
    if maps < max / 4 {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(120)
    }
}

/// The mapping count is read at most this often (a fragmented table is tens of
/// thousands of lines).
const READ_EVERY: Duration = Duration::from_millis(100);

static PRESSURE: AtomicBool = AtomicBool::new(false);
/// The mapping count last read.
static MAPS: AtomicUsize = AtomicUsize::new(0);
/// When the mapping count was last read, in nanoseconds since `epoch()` (0: never).
static LAST_READ: AtomicU64 = AtomicU64::new(0);
/// Coroutines that waited here, in all (for tests and bench/).
pub(super) static GATED: AtomicUsize = AtomicUsize::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The pressure flag, from a mapping count at most [`READ_EVERY`] old.
fn pressure() -> bool {
    let now = (epoch().elapsed().as_nanos() as u64).max(1);
    let last = LAST_READ.load(Ordering::Relaxed);
    if (last == 0 || now.saturating_sub(last) >= READ_EVERY.as_nanos() as u64)
        && LAST_READ
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        if let Some(maps) = super::map_count() {
            let on = PRESSURE.load(Ordering::Relaxed);
            let limit = if on { PRESSURE_OFF } else { PRESSURE_ON };
            MAPS.store(maps, Ordering::Relaxed);
            PRESSURE.store(maps > limit, Ordering::Relaxed);
        }
    }
    PRESSURE.load(Ordering::Relaxed)
}

/// A waiting coroutine.
struct Waiting {
    co: may::coroutine::Coroutine,
    /// Set (under the lock) when it is let go and counted in `leaving`.
    go: Arc<AtomicBool>,
}

/// Runs of neighbouring stacks, by their lowest and highest bottoms.
#[derive(Default)]
struct Runs {
    by_lo: HashMap<usize, usize>,
    by_hi: HashMap<usize, usize>,
}

impl Runs {
    fn insert(&mut self, lo: usize, hi: usize) {
        self.by_lo.insert(lo, hi);
        self.by_hi.insert(hi, lo);
    }

    fn remove(&mut self, lo: usize) -> Option<usize> {
        let hi = self.by_lo.remove(&lo)?;
        self.by_hi.remove(&hi);
        Some(hi)
    }

    /// Adds [lo, hi], merged with the runs ending right below and starting right above;
    /// returns the merged run.
    fn merge(&mut self, mut lo: usize, mut hi: usize, slot: usize) -> (usize, usize) {
        if let Some(l) = self.by_hi.get(&lo.wrapping_sub(slot)).copied() {
            self.remove(l);
            lo = l;
        }
        if let Some(h) = self.remove(hi + slot) {
            hi = h;
        }
        self.insert(lo, hi);
        (lo, hi)
    }
}

#[derive(Default)]
struct State {
    /// By stack bottom.
    waiting: HashMap<usize, Waiting>,
    /// The runs of waiting stacks.
    runs: Runs,
    /// The runs of stacks let go while the pressure lasts (holes, or about to be).
    left: Runs,
    /// Let go, not yet counted in `leaving`: they go when there is room in flight.
    approved: VecDeque<Waiting>,
    /// Let go and not yet out.
    leaving: usize,
}

fn lock() -> MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE
        .get_or_init(|| Mutex::new(State::default()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

impl State {
    /// Lets the waiting run starting at `lo` go, and with it every waiting run that now
    /// borders the hole it leaves.
    fn approve(&mut self, lo: usize, slot: usize) {
        let mut work = vec![lo];
        while let Some(lo) = work.pop() {
            let Some(hi) = self.runs.remove(lo) else {
                continue;
            };
            let mut at = lo;
            while at <= hi {
                if let Some(w) = self.waiting.remove(&at) {
                    self.approved.push_back(w);
                }
                at += slot;
            }
            let (hole_lo, hole_hi) = self.left.merge(lo, hi, slot);
            // Waiting runs right below and right above the hole go too.
            if let Some(&below) = self.runs.by_hi.get(&hole_lo.wrapping_sub(slot)) {
                work.push(below);
            }
            if self.runs.by_lo.contains_key(&(hole_hi + slot)) {
                work.push(hole_hi + slot);
            }
        }
    }

    /// Counts as many approved coroutines as there is room in flight for; returns them,
    /// to be unparked once the lock is dropped.
    fn let_go(&mut self) -> Vec<Waiting> {
        let mut out = Vec::new();
        while self.leaving < IN_FLIGHT {
            let Some(w) = self.approved.pop_front() else {
                break;
            };
            self.leaving += 1;
            w.go.store(true, Ordering::Release);
            out.push(w);
        }
        out
    }

    /// Forgets the holes once nobody waits: new stacks may fill them.
    fn settle(&mut self) {
        if self.waiting.is_empty() && self.approved.is_empty() {
            self.left = Runs::default();
        }
    }
}

fn unpark(list: Vec<Waiting>) {
    for w in list {
        w.co.unpark();
    }
}

/// Called by a coroutine whose function has returned, whose stack starts at `bottom` and
/// is probably about to be unmapped (may's pool looks full): if the process has many
/// mappings, waits until its stack can go without cutting a shared mapping more than it
/// must. Returns whether it was counted as leaving: then [`left`] must be called once the
/// coroutine is on its way out.
pub(super) fn wait_turn(bottom: usize) -> bool {
    if !pressure() {
        return false;
    }
    let slot = super::stack::configured_stack_bytes() + super::stack::page_size();
    let go = Arc::new(AtomicBool::new(false));
    let now_free = {
        let mut st = lock();
        st.waiting.insert(
            bottom,
            Waiting {
                co: may::coroutine::current(),
                go: go.clone(),
            },
        );
        let (lo, hi) = st.runs.merge(bottom, bottom, slot);
        let borders_a_hole = st.left.by_hi.contains_key(&lo.wrapping_sub(slot))
            || st.left.by_lo.contains_key(&(hi + slot));
        if borders_a_hole || (hi - lo) / slot + 1 >= LONG_RUN {
            st.approve(lo, slot);
        }
        st.let_go()
    };
    unpark(now_free);
    if go.load(Ordering::Acquire) {
        return true; // let go at once: no wait
    }
    GATED.fetch_add(1, Ordering::Relaxed);
    // A cancel unwinds out of the park: take this stack's books with it.
    struct Turn {
        bottom: usize,
        go: Arc<AtomicBool>,
    }
    impl Drop for Turn {
        fn drop(&mut self) {
            let mut st = lock();
            if self.go.load(Ordering::Acquire) {
                drop(st);
                return left();
            }
            st.waiting.remove(&self.bottom);
            st.approved.retain(|w| !Arc::ptr_eq(&w.go, &self.go));
            st.settle();
        }
    }
    let turn = Turn { bottom, go };
    let since = Instant::now();
    // Until let go, or for as long as the table's fullness says (re-read as it fills).
    let park_until = |bounded: bool| {
        while !turn.go.load(Ordering::Acquire) {
            if !bounded {
                may::coroutine::park();
                continue;
            }
            let limit = since + max_wait();
            let now = Instant::now();
            if now >= limit {
                return;
            }
            may::coroutine::park_timeout((limit - now).min(Duration::from_secs(1)));
        }
    };
    park_until(true);
    if !turn.go.load(Ordering::Acquire) {
        // Waited long enough: this stack's run goes now, whatever it borders, in turn
        // with the others approved (they all get out: each one out lets the next go).
        let next = {
            let mut st = lock();
            if st.waiting.contains_key(&bottom) {
                let mut lo = bottom;
                while !st.runs.by_lo.contains_key(&lo) {
                    match lo.checked_sub(slot) {
                        Some(l) if st.waiting.contains_key(&l) => lo = l,
                        _ => break,
                    }
                }
                st.approve(lo, slot);
            }
            st.let_go()
        };
        unpark(next);
        park_until(false);
    }
    std::mem::forget(turn);
    true
}

/// A coroutine that [`wait_turn`] counted as leaving is on its way out (its sentinel is
/// back; may unmaps its stack next): room for the next one.
pub(super) fn left() {
    let next = {
        let mut st = lock();
        st.leaving = st.leaving.saturating_sub(1);
        let next = st.let_go();
        st.settle();
        next
    };
    unpark(next);
}
