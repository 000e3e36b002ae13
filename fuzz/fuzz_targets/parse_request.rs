//! The HTTP request parser path under arbitrary input: httparse, the request target
//! (Go's url.ParseRequestURI), Host, Content-Length and Transfer-Encoding checks never
//! panic, and what parses reads back the same way twice.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let first = gonet::net::http::__parse_request_head(data);
    assert_eq!(first, gonet::net::http::__parse_request_head(data));
});
