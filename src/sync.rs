//! Locks, wait groups and one-time initialisation: Go's `sync` package, coroutine-aware.
//!
//! Everything here parks the calling *coroutine* when it has to wait, so the may worker
//! thread goes on running other coroutines; called from a plain OS thread, it parks the
//! thread. The std and crossbeam equivalents (`std::sync::Mutex`, `Condvar`, `Barrier`,
//! `crossbeam::sync::WaitGroup`) park the OS thread instead, which stalls every coroutine
//! queued on that worker and deadlocks when the coroutine that would release the lock is
//! one of them.
//!
//! The locks are may's, re-exported: [`Mutex`], [`RwLock`], [`Condvar`], [`Semaphore`].
//! Like std's (and unlike Go's), may's locks are poisoned by a panic while locked, so
//! `lock()` returns a `LockResult`. [`WaitGroup`], [`Once`] and [`OnceLock`] are gonet's.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LockResult, PoisonError};
use std::time::Duration;

use may::sync::Blocker;

// golang.org/x/sync/errgroup: `use gonet::sync::errgroup;`.
pub mod errgroup;

/// A mutual exclusion lock that parks the coroutine (not the worker thread) while another
/// holds it; may's, re-exported.
///
/// Go: `sync.Mutex` (`mu.Lock()` is `mu.lock().unwrap()`; the guard unlocks on drop).
///
/// ```
/// use gonet::sync::{Mutex, WaitGroup};
/// use std::sync::Arc;
/// let count = Arc::new(Mutex::new(0));
/// let wg = WaitGroup::new();
/// for _ in 0..10 {
///     let count = count.clone();
///     wg.go(move || *count.lock().unwrap() += 1);
/// }
/// wg.wait();
/// assert_eq!(*count.lock().unwrap(), 10);
/// ```
#[doc(inline)]
pub use may::sync::Mutex;

/// The guard of a locked [`Mutex`]; unlocks on drop.
///
/// Go: the region between `mu.Lock()` and `mu.Unlock()`.
///
/// ```
/// let m = gonet::sync::Mutex::new(vec![1]);
/// let mut g: gonet::sync::MutexGuard<'_, Vec<i32>> = m.lock().unwrap();
/// g.push(2);
/// drop(g); // mu.Unlock()
/// assert_eq!(m.lock().unwrap().len(), 2);
/// ```
#[doc(inline)]
pub use may::sync::MutexGuard;

/// A reader-writer lock that parks coroutines; may's, re-exported.
///
/// Go: `sync.RWMutex` (`RLock` is `read()`, `Lock` is `write()`).
///
/// ```
/// let l = gonet::sync::RwLock::new(5);
/// {
///     let a = l.read().unwrap();
///     let b = l.read().unwrap(); // readers share
///     assert_eq!(*a + *b, 10);
/// }
/// *l.write().unwrap() += 1;
/// assert_eq!(*l.read().unwrap(), 6);
/// ```
#[doc(inline)]
pub use may::sync::RwLock;

/// The guard of a read-locked [`RwLock`].
///
/// Go: the region between `rw.RLock()` and `rw.RUnlock()`.
///
/// ```
/// let l = gonet::sync::RwLock::new(1);
/// let g: gonet::sync::RwLockReadGuard<'_, i32> = l.read().unwrap();
/// assert_eq!(*g, 1);
/// ```
#[doc(inline)]
pub use may::sync::RwLockReadGuard;

/// The guard of a write-locked [`RwLock`].
///
/// Go: the region between `rw.Lock()` and `rw.Unlock()`.
///
/// ```
/// let l = gonet::sync::RwLock::new(1);
/// let mut g: gonet::sync::RwLockWriteGuard<'_, i32> = l.write().unwrap();
/// *g = 2;
/// ```
#[doc(inline)]
pub use may::sync::RwLockWriteGuard;

/// A condition variable that parks coroutines; may's, re-exported.
///
/// Go: `sync.Cond` (`Wait` is `wait(guard)`, `Signal` is `notify_one`, `Broadcast` is
/// `notify_all`).
///
/// ```
/// use gonet::sync::{Condvar, Mutex};
/// use std::sync::Arc;
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let p = pair.clone();
/// gonet::go!(move || {
///     *p.0.lock().unwrap() = true;
///     p.1.notify_one();
/// });
/// let mut ready = pair.0.lock().unwrap();
/// while !*ready {
///     ready = pair.1.wait(ready).unwrap();
/// }
/// ```
#[derive(Default)]
pub struct Condvar(may::sync::Condvar);

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar")
    }
}

/// may keeps a coroutine's park timeout in whole milliseconds and reads 0 as "forever":
/// a shorter timed wait is rounded up to 1 ms so that it ends.
fn at_least_1ms(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

impl Condvar {
    /// A new condition variable. Go: `sync.NewCond(&mu)`.
    ///
    /// ```
    /// let cv = gonet::sync::Condvar::new();
    /// cv.notify_all(); // nobody waits: nothing happens
    /// ```
    pub fn new() -> Condvar {
        Condvar(may::sync::Condvar::new())
    }

    /// Releases the lock, parks until notified, and takes the lock again.
    /// Go: `cond.Wait()`.
    ///
    /// ```
    /// use gonet::sync::{Condvar, Mutex};
    /// use std::sync::Arc;
    /// let pair = Arc::new((Mutex::new(0), Condvar::new()));
    /// let p = pair.clone();
    /// gonet::go!(move || { *p.0.lock().unwrap() = 1; p.1.notify_all(); });
    /// let mut n = pair.0.lock().unwrap();
    /// while *n == 0 { n = pair.1.wait(n).unwrap(); }
    /// ```
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.0.wait(guard)
    }

    /// Like [`wait`](Condvar::wait), giving up after `dur` (at least 1 ms: may counts
    /// coroutine timeouts in whole milliseconds). Go has no timed `Cond.Wait`.
    ///
    /// ```
    /// use gonet::sync::{Condvar, Mutex};
    /// use std::time::Duration;
    /// let (m, cv) = (Mutex::new(()), Condvar::new());
    /// let (_g, r) = cv.wait_timeout(m.lock().unwrap(), Duration::from_micros(100)).unwrap();
    /// assert!(r.timed_out());
    /// ```
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        self.0.wait_timeout(guard, at_least_1ms(dur))
    }

    /// Wakes one parked waiter. Go: `cond.Signal()`.
    ///
    /// ```
    /// gonet::sync::Condvar::new().notify_one();
    /// ```
    pub fn notify_one(&self) {
        self.0.notify_one()
    }

    /// Wakes every parked waiter. Go: `cond.Broadcast()`.
    ///
    /// ```
    /// gonet::sync::Condvar::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.0.notify_all()
    }
}

/// Whether [`Condvar::wait_timeout`] timed out.
///
/// Go: no equivalent (`sync.Cond` has no timed wait).
///
/// ```
/// use gonet::sync::{Condvar, Mutex};
/// use std::time::Duration;
/// let (m, cv) = (Mutex::new(()), Condvar::new());
/// let (_g, r) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(1)).unwrap();
/// assert!(r.timed_out());
/// ```
#[doc(inline)]
pub use may::sync::WaitTimeoutResult;

/// A counting semaphore that parks coroutines: `wait` takes a permit (parking while there
/// is none), `post` returns one. may's `Semphore`, re-exported under its English name.
///
/// Go: a buffered channel used as a semaphore (`sem <- struct{}{}` / `<-sem`), or
/// `golang.org/x/sync/semaphore.Weighted` with weight 1.
///
/// ```
/// let sem = gonet::sync::Semaphore::new(2);
/// sem.wait();
/// sem.wait();
/// assert!(!sem.try_wait()); // both permits taken
/// sem.post();
/// assert!(sem.try_wait());
/// ```
pub struct Semaphore(may::sync::Semphore);

impl Semaphore {
    /// A semaphore holding `permits` permits. Go: `make(chan struct{}, n)` used as one.
    ///
    /// ```
    /// assert_eq!(gonet::sync::Semaphore::new(3).available(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore(may::sync::Semphore::new(permits))
    }

    /// Takes a permit, parking while there is none. Go: `sem <- struct{}{}`.
    ///
    /// ```
    /// let sem = gonet::sync::Semaphore::new(1);
    /// sem.wait();
    /// assert_eq!(sem.available(), 0);
    /// ```
    pub fn wait(&self) {
        self.0.wait()
    }

    /// Takes a permit, giving up after `dur` (at least 1 ms: may counts coroutine
    /// timeouts in whole milliseconds); returns whether it got one.
    /// Go: a `select` on the semaphore channel and `time.After(dur)`.
    ///
    /// ```
    /// let sem = gonet::sync::Semaphore::new(0);
    /// assert!(!sem.wait_timeout(std::time::Duration::from_micros(100)));
    /// ```
    pub fn wait_timeout(&self, dur: Duration) -> bool {
        self.0.wait_timeout(at_least_1ms(dur))
    }

    /// Takes a permit if one is free, without waiting.
    /// Go: a `select` with a `default` arm.
    ///
    /// ```
    /// let sem = gonet::sync::Semaphore::new(1);
    /// assert!(sem.try_wait());
    /// assert!(!sem.try_wait());
    /// ```
    pub fn try_wait(&self) -> bool {
        self.0.try_wait()
    }

    /// Returns a permit, waking one waiter. Go: `<-sem`.
    ///
    /// ```
    /// let sem = gonet::sync::Semaphore::new(0);
    /// sem.post();
    /// assert!(sem.try_wait());
    /// ```
    pub fn post(&self) {
        self.0.post()
    }

    /// How many permits are free now.
    ///
    /// ```
    /// assert_eq!(gonet::sync::Semaphore::new(2).available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.0.get_value()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// WaitGroup (Go: sync.WaitGroup)
// ---------------------------------------------------------------------------------------

/// Waits for a collection of coroutines to finish: [`add`](WaitGroup::add) the number to
/// wait for, each calls [`done`](WaitGroup::done) when finished, [`wait`](WaitGroup::wait)
/// parks until the counter is back to zero.
///
/// Go: `sync.WaitGroup`. Clones share one counter (Go passes `&wg`).
///
/// ```
/// use gonet::sync::WaitGroup;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let wg = WaitGroup::new();
/// let hits = Arc::new(AtomicUsize::new(0));
/// for _ in 0..100 {
///     wg.add(1);
///     let (wg, hits) = (wg.clone(), hits.clone());
///     gonet::go!(move || {
///         hits.fetch_add(1, Ordering::Relaxed);
///         wg.done();
///     });
/// }
/// wg.wait();
/// assert_eq!(hits.load(Ordering::Relaxed), 100);
/// ```
#[derive(Clone, Default)]
pub struct WaitGroup {
    inner: Arc<WgInner>,
}

#[derive(Default)]
struct WgInner {
    count: Mutex<i64>,
    zero: Condvar,
}

impl WaitGroup {
    /// A wait group with a zero counter.
    ///
    /// Go: `var wg sync.WaitGroup`.
    ///
    /// ```
    /// let wg = gonet::sync::WaitGroup::new();
    /// wg.wait(); // zero: returns at once
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `delta` (which may be negative) to the counter; at zero, every waiter is
    /// released.
    ///
    /// Go: `wg.Add(delta)`.
    ///
    /// # Panics
    /// If the counter would go negative, with Go's message "sync: negative WaitGroup
    /// counter" (the counter is left unchanged).
    ///
    /// ```
    /// let wg = gonet::sync::WaitGroup::new();
    /// wg.add(2);
    /// wg.add(-2);
    /// wg.wait();
    /// ```
    pub fn add(&self, delta: i64) {
        let mut count = self
            .inner
            .count
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = count.saturating_add(delta);
        if n < 0 {
            drop(count);
            panic!("sync: negative WaitGroup counter");
        }
        *count = n;
        if n == 0 {
            self.inner.zero.notify_all();
        }
    }

    /// Decrements the counter by one.
    ///
    /// Go: `wg.Done()`.
    ///
    /// # Panics
    /// If the counter would go negative (more `done` than `add`), as [`WaitGroup::add`].
    ///
    /// ```
    /// let wg = gonet::sync::WaitGroup::new();
    /// wg.add(1);
    /// let w = wg.clone();
    /// gonet::go!(move || w.done());
    /// wg.wait();
    /// ```
    pub fn done(&self) {
        self.add(-1);
    }

    /// Parks the calling coroutine (or thread) until the counter is zero.
    ///
    /// Go: `wg.Wait()`.
    ///
    /// ```
    /// let wg = gonet::sync::WaitGroup::new();
    /// wg.add(1);
    /// let w = wg.clone();
    /// gonet::go!(move || {
    ///     gonet::time::sleep(std::time::Duration::from_millis(5));
    ///     w.done();
    /// });
    /// wg.wait(); // parks until done()
    /// ```
    pub fn wait(&self) {
        let mut count = self
            .inner
            .count
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *count > 0 {
            count = self
                .inner
                .zero
                .wait(count)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs `f` in a new coroutine, counted by the group: `add(1)`, then `done()` when `f`
    /// returns, or unwinds (a panic in a coroutine is caught by may; the group is still
    /// released).
    ///
    /// Go: `wg.Go(f)` (Go 1.25).
    ///
    /// ```
    /// let wg = gonet::sync::WaitGroup::new();
    /// let (tx, rx) = gonet::chan::<u32>(10);
    /// for i in 0..10 {
    ///     let tx = tx.clone();
    ///     wg.go(move || tx.send(i).unwrap());
    /// }
    /// wg.wait();
    /// assert_eq!(rx.len(), 10);
    /// ```
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        struct Done(WaitGroup);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.done();
            }
        }
        self.add(1);
        let done = Done(self.clone());
        drop(crate::__spawn(move || {
            let _done = done;
            f();
        }));
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = match self.inner.count.try_lock() {
            Ok(c) => Some(*c),
            Err(_) => None,
        };
        f.debug_struct("WaitGroup").field("count", &count).finish()
    }
}

// ---------------------------------------------------------------------------------------
// Once and OnceLock (Go: sync.Once, sync.OnceValue)
// ---------------------------------------------------------------------------------------

/// A lock with a `const` constructor (may's Mutex has none), so that [`Once`] and
/// [`OnceLock`] can be statics. Waiters park on may `Blocker`s (coroutine or thread);
/// unlock wakes them all and they race again, so a waiter that was cancelled while parked
/// cannot swallow the wake-up. Only the rare first-use contention of a `Once` lands here.
struct Gate {
    state: std::sync::Mutex<GateState>,
}

struct GateState {
    locked: bool,
    waiters: Vec<Arc<Blocker>>,
}

struct GateGuard<'a>(&'a Gate);

impl Gate {
    const fn new() -> Self {
        Gate {
            state: std::sync::Mutex::new(GateState {
                locked: false,
                waiters: Vec::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        // Held for a push or a swap only; nothing panics under it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> GateGuard<'_> {
        loop {
            let blocker = {
                let mut st = self.state();
                if !st.locked {
                    st.locked = true;
                    return GateGuard(self);
                }
                let b = Blocker::current();
                st.waiters.push(b.clone());
                b
            };
            // An unpark that came first is remembered, so this cannot miss it.
            let _ = blocker.park(None);
        }
    }
}

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        let waiters = {
            let mut st = self.0.state();
            st.locked = false;
            std::mem::take(&mut st.waiters)
        };
        for b in waiters {
            b.unpark();
        }
    }
}

/// Runs a function exactly once, however many coroutines call it; the others park (the
/// worker thread keeps running) until it has returned.
///
/// Go: `sync.Once` (`once.Do(f)` is `once.call_once(f)`). As in Go, if `f` panics the
/// `Once` counts as done and `f` is not called again.
///
/// `std::sync::Once` would be wrong here when `f` parks (I/O, a channel, a sleep): the
/// other callers would block their worker *threads*, and if the coroutine running `f` is
/// queued behind one of them, nobody ever runs again.
///
/// ```
/// use gonet::sync::Once;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// static INIT: Once = Once::new();
/// static CALLS: AtomicUsize = AtomicUsize::new(0);
/// let wg = gonet::sync::WaitGroup::new();
/// for _ in 0..10 {
///     wg.go(|| INIT.call_once(|| {
///         gonet::time::sleep(std::time::Duration::from_millis(5)); // parks: fine
///         CALLS.fetch_add(1, Ordering::Relaxed);
///     }));
/// }
/// wg.wait();
/// assert_eq!(CALLS.load(Ordering::Relaxed), 1);
/// ```
pub struct Once {
    done: AtomicBool,
    gate: Gate,
}

impl Once {
    /// A `Once` that has not run yet; `const`, so it can be a `static`.
    ///
    /// Go: `var once sync.Once`.
    ///
    /// ```
    /// static ONCE: gonet::sync::Once = gonet::sync::Once::new();
    /// assert!(!ONCE.is_completed());
    /// ```
    pub const fn new() -> Self {
        Once {
            done: AtomicBool::new(false),
            gate: Gate::new(),
        }
    }

    /// Calls `f` if no call has happened yet; otherwise waits for the first call to
    /// return. `f` must not call `call_once` on the same `Once` (it would wait for itself).
    ///
    /// Go: `once.Do(f)`.
    ///
    /// ```
    /// let once = gonet::sync::Once::new();
    /// let mut n = 0;
    /// once.call_once(|| n += 1);
    /// once.call_once(|| n += 1);
    /// assert_eq!(n, 1);
    /// ```
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if self.done.load(Ordering::Acquire) {
            return;
        }
        let _gate = self.gate.lock();
        if self.done.load(Ordering::Acquire) {
            return;
        }
        struct SetDone<'a>(&'a AtomicBool);
        impl Drop for SetDone<'_> {
            fn drop(&mut self) {
                // Also on unwind: Go's Once counts a panicking f as done.
                self.0.store(true, Ordering::Release);
            }
        }
        let _done = SetDone(&self.done);
        f();
    }

    /// True once a call has returned (or panicked).
    ///
    /// Go: no equivalent.
    ///
    /// ```
    /// let once = gonet::sync::Once::new();
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

impl Default for Once {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("done", &self.is_completed())
            .finish()
    }
}

/// A value initialised once, on first use, by the first caller; concurrent callers park
/// (coroutine-aware) until it is ready. Reads after that are a single atomic load.
///
/// Go: `sync.OnceValue(f)` (Go 1.21), or a `sync.Once` guarding a variable. Unlike Go's
/// `Once`, and like std's `OnceLock`, an initialiser that panics leaves the value unset,
/// and the next caller tries again.
///
/// ```
/// use gonet::sync::OnceLock;
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// let h = gonet::go!(|| CONFIG.get_or_init(|| "loaded".to_string()).len());
/// assert_eq!(h.join().unwrap(), 6);
/// assert_eq!(CONFIG.get().map(String::as_str), Some("loaded"));
/// ```
pub struct OnceLock<T> {
    cell: std::sync::OnceLock<T>,
    gate: Gate,
}

impl<T> OnceLock<T> {
    /// An empty cell; `const`, so it can be a `static`.
    ///
    /// Go: `var v T; var once sync.Once`.
    ///
    /// ```
    /// static V: gonet::sync::OnceLock<u32> = gonet::sync::OnceLock::new();
    /// assert!(V.get().is_none());
    /// ```
    pub const fn new() -> Self {
        OnceLock {
            cell: std::sync::OnceLock::new(),
            gate: Gate::new(),
        }
    }

    /// The value, if initialised; never waits.
    ///
    /// Go: reading the variable after `once.Do`.
    ///
    /// ```
    /// let v = gonet::sync::OnceLock::new();
    /// assert_eq!(v.get(), None);
    /// v.get_or_init(|| 3);
    /// assert_eq!(v.get(), Some(&3));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.cell.get()
    }

    /// The value, initialised by `f` if this is the first call; concurrent callers park
    /// until it is ready. `f` may park (do I/O, sleep); it must not use this same cell.
    ///
    /// Go: `sync.OnceValue(f)()`.
    ///
    /// ```
    /// let v = gonet::sync::OnceLock::new();
    /// assert_eq!(*v.get_or_init(|| 1), 1);
    /// assert_eq!(*v.get_or_init(|| 2), 1); // already set
    /// ```
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        if let Some(v) = self.cell.get() {
            return v;
        }
        let _gate = self.gate.lock();
        // Only the gate holder initialises, so std's cell never blocks anyone here.
        self.cell.get_or_init(f)
    }

    /// Sets the value if it is not set yet; otherwise gives `value` back.
    ///
    /// Go: `once.Do(func() { v = value })`.
    ///
    /// ```
    /// let v = gonet::sync::OnceLock::new();
    /// assert_eq!(v.set(1), Ok(()));
    /// assert_eq!(v.set(2), Err(2));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        let _gate = self.gate.lock();
        self.cell.set(value)
    }

    /// The value, if initialised, consuming the cell.
    ///
    /// Go: no equivalent.
    ///
    /// ```
    /// let v = gonet::sync::OnceLock::new();
    /// v.set(String::from("x")).unwrap();
    /// assert_eq!(v.into_inner().as_deref(), Some("x"));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.cell.into_inner()
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceLock").field(&self.cell.get()).finish()
    }
}
