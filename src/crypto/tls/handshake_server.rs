//! The server side: a rustls `ServerConfig` built from a [`Config`], Go's choice of
//! certificate for a ClientHello (`Config.getCertificate` in common.go), and client
//! certificate checks with Go's `ClientAuthType` (`processCertsFromClient` in
//! handshake_server.go).

use std::sync::Arc;

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{
    ClientHello, NoServerSessionStorage, ResolvesServerCert, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::{DistinguishedName, SignatureScheme};

use super::common::{ClientAuthType, ClientHelloInfo, Config, CurveId, GetCertificateFn};
use super::config_cache::{self, Cache};
use super::error::{Fault, X509Fault};
use crate::crypto::x509;

/// What a server needs for every handshake with one `Config`.
pub(crate) struct ServerSide {
    /// The rustls configuration; its certificate is `certs[0]` (chosen per handshake
    /// otherwise).
    pub(crate) base: Arc<rustls::ServerConfig>,
    certs: Vec<Arc<CertifiedKey>>,
    leaves: Vec<Option<x509::Certificate>>,
    get_certificate: Option<GetCertificateFn>,
}

/// The server side for `config`, from the cache when an equal config was seen before.
pub(crate) fn server_side(config: &Config) -> Result<Arc<ServerSide>, Fault> {
    static CACHE: Cache<ServerSide> = Cache::new();
    CACHE.get_or_build(config, config_cache::same_server, build)
}

fn build(config: &Config) -> Result<ServerSide, Fault> {
    if config.certificates.is_empty() && config.get_certificate.is_none() {
        return Err(Fault::msg(
            "tls: neither Certificates, GetCertificate, nor GetConfigForClient set in Config",
        ));
    }
    let provider = super::cipher_suites::provider_for(config);
    let versions = config.versions().map_err(Fault::Msg)?;
    let certs: Vec<Arc<CertifiedKey>> = config
        .certificates
        .iter()
        .map(|c| c.certified_key())
        .collect();
    let leaves = config.certificates.iter().map(|c| c.leaf()).collect();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| Fault::msg(format!("tls: {e}")))?;
    let algs = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ClientCertVerifier> = match config.client_auth {
        ClientAuthType::NoClientCert => rustls::server::WebPkiClientVerifier::no_client_auth(),
        ClientAuthType::RequestClientCert => Arc::new(AnyClientCert {
            mandatory: false,
            algs,
        }),
        ClientAuthType::RequireAnyClientCert => Arc::new(AnyClientCert {
            mandatory: true,
            algs,
        }),
        ClientAuthType::VerifyClientCertIfGiven | ClientAuthType::RequireAndVerifyClientCert => {
            let pool = super::handshake_client::roots(config.client_cas.as_ref())
                .map_err(|e| Fault::msg(e.to_string()))?;
            let mut b = WebPkiClientVerifier::builder_with_provider(pool.root_store(), provider);
            if config.client_auth == ClientAuthType::VerifyClientCertIfGiven {
                b = b.allow_unauthenticated();
            }
            let inner = b
                .build()
                .map_err(|e| Fault::msg(format!("tls: cannot verify client certificates: {e}")))?;
            Arc::new(GoClientVerifier { inner })
        }
    };
    let mut sc = builder
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(Fixed(certs.first().cloned())));
    sc.alpn_protocols = config
        .next_protos
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    // Go resumes with tickets only (stateless), sends one TLS 1.3 ticket, and prefers
    // its own cipher suite order.
    sc.session_storage = Arc::new(NoServerSessionStorage {});
    if config.session_tickets_disabled {
        sc.send_tls13_tickets = 0;
    } else {
        sc.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()
            .map_err(|e| Fault::msg(format!("tls: session tickets: {e}")))?;
        sc.send_tls13_tickets = 1;
    }
    sc.ignore_client_order = true;
    if let Some(w) = &config.key_log_writer {
        sc.key_log = Arc::new(config_cache::KeyLogTo(w.clone()));
    }
    Ok(ServerSide {
        base: Arc::new(sc),
        certs,
        leaves,
        get_certificate: config.get_certificate.clone(),
    })
}

impl ServerSide {
    /// Whether the certificate depends on the ClientHello (several, or a callback).
    pub(crate) fn chooses(&self) -> bool {
        self.get_certificate.is_some() || self.certs.len() > 1
    }

    /// Go's `Config.getCertificate`: the callback first (when there are no
    /// certificates or the client sent a name), then the only certificate, then the
    /// first one that fits the name and the client's signature schemes, then the first.
    pub(crate) fn choose(
        &self,
        hello: &ClientHelloInfo,
        schemes: &[SignatureScheme],
    ) -> Result<Arc<CertifiedKey>, Fault> {
        if let Some(get) = &self.get_certificate {
            if self.certs.is_empty() || !hello.server_name.is_empty() {
                match get(hello) {
                    Ok(Some(cert)) => return Ok(cert.certified_key()),
                    Ok(None) => {}
                    Err(e) => return Err(Fault::Msg(e.to_string())),
                }
            }
        }
        match self.certs.len() {
            0 => return Err(Fault::msg("tls: no certificates configured")),
            1 => return Ok(self.certs[0].clone()),
            _ => {}
        }
        for (key, leaf) in self.certs.iter().zip(&self.leaves) {
            let name_ok = hello.server_name.is_empty()
                || leaf
                    .as_ref()
                    .is_some_and(|l| valid_for(l, &hello.server_name));
            if name_ok && key.key.choose_scheme(schemes).is_some() {
                return Ok(key.clone());
            }
        }
        Ok(self.certs[0].clone())
    }

    /// The configuration for one handshake that presents `key`.
    pub(crate) fn with_key(&self, key: Arc<CertifiedKey>) -> Arc<rustls::ServerConfig> {
        let mut sc = (*self.base).clone();
        sc.cert_resolver = Arc::new(Fixed(Some(key)));
        Arc::new(sc)
    }
}

/// Whether Go's `negotiateALPN` lets this client in without ALPN: no protocol in
/// common, the server offers "h2" and the client "http/1.1".
pub(crate) fn http11_fallback(server: &[Vec<u8>], client: &[String]) -> bool {
    if server.is_empty() || client.is_empty() {
        return false;
    }
    let overlap = server
        .iter()
        .any(|s| client.iter().any(|c| c.as_bytes() == s.as_slice()));
    !overlap && server.iter().any(|s| s == b"h2") && client.iter().any(|c| c == "http/1.1")
}

/// Go's `VerifyHostname` on a leaf: an IP against the IP SANs, a name against the DNS
/// SANs (wildcards as Go matches them).
fn valid_for(leaf: &x509::Certificate, name: &str) -> bool {
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return leaf.ip_addresses.contains(&ip);
    }
    leaf.dns_names
        .iter()
        .any(|d| x509::match_hostnames(d, name))
}

/// What the ClientHello says, for `get_certificate`.
pub(crate) fn hello_info(ch: &ClientHello<'_>, conn: &crate::net::Conn) -> ClientHelloInfo {
    ClientHelloInfo {
        cipher_suites: ch.cipher_suites().iter().map(|s| u16::from(*s)).collect(),
        server_name: ch.server_name().unwrap_or_default().to_string(),
        supported_curves: ch
            .named_groups()
            .unwrap_or_default()
            .iter()
            .map(|g| CurveId(u16::from(*g)))
            .collect(),
        signature_schemes: ch
            .signature_schemes()
            .iter()
            .map(|s| u16::from(*s))
            .collect(),
        supported_protos: ch
            .alpn()
            .map(|protos| {
                protos
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect()
            })
            .unwrap_or_default(),
        conn: Some(conn.clone()),
    }
}

/// Always the same certificate (or none).
#[derive(Debug)]
struct Fixed(Option<Arc<CertifiedKey>>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.clone()
    }
}

/// `RequestClientCert` / `RequireAnyClientCert`: take any certificate, verify only that
/// the client holds its key (the handshake signature), as Go does.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // Go parses every certificate even when it verifies none.
        x509::parse_certificate(end_entity).map_err(|e| {
            X509Fault::Text(format!("tls: failed to parse client certificate: {e}")).into_rustls()
        })?;
        Ok(ClientCertVerified::assertion())
    }

    verify_signatures!(algs);
}

/// webpki's client verifier with Go's words: `tls: failed to verify client
/// certificate: x509: ...`.
#[derive(Debug)]
struct GoClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for GoClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(c) => {
                    let leaf = x509::parse_certificate(end_entity).ok();
                    let text = match x509::verify_from_rustls(&c, leaf.as_ref(), "") {
                        Some(go) => go.to_string(),
                        None => format!("x509: {c:?}"),
                    };
                    X509Fault::Text(format!("tls: failed to verify client certificate: {text}"))
                        .into_rustls()
                }
                other => other,
            })
    }

    verify_signatures!(inner);
}
