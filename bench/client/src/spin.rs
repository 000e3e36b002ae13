//! `client spin ADDR --spinners N --conns 1000 [--timeout-ms 2000]`: fresh connections to
//! a line echo server (examples/spin_echo.rs, examples/go/spin_echo.go) while N of its
//! handlers spin forever.
//!
//! First N connections each send `SPIN` (the server's handler then loops without ever
//! parking) and are kept open; then `--conns` fresh connections, one after another: dial,
//! send one line, read it back, close. A connection not answered within --timeout-ms
//! counts as unanswered. Prints `spinners answered unanswered p50_ms p99_ms max_ms`, the
//! latencies from the start of the dial to the echoed line.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::{pct, Opts};

pub fn run(o: &Opts) -> io::Result<()> {
    let spinners: usize = o.get("spinners", 1);
    let conns: usize = o.get("conns", 1000);
    let timeout = Duration::from_millis(o.get("timeout-ms", 2000));
    let mut held = Vec::new();
    for _ in 0..spinners {
        let mut s = TcpStream::connect(o.addr)?;
        s.write_all(b"SPIN\n")?;
        held.push(s);
    }
    let mut lat_ns: Vec<u32> = Vec::with_capacity(conns);
    let mut unanswered = 0;
    // Bounded: at most conns x (timeout + dial) in all.
    for i in 0..conns {
        let start = Instant::now();
        let answered = (|| -> io::Result<bool> {
            let s = TcpStream::connect_timeout(&o.addr, timeout)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(timeout))?;
            let line = format!("ping {i}\n");
            (&s).write_all(line.as_bytes())?;
            let mut back = String::new();
            BufReader::new(&s).read_line(&mut back)?;
            Ok(back == line)
        })()
        .unwrap_or(false);
        if answered {
            lat_ns.push(u32::try_from(start.elapsed().as_nanos()).unwrap_or(u32::MAX));
        } else {
            unanswered += 1;
        }
    }
    lat_ns.sort_unstable();
    let ms = |p: f64| pct(&lat_ns, p) / 1e6;
    println!(
        "spinners={spinners} answered={} unanswered={unanswered} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} conns={conns}",
        lat_ns.len(),
        ms(0.50),
        ms(0.99),
        lat_ns.last().copied().unwrap_or(0) as f64 / 1e6,
    );
    drop(held);
    Ok(())
}
