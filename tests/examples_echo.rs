//! The porting kit's stream and datagram examples beside their Go twins: unix_echo, chat,
//! proxy, udp_echo, spin_echo and tls_echo. The Rust example
//! (built with `cargo build --release --example NAME`) and examples/go/NAME.go (built with
//! `go build`) run as child processes, the same scripted client talks to both, and the
//! bytes that come back must be the same, and the ones the protocol defines (helpers in
//! tests/util/twins.rs).
//!
//! Run: `cargo test --release --test examples_echo`.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

#[path = "util/twins.rs"]
mod twins;

use std::io::Read;
use std::time::{Duration, Instant};

use process::Server;
use twins::{Client, SCRIPT_LIMIT, assert_same_first_line, pattern, start_twins, twins};

// ---------------------------------------------------------------------------------------
// unix_echo
// ---------------------------------------------------------------------------------------

/// Sends 40 uneven chunks, half-closes, and returns what was echoed (must be all of it).
fn echo_script(network: &str, addr: &str) -> Vec<u8> {
    let mut c = Client::connect(network, addr);
    let chunks: Vec<Vec<u8>> = (0..40usize)
        .map(|k| {
            (0..(k * 587 % 7000 + 1))
                .map(|b| (b * k % 251) as u8)
                .collect()
        })
        .collect();
    let (sent, got) = c.send_all_and_read_rest(chunks);
    assert!(
        got == sent,
        "{addr}: echoed {} bytes, sent {}",
        got.len(),
        sent.len()
    );
    got
}

/// Both unix_echo twins: the same echo, the same first line; on SIGTERM (and SIGINT) each
/// exits 0 and removes its socket file; a stale socket file makes both fail at start with
/// Go's message and exit status 1.
#[test]
fn unix_echo_twins_echo_the_same_bytes_and_remove_their_socket_on_sigterm() {
    let dir = util::TempDir::new("unix-echo");
    for (round, sig) in [libc::SIGTERM, libc::SIGINT].into_iter().enumerate() {
        let paths = [
            dir.sock(&format!("rust-{round}.sock")),
            dir.sock(&format!("go-{round}.sock")),
        ];
        let [rust, go] = twins("unix_echo", &[]);
        let mut servers = [rust, go]
            .into_iter()
            .zip(&paths)
            .map(|(mut cmd, path)| {
                cmd.arg(path);
                Server::start(cmd)
            })
            .collect::<Vec<_>>();
        for (s, path) in servers.iter().zip(&paths) {
            assert_eq!(&s.addr, path, "it listens on the path it was given");
            assert!(std::path::Path::new(path).exists());
        }
        let a = echo_script("unix", &paths[0]);
        let b = echo_script("unix", &paths[1]);
        assert!(a == b);
        assert_eq!(
            servers[0].lines_without_addr().first(),
            servers[1].lines_without_addr().first()
        );
        for (s, path) in servers.iter_mut().zip(&paths) {
            s.signal(sig);
            let status = s
                .wait_exit(Duration::from_secs(10))
                .unwrap_or_else(|| panic!("{path}: still running 10 s after signal {sig}"));
            assert_eq!(
                status.code(),
                Some(0),
                "{path}: exit status after signal {sig}"
            );
            assert!(
                !std::path::Path::new(path).exists(),
                "{path}: the socket file is still there"
            );
            assert!(
                s.lines().iter().any(|l| l == "unix_echo: shutting down"),
                "{:?}",
                s.lines()
            );
        }
    }

    // A file left by a killed server: both refuse to start, in Go's words.
    let stale = dir.sock("stale.sock");
    let [rust, _] = twins("unix_echo", &[&stale]);
    let mut killed = Server::start(rust);
    killed.signal(libc::SIGKILL);
    assert!(killed.wait_exit(Duration::from_secs(10)).is_some());
    assert!(
        std::path::Path::new(&stale).exists(),
        "SIGKILL leaves the file"
    );
    let mut texts = Vec::new();
    for cmd in twins("unix_echo", &[&stale]) {
        let (status, stderr) = process::run_to_exit(cmd, Duration::from_secs(30));
        assert_eq!(status.code(), Some(1), "stderr: {stderr}");
        texts.push(stderr);
    }
    assert_eq!(
        texts[0],
        format!("listen unix {stale}: bind: address already in use\n")
    );
    assert_eq!(texts[0], texts[1]);
    drop(killed);
}

// ---------------------------------------------------------------------------------------
// chat
// ---------------------------------------------------------------------------------------

/// The chat script; returns every client's transcript (all it received, in order), with
/// the anonymous client's address replaced by "ANON".
fn chat_script(addr: &str) -> Vec<String> {
    let join = |nick_line: &str, welcome: &str| {
        let mut c = Client::connect("tcp", addr);
        let mut t = c.expect("your nick?");
        c.send(nick_line);
        t += &c.expect(welcome);
        (c, t)
    };
    // alice is first: only she is online.
    let (mut a, mut ta) = join("alice\n", "* welcome, alice; online: alice");
    // bob joins: alice hears of it (her welcome above proves she was registered first).
    let (mut b, mut tb) = join("bob\n", "* welcome, bob; online: alice, bob");
    ta += &a.expect("* bob joined");
    // carol's nick comes with spaces and a CRLF: trimmed.
    let (mut c, mut tc) = join(
        "  carol \r\n",
        "* welcome, carol; online: alice, bob, carol",
    );
    ta += &a.expect("* carol joined");
    tb += &b.expect("* carol joined");

    // A line goes to everyone, the sender included, in the order the broadcaster got it.
    a.send("hello\n");
    for (cl, t) in [(&mut a, &mut ta), (&mut b, &mut tb), (&mut c, &mut tc)] {
        *t += &cl.expect("alice: hello");
    }
    b.send("hi there\r\nhow are you?\n");
    for (cl, t) in [(&mut a, &mut ta), (&mut b, &mut tb), (&mut c, &mut tc)] {
        *t += &cl.expect("bob: hi there");
        *t += &cl.expect("bob: how are you?");
    }

    // An empty nick: the client is named after its address.
    let mut d = Client::connect("tcp", addr);
    let anon = d.conn().local_addr().to_string();
    let mut td = d.expect("your nick?");
    d.send("\n");
    td += &d.expect(&format!(
        "* welcome, {anon}; online: {anon}, alice, bob, carol"
    ));
    for (cl, t) in [(&mut a, &mut ta), (&mut b, &mut tb), (&mut c, &mut tc)] {
        *t += &cl.expect(&format!("* {anon} joined"));
    }
    d.send("/quit\n");
    assert_eq!(d.rest(), b"", "after /quit: end of stream");
    for (cl, t) in [(&mut a, &mut ta), (&mut b, &mut tb), (&mut c, &mut tc)] {
        *t += &cl.expect(&format!("* {anon} left"));
    }

    // carol quits: the connection ends, the others are told.
    c.send("/quit\n");
    assert_eq!(c.rest(), b"", "after /quit: end of stream");
    ta += &a.expect("* carol left");
    tb += &b.expect("* carol left");

    // A line over 64 KiB (bufio.Scanner's limit) ends that client's session unsent.
    let (mut e, te) = join("eve\n", "* welcome, eve; online: alice, bob, eve");
    ta += &a.expect("* eve joined");
    tb += &b.expect("* eve joined");
    let long = "x".repeat(70_000) + "\n";
    let _ = e.conn().write(long.as_bytes()); // the server may reset before it is all sent
    let _ = e.rest();
    ta += &a.expect("* eve left");
    tb += &b.expect("* eve left");

    // bob half-closes (EOF, no /quit): he leaves, and his connection is closed.
    b.conn().close_write().unwrap();
    assert_eq!(b.rest(), b"", "after EOF: end of stream, nothing more");
    ta += &a.expect("* bob left");
    a.send("/quit\n");
    assert_eq!(a.rest(), b"");

    [ta, tb, tc, td, te]
        .into_iter()
        .map(|t| t.replace(&anon, "ANON"))
        .collect()
}

/// The chat twins with five clients (joins, broadcasts, an anonymous nick, /quit, EOF and
/// a too-long line): every client receives exactly the same bytes from both, in the order
/// the protocol defines.
#[test]
fn chat_twins_give_every_client_the_same_transcript() {
    let servers = start_twins("chat", &["127.0.0.1:0"]);
    assert_same_first_line(&servers);
    let rust = chat_script(&servers[0].loopback());
    let go = chat_script(&servers[1].loopback());
    assert_eq!(rust, go);
    assert_eq!(
        rust[0],
        "your nick?\n* welcome, alice; online: alice\n* bob joined\n* carol joined\n\
         alice: hello\nbob: hi there\nbob: how are you?\n* ANON joined\n* ANON left\n\
         * carol left\n* eve joined\n* eve left\n* bob left\n"
    );
}

// ---------------------------------------------------------------------------------------
// proxy
// ---------------------------------------------------------------------------------------

/// An upstream for the proxy: echoes, and once it reads end of stream writes a trailer
/// `-- N bytes --\n` before closing. A client sees the trailer only if the proxy passed its
/// half-close upstream *and* kept the way back open after it.
fn echo_with_trailer() -> (std::sync::Arc<gonet::Listener>, String) {
    let ln = std::sync::Arc::new(gonet::listen("tcp", "127.0.0.1:0").unwrap());
    let addr = ln.addr().to_string();
    let l2 = ln.clone();
    gonet::go!(move || loop {
        let conn = match l2.accept() {
            Ok(c) => c,
            Err(_) => return,
        };
        gonet::go!(move || {
            let _ = conn.set_deadline(Some(Instant::now() + SCRIPT_LIMIT));
            let mut buf = [0u8; 8192];
            let mut total = 0usize;
            loop {
                match conn.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        total += n;
                        if conn.write(&buf[..n]).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
            let _ = conn.write(format!("-- {total} bytes --\n").as_bytes());
        });
    });
    (ln, addr)
}

/// One client through the proxy: writes uneven chunks from a coroutine, half-closes,
/// reads everything; returns what came back.
fn proxy_script(addr: &str, i: usize) -> Vec<u8> {
    let mut c = Client::connect("tcp", addr);
    let chunks: Vec<Vec<u8>> = (0..30usize)
        .map(|k| {
            (0..((k + i) * 1009 % 9000 + 1))
                .map(|b| ((b + k * i) % 253) as u8)
                .collect()
        })
        .collect();
    let (sent, got) = c.send_all_and_read_rest(chunks);
    let mut want = sent.clone();
    want.extend_from_slice(format!("-- {} bytes --\n", sent.len()).as_bytes());
    assert!(
        got == want,
        "{addr} conn {i}: got {} bytes, want {} (trailer: {:?})",
        got.len(),
        want.len(),
        String::from_utf8_lossy(&got[got.len().saturating_sub(30)..])
    );
    got
}

/// The proxy twins in front of an echo server: ten concurrent clients each get every byte
/// back, then (after their half-close went through) the upstream's trailer, then end of
/// stream; and a client whose upstream refuses is closed, with Go's dial error logged.
#[test]
fn proxy_twins_pass_bytes_and_half_closes_both_ways() {
    let (upstream, up_addr) = echo_with_trailer();
    let servers = start_twins("proxy", &["127.0.0.1:0", &up_addr]);
    assert_same_first_line(&servers);
    let mut transcripts = Vec::new();
    for s in &servers {
        let addr = s.loopback();
        let clients: Vec<_> = (0..10)
            .map(|i| {
                let addr = addr.clone();
                std::thread::spawn(move || proxy_script(&addr, i))
            })
            .collect();
        let got: Vec<Vec<u8>> = clients
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect();
        transcripts.push(got);
    }
    assert!(transcripts[0] == transcripts[1]);
    drop(servers);
    let _ = upstream.close();

    // An upstream that refuses: the client's connection is closed, nothing sent.
    let refusing = util::Refusing::new("127.0.0.1");
    let down = refusing.addr.to_string();
    let servers = start_twins("proxy", &["127.0.0.1:0", &down]);
    for s in &servers {
        let mut c = Client::connect("tcp", &s.loopback());
        assert_eq!(c.rest(), b"");
        let want = format!("dial tcp {down}: connect: connection refused");
        let logged = util::eventually(Duration::from_secs(10), || {
            s.lines().iter().any(|l| l.ends_with(&want))
        });
        assert!(logged, "{want:?} not in {:?}", s.lines());
    }
}

// ---------------------------------------------------------------------------------------
// udp_echo
// ---------------------------------------------------------------------------------------

/// Sends `payload` on `c` and returns the echo; a datagram lost on the way (UDP may drop
/// one) is sent again, up to 5 times, each wait bounded.
fn udp_round_trip(c: &gonet::Conn, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 65536];
    for attempt in 1..=5u64 {
        c.write(payload)
            .unwrap_or_else(|e| panic!("write {} bytes: {e}", payload.len()));
        c.set_read_deadline(Some(Instant::now() + Duration::from_secs(attempt)))
            .unwrap();
        match c.read(&mut buf) {
            Ok(n) => return buf[..n].to_vec(),
            Err(e) if gonet::is_timeout(&e) => continue,
            Err(e) => panic!("read the echo of {} bytes: {e}", payload.len()),
        }
    }
    panic!("no echo of {} bytes after 5 tries", payload.len())
}

/// Datagrams of every size, from the empty one to the largest IPv4 UDP payload, from
/// clients on IPv4 and IPv6; then a burst from all of them at once, each reading only its
/// own echoes. Returns every echo, in order; each must be exactly what was sent.
fn udp_echo_script(port: u16) -> Vec<Vec<u8>> {
    let clients: Vec<gonet::Conn> = ["127.0.0.1", "[::1]", "127.0.0.1", "localhost"]
        .iter()
        .map(|host| gonet::dial("udp", &format!("{host}:{port}")).unwrap())
        .collect();
    let mut echoes = Vec::new();
    for (i, size) in [0usize, 1, 7, 64, 512, 1472, 1473, 9000, 65507]
        .into_iter()
        .enumerate()
    {
        for (k, c) in clients.iter().enumerate() {
            let payload = pattern(size, i * 4 + k);
            let got = udp_round_trip(c, &payload);
            assert!(
                got == payload,
                "{size} bytes from client {k}: echoed {} bytes",
                got.len()
            );
            echoes.push(got);
        }
    }
    // A burst: every client sends 8 datagrams before reading; each gets its own back.
    for (k, c) in clients.iter().enumerate() {
        for j in 0..8 {
            c.write(&pattern(100 + j, 1000 + k)).unwrap();
        }
    }
    for (k, c) in clients.iter().enumerate() {
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        c.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        while got.len() < 8 {
            match c.read(&mut buf) {
                Ok(n) => got.push(buf[..n].to_vec()),
                // Loopback may drop some of a burst; what arrives must be right.
                Err(e) if gonet::is_timeout(&e) => break,
                Err(e) => panic!("client {k}: {e}"),
            }
        }
        for g in &got {
            let j = g.len() - 100;
            assert!(
                *g == pattern(100 + j, 1000 + k),
                "client {k}: a stranger's echo"
            );
        }
        assert!(
            !got.is_empty(),
            "client {k}: nothing of its burst came back"
        );
    }
    echoes
}

/// Both udp_echo twins: every datagram comes back whole to its own sender, the same
/// bytes from both, and the same first line; a bad address stops both at start with
/// Go's message and exit status 1.
#[test]
fn udp_echo_twins_send_every_datagram_back_to_its_sender() {
    let servers = start_twins("udp_echo", &[":0"]);
    assert_same_first_line(&servers);
    assert!(servers[0].addr.starts_with("[::]:"), "{}", servers[0].addr);
    let rust = udp_echo_script(servers[0].port());
    let go = udp_echo_script(servers[1].port());
    assert!(rust == go);
    for (args, want) in [
        (":99999", "listen udp: address 99999: invalid port\n"),
        ("[::1", "listen udp: address [::1: missing ']' in address\n"),
    ] {
        let mut texts = Vec::new();
        for cmd in twins("udp_echo", &[args]) {
            let (status, stderr) = process::run_to_exit(cmd, Duration::from_secs(30));
            assert_eq!(status.code(), Some(1), "stderr: {stderr}");
            texts.push(stderr);
        }
        assert_eq!(texts[0], want);
        assert_eq!(texts[0], texts[1]);
    }
}

// ---------------------------------------------------------------------------------------
// spin_echo
// ---------------------------------------------------------------------------------------

/// A client's view of a spin_echo server: lines echoed, then one connection sends SPIN
/// (its handler never comes back) and 20 fresh connections are each still echoed.
fn spin_script(addr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut c = Client::connect("tcp", addr);
    for line in ["hello", "", "a longer line with spaces"] {
        c.send(&format!("{line}\n"));
        out.push(c.line());
    }
    c.send("SPIN\n");
    for i in 0..20 {
        let mut fresh = Client::connect("tcp", addr);
        fresh.send(&format!("fresh {i}\n"));
        out.push(fresh.line());
    }
    out
}

#[test]
fn spin_echo_twins_serve_others_while_one_handler_spins() {
    let servers = start_twins("spin_echo", &["127.0.0.1:0"]);
    assert_same_first_line(&servers);
    let [rust, go] = servers.map(|s| {
        let addr = s.addr.clone();
        (spin_script(&addr), s)
    });
    assert_eq!(rust.0, go.0);
    assert_eq!(rust.0.len(), 23);
}

// ---------------------------------------------------------------------------------------
// tls_echo

/// Sends 40 uneven chunks over TLS to the echo at `addr`, trusting `ca_pem`, then sends
/// close_notify; returns what came back before the server's close_notify.
fn tls_echo_script(addr: &str, ca_pem: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use gonet::crypto::{tls, x509};
    let mut roots = x509::CertPool::new();
    assert!(roots.append_certs_from_pem(ca_pem));
    let cfg = tls::Config {
        root_cas: Some(roots),
        server_name: "localhost".into(),
        ..Default::default()
    };
    let conn = tls::dial("tcp", addr, &cfg).unwrap_or_else(|e| panic!("tls dial {addr}: {e}"));
    conn.set_deadline(Some(Instant::now() + SCRIPT_LIMIT))
        .unwrap();
    let chunks: Vec<Vec<u8>> = (0..40)
        .map(|i| {
            (0..(i * 977 % 5000 + 1))
                .map(|k| ((i + k) % 251) as u8)
                .collect()
        })
        .collect();
    let sent = chunks.concat();
    let w = conn.clone();
    let writer = gonet::go!(move || -> std::io::Result<()> {
        for chunk in &chunks {
            w.write(chunk)?;
        }
        w.close_write()
    });
    let mut got = Vec::new();
    (&mut &conn)
        .read_to_end(&mut got)
        .expect("read to close_notify");
    writer
        .join()
        .expect("writer")
        .expect("write and close_write");
    (sent, got)
}

/// Both tls_echo twins with a certificate given: the same first line, every byte
/// echoed over TLS; and, given none, each generates one, says where, and serves with it.
#[test]
fn tls_echo_twins_echo_the_same_bytes_over_tls() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = util::TempDir::new("tls-echo");
    let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let (cert_s, key_s) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let servers = start_twins("tls_echo", &["127.0.0.1:0", cert_s, key_s]);
    assert_same_first_line(&servers);
    let results: Vec<(Vec<u8>, Vec<u8>)> = servers
        .iter()
        .map(|s| tls_echo_script(&s.addr, ck.cert.pem().as_bytes()))
        .collect();
    for (sent, got) in &results {
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "echo differs from what was sent");
    }
    assert_eq!(results[0].1, results[1].1);

    // No certificate: each twin writes one and prints its path first.
    for s in start_twins("tls_echo", &["127.0.0.1:0"]) {
        let lines = s.lines();
        let first = &lines[0];
        let rest = first
            .strip_prefix("tls_echo: generated a self-signed certificate for localhost: ")
            .unwrap_or_else(|| panic!("first line: {first:?}"));
        let (cert_path, _) = rest.split_once(" (key ").expect("key path");
        let pem = std::fs::read(cert_path).expect("the generated certificate");
        let (sent, got) = tls_echo_script(&s.addr, &pem);
        assert!(got == sent);
        let _ = std::fs::remove_dir_all(std::path::Path::new(cert_path).parent().unwrap());
    }
}
