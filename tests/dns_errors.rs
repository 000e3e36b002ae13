//! DNS error texts: which of Go 1.19's gonet mirrors, measured without a query leaving
//! the machine.
//!
//! Go has two resolvers with different texts. Its own DNS client (the default on Linux
//! with `hosts: files dns`) names the server: `lookup NAME on 10.0.0.53:53: no such
//! host`; its cgo mode (getaddrinfo) does not. gonet always asks getaddrinfo, and prints
//! the texts of the resolver Go would have used on the machine: tests/go/dnstexts runs
//! Go's own client against a fake DNS server on loopback (Go's `Resolver.Dial`
//! overridden; the texts still name /etc/resolv.conf's server, as Go does) and these
//! tests hold gonet's answers for the same failures to Go's. Names that are not domain
//! names are refused before any query by both, checked with a resolver hook that fails
//! the test (instead of querying) if gonet would ask.

#[path = "util/go.rs"]
mod go_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn go_cases() -> Vec<(String, String)> {
    let go = go_util::go_binary("tests/go/dnstexts/main.go");
    let out = std::process::Command::new(go).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let rec = go_util::parse_flat_object(l);
            let field = |k: &str| match rec.iter().find(|(n, _)| n == k) {
                Some((_, go_util::Json::Str(s))) => s.clone(),
                other => panic!("no string {k} in {l}: {other:?}"),
            };
            (field("case"), field("text"))
        })
        .collect()
}

fn go_text<'a>(cases: &'a [(String, String)], case: &str) -> &'a str {
    cases
        .iter()
        .find(|(c, _)| c == case)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("Go printed no {case:?}"))
}

fn flags(e: &gonet::DnsError) -> String {
    format!(
        "notfound={} temporary={} timeout={}",
        e.is_not_found, e.is_temporary, e.is_timeout
    )
}

#[test]
fn failures_read_as_gos_own_resolver_reports_them() {
    let go = go_cases();
    // getaddrinfo's answer for each of the fake server's: NXDOMAIN and an empty answer
    // are EAI_NONAME / EAI_NODATA, SERVFAIL is EAI_AGAIN.
    for (name, rc) in [
        ("nx.test", libc::EAI_NONAME),
        ("empty.test", libc::EAI_NODATA),
        ("servfail.test", libc::EAI_AGAIN),
    ] {
        let ours = gonet::__gai_error(name, rc, true);
        let case = format!("pure {name}");
        assert_eq!(ours.to_string(), go_text(&go, &case), "{case}");
        assert_eq!(
            flags(&ours),
            go_text(&go, &format!("{case} flags")),
            "{case}"
        );
        assert!(!ours.server.is_empty());
    }
    // A lookup that runs out of time names no server, in both.
    let t = gonet::DnsError::timeout("silent.test");
    assert_eq!(t.to_string(), go_text(&go, "pure silent.test"));
    assert_eq!(flags(&t), go_text(&go, "pure silent.test flags"));
}

#[test]
fn in_gos_cgo_mode_the_texts_are_getaddrinfos() {
    // Go 1.19's cgoLookupIPCNAME: EAI_NONAME is "no such host", the rest gai_strerror's
    // own words (no server named).
    let e = gonet::__gai_error("x.test", libc::EAI_NONAME, false);
    assert_eq!(e.to_string(), "lookup x.test: no such host");
    assert!(e.is_not_found);
    let e = gonet::__gai_error("x.test", libc::EAI_AGAIN, false);
    assert_eq!(
        e.to_string(),
        "lookup x.test: Temporary failure in name resolution"
    );
    assert!(e.is_temporary && !e.is_not_found);
    let e = gonet::__gai_error("x.test", libc::EAI_NODATA, false);
    assert_eq!(
        e.to_string(),
        "lookup x.test: No address associated with hostname"
    );
}

#[test]
fn gonet_picks_the_resolver_go_picks_here() {
    // Go says which it uses when GODEBUG=netdns=2; "localhost" is in /etc/hosts, so
    // neither looks further than the file.
    let src = std::env::temp_dir().join(format!("gonet-dns-order-{}.go", std::process::id()));
    std::fs::write(
        &src,
        "package main\nimport \"net\"\nfunc main() { net.LookupHost(\"localhost\") }\n",
    )
    .unwrap();
    let out = std::process::Command::new(go_util::go_tool())
        .arg("run")
        .arg(&src)
        .env("GODEBUG", "netdns=2")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&src);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let order = stderr
        .lines()
        .find_map(|l| l.split_once("hostLookupOrder(localhost) = "))
        .map(|(_, o)| o.trim().to_string())
        .unwrap_or_else(|| panic!("Go printed no order: {stderr}"));
    assert_eq!(
        gonet::__go_resolver("localhost"),
        order != "cgo",
        "Go: {order}"
    );
}

#[test]
fn names_that_are_not_domain_names_fail_like_gos_without_a_query() {
    let go = go_cases();
    let queried = Arc::new(AtomicUsize::new(0));
    let q = queried.clone();
    // Reached only by a name gonet would send to the resolver: fail instead of asking.
    gonet::__set_resolver_hook(Some(Arc::new(move |name: &str| {
        q.fetch_add(1, Ordering::SeqCst);
        panic!("gonet would have asked the resolver for {name:?}");
    })));
    let mut n = 0;
    for (case, text) in &go {
        let Some(name) = case.strip_prefix("invalid ") else {
            continue;
        };
        let err = gonet::lookup_host(name).unwrap_err();
        assert_eq!(&err.to_string(), text, "{name:?}");
        n += 1;
    }
    gonet::__set_resolver_hook(None);
    assert_eq!(queried.load(Ordering::SeqCst), 0);
    assert!(n >= 8, "{n} names");
}
