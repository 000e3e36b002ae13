//! Cookies against live Go 1.19: Set-Cookie strings, Cookie header parsing and
//! Set-Cookie parsing, plus the cookie round trip through a handler.
//!
//! - `set_cookie_strings_match_go_1_19`: `Cookie::to_string()` (Go's `Cookie.String`)
//!   for a table of cookies (paths, domains valid and not, IP domains, expiry dates from
//!   1600 to 9999, Max-Age, flags, every SameSite value, values Go quotes or sanitizes),
//!   compared with what Go 1.19 prints for the same cookie.
//! - `request_cookies_match_go_1_19`: `Request::cookies()` (Go's `readCookies`) for a
//!   table of Cookie header lines.
//! - `set_cookie_parsing_matches_go`: `parse_set_cookie` (Go's `readSetCookies`, field by
//!   field) for a table of Set-Cookie lines; the lines where Go 1.23's cookie.go (which
//!   gonet follows) reads differently from Go 1.19 are listed with Go 1.23's answer.
//!
//! Run: `cargo test --release --test http_cookie`.

#[path = "util/go.rs"]
mod go_util;
#[path = "util/nethttp.rs"]
mod nethttp;

use gonet::net::http::httptest::{ResponseRecorder, new_request};
use gonet::net::http::{self, Cookie, Handler, Request, ResponseWriter, SameSite};
use std::time::{Duration, UNIX_EPOCH};

/// NAME VALUE PATH DOMAIN EXPIRES(unix or -) MAXAGE FLAGS SAMESITE(0-4)
const SET_COOKIES: &str = "\
session\tabc123\t/\t-\t-\t0\t-\t0
a\tv$1\t/\t-\t-\t0\t-\t0
b\ttwo\t-\t.google.com\t-\t0\t-\t0
c\tthree\t/restricted/\t-\t-\t3600\t-\t0
d\tfour\t-\t-\t-\t-1\t-\t0
e\tfive\t-\t-\t1257894000\t0\t-\t0
f\tsix\t-\t-\t-11644473601\t0\t-\t0
g\tseven\t-\t-\t-11644473600\t0\t-\t0
h\teight\t-\t-\t-2208988800\t0\t-\t0
i\tnine\t-\t-\t253402300799\t0\t-\t0
j\tten\t-\t-\t0\t0\t-\t0
k\tdefault\t-\t-\t-\t0\t-\t1
l\tlax\t-\t-\t-\t0\t-\t2
m\tstrict\t-\t-\t-\t0\t-\t3
n\tnone\t-\t-\t-\t0\tsh\t4
o\tip\t-\t127.0.0.1\t-\t0\t-\t0
p\tipv6\t-\t::1\t-\t0\t-\t0
q\tbad-domain\t-\tbad domain\t-\t0\t-\t0
r\tdash\t-\t-bad.com\t-\t0\t-\t0
s\ta b\t-\t-\t-\t0\t-\t0
t\ta,b\t-\t-\t-\t0\t-\t0
u\t\"quoted\"\t-\t-\t-\t0\t-\t0
v\tsemi;colon\\back\t-\t-\t-\t0\t-\t0
w\t\t-\t-\t-\t0\th\t0
x\tpath\t/a;b\t-\t-\t0\t-\t0
bad name\tx\t-\t-\t-\t0\t-\t0
\tempty-name\t-\t-\t-\t0\t-\t0
y\tall\t/p\texample.com\t1600000000\t86400\tsh\t3
z\tmaxneg\t-\t-\t-\t-100\ts\t2
";

const COOKIE_LINES: &str = "\
Cookie-1=v$1
Cookie-1=v$1; c2=v2
  Cookie-1  =  v$1  ;  c2  =  v2  
Cookie-1=\"v$1\"; c2=\"v2\"
bad cookie=1; ok=2
k
a=1;;b=2
a=\"unterminated
x=a\\b; y=ok
dup=1; dup=2
=novalue; z=3
";

const SET_COOKIE_LINES: &str = "\
Cookie-1=v$1
NID=99=YsDT5i3E-CXax-; expires=Wed, 23-Nov-2011 01:05:03 GMT; path=/; domain=.google.ch; HttpOnly
.ASPXAUTH=7E3AA; expires=Wed, 07-Mar-2012 14:25:06 GMT; path=/; HttpOnly
ASP.NET_SessionId=foo; path=/; HttpOnly
samesitedefault=foo; SameSite
samesiteinvalidisdefault=foo; SameSite=invalid
samesitelax=foo; SameSite=Lax
samesitestrict=foo; samesite=STRICT
samesitenone=foo; SameSite=None
special-1=a z
special-2=\" z\"
special-3=\"a\"
special-4=a,z; Max-Age=10
m=1; Max-Age=010; Max-Age=-5
m=1; Max-Age=0
m=1; Max-Age=junk
e=1; Expires=soon
e=1; Expires=Mon, 02 Jan 2006 15:04:05 MST
u=1; Foo=\"bar\"; Baz; Qux=q
p=1; Partitioned; Secure
trimmed=1;   Path=/x   ;   Domain=a.com  
novalue
bad name=1
";

/// Set-Cookie lines Go 1.23+ reads differently from Go 1.19, with Go 1.23's fields:
/// `Partitioned` became an attribute (1.19 kept it in Unparsed).
const SET_COOKIE_NEWER: &[(&str, &str)] = &[(
    "p=1; Partitioned; Secure",
    "name=\"p\" value=\"1\" path=\"\" domain=\"\" expires=- raw_expires=\"\" max_age=0 secure=true http_only=false same_site=0 unparsed=[]",
)];

/// Cookie lines Go 1.23+ reads differently from Go 1.19, with Go 1.23's cookies: names
/// are trimmed (1.19 found `Cookie-1  ` not a token and dropped the pair).
const COOKIE_LINES_NEWER: &[(&str, &str)] = &[(
    "  Cookie-1  =  v$1  ;  c2  =  v2  ",
    "Cookie-1=  v$1\nc2=  v2",
)];

fn same_site(n: &str) -> SameSite {
    match n {
        "1" => SameSite::DefaultMode,
        "2" => SameSite::LaxMode,
        "3" => SameSite::StrictMode,
        "4" => SameSite::NoneMode,
        _ => SameSite::Unset,
    }
}

fn unix(secs: i64) -> std::time::SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn field(f: &str) -> String {
    if f == "-" {
        String::new()
    } else {
        f.to_string()
    }
}

#[test]
fn set_cookie_strings_match_go_1_19() {
    let go = nethttp::run_go("setcookie", None, SET_COOKIES);
    let rows = nethttp::rows(SET_COOKIES);
    assert_eq!(go.len(), rows.len());
    for (f, want) in rows.iter().zip(go) {
        let c = Cookie {
            name: f[0].to_string(),
            value: f[1].to_string(),
            path: field(f[2]),
            domain: field(f[3]),
            expires: (f[4] != "-").then(|| unix(f[4].parse().unwrap())),
            max_age: f[5].parse().unwrap(),
            secure: f[6].contains('s'),
            http_only: f[6].contains('h'),
            same_site: same_site(f[7]),
            ..Default::default()
        };
        assert_eq!(nethttp::out(c.to_string()), want, "{f:?}");
    }
}

#[test]
fn request_cookies_match_go_1_19() {
    let go = nethttp::run_go("cookies", None, COOKIE_LINES);
    let lines: Vec<&str> = COOKIE_LINES.lines().collect();
    assert_eq!(go.len(), lines.len());
    for (line, want) in lines.iter().zip(go) {
        let mut r = new_request("GET", "/", "");
        r.header.set("Cookie", line);
        let got: Vec<String> = r
            .cookies()
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        if let Some((_, newer)) = COOKIE_LINES_NEWER.iter().find(|(l, _)| l == line) {
            assert_eq!(got.join("\n"), *newer, "{line:?} (Go 1.23's reading)");
            assert_ne!(
                nethttp::out(got.join("\n")),
                want,
                "{line:?}: Go 1.19 agrees now?"
            );
            continue;
        }
        assert_eq!(nethttp::out(got.join("\n")), want, "{line:?}");
    }
}

/// Go's `%q` for the printable ASCII these tables hold.
fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn describe(c: &Cookie) -> String {
    let exp = c
        .expires
        .map_or("-".to_string(), |t| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs().to_string(),
            Err(e) => format!("-{}", e.duration().as_secs()),
        });
    let same_site = match c.same_site {
        SameSite::Unset => 0,
        SameSite::DefaultMode => 1,
        SameSite::LaxMode => 2,
        SameSite::StrictMode => 3,
        SameSite::NoneMode => 4,
    };
    let unparsed: Vec<String> = c.unparsed.iter().map(|u| q(u)).collect();
    format!(
        "name={} value={} path={} domain={} expires={exp} raw_expires={} max_age={} secure={} http_only={} same_site={same_site} unparsed=[{}]",
        q(&c.name),
        q(&c.value),
        q(&c.path),
        q(&c.domain),
        q(&c.raw_expires),
        c.max_age,
        c.secure,
        c.http_only,
        unparsed.join(" ")
    )
}

#[test]
fn set_cookie_parsing_matches_go() {
    let go = nethttp::run_go("readset", None, SET_COOKIE_LINES);
    let lines: Vec<&str> = SET_COOKIE_LINES.lines().collect();
    assert_eq!(go.len(), lines.len());
    let mut compared = 0;
    for (line, want) in lines.iter().zip(go) {
        let got = http::read_set_cookies([*line])
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("\n");
        if let Some((_, newer)) = SET_COOKIE_NEWER.iter().find(|(l, _)| l == line) {
            assert_eq!(got, *newer, "{line:?} (Go 1.23's reading)");
            assert_ne!(nethttp::out(got), want, "{line:?}: Go 1.19 agrees now?");
            continue;
        }
        assert_eq!(nethttp::out(got), want, "{line:?}");
        compared += 1;
    }
    assert!(compared >= 20);
}

#[test]
fn cookies_round_trip_through_a_handler() {
    let h = |w: &mut dyn ResponseWriter, r: &mut Request| {
        let seen = r
            .cookie("session")
            .map(|c| c.value)
            .unwrap_or_else(|e| e.to_string());
        http::set_cookie(
            w,
            &Cookie {
                path: "/".into(),
                http_only: true,
                ..Cookie::new("seen", seen)
            },
        );
        http::set_cookie(w, &Cookie::new("bad name", "dropped"));
        http::set_cookie(
            w,
            &Cookie {
                max_age: -1,
                ..Cookie::new("old", "")
            },
        );
    };
    let mut r = new_request("GET", "/", "");
    r.header.set("Cookie", "theme=dark; session=s3cr3t");
    let mut rec = ResponseRecorder::new();
    h.serve_http(&mut rec, &mut r);
    assert_eq!(
        rec.result_header().values("Set-Cookie"),
        ["seen=s3cr3t; Path=/; HttpOnly", "old=; Max-Age=0"]
    );
    let mut rec = ResponseRecorder::new();
    h.serve_http(&mut rec, &mut new_request("GET", "/", ""));
    assert_eq!(
        rec.result_header().get("Set-Cookie"),
        "seen=\"http: named cookie not present\"; Path=/; HttpOnly"
    );
}

#[path = "util/mod.rs"]
mod util;

// curl's cookie engine reads gonet's Set-Cookie lines and sends the cookies back.
#[test]
fn curl_keeps_and_returns_the_cookies() {
    let mux = http::ServeMux::new();
    mux.handle_func("/login", |w: &mut dyn ResponseWriter, _: &mut Request| {
        http::set_cookie(
            w,
            &Cookie {
                path: "/".into(),
                http_only: true,
                ..Cookie::new("session", "s3cr3t")
            },
        );
        http::set_cookie(
            w,
            &Cookie {
                path: "/".into(),
                max_age: 60,
                ..Cookie::new("theme", "dark mode")
            },
        );
        http::set_cookie(
            w,
            &Cookie {
                path: "/other".into(),
                ..Cookie::new("scoped", "1")
            },
        );
    });
    mux.handle_func("/whoami", |w: &mut dyn ResponseWriter, r: &mut Request| {
        let mut names: Vec<String> = r
            .cookies()
            .into_iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        names.sort();
        let _ = w.write(names.join(";").as_bytes());
    });
    let s = nethttp::GonetServer::start(mux);
    let jar = util::TempDir::new("cookie-jar");
    let jar = jar.sock("jar.txt");
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10"])
            .args(args)
            .output()
            .expect("run curl (apt-get install curl)");
        assert!(out.status.success(), "curl {args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    curl(&["-c", &jar, &format!("http://{}/login", s.addr)]);
    assert_eq!(
        curl(&["-b", &jar, &format!("http://{}/whoami", s.addr)]),
        "session=s3cr3t;theme=dark mode"
    );
}
