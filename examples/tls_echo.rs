//! The seed's echo server behind TLS, line for line with its Go twin
//! (examples/go/tls_echo.go): `tls.LoadX509KeyPair`, `tls.Listen`, then the same accept
//! loop and handler as examples/echo.rs, on `tls::Conn`s.
//!
//! ```text
//! cargo run --release --example tls_echo                          # :8443, a generated certificate
//! cargo run --release --example tls_echo -- ADDR CERT.pem KEY.pem # your own
//! openssl s_client -connect 127.0.0.1:8443 -CAfile CERT.pem -servername localhost
//! ```
//!
//! Without a certificate it makes a self-signed one for localhost, 127.0.0.1 and ::1
//! (ECDSA P-256, valid for a year) and prints where it wrote it, so a client can trust
//! exactly that certificate.

use std::io;
use std::time::Duration;

use gonet as net;
use gonet::crypto::tls;

// func handle(conn net.Conn) {
fn handle(conn: tls::Conn) {
    // buf := make([]byte, 4096)
    let mut buf = vec![0u8; 4096];
    loop {
        // n, err := conn.Read(buf): the TLS handshake runs on this first read.
        let n = match conn.read(&mut buf) {
            Ok(0) => break, // io.EOF: the client's close_notify (or its close)
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
    // defer conn.Close(): close_notify, then the TCP close.
    let _ = conn.close();
}

/// Writes a self-signed certificate and key for localhost into a fresh directory and
/// returns their paths. Go: the twin's `generate`, with crypto/x509.
fn generate() -> io::Result<(String, String)> {
    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let ck = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
    let dir = std::env::temp_dir().join(format!("tls_echo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem())?;
    std::fs::write(&key, ck.signing_key.serialize_pem())?;
    let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    Ok((path(cert), path(key)))
}

fn main() -> io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    // addr := ":8443"; if len(os.Args) > 1 { addr = os.Args[1] }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().cloned().unwrap_or_else(|| ":8443".to_string());
    let (cert_file, key_file) = match args.get(1..3) {
        Some([c, k]) => (c.clone(), k.clone()),
        _ => {
            let (c, k) = generate()?;
            eprintln!("tls_echo: generated a self-signed certificate for localhost: {c} (key {k})");
            (c, k)
        }
    };
    // cert, err := tls.LoadX509KeyPair(certFile, keyFile)
    let cert = tls::load_x509_key_pair(&cert_file, &key_file)?;
    // config := &tls.Config{Certificates: []tls.Certificate{cert}}
    let config = tls::Config {
        certificates: vec![cert],
        ..Default::default()
    };
    // ln, err := tls.Listen("tcp", addr, config)
    let ln = tls::listen("tcp", &addr, &config)?;
    eprintln!("tls_echo: listening on {}", ln.addr());
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
