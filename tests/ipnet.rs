//! `parse_cidr`, `IpNet`, `parse_ip` and `interface_addrs` (Go's ip.go and
//! interface_linux.go): never a panic, Go's rules on every answer (proptest, with
//! tests/util/cidr_oracle.rs, shared with fuzz/fuzz_targets/parse_cidr.rs), 3,000
//! generated strings against live Go 1.19's ParseCIDR, and the machine's interface
//! addresses as Go lists them. The fixed rows are in tests/parity.rs (`parse_cidr`,
//! `cidr_contains`, `parse_ip`).

#[path = "util/cidr_oracle.rs"]
mod cidr_oracle;
#[path = "util/go.rs"]
mod go_util;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use gonet::net;

/// Strings that are CIDRs, nearly CIDRs, or noise made of CIDR characters.
fn cidr_like() -> impl Strategy<Value = String> {
    let octet = prop_oneof![
        (0u32..=255).prop_map(|n| n.to_string()),
        (0u32..=300).prop_map(|n| format!("0{n}")),
        Just(String::new()),
    ];
    let v4 = proptest::collection::vec(octet, 1..=5).prop_map(|o| o.join("."));
    let group = prop_oneof!["[0-9a-fA-F]{1,4}", "[0-9a-f]{5,7}", Just(String::new()),];
    let v6 = (
        proptest::collection::vec(group, 1..=9),
        proptest::option::of(0usize..9),
        proptest::option::of((0u32..=255, 0u32..=255)),
    )
        .prop_map(|(groups, ellipsis, tail)| {
            let mut parts = groups;
            if let Some(e) = ellipsis {
                let e = e.min(parts.len());
                parts.insert(e, String::new());
            }
            let mut s = parts.join(":");
            if let Some((a, b)) = tail {
                s.push_str(&format!(":{a}.{b}.1.2"));
            }
            s
        });
    let mapped = (0u32..=255, 0u32..=255).prop_map(|(a, b)| format!("::ffff:{a}.{b}.3.4"));
    let addr = prop_oneof![v4, v6, mapped, Just(String::new())];
    let prefix = prop_oneof![
        (0u32..=140).prop_map(|n| n.to_string()),
        (0u32..=40).prop_map(|n| format!("0{n}")),
        "[+-]?[0-9]{0,12}",
        "[0-9x ]{0,3}",
    ];
    let zone = proptest::option::of("%[a-z0-9]{0,4}");
    let cidr = (addr, zone, proptest::option::of(prefix)).prop_map(|(a, z, p)| {
        let mut s = a;
        if let Some(z) = z {
            s.push_str(&z);
        }
        if let Some(p) = p {
            s.push('/');
            s.push_str(&p);
        }
        s
    });
    // Well-formed ones, so that both sides of the parser get their share.
    let good_v4 = (any::<[u8; 4]>(), 0u32..=32)
        .prop_map(|(a, p)| format!("{}/{p}", std::net::Ipv4Addr::from(a)));
    let good_v6 = (any::<[u16; 8]>(), 0u32..=128, any::<bool>()).prop_map(|(g, p, full)| {
        let ip = std::net::Ipv6Addr::from(g);
        if full {
            let groups: Vec<String> = g.iter().map(|x| format!("{x:x}")).collect();
            format!("{}/{p}", groups.join(":"))
        } else {
            format!("{ip}/{p}")
        }
    });
    prop_oneof![
        3 => good_v4,
        3 => good_v6,
        8 => cidr,
        1 => "[0-9a-fA-F.:/%+\\- \\[\\]]{0,40}",
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(Config { cases: 2048, failure_persistence: None, ..Config::default() })]

    #[test]
    fn parse_cidr_never_panics_and_keeps_gos_rules(s in cidr_like()) {
        cidr_oracle::check(&s);
    }

    #[test]
    fn parse_ip_never_panics_and_prints_what_parses_back(s in cidr_like()) {
        if let Some(ip) = net::parse_ip(&s) {
            prop_assert_eq!(net::parse_ip(&ip.to_string()), Some(ip));
        }
    }

    #[test]
    fn a_network_contains_exactly_the_addresses_that_share_its_prefix(
        a in any::<[u8; 4]>(), b in any::<[u8; 4]>(), ones in 0u32..=32,
    ) {
        let s = format!("{}/{ones}", std::net::Ipv4Addr::from(a));
        let (_, n) = net::parse_cidr(&s).unwrap();
        let (x, y) = (u32::from_be_bytes(a), u32::from_be_bytes(b));
        let mask = if ones == 0 { 0 } else { u32::MAX << (32 - ones) };
        let other = std::net::IpAddr::V4(std::net::Ipv4Addr::from(b));
        prop_assert_eq!(n.contains(other), x & mask == y & mask, "{} {}", n, other);
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from Go"))
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn parse_cidr_agrees_with_live_go_on_3000_generated_strings() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[12u8; 32]),
    );
    let strategy = cidr_like();
    // Go reads lines: no newlines in the inputs.
    let inputs: Vec<String> = (0..3000)
        .map(|_| strategy.new_tree(&mut runner).expect("a value").current())
        .map(|s| s.replace(['\n', '\r'], ""))
        .collect();
    let go = go_util::go_binary("tests/go/ipnet/main.go");
    let mut child = std::process::Command::new(go)
        .arg("cidr")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin: String = inputs.iter().map(|s| hex(s) + "\n").collect();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut pipe, stdin.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    let answers: Vec<&str> = out.lines().collect();
    assert_eq!(answers.len(), inputs.len(), "one answer per input");
    let (mut oks, mut mismatches) = (0, Vec::new());
    for (input, answer) in inputs.iter().zip(answers) {
        let f: Vec<&str> = answer.split(' ').collect();
        let go = match f[0] {
            "ok" => Ok(format!("{} {} {}", unhex(f[1]), unhex(f[2]), unhex(f[3]))),
            _ => Err(unhex(f[1])),
        };
        let ours = net::parse_cidr(input)
            .map(|(ip, n)| {
                let (ones, bits) = n.mask.size();
                format!("{ip} {n} {ones}/{bits}")
            })
            .map_err(|e| e.to_string());
        oks += usize::from(go.is_ok());
        if ours != go {
            mismatches.push(format!("{input:?}: gonet {ours:?}, Go {go:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        inputs.len(),
        mismatches.join("\n")
    );
    // The generator must reach both sides of the parser.
    assert!(oks > 300 && oks < 2700, "{oks} of 3000 parsed");
}

#[test]
fn interface_addrs_are_what_go_lists() {
    let go = go_util::go_binary("tests/go/ipnet/main.go");
    let out = std::process::Command::new(go)
        .arg("ifaddrs")
        .output()
        .unwrap();
    assert!(out.status.success());
    let go: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let ours: Vec<String> = net::interface_addrs()
        .unwrap()
        .iter()
        .map(|n| format!("{} {n}", n.network()))
        .collect();
    assert_eq!(ours, go);
    assert!(ours.contains(&"ip+net 127.0.0.1/8".to_string()), "{ours:?}");
}

#[test]
fn errors_are_parse_errors_of_kind_invalid_input() {
    let err = net::parse_cidr("10.0.0.0/33").unwrap_err();
    let pe = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<net::ParseError>())
        .unwrap();
    assert_eq!(
        (pe.typ.as_str(), pe.text.as_str()),
        ("CIDR address", "10.0.0.0/33")
    );
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        "x".parse::<net::IpNet>().unwrap_err().to_string(),
        "invalid CIDR address: x"
    );
}
