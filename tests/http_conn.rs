//! One connection, several requests: what a request must not inherit from the one before
//! it on a keep-alive connection (the server reuses one `Request` per connection), and
//! how answers go out (pipelined answers together, HTTP/1.0 bodies delimited by close
//! after a flush).

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gonet::net::http::{self, Request, ResponseWriter};

/// Serves `h` on a fresh loopback listener; returns the address and the server.
fn serve(h: impl http::Handler + 'static) -> (String, http::Server) {
    util::init();
    let srv = http::Server::new().handler(h);
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = srv.clone();
    gonet::go!(move || s.serve(ln));
    (addr, srv)
}

fn dial(addr: &str) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Reads until `want` responses (each with a Content-Length) are complete; returns their
/// bodies.
fn read_bodies(c: &mut TcpStream, want: usize) -> Vec<String> {
    let mut buf = Vec::new();
    let mut bodies = Vec::new();
    let mut chunk = [0u8; 4096];
    while bodies.len() < want {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let cl: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
            if buf.len() >= end + 4 + cl {
                bodies.push(String::from_utf8_lossy(&buf[end + 4..end + 4 + cl]).into_owned());
                buf.drain(..end + 4 + cl);
                continue;
            }
        }
        let n = c.read(&mut chunk).expect("read");
        assert!(n > 0, "closed after {} responses", bodies.len());
        buf.extend_from_slice(&chunk[..n]);
    }
    bodies
}

// Go builds a new *Request per request; gonet reuses one per connection, so whatever a
// handler parsed or the mux set for the last request must be gone.
#[test]
fn a_request_does_not_see_the_forms_of_the_one_before() {
    let mux = http::ServeMux::new();
    mux.handle_func(
        "GET /items/{id}",
        |w: &mut dyn ResponseWriter, r: &mut Request| {
            let _ = write!(w, "id={} pattern={}", r.path_value("id"), r.pattern);
        },
    );
    mux.handle_func("/", |w: &mut dyn ResponseWriter, r: &mut Request| {
        let q = r.form_value("q");
        let _ = write!(
            w,
            "q={q} form={} post={} id={} pattern={} trailer={}",
            r.form.len(),
            r.post_form.len(),
            r.path_value("id"),
            r.pattern,
            r.trailer.len()
        );
    });
    let (addr, _srv) = serve(mux);
    let mut c = dial(&addr);
    c.write_all(
        b"POST /?q=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nb=two\
          GET /items/7 HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /other HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    let bodies = read_bodies(&mut c, 3);
    assert_eq!(
        bodies,
        [
            "q=1 form=2 post=1 id= pattern=/ trailer=0",
            "id=7 pattern=GET /items/{id}",
            "q= form=0 post=0 id= pattern=/ trailer=0",
        ]
    );
}

// Answers to pipelined requests go out together once the input holds no complete
// request (one write for the batch: 4.7x the throughput of a write per answer with
// wrk's 16-deep pipeline), where Go writes each when its handler returns. A request
// with a body may have a client that waits for the answers before it: those go out
// before its handler runs.
#[test]
fn pipelined_answers_go_out_before_a_request_with_a_body_is_served() {
    let (addr, _srv) = serve(|w: &mut dyn ResponseWriter, r: &mut Request| {
        if r.url.path == "/slow" {
            gonet::time::sleep(Duration::from_secs(2));
        }
        let _ = w.write(r.url.path.as_bytes());
    });
    let mut c = dial(&addr);
    let t0 = Instant::now();
    c.write_all(
        b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\nPOST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
    )
    .unwrap();
    assert_eq!(read_bodies(&mut c, 1), ["/fast"]);
    let first = t0.elapsed();
    assert!(
        first < Duration::from_millis(1500),
        "the first answer waited {first:?}"
    );
    assert_eq!(read_bodies(&mut c, 1), ["/slow"]);
    assert!(t0.elapsed() >= Duration::from_secs(2));
}

// Sixteen pipelined requests are answered in order, all on the one connection.
#[test]
fn pipelined_requests_are_answered_in_order() {
    let (addr, _srv) = serve(|w: &mut dyn ResponseWriter, r: &mut Request| {
        let _ = w.write(r.url.raw_query.as_bytes());
    });
    let mut c = dial(&addr);
    let batch: String = (0..16)
        .map(|i| format!("GET /?{i} HTTP/1.1\r\nHost: x\r\n\r\n"))
        .collect();
    c.write_all(batch.as_bytes()).unwrap();
    let want: Vec<String> = (0..16).map(|i| i.to_string()).collect();
    assert_eq!(read_bodies(&mut c, 16), want);
}

// Go: an HTTP/1.0 response whose length is unknown when its header goes out (the handler
// flushed) is delimited by closing the connection, with no chunking and no
// Content-Length; the client reads to the end.
#[test]
fn an_http10_response_after_a_flush_ends_with_the_connection() {
    let (addr, _srv) = serve(|w: &mut dyn ResponseWriter, _r: &mut Request| {
        let _ = w.write(b"part one, ");
        let _ = w.flush();
        let _ = w.write(b"part two");
    });
    for keep_alive in [false, true] {
        let mut c = dial(&addr);
        let req: &[u8] = if keep_alive {
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        } else {
            b"GET / HTTP/1.0\r\n\r\n"
        };
        c.write_all(req).unwrap();
        let mut all = String::new();
        c.read_to_string(&mut all)
            .expect("the server closes the connection");
        let (head, body) = all.split_once("\r\n\r\n").expect("a header");
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
        assert!(!head.contains("Content-Length"), "{head}");
        assert!(!head.contains("Transfer-Encoding"), "{head}");
        assert!(!head.contains("Connection: keep-alive"), "{head}");
        assert_eq!(body, "part one, part two");
    }
}
