//! Go's typed calls: `resolve_tcp_addr` / `resolve_udp_addr` / `resolve_unix_addr`,
//! `listen_tcp` / `listen_udp` / `listen_unix` / `listen_unixgram`, `dial_tcp` /
//! `dial_udp` / `dial_unix`, `TcpListener::accept_tcp`, and the `Addr` variants they
//! return; with a property test that resolving never panics and agrees with listening.
//! (Their texts for 90 inputs are compared with live Go in tests/parity.rs.)

mod util;

#[path = "util/address_oracle.rs"]
mod address_oracle;

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use gonet::net::{self, Addr, TcpAddr, UdpAddr, UnixAddr};
use proptest::prelude::*;

#[test]
fn resolve_gives_one_address_as_go_does() {
    let t = net::resolve_tcp_addr("tcp", "localhost:http").unwrap();
    assert_eq!((t.to_string(), t.port), ("127.0.0.1:80".to_string(), 80));
    assert_eq!(net::resolve_tcp_addr("", "127.0.0.1:1").unwrap().port, 1);
    let t = net::resolve_tcp_addr("tcp", "[::ffff:127.0.0.1]:80").unwrap();
    assert_eq!(t.ip, Some(IpAddr::from([127, 0, 0, 1])), "mapped is IPv4");
    let t = net::resolve_tcp_addr("tcp", "[fe80::1%lo]:80").unwrap();
    assert_eq!(
        (t.zone.as_str(), t.to_string()),
        ("lo", "[fe80::1%lo]:80".to_string())
    );
    let SocketAddr::V6(v6) = t.socket_addr() else {
        panic!("an IPv6 address")
    };
    assert_eq!(
        v6.scope_id(),
        1,
        "the zone is the loopback interface's index"
    );
    let t = net::resolve_tcp_addr("tcp", ":0").unwrap();
    assert_eq!((t.ip, t.to_string()), (None, ":0".to_string()));

    let u = net::resolve_udp_addr("udp", "127.0.0.1:ntp").unwrap();
    assert_eq!(
        (u.to_string(), u.network()),
        ("127.0.0.1:123".to_string(), "udp")
    );
    assert_eq!(
        net::resolve_udp_addr("udp4", "localhost:53").unwrap().port,
        53
    );
    assert_eq!(net::resolve_udp_addr("", ":53").unwrap().to_string(), ":53");

    let x = net::resolve_unix_addr("unixgram", "@name").unwrap();
    assert_eq!(x, UnixAddr::new("@name", "unixgram"));
}

#[test]
fn resolve_errors_are_gos_bare_causes() {
    // No OpError around them: the cause itself, as Go's Resolve*Addr returns it.
    let err = net::resolve_tcp_addr("tcp", "127.0.0.1:99999").unwrap_err();
    assert_eq!(err.to_string(), "address 99999: invalid port");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(gonet::OpError::of(&err).is_none());
    let a = err
        .get_ref()
        .unwrap()
        .downcast_ref::<gonet::AddrError>()
        .unwrap();
    assert_eq!((a.err.as_str(), a.addr.as_str()), ("invalid port", "99999"));

    let err = net::resolve_udp_addr("tcp", ":53").unwrap_err();
    assert_eq!(err.to_string(), "unknown network tcp");
    assert_eq!(
        err.get_ref()
            .unwrap()
            .downcast_ref::<gonet::UnknownNetworkError>(),
        Some(&gonet::UnknownNetworkError("tcp".into()))
    );
    let err = net::resolve_unix_addr("", "/x").unwrap_err();
    assert_eq!(err.to_string(), "unknown network ");

    let err = net::resolve_tcp_addr("tcp", "256.0.0.1:80").unwrap_err();
    assert_eq!(err.to_string(), "lookup 256.0.0.1: no such host");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.get_ref().unwrap().is::<gonet::DnsError>());

    let cases = [
        (
            net::resolve_tcp_addr("tcp4", "[::1]:80").map(drop),
            "address ::1: no suitable address found",
        ),
        (
            net::resolve_tcp_addr("tcp", ":ntp").map(drop),
            "address tcp/ntp: unknown port",
        ),
        (
            net::resolve_udp_addr("udp", "127.0.0.1:kermit").map(drop),
            "address udp/kermit: unknown port",
        ),
        (
            net::resolve_udp_addr("udp6", "localhost:53").map(drop),
            "address localhost: no suitable address found",
        ),
        (
            net::resolve_udp_addr("udp", "[::1").map(drop),
            "address [::1: missing ']' in address",
        ),
        (
            net::resolve_tcp_addr("tcp", "127.0.0.1").map(drop),
            "address 127.0.0.1: missing port in address",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(util::text(got), want);
    }
}

/// Whether SO_KEEPALIVE is on.
fn keep_alive(fd: &impl std::os::fd::AsFd) -> bool {
    socket2::SockRef::from(fd).keepalive().unwrap()
}

#[test]
fn listen_tcp_and_dial_tcp_set_the_options_go_sets() {
    let ln = net::listen_tcp(
        "tcp4",
        Some(&net::resolve_tcp_addr("tcp", "127.0.0.1:0").unwrap()),
    )
    .unwrap();
    let Addr::Tcp(la) = ln.addr() else {
        panic!("a TCP listener has a TCP address")
    };
    let c = net::dial_tcp("tcp", None, &la).unwrap();
    let s = ln.accept_tcp().unwrap();
    assert_eq!(s.remote_addr(), c.local_addr());
    assert!(matches!(c.remote_addr(), Addr::Tcp(_)));
    // Both ends without Nagle; keep-alive on what ListenTCP accepts (15 s, as Go's zero
    // ListenConfig), but not on what DialTCP makes (Go sets it only through a Dialer).
    assert!(socket2::SockRef::from(&*c).tcp_nodelay().unwrap());
    assert!(socket2::SockRef::from(&*s).tcp_nodelay().unwrap());
    assert!(keep_alive(&*s));
    assert_eq!(
        socket2::SockRef::from(&*s).tcp_keepalive_time().unwrap(),
        Duration::from_secs(15)
    );
    assert!(!keep_alive(&*c));
    // The bytes go through.
    c.write(b"typed").unwrap();
    let mut buf = [0u8; 5];
    s.read_full(&mut buf).unwrap();
    assert_eq!(&buf, b"typed");
}

#[test]
fn dial_tcp_binds_laddr_and_names_it_in_errors() {
    let ln = net::listen_tcp("tcp", None).unwrap();
    let port = ln.addr().socket_addr().unwrap().port();
    let raddr = net::resolve_tcp_addr("tcp", &format!("127.0.0.1:{port}")).unwrap();
    let laddr = net::resolve_tcp_addr("tcp", "127.0.0.2:0").unwrap();
    let c = net::dial_tcp("tcp", Some(&laddr), &raddr).unwrap();
    assert!(c.local_addr().to_string().starts_with("127.0.0.2:"));
    let refused = util::Refusing::new("127.0.0.1");
    let to: TcpAddr = refused.addr.into();
    assert_eq!(
        util::text(net::dial_tcp("tcp", Some(&laddr), &to)),
        format!("dial tcp 127.0.0.2:0->{to}: connect: connection refused")
    );
    let v6 = net::resolve_tcp_addr("tcp", "[::1]:1").unwrap();
    assert_eq!(
        util::text(net::dial_tcp("tcp4", None, &v6)),
        "dial tcp4 [::1]:1: address ::1: non-IPv4 address"
    );
    assert_eq!(
        util::text(net::dial_tcp("udp", None, &to)),
        format!("dial udp {to}: unknown network udp")
    );
}

#[test]
fn typed_listen_errors_are_gos() {
    let v6 = net::resolve_tcp_addr("tcp", "[::1]:0").unwrap();
    assert_eq!(
        util::text(net::listen_tcp("tcp4", Some(&v6))),
        "listen tcp4 [::1]:0: address ::1: non-IPv4 address"
    );
    let v4 = net::resolve_tcp_addr("tcp", "127.0.0.1:0").unwrap();
    assert_eq!(
        util::text(net::listen_tcp("tcp6", Some(&v4))),
        "listen tcp6 127.0.0.1:0: bind: invalid argument"
    );
    assert_eq!(
        util::text(net::listen_tcp("udp", None)),
        "listen udp: unknown network udp"
    );
    assert_eq!(
        util::text(net::listen_udp("udp4", Some(&UdpAddr::from(v6.clone())))),
        "listen udp4 [::1]:0: address ::1: non-IPv4 address"
    );
    assert_eq!(
        util::text(net::listen_udp("tcp", Some(&v4.clone().into()))),
        "listen tcp 127.0.0.1:0: unknown network tcp"
    );
    let taken = net::listen_tcp("tcp4", Some(&v4)).unwrap();
    let Addr::Tcp(taken_addr) = taken.addr() else {
        panic!()
    };
    assert_eq!(
        util::text(net::listen_tcp("tcp", Some(&taken_addr))),
        format!("listen tcp {taken_addr}: bind: address already in use")
    );
}

#[test]
fn listen_udp_and_dial_udp_talk_with_udp_addresses() {
    let server = net::listen_udp("udp", None).unwrap();
    let Addr::Udp(la) = server.local_addr() else {
        panic!("a UDP socket has a UDP address")
    };
    assert_eq!(
        (la.ip, la.to_string().starts_with("[::]:")),
        (Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)), true)
    );
    let to = UdpAddr {
        ip: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ..la
    };
    let c = net::dial_udp("udp6", None, &to).unwrap();
    assert_eq!(c.remote_addr(), Some(Addr::Udp(to.clone())));
    assert_eq!(server.remote_addr(), None);
    c.write(b"hello").unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = server.read_from_udp(&mut buf).unwrap();
    assert_eq!((n, Addr::Udp(from.clone())), (5, c.local_addr()));
    server.write_to_udp(b"back", &from).unwrap();
    assert_eq!(c.read(&mut buf).unwrap(), 4);
    // And with the SocketAddr forms (Go's *AddrPort calls).
    c.write(b"again").unwrap();
    let (n, from_sa) = server.read_from_udp_addr_port(&mut buf).unwrap();
    assert_eq!((n, from_sa), (5, from.socket_addr()));
    server.write_to_udp_addr_port(b"!", from_sa).unwrap();
    assert_eq!(c.read(&mut buf).unwrap(), 1);
}

#[test]
fn listen_unix_and_dial_unix_are_the_stream_listener_and_conn() {
    let dir = util::TempDir::new("typed-unix");
    let path = dir.sock("typed.sock");
    let ln = net::listen_unix("unix", &net::resolve_unix_addr("unix", &path).unwrap()).unwrap();
    assert_eq!(ln.addr(), Addr::Unix(UnixAddr::new(&path, "unix")));
    let c = net::dial_unix("unix", None, &UnixAddr::new(&path, "unix")).unwrap();
    let s = ln.accept_unix().unwrap();
    c.write(b"unix").unwrap();
    let mut buf = [0u8; 4];
    s.read_full(&mut buf).unwrap();
    assert_eq!(&buf, b"unix");
    ln.close().unwrap();
    assert!(
        !std::path::Path::new(&path).exists(),
        "ListenUnix unlinks on close"
    );
    // unixpacket keeps its message boundaries through the typed calls too.
    let name = util::abstract_name("typed-packet");
    let ln = net::listen_unix("unixpacket", &UnixAddr::new(&name, "unixpacket")).unwrap();
    let c = net::dial_unix("unixpacket", None, &UnixAddr::new(&name, "unixpacket")).unwrap();
    let s = ln.accept_unix().unwrap();
    c.write(b"one").unwrap();
    c.write(b"two").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 3);
    assert_eq!(s.read(&mut buf).unwrap(), 3);
}

#[test]
fn addresses_convert_and_print_like_gos() {
    let sa: SocketAddr = "[::ffff:10.0.0.1]:53".parse().unwrap();
    let u = UdpAddr::from(sa);
    assert_eq!(u.to_string(), "10.0.0.1:53", "IPv4-mapped prints as IPv4");
    let t: TcpAddr = u.clone().into();
    assert_eq!(UdpAddr::from(t.clone()), u);
    assert_eq!(Addr::from(u.clone()).network(), "udp");
    assert_eq!(Addr::from(t).network(), "tcp");
    assert_eq!(
        Addr::from(UnixAddr::new("/x", "unixgram")).network(),
        "unixgram"
    );
    assert_eq!(
        Addr::from(u.clone()).socket_addr(),
        Some("10.0.0.1:53".parse().unwrap())
    );
    let z = UdpAddr {
        ip: Some("fe80::1".parse().unwrap()),
        port: 5353,
        zone: "lo".into(),
    };
    assert_eq!(z.to_string(), "[fe80::1%lo]:5353");
    assert_eq!(UdpAddr::default().to_string(), ":0");
    assert_eq!(UdpAddr::default().socket_addr(), "[::]:0".parse().unwrap());
}

#[test]
fn typed_calls_park_in_coroutines() {
    let ln = net::listen_tcp("tcp", None).unwrap();
    let port = ln.addr().socket_addr().unwrap().port();
    let (c, s) = util::in_coroutine(Duration::from_secs(30), move || {
        let raddr = net::resolve_tcp_addr("tcp", &format!("localhost:{port}")).unwrap();
        let c = net::dial_tcp("tcp", None, &raddr).unwrap();
        (c, ln.accept_tcp().unwrap())
    });
    assert_eq!(c.local_addr(), s.remote_addr());
    let got = util::in_coroutine(Duration::from_secs(30), || {
        let pc = net::listen_udp("udp4", None).unwrap();
        let me = pc.local_addr().socket_addr().unwrap();
        let to = net::resolve_udp_addr("udp", &format!("127.0.0.1:{}", me.port())).unwrap();
        let c = net::dial_udp("udp", None, &to).unwrap();
        c.write(b"co").unwrap();
        pc.read_from_udp(&mut [0u8; 8]).unwrap().0
    });
    assert_eq!(got, 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// For address-like strings: resolving never panics; TCP and UDP read an address the
    /// same way (only the service table differs); a resolved address prints as a string
    /// that resolves to it again; and when resolving fails, `listen_packet` fails with
    /// the same cause, wrapped as Go wraps it, before any socket is made.
    #[test]
    fn resolving_never_panics_and_agrees_with_listening(s in "[0-9a-f:.\\[\\]%+\\-lo]{0,20}") {
        if let Ok((host, _)) = gonet::split_host_port(&s) {
            if address_oracle::could_need_dns(&host) {
                return Ok(());
            }
        }
        let t = net::resolve_tcp_addr("tcp", &s);
        let u = net::resolve_udp_addr("udp", &s);
        match (&t, &u) {
            (Ok(t), Ok(u)) => {
                prop_assert_eq!(&UdpAddr::from(t.clone()), u);
                let again = net::resolve_udp_addr("udp", &u.to_string()).unwrap();
                prop_assert_eq!(&again, u);
            }
            (Err(te), Err(ue)) => {
                prop_assert_eq!(te.to_string().replace("tcp/", "udp/"), ue.to_string());
                let le = net::listen_packet("udp", &s).unwrap_err();
                prop_assert_eq!(le.to_string(), format!("listen udp: {ue}"));
            }
            // A port that names a service for one protocol only.
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => {
                prop_assert!(e.to_string().ends_with(": unknown port"), "{}", e);
            }
        }
    }
}
