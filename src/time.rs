//! Timers: Go's `time.Sleep`, `time.After`, `time.Tick`, `time.NewTimer` and
//! `time.NewTicker`, coroutine-aware.
//!
//! [`sleep`] parks the calling coroutine on may's timer (a plain thread sleeps). Timer and
//! ticker channels are served by **one** background OS thread for the whole process,
//! `gonet-timer`, which keeps every pending timer in a binary heap (Go keeps a heap per P)
//! and sends on the channel when it is due: a timer costs one heap entry and a channel,
//! never a thread or a coroutine. The thread starts with the first timer. Sends from it
//! never block (a timer channel has a buffer of one; a ticker drops ticks its reader has
//! not taken yet, as Go's does).
//!
//! Use these, not `std::thread::sleep`, in coroutines: a thread sleep stalls every coroutine
//! queued on the worker.
//!
//! A stopped or abandoned timer leaves a dead heap entry until its deadline or the next
//! heap compaction (the heap is compacted whenever it has doubled since the last one), so a
//! `select!` loop that makes a fresh `after(1h)` per iteration costs memory proportional to
//! its iteration rate times the compaction interval, not to the hour. A timer whose every
//! receiver is gone is discarded without sending.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::chan::{Receiver, Sender, never, unclosed_chan};

mod format;
pub(crate) mod timer;
pub use format::{ParseDurationError, parse_duration};

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// Pauses the calling coroutine for `d`; the worker thread runs other coroutines
/// meanwhile. Called from a plain thread, sleeps the thread.
///
/// Go: `time.Sleep(d)`.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// gonet::go!(|| gonet::time::sleep(Duration::from_millis(10))).join().unwrap();
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
pub fn sleep(d: Duration) {
    // On gonet's timer thread, not may's (runtime/park.rs says why).
    crate::runtime::park::sleep(d);
}

/// A channel that receives the current time once, after `d`.
///
/// Go: `time.After(d)`. The usual timeout arm of a [`select!`](crate::select!):
/// `recv(gonet::time::after(d)) => ...`. To release the timer early, use [`Timer`] and
/// [`Timer::stop`].
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// let fired: Instant = gonet::time::after(Duration::from_millis(10)).recv().unwrap();
/// assert!(fired >= start + Duration::from_millis(10));
/// ```
pub fn after(d: Duration) -> Receiver<Instant> {
    Timer::new(d).c
}

/// A channel that receives the current time every `d`; ticks its reader is too slow for
/// are dropped (the buffer holds one). A zero `d` gives a channel that never receives.
/// The ticker stops when every receiver of the channel has been dropped.
///
/// Go: `time.Tick(d)` (which returns nil for `d <= 0`).
///
/// ```
/// use std::time::Duration;
/// let ticks = gonet::time::tick(Duration::from_millis(5));
/// for _ in 0..3 {
///     ticks.recv().unwrap();
/// }
/// ```
pub fn tick(d: Duration) -> Receiver<Instant> {
    if d.is_zero() {
        return never();
    }
    Ticker::new(d).c
}

/// A single event: the current time is sent on [`Timer::c`] once, after the duration.
///
/// Go: `time.Timer` / `time.NewTimer(d)`. Stop and reset follow Go 1.23: after either
/// returns, no stale time from the earlier setting is received.
///
/// ```
/// use std::time::Duration;
/// let t = gonet::time::Timer::new(Duration::from_secs(3600));
/// assert!(t.stop()); // it was pending
/// assert!(t.c.recv_timeout(Duration::from_millis(10)).is_err()); // and never fires
/// ```
pub struct Timer {
    /// The channel the time is delivered on (Go: `t.C`).
    pub c: Receiver<Instant>,
    task: Arc<Task>,
}

impl Timer {
    /// Starts a timer that sends the current time on `c` after `d`.
    ///
    /// Go: `time.NewTimer(d)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gonet::time::Timer::new(Duration::from_millis(5));
    /// assert!(t.c.recv().is_some());
    /// ```
    pub fn new(d: Duration) -> Timer {
        let (task, c) = Task::new(None);
        task.start(d);
        Timer { c, task }
    }

    /// Stops the timer; returns true if it was pending (false if it had already fired or
    /// been stopped). Afterwards `c` receives nothing until a [`Timer::reset`].
    ///
    /// Go: `t.Stop()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gonet::time::Timer::new(Duration::from_millis(1));
    /// t.c.recv().unwrap();
    /// assert!(!t.stop()); // already fired
    /// ```
    pub fn stop(&self) -> bool {
        self.task.stop()
    }

    /// Re-arms the timer to fire after `d`, discarding an unreceived earlier time; returns
    /// true if it was pending.
    ///
    /// Go: `t.Reset(d)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gonet::time::Timer::new(Duration::from_secs(3600));
    /// assert!(t.reset(Duration::from_millis(1)));
    /// assert!(t.c.recv().is_some());
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        self.task.reset(d, None)
    }
}

/// Delivers the current time on [`Ticker::c`] every period; a reader that falls behind
/// gets the latest tick only (ticks are dropped, never queued), and the ticks stay on the
/// period grid.
///
/// Go: `time.Ticker` / `time.NewTicker(d)`.
///
/// ```
/// use std::time::Duration;
/// let t = gonet::time::Ticker::new(Duration::from_millis(2));
/// t.c.recv().unwrap();
/// t.stop();
/// ```
pub struct Ticker {
    /// The channel the ticks are delivered on (Go: `t.C`).
    pub c: Receiver<Instant>,
    task: Arc<Task>,
}

impl Ticker {
    /// Starts a ticker with period `d`.
    ///
    /// Go: `time.NewTicker(d)`.
    ///
    /// # Panics
    /// If `d` is zero, with Go's message "non-positive interval for NewTicker".
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gonet::time::Ticker::new(Duration::from_millis(1));
    /// assert!(t.c.recv().is_some());
    /// ```
    pub fn new(d: Duration) -> Ticker {
        assert!(!d.is_zero(), "non-positive interval for NewTicker");
        let (task, c) = Task::new(Some(d));
        task.start(d);
        Ticker { c, task }
    }

    /// Stops the ticker: no more ticks are sent, and an unreceived tick is discarded.
    /// Dropping the ticker together with every clone of `c` stops it too.
    ///
    /// Go: `t.Stop()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gonet::time::Ticker::new(Duration::from_millis(1));
    /// t.stop();
    /// assert!(t.c.recv_timeout(Duration::from_millis(20)).is_err());
    /// ```
    pub fn stop(&self) {
        self.task.stop();
    }

    /// Changes the period to `d` and restarts the ticker (the next tick comes `d` from
    /// now), discarding an unreceived tick.
    ///
    /// Go: `t.Reset(d)`.
    ///
    /// # Panics
    /// If `d` is zero, with Go's message "non-positive interval for Ticker.Reset".
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = gonet::time::Ticker::new(Duration::from_secs(3600));
    /// t.reset(Duration::from_millis(1));
    /// assert!(t.c.recv().is_some());
    /// ```
    pub fn reset(&self, d: Duration) {
        assert!(!d.is_zero(), "non-positive interval for Ticker.Reset");
        self.task.reset(d, Some(d));
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").finish_non_exhaustive()
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker").finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------
// A timer (Go: runtime.timer)
// ---------------------------------------------------------------------------------------

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; recover the data if something did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One timer or ticker, shared by its handle and its heap entries.
struct Task {
    tx: Sender<Instant>,
    /// Bumped (under `state`) by every start, stop and reset: a heap entry carrying an
    /// older generation is dead.
    generation: AtomicU64,
    state: Mutex<TaskState>,
}

struct TaskState {
    active: bool,
    period: Option<Duration>,
}

impl Task {
    fn new(period: Option<Duration>) -> (Arc<Task>, Receiver<Instant>) {
        let (tx, rx) = unclosed_chan(1);
        let task = Arc::new(Task {
            tx,
            generation: AtomicU64::new(0),
            state: Mutex::new(TaskState {
                active: false,
                period,
            }),
        });
        (task, rx)
    }

    fn start(self: &Arc<Self>, d: Duration) {
        self.reset(d, None);
    }

    fn stop(&self) -> bool {
        let mut st = lock(&self.state);
        let was = st.active;
        st.active = false;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.tx.drain();
        was
    }

    /// Re-arms to fire `d` from now; `period` changes a ticker's period.
    fn reset(self: &Arc<Self>, d: Duration, period: Option<Duration>) -> bool {
        let (was, generation) = {
            let mut st = lock(&self.state);
            let was = st.active;
            st.active = true;
            if period.is_some() {
                st.period = period;
            }
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            self.tx.drain();
            (was, generation)
        };
        // A deadline too far to represent never comes: leave it unscheduled.
        if let Some(when) = Instant::now().checked_add(d) {
            crate::time::timer::schedule(when, generation, self.clone());
        }
        was
    }
}

/// A heap entry's tag is the task's generation when it was queued: an entry from an
/// older generation (stopped or reset since) is dead.
impl crate::time::timer::Fire for Task {
    fn is_live(&self, generation: u64) -> bool {
        self.generation.load(Ordering::Acquire) == generation && self.tx.receiver_count() > 0
    }

    /// Sends the time if the entry is live; a ticker queues its next tick.
    fn fire(
        self: Arc<Self>,
        generation: u64,
        when: Instant,
        now: Instant,
    ) -> Option<(Instant, u64)> {
        let mut st = lock(&self.state);
        if !st.active || self.generation.load(Ordering::Acquire) != generation {
            return None;
        }
        if self.tx.receiver_count() == 0 {
            st.active = false;
            return None;
        }
        // Full means the reader has not taken the previous tick: drop this one (Go).
        let _ = self.tx.try_send(now);
        match st.period {
            None => {
                st.active = false;
                None
            }
            Some(p) => Some((next_tick(when, p, now), generation)),
        }
    }
}

/// The first point of the grid `start + k * period` after `now` (Go skips missed ticks).
fn next_tick(start: Instant, period: Duration, now: Instant) -> Instant {
    let behind = now.saturating_duration_since(start).as_nanos();
    let k = behind / period.as_nanos() + 1;
    u64::try_from(k * period.as_nanos())
        .ok()
        .and_then(|ns| start.checked_add(Duration::from_nanos(ns)))
        .unwrap_or(now + period)
}
