//! Go's file errors: `PathError`, `LinkError` and the `ErrNotExist` family, with Go's
//! texts (`open /nope: no such file or directory`).
//!
//! Go: `src/os/error.go` and `src/io/fs/fs.go`. Every `gonet::os` call returns an
//! [`io::Error`] whose kind follows the OS error (`NotFound` for ENOENT, ...) and whose
//! inner error downcasts to [`PathError`] or [`LinkError`].

use std::error::Error;
use std::fmt;
use std::io;

use crate::net::error::go_error_text;

/// A failed operation on a file path: `open /nope: no such file or directory`.
///
/// Go: `os.PathError` (`io/fs.PathError`). `err` is the OS error (its text is Go's, a
/// lower-case `strerror`) or one of this module's errors ([`ErrClosed`] ...).
///
/// ```
/// let err = gonet::os::open("/nope").unwrap_err();
/// assert_eq!(err.to_string(), "open /nope: no such file or directory");
/// let pe = gonet::os::PathError::of(&err).unwrap();
/// assert_eq!((pe.op, pe.path.as_str()), ("open", "/nope"));
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// ```
#[derive(Debug)]
pub struct PathError {
    /// The operation: "open", "read", "write", "stat", "lstat", "close", "seek", ...
    pub op: &'static str,
    /// The file's path, as given.
    pub path: String,
    /// Why it failed.
    pub err: io::Error,
}

impl PathError {
    /// The `PathError` inside `err`, if there is one.
    ///
    /// Go: `errors.As(err, &pathErr)`.
    ///
    /// ```
    /// let err = gonet::os::stat("/nope").unwrap_err();
    /// assert_eq!(gonet::os::PathError::of(&err).unwrap().op, "stat");
    /// ```
    pub fn of(err: &io::Error) -> Option<&PathError> {
        err.get_ref()?.downcast_ref::<PathError>()
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, self.path, go_error_text(&self.err))
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.err)
    }
}

/// A failed operation on two paths: `rename /a /b: no such file or directory`.
///
/// Go: `os.LinkError`.
///
/// ```
/// let err = gonet::os::rename("/nope", "/nope2").unwrap_err();
/// assert_eq!(err.to_string(), "rename /nope /nope2: no such file or directory");
/// assert!(gonet::os::LinkError::of(&err).is_some());
/// ```
#[derive(Debug)]
pub struct LinkError {
    /// The operation: "rename", "link", "symlink".
    pub op: &'static str,
    /// The first path.
    pub old: String,
    /// The second path.
    pub new: String,
    /// Why it failed.
    pub err: io::Error,
}

impl LinkError {
    /// The `LinkError` inside `err`, if there is one.
    ///
    /// ```
    /// let err = gonet::os::rename("/nope", "/nope2").unwrap_err();
    /// assert_eq!(gonet::os::LinkError::of(&err).unwrap().new, "/nope2");
    /// ```
    pub fn of(err: &io::Error) -> Option<&LinkError> {
        err.get_ref()?.downcast_ref::<LinkError>()
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}: {}",
            self.op,
            self.old,
            self.new,
            go_error_text(&self.err)
        )
    }
}

impl Error for LinkError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.err)
    }
}

macro_rules! sentinel {
    ($(#[$doc:meta])* $name:ident, $text:literal, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($text)
            }
        }

        impl Error for $name {}

        impl From<$name> for io::Error {
            fn from(e: $name) -> io::Error {
                io::Error::new($kind, e)
            }
        }
    };
}

sentinel!(
    /// "file does not exist". Go: `os.ErrNotExist` (`io/fs.ErrNotExist`); test with
    /// [`is_not_exist`], which also knows ENOENT.
    ///
    /// ```
    /// assert_eq!(gonet::os::ErrNotExist.to_string(), "file does not exist");
    /// ```
    ErrNotExist,
    "file does not exist",
    io::ErrorKind::NotFound
);
sentinel!(
    /// "file already exists". Go: `os.ErrExist`; test with [`is_exist`].
    ///
    /// ```
    /// assert_eq!(gonet::os::ErrExist.to_string(), "file already exists");
    /// ```
    ErrExist,
    "file already exists",
    io::ErrorKind::AlreadyExists
);
sentinel!(
    /// "permission denied". Go: `os.ErrPermission`; test with [`is_permission`].
    ///
    /// ```
    /// assert_eq!(gonet::os::ErrPermission.to_string(), "permission denied");
    /// ```
    ErrPermission,
    "permission denied",
    io::ErrorKind::PermissionDenied
);
sentinel!(
    /// "file already closed": an operation on a [`File`](crate::os::File) after its
    /// `close`. Go: `os.ErrClosed`.
    ///
    /// ```
    /// let f = gonet::os::open("/etc/hostname").unwrap();
    /// f.close().unwrap();
    /// let err = f.close().unwrap_err();
    /// assert_eq!(err.to_string(), "close /etc/hostname: file already closed");
    /// assert!(gonet::os::is_closed(&err));
    /// ```
    ErrClosed,
    "file already closed",
    io::ErrorKind::Other
);
sentinel!(
    /// "use of closed file": what Go's `File.Stat` says after `Close` (Go's
    /// `internal/poll.ErrFileClosing`, which the other methods report as [`ErrClosed`]).
    ErrFileClosing,
    "use of closed file",
    io::ErrorKind::Other
);

/// Wraps `err` from `op` on `path` as Go does, keeping the OS error's kind.
pub(crate) fn path_error(op: &'static str, path: &str, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        PathError {
            op,
            path: path.to_string(),
            err,
        },
    )
}

/// A `PathError` for the OS error `errno`.
pub(crate) fn path_errno(op: &'static str, path: &str, errno: i32) -> io::Error {
    path_error(op, path, io::Error::from_raw_os_error(errno))
}

/// A `LinkError`, keeping the OS error's kind.
pub(crate) fn link_error(op: &'static str, old: &str, new: &str, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        LinkError {
            op,
            old: old.to_string(),
            new: new.to_string(),
            err,
        },
    )
}

/// The error inside gonet's wrappers (PathError, LinkError, net's SyscallError).
fn underlying(err: &io::Error) -> &io::Error {
    let Some(inner) = err.get_ref() else {
        return err;
    };
    if let Some(pe) = inner.downcast_ref::<PathError>() {
        &pe.err
    } else if let Some(le) = inner.downcast_ref::<LinkError>() {
        &le.err
    } else if let Some(se) = inner.downcast_ref::<crate::net::SyscallError>() {
        &se.err
    } else {
        err
    }
}

fn is_sentinel<T: Error + 'static>(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<T>())
}

/// Whether `err` says a file does not exist: ENOENT, or [`ErrNotExist`].
///
/// Go: `os.IsNotExist(err)` (and `errors.Is(err, fs.ErrNotExist)`).
///
/// ```
/// let err = gonet::os::read_file("/nope").unwrap_err();
/// assert!(gonet::os::is_not_exist(&err));
/// assert!(!gonet::os::is_exist(&err));
/// ```
pub fn is_not_exist(err: &io::Error) -> bool {
    let e = underlying(err);
    e.raw_os_error() == Some(libc::ENOENT) || is_sentinel::<ErrNotExist>(e)
}

/// Whether `err` says a file already exists: EEXIST or ENOTEMPTY, or [`ErrExist`].
///
/// Go: `os.IsExist(err)`.
///
/// ```
/// let err = gonet::os::mkdir("/", gonet::os::FileMode(0o755)).unwrap_err();
/// assert!(gonet::os::is_exist(&err));
/// ```
pub fn is_exist(err: &io::Error) -> bool {
    let e = underlying(err);
    matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) || is_sentinel::<ErrExist>(e)
}

/// Whether `err` says permission was denied: EACCES or EPERM, or [`ErrPermission`].
///
/// Go: `os.IsPermission(err)`.
///
/// ```
/// let err = std::io::Error::from_raw_os_error(libc::EACCES);
/// assert!(gonet::os::is_permission(&err));
/// ```
pub fn is_permission(err: &io::Error) -> bool {
    let e = underlying(err);
    matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) || is_sentinel::<ErrPermission>(e)
}

/// Whether `err` says the [`File`](crate::os::File) was already closed ([`ErrClosed`]).
///
/// Go: `errors.Is(err, os.ErrClosed)`.
///
/// ```
/// let f = gonet::os::open("/etc/hostname").unwrap();
/// f.close().unwrap();
/// assert!(gonet::os::is_closed(&f.read(&mut [0u8; 8]).unwrap_err()));
/// ```
pub fn is_closed(err: &io::Error) -> bool {
    is_sentinel::<ErrClosed>(underlying(err))
}
