//! Bad input never takes address parsing down, and what parsing says agrees with Go.
//!
//! - Table: every TCP `listen` row of tests/go/parity/expected.jsonl (Go 1.19's answers,
//!   rows that need the parity run's fixtures left out) goes through `gonet::listen`: the
//!   same address (kernel-chosen ports as `PORT`) or the same error text.
//! - Properties (proptest, in the normal test run): for arbitrary strings and for Go's
//!   table inputs with random edits, `split_host_port` never panics, its errors are Go's
//!   texts, and a split address joins back to an address that splits the same;
//!   `gonet::listen` on "tcp"/"tcp4"/"tcp6"/"tcpx" never panics and its parse errors are
//!   the split errors, wrapped as Go wraps them.
//! - Live Go: 3,000 generated strings through Go's `net.SplitHostPort` and
//!   `gonet::split_host_port`: the same host, port or error, for every one.
//!
//! Only loopback or unbindable addresses are ever listened on, and never a name that
//! would need DNS: a generated host that could be a domain name is not listened on, a
//! fixed port is replaced by 0 and a port that could be a service name is not listened on.
//!
//! Run: `cargo test --release --test proptest_parse`. The fuzzing counterpart is
//! fuzz/fuzz_targets/parse_addr.rs (`fuzz/run.sh`).

#[path = "util/address_oracle.rs"]
mod address_oracle;
#[path = "util/go.rs"]
mod go_util;

use address_oracle::{SPLIT_REASONS, could_be_service, could_need_dns};

use go_util::{Json, parse_flat_object};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// One `listen` answer of Go's.
struct Row {
    network: String,
    address: String,
    /// `addr_norm` when Go listened, else Go's error text.
    want: Result<String, String>,
}

fn go_table() -> Vec<Row> {
    let path = go_util::manifest_dir().join("tests/go/parity/expected.jsonl");
    let text = std::fs::read_to_string(&path).expect("read expected.jsonl");
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let rec = parse_flat_object(line);
        let get = |k: &str| {
            rec.iter().find(|(key, _)| key == k).map(|(_, v)| match v {
                Json::Str(s) => s.clone(),
                Json::Bool(b) => b.to_string(),
            })
        };
        let (Some(op), Some(network), Some(address), Some(ok)) =
            (get("op"), get("network"), get("address"), get("ok"))
        else {
            continue;
        };
        // TCP listens only; INUSE and TMP stand for the parity run's fixtures.
        if op != "listen"
            || !network.starts_with("tcp")
            || address.contains("INUSE")
            || address.contains("TMP")
        {
            continue;
        }
        let want = if ok == "true" {
            Ok(get("addr_norm").expect("addr_norm"))
        } else {
            Err(get("err").expect("err"))
        };
        rows.push(Row {
            network,
            address,
            want,
        });
    }
    rows
}

/// `addr` with its port replaced by `PORT` when Go's normalised answer has `PORT`.
fn normalise(addr: &str, like: &str) -> String {
    match (like.ends_with(":PORT"), addr.rfind(':')) {
        (true, Some(i)) => format!("{}:PORT", &addr[..i]),
        _ => addr.to_string(),
    }
}

#[test]
fn listen_agrees_with_gos_table() {
    let rows = go_table();
    assert!(
        rows.len() >= 40,
        "only {} TCP listen rows in the table",
        rows.len()
    );
    let mut mismatches = Vec::new();
    for row in &rows {
        let got = match gonet::listen(&row.network, &row.address) {
            Ok(ln) => Ok(ln.addr().to_string()),
            Err(e) => Err(e.to_string()),
        };
        let got = match (&got, &row.want) {
            (Ok(a), Ok(like)) => Ok(normalise(a, like)),
            _ => got,
        };
        if got != row.want {
            mismatches.push(format!(
                "listen({:?}, {:?}): gonet {got:?}, Go {:?}",
                row.network, row.address, row.want
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Characters address parsers care about, and a few they should not.
const ALPHABET: &[char] = &[
    '0', '1', '2', '5', '7', '9', 'a', 'f', 'x', 'l', 'o', ':', ':', '.', '[', ']', '%', '+', '-',
    ' ', '@', '/', 'é',
];

/// Go's table inputs, for seeding edits.
fn table_inputs() -> Vec<String> {
    let mut v: Vec<String> = go_table().into_iter().map(|r| r.address).collect();
    v.extend(
        [
            "[::1]:80",
            "[fe80::1%lo]:0",
            "127.0.0.1:http",
            "[::ffff:127.0.0.1]:0",
            ":0",
        ]
        .map(String::from),
    );
    v
}

/// Strings shaped like addresses: random runs of ALPHABET, Go's inputs with random edits,
/// and arbitrary Unicode.
fn address_like() -> impl Strategy<Value = String> {
    let alphabet = proptest::sample::select(ALPHABET);
    let runs = proptest::collection::vec(alphabet.clone(), 0..24)
        .prop_map(|cs| cs.into_iter().collect::<String>());
    let edited = (
        proptest::sample::select(table_inputs()),
        proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, alphabet), 1..4),
    )
        .prop_map(|(base, edits)| {
            let mut cs: Vec<char> = base.chars().collect();
            for (at, kind, c) in edits {
                let i = at.index(cs.len() + 1);
                match kind {
                    0 => cs.insert(i, c),
                    1 if i < cs.len() => {
                        cs.remove(i);
                    }
                    _ if i < cs.len() => cs[i] = c,
                    _ => cs.push(c),
                }
            }
            cs.into_iter().collect::<String>()
        });
    prop_oneof![runs, edited, any::<String>()]
}

proptest! {
    #![proptest_config(Config { cases: 1024, failure_persistence: None, ..Config::default() })]

    #[test]
    fn split_host_port_never_panics_and_speaks_go(s in address_like()) {
        match gonet::split_host_port(&s) {
            Ok((host, port)) => {
                let joined = gonet::join_host_port(&host, &port);
                let again = gonet::split_host_port(&joined);
                prop_assert_eq!(again.ok(), Some((host.clone(), port.clone())), "joined {:?}", joined);
                prop_assert!(!port.contains(':') && !port.contains('[') && !port.contains(']'));
                prop_assert!(!host.contains('[') && !host.contains(']'));
            }
            Err(e) => {
                let text = e.to_string();
                // Go's AddrError leaves out "address : " for an empty address.
                let prefix = if s.is_empty() { String::new() } else { format!("address {s}: ") };
                prop_assert!(text.starts_with(&prefix), "{:?}", text);
                prop_assert!(SPLIT_REASONS.contains(&&text[prefix.len()..]), "{:?}", text);
            }
        }
    }

    #[test]
    fn listen_never_panics_and_wraps_split_errors_as_go(
        network in proptest::sample::select(&["tcp", "tcp4", "tcp6", "tcpx"][..]),
        s in address_like(),
    ) {
        let address = match gonet::split_host_port(&s) {
            Ok((host, _)) if could_need_dns(&host) => return Ok(()),
            // A fixed port could collide with a neighbour's server: listen on 0; and a
            // service name ("http") is a fixed port too.
            Ok((host, port)) if port.parse::<u16>().is_ok_and(|p| p != 0) => {
                gonet::join_host_port(&host, "0")
            }
            Ok((_, port)) if could_be_service(&port) => return Ok(()),
            _ => s.clone(),
        };
        let result = gonet::listen(network, &address);
        if network == "tcpx" {
            prop_assert_eq!(
                result.expect_err("tcpx is no network").to_string(),
                "listen tcpx: unknown network tcpx"
            );
        } else if let (false, Err(split)) =
            // Go lists "" as ":0" without splitting it (internetAddrList).
            (address.is_empty(), gonet::split_host_port(&address))
        {
            prop_assert_eq!(
                result.expect_err("an address that does not split").to_string(),
                format!("listen {network}: {split}")
            );
        } else if let Ok(ln) = result {
            let addr = ln.addr();
            prop_assert_eq!(addr.network(), "tcp");
            prop_assert!(addr.socket_addr().is_some_and(|a| a.port() != 0));
        }
    }
}

/// Go's `net.SplitHostPort` for each line of stdin (hex-encoded), one answer per line:
/// `ok HEXHOST HEXPORT` or `err HEXTEXT`.
const GO_SPLIT: &str = r#"package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for sc.Scan() {
		b, err := hex.DecodeString(sc.Text())
		if err != nil {
			panic(err)
		}
		host, port, err := net.SplitHostPort(string(b))
		if err != nil {
			fmt.Fprintf(w, "err %x\n", err.Error())
		} else {
			fmt.Fprintf(w, "ok %x %x\n", host, port)
		}
	}
}
"#;

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from Go"))
        .collect();
    String::from_utf8(bytes).expect("UTF-8 from Go")
}

#[test]
fn split_host_port_agrees_with_live_go() {
    // 3,000 inputs from the same strategy, with a fixed seed (reproducible).
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7u8; 32]),
    );
    let strategy = address_like();
    let mut inputs: Vec<String> = table_inputs();
    for _ in 0..3000 {
        inputs.push(strategy.new_tree(&mut runner).expect("a value").current());
    }
    let dir = std::env::temp_dir().join(format!("gonet-proptest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("split.go");
    std::fs::write(&file, GO_SPLIT).unwrap();
    let stdin: String = inputs.iter().map(|s| hex(s) + "\n").collect();
    let out = go_util::go_run(&file, &[], stdin.as_bytes());
    let _ = std::fs::remove_dir_all(&dir);
    let answers: Vec<&str> = out.lines().collect();
    assert_eq!(answers.len(), inputs.len(), "one answer per input");
    let mut mismatches = Vec::new();
    for (input, answer) in inputs.iter().zip(answers) {
        let mut f = answer.splitn(3, ' ');
        let go = match f.next() {
            Some("ok") => Ok((unhex(f.next().unwrap_or("")), unhex(f.next().unwrap_or("")))),
            _ => Err(unhex(f.next().unwrap_or(""))),
        };
        let ours = gonet::split_host_port(input).map_err(|e| e.to_string());
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
}
