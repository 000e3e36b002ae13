//! A request's trailer: Go's `Request.Trailer`, filled by the server when a chunked body
//! has been read to its end.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use super::header::Header;

/// The trailer fields of a request: Go's `Request.Trailer` (an `http.Header`).
///
/// On the server it starts with the keys the client declared in its `Trailer` header,
/// with no values, and gets the values after the last chunk once the handler has read
/// the body to its end, as in Go:
///
/// ```go
/// io.Copy(io.Discard, r.Body)
/// sum := r.Trailer.Get("X-Checksum")
/// ```
/// is
/// ```
/// # use gonet::net::http::{self, Request, ResponseWriter};
/// # fn handler(_w: &mut dyn ResponseWriter, r: &mut Request) {
/// std::io::copy(&mut r.body, &mut std::io::sink()).unwrap();
/// let sum = r.trailer.get("X-Checksum");
/// # let _ = sum;
/// # }
/// ```
///
/// The fields are shared with the body that fills them, so the reading methods return
/// owned values; a `Trailer` clone sees the same fields. For requests built by hand it
/// is a plain header:
///
/// ```
/// use gonet::net::http::Trailer;
/// let t = Trailer::new();
/// t.set("x-checksum", "abc");
/// assert_eq!(t.get("X-Checksum"), "abc");
/// assert_eq!(t.keys(), ["X-Checksum"]);
/// ```
#[derive(Clone, Default)]
pub struct Trailer(OnceLock<Arc<Mutex<Header>>>);

impl Trailer {
    /// An empty trailer. Go: `make(http.Header)`.
    ///
    /// ```
    /// assert!(gonet::net::http::Trailer::new().is_empty());
    /// ```
    pub fn new() -> Trailer {
        Trailer::default()
    }

    /// A trailer that holds `keys` with no values (the server's start: the keys a
    /// `Trailer` header declared).
    pub(crate) fn declared<'a>(keys: impl Iterator<Item = &'a str>) -> Trailer {
        let t = Trailer::new();
        {
            let mut h = t.lock_or_make();
            for k in keys {
                h.set_values(k, &[]);
            }
        }
        t
    }

    /// The fields, if any were ever set (an untouched trailer holds no memory).
    fn lock(&self) -> Option<MutexGuard<'_, Header>> {
        self.0
            .get()
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn lock_or_make(&self) -> MutexGuard<'_, Header> {
        self.0
            .get_or_init(Arc::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the fields read after the last chunk. Go: `mergeSetHeader(&rr.Trailer, hdr)`.
    pub(crate) fn fill<'a>(&self, fields: impl Iterator<Item = (&'a str, &'a [u8])>) {
        let mut h = self.lock_or_make();
        let mut seen: Vec<String> = Vec::new();
        for (k, v) in fields {
            let key = super::header::canonical_header_key(k);
            if !seen.contains(&key) {
                // A field sent replaces what was declared (Go sets each key's values).
                h.set_values(&key, &[]);
                seen.push(key.clone());
            }
            h.add(&key, &String::from_utf8_lossy(v));
        }
    }

    /// The first value of `key`, or "" if there is none. Go: `Trailer.Get`.
    ///
    /// ```
    /// assert_eq!(gonet::net::http::Trailer::default().get("X"), "");
    /// ```
    pub fn get(&self, key: &str) -> String {
        self.lock()
            .map_or_else(String::new, |h| h.get(key).to_string())
    }

    /// Every value of `key`. Go: `Trailer.Values`.
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.add("X", "1");
    /// t.add("X", "2");
    /// assert_eq!(t.values("x"), ["1", "2"]);
    /// ```
    pub fn values(&self, key: &str) -> Vec<String> {
        self.lock()
            .map_or_else(Vec::new, |h| h.values(key).to_vec())
    }

    /// Whether `key` is there (declared, possibly with no value yet). Go: `_, ok := r.Trailer[key]`.
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.set("X", "");
    /// assert!(t.has("x"));
    /// ```
    pub fn has(&self, key: &str) -> bool {
        self.lock().is_some_and(|h| h.has(key))
    }

    /// The keys, in the order they came. Go: `for k := range r.Trailer`.
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.set("b", "1");
    /// t.set("a", "2");
    /// assert_eq!(t.keys(), ["B", "A"]);
    /// ```
    pub fn keys(&self) -> Vec<String> {
        self.lock()
            .map_or_else(Vec::new, |h| h.keys().map(str::to_string).collect())
    }

    /// How many keys. Go: `len(r.Trailer)`.
    ///
    /// ```
    /// assert_eq!(gonet::net::http::Trailer::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().map_or(0, |h| h.len())
    }

    /// Whether there are no keys.
    ///
    /// ```
    /// assert!(gonet::net::http::Trailer::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the fields as a [`Header`]. Go: `r.Trailer.Clone()`.
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.set("X", "1");
    /// assert_eq!(t.header().get("X"), "1");
    /// ```
    pub fn header(&self) -> Header {
        self.lock().map_or_else(Header::new, |h| h.clone())
    }

    /// Replaces the values of `key`. Go: `Trailer.Set` (for a client's request).
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.set("X", "1");
    /// t.set("X", "2");
    /// assert_eq!(t.values("X"), ["2"]);
    /// ```
    pub fn set(&self, key: &str, value: &str) {
        self.lock_or_make().set(key, value);
    }

    /// Adds a value to `key`. Go: `Trailer.Add`.
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.add("X", "1");
    /// assert_eq!(t.get("X"), "1");
    /// ```
    pub fn add(&self, key: &str, value: &str) {
        self.lock_or_make().add(key, value);
    }

    /// Removes `key`. Go: `Trailer.Del`.
    ///
    /// ```
    /// let t = gonet::net::http::Trailer::new();
    /// t.set("X", "1");
    /// t.del("x");
    /// assert!(!t.has("X"));
    /// ```
    pub fn del(&self, key: &str) {
        if let Some(mut h) = self.lock() {
            h.del(key);
        }
    }
}

impl fmt::Debug for Trailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lock() {
            Some(h) => fmt::Debug::fmt(&*h, f),
            None => f.write_str("{}"),
        }
    }
}
