//! What must hold for any input to `gonet::net::parse_cidr`, shared by the proptest
//! (tests/ipnet.rs) and the fuzz target (fuzz/fuzz_targets/parse_cidr.rs).
#![allow(dead_code)]

use gonet::net;

/// Parses `s` and checks Go's rules on the answer; panics (with `s`) if one breaks.
pub fn check(s: &str) {
    match net::parse_cidr(s) {
        Err(e) => {
            assert_eq!(e.to_string(), format!("invalid CIDR address: {s}"));
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{s:?}");
            // Go: ParseCIDR fails whenever there is no slash, so does FromStr.
            assert!(s.parse::<net::IpNet>().is_err(), "{s:?}");
        }
        Ok((ip, n)) => {
            let (addr, prefix) = s.split_once('/').expect("a CIDR has a slash");
            // The address part is an address to the IP parser too, the same one.
            assert_eq!(net::parse_ip(addr), Some(ip), "{s:?}");
            let (ones, bits) = n.mask.size();
            assert_eq!(
                ones,
                prefix.parse::<u32>().expect("a decimal prefix"),
                "{s:?}"
            );
            assert!(bits == 32 || bits == 128, "{s:?}");
            let same_family = ip.is_ipv4() == (bits == 32);
            if same_family {
                // The address is in its network, and the network prints as a CIDR that
                // parses back to itself.
                assert!(n.contains(ip), "{s:?}: {n} does not contain {ip}");
                assert!(n.contains(n.ip), "{s:?}");
                let again: net::IpNet = n.to_string().parse().expect("Display parses");
                assert_eq!(again, n, "{s:?} -> {n}");
            }
            assert_eq!(s.parse::<net::IpNet>().ok(), Some(n), "{s:?}");
        }
    }
}
