//! Address parsing under arbitrary input: `split_host_port` and `join_host_port` never
//! panic and agree with each other, errors are Go's texts, and `gonet::listen` on
//! "tcp"/"tcp4"/"tcp6" (port parsing, host parsing, family choice) never panics.
//!
//! Only addresses that need no DNS and no fixed port are listened on: a host that could be
//! a domain name (other than `localhost`) is skipped, a numeric port becomes 0 and a port
//! that could be a service name is skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/util/address_oracle.rs"]
mod address_oracle;

use address_oracle::{could_be_service, could_need_dns, SPLIT_REASONS};

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
