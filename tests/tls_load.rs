//! TLS under load and under neglect: 1,000 concurrent TLS echo connections with every
//! byte checked, and handshakes that never complete cut by the read deadline without
//! leaking a descriptor or a coroutine.

mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gonet::crypto::{tls, x509};

fn pki() -> (tls::Certificate, x509::CertPool) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = tls::x509_key_pair(
        ck.cert.pem().as_bytes(),
        ck.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let mut pool = x509::CertPool::new();
    assert!(pool.append_certs_from_pem(ck.cert.pem().as_bytes()));
    (cert, pool)
}

/// The tests count this process's sockets: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's open sockets (what a leaked connection would leave; the runtime's own
/// eventfds, made lazily by its helper threads, are not sockets).
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy().starts_with("socket:"))
        .count()
}

/// The first deadline a process parks on starts gonet's timer thread, which keeps one
/// eventfd for good: start it before counting descriptors.
fn warm_up_timer() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let _peer = ln.accept().unwrap();
    let h = gonet::go!(move || {
        c.set_read_deadline(Some(Instant::now() + Duration::from_millis(5)))
            .unwrap();
        c.read(&mut [0u8; 1]).unwrap_err()
    });
    assert!(gonet::is_timeout(&h.join().unwrap()));
}

/// Polls `cond` until it holds or `limit` passes.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

#[test]
fn a_thousand_concurrent_tls_echo_conns_every_byte_checked() {
    util::init();
    let _one = serial();
    const CONNS: usize = 1000;
    const ROUNDS: usize = 4;
    const SIZE: usize = 3000;
    let (cert, pool) = pki();
    let server = gonet::Server::new();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let scfg = tls::Config {
        certificates: vec![cert],
        ..Default::default()
    };
    let serving = gonet::go!(move || s.serve_tls(ln, &scfg, |conn| {
        let mut buf = vec![0u8; 8192];
        while let Ok(n) = conn.read(&mut buf) {
            if n == 0 || conn.write(&buf[..n]).is_err() {
                break;
            }
        }
    }));
    let ccfg = tls::Config {
        root_cas: Some(pool),
        server_name: "localhost".into(),
        ..Default::default()
    };
    // All conns open at once: dial and handshake every one, then hold them all.
    let start = Instant::now();
    let open = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(gonet::sync::WaitGroup::new());
    let mut clients = Vec::new();
    for i in 0..CONNS {
        let (addr, ccfg, open, gate) = (addr.clone(), ccfg.clone(), open.clone(), gate.clone());
        gate.add(1);
        clients.push(gonet::go!(move || {
            let conn = tls::dial("tcp", &addr, &ccfg).expect("dial");
            conn.set_deadline(Some(Instant::now() + Duration::from_secs(120)))
                .unwrap();
            open.fetch_add(1, Ordering::SeqCst);
            gate.done();
            gate.wait(); // every conn is up before any echo starts
            let mut checked = 0usize;
            for round in 0..ROUNDS {
                let msg: Vec<u8> = (0..SIZE)
                    .map(|k| ((i * 31 + round * 7 + k) % 256) as u8)
                    .collect();
                conn.write(&msg).unwrap();
                let mut back = vec![0u8; SIZE];
                conn.read_full(&mut back).unwrap();
                assert_eq!(back, msg, "conn {i} round {round}");
                checked += SIZE;
            }
            conn.close().unwrap();
            checked
        }));
    }
    let total: usize = clients.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, CONNS * ROUNDS * SIZE);
    assert_eq!(open.load(Ordering::SeqCst), CONNS);
    eprintln!(
        "{CONNS} TLS conns, {total} bytes echoed and checked in {:?}",
        start.elapsed()
    );
    assert_eq!(server.shutdown(Duration::from_secs(5)), 0);
    serving.join().unwrap().unwrap();
    assert_eq!(server.stats().accepted, CONNS as u64);
}

#[test]
fn stalled_handshakes_hit_the_read_deadline_and_leak_nothing() {
    let _one = serial();
    let (cert, _) = pki();
    warm_up_timer();
    let before = open_sockets();
    let server = gonet::Server::new().read_timeout(Duration::from_millis(300));
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let scfg = tls::Config {
        certificates: vec![cert],
        ..Default::default()
    };
    let handled = Arc::new(AtomicUsize::new(0));
    let h2 = handled.clone();
    let serving = gonet::go!(move || s.serve_tls(ln, &scfg, move |_| {
        h2.fetch_add(1, Ordering::SeqCst);
    }));
    // 50 clients that connect and never send a byte, and 50 that send half a hello.
    let mut silent = Vec::new();
    for i in 0..100 {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        if i % 2 == 1 {
            use std::io::Write;
            c.write_all(&[22, 3, 1, 0, 200, 1, 0, 0]).unwrap();
        }
        silent.push(c);
    }
    assert!(eventually(Duration::from_secs(10), || server
        .stats()
        .accepted
        == 100));
    let t0 = Instant::now();
    // Every handshake is cut by the deadline: its coroutine ends, its conn is closed.
    assert!(
        eventually(Duration::from_secs(10), || server.active() == 0),
        "{} handlers still running",
        server.active()
    );
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(
        handled.load(Ordering::SeqCst),
        0,
        "no handler saw an unfinished handshake"
    );
    // The peers see their connections closed.
    for mut c in silent.drain(..) {
        use std::io::Read;
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut sink = Vec::new();
        let _ = c.read_to_end(&mut sink);
    }
    server.shutdown(Duration::from_secs(1));
    serving.join().unwrap().unwrap();
    assert!(
        eventually(Duration::from_secs(5), || open_sockets() <= before),
        "sockets: {} before, {} after",
        before,
        open_sockets()
    );
}

#[test]
fn a_stalled_client_handshake_hits_the_read_deadline() {
    // The client side: a server that accepts and never answers.
    let _one = serial();
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let stalled = || {
        let raw = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
        let peer = ln.accept().unwrap();
        raw.set_read_deadline(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        let conn = tls::client(
            raw,
            &tls::Config {
                insecure_skip_verify: true,
                ..Default::default()
            },
        );
        let t0 = Instant::now();
        let err = conn.handshake().unwrap_err();
        assert!(gonet::is_timeout(&err), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(3));
        // The handshake's error stays (Go's handshakeErr).
        assert_eq!(conn.handshake().unwrap_err().to_string(), err.to_string());
        drop(peer);
    };
    // The first round starts what a process keeps for good (the timer thread, the
    // runtime's helpers); count from the second.
    stalled();
    let before = open_sockets();
    for _ in 0..5 {
        stalled();
    }
    assert!(
        eventually(Duration::from_secs(2), || open_sockets() <= before),
        "sockets: {before} before, {} after 5 stalled handshakes",
        open_sockets()
    );
}
