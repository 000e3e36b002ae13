//! Address parsing under arbitrary input: `split_host_port` and `join_host_port` never
//! panic and agree with each other, errors are Go's texts, `gonet::listen` on
//! "tcp"/"tcp4"/"tcp6" (port parsing, host parsing, family choice) never panics, and
//! neither do `resolve_tcp_addr` / `resolve_udp_addr`.
//!
//! Only addresses that need no DNS and no fixed port are listened on: a host that could be
//! a domain name (other than `localhost`) is skipped, a numeric port becomes 0 and a port
//! that could be a service name is skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/util/address_oracle.rs"]
mod address_oracle;

use address_oracle::{SPLIT_REASONS, could_be_service, could_need_dns};

/// The port to listen on instead of `port`, or `None` to not listen.
fn safe_port(port: &str) -> Option<&str> {
    if port.parse::<u16>().is_ok() {
        return Some("0");
    }
    (!could_be_service(port)).then_some(port)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match gonet::split_host_port(s) {
        Ok((host, port)) => {
            let joined = gonet::join_host_port(&host, &port);
            assert_eq!(
                gonet::split_host_port(&joined).ok(),
                Some((host.clone(), port.clone())),
                "{s:?} -> {joined:?}"
            );
            if could_need_dns(&host) || s.len() > 100 {
                return;
            }
            // Go's typed calls read it the same way; a resolved address prints as one
            // that resolves to it again.
            if let Ok(u) = gonet::net::resolve_udp_addr("udp", s) {
                let again = gonet::net::resolve_udp_addr("udp", &u.to_string()).ok();
                assert_eq!(again, Some(u), "{s:?}");
            }
            let _ = gonet::net::resolve_tcp_addr("tcp", s);
            let Some(port) = safe_port(&port) else {
                return;
            };
            let address = gonet::join_host_port(&host, port);
            for network in ["tcp", "tcp4", "tcp6"] {
                if let Ok(ln) = gonet::listen(network, &address) {
                    assert_eq!(ln.addr().network(), "tcp");
                }
            }
        }
        Err(e) => {
            let text = e.to_string();
            let reason = text
                .strip_prefix(&format!("address {s}: "))
                .unwrap_or(&text);
            assert!(SPLIT_REASONS.contains(&reason), "{s:?}: {text}");
        }
    }
});
