//! Test certificates for the TLS tests, made at test time with rcgen (none are
//! committed): a CA, leaves it signs (server and client), expired and self-signed ones,
//! written to PEM files for peers that read files (openssl, curl, Go).
//!
//! Include from a test file with `#[path = "util/tls.rs"] mod tls_util;` (and
//! `#[path = "util/go.rs"] mod go_util;`, which the Go peers need).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use gonet::crypto::{tls, x509};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

/// A certificate and key, as PEM, as files, and loaded for gonet.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub cert: tls::Certificate,
}

/// A test CA in its own temporary directory (removed on drop).
pub struct Pki {
    pub dir: PathBuf,
    pub ca_pem: String,
    pub ca_file: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    n: AtomicUsize,
}

impl Pki {
    /// A new CA named `name` (its common name), ECDSA P-256.
    pub fn new(name: &str) -> Pki {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gonet-tls-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, "gonet tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = params.self_signed(&key).expect("CA cert");
        let ca_pem = ca.pem();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, &ca_pem).expect("write CA");
        Pki {
            dir,
            ca_pem,
            ca_file,
            issuer: Issuer::new(params, key),
            n: AtomicUsize::new(0),
        }
    }

    /// A pool holding this CA.
    pub fn pool(&self) -> x509::CertPool {
        let mut pool = x509::CertPool::new();
        assert!(pool.append_certs_from_pem(self.ca_pem.as_bytes()));
        pool
    }

    /// A server leaf for `names` (DNS names or IP literals), valid now.
    pub fn server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth, None)
    }

    /// A client leaf with common name `cn`.
    pub fn client(&self, cn: &str) -> Leaf {
        self.leaf(&[], ExtendedKeyUsagePurpose::ClientAuth, Some(cn))
    }

    /// A server leaf for `names` that expired in 2020.
    pub fn expired_server(&self, names: &[&str]) -> Leaf {
        self.make(names, ExtendedKeyUsagePurpose::ServerAuth, None, |p| {
            p.not_before = rcgen::date_time_ymd(2019, 1, 1);
            p.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    fn leaf(&self, names: &[&str], eku: ExtendedKeyUsagePurpose, cn: Option<&str>) -> Leaf {
        self.make(names, eku, cn, |_| {})
    }

    fn make(
        &self,
        names: &[&str],
        eku: ExtendedKeyUsagePurpose,
        cn: Option<&str>,
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into().expect("dns name")),
            })
            .collect();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            cn.unwrap_or(names.first().copied().unwrap_or("leaf")),
        );
        params.distinguished_name = dn;
        params.extended_key_usages = vec![eku];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        tweak(&mut params);
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        self.finish(cert.pem(), key.serialize_pem())
    }

    fn finish(&self, cert_pem: String, key_pem: String) -> Leaf {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let cert_file = self.dir.join(format!("leaf{n}.pem"));
        let key_file = self.dir.join(format!("leaf{n}.key"));
        std::fs::write(&cert_file, &cert_pem).expect("write cert");
        std::fs::write(&key_file, &key_pem).expect("write key");
        let cert = tls::x509_key_pair(cert_pem.as_bytes(), key_pem.as_bytes()).expect("load leaf");
        Leaf {
            cert_pem,
            key_pem,
            cert_file,
            key_file,
            cert,
        }
    }

    /// A self-signed server certificate for `names`, not from this CA.
    pub fn self_signed(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names).expect("self-signed");
        self.finish(ck.cert.pem(), ck.signing_key.serialize_pem())
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server config presenting `leaf`.
pub fn server_config(leaf: &Leaf) -> tls::Config {
    tls::Config {
        certificates: vec![leaf.cert.clone()],
        ..Default::default()
    }
}

/// A server config presenting `leaf` that requires a client certificate `pki`'s CA signed
/// (Go's `RequireAndVerifyClientCert`).
pub fn mtls_server_config(pki: &Pki, leaf: &Leaf) -> tls::Config {
    tls::Config {
        client_auth: tls::ClientAuthType::RequireAndVerifyClientCert,
        client_cas: Some(pki.pool()),
        ..server_config(leaf)
    }
}

/// A client config trusting `pki`'s CA and verifying `name`.
pub fn client_config(pki: &Pki, name: &str) -> tls::Config {
    tls::Config {
        root_cas: Some(pki.pool()),
        server_name: name.to_string(),
        ..Default::default()
    }
}

/// A path as a string for command lines.
pub fn path(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

/// Go's crypto/tls as a server (tests/go/tlspeer), killed when dropped.
pub struct GoServer {
    child: std::process::Child,
    pub addr: String,
    lines: std::sync::mpsc::Receiver<String>,
}

/// The tlspeer binary, built once per test process.
pub fn tlspeer() -> PathBuf {
    crate::go_util::go_binary("tests/go/tlspeer/main.go")
}

impl GoServer {
    /// `tlspeer server ARGS`, once it printed its address.
    pub fn start(args: &[&str]) -> GoServer {
        GoServer::start_mode("server", args)
    }

    /// `tlspeer MODE ARGS` (a mode that prints `LISTEN ADDR` first).
    pub fn start_mode(mode: &str, args: &[&str]) -> GoServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new(tlspeer())
            .arg(mode)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start tlspeer server");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("tlspeer server printed no LISTEN line");
        let addr = first
            .strip_prefix("LISTEN ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        GoServer {
            child,
            addr,
            lines: rx,
        }
    }

    /// What Go's server says about its next connection.
    pub fn outcome(&self) -> serde_json::Value {
        let line = self
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("tlspeer server said nothing about the connection");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }
}

impl Drop for GoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tlspeer client ARGS` to completion: one outcome per dial.
pub fn go_client(args: &[&str]) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(tlspeer())
        .arg("client")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run tlspeer client");
    assert!(
        out.status.success(),
        "tlspeer client {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A field of an outcome as text ("" when absent).
pub fn field(v: &serde_json::Value, key: &str) -> String {
    match &v[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}
