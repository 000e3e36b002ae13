//! The http mode: keep-alive GETs, and a small HTTP/1.1 response reader.

use std::io;

use crate::{config::*, stats::*};

// ---------------------------------------------------------------------------------------
// A small HTTP/1.1 response reader
// ---------------------------------------------------------------------------------------

/// One response's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Whether the connection can carry the next request.
    pub keep_alive: bool,
    /// Bytes the response took on the wire.
    pub bytes: usize,
}

/// Reads HTTP/1.x responses from a connection: status line, headers, and a body framed
/// by Content-Length, chunked transfer coding, or the end of the stream. The body is
/// read and dropped.
pub struct HttpReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for HttpReader {
    fn default() -> HttpReader {
        HttpReader::new()
    }
}

pub(crate) fn malformed(what: &str) -> Fail {
    Fail::msg(format!("http: malformed response ({what})"))
}

impl HttpReader {
    /// An empty reader.
    pub fn new() -> HttpReader {
        HttpReader {
            buf: Vec::new(),
            start: 0,
            end: 0,
        }
    }

    /// Forgets buffered bytes (a new connection).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more bytes; Ok(false) at end of stream.
    pub(crate) fn fill(&mut self, conn: &crate::tls::Conn) -> Result<bool, Fail> {
        if self.buf.is_empty() {
            self.buf.resize(16 * 1024, 0);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= MAX_HTTP_HEADER {
                return Err(malformed("header or chunk line too long"));
            }
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match conn.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Fail::io("read", &e)),
            }
        }
    }

    /// A line ending in CRLF (returned without it), reading as needed.
    pub(crate) fn line(
        &mut self,
        conn: &crate::tls::Conn,
        total: &mut usize,
    ) -> Result<Vec<u8>, Fail> {
        loop {
            if let Some(i) = self.pending().windows(2).position(|w| w == b"\r\n") {
                let line = self.pending()[..i].to_vec();
                self.start += i + 2;
                *total += i + 2;
                return Ok(line);
            }
            if !self.fill(conn)? {
                return Err(Fail::msg("read: unexpected EOF"));
            }
        }
    }

    /// Skips `n` body bytes, reading as needed.
    pub(crate) fn skip(
        &mut self,
        conn: &crate::tls::Conn,
        mut n: usize,
        total: &mut usize,
    ) -> Result<(), Fail> {
        *total += n;
        loop {
            let have = self.end - self.start;
            if have >= n {
                self.start += n;
                return Ok(());
            }
            n -= have;
            self.clear();
            if !self.fill(conn)? {
                return Err(Fail::msg("read: unexpected EOF"));
            }
        }
    }

    /// Reads one whole response.
    pub(crate) fn response(&mut self, conn: &crate::tls::Conn) -> Result<Response, Fail> {
        let mut total = 0usize;
        // The status line; end of stream before any byte is the server closing an idle
        // keep-alive connection: "EOF", as Go's client reports it.
        let status_line = loop {
            if let Some(i) = self.pending().windows(2).position(|w| w == b"\r\n") {
                let line = self.pending()[..i].to_vec();
                self.start += i + 2;
                total += i + 2;
                break line;
            }
            let had = self.end - self.start;
            if !self.fill(conn)? {
                return Err(Fail::msg(if had == 0 {
                    "read: EOF"
                } else {
                    "read: unexpected EOF"
                }));
            }
        };
        let status_line = String::from_utf8_lossy(&status_line).into_owned();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(malformed("status line"));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or_else(|| malformed("status code"))?;
        let mut keep_alive = version != "HTTP/1.0";
        let mut length: Option<usize> = None;
        let mut chunked = false;
        let mut header_bytes = 0usize;
        loop {
            let line = self.line(conn, &mut total)?;
            header_bytes += line.len() + 2;
            if header_bytes > MAX_HTTP_HEADER {
                return Err(malformed("header too large"));
            }
            if line.is_empty() {
                break;
            }
            let line = String::from_utf8_lossy(&line);
            let Some((name, value)) = line.split_once(':') else {
                return Err(malformed("header line"));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse().map_err(|_| malformed("Content-Length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
        }
        let no_body = (100..200).contains(&status) || status == 204 || status == 304;
        if no_body {
        } else if chunked {
            loop {
                let line = self.line(conn, &mut total)?;
                let line = String::from_utf8_lossy(&line);
                let hex = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(hex, 16).map_err(|_| malformed("chunk size"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    let mut trailer_lines = 0;
                    while !self.line(conn, &mut total)?.is_empty() {
                        trailer_lines += 1;
                        if trailer_lines > 100 {
                            return Err(malformed("trailers"));
                        }
                    }
                    break;
                }
                self.skip(conn, size, &mut total)?;
                if !self.line(conn, &mut total)?.is_empty() {
                    return Err(malformed("chunk end"));
                }
            }
        } else if let Some(n) = length {
            self.skip(conn, n, &mut total)?;
        } else {
            // No framing: the body runs to the end of the stream.
            keep_alive = false;
            loop {
                total += self.end - self.start;
                self.clear();
                if !self.fill(conn)? {
                    break;
                }
            }
        }
        Ok(Response {
            status,
            keep_alive,
            bytes: total,
        })
    }
}
