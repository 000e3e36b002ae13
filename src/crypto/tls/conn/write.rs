//! The write half of a TLS connection. Go: `crypto/tls/conn.go` (`Write`, `flush`,
//! `sendAlert`, `closeNotify`, `CloseWrite`).

use std::io::{self, Write};

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::super::error::{self, Fault, net_fault};
use super::Conn;
use crate::net::Conn as NetConn;

/// How much plaintext one pass of `write` encrypts before it goes to the socket.
const WRITE_CHUNK: usize = 64 * 1024;
/// Go's `closeNotify` write deadline.
const CLOSE_NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the one socket write inside a `write_tls` gave.
enum Sent {
    Bytes,
    WouldBlock,
    /// The conn is a pipe, which has no write that does not wait.
    Unsupported,
    Failed(Fault),
}

/// The socket as rustls's `write_tls` sink: one vectored write that never parks,
/// straight from rustls's queue of records. The outcome is kept in `got`, since rustls
/// hands the writer's `io::Error` back as is.
struct SockWriter<'a> {
    raw: &'a NetConn,
    got: Option<Sent>,
}

impl Write for SockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[io::IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let r = self.raw.try_write_vectored(bufs);
        self.got = Some(match &r {
            Ok(_) => Sent::Bytes,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Sent::WouldBlock,
            Err(e) if e.kind() == io::ErrorKind::Unsupported => Sent::Unsupported,
            Err(e) => Sent::Failed(net_fault(e)),
        });
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Conn {
    /// Sends everything rustls has queued. Holds the write turn (`out`). Go: `flush`.
    ///
    /// On a socket the records go from rustls's buffers to the kernel in one `writev`
    /// that does not wait (no copy of ours in between), made under the rustls lock; when
    /// the socket's buffer is full the wait for room is made without that lock. A pipe
    /// only hands bytes to a reader that takes them: there they are copied into `out`
    /// and written as usual.
    pub(super) fn flush(&self, out: &mut Vec<u8>) -> Result<(), Fault> {
        let mut direct = true;
        // The cooperative budget (runtime/proc.rs), before the rustls lock is taken.
        crate::runtime::proc::io_budget();
        loop {
            let sent = {
                let mut st = self.state();
                if let Some(f) = &st.werr {
                    return Err(f.clone());
                }
                let Some(c) = st.conn() else { return Ok(()) };
                if !c.wants_write() {
                    return Ok(());
                }
                if direct {
                    let mut wr = SockWriter {
                        raw: &self.inner.raw,
                        got: None,
                    };
                    let r = c.write_tls(&mut wr);
                    match (wr.got, r) {
                        // Usually all of it went: done, without taking the lock again.
                        (Some(Sent::Bytes), _) if !c.wants_write() => return Ok(()),
                        (Some(Sent::Bytes), _) => continue,
                        (Some(Sent::WouldBlock), _) => Ok(false),
                        (Some(Sent::Unsupported), _) => {
                            direct = false;
                            continue;
                        }
                        (Some(Sent::Failed(e)), _) => Err(e),
                        (None, Ok(_)) => continue,
                        (None, Err(e)) => return Err(error::internal(e)),
                    }
                } else {
                    out.clear();
                    while c.wants_write() {
                        if let Err(e) = c.write_tls(out) {
                            return Err(error::internal(e));
                        }
                    }
                    Ok(true)
                }
            };
            let r = match sent {
                // Room first, outside the lock, then the next try.
                Ok(false) => self.inner.raw.writable().map_err(|e| net_fault(&e)),
                Ok(true) => self
                    .inner
                    .raw
                    .write(out)
                    .map(|_| ())
                    .map_err(|e| net_fault(&e)),
                Err(f) => Err(f),
            };
            if let Err(f) = r {
                self.state().werr = Some(f.clone());
                return Err(f);
            }
        }
    }

    /// Sends what the reading side queued, unless a writer holds the write turn (it
    /// sends it, see the module notes).
    pub(super) fn flush_soon(&self) {
        loop {
            let Ok(mut out) = self.inner.wturn.try_lock() else {
                return;
            };
            if self.flush(&mut out).is_err() {
                // The write side is broken (its error is kept): nothing more to send.
                return;
            }
            drop(out);
            if !self.state().wants_write() {
                return;
            }
        }
    }

    /// After a fatal error rustls has queued an alert: send it if nobody is writing.
    pub(super) fn send_alert_best_effort(&self) {
        if let Ok(mut out) = self.inner.wturn.try_lock() {
            let _ = self.flush(&mut out);
        }
    }

    /// Encrypts and sends all of `buf`, parking while the socket's buffer is full.
    ///
    /// Go: `conn.Write(b)`. Runs the handshake first if needed. After
    /// [`close_write`](Conn::close_write) it fails with `tls: protocol is shutdown`; a
    /// failed write (a passed write deadline too) leaves the connection unable to write,
    /// as in Go, since a record may have been cut short.
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = gonet::crypto::tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = gonet::crypto::x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// # let ln = tls::listen("tcp", "127.0.0.1:0", &tls::Config { certificates: vec![cert], ..Default::default() }).unwrap();
    /// # let addr = ln.addr().to_string();
    /// # let h = gonet::go!(move || { let c = ln.accept().unwrap(); let mut b = [0u8; 3]; c.read_full(&mut b).unwrap(); b });
    /// # let cfg = tls::Config { root_cas: Some(pool), server_name: "localhost".into(), ..Default::default() };
    /// let conn = tls::dial("tcp", &addr, &cfg).unwrap();
    /// assert_eq!(conn.write(b"abc").unwrap(), 3);
    /// # assert_eq!(&h.join().unwrap(), b"abc");
    /// ```
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.handshake()?;
        let mut out = self.wturn();
        if self.inner.close_notify_sent.load(Ordering::Acquire) {
            return Err(Fault::msg("tls: protocol is shutdown").to_io());
        }
        let mut done = 0;
        while done < buf.len() || done == 0 {
            let end = buf.len().min(done + WRITE_CHUNK);
            {
                let mut st = self.state();
                if let Some(f) = &st.werr {
                    return if done > 0 { Ok(done) } else { Err(f.to_io()) };
                }
                let Some(c) = st.conn() else {
                    return Err(Fault::msg("tls: internal error: no connection").to_io());
                };
                done += c.writer().write(&buf[done..end])?;
            }
            if let Err(f) = self.flush(&mut out) {
                return if done > 0 { Ok(done) } else { Err(f.to_io()) };
            }
            if buf.is_empty() {
                break;
            }
        }
        drop(out);
        if self.state().wants_write() {
            self.flush_soon();
        }
        Ok(done)
    }

    /// Go's `closeNotify`: the alert, once, with a write deadline of 5 s, after which
    /// the write deadline is now (so nothing else can be written).
    pub(super) fn close_notify(&self, out: &mut Vec<u8>) -> Result<(), Fault> {
        if self.inner.close_notify_sent.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let _ = self
            .inner
            .raw
            .set_write_deadline(Some(Instant::now() + CLOSE_NOTIFY_TIMEOUT));
        if let Some(c) = self.state().conn() {
            c.send_close_notify();
        }
        let r = self.flush(out);
        let _ = self.inner.raw.set_write_deadline(Some(Instant::now()));
        r
    }

    /// Sends close_notify: the peer reads end of stream, this side can still read.
    /// Later writes fail with `tls: protocol is shutdown`.
    ///
    /// Go: `conn.CloseWrite()`; before the handshake is done it fails with
    /// `tls: CloseWrite called before handshake complete`. (As in Go, the TCP
    /// connection itself stays open in both directions.)
    ///
    /// ```
    /// # use gonet::crypto::tls;
    /// # let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let cert = gonet::crypto::tls::x509_key_pair(ck.cert.pem().as_bytes(), ck.signing_key.serialize_pem().as_bytes()).unwrap();
    /// # let mut pool = gonet::crypto::x509::CertPool::new();
    /// # pool.append_certs_from_pem(ck.cert.pem().as_bytes());
    /// # let ln = tls::listen("tcp", "127.0.0.1:0", &tls::Config { certificates: vec![cert], ..Default::default() }).unwrap();
    /// # let addr = ln.addr().to_string();
    /// # let h = gonet::go!(move || { let c = ln.accept().unwrap(); let mut v = Vec::new(); std::io::Read::read_to_end(&mut &c, &mut v).unwrap(); c.write(b"bye").unwrap(); v });
    /// # let cfg = tls::Config { root_cas: Some(pool), server_name: "localhost".into(), ..Default::default() };
    /// let conn = tls::dial("tcp", &addr, &cfg).unwrap();
    /// conn.write(b"all of it").unwrap();
    /// conn.close_write().unwrap();
    /// let mut buf = [0u8; 3];
    /// conn.read_full(&mut buf).unwrap(); // the reading side still works
    /// assert_eq!(&buf, b"bye");
    /// # assert_eq!(h.join().unwrap(), b"all of it");
    /// ```
    pub fn close_write(&self) -> io::Result<()> {
        if !self.inner.hs_done.load(Ordering::Acquire) {
            return Err(Fault::msg("tls: CloseWrite called before handshake complete").to_io());
        }
        let mut out = self.wturn();
        self.close_notify(&mut out).map_err(|f| f.to_io())
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Conn::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Conn::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
