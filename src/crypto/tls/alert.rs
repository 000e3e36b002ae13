//! TLS alerts with Go's names. Go: `crypto/tls/alert.go`.

use std::error::Error;
use std::fmt;

/// A TLS alert, as Go names it: `AlertError(42)` prints `tls: bad certificate`.
///
/// Go: `tls.alert` (and Go 1.21's `tls.AlertError`). An alert the peer sent reaches you
/// inside an [`OpError`](crate::OpError) whose `op` is `"remote error"`
/// (`remote error: tls: bad certificate`), one this side sent because of a local
/// failure inside one whose `op` is `"local error"`, exactly as Go wraps them.
///
/// ```
/// use gonet::crypto::tls::AlertError;
/// assert_eq!(AlertError(42).to_string(), "tls: bad certificate");
/// assert_eq!(AlertError(200).to_string(), "tls: alert(200)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertError(pub u8);

impl AlertError {
    /// Go's text for the alert, without the `tls: ` prefix; `None` for a number Go has no
    /// name for.
    ///
    /// ```
    /// assert_eq!(gonet::crypto::tls::AlertError(48).text(), Some("unknown certificate authority"));
    /// ```
    pub fn text(self) -> Option<&'static str> {
        // Go: alert.go, alertText.
        Some(match self.0 {
            0 => "close notify",
            10 => "unexpected message",
            20 => "bad record MAC",
            21 => "decryption failed",
            22 => "record overflow",
            30 => "decompression failure",
            40 => "handshake failure",
            42 => "bad certificate",
            43 => "unsupported certificate",
            44 => "revoked certificate",
            45 => "expired certificate",
            46 => "unknown certificate",
            47 => "illegal parameter",
            48 => "unknown certificate authority",
            49 => "access denied",
            50 => "error decoding message",
            51 => "error decrypting message",
            60 => "export restriction",
            70 => "protocol version not supported",
            71 => "insufficient security level",
            80 => "internal error",
            86 => "inappropriate fallback",
            90 => "user canceled",
            100 => "no renegotiation",
            109 => "missing extension",
            110 => "unsupported extension",
            111 => "certificate unobtainable",
            112 => "unrecognized name",
            113 => "bad certificate status response",
            114 => "bad certificate hash value",
            115 => "unknown PSK identity",
            116 => "certificate required",
            120 => "no application protocol",
            _ => return None,
        })
    }
}

impl fmt::Display for AlertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(t) => write!(f, "tls: {t}"),
            None => write!(f, "tls: alert({})", self.0),
        }
    }
}

impl Error for AlertError {}

/// The alert numbers gonet itself looks at.
pub(crate) const ALERT_UNEXPECTED_MESSAGE: u8 = 10;
pub(crate) const ALERT_BAD_RECORD_MAC: u8 = 20;
pub(crate) const ALERT_ILLEGAL_PARAMETER: u8 = 47;
pub(crate) const ALERT_HANDSHAKE_FAILURE: u8 = 40;
