//! Go's network errors: `OpError`, `AddrError`, `UnknownNetworkError`, `ErrClosed`,
//! `os.ErrDeadlineExceeded` and `os.SyscallError`, with Go's exact texts.
//!
//! Go returns `(T, error)`; gonet returns `io::Result<T>` whose error carries one of these
//! types inside (`io::Error::get_ref` + `downcast_ref`), with an [`io::ErrorKind`] chosen
//! so that code written for std also does the right thing. Follows Go's `src/net/net.go`.

use std::error::Error;
use std::fmt;
use std::io;

use crate::net::Addr;

/// The error every gonet operation returns: which operation, on which network and
/// addresses, failed and why.
///
/// Go: `net.OpError`. Its `Display` is Go's `OpError.Error()`:
/// `op net source->addr: err`, e.g. `read tcp 127.0.0.1:5->127.0.0.1:6: i/o timeout`.
///
/// ```
/// let err = gonet::listen("tcp", ":99999").unwrap_err();
/// let op = gonet::OpError::of(&err).expect("gonet errors are OpErrors");
/// assert_eq!(op.op, "listen");
/// assert_eq!(err.to_string(), "listen tcp: address 99999: invalid port");
/// ```
#[derive(Debug)]
pub struct OpError {
    /// The operation: "listen", "accept", "dial", "read", "write", "close", "set".
    pub op: &'static str,
    /// The network: "tcp", "tcp4", "tcp6", "unix", "unixpacket".
    pub net: String,
    /// The local address, for operations on a connection.
    pub source: Option<Addr>,
    /// The remote address (or the listening address).
    pub addr: Option<Addr>,
    /// The cause: a [`SyscallError`], [`AddrError`], [`UnknownNetworkError`],
    /// [`ErrClosed`], [`DeadlineExceeded`], or any error a `Control` hook returned.
    pub err: Box<dyn Error + Send + Sync + 'static>,
}

impl OpError {
    /// Builds an `OpError`. Most users only read them.
    ///
    /// Go: `&net.OpError{Op: op, Net: net, Err: err}`.
    ///
    /// ```
    /// let e = gonet::OpError::new("read", "tcp", gonet::ErrClosed);
    /// assert_eq!(e.to_string(), "read tcp: use of closed network connection");
    /// ```
    pub fn new(
        op: &'static str,
        net: impl Into<String>,
        err: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> OpError {
        OpError {
            op,
            net: net.into(),
            source: None,
            addr: None,
            err: err.into(),
        }
    }

    /// Sets the local and remote addresses shown in the message.
    ///
    /// ```
    /// let a: gonet::Addr = "127.0.0.1:5".parse::<std::net::SocketAddr>().unwrap().into();
    /// let e = gonet::OpError::new("read", "tcp", gonet::DeadlineExceeded).with_addrs(None, Some(a));
    /// assert_eq!(e.to_string(), "read tcp 127.0.0.1:5: i/o timeout");
    /// ```
    pub fn with_addrs(mut self, source: Option<Addr>, addr: Option<Addr>) -> OpError {
        self.source = source;
        self.addr = addr;
        self
    }

    /// The `OpError` inside an `io::Error` returned by gonet, if there is one.
    ///
    /// Go: `var op *net.OpError; errors.As(err, &op)`.
    ///
    /// ```
    /// let err = gonet::listen("tcpx", ":0").unwrap_err();
    /// assert_eq!(gonet::OpError::of(&err).unwrap().net, "tcpx");
    /// ```
    pub fn of(err: &io::Error) -> Option<&OpError> {
        err.get_ref()?.downcast_ref::<OpError>()
    }

    /// Whether the operation failed because a deadline passed.
    ///
    /// Go: `OpError.Timeout()`.
    ///
    /// ```
    /// let e = gonet::OpError::new("read", "tcp", gonet::DeadlineExceeded);
    /// assert!(e.timeout());
    /// ```
    pub fn timeout(&self) -> bool {
        self.err.is::<DeadlineExceeded>()
            || self.err.is::<ErrTimeout>()
            || self.err.is::<crate::context::DeadlineExceeded>()
            || self.errno() == Some(libc::ETIMEDOUT)
            || self
                .err
                .downcast_ref::<AddrError>()
                .is_some_and(|a| a.timeout)
            || self
                .err
                .downcast_ref::<DnsError>()
                .is_some_and(|d| d.is_timeout)
    }

    /// Whether the error is worth retrying: a deadline, or an accept that failed for lack
    /// of descriptors, buffers or because the peer gave up (`EMFILE`, `ENFILE`, `ENOBUFS`,
    /// `ENOMEM`, `ECONNABORTED`, `ECONNRESET`, `EINTR`, `EAGAIN`).
    ///
    /// Go: `OpError.Temporary()` (syscall `Errno.Temporary`), which net/http's accept loop
    /// uses to decide whether to back off and retry.
    ///
    /// ```
    /// let e = gonet::OpError::new(
    ///     "accept",
    ///     "tcp",
    ///     gonet::SyscallError::new("accept4", std::io::Error::from_raw_os_error(libc::EMFILE)),
    /// );
    /// assert!(e.temporary());
    /// ```
    pub fn temporary(&self) -> bool {
        self.timeout()
            || matches!(
                self.errno(),
                Some(
                    libc::EMFILE
                        | libc::ENFILE
                        | libc::ENOBUFS
                        | libc::ENOMEM
                        | libc::ECONNABORTED
                        | libc::ECONNRESET
                        | libc::EINTR
                        | libc::EAGAIN
                )
            )
    }

    /// The OS error number behind the failure, if a system call failed.
    ///
    /// Go: `errors.As(err, &errno)` with a `syscall.Errno`.
    ///
    /// ```
    /// let err = gonet::dial("tcp", "127.0.0.1:1").unwrap_err();
    /// assert_eq!(gonet::OpError::of(&err).unwrap().errno(), Some(libc::ECONNREFUSED));
    /// ```
    pub fn errno(&self) -> Option<i32> {
        if let Some(Errno(n)) = self.err.downcast_ref::<Errno>() {
            return Some(*n);
        }
        self.err
            .downcast_ref::<SyscallError>()
            .and_then(|s| s.err.raw_os_error())
    }

    /// The `io::ErrorKind` that best describes the cause.
    fn kind(&self) -> io::ErrorKind {
        let e = &*self.err;
        if let Some(s) = e.downcast_ref::<SyscallError>() {
            s.err.kind()
        } else if let Some(n) = e.downcast_ref::<Errno>() {
            io::Error::from(*n).kind()
        } else if e.is::<DeadlineExceeded>()
            || e.is::<ErrTimeout>()
            || e.is::<crate::context::DeadlineExceeded>()
        {
            io::ErrorKind::TimedOut
        } else if e.is::<ErrClosed>() {
            io::ErrorKind::NotConnected
        } else if e.is::<AddrError>() || e.is::<UnknownNetworkError>() {
            io::ErrorKind::InvalidInput
        } else if let Some(d) = e.downcast_ref::<DnsError>() {
            d.io_kind()
        } else if let Some(io) = e.downcast_ref::<io::Error>() {
            io.kind()
        } else {
            io::ErrorKind::Other
        }
    }
}

impl fmt::Display for OpError {
    // Go: net.go, func (e *OpError) Error() string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op)?;
        if !self.net.is_empty() {
            write!(f, " {}", self.net)?;
        }
        if let Some(src) = &self.source {
            write!(f, " {src}")?;
        }
        if let Some(addr) = &self.addr {
            let sep = if self.source.is_some() { "->" } else { " " };
            write!(f, "{sep}{addr}")?;
        }
        write!(f, ": {}", self.err)
    }
}

impl Error for OpError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.err)
    }
}

impl From<OpError> for io::Error {
    fn from(e: OpError) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

/// A bad address: `address 99999: invalid port`.
///
/// Go: `net.AddrError`.
///
/// ```
/// let e = gonet::AddrError::new("missing port in address", "127.0.0.1");
/// assert_eq!(e.to_string(), "address 127.0.0.1: missing port in address");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    /// What is wrong: "missing port in address", "invalid port", ...
    pub err: String,
    /// The offending address (or part of it).
    pub addr: String,
    /// Whether this is a timeout (Go's `AddrError.Timeout()`; always false today).
    pub timeout: bool,
}

impl AddrError {
    /// An address error with Go's message `err` about `addr`.
    ///
    /// Go: `&net.AddrError{Err: err, Addr: addr}`.
    ///
    /// ```
    /// assert_eq!(gonet::AddrError::new("invalid port", "").to_string(), "invalid port");
    /// ```
    pub fn new(err: impl Into<String>, addr: impl Into<String>) -> AddrError {
        AddrError {
            err: err.into(),
            addr: addr.into(),
            timeout: false,
        }
    }

    /// The `AddrError` of an `io::Error` returned by gonet: the error itself (as
    /// [`split_host_port`](crate::net::split_host_port) returns it) or the cause inside
    /// an [`OpError`] (`listen tcp: address 99999: invalid port`).
    ///
    /// Go: `var ae *net.AddrError; errors.As(err, &ae)`.
    ///
    /// ```
    /// let err = gonet::net::split_host_port("a:b:c").unwrap_err();
    /// assert_eq!(gonet::AddrError::of(&err).unwrap().err, "too many colons in address");
    /// let err = gonet::listen("tcp", ":99999").unwrap_err();
    /// assert_eq!(gonet::AddrError::of(&err).unwrap().addr, "99999");
    /// ```
    pub fn of(err: &io::Error) -> Option<&AddrError> {
        let inner = err.get_ref()?;
        inner.downcast_ref::<AddrError>().or_else(|| {
            inner
                .downcast_ref::<OpError>()?
                .err
                .downcast_ref::<AddrError>()
        })
    }
}

impl From<AddrError> for io::Error {
    /// Kind `InvalidInput`, or `TimedOut` for an address lookup that ran out of time.
    fn from(e: AddrError) -> io::Error {
        let kind = if e.timeout {
            io::ErrorKind::TimedOut
        } else {
            io::ErrorKind::InvalidInput
        };
        io::Error::new(kind, e)
    }
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.addr.is_empty() {
            write!(f, "address {}: ", self.addr)?;
        }
        f.write_str(&self.err)
    }
}

impl Error for AddrError {}

/// A network name gonet does not know: `unknown network tcpx`.
///
/// Go: `net.UnknownNetworkError`.
///
/// ```
/// let err = gonet::listen("tcpx", ":0").unwrap_err();
/// assert_eq!(err.to_string(), "listen tcpx: unknown network tcpx");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNetworkError(pub String);

impl fmt::Display for UnknownNetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown network {}", self.0)
    }
}

impl Error for UnknownNetworkError {}

/// A failed system call: `bind: address already in use`.
///
/// Go: `os.SyscallError`. The errno text is Go's (glibc's `strerror` with a lower-case
/// first letter), not Rust's `Address already in use (os error 98)`.
///
/// ```
/// let e = gonet::SyscallError::new("bind", std::io::Error::from_raw_os_error(libc::EADDRINUSE));
/// assert_eq!(e.to_string(), "bind: address already in use");
/// ```
#[derive(Debug)]
pub struct SyscallError {
    /// The system call: "socket", "setsockopt", "bind", "listen", "accept4", "connect", ...
    pub syscall: &'static str,
    /// The OS error.
    pub err: io::Error,
}

impl SyscallError {
    /// Wraps the OS error `err` returned by `syscall`.
    ///
    /// Go: `os.NewSyscallError(syscall, err)`.
    ///
    /// ```
    /// let e = gonet::SyscallError::new("connect", std::io::Error::from_raw_os_error(libc::ECONNREFUSED));
    /// assert_eq!(e.to_string(), "connect: connection refused");
    /// ```
    pub fn new(syscall: &'static str, err: io::Error) -> SyscallError {
        SyscallError { syscall, err }
    }
}

impl fmt::Display for SyscallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.syscall, go_error_text(&self.err))
    }
}

impl Error for SyscallError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.err)
    }
}

/// Text that is not what was expected: `invalid CIDR address: 10.0.0.0/33`.
///
/// Go: `net.ParseError{Type, Text}`. Its `io::ErrorKind` is `InvalidInput`.
///
/// ```
/// let e = gonet::net::ParseError::new("CIDR address", "10.0.0.0/33");
/// assert_eq!(e.to_string(), "invalid CIDR address: 10.0.0.0/33");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was expected: "CIDR address", "IP address".
    pub typ: String,
    /// The text that was not one.
    pub text: String,
}

impl ParseError {
    /// Go: `&net.ParseError{Type: typ, Text: text}`.
    pub fn new(typ: impl Into<String>, text: impl Into<String>) -> ParseError {
        ParseError {
            typ: typ.into(),
            text: text.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.typ, self.text)
    }
}

impl Error for ParseError {}

impl From<ParseError> for io::Error {
    fn from(e: ParseError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// A bare OS error number, as Go returns a `syscall.Errno` with no system call named:
/// `file file+net /etc/hosts: invalid argument`. `Display` is Go's text for it.
///
/// Go: `syscall.Errno`.
///
/// ```
/// let e = gonet::Errno(libc::EPROTONOSUPPORT);
/// assert_eq!(e.to_string(), "protocol not supported");
/// assert_eq!(std::io::Error::from(e).raw_os_error(), Some(libc::EPROTONOSUPPORT));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The errno `code`.
    pub(crate) const fn new(code: i32) -> Errno {
        Errno(code)
    }

    /// The errno of an OS error (EINVAL for one that has none).
    pub(crate) fn of(e: &io::Error) -> Errno {
        Errno(e.raw_os_error().unwrap_or(libc::EINVAL))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&go_error_text(&io::Error::from_raw_os_error(self.0)))
    }
}

impl Error for Errno {}

impl From<Errno> for io::Error {
    fn from(e: Errno) -> io::Error {
        io::Error::from_raw_os_error(e.0)
    }
}

/// The text Go prints for an OS error: `strerror` with its first letter lower-cased, as
/// Go's generated errno table (`zerrors_linux_*.go`) has it.
pub(crate) fn go_error_text(err: &io::Error) -> String {
    let Some(code) = err.raw_os_error() else {
        return err.to_string();
    };
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for buf.len() bytes; the XSI strerror_r that libc exposes on
    // Linux writes a NUL-terminated string into it and returns 0 on success.
    let rc = unsafe { libc::strerror_r(code, buf.as_mut_ptr().cast(), buf.len()) };
    let len = buf.iter().position(|&b| b == 0).unwrap_or(0);
    if rc != 0 || len == 0 {
        return format!("errno {code}");
    }
    let text = String::from_utf8_lossy(&buf[..len]);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The operation used a connection or listener after `close()`.
///
/// Go: `net.ErrClosed`, "use of closed network connection". Test for it with
/// [`is_closed`]. Its `io::ErrorKind` is `NotConnected`.
///
/// ```
/// assert_eq!(gonet::ErrClosed.to_string(), "use of closed network connection");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrClosed;

impl fmt::Display for ErrClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("use of closed network connection")
    }
}

impl Error for ErrClosed {}

/// A read, write or accept deadline passed.
///
/// Go: `os.ErrDeadlineExceeded`, "i/o timeout". Its `io::ErrorKind` is `TimedOut`; test
/// for it with [`is_timeout`].
///
/// ```
/// assert_eq!(gonet::DeadlineExceeded.to_string(), "i/o timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineExceeded;

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("i/o timeout")
    }
}

impl Error for DeadlineExceeded {}

/// Whether `err` says the connection or listener was closed by `close()`.
///
/// Go: `errors.Is(err, net.ErrClosed)`: the normal way an accept loop learns that its
/// listener was closed.
///
/// ```
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// ln.close().unwrap();
/// let err = ln.accept().unwrap_err();
/// assert!(gonet::is_closed(&err));
/// ```
pub fn is_closed(err: &io::Error) -> bool {
    OpError::of(err).is_some_and(|op| op.err.is::<ErrClosed>())
}

/// Whether `err` is a timeout: a deadline passed (or the OS timed out a connect).
///
/// Go: `errors.Is(err, os.ErrDeadlineExceeded)` / `err.(net.Error).Timeout()`.
///
/// ```
/// use std::time::Instant;
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// conn.set_read_deadline(Some(Instant::now())).unwrap();
/// let err = conn.read(&mut [0u8; 8]).unwrap_err();
/// assert!(gonet::is_timeout(&err));
/// ```
pub fn is_timeout(err: &io::Error) -> bool {
    match OpError::of(err) {
        Some(op) => op.timeout(),
        None => err.kind() == io::ErrorKind::TimedOut,
    }
}

/// Whether `err` is temporary and worth retrying after a pause: what an accept loop
/// checks before backing off (see [`OpError::temporary`]).
///
/// Go: `err.(net.Error).Temporary()`, as net/http's `Server.Serve` uses it.
///
/// ```
/// let err = gonet::listen("tcp", ":99999").unwrap_err();
/// assert!(!gonet::is_temporary(&err));
/// ```
pub fn is_temporary(err: &io::Error) -> bool {
    OpError::of(err).is_some_and(OpError::temporary)
}

/// Any error an `OpError` can carry.
pub(crate) type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// A failed name lookup: `lookup nosuchhost.example: no such host`.
///
/// Go: `net.DNSError`.
///
/// ```
/// let e = gonet::DnsError::not_found("256.0.0.1");
/// assert_eq!(e.to_string(), "lookup 256.0.0.1: no such host");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsError {
    /// What went wrong: "no such host", or the resolver's own words.
    pub err: String,
    /// The name looked up.
    pub name: String,
    /// The DNS server that answered, as Go's pure-Go resolver names it (`10.0.0.53:53`);
    /// empty when none did (an invalid name, a timeout, Go's cgo mode).
    pub server: String,
    /// The name does not exist (Go's `IsNotFound`).
    pub is_not_found: bool,
    /// The failure may go away if retried (Go's `IsTemporary`).
    pub is_temporary: bool,
    /// The lookup gave up because the dial's deadline passed (Go's `IsTimeout`).
    pub is_timeout: bool,
}

impl DnsError {
    /// The `io::ErrorKind` that describes the failure: timed out, not found, or other.
    pub(crate) fn io_kind(&self) -> io::ErrorKind {
        if self.is_timeout {
            io::ErrorKind::TimedOut
        } else if self.is_not_found {
            io::ErrorKind::NotFound
        } else {
            io::ErrorKind::Other
        }
    }

    /// Go's "no such host" error for `name`.
    ///
    /// ```
    /// assert!(gonet::DnsError::not_found("x.invalid").is_not_found);
    /// ```
    pub fn not_found(name: impl Into<String>) -> DnsError {
        DnsError {
            err: "no such host".into(),
            name: name.into(),
            server: String::new(),
            is_not_found: true,
            is_temporary: false,
            is_timeout: false,
        }
    }

    /// The error for a lookup that ran out of time: `lookup NAME: i/o timeout`.
    ///
    /// Go: `&net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true}`, what a
    /// lookup returns when its context's deadline passes.
    ///
    /// ```
    /// let e = gonet::DnsError::timeout("localhost");
    /// assert_eq!(e.to_string(), "lookup localhost: i/o timeout");
    /// assert!(e.is_timeout);
    /// ```
    pub fn timeout(name: impl Into<String>) -> DnsError {
        DnsError {
            err: "i/o timeout".into(),
            name: name.into(),
            server: String::new(),
            is_not_found: false,
            is_temporary: false,
            is_timeout: true,
        }
    }
}

impl DnsError {
    /// The error of a lookup whose context ended first (Go: `lookupIPAddr`'s
    /// `&DNSError{Err: mapErr(ctx.Err()).Error(), Name: host, IsTimeout: ...}`):
    /// `lookup NAME: operation was canceled`, or `lookup NAME: i/o timeout` (a timeout).
    pub(crate) fn ended(name: impl Into<String>, why: crate::context::Ended) -> DnsError {
        match why {
            crate::context::Ended::DeadlineExceeded => DnsError::timeout(name),
            crate::context::Ended::Canceled => DnsError {
                err: ErrCanceled.to_string(),
                name: name.into(),
                server: String::new(),
                is_not_found: false,
                is_temporary: false,
                is_timeout: false,
            },
        }
    }
}

/// Go: net's `mapErr`: the error a net call reports for a context that ended.
pub(crate) fn map_err(why: crate::context::Ended) -> BoxError {
    match why {
        crate::context::Ended::Canceled => ErrCanceled.into(),
        crate::context::Ended::DeadlineExceeded => ErrTimeout.into(),
    }
}

impl fmt::Display for DnsError {
    /// Go: `DNSError.Error()`: `lookup NAME[ on SERVER]: ERR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lookup {}", self.name)?;
        if !self.server.is_empty() {
            write!(f, " on {}", self.server)?;
        }
        write!(f, ": {}", self.err)
    }
}

impl Error for DnsError {}

/// An `OpError` for `syscall` failing with `err`, as an `io::Error`.
pub(crate) fn syscall_error(
    op: &'static str,
    net: &str,
    syscall: &'static str,
    err: io::Error,
) -> OpError {
    OpError::new(op, net, SyscallError::new(syscall, err))
}

// ---------------------------------------------------------------------------------------
// A context's end, as the net layer reports it (Go: net.go's errCanceled, errTimeout and
// mapErr)
// ---------------------------------------------------------------------------------------

/// A call gave up because its [`Context`](crate::context::Context) was cancelled:
/// `dial tcp 127.0.0.1:80: operation was canceled`.
///
/// Go: net's `errCanceled` (`canceledError`), what `mapErr` makes of `context.Canceled`;
/// [`context::is_canceled`](crate::context::is_canceled) is true for it, as
/// `errors.Is(err, context.Canceled)` is in Go. Its `io::ErrorKind` is `Other`.
///
/// ```
/// assert_eq!(gonet::net::ErrCanceled.to_string(), "operation was canceled");
/// assert!(gonet::context::is_canceled(&gonet::net::ErrCanceled));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrCanceled;

impl fmt::Display for ErrCanceled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation was canceled")
    }
}

impl Error for ErrCanceled {}

/// A dial ran out of time: its [`Context`](crate::context::Context)'s deadline, or the
/// [`Dialer`](crate::Dialer)'s `timeout` or `deadline`, passed: `dial tcp 10.0.0.1:80: i/o
/// timeout`.
///
/// Go: net's `errTimeout` (`timeoutError`), what `mapErr` makes of
/// `context.DeadlineExceeded`. Its text is [`DeadlineExceeded`]'s, it is a timeout
/// ([`is_timeout`]), and
/// [`context::is_deadline_exceeded`](crate::context::is_deadline_exceeded) is true for it,
/// as `errors.Is(err, context.DeadlineExceeded)` is in Go (but not for a read or write
/// deadline's [`DeadlineExceeded`], Go's `os.ErrDeadlineExceeded`).
///
/// ```
/// assert_eq!(gonet::net::ErrTimeout.to_string(), "i/o timeout");
/// assert!(gonet::context::is_deadline_exceeded(&gonet::net::ErrTimeout));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrTimeout;

impl fmt::Display for ErrTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("i/o timeout")
    }
}

impl Error for ErrTimeout {}
