//! What Go's resolver would be on this machine, so that DNS errors read as Go's do.
//!
//! Go: `src/net/dnsconfig_unix.go` (`dnsReadConfig`: the name servers of
//! /etc/resolv.conf, `defaultNS`) and `conf.go` / `nss.go` (`hostLookupOrder`: Go uses
//! its own DNS client unless nsswitch.conf, resolv.conf or the name call for libc).
//! gonet always resolves through getaddrinfo(3); where Go would have used its own client
//! (the default with `hosts: files dns`), a failed lookup is reported with Go's texts for
//! it, naming the server as Go does: `lookup NAME on 10.0.0.53:53: no such host`.

use std::sync::OnceLock;

/// Go's `defaultNS`, the servers when resolv.conf lists none.
const DEFAULT_NS: [&str; 2] = ["127.0.0.1:53", "[::1]:53"];

/// The name servers, as Go's `dnsConfig.servers` holds them (`IP:53`, at most three).
pub(crate) fn servers() -> Vec<String> {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    servers_of(&text)
}

/// Go: `dnsReadConfig`'s `nameserver` lines.
pub(crate) fn servers_of(resolv_conf: &str) -> Vec<String> {
    let mut servers = Vec::new();
    for line in resolv_conf.lines() {
        if line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        if f.first() == Some(&"nameserver") && f.len() > 1 && servers.len() < 3 {
            // Only an IP literal (a name would need DNS to find the DNS server).
            let ip = f[1].split('%').next().unwrap_or("");
            if crate::net::ip::parse_ip(ip).is_some() || ip.parse::<std::net::Ipv6Addr>().is_ok() {
                servers.push(crate::net::ipsock::join_host_port(f[1], "53"));
            }
        }
    }
    if servers.is_empty() {
        servers = DEFAULT_NS.iter().map(|s| s.to_string()).collect();
    }
    servers
}

/// Whether Go 1.19 would look `host` up with its own DNS client here (Go's
/// `hostLookupOrder` giving an order rather than `hostLookupCgo`).
pub(crate) fn go_resolver(host: &str) -> bool {
    match godebug_netdns() {
        Some("go") => return true,
        Some("cgo") => return false,
        _ => {}
    }
    let resolv = std::fs::read_to_string("/etc/resolv.conf");
    if resolv.as_deref().is_ok_and(has_unknown_option) {
        return false;
    }
    let nss = std::fs::read_to_string("/etc/nsswitch.conf");
    let nss = match nss {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(_) => return false,
    };
    order_is_go(host, nss.as_deref(), mdns_allow_exists(), &hostname())
}

/// Go's `hostLookupOrder` after its GODEBUG and resolv.conf checks: `nss` is
/// nsswitch.conf's text (`None`: there is none).
pub(crate) fn order_is_go(host: &str, nss: Option<&str>, mdns_allow: bool, hostname: &str) -> bool {
    if host.contains('\\') || host.contains('%') {
        return false;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.len() >= 6 && host[host.len() - 6..].eq_ignore_ascii_case(".local") {
        return false;
    }
    let Some(nss) = nss else {
        return true;
    };
    let Some(sources) = hosts_sources(nss) else {
        return true;
    };
    let (mut files, mut dns, mut mdns) = (false, false, false);
    let mut words = sources.split_ascii_whitespace().peekable();
    while let Some(src) = words.next() {
        // Criteria after a source ("[NOTFOUND=return]"), as Go's nss.go parses them.
        let mut criteria = Vec::new();
        if words.peek().is_some_and(|w| w.starts_with('[')) {
            let mut text = String::new();
            for w in words.by_ref() {
                text.push_str(w);
                text.push(' ');
                if w.ends_with(']') {
                    break;
                }
            }
            criteria = text
                .trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace())
                .split_ascii_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
        }
        let standard = criteria
            .iter()
            .enumerate()
            .all(|(i, c)| standard_status_action(c, i == criteria.len() - 1));
        match src {
            "myhostname" => {
                if host.eq_ignore_ascii_case("localhost")
                    || host.to_ascii_lowercase().ends_with(".localhost")
                    || host.eq_ignore_ascii_case("_gateway")
                    || host.eq_ignore_ascii_case(hostname)
                {
                    return false;
                }
            }
            "files" | "dns" if !standard => return false,
            "files" => files = true,
            "dns" => dns = true,
            s if s.starts_with("mdns") => mdns = true,
            _ => return false,
        }
    }
    if mdns && mdns_allow {
        return false;
    }
    files || dns
}

/// Go: `nssCriterion.standardStatusAction`: a criterion that only restates the default
/// (`success=return`; `continue` for notfound, unavail and tryagain; `return` for any on
/// the last criterion).
fn standard_status_action(c: &str, last: bool) -> bool {
    let Some((status, action)) = c.split_once('=') else {
        return false;
    };
    if status.starts_with('!') {
        return false;
    }
    let default = match status {
        "success" => "return",
        "notfound" | "unavail" | "tryagain" => "continue",
        _ => return false,
    };
    (last && action == "return") || action == default
}

/// The sources of nsswitch.conf's `hosts:` line; `None` when there is no such line or
/// it lists nothing.
fn hosts_sources(nss: &str) -> Option<&str> {
    nss.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .find_map(|l| l.trim_start().strip_prefix("hosts:"))
        .filter(|s| !s.trim().is_empty())
}

/// Go: `dnsReadConfig` sets `unknownOpt` for an option it does not know (Go 1.19 knows
/// ndots, timeout, attempts, rotate, single-request(-reopen) and use-vc/usevc/tcp:
/// `edns0` and `trust-ad` send it to libc).
fn has_unknown_option(resolv_conf: &str) -> bool {
    resolv_conf
        .lines()
        .filter(|l| !l.starts_with(';') && !l.starts_with('#'))
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>())
        .filter(|f| f.first() == Some(&"options"))
        .flat_map(|f| f.into_iter().skip(1))
        .any(|o| {
            !(o.starts_with("ndots:")
                || o.starts_with("timeout:")
                || o.starts_with("attempts:")
                || matches!(
                    o,
                    "rotate"
                        | "single-request"
                        | "single-request-reopen"
                        | "use-vc"
                        | "usevc"
                        | "tcp"
                ))
        })
}

fn godebug_netdns() -> Option<&'static str> {
    static MODE: OnceLock<Option<&'static str>> = OnceLock::new();
    *MODE.get_or_init(|| {
        let v = std::env::var("GODEBUG").ok()?;
        let mode = v
            .split(',')
            .find_map(|kv| kv.strip_prefix("netdns="))?
            .split('+')
            .next()?;
        match mode {
            "go" => Some("go"),
            "cgo" => Some("cgo"),
            _ => None,
        }
    })
}

fn mdns_allow_exists() -> bool {
    std::path::Path::new("/etc/mdns.allow").exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_gos() {
        assert_eq!(servers_of("nameserver 10.0.0.53\n"), ["10.0.0.53:53"]);
        assert_eq!(
            servers_of("# x\nnameserver ::1\nnameserver fe80::1%eth0\nnameserver dns.example\n"),
            ["[::1]:53", "[fe80::1%eth0]:53"]
        );
        assert_eq!(servers_of(""), ["127.0.0.1:53", "[::1]:53"]);
        let four =
            "nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\n";
        assert_eq!(servers_of(four).len(), 3);
    }

    #[test]
    fn go_uses_its_own_client_for_files_and_dns_only() {
        let go = |nss: Option<&str>, host: &str| order_is_go(host, nss, false, "box");
        assert!(go(Some("hosts: files dns\n"), "example.com"));
        assert!(go(Some("hosts: dns files"), "example.com"));
        assert!(go(None, "example.com"));
        assert!(go(Some("passwd: files\n"), "example.com"));
        assert!(!go(Some("hosts: files dns"), "printer.local"));
        // Criteria after mdns are not looked at: Go checks them for files and dns only.
        assert!(go(
            Some("hosts: files mdns4_minimal [NOTFOUND=return] dns"),
            "x.com"
        ));
        assert!(go(Some("hosts: files [NOTFOUND=return] dns"), "x.com"));
        assert!(!go(Some("hosts: files [SUCCESS=continue] dns"), "x.com"));
        assert!(!go(Some("hosts: files [!NOTFOUND=return] dns"), "x.com"));
        assert!(!go(
            Some("hosts: files [NOTFOUND=return UNAVAIL=return] dns"),
            "x.com"
        ));
        assert!(go(Some("hosts: files mdns4_minimal dns"), "example.com"));
        assert!(!go(Some("hosts: files myhostname dns"), "box"));
        assert!(go(Some("hosts: files myhostname dns"), "example.com"));
        assert!(!go(Some("hosts: files nis dns"), "example.com"));
        assert!(!go(Some("hosts: files dns"), "a%b"));
        assert!(!order_is_go(
            "x.com",
            Some("hosts: files mdns dns"),
            true,
            "box"
        ));
    }

    #[test]
    fn unknown_resolver_options_send_go_to_libc() {
        assert!(!has_unknown_option(
            "options ndots:2 timeout:1 rotate use-vc\n"
        ));
        assert!(has_unknown_option("options inet6\n"));
        assert!(has_unknown_option("options edns0 trust-ad\n"));
        assert!(!has_unknown_option("optionsx edns0\n"));
    }
}
