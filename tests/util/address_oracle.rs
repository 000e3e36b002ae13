//! What the address-parsing property test (tests/proptest_parse.rs) and the fuzz target
//! (fuzz/fuzz_targets/parse_addr.rs) both need: Go's SplitHostPort error reasons, and the
//! checks that keep a generated address from sending a DNS query or taking a fixed port.
//!
//! Include with `#[path = ".../tests/util/address_oracle.rs"] mod address_oracle;`.
#![allow(dead_code)]

/// Go's error reasons for SplitHostPort.
pub const SPLIT_REASONS: &[&str] = &[
    "missing port in address",
    "too many colons in address",
    "missing ']' in address",
    "unexpected '[' in address",
    "unexpected ']' in address",
];

/// Whether listening on `host` could send a DNS query: a name that is not `localhost`
/// (the hosts file answers that one) and could be a domain name.
pub fn could_need_dns(host: &str) -> bool {
    let plain = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    let named = host
        .bytes()
        .any(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_');
    plain && named && !host.eq_ignore_ascii_case("localhost")
}

/// Whether `port` could name a service in /etc/services (and so a fixed port).
pub fn could_be_service(port: &str) -> bool {
    port.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && port.bytes().any(|b| b.is_ascii_alphabetic())
}
