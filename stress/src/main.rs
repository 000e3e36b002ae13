//! `gonet-stress`: thousands of connections against a server, one coroutine each, with a
//! live progress line and honest numbers (HDR-histogram latencies, errors grouped by kind).
//!
//! ```text
//! cargo run --release -p gonet-stress -- echo --addr 127.0.0.1:8080 -c 2000 -d 10s
//! cargo install --path stress && gonet-stress --help
//! ```
//!
//! This file is the command line, the progress line and the printing; the load itself is
//! the `gonet_stress` library beside it (lib.rs; the integration tests run it in-process). Every
//! connection is dialed with gonet's own `Dialer`, so the tool is also gonet's biggest
//! user.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use gonet_stress as engine;
use gonet_stress::{Config, Live, Mode};

const EXAMPLES: &str = "\
Examples:
  # 2,000 connections of 64-byte ping-pong for 10 s against an echo server
  gonet-stress echo --addr 127.0.0.1:8080 -c 2000 -d 10s

  # the same over a Unix socket, 1 KiB messages, open loop at 50,000 req/s in total
  gonet-stress echo --addr /tmp/echo.sock -c 500 -s 1024 --rate 50000

  # hold 10,000 idle connections for a minute (each proved by one 16-byte round trip)
  gonet-stress idle --addr 127.0.0.1:8080 -c 10000 -d 1m -s 16

  # 5,000 connections dialing at the same instant: time until all are up
  gonet-stress burst --addr 127.0.0.1:8080 -c 5000

  # keep-alive GETs with 256 connections, machine-readable result on stdout
  gonet-stress http --addr 127.0.0.1:8080 --path /hello -c 256 -d 30s --json

  # 1,000 UDP sockets of request/response datagrams; an echo not back in 200 ms is lost
  gonet-stress udp --addr 127.0.0.1:8080 -c 1000 -d 10s --timeout 200ms

  # 60,000 idle connections: 4 client processes (each under its own `ulimit -n`),
  # bound in turn to 8 source addresses (each has ~28,000 ephemeral ports), against a
  # server that greets each connection with one line first (examples/fleet)
  gonet-stress idle --addr 127.0.0.1:8080 -c 60000 -d 30s --procs 4 \
      --source-ips 127.0.0.2-127.0.0.9 --greeting

  # keep-alive GETs over TLS, trusting the server's CA; or TLS handshakes/s with burst
  gonet-stress http --addr localhost:8443 --tls --ca ca.pem -c 256 -d 30s
  gonet-stress burst --addr 127.0.0.1:8443 --tls --insecure -c 2000

Ctrl-C (or SIGTERM) ends the run early: no new request starts, the ones in flight
finish (each within --timeout), and the summary covers the run until then. A second
Ctrl-C quits at once, without a summary.

Exit status: 0 when every connection did its job with no error, 1 when there were
errors or failed connections, 2 for a bad command line or a run the limits cannot hold,
130 when the run was interrupted (after printing its summary).";

/// Stress a server with thousands of connections, one coroutine each (gonet on may).
///
/// Each connection is a coroutine that dials with gonet's Dialer and runs MODE until
/// --duration ends. A live progress line (connections up, requests/s, errors) shows
/// while it runs on a terminal; then a summary: requests, req/s, latency percentiles
/// from an HDR histogram, and errors grouped by kind ("dial: connection refused",
/// "read: i/o timeout", "echo: mismatch", ...). Every dial and request has a deadline, so
/// a run always ends by itself, at the latest --timeout after --duration.
///
/// The soft RLIMIT_NOFILE is raised to the hard limit at start; a run needing more
/// descriptors than that is refused before it starts, with the number that fits.
#[derive(Parser, Debug)]
#[command(name = "gonet-stress", version, after_help = EXAMPLES)]
struct Args {
    /// What each connection does.
    #[arg(value_enum)]
    mode: ModeArg,

    /// The server: host:port (e.g. 127.0.0.1:8080, [::1]:8080, localhost:8080), or a
    /// Unix socket: a path (anything containing '/') or an abstract name (@name).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,

    /// Number of connections, one coroutine each, all open at the same time.
    #[arg(short = 'c', long, default_value_t = 100)]
    conns: usize,

    /// How long the load runs: 10s, 500ms, 1m30s, 2h (a bare number is seconds). Burst
    /// ignores it (it ends when every dial has).
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,

    /// Bytes per echo message (echo) or datagram (udp: 8 to 65507), and of the proof
    /// round trip of idle and burst
    /// (0 skips the proof, for servers that do not echo). Echo checks every byte.
    #[arg(short = 's', long, default_value_t = 64)]
    size: usize,

    /// Open-loop rate limit in requests/s over all connections (echo, http, udp). Requests
    /// are sent on schedule, and latency counts from the scheduled time, so a stalling
    /// server is charged for the requests it delayed. Default: closed loop, as fast as
    /// the server answers.
    #[arg(long)]
    rate: Option<f64>,

    /// Request path for http mode (GET, HTTP/1.1 keep-alive).
    #[arg(long, default_value = "/")]
    path: String,

    /// Longest a dial or one request may take before it counts as "i/o timeout" (udp: as
    /// a lost datagram); also the most the run may overrun --duration.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,

    /// Print one JSON object on stdout at the end instead of the summary (and no
    /// progress line). Fields: mode, addr, conns, ok_conns, errors, error_kinds,
    /// requests, elapsed_s, rps, rate, bytes, mean_us, p50_us, p90_us, p99_us, p999_us,
    /// max_us, latency_of, status, non_2xx_3xx, all_connected_ms, lost, late.
    #[arg(long)]
    json: bool,

    /// Speak TLS (gonet::crypto::tls): each connection handshakes right after its dial
    /// (counted in the dial), then runs its mode over TLS. Needs --ca or --insecure.
    #[arg(long)]
    tls: bool,

    /// With --tls: trust the server's certificate without verifying it.
    #[arg(long, requires = "tls")]
    insecure: bool,

    /// With --tls: the PEM file of the CA (or self-signed certificate) to trust.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca: Option<String>,

    /// With --tls: the name to verify and send as SNI (default: the --addr host).
    #[arg(long, value_name = "NAME", requires = "tls")]
    server_name: Option<String>,

    /// With --tls: keep a session cache, so each reconnect resumes its session.
    #[arg(long, requires = "tls")]
    resume: bool,

    /// Split the run over N client processes (this binary, re-executed), each with its
    /// share of --conns under its own descriptor limit; their counts and latency
    /// histograms are merged into one report, as if one process had run it all. No
    /// progress line is shown.
    #[arg(long, value_name = "N", default_value_t = 1)]
    procs: usize,

    /// Bind the connections to these local addresses in turn, each with its own
    /// ephemeral ports (about 28,000 per address to one server address): a range
    /// 127.0.0.2-127.0.0.9, a list 127.0.0.2,127.0.0.3, or both. TCP only.
    #[arg(long, value_name = "IPS", value_parser = parse_source_ips)]
    source_ips: Option<SourceIps>,

    /// The server sends one line on each new connection before anything else (a
    /// greeting, as examples/fleet does): read it, within --timeout, before the mode
    /// starts.
    #[arg(long)]
    greeting: bool,
}

/// `--source-ips`, parsed (one value on the command line, many addresses).
#[derive(Clone, Debug)]
struct SourceIps(Vec<std::net::IpAddr>);

fn parse_source_ips(s: &str) -> Result<SourceIps, String> {
    engine::parse_source_ips(s).map(SourceIps)
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    /// Ping-pong of --size bytes per connection; every echoed byte is checked.
    Echo,
    /// Open --conns connections, prove each with one round trip, hold them --duration,
    /// report how many stayed up.
    Idle,
    /// All --conns dial at the same instant: time to all connected, dial p50/p99/max.
    Burst,
    /// Keep-alive GET --path requests; counts status codes.
    Http,
    /// Request/response datagrams of --size bytes (UDP, or unixgram for a path or
    /// @name), every echo checked; one not back within --timeout counts as lost.
    Udp,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Echo => Mode::Echo,
            ModeArg::Idle => Mode::Idle,
            ModeArg::Burst => Mode::Burst,
            ModeArg::Http => Mode::Http,
            ModeArg::Udp => Mode::Udp,
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    engine::parse_duration(s)
}

fn main() -> ExitCode {
    let args = Args::parse();
    // One process of a --procs run: its slice of the connections, its report on stdout.
    let child = match std::env::var(engine::CHILD_ENV) {
        Ok(spec) => match engine::parse_child(&spec) {
            Some(slice) => Some(slice),
            None => {
                eprintln!("stress: bad {}={spec:?}", engine::CHILD_ENV);
                return ExitCode::from(2);
            }
        },
        Err(_) => None,
    };
    let cfg = Config {
        mode: args.mode.into(),
        addr: args.addr.clone(),
        conns: args.conns,
        duration: args.duration,
        size: args.size,
        rate: args.rate,
        timeout: args.timeout,
        path: args.path.clone(),
        tls: None,
        source_ips: args.source_ips.clone().map(|s| s.0).unwrap_or_default(),
        greeting: args.greeting,
        procs: args.procs,
        first_conn: 0,
    };
    let cfg = match child {
        Some((first, count)) => Config {
            conns: count,
            first_conn: first,
            procs: 1,
            ..cfg
        },
        None => cfg,
    };
    let cfg = match args.tls.then(|| {
        engine::tls::client_config(
            args.insecure,
            args.ca.as_deref(),
            args.server_name.as_deref(),
            &args.addr,
            args.resume,
        )
    }) {
        None => cfg,
        Some(Ok(t)) => Config {
            tls: Some(Arc::new(t)),
            ..cfg
        },
        Some(Err(msg)) => {
            eprintln!("stress: {msg}");
            return ExitCode::from(2);
        }
    };
    if let Err(msg) = engine::preflight(&cfg) {
        eprintln!("stress: {msg}");
        return ExitCode::from(2);
    }

    let live = Arc::new(Live::new());
    watch_interrupts(live.clone(), child.is_none());
    if child.is_some() {
        let report = engine::run(&cfg, live);
        println!("{}", report.to_wire());
        return exit_status(&report);
    }
    if cfg.procs > 1 {
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                eprintln!("stress: cannot find this program to start --procs: {e}");
                return ExitCode::from(2);
            }
        };
        let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        let report = engine::run_procs(&cfg, &exe, &argv, live);
        print_report(&report, args.json);
        return exit_status(&report);
    }
    let show_progress = !args.json && std::io::stderr().is_terminal();
    let progress = show_progress.then(|| spawn_progress(&cfg, live.clone()));

    let report = engine::run(&cfg, live);

    if let Some((stop, handle)) = progress {
        drop(stop);
        let _ = handle.join();
    }
    print_report(&report, args.json);
    exit_status(&report)
}

fn print_report(report: &engine::Report, json: bool) {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.text());
    }
}

fn exit_status(report: &engine::Report) -> ExitCode {
    if report.interrupted.is_some() {
        ExitCode::from(130) // 128 + SIGINT, as shells report an interrupted command
    } else if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Ctrl-C or SIGTERM: the first ends the run early (with a summary), the second quits
/// (`say`: print the notice; a --procs child leaves that to its parent).
fn watch_interrupts(live: Arc<Live>, say: bool) {
    use gonet::signal::{self, Signal};
    let (tx, sigs) = gonet::chan::<Signal>(2);
    if let Err(e) = signal::notify(&tx, &[Signal::INTERRUPT, Signal::TERM]) {
        // The run still works; it just cannot be cut short with a summary.
        eprintln!("stress: cannot watch for Ctrl-C: {e}");
        return;
    }
    // A plain thread: it only waits, and the run's coroutines keep every worker.
    std::thread::spawn(move || {
        for _ in &sigs {
            if live.interrupt() {
                if !say {
                    continue;
                }
                eprintln!(
                    "\nstress: interrupted; finishing the requests in flight (Ctrl-C again quits now)"
                );
            } else {
                std::process::exit(130);
            }
        }
    });
}

/// Starts the progress line on its own thread; it ends (and clears itself) when the
/// returned sender is dropped.
fn spawn_progress(
    cfg: &Config,
    live: Arc<Live>,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let mode = cfg.mode;
    let conns = cfg.conns as u64;
    let total = match mode {
        Mode::Burst => conns,
        _ => cfg.duration.as_millis().max(1) as u64,
    };
    let handle = std::thread::spawn(move || {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
        let template = "{spinner} {elapsed:>4} [{bar:24}] {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        let started = Instant::now();
        let (mut last_t, mut last_n) = (started, 0u64);
        let mut rps = 0.0;
        // Ends when the run drops its sender (the run itself is bounded).
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            stop_rx.recv_timeout(Duration::from_millis(250))
        {
            let now = Instant::now();
            let n = live.requests();
            let dt = now.duration_since(last_t).as_secs_f64();
            if dt > 0.0 {
                rps = (n - last_n) as f64 / dt;
            }
            (last_t, last_n) = (now, n);
            let pos = match mode {
                Mode::Burst => live.dialed(),
                _ => now.duration_since(started).as_millis() as u64,
            };
            bar.set_position(pos.min(total));
            bar.set_message(format!(
                "{}/{} conns up | {} req/s | {} requests | {} errors",
                engine::thousands(live.conns_up()),
                engine::thousands(conns),
                engine::thousands(rps as u64),
                engine::thousands(n),
                engine::thousands(live.errors()),
            ));
        }
        bar.finish_and_clear();
    });
    (stop_tx, handle)
}
