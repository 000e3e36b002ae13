//! File serving: Go's net/http/fs.go (`FileServer`, `Dir`, `ServeFile`, `serveFile`,
//! `dirList`); `ServeContent` and conditional requests in content.rs, byte ranges in
//! range.rs.
//!
//! Files are opened, stat'ed, listed and read through [`gonet::os`](crate::os), whose
//! calls run on the blocking pool: a coroutine reading a cold file parks (in 32 KiB
//! reads) and its worker thread serves other connections meanwhile.
//!
//! The answers are Go 1.19's, byte for byte (tests/http_fs.rs runs both on one tree).
//! Later Go changed a few: its listings start with `<!doctype html>` and a viewport
//! `<meta>` line, an empty file asked for a Range gets 200 instead of 416, a range
//! answer keeps its Content-Length under a Content-Encoding, and (Go 1.23) error
//! answers drop Cache-Control, Content-Encoding, ETag and Last-Modified. gonet gives Go 1.19's answers
//! for these; `serve_content` with a caller's own headers shows the difference least.

mod content;
mod range;

pub use self::content::{ReadSeek, serve_content};

use self::content::{Cond, check_if_modified_since, serve, set_last_modified, write_not_modified};
use super::handler::{Handler, ResponseWriter, error, html_escape};
use super::request::Request;
use super::status::{
    STATUS_BAD_REQUEST, STATUS_FORBIDDEN, STATUS_INTERNAL_SERVER_ERROR, STATUS_MOVED_PERMANENTLY,
    STATUS_NOT_FOUND,
};
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a [`File`]'s `stat` says (the part of Go's `fs.FileInfo` file serving uses).
///
/// ```
/// use gonet::net::http::{Dir, FileSystem};
/// let info = Dir("/").open("/").unwrap().stat().unwrap();
/// assert!(info.is_dir);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The base name.
    pub name: String,
    /// Length in bytes (regular files).
    pub size: u64,
    /// Modification time, if the file system keeps one.
    pub mod_time: Option<SystemTime>,
    /// Whether it is a directory.
    pub is_dir: bool,
}

/// An entry of a directory listing (Go's `fs.DirEntry`: a name and whether it is a
/// directory, which for a symbolic link is about the link itself).
///
/// ```
/// use gonet::net::http::{Dir, FileSystem};
/// let entries = Dir("/").open("/").unwrap().read_dir().unwrap();
/// assert!(entries.iter().any(|e| e.name == "tmp" && e.is_dir));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name.
    pub name: String,
    /// Whether the entry is a directory.
    pub is_dir: bool,
}

/// A file opened from a [`FileSystem`] (Go's `http.File`): readable, seekable, with a
/// `stat` and, for a directory, its entries. Implement it (with [`FileSystem`]) to serve
/// files that are not on disk.
///
/// ```
/// use gonet::net::http::{self, httptest, DirEntry, File, FileInfo, FileSystem, Handler};
/// use std::io::{self, Cursor, Read, Seek, SeekFrom};
///
/// struct Mem(Cursor<Vec<u8>>);
/// impl Read for Mem { fn read(&mut self, b: &mut [u8]) -> io::Result<usize> { self.0.read(b) } }
/// impl Seek for Mem { fn seek(&mut self, p: SeekFrom) -> io::Result<u64> { self.0.seek(p) } }
/// impl File for Mem {
///     fn stat(&mut self) -> io::Result<FileInfo> {
///         Ok(FileInfo { name: "hello.txt".into(), size: 5, mod_time: None, is_dir: false })
///     }
///     fn read_dir(&mut self) -> io::Result<Vec<DirEntry>> { Ok(Vec::new()) }
/// }
/// struct One;
/// impl FileSystem for One {
///     fn open(&self, name: &str) -> io::Result<Box<dyn File>> {
///         if name != "/hello.txt" { return Err(io::ErrorKind::NotFound.into()); }
///         Ok(Box::new(Mem(Cursor::new(b"hello".to_vec()))))
///     }
/// }
/// let mut rec = httptest::ResponseRecorder::new();
/// http::file_server(One).serve_http(&mut rec, &mut httptest::new_request("GET", "/hello.txt", ""));
/// assert_eq!(rec.body_string(), "hello");
/// ```
pub trait File: Read + Seek + Send {
    /// Go's `Stat`.
    fn stat(&mut self) -> io::Result<FileInfo>;
    /// Every entry of a directory, in any order (Go's `ReadDir(-1)`).
    fn read_dir(&mut self) -> io::Result<Vec<DirEntry>>;
}

/// A collection of named files, slash-separated names whatever the OS (Go's
/// `http.FileSystem`). [`Dir`] is the native file system under a directory.
///
/// ```
/// use gonet::net::http::{Dir, FileSystem};
/// let dir = std::env::temp_dir().join(format!("gonet-fs-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.txt"), "A").unwrap();
/// let mut f = Dir(&dir).open("/a.txt").unwrap();
/// assert_eq!(f.stat().unwrap().size, 1);
/// assert_eq!(Dir(&dir).open("/a.txt/x").err().unwrap().kind(), std::io::ErrorKind::NotFound);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub trait FileSystem: Send + Sync {
    /// Opens `name` (Go's `Open`).
    fn open(&self, name: &str) -> io::Result<Box<dyn File>>;
}

/// The native file system under one directory (Go's `http.Dir`): `Dir("static")`.
/// An empty path means the current directory.
///
/// As in Go, `Dir` follows symbolic links out of its tree and serves dot files (`.git`,
/// `.htpasswd`): do not point it at a directory users can write to.
///
/// ```
/// use gonet::net::http::{Dir, FileSystem};
/// assert!(Dir("/").open("/no-such-file-here").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dir<P: AsRef<Path>>(pub P);

/// A file of a [`Dir`]: a `gonet::os::File` (reads on the blocking pool).
struct OsFile {
    file: crate::os::File,
}

impl Read for OsFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Seek for OsFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// The path as gonet::os takes it; a path that is not UTF-8 cannot come from a URL.
fn os_path(p: &Path) -> io::Result<&str> {
    p.to_str().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "http: invalid or unsafe file path",
        )
    })
}

impl File for OsFile {
    fn stat(&mut self) -> io::Result<FileInfo> {
        let fi = self.file.stat()?;
        Ok(FileInfo {
            name: fi.name().to_string(),
            size: fi.size(),
            mod_time: Some(fi.mod_time()),
            is_dir: fi.is_dir(),
        })
    }

    fn read_dir(&mut self) -> io::Result<Vec<DirEntry>> {
        Ok(self
            .file
            .read_dir(-1)?
            .iter()
            .map(|e| DirEntry {
                name: e.name().to_string(),
                is_dir: e.is_dir(),
            })
            .collect())
    }
}

impl<P: AsRef<Path> + Send + Sync> FileSystem for Dir<P> {
    /// Go's `Dir.Open`: `name` cleaned as a rooted path, joined to the directory. A NUL
    /// byte is refused (`http: invalid or unsafe file path`); a path through a regular
    /// file is "not found", as Go maps ENOTDIR.
    fn open(&self, name: &str) -> io::Result<Box<dyn File>> {
        let clean = super::path::clean(&format!("/{name}"));
        if clean.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "http: invalid or unsafe file path",
            ));
        }
        let dir = self.0.as_ref();
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let full = dir.join(clean.trim_start_matches('/'));
        match crate::os::open(os_path(&full)?) {
            Ok(file) => Ok(Box::new(OsFile { file })),
            Err(e) => Err(map_open_error(e, &full)),
        }
    }
}

/// Go's `mapOpenError`: an error other than not-found or permission (ENOTDIR, say)
/// becomes not-found when some prefix of the path is a regular file.
fn map_open_error(e: io::Error, full: &Path) -> io::Error {
    if matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
    ) {
        return e;
    }
    let mut prefix = PathBuf::new();
    for part in full.components() {
        prefix.push(part);
        let Ok(p) = os_path(&prefix) else { return e };
        match crate::os::stat(p) {
            Err(_) => return e,
            Ok(fi) if !fi.is_dir() => return io::ErrorKind::NotFound.into(),
            Ok(_) => {}
        }
    }
    e
}

/// Go's `toHTTPError`: a message that leaks nothing, and its status.
fn to_http_error(e: &io::Error) -> (&'static str, u16) {
    match e.kind() {
        io::ErrorKind::NotFound => ("404 page not found", STATUS_NOT_FOUND),
        io::ErrorKind::PermissionDenied => ("403 Forbidden", STATUS_FORBIDDEN),
        _ => ("500 Internal Server Error", STATUS_INTERNAL_SERVER_ERROR),
    }
}

/// Go's `localRedirect`: a 301 to a path relative to the request's (so that it works
/// under [`strip_prefix`](super::strip_prefix)), query kept, no body.
fn local_redirect(w: &mut dyn ResponseWriter, r: &Request, new_path: &str) {
    let mut loc = new_path.to_string();
    if !r.url.raw_query.is_empty() {
        loc.push('?');
        loc.push_str(&r.url.raw_query);
    }
    w.header().set("Location", &loc);
    w.write_header(STATUS_MOVED_PERMANENTLY);
}

/// Go's `path.Base`.
fn path_base(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        return "/";
    }
    match p.rfind('/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Go's `dirList`: the entries sorted by name, as `<pre>` links.
fn dir_list(w: &mut dyn ResponseWriter, f: &mut dyn File) {
    let mut dirs = match f.read_dir() {
        Ok(d) => d,
        Err(e) => {
            log::error!("http: error reading directory: {e}");
            error(w, "Error reading directory", STATUS_INTERNAL_SERVER_ERROR);
            return;
        }
    };
    dirs.sort_by(|a, b| a.name.cmp(&b.name));
    w.header().set("Content-Type", "text/html; charset=utf-8");
    let mut body = String::from("<pre>\n");
    for d in &dirs {
        let mut name = d.name.clone();
        if d.is_dir {
            name.push('/');
        }
        // The name may hold '?' or '#': escaped as a URL path, they stay in the path.
        let href = super::mux_core::url_path_string(&name);
        body.push_str(&format!("<a href=\"{href}\">{}</a>\n", html_escape(&name)));
    }
    body.push_str("</pre>\n");
    let _ = w.write(body.as_bytes());
}

/// Go's `serveFile`: `name` is slash-separated.
fn serve_file_in(
    w: &mut dyn ResponseWriter,
    r: &Request,
    fs: &dyn FileSystem,
    name: &str,
    redirect: bool,
) {
    const INDEX_PAGE: &str = "/index.html";

    // .../index.html goes to .../, relative, so that it works under strip_prefix.
    if r.url.path.ends_with(INDEX_PAGE) {
        local_redirect(w, r, "./");
        return;
    }
    let mut f = match fs.open(name) {
        Ok(f) => f,
        Err(e) => {
            let (msg, code) = to_http_error(&e);
            error(w, msg, code);
            return;
        }
    };
    let mut d = match f.stat() {
        Ok(d) => d,
        Err(e) => {
            let (msg, code) = to_http_error(&e);
            error(w, msg, code);
            return;
        }
    };
    if redirect {
        // The canonical path: a slash after a directory, none after a file.
        let url = r.url.path.as_str();
        if d.is_dir {
            if !url.ends_with('/') {
                local_redirect(w, r, &format!("{}/", path_base(url)));
                return;
            }
        } else if url.ends_with('/') {
            local_redirect(w, r, &format!("../{}", path_base(url)));
            return;
        }
    }
    let mut name = name.to_string();
    if d.is_dir {
        let url = r.url.path.as_str();
        if !url.ends_with('/') {
            local_redirect(w, r, &format!("{}/", path_base(url)));
            return;
        }
        // A directory's index.html, if there is one.
        let index = format!("{}{INDEX_PAGE}", name.trim_end_matches('/'));
        if let Ok(mut ff) = fs.open(&index) {
            if let Ok(dd) = ff.stat() {
                name = index;
                d = dd;
                f = ff;
            }
        }
    }
    if d.is_dir {
        // Still a directory: no index.html.
        if check_if_modified_since(r, d.mod_time) == Cond::False {
            write_not_modified(w);
            return;
        }
        set_last_modified(w, d.mod_time);
        dir_list(w, f.as_mut());
        return;
    }
    let _ = name;
    let file_size = d.size;
    serve(
        w,
        r,
        &d.name,
        d.mod_time,
        &mut |_| Ok(file_size),
        &mut Content(f.as_mut()),
    );
}

/// A [`File`] as the `ReadSeek` serve_content reads (no trait upcasting before Rust
/// 1.86).
struct Content<'a>(&'a mut dyn File);

impl Read for Content<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Seek for Content<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

/// Go's `containsDotDot`: a `..` element, with `/` or `\` as separators.
fn contains_dot_dot(v: &str) -> bool {
    v.contains("..") && v.split(['/', '\\']).any(|e| e == "..")
}

/// Replies to `r` with the file or directory `name` (Go's `http.ServeFile`).
///
/// A relative `name` is relative to the current directory and may climb out of it: do
/// not build it from user input unchecked. As a precaution, a request whose path has a
/// `..` element gets `400 invalid URL path`, and one whose path ends in `/index.html` is
/// redirected to the same path without `index.html`. Otherwise the request's path plays
/// no part: `name` alone says what is served.
///
/// ```
/// use gonet::net::http::{self, httptest};
/// let dir = std::env::temp_dir().join(format!("gonet-serve-file-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("hello.json"), "{}").unwrap();
/// let mut rec = httptest::ResponseRecorder::new();
/// let r = httptest::new_request("GET", "/anything", "");
/// http::serve_file(&mut rec, &r, dir.join("hello.json").to_str().unwrap());
/// assert_eq!(rec.result_header().get("Content-Type"), "application/json");
/// assert_eq!(rec.body_string(), "{}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn serve_file(w: &mut dyn ResponseWriter, r: &Request, name: &str) {
    if contains_dot_dot(&r.url.path) {
        // Too many programs build `name` from r.url.path: refuse what may climb out.
        error(w, "invalid URL path", STATUS_BAD_REQUEST);
        return;
    }
    let (dir, file) = match name.rfind('/') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    serve_file_in(w, r, &Dir(dir), file, false);
}

/// A handler serving the files of `root` (Go's `http.FileServer`): index.html for a
/// directory that has one, else a listing; Content-Type by extension or sniffing;
/// Last-Modified and the conditional requests; Range. A path ending in `/index.html`
/// is redirected to its directory, a directory without its slash to the slash.
///
/// ```no_run
/// use gonet::net::http;
/// // http.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir("assets"))))
/// http::handle("/static/", http::strip_prefix("/static/", http::file_server(http::Dir("assets"))));
/// ```
pub fn file_server(root: impl FileSystem + 'static) -> FileServer {
    FileServer {
        root: Box::new(root),
    }
}

/// The handler [`file_server`] returns.
///
/// ```
/// use gonet::net::http::{self, httptest, Handler};
/// let fs: http::FileServer = http::file_server(http::Dir("/"));
/// let mut rec = httptest::ResponseRecorder::new();
/// fs.serve_http(&mut rec, &mut httptest::new_request("GET", "/no-such-file-here", ""));
/// assert_eq!(rec.code, 404);
/// ```
pub struct FileServer {
    root: Box<dyn FileSystem>,
}

impl fmt::Debug for FileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileServer").finish_non_exhaustive()
    }
}

impl Handler for FileServer {
    fn serve_http(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        if !r.url.path.starts_with('/') {
            r.url.path.insert(0, '/');
        }
        let name = super::path::clean(&r.url.path);
        serve_file_in(w, r, self.root.as_ref(), &name, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::http::httptest::{ResponseRecorder, new_request};

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn tmp(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("gonet-fs-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::create_dir_all(d.join("withindex")).unwrap();
        std::fs::write(d.join("a.txt"), "hello").unwrap();
        std::fs::write(d.join("b?#<&.html"), "<p>").unwrap();
        std::fs::write(d.join("withindex/index.html"), "<h1>index</h1>").unwrap();
        Tmp(d)
    }

    fn get(fs: &FileServer, target: &str) -> ResponseRecorder {
        let mut rec = ResponseRecorder::new();
        fs.serve_http(&mut rec, &mut new_request("GET", target, ""));
        rec
    }

    #[test]
    fn serves_files_listings_and_go_redirects() {
        let t = tmp("serve");
        let fs = file_server(Dir(t.0.clone()));
        let rec = get(&fs, "/a.txt");
        assert_eq!((rec.code, rec.body_string().as_str()), (200, "hello"));
        assert_eq!(
            rec.result_header().get("Content-Type"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(rec.result_header().get("Accept-Ranges"), "bytes");
        assert!(!rec.result_header().get("Last-Modified").is_empty());
        let rec = get(&fs, "/");
        assert_eq!(
            rec.body_string(),
            "<pre>\n<a href=\"a.txt\">a.txt</a>\n<a href=\"b%3F%23%3C&.html\">b?#&lt;&amp;.html</a>\n\
             <a href=\"sub/\">sub/</a>\n<a href=\"withindex/\">withindex/</a>\n</pre>\n"
        );
        let rec = get(&fs, "/sub");
        assert_eq!(
            (rec.code, rec.result_header().get("Location")),
            (301, "sub/")
        );
        let rec = get(&fs, "/a.txt/?x=1");
        assert_eq!(
            (rec.code, rec.result_header().get("Location")),
            (301, "../a.txt?x=1")
        );
        let rec = get(&fs, "/withindex/");
        assert_eq!(rec.body_string(), "<h1>index</h1>");
        let rec = get(&fs, "/withindex/index.html");
        assert_eq!((rec.code, rec.result_header().get("Location")), (301, "./"));
        let rec = get(&fs, "/missing");
        assert_eq!(
            (rec.code, rec.body_string().as_str()),
            (404, "404 page not found\n")
        );
        let rec = get(&fs, "/a.txt/x");
        assert_eq!(rec.code, 404);
        let rec = get(&fs, "/../a.txt");
        assert_eq!(rec.code, 200);
    }

    #[test]
    fn serve_file_refuses_dot_dot() {
        let t = tmp("dotdot");
        let mut rec = ResponseRecorder::new();
        let r = new_request("GET", "/x/../a.txt", "");
        serve_file(&mut rec, &r, t.0.join("a.txt").to_str().unwrap());
        assert_eq!(
            (rec.code, rec.body_string().as_str()),
            (400, "invalid URL path\n")
        );
        assert!(contains_dot_dot("a\\..\\b"));
        assert!(!contains_dot_dot("/a..b/"));
    }

    #[test]
    fn bases_paths_as_go_does() {
        for (p, want) in [
            ("", "."),
            ("/", "/"),
            ("/a/b", "b"),
            ("/a/b/", "b"),
            ("a", "a"),
            ("//", "/"),
        ] {
            assert_eq!(path_base(p), want, "{p:?}");
        }
    }
}
