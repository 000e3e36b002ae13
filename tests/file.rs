//! Inherited sockets: `file_listener`, `file_conn`, `Listener::file`, `Conn::file`
//! (Go's file.go / file_unix.go), checked against live Go 1.19 (tests/go/file), and a
//! listener handed to a child process that keeps serving while its parent exits.

#[path = "util/go.rs"]
mod go_util;
mod util;

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gonet::net;
use util::server as server_util;

/// Kernel-chosen ports as PORT, as tests/go/file/main.go prints them.
fn norm_ports(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ':' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push_str("PORT");
        }
    }
    out
}

fn err_text<T: std::fmt::Debug>(r: std::io::Result<T>, name: Option<&str>) -> String {
    let s = r.expect_err("an error").to_string();
    match name {
        Some(name) => s.replacen(&format!("file+net {name}:"), "file+net NAME:", 1),
        None => s,
    }
}

/// A pipe's read end (closing the write end at once).
fn pipe_reader() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: fds is valid for two ints, which pipe2 fills with new descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are new and owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(w);
    r
}

/// gonet's answers for the cases of tests/go/file/main.go, in its order.
fn gonet_cases(unix_name: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let hosts = std::fs::File::open("/etc/hosts").unwrap();
    out.push((
        "listener of a regular file",
        err_text(net::file_listener(&hosts), None),
    ));
    out.push((
        "conn of a regular file",
        err_text(net::file_conn(&hosts), None),
    ));

    // A number just under the descriptor limit, checked not to be open.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid rlimit for getrlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let unused = (lim.rlim_cur.min(1 << 20) - 1) as i32;
    // SAFETY: F_GETFD reads no memory; EBADF says the number is not open.
    assert_eq!(unsafe { libc::fcntl(unused, libc::F_GETFD) }, -1);
    // SAFETY: a borrow of a number that is not open, only ever passed to fcntl, which
    // reports EBADF for it: Go's os.File after Close, the case being tested.
    let not_open = unsafe { BorrowedFd::borrow_raw(unused) };
    let name = format!("fd {unused}");
    out.push((
        "listener of a descriptor that is not open",
        err_text(net::file_listener(not_open), Some(&name)),
    ));

    let pr = pipe_reader();
    let pipe_name = std::fs::read_link(format!("/proc/self/fd/{}", pr.as_raw_fd())).unwrap();
    out.push((
        "conn of a pipe",
        err_text(net::file_conn(&pr), Some(&pipe_name.to_string_lossy())),
    ));

    let nl = socket2::Socket::new(
        socket2::Domain::from(libc::AF_NETLINK),
        socket2::Type::RAW,
        None,
    )
    .unwrap();
    let nl_name = std::fs::read_link(format!("/proc/self/fd/{}", nl.as_raw_fd())).unwrap();
    let nl_name = nl_name.to_string_lossy();
    out.push((
        "conn of a netlink socket",
        err_text(net::file_conn(&nl), Some(&nl_name)),
    ));
    out.push((
        "listener of a netlink socket",
        err_text(net::file_listener(&nl), Some(&nl_name)),
    ));

    let udp = net::listen_packet("udp4", "127.0.0.1:0").unwrap();
    let uf = udp.file().unwrap();
    let udp_name = std::fs::read_link(format!("/proc/self/fd/{}", uf.as_raw_fd())).unwrap();
    out.push((
        "listener of a UDP socket",
        err_text(net::file_listener(&uf), Some(&udp_name.to_string_lossy())),
    ));

    let ln = net::listen("tcp4", "127.0.0.1:0").unwrap();
    let ln2 = net::file_listener(ln.file().unwrap()).unwrap();
    out.push((
        "listener of a TCP listener",
        format!("{} {} <nil>", ln2.addr(), ln2.addr().network()),
    ));
    ln.close().unwrap();
    out.push(("file of a closed TCP listener", err_text(ln.file(), None)));

    let dual = net::listen("tcp", ":0").unwrap();
    let dual2 = net::file_listener(dual.file().unwrap()).unwrap();
    out.push((
        "listener of a dual-stack listener",
        format!("{} {} <nil>", dual2.addr(), dual2.addr().network()),
    ));

    let c = net::dial("tcp", &ln2.addr().to_string()).unwrap();
    let c2 = net::file_conn(c.file().unwrap()).unwrap();
    out.push((
        "conn of a TCP conn",
        format!(
            "{} {} {} <nil>",
            c2.local_addr(),
            c2.remote_addr(),
            c2.local_addr().network()
        ),
    ));
    c.close().unwrap();
    out.push(("file of a closed TCP conn", err_text(c.file(), None)));

    let ul = net::listen("unix", unix_name).unwrap();
    let ul2 = net::file_listener(ul.file().unwrap()).unwrap();
    out.push((
        "listener of a Unix listener",
        format!("{} {} <nil>", ul2.addr(), ul2.addr().network()),
    ));
    ul.close().unwrap();
    out.push(("file of a closed Unix listener", err_text(ul.file(), None)));

    let uc = net::file_conn(&uf).unwrap();
    let network = uc.local_addr().network().to_string();
    let uc = net::UdpConn::try_from(uc).expect("a UDP socket gives a UdpConn");
    out.push((
        "conn of a UDP socket",
        format!(
            "*net.UDPConn {} {} {network} <nil>",
            uc.local_addr(),
            uc.remote_addr()
                .map_or("<nil>".to_string(), |a| a.to_string())
        ),
    ));
    let upc = net::file_packet_conn(&uf).unwrap();
    out.push((
        "packet conn of a UDP socket",
        format!("{} {} <nil>", upc.local_addr(), upc.local_addr().network()),
    ));
    udp.close().unwrap();
    out.push(("file of a closed UDP socket", err_text(udp.file(), None)));
    let df = dual.file().unwrap();
    let df_name = std::fs::read_link(format!("/proc/self/fd/{}", df.as_raw_fd())).unwrap();
    out.push((
        "packet conn of a TCP listener",
        err_text(net::file_packet_conn(&df), Some(&df_name.to_string_lossy())),
    ));
    out.push((
        "packet conn of a regular file",
        err_text(net::file_packet_conn(&hosts), None),
    ));
    let (g, _g2) =
        socket2::Socket::pair(socket2::Domain::UNIX, socket2::Type::DGRAM, None).unwrap();
    let gpc = net::file_packet_conn(&g).unwrap();
    out.push((
        "packet conn of a unixgram socketpair",
        format!(
            "{:?} {} <nil>",
            gpc.local_addr().to_string(),
            gpc.local_addr().network()
        ),
    ));

    let (a, _b) =
        socket2::Socket::pair(socket2::Domain::UNIX, socket2::Type::SEQPACKET, None).unwrap();
    let sp = net::file_conn(&a).unwrap();
    out.push((
        "conn of a seqpacket socketpair",
        format!(
            "{:?} {:?} {} <nil>",
            sp.local_addr().to_string(),
            sp.remote_addr().to_string(),
            sp.local_addr().network()
        ),
    ));
    out.into_iter().map(|(k, v)| (k, norm_ports(&v))).collect()
}

#[test]
fn errors_and_addresses_are_gos() {
    let unix_name = util::abstract_name("file-parity");
    let go = go_util::go_binary("tests/go/file/main.go");
    let out = std::process::Command::new(go)
        .args(["-unix", &unix_name])
        .output()
        .unwrap();
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
    let ours = gonet_cases(&unix_name);
    assert_eq!(go_cases.len(), ours.len(), "{go_cases:#?}");
    for ((gcase, gtext), (case, text)) in go_cases.iter().zip(&ours) {
        assert_eq!(gcase, case);
        assert_eq!(text, gtext, "{case}");
    }
}

#[test]
fn errors_downcast_to_gos_types() {
    let hosts = std::fs::File::open("/etc/hosts").unwrap();
    let err = net::file_listener(&hosts).unwrap_err();
    let op = net::OpError::of(&err).unwrap();
    assert_eq!((op.op, op.net.as_str()), ("file", "file+net"));
    assert_eq!(op.addr.as_ref().unwrap().network(), "file+net");
    assert_eq!(op.errno(), Some(libc::ENOTSOCK));
    let udp = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    let err = net::file_listener(&udp).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        net::OpError::of(&err)
            .unwrap()
            .err
            .downcast_ref::<net::Errno>(),
        Some(&net::Errno(libc::EINVAL))
    );
}

#[test]
fn the_callers_descriptor_stays_open_and_the_socket_outlives_both_closes() {
    let ln = net::listen("tcp4", "127.0.0.1:0").unwrap();
    let addr = ln.addr().to_string();
    let fd = ln.file().unwrap();
    assert_ne!(fd.as_raw_fd(), ln.as_raw_fd());
    let taken = net::file_listener(&fd).unwrap();
    ln.close().unwrap();
    // `fd` is still ours and still the socket.
    // SAFETY: F_GETFD reads no memory.
    assert!(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) } >= 0);
    let c = net::dial("tcp", &addr).unwrap();
    let s = taken.accept().unwrap();
    c.write(b"x").unwrap();
    let mut b = [0u8; 1];
    s.read_full(&mut b).unwrap();
    taken.close().unwrap();
    drop(fd); // the last descriptor: now the port is free
    assert!(net::dial("tcp", &addr).is_err());
}

#[test]
fn conns_accepted_from_an_inherited_listener_get_gos_options() {
    // A socket gonet did not make: no options on it, as systemd's would be.
    let raw = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ln = net::file_listener(&raw).unwrap();
    drop(raw);
    let _c = net::dial("tcp", &ln.addr().to_string()).unwrap();
    let conn = ln.accept().unwrap();
    let s = socket2::SockRef::from(&conn);
    assert!(s.tcp_nodelay().unwrap());
    assert!(s.keepalive().unwrap());
    assert_eq!(s.tcp_keepalive_time().unwrap(), Duration::from_secs(15));
}

#[test]
fn file_conn_makes_a_second_conn_on_the_same_socket() {
    let (c, s) = util::pair();
    let dup = net::file_conn(c.file().unwrap()).unwrap();
    assert_ne!(dup, c);
    assert_eq!(dup.local_addr(), c.local_addr());
    assert!(socket2::SockRef::from(&dup).tcp_nodelay().unwrap());
    c.close().unwrap();
    dup.write(b"via the copy").unwrap();
    let mut buf = [0u8; 12];
    s.read_full(&mut buf).unwrap();
    assert_eq!(&buf, b"via the copy");
    // Unix stream socketpair: both ends unnamed, printed "@" as Go does.
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let ua = net::file_conn(&a).unwrap();
    assert_eq!(ua.local_addr().network(), "unix");
    assert_eq!(ua.remote_addr().to_string(), "@");
    ua.write(b"hi").unwrap();
    let mut two = [0u8; 2];
    (&b).read_exact(&mut two).unwrap();
    assert_eq!(&two, b"hi");
}

// --- A listener handed to a child process --------------------------------------------

/// Which process answered a connection, as the handover servers write it.
fn who(addr: &str) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut line = String::new();
    BufReader::new(&mut s).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// Serves `ln` with one line per connection, "NAME PID", until `stop` is set (checked
/// between accepts; a deadline keeps accept from waiting longer than 50 ms).
fn serve_names(ln: &net::Listener, name: &str, stop: &AtomicBool, served: &AtomicUsize) {
    let me = format!("{name} {}\n", std::process::id());
    while !stop.load(Ordering::SeqCst) {
        ln.set_deadline(Some(Instant::now() + Duration::from_millis(50)))
            .unwrap();
        match ln.accept() {
            Ok(c) => {
                let _ = c.write(me.as_bytes());
                served.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) if net::is_timeout(&e) => {}
            Err(e) => panic!("{name}: accept: {e}"),
        }
    }
}

/// The parent: listens, reports its address, serves until told to hand over, then
/// passes the listener to a child (as its descriptor 3), waits for the child to say it
/// serves, closes its own listener and exits while the child goes on.
#[test]
#[ignore = "runs as a child process of the_listener_keeps_serving_through_a_handover_to_a_child"]
fn handover_parent() {
    if !server_util::is_child("handover-parent") {
        return;
    }
    let ln = Arc::new(net::listen("tcp4", "127.0.0.1:0").unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let (l, s, n) = (ln.clone(), stop.clone(), served.clone());
    let server = std::thread::spawn(move || serve_names(&l, "parent", &s, &n));
    server_util::say(&format!("parent listening on {}", ln.addr()));
    let mut lines = std::io::stdin().lock().lines();
    assert_eq!(lines.next().unwrap().unwrap(), "hand over");

    let fd = ln.file().unwrap();
    let raw = fd.as_raw_fd();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "handover_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("GONET_CHILD", "handover-child")
    // Not our stdin: the test's commands are for the parent.
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::inherit());
    // SAFETY: between fork and exec the closure only calls dup2 and fcntl, which are
    // async-signal-safe; `raw` stays open in the parent until the child is spawned.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            // The child's descriptor 3, without close-on-exec (dup2 clears it; on 3
            // itself, clear it by hand).
            let r = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let _child = cmd.spawn().unwrap();
    drop(fd);
    // The child's "child serving" line goes straight to our stdout (it is the test's),
    // and the test tells us, through stdin, once it has seen it.
    assert_eq!(lines.next().unwrap().unwrap(), "exit");
    stop.store(true, Ordering::SeqCst);
    server.join().unwrap();
    ln.close().unwrap();
    server_util::say(&format!(
        "parent exits after serving {}",
        served.load(Ordering::SeqCst)
    ));
    // Exit without waiting for the child: it is the new server now.
    std::process::exit(0);
}

/// The child: takes descriptor 3 over and serves on it until the test kills it (or,
/// should the test die first, for a minute).
#[test]
#[ignore = "runs as a child process of handover_parent"]
fn handover_child() {
    if !server_util::is_child("handover-child") {
        return;
    }
    // SAFETY: the parent made descriptor 3 the listener for us; nothing else here uses it.
    let fd = unsafe { OwnedFd::from_raw_fd(3) };
    let ln = Arc::new(net::file_listener(&fd).unwrap());
    drop(fd);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let (l, s, n) = (ln.clone(), stop.clone(), served.clone());
    let server = std::thread::spawn(move || serve_names(&l, "child", &s, &n));
    server_util::say(&format!(
        "child serving {} as pid {}",
        ln.addr(),
        std::process::id()
    ));
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    server.join().unwrap();
}

#[test]
fn the_listener_keeps_serving_through_a_handover_to_a_child() {
    let mut parent = server_util::Child::spawn("handover-parent", "handover_parent", None);
    let addr = parent.expect_line("parent listening on ", Duration::from_secs(60));
    // A client dialing continuously, one connection after another, recording who
    // answered; any refused or failed connection is recorded too.
    let answers = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (a, f, s, addr2) = (
        answers.clone(),
        failures.clone(),
        stop.clone(),
        addr.clone(),
    );
    let client = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(120);
        while !s.load(Ordering::SeqCst) && Instant::now() < end {
            match who(&addr2) {
                Ok(w) => a.lock().unwrap().push(w),
                Err(e) => f.lock().unwrap().push(e.to_string()),
            }
        }
    });
    let count = |name: &str| {
        answers
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.starts_with(name))
            .count()
    };
    assert!(util::eventually(Duration::from_secs(30), || count(
        "parent"
    ) >= 50));
    parent.send("hand over");
    let child = parent.expect_line("child serving ", Duration::from_secs(60));
    let (child_addr, child_pid) = child.split_once(" as pid ").unwrap();
    let child_pid: i32 = child_pid.parse().unwrap();
    // Ends the grandchild however this test ends.
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: kill reads no memory; the pid is the child the parent started.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
    let _kill_child = Kill(child_pid);
    assert_eq!(child_addr, addr, "the child reports the inherited address");
    parent.send("exit");
    parent.expect_line("parent exits after serving ", Duration::from_secs(30));
    assert!(
        util::eventually(Duration::from_secs(30), || !parent.alive()),
        "the parent did not exit"
    );
    let child_before = count("child");
    assert!(
        util::eventually(Duration::from_secs(30), || count("child")
            >= child_before + 50),
        "the child served {} connections after the parent exited",
        count("child") - child_before
    );
    stop.store(true, Ordering::SeqCst);
    client.join().unwrap();
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "refused or failed: {failures:?}");
    let answers = answers.lock().unwrap();
    let parent_pid = answers[0].split(' ').nth(1).unwrap().to_string();
    let child_pid = answers
        .last()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    assert_ne!(parent_pid, child_pid);
    assert!(
        answers
            .iter()
            .all(|w| w.starts_with("parent ") || w.starts_with("child "))
    );
}
