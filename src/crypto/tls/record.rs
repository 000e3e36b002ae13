//! The record layer's framing, watched as bytes go into rustls: Go's checks on the first
//! record (`readRecordOrCCS` in conn.go: "first record does not look like a TLS
//! handshake", SSLv2, oversized records), whether end of stream fell on a record
//! boundary (Go's `io.EOF` versus `io.ErrUnexpectedEOF`), and the ClientHello's
//! `supported_versions` for Go's "client offered only unsupported versions" text.
//!
//! rustls decrypts; this only reads the 5-byte headers as they pass.

/// A record header's length limit in TLS 1.2 (Go's `maxCiphertext`: 2^14 + 2048).
const MAX_CIPHERTEXT: usize = 16384 + 2048;
/// The handshake record type.
const TYPE_HANDSHAKE: u8 = 22;
/// The alert record type.
const TYPE_ALERT: u8 = 21;

/// Follows the record framing of one direction of a connection.
#[derive(Debug, Default)]
pub(crate) struct RecordTracker {
    /// Bytes of the current header collected so far.
    header: [u8; 5],
    have: usize,
    /// Body bytes still due for the current record.
    body_left: usize,
    /// Records whose header has been read.
    records: u64,
    /// The length field of the last header.
    pub(crate) last_len: usize,
    /// The first handshake record's bytes (header and body), kept while `capture` is on.
    captured: Vec<u8>,
    capture: bool,
}

/// What was wrong with a record header, in Go's words (without the `tls: ` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadHeader {
    pub(crate) msg: String,
    pub(crate) header: [u8; 5],
    /// Whether Go would offer the connection for a plaintext answer (`RecordHeaderError.Conn`).
    pub(crate) plaintext_peer: bool,
}

impl RecordTracker {
    /// A tracker that keeps a copy of the first record (for the ClientHello).
    pub(crate) fn capturing() -> RecordTracker {
        RecordTracker {
            capture: true,
            ..RecordTracker::default()
        }
    }

    /// Stops keeping the first record and frees its copy.
    pub(crate) fn stop_capture(&mut self) {
        self.capture = false;
        self.captured = Vec::new();
    }

    /// The captured first record, if complete.
    pub(crate) fn first_record(&self) -> &[u8] {
        &self.captured
    }

    /// Whether the bytes seen so far end exactly at a record boundary.
    pub(crate) fn at_boundary(&self) -> bool {
        self.have == 0 && self.body_left == 0
    }

    /// Looks at `bytes`, the next ones of the stream. Fails on the first header that
    /// Go would refuse.
    pub(crate) fn observe(&mut self, mut bytes: &[u8]) -> Result<(), BadHeader> {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len());
                if self.capture && self.records == 1 {
                    self.captured.extend_from_slice(&bytes[..n]);
                }
                self.body_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (5 - self.have).min(bytes.len());
            self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have < 5 {
                // Go looks at the first byte alone for SSLv2 only once five are there;
                // wait for the rest.
                return Ok(());
            }
            self.have = 0;
            self.records += 1;
            let h = self.header;
            let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
            self.last_len = len;
            if self.records == 1 {
                check_first(&h)?;
                if self.capture {
                    self.captured.extend_from_slice(&h);
                }
            }
            self.body_left = len;
        }
        Ok(())
    }
}

/// Go's checks on the first record header (conn.go, `readRecordOrCCS`).
fn check_first(h: &[u8; 5]) -> Result<(), BadHeader> {
    let typ = h[0];
    if typ == 0x80 {
        return Err(BadHeader {
            msg: "unsupported SSLv2 handshake received".into(),
            header: *h,
            plaintext_peer: false,
        });
    }
    let vers = u16::from_be_bytes([h[1], h[2]]);
    if (typ != TYPE_ALERT && typ != TYPE_HANDSHAKE) || vers >= 0x1000 {
        return Err(BadHeader {
            msg: "first record does not look like a TLS handshake".into(),
            header: *h,
            plaintext_peer: true,
        });
    }
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    if len > MAX_CIPHERTEXT {
        return Err(BadHeader {
            msg: format!("oversized record received with length {len}"),
            header: *h,
            plaintext_peer: false,
        });
    }
    Ok(())
}

/// The versions a ClientHello offers: its `supported_versions` extension, else the
/// legacy version field (Go's `clientVersions` in `handshake_server.go`, which expands a
/// legacy version into every version up to it). `record` is the whole first record.
pub(crate) fn client_hello_versions(record: &[u8]) -> Option<Vec<u16>> {
    let mut r = Reader(record.get(5..)?);
    // Handshake header: type 1 (ClientHello), 3-byte length.
    if r.u8()? != 1 {
        return None;
    }
    let _len = r.take(3)?;
    let legacy = r.u16()?;
    r.take(32)?; // random
    let sid = usize::from(r.u8()?);
    r.take(sid)?;
    let suites = usize::from(r.u16()?);
    r.take(suites)?;
    let comp = usize::from(r.u8()?);
    r.take(comp)?;
    if let Some(ext_len) = r.u16() {
        let mut exts = Reader(r.take(usize::from(ext_len))?);
        while let Some(typ) = exts.u16() {
            let len = usize::from(exts.u16()?);
            let body = exts.take(len)?;
            if typ == 43 {
                let mut b = Reader(body);
                let n = usize::from(b.u8()?);
                let mut list = Reader(b.take(n)?);
                let mut out = Vec::new();
                while let Some(v) = list.u16() {
                    out.push(v);
                }
                return Some(out);
            }
        }
    }
    // Go's supportedVersionsFromMax: every version from `legacy` down to TLS 1.0.
    let mut out = Vec::new();
    for v in [0x0304u16, 0x0303, 0x0302, 0x0301] {
        if v <= legacy {
            out.push(v);
        }
    }
    Some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

/// What the record layer's checks say about a stream that arrives in `chunks`: the
/// first header Go would refuse (its message), whether the stream ends on a record
/// boundary, and the versions of the ClientHello in its first record. For the fuzz
/// target and the proptests; not part of the API.
pub fn observe_stream(chunks: &[&[u8]]) -> (Result<(), String>, bool, Option<Vec<u16>>) {
    let mut t = RecordTracker::capturing();
    for c in chunks {
        if let Err(bad) = t.observe(c) {
            return (Err(bad.msg), t.at_boundary(), None);
        }
    }
    let versions = client_hello_versions(t.first_record());
    (Ok(()), t.at_boundary(), versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_http_is_not_a_handshake() {
        let mut t = RecordTracker::default();
        let e = t.observe(b"GET / HTTP/1.1\r\n").unwrap_err();
        assert_eq!(e.msg, "first record does not look like a TLS handshake");
        assert_eq!(&e.header, b"GET /");
        assert!(e.plaintext_peer);
    }

    #[test]
    fn headers_split_across_calls_and_boundaries() {
        let mut t = RecordTracker::default();
        t.observe(&[22, 3]).unwrap();
        assert!(!t.at_boundary());
        t.observe(&[1, 0, 2, 9]).unwrap();
        assert!(!t.at_boundary());
        t.observe(&[9, 23, 3, 3, 0, 0]).unwrap();
        assert!(t.at_boundary());
        assert_eq!(t.last_len, 0);
    }

    #[test]
    fn sslv2_and_oversize() {
        let mut t = RecordTracker::default();
        assert_eq!(
            t.observe(&[0x80, 0x2e, 1, 3, 1]).unwrap_err().msg,
            "unsupported SSLv2 handshake received"
        );
        let mut t = RecordTracker::default();
        assert_eq!(
            t.observe(&[22, 3, 1, 0xff, 0xff]).unwrap_err().msg,
            "oversized record received with length 65535"
        );
    }

    #[test]
    fn versions_from_legacy_field() {
        // A minimal ClientHello without extensions, legacy version TLS 1.2.
        let mut body = vec![1, 0, 0, 0, 3, 3];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        let mut rec = vec![22, 3, 1, 0, body.len() as u8];
        rec.extend_from_slice(&body);
        assert_eq!(client_hello_versions(&rec), Some(vec![0x303, 0x302, 0x301]));
        assert_eq!(client_hello_versions(&rec[..20]), None);
    }
}
