//! The TLS record checks under arbitrary input (gonet::crypto::tls's record.rs: Go's
//! first-record checks, record boundaries, the ClientHello's versions): never a panic,
//! and the answer does not depend on how the stream is cut into reads.
//!
//! Input: the first byte is a chunk size (1-256), the rest the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, stream)) = data.split_first() else {
        return;
    };
    let whole = gonet::crypto::tls::__observe_records(&[stream]);
    let chunks: Vec<&[u8]> = stream.chunks(usize::from(n) + 1).collect();
    let cut = gonet::crypto::tls::__observe_records(&chunks);
    assert_eq!(
        whole,
        cut,
        "the same stream, read in pieces of {}",
        usize::from(n) + 1
    );
    if let (Err(msg), _, _) = &whole {
        assert!(
            msg == "first record does not look like a TLS handshake"
                || msg == "unsupported SSLv2 handshake received"
                || msg.starts_with("oversized record received with length "),
            "{msg}"
        );
    }
});
