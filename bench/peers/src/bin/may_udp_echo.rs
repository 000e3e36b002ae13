//! Plain may UDP echo: may's own UdpSocket, one coroutine looping recv_from / send_to.

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let sock = may::net::UdpSocket::bind(&addr).expect("bind");
    eprintln!("may_udp_echo: listening on {}", sock.local_addr().unwrap());
    let echo = may::go!(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, from) = match sock.recv_from(&mut buf) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("read: {e}");
                    continue;
                }
            };
            if let Err(e) = sock.send_to(&buf[..n], from) {
                eprintln!("write: {e}");
            }
        }
    });
    let _ = echo.join();
}
