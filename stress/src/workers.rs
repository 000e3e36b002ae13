//! What each connection does, per mode (echo, idle, burst; http in http.rs).

use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::{config::*, http::*, run::*, stats::*};

// ---------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------

/// A connection a worker holds; counts itself in `conns_up`.
pub(crate) struct Held {
    pub(crate) conn: crate::tls::Conn,
}

pub(crate) fn dial(sh: &Shared, id: usize, out: &mut Outcome) -> Option<crate::tls::Conn> {
    let ips = &sh.cfg.source_ips;
    let (local_addr, control) = match ips.is_empty() {
        true => (None, None),
        false => {
            let ip = ips[(sh.cfg.first_conn + id) % ips.len()];
            let la = gonet::Addr::from(std::net::SocketAddr::new(ip, 0));
            (Some(la), Some(sh.bind_no_port.clone()))
        }
    };
    let dialer = gonet::Dialer {
        timeout: Some(sh.cfg.timeout),
        deadline: Some(sh.hard_end()),
        local_addr,
        control,
        ..Default::default()
    };
    let r = dialer.dial(sh.network, &sh.dial_addr);
    sh.live.dialed.fetch_add(1, Ordering::Relaxed);
    // --tls: the handshake is part of the dial.
    let r = r.and_then(|c| crate::tls::wrap(c, sh.cfg.tls.as_ref(), op_deadline(sh)));
    let conn = match r {
        Ok(conn) => conn,
        Err(e) => {
            out.error(&sh.live, id, error_kind("dial", &e));
            return None;
        }
    };
    sh.live.conns_up.fetch_add(1, Ordering::Relaxed);
    if sh.cfg.greeting {
        if let Err(Fail(kind)) = read_greeting(sh, &conn) {
            out.error(&sh.live, id, kind);
            close(sh, conn);
            return None;
        }
    }
    Some(conn)
}

/// Longest greeting line `--greeting` accepts.
const MAX_GREETING: usize = 4096;

/// `--greeting`: reads the server's first line, byte by byte (what follows it belongs
/// to the mode), within one operation's deadline.
fn read_greeting(sh: &Shared, c: &crate::tls::Conn) -> Result<(), Fail> {
    c.set_read_deadline(Some(op_deadline(sh)))
        .map_err(|e| Fail::io("set deadline", &e))?;
    let mut b = [0u8; 1];
    for _ in 0..MAX_GREETING {
        match c.read(&mut b) {
            Ok(0) => return Err(Fail::msg("greeting: EOF")),
            Ok(_) if b[0] == b'\n' => {
                return c
                    .set_read_deadline(None)
                    .map_err(|e| Fail::io("set deadline", &e));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fail::io("greeting", &e)),
        }
    }
    Err(Fail::msg(format!(
        "greeting: no end of line in {MAX_GREETING} bytes"
    )))
}

pub(crate) fn close(sh: &Shared, conn: crate::tls::Conn) {
    sh.live.conns_up.fetch_sub(1, Ordering::Relaxed);
    // Closed now, not at the last drop: idle mode keeps a clone in `holding`.
    let _ = conn.close();
}

/// The deadline for one operation started now.
pub(crate) fn op_deadline(sh: &Shared) -> Instant {
    (Instant::now() + sh.cfg.timeout).min(sh.hard_end())
}

/// Go's `io.ReadFull`: "EOF" when the stream ends before any byte, "unexpected EOF"
/// when it ends part-way.
pub(crate) fn read_full(conn: &crate::tls::Conn, buf: &mut [u8]) -> Result<(), Fail> {
    let mut got = 0;
    while got < buf.len() {
        match conn.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Err(Fail::msg("read: EOF")),
            Ok(0) => return Err(Fail::msg("read: unexpected EOF")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fail::io("read", &e)),
        }
    }
    Ok(())
}

pub(crate) fn write_all(conn: &crate::tls::Conn, buf: &[u8]) -> Result<(), Fail> {
    match conn.write(buf) {
        Ok(n) if n == buf.len() => Ok(()),
        Ok(_) => match conn.write(&[]) {
            Err(e) => Err(Fail::io("write", &e)),
            Ok(_) => Err(Fail::msg("write: short write")),
        },
        Err(e) => Err(Fail::io("write", &e)),
    }
}

/// Fills `buf` with the pattern for request `seq` of worker `id`, so a reply from
/// another request or connection, a shifted stream or a flipped byte all show.
pub(crate) fn fill_pattern(buf: &mut [u8], id: usize, seq: u64) {
    let mut x =
        (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seq.wrapping_mul(0xD1B5_4A32_D192_ED03);
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// One echo round trip: send `payload` (in [`ECHO_CHUNK`] pieces), read it back, check.
pub(crate) fn echo_once(
    conn: &crate::tls::Conn,
    payload: &[u8],
    back: &mut [u8],
) -> Result<(), Fail> {
    for (piece, got) in payload.chunks(ECHO_CHUNK).zip(back.chunks_mut(ECHO_CHUNK)) {
        write_all(conn, piece)?;
        read_full(conn, got)?;
        if piece != got {
            return Err(Fail::msg("echo: mismatch"));
        }
    }
    Ok(())
}

/// Open-loop pacing: the time each request of one worker is due.
pub(crate) struct Pacer {
    pub(crate) interval: Option<Duration>,
    pub(crate) next: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(sh: &Shared, id: usize) -> Pacer {
        let interval = sh.cfg.rate.map(|rate| {
            let per_conn = rate / sh.cfg.conns as f64;
            Duration::from_secs_f64((1.0 / per_conn).min(MAX_DURATION.as_secs_f64()))
        });
        // Stagger the workers over one interval, so the load is smooth from the start.
        let next = interval.map(|iv| sh.start + iv.mul_f64(id as f64 / sh.cfg.conns as f64));
        Pacer { interval, next }
    }

    /// Waits until the next request is due (open loop) and returns the time latency is
    /// measured from; `None` when the run ends first.
    pub(crate) fn wait_turn(&mut self, sh: &Shared) -> Option<Instant> {
        match (self.interval, self.next) {
            (Some(iv), Some(due)) => {
                // In slices: at a low rate a turn can be seconds away, and an interrupt
                // that brings the end forward must not wait for it.
                loop {
                    if due >= sh.end() {
                        return None;
                    }
                    let now = Instant::now();
                    if due <= now {
                        break;
                    }
                    gonet::time::sleep((due - now).min(Duration::from_millis(100)));
                }
                self.next = Some(due + iv);
                Some(due)
            }
            _ => {
                let now = Instant::now();
                (now < sh.end()).then_some(now)
            }
        }
    }
}

/// Exponential back-off after a failed connection: 10 ms doubling to 1 s, never past the
/// end of the run.
pub(crate) struct Backoff(pub(crate) Duration);

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff(Duration::ZERO)
    }

    pub(crate) fn reset(&mut self) {
        self.0 = Duration::ZERO;
    }

    pub(crate) fn pause(&mut self, end: Instant) {
        self.0 = (self.0 * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let left = end.saturating_duration_since(Instant::now());
        let d = self.0.min(left);
        if !d.is_zero() {
            gonet::time::sleep(d);
        }
    }
}

pub(crate) fn echo_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let size = sh.cfg.size.max(1);
    let mut payload = vec![0u8; size];
    let mut back = vec![0u8; size];
    let mut pacer = Pacer::new(sh, id);
    let mut backoff = Backoff::new();
    let mut conn: Option<crate::tls::Conn> = None;
    let mut seq = 0u64;
    // Bounded: every pass either completes or fails one request (each with a deadline),
    // or backs off; none starts after `end`.
    while Instant::now() < sh.end() {
        let c = match conn.take() {
            Some(c) => c,
            None => match dial(sh, id, &mut out) {
                Some(c) => c,
                None => {
                    backoff.pause(sh.end());
                    continue;
                }
            },
        };
        let Some(t0) = pacer.wait_turn(sh) else {
            conn = Some(c);
            break;
        };
        seq += 1;
        fill_pattern(&mut payload, sh.cfg.first_conn + id, seq);
        let result = c
            .set_deadline(Some(op_deadline(sh)))
            .map_err(|e| Fail::io("set deadline", &e))
            .and_then(|()| echo_once(&c, &payload, &mut back));
        match result {
            Ok(()) => {
                rec.record(t0.elapsed());
                out.requests += 1;
                out.bytes += 2 * size as u64;
                sh.live.requests.add(id, 1);
                backoff.reset();
                conn = Some(c);
            }
            Err(Fail(kind)) => {
                out.error(&sh.live, id, kind);
                close(sh, c);
                backoff.pause(sh.end());
            }
        }
    }
    rec.flush();
    out.ok = conn.is_some();
    (out, conn.map(|conn| Held { conn }))
}

pub(crate) fn idle_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let t0 = Instant::now();
    let Some(c) = dial(sh, id, &mut out) else {
        return (out, None);
    };
    rec.record(t0.elapsed());
    if let Err(Fail(kind)) = prove(sh, id, &c, &mut out) {
        out.error(&sh.live, id, kind);
        close(sh, c);
        return (out, None);
    }
    rec.flush();
    // Hold until the end: a read that times out at `end` means the server kept the
    // connection; end of stream or an error means it dropped it.
    let held = match sh.hold(&c) {
        Err(e) if gonet::is_timeout(&e) => Ok(()),
        Err(e) => Err(Fail::io("read", &e)),
        Ok(0) => Err(Fail::msg("read: EOF")),
        Ok(_) => Err(Fail::msg("idle: unexpected data from server")),
    };
    match held {
        Ok(()) => {
            out.ok = true;
            (out, Some(Held { conn: c }))
        }
        Err(Fail(kind)) => {
            out.error(&sh.live, id, kind);
            close(sh, c);
            (out, None)
        }
    }
}

/// The proof round trip of idle and burst: `size` bytes echoed back (none when 0).
pub(crate) fn prove(
    sh: &Shared,
    id: usize,
    c: &crate::tls::Conn,
    out: &mut Outcome,
) -> Result<(), Fail> {
    if sh.cfg.size == 0 {
        return Ok(());
    }
    let mut payload = vec![0u8; sh.cfg.size];
    let mut back = vec![0u8; sh.cfg.size];
    fill_pattern(&mut payload, sh.cfg.first_conn + id, 0);
    c.set_deadline(Some(op_deadline(sh)))
        .map_err(|e| Fail::io("set deadline", &e))?;
    echo_once(c, &payload, &mut back)?;
    c.set_deadline(None)
        .map_err(|e| Fail::io("set deadline", &e))?;
    out.requests += 1;
    out.bytes += 2 * sh.cfg.size as u64;
    sh.live.requests.add(id, 1);
    Ok(())
}

/// The instant the burst gate opened (now, should it be unset).
pub(crate) fn shared_release(sh: &Shared) -> Instant {
    sh.released_at.get().copied().unwrap_or_else(Instant::now)
}

pub(crate) fn burst_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    if !sh.release.wait(sh.hard_end()) {
        out.error(
            &sh.live,
            id,
            "burst: not released before the hard cap".to_string(),
        );
        return (out, None);
    }
    let released = shared_release(sh);
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let Some(c) = dial(sh, id, &mut out) else {
        return (out, None);
    };
    rec.record(released.elapsed());
    rec.flush();
    if let Err(Fail(kind)) = prove(sh, id, &c, &mut out) {
        out.error(&sh.live, id, kind);
        close(sh, c);
        return (out, None);
    }
    out.connected_after = Some(released.elapsed());
    out.ok = true;
    (out, Some(Held { conn: c }))
}

pub(crate) fn http_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let mut pacer = Pacer::new(sh, id);
    let mut backoff = Backoff::new();
    let mut reader = HttpReader::new();
    let mut conn: Option<crate::tls::Conn> = None;
    while Instant::now() < sh.end() {
        let c = match conn.take() {
            Some(c) => c,
            None => match dial(sh, id, &mut out) {
                Some(c) => {
                    reader.clear();
                    c
                }
                None => {
                    backoff.pause(sh.end());
                    continue;
                }
            },
        };
        let Some(t0) = pacer.wait_turn(sh) else {
            conn = Some(c);
            break;
        };
        let result = c
            .set_deadline(Some(op_deadline(sh)))
            .map_err(|e| Fail::io("set deadline", &e))
            .and_then(|()| write_all(&c, &sh.request))
            .and_then(|()| reader.response(&c));
        match result {
            Ok(resp) => {
                rec.record(t0.elapsed());
                out.requests += 1;
                out.bytes += (sh.request.len() + resp.bytes) as u64;
                *out.statuses.entry(resp.status).or_insert(0) += 1;
                sh.live.requests.add(id, 1);
                backoff.reset();
                if resp.keep_alive {
                    conn = Some(c);
                } else {
                    close(sh, c);
                }
            }
            Err(Fail(kind)) => {
                out.error(&sh.live, id, kind);
                close(sh, c);
                backoff.pause(sh.end());
            }
        }
    }
    rec.flush();
    out.ok = conn.is_some();
    (out, conn.map(|conn| Held { conn }))
}
