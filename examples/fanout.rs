//! Fan-out dials with `errgroup::with_context`, line for line with its Go twin
//! (examples/go/fanout.go, which uses golang.org/x/sync/errgroup).
//!
//! ```text
//! cargo run --release --example fanout -- [-timeout 5s] ADDR...
//! ```
//!
//! Every ADDR is a backend that sends one status line when a client connects: `OK ...` or
//! `ERR ...`. fanout dials them all at once and reads each one's line; the first backend
//! that fails (a refused dial, an `ERR` line, an EOF) cancels the group's context, and
//! that ends the other dials and reads at once: a dial still connecting returns
//! `dial tcp ADDR: operation was canceled`, a read still waiting is woken by
//! `context::after_func` setting a read deadline in the past (Go's
//! `context.AfterFunc(ctx, func() { conn.SetReadDeadline(aLongTimeAgo) })`). It prints
//! one line per ADDR, in order (its status line, or what stopped it), then
//! `all N backends OK` (exit 0) or `fanout: ` and the first error (exit 1).

use std::io::{self, BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet::sync::errgroup;
use gonet::{context, net, time};

/// A deadline in the past: a read waiting on a connection with it wakes up at once.
// var aLongTimeAgo = time.Unix(1, 0)
fn a_long_time_ago() -> Option<Instant> {
    Some(Instant::now())
}

/// Dials `addr` and reads its status line; `ctx` ends both. On an `ERR` line, the line
/// comes back with the error.
// func status(ctx context.Context, addr string) (string, error) {
fn status(ctx: &context::Context, addr: &str) -> (String, io::Result<()>) {
    // var d net.Dialer; conn, err := d.DialContext(ctx, "tcp", addr)
    let d = net::Dialer::default();
    let conn = match d.dial_context(ctx, "tcp", addr) {
        Ok(c) => c,
        Err(e) => return (String::new(), Err(e)),
    };
    // defer conn.Close()
    let closer = conn.clone();
    let _close = Defer(move || {
        let _ = closer.close();
    });
    // stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(aLongTimeAgo) })
    // defer stop()
    let c = conn.clone();
    let stop = context::after_func(ctx, move || {
        let _ = c.set_read_deadline(a_long_time_ago());
    });
    let _stop = Defer(move || {
        stop();
    });
    // line, err := bufio.NewReader(conn).ReadString('\n')
    let mut line = String::new();
    let read = BufReader::new(&conn).read_line(&mut line);
    let err = match read {
        // ReadString's io.EOF: the backend closed before a whole line.
        Ok(_) if !line.ends_with('\n') => Some(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF")),
        Ok(_) => None,
        Err(e) => Some(e),
    };
    if let Some(e) = err {
        // if ctx.Err() != nil { return "", ctx.Err() }: the read was woken by the cancel
        return (String::new(), Err(ctx.err().unwrap_or(e)));
    }
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if !line.starts_with("OK") {
        let err = io::Error::other(format!("{addr}: {line}"));
        return (line, Err(err));
    }
    (line, Ok(()))
}

/// Runs its closure when dropped (Go's `defer`).
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

fn main() {
    // timeout := flag.Duration("timeout", 5*time.Second, "..."); flag.Parse()
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut timeout = Duration::from_secs(5);
    if matches!(
        args.first().map(String::as_str),
        Some("-timeout" | "--timeout")
    ) {
        let Some(v) = args.get(1) else {
            eprintln!("flag needs an argument: -timeout");
            std::process::exit(2);
        };
        timeout = time::parse_duration(v).unwrap_or_else(|e| {
            eprintln!("invalid value {v:?} for flag -timeout: {e}");
            std::process::exit(2);
        });
        args.drain(..2);
    }
    let addrs = args;

    // ctx, cancel := context.WithTimeout(context.Background(), *timeout); defer cancel()
    let (ctx, cancel) = context::with_timeout(&context::background(), timeout);
    // g, ctx := errgroup.WithContext(ctx)
    let (g, ctx) = errgroup::with_context::<io::Error>(&ctx);
    let results = Arc::new(Mutex::new(vec![String::new(); addrs.len()]));
    for (i, addr) in addrs.iter().enumerate() {
        let (ctx, addr, results) = (ctx.clone(), addr.clone(), results.clone());
        // g.Go(func() error { ... })
        g.go(move || {
            let (mut line, res) = status(&ctx, &addr);
            if let Err(e) = &res {
                if line.is_empty() {
                    line = e.to_string();
                }
            }
            results.lock().unwrap_or_else(|e| e.into_inner())[i] = line;
            res
        });
    }
    // err := g.Wait()
    let res = g.wait();
    let results = results.lock().unwrap_or_else(|e| e.into_inner());
    for (addr, line) in addrs.iter().zip(results.iter()) {
        println!("{addr} {line}");
    }
    cancel();
    if let Err(e) = res {
        println!("fanout: {e}");
        std::process::exit(1);
    }
    println!("all {} backends OK", addrs.len());
}
