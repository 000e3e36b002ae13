//! The errors of the PROXY protocol: go-proxyproto's `Err*` values, with its texts.
//!
//! Go: `github.com/pires/go-proxyproto` (header.go, tlv.go, protocol.go, policy.go). Go
//! code tests them with `errors.Is(err, proxyproto.ErrInvalidAddress)`; here
//! [`Error::kind`] says which one it is, and [`Error::of`] finds the `Error` inside the
//! `io::Error` a connection or listener call returned.

use std::fmt;
use std::io;

/// Which of go-proxyproto's errors this is (its `Err*` variables).
///
/// ```
/// use gonet::net::proxyproto::{Error, ErrorKind, Header};
/// let err = Header::parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::CantReadAddressFamilyAndProtocol);
/// assert_eq!(err.to_string(), "proxyproto: can't read address family or protocol");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Go: `ErrCantReadVersion1Header`.
    CantReadVersion1Header,
    /// Go: `ErrVersion1HeaderTooLong`.
    Version1HeaderTooLong,
    /// Go: `ErrLineMustEndWithCrlf`.
    LineMustEndWithCrlf,
    /// Go: `ErrCantReadProtocolVersionAndCommand`.
    CantReadProtocolVersionAndCommand,
    /// Go: `ErrCantReadAddressFamilyAndProtocol`.
    CantReadAddressFamilyAndProtocol,
    /// Go: `ErrCantReadLength`.
    CantReadLength,
    /// Go: `ErrNoProxyProtocol`: the stream does not start with a PROXY signature.
    NoProxyProtocol,
    /// Go: `ErrUnknownProxyProtocolVersion` (formatting a header whose version is not 1
    /// or 2).
    UnknownProxyProtocolVersion,
    /// Go: `ErrUnsupportedProtocolVersionAndCommand`.
    UnsupportedProtocolVersionAndCommand,
    /// Go: `ErrUnsupportedAddressFamilyAndProtocol`.
    UnsupportedAddressFamilyAndProtocol,
    /// Go: `ErrInvalidLength`.
    InvalidLength,
    /// Go: `ErrInvalidAddress`.
    InvalidAddress,
    /// Go: `ErrInvalidPortNumber`.
    InvalidPortNumber,
    /// Go: `ErrSuperfluousProxyHeader`: a header from an upstream whose policy is
    /// [`Policy::Reject`](super::Policy::Reject).
    SuperfluousProxyHeader,
    /// Go: `ErrTruncatedTLV`.
    TruncatedTlv,
    /// Go: `ErrMalformedTLV`.
    MalformedTlv,
    /// Go: `ErrIncompatibleTLV`.
    IncompatibleTlv,
    /// Go: `ErrInvalidUpstream`: what a policy function returns (possibly inside an
    /// error of its own) to drop one connection and keep accepting.
    InvalidUpstream,
    /// Go: `errUint16Overflow`: a header too long to format.
    Uint16Overflow,
    /// Go: `JoinTLVs`' "cannot format TLV" error: a value longer than 65,535 bytes.
    CannotFormatTlv,
}

impl ErrorKind {
    /// go-proxyproto's text for the error.
    fn text(self) -> &'static str {
        match self {
            ErrorKind::CantReadVersion1Header => "proxyproto: can't read version 1 header",
            ErrorKind::Version1HeaderTooLong => {
                "proxyproto: version 1 header must be 107 bytes or less"
            }
            ErrorKind::LineMustEndWithCrlf => {
                "proxyproto: version 1 header is invalid, must end with \\r\\n"
            }
            ErrorKind::CantReadProtocolVersionAndCommand => {
                "proxyproto: can't read proxy protocol version and command"
            }
            ErrorKind::CantReadAddressFamilyAndProtocol => {
                "proxyproto: can't read address family or protocol"
            }
            ErrorKind::CantReadLength => "proxyproto: can't read length",
            ErrorKind::NoProxyProtocol => "proxyproto: proxy protocol signature not present",
            ErrorKind::UnknownProxyProtocolVersion => "proxyproto: unknown proxy protocol version",
            ErrorKind::UnsupportedProtocolVersionAndCommand => {
                "proxyproto: unsupported proxy protocol version and command"
            }
            ErrorKind::UnsupportedAddressFamilyAndProtocol => {
                "proxyproto: unsupported address family and protocol"
            }
            ErrorKind::InvalidLength => "proxyproto: invalid length",
            ErrorKind::InvalidAddress => "proxyproto: invalid address",
            ErrorKind::InvalidPortNumber => "proxyproto: invalid port number",
            ErrorKind::SuperfluousProxyHeader => {
                "proxyproto: upstream connection sent PROXY header but isn't allowed to send one"
            }
            ErrorKind::TruncatedTlv => "proxyproto: truncated TLV",
            ErrorKind::MalformedTlv => "proxyproto: malformed TLV Value",
            ErrorKind::IncompatibleTlv => "proxyproto: incompatible TLV type",
            ErrorKind::InvalidUpstream => {
                "proxyproto: upstream connection address not trusted for PROXY information"
            }
            ErrorKind::Uint16Overflow => "proxyproto: uint16 overflow",
            ErrorKind::CannotFormatTlv => "proxyproto: cannot format TLV",
        }
    }
}

/// A PROXY protocol error: one of go-proxyproto's, possibly with what caused it, printed
/// as Go's `fmt.Errorf("%w: %w", ErrX, cause)` prints (`proxyproto: can't read version 1
/// header: EOF`).
///
/// Go: the `proxyproto.Err*` values. Inside an `io::Error` (kind `InvalidData`, or
/// `TimedOut` for a header that did not come in time); [`Error::of`] finds it.
///
/// ```
/// use gonet::net::proxyproto::{Error, ErrorKind};
/// let err = Error::new(ErrorKind::InvalidUpstream);
/// assert_eq!(err.to_string(), "proxyproto: upstream connection address not trusted for PROXY information");
/// let io: std::io::Error = err.into();
/// assert_eq!(Error::of(&io).unwrap().kind(), ErrorKind::InvalidUpstream);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    cause: Option<String>,
}

impl Error {
    /// The error `kind`, with no cause. Go: `proxyproto.ErrX`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Error, ErrorKind};
    /// let e = Error::new(ErrorKind::InvalidAddress);
    /// assert_eq!(e.to_string(), "proxyproto: invalid address");
    /// ```
    pub fn new(kind: ErrorKind) -> Error {
        Error { kind, cause: None }
    }

    /// The error `kind` caused by `cause`. Go: `fmt.Errorf("%w: %w", ErrX, cause)`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Error, ErrorKind};
    /// let e = Error::with_cause(ErrorKind::CantReadVersion1Header, "EOF");
    /// assert_eq!(e.to_string(), "proxyproto: can't read version 1 header: EOF");
    /// ```
    pub fn with_cause(kind: ErrorKind, cause: impl fmt::Display) -> Error {
        Error {
            kind,
            cause: Some(cause.to_string()),
        }
    }

    /// Which error it is. Go: `errors.Is(err, proxyproto.ErrX)`.
    ///
    /// ```
    /// use gonet::net::proxyproto::{ErrorKind, Header};
    /// let e = Header::parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n").unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidPortNumber);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The cause, if the error wraps one.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Error, ErrorKind};
    /// assert_eq!(Error::with_cause(ErrorKind::CantReadLength, "EOF").cause(), Some("EOF"));
    /// assert_eq!(Error::new(ErrorKind::CantReadLength).cause(), None);
    /// ```
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The `Error` inside an `io::Error`, if that is what it holds.
    ///
    /// ```
    /// use gonet::net::proxyproto::{Error, ErrorKind};
    /// let io = std::io::Error::from(Error::new(ErrorKind::NoProxyProtocol));
    /// assert!(Error::of(&io).is_some());
    /// assert!(Error::of(&std::io::Error::other("x")).is_none());
    /// ```
    pub fn of(err: &io::Error) -> Option<&Error> {
        err.get_ref()?.downcast_ref::<Error>()
    }

    /// Whether `err`, or an error in its `source()` chain, is this kind: how a policy
    /// function's error is checked for [`ErrorKind::InvalidUpstream`] (Go's
    /// `errors.Is`).
    pub(crate) fn is_in(err: &(dyn std::error::Error + 'static), kind: ErrorKind) -> bool {
        let mut next = Some(err);
        while let Some(e) = next {
            if e.downcast_ref::<Error>().is_some_and(|p| p.kind == kind) {
                return true;
            }
            next = e.source();
        }
        false
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.text())?;
        match &self.cause {
            // Go: fmt.Errorf("proxyproto: cannot format TLV %v with length %d", ..).
            Some(cause) if self.kind == ErrorKind::CannotFormatTlv => write!(f, " {cause}")?,
            Some(cause) => write!(f, ": {cause}")?,
            None => {}
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    /// Kind `InvalidData`; `TimedOut` when the header did not come in time.
    fn from(e: Error) -> io::Error {
        let kind = if e.cause.as_deref() == Some("i/o timeout") {
            io::ErrorKind::TimedOut
        } else {
            io::ErrorKind::InvalidData
        };
        io::Error::new(kind, e)
    }
}
