//! `File` and the calls that open, read and write whole files.
//!
//! Go: `src/os/file.go`, `file_unix.go`, `file_posix.go`, `tempfile.go`. Every system
//! call that can block on the disk (open, read, write, fstat, fsync, close, ...) runs
//! through [`crate::runtime::blocking`], so a coroutine reading a file on a slow disk, a
//! network file system or a FIFO parks, and its worker thread goes on serving sockets. A
//! call from a plain thread just makes the system call.

use std::ffi::CString;
use std::io::{self, IoSlice, IoSliceMut, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::os::dir::DirReader;
use crate::os::error::{ErrClosed, ErrFileClosing, path_error};
use crate::os::types::{FileInfo, FileMode};
use crate::runtime::blocking;

/// Open for reading only. Go: `os.O_RDONLY`.
pub const O_RDONLY: i32 = libc::O_RDONLY;
/// Open for writing only. Go: `os.O_WRONLY`.
pub const O_WRONLY: i32 = libc::O_WRONLY;
/// Open for reading and writing. Go: `os.O_RDWR`.
pub const O_RDWR: i32 = libc::O_RDWR;
/// Append to the file when writing. Go: `os.O_APPEND`.
pub const O_APPEND: i32 = libc::O_APPEND;
/// Create the file if it does not exist. Go: `os.O_CREATE`.
pub const O_CREATE: i32 = libc::O_CREAT;
/// With [`O_CREATE`]: the file must not exist. Go: `os.O_EXCL`.
pub const O_EXCL: i32 = libc::O_EXCL;
/// Synchronous writes. Go: `os.O_SYNC`.
pub const O_SYNC: i32 = libc::O_SYNC;
/// Truncate a regular writable file when opened. Go: `os.O_TRUNC`.
pub const O_TRUNC: i32 = libc::O_TRUNC;

/// Go's `maxRW` (internal/poll): the most one read or write system call is asked for.
const MAX_RW: usize = 1 << 30;

/// An open file.
///
/// Go: `*os.File`. Every method takes `&self` and may be called from several coroutines
/// at once, as in Go; [`close`](File::close) makes later calls fail with
/// [`ErrClosed`](crate::os::ErrClosed) and the descriptor is released when calls in
/// progress have returned. The std traits (`Read`, `Write`, `Seek`) are implemented for
/// `File` and `&File`, so `std::io::copy`, `BufReader` and friends work. Dropping a
/// `File` closes it.
///
/// ```
/// use std::io::Read;
/// let dir = gonet::os::mkdir_temp("", "doc").unwrap();
/// let path = format!("{dir}/greeting");
/// let h = gonet::go!(move || {
///     let f = gonet::os::create(&path)?; // f, err := os.Create(path)
///     f.write_string("hello, gopher")?;
///     f.close()?;
///     let mut s = String::new();
///     gonet::os::open(&path)?.read_to_string(&mut s)?;
///     std::io::Result::Ok(s)
/// });
/// assert_eq!(h.join().unwrap().unwrap(), "hello, gopher");
/// gonet::os::remove_all(&dir).unwrap();
/// ```
pub struct File {
    name: String,
    fd: Mutex<Option<Arc<OwnedFd>>>,
    append: bool,
    /// The directory stream of [`File::read_dir`], made on first use.
    pub(crate) dir: may::sync::Mutex<Option<DirReader>>,
}

impl File {
    fn from_fd(fd: OwnedFd, name: &str, append: bool) -> File {
        File {
            name: name.to_string(),
            fd: Mutex::new(Some(Arc::new(fd))),
            append,
            dir: may::sync::Mutex::new(None),
        }
    }

    /// The name the file was opened with. Go: `File.Name`.
    ///
    /// ```
    /// let f = gonet::os::open("/etc/hostname").unwrap();
    /// assert_eq!(f.name(), "/etc/hostname");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<OwnedFd>>> {
        self.fd.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The descriptor for one call, or Go's error for a closed file.
    pub(crate) fn descriptor(&self, op: &'static str) -> io::Result<Arc<OwnedFd>> {
        match self.slot().as_ref() {
            Some(fd) => Ok(fd.clone()),
            None => Err(path_error(op, &self.name, ErrClosed.into())),
        }
    }

    fn err(&self, op: &'static str, e: io::Error) -> io::Error {
        path_error(op, &self.name, e)
    }

    /// Reads up to `buf.len()` bytes; `Ok(0)` at the end of the file (Go: `0, io.EOF`).
    ///
    /// Go: `File.Read`.
    ///
    /// ```
    /// let f = gonet::os::open("/etc/hostname").unwrap();
    /// let mut buf = [0u8; 4096];
    /// let n = f.read(&mut buf).unwrap();
    /// assert_eq!(&buf[..n], std::fs::read("/etc/hostname").unwrap());
    /// assert_eq!(f.read(&mut buf).unwrap(), 0); // the end: Go's io.EOF
    /// ```
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.descriptor("read")?;
        if buf.is_empty() {
            return Ok(0);
        }
        blocking(|| sys_read(fd.as_raw_fd(), buf)).map_err(|e| self.err("read", e))
    }

    /// Reads from offset `off` until `buf` is full or the file ends, without moving the
    /// file offset; returns how many bytes were read (fewer than `buf.len()` only at the
    /// end of the file, where Go would add `io.EOF`).
    ///
    /// Go: `File.ReadAt`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.write(b"hello").unwrap();
    /// let mut buf = [0u8; 8];
    /// assert_eq!(f.read_at(&mut buf, 1).unwrap(), 4);
    /// assert_eq!(&buf[..4], b"ello");
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<usize> {
        let fd = self.descriptor("read")?;
        blocking(|| {
            let mut done = 0;
            while done < buf.len() {
                let at = off.saturating_add(done as u64);
                match sys_pread(fd.as_raw_fd(), &mut buf[done..], at) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(e) => return Err(e),
                }
            }
            Ok(done)
        })
        .map_err(|e| self.err("read", e))
    }

    /// Writes all of `buf` (several system calls if need be) and returns `buf.len()`; on
    /// an error after part of it was written, returns the part (the next call reports the
    /// error), as std's `Write` does where Go returns both.
    ///
    /// Go: `File.Write`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// assert_eq!(f.write(b"data").unwrap(), 4);
    /// assert_eq!(gonet::os::read_file(f.name()).unwrap(), b"data");
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.descriptor("write")?;
        blocking(|| write_all_or_part(buf, |b| sys_write(fd.as_raw_fd(), b)))
            .map_err(|e| self.err("write", e))
    }

    /// Writes `s`. Go: `File.WriteString`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.write_string("text").unwrap();
    /// assert_eq!(gonet::os::read_file(f.name()).unwrap(), b"text");
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn write_string(&self, s: &str) -> io::Result<usize> {
        self.write(s.as_bytes())
    }

    /// Writes all of `buf` at offset `off`, without moving the file offset. A file opened
    /// with [`O_APPEND`] refuses, as in Go.
    ///
    /// Go: `File.WriteAt`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.write(b"hello").unwrap();
    /// f.write_at(b"J", 0).unwrap();
    /// assert_eq!(gonet::os::read_file(f.name()).unwrap(), b"Jello");
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn write_at(&self, buf: &[u8], off: u64) -> io::Result<usize> {
        let fd = self.descriptor("write")?;
        if self.append {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "os: invalid use of WriteAt on file opened with O_APPEND",
            ));
        }
        let mut at = off;
        blocking(|| {
            write_all_or_part(buf, |b| {
                let n = sys_pwrite(fd.as_raw_fd(), b, at)?;
                at = at.saturating_add(n as u64);
                Ok(n)
            })
        })
        .map_err(|e| self.err("write", e))
    }

    /// Sets the offset of the next read or write and returns the new offset. Seeking
    /// also restarts [`read_dir`](File::read_dir) on a directory.
    ///
    /// Go: `File.Seek` (with `io.SeekStart`, `io.SeekCurrent`, `io.SeekEnd` as `SeekFrom`).
    ///
    /// ```
    /// use std::io::SeekFrom;
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.write(b"hello").unwrap();
    /// assert_eq!(f.seek(SeekFrom::Start(1)).unwrap(), 1);
    /// assert_eq!(f.seek(SeekFrom::End(-1)).unwrap(), 4);
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn seek(&self, pos: SeekFrom) -> io::Result<u64> {
        let fd = self.descriptor("seek")?;
        let (off, whence) = match pos {
            SeekFrom::Start(n) => (i64::try_from(n).unwrap_or(i64::MAX), libc::SEEK_SET),
            SeekFrom::Current(n) => (n, libc::SEEK_CUR),
            SeekFrom::End(n) => (n, libc::SEEK_END),
        };
        self.dir_reset();
        // lseek(2) only moves a number in the kernel: it never waits on the disk.
        // SAFETY: lseek has no memory arguments; the descriptor is open while `fd` lives.
        let r = unsafe { libc::lseek(fd.as_raw_fd(), off, whence) };
        if r < 0 {
            return Err(self.err("seek", io::Error::last_os_error()));
        }
        Ok(r as u64)
    }

    /// Describes the file. Go: `File.Stat`.
    ///
    /// ```
    /// let fi = gonet::os::open("/etc/hostname").unwrap().stat().unwrap();
    /// assert_eq!(fi.name(), "hostname");
    /// ```
    pub fn stat(&self) -> io::Result<FileInfo> {
        let fd = self
            .descriptor("stat")
            .map_err(|_| path_error("stat", &self.name, ErrFileClosing.into()))?;
        let meta = blocking(|| fstat(&fd)).map_err(|e| self.err("stat", e))?;
        Ok(FileInfo::new(&self.name, meta))
    }

    /// Commits the file's contents to stable storage (`fsync`). Go: `File.Sync`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.write(b"durable").unwrap();
    /// f.sync().unwrap();
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn sync(&self) -> io::Result<()> {
        let fd = self.descriptor("sync")?;
        // SAFETY: fsync has no memory arguments; the descriptor is open while `fd` lives.
        blocking(|| cvt(|| unsafe { libc::fsync(fd.as_raw_fd()) }))
            .map(drop)
            .map_err(|e| self.err("sync", e))
    }

    /// Changes the size of the file. Go: `File.Truncate`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.write(b"hello").unwrap();
    /// f.truncate(2).unwrap();
    /// assert_eq!(f.stat().unwrap().size(), 2);
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn truncate(&self, size: u64) -> io::Result<()> {
        let fd = self.descriptor("truncate")?;
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        // SAFETY: ftruncate has no memory arguments; the descriptor is open.
        blocking(|| cvt(|| unsafe { libc::ftruncate(fd.as_raw_fd(), size) }))
            .map(drop)
            .map_err(|e| self.err("truncate", e))
    }

    /// Changes the file's mode bits. Go: `File.Chmod`.
    ///
    /// ```
    /// let f = gonet::os::create_temp("", "doc-").unwrap();
    /// f.chmod(gonet::os::FileMode(0o640)).unwrap();
    /// assert_eq!(f.stat().unwrap().mode().to_string(), "-rw-r-----");
    /// gonet::os::remove(f.name()).unwrap();
    /// ```
    pub fn chmod(&self, mode: FileMode) -> io::Result<()> {
        let fd = self.descriptor("chmod")?;
        // SAFETY: fchmod has no memory arguments; the descriptor is open.
        blocking(|| cvt(|| unsafe { libc::fchmod(fd.as_raw_fd(), mode.to_unix()) }))
            .map(drop)
            .map_err(|e| self.err("chmod", e))
    }

    /// Closes the file: later calls fail with [`ErrClosed`](crate::os::ErrClosed) (so does
    /// a second `close`). Calls already running finish first, and the descriptor is
    /// released when the last of them returns (then their close error, if any, is not
    /// reported).
    ///
    /// Go: `File.Close`.
    ///
    /// ```
    /// let f = gonet::os::open("/etc/hostname").unwrap();
    /// f.close().unwrap();
    /// let err = f.close().unwrap_err();
    /// assert_eq!(err.to_string(), "close /etc/hostname: file already closed");
    /// ```
    pub fn close(&self) -> io::Result<()> {
        let fd = self.slot().take();
        let Some(fd) = fd else {
            return Err(self.err("close", ErrClosed.into()));
        };
        self.dir_reset();
        match Arc::try_unwrap(fd) {
            Ok(fd) => {
                let raw = std::mem::ManuallyDrop::new(fd).as_raw_fd();
                // close(2) flushes on some file systems (NFS): it may wait on the server.
                // SAFETY: `raw` was owned by the OwnedFd we just consumed without closing;
                // it is closed exactly once, here.
                blocking(|| unsafe { sys_close(raw) }).map_err(|e| self.err("close", e))
            }
            // A call is running: its handle closes the descriptor when it returns.
            Err(_) => Ok(()),
        }
    }

    /// The descriptor number, or -1 once closed. The `File` still owns it.
    ///
    /// Go: `File.Fd`.
    ///
    /// ```
    /// let f = gonet::os::open("/etc/hostname").unwrap();
    /// assert!(f.fd() >= 0);
    /// f.close().unwrap();
    /// assert_eq!(f.fd(), -1);
    /// ```
    pub fn fd(&self) -> RawFd {
        self.slot().as_ref().map_or(-1, |fd| fd.as_raw_fd())
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("name", &self.name)
            .field("fd", &self.fd())
            .finish()
    }
}

impl io::Read for &File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        File::read(self, buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        match bufs.iter_mut().find(|b| !b.is_empty()) {
            Some(b) => File::read(self, b),
            None => Ok(0),
        }
    }
}

impl io::Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        File::read(self, buf)
    }
}

impl io::Write for &File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        File::write(self, buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(b) => File::write(self, b),
            None => Ok(0),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        File::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for &File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        File::seek(self, pos)
    }
}

impl io::Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        File::seek(self, pos)
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.fd()
    }
}

impl From<std::fs::File> for File {
    /// Wraps a std file; its name is `/proc/self/fd/N`, std keeping none.
    fn from(f: std::fs::File) -> File {
        let fd = OwnedFd::from(f);
        let name = format!("/proc/self/fd/{}", fd.as_raw_fd());
        File::from_fd(fd, &name, false)
    }
}

/// Wraps an open descriptor as a [`File`] named `name`.
///
/// Go: `os.NewFile(fd, name)`.
///
/// ```
/// use std::os::fd::OwnedFd;
/// let fd = OwnedFd::from(std::fs::File::open("/etc/hostname").unwrap());
/// let f = gonet::os::new_file(fd, "/etc/hostname");
/// assert_eq!(f.name(), "/etc/hostname");
/// ```
pub fn new_file(fd: OwnedFd, name: &str) -> File {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    File::from_fd(fd, name, flags >= 0 && flags & libc::O_APPEND != 0)
}

/// Opens `name` for reading.
///
/// Go: `os.Open`.
///
/// ```
/// let err = gonet::os::open("/nope").unwrap_err();
/// assert_eq!(err.to_string(), "open /nope: no such file or directory");
/// ```
pub fn open(name: &str) -> io::Result<File> {
    open_file(name, O_RDONLY, FileMode(0))
}

/// Creates `name` (mode 0666 before the umask), or truncates it if it exists, and opens
/// it for reading and writing.
///
/// Go: `os.Create`.
///
/// ```
/// let dir = gonet::os::mkdir_temp("", "doc").unwrap();
/// let f = gonet::os::create(&format!("{dir}/new")).unwrap();
/// assert_eq!(f.stat().unwrap().size(), 0);
/// gonet::os::remove_all(&dir).unwrap();
/// ```
pub fn create(name: &str) -> io::Result<File> {
    open_file(name, O_RDWR | O_CREATE | O_TRUNC, FileMode(0o666))
}

/// Opens `name` with `flag` ([`O_RDONLY`] ... [`O_TRUNC`], or-ed) and, when it creates
/// the file, mode `perm` (before the umask).
///
/// Go: `os.OpenFile`.
///
/// ```
/// use gonet::os::{open_file, FileMode, O_CREATE, O_EXCL, O_WRONLY};
/// let err = open_file("/", O_WRONLY | O_CREATE | O_EXCL, FileMode(0o600)).unwrap_err();
/// assert_eq!(err.to_string(), "open /: file exists");
/// ```
pub fn open_file(name: &str, flag: i32, perm: FileMode) -> io::Result<File> {
    let fd = blocking(|| sys_open(name, flag, perm)).map_err(|e| path_error("open", name, e))?;
    Ok(File::from_fd(fd, name, flag & O_APPEND != 0))
}

/// Reads the whole file `name`: one trip to the blocking pool for the open, the reads and
/// the close.
///
/// Go: `os.ReadFile`.
///
/// ```
/// let h = gonet::go!(|| gonet::os::read_file("/etc/hostname"));
/// let data = h.join().unwrap().unwrap();
/// assert_eq!(data, std::fs::read("/etc/hostname").unwrap());
/// ```
pub fn read_file(name: &str) -> io::Result<Vec<u8>> {
    blocking(|| {
        let fd = sys_open(name, O_RDONLY, FileMode(0)).map_err(|e| path_error("open", name, e))?;
        // As Go: the size from fstat, plus one byte for the read that sees the end.
        let size = fstat(&fd).map_or(0, |m| {
            usize::try_from(std::os::unix::fs::MetadataExt::size(&m)).unwrap_or(0)
        });
        let mut data = Vec::with_capacity(size.saturating_add(1).max(512));
        loop {
            if data.len() == data.capacity() {
                data.reserve(data.capacity().max(512));
            }
            let spare = data.spare_capacity_mut();
            // SAFETY: u8 has no invalid values and read(2) only writes into the spare
            // capacity it is given; only the bytes it reports are exposed below.
            let spare = unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
            match sys_read(fd.as_raw_fd(), spare) {
                Ok(0) => return Ok(data),
                // SAFETY: read(2) initialised the first n spare bytes.
                Ok(n) => unsafe { data.set_len(data.len() + n) },
                Err(e) => return Err(path_error("read", name, e)),
            }
        }
    })
}

/// Writes `data` to the file `name`, creating it (mode `perm` before the umask) or
/// truncating it first: open, write and close in one trip to the blocking pool.
///
/// Go: `os.WriteFile`.
///
/// ```
/// let dir = gonet::os::mkdir_temp("", "doc").unwrap();
/// let path = format!("{dir}/out");
/// gonet::os::write_file(&path, b"42\n", gonet::os::FileMode(0o644)).unwrap();
/// assert_eq!(gonet::os::read_file(&path).unwrap(), b"42\n");
/// gonet::os::remove_all(&dir).unwrap();
/// ```
pub fn write_file(name: &str, data: impl AsRef<[u8]>, perm: FileMode) -> io::Result<()> {
    let data = data.as_ref();
    blocking(|| {
        let fd = sys_open(name, O_WRONLY | O_CREATE | O_TRUNC, perm)
            .map_err(|e| path_error("open", name, e))?;
        let mut done = 0;
        while done < data.len() {
            match sys_write(fd.as_raw_fd(), &data[done..]) {
                Ok(n) => done += n,
                Err(e) => return Err(path_error("write", name, e)),
            }
        }
        let raw = std::mem::ManuallyDrop::new(fd).as_raw_fd();
        // SAFETY: `raw` came out of an OwnedFd that will not close it; closed once here.
        unsafe { sys_close(raw) }.map_err(|e| path_error("close", name, e))
    })
}

/// The directory for temporary files: `$TMPDIR`, else `/tmp`.
///
/// Go: `os.TempDir`.
///
/// ```
/// assert!(!gonet::os::temp_dir().is_empty());
/// ```
pub fn temp_dir() -> String {
    match std::env::var("TMPDIR") {
        Ok(d) if !d.is_empty() => d,
        _ => "/tmp".to_string(),
    }
}

/// Creates and opens a new file in `dir` (the [`temp_dir`] if empty) whose name is
/// `pattern` with its last `*` (or its end) replaced by a random number; mode 0600.
///
/// Go: `os.CreateTemp`.
///
/// ```
/// let f = gonet::os::create_temp("", "gonet-*.txt").unwrap();
/// assert!(f.name().ends_with(".txt"));
/// gonet::os::remove(f.name()).unwrap();
/// ```
pub fn create_temp(dir: &str, pattern: &str) -> io::Result<File> {
    let (prefix, suffix) = temp_parts(dir, pattern, "createtemp")?;
    for _ in 0..10_000 {
        let name = format!("{prefix}{}{suffix}", next_random());
        match open_file(&name, O_RDWR | O_CREATE | O_EXCL, FileMode(0o600)) {
            Err(e) if crate::os::is_exist(&e) => continue,
            r => return r,
        }
    }
    Err(path_error(
        "createtemp",
        &format!("{prefix}*{suffix}"),
        crate::os::ErrExist.into(),
    ))
}

/// Creates a new directory in `dir` (the [`temp_dir`] if empty) named after `pattern` as
/// [`create_temp`] does, mode 0700, and returns its path.
///
/// Go: `os.MkdirTemp`.
///
/// ```
/// let d = gonet::os::mkdir_temp("", "gonet-").unwrap();
/// assert!(gonet::os::stat(&d).unwrap().is_dir());
/// gonet::os::remove(&d).unwrap();
/// ```
pub fn mkdir_temp(dir: &str, pattern: &str) -> io::Result<String> {
    let (prefix, suffix) = temp_parts(dir, pattern, "mkdirtemp")?;
    for _ in 0..10_000 {
        let name = format!("{prefix}{}{suffix}", next_random());
        match crate::os::mkdir(&name, FileMode(0o700)) {
            Ok(()) => return Ok(name),
            Err(e) if crate::os::is_exist(&e) => continue,
            Err(e) => {
                let dir = if dir.is_empty() {
                    temp_dir()
                } else {
                    dir.to_string()
                };
                if crate::os::is_not_exist(&e) {
                    if let Err(se) = crate::os::stat(&dir) {
                        if crate::os::is_not_exist(&se) {
                            return Err(se);
                        }
                    }
                }
                return Err(e);
            }
        }
    }
    Err(path_error(
        "mkdirtemp",
        &format!("{prefix}*{suffix}"),
        crate::os::ErrExist.into(),
    ))
}

/// Go's `prefixAndSuffix` and `joinPath`: `dir/prefix` and the suffix.
fn temp_parts(dir: &str, pattern: &str, op: &'static str) -> io::Result<(String, String)> {
    if pattern.contains('/') {
        return Err(path_error(
            op,
            pattern,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "pattern contains path separator",
            ),
        ));
    }
    let (prefix, suffix) = match pattern.rfind('*') {
        Some(i) => (&pattern[..i], &pattern[i + 1..]),
        None => (pattern, ""),
    };
    let dir = if dir.is_empty() {
        temp_dir()
    } else {
        dir.to_string()
    };
    let joined = if dir.ends_with('/') {
        format!("{dir}{prefix}")
    } else {
        format!("{dir}/{prefix}")
    };
    Ok((joined, suffix.to_string()))
}

/// A random decimal number, as Go's `nextRandom` (a `uint32` from the runtime's fastrand).
fn next_random() -> String {
    use std::hash::{BuildHasher, Hasher};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS once per process; a counter varies each draw.
    static SEED: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut h = SEED
        .get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    (h.finish() as u32).to_string()
}

impl File {
    fn dir_reset(&self) {
        *self.dir.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

// ---------------------------------------------------------------------------------------
// System calls, EINTR retried (Go: ignoringEINTR), on the calling thread
// ---------------------------------------------------------------------------------------

/// Runs `f` until it stops failing with EINTR; -1 means failure with errno set.
pub(crate) fn cvt<T: Copy + PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        let r = f();
        if r != T::from(-1) {
            return Ok(r);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// `name` as a C string; EINVAL if it holds a NUL byte, as Go's `syscall.BytePtrFromString`.
pub(crate) fn c_path(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

pub(crate) fn sys_open(name: &str, flag: i32, perm: FileMode) -> io::Result<OwnedFd> {
    let path = c_path(name)?;
    let mode = libc::c_uint::from(perm.to_unix());
    // SAFETY: path is NUL-terminated and lives for the call.
    let fd = cvt(|| unsafe { libc::open(path.as_ptr(), flag | libc::O_CLOEXEC, mode) })?;
    // SAFETY: open returned a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn sys_read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for writes of `len` bytes for the call.
    let n = cvt(|| unsafe { libc::read(fd, buf.as_mut_ptr().cast(), len) })?;
    Ok(n as usize)
}

fn sys_pread(fd: RawFd, buf: &mut [u8], off: u64) -> io::Result<usize> {
    let len = buf.len().min(MAX_RW);
    let off = i64::try_from(off).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: buf is valid for writes of `len` bytes for the call.
    let n = cvt(|| unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), len, off) })?;
    Ok(n as usize)
}

fn sys_write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for reads of `len` bytes for the call.
    let n = cvt(|| unsafe { libc::write(fd, buf.as_ptr().cast(), len) })?;
    Ok(n as usize)
}

fn sys_pwrite(fd: RawFd, buf: &[u8], off: u64) -> io::Result<usize> {
    let len = buf.len().min(MAX_RW);
    let off = i64::try_from(off).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: buf is valid for reads of `len` bytes for the call.
    let n = cvt(|| unsafe { libc::pwrite(fd, buf.as_ptr().cast(), len, off) })?;
    Ok(n as usize)
}

/// Writes all of `buf` with `write`, returning the part written if an error stops it
/// after some progress.
fn write_all_or_part(
    buf: &[u8],
    mut write: impl FnMut(&[u8]) -> io::Result<usize>,
) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match write(&buf[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(_) if done > 0 => return Ok(done),
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// fstat(2) through std, which returns a `Metadata`.
pub(crate) fn fstat(fd: &OwnedFd) -> io::Result<std::fs::Metadata> {
    // SAFETY: the std File borrows the descriptor for one fstat and is never dropped
    // (ManuallyDrop), so the descriptor stays owned by `fd`.
    let f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd.as_raw_fd()) });
    f.metadata()
}

/// close(2) of a descriptor nobody else owns. Linux releases the descriptor even when it
/// reports EINTR, so that is not an error (and never retried).
///
/// # Safety
/// `fd` must be open and owned by the caller, and not used again.
unsafe fn sys_close(fd: RawFd) -> io::Result<()> {
    // SAFETY: the caller owns `fd` and gives it up here.
    if unsafe { libc::close(fd) } < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
    Ok(())
}
