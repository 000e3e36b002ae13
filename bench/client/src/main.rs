//! The neutral load client for gonet's benchmarks: plain std threads, blocking connects
//! and epoll (through libc), nothing from gonet, may or tokio.
//!
//! ```text
//! client echo  ADDR --conns N --secs D [--warmup W] [--threads T] [--size 64] [--pid PID]
//! client idle  ADDR --conns N --pid PID [--settle-ms 1000]
//! client httpidle ADDR --conns N --pid PID [--path /] [--settle-ms 1000]
//! client burst ADDR --conns N [--timeout-s 30]
//! client udp   ADDR --conns N --secs D [--warmup W] [--threads T] [--size 64] [--timeout-ms 200] [--pid PID]
//! client spin  ADDR --spinners N --conns 1000 [--timeout-ms 2000]
//! client wrk   PID WRK-ARGS...          # runs wrk, adds the server's CPU time per request
//! client report RAW META OUT.md OUT.svg  # the table of ratios and the chart
//! ```
//!
//! Each load mode prints one line of `key=value` pairs for bench/run.sh to read.
//! `--pid` is the server's process id: the client reads its CPU time (utime + stime from
//! /proc/PID/stat) at the start and the end of the measured window, and its VmRSS
//! (/proc/PID/status) before and after opening idle connections.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod chart;
mod http_idle;
mod report;
mod spin;
mod udp;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let r = match mode {
        "echo" => echo(&Opts::parse(&args[1..])),
        "idle" => idle(&Opts::parse(&args[1..])),
        "httpidle" => http_idle::run(&Opts::parse(&args[1..])),
        "burst" => burst(&Opts::parse(&args[1..])),
        "udp" => udp::run(&Opts::parse(&args[1..])),
        "spin" => spin::run(&Opts::parse(&args[1..])),
        "wrk" if args.len() > 2 => wrk(&args[1], &args[2..]),
        "report" if args.len() == 5 => report::run(&args[1], &args[2], &args[3], &args[4]),
        _ => {
            eprintln!("usage: client echo|idle|httpidle|burst|udp|spin ADDR [--opt value ...] | wrk PID ARGS... | report RAW META OUT.md OUT.svg");
            std::process::exit(2);
        }
    };
    if let Err(e) = r {
        eprintln!("client {mode}: {e}");
        std::process::exit(1);
    }
}

/// `ADDR --key value ...`
struct Opts {
    addr: SocketAddr,
    kv: Vec<(String, String)>,
}

impl Opts {
    fn parse(args: &[String]) -> Opts {
        let addr = args
            .first()
            .and_then(|a| a.to_socket_addrs().ok())
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| {
                eprintln!("client: first argument must be HOST:PORT");
                std::process::exit(2)
            });
        let mut kv = Vec::new();
        let mut it = args[1..].iter();
        while let Some(k) = it.next() {
            let v = it.next().cloned().unwrap_or_default();
            kv.push((k.trim_start_matches('-').to_string(), v));
        }
        Opts { addr, kv }
    }

    fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        self.kv
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    }
}

// ---------------------------------------------------------------------------------------
// /proc readers
// ---------------------------------------------------------------------------------------

/// utime + stime of process `pid` in clock ticks (all its threads).
fn cpu_ticks(pid: u32) -> io::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: split after the last ')'.
    let rest = &s[s.rfind(')').map_or(0, |i| i + 1)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(utime + stime)
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf only reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// VmRSS of process `pid`, in KiB.
fn rss_kb(pid: u32) -> io::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS"))
}

fn own_cpu_secs() -> f64 {
    // SAFETY: getrusage fills the struct we hand it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

// ---------------------------------------------------------------------------------------
// epoll
// ---------------------------------------------------------------------------------------

struct Epoll(RawFd);

impl Epoll {
    fn new() -> io::Result<Epoll> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Epoll(fd))
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32, data: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: data };
        // SAFETY: ev is valid for the call.
        if unsafe { libc::epoll_ctl(self.0, op, fd, &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, evs: &mut [libc::epoll_event], timeout_ms: i32) -> usize {
        // SAFETY: evs is a valid buffer of evs.len() events.
        let n = unsafe { libc::epoll_wait(self.0, evs.as_mut_ptr(), evs.len() as i32, timeout_ms) };
        n.max(0) as usize
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

fn raw_read(fd: RawFd, buf: &mut [u8]) -> isize {
    // SAFETY: buf is valid for buf.len() bytes.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }
}

fn raw_write(fd: RawFd, buf: &[u8]) -> isize {
    // SAFETY: buf is valid for buf.len() bytes.
    unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Connects with retries (a full accept queue drops SYNs: the kernel retries, but a
/// refused connect is retried here for up to 5 s).
fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let start = Instant::now();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                eprintln!("client: connect: {e}; retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64
}

// ---------------------------------------------------------------------------------------
// echo: N connections doing SIZE-byte ping-pong for D seconds
// ---------------------------------------------------------------------------------------

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

struct EchoOut {
    round_trips: u64,
    /// Round-trip latencies in the measured window, in nanoseconds.
    lat_ns: Vec<u32>,
    errors: u64,
}

fn echo(o: &Opts) -> io::Result<()> {
    let conns: usize = o.get("conns", 100);
    let secs: f64 = o.get("secs", 10.0);
    let warmup: f64 = o.get("warmup", 1.0);
    let threads: usize = o.get::<usize>("threads", 1).max(1);
    let size: usize = o.get("size", 64);
    let pid: u32 = o.get("pid", 0);

    let mut streams = Vec::with_capacity(conns);
    for _ in 0..conns {
        let s = connect(o.addr)?;
        s.set_nonblocking(true)?;
        streams.push(s);
    }
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let mut parts: Vec<Vec<TcpStream>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, s) in streams.into_iter().enumerate() {
        parts[i % threads].push(s);
    }
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let phase = phase.clone();
            std::thread::spawn(move || echo_thread(part, size, &phase))
        })
        .collect();

    let w = Window::measure(&phase, warmup, secs, pid)?;
    let (elapsed, srv_cpu, own_cpu) = (w.elapsed, w.srv_cpu, w.own_cpu);

    let mut total = EchoOut {
        round_trips: 0,
        lat_ns: Vec::new(),
        errors: 0,
    };
    for r in join_all(handles)? {
        total.round_trips += r.round_trips;
        total.errors += r.errors;
        total.lat_ns.extend(r.lat_ns);
    }
    total.lat_ns.sort_unstable();
    let rt = total.round_trips.max(1) as f64;
    println!(
        "rtps={:.0} p50_us={:.1} p99_us={:.1} srv_cpu_s={:.2} srv_cpu_us_per_rt={:.3} srv_cores={:.2} client_cpu_s={:.2} round_trips={} secs={:.2} conns={} errors={}",
        total.round_trips as f64 / elapsed,
        pct(&total.lat_ns, 0.50) / 1e3,
        pct(&total.lat_ns, 0.99) / 1e3,
        srv_cpu,
        srv_cpu * 1e6 / rt,
        srv_cpu / elapsed,
        own_cpu,
        total.round_trips,
        elapsed,
        conns,
        total.errors,
    );
    Ok(())
}

/// One measured window of a load run: the client threads, started in the WARMUP phase,
/// are switched to MEASURE after `warmup` s and to STOP `secs` s later.
struct Window {
    elapsed: f64,
    /// The server's CPU (utime + stime) over the window, in seconds (0 without a pid).
    srv_cpu: f64,
    /// This client's own CPU over the window, in seconds.
    own_cpu: f64,
}

impl Window {
    fn measure(phase: &AtomicU8, warmup: f64, secs: f64, pid: u32) -> io::Result<Window> {
        std::thread::sleep(Duration::from_secs_f64(warmup));
        let c0 = if pid != 0 { cpu_ticks(pid)? } else { 0 };
        let own0 = own_cpu_secs();
        let t0 = Instant::now();
        phase.store(MEASURE, Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs_f64(secs));
        phase.store(STOP, Ordering::SeqCst);
        let elapsed = t0.elapsed().as_secs_f64();
        let c1 = if pid != 0 { cpu_ticks(pid)? } else { 0 };
        Ok(Window {
            elapsed,
            srv_cpu: c1.saturating_sub(c0) as f64 / clk_tck(),
            own_cpu: own_cpu_secs() - own0,
        })
    }
}

/// Every client thread's result, or the first error.
fn join_all<T>(handles: Vec<std::thread::JoinHandle<io::Result<T>>>) -> io::Result<Vec<T>> {
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .map_err(|_| io::Error::other("client thread panicked"))?
        })
        .collect()
}

/// The idle scenarios' report: the server's RSS growth per connection in `held`, once
/// they have settled; then `--hold-s` longer open (to look at the server's
/// /proc/PID/smaps), and closed.
fn report_idle<T>(o: &Opts, pid: u32, rss0: u64, held: Vec<T>, open_s: f64) -> io::Result<()> {
    let settle = Duration::from_millis(o.get("settle-ms", 1000));
    let conns = held.len();
    std::thread::sleep(settle);
    let rss1 = rss_kb(pid)?;
    println!(
        "rss_before_kb={rss0} rss_after_kb={rss1} bytes_per_conn={:.0} conns={conns} open_s={open_s:.2}",
        (rss1.saturating_sub(rss0) * 1024) as f64 / conns.max(1) as f64
    );
    let hold: f64 = o.get("hold-s", 0.0);
    if hold > 0.0 {
        let _ = io::stdout().flush();
        std::thread::sleep(Duration::from_secs_f64(hold));
    }
    drop(held);
    Ok(())
}

fn echo_thread(conns: Vec<TcpStream>, size: usize, phase: &AtomicU8) -> io::Result<EchoOut> {
    let ep = Epoll::new()?;
    let msg = vec![b'x'; size];
    let mut buf = vec![0u8; size.max(4096)];
    let mut got = vec![0usize; conns.len()];
    let mut sent_at = vec![Instant::now(); conns.len()];
    let mut alive = vec![true; conns.len()];
    let mut out = EchoOut {
        round_trips: 0,
        lat_ns: Vec::with_capacity(1 << 20),
        errors: 0,
    };
    for (i, s) in conns.iter().enumerate() {
        ep.ctl(
            libc::EPOLL_CTL_ADD,
            s.as_raw_fd(),
            libc::EPOLLIN as u32,
            i as u64,
        )?;
        sent_at[i] = Instant::now();
        if raw_write(s.as_raw_fd(), &msg) != size as isize {
            out.errors += 1;
            alive[i] = false;
        }
    }
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    loop {
        let n = ep.wait(&mut evs, 100);
        let ph = phase.load(Ordering::Relaxed);
        if ph == STOP {
            break;
        }
        for ev in &evs[..n] {
            let i = ev.u64 as usize;
            if !alive[i] {
                continue;
            }
            let fd = conns[i].as_raw_fd();
            let r = raw_read(fd, &mut buf[..size - got[i]]);
            if r <= 0 {
                if r < 0 && errno() == libc::EAGAIN {
                    continue;
                }
                out.errors += 1;
                alive[i] = false;
                let _ = ep.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                continue;
            }
            got[i] += r as usize;
            if got[i] < size {
                continue;
            }
            got[i] = 0;
            let now = Instant::now();
            if ph == MEASURE {
                out.round_trips += 1;
                let ns = now.duration_since(sent_at[i]).as_nanos();
                out.lat_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
            }
            sent_at[i] = now;
            if raw_write(fd, &msg) != size as isize {
                out.errors += 1;
                alive[i] = false;
                let _ = ep.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// idle: server RSS per held connection
// ---------------------------------------------------------------------------------------

fn idle(o: &Opts) -> io::Result<()> {
    let conns: usize = o.get("conns", 8000);
    let pid: u32 = o.get("pid", 0);
    if pid == 0 {
        return Err(io::Error::other("idle needs --pid"));
    }
    let rss0 = rss_kb(pid)?;
    let t0 = Instant::now();
    let mut held = Vec::with_capacity(conns);
    let msg = [b'i'; 64];
    let mut buf = [0u8; 64];
    for _ in 0..conns {
        // One round trip on each, so the server has really served it.
        let mut s = connect(o.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(&msg)?;
        s.read_exact(&mut buf)?;
        held.push(s);
    }
    let open_s = t0.elapsed().as_secs_f64();
    report_idle(o, pid, rss0, held, open_s)
}

// ---------------------------------------------------------------------------------------
// burst: N simultaneous dials, each served one round trip
// ---------------------------------------------------------------------------------------

fn burst(o: &Opts) -> io::Result<()> {
    let conns: usize = o.get("conns", 8000);
    let timeout = Duration::from_secs(o.get("timeout-s", 30));
    let (sa, salen) = sockaddr(o.addr);
    let family = if o.addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let mut fds = Vec::with_capacity(conns);
    for _ in 0..conns {
        // SAFETY: plain syscall; the descriptor is ours and closed below.
        let fd = unsafe {
            libc::socket(
                family,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        // SAFETY: valid option pointer and length.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        fds.push(fd);
    }
    let ep = Epoll::new()?;
    let msg = [b'b'; 64];
    let mut buf = [0u8; 64];
    // Per conn: 0 = dialing, 1 = dialed and sent, 2 = served, 3 = failed.
    let mut state = vec![0u8; conns];
    let mut got = vec![0usize; conns];
    let mut started = vec![Instant::now(); conns];
    let mut dial_us: Vec<u32> = Vec::with_capacity(conns);
    let mut served_us: Vec<u32> = Vec::with_capacity(conns);
    let (mut served, mut failed) = (0usize, 0usize);
    let t0 = Instant::now();
    for (i, &fd) in fds.iter().enumerate() {
        started[i] = Instant::now();
        // SAFETY: sa is a valid sockaddr of salen bytes.
        let r = unsafe { libc::connect(fd, (&sa as *const libc::sockaddr_storage).cast(), salen) };
        if r < 0 && errno() != libc::EINPROGRESS {
            state[i] = 3;
            failed += 1;
            continue;
        }
        ep.ctl(
            libc::EPOLL_CTL_ADD,
            fd,
            (libc::EPOLLOUT | libc::EPOLLIN) as u32,
            i as u64,
        )?;
    }
    let dials_issued_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mut last_served = t0;
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    while served + failed < conns && t0.elapsed() < timeout {
        let n = ep.wait(&mut evs, 100);
        for ev in &evs[..n] {
            let i = ev.u64 as usize;
            let fd = fds[i];
            if state[i] == 0 {
                if ev.events & (libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) as u32 == 0 {
                    continue;
                }
                let mut err: libc::c_int = 0;
                let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                // SAFETY: valid option buffer and length.
                unsafe {
                    libc::getsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_ERROR,
                        (&mut err as *mut libc::c_int).cast(),
                        &mut len,
                    )
                };
                if err != 0 || raw_write(fd, &msg) != 64 {
                    state[i] = 3;
                    failed += 1;
                    let _ = ep.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                    continue;
                }
                dial_us.push(us32(started[i].elapsed()));
                state[i] = 1;
                ep.ctl(libc::EPOLL_CTL_MOD, fd, libc::EPOLLIN as u32, i as u64)?;
                continue;
            }
            if state[i] != 1 {
                continue;
            }
            let r = raw_read(fd, &mut buf[..64 - got[i]]);
            if r < 0 && errno() == libc::EAGAIN {
                continue;
            }
            if r <= 0 {
                state[i] = 3;
                failed += 1;
                let _ = ep.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                continue;
            }
            got[i] += r as usize;
            if got[i] == 64 {
                state[i] = 2;
                served += 1;
                last_served = Instant::now();
                served_us.push(us32(started[i].elapsed()));
                let _ = ep.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
            }
        }
    }
    dial_us.sort_unstable();
    served_us.sort_unstable();
    let unserved = conns - served - failed;
    println!(
        "all_served_ms={:.1} served={served} dial_failed={failed} unserved={unserved} dial_p50_ms={:.2} dial_p99_ms={:.2} served_p50_ms={:.2} served_p99_ms={:.2} dials_issued_ms={dials_issued_ms:.1} conns={conns}",
        last_served.duration_since(t0).as_secs_f64() * 1e3,
        pct(&dial_us, 0.50) / 1e3,
        pct(&dial_us, 0.99) / 1e3,
        pct(&served_us, 0.50) / 1e3,
        pct(&served_us, 0.99) / 1e3,
    );
    for fd in fds {
        // SAFETY: we own these descriptors.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// Microseconds, so that a burst's slowest connections (SYN retransmits: 1 s, 3 s, 7 s
/// ...) fit; nanoseconds in a u32 would stop at 4.29 s.
fn us32(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn sockaddr(a: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match a {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

// ---------------------------------------------------------------------------------------
// wrk: run Debian's wrk against a server and read its report
// ---------------------------------------------------------------------------------------

/// `12.3us`, `4.5ms`, `1.2s` in milliseconds.
fn wrk_ms(v: &str) -> Option<f64> {
    let (num, mult) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e3)
    } else {
        (v, 1.0)
    };
    num.parse::<f64>().ok().map(|x| x * mult)
}

fn wrk(pid: &str, args: &[String]) -> io::Result<()> {
    let pid: u32 = pid.parse().map_err(|_| io::Error::other("wrk: bad pid"))?;
    let c0 = cpu_ticks(pid)?;
    let out = std::process::Command::new("wrk").args(args).output()?;
    let c1 = cpu_ticks(pid)?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let (mut rps, mut p50, mut p99, mut reqs, mut errors) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0u64);
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["Requests/sec:", v, ..] => rps = v.parse().unwrap_or(0.0),
            ["50%", v, ..] => p50 = wrk_ms(v).unwrap_or(0.0),
            ["99%", v, ..] => p99 = wrk_ms(v).unwrap_or(0.0),
            [n, "requests", "in", ..] => reqs = n.parse().unwrap_or(0.0),
            ["Socket", "errors:", rest @ ..] => {
                errors += rest
                    .iter()
                    .filter_map(|t| t.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => errors += n.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    let srv_cpu = (c1 - c0) as f64 / clk_tck();
    println!(
        "rps={rps:.0} p50_ms={p50:.3} p99_ms={p99:.3} srv_cpu_s={srv_cpu:.2} srv_cpu_us_per_req={:.3} requests={reqs:.0} errors={errors}",
        srv_cpu * 1e6 / reqs.max(1.0)
    );
    Ok(())
}
