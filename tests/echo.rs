//! The echo example as users run it: a child process serving 5,000 concurrent
//! connections with every byte checked, answering exactly like its Go twin, and riding
//! out descriptor exhaustion (EMFILE) without exiting or spinning.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use process::Server;

/// The echo example's binary, built on first use with the cargo running this test.
fn echo_example() -> PathBuf {
    util::build::example("echo")
}

/// Runs `conns` concurrent clients against 127.0.0.1:`port`, each doing `rounds` echo
/// round trips of varying sizes; returns (bytes checked, failures).
fn drive(port: u16, conns: usize, rounds: usize) -> (usize, Vec<String>) {
    let addr = format!("127.0.0.1:{port}");
    let bytes = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            let (addr, bytes) = (addr.clone(), bytes.clone());
            gonet::go!(move || -> Result<(), String> {
                let conn = gonet::dial("tcp", &addr).map_err(|e| e.to_string())?;
                conn.set_deadline(Some(Instant::now() + Duration::from_secs(120)))
                    .map_err(|e| e.to_string())?;
                for r in 0..rounds {
                    let len = 1 + (i * 131 + r * 977) % 6000;
                    let msg: Vec<u8> = (0..len).map(|k| ((k + i + r) % 256) as u8).collect();
                    conn.write(&msg).map_err(|e| e.to_string())?;
                    let mut got = vec![0u8; len];
                    conn.read_full(&mut got).map_err(|e| e.to_string())?;
                    if got != msg {
                        return Err(format!("conn {i} round {r}: echoed bytes differ"));
                    }
                    bytes.fetch_add(len, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    let failures = handles
        .into_iter()
        .filter_map(|h| match h.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("client coroutine panicked".to_string()),
        })
        .collect();
    (bytes.load(Ordering::Relaxed), failures)
}

#[test]
fn five_thousand_concurrent_connections_every_byte_checked() {
    let mut cmd = Command::new(echo_example());
    cmd.arg("127.0.0.1:0");
    let server = Server::start(cmd);
    let t0 = Instant::now();
    let (bytes, failures) = drive(server.port(), 5000, 3);
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(bytes > 5000 * 3, "checked {bytes} bytes");
    eprintln!(
        "5000 conns x 3 round trips: {bytes} bytes echoed and checked in {:?}",
        t0.elapsed()
    );
}

#[test]
fn the_rust_and_go_echo_servers_answer_the_same_bytes() {
    let go = go_util::go_tool();
    let out = std::env::temp_dir().join(format!("gonet-go-echo-{}", std::process::id()));
    let status = Command::new(&go)
        .args(["build", "-o"])
        .arg(&out)
        .arg(go_util::manifest_dir().join("examples/go/echo.go"))
        .status()
        .expect("go build");
    assert!(status.success(), "go build examples/go/echo.go failed");
    let mut rust = Command::new(echo_example());
    rust.arg("127.0.0.1:0");
    let mut gocmd = Command::new(&out);
    gocmd.arg("127.0.0.1:0");
    let servers = [Server::start(rust), Server::start(gocmd)];
    let _ = std::fs::remove_file(&out);
    // The same script against both: a few conns, uneven writes, a half-close at the end.
    let mut transcripts = Vec::new();
    for s in &servers {
        let conn = gonet::dial("tcp", &format!("127.0.0.1:{}", s.port())).unwrap();
        conn.set_deadline(Some(Instant::now() + Duration::from_secs(30)))
            .unwrap();
        let mut sent = Vec::new();
        for k in 0..50usize {
            let msg: Vec<u8> = (0..(k * 613 % 9000 + 1))
                .map(|b| (b * k % 256) as u8)
                .collect();
            conn.write(&msg).unwrap();
            sent.extend_from_slice(&msg);
        }
        conn.close_write().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut &conn, &mut got).unwrap();
        assert!(got == sent, "{} echoed different bytes", s.addr);
        transcripts.push(got);
    }
    assert!(transcripts[0] == transcripts[1]);
    // Both print the same first line, address aside.
    let first = |s: &Server| {
        s.stderr
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.starts_with("echo: "))
            .cloned()
    };
    assert_eq!(
        first(&servers[0]).map(|l| l.replace(&servers[0].addr, "ADDR")),
        first(&servers[1]).map(|l| l.replace(&servers[1].addr, "ADDR"))
    );
}

#[test]
fn the_echo_example_rides_out_emfile_without_spinning() {
    // A server allowed 64 descriptors, flooded with 150 connections.
    let mut cmd = Command::new("prlimit");
    cmd.arg("--nofile=64:64")
        .arg(echo_example())
        .arg("127.0.0.1:0");
    let server = Server::start(cmd);
    let addr = format!("127.0.0.1:{}", server.port());
    // The kernel completes handshakes into the backlog whether or not accept keeps up.
    let flood: Vec<_> = (0..150)
        .map(|_| gonet::dial("tcp", &addr).unwrap())
        .collect();
    // A served conn proves the server is saturated: some conns echo, the rest wait.
    flood[0]
        .set_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    flood[0].write(b"first").unwrap();
    let mut buf = [0u8; 5];
    flood[0].read_full(&mut buf).unwrap();
    let saw_emfile = util::eventually(Duration::from_secs(10), || {
        server
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("too many open files"))
    });
    assert!(
        saw_emfile,
        "the server logged its accept errors: {:?}",
        server.stderr.lock().unwrap()
    );
    // While saturated for a second, its CPU stays low (backing off, not spinning).
    let (c0, t0) = (server.cpu_ticks(), Instant::now());
    std::thread::sleep(Duration::from_secs(1));
    let ticks = server.cpu_ticks() - c0;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = ticks as f64 / hz / t0.elapsed().as_secs_f64();
    assert!(
        cpu < 0.2,
        "server used {:.0}% CPU while saturated",
        cpu * 100.0
    );
    let log = server.stderr.lock().unwrap().join("\n");
    assert!(
        log.contains("retrying in"),
        "Go-style back-off lines: {log}"
    );
    // Held conns still work; after the flood ends, new clients are served.
    flood[0].write(b"again").unwrap();
    flood[0].read_full(&mut buf).unwrap();
    assert_eq!(&buf, b"again");
    let keep = flood.into_iter().next().unwrap();
    let fresh = gonet::dial("tcp", &addr).unwrap();
    fresh
        .set_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    fresh.write(b"fresh").unwrap();
    fresh.read_full(&mut buf).unwrap();
    assert_eq!(&buf, b"fresh");
    drop(keep);
    assert!(server.child.id() > 0);
}
