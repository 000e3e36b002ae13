//! The report of a run: text for people, JSON for programs.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::config::*;
use crate::stats::new_histogram;

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
    /// Udp: datagrams whose echo did not come back within `--timeout` (not errors).
    pub lost: u64,
    /// Udp: echoes that came back after their datagram was counted lost.
    pub late: u64,
}

impl Report {
    /// The report of a run of `cfg` that did nothing yet (what [`Report::merge`] adds
    /// the processes' reports to).
    pub fn empty(cfg: &Config) -> Report {
        Report {
            mode: cfg.mode,
            addr: cfg.addr.clone(),
            conns: 0,
            ok_conns: 0,
            requests: 0,
            errors: 0,
            error_kinds: BTreeMap::new(),
            statuses: BTreeMap::new(),
            elapsed: Duration::ZERO,
            rps: 0.0,
            latency: new_histogram(),
            all_connected: Some(Duration::ZERO),
            rate: cfg.rate,
            bytes: 0,
            interrupted: None,
            lost: 0,
            late: 0,
        }
    }

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
            "lost": self.lost,
            "late": self.late,
        })
    }

    /// The report as one process of a `--procs` run sends it to the parent: the JSON of
    /// [`Report::to_json`] plus the latency histogram, every recorded value with its
    /// count (`"histogram": [[us, n], ...]`), so the merge loses nothing.
    pub fn to_wire(&self) -> serde_json::Value {
        let mut v = self.to_json();
        let hist: Vec<serde_json::Value> = self
            .latency
            .iter_recorded()
            .map(|x| serde_json::json!([x.value_iterated_to(), x.count_at_value()]))
            .collect();
        v["histogram"] = serde_json::Value::from(hist);
        v["elapsed_ns"] = serde_json::Value::from(self.elapsed.as_nanos() as u64);
        v["all_connected_ns"] = self
            .all_connected
            .map(|d| serde_json::Value::from(d.as_nanos() as u64))
            .unwrap_or(serde_json::Value::Null);
        v["interrupted_after_ns"] = self
            .interrupted
            .map(|d| serde_json::Value::from(d.as_nanos() as u64))
            .unwrap_or(serde_json::Value::Null);
        v
    }

    /// Reads what [`Report::to_wire`] wrote; `None` if it is not such a report.
    pub fn from_wire(v: &serde_json::Value) -> Option<Report> {
        let u = |k: &str| v.get(k).and_then(serde_json::Value::as_u64);
        let ns = |k: &str| u(k).map(Duration::from_nanos);
        let mode = match v.get("mode")?.as_str()? {
            "echo" => Mode::Echo,
            "idle" => Mode::Idle,
            "burst" => Mode::Burst,
            "http" => Mode::Http,
            "udp" => Mode::Udp,
            _ => return None,
        };
        let mut latency = new_histogram();
        for pair in v.get("histogram")?.as_array()? {
            let (value, count) = (pair.get(0)?.as_u64()?, pair.get(1)?.as_u64()?);
            latency.saturating_record_n(value, count);
        }
        let error_kinds = v
            .get("error_kinds")?
            .as_object()?
            .iter()
            .map(|(k, n)| Some((k.clone(), n.as_u64()?)))
            .collect::<Option<BTreeMap<_, _>>>()?;
        let statuses = v
            .get("status")?
            .as_object()?
            .iter()
            .map(|(k, n)| Some((k.parse().ok()?, n.as_u64()?)))
            .collect::<Option<BTreeMap<_, _>>>()?;
        Some(Report {
            mode,
            addr: v.get("addr")?.as_str()?.to_string(),
            conns: u("conns")? as usize,
            ok_conns: u("ok_conns")? as usize,
            requests: u("requests")?,
            errors: u("errors")?,
            error_kinds,
            statuses,
            elapsed: ns("elapsed_ns")?,
            rps: v.get("rps")?.as_f64()?,
            latency,
            all_connected: ns("all_connected_ns"),
            rate: v.get("rate").and_then(serde_json::Value::as_f64),
            bytes: u("bytes")?,
            interrupted: ns("interrupted_after_ns"),
            lost: u("lost")?,
            late: u("late")?,
        })
    }

    /// Adds the report of another process of the same run: counts and histograms add
    /// up, the run lasted as long as the longest process (`rps` is the total over
    /// that), burst's all-connected time is the latest, and it is only set when every
    /// process had all its connections up.
    pub fn merge(&mut self, other: Report) {
        let all_up = |r: &Report| r.all_connected.filter(|_| r.ok_conns == r.conns);
        self.all_connected = match (all_up(self), all_up(&other)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        self.conns += other.conns;
        self.ok_conns += other.ok_conns;
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.lost += other.lost;
        self.late += other.late;
        for (k, n) in other.error_kinds {
            *self.error_kinds.entry(k).or_insert(0) += n;
        }
        for (k, n) in other.statuses {
            *self.statuses.entry(k).or_insert(0) += n;
        }
        self.errors = self.error_kinds.values().sum();
        self.elapsed = self.elapsed.max(other.elapsed);
        self.interrupted = match (self.interrupted, other.interrupted) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if self.latency.add(&other.latency).is_err() {
            for v in other.latency.iter_recorded() {
                self.latency
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        let secs = self.elapsed.as_secs_f64();
        self.rps = if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        };
    }

    /// What the latency numbers measure in this mode.
    pub fn latency_of(&self) -> &'static str {
        match (self.mode, self.rate.is_some()) {
            (Mode::Echo | Mode::Http | Mode::Udp, false) => "round trip, from send",
            (Mode::Echo | Mode::Http | Mode::Udp, true) => {
                "round trip, from scheduled send (open loop)"
            }
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
            Mode::Udp => format!(
                "lost {} of {} datagrams ({:.3}%; no echo in time), {} late echoes",
                thousands(self.lost),
                thousands(self.requests + self.lost),
                self.lost as f64 * 100.0 / (self.requests + self.lost).max(1) as f64,
                thousands(self.late)
            ),
        };
        if !what.is_empty() {
            let _ = writeln!(s, "  {what}");
        }
        let rate = self
            .rate
            .map(|r| format!(", open loop at {r} req/s"))
            .unwrap_or_default();
        let per_sec = match self.mode {
            Mode::Echo | Mode::Http | Mode::Udp => format!("{} req/s{rate}", rate_text(self.rps)),
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
