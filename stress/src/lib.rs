//! The stress engine: one coroutine per connection, per-mode workers, stats merged at
//! the end. `main.rs` is only the command line, the progress line and the printing; the
//! integration tests (`tests/stress.rs`) drive the same code in-process.
//!
//! # How a run goes
//! [`preflight`] raises RLIMIT_NOFILE to the hard limit (as Go 1.19+ does for every
//! program) and refuses, with a clear message, a run the descriptor limit or the local
//! port range cannot hold. [`run`] then starts one coroutine (`gonet::go!`) per
//! connection, each dialing through [`gonet::Dialer`] and running its mode's loop until
//! the end of `--duration`. Every dial and every request carries a deadline (at most
//! `--timeout`, and never past the hard cap `duration + timeout`), so a run always stops
//! by itself, whatever the server does. [`Live::interrupt`] (Ctrl-C, in `main.rs`)
//! brings the end forward: no request starts after it, and idle connections stop
//! holding at once.
//!
//! # Statistics without a global lock
//! - Live counters (connections up, requests, errors) are striped atomics, one cache line
//!   per stripe; a worker only touches its own stripe. The progress line sums them.
//! - Latencies go into a small per-worker batch (no lock); a full batch is merged into
//!   one of [`SHARDS`] HDR histograms, picked by worker number, so a lock is taken once
//!   per [`BATCH`] requests and rarely contended. The shards are merged at the end.
//! - Errors are counted per worker, keyed by their Go-style text, and sent back with the
//!   worker's result over a coroutine-aware channel (`may::sync::mpsc`).
//!
//! # What the numbers mean
//! - `requests`: completed, verified round trips (echo), responses (http), proof round
//!   trips (idle, burst). Failed ones are `errors`, never requests.
//! - `rps`: requests divided by the wall time of the whole run (dialing included), as wrk
//!   and the Go cross-check client compute it.
//! - latency, echo and http: send to last byte of the answer. With `--rate` (open loop)
//!   it is measured from the time the request was *scheduled*, so a server that stalls
//!   is charged for the requests it delayed (no coordinated omission).
//! - latency, idle and burst: the dial (connect) time; for burst it is counted from the
//!   instant all coroutines were released at once.
//! - `ok_conns`: echo and http: connections healthy when the run ended; idle: held for
//!   the whole duration; burst: connected (and proved, with `--size` > 0).

mod config;
mod http;
mod limits;
mod procs;
mod report;
mod run;
mod stats;
pub mod tls;
mod udp;
mod workers;

pub use crate::config::*;
pub use crate::http::{HttpReader, Response};
pub use crate::limits::*;
pub use crate::procs::{CHILD_ENV, parse_child, run_procs, share};
pub use crate::report::*;
pub use crate::run::run;
pub use crate::stats::*;
pub use crate::udp::{MAX_DATAGRAM, MIN_DATAGRAM, udp_network};
