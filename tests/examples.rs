//! The porting kit's examples as users run them, each beside its Go twin: the Rust example
//! (built with `cargo build --release --example NAME`) and examples/go/NAME.go (built with
//! `go build`) run as child processes, the same scripted client talks to both, and the
//! bytes that come back must be the same, and the ones the protocol defines.

mod util;

#[path = "util/go.rs"]
mod go_util;

#[path = "util/process.rs"]
mod process;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use process::Server;

/// The examples this file drives; built together on first use.
const EXAMPLES: &[&str] = &["unix_echo", "chat", "proxy", "http"];

/// How long any one client script may take, end to end (every read and write has this
/// deadline).
const SCRIPT_LIMIT: Duration = Duration::from_secs(30);

/// The Rust example's binary, built (with every other example of this file) on first use
/// by the cargo that runs the tests.
fn rust_example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(go_util::manifest_dir())
            .args(["build", "--release"]);
        for e in EXAMPLES {
            cmd.args(["--example", e]);
        }
        let status = cmd.status().expect("run cargo build --example");
        assert!(
            status.success(),
            "cargo build --release --example ... failed"
        );
    });
    let bin = go_util::manifest_dir()
        .join("target/release/examples")
        .join(name);
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

/// The Go twin's binary: `go build -o target/go-examples/NAME examples/go/NAME.go`, once.
fn go_twin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bin) = built.get(name) {
        return bin.clone();
    }
    let dir = go_util::manifest_dir();
    let out = dir.join("target/go-examples").join(name);
    let src = dir.join("examples/go").join(format!("{name}.go"));
    let status = Command::new(go_util::go_tool())
        .current_dir(&dir)
        .args(["build", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("run go build");
    assert!(status.success(), "go build {} failed", src.display());
    built.insert(name.to_string(), out.clone());
    out
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

/// A response as the test compares it: no Date, no Server, no Content-Length.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reply {
    code: u16,
    content_type: Option<String>,
    nosniff: bool,
    body: String,
}

/// Reads one HTTP/1.1 response (Content-Length framed, as both servers send).
fn read_reply(r: &mut BufReader<gonet::Conn>) -> (String, Reply) {
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let (mut len, mut content_type, mut nosniff) = (None, None, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
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
    (
        status.trim_end().to_string(),
        Reply {
            code,
            content_type,
            nosniff,
            body,
        },
    )
}

const PATHS: &[&str] = &["/", "/json", "/nope", "/json?pretty=1", "/?q=1", "/json/"];

/// GETs every path on one keep-alive connection, then all of them again pipelined.
fn http_script(addr: &str) -> Vec<(String, Reply)> {
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

/// The http twins (may_minihttp and net/http) answer every path with the same status
/// code, Content-Type and body: "/" and "/json" (query or not) are 200, anything else is
/// Go's 404; sequential and pipelined requests alike.
#[test]
fn http_twins_answer_the_same_status_and_bodies() {
    let servers = start_twins("http", &["127.0.0.1:0"]);
    assert_same_first_line(&servers);
    let rust = http_script(&servers[0].loopback());
    let go = http_script(&servers[1].loopback());
    let text = |c: &str| Some(format!("text/{c}; charset=utf-8"));
    let hello = Reply {
        code: 200,
        content_type: text("plain"),
        nosniff: false,
        body: "Hello, World!".into(),
    };
    let json = Reply {
        code: 200,
        content_type: Some("application/json".into()),
        nosniff: false,
        body: r#"{"message":"Hello, World!"}"#.into(),
    };
    let not_found = Reply {
        code: 404,
        content_type: text("plain"),
        nosniff: true,
        body: "404 page not found\n".into(),
    };
    let want = |p: &str| match p.split('?').next().unwrap() {
        "/" => hello.clone(),
        "/json" => json.clone(),
        _ => not_found.clone(),
    };
    for (who, replies) in [("rust", &rust), ("go", &go)] {
        assert_eq!(replies.len(), 2 * PATHS.len());
        for (i, (status, reply)) in replies.iter().enumerate() {
            let p = PATHS[i % PATHS.len()];
            assert_eq!(reply, &want(p), "{who} GET {p}");
            if reply.code == 404 {
                assert_eq!(status, "HTTP/1.1 404 Not Found", "{who} GET {p}");
            }
        }
    }
    let bodies = |v: &[(String, Reply)]| v.iter().map(|(_, r)| r.body.clone()).collect::<Vec<_>>();
    assert_eq!(bodies(&rust), bodies(&go));
    // The one documented difference: may_minihttp's 200 reason phrase.
    assert_eq!(rust[0].0, "HTTP/1.1 200 Ok");
    assert_eq!(go[0].0, "HTTP/1.1 200 OK");
}

// ---------------------------------------------------------------------------------------
// graceful
// ---------------------------------------------------------------------------------------

/// The graceful example's Rust binary, built on its own (so that the other examples'
/// tests do not depend on it).
fn rust_graceful() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(go_util::manifest_dir())
            .args(["build", "--release", "--example", "graceful"])
            .status()
            .expect("run cargo build --example graceful");
        assert!(
            status.success(),
            "cargo build --release --example graceful failed"
        );
    });
    go_util::manifest_dir().join("target/release/examples/graceful")
}

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
    for bin in [rust_graceful(), go_twin("graceful")] {
        assert_eq!(graceful_drains(&bin), DRAINED, "{}", bin.display());
        assert_eq!(graceful_cuts_after_grace(&bin), CUT, "{}", bin.display());
    }
}
