//! systemd socket activation (`net::activation`, go-systemd's activation package) under
//! the real launcher: `systemd-socket-activate` (Debian's systemd package) opens a TCP
//! and a Unix socket, waits for the first client, and execs this test binary as the
//! server, which must find both sockets by name and serve on them.

mod util;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gonet::net::{self, activation};
use util::server as server_util;

/// The activated server: takes its sockets by name and answers each line on a
/// connection with "NAME ADDRESS LINE", NAME and ADDRESS being the inherited socket's.
#[test]
#[ignore = "runs under systemd-socket-activate, started by a_server_started_by_systemd_socket_activate_serves_on_its_sockets"]
fn activated_server() {
    if !server_util::is_child("activated") {
        return;
    }
    let listeners = activation::listeners_with_names().unwrap();
    for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        assert!(
            std::env::var_os(var).is_none(),
            "{var} left in the environment"
        );
    }
    assert!(activation::files(false).is_empty(), "handed out twice");
    let mut names: Vec<&String> = listeners.keys().collect();
    names.sort();
    for name in &names {
        for ln in &listeners[*name] {
            server_util::say(&format!(
                "activated {name} {} {}",
                ln.addr(),
                ln.addr().network()
            ));
        }
    }
    server_util::say(&format!("activated names {names:?}"));
    for (name, lns) in listeners {
        for ln in lns {
            let name = name.clone();
            gonet::go!(move || loop {
                let Ok(conn) = ln.accept() else { return };
                let (name, addr) = (name.clone(), ln.addr());
                gonet::go!(move || {
                    let mut r = BufReader::new(&conn);
                    let mut line = String::new();
                    while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                        let reply = format!("{name} {addr} {}", line.trim());
                        if (&conn).write_all(format!("{reply}\n").as_bytes()).is_err() {
                            return;
                        }
                        line.clear();
                    }
                });
            });
        }
    }
    // Until the test kills us (or a minute passes).
    std::thread::sleep(Duration::from_secs(60));
}

/// The launcher, killed (with the server it became) when dropped.
struct Launcher {
    child: std::process::Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Starts systemd-socket-activate on `port` and `unix_path`; `None` if it could not
/// listen (the port was taken meanwhile).
fn launch(port: u16, unix_path: &str) -> Option<Launcher> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("systemd-socket-activate")
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg(format!("--listen={unix_path}"))
        .arg("--fdname=web:admin")
        .args(["-E", "GONET_CHILD=activated", "-E", "RUST_BACKTRACE=0"])
        .arg(exe)
        .args([
            "activated_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("systemd-socket-activate (Debian: apt-get install systemd; .ci/run installs it)");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let mut launcher = Launcher {
        child,
        stdout,
        stderr,
    };
    // "Listening on 127.0.0.1:P as 3." then "Listening on PATH as 4."
    let end = Instant::now() + Duration::from_secs(30);
    let mut listening = 0;
    while listening < 2 {
        let left = end.saturating_duration_since(Instant::now());
        match launcher.stderr.recv_timeout(left) {
            Ok(l) if l.starts_with("Listening on ") => listening += 1,
            Ok(l) if l.contains("in use") => return None,
            Ok(_) => {}
            Err(e) => panic!(
                "systemd-socket-activate did not listen ({e}): {:?}",
                launcher.child.try_wait()
            ),
        }
    }
    Some(launcher)
}

/// A port outside the ephemeral range (where dials take theirs), free right now.
fn free_port(attempt: u32) -> u16 {
    let base = 20_000 + (std::process::id() % 10_000) as u16;
    let mut port = base + (attempt as u16) * 97 % 2_000;
    while std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        port += 1;
    }
    port
}

fn ask(stream: &mut (impl std::io::Read + std::io::Write), line: &str) -> String {
    writeln!(stream, "{line}").unwrap();
    let mut r = BufReader::new(stream);
    let mut back = String::new();
    r.read_line(&mut back).unwrap();
    back.trim().to_string()
}

fn expect_line(rx: &mpsc::Receiver<String>, prefix: &str) -> String {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no {prefix:?} line from the server: {e}"));
        if let Some(i) = line.find(prefix) {
            return line[i + prefix.len()..].trim().to_string();
        }
    }
}

#[test]
fn a_server_started_by_systemd_socket_activate_serves_on_its_sockets() {
    let dir = util::TempDir::new("activation");
    let unix_path = dir.sock("admin.sock");
    let (launcher, port) = (0..10)
        .find_map(|attempt| {
            let port = free_port(attempt);
            launch(port, &unix_path).map(|l| (l, port))
        })
        .expect("systemd-socket-activate found no free port in 10 tries");
    let web = format!("127.0.0.1:{port}");

    // The first client makes the launcher exec the server, which accepts it.
    let mut c = std::net::TcpStream::connect(&web).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert_eq!(ask(&mut c, "hello"), format!("web {web} hello"));
    assert_eq!(
        expect_line(&launcher.stdout, "activated admin "),
        format!("{unix_path} unix")
    );
    assert_eq!(
        expect_line(&launcher.stdout, "activated web "),
        format!("{web} tcp")
    );
    assert_eq!(
        expect_line(&launcher.stdout, "activated names "),
        r#"["admin", "web"]"#
    );
    // A second client on each socket.
    let mut c2 = std::net::TcpStream::connect(&web).unwrap();
    c2.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert_eq!(ask(&mut c2, "again"), format!("web {web} again"));
    let mut u = std::os::unix::net::UnixStream::connect(&unix_path).unwrap();
    u.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert_eq!(ask(&mut u, "status"), format!("admin {unix_path} status"));
    assert_eq!(ask(&mut c, "bye"), format!("web {web} bye"));
    drop(launcher);
    // The sockets were systemd-socket-activate's: nothing of ours is left listening.
    assert!(net::dial("tcp", &web).is_err());
}
