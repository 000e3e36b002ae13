//! `net::pipe()`: Go's synchronous in-memory `net.Pipe` (pipe.go), checked against live
//! Go 1.19 (tests/go/pipe), under 4 readers and 4 writers (coroutines and plain
//! threads), with deadlines, and used where any `Conn` goes.

#[path = "util/go.rs"]
mod go_util;
mod util;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet::net;

/// Go's `n=N err=E` for a call, with Rust's `Ok(0)` from a read into a non-empty buffer
/// standing for Go's `0, io.EOF`.
fn go_res(r: std::io::Result<usize>, read_buf_len: Option<usize>) -> String {
    match r {
        Ok(0) if read_buf_len.is_some_and(|l| l > 0) => "n=0 err=EOF".to_string(),
        Ok(n) => format!("n={n} err=<nil>"),
        Err(e) => format!("n=0 err={e}"),
    }
}

fn gonet_cases() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let (a, b) = net::pipe();
    let la = a.local_addr();
    out.push(("local addr", format!("{} {la}", la.network())));
    let ra = a.remote_addr();
    out.push(("remote addr", format!("{} {ra}", ra.network())));

    let w = b.clone();
    let writer = gonet::go!(move || w.write(b"hello, pipe"));
    let mut buf = [0u8; 5];
    let mut pieces = Vec::new();
    for _ in 0..3 {
        let n = a.read(&mut buf).unwrap();
        pieces.push(format!("{:?}", String::from_utf8_lossy(&buf[..n])));
    }
    writer.join().unwrap().unwrap();
    out.push(("a write read in pieces", pieces.join(" ")));

    a.set_read_deadline(Some(Instant::now())).unwrap();
    out.push((
        "read past the deadline",
        go_res(a.read(&mut buf), Some(buf.len())),
    ));
    a.set_read_deadline(None).unwrap();
    a.set_write_deadline(Some(Instant::now() + Duration::from_millis(20)))
        .unwrap();
    let r = a.write(b"nobody reads");
    let timeout = r
        .as_ref()
        .err()
        .map(|e| {
            format!(
                "{} {}",
                gonet::is_timeout(e),
                net::OpError::of(e).is_some_and(|op| op.err.is::<net::DeadlineExceeded>())
            )
        })
        .unwrap_or_default();
    out.push(("write past the deadline", go_res(r, None)));
    out.push(("deadline error is a timeout", timeout));
    a.set_write_deadline(None).unwrap();

    // Go returns n=4 and the error at once; gonet returns Ok(4) (std's rule for a
    // partial write), and the next write reports the error.
    let w = a.clone();
    let writer = gonet::go!(move || {
        let first = w.write(b"0123456789");
        match first {
            Ok(n) if n < 10 => match w.write(&b"0123456789"[n..]) {
                Err(e) => format!("n={n} err={e}"),
                Ok(m) => format!("n={n} then {m}"),
            },
            other => go_res(other, None),
        }
    });
    let mut small = [0u8; 4];
    b.read_full(&mut small).unwrap();
    b.close().unwrap();
    out.push((
        "write cut by a close on the other end",
        writer.join().unwrap(),
    ));

    out.push((
        "read after the other end closed",
        go_res(a.read(&mut buf), Some(buf.len())),
    ));
    out.push((
        "write after the other end closed",
        go_res(a.write(b"x"), None),
    ));
    out.push((
        "set deadline after the other end closed",
        a.set_deadline(Some(Instant::now()))
            .err()
            .map_or("<nil>".into(), |e| e.to_string()),
    ));
    out.push((
        "read after this end closed",
        go_res(b.read(&mut buf), Some(buf.len())),
    ));
    out.push(("write after this end closed", go_res(b.write(b"x"), None)));
    let closes = [b.close(), b.close()].map(|r| r.err().map_or("<nil>".into(), |e| e.to_string()));
    out.push(("close twice", closes.join(" ")));
    let err = b.write(b"x").unwrap_err();
    out.push(("closed pipe error", gonet::is_closed(&err).to_string()));

    let (c, _d) = net::pipe();
    let r = c.clone();
    let reader = gonet::go!(move || go_res(r.read(&mut [0u8; 5]), Some(5)));
    c.close().unwrap();
    out.push(("parked read, own end closed", reader.join().unwrap()));
    let (_c2, d) = net::pipe();
    let w = d.clone();
    let writer = gonet::go!(move || go_res(w.write(b"x"), None));
    d.close().unwrap();
    out.push(("parked write, own end closed", writer.join().unwrap()));

    let (e, f) = net::pipe();
    let reader = gonet::go!(move || go_res(e.read(&mut [0u8; 5]), Some(5)));
    f.close().unwrap();
    out.push(("parked read, other end closed", reader.join().unwrap()));

    let (g, h) = net::pipe();
    let writer = gonet::go!(move || go_res(g.write(&[]), None));
    out.push((
        "zero-length read takes a zero-length write",
        go_res(h.read(&mut []), None),
    ));
    out.push(("zero-length write", writer.join().unwrap()));
    out
}

#[test]
fn answers_are_gos() {
    let go = go_util::go_binary("tests/go/pipe/main.go");
    let out = std::process::Command::new(go).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let go_cases: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let rec = go_util::parse_flat_object(l);
            let field = |k: &str| match rec.iter().find(|(n, _)| n == k) {
                Some((_, go_util::Json::Str(s))) => s.clone(),
                other => panic!("no string {k} in {l}: {other:?}"),
            };
            (field("case"), field("text"))
        })
        .collect();
    let ours = util::in_coroutine(Duration::from_secs(60), gonet_cases);
    assert_eq!(go_cases.len(), ours.len(), "{go_cases:#?}");
    for ((gcase, gtext), (case, text)) in go_cases.iter().zip(&ours) {
        assert_eq!(gcase, case);
        assert_eq!(text, gtext, "{case}");
    }
}

/// A message of `MSG` bytes: writer, sequence number, then bytes derived from both.
const MSG: usize = 64;

fn message(writer: u8, seq: u32) -> [u8; MSG] {
    let mut m = [0u8; MSG];
    m[0] = writer;
    m[1..5].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in m[5..].iter_mut().enumerate() {
        *b = writer ^ (seq as u8).wrapping_mul(31) ^ (i as u8);
    }
    m
}

fn check(m: &[u8]) -> (u8, u32) {
    let writer = m[0];
    let seq = u32::from_be_bytes([m[1], m[2], m[3], m[4]]);
    assert_eq!(m, &message(writer, seq)[..], "a message arrived damaged");
    (writer, seq)
}

/// 4 writers send `per` messages each on one end; 4 readers share the other, each read
/// into a buffer of one message. Every message must arrive once and whole (writes do not
/// interleave; a read takes at most one write's offer). `threads` runs half of the
/// readers and writers on plain OS threads.
fn four_by_four(per: u32, threads: bool) {
    let (a, b) = net::pipe();
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for i in 0..4u8 {
        let (w, r, got) = (a.clone(), b.clone(), got.clone());
        let write = move || {
            for seq in 0..per {
                (&w).write_all(&message(i, seq)).unwrap();
            }
        };
        let read = move || loop {
            let mut m = [0u8; MSG];
            match r.read(&mut m) {
                Ok(0) => return,
                Ok(n) => {
                    assert_eq!(n, MSG, "a read took part of a message");
                    got.lock().unwrap().push(check(&m));
                }
                Err(e) => panic!("read: {e}"),
            }
        };
        if threads && i % 2 == 1 {
            writers.push(either::Thread(std::thread::spawn(write)));
            readers.push(either::Thread(std::thread::spawn(read)));
        } else {
            writers.push(either::Co(gonet::go!(write)));
            readers.push(either::Co(gonet::go!(read)));
        }
    }
    for w in writers {
        w.join();
    }
    a.close().unwrap(); // the readers see end of stream
    for r in readers {
        r.join();
    }
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 4 * per as usize);
    let set: HashSet<(u8, u32)> = got.iter().copied().collect();
    assert_eq!(set.len(), got.len(), "a message arrived twice");
}

/// Join handles of coroutines and threads alike.
mod either {
    pub enum Handle {
        Co(may::coroutine::JoinHandle<()>),
        Thread(std::thread::JoinHandle<()>),
    }
    pub use Handle::{Co, Thread};
    impl Handle {
        pub fn join(self) {
            let r = match self {
                Co(h) => h.join(),
                Thread(h) => h.join(),
            };
            if let Err(p) = r {
                std::panic::resume_unwind(p);
            }
        }
    }
}

#[test]
fn four_readers_and_four_writers_in_coroutines_get_every_message_once() {
    four_by_four(500, false);
}

#[test]
fn four_readers_and_four_writers_across_threads_and_coroutines() {
    four_by_four(300, true);
}

#[test]
fn writes_of_any_size_reach_a_reader_with_a_small_buffer_whole_and_unmixed() {
    // Length-prefixed messages of 0..3000 bytes from 4 writers; one reader with a 7-byte
    // buffer parses the stream: since writes never interleave it is whole messages.
    let (a, b) = net::pipe();
    let writers: Vec<_> = (0..4u8)
        .map(|i| {
            let w = a.clone();
            gonet::go!(move || {
                for k in 0..40u32 {
                    let len = (k as usize * 73 + i as usize * 11) % 3000;
                    let mut m = vec![i, 0, 0];
                    m[1..3].copy_from_slice(&(len as u16).to_be_bytes());
                    m.extend((0..len).map(|j| (j as u8) ^ i ^ (k as u8)));
                    (&w).write_all(&m).unwrap();
                }
            })
        })
        .collect();
    let reader = gonet::go!(move || {
        let mut stream = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match b.read(&mut buf).unwrap() {
                0 => return stream,
                n => stream.extend_from_slice(&buf[..n]),
            }
        }
    });
    for w in writers {
        w.join().unwrap();
    }
    a.close().unwrap();
    let stream = reader.join().unwrap();
    let mut seen = [0u32; 4];
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let (i, len) = (rest[0], u16::from_be_bytes([rest[1], rest[2]]) as usize);
        let k = seen[i as usize];
        assert_eq!(
            len,
            (k as usize * 73 + i as usize * 11) % 3000,
            "writer {i} #{k}"
        );
        let body = &rest[3..3 + len];
        assert!(
            body.iter()
                .enumerate()
                .all(|(j, &b)| b == (j as u8) ^ i ^ (k as u8))
        );
        seen[i as usize] += 1;
        rest = &rest[3 + len..];
    }
    assert_eq!(seen, [40; 4]);
}

#[test]
fn a_read_deadline_ends_a_parked_read_in_a_coroutine_and_in_a_thread() {
    for in_thread in [false, true] {
        let (a, _b) = net::pipe();
        let start = Instant::now();
        a.set_read_deadline(Some(start + Duration::from_millis(50)))
            .unwrap();
        let r = a.clone();
        let read = move || r.read(&mut [0u8; 8]);
        let res = if in_thread {
            std::thread::spawn(read).join().unwrap()
        } else {
            gonet::go!(read).join().unwrap()
        };
        let err = res.unwrap_err();
        assert_eq!(err.to_string(), "read pipe: i/o timeout");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "{took:?}");
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}

#[test]
fn a_deadline_moved_while_a_read_is_parked_applies_to_it() {
    let (a, b) = net::pipe();
    a.set_read_deadline(Some(Instant::now() + Duration::from_secs(3600)))
        .unwrap();
    let r = a.clone();
    let reader = gonet::go!(move || {
        let mut buf = [0u8; 8];
        let first = r.read(&mut buf).map(|n| buf[..n].to_vec());
        let second = r.read(&mut buf);
        (first, second)
    });
    // Later: a write to serve the first read; then a deadline in the past ends the
    // second one, already parked or not.
    (&b).write_all(b"data").unwrap();
    a.set_read_deadline(Some(Instant::now())).unwrap();
    let (first, second) = reader.join().unwrap();
    assert_eq!(first.unwrap(), b"data");
    assert!(gonet::is_timeout(&second.unwrap_err()));
    // Cleared: reads wait again, and data ends the wait.
    a.set_read_deadline(None).unwrap();
    let r = a.clone();
    let reader = gonet::go!(move || r.read(&mut [0u8; 8]));
    b.write(b"late").unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), 4);
}

#[test]
fn a_write_deadline_keeps_what_was_read_and_fails_the_rest() {
    let (a, b) = net::pipe();
    a.set_write_deadline(Some(Instant::now() + Duration::from_millis(100)))
        .unwrap();
    let w = a.clone();
    let writer = gonet::go!(move || {
        let first = w.write(b"0123456789");
        let second = w.write(b"89");
        (first, second)
    });
    let mut eight = [0u8; 8];
    b.read_full(&mut eight).unwrap();
    let (first, second) = writer.join().unwrap();
    assert_eq!(first.unwrap(), 8, "the part that was read counts");
    let err = second.unwrap_err();
    assert_eq!(err.to_string(), "write pipe: i/o timeout");
}

#[test]
fn close_wakes_parked_calls_in_threads() {
    // A read and a write on the same end: neither has a partner on the other end.
    let (a, _b) = net::pipe();
    let r = a.clone();
    let reader = std::thread::spawn(move || r.read(&mut [0u8; 4]));
    let w = a.clone();
    let writer = std::thread::spawn(move || w.write(b"never read"));
    a.close().unwrap();
    let rerr = reader.join().unwrap().unwrap_err();
    assert_eq!(rerr.to_string(), "io: read/write on closed pipe");
    assert_eq!(rerr.kind(), std::io::ErrorKind::BrokenPipe);
    assert_eq!(
        writer.join().unwrap().unwrap_err().to_string(),
        "io: read/write on closed pipe"
    );
}

#[test]
fn a_pipe_end_goes_wherever_a_conn_goes() {
    // The echo handler the TCP tests use, unchanged, on a pipe end.
    let (client, server) = net::pipe();
    let h = gonet::go!(move || util::echo(server));
    let mut c = client.clone();
    c.write_all(b"through a handler").unwrap();
    let mut back = [0u8; 17];
    c.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"through a handler");
    client.close().unwrap();
    h.join().unwrap();

    let (a, b) = net::pipe();
    assert_eq!(a, a.clone());
    assert_ne!(a, b);
    assert_eq!(a.as_raw_fd(), -1);
    let sock = socket2::SockRef::from(&a);
    assert_eq!(
        sock.tcp_nodelay().unwrap_err().raw_os_error(),
        Some(libc::EBADF)
    );
    let a = net::TcpConn::try_from(a).expect_err("a pipe is no TCPConn");
    let a = net::UnixConn::try_from(a).expect_err("nor a UnixConn");
    let a = net::UdpConn::try_from(a).expect_err("nor a UDPConn");
    for (r, text) in [
        (a.set_nodelay(true), "set pipe: operation not supported"),
        (a.close_write(), "close pipe: operation not supported"),
        (a.file().map(|_| ()), "file pipe: operation not supported"),
    ] {
        assert_eq!(r.unwrap_err().to_string(), text);
    }
    // try_read / readable, as for sockets.
    let e = a.try_read(&mut [0u8; 4]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    let w = b.clone();
    let writer = gonet::go!(move || w.write(b"ready"));
    a.readable().unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(a.try_read(&mut buf).unwrap(), 5);
    writer.join().unwrap().unwrap();
    b.close().unwrap();
    a.readable().unwrap(); // end of stream is readable: the read says Ok(0)
    assert_eq!(a.try_read(&mut buf).unwrap(), 0);
    assert_eq!(
        format!("{a:?}"),
        "Conn { net: \"pipe\", local: \"pipe\", remote: \"pipe\" }"
    );
}
