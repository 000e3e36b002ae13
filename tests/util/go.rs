//! Running real Go next to gonet: locate the `go` tool, run a Go program, read its JSON.
//!
//! Include from a test file with `#[path = "util/go.rs"] mod go_util;`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The crate's root directory (where Cargo.toml is), whatever the working directory is.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `go` tool: `$GO` if set, else the first `go` on `PATH`. Panics with installation
/// advice if there is none: the parity tests compare against live Go and do not skip.
pub fn go_tool() -> PathBuf {
    if let Some(go) = std::env::var_os("GO").filter(|g| !g.is_empty()) {
        return PathBuf::from(go);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("go");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "the Go toolchain is not on PATH: this test compares gonet with real Go. \
         Install it (`apt-get install -y golang-go` on Debian/Ubuntu; CI installs it) \
         or point $GO at a `go` binary"
    );
}

/// Builds the Go program `src` (a file or package directory, relative to the crate root)
/// with `go build` into cargo's scratch directory for tests (`CARGO_TARGET_TMPDIR`, under
/// whatever target directory cargo uses), once per test process.
pub fn go_binary(src: &str) -> PathBuf {
    build_go(src, None)
}

/// Where Debian's packaged Go libraries live (`golang-*-dev` packages).
pub const DEBIAN_GOPATH: &str = "/usr/share/gocode";

/// [`go_binary`] for a program that imports Go libraries from Debian packages (`lib` is
/// the import path, e.g. `github.com/pires/go-proxyproto`, packaged as
/// `golang-github-pires-go-proxyproto-dev`): built in GOPATH mode against
/// [`DEBIAN_GOPATH`], so nothing is downloaded. Panics with the package to install if
/// the library is missing.
pub fn go_binary_with_debian_lib(src: &str, lib: &str) -> PathBuf {
    let dir = Path::new(DEBIAN_GOPATH).join("src").join(lib);
    if !dir.is_dir() {
        let pkg = format!(
            "golang-{}-dev",
            lib.trim_end_matches(".com")
                .replace("golang.org/x/", "golang-x-") // golang-golang-x-sync-dev
                .replace(".com/", "-")
                .replace(['/', '.'], "-")
        );
        panic!(
            "{} is missing: this test runs a Go program built on {lib}. Install it \
             (`apt-get install -y {pkg}` on Debian; CI installs it)",
            dir.display()
        );
    }
    build_go(src, Some(DEBIAN_GOPATH))
}

fn build_go(src: &str, gopath: Option<&str>) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bin) = built.get(src) {
        return bin.clone();
    }
    // The whole path in the name: many programs are tests/go/NAME/main.go, and one
    // output per stem would let them overwrite each other.
    let name = src
        .trim_end_matches(".go")
        .trim_matches('/')
        .replace(['/', '.'], "_");
    let name = if name.is_empty() {
        "go-program".to_string()
    } else {
        name
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go").join(name);
    let mut cmd = Command::new(go_tool());
    cmd.current_dir(manifest_dir());
    if let Some(gopath) = gopath {
        // GOPATH mode: imports come from $GOPATH/src, and nothing is fetched.
        cmd.env("GO111MODULE", "off")
            .env("GOPATH", gopath)
            .env("GOFLAGS", "");
    }
    let status = cmd
        .args(["build", "-o"])
        .arg(&out)
        .arg(src)
        .status()
        .expect("run go build");
    assert!(status.success(), "go build {src} failed");
    built.insert(src.to_string(), out.clone());
    out
}

/// `go run <file> <args>` with the crate root as working directory, `stdin` fed to the
/// program; returns its stdout. Panics with Go's stderr if it fails.
pub fn go_run(file: &Path, args: &[&str], stdin: &[u8]) -> String {
    let go = go_tool();
    let mut child = Command::new(&go)
        .arg("run")
        .arg(file)
        .args(args)
        .current_dir(manifest_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", go.display()));
    // Go reads all of stdin before it exits, and our inputs are small: write, then wait.
    let mut pipe = child.stdin.take().expect("stdin is piped");
    pipe.write_all(stdin)
        .unwrap_or_else(|e| panic!("writing to `go run {}`: {e}", file.display()));
    drop(pipe);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for `go run {}`: {e}", file.display()));
    if !out.status.success() {
        panic!(
            "`{} run {}` failed ({}):\n{}",
            go.display(),
            file.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("Go printed UTF-8")
}

/// A value in a flat JSON object as Go's encoding/json prints it for our tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    /// A JSON string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Bool(b) => write!(f, "{b}"),
            Json::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

/// An object's fields in the order Go printed them.
pub type Record = Vec<(String, Json)>;

/// Renders fields as a JSON object, `{"k":v,...}`, in the given order.
pub fn render(fields: &[(String, Json)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", Json::Str(k.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Parses one line of Go's JSON output: a flat object whose values are strings or booleans
/// (all our Go tools print). Panics on anything else, naming the line.
pub fn parse_flat_object(line: &str) -> Record {
    let mut p = Parser {
        s: line.as_bytes(),
        i: 0,
        line,
    };
    let mut fields = Vec::new();
    p.expect(b'{');
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            let key = p.string();
            p.expect(b':');
            let value = match p.peek() {
                Some(b'"') => Json::Str(p.string()),
                Some(b't') => p.word("true", Json::Bool(true)),
                Some(b'f') => p.word("false", Json::Bool(false)),
                _ => p.fail("a string or a boolean"),
            };
            fields.push((key, value));
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => p.fail("',' or '}'"),
            }
        }
    }
    if p.i != p.s.len() {
        p.fail("the end of the line");
    }
    fields
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: &'a str,
}

impl Parser<'_> {
    fn fail(&self, want: &str) -> ! {
        panic!(
            "bad JSON from Go at byte {}: want {want} in {:?}",
            self.i, self.line
        )
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        self.i += 1;
        b
    }
    fn expect(&mut self, b: u8) {
        if self.next() != Some(b) {
            self.fail(&format!("{:?}", b as char));
        }
    }
    fn word(&mut self, w: &str, v: Json) -> Json {
        if !self.s[self.i..].starts_with(w.as_bytes()) {
            self.fail(w);
        }
        self.i += w.len();
        v
    }
    fn hex4(&mut self) -> u32 {
        let Some(h) = self.line.get(self.i..self.i + 4) else {
            self.fail("4 hex digits")
        };
        let Ok(v) = u32::from_str_radix(h, 16) else {
            self.fail("4 hex digits")
        };
        self.i += 4;
        v
    }
    fn string(&mut self) -> String {
        self.expect(b'"');
        let mut out = String::new();
        loop {
            let start = self.i;
            while !matches!(self.peek(), Some(b'"' | b'\\') | None) {
                self.i += 1;
            }
            out.push_str(&self.line[start..self.i]);
            match self.next() {
                Some(b'"') => return out,
                Some(b'\\') => {}
                _ => self.fail("a closing '\"'"),
            }
            let c = match self.next() {
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'u') => {
                    let mut cp = self.hex4();
                    if (0xd800..0xdc00).contains(&cp) && self.s[self.i..].starts_with(b"\\u") {
                        self.i += 2;
                        let lo = self.hex4();
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo.wrapping_sub(0xdc00) & 0x3ff);
                    }
                    char::from_u32(cp).unwrap_or('\u{fffd}')
                }
                _ => self.fail("an escape"),
            };
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_go_prints() {
        let r = parse_flat_object(
            r#"{"op":"listen","ok":false,"err":"a \"q\" \\ \u003c\u00e9 \ud83d\ude00"}"#,
        );
        assert_eq!(
            r,
            vec![
                ("op".into(), Json::Str("listen".into())),
                ("ok".into(), Json::Bool(false)),
                ("err".into(), Json::Str("a \"q\" \\ <é 😀".into())),
            ]
        );
        assert_eq!(parse_flat_object(&render(&r)), r);
    }
}
