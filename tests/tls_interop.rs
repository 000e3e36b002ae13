//! gonet's TLS against peers nobody here wrote, over loopback: `openssl s_client` and
//! `curl --cacert` against a gonet server, a gonet client against `openssl s_server`,
//! and live Go 1.19 crypto/tls (tests/go/tlspeer) as client and server: TLS 1.2 and
//! 1.3, ALPN, client certificates (required, and missing), SNI choosing between two
//! certificates, resumption.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/tls.rs"]
mod tls_util;
mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use gonet::crypto::tls;
use tls_util::{
    GoServer, Pki, client_config, field, go_client, mtls_server_config, path, server_config,
};

/// A gonet TLS listener serving `n` connections with `handler`, one coroutine each.
fn serve(
    config: &tls::Config,
    n: usize,
    handler: fn(tls::Conn),
) -> (String, may::coroutine::JoinHandle<()>) {
    let ln = tls::listen("tcp", "127.0.0.1:0", config).expect("listen");
    let addr = ln.addr().to_string();
    let h = gonet::go!(move || {
        let mut hs = Vec::new();
        for _ in 0..n {
            let conn = ln.accept().expect("accept");
            hs.push(gonet::go!(move || handler(conn)));
        }
        for h in hs {
            let _ = h.join();
        }
    });
    (addr, h)
}

/// Echoes until end of stream or error.
fn echo(conn: tls::Conn) {
    let mut buf = vec![0u8; 16384];
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 || conn.write(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = conn.close();
}

/// Answers one line with what was negotiated: `VERSION ALPN SNI PEER_CN LINE`.
fn report(conn: tls::Conn) {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while let Ok(1) = conn.read(&mut b) {
        if b[0] == b'\n' {
            break;
        }
        line.push(b[0]);
    }
    let st = conn.connection_state();
    let peer = st
        .peer_certificates
        .first()
        .map(|c| c.subject.common_name.clone())
        .unwrap_or_else(|| "-".into());
    let msg = format!(
        "{} alpn={} sni={} peer={} line={}\n",
        tls::version_name(st.version),
        if st.negotiated_protocol.is_empty() {
            "-"
        } else {
            &st.negotiated_protocol
        },
        if st.server_name.is_empty() {
            "-"
        } else {
            &st.server_name
        },
        peer,
        String::from_utf8_lossy(&line)
    );
    let _ = conn.write(msg.as_bytes());
    let _ = conn.close();
}

/// A minimal HTTP/1.1 responder: reads the request head, answers, closes.
fn http_hello(conn: tls::Conn) {
    let mut head = Vec::new();
    let mut b = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut b) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&b[..n]),
        }
    }
    let body = format!(
        "hello over {}\n",
        tls::version_name(conn.connection_state().version)
    );
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write(resp.as_bytes());
    let _ = conn.close();
}

/// Runs `openssl s_client ARGS` sending `input` (stdin kept open until it exits, so it
/// does not hang up first); returns stdout + stderr.
/// `openssl s_client` to `addr` as "localhost", trusting `ca`, with `extra` flags after.
fn s_client(addr: &str, ca: &Path, extra: &[&str], input: &str) -> String {
    let mut child = Command::new("openssl")
        .arg("s_client")
        .args(["-connect", addr, "-servername", "localhost", "-CAfile"])
        .arg(ca)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client (apt-get install openssl)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    let out = wait_output(child, Duration::from_secs(30));
    drop(stdin);
    out
}

/// Waits (bounded) for a child and returns its stdout and stderr.
fn wait_output(mut child: std::process::Child, limit: Duration) -> String {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let end = std::time::Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("peer still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    format!("{}{}", t1.join().unwrap(), t2.join().unwrap())
}

#[test]
fn openssl_s_client_against_a_gonet_server() {
    util::init();
    let pki = Pki::new("ossl-ca");
    let leaf = pki.server(&["localhost"]);
    let cfg = tls::Config {
        next_protos: vec!["h2".into(), "http/1.1".into()],
        ..server_config(&leaf)
    };
    for (flag, want) in [("-tls1_3", "TLS 1.3"), ("-tls1_2", "TLS 1.2")] {
        let (addr, h) = serve(&cfg, 1, report);
        let out = s_client(
            &addr,
            &pki.ca_file,
            &["-verify_return_error", "-alpn", "http/1.1", flag],
            "from openssl\n",
        );
        h.join().unwrap();
        assert!(
            out.contains(&format!(
                "{want} alpn=http/1.1 sni=localhost peer=- line=from openssl"
            )),
            "{out}"
        );
        assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
        assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    }
}

#[test]
fn openssl_s_client_with_a_client_certificate() {
    let pki = Pki::new("ossl-mtls-ca");
    let leaf = pki.server(&["localhost"]);
    let bob = pki.client("bob");
    let cfg = mtls_server_config(&pki, &leaf);
    let (addr, h) = serve(&cfg, 1, report);
    let out = s_client(
        &addr,
        &pki.ca_file,
        &["-cert", &path(&bob.cert_file), "-key", &path(&bob.key_file)],
        "with a cert\n",
    );
    h.join().unwrap();
    assert!(out.contains("peer=bob line=with a cert"), "{out}");
}

#[test]
fn curl_cacert_against_a_gonet_server() {
    let pki = Pki::new("curl-ca");
    let leaf = pki.server(&["localhost"]);
    for (args, want) in [
        (vec![], "hello over TLS 1.3\n"),
        (
            vec!["--tlsv1.2", "--tls-max", "1.2"],
            "hello over TLS 1.2\n",
        ),
    ] {
        let (addr, h) = serve(&server_config(&leaf), 1, http_hello);
        let port = addr.rsplit(':').next().unwrap();
        let out = Command::new("curl")
            .args(["-sS", "--http1.1", "--max-time", "20", "--cacert"])
            .arg(&pki.ca_file)
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
            .args(&args)
            .arg(format!("https://localhost:{port}/"))
            .output()
            .expect("curl (apt-get install curl)");
        h.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    }
    // curl refuses a certificate it cannot verify, and gonet sees curl's alert.
    let other = Pki::new("curl-other");
    let (addr, h) = serve(&server_config(&leaf), 1, |c| {
        let err = c.handshake().unwrap_err();
        assert_eq!(
            err.to_string(),
            "remote error: tls: unknown certificate authority"
        );
    });
    let port = addr.rsplit(':').next().unwrap();
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(&other.ca_file)
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg(format!("https://localhost:{port}/"))
        .output()
        .unwrap();
    h.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(60),
        "curl's 'peer certificate cannot be authenticated'"
    );
}

/// `openssl s_server ARGS -www`, once it printed its address.
struct SServer {
    child: std::process::Child,
    addr: String,
}

impl SServer {
    fn start(args: &[&str]) -> SServer {
        let mut child = Command::new("openssl")
            .arg("s_server")
            .args(["-accept", "127.0.0.1:0", "-www"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut addr = String::new();
        for _ in 0..20 {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some(a) = line.trim().strip_prefix("ACCEPT ") {
                addr = a.to_string();
                break;
            }
        }
        assert!(!addr.is_empty(), "s_server printed no ACCEPT line");
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        SServer { child, addr }
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fetches s_server's `-www` status page over `conn`.
fn www_page(conn: &tls::Conn) -> String {
    conn.write(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let _ = (&mut &*conn).read_to_end(&mut page);
    String::from_utf8_lossy(&page).into_owned()
}

#[test]
fn gonet_client_against_openssl_s_server() {
    let pki = Pki::new("ssrv-ca");
    let leaf = pki.server(&["localhost"]);
    let alice = pki.client("alice");
    let srv = SServer::start(&[
        "-cert",
        &path(&leaf.cert_file),
        "-key",
        &path(&leaf.key_file),
        "-alpn",
        "h2",
        "-verify",
        "1",
        "-CAfile",
        &path(&pki.ca_file),
    ]);
    for (max, want) in [(0, "TLSv1.3"), (tls::VERSION_TLS12, "TLSv1.2")] {
        let cfg = tls::Config {
            max_version: max,
            next_protos: vec!["h2".into()],
            certificates: vec![alice.cert.clone()],
            ..client_config(&pki, "localhost")
        };
        let conn = tls::dial("tcp", &srv.addr, &cfg).unwrap();
        let st = conn.connection_state();
        assert_eq!(st.negotiated_protocol, "h2");
        assert_eq!(st.peer_certificates[0].dns_names, ["localhost"]);
        let page = www_page(&conn);
        assert!(page.contains("HTTP/1.0 200 ok"), "{page}");
        assert!(page.contains(&format!("Protocol  : {want}")), "{page}");
        // s_server saw and verified our certificate.
        assert!(
            page.contains("CN = alice") || page.contains("CN=alice"),
            "{page}"
        );
    }
}

#[test]
fn go_client_against_a_gonet_server_tls12_tls13_alpn() {
    let pki = Pki::new("goc-ca");
    let leaf = pki.server(&["localhost"]);
    let cfg = tls::Config {
        next_protos: vec!["h2".into(), "http/1.1".into()],
        ..server_config(&leaf)
    };
    for (max, want) in [("13", "TLS 1.3"), ("12", "TLS 1.2")] {
        let (addr, h) = serve(&cfg, 1, echo);
        let out = go_client(&[
            "-addr",
            &addr,
            "-ca",
            &path(&pki.ca_file),
            "-name",
            "localhost",
            "-max",
            max,
            "-alpn",
            "http/1.1,h2",
            "-send",
            "ping from Go",
        ]);
        h.join().unwrap();
        let o = &out[0];
        assert_eq!(field(o, "err"), "", "{o}");
        assert_eq!(field(o, "read_err"), "", "{o}");
        assert_eq!(field(o, "version"), want);
        assert_eq!(field(o, "alpn"), "h2");
        assert_eq!(field(o, "echo"), "ping from Go");
        assert_eq!(o["peer_dns"][0], "localhost");
    }
}

#[test]
fn gonet_client_against_a_go_server_tls12_tls13_alpn_resumption() {
    let pki = Pki::new("gos-ca");
    let leaf = pki.server(&["localhost"]);
    for (max, want) in [
        (0, tls::VERSION_TLS13),
        (tls::VERSION_TLS12, tls::VERSION_TLS12),
    ] {
        let go = GoServer::start(&[
            "-cert",
            &path(&leaf.cert_file),
            "-key",
            &path(&leaf.key_file),
            "-alpn",
            "h2,http/1.1",
            "-n",
            "3",
        ]);
        let cfg = tls::Config {
            max_version: max,
            next_protos: vec!["http/1.1".into()],
            client_session_cache: Some(tls::new_lru_client_session_cache(4)),
            ..client_config(&pki, "localhost")
        };
        for round in 0..3 {
            let mut conn = tls::dial("tcp", &go.addr, &cfg).unwrap();
            let st = conn.connection_state();
            assert_eq!(st.version, want);
            assert_eq!(st.negotiated_protocol, "http/1.1");
            let msg = vec![round as u8 + b'a'; 50_000];
            conn.write_all(&msg).unwrap();
            let mut back = vec![0u8; msg.len()];
            conn.read_exact(&mut back).unwrap();
            assert_eq!(back, msg);
            let resumed = conn.connection_state().did_resume;
            conn.close().unwrap();
            let o = go.outcome();
            assert_eq!(field(&o, "read_err"), "", "{o}");
            assert_eq!(field(&o, "received"), "50000");
            assert_eq!(field(&o, "sni"), "localhost");
            assert_eq!(
                field(&o, "resumed"),
                (round > 0).to_string(),
                "round {round}: {o}"
            );
            assert_eq!(resumed, round > 0, "round {round}");
        }
    }
}

#[test]
fn client_certificates_required_and_missing_with_go_on_either_side() {
    let pki = Pki::new("gomtls-ca");
    let leaf = pki.server(&["localhost"]);
    let carol = pki.client("carol");

    // Go client -> gonet server requiring a verified certificate.
    let cfg = mtls_server_config(&pki, &leaf);
    let (addr, h) = serve(&cfg, 1, report);
    let out = go_client(&[
        "-addr",
        &addr,
        "-ca",
        &path(&pki.ca_file),
        "-name",
        "localhost",
        "-cert",
        &path(&carol.cert_file),
        "-key",
        &path(&carol.key_file),
        "-send",
        "x\n",
    ]);
    h.join().unwrap();
    assert_eq!(field(&out[0], "err"), "");
    assert_eq!(field(&out[0], "peer_cn"), "localhost");
    // The server's report starts with what it saw.
    assert!(field(&out[0], "echo").starts_with("TL"), "{}", out[0]);

    // ... without one: the gonet server fails with Go's text, Go's client hears an alert.
    let (addr, h) = serve(&cfg, 1, |c| {
        assert_eq!(
            c.handshake().unwrap_err().to_string(),
            "tls: client didn't provide a certificate"
        );
    });
    let out = go_client(&[
        "-addr",
        &addr,
        "-ca",
        &path(&pki.ca_file),
        "-name",
        "localhost",
    ]);
    h.join().unwrap();
    let seen = format!("{}{}", field(&out[0], "err"), field(&out[0], "read_err"));
    assert!(seen.starts_with("remote error: tls: "), "{}", out[0]);

    // gonet client -> Go server requiring one (ClientAuth 4), with and without.
    let go = GoServer::start(&[
        "-cert",
        &path(&leaf.cert_file),
        "-key",
        &path(&leaf.key_file),
        "-clientauth",
        "4",
        "-ca",
        &path(&pki.ca_file),
        "-n",
        "2",
    ]);
    let with = tls::Config {
        certificates: vec![carol.cert.clone()],
        ..client_config(&pki, "localhost")
    };
    let conn = tls::dial("tcp", &go.addr, &with).unwrap();
    conn.write(b"hi").unwrap();
    let mut b = [0u8; 2];
    conn.read_full(&mut b).unwrap();
    conn.close().unwrap();
    assert_eq!(field(&go.outcome(), "peer_cn"), "carol");
    let without = client_config(&pki, "localhost");
    let err = match tls::dial("tcp", &go.addr, &without) {
        Ok(c) => c.read(&mut [0u8; 4]).unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(err.to_string(), "remote error: tls: bad certificate");
    assert_eq!(
        field(&go.outcome(), "err"),
        "tls: client didn't provide a certificate"
    );
}

#[test]
fn sni_chooses_between_two_certificates_with_go_on_either_side() {
    let pki = Pki::new("gosni-ca");
    let one = pki.server(&["one.example"]);
    let two = pki.server(&["two.example"]);
    // Go client -> gonet server with both.
    let cfg = tls::Config {
        certificates: vec![one.cert.clone(), two.cert.clone()],
        ..Default::default()
    };
    for name in ["one.example", "two.example"] {
        let (addr, h) = serve(&cfg, 1, echo);
        let out = go_client(&["-addr", &addr, "-ca", &path(&pki.ca_file), "-name", name]);
        h.join().unwrap();
        assert_eq!(field(&out[0], "err"), "", "{}", out[0]);
        assert_eq!(out[0]["peer_dns"][0], name);
    }
    // gonet client -> Go server with both.
    let go = GoServer::start(&[
        "-cert",
        &path(&one.cert_file),
        "-key",
        &path(&one.key_file),
        "-cert2",
        &path(&two.cert_file),
        "-key2",
        &path(&two.key_file),
        "-n",
        "2",
    ]);
    for name in ["one.example", "two.example"] {
        let conn = tls::dial("tcp", &go.addr, &client_config(&pki, name)).unwrap();
        assert_eq!(
            conn.connection_state().peer_certificates[0].dns_names,
            [name]
        );
        conn.close().unwrap();
        assert_eq!(field(&go.outcome(), "sni"), name);
    }
}

#[test]
fn a_gonet_server_survives_many_go_clients_at_once() {
    // 200 Go dials in one Go process (sequential handshakes, each its own conn), while
    // the server runs each conn in its own coroutine.
    let pki = Pki::new("gomany-ca");
    let leaf = pki.server(&["localhost"]);
    let ln = Arc::new(tls::listen("tcp", "127.0.0.1:0", &server_config(&leaf)).unwrap());
    let addr = ln.addr().to_string();
    let l2 = ln.clone();
    let h = gonet::go!(move || {
        while let Ok(c) = l2.accept() {
            gonet::go!(move || echo(c));
        }
    });
    let out = go_client(&[
        "-addr",
        &addr,
        "-ca",
        &path(&pki.ca_file),
        "-name",
        "localhost",
        "-n",
        "200",
    ]);
    ln.close().unwrap();
    h.join().unwrap();
    assert_eq!(out.len(), 200);
    assert!(
        out.iter().all(|o| field(o, "echo") == "hello"),
        "{:?}",
        out.iter().find(|o| field(o, "echo") != "hello")
    );
}
