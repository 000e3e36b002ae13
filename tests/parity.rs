//! Listen/dial parity with real Go: every row of tests/go/parity/inputs.tsv goes through
//! Go 1.x (`go run tests/go/parity/main.go`, live) and through gonet, and the answers
//! (address strings, address networks, error texts) must be the same, byte for byte.
//!
//! tests/go/parity/expected.jsonl holds one run of the Go side for readers without Go;
//! this test does not read it. tests/go/parity/README.md lists the surprising answers.
//!
//! Both sides run the same recipe (see main.go): work in a fresh temporary directory, hold
//! a TCP listener on 127.0.0.1:0 (its port replaces `INUSE` in inputs), a Unix listener
//! at `gonet-parity-live.sock`, a UDP socket (`UDPINUSE`), a unixgram socket at
//! `gonet-parity-gram-live.sock` and a free UDP port (`UDPFREE`), replace a leading `TMP`
//! by the temporary directory; then normalise outputs back (`TMP`, `INUSE`, ...) and give
//! kernel-chosen ports and autobind names a normalised twin (`PORT`, `@AUTO`). The
//! datagram, resolve and typed-call ops (tests/go/parity/datagram.go) are in
//! tests/parity_ops/, the IP-network ones (tests/go/parity/ipnet.go) in
//! tests/parity_ipnet/. The raw `addr` and `local_addr` fields differ from
//! run to run and are not compared; every other field is.
//!
//! Relative Unix paths are part of what is compared (Go prints them as given), so the gonet
//! side really runs with the temporary directory as its working directory: the Go program
//! chdirs itself, and this test chdirs the test process. The working directory is
//! process-global, so this file must hold exactly ONE test: add other tests elsewhere.

#[path = "util/go.rs"]
mod go_util;
mod parity_ipnet;
mod parity_ops;

use go_util::{Json, Record, parse_flat_object, render};
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Fields that hold kernel-chosen values verbatim; their `_norm` twins are compared.
const RAW_FIELDS: &[&str] = &["addr", "local_addr"];

struct Input {
    op: String,
    network: String,
    address: String,
}

fn read_inputs(text: &str) -> Vec<Input> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "want OP<TAB>NETWORK<TAB>ADDRESS, got {l:?}");
            Input {
                op: f[0].to_string(),
                network: f[1].to_string(),
                address: f[2].to_string(),
            }
        })
        .collect()
}

/// The run's placeholders, as main.go defines them.
struct Env {
    tmp: String,
    inuse_port: String,
    udp_inuse_port: String,
    udp_free_port: String,
}

impl Env {
    fn substitute(&self, address: &str) -> String {
        let address = match address.strip_prefix("TMP") {
            Some(rest) => format!("{}{rest}", self.tmp),
            None => address.to_string(),
        };
        address
            .replace("UDPINUSE", &self.udp_inuse_port)
            .replace("UDPFREE", &self.udp_free_port)
            .replace("INUSE", &self.inuse_port)
    }

    fn normalise(&self, address: &str, s: &str) -> String {
        let mut s = s.replace(&self.tmp, "TMP");
        for (name, port) in [
            ("UDPINUSE", &self.udp_inuse_port),
            ("UDPFREE", &self.udp_free_port),
            ("INUSE", &self.inuse_port),
        ] {
            if mentions(address, name) {
                s = s.replace(&format!(":{port}"), &format!(":{name}"));
            }
        }
        s
    }
}

/// main.go's mentions: whether `address` has the placeholder `name` ("INUSE" inside
/// "UDPINUSE" does not count).
fn mentions(address: &str, name: &str) -> bool {
    if name == "INUSE" {
        address.replace("UDPINUSE", "").contains(name)
    } else {
        address.contains(name)
    }
}

/// `s` with a trailing `:<digits>` replaced by `:PORT` (main.go's trailPort).
fn port_to_placeholder(s: &str) -> String {
    match s.rfind(':') {
        Some(i) if i + 1 < s.len() && s[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}:PORT", &s[..i])
        }
        _ => s.to_string(),
    }
}

/// main.go's kernelChosen: PORT for a port the kernel picked, @AUTO for an autobind name.
fn kernel_chosen(network: &str, address: &str, addr: &str) -> String {
    if network.starts_with("unix") {
        let auto = addr.len() == 6
            && addr.starts_with('@')
            && addr[1..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        return if address.is_empty() && auto {
            "@AUTO".to_string()
        } else {
            addr.to_string()
        };
    }
    let port = match address.rfind(':') {
        Some(i) => &address[i + 1..],
        None if address.is_empty() => "",
        None => return addr.to_string(),
    };
    if port.is_empty() || port.parse::<i64>() == Ok(0) {
        port_to_placeholder(addr)
    } else {
        addr.to_string()
    }
}

/// Builds a record the way main.go's `result` struct prints: op, network, address and ok
/// always, the other (string, `omitempty`) fields only when non-empty.
fn record(input: &Input, ok: bool, fields: &[(&str, String)]) -> Record {
    let mut r: Record = vec![
        ("op".into(), Json::Str(input.op.clone())),
        ("network".into(), Json::Str(input.network.clone())),
        ("address".into(), Json::Str(input.address.clone())),
        ("ok".into(), Json::Bool(ok)),
    ];
    for (k, v) in fields {
        if !v.is_empty() {
            r.push((k.to_string(), Json::Str(v.clone())));
        }
    }
    r
}

fn gonet_listen(env: &Env, input: &Input) -> Record {
    let (network, address) = (&input.network, &input.address);
    match gonet::listen(network, &env.substitute(address)) {
        Err(e) => record(
            input,
            false,
            &[("err", env.normalise(address, &e.to_string()))],
        ),
        Ok(ln) => {
            let a = ln.addr();
            let addr = env.normalise(address, &a.to_string());
            let r = record(
                input,
                true,
                &[
                    ("addr", addr.clone()),
                    ("addr_norm", kernel_chosen(network, address, &addr)),
                    ("addr_network", a.network().to_string()),
                ],
            );
            ln.close().expect("closing a fresh listener");
            r
        }
    }
}

fn gonet_dial(env: &Env, input: &Input) -> Record {
    let address = &input.address;
    match gonet::dial(&input.network, &env.substitute(address)) {
        Err(e) => record(
            input,
            false,
            &[("err", env.normalise(address, &e.to_string()))],
        ),
        Ok(conn) => dialed(env, input, &conn),
    }
}

/// main.go's doDial fields for a dialed conn.
fn dialed(env: &Env, input: &Input, conn: &gonet::Conn) -> Record {
    let (local, remote) = (conn.local_addr(), conn.remote_addr());
    let local_addr = local.to_string();
    record(
        input,
        true,
        &[
            ("local_network", local.network().to_string()),
            ("local_addr_norm", port_to_placeholder(&local_addr)),
            ("local_addr", local_addr),
            (
                "remote_addr",
                env.normalise(&input.address, &remote.to_string()),
            ),
        ],
    )
}

/// The fields that are compared: all but the three input fields and the raw ones.
fn answer(r: &Record) -> Vec<(String, Json)> {
    r.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "op" | "network" | "address"))
        .filter(|(k, _)| !RAW_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// Whether two records give the same answer; field order is presentation, not behaviour.
fn same_answer(a: &Record, b: &Record) -> bool {
    let (mut a, mut b) = (answer(a), answer(b));
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    a == b
}

/// Makes a fresh temporary directory the working directory; undoes both on drop.
struct TempCwd {
    dir: PathBuf,
    old: PathBuf,
}

impl TempCwd {
    fn new() -> TempCwd {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("gonet-parity-rs-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).expect("creating the temporary directory");
        let old = std::env::current_dir().expect("current directory");
        std::env::set_current_dir(&dir).expect("chdir into the temporary directory");
        TempCwd { dir, old }
    }
}

impl Drop for TempCwd {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(&self.old);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// Runs every input through gonet with the same recipe as main.go. Calls are made from the
/// test thread, outside any coroutine, as a `main` that calls `net::listen` does. Go dials
/// with a 2 s timeout; every dial target here is on loopback and answers at once.
fn gonet_side(inputs: &[Input]) -> Vec<Record> {
    let cwd = TempCwd::new();
    let tmp = cwd.dir.to_str().expect("UTF-8 temp dir").to_string();
    let inuse = gonet::listen("tcp", "127.0.0.1:0").expect("gonet: listen tcp 127.0.0.1:0");
    let inuse_addr = inuse.addr().to_string();
    let inuse_port = inuse_addr.rsplit(':').next().unwrap().to_string();
    assert!(
        inuse_port.parse::<u16>().is_ok(),
        "gonet: 127.0.0.1:0 listened on {inuse_addr:?}"
    );
    let live = gonet::listen("unix", "gonet-parity-live.sock")
        .expect("gonet: listen unix gonet-parity-live.sock");
    let udp_inuse = gonet::net::listen_packet("udp4", "127.0.0.1:0").expect("gonet: udp4");
    let port_of = |a: gonet::Addr| a.socket_addr().expect("an IP address").port().to_string();
    let udp_inuse_port = port_of(udp_inuse.local_addr());
    let free = gonet::net::listen_packet("udp4", "127.0.0.1:0").expect("gonet: udp4");
    let udp_free_port = port_of(free.local_addr());
    drop(free);
    let gram_live = gonet::net::listen_packet("unixgram", "gonet-parity-gram-live.sock")
        .expect("gonet: unixgram gonet-parity-gram-live.sock");
    let env = Env {
        tmp,
        inuse_port,
        udp_inuse_port,
        udp_free_port,
    };

    let records = inputs
        .iter()
        .map(|input| {
            // A panic is a gonet bug like any other mismatch: record it, keep going.
            catch_unwind(AssertUnwindSafe(|| match input.op.as_str() {
                "listen" => gonet_listen(&env, input),
                "dial" => gonet_dial(&env, input),
                "parse_cidr" | "cidr_contains" | "parse_ip" => parity_ipnet::run(input),
                _ => parity_ops::run(&env, input),
            }))
            .unwrap_or_else(|p| {
                record(
                    input,
                    false,
                    &[("err", format!("PANIC: {}", panic_text(p)))],
                )
            })
        })
        .collect();
    live.close().expect("closing gonet-parity-live.sock");
    gram_live
        .close()
        .expect("closing gonet-parity-gram-live.sock");
    udp_inuse.close().expect("closing the UDPINUSE socket");
    inuse.close().expect("closing the INUSE listener");
    drop(cwd);
    records
}

fn cell(s: impl Display, width: usize) -> String {
    let s = s.to_string();
    format!("{s:<width$}")
}

#[test]
fn listen_and_dial_match_go() {
    let dir = go_util::manifest_dir().join("tests/go/parity");
    let inputs_text = std::fs::read_to_string(dir.join("inputs.tsv"))
        .expect("reading tests/go/parity/inputs.tsv");
    let inputs = read_inputs(&inputs_text);
    assert!(inputs.len() >= 60, "inputs.tsv has {} rows", inputs.len());
    let datagram_rows = inputs
        .iter()
        .filter(|i| !matches!(i.op.as_str(), "listen" | "dial") || i.network.starts_with("udp"))
        .count();
    assert!(
        datagram_rows >= 40,
        "{datagram_rows} datagram, resolve and typed rows"
    );

    let go_out = go_util::go_run(
        Path::new("tests/go/parity/main.go"),
        &["tests/go/parity/datagram.go", "tests/go/parity/ipnet.go"],
        inputs_text.as_bytes(),
    );
    let go: Vec<Record> = go_out.lines().map(parse_flat_object).collect();
    assert_eq!(
        go.len(),
        inputs.len(),
        "Go printed one line per input:\n{go_out}"
    );

    let gonet = gonet_side(&inputs);

    let mut diffs = Vec::new();
    for ((input, g), r) in inputs.iter().zip(&go).zip(&gonet) {
        let go_input = (&g[0].1, &g[1].1, &g[2].1);
        assert_eq!(
            go_input,
            (
                &Json::Str(input.op.clone()),
                &Json::Str(input.network.clone()),
                &Json::Str(input.address.clone())
            ),
            "Go's output is out of step with inputs.tsv"
        );
        if !same_answer(g, r) {
            diffs.push((input, render(&answer(g)), render(&answer(r))));
        }
    }
    if !diffs.is_empty() {
        let w = diffs
            .iter()
            .map(|(i, _, _)| i.op.len() + i.network.len() + i.address.len() + 6)
            .max()
            .unwrap_or(0)
            .min(60);
        let mut table = format!(
            "{} of {} rows differ from Go (raw addr/local_addr not compared):\n",
            diffs.len(),
            inputs.len()
        );
        for (i, g, r) in &diffs {
            let what = format!("{} {:?} {:?}", i.op, i.network, i.address);
            table += &format!("{}  go:    {g}\n", cell(&what, w));
            table += &format!("{}  gonet: {r}\n", cell("", w));
        }
        panic!("{table}");
    }
}
