//! Range requests under arbitrary input: `serve_content` never panics on any Range,
//! If-Range or content size, and its answer is well formed (tests/util/range_oracle.rs:
//! a 206 carries exactly the bytes its Content-Range names, a multipart body parts that
//! do, a 416 Go's texts).
//!
//! Input: the first byte picks the content size (0-255 bytes of a known pattern), the
//! rest (up to a newline) is the Range header, what follows the If-Range header.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/util/range_oracle.rs"]
mod range_oracle;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let (range, if_range) = rest.split_once('\n').unwrap_or((rest, ""));
    if range.contains(['\r', '\n', '\0']) || if_range.contains(['\r', '\n', '\0']) {
        return; // not a header value
    }
    let content: Vec<u8> = (0..n).map(|i| b'a' + i % 26).collect();
    range_oracle::check_range_answer(&content, range, if_range);
});
