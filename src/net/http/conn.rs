//! One HTTP/1 connection: Go's `conn.serve` and `conn.readRequest` (server.go) with
//! `readRequest` and `readTransfer` (request.go, transfer.go), parsing with `httparse`.

use std::io;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::body::Body;
use super::handler::Handler;
use super::header::{Header, is_token_byte};
use super::request::{Request, has_token};
use super::response::{ConnOut, ReqFacts, Response};
use super::server::Config;
use super::tls::Conn;
use super::trailer::Trailer;
use super::transfer::{Framing, Shared, write_all};
use crate::server::ConnTrack;

/// How long the server waits, after closing its side of a connection whose request
/// body it did not read, before it closes the socket (so the client reads the
/// response before a reset). Go: server.go `rstAvoidanceDelay`.
const RST_AVOIDANCE_DELAY: Duration = Duration::from_millis(500);

/// How many header fields fit in the parser's first array (on the coroutine's stack, 32
/// bytes each); more fall back to a larger one on the heap (Go has no count limit, only
/// `MaxHeaderBytes`). Browsers send 10 to 20.
const STACK_HEADERS: usize = 32;

/// Why a request could not be read: each is answered as Go answers it, or not at all.
#[derive(Debug)]
enum ReadError {
    /// End of stream, a timeout or a reset before a request began: close quietly.
    /// Go: `isCommonNetReadError`.
    Quiet,
    /// Past `max_header_bytes`: 431. Go: `errTooLarge`.
    TooLarge,
    /// An unknown Transfer-Encoding: 501. Go: `unsupportedTEError`.
    UnsupportedTe,
    /// A reason Go puts in the status line: `400 Bad Request: missing required Host
    /// header`, `505 HTTP Version Not Supported: unsupported protocol version`.
    /// Go: `statusError`.
    Status(u16, &'static str),
    /// Anything else: a plain `400 Bad Request`.
    Bad,
}

/// Serves HTTP/1 requests on `conn` until it closes, errs, or asks to close.
/// Go: `conn.serve`.
pub(crate) fn serve_conn(cfg: &Config, handler: &dyn Handler, conn: Conn, track: Arc<ConnTrack>) {
    let remote = conn.remote_addr().to_string();
    let shared = Arc::new(Shared::new(conn.clone()));
    // On the heap, once per connection: kept off the coroutine's stack, which then
    // stays within its first page or two while the connection idles (the stack pages a
    // connection once touched stay resident).
    let mut out = Box::new(ConnOut::new(conn.clone()));
    let mut req = Box::<Request>::default();
    // Go: defer cancelCtx(): the connection's context (if a request made it) ends with
    // the connection.
    struct CancelOnExit(Arc<Shared>);
    impl Drop for CancelOnExit {
        fn drop(&mut self) {
            self.0.cancel_conn_context();
        }
    }
    let _cancel = CancelOnExit(shared.clone());
    let mut last_post = false;
    // A read deadline is set on the connection now (so clearing it is not a no-op).
    let mut read_deadline = false;
    // Go: Server.doKeepAlives, asked when a response header goes out.
    let keep_alives = || cfg.keep_alives.load(Ordering::Acquire) && !track.stopping();
    loop {
        let read = read_request(
            cfg,
            &shared,
            &mut out,
            &mut req,
            last_post,
            &mut read_deadline,
        );
        if req.conn.is_none() {
            req.conn = Some(shared.clone());
        }
        let head = match read {
            Ok(head) => head,
            Err(e) => {
                let _ = out.flush();
                write_error(&conn, e);
                return;
            }
        };
        if !track.set_active() {
            return;
        }
        // Go: c.tlsState, handed to every request on the conn (r.TLS).
        if req.tls.is_none() {
            req.tls = conn.tls_state();
        }
        if let Some(d) = cfg.write_timeout {
            let _ = conn.set_write_deadline(Some(Instant::now() + d));
        }
        last_post = req.method == "POST";
        if req.remote_addr != remote {
            // A new Request per request in Go, so whatever the last handler did to it
            // is undone; the common case compares instead of copying.
            req.remote_addr.clone_from(&remote);
        }
        let generation = shared.generation.load(Ordering::Acquire);
        req.body.set_server(&shared, generation);

        // Go: the Expect check right after readRequest.
        let expects_continue = head.expect && req.expects_continue();
        let ecr = expects_continue && req.proto_at_least(1, 1) && req.content_length != 0;
        shared.expect_continue.store(ecr, Ordering::Release);
        shared.can_write_continue.store(ecr, Ordering::Release);
        shared.wrote_continue.store(false, Ordering::Release);
        shared.too_large.store(false, Ordering::Release);

        let facts = ReqFacts {
            is_head: req.method == "HEAD",
            proto11: req.proto_at_least(1, 1),
            content_length: req.content_length,
            // Go: Request.wantsHttp10KeepAlive, read by finish_head.
            wants10_keep_alive: head.keep_alive10,
            wants_close: req.close,
            keep_alives: &keep_alives,
            generation,
        };
        // A request with a body may make its client wait for earlier answers (or for a
        // 100 Continue, written straight to the socket): send them first.
        if req.content_length != 0 {
            let _ = out.flush();
        }
        let mut w = Response::new(&mut out, &shared, facts);
        if head.expect && !expects_continue && !req.header.get("Expect").is_empty() {
            w.send_expectation_failed();
            let _ = out.flush();
            return;
        }

        // Go: serverHandler.ServeHTTP answers `OPTIONS *` itself.
        let served = if req.request_uri == "*" && req.method == "OPTIONS" {
            catch_unwind(AssertUnwindSafe(|| global_options(&mut w, &mut req)))
        } else {
            catch_unwind(AssertUnwindSafe(|| handler.serve_http(&mut w, &mut req)))
        };
        // Go: w.cancelCtx() once ServeHTTP returns.
        req.end_context();
        if let Err(panic) = served {
            // Go: the deferred recover in conn.serve. What the handler had buffered is
            // dropped; what was already framed goes out, then the connection closes.
            let _ = w; // the writer's borrow of the connection ends here
            log::error!("http: panic serving {remote}: {}", panic_message(&*panic));
            let _ = out.flush();
            end_request(&shared);
            return;
        }
        if w.c.hijacked {
            let _ = w; // the writer's borrow of the connection ends here
            track.detach();
            end_request(&shared);
            return;
        }
        w.finish_request();
        // Go: finishRequest's abortPendingRead: the background read (if the handler
        // asked for its context) stops before the connection is read again; a byte it
        // read is the start of the next request.
        if shared.abort_background_read() {
            read_deadline = false;
            if let Some(b) = shared.take_background_byte() {
                if let Some(mut wire) = shared.wire() {
                    wire.input.push_back(b);
                }
            }
        }
        // Go: w.reqBody.Close() in finishRequest, then shouldReuseConnection; and, under
        // the same lock, whether the next (pipelined) request is buffered already.
        let (closed_early, pending) = match shared.wire() {
            Some(mut wire) => {
                Shared::close_body(&mut wire);
                (wire.body.early_close, !wire.input.buffered().is_empty())
            }
            None => (true, false),
        };
        let reuse = w.should_reuse_connection(closed_early);
        let limit_hit = w.request_body_limit_hit;
        let _ = w; // the writer's borrow of the connection ends here
        end_request(&shared);
        // The server's own body (now stale) stays for the next request to move on; one
        // the handler put in its place goes now, as Go's would with its Request.
        if !req.body.is_server_of(&shared) {
            req.body = Body::empty();
        }
        if !reuse {
            let _ = out.flush();
            if limit_hit || closed_early {
                close_write_and_wait(&conn);
            }
            return;
        }
        // Keep answers to pipelined requests together: write them out only once the
        // input has nothing more buffered.
        if !pending && out.flush().is_err() {
            return;
        }
        if !track.set_idle() || !cfg.keep_alives() {
            let _ = out.flush();
            return;
        }
        if let Some(d) = cfg.idle_timeout() {
            let _ = conn.set_read_deadline(Some(Instant::now() + d));
            read_deadline = true;
            // Go: c.bufr.Peek(4): wait for the next request's first bytes.
            let mut wire = match shared.wire() {
                Some(w) => w,
                None => return,
            };
            if wire.input.buffered().len() < 4 {
                let _ = out.flush();
                loop {
                    if wire.input.buffered().len() >= 4 {
                        break;
                    }
                    super::idle::wait_readable(&mut wire.input, &mut out);
                    match wire.input.fill(cfg.header_limit()) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            }
        }
        if read_deadline {
            let _ = conn.set_read_deadline(None);
            read_deadline = false;
        }
    }
}

/// Go: server.go `globalOptionsHandler`: `200` with `Content-Length: 0`, reading (and
/// dropping) up to 4 KiB of any body.
fn global_options(w: &mut dyn super::ResponseWriter, r: &mut Request) {
    w.header().set("Content-Length", "0");
    if r.content_length != 0 {
        use std::io::Read;
        let _ = std::io::copy(&mut (&mut r.body).take(4 << 10), &mut std::io::sink());
    }
}

/// Ends the request's body generation: stale `Body` handles fail from now on.
fn end_request(shared: &Shared) {
    shared.generation.fetch_add(1, Ordering::AcqRel);
    shared.expect_continue.store(false, Ordering::Release);
}

/// Go: `conn.closeWriteAndWait`: half-close, give the client time to read the answer.
fn close_write_and_wait(conn: &Conn) {
    let _ = conn.close_write();
    crate::time::sleep(RST_AVOIDANCE_DELAY);
}

/// Go's raw answers to a request it could not read (conn.serve's error switch).
fn write_error(conn: &Conn, e: ReadError) {
    const ERROR_HEADERS: &str =
        "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
    let msg = match e {
        ReadError::Quiet => return,
        ReadError::TooLarge => {
            let public = "431 Request Header Fields Too Large";
            let _ = write_all(
                conn,
                format!("HTTP/1.1 {public}{ERROR_HEADERS}{public}").as_bytes(),
            );
            close_write_and_wait(conn);
            return;
        }
        ReadError::UnsupportedTe => {
            format!("HTTP/1.1 501 Not Implemented{ERROR_HEADERS}Unsupported transfer encoding")
        }
        ReadError::Status(code, text) => {
            let st = super::status::status_text(code);
            format!("HTTP/1.1 {code} {st}: {text}{ERROR_HEADERS}{code} {st}: {text}")
        }
        ReadError::Bad => format!("HTTP/1.1 400 Bad Request{ERROR_HEADERS}400 Bad Request"),
    };
    let _ = write_all(conn, msg.as_bytes());
}

/// Reads one request's line and header into `req` and sets up its body.
/// Go: `conn.readRequest` + `readRequest` + `readTransfer`.
fn read_request(
    cfg: &Config,
    shared: &Shared,
    out: &mut ConnOut,
    req: &mut Request,
    last_post: bool,
    read_deadline: &mut bool,
) -> Result<HeadFacts, ReadError> {
    let (hdr_deadline, whole_deadline) = match (cfg.read_header_timeout(), cfg.read_timeout) {
        (None, None) => (None, None),
        (hdr, whole) => {
            let t0 = Instant::now();
            (hdr.map(|d| t0 + d), whole.map(|d| t0 + d))
        }
    };
    if hdr_deadline.is_some() || *read_deadline {
        let _ = out.conn.set_read_deadline(hdr_deadline);
        *read_deadline = hdr_deadline.is_some();
    }
    let Some(mut wire) = shared.wire() else {
        return Err(ReadError::Quiet);
    };
    let limit = cfg.header_limit();
    if last_post {
        // Go: some clients send an extra CRLF after a POST body.
        let _ = wire.input.want_nonblocking_crlf();
    }
    let mut facts = HeadFacts::default();
    let parsed = loop {
        let buf = wire.input.buffered();
        if !buf.is_empty() && (buf[0] == b'\r' || buf[0] == b'\n') {
            // Go reads an empty request line: "malformed HTTP request".
            return Err(ReadError::Bad);
        }
        match parse_head(buf, req, &mut facts) {
            Ok(Some(n)) => break n,
            Ok(None) => {}
            Err(e) => return Err(e),
        }
        if wire.input.buffered().len() >= limit {
            return Err(ReadError::TooLarge);
        }
        if !out.out.is_empty() && out.flush().is_err() {
            return Err(ReadError::Quiet);
        }
        let had = wire.input.buffered().len();
        if had == 0 {
            // The client's next request: wait for it without the buffers.
            super::idle::wait_readable(&mut wire.input, out);
        }
        match wire.input.fill(limit) {
            Ok(0) if had == 0 => return Err(ReadError::Quiet),
            // Go: a request cut short reads as io.ErrUnexpectedEOF: 400.
            Ok(0) => return Err(ReadError::Bad),
            Ok(_) => {}
            Err(_) if had == 0 => return Err(ReadError::Quiet),
            Err(e) if is_timeout(&e) => return Err(ReadError::Quiet),
            Err(_) => return Err(ReadError::Quiet),
        }
    };
    wire.input.consume(parsed);
    wire.input.shrink();
    finish_head(req, &mut facts)?;
    let framing = transfer(req, &facts)?;
    Shared::begin_body(&mut wire, framing);
    if matches!(framing, Framing::Chunked { .. }) {
        wire.body.trailer = Some(req.trailer.clone());
    }
    drop(wire);
    if hdr_deadline != whole_deadline {
        let _ = out.conn.set_read_deadline(whole_deadline);
        *read_deadline = whole_deadline.is_some();
    }
    Ok(facts)
}

fn is_timeout(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut || crate::net::is_timeout(e)
}

/// Parses a request head from `buf` into `req` with httparse, noting in `facts` the
/// fields the server decides on. `Ok(None)`: incomplete.
fn parse_head(
    buf: &[u8],
    req: &mut Request,
    facts: &mut HeadFacts,
) -> Result<Option<usize>, ReadError> {
    if buf.is_empty() {
        return Ok(None);
    }
    // Uninitialised: httparse writes the fields it finds, so the 2 KiB array costs no
    // clearing per request.
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
    let mut heap: Vec<MaybeUninit<httparse::Header<'_>>>;
    let mut headers: &mut [MaybeUninit<httparse::Header<'_>>] = &mut stack;
    loop {
        let mut r = httparse::Request::new(&mut []);
        match r.parse_with_uninit_headers(buf, headers) {
            Ok(httparse::Status::Complete(n)) => {
                fill_request(req, &r, facts)?;
                return Ok(Some(n));
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                let more = headers.len() * 4;
                heap = std::iter::repeat_with(MaybeUninit::uninit)
                    .take(more)
                    .collect();
                headers = &mut heap;
            }
            Err(httparse::Error::Version) => return version_fallback(buf, req, facts),
            Err(_) => return Err(classify(buf)),
        }
    }
}

/// httparse knows HTTP/1.0 and 1.1 only; Go reads any `HTTP/X.Y` and answers 505 for
/// majors other than 1 (and serves 1.2 to 1.9 as 1.x).
fn version_fallback(
    buf: &[u8],
    req: &mut Request,
    facts: &mut HeadFacts,
) -> Result<Option<usize>, ReadError> {
    let Some(eol) = buf.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let line = &buf[..eol];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(_), Some(_), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ReadError::Bad);
    };
    let Some((major, minor)) = parse_http_version(proto) else {
        return Err(ReadError::Bad);
    };
    if major != 1 {
        // Still check the rest as Go does before its 505: a bad header is a 400.
        return Err(ReadError::Status(505, "unsupported protocol version"));
    }
    // HTTP/1.2 .. 1.9: parse it as 1.1 and keep the minor.
    let start = line.len() - proto.len();
    let mut copy = buf.to_vec();
    copy[start..start + 8].copy_from_slice(b"HTTP/1.1");
    match parse_head(&copy, req, facts)? {
        Some(n) => {
            req.proto = String::from_utf8_lossy(proto).into_owned();
            req.proto_minor = minor;
            Ok(Some(n))
        }
        None => Ok(None),
    }
}

/// Go: `ParseHTTPVersion`.
fn parse_http_version(v: &[u8]) -> Option<(i32, i32)> {
    if v.len() != 8 || !v.starts_with(b"HTTP/") || v[6] != b'.' {
        return None;
    }
    let (a, b) = (v[5], v[7]);
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (i32::from(a - b'0'), i32::from(b - b'0')))
}

/// Go's answer for a head httparse refused: its statusErrors where Go has them (a bad
/// header name or value in an otherwise good head), else a plain 400.
fn classify(buf: &[u8]) -> ReadError {
    let mut lines = buf.split(|&b| b == b'\n');
    let Some(first) = lines.next() else {
        return ReadError::Bad;
    };
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let mut parts = first.splitn(3, |&b| b == b' ');
    let (Some(method), Some(uri), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
        return ReadError::Bad;
    };
    if method.is_empty() || !method.iter().all(|&b| is_token_byte(b)) {
        return ReadError::Bad;
    }
    if uri.iter().any(|&b| b < b' ' || b == 0x7f) || parse_http_version(proto).is_none() {
        return ReadError::Bad;
    }
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return ReadError::Bad;
        };
        let name = &line[..colon];
        if name.is_empty() || name[0] == b' ' || name[0] == b'\t' {
            return ReadError::Bad;
        }
        if !name.iter().all(|&b| is_token_byte(b)) {
            return ReadError::Status(400, "invalid header name");
        }
        let value = &line[colon + 1..];
        if value.iter().any(|&b| b < b' ' && b != b'\t' || b == 0x7f) {
            return ReadError::Status(400, "invalid header value");
        }
    }
    ReadError::Bad
}

/// Copies httparse's view of the head into `req`, reusing its memory, and notes the
/// fields the server decides on in `facts`. The `Host` field goes to `req.host` and
/// not into the header: Go's readRequest reads it from there and conn.readRequest then
/// deletes it (`delete(req.Header, "Host")`), so it never reaches a handler's header.
fn fill_request(
    req: &mut Request,
    r: &httparse::Request<'_, '_>,
    facts: &mut HeadFacts,
) -> Result<(), ReadError> {
    let (Some(method), Some(path), Some(version)) = (r.method, r.path, r.version) else {
        return Err(ReadError::Bad);
    };
    req.reset_for_next_request();
    req.method.clear();
    req.method.push_str(method);
    req.request_uri.clear();
    req.request_uri.push_str(path);
    req.proto_major = 1;
    req.proto_minor = i32::from(version);
    req.proto.clear();
    req.proto
        .push_str(if version == 1 { "HTTP/1.1" } else { "HTTP/1.0" });
    req.header.clear();
    req.host.clear();
    *facts = HeadFacts::default();
    for h in r.headers.iter() {
        if h.name.len() == 4 && h.name.eq_ignore_ascii_case("Host") {
            facts.hosts += 1;
            if facts.hosts == 1 {
                // Go: httpguts.ValidHostHeader on the one value (bytes past ASCII,
                // which would not be UTF-8 or would become U+FFFD, are not valid).
                // Without an early exit: a branch-free pass over a short value.
                facts.host_ok = h.value.iter().fold(true, |ok, &b| ok & valid_host_byte(b));
                if facts.host_ok {
                    // SAFETY: Go's valid host bytes are all ASCII, so valid UTF-8
                    // (from_utf8 costs more than the check above on a short value).
                    req.host
                        .push_str(unsafe { std::str::from_utf8_unchecked(h.value) });
                } else {
                    req.host.push_str(&String::from_utf8_lossy(h.value));
                }
            }
            continue;
        }
        facts.note(h.name);
        req.header.add_wire(h.name, h.value);
    }
    Ok(())
}

/// The request header fields the server itself decides on, noted by `fill_request` as
/// it copies each field (by the name httparse read, which holds only token bytes), so
/// the checks below look up only the fields a request has.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct HeadFacts {
    hosts: usize,
    /// The one `Host` value holds only Go's valid host bytes.
    host_ok: bool,
    te: bool,
    content_lengths: usize,
    connection: bool,
    pragma: bool,
    cache_control: bool,
    trailer: bool,
    pub(crate) expect: bool,
    /// HTTP/1.0 with `keep-alive` in Connection (set by `finish_head`).
    pub(crate) keep_alive10: bool,
}

impl HeadFacts {
    /// Notes a field by its name as httparse read it (token bytes; Go canonicalizes
    /// the name, so the comparison ignores case).
    fn note(&mut self, name: &str) {
        let is = |k: &str| name.eq_ignore_ascii_case(k);
        match name.len() {
            17 if is("Transfer-Encoding") => self.te = true,
            14 if is("Content-Length") => self.content_lengths += 1,
            13 if is("Cache-Control") => self.cache_control = true,
            10 if is("Connection") => self.connection = true,
            7 if is("Trailer") => self.trailer = true,
            6 if is("Pragma") => self.pragma = true,
            6 if is("Expect") => self.expect = true,
            _ => {}
        }
    }
}

/// Go: the rest of `readRequest` and `conn.readRequest`'s checks, in Go's order.
fn finish_head(req: &mut Request, facts: &mut HeadFacts) -> Result<(), ReadError> {
    // The request target. Go: url.ParseRequestURI (CONNECT's authority-form aside).
    let just_authority = req.method == "CONNECT" && !req.request_uri.starts_with('/');
    let parsed = if just_authority {
        let raw = format!("http://{}", req.request_uri);
        req.url
            .parse_request_uri_into(&raw)
            .map(|()| req.url.scheme.clear())
    } else {
        let raw = std::mem::take(&mut req.request_uri);
        let r = req.url.parse_request_uri_into(&raw);
        req.request_uri = raw;
        r
    };
    if parsed.is_err() {
        return Err(ReadError::Bad);
    }
    if facts.hosts > 1 {
        return Err(ReadError::Bad); // Go: "too many Host headers"
    }
    // Go: req.Host = req.URL.Host, else the Host field (already in req.host).
    if !req.url.host.is_empty() {
        req.host.clear();
        req.host.push_str(&req.url.host);
    }
    // Go: fixPragmaCacheControl.
    if facts.pragma
        && !facts.cache_control
        && req
            .header
            .values("Pragma")
            .first()
            .is_some_and(|v| v == "no-cache")
    {
        req.header.set("Cache-Control", "no-cache");
    }
    req.close = if facts.connection {
        let (close, keep_alive10) = should_close(req.proto_major, req.proto_minor, &req.header);
        facts.keep_alive10 = keep_alive10;
        close
    } else {
        // No Connection header: only HTTP/1.0 (and older) closes.
        req.proto_major < 1 || req.proto_major == 1 && req.proto_minor == 0
    };
    Ok(())
}

/// Go: transfer.go `shouldClose` (for requests: the header is left as it is); with it,
/// in the same look-up, whether an HTTP/1.0 request's Connection holds `keep-alive`
/// (Go: `Request.wantsHttp10KeepAlive`).
fn should_close(major: i32, minor: i32, h: &Header) -> (bool, bool) {
    if major < 1 {
        return (true, false);
    }
    let conv = h.values("Connection");
    let has_close = conv.iter().any(|v| has_token(v, "close"));
    if major == 1 && minor == 0 {
        let keep_alive = conv.iter().any(|v| has_token(v, "keep-alive"));
        return (has_close || !keep_alive, keep_alive);
    }
    (has_close, false)
}

/// The body's framing, and the checks after it. Go: `readTransfer` (`parseTransferEncoding`,
/// `fixLength`, `fixTrailer`), then the checks in `conn.readRequest`.
fn transfer(req: &mut Request, facts: &HeadFacts) -> Result<Framing, ReadError> {
    let mut chunked = false;
    let mut content_lengths = facts.content_lengths;
    req.transfer_encoding.clear();
    if facts.te {
        let raw: Vec<String> = req.header.values("Transfer-Encoding").to_vec();
        req.header.del("Transfer-Encoding");
        if req.proto_at_least(1, 1) {
            if raw.len() != 1 || !raw[0].eq_ignore_ascii_case("chunked") {
                return Err(ReadError::UnsupportedTe);
            }
            req.header.del("Content-Length");
            content_lengths = 0;
            chunked = true;
        }
    }
    // Go: fixLength.
    let cls: &[String] = if content_lengths > 0 {
        req.header.values("Content-Length")
    } else {
        &[]
    };
    if cls.len() > 1 {
        let first = trim(&cls[0]).to_string();
        if cls[1..].iter().any(|c| trim(c) != first) {
            return Err(ReadError::Bad);
        }
        req.header.del("Content-Length");
        req.header.add("Content-Length", &first);
    }
    let length: i64 = if chunked {
        -1
    } else if content_lengths == 0 {
        0
    } else {
        let cl = req.header.values("Content-Length").first().map(|s| trim(s));
        match cl {
            Some(cl) if !cl.is_empty() => parse_content_length(cl).ok_or(ReadError::Bad)?,
            _ => {
                req.header.del("Content-Length");
                0
            }
        }
    };
    req.content_length = length;
    // Go: fixTrailer: the declared keys start the request's trailer (with no values),
    // and leave the header.
    if chunked {
        let mut declared = Vec::new();
        if facts.trailer {
            for v in req.header.values("Trailer") {
                for key in v.split(',').map(|k| k.trim_matches([' ', '\t'])) {
                    if key.is_empty() {
                        continue;
                    }
                    let key = super::header::canonical_header_key(key);
                    if matches!(
                        key.as_str(),
                        "Transfer-Encoding" | "Trailer" | "Content-Length"
                    ) {
                        return Err(ReadError::Bad);
                    }
                    declared.push(key);
                }
            }
            req.header.del("Trailer");
        }
        req.trailer = Trailer::declared(declared.iter().map(String::as_str));
        req.transfer_encoding.push("chunked".to_string());
    }
    // Go: conn.readRequest's checks.
    if req.proto_major != 1 {
        let h2_preface = req.proto_major == 2
            && req.proto_minor == 0
            && req.method == "PRI"
            && req.request_uri == "*";
        if !h2_preface {
            return Err(ReadError::Status(505, "unsupported protocol version"));
        }
    }
    if req.proto_at_least(1, 1) && facts.hosts == 0 && req.method != "CONNECT" {
        return Err(ReadError::Status(400, "missing required Host header"));
    }
    if facts.hosts == 1 && !facts.host_ok {
        return Err(ReadError::Status(400, "malformed Host header"));
    }
    // Go's next checks, a valid name and value for every field, are httparse's: it
    // admits only token bytes in names and refuses control bytes (but tab) and DEL in
    // values, and such a head is answered by `classify` with Go's reason. Go then
    // deletes Host from the header; fill_request never put it there.
    Ok(match length {
        -1 => Framing::Chunked {
            left: 0,
            check_end: false,
        },
        0 => Framing::None,
        n => Framing::Length(n as u64),
    })
}

fn trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// Go: transfer.go `parseContentLength` (`strconv.ParseUint(cl, 10, 63)`).
fn parse_content_length(cl: &str) -> Option<i64> {
    if cl.is_empty() || !cl.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    cl.parse::<u64>()
        .ok()
        .filter(|&n| n <= i64::MAX as u64)
        .map(|n| n as i64)
}

/// Go: httpguts `validHostByte` (a table: it runs for every byte of every Host).
fn valid_host_byte(b: u8) -> bool {
    VALID_HOST[usize::from(b)]
}

static VALID_HOST: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'$'
                    | b'%'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'-'
                    | b'.'
                    | b':'
                    | b';'
                    | b'='
                    | b'['
                    | b'\''
                    | b']'
                    | b'_'
                    | b'~'
            );
        c += 1;
    }
    t
};

/// The request parser path on bytes, for the fuzz target and the proptest: parses a
/// head (as `read_request` does, without a socket) and says what the server would do.
/// Not part of the public API.
#[doc(hidden)]
pub fn __parse_request_head(buf: &[u8]) -> String {
    let mut req = Request::default();
    if !buf.is_empty() && (buf[0] == b'\r' || buf[0] == b'\n') {
        return "error: Bad".to_string();
    }
    let mut facts = HeadFacts::default();
    let r = parse_head(buf, &mut req, &mut facts).and_then(|n| match n {
        None => Ok(None),
        Some(n) => {
            finish_head(&mut req, &mut facts)?;
            let framing = transfer(&mut req, &facts)?;
            Ok(Some((n, framing)))
        }
    });
    match r {
        Ok(None) => "partial".to_string(),
        Ok(Some((n, framing))) => format!(
            "ok {n} {} {} {} {}.{} host={} {:?} headers={}",
            req.method,
            req.request_uri,
            req.url.path,
            req.proto_major,
            req.proto_minor,
            req.host,
            framing,
            req.header.len()
        ),
        Err(e) => format!("error: {e:?}"),
    }
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_string()
    }
}

impl super::transfer::Input {
    /// After a POST, drops CR and LF bytes already buffered before the next request.
    /// Go: `numLeadingCRorLF` on a `Peek(4)` (here without waiting for more bytes).
    pub(crate) fn want_nonblocking_crlf(&mut self) -> usize {
        let n = self
            .buffered()
            .iter()
            .take(4)
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.consume(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The server leaves Go's checks of field names and values to httparse (see
    // `transfer`): this fails loudly if httparse ever admits what Go refuses.
    #[test]
    fn httparse_refuses_the_fields_go_refuses() {
        for bad in [
            &b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: x\r\nA(b: v\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nA: v\x01w\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nA: v\x7fw\r\n\r\n",
        ] {
            let mut req = Request::default();
            assert!(
                parse_head(bad, &mut req, &mut HeadFacts::default()).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut req = Request::default();
        let ok = b"GET / HTTP/1.1\r\nHost: x\r\nA: tab\there \xff\r\n\r\n";
        assert!(matches!(
            parse_head(ok, &mut req, &mut HeadFacts::default()),
            Ok(Some(_))
        ));
    }

    #[test]
    fn versions_like_go() {
        assert_eq!(parse_http_version(b"HTTP/1.1"), Some((1, 1)));
        assert_eq!(parse_http_version(b"HTTP/2.0"), Some((2, 0)));
        assert_eq!(parse_http_version(b"HTTP/1.10"), None);
        assert_eq!(parse_http_version(b"http/1.1"), None);
    }

    #[test]
    fn content_lengths_like_go() {
        assert_eq!(parse_content_length("0"), Some(0));
        assert_eq!(parse_content_length("007"), Some(7));
        assert_eq!(parse_content_length("-1"), None);
        assert_eq!(parse_content_length("+1"), None);
        assert_eq!(parse_content_length("9223372036854775808"), None);
    }
}
