//! A million goroutines: N coroutines started one after another, each parked on one
//! channel until `main` closes it, line for line with its Go twin
//! (examples/go/goroutines.go). Prints what both print on stdout:
//!
//! ```text
//! cargo run --release --example goroutines              # 1,000,000
//! cargo run --release --example goroutines -- 100000    # or any count
//! 1000000 goroutines parked
//! 1000000 goroutines finished
//! ```
//!
//! and, on stderr, what it measured (bench/scenarios/goroutines.sh reads it):
//! `oneoff_go_ns` (the `go` statement alone, each goroutine done before the next starts),
//! `oneoff_rt_ns` (the same, until the goroutine has run), `burst_ns` (N goroutines
//! started back to back, until all are parked, per goroutine), `rss_per_goroutine`
//! (bytes), `pte_per_goroutine` (page-table bytes), `maps` (kernel memory mappings) and
//! `release_ms` (closing the channel until all have finished).

use std::time::{Duration, Instant};

use gonet::sync::WaitGroup;

/// A field of /proc/self/status, in bytes.
fn status_bytes(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    // Go runs main as a goroutine (runtime.main): so does gonet::runtime::main.
    gonet::runtime::main(|| {
        // n := 1000000; if len(os.Args) > 1 { n, _ = strconv.Atoi(os.Args[1]) }
        let n: usize = std::env::args()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);

        // One-off: each goroutine runs and is done before the next one starts.
        const ONE_OFF: u32 = 10_000;
        let (done_tx, done_rx) = gonet::chan::<()>(0);
        let mut in_go = Duration::ZERO;
        let t0 = Instant::now();
        for _ in 0..ONE_OFF {
            let done = done_tx.clone();
            let t = Instant::now();
            gonet::go!(move || done.send(()).unwrap());
            in_go += t.elapsed();
            done_rx.recv();
        }
        let one_off = t0.elapsed();

        // A burst: n goroutines parked at once on one channel.
        let (rss0, pte0) = (status_bytes("VmRSS:"), status_bytes("VmPTE:"));
        let (release_tx, release_rx) = gonet::chan::<()>(0);
        let (started, finished) = (WaitGroup::new(), WaitGroup::new());
        started.add(n as i64);
        finished.add(n as i64);
        let t1 = Instant::now();
        for _ in 0..n {
            let (started, finished, release) =
                (started.clone(), finished.clone(), release_rx.clone());
            gonet::go!(move || {
                started.done();
                release.recv(); // parked until the channel is closed
                finished.done();
            });
        }
        started.wait();
        let burst = t1.elapsed();
        let (rss1, pte1) = (status_bytes("VmRSS:"), status_bytes("VmPTE:"));
        let maps = gonet::runtime::map_count().unwrap_or(0);
        println!("{n} goroutines parked");

        let t2 = Instant::now();
        release_tx.close().unwrap();
        finished.wait();
        let release = t2.elapsed();
        println!("{n} goroutines finished");

        let per = |d: Duration, k: u64| d.as_nanos() as u64 / k.max(1);
        eprintln!(
            "goroutines: n={n} oneoff_go_ns={} oneoff_rt_ns={} burst_ns={} rss_per_goroutine={} \
             pte_per_goroutine={} maps={maps} release_ms={} stack_guard={:?}",
            per(in_go, ONE_OFF.into()),
            per(one_off, ONE_OFF.into()),
            per(burst, n as u64),
            rss1.saturating_sub(rss0) / (n as u64).max(1),
            pte1.saturating_sub(pte0) / (n as u64).max(1),
            release.as_millis(),
            gonet::runtime::stack_guard(),
        );
    })
}
