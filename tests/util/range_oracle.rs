//! What a `serve_content` answer to a Range request must look like, whatever the
//! header: shared by tests/http_fs.rs (proptest) and fuzz/fuzz_targets/http_range.rs.
#![allow(dead_code)]

use gonet::net::http::httptest::{ResponseRecorder, new_request};
use gonet::net::http::serve_content;
use std::io::Cursor;

/// Serves `content` for a request with these Range and If-Range headers and checks the
/// answer: 200 with the whole content; 206 with exactly the bytes its Content-Range
/// names, or a multipart body whose parts are exactly the bytes they name; 416 with
/// Go's texts. Returns the status.
pub fn check_range_answer(content: &[u8], range: &str, if_range: &str) -> u16 {
    let mut r = new_request("GET", "/", "");
    r.header.set("Range", range);
    if !if_range.is_empty() {
        r.header.set("If-Range", if_range);
    }
    let mut rec = ResponseRecorder::new();
    serve_content(
        &mut rec,
        &r,
        "f.txt",
        None,
        &mut Cursor::new(content.to_vec()),
    );
    let h = rec.result_header();
    match rec.code {
        200 => assert_eq!(rec.body, content, "{range:?}"),
        206 => {
            let cl: usize = h.get("Content-Length").parse().expect("a Content-Length");
            assert_eq!(cl, rec.body.len(), "{range:?}");
            let cr = h.get("Content-Range");
            if !cr.is_empty() {
                check_part(content, cr, &rec.body);
            } else {
                let ct = h.get("Content-Type");
                let b = ct
                    .strip_prefix("multipart/byteranges; boundary=")
                    .unwrap_or_else(|| panic!("{range:?}: Content-Type {ct:?}"));
                let body = String::from_utf8(rec.body.clone()).expect("ASCII content");
                let delim = format!("--{b}");
                let end = format!("\r\n--{b}--\r\n");
                assert!(body.ends_with(&end), "{range:?}");
                let parts: Vec<&str> = body[..body.len() - end.len()].split(&delim).collect();
                assert_eq!(parts[0], "", "{range:?}");
                assert!(
                    parts.len() > 2,
                    "{range:?}: a multipart answer has 2+ parts"
                );
                for (i, p) in parts[1..].iter().enumerate() {
                    let p = if i + 2 < parts.len() {
                        p.strip_suffix("\r\n")
                            .expect("CRLF before the next delimiter")
                    } else {
                        p
                    };
                    let (head, data) = p.split_once("\r\n\r\n").expect("part headers");
                    let cr = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Range: "))
                        .expect("a part Content-Range");
                    check_part(content, cr, data.as_bytes());
                }
            }
        }
        416 => {
            let b = rec.body_string();
            assert!(
                b == "invalid range\n" || b == "invalid range: failed to overlap\n",
                "{range:?}: {b:?}"
            );
        }
        c => panic!("{range:?}: status {c}"),
    }
    rec.code
}

fn check_part(content: &[u8], content_range: &str, data: &[u8]) {
    let spec = content_range.strip_prefix("bytes ").expect("bytes unit");
    let (span, size) = spec.split_once('/').expect("a size");
    assert_eq!(size.parse::<usize>().unwrap(), content.len());
    let (a, b) = span.split_once('-').expect("a span");
    let (a, b): (i64, i64) = (a.parse().unwrap(), b.parse().unwrap());
    if b == a - 1 {
        // Go's zero-length range (the suffix "-0"): no bytes.
        assert!(data.is_empty(), "{content_range}");
        return;
    }
    let (a, b) = (a as usize, b as usize);
    assert!(a <= b && b < content.len(), "{content_range}");
    assert_eq!(data, &content[a..=b], "{content_range}");
}
