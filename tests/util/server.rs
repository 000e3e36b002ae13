//! Helpers for the `gonet::Server` tests (server, faults, shutdown, ceiling, soak): the
//! echo handler, descriptor counts, a log capture, and a child process that runs one
//! `#[ignore]`d test of this same test binary in a role (`GONET_CHILD=<role>`), under
//! `prlimit` when a low descriptor limit is wanted.
//!
//! Use from a test file with `mod util; use util::server as server_util;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

// The server tests use these through `server_util`; not every test binary does.
#[allow(unused_imports)]
pub use super::{echo, eventually, fd_count};

/// Every log record of this process, as "LEVEL message" lines; also printed to stderr
/// when RUST_LOG is set. The first call installs the logger.
pub fn logs() -> &'static Logs {
    static LOGS: OnceLock<&'static Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Logs = Box::leak(Box::new(Logs {
            lines: Mutex::new(Vec::new()),
            echo: std::env::var_os("RUST_LOG").is_some(),
        }));
        if log::set_logger(logs).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
        logs
    })
}

/// The log capture behind [`logs`].
pub struct Logs {
    lines: Mutex<Vec<String>>,
    echo: bool,
}

impl Logs {
    /// The captured lines that contain `needle`.
    pub fn matching(&self, needle: &str) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }
}

impl log::Log for Logs {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Info || m.target().starts_with("gonet")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!("{} {}", record.level(), record.args());
        if self.echo {
            eprintln!("{line}");
        }
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    fn flush(&self) {}
}

/// Whether this process is the child in `role` (see [`Child`]).
pub fn is_child(role: &str) -> bool {
    std::env::var("GONET_CHILD").is_ok_and(|r| r == role)
}

/// Kernel clock ticks per second, the unit of /proc/PID/stat's CPU times.
pub fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(n).ok().filter(|&n| n > 0).unwrap_or(100)
}

/// utime + stime of process `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')').expect("stat has a comm field") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

/// This test binary, run again as a child process in `role`: it runs only the test
/// `test_name` (an `#[ignore]`d function that checks [`is_child`]) and talks over its
/// stdin and stdout, one line at a time. Killed when dropped.
pub struct Child {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Child {
    /// Starts the child; `nofile` runs it under `prlimit --nofile=N:N`.
    pub fn spawn(role: &str, test_name: &str, nofile: Option<u64>) -> Child {
        let exe = std::env::current_exe().expect("current_exe");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg("--").arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.args([
            test_name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GONET_CHILD", role)
        // A backtrace would map the binary's debug info: not in a child at its limits.
        .env("RUST_BACKTRACE", "0")
        .env(
            "RUST_LOG",
            std::env::var("CHILD_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the child process");
        let stdin = child.stdin.take();
        let (tx, stdout) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let err = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        let show = std::env::var_os("CHILD_LOG").is_some();
        std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                if show {
                    eprint!("child: {line}");
                }
                sink.0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.trim_end().to_string());
                sink.1.notify_all();
                line.clear();
            }
        });
        Child {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for a stdout line starting with `prefix`; returns the rest.
    pub fn expect_line(&self, prefix: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                // libtest may have printed "test NAME ... " on the same line first.
                Ok(line) => {
                    if let Some(i) = line.find(prefix) {
                        return line[i + prefix.len()..].trim().to_string();
                    }
                }
                Err(e) => panic!(
                    "no line {prefix:?} from the child within {limit:?} ({e}); its stderr:\n{}",
                    self.stderr_text()
                ),
            }
        }
    }

    /// Sends one command line to the child.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to the child");
        stdin.flush().expect("flush to the child");
    }

    /// The child's stderr lines so far that contain `needle`.
    pub fn stderr_matching(&self, needle: &str) -> Vec<String> {
        let lines = self.stderr.0.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }

    /// Waits up to `limit` until at least `count` stderr lines contain `needle`
    /// (a child may close a socket before it logs why); returns the lines so far.
    pub fn stderr_wait(&self, needle: &str, count: usize, limit: Duration) -> Vec<String> {
        let end = Instant::now() + limit;
        let mut lines = self.stderr.0.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let hits: Vec<String> = lines
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            let left = end.saturating_duration_since(Instant::now());
            if hits.len() >= count || left.is_zero() {
                return hits;
            }
            lines = self
                .stderr
                .1
                .wait_timeout(lines, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// All of the child's stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// Whether the child is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the child to exit (a test that expects it to) and returns how it did.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("waitpid")
    }

    /// The descriptors the child has open.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// utime + stime of the child, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        cpu_ticks(self.pid())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In a child: reads command lines from stdin until it closes, calling `on` for each.
pub fn child_commands(mut on: impl FnMut(&str)) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        on(line.trim());
    }
}

/// In a child: prints a protocol line to stdout at once.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The path of example `name`, built first (`cargo build --example`) in the profile this
/// test binary was built in.
pub fn example(name: &str) -> PathBuf {
    super::build::example(name)
}

/// A blocking std client: connects to `addr`, with a 10 s read and write timeout so that a
/// broken server fails the test instead of hanging it.
pub fn connect(addr: &str) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set_read_timeout");
    s.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("set_write_timeout");
    s
}

/// Sends `msg` and reads back as many bytes; panics if they differ.
pub fn round_trip(s: &mut std::net::TcpStream, msg: &[u8]) {
    s.write_all(msg).expect("write to the echo server");
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).expect("read the echo back");
    assert_eq!(back, msg, "the echo differs");
}

/// Whether the server closed (or reset) `s` within `limit`: a read returns end of stream
/// or an error other than a timeout.
pub fn closed_by_server(s: &mut std::net::TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).expect("set_read_timeout");
    let mut buf = [0u8; 64];
    let end = Instant::now() + limit;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) if Instant::now() < end => continue,
            Ok(_) => return false,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}
