//! `--procs N`: one run over N client processes, to go past one process's descriptor
//! limit (`ulimit -n`) and may's coroutine ceiling.
//!
//! The parent re-executes its own binary N times with the same command line and
//! [`CHILD_ENV`] set to `FIRST:COUNT`, the slice of the run's connection numbers that
//! child runs (so `--source-ips` and the payload patterns stay spread over the whole
//! run). Each child runs its slice as a plain run and prints its report on stdout as one
//! JSON line ([`Report::to_wire`]: the counts and every value of its latency
//! histogram); the parent merges them ([`Report::merge`]) into one report, exact as if
//! one process had run everything. The children run in their own process group, so a
//! Ctrl-C reaches the parent only, which passes it on once: every child then ends early
//! and still reports.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{config::*, report::*, stats::*};

/// The environment variable that makes the binary one process of a `--procs` run:
/// `FIRST:COUNT`, the numbers of its connections in the whole run.
pub const CHILD_ENV: &str = "GONET_STRESS_CHILD";

/// How long past its own hard cap a child may take to report (its start, the merge of
/// its histogram, a loaded machine) before the parent gives up on it.
const CHILD_SLACK: Duration = Duration::from_secs(30);

/// Process `i` of `procs`: its first connection number and how many it runs (the
/// remainder goes to the first processes, one each).
pub fn share(conns: usize, procs: usize, i: usize) -> (usize, usize) {
    let (base, extra) = (conns / procs, conns % procs);
    let count = base + usize::from(i < extra);
    let first = i * base + i.min(extra);
    (first, count)
}

/// Parses [`CHILD_ENV`]'s value.
pub fn parse_child(spec: &str) -> Option<(usize, usize)> {
    let (first, count) = spec.split_once(':')?;
    Some((first.parse().ok()?, count.parse().ok()?))
}

/// Runs `cfg` over `cfg.procs` copies of `exe` started with `args` (the command line,
/// without the program name) and returns the merged report. Bounded: a child that has
/// not reported `CHILD_SLACK` after the run's hard cap is killed, and its connections
/// count as errors. [`Live::interrupt`] on `live` is passed on to the children once.
pub fn run_procs(cfg: &Config, exe: &Path, args: &[std::ffi::OsString], live: Arc<Live>) -> Report {
    use std::os::unix::process::CommandExt;
    let start = Instant::now();
    let hard = match cfg.mode {
        Mode::Burst => cfg.timeout * 2,
        _ => cfg.duration + cfg.timeout,
    };
    let give_up = start + hard + CHILD_SLACK;
    let mut merged = Report::empty(cfg);
    struct Proc {
        child: Child,
        conns: usize,
        out: std::thread::JoinHandle<String>,
    }
    let mut procs = Vec::with_capacity(cfg.procs);
    for i in 0..cfg.procs {
        let (first, count) = share(cfg.conns, cfg.procs, i);
        let spawned = Command::new(exe)
            .args(args)
            .env(CHILD_ENV, format!("{first}:{count}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn();
        match spawned {
            Ok(mut child) => {
                let mut stdout = child.stdout.take().expect("piped stdout");
                let out = std::thread::spawn(move || {
                    let mut s = String::new();
                    let _ = stdout.read_to_string(&mut s);
                    s
                });
                procs.push(Proc {
                    child,
                    conns: count,
                    out,
                });
            }
            Err(e) => {
                merged.conns += count;
                *merged
                    .error_kinds
                    .entry(format!("stress: cannot start a process: {e}"))
                    .or_insert(0) += count as u64;
            }
        }
    }
    live.started
        .store(true, std::sync::atomic::Ordering::Relaxed);

    let mut forwarded = false;
    let mut waiting: Vec<usize> = (0..procs.len()).collect();
    let mut statuses = vec![None; procs.len()];
    // The exits of other processes have no event to park on here: poll them.
    while !waiting.is_empty() {
        if !forwarded && live.interrupted_at().is_some() {
            forwarded = true;
            for p in &procs {
                // SAFETY: kill has no memory preconditions; the pid is our unreaped child.
                unsafe { libc::kill(p.child.id() as libc::pid_t, libc::SIGINT) };
            }
        }
        waiting.retain(|&i| match procs[i].child.try_wait() {
            Ok(Some(status)) => {
                statuses[i] = Some(status.to_string());
                false
            }
            Ok(None) => true,
            Err(e) => {
                statuses[i] = Some(e.to_string());
                false
            }
        });
        if Instant::now() >= give_up {
            for &i in &waiting {
                let _ = procs[i].child.kill();
                let _ = procs[i].child.wait();
                statuses[i] = Some("killed: no report by the hard cap".to_string());
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for (p, status) in procs.into_iter().zip(statuses) {
        let text = p.out.join().unwrap_or_default();
        let report = text
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| Report::from_wire(&v));
        match report {
            Some(r) => merged.merge(r),
            None => {
                let status = status.unwrap_or_else(|| "unknown".to_string());
                merged.conns += p.conns;
                *merged
                    .error_kinds
                    .entry(format!(
                        "stress: a process ended without a report ({status})"
                    ))
                    .or_insert(0) += p.conns as u64;
                merged.errors = merged.error_kinds.values().sum();
                merged.all_connected = None;
            }
        }
    }
    merged.conns = cfg.conns;
    if cfg.mode != Mode::Burst || merged.ok_conns != merged.conns {
        merged.all_connected = None;
    }
    if merged.interrupted.is_none() {
        merged.interrupted = live
            .interrupted_at()
            .map(|at| at.saturating_duration_since(start));
    }
    merged
}
