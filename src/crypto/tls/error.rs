//! Errors in Go's words: what rustls reports, turned into the error Go's crypto/tls
//! returns for the same failure.
//!
//! Go wraps its TLS errors in three ways, and so does gonet: alerts are `net.OpError`s
//! (`remote error: tls: bad certificate`, `local error: tls: bad record MAC`), errors of
//! the connection below pass through unchanged (`read tcp a->b: i/o timeout`), and the
//! rest are Go's own types: `x509` verification errors, [`RecordHeaderError`], and the
//! plain `errors.New("tls: ...")` texts ([`TlsError`]).
//!
//! A failed connection keeps its error (Go's `halfConn.err` and `handshakeErr`), so the
//! error is kept in a form that can be given out again: [`Fault`].

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::{AlertDescription, CertificateError, HandshakeType, PeerIncompatible, PeerMisbehaved};

use super::alert::{self, AlertError};
use crate::crypto::x509::{
    CertificateInvalidError, HostnameError, SystemRootsError, UnknownAuthorityError,
};
use crate::net::{Addr, DeadlineExceeded, ErrClosed, OpError, SyscallError};

/// A TLS failure Go reports with a plain `errors.New` / `fmt.Errorf` text, such as
/// `tls: client didn't provide a certificate` or
/// `tls: client offered only unsupported versions: [303]`.
///
/// ```
/// let e = gonet::crypto::tls::TlsError::new("tls: protocol is shutdown");
/// assert_eq!(e.to_string(), "tls: protocol is shutdown");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    msg: String,
}

impl TlsError {
    /// An error with Go's text `msg`.
    ///
    /// ```
    /// assert_eq!(gonet::crypto::tls::TlsError::new("tls: x").to_string(), "tls: x");
    /// ```
    pub fn new(msg: impl Into<String>) -> TlsError {
        TlsError { msg: msg.into() }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl Error for TlsError {}

/// The first bytes read do not look like TLS: `tls: first record does not look like a
/// TLS handshake` (a plaintext client on a TLS port, or a TLS client dialing a plaintext
/// server).
///
/// Go: `tls.RecordHeaderError`. [`conn`](RecordHeaderError::conn) is the connection
/// below when it is safe to answer in plaintext (what Go's HTTP server does to say
/// "Client sent an HTTP request to an HTTPS server").
///
/// ```
/// let e = gonet::crypto::tls::RecordHeaderError {
///     msg: "first record does not look like a TLS handshake".into(),
///     record_header: *b"GET /",
///     conn: None,
/// };
/// assert_eq!(e.to_string(), "tls: first record does not look like a TLS handshake");
/// ```
#[derive(Debug, Clone)]
pub struct RecordHeaderError {
    /// What is wrong. Go: `Msg`.
    pub msg: String,
    /// The five bytes read as a record header. Go: `RecordHeader`.
    pub record_header: [u8; 5],
    /// The connection below, when nothing TLS was sent on it yet. Go: `Conn`.
    pub conn: Option<crate::net::Conn>,
}

impl fmt::Display for RecordHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tls: {}", self.msg)
    }
}

impl Error for RecordHeaderError {}

/// An x509 error put through rustls's verifier interface (rustls carries it back to us
/// inside `CertificateError::Other`).
#[derive(Debug, Clone)]
pub(crate) enum X509Fault {
    Unknown(UnknownAuthorityError),
    Host(HostnameError),
    Invalid(CertificateInvalidError),
    Roots(SystemRootsError),
    /// Already worded, e.g. a client certificate's `tls: failed to verify client
    /// certificate: x509: ...`.
    Text(String),
}

impl X509Fault {
    pub(crate) fn from_boxed(e: Box<dyn Error + Send + Sync>) -> X509Fault {
        let e = match e.downcast::<UnknownAuthorityError>() {
            Ok(u) => return X509Fault::Unknown(*u),
            Err(e) => e,
        };
        let e = match e.downcast::<HostnameError>() {
            Ok(h) => return X509Fault::Host(*h),
            Err(e) => e,
        };
        let e = match e.downcast::<CertificateInvalidError>() {
            Ok(i) => return X509Fault::Invalid(*i),
            Err(e) => e,
        };
        match e.downcast::<SystemRootsError>() {
            Ok(r) => X509Fault::Roots(*r),
            Err(e) => X509Fault::Text(e.to_string()),
        }
    }

    fn text(&self) -> String {
        match self {
            X509Fault::Unknown(e) => e.to_string(),
            X509Fault::Host(e) => e.to_string(),
            X509Fault::Invalid(e) => e.to_string(),
            X509Fault::Roots(e) => e.to_string(),
            X509Fault::Text(t) => t.clone(),
        }
    }

    /// As rustls's error, for a verifier to return.
    pub(crate) fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            self,
        ))))
    }
}

impl fmt::Display for X509Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl Error for X509Fault {}

/// A failure that can be handed out again and again: what a broken connection returns
/// from every later call.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// The peer sent a fatal alert: `remote error: tls: ...`.
    Remote(u8),
    /// This side failed and sent this alert: `local error: tls: ...`.
    Local(u8),
    Msg(String),
    Record(Box<RecordHeaderError>),
    X509(Box<X509Fault>),
    Net(Box<NetFault>),
    /// End of stream where a record or the handshake was due: Go's `io.EOF` ("EOF").
    Eof,
    /// End of stream inside a record: Go's `io.ErrUnexpectedEOF`.
    UnexpectedEof,
    /// The handshake ran past the dial's deadline: Go's `context.DeadlineExceeded`.
    DialTimeout,
}

impl Fault {
    pub(crate) fn msg(m: impl Into<String>) -> Fault {
        Fault::Msg(m.into())
    }

    /// Whether Go keeps this error for later calls (`halfConn.setErrorLocked`): a
    /// timeout of the conn below is not kept, so a read may be retried after the
    /// deadline is moved.
    pub(crate) fn is_permanent(&self) -> bool {
        !matches!(self, Fault::Net(n) if n.timeout)
    }

    pub(crate) fn to_io(&self) -> io::Error {
        let data = io::ErrorKind::InvalidData;
        match self {
            Fault::Remote(a) => OpError::new("remote error", "", AlertError(*a)).into(),
            Fault::Local(a) => OpError::new("local error", "", AlertError(*a)).into(),
            Fault::Msg(m) => io::Error::new(data, TlsError::new(m.clone())),
            Fault::Record(r) => io::Error::new(data, (**r).clone()),
            Fault::X509(x) => match &**x {
                X509Fault::Unknown(e) => io::Error::new(data, e.clone()),
                X509Fault::Host(e) => io::Error::new(data, e.clone()),
                X509Fault::Invalid(e) => io::Error::new(data, e.clone()),
                X509Fault::Roots(e) => io::Error::new(io::ErrorKind::NotFound, e.clone()),
                X509Fault::Text(t) => io::Error::new(data, TlsError::new(t.clone())),
            },
            Fault::Net(n) => n.to_io(),
            Fault::Eof => io::Error::new(io::ErrorKind::UnexpectedEof, TlsError::new("EOF")),
            Fault::UnexpectedEof => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                TlsError::new("unexpected EOF"),
            ),
            Fault::DialTimeout => io::Error::new(
                io::ErrorKind::TimedOut,
                TlsError::new("context deadline exceeded"),
            ),
        }
    }
}

/// An error of the connection below, kept so that it can be rebuilt (`io::Error` is not
/// `Clone`) with the same Go-shaped [`OpError`] inside.
#[derive(Debug, Clone)]
pub(crate) struct NetFault {
    op: &'static str,
    net: String,
    source: Option<Addr>,
    addr: Option<Addr>,
    cause: NetCause,
    pub(crate) timeout: bool,
    kind: io::ErrorKind,
    text: String,
}

#[derive(Debug, Clone)]
enum NetCause {
    Deadline,
    Closed,
    Syscall(&'static str, Option<i32>, io::ErrorKind, String),
    Other,
}

impl NetFault {
    pub(crate) fn from_io(e: &io::Error) -> NetFault {
        let mut f = NetFault {
            op: "",
            net: String::new(),
            source: None,
            addr: None,
            cause: NetCause::Other,
            timeout: crate::net::is_timeout(e),
            kind: e.kind(),
            text: e.to_string(),
        };
        if let Some(op) = OpError::of(e) {
            f.op = op.op;
            f.net = op.net.clone();
            f.source = op.source.clone();
            f.addr = op.addr.clone();
            f.cause = if op.err.is::<DeadlineExceeded>() {
                NetCause::Deadline
            } else if op.err.is::<ErrClosed>() {
                NetCause::Closed
            } else if let Some(s) = op.err.downcast_ref::<SyscallError>() {
                NetCause::Syscall(
                    s.syscall,
                    s.err.raw_os_error(),
                    s.err.kind(),
                    s.err.to_string(),
                )
            } else {
                NetCause::Other
            };
            if let NetCause::Other = f.cause {
                f.text = op.err.to_string();
            }
        }
        f
    }

    fn to_io(&self) -> io::Error {
        if self.op.is_empty() {
            return io::Error::new(self.kind, TlsError::new(self.text.clone()));
        }
        let err: Box<dyn Error + Send + Sync> = match &self.cause {
            NetCause::Deadline => Box::new(DeadlineExceeded),
            NetCause::Closed => Box::new(ErrClosed),
            NetCause::Syscall(call, code, kind, text) => {
                let io = match code {
                    Some(c) => io::Error::from_raw_os_error(*c),
                    None => io::Error::new(*kind, text.clone()),
                };
                Box::new(SyscallError::new(call, io))
            }
            NetCause::Other => Box::new(TlsError::new(self.text.clone())),
        };
        OpError::new(self.op, self.net.clone(), err)
            .with_addrs(self.source.clone(), self.addr.clone())
            .into()
    }
}

/// What the mapping needs to know besides rustls's error.
pub(crate) struct Context<'a> {
    pub(crate) server: bool,
    /// The length of the last record header seen (for "oversized record").
    pub(crate) last_record_len: usize,
    /// The client's ALPN protocols (server side).
    pub(crate) client_protos: &'a [String],
    /// The ClientHello's supported versions (server side), if it was read.
    pub(crate) client_versions: &'a [u16],
    /// The negotiated version, if any (for message type names).
    pub(crate) tls13: bool,
}

/// Go's error for a failure rustls reports.
pub(crate) fn from_rustls(err: &rustls::Error, cx: &Context<'_>) -> Fault {
    use rustls::Error as E;
    match err {
        E::AlertReceived(a) => Fault::Remote(u8::from(*a)),
        E::InvalidCertificate(CertificateError::Other(o)) => {
            match o.0.downcast_ref::<X509Fault>() {
                Some(x) => Fault::X509(Box::new(x.clone())),
                None => Fault::msg(format!("tls: {o}")),
            }
        }
        E::InvalidCertificate(c) => match crate::crypto::x509::verify_from_rustls(c, None, "") {
            Some(x) => Fault::X509(Box::new(X509Fault::from_boxed(x))),
            None => Fault::Local(u8::from(AlertDescription::from(c.clone()))),
        },
        E::NoCertificatesPresented if cx.server => {
            Fault::msg("tls: client didn't provide a certificate")
        }
        E::NoCertificatesPresented => Fault::msg("tls: server didn't provide a certificate"),
        E::DecryptError => Fault::Local(alert::ALERT_BAD_RECORD_MAC),
        E::PeerSentOversizedRecord => Fault::Record(Box::new(RecordHeaderError {
            msg: format!(
                "oversized record received with length {}",
                cx.last_record_len
            ),
            record_header: [0; 5],
            conn: None,
        })),
        E::NoApplicationProtocol if cx.server => Fault::msg(format!(
            "tls: client requested unsupported application protocols ([{}])",
            cx.client_protos.join(" ")
        )),
        E::NoApplicationProtocol => Fault::msg("tls: server selected unadvertised ALPN protocol"),
        E::InappropriateHandshakeMessage {
            expect_types,
            got_type,
        } => {
            let wanted = expect_types
                .first()
                .copied()
                .unwrap_or(HandshakeType::Unknown(0));
            Fault::msg(format!(
                "tls: received unexpected handshake message of type {} when waiting for {}",
                go_msg_type(*got_type, cx.tls13),
                go_msg_type(wanted, cx.tls13)
            ))
        }
        E::InappropriateMessage { .. } => Fault::Local(alert::ALERT_UNEXPECTED_MESSAGE),
        E::InvalidMessage(_) => Fault::Local(alert::ALERT_UNEXPECTED_MESSAGE),
        E::PeerIncompatible(p) => peer_incompatible(p, cx),
        E::PeerMisbehaved(m) => peer_misbehaved(m),
        E::General(g) => Fault::msg(format!("tls: {g}")),
        other => Fault::msg(format!("tls: {other}")),
    }
}

fn peer_incompatible(p: &PeerIncompatible, cx: &Context<'_>) -> Fault {
    use PeerIncompatible as P;
    match p {
        P::NoCipherSuitesInCommon => {
            Fault::msg("tls: no cipher suite supported by both client and server")
        }
        P::NoKxGroupsInCommon => {
            Fault::msg("tls: no ECDHE curve supported by both client and server")
        }
        P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled
        | P::SupportedVersionsExtensionRequired
        | P::Tls13RequiredForQuic => {
            let list: Vec<String> = cx
                .client_versions
                .iter()
                .map(|v| format!("{v:x}"))
                .collect();
            Fault::msg(format!(
                "tls: client offered only unsupported versions: [{}]",
                list.join(" ")
            ))
        }
        P::ServerTlsVersionIsDisabledByOurConfig | P::ServerDoesNotSupportTls12Or13 => {
            Fault::msg("tls: server selected unsupported protocol version")
        }
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            Fault::Local(alert::ALERT_HANDSHAKE_FAILURE)
        }
        P::NullCompressionRequired => {
            Fault::msg("tls: client does not support uncompressed connections")
        }
        other => Fault::msg(format!("tls: peer is incompatible: {other:?}")),
    }
}

fn peer_misbehaved(m: &PeerMisbehaved) -> Fault {
    use PeerMisbehaved as M;
    match m {
        M::TooManyEmptyFragments => Fault::msg("tls: too many ignored records"),
        M::TooManyKeyUpdateRequests => Fault::msg("tls: too many non-advancing records"),
        M::InvalidKeyShare => Fault::Local(alert::ALERT_ILLEGAL_PARAMETER),
        other => Fault::msg(format!("tls: peer misbehaved: {other:?}")),
    }
}

/// The Go type a handshake message is parsed into, as `%T` prints it.
fn go_msg_type(t: HandshakeType, tls13: bool) -> &'static str {
    use HandshakeType as H;
    match t {
        H::ClientHello => "*tls.clientHelloMsg",
        H::ServerHello => "*tls.serverHelloMsg",
        H::NewSessionTicket if tls13 => "*tls.newSessionTicketMsgTLS13",
        H::NewSessionTicket => "*tls.newSessionTicketMsg",
        H::EncryptedExtensions => "*tls.encryptedExtensionsMsg",
        H::Certificate if tls13 => "*tls.certificateMsgTLS13",
        H::Certificate => "*tls.certificateMsg",
        H::ServerKeyExchange => "*tls.serverKeyExchangeMsg",
        H::CertificateRequest if tls13 => "*tls.certificateRequestMsgTLS13",
        H::CertificateRequest => "*tls.certificateRequestMsg",
        H::ServerHelloDone => "*tls.serverHelloDoneMsg",
        H::CertificateVerify => "*tls.certificateVerifyMsg",
        H::ClientKeyExchange => "*tls.clientKeyExchangeMsg",
        H::Finished => "*tls.finishedMsg",
        H::KeyUpdate => "*tls.keyUpdateMsg",
        H::CertificateStatus => "*tls.certificateStatusMsg",
        H::HelloRequest => "*tls.helloRequestMsg",
        _ => "<nil>",
    }
}

/// An error of the conn below as a [`Fault`].
pub(crate) fn net_fault(e: &io::Error) -> Fault {
    Fault::Net(Box::new(NetFault::from_io(e)))
}

/// An error that rustls's own I/O helpers raise (buffer full and the like): a bug here,
/// worded as Go words its internal errors.
pub(crate) fn internal(e: impl fmt::Display) -> Fault {
    Fault::msg(format!("tls: internal error: {e}"))
}
