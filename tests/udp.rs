//! UDP on the netpoller: `listen_packet` / `listen_udp` / `dial("udp")`, request/response
//! under load, `close` waking a parked `read_from`, deadlines, ICMP errors on connected
//! sockets, buffer sizes, truncation, control messages, and every error path with Go's
//! text.

mod util;

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gonet::net::{self, Addr, PacketConn, UdpAddr, UdpConn};

/// A UDP port on 127.0.0.1 where nothing listens: bound by the kernel's choice, then
/// released (the kernel hands ports out in turn, so it stays free for the test).
fn closed_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

fn udp(addr: &Addr) -> UdpAddr {
    match addr {
        Addr::Udp(u) => u.clone(),
        other => panic!("not a UDP address: {other:?}"),
    }
}

/// Echoes every datagram to its sender until `pc` is closed; returns how many.
fn serve_echo(pc: PacketConn) -> u64 {
    let mut buf = vec![0u8; 65536];
    let mut n_dgrams = 0;
    loop {
        match pc.read_from(&mut buf) {
            Ok((n, from)) => {
                n_dgrams += 1;
                pc.write_to(&buf[..n], &from).expect("echo write_to");
            }
            Err(e) if gonet::is_closed(&e) => return n_dgrams,
            Err(e) => panic!("echo read_from: {e}"),
        }
    }
}

/// The request a client sends for round `seq`: its id, the round, and a pattern whose
/// length and bytes depend on both.
fn request(id: u32, seq: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(96);
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    let len = 24 + ((id as usize * 7 + seq as usize * 13) % 64);
    v.extend((0..len).map(|i| (i as u32 * 31 + id + seq * 17) as u8));
    v
}

#[test]
fn echo_with_1000_coroutines_every_datagram_checked() {
    const CLIENTS: u32 = 1000;
    const ROUNDS: u32 = 10;
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    // A burst of 1,000 datagrams overflows the default 208 KiB receive buffer; what the
    // kernel then drops is resent below (as a DNS client would), so the test holds on a
    // machine whose net.core.rmem_max caps this request too.
    pc.set_read_buffer(4 << 20).unwrap();
    let server_addr = pc.local_addr().to_string();
    let server = {
        let pc = pc.clone();
        gonet::go!(move || serve_echo(pc))
    };
    let resent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let (addr, resent) = (server_addr.clone(), resent.clone());
            gonet::go!(move || -> Result<(), String> {
                let conn = net::dial("udp", &addr).map_err(|e| e.to_string())?;
                let mut buf = [0u8; 256];
                for seq in 0..ROUNDS {
                    let want = request(id, seq);
                    let mut tries = 0;
                    'send: loop {
                        if Instant::now() > deadline || tries == 50 {
                            return Err(format!("client {id} round {seq}: no answer"));
                        }
                        tries += 1;
                        conn.write(&want).map_err(|e| e.to_string())?;
                        let wait = Instant::now() + Duration::from_millis(300 * tries);
                        conn.set_read_deadline(Some(wait)).unwrap();
                        loop {
                            let n = match conn.read(&mut buf) {
                                Ok(n) => n,
                                Err(e) if gonet::is_timeout(&e) => {
                                    resent.fetch_add(1, Ordering::Relaxed);
                                    continue 'send;
                                }
                                Err(e) => return Err(e.to_string()),
                            };
                            let got = &buf[..n];
                            if got == want.as_slice() {
                                break 'send;
                            }
                            // A late echo of a round already answered (it was resent):
                            // it must still be exactly what was sent then.
                            let old = u32::from_be_bytes(got[4..8].try_into().unwrap());
                            if old >= seq || got != request(id, old).as_slice() {
                                return Err(format!("client {id} round {seq}: bad echo {got:?}"));
                            }
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    for (id, c) in clients.into_iter().enumerate() {
        c.join()
            .unwrap_or_else(|_| panic!("client {id} panicked"))
            .unwrap();
    }
    pc.close().unwrap();
    let echoed = server.join().unwrap();
    let resent = resent.load(Ordering::Relaxed);
    // Every round reached the server at least once; no datagram reached it twice.
    let rounds = u64::from(CLIENTS * ROUNDS);
    assert!(
        echoed >= rounds && echoed <= rounds + resent,
        "the server echoed {echoed} datagrams for {rounds} rounds and {resent} resends"
    );
    eprintln!("{rounds} round trips, {resent} resends");
}

/// Runs a `read_from` that will park (in a coroutine or a plain thread), waits until it
/// is parked, closes the socket, and returns what the read returned.
fn close_a_parked_read_from(in_coroutine: bool) -> std::io::Error {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let reader = pc.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let body = move || {
        tx.send(util::gettid()).unwrap();
        reader.read_from(&mut [0u8; 64]).map(|_| ()).unwrap_err()
    };
    let join: Box<dyn FnOnce() -> std::io::Error> = if in_coroutine {
        let h = gonet::go!(body);
        Box::new(move || h.join().unwrap())
    } else {
        let h = std::thread::spawn(body);
        Box::new(move || h.join().unwrap())
    };
    let tid = rx.recv().unwrap();
    assert!(
        util::wait_until_sleeping(tid, Duration::from_secs(10)),
        "the reader never blocked"
    );
    let t0 = Instant::now();
    pc.close().unwrap();
    let err = join();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "close took {:?}",
        t0.elapsed()
    );
    assert_eq!(
        err.to_string(),
        format!(
            "read udp {}: use of closed network connection",
            pc.local_addr()
        )
    );
    assert!(gonet::is_closed(&err));
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    err
}

#[test]
fn close_wakes_a_read_from_parked_in_a_coroutine() {
    close_a_parked_read_from(true);
}

#[test]
fn close_wakes_a_read_from_blocked_in_a_thread() {
    close_a_parked_read_from(false);
}

#[test]
fn close_lands_anywhere_in_a_read_from() {
    // Before the read, between its check and recvfrom, or while it waits: every way, the
    // read ends with Go's closed error.
    for round in 0..200 {
        let pc = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
        let reader = pc.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = if round % 2 == 0 {
            gonet::go!(move || {
                tx.send(()).unwrap();
                reader.read_from(&mut [0u8; 8]).map(|_| ())
            })
        } else {
            let t = std::thread::spawn(move || {
                tx.send(()).unwrap();
                reader.read_from(&mut [0u8; 8]).map(|_| ())
            });
            gonet::go!(move || t.join().unwrap())
        };
        rx.recv().unwrap();
        pc.close().unwrap();
        let err = h.join().unwrap().unwrap_err();
        assert!(gonet::is_closed(&err), "round {round}: {err}");
    }
}

#[test]
fn after_close_every_call_fails_with_gos_error() {
    let pc = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    let la = pc.local_addr();
    pc.close().unwrap();
    let closed = "use of closed network connection";
    assert_eq!(
        util::text(pc.read_from(&mut [0u8; 4])),
        format!("read udp4 {la}: {closed}")
    );
    assert_eq!(
        util::text(pc.write_to(b"x", &la)),
        format!("write udp4 {la}->{la}: {closed}")
    );
    assert_eq!(util::text(pc.close()), format!("close udp4 {la}: {closed}"));
    assert_eq!(
        util::text(pc.set_deadline(None)),
        format!("set udp4 {la}: {closed}")
    );
}

#[test]
fn a_read_deadline_fails_read_from_with_gos_text() {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let t0 = Instant::now();
    pc.set_read_deadline(Some(t0 + Duration::from_millis(50)))
        .unwrap();
    let err = pc.read_from(&mut [0u8; 16]).unwrap_err();
    assert!(t0.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        err.to_string(),
        format!("read udp {}: i/o timeout", pc.local_addr())
    );
    assert!(gonet::is_timeout(&err));
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    // Cleared, the socket reads again.
    pc.set_read_deadline(None).unwrap();
    pc.write_to(b"me", &pc.local_addr()).unwrap();
    assert_eq!(pc.read_from(&mut [0u8; 16]).unwrap().0, 2);
}

#[test]
fn a_new_deadline_reaches_a_parked_read_from() {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let reader = pc.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = gonet::go!(move || {
        tx.send(util::gettid()).unwrap();
        reader.read_from(&mut [0u8; 8]).map(|_| ()).unwrap_err()
    });
    assert!(util::wait_until_sleeping(
        rx.recv().unwrap(),
        Duration::from_secs(10)
    ));
    pc.set_read_deadline(Some(Instant::now())).unwrap();
    let err = h.join().unwrap();
    assert!(gonet::is_timeout(&err), "{err}");
}

#[test]
fn a_connected_socket_sees_connection_refused_after_writing_to_a_closed_port() {
    for in_coroutine in [true, false] {
        let port = closed_udp_port();
        let run = move || {
            let conn = net::dial("udp", &format!("127.0.0.1:{port}")).unwrap();
            conn.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
                .unwrap();
            conn.write(b"anyone?").unwrap();
            // The ICMP port unreachable comes back at once on loopback; the read that
            // waits for an answer gets it instead.
            let err = conn.read(&mut [0u8; 64]).unwrap_err();
            (conn.local_addr(), err)
        };
        let (la, err) = if in_coroutine {
            gonet::go!(run).join().unwrap()
        } else {
            run()
        };
        assert_eq!(
            err.to_string(),
            format!("read udp {la}->127.0.0.1:{port}: read: connection refused")
        );
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(
            gonet::OpError::of(&err).unwrap().errno(),
            Some(libc::ECONNREFUSED)
        );
    }
}

#[test]
fn a_write_after_an_icmp_error_fails_with_gos_text() {
    let port = closed_udp_port();
    let conn = net::dial("udp", &format!("127.0.0.1:{port}")).unwrap();
    let la = conn.local_addr();
    // Each write draws an ICMP error that the next call reports: the second write fails.
    let mut err = None;
    assert!(util::eventually(Duration::from_secs(10), || {
        match conn.write(b"x") {
            Ok(_) => false,
            Err(e) => {
                err = Some(e);
                true
            }
        }
    }));
    assert_eq!(
        err.unwrap().to_string(),
        format!("write udp {la}->127.0.0.1:{port}: write: connection refused")
    );
}

#[test]
fn an_unconnected_socket_ignores_icmp_errors() {
    // Linux reports ICMP errors only to connected UDP sockets: a server's read_from
    // keeps waiting for real datagrams after writing to a closed port.
    let pc = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    let closed: Addr = UdpAddr::from(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        closed_udp_port(),
    )))
    .into();
    pc.write_to(b"x", &closed).unwrap();
    pc.set_read_deadline(Some(Instant::now() + Duration::from_millis(100)))
        .unwrap();
    assert!(gonet::is_timeout(&pc.read_from(&mut [0u8; 8]).unwrap_err()));
    assert_eq!(pc.write_to(b"y", &closed).unwrap(), 1);
}

#[test]
fn wildcard_udp_is_dual_stack_and_reports_senders_like_go() {
    let pc = net::listen_packet("udp", ":0").unwrap();
    let la = pc.local_addr();
    assert!(la.to_string().starts_with("[::]:"), "{la}");
    assert_eq!(la.network(), "udp");
    let port = la.socket_addr().unwrap().port();
    for host in ["127.0.0.1", "[::1]"] {
        let c = net::dial("udp", &format!("{host}:{port}")).unwrap();
        c.write(host.as_bytes()).unwrap();
        let mut buf = [0u8; 32];
        let (n, from) = pc.read_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], host.as_bytes());
        // An IPv4 sender on the dual-stack socket prints as IPv4, as in Go.
        assert_eq!(from, c.local_addr());
        assert_eq!(from.network(), "udp");
        pc.write_to(&buf[..n], &from).unwrap();
        assert_eq!(c.read(&mut buf).unwrap(), n);
    }
}

#[test]
fn udp4_and_udp6_stay_in_their_family() {
    let v4 = net::listen_packet("udp4", ":0").unwrap();
    assert!(v4.local_addr().to_string().starts_with("0.0.0.0:"));
    let v6 = net::listen_packet("udp6", ":0").unwrap();
    assert!(v6.local_addr().to_string().starts_with("[::]:"));
    // udp6 is V6ONLY: an IPv4 datagram to its port does not arrive.
    let port = v6.local_addr().socket_addr().unwrap().port();
    let to4: Addr = UdpAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], port))).into();
    let to6: Addr = UdpAddr::from(std::net::SocketAddr::from((
        std::net::Ipv6Addr::LOCALHOST,
        port,
    )))
    .into();
    v4.write_to(b"4", &to4).unwrap();
    let s6 = net::listen_packet("udp6", "[::1]:0").unwrap();
    s6.write_to(b"6", &to6).unwrap();
    let mut buf = [0u8; 4];
    let (n, _) = v6.read_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"6");
    v6.set_read_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    assert!(gonet::is_timeout(&v6.read_from(&mut buf).unwrap_err()));
    // An IPv6 target from an IPv4 socket is Go's AddrError, before any system call.
    let err = v4.write_to(b"x", &to6).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "write udp4 {}->[::1]:{port}: address ::1: non-IPv4 address",
            v4.local_addr()
        )
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn write_to_rejects_what_go_rejects() {
    let pc = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    let la = pc.local_addr();
    // Another kind of address: EINVAL, named with the address.
    let unix = Addr::Unix(gonet::UnixAddr::new("/tmp/x.sock", "unixgram"));
    assert_eq!(
        util::text(pc.write_to(b"x", &unix)),
        format!("write udp4 {la}->/tmp/x.sock: invalid argument")
    );
    let tcp = Addr::Tcp(gonet::TcpAddr::from(la.socket_addr().unwrap()));
    assert_eq!(
        util::text(pc.write_to(b"x", &tcp)),
        format!("write udp4 {la}->{la}: invalid argument")
    );
    // A connected socket: Go's ErrWriteToConnected.
    let c = UdpConn::try_from(net::dial("udp", &la.to_string()).unwrap()).unwrap();
    let err = c.write_to(b"x", &la).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "write udp {}->{la}: use of WriteTo with pre-connected connection",
            c.local_addr()
        )
    );
    assert!(
        gonet::OpError::of(&err)
            .unwrap()
            .err
            .is::<gonet::ErrWriteToConnected>()
    );
    // A datagram bigger than UDP allows: the kernel's EMSGSIZE, in Go's words.
    let big = vec![0u8; 70_000];
    assert_eq!(
        util::text(pc.write_to(&big, &la)),
        format!("write udp4 {la}->{la}: sendto: message too long")
    );
}

#[test]
fn datagrams_keep_their_boundaries_and_are_cut_to_the_buffer() {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let c = UdpConn::try_from(net::dial("udp", &pc.local_addr().to_string()).unwrap()).unwrap();
    c.write(b"first datagram").unwrap();
    c.write(b"").unwrap(); // an empty datagram is sent, as by Go's Write
    c.write(b"third").unwrap();
    let mut small = [0u8; 5];
    assert_eq!(pc.read_from(&mut small).unwrap().0, 5);
    assert_eq!(&small, b"first", "the rest of the datagram is dropped");
    let (n, from) = pc.read_from(&mut small).unwrap();
    assert_eq!((n, from), (0, c.local_addr()), "the empty datagram");
    assert_eq!(pc.read_from(&mut small).unwrap().0, 5);
    assert_eq!(&small, b"third");
    // A read into an empty buffer returns at once and consumes nothing (Go's FD.Read).
    pc.write_to(b"kept", &c.local_addr()).unwrap();
    assert_eq!(c.read(&mut []).unwrap(), 0);
    let mut buf = [0u8; 8];
    assert_eq!(c.read(&mut buf).unwrap(), 4);
    // ReadMsgUDP says it was cut.
    c.write(b"0123456789").unwrap();
    let u = UdpConn::try_from(pc.clone()).unwrap();
    let (n, oobn, flags, from) = u.read_msg_udp(&mut small, &mut []).unwrap();
    assert_eq!((n, oobn), (5, 0));
    assert!(flags & libc::MSG_TRUNC != 0, "flags {flags:#x}");
    assert_eq!(Addr::Udp(from), c.local_addr());
}

#[test]
fn read_msg_udp_returns_control_messages() {
    let u = net::listen_udp(
        "udp4",
        Some(&net::resolve_udp_addr("udp4", "127.0.0.1:0").unwrap()),
    )
    .unwrap();
    let on: libc::c_int = 1;
    // SAFETY: a valid int option value of the size given, on a live socket.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&*u),
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    let me = udp(&u.local_addr());
    assert_eq!(u.write_msg_udp(b"pktinfo", &[], Some(&me)).unwrap(), (7, 0));
    let mut oob = [0u8; 128];
    let (n, oobn, flags, from) = u.read_msg_udp(&mut [0u8; 16], &mut oob).unwrap();
    assert_eq!((n, flags & libc::MSG_CTRUNC, &from), (7, 0, &me));
    // One IP_PKTINFO control message, naming the address it came to.
    // SAFETY: oob holds oobn bytes of control messages written by the kernel; the
    // msghdr only points at them for the CMSG_* macros.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_control = oob.as_mut_ptr().cast();
        msg.msg_controllen = oobn as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        assert!(!cmsg.is_null());
        assert_eq!(
            ((*cmsg).cmsg_level, (*cmsg).cmsg_type),
            (libc::IPPROTO_IP, libc::IP_PKTINFO)
        );
        let info = &*(libc::CMSG_DATA(cmsg) as *const libc::in_pktinfo);
        assert_eq!(u32::from_be(info.ipi_addr.s_addr), 0x7f00_0001);
    }
    // WriteMsgUDP needs an address exactly when the socket is not connected.
    assert_eq!(
        util::text(u.write_msg_udp(b"x", &[], None)),
        format!("write udp4 {me}: missing address")
    );
    let c = net::dial_udp("udp", None, &me).unwrap();
    assert_eq!(c.write_msg_udp(b"x", &[], None).unwrap(), (1, 0));
    assert!(
        util::text(c.write_msg_udp(b"x", &[], Some(&me)))
            .ends_with("use of WriteTo with pre-connected connection")
    );
}

#[test]
fn readers_on_one_socket_take_turns_and_each_datagram_goes_to_one() {
    const N: u32 = 400;
    let pc = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    pc.set_read_buffer(1 << 20).unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let pc = pc.clone();
            gonet::go!(move || {
                let mut got = Vec::new();
                let mut buf = [0u8; 8];
                while let Ok((4, _)) = pc.read_from(&mut buf) {
                    got.push(u32::from_be_bytes(buf[..4].try_into().unwrap()));
                }
                got
            })
        })
        .collect();
    let c = net::dial("udp", &pc.local_addr().to_string()).unwrap();
    for i in 0..N {
        c.write(&i.to_be_bytes()).unwrap();
    }
    // The end marker for each reader: a 1-byte datagram.
    let mut all = Vec::new();
    assert!(util::eventually(Duration::from_secs(10), || {
        c.write(b"!").unwrap();
        readers.iter().all(|r| r.is_done())
    }));
    for r in readers {
        all.extend(r.join().unwrap());
    }
    all.sort_unstable();
    all.dedup();
    assert!(all.len() as u32 <= N);
    assert!(all.iter().all(|&i| i < N));
    // On loopback with a 1 MiB buffer nothing is lost.
    assert_eq!(all.len() as u32, N);
}

#[test]
fn buffer_sizes_are_set_as_go_sets_them() {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    pc.set_read_buffer(64 << 10).unwrap();
    pc.set_write_buffer(32 << 10).unwrap();
    let s = socket2::SockRef::from(&pc);
    // Linux doubles the value for its bookkeeping.
    assert_eq!(s.recv_buffer_size().unwrap(), 128 << 10);
    assert_eq!(s.send_buffer_size().unwrap(), 64 << 10);
    let c = net::dial("udp", &pc.local_addr().to_string()).unwrap();
    c.set_read_buffer(16 << 10).unwrap();
    assert_eq!(
        socket2::SockRef::from(&c).recv_buffer_size().unwrap(),
        32 << 10
    );
    // Go sets SO_BROADCAST on every UDP socket.
    assert!(s.broadcast().unwrap());
    assert!(socket2::SockRef::from(&c).broadcast().unwrap());
    pc.close().unwrap();
    assert!(gonet::is_closed(&pc.set_read_buffer(1).unwrap_err()));
    // Go names only the local address in a "set" error, connected or not.
    let la = c.local_addr();
    c.close().unwrap();
    assert_eq!(
        util::text(c.set_write_buffer(1)),
        format!("set udp {la}: use of closed network connection")
    );
}

#[test]
fn a_write_deadline_fails_write_to_at_once() {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    pc.set_write_deadline(Some(Instant::now())).unwrap();
    let la = pc.local_addr();
    assert_eq!(
        util::text(pc.write_to(b"x", &la)),
        format!("write udp {la}->{la}: i/o timeout")
    );
    pc.set_deadline(None).unwrap();
    assert_eq!(pc.write_to(b"x", &la).unwrap(), 1);
}

#[test]
fn typed_conversions_are_gos_type_assertions() {
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let u = UdpConn::try_from(pc.clone()).unwrap();
    assert_eq!(u.local_addr(), pc.local_addr());
    assert_eq!(u.remote_addr(), None);
    assert_eq!(u.clone().into_packet_conn(), pc);
    let conn = net::dial("udp", &pc.local_addr().to_string()).unwrap();
    let c = UdpConn::try_from(conn).unwrap();
    assert_eq!(c.remote_addr(), Some(pc.local_addr()));
    // A TCP conn is not a UdpConn, a unixgram PacketConn is not either.
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let tcp = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    assert!(UdpConn::try_from(tcp).is_err());
    let ug = net::listen_packet("unixgram", "").unwrap();
    assert!(UdpConn::try_from(ug).is_err());
}

#[test]
fn a_dialer_binds_its_local_udp_address() {
    let pc = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    let la = net::resolve_udp_addr("udp", "127.0.0.2:0").unwrap();
    let d = gonet::Dialer {
        local_addr: Some(la.into()),
        ..Default::default()
    };
    let c = d.dial("udp", &pc.local_addr().to_string()).unwrap();
    assert!(c.local_addr().to_string().starts_with("127.0.0.2:"));
    c.write(b"from .2").unwrap();
    let (_, from) = pc.read_from(&mut [0u8; 16]).unwrap();
    assert_eq!(from, c.local_addr());
    // A local address of another kind, or of the other family: Go's errors.
    let d = gonet::Dialer {
        local_addr: Some(Addr::Tcp(gonet::TcpAddr::default())),
        ..Default::default()
    };
    assert_eq!(
        util::text(d.dial("udp", "127.0.0.1:9")),
        "dial udp: address :0: mismatched local address type"
    );
    let d = gonet::Dialer {
        local_addr: Some(net::resolve_udp_addr("udp", "[::1]:0").unwrap().into()),
        ..Default::default()
    };
    assert_eq!(
        util::text(d.dial("udp", "127.0.0.1:9")),
        "dial udp: address [::1]:0: no suitable address found"
    );
}

#[test]
fn listen_and_dial_errors_are_gos() {
    let taken = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().to_string();
    type Call = Box<dyn Fn() -> std::io::Result<()>>;
    let cases: Vec<(Call, String)> = vec![
        (
            Box::new(|| net::listen_packet("udp", ":99999").map(drop)),
            "listen udp: address 99999: invalid port".into(),
        ),
        (
            Box::new(|| net::listen_packet("udp4", "[::1]:0").map(drop)),
            "listen udp4: address ::1: no suitable address found".into(),
        ),
        (
            Box::new(|| net::listen_packet("udpx", ":0").map(drop)),
            "listen udpx: unknown network udpx".into(),
        ),
        (
            Box::new(|| net::listen_packet("tcp", ":0").map(drop)),
            "listen tcp :0: address :0: unexpected address type".into(),
        ),
        (
            Box::new(|| net::listen_packet("udp", "127.0.0.1:nosuchservice").map(drop)),
            "listen udp: address udp/nosuchservice: unknown port".into(),
        ),
        (
            Box::new(move || net::listen_packet("udp", &taken.local_addr().to_string()).map(drop)),
            format!("listen udp {taken_addr}: bind: address already in use"),
        ),
        (
            Box::new(|| net::dial("udp", "127.0.0.1").map(drop)),
            "dial udp: address 127.0.0.1: missing port in address".into(),
        ),
        (
            Box::new(|| net::dial("udp6", "127.0.0.1:9").map(drop)),
            "dial udp6: address 127.0.0.1: no suitable address found".into(),
        ),
        (
            Box::new(|| net::dial("udp", "").map(drop)),
            "dial udp: missing address".into(),
        ),
    ];
    for (call, want) in cases {
        assert_eq!(call().unwrap_err().to_string(), want);
    }
    // A service name known for UDP only.
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    drop(pc);
    assert_eq!(
        net::resolve_udp_addr("udp", "127.0.0.1:ntp").unwrap().port,
        123
    );
}

#[test]
fn udp_works_from_plain_threads() {
    // main-style code, no coroutine anywhere: reads block the thread in poll(2).
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let server = {
        let pc = pc.clone();
        std::thread::spawn(move || serve_echo(pc))
    };
    let c = net::dial("udp", &pc.local_addr().to_string()).unwrap();
    c.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap();
    for i in 0..100u32 {
        c.write(&i.to_le_bytes()).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(c.read(&mut buf).unwrap(), 4);
        assert_eq!(u32::from_le_bytes(buf), i);
    }
    pc.close().unwrap();
    assert_eq!(server.join().unwrap(), 100);
}
