//! [`Server::serve_tls`]: gonet's accept loop with TLS in front of the handler.
//!
//! Go: net/http's `Server.ServeTLS`, for any protocol: every connection gets its own
//! coroutine, the handshake runs there first (bounded by the server's read timeout, as
//! Go's `tlsConn.HandshakeContext` is), a failed handshake is logged with Go's words
//! (`http: TLS handshake error from ADDR: ERR`, here `gonet: TLS handshake error from
//! ...`) and the handler only ever sees connections whose handshake succeeded.

use std::io;
use std::sync::Arc;

use super::common::Config;
use super::conn::Conn;
use super::handshake_server::server_side;
use crate::net::Listener;
use crate::server::Server;

impl Server {
    /// Serves TLS on `ln`: like [`serve`](Server::serve), with each connection's TLS
    /// handshake done before `handler` gets it, and close_notify sent when the handler
    /// returns. Shutdown, timeouts, the connection limit and the idle watchdog work as
    /// for plain connections (they act on the connection underneath).
    ///
    /// Go: `srv.ServeTLS(l, certFile, keyFile)` with `srv.TLSConfig`, for any protocol.
    /// Fails at once with Go's error when `config` has no certificate.
    ///
    /// ```
    /// use gonet::crypto::tls;
    /// use std::time::Duration;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = gonet::crypto::x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// let server = gonet::Server::new().read_timeout(Duration::from_secs(5));
    /// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
    /// let addr = ln.addr().to_string();
    /// let config = tls::Config { certificates: vec![cert], ..Default::default() };
    /// let s = server.clone();
    /// let h = gonet::go!(move || s.serve_tls(ln, &config, |conn: tls::Conn| {
    ///     let _ = conn.write(conn.connection_state().server_name.as_bytes());
    /// }));
    /// let cfg = tls::Config { root_cas: Some(pool), server_name: "localhost".into(), ..Default::default() };
    /// let conn = tls::dial("tcp", &addr, &cfg).unwrap();
    /// let mut got = Vec::new();
    /// std::io::Read::read_to_end(&mut &conn, &mut got).unwrap();
    /// assert_eq!(got, b"localhost");
    /// server.shutdown(Duration::from_secs(1));
    /// h.join().unwrap().unwrap();
    /// ```
    pub fn serve_tls<H>(
        &self,
        ln: impl Into<Arc<Listener>>,
        config: &Config,
        handler: H,
    ) -> io::Result<()>
    where
        H: Fn(Conn) + Send + Sync + 'static,
    {
        let ln: Arc<Listener> = ln.into();
        let side = match server_side(config) {
            Ok(s) => s,
            Err(f) => {
                let _ = ln.close();
                return Err(f.to_io());
            }
        };
        self.serve(ln, move |raw| {
            let peer = raw.remote_addr();
            let conn = Conn::server_with(raw, Ok(side.clone()));
            if let Err(e) = conn.handshake() {
                log::info!("gonet: TLS handshake error from {peer}: {e}");
                return;
            }
            handler(conn.clone());
            let _ = conn.close();
        })
    }
}
