//! Pools of trusted certificates. Go: `crypto/x509/cert_pool.go` (and `root_linux.go` for
//! where the system's roots live).

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::{Certificate, parse_certificate};

/// A set of certificates: the roots a client trusts ([`Config::root_cas`]) or the CAs a
/// server accepts client certificates from ([`Config::client_cas`]).
///
/// Go: `*x509.CertPool`. Cloning is cheap and gives an independent pool (copy on write).
///
/// [`Config::root_cas`]: crate::crypto::tls::Config::root_cas
/// [`Config::client_cas`]: crate::crypto::tls::Config::client_cas
///
/// ```
/// use gonet::crypto::x509::CertPool;
/// let pool = CertPool::new(); // x509.NewCertPool()
/// assert_eq!(pool.len(), 0);
/// ```
#[derive(Clone, Default)]
pub struct CertPool {
    pub(crate) inner: Arc<PoolInner>,
}

#[derive(Default)]
pub(crate) struct PoolInner {
    ders: Vec<CertificateDer<'static>>,
    /// The pool as rustls's trust anchors, made on first use.
    store: OnceLock<Arc<RootCertStore>>,
}

impl Clone for PoolInner {
    fn clone(&self) -> PoolInner {
        PoolInner {
            ders: self.ders.clone(),
            store: OnceLock::new(),
        }
    }
}

impl CertPool {
    /// An empty pool. Go: `x509.NewCertPool()`.
    ///
    /// ```
    /// assert!(gonet::crypto::x509::CertPool::new().is_empty());
    /// ```
    pub fn new() -> CertPool {
        CertPool::default()
    }

    /// Adds every `CERTIFICATE` block of `pem` that parses; returns whether any did.
    /// Other blocks (keys, say) and bad certificates are skipped, as in Go.
    ///
    /// Go: `pool.AppendCertsFromPEM(pemCerts)`.
    ///
    /// ```
    /// let mut pool = gonet::crypto::x509::CertPool::new();
    /// assert!(!pool.append_certs_from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
    /// ```
    pub fn append_certs_from_pem(&mut self, pem: &[u8]) -> bool {
        let mut ok = false;
        for der in CertificateDer::pem_slice_iter(pem).flatten() {
            if parse_certificate(&der).is_ok() {
                self.push(der);
                ok = true;
            }
        }
        ok
    }

    /// Adds a parsed certificate. Go: `pool.AddCert(cert)`.
    ///
    /// ```
    /// # use gonet::crypto::x509::CertPool;
    /// let mut pool = CertPool::new();
    /// # let cert = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap().cert;
    /// let cert = gonet::crypto::x509::parse_certificate(cert.der()).unwrap();
    /// pool.add_cert(&cert);
    /// assert_eq!(pool.len(), 1);
    /// ```
    pub fn add_cert(&mut self, cert: &Certificate) {
        self.push(CertificateDer::from(cert.raw.clone()));
    }

    fn push(&mut self, der: CertificateDer<'static>) {
        let inner = Arc::make_mut(&mut self.inner);
        inner.store = OnceLock::new();
        inner.ders.push(der);
    }

    /// How many certificates the pool holds. (Go 1.19 has no such method; its
    /// `len(pool.Subjects())` counts the same.)
    ///
    /// ```
    /// assert_eq!(gonet::crypto::x509::CertPool::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.ders.len()
    }

    /// Whether the pool is empty.
    ///
    /// ```
    /// assert!(gonet::crypto::x509::CertPool::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.ders.is_empty()
    }

    /// The pool as rustls trust anchors (certificates webpki cannot use as anchors are
    /// left out, as Go's verifier would never chain to them either).
    pub(crate) fn root_store(&self) -> Arc<RootCertStore> {
        self.inner
            .store
            .get_or_init(|| {
                let mut store = RootCertStore::empty();
                let (added, ignored) = store.add_parsable_certificates(self.inner.ders.clone());
                if ignored > 0 {
                    log::debug!("gonet: cert pool: {added} roots usable, {ignored} ignored");
                }
                Arc::new(store)
            })
            .clone()
    }

    /// Whether two pools are the same one (clones not modified since).
    pub(crate) fn same(&self, other: &CertPool) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for CertPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertPool")
            .field("len", &self.len())
            .finish()
    }
}

/// The system's trusted roots: `SSL_CERT_FILE` / `SSL_CERT_DIR` if set, else the OS
/// store (on Debian and Ubuntu `/etc/ssl/certs/ca-certificates.crt`, from the
/// `ca-certificates` package). Read once per process, as Go does; every call returns a
/// copy of that pool.
///
/// Go: `x509.SystemCertPool()`. It fails with Go's `SystemRootsError` text when no
/// root could be read at all (a machine without `ca-certificates`).
///
/// ```
/// match gonet::crypto::x509::system_cert_pool() {
///     Ok(pool) => assert!(!pool.is_empty()),
///     Err(e) => assert!(e.to_string().starts_with("x509: failed to load system roots")),
/// }
/// ```
pub fn system_cert_pool() -> io::Result<CertPool> {
    static SYSTEM: OnceLock<Result<CertPool, String>> = OnceLock::new();
    let loaded = SYSTEM.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            log::debug!("gonet: system roots: {e}");
        }
        let mut pool = CertPool::new();
        for der in found.certs {
            pool.push(der);
        }
        if pool.is_empty() {
            let why = found
                .errors
                .first()
                .map_or_else(|| "no certificates found".to_string(), |e| e.to_string());
            Err(why)
        } else {
            Ok(pool)
        }
    });
    match loaded {
        Ok(pool) => Ok(pool.clone()),
        Err(why) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            super::SystemRootsError {
                err: Some(why.clone()),
            },
        )),
    }
}
