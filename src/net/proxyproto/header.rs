//! The PROXY protocol header: its fields, the parser for versions 1 (text) and 2
//! (binary), and the writer.
//!
//! Go: go-proxyproto's header.go (`Header`, `Read`, `Format`, `HeaderProxyFromAddrs`),
//! v1.go, v2.go, addr_proto.go and version_cmd.go. The parser works on the bytes seen so
//! far and says how many more it needs, so a listener can peek at a socket until the
//! header is complete and then take exactly its bytes, never one past it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::error::{Error, ErrorKind};
use super::tlv::{Pp2Type, Ssl, Tlv, join_tlvs, split_tlvs};
use crate::net::{Addr, TcpAddr, UdpAddr, UnixAddr};

/// The version 1 signature, "PROXY". Go: `proxyproto.SIGV1`.
pub const SIGV1: [u8; 5] = *b"PROXY";
/// The version 2 signature. Go: `proxyproto.SIGV2`.
pub const SIGV2: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 2 address block plus TLVs accepted by default (the 16-bit length
/// field allows 65,535): enough for a client certificate in the SSL record, small enough
/// that an untrusted peer cannot make every connection buffer 64 KiB. Go:
/// `proxyproto.MaxV2HeaderSize`.
pub const DEFAULT_MAX_V2_HEADER_SIZE: u16 = 4096;
/// The longest version 1 line, CRLF included (spec, section 2.1).
const V1_MAX: usize = 107;

const LEN_V4: u16 = 12;
const LEN_V6: u16 = 36;
const LEN_UNIX: u16 = 216;

/// The command of a header: LOCAL (the proxy's own connection, a health check: use the
/// real addresses) or PROXY (relayed for the client in the header).
///
/// Go: `proxyproto.ProtocolVersionAndCommand` (`LOCAL`, `PROXY`); version 1 headers are
/// PROXY, or LOCAL for `PROXY UNKNOWN`.
///
/// ```
/// use gonet::net::proxyproto::ProtocolVersionAndCommand as Cmd;
/// assert!(Cmd::LOCAL.is_local() && Cmd::PROXY.is_proxy() && Cmd(0x22).is_unspec());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolVersionAndCommand(pub u8);

impl ProtocolVersionAndCommand {
    /// Go: `proxyproto.LOCAL`.
    pub const LOCAL: ProtocolVersionAndCommand = ProtocolVersionAndCommand(0x20);
    /// Go: `proxyproto.PROXY`.
    pub const PROXY: ProtocolVersionAndCommand = ProtocolVersionAndCommand(0x21);

    /// Go: `IsLocal()`.
    pub fn is_local(self) -> bool {
        self == Self::LOCAL
    }

    /// Go: `IsProxy()`.
    pub fn is_proxy(self) -> bool {
        self == Self::PROXY
    }

    /// Neither LOCAL nor PROXY. Go: `IsUnspec()`.
    pub fn is_unspec(self) -> bool {
        !self.is_local() && !self.is_proxy()
    }

    /// Go: `toByte()`: what is written, LOCAL unless PROXY.
    fn to_byte(self) -> u8 {
        if self.is_proxy() {
            Self::PROXY.0
        } else {
            Self::LOCAL.0
        }
    }
}

/// The address family and transport of a header.
///
/// Go: `proxyproto.AddressFamilyAndProtocol` (`UNSPEC`, `TCPv4`, `UDPv4`, `TCPv6`,
/// `UDPv6`, `UnixStream`, `UnixDatagram`).
///
/// ```
/// use gonet::net::proxyproto::AddressFamilyAndProtocol as Af;
/// assert!(Af::TCPV6.is_ipv6() && Af::TCPV6.is_stream());
/// assert!(Af::UNIX_DATAGRAM.is_unix() && Af::UNIX_DATAGRAM.is_datagram());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressFamilyAndProtocol(pub u8);

impl AddressFamilyAndProtocol {
    /// Go: `proxyproto.UNSPEC`.
    pub const UNSPEC: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x00);
    /// Go: `proxyproto.TCPv4`.
    pub const TCPV4: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x11);
    /// Go: `proxyproto.UDPv4`.
    pub const UDPV4: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x12);
    /// Go: `proxyproto.TCPv6`.
    pub const TCPV6: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x21);
    /// Go: `proxyproto.UDPv6`.
    pub const UDPV6: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x22);
    /// Go: `proxyproto.UnixStream`.
    pub const UNIX_STREAM: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x31);
    /// Go: `proxyproto.UnixDatagram`.
    pub const UNIX_DATAGRAM: AddressFamilyAndProtocol = AddressFamilyAndProtocol(0x32);

    /// Go: `IsIPv4()`.
    pub fn is_ipv4(self) -> bool {
        self.0 & 0xF0 == 0x10
    }

    /// Go: `IsIPv6()`.
    pub fn is_ipv6(self) -> bool {
        self.0 & 0xF0 == 0x20
    }

    /// Go: `IsUnix()`.
    pub fn is_unix(self) -> bool {
        self.0 & 0xF0 == 0x30
    }

    /// Go: `IsStream()`.
    pub fn is_stream(self) -> bool {
        self.0 & 0x0F == 0x01
    }

    /// Go: `IsDatagram()`.
    pub fn is_datagram(self) -> bool {
        self.0 & 0x0F == 0x02
    }

    /// Go: `IsUnspec()`.
    pub fn is_unspec(self) -> bool {
        self.0 & 0xF0 == 0x00 || self.0 & 0x0F == 0x00
    }

    /// One of the seven values the spec defines (section 2.2); receivers must reject
    /// the others. Go: `supportedTransportProtocol`.
    fn is_defined(self) -> bool {
        matches!(self.0, 0x00 | 0x11 | 0x12 | 0x21 | 0x22 | 0x31 | 0x32)
    }

    /// Go: `toByte()`: the defined value with the same family and transport, else
    /// UNSPEC.
    fn to_byte(self) -> u8 {
        let (family, transport) = (self.0 & 0xF0, self.0 & 0x0F);
        if matches!(family, 0x10 | 0x20 | 0x30) && matches!(transport, 0x01 | 0x02) {
            family | transport
        } else {
            Self::UNSPEC.0
        }
    }
}

/// A PROXY protocol header: who the client is, as the proxy in front saw it.
///
/// Go: `proxyproto.Header{Version, Command, TransportProtocol, SourceAddr,
/// DestinationAddr}` and its methods. `source_addr` is the client, `destination_addr`
/// the address the client connected to (the proxy's); for a LOCAL command (a health
/// check) and `PROXY UNKNOWN` both are `None`.
///
/// ```
/// use gonet::net::proxyproto::Header;
/// let (h, n) = Header::parse(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /").unwrap();
/// assert_eq!(n, 45); // the header's bytes; "GET /" is the client's
/// assert_eq!(h.version, 1);
/// assert_eq!(h.source_addr.unwrap().to_string(), "192.0.2.1:56324");
/// assert_eq!(h.destination_addr.unwrap().to_string(), "198.51.100.2:443");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// 1 or 2. Go: `Version`.
    pub version: u8,
    /// Go: `Command`.
    pub command: ProtocolVersionAndCommand,
    /// Go: `TransportProtocol`.
    pub transport_protocol: AddressFamilyAndProtocol,
    /// The client. Go: `SourceAddr`.
    ///
    /// A version 2 Unix address is a name of up to 108 bytes. Go keeps its bytes as they
    /// are; here a name that is not UTF-8 has each bad sequence replaced by U+FFFD (as
    /// `String::from_utf8_lossy` does), and a name written longer than 108 bytes is cut
    /// at the last whole character that fits (Go cuts at byte 108).
    pub source_addr: Option<Addr>,
    /// Where the client connected to. Go: `DestinationAddr`.
    pub destination_addr: Option<Addr>,
    /// The TLV vector after the addresses (version 2).
    raw_tlvs: Vec<u8>,
}

/// What the bytes seen so far are.
#[derive(Debug)]
pub(crate) enum Step {
    /// A whole header, and how many bytes it took.
    Header(Header, usize),
    /// The stream does not start with a PROXY signature.
    NotProxy,
    /// A header (or its signature) that needs at least this many bytes in all.
    More(usize),
}

impl Header {
    /// Parses the header at the start of `buf`, which holds everything there is (a UDP
    /// datagram, a file, what a stream held when it ended). Returns the header and the
    /// number of bytes it took: what follows is the client's data.
    ///
    /// Go: `proxyproto.Read(bufio.NewReader(bytes.NewReader(buf)))`: no signature is
    /// [`ErrorKind::NoProxyProtocol`], and a header cut short fails as Go's does at the
    /// end of its reader (`proxyproto: can't read version 1 header: EOF`).
    ///
    /// ```
    /// use gonet::net::proxyproto::{ErrorKind, Header};
    /// assert_eq!(Header::parse(b"GET / HTTP/1.1\r\n").unwrap_err().kind(), ErrorKind::NoProxyProtocol);
    /// let err = Header::parse(b"PROXY TCP4 192.0.2.1").unwrap_err();
    /// assert_eq!(err.to_string(), "proxyproto: can't read version 1 header: EOF");
    /// ```
    pub fn parse(buf: &[u8]) -> Result<(Header, usize), Error> {
        match parse_stream(buf, DEFAULT_MAX_V2_HEADER_SIZE)? {
            Step::Header(h, n) => Ok((h, n)),
            Step::NotProxy => Err(Error::new(ErrorKind::NoProxyProtocol)),
            Step::More(_) => Err(cut_short(buf, "EOF")),
        }
    }

    /// A header for a connection from `source` to `destination`, as a proxy writes it:
    /// TCPv4 when both are IPv4 TCP addresses, TCPv6 for other TCP pairs, UDP and Unix
    /// likewise; LOCAL with no addresses when they do not pair up. A `version` other
    /// than 1 or 2 means 2.
    ///
    /// Go: `proxyproto.HeaderProxyFromAddrs(version, sourceAddr, destAddr)`.
    ///
    /// ```
    /// use gonet::net::proxyproto::Header;
    /// let src: gonet::Addr = "192.0.2.1:5000".parse::<std::net::SocketAddr>().unwrap().into();
    /// let dst: gonet::Addr = "127.0.0.1:8080".parse::<std::net::SocketAddr>().unwrap().into();
    /// let h = Header::proxy_from_addrs(1, &src, &dst);
    /// assert_eq!(h.format().unwrap(), b"PROXY TCP4 192.0.2.1 127.0.0.1 5000 8080\r\n");
    /// ```
    pub fn proxy_from_addrs(version: u8, source: &Addr, destination: &Addr) -> Header {
        let version = if version == 1 || version == 2 {
            version
        } else {
            2
        };
        let v4 = |ip: &Option<IpAddr>| ip.is_some_and(|ip| ip.to_canonical().is_ipv4());
        let af = match (source, destination) {
            (Addr::Tcp(s), Addr::Tcp(d)) if v4(&s.ip) && v4(&d.ip) => {
                AddressFamilyAndProtocol::TCPV4
            }
            (Addr::Tcp(_), Addr::Tcp(_)) => AddressFamilyAndProtocol::TCPV6,
            (Addr::Udp(s), Addr::Udp(d)) if v4(&s.ip) && v4(&d.ip) => {
                AddressFamilyAndProtocol::UDPV4
            }
            (Addr::Udp(_), Addr::Udp(_)) => AddressFamilyAndProtocol::UDPV6,
            (Addr::Unix(s), Addr::Unix(d)) if s.net == d.net && s.net == "unix" => {
                AddressFamilyAndProtocol::UNIX_STREAM
            }
            (Addr::Unix(s), Addr::Unix(d)) if s.net == d.net && s.net == "unixgram" => {
                AddressFamilyAndProtocol::UNIX_DATAGRAM
            }
            _ => AddressFamilyAndProtocol::UNSPEC,
        };
        let mut h = Header {
            version,
            command: ProtocolVersionAndCommand::LOCAL,
            transport_protocol: af,
            source_addr: None,
            destination_addr: None,
            raw_tlvs: Vec::new(),
        };
        if af != AddressFamilyAndProtocol::UNSPEC {
            h.command = ProtocolVersionAndCommand::PROXY;
            h.source_addr = Some(source.clone());
            h.destination_addr = Some(destination.clone());
        }
        h
    }

    /// A LOCAL header of `version` (what a proxy sends for its own health checks).
    ///
    /// ```
    /// let h = gonet::net::proxyproto::Header::local(2);
    /// assert_eq!(h.format().unwrap().len(), 16);
    /// ```
    pub fn local(version: u8) -> Header {
        Header {
            version,
            command: ProtocolVersionAndCommand::LOCAL,
            transport_protocol: AddressFamilyAndProtocol::UNSPEC,
            source_addr: None,
            destination_addr: None,
            raw_tlvs: Vec::new(),
        }
    }

    /// The header as sent on the wire.
    ///
    /// Go: `Header.Format()`: [`ErrorKind::UnknownProxyProtocolVersion`] for a version
    /// other than 1 and 2, [`ErrorKind::InvalidAddress`] for addresses that do not fit
    /// the transport, [`ErrorKind::Uint16Overflow`] for TLVs too long for the length
    /// field. Version 1 writes `PROXY UNKNOWN` for anything but TCP.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Header, ErrorKind};
    /// let mut h = Header::local(3);
    /// assert_eq!(h.format().unwrap_err().kind(), ErrorKind::UnknownProxyProtocolVersion);
    /// h.version = 1;
    /// assert_eq!(h.format().unwrap(), b"PROXY UNKNOWN\r\n");
    /// ```
    pub fn format(&self) -> Result<Vec<u8>, Error> {
        match self.version {
            1 => self.format_v1(),
            2 => self.format_v2(),
            _ => Err(Error::new(ErrorKind::UnknownProxyProtocolVersion)),
        }
    }

    /// Writes the header to `w`, returning its length. Go: `Header.WriteTo(w)`.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// let n = gonet::net::proxyproto::Header::local(1).write_to(&mut out).unwrap();
    /// assert_eq!((n, &out[..]), (15, &b"PROXY UNKNOWN\r\n"[..]));
    /// ```
    pub fn write_to(&self, mut w: impl io::Write) -> io::Result<usize> {
        let buf = self.format()?;
        w.write_all(&buf)?;
        Ok(buf.len())
    }

    /// The TLV records (version 2), split. Go: `Header.TLVs()`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Header, Pp2Type, Tlv};
    /// let mut h = Header::local(2);
    /// h.set_tlvs(&[Tlv::new(Pp2Type::UNIQUE_ID, b"abc".to_vec())]).unwrap();
    /// let (back, _) = Header::parse(&h.format().unwrap()).unwrap();
    /// assert_eq!(back.tlvs().unwrap()[0].value, b"abc");
    /// ```
    pub fn tlvs(&self) -> Result<Vec<Tlv>, Error> {
        split_tlvs(&self.raw_tlvs)
    }

    /// Replaces the TLV records. Go: `Header.SetTLVs(tlvs)`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Header, Pp2Type, Tlv};
    /// let mut h = Header::local(2);
    /// h.set_tlvs(&[Tlv::new(Pp2Type::UNIQUE_ID, b"id-1".to_vec())]).unwrap();
    /// assert_eq!(h.raw_tlvs(), &[0x05, 0x00, 0x04, b'i', b'd', b'-', b'1']);
    /// assert_eq!(h.unique_id().as_deref(), Some(&b"id-1"[..]));
    /// ```
    pub fn set_tlvs(&mut self, tlvs: &[Tlv]) -> Result<(), Error> {
        self.raw_tlvs = join_tlvs(tlvs)?;
        Ok(())
    }

    /// The TLV vector as it came, unsplit.
    ///
    /// ```
    /// use gonet::net::proxyproto::Header;
    /// assert!(Header::local(2).raw_tlvs().is_empty());
    /// ```
    pub fn raw_tlvs(&self) -> &[u8] {
        &self.raw_tlvs
    }

    fn tlv(&self, kind: Pp2Type) -> Option<Tlv> {
        self.tlvs().ok()?.into_iter().find(|t| t.kind == kind)
    }

    /// The host name the client asked for (`PP2_TYPE_AUTHORITY`: TLS SNI), if sent.
    /// Go: `tlvparse.FindAuthority`-style lookups over `Header.TLVs()`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Header, Pp2Type, Tlv};
    /// let mut h = Header::local(2);
    /// h.set_tlvs(&[Tlv::new(Pp2Type::AUTHORITY, b"example.com".to_vec())]).unwrap();
    /// assert_eq!(h.authority().as_deref(), Some("example.com"));
    /// assert_eq!(h.alpn(), None);
    /// ```
    pub fn authority(&self) -> Option<String> {
        String::from_utf8(self.tlv(Pp2Type::AUTHORITY)?.value).ok()
    }

    /// The application protocol (`PP2_TYPE_ALPN`), if sent.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Header, Pp2Type, Tlv};
    /// let mut h = Header::local(2);
    /// h.set_tlvs(&[Tlv::new(Pp2Type::ALPN, b"h2".to_vec())]).unwrap();
    /// assert_eq!(h.alpn().as_deref(), Some(&b"h2"[..]));
    /// ```
    pub fn alpn(&self) -> Option<Vec<u8>> {
        Some(self.tlv(Pp2Type::ALPN)?.value)
    }

    /// The proxy's connection id (`PP2_TYPE_UNIQUE_ID`), if sent (HAProxy:
    /// `proxy-v2-options unique-id`).
    ///
    /// ```
    /// use gonet::net::proxyproto::Header;
    /// assert_eq!(Header::local(2).unique_id(), None);
    /// ```
    pub fn unique_id(&self) -> Option<Vec<u8>> {
        Some(self.tlv(Pp2Type::UNIQUE_ID)?.value)
    }

    /// The client's TLS details (`PP2_TYPE_SSL`), if sent; `Some(Err(..))` for a
    /// malformed record. Go: `tlvparse.FindSSL(tlvs)`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{ErrorKind, Header, Pp2Type, Tlv};
    /// let mut h = Header::local(2);
    /// assert!(h.ssl().is_none());
    /// h.set_tlvs(&[Tlv::new(Pp2Type::SSL, vec![0x01])]).unwrap(); // too short
    /// assert_eq!(h.ssl().unwrap().unwrap_err().kind(), ErrorKind::MalformedTlv);
    /// ```
    pub fn ssl(&self) -> Option<Result<Ssl, Error>> {
        Some(Ssl::parse(&self.tlv(Pp2Type::SSL)?))
    }

    /// Go: `formatVersion1`.
    fn format_v1(&self) -> Result<Vec<u8>, Error> {
        let (proto, v6) = match self.transport_protocol {
            AddressFamilyAndProtocol::TCPV4 => ("TCP4", false),
            AddressFamilyAndProtocol::TCPV6 => ("TCP6", true),
            _ => return Ok(b"PROXY UNKNOWN\r\n".to_vec()),
        };
        let (Some(Addr::Tcp(s)), Some(Addr::Tcp(d))) = (&self.source_addr, &self.destination_addr)
        else {
            return Err(Error::new(ErrorKind::InvalidAddress));
        };
        let ip = |a: &TcpAddr| -> Result<String, Error> {
            match (a.ip, v6) {
                (Some(ip), false) => match ip.to_canonical() {
                    IpAddr::V4(v4) => Ok(v4.to_string()),
                    IpAddr::V6(_) => Err(Error::new(ErrorKind::InvalidAddress)),
                },
                // Go (netip.Addr of To16()): an IPv4 address in a TCP6 line is written
                // as ::ffff:a.b.c.d.
                (Some(IpAddr::V4(v4)), true) => Ok(format!("::ffff:{v4}")),
                (Some(IpAddr::V6(v6)), true) => Ok(v6.to_string()),
                (None, _) => Err(Error::new(ErrorKind::InvalidAddress)),
            }
        };
        let line = format!(
            "PROXY {proto} {} {} {} {}\r\n",
            ip(s)?,
            ip(d)?,
            s.port,
            d.port
        );
        Ok(line.into_bytes())
    }

    /// Go: `formatVersion2`.
    fn format_v2(&self) -> Result<Vec<u8>, Error> {
        let af = self.transport_protocol;
        let mut buf = Vec::with_capacity(16 + 216 + self.raw_tlvs.len());
        buf.extend_from_slice(&SIGV2);
        buf.push(self.command.to_byte());
        buf.push(af.to_byte());
        let with_tlvs = |base: u16| -> Result<[u8; 2], Error> {
            u16::try_from(usize::from(base) + self.raw_tlvs.len())
                .map(u16::to_be_bytes)
                .map_err(|_| Error::new(ErrorKind::Uint16Overflow))
        };
        if af.is_unspec() {
            buf.extend_from_slice(&with_tlvs(0)?);
        } else if af.is_unix() {
            buf.extend_from_slice(&with_tlvs(LEN_UNIX)?);
            let (Some(Addr::Unix(s)), Some(Addr::Unix(d))) =
                (&self.source_addr, &self.destination_addr)
            else {
                return Err(Error::new(ErrorKind::InvalidAddress));
            };
            buf.extend_from_slice(&unix_name(&s.name));
            buf.extend_from_slice(&unix_name(&d.name));
        } else {
            let v4 = af.is_ipv4();
            buf.extend_from_slice(&with_tlvs(if v4 { LEN_V4 } else { LEN_V6 })?);
            let ((sip, sport), (dip, dport)) = match (&self.source_addr, &self.destination_addr) {
                (Some(s), Some(d)) => (ip_port(s)?, ip_port(d)?),
                _ => return Err(Error::new(ErrorKind::InvalidAddress)),
            };
            for ip in [sip, dip] {
                match (ip.to_canonical(), v4) {
                    (IpAddr::V4(a), true) => buf.extend_from_slice(&a.octets()),
                    (IpAddr::V6(_), true) => return Err(Error::new(ErrorKind::InvalidAddress)),
                    (IpAddr::V4(a), false) => buf.extend_from_slice(&a.to_ipv6_mapped().octets()),
                    (IpAddr::V6(a), false) => buf.extend_from_slice(&a.octets()),
                }
            }
            buf.extend_from_slice(&sport.to_be_bytes());
            buf.extend_from_slice(&dport.to_be_bytes());
        }
        buf.extend_from_slice(&self.raw_tlvs);
        Ok(buf)
    }
}

/// The IP and port of a TCP or UDP address (Go: `Header.IPs()` and `Ports()`).
fn ip_port(a: &Addr) -> Result<(IpAddr, u16), Error> {
    let (ip, port) = match a {
        Addr::Tcp(t) => (t.ip, t.port),
        Addr::Udp(u) => (u.ip, u.port),
        _ => (None, 0),
    };
    ip.map(|ip| (ip, port))
        .ok_or_else(|| Error::new(ErrorKind::InvalidAddress))
}

/// Go: `formatUnixName`: the name in 108 bytes, cut or padded with zeros. A name longer
/// than that is cut at a character boundary, so what is written reads back as a prefix
/// of the name rather than as U+FFFD (Go cuts at byte 108).
fn unix_name(name: &str) -> [u8; 108] {
    let mut out = [0u8; 108];
    let mut n = name.len().min(108);
    while !name.is_char_boundary(n) {
        n -= 1;
    }
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

/// Parses what the stream has shown so far. Go: `proxyproto.Read` (the signature),
/// `parseVersion1`, `parseVersion2`, with `max_v2` as `MaxV2HeaderSize`.
pub(crate) fn parse_stream(buf: &[u8], max_v2: u16) -> Result<Step, Error> {
    let Some(&first) = buf.first() else {
        return Ok(Step::More(1));
    };
    // Go: peek at one byte, then at the signature it may start.
    let sig: &[u8] = if first == SIGV1[0] {
        &SIGV1
    } else if first == SIGV2[0] {
        &SIGV2
    } else {
        return Ok(Step::NotProxy);
    };
    let n = buf.len().min(sig.len());
    if buf[..n] != sig[..n] {
        return Ok(Step::NotProxy);
    }
    if n < sig.len() {
        return Ok(Step::More(sig.len()));
    }
    if first == SIGV1[0] {
        parse_v1(buf)
    } else {
        parse_v2(buf, max_v2)
    }
}

/// What Go reports for a header whose stream ended (or stalled) with only `buf`:
/// `cause` is "EOF", or "i/o timeout" for a read deadline.
pub(crate) fn cut_short(buf: &[u8], cause: &str) -> Error {
    let partial = |kind| Error::with_cause(kind, cause);
    if buf.first() == Some(&SIGV1[0]) {
        if buf.len() < SIGV1.len() {
            return Error::new(ErrorKind::NoProxyProtocol);
        }
        return partial(ErrorKind::CantReadVersion1Header);
    }
    match buf.len() {
        0..=11 => Error::new(ErrorKind::NoProxyProtocol),
        12 => partial(ErrorKind::CantReadProtocolVersionAndCommand),
        13 => partial(ErrorKind::CantReadAddressFamilyAndProtocol),
        // Go: binary.Read of the length: "EOF" with no byte, "unexpected EOF" with one.
        14 => partial(ErrorKind::CantReadLength),
        15 => Error::with_cause(ErrorKind::CantReadLength, unexpected(cause)),
        _ => {
            // The address block or the TLVs are short.
            let af = AddressFamilyAndProtocol(buf[13]);
            let block = if af.is_ipv4() {
                LEN_V4
            } else if af.is_ipv6() {
                LEN_V6
            } else if af.is_unix() {
                LEN_UNIX
            } else {
                0
            };
            let got = buf.len() - 16;
            if got < usize::from(block) && af != AddressFamilyAndProtocol::UNSPEC {
                let c = if got == 0 { cause } else { unexpected(cause) };
                Error::with_cause(ErrorKind::InvalidAddress, c)
            } else {
                Error::with_cause(ErrorKind::InvalidLength, unexpected(cause))
            }
        }
    }
}

/// Go's `io.ErrUnexpectedEOF` text in place of "EOF" (a timeout stays a timeout).
fn unexpected(cause: &str) -> &str {
    if cause == "EOF" {
        "unexpected EOF"
    } else {
        cause
    }
}

/// Go: `parseVersion1`. The line is at most 107 bytes, CRLF included.
fn parse_v1(buf: &[u8]) -> Result<Step, Error> {
    let window = &buf[..buf.len().min(V1_MAX)];
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        if buf.len() >= V1_MAX {
            return Err(Error::new(ErrorKind::Version1HeaderTooLong));
        }
        return Ok(Step::More(buf.len() + 1));
    };
    let line = &buf[..=lf];
    if line.len() < 2 || line[line.len() - 2] != b'\r' {
        return Err(Error::new(ErrorKind::LineMustEndWithCrlf));
    }
    let tokens: Vec<&[u8]> = line[..line.len() - 2].split(|&b| b == b' ').collect();
    // Go: the first token must be exactly "PROXY" ("PROXYjunk TCP4 ..." is not a header).
    if tokens[0] != b"PROXY" {
        return Err(Error::new(ErrorKind::CantReadVersion1Header));
    }
    if tokens.len() < 2 {
        return Err(Error::new(ErrorKind::CantReadAddressFamilyAndProtocol));
    }
    let af = match tokens[1] {
        b"TCP4" => AddressFamilyAndProtocol::TCPV4,
        b"TCP6" => AddressFamilyAndProtocol::TCPV6,
        // The receiver ignores whatever follows UNKNOWN up to the CRLF (spec 2.1).
        b"UNKNOWN" => {
            let mut h = Header::local(1);
            h.transport_protocol = AddressFamilyAndProtocol::UNSPEC;
            return Ok(Step::Header(h, line.len()));
        }
        _ => return Err(Error::new(ErrorKind::CantReadAddressFamilyAndProtocol)),
    };
    if tokens.len() != 6 {
        return Err(Error::new(ErrorKind::CantReadAddressFamilyAndProtocol));
    }
    let src_ip = v1_ip(af, tokens[2])?;
    let dst_ip = v1_ip(af, tokens[3])?;
    let src_port = v1_port(tokens[4])?;
    let dst_port = v1_port(tokens[5])?;
    let tcp = |ip: IpAddr, port| Addr::Tcp(TcpAddr::from(SocketAddr::new(ip, port)));
    Ok(Step::Header(
        Header {
            version: 1,
            command: ProtocolVersionAndCommand::PROXY,
            transport_protocol: af,
            source_addr: Some(tcp(src_ip, src_port)),
            destination_addr: Some(tcp(dst_ip, dst_port)),
            raw_tlvs: Vec::new(),
        },
        line.len(),
    ))
}

/// Go: `parseV1IPAddress`: an IPv4 literal for TCP4, an IPv6 one (IPv4-mapped allowed,
/// as go-proxyproto 0.5+ does) for TCP6; no zone.
fn v1_ip(af: AddressFamilyAndProtocol, tok: &[u8]) -> Result<IpAddr, Error> {
    let ip = std::str::from_utf8(tok)
        .ok()
        .and_then(|t| t.parse::<IpAddr>().ok());
    match (af, ip) {
        (AddressFamilyAndProtocol::TCPV4, Some(ip @ IpAddr::V4(_)))
        | (AddressFamilyAndProtocol::TCPV6, Some(ip @ IpAddr::V6(_))) => Ok(ip),
        _ => Err(Error::new(ErrorKind::InvalidAddress)),
    }
}

/// Go: `parseV1PortNumber`: 0-65535 in decimal, no sign, no leading zero.
fn v1_port(tok: &[u8]) -> Result<u16, Error> {
    let digits = !tok.is_empty() && tok.iter().all(u8::is_ascii_digit);
    if !digits || (tok.len() > 1 && tok[0] == b'0') {
        return Err(Error::new(ErrorKind::InvalidPortNumber));
    }
    std::str::from_utf8(tok)
        .ok()
        .and_then(|t| t.parse::<u16>().ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidPortNumber))
}

/// Go: `parseVersion2`. `buf` starts with the 12-byte signature.
fn parse_v2(buf: &[u8], max_v2: u16) -> Result<Step, Error> {
    let Some(&ver_cmd) = buf.get(12) else {
        return Ok(Step::More(13));
    };
    let command = ProtocolVersionAndCommand(ver_cmd);
    if command.is_unspec() {
        return Err(Error::new(ErrorKind::UnsupportedProtocolVersionAndCommand));
    }
    let Some(&fam) = buf.get(13) else {
        return Ok(Step::More(14));
    };
    let af = AddressFamilyAndProtocol(fam);
    if !af.is_defined() {
        return Err(Error::new(ErrorKind::UnsupportedAddressFamilyAndProtocol));
    }
    // UNSPEC carries no address to trust: only a LOCAL header may use it.
    if af == AddressFamilyAndProtocol::UNSPEC && !command.is_local() {
        return Err(Error::new(ErrorKind::UnsupportedAddressFamilyAndProtocol));
    }
    if buf.len() < 16 {
        return Ok(Step::More(16));
    }
    let length = u16::from_be_bytes([buf[14], buf[15]]);
    let block = if af.is_ipv4() {
        LEN_V4
    } else if af.is_ipv6() {
        LEN_V6
    } else if af.is_unix() {
        LEN_UNIX
    } else {
        0
    };
    let total = 16 + usize::from(length);
    let mut header = Header {
        version: 2,
        command,
        transport_protocol: af,
        source_addr: None,
        destination_addr: None,
        raw_tlvs: Vec::new(),
    };
    if length < block {
        // A LOCAL header (the proxy's own connection) whose block does not fit its
        // family: the spec says to skip `length` bytes and use the real addresses.
        if !command.is_local() || length > max_v2 {
            return Err(Error::new(ErrorKind::InvalidLength));
        }
        if buf.len() < total {
            return Ok(Step::More(total));
        }
        header.transport_protocol = AddressFamilyAndProtocol::UNSPEC;
        return Ok(Step::Header(header, total));
    }
    if length == 0 {
        return Ok(Step::Header(header, 16));
    }
    if length > max_v2 {
        return Err(Error::new(ErrorKind::InvalidLength));
    }
    if buf.len() < total {
        return Ok(Step::More(total));
    }
    let body = &buf[16..total];
    if af.is_ipv4() || af.is_ipv6() {
        let n = if af.is_ipv4() { 4 } else { 16 };
        let ip = |b: &[u8]| -> IpAddr {
            if n == 4 {
                IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            } else {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                IpAddr::V6(Ipv6Addr::from(a))
            }
        };
        let (sip, dip) = (ip(&body[..n]), ip(&body[n..2 * n]));
        let port = |i: usize| u16::from_be_bytes([body[i], body[i + 1]]);
        let (sport, dport) = (port(2 * n), port(2 * n + 2));
        let addr = |ip: IpAddr, port: u16| {
            let sa = SocketAddr::new(ip, port);
            if af.is_stream() {
                Addr::Tcp(TcpAddr::from(sa))
            } else {
                Addr::Udp(UdpAddr::from(sa))
            }
        };
        header.source_addr = Some(addr(sip, sport));
        header.destination_addr = Some(addr(dip, dport));
    } else if af.is_unix() {
        let net = if af.is_datagram() { "unixgram" } else { "unix" };
        let name = |b: &[u8]| {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            String::from_utf8_lossy(&b[..end]).into_owned()
        };
        header.source_addr = Some(Addr::Unix(UnixAddr::new(name(&body[..108]), net)));
        header.destination_addr = Some(Addr::Unix(UnixAddr::new(name(&body[108..216]), net)));
    }
    header.raw_tlvs = body[usize::from(block)..].to_vec();
    Ok(Step::Header(header, total))
}
