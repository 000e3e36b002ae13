//! gonet's side of tests/go/parity/ipnet.go: `parse_cidr`, `IpNet::contains` and
//! `parse_ip`, printed field for field as the Go ops print Go's answers. Included by
//! tests/parity.rs, which runs both and compares.

use gonet::net;

use super::{Input, Record, record};

/// Runs one IP-network op.
pub fn run(input: &Input) -> Record {
    match input.op.as_str() {
        "parse_cidr" => parse_cidr(input),
        "cidr_contains" => cidr_contains(input),
        "parse_ip" => parse_ip(input),
        op => panic!("unknown op {op:?}"),
    }
}

fn parse_cidr(input: &Input) -> Record {
    match net::parse_cidr(&input.address) {
        Err(e) => record(input, false, &[("err", e.to_string())]),
        Ok((ip, n)) => {
            let (ones, bits) = n.mask.size();
            record(
                input,
                true,
                &[
                    ("addr", n.to_string()),
                    ("addr_norm", n.to_string()),
                    ("addr_network", n.network().to_string()),
                    ("local_addr", ip.to_string()),
                    ("local_addr_norm", ip.to_string()),
                    ("remote_addr", format!("{} {ones}/{bits}", n.mask)),
                ],
            )
        }
    }
}

fn cidr_contains(input: &Input) -> Record {
    let (cidr, ips) = input
        .address
        .split_once('|')
        .unwrap_or((&input.address, ""));
    match net::parse_cidr(cidr) {
        Err(e) => record(input, false, &[("err", e.to_string())]),
        Ok((_, n)) => {
            let got: Vec<String> = ips
                .split(',')
                .map(|s| match net::parse_ip(s) {
                    Some(ip) => n.contains(ip).to_string(),
                    None => "nil".to_string(),
                })
                .collect();
            record(input, true, &[("from", got.join(","))])
        }
    }
}

fn parse_ip(input: &Input) -> Record {
    match net::parse_ip(&input.address) {
        None => record(input, false, &[("err", "nil".to_string())]),
        Some(ip) => record(
            input,
            true,
            &[("addr", ip.to_string()), ("addr_norm", ip.to_string())],
        ),
    }
}
