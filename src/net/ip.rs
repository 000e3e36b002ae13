//! IP networks: `parse_cidr`, `IpNet`, `IpMask`, and Go's IP text parser.
//!
//! Go: `src/net/ip.go` (`ParseCIDR`, `IPNet.Contains`, `IPNet.String`, `IPMask`,
//! `CIDRMask`, `IPv4Mask`, `ParseIP`, `parseIPv4`, `parseIPv6`) and `parse.go` (`dtoi`,
//! `xtoi`). The allow-lists and log lines of Go servers are written with these; the
//! parser is Go 1.19's own, not std's, because they differ: Go takes hex groups longer
//! than four digits (`00000001::` is `1::`), refuses IPv4 octets with leading zeros,
//! and prefix lengths with them (`/024`) are fine.
//!
//! Go's `IP` is a byte slice in which an IPv4 address may have 16 bytes (mapped into
//! IPv6) or 4; Rust's `IpAddr` tells the two families apart. Where Go would see an IPv4
//! address (`ip.To4() != nil`), gonet gives an `IpAddr::V4`, so that `Display` prints
//! what Go's `String` prints (`::ffff:1.2.3.4` is `1.2.3.4` in both).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::net::error::ParseError;

/// A network mask: 4 bytes for IPv4, 16 for IPv6 (other lengths are kept, and then mean
/// nothing, as in Go).
///
/// Go: `net.IPMask`. `Display` is Go's `IPMask.String()`: hexadecimal without
/// punctuation (`ffffff00`), `<nil>` for an empty mask.
///
/// ```
/// use gonet::net::{cidr_mask, ipv4_mask};
/// let m = cidr_mask(20, 32).unwrap();
/// assert_eq!(m.to_string(), "fffff000");
/// assert_eq!(m.size(), (20, 32));
/// assert_eq!(ipv4_mask(255, 0, 255, 0).size(), (0, 0)); // not a prefix
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpMask {
    bytes: [u8; 16],
    len: u8,
}

impl IpMask {
    /// The mask's bytes.
    ///
    /// ```
    /// assert_eq!(gonet::net::ipv4_mask(255, 255, 0, 0).as_bytes(), &[255, 255, 0, 0]);
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The number of leading ones and the mask's length in bits; `(0, 0)` if the mask
    /// is not ones followed by zeros. Go: `IPMask.Size()`.
    ///
    /// ```
    /// assert_eq!(gonet::net::cidr_mask(64, 128).unwrap().size(), (64, 128));
    /// ```
    pub fn size(&self) -> (u32, u32) {
        match simple_mask_length(self.as_bytes()) {
            Some(ones) => (ones, u32::from(self.len) * 8),
            None => (0, 0),
        }
    }

    fn from_slice(b: &[u8]) -> IpMask {
        let mut bytes = [0u8; 16];
        bytes[..b.len()].copy_from_slice(b);
        IpMask {
            bytes,
            len: b.len() as u8,
        }
    }
}

impl TryFrom<&[u8]> for IpMask {
    type Error = ParseError;

    /// A mask of up to 16 bytes, as given (Go: `net.IPMask(b)`).
    ///
    /// ```
    /// let m = gonet::net::IpMask::try_from(&[255u8, 255, 255, 128][..]).unwrap();
    /// assert_eq!(m.size(), (25, 32));
    /// ```
    fn try_from(b: &[u8]) -> Result<IpMask, ParseError> {
        if b.len() > 16 {
            return Err(ParseError::new("IP mask", hex(b)));
        }
        Ok(IpMask::from_slice(b))
    }
}

impl fmt::Display for IpMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("<nil>");
        }
        f.write_str(&hex(self.as_bytes()))
    }
}

impl fmt::Debug for IpMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IpMask({self})")
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A mask of `ones` one bits followed by zeros, `bits` long (32 or 128); `None` for
/// other lengths or `ones > bits`. Go: `net.CIDRMask(ones, bits)` (nil there).
///
/// ```
/// assert_eq!(gonet::net::cidr_mask(24, 32).unwrap().to_string(), "ffffff00");
/// assert!(gonet::net::cidr_mask(33, 32).is_none());
/// ```
pub fn cidr_mask(ones: u32, bits: u32) -> Option<IpMask> {
    if (bits != 32 && bits != 128) || ones > bits {
        return None;
    }
    let mut bytes = [0u8; 16];
    let mut left = ones;
    for b in bytes.iter_mut().take(bits as usize / 8) {
        if left >= 8 {
            *b = 0xff;
            left -= 8;
        } else {
            *b = !(0xffu8 >> left);
            left = 0;
        }
    }
    Some(IpMask {
        bytes,
        len: (bits / 8) as u8,
    })
}

/// The IPv4 mask `a.b.c.d`. Go: `net.IPv4Mask(a, b, c, d)`.
///
/// ```
/// assert_eq!(gonet::net::ipv4_mask(255, 255, 255, 0).size(), (24, 32));
/// ```
pub fn ipv4_mask(a: u8, b: u8, c: u8, d: u8) -> IpMask {
    IpMask::from_slice(&[a, b, c, d])
}

/// Go: `simpleMaskLength`: the count of leading ones if the rest is all zeros.
fn simple_mask_length(mask: &[u8]) -> Option<u32> {
    let mut n = 0;
    for (i, &v) in mask.iter().enumerate() {
        if v == 0xff {
            n += 8;
            continue;
        }
        let ones = v.leading_ones();
        if v << ones != 0 || mask[i + 1..].iter().any(|&b| b != 0) {
            return None;
        }
        return Some(n + ones);
    }
    Some(n)
}

/// An IP network: an address and a mask.
///
/// Go: `net.IPNet{IP, Mask}`. [`contains`](IpNet::contains) and `Display` follow Go's
/// `Contains` and `String` exactly, for every combination Go allows (an IPv4 address
/// with a 16-byte mask uses its last 4 bytes; mismatched lengths contain nothing and
/// print `<nil>`; a mask that is not a prefix prints in hex: `198.51.100.0/c000ff00`).
/// `parse_cidr` gives the network with its address masked; [`interface_addrs`]
/// (crate::net::interface_addrs) gives each interface's own address with its mask, as
/// Go does (`127.0.0.1/8`).
///
/// ```
/// let (_, lan) = gonet::net::parse_cidr("192.168.0.0/16")?;
/// assert!(lan.contains("192.168.7.1".parse().unwrap()));
/// assert!(lan.contains("::ffff:192.168.7.1".parse().unwrap())); // IPv4, as in Go
/// assert!(!lan.contains("10.0.0.1".parse().unwrap()));
/// assert_eq!(lan.to_string(), "192.168.0.0/16");
/// assert_eq!(lan.network(), "ip+net");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The network number (or, from [`interface_addrs`](crate::net::interface_addrs),
    /// the interface's address).
    pub ip: IpAddr,
    /// The network mask.
    pub mask: IpMask,
}

impl IpNet {
    /// Whether the network includes `ip` (an IPv4-mapped IPv6 address counts as IPv4).
    /// Go: `IPNet.Contains(ip)`.
    ///
    /// ```
    /// let net: gonet::net::IpNet = "2001:db8::/32".parse()?;
    /// assert!(net.contains("2001:db8:1::5".parse().unwrap()));
    /// assert!(!net.contains("2001:db9::".parse().unwrap()));
    /// # Ok::<(), gonet::net::ParseError>(())
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        let Some((nn, m)) = self.number_and_mask() else {
            return false;
        };
        let ip = ip_bytes(ip);
        if ip.len() != nn.len() {
            return false;
        }
        (0..nn.len()).all(|i| nn[i] & m[i] == ip[i] & m[i])
    }

    /// The network's address-space name, "ip+net". Go: `IPNet.Network()`.
    pub fn network(&self) -> &'static str {
        "ip+net"
    }

    /// Go: `networkNumberAndMask`: the address as 4 or 16 bytes and the mask of the
    /// same length, or `None` when they do not go together.
    fn number_and_mask(&self) -> Option<(IpBytes, &[u8])> {
        let ip = ip_bytes(self.ip);
        let m = self.mask.as_bytes();
        let m = match (m.len(), ip.len()) {
            (4, 4) | (16, 16) => m,
            (16, 4) => &m[12..],
            _ => return None,
        };
        Some((ip, m))
    }
}

impl fmt::Display for IpNet {
    /// Go: `IPNet.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((nn, m)) = self.number_and_mask() else {
            return f.write_str("<nil>");
        };
        let ip = nn.addr();
        match simple_mask_length(m) {
            Some(ones) => write!(f, "{ip}/{ones}"),
            None => write!(f, "{ip}/{}", hex(m)),
        }
    }
}

impl FromStr for IpNet {
    type Err = ParseError;

    /// The network of a CIDR string, as [`parse_cidr`] gives it.
    fn from_str(s: &str) -> Result<IpNet, ParseError> {
        cidr(s).map(|(_, n)| n)
    }
}

/// An address as Go's `To4()`-or-16-bytes form.
#[derive(Clone, Copy)]
enum IpBytes {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl std::ops::Deref for IpBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            IpBytes::V4(b) => b,
            IpBytes::V6(b) => b,
        }
    }
}

impl IpBytes {
    fn addr(&self) -> IpAddr {
        match *self {
            IpBytes::V4(b) => IpAddr::V4(Ipv4Addr::from(b)),
            IpBytes::V6(b) => IpAddr::V6(Ipv6Addr::from(b)),
        }
    }
}

/// Go's `ip.To4()` when it works, else the 16 bytes.
fn ip_bytes(ip: IpAddr) -> IpBytes {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpBytes::V4(v4.octets()),
        IpAddr::V6(v6) => IpBytes::V6(v6.octets()),
    }
}

/// Parses CIDR notation, `192.0.2.1/24` or `2001:db8::1/32`: the address, and the
/// network it is in (the address masked, and the mask).
///
/// Go: `net.ParseCIDR(s)`, with Go 1.19's parser and its error,
/// `invalid CIDR address: 192.0.2.1/33` (a [`ParseError`] inside the `io::Error`, kind
/// `InvalidInput`). Zones (`fe80::1%eth0/64`) are refused, as in Go. An IPv4-mapped
/// IPv6 address (`::ffff:10.0.0.1/104`) comes back as IPv4 and its network as Go
/// prints it (`10.0.0.0/8`: the mask's last 32 bits).
///
/// ```
/// use gonet::net;
/// let (ip, ipnet) = net::parse_cidr("192.0.2.1/24")?;
/// assert_eq!(ip.to_string(), "192.0.2.1");
/// assert_eq!(ipnet.to_string(), "192.0.2.0/24");
/// assert_eq!(ipnet.mask.size(), (24, 32));
/// let err = net::parse_cidr("192.0.2.1/33").unwrap_err();
/// assert_eq!(err.to_string(), "invalid CIDR address: 192.0.2.1/33");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn parse_cidr(s: &str) -> io::Result<(IpAddr, IpNet)> {
    cidr(s).map_err(io::Error::from)
}

/// Go: `ParseCIDR`, its error as the `ParseError` itself.
fn cidr(s: &str) -> Result<(IpAddr, IpNet), ParseError> {
    let err = || ParseError::new("CIDR address", s);
    let (addr, mask) = s.split_once('/').ok_or_else(err)?;
    let (ip, iplen): ([u8; 16], u32) = match parse_ipv4(addr.as_bytes()) {
        Some(v4) => (Ipv4Addr::from(v4).to_ipv6_mapped().octets(), 4),
        None => (parse_ipv6(addr.as_bytes()).ok_or_else(err)?, 16),
    };
    let (n, used) = dtoi(mask.as_bytes()).ok_or_else(err)?;
    if used != mask.len() || n > 8 * iplen {
        return Err(err());
    }
    let m = cidr_mask(n, 8 * iplen).ok_or_else(err)?;
    // Go: ip.Mask(m) on the 16-byte form (a 4-byte mask applies to the IPv4 part).
    let off = 16 - m.len as usize;
    let mut masked = ip;
    for (b, mb) in masked[off..].iter_mut().zip(m.as_bytes()) {
        *b &= mb;
    }
    let canon = |b: [u8; 16]| IpAddr::V6(Ipv6Addr::from(b)).to_canonical();
    Ok((
        canon(ip),
        IpNet {
            ip: canon(masked),
            mask: m,
        },
    ))
}

/// Parses an IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::68`, `::ffff:192.0.2.1`) address;
/// `None` if `s` is neither. IPv4-mapped addresses come back as IPv4, as Go's `IP`
/// prints them.
///
/// Go: `net.ParseIP(s)` (nil there), Go 1.19's parser: no zones, no leading zeros in
/// IPv4 octets, IPv6 groups of any length up to 0xffff (`00000001::` is `1::`).
///
/// ```
/// use gonet::net::parse_ip;
/// assert_eq!(parse_ip("::ffff:192.0.2.1"), Some("192.0.2.1".parse().unwrap()));
/// assert_eq!(parse_ip("192.0.2.01"), None);
/// assert_eq!(parse_ip("fe80::1%eth0"), None);
/// ```
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    for &c in s.as_bytes() {
        match c {
            b'.' => return parse_ipv4(s.as_bytes()).map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            b':' => {
                return parse_ipv6(s.as_bytes())
                    .map(|b| IpAddr::V6(Ipv6Addr::from(b)).to_canonical());
            }
            _ => {}
        }
    }
    None
}

/// Go's `big`: larger numbers are refused by `dtoi` and `xtoi`.
const BIG: u32 = 0xFF_FFFF;

/// Go: `dtoi`: a decimal number at the start of `s` and the digits used; `None` when
/// there is no digit or the number reaches `BIG`.
fn dtoi(s: &[u8]) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n * 10 + u32::from(s[i] - b'0');
        if n >= BIG {
            return None;
        }
        i += 1;
    }
    (i > 0).then_some((n, i))
}

/// Go: `xtoi`: the same in hexadecimal.
fn xtoi(s: &[u8]) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        n = n * 16 + u32::from(d);
        if n >= BIG {
            return None;
        }
        i += 1;
    }
    (i > 0).then_some((n, i))
}

/// Go: `parseIPv4`: four decimal octets, no leading zeros.
fn parse_ipv4(mut s: &[u8]) -> Option<[u8; 4]> {
    let mut p = [0u8; 4];
    for (i, octet) in p.iter_mut().enumerate() {
        if s.is_empty() {
            return None;
        }
        if i > 0 {
            if s[0] != b'.' {
                return None;
            }
            s = &s[1..];
        }
        let (n, c) = dtoi(s)?;
        if n > 0xFF || (c > 1 && s[0] == b'0') {
            return None;
        }
        s = &s[c..];
        *octet = n as u8;
    }
    s.is_empty().then_some(p)
}

/// Go: `parseIPv6` (RFC 4291, RFC 5952): hex groups, one `::`, an IPv4 tail.
fn parse_ipv6(mut s: &[u8]) -> Option<[u8; 16]> {
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.len() >= 2 && s[0] == b':' && s[1] == b':' {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(ip);
        }
    }
    let mut i = 0;
    while i < 16 {
        let (n, c) = xtoi(s)?;
        if n > 0xFFFF {
            return None;
        }
        if c < s.len() && s[c] == b'.' {
            // An IPv4 tail, only in the last 4 bytes (or after an ellipsis).
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return None;
            }
            let v4 = parse_ipv4(s)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (n >> 8) as u8;
        ip[i + 1] = n as u8;
        i += 2;
        s = &s[c..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        for j in (e..i).rev() {
            ip[j + n] = ip[j];
        }
        for b in &mut ip[e..e + n] {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        // The ellipsis must stand for at least one zero group.
        return None;
    }
    Some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_gos() {
        assert_eq!(cidr_mask(0, 32).unwrap().to_string(), "00000000");
        assert_eq!(cidr_mask(128, 128).unwrap().size(), (128, 128));
        assert!(cidr_mask(8, 64).is_none());
        assert_eq!(ipv4_mask(255, 255, 254, 0).size(), (23, 32));
        assert_eq!(IpMask::try_from(&[][..]).unwrap().to_string(), "<nil>");
        assert_eq!(IpMask::try_from(&[][..]).unwrap().size(), (0, 0));
        assert!(IpMask::try_from(&[0u8; 17][..]).is_err());
    }

    #[test]
    fn networks_print_and_contain_like_go_for_odd_combinations() {
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        // An IPv4 address with a 16-byte mask: its last 4 bytes.
        let n = IpNet {
            ip: v4("10.1.0.0"),
            mask: cidr_mask(112, 128).unwrap(),
        };
        assert_eq!(n.to_string(), "10.1.0.0/16");
        assert!(n.contains(v4("10.1.2.3")));
        // An IPv6 address with a 4-byte mask: nothing.
        let n = IpNet {
            ip: v4("2001:db8::"),
            mask: cidr_mask(8, 32).unwrap(),
        };
        assert_eq!(n.to_string(), "<nil>");
        assert!(!n.contains(v4("2001:db8::")));
        // Not a prefix: hex.
        let n = IpNet {
            ip: v4("198.51.100.0"),
            mask: ipv4_mask(0xc0, 0, 0xff, 0),
        };
        assert_eq!(n.to_string(), "198.51.100.0/c000ff00");
    }

    #[test]
    fn go_1_19_parser_cases() {
        let p = |s: &str| parse_ip(s).map(|ip| ip.to_string());
        assert_eq!(p("00000001::").as_deref(), Some("1::"));
        assert_eq!(p("::00001").as_deref(), Some("::1"));
        assert_eq!(p("1:2:3:4:5:6:7::").as_deref(), Some("1:2:3:4:5:6:7:0"));
        assert_eq!(p("::1.2.3.4").as_deref(), Some("::102:304"));
        assert_eq!(p("::ffff:1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(p("1::1.2.3.4").as_deref(), Some("1::102:304"));
        assert_eq!(p("01.2.3.4"), None);
        assert_eq!(p("1.2.3.4."), None);
        assert_eq!(p("1:2:3:4:5:6:7:8:9"), None);
        assert_eq!(p("1::2::3"), None);
        assert_eq!(p("1:2:3:4:5:6:7:8::"), None);
        assert_eq!(p("10000::"), None);
    }
}
