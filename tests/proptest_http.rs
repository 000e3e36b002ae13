//! The HTTP request parser path (httparse, the request target, Host, Content-Length and
//! Transfer-Encoding rules) under generated input: never a panic, the same answer twice,
//! and well-formed requests read back field for field. The cargo-fuzz target
//! fuzz/fuzz_targets/parse_request.rs drives the same function.

use gonet::net::http::__parse_request_head as parse;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let a = parse(&data);
        prop_assert_eq!(&a, &parse(&data));
    }

    #[test]
    fn arbitrary_heads_never_panic(
        method in "[A-Z]{1,7}|[ -~]{0,8}",
        target in "/[ -~]{0,40}|\\*|[a-z]+://[a-z.]{1,12}(:[0-9]{1,6})?/[ -~]{0,10}|[ -~]{0,20}",
        proto in "HTTP/1\\.[01]|HTTP/[0-9]\\.[0-9]|[ -~]{0,10}",
        headers in proptest::collection::vec(("[A-Za-z0-9-]{1,12}|[ -~]{0,12}", "[ -~\t]{0,30}"), 0..12),
    ) {
        let mut s = format!("{method} {target} {proto}\r\n");
        for (k, v) in &headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        let a = parse(s.as_bytes());
        prop_assert_eq!(&a, &parse(s.as_bytes()));
    }

    #[test]
    fn good_requests_read_back(
        method in "GET|POST|PUT|DELETE|PATCH|OPTIONS|PURGE",
        path in "/[a-z0-9/._~-]{0,30}",
        host in "[a-z]{1,10}(\\.[a-z]{2,5})?(:[0-9]{1,5})?",
        len in 0u32..100_000,
        extra in proptest::collection::vec(("X-[A-Za-z]{1,8}", "[a-zA-Z0-9 ,;=]{0,20}"), 0..8),
    ) {
        let mut s = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len}\r\n");
        for (k, v) in &extra {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        let got = parse(s.as_bytes());
        let framing = if len == 0 { "None".to_string() } else { format!("Length({len})") };
        let mut keys: Vec<String> = extra.iter().map(|(k, _)| gonet::net::http::canonical_header_key(k)).collect();
        keys.push("Content-Length".into());
        keys.sort();
        keys.dedup();
        let want = format!(
            "ok {} {method} {path} {path} 1.1 host={host} {framing} headers={}",
            s.len(),
            keys.len()
        );
        prop_assert_eq!(got, want);
    }
}

#[test]
fn partial_heads_ask_for_more() {
    assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), "partial");
    assert_eq!(parse(b""), "partial");
}
