//! The PROXY protocol listener (gonet::net::proxyproto::Listener) over real sockets:
//! the client's addresses from v1 and v2 headers, TLVs, every policy, bad and slow
//! headers closed with a logged reason while the accept loop goes on, not one byte past
//! the header taken, close and deadlines, and the wrapped listener under gonet::Server
//! and net/http.

mod util;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gonet::net::http;
use gonet::net::proxyproto::{
    self, DEFAULT_READ_HEADER_TIMEOUT, ErrorKind, Header, Policy, Pp2Type, Tlv,
};
use gonet::net::{self, Addr, Conn};
use util::server::logs;

/// Generous: the machine is shared and loaded.
const LIMIT: Duration = Duration::from_secs(30);

fn sa(s: &str) -> Addr {
    s.parse::<SocketAddr>().unwrap().into()
}

fn wrap(p: proxyproto::Listener) -> net::Listener {
    p.into_listener()
}

fn listener() -> proxyproto::Listener {
    // The log capture is installed before any connection can be closed with a reason.
    logs();
    proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0").unwrap())
}

fn dial(ln: &net::Listener) -> Conn {
    let c = net::dial("tcp", &ln.addr().to_string()).unwrap();
    c.set_deadline(Some(Instant::now() + LIMIT)).unwrap();
    c
}

/// Accepts with a deadline, so a test that expects nothing fails instead of hanging.
fn accept(ln: &net::Listener) -> Conn {
    ln.set_deadline(Some(Instant::now() + LIMIT)).unwrap();
    let c = ln.accept().expect("accept");
    c.set_deadline(Some(Instant::now() + LIMIT)).unwrap();
    c
}

/// Reads until end of stream (a reset counts as the end).
fn read_to_end(c: &Conn) -> Vec<u8> {
    let mut v = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return v,
            Ok(n) => v.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return v,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Waits for a log line containing every one of `needles`.
fn logged(needles: &[&str]) -> String {
    let found = util::eventually(LIMIT, || {
        logs()
            .matching(needles[0])
            .iter()
            .any(|l| needles.iter().all(|n| l.contains(n)))
    });
    let lines = logs().matching(needles[0]);
    assert!(found, "no log line with {needles:?}; lines: {lines:?}");
    lines
        .into_iter()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap()
}

#[test]
fn v1_header_gives_the_client_addresses_and_leaves_the_data() {
    let ln = wrap(listener());
    let c = dial(&ln);
    c.write(b"PROXY TCP4 192.0.2.7 198.51.100.1 4242 443\r\nGET / HTTP/1.0\r\n\r\n")
        .unwrap();
    let s = accept(&ln);
    assert_eq!(s.remote_addr().to_string(), "192.0.2.7:4242");
    assert_eq!(s.local_addr().to_string(), "198.51.100.1:443");
    assert_eq!(s.raw().remote_addr(), c.local_addr());
    assert_eq!(s.raw().local_addr(), c.remote_addr());
    let h = s.proxy_header().unwrap();
    assert_eq!((h.version, h.command.is_proxy()), (1, true));
    c.close_write().unwrap();
    assert_eq!(read_to_end(&s), b"GET / HTTP/1.0\r\n\r\n");
    // The socket calls work on a proxied conn: options, deadlines, a descriptor.
    s.set_nodelay(true).unwrap();
    let _fd = s.file().unwrap();
    assert!(gonet::TcpConn::try_from(s.clone()).is_ok());
}

#[test]
fn v2_header_with_tlvs_over_ipv6() {
    logs();
    let ln = proxyproto::Listener::new(net::listen("tcp", "[::1]:0").unwrap()).into_listener();
    let c = dial(&ln);
    let mut h = Header::proxy_from_addrs(2, &sa("[2001:db8::7]:4000"), &sa("[2001:db8::1]:443"));
    h.set_tlvs(&[
        Tlv::new(Pp2Type::AUTHORITY, b"api.example.com".to_vec()),
        Tlv::new(Pp2Type::ALPN, b"h2".to_vec()),
        Tlv::new(Pp2Type::UNIQUE_ID, b"req-42".to_vec()),
        Tlv::new(Pp2Type(0xE5), b"app".to_vec()),
    ])
    .unwrap();
    let mut wire = h.format().unwrap();
    wire.extend_from_slice(b"payload");
    c.write(&wire).unwrap();
    let s = accept(&ln);
    assert_eq!(s.remote_addr().to_string(), "[2001:db8::7]:4000");
    assert_eq!(s.local_addr().to_string(), "[2001:db8::1]:443");
    let got = s.proxy_header().unwrap();
    assert_eq!(got, &h);
    assert_eq!(got.authority().as_deref(), Some("api.example.com"));
    assert_eq!(got.alpn().as_deref(), Some(&b"h2"[..]));
    assert_eq!(got.unique_id().as_deref(), Some(&b"req-42"[..]));
    assert_eq!(got.tlvs().unwrap()[3].value, b"app");
    let mut payload = [0u8; 7];
    s.read_full(&mut payload).unwrap();
    assert_eq!(&payload, b"payload");
}

#[test]
fn a_local_header_keeps_the_real_addresses() {
    let ln = wrap(listener());
    let c = dial(&ln);
    Header::local(2).write_to(&c).unwrap();
    let s = accept(&ln);
    assert_eq!(s.remote_addr(), c.local_addr());
    assert!(s.proxy_header().unwrap().command.is_local());
}

#[test]
fn a_header_in_pieces_is_waited_for_and_nothing_past_it_is_taken() {
    let ln = wrap(listener());
    let wire = Header::proxy_from_addrs(1, &sa("203.0.113.5:1"), &sa("203.0.113.6:2"))
        .format()
        .unwrap();
    let c = dial(&ln);
    // One byte at a time, then the client's data; the server answers only once the
    // header is taken, so the pieces really arrive apart.
    let writer = {
        let c = c.clone();
        let wire = wire.clone();
        std::thread::spawn(move || {
            for b in &wire {
                c.write(&[*b]).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
            c.write(b"after").unwrap();
        })
    };
    let s = accept(&ln);
    writer.join().unwrap();
    assert_eq!(s.remote_addr().to_string(), "203.0.113.5:1");
    let mut after = [0u8; 5];
    s.read_full(&mut after).unwrap();
    assert_eq!(&after, b"after");
}

#[test]
fn require_closes_a_connection_without_a_header_and_logs_why() {
    let ln = wrap(listener().read_header_timeout(Some(Duration::from_millis(200))));
    let bad = dial(&ln);
    bad.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_to_end(&bad), b"", "closed without an answer");
    logged(&[
        "proxyproto: closed the connection from",
        &bad.local_addr().to_string(),
        "proxy protocol signature not present",
    ]);
    // A silent client too, once the read-header timeout passes.
    let silent = dial(&ln);
    assert_eq!(read_to_end(&silent), b"");
    logged(&[&silent.local_addr().to_string(), "signature not present"]);
    // The listener goes on.
    let good = dial(&ln);
    good.write(b"PROXY UNKNOWN\r\n").unwrap();
    assert_eq!(accept(&ln).remote_addr(), good.local_addr());
}

#[test]
fn use_serves_a_connection_without_a_header_untouched() {
    let ln = wrap(
        listener()
            .policy(Policy::Use)
            .read_header_timeout(Some(Duration::from_millis(200))),
    );
    // Data that starts like a signature but is not one is the client's, all of it.
    for data in [
        &b"PUT /x HTTP/1.1\r\n\r\n"[..],
        b"PROXZ",
        b"\r\n\r\nhello",
        b"x",
    ] {
        let c = dial(&ln);
        c.write(data).unwrap();
        c.close_write().unwrap();
        let s = accept(&ln);
        assert_eq!(s.remote_addr(), c.local_addr());
        assert!(s.proxy_header().is_none());
        assert_eq!(read_to_end(&s), data);
    }
    // A client that sends part of a signature and waits: after the timeout it is
    // served, its byte still there (it may be its own data).
    let c = dial(&ln);
    c.write(b"P").unwrap();
    let s = accept(&ln);
    c.write(b"ING").unwrap();
    c.close_write().unwrap();
    assert_eq!(read_to_end(&s), b"PING");
    // And a silent one, for a server that speaks first.
    let quiet = dial(&ln);
    let s = accept(&ln);
    s.write(b"220 hello\r\n").unwrap();
    let mut greet = [0u8; 11];
    quiet.read_full(&mut greet).unwrap();
    assert_eq!(&greet, b"220 hello\r\n");
}

#[test]
fn reject_closes_a_connection_that_sends_a_header() {
    let ln = wrap(listener().policy(Policy::Reject));
    let c = dial(&ln);
    c.write(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n").unwrap();
    assert_eq!(read_to_end(&c), b"");
    logged(&[&c.local_addr().to_string(), "isn't allowed to send one"]);
    let plain = dial(&ln);
    plain.write(b"hi").unwrap();
    let s = accept(&ln);
    assert_eq!(s.remote_addr(), plain.local_addr());
}

#[test]
fn ignore_takes_the_header_and_keeps_the_real_addresses() {
    let ln = wrap(listener().policy(Policy::Ignore));
    let c = dial(&ln);
    c.write(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\ndata").unwrap();
    c.close_write().unwrap();
    let s = accept(&ln);
    assert_eq!(s.remote_addr(), c.local_addr());
    assert!(s.proxy_header().is_none());
    assert_eq!(read_to_end(&s), b"data");
}

#[test]
fn skip_reads_nothing() {
    let ln = wrap(listener().policy(Policy::Skip));
    let c = dial(&ln);
    c.write(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n").unwrap();
    c.close_write().unwrap();
    let s = accept(&ln);
    assert_eq!(read_to_end(&s), b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
}

#[test]
fn bad_headers_are_closed_with_their_reason() {
    let ln = wrap(listener());
    let cases: Vec<(&[u8], &str)> = vec![
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n",
            "can't read address family or protocol",
        ),
        (b"PROXY TCP4 1.2.3.999 5.6.7.8 80 90\r\n", "invalid address"),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 80 90\n",
            "must end with \\r\\n",
        ),
        (
            b"\r\n\r\n\0\r\nQUIT\n\x22\x11\x00\x0c",
            "unsupported proxy protocol version and command",
        ),
        (
            b"\r\n\r\n\0\r\nQUIT\n\x21\x99\x00\x0c",
            "unsupported address family and protocol",
        ),
    ];
    for (wire, why) in cases {
        let c = dial(&ln);
        c.write(wire).unwrap();
        assert_eq!(read_to_end(&c), b"", "{why}");
        logged(&[&c.local_addr().to_string(), why]);
    }
    // Too long a v1 line.
    let c = dial(&ln);
    c.write(&[&b"PROXY UNKNOWN "[..], &[b'a'; 200]].concat())
        .unwrap();
    assert_eq!(read_to_end(&c), b"");
    logged(&[&c.local_addr().to_string(), "107 bytes or less"]);
    // A peer that hangs up inside the header.
    let c = dial(&ln);
    c.write(b"PROXY TCP4 1.2.3.4").unwrap();
    c.close_write().unwrap();
    assert_eq!(read_to_end(&c), b"");
    logged(&[
        &c.local_addr().to_string(),
        "can't read version 1 header: EOF",
    ]);
}

#[test]
fn a_slow_header_times_out_and_never_holds_up_the_others() {
    let ln = wrap(listener().read_header_timeout(Some(Duration::from_secs(3))));
    // 50 connections stall inside their header.
    let stalled: Vec<Conn> = (0..50)
        .map(|_| {
            let c = dial(&ln);
            c.write(b"PROXY TCP4 10.0.0.1").unwrap();
            c
        })
        .collect();
    let t0 = Instant::now();
    let good = dial(&ln);
    good.write(b"PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n")
        .unwrap();
    let s = accept(&ln);
    let waited = t0.elapsed();
    assert_eq!(s.remote_addr().to_string(), "192.0.2.1:1");
    assert!(
        waited < Duration::from_secs(3),
        "a good connection waited {waited:?} behind stalled headers"
    );
    for c in &stalled {
        assert_eq!(read_to_end(c), b"");
    }
    logged(&[
        &stalled[0].local_addr().to_string(),
        "can't read version 1 header: i/o timeout",
    ]);
    assert!(t0.elapsed() >= Duration::from_secs(2), "timed out too soon");
}

#[test]
fn the_default_timeout_is_go_proxyprotos() {
    assert_eq!(DEFAULT_READ_HEADER_TIMEOUT, Duration::from_secs(10));
}

#[test]
fn a_v2_header_past_the_size_limit_is_refused_unless_raised() {
    let mut h = Header::proxy_from_addrs(2, &sa("192.0.2.1:1"), &sa("192.0.2.2:2"));
    h.set_tlvs(&[Tlv::new(Pp2Type::SSL_CLIENT_CERT, vec![7; 6000])])
        .unwrap();
    let wire = h.format().unwrap();
    let ln = wrap(listener());
    let c = dial(&ln);
    c.write(&wire).unwrap();
    assert_eq!(read_to_end(&c), b"");
    logged(&[&c.local_addr().to_string(), "invalid length"]);
    let ln = wrap(listener().max_v2_header_size(8192));
    let c = dial(&ln);
    c.write(&wire).unwrap();
    c.write(b"!").unwrap();
    let s = accept(&ln);
    assert_eq!(
        s.proxy_header().unwrap().tlvs().unwrap()[0].value.len(),
        6000
    );
    let mut bang = [0u8; 1];
    s.read_full(&mut bang).unwrap();
    assert_eq!(&bang, b"!");
}

#[test]
fn policy_functions_and_validators() {
    let trusted = wrap(
        listener().conn_policy(proxyproto::trust_proxy_header_from(&["127.0.0.2"
            .parse()
            .unwrap()])),
    );
    // From 127.0.0.1: not trusted, dropped before anything is read.
    let c = dial(&trusted);
    assert_eq!(read_to_end(&c), b"");
    logged(&["127.0.0.1 is not a trusted PROXY sender"]);
    // From 127.0.0.2: a header is required, and used.
    let d = net::Dialer {
        local_addr: Some(sa("127.0.0.2:0")),
        ..Default::default()
    };
    let c = d.dial("tcp", &trusted.addr().to_string()).unwrap();
    c.write(b"PROXY TCP4 198.51.100.9 127.0.0.1 9 9\r\n")
        .unwrap();
    assert_eq!(accept(&trusted).remote_addr().to_string(), "198.51.100.9:9");

    // An error that is not InvalidUpstream comes out of accept, as Go's Accept returns it.
    let failing = wrap(listener().conn_policy(|_| Err("policy store unavailable".into())));
    let _c = dial(&failing);
    failing.set_deadline(Some(Instant::now() + LIMIT)).unwrap();
    let err = failing.accept().unwrap_err();
    assert_eq!(err.to_string(), "policy store unavailable");

    let strict = wrap(listener().validate_header(|h| {
        if h.version == 2 {
            Ok(())
        } else {
            Err("version 1 refused".into())
        }
    }));
    let c = dial(&strict);
    c.write(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n").unwrap();
    assert_eq!(read_to_end(&c), b"");
    logged(&[&c.local_addr().to_string(), "version 1 refused"]);
}

#[test]
fn close_ends_accept_and_closes_what_was_not_handed_out() {
    let ln = Arc::new(wrap(listener()));
    // One connection still sending its header, one whose header is done (queued for
    // accept, or about to be): close must close both.
    let stalled = dial(&ln);
    stalled.write(b"PROXY ").unwrap();
    let ready = dial(&ln);
    ready.write(b"PROXY UNKNOWN\r\n").unwrap();
    // An accept on another wrapped listener that gets nothing ends at its close
    // (parked by then or not: the same error either way).
    let other = Arc::new(wrap(listener()));
    let o2 = other.clone();
    let waiting = gonet::go!(move || o2.accept().map(|_| ()));
    other.close().unwrap();
    let woken = waiting.join().unwrap().unwrap_err();
    assert!(gonet::is_closed(&woken), "{woken}");
    ln.close().unwrap();
    assert_eq!(
        read_to_end(&stalled),
        b"",
        "a header still being read is closed"
    );
    assert_eq!(
        read_to_end(&ready),
        b"",
        "a connection not handed out is closed"
    );
    let err = ln.accept().unwrap_err();
    assert!(gonet::is_closed(&err), "{err}");
    assert!(
        err.to_string().starts_with("accept tcp 127.0.0.1:"),
        "{err}"
    );
    assert!(gonet::is_closed(&ln.close().unwrap_err()));
    let refused = net::dial("tcp", &ln.addr().to_string()).unwrap_err();
    assert!(
        refused.to_string().ends_with("connection refused"),
        "{refused}"
    );
}

#[test]
fn dropping_the_listener_closes_its_socket() {
    let ln = wrap(listener());
    let addr = ln.addr().to_string();
    drop(ln);
    let ok = util::eventually(LIMIT, || net::dial("tcp", &addr).is_err());
    assert!(ok, "still accepting at {addr}");
}

#[test]
fn accept_deadline() {
    let ln = wrap(listener());
    ln.set_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    let err = ln.accept().unwrap_err();
    assert!(gonet::is_timeout(&err), "{err}");
    assert!(err.to_string().ends_with("i/o timeout"));
    ln.set_deadline(None).unwrap();
    ln.close().unwrap();
    assert!(gonet::is_closed(&ln.set_deadline(None).unwrap_err()));
}

#[test]
fn a_unix_listener_is_wrapped_and_removes_its_file() {
    let dir = util::TempDir::new("proxyproto");
    let path = dir.sock("pp.sock");
    let ln = proxyproto::Listener::new(net::listen("unix", &path).unwrap()).into_listener();
    let c = net::dial("unix", &path).unwrap();
    c.write(b"PROXY TCP4 192.0.2.3 192.0.2.4 33 44\r\n")
        .unwrap();
    let s = accept(&ln);
    assert_eq!(s.remote_addr().to_string(), "192.0.2.3:33");
    ln.close().unwrap();
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn new_conn_from_a_plain_thread_and_its_errors() {
    let plain = net::listen("tcp", "127.0.0.1:0").unwrap();
    let c = net::dial("tcp", &plain.addr().to_string()).unwrap();
    let w = c.clone();
    let writer = std::thread::spawn(move || {
        w.write(b"PROXY TCP6 2001:db8::5 ").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        w.write(b"2001:db8::6 5 6\r\nrest").unwrap();
    });
    let s = proxyproto::new_conn(plain.accept().unwrap(), Policy::Require, Some(LIMIT)).unwrap();
    writer.join().unwrap();
    assert_eq!(s.remote_addr().to_string(), "[2001:db8::5]:5");
    let mut rest = [0u8; 4];
    s.read_full(&mut rest).unwrap();
    assert_eq!(&rest, b"rest");

    let c = net::dial("tcp", &plain.addr().to_string()).unwrap();
    c.write(b"PROXY TCP4 x y 1 2\r\n").unwrap();
    let err = proxyproto::new_conn(plain.accept().unwrap(), Policy::Use, None).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(
        proxyproto::Error::of(&err).unwrap().kind(),
        ErrorKind::InvalidAddress
    );
    let c2 = net::dial("tcp", &plain.addr().to_string()).unwrap();
    let err = proxyproto::new_conn(
        plain.accept().unwrap(),
        Policy::Require,
        Some(Duration::from_millis(50)),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxyproto: proxy protocol signature not present"
    );
    drop((c, c2));
}

#[test]
fn the_wrapped_listener_under_gonet_server() {
    let ln = listener();
    let addr = ln.into_listener();
    let a = addr.addr().to_string();
    let server = gonet::Server::new();
    let s = server.clone();
    let serving = std::thread::spawn(move || {
        s.serve(addr, |conn| {
            let _ = conn.write(format!("{}\n", conn.remote_addr()).as_bytes());
            let mut buf = [0u8; 64];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 || conn.write(&buf[..n]).is_err() {
                    break;
                }
            }
        })
    });
    let c = net::dial("tcp", &a).unwrap();
    c.set_deadline(Some(Instant::now() + LIMIT)).unwrap();
    c.write(b"PROXY TCP4 203.0.113.77 127.0.0.1 5555 80\r\nping")
        .unwrap();
    let mut got = [0u8; 22];
    c.read_full(&mut got).unwrap();
    assert_eq!(&got, b"203.0.113.77:5555\nping");
    drop(c);
    assert_eq!(server.shutdown(LIMIT), 0);
    serving.join().unwrap().unwrap();
}

#[test]
fn the_wrapped_listener_under_net_http() {
    let pl = listener();
    let ln = pl.into_listener();
    let addr = ln.addr().to_string();
    let mux = http::ServeMux::new();
    mux.handle_func(
        "/",
        |w: &mut dyn http::ResponseWriter, r: &mut http::Request| {
            let _ = w.write(format!("you are {}", r.remote_addr).as_bytes());
        },
    );
    let srv = http::Server::new().handler(mux);
    let s = srv.clone();
    let serving = std::thread::spawn(move || s.serve(ln));
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c.write_all(b"PROXY TCP6 2001:db8::42 ::1 61000 80\r\nGET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.0 200 OK\r\n"), "{resp}");
    assert!(resp.ends_with("you are [2001:db8::42]:61000"), "{resp}");
    srv.close();
    let _ = serving.join().unwrap();
}
