//! gonet::runtime: the worker count (`GOMAXPROCS`, `set_max_procs`) and whether workers
//! are pinned to cores.
//!
//! may reads its configuration once per process, when its scheduler starts, so every test
//! here runs its scenario in a child process: the test binary re-runs itself with
//! `GONET_RUNTIME_CHILD` set to the scenario's name and reads what the child reports.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const CHILD: &str = "GONET_RUNTIME_CHILD";

/// Runs `test` (this file's test of that name) again in a child process with `scenario`
/// and the given environment, and returns its stdout and stderr. Panics if it fails.
fn run_child(test: &str, scenario: &str, env: &[(&str, &str)]) -> (String, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario)
        .env_remove("GOMAXPROCS")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "child {scenario} failed: {}\n{stdout}\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

/// The value of `key=` in the child's report.
fn field(stdout: &str, key: &str) -> String {
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in the child's output:\n{stdout}"))
        .to_string()
}

/// The scenario this process runs as a child, if it is one.
fn child_scenario() -> Option<String> {
    std::env::var(CHILD).ok()
}

/// How many coroutines block their worker threads at the same time: `k` coroutines each
/// block their thread (a std Condvar, on purpose) until all `k` have arrived or 10 s
/// pass. With fewer than `k` workers the rest wait in a queue behind a blocked worker,
/// so the count tells how many workers really run.
fn concurrent_workers(k: usize) -> usize {
    let state = Arc::new((Mutex::new((0usize, false)), Condvar::new()));
    let mut handles = Vec::new();
    for _ in 0..k {
        let state = state.clone();
        // may's own spawn, not go!: go! would apply gonet's defaults itself, and one test
        // checks that an earlier gonet call already did.
        // SAFETY: the closure keeps no thread-local across a park and stays shallow.
        handles.push(unsafe {
            may::coroutine::spawn(move || {
                let (lock, cv) = &*state;
                let mut g = lock.lock().unwrap();
                g.0 += 1;
                cv.notify_all();
                let deadline = Instant::now() + Duration::from_secs(10);
                while !g.1 && Instant::now() < deadline {
                    g = cv.wait_timeout(g, Duration::from_millis(100)).unwrap().0;
                }
            })
        });
    }
    let (lock, cv) = &*state;
    let mut g = lock.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while g.0 < k && Instant::now() < deadline {
        g = cv.wait_timeout(g, Duration::from_millis(100)).unwrap().0;
    }
    let arrived = g.0;
    g.1 = true;
    cv.notify_all();
    drop(g);
    for h in handles {
        h.join().unwrap();
    }
    arrived
}

/// The CPU affinity list (`Cpus_allowed_list`) of every thread of this process.
fn thread_affinities() -> Vec<String> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let status = std::fs::read_to_string(task.unwrap().path().join("status"));
        // A thread that exited between read_dir and here has no status any more.
        if let Ok(status) = status {
            if let Some(line) = status.lines().find(|l| l.starts_with("Cpus_allowed_list:")) {
                out.push(line["Cpus_allowed_list:".len()..].trim().to_string());
            }
        }
    }
    out
}

/// Child: start the scheduler with `k` blocking coroutines and report the worker count,
/// how many ran at once, and the distinct thread affinities.
fn report(k: usize) {
    let process = thread_affinities()[0].clone();
    // may's own view: asking gonet would apply gonet's defaults, which some scenarios
    // check were applied already.
    let workers = may::config().get_workers();
    let parallel = concurrent_workers(k);
    let narrower: BTreeSet<String> = thread_affinities()
        .into_iter()
        .filter(|a| *a != process)
        .collect();
    println!(
        "workers={workers} parallel={parallel} narrower={}",
        narrower.len()
    );
}

#[test]
fn gomaxprocs_from_the_environment_sets_the_workers() {
    if let Some(_scenario) = child_scenario() {
        gonet::runtime::set_max_procs(0); // gonet's first call reads GOMAXPROCS
        return report(3);
    }
    let (out, _) = run_child(
        "gomaxprocs_from_the_environment_sets_the_workers",
        "env3",
        &[("GOMAXPROCS", "3")],
    );
    assert_eq!(field(&out, "workers"), "3", "{out}");
    // Three coroutines blocked their threads at once: three workers really run.
    assert_eq!(field(&out, "parallel"), "3", "{out}");
}

#[test]
fn gomaxprocs_that_go_would_ignore_is_ignored_with_a_warning() {
    if child_scenario().is_some() {
        let _ = env_logger::builder().is_test(false).try_init();
        println!("workers={}", gonet::runtime::set_max_procs(0));
        return;
    }
    let test = "gomaxprocs_that_go_would_ignore_is_ignored_with_a_warning";
    let (unset, _) = run_child(test, "unset", &[]);
    let default = field(&unset, "workers");
    // Empty is "unset", silently, as in Go.
    let (out, err) = run_child(test, "empty", &[("GOMAXPROCS", "")]);
    assert_eq!(field(&out, "workers"), default);
    assert!(!err.contains("GOMAXPROCS"), "{err}");
    // Go's atoi32 takes digits only, and nothing past an int32.
    for bad in ["0", "-2", "abc", "2x", " 2", "+2", "2147483648"] {
        let (out, err) = run_child(test, "bad", &[("GOMAXPROCS", bad)]);
        assert_eq!(field(&out, "workers"), default, "GOMAXPROCS={bad:?}");
        assert!(
            err.contains("GOMAXPROCS") && err.contains("not a positive integer"),
            "GOMAXPROCS={bad:?}: no warning in {err}"
        );
    }
}

#[test]
fn worker_count_is_capped() {
    if child_scenario().is_some() {
        let _ = env_logger::builder().is_test(false).try_init();
        let from_env = gonet::runtime::set_max_procs(0);
        gonet::runtime::set_max_procs(usize::MAX);
        let from_call = gonet::runtime::set_max_procs(0);
        println!("env={from_env} call={from_call}");
        return;
    }
    let (out, err) = run_child("worker_count_is_capped", "huge", &[("GOMAXPROCS", "5000")]);
    let cap = gonet::runtime::MAX_PROCS.to_string();
    assert_eq!(field(&out, "env"), cap, "{out}");
    assert!(err.contains("more than gonet runs"), "no warning in {err}");
    assert_eq!(field(&out, "call"), cap, "{out}");
}

#[test]
fn set_max_procs_overrides_gomaxprocs() {
    if child_scenario().is_some() {
        let from_env = gonet::runtime::set_max_procs(2);
        println!("env={from_env}");
        return report(2);
    }
    let (out, _) = run_child(
        "set_max_procs_overrides_gomaxprocs",
        "override",
        &[("GOMAXPROCS", "1")],
    );
    assert_eq!(field(&out, "env"), "1", "{out}");
    assert_eq!(field(&out, "workers"), "2", "{out}");
    assert_eq!(field(&out, "parallel"), "2", "{out}");
}

#[test]
fn any_gonet_socket_applies_the_defaults_before_may_starts() {
    if child_scenario().is_some() {
        // A dial from this plain thread (refused: nothing listens on port 1) never
        // registers with the poller, and the coroutines below are may's own.
        assert!(gonet::dial("tcp", "127.0.0.1:1").is_err());
        return report(2);
    }
    let (out, _) = run_child(
        "any_gonet_socket_applies_the_defaults_before_may_starts",
        "dial",
        &[("GOMAXPROCS", "2")],
    );
    assert_eq!(field(&out, "workers"), "2", "{out}");
    assert_eq!(field(&out, "narrower"), "0", "workers float: {out}");
}

#[test]
fn workers_float_between_cores_unless_pinned() {
    if let Some(scenario) = child_scenario() {
        if scenario == "pinned" {
            assert!(
                !gonet::runtime::set_pin_workers(true),
                "default is unpinned"
            );
        } else {
            gonet::runtime::set_max_procs(0); // gonet's first call
        }
        return report(2);
    }
    let test = "workers_float_between_cores_unless_pinned";
    let (out, _) = run_child(test, "default", &[("GOMAXPROCS", "2")]);
    assert_eq!(field(&out, "parallel"), "2", "{out}");
    // No thread is confined to fewer cores than the process may use.
    assert_eq!(field(&out, "narrower"), "0", "{out}");

    // The check can fail: pinned workers each report a single core.
    if gonet::runtime::num_cpu() >= 2 {
        let (out, _) = run_child(test, "pinned", &[("GOMAXPROCS", "2")]);
        assert_eq!(field(&out, "narrower"), "2", "{out}");
    }
}
