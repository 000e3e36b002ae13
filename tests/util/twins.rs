//! Running an example beside its Go twin: the Rust example (built with `cargo build
//! --release --example NAME`) and examples/go/NAME.go (built with `go build`) as child
//! processes, and the line-oriented client the scripts talk to both with.
//!
//! Include with `mod util;`, `#[path = "util/go.rs"] mod go_util;`,
//! `#[path = "util/process.rs"] mod process;` and `#[path = "util/twins.rs"] mod twins;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::go_util;
use super::process::Server;
use super::util;

/// How long any one client script may take, end to end (every read and write has this
/// deadline).
pub const SCRIPT_LIMIT: Duration = Duration::from_secs(30);

/// The Rust example's binary, built on first use by the cargo that runs the tests.
pub fn rust_example(name: &str) -> PathBuf {
    util::build::example(name)
}

/// The Go twin's binary: examples/go/NAME.go, built once with `go build`.
pub fn go_twin(name: &str) -> PathBuf {
    match name {
        // --proxy-protocol: go-proxyproto, from Debian's golang-github-pires-go-proxyproto-dev.
        "fleet" => go_util::go_binary_with_debian_lib(
            "examples/go/fleet.go",
            "github.com/pires/go-proxyproto",
        ),
        _ => go_util::go_binary(&format!("examples/go/{name}.go")),
    }
}

/// The Rust example and its Go twin, in that order, as commands with `args`.
pub fn twins(name: &str, args: &[&str]) -> [Command; 2] {
    [rust_example(name), go_twin(name)].map(|bin| {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        cmd
    })
}

/// Both twins started with `args`: [Rust, Go].
pub fn start_twins(name: &str, args: &[&str]) -> [Server; 2] {
    twins(name, args).map(Server::start)
}

/// Asserts the twins printed the same first line, the address aside.
pub fn assert_same_first_line(servers: &[Server; 2]) {
    let first = |s: &Server| s.lines_without_addr().into_iter().next();
    assert_eq!(first(&servers[0]), first(&servers[1]));
}

/// A line-oriented client with a deadline on everything it does.
pub struct Client {
    pub r: BufReader<gonet::Conn>,
}

impl Client {
    pub fn connect(network: &str, addr: &str) -> Client {
        let conn = gonet::dial(network, addr).unwrap_or_else(|e| panic!("dial {addr}: {e}"));
        conn.set_deadline(Some(Instant::now() + SCRIPT_LIMIT))
            .unwrap();
        Client {
            r: BufReader::new(conn),
        }
    }

    pub fn conn(&self) -> &gonet::Conn {
        self.r.get_ref()
    }

    pub fn send(&self, s: &str) {
        self.conn()
            .write(s.as_bytes())
            .unwrap_or_else(|e| panic!("write {s:?}: {e}"));
    }

    /// The next line, "\n" included; panics at end of stream or on an error.
    pub fn line(&mut self) -> String {
        let mut s = String::new();
        match self.r.read_line(&mut s) {
            Ok(0) => panic!("end of stream, wanted a line"),
            Ok(_) => s,
            Err(e) => panic!("reading a line: {e} (got {s:?} so far)"),
        }
    }

    /// Asserts the next line is `want` (without its "\n") and returns it.
    pub fn expect(&mut self, want: &str) -> String {
        let got = self.line();
        assert_eq!(got, format!("{want}\n"));
        got
    }

    /// Writes `chunks` from a coroutine, then half-closes, while reading everything that
    /// comes back until end of stream. Returns (what was sent, what came back).
    pub fn send_all_and_read_rest(&mut self, chunks: Vec<Vec<u8>>) -> (Vec<u8>, Vec<u8>) {
        let sent = chunks.concat();
        let conn = self.conn().clone();
        let writer = gonet::go!(move || -> std::io::Result<()> {
            for chunk in &chunks {
                conn.write(chunk)?;
            }
            conn.close_write()
        });
        let got = self.rest();
        writer
            .join()
            .expect("writer")
            .expect("write and close_write");
        (sent, got)
    }

    /// Reads until end of stream; a reset counts as the end. Returns what came first.
    pub fn rest(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        match self.r.read_to_end(&mut v) {
            Ok(_) => v,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => v,
            Err(e) => panic!("reading to the end: {e} (got {v:?})"),
        }
    }
}

/// Bytes that differ from position to position and from `seed` to `seed`.
pub fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13) % 251) as u8)
        .collect()
}
