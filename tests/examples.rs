//! The porting kit's examples as users run them, each beside its Go twin: the Rust example
//! (built with `cargo build --release --example NAME`) and examples/go/NAME.go (built with
//! `go build`) run as child processes, the same scripted client talks to both, and the
//! bytes that come back must be the same, and the ones the protocol defines.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use process::Server;

/// How long any one client script may take, end to end (every read and write has this
/// deadline).
const SCRIPT_LIMIT: Duration = Duration::from_secs(30);

/// The Rust example's binary, built on first use by the cargo that runs the tests.
fn rust_example(name: &str) -> PathBuf {
    util::build::example(name)
}

/// The Go twin's binary: examples/go/NAME.go, built once with `go build`.
fn go_twin(name: &str) -> PathBuf {
    match name {
        // --proxy-protocol: go-proxyproto, from Debian's golang-github-pires-go-proxyproto-dev.
        "fleet" => go_util::go_binary_with_debian_lib(
            "examples/go/fleet.go",
            "github.com/pires/go-proxyproto",
        ),
        _ => go_util::go_binary(&format!("examples/go/{name}.go")),
    }
}

/// The Rust example and its Go twin, in that order, as commands with `args`.
fn twins(name: &str, args: &[&str]) -> [Command; 2] {
    [rust_example(name), go_twin(name)].map(|bin| {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        cmd
    })
}

/// Both twins started with `args`: [Rust, Go].
fn start_twins(name: &str, args: &[&str]) -> [Server; 2] {
    twins(name, args).map(Server::start)
}

/// Asserts the twins printed the same first line, the address aside.
fn assert_same_first_line(servers: &[Server; 2]) {
    let first = |s: &Server| s.lines_without_addr().into_iter().next();
    assert_eq!(first(&servers[0]), first(&servers[1]));
}

/// A line-oriented client with a deadline on everything it does.
struct Client {
    r: BufReader<gonet::Conn>,
}

impl Client {
    fn connect(network: &str, addr: &str) -> Client {
        let conn = gonet::dial(network, addr).unwrap_or_else(|e| panic!("dial {addr}: {e}"));
        conn.set_deadline(Some(Instant::now() + SCRIPT_LIMIT))
            .unwrap();
        Client {
            r: BufReader::new(conn),
        }
    }

    fn conn(&self) -> &gonet::Conn {
        self.r.get_ref()
    }

    fn send(&self, s: &str) {
        self.conn()
            .write(s.as_bytes())
            .unwrap_or_else(|e| panic!("write {s:?}: {e}"));
    }

    /// The next line, "\n" included; panics at end of stream or on an error.
    fn line(&mut self) -> String {
        let mut s = String::new();
        match self.r.read_line(&mut s) {
            Ok(0) => panic!("end of stream, wanted a line"),
            Ok(_) => s,
            Err(e) => panic!("reading a line: {e} (got {s:?} so far)"),
        }
    }

    /// Asserts the next line is `want` (without its "\n") and returns it.
    fn expect(&mut self, want: &str) -> String {
        let got = self.line();
        assert_eq!(got, format!("{want}\n"));
        got
    }

    /// Writes `chunks` from a coroutine, then half-closes, while reading everything that
    /// comes back until end of stream. Returns (what was sent, what came back).
    fn send_all_and_read_rest(&mut self, chunks: Vec<Vec<u8>>) -> (Vec<u8>, Vec<u8>) {
        let sent = chunks.concat();
        let conn = self.conn().clone();
        let writer = gonet::go!(move || -> std::io::Result<()> {
            for chunk in &chunks {
                conn.write(chunk)?;
            }
            conn.close_write()
        });
        let got = self.rest();
        writer
            .join()
            .expect("writer")
            .expect("write and close_write");
        (sent, got)
    }

    /// Reads until end of stream; a reset counts as the end. Returns what came first.
    fn rest(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        match self.r.read_to_end(&mut v) {
            Ok(_) => v,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => v,
            Err(e) => panic!("reading to the end: {e} (got {v:?})"),
        }
    }
}

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
// http
// ---------------------------------------------------------------------------------------

/// A response as the test compares it: the status code, Content-Type, nosniff and body
/// (and the whole response, Date aside, in `raw`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reply {
    code: u16,
    content_type: Option<String>,
    nosniff: bool,
    body: String,
}

/// Reads one HTTP/1.1 response (Content-Length framed, as both servers send): its
/// status line, its parts, and its whole text with the Date value replaced by "X".
fn read_reply(r: &mut BufReader<gonet::Conn>) -> (String, Reply, String) {
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    let mut raw = status.clone();
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let (mut len, mut content_type, mut nosniff) = (None, None, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
        if h.starts_with("Date: ") {
            raw.push_str("Date: X\r\n");
        } else {
            raw.push_str(&h);
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').expect("a header");
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => len = Some(value.parse::<usize>().expect("a length")),
            "content-type" => content_type = Some(value),
            "x-content-type-options" => nosniff = value == "nosniff",
            _ => {}
        }
    }
    let mut body = vec![0u8; len.expect("Content-Length")];
    r.read_exact(&mut body).expect("body");
    let body = String::from_utf8(body).expect("a UTF-8 body");
    raw.push_str(&body);
    (
        status.trim_end().to_string(),
        Reply {
            code,
            content_type,
            nosniff,
            body,
        },
        raw,
    )
}

const PATHS: &[&str] = &["/", "/json", "/nope", "/json?pretty=1", "/?q=1", "/json/"];

/// GETs every path on one keep-alive connection, then all of them again pipelined.
fn http_script(addr: &str) -> Vec<(String, Reply, String)> {
    let c = Client::connect("tcp", addr);
    let mut r = c.r;
    let get = |p: &str| format!("GET {p} HTTP/1.1\r\nHost: gonet.test\r\nUser-Agent: t\r\n\r\n");
    let mut replies = Vec::new();
    for p in PATHS {
        r.get_ref().write(get(p).as_bytes()).unwrap();
        replies.push(read_reply(&mut r));
    }
    let batch: String = PATHS.iter().map(|p| get(p)).collect();
    r.get_ref().write(batch.as_bytes()).unwrap();
    for _ in PATHS {
        replies.push(read_reply(&mut r));
    }
    replies
}

/// What every path answers: "/" and "/json" (query or not) are 200, anything else is
/// Go's 404.
fn http_want(p: &str) -> Reply {
    let text = |c: &str| Some(format!("text/{c}; charset=utf-8"));
    match p.split('?').next().unwrap() {
        "/" => Reply {
            code: 200,
            content_type: text("plain"),
            nosniff: false,
            body: "Hello, World!".into(),
        },
        "/json" => Reply {
            code: 200,
            content_type: Some("application/json".into()),
            nosniff: false,
            body: r#"{"message":"Hello, World!"}"#.into(),
        },
        _ => Reply {
            code: 404,
            content_type: text("plain"),
            nosniff: true,
            body: "404 page not found\n".into(),
        },
    }
}

/// The http twins (gonet::net::http and net/http) answer every path with the same
/// bytes, Date aside: sequential and pipelined requests alike.
#[test]
fn http_twins_answer_the_same_bytes() {
    let servers = start_twins("http", &["127.0.0.1:0"]);
    assert_same_first_line(&servers);
    let rust = http_script(&servers[0].loopback());
    let go = http_script(&servers[1].loopback());
    for (who, replies) in [("rust", &rust), ("go", &go)] {
        assert_eq!(replies.len(), 2 * PATHS.len());
        for (i, (_, reply, _)) in replies.iter().enumerate() {
            let p = PATHS[i % PATHS.len()];
            assert_eq!(reply, &http_want(p), "{who} GET {p}");
        }
    }
    for (i, (r, g)) in rust.iter().zip(&go).enumerate() {
        assert_eq!(r.2, g.2, "GET {}", PATHS[i % PATHS.len()]);
    }
    assert_eq!(go[0].0, "HTTP/1.1 200 OK");
}

/// The may_minihttp version (examples/minihttp.rs, the benchmark peer) answers the same
/// status codes, Content-Types and bodies as net/http; its one documented difference
/// is the 200 reason phrase.
#[test]
fn minihttp_answers_the_same_status_and_bodies_as_go() {
    let rust = Server::start({
        let mut c = Command::new(rust_example("minihttp"));
        c.arg("127.0.0.1:0");
        c
    });
    let replies = http_script(&rust.loopback());
    assert_eq!(replies.len(), 2 * PATHS.len());
    for (i, (status, reply, _)) in replies.iter().enumerate() {
        let p = PATHS[i % PATHS.len()];
        assert_eq!(reply, &http_want(p), "minihttp GET {p}");
        if reply.code == 404 {
            assert_eq!(status, "HTTP/1.1 404 Not Found", "GET {p}");
        }
    }
    assert_eq!(replies[0].0, "HTTP/1.1 200 Ok");
}

// ---------------------------------------------------------------------------------------
// graceful
// ---------------------------------------------------------------------------------------

/// Bytes that differ from position to position and from `seed` to `seed`.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13) % 251) as u8)
        .collect()
}

/// Waits (bounded) until the server has printed `line`.
fn wait_for_line(s: &Server, line: &str) {
    let seen = util::eventually(Duration::from_secs(10), || {
        s.lines().iter().any(|l| l == line)
    });
    assert!(seen, "{line:?} not printed: {:?}", s.lines());
}

/// SIGTERM while a client is mid-transfer, grace 10 s: the listener closes (new dials are
/// refused), the client goes on and gets every byte it sent echoed, the server exits 0.
/// Returns the server's stderr lines, the address replaced by "ADDR".
fn graceful_drains(bin: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "10s"]);
    let mut s = Server::start(cmd);
    let addr = s.loopback();
    let mut c = Client::connect("tcp", &addr);
    // In flight: the first part is echoed before the signal.
    let first = pattern(20_000, 1);
    c.conn().write(&first).unwrap();
    let mut got = vec![0u8; first.len()];
    c.conn().read_full(&mut got).unwrap();
    assert!(got == first);

    s.signal(libc::SIGTERM);
    wait_for_line(&s, "graceful: shutting down");
    let err = gonet::dial("tcp", &addr).expect_err("a new conn after the signal");
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: connect: connection refused")
    );

    // The conn in flight is still served: more bytes, a half-close, all of it echoed.
    let second = pattern(30_000, 2);
    let conn = c.conn().clone();
    let to_send = second.clone();
    let writer = gonet::go!(move || -> std::io::Result<()> {
        conn.write(&to_send)?;
        conn.close_write()
    });
    let rest = c.rest();
    writer
        .join()
        .expect("writer")
        .expect("write and close_write");
    assert!(
        rest == second,
        "echoed {} bytes after the signal, sent {}",
        rest.len(),
        second.len()
    );
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    s.lines_without_addr()
}

/// SIGTERM with grace 300 ms while a client stays connected: after the grace period the
/// server closes it (the client reads EOF) and exits 0. Returns the stderr lines.
fn graceful_cuts_after_grace(bin: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "300ms"]);
    let mut s = Server::start(cmd);
    let mut c = Client::connect("tcp", &s.loopback());
    c.send("x");
    let mut b = [0u8; 1];
    c.conn().read_full(&mut b).unwrap();
    let t0 = Instant::now();
    s.signal(libc::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "it waited out the grace period"
    );
    assert_eq!(c.rest(), b"", "closed by the server");
    s.lines_without_addr()
}

const DRAINED: &[&str] = &[
    "graceful: listening on ADDR",
    "graceful: shutting down",
    "graceful: all connections finished",
];
const CUT: &[&str] = &[
    "graceful: listening on ADDR",
    "graceful: shutting down",
    "graceful: grace period over, closing 1 connections",
];

/// Both graceful twins: on SIGTERM mid-transfer the conn in flight gets every byte echoed,
/// new dials are refused, exit 0; with a short grace the straggler is cut; the same lines.
#[test]
fn graceful_twins_shut_down_the_same_way() {
    for bin in [rust_example("graceful"), go_twin("graceful")] {
        assert_eq!(graceful_drains(&bin), DRAINED, "{}", bin.display());
        assert_eq!(graceful_cuts_after_grace(&bin), CUT, "{}", bin.display());
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

// ---------------------------------------------------------------------------------------
// goroutines: the same program parks the same number of goroutines
// ---------------------------------------------------------------------------------------

#[test]
fn goroutines_twins_park_and_finish_the_same() {
    // 100,000 need lightweight guard pages (Linux 6.13+); with mprotect guards every
    // stack is two mappings and about 32,700 fit the default vm.max_map_count.
    let many = match gonet::runtime::stack_guard() {
        gonet::runtime::StackGuard::Lightweight => "100000",
        _ => "20000",
    };
    for [rust, go] in [[many], ["1"]].map(|args| twins("goroutines", &args)) {
        let outs = [rust, go].map(|mut cmd| {
            let out = cmd.output().expect("run a goroutines twin");
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The measurements (stderr) differ; each names the same fields.
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            for key in [
                "oneoff_go_ns=",
                "burst_ns=",
                "rss_per_goroutine=",
                "maps=",
                "release_ms=",
            ] {
                assert!(
                    stderr.contains(key),
                    "{cmd:?} did not measure {key}: {stderr}"
                );
            }
            out.stdout
        });
        assert_eq!(
            String::from_utf8_lossy(&outs[0]),
            String::from_utf8_lossy(&outs[1])
        );
    }
}

// ---------------------------------------------------------------------------------------
// rest: a JSON API over patterns, a logging middleware, SIGTERM shutdown
// ---------------------------------------------------------------------------------------

/// Reads one response and returns it whole, the Date value replaced by "X". No body
/// after a HEAD, a 1xx, a 204 or a 304; else Content-Length bytes, or (no length, not
/// chunked) everything to the end of the stream.
fn rest_response(r: &mut BufReader<gonet::Conn>, head: bool) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    raw.extend_from_slice(status.as_bytes());
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let mut len = None;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
        if h.starts_with("Date: ") {
            raw.extend_from_slice(b"Date: X\r\n");
        } else {
            raw.extend_from_slice(h.as_bytes());
        }
        match h.trim_end().split_once(':') {
            None => break,
            Some((name, v)) if name.eq_ignore_ascii_case("content-length") => {
                len = Some(v.trim().parse::<usize>().expect("a length"))
            }
            Some((name, v)) if name.eq_ignore_ascii_case("transfer-encoding") => {
                panic!("a chunked answer ({v}): this script's answers are small")
            }
            Some(_) => {}
        }
    }
    if head || code < 200 || code == 204 || code == 304 {
        return raw;
    }
    match len {
        Some(n) => {
            let mut body = vec![0u8; n];
            r.read_exact(&mut body).expect("body");
            raw.extend_from_slice(&body);
        }
        None => {
            r.read_to_end(&mut raw).expect("a body to the end");
        }
    }
    raw
}

/// One request of the rest script: its bytes; for `Expect: 100-continue`, the head
/// goes first, and the body after the interim answer.
struct RestStep {
    head: Vec<u8>,
    body: Vec<u8>,
    expect_continue: bool,
}

fn rest_req(method: &str, path: &str) -> RestStep {
    RestStep {
        head: format!("{method} {path} HTTP/1.1\r\nHost: rest.test\r\nUser-Agent: t\r\n\r\n")
            .into_bytes(),
        body: Vec::new(),
        expect_continue: false,
    }
}

fn rest_post(body: &[u8]) -> RestStep {
    RestStep {
        head: format!(
            "POST /items HTTP/1.1\r\nHost: rest.test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body: body.to_vec(),
        expect_continue: false,
    }
}

/// The rest script: every route, Go's JSON rules in and out, and the errors: 400s on
/// bodies encoding/json refuses, 404s, 405s with Allow, 413 past the body limit (the
/// connection stays: the logging middleware's writer hides the server's from
/// `max_bytes_reader`, as in Go), a cleaning redirect, HEAD, a chunked body,
/// 100-continue.
fn rest_steps() -> Vec<(&'static str, RestStep)> {
    let mut chunked = rest_post(b"");
    chunked.head =
        b"POST /items HTTP/1.1\r\nHost: rest.test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked.body = b"9\r\n{\"name\":\"\r\n11\r\nchunked\",\"qty\":7}\r\n0\r\n\r\n".to_vec();
    let mut continued = rest_post(br#"{"name":"continued","qty":8}"#);
    continued.head = b"POST /items HTTP/1.1\r\nHost: rest.test\r\nExpect: 100-continue\r\n\
                       Content-Length: 28\r\n\r\n"
        .to_vec();
    continued.expect_continue = true;
    let mut too_large = rest_post(&[b' '; 70_000]);
    too_large.body[0] = b'{';
    vec![
        ("empty list", rest_req("GET", "/items")),
        ("create", rest_post(br#"{"name":"apple","qty":3}"#)),
        (
            "keys any case, last wins, unknown skipped, HTML escaped",
            rest_post(
                br#"{"NAME":"<pear> & \u2028 \u2029","Qty":1,"qty":2,"extra":[1,{"a":null}]}"#,
            ),
        ),
        (
            "invalid UTF-8 is U+FFFD",
            rest_post(b"{\"name\":\"caf\xe9 \xe2\x82x \xed\xa0\x80\"}"),
        ),
        (
            "control characters",
            rest_post(r#"{"name":"t\tn\nr\rb\bf\fz\u0000d\u007f\u001f/\/é"}"#.as_bytes()),
        ),
        (
            "trailing space",
            rest_post(b" {\"name\":\"spaced\"} \r\n\t"),
        ),
        (
            "max int",
            rest_post(br#"{"name":"big","qty":9223372036854775807}"#),
        ),
        ("chunked body", chunked),
        ("100-continue", continued),
        ("null name", rest_post(br#"{"name":null,"qty":1}"#)),
        ("null body", rest_post(b"null")),
        ("empty name", rest_post(br#"{"name":""}"#)),
        ("negative qty", rest_post(br#"{"name":"x","qty":-1}"#)),
        ("fraction", rest_post(br#"{"name":"x","qty":1.5}"#)),
        ("exponent", rest_post(br#"{"name":"x","qty":1e2}"#)),
        (
            "past int64",
            rest_post(br#"{"name":"x","qty":9223372036854775808}"#),
        ),
        ("string qty", rest_post(br#"{"name":"x","qty":"1"}"#)),
        ("number name", rest_post(br#"{"name":5}"#)),
        ("array", rest_post(b"[1]")),
        ("string", rest_post(b"\"x\"")),
        ("empty body", rest_post(b"")),
        ("truncated", rest_post(br#"{"name":"x""#)),
        ("trailing comma", rest_post(br#"{"name":"x",}"#)),
        ("trailing data", rest_post(br#"{"name":"x"} {}"#)),
        ("bad escape", rest_post(br#"{"name":"\x"}"#)),
        ("raw control", rest_post(b"{\"name\":\"a\x01\"}")),
        ("list", rest_req("GET", "/items")),
        ("list with query", rest_req("GET", "/items?full=1")),
        ("get", rest_req("GET", "/items/2")),
        ("get +2", rest_req("GET", "/items/+2")),
        ("get missing", rest_req("GET", "/items/99")),
        ("get negative", rest_req("GET", "/items/-1")),
        ("get not a number", rest_req("GET", "/items/abc")),
        ("head list", rest_req("HEAD", "/items")),
        ("head item", rest_req("HEAD", "/items/1")),
        ("delete", rest_req("DELETE", "/items/1")),
        ("delete again", rest_req("DELETE", "/items/1")),
        ("delete not a number", rest_req("DELETE", "/items/x")),
        ("get deleted", rest_req("GET", "/items/1")),
        ("PUT list: 405", rest_req("PUT", "/items")),
        ("DELETE list: 405", rest_req("DELETE", "/items")),
        ("PATCH item: 405", rest_req("PATCH", "/items/2")),
        ("POST item: 405", rest_req("POST", "/items/2")),
        ("root: 404", rest_req("GET", "/")),
        ("empty id: 404", rest_req("GET", "/items/")),
        ("deeper: 404", rest_req("GET", "/items/2/x")),
        ("elsewhere: 404", rest_req("GET", "/nope")),
        ("unclean: 301", rest_req("GET", "/items/../items")),
        (
            "413 (a wrapped writer: the connection stays, as in Go)",
            too_large,
        ),
        ("after 413: the same connection", rest_req("GET", "/items")),
    ]
}

/// Runs the rest script against `addr`, a new connection whenever the server closed
/// one, and returns every answer (a closing server adds "<closed>").
fn rest_script(addr: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut c = Client::connect("tcp", addr);
    let mut answers = Vec::new();
    for (name, step) in rest_steps() {
        let head = step.head.starts_with(b"HEAD ");
        c.conn().write(&step.head).expect("write a request head");
        let mut got = Vec::new();
        if step.expect_continue {
            got = rest_response(&mut c.r, false);
        }
        if !step.body.is_empty() {
            c.conn().write(&step.body).expect("write a request body");
        }
        got.extend(rest_response(&mut c.r, head));
        let closes = String::from_utf8_lossy(&got).contains("\r\nConnection: close\r\n");
        if closes {
            assert_eq!(c.rest(), b"", "{name}: bytes after a closing answer");
            got.extend_from_slice(b"<closed>");
            c = Client::connect("tcp", addr);
        }
        answers.push((name, got));
    }
    answers
}

/// A log line without its `2009/11/10 23:00:00 ` prefix (which must be there: Go's
/// standard flags) and with the listening address as "ADDR".
fn rest_log_line(s: &Server, line: &str) -> String {
    let (stamp, rest) = line.split_at(line.len().min(20));
    let shape = stamp.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'/',
        10 | 19 => b == b' ',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    assert!(shape && stamp.len() == 20, "no Go log timestamp: {line:?}");
    rest.replace(&s.addr, "ADDR")
}

fn rest_log(s: &Server) -> Vec<String> {
    s.lines().iter().map(|l| rest_log_line(s, l)).collect()
}

/// The first status line of each answer in the script, for the assertions that do
/// not need Go: what each step must answer.
const REST_STATUSES: &[u16] = &[
    200, 201, 201, 201, 201, 201, 201, 201, 100, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,
    400, 400, 400, 400, 400, 400, 400, 200, 200, 200, 200, 404, 404, 400, 200, 200, 204, 404, 400,
    404, 405, 405, 405, 405, 404, 404, 404, 404, 301, 413, 200,
];

/// The rest twins (gonet::net::http with Go 1.22 patterns, and net/http routed by hand)
/// answer the whole script with the same bytes, Date aside, log the same lines, and on
/// SIGTERM with nothing in flight stop and exit 0.
#[test]
fn rest_twins_answer_the_same_bytes_and_log_the_same_lines() {
    let mut servers = start_twins("rest", &["127.0.0.1:0"]);
    let rust = rest_script(&servers[0].loopback());
    let go = rest_script(&servers[1].loopback());
    assert_eq!(rust.len(), REST_STATUSES.len());
    for ((name, r), (_, g)) in rust.iter().zip(&go) {
        assert!(
            r == g,
            "{name}:\n--- gonet\n{}\n--- Go\n{}",
            String::from_utf8_lossy(r),
            String::from_utf8_lossy(g)
        );
    }
    for ((name, g), want) in go.iter().zip(REST_STATUSES) {
        let status = format!("HTTP/1.1 {want} ");
        assert!(
            g.starts_with(status.as_bytes()),
            "{name}: {}",
            String::from_utf8_lossy(g)
        );
    }
    let list = &go.iter().find(|(n, _)| *n == "list").unwrap().1;
    assert!(
        list.ends_with(
            "[{\"id\":1,\"name\":\"apple\",\"qty\":3},\
         {\"id\":2,\"name\":\"\\u003cpear\\u003e \\u0026 \\u2028 \\u2029\",\"qty\":2},\
         {\"id\":3,\"name\":\"caf\u{fffd} \u{fffd}\u{fffd}x \u{fffd}\u{fffd}\u{fffd}\",\"qty\":0},\
         {\"id\":4,\"name\":\"t\\tn\\nr\\rb\\u0008f\\u000cz\\u0000d\u{7f}\\u001f//é\",\"qty\":0},\
         {\"id\":5,\"name\":\"spaced\",\"qty\":0},\
         {\"id\":6,\"name\":\"big\",\"qty\":9223372036854775807},\
         {\"id\":7,\"name\":\"chunked\",\"qty\":7},\
         {\"id\":8,\"name\":\"continued\",\"qty\":8}]\n"
                .as_bytes()
        )
    );
    for s in &mut servers {
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
        assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    }
    let [rust_log, go_log] = [rest_log(&servers[0]), rest_log(&servers[1])];
    assert_eq!(rust_log, go_log);
    assert_eq!(go_log.first().unwrap(), "rest: listening on ADDR");
    assert!(
        go_log.contains(&"PUT /items 405 19".to_string()),
        "{go_log:?}"
    );
    assert!(
        go_log.contains(&"GET /items?full=1 200 369".to_string()),
        "{go_log:?}"
    );
    assert_eq!(
        go_log[go_log.len() - 2..],
        ["rest: shutting down", "rest: stopped"]
    );
}

/// SIGTERM while a request is in its handler (a 100-continue POST whose body is not sent
/// yet) and another connection is idle: the listener closes (new dials are refused) and
/// the idle connection with it; the request in flight finishes, answered with
/// `Connection: close`; then "rest: stopped" and exit 0. Returns the in-flight answer
/// and the log.
fn rest_drains(bin: &PathBuf) -> (Vec<u8>, Vec<String>) {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "10s"]);
    let mut s = Server::start(cmd);
    let addr = s.loopback();
    let mut idle = Client::connect("tcp", &addr);
    idle.conn().write(&rest_req("GET", "/items").head).unwrap();
    rest_response(&mut idle.r, false);

    let mut busy = Client::connect("tcp", &addr);
    let body = br#"{"name":"in flight","qty":1}"#;
    let head = format!(
        "POST /items HTTP/1.1\r\nHost: rest.test\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    busy.conn().write(head.as_bytes()).unwrap();
    // The 100 Continue comes once the handler reads the body: it is running.
    let mut answer = rest_response(&mut busy.r, false);

    s.signal(libc::SIGTERM);
    let seen = util::eventually(Duration::from_secs(10), || {
        s.lines()
            .iter()
            .any(|l| l.ends_with(" rest: shutting down"))
    });
    assert!(seen, "no shutting down line: {:?}", s.lines());
    let err = gonet::dial("tcp", &addr).expect_err("a new conn after the signal");
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: connect: connection refused")
    );
    assert_eq!(idle.rest(), b"", "the idle connection is closed");

    busy.conn().write(body).unwrap();
    answer.extend(rest_response(&mut busy.r, false));
    assert_eq!(busy.rest(), b"", "closed after the answer");
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{:?}", s.lines());
    (answer, rest_log(&s))
}

/// SIGTERM with grace 300 ms while a request stays in its handler: Shutdown gives up
/// with "context deadline exceeded", exit 1. Returns the log.
fn rest_gives_up(bin: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1:0", "300ms"]);
    let mut s = Server::start(cmd);
    let mut busy = Client::connect("tcp", &s.loopback());
    busy.conn()
        .write(b"POST /items HTTP/1.1\r\nHost: rest.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    rest_response(&mut busy.r, false);
    let t0 = Instant::now();
    s.signal(libc::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(1), "{:?}", s.lines());
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "it waited out the grace"
    );
    rest_log(&s)
}

/// Both rest twins shut down on SIGTERM the same way: the request in flight is served
/// to its end (same bytes), idle and new connections are not; past the grace period
/// both give up with Go's context error.
#[test]
fn rest_twins_finish_the_request_in_flight_on_sigterm() {
    let [rust, go] = [rust_example("rest"), go_twin("rest")].map(|bin| rest_drains(&bin));
    assert!(
        rust.0 == go.0,
        "--- gonet\n{}\n--- Go\n{}",
        String::from_utf8_lossy(&rust.0),
        String::from_utf8_lossy(&go.0)
    );
    let text = String::from_utf8_lossy(&go.0);
    assert!(
        text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert_eq!(rust.1, go.1);
    assert_eq!(
        go.1,
        [
            "rest: listening on ADDR",
            "GET /items 200 3",
            "rest: shutting down",
            "POST /items 201 36",
            "rest: stopped"
        ]
    );

    let [rust, go] = [rust_example("rest"), go_twin("rest")].map(|bin| rest_gives_up(&bin));
    assert_eq!(rust, go);
    assert_eq!(
        go,
        [
            "rest: listening on ADDR",
            "rest: shutting down",
            "rest: shutdown: context deadline exceeded"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// fanout: errgroup.WithContext fans out dials; the first failure cancels the rest
// ---------------------------------------------------------------------------------------

/// What the fanout backends have seen in the current run: OK backends whose client has
/// read its line and closed, silent backends whose client is connected and waiting.
#[derive(Default)]
struct FanoutSeen {
    ok_closed: usize,
    silent_accepted: usize,
    /// What fanout_err waits for in this run: (OK clients closed, silent clients waiting).
    want: (usize, usize),
}

type FanoutState = std::sync::Arc<(std::sync::Mutex<FanoutSeen>, std::sync::Condvar)>;

/// A backend on 127.0.0.1 that handles every connection with `serve` (a thread each);
/// returns its address. The listener lives as long as the test process.
fn fanout_backend(state: &FanoutState, serve: fn(std::net::TcpStream, &FanoutState)) -> String {
    let ln = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a backend");
    let addr = ln.local_addr().expect("backend address").to_string();
    let state = state.clone();
    std::thread::spawn(move || {
        for conn in ln.incoming().flatten() {
            let state = state.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(SCRIPT_LIMIT));
                serve(conn, &state)
            });
        }
    });
    addr
}

/// Waits (bounded) until the peer closes `conn`.
fn until_closed(mut conn: &std::net::TcpStream) {
    let _ = conn.read_to_end(&mut Vec::new());
}

/// Sends "OK <port>", then counts the client's close.
fn fanout_ok(mut conn: std::net::TcpStream, state: &FanoutState) {
    use std::io::Write;
    let port = conn.local_addr().map(|a| a.port()).unwrap_or(0);
    let _ = writeln!(conn, "OK port {port}");
    until_closed(&conn);
    let (seen, cv) = &**state;
    seen.lock().unwrap().ok_closed += 1;
    cv.notify_all();
}

/// Sends nothing: the client waits on its read until the group's context ends it.
fn fanout_silent(conn: std::net::TcpStream, state: &FanoutState) {
    {
        let (seen, cv) = &**state;
        seen.lock().unwrap().silent_accepted += 1;
        cv.notify_all();
    }
    until_closed(&conn);
}

/// Fails ("ERR overloaded") once every OK backend's client has closed and every silent
/// backend's client is waiting (the counts are the test's, set before each run), so the
/// failure is the first thing to end a dial or a read.
fn fanout_err(mut conn: std::net::TcpStream, state: &FanoutState) {
    use std::io::Write;
    let (seen, cv) = &**state;
    let guard = seen.lock().unwrap();
    let (ok, silent) = guard.want;
    let (_guard, timeout) = cv
        .wait_timeout_while(guard, SCRIPT_LIMIT, |s| {
            s.ok_closed < ok || s.silent_accepted < silent
        })
        .unwrap();
    assert!(
        !timeout.timed_out(),
        "the fanout's other backends never got their clients"
    );
    let _ = conn.write_all(b"ERR overloaded\n");
    until_closed(&conn);
}

/// Runs both fanout twins with `args`, one after the other (the backends count per run),
/// and returns what each printed on stdout and its exit code: [Rust, Go].
fn fanout_runs(state: &FanoutState, want: (usize, usize), args: &[String]) -> Vec<(String, i32)> {
    [
        rust_example("fanout"),
        go_util::go_binary_with_debian_lib("examples/go/fanout.go", "golang.org/x/sync"),
    ]
    .into_iter()
    .map(|bin| {
        *state.0.lock().unwrap() = FanoutSeen {
            want,
            ..FanoutSeen::default()
        };
        let mut cmd = Command::new(&bin);
        cmd.args(args);
        let (status, stdout) = process::run_capturing(cmd, process::Captured::Stdout, SCRIPT_LIMIT);
        (stdout, status.code().unwrap_or(-1))
    })
    .collect()
}

/// Both twins print `want` and exit with `code`.
fn assert_fanout(runs: &[(String, i32)], want: &str, code: i32) {
    assert_eq!(runs[0], runs[1], "the Rust fanout and its Go twin differ");
    assert_eq!(runs[0], (want.to_string(), code));
}

/// `out` with the cancel of `silent`'s dial written as the cancel of its read.
///
/// A silent backend has accepted its client once the kernel completed the handshake,
/// which can be before the client's poller has woken its dial: a cancel that lands in
/// that window ends the dial ("dial tcp ADDR: operation was canceled", Go's net.Dialer
/// checks its context as the connect returns) instead of the read ("context canceled").
/// Both are what the program does; no backend can see which one its client is in.
fn cancel_as_read(out: &(String, i32), silent: &str) -> (String, i32) {
    let dial = format!("{silent} dial tcp {silent}: operation was canceled\n");
    let read = format!("{silent} context canceled\n");
    (out.0.replace(&dial, &read), out.1)
}

fn fanout_state() -> FanoutState {
    Default::default()
}

#[test]
fn fanout_twins_print_every_backend_when_all_answer() {
    let state = fanout_state();
    let oks: Vec<String> = (0..3).map(|_| fanout_backend(&state, fanout_ok)).collect();
    let runs = fanout_runs(&state, (0, 0), &oks);
    let mut want = String::new();
    for a in &oks {
        let port = a.rsplit(':').next().unwrap();
        want += &format!("{a} OK port {port}\n");
    }
    want += "all 3 backends OK\n";
    assert_fanout(&runs, &want, 0);
}

#[test]
fn fanout_twins_first_error_cancels_the_other_dials_and_reads() {
    let state = fanout_state();
    let ok1 = fanout_backend(&state, fanout_ok);
    let silent = fanout_backend(&state, fanout_silent);
    let backlog = util::FullBacklog::new("127.0.0.1"); // a dial that never completes
    let hang = backlog.addr.to_string();
    let err = fanout_backend(&state, fanout_err);
    let ok2 = fanout_backend(&state, fanout_ok);
    let args = [&ok1, &silent, &hang, &err, &ok2].map(|a| a.to_string());
    // The ERR line comes once both OK backends are done and the silent one's client
    // waits: it is the group's first error, and it cancels the dial and the read.
    let runs: Vec<_> = fanout_runs(&state, (2, 1), &args)
        .iter()
        .map(|out| cancel_as_read(out, &silent))
        .collect();
    let port = |a: &str| a.rsplit(':').next().unwrap().to_string();
    let want = format!(
        "{ok1} OK port {}\n\
         {silent} context canceled\n\
         {hang} dial tcp {hang}: operation was canceled\n\
         {err} ERR overloaded\n\
         {ok2} OK port {}\n\
         fanout: {err}: ERR overloaded\n",
        port(&ok1),
        port(&ok2)
    );
    assert_fanout(&runs, &want, 1);
}

#[test]
fn fanout_twins_report_a_refused_dial_and_cancel_a_connecting_one() {
    let backlog = util::FullBacklog::new("127.0.0.1");
    let hang = backlog.addr.to_string();
    let refusing = util::Refusing::new("127.0.0.1");
    let refused = refusing.addr.to_string();
    let runs = fanout_runs(&fanout_state(), (0, 0), &[hang.clone(), refused.clone()]);
    let want = format!(
        "{hang} dial tcp {hang}: operation was canceled\n\
         {refused} dial tcp {refused}: connect: connection refused\n\
         fanout: dial tcp {refused}: connect: connection refused\n"
    );
    assert_fanout(&runs, &want, 1);
}

#[test]
fn fanout_twins_stop_every_read_at_the_deadline() {
    let state = fanout_state();
    let s1 = fanout_backend(&state, fanout_silent);
    let s2 = fanout_backend(&state, fanout_silent);
    let args = [
        "-timeout".to_string(),
        "1s".to_string(),
        s1.clone(),
        s2.clone(),
    ];
    let start = Instant::now();
    let runs = fanout_runs(&state, (0, 0), &args);
    let want = format!(
        "{s1} context deadline exceeded\n\
         {s2} context deadline exceeded\n\
         fanout: context deadline exceeded\n"
    );
    assert_fanout(&runs, &want, 1);
    // Two runs of a 1 s deadline, well short of the reads' own limits.
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "a run ended before its deadline"
    );
}

// ---------------------------------------------------------------------------------------
// fleet: N SO_REUSEPORT workers on one port
// ---------------------------------------------------------------------------------------

/// The workers' pids, from the parent's `fleet: worker I pid P` lines.
fn fleet_pids(s: &Server) -> Vec<u32> {
    s.lines()
        .iter()
        .filter_map(|l| l.strip_prefix("fleet: worker ")?.split_once(" pid "))
        .map(|(_, pid)| pid.parse().expect("a pid"))
        .collect()
}

/// 48 connections to the fleet: each gets `remote=<its own address> pid=<a worker's>`,
/// then has a pattern echoed. Returns the transcripts with the address and pid replaced
/// by `CLIENT` and `WORKER`, and how many connections each worker served.
fn fleet_script(s: &Server) -> (Vec<Vec<u8>>, std::collections::BTreeMap<u32, usize>) {
    let pids = fleet_pids(s);
    let mut per_pid = std::collections::BTreeMap::new();
    let mut transcripts = Vec::new();
    for i in 0..48 {
        let mut c = Client::connect("tcp", &s.loopback());
        let hello = c.line();
        let me = c.conn().local_addr().to_string();
        let pid = hello
            .strip_prefix(&format!("remote={me} pid="))
            .and_then(|p| p.trim_end().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("conn from {me} got {hello:?}"));
        assert!(pids.contains(&pid), "pid {pid} is not a worker of {pids:?}");
        *per_pid.entry(pid).or_insert(0) += 1;
        let (sent, got) = c.send_all_and_read_rest(vec![pattern(3000 + i * 100, i)]);
        assert!(
            got == sent,
            "conn {i}: {} bytes back of {}",
            got.len(),
            sent.len()
        );
        let mut t = b"remote=CLIENT pid=WORKER\n".to_vec();
        t.extend_from_slice(&got);
        transcripts.push(t);
    }
    (transcripts, per_pid)
}

/// Both fleet twins with 4 workers: the parent names 4 distinct worker pids, then
/// listens; every connection is greeted with its own address and a worker's pid and is
/// echoed byte for byte; the kernel spreads the 48 connections over more than one worker;
/// SIGTERM stops the workers and the parent exits 0 with `fleet: stopped`. The twins'
/// transcripts and lines are the same, pids and ports aside.
#[test]
fn fleet_twins_spread_connections_over_reuseport_workers() {
    let mut results = Vec::new();
    for mut s in start_twins("fleet", &["127.0.0.1:0", "4"]) {
        let pids = fleet_pids(&s);
        let distinct: std::collections::BTreeSet<_> = pids.iter().collect();
        assert_eq!(distinct.len(), 4, "{:?}", s.lines());
        let (transcripts, per_pid) = fleet_script(&s);
        assert!(
            per_pid.len() > 1,
            "all 48 connections went to one worker: {per_pid:?}"
        );
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(15)).expect("exits");
        assert_eq!(status.code(), Some(0), "{:?}", s.lines());
        for pid in &pids {
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "worker {pid} outlived the fleet"
            );
        }
        let lines: Vec<String> = s
            .lines_without_addr()
            .iter()
            // env_logger's lines (the runtime's warnings on a loaded machine) aside.
            .filter(|l| !l.starts_with('['))
            .map(|l| match l.split_once(" pid ") {
                Some((head, _)) => format!("{head} pid PID"),
                None => l.clone(),
            })
            .collect();
        results.push((transcripts, lines));
    }
    assert_eq!(
        results[0].1,
        [
            "fleet: worker 0 pid PID",
            "fleet: worker 1 pid PID",
            "fleet: worker 2 pid PID",
            "fleet: worker 3 pid PID",
            "fleet: listening on ADDR",
            "fleet: stopped",
        ]
    );
    assert_eq!(results[0].1, results[1].1, "the twins' lines");
    assert!(
        results[0].0 == results[1].0,
        "the twins' transcripts differ"
    );
}

/// Both fleet twins behind a (scripted) load balancer: `--proxy-protocol` makes every
/// worker require a PROXY protocol header, and the greeting names the client address the
/// header carries (v1 here, v2 in tests/haproxy.rs), not the balancer's; the bytes after
/// the header are echoed. A connection that sends no header gets no greeting.
#[test]
fn fleet_twins_with_proxy_protocol_greet_the_address_the_header_carries() {
    let mut results = Vec::new();
    for mut s in start_twins("fleet", &["127.0.0.1:0", "2", "--proxy-protocol"]) {
        let pids = fleet_pids(&s);
        let mut transcripts = Vec::new();
        for i in 0..8u32 {
            let mut c = Client::connect("tcp", &s.loopback());
            let header = format!(
                "PROXY TCP4 192.0.2.{} 198.51.100.7 {} 8080\r\n",
                i + 1,
                5000 + i
            );
            let body = format!("hello {i}\n");
            c.send(&format!("{header}{body}"));
            let hello = c.line();
            let want = format!("remote=192.0.2.{}:{} pid=", i + 1, 5000 + i);
            let pid = hello
                .strip_prefix(&want)
                .and_then(|p| p.trim_end().parse::<u32>().ok())
                .unwrap_or_else(|| panic!("conn {i} got {hello:?}, want {want}PID"));
            assert!(pids.contains(&pid), "pid {pid} is not a worker of {pids:?}");
            assert_eq!(
                c.line(),
                body,
                "conn {i}: the bytes after the header, echoed"
            );
            transcripts.push(hello.replace(&pid.to_string(), "WORKER"));
        }
        // No header: the worker never greets it (gonet closes it; go-proxyproto fails
        // the first read): no "remote=" line arrives.
        let mut bare = Client::connect("tcp", &s.loopback());
        bare.conn()
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(15)))
            .unwrap();
        bare.send("hello without a header\n");
        let got = bare.rest();
        assert!(
            !String::from_utf8_lossy(&got).contains("remote="),
            "a connection without a header was greeted: {got:?}"
        );
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(15)).expect("exits");
        assert_eq!(status.code(), Some(0), "{:?}", s.lines());
        results.push(transcripts);
    }
    assert_eq!(results[0], results[1], "the twins' greetings");
}
