//! The PROXY protocol (versions 1 and 2): the client's real address behind a load
//! balancer.
//!
//! Go: `github.com/pires/go-proxyproto`. HAProxy (`send-proxy`, `send-proxy-v2`), nginx
//! (`proxy_protocol on`), Envoy, AWS and GCP load balancers open each connection to a
//! backend with a header naming the client's address and the address it connected to;
//! without it a backend sees only the balancer's address. Wrap the listener, and every
//! connection's `remote_addr()` is the client's:
//!
//! ```
//! use gonet::net::{self, proxyproto};
//! use std::time::Duration;
//!
//! // ln, _ := net.Listen("tcp", addr)
//! // pl := &proxyproto.Listener{Listener: ln, ReadHeaderTimeout: 5 * time.Second,
//! //     ConnPolicy: proxyproto.TrustProxyHeaderFrom(net.ParseIP("127.0.0.1"))}
//! let pl = proxyproto::Listener::new(net::listen("tcp", "127.0.0.1:0")?)
//!     .read_header_timeout(Some(Duration::from_secs(5)))
//!     .conn_policy(proxyproto::trust_proxy_header_from(&["127.0.0.1".parse().unwrap()]));
//! let ln = pl.into_listener(); // or pass `pl` to gonet::Server::serve / http::serve
//!
//! // What HAProxy would send, then the client's bytes.
//! let lb = net::dial("tcp", &ln.addr().to_string())?;
//! let src = "203.0.113.9:61000".parse::<std::net::SocketAddr>().unwrap().into();
//! let dst = "192.0.2.1:443".parse::<std::net::SocketAddr>().unwrap().into();
//! proxyproto::Header::proxy_from_addrs(2, &src, &dst).write_to(&lb)?;
//! lb.write(b"ping")?;
//!
//! let conn = ln.accept()?;
//! assert_eq!(conn.remote_addr().to_string(), "203.0.113.9:61000");
//! assert_eq!(conn.proxy_header().unwrap().version, 2);
//! let mut ping = [0u8; 4];
//! conn.read_full(&mut ping)?; // not one byte past the header was taken
//! assert_eq!(&ping, b"ping");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! What differs from Go: Go reads the header at the connection's first `Read` (in the
//! handler); here the listener reads it in a coroutine of its own before `accept`
//! returns the connection, so a connection with a bad or slow header is closed (and the
//! reason logged) without ever reaching the server, and `remote_addr()` never waits.
//! The header is read by peeking at the socket, so nothing is buffered in front of the
//! connection; and a header that arrives in pieces is waited for (the spec's
//! recommendation), where Go refuses a version 1 line not read in one go.
//!
//! Files: header.rs (the header, parser and writer), tlv.rs (TLV records, the SSL
//! record), policy.rs (policies and the ready-made policy functions), listener.rs (the
//! listener wrapper and [`new_conn`]), error.rs (go-proxyproto's errors).

mod error;
mod header;
mod listener;
mod policy;
mod tlv;

pub use self::error::{Error, ErrorKind};
pub use self::header::{
    AddressFamilyAndProtocol, DEFAULT_MAX_V2_HEADER_SIZE, Header, ProtocolVersionAndCommand, SIGV1,
    SIGV2,
};
pub use self::listener::{DEFAULT_READ_HEADER_TIMEOUT, Listener, Validator, new_conn};
pub(crate) use self::listener::{Proxied, Queue};
pub use self::policy::{
    ConnPolicyFn, ConnPolicyOptions, Policy, ignore_proxy_header_not_on_interface,
    policy_from_ranges, skip_proxy_header_for_cidr, trust_proxy_header_from,
    trust_proxy_header_from_ranges,
};
pub use self::tlv::{
    PP2_BITFIELD_CLIENT_CERT_CONN, PP2_BITFIELD_CLIENT_CERT_SESS, PP2_BITFIELD_CLIENT_SSL, Pp2Type,
    Ssl, Tlv, join_tlvs, split_tlvs,
};

/// The parser over bytes seen so far, for the fuzz target and the property tests: the
/// header and its length, `Ok(None)` when the bytes do not start a header, or
/// `Err(need)` with how many bytes in all it needs to decide. Not part of the API.
#[doc(hidden)]
pub fn __parse_stream(buf: &[u8]) -> Result<Result<Option<(Header, usize)>, usize>, Error> {
    Ok(
        match header::parse_stream(buf, DEFAULT_MAX_V2_HEADER_SIZE)? {
            header::Step::Header(h, n) => Ok(Some((h, n))),
            header::Step::NotProxy => Ok(None),
            header::Step::More(n) => Err(n),
        },
    )
}
