//! Unit tests of cookie.rs, Go's cookie_test.go tables among them.
use super::super::time_format::from_unix;
use super::*;

fn c(name: &str, value: &str) -> Cookie {
    Cookie::new(name, value)
}

// Go's writeSetCookiesTests.
#[test]
fn writes_set_cookie_as_go_does() {
    let cases: Vec<(Cookie, &str)> = vec![
        (
            Cookie {
                path: "/".into(),
                ..c("cookie-1", "v$1")
            },
            "cookie-1=v$1; Path=/",
        ),
        (
            Cookie {
                domain: ".google.com".into(),
                ..c("cookie-2", "two")
            },
            "cookie-2=two; Domain=google.com",
        ),
        (
            Cookie {
                path: "/restricted/".into(),
                max_age: 3600,
                ..c("cookie-3", "three")
            },
            "cookie-3=three; Path=/restricted/; Max-Age=3600",
        ),
        (
            Cookie {
                max_age: -1,
                ..c("cookie-4", "four")
            },
            "cookie-4=four; Max-Age=0",
        ),
        (
            Cookie {
                expires: Some(from_unix(1_257_894_000)),
                ..c("cookie-5", "five")
            },
            "cookie-5=five; Expires=Tue, 10 Nov 2009 23:00:00 GMT",
        ),
        (
            Cookie {
                expires: Some(from_unix(-11_644_473_601)),
                ..c("cookie-6", "six")
            },
            "cookie-6=six",
        ),
        (
            Cookie {
                expires: Some(from_unix(-11_644_473_600)),
                ..c("cookie-7", "seven")
            },
            "cookie-7=seven; Expires=Mon, 01 Jan 1601 00:00:00 GMT",
        ),
        (
            Cookie {
                same_site: SameSite::DefaultMode,
                ..c("cookie-9", "expiring-1601")
            },
            "cookie-9=expiring-1601",
        ),
        (
            Cookie {
                same_site: SameSite::LaxMode,
                ..c("cookie-10", "lax")
            },
            "cookie-10=lax; SameSite=Lax",
        ),
        (
            Cookie {
                same_site: SameSite::NoneMode,
                ..c("cookie-11", "none")
            },
            "cookie-11=none; SameSite=None",
        ),
        (
            Cookie {
                same_site: SameSite::StrictMode,
                ..c("cookie-12", "strict")
            },
            "cookie-12=strict; SameSite=Strict",
        ),
        (
            Cookie {
                path: "/".into(),
                partitioned: true,
                secure: true,
                ..c("cookie-13", "samesite-none")
            },
            "cookie-13=samesite-none; Path=/; Secure; Partitioned",
        ),
        (
            Cookie {
                domain: "127.0.0.1".into(),
                ..c("cookie-14", "ip")
            },
            "cookie-14=ip; Domain=127.0.0.1",
        ),
        (
            Cookie {
                domain: "::1".into(),
                ..c("cookie-15", "ipv6")
            },
            "cookie-15=ipv6",
        ),
        (
            Cookie {
                domain: "bad domain".into(),
                ..c("cookie-16", "x")
            },
            "cookie-16=x",
        ),
        (c("cookie-17", "a b"), "cookie-17=\"a b\""),
        (c("cookie-18", "a,b"), "cookie-18=\"a,b\""),
        (c("cookie-19", "a\"b;c\\d\ne"), "cookie-19=abcde"),
        (
            Cookie {
                quoted: true,
                ..c("cookie-20", "q")
            },
            "cookie-20=\"q\"",
        ),
        (
            Cookie {
                quoted: true,
                ..c("cookie-21", "")
            },
            "cookie-21=",
        ),
        (
            Cookie {
                path: "/a;b\x7f".into(),
                ..c("cookie-22", "p")
            },
            "cookie-22=p; Path=/ab",
        ),
        (c("bad name", "x"), ""),
        (c("", "x"), ""),
        (
            Cookie {
                http_only: true,
                secure: true,
                ..c("a", "")
            },
            "a=; HttpOnly; Secure",
        ),
    ];
    for (cookie, want) in cases {
        assert_eq!(cookie.to_string(), want, "{cookie:?}");
    }
}

// Go's readSetCookiesTests.
#[test]
fn reads_set_cookie_as_go_does() {
    let t = parse_set_cookie(
        "NID=99=YsDT5i3E-CXax-; expires=Wed, 23-Nov-2011 01:05:03 GMT; path=/; domain=.google.ch; HttpOnly",
    )
    .unwrap();
    assert_eq!(t.value, "99=YsDT5i3E-CXax-");
    assert_eq!(t.path, "/");
    assert_eq!(t.domain, ".google.ch");
    assert!(t.http_only);
    assert_eq!(t.expires, Some(from_unix(1_322_010_303)));
    assert_eq!(t.raw_expires, "Wed, 23-Nov-2011 01:05:03 GMT");
    let t = parse_set_cookie(
        ".ASPXAUTH=7E3AA; expires=Wed, 07-Mar-2012 14:25:06 GMT; path=/; HttpOnly",
    )
    .unwrap();
    assert_eq!(t.name, ".ASPXAUTH");
    let t = parse_set_cookie("ASP.NET_SessionId=foo; path=/; HttpOnly").unwrap();
    assert_eq!(
        (t.name.as_str(), t.value.as_str()),
        ("ASP.NET_SessionId", "foo")
    );
    for (line, ss) in [
        ("s=1; SameSite", SameSite::DefaultMode),
        ("s=1; SameSite=Lax", SameSite::LaxMode),
        ("s=1; samesite=STRICT", SameSite::StrictMode),
        ("s=1; SameSite=None", SameSite::NoneMode),
        ("s=1; SameSite=Bogus", SameSite::DefaultMode),
    ] {
        assert_eq!(parse_set_cookie(line).unwrap().same_site, ss, "{line}");
    }
    let t = parse_set_cookie("special-2=\"a\\\\b\"").unwrap_err();
    assert_eq!(t.to_string(), "http: invalid cookie value");
    let t = parse_set_cookie("special-3=\"a\"; Max-Age=010; Max-Age=-5; Partitioned; Foo=\"b\"; X")
        .unwrap();
    assert_eq!(
        (t.value.as_str(), t.quoted, t.max_age, t.partitioned),
        ("a", true, -1, true)
    );
    assert_eq!(t.unparsed, ["Max-Age=010", "Foo=\"b\"", "X"]);
    let t = parse_set_cookie("e=1; Expires=soon").unwrap();
    assert_eq!((t.expires, t.raw_expires.as_str()), (None, "soon"));
    assert_eq!(t.unparsed, ["Expires=soon"]);
    for (line, err) in [
        ("", "http: blank cookie"),
        ("   ", "http: blank cookie"),
        ("novalue", "http: '=' not found in cookie"),
        ("bad name=1", "http: invalid cookie name"),
        ("=1", "http: invalid cookie name"),
    ] {
        assert_eq!(
            parse_set_cookie(line).unwrap_err().to_string(),
            err,
            "{line:?}"
        );
    }
    let got = read_set_cookies(["a=1", "bad", "b=2; Path=/"]);
    assert_eq!(got.len(), 2);
    let lines: Vec<String> = (0..=DEFAULT_COOKIE_MAX_NUM)
        .map(|i| format!("c{i}=v"))
        .collect();
    assert!(read_set_cookies(lines.iter().map(|s| s.as_str())).is_empty());
}

// Go's readCookiesTests.
#[test]
fn reads_request_cookies_as_go_does() {
    let names = |cs: Vec<Cookie>| -> Vec<(String, String)> {
        cs.into_iter().map(|c| (c.name, c.value)).collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        names(read_cookies(&["Cookie-1=v$1", "c2=v2"], "")),
        pairs(&[("Cookie-1", "v$1"), ("c2", "v2")])
    );
    assert_eq!(
        names(read_cookies(&["Cookie-1=v$1", "c2=v2"], "c2")),
        pairs(&[("c2", "v2")])
    );
    assert_eq!(
        names(read_cookies(&["Cookie-1=v$1; c2=v2"], "")),
        pairs(&[("Cookie-1", "v$1"), ("c2", "v2")])
    );
    assert_eq!(
        names(read_cookies(&["  Cookie-1  =  v$1  ;  c2  =  v2  "], "")),
        pairs(&[("Cookie-1", "  v$1"), ("c2", "  v2")])
    );
    assert_eq!(
        names(read_cookies(&[r#"Cookie-1="v$1"; c2="v2""#], "")),
        pairs(&[("Cookie-1", "v$1"), ("c2", "v2")])
    );
    assert_eq!(
        names(read_cookies(&["bad cookie=1; ok=2; x=\"a b\""], "")),
        pairs(&[("ok", "2"), ("x", "a b")])
    );
    assert_eq!(names(read_cookies(&["k"], "")), pairs(&[("k", "")]));
    assert!(read_cookies(&[], "").is_empty());
    let many = vec!["a=1;"; 1501];
    assert!(read_cookies(&many, "").is_empty());
}

#[test]
fn parses_cookie_headers_as_go_does() {
    let cs = parse_cookie("Cookie-1=v$1;c2=v2").unwrap();
    assert_eq!(cs.len(), 2);
    assert_eq!(
        parse_cookie("").unwrap_err().to_string(),
        "http: blank cookie"
    );
    assert_eq!(
        parse_cookie("a=1;;b=2").unwrap_err().to_string(),
        "http: '=' not found in cookie"
    );
    assert_eq!(
        parse_cookie("a=\"b").unwrap_err().to_string(),
        "http: invalid cookie value"
    );
    assert_eq!(
        parse_cookie("a b=1").unwrap_err().to_string(),
        "http: invalid cookie name"
    );
    let e = parse_cookie(&"a=1;".repeat(3000)).unwrap_err();
    assert_eq!(e.to_string(), "http: number of cookies exceeded limit");
    assert!(e.get_ref().unwrap().downcast_ref::<CookieError>().is_some());
}

#[test]
fn validates_as_go_does() {
    let v = |c: Cookie| c.valid().err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(v(c("a", "b")), "");
    assert_eq!(v(c("", "b")), "http: invalid Cookie.Name");
    assert_eq!(
        v(Cookie {
            expires: Some(from_unix(-11_644_473_601)),
            ..c("a", "b")
        }),
        "http: invalid Cookie.Expires"
    );
    assert_eq!(v(c("a", "\"")), "http: invalid byte '\"' in Cookie.Value");
    assert_eq!(v(c("a", "\n")), "http: invalid byte '\\n' in Cookie.Value");
    assert_eq!(
        v(Cookie {
            path: "/\x7f".into(),
            ..c("a", "b")
        }),
        "http: invalid byte '\\x7f' in Cookie.Path"
    );
    assert_eq!(
        v(Cookie {
            domain: "a..b".into(),
            ..c("a", "b")
        }),
        "http: invalid Cookie.Domain"
    );
    assert_eq!(
        v(Cookie {
            partitioned: true,
            ..c("a", "b")
        }),
        "http: partitioned cookies must be set with Secure"
    );
}

#[test]
fn domain_names_as_go_checks_them() {
    for (d, ok) in [
        ("example.com", true),
        (".example.com", true),
        ("a-b.c", true),
        ("-a.c", false),
        ("a-.c", false),
        ("a..c", false),
        ("a_b.c", false),
        ("123", false),
        ("1.2.3.4", true),
        (&"a".repeat(64), false),
        (&"a".repeat(63), true),
    ] {
        assert_eq!(valid_cookie_domain(d), ok, "{d}");
    }
}
