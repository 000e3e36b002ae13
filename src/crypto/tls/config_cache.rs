//! What gonet builds from a [`Config`] (rustls configurations, with their session
//! ticket keys and caches), kept so that `tls::server(conn, &config)` and
//! `tls::client(conn, &config)` called per connection reuse one build, as a Go
//! `*tls.Config` is reused. Go keeps such state in the `Config` itself (its unexported
//! `sessionTicketKeys`, `autoSessionTicketKeys`); gonet's `Config` is a plain struct
//! with public fields only, so the build is found by comparing configs instead: two
//! configs are the same when their fields are equal and their shared parts (keys, pools,
//! callbacks, caches) are the same objects, as they are for clones.

use std::sync::{Arc, Mutex, PoisonError};

use super::common::{Certificate, Config};
use super::error::Fault;

/// How many distinct configs each side keeps builds for; the oldest goes first.
const CAPACITY: usize = 32;

/// A small cache from configs to what was built from them.
pub(crate) struct Cache<T> {
    entries: Mutex<Vec<(Config, Arc<T>)>>,
}

impl<T> Cache<T> {
    pub(crate) const fn new() -> Cache<T> {
        Cache {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The build for a config `same` as `config`, else a new one from `build`.
    pub(crate) fn get_or_build(
        &self,
        config: &Config,
        same: fn(&Config, &Config) -> bool,
        build: impl FnOnce(&Config) -> Result<T, Fault>,
    ) -> Result<Arc<T>, Fault> {
        {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, t)) = entries.iter().rev().find(|(c, _)| same(c, config)) {
                return Ok(t.clone());
            }
        }
        let built = Arc::new(build(config)?);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        entries.push((config.clone(), built.clone()));
        Ok(built)
    }
}

fn same_opt<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

fn same_certs(a: &[Certificate], b: &[Certificate]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            Arc::ptr_eq(&x.private_key.key, &y.private_key.key) && x.certificate == y.certificate
        })
}

fn same_pool(
    a: &Option<crate::crypto::x509::CertPool>,
    b: &Option<crate::crypto::x509::CertPool>,
) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same(b),
        _ => false,
    }
}

fn same_common(a: &Config, b: &Config) -> bool {
    a.min_version == b.min_version
        && a.max_version == b.max_version
        && a.next_protos == b.next_protos
        && a.cipher_suites == b.cipher_suites
        && a.curve_preferences == b.curve_preferences
        && same_certs(&a.certificates, &b.certificates)
        && same_opt(&a.key_log_writer, &b.key_log_writer)
}

/// Whether two configs build the same client configuration (the server name is per
/// connection, not part of it).
pub(crate) fn same_client(a: &Config, b: &Config) -> bool {
    same_common(a, b)
        && a.insecure_skip_verify == b.insecure_skip_verify
        && same_pool(&a.root_cas, &b.root_cas)
        && match (&a.client_session_cache, &b.client_session_cache) {
            (None, None) => true,
            (Some(x), Some(y)) => Arc::ptr_eq(&x.store, &y.store),
            _ => false,
        }
}

/// Whether two configs build the same server configuration.
pub(crate) fn same_server(a: &Config, b: &Config) -> bool {
    same_common(a, b)
        && a.client_auth == b.client_auth
        && a.session_tickets_disabled == b.session_tickets_disabled
        && same_pool(&a.client_cas, &b.client_cas)
        && same_opt(&a.get_certificate, &b.get_certificate)
}

/// rustls's key log, written to a [`KeyLogWriter`](super::KeyLogWriter) in the NSS
/// format Go writes (`CLIENT_RANDOM <random> <secret>`, hex).
pub(crate) struct KeyLogTo(pub(crate) super::KeyLogWriter);

impl std::fmt::Debug for KeyLogTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyLogTo")
    }
}

impl rustls::KeyLog for KeyLogTo {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        let mut w = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = w.write_all(line.as_bytes()) {
            log::debug!("gonet: tls: key log: {e}");
        }
    }
}
