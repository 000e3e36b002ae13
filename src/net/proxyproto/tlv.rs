//! The type-length-value records of a version 2 header: ALPN, authority (SNI), unique
//! id, the TLS details a proxy terminated, and application types.
//!
//! Go: go-proxyproto's tlv.go (`PP2Type`, `TLV`, `SplitTLVs`, `JoinTLVs`) and
//! tlvparse/ssl.go (`PP2SSL`). Spec: proxy-protocol.txt, sections 2.2 to 2.2.8.

use super::error::{Error, ErrorKind};

/// The type of a TLV record.
///
/// Go: `proxyproto.PP2Type` with its `PP2_TYPE_*` / `PP2_SUBTYPE_*` constants.
///
/// ```
/// use gonet::net::proxyproto::Pp2Type;
/// assert!(Pp2Type::AUTHORITY.registered());
/// assert!(Pp2Type(0xE3).app());
/// assert!(!Pp2Type(0x99).spec());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pp2Type(pub u8);

impl Pp2Type {
    /// Go: `PP2_TYPE_ALPN`: the application protocol negotiated (bytes, e.g. `h2`).
    pub const ALPN: Pp2Type = Pp2Type(0x01);
    /// Go: `PP2_TYPE_AUTHORITY`: the host name the client asked for (TLS SNI).
    pub const AUTHORITY: Pp2Type = Pp2Type(0x02);
    /// Go: `PP2_TYPE_CRC32C`: a checksum of the header.
    pub const CRC32C: Pp2Type = Pp2Type(0x03);
    /// Go: `PP2_TYPE_NOOP`: padding; its value is dropped when split.
    pub const NOOP: Pp2Type = Pp2Type(0x04);
    /// Go: `PP2_TYPE_UNIQUE_ID`: an opaque connection id (HAProxy's `unique-id`).
    pub const UNIQUE_ID: Pp2Type = Pp2Type(0x05);
    /// Go: `PP2_TYPE_SSL`: the client's TLS details (see [`Ssl`]).
    pub const SSL: Pp2Type = Pp2Type(0x20);
    /// Go: `PP2_SUBTYPE_SSL_VERSION`.
    pub const SSL_VERSION: Pp2Type = Pp2Type(0x21);
    /// Go: `PP2_SUBTYPE_SSL_CN`.
    pub const SSL_CN: Pp2Type = Pp2Type(0x22);
    /// Go: `PP2_SUBTYPE_SSL_CIPHER`.
    pub const SSL_CIPHER: Pp2Type = Pp2Type(0x23);
    /// Go: `PP2_SUBTYPE_SSL_SIG_ALG`.
    pub const SSL_SIG_ALG: Pp2Type = Pp2Type(0x24);
    /// Go: `PP2_SUBTYPE_SSL_KEY_ALG`.
    pub const SSL_KEY_ALG: Pp2Type = Pp2Type(0x25);
    /// Go: `PP2_SUBTYPE_SSL_GROUP`.
    pub const SSL_GROUP: Pp2Type = Pp2Type(0x26);
    /// Go: `PP2_SUBTYPE_SSL_SIG_SCHEME`.
    pub const SSL_SIG_SCHEME: Pp2Type = Pp2Type(0x27);
    /// Go: `PP2_SUBTYPE_SSL_CLIENT_CERT`.
    pub const SSL_CLIENT_CERT: Pp2Type = Pp2Type(0x28);
    /// Go: `PP2_TYPE_NETNS`: the network namespace name.
    pub const NETNS: Pp2Type = Pp2Type(0x30);
    /// Go: `PP2_TYPE_MIN_CUSTOM`: the first type for application data.
    pub const MIN_CUSTOM: Pp2Type = Pp2Type(0xE0);
    /// Go: `PP2_TYPE_MAX_CUSTOM`.
    pub const MAX_CUSTOM: Pp2Type = Pp2Type(0xEF);
    /// Go: `PP2_TYPE_MIN_EXPERIMENT`.
    pub const MIN_EXPERIMENT: Pp2Type = Pp2Type(0xF0);
    /// Go: `PP2_TYPE_MAX_EXPERIMENT`.
    pub const MAX_EXPERIMENT: Pp2Type = Pp2Type(0xF7);
    /// Go: `PP2_TYPE_MIN_FUTURE`.
    pub const MIN_FUTURE: Pp2Type = Pp2Type(0xF8);
    /// Go: `PP2_TYPE_MAX_FUTURE`.
    pub const MAX_FUTURE: Pp2Type = Pp2Type(0xFF);

    /// Registered by the spec (section 2.2). Go: `PP2Type.Registered()`.
    pub fn registered(self) -> bool {
        matches!(self.0, 0x01..=0x05 | 0x20..=0x28 | 0x30)
    }

    /// Reserved for application data (0xE0-0xEF). Go: `PP2Type.App()`.
    pub fn app(self) -> bool {
        (Self::MIN_CUSTOM.0..=Self::MAX_CUSTOM.0).contains(&self.0)
    }

    /// Reserved for experiments (0xF0-0xF7). Go: `PP2Type.Experiment()`.
    pub fn experiment(self) -> bool {
        (Self::MIN_EXPERIMENT.0..=Self::MAX_EXPERIMENT.0).contains(&self.0)
    }

    /// Reserved for future use (0xF8-0xFF). Go: `PP2Type.Future()`.
    pub fn future(self) -> bool {
        self.0 >= Self::MIN_FUTURE.0
    }

    /// Covered by the spec in one of the ways above. Go: `PP2Type.Spec()`.
    pub fn spec(self) -> bool {
        self.registered() || self.app() || self.experiment() || self.future()
    }
}

/// One TLV record, uninterpreted.
///
/// Go: `proxyproto.TLV{Type, Value}`.
///
/// ```
/// use gonet::net::proxyproto::{join_tlvs, split_tlvs, Pp2Type, Tlv};
/// let tlvs = vec![Tlv::new(Pp2Type::AUTHORITY, b"example.com".to_vec())];
/// let raw = join_tlvs(&tlvs).unwrap();
/// assert_eq!(&raw[..3], &[0x02, 0x00, 0x0b]);
/// assert_eq!(split_tlvs(&raw).unwrap(), tlvs);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tlv {
    /// The type. Go: `TLV.Type`.
    pub kind: Pp2Type,
    /// The value. Go: `TLV.Value`.
    pub value: Vec<u8>,
}

impl Tlv {
    /// A record of `kind` holding `value`. Go: `proxyproto.TLV{Type: kind, Value: value}`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Pp2Type, Tlv};
    /// let t = Tlv::new(Pp2Type::AUTHORITY, b"example.com".to_vec());
    /// assert_eq!((t.kind, t.value.len()), (Pp2Type::AUTHORITY, 11));
    /// ```
    pub fn new(kind: Pp2Type, value: Vec<u8>) -> Tlv {
        Tlv { kind, value }
    }
}

/// Splits a TLV vector into its records (a NOOP record keeps its type, not its value).
///
/// Go: `proxyproto.SplitTLVs(raw)`; a record that runs past the end is
/// [`ErrorKind::TruncatedTlv`].
///
/// ```
/// use gonet::net::proxyproto::{split_tlvs, ErrorKind};
/// assert_eq!(split_tlvs(&[0x05, 0x00, 0x04, 1, 2]).unwrap_err().kind(), ErrorKind::TruncatedTlv);
/// ```
pub fn split_tlvs(raw: &[u8]) -> Result<Vec<Tlv>, Error> {
    let mut tlvs = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let kind = Pp2Type(raw[i]);
        if raw.len() - i <= 2 {
            return Err(Error::new(ErrorKind::TruncatedTlv));
        }
        let len = usize::from(u16::from_be_bytes([raw[i + 1], raw[i + 2]]));
        i += 3;
        if i + len > raw.len() {
            return Err(Error::new(ErrorKind::TruncatedTlv));
        }
        let value = if kind == Pp2Type::NOOP {
            Vec::new()
        } else {
            raw[i..i + len].to_vec()
        };
        i += len;
        tlvs.push(Tlv { kind, value });
    }
    Ok(tlvs)
}

/// Joins records into a TLV vector.
///
/// Go: `proxyproto.JoinTLVs(tlvs)`; a value longer than 65,535 bytes is
/// `proxyproto: cannot format TLV 32 with length 70000`.
///
/// ```
/// use gonet::net::proxyproto::{join_tlvs, Pp2Type, Tlv};
/// let err = join_tlvs(&[Tlv::new(Pp2Type::SSL, vec![0; 70000])]).unwrap_err();
/// assert_eq!(err.to_string(), "proxyproto: cannot format TLV 32 with length 70000");
/// ```
pub fn join_tlvs(tlvs: &[Tlv]) -> Result<Vec<u8>, Error> {
    let mut raw = Vec::with_capacity(tlvs.iter().map(|t| 3 + t.value.len()).sum());
    for tlv in tlvs {
        let Ok(len) = u16::try_from(tlv.value.len()) else {
            return Err(Error::with_cause(
                ErrorKind::CannotFormatTlv,
                format_args!("{} with length {}", tlv.kind.0, tlv.value.len()),
            ));
        };
        raw.push(tlv.kind.0);
        raw.extend_from_slice(&len.to_be_bytes());
        raw.extend_from_slice(&tlv.value);
    }
    Ok(raw)
}

/// `pp2_tlv_ssl.client`: the client connected over TLS. Go (tlvparse):
/// `PP2_BITFIELD_CLIENT_SSL`.
pub const PP2_BITFIELD_CLIENT_SSL: u8 = 0x01;
/// The client presented a certificate on this connection. Go:
/// `PP2_BITFIELD_CLIENT_CERT_CONN`.
pub const PP2_BITFIELD_CLIENT_CERT_CONN: u8 = 0x02;
/// The client presented a certificate at least once in this TLS session. Go:
/// `PP2_BITFIELD_CLIENT_CERT_SESS`.
pub const PP2_BITFIELD_CLIENT_CERT_SESS: u8 = 0x04;

/// The `PP2_TYPE_SSL` record: how the client's TLS went at the proxy, with sub-records
/// (version, cipher, client certificate's CN, ...).
///
/// Go: `tlvparse.PP2SSL` (`tlvparse.SSL(tlv)` parses it, `tlvparse.FindSSL(tlvs)` finds
/// it; here [`Ssl::parse`] and [`Header::ssl`](super::Header::ssl)).
///
/// ```
/// use gonet::net::proxyproto::{join_tlvs, Pp2Type, Ssl, Tlv};
/// let sub = join_tlvs(&[Tlv::new(Pp2Type::SSL_VERSION, b"TLSv1.3".to_vec())]).unwrap();
/// let mut value = vec![0x01, 0, 0, 0, 0]; // client used TLS, verify = 0
/// value.extend(sub);
/// let ssl = Ssl::parse(&Tlv::new(Pp2Type::SSL, value)).unwrap();
/// assert!(ssl.client_ssl() && ssl.verified());
/// assert_eq!(ssl.ssl_version(), Some("TLSv1.3"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssl {
    /// Bits: [`PP2_BITFIELD_CLIENT_SSL`], [`PP2_BITFIELD_CLIENT_CERT_CONN`],
    /// [`PP2_BITFIELD_CLIENT_CERT_SESS`]. Go: `PP2SSL.Client`.
    pub client: u8,
    /// 0 when the client's certificate was verified. Go: `PP2SSL.Verify`.
    pub verify: u32,
    /// The sub-records. Go: `PP2SSL.TLV`.
    pub tlvs: Vec<Tlv>,
}

impl Ssl {
    /// Parses a `PP2_TYPE_SSL` record: [`ErrorKind::IncompatibleTlv`] for another type,
    /// [`ErrorKind::MalformedTlv`] for a value shorter than 5 bytes, and the errors of
    /// [`split_tlvs`] for bad sub-records. Go: `tlvparse.SSL(tlv)`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{ErrorKind, Pp2Type, Ssl, Tlv};
    /// let e = Ssl::parse(&Tlv::new(Pp2Type::ALPN, vec![0; 5])).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::IncompatibleTlv);
    /// let ssl = Ssl::parse(&Tlv::new(Pp2Type::SSL, vec![0x05, 0, 0, 0, 1])).unwrap();
    /// assert!(ssl.client_ssl() && ssl.client_cert_sess() && !ssl.client_cert_conn());
    /// assert!(!ssl.verified()); // verify = 1
    /// ```
    pub fn parse(tlv: &Tlv) -> Result<Ssl, Error> {
        if tlv.kind != Pp2Type::SSL {
            return Err(Error::new(ErrorKind::IncompatibleTlv));
        }
        if tlv.value.len() < 5 {
            return Err(Error::new(ErrorKind::MalformedTlv));
        }
        let v = &tlv.value;
        Ok(Ssl {
            client: v[0],
            verify: u32::from_be_bytes([v[1], v[2], v[3], v[4]]),
            tlvs: split_tlvs(&v[5..])?,
        })
    }

    /// The record again, for a header to send. Go: `PP2SSL.Marshal()`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Pp2Type, Ssl, Tlv, PP2_BITFIELD_CLIENT_SSL};
    /// let cn = Tlv::new(Pp2Type::SSL_CN, b"client.example".to_vec());
    /// let ssl = Ssl { client: PP2_BITFIELD_CLIENT_SSL, verify: 0, tlvs: vec![cn] };
    /// let back = Ssl::parse(&ssl.marshal().unwrap()).unwrap();
    /// assert_eq!(back.client_cn(), Some("client.example"));
    /// assert_eq!((back.ssl_version(), back.ssl_cipher()), (None, None));
    /// ```
    pub fn marshal(&self) -> Result<Tlv, Error> {
        let mut value = vec![self.client];
        value.extend_from_slice(&self.verify.to_be_bytes());
        value.extend(join_tlvs(&self.tlvs)?);
        Ok(Tlv::new(Pp2Type::SSL, value))
    }

    /// The client presented a certificate and it was verified. Go: `Verified()`.
    pub fn verified(&self) -> bool {
        self.verify == 0
    }

    /// The client connected over TLS. Go: `ClientSSL()`.
    pub fn client_ssl(&self) -> bool {
        self.client & PP2_BITFIELD_CLIENT_SSL != 0
    }

    /// A certificate came on this connection. Go: `ClientCertConn()`.
    pub fn client_cert_conn(&self) -> bool {
        self.client & PP2_BITFIELD_CLIENT_CERT_CONN != 0
    }

    /// A certificate came at least once in this TLS session. Go: `ClientCertSess()`.
    pub fn client_cert_sess(&self) -> bool {
        self.client & PP2_BITFIELD_CLIENT_CERT_SESS != 0
    }

    fn text(&self, kind: Pp2Type) -> Option<&str> {
        let tlv = self.tlvs.iter().find(|t| t.kind == kind)?;
        std::str::from_utf8(&tlv.value).ok()
    }

    /// The TLS version ("TLSv1.3"). Go: `SSLVersion()`.
    pub fn ssl_version(&self) -> Option<&str> {
        self.text(Pp2Type::SSL_VERSION)
    }

    /// The cipher ("TLS_AES_128_GCM_SHA256"). Go: `SSLCipher()`.
    pub fn ssl_cipher(&self) -> Option<&str> {
        self.text(Pp2Type::SSL_CIPHER)
    }

    /// The Common Name of the client certificate's subject. Go: `ClientCN()`.
    pub fn client_cn(&self) -> Option<&str> {
        self.text(Pp2Type::SSL_CN)
    }
}
