//! tableflip's error texts, measured against the original: every way an upgrade can fail
//! is run once under gonet's `net::tableflip` and once under cloudflare/tableflip (Go,
//! built from Debian's golang-github-cloudflare-tableflip-dev, tests/go/tableflip), and
//! the two say the same words.
//!
//! Each scenario is a process of its own (an Upgrader is one per process): this test
//! binary re-executed with `TF_MODE` set (`tableflip_texts_child` below), against the Go
//! program with the same `TF_MODE`. A successor started by an upgrade is the same
//! program again, and does what the scenario asks of it (exit 0, exit 7, die by SIGKILL,
//! never say ready, or say ready and at once try to upgrade while its parent runs).

#[path = "util/go.rs"]
mod go_util;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use gonet::net::tableflip::{Options, Upgrader};

const MODE_ENV: &str = "TF_MODE";

/// The scenarios, and how many lines each prints (the parent's, plus the successor's in
/// "draining").
const MODES: &[(&str, usize)] = &[
    ("single", 1),
    ("notready", 1),
    ("pidfile", 1),
    ("stopped", 1),
    ("upgraded", 1),
    ("exit0", 1),
    ("exit7", 1),
    ("killed", 1),
    ("hang", 1),
    ("draining", 2),
];

/// gonet's side of one scenario, run in a child process (`TF_MODE` set); the mirror of
/// tests/go/tableflip/main.go, line for line.
#[test]
fn tableflip_texts_child() {
    let Ok(mode) = std::env::var(MODE_ENV) else {
        return; // run by the harness as a test: nothing to do
    };
    let mut opts = Options {
        upgrade_timeout: Duration::from_secs(5),
        ..Options::default()
    };
    match mode.as_str() {
        "pidfile" => opts.pid_file = Some("/nonexistent-gonet-dir/server.pid".into()),
        "hang" => opts.upgrade_timeout = Duration::from_millis(300),
        _ => {}
    }
    let upg = match Upgrader::new(opts) {
        Ok(u) => u,
        Err(e) => return say(&mode, Err(e)),
    };
    if upg.has_parent() {
        return successor(&mode, &upg);
    }
    let result = match mode.as_str() {
        "single" => Upgrader::new(Options::default()).map(drop),
        "notready" => upg.upgrade(),
        "pidfile" => upg.ready(),
        "stopped" => {
            let _ = upg.ready();
            upg.stop();
            upg.upgrade()
        }
        "upgraded" => {
            let _ = upg.ready();
            upg.upgrade().and_then(|()| upg.upgrade())
        }
        _ => {
            let _ = upg.ready();
            upg.upgrade()
        }
    };
    say(&mode, result);
    if mode == "upgraded" || mode == "draining" {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    }
}

/// The process an upgrade started.
fn successor(mode: &str, upg: &Upgrader) {
    match mode {
        "exit0" => std::process::exit(0),
        "exit7" => std::process::exit(7),
        // SAFETY: kill has no memory preconditions.
        "killed" => unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        },
        "hang" => loop {
            std::thread::park(); // killed at the upgrade timeout
        },
        "draining" => {
            let _ = upg.ready();
            say("draining-successor", upg.upgrade());
        }
        _ => {
            let _ = upg.ready();
        }
    }
}

fn say(mode: &str, result: std::io::Result<()>) {
    match result {
        Ok(()) => println!("{mode}: <nil>"),
        Err(e) => println!("{mode}: {e}"),
    }
}

/// Runs `cmd` for `mode`: the scenario's lines (sorted, pids and the PID file's random
/// suffix replaced by `N`), once `want` of them came and the program (and its successor,
/// which holds the same stdout) closed its output. Stdin stays open until then: "upgraded"
/// and "draining" keep their parent alive until it closes.
fn run(mut cmd: Command, mode: &str, want: usize) -> Vec<String> {
    let mut child = cmd
        .env(MODE_ENV, mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the scenario");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = tx.send(Some(std::mem::take(&mut line)));
        }
        let _ = tx.send(None);
    });
    let prefixes = [format!("{mode}: "), format!("{mode}-successor: ")];
    let mut lines = Vec::new();
    let mut stdin = stdin;
    loop {
        let next = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{mode}: no end of output in 60 s: {lines:?}"));
        let Some(line) = next else { break };
        // libtest's "test tableflip_texts_child ... " may come first on the line.
        if let Some(at) = prefixes.iter().find_map(|p| line.find(p.as_str())) {
            lines.push(normalize(line[at..].trim_end()));
        }
        if lines.len() == want {
            stdin = None; // the parent may go now
        }
    }
    drop(stdin);
    let _ = child.wait();
    lines.sort();
    lines
}

/// `pid=123` -> `pid=N`, and `server.pid3851550181` (Go's TempFile suffix) -> `server.pidN`.
fn normalize(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("pid") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let tail = tail.strip_prefix('=').map_or(tail, |t| {
            out.push('=');
            t
        });
        let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push('N');
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn tableflip_texts_match_cloudflare_tableflip() {
    if std::env::var_os(MODE_ENV).is_some() {
        return;
    }
    let go = go_util::go_binary_with_debian_lib(
        "tests/go/tableflip/main.go",
        "github.com/cloudflare/tableflip",
    );
    for &(mode, want) in MODES {
        let mut ours = Command::new(std::env::current_exe().expect("test binary"));
        ours.args([
            "tableflip_texts_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ]);
        let gonet = run(ours, mode, want);
        let golang = run(Command::new(&go), mode, want);
        assert_eq!(gonet.len(), want, "{mode}: gonet said {gonet:?}");
        assert_eq!(
            gonet, golang,
            "{mode}: gonet (left) and tableflip (right) differ"
        );
    }
}

#[test]
fn normalize_hides_pids_and_temp_suffixes() {
    assert_eq!(normalize("child pid=32441 exited"), "child pid=N exited");
    assert_eq!(
        normalize("open /d/server.pid3851550181: no such file"),
        "open /d/server.pidN: no such file"
    );
    assert_eq!(normalize("no pid here"), "no pid here");
}
