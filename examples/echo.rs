//! The seed's echo server, line for line with its Go twin (examples/go/echo.go), but for
//! one step: it waits for data before taking its 4 KiB read buffer (see `handle`).
//!
//! ```text
//! cargo run --release --example echo            # listens on :8080
//! cargo run --release --example echo -- :9000   # or any address gonet::listen takes
//! ```
//!
//! Like Go's net/http accept loop it survives temporary accept errors (EMFILE when the
//! descriptors run out): it logs, backs off 5 ms doubling to 1 s, and goes on; it never
//! exits and never spins the CPU.

use std::time::Duration;

use gonet as net;

// func handle(conn net.Conn) {
fn handle(conn: net::Conn) {
    loop {
        // Go's Read waits for data inside the netpoller while holding its buffer; here
        // the wait comes first, so an idle connection holds no buffer at all (bench:
        // 12.2 KB -> 8.1 KB per idle connection, Go 7.6 KB).
        if let Err(e) = conn.readable() {
            log::debug!("read: {e}");
            break;
        }
        // buf := make([]byte, 4096)
        let mut buf = vec![0u8; 4096];
        // n, err := conn.Read(buf)
        let n = match conn.try_read(&mut buf) {
            Ok(0) => break, // io.EOF
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
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

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    // addr := ":8080"; if len(os.Args) > 1 { addr = os.Args[1] }
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ":8080".to_string());
    // ln, err := net.Listen("tcp", addr)
    let ln = net::listen("tcp", &addr)?;
    eprintln!("echo: listening on {}", ln.addr());
    let mut delay = Duration::ZERO;
    loop {
        // conn, err := ln.Accept()
        let conn = match ln.accept() {
            Ok(conn) => conn,
            Err(e) if net::is_temporary(&e) => {
                // net/http's Server.Serve: back off 5 ms, doubling up to 1 s.
                delay = (delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                log::warn!("accept error: {e}; retrying in {delay:?}");
                net::time::sleep(delay);
                continue;
            }
            Err(e) => return Err(e),
        };
        delay = Duration::ZERO;
        // go handle(conn)
        net::go!(move || handle(conn));
    }
}
