//! The crate's own binaries (examples, workspace programs) that tests run as child
//! processes, built through the cargo running the tests and found where cargo says it put
//! them (`--message-format=json`), so a `CARGO_TARGET_DIR` anywhere works. Go programs:
//! `go_util::go_binary`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// Builds example `name` of this crate with the cargo running the tests (release unless
/// the test binary itself is a debug build) and returns the executable cargo reports.
/// Built once per test process.
pub fn example(name: &str) -> PathBuf {
    cargo_artifact(&["--example", name], name)
}

/// Builds example `name` of workspace package `package` (for the tests of another
/// workspace member, such as the stress tool's, which run cargo in their own directory).
pub fn package_example(package: &str, name: &str) -> PathBuf {
    cargo_artifact(&["--package", package, "--example", name], name)
}

/// Builds binary `bin` of workspace package `package` (release unless the tests are a
/// debug build) and returns its executable.
pub fn package_bin(package: &str, bin: &str) -> PathBuf {
    cargo_artifact(&["--package", package, "--bin", bin], bin)
}

fn cargo_artifact(what: &[&str], name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let key = what.join(" ");
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bin) = built.get(&key) {
        return bin.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("build")
        .args(what)
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("run cargo build");
    assert!(out.status.success(), "cargo build {key} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let bin = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == name)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo build {key} reported no executable"));
    built.insert(key, bin.clone());
    bin
}
