//! Which upstreams may send a PROXY header, and what a connection without one gets.
//!
//! Go: go-proxyproto's policy.go (`Policy`, `ConnPolicyFunc`, `ConnPolicyOptions`,
//! `PolicyFromRanges`, `TrustProxyHeaderFrom`, `TrustProxyHeaderFromRanges`,
//! `ConnSkipProxyHeaderForCIDR`, `IgnoreProxyHeaderNotOnInterface`).

use std::io;
use std::net::IpAddr;

use super::error::{Error, ErrorKind};
use crate::net::Addr;
use crate::net::error::BoxError;

/// What to do with a connection's PROXY header.
///
/// Go: `proxyproto.Policy` (`USE`, `IGNORE`, `REJECT`, `REQUIRE`, `SKIP`). The listener's
/// default is [`Policy::Require`], as go-proxyproto's `DefaultPolicy` (the spec says a
/// receiver "MUST not try to guess whether the protocol header is present or not").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Use the header's addresses if there is a header; a connection without one is
    /// served with its own addresses. Go: `USE`.
    Use,
    /// Read and drop a header if there is one; the connection keeps its own addresses.
    /// Go: `IGNORE`.
    Ignore,
    /// A connection that sends a header is closed
    /// ([`ErrorKind::SuperfluousProxyHeader`]); one without is served. Go: `REJECT`.
    Reject,
    /// A connection must start with a header, or it is closed
    /// ([`ErrorKind::NoProxyProtocol`]). Go: `REQUIRE`, go-proxyproto's default.
    #[default]
    Require,
    /// Do not look for a header at all: the connection is passed on untouched, before
    /// any byte is read. Go: `SKIP`.
    Skip,
}

/// The addresses a policy function decides on: the upstream (the peer of the TCP
/// connection: the proxy, or a client that came straight in) and the downstream (the
/// listener's end).
///
/// Go: `proxyproto.ConnPolicyOptions{Upstream, Downstream}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnPolicyOptions {
    /// The connection's remote address. Go: `Upstream`.
    pub upstream: Addr,
    /// The connection's local address. Go: `Downstream`.
    pub downstream: Addr,
}

/// A function of the upstream that picks each connection's [`Policy`].
///
/// Go: `proxyproto.ConnPolicyFunc`. An error closes that connection; one that is (or
/// wraps, in its `source()` chain) [`ErrorKind::InvalidUpstream`] only drops the
/// connection, any other is also returned by the listener's `accept` (as Go's `Accept`
/// returns it).
pub type ConnPolicyFn = dyn Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync;

/// An IP address or a CIDR range from a policy's list.
#[derive(Debug, Clone, Copy)]
enum Range {
    Ip(IpAddr),
    Net(IpAddr, u8),
}

impl Range {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match *self {
            Range::Ip(a) => a.to_canonical() == ip,
            Range::Net(net, bits) => match (net, ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
                (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
                _ => false,
            },
        }
    }
}

fn prefix_eq(net: &[u8], ip: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if net[..whole] != ip[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xFFu8 << (8 - rest);
    net[whole] & mask == ip[whole] & mask
}

/// Go: `parse(allowed)`: each entry an IP ("10.0.0.10") or a CIDR range ("10.0.0.0/8").
fn parse_ranges(ranges: &[&str]) -> io::Result<Vec<Range>> {
    ranges
        .iter()
        .map(|&r| match r.rsplit_once('/') {
            Some((ip, bits)) if !ip.is_empty() => {
                let bad = || {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "proxyproto: given string {r:?} is not a valid IP range: invalid CIDR address: {r}"
                        ),
                    )
                };
                let ip: IpAddr = ip.parse().map_err(|_| bad())?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let bits: u8 = bits
                    .parse()
                    .ok()
                    .filter(|&b| b <= max && !bits.starts_with('+'))
                    .ok_or_else(bad)?;
                Ok(Range::Net(ip, bits))
            }
            _ => r.parse::<IpAddr>().map(Range::Ip).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("proxyproto: given string {r:?} is not a valid IP address"),
                )
            }),
        })
        .collect()
}

/// Go: `ipFromAddr`: the IP of a TCP or UDP address; anything else cannot be classified
/// and is an [`ErrorKind::InvalidUpstream`] error (that connection only is dropped).
fn ip_of(a: &Addr) -> Result<IpAddr, BoxError> {
    a.socket_addr()
        .map(|sa| sa.ip().to_canonical())
        .ok_or_else(|| {
            Error::with_cause(
                ErrorKind::InvalidUpstream,
                format_args!("address {a}: missing port in address"),
            )
            .into()
        })
}

/// A policy by upstream address: `matched` for upstreams in `ranges` (IPs and CIDR
/// ranges), `unmatched` for the others.
///
/// Go: `proxyproto.PolicyFromRanges(ranges, matched, unmatched)`. An invalid entry is an
/// error: `proxyproto: given string "10.0.0.0/33" is not a valid IP range: invalid CIDR
/// address: 10.0.0.0/33`.
///
/// ```
/// use gonet::net::proxyproto::{policy_from_ranges, ConnPolicyOptions, Policy};
/// let p = policy_from_ranges(&["127.0.0.0/8", "::1"], Policy::Use, Policy::Reject).unwrap();
/// let opts = |a: &str| ConnPolicyOptions {
///     upstream: a.parse::<std::net::SocketAddr>().unwrap().into(),
///     downstream: "127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap().into(),
/// };
/// assert_eq!(p(&opts("127.0.0.9:5000")).unwrap(), Policy::Use);
/// assert_eq!(p(&opts("192.0.2.1:5000")).unwrap(), Policy::Reject);
/// assert!(policy_from_ranges(&["10.0.0.0/33"], Policy::Use, Policy::Reject).is_err());
/// ```
pub fn policy_from_ranges(
    ranges: &[&str],
    matched: Policy,
    unmatched: Policy,
) -> io::Result<
    impl Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync + 'static + use<>,
> {
    let ranges = parse_ranges(ranges)?;
    Ok(move |o: &ConnPolicyOptions| {
        let ip = ip_of(&o.upstream)?;
        Ok(if ranges.iter().any(|r| r.contains(ip)) {
            matched
        } else {
            unmatched
        })
    })
}

/// The spec's receiver, end to end: connections from `trusted` IPs must send a header
/// ([`Policy::Require`]); connections from anywhere else are dropped.
///
/// Go: `proxyproto.TrustProxyHeaderFrom(trustedIPs...)`.
///
/// ```
/// use gonet::net::proxyproto::{trust_proxy_header_from, ConnPolicyOptions, Policy};
/// let p = trust_proxy_header_from(&["127.0.0.1".parse().unwrap()]);
/// let from = |a: &str| ConnPolicyOptions {
///     upstream: a.parse::<std::net::SocketAddr>().unwrap().into(),
///     downstream: "127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap().into(),
/// };
/// assert_eq!(p(&from("127.0.0.1:4000")).unwrap(), Policy::Require);
/// let err = p(&from("127.0.0.2:4000")).unwrap_err();
/// assert_eq!(err.to_string(), "proxyproto: upstream connection address not trusted for PROXY information: 127.0.0.2 is not a trusted PROXY sender");
/// ```
pub fn trust_proxy_header_from(
    trusted: &[IpAddr],
) -> impl Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync + 'static + use<> {
    let trusted: Vec<Range> = trusted.iter().map(|&ip| Range::Ip(ip)).collect();
    move |o: &ConnPolicyOptions| trusted_only(&trusted, &o.upstream)
}

/// [`trust_proxy_header_from`] with CIDR ranges.
///
/// Go: `proxyproto.TrustProxyHeaderFromRanges(trusted)`.
///
/// ```
/// let p = gonet::net::proxyproto::trust_proxy_header_from_ranges(&["10.0.0.0/8"]).unwrap();
/// # let _ = p;
/// ```
pub fn trust_proxy_header_from_ranges(
    trusted: &[&str],
) -> io::Result<
    impl Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync + 'static + use<>,
> {
    let trusted = parse_ranges(trusted)?;
    Ok(move |o: &ConnPolicyOptions| trusted_only(&trusted, &o.upstream))
}

fn trusted_only(trusted: &[Range], upstream: &Addr) -> Result<Policy, BoxError> {
    let ip = ip_of(upstream)?;
    if trusted.iter().any(|r| r.contains(ip)) {
        return Ok(Policy::Require);
    }
    Err(Error::with_cause(
        ErrorKind::InvalidUpstream,
        format_args!("{ip} is not a trusted PROXY sender"),
    )
    .into())
}

/// Connections from `skip` (a CIDR range) are passed on untouched ([`Policy::Skip`]:
/// local traffic that comes straight in), the others get `default`.
///
/// Go: `proxyproto.ConnSkipProxyHeaderForCIDR(skipHeaderCIDR, def)`.
///
/// ```
/// use gonet::net::proxyproto::{skip_proxy_header_for_cidr, Policy};
/// let p = skip_proxy_header_for_cidr("10.0.0.0/8", Policy::Require).unwrap();
/// # let _ = p;
/// ```
pub fn skip_proxy_header_for_cidr(
    skip: &str,
    default: Policy,
) -> io::Result<
    impl Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync + 'static + use<>,
> {
    let skip = parse_ranges(&[skip])?;
    Ok(move |o: &ConnPolicyOptions| {
        let ip = ip_of(&o.upstream)?;
        Ok(if skip.iter().any(|r| r.contains(ip)) {
            Policy::Skip
        } else {
            default
        })
    })
}

/// Headers are used on connections to `allowed` (the local IP they came in on) and
/// ignored on the others: a server on several interfaces with a proxy on one.
///
/// Go: `proxyproto.IgnoreProxyHeaderNotOnInterface(allowedIP)`.
///
/// ```
/// use gonet::net::proxyproto::{ignore_proxy_header_not_on_interface, ConnPolicyOptions, Policy};
/// let f = ignore_proxy_header_not_on_interface("10.0.0.1".parse().unwrap());
/// let at = |local: &str| ConnPolicyOptions {
///     upstream: "10.0.0.9:5000".parse::<std::net::SocketAddr>().unwrap().into(),
///     downstream: local.parse::<std::net::SocketAddr>().unwrap().into(),
/// };
/// assert_eq!(f(&at("10.0.0.1:443")).unwrap(), Policy::Use);
/// assert_eq!(f(&at("192.168.1.1:443")).unwrap(), Policy::Ignore);
/// ```
pub fn ignore_proxy_header_not_on_interface(
    allowed: IpAddr,
) -> impl Fn(&ConnPolicyOptions) -> Result<Policy, BoxError> + Send + Sync + 'static {
    move |o: &ConnPolicyOptions| {
        let ip = ip_of(&o.downstream)?;
        Ok(if ip == allowed.to_canonical() {
            Policy::Use
        } else {
            Policy::Ignore
        })
    }
}
