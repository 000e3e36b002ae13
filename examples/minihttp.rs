//! Hello world over HTTP with may_minihttp: the benchmark peer of examples/http.rs
//! (gonet::net::http), with the same routes, bodies and Content-Types as their Go twin
//! examples/go/http.go (net/http).
//!
//! ```text
//! cargo run --release --example minihttp              # listens on :8081
//! cargo run --release --example minihttp -- :9000     # or any address gonet::listen takes
//! curl -i localhost:8081/          # 200, text/plain; charset=utf-8: Hello, World!
//! curl -i localhost:8081/json      # 200, application/json: {"message":"Hello, World!"}
//! curl -i localhost:8081/nope      # 404, text/plain; charset=utf-8: 404 page not found
//! ```
//!
//! # How it listens, and where it differs from Go
//! may_minihttp 0.1.11 has one way to serve: `HttpServer(service).start(addr)`, which
//! binds its own may listener. Its per-connection loop, and the `Request`/`Response`
//! constructors it would need, are private, so it cannot serve connections accepted from
//! a gonet listener. This example therefore lets gonet do what Go's `net.Listen` does with
//! the address (`":8081"` means every address, IPv4 and IPv6, printed `[::]:8081`; port 0
//! picks a free port; a taken port or a bad address fails with Go's error text), closes
//! that listener, and starts may_minihttp on the very address gonet bound. What remains
//! different from `http.Serve(ln, mux)`:
//! - the socket is may's: SO_REUSEPORT is set (a second server on the same port starts
//!   and shares the traffic, where Go fails with "address already in use") and the
//!   backlog is 1024, not somaxconn; between gonet's close and may's bind another process
//!   could take the port (may's bind then fails, and so does this program);
//! - the status line of a 200 is `HTTP/1.1 200 Ok` (may_minihttp hard-codes it; Go says
//!   `200 OK`), and responses carry `Server: M`;
//! - may_minihttp keeps every connection open (it ignores `Connection: close`), drops a
//!   request with more than 16 headers, has no timeouts, and a malformed Content-Length
//!   ends the connection (its coroutine panics, may catches it);
//! - no graceful shutdown: Ctrl-C ends the process at once.

use std::io;

use gonet as net;
use may_minihttp::{HttpServer, HttpService, Request, Response};

/// The routes, as Go's `http.ServeMux` would dispatch them.
#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, req: Request<'_, '_, '_>, rsp: &mut Response<'_>) -> io::Result<()> {
        // r.URL.Path: the path without the query.
        let path = req.path().split('?').next().unwrap_or_default().to_string();
        // Read (and drop) any request body, as net/http does before the next request.
        drop(req.body());
        match path.as_str() {
            // mux.HandleFunc("/json", ...)
            "/json" => {
                // body, err := json.Marshal(message{"Hello, World!"})
                let body = serde_json::to_vec(&serde_json::json!({"message": "Hello, World!"}))?;
                // w.Header().Set("Content-Type", "application/json")
                rsp.header("Content-Type: application/json");
                // w.Write(body)
                rsp.body_vec(body);
            }
            // mux.HandleFunc("/", ...) with r.URL.Path == "/"
            "/" => {
                rsp.header("Content-Type: text/plain; charset=utf-8");
                // io.WriteString(w, "Hello, World!")
                rsp.body("Hello, World!");
            }
            // http.NotFound(w, r): every other path under "/"
            _ => {
                rsp.status_code(404, "Not Found");
                rsp.header("Content-Type: text/plain; charset=utf-8");
                rsp.header("X-Content-Type-Options: nosniff");
                rsp.body("404 page not found\n");
            }
        }
        Ok(())
    }
}

/// Go's `log.Fatal(err)`: the error's text on stderr, exit status 1.
fn fatal(e: io::Error) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

fn main() {
    // may_minihttp logs every client hang-up as an error ("service err = ... read closed");
    // Go's net/http says nothing. RUST_LOG=may_minihttp=error shows them.
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,may=warn,may_minihttp=off"),
    )
    .init();
    // addr := ":8081"; if len(os.Args) > 1 { addr = os.Args[1] }
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ":8081".to_string());
    // ln, err := net.Listen("tcp", addr); if err != nil { log.Fatal(err) }
    let ln = net::listen("tcp", &addr).unwrap_or_else(|e| fatal(e));
    let bound = ln.addr();
    let Some(sockaddr) = bound.socket_addr() else {
        fatal(io::Error::other(format!("{bound}: not an IP address")))
    };
    // Hand the address over to may_minihttp (see the module docs).
    drop(ln);
    // log.Fatal(http.Serve(ln, mux))
    let server = HttpServer(Hello)
        .start(sockaddr)
        .unwrap_or_else(|e| fatal(e));
    eprintln!("http: listening on {bound}");
    if server.join().is_err() {
        fatal(io::Error::other("the accept loop panicked"));
    }
}
