//! axum hello world on tokio's multi-thread runtime.
use axum::{routing::get, Router};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let app = Router::new().route("/", get(|| async { "Hello, world!" }));
    let ln = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    eprintln!("axum_hello: listening on {}", ln.local_addr().unwrap());
    axum::serve(ln, app).await.expect("serve");
}
