//! The decision tree that matches requests to patterns: Go 1.22's routing_tree.go.
//!
//! The root branches on the request's host, the next level on its method, the levels
//! below on consecutive segments of its path. "Most specific wins" can backtrack: with
//! `/a/b/z` and `/a/{x}/c` registered, `/a/b/c` first tries `/a/b/z`, then `/a/{x}/c`.
//! At each level a literal child is tried before the single-wildcard child, and that
//! before the multi-wildcard child: registration refuses every pattern pair that this
//! order would get wrong (they conflict), so the first leaf found is the most specific.
//!
//! Matching a static path allocates nothing: keys are compared as borrowed bytes and
//! the list of wildcard values only grows when a wildcard matches.

use super::pattern::{Pattern, path_unescape};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Past this many children a node's literal children move from a list to a hash map
/// (Go's mapping.go keeps small maps as slices, searched linearly, for the same reason).
const MAX_SLICE: usize = 8;

/// A node of the tree (Go's `routingNode`): a leaf holds a pattern and its handler; an
/// interior node maps the next piece of the request to children.
pub(crate) struct RoutingNode<H> {
    pub(crate) pattern: Option<Arc<Pattern>>,
    pub(crate) handler: Option<H>,
    /// Literal children: hosts, methods, path segments, "/" for a trailing `{$}`.
    children: Children<H>,
    /// The child for "" (Go's `emptyChild`): any host or method, or a single wildcard
    /// (and, as in Go, a literal empty segment of an unclean pattern).
    empty_child: Option<Box<RoutingNode<H>>>,
    /// The child for a multi wildcard (Go's key "*"; kept apart so that a literal `*`
    /// segment is an ordinary literal).
    multi_child: Option<Box<RoutingNode<H>>>,
}

enum Children<H> {
    List(Vec<(Box<[u8]>, RoutingNode<H>)>),
    Map(HashMap<Box<[u8]>, RoutingNode<H>, BuildHasherDefault<Fnv>>),
}

/// FNV-1a: keys are short path segments chosen by the program, not by clients (a
/// request's segment is only looked up), so a fast hash without DoS hardening is safe
/// here, and SipHash would cost more than the rest of a static match.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl<H> Default for RoutingNode<H> {
    fn default() -> Self {
        RoutingNode {
            pattern: None,
            handler: None,
            children: Children::List(Vec::new()),
            empty_child: None,
            multi_child: None,
        }
    }
}

/// The wildcard values of a match, in the order the wildcards appear in the pattern.
pub(crate) type Matches<'p> = Vec<Cow<'p, [u8]>>;

impl<H> RoutingNode<H> {
    /// Go's `addPattern`: host, then method, then the path's segments.
    pub(crate) fn add_pattern(&mut self, p: Arc<Pattern>, h: H) {
        let host = p.host.clone();
        let method = p.method.clone();
        let n = self.add_child(host.as_bytes()).add_child(method.as_bytes());
        let segs = p.segments.clone();
        n.add_segments(&segs, p, h);
    }

    fn add_segments(&mut self, segs: &[super::pattern::Segment], p: Arc<Pattern>, h: H) {
        let Some(seg) = segs.first() else {
            self.set(p, h);
            return;
        };
        if seg.multi {
            // parse_pattern only puts a multi last.
            self.multi_child
                .get_or_insert_with(Default::default)
                .set(p, h);
        } else if seg.wild {
            self.add_child(b"").add_segments(&segs[1..], p, h);
        } else {
            self.add_child(&seg.s).add_segments(&segs[1..], p, h);
        }
    }

    /// Makes this node a leaf. The mux checks for conflicts first, and two patterns that
    /// reach the same leaf are equivalent, so a leaf is never set twice.
    fn set(&mut self, p: Arc<Pattern>, h: H) {
        debug_assert!(self.pattern.is_none(), "leaf set twice: {}", p);
        self.pattern = Some(p);
        self.handler = Some(h);
    }

    /// Go's `addChild`: the child for `key`, created if missing.
    fn add_child(&mut self, key: &[u8]) -> &mut RoutingNode<H> {
        if key.is_empty() {
            return self.empty_child.get_or_insert_with(Default::default);
        }
        if let Children::List(list) = &mut self.children {
            if list.len() >= MAX_SLICE && !list.iter().any(|(k, _)| &**k == key) {
                let map = std::mem::take(list).into_iter().collect();
                self.children = Children::Map(map);
            }
        }
        match &mut self.children {
            Children::List(list) => {
                let i = match list.iter().position(|(k, _)| &**k == key) {
                    Some(i) => i,
                    None => {
                        list.push((key.into(), RoutingNode::default()));
                        list.len() - 1
                    }
                };
                &mut list[i].1
            }
            Children::Map(map) => map.entry(key.into()).or_default(),
        }
    }

    /// Go's `findChild`.
    pub(crate) fn find_child(&self, key: &[u8]) -> Option<&RoutingNode<H>> {
        if key.is_empty() {
            return self.empty_child.as_deref();
        }
        match &self.children {
            Children::List(list) => list.iter().find(|(k, _)| &**k == key).map(|(_, n)| n),
            Children::Map(map) => map.get(key),
        }
    }

    /// Go's `match`: the leaf that matches, and the wildcard values. A pattern with the
    /// request's host is tried first; if none matches, patterns without a host.
    pub(crate) fn match_request<'p>(
        &self,
        host: &str,
        method: &str,
        path: &'p str,
        matches: &mut Matches<'p>,
    ) -> Option<&RoutingNode<H>> {
        if !host.is_empty() {
            if let Some(l) = self
                .find_child(host.as_bytes())
                .and_then(|n| n.match_method_and_path(method, path, matches))
            {
                return Some(l);
            }
        }
        self.empty_child
            .as_deref()
            .and_then(|n| n.match_method_and_path(method, path, matches))
    }

    /// Go's `matchMethodAndPath`: the exact method, then GET for HEAD, then no method.
    fn match_method_and_path<'p>(
        &self,
        method: &str,
        path: &'p str,
        matches: &mut Matches<'p>,
    ) -> Option<&RoutingNode<H>> {
        if let Some(l) = self
            .find_child(method.as_bytes())
            .and_then(|n| n.match_path(path, matches))
        {
            return Some(l);
        }
        if method == "HEAD" {
            if let Some(l) = self
                .find_child(b"GET")
                .and_then(|n| n.match_path(path, matches))
            {
                return Some(l);
            }
        }
        self.empty_child
            .as_deref()
            .and_then(|n| n.match_path(path, matches))
    }

    /// Go's `matchPath`, recursive. On failure `matches` is as it was on entry.
    fn match_path<'p>(&self, path: &'p str, matches: &mut Matches<'p>) -> Option<&RoutingNode<H>> {
        // An empty path ends the match: found if this is a leaf.
        if path.is_empty() {
            return self.pattern.as_ref().map(|_| self);
        }
        let (seg, rest) = first_segment(path);
        // Literal children first: by construction they are more specific than a
        // wildcard here (registration ruled out the other cases).
        if let Some(n) = self
            .find_child(&seg)
            .and_then(|c| c.match_path(rest, matches))
        {
            return Some(n);
        }
        // Then a single wildcard, which does not match a trailing slash.
        if &*seg != b"/" {
            if let Some(c) = self.empty_child.as_deref() {
                let mark = matches.len();
                matches.push(seg);
                if let Some(n) = c.match_path(rest, matches) {
                    return Some(n);
                }
                matches.truncate(mark);
            }
        }
        // Last, the (at most one) multi wildcard here takes the rest of the path. The
        // anonymous multi of a trailing slash records no value.
        let c = self.multi_child.as_deref()?;
        if let Some(p) = &c.pattern {
            if !p.last_segment().s.is_empty() {
                matches.push(path_unescape(&path[1..]));
            }
        }
        Some(c)
    }

    /// Go's `matchingMethods`: every method that would match `host` and `path`, for the
    /// `Allow` header of a 405. GET brings HEAD.
    pub(crate) fn matching_methods(&self, host: &str, path: &str, set: &mut Vec<String>) {
        if !host.is_empty() {
            if let Some(n) = self.find_child(host.as_bytes()) {
                n.matching_methods_path(path, set);
            }
        }
        if let Some(n) = self.empty_child.as_deref() {
            n.matching_methods_path(path, set);
        }
        if set.iter().any(|m| m == "GET") && !set.iter().any(|m| m == "HEAD") {
            set.push("HEAD".to_string());
        }
    }

    fn matching_methods_path(&self, path: &str, set: &mut Vec<String>) {
        let mut add = |method: &[u8], c: &RoutingNode<H>| {
            let mut m = Vec::new();
            if c.match_path(path, &mut m).is_some() {
                let method = String::from_utf8_lossy(method).into_owned();
                if !set.contains(&method) {
                    set.push(method);
                }
            }
        };
        // Not the empty child: it matches any method, and this only runs when the
        // request's method did not match.
        match &self.children {
            Children::List(list) => list.iter().for_each(|(k, c)| add(k, c)),
            Children::Map(map) => map.iter().for_each(|(k, c)| add(k, c)),
        }
    }
}

/// Go's `firstSegment`: the first segment of `path` (which starts with '/'), unescaped
/// when it can be, and the rest. A lone "/" is the segment "/" (a trailing slash).
pub(crate) fn first_segment(path: &str) -> (Cow<'_, [u8]>, &str) {
    if path == "/" {
        return (Cow::Borrowed(b"/"), "");
    }
    let path = &path[1..];
    let i = path.bytes().position(|b| b == b'/').unwrap_or(path.len());
    (path_unescape(&path[..i]), &path[i..])
}

#[cfg(test)]
mod tests {
    use super::super::pattern::parse_pattern;
    use super::*;

    fn tree(pats: &[&str]) -> RoutingNode<String> {
        let mut root = RoutingNode::default();
        for p in pats {
            root.add_pattern(Arc::new(parse_pattern(p).unwrap()), p.to_string());
        }
        root
    }

    fn lookup(t: &RoutingNode<String>, host: &str, method: &str, path: &str) -> String {
        let mut m = Vec::new();
        match t.match_request(host, method, path, &mut m) {
            None => String::new(),
            Some(n) => {
                let vals: Vec<String> = m
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect();
                if vals.is_empty() {
                    n.handler.clone().unwrap()
                } else {
                    format!("{} {:?}", n.handler.as_ref().unwrap(), vals)
                }
            }
        }
    }

    // Go's TestRoutingNodeMatch, with its test tree.
    #[test]
    fn matches_as_go_does() {
        let t = tree(&[
            "/a",
            "/a/b/c",
            "/a/b/{x}",
            "/a/{y}/c",
            "/a/{y}/{z}",
            "/a/{x}/e",
            "/{x}/b/c",
            "/a/b/c/d/{$}",
            "/a/b/c/d/{f...}",
            "POST /b/c",
            "GET /b/c",
            "/g/{rest...}",
            "/h/",
            "example.com/",
            "example.com/g/{$}",
            "example.com/g/{rest...}",
            "a.com/",
            "a.com/b",
            "a.com/b/",
            "HEAD /x",
            "GET /x",
            "POST /y",
        ]);
        let cases = [
            ("", "GET", "/a", "/a"),
            ("", "GET", "/b", ""),
            ("", "GET", "/a/b/c", "/a/b/c"),
            ("", "GET", "/a/b/d", "/a/b/{x} [\"d\"]"),
            ("", "GET", "/a/q/c", "/a/{y}/c [\"q\"]"),
            ("", "GET", "/a/q/d", "/a/{y}/{z} [\"q\", \"d\"]"),
            ("", "GET", "/a/q/e", "/a/{x}/e [\"q\"]"),
            ("", "GET", "/q/b/c", "/{x}/b/c [\"q\"]"),
            ("", "GET", "/a/b/c/d/", "/a/b/c/d/{$}"),
            ("", "GET", "/a/b/c/d/e", "/a/b/c/d/{f...} [\"e\"]"),
            ("", "GET", "/a/b/c/d/e/f", "/a/b/c/d/{f...} [\"e/f\"]"),
            ("", "POST", "/b/c", "POST /b/c"),
            ("", "HEAD", "/b/c", "GET /b/c"),
            ("", "PUT", "/b/c", ""),
            ("", "GET", "/g/x/y", "/g/{rest...} [\"x/y\"]"),
            ("", "GET", "/g/", "/g/{rest...} [\"\"]"),
            ("", "GET", "/h/x", "/h/"),
            ("example.com", "GET", "/", "example.com/"),
            ("example.com", "GET", "/g/", "example.com/g/{$}"),
            (
                "example.com",
                "GET",
                "/g/x",
                "example.com/g/{rest...} [\"x\"]",
            ),
            ("example.com", "GET", "/a", "example.com/"),
            ("a.com", "GET", "/b", "a.com/b"),
            ("a.com", "GET", "/b/", "a.com/b/"),
            ("a.com", "GET", "/c", "a.com/"),
            ("b.com", "GET", "/a", "/a"),
            ("", "HEAD", "/x", "HEAD /x"),
            ("", "GET", "/x", "GET /x"),
            ("", "GET", "/y", ""),
            ("", "GET", "/a%2Fb/b/c", "/{x}/b/c [\"a/b\"]"),
        ];
        for (host, method, path, want) in cases {
            assert_eq!(
                lookup(&t, host, method, path),
                want,
                "{host} {method} {path}"
            );
        }
    }

    #[test]
    fn lists_allowed_methods() {
        let t = tree(&["GET /a", "POST /a", "DELETE /a/{x}", "PUT a.com/a", "/b"]);
        let mut set = Vec::new();
        t.matching_methods("", "/a", &mut set);
        set.sort();
        assert_eq!(set, ["GET", "HEAD", "POST"]);
        let mut set = Vec::new();
        t.matching_methods("a.com", "/a", &mut set);
        set.sort();
        assert_eq!(set, ["GET", "HEAD", "POST", "PUT"]);
    }

    #[test]
    fn many_children_move_to_a_map() {
        let pats: Vec<String> = (0..40).map(|i| format!("/p{i}/{{x}}")).collect();
        let refs: Vec<&str> = pats.iter().map(|s| s.as_str()).collect();
        let t = tree(&refs);
        for (i, p) in pats.iter().enumerate() {
            assert_eq!(
                lookup(&t, "", "GET", &format!("/p{i}/v")),
                format!("{p} [\"v\"]")
            );
        }
        assert_eq!(lookup(&t, "", "GET", "/p40/v"), "");
    }

    #[test]
    fn static_match_allocates_no_match_list() {
        let t = tree(&["/a/b/c", "/a/{x}/d"]);
        let mut m = Vec::new();
        assert!(t.match_request("", "GET", "/a/b/c", &mut m).is_some());
        assert_eq!(m.capacity(), 0);
        // A failed wildcard branch leaves nothing behind.
        let t = tree(&["/a/{x}/d", "/a/"]);
        let mut m = Vec::new();
        let n = t.match_request("", "GET", "/a/b/c", &mut m).unwrap();
        assert_eq!(n.handler.as_deref(), Some("/a/"));
        assert!(m.is_empty());
    }
}
