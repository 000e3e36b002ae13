//! Byte ranges (RFC 7233) as Go's fs.go reads and writes them: `parseRange`,
//! `httpRange`, the `multipart/byteranges` body of a multi-range answer (Go's
//! mime/multipart writer: a 60-hex-digit random boundary, sorted part headers) and its
//! size (`rangesMIMESize`).

use std::fmt::Write as _;

/// One byte range of a resource (Go's `httpRange`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HttpRange {
    pub(crate) start: u64,
    pub(crate) length: u64,
}

impl HttpRange {
    /// `bytes START-END/SIZE`: the Content-Range value. A zero-length range (Go makes
    /// one of the suffix `-0`) prints as Go prints it: `bytes 64-63/64`, `bytes 0--1/0`.
    pub(crate) fn content_range(&self, size: u64) -> String {
        let end = self.start as i128 + self.length as i128 - 1;
        format!("bytes {}-{end}/{size}", self.start)
    }
}

/// Why a Range header is refused (both answer 416).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeError {
    /// Go's "invalid range".
    Invalid,
    /// Go's `errNoOverlap`, "invalid range: failed to overlap": every range starts past
    /// the end (the 416 then carries `Content-Range: bytes */SIZE`).
    NoOverlap,
}

impl RangeError {
    pub(crate) fn text(self) -> &'static str {
        match self {
            RangeError::Invalid => "invalid range",
            RangeError::NoOverlap => "invalid range: failed to overlap",
        }
    }
}

/// Go's `textproto.TrimString`.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// Go's `strconv.ParseInt(s, 10, 64)` for the digits a range may hold: an optional sign,
/// then decimal digits, fitting an int64.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `parseRange`: the ranges of a Range header for a resource of `size` bytes.
/// An empty header is no ranges; ranges past the end are dropped, and if that leaves
/// none, [`RangeError::NoOverlap`].
pub(crate) fn parse_range(s: &str, size: u64) -> Result<Vec<HttpRange>, RangeError> {
    if s.is_empty() {
        return Ok(Vec::new()); // header not present
    }
    let Some(specs) = s.strip_prefix("bytes=") else {
        return Err(RangeError::Invalid);
    };
    let size_i = i64::try_from(size).unwrap_or(i64::MAX);
    let mut ranges = Vec::new();
    let mut no_overlap = false;
    for ra in specs.split(',') {
        let ra = trim(ra);
        if ra.is_empty() {
            continue;
        }
        let Some((start, end)) = ra.split_once('-') else {
            return Err(RangeError::Invalid);
        };
        let (start, end) = (trim(start), trim(end));
        let r = if start.is_empty() {
            // A suffix: the last END bytes, END a non-negative integer (RFC 7233 2.1).
            if end.is_empty() || end.starts_with('-') {
                return Err(RangeError::Invalid);
            }
            let mut i = parse_int(end)
                .filter(|&i| i >= 0)
                .ok_or(RangeError::Invalid)?;
            if i > size_i {
                i = size_i;
            }
            let start = size_i - i;
            HttpRange {
                start: start as u64,
                length: (size_i - start) as u64,
            }
        } else {
            let i = parse_int(start)
                .filter(|&i| i >= 0)
                .ok_or(RangeError::Invalid)?;
            if i >= size_i {
                // Starts past the end: does not overlap.
                no_overlap = true;
                continue;
            }
            let length = if end.is_empty() {
                size_i - i // to the end
            } else {
                let mut e = parse_int(end).ok_or(RangeError::Invalid)?;
                if i > e {
                    return Err(RangeError::Invalid);
                }
                if e >= size_i {
                    e = size_i - 1;
                }
                e - i + 1
            };
            HttpRange {
                start: i as u64,
                length: length as u64,
            }
        };
        ranges.push(r);
    }
    if no_overlap && ranges.is_empty() {
        return Err(RangeError::NoOverlap);
    }
    Ok(ranges)
}

/// Go's `sumRangesSize`.
pub(crate) fn sum_ranges_size(ranges: &[HttpRange]) -> u64 {
    ranges.iter().fold(0u64, |a, r| a.saturating_add(r.length))
}

/// The multipart/byteranges framing Go's mime/multipart writer produces.
pub(crate) struct Multipart {
    pub(crate) boundary: String,
}

impl Multipart {
    /// A writer with a fresh random boundary: 30 random bytes in hex (Go's
    /// `randomBoundary`).
    pub(crate) fn new() -> Multipart {
        let mut b = [0u8; 30];
        fill_random(&mut b);
        let mut boundary = String::with_capacity(60);
        for x in b {
            let _ = write!(boundary, "{x:02x}");
        }
        Multipart { boundary }
    }

    /// The bytes before part `i`'s body: Go's `CreatePart` with the Content-Range and
    /// Content-Type headers, sorted.
    pub(crate) fn part_header(&self, i: usize, r: &HttpRange, ctype: &str, size: u64) -> String {
        let lead = if i == 0 { "" } else { "\r\n" };
        format!(
            "{lead}--{}\r\nContent-Range: {}\r\nContent-Type: {ctype}\r\n\r\n",
            self.boundary,
            r.content_range(size)
        )
    }

    /// The closing delimiter (Go's `Writer.Close`).
    pub(crate) fn close(&self) -> String {
        format!("\r\n--{}--\r\n", self.boundary)
    }

    /// Go's `rangesMIMESize`: the whole body's length.
    pub(crate) fn size(&self, ranges: &[HttpRange], ctype: &str, size: u64) -> u64 {
        let mut n = self.close().len() as u64;
        for (i, r) in ranges.iter().enumerate() {
            n += self.part_header(i, r, ctype, size).len() as u64 + r.length;
        }
        n
    }
}

/// Random bytes from the kernel (what Go's crypto/rand reads).
fn fill_random(buf: &mut [u8]) {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`, which
        // getrandom(2) writes at most that many bytes into.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            // getrandom only fails on EINTR (retry) or a kernel older than 3.17; fall
            // back to the hash seed std draws from the same source.
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            use std::hash::{BuildHasher, Hasher};
            for chunk in buf[filled..].chunks_mut(8) {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(filled);
                let v = h.finish().to_le_bytes();
                chunk.copy_from_slice(&v[..chunk.len()]);
            }
            return;
        }
        filled += n as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, length: u64) -> HttpRange {
        HttpRange { start, length }
    }

    // Go's ParseRangeTests.
    #[test]
    fn parses_go_table() {
        use RangeError::*;
        type Case = (&'static str, u64, Result<Vec<HttpRange>, RangeError>);
        let cases: Vec<Case> = vec![
            ("", 0, Ok(vec![])),
            ("", 1000, Ok(vec![])),
            ("foo", 0, Err(Invalid)),
            ("bytes=", 0, Ok(vec![])),
            ("bytes=7", 10, Err(Invalid)),
            ("bytes= 7 ", 10, Err(Invalid)),
            ("bytes=1-", 0, Err(NoOverlap)),
            ("bytes=5-4", 10, Err(Invalid)),
            ("bytes=0-2,5-4", 10, Err(Invalid)),
            ("bytes=2-5,4-3", 10, Err(Invalid)),
            ("bytes=--5,4--3", 10, Err(Invalid)),
            ("bytes=A-", 10, Err(Invalid)),
            ("bytes=A- ", 10, Err(Invalid)),
            ("bytes=A-Z", 10, Err(Invalid)),
            ("bytes= -Z", 10, Err(Invalid)),
            ("bytes=5-Z", 10, Err(Invalid)),
            ("bytes=Ran-dom, garbage", 10, Err(Invalid)),
            ("bytes=0x01-0x02", 10, Err(Invalid)),
            ("bytes=         ", 10, Ok(vec![])),
            ("bytes= , , ,   ", 10, Ok(vec![])),
            ("bytes=0-9", 10, Ok(vec![r(0, 10)])),
            ("bytes=0-", 10, Ok(vec![r(0, 10)])),
            ("bytes=5-", 10, Ok(vec![r(5, 5)])),
            ("bytes=0-20", 10, Ok(vec![r(0, 10)])),
            ("bytes=15-,0-5", 10, Ok(vec![r(0, 6)])),
            ("bytes=1-2,5-", 10, Ok(vec![r(1, 2), r(5, 5)])),
            ("bytes=-2 , 7-", 11, Ok(vec![r(9, 2), r(7, 4)])),
            (
                "bytes=0-0 ,2-2, 7-",
                11,
                Ok(vec![r(0, 1), r(2, 1), r(7, 4)]),
            ),
            ("bytes=-5", 10, Ok(vec![r(5, 5)])),
            // Go's zero-length suffix, and how it prints.
            ("bytes=-0", 10, Ok(vec![r(10, 0)])),
            ("bytes=-15", 10, Ok(vec![r(0, 10)])),
            ("bytes=0-499", 10000, Ok(vec![r(0, 500)])),
            ("bytes=500-999", 10000, Ok(vec![r(500, 500)])),
            ("bytes=-500", 10000, Ok(vec![r(9500, 500)])),
            ("bytes=9500-", 10000, Ok(vec![r(9500, 500)])),
            ("bytes=0-0,-1", 10000, Ok(vec![r(0, 1), r(9999, 1)])),
            (
                "bytes=500-600,601-999",
                10000,
                Ok(vec![r(500, 101), r(601, 399)]),
            ),
            (
                "bytes=500-700,601-999",
                10000,
                Ok(vec![r(500, 201), r(601, 399)]),
            ),
            // Match Apache laxity:
            (
                "bytes=   1 -2   ,  4- 5, 7 - 8 , ,,",
                11,
                Ok(vec![r(1, 2), r(4, 2), r(7, 2)]),
            ),
        ];
        for (s, size, want) in cases {
            assert_eq!(parse_range(s, size), want, "{s:?} {size}");
        }
        assert_eq!(r(10, 0).content_range(10), "bytes 10-9/10");
        assert_eq!(r(0, 0).content_range(0), "bytes 0--1/0");
    }

    #[test]
    fn frames_parts_as_go_multipart_does() {
        let m = Multipart {
            boundary: "B".into(),
        };
        let ranges = [r(0, 2), r(5, 3)];
        assert_eq!(
            m.part_header(0, &ranges[0], "text/plain", 10),
            "--B\r\nContent-Range: bytes 0-1/10\r\nContent-Type: text/plain\r\n\r\n"
        );
        assert_eq!(
            m.part_header(1, &ranges[1], "", 10),
            "\r\n--B\r\nContent-Range: bytes 5-7/10\r\nContent-Type: \r\n\r\n"
        );
        let body_len = m.part_header(0, &ranges[0], "t", 10).len()
            + 2
            + m.part_header(1, &ranges[1], "t", 10).len()
            + 3
            + m.close().len();
        assert_eq!(m.size(&ranges, "t", 10), body_len as u64);
        let a = Multipart::new().boundary;
        assert_eq!(a.len(), 60);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, Multipart::new().boundary);
    }
}
