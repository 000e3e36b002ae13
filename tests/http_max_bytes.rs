//! `http::max_bytes_reader` past its limit, over a real connection: given the server's
//! own writer it makes the server close the connection after the answer
//! (`Connection: close`); given a writer that wraps it (a middleware's), the server
//! cannot be told, so it drains the rest of the body and keeps the connection, as Go's
//! `MaxBytesReader` does (it reaches the server through `requestTooLarge`, which a
//! wrapping writer hides).

mod util;

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use gonet::net::http::{self, Header, Request, ResponseWriter};

/// A writer that forwards the three methods and nothing else, as a Go struct embedding
/// `http.ResponseWriter` does.
struct Wrapped<'a>(&'a mut dyn ResponseWriter);

impl ResponseWriter for Wrapped<'_> {
    fn header(&mut self) -> &mut Header {
        self.0.header()
    }
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn write_header(&mut self, code: u16) {
        self.0.write_header(code)
    }
}

/// Reads the body through a 4-byte limit: 413 past it, else 200.
fn limited(w: &mut dyn ResponseWriter, r: &mut Request) {
    r.body = http::max_bytes_reader(w, std::mem::take(&mut r.body), 4);
    let mut b = Vec::new();
    let code = match r.body.read_to_end(&mut b) {
        Err(e) if http::Error::of(&e) == Some(http::Error::MaxBytes) => 413,
        _ => 200,
    };
    w.write_header(code);
}

/// Serves /direct and /wrapped on a loopback port; returns its address.
fn serve() -> String {
    let mux = http::ServeMux::new();
    mux.handle_func("/direct", limited);
    mux.handle_func("/wrapped", |w: &mut dyn ResponseWriter, r: &mut Request| {
        limited(&mut Wrapped(w), r)
    });
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    gonet::go!(move || http::serve(ln, mux));
    addr
}

/// Sends a POST of 10 bytes to `path` and returns the answer's head (bodies are empty).
fn post(r: &mut BufReader<gonet::Conn>, path: &str) -> String {
    let req = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
    r.get_ref().write(req.as_bytes()).unwrap();
    let mut head = String::new();
    loop {
        let n = r.read_line(&mut head).expect("an answer");
        assert!(n > 0, "end of stream in the answer: {head:?}");
        if head.ends_with("\r\n\r\n") {
            return head;
        }
    }
}

fn connect(addr: &str) -> BufReader<gonet::Conn> {
    let c = gonet::dial("tcp", addr).unwrap();
    c.set_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    BufReader::new(c)
}

#[test]
fn max_bytes_reader_closes_through_the_server_s_writer() {
    util::init();
    let addr = serve();
    let mut r = connect(&addr);
    let head = post(&mut r, "/direct");
    assert!(
        head.starts_with("HTTP/1.1 413 Request Entity Too Large\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest); // end of stream (or a reset: unread bytes)
    assert_eq!(rest, b"", "nothing after the answer");
}

#[test]
fn max_bytes_reader_behind_a_wrapping_writer_keeps_the_connection() {
    util::init();
    let addr = serve();
    let mut r = connect(&addr);
    for _ in 0..3 {
        let head = post(&mut r, "/wrapped");
        assert!(
            head.starts_with("HTTP/1.1 413 Request Entity Too Large\r\n"),
            "{head}"
        );
        assert!(!head.contains("Connection: close"), "{head}");
    }
}
