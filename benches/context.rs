//! ns per `context::with_cancel` + `cancel()`, and per `context::with_timeout` cancelled
//! before it fires, on a long-lived cancellable parent (a request's context, whose done
//! channel somebody waits on). bench/go/context/main.go is the same program in Go;
//! bench/scenarios/context.sh runs both side by side.
//!
//! ```text
//! cargo bench --bench context -- [--cycles N] [--batches B] [--only cancel|timeout]
//! ```
//!
//! Prints one line for bench/run.sh: `cancel_ns=.. cancel_cpu_ns=.. timeout_ns=..
//! timeout_cpu_ns=..`: per cycle, the median over B batches of N cycles (after one
//! warm-up batch) of the wall time and of the process's CPU time (every thread's, as
//! `getrusage` counts it: for Go that includes its garbage collector's workers). On a
//! busy machine the CPU time is the steadier of the two.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gonet::context;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str, default: u32| -> u32 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().unwrap_or(default))
    };
    let cycles = opt("--cycles", 200_000).max(1);
    let batches = opt("--batches", 9).max(1);
    // --only cancel|timeout runs one of the two (for a profiler).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map_or("", String::as_str);

    // ctx, cancel := context.WithCancel(context.Background()); <-ctx.Done() is waited on.
    let (parent, cancel_parent) = context::with_cancel(&context::background());
    let _done = parent.done();

    let cancel_ns = (only != "timeout").then(|| {
        measure(cycles, batches, || {
            let (ctx, cancel) = context::with_cancel(&parent);
            cancel();
            black_box(&ctx);
        })
    });
    let timeout_ns = (only != "cancel").then(|| {
        measure(cycles, batches, || {
            let (ctx, cancel) = context::with_timeout(&parent, Duration::from_secs(3600));
            cancel();
            black_box(&ctx);
        })
    });
    assert_eq!(parent.__children(), 0, "every child left its parent");
    cancel_parent();
    let mut line = Vec::new();
    for (name, m) in [("cancel", cancel_ns), ("timeout", timeout_ns)] {
        if let Some((wall, cpu)) = m {
            line.push(format!("{name}_ns={wall:.1} {name}_cpu_ns={cpu:.1}"));
        }
    }
    println!("{}", line.join(" "));
}

/// The medians over `batches` batches (after a warm-up one) of the wall time and of the
/// process CPU time, in ns, per call of `f`.
fn measure(cycles: u32, batches: u32, mut f: impl FnMut()) -> (f64, f64) {
    let mut wall = Vec::with_capacity(batches as usize);
    let mut cpu = Vec::with_capacity(batches as usize);
    for b in 0..=batches {
        let (start, cpu_start) = (Instant::now(), cpu_time());
        for _ in 0..cycles {
            f();
        }
        let n = f64::from(cycles);
        if b > 0 {
            wall.push(start.elapsed().as_nanos() as f64 / n);
            cpu.push((cpu_time() - cpu_start).as_nanos() as f64 / n);
        }
    }
    (median(wall), median(cpu))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// User + system CPU time of the whole process (Go: `syscall.Getrusage`).
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes the struct it is given.
    let ru = unsafe {
        let mut ru = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}
