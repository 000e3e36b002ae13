//! `Conn`: reads and writes through the netpoller, half-close, close from another
//! coroutine, full duplex from two coroutines, resets, and Go's error texts.

mod util;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use util::pair;

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}

#[test]
fn reads_and_writes_through_std_traits_and_refs() {
    let (mut c, s) = pair();
    c.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    (&s).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    (&s).write_all(b"world").unwrap();
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"world");
    // End of stream is Ok(0), Go's io.EOF.
    drop(s);
    assert_eq!(c.read(&mut buf).unwrap(), 0);
}

#[test]
fn full_duplex_from_two_coroutines_does_not_deadlock() {
    // Both sides write 8 MiB before reading anything: each write blocks on a full
    // buffer while the same conn's reader must still run, in another coroutine.
    let (c, s) = pair();
    let len = 8 << 20;
    let mut handles = Vec::new();
    for (conn, seed) in [(c, 1), (s, 2)] {
        let writer = conn.clone();
        handles.push(gonet::go!(move || {
            writer.write(&pattern(len, seed)).unwrap();
            Vec::new()
        }));
        handles.push(gonet::go!(move || {
            let mut got = vec![0u8; len];
            conn.read_full(&mut got).unwrap();
            got
        }));
    }
    let results: Vec<Vec<u8>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // results: [c writer, c reader (got from s: seed 2), s writer, s reader (seed 1)]
    assert!(
        results[1] == pattern(len, 2),
        "client read the server's bytes"
    );
    assert!(
        results[3] == pattern(len, 1),
        "server read the client's bytes"
    );
}

#[test]
fn first_parks_of_a_reader_and_a_writer_on_a_fresh_conn_both_wake() {
    // A conn joins the netpoller when a call first parks on it (fd.rs, `NetFd::new`).
    // Here a reader and a writer on a conn nobody has parked on yet both park at once,
    // 200 times over: one registers the conn (under a lock, so a racing second call
    // cannot add it to epoll twice), the other gets the second registration, and each
    // must still be woken by the edge that arrives after it registered.
    for round in 0..200u32 {
        let (c, s) = pair(); // made in this thread: neither end is registered yet
        // Fill the server's send buffer without parking (the socket is non-blocking),
        // so the writer below parks on its first try, as the reader does.
        let mut queued = 0;
        let chunk = [0u8; 65536];
        loop {
            match socket2::SockRef::from(&s).send(&chunk) {
                Ok(n) => queued += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("fill: {e}"),
            }
        }
        let writer = s.clone();
        let w = gonet::go!(move || writer.write(&[9]));
        let r = gonet::go!(move || {
            let mut b = [0u8; 1];
            s.read_full(&mut b).map(|()| b[0])
        });
        let mut got = vec![0u8; queued + 1];
        c.read_full(&mut got).unwrap();
        assert_eq!(got[queued], 9, "round {round}: the parked write's byte");
        c.write(&[7]).unwrap();
        assert_eq!(w.join().unwrap().unwrap(), 1, "round {round}");
        assert_eq!(r.join().unwrap().unwrap(), 7, "round {round}");
    }
}

#[test]
fn close_from_another_coroutine_wakes_a_parked_read_with_gos_error() {
    let (c, _s) = pair();
    let reader = c.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = gonet::go!(move || {
        tx.send(()).unwrap();
        reader.read(&mut [0u8; 16])
    });
    rx.recv().unwrap();
    c.close().unwrap();
    let err = h.join().unwrap().unwrap_err();
    assert!(gonet::is_closed(&err));
    assert_eq!(
        err.to_string(),
        format!(
            "read tcp {}->{}: use of closed network connection",
            c.local_addr(),
            c.remote_addr()
        )
    );
    let err = c.write(b"x").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "write tcp {}->{}: use of closed network connection",
            c.local_addr(),
            c.remote_addr()
        )
    );
    let err = c.close().unwrap_err();
    assert!(err.to_string().starts_with("close tcp "), "{err}");
}

#[test]
fn close_wakes_a_read_blocked_in_a_plain_thread() {
    let (c, _s) = pair();
    let reader = c.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        tx.send(()).unwrap();
        reader.read(&mut [0u8; 16])
    });
    rx.recv().unwrap();
    c.close().unwrap();
    assert!(gonet::is_closed(&h.join().unwrap().unwrap_err()));
}

#[test]
fn half_close_like_a_proxy() {
    let (c, s) = pair();
    c.write(b"request").unwrap();
    c.close_write().unwrap();
    let mut got = Vec::new();
    (&s).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"request");
    // The other direction still works.
    s.write(b"response").unwrap();
    s.close_write().unwrap();
    let mut back = Vec::new();
    (&c).read_to_end(&mut back).unwrap();
    assert_eq!(back, b"response");

    let (c, _s) = pair();
    c.close_read().unwrap();
    assert_eq!(c.read(&mut [0u8; 4]).unwrap(), 0);
}

#[test]
fn a_reset_peer_is_reported_in_gos_words() {
    let (c, s) = pair();
    s.set_linger(Some(Duration::ZERO)).unwrap();
    drop(s); // close with SO_LINGER 0: RST
    let err = c.read(&mut [0u8; 4]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    assert_eq!(
        err.to_string(),
        format!(
            "read tcp {}->{}: read: connection reset by peer",
            c.local_addr(),
            c.remote_addr()
        )
    );
    assert_eq!(
        gonet::OpError::of(&err).unwrap().errno(),
        Some(libc::ECONNRESET)
    );
}

#[test]
fn many_readers_take_turns() {
    // Go lets several goroutines Read one Conn; each byte goes to exactly one reader.
    let (c, s) = pair();
    let n = 20_000usize;
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            gonet::go!(move || {
                let mut count = 0usize;
                let mut buf = [0u8; 7];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return count,
                        Ok(k) => count += k,
                    }
                }
            })
        })
        .collect();
    c.write(&vec![b'z'; n]).unwrap();
    c.close_write().unwrap();
    let total: usize = readers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, n);
}

#[test]
fn concurrent_writers_do_not_interleave_their_buffers() {
    let (c, s) = pair();
    let chunk = 256 * 1024;
    let writers: Vec<_> = (0..4u8)
        .map(|i| {
            let c = c.clone();
            gonet::go!(move || c.write(&vec![b'a' + i; chunk]).unwrap())
        })
        .collect();
    let reader = gonet::go!(move || {
        let mut all = vec![0u8; 4 * chunk];
        s.read_full(&mut all).unwrap();
        all
    });
    for w in writers {
        assert_eq!(w.join().unwrap(), chunk);
    }
    let all = reader.join().unwrap();
    for block in all.chunks(chunk) {
        assert!(
            block.iter().all(|&b| b == block[0]),
            "a write was split by another"
        );
    }
}

#[test]
fn try_clone_shares_the_connection_without_a_new_descriptor() {
    let (c, s) = pair();
    let before = util::fd_count();
    let c2 = c.try_clone().unwrap();
    assert_eq!(util::fd_count(), before);
    c2.write(b"via clone").unwrap();
    let mut buf = [0u8; 9];
    s.read_full(&mut buf).unwrap();
    assert_eq!(&buf, b"via clone");
    c2.close().unwrap();
    assert!(gonet::is_closed(&c.write(b"x").unwrap_err()));
}

#[test]
fn nodelay_and_keep_alive_can_be_changed() {
    let (c, _s) = pair();
    let sock = socket2::SockRef::from(&c);
    assert!(
        sock.tcp_nodelay().unwrap(),
        "dialed conns get TCP_NODELAY, as in Go"
    );
    c.set_nodelay(false).unwrap();
    assert!(!sock.tcp_nodelay().unwrap());
    c.set_keep_alive(false).unwrap();
    assert!(!sock.keepalive().unwrap());
    c.set_keep_alive_period(Duration::from_millis(1500))
        .unwrap();
    assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(2));
    // On a Unix conn these are errors in Go's shape, not panics.
    let name = util::abstract_name("opts");
    let _ln = gonet::listen("unix", &name).unwrap();
    let u = gonet::dial("unix", &name).unwrap();
    let err = u.set_nodelay(true).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("set unix @->{name}: setsockopt: ")),
        "{err}"
    );
}

#[test]
fn a_big_transfer_keeps_every_byte() {
    let (c, s) = pair();
    let data = pattern(32 << 20, 7);
    let d2 = data.clone();
    let t0 = Instant::now();
    let w = gonet::go!(move || {
        // Uneven writes, vectored and plain.
        let mut off = 0;
        let mut k = 1;
        while off < d2.len() {
            let end = (off + k * 997).min(d2.len());
            let mid = (off + end) / 2;
            let bufs = [
                std::io::IoSlice::new(&d2[off..mid]),
                std::io::IoSlice::new(&d2[mid..end]),
            ];
            let n = (&c).write_vectored(&bufs).unwrap();
            off += n;
            k = k % 97 + 1;
        }
        c.close_write().unwrap();
    });
    let mut got = Vec::with_capacity(data.len());
    (&s).read_to_end(&mut got).unwrap();
    w.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes differ");
    assert!(t0.elapsed() < Duration::from_secs(60));
}

#[test]
fn readable_and_try_read_serve_without_holding_a_buffer() {
    let (c, s) = pair();
    let mut buf = [0u8; 16];
    let err = s.try_read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    let server = gonet::go!(move || {
        // The idle loop the echo example uses: wait without a buffer, then drain.
        let mut echoed = 0;
        loop {
            if s.readable().is_err() {
                return echoed;
            }
            let mut buf = vec![0u8; 4096];
            loop {
                match s.try_read(&mut buf) {
                    Ok(0) => return echoed,
                    Ok(n) => {
                        s.write(&buf[..n]).unwrap();
                        echoed += n;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    });
    for i in 0..500u32 {
        c.write(&i.to_le_bytes()).unwrap();
        let mut back = [0u8; 4];
        c.read_full(&mut back).unwrap();
        assert_eq!(u32::from_le_bytes(back), i);
    }
    c.close_write().unwrap();
    assert_eq!(server.join().unwrap(), 2000);
}

#[test]
fn readable_ends_with_deadline_and_close_errors() {
    let (c, _s) = pair();
    c.set_read_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    assert!(gonet::is_timeout(&c.readable().unwrap_err()));
    assert!(gonet::is_timeout(&c.try_read(&mut [0u8; 1]).unwrap_err()));
    c.set_read_deadline(None).unwrap();
    let waiter = c.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = gonet::go!(move || {
        tx.send(()).unwrap();
        // Spurious returns are allowed; a close must end the wait for good.
        loop {
            if let Err(e) = waiter.readable() {
                return e;
            }
            if let Err(e) = waiter.try_read(&mut [0u8; 1]) {
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    return e;
                }
            }
        }
    });
    rx.recv().unwrap();
    c.close().unwrap();
    assert!(gonet::is_closed(&h.join().unwrap()));
}

#[test]
fn a_blocked_write_does_not_hide_data_that_arrived_from_the_next_wait() {
    // The edge for "b" is consumed by the writer's park (its wait returns at once and
    // resets the flag). A wait that trusted the poller alone would then sleep with "b"
    // already in the socket.
    for use_readable in [true, false] {
        let (c, s) = pair();
        c.write(b"a").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf).unwrap(), 1); // a short read: the socket is drained
        c.write(b"b").unwrap();
        let s2 = s.clone();
        let big = 16 << 20;
        let writer = gonet::go!(move || s2.write(&vec![7u8; big]));
        let mut sink = vec![0u8; big];
        c.read_full(&mut sink).unwrap();
        assert_eq!(writer.join().unwrap().unwrap(), big);
        let h = gonet::go!(move || {
            if use_readable {
                s.readable()?;
                s.try_read(&mut buf)
            } else {
                s.read(&mut buf)
            }
            .map(|n| buf[..n].to_vec())
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(h.join().unwrap()));
        let got = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the wait slept with data waiting");
        assert_eq!(got.unwrap(), b"b");
    }
}

#[test]
fn end_of_stream_after_short_reads_is_never_missed() {
    // A reader woken by the edge that brought both the last bytes and the FIN must
    // still see end of stream after its short reads (the edge is gone by then).
    for round in 0..300 {
        let (c, s) = pair();
        let reader = gonet::go!(move || {
            let mut total = 0;
            let mut buf = [0u8; 4];
            loop {
                match s.read(&mut buf) {
                    Ok(0) => return Ok(total),
                    Ok(n) => total += n,
                    Err(e) => return Err(e),
                }
            }
        });
        c.write(b"0123456789").unwrap();
        c.close_write().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(reader.join().unwrap()));
        let got = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("round {round}: the reader missed end of stream"));
        assert_eq!(got.unwrap(), 10);
    }
}

#[test]
fn readable_ignores_a_writable_only_wake_up() {
    // A fresh registration reports "writable" at once; readable() must keep waiting
    // (here until its deadline) rather than send the caller to a read that would park
    // holding its buffer.
    let (c, _s) = pair();
    let h = gonet::go!(move || {
        c.set_read_deadline(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        let t0 = Instant::now();
        (c.readable(), t0.elapsed())
    });
    let (r, took) = h.join().unwrap();
    assert!(gonet::is_timeout(&r.unwrap_err()));
    assert!(took >= Duration::from_millis(95), "returned after {took:?}");
}
