//! Hello world over HTTP with gonet::net::http, line for line with its Go twin
//! (examples/go/http.go, net/http): the same routes, and the same bytes on the wire.
//!
//! ```text
//! cargo run --release --example http              # listens on :8081
//! cargo run --release --example http -- :9000     # or any address gonet::listen takes
//! curl -i localhost:8081/          # 200, text/plain; charset=utf-8: Hello, World!
//! curl -i localhost:8081/json      # 200, application/json: {"message":"Hello, World!"}
//! curl -i localhost:8081/nope      # 404, text/plain; charset=utf-8: 404 page not found
//! ```
//!
//! examples/minihttp.rs is the same server on may_minihttp, for the benchmark.

use gonet::net;
use gonet::net::http::{self, Request, ResponseWriter};

/// mux.HandleFunc("/json", ...)
fn json(w: &mut dyn ResponseWriter, _r: &mut Request) {
    // body, err := json.Marshal(message{"Hello, World!"})
    let body = match serde_json::to_vec(&serde_json::json!({"message": "Hello, World!"})) {
        Ok(b) => b,
        Err(e) => {
            http::error(w, &e.to_string(), http::STATUS_INTERNAL_SERVER_ERROR);
            return;
        }
    };
    w.header().set("Content-Type", "application/json");
    let _ = w.write(&body);
}

/// mux.HandleFunc("/", ...)
fn root(w: &mut dyn ResponseWriter, r: &mut Request) {
    if r.url.path != "/" {
        http::not_found(w, r); // 404, text/plain; charset=utf-8: "404 page not found\n"
        return;
    }
    w.header().set("Content-Type", "text/plain; charset=utf-8");
    let _ = w.write(b"Hello, World!"); // io.WriteString(w, "Hello, World!")
}

/// Go's `log.Fatal(err)`: the error's text on stderr, exit status 1.
fn fatal(e: std::io::Error) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .format_timestamp(None)
        .format_target(false)
        .format_level(false)
        .init();
    // mux := http.NewServeMux()
    let mux = http::ServeMux::new();
    mux.handle_func("/json", json);
    mux.handle_func("/", root);
    // addr := ":8081"; if len(os.Args) > 1 { addr = os.Args[1] }
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ":8081".to_string());
    // ln, err := net.Listen("tcp", addr); if err != nil { log.Fatal(err) }
    let ln = net::listen("tcp", &addr).unwrap_or_else(|e| fatal(e));
    // log.Printf("http: listening on %v", ln.Addr())
    eprintln!("http: listening on {}", ln.addr());
    // log.Fatal(http.Serve(ln, mux))
    if let Err(e) = http::serve(ln, mux) {
        fatal(e);
    }
}
