//! Absolute deadlines, as Go's SetDeadline: past deadlines fail at once, parked calls
//! see a new deadline, "i/o timeout" texts, and the same in a plain thread.

mod util;

use std::time::{Duration, Instant};

use util::pair;

#[test]
fn a_read_deadline_times_out_with_gos_error() {
    let (c, _s) = pair();
    let h = gonet::go!(move || {
        c.set_read_deadline(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        let t0 = Instant::now();
        let err = c.read(&mut [0u8; 8]).unwrap_err();
        (c, t0.elapsed(), err)
    });
    let (c, took, err) = h.join().unwrap();
    assert!(
        took >= Duration::from_millis(95),
        "timed out early: {took:?}"
    );
    assert!(took < Duration::from_secs(2), "timed out late: {took:?}");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(gonet::is_timeout(&err));
    assert!(gonet::OpError::of(&err).unwrap().timeout());
    assert_eq!(
        err.to_string(),
        format!(
            "read tcp {}->{}: i/o timeout",
            c.local_addr(),
            c.remote_addr()
        )
    );
}

#[test]
fn a_past_deadline_fails_at_once_even_with_data_waiting() {
    let (c, s) = pair();
    s.write(b"ready").unwrap();
    // Wait until the data is really there, through a read that succeeds.
    let mut one = [0u8; 1];
    c.read_full(&mut one).unwrap();
    c.set_read_deadline(Some(Instant::now() - Duration::from_secs(1)))
        .unwrap();
    assert!(gonet::is_timeout(&c.read(&mut [0u8; 4]).unwrap_err()));
    // Clearing the deadline lets the waiting bytes through.
    c.set_read_deadline(None).unwrap();
    let mut rest = [0u8; 4];
    c.read_full(&mut rest).unwrap();
    assert_eq!(&rest, b"eady");
}

#[test]
fn a_new_deadline_reaches_a_parked_read() {
    // Go's idiom to interrupt a blocked Read: SetReadDeadline(time.Now()).
    let (c, _s) = pair();
    let reader = c.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = gonet::go!(move || {
        tx.send(()).unwrap();
        let t0 = Instant::now();
        (reader.read(&mut [0u8; 8]), t0.elapsed())
    });
    rx.recv().unwrap();
    c.set_read_deadline(Some(Instant::now())).unwrap();
    let (r, took) = h.join().unwrap();
    assert!(gonet::is_timeout(&r.unwrap_err()));
    assert!(took < Duration::from_secs(2));
}

#[test]
fn extending_a_deadline_while_parked_keeps_the_read_waiting() {
    let (c, s) = pair();
    let reader = c.clone();
    c.set_read_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = gonet::go!(move || {
        tx.send(()).unwrap();
        let mut buf = [0u8; 5];
        reader.read_full(&mut buf).map(|_| buf)
    });
    rx.recv().unwrap();
    // Push the deadline far out before the first one fires, then answer after it.
    c.set_read_deadline(Some(Instant::now() + Duration::from_secs(30)))
        .unwrap();
    gonet::time::sleep(Duration::from_millis(150));
    s.write(b"later").unwrap();
    assert_eq!(&h.join().unwrap().unwrap(), b"later");
}

#[test]
fn a_write_deadline_stops_a_write_the_peer_never_reads() {
    let (c, _s) = pair();
    c.set_write_deadline(Some(Instant::now() + Duration::from_millis(200)))
        .unwrap();
    let h = gonet::go!(move || {
        let big = vec![0u8; 64 << 20];
        let mut w = &c;
        let r = std::io::Write::write_all(&mut w, &big);
        (c.local_addr(), c.remote_addr(), r)
    });
    let (l, r, res) = h.join().unwrap();
    let err = res.unwrap_err();
    assert!(gonet::is_timeout(&err), "{err}");
    assert_eq!(err.to_string(), format!("write tcp {l}->{r}: i/o timeout"));
}

#[test]
fn setting_a_deadline_on_a_closed_conn_fails_like_go() {
    let (c, _s) = pair();
    c.close().unwrap();
    let err = c.set_deadline(None).unwrap_err();
    assert!(gonet::is_closed(&err));
    assert_eq!(
        err.to_string(),
        format!(
            "set tcp {}: use of closed network connection",
            c.local_addr()
        )
    );
}

#[test]
fn deadlines_work_in_a_plain_thread_too() {
    let (c, _s) = pair();
    c.set_deadline(Some(Instant::now() + Duration::from_millis(80)))
        .unwrap();
    let t0 = Instant::now();
    let err = c.read(&mut [0u8; 1]).unwrap_err();
    assert!(gonet::is_timeout(&err));
    assert!(t0.elapsed() >= Duration::from_millis(75));
}

#[test]
fn a_deadline_pushed_forward_on_every_request_never_fires() {
    // A server that sets an idle deadline per request: each read succeeds, none times
    // out, and the deadline keeps moving while reads park.
    let (c, s) = pair();
    let server = gonet::go!(move || {
        let mut buf = [0u8; 4];
        for _ in 0..200 {
            s.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
                .unwrap();
            s.read_full(&mut buf).unwrap();
            s.write(&buf).unwrap();
        }
    });
    let mut buf = [0u8; 4];
    for i in 0..200u32 {
        c.write(&i.to_be_bytes()).unwrap();
        c.read_full(&mut buf).unwrap();
        assert_eq!(u32::from_be_bytes(buf), i);
    }
    server.join().unwrap();
}
