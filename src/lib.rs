//! # gonet: Go's `net` package, goroutine-style
//!
//! A Go server is three lines, and with gonet its Rust port reads the same, line for line:
//!
//! ```no_run
//! use gonet as net;
//! use std::io::{Read, Write};
//!
//! fn handle(mut conn: net::Conn) {
//!     let mut buf = [0u8; 4096];
//!     while let Ok(n) = conn.read(&mut buf) {
//!         if n == 0 || conn.write_all(&buf[..n]).is_err() {
//!             break;
//!         }
//!     }
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let ln = net::listen("tcp", ":8080")?; // ln, err := net.Listen("tcp", ":8080")
//!     loop {
//!         let conn = ln.accept()?; // conn, err := ln.Accept()
//!         gonet::go!(move || handle(conn)); // go handle(conn)
//!     }
//! }
//! ```
//!
//! Underneath runs the [`may`] stackful-coroutine runtime. Its epoll netpoller parks a
//! coroutine on a read, accept or write that would block, exactly as Go's netpoller parks
//! a goroutine, so handlers are plain blocking code and one coroutine per connection is
//! cheap.
//!
//! The code follows Go's own layering (`src/net`), one concept per file:
//! [`listen`] -> [`ListenConfig::listen`] -> `listen_tcp` / `listen_unix` ->
//! `internet_socket` -> `socket` (`sys_socket`, `listen_stream`: bind, then listen with
//! Go's `listenerBacklog()`).
//!
//! Errors are Go's: every error's `to_string()` is the text Go prints for the same input
//! (`listen tcp: address 99999: invalid port`), and the error inside the [`std::io::Error`]
//! downcasts to Go-shaped types ([`OpError`], [`AddrError`], [`UnknownNetworkError`]).
#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

// --- Go's net package: the core (dial.go, ipsock*.go, sock*.go, tcpsock*.go, unixsock*.go)
mod cgo_unix;
mod deadline;
mod dial;
mod error;
mod fd;
mod fd_mutex;
mod ipsock;
mod lookup;
mod net;
mod rlimit;
mod sock;
mod sockopt;
mod tcpsock;
mod timer;
mod unixsock;

pub use crate::dial::{dial, dial_timeout, listen, ControlFn, Dialer, ListenConfig};
pub use crate::error::{
    is_closed, is_temporary, is_timeout, AddrError, DeadlineExceeded, DnsError, ErrClosed, OpError,
    SyscallError, UnknownNetworkError,
};
pub use crate::ipsock::{join_host_port, split_host_port};
#[doc(hidden)]
pub use crate::lookup::{__resolver_threads, __set_resolver_hook};
pub use crate::lookup::{lookup_host, lookup_ip, lookup_port};
pub use crate::net::{Addr, Conn, Incoming, Listener, TcpAddr, UnixAddr};
pub use crate::sock::listener_backlog;
pub use crate::sockopt::DEFAULT_KEEP_ALIVE;
pub use crate::tcpsock::{TcpConn, TcpListener};
pub use crate::unixsock::{UnixConn, UnixListener};

// --- Go's concurrency vocabulary (runtime/chan.go, select, sync, time, runtime,
// os/signal)
mod chan;
mod select;
pub use crate::chan::*;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod time;

// --- A server that stays up: net/http's Serve loop for any protocol (server.go)
mod server;
pub use crate::server::{Server, ServerStats};

/// Re-exported so that `gonet::go!` works without a direct `may` dependency.
#[doc(hidden)]
pub use may as __may;

/// Starts a coroutine: Go's `go` statement.
///
/// `go!(move || handle(conn))` is `go handle(conn)`. The closure runs on may's worker
/// threads; when it blocks on gonet I/O, a [`sync`] primitive or [`time::sleep`], only the
/// coroutine parks and the worker thread runs others. Returns may's `JoinHandle`, which
/// Go has no equivalent for: drop it to detach, as Go does.
///
/// Coroutines move between worker threads when they park, so a `thread_local!` read
/// before a park may belong to another thread after it: use `may::coroutine_local!`.
/// Blocking the thread itself (std or crossbeam locks and channels, `std::thread::sleep`,
/// blocking file or DNS calls) stalls every coroutine queued on that worker.
///
/// ```
/// let h = gonet::go!(|| 6 * 7);
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[macro_export]
macro_rules! go {
    ($($body:tt)+) => {
        $crate::__spawn($($body)+)
    };
}

/// The function behind [`go!`]; not part of the public API.
#[doc(hidden)]
pub fn __spawn<F, T>(f: F) -> may::coroutine::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    runtime::init();
    // SAFETY: may marks spawn unsafe because a coroutine that caches thread-local data
    // across a park, or overflows its (fixed-size) stack, is unsound. The first is
    // documented on `go!`; the second hits the guard page that generator >= 0.8.12 maps
    // below every stack and aborts with "coroutine has overflowed its stack".
    unsafe { may::coroutine::spawn(f) }
}

/// docs/PORTING.md, the Go -> gonet porting guide: compiled here so that every Rust
/// example in it runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../docs/PORTING.md")]
pub struct PortingGuide;
