//! Go's `net/http` package, server side: handlers, requests, response writers, headers,
//! status codes.
//!
//! `use gonet::net::http;` mirrors Go's `import "net/http"`, and a handler ports line for
//! line:
//!
//! ```
//! use gonet::net::http::{self, Request, ResponseWriter};
//!
//! // func hello(w http.ResponseWriter, r *http.Request) {
//! //     w.Header().Set("Content-Type", "text/plain; charset=utf-8")
//! //     io.WriteString(w, "Hello, World!")
//! // }
//! fn hello(w: &mut dyn ResponseWriter, _r: &mut Request) {
//!     w.header().set("Content-Type", "text/plain; charset=utf-8");
//!     let _ = w.write(b"Hello, World!");
//! }
//!
//! let mut rec = http::httptest::ResponseRecorder::new();
//! hello(&mut rec, &mut http::httptest::new_request("GET", "/", ""));
//! assert_eq!(rec.body_string(), "Hello, World!");
//! ```
//!
//! The files follow Go's: `handler.rs` and `response.rs` (server.go's `Handler`,
//! `ResponseWriter` and `response`), `request.rs`, `header.rs`, `status.rs`,
//! `sniff.rs`, `httptest.rs` (net/http/httptest).

mod body;
mod conn;
mod errors;
mod handler;
mod header;
pub mod httptest;
mod idle;
pub(crate) mod path;
mod request;
mod response;
mod server;
mod sniff;
mod status;
mod timeout;
mod trailer;
mod transfer;
// HTTPS: ServeTLS, ListenAndServeTLS (over gonet::crypto::tls).
mod tls;

// --- ServeMux (Go 1.22 patterns), cookies, file serving (servemux.rs, pattern.rs,
// routing_tree.rs, routing_index.rs, cookie.rs, fs.rs)
mod cookie;
mod fs;
mod mux_core;
mod pattern;
mod routing_index;
mod routing_tree;
mod servemux;
mod time_format;

pub use self::body::{Body, max_bytes_reader};
#[doc(hidden)]
pub use self::conn::__parse_request_head;
pub use self::errors::Error;
pub use self::handler::{
    Handler, HandlerFunc, ResponseWriter, error, not_found, not_found_handler, redirect,
    redirect_handler,
};
pub use self::header::{Header, canonical_header_key};
pub use self::request::Request;
pub use self::server::{DEFAULT_MAX_HEADER_BYTES, IntoHandler, Server, listen_and_serve, serve};
pub use self::sniff::detect_content_type;
pub use self::status::*;
pub use self::timeout::{TimeoutHandler, timeout_handler};
pub use self::tls::{listen_and_serve_tls, serve_tls};
pub use self::trailer::Trailer;

pub use self::cookie::{
    Cookie, CookieError, ERR_NO_COOKIE, SameSite, parse_cookie, parse_set_cookie, read_set_cookies,
    set_cookie,
};
pub use self::fs::{
    Dir, DirEntry, File, FileInfo, FileServer, FileSystem, ReadSeek, file_server, serve_content,
    serve_file,
};
pub use self::mux_core::PatternError;
pub use self::servemux::{
    ServeMux, StripPrefix, default_serve_mux, handle, handle_func, strip_prefix,
};
