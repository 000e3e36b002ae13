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

// --- Go's net package (src/net): listen, dial, Conn, Listener, addresses, errors. Its
// names are also at the top level, where they were before the tree followed Go's.
pub mod net;

#[doc(hidden)]
pub use crate::net::cgo_unix::{__gai_error, __go_resolver};
#[doc(hidden)]
pub use crate::net::lookup::{__resolver_threads, __set_resolver_hook};
// Every name of gonet::net at the top level too (its modules included: `gonet::http` is
// `gonet::net::http`), so a port in the seed's style, `use gonet as net;`, reaches all
// of them as `net::listen_packet`, `net::pipe`, `net::http::handle_func`.
pub use crate::net::*;

// --- Go's context package (context.go): deadlines, cancellation, request values
pub mod context;

// --- Go's log package (log.go): Print, Printf, Println, Fatal, Panic, Logger
pub mod log;

// --- Go's concurrency vocabulary (runtime/chan.go, select, sync, time, runtime, os)
mod chan;
mod select;
pub use crate::chan::*;
pub mod os;
pub mod runtime;
// --- Go's mime package (type.go): the extension table net/http's file server uses
pub mod mime;
pub mod sync;
pub mod time;
/// Go's `os/signal`, at its path from before the tree followed Go's: the same module as
/// [`os::signal`].
pub use crate::os::signal;

// --- Go's crypto/tls and crypto/x509 (on rustls): TLS listeners, dialers and conns.
pub mod crypto;

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
/// Each coroutine runs on its own fixed stack ([`runtime::DEFAULT_STACK_SIZE`], 256 KiB;
/// a parked one holds one 4 KiB page of it); running off its end is Go's
/// `fatal error: stack overflow` (exit status 2). A spawn that cannot get a stack is Go's
/// `fatal error: out of memory`; [`runtime::try_go`] returns that as an error.
/// Blocking the thread itself (std or crossbeam locks and channels, `std::thread::sleep`,
/// a C call) holds that worker: wrap such calls in [`runtime::blocking`]. A coroutine
/// that runs 10 ms without parking is reported, and the rest of the program is served
/// on the other workers meanwhile (see [`runtime::num_spinning`]).
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
///
/// A coroutine that cannot get a stack ends the process, as Go's runtime does ("fatal
/// error: out of memory", exit status 2), with the limit that was hit and how to raise it:
/// see [`runtime::try_go`] for the variant that returns the error instead.
#[doc(hidden)]
#[track_caller]
pub fn __spawn<F, T>(f: F) -> may::coroutine::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    runtime::go(f)
}

/// docs/PORTING.md, the Go -> gonet porting guide: compiled here so that every Rust
/// example in it runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../docs/PORTING.md")]
pub struct PortingGuide;
