//! Unix-domain listeners and conns: paths, abstract names, autobind, unlink on close,
//! stale files, unixpacket message boundaries, and close waking accept.

mod util;

use std::sync::Arc;

use util::TempDir;

#[test]
fn path_listener_removes_its_file_on_close_and_drop() {
    let dir = TempDir::new("unix-unlink");
    let path = dir.sock("a.sock");
    let ln = gonet::listen("unix", &path).unwrap();
    assert_eq!(ln.addr().to_string(), path);
    assert_eq!(ln.addr().network(), "unix");
    assert!(std::path::Path::new(&path).exists());
    ln.close().unwrap();
    assert!(
        !std::path::Path::new(&path).exists(),
        "close unlinks, as Go does"
    );
    // The path is free again at once.
    let ln = gonet::listen("unix", &path).unwrap();
    drop(ln);
    assert!(!std::path::Path::new(&path).exists(), "drop unlinks too");
}

#[test]
fn a_stale_socket_file_is_address_in_use() {
    let dir = TempDir::new("unix-stale");
    let path = dir.sock("stale.sock");
    let ln = gonet::UnixListener::listen("unix", &path).unwrap();
    ln.set_unlink_on_close(false);
    drop(ln);
    assert!(std::path::Path::new(&path).exists());
    let err = gonet::listen("unix", &path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("listen unix {path}: bind: address already in use")
    );
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn abstract_and_autobind_names_print_like_go() {
    let name = util::abstract_name("abs");
    let ln = gonet::listen("unix", &name).unwrap();
    assert_eq!(ln.addr().to_string(), name);
    let c = gonet::dial("unix", &name).unwrap();
    // A client that did not bind is unnamed: Go prints "@".
    assert_eq!(c.local_addr().to_string(), "@");
    assert_eq!(c.remote_addr().to_string(), name);
    let s = ln.accept().unwrap();
    assert_eq!(s.local_addr().to_string(), name);
    assert_eq!(s.remote_addr().to_string(), "@");

    for net in ["unix", "unixpacket"] {
        let ln = gonet::listen(net, "").unwrap();
        let a = ln.addr().to_string();
        // The kernel's autobind name: "@" and five hex digits.
        assert_eq!(a.len(), 6, "{a:?}");
        assert!(
            a.starts_with('@') && a[1..].chars().all(|c| c.is_ascii_hexdigit()),
            "{a:?}"
        );
        assert_eq!(ln.addr().network(), net);
        gonet::dial(net, &a).unwrap();
    }
}

#[test]
fn paths_that_do_not_fit_fail_like_go() {
    let long = format!("/tmp/{}", "x".repeat(200));
    let err = gonet::listen("unix", &long).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("listen unix {long}: bind: invalid argument")
    );
    let err = gonet::dial("unix", &long).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial unix {long}: connect: invalid argument")
    );
    let err = gonet::listen("unix", "/nonexistent/dir/x.sock").unwrap_err();
    assert_eq!(
        err.to_string(),
        "listen unix /nonexistent/dir/x.sock: bind: no such file or directory"
    );
    let err = gonet::dial("unix", "/nonexistent/dir/x.sock").unwrap_err();
    assert_eq!(
        err.to_string(),
        "dial unix /nonexistent/dir/x.sock: connect: no such file or directory"
    );
}

#[test]
fn unixpacket_keeps_message_boundaries() {
    let name = util::abstract_name("packet");
    let ln = gonet::listen("unixpacket", &name).unwrap();
    let c = gonet::dial("unixpacket", &name).unwrap();
    let s = ln.accept().unwrap();
    c.write(b"one").unwrap();
    c.write(b"two!").unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"one");
    assert_eq!(s.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"two!");
}

#[test]
fn unixgram_listens_but_cannot_accept() {
    // Go's Listen accepts "unixgram" (a bound datagram socket); accepting fails.
    let dir = TempDir::new("unixgram");
    let path = dir.sock("g.sock");
    let ln = gonet::listen("unixgram", &path).unwrap();
    assert_eq!(ln.addr().network(), "unixgram");
    let err = ln.accept().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("accept unixgram {path}: accept4: operation not supported")
    );
}

#[test]
fn close_wakes_a_unix_accept_in_a_coroutine_and_in_a_thread() {
    let dir = TempDir::new("unix-close");
    let ln = Arc::new(gonet::listen("unix", &dir.sock("c.sock")).unwrap());
    let (l1, l2) = (ln.clone(), ln.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    let co = gonet::go!(move || {
        tx.send(()).unwrap();
        l1.accept()
    });
    let th = std::thread::spawn(move || {
        tx2.send(()).unwrap();
        l2.accept()
    });
    rx.recv().unwrap();
    rx.recv().unwrap();
    ln.close().unwrap();
    let e1 = co.join().unwrap().unwrap_err();
    let e2 = th.join().unwrap().unwrap_err();
    assert!(gonet::is_closed(&e1), "{e1}");
    assert!(gonet::is_closed(&e2), "{e2}");
    assert_eq!(
        e1.to_string(),
        format!(
            "accept unix {}: use of closed network connection",
            dir.sock("c.sock")
        )
    );
}

#[test]
fn unix_conns_echo_every_byte() {
    let dir = TempDir::new("unix-echo");
    let (ln, _h) = util::spawn_echo(gonet::listen("unix", &dir.sock("e.sock")).unwrap());
    let conn = gonet::dial("unix", &dir.sock("e.sock")).unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let writer = conn.clone();
    let d2 = data.clone();
    let w = gonet::go!(move || writer.write(&d2));
    let mut got = vec![0u8; data.len()];
    conn.read_full(&mut got).unwrap();
    assert_eq!(w.join().unwrap().unwrap(), data.len());
    assert!(got == data, "echoed bytes differ");
    ln.close().unwrap();
}

#[test]
fn the_socket_file_is_gone_when_a_woken_accept_returns() {
    // A server that exits as soon as accept fails must not leave its file behind.
    let dir = TempDir::new("unix-order");
    let path = dir.sock("o.sock");
    for _ in 0..50 {
        let ln = Arc::new(gonet::listen("unix", &path).unwrap());
        let l2 = ln.clone();
        let closer = std::thread::spawn(move || l2.close());
        assert!(gonet::is_closed(&ln.accept().unwrap_err()));
        assert!(
            !std::path::Path::new(&path).exists(),
            "accept returned before the unlink"
        );
        closer.join().unwrap().unwrap();
    }
}
