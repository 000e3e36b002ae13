//! A file's mode bits and description: `FileMode` and `FileInfo`.
//!
//! Go: `src/io/fs/fs.go` (`FileMode`, `FileInfo`), `src/os/types.go` and
//! `src/os/stat_linux.go` (`fillFileStatFromSys`).

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

/// A file's mode and permission bits, Go's encoding (not the kernel's): the type bits are
/// the high bits, the Unix permission bits the low nine.
///
/// Go: `os.FileMode` (`io/fs.FileMode`). Displays as Go's `String()`: `-rw-r--r--`,
/// `drwxr-xr-x`, `Lrwxrwxrwx`.
///
/// ```
/// use gonet::os::{FileMode, MODE_DIR};
/// assert_eq!(FileMode(0o644).to_string(), "-rw-r--r--");
/// assert_eq!((MODE_DIR | FileMode(0o755)).to_string(), "drwxr-xr-x");
/// assert!((MODE_DIR | FileMode(0o700)).is_dir());
/// assert_eq!((MODE_DIR | FileMode(0o700)).perm(), FileMode(0o700));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileMode(pub u32);

/// d: a directory. Go: `os.ModeDir`.
pub const MODE_DIR: FileMode = FileMode(1 << 31);
/// a: append-only. Go: `os.ModeAppend`.
pub const MODE_APPEND: FileMode = FileMode(1 << 30);
/// l: exclusive use. Go: `os.ModeExclusive`.
pub const MODE_EXCLUSIVE: FileMode = FileMode(1 << 29);
/// T: temporary file (Plan 9 only). Go: `os.ModeTemporary`.
pub const MODE_TEMPORARY: FileMode = FileMode(1 << 28);
/// L: a symbolic link. Go: `os.ModeSymlink`.
pub const MODE_SYMLINK: FileMode = FileMode(1 << 27);
/// D: a device file. Go: `os.ModeDevice`.
pub const MODE_DEVICE: FileMode = FileMode(1 << 26);
/// p: a named pipe (FIFO). Go: `os.ModeNamedPipe`.
pub const MODE_NAMED_PIPE: FileMode = FileMode(1 << 25);
/// S: a Unix domain socket. Go: `os.ModeSocket`.
pub const MODE_SOCKET: FileMode = FileMode(1 << 24);
/// u: setuid. Go: `os.ModeSetuid`.
pub const MODE_SETUID: FileMode = FileMode(1 << 23);
/// g: setgid. Go: `os.ModeSetgid`.
pub const MODE_SETGID: FileMode = FileMode(1 << 22);
/// c: a character device (with [`MODE_DEVICE`]). Go: `os.ModeCharDevice`.
pub const MODE_CHAR_DEVICE: FileMode = FileMode(1 << 21);
/// t: sticky. Go: `os.ModeSticky`.
pub const MODE_STICKY: FileMode = FileMode(1 << 20);
/// ?: a non-regular file of no other known type. Go: `os.ModeIrregular`.
pub const MODE_IRREGULAR: FileMode = FileMode(1 << 19);
/// The type bits. Go: `os.ModeType`.
pub const MODE_TYPE: FileMode = FileMode(
    MODE_DIR.0
        | MODE_SYMLINK.0
        | MODE_NAMED_PIPE.0
        | MODE_SOCKET.0
        | MODE_DEVICE.0
        | MODE_CHAR_DEVICE.0
        | MODE_IRREGULAR.0,
);
/// The Unix permission bits, 0o777. Go: `os.ModePerm`.
pub const MODE_PERM: FileMode = FileMode(0o777);

impl FileMode {
    /// Whether this is a directory. Go: `FileMode.IsDir`.
    ///
    /// ```
    /// assert!(gonet::os::MODE_DIR.is_dir());
    /// ```
    pub fn is_dir(self) -> bool {
        self.0 & MODE_DIR.0 != 0
    }

    /// Whether this is a regular file (no type bits). Go: `FileMode.IsRegular`.
    ///
    /// ```
    /// assert!(gonet::os::FileMode(0o600).is_regular());
    /// ```
    pub fn is_regular(self) -> bool {
        self.0 & MODE_TYPE.0 == 0
    }

    /// The Unix permission bits. Go: `FileMode.Perm`.
    ///
    /// ```
    /// use gonet::os::{FileMode, MODE_DIR};
    /// assert_eq!((MODE_DIR | FileMode(0o750)).perm(), FileMode(0o750));
    /// ```
    pub fn perm(self) -> FileMode {
        FileMode(self.0 & MODE_PERM.0)
    }

    /// The type bits. Go: `FileMode.Type`.
    ///
    /// ```
    /// use gonet::os::{FileMode, MODE_SYMLINK};
    /// assert_eq!((MODE_SYMLINK | FileMode(0o777)).file_type(), MODE_SYMLINK);
    /// ```
    pub fn file_type(self) -> FileMode {
        FileMode(self.0 & MODE_TYPE.0)
    }

    /// Go's mode for a `stat` mode word (`fillFileStatFromSys`).
    pub(crate) fn from_unix(mode: u32) -> FileMode {
        let mut m = mode & 0o777;
        m |= match mode & libc::S_IFMT {
            libc::S_IFBLK => MODE_DEVICE.0,
            libc::S_IFCHR => MODE_DEVICE.0 | MODE_CHAR_DEVICE.0,
            libc::S_IFDIR => MODE_DIR.0,
            libc::S_IFIFO => MODE_NAMED_PIPE.0,
            libc::S_IFLNK => MODE_SYMLINK.0,
            libc::S_IFSOCK => MODE_SOCKET.0,
            _ => 0,
        };
        if mode & libc::S_ISGID != 0 {
            m |= MODE_SETGID.0;
        }
        if mode & libc::S_ISUID != 0 {
            m |= MODE_SETUID.0;
        }
        if mode & libc::S_ISVTX != 0 {
            m |= MODE_STICKY.0;
        }
        FileMode(m)
    }

    /// The kernel's permission word for `open`, `mkdir` and `chmod` (Go's `syscallMode`).
    pub(crate) fn to_unix(self) -> libc::mode_t {
        let mut m = self.0 & 0o777;
        if self.0 & MODE_SETUID.0 != 0 {
            m |= libc::S_ISUID;
        }
        if self.0 & MODE_SETGID.0 != 0 {
            m |= libc::S_ISGID;
        }
        if self.0 & MODE_STICKY.0 != 0 {
            m |= libc::S_ISVTX;
        }
        m as libc::mode_t
    }
}

impl std::ops::BitOr for FileMode {
    type Output = FileMode;
    fn bitor(self, rhs: FileMode) -> FileMode {
        FileMode(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for FileMode {
    type Output = FileMode;
    fn bitand(self, rhs: FileMode) -> FileMode {
        FileMode(self.0 & rhs.0)
    }
}

impl fmt::Display for FileMode {
    /// Go's `FileMode.String`: one letter per type bit set, `-` if none, then `rwxrwxrwx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const TYPES: &[u8; 13] = b"dalTLDpSugct?";
        let mut out = String::with_capacity(22);
        for (i, &c) in TYPES.iter().enumerate() {
            if self.0 & (1 << (31 - i)) != 0 {
                out.push(char::from(c));
            }
        }
        if out.is_empty() {
            out.push('-');
        }
        for (i, c) in "rwxrwxrwx".chars().enumerate() {
            out.push(if self.0 & (1 << (8 - i)) != 0 { c } else { '-' });
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileMode({self})")
    }
}

/// What `stat` says about a file.
///
/// Go: `os.FileInfo` (`io/fs.FileInfo`): `Name`, `Size`, `Mode`, `ModTime`, `IsDir`,
/// `Sys`.
///
/// ```
/// let fi = gonet::os::stat("/etc/hostname").unwrap();
/// assert_eq!(fi.name(), "hostname");
/// assert!(!fi.is_dir() && fi.mode().is_regular());
/// assert_eq!(fi.size(), std::fs::metadata("/etc/hostname").unwrap().len());
/// ```
#[derive(Clone)]
pub struct FileInfo {
    name: String,
    meta: std::fs::Metadata,
}

impl FileInfo {
    /// `name` is the path the stat was made with; Go keeps its last element.
    pub(crate) fn new(name: &str, meta: std::fs::Metadata) -> FileInfo {
        FileInfo {
            name: basename(name).to_string(),
            meta,
        }
    }

    /// The file's base name. Go: `FileInfo.Name`.
    ///
    /// ```
    /// assert_eq!(gonet::os::stat("/etc/").unwrap().name(), "etc");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The length in bytes of a regular file; system-dependent for others. Go:
    /// `FileInfo.Size` (an `int64` there).
    ///
    /// ```
    /// assert!(gonet::os::stat("/etc/hostname").unwrap().size() > 0);
    /// ```
    pub fn size(&self) -> u64 {
        self.meta.size()
    }

    /// The mode bits. Go: `FileInfo.Mode`.
    ///
    /// ```
    /// assert!(gonet::os::stat("/etc").unwrap().mode().is_dir());
    /// ```
    pub fn mode(&self) -> FileMode {
        FileMode::from_unix(self.meta.mode())
    }

    /// The modification time. Go: `FileInfo.ModTime` (a `time.Time` there).
    ///
    /// ```
    /// assert!(gonet::os::stat("/etc/hostname").unwrap().mod_time() > std::time::SystemTime::UNIX_EPOCH);
    /// ```
    pub fn mod_time(&self) -> SystemTime {
        let secs = self.meta.mtime();
        let nanos = u32::try_from(self.meta.mtime_nsec()).unwrap_or(0);
        if secs >= 0 {
            SystemTime::UNIX_EPOCH + std::time::Duration::new(secs.unsigned_abs(), nanos)
        } else {
            SystemTime::UNIX_EPOCH - std::time::Duration::new(secs.unsigned_abs(), 0)
                + std::time::Duration::from_nanos(u64::from(nanos))
        }
    }

    /// Whether the file is a directory. Go: `FileInfo.IsDir`.
    ///
    /// ```
    /// assert!(gonet::os::stat("/etc").unwrap().is_dir());
    /// ```
    pub fn is_dir(&self) -> bool {
        self.mode().is_dir()
    }

    /// Everything the kernel said (inode, owner, times, ...). Go: `FileInfo.Sys` (a
    /// `*syscall.Stat_t` there).
    ///
    /// ```
    /// use std::os::unix::fs::MetadataExt;
    /// assert!(gonet::os::stat("/etc").unwrap().sys().ino() > 0);
    /// ```
    pub fn sys(&self) -> &std::fs::Metadata {
        &self.meta
    }
}

impl fmt::Debug for FileInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileInfo")
            .field("name", &self.name)
            .field("size", &self.size())
            .field("mode", &self.mode())
            .finish()
    }
}

/// Go's `os.basename`: the last element of `name`, trailing slashes ignored.
pub(crate) fn basename(name: &str) -> &str {
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return if name.is_empty() { "" } else { "/" };
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_strings_are_gos() {
        // From Go 1.19's fs.FileMode.String.
        let cases = [
            (MODE_DIR | MODE_STICKY | FileMode(0o755), "dtrwxr-xr-x"),
            (MODE_SYMLINK | FileMode(0o777), "Lrwxrwxrwx"),
            (MODE_NAMED_PIPE | FileMode(0o644), "prw-r--r--"),
            (MODE_SOCKET | MODE_SETUID | FileMode(0o755), "Surwxr-xr-x"),
            (
                MODE_DEVICE | MODE_CHAR_DEVICE | FileMode(0o666),
                "Dcrw-rw-rw-",
            ),
            (FileMode(0), "----------"),
            (MODE_IRREGULAR | FileMode(0o400), "?r--------"),
            (
                MODE_APPEND | MODE_EXCLUSIVE | MODE_TEMPORARY | MODE_SETGID | FileMode(0o600),
                "alTgrw-------",
            ),
        ];
        for (m, want) in cases {
            assert_eq!(m.to_string(), want);
        }
    }

    #[test]
    fn unix_modes_round_trip() {
        let m = FileMode::from_unix(libc::S_IFDIR | libc::S_ISVTX | 0o1777);
        assert_eq!(m, MODE_DIR | MODE_STICKY | FileMode(0o777));
        assert_eq!(m.to_unix(), libc::S_ISVTX | 0o777);
    }

    #[test]
    fn basename_is_gos() {
        for (p, want) in [
            ("a/b", "b"),
            ("a/b/", "b"),
            ("/", "/"),
            ("", ""),
            ("b", "b"),
        ] {
            assert_eq!(basename(p), want, "{p:?}");
        }
    }
}
