//! Go's `http.Header` (header.go) and textproto's canonical keys
//! (`CanonicalMIMEHeaderKey`).

use std::fmt;
use std::io;

/// Header fields: each key (in Go's canonical form, `Content-Type`) maps to its values.
///
/// Go: `http.Header` (`map[string][]string`). Keys given to every method are
/// canonicalized as Go's textproto does (`content-type` and `CONTENT-TYPE` both mean
/// `Content-Type`); a key holding a byte that is not a token character (a space, say) is
/// kept as it is, also as in Go. Iteration follows insertion order; [`write`](Header::write)
/// sorts by key, as Go's does.
///
/// The server reuses one `Header` per connection, so steady-state requests allocate
/// nothing for their fields.
///
/// ```
/// use gonet::net::http::Header;
/// let mut h = Header::new();
/// h.set("content-type", "text/plain");
/// h.add("X-Tag", "a");
/// h.add("x-tag", "b");
/// assert_eq!(h.get("Content-Type"), "text/plain");
/// assert_eq!(h.values("X-Tag"), ["a", "b"]);
/// assert_eq!(h.get("Missing"), "");
/// let mut out = Vec::new();
/// h.write(&mut out).unwrap();
/// assert_eq!(out, b"Content-Type: text/plain\r\nX-Tag: a\r\nX-Tag: b\r\n");
/// ```
#[derive(Default)]
pub struct Header {
    /// `entries[..len]` are live; the rest keep their memory for reuse.
    entries: Vec<Entry>,
    len: usize,
}

#[derive(Default)]
struct Entry {
    key: String,
    /// `key` is a valid field name (httpguts.ValidHeaderFieldName), found when the key
    /// was set: the writer skips invalid ones without scanning every key again.
    valid: bool,
    /// `vals[..n]` are live.
    vals: Vec<String>,
    n: usize,
}

impl Entry {
    fn push(&mut self, v: &str) {
        if self.n < self.vals.len() {
            let s = &mut self.vals[self.n];
            s.clear();
            s.push_str(v);
        } else {
            self.vals.push(v.to_string());
        }
        self.n += 1;
    }

    fn live(&self) -> &[String] {
        &self.vals[..self.n]
    }
}

impl Header {
    /// An empty header. Go: `http.Header{}` / `make(http.Header)`.
    ///
    /// ```
    /// assert!(gonet::net::http::Header::new().is_empty());
    /// ```
    pub fn new() -> Header {
        Header::default()
    }

    fn find(&self, key: &str) -> Option<usize> {
        self.entries[..self.len]
            .iter()
            .position(|e| canonical_eq(&e.key, key))
    }

    fn new_entry(&mut self, key: &str) -> &mut Entry {
        if self.len == self.entries.len() {
            self.entries.push(Entry::default());
        }
        let at = self.len;
        self.len += 1;
        // A reused slot often held this very key on the connection's last request; if
        // not, a later spare one may (a deleted key, such as the request's Host, moves
        // past the live ones): swap it in rather than canonicalize and copy the key.
        if !canonical_eq(&self.entries[at].key, key) || self.entries[at].key.is_empty() {
            let spare = self.entries[at + 1..]
                .iter()
                .position(|e| !e.key.is_empty() && e.key.as_bytes() == key.as_bytes());
            match spare {
                Some(j) => self.entries.swap(at, at + 1 + j),
                None => {
                    let e = &mut self.entries[at];
                    e.key.clear();
                    e.valid = push_canonical(&mut e.key, key);
                }
            }
        }
        let e = &mut self.entries[at];
        e.n = 0;
        e
    }

    fn entry(&mut self, key: &str) -> &mut Entry {
        match self.find(key) {
            Some(i) => &mut self.entries[i],
            None => self.new_entry(key),
        }
    }

    /// Adds `value` to the values of `key`. Go: `Header.Add`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.add("Vary", "Accept");
    /// h.add("vary", "Origin");
    /// assert_eq!(h.values("Vary"), ["Accept", "Origin"]);
    /// ```
    pub fn add(&mut self, key: &str, value: &str) {
        self.entry(key).push(value);
    }

    /// Replaces the values of `key` with `value`. Go: `Header.Set`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.add("A", "1");
    /// h.set("a", "2");
    /// assert_eq!(h.values("A"), ["2"]);
    /// ```
    pub fn set(&mut self, key: &str, value: &str) {
        let e = self.entry(key);
        e.n = 0;
        e.push(value);
    }

    /// Replaces the values of `key` with `values`; an empty slice keeps the key with no
    /// values. Go: `h[key] = values`, and so `w.Header()["Date"] = nil`, which tells the
    /// server not to add its own `Date`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set_values("Date", &[]);
    /// assert!(h.has("Date"));
    /// assert_eq!(h.get("Date"), "");
    /// ```
    pub fn set_values(&mut self, key: &str, values: &[&str]) {
        let e = self.entry(key);
        e.n = 0;
        for v in values {
            e.push(v);
        }
    }

    /// The first value of `key`, or "" if there is none. Go: `Header.Get`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("Host", "example.com");
    /// assert_eq!(h.get("host"), "example.com");
    /// ```
    pub fn get(&self, key: &str) -> &str {
        match self.find(key) {
            Some(i) => self.entries[i].live().first().map_or("", String::as_str),
            None => "",
        }
    }

    /// Every value of `key` (empty if none). Go: `Header.Values`.
    ///
    /// ```
    /// let h = gonet::net::http::Header::new();
    /// assert!(h.values("Accept").is_empty());
    /// ```
    pub fn values(&self, key: &str) -> &[String] {
        match self.find(key) {
            Some(i) => self.entries[i].live(),
            None => &[],
        }
    }

    /// Whether `key` is present (possibly with no values). Go: `_, ok := h[key]`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("A", "");
    /// assert!(h.has("a"));
    /// assert!(!h.has("b"));
    /// ```
    pub fn has(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// Removes `key`. Go: `Header.Del`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("A", "1");
    /// h.del("a");
    /// assert!(!h.has("A"));
    /// ```
    pub fn del(&mut self, key: &str) {
        if let Some(i) = self.find(key) {
            // Keep the removed entry's memory past the live ones.
            self.entries[i..self.len].rotate_left(1);
            self.len -= 1;
        }
    }

    /// How many keys. Go: `len(h)`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.add("A", "1");
    /// h.add("A", "2");
    /// assert_eq!(h.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no keys.
    ///
    /// ```
    /// assert!(gonet::net::http::Header::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The keys and their values, in insertion order. Go: `for k, vs := range h`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("B", "2");
    /// h.set("A", "1");
    /// let keys: Vec<&str> = h.iter().map(|(k, _)| k).collect();
    /// assert_eq!(keys, ["B", "A"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> + '_ {
        self.entries[..self.len]
            .iter()
            .map(|e| (e.key.as_str(), e.live()))
    }

    /// The keys, in insertion order.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("x-a", "1");
    /// assert_eq!(h.keys().collect::<Vec<_>>(), ["X-A"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries[..self.len].iter().map(|e| e.key.as_str())
    }

    /// Removes every key, keeping the memory for reuse.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("A", "1");
    /// h.clear();
    /// assert!(h.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Writes the header in wire format (`Key: value\r\n`), keys sorted, newlines in
    /// values replaced by spaces, values trimmed, keys that are not valid field names
    /// skipped. Go: `Header.Write`.
    ///
    /// ```
    /// let mut h = gonet::net::http::Header::new();
    /// h.set("B", " two\nlines ");
    /// h.set("A", "1");
    /// let mut out = Vec::new();
    /// h.write(&mut out).unwrap();
    /// assert_eq!(out, b"A: 1\r\nB: two lines\r\n");
    /// ```
    pub fn write<W: io::Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        let mut buf = Vec::new();
        self.write_subset(&mut buf, |_| false);
        w.write_all(&buf)
    }

    /// Appends the fields whose key `exclude` does not pick, sorted by key, to `out`.
    /// Go: `Header.writeSubset`.
    pub(crate) fn write_subset(&self, out: &mut Vec<u8>, exclude: impl Fn(&str) -> bool) {
        // Sorted without allocating for the usual handful of keys.
        let live = &self.entries[..self.len];
        if let [e] = live {
            // The usual response header: one field, nothing to sort.
            if e.valid && !exclude(&e.key) {
                for v in e.live() {
                    write_field(out, &e.key, v);
                }
            }
            return;
        }
        let mut order: [u16; 32] = [0; 32];
        let mut idx_heap: Vec<u16>;
        let idx: &mut [u16] = if live.len() <= order.len() {
            for (i, o) in order.iter_mut().enumerate().take(live.len()) {
                *o = i as u16;
            }
            &mut order[..live.len()]
        } else {
            idx_heap = (0..live.len() as u16).collect();
            &mut idx_heap
        };
        if idx.len() > 1 {
            idx.sort_unstable_by(|&a, &b| live[a as usize].key.cmp(&live[b as usize].key));
        }
        for &i in idx.iter() {
            let e = &live[i as usize];
            if !e.valid || exclude(&e.key) {
                continue;
            }
            for v in e.live() {
                write_field(out, &e.key, v);
            }
        }
    }

    /// Makes this header a copy of `other`, reusing this one's memory (keys are copied
    /// as they are). Go: `Header.Clone`, without the allocation.
    pub(crate) fn copy_from(&mut self, other: &Header) {
        self.len = 0;
        for src in &other.entries[..other.len] {
            if self.len == self.entries.len() {
                self.entries.push(Entry::default());
            }
            let e = &mut self.entries[self.len];
            self.len += 1;
            e.key.clear();
            e.key.push_str(&src.key);
            e.valid = src.valid;
            e.n = 0;
            for v in src.live() {
                e.push(v);
            }
        }
    }

    /// Adds a field as parsed from the wire: the name canonicalized, the value as sent
    /// (bytes that are not UTF-8 become U+FFFD).
    #[allow(dead_code)] // the server's request parser
    pub(crate) fn add_wire(&mut self, name: &str, value: &[u8]) {
        let e = self.entry(name);
        if value.is_ascii() {
            // SAFETY: ASCII bytes are valid UTF-8 (and `is_ascii` is cheaper than
            // `from_utf8` on the short values a request carries).
            e.push(unsafe { std::str::from_utf8_unchecked(value) });
            return;
        }
        match std::str::from_utf8(value) {
            Ok(v) => e.push(v),
            Err(_) => e.push(&String::from_utf8_lossy(value)),
        }
    }
}

/// `key: value\r\n`, the value as Go writes it.
fn write_field(out: &mut Vec<u8>, key: &str, v: &str) {
    out.reserve(key.len() + v.len() + 4);
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b": ");
    write_value(out, v);
    out.extend_from_slice(b"\r\n");
}

/// A value as Go writes it: `\r` and `\n` as spaces, leading and trailing ASCII space
/// trimmed.
fn write_value(out: &mut Vec<u8>, v: &str) {
    let b = v.as_bytes();
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    if let (Some(first), Some(last)) = (b.first(), b.last()) {
        // The usual value: nothing to trim, no CR or LF (nor any other byte below 0x0e).
        if !is_space(first) && !is_space(last) && !any_byte_below(b, 0x0e) {
            out.extend_from_slice(b);
            return;
        }
    }
    let start = b.iter().position(|c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_space(c))
        .map_or(start, |i| i + 1);
    let v = &b[start..end];
    if !v.contains(&b'\r') && !v.contains(&b'\n') {
        out.extend_from_slice(v);
        return;
    }
    out.extend(
        v.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
    );
}

/// Whether a byte of `b` is below `n` (`n` <= 0x80), eight bytes at a time: the
/// "has less" bit trick (exact for the word as a whole).
fn any_byte_below(b: &[u8], n: u8) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let sub = ONES * u64::from(n);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_ne_bytes(w);
        if x.wrapping_sub(sub) & !x & HIGHS != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&c| c < n)
}

impl Clone for Header {
    fn clone(&self) -> Header {
        let mut h = Header::new();
        for (k, vs) in self.iter() {
            let e = h.new_entry(k);
            // The key is already canonical (or deliberately not): keep it as it is.
            e.key.clear();
            e.key.push_str(k);
            e.valid = valid_header_field_name(k);
            for v in vs {
                e.push(v);
            }
        }
        h
    }
}

impl PartialEq for Header {
    fn eq(&self, other: &Header) -> bool {
        self.len == other.len
            && self
                .iter()
                .all(|(k, vs)| other.values(k) == vs && other.has(k))
    }
}

impl Eq for Header {}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Header {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Header {
        let mut h = Header::new();
        for (k, v) in iter {
            h.add(k, v);
        }
        h
    }
}

/// Go's token characters (RFC 7230 `tchar`): what a header field name is made of.
pub(crate) fn is_token_byte(c: u8) -> bool {
    TOKEN[usize::from(c)]
}

/// `is_token_byte` as a table: it runs for every byte of every key the server reads or
/// writes.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        c += 1;
    }
    t
};

/// Go: httpguts.ValidHeaderFieldName.
pub(crate) fn valid_header_field_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// `key` in Go's canonical form: the first letter and every letter after a `-` upper
/// case, the rest lower case (`accept-encoding` -> `Accept-Encoding`). A key holding a
/// byte that is not a token character is returned unchanged.
///
/// Go: `http.CanonicalHeaderKey` (textproto's `CanonicalMIMEHeaderKey`).
///
/// ```
/// use gonet::net::http::canonical_header_key;
/// assert_eq!(canonical_header_key("x-forwarded-for"), "X-Forwarded-For");
/// assert_eq!(canonical_header_key("bad key"), "bad key");
/// ```
pub fn canonical_header_key(key: &str) -> String {
    let mut s = String::with_capacity(key.len());
    push_canonical(&mut s, key);
    s
}

/// Appends `key` in canonical form; says whether it is a valid field name (not empty,
/// token bytes only).
fn push_canonical(out: &mut String, key: &str) -> bool {
    match canonical_kind(key.as_bytes()) {
        // Already canonical (what clients and handlers mostly send).
        Kind::Canonical => {
            out.push_str(key);
            !key.is_empty()
        }
        // Kept as it is.
        Kind::NotToken => {
            out.push_str(key);
            false
        }
        Kind::Other => {
            out.reserve(key.len());
            let mut upper = true;
            for c in key.bytes() {
                let c = if upper {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
                out.push(char::from(c));
                upper = c == b'-';
            }
            true
        }
    }
}

#[derive(PartialEq, Eq)]
enum Kind {
    Canonical,
    /// Holds a byte that is not a token character: Go keeps such a key as it is.
    NotToken,
    /// Token bytes, to be canonicalized.
    Other,
}

fn canonical_kind(key: &[u8]) -> Kind {
    let mut upper = true;
    let mut canonical = true;
    for &c in key {
        if !is_token_byte(c) {
            return Kind::NotToken;
        }
        if (upper && c.is_ascii_lowercase()) || (!upper && c.is_ascii_uppercase()) {
            canonical = false;
        }
        upper = c == b'-';
    }
    if canonical {
        Kind::Canonical
    } else {
        Kind::Other
    }
}

/// Whether `key`, canonicalized, equals `stored` (which is canonical, or holds a
/// non-token byte and is compared exactly): without building the canonical form.
fn canonical_eq(stored: &str, key: &str) -> bool {
    let (s, k) = (stored.as_bytes(), key.as_bytes());
    if s.len() != k.len() {
        return false;
    }
    if s == k {
        return true;
    }
    // The letters first (keys of one length mostly differ early), then the check that
    // `key` is made of token bytes: if not, its canonical form is itself, which is not
    // `stored`.
    let mut upper = true;
    for (&a, &b) in s.iter().zip(k) {
        let b = if upper {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        };
        if a != b {
            return false;
        }
        upper = b == b'-';
    }
    k.iter().copied().all(is_token_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys_like_go() {
        for (k, want) in [
            ("a-b-c", "A-B-C"),
            ("uSER-aGENT", "User-Agent"),
            ("foo_bar", "Foo_bar"),
            ("foo bar", "foo bar"),
            ("", ""),
            ("x--y", "X--Y"),
            ("WWW-Authenticate", "Www-Authenticate"),
        ] {
            assert_eq!(canonical_header_key(k), want, "{k}");
        }
    }

    #[test]
    fn memory_is_reused_after_clear() {
        let mut h = Header::new();
        h.add("A", "1");
        h.add("B", "2");
        h.clear();
        h.add("c", "3");
        assert_eq!(h.len(), 1);
        assert_eq!(h.get("C"), "3");
        assert_eq!(h.get("A"), "");
        h.del("C");
        h.add("b", "x");
        assert_eq!(h.values("B"), ["x"]);
    }

    #[test]
    fn bytes_below_like_a_plain_scan() {
        for len in 0..24 {
            for at in 0..len {
                for c in [0u8, 9, 10, 13, 14, 31, 32, 127, 128, 255] {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    assert_eq!(any_byte_below(&b, 0x0e), c < 0x0e, "{b:?}");
                    assert_eq!(any_byte_below(&b, 0x80), c < 0x80 || len > 1, "{b:?}");
                }
            }
        }
    }

    #[test]
    fn deleted_keys_come_back_in_order() {
        let mut h = Header::new();
        for _ in 0..3 {
            h.clear();
            h.add_wire("Connection", b"keep-alive");
            h.add_wire("host", b"x");
            h.add_wire("User-Agent", b"ua");
            h.add_wire("bad key", b"v");
            assert_eq!(h.get("Host"), "x");
            h.del("Host");
            let keys: Vec<&str> = h.keys().collect();
            assert_eq!(keys, ["Connection", "User-Agent", "bad key"]);
            let mut out = Vec::new();
            h.write(&mut out).unwrap();
            assert_eq!(out, b"Connection: keep-alive\r\nUser-Agent: ua\r\n");
        }
        assert!(canonical_eq("Host", "hOST"));
        assert!(!canonical_eq("Ho t", "ho t"));
        assert!(canonical_eq("Ho t", "Ho t"));
    }

    #[test]
    fn many_keys_sort_past_the_stack_buffer() {
        let mut h = Header::new();
        for i in (0..40).rev() {
            h.set(&format!("K{i:02}"), "v");
        }
        let mut out = Vec::new();
        h.write(&mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("K00: v\r\nK01: v\r\n"), "{s}");
    }
}
