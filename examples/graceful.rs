//! An echo server that shuts down gracefully: the Rust twin of examples/go/graceful.go.
//!
//! ```text
//! cargo run --release --example graceful [addr [grace]]   # defaults: ":8080" "10s"
//! ```
//!
//! `grace` is a Go duration ("10s", "500ms", "1m30s"). On SIGINT or SIGTERM the server
//!  1. closes the listener, then prints "graceful: shutting down": new connections are
//!     refused from then on;
//!  2. lets the connections in flight go on being served (echoed) until their clients
//!     close them, for up to the grace period;
//!  3. if they all finished, prints "graceful: all connections finished"; otherwise
//!     prints "graceful: grace period over, closing N connections" and closes them;
//!  4. exits 0.
//!
//! The accept loop, the back-off on temporary accept errors (EMFILE...) and the shutdown
//! are `gonet::Server`'s; the signals come on a channel, from `gonet::signal`.

use std::process::ExitCode;
use std::time::Duration;

use gonet as net;
use net::signal::{self, Signal};

// func handle(conn net.Conn)
fn handle(conn: net::Conn) {
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

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn,may=warn"))
        .init();
    // addr, grace := ":8080", 10*time.Second
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| ":8080".to_string());
    // grace, err := time.ParseDuration(os.Args[2])
    let grace = match args.next().map(|g| net::time::parse_duration(&g)) {
        None => Duration::from_secs(10),
        Some(Ok(d)) => d,
        Some(Err(e)) => return fail(e.to_string()),
    };
    // ln, err := net.Listen("tcp", addr)
    let ln = match net::listen("tcp", &addr) {
        Ok(ln) => ln,
        Err(e) => return fail(e.to_string()),
    };
    eprintln!("graceful: listening on {}", ln.addr());

    // sigs := make(chan os.Signal, 1)
    // signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
    let (tx, sigs) = net::chan::<Signal>(1);
    if let Err(e) = signal::notify(&tx, &[Signal::INTERRUPT, Signal::TERM]) {
        return fail(e.to_string());
    }
    let server = net::Server::new().on_shutdown(|| eprintln!("graceful: shutting down"));
    let s = server.clone();
    // go func() { <-sigs; srv.Shutdown(ctx) }()
    let stopper = net::go!(move || {
        sigs.recv()?;
        Some(s.shutdown(grace))
    });

    // The accept loop; it returns once the shutdown is over.
    if let Err(e) = server.serve(ln, handle) {
        return fail(e.to_string());
    }
    match stopper.join() {
        Ok(Some(0)) => eprintln!("graceful: all connections finished"),
        Ok(Some(cut)) => eprintln!("graceful: grace period over, closing {cut} connections"),
        Ok(None) | Err(_) => return fail("the signal thread failed".to_string()),
    }
    ExitCode::SUCCESS
}

/// log.Fatal: the message on stderr, exit status 1.
fn fail(msg: String) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::FAILURE
}
