//! `ServeContent` and the conditional requests it answers: Go's fs.go `serveContent`,
//! `checkPreconditions` (RFC 7232 section 6: If-Match, If-Unmodified-Since,
//! If-None-Match, If-Modified-Since, If-Range), `scanETag`, `writeNotModified`.

use super::range::{Multipart, RangeError, parse_range, sum_ranges_size};
use crate::net::http::handler::{ResponseWriter, error};
use crate::net::http::request::Request;
use crate::net::http::sniff::detect_content_type;
use crate::net::http::status::*;
use crate::net::http::time_format::{format_http_time, parse_http_time, unix_seconds};
use std::io::{self, Read, Seek, SeekFrom};
use std::time::{SystemTime, UNIX_EPOCH};

/// Go's `sniffLen`: how much `DetectContentType` looks at.
const SNIFF_LEN: usize = 512;

/// The chunk in which file bytes go to the response: a bounded read (a coroutine's
/// worker thread blocks for at most one such read of a cold file) and a buffer on the
/// heap (coroutine stacks are small).
pub(crate) const COPY_CHUNK: usize = 32 * 1024;

/// Something [`serve_content`] can serve: seekable bytes (Go's `io.ReadSeeker`):
/// anything `Read + Seek`, a `std::fs::File` or a `Cursor` among them.
///
/// ```
/// let mut c = std::io::Cursor::new(b"bytes".to_vec());
/// let _content: &mut dyn gonet::net::http::ReadSeek = &mut c;
/// ```
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

/// Go's `isZeroTime`: no time, or the Unix epoch, means "unknown".
fn is_zero_time(t: Option<SystemTime>) -> bool {
    t.is_none_or(|t| t == UNIX_EPOCH)
}

/// Replies to `r` with `content` (Go's `http.ServeContent`), handling Range requests
/// (one range, or several as `multipart/byteranges`), the MIME type and conditional
/// requests (If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range).
///
/// Without a Content-Type header already set, the type comes from `name`'s extension
/// ([`mime::type_by_extension`](crate::mime::type_by_extension)), else from sniffing the
/// first 512 bytes (`detect_content_type`); `name` is otherwise unused. A `modtime` other
/// than `None` or the Unix epoch is sent as Last-Modified and checked against
/// If-Modified-Since. The size comes from seeking to the end. An ETag header set by the
/// caller (`"xyzzy"` or `W/"xyzzy"`) is used for If-Match, If-None-Match and If-Range.
///
/// ```
/// use gonet::net::http::{self, httptest};
/// use std::io::Cursor;
/// let mut r = httptest::new_request("GET", "/", "");
/// r.header.set("Range", "bytes=0-4");
/// let mut rec = httptest::ResponseRecorder::new();
/// http::serve_content(&mut rec, &r, "hello.txt", None, &mut Cursor::new(b"hello, world"));
/// assert_eq!(rec.code, 206);
/// assert_eq!(rec.result_header().get("Content-Range"), "bytes 0-4/12");
/// assert_eq!(rec.result_header().get("Content-Type"), "text/plain; charset=utf-8");
/// assert_eq!(rec.body_string(), "hello");
/// ```
pub fn serve_content(
    w: &mut dyn ResponseWriter,
    r: &Request,
    name: &str,
    modtime: Option<SystemTime>,
    content: &mut dyn ReadSeek,
) {
    let mut size_func = |content: &mut dyn ReadSeek| -> Result<u64, &'static str> {
        // The seeker's own error text is not sent to users.
        let size = content
            .seek(SeekFrom::End(0))
            .map_err(|_| "seeker can't seek")?;
        content
            .seek(SeekFrom::Start(0))
            .map_err(|_| "seeker can't seek")?;
        Ok(size)
    };
    serve(w, r, name, modtime, &mut size_func, content);
}

/// Go's `serveContent`: `size` is called at most once, and its error is sent.
pub(crate) fn serve(
    w: &mut dyn ResponseWriter,
    r: &Request,
    name: &str,
    modtime: Option<SystemTime>,
    size: &mut dyn FnMut(&mut dyn ReadSeek) -> Result<u64, &'static str>,
    content: &mut dyn ReadSeek,
) {
    set_last_modified(w, modtime);
    let Some(range_req) = check_preconditions(w, r, modtime) else {
        return;
    };

    let mut code = STATUS_OK;

    // Without a Content-Type, the extension's type or a sniffed one; a Content-Type set
    // to no value at all means "send none and do not sniff".
    let ctype = if !w.header().has("Content-Type") {
        let mut ctype = crate::mime::type_by_extension(ext(name));
        if ctype.is_empty() {
            // Read a chunk to tell UTF-8 text from binary, then rewind.
            let mut buf = [0u8; SNIFF_LEN];
            let n = read_full(content, &mut buf);
            ctype = detect_content_type(&buf[..n]).to_string();
            if content.seek(SeekFrom::Start(0)).is_err() {
                error(w, "seeker can't seek", STATUS_INTERNAL_SERVER_ERROR);
                return;
            }
        }
        w.header().set("Content-Type", &ctype);
        ctype
    } else {
        w.header()
            .values("Content-Type")
            .first()
            .cloned()
            .unwrap_or_default()
    };

    let size = match size(content) {
        Ok(s) => s,
        Err(e) => {
            error(w, e, STATUS_INTERNAL_SERVER_ERROR);
            return;
        }
    };

    // The Range header (size is never negative here, unlike Go's int64).
    let mut send_size = size;
    let mut multipart = None;
    let mut ranges = match parse_range(&range_req, size) {
        Ok(r) => r,
        Err(e) => {
            if e == RangeError::NoOverlap {
                w.header().set("Content-Range", &format!("bytes */{size}"));
            }
            error(w, e.text(), STATUS_REQUESTED_RANGE_NOT_SATISFIABLE);
            return;
        }
    };
    if sum_ranges_size(&ranges) > size {
        // More bytes asked for than the file has: an attack, or a silly client. Ignore
        // the ranges.
        ranges.clear();
    }
    if ranges.len() == 1 {
        // RFC 7233 4.1: one range is one Content-Range and its bytes, never multipart.
        let ra = ranges[0];
        if let Err(e) = content.seek(SeekFrom::Start(ra.start)) {
            error(w, &e.to_string(), STATUS_REQUESTED_RANGE_NOT_SATISFIABLE);
            return;
        }
        send_size = ra.length;
        code = STATUS_PARTIAL_CONTENT;
        w.header().set("Content-Range", &ra.content_range(size));
    } else if ranges.len() > 1 {
        let m = Multipart::new();
        send_size = m.size(&ranges, &ctype, size);
        code = STATUS_PARTIAL_CONTENT;
        w.header().set(
            "Content-Type",
            &format!("multipart/byteranges; boundary={}", m.boundary),
        );
        multipart = Some(m);
    }
    w.header().set("Accept-Ranges", "bytes");
    if w.header().get("Content-Encoding").is_empty() {
        w.header().set("Content-Length", &send_size.to_string());
    }
    w.write_header(code);

    if r.method == "HEAD" {
        return;
    }
    let mut buf = vec![0u8; COPY_CHUNK.min(send_size.max(1) as usize)];
    match multipart {
        None => {
            let _ = copy_n(w, content, send_size, &mut buf);
        }
        Some(m) => {
            // Go writes the parts from a goroutine into a pipe; writing them in order
            // here sends the same bytes.
            for (i, ra) in ranges.iter().enumerate() {
                if w.write(m.part_header(i, ra, &ctype, size).as_bytes())
                    .is_err()
                    || content.seek(SeekFrom::Start(ra.start)).is_err()
                    || copy_n(w, content, ra.length, &mut buf).is_err()
                {
                    return;
                }
            }
            let _ = w.write(m.close().as_bytes());
        }
    }
}

/// Go's `io.CopyN`: `n` bytes from `src` to `w`, in chunks of `buf`'s size.
pub(crate) fn copy_n(
    w: &mut dyn ResponseWriter,
    src: &mut dyn ReadSeek,
    mut n: u64,
    buf: &mut [u8],
) -> io::Result<()> {
    while n > 0 {
        let want = buf.len().min(n as usize);
        let got = match src.read(&mut buf[..want]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut off = 0;
        while off < got {
            off += w.write(&buf[off..got])?;
        }
        n -= got as u64;
    }
    Ok(())
}

/// Go's `io.ReadFull`, keeping what was read before an error or the end.
fn read_full(r: &mut dyn ReadSeek, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    n
}

/// Go's `filepath.Ext`: from the last `.` of the last element, "" if none.
pub(crate) fn ext(name: &str) -> &str {
    let base_start = name.rfind('/').map_or(0, |i| i + 1);
    match name[base_start..].rfind('.') {
        Some(i) => &name[base_start + i..],
        None => "",
    }
}

/// Go's `setLastModified`.
pub(crate) fn set_last_modified(w: &mut dyn ResponseWriter, modtime: Option<SystemTime>) {
    if let Some(t) = modtime.filter(|_| !is_zero_time(modtime)) {
        w.header().set("Last-Modified", &format_http_time(t));
    }
}

/// Go's `condResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cond {
    None,
    True,
    False,
}

/// Go's `scanETag`: a valid ETag (`"x"` or `W/"x"`) at the start of `s`, and the rest.
pub(crate) fn scan_etag(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_matches([' ', '\t', '\r', '\n']);
    let b = s.as_bytes();
    let start = if s.starts_with("W/") { 2 } else { 0 };
    if b.len() - start < 2 || b[start] != b'"' {
        return None;
    }
    for (i, &c) in b.iter().enumerate().skip(start + 1) {
        match c {
            // The bytes RFC 7232 2.3 allows in an ETag.
            0x21 | 0x23..=0x7e | 0x80..=0xff => {}
            b'"' => return Some((&s[..i + 1], &s[i + 1..])),
            _ => return None,
        }
    }
    None
}

/// Strong comparison: the same, and not weak.
fn etag_strong_match(a: &str, b: &str) -> bool {
    a == b && a.starts_with('"')
}

/// Weak comparison: the same once `W/` is dropped.
fn etag_weak_match(a: &str, b: &str) -> bool {
    a.strip_prefix("W/").unwrap_or(a) == b.strip_prefix("W/").unwrap_or(b)
}

/// Walks an ETag list (`*`, or ETags separated by commas) as Go's checkIfMatch and
/// checkIfNoneMatch do: `Some(true)` at `*` or a match, `None` at a bad ETag.
fn etag_list_matches(mut list: &str, etag: &str, strong: bool) -> Option<bool> {
    loop {
        list = list.trim_matches([' ', '\t', '\r', '\n']);
        if list.is_empty() {
            return Some(false);
        }
        if let Some(rest) = list.strip_prefix(',') {
            list = rest;
            continue;
        }
        if list.starts_with('*') {
            return Some(true);
        }
        let (e, remain) = scan_etag(list)?;
        let hit = if strong {
            etag_strong_match(e, etag)
        } else {
            etag_weak_match(e, etag)
        };
        if hit {
            return Some(true);
        }
        list = remain;
    }
}

fn check_if_match(w: &mut dyn ResponseWriter, r: &Request) -> Cond {
    let im = r.header.get("If-Match");
    if im.is_empty() {
        return Cond::None;
    }
    match etag_list_matches(im, w.header().get("Etag"), true) {
        Some(true) => Cond::True,
        _ => Cond::False,
    }
}

/// `modtime` truncated to whole seconds (what Last-Modified carried) against `t`:
/// whether it is at or before `t`.
fn not_after(modtime: SystemTime, t: SystemTime) -> bool {
    super::super::time_format::from_unix(unix_seconds(modtime)) <= t
}

fn check_if_unmodified_since(r: &Request, modtime: Option<SystemTime>) -> Cond {
    let ius = r.header.get("If-Unmodified-Since");
    let (Some(m), false) = (modtime, ius.is_empty() || is_zero_time(modtime)) else {
        return Cond::None;
    };
    match parse_http_time(ius) {
        None => Cond::None,
        Some(t) if not_after(m, t) => Cond::True,
        Some(_) => Cond::False,
    }
}

fn check_if_none_match(w: &mut dyn ResponseWriter, r: &Request) -> Cond {
    let inm = r.header.get("If-None-Match");
    if inm.is_empty() {
        return Cond::None;
    }
    match etag_list_matches(inm, w.header().get("Etag"), false) {
        Some(true) => Cond::False,
        _ => Cond::True,
    }
}

/// Go's `checkIfModifiedSince` (GET and HEAD only).
pub(crate) fn check_if_modified_since(r: &Request, modtime: Option<SystemTime>) -> Cond {
    if r.method != "GET" && r.method != "HEAD" {
        return Cond::None;
    }
    let ims = r.header.get("If-Modified-Since");
    let (Some(m), false) = (modtime, ims.is_empty() || is_zero_time(modtime)) else {
        return Cond::None;
    };
    match parse_http_time(ims) {
        None => Cond::None,
        Some(t) if not_after(m, t) => Cond::False,
        Some(_) => Cond::True,
    }
}

fn check_if_range(w: &mut dyn ResponseWriter, r: &Request, modtime: Option<SystemTime>) -> Cond {
    if r.method != "GET" && r.method != "HEAD" {
        return Cond::None;
    }
    let ir = r.header.get("If-Range");
    if ir.is_empty() {
        return Cond::None;
    }
    if let Some((etag, _)) = scan_etag(ir) {
        return if etag_strong_match(etag, w.header().get("Etag")) {
            Cond::True
        } else {
            Cond::False
        };
    }
    // The If-Range value may also be a date (golang.org/issue/8367). Go checks for the
    // zero time here, not the epoch.
    let Some(m) = modtime else { return Cond::False };
    match parse_http_time(ir) {
        Some(t) if unix_seconds(t) == unix_seconds(m) => Cond::True,
        _ => Cond::False,
    }
}

/// Go's `writeNotModified`: 304 without representation headers (RFC 7232 4.1), and
/// without Last-Modified when there is an ETag.
pub(crate) fn write_not_modified(w: &mut dyn ResponseWriter) {
    let h = w.header();
    h.del("Content-Type");
    h.del("Content-Length");
    h.del("Content-Encoding");
    if !h.get("Etag").is_empty() {
        h.del("Last-Modified");
    }
    w.write_header(STATUS_NOT_MODIFIED);
}

/// Go's `checkPreconditions`, following RFC 7232 section 6: `None` when it answered
/// (304 or 412), else the Range header to honour ("" when If-Range says no).
pub(crate) fn check_preconditions(
    w: &mut dyn ResponseWriter,
    r: &Request,
    modtime: Option<SystemTime>,
) -> Option<String> {
    let mut ch = check_if_match(w, r);
    if ch == Cond::None {
        ch = check_if_unmodified_since(r, modtime);
    }
    if ch == Cond::False {
        w.write_header(STATUS_PRECONDITION_FAILED);
        return None;
    }
    match check_if_none_match(w, r) {
        Cond::False => {
            if r.method == "GET" || r.method == "HEAD" {
                write_not_modified(w);
            } else {
                w.write_header(STATUS_PRECONDITION_FAILED);
            }
            return None;
        }
        Cond::None => {
            if check_if_modified_since(r, modtime) == Cond::False {
                write_not_modified(w);
                return None;
            }
        }
        Cond::True => {}
    }
    let range = r.header.get("Range");
    if !range.is_empty() && check_if_range(w, r, modtime) == Cond::False {
        return Some(String::new());
    }
    Some(range.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::http::httptest::{ResponseRecorder, new_request};
    use crate::net::http::time_format::from_unix;
    use std::io::Cursor;

    #[test]
    fn scans_etags_as_go_does() {
        assert_eq!(scan_etag("\"abc\""), Some(("\"abc\"", "")));
        assert_eq!(
            scan_etag(" W/\"abc\" , \"d\""),
            Some(("W/\"abc\"", " , \"d\""))
        );
        assert_eq!(scan_etag("abc"), None);
        assert_eq!(scan_etag("\"a b\""), None);
        assert_eq!(scan_etag("\""), None);
        assert_eq!(scan_etag("W/"), None);
    }

    fn run(
        method: &str,
        hdrs: &[(&str, &str)],
        etag: &str,
        modtime: Option<SystemTime>,
    ) -> ResponseRecorder {
        let mut r = new_request(method, "/", "");
        for (k, v) in hdrs {
            r.header.set(k, v);
        }
        let mut rec = ResponseRecorder::new();
        if !etag.is_empty() {
            rec.header().set("Etag", etag);
        }
        serve_content(
            &mut rec,
            &r,
            "f.txt",
            modtime,
            &mut Cursor::new(b"0123456789".to_vec()),
        );
        rec
    }

    // Go's TestServeContent cases, the condition part.
    #[test]
    fn answers_conditions_as_go_does() {
        let m = Some(from_unix(1_000_000_000)); // Sun, 09 Sep 2001 01:46:40 GMT
        let lm = "Sun, 09 Sep 2001 01:46:40 GMT";
        let before = "Sun, 09 Sep 2001 01:46:39 GMT";
        assert_eq!(
            run("GET", &[], "", m).result_header().get("Last-Modified"),
            lm
        );
        assert_eq!(run("GET", &[("If-Modified-Since", lm)], "", m).code, 304);
        assert_eq!(
            run("GET", &[("If-Modified-Since", before)], "", m).code,
            200
        );
        assert_eq!(run("POST", &[("If-Modified-Since", lm)], "", m).code, 200);
        assert_eq!(run("GET", &[("If-Modified-Since", lm)], "", None).code, 200);
        assert_eq!(
            run("GET", &[("If-Unmodified-Since", before)], "", m).code,
            412
        );
        assert_eq!(run("GET", &[("If-Unmodified-Since", lm)], "", m).code, 200);
        assert_eq!(
            run("GET", &[("If-None-Match", "\"foo\"")], "\"foo\"", m).code,
            304
        );
        assert_eq!(
            run("GET", &[("If-None-Match", "W/\"foo\"")], "\"foo\"", m).code,
            304
        );
        assert_eq!(
            run("GET", &[("If-None-Match", "\"bar\"")], "\"foo\"", m).code,
            200
        );
        assert_eq!(
            run("PUT", &[("If-None-Match", "*")], "\"foo\"", m).code,
            412
        );
        assert_eq!(
            run("GET", &[("If-Match", "\"foo\"")], "\"foo\"", m).code,
            200
        );
        assert_eq!(
            run("GET", &[("If-Match", "W/\"foo\"")], "\"foo\"", m).code,
            412
        );
        assert_eq!(
            run("GET", &[("If-Match", "\"x\", *")], "\"foo\"", m).code,
            200
        );
        let r304 = run("GET", &[("If-None-Match", "\"foo\"")], "\"foo\"", m);
        assert_eq!(r304.result_header().get("Last-Modified"), "");
        assert_eq!(r304.result_header().get("Content-Type"), "");
        // If-Range: a strong ETag or the exact date keeps the range, anything else drops it.
        let rng = ("Range", "bytes=0-1");
        assert_eq!(
            run("GET", &[rng, ("If-Range", "\"foo\"")], "\"foo\"", m).code,
            206
        );
        assert_eq!(
            run("GET", &[rng, ("If-Range", "W/\"foo\"")], "W/\"foo\"", m).code,
            200
        );
        assert_eq!(run("GET", &[rng, ("If-Range", lm)], "", m).code, 206);
        assert_eq!(run("GET", &[rng, ("If-Range", before)], "", m).code, 200);
    }

    #[test]
    fn serves_ranges_as_go_does() {
        let rec = run("GET", &[("Range", "bytes=2-4")], "", None);
        assert_eq!((rec.code, rec.body_string().as_str()), (206, "234"));
        assert_eq!(rec.result_header().get("Content-Length"), "3");
        let rec = run("GET", &[("Range", "bytes=20-")], "", None);
        assert_eq!(rec.code, 416);
        assert_eq!(rec.result_header().get("Content-Range"), "bytes */10");
        assert_eq!(rec.body_string(), "invalid range: failed to overlap\n");
        let rec = run("GET", &[("Range", "bytes=x")], "", None);
        assert_eq!(
            (rec.code, rec.body_string().as_str()),
            (416, "invalid range\n")
        );
        let rec = run("GET", &[("Range", "bytes=0-9,0-9")], "", None);
        assert_eq!((rec.code, rec.body_string().as_str()), (200, "0123456789"));
        let rec = run("GET", &[("Range", "bytes=0-1,8-")], "", None);
        assert_eq!(rec.code, 206);
        let ct = rec.result_header().get("Content-Type").to_string();
        let b = ct.strip_prefix("multipart/byteranges; boundary=").unwrap();
        let want = format!(
            "--{b}\r\nContent-Range: bytes 0-1/10\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n01\
             \r\n--{b}\r\nContent-Range: bytes 8-9/10\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n89\
             \r\n--{b}--\r\n"
        );
        assert_eq!(rec.body_string(), want);
        assert_eq!(
            rec.result_header().get("Content-Length"),
            want.len().to_string()
        );
        let rec = run("HEAD", &[("Range", "bytes=2-4")], "", None);
        assert_eq!((rec.code, rec.body_string().as_str()), (206, ""));
    }

    #[test]
    fn sniffs_without_an_extension() {
        let mut rec = ResponseRecorder::new();
        let r = new_request("GET", "/", "");
        serve_content(
            &mut rec,
            &r,
            "noext",
            None,
            &mut Cursor::new(b"<html><body>hi".to_vec()),
        );
        assert_eq!(
            rec.result_header().get("Content-Type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(rec.body_string(), "<html><body>hi");
        assert_eq!(ext("a/b.c/d"), "");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
    }
}
