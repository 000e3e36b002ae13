//! `select!`: Go's `select` statement (`runtime/select.go`), coroutine-aware.
//!
//! The macro is documented at [`select!`](crate::select!). This file holds the engine it
//! expands to, which is also what a plain [`Sender::send`](crate::Sender::send) or
//! [`Receiver::recv`](crate::Receiver::recv) uses (a one-case select).
//!
//! # Algorithm (Go's `selectgo`, our code)
//! 1. Lock every channel of the select, in address order (each channel once), so no
//!    other operation can change them meanwhile and two selects cannot deadlock.
//! 2. Poll the cases in a random order; the first one that can proceed now (a value or a
//!    parked sender to receive from, buffer room or a parked receiver to send to, or a
//!    closed channel) is done at once: unlock, return it. That makes the choice among
//!    ready cases uniformly random, as in Go.
//! 3. Nothing ready: with a `default` arm, unlock and return "default". Otherwise queue an
//!    entry on every channel, all pointing at one [`Signal`], unlock, and park the
//!    coroutine (or thread) on the signal's may `Blocker`.
//! 4. The first counterparty to claim the signal (a compare-and-swap, under its channel's
//!    lock) completes that case and wakes us; claims by the others fail, and they skip our
//!    stale entries. Once awake we remove our entries from the other channels.
//!
//! A coroutine cancelled by may while parked unwinds through a guard that withdraws its
//! entries, so the channels never keep a waiter that is gone. (A value handed to a receive
//! at the very instant of the cancel is dropped with the unwinding coroutine.)

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam::utils::Backoff;
use may::sync::Blocker;

use crate::chan::RawLock;

/// The index `run` returns when no case was chosen (default arm, timeout).
pub(crate) const NONE: usize = usize::MAX;

// Signal states. FIRED + i: case i completed.
const WAITING: usize = 0;
const CLAIMED: usize = 1;
const ABANDONED: usize = 2;
const FIRED: usize = 3;

/// One parked operation (a blocking send, receive or select): the state every channel
/// entry of the operation points at, and the may `Blocker` it parks on.
pub(crate) struct Signal {
    state: AtomicUsize,
    blocker: Blocker,
    /// The owner is a coroutine (else a plain thread, woken directly).
    coroutine: bool,
}

impl Signal {
    /// Must be created by the coroutine (or thread) that will park on it: may's `Blocker`
    /// picks a coroutine or a thread parker at creation.
    fn new() -> Self {
        Signal {
            state: AtomicUsize::new(WAITING),
            // `false`: a may cancel unwinds out of the park (see `Parked`).
            blocker: Blocker::new(false),
            coroutine: may::coroutine::is_coroutine(),
        }
    }

    /// Claims the operation for completion; only one claim ever succeeds, and none after
    /// the owner abandoned it. Called under the lock of the claiming channel.
    pub(crate) fn claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Publishes that case `case` completed (after a successful `claim` and the hand-over
    /// of the value).
    pub(crate) fn fire(&self, case: usize) {
        self.state.store(FIRED + case, Ordering::Release);
    }

    /// Unparks the owner. Called after the channel lock is released. From outside a may
    /// worker (a plain thread, gonet's timer or pool threads), a coroutine owner is woken
    /// through gonet's injector, so not onto a worker that is stuck (runtime/proc.rs).
    pub(crate) fn wake(self: &Arc<Self>) {
        if self.coroutine && crate::runtime::proc::wake_from_outside() {
            let s = self.clone();
            crate::runtime::proc::inject(crate::runtime::proc::Runnable::Call(Box::new(
                move |_| s.blocker.unpark(),
            )));
        } else {
            self.blocker.unpark();
        }
    }

    /// Parks until a counterparty claims the operation, or until `deadline`.
    fn wait(&self, deadline: Option<Instant>) {
        while self.state.load(Ordering::Acquire) == WAITING {
            let timeout = match deadline {
                None => None,
                Some(t) => {
                    let now = Instant::now();
                    if now >= t {
                        return;
                    }
                    // may keeps a coroutine's park timeout in whole milliseconds and
                    // reads 0 as "no timeout": round up, or a sub-millisecond wait would
                    // never end. The loop re-checks the deadline.
                    Some((t - now).max(Duration::from_millis(1)))
                }
            };
            // Timeout and spurious returns just go round the loop; a may cancel unwinds.
            // A gonet scheduling point: the coroutine's go! site goes with it (sysmon).
            let site = crate::runtime::proc::current_site();
            let _ = self.blocker.park(timeout);
            crate::runtime::proc::mark(site);
        }
    }

    /// Settles the final state: the completed case, or `None` after abandoning it (a
    /// timeout or an unwinding cancel). Waits out a counterparty that is mid-hand-over.
    fn settle(&self) -> Option<usize> {
        let backoff = Backoff::new();
        loop {
            match self.state.load(Ordering::Acquire) {
                WAITING => {
                    if self
                        .state
                        .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return None;
                    }
                }
                // The claimer holds its channel lock and is a running thread: brief.
                CLAIMED => backoff.snooze(),
                ABANDONED => return None,
                s => return Some(s - FIRED),
            }
        }
    }
}

/// One case of a select, type-erased over the channel's element type.
pub(crate) trait Case {
    /// The lock of the case's channel.
    fn lock(&self) -> &RawLock;
    /// Completes the case now if it can proceed without parking; records the result.
    ///
    /// # Safety
    /// The caller holds `self.lock()`.
    unsafe fn poll(&mut self) -> bool;
    /// Queues an entry for this case, pointing at `signal`, as case number `case`.
    ///
    /// # Safety
    /// The caller holds `self.lock()`.
    unsafe fn enqueue(&mut self, signal: &Arc<Signal>, case: usize);
    /// After a successful `poll`, once unlocked: wakes the counterparty it completed.
    fn wake_after_unlock(&mut self);
    /// After parking (lock not held): takes the result if `chosen`, else withdraws the
    /// entry from the channel.
    fn finish(&mut self, chosen: bool);
}

/// A type-erased select case; built by [`select!`](crate::select!), not part of the API.
#[doc(hidden)]
pub struct CaseRef<'a>(&'a mut (dyn Case + 'a));

impl<'a> CaseRef<'a> {
    pub(crate) fn new<C: Case + 'a>(c: &'a mut C) -> Self {
        CaseRef(c)
    }
}

impl fmt::Debug for CaseRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CaseRef")
    }
}

/// How long a select may park.
pub(crate) enum Mode {
    /// A `default` arm: never park.
    NonBlock,
    /// Park until a case is ready.
    Block,
    /// Park until a case is ready or the deadline passes.
    Deadline(Instant),
}

impl Mode {
    /// A deadline `d` from now (one too far to represent means no deadline).
    pub(crate) fn deadline_after(d: Duration) -> Mode {
        match Instant::now().checked_add(d) {
            Some(t) => Mode::Deadline(t),
            None => Mode::Block,
        }
    }
}

/// The entry point of the [`select!`](crate::select!) expansion: the chosen case's index,
/// or `usize::MAX` for the `default` arm.
#[doc(hidden)]
pub fn select(cases: &mut [CaseRef<'_>], has_default: bool) -> usize {
    run(
        cases,
        if has_default {
            Mode::NonBlock
        } else {
            Mode::Block
        },
    )
}

/// Runs a select over `cases`: the index of the completed case, or [`NONE`].
pub(crate) fn run(cases: &mut [CaseRef<'_>], mode: Mode) -> usize {
    let deadline = match mode {
        Mode::NonBlock => None,
        Mode::Block => None,
        Mode::Deadline(t) => Some(t),
    };
    if cases.is_empty() {
        // Go: `select {}` blocks forever; with a default it returns at once.
        return match mode {
            Mode::NonBlock => NONE,
            Mode::Block => park_forever(),
            Mode::Deadline(t) => {
                crate::time::sleep(t.saturating_duration_since(Instant::now()));
                NONE
            }
        };
    }

    // Lock order: by channel address, so that any two selects lock in the same order.
    // Poll order: a random permutation (Fisher-Yates), for Go's random choice. A plain
    // send or receive (one case) needs neither, nor their allocations.
    const ONE: [usize; 1] = [0];
    let (mut order_buf, mut poll_buf) = (Vec::new(), Vec::new());
    let (order, poll): (&[usize], &[usize]) = if cases.len() == 1 {
        (&ONE, &ONE)
    } else {
        order_buf.extend(0..cases.len());
        order_buf.sort_by_key(|&i| cases[i].0.lock().addr());
        poll_buf.extend(0..cases.len());
        for i in (1..poll_buf.len()).rev() {
            poll_buf.swap(i, random_below(i + 1));
        }
        (&order_buf, &poll_buf)
    };

    lock_all(cases, order);
    for &i in poll {
        // SAFETY: lock_all holds the lock of every case's channel.
        if unsafe { cases[i].0.poll() } {
            unlock_all(cases, order);
            cases[i].0.wake_after_unlock();
            return i;
        }
    }
    if let Mode::NonBlock = mode {
        unlock_all(cases, order);
        return NONE;
    }

    let signal = Arc::new(Signal::new());
    for (i, c) in cases.iter_mut().enumerate() {
        // SAFETY: lock_all holds the lock of every case's channel.
        unsafe { c.0.enqueue(&signal, i) };
    }
    unlock_all(cases, order);

    let mut parked = Parked {
        cases,
        signal,
        finished: false,
    };
    parked.signal.wait(deadline);
    parked.finish()
}

/// A select that has queued its entries: settles and withdraws them, also when the
/// coroutine unwinds out of its park (a may cancel).
struct Parked<'c, 'a> {
    cases: &'c mut [CaseRef<'a>],
    signal: Arc<Signal>,
    finished: bool,
}

impl Parked<'_, '_> {
    fn finish(&mut self) -> usize {
        self.finished = true;
        let chosen = self.signal.settle();
        for (i, c) in self.cases.iter_mut().enumerate() {
            c.0.finish(chosen == Some(i));
        }
        chosen.unwrap_or(NONE)
    }
}

impl Drop for Parked<'_, '_> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish();
        }
    }
}

fn lock_all(cases: &[CaseRef<'_>], order: &[usize]) {
    let mut prev = None;
    for &i in order {
        let l = cases[i].0.lock();
        if prev != Some(l.addr()) {
            l.lock();
            prev = Some(l.addr());
        }
    }
}

fn unlock_all(cases: &[CaseRef<'_>], order: &[usize]) {
    let mut prev = None;
    for &i in order {
        let l = cases[i].0.lock();
        if prev != Some(l.addr()) {
            l.unlock();
            prev = Some(l.addr());
        }
    }
}

/// Parks the caller for good (Go's `select {}`), without burning CPU in a thread.
fn park_forever() -> ! {
    let blocker = Blocker::new(false);
    loop {
        let _ = blocker.park(None);
    }
}

/// A uniformly distributed number in `0..n` (splitmix64 over a shared counter; the choice
/// among ready cases needs to be fair, not unpredictable).
fn random_below(n: usize) -> usize {
    static STATE: AtomicU64 = AtomicU64::new(0x853c_49e6_748f_ea9b);
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ((u128::from(z) * n as u128) >> 64) as usize
}

/// Waits on several channel operations at once and runs the arm of the one that
/// completes: Go's `select` statement.
///
/// Go:
/// ```go
/// select {
/// case v, ok := <-rx:       // recv(rx) -> v => ...        (v: Option<T>, None = closed)
/// case tx <- x:             // send(tx, x) -> res => ...   (res: Result<(), SendError<T>>)
/// case <-time.After(d):     // recv(gonet::time::after(d)) => ...
/// default:                  // default => ...
/// }
/// ```
///
/// # Syntax
/// ```text
/// gonet::select! {
///     recv(RECEIVER) -> PATTERN => BODY,
///     recv(RECEIVER) => BODY,                  // value ignored
///     send(SENDER, VALUE) -> PATTERN => BODY,
///     send(SENDER, VALUE) => BODY,             // result ignored
///     default => BODY,                         // at most one
/// }
/// ```
/// - `RECEIVER` / `SENDER` is an expression giving a [`Receiver`](crate::Receiver) /
///   [`Sender`](crate::Sender) or a reference to one; a temporary such as
///   `gonet::time::after(d)` lives until the select ends.
/// - A receive binds `Option<T>` (`None`: the channel is closed and drained); a send binds
///   `Result<(), SendError<T>>` (`Err`: the channel is closed, the value is returned). The
///   pattern must be irrefutable (`v`, `_`, `mut v`).
/// - `BODY` is a block (comma optional) or an expression followed by a comma (optional on
///   the last arm). Bodies run outside any lock and may `break`, `continue`, `return` or
///   use `?` for the enclosing function, and the macro is an expression: every arm gives
///   a value of the same type.
///
/// # Semantics (Go's)
/// All channel and value expressions are evaluated once, in source order, before
/// anything else. If one or more cases can proceed, one of them is chosen uniformly at
/// random. Otherwise the `default` arm runs if there is one; if there is not, the
/// coroutine parks (the worker thread keeps running other coroutines; a plain thread
/// parks) until a case can proceed. The value of a send case that was not chosen is
/// dropped. A select with no arms at all parks forever (Go's `select {}`).
///
/// # Timeouts
/// A timeout is a receive from [`time::after`](crate::time::after), as in Go:
/// ```
/// use std::time::Duration;
/// let (_tx, rx) = gonet::chan::<i32>(0);
/// let got = gonet::select! {
///     recv(rx) -> v => v,
///     recv(gonet::time::after(Duration::from_millis(20))) => None,
/// };
/// assert_eq!(got, None); // nobody sent: the timeout fired
/// ```
///
/// # Example
/// ```
/// use gonet::time;
/// use std::time::Duration;
///
/// let (jobs_tx, jobs) = gonet::chan::<u32>(0);
/// let (quit_tx, quit) = gonet::chan::<()>(0);
/// let (results_tx, results) = gonet::chan::<u32>(16);
///
/// let worker = gonet::go!(move || loop {
///     gonet::select! {
///         recv(jobs) -> job => {
///             if let Some(n) = job {
///                 results_tx.send(n * n).unwrap();
///             }
///         }
///         recv(quit) => break,
///         recv(time::after(Duration::from_secs(5))) => panic!("stuck"),
///     }
/// });
///
/// for n in 1..=3 {
///     jobs_tx.send(n).unwrap();
/// }
/// quit_tx.send(()).unwrap();
/// worker.join().unwrap();
/// assert_eq!(results.iter().take(3).collect::<Vec<_>>(), [1, 4, 9]);
///
/// // A non-blocking send: `default` runs when no receiver is waiting.
/// let sent = gonet::select! {
///     send(jobs_tx, 4) -> res => res.is_ok(),
///     default => false,
/// };
/// assert!(!sent);
/// ```
#[macro_export]
macro_rules! select {
    // ---- parse: normalise every arm to `(kind (args..) (pattern) (body))` ----
    (@parse [$($arms:tt)*] [$($def:tt)*]) => {
        $crate::select!(@build [] (0) [$($arms)*] [$($def)*])
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] , $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) => $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)*] [$($def)*] recv($rx) -> _ => $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $($rest:tt)*) => {
        $crate::select!(@body [$($arms)*] [$($def)*] (recv ($rx) ($p)) $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) => $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)*] [$($def)*] send($tx, $v) -> _ => $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) -> $p:pat => $($rest:tt)*) => {
        $crate::select!(@body [$($arms)*] [$($def)*] (send ($tx, $v) ($p)) $($rest)*)
    };
    (@parse [$($arms:tt)*] [] default => $($rest:tt)*) => {
        $crate::select!(@body [$($arms)*] [] (default) $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)+] default $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` arm")
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(
            "select!: expected `recv(rx) -> v => body`, `send(tx, value) -> res => body` \
             or `default => body`"
        )
    };

    // ---- an arm's body: a block (comma optional) or an expression and a comma ----
    (@body [$($arms:tt)*] [$($def:tt)*] (default) $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)*] [($body)] $($rest)*)
    };
    (@body [$($arms:tt)*] [$($def:tt)*] (default) $body:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse [$($arms)*] [($body)] $($($rest)*)?)
    };
    (@body [$($arms:tt)*] [$($def:tt)*] ($($head:tt)*) $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)* ($($head)* ($body))] [$($def)*] $($rest)*)
    };
    (@body [$($arms:tt)*] [$($def:tt)*] ($($head:tt)*) $body:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse [$($arms)* ($($head)* ($body))] [$($def)*] $($($rest)*)?)
    };

    // ---- build: one case variable per arm (each in its own expansion, so the names do
    // not clash), each remembering its index as `0 + 1 + ..` ----
    (@build [$($done:tt)*] ($($i:tt)*)
        [(recv ($rx:expr) ($p:pat) ($body:expr)) $($arms:tt)*] $def:tt) => {{
        let __gonet_chan = &$rx;
        let mut __gonet_case = $crate::__select::RecvCase::new(__gonet_chan);
        $crate::select!(@build [$($done)* (__gonet_case ($($i)*) ($p) ($body))]
            ($($i)* + 1) [$($arms)*] $def)
    }};
    (@build [$($done:tt)*] ($($i:tt)*)
        [(send ($tx:expr, $v:expr) ($p:pat) ($body:expr)) $($arms:tt)*] $def:tt) => {{
        let __gonet_chan = &$tx;
        let mut __gonet_case = $crate::__select::SendCase::new(__gonet_chan, $v);
        $crate::select!(@build [$($done)* (__gonet_case ($($i)*) ($p) ($body))]
            ($($i)* + 1) [$($arms)*] $def)
    }};
    (@build [$(($case:ident ($($i:tt)*) ($p:pat) ($body:expr)))*] ($($n:tt)*) [] []) => {{
        let __gonet_index = $crate::__select::run(&mut [$($case.case()),*], false);
        $(
            if __gonet_index == $($i)* {
                let $p = $case.into_result();
                $body
            } else
        )* {
            ::core::unreachable!("select!: a blocking select returned no case")
        }
    }};
    (@build [$(($case:ident ($($i:tt)*) ($p:pat) ($body:expr)))*] ($($n:tt)*) []
        [($default:expr)]) => {{
        let __gonet_index = $crate::__select::run(&mut [$($case.case()),*], true);
        $(
            if __gonet_index == $($i)* {
                let $p = $case.into_result();
                $body
            } else
        )* {
            $default
        }
    }};

    // ---- entry ----
    ($($arms:tt)*) => {
        $crate::select!(@parse [] [] $($arms)*)
    };
}
