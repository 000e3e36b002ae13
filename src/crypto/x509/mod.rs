//! Go's `crypto/x509`, the part a TLS user touches: parsed certificates
//! ([`Certificate`], [`parse_certificate`]), pools of trusted roots ([`CertPool`],
//! [`system_cert_pool`]) and the verification errors with Go's texts
//! ([`UnknownAuthorityError`], [`HostnameError`], [`CertificateInvalidError`]).
//!
//! Chains are verified by rustls's webpki, not here: this module reads certificates
//! (with the `x509-parser` crate) so that [`ConnectionState::peer_certificates`]
//! says what Go's does and errors name what Go names.
//!
//! [`ConnectionState::peer_certificates`]: crate::crypto::tls::ConnectionState::peer_certificates
//!
//! ```
//! use gonet::crypto::x509;
//! let mut pool = x509::CertPool::new();
//! assert!(!pool.append_certs_from_pem(b"not PEM"));
//! assert!(pool.is_empty());
//! ```

mod cert_pool;
mod verify;

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::asn1_rs::ToDer;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};

pub use self::cert_pool::{CertPool, system_cert_pool};
pub(crate) use self::verify::from_rustls as verify_from_rustls;
pub(crate) use self::verify::match_hostnames;
pub use self::verify::{
    CertificateInvalidError, HostnameError, InvalidReason, SystemRootsError, UnknownAuthorityError,
};

/// A parsed X.509 certificate: the fields Go users read.
///
/// Go: `x509.Certificate` (a subset: `Raw`, `Subject`, `Issuer`, `SerialNumber`,
/// `NotBefore`, `NotAfter`, `DNSNames`, `EmailAddresses`, `IPAddresses`, `URIs`, `IsCA`).
/// Made by [`parse_certificate`]; the DER it came from is [`Certificate::raw`].
///
/// ```
/// let err = gonet::crypto::x509::parse_certificate(b"junk").unwrap_err();
/// assert!(err.to_string().starts_with("x509: malformed certificate"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The complete DER encoding. Go: `Raw`.
    pub raw: Vec<u8>,
    /// The subject's name, DER-encoded. Go: `RawSubject`.
    pub raw_subject: Vec<u8>,
    /// The issuer's name, DER-encoded. Go: `RawIssuer`.
    pub raw_issuer: Vec<u8>,
    /// The subject's name. Go: `Subject`.
    pub subject: Name,
    /// The issuer's name. Go: `Issuer`.
    pub issuer: Name,
    /// The serial number, big-endian bytes as encoded. Go: `SerialNumber` (a `*big.Int`).
    pub serial_number: Vec<u8>,
    /// Start of validity. Go: `NotBefore`.
    pub not_before: SystemTime,
    /// End of validity. Go: `NotAfter`.
    pub not_after: SystemTime,
    /// DNS names of the subject alternative name extension. Go: `DNSNames`.
    pub dns_names: Vec<String>,
    /// E-mail addresses of the SAN extension. Go: `EmailAddresses`.
    pub email_addresses: Vec<String>,
    /// IP addresses of the SAN extension. Go: `IPAddresses`.
    pub ip_addresses: Vec<IpAddr>,
    /// URIs of the SAN extension, as text. Go: `URIs` (parsed `*url.URL`s).
    pub uris: Vec<String>,
    /// Basic constraints say this is a CA. Go: `IsCA`.
    pub is_ca: bool,
    /// Whether the certificate has a subject alternative name extension at all (Go's
    /// unexported `hasSANExtension`, which its hostname errors look at).
    pub has_san_extension: bool,
}

/// A distinguished name: the common name and organization fields Go users read, and the
/// whole name in Go's `pkix.Name.String()` form.
///
/// Go: `pkix.Name`.
///
/// ```
/// let name = gonet::crypto::x509::Name::default();
/// assert_eq!(name.to_string(), "");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Name {
    /// Go: `CommonName`.
    pub common_name: String,
    /// Go: `Organization`.
    pub organization: Vec<String>,
    /// Go: `OrganizationalUnit`.
    pub organizational_unit: Vec<String>,
    /// Go: `Country`.
    pub country: Vec<String>,
    /// The RDN sequence as Go's `Name.String()` prints it (RFC 2253 order: last first).
    pub rdn: String,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rdn)
    }
}

/// Parses one DER-encoded certificate.
///
/// Go: `x509.ParseCertificate(der)`. A malformed input fails with Go's prefix,
/// `x509: malformed certificate`.
///
/// ```
/// use gonet::crypto::x509;
/// assert!(x509::parse_certificate(&[0x30, 0x00]).is_err());
/// ```
pub fn parse_certificate(der: &[u8]) -> io::Result<Certificate> {
    let malformed = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("x509: malformed certificate: {why}"),
        )
    };
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed("trailing data".into()));
    }
    Ok(from_parsed(&cert, &der[..der.len() - rest.len()]))
}

fn from_parsed(cert: &X509Certificate<'_>, raw: &[u8]) -> Certificate {
    let mut out = Certificate {
        raw: raw.to_vec(),
        raw_subject: cert.subject().as_raw().to_vec(),
        raw_issuer: cert.issuer().as_raw().to_vec(),
        subject: name_of(cert.subject()),
        issuer: name_of(cert.issuer()),
        serial_number: cert.raw_serial().to_vec(),
        not_before: asn1_time(cert.validity().not_before.timestamp()),
        not_after: asn1_time(cert.validity().not_after.timestamp()),
        dns_names: Vec::new(),
        email_addresses: Vec::new(),
        ip_addresses: Vec::new(),
        uris: Vec::new(),
        is_ca: cert.is_ca(),
        has_san_extension: false,
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        out.has_san_extension = true;
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => out.dns_names.push((*d).to_string()),
                GeneralName::RFC822Name(e) => out.email_addresses.push((*e).to_string()),
                GeneralName::URI(u) => out.uris.push((*u).to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                        out.ip_addresses.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                        out.ip_addresses.push(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn asn1_time(secs: i64) -> SystemTime {
    match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()),
    }
}

/// Go's `pkix.Name` fields and `String()`: attributes by their short names, RDNs in
/// reverse order joined by ",", multi-valued RDNs by "+".
fn name_of(name: &X509Name<'_>) -> Name {
    use x509_parser::oid_registry as oids;
    let mut out = Name::default();
    let mut rdns = Vec::new();
    for rdn in name.iter() {
        let mut parts = Vec::new();
        for atv in rdn.iter() {
            let oid = atv.attr_type();
            let value = atv.as_str().map(str::to_string);
            let short = if *oid == oids::OID_X509_COMMON_NAME {
                Some("CN")
            } else if *oid == oids::OID_X509_ORGANIZATION_NAME {
                Some("O")
            } else if *oid == oids::OID_X509_ORGANIZATIONAL_UNIT {
                Some("OU")
            } else if *oid == oids::OID_X509_COUNTRY_NAME {
                Some("C")
            } else if *oid == oids::OID_X509_LOCALITY_NAME {
                Some("L")
            } else if *oid == oids::OID_X509_STATE_OR_PROVINCE_NAME {
                Some("ST")
            } else if *oid == oids::OID_X509_STREET_ADDRESS {
                Some("STREET")
            } else if *oid == oids::OID_X509_POSTAL_CODE {
                Some("POSTALCODE")
            } else if *oid == oids::OID_X509_SERIALNUMBER {
                Some("SERIALNUMBER")
            } else {
                None
            };
            if let Ok(v) = &value {
                match short {
                    Some("CN") => out.common_name = v.clone(),
                    Some("O") => out.organization.push(v.clone()),
                    Some("OU") => out.organizational_unit.push(v.clone()),
                    Some("C") => out.country.push(v.clone()),
                    _ => {}
                }
            }
            let part = match (short, value) {
                (Some(k), Ok(v)) => format!("{k}={}", escape_rdn(&v)),
                (_, _) => {
                    let hex: String = atv
                        .attr_value()
                        .to_der_vec()
                        .unwrap_or_default()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("{oid}=#{hex}")
                }
            };
            parts.push(part);
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    out.rdn = rdns.join(",");
    out
}

/// Go's `attributeTypeAndValue` escaping (RFC 2253 §2.4), as `pkix.Name.String()` does it.
fn escape_rdn(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdn_escaping_is_gos() {
        assert_eq!(escape_rdn("a,b"), "a\\,b");
        assert_eq!(escape_rdn(" #x "), "\\ #x\\ ");
        assert_eq!(escape_rdn("plain"), "plain");
    }
}
