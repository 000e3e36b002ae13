//! `listen` / `ListenConfig` / `Listener` over TCP: Go's address forms, socket options,
//! backlog, errors, and `close` waking a parked `accept`.

mod util;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socket2::SockRef;

fn port_of(ln: &gonet::Listener) -> u16 {
    ln.addr().socket_addr().expect("tcp addr").port()
}

#[test]
fn wildcard_listens_dual_stack_and_prints_like_go() {
    for addr in [":0", "", "0.0.0.0:0", "[::]:0"] {
        let ln = gonet::listen("tcp", addr).unwrap();
        let port = port_of(&ln);
        assert_eq!(
            ln.addr().to_string(),
            format!("[::]:{port}"),
            "listen tcp {addr:?}"
        );
        assert_eq!(ln.addr().network(), "tcp");
        // One socket takes both families.
        let v4 = gonet::dial("tcp", &format!("127.0.0.1:{port}")).unwrap();
        let v6 = gonet::dial("tcp", &format!("[::1]:{port}")).unwrap();
        let a4 = ln.accept().unwrap();
        let a6 = ln.accept().unwrap();
        // Go shows IPv4-mapped peers as plain IPv4.
        assert_eq!(a4.remote_addr(), v4.local_addr());
        assert!(a4.remote_addr().to_string().starts_with("127.0.0.1:"));
        assert_eq!(a4.local_addr().to_string(), format!("127.0.0.1:{port}"));
        assert_eq!(a6.remote_addr(), v6.local_addr());
        assert!(a6.remote_addr().to_string().starts_with("[::1]:"));
    }
}

#[test]
fn tcp4_and_tcp6_stay_in_their_family() {
    let ln4 = gonet::listen("tcp4", ":0").unwrap();
    assert_eq!(ln4.addr().to_string(), format!("0.0.0.0:{}", port_of(&ln4)));

    let ln6 = gonet::listen("tcp6", ":0").unwrap();
    let port = port_of(&ln6);
    assert_eq!(ln6.addr().to_string(), format!("[::]:{port}"));
    // IPV6_V6ONLY: IPv4 clients are refused.
    let err = gonet::dial("tcp", &format!("127.0.0.1:{port}")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial tcp 127.0.0.1:{port}: connect: connection refused")
    );
    assert!(SockRef::from(&ln6).only_v6().unwrap());
    assert!(
        !SockRef::from(&gonet::listen("tcp", ":0").unwrap())
            .only_v6()
            .unwrap()
    );
}

#[test]
fn localhost_and_service_names_resolve_like_go() {
    let ln = gonet::listen("tcp", "localhost:0").unwrap();
    assert!(ln.addr().to_string().starts_with("127.0.0.1:"));
    // A port given as a service name (netbase's /etc/services, or Go's built-in table).
    if let Ok(ln) = gonet::listen("tcp", "127.0.0.1:kermit") {
        assert_eq!(ln.addr().to_string(), "127.0.0.1:1649");
    }
}

#[test]
fn reuse_addr_but_not_reuse_port() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let sock = SockRef::from(&ln);
    assert!(
        sock.reuse_address().unwrap(),
        "Go sets SO_REUSEADDR on listeners"
    );
    assert!(
        !sock.reuse_port().unwrap(),
        "may's bind sets SO_REUSEPORT; Go does not"
    );
    let addr = ln.addr().to_string();
    let err = gonet::listen("tcp", &addr).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("listen tcp {addr}: bind: address already in use")
    );
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    let op = gonet::OpError::of(&err).unwrap();
    assert_eq!(op.errno(), Some(libc::EADDRINUSE));
    assert!(op.err.downcast_ref::<gonet::SyscallError>().is_some());
}

#[test]
fn backlog_is_somaxconn() {
    let want: i32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(gonet::listener_backlog(), want);
    let ln = gonet::listen("tcp4", "127.0.0.1:0").unwrap();
    let port = port_of(&ln);
    // ss shows a listening socket's backlog in its Send-Q column.
    let out = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2) is needed for this test");
    let text = String::from_utf8_lossy(&out.stdout);
    let send_q: i32 = text
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the backlog from ss: {text:?}"));
    assert_eq!(send_q, want);
}

/// `tr` values of /proc/net/tcp: which timer a socket has pending.
const NO_TIMER: u8 = 0;
const KEEPALIVE_TIMER: u8 = 2;

/// The pending-timer code (`tr`) of `conn`'s line in /proc/net/tcp.
fn tcp_timer(conn: &gonet::Conn) -> u8 {
    let port = |a: gonet::Addr| format!(":{:04X}", a.socket_addr().unwrap().port());
    let (local, remote) = (port(conn.local_addr()), port(conn.remote_addr()));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let line = table
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 5 && f[1].ends_with(&local) && f[2].ends_with(&remote)
        })
        .unwrap_or_else(|| panic!("no {local}->{remote} in /proc/net/tcp"));
    let tr = line.split_whitespace().nth(5).unwrap();
    u8::from_str_radix(&tr[..2], 16).unwrap()
}

#[test]
fn accepted_conns_get_nodelay_and_keep_alive() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let conn = ln.accept().unwrap();
    let s = SockRef::from(&conn);
    assert!(s.tcp_nodelay().unwrap());
    assert!(s.keepalive().unwrap());
    assert_eq!(s.tcp_keepalive_time().unwrap(), Duration::from_secs(15));
    assert_eq!(s.tcp_keepalive_interval().unwrap(), Duration::from_secs(15));
    // The conns inherit these from the listening socket; the kernel must also have
    // started each one's keep-alive timer, not only copied the settings.
    assert_eq!(tcp_timer(&conn), KEEPALIVE_TIMER);

    let lc = gonet::ListenConfig {
        keep_alive: None,
        ..Default::default()
    };
    let ln = lc.listen("tcp", "127.0.0.1:0").unwrap();
    let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let conn = ln.accept().unwrap();
    assert!(!SockRef::from(&conn).keepalive().unwrap());
    assert!(SockRef::from(&conn).tcp_nodelay().unwrap());
    assert_eq!(tcp_timer(&conn), NO_TIMER);

    let lc = gonet::ListenConfig {
        keep_alive: Some(Duration::from_secs(40)),
        ..Default::default()
    };
    let ln = lc.listen("tcp", "127.0.0.1:0").unwrap();
    let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let conn = ln.accept().unwrap();
    assert_eq!(
        SockRef::from(&conn).tcp_keepalive_time().unwrap(),
        Duration::from_secs(40)
    );
}

#[test]
fn control_runs_before_bind_with_gos_arguments() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let lc = gonet::ListenConfig {
        control: Some(Arc::new(
            move |network: &str, address: &str, fd: std::os::fd::BorrowedFd<'_>| {
                // Not bound yet: the kernel reports port 0.
                let port = SockRef::from(&fd)
                    .local_addr()?
                    .as_socket()
                    .map(|a| a.port());
                s2.lock()
                    .unwrap()
                    .push((network.to_string(), address.to_string(), port));
                Ok(())
            },
        )),
        ..Default::default()
    };
    lc.listen("tcp", ":0").unwrap();
    lc.listen("tcp4", "127.0.0.1:0").unwrap();
    lc.listen("tcp", "[::1]:0").unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("tcp6".to_string(), ":0".to_string(), Some(0)),
            ("tcp4".to_string(), "127.0.0.1:0".to_string(), Some(0)),
            ("tcp6".to_string(), "[::1]:0".to_string(), Some(0)),
        ]
    );

    let failing = gonet::ListenConfig {
        control: Some(Arc::new(
            |_: &str, _: &str, _: std::os::fd::BorrowedFd<'_>| Err("control says no".into()),
        )),
        ..Default::default()
    };
    let err = failing.listen("tcp", "127.0.0.1:0").unwrap_err();
    assert_eq!(err.to_string(), "listen tcp 127.0.0.1:0: control says no");
}

#[test]
fn bad_input_gets_gos_errors_never_a_panic() {
    let cases = [
        ("tcp", ":99999", "listen tcp: address 99999: invalid port"),
        ("tcp", ":-1", "listen tcp: address -1: invalid port"),
        (
            "tcp",
            "127.0.0.1",
            "listen tcp: address 127.0.0.1: missing port in address",
        ),
        (
            "tcp",
            "::1:0",
            "listen tcp: address ::1:0: too many colons in address",
        ),
        (
            "tcp",
            "[::1",
            "listen tcp: address [::1: missing ']' in address",
        ),
        (
            "tcp",
            ":nosuchservice",
            "listen tcp: address tcp/nosuchservice: unknown port",
        ),
        (
            "tcp",
            "256.0.0.1:0",
            "listen tcp: lookup 256.0.0.1: no such host",
        ),
        (
            "tcp6",
            "127.0.0.1:0",
            "listen tcp6: address 127.0.0.1: no suitable address found",
        ),
        ("tcpx", ":0", "listen tcpx: unknown network tcpx"),
        ("", ":0", "listen: unknown network "),
        (
            "udp",
            ":0",
            "listen udp :0: address :0: unexpected address type",
        ),
        (
            "tcp",
            "1.2.3.4:0",
            "listen tcp 1.2.3.4:0: bind: cannot assign requested address",
        ),
    ];
    for (net, addr, want) in cases {
        let err = gonet::listen(net, addr).unwrap_err();
        assert_eq!(err.to_string(), want, "listen({net:?}, {addr:?})");
        assert!(
            gonet::OpError::of(&err).is_some(),
            "{want}: an OpError inside"
        );
    }
    let err = gonet::listen("tcp", ":99999").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let op = gonet::OpError::of(&err).unwrap();
    let addr_err = op.err.downcast_ref::<gonet::AddrError>().unwrap();
    assert_eq!(
        (addr_err.err.as_str(), addr_err.addr.as_str()),
        ("invalid port", "99999")
    );
    let err = gonet::listen("tcpx", ":0").unwrap_err();
    let op = gonet::OpError::of(&err).unwrap();
    assert_eq!(
        op.err.downcast_ref::<gonet::UnknownNetworkError>(),
        Some(&gonet::UnknownNetworkError("tcpx".into()))
    );
}

#[test]
fn close_wakes_an_accept_parked_in_a_coroutine() {
    let ln = Arc::new(gonet::listen("tcp", "127.0.0.1:0").unwrap());
    let l2 = ln.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = gonet::go!(move || {
        tx.send(()).unwrap();
        l2.accept()
    });
    rx.recv().unwrap();
    let t0 = Instant::now();
    ln.close().unwrap();
    let err = h.join().unwrap().unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert!(gonet::is_closed(&err));
    assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    assert_eq!(
        err.to_string(),
        format!("accept tcp {}: use of closed network connection", ln.addr())
    );
    // And every later accept, and a second close.
    assert!(gonet::is_closed(&ln.accept().unwrap_err()));
    assert!(gonet::is_closed(&ln.close().unwrap_err()));
}

#[test]
fn close_wakes_an_accept_in_a_thread_wherever_it_lands() {
    // The close lands anywhere in the accept: before it, while it sleeps in poll(2), or
    // between its check for close and the accept4 that the shutdown then fails with
    // EINVAL. Each way, Go's text: "use of closed network connection".
    for round in 0..300 {
        let ln = Arc::new(gonet::listen("tcp", "127.0.0.1:0").unwrap());
        let l2 = ln.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            tx.send(()).unwrap();
            l2.accept()
        });
        rx.recv().unwrap(); // the accept is about to start: close lands in it
        ln.close().unwrap();
        let err = h.join().unwrap().unwrap_err();
        assert!(gonet::is_closed(&err), "round {round}: {err}");
    }
}

#[test]
fn the_port_can_be_listened_on_again_after_close() {
    let ln = gonet::listen("tcp4", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    // A connection in the queue, and one served, as a restarted server would have had.
    let c = gonet::dial("tcp", &addr).unwrap();
    let s = ln.accept().unwrap();
    drop((c, s));
    ln.close().unwrap();
    let again = gonet::listen("tcp4", &addr).unwrap();
    assert_eq!(again.addr().to_string(), addr);
    drop(ln);
    drop(again);
    assert_eq!(
        gonet::listen("tcp4", &addr).unwrap().addr().to_string(),
        addr
    );
}

#[test]
fn listener_is_shared_across_coroutines() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<gonet::Listener>();
    assert_send_sync::<gonet::Conn>();
    // Two acceptors on one listener: each connection goes to exactly one of them.
    let ln = Arc::new(gonet::listen("tcp", "127.0.0.1:0").unwrap());
    let addr = ln.addr().to_string();
    let total = 200;
    let (tx, rx) = std::sync::mpsc::channel();
    let acceptors: Vec<_> = (0..2)
        .map(|_| {
            let (ln, tx) = (ln.clone(), tx.clone());
            gonet::go!(move || {
                let mut n = 0;
                while let Ok(mut c) = ln.accept() {
                    let mut b = [0u8; 1];
                    c.read_exact(&mut b).unwrap();
                    n += 1;
                    tx.send(()).unwrap();
                }
                n
            })
        })
        .collect();
    let _clients: Vec<_> = (0..total)
        .map(|_| {
            let c = gonet::dial("tcp", &addr).unwrap();
            c.write(b"x").unwrap();
            c
        })
        .collect();
    for i in 0..total {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("only {i} of {total} connections served"));
    }
    ln.close().unwrap();
    let served: Vec<usize> = acceptors.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(served.iter().sum::<usize>(), total);
}

#[test]
fn incoming_iterates_accepts() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let clients: Vec<_> = (0..3).map(|_| gonet::dial("tcp", &addr).unwrap()).collect();
    let conns: Vec<_> = ln.incoming().take(3).collect::<Result<_, _>>().unwrap();
    let mut got: Vec<_> = conns.iter().map(|c| c.remote_addr()).collect();
    let mut want: Vec<_> = clients.iter().map(|c| c.local_addr()).collect();
    got.sort_by_key(|a| a.to_string());
    want.sort_by_key(|a| a.to_string());
    assert_eq!(got, want);
}

#[test]
fn accept_deadline_times_out_with_gos_error() {
    let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    ln.set_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    let t0 = Instant::now();
    let err = ln.accept().unwrap_err();
    assert!(t0.elapsed() >= Duration::from_millis(45));
    assert!(gonet::is_timeout(&err));
    assert_eq!(
        err.to_string(),
        format!("accept tcp {}: i/o timeout", ln.addr())
    );
    ln.set_deadline(None).unwrap();
    let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    ln.accept().unwrap();
}

#[test]
fn typed_listeners_convert_like_go_type_assertions() {
    let ln = gonet::TcpListener::listen("tcp", "127.0.0.1:0").unwrap();
    let _c = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
    let tcp: gonet::TcpConn = ln.accept_tcp().unwrap();
    assert!(gonet::UnixConn::try_from(tcp.into_conn()).is_err());
    let general = ln.into_listener();
    assert!(gonet::UnixListener::try_from(general).is_err());
    assert!(gonet::TcpListener::listen("unix", "@gonet-not-tcp").is_err());
}
