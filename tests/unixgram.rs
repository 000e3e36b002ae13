//! Unix datagram sockets: `listen_packet("unixgram")`, `listen_unixgram`, `dial_unix`
//! and `dial("unixgram")`, with paths, abstract names and autobind; unnamed senders;
//! descriptors passed in control messages; close and deadlines; Go's errors.

mod util;

use std::io::ErrorKind;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use gonet::UnixConn;
use gonet::net::{self, Addr, PacketConn, UnixAddr};
use util::TempDir;

fn gram(name: &str) -> UnixAddr {
    UnixAddr::new(name, "unixgram")
}

/// Sends "ping" from `client` to `server`'s address and checks it arrives, with the
/// sender's address, and that the reply goes back.
fn round_trip(server: &PacketConn, client: &UnixConn, want_from: Option<&str>) {
    client
        .write_to_unix(
            b"ping",
            &match server.local_addr() {
                Addr::Unix(u) => u,
                other => panic!("{other:?}"),
            },
        )
        .unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = server.read_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    let Addr::Unix(from) = from else {
        panic!("{from:?}")
    };
    assert_eq!(from.net, "unixgram");
    match want_from {
        Some(name) => {
            assert_eq!(from.name, name);
            server.write_to(b"pong", &Addr::Unix(from)).unwrap();
            assert_eq!(client.read(&mut buf).unwrap(), 4);
            assert_eq!(&buf[..4], b"pong");
        }
        None => assert_eq!(from.name, "", "an unbound sender has no name"),
    }
}

#[test]
fn paths_carry_datagrams_both_ways_and_stay_after_close() {
    let dir = TempDir::new("unixgram-path");
    let (spath, cpath) = (dir.sock("server.sock"), dir.sock("client.sock"));
    let server = net::listen_packet("unixgram", &spath).unwrap();
    assert_eq!(server.local_addr().to_string(), spath);
    assert_eq!(server.local_addr().network(), "unixgram");
    let client = net::listen_unixgram("unixgram", &gram(&cpath)).unwrap();
    round_trip(&server, &client, Some(&cpath));
    // Go's UnixConn has no unlink-on-close: the files stay.
    server.close().unwrap();
    drop(client);
    assert!(std::path::Path::new(&spath).exists());
    assert!(std::path::Path::new(&cpath).exists());
    // So a second listen on the path fails, in Go's words.
    assert_eq!(
        util::text(net::listen_packet("unixgram", &spath)),
        format!("listen unixgram {spath}: bind: address already in use")
    );
}

#[test]
fn abstract_names_and_autobind() {
    let name = util::abstract_name("gram");
    let server = net::listen_packet("unixgram", &name).unwrap();
    assert_eq!(server.local_addr().to_string(), name);
    let cname = util::abstract_name("gram-client");
    let client = net::listen_unixgram("unixgram", &gram(&cname)).unwrap();
    round_trip(&server, &client, Some(&cname));
    // "" binds an abstract name the kernel picks: "@" and five hex digits.
    let auto = net::listen_unixgram("unixgram", &gram("")).unwrap();
    let auto_name = auto.local_addr().to_string();
    assert!(
        auto_name.len() == 6 && auto_name.starts_with('@'),
        "{auto_name}"
    );
    round_trip(&server, &auto, Some(&auto_name));
}

#[test]
fn an_unbound_sender_has_no_address() {
    let name = util::abstract_name("gram-unbound");
    let server = net::listen_packet("unixgram", &name).unwrap();
    // dial("unixgram") connects without binding: the server sees no name.
    let c = gonet::dial("unixgram", &name).unwrap();
    assert_eq!(c.remote_addr().to_string(), name);
    assert_eq!(
        c.local_addr().to_string(),
        "@",
        "an unnamed socket prints as Go's"
    );
    c.write(b"anon").unwrap();
    let uc = UnixConn::try_from(server.clone()).unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = uc.read_from_unix(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"anon"[..], None));
    c.write(b"anon").unwrap();
    let (_, from) = server.read_from(&mut buf).unwrap();
    assert_eq!(from, Addr::Unix(gram("")));
    // Nobody to answer: the nameless address is Go's nil, refused as Go refuses
    // WriteTo(b, nil); the typed call with an explicit empty name reaches sendto.
    assert_eq!(
        util::text(server.write_to(b"x", &from)),
        format!("write unixgram {name}: invalid argument")
    );
    assert_eq!(
        util::text(uc.write_to_unix(b"x", &gram(""))),
        format!("write unixgram {name}->: sendto: invalid argument")
    );
}

#[test]
fn dial_unix_connects_or_only_binds() {
    let name = util::abstract_name("gram-dial");
    let server = net::listen_packet("unixgram", &name).unwrap();
    let lname = util::abstract_name("gram-dial-local");
    // laddr and raddr: bound and connected; write goes to the peer.
    let c = net::dial_unix("unixgram", Some(&gram(&lname)), &gram(&name)).unwrap();
    assert_eq!(c.local_addr().to_string(), lname);
    assert_eq!(c.remote_addr().to_string(), name);
    c.write(b"hi").unwrap();
    let (_, from) = server.read_from(&mut [0u8; 4]).unwrap();
    assert_eq!(from.to_string(), lname);
    // A connected unixgram socket refuses write_to_unix and WriteMsgUnix (Go 1.19).
    let closed = "use of WriteTo with pre-connected connection";
    assert!(util::text(c.write_to_unix(b"x", &gram(&name))).ends_with(closed));
    assert!(util::text(c.write_msg_unix(b"x", &[], None)).ends_with(closed));
    // laddr only (an empty raddr is Go's nil): a bound socket for write_to_unix.
    let lname2 = util::abstract_name("gram-dial-bound");
    let b = net::dial_unix("unixgram", Some(&gram(&lname2)), &gram("")).unwrap();
    assert_eq!(b.local_addr().to_string(), lname2);
    b.write_to_unix(b"yo", &gram(&name)).unwrap();
    let (_, from) = server.read_from(&mut [0u8; 4]).unwrap();
    assert_eq!(from.to_string(), lname2);
    // Neither: Go's missing address; on a stream network even laddr is not enough.
    assert_eq!(
        util::text(net::dial_unix("unixgram", None, &gram(""))),
        "dial unixgram : missing address"
    );
    assert_eq!(
        util::text(net::dial_unix(
            "unix",
            Some(&UnixAddr::new(&lname, "unix")),
            &UnixAddr::new("", "unix")
        )),
        format!("dial unix {lname}->: missing address")
    );
    assert_eq!(
        util::text(net::dial_unix("udp", None, &gram(&name))),
        format!("dial udp {name}: unknown network udp")
    );
    // Nobody at the name: the kernel's refusal, in Go's words.
    let nobody = util::abstract_name("gram-nobody");
    assert_eq!(
        util::text(net::dial_unix("unixgram", None, &gram(&nobody))),
        format!("dial unixgram {nobody}: connect: connection refused")
    );
}

#[test]
fn write_to_checks_the_address_as_go_does() {
    let name = util::abstract_name("gram-check");
    let pc = UnixConn::try_from(net::listen_packet("unixgram", &name).unwrap()).unwrap();
    // The address's network must be the socket's.
    assert_eq!(
        util::text(pc.write_to_unix(b"x", &UnixAddr::new(&name, "unix"))),
        format!("write unixgram {name}->{name}: address family not supported by protocol")
    );
    // Another kind of address: EINVAL.
    let udp = Addr::Udp(
        "127.0.0.1:9"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    );
    assert_eq!(
        util::text(pc.write_to(b"x", &udp)),
        format!("write unixgram {name}->127.0.0.1:9: invalid argument")
    );
    // Nobody bound at the target.
    let nobody = util::abstract_name("gram-check-nobody");
    assert_eq!(
        util::text(pc.write_to_unix(b"x", &gram(&nobody))),
        format!("write unixgram {name}->{nobody}: sendto: connection refused")
    );
    let dir = TempDir::new("unixgram-check");
    let missing = dir.sock("missing.sock");
    assert_eq!(
        util::text(pc.write_to_unix(b"x", &gram(&missing))),
        format!("write unixgram {name}->{missing}: sendto: no such file or directory")
    );
    // A name too long for sun_path.
    let long = format!("/{}", "x".repeat(200));
    assert_eq!(
        util::text(pc.write_to_unix(b"x", &gram(&long))),
        format!("write unixgram {name}->{long}: sendto: invalid argument")
    );
}

#[test]
fn listen_errors_are_gos() {
    let dir = TempDir::new("unixgram-errors");
    let long = format!("/{}", "y".repeat(120));
    assert_eq!(
        util::text(net::listen_packet("unixgram", &long)),
        format!("listen unixgram {long}: bind: invalid argument")
    );
    assert_eq!(
        util::text(net::listen_packet("unixgram", "/nonexistent/dir/x.sock")),
        "listen unixgram /nonexistent/dir/x.sock: bind: no such file or directory"
    );
    let path = dir.sock("g.sock");
    assert_eq!(
        util::text(net::listen_unixgram("unix", &gram(&path))),
        format!("listen unix {path}: unknown network unix")
    );
    assert_eq!(
        util::text(net::listen_unix("unixgram", &gram(&path))),
        format!("listen unixgram {path}: unknown network unixgram")
    );
}

/// Parks a `read_from_unix` (coroutine or thread), closes the socket, returns the error.
fn close_a_parked_read(in_coroutine: bool) -> std::io::Error {
    let name = util::abstract_name("gram-close");
    let pc = net::listen_unixgram("unixgram", &gram(&name)).unwrap();
    let reader = pc.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let body = move || {
        tx.send(util::gettid()).unwrap();
        reader
            .read_from_unix(&mut [0u8; 8])
            .map(|_| ())
            .unwrap_err()
    };
    let h = if in_coroutine {
        gonet::go!(body)
    } else {
        let t = std::thread::spawn(body);
        gonet::go!(move || t.join().unwrap())
    };
    assert!(util::wait_until_sleeping(
        rx.recv().unwrap(),
        Duration::from_secs(10)
    ));
    pc.close().unwrap();
    let err = h.join().unwrap();
    assert_eq!(
        err.to_string(),
        format!("read unixgram {name}: use of closed network connection")
    );
    err
}

#[test]
fn close_wakes_a_parked_read_in_a_coroutine_and_a_thread() {
    assert!(gonet::is_closed(&close_a_parked_read(true)));
    assert!(gonet::is_closed(&close_a_parked_read(false)));
}

#[test]
fn a_read_deadline_fails_with_gos_text() {
    let name = util::abstract_name("gram-deadline");
    let pc = net::listen_packet("unixgram", &name).unwrap();
    pc.set_read_deadline(Some(Instant::now() + Duration::from_millis(30)))
        .unwrap();
    let err = pc.read_from(&mut [0u8; 4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("read unixgram {name}: i/o timeout")
    );
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

#[test]
fn messages_keep_their_boundaries_and_read_msg_says_when_cut() {
    let name = util::abstract_name("gram-trunc");
    let server = UnixConn::try_from(net::listen_packet("unixgram", &name).unwrap()).unwrap();
    let c = gonet::dial("unixgram", &name).unwrap();
    c.write(b"0123456789").unwrap();
    c.write(b"").unwrap();
    let mut small = [0u8; 4];
    let (n, _oobn, flags, from) = server.read_msg_unix(&mut small, &mut []).unwrap();
    assert_eq!((n, from), (4, None));
    assert!(flags & libc::MSG_TRUNC != 0);
    assert_eq!(server.read_from_unix(&mut small).unwrap(), (0, None));
}

#[test]
fn descriptors_travel_in_control_messages() {
    let name = util::abstract_name("gram-rights");
    let server = UnixConn::try_from(net::listen_packet("unixgram", &name).unwrap()).unwrap();
    let client = net::dial_unix("unixgram", None, &gram(&name)).unwrap();
    // Send one end of a pipe, as SCM_RIGHTS.
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 just made both descriptors; nobody else owns them.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let oob = scm_rights(wr.as_raw_fd());
    // A connected unixgram socket refuses WriteMsgUnix (Go 1.19): send from a bound one.
    assert!(client.write_msg_unix(b"fd", &oob, None).is_err());
    let sender = net::listen_unixgram("unixgram", &gram("")).unwrap();
    assert_eq!(
        sender
            .write_msg_unix(b"fd", &oob, Some(&gram(&name)))
            .unwrap(),
        (2, oob.len())
    );
    drop(wr);
    let mut buf = [0u8; 8];
    let mut control = [0u8; 64];
    let (n, oobn, _flags, from) = server.read_msg_unix(&mut buf, &mut control).unwrap();
    assert_eq!(
        (&buf[..n], from.map(|a| a.name)),
        (&b"fd"[..], Some(sender.local_addr().to_string()))
    );
    let got = first_fd(&mut control[..oobn]);
    // SAFETY: the kernel installed this descriptor for us.
    let got = unsafe { OwnedFd::from_raw_fd(got) };
    // Close-on-exec, as Go's ReadMsgUnix asks for (MSG_CMSG_CLOEXEC).
    // SAFETY: F_GETFD on a descriptor we own.
    let flags = unsafe { libc::fcntl(got.as_raw_fd(), libc::F_GETFD) };
    assert!(flags & libc::FD_CLOEXEC != 0);
    // It is the pipe's write end: what it writes, the read end reads.
    let mut w = std::fs::File::from(got);
    std::io::Write::write_all(&mut w, b"through").unwrap();
    drop(w);
    let mut s = String::new();
    std::io::Read::read_to_string(&mut std::fs::File::from(rd), &mut s).unwrap();
    assert_eq!(s, "through");
}

/// One SCM_RIGHTS control message carrying `fd`.
fn scm_rights(fd: i32) -> Vec<u8> {
    let payload = std::mem::size_of::<i32>() as u32;
    // SAFETY: CMSG_SPACE/CMSG_LEN are arithmetic; the header and data are written inside
    // the buffer of CMSG_SPACE bytes that the msghdr describes.
    unsafe {
        let mut buf = vec![0u8; libc::CMSG_SPACE(payload) as usize];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_control = buf.as_mut_ptr().cast();
        msg.msg_controllen = buf.len() as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
        buf
    }
}

/// The first descriptor of the first SCM_RIGHTS message in `control`.
fn first_fd(control: &mut [u8]) -> i32 {
    // SAFETY: control holds control messages written by the kernel; the msghdr only
    // points at them for the CMSG_* macros, which stay inside msg_controllen.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        assert!(!cmsg.is_null(), "no control message");
        assert_eq!((*cmsg).cmsg_type, libc::SCM_RIGHTS);
        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>())
    }
}

#[test]
fn a_stream_conn_passes_descriptors_with_an_empty_message() {
    // WriteMsgUnix on a stream socket with no bytes sends one zero byte, as Go does, so
    // the descriptor travels; it reports 0 bytes written.
    let name = util::abstract_name("stream-rights");
    let ln = net::listen_unix("unix", &UnixAddr::new(&name, "unix")).unwrap();
    let c = net::dial_unix("unix", None, &UnixAddr::new(&name, "unix")).unwrap();
    let s = ln.accept_unix().unwrap();
    let devnull = std::fs::File::open("/dev/null").unwrap();
    let oob = scm_rights(devnull.as_raw_fd());
    assert_eq!(c.write_msg_unix(b"", &oob, None).unwrap(), (0, oob.len()));
    let mut control = [0u8; 64];
    let (n, oobn, _, _) = s.read_msg_unix(&mut [0u8; 4], &mut control).unwrap();
    assert_eq!(n, 1);
    // SAFETY: the kernel installed this descriptor for us.
    drop(unsafe { OwnedFd::from_raw_fd(first_fd(&mut control[..oobn])) });
}
