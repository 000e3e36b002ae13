//! Plain may echo: may's own TcpListener, one coroutine per connection, 4 KiB buffer.
use std::io::{Read, Write};

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let ln = may::net::TcpListener::bind(&addr).expect("bind");
    eprintln!("may_echo: listening on {}", ln.local_addr().unwrap());
    for conn in ln.incoming() {
        let mut conn = match conn {
            Ok(c) => c,
            Err(e) => {
                eprintln!("accept: {e}");
                may::coroutine::sleep(std::time::Duration::from_millis(5));
                continue;
            }
        };
        let _ = conn.set_nodelay(true);
        may::go!(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if conn.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
}
