//! `client udp ADDR --conns N --secs D [--warmup W] [--threads T] [--size 64]
//! [--timeout-ms 200] [--pid PID]`: UDP request/response against an echo server.
//!
//! N connected UDP sockets, each with one datagram in flight: send SIZE bytes (a
//! sequence number and a pattern), wait for the echo, check every byte, send the next.
//! A datagram that does not come back within --timeout-ms is lost (UDP may drop it): it
//! counts as a loss, not a hang, and that socket sends a new one. An echo of an older
//! datagram (late, after its loss was counted) is dropped and counted as late. Prints
//! one `key=value` line, like echo: rtps, p50/p99 latency, server CPU per round trip,
//! losses, late and errors.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{errno, join_all, pct, Epoll, Opts, Window, MEASURE, STOP, WARMUP};

struct Out {
    round_trips: u64,
    lat_ns: Vec<u32>,
    losses: u64,
    late: u64,
    errors: u64,
}

pub fn run(o: &Opts) -> io::Result<()> {
    let conns: usize = o.get("conns", 100);
    let secs: f64 = o.get("secs", 10.0);
    let warmup: f64 = o.get("warmup", 1.0);
    let threads: usize = o.get::<usize>("threads", 1).max(1);
    let size: usize = o.get::<usize>("size", 64).clamp(16, 65507);
    let timeout = Duration::from_millis(o.get("timeout-ms", 200));
    let pid: u32 = o.get("pid", 0);

    let bind: SocketAddr = if o.addr.is_ipv4() {
        "127.0.0.1:0".parse().unwrap()
    } else {
        "[::1]:0".parse().unwrap()
    };
    let mut parts: Vec<Vec<UdpSocket>> = (0..threads).map(|_| Vec::new()).collect();
    for i in 0..conns {
        let s = UdpSocket::bind(bind)?;
        s.connect(o.addr)?;
        s.set_nonblocking(true)?;
        parts[i % threads].push(s);
    }
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let phase = phase.clone();
            std::thread::spawn(move || udp_thread(part, size, timeout, &phase))
        })
        .collect();

    let w = Window::measure(&phase, warmup, secs, pid)?;
    let (elapsed, srv_cpu, own_cpu) = (w.elapsed, w.srv_cpu, w.own_cpu);

    let mut total = Out {
        round_trips: 0,
        lat_ns: Vec::new(),
        losses: 0,
        late: 0,
        errors: 0,
    };
    for r in join_all(handles)? {
        total.round_trips += r.round_trips;
        total.losses += r.losses;
        total.late += r.late;
        total.errors += r.errors;
        total.lat_ns.extend(r.lat_ns);
    }
    total.lat_ns.sort_unstable();
    let rt = total.round_trips.max(1) as f64;
    println!(
        "rtps={:.0} p50_us={:.1} p99_us={:.1} srv_cpu_s={:.2} srv_cpu_us_per_rt={:.3} srv_cores={:.2} client_cpu_s={:.2} round_trips={} losses={} late={} loss_pct={:.3} secs={:.2} conns={} errors={}",
        total.round_trips as f64 / elapsed,
        pct(&total.lat_ns, 0.50) / 1e3,
        pct(&total.lat_ns, 0.99) / 1e3,
        srv_cpu,
        srv_cpu * 1e6 / rt,
        srv_cpu / elapsed,
        own_cpu,
        total.round_trips,
        total.losses,
        total.late,
        total.losses as f64 * 100.0 / (total.round_trips + total.losses).max(1) as f64,
        elapsed,
        conns,
        total.errors,
    );
    Ok(())
}

/// The datagram socket `i` sends as its `seq`-th: the two numbers, then a pattern.
fn fill(msg: &mut [u8], i: usize, seq: u64) {
    msg[..8].copy_from_slice(&seq.to_le_bytes());
    msg[8..16].copy_from_slice(&(i as u64).to_le_bytes());
    for (k, b) in msg[16..].iter_mut().enumerate() {
        *b = (k as u64 ^ seq ^ i as u64) as u8;
    }
}

fn send(s: &UdpSocket, msg: &[u8]) -> bool {
    // SAFETY: msg is valid for msg.len() bytes; the socket is connected.
    let n = unsafe { libc::send(s.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
    // A full send buffer (EAGAIN) is a datagram lost on the way: its timeout resends.
    n == msg.len() as isize || (n < 0 && errno() == libc::EAGAIN)
}

fn udp_thread(
    socks: Vec<UdpSocket>,
    size: usize,
    timeout: Duration,
    phase: &AtomicU8,
) -> io::Result<Out> {
    let ep = Epoll::new()?;
    let mut msgs: Vec<Vec<u8>> = vec![vec![0u8; size]; socks.len()];
    let mut seq = vec![0u64; socks.len()];
    let mut sent_at = vec![Instant::now(); socks.len()];
    let mut buf = vec![0u8; 65536];
    let mut out = Out {
        round_trips: 0,
        lat_ns: Vec::with_capacity(1 << 20),
        losses: 0,
        late: 0,
        errors: 0,
    };
    for (i, s) in socks.iter().enumerate() {
        ep.ctl(
            libc::EPOLL_CTL_ADD,
            s.as_raw_fd(),
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            i as u64,
        )?;
        fill(&mut msgs[i], i, 0);
        sent_at[i] = Instant::now();
        if !send(s, &msgs[i]) {
            out.errors += 1;
        }
    }
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let tick = (timeout / 4).max(Duration::from_millis(1));
    let mut next_scan = Instant::now() + tick;
    loop {
        let n = ep.wait(&mut evs, tick.as_millis() as i32);
        let ph = phase.load(Ordering::Relaxed);
        if ph == STOP {
            break;
        }
        for ev in &evs[..n] {
            let i = ev.u64 as usize;
            let s = &socks[i];
            // Edge-triggered: read until the socket is empty.
            loop {
                // SAFETY: buf is valid for buf.len() bytes.
                let r = unsafe { libc::recv(s.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
                if r < 0 {
                    match errno() {
                        libc::EAGAIN => break,
                        libc::EINTR => continue,
                        // An ICMP error from an earlier datagram: count it, go on.
                        _ => {
                            out.errors += 1;
                            break;
                        }
                    }
                }
                let got = &buf[..r as usize];
                if got != msgs[i].as_slice() {
                    let older = got.len() == size
                        && u64::from_le_bytes(got[..8].try_into().unwrap()) < seq[i];
                    if older {
                        out.late += 1;
                    } else {
                        out.errors += 1;
                    }
                    continue;
                }
                let now = Instant::now();
                if ph == MEASURE {
                    out.round_trips += 1;
                    let ns = now.duration_since(sent_at[i]).as_nanos();
                    out.lat_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
                }
                seq[i] += 1;
                fill(&mut msgs[i], i, seq[i]);
                sent_at[i] = now;
                if !send(s, &msgs[i]) {
                    out.errors += 1;
                }
            }
        }
        let now = Instant::now();
        if now >= next_scan {
            next_scan = now + tick;
            for (i, s) in socks.iter().enumerate() {
                if now.duration_since(sent_at[i]) >= timeout {
                    // Lost: count it, and send the next one instead.
                    if ph == MEASURE {
                        out.losses += 1;
                    }
                    seq[i] += 1;
                    fill(&mut msgs[i], i, seq[i]);
                    sent_at[i] = now;
                    if !send(s, &msgs[i]) {
                        out.errors += 1;
                    }
                }
            }
        }
    }
    Ok(out)
}
