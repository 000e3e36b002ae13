//! ServeMux patterns under arbitrary input: registering any string never panics and
//! either succeeds or fails with one of Go's texts; routing any request through the
//! patterns that registered never panics, and answers with a registered pattern, a 301,
//! a 404 or a 405.
//!
//! Input: lines; the first lines (up to a blank line) are patterns, the rest are
//! `METHOD HOST PATH` requests.
#![no_main]

use gonet::net::http::httptest::{ResponseRecorder, new_request};
use gonet::net::http::{Handler, Request, ResponseWriter, ServeMux};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (pats, reqs) = s.split_once("\n\n").unwrap_or((s, ""));
    let mux = ServeMux::new();
    let mut registered = Vec::new();
    for p in pats.lines().take(64) {
        let tag = p.to_string();
        match mux.try_handle(p, move |w: &mut dyn ResponseWriter, _: &mut Request| {
            let _ = w.write(tag.as_bytes());
        }) {
            Ok(()) => registered.push(p.to_string()),
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e == "http: invalid pattern"
                        || e.starts_with("parsing \"")
                        || (e.starts_with("pattern \"")
                            && e.contains(" conflicts with pattern \"")),
                    "{p:?}: {e}"
                );
            }
        }
    }
    for line in reqs.lines().take(64) {
        let mut f = line.splitn(3, ' ');
        let (Some(method), Some(host), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if method.is_empty() || !path.starts_with('/') {
            continue;
        }
        if gonet::net::url::Url::parse_request_uri(path).is_err() {
            continue; // a target httptest's new_request refuses (it panics, as Go's does)
        }
        let mut r = new_request(method, path, "");
        r.host = host.to_string();
        let (_, pattern) = mux.handler(&r);
        let mut rec = ResponseRecorder::new();
        mux.serve_http(&mut rec, &mut r);
        match rec.code {
            200 => assert!(registered.contains(&rec.body_string()), "{line:?}"),
            301 | 404 | 405 | 400 => {}
            c => panic!("{line:?}: status {c}"),
        }
        if rec.code == 200 {
            assert_eq!(pattern, rec.body_string(), "{line:?}");
        }
    }
});
