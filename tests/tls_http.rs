//! HTTPS: net::http::Server::serve_tls / listen_and_serve_tls against curl --cacert and
//! Go's net/http client, r.tls (Go's r.TLS), and Go's answer to plaintext HTTP on the
//! TLS port, byte for byte against live Go 1.19's Server.ServeTLS.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/tls.rs"]
mod tls_util;
mod util;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use gonet::crypto::tls;
use gonet::net::http;
use tls_util::{GoServer, Pki, path};

/// The handler both servers run: what r.TLS says (tlspeer's `tlsInfo`).
fn tls_info(w: &mut dyn http::ResponseWriter, r: &mut http::Request) {
    let body = match &r.tls {
        None => "no TLS".to_string(),
        Some(st) => format!(
            "{} sni={} alpn={}",
            tls::version_name(st.version),
            st.server_name,
            st.negotiated_protocol
        ),
    };
    let _ = w.write(body.as_bytes());
}

/// A gonet HTTPS server with `leaf` from files; returns it and its address.
fn start(
    pki: &Pki,
) -> (
    http::Server,
    String,
    may::coroutine::JoinHandle<std::io::Result<()>>,
) {
    let leaf = pki.server(&["localhost"]);
    let srv = http::Server::new()
        .handler(tls_info)
        .read_header_timeout(Duration::from_secs(5));
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = srv.clone();
    let (c, k) = (path(&leaf.cert_file), path(&leaf.key_file));
    let h = gonet::go!(move || s.serve_tls(ln, &c, &k));
    (srv, addr, h)
}

#[test]
fn curl_gets_over_https_with_keep_alive_and_sees_r_tls() {
    util::init();
    let pki = Pki::new("https-curl");
    let (srv, addr, h) = start(&pki);
    let port = addr.rsplit(':').next().unwrap();
    let url = format!("https://localhost:{port}/");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--http1.1", "--cacert"])
        .arg(&pki.ca_file)
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(["-w", "\n%{http_code} %{num_connects}\n", &url, &url])
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Two requests, one connection (the second reuses it: 0 new connects).
    assert_eq!(
        text,
        "TLS 1.3 sni=localhost alpn=http/1.1\n200 1\nTLS 1.3 sni=localhost alpn=http/1.1\n200 0\n"
    );
    srv.shutdown_timeout(Duration::from_secs(2)).unwrap();
    assert_eq!(
        h.join().unwrap().unwrap_err().to_string(),
        "http: Server closed"
    );
}

#[test]
fn go_net_http_client_gets_over_https() {
    let pki = Pki::new("https-goclient");
    let (srv, addr, h) = start(&pki);
    let port = addr.rsplit(':').next().unwrap();
    let out = Command::new(tls_util::tlspeer())
        .args(["httpsget", "-n", "3", "-ca", &path(&pki.ca_file), "-url"])
        .arg(format!("https://localhost:{port}/x"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        // Go's Transport with its own TLS config offers no ALPN: no protocol.
        "200 OK HTTP/1.1 TLS 1.3 sni=localhost alpn=\n".repeat(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    srv.close();
    let _ = h.join();
}

/// Sends `req` in plaintext to the TLS port at `addr` and returns the whole answer.
fn plaintext(addr: &str, req: &[u8]) -> Vec<u8> {
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(req).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    out
}

#[test]
fn plaintext_http_to_the_tls_port_gets_gos_400_and_other_bytes_nothing() {
    let pki = Pki::new("https-plain");
    let (srv, addr, h) = start(&pki);
    let leaf = pki.server(&["localhost"]);
    let go = GoServer::start_mode(
        "httpsserver",
        &[
            "-cert",
            &path(&leaf.cert_file),
            "-key",
            &path(&leaf.key_file),
        ],
    );
    for req in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"HEAD / HTTP/1.0\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\n\r\n",
        b"DELETE /x HTTP/1.1\r\n\r\n", // not one of Go's five: no answer
    ] {
        let ours = plaintext(&addr, req);
        let gos = plaintext(&go.addr, req);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&gos),
            "for {:?}",
            String::from_utf8_lossy(req)
        );
    }
    assert_eq!(
        plaintext(&addr, b"GET / HTTP/1.1\r\n\r\n"),
        b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
    );
    srv.close();
    let _ = h.join();
}

#[test]
fn listen_and_serve_tls_and_hijack_over_tls() {
    let err = http::Server::new()
        .addr("127.0.0.1:0")
        .listen_and_serve_tls("/nonexistent/cert.pem", "/nonexistent/key.pem")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "open /nonexistent/cert.pem: no such file or directory"
    );

    // Hijack hands over a net::Conn; under TLS that is not possible: ErrNotSupported.
    let pki = Pki::new("https-hijack");
    let leaf = pki.server(&["localhost"]);
    let srv = http::Server::new()
        .handler(|w: &mut dyn http::ResponseWriter, _r: &mut http::Request| {
            let e = w.hijack().unwrap_err();
            let _ = w.write(e.to_string().as_bytes());
        })
        .tls_config(tls::Config {
            certificates: vec![leaf.cert.clone()],
            ..Default::default()
        });
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = srv.clone();
    let h = gonet::go!(move || s.serve_tls(ln, "", ""));
    let mut c = tls::dial("tcp", &addr, &tls_util::client_config(&pki, "localhost")).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    assert!(resp.ends_with("\r\n\r\nfeature not supported"), "{resp}");
    srv.close();
    let _ = h.join();
}
