//! The echo server on a Unix socket, line for line with its Go twin
//! (examples/go/unix_echo.go).
//!
//! ```text
//! cargo run --release --example unix_echo                       # /tmp/gonet-echo.sock
//! cargo run --release --example unix_echo -- /tmp/other.sock    # any path, or "@abstract"
//! nc -U /tmp/gonet-echo.sock                                     # type lines, see them back
//! ```
//!
//! As in Go, the listener removes its socket file when it is closed: on SIGINT (Ctrl-C)
//! or SIGTERM the server closes the listener, which wakes the accept loop with "use of
//! closed network connection", and exits 0 with the file gone. A file left behind by a
//! killed server is not removed at start: listening fails, in Go's words, with
//! `listen unix /tmp/gonet-echo.sock: bind: address already in use` (exit status 1).
//!
//! The signals come on a channel from `gonet::signal`, and a coroutine waits for them, as
//! Go's `signal.Notify` goroutine does.

use std::sync::Arc;
use std::time::Duration;

use gonet as net;
use net::signal::{self, Signal};

// func handle(conn net.Conn) {
fn handle(conn: net::Conn) {
    // buf := make([]byte, 4096)
    let mut buf = [0u8; 4096];
    loop {
        // n, err := conn.Read(buf)
        let n = match conn.read(&mut buf) {
            Ok(0) => break, // io.EOF
            Ok(n) => n,
            Err(e) => {
                log::debug!("read: {e}");
                break;
            }
        };
        // if _, err := conn.Write(buf[:n]); err != nil { return }
        if let Err(e) = conn.write(&buf[..n]) {
            log::debug!("write: {e}");
            break;
        }
    }
    // defer conn.Close(): dropping conn closes it.
}

/// Go's `log.Fatal(err)`: the error's text on stderr, exit status 1.
fn fatal(e: std::io::Error) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    // path := "/tmp/gonet-echo.sock"; if len(os.Args) > 1 { path = os.Args[1] }
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/gonet-echo.sock".to_string());
    // ln, err := net.Listen("unix", path); if err != nil { log.Fatal(err) }
    let ln = Arc::new(net::listen("unix", &path).unwrap_or_else(|e| fatal(e)));
    eprintln!("unix_echo: listening on {}", ln.addr());

    // sigs := make(chan os.Signal, 1)
    let (tx, sigs) = net::chan::<Signal>(1);
    // signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
    signal::notify(&tx, &[Signal::INTERRUPT, Signal::TERM]).unwrap_or_else(|e| fatal(e));
    // go func() { <-sigs; ln.Close() }()
    let closer = ln.clone();
    let closing = net::go!(move || {
        if sigs.recv().is_some() {
            eprintln!("unix_echo: shutting down");
            // Wakes the accept below; the listener removes the socket file.
            let _ = closer.close();
        }
    });

    let mut delay = Duration::ZERO;
    loop {
        // conn, err := ln.Accept()
        let conn = match ln.accept() {
            Ok(conn) => conn,
            // if errors.Is(err, net.ErrClosed) { return }
            Err(e) if net::is_closed(&e) => {
                // Let close() finish removing the socket file before the process exits:
                // gonet wakes this accept before it unlinks (Go unlinks first).
                let _ = closing.join();
                return;
            }
            Err(e) if net::is_temporary(&e) => {
                // net/http's Server.Serve: back off 5 ms, doubling up to 1 s.
                delay = (delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                log::warn!("accept error: {e}; retrying in {delay:?}");
                net::time::sleep(delay);
                continue;
            }
            Err(e) => fatal(e),
        };
        delay = Duration::ZERO;
        // go handle(conn)
        net::go!(move || handle(conn));
    }
}
