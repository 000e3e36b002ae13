//! The client side: a rustls `ClientConfig` built from a [`Config`], with Go's
//! verification errors and Go's choice of client certificate. Go:
//! `crypto/tls/handshake_client.go` (`verifyServerCertificate`, `getClientCertificate`).

use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, Resumption, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;

use super::common::Config;
use super::config_cache::{self, Cache};
use super::error::{Fault, X509Fault};
use crate::crypto::x509::{self, CertPool, SystemRootsError, UnknownAuthorityError};

/// The rustls client configuration for `config`, from the cache when an equal config
/// was seen before.
pub(crate) fn client_config(config: &Config) -> Result<Arc<rustls::ClientConfig>, Fault> {
    static CACHE: Cache<rustls::ClientConfig> = Cache::new();
    CACHE.get_or_build(config, config_cache::same_client, build)
}

fn build(config: &Config) -> Result<rustls::ClientConfig, Fault> {
    let provider = super::cipher_suites::provider_for(config);
    let versions = config.versions().map_err(Fault::Msg)?;
    let verifier = Arc::new(GoServerVerifier::new(config, &provider));
    let certs = ClientCerts::new(config);
    let mut cc = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| Fault::msg(format!("tls: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(certs));
    cc.alpn_protocols = config
        .next_protos
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    cc.resumption = match &config.client_session_cache {
        Some(c) => Resumption::store(c.store.clone()),
        None => Resumption::disabled(),
    };
    if let Some(w) = &config.key_log_writer {
        cc.key_log = Arc::new(super::config_cache::KeyLogTo(w.clone()));
    }
    Ok(cc)
}

/// Verifies server certificates with webpki and words failures as Go's verifier does.
#[derive(Debug)]
struct GoServerVerifier {
    /// `None` with `insecure_skip_verify`, or when `failure` says why not.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// Every certificate fails this way (no usable roots).
    failure: Option<X509Fault>,
    algs: WebPkiSupportedAlgorithms,
}

impl GoServerVerifier {
    fn new(config: &Config, provider: &Arc<CryptoProvider>) -> GoServerVerifier {
        let algs = provider.signature_verification_algorithms;
        let mut v = GoServerVerifier {
            webpki: None,
            failure: None,
            algs,
        };
        if config.insecure_skip_verify {
            return v;
        }
        let pool = match roots(config.root_cas.as_ref()) {
            Ok(p) => p,
            Err(e) => {
                v.failure = Some(X509Fault::Roots(e));
                return v;
            }
        };
        match WebPkiServerVerifier::builder_with_provider(pool.root_store(), provider.clone())
            .build()
        {
            Ok(w) => v.webpki = Some(w),
            // No usable anchor: Go finds no chain for any certificate.
            Err(_) => v.failure = Some(X509Fault::Unknown(UnknownAuthorityError { cert: None })),
        }
        v
    }
}

/// The pool to verify against: the given one, else the system's.
pub(crate) fn roots(given: Option<&CertPool>) -> Result<CertPool, SystemRootsError> {
    match given {
        Some(p) => Ok(p.clone()),
        None => x509::system_cert_pool().map_err(|e| {
            match e
                .get_ref()
                .and_then(|r| r.downcast_ref::<SystemRootsError>())
            {
                Some(r) => r.clone(),
                None => SystemRootsError {
                    err: Some(e.to_string()),
                },
            }
        }),
    }
}

/// The host a server name stands for, as Go prints it in `HostnameError`.
pub(crate) fn host_of(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => String::new(),
    }
}

impl ServerCertVerifier for GoServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(f) = &self.failure {
            let mut f = f.clone();
            if let X509Fault::Unknown(u) = &mut f {
                u.cert = x509::parse_certificate(end_entity).ok();
            }
            return Err(f.into_rustls());
        }
        let Some(webpki) = &self.webpki else {
            // insecure_skip_verify: any certificate, any name.
            return Ok(ServerCertVerified::assertion());
        };
        webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(c) => {
                    let leaf = x509::parse_certificate(end_entity).ok();
                    match x509::verify_from_rustls(&c, leaf.as_ref(), &host_of(server_name)) {
                        Some(go) => X509Fault::from_boxed(go).into_rustls(),
                        None => rustls::Error::InvalidCertificate(c),
                    }
                }
                other => other,
            })
    }

    verify_signatures!(algs);
}

/// Go's `getClientCertificate` without a callback: the first certificate whose key can
/// sign with a scheme the server accepts and whose chain names an acceptable CA (any
/// CA when the server named none); otherwise no certificate.
#[derive(Debug)]
struct ClientCerts {
    certs: Vec<(Arc<CertifiedKey>, Vec<Vec<u8>>)>,
}

impl ClientCerts {
    fn new(config: &Config) -> ClientCerts {
        let certs = config
            .certificates
            .iter()
            .map(|c| {
                let issuers = c
                    .certificate
                    .iter()
                    .filter_map(|d| x509::parse_certificate(d).ok())
                    .map(|x| x.raw_issuer)
                    .collect();
                (c.certified_key(), issuers)
            })
            .collect();
        ClientCerts { certs }
    }
}

impl ResolvesClientCert for ClientCerts {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.certs
            .iter()
            .find(|(key, issuers)| {
                key.key.choose_scheme(sigschemes).is_some()
                    && (root_hint_subjects.is_empty()
                        || issuers.iter().any(|i| {
                            root_hint_subjects
                                .iter()
                                .any(|h| *h == i.as_slice() || *h == strip_sequence(i))
                        }))
            })
            .map(|(key, _)| key.clone())
    }

    fn has_certs(&self) -> bool {
        !self.certs.is_empty()
    }
}

/// A DER `SEQUENCE`'s contents (rustls hints may come without the outer header).
fn strip_sequence(der: &[u8]) -> &[u8] {
    if der.len() < 2 || der[0] != 0x30 {
        return der;
    }
    let first = der[1];
    let header = if first < 0x80 {
        2
    } else {
        2 + usize::from(first & 0x7f)
    };
    der.get(header..).unwrap_or(der)
}
