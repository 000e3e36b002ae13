//! Percent-encoding, as Go's net/url does it: `shouldEscape`, `escape`, `unescape` and
//! their public faces [`query_escape`], [`query_unescape`], [`path_escape`],
//! [`path_unescape`].
//!
//! Go's strings are bytes; Rust's are UTF-8. Decoding works on bytes, as Go's does, and a
//! decoded result that is not UTF-8 (`%FF`) has its bad bytes replaced by U+FFFD.

use std::borrow::Cow;
use std::fmt;

/// What a string is being escaped for. Go: url.go's `encoding` constants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Path,
    PathSegment,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

const UPPERHEX: &[u8; 16] = b"0123456789ABCDEF";

/// A malformed `%` escape: Go's `url.EscapeError`, whose text is
/// `invalid URL escape "%zz"`.
///
/// ```
/// let err = gonet::net::url::query_unescape("a%zzb").unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid URL escape "%zz""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscapeError(pub String);

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URL escape {}", quote(&self.0))
    }
}

impl std::error::Error for EscapeError {}

/// A byte a host name may not hold: Go's `url.InvalidHostError`, whose text is
/// `invalid character " " in host name`.
///
/// ```
/// let err = gonet::net::url::Url::parse("http://a b/").unwrap_err();
/// assert_eq!(err.to_string(), r#"parse "http://a b/": invalid character " " in host name"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidHostError(pub String);

impl fmt::Display for InvalidHostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid character {} in host name", quote(&self.0))
    }
}

impl std::error::Error for InvalidHostError {}

/// An error of `unescape`: one of Go's two escape errors.
#[derive(Debug)]
pub(crate) enum UnescapeError {
    Escape(EscapeError),
    Host(InvalidHostError),
}

impl From<UnescapeError> for Box<dyn std::error::Error + Send + Sync> {
    fn from(e: UnescapeError) -> Self {
        match e {
            UnescapeError::Escape(e) => Box::new(e),
            UnescapeError::Host(e) => Box::new(e),
        }
    }
}

pub(crate) fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

pub(crate) fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Whether `c` must be escaped in `mode`. Go: url.go `shouldEscape` (RFC 3986).
pub(crate) fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::PathSegment => return matches!(c, b'/' | b';' | b',' | b'?'),
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::QueryComponent => return true,
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Decodes `%XX` escapes (and `+` as a space in query components). Go: url.go `unescape`.
pub(crate) fn unescape(s: &str, mode: Mode) -> Result<Cow<'_, str>, UnescapeError> {
    let b = s.as_bytes();
    let mut n = 0;
    let mut has_plus = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                n += 1;
                if i + 2 >= b.len() || !is_hex(b[i + 1]) || !is_hex(b[i + 2]) {
                    let end = (i + 3).min(b.len());
                    return Err(UnescapeError::Escape(EscapeError(lossy(&b[i..end]))));
                }
                let esc = &b[i..i + 3];
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && esc != b"%25" {
                    return Err(UnescapeError::Escape(EscapeError(lossy(esc))));
                }
                if mode == Mode::Zone {
                    let v = unhex(b[i + 1]) << 4 | unhex(b[i + 2]);
                    if esc != b"%25" && v != b' ' && should_escape(v, Mode::Host) {
                        return Err(UnescapeError::Escape(EscapeError(lossy(esc))));
                    }
                }
                i += 3;
            }
            b'+' => {
                has_plus = mode == Mode::QueryComponent;
                i += 1;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(UnescapeError::Host(InvalidHostError(lossy(&b[i..i + 1]))));
                }
                i += 1;
            }
        }
    }
    if n == 0 && !has_plus {
        return Ok(Cow::Borrowed(s));
    }
    let mut t = Vec::with_capacity(b.len() - 2 * n);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                t.push(unhex(b[i + 1]) << 4 | unhex(b[i + 2]));
                i += 2;
            }
            b'+' if mode == Mode::QueryComponent => t.push(b' '),
            c => t.push(c),
        }
        i += 1;
    }
    Ok(Cow::Owned(match String::from_utf8(t) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Percent-encodes what `mode` does not allow. Go: url.go `escape`.
pub(crate) fn escape(s: &str, mode: Mode) -> Cow<'_, str> {
    let b = s.as_bytes();
    let (mut spaces, mut hexes) = (0, 0);
    for &c in b {
        if should_escape(c, mode) {
            if c == b' ' && mode == Mode::QueryComponent {
                spaces += 1;
            } else {
                hexes += 1;
            }
        }
    }
    if spaces == 0 && hexes == 0 {
        return Cow::Borrowed(s);
    }
    let mut t = String::with_capacity(b.len() + 2 * hexes);
    for &c in b {
        if c == b' ' && mode == Mode::QueryComponent {
            t.push('+');
        } else if should_escape(c, mode) {
            t.push('%');
            t.push(UPPERHEX[usize::from(c >> 4)] as char);
            t.push(UPPERHEX[usize::from(c & 15)] as char);
        } else {
            t.push(c as char);
        }
    }
    Cow::Owned(t)
}

/// Whether `s` is a valid encoding for `mode` (Go: url.go `validEncoded`).
pub(crate) fn valid_encoded(s: &str, mode: Mode) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

/// Escapes `s` so it can sit inside a URL query: spaces become `+`, everything but
/// letters, digits and `-_.~` becomes `%XX`.
///
/// Go: `url.QueryEscape`.
///
/// ```
/// use gonet::net::url;
/// assert_eq!(url::query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
/// ```
pub fn query_escape(s: &str) -> String {
    escape(s, Mode::QueryComponent).into_owned()
}

/// Decodes a query component: `%XX` escapes and `+` as a space.
///
/// Go: `url.QueryUnescape`; a malformed escape is an [`EscapeError`].
///
/// ```
/// use gonet::net::url;
/// assert_eq!(url::query_unescape("a+b%26c").unwrap(), "a b&c");
/// assert!(url::query_unescape("100%").is_err());
/// ```
pub fn query_unescape(s: &str) -> Result<String, EscapeError> {
    unescape(s, Mode::QueryComponent)
        .map(Cow::into_owned)
        .map_err(into_escape_error)
}

/// Escapes `s` so it can sit inside one path segment (`/` becomes `%2F`, a space `%20`).
///
/// Go: `url.PathEscape`.
///
/// ```
/// use gonet::net::url;
/// assert_eq!(url::path_escape("a b/c"), "a%20b%2Fc");
/// ```
pub fn path_escape(s: &str) -> String {
    escape(s, Mode::PathSegment).into_owned()
}

/// Decodes `%XX` escapes in a path segment; `+` stays `+`.
///
/// Go: `url.PathUnescape`.
///
/// ```
/// use gonet::net::url;
/// assert_eq!(url::path_unescape("a%20b+c").unwrap(), "a b+c");
/// ```
pub fn path_unescape(s: &str) -> Result<String, EscapeError> {
    unescape(s, Mode::PathSegment)
        .map(Cow::into_owned)
        .map_err(into_escape_error)
}

fn into_escape_error(e: UnescapeError) -> EscapeError {
    match e {
        UnescapeError::Escape(e) => e,
        // Only host modes report host errors.
        UnescapeError::Host(h) => EscapeError(h.0),
    }
}

/// Go's `strconv.Quote`: a double-quoted string with Go's escapes (`\"`, `\\`, `\n`,
/// `\x01`, `\u00ad`), printable characters as they are.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            '\u{fffd}' => out.push('\u{fffd}'),
            c if c.is_control() || c == '\u{ad}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_like_go() {
        assert_eq!(quote("a\"b\\c\n\x01\x7f é"), r#""a\"b\\c\n\x01\x7f é""#);
    }

    #[test]
    fn escapes_round_trip() {
        for s in ["", "a b", "100%", "é/ü?&=#+", "~-_."] {
            assert_eq!(query_unescape(&query_escape(s)).unwrap(), s);
            assert_eq!(path_unescape(&path_escape(s)).unwrap(), s);
        }
    }

    #[test]
    fn bad_escapes_name_the_escape() {
        assert_eq!(query_unescape("%").unwrap_err().0, "%");
        assert_eq!(query_unescape("x%4").unwrap_err().0, "%4");
        assert_eq!(query_unescape("%4g1").unwrap_err().0, "%4g");
    }
}
