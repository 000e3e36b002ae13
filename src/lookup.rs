//! Host name lookup: /etc/hosts first, then the system resolver.
//!
//! Go: `src/net/lookup.go`, `hosts.go` (`lookupStaticHost`) and `dnsclient_unix.go`
//! (`isDomainName`, the "files, then dns" order). A name that cannot be a domain name
//! (all digits and dots, like `256.0.0.1`) fails with "no such host" without a query,
//! as in Go.

use std::net::IpAddr;

use crate::error::DnsError;

/// The IP addresses of `host`, in the order /etc/hosts or the resolver gives them.
pub(crate) fn lookup_ip(host: &str) -> Result<Vec<IpAddr>, DnsError> {
    let from_file = lookup_static_host(host);
    if !from_file.is_empty() {
        return Ok(from_file);
    }
    if !is_domain_name(host) {
        return Err(DnsError::not_found(host));
    }
    getaddrinfo(host)
}

/// Go: `lookupStaticHost`: addresses listed for `host` (case-insensitive, a trailing
/// dot ignored) in /etc/hosts.
fn lookup_static_host(host: &str) -> Vec<IpAddr> {
    let Ok(text) = std::fs::read_to_string("/etc/hosts") else {
        return Vec::new();
    };
    hosts_lookup(&text, host)
}

fn hosts_lookup(text: &str, host: &str) -> Vec<IpAddr> {
    let want = host.trim_end_matches('.').to_ascii_lowercase();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(ip) = fields.next() else { continue };
        let Some((ip, _zone)) = crate::ipsock::parse_ip_zone(ip) else {
            continue;
        };
        if fields.any(|name| name.trim_end_matches('.').eq_ignore_ascii_case(&want)) && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// Go: `isDomainName`: RFC 1035 syntax, labels of at most 63 bytes, at most 254 bytes in
/// all, and at least one non-digit somewhere.
pub(crate) fn is_domain_name(s: &str) -> bool {
    if s == "." {
        return true;
    }
    let b = s.as_bytes();
    let l = b.len();
    if l == 0 || l > 254 || (l == 254 && b[l - 1] != b'.') {
        return false;
    }
    let mut last = b'.';
    let mut non_numeric = false;
    let mut partlen = 0;
    for &c in b {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                non_numeric = true;
                partlen += 1;
            }
            b'0'..=b'9' => partlen += 1,
            b'-' => {
                if last == b'.' {
                    return false;
                }
                partlen += 1;
                non_numeric = true;
            }
            b'.' => {
                if last == b'.' || last == b'-' || partlen > 63 || partlen == 0 {
                    return false;
                }
                partlen = 0;
            }
            _ => return false,
        }
        last = c;
    }
    last != b'-' && partlen <= 63 && non_numeric
}

/// The system resolver (getaddrinfo(3)): DNS and whatever nsswitch.conf lists.
fn getaddrinfo(host: &str) -> Result<Vec<IpAddr>, DnsError> {
    let fail = |err: String, not_found: bool, temporary: bool| DnsError {
        err,
        name: host.to_string(),
        is_not_found: not_found,
        is_temporary: temporary,
    };
    let Ok(c_host) = std::ffi::CString::new(host) else {
        return Err(DnsError::not_found(host));
    };
    // SAFETY: addrinfo is plain data; all-zero is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: c_host is NUL-terminated, hints is initialised and res is an out-pointer;
    // on success res is freed below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(match rc {
            libc::EAI_NONAME | libc::EAI_NODATA => DnsError::not_found(host),
            libc::EAI_AGAIN => fail("server misbehaving".into(), false, true),
            _ => fail(gai_error_text(rc), false, false),
        });
    }
    let mut ips = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned, which stays valid until freed.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() {
            // SAFETY: ai_addr points to ai_addrlen bytes of a socket address.
            let sa = unsafe {
                socket2::SockAddr::try_init(|storage, len| {
                    let n = (ai.ai_addrlen as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
                    std::ptr::copy_nonoverlapping(ai.ai_addr.cast::<u8>(), storage.cast::<u8>(), n);
                    *len = n as libc::socklen_t;
                    Ok(())
                })
            };
            if let Ok(((), sa)) = sa {
                if let Some(ip) = sa.as_socket().map(|s| s.ip()) {
                    if !ips.contains(&ip) {
                        ips.push(ip);
                    }
                }
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from a successful getaddrinfo and is freed exactly once.
    unsafe { libc::freeaddrinfo(res) };
    if ips.is_empty() {
        return Err(DnsError::not_found(host));
    }
    Ok(ips)
}

fn gai_error_text(rc: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    let msg = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) };
    msg.to_string_lossy().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_follow_go() {
        assert!(is_domain_name("localhost"));
        assert!(is_domain_name("a-b.example."));
        assert!(!is_domain_name("256.0.0.1"));
        assert!(!is_domain_name("-a"));
        assert!(!is_domain_name("a..b"));
        assert!(!is_domain_name(""));
        assert!(!is_domain_name(&"a".repeat(64)));
    }

    #[test]
    fn hosts_file_is_read_in_order() {
        let text = "127.0.0.1 localhost vm\n::1 localhost ip6-localhost # v6\n# 1.2.3.4 localhost\n";
        let ips = hosts_lookup(text, "LOCALHOST.");
        assert_eq!(ips, vec!["127.0.0.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]);
        assert!(hosts_lookup(text, "nosuch").is_empty());
    }
}
