//! Go's `net` package: listeners, connections, dialing, addresses and their errors.
//!
//! `use gonet::net;` mirrors Go's `import "net"`: `net::listen("tcp", ":8080")`,
//! `net::dial("tcp", addr)`, `net::Conn`, `net::OpError`. Everything here is also at the
//! crate's top level (`gonet::listen`), where it has been since gonet's first release.
//!
//! ```
//! use gonet::net;
//! let ln = net::listen("tcp", "127.0.0.1:0").unwrap();
//! let client = net::dial("tcp", &ln.addr().to_string()).unwrap();
//! let conn = ln.accept().unwrap();
//! assert_eq!(conn.remote_addr(), client.local_addr());
//! ```
//!
//! The files follow Go's `src/net`, one layer each, so a reader who knows Go's source
//! finds their way: `dial.rs` ([`listen`] -> [`ListenConfig::listen`], [`Dialer`]) ->
//! `tcpsock.rs` / `unixsock.rs` -> `ipsock.rs` (address families, `SplitHostPort`) ->
//! `sock.rs` (`socket`, `listen_stream`, `listenerBacklog`) -> `sockopt.rs` -> `fd.rs`
//! (the descriptor on may's netpoller, Go's `netFD` and `poll.FD`), with `net.rs` (Go's
//! net.go: `Conn`, `Listener`, `Addr`), `error.rs` and `lookup.rs` beside them.

pub mod activation;
pub(crate) mod cgo_unix;
pub(crate) mod deadline;
pub(crate) mod dial;
pub(crate) mod dnsconfig;
pub(crate) mod error;
pub(crate) mod fd;
pub(crate) mod fd_mutex;
pub(crate) mod fd_poll_runtime;
pub(crate) mod fd_poll_thread;
pub(crate) mod file;
pub(crate) mod interface;
pub(crate) mod ip;
pub(crate) mod ipsock;
pub(crate) mod lookup;
// Go's net.go: the file is named after Go's, inside the module named after Go's package.
#[allow(clippy::module_inception)]
pub(crate) mod net;
pub(crate) mod packetconn;
pub(crate) mod pipe;
// The PROXY protocol (github.com/pires/go-proxyproto): `gonet::net::proxyproto`.
pub mod proxyproto;
pub(crate) mod sock;
pub(crate) mod sockopt;
// github.com/cloudflare/tableflip: zero-downtime restarts (`gonet::net::tableflip`).
pub mod tableflip;
pub(crate) mod tcpsock;
pub(crate) mod udpsock;
pub(crate) mod unixsock;

// Go's net/http and net/url packages: `use gonet::net::{http, url};`.
pub mod http;
pub mod url;

pub use self::dial::{ControlFn, Dialer, ListenConfig, dial, dial_timeout, listen};
pub use self::error::{
    AddrError, DeadlineExceeded, DnsError, ErrClosed, Errno, OpError, ParseError, SyscallError,
    UnknownNetworkError, is_closed, is_temporary, is_timeout,
};
pub use self::file::{file_conn, file_listener};
// A context's end as net reports it (Go: errCanceled, errTimeout).
pub use self::error::{ErrCanceled, ErrTimeout};
pub use self::interface::interface_addrs;
pub use self::ip::{IpMask, IpNet, cidr_mask, ipv4_mask, parse_cidr, parse_ip};
pub use self::ipsock::{join_host_port, split_host_port};
pub use self::lookup::{lookup_host, lookup_ip, lookup_port};
pub use self::lookup::{lookup_host_context, lookup_ip_context, lookup_port_context};
pub use self::net::{Addr, Conn, Incoming, Listener, TcpAddr, UnixAddr};
pub use self::pipe::{ErrClosedPipe, pipe};
pub use self::sock::listener_backlog;
pub use self::sockopt::DEFAULT_KEEP_ALIVE;
pub use self::tcpsock::{TcpConn, TcpListener};
pub use self::unixsock::{UnixConn, UnixListener};

// Datagrams and Go's typed calls (udpsock.go, unixsock.go, tcpsock.go, ListenPacket).
pub use self::packetconn::{PacketConn, file_packet_conn, listen_packet};
pub use self::tcpsock::{dial_tcp, listen_tcp, resolve_tcp_addr};
pub use self::udpsock::{
    ErrWriteToConnected, UdpAddr, UdpConn, dial_udp, listen_udp, resolve_udp_addr,
};
pub use self::unixsock::{dial_unix, listen_unix, listen_unixgram, resolve_unix_addr};
