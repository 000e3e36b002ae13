//! Internet addresses: parsing `host:port`, ports and service names, IP literals with
//! zones, and choosing the socket family.
//!
//! Go: `src/net/ipsock.go` (`SplitHostPort`, `JoinHostPort`, `internetAddrList`,
//! `favoriteAddrFamily` in `ipsock_posix.go`), `port.go` (`parsePort`), `lookup.go`
//! (`LookupPort`) and `ip.go` (`ParseIP` with zones). Every error text is Go's.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use socket2::Domain;

use crate::net::TcpAddr;
use crate::net::error::{AddrError, BoxError};

/// Splits `"host:port"`, `"[host]:port"` or `"[host%zone]:port"` into host and port.
///
/// Go: `net.SplitHostPort`, with its exact errors ("missing port in address", "too many
/// colons in address", "missing ']' in address", ...). The host may be empty.
///
/// Returns an `io::Error` like every other call (kind `InvalidInput`); the
/// [`AddrError`] inside is Go's `*net.AddrError` ([`AddrError::of`]).
///
/// ```
/// use gonet::net;
/// assert_eq!(net::split_host_port("[::1]:80")?, ("::1".to_string(), "80".to_string()));
/// assert_eq!(net::split_host_port(":8080")?, ("".to_string(), "8080".to_string()));
/// let err = net::split_host_port("127.0.0.1").unwrap_err();
/// assert_eq!(err.to_string(), "address 127.0.0.1: missing port in address");
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// assert_eq!(net::AddrError::of(&err).unwrap().err, "missing port in address");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn split_host_port(hostport: &str) -> io::Result<(String, String)> {
    split(hostport).map_err(io::Error::from)
}

/// Go's `SplitHostPort`, its error as the `AddrError` itself (for callers that wrap it
/// in an `OpError`).
pub(crate) fn split(hostport: &str) -> Result<(String, String), AddrError> {
    let err = |why: &str| AddrError::new(why, hostport);
    // The port starts after the last colon.
    let Some(i) = hostport.rfind(':') else {
        return Err(err("missing port in address"));
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        // Expect the first ']' just before the last ':'.
        let Some(end) = hostport.find(']') else {
            return Err(err("missing ']' in address"));
        };
        if end + 1 == hostport.len() {
            // There can't be a ':' behind the ']' now.
            return Err(err("missing port in address"));
        }
        if end + 1 != i {
            // Either ']' isn't followed by a colon, or it is followed by a colon that is
            // not the last one.
            return Err(err(if hostport.as_bytes()[end + 1] == b':' {
                "too many colons in address"
            } else {
                "missing port in address"
            }));
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1; // there can't be a '[' resp. ']' before these positions
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return Err(err("too many colons in address"));
        }
        j = 0;
        k = 0;
    }
    if hostport[j..].contains('[') {
        return Err(err("unexpected '[' in address"));
    }
    if hostport[k..].contains(']') {
        return Err(err("unexpected ']' in address"));
    }
    Ok((host.to_string(), hostport[i + 1..].to_string()))
}

/// Joins host and port into `"host:port"`, bracketing hosts that contain a colon.
///
/// Go: `net.JoinHostPort`.
///
/// ```
/// assert_eq!(gonet::join_host_port("::1", "80"), "[::1]:80");
/// assert_eq!(gonet::join_host_port("127.0.0.1", "80"), "127.0.0.1:80");
/// ```
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `parsePort`: a decimal port with optional sign, saturating like Go's; `None`
/// when `service` is not a number and must be looked up by name.
pub(crate) fn parse_port(service: &str) -> Option<i64> {
    if service.is_empty() {
        return Some(0);
    }
    const CUTOFF: u64 = 1 << 30;
    let (neg, digits) = match service.as_bytes()[0] {
        b'+' => (false, &service[1..]),
        b'-' => (true, &service[1..]),
        _ => (false, service),
    };
    let mut n: u64 = 0;
    for d in digits.bytes() {
        if !d.is_ascii_digit() {
            return None;
        }
        if n < CUTOFF {
            n = n * 10 + u64::from(d - b'0');
        }
    }
    let port = if !neg && n >= CUTOFF {
        CUTOFF as i64 - 1
    } else if neg && n > CUTOFF {
        CUTOFF as i64
    } else {
        n as i64
    };
    Some(if neg { -port } else { port })
}

/// Go: `LookupPort` for the stream networks: a number, or a service name from
/// `/etc/services` (case-insensitive), else Go's small built-in table.
pub(crate) fn lookup_port(network: &str, service: &str) -> Result<u16, AddrError> {
    let port = match parse_port(service) {
        Some(p) => p,
        None => {
            // Go looks "tcp4"/"tcp6" names up as "tcp": the error says "tcp/name".
            let proto = if network.starts_with("udp") {
                "udp"
            } else {
                "tcp"
            };
            match service_port(proto, service) {
                Some(p) => i64::from(p),
                None => {
                    return Err(AddrError::new("unknown port", format!("{proto}/{service}")));
                }
            }
        }
    };
    u16::try_from(port).map_err(|_| AddrError::new("invalid port", service))
}

/// The port of a named service, from /etc/services (read once) or Go's fallback table.
fn service_port(proto: &str, service: &str) -> Option<u16> {
    static SERVICES: OnceLock<Vec<(String, String, u16)>> = OnceLock::new();
    let table = SERVICES.get_or_init(|| {
        match std::fs::read_to_string("/etc/services") {
            Ok(text) => parse_services(&text),
            // Go's built-in table (net/lookup.go: services) when the file is missing.
            Err(_) => [
                ("tcp", "ftp", 21),
                ("tcp", "ftps", 990),
                ("tcp", "gopher", 70),
                ("tcp", "http", 80),
                ("tcp", "https", 443),
                ("tcp", "imap2", 143),
                ("tcp", "imap3", 220),
                ("tcp", "imaps", 993),
                ("tcp", "pop3", 110),
                ("tcp", "pop3s", 995),
                ("tcp", "smtp", 25),
                ("tcp", "ssh", 22),
                ("tcp", "telnet", 23),
                ("udp", "domain", 53),
            ]
            .iter()
            .map(|&(p, n, port)| (p.to_string(), n.to_string(), port))
            .collect(),
        }
    });
    let name = service.to_ascii_lowercase();
    table
        .iter()
        .find(|(p, n, _)| p == proto && *n == name)
        .map(|&(_, _, port)| port)
}

/// `/etc/services` lines: `name port/proto [aliases...] [# comment]`.
fn parse_services(text: &str) -> Vec<(String, String, u16)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let (Some(name), Some(portproto)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((port, proto)) = portproto.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        for n in std::iter::once(name).chain(fields) {
            out.push((proto.to_string(), n.to_ascii_lowercase(), port));
        }
    }
    out
}

/// Go: `parseIPZone`: an IPv4 or IPv6 literal, the latter with an optional `%zone`.
pub(crate) fn parse_ip_zone(host: &str) -> Option<(IpAddr, String)> {
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Some((IpAddr::V4(v4), String::new()));
    }
    let (ip, zone) = match host.rfind('%') {
        Some(i) if host.contains(':') => (&host[..i], &host[i + 1..]),
        _ => (host, ""),
    };
    ip.parse::<Ipv6Addr>()
        .ok()
        .map(|v6| (IpAddr::V6(v6), zone.to_string()))
}

/// The interface index for an IPv6 zone: an interface name or a number; 0 if neither.
pub(crate) fn zone_index(zone: &str) -> u32 {
    if zone.is_empty() {
        return 0;
    }
    let Ok(name) = std::ffi::CString::new(zone) else {
        return 0;
    };
    // SAFETY: name is a valid NUL-terminated string for the duration of the call.
    match unsafe { libc::if_nametoindex(name.as_ptr()) } {
        0 => zone.parse().unwrap_or(0),
        i => i,
    }
}

/// The interface name for a scope id, or the number itself.
pub(crate) fn zone_name(index: u32) -> String {
    let mut buf = [0u8; libc::IF_NAMESIZE];
    // SAFETY: buf has IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
    if p.is_null() {
        return index.to_string();
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(0);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Go: `internetAddrList`: the candidate addresses for `address` on a tcp/udp network.
///
/// An empty host is the wildcard (`ip: None`). Host names are looked up in /etc/hosts and
/// then the system resolver (see [`crate::net::lookup`]), which gives up at `deadline`. A
/// `tcp4`/`tcp6` network keeps only its family, failing with Go's "no suitable address
/// found".
pub(crate) fn internet_addr_list(
    net: &str,
    address: &str,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<TcpAddr>, BoxError> {
    internet_addr_list_context(net, address, &crate::context::background(), deadline)
}

/// [`internet_addr_list`], the lookup also giving up when `ctx` ends (Go: the `ctx` of
/// `Resolver.internetAddrList`).
pub(crate) fn internet_addr_list_context(
    net: &str,
    address: &str,
    ctx: &crate::context::Context,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<TcpAddr>, BoxError> {
    // Go: an empty address is the wildcard with port 0.
    let (host, port) = match address {
        "" => (String::new(), 0),
        _ => {
            let (host, port) = split(address)?;
            (host, lookup_port(net, &port)?)
        }
    };
    if host.is_empty() {
        return Ok(vec![TcpAddr {
            ip: None,
            port,
            zone: String::new(),
        }]);
    }
    let mut ips: Vec<(IpAddr, String)> = match parse_ip_zone(&host) {
        Some(ipz) => vec![ipz],
        None => crate::net::lookup::lookup_ip_context_until(&host, ctx, deadline)?
            .into_iter()
            .map(|ip| (ip, String::new()))
            .collect(),
    };
    // Go (issue 18806): "::" alone also offers 0.0.0.0, for hosts that can bind the IPv6
    // wildcard but not reach it; it is also why "tcp4" accepts "[::]:port".
    if ips.len() == 1 && ips[0].0 == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
        ips.push((IpAddr::V4(Ipv4Addr::UNSPECIFIED), String::new()));
    }
    let keep = |ip: &IpAddr| match net.as_bytes().last() {
        Some(b'4') => is_ipv4(ip),
        Some(b'6') => !is_ipv4(ip),
        _ => true,
    };
    let list: Vec<TcpAddr> = ips
        .into_iter()
        .filter(|(ip, _)| keep(ip))
        .map(|(ip, zone)| TcpAddr {
            ip: Some(ip),
            port,
            zone,
        })
        .collect();
    if list.is_empty() {
        return Err(AddrError::new("no suitable address found", host).into());
    }
    Ok(list)
}

/// IPv4, or IPv4-mapped IPv6 (Go's `To4() != nil`).
pub(crate) fn is_ipv4(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
    }
}

/// The socket family and IPV6_V6ONLY setting for a listening socket.
///
/// Go: `favoriteAddrFamily` in "listen" mode. "tcp4" is AF_INET, "tcp6" AF_INET6 with
/// V6ONLY; a wildcard "tcp" address is one dual-stack AF_INET6 socket (so `:8080` and
/// `0.0.0.0:8080` print `[::]:8080` and take IPv4 and IPv6), when the kernel maps IPv4
/// into IPv6; anything else uses the address's own family.
pub(crate) fn favorite_addr_family(net: &str, laddr: &TcpAddr) -> (Domain, bool) {
    match net.as_bytes().last() {
        Some(b'4') => return (Domain::IPV4, false),
        Some(b'6') => return (Domain::IPV6, true),
        _ => {}
    }
    let wildcard = laddr.ip.is_none_or(|ip| ip.is_unspecified());
    if wildcard {
        if supports_ipv4_map() {
            return (Domain::IPV6, false);
        }
        return match laddr.ip {
            Some(IpAddr::V6(_)) => (Domain::IPV6, false),
            _ => (Domain::IPV4, false),
        };
    }
    match laddr.ip {
        Some(ip) if is_ipv4(&ip) => (Domain::IPV4, false),
        _ => (Domain::IPV6, false),
    }
}

/// Whether a dual-stack (IPV6_V6ONLY=0) socket works here. Go: `supportsIPv4map`, probed
/// once by binding `[::ffff:127.0.0.1]:0`.
pub(crate) fn supports_ipv4_map() -> bool {
    static MAP: OnceLock<bool> = OnceLock::new();
    *MAP.get_or_init(|| {
        let probe = || -> io::Result<()> {
            let s = socket2::Socket::new(Domain::IPV6, socket2::Type::STREAM, None)?;
            s.set_only_v6(false)?;
            let mapped = Ipv4Addr::LOCALHOST.to_ipv6_mapped();
            s.bind(&std::net::SocketAddr::from((mapped, 0)).into())
        };
        probe().is_ok()
    })
}

// --- The typed calls' helpers (Go: ipsock.go `addrList.forResolve`, ipsock_posix.go
// `ipToSockaddr`): what `resolve_tcp_addr`, `listen_udp` and friends need beyond the
// string-address path above.

/// Go: `addrList.forResolve`: for "tcp" and "udp", an address written with brackets
/// wants the first IPv6 address, any other the first IPv4 one; else the first address.
/// An IPv4-mapped address comes back as plain IPv4 (Go's `IP` does not tell them apart;
/// gonet's addresses read from sockets are canonical, so the two compare equal).
pub(crate) fn for_resolve(network: &str, address: &str, addrs: Vec<TcpAddr>) -> TcpAddr {
    let want6 = matches!(network, "tcp" | "udp") && address.contains('[');
    let v4 = |a: &TcpAddr| a.ip.is_some_and(|ip| is_ipv4(&ip));
    let pos = addrs.iter().position(|a| v4(a) != want6).unwrap_or(0);
    let mut a = addrs.into_iter().nth(pos).unwrap_or_default();
    a.ip = a.ip.map(|ip| ip.to_canonical());
    a
}

/// A resolve error as `ResolveTCPAddr` returns it: the bare cause, no `OpError` around
/// it (`address 99999: invalid port`, `unknown network tcpx`, `lookup x: no such host`).
pub(crate) fn resolve_error(err: BoxError) -> io::Error {
    let kind = if let Some(d) = err.downcast_ref::<crate::net::DnsError>() {
        d.io_kind()
    } else {
        io::ErrorKind::InvalidInput
    };
    io::Error::new(kind, err)
}

/// Go: `ipToSockaddr`: the socket address for an IP endpoint in a socket of `family`.
/// An absent IP is the family's wildcard; IPv4 in an AF_INET6 socket is IPv4-mapped;
/// an IPv6 address cannot go into an AF_INET socket (`address ::1: non-IPv4 address`).
pub(crate) fn ip_to_sockaddr(
    family: Domain,
    ip: Option<IpAddr>,
    port: u16,
    zone: &str,
) -> Result<std::net::SocketAddr, AddrError> {
    if family == Domain::IPV4 {
        let v4 = match ip {
            None => Ipv4Addr::UNSPECIFIED,
            Some(IpAddr::V4(v4)) => v4,
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4,
                None => return Err(AddrError::new("non-IPv4 address", v6.to_string())),
            },
        };
        return Ok(std::net::SocketAddr::from((v4, port)));
    }
    let v6 = match ip {
        None => Ipv6Addr::UNSPECIFIED,
        Some(IpAddr::V4(v4)) if v4.is_unspecified() => Ipv6Addr::UNSPECIFIED,
        Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped(),
        Some(IpAddr::V6(v6)) => v6,
    };
    let scope = zone_index(zone);
    Ok(std::net::SocketAddr::V6(std::net::SocketAddrV6::new(
        v6, port, 0, scope,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_like_go() {
        assert_eq!(parse_port(""), Some(0));
        assert_eq!(parse_port("+80"), Some(80));
        assert_eq!(parse_port("-1"), Some(-1));
        assert_eq!(parse_port("99999999999999"), Some((1 << 30) - 1));
        assert_eq!(parse_port("http"), None);
        assert_eq!(parse_port("0x50"), None);
    }

    #[test]
    fn for_resolve_picks_like_go() {
        let a = |ip: &str| TcpAddr {
            ip: Some(ip.parse().unwrap()),
            port: 1,
            zone: String::new(),
        };
        let both = || vec![a("::1"), a("127.0.0.1"), a("::2"), a("10.0.0.1")];
        // The first IPv4 address, unless the address was written in brackets.
        assert_eq!(for_resolve("tcp", "h:1", both()), a("127.0.0.1"));
        assert_eq!(for_resolve("udp", "[h]:1", both()), a("::1"));
        // Only "tcp" and "udp" look at brackets.
        assert_eq!(for_resolve("tcp6", "[h]:1", both()), a("127.0.0.1"));
        // No address of the wanted kind: the first one; mapped comes back as IPv4.
        assert_eq!(for_resolve("tcp", "h:1", vec![a("::1")]), a("::1"));
        assert_eq!(
            for_resolve("tcp", "[::ffff:1.2.3.4]:1", vec![a("::ffff:1.2.3.4")]),
            a("1.2.3.4")
        );
        assert_eq!(for_resolve("tcp", "", vec![]), TcpAddr::default());
    }

    #[test]
    fn ip_to_sockaddr_is_gos() {
        let v6: IpAddr = "::1".parse().unwrap();
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let s = |f, ip, zone| ip_to_sockaddr(f, ip, 9, zone).map(|a| a.to_string());
        assert_eq!(s(Domain::IPV4, None, "").unwrap(), "0.0.0.0:9");
        assert_eq!(s(Domain::IPV4, Some(mapped), "").unwrap(), "127.0.0.1:9");
        assert_eq!(
            s(Domain::IPV4, Some(v6), "").unwrap_err().to_string(),
            "address ::1: non-IPv4 address"
        );
        assert_eq!(s(Domain::IPV6, None, "").unwrap(), "[::]:9");
        assert_eq!(
            s(Domain::IPV6, Some("0.0.0.0".parse().unwrap()), "").unwrap(),
            "[::]:9"
        );
        assert_eq!(
            s(Domain::IPV6, Some(v4), "").unwrap(),
            "[::ffff:127.0.0.1]:9"
        );
        assert_eq!(s(Domain::IPV6, Some(v6), "lo").unwrap(), "[::1%1]:9");
    }

    #[test]
    fn services_file_is_read() {
        let table = parse_services("http 80/tcp www # web\nbad line\nkermit 1649/tcp\n");
        assert!(table.contains(&("tcp".into(), "www".into(), 80)));
        assert!(table.contains(&("tcp".into(), "kermit".into(), 1649)));
        assert_eq!(table.len(), 3);
    }
}
