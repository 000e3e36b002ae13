//! HTTP cookies: Go's net/http/cookie.go.
//!
//! [`Cookie`] has Go's fields (Go 1.23's, with `quoted` and `partitioned`); its
//! `to_string()` is Go's `String()`, the Set-Cookie value, with Go's sanitizing (bytes
//! that may not appear are dropped and logged, a bad Domain is dropped, a value with a
//! space or comma is quoted). [`parse_cookie`] and [`parse_set_cookie`] are Go's
//! `ParseCookie` and `ParseSetCookie`; the server reads a request's cookies with Go's
//! `readCookies` rules (bad pairs skipped, at most 3000 cookies).

use super::handler::ResponseWriter;
use super::pattern::go_quote;
use super::request::Request;
use super::time_format::{format_http_time, parse_cookie_expires, year};
use std::fmt;
use std::io;
use std::time::SystemTime;

/// An HTTP cookie, as sent in a response's Set-Cookie header or a request's Cookie
/// header (Go's `http.Cookie`; see RFC 6265).
///
/// ```
/// use gonet::net::http::{Cookie, SameSite};
/// let c = Cookie {
///     name: "session".into(),
///     value: "abc123".into(),
///     path: "/".into(),
///     max_age: 3600,
///     http_only: true,
///     same_site: SameSite::LaxMode,
///     ..Default::default()
/// };
/// assert_eq!(c.to_string(), "session=abc123; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cookie {
    /// The cookie's name: an HTTP token.
    pub name: String,
    /// The cookie's value.
    pub value: String,
    /// Whether the value was (or is to be) written in double quotes.
    pub quoted: bool,
    /// Optional Path attribute.
    pub path: String,
    /// Optional Domain attribute.
    pub domain: String,
    /// Optional Expires attribute (`None` is Go's zero time: no attribute).
    pub expires: Option<SystemTime>,
    /// The Expires attribute as it was read, for parsed cookies only.
    pub raw_expires: String,
    /// 0: no Max-Age attribute; < 0: delete the cookie now (`Max-Age=0`); > 0: its
    /// lifetime in seconds.
    pub max_age: i64,
    /// The Secure attribute.
    pub secure: bool,
    /// The HttpOnly attribute.
    pub http_only: bool,
    /// The SameSite attribute.
    pub same_site: SameSite,
    /// The Partitioned attribute (CHIPS; needs `secure`).
    pub partitioned: bool,
    /// The whole Set-Cookie line, for parsed cookies only.
    pub raw: String,
    /// The raw text of attribute-value pairs the parser did not understand.
    pub unparsed: Vec<String>,
}

/// The SameSite attribute (Go's `http.SameSite` and its `SameSite*Mode` constants).
///
/// ```
/// use gonet::net::http::{Cookie, SameSite};
/// let c = Cookie { name: "a".into(), value: "b".into(), same_site: SameSite::StrictMode, ..Default::default() };
/// assert_eq!(c.to_string(), "a=b; SameSite=Strict");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Go's zero value: no attribute.
    #[default]
    Unset,
    /// `SameSiteDefaultMode`: no attribute either (the browser's default).
    DefaultMode,
    /// `SameSite=Lax`.
    LaxMode,
    /// `SameSite=Strict`.
    StrictMode,
    /// `SameSite=None`.
    NoneMode,
}

/// A cookie parse error: Go's error values (`http: blank cookie`, `http: '=' not found
/// in cookie`, `http: invalid cookie name`, `http: invalid cookie value`, `http: number
/// of cookies exceeded limit`) and `Valid`'s texts.
///
/// ```
/// use gonet::net::http::{parse_set_cookie, CookieError};
/// let e = parse_set_cookie("no-equals-sign").unwrap_err();
/// let ce = e.get_ref().and_then(|e| e.downcast_ref::<CookieError>()).unwrap();
/// assert_eq!(ce.to_string(), "http: '=' not found in cookie");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieError(String);

impl CookieError {
    fn io(msg: impl Into<String>) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, CookieError(msg.into()))
    }
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CookieError {}

/// Go's `defaultCookieMaxNum`: more cookies than this in one request (or response) and
/// none are read.
pub(crate) const DEFAULT_COOKIE_MAX_NUM: usize = 3000;

/// Go's `textproto.TrimString`: ASCII space, tab, CR and LF off both ends.
pub(crate) fn trim_string(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// A non-empty HTTP token (Go's `isToken` / `validMethod`).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(super::header::is_token_byte)
}

/// Go's `ParseCookie`: every cookie of a Cookie header value, or the first error.
///
/// ```
/// let cs = gonet::net::http::parse_cookie("a=1; b=\"two\"").unwrap();
/// assert_eq!((cs[1].name.as_str(), cs[1].value.as_str(), cs[1].quoted), ("b", "two", true));
/// let e = gonet::net::http::parse_cookie("a").unwrap_err();
/// assert_eq!(e.to_string(), "http: '=' not found in cookie");
/// ```
pub fn parse_cookie(line: &str) -> io::Result<Vec<Cookie>> {
    if line.matches(';').count() + 1 > DEFAULT_COOKIE_MAX_NUM {
        return Err(CookieError::io("http: number of cookies exceeded limit"));
    }
    let line = trim_string(line);
    if line.is_empty() {
        return Err(CookieError::io("http: blank cookie"));
    }
    let mut cookies = Vec::new();
    for s in line.split(';') {
        let s = trim_string(s);
        let Some((name, value)) = s.split_once('=') else {
            return Err(CookieError::io("http: '=' not found in cookie"));
        };
        if !is_token(name) {
            return Err(CookieError::io("http: invalid cookie name"));
        }
        let Some((value, quoted)) = parse_cookie_value(value, true) else {
            return Err(CookieError::io("http: invalid cookie value"));
        };
        cookies.push(Cookie {
            name: name.to_string(),
            value: value.to_string(),
            quoted,
            ..Default::default()
        });
    }
    Ok(cookies)
}

/// Go's `ParseSetCookie`: a Set-Cookie header value, attributes and all.
///
/// ```
/// let c = gonet::net::http::parse_set_cookie("id=a3fWa; Max-Age=2592000; Secure; HttpOnly").unwrap();
/// assert_eq!((c.name.as_str(), c.max_age, c.secure, c.http_only), ("id", 2592000, true, true));
/// ```
pub fn parse_set_cookie(line: &str) -> io::Result<Cookie> {
    let trimmed = trim_string(line);
    if trimmed.is_empty() {
        return Err(CookieError::io("http: blank cookie"));
    }
    let mut parts = trimmed.split(';');
    let first = trim_string(parts.next().unwrap_or(""));
    let Some((name, value)) = first.split_once('=') else {
        return Err(CookieError::io("http: '=' not found in cookie"));
    };
    let name = trim_string(name);
    if !is_token(name) {
        return Err(CookieError::io("http: invalid cookie name"));
    }
    let Some((value, quoted)) = parse_cookie_value(value, true) else {
        return Err(CookieError::io("http: invalid cookie value"));
    };
    let mut c = Cookie {
        name: name.to_string(),
        value: value.to_string(),
        quoted,
        raw: line.to_string(),
        ..Default::default()
    };
    for part in parts {
        let part = trim_string(part);
        if part.is_empty() {
            continue;
        }
        let (attr, val) = part.split_once('=').unwrap_or((part, ""));
        if !attr.is_ascii() {
            continue;
        }
        let lower_attr = attr.to_ascii_lowercase();
        let Some((val, _)) = parse_cookie_value(val, false) else {
            c.unparsed.push(part.to_string());
            continue;
        };
        match lower_attr.as_str() {
            "samesite" => {
                c.same_site = if !val.is_ascii() {
                    SameSite::DefaultMode
                } else {
                    match val.to_ascii_lowercase().as_str() {
                        "lax" => SameSite::LaxMode,
                        "strict" => SameSite::StrictMode,
                        "none" => SameSite::NoneMode,
                        _ => SameSite::DefaultMode,
                    }
                };
                continue;
            }
            "secure" => {
                c.secure = true;
                continue;
            }
            "httponly" => {
                c.http_only = true;
                continue;
            }
            "domain" => {
                c.domain = val.to_string();
                continue;
            }
            "max-age" => {
                // Go: strconv.Atoi, and no leading zero on a non-zero value.
                if let Some(secs) = go_atoi(val) {
                    if secs == 0 || !val.starts_with('0') {
                        c.max_age = if secs <= 0 { -1 } else { secs };
                        continue;
                    }
                }
            }
            "expires" => {
                c.raw_expires = val.to_string();
                match parse_cookie_expires(val) {
                    Some(t) => {
                        c.expires = Some(t);
                        continue;
                    }
                    None => c.expires = None,
                }
            }
            "path" => {
                c.path = val.to_string();
                continue;
            }
            "partitioned" => {
                c.partitioned = true;
                continue;
            }
            _ => {}
        }
        c.unparsed.push(part.to_string());
    }
    Ok(c)
}

/// Go's `strconv.Atoi` on the values a Max-Age can hold: an optional sign and decimal
/// digits that fit an int64.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `readSetCookies`: the cookies of every Set-Cookie line that parses (none past
/// 3000 lines). A client reads a response's cookies with it (Go's `Response.Cookies`).
///
/// ```
/// let cs = gonet::net::http::read_set_cookies(["a=1; Path=/", "broken", "b=2; HttpOnly"]);
/// assert_eq!(cs.len(), 2);
/// assert!(cs[1].http_only);
/// ```
pub fn read_set_cookies<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<Cookie> {
    let lines: Vec<&str> = lines.into_iter().collect();
    if lines.len() > DEFAULT_COOKIE_MAX_NUM {
        return Vec::new();
    }
    lines
        .into_iter()
        .filter_map(|l| parse_set_cookie(l).ok())
        .collect()
}

/// Go's `readCookies`: every well-formed cookie of the Cookie header lines, only those
/// named `filter` if it is not empty. Bad pairs are skipped; past 3000 cookies, none.
pub(crate) fn read_cookies(lines: &[&str], filter: &str) -> Vec<Cookie> {
    let count: usize = lines.iter().map(|l| l.matches(';').count() + 1).sum();
    if lines.is_empty() || count > DEFAULT_COOKIE_MAX_NUM {
        return Vec::new();
    }
    let mut cookies = Vec::new();
    for line in lines {
        for part in trim_string(line).split(';') {
            let part = trim_string(part);
            if part.is_empty() {
                continue;
            }
            let (name, val) = part.split_once('=').unwrap_or((part, ""));
            let name = trim_string(name);
            if !is_token(name) || (!filter.is_empty() && filter != name) {
                continue;
            }
            if let Some((val, quoted)) = parse_cookie_value(val, true) {
                cookies.push(Cookie {
                    name: name.to_string(),
                    value: val.to_string(),
                    quoted,
                    ..Default::default()
                });
            }
        }
    }
    cookies
}

/// Adds a Set-Cookie header for `cookie` to `w`'s headers (Go's `http.SetCookie`). A
/// cookie whose name is not a valid token is dropped, as in Go.
///
/// ```
/// use gonet::net::http::{self, Cookie, ResponseWriter};
/// let mut rec = http::httptest::ResponseRecorder::new();
/// http::set_cookie(&mut rec, &Cookie { path: "/".into(), ..Cookie::new("id", "7") });
/// assert_eq!(rec.header().get("Set-Cookie"), "id=7; Path=/");
/// ```
pub fn set_cookie(w: &mut dyn ResponseWriter, cookie: &Cookie) {
    let v = cookie.to_string();
    if !v.is_empty() {
        w.header().add("Set-Cookie", &v);
    }
}

/// Go's `http.ErrNoCookie` text, the error of [`Request::cookie`] when there is none.
///
/// ```
/// let r = gonet::net::http::httptest::new_request("GET", "/", "");
/// assert_eq!(r.cookie("x").unwrap_err().to_string(), gonet::net::http::ERR_NO_COOKIE);
/// ```
pub const ERR_NO_COOKIE: &str = "http: named cookie not present";

impl CookieError {
    /// Whether this is Go's `http.ErrNoCookie`.
    ///
    /// ```
    /// let r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// let e = r.cookie("missing").unwrap_err();
    /// let ce = e.get_ref().unwrap().downcast_ref::<gonet::net::http::CookieError>().unwrap();
    /// assert!(ce.is_no_cookie());
    /// ```
    pub fn is_no_cookie(&self) -> bool {
        self.0 == ERR_NO_COOKIE
    }
}

impl Request {
    /// Every cookie the request carries in its Cookie headers, bad pairs skipped (Go's
    /// `Request.Cookies`).
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.header.add("Cookie", "a=1; b=2");
    /// r.header.add("Cookie", "c=3");
    /// let names: Vec<String> = r.cookies().into_iter().map(|c| c.name).collect();
    /// assert_eq!(names, ["a", "b", "c"]);
    /// ```
    pub fn cookies(&self) -> Vec<Cookie> {
        let lines: Vec<&str> = self
            .header
            .values("Cookie")
            .iter()
            .map(|s| s.as_str())
            .collect();
        read_cookies(&lines, "")
    }

    /// The cookies named `name` (Go 1.23's `Request.CookiesNamed`).
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.header.add("Cookie", "a=1; b=2; a=3");
    /// assert_eq!(r.cookies_named("a").len(), 2);
    /// ```
    pub fn cookies_named(&self, name: &str) -> Vec<Cookie> {
        if name.is_empty() {
            return Vec::new();
        }
        let lines: Vec<&str> = self
            .header
            .values("Cookie")
            .iter()
            .map(|s| s.as_str())
            .collect();
        read_cookies(&lines, name)
    }

    /// The first cookie named `name`, or Go's `http: named cookie not present` (Go's
    /// `Request.Cookie`); the error downcasts to [`CookieError`].
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.header.set("Cookie", "session=abc; theme=dark");
    /// assert_eq!(r.cookie("theme").unwrap().value, "dark");
    /// assert_eq!(r.cookie("nope").unwrap_err().to_string(), "http: named cookie not present");
    /// ```
    pub fn cookie(&self, name: &str) -> io::Result<Cookie> {
        self.cookies_named(name)
            .into_iter()
            .next()
            .ok_or_else(|| CookieError::io(ERR_NO_COOKIE))
    }

    /// Adds a cookie to the request's Cookie header, as a client does (Go's
    /// `Request.AddCookie`): only the name and value are sent.
    ///
    /// ```
    /// let mut r = gonet::net::http::httptest::new_request("GET", "/", "");
    /// r.add_cookie(&gonet::net::http::Cookie::new("a", "1"));
    /// r.add_cookie(&gonet::net::http::Cookie::new("b", "x y"));
    /// assert_eq!(r.header.get("Cookie"), "a=1; b=\"x y\"");
    /// ```
    pub fn add_cookie(&mut self, c: &Cookie) {
        let s = format!(
            "{}={}",
            c.name.replace(['\n', '\r'], "-"),
            sanitize_cookie_value(&c.value, c.quoted)
        );
        let old = self.header.get("Cookie");
        let v = if old.is_empty() {
            s
        } else {
            format!("{old}; {s}")
        };
        self.header.set("Cookie", &v);
    }
}

impl fmt::Display for Cookie {
    /// Go's `(*Cookie).String`: the Set-Cookie value (or, with only a name and value,
    /// a Cookie header pair); "" if the name is not a valid token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !is_token(&self.name) {
            return Ok(());
        }
        f.write_str(&self.name)?;
        f.write_str("=")?;
        f.write_str(&sanitize_cookie_value(&self.value, self.quoted))?;
        if !self.path.is_empty() {
            write!(
                f,
                "; Path={}",
                sanitize_or_warn("Cookie.Path", valid_cookie_path_byte, &self.path)
            )?;
        }
        if !self.domain.is_empty() {
            if valid_cookie_domain(&self.domain) {
                // A leading dot is fine but is not sent.
                let d = self.domain.strip_prefix('.').unwrap_or(&self.domain);
                write!(f, "; Domain={d}")?;
            } else {
                log::warn!(
                    "net/http: invalid Cookie.Domain {}; dropping domain attribute",
                    go_quote(self.domain.as_bytes())
                );
            }
        }
        if let Some(t) = self.expires.filter(|t| valid_cookie_expires(*t)) {
            write!(f, "; Expires={}", format_http_time(t))?;
        }
        if self.max_age > 0 {
            write!(f, "; Max-Age={}", self.max_age)?;
        } else if self.max_age < 0 {
            f.write_str("; Max-Age=0")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        match self.same_site {
            SameSite::Unset | SameSite::DefaultMode => {}
            SameSite::NoneMode => f.write_str("; SameSite=None")?,
            SameSite::LaxMode => f.write_str("; SameSite=Lax")?,
            SameSite::StrictMode => f.write_str("; SameSite=Strict")?,
        }
        if self.partitioned {
            f.write_str("; Partitioned")?;
        }
        Ok(())
    }
}

impl Cookie {
    /// A cookie with just a name and a value.
    ///
    /// ```
    /// assert_eq!(gonet::net::http::Cookie::new("k", "v").to_string(), "k=v");
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Cookie {
        Cookie {
            name: name.into(),
            value: value.into(),
            ..Default::default()
        }
    }

    /// Go's `(*Cookie).Valid`: whether the cookie can be sent as it is, or the first
    /// problem in Go's words.
    ///
    /// ```
    /// use gonet::net::http::Cookie;
    /// assert!(Cookie::new("a", "b").valid().is_ok());
    /// let e = Cookie::new("a", "b;c").valid().unwrap_err();
    /// assert_eq!(e.to_string(), "http: invalid byte ';' in Cookie.Value");
    /// ```
    pub fn valid(&self) -> io::Result<()> {
        if !is_token(&self.name) {
            return Err(CookieError::io("http: invalid Cookie.Name"));
        }
        if let Some(t) = self.expires {
            if !valid_cookie_expires(t) {
                return Err(CookieError::io("http: invalid Cookie.Expires"));
            }
        }
        if let Some(&b) = self
            .value
            .as_bytes()
            .iter()
            .find(|&&b| !valid_cookie_value_byte(b))
        {
            return Err(CookieError::io(format!(
                "http: invalid byte {} in Cookie.Value",
                go_quote_byte(b)
            )));
        }
        if let Some(&b) = self
            .path
            .as_bytes()
            .iter()
            .find(|&&b| !valid_cookie_path_byte(b))
        {
            return Err(CookieError::io(format!(
                "http: invalid byte {} in Cookie.Path",
                go_quote_byte(b)
            )));
        }
        if !self.domain.is_empty() && !valid_cookie_domain(&self.domain) {
            return Err(CookieError::io("http: invalid Cookie.Domain"));
        }
        if self.partitioned && !self.secure {
            return Err(CookieError::io(
                "http: partitioned cookies must be set with Secure",
            ));
        }
        Ok(())
    }
}

/// Go's `%q` of a byte (printed as the rune of that value): `';'`, `'\n'`, `'\x7f'`,
/// `'é'`.
fn go_quote_byte(b: u8) -> String {
    let c = b as char;
    match b {
        b'\'' => "'\\''".into(),
        b'\\' => "'\\\\'".into(),
        b'\n' => "'\\n'".into(),
        b'\r' => "'\\r'".into(),
        b'\t' => "'\\t'".into(),
        0x07 => "'\\a'".into(),
        0x08 => "'\\b'".into(),
        0x0c => "'\\f'".into(),
        0x0b => "'\\v'".into(),
        0..=0x1f | 0x7f => format!("'\\x{b:02x}'"),
        0x80..=0xa0 | 0xad => format!("'\\u{:04x}'", b),
        _ => format!("'{c}'"),
    }
}

/// Go's `validCookieDomain`: a domain name (a leading dot allowed) or an IPv4 address.
fn valid_cookie_domain(v: &str) -> bool {
    is_cookie_domain_name(v) || (v.parse::<std::net::Ipv4Addr>().is_ok())
}

/// Go's `validCookieExpires`: RFC 6265 5.1.1.5, the year must be at least 1601.
fn valid_cookie_expires(t: SystemTime) -> bool {
    year(t) >= 1601
}

/// Go's `isCookieDomainName`: package net's `isDomainName`, a leading dot allowed and
/// no `_`.
fn is_cookie_domain_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let s = s.strip_prefix('.').unwrap_or(s);
    let mut last = b'.';
    let mut ok = false; // once a letter is seen
    let mut partlen = 0;
    for &c in s.as_bytes() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {
                ok = true;
                partlen += 1;
            }
            b'0'..=b'9' => partlen += 1,
            b'-' => {
                if last == b'.' {
                    return false;
                }
                partlen += 1;
            }
            b'.' => {
                if last == b'.' || last == b'-' || partlen > 63 || partlen == 0 {
                    return false;
                }
                partlen = 0;
            }
            _ => return false,
        }
        last = c;
    }
    last != b'-' && partlen <= 63 && ok
}

/// Go's `sanitizeCookieValue`: invalid bytes dropped; quoted if it holds a space or a
/// comma, or was quoted.
fn sanitize_cookie_value(v: &str, quoted: bool) -> String {
    let v = sanitize_or_warn("Cookie.Value", valid_cookie_value_byte, v);
    if v.is_empty() {
        return v;
    }
    if v.contains([' ', ',']) || quoted {
        return format!("\"{v}\"");
    }
    v
}

fn valid_cookie_value_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b';' && b != b'\\'
}

fn valid_cookie_path_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b';'
}

/// Go's `sanitizeOrWarn`: `v` without the bytes `valid` refuses, with a log line
/// naming the first one.
fn sanitize_or_warn(field: &str, valid: fn(u8) -> bool, v: &str) -> String {
    match v.bytes().find(|&b| !valid(b)) {
        None => v.to_string(),
        Some(b) => {
            log::warn!(
                "net/http: invalid byte {} in {field}; dropping invalid bytes",
                go_quote_byte(b)
            );
            // Only ASCII bytes survive, so the result is UTF-8.
            v.bytes().filter(|&b| valid(b)).map(char::from).collect()
        }
    }
}

/// Go's `parseCookieValue`: the value without its quotes (if `allow_double_quote`), and
/// whether it had them; `None` if a byte is not allowed.
fn parse_cookie_value(raw: &str, allow_double_quote: bool) -> Option<(&str, bool)> {
    let mut raw = raw;
    let mut quoted = false;
    if allow_double_quote && raw.len() > 1 && raw.starts_with('"') && raw.ends_with('"') {
        raw = &raw[1..raw.len() - 1];
        quoted = true;
    }
    raw.bytes()
        .all(valid_cookie_value_byte)
        .then_some((raw, quoted))
}

#[cfg(test)]
#[path = "cookie_test.rs"]
mod tests;
