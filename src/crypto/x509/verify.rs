//! Verification errors with Go's texts. Go: `crypto/x509/verify.go` (`HostnameError`,
//! `UnknownAuthorityError`, `CertificateInvalidError`, `SystemRootsError`).
//!
//! rustls's webpki does the verifying; [`from_rustls`] turns what it found into the
//! error Go's verifier returns for the same certificate, using the parsed leaf for the
//! names and dates Go puts in its messages.

use std::error::Error;
use std::fmt;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::CertificateError;

use super::Certificate;

/// The chain does not lead to a trusted root: `x509: certificate signed by unknown
/// authority`.
///
/// Go: `x509.UnknownAuthorityError`.
///
/// ```
/// let e = gonet::crypto::x509::UnknownAuthorityError { cert: None };
/// assert_eq!(e.to_string(), "x509: certificate signed by unknown authority");
/// ```
#[derive(Debug, Clone)]
pub struct UnknownAuthorityError {
    /// The certificate that could not be chained. Go: `Cert`.
    pub cert: Option<Certificate>,
}

impl fmt::Display for UnknownAuthorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("x509: certificate signed by unknown authority")
    }
}

impl Error for UnknownAuthorityError {}

/// The certificate is not valid for the name dialed: `x509: certificate is valid for a,
/// not b`.
///
/// Go: `x509.HostnameError`; `Display` is its `Error()`, word for word (IP hosts are
/// matched against IP SANs, names against DNS SANs, and a certificate without SANs whose
/// common name matches gets Go's "legacy Common Name" text).
///
/// ```
/// # let c = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap().cert;
/// let cert = gonet::crypto::x509::parse_certificate(c.der()).unwrap();
/// let e = gonet::crypto::x509::HostnameError { certificate: cert, host: "b.example".into() };
/// assert_eq!(e.to_string(), "x509: certificate is valid for a.example, not b.example");
/// ```
#[derive(Debug, Clone)]
pub struct HostnameError {
    /// The leaf certificate. Go: `Certificate`.
    pub certificate: Certificate,
    /// The name that was wanted. Go: `Host`.
    pub host: String,
}

impl fmt::Display for HostnameError {
    // Go: func (h HostnameError) Error() string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.certificate;
        if !c.has_san_extension && match_hostnames(&c.subject.common_name, &self.host) {
            return f.write_str(
                "x509: certificate relies on legacy Common Name field, use SANs instead",
            );
        }
        let valid = if self.host.parse::<IpAddr>().is_ok() {
            if c.ip_addresses.is_empty() {
                return write!(
                    f,
                    "x509: cannot validate certificate for {} because it doesn't contain any IP SANs",
                    self.host
                );
            }
            let ips: Vec<String> = c.ip_addresses.iter().map(go_ip_string).collect();
            ips.join(", ")
        } else {
            c.dns_names.join(", ")
        };
        if valid.is_empty() {
            return write!(
                f,
                "x509: certificate is not valid for any names, but wanted to match {}",
                self.host
            );
        }
        write!(
            f,
            "x509: certificate is valid for {valid}, not {}",
            self.host
        )
    }
}

impl Error for HostnameError {}

/// Why a certificate is invalid. Go: `x509.InvalidReason` (the values rustls can tell).
///
/// ```
/// use gonet::crypto::x509::InvalidReason;
/// assert_ne!(InvalidReason::Expired, InvalidReason::IncompatibleUsage);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Go: `NotAuthorizedToSign`.
    NotAuthorizedToSign,
    /// Outside its validity period. Go: `Expired`.
    Expired,
    /// Go: `CANotAuthorizedForThisName`.
    CaNotAuthorizedForThisName,
    /// Go: `TooManyIntermediates`.
    TooManyIntermediates,
    /// Key usage does not allow this use. Go: `IncompatibleUsage`.
    IncompatibleUsage,
    /// Go: `NameMismatch`.
    NameMismatch,
}

/// A certificate that cannot be used: expired, wrong usage, ...
///
/// Go: `x509.CertificateInvalidError`; `Display` is Go's text, e.g.
/// `x509: certificate has expired or is not yet valid: current time
/// 2026-01-02T03:04:05Z is after 2025-01-01T00:00:00Z`.
///
/// ```
/// use gonet::crypto::x509::{CertificateInvalidError, InvalidReason};
/// let e = CertificateInvalidError { cert: None, reason: InvalidReason::IncompatibleUsage, detail: String::new() };
/// assert_eq!(e.to_string(), "x509: certificate specifies an incompatible key usage");
/// ```
#[derive(Debug, Clone)]
pub struct CertificateInvalidError {
    /// The certificate. Go: `Cert`.
    pub cert: Option<Certificate>,
    /// Go: `Reason`.
    pub reason: InvalidReason,
    /// Go: `Detail`.
    pub detail: String,
}

impl fmt::Display for CertificateInvalidError {
    // Go: func (e CertificateInvalidError) Error() string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            InvalidReason::NotAuthorizedToSign => {
                f.write_str("x509: certificate is not authorized to sign other certificates")
            }
            InvalidReason::Expired => write!(
                f,
                "x509: certificate has expired or is not yet valid: {}",
                self.detail
            ),
            InvalidReason::CaNotAuthorizedForThisName => write!(
                f,
                "x509: a root or intermediate certificate is not authorized to sign for this name: {}",
                self.detail
            ),
            InvalidReason::TooManyIntermediates => {
                f.write_str("x509: too many intermediates for path length constraint")
            }
            InvalidReason::IncompatibleUsage => {
                f.write_str("x509: certificate specifies an incompatible key usage")
            }
            InvalidReason::NameMismatch => {
                f.write_str("x509: issuer name does not match subject from issuing certificate")
            }
        }
    }
}

impl Error for CertificateInvalidError {}

/// No roots were given and the system's could not be read.
///
/// Go: `x509.SystemRootsError`.
///
/// ```
/// let e = gonet::crypto::x509::SystemRootsError { err: None };
/// assert_eq!(e.to_string(), "x509: failed to load system roots and no roots provided");
/// ```
#[derive(Debug, Clone)]
pub struct SystemRootsError {
    /// What went wrong reading them. Go: `Err`.
    pub err: Option<String>,
}

impl fmt::Display for SystemRootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("x509: failed to load system roots and no roots provided")?;
        if let Some(e) = &self.err {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}

impl Error for SystemRootsError {}

/// Go's text for what webpki said about `leaf` when `host` was wanted (empty: a client
/// certificate, no name). `None` when Go has no matching error type; the caller then
/// words it itself.
pub(crate) fn from_rustls(
    err: &CertificateError,
    leaf: Option<&Certificate>,
    host: &str,
) -> Option<Box<dyn Error + Send + Sync>> {
    use CertificateError as E;
    let invalid = |reason, detail: String| -> Option<Box<dyn Error + Send + Sync>> {
        Some(Box::new(CertificateInvalidError {
            cert: leaf.cloned(),
            reason,
            detail,
        }))
    };
    match err {
        E::UnknownIssuer | E::BadSignature => Some(Box::new(UnknownAuthorityError {
            cert: leaf.cloned(),
        })),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            let certificate = leaf?.clone();
            Some(Box::new(HostnameError {
                certificate,
                host: host.to_string(),
            }))
        }
        E::ExpiredContext { time, not_after } => invalid(
            InvalidReason::Expired,
            format!(
                "current time {} is after {}",
                rfc3339(time.as_secs()),
                rfc3339(not_after.as_secs())
            ),
        ),
        E::NotValidYetContext { time, not_before } => invalid(
            InvalidReason::Expired,
            format!(
                "current time {} is before {}",
                rfc3339(time.as_secs()),
                rfc3339(not_before.as_secs())
            ),
        ),
        E::Expired | E::NotValidYet => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (word, then) = match (err, leaf) {
                (E::Expired, Some(l)) => ("after", l.not_after),
                (_, Some(l)) => ("before", l.not_before),
                (_, None) => ("after", SystemTime::now()),
            };
            let then = then.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            invalid(
                InvalidReason::Expired,
                format!("current time {} is {word} {}", rfc3339(now), rfc3339(then)),
            )
        }
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
            invalid(InvalidReason::IncompatibleUsage, String::new())
        }
        _ => None,
    }
}

/// Go's `net.IP.String()` for a SAN address (IPv4-mapped IPv6 shown as IPv4).
fn go_ip_string(ip: &IpAddr) -> String {
    ip.to_canonical().to_string()
}

/// Go's `matchHostnames` (verify.go): case-insensitive, a `*` only as the whole leftmost
/// label of the pattern, matching exactly one label of the host.
pub(crate) fn match_hostnames(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    let pattern = pattern.trim_end_matches('.');
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    if p.len() != h.len() {
        return false;
    }
    p.iter()
        .zip(&h)
        .enumerate()
        .all(|(i, (p, h))| (i == 0 && *p == "*") || p.eq_ignore_ascii_case(h))
}

/// A Unix time as Go's `time.RFC3339` prints a UTC time: `2006-01-02T15:04:05Z`.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn hostnames_match_like_go() {
        assert!(match_hostnames("*.example.com", "a.example.com"));
        assert!(!match_hostnames("*.example.com", "a.b.example.com"));
        assert!(match_hostnames("Example.COM", "example.com."));
        assert!(!match_hostnames("", "example.com"));
    }
}
