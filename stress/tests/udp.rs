//! The stress tool's udp mode, its engine run in-process against gonet datagram
//! servers that echo, drop, answer late, answer wrong or are not there: every echo is
//! checked, a lost datagram is counted as lost (never a hang, never an error), and the
//! run ends by its deadlines whatever the server does.

#[path = "../../tests/util/mod.rs"]
mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gonet::net::{self, PacketConn};
use gonet_stress as engine;
use gonet_stress::{Config, Live, Mode, Report};

/// A datagram server: `reply` decides, for the n-th datagram, what goes back (if
/// anything) and after how long. Closed when dropped.
struct Server {
    pc: PacketConn,
    seen: Arc<AtomicU64>,
}

impl Server {
    fn start<F>(network: &str, addr: &str, reply: F) -> Server
    where
        F: Fn(u64, &[u8]) -> Option<(Vec<u8>, Duration)> + Send + Sync + 'static,
    {
        let pc = net::listen_packet(network, addr).expect("listen_packet");
        pc.set_read_buffer(4 << 20).expect("SO_RCVBUF");
        let seen = Arc::new(AtomicU64::new(0));
        let (p2, s2, reply) = (pc.clone(), seen.clone(), Arc::new(reply));
        gonet::go!(move || {
            let mut buf = vec![0u8; 65536];
            // Ends when the socket is closed (Server's drop).
            while let Ok((n, from)) = p2.read_from(&mut buf) {
                let k = s2.fetch_add(1, Ordering::Relaxed);
                if let Some((answer, delay)) = reply(k, &buf[..n]) {
                    if delay.is_zero() {
                        let _ = p2.write_to(&answer, &from);
                    } else {
                        let p3 = p2.clone();
                        gonet::go!(move || {
                            gonet::time::sleep(delay);
                            let _ = p3.write_to(&answer, &from);
                        });
                    }
                }
            }
        });
        Server { pc, seen }
    }

    fn addr(&self) -> String {
        self.pc.local_addr().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.pc.close();
    }
}

fn echo(_: u64, b: &[u8]) -> Option<(Vec<u8>, Duration)> {
    Some((b.to_vec(), Duration::ZERO))
}

fn udp_cfg(addr: &str, conns: usize, duration: Duration, timeout: Duration) -> Config {
    Config {
        conns,
        duration,
        timeout,
        ..Config::new(Mode::Udp, addr)
    }
}

/// Runs the engine in-process, preflight first, and checks its bound.
fn run(cfg: &Config) -> Report {
    engine::preflight(cfg).unwrap_or_else(|e| panic!("preflight refused the run: {e}"));
    let started = Instant::now();
    let report = engine::run(cfg, Arc::new(Live::new()));
    let bound = cfg.duration + cfg.timeout + Duration::from_secs(2);
    assert!(
        started.elapsed() <= bound,
        "the run took {:?}, past its bound {bound:?}",
        started.elapsed()
    );
    eprintln!("{}", report.text());
    report
}

#[test]
fn udp_mode_checks_every_echo_of_many_sockets() {
    let s = Server::start("udp", "127.0.0.1:0", echo);
    let r = run(&udp_cfg(
        &s.addr(),
        200,
        Duration::from_secs(2),
        Duration::from_secs(1),
    ));
    assert_eq!(r.mode, Mode::Udp);
    assert_eq!((r.errors, r.ok_conns), (0, 200), "{:?}", r.error_kinds);
    assert!(r.requests > 1000, "{} round trips", r.requests);
    // The server saw each verified request, each lost one and no more.
    assert!(s.seen.load(Ordering::Relaxed) >= r.requests);
    assert_eq!(r.late, 0);
    assert!(r.is_clean());
    let j = r.to_json();
    assert_eq!(
        (j["mode"].as_str(), j["lost"].as_u64()),
        (Some("udp"), Some(r.lost))
    );
}

#[test]
fn a_dropped_datagram_is_lost_not_a_hang_nor_an_error() {
    // Every third datagram goes unanswered.
    let s = Server::start("udp4", "127.0.0.1:0", |k, b| {
        (k % 3 != 2).then(|| (b.to_vec(), Duration::ZERO))
    });
    let r = run(&udp_cfg(
        &s.addr(),
        10,
        Duration::from_secs(1),
        Duration::from_millis(50),
    ));
    assert_eq!(r.errors, 0, "{:?}", r.error_kinds);
    assert!(
        r.lost > 0 && r.requests > 0,
        "lost {} requests {}",
        r.lost,
        r.requests
    );
    // About a third lost: the answered ones are the other two.
    assert!(
        r.requests >= r.lost,
        "lost {} of {}",
        r.lost,
        r.requests + r.lost
    );
    assert!(r.text().contains("lost "), "{}", r.text());
    assert!(r.is_clean(), "losses are measured, not errors");
}

#[test]
fn an_echo_after_its_timeout_is_late_and_checked() {
    // The first datagram of each socket comes back after the worker gave up on it.
    let firsts = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let s = Server::start("udp", "127.0.0.1:0", move |_, b| {
        let key = b[8..].to_vec();
        let seq = u64::from_le_bytes(b[..8].try_into().unwrap());
        let first = seq == 1 && firsts.lock().unwrap().insert(key);
        let delay = if first {
            Duration::from_millis(150)
        } else {
            Duration::ZERO
        };
        Some((b.to_vec(), delay))
    });
    let r = run(&udp_cfg(
        &s.addr(),
        4,
        Duration::from_millis(800),
        Duration::from_millis(50),
    ));
    assert_eq!(r.errors, 0, "{:?}", r.error_kinds);
    assert_eq!(r.lost, 4, "each socket's first datagram");
    assert_eq!(
        r.late, 4,
        "and its echo, when it came, was seen and skipped"
    );
    assert!(r.requests > 0);
}

#[test]
fn a_wrong_echo_is_an_error() {
    let s = Server::start("udp", "127.0.0.1:0", |_, b| {
        let mut v = b.to_vec();
        let last = v.len() - 1;
        v[last] ^= 1;
        Some((v, Duration::ZERO))
    });
    let r = run(&udp_cfg(
        &s.addr(),
        3,
        Duration::from_millis(300),
        Duration::from_millis(100),
    ));
    assert_eq!(r.requests, 0);
    assert!(
        r.error_kinds.get("udp: mismatch").copied().unwrap_or(0) > 0,
        "{:?}",
        r.error_kinds
    );
    assert!(!r.is_clean());
}

#[test]
fn nobody_listening_is_connection_refused_and_the_run_still_ends() {
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let r = run(&udp_cfg(
        &format!("127.0.0.1:{port}"),
        2,
        Duration::from_millis(500),
        Duration::from_millis(100),
    ));
    assert_eq!(r.requests, 0);
    let refused = r
        .error_kinds
        .get("read: connection refused")
        .copied()
        .unwrap_or(0)
        + r.error_kinds
            .get("write: connection refused")
            .copied()
            .unwrap_or(0);
    assert!(refused > 0, "{:?}", r.error_kinds);
}

#[test]
fn udp_mode_talks_unixgram_to_a_path() {
    let dir = util::TempDir::new("stress-unixgram");
    let path = dir.sock("echo.sock");
    let s = Server::start("unixgram", &path, echo);
    let cfg = udp_cfg(
        &path,
        20,
        Duration::from_millis(500),
        Duration::from_secs(1),
    );
    assert_eq!(cfg.network(), "unixgram");
    let r = run(&cfg);
    assert_eq!((r.errors, r.ok_conns), (0, 20), "{:?}", r.error_kinds);
    assert!(r.requests > 100);
    drop(s);
}

#[test]
fn preflight_refuses_sizes_that_are_not_one_datagram() {
    for size in [0, 7, 65508] {
        let cfg = Config {
            size,
            ..udp_cfg(
                "127.0.0.1:9",
                1,
                Duration::from_secs(1),
                Duration::from_secs(1),
            )
        };
        let err = engine::preflight(&cfg).unwrap_err();
        assert_eq!(
            err,
            format!("--size in udp mode is one datagram: 8 to 65507 bytes, not {size}")
        );
    }
    let rate = Config {
        rate: Some(1000.0),
        ..udp_cfg(
            "127.0.0.1:9",
            1,
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
    };
    assert!(engine::preflight(&rate).is_ok(), "udp takes --rate");
}

#[test]
fn the_binary_runs_udp_mode() {
    let s = Server::start("udp", "127.0.0.1:0", echo);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gonet-stress"))
        .args([
            "udp",
            "--addr",
            &s.addr(),
            "-c",
            "8",
            "-d",
            "500ms",
            "--json",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the stress binary");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let j: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(j["mode"], "udp");
    assert!(j["requests"].as_u64().unwrap() > 0);
    assert_eq!(j["errors"], 0);
}
