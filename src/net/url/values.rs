//! Go's `url.Values`: a query string or form, parsed (`ParseQuery`) and encoded
//! (`Encode`).

use std::collections::btree_map::{self, BTreeMap};

use super::escape::{Mode, escape, unescape};

/// Query or form values: each key maps to a list of values. Go: `url.Values`
/// (`map[string][]string`).
///
/// Keys are kept sorted, so [`encode`](Values::encode) and iteration give Go's
/// `Encode` order (Go's map iterates in random order; its `Encode` sorts).
///
/// ```
/// use gonet::net::url::Values;
/// let mut v = Values::new();
/// v.set("name", "Ava");
/// v.add("friend", "Jess");
/// v.add("friend", "Sarah");
/// assert_eq!(v.get("name"), "Ava");
/// assert_eq!(v.get("nope"), "");
/// assert_eq!(v.values("friend"), ["Jess", "Sarah"]);
/// assert_eq!(v.encode(), "friend=Jess&friend=Sarah&name=Ava");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<String, Vec<String>>);

impl Values {
    /// No values. Go: `url.Values{}`.
    ///
    /// ```
    /// assert!(gonet::net::url::Values::new().is_empty());
    /// ```
    pub fn new() -> Values {
        Values(BTreeMap::new())
    }

    /// The first value for `key`, or "" if there is none. Go: `Values.Get`.
    ///
    /// ```
    /// let v = gonet::net::url::parse_query("a=1&a=2").unwrap();
    /// assert_eq!(v.get("a"), "1");
    /// ```
    pub fn get(&self, key: &str) -> &str {
        self.0
            .get(key)
            .and_then(|vs| vs.first())
            .map_or("", String::as_str)
    }

    /// Every value for `key` (empty if none). Go: `v[key]`.
    ///
    /// ```
    /// let v = gonet::net::url::parse_query("a=1&a=2").unwrap();
    /// assert_eq!(v.values("a"), ["1", "2"]);
    /// assert!(v.values("b").is_empty());
    /// ```
    pub fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    /// Replaces the values for `key` with `value`. Go: `Values.Set`.
    ///
    /// ```
    /// let mut v = gonet::net::url::parse_query("a=1&a=2").unwrap();
    /// v.set("a", "3");
    /// assert_eq!(v.values("a"), ["3"]);
    /// ```
    pub fn set(&mut self, key: &str, value: &str) {
        self.0.insert(key.to_string(), vec![value.to_string()]);
    }

    /// Appends `value` to the values for `key`. Go: `Values.Add`.
    ///
    /// ```
    /// let mut v = gonet::net::url::Values::new();
    /// v.add("a", "1");
    /// v.add("a", "2");
    /// assert_eq!(v.encode(), "a=1&a=2");
    /// ```
    pub fn add(&mut self, key: &str, value: &str) {
        match self.0.get_mut(key) {
            Some(vs) => vs.push(value.to_string()),
            None => {
                self.0.insert(key.to_string(), vec![value.to_string()]);
            }
        }
    }

    /// Removes `key`. Go: `Values.Del`.
    ///
    /// ```
    /// let mut v = gonet::net::url::parse_query("a=1").unwrap();
    /// v.del("a");
    /// assert!(!v.has("a"));
    /// ```
    pub fn del(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// Whether `key` is set (even to ""). Go: `Values.Has`.
    ///
    /// ```
    /// let v = gonet::net::url::parse_query("a=").unwrap();
    /// assert!(v.has("a"));
    /// assert_eq!(v.get("a"), "");
    /// ```
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// How many keys. Go: `len(v)`.
    ///
    /// ```
    /// assert_eq!(gonet::net::url::parse_query("a=1&b=2&a=3").unwrap().len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    ///
    /// ```
    /// assert!(gonet::net::url::parse_query("").unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys and their values, keys sorted. Go: `for k, vs := range v`.
    ///
    /// ```
    /// let v = gonet::net::url::parse_query("b=2&a=1").unwrap();
    /// let keys: Vec<&str> = v.iter().map(|(k, _)| k).collect();
    /// assert_eq!(keys, ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Encodes the values as `a=1&b=x+y`, sorted by key. Go: `Values.Encode`.
    ///
    /// ```
    /// let mut v = gonet::net::url::Values::new();
    /// v.set("q", "a b&c");
    /// assert_eq!(v.encode(), "q=a+b%26c");
    /// ```
    pub fn encode(&self) -> String {
        let mut buf = String::new();
        for (k, vs) in &self.0 {
            let key = escape(k, Mode::QueryComponent);
            for v in vs {
                if !buf.is_empty() {
                    buf.push('&');
                }
                buf.push_str(&key);
                buf.push('=');
                buf.push_str(&escape(v, Mode::QueryComponent));
            }
        }
        buf
    }

    /// Moves every value of `other` after this one's (Go's form merge of body and query).
    pub(crate) fn append(&mut self, other: &Values) {
        for (k, vs) in &other.0 {
            self.0
                .entry(k.clone())
                .or_default()
                .extend(vs.iter().cloned());
        }
    }
}

impl<'a> IntoIterator for &'a Values {
    type Item = (&'a String, &'a Vec<String>);
    type IntoIter = btree_map::Iter<'a, String, Vec<String>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<(String, String)> for Values {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Values {
        let mut v = Values::new();
        for (k, val) in iter {
            v.0.entry(k).or_default().push(val);
        }
        v
    }
}

/// Why a query did not parse: Go's `ParseQuery` errors (`invalid semicolon separator in
/// query`, or an [`EscapeError`](super::EscapeError)'s text).
///
/// ```
/// let err = gonet::net::url::parse_query("a=1;b=2").unwrap_err();
/// assert_eq!(err.to_string(), "invalid semicolon separator in query");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

/// Parses a URL-encoded query (`a=1&b=x+y`). Go: `url.ParseQuery`, which returns the
/// pairs it could parse together with the first error; here the error wins, and
/// [`Request::parse_form`](crate::net::http::Request::parse_form) keeps the parsed
/// pairs as Go does.
///
/// ```
/// let v = gonet::net::url::parse_query("x=1&y=a%20b").unwrap();
/// assert_eq!((v.get("x"), v.get("y")), ("1", "a b"));
/// ```
pub fn parse_query(query: &str) -> Result<Values, QueryError> {
    let mut v = Values::new();
    parse_query_into(&mut v, query)?;
    Ok(v)
}

/// Go: url.go `parseQuery`: every good pair lands in `m`; the first error is returned.
pub(crate) fn parse_query_into(m: &mut Values, query: &str) -> Result<(), QueryError> {
    let mut err: Option<QueryError> = None;
    for key in query.split('&') {
        if key.contains(';') {
            err = Some(QueryError("invalid semicolon separator in query".into()));
            continue;
        }
        if key.is_empty() {
            continue;
        }
        let (key, value) = key.split_once('=').unwrap_or((key, ""));
        let key = match unescape(key, Mode::QueryComponent) {
            Ok(k) => k,
            Err(e) => {
                err.get_or_insert_with(|| QueryError(e.to_string()));
                continue;
            }
        };
        let value = match unescape(value, Mode::QueryComponent) {
            Ok(v) => v,
            Err(e) => {
                err.get_or_insert_with(|| QueryError(e.to_string()));
                continue;
            }
        };
        m.0.entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl std::fmt::Display for super::escape::UnescapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            super::escape::UnescapeError::Escape(e) => e.fmt(f),
            super::escape::UnescapeError::Host(e) => e.fmt(f),
        }
    }
}
