//! gonet's side of tests/go/parity/datagram.go: the datagram, resolve and typed-call ops,
//! each doing exactly what its Go twin does (see that file for the list), through
//! gonet's API. Included by tests/parity.rs, which runs both and compares.
//!
//! Where Go's API has a nil that gonet's types cannot hold, the row uses what stands for
//! it: a typed listen's "nil" is `None`; a unixgram sender without a name, which Go's
//! `ReadFrom` gives as a nil `Addr`, is gonet's `Addr::Unix` with an empty name, printed
//! here as Go prints nil (`<nil>`).

use std::io;
use std::time::{Duration, Instant};

use gonet::UnixConn;
use gonet::net::{self, Addr, PacketConn, TcpAddr, UdpAddr, UdpConn, UnixAddr};

use super::{Env, Input, Record, dialed, kernel_chosen, record};

/// Runs one datagram-file op.
pub fn run(env: &Env, input: &Input) -> Record {
    match input.op.as_str() {
        "listen_packet" => listen_packet(env, input),
        "resolve_tcp" | "resolve_udp" | "resolve_unix" => resolve(env, input),
        "listen_tcp" | "listen_udp" | "listen_unix" | "listen_unixgram" => typed_listen(env, input),
        "dial_tcp" | "dial_udp" | "dial_unix" => typed_dial(env, input),
        "read_timeout" => read_timeout(env, input),
        "write_to" => write_to(env, input),
        "refused" => refused(env, input),
        "refused_unix" => refused_unix(env, input),
        "write_connected" => write_connected(env, input),
        "closed_ops" => closed_ops(env, input),
        "closed_conn" => closed_conn(env, input),
        "sender" => sender(env, input),
        "unbound_sender" => unbound_sender(env, input),
        op => panic!("unknown op {op:?}"),
    }
}

/// datagram.go's `local`: the first address as LOCAL, the second as CLIENT.
fn local(s: &str, lo: Option<&Addr>, client: Option<&Addr>) -> String {
    let mut s = s.to_string();
    for (a, name) in [(lo, "LOCAL"), (client, "CLIENT")] {
        if let Some(a) = a.map(|a| a.to_string()).filter(|a| !a.is_empty()) {
            s = s.replace(&a, name);
        }
    }
    s
}

fn err_text<T>(r: io::Result<T>) -> String {
    match r {
        Ok(_) => "<nil>".to_string(),
        Err(e) => e.to_string(),
    }
}

fn failed(env: &Env, input: &Input, e: &io::Error) -> Record {
    record(
        input,
        false,
        &[("err", env.normalise(&input.address, &e.to_string()))],
    )
}

fn with_err(input: &Input, ok: bool, err: String) -> Record {
    record(input, ok, &[("err", err)])
}

/// datagram.go's setAddr.
fn addr_record(env: &Env, input: &Input, kernel_address: &str, a: &Addr) -> Record {
    let addr = env.normalise(&input.address, &a.to_string());
    record(
        input,
        true,
        &[
            ("addr", addr.clone()),
            (
                "addr_norm",
                kernel_chosen(&input.network, kernel_address, &addr),
            ),
            ("addr_network", a.network().to_string()),
        ],
    )
}

fn split2(env: &Env, address: &str) -> (String, String) {
    let (l, r) = address.split_once('|').unwrap_or((address, ""));
    (env.substitute(l), env.substitute(r))
}

fn listen_packet(env: &Env, input: &Input) -> Record {
    match net::listen_packet(&input.network, &env.substitute(&input.address)) {
        Err(e) => failed(env, input, &e),
        Ok(pc) => {
            let r = addr_record(env, input, &input.address, &pc.local_addr());
            pc.close().expect("closing a fresh socket");
            r
        }
    }
}

fn resolve(env: &Env, input: &Input) -> Record {
    let address = env.substitute(&input.address);
    let a: io::Result<Addr> = match input.op.as_str() {
        "resolve_tcp" => net::resolve_tcp_addr(&input.network, &address).map(Addr::Tcp),
        "resolve_udp" => net::resolve_udp_addr(&input.network, &address).map(Addr::Udp),
        _ => net::resolve_unix_addr(&input.network, &address).map(Addr::Unix),
    };
    match a {
        Err(e) => failed(env, input, &e),
        Ok(a) => addr_record(env, input, &input.address, &a),
    }
}

/// datagram.go's typedAddr for TCP and UDP: "" and "nil" are `None`.
fn tcp_addr(address: &str) -> io::Result<Option<TcpAddr>> {
    match address {
        "" | "nil" => Ok(None),
        a => net::resolve_tcp_addr("tcp", a).map(Some),
    }
}

fn udp_addr(address: &str) -> io::Result<Option<UdpAddr>> {
    match address {
        "" | "nil" => Ok(None),
        a => net::resolve_udp_addr("udp", a).map(Some),
    }
}

fn typed_listen(env: &Env, input: &Input) -> Record {
    let address = env.substitute(&input.address);
    let resolve_failed = |e: io::Error| with_err(input, false, format!("resolve: {e}"));
    let unix = UnixAddr::new(&address, &input.network);
    let opened: io::Result<(Addr, Box<dyn FnOnce()>)> = match input.op.as_str() {
        "listen_tcp" => match tcp_addr(&address) {
            Err(e) => return resolve_failed(e),
            Ok(la) => net::listen_tcp(&input.network, la.as_ref()).map(|ln| {
                (
                    ln.addr(),
                    Box::new(move || drop(ln.close())) as Box<dyn FnOnce()>,
                )
            }),
        },
        "listen_udp" => match udp_addr(&address) {
            Err(e) => return resolve_failed(e),
            Ok(la) => net::listen_udp(&input.network, la.as_ref()).map(|c| {
                (
                    c.local_addr(),
                    Box::new(move || drop(c.close())) as Box<dyn FnOnce()>,
                )
            }),
        },
        "listen_unix" => net::listen_unix(&input.network, &unix).map(|ln| {
            (
                ln.addr(),
                Box::new(move || drop(ln.close())) as Box<dyn FnOnce()>,
            )
        }),
        _ => net::listen_unixgram(&input.network, &unix).map(|c| {
            (
                c.local_addr(),
                Box::new(move || drop(c.close())) as Box<dyn FnOnce()>,
            )
        }),
    };
    match opened {
        Err(e) => failed(env, input, &e),
        Ok((a, close)) => {
            let kernel_address = if input.address == "nil" {
                ""
            } else {
                &input.address
            };
            let r = addr_record(env, input, kernel_address, &a);
            close();
            r
        }
    }
}

fn typed_dial(env: &Env, input: &Input) -> Record {
    let (l, ra) = split2(env, &input.address);
    let resolve_failed = |e: io::Error| with_err(input, false, format!("resolve: {e}"));
    let conn: io::Result<gonet::Conn> = match input.op.as_str() {
        "dial_tcp" => {
            let la = match tcp_addr(&l) {
                Ok(la) => la,
                Err(e) => return resolve_failed(e),
            };
            let ra = match net::resolve_tcp_addr("tcp", &ra) {
                Ok(ra) => ra,
                Err(e) => return resolve_failed(e),
            };
            net::dial_tcp(&input.network, la.as_ref(), &ra).map(|c| c.into_conn())
        }
        "dial_udp" => {
            let la = match udp_addr(&l) {
                Ok(la) => la,
                Err(e) => return resolve_failed(e),
            };
            let ra = match net::resolve_udp_addr("udp", &ra) {
                Ok(ra) => ra,
                Err(e) => return resolve_failed(e),
            };
            net::dial_udp(&input.network, la.as_ref(), &ra).map(|c| c.into_conn())
        }
        _ => {
            // An empty L is nil (datagram.go), gonet's None.
            let la = (!l.is_empty()).then(|| UnixAddr::new(&l, &input.network));
            let ra = UnixAddr::new(&ra, &input.network);
            net::dial_unix(&input.network, la.as_ref(), &ra).map(|c| c.into_conn())
        }
    };
    match conn {
        Err(e) => failed(env, input, &e),
        Ok(c) => dialed(env, input, &c),
    }
}

fn read_timeout(env: &Env, input: &Input) -> Record {
    let pc = match net::listen_packet(&input.network, &env.substitute(&input.address)) {
        Ok(pc) => pc,
        Err(e) => return with_err(input, false, format!("listen: {e}")),
    };
    pc.set_read_deadline(Some(Instant::now() + Duration::from_millis(20)))
        .expect("a read deadline");
    let err = err_text(pc.read_from(&mut [0u8; 16]));
    with_err(input, false, local(&err, Some(&pc.local_addr()), None))
}

/// datagram.go's target: a UDP address, or "unix:", "unix-stream:", "tcp:" prefixed.
fn target(to: &str) -> io::Result<Addr> {
    if let Some(name) = to.strip_prefix("unix:") {
        return Ok(Addr::Unix(UnixAddr::new(name, "unixgram")));
    }
    if let Some(name) = to.strip_prefix("unix-stream:") {
        return Ok(Addr::Unix(UnixAddr::new(name, "unix")));
    }
    if let Some(a) = to.strip_prefix("tcp:") {
        return net::resolve_tcp_addr("tcp", a).map(Addr::Tcp);
    }
    net::resolve_udp_addr("udp", to).map(Addr::Udp)
}

fn write_to(env: &Env, input: &Input) -> Record {
    let (l, to) = split2(env, &input.address);
    let pc = match net::listen_packet(&input.network, &l) {
        Ok(pc) => pc,
        Err(e) => return with_err(input, false, format!("listen: {e}")),
    };
    let a = match target(&to) {
        Ok(a) => a,
        Err(e) => return with_err(input, false, format!("resolve: {e}")),
    };
    match pc.write_to(b"x", &a) {
        Ok(_) => record(input, true, &[]),
        Err(e) => {
            let text = local(&e.to_string(), Some(&pc.local_addr()), None);
            with_err(input, false, env.normalise(&input.address, &text))
        }
    }
}

/// Go's net.DialTimeout(network, address, 2s).
fn dial2s(env: &Env, input: &Input) -> io::Result<gonet::Conn> {
    let d = gonet::Dialer {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    d.dial(&input.network, &env.substitute(&input.address))
}

fn refused(env: &Env, input: &Input) -> Record {
    let c = match dial2s(env, input) {
        Ok(c) => c,
        Err(e) => return with_err(input, false, format!("dial: {e}")),
    };
    if let Err(e) = c.write(b"anyone?") {
        return with_err(input, false, format!("write: {e}"));
    }
    c.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
        .expect("a read deadline");
    let err = err_text(c.read(&mut [0u8; 16]));
    let err = local(&err, None, Some(&c.local_addr()));
    with_err(input, false, env.normalise(&input.address, &err))
}

fn refused_unix(env: &Env, input: &Input) -> Record {
    let address = env.substitute(&input.address);
    let pc = match net::listen_packet(&input.network, &address) {
        Ok(pc) => pc,
        Err(e) => return with_err(input, false, format!("listen: {e}")),
    };
    let c = match gonet::dial(&input.network, &address) {
        Ok(c) => c,
        Err(e) => return with_err(input, false, format!("dial: {e}")),
    };
    // Go's Close releases the descriptor at once, so the peer is gone (a socket only
    // shut down would answer EPIPE), whatever handles are still held.
    pc.close().expect("closing the server");
    let err = err_text(c.write(b"gone?"));
    with_err(input, false, env.normalise(&input.address, &err))
}

fn write_connected(env: &Env, input: &Input) -> Record {
    let c = match dial2s(env, input) {
        Ok(c) => c,
        Err(e) => return with_err(input, false, format!("dial: {e}")),
    };
    let (la, ra) = (c.local_addr(), c.remote_addr());
    // Go: c.(net.PacketConn).WriteTo(b, c.RemoteAddr()).
    let r = if input.network.starts_with("udp") {
        UdpConn::try_from(c)
            .expect("a UDP conn")
            .write_to(b"x", &ra)
    } else {
        UnixConn::try_from(c)
            .expect("a Unix conn")
            .write_to(b"x", &ra)
    };
    let err = local(&err_text(r), None, Some(&la));
    with_err(input, false, env.normalise(&input.address, &err))
}

fn closed_ops(env: &Env, input: &Input) -> Record {
    let pc: PacketConn = match net::listen_packet(&input.network, &env.substitute(&input.address)) {
        Ok(pc) => pc,
        Err(e) => return with_err(input, false, format!("listen: {e}")),
    };
    let la = pc.local_addr();
    pc.close().expect("the first close");
    let errs = [
        err_text(pc.read_from(&mut [0u8; 4])),
        err_text(pc.write_to(b"x", &la)),
        err_text(pc.close()),
        err_text(pc.set_read_deadline(Some(Instant::now()))),
        err_text(pc.set_read_buffer(1 << 16)),
    ];
    with_err(input, false, local(&errs.join(" | "), Some(&la), None))
}

fn closed_conn(env: &Env, input: &Input) -> Record {
    let c = match dial2s(env, input) {
        Ok(c) => c,
        Err(e) => return with_err(input, false, format!("dial: {e}")),
    };
    c.close().expect("the first close");
    let errs = [
        err_text(c.read(&mut [0u8; 4])),
        err_text(c.write(b"x")),
        err_text(c.close()),
        err_text(c.set_write_buffer(1 << 16)),
    ];
    let err = local(&errs.join(" | "), None, Some(&c.local_addr()));
    with_err(input, false, env.normalise(&input.address, &err))
}

fn sender(env: &Env, input: &Input) -> Record {
    let (l, host) = split2(env, &input.address);
    let pc = match net::listen_packet(&input.network, &l) {
        Ok(pc) => pc,
        Err(e) => return with_err(input, false, format!("listen: {e}")),
    };
    let port = pc.local_addr().socket_addr().expect("an IP socket").port();
    let host = host.trim_matches(|c| c == '[' || c == ']');
    let c = match gonet::dial("udp", &gonet::join_host_port(host, &port.to_string())) {
        Ok(c) => c,
        Err(e) => return with_err(input, false, format!("dial: {e}")),
    };
    c.write(b"who?").expect("a datagram");
    pc.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
        .expect("a read deadline");
    match pc.read_from(&mut [0u8; 16]) {
        Err(e) => with_err(
            input,
            false,
            local(&e.to_string(), Some(&pc.local_addr()), None),
        ),
        Ok((_, from)) => {
            let from_text = local(&from.to_string(), None, Some(&c.local_addr()));
            record(
                input,
                true,
                &[("from", format!("{from_text} {}", from.network()))],
            )
        }
    }
}

fn unbound_sender(env: &Env, input: &Input) -> Record {
    let address = env.substitute(&input.address);
    let pc = match net::listen_packet(&input.network, &address) {
        Ok(pc) => pc,
        Err(e) => return with_err(input, false, format!("listen: {e}")),
    };
    let c = match gonet::dial(&input.network, &address) {
        Ok(c) => c,
        Err(e) => return with_err(input, false, format!("dial: {e}")),
    };
    c.write(b"who?").expect("a datagram");
    let from = match pc.read_from(&mut [0u8; 16]) {
        Ok((_, from)) => from,
        Err(e) => {
            let text = local(&e.to_string(), Some(&pc.local_addr()), None);
            return with_err(input, false, text);
        }
    };
    // The nameless sender: Go's nil Addr.
    let from_text = match &from {
        Addr::Unix(u) if u.name.is_empty() => "<nil>".to_string(),
        a => a.to_string(),
    };
    let err = err_text(pc.write_to(b"back", &from));
    record(
        input,
        true,
        &[
            ("from", from_text),
            ("err", env.normalise(&input.address, &err)),
        ],
    )
}
