//! `gonet::log` (Go's `log`): the lines of live Go 1.19 for the same calls, byte for byte
//! once the clock is normalised (tests/go/log/log.go); lines from many coroutines never
//! interleave; `fatal!` exits with status 1 after its line; `panic!` panics with its
//! line's text; the standard logger's setters.

#[path = "util/go.rs"]
mod go_util;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use gonet::log::{self, Logger};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// log.go's normalisation: dates, clocks, microseconds and `file:line: `.
fn normalise(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let digits =
        |at: usize, n: usize| at + n <= b.len() && b[at..at + n].iter().all(u8::is_ascii_digit);
    while i < b.len() {
        if digits(i, 4)
            && b.get(i + 4) == Some(&b'/')
            && digits(i + 5, 2)
            && b.get(i + 7) == Some(&b'/')
            && digits(i + 8, 2)
        {
            out.push_str("YYYY/MM/DD");
            i += 10;
        } else if digits(i, 2)
            && b.get(i + 2) == Some(&b':')
            && digits(i + 3, 2)
            && b.get(i + 5) == Some(&b':')
            && digits(i + 6, 2)
        {
            out.push_str("hh:mm:ss");
            i += 8;
            if b.get(i) == Some(&b'.') && digits(i + 1, 6) {
                out.push_str(".uuuuuu");
                i += 7;
            }
        } else if s[i..].starts_with(".rs:") {
            // Walk back over the file name already copied.
            while out.ends_with(|c: char| c.is_ascii_alphanumeric() || "_./".contains(c)) {
                out.pop();
            }
            let mut j = i + 4;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            out.push_str("FILE:LINE");
            i = j;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

#[test]
fn lines_match_go() {
    let buf = Buf::default();
    let l = Logger::new(buf.clone(), "", log::LSTD_FLAGS | log::LUTC);
    let mut lines = Vec::new();
    let mut show = |name: &str| lines.push(format!("{name}\t{:?}", normalise(&buf.take())));
    log::println!(&l => "hello", "world", 42);
    show("std println");
    log::print!(&l => "x=", 5, 6, "!", "a", 1.5, true);
    show("print spacing");
    log::printf!(&l => "{} of {}", 1, 2);
    show("printf");
    log::print!(&l => "ends in newline\n");
    show("newline kept");
    log::print!(&l => "");
    show("empty");
    log::println!(&l =>);
    show("println nothing");
    l.set_prefix("[svc] ");
    log::print!(&l => "prefixed");
    show("prefix");
    l.set_flags(log::LSTD_FLAGS | log::LUTC | log::LMSGPREFIX);
    log::print!(&l => "msgprefix");
    show("msgprefix");
    l.set_flags(log::LSTD_FLAGS | log::LUTC | log::LMICROSECONDS | log::LSHORTFILE);
    log::print!(&l => "micro and file");
    show("micro file");
    l.set_flags(0);
    log::print!(&l => "no header");
    show("flags 0");
    l.set_flags(log::LTIME | log::LUTC);
    log::print!(&l => "time only");
    show("time only");
    l.set_flags(log::LDATE | log::LUTC | log::LSHORTFILE | log::LMSGPREFIX);
    log::println!(&l => "date file msgprefix");
    show("date file msgprefix");
    lines.push(format!(
        "flags\t{} {} {} {} {} {} {} {}",
        log::LDATE,
        log::LTIME,
        log::LMICROSECONDS,
        log::LLONGFILE,
        log::LSHORTFILE,
        log::LUTC,
        log::LMSGPREFIX,
        log::LSTD_FLAGS
    ));

    let bin = go_util::go_binary("tests/go/log/log.go");
    let out = std::process::Command::new(bin)
        .output()
        .expect("run the Go log program");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let go = String::from_utf8(out.stdout).unwrap();
    let go: Vec<&str> = go.lines().collect();
    assert_eq!(lines.len(), go.len(), "ours:\n{}", lines.join("\n"));
    for (o, g) in lines.iter().zip(go) {
        assert_eq!(o, g);
    }
}

#[test]
fn the_file_is_the_callers_and_the_time_is_now() {
    let buf = Buf::default();
    let l = Logger::new(buf.clone(), "", log::LSHORTFILE);
    let line = line!() + 1;
    log::print!(&l => "here");
    assert_eq!(buf.take(), format!("log.rs:{line}: here\n"));
    l.set_flags(log::LLONGFILE);
    let line = line!() + 1;
    l.output("direct").unwrap();
    assert_eq!(buf.take(), format!("tests/log.rs:{line}: direct\n"));
    // UTC date: the same as the system's (or the next day at midnight).
    l.set_flags(log::LDATE | log::LUTC);
    log::print!(&l => "d");
    let got = buf.take();
    let days = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86400
    };
    let today = days(std::time::SystemTime::now());
    let (y, m, d) = civil(today as i64);
    let want = format!("{y:04}/{m:02}/{d:02} d\n");
    let (y2, m2, d2) = civil(today as i64 - 1);
    let yesterday = format!("{y2:04}/{m2:02}/{d2:02} d\n");
    assert!(got == want || got == yesterday, "{got:?} vs {want:?}");
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's civil_from_days).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[test]
fn lines_from_many_coroutines_never_interleave() {
    const COROUTINES: usize = 100;
    const LINES: usize = 200;
    let buf = Buf::default();
    let l = Arc::new(Logger::new(
        buf.clone(),
        "[p] ",
        log::LSTD_FLAGS | log::LMICROSECONDS,
    ));
    let handles: Vec<_> = (0..COROUTINES)
        .map(|c| {
            let l = l.clone();
            gonet::go!(move || {
                for i in 0..LINES {
                    log::printf!(&*l => "coroutine {c} line {i} {}", "x".repeat(c));
                    if i % 10 == 0 {
                        gonet::runtime::gosched();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let text = buf.take();
    let mut seen = vec![0usize; COROUTINES];
    for line in text.lines() {
        let rest = line
            .strip_prefix("[p] ")
            .expect("the prefix starts every line");
        let msg = &rest[27..]; // "YYYY/MM/DD hh:mm:ss.uuuuuu "
        let mut f = msg.split(' ');
        assert_eq!(f.next(), Some("coroutine"), "{line:?}");
        let c: usize = f.next().unwrap().parse().unwrap();
        assert_eq!(f.next(), Some("line"));
        let i: usize = f.next().unwrap().parse().unwrap();
        assert_eq!(f.next().unwrap_or(""), "x".repeat(c), "{line:?}");
        assert_eq!(i, seen[c], "coroutine {c}'s lines in order");
        seen[c] += 1;
    }
    assert!(seen.iter().all(|&n| n == LINES));
}

#[test]
fn fatal_writes_its_line_and_exits_with_status_1() {
    if std::env::var_os("GONET_LOG_FATAL_CHILD").is_some() {
        log::set_flags(log::LMSGPREFIX);
        log::set_prefix("child: ");
        log::fatalf!("cannot listen on {}", 8080);
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fatal_writes_its_line_and_exits_with_status_1",
            "--nocapture",
        ])
        .env("GONET_LOG_FATAL_CHILD", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l == "child: cannot listen on 8080"),
        "{stderr}"
    );
}

#[test]
fn panic_writes_its_line_then_panics_with_it() {
    let buf = Buf::default();
    let l = Logger::new(buf.clone(), "", 0);
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || log::panicln!(&l => "bad", "state", 3),
    ))
    .unwrap_err();
    assert_eq!(
        p.downcast_ref::<String>().map(String::as_str),
        Some("bad state 3\n")
    );
    assert_eq!(buf.take(), "bad state 3\n");
}

#[test]
fn the_standard_logger_follows_its_setters() {
    let buf = Buf::default();
    log::set_output(buf.clone());
    log::set_flags(0);
    log::set_prefix("std: ");
    assert_eq!((log::flags(), log::prefix()), (0, "std: ".to_string()));
    log::println!("a", 1);
    log::output("b").unwrap();
    assert_eq!(buf.take(), "std: a 1\nstd: b\n");
    log::set_output(io::sink()); // formatting is skipped, nothing is written
    log::print!("c");
    assert_eq!(buf.take(), "");
    log::set_output(io::stderr());
    log::set_flags(log::LSTD_FLAGS);
    log::set_prefix("");
}
