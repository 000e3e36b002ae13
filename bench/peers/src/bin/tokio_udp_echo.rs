//! tokio UDP echo: multi-thread runtime, one task looping recv_from / send_to, as the
//! Go twin's one goroutine does.

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let sock = tokio::net::UdpSocket::bind(&addr).await.expect("bind");
    eprintln!(
        "tokio_udp_echo: listening on {}",
        sock.local_addr().unwrap()
    );
    let echo = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, from) = match sock.recv_from(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("read: {e}");
                    continue;
                }
            };
            if let Err(e) = sock.send_to(&buf[..n], from).await {
                eprintln!("write: {e}");
            }
        }
    });
    let _ = echo.await;
}
