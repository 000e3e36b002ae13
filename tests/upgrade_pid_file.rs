//! tableflip's PID file (`Options::pid_file`, written by `ready`): a path gonet cannot
//! name is refused, and nothing is written under another name. In a process of its own,
//! since an Upgrader is one per process.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use gonet::net::tableflip::{Options, Upgrader};

/// A PID file path that is not UTF-8 fails `ready` with an error naming it; the directory
/// it names stays empty (the lossy spelling, `\u{FFFD}.pid`, is not written either).
#[test]
fn ready_refuses_a_pid_file_path_that_is_not_utf8() {
    let dir = std::env::temp_dir().join(format!("gonet-pidfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(OsStr::from_bytes(b"server-\xff.pid"));
    let upg = Upgrader::new(Options {
        pid_file: Some(path.clone()),
        ..Options::default()
    })
    .unwrap();
    let err = upg.ready().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    assert_eq!(
        err.to_string(),
        format!(
            "tableflip: can't write PID file: open {}: path is not valid UTF-8",
            path.display()
        )
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "nothing written: {left:?}");
    std::fs::remove_dir(&dir).unwrap();
}
