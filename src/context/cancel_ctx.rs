//! The cancel tree behind [`Context`](super::Context): Go's `cancelCtx`, `timerCtx` and
//! `afterFuncCtx`, with `propagateCancel` and `removeChild` (src/context/context.go).
//!
//! # Registration is lazy
//! Go's `propagateCancel` puts every new child into its parent's `children` map at once,
//! and `cancel` takes it out again: two map operations under the parent's lock for every
//! `WithCancel`, even for a context nobody ever waits on. Here a cancel node registers
//! with the cancel node above it only when something below can observe a cancellation
//! that has to be pushed down: its first [`done`] channel, an [`after_func`], or a
//! registered child (registering one node registers the unregistered ones above it,
//! [`anchor`]). Until then an ancestor's end is *pulled*: `err()`, `cause()` and `cancel`
//! look up the chain ([`first_ended`]). Observably this is Go's eager propagation:
//! after the parent's `cancel()` returns, every child's `err()` is set, every `done()`
//! channel is closed and every after-func has started. A node that nothing waits on
//! costs no lock and no registration, and cancelling it is one compare-and-swap.
//!
//! # State
//! A cancel node keeps why it ended and two flags in one atomic byte (so `err()` takes no
//! lock), and, under a short std mutex, its lazily made done channel, its cause and its
//! children. `HOT` says that the mutex holds something a cancellation must act on (a
//! done channel, children), so the cancel takes the lock; without it (and without a
//! cause to record) the cancel is a CAS on the byte. `ANCHORED` says that every cancel
//! node above is registered with the one above it, so a cancellation from above is
//! pushed down to this node (then `err()` need not look up).
//!
//! Children live in a slab (a vector with a free list): registering is a push, leaving
//! is a `take` by index checked against the child's address, and the slab is emptied
//! (and its memory returned when it was large) whenever its last child leaves. The
//! parent holds its child contexts weakly, so a child whose handles are all dropped can
//! leave; an after-func is held strongly, since the parent is the only one that will run
//! it.
//!
//! Lock discipline: at most one node lock is held at a time, and nothing that can run
//! user code or drop a node (a `Drop` of a closure, of a context) happens under one.
//! Cancellation takes the children out under the lock and cancels them after releasing
//! it, with a work list instead of recursion; registration walks up with a loop.
//!
//! Memory order: the state byte and the slot are accessed `SeqCst`. A cancel stores its
//! state and then reads its slot (to leave its parent) while a registration, under the
//! parent's lock, reads the child's state and then stores its slot; `SeqCst` rules out
//! both missing each other (which would leave an ended child registered until it is
//! dropped). On x86 the loads are plain loads and the stores were atomic
//! read-modify-writes already.
//!
//! [`done`]: CancelCtx::done

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

use super::{Cause, Context, Kind, Node, closed_done};
use crate::chan::{Receiver, Sender, chan};

/// The low bits of the state: why it ended (0: it has not).
const ENDED: u8 = 0b0011;
const CANCELED: u8 = 1;
const DEADLINE_EXCEEDED: u8 = 2;
/// A done channel or children exist: a cancel must take the lock.
const HOT: u8 = 0b0100;
/// Every cancel node above is registered with the one above it.
const ANCHORED: u8 = 0b1000;

/// `slot` of a node that is registered nowhere.
const NO_SLOT: usize = usize::MAX;

/// Slabs with more room than this give their memory back when they empty.
const KEEP_CAPACITY: usize = 64;

/// Why a context ended: Go's two `Err()` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Go: `context.Canceled`.
    Canceled,
    /// Go: `context.DeadlineExceeded`.
    DeadlineExceeded,
}

impl Ended {
    fn code(self) -> u8 {
        match self {
            Ended::Canceled => CANCELED,
            Ended::DeadlineExceeded => DEADLINE_EXCEEDED,
        }
    }

    fn from_state(state: u8) -> Option<Ended> {
        match state & ENDED {
            CANCELED => Some(Ended::Canceled),
            DEADLINE_EXCEEDED => Some(Ended::DeadlineExceeded),
            _ => None,
        }
    }

    /// `ctx.Err()` as gonet's error.
    pub(crate) fn to_io_error(self) -> io::Error {
        match self {
            Ended::Canceled => super::Canceled.into(),
            Ended::DeadlineExceeded => super::DeadlineExceeded.into(),
        }
    }

    /// The cause of a context cancelled without one: its error (Go: `cause = err`).
    fn as_cause(self) -> Cause {
        match self {
            Ended::Canceled => Arc::new(super::Canceled),
            Ended::DeadlineExceeded => Arc::new(super::DeadlineExceeded),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; recover the data if something did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Go: `cancelCtx` (+ `timerCtx`'s deadline and timer).
pub(crate) struct CancelCtx {
    /// Why it ended (`ENDED` bits), `HOT`, `ANCHORED`.
    state: AtomicU8,
    /// Where this node sits in the children of the cancel node above it (NO_SLOT: not
    /// registered). Written under that node's lock.
    slot: AtomicUsize,
    /// Go: `timerCtx.deadline`.
    pub(super) deadline: Option<Instant>,
    /// Go: `timerCtx`'s cause for `WithDeadlineCause`.
    deadline_cause: Option<Cause>,
    /// Go: `timerCtx.timer`: the entry in gonet's timer heap.
    timer: Option<Arc<DeadlineTimer>>,
    mu: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Go: `done`, made lazily. The sender is dropped (closing the channel) on cancel.
    done_tx: Option<Sender<()>>,
    done_rx: Option<Receiver<()>>,
    /// Go: `children`.
    children: Children,
    /// Go: `cause`; `None` after a cancel means "the error itself".
    cause: Option<Cause>,
}

impl CancelCtx {
    /// The cause recorded with this node's end (`None`: the error itself).
    fn recorded_cause(&self) -> Option<Cause> {
        lock(&self.mu).cause.clone()
    }

    pub(crate) fn children_len(&self) -> usize {
        lock(&self.mu).children.live
    }

    pub(crate) fn done_made(&self) -> bool {
        lock(&self.mu).done_rx.is_some()
    }

    /// Go: the first half of `cancelCtx.cancel`: records why, closes the done channel,
    /// stops the timer and hands back the children to cancel. `None` if it had already
    /// ended.
    fn cancel_one(&self, why: Ended, cause: &Option<Cause>) -> Option<Vec<Child>> {
        if cause.is_none() {
            // Nothing waits on it and there is no cause to record: no lock.
            let mut s = self.state.load(SeqCst);
            while s & (ENDED | HOT) == 0 {
                match self
                    .state
                    .compare_exchange(s, s | why.code(), SeqCst, SeqCst)
                {
                    Ok(_) => {
                        self.stop_timer();
                        return Some(Vec::new());
                    }
                    Err(now) => s = now,
                }
            }
            if s & ENDED != 0 {
                return None;
            }
        }
        let (tx, children) = {
            let mut st = lock(&self.mu);
            // A CAS, not a store: the lock-free path above may race with this one.
            let mut s = self.state.load(SeqCst);
            loop {
                if s & ENDED != 0 {
                    return None;
                }
                match self
                    .state
                    .compare_exchange(s, s | why.code(), SeqCst, SeqCst)
                {
                    Ok(_) => break,
                    Err(now) => s = now,
                }
            }
            st.cause = cause.clone();
            (st.done_tx.take(), st.children.take_all())
        };
        self.stop_timer();
        if let Some(tx) = tx {
            // Go: close(c.done). Outside the lock: it wakes the waiters.
            let _ = tx.close();
        }
        Some(children)
    }

    /// Go: `c.timer.Stop()`; also lets the timer entry release the node at once.
    fn stop_timer(&self) {
        if let Some(t) = &self.timer {
            drop(t.take());
        }
    }
}

/// The nearest cancel node at or above `n` that has ended, and why. An ancestor's end
/// that has not been pushed down (the registration is lazy) is found here; a node whose
/// chain is anchored gets it pushed, so the search stops there.
pub(crate) fn first_ended(n: &Node) -> Option<(&Node, Ended)> {
    let mut cur = n;
    loop {
        let s = cur.cancel_ctx().state.load(SeqCst);
        if let Some(why) = Ended::from_state(s) {
            return Some((cur, why));
        }
        if s & ANCHORED != 0 {
            return None;
        }
        cur = cur.parent.cancel_node()?;
    }
}

/// Go: `ctx.Err()` for the cancel node `n` of a context.
pub(crate) fn ended(n: &Node) -> Option<Ended> {
    first_ended(n).map(|(_, why)| why)
}

/// Go: `Cause(c)` for the cancel node `n` of a context.
pub(crate) fn cause(n: &Node) -> Option<Cause> {
    let (at, why) = first_ended(n)?;
    Some(
        at.cancel_ctx()
            .recorded_cause()
            .unwrap_or_else(|| why.as_cause()),
    )
}

/// Go: `cancelCtx.Done`: the channel, made on first use; making it registers the node
/// (and the unregistered nodes above it) so that a cancellation from above closes it.
pub(crate) fn done(n: &Arc<Node>) -> Receiver<()> {
    let c = n.cancel_ctx();
    let rx = {
        let mut st = lock(&c.mu);
        if let Some(rx) = &st.done_rx {
            return rx.clone();
        }
        if c.state.fetch_or(HOT, SeqCst) & ENDED != 0 {
            return closed_done();
        }
        let (tx, rx) = chan(0);
        st.done_tx = Some(tx);
        st.done_rx = Some(rx.clone());
        rx
    };
    anchor(n);
    rx
}

/// A new cancel node under `parent` (Go: `newCancelCtx`; with a deadline, a `timerCtx`
/// whose timer [`start_timer`] starts). It is registered with the cancel node above it
/// only when something needs it ([`anchor`]); a node with no cancel node above is
/// anchored from the start.
pub(crate) fn new_cancel_node(
    parent: &Context,
    deadline: Option<Instant>,
    deadline_cause: Option<Cause>,
) -> Arc<Node> {
    let state = AtomicU8::new(if parent.cancel_node().is_none() {
        ANCHORED
    } else {
        0
    });
    let cancel_ctx = |timer| CancelCtx {
        state,
        slot: AtomicUsize::new(NO_SLOT),
        deadline,
        deadline_cause,
        timer,
        mu: Mutex::new(State::default()),
    };
    let parent = parent.clone();
    if deadline.is_none() {
        return Arc::new(Node {
            parent,
            kind: Kind::Cancel(cancel_ctx(None)),
        });
    }
    Arc::new_cyclic(|weak: &Weak<Node>| Node {
        parent,
        kind: Kind::Cancel(cancel_ctx(Some(Arc::new(DeadlineTimer {
            node: AtomicPtr::new(Weak::into_raw(weak.clone()).cast_mut()),
        })))),
    })
}

/// Go: `propagateCancel`, on demand: registers `n` with the cancel node above it, and
/// that one with the one above it, up to a node that is anchored; then marks the nodes
/// on the way anchored. A node found ended on the way is left alone (its end was pushed
/// down, or is found by [`first_ended`]); an ancestor found ended cancels the node below
/// it, and with it `n`.
fn anchor(n: &Arc<Node>) {
    let mut cur = n;
    let top: *const Node = loop {
        let c = cur.cancel_ctx();
        let s = c.state.load(SeqCst);
        if s & ENDED != 0 {
            return;
        }
        if s & ANCHORED != 0 {
            break Arc::as_ptr(cur);
        }
        let Some(anc) = cur.parent.cancel_node() else {
            // Not reached: such a node is anchored when it is made.
            break Arc::as_ptr(cur);
        };
        match register(anc.cancel_ctx(), Child::Ctx(Arc::downgrade(cur)), c) {
            Ok(true) => cur = anc,
            // It ended meanwhile: its end reaches (or is found by) everything below it.
            Ok(false) => return,
            Err((why, cause)) => {
                cancel(cur, false, why, cause);
                return;
            }
        }
    };
    let mut cur = n;
    while Arc::as_ptr(cur) != top {
        cur.cancel_ctx().state.fetch_or(ANCHORED, SeqCst);
        match cur.parent.cancel_node() {
            Some(anc) => cur = anc,
            None => break,
        }
    }
}

/// Adds the context `entry` (whose node state is `c`) to the children of `anc`, unless
/// it is there already (`Ok(true)` either way) or has ended (`Ok(false)`); or says how
/// `anc` ended.
fn register(anc: &CancelCtx, entry: Child, c: &CancelCtx) -> Result<bool, (Ended, Option<Cause>)> {
    let mut st = lock(&anc.mu);
    if let Some(why) = Ended::from_state(anc.state.fetch_or(HOT, SeqCst)) {
        let cause = st.cause.clone();
        drop(st);
        drop(entry);
        return Err((why, cause));
    }
    let live = c.state.load(SeqCst) & ENDED == 0;
    if live && c.slot.load(SeqCst) == NO_SLOT {
        let i = st.children.insert(entry);
        c.slot.store(i, SeqCst);
        return Ok(true);
    }
    drop(st);
    // Registered by another thread, or ended: a weak reference to a live node, whose
    // drop runs nothing.
    drop(entry);
    Ok(live)
}

/// A cancel node's last handle is gone: it leaves its parent's children and lets go of
/// its timer entry.
pub(crate) fn on_drop(node: &Node, c: &CancelCtx) {
    detach(node, c);
    c.stop_timer();
}

/// Go: `removeChild`: takes the cancel node `node` (whose state is `c`) out of the
/// children of the cancel node above it. Idempotent.
fn detach(node: &Node, c: &CancelCtx) {
    if c.slot.load(SeqCst) == NO_SLOT {
        return;
    }
    let Some(anc) = node.parent.cancel_node() else {
        return;
    };
    let removed = {
        let mut st = lock(&anc.cancel_ctx().mu);
        match c.slot.load(SeqCst) {
            NO_SLOT => None,
            i => {
                c.slot.store(NO_SLOT, SeqCst);
                st.children.remove(i, node as *const Node as *const ())
            }
        }
    };
    // A weak reference to `node` itself: dropping it runs nothing.
    drop(removed);
}

/// Go: `cancelCtx.cancel(removeFromParent, err, cause)`: cancels `node` and, at once,
/// every context below it; `cause` `None` means "the error itself". An ancestor that
/// ended first without reaching `node` (the registration is lazy) gives its own reason
/// instead, as Go's eager propagation would have.
pub(crate) fn cancel(node: &Node, remove_from_parent: bool, why: Ended, cause: Option<Cause>) {
    let c = node.cancel_ctx();
    let pulled = match c.state.load(SeqCst) {
        s if s & (ENDED | ANCHORED) != 0 => None,
        _ => node.parent.cancel_node().and_then(|p| first_ended(p)),
    };
    let (why, cause) = match pulled {
        Some((at, why)) => (why, at.cancel_ctx().recorded_cause()),
        None => (why, cause),
    };
    let Some(children) = c.cancel_one(why, &cause) else {
        return;
    };
    cancel_children(children, why, &cause);
    if remove_from_parent {
        detach(node, c);
    }
}

/// Cancels a node's children and theirs, with a work list (a deep tree must not
/// overflow a coroutine's stack).
fn cancel_children(first: Vec<Child>, why: Ended, cause: &Option<Cause>) {
    if first.is_empty() {
        return;
    }
    let mut work = vec![first];
    while let Some(list) = work.pop() {
        for child in list {
            match child {
                Child::Ctx(weak) => {
                    // A child that no longer upgrades is being dropped: nothing to do.
                    let Some(n) = weak.upgrade() else { continue };
                    let c = n.cancel_ctx();
                    // Its slot was in the slab just emptied, which an ended node never
                    // fills again.
                    c.slot.store(NO_SLOT, SeqCst);
                    if let Some(grandchildren) = c.cancel_one(why, cause) {
                        if !grandchildren.is_empty() {
                            work.push(grandchildren);
                        }
                    }
                }
                Child::After(a) => a.fire(),
            }
        }
    }
}

/// Starts the timer of a node made with a deadline (Go: the `time.AfterFunc` in
/// `WithDeadlineCause`), or cancels it at once if the deadline is not after `now`.
pub(crate) fn start_timer(node: &Arc<Node>, now: Instant) {
    let c = node.cancel_ctx();
    let (Some(deadline), Some(timer)) = (c.deadline, &c.timer) else {
        return;
    };
    if ended(node).is_some() {
        // Made under a context that has ended: the timer could change nothing.
        return;
    }
    if deadline <= now {
        // Go: the deadline has already passed.
        cancel(
            node,
            true,
            Ended::DeadlineExceeded,
            c.deadline_cause.clone(),
        );
        return;
    }
    crate::time::timer::schedule(deadline, 0, timer.clone());
}

/// A deadline's entry in gonet's timer heap. It holds its node weakly, so a context
/// whose handles are all dropped is freed before its deadline, and lets go of it when
/// the node is cancelled or dropped, so the node's memory is returned at once rather
/// than when the heap drops its dead entries.
struct DeadlineTimer {
    /// `Weak::into_raw` of the node, or null once taken (by the cancel or the firing).
    node: AtomicPtr<Node>,
}

impl DeadlineTimer {
    fn take(&self) -> Option<Weak<Node>> {
        let p = self.node.swap(ptr::null_mut(), SeqCst);
        // SAFETY: a non-null `p` came from `Weak::into_raw`, and the swap hands it out
        // once.
        (!p.is_null()).then(|| unsafe { Weak::from_raw(p) })
    }
}

impl Drop for DeadlineTimer {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl crate::time::timer::Fire for DeadlineTimer {
    fn fire(self: Arc<Self>, _tag: u64, _when: Instant, _now: Instant) -> Option<(Instant, u64)> {
        if let Some(node) = self.take().and_then(|w| w.upgrade()) {
            let cause = node.cancel_ctx().deadline_cause.clone();
            cancel(&node, true, Ended::DeadlineExceeded, cause);
        }
        None
    }

    fn is_live(&self, _tag: u64) -> bool {
        !self.node.load(SeqCst).is_null()
    }
}

/// Go: `afterFuncCtx`: a function to run, in a coroutine of its own, when the cancel
/// node it is registered with is cancelled.
pub(crate) struct AfterFunc {
    /// Taken by whoever comes first: the cancellation (to run it) or `stop` (Go's
    /// `once`).
    f: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// The cancel node it is registered with.
    parent: Weak<Node>,
    slot: AtomicUsize,
}

/// Go: `AfterFunc(ctx, f)`, for the cancel node `anc` above the context (`None`: it can
/// never be cancelled, and `f` never runs).
pub(crate) fn after_func(anc: Option<&Arc<Node>>, f: Box<dyn FnOnce() + Send>) -> Arc<AfterFunc> {
    let a = Arc::new(AfterFunc {
        f: Mutex::new(Some(f)),
        parent: anc.map(Arc::downgrade).unwrap_or_default(),
        slot: AtomicUsize::new(NO_SLOT),
    });
    let Some(anc) = anc else {
        return a;
    };
    let registered = {
        let c = anc.cancel_ctx();
        let mut st = lock(&c.mu);
        if Ended::from_state(c.state.fetch_or(HOT, SeqCst)).is_some() {
            false
        } else {
            let i = st.children.insert(Child::After(a.clone()));
            a.slot.store(i, SeqCst);
            true
        }
    };
    if registered {
        // An ancestor's cancellation must reach `anc` now: it has a function to run.
        anchor(anc);
    } else {
        // Go: the context is already done: run f now.
        a.fire();
    }
    a
}

impl AfterFunc {
    /// Go: `afterFuncCtx.cancel`: `go a.f()`, once.
    fn fire(&self) {
        let f = lock(&self.f).take();
        if let Some(f) = f {
            crate::go!(f);
        }
    }

    /// Go: the `stop` function: true if this call kept `f` from running.
    pub(crate) fn stop(self: &Arc<Self>) -> bool {
        let f = lock(&self.f).take();
        let Some(f) = f else {
            return false;
        };
        if let Some(anc) = self.parent.upgrade() {
            let removed = {
                let mut st = lock(&anc.cancel_ctx().mu);
                match self.slot.swap(NO_SLOT, SeqCst) {
                    NO_SLOT => None,
                    i => st.children.remove(i, Arc::as_ptr(self) as *const ()),
                }
            };
            drop(removed);
        }
        // The closure (and what it captured) is dropped outside every lock.
        drop(f);
        true
    }
}

/// A registered child.
enum Child {
    Ctx(Weak<Node>),
    After(Arc<AfterFunc>),
}

impl Child {
    /// The address that identifies the child.
    fn addr(&self) -> *const () {
        match self {
            Child::Ctx(w) => Weak::as_ptr(w) as *const (),
            Child::After(a) => Arc::as_ptr(a) as *const (),
        }
    }
}

/// Go: `cancelCtx.children` (a map there; a slab here).
#[derive(Default)]
struct Children {
    slots: Vec<Option<Child>>,
    free: Vec<usize>,
    live: usize,
}

impl Children {
    fn insert(&mut self, c: Child) -> usize {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(c);
                i
            }
            None => {
                self.slots.push(Some(c));
                self.slots.len() - 1
            }
        }
    }

    /// Takes out the child at `i` if it is the one at `addr` (a slot can be reused, and a
    /// child may try to leave twice).
    fn remove(&mut self, i: usize, addr: *const ()) -> Option<Child> {
        let hit = self
            .slots
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.addr() == addr);
        if !hit {
            return None;
        }
        let c = self.slots[i].take();
        self.live -= 1;
        if self.live == 0 {
            self.reset();
        } else {
            self.free.push(i);
        }
        c
    }

    fn take_all(&mut self) -> Vec<Child> {
        if self.live == 0 {
            self.reset();
            return Vec::new();
        }
        let all: Vec<Child> = self.slots.drain(..).flatten().collect();
        self.live = 0;
        self.reset();
        all
    }

    fn reset(&mut self) {
        if self.slots.capacity() > KEEP_CAPACITY {
            self.slots = Vec::new();
            self.free = Vec::new();
        } else {
            self.slots.clear();
            self.free.clear();
        }
    }
}
