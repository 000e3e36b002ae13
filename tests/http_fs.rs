//! File serving: FileServer, Dir, ServeFile and ServeContent against live Go 1.19.
//!
//! - `file_server_matches_go_1_19`: a directory tree (files of each MIME kind Go knows,
//!   sniffed files, an index.html, names that need escaping, an empty and a 100 KB file)
//!   is served by Go 1.19's `FileServer(Dir(d))` and by gonet's, for every row of
//!   tests/go/nethttp/fs.tsv (listings, redirects, Content-Type, ranges and multipart
//!   ranges, 416, If-Modified-Since, If-Unmodified-Since, If-None-Match, If-Match,
//!   If-Range, 404): the same status, headers and body, byte for byte, with only the
//!   multipart boundary (random on both sides) normalised.
//! - `serve_file_matches_go_1_19`: the same for `ServeFile` (tests/go/nethttp/servefile.tsv):
//!   the `..` refusal, the index.html redirect, directories.
//!
//! Run: `cargo test --release --test http_fs`.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/nethttp.rs"]
mod nethttp;

use gonet::net::http::httptest::{ResponseRecorder, new_request};
use gonet::net::http::{self, Handler, Request};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The files' modification time: Sun, 13 Sep 2020 12:26:40 GMT.
const MTIME: u64 = 1_600_000_000;
const LM: &str = "Sun, 13 Sep 2020 12:26:40 GMT";
const EARLY: &str = "Sun, 13 Sep 2020 12:26:39 GMT";

struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn touch(p: &Path) {
    let t = UNIX_EPOCH + Duration::from_secs(MTIME);
    std::fs::File::open(p)
        .and_then(|f| f.set_modified(t))
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", p.display()));
}

/// The tree both servers serve; every file and directory has mtime MTIME.
fn tree(tag: &str) -> Tree {
    let root = std::env::temp_dir().join(format!("gonet-http-fs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let files: &[(&str, &[u8])] = &[
        ("index-less.txt", b"top"),
        ("sub/index.html", b"<h1>sub index</h1>\n"),
        ("sub/other.txt", b"other"),
        ("plain/a.txt", b"0123456789"),
        ("plain/style.css", b"body { color: red }\n"),
        ("plain/app.js", b"console.log(1)\n"),
        ("plain/data.json", b"{\"a\":1}"),
        ("plain/page.html", b"<p>page</p>"),
        ("plain/UPPER.HTML", b"<p>upper</p>"),
        ("plain/image.png", b"not really a png"),
        ("plain/vector.svg", b"<svg/>"),
        ("plain/doc.pdf", b"%PDF-1.4 fake"),
        (
            "plain/noext-html",
            b"<!DOCTYPE html><html><body>sniffed</body></html>",
        ),
        ("plain/noext-text", b"just some text"),
        ("plain/noext-pdf", b"%PDF-1.7 sniffed"),
        ("plain/empty.txt", b""),
        ("plain/a b.txt", b"space"),
        ("plain/q?.txt", b"question"),
        ("plain/colon:file.txt", b"colon"),
        ("plain/<tag>&amp.txt", b"html"),
        ("plain/dir.d/x", b"x"),
    ];
    for (name, data) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    let big: Vec<u8> = (0..100_000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz\n"[(i % 27) as usize])
        .collect();
    std::fs::write(root.join("plain/big.txt"), big).unwrap();
    for (name, _) in files {
        touch(&root.join(name));
    }
    touch(&root.join("plain/big.txt"));
    for d in ["", "sub", "plain", "plain/dir.d"] {
        touch(&root.join(d));
    }
    Tree(root)
}

fn substitute(s: &str) -> String {
    s.replace("EARLY", EARLY).replace("LM", LM)
}

fn request(method: &str, target: &str, headers: &str) -> Request {
    let mut r = new_request(method, target, "");
    if headers != "-" {
        for kv in headers.split('|') {
            let (k, v) = kv.split_once(": ").unwrap();
            r.header.add(k, v);
        }
    }
    r
}

/// The answer with the multipart boundary (60 random hex digits) as "BOUNDARY".
fn normalise(mut a: nethttp::Answer) -> nethttp::Answer {
    let header = a.get("header").cloned().unwrap_or_default();
    if let Some(i) = header.find("boundary=") {
        let b = header[i + 9..i + 9 + 60].to_string();
        assert!(b.bytes().all(|c| c.is_ascii_hexdigit()), "boundary {b}");
        for v in a.values_mut() {
            *v = v.replace(&b, "BOUNDARY");
        }
    }
    a
}

#[test]
fn file_server_matches_go_1_19() {
    let t = tree("server");
    let dir = t.0.to_str().unwrap();
    let table = substitute(
        &std::fs::read_to_string(go_util::manifest_dir().join("tests/go/nethttp/fs.tsv")).unwrap(),
    );
    let go = nethttp::run_go("fs", Some(dir), &table);
    let rows = nethttp::rows(&table);
    assert_eq!(go.len(), rows.len());
    let fs = http::file_server(http::Dir(t.0.clone()));
    for (row, want) in rows.iter().zip(go) {
        let mut rec = ResponseRecorder::new();
        fs.serve_http(&mut rec, &mut request(row[0], row[1], row[2]));
        assert_eq!(normalise(nethttp::answer(&rec)), normalise(want), "{row:?}");
    }
    assert!(rows.len() >= 70);
}

#[test]
fn serve_file_matches_go_1_19() {
    let t = tree("servefile");
    let dir = t.0.to_str().unwrap();
    let table = substitute(
        &std::fs::read_to_string(go_util::manifest_dir().join("tests/go/nethttp/servefile.tsv"))
            .unwrap(),
    );
    let go = nethttp::run_go("servefile", Some(dir), &table);
    let rows = nethttp::rows(&table);
    assert_eq!(go.len(), rows.len());
    for (row, want) in rows.iter().zip(go) {
        let mut rec = ResponseRecorder::new();
        let r = request(row[0], row[1], row[3]);
        http::serve_file(&mut rec, &r, &format!("{dir}/{}", row[2]));
        assert_eq!(normalise(nethttp::answer(&rec)), normalise(want), "{row:?}");
    }
}

/// A raw answer with its multipart boundary as "BOUNDARY".
fn normalise_raw(s: String) -> String {
    match s.find("boundary=") {
        Some(i) => {
            let b = s[i + 9..i + 9 + 60].to_string();
            s.replace(&b, "BOUNDARY")
        }
        None => s,
    }
}

// The same table over real sockets: Go 1.19's net/http server with FileServer and a
// gonet http::Server with gonet's, on the same tree; whole answers byte for byte (Date
// and the multipart boundary normalised).
#[test]
fn file_server_over_sockets_answers_as_go_1_19_does() {
    let t = tree("sockets");
    let dir = t.0.to_str().unwrap();
    let table = substitute(
        &std::fs::read_to_string(go_util::manifest_dir().join("tests/go/nethttp/fs.tsv")).unwrap(),
    );
    let go = nethttp::GoServer::start("serve-fs", Some(dir));
    let ours = nethttp::GonetServer::start(http::file_server(http::Dir(t.0.clone())));
    for row in nethttp::rows(&table) {
        let mut req = format!(
            "{} {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
            row[0], row[1]
        );
        if row[2] != "-" {
            for kv in row[2].split('|') {
                req.push_str(kv);
                req.push_str("\r\n");
            }
        }
        req.push_str("\r\n");
        let want = normalise_raw(nethttp::exchange(&go.addr, &req));
        let got = normalise_raw(nethttp::exchange(&ours.addr, &req));
        assert_eq!(got, want, "{req:?}");
    }
}

// curl downloads whole files, single ranges and multipart ranges, and revalidates with
// If-Modified-Since (-z).
#[test]
fn curl_downloads_ranges_and_revalidates() {
    let t = tree("curl");
    let s = nethttp::GonetServer::start(http::file_server(http::Dir(t.0.clone())));
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10"])
            .args(args)
            .output()
            .expect("run curl (apt-get install curl)");
        assert!(out.status.success(), "curl {args:?}");
        out.stdout
    };
    let url = |p: &str| format!("http://{}{p}", s.addr);
    let big = std::fs::read(t.0.join("plain/big.txt")).unwrap();
    assert_eq!(curl(&[&url("/plain/big.txt")]), big);
    assert_eq!(
        curl(&["-r", "40000-40999", &url("/plain/big.txt")]),
        &big[40000..41000]
    );
    let multi = String::from_utf8(curl(&["-r", "0-1,5-6", &url("/plain/a.txt")])).unwrap();
    assert!(multi.contains("Content-Range: bytes 0-1/10\r\n"), "{multi}");
    assert!(multi.contains("\r\n\r\n56\r\n--"), "{multi}");
    let code = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-z",
        LM,
        &url("/plain/a.txt"),
    ]);
    assert_eq!(code, b"304");
    let code = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-r",
        "99-",
        &url("/plain/a.txt"),
    ]);
    assert_eq!(code, b"416");
}

#[test]
fn serve_content_uses_the_callers_etag_and_type() {
    let mut r = new_request("GET", "/", "");
    r.header.set("If-None-Match", "W/\"v1\"");
    let mut rec = ResponseRecorder::new();
    rec.header().set("Etag", "\"v1\"");
    let mut body = std::io::Cursor::new(b"data".to_vec());
    http::serve_content(&mut rec, &r, "x.bin", Some(SystemTime::now()), &mut body);
    assert_eq!(rec.code, 304);
    assert_eq!(
        rec.result_header().get("Last-Modified"),
        "",
        "dropped beside an ETag"
    );
    // A Content-Type set to no value: none sent, nothing sniffed.
    let r = new_request("GET", "/", "");
    let mut rec = ResponseRecorder::new();
    rec.header().set_values("Content-Type", &[]);
    http::serve_content(
        &mut rec,
        &r,
        "",
        None,
        &mut std::io::Cursor::new(b"<html>".to_vec()),
    );
    assert_eq!(rec.result_header().values("Content-Type").len(), 0);
    assert_eq!(rec.body_string(), "<html>");
}

#[path = "util/range_oracle.rs"]
mod range_oracle;

mod properties {
    use super::range_oracle::check_range_answer;
    use proptest::prelude::*;

    fn content(n: usize) -> Vec<u8> {
        (0..n).map(|i| b'a' + (i % 26) as u8).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        // Any header: no panic, and a well-formed answer.
        #[test]
        fn any_range_header_gets_a_well_formed_answer(
            n in 0usize..300,
            range in "(bytes=)?[-0-9, a-z=]{0,40}",
            if_range in "(\"[a-z]{0,3}\"|W/\"x\"|[A-Za-z0-9 ,:]{0,30})?",
        ) {
            check_range_answer(&content(n), &range, &if_range);
        }

        // A valid single range: exactly its bytes.
        #[test]
        fn a_single_range_is_exactly_its_bytes(n in 1usize..300, a in 0usize..300, len in 1usize..300) {
            let a = a % n;
            let b = a + len - 1;
            let code = check_range_answer(&content(n), &format!("bytes={a}-{b}"), "");
            prop_assert_eq!(code, 206);
        }

        // Several ranges that fit: multipart, each part exactly its bytes.
        #[test]
        fn several_ranges_are_parts(n in 10usize..300, starts in proptest::collection::vec(0usize..300, 2..5)) {
            let spec: Vec<String> = starts.iter().map(|s| format!("{}-{}", s % (n / 2), s % (n / 2) + 1)).collect();
            let code = check_range_answer(&content(n), &format!("bytes={}", spec.join(",")), "");
            prop_assert_eq!(code, 206);
        }
    }
}

// A file that blocks (a FIFO no one writes yet) parks only its own request: file
// reads go through gonet::os on the blocking pool, so the workers go on serving.
#[test]
fn a_blocked_file_read_stalls_no_worker() {
    let t = tree("fifo");
    let fifo = t.0.join("plain/slow.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path and a mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    let s = nethttp::GonetServer::start(http::file_server(http::Dir(t.0.clone())));
    let addr = s.addr.clone();
    let blocked = std::thread::spawn(move || {
        nethttp::exchange(
            &addr,
            "GET /plain/slow.fifo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
    });
    // Several requests while the FIFO's reader waits: every one answered.
    for _ in 0..8 {
        let got = nethttp::exchange(
            &s.addr,
            "GET /plain/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(got.ends_with("\r\n\r\n0123456789"), "{got}");
    }
    assert!(
        !blocked.is_finished(),
        "the FIFO request waits for a writer"
    );
    std::fs::write(&fifo, b"late bytes").unwrap(); // opens, writes, closes: EOF
    // Then it is answered as Go answers a FIFO: sniffed, and the rewind fails.
    let got = blocked.join().unwrap();
    assert!(
        got.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{got}"
    );
    assert!(got.ends_with("\r\n\r\nseeker can't seek\n"), "{got}");
}
