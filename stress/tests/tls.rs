//! `--tls`: echo, http and burst over gonet::crypto::tls, in-process (the engine with
//! `Config::tls`) and through the command line (`--tls --ca FILE`, `--tls --insecure`),
//! against gonet TLS servers with every echoed byte checked.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use gonet::crypto::{tls, x509};
use gonet_stress::{self as engine, Config, Live, Mode};

/// A self-signed certificate for localhost and 127.0.0.1, as (server config, CA PEM).
fn certificate() -> (tls::Config, String) {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let ck = rcgen::generate_simple_self_signed(names).unwrap();
    let cert = tls::x509_key_pair(
        ck.cert.pem().as_bytes(),
        ck.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let cfg = tls::Config {
        certificates: vec![cert],
        ..Default::default()
    };
    (cfg, ck.cert.pem())
}

/// A TLS server on 127.0.0.1 running `handler` per connection; stops when dropped.
struct Srv {
    server: gonet::Server,
    addr: String,
}

impl Srv {
    fn start(cfg: &tls::Config, handler: fn(tls::Conn)) -> Srv {
        let server = gonet::Server::new();
        let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
        let addr = ln.addr().to_string();
        let s = server.clone();
        let cfg = cfg.clone();
        gonet::go!(move || s.serve_tls(ln, &cfg, handler));
        Srv { server, addr }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        self.server.shutdown(Duration::from_secs(2));
    }
}

fn echo(conn: tls::Conn) {
    let mut buf = vec![0u8; 16384];
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 || conn.write(&buf[..n]).is_err() {
            break;
        }
    }
}

/// Keep-alive HTTP/1.1: "hello" for every request head.
fn http(conn: tls::Conn) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            let resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
            if conn.write(resp.as_bytes()).is_err() {
                return;
            }
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

fn run(cfg: &Config) -> engine::Report {
    engine::preflight(cfg).unwrap();
    engine::run(cfg, Arc::new(Live::new()))
}

fn tls_client(ca_pem: &str) -> Arc<tls::Config> {
    let mut pool = x509::CertPool::new();
    assert!(pool.append_certs_from_pem(ca_pem.as_bytes()));
    Arc::new(tls::Config {
        root_cas: Some(pool),
        server_name: "localhost".into(),
        ..Default::default()
    })
}

#[test]
fn echo_http_and_burst_over_tls_in_process() {
    let (scfg, ca) = certificate();
    let srv = Srv::start(&scfg, echo);
    let r = run(&Config {
        conns: 50,
        duration: Duration::from_millis(800),
        size: 3000,
        tls: Some(tls_client(&ca)),
        ..Config::new(Mode::Echo, srv.addr.clone())
    });
    assert_eq!(r.errors, 0, "{:?}", r.error_kinds);
    assert_eq!(r.ok_conns, 50);
    assert!(r.requests > 50, "{}", r.requests);

    let r = run(&Config {
        conns: 200,
        size: 16,
        tls: Some(tls_client(&ca)),
        ..Config::new(Mode::Burst, srv.addr.clone())
    });
    assert_eq!(r.errors, 0, "{:?}", r.error_kinds);
    assert_eq!(r.ok_conns, 200);

    let hsrv = Srv::start(&scfg, http);
    let r = run(&Config {
        conns: 20,
        duration: Duration::from_millis(800),
        tls: Some(tls_client(&ca)),
        ..Config::new(Mode::Http, hsrv.addr.clone())
    });
    assert_eq!(r.errors, 0, "{:?}", r.error_kinds);
    assert_eq!(r.statuses.get(&200).copied(), Some(r.requests));
}

#[test]
fn a_certificate_nobody_trusts_is_a_dial_error_in_gos_words() {
    let (scfg, _) = certificate();
    let (_, other_ca) = certificate();
    let srv = Srv::start(&scfg, echo);
    let r = run(&Config {
        conns: 5,
        duration: Duration::from_millis(300),
        tls: Some(tls_client(&other_ca)),
        ..Config::new(Mode::Echo, srv.addr.clone())
    });
    assert_eq!(r.ok_conns, 0);
    assert!(
        r.error_kinds
            .keys()
            .any(|k| k == "dial: certificate signed by unknown authority"),
        "{:?}",
        r.error_kinds
    );
}

#[test]
fn the_command_line_takes_tls_with_ca_or_insecure() {
    let (scfg, ca) = certificate();
    let dir = std::env::temp_dir().join(format!("gonet-stress-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let srv = Srv::start(&scfg, echo);
    let hsrv = Srv::start(&scfg, http);
    let stress = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gonet-stress"))
            .args(args)
            .args(["-c", "10", "-d", "2s", "--json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), json)
    };
    let ca_path = ca_file.to_str().unwrap();
    for (mode, addr) in [("echo", &srv.addr), ("http", &hsrv.addr)] {
        let (code, j) = stress(&[
            mode,
            "--addr",
            addr,
            "--tls",
            "--ca",
            ca_path,
            "--server-name",
            "localhost",
        ]);
        assert_eq!(code, Some(0), "{j}");
        assert_eq!(j["errors"], 0, "{j}");
        let (code, j) = stress(&[mode, "--addr", addr, "--tls", "--insecure"]);
        assert_eq!(code, Some(0), "{j}");
        assert!(j["requests"].as_u64().unwrap() > 0, "{j}");
    }
    // --tls alone is refused before the run starts.
    let out = Command::new(env!("CARGO_BIN_EXE_gonet-stress"))
        .args(["echo", "--addr", &srv.addr, "--tls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls needs --ca FILE or --insecure"));
    let _ = std::fs::remove_dir_all(&dir);
}
