//! A bounded soak: 5,000 client coroutines against one `gonet::Server` for 60 s, mixing
//! everything the other server tests do one at a time: long echo sessions (checked byte
//! for byte), resets mid-request, half-closes, one-byte trickles, clients that never read
//! (freed by the idle timeout), handlers that panic, clients that connect and vanish; then
//! a graceful shutdown with sessions in flight. Reports what it did and asserts zero lost
//! bytes, no handler or descriptor left behind, and serve ending within grace + 1 s.
//!
//! `#[ignore]`d in the default run (it takes a minute and both cores). Run it with:
//!
//! ```text
//! cargo test --release --test soak -- --ignored --nocapture
//! SOAK_SECS=10 SOAK_CONNS=1000 cargo test --release --test soak -- --ignored --nocapture
//! ```

mod util;
use util::server as server_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use server_util::{eventually, fd_count};

const PANIC_TEXT: &str = "soak: handler panics on purpose";

/// The server's handler: echo; a connection whose first byte is 'P' panics.
fn handler(conn: gonet::Conn) {
    let mut buf = [0u8; 16 * 1024];
    let mut first = true;
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if first && buf[0] == b'P' {
            panic!("{PANIC_TEXT}");
        }
        first = false;
        if conn.write(&buf[..n]).is_err() {
            return;
        }
    }
}

#[derive(Default)]
struct Tally {
    sessions: [AtomicU64; 7],
    sent: AtomicU64,
    echoed: AtomicU64,
    lost: AtomicU64,
    failures: AtomicU64,
    dial_errors: AtomicU64,
}

const KINDS: [&str; 7] = [
    "echo session",
    "reset mid-request",
    "half-close",
    "1 byte / 0.5 s",
    "never reads",
    "handler panic",
    "connect and vanish",
];

/// A small deterministic generator, per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn dial(addr: &str, t: &Tally) -> Option<gonet::Conn> {
    match gonet::dial("tcp", addr) {
        Ok(c) => {
            let _ = c.set_deadline(Some(Instant::now() + Duration::from_secs(30)));
            Some(c)
        }
        Err(_) => {
            t.dial_errors.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Round trips of random sizes with pauses; every byte checked. Returns false on a
/// failure (counted as lost bytes).
fn echo_session(addr: &str, rng: &mut Rng, t: &Tally) -> bool {
    let Some(conn) = dial(addr, t) else {
        return true;
    };
    let rounds = 5 + rng.below(20);
    let mut back = vec![0u8; 8192];
    for r in 0..rounds {
        let len = 1 + rng.below(8192) as usize;
        let seed = rng.next();
        let msg: Vec<u8> = (0..len)
            .map(|i| (seed as usize + i * 31) as u8 | 1)
            .collect();
        t.sent.fetch_add(len as u64, Ordering::Relaxed);
        if conn.write(&msg).is_err() || conn.read_full(&mut back[..len]).is_err() {
            t.lost.fetch_add(len as u64, Ordering::Relaxed);
            return false;
        }
        if back[..len] != msg[..] {
            t.lost.fetch_add(len as u64, Ordering::Relaxed);
            return false;
        }
        t.echoed.fetch_add(len as u64, Ordering::Relaxed);
        if r + 1 < rounds {
            gonet::time::sleep(Duration::from_millis(50 + rng.below(250)));
        }
    }
    let _ = conn.close_write();
    matches!(conn.read(&mut back), Ok(0))
}

fn one_session(kind: usize, addr: &str, rng: &mut Rng, t: &Tally) -> bool {
    match kind {
        0 => echo_session(addr, rng, t),
        1 => {
            let Some(c) = dial(addr, t) else { return true };
            let _ = c.write(&[b'r'; 300]);
            let _ = c.set_linger(Some(Duration::ZERO));
            let _ = c.close();
            true
        }
        2 => {
            let Some(c) = dial(addr, t) else { return true };
            let data: Vec<u8> = (0..20_000).map(|i| (i % 253) as u8 | 1).collect();
            let w = c.clone();
            let to_send = data.clone();
            let writer = gonet::go!(move || {
                let ok = w.write(&to_send).is_ok();
                ok && w.close_write().is_ok()
            });
            let mut got = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match c.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(_) => break,
                }
            }
            let wrote = writer.join().unwrap_or(false);
            t.sent.fetch_add(data.len() as u64, Ordering::Relaxed);
            t.echoed.fetch_add(got.len() as u64, Ordering::Relaxed);
            if !wrote || got != data {
                t.lost.fetch_add(
                    data.len().saturating_sub(got.len()) as u64,
                    Ordering::Relaxed,
                );
                return false;
            }
            true
        }
        3 => {
            let Some(c) = dial(addr, t) else { return true };
            let mut b = [0u8; 1];
            for byte in [b'a', b'b', b'c', b'd'] {
                t.sent.fetch_add(1, Ordering::Relaxed);
                if c.write(&[byte]).is_err() || c.read_full(&mut b).is_err() || b[0] != byte {
                    t.lost.fetch_add(1, Ordering::Relaxed);
                    return false;
                }
                t.echoed.fetch_add(1, Ordering::Relaxed);
                gonet::time::sleep(Duration::from_millis(500));
            }
            true
        }
        4 => {
            let Some(c) = dial(addr, t) else { return true };
            let chunk = vec![b'n'; 64 * 1024];
            let _ = c.set_write_deadline(Some(Instant::now() + Duration::from_millis(500)));
            for _ in 0..200 {
                if c.write(&chunk).is_err() {
                    break;
                }
            }
            // Longer than the idle timeout: the server gives up on it first.
            gonet::time::sleep(Duration::from_secs(4));
            true
        }
        5 => {
            let Some(c) = dial(addr, t) else { return true };
            let _ = c.write(b"P");
            let mut b = [0u8; 1];
            // The handler panicked: the server closes the connection.
            !matches!(c.read(&mut b), Ok(1))
        }
        _ => {
            drop(dial(addr, t));
            true
        }
    }
}

#[test]
#[ignore = "a 60 s soak; run with --ignored (see the file's docs)"]
fn soak_5000_connections_mixed_faults_zero_lost_bytes() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let clients: usize = std::env::var("SOAK_CONNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    // The planned panics are counted, not printed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let planned = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|s| s == PANIC_TEXT);
        if !planned {
            default_hook(info);
        }
    }));
    // Warm up (the scheduler, its poller and timer threads) before counting descriptors.
    {
        let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
        let c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
        drop((ln.accept().unwrap(), c));
        gonet::go!(|| gonet::time::sleep(Duration::from_millis(1)))
            .join()
            .unwrap();
    }
    let fds_before = fd_count();

    let server = gonet::Server::new().idle_timeout(Duration::from_secs(3));
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let s = server.clone();
    let serving = std::thread::spawn(move || s.serve(ln, handler));

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (server, stop, peak) = (server.clone(), stop.clone(), peak.clone());
        std::thread::spawn(move || {
            for _ in 0..(secs * 20 + 1200) {
                if stop.load(Ordering::Relaxed) && server.active() == 0 {
                    return;
                }
                peak.fetch_max(server.active(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let (addr, tally, stop) = (addr.clone(), tally.clone(), stop.clone());
            gonet::go!(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((i as u64 + 1) * 0x1000_0001));
                // Spread the first connects over a second: the listen backlog is finite.
                gonet::time::sleep(Duration::from_millis(rng.below(1000)));
                for _ in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let kind = match rng.below(20) {
                        0..=13 => 0,
                        14 => 1,
                        15 => 2,
                        16 => 3,
                        17 => 4,
                        18 => 5,
                        _ => 6,
                    };
                    tally.sessions[kind].fetch_add(1, Ordering::Relaxed);
                    if !one_session(kind, &addr, &mut rng, &tally) {
                        tally.failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_secs(secs)); // the soak itself
    // Stop: no new sessions, shut down with the ones in flight.
    stop.store(true, Ordering::SeqCst);
    let grace = Duration::from_secs(10);
    let t_stop = Instant::now();
    let cut = server.shutdown(grace);
    serving.join().unwrap().expect("serve ends with Ok");
    let serve_took = t_stop.elapsed();
    for w in workers {
        let _ = w.join();
    }
    let _ = sampler.join();
    let left = eventually(Duration::from_secs(10), || fd_count() <= fds_before);
    let stats = server.stats();
    let t = &tally;
    let sessions: Vec<String> = KINDS
        .iter()
        .zip(&t.sessions)
        .map(|(k, n)| format!("{k}: {}", n.load(Ordering::Relaxed)))
        .collect();
    let (sent, echoed, lost) = (
        t.sent.load(Ordering::Relaxed),
        t.echoed.load(Ordering::Relaxed),
        t.lost.load(Ordering::Relaxed),
    );
    eprintln!(
        "soak: {clients} clients, {:?}; peak {} live conns; sessions {{ {} }}; \
         {sent} bytes sent, {echoed} echoed, {lost} lost; {} failed sessions, {} dial errors; \
         shutdown cut {cut}, serve ended {serve_took:?} after stop; fds {} -> {}; {stats:?}",
        start.elapsed(),
        peak.load(Ordering::Relaxed),
        sessions.join(", "),
        t.failures.load(Ordering::Relaxed),
        t.dial_errors.load(Ordering::Relaxed),
        fds_before,
        fd_count()
    );
    assert_eq!(lost, 0, "bytes lost");
    assert_eq!(sent, echoed, "every byte sent was echoed");
    assert_eq!(t.failures.load(Ordering::Relaxed), 0, "failed sessions");
    assert_eq!(
        stats.panics,
        t.sessions[5].load(Ordering::Relaxed),
        "one panic per panic session"
    );
    assert_eq!(stats.active, 0);
    assert!(
        serve_took < grace + Duration::from_secs(1),
        "serve took {serve_took:?}"
    );
    assert!(
        left,
        "descriptors: {} before, {} after",
        fds_before,
        fd_count()
    );
    assert!(
        peak.load(Ordering::Relaxed) >= clients * 6 / 10,
        "only {} conns live at the peak",
        peak.load(Ordering::Relaxed)
    );
}
