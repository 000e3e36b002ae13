//! The UDP echo server, line for line with its Go twin (examples/go/udp_echo.go): every
//! datagram goes back to its sender, whole.
//!
//! ```text
//! cargo run --release --example udp_echo             # listens on :8080 (UDP)
//! cargo run --release --example udp_echo -- :9000    # or any address listen_packet takes
//! nc -u 127.0.0.1 8080
//! ```
//!
//! One loop serves every client, as in Go: `read_from` parks the coroutine until the
//! next datagram, and `write_to` sends it back. A failed send (a full buffer, say) is
//! logged and the loop goes on: UDP may drop a datagram anyway, and the client resends.
//! A failed read ends the program (exit 1), as Go's `log.Fatal` does.

use gonet as net;

fn fatal(e: std::io::Error) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    // addr := ":8080"; if len(os.Args) > 1 { addr = os.Args[1] }
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ":8080".to_string());
    // pc, err := net.ListenPacket("udp", addr)
    let pc = net::listen_packet("udp", &addr).unwrap_or_else(|e| fatal(e));
    eprintln!("udp_echo: listening on {}", pc.local_addr());
    // buf := make([]byte, 65536): room for the largest datagram.
    // Go's main is a goroutine; here the loop runs in a coroutine too (`go!`, then wait
    // for it), so that waiting for the next datagram parks in the netpoller as Go's
    // ReadFrom does. A plain thread would block in poll(2) instead, and a thread the
    // kernel must wake for every datagram answers a lone client 2-3x slower under load
    // (bench/PROFILE.md, "udp").
    let serve = net::go!(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            // n, addr, err := pc.ReadFrom(buf)
            let (n, from) = pc.read_from(&mut buf).unwrap_or_else(|e| fatal(e));
            // if _, err := pc.WriteTo(buf[:n], addr); err != nil { log.Printf("write: %v", err) }
            if let Err(e) = pc.write_to(&buf[..n], &from) {
                eprintln!("write: {e}");
            }
        }
    });
    // The loop never ends; a panic in it ends the program, as in Go.
    if serve.join().is_err() {
        std::process::exit(2);
    }
}
