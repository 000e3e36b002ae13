//! Live counters, latency histograms and error kinds, kept without a global lock.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use may::sync::Mutex;

use crate::config::*;

// ---------------------------------------------------------------------------------------
// Live counters (for the progress line)
// ---------------------------------------------------------------------------------------

#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Stripe(pub(crate) AtomicU64);

/// A counter split over cache lines: each worker adds to its own stripe.
pub(crate) struct Striped([Stripe; 16]);

impl Striped {
    pub(crate) fn new() -> Striped {
        Striped(std::array::from_fn(|_| Stripe::default()))
    }

    pub(crate) fn add(&self, worker: usize, n: u64) {
        self.0[worker % self.0.len()]
            .0
            .fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sum(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// What a run looks like right now; read by the progress line while [`run`] works.
pub struct Live {
    pub(crate) conns_up: AtomicI64,
    pub(crate) dialed: AtomicU64,
    pub(crate) requests: Striped,
    pub(crate) errors: Striped,
    pub(crate) started: AtomicBool,
    /// When [`Live::interrupt`] was first called.
    stop_at: std::sync::OnceLock<Instant>,
}

impl Default for Live {
    fn default() -> Live {
        Live::new()
    }
}

impl Live {
    /// All zero.
    pub fn new() -> Live {
        Live {
            conns_up: AtomicI64::new(0),
            dialed: AtomicU64::new(0),
            requests: Striped::new(),
            errors: Striped::new(),
            started: AtomicBool::new(false),
            stop_at: std::sync::OnceLock::new(),
        }
    }

    /// Ends the run early (Ctrl-C): no request starts from now on, requests in flight
    /// finish (each within `--timeout`), idle connections stop holding, and [`run`]
    /// returns the report of what ran until now. Returns whether this call was the
    /// first.
    pub fn interrupt(&self) -> bool {
        self.stop_at.set(Instant::now()).is_ok()
    }

    /// When the run was interrupted, if it was.
    pub fn interrupted_at(&self) -> Option<Instant> {
        self.stop_at.get().copied()
    }

    /// Connections open now.
    pub fn conns_up(&self) -> u64 {
        self.conns_up.load(Ordering::Relaxed).max(0) as u64
    }

    /// Dials finished so far, successful or not.
    pub fn dialed(&self) -> u64 {
        self.dialed.load(Ordering::Relaxed)
    }

    /// Requests completed so far.
    pub fn requests(&self) -> u64 {
        self.requests.sum()
    }

    /// Errors so far.
    pub fn errors(&self) -> u64 {
        self.errors.sum()
    }

    /// Whether the load has started (burst: the coroutines were released).
    pub fn started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------
// Histograms: per-worker batches merged into shards
// ---------------------------------------------------------------------------------------

/// A fresh latency histogram in µs (1 µs to 1 h, 3 significant figures).
pub fn new_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram accepts (1 <= low, high >= 2 * low, sigfig <= 5).
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("valid histogram bounds")
}

pub(crate) struct Shards(pub(crate) Vec<Mutex<Histogram<u64>>>);

impl Shards {
    pub(crate) fn new() -> Shards {
        Shards((0..SHARDS).map(|_| Mutex::new(new_histogram())).collect())
    }

    pub(crate) fn merged(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for shard in &self.0 {
            let h = shard.lock().unwrap_or_else(|p| p.into_inner());
            // Same bounds on both sides: add cannot fail; saturate to be safe.
            if all.add(&*h).is_err() {
                for v in h.iter_recorded() {
                    all.saturating_record_n(v.value_iterated_to(), v.count_at_value());
                }
            }
        }
        all
    }
}

/// A worker's latency recorder: a lock-free local batch, merged into its shard when full.
pub(crate) struct Recorder {
    pub(crate) batch: Vec<u64>,
    pub(crate) shards: Arc<Shards>,
    pub(crate) shard: usize,
}

impl Recorder {
    pub(crate) fn new(shards: Arc<Shards>, worker: usize) -> Recorder {
        Recorder {
            batch: Vec::new(),
            shards,
            shard: worker % SHARDS,
        }
    }

    pub(crate) fn record(&mut self, d: Duration) {
        if self.batch.capacity() == 0 {
            self.batch.reserve_exact(BATCH);
        }
        self.batch.push((d.as_micros() as u64).max(1));
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    pub(crate) fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let mut h = self.shards.0[self.shard]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for v in self.batch.drain(..) {
            h.saturating_record(v);
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

// ---------------------------------------------------------------------------------------
// Errors, grouped the Go way
// ---------------------------------------------------------------------------------------

/// The group an error belongs to: `"<phase>: <Go's error text, last part>"`, e.g.
/// `dial: connection refused`, `read: i/o timeout`, `read: connection reset by peer`.
///
/// gonet's errors print as Go's (`dial tcp 127.0.0.1:1: connect: connection refused`);
/// the part after the last `": "` is the cause, the same for every connection, while
/// the addresses before it differ. The phase says where it happened.
pub fn error_kind(phase: &str, err: &io::Error) -> String {
    let text = err.to_string();
    let cause = text.rsplit(": ").next().unwrap_or(&text).trim();
    let cause = match cause {
        "" => "unknown error",
        c => c,
    };
    format!("{phase}: {cause}")
}

/// What stopped a request, already grouped.
#[derive(Debug)]
pub(crate) struct Fail(pub(crate) String);

impl Fail {
    pub(crate) fn io(phase: &str, e: &io::Error) -> Fail {
        Fail(error_kind(phase, e))
    }

    pub(crate) fn msg(kind: impl Into<String>) -> Fail {
        Fail(kind.into())
    }
}
