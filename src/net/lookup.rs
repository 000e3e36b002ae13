//! Host name lookup: /etc/hosts first, then the system resolver, off the worker threads.
//!
//! Go: `src/net/lookup.go` (`lookupIPAddr`, which gives up when the context ends),
//! `hosts.go` (`lookupStaticHost`) and `dnsclient_unix.go` (`isDomainName`, the "files,
//! then dns" order). A name that cannot be a domain name (all digits and dots, like
//! `256.0.0.1`) fails with "no such host" without a query, as in Go.
//!
//! IP literals never get here, and names listed in /etc/hosts are answered on the
//! calling thread (a small file read). Every other name goes to `getaddrinfo(3)`, which
//! blocks, so it runs on gonet's resolver threads (see `cgo_unix.rs`) while only the
//! calling coroutine parks: the may worker thread goes on running other coroutines. The
//! caller stops waiting at the dial's deadline with Go's `lookup NAME: i/o timeout`, or
//! when its context is cancelled with `lookup NAME: operation was canceled`; the
//! resolver's answer is then dropped when it comes.
//!
//! Two orders, as in Go: the lookups behind a dial, a listen and [`lookup_ip_context`]
//! (Go's `lookupIPAddr`) give up at once for a context that has already ended, even for
//! a name in /etc/hosts; [`lookup_host_context`] (Go's `LookupHost`) answers from
//! /etc/hosts first, whatever the context.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::context::Context;
use crate::net::error::DnsError;

/// The IP addresses of `host`, in the order /etc/hosts or the resolver gives them; the
/// wait for the resolver ends at `deadline`.
pub(crate) fn lookup_ip_until(
    host: &str,
    deadline: Option<Instant>,
) -> Result<Vec<IpAddr>, DnsError> {
    lookup_ip_context_until(host, &crate::context::background(), deadline)
}

/// Go: `Resolver.lookupIPAddr`: [`lookup_ip_until`], giving up when `ctx` ends too. A
/// context (or deadline) that has already ended wins before anything is looked at, as
/// Go's `select` on `ctx.Done()` does against the lookup it has just started.
pub(crate) fn lookup_ip_context_until(
    host: &str,
    ctx: &Context,
    deadline: Option<Instant>,
) -> Result<Vec<IpAddr>, DnsError> {
    if let Some(why) = ctx.ended() {
        return Err(DnsError::ended(host, why));
    }
    if deadline.is_some_and(|d| d <= Instant::now()) {
        return Err(DnsError::timeout(host));
    }
    resolve(host, ctx, deadline)
}

/// Go: `goLookupHostOrder`'s order: /etc/hosts, then `isDomainName`, then the resolver
/// (which gives up when `ctx` ends or at `deadline`).
fn resolve(host: &str, ctx: &Context, deadline: Option<Instant>) -> Result<Vec<IpAddr>, DnsError> {
    let hook = resolver_hook();
    if hook.is_none() {
        let from_file = lookup_static_host(host);
        if !from_file.is_empty() {
            return Ok(from_file);
        }
    }
    if !is_domain_name(host) {
        return Err(DnsError::not_found(host));
    }
    let name = host.to_string();
    let job = move || {
        if let Some(hook) = hook {
            // Test mode: the hook runs first on the resolver thread, and every name,
            // /etc/hosts ones too, takes the pool path.
            hook(&name);
            let from_file = lookup_static_host(&name);
            if !from_file.is_empty() {
                return Ok(from_file);
            }
        }
        crate::net::cgo_unix::getaddrinfo(&name)
    };
    crate::net::cgo_unix::run(job, ctx, deadline)
        .unwrap_or_else(|why| Err(DnsError::ended(host, why)))
}

fn io_error(e: DnsError) -> std::io::Error {
    std::io::Error::new(e.io_kind(), e)
}

/// The addresses of `host`, as text: an IP literal comes back as given, a name from
/// /etc/hosts or the system resolver (off the worker threads: only the calling coroutine
/// parks).
///
/// Go: `net.LookupHost(host)`. Errors are Go's: `lookup : no such host` for an empty
/// name, `lookup 256.0.0.1: no such host` for one that cannot be a domain name; the error
/// inside is a [`DnsError`] (`err.get_ref()` and `downcast_ref`).
///
/// ```
/// assert_eq!(gonet::lookup_host("localhost").unwrap(), ["127.0.0.1"]);
/// assert_eq!(gonet::lookup_host("fe80::1%lo").unwrap(), ["fe80::1%lo"]);
/// let err = gonet::lookup_host("").unwrap_err();
/// assert_eq!(err.to_string(), "lookup : no such host");
/// ```
pub fn lookup_host(host: &str) -> std::io::Result<Vec<String>> {
    lookup_host_context(&crate::context::background(), host)
}

/// [`lookup_host`], giving up when `ctx` ends: `lookup NAME: operation was canceled`, or
/// `lookup NAME: i/o timeout` at its deadline (a timeout). Names in /etc/hosts (and IP
/// literals) are answered whatever the context, as in Go; the resolver's answer for
/// other names is dropped when `ctx` ends first.
///
/// Go: `net.DefaultResolver.LookupHost(ctx, host)`.
///
/// ```
/// use gonet::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// cancel();
/// assert_eq!(gonet::lookup_host_context(&ctx, "localhost").unwrap(), ["127.0.0.1"]);
/// let err = gonet::lookup_host_context(&ctx, "256.0.0.1").unwrap_err();
/// assert_eq!(err.to_string(), "lookup 256.0.0.1: no such host");
/// ```
pub fn lookup_host_context(ctx: &Context, host: &str) -> std::io::Result<Vec<String>> {
    if crate::net::ipsock::parse_ip_zone(host).is_some() {
        return Ok(vec![host.to_string()]);
    }
    if host.is_empty() {
        return Err(io_error(DnsError::not_found(host)));
    }
    let ips = resolve(host, ctx, None).map_err(io_error)?;
    Ok(ips.iter().map(IpAddr::to_string).collect())
}

/// The IP addresses of `host`: an IP literal (its zone dropped), or what /etc/hosts or the
/// system resolver says, as [`lookup_host`] finds them.
///
/// Go: `net.LookupIP(host)`.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// let ips = gonet::lookup_ip("localhost").unwrap();
/// assert_eq!(ips, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
/// assert!(gonet::lookup_ip("256.0.0.1").is_err()); // not a name, not an address
/// ```
pub fn lookup_ip(host: &str) -> std::io::Result<Vec<IpAddr>> {
    lookup_ip_context(&crate::context::background(), host)
}

/// [`lookup_ip`], giving up when `ctx` ends: `lookup NAME: operation was canceled`, or
/// `lookup NAME: i/o timeout` at its deadline. Unlike [`lookup_host_context`], a context
/// that has already ended fails even a name in /etc/hosts (Go's `lookupIPAddr` order);
/// IP literals are answered whatever the context.
///
/// Go: `net.DefaultResolver.LookupIPAddr(ctx, host)` (the addresses without their zones).
///
/// ```
/// use gonet::context;
/// use std::time::Duration;
/// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(5));
/// assert_eq!(gonet::lookup_ip_context(&ctx, "localhost").unwrap().len(), 1);
/// cancel();
/// let err = gonet::lookup_ip_context(&ctx, "localhost").unwrap_err();
/// assert_eq!(err.to_string(), "lookup localhost: operation was canceled");
/// ```
pub fn lookup_ip_context(ctx: &Context, host: &str) -> std::io::Result<Vec<IpAddr>> {
    if let Some((ip, _zone)) = crate::net::ipsock::parse_ip_zone(host) {
        return Ok(vec![ip]);
    }
    if host.is_empty() {
        return Err(io_error(DnsError::not_found(host)));
    }
    lookup_ip_context_until(host, ctx, None).map_err(io_error)
}

/// [`lookup_port`] with a context, which it does not need: numbers and /etc/services
/// answer at once, as in Go.
///
/// Go: `net.DefaultResolver.LookupPort(ctx, network, service)`.
///
/// ```
/// use gonet::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// cancel();
/// assert_eq!(gonet::lookup_port_context(&ctx, "tcp", "https").unwrap(), 443);
/// ```
pub fn lookup_port_context(_ctx: &Context, network: &str, service: &str) -> std::io::Result<u16> {
    lookup_port(network, service)
}

/// The port of `service` on `network`: a number ("8080"), or a name from /etc/services
/// (`"http"`, any case).
///
/// Go: `net.LookupPort(network, service)`, with Go's errors: `address tcp/nosuch:
/// unknown port`, `address 99999: invalid port`, `address unix: unknown network` (a name
/// needs "tcp", "udp" or their 4/6 forms; a number suits any network). The error inside
/// is an [`AddrError`](crate::AddrError).
///
/// ```
/// assert_eq!(gonet::lookup_port("tcp", "http").unwrap(), 80);
/// assert_eq!(gonet::lookup_port("udp6", "domain").unwrap(), 53);
/// assert_eq!(gonet::lookup_port("tcp", "8080").unwrap(), 8080);
/// let err = gonet::lookup_port("tcp", "99999").unwrap_err();
/// assert_eq!(err.to_string(), "address 99999: invalid port");
/// ```
pub fn lookup_port(network: &str, service: &str) -> std::io::Result<u16> {
    use crate::net::error::AddrError;
    let invalid = |e: AddrError| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    if crate::net::ipsock::parse_port(service).is_none() {
        match network {
            "tcp" | "tcp4" | "tcp6" | "udp" | "udp4" | "udp6" => {}
            // Go 1.0's wildcard: looked up as "ip", which /etc/services never lists.
            "" => {
                let e = AddrError::new("unknown port", format!("ip/{service}"));
                return Err(invalid(e));
            }
            _ => return Err(invalid(AddrError::new("unknown network", network))),
        }
    }
    crate::net::ipsock::lookup_port(network, service).map_err(invalid)
}

/// A function the resolver threads call with each name before looking it up.
type ResolverHook = Arc<dyn Fn(&str) + Send + Sync>;

fn hook_slot() -> &'static RwLock<Option<ResolverHook>> {
    static HOOK: RwLock<Option<ResolverHook>> = RwLock::new(None);
    &HOOK
}

fn resolver_hook() -> Option<ResolverHook> {
    hook_slot()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Test support, not part of the API: while a hook is set, every host name lookup
/// (names from /etc/hosts too) runs on a resolver thread, which calls `hook(name)` before
/// looking the name up. A hook that blocks stands in for a slow DNS server, so tests can
/// watch a slow resolution without sending a query anywhere.
///
/// Go: none (Go's own tests swap `testHookLookupIP`).
///
/// ```
/// let (tx, rx) = crossbeam::channel::unbounded();
/// gonet::__set_resolver_hook(Some(std::sync::Arc::new(move |name: &str| {
///     let _ = tx.send((name.to_string(), std::thread::current().name().map(String::from)));
/// })));
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let port = ln.addr().socket_addr().unwrap().port();
/// gonet::dial("tcp", &format!("localhost:{port}")).unwrap();
/// gonet::__set_resolver_hook(None);
/// let (name, thread) = rx.try_recv().unwrap();
/// assert_eq!((name.as_str(), thread.as_deref()), ("localhost", Some("gonet-blocking")));
/// ```
#[doc(hidden)]
pub fn __set_resolver_hook(hook: Option<ResolverHook>) {
    *hook_slot().write().unwrap_or_else(|e| e.into_inner()) = hook;
}

/// Test support, not part of the API: how many resolver threads have been started.
///
/// Go: none.
///
/// ```
/// assert!(gonet::__resolver_threads() <= 4);
/// ```
#[doc(hidden)]
pub fn __resolver_threads() -> usize {
    crate::net::cgo_unix::threads()
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
        let Some((ip, _zone)) = crate::net::ipsock::parse_ip_zone(ip) else {
            continue;
        };
        if fields.any(|name| name.trim_end_matches('.').eq_ignore_ascii_case(&want))
            && !out.contains(&ip)
        {
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
        let text =
            "127.0.0.1 localhost vm\n::1 localhost ip6-localhost # v6\n# 1.2.3.4 localhost\n";
        let ips = hosts_lookup(text, "LOCALHOST.");
        assert_eq!(
            ips,
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(hosts_lookup(text, "nosuch").is_empty());
    }
}
