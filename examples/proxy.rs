//! A TCP proxy, line for line with its Go twin (examples/go/proxy.go): for each client
//! it dials the upstream and runs two coroutines, one copying each way (Go's `io.Copy`).
//!
//! ```text
//! cargo run --release --example proxy -- LISTEN UPSTREAM
//! cargo run --release --example proxy                     # :8082 -> 127.0.0.1:8080
//! cargo run --release --example echo &                    # an upstream to try it on
//! nc localhost 8082                                       # lines come back via the proxy
//! ```
//!
//! Half-closes go through: when one side ends its stream (EOF), the proxy shuts down the
//! writing side of the other connection (`close_write`, Go's `CloseWrite`) and keeps
//! copying the other way, so a client that sends a request, half-closes and then reads the
//! reply works through the proxy as it does directly. An I/O error on either side closes
//! both connections. A client whose upstream cannot be dialed is logged and closed.

use std::time::Duration;

use gonet as net;

/// Copies `src` to `dst` until EOF, then half-closes `dst`; on an error, closes both so the
/// copy the other way stops too.
// func pipe(dst, src net.Conn) {
fn pipe(dst: &net::Conn, src: &net::Conn) {
    // if _, err := io.Copy(dst, src); err != nil {
    match std::io::copy(&mut &*src, &mut &*dst) {
        Ok(_) => {
            // dst.(*net.TCPConn).CloseWrite()
            if let Err(e) = dst.close_write() {
                log::debug!("close_write: {e}");
            }
        }
        Err(e) => {
            log::info!("{} -> {}: {e}", src.remote_addr(), dst.remote_addr());
            // src.Close(); dst.Close()
            let _ = src.close();
            let _ = dst.close();
        }
    }
}

// func handle(client net.Conn, upstream string) {
fn handle(client: net::Conn, upstream: &str) {
    // server, err := net.Dial("tcp", upstream)
    let server = match net::dial("tcp", upstream) {
        Ok(server) => server,
        Err(e) => {
            // log.Print(err); return (the deferred client.Close() runs)
            log::warn!("{e}");
            return;
        }
    };
    // var wg sync.WaitGroup; wg.Add(2)
    let wg = net::sync::WaitGroup::new();
    // go func() { defer wg.Done(); pipe(server, client) }()
    // (`wg.go(f)` is Add(1) plus that goroutine, Done even if f panics.)
    let (c, s) = (client.clone(), server.clone());
    wg.go(move || pipe(&s, &c));
    // go func() { defer wg.Done(); pipe(client, server) }()
    let (c, s) = (client.clone(), server.clone());
    wg.go(move || pipe(&c, &s));
    // wg.Wait()
    wg.wait();
    // defer server.Close(); defer client.Close(): both drop here.
}

/// Go's `log.Fatal(err)`: the error's text on stderr, exit status 1.
fn fatal(e: std::io::Error) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    // addr, upstream := ":8082", "127.0.0.1:8080"
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| ":8082".to_string());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    // ln, err := net.Listen("tcp", addr); if err != nil { log.Fatal(err) }
    let ln = net::listen("tcp", &addr).unwrap_or_else(|e| fatal(e));
    eprintln!("proxy: listening on {}", ln.addr());
    eprintln!("proxy: forwarding to {upstream}");

    let mut delay = Duration::ZERO;
    loop {
        // client, err := ln.Accept()
        let client = match ln.accept() {
            Ok(client) => client,
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
        // go handle(client, upstream)
        let upstream = upstream.clone();
        net::go!(move || handle(client, &upstream));
    }
}
