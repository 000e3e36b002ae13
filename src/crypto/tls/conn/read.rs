//! The read half of a TLS connection. Go: `crypto/tls/conn.go` (`readRecord`,
//! `readFromUntil`, `Read`).

use std::io::{self, Read};

use super::super::error::{self, Fault, RecordHeaderError, net_fault};
use super::{Conn, Tls};

/// The buffer of ciphertext read from the socket.
const READ_BUF: usize = 32 * 1024;

/// Ciphertext read from the socket and not yet handed to rustls.
pub(super) struct InBuf {
    pub(super) buf: Vec<u8>,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl InBuf {
    pub(super) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(super) fn has_data(&self) -> bool {
        self.start < self.end
    }

    /// Room to read into (the buffer is made on first use, and compacted here).
    pub(super) fn space(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = vec![0; READ_BUF];
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        &mut self.buf[self.end..]
    }
}

/// What a read from the socket gave.
pub(super) enum Got {
    Bytes,
    Eof,
}

impl Conn {
    /// Reads from the socket into `input` (parks; the read deadline applies).
    pub(super) fn fill(&self, input: &mut InBuf) -> Result<Got, Fault> {
        match self.inner.raw.read(input.space()) {
            Ok(0) => Ok(Got::Eof),
            Ok(n) => {
                input.end += n;
                Ok(Got::Bytes)
            }
            Err(e) => Err(net_fault(&e)),
        }
    }

    /// Hands what `input` holds to rustls (as much as it takes) and lets it process it.
    pub(super) fn feed(&self, input: &mut InBuf) -> Result<(), Fault> {
        let mut st = self.state();
        let st = &mut *st;
        let pending = input.pending();
        let mut rd = pending;
        let taken = match &mut st.tls {
            Tls::Accepting(a) => a.read_tls(&mut rd),
            Tls::Conn(c) => c.read_tls(&mut rd),
            Tls::None => return Err(Fault::msg("tls: internal error: no connection")),
        };
        let n = match taken {
            Ok(n) => n,
            // rustls wants its plaintext read first: nothing taken now.
            Err(e) if e.kind() == io::ErrorKind::Other => 0,
            Err(e) => return Err(error::internal(e)),
        };
        if let Err(bad) = st.records.observe(&pending[..n]) {
            // Go answers a plaintext peer only if nothing was sent to it yet.
            let conn = (bad.plaintext_peer && st.records.first_record().len() <= 5)
                .then(|| self.inner.raw.clone());
            return Err(Fault::Record(Box::new(RecordHeaderError {
                msg: bad.msg,
                record_header: bad.header,
                conn,
            })));
        }
        input.start += n;
        if let Tls::Conn(c) = &mut st.tls {
            if let Err(e) = c.process_new_packets() {
                return Err(error::from_rustls(&e, &st.context()));
            }
        }
        Ok(())
    }

    /// Tells rustls the stream ended.
    pub(super) fn feed_eof(&self) {
        let mut st = self.state();
        if let Some(c) = st.conn() {
            let _ = c.read_tls(&mut io::empty());
        }
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
        let mut input = self.rturn();
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
            if !input.has_data() {
                match self.fill(&mut input) {
                    Ok(Got::Bytes) => {}
                    Ok(Got::Eof) => {
                        self.feed_eof();
                        continue;
                    }
                    Err(f) => {
                        if f.is_permanent() {
                            self.state().rerr = Some(f.clone());
                        }
                        return Err(f.to_io());
                    }
                }
            }
            let r = self.feed(&mut input);
            if let Err(f) = r {
                self.state().rerr = Some(f.clone());
                self.send_alert_best_effort();
                return Err(f.to_io());
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
