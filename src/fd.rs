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
//! `close()` marks the descriptor closed, shuts the socket down (which wakes every
//! parked call through the poller) and wakes the registrations directly; the descriptor
//! itself is closed when the `NetFd` is dropped, after it left the epoll set, so its
//! number cannot be reused under a parked call.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use may::io::{CoIo, WaitIo};
use socket2::{SockAddr, Socket};

use crate::deadline::{self, Deadline, TimerSlot};
use crate::error::{syscall_error, DeadlineExceeded, ErrClosed, OpError};
use crate::fd_mutex::FdMutex;
use crate::net::Addr;

/// Why an operation on the descriptor stopped.
pub(crate) enum Fail {
    Closed,
    Timeout,
    Sys(&'static str, io::Error),
}

#[derive(Clone, Copy)]
enum Dir {
    Read,
    Write,
}

/// A descriptor number for may's `CoIo`, which only registers it: the `NetFd` owns and
/// closes the descriptor itself, after the registration is gone.
struct RawSock(RawFd);

impl AsRawFd for RawSock {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// One epoll registration and the call parked on it, if any.
struct Reg {
    io: CoIo<RawSock>,
    /// A call holds this registration (and may be parked on it).
    busy: AtomicBool,
    /// Made on first use of a deadline.
    timer: OnceLock<Arc<TimerSlot>>,
}

impl Reg {
    fn new(fd: RawFd) -> io::Result<Reg> {
        Ok(Reg {
            io: CoIo::new(RawSock(fd)).map_err(io::Error::from)?,
            busy: AtomicBool::new(false),
            timer: OnceLock::new(),
        })
    }

    fn try_take(&self) -> bool {
        self.busy
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    fn release(&self) {
        self.busy.store(false, Ordering::SeqCst);
    }

    /// Forgets the events reported so far. Only for a registration nobody can be parked
    /// on (a conn still being dialed).
    fn forget_events(&self) {
        // may deprecates reset_io because wait_io resets by itself; here the point is
        // to drop what the socket reported before it was connected.
        #[allow(deprecated)]
        self.io.reset_io();
    }

    /// Wakes the call parked here, if there is one, so it looks at its state again.
    fn nudge(&self) {
        if self.busy.load(Ordering::SeqCst) {
            self.io.waker().wakeup();
        }
    }

    /// Parks the coroutine until the poller reports an event (or a nudge, or the timer
    /// for `due`, in deadline units; 0 = none).
    /// Returns the epoll event bits that ended the wait (0 for a timer or a nudge).
    fn wait(&self, due: u64) -> usize {
        let timer = (due != 0).then(|| {
            let t = self.timer.get_or_init(|| TimerSlot::new(self.io.waker()));
            t.arm(due);
            t
        });
        let events = self.io.wait_io();
        if let Some(t) = timer {
            t.disarm();
        }
        events
    }
}

/// The second registration, on a `dup` of the descriptor. Fields drop in order: the
/// registration leaves epoll before the duplicate is closed.
struct Secondary {
    reg: Reg,
    _dup: OwnedFd,
}

pub(crate) struct NetFd {
    // Field order is drop order: both registrations leave epoll before `sock` closes.
    /// Made by the first call that parks (see [`NetFd::new`]).
    primary: OnceLock<Reg>,
    /// Held while the primary registration is made, so a reader and a writer that park
    /// for the first time together register the descriptor once.
    registering: std::sync::Mutex<()>,
    secondary: OnceLock<Secondary>,
    rlock: FdMutex,
    wlock: FdMutex,
    closed: AtomicBool,
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
    sock: Socket,
}

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
        let primary = OnceLock::new();
        if listener {
            let _ = primary.set(Reg::new(sock.as_raw_fd())?);
        }
        Ok(NetFd {
            primary,
            registering: std::sync::Mutex::new(()),
            secondary: OnceLock::new(),
            rlock: FdMutex::default(),
            wlock: FdMutex::default(),
            closed: AtomicBool::new(false),
            parks: AtomicU64::new(0),
            read_closed: AtomicBool::new(false),
            drained_at: AtomicU64::new(0),
            rdeadline: Deadline::default(),
            wdeadline: Deadline::default(),
            net,
            stream: matches!(net, "tcp" | "tcp4" | "tcp6" | "unix"),
            listener,
            addrs: OnceLock::new(),
            sock,
        })
    }

    /// Records the local and remote addresses (the first call wins).
    pub(crate) fn set_addrs(&self, laddr: Addr, raddr: Option<Addr>) {
        let _ = self.addrs.set((laddr, raddr));
    }

    /// Reads both addresses from the kernel (getsockname, getpeername) and records them.
    pub(crate) fn set_addrs_from_kernel(&self) -> io::Result<()> {
        let laddr = self.sock.local_addr()?;
        let laddr = crate::sock::sockaddr_to_addr(&laddr, self.net);
        let raddr = if self.listener {
            None
        } else {
            let r = self.sock.peer_addr()?;
            Some(crate::sock::sockaddr_to_addr(&r, self.net))
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

    fn raddr(&self) -> Option<Addr> {
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
    fn io_loop<T>(&self, dir: Dir, mut attempt: impl FnMut() -> io::Result<T>) -> Result<T, Fail> {
        loop {
            self.check(dir)?;
            match attempt() {
                Ok(v) => return Ok(v),
                Err(e) => match e.raw_os_error() {
                    Some(libc::EAGAIN) => {
                        self.park(dir)?;
                    }
                    Some(libc::EINTR) => {}
                    // A close that raced with the call: its shutdown makes the call fail
                    // (accept4 with EINVAL, a read with ENOTCONN...), and Go reports that
                    // as the close, not as the errno.
                    _ if self.closed.load(Ordering::SeqCst) => return Err(Fail::Closed),
                    _ => return Err(Fail::Sys(syscall_name(dir), e)),
                },
            }
        }
    }

    /// Waits until the socket may be ready for `dir` (or something to look at changed).
    /// Returns the poller's event bits, or [`ANY_EVENT`] when they are unknown (a plain
    /// thread's poll(2), a timer, a nudge, or a wait skipped for close or deadline).
    fn park(&self, dir: Dir) -> Result<u32, Fail> {
        if !may::coroutine::is_coroutine() {
            self.poll_thread(dir);
            return Ok(ANY_EVENT);
        }
        let reg = self.take_reg()?;
        self.parks.fetch_add(1, Ordering::SeqCst);
        // Read the deadline only after `busy` is set: a concurrent set_deadline either
        // sees `busy` and nudges us, or we see its new deadline here.
        let due = self.deadline(dir).raw();
        let mut events = ANY_EVENT;
        if !self.closed.load(Ordering::SeqCst) && (due == 0 || due > deadline::now()) {
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

    /// The primary registration, made now if this is the first call to park.
    fn primary(&self) -> Result<&Reg, Fail> {
        if let Some(reg) = self.primary.get() {
            return Ok(reg);
        }
        // A std lock in a coroutine is safe here: nothing parks while it is held, and
        // the one system call it covers does not block.
        let _one = self
            .registering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(reg) = self.primary.get() {
            return Ok(reg);
        }
        let reg = Reg::new(self.sock.as_raw_fd()).map_err(|e| Fail::Sys("epollctl", e))?;
        Ok(self.primary.get_or_init(|| reg))
    }

    /// A free registration: the primary, else the secondary (made on first need).
    fn take_reg(&self) -> Result<&Reg, Fail> {
        loop {
            let primary = self.primary()?;
            if primary.try_take() {
                return Ok(primary);
            }
            let second = match self.secondary.get() {
                Some(s) => s,
                None => {
                    let dup = self.sock.as_fd().try_clone_to_owned();
                    let dup = dup.map_err(|e| Fail::Sys("dup", e))?;
                    let reg = Reg::new(dup.as_raw_fd()).map_err(|e| Fail::Sys("epollctl", e))?;
                    // Only the one call that found the primary taken gets here.
                    let _ = self.secondary.set(Secondary { reg, _dup: dup });
                    match self.secondary.get() {
                        Some(s) => s,
                        None => continue,
                    }
                }
            };
            if second.reg.try_take() {
                return Ok(&second.reg);
            }
            // Readers and writers each take turns, so at most two calls park at once and
            // one of the two registrations is always free; this is only a moment's race
            // with a call that is just releasing one.
            may::coroutine::yield_now();
        }
    }

    /// Outside a coroutine (plain OS thread, e.g. `main`), block the thread in poll(2)
    /// until ready or the deadline. Close wakes it through the socket shutdown; a new
    /// deadline is seen when poll returns.
    fn poll_thread(&self, dir: Dir) {
        let events = match dir {
            Dir::Read => libc::POLLIN,
            Dir::Write => libc::POLLOUT,
        };
        let due = self.deadline(dir).raw();
        let timeout_ms = if due == 0 {
            -1
        } else {
            let left = deadline::remaining(due);
            i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
        };
        let mut pfd = libc::pollfd {
            fd: self.sock.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: pfd is a valid pollfd for the duration of the call and nfds is 1. An
        // error (EINTR) just sends the caller round its loop again.
        unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    }

    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let _turn = self.rlock.lock();
        if !buf.is_empty() && self.drained_hint() {
            // The last read drained the socket and no park has eaten an edge since:
            // a read now would only say EAGAIN, so wait for the poller first.
            self.park(Dir::Read).map_err(|f| self.op_error("read", f))?;
        }
        let r = self.io_loop(Dir::Read, || (&self.sock).read(buf));
        if let Ok(n) = r {
            if n > 0 && n < buf.len() {
                self.note_drained();
            }
        }
        match r {
            // A read that ends because close() shut the socket down reports the close.
            Ok(0) if !buf.is_empty() && self.closed.load(Ordering::Acquire) => {
                Err(self.op_error("read", Fail::Closed))
            }
            Ok(n) => Ok(n),
            Err(f) => Err(self.op_error("read", f)),
        }
    }

    /// One read attempt: data, end of stream, or `ErrorKind::WouldBlock` (a plain
    /// error: nothing failed) when nothing is there yet.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let _turn = self.rlock.lock();
        self.check(Dir::Read)
            .map_err(|f| self.op_error("read", f))?;
        loop {
            match (&self.sock).read(buf) {
                Ok(0) if !buf.is_empty() && self.closed.load(Ordering::Acquire) => {
                    return Err(self.op_error("read", Fail::Closed))
                }
                Ok(n) => {
                    if n > 0 && n < buf.len() {
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
        let _turn = self.rlock.lock();
        let fail = |f| self.op_error("read", f);
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
            let events = self.park(Dir::Read).map_err(fail)?;
            // Woken for writing only (a fresh registration reports writable at once):
            // nothing to read yet, wait again.
            if events & readable_bits != 0 {
                return self.check(Dir::Read).map_err(fail);
            }
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
        if self.closed.load(Ordering::Acquire) {
            return Err(Fail::Closed);
        }
        let due = self.deadline(dir).raw();
        if due != 0 && due <= deadline::now() {
            return Err(Fail::Timeout);
        }
        Ok(())
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let _turn = self.wlock.lock();
        let mut done = 0;
        while done < buf.len() {
            match self.io_loop(Dir::Write, || (&self.sock).write(&buf[done..])) {
                Ok(n) => done += n,
                Err(_) if done > 0 => return Ok(done),
                Err(f) => return Err(self.op_error("write", f)),
            }
        }
        Ok(done)
    }

    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let _turn = self.wlock.lock();
        self.io_loop(Dir::Write, || self.sock.send_vectored(bufs))
            .map_err(|f| self.op_error("write", f))
    }

    /// Accepts a connection, non-blocking and close-on-exec, registered with the poller.
    pub(crate) fn accept(&self) -> io::Result<NetFd> {
        let _turn = self.rlock.lock();
        let (sock, peer) =
            self.io_loop(Dir::Read, || accept4(&self.sock))
                .map_err(|f| match f {
                    Fail::Sys(_, e) => self.op_error("accept", Fail::Sys("accept4", e)),
                    f => self.op_error("accept", f),
                })?;
        let fail = |call, e| self.op_error("accept", Fail::Sys(call, e));
        let local = sock.local_addr().map_err(|e| fail("getsockname", e))?;
        let fd = NetFd::new(sock, self.net, false).map_err(|e| fail("epollctl", e))?;
        let laddr = crate::sock::sockaddr_to_addr(&local, self.net);
        let raddr = crate::sock::sockaddr_to_addr(&peer, self.net);
        fd.set_addrs(laddr, Some(raddr));
        Ok(fd)
    }

    /// Connects to `addr`, parking until the handshake is done or `deadline` passes.
    ///
    /// Go: `netFD.connect` (fd_unix.go): a non-blocking connect, then wait for writable
    /// and read `SO_ERROR`, with the deadline applied as a write deadline meanwhile.
    pub(crate) fn connect(&self, addr: &SockAddr, deadline: Option<Instant>) -> Result<(), Fail> {
        match self.sock.connect(addr) {
            Ok(()) => {
                self.forget_pre_connect_events();
                return Ok(());
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) => {}
            Err(e) => return Err(Fail::Sys("connect", e)),
        }
        let _turn = self.wlock.lock();
        self.wdeadline.set(deadline);
        let r = self.io_loop(Dir::Write, || match self.sock.take_error() {
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
        self.forget_pre_connect_events();
        r.map_err(|f| match f {
            Fail::Sys(_, e) => Fail::Sys("connect", e),
            f => f,
        })
    }

    /// A socket is registered before it connects, while the kernel still calls it closed:
    /// the first events say "hung up", which is not true of the connection. Forget them
    /// (reads look at the socket before trusting the poller while they hold no drained
    /// hint, so a real edge lost here costs nothing).
    fn forget_pre_connect_events(&self) {
        if let Some(p) = self.primary.get() {
            p.forget_events();
        }
        if let Some(s) = self.secondary.get() {
            s.reg.forget_events();
        }
        self.read_closed.store(false, Ordering::SeqCst);
    }

    pub(crate) fn close(&self) -> io::Result<()> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Err(self.op_error("close", Fail::Closed));
        }
        // Wakes calls parked in the poller (and threads in poll(2)). ENOTCONN for a socket
        // that never connected is fine: the nudges below still wake the coroutines.
        let _ = self.sock.shutdown(Shutdown::Both);
        self.nudge_all();
        Ok(())
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(self.op_error("close", Fail::Closed));
        }
        self.sock
            .shutdown(how)
            .map_err(|e| self.op_error("close", Fail::Sys("shutdown", e)))
    }

    fn nudge_all(&self) {
        if let Some(p) = self.primary.get() {
            p.nudge();
        }
        if let Some(s) = self.secondary.get() {
            s.reg.nudge();
        }
    }

    pub(crate) fn set_deadline(
        &self,
        t: Option<Instant>,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        if self.closed.load(Ordering::Acquire) {
            // Go's SetDeadline error names only the local address.
            let e = OpError::new("set", self.net, ErrClosed).with_addrs(None, Some(self.laddr()));
            return Err(e.into());
        }
        if read {
            self.rdeadline.set(t);
        }
        if write {
            self.wdeadline.set(t);
        }
        // A call parked with the old deadline must look at the new one.
        self.nudge_all();
        Ok(())
    }

    fn setsockopt(&self, r: io::Result<()>) -> io::Result<()> {
        r.map_err(|e| self.op_error("set", Fail::Sys("setsockopt", e)))
    }

    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.setsockopt(self.sock.set_tcp_nodelay(on))
    }

    pub(crate) fn set_keep_alive(&self, on: bool) -> io::Result<()> {
        self.setsockopt(self.sock.set_keepalive(on))
    }

    pub(crate) fn set_keep_alive_period(&self, period: Duration) -> io::Result<()> {
        self.setsockopt(crate::sockopt::set_keep_alive_period(&self.sock, period))
    }

    pub(crate) fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.setsockopt(self.sock.set_linger(linger))
    }
}

impl AsRawFd for NetFd {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for NetFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
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
