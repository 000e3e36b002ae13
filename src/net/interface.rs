//! The machine's interface addresses.
//!
//! Go: `src/net/interface.go` (`InterfaceAddrs`) and `interface_linux.go`
//! (`interfaceAddrTable`, `newAddr`), which read them from the kernel's routing socket
//! (an `RTM_GETADDR` dump). gonet asks `getifaddrs(3)`, which makes the same netlink
//! dump in glibc and lists the addresses in the same order (IPv4 first, then IPv6, each
//! in the kernel's order), with the local address of a point-to-point link as Go takes
//! it (`IFA_LOCAL` over `IFA_ADDRESS`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::net::error::{OpError, SyscallError};
use crate::net::ip::{IpNet, cidr_mask};

/// The unicast addresses of the machine's interfaces, each with its network's mask:
/// `127.0.0.1/8`, `::1/128`, `192.0.2.2/24`... (the address is the interface's own,
/// not masked, as in Go).
///
/// Go: `net.InterfaceAddrs()`, whose `[]Addr` holds `*IPNet` values; here the
/// [`IpNet`]s themselves. Errors are Go's `route ip+net: ...`.
///
/// ```
/// let addrs = gonet::net::interface_addrs()?;
/// let lo = addrs.iter().find(|n| n.ip.is_loopback()).expect("a loopback address");
/// assert!(lo.contains(lo.ip));
/// // Log which networks this server answers on, as Go servers do.
/// for n in &addrs {
///     eprintln!("{} ({})", n, n.network());
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn interface_addrs() -> io::Result<Vec<IpNet>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head into `head` on success; freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        let e = SyscallError::new("netlinkrib", io::Error::last_os_error());
        return Err(OpError::new("route", "ip+net", e).into());
    }
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not freed yet.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        // SAFETY: a non-null ifa_addr / ifa_netmask points to a sockaddr whose family
        // says how long it is; each is read as that family's type only.
        let (addr, mask) = unsafe { (sockaddr_ip(ifa.ifa_addr), sockaddr_ip(ifa.ifa_netmask)) };
        let Some(ip) = addr else {
            continue; // AF_PACKET (the link itself) and addressless entries
        };
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        let ones = mask.map_or(bits, prefix_len);
        let Some(mask) = cidr_mask(ones, bits) else {
            continue;
        };
        let n = IpNet { ip, mask };
        if ip.is_ipv4() {
            v4.push(n);
        } else {
            v6.push(n);
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once; nothing points into it now.
    unsafe { libc::freeifaddrs(head) };
    v4.extend(v6);
    Ok(v4)
}

/// The IP in a sockaddr, for AF_INET and AF_INET6 (kept in its family: Go's `newAddr`
/// gives an IPv4 interface address as IPv4 even when mapped).
///
/// # Safety
/// `sa` is null or points to a sockaddr valid for its family's size.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: `sa` is not null and points to a sockaddr (the caller's contract); its
    // family says which larger struct it is, so each cast below reads only its bytes.
    match i32::from(unsafe { (*sa).sa_family }) {
        libc::AF_INET => {
            // SAFETY: as above, AF_INET says it is a sockaddr_in.
            let sin = unsafe { &*(sa as *const libc::sockaddr_in) };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, AF_INET6 says it is a sockaddr_in6.
            let sin6 = unsafe { &*(sa as *const libc::sockaddr_in6) };
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

/// The prefix length of a netmask (the kernel's are always prefixes: it builds them
/// from `ifa_prefixlen`, which is what Go reads).
fn prefix_len(mask: IpAddr) -> u32 {
    match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones(),
        IpAddr::V6(m) => u128::from(m).leading_ones(),
    }
}
