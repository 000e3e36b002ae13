//! gonet::os, Go's file calls: their answers and error texts against live Go 1.19, and
//! the reason they exist, that a coroutine reading a slow file does not stall the
//! connections served by its worker thread.
//!
//! - `texts_match_go`: tests/go/os_file/main.go runs a fixed list of os calls in a fresh
//!   temporary directory and prints one line per case; [`gonet_lines`] runs the same list
//!   through gonet::os (in a coroutine, so every call goes through the blocking pool) and
//!   the lines must be the same, byte for byte.
//! - `read_file_of_a_slow_fifo_does_not_stall_other_connections`: in a child process with
//!   one worker thread, a coroutine reads a FIFO whose writer takes a second to come; an
//!   echo connection served meanwhile keeps answering within milliseconds.
//! - the rest: what Go programs rely on (concurrent use, close while a read runs, std
//!   traits, big files).

#[path = "util/go.rs"]
mod go_util;
mod util;

use std::io::{BufRead, Read, SeekFrom, Write};
use std::time::{Duration, Instant};

use gonet::os::{self, FileMode};
use util::server as server_util;

/// The cases of tests/go/os_file/main.go, through gonet::os, one line each.
fn gonet_lines() -> Vec<String> {
    let d = os::mkdir_temp("", "gonet-os-parity-").expect("mkdir_temp");
    let mut out = Vec::new();
    let mut show = |label: String, r: Result<(), std::io::Error>| {
        let text = match r {
            Ok(()) => "<nil>".to_string(),
            Err(e) => e.to_string(),
        };
        out.push(format!("{label}\t{}", text.replace(&d, "TMP")));
    };
    let f = format!("{d}/f");
    show(
        "write_file".into(),
        os::write_file(&f, b"hello", FileMode(0o644)),
    );

    show("open missing".into(), os::open("/nope").map(drop));
    show("open empty".into(), os::open("").map(drop));
    show("open nul".into(), os::open("a\0b").map(drop));
    show("read_file missing".into(), os::read_file("/nope").map(drop));
    show("read_file dir".into(), os::read_file(&d).map(drop));
    show(
        "write_file dir".into(),
        os::write_file(&d, b"x", FileMode(0o644)),
    );
    show(
        "write_file no parent".into(),
        os::write_file("/nope/x", b"x", FileMode(0o644)),
    );
    show("stat missing".into(), os::stat("/nope").map(drop));
    show(
        "stat under file".into(),
        os::stat(&format!("{f}/x")).map(drop),
    );
    show("lstat missing".into(), os::lstat("/nope").map(drop));
    show("read_dir missing".into(), os::read_dir("/nope").map(drop));
    show("read_dir file".into(), os::read_dir(&f).map(drop));
    show("remove missing".into(), os::remove("/nope"));
    show(
        "rename missing".into(),
        os::rename("/nope", &format!("{d}/x")),
    );
    show("rename onto dir".into(), os::rename(&f, &d));
    show("mkdir exists".into(), os::mkdir(&d, FileMode(0o755)));
    show(
        "mkdir_all under file".into(),
        os::mkdir_all(&format!("{f}/sub"), FileMode(0o755)),
    );
    show(
        "mkdir_all exists".into(),
        os::mkdir_all(&d, FileMode(0o755)),
    );
    show(
        "open_file excl".into(),
        os::open_file(
            &f,
            os::O_CREATE | os::O_EXCL | os::O_WRONLY,
            FileMode(0o644),
        )
        .map(drop),
    );

    let fh = os::open(&f).expect("open");
    show("write read-only".into(), fh.write(b"x").map(drop));
    show(
        "seek negative".into(),
        fh.seek(SeekFrom::Current(-1)).map(drop),
    );
    let mut buf = [0u8; 10];
    let n = fh.read(&mut buf).expect("read");
    show(
        format!("read {n} {:?}", String::from_utf8_lossy(&buf[..n])),
        Ok(()),
    );
    let n = fh.read(&mut buf).expect("read at end");
    show(format!("read at end {n}"), Ok(()));
    let n = fh.read_at(&mut buf, 2).expect("read_at");
    show(
        format!("read_at {n} {:?}", String::from_utf8_lossy(&buf[..n])),
        Ok(()),
    );
    let fi = fh.stat().expect("stat");
    show(
        format!(
            "stat {} {} {} {}",
            fi.name(),
            fi.size(),
            fi.mode(),
            fi.is_dir()
        ),
        Ok(()),
    );
    show("close".into(), fh.close());
    show("close twice".into(), fh.close());
    show("read closed".into(), fh.read(&mut buf).map(drop));
    show("write closed".into(), fh.write(&buf).map(drop));
    show("stat closed".into(), fh.stat().map(drop));
    let err = fh.seek(SeekFrom::Start(0)).unwrap_err();
    let closed = os::is_closed(&err);
    show("seek closed".into(), Err(err));
    show(format!("closed is ErrClosed {closed}"), Ok(()));

    let err = os::open("/nope").unwrap_err();
    show(
        format!(
            "is_not_exist {} {}",
            os::is_not_exist(&err),
            os::is_exist(&err)
        ),
        Ok(()),
    );
    show("ErrNotExist".into(), Err(os::ErrNotExist.into()));
    show("ErrExist".into(), Err(os::ErrExist.into()));
    show("ErrPermission".into(), Err(os::ErrPermission.into()));
    show("ErrClosed".into(), Err(os::ErrClosed.into()));

    let dir_file = os::open(&d).expect("open dir");
    dir_file.chmod(FileMode(0o700)).expect("chmod");
    drop(dir_file);
    let di = os::stat(&d).expect("stat dir");
    show(
        format!("dir mode {} {}", di.mode(), di.mode().perm()),
        Ok(()),
    );
    os::mkdir(&format!("{d}/sub"), FileMode(0o700)).expect("mkdir sub");
    std::os::unix::fs::symlink(&f, format!("{d}/link")).expect("symlink");
    let es = os::read_dir(&d).expect("read_dir");
    show(format!("read_dir {}", es.len()), Ok(()));
    for e in &es {
        let i = e.info().expect("info");
        show(
            format!(
                "entry {} {} {} {}",
                e.name(),
                e.is_dir(),
                e.file_type(),
                i.mode()
            ),
            Ok(()),
        );
    }
    let dh = os::open(&d).expect("open dir");
    show(
        format!(
            "dir read_dir(1) {}",
            dh.read_dir(1).expect("read_dir(1)").len()
        ),
        Ok(()),
    );
    show(
        format!(
            "dir read_dir(5) {}",
            dh.read_dir(5).expect("read_dir(5)").len()
        ),
        Ok(()),
    );
    dh.close().expect("close dir");

    let fw = os::create(&f).expect("create");
    let n = fw.write_string("abc").expect("write_string");
    show(format!("write_string {n}"), Ok(()));
    let n = fw.read(&mut buf).expect("read");
    show(format!("create is read-write: read at end {n}"), Ok(()));
    fw.close().expect("close");
    let b = os::read_file(&f).expect("read_file");
    show(
        format!("read_file {:?}", String::from_utf8_lossy(&b)),
        Ok(()),
    );
    show("remove non-empty dir".into(), os::remove(&d));
    show("remove_all missing".into(), os::remove_all("/nope/never"));
    show("remove_all dot".into(), os::remove_all(&format!("{d}/.")));
    show(
        "mkdir_temp separator".into(),
        os::mkdir_temp(&d, "a/b").map(drop),
    );
    let err = os::create_temp("/nope", "x").unwrap_err();
    show(
        format!("create_temp missing dir {}", os::is_not_exist(&err)),
        Ok(()),
    );
    os::remove_all(&d).expect("remove_all");
    out
}

#[test]
fn texts_match_go() {
    let go = go_util::go_binary("tests/go/os_file/main.go");
    let out = std::process::Command::new(&go)
        .output()
        .expect("run the Go side");
    assert!(out.status.success(), "the Go side failed: {out:?}");
    let want: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    // In a coroutine: every call goes through the blocking pool, as in a server.
    let got = util::in_coroutine(Duration::from_secs(30), gonet_lines);
    // And from a plain thread, where the calls run inline.
    let inline = gonet_lines();
    for (i, w) in want.iter().enumerate() {
        assert_eq!(got.get(i), Some(w), "line {i} (coroutine)");
        assert_eq!(inline.get(i), Some(w), "line {i} (plain thread)");
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(inline.len(), want.len());
}

// ---------------------------------------------------------------------------------------
// A slow FIFO does not stall the worker
// ---------------------------------------------------------------------------------------

/// The child: one worker thread, an echo server in coroutines, and on "read PATH" a
/// coroutine that reads the FIFO at PATH with `os::read_file` and says what it got.
#[test]
#[ignore = "child process of read_file_of_a_slow_fifo_does_not_stall_other_connections"]
fn child_fifo_reader() {
    if !server_util::is_child("fifo") {
        return;
    }
    gonet::runtime::set_max_procs(1);
    let ln = gonet::listen("tcp", "127.0.0.1:0").expect("listen");
    server_util::say(&format!("ADDR {}", ln.addr()));
    gonet::go!(move || {
        while let Ok(conn) = ln.accept() {
            gonet::go!(move || util::echo(conn));
        }
    });
    server_util::child_commands(|cmd| {
        if let Some(path) = cmd.strip_prefix("read ") {
            let path = path.to_string();
            gonet::go!(move || {
                server_util::say("READING");
                match os::read_file(&path) {
                    Ok(data) => {
                        server_util::say(&format!("READ {}", String::from_utf8_lossy(&data)))
                    }
                    Err(e) => server_util::say(&format!("READ error {e}")),
                }
            });
        }
    });
}

#[test]
fn read_file_of_a_slow_fifo_does_not_stall_other_connections() {
    let dir = util::TempDir::new("fifo");
    let fifo = dir.0.join("slow");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: c is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");

    let mut child = server_util::Child::spawn("fifo", "child_fifo_reader", None);
    let addr = child.expect_line("ADDR ", Duration::from_secs(30));
    let mut conn = server_util::connect(&addr);
    server_util::round_trip(&mut conn, b"warm");
    child.send(&format!("read {}", fifo.display()));
    child.expect_line("READING", Duration::from_secs(10));

    // The reader's coroutine now waits in open(2) for a writer, on a pool thread. Its
    // worker (the only one) must go on echoing: 40 round trips over about 200 ms.
    let mut worst = Duration::ZERO;
    let trips = |conn: &mut std::net::TcpStream, worst: &mut Duration, n: usize| {
        for i in 0..n {
            let start = Instant::now();
            server_util::round_trip(conn, format!("ping {i}").as_bytes());
            *worst = (*worst).max(start.elapsed());
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    trips(&mut conn, &mut worst, 40);
    // A slow writer: the first half, a pause while the reader waits in read(2), the rest.
    let mut w = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open the FIFO for writing");
    w.write_all(b"slow ").unwrap();
    trips(&mut conn, &mut worst, 40);
    w.write_all(b"fifo").unwrap();
    drop(w);
    assert_eq!(
        child.expect_line("READ ", Duration::from_secs(10)),
        "slow fifo"
    );
    trips(&mut conn, &mut worst, 5);
    assert!(
        worst < Duration::from_millis(250),
        "an echo round trip took {worst:?} while a coroutine read a slow FIFO"
    );
}

// ---------------------------------------------------------------------------------------
// What Go programs rely on
// ---------------------------------------------------------------------------------------

/// Runs `f` in a coroutine, failing the test after 30 s.
fn in_co<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    util::in_coroutine(Duration::from_secs(30), f)
}

#[test]
fn big_files_read_and_write_whole() {
    in_co(|| {
        let d = os::mkdir_temp("", "gonet-big-").unwrap();
        let path = format!("{d}/big");
        let data: Vec<u8> = (0..3_000_001u32).map(|i| (i % 251) as u8).collect();
        os::write_file(&path, &data, FileMode(0o600)).unwrap();
        assert_eq!(os::read_file(&path).unwrap(), data);
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert_eq!(os::stat(&path).unwrap().size(), data.len() as u64);
        // An empty file, and a /proc file whose stat says size 0 but which has content.
        os::write_file(&path, b"", FileMode(0o600)).unwrap();
        assert!(os::read_file(&path).unwrap().is_empty());
        assert!(!os::read_file("/proc/self/status").unwrap().is_empty());
        os::remove_all(&d).unwrap();
    });
}

#[test]
fn std_traits_work_on_files() {
    in_co(|| {
        let d = os::mkdir_temp("", "gonet-traits-").unwrap();
        let path = format!("{d}/lines");
        let mut f = os::create(&path).unwrap();
        for i in 0..100 {
            writeln!(f, "line {i}").unwrap();
        }
        f.seek(SeekFrom::Start(0)).unwrap();
        let lines: Vec<String> = std::io::BufReader::new(&f)
            .lines()
            .map(|l| l.unwrap())
            .collect();
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[42], "line 42");
        assert_eq!(
            f.seek(SeekFrom::End(-8)).unwrap(),
            f.stat().unwrap().size() - 8
        );
        let mut tail = String::new();
        f.read_to_string(&mut tail).unwrap();
        assert_eq!(tail, "line 99\n");
        // io::copy between two gonet files.
        let copy = os::create(&format!("{d}/copy")).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(
            std::io::copy(&mut &f, &mut &copy).unwrap(),
            f.stat().unwrap().size()
        );
        assert_eq!(
            os::read_file(&format!("{d}/copy")).unwrap(),
            os::read_file(&path).unwrap()
        );
        // A std file, wrapped.
        let wrapped = os::File::from(std::fs::File::open(&path).unwrap());
        let mut head = [0u8; 6];
        wrapped.read(&mut head).unwrap();
        assert_eq!(&head, b"line 0");
        f.truncate(4).unwrap();
        f.sync().unwrap();
        assert_eq!(os::read_file(&path).unwrap(), b"line");
        os::remove_all(&d).unwrap();
    });
}

#[test]
fn write_at_and_read_at_leave_the_offset_alone() {
    in_co(|| {
        let f = os::create_temp("", "gonet-at-").unwrap();
        f.write(b"0123456789").unwrap();
        f.write_at(b"AB", 3).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(f.read_at(&mut buf, 2).unwrap(), 4);
        assert_eq!(&buf, b"2AB5");
        // The offset is still at the end of the first write.
        assert_eq!(std::io::Seek::stream_position(&mut &f).unwrap(), 10);
        assert_eq!(f.read_at(&mut buf, 8).unwrap(), 2, "short only at the end");
        let appender = os::open_file(f.name(), os::O_WRONLY | os::O_APPEND, FileMode(0)).unwrap();
        let err = appender.write_at(b"x", 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "os: invalid use of WriteAt on file opened with O_APPEND"
        );
        appender.write(b"!").unwrap();
        assert_eq!(os::read_file(f.name()).unwrap(), b"012AB56789!");
        os::remove(f.name()).unwrap();
    });
}

#[test]
fn many_coroutines_read_one_file_at_once() {
    let f = std::sync::Arc::new(os::create_temp("", "gonet-shared-").unwrap());
    let data: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 253) as u8).collect();
    f.write(&data).unwrap();
    let (tx, rx) = gonet::chan::<bool>(0);
    for i in 0..32u64 {
        let f = f.clone();
        let tx = tx.clone();
        let want = data.clone();
        gonet::go!(move || {
            let mut buf = vec![0u8; 2048];
            let off = i * 2048;
            let n = f.read_at(&mut buf, off).unwrap();
            let _ = tx.send(n == 2048 && buf[..] == want[off as usize..off as usize + 2048]);
        });
    }
    for _ in 0..32 {
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(true));
    }
    os::remove(f.name()).unwrap();
}

/// Whether a thread of this process is in read(2) on `fd` now: /proc/self/task/TID/syscall
/// starts with the call's number and its first argument in hex.
fn in_read_of(fd: i32) -> bool {
    let want = format!("{} {:#x} ", libc::SYS_read, fd);
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks.filter_map(Result::ok).any(|t| {
                std::fs::read_to_string(t.path().join("syscall"))
                    .is_ok_and(|s| s.starts_with(&want))
            })
        })
        .unwrap_or(false)
}

#[test]
fn close_while_a_read_waits_releases_the_descriptor_after_it() {
    let dir = util::TempDir::new("fifo-close");
    let fifo = dir.0.join("p");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: c is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    // O_RDWR keeps a FIFO open without a writer (Linux), so the read waits for data.
    let f = std::sync::Arc::new(
        os::open_file(fifo.to_str().unwrap(), os::O_RDWR, FileMode(0)).unwrap(),
    );
    let fd = f.fd();
    let reader = f.clone();
    let (tx, rx) = gonet::chan::<String>(1);
    gonet::go!(move || {
        let mut buf = [0u8; 16];
        let r = reader.read(&mut buf);
        let _ = tx.send(format!(
            "{:?}",
            r.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
        ));
    });
    // Let the read reach read(2) on a pool thread (a thread that merely exists may not
    // have taken the descriptor yet, and a close before that releases it at once):
    // nothing to wait on, so bound a poll of the threads' system calls.
    assert!(util::eventually(Duration::from_secs(10), || in_read_of(fd)));
    f.close().unwrap();
    assert_eq!(f.fd(), -1);
    assert!(os::is_closed(&f.read(&mut [0u8; 1]).unwrap_err()));
    // The descriptor is still open for the read in progress: write to the FIFO through it.
    // (O_NONBLOCK: with no reader left, open fails with ENXIO instead of blocking.)
    let mut w = std::os::unix::fs::OpenOptionsExt::custom_flags(
        std::fs::OpenOptions::new().write(true),
        libc::O_NONBLOCK,
    )
    .open(&fifo)
    .unwrap();
    w.write_all(b"late").unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok("Ok(\"late\")".to_string())
    );
    // Now the last handle is gone, and so is the descriptor.
    assert!(util::eventually(Duration::from_secs(5), || {
        std::fs::read_link(format!("/proc/self/fd/{fd}")).map_or(true, |p| p != fifo)
    }));
}

#[test]
fn read_dir_reads_big_directories_sorted() {
    in_co(|| {
        let d = os::mkdir_temp("", "gonet-dir-").unwrap();
        for i in 0..1000 {
            os::write_file(
                &format!("{d}/file-{i:04}-with-a-long-name"),
                b"",
                FileMode(0o600),
            )
            .unwrap();
        }
        os::mkdir(&format!("{d}/zdir"), FileMode(0o700)).unwrap();
        let entries = os::read_dir(&d).unwrap();
        assert_eq!(entries.len(), 1001);
        assert!(entries.windows(2).all(|w| w[0].name() < w[1].name()));
        assert_eq!(entries[0].name(), "file-0000-with-a-long-name");
        assert!(entries[1000].is_dir());
        // In chunks, through one File: every name once.
        let f = os::open(&d).unwrap();
        let mut names = Vec::new();
        loop {
            let chunk = f.readdirnames(64).unwrap();
            if chunk.is_empty() {
                break;
            }
            assert!(chunk.len() <= 64);
            names.extend(chunk);
        }
        names.sort();
        assert_eq!(names.len(), 1001);
        // Seeking to the start reads the directory again.
        f.seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(f.read_dir(0).unwrap().len(), 1001);
        os::remove_all(&d).unwrap();
        assert!(os::is_not_exist(&os::stat(&d).unwrap_err()));
    });
}

#[test]
fn temp_names_follow_the_pattern() {
    let d = os::mkdir_temp("", "gonet-tmp-*-dir").unwrap();
    assert!(d.starts_with(&os::temp_dir()));
    let base = d.rsplit('/').next().unwrap();
    let middle = base
        .strip_prefix("gonet-tmp-")
        .unwrap()
        .strip_suffix("-dir")
        .unwrap();
    assert!(
        !middle.is_empty() && middle.bytes().all(|b| b.is_ascii_digit()),
        "{base}"
    );
    let f = os::create_temp(&d, "x*.txt").unwrap();
    assert!(f.name().starts_with(&format!("{d}/x")) && f.name().ends_with(".txt"));
    let f2 = os::create_temp(&format!("{d}/"), "plain").unwrap();
    assert!(f2.name().starts_with(&format!("{d}/plain")));
    assert_ne!(f.name(), f2.name());
    os::remove_all(&d).unwrap();
}
