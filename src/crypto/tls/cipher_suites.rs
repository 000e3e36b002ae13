//! Cipher suites and key exchange groups, and the crypto provider built from a
//! [`Config`]. Go: `crypto/tls/cipher_suites.go`.

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

use super::common::Config;

/// Go: `tls.TLS_AES_128_GCM_SHA256` (TLS 1.3).
pub const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
/// Go: `tls.TLS_AES_256_GCM_SHA384` (TLS 1.3).
pub const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
/// Go: `tls.TLS_CHACHA20_POLY1305_SHA256` (TLS 1.3).
pub const TLS_CHACHA20_POLY1305_SHA256: u16 = 0x1303;
/// Go: `tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
pub const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: u16 = 0xc02b;
/// Go: `tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
pub const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: u16 = 0xc02f;
/// Go: `tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384`.
pub const TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: u16 = 0xc02c;
/// Go: `tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`.
pub const TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: u16 = 0xc030;
/// Go: `tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256`.
pub const TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: u16 = 0xcca9;
/// Go: `tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256`.
pub const TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: u16 = 0xcca8;

/// Go's name for a cipher suite ID, or `0x%04X` for one it does not know.
///
/// Go: `tls.CipherSuiteName(id)`.
///
/// ```
/// use gonet::crypto::tls;
/// assert_eq!(tls::cipher_suite_name(tls::TLS_AES_128_GCM_SHA256), "TLS_AES_128_GCM_SHA256");
/// assert_eq!(tls::cipher_suite_name(0x0a0a), "0x0A0A");
/// ```
pub fn cipher_suite_name(id: u16) -> String {
    let name = match id {
        TLS_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        TLS_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        TLS_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        }
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => {
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        }
        // Suites Go knows and rustls does not implement, so that names still print.
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        _ => return format!("0x{id:04X}"),
    };
    name.to_string()
}

/// The provider every connection uses unless its `Config` narrows it: aws-lc-rs with
/// rustls's suites and groups, the suites in Go's order of preference (Go 1.19
/// `defaultCipherSuitesTLS13` and `cipherSuitesPreferenceOrder` on AES hardware:
/// AES-128-GCM, then ChaCha20-Poly1305, then AES-256-GCM; ECDSA before RSA).
pub(crate) fn default_provider() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = rustls::crypto::aws_lc_rs::default_provider();
        p.cipher_suites
            .sort_by_key(|s| go_rank(u16::from(s.suite())));
        Arc::new(p)
    })
    .clone()
}

/// Where Go 1.19 puts a suite in its order of preference (lower first).
fn go_rank(id: u16) -> usize {
    const ORDER: [u16; 9] = [
        TLS_AES_128_GCM_SHA256,
        TLS_CHACHA20_POLY1305_SHA256,
        TLS_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    ORDER.iter().position(|&x| x == id).unwrap_or(ORDER.len())
}

/// Go's server rule (`aesgcmPreferred`, handshake_server*.go): a client whose first
/// choice is ChaCha20 has no AES hardware, so the server takes the client's order.
pub(crate) fn client_prefers_chacha(offered: &[u16]) -> bool {
    offered
        .iter()
        .find(|id| go_rank(**id) < 9)
        .is_some_and(|id| {
            *id == TLS_CHACHA20_POLY1305_SHA256
                || *id == TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                || *id == TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        })
}

/// The provider for `config`: TLS 1.2 suites limited to `cipher_suites`, groups
/// ordered by `curve_preferences` (Go ignores the entries it does not know, and so
/// does this).
pub(crate) fn provider_for(config: &Config) -> Arc<CryptoProvider> {
    let base = default_provider();
    if config.cipher_suites.is_empty() && config.curve_preferences.is_empty() {
        return base;
    }
    let mut p = (*base).clone();
    if !config.cipher_suites.is_empty() {
        p.cipher_suites.retain(|s| {
            s.version() == &rustls::version::TLS13
                || config.cipher_suites.contains(&u16::from(s.suite()))
        });
    }
    if !config.curve_preferences.is_empty() {
        let all = std::mem::take(&mut p.kx_groups);
        for want in &config.curve_preferences {
            if let Some(g) = all.iter().find(|g| u16::from(g.name()) == want.0) {
                p.kx_groups.push(*g);
            }
        }
        if p.kx_groups.is_empty() {
            p.kx_groups = all;
        }
    }
    Arc::new(p)
}
