//! Go's `url.URL`: parsing (`Parse`, `ParseRequestURI`), printing (`String`,
//! `EscapedPath`, `RequestURI`) and the host helpers (`Hostname`, `Port`).

use std::borrow::Cow;
use std::fmt;

use super::escape::{Mode, escape, quote, should_escape, unescape, valid_encoded};
use super::values::{Values, parse_query_into};

/// A parse error: Go's `*url.Error`, printed as `parse "URL": reason`.
///
/// `op` is Go's `Op` ("parse"), `url` the input, `err` the reason: an
/// [`EscapeError`](super::EscapeError), an [`InvalidHostError`](super::InvalidHostError),
/// or a plain message (`invalid URI for request`, `missing protocol scheme`, ...).
///
/// ```
/// use gonet::net::url::Url;
/// let err = Url::parse_request_uri("foo").unwrap_err();
/// assert_eq!(err.to_string(), r#"parse "foo": invalid URI for request"#);
/// assert_eq!(err.op, "parse");
/// ```
#[derive(Debug)]
pub struct Error {
    /// The operation: "parse".
    pub op: &'static str,
    /// The URL that failed.
    pub url: String,
    /// Why.
    pub err: Box<dyn std::error::Error + Send + Sync>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, quote(&self.url), self.err)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.err)
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

type Reason = Box<dyn std::error::Error + Send + Sync>;

fn reason(s: &str) -> Reason {
    s.into()
}

/// A user name and optional password in a URL's authority. Go: `url.Userinfo`.
///
/// ```
/// use gonet::net::url::{Url, Userinfo};
/// let u = Url::parse("http://bob:s%40cret@host/").unwrap();
/// let user = u.user.as_ref().unwrap();
/// assert_eq!(user.username(), "bob");
/// assert_eq!(user.password(), Some("s@cret"));
/// assert_eq!(Userinfo::user("a b").to_string(), "a%20b");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Userinfo {
    username: String,
    password: Option<String>,
}

impl Userinfo {
    /// A name without a password. Go: `url.User(name)`.
    ///
    /// ```
    /// assert_eq!(gonet::net::url::Userinfo::user("bob").username(), "bob");
    /// ```
    pub fn user(username: &str) -> Userinfo {
        Userinfo {
            username: username.to_string(),
            password: None,
        }
    }

    /// A name and a password. Go: `url.UserPassword(name, password)`.
    ///
    /// ```
    /// let u = gonet::net::url::Userinfo::user_password("bob", "pw");
    /// assert_eq!(u.to_string(), "bob:pw");
    /// ```
    pub fn user_password(username: &str, password: &str) -> Userinfo {
        Userinfo {
            username: username.to_string(),
            password: Some(password.to_string()),
        }
    }

    /// The user name. Go: `Userinfo.Username`.
    ///
    /// ```
    /// assert_eq!(gonet::net::url::Userinfo::user("x").username(), "x");
    /// ```
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password, if one was set. Go: `Userinfo.Password` (its `(string, bool)`).
    ///
    /// ```
    /// assert_eq!(gonet::net::url::Userinfo::user("x").password(), None);
    /// ```
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

impl fmt::Display for Userinfo {
    /// `name[:password]`, escaped. Go: `Userinfo.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.username, Mode::UserPassword))?;
        if let Some(p) = &self.password {
            write!(f, ":{}", escape(p, Mode::UserPassword))?;
        }
        Ok(())
    }
}

/// A parsed URL: Go's `url.URL`, field for field.
///
/// The general form is `[scheme:][//[userinfo@]host][/]path[?query][#fragment]`;
/// `path` is decoded (`%2F` becomes `/`), `raw_query` is not. A request target
/// (`GET /a%20b?x=1 HTTP/1.1`) is parsed with [`Url::parse_request_uri`], as net/http
/// does.
///
/// ```
/// use gonet::net::url::Url;
/// let u = Url::parse("https://user@example.com:8443/a%20b?q=1#top").unwrap();
/// assert_eq!(u.scheme, "https");
/// assert_eq!(u.host, "example.com:8443");
/// assert_eq!(u.hostname(), "example.com");
/// assert_eq!(u.port(), "8443");
/// assert_eq!(u.path, "/a b");
/// assert_eq!(u.raw_query, "q=1");
/// assert_eq!(u.fragment, "top");
/// assert_eq!(u.query().get("q"), "1");
/// assert_eq!(u.to_string(), "https://user@example.com:8443/a%20b?q=1#top");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Url {
    /// `http`, lower case. Go: `Scheme`.
    pub scheme: String,
    /// Encoded opaque data (`mailto:x@y`'s `x@y`). Go: `Opaque`.
    pub opaque: String,
    /// User name and password. Go: `User`.
    pub user: Option<Userinfo>,
    /// `host` or `host:port`. Go: `Host`.
    pub host: String,
    /// The decoded path. Go: `Path`.
    pub path: String,
    /// The encoded path, when it differs from the default encoding of `path`. Go: `RawPath`.
    pub raw_path: String,
    /// Do not print an empty authority. Go: `OmitHost`.
    pub omit_host: bool,
    /// Print a `?` even if `raw_query` is empty. Go: `ForceQuery`.
    pub force_query: bool,
    /// The encoded query, without `?`. Go: `RawQuery`.
    pub raw_query: String,
    /// The decoded fragment, without `#`. Go: `Fragment`.
    pub fragment: String,
    /// The encoded fragment, when it differs from the default. Go: `RawFragment`.
    pub raw_fragment: String,
}

impl Url {
    /// Parses a URL, absolute or relative, with an optional `#fragment`.
    ///
    /// Go: `url.Parse`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert_eq!(Url::parse("/a?b").unwrap().path, "/a");
    /// let err = Url::parse(":foo").unwrap_err();
    /// assert_eq!(err.to_string(), r#"parse ":foo": missing protocol scheme"#);
    /// ```
    pub fn parse(raw: &str) -> Result<Url, Error> {
        let (u, frag) = match raw.find('#') {
            Some(i) => (&raw[..i], Some(&raw[i + 1..])),
            None => (raw, None),
        };
        let mut url = parse(u, false).map_err(|err| Error {
            op: "parse",
            url: u.to_string(),
            err,
        })?;
        match frag {
            None | Some("") => Ok(url),
            Some(f) => match url.set_fragment(f) {
                Ok(()) => Ok(url),
                Err(err) => Err(Error {
                    op: "parse",
                    url: raw.to_string(),
                    err,
                }),
            },
        }
    }

    /// Parses a request target: an absolute URL, or an absolute path with no fragment
    /// (`/a/b?c`), or `*`.
    ///
    /// Go: `url.ParseRequestURI`, which net/http's server uses on the request line.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// let u = Url::parse_request_uri("/items/7?full=1").unwrap();
    /// assert_eq!((u.path.as_str(), u.raw_query.as_str()), ("/items/7", "full=1"));
    /// assert_eq!(Url::parse_request_uri("*").unwrap().path, "*");
    /// assert!(Url::parse_request_uri("items").is_err());
    /// ```
    pub fn parse_request_uri(raw: &str) -> Result<Url, Error> {
        let mut url = Url::default();
        url.parse_request_uri_into(raw)?;
        Ok(url)
    }

    /// [`parse_request_uri`](Url::parse_request_uri) into `self`, reusing its strings'
    /// memory (the server parses every request target into the same `Url`).
    pub(crate) fn parse_request_uri_into(&mut self, raw: &str) -> Result<(), Error> {
        self.clear();
        if self.parse_plain_path(raw) {
            return Ok(());
        }
        parse_into(self, raw, true).map_err(|err| Error {
            op: "parse",
            url: raw.to_string(),
            err,
        })
    }

    /// The request target of nearly every request, `/path?query` with a path that
    /// needs no unescaping and no escaping: what `parse_into` makes of it (path as
    /// sent, no raw path, the query cut at the first `?`), without its passes.
    /// Returns false, having set nothing, for anything else.
    fn parse_plain_path(&mut self, raw: &str) -> bool {
        let b = raw.as_bytes();
        if b.first() != Some(&b'/') || b.get(1) == Some(&b'/') {
            return false;
        }
        let end = b.iter().position(|&c| c == b'?').unwrap_or(b.len());
        // No '%' (nothing to unescape) and nothing Go's escape(path, encodePath) would
        // change, so Go's RawPath stays empty.
        if !b[..end]
            .iter()
            .all(|&c| c != b'%' && !should_escape(c, Mode::Path))
        {
            return false;
        }
        if b[end..].iter().any(|&c| c < b' ' || c == 0x7f) {
            return false; // the general parser's control-character error
        }
        let query = &raw[end..];
        // Go: ForceQuery when the one '?' ends the target, else RawQuery is what
        // follows the first '?'.
        if query == "?" {
            self.force_query = true;
        } else if let Some(q) = query.strip_prefix('?') {
            self.raw_query.push_str(q);
        }
        self.path.push_str(&raw[..end]);
        true
    }

    /// Empties every field, keeping the strings' memory.
    pub(crate) fn clear(&mut self) {
        self.scheme.clear();
        self.opaque.clear();
        self.user = None;
        self.host.clear();
        self.path.clear();
        self.raw_path.clear();
        self.omit_host = false;
        self.force_query = false;
        self.raw_query.clear();
        self.fragment.clear();
        self.raw_fragment.clear();
    }

    fn set_path(&mut self, p: &str) -> Result<(), Reason> {
        let path = unescape(p, Mode::Path)?;
        self.raw_path.clear();
        if escape(&path, Mode::Path) != p {
            self.raw_path.push_str(p);
        }
        self.path.clear();
        self.path.push_str(&path);
        Ok(())
    }

    fn set_fragment(&mut self, f: &str) -> Result<(), Reason> {
        let frag = unescape(f, Mode::Fragment)?.into_owned();
        self.raw_fragment = if escape(&frag, Mode::Fragment) == f {
            String::new()
        } else {
            f.to_string()
        };
        self.fragment = frag;
        Ok(())
    }

    /// The path, escaped: `raw_path` when it is a valid encoding of `path`, else the
    /// default encoding.
    ///
    /// Go: `URL.EscapedPath`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert_eq!(Url::parse("/a%2Fb").unwrap().escaped_path(), "/a%2Fb");
    /// assert_eq!(Url::parse("/a b").unwrap().escaped_path(), "/a%20b");
    /// ```
    pub fn escaped_path(&self) -> Cow<'_, str> {
        if !self.raw_path.is_empty() && valid_encoded(&self.raw_path, Mode::Path) {
            if let Ok(p) = unescape(&self.raw_path, Mode::Path) {
                if p == self.path {
                    return Cow::Borrowed(&self.raw_path);
                }
            }
        }
        if self.path == "*" {
            return Cow::Borrowed("*");
        }
        escape(&self.path, Mode::Path)
    }

    /// The fragment, escaped. Go: `URL.EscapedFragment`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert_eq!(Url::parse("/#a b").unwrap().escaped_fragment(), "a%20b");
    /// ```
    pub fn escaped_fragment(&self) -> Cow<'_, str> {
        if !self.raw_fragment.is_empty() && valid_encoded(&self.raw_fragment, Mode::Fragment) {
            if let Ok(f) = unescape(&self.raw_fragment, Mode::Fragment) {
                if f == self.fragment {
                    return Cow::Borrowed(&self.raw_fragment);
                }
            }
        }
        escape(&self.fragment, Mode::Fragment)
    }

    /// Whether the URL has a scheme. Go: `URL.IsAbs`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert!(Url::parse("http://x/").unwrap().is_abs());
    /// assert!(!Url::parse("/x").unwrap().is_abs());
    /// ```
    pub fn is_abs(&self) -> bool {
        !self.scheme.is_empty()
    }

    /// The query, parsed; malformed pairs are skipped. Go: `URL.Query`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// let q = Url::parse("/?a=1&a=2&b=x+y").unwrap().query();
    /// assert_eq!(q.values("a"), ["1", "2"]);
    /// assert_eq!(q.get("b"), "x y");
    /// ```
    pub fn query(&self) -> Values {
        let mut v = Values::new();
        let _ = parse_query_into(&mut v, &self.raw_query);
        v
    }

    /// The encoded `path?query` (or opaque data) for a request line. Go: `URL.RequestURI`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert_eq!(Url::parse("http://h/a b?x=1").unwrap().request_uri(), "/a%20b?x=1");
    /// assert_eq!(Url::parse("http://h").unwrap().request_uri(), "/");
    /// ```
    pub fn request_uri(&self) -> String {
        let mut result = if self.opaque.is_empty() {
            let p = self.escaped_path();
            if p.is_empty() {
                "/".to_string()
            } else {
                p.into_owned()
            }
        } else if self.opaque.starts_with("//") {
            format!("{}:{}", self.scheme, self.opaque)
        } else {
            self.opaque.clone()
        };
        if self.force_query || !self.raw_query.is_empty() {
            result.push('?');
            result.push_str(&self.raw_query);
        }
        result
    }

    /// The host without the port and without IPv6 brackets. Go: `URL.Hostname`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert_eq!(Url::parse("http://[::1]:80/").unwrap().hostname(), "::1");
    /// ```
    pub fn hostname(&self) -> &str {
        split_host_port(&self.host).0
    }

    /// The port, or "" if there is none. Go: `URL.Port`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// assert_eq!(Url::parse("http://h:8080/").unwrap().port(), "8080");
    /// assert_eq!(Url::parse("http://h/").unwrap().port(), "");
    /// ```
    pub fn port(&self) -> &str {
        split_host_port(&self.host).1
    }

    /// The URL with its password replaced by `xxxxx`. Go: `URL.Redacted`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// let u = Url::parse("http://bob:pw@h/").unwrap();
    /// assert_eq!(u.redacted(), "http://bob:xxxxx@h/");
    /// ```
    pub fn redacted(&self) -> String {
        let mut ru = self.clone();
        if let Some(u) = &ru.user {
            if u.password.is_some() {
                ru.user = Some(Userinfo::user_password(&u.username, "xxxxx"));
            }
        }
        ru.to_string()
    }

    /// Resolves `reference` against this URL, RFC 3986 section 5.2.
    /// Go: `URL.ResolveReference`.
    ///
    /// ```
    /// use gonet::net::url::Url;
    /// let base = Url::parse("http://h/a/b/c").unwrap();
    /// let r = Url::parse("../d?x").unwrap();
    /// assert_eq!(base.resolve_reference(&r).to_string(), "http://h/a/d?x");
    /// ```
    pub fn resolve_reference(&self, reference: &Url) -> Url {
        let mut url = reference.clone();
        if reference.scheme.is_empty() {
            url.scheme = self.scheme.clone();
        }
        if !reference.scheme.is_empty() || !reference.host.is_empty() || reference.user.is_some() {
            let p = resolve_path(&reference.escaped_path(), "");
            let _ = url.set_path(&p);
            return url;
        }
        if !reference.opaque.is_empty() {
            url.user = None;
            url.host.clear();
            url.path.clear();
            return url;
        }
        if reference.path.is_empty() && !reference.force_query && reference.raw_query.is_empty() {
            url.raw_query = self.raw_query.clone();
            if reference.fragment.is_empty() {
                url.fragment = self.fragment.clone();
                url.raw_fragment = self.raw_fragment.clone();
            }
        }
        url.host = self.host.clone();
        url.user = self.user.clone();
        let p = resolve_path(&self.escaped_path(), &reference.escaped_path());
        let _ = url.set_path(&p);
        url
    }
}

impl fmt::Display for Url {
    /// The URL reassembled, escaped: Go's `URL.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            let has_authority =
                !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some();
            let omitted = self.omit_host && self.host.is_empty() && self.user.is_none();
            if has_authority && !omitted {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(u) = &self.user {
                    buf.push_str(&u.to_string());
                    buf.push('@');
                }
                if !self.host.is_empty() {
                    buf.push_str(&escape(&self.host, Mode::Host));
                }
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() {
                let segment = path.split('/').next().unwrap_or("");
                if segment.contains(':') {
                    buf.push_str("./");
                }
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&self.escaped_fragment());
        }
        f.write_str(&buf)
    }
}

impl std::str::FromStr for Url {
    type Err = Error;
    fn from_str(s: &str) -> Result<Url, Error> {
        Url::parse(s)
    }
}

fn parse(raw: &str, via_request: bool) -> Result<Url, Reason> {
    let mut url = Url::default();
    parse_into(&mut url, raw, via_request)?;
    Ok(url)
}

/// Go: url.go `parse(rawURL, viaRequest)`, into a cleared `url`.
fn parse_into(url: &mut Url, raw: &str, via_request: bool) -> Result<(), Reason> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err(reason("net/url: invalid control character in URL"));
    }
    if raw.is_empty() && via_request {
        return Err(reason("empty url"));
    }
    if raw == "*" {
        url.path.push('*');
        return Ok(());
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme.push_str(scheme);
    url.scheme.make_ascii_lowercase();
    let mut rest = rest;
    if rest.ends_with('?') && rest.bytes().filter(|&b| b == b'?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some(i) = rest.find('?') {
        url.raw_query.push_str(&rest[i + 1..]);
        rest = &rest[..i];
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque.push_str(rest);
            return Ok(());
        }
        if via_request {
            return Err(reason("invalid URI for request"));
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err(reason("first path segment in URL cannot contain colon"));
        }
    }
    if (!url.scheme.is_empty() || !via_request && !rest.starts_with("///"))
        && rest.starts_with("//")
    {
        let mut authority = &rest[2..];
        rest = "";
        if let Some(i) = authority.find('/') {
            rest = &authority[i..];
            authority = &authority[..i];
        }
        let (user, host) = parse_authority(authority)?;
        url.user = user;
        url.host = host;
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.set_path(rest)
}

/// Go: url.go `getScheme`.
fn get_scheme(raw: &str) -> Result<(&str, &str), Reason> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err(reason("missing protocol scheme"));
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Go: url.go `parseAuthority`.
fn parse_authority(authority: &str) -> Result<(Option<Userinfo>, String), Reason> {
    let at = authority.rfind('@');
    let host = parse_host(match at {
        None => authority,
        Some(i) => &authority[i + 1..],
    })?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = &authority[..i];
    if !valid_userinfo(userinfo) {
        return Err(reason("net/url: invalid userinfo"));
    }
    let user = match userinfo.split_once(':') {
        None => Userinfo::user(&unescape(userinfo, Mode::UserPassword)?),
        Some((name, pw)) => Userinfo::user_password(
            &unescape(name, Mode::UserPassword)?,
            &unescape(pw, Mode::UserPassword)?,
        ),
    };
    Ok((Some(user), host))
}

/// Go: url.go `parseHost`.
fn parse_host(host: &str) -> Result<String, Reason> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err(reason("missing ']' in host"));
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", quote(colon_port)).into());
        }
        if let Some(zone) = host[..i].find("%25") {
            let h1 = unescape(&host[..zone], Mode::Host)?;
            let h2 = unescape(&host[zone..i], Mode::Zone)?;
            let h3 = unescape(&host[i..], Mode::Host)?;
            return Ok(format!("{h1}{h2}{h3}"));
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", quote(colon_port)).into());
        }
    }
    Ok(unescape(host, Mode::Host)?.into_owned())
}

/// Go: url.go `validOptionalPort`.
pub(crate) fn valid_optional_port(port: &str) -> bool {
    match port.as_bytes() {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// Go: url.go `splitHostPort` (the lenient one behind `Hostname` and `Port`).
fn split_host_port(host_port: &str) -> (&str, &str) {
    let mut host = host_port;
    let mut port = "";
    if let Some(colon) = host.rfind(':') {
        if valid_optional_port(&host[colon..]) {
            port = &host[colon + 1..];
            host = &host[..colon];
        }
    }
    if host.len() >= 2 && host.starts_with('[') && host.ends_with(']') {
        host = &host[1..host.len() - 1];
    }
    (host, port)
}

/// Go: url.go `validUserinfo`.
fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|r| {
        r.is_ascii_alphanumeric()
            || matches!(
                r,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    })
}

/// Go: url.go `resolvePath` (RFC 3986 5.2.4, remove_dot_segments).
fn resolve_path(base: &str, reference: &str) -> String {
    let full = if reference.is_empty() {
        base.to_string()
    } else if !reference.starts_with('/') {
        let i = base.rfind('/').map_or(0, |i| i + 1);
        format!("{}{}", &base[..i], reference)
    } else {
        reference.to_string()
    };
    if full.is_empty() {
        return String::new();
    }
    let mut dst = String::from("/");
    let mut first = true;
    let mut last = "";
    for elem in full.split('/') {
        last = elem;
        if elem == "." {
            first = false;
            continue;
        }
        if elem == ".." {
            let s = dst[1..].to_string();
            dst.clear();
            dst.push('/');
            match s.rfind('/') {
                None => first = true,
                Some(index) => dst.push_str(&s[..index]),
            }
        } else {
            if !first {
                dst.push('/');
            }
            dst.push_str(elem);
            first = false;
        }
    }
    if last == "." || last == ".." {
        dst.push('/');
    }
    if dst.len() > 1 && dst.as_bytes()[1] == b'/' {
        dst.remove(0);
    }
    dst
}

#[cfg(test)]
mod tests {
    use super::*;

    // The fast path for plain request targets gives what the general parser gives, on
    // every target of up to 4 bytes over an alphabet of the bytes that matter.
    #[test]
    fn plain_paths_parse_as_the_general_parser_does() {
        let alphabet: &[u8] = b"/a?%#;:@+ ~\t-.Z";
        let mut targets = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..4 {
            let mut next = Vec::new();
            for t in &targets {
                for &c in alphabet {
                    let mut u = t.clone();
                    u.push(char::from(c));
                    next.push(u);
                }
            }
            all.extend(next.iter().cloned());
            targets = next;
        }
        let mut fast_taken = 0;
        for t in &all {
            let mut general = Url::default();
            let g = parse_into(&mut general, t, true).is_ok();
            let mut fast = Url::default();
            if fast.parse_plain_path(t) {
                fast_taken += 1;
                assert!(g, "{t:?}: the general parser refuses it");
                assert_eq!(fast, general, "{t:?}");
            }
        }
        assert!(fast_taken > 1000, "{fast_taken}");
    }

    #[test]
    fn request_targets_like_go() {
        let u = Url::parse_request_uri("http://example.com:80/a/b?c=d").unwrap();
        assert_eq!(u.scheme, "http");
        assert_eq!(u.host, "example.com:80");
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.raw_query, "c=d");
        let u = Url::parse_request_uri("/a%2fb").unwrap();
        assert_eq!((u.path.as_str(), u.raw_path.as_str()), ("/a/b", "/a%2fb"));
        assert_eq!(
            Url::parse_request_uri("/a%zz").unwrap_err().to_string(),
            r#"parse "/a%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            Url::parse_request_uri("//x/y").unwrap().path,
            "//x/y",
            "a request path starting with // is a path, not an authority"
        );
        assert_eq!(
            Url::parse_request_uri("http://h:x/")
                .unwrap_err()
                .to_string(),
            r#"parse "http://h:x/": invalid port ":x" after host"#
        );
    }

    #[test]
    fn strings_round_trip() {
        for s in [
            "http://a/b?c#d",
            "mailto:x@y",
            "/a%2Fb",
            "http://[::1]:8080/",
            "file:///tmp",
            "?q",
        ] {
            assert_eq!(Url::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn resolves_dot_segments() {
        assert_eq!(resolve_path("/a/b/", "../c/./d"), "/a/c/d");
        assert_eq!(resolve_path("/a/b", ".."), "/");
        assert_eq!(resolve_path("/a/", "b/."), "/a/b/");
    }
}
