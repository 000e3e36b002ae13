//! CIDR parsing under arbitrary input: `parse_cidr`, `IpNet`'s `Display`, `FromStr` and
//! `contains`, and `parse_ip` never panic, and every answer keeps Go's rules
//! (tests/util/cidr_oracle.rs, which the proptest in tests/ipnet.rs shares).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/util/cidr_oracle.rs"]
mod cidr_oracle;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    cidr_oracle::check(s);
    if let Some(ip) = gonet::net::parse_ip(s) {
        assert_eq!(gonet::net::parse_ip(&ip.to_string()), Some(ip), "{s:?}");
    }
});
