//! The stress engine: one coroutine per connection, per-mode workers, stats merged at
//! the end. `main.rs` is only the command line, the progress line and the printing; the
//! integration tests (`tests/stress.rs`) include this file with `#[path]` and drive the
//! same code in-process.
//!
//! # How a run goes
//! [`preflight`] raises RLIMIT_NOFILE to the hard limit (as Go 1.19+ does for every
//! program) and refuses, with a clear message, a run the descriptor limit or the local
//! port range cannot hold. [`run`] then starts one coroutine (`gonet::go!`) per
//! connection, each dialing through [`gonet::Dialer`] and running its mode's loop until
//! the end of `--duration`. Every dial and every request carries a deadline (at most
//! `--timeout`, and never past the hard cap `duration + timeout`), so a run always stops
//! by itself, whatever the server does. [`Live::interrupt`] (Ctrl-C, in `main.rs`)
//! brings the end forward: no request starts after it, and idle connections stop
//! holding at once.
//!
//! # Statistics without a global lock
//! - Live counters (connections up, requests, errors) are striped atomics, one cache line
//!   per stripe; a worker only touches its own stripe. The progress line sums them.
//! - Latencies go into a small per-worker batch (no lock); a full batch is merged into
//!   one of [`SHARDS`] HDR histograms, picked by worker number, so a lock is taken once
//!   per [`BATCH`] requests and rarely contended. The shards are merged at the end.
//! - Errors are counted per worker, keyed by their Go-style text, and sent back with the
//!   worker's result over a coroutine-aware channel (`may::sync::mpsc`).
//!
//! # What the numbers mean
//! - `requests`: completed, verified round trips (echo), responses (http), proof round
//!   trips (idle, burst). Failed ones are `errors`, never requests.
//! - `rps`: requests divided by the wall time of the whole run (dialing included), as wrk
//!   and the Go cross-check client compute it.
//! - latency, echo and http: send to last byte of the answer. With `--rate` (open loop)
//!   it is measured from the time the request was *scheduled*, so a server that stalls
//!   is charged for the requests it delayed (no coordinated omission).
//! - latency, idle and burst: the dial (connect) time; for burst it is counted from the
//!   instant all coroutines were released at once.
//! - `ok_conns`: echo and http: connections healthy when the run ended; idle: held for
//!   the whole duration; burst: connected (and proved, with `--size` > 0).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use may::sync::{mpsc, Condvar, Mutex};

/// Histogram shards: a worker merges its batches into shard `worker % SHARDS`.
pub const SHARDS: usize = 32;
/// Latency samples a worker keeps before merging them into its shard.
pub const BATCH: usize = 256;
/// Largest latency the histogram tracks exactly (1 hour, in µs); longer ones saturate.
const MAX_TRACKED_US: u64 = 3_600_000_000;
/// Descriptors kept back for the process itself (stdio, epoll, timers, the binary...).
pub const FD_RESERVE: u64 = 64;
/// Echo payloads above this are sent and checked in pieces of this size, each echoed
/// before the next goes out, so a large `--size` cannot deadlock on full socket buffers.
pub const ECHO_CHUNK: usize = 32 * 1024;
/// Largest HTTP response header the http mode accepts.
const MAX_HTTP_HEADER: usize = 64 * 1024;
/// Longest `--duration` (and `--timeout`) accepted.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// What each connection does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Ping-pong of `size` bytes, every echoed byte checked.
    Echo,
    /// Open, prove with one round trip, hold until the end.
    Idle,
    /// All dial at the same instant; time to all connected.
    Burst,
    /// Keep-alive `GET path`, status codes counted.
    Http,
}

impl Mode {
    /// The mode's name on the command line and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Idle => "idle",
            Mode::Burst => "burst",
            Mode::Http => "http",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One run's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// What each connection does.
    pub mode: Mode,
    /// `host:port`, or a Unix socket (a path containing '/', or `@abstract`).
    pub addr: String,
    /// Connections, one coroutine each.
    pub conns: usize,
    /// How long the load runs (burst: unused, it ends when every dial has).
    pub duration: Duration,
    /// Echo payload bytes (echo), proof round-trip bytes (idle, burst; 0 skips the proof).
    pub size: usize,
    /// Open-loop rate limit, requests/s over all connections (echo, http).
    pub rate: Option<f64>,
    /// Longest a dial or a request may take; also the grace after `duration`.
    pub timeout: Duration,
    /// Request path (http).
    pub path: String,
}

impl Config {
    /// A config with the tool's defaults for `mode` against `addr`.
    pub fn new(mode: Mode, addr: impl Into<String>) -> Config {
        Config {
            mode,
            addr: addr.into(),
            conns: 100,
            duration: Duration::from_secs(10),
            size: 64,
            rate: None,
            timeout: Duration::from_secs(5),
            path: "/".to_string(),
        }
    }

    /// The network gonet dials: "unix" for a path (contains '/') or `@abstract` name,
    /// else "tcp".
    pub fn network(&self) -> &'static str {
        network_of(&self.addr)
    }
}

/// "unix" when `addr` contains '/' or starts with '@', else "tcp".
pub fn network_of(addr: &str) -> &'static str {
    if addr.contains('/') || addr.starts_with('@') {
        "unix"
    } else {
        "tcp"
    }
}

/// Parses a duration the way Go's `time.ParseDuration` writes them: `10s`, `500ms`,
/// `1m30s`, `2h`, `1.5s`, `250us` (`gonet::time::parse_duration`, with Go's errors); a bare
/// number is seconds. At most 24 hours.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".to_string());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return checked_secs(secs, s);
    }
    capped(
        gonet::time::parse_duration(s).map_err(|e| e.to_string())?,
        s,
    )
}

fn checked_secs(secs: f64, text: &str) -> Result<Duration, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("invalid duration {text:?}"));
    }
    capped(
        Duration::from_secs_f64(secs.min(MAX_DURATION.as_secs_f64() + 1.0)),
        text,
    )
}

fn capped(d: Duration, text: &str) -> Result<Duration, String> {
    if d > MAX_DURATION {
        return Err(format!("duration {text:?} is longer than the 24h cap"));
    }
    Ok(d)
}

/// Formats a duration in µs for people: `85us`, `1.25ms`, `3.40s`.
pub fn human_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// Formats a rate: `41,203.4`.
pub fn rate_text(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec < 0.0 {
        return "0".to_string();
    }
    let tenths = (per_sec * 10.0).round() as u64;
    format!("{}.{}", thousands(tenths / 10), tenths % 10)
}

/// Formats a count with thousands separators: `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Descriptor limits
// ---------------------------------------------------------------------------------------

/// The soft and hard RLIMIT_NOFILE.
pub fn nofile_limit() -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (Go 1.19+ does this for every
/// program); returns the limit now in force.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let (soft, hard) = nofile_limit()?;
    if soft < hard {
        let lim = libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        };
        // SAFETY: lim is a valid rlimit with soft <= hard.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(nofile_limit()?.0)
}

/// Descriptors this process has open now.
pub fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

/// The local port range (`/proc/sys/net/ipv4/ip_local_port_range`): how many TCP
/// connections one local IP can have open to one server address.
pub fn local_port_count() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|x| x.parse::<u64>().ok());
    let (lo, hi) = (it.next()??, it.next()??);
    (hi >= lo).then(|| hi - lo + 1)
}

/// Checks a run before it starts: raises RLIMIT_NOFILE to the hard limit, then refuses
/// a run the limits cannot hold with a message that says how many connections fit, so
/// `-c 30000` under a 20000-descriptor limit fails at once instead of in a flood of
/// "too many open files".
pub fn preflight(cfg: &Config) -> Result<(), String> {
    if cfg.conns == 0 {
        return Err("--conns must be at least 1".to_string());
    }
    if cfg.addr.is_empty() {
        return Err("--addr is empty".to_string());
    }
    if let Some(rate) = cfg.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!(
                "--rate must be a positive number of requests/s, not {rate}"
            ));
        }
    }
    if cfg.rate.is_some() && !matches!(cfg.mode, Mode::Echo | Mode::Http) {
        return Err(format!(
            "--rate applies to echo and http, not to {}",
            cfg.mode
        ));
    }
    if cfg.duration.is_zero() && cfg.mode != Mode::Burst {
        return Err("--duration must be more than 0".to_string());
    }
    if cfg.timeout.is_zero() {
        return Err("--timeout must be more than 0".to_string());
    }
    if cfg.mode == Mode::Http && !cfg.path.starts_with('/') {
        return Err(format!("--path must start with '/', not {:?}", cfg.path));
    }
    let limit = raise_nofile_limit().map_err(|e| format!("cannot read RLIMIT_NOFILE: {e}"))?;
    let (_, hard) = nofile_limit().unwrap_or((limit, limit));
    let in_use = open_fds() + FD_RESERVE;
    let fit = limit.saturating_sub(in_use);
    if cfg.conns as u64 > fit {
        return Err(format!(
            "{} connections need {} file descriptors, but the limit is {limit} \
             (RLIMIT_NOFILE, hard limit {hard}; {} in use or kept back): at most {fit} \
             connections fit. Use -c {fit} or less, or raise the hard limit \
             (`ulimit -Hn`, /etc/security/limits.conf, systemd LimitNOFILE=) and run again. \
             A server in the same process needs its own descriptors too.",
            cfg.conns,
            cfg.conns as u64 + in_use,
            in_use
        ));
    }
    if cfg.network() == "tcp" {
        if let Some(ports) = local_port_count() {
            if cfg.conns as u64 > ports {
                return Err(format!(
                    "{} connections to one address need {} local ports, but \
                     net.ipv4.ip_local_port_range allows {ports}: at most {ports} connections \
                     from one local IP to one server address",
                    cfg.conns, cfg.conns
                ));
            }
        }
    }
    Ok(())
}

/// Resolves a TCP `host:port` once, up front, to an IP literal (the first IPv4 address,
/// else the first, as Go's dial does), so thousands of coroutines do not each call the
/// blocking resolver. Unix addresses are returned as they are.
pub fn resolve(addr: &str) -> Result<String, String> {
    if network_of(addr) == "unix" {
        return Ok(addr.to_string());
    }
    use std::net::ToSocketAddrs;
    let with_host = if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr.to_string()
    };
    let addrs: Vec<_> = with_host
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve --addr {addr:?}: {e}"))?
        .collect();
    let pick = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .ok_or_else(|| format!("--addr {addr:?} resolves to no address"))?;
    Ok(pick.to_string())
}

// ---------------------------------------------------------------------------------------
// Live counters (for the progress line)
// ---------------------------------------------------------------------------------------

#[repr(align(128))]
#[derive(Default)]
struct Stripe(AtomicU64);

/// A counter split over cache lines: each worker adds to its own stripe.
struct Striped([Stripe; 16]);

impl Striped {
    fn new() -> Striped {
        Striped(std::array::from_fn(|_| Stripe::default()))
    }

    fn add(&self, worker: usize, n: u64) {
        self.0[worker % self.0.len()]
            .0
            .fetch_add(n, Ordering::Relaxed);
    }

    fn sum(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// What a run looks like right now; read by the progress line while [`run`] works.
pub struct Live {
    conns_up: AtomicI64,
    dialed: AtomicU64,
    requests: Striped,
    errors: Striped,
    started: AtomicBool,
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

struct Shards(Vec<Mutex<Histogram<u64>>>);

impl Shards {
    fn new() -> Shards {
        Shards((0..SHARDS).map(|_| Mutex::new(new_histogram())).collect())
    }

    fn merged(&self) -> Histogram<u64> {
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
struct Recorder {
    batch: Vec<u64>,
    shards: Arc<Shards>,
    shard: usize,
}

impl Recorder {
    fn new(shards: Arc<Shards>, worker: usize) -> Recorder {
        Recorder {
            batch: Vec::new(),
            shards,
            shard: worker % SHARDS,
        }
    }

    fn record(&mut self, d: Duration) {
        if self.batch.capacity() == 0 {
            self.batch.reserve_exact(BATCH);
        }
        self.batch.push((d.as_micros() as u64).max(1));
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
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
struct Fail(String);

impl Fail {
    fn io(phase: &str, e: &io::Error) -> Fail {
        Fail(error_kind(phase, e))
    }

    fn msg(kind: impl Into<String>) -> Fail {
        Fail(kind.into())
    }
}

// ---------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------

/// The outcome of a run.
#[derive(Debug)]
pub struct Report {
    /// The mode that ran.
    pub mode: Mode,
    /// The address as given.
    pub addr: String,
    /// Connections asked for.
    pub conns: usize,
    /// Connections that did their job (see the module docs, per mode).
    pub ok_conns: usize,
    /// Completed, verified requests.
    pub requests: u64,
    /// Errors, all kinds.
    pub errors: u64,
    /// Errors by kind (see [`error_kind`]).
    pub error_kinds: BTreeMap<String, u64>,
    /// HTTP status codes and how many responses had each (http).
    pub statuses: BTreeMap<u16, u64>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// `requests / elapsed`.
    pub rps: f64,
    /// Latencies in µs (see the module docs, per mode).
    pub latency: Histogram<u64>,
    /// Burst: time from release until the last connection was up.
    pub all_connected: Option<Duration>,
    /// The rate limit that applied, if any.
    pub rate: Option<f64>,
    /// Bytes sent and received in payloads and requests.
    pub bytes: u64,
    /// When the run was interrupted ([`Live::interrupt`]), counted from its start.
    pub interrupted: Option<Duration>,
}

impl Report {
    /// The latency at `q` (0..=1), in µs; 0 when nothing was recorded.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.latency.is_empty() {
            0
        } else {
            self.latency.value_at_quantile(q)
        }
    }

    /// The largest latency, in µs.
    pub fn max_us(&self) -> u64 {
        if self.latency.is_empty() {
            0
        } else {
            self.latency.max()
        }
    }

    /// HTTP responses whose status is not 2xx or 3xx.
    pub fn non_2xx_3xx(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(code, _)| !(200..400).contains(*code))
            .map(|(_, n)| n)
            .sum()
    }

    /// Whether the run went cleanly: no error, and every connection did its job.
    pub fn is_clean(&self) -> bool {
        self.errors == 0 && self.ok_conns == self.conns
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let kinds: serde_json::Map<String, serde_json::Value> = self
            .error_kinds
            .iter()
            .map(|(k, n)| (k.clone(), serde_json::Value::from(*n)))
            .collect();
        let statuses: serde_json::Map<String, serde_json::Value> = self
            .statuses
            .iter()
            .map(|(k, n)| (k.to_string(), serde_json::Value::from(*n)))
            .collect();
        serde_json::json!({
            "mode": self.mode.name(),
            "addr": self.addr,
            "conns": self.conns,
            "ok_conns": self.ok_conns,
            "errors": self.errors,
            "error_kinds": kinds,
            "requests": self.requests,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "rps": self.rps,
            "rate": self.rate,
            "bytes": self.bytes,
            "mean_us": if self.latency.is_empty() { 0.0 } else { self.latency.mean() },
            "p50_us": self.quantile_us(0.50),
            "p90_us": self.quantile_us(0.90),
            "p99_us": self.quantile_us(0.99),
            "p999_us": self.quantile_us(0.999),
            "max_us": self.max_us(),
            "latency_of": self.latency_of(),
            "status": statuses,
            "non_2xx_3xx": self.non_2xx_3xx(),
            "all_connected_ms": self.all_connected.map(|d| d.as_secs_f64() * 1e3),
            "interrupted": self.interrupted.is_some(),
            "interrupted_after_s": self.interrupted.map(|d| d.as_secs_f64()),
        })
    }

    /// What the latency numbers measure in this mode.
    pub fn latency_of(&self) -> &'static str {
        match (self.mode, self.rate.is_some()) {
            (Mode::Echo | Mode::Http, false) => "round trip, from send",
            (Mode::Echo | Mode::Http, true) => "round trip, from scheduled send (open loop)",
            (Mode::Idle, _) => "dial (connect) time",
            (Mode::Burst, _) => "dial time, from the common release",
        }
    }

    /// The human summary.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "stress {} {}: {} conns, {} ok, {:.2}s",
            self.mode,
            self.addr,
            self.conns,
            self.ok_conns,
            self.elapsed.as_secs_f64()
        );
        if let Some(at) = self.interrupted {
            let _ = writeln!(
                s,
                "  interrupted after {:.2}s: the numbers cover the run until then",
                at.as_secs_f64()
            );
        }
        let what = match self.mode {
            Mode::Idle => format!(
                "held for the whole run: {} of {}",
                self.ok_conns, self.conns
            ),
            Mode::Burst => match self.all_connected {
                Some(d) => format!(
                    "all {} connected in {}",
                    self.ok_conns,
                    human_us(d.as_micros() as u64)
                ),
                None => format!("connected: {} of {}", self.ok_conns, self.conns),
            },
            Mode::Echo | Mode::Http => String::new(),
        };
        if !what.is_empty() {
            let _ = writeln!(s, "  {what}");
        }
        let rate = self
            .rate
            .map(|r| format!(", open loop at {r} req/s"))
            .unwrap_or_default();
        let per_sec = match self.mode {
            Mode::Echo | Mode::Http => format!("{} req/s{rate}", rate_text(self.rps)),
            Mode::Burst => format!("{} connections/s", rate_text(self.rps)),
            Mode::Idle => "proof round trips".to_string(),
        };
        let _ = writeln!(s, "  requests  {}  ({per_sec})", thousands(self.requests));
        let _ = writeln!(
            s,
            "  latency   p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({})",
            human_us(self.quantile_us(0.5)),
            human_us(self.quantile_us(0.9)),
            human_us(self.quantile_us(0.99)),
            human_us(self.quantile_us(0.999)),
            human_us(self.max_us()),
            self.latency_of()
        );
        if !self.statuses.is_empty() {
            let list: Vec<String> = self
                .statuses
                .iter()
                .map(|(code, n)| format!("{code}: {}", thousands(*n)))
                .collect();
            let _ = writeln!(s, "  status    {}", list.join("  "));
        }
        let _ = writeln!(s, "  errors    {}", thousands(self.errors));
        let mut kinds: Vec<(&String, &u64)> = self.error_kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (kind, n) in kinds {
            let _ = writeln!(s, "    {:>10}  {kind}", thousands(*n));
        }
        s
    }
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

/// What every worker shares.
struct Shared {
    cfg: Config,
    /// The address to dial (TCP: resolved once to an IP literal).
    dial_addr: String,
    network: &'static str,
    start: Instant,
    /// The end of the load as planned; [`Shared::end`] is the one that counts.
    planned_end: Instant,
    /// The hard cap as planned; [`Shared::hard_end`] is the one that counts.
    planned_hard_end: Instant,
    /// Idle: the connections being held, so an interrupt can stop their waits at once
    /// (it sets their read deadline to now).
    holding: std::sync::Mutex<Vec<gonet::Conn>>,
    live: Arc<Live>,
    shards: Arc<Shards>,
    /// Burst: opened once every coroutine waits, so they all dial at once.
    release: Gate,
    /// Burst: when the release gate opened.
    released_at: std::sync::OnceLock<Instant>,
    /// Burst: opened when every result is in, so every connection is held until then.
    hold: Gate,
    /// Burst: counts the held connections closed after `hold` opened.
    closed: Gate,
    /// The http request bytes.
    request: Vec<u8>,
}

impl Shared {
    /// The end of the load: no request starts after it. An interrupt brings it forward.
    fn end(&self) -> Instant {
        match self.live.interrupted_at() {
            Some(at) => at.min(self.planned_end),
            None => self.planned_end,
        }
    }

    /// The hard cap: no operation outlives it. After an interrupt, the requests in
    /// flight get `--timeout` to finish, no more.
    fn hard_end(&self) -> Instant {
        match self.live.interrupted_at() {
            Some(at) => (at + self.cfg.timeout).min(self.planned_hard_end),
            None => self.planned_hard_end,
        }
    }

    /// Idle: waits until the end of the run on `c`. Returns how the wait ended: a
    /// timeout at the end means the server kept the connection.
    fn hold(&self, c: &gonet::Conn) -> io::Result<usize> {
        // Listed first, then the deadline read: an interrupt either finds `c` in the
        // list, or happened before and `end()` is already past.
        self.holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(c.clone());
        c.set_read_deadline(Some(self.end()))?;
        let mut one = [0u8; 1];
        c.read(&mut one)
    }

    /// After an interrupt: wakes the idle connections' waits now.
    fn cut_short(&self) {
        let now = Some(Instant::now());
        for c in self
            .holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = c.set_read_deadline(now);
        }
    }
}

/// What a worker sends back.
#[derive(Default)]
struct Outcome {
    ok: bool,
    requests: u64,
    bytes: u64,
    errors: BTreeMap<String, u64>,
    statuses: BTreeMap<u16, u64>,
    /// Burst: when (after the release) the connection was up and proved.
    connected_after: Option<Duration>,
}

impl Outcome {
    fn error(&mut self, live: &Live, worker: usize, kind: String) {
        live.errors.add(worker, 1);
        *self.errors.entry(kind).or_insert(0) += 1;
    }
}

/// A one-shot gate that coroutines (or threads) wait on, with a count of waiters.
struct Gate {
    state: Mutex<(usize, bool)>,
    cv: Condvar,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            state: Mutex::new((0, false)),
            cv: Condvar::new(),
        }
    }

    fn lock(&self) -> may::sync::MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits while `blocked(arrivals, open)` holds, until `deadline` at most; returns
    /// whether the wait ended by itself.
    fn wait_while(
        &self,
        mut g: may::sync::MutexGuard<'_, (usize, bool)>,
        deadline: Instant,
        blocked: impl Fn(&(usize, bool)) -> bool,
    ) -> bool {
        while blocked(&g) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            g = match self.cv.wait_timeout(g, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    /// Waits until the gate opens or `deadline` passes; returns whether it opened.
    fn wait(&self, deadline: Instant) -> bool {
        let mut g = self.lock();
        g.0 += 1;
        self.cv.notify_all();
        self.wait_while(g, deadline, |&(_, open)| !open)
    }

    /// Waits until `n` waiters arrived (or `deadline`); returns whether they did.
    fn wait_for_waiters(&self, n: usize, deadline: Instant) -> bool {
        self.wait_while(self.lock(), deadline, |&(arrived, open)| {
            arrived < n && !open
        })
    }

    /// Counts one arrival without waiting (see [`Gate::wait_for_waiters`]).
    fn arrive(&self) {
        let mut g = self.lock();
        g.0 += 1;
        self.cv.notify_all();
    }

    fn open(&self) {
        let mut g = self.lock();
        g.1 = true;
        self.cv.notify_all();
    }
}

/// Runs the load described by `cfg`, updating `live` as it goes, and returns the report.
///
/// Call [`preflight`] first (the command line does). Blocks the calling thread or
/// coroutine until every worker is done, which is at most `duration + timeout` (plus a
/// second of slack) after the start, whatever the server does. Never panics on I/O: every
/// failure is counted in the report.
pub fn run(cfg: &Config, live: Arc<Live>) -> Report {
    let start = Instant::now();
    let (end, hard_end) = match cfg.mode {
        Mode::Burst => (start, start + cfg.timeout * 2),
        _ => (start + cfg.duration, start + cfg.duration + cfg.timeout),
    };
    let mut report_errors: BTreeMap<String, u64> = BTreeMap::new();
    let dial_addr = match resolve(&cfg.addr) {
        Ok(a) => a,
        Err(e) => {
            report_errors.insert(format!("resolve: {e}"), cfg.conns as u64);
            cfg.addr.clone()
        }
    };
    let host = if cfg.network() == "unix" {
        "localhost".to_string()
    } else {
        cfg.addr.clone()
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gonet-stress\r\nAccept: */*\r\n\r\n",
        cfg.path
    )
    .into_bytes();
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        dial_addr,
        network: cfg.network(),
        start,
        planned_end: end,
        planned_hard_end: hard_end,
        holding: std::sync::Mutex::new(Vec::new()),
        live: live.clone(),
        shards: Arc::new(Shards::new()),
        release: Gate::new(),
        released_at: std::sync::OnceLock::new(),
        hold: Gate::new(),
        closed: Gate::new(),
        request,
    });

    let (tx, rx) = mpsc::channel::<Outcome>();
    let mut spawned = 0usize;
    if report_errors.is_empty() {
        for id in 0..cfg.conns {
            let (tx, shared) = (tx.clone(), shared.clone());
            gonet::go!(move || {
                let (out, held) = match shared.cfg.mode {
                    Mode::Echo => echo_worker(&shared, id),
                    Mode::Idle => idle_worker(&shared, id),
                    Mode::Burst => burst_worker(&shared, id),
                    Mode::Http => http_worker(&shared, id),
                };
                // The receiver outlives every worker it waits for; a late worker's send
                // fails harmlessly after the run gave up on it.
                match (shared.cfg.mode, held) {
                    (Mode::Burst, Some(held)) => {
                        // Burst holds every connection until all results are in.
                        let _ = tx.send(out);
                        shared.hold.wait(shared.hard_end());
                        close(&shared, held.conn);
                        shared.closed.arrive();
                    }
                    (_, held) => {
                        // Closed before reporting: the run returns with its sockets closed.
                        if let Some(held) = held {
                            close(&shared, held.conn);
                        }
                        let _ = tx.send(out);
                    }
                }
            });
            spawned += 1;
        }
    }
    drop(tx);

    if shared.cfg.mode == Mode::Burst && spawned > 0 {
        // Everyone parks on the gate first; then all dial at the same instant.
        shared.release.wait_for_waiters(spawned, hard_end);
        live.started.store(true, Ordering::Relaxed);
        let _ = shared.released_at.set(Instant::now());
        shared.release.open();
    } else {
        live.started.store(true, Ordering::Relaxed);
    }

    let mut report = Report {
        mode: cfg.mode,
        addr: cfg.addr.clone(),
        conns: cfg.conns,
        ok_conns: 0,
        requests: 0,
        errors: 0,
        error_kinds: report_errors,
        statuses: BTreeMap::new(),
        elapsed: Duration::ZERO,
        rps: 0.0,
        latency: new_histogram(),
        all_connected: None,
        rate: cfg.rate,
        bytes: 0,
        interrupted: None,
    };
    let mut received = 0usize;
    let mut latest_connect: Option<Duration> = None;
    // The workers' hard cap, plus a second for their results to arrive.
    let give_up = || shared.hard_end() + Duration::from_secs(1);
    let mut cut_short = false;
    while received < spawned {
        if !cut_short && live.interrupted_at().is_some() {
            cut_short = true;
            shared.cut_short();
        }
        let left = give_up().saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        // In slices, to notice an interrupt.
        let out = match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(out) => out,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        received += 1;
        report.ok_conns += usize::from(out.ok);
        report.requests += out.requests;
        report.bytes += out.bytes;
        for (k, n) in out.errors {
            *report.error_kinds.entry(k).or_insert(0) += n;
        }
        for (k, n) in out.statuses {
            *report.statuses.entry(k).or_insert(0) += n;
        }
        if let Some(t) = out.connected_after {
            latest_connect = Some(latest_connect.map_or(t, |l| l.max(t)));
        }
    }
    if received < spawned {
        let missing = (spawned - received) as u64;
        report.error_kinds.insert(
            "stress: worker did not finish by the hard cap".to_string(),
            missing,
        );
    }
    report.elapsed = start.elapsed();
    report.interrupted = live
        .interrupted_at()
        .map(|at| at.saturating_duration_since(start));
    shared.hold.open();
    if cfg.mode == Mode::Burst {
        // Return with the burst's sockets closed, as the other modes do.
        shared.closed.wait_for_waiters(report.ok_conns, give_up());
    }
    // The idle workers closed theirs; these clones only kept the numbers.
    shared
        .holding
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    if cfg.mode == Mode::Burst {
        report.all_connected = latest_connect.filter(|_| report.ok_conns == report.conns);
        // Burst's run time is the time to all connected, not the holding after it.
        if let Some(t) = latest_connect {
            report.elapsed = t;
        }
    }
    report.errors = report.error_kinds.values().sum();
    let secs = report.elapsed.as_secs_f64();
    report.rps = if secs > 0.0 {
        report.requests as f64 / secs
    } else {
        0.0
    };
    report.latency = shared.shards.merged();
    report
}

// ---------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------

/// A connection a worker holds; counts itself in `conns_up`.
struct Held {
    conn: gonet::Conn,
}

fn dial(sh: &Shared, id: usize, out: &mut Outcome) -> Option<gonet::Conn> {
    let dialer = gonet::Dialer {
        timeout: Some(sh.cfg.timeout),
        deadline: Some(sh.hard_end()),
        ..Default::default()
    };
    let r = dialer.dial(sh.network, &sh.dial_addr);
    sh.live.dialed.fetch_add(1, Ordering::Relaxed);
    match r {
        Ok(conn) => {
            sh.live.conns_up.fetch_add(1, Ordering::Relaxed);
            Some(conn)
        }
        Err(e) => {
            out.error(&sh.live, id, error_kind("dial", &e));
            None
        }
    }
}

fn close(sh: &Shared, conn: gonet::Conn) {
    sh.live.conns_up.fetch_sub(1, Ordering::Relaxed);
    // Closed now, not at the last drop: idle mode keeps a clone in `holding`.
    let _ = conn.close();
}

/// The deadline for one operation started now.
fn op_deadline(sh: &Shared) -> Instant {
    (Instant::now() + sh.cfg.timeout).min(sh.hard_end())
}

/// Go's `io.ReadFull`: "EOF" when the stream ends before any byte, "unexpected EOF"
/// when it ends part-way.
fn read_full(conn: &gonet::Conn, buf: &mut [u8]) -> Result<(), Fail> {
    let mut got = 0;
    while got < buf.len() {
        match conn.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Err(Fail::msg("read: EOF")),
            Ok(0) => return Err(Fail::msg("read: unexpected EOF")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fail::io("read", &e)),
        }
    }
    Ok(())
}

fn write_all(conn: &gonet::Conn, buf: &[u8]) -> Result<(), Fail> {
    match conn.write(buf) {
        Ok(n) if n == buf.len() => Ok(()),
        Ok(_) => match conn.write(&[]) {
            Err(e) => Err(Fail::io("write", &e)),
            Ok(_) => Err(Fail::msg("write: short write")),
        },
        Err(e) => Err(Fail::io("write", &e)),
    }
}

/// Fills `buf` with the pattern for request `seq` of worker `id`, so a reply from
/// another request or connection, a shifted stream or a flipped byte all show.
fn fill_pattern(buf: &mut [u8], id: usize, seq: u64) {
    let mut x =
        (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seq.wrapping_mul(0xD1B5_4A32_D192_ED03);
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// One echo round trip: send `payload` (in [`ECHO_CHUNK`] pieces), read it back, check.
fn echo_once(conn: &gonet::Conn, payload: &[u8], back: &mut [u8]) -> Result<(), Fail> {
    for (piece, got) in payload.chunks(ECHO_CHUNK).zip(back.chunks_mut(ECHO_CHUNK)) {
        write_all(conn, piece)?;
        read_full(conn, got)?;
        if piece != got {
            return Err(Fail::msg("echo: mismatch"));
        }
    }
    Ok(())
}

/// Open-loop pacing: the time each request of one worker is due.
struct Pacer {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl Pacer {
    fn new(sh: &Shared, id: usize) -> Pacer {
        let interval = sh.cfg.rate.map(|rate| {
            let per_conn = rate / sh.cfg.conns as f64;
            Duration::from_secs_f64((1.0 / per_conn).min(MAX_DURATION.as_secs_f64()))
        });
        // Stagger the workers over one interval, so the load is smooth from the start.
        let next = interval.map(|iv| sh.start + iv.mul_f64(id as f64 / sh.cfg.conns as f64));
        Pacer { interval, next }
    }

    /// Waits until the next request is due (open loop) and returns the time latency is
    /// measured from; `None` when the run ends first.
    fn wait_turn(&mut self, sh: &Shared) -> Option<Instant> {
        match (self.interval, self.next) {
            (Some(iv), Some(due)) => {
                // In slices: at a low rate a turn can be seconds away, and an interrupt
                // that brings the end forward must not wait for it.
                loop {
                    if due >= sh.end() {
                        return None;
                    }
                    let now = Instant::now();
                    if due <= now {
                        break;
                    }
                    gonet::time::sleep((due - now).min(Duration::from_millis(100)));
                }
                self.next = Some(due + iv);
                Some(due)
            }
            _ => {
                let now = Instant::now();
                (now < sh.end()).then_some(now)
            }
        }
    }
}

/// Exponential back-off after a failed connection: 10 ms doubling to 1 s, never past the
/// end of the run.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(Duration::ZERO)
    }

    fn reset(&mut self) {
        self.0 = Duration::ZERO;
    }

    fn pause(&mut self, end: Instant) {
        self.0 = (self.0 * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let left = end.saturating_duration_since(Instant::now());
        let d = self.0.min(left);
        if !d.is_zero() {
            gonet::time::sleep(d);
        }
    }
}

fn echo_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let size = sh.cfg.size.max(1);
    let mut payload = vec![0u8; size];
    let mut back = vec![0u8; size];
    let mut pacer = Pacer::new(sh, id);
    let mut backoff = Backoff::new();
    let mut conn: Option<gonet::Conn> = None;
    let mut seq = 0u64;
    // Bounded: every pass either completes or fails one request (each with a deadline),
    // or backs off; none starts after `end`.
    while Instant::now() < sh.end() {
        let c = match conn.take() {
            Some(c) => c,
            None => match dial(sh, id, &mut out) {
                Some(c) => c,
                None => {
                    backoff.pause(sh.end());
                    continue;
                }
            },
        };
        let Some(t0) = pacer.wait_turn(sh) else {
            conn = Some(c);
            break;
        };
        seq += 1;
        fill_pattern(&mut payload, id, seq);
        let result = c
            .set_deadline(Some(op_deadline(sh)))
            .map_err(|e| Fail::io("set deadline", &e))
            .and_then(|()| echo_once(&c, &payload, &mut back));
        match result {
            Ok(()) => {
                rec.record(t0.elapsed());
                out.requests += 1;
                out.bytes += 2 * size as u64;
                sh.live.requests.add(id, 1);
                backoff.reset();
                conn = Some(c);
            }
            Err(Fail(kind)) => {
                out.error(&sh.live, id, kind);
                close(sh, c);
                backoff.pause(sh.end());
            }
        }
    }
    rec.flush();
    out.ok = conn.is_some();
    (out, conn.map(|conn| Held { conn }))
}

fn idle_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let t0 = Instant::now();
    let Some(c) = dial(sh, id, &mut out) else {
        return (out, None);
    };
    rec.record(t0.elapsed());
    if let Err(Fail(kind)) = prove(sh, id, &c, &mut out) {
        out.error(&sh.live, id, kind);
        close(sh, c);
        return (out, None);
    }
    rec.flush();
    // Hold until the end: a read that times out at `end` means the server kept the
    // connection; end of stream or an error means it dropped it.
    let held = match sh.hold(&c) {
        Err(e) if gonet::is_timeout(&e) => Ok(()),
        Err(e) => Err(Fail::io("read", &e)),
        Ok(0) => Err(Fail::msg("read: EOF")),
        Ok(_) => Err(Fail::msg("idle: unexpected data from server")),
    };
    match held {
        Ok(()) => {
            out.ok = true;
            (out, Some(Held { conn: c }))
        }
        Err(Fail(kind)) => {
            out.error(&sh.live, id, kind);
            close(sh, c);
            (out, None)
        }
    }
}

/// The proof round trip of idle and burst: `size` bytes echoed back (none when 0).
fn prove(sh: &Shared, id: usize, c: &gonet::Conn, out: &mut Outcome) -> Result<(), Fail> {
    if sh.cfg.size == 0 {
        return Ok(());
    }
    let mut payload = vec![0u8; sh.cfg.size];
    let mut back = vec![0u8; sh.cfg.size];
    fill_pattern(&mut payload, id, 0);
    c.set_deadline(Some(op_deadline(sh)))
        .map_err(|e| Fail::io("set deadline", &e))?;
    echo_once(c, &payload, &mut back)?;
    c.set_deadline(None)
        .map_err(|e| Fail::io("set deadline", &e))?;
    out.requests += 1;
    out.bytes += 2 * sh.cfg.size as u64;
    sh.live.requests.add(id, 1);
    Ok(())
}

/// The instant the burst gate opened (now, should it be unset).
fn shared_release(sh: &Shared) -> Instant {
    sh.released_at.get().copied().unwrap_or_else(Instant::now)
}

fn burst_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    if !sh.release.wait(sh.hard_end()) {
        out.error(
            &sh.live,
            id,
            "burst: not released before the hard cap".to_string(),
        );
        return (out, None);
    }
    let released = shared_release(sh);
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let Some(c) = dial(sh, id, &mut out) else {
        return (out, None);
    };
    rec.record(released.elapsed());
    rec.flush();
    if let Err(Fail(kind)) = prove(sh, id, &c, &mut out) {
        out.error(&sh.live, id, kind);
        close(sh, c);
        return (out, None);
    }
    out.connected_after = Some(released.elapsed());
    out.ok = true;
    (out, Some(Held { conn: c }))
}

fn http_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let mut pacer = Pacer::new(sh, id);
    let mut backoff = Backoff::new();
    let mut reader = HttpReader::new();
    let mut conn: Option<gonet::Conn> = None;
    while Instant::now() < sh.end() {
        let c = match conn.take() {
            Some(c) => c,
            None => match dial(sh, id, &mut out) {
                Some(c) => {
                    reader.clear();
                    c
                }
                None => {
                    backoff.pause(sh.end());
                    continue;
                }
            },
        };
        let Some(t0) = pacer.wait_turn(sh) else {
            conn = Some(c);
            break;
        };
        let result = c
            .set_deadline(Some(op_deadline(sh)))
            .map_err(|e| Fail::io("set deadline", &e))
            .and_then(|()| write_all(&c, &sh.request))
            .and_then(|()| reader.response(&c));
        match result {
            Ok(resp) => {
                rec.record(t0.elapsed());
                out.requests += 1;
                out.bytes += (sh.request.len() + resp.bytes) as u64;
                *out.statuses.entry(resp.status).or_insert(0) += 1;
                sh.live.requests.add(id, 1);
                backoff.reset();
                if resp.keep_alive {
                    conn = Some(c);
                } else {
                    close(sh, c);
                }
            }
            Err(Fail(kind)) => {
                out.error(&sh.live, id, kind);
                close(sh, c);
                backoff.pause(sh.end());
            }
        }
    }
    rec.flush();
    out.ok = conn.is_some();
    (out, conn.map(|conn| Held { conn }))
}

// ---------------------------------------------------------------------------------------
// A small HTTP/1.1 response reader
// ---------------------------------------------------------------------------------------

/// One response's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Whether the connection can carry the next request.
    pub keep_alive: bool,
    /// Bytes the response took on the wire.
    pub bytes: usize,
}

/// Reads HTTP/1.x responses from a connection: status line, headers, and a body framed
/// by Content-Length, chunked transfer coding, or the end of the stream. The body is
/// read and dropped.
pub struct HttpReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for HttpReader {
    fn default() -> HttpReader {
        HttpReader::new()
    }
}

fn malformed(what: &str) -> Fail {
    Fail::msg(format!("http: malformed response ({what})"))
}

impl HttpReader {
    /// An empty reader.
    pub fn new() -> HttpReader {
        HttpReader {
            buf: Vec::new(),
            start: 0,
            end: 0,
        }
    }

    /// Forgets buffered bytes (a new connection).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more bytes; Ok(false) at end of stream.
    fn fill(&mut self, conn: &gonet::Conn) -> Result<bool, Fail> {
        if self.buf.is_empty() {
            self.buf.resize(16 * 1024, 0);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= MAX_HTTP_HEADER {
                return Err(malformed("header or chunk line too long"));
            }
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match conn.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Fail::io("read", &e)),
            }
        }
    }

    /// A line ending in CRLF (returned without it), reading as needed.
    fn line(&mut self, conn: &gonet::Conn, total: &mut usize) -> Result<Vec<u8>, Fail> {
        loop {
            if let Some(i) = self.pending().windows(2).position(|w| w == b"\r\n") {
                let line = self.pending()[..i].to_vec();
                self.start += i + 2;
                *total += i + 2;
                return Ok(line);
            }
            if !self.fill(conn)? {
                return Err(Fail::msg("read: unexpected EOF"));
            }
        }
    }

    /// Skips `n` body bytes, reading as needed.
    fn skip(&mut self, conn: &gonet::Conn, mut n: usize, total: &mut usize) -> Result<(), Fail> {
        *total += n;
        loop {
            let have = self.end - self.start;
            if have >= n {
                self.start += n;
                return Ok(());
            }
            n -= have;
            self.clear();
            if !self.fill(conn)? {
                return Err(Fail::msg("read: unexpected EOF"));
            }
        }
    }

    /// Reads one whole response.
    fn response(&mut self, conn: &gonet::Conn) -> Result<Response, Fail> {
        let mut total = 0usize;
        // The status line; end of stream before any byte is the server closing an idle
        // keep-alive connection: "EOF", as Go's client reports it.
        let status_line = loop {
            if let Some(i) = self.pending().windows(2).position(|w| w == b"\r\n") {
                let line = self.pending()[..i].to_vec();
                self.start += i + 2;
                total += i + 2;
                break line;
            }
            let had = self.end - self.start;
            if !self.fill(conn)? {
                return Err(Fail::msg(if had == 0 {
                    "read: EOF"
                } else {
                    "read: unexpected EOF"
                }));
            }
        };
        let status_line = String::from_utf8_lossy(&status_line).into_owned();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(malformed("status line"));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or_else(|| malformed("status code"))?;
        let mut keep_alive = version != "HTTP/1.0";
        let mut length: Option<usize> = None;
        let mut chunked = false;
        let mut header_bytes = 0usize;
        loop {
            let line = self.line(conn, &mut total)?;
            header_bytes += line.len() + 2;
            if header_bytes > MAX_HTTP_HEADER {
                return Err(malformed("header too large"));
            }
            if line.is_empty() {
                break;
            }
            let line = String::from_utf8_lossy(&line);
            let Some((name, value)) = line.split_once(':') else {
                return Err(malformed("header line"));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse().map_err(|_| malformed("Content-Length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
        }
        let no_body = (100..200).contains(&status) || status == 204 || status == 304;
        if no_body {
        } else if chunked {
            loop {
                let line = self.line(conn, &mut total)?;
                let line = String::from_utf8_lossy(&line);
                let hex = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(hex, 16).map_err(|_| malformed("chunk size"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    let mut trailer_lines = 0;
                    while !self.line(conn, &mut total)?.is_empty() {
                        trailer_lines += 1;
                        if trailer_lines > 100 {
                            return Err(malformed("trailers"));
                        }
                    }
                    break;
                }
                self.skip(conn, size, &mut total)?;
                if !self.line(conn, &mut total)?.is_empty() {
                    return Err(malformed("chunk end"));
                }
            }
        } else if let Some(n) = length {
            self.skip(conn, n, &mut total)?;
        } else {
            // No framing: the body runs to the end of the stream.
            keep_alive = false;
            loop {
                total += self.end - self.start;
                self.clear();
                if !self.fill(conn)? {
                    break;
                }
            }
        }
        Ok(Response {
            status,
            keep_alive,
            bytes: total,
        })
    }
}
