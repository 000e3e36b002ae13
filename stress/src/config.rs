//! What a run is: its mode, its settings, and the text helpers the report and the
//! progress line share.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// Histogram shards: a worker merges its batches into shard `worker % SHARDS`.
pub const SHARDS: usize = 32;
/// Latency samples a worker keeps before merging them into its shard.
pub const BATCH: usize = 256;
/// Largest latency the histogram tracks exactly (1 hour, in µs); longer ones saturate.
pub(crate) const MAX_TRACKED_US: u64 = 3_600_000_000;
/// Descriptors kept back for the process itself (stdio, epoll, timers, the binary...).
pub const FD_RESERVE: u64 = 64;
/// Echo payloads above this are sent and checked in pieces of this size, each echoed
/// before the next goes out, so a large `--size` cannot deadlock on full socket buffers.
pub const ECHO_CHUNK: usize = 32 * 1024;
/// Largest HTTP response header the http mode accepts.
pub(crate) const MAX_HTTP_HEADER: usize = 64 * 1024;
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
    /// Request/response datagrams of `size` bytes, every echo checked, losses counted
    /// (udp.rs).
    Udp,
}

impl Mode {
    /// The mode's name on the command line and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Idle => "idle",
            Mode::Burst => "burst",
            Mode::Http => "http",
            Mode::Udp => "udp",
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
    /// `--tls`: the client configuration every connection handshakes with after its
    /// dial (stress/src/tls.rs); `None`: plain connections.
    pub tls: Option<std::sync::Arc<gonet::crypto::tls::Config>>,
    /// `--source-ips`: the local addresses connections are bound to, in turn (connection
    /// `k` gets `source_ips[k % len]`), each with its own ~28,000 ephemeral ports to one
    /// server address; empty: the kernel picks the source (one address).
    pub source_ips: Vec<IpAddr>,
    /// `--greeting`: the server sends one line on each new connection before anything
    /// else (examples/fleet's `remote=... pid=...`); it is read, and must come within
    /// `timeout`, before the mode's first request.
    pub greeting: bool,
    /// `--procs`: how many client processes the run is split over (procs.rs); 1 runs
    /// in this process.
    pub procs: usize,
    /// The number of this process's first connection in the whole run (0 unless it is
    /// one of `--procs` processes), so source addresses and payload patterns stay
    /// spread and distinct over all the processes.
    pub first_conn: usize,
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
            tls: None,
            source_ips: Vec::new(),
            greeting: false,
            procs: 1,
            first_conn: 0,
        }
    }

    /// The network gonet dials: "unix" for a path (contains '/') or `@abstract` name,
    /// else "tcp"; in udp mode "unixgram" or "udp".
    pub fn network(&self) -> &'static str {
        match self.mode {
            Mode::Udp => crate::udp::udp_network(&self.addr),
            _ => network_of(&self.addr),
        }
    }
}

/// Parses `--source-ips`: a range `127.0.0.2-127.0.0.9` (inclusive, same family, at most
/// 65,536 addresses), a comma-separated list `127.0.0.2,127.0.0.3`, or a mix
/// (`127.0.0.2-127.0.0.5,::1`).
pub fn parse_source_ips(s: &str) -> Result<Vec<IpAddr>, String> {
    let mut ips = Vec::new();
    for part in s.split(',').map(str::trim) {
        let ip = |t: &str| -> Result<IpAddr, String> {
            t.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("invalid source address {:?} in {s:?}", t.trim()))
        };
        match part.split_once('-') {
            None => ips.push(ip(part)?),
            Some((a, b)) => {
                let (a, b) = (ip(a)?, ip(b)?);
                let (lo, hi) = match (a, b) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128),
                    (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b)),
                    _ => return Err(format!("source range {part:?} mixes IPv4 and IPv6")),
                };
                if hi < lo {
                    return Err(format!("source range {part:?} ends before it starts"));
                }
                if hi - lo >= 65_536 {
                    return Err(format!(
                        "source range {part:?} has more than 65536 addresses"
                    ));
                }
                for n in lo..=hi {
                    ips.push(match a {
                        IpAddr::V4(_) => IpAddr::V4((n as u32).into()),
                        IpAddr::V6(_) => IpAddr::V6(n.into()),
                    });
                }
            }
        }
    }
    Ok(ips)
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

pub(crate) fn checked_secs(secs: f64, text: &str) -> Result<Duration, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("invalid duration {text:?}"));
    }
    capped(
        Duration::from_secs_f64(secs.min(MAX_DURATION.as_secs_f64() + 1.0)),
        text,
    )
}

pub(crate) fn capped(d: Duration, text: &str) -> Result<Duration, String> {
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
