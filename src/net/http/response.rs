//! The server's response writer: Go's unexported `response`, `chunkWriter` and the
//! connection's buffered writer (server.go), with the Date cache.
//!
//! A handler's writes collect in a 2048-byte buffer (Go's `bufferBeforeChunkingSize`).
//! If the handler returns before it fills, the response gets a `Content-Length`; once it
//! overflows (or the handler flushes), the header goes out without one and the body is
//! chunked (HTTP/1.1) or delimited by closing the connection (HTTP/1.0): exactly Go's
//! decisions, chunk boundaries included. Header, body and chunk framing then collect in
//! the connection's output buffer, written with one `write` per response (or per
//! batch of pipelined responses).

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::errors::Error;
use super::handler::ResponseWriter;
use super::header::Header;
use super::sniff::detect_content_type;
use super::status::status_text;
use super::tls::Conn;
use super::transfer::{MAX_POST_HANDLER_READ_BYTES, Shared, write_all};

/// Go: server.go `bufferBeforeChunkingSize`.
const BUFFER_BEFORE_CHUNKING: usize = 2048;
/// The output buffer is written out when it holds this much.
const OUT_FLUSH_AT: usize = 64 << 10;
/// The output buffer's first capacity.
const OUT_FIRST: usize = 4096;

/// Panics on a status code Go refuses: below 100 or above 999.
/// Go: server.go `checkWriteHeaderCode`.
pub(crate) fn check_write_header_code(code: u16) {
    // Go's text; net/http panics here too (the code is a programming error).
    if !(100..=999).contains(&code) {
        panic!("invalid WriteHeader code {code}");
    }
}

/// Go: server.go `bodyAllowedForStatus`.
pub(crate) fn body_allowed_for_status(status: u16) -> bool {
    !((100..=199).contains(&status) || status == 204 || status == 304)
}

/// The `Date` field, formatted once per second (Go formats it per response), kept as
/// the whole line (`Date: ...\r\n`) so that a response head copies it in one piece.
pub(crate) struct DateCache {
    secs: u64,
    line: [u8; DATE_LINE],
}

/// `Date: ` + the 29 bytes of `Mon, 02 Jan 2006 15:04:05 GMT` + CRLF.
const DATE_LINE: usize = 6 + 29 + 2;

impl DateCache {
    pub(crate) fn new() -> DateCache {
        let mut line = [b' '; DATE_LINE];
        line[..6].copy_from_slice(b"Date: ");
        line[DATE_LINE - 2..].copy_from_slice(b"\r\n");
        DateCache {
            secs: u64::MAX,
            line,
        }
    }

    /// `Mon, 02 Jan 2006 15:04:05 GMT` for now. Go: `appendTime(b, time.Now())`.
    #[cfg(test)]
    fn now(&mut self) -> &[u8] {
        &self.line()[6..DATE_LINE - 2]
    }

    /// `Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n` for now: what `chunkWriter.writeHeader`
    /// adds when the handler set no Date.
    fn line(&mut self) -> &[u8] {
        let secs = coarse_unix_secs();
        if secs != self.secs {
            let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            use std::io::Write as _;
            // Formatted into the buffer itself: httpdate's Display, no String.
            let mut text = [b' '; 29];
            let mut w: &mut [u8] = &mut text;
            if write!(w, "{}", httpdate::HttpDate::from(now)).is_ok() && w.is_empty() {
                self.line[6..DATE_LINE - 2].copy_from_slice(&text);
                self.secs = secs;
            }
        }
        &self.line
    }
}

/// The wall clock's seconds since 1970, read from the kernel's coarse clock (what the
/// kernel updates at each tick, read through the vDSO without the precise clock's
/// arithmetic): a Date field has one-second resolution, and the tick (a few
/// milliseconds) is far below it.
fn coarse_unix_secs() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given, a valid local.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
        return u64::try_from(ts.tv_sec).unwrap_or(0);
    }
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Per-connection buffers, reused by every response on the connection.
pub(crate) struct ConnOut {
    pub(crate) conn: Conn,
    /// The bytes for the wire: headers, bodies, chunk framing. Go: `conn.bufw`.
    pub(crate) out: Vec<u8>,
    /// A write to the connection failed. Go: `conn.werr`.
    pub(crate) werr: bool,
    /// The handler's header. Go: `response.handlerHeader`.
    pub(crate) handler_header: Header,
    /// The header as it was at `write_header`. Go: `chunkWriter.header`.
    pub(crate) cw_header: Header,
    /// The handler's body bytes not yet framed. Go: `response.w` (bufio, 2048).
    pub(crate) bw: Vec<u8>,
    pub(crate) date: DateCache,
    /// Set when a handler hijacked the connection.
    pub(crate) hijacked: bool,
}

impl ConnOut {
    pub(crate) fn new(conn: Conn) -> ConnOut {
        ConnOut {
            conn,
            out: ConnOut::new_out(),
            werr: false,
            handler_header: Header::new(),
            cw_header: Header::new(),
            bw: ConnOut::new_bw(),
            date: DateCache::new(),
            hijacked: false,
        }
    }

    /// An output buffer of the first size. Go: `conn.bufw` (4 KiB).
    pub(crate) fn new_out() -> Vec<u8> {
        Vec::with_capacity(OUT_FIRST)
    }

    /// A body buffer. Go: `response.w` (2 KiB).
    pub(crate) fn new_bw() -> Vec<u8> {
        Vec::with_capacity(BUFFER_BEFORE_CHUNKING)
    }

    /// Both buffers are of their first sizes (not grown for a large answer).
    pub(crate) fn is_standard(&self) -> bool {
        self.out.capacity() == OUT_FIRST && self.bw.capacity() == BUFFER_BEFORE_CHUNKING
    }

    /// Writes the output buffer to the connection. Go: `conn.bufw.Flush()`.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        if self.werr {
            self.out.clear();
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let r = write_all(&self.conn, &self.out);
        self.out.clear();
        if r.is_err() {
            self.werr = true;
        }
        r
    }

    fn maybe_flush(&mut self) {
        if self.out.len() >= OUT_FLUSH_AT {
            let _ = self.flush();
        }
    }
}

/// What the response needs to know of its request and server.
pub(crate) struct ReqFacts<'a> {
    pub(crate) is_head: bool,
    pub(crate) proto11: bool,
    pub(crate) content_length: i64,
    pub(crate) wants10_keep_alive: bool,
    pub(crate) wants_close: bool,
    /// Go's `doKeepAlives`, asked when the header goes out: keep-alives enabled and no
    /// shutdown started.
    pub(crate) keep_alives: &'a (dyn Fn() -> bool + Send + Sync),
    pub(crate) generation: u64,
}

/// Header keys the final header leaves out. Go: `excludeHeader` / `delHeader`.
#[derive(Default, Clone, Copy)]
struct Excluded(u8);

const X_CONTENT_LENGTH: u8 = 1;
const X_TRANSFER_ENCODING: u8 = 2;
const X_CONNECTION: u8 = 4;
const X_CONTENT_TYPE: u8 = 8;

fn exclude_bit(key: &str) -> u8 {
    match key {
        "Content-Length" => X_CONTENT_LENGTH,
        "Transfer-Encoding" => X_TRANSFER_ENCODING,
        "Connection" => X_CONNECTION,
        "Content-Type" => X_CONTENT_TYPE,
        _ => 0,
    }
}

/// The writer a handler gets: Go's `*http.response`.
pub(crate) struct Response<'a> {
    pub(crate) c: &'a mut ConnOut,
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) req: ReqFacts<'a>,
    pub(crate) wrote_header: bool,
    pub(crate) status: u16,
    /// Go's `owned`: the header counts as snapshotted at `write_header`.
    owned: bool,
    /// The snapshot is taken (into `c.cw_header`): see [`Response::take_snapshot`].
    snap: bool,
    /// The header is on the wire. Go: `chunkWriter.wroteHeader`.
    cw_wrote_header: bool,
    chunking: bool,
    /// Declared (or computed) Content-Length; -1 if none. Go: `contentLength`.
    pub(crate) content_length: i64,
    written: i64,
    handler_done: bool,
    pub(crate) close_after_reply: bool,
    pub(crate) request_body_limit_hit: bool,
}

impl<'a> Response<'a> {
    pub(crate) fn new(c: &'a mut ConnOut, shared: &'a Arc<Shared>, req: ReqFacts<'a>) -> Self {
        c.handler_header.clear();
        c.bw.clear();
        Response {
            c,
            shared,
            req,
            wrote_header: false,
            status: 0,
            owned: false,
            snap: false,
            cw_wrote_header: false,
            chunking: false,
            content_length: -1,
            written: 0,
            handler_done: false,
            close_after_reply: false,
            request_body_limit_hit: false,
        }
    }

    /// Go: `response.requestTooLarge`.
    fn request_too_large(&mut self) {
        self.close_after_reply = true;
        self.request_body_limit_hit = true;
        if !self.wrote_header {
            self.c.handler_header.set("Connection", "close");
        }
    }

    fn check_too_large(&mut self) {
        if !self.request_body_limit_hit && self.shared.too_large.load(Ordering::Acquire) {
            self.request_too_large();
        }
    }

    /// Go's `bufio.Writer.Write` over the chunk writer, with its 2048-byte buffer: the
    /// same chunk boundaries as Go.
    fn buffered_write(&mut self, mut p: &[u8]) {
        while p.len() > BUFFER_BEFORE_CHUNKING - self.c.bw.len() {
            if self.c.bw.is_empty() {
                // A large write into an empty buffer goes straight through.
                self.cw_write(p);
                return;
            }
            let n = BUFFER_BEFORE_CHUNKING - self.c.bw.len();
            self.c.bw.extend_from_slice(&p[..n]);
            p = &p[n..];
            self.flush_bw();
        }
        self.c.bw.extend_from_slice(p);
    }

    /// Go: `bufio.Writer.Flush` of `response.w`.
    fn flush_bw(&mut self) {
        if self.c.bw.is_empty() {
            return;
        }
        let bw = std::mem::take(&mut self.c.bw);
        self.cw_write(&bw);
        self.c.bw = bw;
        self.c.bw.clear();
    }

    /// Go: `chunkWriter.Write`.
    fn cw_write(&mut self, p: &[u8]) {
        if !self.cw_wrote_header {
            self.write_wire_header(p);
        }
        if self.req.is_head {
            return;
        }
        let out = &mut self.c.out;
        if self.chunking {
            push_hex(out, p.len());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(p);
        if self.chunking {
            out.extend_from_slice(b"\r\n");
        }
        self.c.maybe_flush();
    }

    /// Go: `chunkWriter.writeHeader(p)`: the final header, with Go's Content-Length,
    /// chunking, Connection, Content-Type and Date decisions.
    fn write_wire_header(&mut self, p: &[u8]) {
        if self.cw_wrote_header {
            return;
        }
        self.cw_wrote_header = true;
        self.check_too_large();
        let keep_alives = (self.req.keep_alives)();
        let is_head = self.req.is_head;
        // Go's `owned` (a snapshot taken at write_header): deletions below then hide the
        // field from later reads too; without it they only keep it off the wire.
        let owned = self.owned;
        let snap = self.snap;
        let mut excl = Excluded::default();
        // The fields decided on here, read in one pass (the header does not change
        // below: deletions are recorded in `excl`).
        let f = WireFacts::of(if snap {
            &self.c.cw_header
        } else {
            &self.c.handler_header
        });
        if self.plain_head(&f, p, keep_alives) {
            return;
        }
        let hidden = |excl: Excluded, bit: u8| owned && excl.0 & bit != 0;
        let del = |excl: &mut Excluded, bit: u8, present: bool| {
            if owned || present {
                excl.0 |= bit;
            }
        };

        let mut set_content_length: Option<usize> = None;
        let mut set_content_type: &'static str = "";
        let mut set_connection: &'static str = "";
        let mut set_transfer_encoding: &'static str = "";

        let has_te = f.te != Te::Absent;

        if self.handler_done
            && !has_te
            && body_allowed_for_status(self.status)
            && !f.cl_nonempty
            && (!is_head || !p.is_empty())
        {
            self.content_length = p.len() as i64;
            set_content_length = Some(p.len());
        }

        if self.req.wants10_keep_alive && keep_alives {
            let sent_length = f.cl_nonempty;
            if sent_length && f.conn == ConnValue::KeepAlive {
                self.close_after_reply = false;
            }
        }

        let has_cl = self.content_length != -1;

        if self.req.wants10_keep_alive
            && (is_head || has_cl || !body_allowed_for_status(self.status))
        {
            if !f.conn_present {
                set_connection = "keep-alive";
            }
        } else if !self.req.proto11 || self.req.wants_close {
            self.close_after_reply = true;
        }

        if f.conn == ConnValue::Close || !keep_alives {
            self.close_after_reply = true;
        }

        // An Expect: 100-continue body the handler did not read to its end: the client
        // may still be waiting to send it.
        let ecr = self.shared.expect_continue.load(Ordering::Acquire);
        if ecr {
            let saw_eof = self.shared.try_wire().is_some_and(|w| w.body.saw_eof);
            if !saw_eof {
                self.close_after_reply = true;
            }
        }

        if self.req.content_length != 0 && !self.close_after_reply {
            let mut too_big = false;
            match self.shared.try_wire() {
                // A body still being read elsewhere: nothing to drain safely.
                None => self.close_after_reply = true,
                Some(mut wire) => {
                    let stale =
                        self.shared.generation.load(Ordering::Acquire) != self.req.generation;
                    let mut discard = false;
                    if ecr {
                        if self.shared.wrote_continue.load(Ordering::Acquire) {
                            discard = true;
                        }
                    } else if wire.body.closed || stale {
                        if !wire.body.saw_eof {
                            self.close_after_reply = true;
                        }
                    } else if wire
                        .body
                        .unread()
                        .is_some_and(|n| n >= MAX_POST_HANDLER_READ_BYTES)
                    {
                        too_big = true;
                    } else {
                        discard = true;
                    }
                    if discard {
                        match Shared::discard(&mut wire, MAX_POST_HANDLER_READ_BYTES + 1) {
                            Ok((_, true)) => wire.body.closed = true,
                            Ok((_, false)) => too_big = true,
                            Err(_) => self.close_after_reply = true,
                        }
                    }
                }
            }
            if too_big {
                self.request_too_large();
                del(&mut excl, X_CONNECTION, f.conn_present);
                set_connection = "close";
            }
        }

        let code = self.status;
        if body_allowed_for_status(code) {
            let have_type = f.ct_present && !hidden(excl, X_CONTENT_TYPE);
            if !f.ce_nonempty && !have_type && !has_te && !p.is_empty() {
                set_content_type = detect_content_type(p);
            }
        } else {
            if code == 304 {
                del(&mut excl, X_CONTENT_TYPE, f.ct_present);
            }
            del(&mut excl, X_CONTENT_LENGTH, f.cl_present);
            del(&mut excl, X_TRANSFER_ENCODING, f.te_present);
        }

        let set_date = !f.date_present;

        let mut has_cl = has_cl;
        if has_cl && has_te && f.te != Te::Identity {
            let te = self.hdr().get("Transfer-Encoding").to_string();
            log::error!(
                "http: WriteHeader called with both Transfer-Encoding of {te:?} and a Content-Length of {}",
                self.content_length
            );
            del(&mut excl, X_CONTENT_LENGTH, f.cl_present);
            has_cl = false;
        }

        if is_head || !body_allowed_for_status(code) || code == 204 || has_cl {
            del(&mut excl, X_TRANSFER_ENCODING, f.te_present);
        } else if self.req.proto11 {
            if f.te == Te::Identity {
                self.chunking = false;
                self.close_after_reply = true;
                del(&mut excl, X_TRANSFER_ENCODING, f.te_present);
            } else {
                self.chunking = true;
                set_transfer_encoding = "chunked";
                if f.te == Te::Chunked {
                    del(&mut excl, X_TRANSFER_ENCODING, f.te_present);
                }
            }
        } else {
            self.close_after_reply = true;
            del(&mut excl, X_TRANSFER_ENCODING, f.te_present);
        }

        if self.chunking {
            del(&mut excl, X_CONTENT_LENGTH, f.cl_present);
        }

        // Go reads cw.header here: the snapshot with its deletions, "" without one.
        let cw_connection_close = owned && !hidden(excl, X_CONNECTION) && f.conn_close_token;
        let switching =
            code == 101 && !hidden(excl, X_CONNECTION) && is_protocol_switch(self.hdr());
        let del_connection =
            self.close_after_reply && (!keep_alives || !cw_connection_close) && !switching;
        if del_connection {
            del(&mut excl, X_CONNECTION, f.conn_present);
            if self.req.proto11 {
                set_connection = "close";
            }
        }

        self.put_head(
            excl,
            set_date,
            set_content_length,
            [set_content_type, set_connection, set_transfer_encoding],
        );
    }

    /// `write_wire_header` for the answer nearly every request gets: a 200 with its
    /// whole body in hand, to an HTTP/1.1 request without a body that keeps the
    /// connection, from a handler that set none of the framing fields (Content-Length,
    /// Transfer-Encoding, Connection). Go's decisions then come to one: a
    /// Content-Length of `p`, nothing deleted, nothing closed. Returns false, having
    /// written nothing, for anything else.
    fn plain_head(&mut self, f: &WireFacts, p: &[u8], keep_alives: bool) -> bool {
        let r = &self.req;
        let plain = self.status == 200
            && self.handler_done
            && !p.is_empty()
            && !r.is_head
            && r.proto11
            && !r.wants_close
            && !r.wants10_keep_alive
            && r.content_length == 0
            && keep_alives
            && !self.close_after_reply
            && !f.te_present
            && !f.cl_present
            && !f.conn_present
            && !self.shared.expect_continue.load(Ordering::Acquire);
        if !plain {
            return false;
        }
        self.content_length = p.len() as i64;
        let ct = if f.ct_present || f.ce_nonempty {
            ""
        } else {
            detect_content_type(p)
        };
        self.put_head(
            Excluded::default(),
            !f.date_present,
            Some(p.len()),
            [ct, "", ""],
        );
        true
    }

    /// Writes the header as decided. Go: writeStatusLine, header.WriteSubset,
    /// extraHeader.Write (`extra`: Content-Type, Connection, Transfer-Encoding, each
    /// written when not empty), CRLF.
    fn put_head(
        &mut self,
        excl: Excluded,
        set_date: bool,
        set_content_length: Option<usize>,
        extra: [&str; 3],
    ) {
        let c = &mut *self.c;
        let out = &mut c.out;
        write_status_line(out, self.req.proto11, self.status);
        let hdr = if self.snap {
            &c.cw_header
        } else {
            &c.handler_header
        };
        if !hdr.is_empty() {
            hdr.write_subset(out, |k| excl.0 != 0 && excl.0 & exclude_bit(k) != 0);
        }
        if set_date {
            out.extend_from_slice(c.date.line());
        }
        if let Some(n) = set_content_length {
            push_content_length(out, n as u64);
        }
        for (k, v) in ["Content-Type: ", "Connection: ", "Transfer-Encoding: "]
            .into_iter()
            .zip(extra)
        {
            if !v.is_empty() {
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(v.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The header as written: the snapshot taken at `write_header` if the handler
    /// touched the header since, else the handler's own.
    fn hdr(&self) -> &Header {
        if self.snap {
            &self.c.cw_header
        } else {
            &self.c.handler_header
        }
    }

    /// Snapshots the handler's header as `write_header` left it (Go clones it there):
    /// taken only when the handler asks for its header again before the header went
    /// out, the one way later changes could reach it.
    fn take_snapshot(&mut self) {
        if !self.snap {
            let c = &mut *self.c;
            c.cw_header.copy_from(&c.handler_header);
            self.snap = true;
        }
    }

    /// Finishes the response after the handler returned. Go: `response.finishRequest`
    /// (the body's close is the connection loop's).
    pub(crate) fn finish_request(&mut self) {
        self.handler_done = true;
        if !self.wrote_header {
            self.write_header(200);
        }
        self.flush_bw();
        // Go: chunkWriter.close.
        if !self.cw_wrote_header {
            self.write_wire_header(&[]);
        }
        if self.chunking {
            self.c.out.extend_from_slice(b"0\r\n\r\n");
        }
    }

    /// Go: `response.shouldReuseConnection`.
    pub(crate) fn should_reuse_connection(&self, closed_early: bool) -> bool {
        if self.close_after_reply {
            return false;
        }
        if !self.req.is_head
            && self.content_length != -1
            && body_allowed_for_status(self.status)
            && self.content_length != self.written
        {
            return false;
        }
        !self.c.werr && !closed_early
    }

    /// Go: `response.sendExpectationFailed`.
    pub(crate) fn send_expectation_failed(&mut self) {
        self.c.handler_header.set("Connection", "close");
        self.write_header(417);
        self.finish_request();
    }
}

/// Go: server.go `isProtocolSwitchHeader` (for a 101: `Upgrade` set and `Connection`
/// holding the `upgrade` token).
fn is_protocol_switch(h: &Header) -> bool {
    !h.get("Upgrade").is_empty()
        && h.values("Connection")
            .iter()
            .any(|v| super::request::has_token(v, "upgrade"))
}

/// Transfer-Encoding's first value, as the final header's decisions see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Te {
    Absent,
    Identity,
    Chunked,
    Other,
}

/// Connection's first value, as the final header's decisions see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ConnValue {
    Other,
    Close,
    KeepAlive,
}

/// What `write_wire_header` reads of the header, found in one pass.
struct WireFacts {
    te: Te,
    te_present: bool,
    cl_present: bool,
    cl_nonempty: bool,
    conn: ConnValue,
    conn_present: bool,
    /// The first Connection value holds the `close` token.
    conn_close_token: bool,
    ct_present: bool,
    ce_nonempty: bool,
    date_present: bool,
}

impl WireFacts {
    fn of(h: &Header) -> WireFacts {
        let mut f = WireFacts {
            te: Te::Absent,
            te_present: false,
            cl_present: false,
            cl_nonempty: false,
            conn: ConnValue::Other,
            conn_present: false,
            conn_close_token: false,
            ct_present: false,
            ce_nonempty: false,
            date_present: false,
        };
        for (k, vs) in h.iter() {
            let first = vs.first().map_or("", String::as_str);
            match k {
                "Transfer-Encoding" => {
                    f.te_present = true;
                    f.te = match first {
                        "" => Te::Absent,
                        "identity" => Te::Identity,
                        "chunked" => Te::Chunked,
                        _ => Te::Other,
                    };
                }
                "Content-Length" => {
                    f.cl_present = true;
                    f.cl_nonempty = !first.is_empty();
                }
                "Connection" => {
                    f.conn_present = true;
                    f.conn = match first {
                        "close" => ConnValue::Close,
                        "keep-alive" => ConnValue::KeepAlive,
                        _ => ConnValue::Other,
                    };
                    f.conn_close_token = super::request::has_token(first, "close");
                }
                "Content-Type" => f.ct_present = true,
                "Content-Encoding" => f.ce_nonempty = !first.is_empty(),
                "Date" => f.date_present = true,
                _ => {}
            }
        }
        f
    }
}

impl ResponseWriter for Response<'_> {
    fn __server_conn(&mut self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self.shared.clone())
    }

    fn header(&mut self) -> &mut Header {
        // Go: response.Header's snapshot of the logically written header.
        if self.wrote_header && !self.cw_wrote_header {
            self.take_snapshot();
        }
        &mut self.c.handler_header
    }

    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.c.hijacked {
            if !data.is_empty() {
                log::error!("http: response.Write on hijacked connection");
            }
            return Err(Error::Hijacked.into());
        }
        self.shared
            .can_write_continue
            .store(false, Ordering::Release);
        if !self.wrote_header {
            self.write_header(200);
        }
        if data.is_empty() {
            return Ok(0);
        }
        if !body_allowed_for_status(self.status) {
            return Err(Error::BodyNotAllowed.into());
        }
        self.written += data.len() as i64;
        if self.content_length != -1 && self.written > self.content_length {
            return Err(Error::ContentLength.into());
        }
        self.buffered_write(data);
        if self.c.werr {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "http: connection write failed",
            ));
        }
        Ok(data.len())
    }

    fn write_header(&mut self, code: u16) {
        if self.c.hijacked {
            log::error!("http: response.WriteHeader on hijacked connection");
            return;
        }
        if self.wrote_header {
            log::error!("http: superfluous response.WriteHeader call");
            return;
        }
        check_write_header_code(code);
        // 1xx informational responses (but 101, which ends the exchange, as in Go 1.20+).
        if (100..=199).contains(&code) && code != 101 {
            if code == 100 {
                self.shared
                    .can_write_continue
                    .store(false, Ordering::Release);
            }
            let c = &mut *self.c;
            write_status_line(&mut c.out, self.req.proto11, code);
            c.handler_header.write_subset(&mut c.out, |k| {
                k == "Content-Length" || k == "Transfer-Encoding"
            });
            c.out.extend_from_slice(b"\r\n");
            let _ = c.flush();
            return;
        }
        self.check_too_large();
        self.wrote_header = true;
        self.status = code;
        // Go snapshots the header here (when the handler touched it, and on a later
        // `Header()` call before the header is on the wire). The copy is taken only if
        // the handler asks for its header again before then (see `header`); until
        // then the handler's header is the snapshot.
        self.owned = true;
        self.snap = false;
        let cl = self.c.handler_header.get("Content-Length");
        if !cl.is_empty() {
            match cl.parse::<i64>() {
                Ok(v) if v >= 0 => self.content_length = v,
                _ => {
                    // Go deletes it from the handler's header, not from the snapshot.
                    log::error!("http: invalid Content-Length of {cl:?}");
                    self.take_snapshot();
                    self.c.handler_header.del("Content-Length");
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.write_header(200);
        }
        self.flush_bw();
        if !self.cw_wrote_header {
            self.write_wire_header(&[]);
        }
        self.c.flush()
    }

    fn hijack(&mut self) -> io::Result<(crate::net::Conn, Vec<u8>)> {
        if self.c.hijacked {
            return Err(Error::Hijacked.into());
        }
        let conn = self.c.conn.hijackable()?;
        if self.wrote_header {
            self.flush_bw();
            if !self.cw_wrote_header {
                self.write_wire_header(&[]);
            }
        }
        self.c.flush()?;
        // Go: hijackLocked's abortPendingRead; the byte it read goes with the rest.
        self.shared.abort_background_read();
        let byte = self.shared.take_background_byte();
        let Some(mut wire) = self.shared.try_wire() else {
            return Err(Error::Hijacked.into());
        };
        let mut rest = wire.input.buffered().to_vec();
        let n = rest.len();
        wire.input.consume(n);
        drop(wire);
        rest.extend(byte);
        self.c.hijacked = true;
        Ok((conn, rest))
    }
}

/// Go: server.go `writeStatusLine` (which keeps the common lines precomputed too).
pub(crate) fn write_status_line(out: &mut Vec<u8>, is11: bool, code: u16) {
    if let Some(line) = common_status_line(is11, code) {
        out.extend_from_slice(line);
        return;
    }
    out.extend_from_slice(if is11 { b"HTTP/1.1 " } else { b"HTTP/1.0 " });
    let text = status_text(code);
    if text.is_empty() {
        out.extend_from_slice(format!("{code:03} status code {code}\r\n").as_bytes());
    } else {
        // Three digits: check_write_header_code keeps codes in 100..=999.
        let c = code.min(999);
        out.extend_from_slice(&[
            b'0' + (c / 100) as u8,
            b'0' + (c / 10 % 10) as u8,
            b'0' + (c % 10) as u8,
            b' ',
        ]);
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The status lines most responses carry, whole (the test `common_status_lines_are_go_s`
/// checks each against the line built from `status_text`).
fn common_status_line(is11: bool, code: u16) -> Option<&'static [u8]> {
    macro_rules! lines {
        ($($code:literal $text:literal),* $(,)?) => {
            match (is11, code) {
                $(
                    (true, $code) => Some(concat!("HTTP/1.1 ", $code, " ", $text, "\r\n").as_bytes()),
                    (false, $code) => Some(concat!("HTTP/1.0 ", $code, " ", $text, "\r\n").as_bytes()),
                )*
                _ => None,
            }
        };
    }
    lines!(
        200 "OK",
        201 "Created",
        204 "No Content",
        301 "Moved Permanently",
        302 "Found",
        304 "Not Modified",
        400 "Bad Request",
        404 "Not Found",
        405 "Method Not Allowed",
        500 "Internal Server Error",
    )
}

/// `Content-Length: N\r\n`, built on the stack and copied in one piece.
fn push_content_length(out: &mut Vec<u8>, mut n: u64) {
    const PREFIX: &[u8] = b"Content-Length: ";
    let mut buf = [0u8; 16 + 20 + 2];
    let mut i = buf.len() - 2;
    buf[i..].copy_from_slice(b"\r\n");
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    i -= PREFIX.len();
    buf[i..i + PREFIX.len()].copy_from_slice(PREFIX);
    out.extend_from_slice(&buf[i..]);
}

fn push_hex(out: &mut Vec<u8>, mut n: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = HEX[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_an_http_date_of_now() {
        let mut d = DateCache::new();
        let text = std::str::from_utf8(d.now()).unwrap().to_string();
        let t = httpdate::parse_http_date(&text).unwrap();
        let age = SystemTime::now().duration_since(t).unwrap();
        assert!(age < std::time::Duration::from_secs(5), "{text}");
        assert!(text.ends_with(" GMT") && text.len() == 29, "{text}");
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        push_hex(&mut v, 0);
        push_hex(&mut v, 2048);
        push_hex(&mut v, 0xabc);
        assert_eq!(v, b"0800abc");
        let mut s = Vec::new();
        write_status_line(&mut s, true, 299);
        assert_eq!(s, b"HTTP/1.1 299 status code 299\r\n");
        let mut s = Vec::new();
        push_content_length(&mut s, 0);
        push_content_length(&mut s, u64::MAX);
        assert_eq!(
            s,
            b"Content-Length: 0\r\nContent-Length: 18446744073709551615\r\n"
        );
    }

    #[test]
    fn common_status_lines_are_go_s() {
        for code in 100..=999 {
            for is11 in [true, false] {
                if let Some(line) = common_status_line(is11, code) {
                    let text = status_text(code);
                    let want = format!("HTTP/1.{} {code} {text}\r\n", u8::from(is11));
                    assert!(!text.is_empty());
                    assert_eq!(std::str::from_utf8(line).unwrap(), want);
                }
            }
        }
        let mut d = DateCache::new();
        let line = d.line().to_vec();
        assert!(line.starts_with(b"Date: ") && line.ends_with(b" GMT\r\n"));
    }
}
