//! Servers as child processes: the examples and their Go twins, started the way users run
//! them, waited for until they print `NAME: listening on ADDR`, killed when dropped.
//!
//! Include from a test file with `#[path = "util/process.rs"] mod process;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server may take to print its "listening on" line.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A server process, killed when dropped.
pub struct Server {
    pub child: Child,
    /// What followed "listening on " in its first such line.
    pub addr: String,
    /// Every line it printed on stderr so far (the reader thread keeps appending).
    pub stderr: Arc<Mutex<Vec<String>>>,
    /// Says when the reader thread has read the end of stderr.
    stderr_end: std::sync::mpsc::Receiver<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `cmd` and waits for its "NAME: listening on ADDR" line on stderr.
    /// Panics, with what it printed, if it exits or stays silent instead.
    pub fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let (end_tx, stderr_end) = std::sync::mpsc::channel();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Recorded before start() returns, so `lines()` always has it.
                l2.lock().unwrap().push(line.clone());
                if let Some((_, addr)) = line.split_once(": listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
            // tx drops here: the end of stderr wakes a waiting start().
            let _ = end_tx.send(());
        });
        match rx.recv_timeout(START_LIMIT) {
            Ok(addr) => Server {
                child,
                addr,
                stderr: lines,
                stderr_end,
            },
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "{cmd:?} printed no \"listening on\" line ({e}; {status:?}): {:?}",
                    lines.lock().unwrap()
                );
            }
        }
    }

    /// The port of a TCP address such as `[::]:8080` or `127.0.0.1:8080`.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {:?}", self.addr))
    }

    /// `127.0.0.1:PORT`, for dialing a server that listens on every address.
    pub fn loopback(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }

    /// The stderr lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The stderr lines so far, with the listening address replaced by "ADDR" (so a Rust
    /// example and its Go twin can be compared).
    pub fn lines_without_addr(&self) -> Vec<String> {
        self.lines()
            .iter()
            .map(|l| l.replace(&self.addr, "ADDR"))
            .collect()
    }

    /// Sends `sig` (e.g. `libc::SIGTERM`) to the server.
    pub fn signal(&self, sig: i32) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory preconditions; the pid is our unreaped child.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {sig}): {}",
            std::io::Error::last_os_error()
        );
    }

    /// Waits up to `limit` for the server to exit; `None` if it is still running. Once
    /// it has exited, [`lines`](Server::lines) holds all it printed (the reader thread
    /// has read the end of stderr, or 5 s passed: a process it started may hold it).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            // The exit of another process has no event we can park on here: poll it.
            if let Some(status) = self.child.try_wait().expect("waitpid") {
                let _ = self.stderr_end.recv_timeout(Duration::from_secs(5));
                return Some(status);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// utime + stime of the server so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after_comm.split_whitespace().collect();
        // Fields 14 and 15 of stat; after_comm starts at field 3.
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }
}

/// Runs `cmd` to completion with a time limit and returns (exit status, stderr). For a
/// server expected to fail at start (a taken address): panics if it is still running
/// after `limit`.
pub fn run_to_exit(cmd: Command, limit: Duration) -> (ExitStatus, String) {
    run_capturing(cmd, Captured::Stderr, limit)
}

/// The stream [`run_capturing`] collects; the other one goes to /dev/null.
pub enum Captured {
    Stdout,
    Stderr,
}

/// Runs `cmd` to completion (stdin empty) with a time limit and returns (exit status,
/// the `captured` stream); panics, after killing it, if it is still running after `limit`.
pub fn run_capturing(
    mut cmd: Command,
    captured: Captured,
    limit: Duration,
) -> (ExitStatus, String) {
    let (out, err) = match captured {
        Captured::Stdout => (Stdio::piped(), Stdio::null()),
        Captured::Stderr => (Stdio::null(), Stdio::piped()),
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let mut stream: Box<dyn std::io::Read + Send> = match captured {
        Captured::Stdout => Box::new(child.stdout.take().expect("piped stdout")),
        Captured::Stderr => Box::new(child.stderr.take().expect("piped stderr")),
    };
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stream.read_to_string(&mut s);
        s
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitpid") {
            break status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, reader.join().expect("output reader"))
}
