//! Reading directories: `read_dir`, `DirEntry`, `File::read_dir`.
//!
//! Go: `src/os/dir.go`, `dir_unix.go` (`File.readdir` over `getdents64`), `dirent_linux.go`.

use std::io;
use std::os::fd::AsRawFd;

use crate::os::error::path_error;
use crate::os::file::{File, c_path};
use crate::os::types::{
    FileInfo, FileMode, MODE_CHAR_DEVICE, MODE_DEVICE, MODE_DIR, MODE_NAMED_PIPE, MODE_SOCKET,
    MODE_SYMLINK, MODE_TYPE,
};
use crate::runtime::blocking;

/// Go's `blockSize` for `getdents64` (dir_unix.go).
const BLOCK_SIZE: usize = 8192;

/// One entry of a directory.
///
/// Go: `os.DirEntry` (`io/fs.DirEntry`).
///
/// ```
/// let entries = gonet::os::read_dir("/etc").unwrap();
/// let hostname = entries.iter().find(|e| e.name() == "hostname").unwrap();
/// assert!(!hostname.is_dir());
/// assert_eq!(hostname.info().unwrap().name(), "hostname");
/// ```
#[derive(Clone)]
pub struct DirEntry {
    parent: String,
    name: String,
    typ: FileMode,
}

impl DirEntry {
    /// The entry's file name (no directory). Go: `DirEntry.Name`.
    ///
    /// ```
    /// let e = gonet::os::read_dir("/etc").unwrap().into_iter().next().unwrap();
    /// assert!(!e.name().contains('/'));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the entry is a directory. Go: `DirEntry.IsDir`.
    ///
    /// ```
    /// let etc = gonet::os::read_dir("/").unwrap().into_iter().find(|e| e.name() == "etc").unwrap();
    /// assert!(etc.is_dir());
    /// ```
    pub fn is_dir(&self) -> bool {
        self.typ.is_dir()
    }

    /// The entry's type bits (the permission bits are not known without a stat). Go:
    /// `DirEntry.Type`.
    ///
    /// ```
    /// let etc = gonet::os::read_dir("/").unwrap().into_iter().find(|e| e.name() == "etc").unwrap();
    /// assert_eq!(etc.file_type(), gonet::os::MODE_DIR);
    /// ```
    pub fn file_type(&self) -> FileMode {
        self.typ
    }

    /// `lstat` of the entry. Go: `DirEntry.Info`.
    ///
    /// ```
    /// let etc = gonet::os::read_dir("/").unwrap().into_iter().find(|e| e.name() == "etc").unwrap();
    /// assert!(etc.info().unwrap().mode().perm().0 != 0);
    /// ```
    pub fn info(&self) -> io::Result<FileInfo> {
        crate::os::lstat(&format!("{}/{}", self.parent, self.name))
    }
}

impl std::fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirEntry")
            .field("name", &self.name)
            .field("type", &self.typ)
            .finish()
    }
}

/// The entries of directory `name`, sorted by file name.
///
/// Go: `os.ReadDir`.
///
/// ```
/// let err = gonet::os::read_dir("/nope").unwrap_err();
/// assert_eq!(err.to_string(), "open /nope: no such file or directory");
/// ```
pub fn read_dir(name: &str) -> io::Result<Vec<DirEntry>> {
    let f = crate::os::open(name)?;
    let mut entries = f.read_dir(0)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// A directory stream: the `getdents64` buffer and where parsing stopped.
pub(crate) struct DirReader {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl File {
    /// Reads the next entries of this directory: at most `n` if `n > 0` (an empty vector
    /// at the end, where Go returns `io.EOF`), all that are left if `n <= 0`. `.` and `..`
    /// are left out; the order is the file system's.
    ///
    /// Go: `File.ReadDir`.
    ///
    /// ```
    /// let d = gonet::os::open("/etc").unwrap();
    /// assert_eq!(d.read_dir(1).unwrap().len(), 1);
    /// assert!(!d.read_dir(0).unwrap().is_empty());
    /// assert!(d.read_dir(1).unwrap().is_empty()); // the end
    /// ```
    pub fn read_dir(&self, n: isize) -> io::Result<Vec<DirEntry>> {
        self.read_entries(n)
    }

    /// The names of the next entries, as [`read_dir`](File::read_dir) counts them.
    ///
    /// Go: `File.Readdirnames`.
    ///
    /// ```
    /// let names = gonet::os::open("/etc").unwrap().readdirnames(0).unwrap();
    /// assert!(names.iter().any(|n| n == "hostname"));
    /// ```
    pub fn readdirnames(&self, n: isize) -> io::Result<Vec<String>> {
        Ok(self.read_entries(n)?.into_iter().map(|e| e.name).collect())
    }

    fn read_entries(&self, n: isize) -> io::Result<Vec<DirEntry>> {
        let fd = self.descriptor("readdirent")?;
        // A coroutine-aware lock: another reader of this File parks, not the worker.
        let mut state = self.dir.lock().unwrap_or_else(|e| e.into_inner());
        let reader = state.get_or_insert_with(|| DirReader {
            buf: vec![0; BLOCK_SIZE],
            pos: 0,
            end: 0,
        });
        let limit = usize::try_from(n).ok().filter(|&n| n > 0);
        let parent = self.name();
        blocking(|| {
            let mut out = Vec::new();
            loop {
                if limit.is_some_and(|l| out.len() >= l) {
                    return Ok(out);
                }
                if reader.pos >= reader.end {
                    let got = getdents(fd.as_raw_fd(), &mut reader.buf)
                        .map_err(|e| path_error("readdirent", parent, e))?;
                    if got == 0 {
                        return Ok(out);
                    }
                    reader.pos = 0;
                    reader.end = got;
                }
                if let Some(entry) = reader.next_entry(parent) {
                    out.push(entry);
                }
            }
        })
    }
}

impl DirReader {
    /// Parses the record at `pos` and moves past it; `None` for a record Go skips (`.`,
    /// `..`, inode 0) or a malformed one (then the rest of the buffer is dropped).
    fn next_entry(&mut self, parent: &str) -> Option<DirEntry> {
        // struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name.
        let rec = &self.buf[self.pos..self.end];
        if rec.len() < 19 {
            self.pos = self.end;
            return None;
        }
        let reclen = usize::from(u16::from_ne_bytes([rec[16], rec[17]]));
        if reclen < 19 || reclen > rec.len() {
            self.pos = self.end;
            return None;
        }
        self.pos += reclen;
        let ino = u64::from_ne_bytes(rec[..8].try_into().ok()?);
        let d_type = rec[18];
        let name_bytes = &rec[19..reclen];
        let name_len = name_bytes.iter().position(|&b| b == 0)?;
        let name = &name_bytes[..name_len];
        if ino == 0 || name == b"." || name == b".." {
            return None;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let typ = match d_type {
            libc::DT_BLK => MODE_DEVICE,
            libc::DT_CHR => MODE_DEVICE | MODE_CHAR_DEVICE,
            libc::DT_DIR => MODE_DIR,
            libc::DT_FIFO => MODE_NAMED_PIPE,
            libc::DT_LNK => MODE_SYMLINK,
            libc::DT_REG => FileMode(0),
            libc::DT_SOCK => MODE_SOCKET,
            // DT_UNKNOWN (some file systems): ask lstat, as Go does.
            _ => std::fs::symlink_metadata(format!("{parent}/{name}"))
                .map(|m| FileMode::from_unix(std::os::unix::fs::MetadataExt::mode(&m)) & MODE_TYPE)
                .unwrap_or(FileMode(0)),
        };
        Some(DirEntry {
            parent: parent.to_string(),
            name,
            typ,
        })
    }
}

/// One `getdents64(2)` into `buf`: the bytes filled, 0 at the end.
fn getdents(fd: i32, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: getdents64 writes at most buf.len() bytes of records into buf, which is
        // valid and exclusively ours for the call.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Checks that `name` can be a path (no NUL), as Go's `syscall.BytePtrFromString`.
pub(crate) fn check_path(op: &'static str, name: &str) -> io::Result<()> {
    c_path(name).map(drop).map_err(|e| path_error(op, name, e))
}
