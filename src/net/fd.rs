//! The network file descriptor: a non-blocking socket registered with may's netpoller.
//!
//! Go: `src/net/fd_posix.go` / `fd_unix.go` (`netFD`) and `internal/poll/fd_unix.go`
//! (`poll.FD`): try the system call, and on `EAGAIN` park until the poller says the
//! socket is ready, checking for close and deadlines around every wait.
//!
//! may lets exactly one coroutine park on an epoll registration at a time. Go allows a
//! reader and a writer (and an accept) to block on one descriptor at once, so a `NetFd`
//! has a second registration, made on a `dup` of the descriptor the first time two calls
//! need to park together (a full-duplex proxy, say). Readers take turns among
//! themselves, and so do writers ([`FdMutex`]), so at most two calls ever park at once.
//! A connection that never has both directions blocked costs one descriptor, as in Go.
//!
//! `close()` is Go's `FD.Close`: every call holds a reference on the descriptor for as
//! long as it runs ([`FdMutex`], Go's fdMutex); `close` marks it closed, wakes the calls
//! parked in the poller (their registrations are nudged, a plain thread's poll(2) through
//! its eventfd) and waits until the last of them has returned. Whoever drops the last
//! reference (`FD.destroy`) takes both registrations out of the epoll set and only then
//! closes the descriptor, so its number cannot be reused under a parked call. The
//! descriptor is released when `close` returns, however many clones of the `Conn` are
//! still held (by a leaked coroutine, say), as in Go. There is no `shutdown(2)`: a
//! duplicate of the socket (`file()`, a child process) keeps it open, as in Go.

use std::cell::UnsafeCell;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::ManuallyDrop;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket};

use crate::net::Addr;
use crate::net::deadline::{self, Deadline};
use crate::net::error::{DeadlineExceeded, ErrClosed, OpError, syscall_error};
use crate::net::fd_mutex::{FdMutex, OVERFLOW_MSG, Refused};
use crate::net::fd_poll_runtime::PollDesc;
use crate::net::fd_poll_thread::ThreadWaiters;

/// Why an operation on the descriptor stopped.
pub(crate) enum Fail {
    Closed,
    Timeout,
    Sys(&'static str, io::Error),
    /// Go panics: "too many concurrent operations on a single file or socket".
    Overflow,
}

impl Fail {
    /// The cause as Go's `OpError.Err` holds it, for callers that build their own
    /// `OpError` (dial, file).
    pub(crate) fn into_cause(self) -> crate::net::error::BoxError {
        match self {
            Fail::Closed => ErrClosed.into(),
            Fail::Timeout => DeadlineExceeded.into(),
            Fail::Sys(call, e) => crate::net::error::SyscallError::new(call, e).into(),
            Fail::Overflow => OVERFLOW_MSG.into(),
        }
    }
}

impl From<Refused> for Fail {
    fn from(r: Refused) -> Fail {
        match r {
            Refused::Closed => Fail::Closed,
            Refused::Overflow => Fail::Overflow,
        }
    }
}

#[derive(Clone, Copy)]
enum Dir {
    Read,
    Write,
}

/// What a call holds on the descriptor while it runs: a reference, plus the read or
/// write lock for the calls that take turns. Dropping it is Go's `readUnlock` /
/// `writeUnlock` / `decref`; the last one out of a closed descriptor closes it.
struct Hold<'a> {
    fd: &'a NetFd,
    /// `Some(true)`: the read lock; `Some(false)`: the write lock; `None`: a reference.
    lock: Option<bool>,
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let last = match self.lock {
            Some(read) => self.fd.mu.rwunlock(read),
            None => self.fd.mu.decref(),
        };
        if last {
            self.fd.destroy();
        }
    }
}

pub(crate) struct NetFd {
    /// Go's `FD.fdmu`: references, the read and write locks, closed.
    mu: FdMutex,
    /// The socket's registrations with the netpoller. Read only by calls that hold a
    /// reference ([`Hold`]); replaced by an empty one in [`NetFd::destroy`], which runs
    /// once the last reference is gone and no new one can be taken.
    pd: UnsafeCell<PollDesc>,
    /// Plain threads waiting in poll(2), for `close` and `set_deadline` to wake.
    threads: ThreadWaiters,
    /// Parks on either registration so far (each may consume an edge's flag).
    parks: AtomicU64,
    /// The poller reported the peer's end of stream, a hang-up or an error: sticky, since
    /// the edge that said so may be gone, and a read would return at once.
    read_closed: AtomicBool,
    /// `parks + 1` as it was when a read last found the socket drained (a short read or
    /// EAGAIN on a stream socket); 0 for none. See [`NetFd::drained_hint`].
    drained_at: AtomicU64,
    rdeadline: Deadline,
    wdeadline: Deadline,
    /// Go's `netFD.net`: "tcp", "tcp4", "tcp6", "unix", "unixpacket".
    net: &'static str,
    /// A byte stream (TCP or "unix"), where a short read proves the socket drained; not
    /// "unixpacket", where a short read says nothing about the queue.
    stream: bool,
    listener: bool,
    /// Set once: at creation for listeners and accepted conns, after connect for dials.
    addrs: OnceLock<(Addr, Option<Addr>)>,
    /// The socket's address family, read from the kernel the first time a datagram is
    /// sent to an address (Go's `netFD.family`; see [`NetFd::family`]).
    family: OnceLock<Domain>,
    /// Go's `FD.Sysfd`: the descriptor number, -1 once closed.
    sysfd: AtomicI32,
    /// The socket, closed by [`NetFd::destroy`] (never by a drop of its own). Used only
    /// by calls that hold a reference, so it is open whenever it is used.
    sock: ManuallyDrop<Socket>,
}

// SAFETY: `pd` is the only field that is not Sync by itself. It is read through shared
// references only by calls holding a reference on the descriptor (`Hold`), and written
// only by `destroy`, which runs after the last reference is gone and once no reference
// can be taken any more (the fdMutex is closed), or by `drop`, which has `&mut self`.
// Everything inside `PollDesc` is itself Send + Sync.
unsafe impl Sync for NetFd {}
// SAFETY: as above; nothing in a NetFd is tied to the thread that made it.
unsafe impl Send for NetFd {}

impl NetFd {
    /// Wraps `sock` (already non-blocking and close-on-exec). A listener is registered
    /// with the netpoller at once, so `listen` fails as Go's does if the poller refuses
    /// it; a conn is registered by the first call that has to park.
    ///
    /// Why conns wait: `accept` runs in the accept loop, which paces a burst of
    /// connects. Registering there cost the loop three system calls per conn (may's
    /// `CoIo::new`: `epoll_ctl` and two `fcntl`) and woke a worker for nothing (a fresh
    /// socket is writable, so `epoll_ctl` reports it at once). Deferred, the conn's own
    /// coroutine registers it, on its worker, and a conn only ever used from plain
    /// threads (which wait in poll(2)) is never registered. No readiness is lost: epoll
    /// reports a descriptor that is already readable or writable when it is added.
    pub(crate) fn new(sock: Socket, net: &'static str, listener: bool) -> io::Result<NetFd> {
        // gonet's scheduler defaults apply from its first socket on, registered or not.
        crate::runtime::init();
        // Opened now so that a closed socket always has it to lend (see borrow_fd).
        if placeholder().is_none() {
            return Err(io::Error::last_os_error());
        }
        // On failure `sock` drops here and closes: nobody else has the descriptor yet.
        let pd = if listener {
            PollDesc::registered(sock.as_raw_fd())?
        } else {
            PollDesc::default()
        };
        Ok(NetFd {
            mu: FdMutex::default(),
            pd: UnsafeCell::new(pd),
            threads: ThreadWaiters::default(),
            parks: AtomicU64::new(0),
            read_closed: AtomicBool::new(false),
            drained_at: AtomicU64::new(0),
            rdeadline: Deadline::default(),
            wdeadline: Deadline::default(),
            net,
            stream: matches!(net, "tcp" | "tcp4" | "tcp6" | "unix"),
            listener,
            addrs: OnceLock::new(),
            family: OnceLock::new(),
            sysfd: AtomicI32::new(sock.as_raw_fd()),
            sock: ManuallyDrop::new(sock),
        })
    }

    /// The registrations. Only for a caller that holds a reference (a [`Hold`]).
    fn pd(&self, _held: &Hold<'_>) -> &PollDesc {
        // SAFETY: the caller holds a reference on the descriptor, so `destroy` (the only
        // writer besides `drop`) cannot run until it is released; see `unsafe impl Sync`.
        unsafe { &*self.pd.get() }
    }

    /// Go: `fd.incref()`, for calls that do not take turns (deadlines, options, close).
    fn incref(&self) -> Result<Hold<'_>, Fail> {
        self.mu.incref()?;
        Ok(Hold {
            fd: self,
            lock: None,
        })
    }

    /// Go: `fd.readLock()` / `fd.writeLock()`.
    fn rwlock(&self, dir: Dir) -> Result<Hold<'_>, Fail> {
        let read = matches!(dir, Dir::Read);
        self.mu.rwlock(read)?;
        Ok(Hold {
            fd: self,
            lock: Some(read),
        })
    }

    /// Go: `FD.destroy`: the registrations leave the epoll set (`pollDesc.close`), then
    /// the descriptor is closed and `Close` may return. Runs once: for the caller that
    /// dropped the last reference of a closed descriptor, or from `drop`.
    fn destroy(&self) {
        let fd = self.sysfd.swap(-1, Ordering::AcqRel);
        if fd < 0 {
            return;
        }
        // SAFETY: no reference is held and none can be taken (the fdMutex is closed, or
        // we are in `drop`), so nothing reads `pd` now; see `unsafe impl Sync`.
        let pd = unsafe { std::mem::take(&mut *self.pd.get()) };
        drop(pd);
        // SAFETY: the NetFd owns `fd` (it is `sock`'s, which is never dropped), nothing
        // uses it any more (see above), and the swap above made this the only close.
        drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
        self.mu.signal_closed();
    }

    /// Records the local and remote addresses (the first call wins).
    pub(crate) fn set_addrs(&self, laddr: Addr, raddr: Option<Addr>) {
        let _ = self.addrs.set((laddr, raddr));
    }

    /// Reads both addresses from the kernel (getsockname, getpeername) and records them.
    pub(crate) fn set_addrs_from_kernel(&self) -> io::Result<()> {
        let laddr = self.sock.local_addr()?;
        let laddr = crate::net::sock::sockaddr_to_addr(&laddr, self.net);
        let raddr = if self.listener {
            None
        } else {
            let r = self.sock.peer_addr()?;
            Some(crate::net::sock::sockaddr_to_addr(&r, self.net))
        };
        self.set_addrs(laddr, raddr);
        Ok(())
    }

    fn laddr(&self) -> Addr {
        match self.addrs.get() {
            Some((l, _)) => l.clone(),
            None => Addr::Tcp(crate::net::TcpAddr::default()),
        }
    }

    pub(crate) fn raddr(&self) -> Option<Addr> {
        self.addrs.get().and_then(|(_, r)| r.clone())
    }

    pub(crate) fn net(&self) -> &'static str {
        self.net
    }

    pub(crate) fn is_tcp(&self) -> bool {
        self.net.starts_with("tcp")
    }

    pub(crate) fn local_addr(&self) -> Addr {
        self.laddr()
    }

    pub(crate) fn remote_addr(&self) -> Addr {
        self.raddr().unwrap_or_else(|| self.laddr())
    }

    /// Go's error for `op` on this descriptor: a conn names both ends
    /// (`read tcp local->remote: ...`), a listener its own address.
    pub(crate) fn op_error(&self, op: &'static str, fail: Fail) -> io::Error {
        let e = match fail {
            Fail::Closed => OpError::new(op, self.net, ErrClosed),
            Fail::Timeout => OpError::new(op, self.net, DeadlineExceeded),
            Fail::Sys(call, err) => syscall_error(op, self.net, call, err),
            Fail::Overflow => OpError::new(op, self.net, OVERFLOW_MSG),
        };
        let e = if self.listener {
            e.with_addrs(None, Some(self.laddr()))
        } else {
            e.with_addrs(Some(self.laddr()), self.raddr())
        };
        e.into()
    }

    fn deadline(&self, dir: Dir) -> &Deadline {
        match dir {
            Dir::Read => &self.rdeadline,
            Dir::Write => &self.wdeadline,
        }
    }

    /// Runs `attempt` until it stops saying "would block", parking in between, with Go's
    /// checks for close and deadline before every try (`poll.FD.Read`'s loop).
    fn io_loop<T>(
        &self,
        held: &Hold<'_>,
        dir: Dir,
        mut attempt: impl FnMut() -> io::Result<T>,
    ) -> Result<T, Fail> {
        // The cooperative budget: a coroutine whose calls never would-block yields now
        // and then (the held lock is one a park on EAGAIN below holds too).
        crate::runtime::proc::io_budget();
        loop {
            self.check(dir)?;
            match attempt() {
                Ok(v) => return Ok(v),
                Err(e) => match e.raw_os_error() {
                    Some(libc::EAGAIN) => {
                        self.park(held, dir)?;
                    }
                    Some(libc::EINTR) => {}
                    // A call that fails once close() has run reports the close, as Go's
                    // do (the error is the close's doing or beside the point).
                    _ if self.mu.is_closed() => return Err(Fail::Closed),
                    _ => return Err(Fail::Sys(syscall_name(dir), e)),
                },
            }
        }
    }

    /// Waits until the socket may be ready for `dir` (or something to look at changed).
    /// Returns the poller's event bits, or [`ANY_EVENT`] when they are unknown (a plain
    /// thread's poll(2), a timer, a nudge, or a wait skipped for close or deadline).
    fn park(&self, held: &Hold<'_>, dir: Dir) -> Result<u32, Fail> {
        if !may::coroutine::is_coroutine() {
            self.poll_thread(dir);
            return Ok(ANY_EVENT);
        }
        let reg = self.pd(held).take_reg(self.sock.as_fd())?;
        self.parks.fetch_add(1, Ordering::SeqCst);
        // Read the deadline only after `busy` is set: a concurrent set_deadline or close
        // either sees `busy` and nudges us, or we see its new state here.
        let due = self.deadline(dir).raw();
        let mut events = ANY_EVENT;
        if !self.mu.is_closed() && (due == 0 || due > deadline::now()) {
            let got = reg.wait(due) as u32;
            let hangup = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
            if got & hangup != 0 {
                self.read_closed.store(true, Ordering::SeqCst);
            }
            // A bare flag of 0 means a timer or a nudge woke us: unknown.
            if got != 0 {
                events = got;
            }
        }
        reg.release();
        Ok(events)
    }

    /// Outside a coroutine (plain OS thread, e.g. `main`), block the thread in poll(2)
    /// until ready, the deadline, or a close or new deadline wakes it (through the
    /// thread's eventfd: see fd_poll_thread.rs).
    fn poll_thread(&self, dir: Dir) {
        let (events, slot) = match dir {
            Dir::Read => (libc::POLLIN, 0),
            Dir::Write => (libc::POLLOUT, 1),
        };
        let due = self.deadline(dir).raw();
        let timeout_ms = if due == 0 {
            -1
        } else {
            let left = deadline::remaining(due);
            i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
        };
        self.threads
            .wait(slot, self.sock.as_raw_fd(), events, timeout_ms, || {
                !self.mu.is_closed() && self.deadline(dir).raw() == due
            });
    }

    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let held = self
            .rwlock(Dir::Read)
            .map_err(|f| self.op_error("read", f))?;
        if buf.is_empty() && !self.stream {
            // Go's FD.Read returns at once for an empty buffer: recv(2) would consume a
            // whole datagram (or message) to fill it.
            return Ok(0);
        }
        if !buf.is_empty() && self.drained_hint() {
            // The last read drained the socket and no park has eaten an edge since:
            // a read now would only say EAGAIN, so wait for the poller first.
            self.park(&held, Dir::Read)
                .map_err(|f| self.op_error("read", f))?;
        }
        let r = self.io_loop(&held, Dir::Read, || sys_read(self.sock.as_raw_fd(), buf));
        if let Ok(n) = r {
            if n > 0 && n < buf.len() {
                self.note_drained();
            }
        }
        drop(held);
        r.map_err(|f| self.op_error("read", f))
    }

    /// One read attempt: data, end of stream, or `ErrorKind::WouldBlock` (a plain
    /// error: nothing failed) when nothing is there yet.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let (fd, room) = (self.sock.as_raw_fd(), buf.len());
        self.try_read_with(room, || sys_read(fd, buf))
    }

    /// [`try_read`](NetFd::try_read) into several buffers, filled in order (one
    /// `readv`): crypto/tls reads into rustls's buffer and, past what that has room for,
    /// into its own.
    pub(crate) fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let room: usize = bufs.iter().map(|b| b.len()).sum();
        self.try_read_with(room, || (&*self.sock).read_vectored(bufs))
    }

    /// One read attempt by `read` into `room` bytes, under the read lock: what `try_read`
    /// and `try_read_vectored` share. A short read or EAGAIN notes the drained hint, as
    /// [`read`](NetFd::read) does.
    fn try_read_with(
        &self,
        room: usize,
        mut read: impl FnMut() -> io::Result<usize>,
    ) -> io::Result<usize> {
        let _held = self
            .rwlock(Dir::Read)
            .map_err(|f| self.op_error("read", f))?;
        self.check(Dir::Read)
            .map_err(|f| self.op_error("read", f))?;
        loop {
            match read() {
                Ok(n) => {
                    if n > 0 && n < room {
                        self.note_drained();
                    }
                    return Ok(n);
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    self.note_drained();
                    return Err(e);
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(self.op_error("read", Fail::Sys("read", e))),
            }
        }
    }

    /// Parks until the poller reports the socket (it may then be readable; a spurious
    /// return is possible, and the next `try_read` tells), without holding a buffer.
    pub(crate) fn readable(&self) -> io::Result<()> {
        let fail = |f| self.op_error("read", f);
        let held = self.rwlock(Dir::Read).map_err(fail)?;
        let readable_bits =
            ANY_EVENT | (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
        loop {
            self.check(Dir::Read).map_err(fail)?;
            if !self.drained_hint() {
                // An edge may have been eaten by another park (a blocked write, say):
                // look at the socket itself before sleeping on the poller.
                let mut one = [0u8; 1];
                match self.sock.peek(as_uninit(&mut one)) {
                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                    Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                    // Data, end of stream or an error: the next read has something to say.
                    _ => return Ok(()),
                }
            }
            let events = self.park(&held, Dir::Read).map_err(fail)?;
            // Woken for writing only (a fresh registration reports writable at once):
            // nothing to read yet, wait again.
            if events & readable_bits != 0 {
                return self.check(Dir::Read).map_err(fail);
            }
        }
    }

    /// Looks at the bytes waiting on a stream socket without taking them (`recv` with
    /// `MSG_PEEK`), parking until more than `seen` are there. Returns how many bytes
    /// `buf` now holds: more than `seen`, or `seen` itself (0 included) once the peer has
    /// closed its side and nothing more will come. The read deadline and `close()` end
    /// the wait as they end a read. A PROXY protocol header is read this way
    /// (proxyproto), so that not one byte past it is taken from the stream.
    ///
    /// `buf` must be longer than `seen`. With edge-triggered epoll a park returns when
    /// new bytes arrive (or the peer hangs up), so a partial header costs one peek per
    /// arrival. A plain thread's poll(2) says "readable" while any byte waits, so there
    /// the wait for more is a 1 ms pause between peeks.
    pub(crate) fn peek_past(&self, buf: &mut [u8], seen: usize) -> io::Result<usize> {
        let fail = |f| self.op_error("read", f);
        let held = self.rwlock(Dir::Read).map_err(fail)?;
        loop {
            self.check(Dir::Read).map_err(fail)?;
            match self.sock.peek(as_uninit(buf)) {
                Ok(n) if n > seen => return Ok(n),
                // Data stays queued after a FIN: the hang-up the poller reported says
                // that no more is coming.
                Ok(n) if n == 0 || self.read_closed.load(Ordering::SeqCst) => return Ok(n),
                Ok(_) if !may::coroutine::is_coroutine() => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(_) if self.mu.is_closed() => return Err(fail(Fail::Closed)),
                Err(e) => return Err(fail(Fail::Sys("read", e))),
            }
            self.park(&held, Dir::Read).map_err(fail)?;
        }
    }

    /// Whether a read may park before trying: the last read on this stream socket found
    /// it drained, no park (which resets the registration's edge flag) ran since, and the
    /// peer has not closed or failed (its edge may be long gone, while a read would
    /// return at once). With edge-triggered epoll any byte arriving after the drain sets
    /// that flag, so the park returns at once if data came. Taking the hint clears it.
    /// (tokio clears read readiness after a short read the same way.)
    fn drained_hint(&self) -> bool {
        let at = self.drained_at.swap(0, Ordering::Relaxed);
        at != 0
            && at == self.parks.load(Ordering::SeqCst) + 1
            && !self.read_closed.load(Ordering::SeqCst)
    }

    /// Records that a read found a stream socket drained.
    fn note_drained(&self) {
        if self.stream {
            let at = self.parks.load(Ordering::SeqCst) + 1;
            self.drained_at.store(at, Ordering::Relaxed);
        }
    }

    /// Go's checks before every attempt: closed, then the deadline.
    fn check(&self, dir: Dir) -> Result<(), Fail> {
        if self.mu.is_closed() {
            return Err(Fail::Closed);
        }
        let due = self.deadline(dir).raw();
        if due != 0 && due <= deadline::now() {
            return Err(Fail::Timeout);
        }
        Ok(())
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        if !self.stream {
            // One datagram (or message) per write, an empty one included: Go's FD.Write
            // calls write(2) once even for no bytes.
            return self.send(buf);
        }
        let held = self
            .rwlock(Dir::Write)
            .map_err(|f| self.op_error("write", f))?;
        let mut done = 0;
        while done < buf.len() {
            match self.io_loop(&held, Dir::Write, || {
                sys_write(self.sock.as_raw_fd(), &buf[done..])
            }) {
                Ok(n) => done += n,
                Err(_) if done > 0 => return Ok(done),
                Err(f) => {
                    drop(held);
                    return Err(self.op_error("write", f));
                }
            }
        }
        Ok(done)
    }

    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let held = self
            .rwlock(Dir::Write)
            .map_err(|f| self.op_error("write", f))?;
        let r = self.io_loop(&held, Dir::Write, || self.sock.send_vectored(bufs));
        drop(held);
        r.map_err(|f| self.op_error("write", f))
    }

    /// One vectored write attempt on a stream socket: the bytes the kernel took, or
    /// `ErrorKind::WouldBlock` (a plain error: nothing failed) when its buffer is full.
    /// Closed and deadline errors are as for [`write`](NetFd::write). crypto/tls sends
    /// rustls's queued records this way, straight from rustls's buffers, under a lock
    /// that must not be held across a park.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let _held = self
            .rwlock(Dir::Write)
            .map_err(|f| self.op_error("write", f))?;
        self.check(Dir::Write)
            .map_err(|f| self.op_error("write", f))?;
        loop {
            match self.sock.send_vectored(bufs) {
                Ok(n) => return Ok(n),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return Err(e),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(_) if self.mu.is_closed() => {
                    return Err(self.op_error("write", Fail::Closed));
                }
                Err(e) => return Err(self.op_error("write", Fail::Sys("write", e))),
            }
        }
    }

    /// Parks until the poller reports the socket writable (or something to look at
    /// changed: a spurious return is possible, and the next `try_write_vectored` tells).
    /// The write deadline and `close()` end the wait with their usual errors.
    pub(crate) fn writable(&self) -> io::Result<()> {
        let fail = |f| self.op_error("write", f);
        let held = self.rwlock(Dir::Write).map_err(fail)?;
        let writable_bits = ANY_EVENT | (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;
        loop {
            self.check(Dir::Write).map_err(fail)?;
            let events = self.park(&held, Dir::Write).map_err(fail)?;
            if events & writable_bits != 0 {
                return self.check(Dir::Write).map_err(fail);
            }
        }
    }

    /// Accepts a connection, non-blocking and close-on-exec, registered with the poller.
    pub(crate) fn accept(&self) -> io::Result<NetFd> {
        let held = self
            .rwlock(Dir::Read)
            .map_err(|f| self.op_error("accept", f))?;
        let accepted = self.io_loop(&held, Dir::Read, || accept4(&self.sock));
        drop(held);
        let (sock, peer) = accepted.map_err(|f| match f {
            Fail::Sys(_, e) => self.op_error("accept", Fail::Sys("accept4", e)),
            f => self.op_error("accept", f),
        })?;
        let fail = |call, e| self.op_error("accept", Fail::Sys(call, e));
        let local = sock.local_addr().map_err(|e| fail("getsockname", e))?;
        let fd = NetFd::new(sock, self.net, false).map_err(|e| fail("epollctl", e))?;
        let laddr = crate::net::sock::sockaddr_to_addr(&local, self.net);
        let raddr = crate::net::sock::sockaddr_to_addr(&peer, self.net);
        fd.set_addrs(laddr, Some(raddr));
        Ok(fd)
    }

    /// Connects to `addr`, parking until the handshake is done or `deadline` passes.
    ///
    /// Go: `netFD.connect` (fd_unix.go): a non-blocking connect, then wait for writable
    /// and read `SO_ERROR`, with the deadline applied as a write deadline meanwhile.
    pub(crate) fn connect(&self, addr: &SockAddr, deadline: Option<Instant>) -> Result<(), Fail> {
        let held = self.rwlock(Dir::Write)?;
        match self.sock.connect(addr) {
            Ok(()) => {
                self.forget_pre_connect_events(&held);
                return Ok(());
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) => {}
            Err(e) => return Err(Fail::Sys("connect", e)),
        }
        self.wdeadline.set(deadline);
        let r = self.io_loop(&held, Dir::Write, || match self.sock.take_error() {
            Ok(None) => match self.sock.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                    Err(io::Error::from_raw_os_error(libc::EAGAIN))
                }
                Err(e) => Err(e),
            },
            Ok(Some(e)) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EALREADY)) => {
                Err(io::Error::from_raw_os_error(libc::EAGAIN))
            }
            Ok(Some(e)) => Err(e),
            Err(e) => Err(e),
        });
        self.wdeadline.set(None);
        self.forget_pre_connect_events(&held);
        r.map_err(|f| match f {
            Fail::Sys(_, e) => Fail::Sys("connect", e),
            f => f,
        })
    }

    /// A socket is registered before it connects, while the kernel still calls it closed:
    /// the first events say "hung up", which is not true of the connection. Forget them
    /// (reads look at the socket before trusting the poller while they hold no drained
    /// hint, so a real edge lost here costs nothing).
    fn forget_pre_connect_events(&self, held: &Hold<'_>) {
        self.pd(held).forget_events();
        self.read_closed.store(false, Ordering::SeqCst);
    }

    /// Go: `FD.Close`. Marks the descriptor closed (later calls fail with "use of closed
    /// network connection"), wakes every call blocked on it, and returns once the last
    /// of them is out and the descriptor has been closed. A second close fails.
    pub(crate) fn close(&self) -> io::Result<()> {
        if let Err(r) = self.mu.incref_and_close() {
            return Err(self.op_error("close", r.into()));
        }
        let held = Hold {
            fd: self,
            lock: None,
        };
        // Go: pd.evict(): unblock the calls parked in the poller, and here the threads
        // in poll(2) too. Each sees the closed flag and returns, releasing its reference.
        self.pd(&held).nudge_all();
        self.threads.wake_all();
        // Go: fd.decref(), then runtime_Semacquire(&fd.csema): whoever drops the last
        // reference (this drop, or a call still on its way out) closes the descriptor
        // and signals once.
        drop(held);
        self.mu.wait_closed();
        Ok(())
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let _held = self.incref().map_err(|f| self.op_error("close", f))?;
        self.sock
            .shutdown(how)
            .map_err(|e| self.op_error("close", Fail::Sys("shutdown", e)))
    }

    pub(crate) fn set_deadline(
        &self,
        t: Option<Instant>,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        let held = match self.incref() {
            Ok(held) => held,
            Err(f) => {
                // Go's SetDeadline error names only the local address.
                let e = match f {
                    Fail::Overflow => OpError::new("set", self.net, OVERFLOW_MSG),
                    _ => OpError::new("set", self.net, ErrClosed),
                };
                return Err(e.with_addrs(None, Some(self.laddr())).into());
            }
        };
        if read {
            self.rdeadline.set(t);
        }
        if write {
            self.wdeadline.set(t);
        }
        // A call parked with the old deadline must look at the new one.
        self.pd(&held).nudge_all();
        self.threads.wake_all();
        Ok(())
    }

    /// Runs `f` on the open descriptor, holding a reference so that a concurrent close
    /// cannot release it meanwhile. Go: `FD.RawControl` (`rawConn.Control`).
    pub(crate) fn control<R>(&self, f: impl FnOnce(BorrowedFd<'_>) -> R) -> Result<R, Fail> {
        let _held = self.incref()?;
        Ok(f(self.sock.as_fd()))
    }

    /// A new descriptor for the same socket, close-on-exec. Go: `FD.Dup`
    /// (`DupCloseOnExec`: `fcntl(F_DUPFD_CLOEXEC)`), behind the `File` methods.
    pub(crate) fn dup(&self) -> Result<OwnedFd, Fail> {
        let _held = self.incref()?;
        // SAFETY: fcntl with F_DUPFD_CLOEXEC reads no memory, and the descriptor is open
        // while we hold a reference.
        let n = unsafe { libc::fcntl(self.sock.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if n < 0 {
            return Err(Fail::Sys("fcntl", io::Error::last_os_error()));
        }
        // SAFETY: `n` is a new descriptor that nothing else owns.
        Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(n) })
    }

    fn setsockopt(&self, set: impl FnOnce(&Socket) -> io::Result<()>) -> io::Result<()> {
        let _held = self.incref().map_err(|f| self.op_error("set", f))?;
        set(&self.sock).map_err(|e| self.op_error("set", Fail::Sys("setsockopt", e)))
    }

    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.setsockopt(|s| s.set_tcp_nodelay(on))
    }

    pub(crate) fn set_keep_alive(&self, on: bool) -> io::Result<()> {
        self.setsockopt(|s| s.set_keepalive(on))
    }

    pub(crate) fn set_keep_alive_period(&self, period: Duration) -> io::Result<()> {
        self.setsockopt(|s| crate::net::sockopt::set_keep_alive_period(s, period))
    }

    pub(crate) fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.setsockopt(|s| s.set_linger(linger))
    }

    /// The descriptor number, -1 once closed: Go's `FD.Sysfd`. Only as good as the
    /// caller's knowledge that no close runs meanwhile (see `Conn`'s `AsRawFd`).
    pub(crate) fn sysfd(&self) -> RawFd {
        self.sysfd.load(Ordering::Acquire)
    }

    /// The descriptor for `AsFd`: the socket while it is open; once closed, a
    /// process-wide placeholder on which every call fails with EBADF (an `O_PATH`
    /// descriptor), so that a stale borrow cannot reach a socket that reused the number.
    pub(crate) fn borrow_fd(&self) -> BorrowedFd<'_> {
        if self.sysfd() >= 0 {
            return self.sock.as_fd();
        }
        match placeholder() {
            Some(p) => p.as_fd(),
            // Only if the placeholder could never be opened (see `placeholder`).
            None => self.sock.as_fd(),
        }
    }
}

/// The placeholder descriptor (see [`placeholder`]), for things that have none (a
/// pipe's `AsFd`). Opened when the first socket or pipe was made; only a process that
/// had no descriptor left then and has none now gets here without one.
pub(crate) fn placeholder_fd() -> BorrowedFd<'static> {
    match placeholder() {
        Some(p) => p.as_fd(),
        None => panic!("gonet: no descriptor left to lend as a pipe's AsFd stand-in"),
    }
}

/// The descriptor `borrow_fd` lends once a socket is closed: `/` opened with `O_PATH`,
/// on which read, write, setsockopt and the rest fail with EBADF, as on a closed
/// descriptor. Opened along with the first socket (so it exists by the time any socket
/// closes) and never closed.
pub(crate) fn placeholder() -> Option<&'static OwnedFd> {
    static PLACEHOLDER: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(p) = PLACEHOLDER.get() {
        return Some(p);
    }
    let root = b"/\0";
    // SAFETY: root is a NUL-terminated path; the result is checked before use.
    let fd = unsafe { libc::open(root.as_ptr().cast(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    let owned = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // A racing opener's descriptor is dropped (closed) by get_or_init.
    Some(PLACEHOLDER.get_or_init(|| owned))
}

impl Drop for NetFd {
    /// The last handle is gone: close the descriptor if `close()` did not (Go's
    /// finalizer on `netFD`). No call can be running: they borrow the `NetFd`.
    fn drop(&mut self) {
        self.destroy();
    }
}

// --- Datagrams. Go: poll.FD's ReadFrom, WriteTo, ReadMsg and WriteMsg (internal/poll/
// fd_unix.go), which netFD wraps in the system call's name (fd_posix.go). Each is the
// loop of a read or a write (io_loop: try, park on EAGAIN, look at close and deadline
// around every wait) for one datagram, taking its turn as reads and writes do.
impl NetFd {
    /// Go's error for `op` towards `addr`: the local address, then `addr` (a `write_to`
    /// names its target, not the connected peer).
    pub(crate) fn op_error_to(
        &self,
        op: &'static str,
        fail: Fail,
        addr: Option<Addr>,
    ) -> io::Error {
        let e = match fail {
            Fail::Closed => OpError::new(op, self.net, ErrClosed),
            Fail::Timeout => OpError::new(op, self.net, DeadlineExceeded),
            Fail::Sys(call, err) => syscall_error(op, self.net, call, err),
            Fail::Overflow => OpError::new(op, self.net, OVERFLOW_MSG),
        };
        e.with_addrs(Some(self.laddr()), addr).into()
    }

    /// Records the addresses of a datagram socket: the local one, and the peer's if it
    /// is connected (getpeername fails on an unconnected socket).
    /// Only while nobody else has the descriptor (just made), so it is open.
    pub(crate) fn set_dgram_addrs_from_kernel(&self) -> io::Result<()> {
        let laddr = self.sock.local_addr()?;
        let laddr = crate::net::sock::sockaddr_to_addr(&laddr, self.net);
        let raddr = self.sock.peer_addr().ok();
        let raddr = raddr.map(|r| crate::net::sock::sockaddr_to_addr(&r, self.net));
        self.set_addrs(laddr, raddr);
        Ok(())
    }

    /// Whether the socket has a fixed peer (Go's `netFD.isConnected`).
    pub(crate) fn is_connected(&self) -> bool {
        self.raddr().is_some()
    }

    /// The socket's address family. Go keeps it in `netFD.family` from the start; here
    /// it is asked of the kernel (SO_DOMAIN) once, by the first datagram sent to an
    /// address, so that creating and accepting sockets costs nothing more.
    pub(crate) fn family(&self) -> Domain {
        *self.family.get_or_init(
            || match self.control(|fd| socket2::SockRef::from(&fd).domain()) {
                Ok(Ok(d)) => d,
                // Cannot fail on a live socket (and on a closed one the send fails first);
                // a wrong guess makes sendto fail loudly.
                _ => Domain::IPV6,
            },
        )
    }

    /// Sends `buf` as one datagram (or message) to the connected peer.
    /// Go: `FD.Write` on a datagram socket, which calls write(2) once.
    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let held = self
            .rwlock(Dir::Write)
            .map_err(|f| self.op_error("write", f))?;
        let r = self.io_loop(&held, Dir::Write, || self.sock.send(buf));
        drop(held);
        r.map_err(|f| self.op_error("write", f))
    }

    /// Receives one datagram and its sender's address; a datagram longer than `buf` is
    /// cut to fit, as recvfrom(2) does. Go: `FD.ReadFrom`.
    pub(crate) fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SockAddr)> {
        let held = self
            .rwlock(Dir::Read)
            .map_err(|f| self.op_error("read", f))?;
        let r = self.io_loop(&held, Dir::Read, || self.sock.recv_from(as_uninit(buf)));
        drop(held);
        r.map_err(|f| self.op_error("read", named(f, "recvfrom")))
    }

    /// Sends `buf` as one datagram to `to`; `addr` gives `to` as errors name it (made
    /// only for an error). Go: `FD.WriteTo`.
    pub(crate) fn send_to(
        &self,
        buf: &[u8],
        to: &SockAddr,
        addr: impl FnOnce() -> Option<Addr>,
    ) -> io::Result<usize> {
        let held = match self.rwlock(Dir::Write) {
            Ok(held) => held,
            Err(f) => return Err(self.op_error_to("write", f, addr())),
        };
        let r = self.io_loop(&held, Dir::Write, || self.sock.send_to(buf, to));
        drop(held);
        r.map_err(|f| self.op_error_to("write", named(f, "sendto"), addr()))
    }

    /// Receives one datagram with its control messages: (bytes, control bytes, the
    /// message flags, the sender). Go: `FD.ReadMsg`.
    pub(crate) fn recv_msg(
        &self,
        buf: &mut [u8],
        oob: &mut [u8],
        flags: i32,
    ) -> io::Result<(usize, usize, i32, SockAddr)> {
        let held = self
            .rwlock(Dir::Read)
            .map_err(|f| self.op_error("read", f))?;
        let r = self.io_loop(&held, Dir::Read, || recvmsg(&self.sock, buf, oob, flags));
        drop(held);
        r.map_err(|f| self.op_error("read", named(f, "recvmsg")))
    }

    /// Sends one datagram with control messages, to `to` or (`None`) the connected
    /// peer; `addr` gives the target as errors name it. Returns (bytes, control bytes).
    /// Go: `FD.WriteMsg`.
    pub(crate) fn send_msg(
        &self,
        buf: &[u8],
        oob: &[u8],
        to: Option<&SockAddr>,
        addr: impl FnOnce() -> Option<Addr>,
    ) -> io::Result<(usize, usize)> {
        let held = match self.rwlock(Dir::Write) {
            Ok(held) => held,
            Err(f) => return Err(self.op_error_to("write", f, addr())),
        };
        let bufs = [IoSlice::new(buf)];
        let r = self.io_loop(&held, Dir::Write, || {
            let mut msg = socket2::MsgHdr::new().with_buffers(&bufs);
            if !oob.is_empty() {
                msg = msg.with_control(oob);
            }
            if let Some(to) = to {
                msg = msg.with_addr(to);
            }
            self.sock.sendmsg(&msg, 0)
        });
        drop(held);
        r.map(|n| (n, oob.len()))
            .map_err(|f| self.op_error_to("write", named(f, "sendmsg"), addr()))
    }

    /// Sets SO_RCVBUF. Go: `conn.SetReadBuffer`.
    pub(crate) fn set_read_buffer(&self, bytes: usize) -> io::Result<()> {
        self.set_option(|s| s.set_recv_buffer_size(bytes))
    }

    /// Sets SO_SNDBUF. Go: `conn.SetWriteBuffer`.
    pub(crate) fn set_write_buffer(&self, bytes: usize) -> io::Result<()> {
        self.set_option(|s| s.set_send_buffer_size(bytes))
    }

    /// A socket option set as Go's `conn.Set*` methods do: refused once closed, and any
    /// error named with the local address only (`set udp 127.0.0.1:5: ...`).
    fn set_option(&self, set: impl FnOnce(&Socket) -> io::Result<()>) -> io::Result<()> {
        let fail = |e: OpError| -> io::Error { e.with_addrs(None, Some(self.laddr())).into() };
        let _held = self.incref().map_err(|f| {
            fail(match f {
                Fail::Overflow => OpError::new("set", self.net, OVERFLOW_MSG),
                _ => OpError::new("set", self.net, ErrClosed),
            })
        })?;
        set(&self.sock).map_err(|e| fail(syscall_error("set", self.net, "setsockopt", e)))
    }
}

/// A failure of `io_loop` with the system call named as Go names it for this call.
fn named(fail: Fail, call: &'static str) -> Fail {
    match fail {
        Fail::Sys(_, e) => Fail::Sys(call, e),
        f => f,
    }
}

/// recvmsg(2) into one buffer and a control buffer: (bytes, control bytes, flags, sender).
/// socket2's `recvmsg` does not give the raw flags (MSG_CTRUNC among them) that Go's
/// `ReadMsgUDP` returns.
fn recvmsg(
    sock: &Socket,
    buf: &mut [u8],
    oob: &mut [u8],
    flags: i32,
) -> io::Result<(usize, usize, i32, SockAddr)> {
    // SAFETY: try_init hands us zeroed sockaddr storage and its length, which recvmsg
    // fills in through msg_name/msg_namelen; the iovec and control pointers come from
    // live slices of the lengths given, which outlive the call, and the msghdr is plain
    // data that zeroed memory makes valid before its fields are set.
    let ((n, oobn, mflags), sa) = unsafe {
        SockAddr::try_init(|storage, len| {
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = storage.cast();
            msg.msg_namelen = *len;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            if !oob.is_empty() {
                msg.msg_control = oob.as_mut_ptr().cast();
                msg.msg_controllen = oob.len() as _;
            }
            let n = libc::recvmsg(sock.as_raw_fd(), &mut msg, flags);
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            *len = msg.msg_namelen;
            Ok((n as usize, msg.msg_controllen as usize, msg.msg_flags))
        })
    }?;
    Ok((n, oobn, mflags, sa))
}

/// `park`'s answer when the wake-up's cause is unknown: treat it as possibly anything.
const ANY_EVENT: u32 = 1 << 31;

/// The system call Go names in errors for each direction.
fn syscall_name(dir: Dir) -> &'static str {
    match dir {
        Dir::Read => "read",
        Dir::Write => "write",
    }
}

/// One recv(2) with no flags, the bare system call (`recvfrom` with no address, the
/// call glibc's `recv` makes, so the kernel's path is the one socket2's `Read` took). Not
/// through glibc: its wrappers of calls that may block are thread-cancellation points,
/// `__pthread_enable_asynccancel` before the call and `__pthread_disable_asynccancel`
/// after, about 33 instructions per call that a non-blocking socket never needs
/// (bench/PROFILE.md section 8); `syscall(2)` is not a cancellation point. Go's
/// `poll.FD.Read` makes its call bare the same way (`syscall.Read`, read(2) itself:
/// read(2) also passes the file-access notifications, which recv(2) does not, so the
/// socket calls stay).
fn sys_read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call, and the
    // kernel writes at most that many; `fd` is open (the caller holds a reference on the
    // descriptor, so no close runs meanwhile).
    let n = unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            fd,
            buf.as_mut_ptr(),
            buf.len(),
            0,
            std::ptr::null_mut::<libc::sockaddr>(),
            std::ptr::null_mut::<libc::socklen_t>(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // A count the kernel returned is at most buf.len(), so it fits.
    Ok(n as usize)
}

/// One send(2) with no flags (`sendto` with no address, as glibc's `send`), bare for the
/// reason [`sys_read`] gives; Go's `poll.FD.Write` calls `syscall.Write`. No flags, as
/// socket2's `send` had: a peer that is gone raises SIGPIPE, which Rust programs and Go
/// both ignore, and the call fails with EPIPE.
fn sys_write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the whole call; `fd` is
    // open (the caller holds a reference on the descriptor).
    let n = unsafe {
        libc::syscall(
            libc::SYS_sendto,
            fd,
            buf.as_ptr(),
            buf.len(),
            0,
            std::ptr::null::<libc::sockaddr>(),
            0 as libc::socklen_t,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // A count the kernel returned is at most buf.len(), so it fits.
    Ok(n as usize)
}

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC in one call (socket2's accept would need a
/// second fcntl). `ECONNABORTED` (the peer gave up while queued) is retried, as Go does.
fn accept4(listener: &Socket) -> io::Result<(Socket, SockAddr)> {
    loop {
        // SAFETY: try_init hands us zeroed sockaddr storage and its length, exactly what
        // accept4 fills in; the returned descriptor is new and owned by nobody else.
        let r = unsafe {
            SockAddr::try_init(|storage, len| {
                let fd = libc::accept4(
                    listener.as_raw_fd(),
                    storage.cast(),
                    len,
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                );
                if fd < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(<Socket as std::os::fd::FromRawFd>::from_raw_fd(fd))
                }
            })
        };
        match r {
            Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => continue,
            r => return r,
        }
    }
}

/// `buf` as the uninitialised bytes socket2's peek takes.
fn as_uninit(buf: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: u8 and MaybeUninit<u8> have the same layout, and every byte of `buf` is
    // initialised already, so nothing uninitialised can be read back through `buf`.
    unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) }
}
