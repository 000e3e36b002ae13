//! Calls on paths: `stat`, `lstat`, `mkdir`, `mkdir_all`, `remove`, `remove_all`,
//! `rename`.
//!
//! Go: `src/os/stat.go`, `file.go` (`Mkdir`), `file_unix.go` (`Remove`, `rename`),
//! `path.go` (`MkdirAll`), `removeall_at.go` (`RemoveAll`). Each runs its system calls
//! through the blocking pool, as the file calls do.

use std::io;

use crate::os::dir::check_path;
use crate::os::error::{link_error, path_errno, path_error};
use crate::os::file::{c_path, cvt};
use crate::os::types::{FileInfo, FileMode};
use crate::runtime::blocking;

/// Describes the file `name`, following symbolic links.
///
/// Go: `os.Stat`.
///
/// ```
/// assert!(gonet::os::stat("/etc").unwrap().is_dir());
/// let err = gonet::os::stat("/nope").unwrap_err();
/// assert_eq!(err.to_string(), "stat /nope: no such file or directory");
/// ```
pub fn stat(name: &str) -> io::Result<FileInfo> {
    check_path("stat", name)?;
    let meta = blocking(|| std::fs::metadata(name)).map_err(|e| path_error("stat", name, e))?;
    Ok(FileInfo::new(name, meta))
}

/// Describes the file `name`; a symbolic link is described itself, not followed.
///
/// Go: `os.Lstat`.
///
/// ```
/// let err = gonet::os::lstat("/nope").unwrap_err();
/// assert_eq!(err.to_string(), "lstat /nope: no such file or directory");
/// ```
pub fn lstat(name: &str) -> io::Result<FileInfo> {
    check_path("lstat", name)?;
    let meta =
        blocking(|| std::fs::symlink_metadata(name)).map_err(|e| path_error("lstat", name, e))?;
    Ok(FileInfo::new(name, meta))
}

/// Creates the directory `name` with mode `perm` (before the umask).
///
/// Go: `os.Mkdir`.
///
/// ```
/// let err = gonet::os::mkdir("/", gonet::os::FileMode(0o755)).unwrap_err();
/// assert_eq!(err.to_string(), "mkdir /: file exists");
/// ```
pub fn mkdir(name: &str, perm: FileMode) -> io::Result<()> {
    let path = c_path(name).map_err(|e| path_error("mkdir", name, e))?;
    // SAFETY: path is NUL-terminated and lives for the call.
    blocking(|| cvt(|| unsafe { libc::mkdir(path.as_ptr(), perm.to_unix()) }))
        .map(drop)
        .map_err(|e| path_error("mkdir", name, e))
}

/// Creates the directory `path` and every missing parent, with mode `perm`; nothing to
/// do (and no error) if it is already a directory.
///
/// Go: `os.MkdirAll`.
///
/// ```
/// let base = gonet::os::mkdir_temp("", "doc").unwrap();
/// let deep = format!("{base}/a/b/c");
/// gonet::os::mkdir_all(&deep, gonet::os::FileMode(0o755)).unwrap();
/// assert!(gonet::os::stat(&deep).unwrap().is_dir());
/// gonet::os::remove_all(&base).unwrap();
/// ```
pub fn mkdir_all(path: &str, perm: FileMode) -> io::Result<()> {
    // Fast path: it exists, as a directory (done) or not (an error).
    if let Ok(fi) = stat(path) {
        if fi.is_dir() {
            return Ok(());
        }
        return Err(path_errno("mkdir", path, libc::ENOTDIR));
    }
    // Slow path: the parent first, then this one.
    let bytes = path.as_bytes();
    let mut i = bytes.len();
    while i > 0 && bytes[i - 1] == b'/' {
        i -= 1;
    }
    let mut j = i;
    while j > 0 && bytes[j - 1] != b'/' {
        j -= 1;
    }
    if j > 1 {
        mkdir_all(&path[..j - 1], perm)?;
    }
    if let Err(e) = mkdir(path, perm) {
        // "foo/." and the like: it may be there after all.
        if lstat(path).is_ok_and(|fi| fi.is_dir()) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// Removes the file or empty directory `name`.
///
/// Go: `os.Remove`: `unlink`, then `rmdir`, and of their two errors the one that says
/// what is wrong.
///
/// ```
/// let err = gonet::os::remove("/nope").unwrap_err();
/// assert_eq!(err.to_string(), "remove /nope: no such file or directory");
/// ```
pub fn remove(name: &str) -> io::Result<()> {
    let path = c_path(name).map_err(|e| path_error("remove", name, e))?;
    blocking(|| {
        // SAFETY: path is NUL-terminated and lives for the calls.
        let unlinked = cvt(|| unsafe { libc::unlink(path.as_ptr()) });
        let Err(e) = unlinked else { return Ok(()) };
        // SAFETY: as above.
        let rmdired = cvt(|| unsafe { libc::rmdir(path.as_ptr()) });
        let Err(e1) = rmdired else { return Ok(()) };
        // rmdir of a file says ENOTDIR: then unlink's error is the real one.
        Err(if e1.raw_os_error() == Some(libc::ENOTDIR) {
            e
        } else {
            e1
        })
    })
    .map_err(|e| path_error("remove", name, e))
}

/// Removes `path` and everything under it; nothing to do (and no error) if it does not
/// exist.
///
/// Go: `os.RemoveAll`. Errors name the entry that could not be removed (`unlinkat
/// PATH: ...`); Go names the same entry.
///
/// ```
/// gonet::os::remove_all("/nope/never/there").unwrap();
/// ```
pub fn remove_all(path: &str) -> io::Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    // rmdir refuses ".", and so does Go.
    if path == "." || path.ends_with("/.") {
        return Err(path_errno("RemoveAll", path, libc::EINVAL));
    }
    match remove(path) {
        Ok(()) => return Ok(()),
        Err(e) if crate::os::is_not_exist(&e) => return Ok(()),
        Err(_) => {}
    }
    check_path("unlinkat", path)?;
    blocking(|| remove_tree(std::path::Path::new(path)))
}

/// Depth-first removal for [`remove_all`], on the calling (pool) thread.
fn remove_tree(path: &std::path::Path) -> io::Result<()> {
    let shown = || path.to_string_lossy().into_owned();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(path_error("lstat", &shown(), e)),
    };
    if !meta.is_dir() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(path_error("unlinkat", &shown(), e))
            }
            _ => Ok(()),
        };
    }
    let entries = match std::fs::read_dir(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(path_error("openfdat", &shown(), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| path_error("readdirent", &shown(), e))?;
        remove_tree(&entry.path())?;
    }
    match std::fs::remove_dir(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(path_error("unlinkat", &shown(), e)),
        _ => Ok(()),
    }
}

/// Renames (moves) `old` to `new`, replacing a file at `new`; a directory at `new` is
/// refused with EEXIST, as Go does.
///
/// Go: `os.Rename`.
///
/// ```
/// let err = gonet::os::rename("/nope", "/tmp").unwrap_err();
/// assert_eq!(err.to_string(), "rename /nope /tmp: no such file or directory");
/// ```
pub fn rename(old: &str, new: &str) -> io::Result<()> {
    let (Ok(from), Ok(to)) = (c_path(old), c_path(new)) else {
        return Err(link_error(
            "rename",
            old,
            new,
            io::Error::from_raw_os_error(libc::EINVAL),
        ));
    };
    blocking(|| {
        use std::os::unix::fs::MetadataExt;
        if let Ok(to_meta) = std::fs::symlink_metadata(new) {
            if to_meta.is_dir() {
                // Two errors are possible; a bad `old` is the one Go reports first.
                match std::fs::symlink_metadata(old) {
                    Err(e) => return Err(e),
                    Ok(from_meta) => {
                        let same =
                            from_meta.dev() == to_meta.dev() && from_meta.ino() == to_meta.ino();
                        if old == new || !same {
                            return Err(io::Error::from_raw_os_error(libc::EEXIST));
                        }
                    }
                }
            }
        }
        // SAFETY: both paths are NUL-terminated and live for the call.
        cvt(|| unsafe { libc::rename(from.as_ptr(), to.as_ptr()) }).map(drop)
    })
    .map_err(|e| link_error("rename", old, new, e))
}
