//! The run: one coroutine per connection, the gates that line them up, the results
//! merged.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use may::sync::{Condvar, Mutex, mpsc};

use crate::{config::*, limits::*, report::*, stats::*, workers::*};

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

/// What every worker shares.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    /// The address to dial (TCP: resolved once to an IP literal).
    pub(crate) dial_addr: String,
    pub(crate) network: &'static str,
    pub(crate) start: Instant,
    /// The end of the load as planned; [`Shared::end`] is the one that counts.
    pub(crate) planned_end: Instant,
    /// The hard cap as planned; [`Shared::hard_end`] is the one that counts.
    pub(crate) planned_hard_end: Instant,
    /// Idle: the connections being held, so an interrupt can stop their waits at once
    /// (it sets their read deadline to now).
    pub(crate) holding: std::sync::Mutex<Vec<crate::tls::Conn>>,
    pub(crate) live: Arc<Live>,
    pub(crate) shards: Arc<Shards>,
    /// Burst: opened once every coroutine waits, so they all dial at once.
    pub(crate) release: Gate,
    /// Burst: when the release gate opened.
    pub(crate) released_at: std::sync::OnceLock<Instant>,
    /// Burst: opened when every result is in, so every connection is held until then.
    pub(crate) hold: Gate,
    /// Burst: counts the held connections closed after `hold` opened.
    pub(crate) closed: Gate,
    /// The http request bytes.
    pub(crate) request: Vec<u8>,
    /// `--source-ips`: the Dialer's control hook that sets IP_BIND_ADDRESS_NO_PORT.
    pub(crate) bind_no_port: gonet::ControlFn,
}

/// A Dialer `control` for connections bound to a source address: IP_BIND_ADDRESS_NO_PORT,
/// so the kernel picks the local port at connect, per destination, instead of at bind,
/// where a port would be taken for every destination (Linux 4.2+; where the option is
/// missing the bind still works, with fewer ports).
fn bind_address_no_port() -> gonet::ControlFn {
    Arc::new(|_network: &str, _address: &str, fd| {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: fd is a live socket for the duration of the call; the option value
        // points at a c_int that outlives it, with its size passed.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            log::debug!("IP_BIND_ADDRESS_NO_PORT: {}", io::Error::last_os_error());
        }
        Ok(())
    })
}

impl Shared {
    /// The end of the load: no request starts after it. An interrupt brings it forward.
    pub(crate) fn end(&self) -> Instant {
        match self.live.interrupted_at() {
            Some(at) => at.min(self.planned_end),
            None => self.planned_end,
        }
    }

    /// The hard cap: no operation outlives it. After an interrupt, the requests in
    /// flight get `--timeout` to finish, no more.
    pub(crate) fn hard_end(&self) -> Instant {
        match self.live.interrupted_at() {
            Some(at) => (at + self.cfg.timeout).min(self.planned_hard_end),
            None => self.planned_hard_end,
        }
    }

    /// Idle: waits until the end of the run on `c`. Returns how the wait ended: a
    /// timeout at the end means the server kept the connection.
    pub(crate) fn hold(&self, c: &crate::tls::Conn) -> io::Result<usize> {
        // Listed first, then the deadline read: an interrupt either finds `c` in the
        // list, or happened before and `end()` is already past.
        self.holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(c.clone());
        c.set_read_deadline(Some(self.end()))?;
        let mut one = [0u8; 1];
        c.read(&mut one)
    }

    /// After an interrupt: wakes the idle connections' waits now.
    pub(crate) fn cut_short(&self) {
        let now = Some(Instant::now());
        for c in self
            .holding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = c.set_read_deadline(now);
        }
    }
}

/// What a worker sends back.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) ok: bool,
    pub(crate) requests: u64,
    pub(crate) bytes: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) statuses: BTreeMap<u16, u64>,
    /// Burst: when (after the release) the connection was up and proved.
    pub(crate) connected_after: Option<Duration>,
    /// Udp: datagrams not echoed in time, and echoes that came after that.
    pub(crate) lost: u64,
    pub(crate) late: u64,
}

impl Outcome {
    pub(crate) fn error(&mut self, live: &Live, worker: usize, kind: String) {
        live.errors.add(worker, 1);
        *self.errors.entry(kind).or_insert(0) += 1;
    }
}

/// A one-shot gate that coroutines (or threads) wait on, with a count of waiters.
pub(crate) struct Gate {
    pub(crate) state: Mutex<(usize, bool)>,
    pub(crate) cv: Condvar,
}

impl Gate {
    pub(crate) fn new() -> Gate {
        Gate {
            state: Mutex::new((0, false)),
            cv: Condvar::new(),
        }
    }

    pub(crate) fn lock(&self) -> may::sync::MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits while `blocked(arrivals, open)` holds, until `deadline` at most; returns
    /// whether the wait ended by itself.
    pub(crate) fn wait_while(
        &self,
        mut g: may::sync::MutexGuard<'_, (usize, bool)>,
        deadline: Instant,
        blocked: impl Fn(&(usize, bool)) -> bool,
    ) -> bool {
        while blocked(&g) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            g = match self.cv.wait_timeout(g, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    /// Waits until the gate opens or `deadline` passes; returns whether it opened.
    pub(crate) fn wait(&self, deadline: Instant) -> bool {
        let mut g = self.lock();
        g.0 += 1;
        self.cv.notify_all();
        self.wait_while(g, deadline, |&(_, open)| !open)
    }

    /// Waits until `n` waiters arrived (or `deadline`); returns whether they did.
    pub(crate) fn wait_for_waiters(&self, n: usize, deadline: Instant) -> bool {
        self.wait_while(self.lock(), deadline, |&(arrived, open)| {
            arrived < n && !open
        })
    }

    /// Counts one arrival without waiting (see [`Gate::wait_for_waiters`]).
    pub(crate) fn arrive(&self) {
        let mut g = self.lock();
        g.0 += 1;
        self.cv.notify_all();
    }

    pub(crate) fn open(&self) {
        let mut g = self.lock();
        g.1 = true;
        self.cv.notify_all();
    }
}

/// Runs the load described by `cfg`, updating `live` as it goes, and returns the report.
///
/// Call [`preflight`] first (the command line does). Blocks the calling thread or
/// coroutine until every worker is done, which is at most `duration + timeout` (plus a
/// second of slack) after the start, whatever the server does. Never panics on I/O: every
/// failure is counted in the report.
pub fn run(cfg: &Config, live: Arc<Live>) -> Report {
    let start = Instant::now();
    let (end, hard_end) = match cfg.mode {
        Mode::Burst => (start, start + cfg.timeout * 2),
        _ => (start + cfg.duration, start + cfg.duration + cfg.timeout),
    };
    let mut report_errors: BTreeMap<String, u64> = BTreeMap::new();
    let dial_addr = match resolve(&cfg.addr) {
        Ok(a) => a,
        Err(e) => {
            report_errors.insert(format!("resolve: {e}"), cfg.conns as u64);
            cfg.addr.clone()
        }
    };
    let host = if cfg.network() == "unix" {
        "localhost".to_string()
    } else {
        cfg.addr.clone()
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gonet-stress\r\nAccept: */*\r\n\r\n",
        cfg.path
    )
    .into_bytes();
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        dial_addr,
        network: cfg.network(),
        start,
        planned_end: end,
        planned_hard_end: hard_end,
        holding: std::sync::Mutex::new(Vec::new()),
        live: live.clone(),
        shards: Arc::new(Shards::new()),
        release: Gate::new(),
        released_at: std::sync::OnceLock::new(),
        hold: Gate::new(),
        closed: Gate::new(),
        request,
        bind_no_port: bind_address_no_port(),
    });

    let (tx, rx) = mpsc::channel::<Outcome>();
    let mut spawned = 0usize;
    if report_errors.is_empty() {
        for id in 0..cfg.conns {
            let (tx, shared) = (tx.clone(), shared.clone());
            gonet::go!(move || {
                let (out, held) = match shared.cfg.mode {
                    Mode::Echo => echo_worker(&shared, id),
                    Mode::Idle => idle_worker(&shared, id),
                    Mode::Burst => burst_worker(&shared, id),
                    Mode::Http => http_worker(&shared, id),
                    Mode::Udp => crate::udp::udp_worker(&shared, id),
                };
                // The receiver outlives every worker it waits for; a late worker's send
                // fails harmlessly after the run gave up on it.
                match (shared.cfg.mode, held) {
                    (Mode::Burst, Some(held)) => {
                        // Burst holds every connection until all results are in.
                        let _ = tx.send(out);
                        shared.hold.wait(shared.hard_end());
                        close(&shared, held.conn);
                        shared.closed.arrive();
                    }
                    (_, held) => {
                        // Closed before reporting: the run returns with its sockets closed.
                        if let Some(held) = held {
                            close(&shared, held.conn);
                        }
                        let _ = tx.send(out);
                    }
                }
            });
            spawned += 1;
        }
    }
    drop(tx);

    if shared.cfg.mode == Mode::Burst && spawned > 0 {
        // Everyone parks on the gate first; then all dial at the same instant.
        shared.release.wait_for_waiters(spawned, hard_end);
        live.started.store(true, Ordering::Relaxed);
        let _ = shared.released_at.set(Instant::now());
        shared.release.open();
    } else {
        live.started.store(true, Ordering::Relaxed);
    }

    let mut report = Report {
        mode: cfg.mode,
        addr: cfg.addr.clone(),
        conns: cfg.conns,
        ok_conns: 0,
        requests: 0,
        errors: 0,
        error_kinds: report_errors,
        statuses: BTreeMap::new(),
        elapsed: Duration::ZERO,
        rps: 0.0,
        latency: new_histogram(),
        all_connected: None,
        rate: cfg.rate,
        bytes: 0,
        interrupted: None,
        lost: 0,
        late: 0,
    };
    let mut received = 0usize;
    let mut latest_connect: Option<Duration> = None;
    // The workers' hard cap, plus a second for their results to arrive.
    let give_up = || shared.hard_end() + Duration::from_secs(1);
    let mut cut_short = false;
    while received < spawned {
        if !cut_short && live.interrupted_at().is_some() {
            cut_short = true;
            shared.cut_short();
        }
        let left = give_up().saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        // In slices, to notice an interrupt.
        let out = match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(out) => out,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        received += 1;
        report.ok_conns += usize::from(out.ok);
        report.requests += out.requests;
        report.bytes += out.bytes;
        report.lost += out.lost;
        report.late += out.late;
        for (k, n) in out.errors {
            *report.error_kinds.entry(k).or_insert(0) += n;
        }
        for (k, n) in out.statuses {
            *report.statuses.entry(k).or_insert(0) += n;
        }
        if let Some(t) = out.connected_after {
            latest_connect = Some(latest_connect.map_or(t, |l| l.max(t)));
        }
    }
    if received < spawned {
        let missing = (spawned - received) as u64;
        report.error_kinds.insert(
            "stress: worker did not finish by the hard cap".to_string(),
            missing,
        );
    }
    report.elapsed = start.elapsed();
    report.interrupted = live
        .interrupted_at()
        .map(|at| at.saturating_duration_since(start));
    shared.hold.open();
    if cfg.mode == Mode::Burst {
        // Return with the burst's sockets closed, as the other modes do.
        shared.closed.wait_for_waiters(report.ok_conns, give_up());
    }
    // The idle workers closed theirs; these clones only kept the numbers.
    shared
        .holding
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    if cfg.mode == Mode::Burst {
        report.all_connected = latest_connect.filter(|_| report.ok_conns == report.conns);
        // Burst's run time is the time to all connected, not the holding after it.
        if let Some(t) = latest_connect {
            report.elapsed = t;
        }
    }
    report.errors = report.error_kinds.values().sum();
    let secs = report.elapsed.as_secs_f64();
    report.rps = if secs > 0.0 {
        report.requests as f64 / secs
    } else {
        0.0
    };
    report.latency = shared.shards.merged();
    report
}
