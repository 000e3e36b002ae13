//! bench/RESULTS.md and bench/chart.svg from the raw lines bench/run.sh collected.
//!
//! RAW has one line per measurement: `scenario=S server=K round=R key=value ...`
//! (server keys: gonet, go, may, tokio). With several rounds, each figure is the median
//! of its rounds. META is `name: value` lines (machine, versions, date, load) printed as
//! the header.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

const SERVERS: [&str; 4] = ["gonet", "go", "may", "tokio"];

/// What each server key is in a scenario family.
fn display(scenario: &str, server: &str) -> &'static str {
    let http = scenario.starts_with("http");
    match (http, server) {
        (false, "gonet") => "gonet",
        (false, "go") => "Go",
        (false, "may") => "plain may",
        (false, "tokio") => "tokio",
        (true, "gonet") => "gonet http",
        (true, "go") => "Go net/http",
        (true, "may") => "may_minihttp",
        (true, "tokio") => "axum",
        _ => "?",
    }
}

struct Metric {
    scenario: &'static str,
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    higher_better: bool,
    /// (peer, bound): gonet / peer must be >= bound (higher better) or <= bound.
    targets: &'static [(&'static str, f64)],
    chart: bool,
}

const fn m(
    scenario: &'static str,
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    higher_better: bool,
    targets: &'static [(&'static str, f64)],
    chart: bool,
) -> Metric {
    Metric {
        scenario,
        key,
        label,
        unit,
        higher_better,
        targets,
        chart,
    }
}

const ECHO_RT: &[(&str, f64)] = &[("go", 1.10), ("tokio", 1.0), ("may", 0.97)];
const ECHO_CPU: &[(&str, f64)] = &[("go", 0.75)];
// Issue 13: >= 2.0x Go net/http, >= 1.2x axum, >= 1.0x may_minihttp; p99 no worse than
// may_minihttp's; RSS per idle keep-alive connection <= Go's.
const HTTP_RPS: &[(&str, f64)] = &[("go", 2.0), ("tokio", 1.2), ("may", 1.0)];
const HTTP_P99: &[(&str, f64)] = &[("may", 1.0)];
const VS_GO: &[(&str, f64)] = &[("go", 1.0)];
const SPAWN_VS_GO: &[(&str, f64)] = &[("go", 1.5)];

#[rustfmt::skip]
const METRICS: &[Metric] = &[
    m("echo100", "rtps", "echo, 100 conns: round trips/s", "rt/s", true, ECHO_RT, true),
    m("echo100", "p50_us", "echo, 100 conns: p50 latency", "µs", false, &[], false),
    m("echo100", "p99_us", "echo, 100 conns: p99 latency", "µs", false, &[], false),
    m("echo100", "srv_cpu_us_per_rt", "echo, 100 conns: server CPU per round trip", "µs", false, ECHO_CPU, true),
    m("echo5000", "rtps", "echo, 5000 conns: round trips/s", "rt/s", true, ECHO_RT, true),
    m("echo5000", "p50_us", "echo, 5000 conns: p50 latency", "µs", false, &[], false),
    m("echo5000", "p99_us", "echo, 5000 conns: p99 latency", "µs", false, &[], false),
    m("echo5000", "srv_cpu_us_per_rt", "echo, 5000 conns: server CPU per round trip", "µs", false, ECHO_CPU, true),
    m("echo100pin", "rtps", "echo, 100 conns, server pinned to 1 core: round trips/s", "rt/s", true, &[], false),
    m("echo100pin", "p99_us", "echo, 100 conns, server pinned to 1 core: p99 latency", "µs", false, &[], false),
    m("echo100pin", "srv_cpu_us_per_rt", "echo, 100 conns, server pinned to 1 core: server CPU per round trip", "µs", false, &[], true),
    m("http", "rps", "http hello, wrk -t1 -c100: requests/s", "req/s", true, HTTP_RPS, true),
    m("http", "p50_ms", "http hello: p50 latency", "ms", false, &[], false),
    m("http", "p99_ms", "http hello: p99 latency", "ms", false, HTTP_P99, false),
    m("http", "srv_cpu_us_per_req", "http hello: server CPU per request", "µs", false, &[], true),
    // http (bench/scenarios/http.sh): the JSON route, 1,000 connections, pipelining, idle RSS.
    m("httpjson", "rps", "http /json, wrk -t1 -c100: requests/s", "req/s", true, HTTP_RPS, true),
    m("httpjson", "p99_ms", "http /json: p99 latency", "ms", false, HTTP_P99, false),
    m("httpjson", "srv_cpu_us_per_req", "http /json: server CPU per request", "µs", false, &[], false),
    m("http1k", "rps", "http hello, wrk -t1 -c1000: requests/s", "req/s", true, HTTP_RPS, true),
    m("http1k", "p99_ms", "http hello, 1,000 conns: p99 latency", "ms", false, HTTP_P99, false),
    m("http1k", "srv_cpu_us_per_req", "http hello, 1,000 conns: server CPU per request", "µs", false, &[], false),
    m("httpjson1k", "rps", "http /json, wrk -t1 -c1000: requests/s", "req/s", true, HTTP_RPS, false),
    m("httpjson1k", "p99_ms", "http /json, 1,000 conns: p99 latency", "ms", false, HTTP_P99, false),
    m("httpjson1k", "srv_cpu_us_per_req", "http /json, 1,000 conns: server CPU per request", "µs", false, &[], false),
    m("httppipe", "rps", "http hello, 16 pipelined per write, wrk -t1 -c100: requests/s", "req/s", true, HTTP_RPS, true),
    m("httppipe", "p99_ms", "http pipelined: p99 latency (of a batch of 16)", "ms", false, HTTP_P99, false),
    m("httppipe", "srv_cpu_us_per_req", "http pipelined: server CPU per request", "µs", false, &[], false),
    m("httpidle", "bytes_per_conn", "http: server RSS per idle keep-alive connection (5,000 held)", "bytes", false, VS_GO, true),
    m("idle", "bytes_per_conn", "idle: server RSS per held connection (8,000 held)", "bytes", false, VS_GO, true),
    m("burst", "all_served_ms", "burst of 8,000 dials: time until all served", "ms", false, VS_GO, true),
    m("burst", "dial_p99_ms", "burst: p99 dial time", "ms", false, &[], false),
    m("burst", "served_p99_ms", "burst: p99 time to first echo", "ms", false, &[], false),
    m("burst", "dials_issued_ms", "burst: time the client took to issue the 8,000 dials", "ms", false, &[], false),
    m("burst", "overflows", "burst: TcpExtListenOverflows during the burst", "", false, &[], false),
    m("burst", "overflow_rounds", "burst: rounds with any listen overflow", "", false, &[], false),
    m("burst", "unserved", "burst: connections not served in 30 s", "", false, &[], false),
    // udp (bench/scenarios/udp.sh): request/response datagrams against a UDP echo.
    m("udp1", "rtps", "udp echo, 1 socket: round trips/s", "rt/s", true, VS_GO, false),
    m("udp1", "p50_us", "udp echo, 1 socket: p50 latency", "µs", false, &[], false),
    m("udp1", "srv_cpu_us_per_rt", "udp echo, 1 socket: server CPU per round trip", "µs", false, &[], false),
    m("udp100", "rtps", "udp echo, 100 sockets: round trips/s", "rt/s", true, VS_GO, true),
    m("udp100", "p50_us", "udp echo, 100 sockets: p50 latency", "µs", false, &[], false),
    m("udp100", "p99_us", "udp echo, 100 sockets: p99 latency", "µs", false, &[], false),
    m("udp100", "srv_cpu_us_per_rt", "udp echo, 100 sockets: server CPU per datagram", "µs", false, VS_GO, true),
    m("udp100", "loss_pct", "udp echo, 100 sockets: datagrams lost (not back in 200 ms)", "%", false, &[], false),
    // spin (bench/scenarios/spin.sh): 1,000 fresh connections while handlers spin forever.
    m("spin1", "answered", "1 handler spinning forever: fresh connections answered (of 1,000)", "", true, VS_GO, false),
    m("spin1", "p99_ms", "1 spinning: p99 dial-to-answer", "ms", false, &[], false),
    m("spin1", "max_ms", "1 spinning: slowest answer", "ms", false, &[], false),
    m("spin2", "answered", "2 handlers spinning forever (both workers): fresh connections answered (of 1,000)", "", true, VS_GO, false),
    m("spin2", "p99_ms", "2 spinning: p99 dial-to-answer", "ms", false, &[], false),
    m("spin2", "max_ms", "2 spinning: slowest answer", "ms", false, &[], false),
    // tls: examples/tls_echo.rs vs its Go twin (bench/scenarios/tls.sh); may and tokio have no TLS twin.
    m("tls", "hs_per_s", "TLS 1.3 full handshakes/s (a new conn per request, ECDSA P-256)", "hs/s", true, VS_GO, true),
    m("tls", "srv_cpu_us_per_hs", "TLS full handshake: server CPU per handshake", "µs", false, &[], false),
    m("tls", "resumed_per_s", "TLS 1.3 resumed handshakes/s (session tickets)", "hs/s", true, VS_GO, true),
    m("tls", "srv_cpu_us_per_resumed", "TLS resumed handshake: server CPU per handshake", "µs", false, &[], false),
    m("tls", "mib_per_s", "TLS: 64 MiB echoed over one conn", "MiB/s", true, VS_GO, true),
    m("tls", "srv_cpu_ms_bulk", "TLS: server CPU for the 64 MiB echo", "ms", false, &[], false),
    m("tls", "mib4_per_s", "TLS: 64 MiB echoed over 4 conns at once", "MiB/s", true, VS_GO, true),
    m("tls", "srv_cpu_ms_bulk4", "TLS: server CPU for the 64 MiB echo over 4 conns", "ms", false, &[], false),
    // bench/scenarios/goroutines.sh: examples/goroutines.rs and its Go twin (no may or tokio).
    m("goroutines", "burst_ns", "million goroutines: time per goroutine, started back to back until all parked", "ns", false, SPAWN_VS_GO, true),
    m("goroutines", "oneoff_go_ns", "goroutines, one-off: the go statement (each done before the next)", "ns", false, SPAWN_VS_GO, false),
    m("goroutines", "oneoff_rt_ns", "goroutines, one-off: go statement until the goroutine ran", "ns", false, &[], false),
    m("goroutines", "rss_per_goroutine", "million goroutines: RSS per parked goroutine", "bytes", false, &[], true),
    m("goroutines", "pte_per_goroutine", "million goroutines: page tables per parked goroutine", "bytes", false, &[], false),
    m("goroutines", "maps", "million goroutines: kernel memory mappings, all parked", "", false, &[], false),
    m("goroutines", "release_ms", "million goroutines: closing the channel until all finished", "ms", false, &[], false),
    // bench/scenarios/context.sh: benches/context.rs and its Go twin bench/go/context (no may or tokio).
    m("context", "cancel_ns", "context: with_cancel + cancel on a watched parent, per cycle", "ns", false, VS_GO, true),
    m("context", "cancel_cpu_ns", "context: with_cancel + cancel, process CPU per cycle", "ns", false, VS_GO, false),
    m("context", "timeout_ns", "context: with_timeout cancelled before it fires, per cycle", "ns", false, VS_GO, true),
    m("context", "timeout_cpu_ns", "context: with_timeout cancelled before it fires, process CPU per cycle", "ns", false, VS_GO, false),
];

type Key = (String, String, String); // scenario, server, key

fn parse(raw: &str) -> (BTreeMap<Key, Vec<f64>>, Vec<String>) {
    let mut vals: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let mut notes = Vec::new();
    for line in raw.lines() {
        let kv: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|t| t.split_once('='))
            .collect();
        let (Some(sc), Some(sv)) = (kv.get("scenario"), kv.get("server")) else {
            continue;
        };
        if let Some(why) = kv.get("skipped") {
            let note = format!("{sc} / {}: did not run ({why})", display(sc, sv));
            if !notes.contains(&note) {
                notes.push(note);
            }
            continue;
        }
        for (k, v) in &kv {
            if let Ok(x) = v.parse::<f64>() {
                vals.entry((sc.to_string(), sv.to_string(), k.to_string()))
                    .or_default()
                    .push(x);
            }
        }
    }
    (vals, notes)
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || v == v.trunc() {
        let s = format!("{v:.0}");
        // thousands separators
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn run(raw_path: &str, meta_path: &str, md_path: &str, svg_path: &str) -> io::Result<()> {
    let raw = std::fs::read_to_string(raw_path)?;
    let meta = std::fs::read_to_string(meta_path).unwrap_or_default();
    let (vals, notes) = parse(&raw);
    // A median hides the one round in three that overflowed: "overflow_rounds" counts
    // the rounds with any overflow instead.
    let get = |sc: &str, sv: &str, k: &str| {
        if k == "overflow_rounds" {
            return vals
                .get(&(sc.into(), sv.into(), "overflows".into()))
                .map(|v| v.iter().filter(|&&x| x > 0.0).count() as f64);
        }
        vals.get(&(sc.into(), sv.into(), k.into()))
            .and_then(|v| median(v))
    };
    let rounds = vals.values().map(Vec::len).max().unwrap_or(0);

    let mut md = String::new();
    let _ = writeln!(md, "# gonet benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `bench/run.sh`; every number below comes from that one run, the servers \
         started one after another on loopback and driven by the same neutral client \
         (`bench/client`: std threads + epoll, 64-byte ping-pong; Debian's `wrk` for HTTP). \
         Ratios are gonet / peer: above 1 is better for throughput, below 1 is better for \
         latency, CPU, memory and time. Server CPU is utime+stime from /proc/PID/stat over the \
         measured window, the fair figure when client and server share the 2 cores. Each \
         figure is the median of {rounds} round(s). In the \"server pinned to 1 core\" \
         rows every server runs one worker thread on CPU 0 and the client runs on CPU 1; \
         other work on CPU 0 starves the server there (a low round trips/s with a p99 of \
         tens of ms), so read those rows with the raw lines below.\n"
    );
    for line in meta.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(
        md,
        "\nWhere gonet's time and memory go, and the changes that would meet the targets \
         below: [PROFILE.md](PROFILE.md) (`bench/profile.sh` reproduces its A/B numbers).\n"
    );
    let _ = writeln!(md, "![chart](chart.svg)\n");
    let _ = writeln!(
        md,
        "| metric | gonet | Go | plain may | tokio | gonet/Go | gonet/may | gonet/tokio | target (issue 7) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut last_family = "";
    let mut chart_rows = String::new();
    for mt in METRICS {
        let family = if mt.scenario.starts_with("http") {
            "http"
        } else {
            "echo"
        };
        if family != last_family {
            if family == "http" {
                let _ = writeln!(md, "| *http: columns are gonet http / Go net/http / may_minihttp / axum* | | | | | | | | |");
            }
            last_family = family;
        }
        let v: Vec<Option<f64>> = SERVERS
            .iter()
            .map(|s| get(mt.scenario, s, mt.key))
            .collect();
        let unit = if mt.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", mt.unit)
        };
        let mut row = format!("| {}{unit} |", mt.label);
        for x in &v {
            let _ = write!(row, " {} |", x.map_or("n/a".into(), num));
        }
        let g = v[0];
        for &peer_value in &v[1..4] {
            let r = match (g, peer_value) {
                _ if mt.key == "overflow_rounds" => "-".into(), // counts, not rates
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
                _ => "-".into(),
            };
            let _ = write!(row, " {r} |");
        }
        let mut tgt = Vec::new();
        for (peer, bound) in mt.targets {
            let i = SERVERS.iter().position(|s| s == peer).unwrap_or(1);
            let op = if mt.higher_better { ">=" } else { "<=" };
            let ok = match (g, v[i]) {
                (Some(a), Some(b)) if b > 0.0 => {
                    let r = a / b;
                    if (mt.higher_better && r >= *bound) || (!mt.higher_better && r <= *bound) {
                        "met"
                    } else {
                        "**missed**"
                    }
                }
                _ => "not measured",
            };
            tgt.push(format!(
                "{op} {bound:.2}x {}: {ok}",
                display(mt.scenario, peer)
            ));
        }
        // Issue 15's bounds in bytes: a parked goroutine, an idle echo connection.
        let absolute = match (mt.scenario, mt.key) {
            ("goroutines", "rss_per_goroutine") => Some(4608.0),
            ("idle", "bytes_per_conn") => Some(5120.0),
            _ => None,
        };
        if let Some(bound) = absolute {
            tgt.push(match g {
                Some(x) if x <= bound => format!("<= {} bytes: met", num(bound)),
                Some(_) => format!("<= {} bytes: **missed**", num(bound)),
                None => format!("<= {} bytes: not measured", num(bound)),
            });
        }
        if mt.key == "overflow_rounds" {
            // Issue 7's "zero listen overflows", in every round.
            tgt.push(match g {
                Some(0.0) => format!("zero in all {rounds} rounds: met"),
                Some(_) => format!("zero in all {rounds} rounds: **missed**"),
                None => "zero: not measured".into(),
            });
        }
        let _ = writeln!(row, " {} |", tgt.join("; "));
        md.push_str(&row);
        if mt.chart {
            for (s, x) in SERVERS.iter().zip(&v) {
                if let Some(x) = x {
                    let _ = writeln!(
                        chart_rows,
                        "{}\t{}\t{x}\t{}\t{}\t{s}",
                        mt.label,
                        display(mt.scenario, s),
                        mt.unit,
                        if mt.higher_better { "higher" } else { "lower" }
                    );
                }
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\nNot measured:\n");
        for n in &notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    let _ = writeln!(
        md,
        "\n## Raw lines (one per server and round)\n\n```text\n{}```",
        raw
    );
    std::fs::write(md_path, md)?;
    let tsv = format!("{svg_path}.tsv");
    std::fs::write(&tsv, chart_rows)?;
    let r = crate::chart::run(&tsv, svg_path);
    let _ = std::fs::remove_file(&tsv);
    r
}
