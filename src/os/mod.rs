//! Go's `os` package, the parts a server uses: files ([`File`], [`open`], [`create`],
//! [`read_file`], [`write_file`], [`stat`], [`read_dir`], ...), and [`signal`] (Go's
//! `os/signal`).
//!
//! `use gonet::os;` mirrors Go's `import "os"`: `os::read_file(name)` is
//! `os.ReadFile(name)`, and errors print as Go's (`open /nope: no such file or
//! directory`, a [`PathError`] inside the `io::Error`). Every call that can wait on the
//! disk runs on the blocking pool ([`crate::runtime::blocking`]): a coroutine reading a
//! big file, a file on a network file system or a FIFO parks, and its worker thread goes
//! on serving every other connection. Called from a plain thread, the calls just block
//! that thread, as std's do.
//!
//! ```
//! use gonet::os;
//! let h = gonet::go!(|| {
//!     let dir = os::mkdir_temp("", "site")?; // dir, err := os.MkdirTemp("", "site")
//!     os::write_file(&format!("{dir}/index.html"), "<h1>hi</h1>", os::FileMode(0o644))?;
//!     let names: Vec<String> = os::read_dir(&dir)?.iter().map(|e| e.name().to_string()).collect();
//!     let body = os::read_file(&format!("{dir}/index.html"))?;
//!     os::remove_all(&dir)?;
//!     std::io::Result::Ok((names, body))
//! });
//! let (names, body) = h.join().unwrap().unwrap();
//! assert_eq!(names, ["index.html"]);
//! assert_eq!(body, b"<h1>hi</h1>");
//! ```
//!
//! The same module is also where `gonet::signal` lives (its path before this tree
//! followed Go's):
//!
//! ```
//! use gonet::os::signal::Signal;
//! assert_eq!(Signal::INTERRUPT.to_string(), "interrupt");
//! ```

mod dir;
mod error;
mod file;
mod path;
pub(crate) mod rlimit;
pub mod signal;
mod types;

pub use dir::{DirEntry, read_dir};
pub use error::{
    ErrClosed, ErrExist, ErrNotExist, ErrPermission, LinkError, PathError, is_closed, is_exist,
    is_not_exist, is_permission,
};
pub use file::{
    File, O_APPEND, O_CREATE, O_EXCL, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY, create,
    create_temp, mkdir_temp, new_file, open, open_file, read_file, temp_dir, write_file,
};
pub use path::{lstat, mkdir, mkdir_all, remove, remove_all, rename, stat};
pub use types::{
    FileInfo, FileMode, MODE_APPEND, MODE_CHAR_DEVICE, MODE_DEVICE, MODE_DIR, MODE_EXCLUSIVE,
    MODE_IRREGULAR, MODE_NAMED_PIPE, MODE_PERM, MODE_SETGID, MODE_SETUID, MODE_SOCKET, MODE_STICKY,
    MODE_SYMLINK, MODE_TEMPORARY, MODE_TYPE,
};
