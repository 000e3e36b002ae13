//! Descriptor and port limits, checked before a run starts.

use std::io;

use crate::config::*;

// ---------------------------------------------------------------------------------------
// Descriptor limits
// ---------------------------------------------------------------------------------------

/// The soft and hard RLIMIT_NOFILE.
pub fn nofile_limit() -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (Go 1.19+ does this for every
/// program); returns the limit now in force.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let (soft, hard) = nofile_limit()?;
    if soft < hard {
        let lim = libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        };
        // SAFETY: lim is a valid rlimit with soft <= hard.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(nofile_limit()?.0)
}

/// Descriptors this process has open now.
pub fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

/// The local port range (`/proc/sys/net/ipv4/ip_local_port_range`): how many TCP
/// connections one local IP can have open to one server address.
pub fn local_port_count() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|x| x.parse::<u64>().ok());
    let (lo, hi) = (it.next()??, it.next()??);
    (hi >= lo).then(|| hi - lo + 1)
}

/// Checks a run before it starts: raises RLIMIT_NOFILE to the hard limit, then refuses
/// a run the limits cannot hold with a message that says how many connections fit, so
/// `-c 30000` under a 20000-descriptor limit fails at once instead of in a flood of
/// "too many open files".
pub fn preflight(cfg: &Config) -> Result<(), String> {
    if cfg.conns == 0 {
        return Err("--conns must be at least 1".to_string());
    }
    if cfg.addr.is_empty() {
        return Err("--addr is empty".to_string());
    }
    if let Some(rate) = cfg.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!(
                "--rate must be a positive number of requests/s, not {rate}"
            ));
        }
    }
    if cfg.rate.is_some() && !matches!(cfg.mode, Mode::Echo | Mode::Http | Mode::Udp) {
        return Err(format!(
            "--rate applies to echo, http and udp, not to {}",
            cfg.mode
        ));
    }
    if cfg.duration.is_zero() && cfg.mode != Mode::Burst {
        return Err("--duration must be more than 0".to_string());
    }
    if cfg.timeout.is_zero() {
        return Err("--timeout must be more than 0".to_string());
    }
    if cfg.mode == Mode::Http && !cfg.path.starts_with('/') {
        return Err(format!("--path must start with '/', not {:?}", cfg.path));
    }
    let (lo, hi) = (crate::udp::MIN_DATAGRAM, crate::udp::MAX_DATAGRAM);
    if cfg.mode == Mode::Udp && !(lo..=hi).contains(&cfg.size) {
        return Err(format!(
            "--size in udp mode is one datagram: {lo} to {hi} bytes, not {}",
            cfg.size
        ));
    }
    if cfg.procs == 0 || cfg.procs > cfg.conns {
        return Err(format!(
            "--procs must be 1 to --conns ({}), not {}",
            cfg.conns, cfg.procs
        ));
    }
    if !cfg.source_ips.is_empty() && cfg.network() != "tcp" {
        return Err(format!(
            "--source-ips applies to TCP addresses, not to {} ({})",
            cfg.network(),
            cfg.addr
        ));
    }
    // Each process holds its share of the connections.
    let per_proc = cfg.conns.div_ceil(cfg.procs);
    let limit = raise_nofile_limit().map_err(|e| format!("cannot read RLIMIT_NOFILE: {e}"))?;
    let (_, hard) = nofile_limit().unwrap_or((limit, limit));
    let in_use = open_fds() + FD_RESERVE;
    let fit = limit.saturating_sub(in_use);
    if per_proc as u64 > fit {
        let what = match cfg.procs {
            1 => format!("{} connections need", cfg.conns),
            n => format!(
                "{} connections over {n} processes need {per_proc} per process, and those need",
                cfg.conns
            ),
        };
        return Err(format!(
            "{what} {} file descriptors, but the limit is {limit} \
             (RLIMIT_NOFILE, hard limit {hard}; {} in use or kept back): at most {fit} \
             connections fit in one process. Use -c {fit} or less per process (--procs \
             spreads -c over more client processes), or raise the hard limit \
             (`ulimit -Hn`, /etc/security/limits.conf, systemd LimitNOFILE=) and run again. \
             A server in the same process needs its own descriptors too.",
            per_proc as u64 + in_use,
            in_use
        ));
    }
    if matches!(cfg.network(), "tcp" | "udp") {
        if let Some(ports) = local_port_count() {
            let sources = cfg.source_ips.len().max(1) as u64;
            if cfg.conns as u64 > ports * sources {
                return Err(format!(
                    "{} connections to one address need {} local ports, but \
                     net.ipv4.ip_local_port_range allows {ports} per source address: at most \
                     {} connections from {sources} local IP{} to one server address (spread \
                     them over more with --source-ips 127.0.0.2-127.0.0.9)",
                    cfg.conns,
                    cfg.conns,
                    ports * sources,
                    if sources == 1 { "" } else { "s" }
                ));
            }
        }
    }
    Ok(())
}

/// Resolves a TCP `host:port` once, up front, to an IP literal (the first IPv4 address,
/// else the first, as Go's dial does), so thousands of coroutines do not each call the
/// blocking resolver. Unix addresses are returned as they are.
pub fn resolve(addr: &str) -> Result<String, String> {
    if network_of(addr) == "unix" {
        return Ok(addr.to_string());
    }
    use std::net::ToSocketAddrs;
    let with_host = if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr.to_string()
    };
    let addrs: Vec<_> = with_host
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve --addr {addr:?}: {e}"))?
        .collect();
    let pick = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .ok_or_else(|| format!("--addr {addr:?} resolves to no address"))?;
    Ok(pick.to_string())
}
