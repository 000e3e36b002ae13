//! The udp mode: request/response datagrams against a UDP (or unixgram) echo server.
//!
//! Each worker is one connected datagram socket (gonet's `dial("udp")`; for a path or
//! `@name`, a unixgram socket bound to an abstract name of its own, so the server can
//! answer it) with one datagram in flight: `--size` bytes (this worker's sequence number,
//! then a pattern), sent, and the echo checked byte for byte. A datagram whose echo does
//! not come back within `--timeout` is **lost**: counted in the report's `lost`, and the
//! worker goes on with the next one. A lost datagram is never a hang, and never an error
//! (UDP may drop datagrams; the count is the measure). An echo that arrives after its
//! datagram was counted lost is **late**: checked, counted, and skipped. An echo that
//! matches no datagram this worker sent is an error (`udp: mismatch`), and so is an ICMP
//! error the socket reports (`read: connection refused` for a closed port).

use std::time::Instant;

use crate::{config::*, run::*, stats::*, workers::*};

/// The largest UDP payload over IPv4.
pub const MAX_DATAGRAM: usize = 65507;
/// The smallest `--size` in udp mode: the sequence number must fit.
pub const MIN_DATAGRAM: usize = 8;

/// The network udp mode dials for `addr`: "unixgram" for a path or `@name`, else "udp".
pub fn udp_network(addr: &str) -> &'static str {
    match network_of(addr) {
        "unix" => "unixgram",
        _ => "udp",
    }
}

/// The datagram for request `seq` of worker `id`: the number, then its pattern.
fn fill(buf: &mut [u8], id: usize, seq: u64) {
    fill_pattern(&mut buf[MIN_DATAGRAM..], id, seq);
    buf[..MIN_DATAGRAM].copy_from_slice(&seq.to_le_bytes());
}

/// Whether `got` is this worker's datagram `seq`, exactly.
fn is_datagram(got: &[u8], want: &mut [u8], id: usize, seq: u64) -> bool {
    if got.len() != want.len() {
        return false;
    }
    fill(want, id, seq);
    got == &want[..]
}

fn dial_udp(sh: &Shared, id: usize, out: &mut Outcome) -> Option<gonet::Conn> {
    let r = match sh.network {
        "unixgram" => {
            // An unbound unixgram socket cannot be answered: bind a name of our own.
            let local = format!("@gonet-stress-{}-{id}", std::process::id());
            let laddr = gonet::UnixAddr::new(local, "unixgram");
            let raddr = gonet::UnixAddr::new(&sh.dial_addr, "unixgram");
            gonet::net::dial_unix("unixgram", Some(&laddr), &raddr).map(|c| c.into_conn())
        }
        network => gonet::Dialer {
            timeout: Some(sh.cfg.timeout),
            deadline: Some(sh.hard_end()),
            ..Default::default()
        }
        .dial(network, &sh.dial_addr),
    };
    sh.live
        .dialed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match r {
        Ok(c) => {
            sh.live
                .conns_up
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some(c)
        }
        Err(e) => {
            out.error(&sh.live, id, error_kind("dial", &e));
            None
        }
    }
}

pub(crate) fn udp_worker(sh: &Shared, id: usize) -> (Outcome, Option<Held>) {
    let mut out = Outcome::default();
    let mut rec = Recorder::new(sh.shards.clone(), id);
    let size = sh.cfg.size.clamp(MIN_DATAGRAM, MAX_DATAGRAM);
    let (mut payload, mut check) = (vec![0u8; size], vec![0u8; size]);
    // One byte more than sent, so a longer echo shows as a mismatch.
    let mut back = vec![0u8; size + 1];
    let mut pacer = Pacer::new(sh, id);
    let mut backoff = Backoff::new();
    let mut conn = None;
    let mut seq = 0u64;
    // Bounded: every pass sends one datagram and waits at most --timeout for it (never
    // past the hard cap), or backs off; none starts after `end`.
    while Instant::now() < sh.end() {
        let c = match conn.take() {
            Some(c) => c,
            None => match dial_udp(sh, id, &mut out) {
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
        fill(&mut payload, id, seq);
        if let Err(e) = c.set_read_deadline(Some(op_deadline(sh))) {
            out.error(&sh.live, id, error_kind("set deadline", &e));
            close(sh, crate::tls::Conn::Plain(c));
            backoff.pause(sh.end());
            continue;
        }
        if let Err(e) = c.write(&payload) {
            // A refused datagram (ICMP from an earlier one) or a full buffer: the socket
            // stays usable.
            out.error(&sh.live, id, error_kind("write", &e));
            conn = Some(c);
            backoff.pause(sh.end());
            continue;
        }
        loop {
            match c.read(&mut back) {
                Ok(n) if back[..n] == payload[..] => {
                    rec.record(t0.elapsed());
                    out.requests += 1;
                    out.bytes += 2 * size as u64;
                    sh.live.requests.add(id, 1);
                    backoff.reset();
                    break;
                }
                Ok(n) => {
                    let got = &back[..n];
                    let old = (n == size)
                        .then(|| u64::from_le_bytes(got[..MIN_DATAGRAM].try_into().unwrap()));
                    match old {
                        // The echo of a datagram already counted lost: wait on for ours.
                        Some(old) if old < seq && is_datagram(got, &mut check, id, old) => {
                            out.late += 1;
                        }
                        _ => {
                            out.error(&sh.live, id, "udp: mismatch".to_string());
                            break;
                        }
                    }
                }
                Err(e) if gonet::is_timeout(&e) => {
                    out.lost += 1;
                    break;
                }
                Err(e) => {
                    out.error(&sh.live, id, error_kind("read", &e));
                    backoff.pause(sh.end());
                    break;
                }
            }
        }
        conn = Some(c);
    }
    rec.flush();
    out.ok = conn.is_some();
    (
        out,
        conn.map(|c| Held {
            conn: crate::tls::Conn::Plain(c),
        }),
    )
}
