//! Patterns for [`ServeMux`](super::ServeMux) routing: Go 1.22's net/http/pattern.go.
//!
//! A pattern is `[METHOD ][HOST]/[PATH]`: an optional method, an optional host and a path
//! whose segments are literals, `{name}` (one segment), `{name...}` (the rest of the path)
//! or `{$}` (the end of the path, after a trailing slash). This file parses patterns
//! (Go's `parsePattern`, with its error texts) and relates two of them (Go's
//! `comparePathsAndMethods`, `conflictsWith`, `describeConflict`), which is how the mux
//! refuses conflicting registrations and why "most specific wins" is well defined.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// A parsed pattern (Go's `pattern`).
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    /// The string as registered, spaces and all (Go's `str`; what `handler()` returns).
    pub(crate) str: String,
    /// "" for any method.
    pub(crate) method: String,
    /// "" for any host.
    pub(crate) host: String,
    /// The path, in Go's representation: a trailing `/` is an anonymous multi wildcard
    /// and a trailing `{$}` is the literal segment "/". Never empty.
    pub(crate) segments: Vec<Segment>,
    /// Where the pattern was registered (`file:line`), for conflict messages.
    pub(crate) loc: String,
}

/// One piece of a pattern's path (Go's `segment`).
///
/// A literal matches one path segment (its text is unescaped, so it may hold any bytes),
/// or, when it is "/", the trailing slash of a `{$}` pattern. A wildcard (`wild`) matches
/// one segment, or with `multi` the rest of the path; `s` is its name ("" for the
/// anonymous multi of a trailing slash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) s: Vec<u8>,
    pub(crate) wild: bool,
    pub(crate) multi: bool,
}

impl Segment {
    fn literal(s: Vec<u8>) -> Segment {
        Segment {
            s,
            wild: false,
            multi: false,
        }
    }

    /// Is this the literal "/" that `{$}` becomes?
    pub(crate) fn is_dollar(&self) -> bool {
        !self.wild && self.s == b"/"
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.str)
    }
}

/// Why a pattern string does not parse: Go's text after "at offset N: ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// Byte offset into the pattern, as Go counts it (`None` for "empty pattern").
    pub(crate) offset: Option<usize>,
    pub(crate) msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "at offset {off}: {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

/// Go's `parsePattern`: `[METHOD] [HOST]/[PATH]`.
///
/// METHOD, if present, is a token followed by spaces or tabs; HOST is everything before
/// the first `/`; PATH is slash-separated literals and wildcards, `{$}` and `{name...}`
/// only at the end, wildcard names valid Go identifiers and distinct. A pattern with a
/// method other than CONNECT must have a clean path (paths are cleaned before matching,
/// so an unclean one could never match).
pub(crate) fn parse_pattern(s: &str) -> Result<Pattern, ParseError> {
    if s.is_empty() {
        return Err(ParseError {
            offset: None,
            msg: "empty pattern".into(),
        });
    }
    let mut off = 0usize;
    let fail = |off: usize, msg: String| {
        Err(ParseError {
            offset: Some(off),
            msg,
        })
    };

    // Go: method, rest, found := s, "", false; split at the first space or tab and
    // drop the blanks after it.
    let (method, rest, found) = match s.find([' ', '\t']) {
        Some(i) => (&s[..i], s[i + 1..].trim_start_matches([' ', '\t']), true),
        None => ("", s, false),
    };
    if !method.is_empty() && !valid_method(method) {
        return fail(
            off,
            format!("invalid method {}", go_quote(method.as_bytes())),
        );
    }
    if found {
        off = method.len() + 1;
    }
    let Some(i) = rest.find('/') else {
        return fail(off, "host/path missing /".into());
    };
    let host = &rest[..i];
    let mut rest = &rest[i..];
    if let Some(j) = host.find('{') {
        return fail(off + j, "host contains '{' (missing initial '/'?)".into());
    }
    // At this point, rest is the path.
    off += i;

    // An unclean path with a method that is not CONNECT can never match, because paths
    // are cleaned before matching.
    if !method.is_empty() && method != "CONNECT" && rest != super::mux_core::clean_path(rest) {
        return fail(
            off,
            "non-CONNECT pattern with unclean path can never match".into(),
        );
    }

    let mut segments = Vec::new();
    let mut seen_names: HashSet<&str> = HashSet::new();
    while !rest.is_empty() {
        // Invariant: rest starts with '/'.
        rest = &rest[1..];
        off = s.len() - rest.len();
        if rest.is_empty() {
            // Trailing slash.
            segments.push(Segment {
                s: Vec::new(),
                wild: true,
                multi: true,
            });
            break;
        }
        let i = rest.find('/').unwrap_or(rest.len());
        let seg = &rest[..i];
        rest = &rest[i..];
        match seg.find('{') {
            None => segments.push(Segment::literal(path_unescape(seg).into_owned())),
            Some(i) => {
                if i != 0 {
                    return fail(off, "bad wildcard segment (must start with '{')".into());
                }
                if !seg.ends_with('}') {
                    return fail(off, "bad wildcard segment (must end with '}')".into());
                }
                let name = &seg[1..seg.len() - 1];
                if name == "$" {
                    if !rest.is_empty() {
                        return fail(off, "{$} not at end".into());
                    }
                    segments.push(Segment::literal(b"/".to_vec()));
                    break;
                }
                let (name, multi) = match name.strip_suffix("...") {
                    Some(n) => (n, true),
                    None => (name, false),
                };
                if multi && !rest.is_empty() {
                    return fail(off, "{...} wildcard not at end".into());
                }
                if name.is_empty() {
                    return fail(off, "empty wildcard".into());
                }
                if !is_valid_wildcard_name(name) {
                    return fail(
                        off,
                        format!("bad wildcard name {}", go_quote(name.as_bytes())),
                    );
                }
                if !seen_names.insert(name) {
                    return fail(
                        off,
                        format!("duplicate wildcard name {}", go_quote(name.as_bytes())),
                    );
                }
                segments.push(Segment {
                    s: name.as_bytes().to_vec(),
                    wild: true,
                    multi,
                });
            }
        }
    }
    Ok(Pattern {
        str: s.to_string(),
        method: method.to_string(),
        host: host.to_string(),
        segments,
        loc: String::new(),
    })
}

/// Go's `validMethod` (request.go): a non-empty token.
fn valid_method(m: &str) -> bool {
    super::cookie::is_token(m)
}

/// Go's `isValidWildcardName`: a Go identifier (a letter or `_`, then letters, digits
/// and `_`). Rust's `is_alphabetic`/`is_numeric` stand in for Go's `unicode.IsLetter` and
/// `IsDigit`; they agree on every ASCII character.
fn is_valid_wildcard_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_alphabetic() || c == '_' || (i > 0 && c.is_numeric()))
}

/// Go's `pathUnescape`: `url.PathUnescape(s)`, or `s` itself when it is badly escaped.
/// Borrows when there is nothing to unescape (the common case: no allocation).
pub(crate) fn path_unescape(s: &str) -> Cow<'_, [u8]> {
    let b = s.as_bytes();
    if !b.contains(&b'%') {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1).and_then(unhex), b.get(i + 2).and_then(unhex)) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => return Cow::Borrowed(b),
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

fn unhex(c: &u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Go's `%q` of a string: double-quoted, with Go's escapes (`\"`, `\\`, `\n`, `\t`,
/// `\xff` for bytes that are not UTF-8, `\u00a0` for non-printing runes).
pub(crate) fn go_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut rest = s;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(v) => (v, &[][..]),
            Err(e) => {
                let (v, tail) = rest.split_at(e.valid_up_to());
                let n = e.error_len().unwrap_or(tail.len());
                // from_utf8 vouched for the prefix.
                (std::str::from_utf8(v).unwrap_or_default(), &tail[..n])
            }
        };
        rest = &rest[valid.len() + bad.len()..];
        for c in valid.chars() {
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
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control() || c == '\u{a0}' || c == '\u{ad}' => {
                    if (c as u32) < 0x10000 {
                        out.push_str(&format!("\\u{:04x}", c as u32))
                    } else {
                        out.push_str(&format!("\\U{:08x}", c as u32))
                    }
                }
                c => out.push(c),
            }
        }
        for b in bad {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// How two patterns' request sets relate (Go's `relationship`), from p1's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relationship {
    /// Both match the same requests.
    Equivalent,
    /// p1 matches everything p2 does, and more.
    MoreGeneral,
    /// p2 matches everything p1 does, and more.
    MoreSpecific,
    /// No request matches both.
    Disjoint,
    /// Some request matches both, but neither is more specific.
    Overlaps,
}

use Relationship::*;

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Equivalent => "equivalent",
            MoreGeneral => "moreGeneral",
            MoreSpecific => "moreSpecific",
            Disjoint => "disjoint",
            Overlaps => "overlaps",
        })
    }
}

impl Pattern {
    pub(crate) fn last_segment(&self) -> &Segment {
        // parse_pattern never returns a pattern without segments: its path starts with '/'.
        &self.segments[self.segments.len() - 1]
    }

    /// Go's `conflictsWith`. Precedence has two rules: a pattern with a host wins over one
    /// without; otherwise the pattern whose (method, path) set is a strict subset wins.
    /// Two patterns conflict when neither rule orders them: the same host, and
    /// equivalent or overlapping methods and paths.
    pub(crate) fn conflicts_with(&self, p2: &Pattern) -> bool {
        if self.host != p2.host {
            // Either one host is empty and the other is not (rule 1), or both are set
            // and differ (the patterns never match the same request).
            return false;
        }
        let rel = self.compare_paths_and_methods(p2);
        rel == Equivalent || rel == Overlaps
    }

    pub(crate) fn compare_paths_and_methods(&self, p2: &Pattern) -> Relationship {
        let mrel = self.compare_methods(p2);
        if mrel == Disjoint {
            return Disjoint;
        }
        combine_relationships(mrel, self.compare_paths(p2))
    }

    /// Go's `compareMethods`: "" matches every method, GET matches GET and HEAD, any
    /// other method only itself.
    pub(crate) fn compare_methods(&self, p2: &Pattern) -> Relationship {
        let (m1, m2) = (self.method.as_str(), p2.method.as_str());
        if m1 == m2 {
            Equivalent
        } else if m1.is_empty() {
            MoreGeneral
        } else if m2.is_empty() {
            MoreSpecific
        } else if m1 == "GET" && m2 == "HEAD" {
            MoreGeneral
        } else if m2 == "GET" && m1 == "HEAD" {
            MoreSpecific
        } else {
            Disjoint
        }
    }

    /// Go's `comparePaths`.
    pub(crate) fn compare_paths(&self, p2: &Pattern) -> Relationship {
        // A pattern without a multi at its end only matches paths with as many segments.
        if self.segments.len() != p2.segments.len()
            && !self.last_segment().multi
            && !p2.last_segment().multi
        {
            return Disjoint;
        }
        let mut rel = Equivalent;
        let n = self.segments.len().min(p2.segments.len());
        for (s1, s2) in self.segments[..n].iter().zip(&p2.segments[..n]) {
            rel = combine_relationships(rel, compare_segments(s1, s2));
            if rel == Disjoint {
                return rel;
            }
        }
        let (l1, l2) = (self.segments.len(), p2.segments.len());
        if l1 == l2 {
            return rel;
        }
        // The shorter pattern must end in a multi, more general than the rest of the
        // longer one.
        if l1 < l2 && self.last_segment().multi {
            return combine_relationships(rel, MoreGeneral);
        }
        if l2 < l1 && p2.last_segment().multi {
            return combine_relationships(rel, MoreSpecific);
        }
        Disjoint
    }
}

/// Go's `compareSegments`.
fn compare_segments(s1: &Segment, s2: &Segment) -> Relationship {
    if s1.multi && s2.multi {
        return Equivalent;
    }
    if s1.multi {
        return MoreGeneral;
    }
    if s2.multi {
        return MoreSpecific;
    }
    if s1.wild && s2.wild {
        return Equivalent;
    }
    if s1.wild {
        // A single wildcard does not match a trailing slash.
        return if s2.s == b"/" { Disjoint } else { MoreGeneral };
    }
    if s2.wild {
        return if s1.s == b"/" { Disjoint } else { MoreSpecific };
    }
    if s1.s == s2.s { Equivalent } else { Disjoint }
}

/// Go's `combineRelationships`: the relationship of two patterns from those of the two
/// parts of a partition of them.
pub(crate) fn combine_relationships(r1: Relationship, r2: Relationship) -> Relationship {
    match r1 {
        Equivalent => r2,
        Disjoint => Disjoint,
        Overlaps => {
            if r2 == Disjoint {
                Disjoint
            } else {
                Overlaps
            }
        }
        MoreGeneral | MoreSpecific => match r2 {
            Equivalent => r1,
            r if r == inverse_relationship(r1) => Overlaps,
            r => r,
        },
    }
}

/// If p1 has relationship `r` to p2, p2 has `inverse_relationship(r)` to p1.
pub(crate) fn inverse_relationship(r: Relationship) -> Relationship {
    match r {
        MoreSpecific => MoreGeneral,
        MoreGeneral => MoreSpecific,
        r => r,
    }
}

/// Go's `describeConflict`: why two conflicting patterns conflict, with example paths.
pub(crate) fn describe_conflict(p1: &Pattern, p2: &Pattern) -> String {
    let mrel = p1.compare_methods(p2);
    let prel = p1.compare_paths(p2);
    let rel = combine_relationships(mrel, prel);
    if rel == Equivalent {
        return format!("{p1} matches the same requests as {p2}");
    }
    if rel != Overlaps {
        // Only called on conflicting patterns; say what Go's panic would have said.
        return format!("bug: describeConflict called with non-conflicting patterns {p1} and {p2}");
    }
    if prel == Overlaps {
        return format!(
            "{p1} and {p2} both match some paths, like {}.\n\
             But neither is more specific than the other.\n\
             {p1} matches {}, but {p2} doesn't.\n\
             {p2} matches {}, but {p1} doesn't.",
            go_quote(&common_path(p1, p2)),
            go_quote(&difference_path(p1, p2)),
            go_quote(&difference_path(p2, p1)),
        );
    }
    if mrel == MoreGeneral && prel == MoreSpecific {
        return format!(
            "{p1} matches more methods than {p2}, but has a more specific path pattern"
        );
    }
    if mrel == MoreSpecific && prel == MoreGeneral {
        return format!(
            "{p1} matches fewer methods than {p2}, but has a more general path pattern"
        );
    }
    format!(
        "bug: unexpected way for two patterns {p1} and {p2} to conflict: methods {mrel}, paths {prel}"
    )
}

/// Go's `writeSegment`: "/" and, for a literal or single wildcard, its text.
fn write_segment(b: &mut Vec<u8>, s: &Segment) {
    b.push(b'/');
    if !s.multi && s.s != b"/" {
        b.extend_from_slice(&s.s);
    }
}

fn write_matching_path(b: &mut Vec<u8>, segs: &[Segment]) {
    for s in segs {
        write_segment(b, s);
    }
}

/// Go's `commonPath`: a path both patterns match (they must overlap).
pub(crate) fn common_path(p1: &Pattern, p2: &Pattern) -> Vec<u8> {
    let mut b = Vec::new();
    let n = p1.segments.len().min(p2.segments.len());
    for (s1, s2) in p1.segments[..n].iter().zip(&p2.segments[..n]) {
        write_segment(&mut b, if s1.wild { s2 } else { s1 });
    }
    if p1.segments.len() > n {
        write_matching_path(&mut b, &p1.segments[n..]);
    } else if p2.segments.len() > n {
        write_matching_path(&mut b, &p2.segments[n..]);
    }
    b
}

/// Go's `differencePath`: a path p1 matches and p2 does not (there must be one).
pub(crate) fn difference_path(p1: &Pattern, p2: &Pattern) -> Vec<u8> {
    let mut b = Vec::new();
    let n = p1.segments.len().min(p2.segments.len());
    for (s1, s2) in p1.segments[..n].iter().zip(&p2.segments[..n]) {
        if s1.multi && s2.multi {
            // From here both match the same paths: the difference came earlier.
            b.push(b'/');
            return b;
        }
        if s1.multi && !s2.multi {
            // A trailing slash tells them apart, unless s2 is {$}: then any segment does;
            // prefer the wildcard's name.
            b.push(b'/');
            if s2.s == b"/" {
                if !s1.s.is_empty() {
                    b.extend_from_slice(&s1.s);
                } else {
                    b.push(b'x');
                }
            }
            return b;
        }
        if !s1.multi && s2.multi {
            write_segment(&mut b, s1);
        } else if s1.wild && s2.wild {
            // Both match whatever goes here; use the first name.
            write_segment(&mut b, s1);
        } else if s1.wild && !s2.wild {
            // Anything but s2's literal; prefer the wildcard's name unless it is that
            // literal, then tweak the literal.
            if s1.s != s2.s {
                write_segment(&mut b, s1);
            } else {
                b.push(b'/');
                b.extend_from_slice(&s2.s);
                b.push(b'x');
            }
        } else {
            // A literal against a wildcard, or (the patterns overlap) the same literal.
            write_segment(&mut b, s1);
        }
    }
    if p1.segments.len() > n {
        write_matching_path(&mut b, &p1.segments[n..]);
    } else if p2.segments.len() > n {
        write_matching_path(&mut b, &p2.segments[n..]);
    }
    b
}

#[cfg(test)]
#[path = "pattern_test.rs"]
mod tests;
