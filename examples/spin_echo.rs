//! A line echo server with a bug: the line `SPIN` sends its handler into a loop that never
//! parks (as a parser looping forever on `*9000000000000000000\r\n` did in a real port).
//! Go preempts such a goroutine; gonet cannot, but its sysmon notices the coroutine after
//! 10 ms, logs it, and serves the other connections on the other workers (and on rescue
//! threads once every worker is stuck). bench/scenarios/spin.sh measures it beside the
//! Go twin, examples/go/spin_echo.go.
//!
//!     cargo run --release --example spin_echo [addr]   # addr defaults to ":8080"

use std::io::{BufRead, BufReader, Write};

use gonet as net;

/// The bug: a loop with no I/O, no channel, no lock, no sleep.
#[inline(never)]
fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn handle(conn: net::Conn) {
    // scanner := bufio.NewScanner(conn)
    let mut lines = BufReader::new(&conn);
    let mut line = String::new();
    // for scanner.Scan() {
    while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
        if line.trim_end() == "SPIN" {
            spin();
        }
        // conn.Write(append(scanner.Bytes(), '\n'))
        if (&conn).write_all(line.as_bytes()).is_err() {
            return;
        }
        line.clear();
    }
}

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ":8080".to_string());
    let ln = net::listen("tcp", &addr)?;
    eprintln!("spin: listening on {}", ln.addr());
    loop {
        let conn = ln.accept()?;
        net::go!(move || handle(conn));
    }
}
