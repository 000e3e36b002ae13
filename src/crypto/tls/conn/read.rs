//! The read half of a TLS connection. Go: `crypto/tls/conn.go` (`readRecord`,
//! `readFromUntil`, `Read`).

use std::io::{self, Read};

use super::super::error::{self, Fault, RecordHeaderError, net_fault};
use super::super::record::RecordTracker;
use super::{Conn, Tls};
use crate::net::Conn as NetConn;

/// How much a socket read may take past the room rustls offers (the spill).
const SPILL: usize = 16 * 1024;

/// The read turn's own state (the coroutine holding `Inner::rturn` owns it).
#[derive(Default)]
pub(super) struct ReadTurn {
    /// The last read from the socket came back short, or said "would block": the socket
    /// is likely drained, so the next pull waits for readiness before it tries (a read
    /// now would only cost a syscall to say EAGAIN). Go's netpoller read does the same.
    drained: bool,
    /// Ciphertext read past the room rustls offered, handed to it before the socket is
    /// read again: `spill[at..end]`. rustls offers room for one record at most (4 KiB
    /// at a time when its buffer is empty), so a read of that alone would cost a
    /// syscall per record or per 4 KiB; with the spill one `readv` takes up to 16 KiB
    /// more, and only those bytes are copied once more. Made on first use.
    spill: Vec<u8>,
    at: usize,
    end: usize,
}

/// What a pull from the socket gave.
pub(super) enum Got {
    /// Bytes went into rustls and were processed.
    Bytes,
    /// The peer closed its side (rustls has been told).
    Eof,
}

/// Why a pull failed: the socket (its deadline, a close, a reset), or the TLS layer
/// (a bad record or rustls refusing what it read). Go keeps the first kind of error
/// only if it is permanent; the second always ends the connection, with an alert.
pub(super) enum Failed {
    Net(Fault),
    Tls(Fault),
}

impl Failed {
    pub(super) fn into_fault(self) -> Fault {
        match self {
            Failed::Net(f) | Failed::Tls(f) => f,
        }
    }
}

/// What the one socket read inside a `read_tls` gave.
enum Attempt {
    /// Bytes; from the socket, whether they filled the room offered (more may wait
    /// there), `None` from the spill (the socket was not looked at).
    Bytes {
        full: Option<bool>,
    },
    Eof,
    WouldBlock,
    Failed(Failed),
}

/// The socket as rustls's `read_tls` source: one read that never parks, straight into
/// rustls's deframer buffer, as Go's `readFromUntil` reads into `c.rawInput` (what fits
/// there is copied once, by the kernel; what goes to the spill, once more). The record
/// tracker sees the bytes as rustls gets them. The outcome is kept in `got`: rustls
/// hands the reader's `io::Error` back as is, and its own refusals (a full plaintext
/// buffer) share those error kinds.
struct SockReader<'a> {
    raw: &'a NetConn,
    records: &'a mut RecordTracker,
    turn: &'a mut ReadTurn,
    got: Option<Attempt>,
}

impl SockReader<'_> {
    /// Fills `buf` from the spill, or reads the socket into `buf` and the spill.
    fn fill(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<bool>)> {
        let t = &mut *self.turn;
        if t.at < t.end {
            let n = buf.len().min(t.end - t.at);
            buf[..n].copy_from_slice(&t.spill[t.at..t.at + n]);
            t.at += n;
            return Ok((n, None));
        }
        if t.spill.is_empty() {
            t.spill = vec![0; SPILL];
        }
        let offered = buf.len();
        let room = offered + t.spill.len();
        let mut bufs = [io::IoSliceMut::new(buf), io::IoSliceMut::new(&mut t.spill)];
        let n = self.raw.try_read_vectored(&mut bufs)?;
        let first = n.min(offered);
        t.at = 0;
        t.end = n - first;
        Ok((first, Some(n == room)))
    }
}

impl Read for SockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.fill(buf);
        let (got, ret) = match r {
            Ok((0, _)) if !buf.is_empty() => (Attempt::Eof, Ok(0)),
            Ok((n, full)) => match self.records.observe(&buf[..n]) {
                Ok(()) => (Attempt::Bytes { full }, Ok(n)),
                Err(bad) => {
                    // Go answers a plaintext peer only if nothing was sent to it yet.
                    let conn = (bad.plaintext_peer && self.records.first_record().len() <= 5)
                        .then(|| self.raw.clone());
                    let f = Fault::Record(Box::new(RecordHeaderError {
                        msg: bad.msg,
                        record_header: bad.header,
                        conn,
                    }));
                    (
                        Attempt::Failed(Failed::Tls(f)),
                        Err(io::Error::from(io::ErrorKind::InvalidData)),
                    )
                }
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => (Attempt::WouldBlock, Err(e)),
            Err(e) => (Attempt::Failed(Failed::Net(net_fault(&e))), Err(e)),
        };
        self.got = Some(got);
        ret
    }
}

impl Conn {
    /// Reads from the socket into rustls and lets it process what came, parking until
    /// something came: bytes, the end of the stream, or an error (the read deadline
    /// applies). Go: `readFromUntil` and the decryption in `readRecordOrCCS`.
    ///
    /// The rustls state lock is held across one non-blocking read, never across a wait:
    /// the park is on the socket's readiness, with no lock held but the read turn.
    pub(super) fn pull(&self, turn: &mut ReadTurn) -> Result<Got, Failed> {
        // The cooperative budget (runtime/proc.rs), before the rustls lock is taken.
        crate::runtime::proc::io_budget();
        loop {
            if turn.drained && turn.at == turn.end {
                turn.drained = false;
                self.inner
                    .raw
                    .readable()
                    .map_err(|e| Failed::Net(net_fault(&e)))?;
            }
            match self.pull_once(turn)? {
                Attempt::Bytes { full } => {
                    if let Some(full) = full {
                        turn.drained = !full;
                    }
                    return Ok(Got::Bytes);
                }
                Attempt::Eof => return Ok(Got::Eof),
                Attempt::WouldBlock => turn.drained = true,
                Attempt::Failed(f) => return Err(f),
            }
        }
    }

    /// One `read_tls` from the socket, then `process_new_packets` if bytes came.
    fn pull_once(&self, turn: &mut ReadTurn) -> Result<Attempt, Failed> {
        let mut st = self.state();
        let st = &mut *st;
        let mut rd = SockReader {
            raw: &self.inner.raw,
            records: &mut st.records,
            turn,
            got: None,
        };
        let taken = match &mut st.tls {
            Tls::Accepting(a) => a.read_tls(&mut rd),
            Tls::Conn(c) => c.read_tls(&mut rd),
            Tls::None => {
                return Err(Failed::Tls(Fault::msg(
                    "tls: internal error: no connection",
                )));
            }
        };
        let got = match rd.got {
            Some(got @ Attempt::Bytes { .. }) => got,
            Some(other) => return Ok(other),
            // rustls did not read. Having seen close_notify it reads no more (the
            // plaintext reader says end of stream); with its plaintext buffer full it
            // wants that read first: process, which makes room.
            None => match taken {
                Ok(_) => return Ok(Attempt::Eof),
                Err(e) if e.kind() == io::ErrorKind::Other => Attempt::Bytes { full: None },
                Err(e) => return Err(Failed::Tls(error::internal(e))),
            },
        };
        if let Tls::Conn(c) = &mut st.tls {
            if let Err(e) = c.process_new_packets() {
                return Err(Failed::Tls(error::from_rustls(&e, &st.context())));
            }
        }
        Ok(got)
    }

    /// Reads decrypted data into `buf`, parking until some arrives; `Ok(0)` is the end of
    /// the stream (the peer's close_notify, or a close at a record boundary, which Go
    /// also reads as `io.EOF`).
    ///
    /// Go: `conn.Read(b)`. Runs the handshake first if needed. A close in the middle of
    /// a record is `unexpected EOF`; a passed read deadline is the conn's `i/o timeout`
    /// (and, as in Go, the read may be tried again after the deadline is moved).
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = gonet::crypto::tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = gonet::crypto::x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// # let ln = tls::listen("tcp", "127.0.0.1:0", &tls::Config { certificates: vec![cert], ..Default::default() }).unwrap();
    /// # let addr = ln.addr().to_string();
    /// # let h = gonet::go!(move || { let c = ln.accept().unwrap(); c.write(b"hi").unwrap(); c.close().unwrap(); });
    /// # let cfg = tls::Config { root_cas: Some(pool), server_name: "localhost".into(), ..Default::default() };
    /// let conn = tls::dial("tcp", &addr, &cfg).unwrap();
    /// let mut buf = [0u8; 16];
    /// let n = conn.read(&mut buf).unwrap();
    /// assert_eq!(&buf[..n], b"hi");
    /// assert_eq!(conn.read(&mut buf).unwrap(), 0); // close_notify: end of stream
    /// # h.join().unwrap();
    /// ```
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.handshake()?;
        if buf.is_empty() {
            return Ok(0);
        }
        let mut turn = self.rturn();
        loop {
            {
                let mut st = self.state();
                if let Some(f) = &st.rerr {
                    return Err(f.to_io());
                }
                let Some(c) = st.conn() else {
                    return Err(Fault::msg("tls: internal error: no connection").to_io());
                };
                match c.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        if st.records.at_boundary() {
                            return Ok(0);
                        }
                        st.rerr = Some(Fault::UnexpectedEof);
                        return Err(Fault::UnexpectedEof.to_io());
                    }
                    Err(e) => return Err(error::internal(e).to_io()),
                }
            }
            match self.pull(&mut turn) {
                // Bytes were processed, or rustls now knows the stream ended: its
                // plaintext reader says which (data, end of stream, unexpected EOF).
                Ok(Got::Bytes | Got::Eof) => {}
                Err(Failed::Net(f)) => {
                    if f.is_permanent() {
                        self.state().rerr = Some(f.clone());
                    }
                    return Err(f.to_io());
                }
                Err(Failed::Tls(f)) => {
                    self.state().rerr = Some(f.clone());
                    self.send_alert_best_effort();
                    return Err(f.to_io());
                }
            }
            if self.state().wants_write() {
                self.flush_soon();
            }
        }
    }

    /// Reads exactly `buf.len()` bytes. Go: `io.ReadFull(conn, buf)`.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = gonet::crypto::tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = gonet::crypto::x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// # let ln = tls::listen("tcp", "127.0.0.1:0", &tls::Config { certificates: vec![cert], ..Default::default() }).unwrap();
    /// # let addr = ln.addr().to_string();
    /// # let h = gonet::go!(move || { let c = ln.accept().unwrap(); c.write(b"he").unwrap(); c.write(b"llo").unwrap(); });
    /// # let cfg = tls::Config { root_cas: Some(pool), server_name: "localhost".into(), ..Default::default() };
    /// let conn = tls::dial("tcp", &addr, &cfg).unwrap();
    /// let mut buf = [0u8; 5];
    /// conn.read_full(&mut buf).unwrap();
    /// assert_eq!(&buf, b"hello");
    /// # h.join().unwrap();
    /// ```
    pub fn read_full(&self, buf: &mut [u8]) -> io::Result<()> {
        (&mut &*self).read_exact(buf)
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Conn::read(self, buf)
    }
}

impl Read for &Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Conn::read(self, buf)
    }
}
