//! Request bodies on the wire: Go's transfer.go (`body`, `readTransfer`'s framing) and
//! internal/chunked.go (`chunkedReader`), over the connection's read buffer.
//!
//! The connection's input (its read buffer: the bytes of this request's body and of any
//! pipelined requests behind it) lives in [`Shared`], which the connection loop and the
//! request's [`Body`](super::Body) both hold. The loop reads headers from it between
//! requests; the handler reads the body through it while it runs. A body that outlives
//! its request (moved to another coroutine) is stale: its reads fail with Go's
//! "http: invalid Read on closed Body".

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use super::errors::Error;
use super::tls::Conn;
use super::trailer::Trailer;
use crate::context::{self, CancelFunc, Context};

/// The read buffer's first size. Go: bufio's `defaultBufSize`.
const INITIAL_BUF: usize = 4096;
/// The longest chunk-size line. Go: internal/chunked.go `maxLineLength`.
const MAX_CHUNK_LINE: usize = 4096;
/// How much of an unread body the server reads (and drops) after the handler, to keep
/// the connection. Go: server.go `maxPostHandlerReadBytes`.
pub(crate) const MAX_POST_HANDLER_READ_BYTES: u64 = 256 << 10;

/// The connection's buffered input: Go's `bufio.Reader` over `connReader`.
pub(crate) struct Input {
    pub(crate) conn: Conn,
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Input {
    fn new(conn: Conn) -> Input {
        Input {
            conn,
            buf: Input::new_buf(),
            start: 0,
            end: 0,
        }
    }

    /// A read buffer of the first size.
    pub(crate) fn new_buf() -> Vec<u8> {
        vec![0; INITIAL_BUF]
    }

    /// The read buffer is of the first size (not grown for a large header).
    pub(crate) fn is_standard(&self) -> bool {
        self.buf.len() == INITIAL_BUF
    }

    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more bytes from the connection into the buffer (moving what is there to
    /// the front, growing the buffer up to `max` bytes when it is full). Returns how
    /// many were read: 0 at end of stream, or when the buffer is already `max` full.
    pub(crate) fn fill(&mut self, max: usize) -> io::Result<usize> {
        if self.start > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= max {
                return Ok(0);
            }
            let grown = (self.buf.len() * 2).min(max.max(INITIAL_BUF));
            self.buf.resize(grown, 0);
        }
        let n = self.conn.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Appends a byte read past the buffer (by the background read).
    pub(crate) fn push_back(&mut self, b: u8) {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                self.buf.push(0);
            }
        }
        self.buf[self.end] = b;
        self.end += 1;
    }

    /// Shrinks a buffer that grew for one large header, so idle connections stay small.
    pub(crate) fn shrink(&mut self) {
        if self.buf.len() > 4 * INITIAL_BUF && self.end - self.start <= INITIAL_BUF {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.buf.truncate(INITIAL_BUF);
            self.buf.shrink_to_fit();
        }
    }

    /// Reads into `out` from the buffer, or straight from the connection when the buffer
    /// is empty (no copy for large bodies).
    fn read_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            if out.len() >= self.buf.len() {
                return self.conn.read(out);
            }
            if self.fill(self.buf.len())? == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.consume(n);
        Ok(n)
    }

    /// Makes at least `n` bytes available (fewer only at end of stream).
    fn want(&mut self, n: usize) -> io::Result<()> {
        while self.end - self.start < n {
            if self.fill(self.buf.len().max(n))? == 0 {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// How a request body is delimited. Go: `readTransfer`'s `t.Body` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body. Go: `NoBody`.
    None,
    /// `Content-Length`: bytes left. Go: `io.LimitReader`.
    Length(u64),
    /// Chunked: bytes left in the current chunk, and whether its CRLF is still due.
    Chunked { left: u64, check_end: bool },
}

/// One request body's state. Go: transfer.go `body`.
pub(crate) struct BodyState {
    pub(crate) framing: Framing,
    pub(crate) saw_eof: bool,
    pub(crate) closed: bool,
    /// Closed with more than the server is willing to drain left. Go: `earlyClose`.
    pub(crate) early_close: bool,
    /// A read error, returned again by later reads (Go's readers are sticky).
    pub(crate) err: Option<(io::ErrorKind, String)>,
    /// Where the trailer after the last chunk goes: the request's `trailer`.
    pub(crate) trailer: Option<Trailer>,
}

impl BodyState {
    fn new() -> BodyState {
        BodyState {
            framing: Framing::None,
            saw_eof: true,
            closed: false,
            early_close: false,
            err: None,
            trailer: None,
        }
    }

    /// The bytes of this body not read yet, if known. Go: `unreadDataSizeLocked`.
    pub(crate) fn unread(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            Framing::None => Some(0),
            Framing::Chunked { .. } => None,
        }
    }
}

/// The input and body state behind the lock.
pub(crate) struct Wire {
    pub(crate) input: Input,
    pub(crate) body: BodyState,
}

/// What the connection loop, the response writer and the request body share.
pub(crate) struct Shared {
    wire: Mutex<Wire>,
    /// Bumped when a request ends: its `Body` handles go stale.
    pub(crate) generation: AtomicU64,
    /// This request's body answers `Expect: 100-continue` on its first read.
    pub(crate) expect_continue: AtomicBool,
    /// The `100 Continue` may still be sent (no response written yet). Go:
    /// `response.canWriteContinue`.
    pub(crate) can_write_continue: AtomicBool,
    /// The `100 Continue` was sent. Go: `response.wroteContinue`.
    pub(crate) wrote_continue: AtomicBool,
    /// A `max_bytes_reader` over this body hit its limit. Go: `requestTooLarge`.
    pub(crate) too_large: AtomicBool,
    /// The connection's context, made for the first request that asks for its own:
    /// cancelled when the client goes away or the connection ends. Go: the context
    /// `conn.serve` makes with `context.WithCancel`.
    conn_ctx: OnceLock<(Context, CancelFunc)>,
    /// The background read watching for the client going away. Go:
    /// `connReader.backgroundRead`.
    bg: Mutex<Background>,
    conn: Conn,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("remote_addr", &self.conn.remote_addr())
            .finish()
    }
}

/// The background read's state. Go: `connReader`'s `inRead`, `aborted`, `hasByte` and
/// `byteBuf`.
#[derive(Default)]
struct Background {
    running: Option<may::coroutine::JoinHandle<()>>,
    aborted: bool,
    /// Start it once the body has been read to its end. Go: `registerOnHitEOF`.
    at_eof: bool,
    /// The byte it read (the start of the next request), for the input buffer.
    byte: Option<u8>,
}

impl Shared {
    pub(crate) fn new(conn: Conn) -> Shared {
        Shared {
            wire: Mutex::new(Wire {
                input: Input::new(conn.clone()),
                body: BodyState::new(),
            }),
            generation: AtomicU64::new(0),
            expect_continue: AtomicBool::new(false),
            can_write_continue: AtomicBool::new(false),
            wrote_continue: AtomicBool::new(false),
            too_large: AtomicBool::new(false),
            conn_ctx: OnceLock::new(),
            bg: Mutex::new(Background::default()),
            conn,
        }
    }

    fn bg(&self) -> MutexGuard<'_, Background> {
        // Held only for a few field updates, never across a park.
        self.bg.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new context for the request being served, a child of the connection's, and its
    /// cancel function; starts the background read that cancels the connection's
    /// context when the client goes away (now if the body is read, else when it is).
    /// Go: `context.WithCancel(ctx)` in `conn.readRequest`, and `startBackgroundRead`
    /// (or `registerOnHitEOF`) in `conn.serve`.
    pub(crate) fn request_context(self: &Arc<Self>) -> (Context, CancelFunc) {
        let (conn_ctx, _) = self
            .conn_ctx
            .get_or_init(|| context::with_cancel(&context::background()));
        let made = context::with_cancel(conn_ctx);
        let body_done = self
            .try_wire()
            .is_some_and(|w| w.body.saw_eof || w.body.closed);
        if body_done {
            self.start_background_read();
        } else {
            self.bg().at_eof = true;
        }
        made
    }

    /// Cancels the connection's context (if a request made it). Go: `conn.cancelCtx`.
    pub(crate) fn cancel_conn_context(&self) {
        if let Some((_, cancel)) = self.conn_ctx.get() {
            cancel();
        }
    }

    /// Go: `connReader.startBackgroundRead`: one read of one byte in its own coroutine,
    /// while the handler runs; end of stream or an error there means the client is gone.
    fn start_background_read(self: &Arc<Self>) {
        let mut bg = self.bg();
        bg.at_eof = false;
        if bg.running.is_some() || bg.byte.is_some() {
            return;
        }
        bg.aborted = false;
        let me = self.clone();
        bg.running = Some(crate::go!(move || me.background_read()));
    }

    /// Go: `connReader.backgroundRead`.
    fn background_read(&self) {
        let mut b = [0u8; 1];
        let r = self.conn.read(&mut b);
        let mut bg = self.bg();
        match r {
            Ok(1) => bg.byte = Some(b[0]),
            // Stopped by abort_background_read: not the client's doing.
            Err(e) if bg.aborted && crate::net::is_timeout(&e) => {}
            // End of stream or an error: the client went away.
            _ => {
                drop(bg);
                self.cancel_conn_context();
            }
        }
    }

    /// Stops the background read (if one runs) and waits for it; returns whether one
    /// ran, so the caller knows the read deadline was moved. Go:
    /// `connReader.abortPendingRead` (a read deadline long past, then wait).
    pub(crate) fn abort_background_read(&self) -> bool {
        // Only a request context starts a background read (request_context makes the
        // connection's context first, then touches `bg`): without one, `bg` is still
        // as made, and the lock is skipped on every request that never asked.
        if self.conn_ctx.get().is_none() {
            return false;
        }
        let running = {
            let mut bg = self.bg();
            bg.at_eof = false;
            bg.aborted = true;
            bg.running.take()
        };
        let Some(h) = running else {
            return false;
        };
        let _ = self.conn.set_read_deadline(Some(Instant::now()));
        let _ = h.join();
        let _ = self.conn.set_read_deadline(None);
        true
    }

    /// The byte the background read took from the connection, for the input buffer.
    pub(crate) fn take_background_byte(&self) -> Option<u8> {
        self.bg().byte.take()
    }

    /// The wire, if nobody else is using it: the connection loop and the current
    /// request's body never wait for each other (one of them holding it while the
    /// other wants it means a body outlived its request).
    pub(crate) fn try_wire(&self) -> Option<MutexGuard<'_, Wire>> {
        match self.wire.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Starts a new request's body with `framing`.
    pub(crate) fn begin_body(wire: &mut Wire, framing: Framing) {
        let b = &mut wire.body;
        b.framing = framing;
        b.saw_eof = framing == Framing::None;
        b.closed = false;
        b.early_close = false;
        b.err = None;
        b.trailer = None;
    }

    /// A read of the body for `generation`. Go: `body.Read` (and
    /// `expectContinueReader.Read` for the first read after `Expect: 100-continue`).
    pub(crate) fn read_body(
        self: &Arc<Self>,
        generation: u64,
        out: &mut [u8],
    ) -> io::Result<usize> {
        if self.generation.load(Ordering::Acquire) != generation {
            return Err(Error::BodyReadAfterClose.into());
        }
        let Some(mut wire) = self.try_wire() else {
            return Err(Error::BodyReadAfterClose.into());
        };
        if wire.body.closed {
            return Err(Error::BodyReadAfterClose.into());
        }
        if self.expect_continue.load(Ordering::Acquire)
            && !self.wrote_continue.load(Ordering::Acquire)
            && self.can_write_continue.swap(false, Ordering::AcqRel)
        {
            self.wrote_continue.store(true, Ordering::Release);
            write_all(&self.conn, b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let r = read_locked(&mut wire, out);
        if wire.body.saw_eof {
            drop(wire);
            // Go: registerOnHitEOF(req.Body, startBackgroundRead).
            if self.bg().at_eof {
                self.start_background_read();
            }
        }
        r
    }

    /// Reads and drops up to `limit` bytes of the body; returns how many, and whether
    /// its end was reached. Go: `io.CopyN(io.Discard, body, limit)`.
    // Never inlined: its 4 KiB scratch buffer would otherwise sit in the frame of every
    // caller (the connection loop, the response header), and so on the stack of every
    // connection, idle ones included.
    #[inline(never)]
    pub(crate) fn discard(wire: &mut Wire, limit: u64) -> io::Result<(u64, bool)> {
        let mut scratch = [0u8; 4096];
        let mut total = 0u64;
        while total < limit {
            let want = (limit - total).min(scratch.len() as u64) as usize;
            let n = read_locked(wire, &mut scratch[..want])?;
            if n == 0 {
                return Ok((total, true));
            }
            total += n as u64;
        }
        Ok((total, wire.body.saw_eof))
    }

    /// Closes the body the way the server does after the handler: drains up to 256 KiB
    /// so the connection can be reused, else marks it closed early.
    /// Go: transfer.go `body.Close` with `doEarlyClose`.
    pub(crate) fn close_body(wire: &mut Wire) {
        if wire.body.closed {
            return;
        }
        if !wire.body.saw_eof {
            match wire.body.framing {
                Framing::Length(n) if n > MAX_POST_HANDLER_READ_BYTES => {
                    wire.body.early_close = true
                }
                _ => match Shared::discard(wire, MAX_POST_HANDLER_READ_BYTES) {
                    Ok((n, eof)) => {
                        if n == MAX_POST_HANDLER_READ_BYTES && !eof {
                            wire.body.early_close = true;
                        }
                    }
                    Err(_) => wire.body.early_close = true,
                },
            }
        }
        wire.body.closed = true;
    }

    /// Locks the wire for the connection loop; `None` if a stale body holds it.
    pub(crate) fn wire(&self) -> Option<MutexGuard<'_, Wire>> {
        self.try_wire()
    }
}

pub(crate) fn write_all(conn: &Conn, mut b: &[u8]) -> io::Result<()> {
    while !b.is_empty() {
        let n = conn.write(b)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        b = &b[n..];
    }
    Ok(())
}

fn sticky(body: &mut BodyState, kind: io::ErrorKind, msg: &str) -> io::Error {
    body.err = Some((kind, msg.to_string()));
    io::Error::new(kind, msg.to_string())
}

/// Go: `body.readLocked` over a LimitReader or a chunkedReader.
fn read_locked(wire: &mut Wire, out: &mut [u8]) -> io::Result<usize> {
    if let Some((kind, msg)) = &wire.body.err {
        return Err(io::Error::new(*kind, msg.clone()));
    }
    if wire.body.saw_eof || out.is_empty() {
        return Ok(0);
    }
    match wire.body.framing {
        Framing::None => Ok(0),
        Framing::Length(left) => {
            let want = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = wire.input.read_into(&mut out[..want])?;
            if n == 0 {
                // Go: the LimitReader's EOF counts as the body's end (sawEOF), reported
                // once as io.ErrUnexpectedEOF.
                wire.body.saw_eof = true;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF",
                ));
            }
            let left = left - n as u64;
            wire.body.framing = Framing::Length(left);
            if left == 0 {
                wire.body.saw_eof = true;
            }
            Ok(n)
        }
        Framing::Chunked { .. } => read_chunked(wire, out),
    }
}

/// Go: internal/chunked.go `chunkedReader.Read`, then `body.readTrailer` at the end.
fn read_chunked(wire: &mut Wire, out: &mut [u8]) -> io::Result<usize> {
    loop {
        let Framing::Chunked { left, check_end } = wire.body.framing else {
            return Ok(0);
        };
        if check_end {
            wire.input.want(2)?;
            let b = wire.input.buffered();
            if b.len() < 2 {
                return Err(sticky(
                    &mut wire.body,
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF",
                ));
            }
            if &b[..2] != b"\r\n" {
                return Err(sticky(
                    &mut wire.body,
                    io::ErrorKind::InvalidData,
                    "malformed chunked encoding",
                ));
            }
            wire.input.consume(2);
            wire.body.framing = Framing::Chunked {
                left,
                check_end: false,
            };
            continue;
        }
        if left == 0 {
            let size = match read_chunk_size(&mut wire.input) {
                Ok(n) => n,
                Err((kind, msg)) => return Err(sticky(&mut wire.body, kind, msg)),
            };
            if size == 0 {
                read_trailer(wire)?;
                wire.body.saw_eof = true;
                wire.body.framing = Framing::Chunked {
                    left: 0,
                    check_end: false,
                };
                return Ok(0);
            }
            wire.body.framing = Framing::Chunked {
                left: size,
                check_end: false,
            };
            continue;
        }
        let want = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = wire.input.read_into(&mut out[..want])?;
        if n == 0 {
            return Err(sticky(
                &mut wire.body,
                io::ErrorKind::UnexpectedEof,
                "unexpected EOF",
            ));
        }
        let left = left - n as u64;
        wire.body.framing = Framing::Chunked {
            left,
            check_end: left == 0,
        };
        return Ok(n);
    }
}

/// Reads one chunk-size line. Go: `readChunkLine` + `parseHexUint`.
fn read_chunk_size(input: &mut Input) -> Result<u64, (io::ErrorKind, &'static str)> {
    let line_end = loop {
        if let Some(i) = input.buffered().iter().position(|&b| b == b'\n') {
            break i;
        }
        if input.buffered().len() >= MAX_CHUNK_LINE {
            return Err((io::ErrorKind::InvalidData, "header line too long"));
        }
        match input.fill(input.buf.len().max(MAX_CHUNK_LINE)) {
            Ok(0) => return Err((io::ErrorKind::UnexpectedEof, "unexpected EOF")),
            Ok(_) => {}
            Err(_) => return Err((io::ErrorKind::UnexpectedEof, "unexpected EOF")),
        }
    };
    if line_end + 1 >= MAX_CHUNK_LINE {
        return Err((io::ErrorKind::InvalidData, "header line too long"));
    }
    let line = &input.buffered()[..line_end];
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    let line = &line[..end];
    let line = match line.iter().position(|&b| b == b';') {
        Some(i) => &line[..i],
        None => line,
    };
    let mut n: u64 = 0;
    for (i, &b) in line.iter().enumerate() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err((io::ErrorKind::InvalidData, "invalid byte in chunk length")),
        };
        if i == 16 {
            return Err((io::ErrorKind::InvalidData, "http chunk length too large"));
        }
        n = n << 4 | u64::from(d);
    }
    if line.is_empty() {
        // Go's parseHexUint("") is 0: the last chunk.
        n = 0;
    }
    input.consume(line_end + 1);
    Ok(n)
}

/// Reads the trailer after the last chunk. Go: `body.readTrailer`.
fn read_trailer(wire: &mut Wire) -> io::Result<()> {
    let trailer_eof = |body: &mut BodyState| {
        sticky(
            body,
            io::ErrorKind::UnexpectedEof,
            "http: unexpected EOF reading trailer",
        )
    };
    wire.input.want(2)?;
    let b = wire.input.buffered();
    if b.starts_with(b"\r\n") {
        wire.input.consume(2);
        return Ok(());
    }
    if b.len() < 2 {
        return Err(trailer_eof(&mut wire.body));
    }
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        match httparse::parse_headers(wire.input.buffered(), &mut headers) {
            Ok(httparse::Status::Complete((n, hs))) => {
                if let Some(t) = &wire.body.trailer {
                    t.fill(hs.iter().map(|h| (h.name, h.value)));
                }
                wire.input.consume(n);
                return Ok(());
            }
            Ok(httparse::Status::Partial) => {
                if wire.input.buffered().len() >= 4096 {
                    return Err(sticky(
                        &mut wire.body,
                        io::ErrorKind::InvalidData,
                        "http: suspiciously long trailer after chunked body",
                    ));
                }
                if wire.input.fill(wire.input.buf.len().max(8192))? == 0 {
                    return Err(trailer_eof(&mut wire.body));
                }
            }
            Err(_) => {
                return Err(sticky(
                    &mut wire.body,
                    io::ErrorKind::InvalidData,
                    "malformed MIME header line",
                ));
            }
        }
    }
}
