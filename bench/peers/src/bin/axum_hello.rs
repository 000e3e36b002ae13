//! axum hello world on tokio's multi-thread runtime, with the routes of examples/http.rs
//! and its Go twin: GET / (text/plain) and GET /json (a serde_json object).
use axum::{http::header, routing::get, Router};

async fn json() -> ([(header::HeaderName, &'static str); 1], Vec<u8>) {
    // What axum::Json does: serde_json into a buffer, Content-Type application/json.
    let body =
        serde_json::to_vec(&serde_json::json!({"message": "Hello, World!"})).expect("serialize");
    ([(header::CONTENT_TYPE, "application/json")], body)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let app = Router::new()
        .route("/", get(|| async { "Hello, World!" }))
        .route("/json", get(json));
    let ln = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    eprintln!("axum_hello: listening on {}", ln.local_addr().unwrap());
    axum::serve(ln, app).await.expect("serve");
}
