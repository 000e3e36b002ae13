//! `--tls` for the stress tool: every connection of echo, idle, burst and http modes
//! runs a TLS handshake (gonet::crypto::tls) right after its dial, so the dial phase
//! measures dial + handshake (burst: handshakes per second) and the other phases run
//! over TLS records.
//!
//! The engine sees one connection type, [`Conn`]: a plain gonet conn or a TLS one,
//! depending on [`Config::tls`](crate::Config::tls).

use std::io;
use std::sync::Arc;
use std::time::Instant;

use gonet::crypto::{tls, x509};

/// The TLS client configuration for `--tls`: trust `ca` (a PEM file) or, with
/// `insecure`, anything; verify `server_name` (default: the address's host, as
/// `tls.Dial` does). `resume` keeps a session cache so reconnects resume.
pub fn client_config(
    insecure: bool,
    ca: Option<&str>,
    server_name: Option<&str>,
    addr: &str,
    resume: bool,
) -> Result<tls::Config, String> {
    let root_cas = match ca {
        Some(file) => {
            let pem = std::fs::read(file).map_err(|e| format!("--ca {file}: {e}"))?;
            let mut pool = x509::CertPool::new();
            if !pool.append_certs_from_pem(&pem) {
                return Err(format!("--ca {file}: no PEM certificate in it"));
            }
            Some(pool)
        }
        None => None,
    };
    let host = match addr.rfind(':') {
        Some(i) => &addr[..i],
        None => addr,
    };
    if root_cas.is_none() && !insecure {
        return Err("--tls needs --ca FILE or --insecure".into());
    }
    Ok(tls::Config {
        root_cas,
        insecure_skip_verify: insecure,
        server_name: server_name.unwrap_or(host).to_string(),
        client_session_cache: resume.then(|| tls::new_lru_client_session_cache(4096)),
        ..Default::default()
    })
}

/// A connection of the run: plain, or TLS over a plain one.
#[derive(Clone)]
pub enum Conn {
    /// No `--tls`.
    Plain(gonet::Conn),
    /// `--tls`: the handshake is done.
    Tls(tls::Conn),
}

/// `conn` as the run uses it: plain, or with a completed TLS handshake (bounded by
/// `deadline`, then cleared) when `cfg` is given.
pub fn wrap(
    conn: gonet::Conn,
    cfg: Option<&Arc<tls::Config>>,
    deadline: Instant,
) -> io::Result<Conn> {
    let Some(cfg) = cfg else {
        return Ok(Conn::Plain(conn));
    };
    conn.set_deadline(Some(deadline))?;
    let t = tls::client(conn.clone(), cfg);
    t.handshake()?;
    conn.set_deadline(None)?;
    Ok(Conn::Tls(t))
}

impl Conn {
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(c) => c.read(buf),
            Conn::Tls(c) => c.read(buf),
        }
    }

    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(c) => c.write(buf),
            Conn::Tls(c) => c.write(buf),
        }
    }

    pub fn set_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.net().set_deadline(t)
    }

    pub fn set_read_deadline(&self, t: Option<Instant>) -> io::Result<()> {
        self.net().set_read_deadline(t)
    }

    pub fn close(&self) -> io::Result<()> {
        match self {
            Conn::Plain(c) => c.close(),
            Conn::Tls(c) => c.close(),
        }
    }

    /// The plain connection underneath.
    pub fn net(&self) -> &gonet::Conn {
        match self {
            Conn::Plain(c) => c,
            Conn::Tls(c) => c.net_conn(),
        }
    }
}
