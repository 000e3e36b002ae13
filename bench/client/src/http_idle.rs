//! `client httpidle ADDR --conns N --pid PID [--path /] [--settle-ms 1000] [--hold-s 0]`:
//! the server RSS per idle HTTP keep-alive connection.
//!
//! Opens N connections, each sending one `GET PATH HTTP/1.1` and reading its whole
//! response (so the server has really served a request on it and holds it as a
//! keep-alive connection waiting for the next), then reads the server's VmRSS. Prints
//! `rss_before_kb rss_after_kb bytes_per_conn conns open_s`, as `client idle` does.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::{connect, rss_kb, Opts};

/// Reads one response with a Content-Length (what every server here sends for GET /).
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::other("closed before the response ended"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let cl: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| io::Error::other("response without Content-Length"))?;
        if buf.len() >= end + 4 + cl {
            return Ok(());
        }
    }
}

pub fn run(o: &Opts) -> io::Result<()> {
    let conns: usize = o.get("conns", 8000);
    let pid: u32 = o.get("pid", 0);
    let path: String = o.get("path", "/".to_string());
    if pid == 0 {
        return Err(io::Error::other("httpidle needs --pid"));
    }
    let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", o.addr);
    let rss0 = rss_kb(pid)?;
    let t0 = Instant::now();
    let mut held = Vec::with_capacity(conns);
    let mut buf = Vec::with_capacity(4096);
    for _ in 0..conns {
        let mut s = connect(o.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(req.as_bytes())?;
        read_response(&mut s, &mut buf)?;
        held.push(s);
    }
    let open_s = t0.elapsed().as_secs_f64();
    crate::report_idle(o, pid, rss0, held, open_s)
}
