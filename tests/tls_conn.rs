//! gonet::crypto::tls::Conn over loopback, gonet on both ends: the handshake and its
//! outcome (versions, ALPN, SNI, client certificates, resumption), full-duplex I/O,
//! close_write and close_notify, end of stream, and Server::serve_tls.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/tls.rs"]
mod tls_util;
mod util;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gonet::crypto::tls;
use tls_util::{Pki, client_config, server_config};

/// Serves one connection with `f` on a TLS listener; returns the address and the
/// handle with `f`'s result.
fn serve_one<T: Send + 'static>(
    config: &tls::Config,
    f: impl FnOnce(tls::Conn) -> T + Send + 'static,
) -> (String, may::coroutine::JoinHandle<T>) {
    let ln = tls::listen("tcp", "127.0.0.1:0", config).expect("tls listen");
    let addr = ln.addr().to_string();
    let h = gonet::go!(move || f(ln.accept().expect("accept")));
    (addr, h)
}

fn echo(conn: tls::Conn) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.write(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = conn.close();
}

#[test]
fn tls13_and_tls12_echo_with_state() {
    util::init();
    let pki = Pki::new("conn-ca");
    let leaf = pki.server(&["localhost", "127.0.0.1"]);
    for (min, max, want) in [
        (0, 0, tls::VERSION_TLS13),
        (0, tls::VERSION_TLS12, tls::VERSION_TLS12),
        (tls::VERSION_TLS13, 0, tls::VERSION_TLS13),
    ] {
        let (addr, h) = serve_one(&server_config(&leaf), echo);
        let cfg = tls::Config {
            min_version: min,
            max_version: max,
            ..client_config(&pki, "localhost")
        };
        let mut conn = tls::dial("tcp", &addr, &cfg).expect("dial");
        let st = conn.connection_state();
        assert!(st.handshake_complete);
        assert_eq!(st.version, want, "{}", tls::version_name(st.version));
        assert!(!st.did_resume);
        assert_eq!(st.server_name, "localhost");
        assert_ne!(st.cipher_suite, 0);
        assert!(
            !tls::cipher_suite_name(st.cipher_suite).starts_with("0x"),
            "{:#x}",
            st.cipher_suite
        );
        assert_eq!(st.peer_certificates.len(), 1);
        assert_eq!(st.peer_certificates[0].issuer.common_name, "conn-ca");
        let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        conn.write_all(&msg).unwrap();
        let mut back = vec![0u8; msg.len()];
        conn.read_exact(&mut back).unwrap();
        assert_eq!(back, msg);
        conn.close().unwrap();
        h.join().unwrap();
    }
}

#[test]
fn a_reader_and_a_writer_coroutine_share_one_conn() {
    // 8 MiB each way at once: a writer that held rustls while parked would deadlock
    // against a peer doing the same.
    let pki = Pki::new("duplex-ca");
    let leaf = pki.server(&["localhost"]);
    const N: usize = 8 << 20;
    fn pattern(i: usize) -> u8 {
        (i.wrapping_mul(7) % 253) as u8
    }
    fn duplex(conn: tls::Conn) -> usize {
        let w = conn.clone();
        let writer = gonet::go!(move || {
            let buf: Vec<u8> = (0..N).map(pattern).collect();
            for chunk in buf.chunks(100_000) {
                w.write(chunk).unwrap();
            }
            w.close_write().unwrap();
        });
        let mut got = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            for (k, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, pattern(got + k), "byte {}", got + k);
            }
            got += n;
        }
        writer.join().unwrap();
        got
    }
    let (addr, h) = serve_one(&server_config(&leaf), duplex);
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    let client = gonet::go!(move || duplex(conn));
    assert_eq!(client.join().unwrap(), N);
    assert_eq!(h.join().unwrap(), N);
}

#[test]
fn close_write_sends_close_notify_and_later_writes_fail() {
    let pki = Pki::new("cw-ca");
    let leaf = pki.server(&["localhost"]);
    let (addr, h) = serve_one(&server_config(&leaf), |conn| {
        let mut all = Vec::new();
        (&conn).read_to_end(&mut all).unwrap(); // ends at close_notify
        conn.write(b"reply after your close_notify").unwrap();
        conn.close().unwrap();
        all
    });
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    conn.write(b"request").unwrap();
    conn.close_write().unwrap();
    let err = conn.write(b"more").unwrap_err();
    assert_eq!(err.to_string(), "tls: protocol is shutdown");
    let mut reply = Vec::new();
    (&conn).read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"reply after your close_notify");
    assert_eq!(h.join().unwrap(), b"request");
}

#[test]
fn close_write_before_the_handshake_is_gos_error() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let conn = tls::client(raw, &tls::Config::default());
    assert_eq!(
        conn.close_write().unwrap_err().to_string(),
        "tls: CloseWrite called before handshake complete"
    );
}

#[test]
fn end_of_stream_at_a_record_boundary_is_eof_and_inside_one_unexpected_eof() {
    let pki = Pki::new("eof-ca");
    let leaf = pki.server(&["localhost"]);
    // The server closes the TCP conn without close_notify, after a whole record.
    let (addr, h) = serve_one(&server_config(&leaf), |conn| {
        conn.write(b"whole record").unwrap();
        conn.net_conn().close().unwrap();
    });
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    let mut all = Vec::new();
    (&conn).read_to_end(&mut all).unwrap();
    assert_eq!(all, b"whole record");
    h.join().unwrap();

    // A TCP peer that answers the handshake and then sends half a record: take the
    // bytes of a real server's first flight and cut the stream inside the next record.
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let cfg = server_config(&leaf);
    let h = gonet::go!(move || {
        let raw = ln.accept().unwrap();
        let conn = tls::server(raw.clone(), &cfg);
        conn.handshake().unwrap();
        // A record header promising 100 bytes, and only 10 of them.
        raw.write(&[23, 3, 3, 0, 100]).unwrap();
        raw.write(&[0u8; 10]).unwrap();
        raw.close().unwrap();
    });
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    let err = conn.read(&mut [0u8; 64]).unwrap_err();
    assert_eq!(err.to_string(), "unexpected EOF");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    // Sticky, as Go's c.in.err.
    assert_eq!(
        conn.read(&mut [0u8; 64]).unwrap_err().to_string(),
        "unexpected EOF"
    );
    h.join().unwrap();
}

#[test]
fn alpn_picks_the_servers_first_match_and_reports_none_without_one() {
    let pki = Pki::new("alpn-ca");
    let leaf = pki.server(&["localhost"]);
    let scfg = tls::Config {
        next_protos: vec!["h2".into(), "http/1.1".into()],
        ..server_config(&leaf)
    };
    let (addr, h) = serve_one(&scfg, |c| {
        c.handshake().unwrap();
        c.connection_state().negotiated_protocol
    });
    let ccfg = tls::Config {
        next_protos: vec!["http/1.1".into(), "h2".into()],
        ..client_config(&pki, "localhost")
    };
    let conn = tls::dial("tcp", &addr, &ccfg).unwrap();
    // Go's server (and rustls's) picks by its own preference order.
    assert_eq!(conn.connection_state().negotiated_protocol, "h2");
    assert_eq!(h.join().unwrap(), "h2");

    // A client without ALPN against a server with it: no protocol, no error.
    let (addr, h) = serve_one(&scfg, |c| {
        c.handshake().unwrap();
        c.connection_state().negotiated_protocol
    });
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    assert_eq!(conn.connection_state().negotiated_protocol, "");
    assert_eq!(h.join().unwrap(), "");

    // Go's special case: an "http/1.1" client meets an "h2"-only server without ALPN.
    let h2_only = tls::Config {
        next_protos: vec!["h2".into()],
        ..server_config(&leaf)
    };
    let (addr, h) = serve_one(&h2_only, |c| {
        c.handshake().unwrap();
        c.connection_state().negotiated_protocol
    });
    let ccfg = tls::Config {
        next_protos: vec!["http/1.1".into()],
        ..client_config(&pki, "localhost")
    };
    let conn = tls::dial("tcp", &addr, &ccfg).unwrap();
    assert_eq!(conn.connection_state().negotiated_protocol, "");
    assert_eq!(h.join().unwrap(), "");
}

#[test]
fn sni_picks_between_two_certificates_and_get_certificate_runs_first() {
    let pki = Pki::new("sni-ca");
    let a = pki.server(&["a.example"]);
    let b = pki.server(&["b.example", "*.b.example"]);
    let scfg = tls::Config {
        certificates: vec![a.cert.clone(), b.cert.clone()],
        ..Default::default()
    };
    for (name, want) in [
        ("a.example", "a.example"),
        ("b.example", "b.example"),
        ("x.b.example", "b.example"),
        ("unknown.example", "a.example"), // nothing fits: the first, as in Go
    ] {
        let (addr, h) = serve_one(&scfg, |c| {
            c.handshake().map(|_| c.connection_state().server_name)
        });
        let ccfg = tls::Config {
            insecure_skip_verify: true,
            ..client_config(&pki, name)
        };
        let conn = tls::dial("tcp", &addr, &ccfg).unwrap();
        let st = conn.connection_state();
        assert_eq!(st.peer_certificates[0].dns_names[0], want, "for {name}");
        assert_eq!(h.join().unwrap().unwrap(), name);
    }

    // get_certificate: consulted for names, may fail the handshake with its error.
    let b_cert = b.cert.clone();
    let scfg = tls::Config {
        certificates: vec![a.cert.clone()],
        get_certificate: Some(Arc::new(move |hello: &tls::ClientHelloInfo| {
            match hello.server_name.as_str() {
                "b.example" => Ok(Some(b_cert.clone())),
                "refused.example" => Err(std::io::Error::other("no certificate for you")),
                _ => Ok(None),
            }
        })),
        ..Default::default()
    };
    let (addr, h) = serve_one(&scfg, |c| c.handshake().map_err(|e| e.to_string()));
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "b.example")).unwrap();
    assert_eq!(
        conn.connection_state().peer_certificates[0].dns_names[0],
        "b.example"
    );
    h.join().unwrap().unwrap();
    let (addr, h) = serve_one(&scfg, |c| c.handshake().map_err(|e| e.to_string()));
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "a.example")).unwrap();
    assert_eq!(
        conn.connection_state().peer_certificates[0].dns_names[0],
        "a.example"
    );
    h.join().unwrap().unwrap();
    let (addr, h) = serve_one(&scfg, |c| c.handshake().map_err(|e| e.to_string()));
    assert!(tls::dial("tcp", &addr, &client_config(&pki, "refused.example")).is_err());
    assert_eq!(h.join().unwrap().unwrap_err(), "no certificate for you");
}

#[test]
fn client_certificates_required_verified_and_missing() {
    let pki = Pki::new("mtls-ca");
    let leaf = pki.server(&["localhost"]);
    let alice = pki.client("alice");
    let scfg = tls::Config {
        client_auth: tls::ClientAuthType::RequireAndVerifyClientCert,
        client_cas: Some(pki.pool()),
        ..server_config(&leaf)
    };
    let peer_name = |c: tls::Conn| {
        c.handshake().map_err(|e| e.to_string())?;
        Ok::<_, String>(
            c.connection_state()
                .peer_certificates
                .first()
                .map(|p| p.subject.common_name.clone())
                .unwrap_or_default(),
        )
    };
    let (addr, h) = serve_one(&scfg, peer_name);
    let ccfg = tls::Config {
        certificates: vec![alice.cert.clone()],
        ..client_config(&pki, "localhost")
    };
    let conn = tls::dial("tcp", &addr, &ccfg).unwrap();
    conn.write(b"x").unwrap();
    assert_eq!(h.join().unwrap().unwrap(), "alice");

    // No certificate: the server says Go's words; the client learns at its first read.
    let (addr, h) = serve_one(&scfg, peer_name);
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost"));
    let client_err = match conn {
        Ok(c) => c.read(&mut [0u8; 8]).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        h.join().unwrap().unwrap_err(),
        "tls: client didn't provide a certificate"
    );
    assert!(
        client_err.starts_with("remote error: tls: "),
        "{client_err}"
    );

    // A certificate from another CA: the server names its CA in the request, and the
    // client (as Go's getClientCertificate) sends only a certificate from a named CA,
    // so it sends none. (tests/tls_interop.rs has a client that sends it anyway.)
    let other = Pki::new("other-ca");
    let mallory = other.client("mallory");
    let (addr, h) = serve_one(&scfg, peer_name);
    let ccfg = tls::Config {
        certificates: vec![mallory.cert.clone()],
        ..client_config(&pki, "localhost")
    };
    if let Ok(c) = tls::dial("tcp", &addr, &ccfg) {
        let _ = c.read(&mut [0u8; 8]);
    }
    assert_eq!(
        h.join().unwrap().unwrap_err(),
        "tls: client didn't provide a certificate"
    );

    // RequestClientCert takes what comes, unverified.
    let scfg = tls::Config {
        client_auth: tls::ClientAuthType::RequestClientCert,
        ..server_config(&leaf)
    };
    let (addr, h) = serve_one(&scfg, peer_name);
    let conn = tls::dial("tcp", &addr, &ccfg).unwrap();
    conn.write(b"x").unwrap();
    assert_eq!(h.join().unwrap().unwrap(), "mallory");
}

#[test]
fn sessions_resume_with_a_client_session_cache() {
    let pki = Pki::new("resume-ca");
    let leaf = pki.server(&["localhost"]);
    let scfg = server_config(&leaf);
    let ln = Arc::new(tls::listen("tcp", "127.0.0.1:0", &scfg).unwrap());
    let addr = ln.addr().to_string();
    let l2 = ln.clone();
    let h = gonet::go!(move || {
        let mut resumed = Vec::new();
        for _ in 0..3 {
            let c = l2.accept().unwrap();
            let mut b = [0u8; 1];
            c.read_full(&mut b).unwrap();
            resumed.push(c.connection_state().did_resume);
            c.write(b"k").unwrap();
        }
        resumed
    });
    let ccfg = tls::Config {
        client_session_cache: Some(tls::new_lru_client_session_cache(8)),
        ..client_config(&pki, "localhost")
    };
    let mut client_side = Vec::new();
    for _ in 0..3 {
        let c = tls::dial("tcp", &addr, &ccfg).unwrap();
        c.write(b"x").unwrap();
        let mut b = [0u8; 1];
        c.read_full(&mut b).unwrap(); // reads the ticket too
        client_side.push(c.connection_state().did_resume);
    }
    assert_eq!(client_side, [false, true, true]);
    assert_eq!(h.join().unwrap(), [false, true, true]);
}

#[test]
fn serve_tls_runs_handlers_after_the_handshake_and_logs_failures() {
    let pki = Pki::new("serve-ca");
    let leaf = pki.server(&["localhost"]);
    let server = gonet::Server::new().read_timeout(Duration::from_secs(10));
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let cfg = server_config(&leaf);
    let h = gonet::go!(move || s.serve_tls(ln, &cfg, echo));
    // A plaintext client: its handshake fails, the handler never runs, the server stays up.
    let mut plain = gonet::dial("tcp", &addr).unwrap();
    plain.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    for _ in 0..3 {
        let mut conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
        conn.write_all(b"ping").unwrap();
        let mut b = [0u8; 4];
        conn.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"ping");
    }
    assert_eq!(server.shutdown(Duration::from_secs(2)), 0);
    h.join().unwrap().unwrap();
    let stats = server.stats();
    assert_eq!(stats.accepted, 4);
    assert_eq!(stats.panics, 0);
}

#[test]
fn a_config_without_certificates_fails_listen_and_serve_tls() {
    let err = tls::listen("tcp", "127.0.0.1:0", &tls::Config::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tls: neither Certificates, GetCertificate, nor GetConfigForClient set in Config"
    );
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let err = gonet::Server::new()
        .serve_tls(ln, &tls::Config::default(), |_| {})
        .unwrap_err();
    assert!(err.to_string().starts_with("tls: neither"), "{err}");
}

#[test]
fn version_limits_that_leave_nothing_are_gos_error() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let cfg = tls::Config {
        min_version: tls::VERSION_TLS13,
        max_version: tls::VERSION_TLS12,
        insecure_skip_verify: true,
        ..Default::default()
    };
    let err = tls::client(raw, &cfg).handshake().unwrap_err();
    assert_eq!(
        err.to_string(),
        "tls: no supported versions satisfy MinVersion and MaxVersion"
    );
}

#[test]
fn deadlines_of_the_conn_below_bound_reads_and_can_be_moved() {
    let pki = Pki::new("dl-ca");
    let leaf = pki.server(&["localhost"]);
    let (addr, h) = serve_one(&server_config(&leaf), |c| {
        c.handshake().unwrap();
        let mut b = [0u8; 4];
        c.read_full(&mut b).unwrap();
        c.write(&b).unwrap();
    });
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    conn.set_read_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    let err = conn.read(&mut [0u8; 4]).unwrap_err();
    assert!(gonet::is_timeout(&err), "{err}");
    assert!(err.to_string().ends_with("i/o timeout"), "{err}");
    // Not sticky: move the deadline and the conn works.
    conn.set_read_deadline(None).unwrap();
    conn.write(b"late").unwrap();
    let mut b = [0u8; 4];
    conn.read_full(&mut b).unwrap();
    assert_eq!(&b, b"late");
    h.join().unwrap();
}

#[test]
fn a_write_the_peer_never_reads_hits_the_write_deadline_and_breaks_the_write_side() {
    // The records go to the socket from rustls's buffers with a write that does not
    // wait; the wait for room is the conn's, bound by its write deadline.
    let pki = Pki::new("wdl-ca");
    let leaf = pki.server(&["localhost"]);
    let (release, wait) = may::sync::mpsc::channel::<()>();
    let (addr, h) = serve_one(&server_config(&leaf), move |c| {
        c.handshake().unwrap();
        // Reads nothing until the client has seen its deadline pass.
        wait.recv().unwrap();
        let _ = c.close();
    });
    let conn = tls::dial("tcp", &addr, &client_config(&pki, "localhost")).unwrap();
    conn.set_write_deadline(Some(Instant::now() + Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![7u8; 256 * 1024];
    let mut sent = 0usize;
    let err = loop {
        match conn.write(&chunk) {
            Ok(n) => sent += n,
            Err(e) => break e,
        }
        assert!(sent < 1 << 30, "1 GiB written to a peer that reads nothing");
    };
    assert!(gonet::is_timeout(&err), "{err}");
    assert!(err.to_string().ends_with("i/o timeout"), "{err}");
    // Go: a record may have been cut short, so the write side stays broken.
    conn.set_write_deadline(None).unwrap();
    let again = conn.write(b"x").unwrap_err();
    assert!(gonet::is_timeout(&again), "{again}");
    release.send(()).unwrap();
    h.join().unwrap();
}

#[test]
fn a_conn_over_a_net_pipe_echoes_a_large_transfer() {
    // A pipe has no write that does not wait: records are copied out and written whole.
    let pki = Pki::new("pipe-ca");
    let leaf = pki.server(&["localhost"]);
    let (a, b) = gonet::net::pipe();
    let cfg = server_config(&leaf);
    let h = gonet::go!(move || echo(tls::server(a, &cfg)));
    let conn = tls::client(b, &client_config(&pki, "localhost"));
    let data: Arc<Vec<u8>> = Arc::new((0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect());
    let w = {
        let (conn, data) = (conn.clone(), data.clone());
        gonet::go!(move || {
            (&conn).write_all(&data).unwrap();
            conn.close_write().unwrap();
        })
    };
    let mut got = Vec::new();
    (&conn).read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == *data, "the echo differs");
    w.join().unwrap();
    h.join().unwrap();
}
