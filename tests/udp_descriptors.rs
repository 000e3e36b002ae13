//! UDP sockets as descriptors: `close` gives the descriptor back at once, whatever
//! clones are held (Go's Close), and a socket passed on as a descriptor (`file`,
//! `file_packet_conn`) keeps serving after the original closes.

mod util;

use gonet::net::{self, Addr, PacketConn};

/// The inode behind descriptor `fd` of this process, `None` once it is closed.
fn inode_of(fd: i32) -> Option<u64> {
    // SAFETY: fstat only writes the stat buffer it is given.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; a closed descriptor makes it fail with EBADF, nothing else.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st.st_ino)
}

#[test]
fn close_releases_the_descriptor_while_clones_are_held() {
    // Go's Close: the descriptor goes back at close(), not when the last handle drops,
    // and a parked read_from returns first. Other tests open sockets meanwhile, so each
    // descriptor is checked by its socket's inode (its number may be reused at once).
    use std::os::fd::AsRawFd;
    let pcs: Vec<PacketConn> = (0..20)
        .map(|_| net::listen_packet("udp", "127.0.0.1:0").unwrap())
        .collect();
    let sockets: Vec<(i32, u64)> = pcs
        .iter()
        .map(|pc| (pc.as_raw_fd(), inode_of(pc.as_raw_fd()).unwrap()))
        .collect();
    let readers: Vec<_> = pcs
        .iter()
        .map(|pc| {
            let pc = pc.clone();
            gonet::go!(move || pc.read_from(&mut [0u8; 8]).map(|_| ()).unwrap_err())
        })
        .collect();
    let clones: Vec<PacketConn> = pcs.to_vec();
    for pc in &pcs {
        pc.close().unwrap();
    }
    for r in readers {
        assert!(gonet::is_closed(&r.join().unwrap()));
    }
    // Every reader is out, so every descriptor is gone, though `clones` holds them all.
    for (fd, inode) in sockets {
        assert_ne!(
            inode_of(fd),
            Some(inode),
            "descriptor {fd} still holds its socket"
        );
    }
    drop(clones);
}

#[test]
fn a_socket_passed_as_a_descriptor_keeps_serving() {
    // Go's FilePacketConn / UDPConn.File: the duplicate serves after the original closes.
    let pc = net::listen_packet("udp", "127.0.0.1:0").unwrap();
    let fd = pc.file().unwrap();
    let la = pc.local_addr();
    pc.close().unwrap();
    assert_eq!(
        util::text(pc.file()),
        format!("file udp {la}: use of closed network connection")
    );
    let again = net::file_packet_conn(&fd).unwrap();
    drop(fd);
    assert_eq!(
        (again.local_addr(), again.local_addr().network()),
        (la.clone(), "udp")
    );
    let c = net::dial("udp", &la.to_string()).unwrap();
    c.write(b"inherited").unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = again.read_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"inherited"[..], c.local_addr()));
    // A unixgram socket too; a TCP socket or a file is refused in Go's words.
    let name = util::abstract_name("file-gram");
    let ug = net::listen_packet("unixgram", &name).unwrap();
    let copy = net::file_packet_conn(ug.file().unwrap()).unwrap();
    assert_eq!(
        copy.local_addr(),
        Addr::Unix(gonet::UnixAddr::new(&name, "unixgram"))
    );
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = net::file_packet_conn(&tcp).unwrap_err();
    assert!(
        err.to_string().starts_with("file file+net socket:[")
            && err.to_string().ends_with("]: invalid argument"),
        "{err}"
    );
    // The TCP socket was not touched: no TCP_NODELAY set on the way.
    assert!(!socket2::SockRef::from(&tcp).tcp_nodelay().unwrap());
    let hosts = std::fs::File::open("/etc/hosts").unwrap();
    assert_eq!(
        util::text(net::file_packet_conn(&hosts)),
        "file file+net /etc/hosts: getsockopt: socket operation on non-socket"
    );
}
