//! The one timer thread behind `gonet::time` and connection deadlines.
//!
//! Go: `runtime/time.go` (the runtime's timer heap). may's own timers park a coroutine
//! with a relative timeout fixed when it parks; Go's timers can be stopped and reset, and
//! Go's deadlines move while a call is blocked. So gonet keeps one heap of its own, served
//! by one OS thread (`gonet-timer`), which coroutines only touch through a short lock: the
//! thread sleeps on a std `Condvar` until the earliest entry is due and then calls its
//! [`Fire::fire`] outside the lock.
//!
//! An entry is `(when, tag, task)`: what `tag` means is the task's business (a timer's
//! generation, a deadline). Dead entries (a stopped timer, a deadline already met) are
//! dropped when they come due, or earlier when the heap is compacted.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

/// Something the timer thread runs when one of its entries comes due.
pub(crate) trait Fire: Send + Sync {
    /// The entry queued for `when` with `tag` is due (`now >= when`): do the work. Returns
    /// the time and tag to queue the task again (a ticker, a deadline that moved later).
    fn fire(self: Arc<Self>, tag: u64, when: Instant, now: Instant) -> Option<(Instant, u64)>;

    /// Whether the entry with `tag` can still do anything; called under the heap lock
    /// when compacting, so it must not schedule.
    fn is_live(&self, tag: u64) -> bool;
}

/// Queues `task` to fire at `when` with `tag`, starting the timer thread on first use.
pub(crate) fn schedule(when: Instant, tag: u64, task: Arc<dyn Fire>) {
    let t = timers();
    let mut h = lock(&t.heap);
    let earliest = h.entries.peek().is_none_or(|top| when < top.when);
    h.push(when, tag, task);
    if h.entries.len() >= h.compact_at {
        h.compact();
    }
    if !h.thread_started {
        match std::thread::Builder::new()
            .name("gonet-timer".into())
            .spawn(|| timer_loop(timers()))
        {
            Ok(_) => h.thread_started = true,
            // Retried with the next entry; pending ones fire once the thread runs.
            Err(err) => log::error!("gonet: cannot start the timer thread: {err}"),
        }
    }
    drop(h);
    if earliest {
        t.cv.notify_one();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; recover the data if something did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Compact the heap no more often than at this size.
const MIN_COMPACT: usize = 1024;

struct Timers {
    heap: Mutex<Heap>,
    cv: Condvar,
}

struct Heap {
    entries: BinaryHeap<Entry>,
    next_seq: u64,
    compact_at: usize,
    thread_started: bool,
}

impl Heap {
    fn push(&mut self, when: Instant, tag: u64, task: Arc<dyn Fire>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push(Entry {
            when,
            seq,
            tag,
            task,
        });
    }

    /// Drops dead entries (stopped or reset timers, deadlines already met).
    fn compact(&mut self) {
        let entries = std::mem::take(&mut self.entries).into_vec();
        let before = entries.len();
        let live: Vec<Entry> = entries
            .into_iter()
            .filter(|e| e.task.is_live(e.tag))
            .collect();
        log::debug!("gonet timers: compacted {before} -> {} entries", live.len());
        self.compact_at = MIN_COMPACT.max(2 * live.len());
        self.entries = BinaryHeap::from(live);
    }
}

fn timers() -> &'static Timers {
    static TIMERS: OnceLock<Timers> = OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        heap: Mutex::new(Heap {
            entries: BinaryHeap::new(),
            next_seq: 0,
            compact_at: MIN_COMPACT,
            thread_started: false,
        }),
        cv: Condvar::new(),
    })
}

/// The `gonet-timer` thread: sleeps until the earliest entry is due, fires what is due.
fn timer_loop(t: &'static Timers) {
    let mut h = lock(&t.heap);
    loop {
        let now = Instant::now();
        match h.entries.peek().map(|e| e.when) {
            None => h = t.cv.wait(h).unwrap_or_else(PoisonError::into_inner),
            Some(when) if when > now => {
                h = match t.cv.wait_timeout(h, when - now) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                }
            }
            Some(_) => {
                let Some(e) = h.entries.pop() else { continue };
                // Fire outside the heap lock: it may wake a coroutine or schedule.
                drop(h);
                let again = e.task.clone().fire(e.tag, e.when, now);
                h = lock(&t.heap);
                if let Some((when, tag)) = again {
                    h.push(when, tag, e.task);
                }
            }
        }
    }
}

/// A heap entry: fire `task` with `tag` at `when`.
struct Entry {
    when: Instant,
    /// Insertion order, to break ties (FIFO among equal deadlines).
    seq: u64,
    tag: u64,
    task: Arc<dyn Fire>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that std's max-heap pops the earliest deadline first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.when, other.seq).cmp(&(self.when, self.seq))
    }
}
