//! TLS failures: the error text gonet returns equals the one live Go 1.19 returns for the
//! same failure, row by row (docs/PORTING.md has the table).
//!
//! Each row runs twice against the same Go peer (tests/go/tlspeer): once with Go in the
//! role under test, once with gonet in it, and compares what the two say. A server-side
//! row puts a Go client in front of a Go server, then of a gonet server; a client-side
//! row puts a Go client, then a gonet client, in front of a Go server (or of a plain
//! peer both meet the same way). Ports and clock times are masked; nothing else is.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/tls.rs"]
mod tls_util;
mod util;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use gonet::crypto::tls;
use tls_util::{GoServer, Leaf, Pki, field, go_client, path};

/// A server's configuration, for Go (flags) and for gonet (a `Config`).
#[derive(Clone, Default)]
struct ServerSpec {
    min: &'static str,
    max: &'static str,
    alpn: &'static str,
    client_auth: i32,
    ciphers: &'static str,
}

/// A client's configuration, for Go (flags) and for gonet (a `Config`).
#[derive(Clone, Default)]
struct ClientSpec {
    name: &'static str,
    min: &'static str,
    max: &'static str,
    alpn: &'static str,
    ciphers: &'static str,
    /// Send this certificate whatever the server asks for (Go's GetClientCertificate).
    force_cert: bool,
    no_name: bool,
}

fn version(v: &str) -> u16 {
    match v {
        "12" => tls::VERSION_TLS12,
        "13" => tls::VERSION_TLS13,
        _ => 0,
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

fn ciphers(s: &str) -> Vec<u16> {
    list(s)
        .iter()
        .map(|c| u16::from_str_radix(c.trim_start_matches("0x"), 16).unwrap())
        .collect()
}

fn go_server_args(leaf: &Leaf, ca: &Pki, s: &ServerSpec) -> Vec<String> {
    let mut a = vec![
        "-cert".into(),
        path(&leaf.cert_file),
        "-key".into(),
        path(&leaf.key_file),
        "-ca".into(),
        path(&ca.ca_file),
        "-clientauth".into(),
        s.client_auth.to_string(),
        "-timeout".into(),
        "300ms".into(),
    ];
    for (flag, v) in [
        ("-min", s.min),
        ("-max", s.max),
        ("-alpn", s.alpn),
        ("-ciphers", s.ciphers),
    ] {
        if !v.is_empty() {
            a.push(flag.into());
            a.push(v.into());
        }
    }
    a
}

fn gonet_server_config(leaf: &Leaf, ca: &Pki, s: &ServerSpec) -> tls::Config {
    tls::Config {
        certificates: vec![leaf.cert.clone()],
        min_version: version(s.min),
        max_version: version(s.max),
        next_protos: list(s.alpn),
        client_auth: match s.client_auth {
            1 => tls::ClientAuthType::RequestClientCert,
            2 => tls::ClientAuthType::RequireAnyClientCert,
            3 => tls::ClientAuthType::VerifyClientCertIfGiven,
            4 => tls::ClientAuthType::RequireAndVerifyClientCert,
            _ => tls::ClientAuthType::NoClientCert,
        },
        client_cas: Some(ca.pool()),
        cipher_suites: ciphers(s.ciphers),
        ..Default::default()
    }
}

fn go_client_args(addr: &str, ca: &Pki, cert: Option<&Leaf>, c: &ClientSpec) -> Vec<String> {
    let mut a = vec![
        "-addr".into(),
        addr.into(),
        "-ca".into(),
        path(&ca.ca_file),
        "-timeout".into(),
        "2s".into(),
    ];
    if !c.name.is_empty() {
        a.push("-name".into());
        a.push(c.name.into());
    }
    for (flag, v) in [
        ("-min", c.min),
        ("-max", c.max),
        ("-alpn", c.alpn),
        ("-ciphers", c.ciphers),
    ] {
        if !v.is_empty() {
            a.push(flag.into());
            a.push(v.into());
        }
    }
    if let Some(l) = cert {
        a.extend([
            "-cert".into(),
            path(&l.cert_file),
            "-key".into(),
            path(&l.key_file),
        ]);
    }
    if c.force_cert {
        a.push("-forcecert".into());
    }
    if c.no_name {
        a.push("-noname".into());
    }
    a
}

fn gonet_client_config(ca: &Pki, cert: Option<&Leaf>, c: &ClientSpec) -> tls::Config {
    tls::Config {
        root_cas: Some(ca.pool()),
        server_name: c.name.into(),
        min_version: version(c.min),
        max_version: version(c.max),
        next_protos: list(c.alpn),
        cipher_suites: ciphers(c.ciphers),
        certificates: cert.map(|l| vec![l.cert.clone()]).unwrap_or_default(),
        ..Default::default()
    }
}

/// Go's error as a client: the handshake's, else the first read's.
fn go_client_error(args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = &go_client(&args)[0];
    let e = field(o, "err");
    if e.is_empty() {
        field(o, "read_err")
    } else {
        e
    }
}

/// gonet's error as a client, the same way.
fn gonet_client_error(addr: &str, cfg: &tls::Config, no_name: bool) -> String {
    let conn = if no_name {
        let raw = gonet::dial("tcp", addr).unwrap();
        let c = tls::client(raw, cfg);
        c.handshake().map(|_| c)
    } else {
        tls::dial_with_dialer(
            &gonet::Dialer {
                timeout: Some(Duration::from_secs(2)),
                ..Default::default()
            },
            "tcp",
            addr,
            cfg,
        )
    };
    match conn {
        Err(e) => e.to_string(),
        Ok(c) => {
            c.set_deadline(Some(Instant::now() + Duration::from_secs(2)))
                .unwrap();
            let r = c.write(b"hello").and_then(|_| c.read_full(&mut [0u8; 5]));
            match r {
                Err(e) => e.to_string(),
                Ok(()) => String::new(),
            }
        }
    }
}

/// What a gonet server's handshake says when `client` runs against it.
fn gonet_server_error(cfg: &tls::Config, client: impl FnOnce(&str)) -> String {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let cfg = cfg.clone();
    let h = gonet::go!(move || {
        let raw = ln.accept().unwrap();
        raw.set_deadline(Some(Instant::now() + Duration::from_millis(300)))
            .unwrap();
        let conn = tls::server(raw, &cfg);
        let r = conn.handshake();
        // Finish like Go's tlspeer: read until the client is done, for its sake.
        if r.is_ok() {
            let _ = conn.set_deadline(Some(Instant::now() + Duration::from_secs(2)));
            let mut b = [0u8; 64];
            while let Ok(n) = conn.read(&mut b) {
                if n == 0 || conn.write(&b[..n]).is_err() {
                    break;
                }
            }
        }
        let _ = conn.close();
        r.err().map(|e| e.to_string()).unwrap_or_default()
    });
    client(&addr);
    h.join().unwrap()
}

/// What Go's server says when `client` runs against it.
fn go_server_error(args: &[String], client: impl FnOnce(&str)) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let go = GoServer::start(&args);
    client(&go.addr);
    let o = go.outcome();
    let e = field(&o, "err");
    if e.is_empty() {
        field(&o, "read_err")
    } else {
        e
    }
}

/// Masks what differs between runs: ports, and RFC 3339 clock times.
fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ':' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            if digits.len() >= 4 {
                out.push_str("PORT");
            } else {
                out.push_str(&digits);
            }
        }
    }
    // 2026-12-02T03:04:05Z -> TIME (the current time only: a fixed date stays).
    let mut masked = out.clone();
    if let Some(i) = out.find("current time ") {
        let start = i + "current time ".len();
        if out.len() >= start + 20 {
            masked.replace_range(start..start + 20, "TIME");
        }
    }
    masked
}

struct Row {
    case: &'static str,
    go: String,
    gonet: String,
    /// Why the texts differ, for the rows where rustls cannot tell what Go tells.
    differs: Option<&'static str>,
}

fn plain_peer(respond: fn(gonet::Conn)) -> (String, may::coroutine::JoinHandle<()>) {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let h = gonet::go!(move || {
        for _ in 0..2 {
            let Ok(c) = ln.accept() else { return };
            c.set_deadline(Some(Instant::now() + Duration::from_secs(5)))
                .unwrap();
            respond(c);
        }
    });
    (addr, h)
}

#[test]
fn tls_failures_read_as_go_1_19_reads_them() {
    util::init();
    let pki = Pki::new("parity-ca");
    let other = Pki::new("parity-other");
    let good = pki.server(&["localhost"]);
    let self_signed = pki.self_signed(&["localhost"]);
    let expired = pki.expired_server(&["localhost"]);
    let dave = pki.client("dave");
    let stranger = other.client("stranger");
    let mut rows: Vec<Row> = Vec::new();

    // Client-side rows against a Go server.
    let client_row = |case, leaf: &Leaf, s: ServerSpec, c: ClientSpec, cert: Option<&Leaf>| {
        let sargs = go_server_args(leaf, &pki, &s);
        let go = {
            let srv = GoServer::start(&sargs.iter().map(String::as_str).collect::<Vec<_>>());
            go_client_error(&go_client_args(&srv.addr, &pki, cert, &c))
        };
        let gonet = {
            let srv = GoServer::start(&sargs.iter().map(String::as_str).collect::<Vec<_>>());
            gonet_client_error(&srv.addr, &gonet_client_config(&pki, cert, &c), c.no_name)
        };
        Row {
            case,
            go,
            gonet,
            differs: None,
        }
    };
    // Server-side rows behind a Go client.
    let server_row = |case, leaf: &Leaf, s: ServerSpec, c: ClientSpec, cert: Option<&Leaf>| {
        let go = go_server_error(&go_server_args(leaf, &pki, &s), |addr| {
            let _ = go_client_error(&go_client_args(addr, &pki, cert, &c));
        });
        let gonet = gonet_server_error(&gonet_server_config(leaf, &pki, &s), |addr| {
            let _ = go_client_error(&go_client_args(addr, &pki, cert, &c));
        });
        Row {
            case,
            go,
            gonet,
            differs: None,
        }
    };
    let named = |name| ClientSpec {
        name,
        ..Default::default()
    };

    rows.push(client_row(
        "client: server certificate from an unknown CA",
        &self_signed,
        ServerSpec::default(),
        named("localhost"),
        None,
    ));
    rows.push(server_row(
        "server: client rejects our certificate (unknown CA)",
        &self_signed,
        ServerSpec::default(),
        named("localhost"),
        None,
    ));
    rows.push(client_row(
        "client: certificate for another name",
        &good,
        ServerSpec::default(),
        named("example.com"),
        None,
    ));
    rows.push(client_row(
        "client: IP address, certificate without IP SANs",
        &good,
        ServerSpec::default(),
        named("127.0.0.1"),
        None,
    ));
    rows.push(client_row(
        "client: expired certificate",
        &expired,
        ServerSpec::default(),
        named("localhost"),
        None,
    ));
    rows.push(client_row(
        "client: no ServerName and no InsecureSkipVerify",
        &good,
        ServerSpec::default(),
        ClientSpec {
            no_name: true,
            ..Default::default()
        },
        None,
    ));
    let require = ServerSpec {
        client_auth: 4,
        ..Default::default()
    };
    rows.push(server_row(
        "server: required client certificate missing",
        &good,
        require.clone(),
        named("localhost"),
        None,
    ));
    rows.push(client_row(
        "client: required client certificate missing",
        &good,
        require.clone(),
        named("localhost"),
        None,
    ));
    rows.push(server_row(
        "server: client certificate from an unknown CA",
        &good,
        require.clone(),
        ClientSpec {
            force_cert: true,
            ..named("localhost")
        },
        Some(&stranger),
    ));
    let only13 = ServerSpec {
        min: "13",
        ..Default::default()
    };
    let client12 = ClientSpec {
        max: "12",
        ..named("localhost")
    };
    rows.push(server_row(
        "server: client offers only TLS 1.2, server wants 1.3",
        &good,
        only13.clone(),
        client12.clone(),
        None,
    ));
    rows.push(client_row(
        "client: offers only TLS 1.2, server wants 1.3",
        &good,
        only13,
        client12,
        None,
    ));
    let only12 = ServerSpec {
        max: "12",
        ..Default::default()
    };
    let client13 = ClientSpec {
        min: "13",
        ..named("localhost")
    };
    rows.push(server_row(
        "server: client offers only TLS 1.3, server allows 1.2",
        &good,
        only12,
        client13,
        None,
    ));
    let h2 = ServerSpec {
        alpn: "h2",
        ..Default::default()
    };
    let h1 = ClientSpec {
        alpn: "spdy/3,stun.nat-discovery",
        ..named("localhost")
    };
    rows.push(server_row(
        "server: no ALPN protocol in common",
        &good,
        h2.clone(),
        h1.clone(),
        None,
    ));
    rows.push(client_row(
        "client: no ALPN protocol in common",
        &good,
        h2,
        h1,
        None,
    ));
    let suites_s = ServerSpec {
        max: "12",
        ciphers: "0xc02b",
        ..Default::default()
    };
    let suites_c = ClientSpec {
        max: "12",
        ciphers: "0xcca9",
        ..named("localhost")
    };
    rows.push(server_row(
        "server: no TLS 1.2 cipher suite in common",
        &good,
        suites_s.clone(),
        suites_c.clone(),
        None,
    ));
    rows.push(client_row(
        "client: no TLS 1.2 cipher suite in common",
        &good,
        suites_s,
        suites_c,
        None,
    ));

    // A plaintext client on a TLS port (the same raw bytes to Go and to gonet).
    let plaintext = |addr: &str| {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut sink = Vec::new();
        let _ = c.read_to_end(&mut sink);
    };
    rows.push(Row {
        case: "server: plaintext HTTP to a TLS port",
        go: go_server_error(
            &go_server_args(&good, &pki, &ServerSpec::default()),
            plaintext,
        ),
        gonet: gonet_server_error(
            &gonet_server_config(&good, &pki, &ServerSpec::default()),
            plaintext,
        ),
        differs: None,
    });
    // A client that connects and says nothing: the handshake hits the read deadline.
    let silent = |addr: &str| {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = c.read(&mut [0u8; 1]);
    };
    rows.push(Row {
        case: "server: client sends nothing (read deadline)",
        go: go_server_error(&go_server_args(&good, &pki, &ServerSpec::default()), silent),
        gonet: gonet_server_error(
            &gonet_server_config(&good, &pki, &ServerSpec::default()),
            silent,
        ),
        differs: None,
    });
    // A client that connects and hangs up.
    let hangup = |addr: &str| drop(std::net::TcpStream::connect(addr).unwrap());
    rows.push(Row {
        case: "server: client hangs up before its hello",
        go: go_server_error(&go_server_args(&good, &pki, &ServerSpec::default()), hangup),
        gonet: gonet_server_error(
            &gonet_server_config(&good, &pki, &ServerSpec::default()),
            hangup,
        ),
        differs: None,
    });

    // TLS clients dialing plaintext servers (one peer, met by Go then by gonet).
    let (addr, h) = plain_peer(|c| {
        let mut b = [0u8; 512];
        let _ = c.read(&mut b);
        let _ = c.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
    rows.push(Row {
        case: "client: TLS to a plaintext HTTP server",
        go: go_client_error(&go_client_args(&addr, &pki, None, &named("localhost"))),
        gonet: gonet_client_error(
            &addr,
            &gonet_client_config(&pki, None, &named("localhost")),
            false,
        ),
        differs: None,
    });
    h.join().unwrap();
    let (addr, h) = plain_peer(|c| {
        // An echo server: the ClientHello comes back.
        let mut b = [0u8; 4096];
        if let Ok(n) = c.read(&mut b) {
            let _ = c.write(&b[..n]);
        }
        let mut rest = [0u8; 64];
        let _ = c.read(&mut rest);
    });
    rows.push(Row {
        case: "client: TLS to a plaintext echo server",
        go: go_client_error(&go_client_args(&addr, &pki, None, &named("localhost"))),
        gonet: gonet_client_error(
            &addr,
            &gonet_client_config(&pki, None, &named("localhost")),
            false,
        ),
        differs: None,
    });
    h.join().unwrap();

    // Key pairs (tls.LoadX509KeyPair).
    let keypair = |cert: &std::path::Path, key: &std::path::Path| -> Row {
        let go = field(
            &{
                let out = std::process::Command::new(tls_util::tlspeer())
                    .args(["keypair", "-cert", &path(cert), "-key", &path(key)])
                    .output()
                    .unwrap();
                serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
            },
            "err",
        );
        let gonet = tls::load_x509_key_pair(&path(cert), &path(key))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        Row {
            case: "",
            go,
            gonet,
            differs: None,
        }
    };
    let mut r = keypair(&good.cert_file, &dave.key_file);
    r.case = "key pair: key of another certificate";
    rows.push(r);
    let mut r = keypair(&good.key_file, &good.cert_file);
    r.case = "key pair: files swapped";
    rows.push(r);
    let mut r = keypair(
        std::path::Path::new("/nonexistent/cert.pem"),
        &good.key_file,
    );
    r.case = "key pair: missing file";
    rows.push(r);
    let mut r = keypair(&good.cert_file, &good.cert_file);
    r.case = "key pair: certificate where the key should be";
    rows.push(r);

    // Rows where the peer's behaviour, not the error text, differs: rustls sends
    // certificate_required (RFC 8446 §4.4.2.4) where Go 1.19 sends bad_certificate.
    rows.push({
        let srv = GoServer::start(&go_server_args(&good, &pki, &require).iter().map(String::as_str).collect::<Vec<_>>());
        let go = go_client_error(&go_client_args(&srv.addr, &pki, None, &named("localhost")));
        drop(srv);
        let ln = tls::listen("tcp", "127.0.0.1:0", &gonet_server_config(&good, &pki, &require)).unwrap();
        let addr = ln.addr().to_string();
        let h = gonet::go!(move || {
            let c = ln.accept().unwrap();
            let _ = c.handshake();
        });
        let seen = go_client_error(&go_client_args(&addr, &pki, None, &named("localhost")));
        h.join().unwrap();
        Row {
            case: "Go client without a certificate, server requires one: what the client hears",
            go,
            gonet: seen,
            differs: Some("the alert comes from the server: rustls sends certificate_required (TLS 1.3, RFC 8446 4.4.2.4), Go 1.19 bad_certificate"),
        }
    });

    let mut failed = Vec::new();
    let mut table = String::from("| case | Go 1.19 | gonet |\n|---|---|---|\n");
    for row in &rows {
        let (go, gonet) = (mask(&row.go), mask(&row.gonet));
        table.push_str(&format!(
            "| {} | `{go}` | {} |\n",
            row.case,
            if go == gonet {
                "same".to_string()
            } else {
                format!("`{gonet}`")
            }
        ));
        assert!(!go.is_empty(), "{}: Go reported no error", row.case);
        if go != gonet && row.differs.is_none() {
            failed.push(format!(
                "{}:\n    Go:    {go}\n    gonet: {gonet}",
                row.case
            ));
        }
    }
    println!("{table}");
    assert!(rows.len() >= 12);
    assert!(
        failed.is_empty(),
        "{} rows differ from Go:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
