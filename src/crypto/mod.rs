//! Go's `crypto` packages that a server needs: [`tls`] (Go's `crypto/tls`) and [`x509`]
//! (Go's `crypto/x509`: certificates, pools of trusted roots, and their errors).
//!
//! `use gonet::crypto::{tls, x509};` mirrors Go's `import ("crypto/tls"; "crypto/x509")`.
//! The cryptography itself is [rustls](https://docs.rs/rustls) with the aws-lc-rs
//! provider; gonet adds Go's API on top, over gonet's own connections, so a TLS
//! connection parks its coroutine in the netpoller exactly as a plain one does.
//!
//! ```
//! use gonet::crypto::{tls, x509};
//! let pool = x509::CertPool::new();
//! let config = tls::Config { root_cas: Some(pool), ..Default::default() };
//! assert_eq!(config.min_version, 0); // Go's zero value: TLS 1.2 here
//! ```

pub mod tls;
pub mod x509;
