//! A fleet of echo servers on one port: the Rust twin of examples/go/fleet.go.
//!
//! ```text
//! cargo run --release --example fleet -- ADDR WORKERS [--proxy-protocol]   # e.g. 127.0.0.1:8080 4
//! ```
//!
//! One process holds at most `ulimit -n` sockets (and one may runtime about 32,000
//! coroutines at the default `vm.max_map_count`); Go services grow past that by running
//! several processes on one port. This program starts `WORKERS` copies of itself (the
//! same executable, re-exec'd with `FLEET_WORKER` set), each listening on `ADDR` with
//! SO_REUSEPORT set through `ListenConfig::control`, Go's idiom:
//!
//! ```go
//! lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
//!     return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEPORT, 1) })
//! }}
//! ```
//!
//! The kernel spreads the incoming connections over the workers' listening sockets (a
//! hash of the connection's addresses). Every accepted connection first gets one line,
//! `remote=<the client's address as the worker sees it> pid=<the worker's pid>`, and is
//! then echoed until the client closes it. With `--proxy-protocol` the workers sit
//! behind a load balancer (HAProxy's `send-proxy` or `send-proxy-v2`): every connection
//! must open with a PROXY protocol header (`gonet::net::proxyproto`, go-proxyproto's
//! `REQUIRE` policy in the Go twin), and `remote=` is the client's address it carries.
//!
//! With port 0 the first worker picks the port and the others join it. The parent prints
//! `fleet: worker I pid P` for each worker, then `fleet: listening on ADDR` once all of
//! them listen. On SIGINT or SIGTERM it stops the workers (each shuts down gracefully:
//! `gonet::Server::shutdown`, 5 s of grace) and prints `fleet: stopped`; a worker that
//! dies on its own is reported (`fleet: worker I pid P exited: STATUS`) and the fleet
//! goes on with the others.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use gonet as net;
use net::proxyproto;
use net::signal::{self, Signal};

/// The flag that puts a PROXY protocol reader in front of every worker's listener.
const PROXY_FLAG: &str = "--proxy-protocol";
/// The environment variable that makes a copy of this program a worker.
const WORKER_ENV: &str = "FLEET_WORKER";
/// How long a stopping worker lets its connections finish.
const GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn,may=warn"))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if std::env::var_os(WORKER_ENV).is_some() {
        return match args.first() {
            Some(addr) => worker(addr, args.get(1).is_some_and(|a| a == PROXY_FLAG)),
            None => fail("fleet worker: no address".to_string()),
        };
    }
    let (addr, n, proxy) = match args.as_slice() {
        [addr, n] => (addr, n, false),
        [addr, n, flag] if flag == PROXY_FLAG => (addr, n, true),
        _ => return fail(format!("usage: fleet ADDR WORKERS [{PROXY_FLAG}]")),
    };
    match n.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => parent(addr.clone(), n, proxy),
        _ => fail(format!("fleet: WORKERS must be 1 to 256, not {n:?}")),
    }
}

// ---------------------------------------------------------------------------------------
// The parent: starts the workers, forwards the stop signal, reports their exits.
// ---------------------------------------------------------------------------------------

/// What the parent waits for.
enum Event {
    Stop,
    /// Worker index, pid and how it ended.
    Exited(usize, u32, String),
}

fn parent(addr: String, n: usize, proxy: bool) -> ExitCode {
    // sigs := make(chan os.Signal, 1); signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
    // Before the workers start, so a signal in between is not lost.
    let (tx, events) = net::chan::<Event>(n + 2);
    let (sig_tx, sigs) = net::chan::<Signal>(1);
    if let Err(e) = signal::notify(&sig_tx, &[Signal::INTERRUPT, Signal::TERM]) {
        return fail(e.to_string());
    }
    let forward = tx.clone();
    std::thread::spawn(move || {
        for _ in &sigs {
            if forward.send(Event::Stop).is_err() {
                return;
            }
        }
    });

    // The first worker resolves ADDR (port 0: the kernel picks one); the rest join the
    // address it reports.
    let mut pids = Vec::with_capacity(n);
    let mut listening = addr;
    for i in 0..n {
        let (child, at) = match start_worker(i, &listening, proxy) {
            Ok(w) => w,
            Err(e) => {
                stop(&pids);
                return fail(format!("fleet: worker {i}: {e}"));
            }
        };
        eprintln!("fleet: worker {i} pid {}", child.id());
        pids.push(child.id());
        listening = at;
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut child = child;
            let status = match child.wait() {
                Ok(s) => exit_text(s),
                Err(e) => e.to_string(),
            };
            let _ = tx.send(Event::Exited(i, child.id(), status));
        });
    }
    drop(tx);
    eprintln!("fleet: listening on {listening}");

    let mut running = n;
    let mut stopping = false;
    while running > 0 {
        match events.recv() {
            Some(Event::Stop) if !stopping => {
                stopping = true;
                stop(&pids);
            }
            Some(Event::Stop) => {}
            Some(Event::Exited(i, pid, status)) => {
                running -= 1;
                if !stopping {
                    eprintln!("fleet: worker {i} pid {pid} exited: {status}");
                }
            }
            None => break,
        }
    }
    eprintln!("fleet: stopped");
    ExitCode::SUCCESS
}

/// Starts worker `i` on `addr` and waits for the address it listens on (its first line
/// on stdout).
fn start_worker(i: usize, addr: &str, proxy: bool) -> Result<(Child, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg(addr)
        .args(proxy.then_some(PROXY_FLAG))
        .env(WORKER_ENV, i.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    // The worker prints its address, or exits with its error on stderr (inherited).
    let _ = BufReader::new(stdout).read_line(&mut line);
    match line.trim() {
        "" => {
            let status = child.wait().map_err(|e| e.to_string())?;
            Err(format!("exited before listening: {status}"))
        }
        at => Ok((child, at.to_string())),
    }
}

/// How a child ended, in Go's words (`os.ProcessState.String()`): `exit status 1`,
/// `signal: killed`.
fn exit_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => {
            // SAFETY: strsignal returns a pointer to a static (or thread-local) string
            // for any signal number, which is copied out at once.
            let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) };
            format!("signal: {}", name.to_string_lossy().to_lowercase())
        }
        (None, None) => status.to_string(),
    }
}

/// Sends SIGTERM to every worker: each shuts down gracefully.
fn stop(pids: &[u32]) {
    for &pid in pids {
        // SAFETY: kill has no memory preconditions; pid is a child not yet reaped (the
        // waiting thread reaps it only after it exits, and a dead child's pid stays
        // ours until then).
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    }
}

// ---------------------------------------------------------------------------------------
// A worker: one SO_REUSEPORT listener, one coroutine per connection.
// ---------------------------------------------------------------------------------------

// func handle(conn net.Conn)
fn handle(conn: net::Conn) {
    // fmt.Fprintf(conn, "remote=%v pid=%d\n", conn.RemoteAddr(), os.Getpid())
    let hello = format!("remote={} pid={}\n", conn.remote_addr(), std::process::id());
    if conn.write(hello.as_bytes()).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return, // io.EOF or a real error: either way, done
            Ok(n) => {
                if conn.write(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

/// The `ListenConfig` of every worker: SO_REUSEPORT on the socket before it is bound,
/// so all of them can listen on one port.
fn reuse_port() -> net::ListenConfig {
    net::ListenConfig {
        control: Some(Arc::new(|_network: &str, _address: &str, fd| {
            socket2::SockRef::from(&fd).set_reuse_port(true)?;
            Ok(())
        })),
        ..Default::default()
    }
}

fn worker(addr: &str, proxy: bool) -> ExitCode {
    let (tx, sigs) = net::chan::<Signal>(1);
    if let Err(e) = signal::notify(&tx, &[Signal::INTERRUPT, Signal::TERM]) {
        return fail(e.to_string());
    }
    // ln, err := lc.Listen(context.Background(), "tcp", addr)
    let ln = match reuse_port().listen("tcp", addr) {
        Ok(ln) => ln,
        Err(e) => return fail(e.to_string()),
    };
    // Tell the parent where we listen: the port, when ADDR asked for port 0.
    let mut out = std::io::stdout();
    if writeln!(out, "{}", ln.addr())
        .and_then(|_| out.flush())
        .is_err()
    {
        return fail("fleet worker: cannot report the address".to_string());
    }

    // ln = &proxyproto.Listener{Listener: ln, Policy: REQUIRE}: the header is read off
    // the accept path, under a read deadline; a connection without one is closed.
    let ln: net::Listener = if proxy {
        proxyproto::Listener::new(ln)
            .policy(proxyproto::Policy::Require)
            .into()
    } else {
        ln
    };
    let server = net::Server::new();
    let s = server.clone();
    net::go!(move || {
        if sigs.recv().is_some() {
            s.shutdown(GRACE);
        }
    });
    match server.serve(ln, handle) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.to_string()),
    }
}

/// log.Fatal: the message on stderr, exit status 1.
fn fail(msg: String) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::FAILURE
}
