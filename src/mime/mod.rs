//! Go's `mime` package, the part a file server needs: [`type_by_extension`] and
//! [`add_extension_type`] (type.go, type_unix.go).
//!
//! The table starts as Go's: its built-in types first (`.html` is
//! `text/html; charset=utf-8`, `.js` is `text/javascript; charset=utf-8`, ...), then the
//! system's shared MIME database (`/usr/local/share/mime/globs2`, else
//! `/usr/share/mime/globs2`), which only adds extensions the built-ins lack; without one,
//! the `mime.types` files (`/etc/mime.types`, `/etc/apache2/mime.types`,
//! `/etc/apache/mime.types`, `/etc/httpd/conf/mime.types`), which may override them.
//! So gonet and a Go program on the same machine answer the same, extension for
//! extension. A `text/` type without a charset gets `; charset=utf-8`, as in Go.
//!
//! ```
//! assert_eq!(gonet::mime::type_by_extension(".html"), "text/html; charset=utf-8");
//! assert_eq!(gonet::mime::type_by_extension(".PNG"), "image/png");
//! assert_eq!(gonet::mime::type_by_extension(".no-such-extension"), "");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{OnceLock, RwLock};

/// Go's `builtinTypesLower` (Go 1.19's list, which later Go keeps).
const BUILTIN: &[(&str, &str)] = &[
    (".avif", "image/avif"),
    (".css", "text/css; charset=utf-8"),
    (".gif", "image/gif"),
    (".htm", "text/html; charset=utf-8"),
    (".html", "text/html; charset=utf-8"),
    (".jpeg", "image/jpeg"),
    (".jpg", "image/jpeg"),
    (".js", "text/javascript; charset=utf-8"),
    (".json", "application/json"),
    (".mjs", "text/javascript; charset=utf-8"),
    (".pdf", "application/pdf"),
    (".png", "image/png"),
    (".svg", "image/svg+xml"),
    (".wasm", "application/wasm"),
    (".webp", "image/webp"),
    (".xml", "text/xml; charset=utf-8"),
];

/// Go's `mimeGlobs`.
const MIME_GLOBS: &[&str] = &["/usr/local/share/mime/globs2", "/usr/share/mime/globs2"];

/// Go's `typeFiles`.
const TYPE_FILES: &[&str] = &[
    "/etc/mime.types",
    "/etc/apache2/mime.types",
    "/etc/apache/mime.types",
    "/etc/httpd/conf/mime.types",
];

#[derive(Default)]
struct Tables {
    /// Case-sensitive: extension as registered.
    exact: HashMap<String, String>,
    /// Lower-cased extension.
    lower: HashMap<String, String>,
}

fn tables() -> &'static RwLock<Tables> {
    static T: OnceLock<RwLock<Tables>> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Tables::default();
        for (ext, typ) in BUILTIN {
            t.exact.insert(ext.to_string(), typ.to_string());
            t.lower.insert(ext.to_string(), typ.to_string());
        }
        init_mime_unix(&mut t);
        RwLock::new(t)
    })
}

/// Go's `initMimeUnix`: the first globs2 file that opens, else every mime.types file.
/// Read once, at the first lookup (Go reads them at its first lookup too), with
/// `std::fs` on the calling thread: this runs inside the table's `OnceLock`, and a
/// coroutine that parked there (as a gonet::os read on the blocking pool would) could
/// leave every worker thread waiting on the lock for the parked coroutine.
fn init_mime_unix(t: &mut Tables) {
    let read = |f: &str| std::fs::read_to_string(f).ok();
    for f in MIME_GLOBS {
        if let Some(text) = read(f) {
            load_mime_globs(t, &text);
            return;
        }
    }
    for f in TYPE_FILES {
        if let Some(text) = read(f) {
            load_mime_file(t, &text);
        }
    }
}

/// Go's `loadMimeGlobsFile`: lines `weight:type:*.ext[:...]`, in weight order, the
/// first entry for an extension winning (and never over a built-in).
fn load_mime_globs(t: &mut Tables, text: &str) {
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 3 || fields[0].is_empty() || fields[2].len() < 3 {
            continue;
        }
        if fields[0].starts_with('#') || !fields[2].starts_with("*.") {
            continue;
        }
        let ext = &fields[2][1..];
        if ext.contains(['?', '*', '[']) || t.exact.contains_key(ext) {
            continue;
        }
        let _ = set_extension_type(t, ext, fields[1]);
    }
}

/// Go's `loadMimeFile`: lines `type ext ext ...`, `#` comments.
fn load_mime_file(t: &mut Tables, text: &str) {
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() <= 1 || fields[0].starts_with('#') {
            continue;
        }
        for ext in &fields[1..] {
            if ext.starts_with('#') {
                break;
            }
            let _ = set_extension_type(t, &format!(".{ext}"), fields[0]);
        }
    }
}

/// Go's `setExtensionType`: the type checked and normalised (lower case, `text/`
/// types get `charset=utf-8`), stored under the extension and its lower case.
fn set_extension_type(t: &mut Tables, ext: &str, mime_type: &str) -> io::Result<()> {
    let typ = normalize(mime_type)?;
    t.exact.insert(ext.to_string(), typ.clone());
    t.lower.insert(ext.to_lowercase(), typ);
    Ok(())
}

/// The error of a MIME type that does not parse (Go's `mime: no media type`,
/// `mime: expected slash after first token`, `mime: invalid media parameter`, ...).
///
/// ```
/// let e = gonet::mime::add_extension_type(".x", "not-a-type").unwrap_err();
/// let me = e.get_ref().and_then(|e| e.downcast_ref::<gonet::mime::MimeError>()).unwrap();
/// assert_eq!(me.to_string(), "mime: expected slash after first token");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MimeError(String);

impl fmt::Display for MimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MimeError {}

fn mime_err(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, MimeError(msg.to_string()))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// Go's `ParseMediaType` then `FormatMediaType`, for the simple `type/subtype;
/// key=value` forms mime tables hold: lower-cased, parameters sorted, and a charset
/// added to `text/` types.
fn normalize(v: &str) -> io::Result<String> {
    let mut parts = v.split(';');
    let base = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if base.is_empty() {
        return Err(mime_err("mime: no media type"));
    }
    let Some((major, minor)) = base.split_once('/') else {
        return Err(mime_err("mime: expected slash after first token"));
    };
    if !is_token(major) || !is_token(minor) {
        return Err(mime_err("mime: expected token after slash"));
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let Some((k, val)) = p.split_once('=') else {
            return Err(mime_err("mime: invalid media parameter"));
        };
        let (k, val) = (k.trim().to_ascii_lowercase(), val.trim().trim_matches('"'));
        if !is_token(&k) {
            return Err(mime_err("mime: invalid media parameter"));
        }
        params.retain(|(pk, _)| pk != &k);
        params.push((k, val.to_string()));
    }
    if base.starts_with("text/") && !params.iter().any(|(k, _)| k == "charset") {
        params.push(("charset".into(), "utf-8".into()));
    }
    params.sort();
    let mut out = base;
    for (k, val) in params {
        out.push_str("; ");
        out.push_str(&k);
        out.push('=');
        if is_token(&val) {
            out.push_str(&val);
        } else {
            out.push('"');
            out.push_str(&val.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
    }
    Ok(out)
}

/// Go's `mime.TypeByExtension`: the MIME type of a file extension (with its leading
/// dot), "" if unknown. The lookup is case-sensitive first, then case-insensitive.
///
/// ```
/// assert_eq!(gonet::mime::type_by_extension(".css"), "text/css; charset=utf-8");
/// assert_eq!(gonet::mime::type_by_extension(".Js"), "text/javascript; charset=utf-8");
/// ```
pub fn type_by_extension(ext: &str) -> String {
    let t = tables().read().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = t.exact.get(ext) {
        return v.clone();
    }
    t.lower
        .get(&ext.to_lowercase())
        .cloned()
        .unwrap_or_default()
}

/// Go's `mime.AddExtensionType`: sets the type of an extension (which must start with
/// a dot), for this process.
///
/// ```
/// gonet::mime::add_extension_type(".gonet", "text/x-gonet").unwrap();
/// assert_eq!(gonet::mime::type_by_extension(".gonet"), "text/x-gonet; charset=utf-8");
/// let e = gonet::mime::add_extension_type("gonet", "text/plain").unwrap_err();
/// assert_eq!(e.to_string(), "mime: extension \"gonet\" missing leading dot");
/// ```
pub fn add_extension_type(ext: &str, typ: &str) -> io::Result<()> {
    if !ext.starts_with('.') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            MimeError(format!("mime: extension {ext:?} missing leading dot")),
        ));
    }
    let mut t = tables().write().unwrap_or_else(|e| e.into_inner());
    set_extension_type(&mut t, ext, typ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_win_over_globs_and_types_files_override() {
        let mut t = Tables::default();
        for (ext, typ) in BUILTIN {
            t.exact.insert(ext.to_string(), typ.to_string());
            t.lower.insert(ext.to_string(), typ.to_string());
        }
        load_mime_globs(
            &mut t,
            "# comment\n50:application/javascript:*.js\n50:text/x-c:*.c\n40:text/x-c2:*.c\n\
             50:image/x-odd:*.[ch]\n10:text/plain:README\n",
        );
        assert_eq!(t.exact[".js"], "text/javascript; charset=utf-8");
        assert_eq!(t.exact[".c"], "text/x-c; charset=utf-8");
        assert!(!t.exact.contains_key(".[ch]"));
        load_mime_file(
            &mut t,
            "application/javascript js mjs # x\n# text/y y\nimage/X-Icon ico\n",
        );
        assert_eq!(t.exact[".js"], "application/javascript");
        assert_eq!(t.exact[".ico"], "image/x-icon");
        assert!(!t.exact.contains_key(".y"));
    }

    #[test]
    fn normalizes_as_go_formats() {
        assert_eq!(normalize("Text/HTML").unwrap(), "text/html; charset=utf-8");
        assert_eq!(
            normalize("text/plain; charset=latin1").unwrap(),
            "text/plain; charset=latin1"
        );
        assert_eq!(
            normalize("a/b; Z=1; a=\"x y\"").unwrap(),
            "a/b; a=\"x y\"; z=1"
        );
        assert!(normalize("nonsense").is_err());
        assert!(normalize("").is_err());
    }
}
