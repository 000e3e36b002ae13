//! Past one client process and one source address: `--procs N` (N client processes whose
//! counts and HDR histograms merge into one report), `--source-ips` (connections bound to
//! source addresses in turn) and `--greeting` (a server's first line read before the
//! mode starts), against a gonet server in this process that records who connected.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet_stress as engine;
use gonet_stress::{Config, Live, Mode, Report};

/// A gonet echo server that counts its connections by the client's IP, optionally
/// greeting each one with a line first.
struct Recorder {
    ln: Arc<gonet::Listener>,
    by_ip: Arc<Mutex<BTreeMap<IpAddr, usize>>>,
}

impl Recorder {
    fn start(greet: bool) -> Recorder {
        let ln = Arc::new(gonet::listen("tcp", "127.0.0.1:0").expect("listen"));
        let by_ip = Arc::new(Mutex::new(BTreeMap::new()));
        let (l2, b2) = (ln.clone(), by_ip.clone());
        gonet::go!(move || loop {
            match l2.accept() {
                Ok(conn) => {
                    let ip = conn.remote_addr().socket_addr().expect("tcp").ip();
                    *b2.lock().unwrap().entry(ip).or_insert(0) += 1;
                    gonet::go!(move || {
                        if greet {
                            let hello = format!("remote={} pid=1\n", conn.remote_addr());
                            if conn.write(hello.as_bytes()).is_err() {
                                return;
                            }
                        }
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = conn.read(&mut buf) {
                            if n == 0 || conn.write(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    });
                }
                Err(e) if gonet::is_closed(&e) => return,
                Err(_) => gonet::time::sleep(Duration::from_millis(5)),
            }
        });
        Recorder { ln, by_ip }
    }

    fn addr(&self) -> String {
        self.ln.addr().to_string()
    }

    fn by_ip(&self) -> BTreeMap<IpAddr, usize> {
        self.by_ip.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.ln.close();
    }
}

fn run(cfg: &Config) -> Report {
    engine::preflight(cfg).unwrap_or_else(|e| panic!("preflight refused the run: {e}"));
    let report = engine::run(cfg, Arc::new(Live::new()));
    eprintln!("{}", report.text());
    report
}

/// Runs the binary with a time limit; returns (exit code, stdout, stderr).
fn run_bin(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gonet-stress"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gonet-stress");
    let end = Instant::now() + limit;
    // The exit of another process has no event to park on: poll it, bounded.
    while child.try_wait().expect("waitpid").is_none() {
        if Instant::now() >= end {
            let _ = child.kill();
            panic!("gonet-stress {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--source-ips 127.0.0.2-127.0.0.4`: 300 connections arrive from the three addresses,
/// 100 each, every one proved by its round trip.
#[test]
fn source_ips_spread_connections_evenly_over_the_addresses() {
    let srv = Recorder::start(false);
    let ips = engine::parse_source_ips("127.0.0.2-127.0.0.4").unwrap();
    let r = run(&Config {
        conns: 300,
        duration: Duration::from_millis(300),
        size: 16,
        source_ips: ips.clone(),
        ..Config::new(Mode::Idle, srv.addr())
    });
    assert!(r.is_clean(), "{}", r.text());
    assert_eq!(r.requests, 300, "one proof round trip each");
    let want: BTreeMap<IpAddr, usize> = ips.iter().map(|ip| (*ip, 100)).collect();
    assert_eq!(srv.by_ip(), want);
}

/// The forms `--source-ips` takes, and its errors.
#[test]
fn source_ips_parse_ranges_and_lists() {
    let ips = |s: &str| -> Vec<String> {
        engine::parse_source_ips(s)
            .unwrap()
            .iter()
            .map(|ip| ip.to_string())
            .collect()
    };
    assert_eq!(
        ips("127.0.0.2-127.0.0.4"),
        ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    );
    assert_eq!(ips("127.0.0.9"), ["127.0.0.9"]);
    assert_eq!(
        ips("127.0.0.2, 127.0.0.7,::1"),
        ["127.0.0.2", "127.0.0.7", "::1"]
    );
    assert_eq!(ips("127.0.0.255-127.0.1.0"), ["127.0.0.255", "127.0.1.0"]);
    assert_eq!(ips("::1-::2"), ["::1", "::2"]);
    let err = |s: &str| engine::parse_source_ips(s).unwrap_err();
    assert_eq!(
        err("127.0.0.9-127.0.0.2"),
        "source range \"127.0.0.9-127.0.0.2\" ends before it starts"
    );
    assert_eq!(
        err("127.0.0.1-::1"),
        "source range \"127.0.0.1-::1\" mixes IPv4 and IPv6"
    );
    assert_eq!(
        err("127.0.0.x"),
        "invalid source address \"127.0.0.x\" in \"127.0.0.x\""
    );
    assert_eq!(
        err("10.0.0.0-10.1.0.0"),
        "source range \"10.0.0.0-10.1.0.0\" has more than 65536 addresses"
    );
}

/// More connections than one source address has ports are refused up front, with the
/// way out named; with enough source addresses (and processes for the descriptors) the
/// same run passes preflight.
#[test]
fn preflight_counts_ports_per_source_address_and_descriptors_per_process() {
    let ports = engine::local_port_count().expect("ip_local_port_range") as usize;
    let (_, hard) = engine::nofile_limit().expect("getrlimit");
    let conns = ports + 1000;
    let procs = conns.div_ceil(hard as usize / 2) + 1;
    let c = Config {
        conns,
        procs,
        ..Config::new(Mode::Idle, "127.0.0.1:1")
    };
    let err = engine::preflight(&c).expect_err("more conns than one address's ports");
    assert!(err.contains("per source address"), "{err}");
    assert!(err.contains("--source-ips 127.0.0.2-127.0.0.9"), "{err}");
    let two = engine::parse_source_ips("127.0.0.2-127.0.0.3").unwrap();
    let ok = Config {
        source_ips: two.clone(),
        ..c.clone()
    };
    assert_eq!(engine::preflight(&ok), Ok(()));
    // In one process the same connections need more descriptors than the limit.
    let err = engine::preflight(&Config {
        procs: 1,
        ..ok.clone()
    })
    .expect_err("one process cannot hold them");
    assert!(err.contains("connections fit in one process"), "{err}");
    assert!(err.contains("--procs"), "{err}");
    let err = engine::preflight(&Config {
        procs: conns + 1,
        ..ok.clone()
    })
    .unwrap_err();
    assert_eq!(
        err,
        format!("--procs must be 1 to --conns ({conns}), not {}", conns + 1)
    );
    let err = engine::preflight(&Config {
        conns: 10,
        source_ips: two,
        ..Config::new(Mode::Echo, "/tmp/x.sock")
    })
    .unwrap_err();
    assert_eq!(
        err,
        "--source-ips applies to TCP addresses, not to unix (/tmp/x.sock)"
    );
}

/// `--greeting` against a server that greets: every echo checks out; without it the
/// greeting is taken for the echo and every proof fails as a mismatch.
#[test]
fn greeting_is_read_before_the_first_request() {
    let srv = Recorder::start(true);
    let base = Config {
        conns: 50,
        duration: Duration::from_millis(500),
        size: 32,
        ..Config::new(Mode::Echo, srv.addr())
    };
    let r = run(&Config {
        greeting: true,
        ..base.clone()
    });
    assert!(r.is_clean(), "{}", r.text());
    assert!(r.requests >= 50, "{}", r.text());
    let r = run(&Config {
        mode: Mode::Idle,
        ..base
    });
    assert_eq!(r.ok_conns, 0, "{}", r.text());
    assert_eq!(
        r.error_kinds.get("echo: mismatch"),
        Some(&50),
        "{}",
        r.text()
    );
}

/// A server that never greets: `--greeting` gives up after --timeout, counted as
/// `greeting: i/o timeout`.
#[test]
fn greeting_that_never_comes_times_out() {
    let srv = Recorder::start(false);
    let r = run(&Config {
        conns: 20,
        duration: Duration::from_millis(200),
        timeout: Duration::from_millis(300),
        greeting: true,
        ..Config::new(Mode::Idle, srv.addr())
    });
    assert_eq!(r.ok_conns, 0, "{}", r.text());
    assert_eq!(
        r.error_kinds.get("greeting: i/o timeout"),
        Some(&20),
        "{}",
        r.text()
    );
}

/// `--procs 3 --json` with 301 connections over 3 source addresses: one merged report
/// (301 conns, all ok, 301 proofs, one histogram of 301 dial times), the server saw
/// every connection, spread over the addresses.
#[test]
fn procs_merge_three_processes_into_one_report() {
    let srv = Recorder::start(true);
    let addr = srv.addr();
    let args = [
        "idle",
        "--addr",
        &addr,
        "-c",
        "301",
        "-d",
        "1s",
        "-s",
        "8",
        "--procs",
        "3",
        "--source-ips",
        "127.0.0.2-127.0.0.4",
        "--greeting",
        "--json",
    ];
    let (code, stdout, stderr) = run_bin(&args, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(v["conns"], 301);
    assert_eq!(v["ok_conns"], 301);
    assert_eq!(v["requests"], 301);
    assert_eq!(v["errors"], 0);
    assert!(v["p50_us"].as_u64().unwrap() > 0, "{v}");
    let by_ip = srv.by_ip();
    assert_eq!(by_ip.values().sum::<usize>(), 301, "{by_ip:?}");
    assert_eq!(by_ip.len(), 3, "{by_ip:?}");
    assert!(by_ip.values().all(|&n| n == 100 || n == 101), "{by_ip:?}");
}

/// A --procs run's processes that cannot run their share (the server is gone) still
/// report, and the merged errors count every connection.
#[test]
fn procs_merge_the_errors_of_every_process() {
    let addr = {
        let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
        ln.addr().to_string()
    }; // closed: dials are refused
    let args = [
        "idle", "--addr", &addr, "-c", "40", "-d", "1s", "--procs", "4", "--json",
    ];
    let (code, stdout, stderr) = run_bin(&args, Duration::from_secs(60));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(v["conns"], 40);
    assert_eq!(v["ok_conns"], 0);
    assert_eq!(v["error_kinds"]["dial: connection refused"], 40, "{v}");
}

/// The wire form a process sends its parent reads back as the same report, and merging
/// two adds their counts and histograms.
#[test]
fn report_wire_form_round_trips_and_merges() {
    let srv = Recorder::start(false);
    let r = run(&Config {
        conns: 20,
        duration: Duration::from_millis(300),
        ..Config::new(Mode::Echo, srv.addr())
    });
    let back = Report::from_wire(&r.to_wire()).expect("a wire report");
    assert_eq!(back.to_json(), r.to_json());
    assert_eq!(back.latency, r.latency);
    let mut twice = Report::from_wire(&r.to_wire()).unwrap();
    twice.merge(back);
    assert_eq!(twice.conns, 40);
    assert_eq!(twice.requests, 2 * r.requests);
    assert_eq!(twice.latency.len(), 2 * r.latency.len());
    assert_eq!(twice.quantile_us(0.5), r.quantile_us(0.5));
    assert_eq!(twice.elapsed, r.elapsed);
    assert!(Report::from_wire(&serde_json::json!({"mode": "echo"})).is_none());
}

/// The slices of connection numbers the processes get cover the run exactly once.
#[test]
fn shares_cover_every_connection_once() {
    for (conns, procs) in [(10, 3), (60_000, 4), (7, 7), (5, 1)] {
        let mut next = 0;
        for i in 0..procs {
            let (first, count) = engine::share(conns, procs, i);
            assert_eq!(first, next);
            assert!(count == conns / procs || count == conns / procs + 1);
            next += count;
        }
        assert_eq!(next, conns);
    }
    assert_eq!(engine::parse_child("10:5"), Some((10, 5)));
    assert_eq!(engine::parse_child("10"), None);
}

/// `--help` explains the three options.
#[test]
fn help_explains_procs_source_ips_and_greeting() {
    let (code, stdout, _) = run_bin(&["--help"], Duration::from_secs(30));
    assert_eq!(code, Some(0));
    for needle in [
        "--procs",
        "--source-ips",
        "127.0.0.2-127.0.0.9",
        "--greeting",
    ] {
        assert!(stdout.contains(needle), "--help lacks {needle}:\n{stdout}");
    }
}
