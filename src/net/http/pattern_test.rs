//! Unit tests of pattern.rs, Go's pattern_test.go tables among them.
use super::*;

fn lit(s: &str) -> Segment {
    Segment::literal(s.as_bytes().to_vec())
}
fn wild(s: &str) -> Segment {
    Segment {
        s: s.as_bytes().to_vec(),
        wild: true,
        multi: false,
    }
}
fn multi(s: &str) -> Segment {
    Segment {
        s: s.as_bytes().to_vec(),
        wild: true,
        multi: true,
    }
}
fn p(s: &str) -> Pattern {
    parse_pattern(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

// Go's TestParsePattern table.
#[test]
fn parses_go_table() {
    let cases: Vec<(&str, &str, &str, Vec<Segment>)> = vec![
        ("/", "", "", vec![multi("")]),
        ("/a", "", "", vec![lit("a")]),
        ("/a/", "", "", vec![lit("a"), multi("")]),
        (
            "/path/to/something",
            "",
            "",
            vec![lit("path"), lit("to"), lit("something")],
        ),
        (
            "/{w1}/lit/{w2}",
            "",
            "",
            vec![wild("w1"), lit("lit"), wild("w2")],
        ),
        (
            "/{w1}/lit/{w2}/",
            "",
            "",
            vec![wild("w1"), lit("lit"), wild("w2"), multi("")],
        ),
        ("example.com/", "", "example.com", vec![multi("")]),
        ("GET /", "GET", "", vec![multi("")]),
        (
            "POST example.com/foo/{w}",
            "POST",
            "example.com",
            vec![lit("foo"), wild("w")],
        ),
        ("/{$}", "", "", vec![lit("/")]),
        (
            "DELETE example.com/a/{foo12}/{$}",
            "DELETE",
            "example.com",
            vec![lit("a"), wild("foo12"), lit("/")],
        ),
        ("/foo/{$}", "", "", vec![lit("foo"), lit("/")]),
        (
            "/{a}/foo/{rest...}",
            "",
            "",
            vec![wild("a"), lit("foo"), multi("rest")],
        ),
        ("//", "", "", vec![lit(""), multi("")]),
        (
            "/foo///./../bar",
            "",
            "",
            vec![
                lit("foo"),
                lit(""),
                lit(""),
                lit("."),
                lit(".."),
                lit("bar"),
            ],
        ),
        (
            "a.com/foo//",
            "",
            "a.com",
            vec![lit("foo"), lit(""), multi("")],
        ),
        ("/%61%62/%7b/%", "", "", vec![lit("ab"), lit("{"), lit("%")]),
        // Allow multiple spaces matching regexp '[ \t]+' between method and path.
        ("GET\t  /", "GET", "", vec![multi("")]),
        (
            "POST \t  example.com/foo/{w}",
            "POST",
            "example.com",
            vec![lit("foo"), wild("w")],
        ),
        (
            "DELETE    \texample.com/a/{foo12}/{$}",
            "DELETE",
            "example.com",
            vec![lit("a"), wild("foo12"), lit("/")],
        ),
    ];
    for (input, method, host, segs) in cases {
        let got = p(input);
        assert_eq!(got.method, method, "{input}");
        assert_eq!(got.host, host, "{input}");
        assert_eq!(got.segments, segs, "{input}");
        assert_eq!(got.to_string(), input);
    }
}

// Go's TestParsePatternError table: the text after "parsing %q: ".
#[test]
fn refuses_go_table() {
    let cases = [
        ("", "empty pattern"),
        ("A=B /", "at offset 0: invalid method \"A=B\""),
        (" ", "at offset 1: host/path missing /"),
        ("/{w}x", "at offset 1: bad wildcard segment"),
        ("/x{w}", "at offset 1: bad wildcard segment"),
        ("/{wx", "at offset 1: bad wildcard segment"),
        ("/a/{/}/c", "at offset 3: bad wildcard segment"),
        ("/a/{%61}/c", "at offset 3: bad wildcard name"),
        ("/{a$}", "at offset 1: bad wildcard name"),
        ("/{}", "at offset 1: empty wildcard"),
        ("POST a.com/x/{}/y", "at offset 13: empty wildcard"),
        ("/{...}", "at offset 1: empty wildcard"),
        ("/{$...}", "at offset 1: bad wildcard"),
        ("/{$}/", "at offset 1: {$} not at end"),
        ("/{$}/x", "at offset 1: {$} not at end"),
        ("/abc/{$}/x", "at offset 5: {$} not at end"),
        ("/{a...}/", "at offset 1: {...} wildcard not at end"),
        ("/{a...}/x", "at offset 1: {...} wildcard not at end"),
        (
            "{a}/b",
            "at offset 0: host contains '{' (missing initial '/'?)",
        ),
        (
            "/a/{x}/b/{x...}",
            "at offset 9: duplicate wildcard name \"x\"",
        ),
        (
            "GET //",
            "at offset 4: non-CONNECT pattern with unclean path",
        ),
    ];
    for (input, want) in cases {
        let err = parse_pattern(input).expect_err(input).to_string();
        assert!(
            err.starts_with(want),
            "{input:?}: got {err:?}, want {want:?}..."
        );
    }
}

// Go's TestCompareMethods / TestComparePaths, and the relationship algebra.
#[test]
fn compares_paths_as_go_does() {
    let cases = [
        ("/a", "/a", Equivalent),
        ("/a", "/b", Disjoint),
        ("/a", "/", MoreSpecific),
        ("/a", "/{$}", Disjoint),
        ("/", "/{$}", MoreGeneral),
        ("/b/{x}", "/b/", MoreSpecific),
        ("/{x}/{y}", "/{z}/c", MoreGeneral),
        ("/a/{x}", "/{y}/b", Overlaps),
        ("/a/{x...}", "/a/", Equivalent),
        ("/a/{x...}", "/a/{$}", MoreGeneral),
        ("/{x}", "/{$}", Disjoint),
        ("/{x}/{$}", "/a/", Overlaps),
        ("/{x}/{$}", "/", MoreSpecific),
        ("/a/b/{x...}", "/a/{y}/c", Overlaps),
    ];
    for (a, b, want) in cases {
        assert_eq!(p(a).compare_paths(&p(b)), want, "{a} vs {b}");
        assert_eq!(
            p(b).compare_paths(&p(a)),
            inverse_relationship(want),
            "{b} vs {a}"
        );
    }
    let methods = [
        ("/", "/", Equivalent),
        ("GET /", "GET /", Equivalent),
        ("HEAD /", "HEAD /", Equivalent),
        ("POST /", "POST /", Equivalent),
        ("GET /", "POST /", Disjoint),
        ("GET /", "/", MoreSpecific),
        ("HEAD /", "/", MoreSpecific),
        ("GET /", "HEAD /", MoreGeneral),
    ];
    for (a, b, want) in methods {
        assert_eq!(p(a).compare_methods(&p(b)), want, "{a} vs {b}");
    }
}

// Go's TestConflictsWith.
#[test]
fn conflicts_as_go_does() {
    let cases = [
        ("/a", "/a", true),
        ("/a", "/ab", false),
        ("/a/b/cd", "/a/b/cd", true),
        ("/a/b/cd", "/a/b/c", false),
        ("/a/b/c", "/a/c/c", false),
        ("/{x}", "/{y}", true),
        ("/{x}", "/a", false),
        ("/{x}/{y}", "/{x}/a", false),
        ("/{x}/{y}", "/{x}/a/b", false),
        ("/{x}", "/a/{y}", false),
        ("/{x}/{y}", "/{x}/a/", false),
        ("/{x}", "/a/{y...}", false),
        ("/{x}/a/{y}", "/{x}/a/{y...}", false),
        ("/{x}/{y}", "/{x}/a/{$}", false),
        ("/{x}/{y}/{$}", "/{x}/a/{$}", false),
        ("/a/{x}", "/{x}/b", true),
        ("/", "GET /", false),
        ("/", "GET /foo", false),
        ("GET /", "GET /foo", false),
        ("GET /", "/foo", true),
        ("GET /", "/foo", true),
        ("GET /", "/foo", true),
        ("/foo", "GET /", true),
        ("/foo", "GET /foo", false),
        ("GET /foo", "/foo", false),
        ("GET /foo", "GET /foo", true),
        ("GET /", "HEAD /foo", false),
        ("HEAD /", "GET /foo", true),
        ("/a/{x}", "/{y}/b", true),
        ("/a/b/{x...}", "/a/{y}/c", true),
        ("/{x}/b", "/a/{y}", true),
        ("/a/{x}/{$}", "/{y}/b/{$}", true),
        ("a.com/", "b.com/", false),
        ("a.com/", "a.com/foo", false),
        ("a.com/{x}", "a.com/{y}", true),
        ("a.com/", "/", false),
        ("/", "a.com/", false),
    ];
    for (a, b, want) in cases {
        assert_eq!(p(a).conflicts_with(&p(b)), want, "{a} vs {b}");
        assert_eq!(p(b).conflicts_with(&p(a)), want, "{b} vs {a}");
    }
}

// Go's TestDescribeConflict.
#[test]
fn describes_conflicts_as_go_does() {
    let cases = [
        ("/a/{x}", "/a/{y}", "the same requests"),
        ("/", "/{m...}", "the same requests"),
        ("/a/{x}", "/{y}/b", "both match some paths"),
        (
            "/a",
            "GET /{x}",
            "matches more methods than GET /{x}, but has a more specific path pattern",
        ),
        (
            "GET /a",
            "HEAD /",
            "matches more methods than HEAD /, but has a more specific path pattern",
        ),
        (
            "POST /",
            "/a",
            "matches fewer methods than /a, but has a more general path pattern",
        ),
    ];
    for (a, b, want) in cases {
        let got = describe_conflict(&p(a), &p(b));
        assert!(got.contains(want), "{a} vs {b}: {got}");
    }
    assert_eq!(
        describe_conflict(&p("/a/{x}"), &p("/{y}/b")),
        "/a/{x} and /{y}/b both match some paths, like \"/a/b\".\n\
         But neither is more specific than the other.\n\
         /a/{x} matches \"/a/x\", but /{y}/b doesn't.\n\
         /{y}/b matches \"/y/b\", but /a/{x} doesn't."
    );
}

// Go's TestCommonPath and TestDifferencePath.
#[test]
fn example_paths_as_go_writes_them() {
    let common = [
        ("/a/{x}", "/{x}/a", "/a/a"),
        ("/a/{z}/", "/{z}/a/", "/a/a/"),
        ("/a/{z}/{m...}", "/{z}/a/", "/a/a/"),
        ("/{z}/{$}", "/a/", "/a/"),
        ("/{z}/{$}", "/a/{x...}", "/a/"),
        ("/a/{z}/{$}", "/{z}/a/", "/a/a/"),
        ("/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/c/b/"),
        ("/a/{x}/b/", "/{x}/c/{y...}", "/a/c/b/"),
        ("/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/c/b/"),
        ("/a/{z}/{x...}", "/{z}/b/{y...}", "/a/b/"),
    ];
    for (a, b, want) in common {
        assert_eq!(common_path(&p(a), &p(b)), want.as_bytes(), "{a} {b}");
    }
    let diff = [
        ("/a/{x}", "/{x}/a", "/a/x"),
        ("/{x}/a", "/a/{x}", "/x/a"),
        ("/a/{z}/", "/{z}/a/", "/a/z/"),
        ("/{z}/a/", "/a/{z}/", "/z/a/"),
        ("/{a}/a/", "/a/{z}/", "/ax/a/"),
        ("/a/{z}/{x...}", "/{z}/b/{y...}", "/a/z/"),
        ("/{z}/b/{y...}", "/a/{z}/{x...}", "/z/b/"),
        ("/a/b/", "/a/b/c", "/a/b/"),
        ("/a/b/{x...}", "/a/b/c", "/a/b/"),
        ("/a/b/{x...}", "/a/b/c/d", "/a/b/"),
        ("/a/b/{x...}", "/a/b/c/d/", "/a/b/"),
        ("/a/{z}/{m...}", "/{z}/a/", "/a/z/"),
        ("/{z}/a/", "/a/{z}/{m...}", "/z/a/"),
        ("/{z}/{$}", "/a/", "/z/"),
        ("/a/", "/{z}/{$}", "/a/x"),
        ("/{z}/{$}", "/a/{x...}", "/z/"),
        ("/a/{foo...}", "/{z}/{$}", "/a/foo"),
        ("/a/{z}/{$}", "/{z}/a/", "/a/z/"),
        ("/{z}/a/", "/a/{z}/{$}", "/z/a/x"),
        ("/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/x/b/"),
        ("/{x}/c/{y...}", "/a/{x}/b/{y...}", "/x/c/"),
        ("/a/{c}/b/", "/{x}/c/{y...}", "/a/cx/b/"),
        ("/{x}/c/{y...}", "/a/{c}/b/", "/x/c/"),
        ("/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/x/b/"),
        ("/{x}/c/{y...}", "/a/{x}/b/{$}", "/x/c/"),
    ];
    for (a, b, want) in diff {
        let got = difference_path(&p(a), &p(b));
        assert_eq!(String::from_utf8_lossy(&got), want, "{a} - {b}");
    }
}

#[test]
fn quotes_as_go_does() {
    assert_eq!(go_quote(b"a\"b\\c"), r#""a\"b\\c""#);
    assert_eq!(go_quote(b"\n\t\x01\x7f\xff"), r#""\n\t\x01\x7f\xff""#);
    assert_eq!(go_quote("é".as_bytes()), "\"é\"");
}

#[test]
fn unescapes_paths_as_go_does() {
    assert_eq!(path_unescape("a%2Fb"), &b"a/b"[..]);
    assert_eq!(path_unescape("100%25"), &b"100%"[..]);
    assert_eq!(path_unescape("a+b"), &b"a+b"[..]);
    assert_eq!(path_unescape("bad%zz"), &b"bad%zz"[..]);
    assert_eq!(path_unescape("%"), &b"%"[..]);
    assert_eq!(path_unescape("%ff"), &[0xffu8][..]);
    assert!(matches!(path_unescape("plain"), Cow::Borrowed(_)));
}
