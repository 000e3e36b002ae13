//! sysmon: the thread that notices a coroutine running without parking, and contains it.
//!
//! Go: `runtime/proc.go` (`sysmon`, `retake`): every 20 µs to 10 ms Go's sysmon looks at
//! each P, and one that has run the same goroutine for 10 ms (its `schedtick` unchanged)
//! gets that goroutine preempted. gonet cannot preempt a coroutine, so its sysmon
//! (`gonet-sysmon`) does what can be done around it, every [`TICK`]:
//!
//! - it pokes each worker whose dispatcher has not run for a while (`proc.rs`); a worker
//!   whose dispatcher does not come for [`SPIN_AFTER`] while its thread passes no gonet
//!   scheduling point is **stuck**: one coroutine has the thread;
//! - it then moves the worker's sockets to the rescue set (`netpoll.rs`), so the other
//!   workers (or a rescue thread, when none is left) serve them; the coroutines queued on
//!   the stuck worker are stolen by idle workers (may's work stealing), and new ones are
//!   no longer sent there;
//! - it reports the spinning coroutine once, with `log::warn!` (its `go!` site, how long,
//!   which worker), counts it ([`num_spinning`], [`spin_reports`]), and when the worker
//!   comes back, says so and gives the sockets back;
//! - with `GONETDEBUG=spinabort=DURATION`, a coroutine that runs that long without
//!   parking aborts the process with a report of every scheduler thread and the stuck
//!   threads' stacks (`traceback.rs`), so a supervisor restarts a wedged server.
//!
//! `GONETDEBUG` reads like Go's `GODEBUG`: comma-separated `name=value` settings, the
//! unknown ones ignored. gonet's: `spinabort=DURATION` (Go's duration syntax, `5s`;
//! default off) and `sysmon=0` (no watchdog at all: may alone, as before gonet had one).

use std::collections::HashMap;
use std::io::Write;
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::runtime::proc::{self, Role, ThreadSlot, now_ns};

/// How often sysmon looks.
pub const TICK: Duration = Duration::from_millis(5);

/// How long a coroutine may run without parking before it is reported (Go's
/// `forcePreemptNS`).
pub const SPIN_AFTER: Duration = Duration::from_millis(10);

/// An idle worker's dispatcher is poked when it has not run for this long.
const POKE_AFTER_NS: u64 = 4_000_000;

/// Injected work that waits this long gets another worker poked.
const STARVE_NS: u64 = 3_000_000;

/// The most rescue threads (each is stuck in a coroutine of its own before the next
/// starts).
const MAX_RESCUE_THREADS: usize = 64;

static SPINNING: AtomicUsize = AtomicUsize::new(0);
static REPORTS: AtomicU64 = AtomicU64::new(0);
static WANT_RESCUE: AtomicBool = AtomicBool::new(false);

/// The settings read from `GONETDEBUG`.
struct Settings {
    sysmon: bool,
    spin_abort: Option<Duration>,
}

fn settings() -> &'static Settings {
    static S: OnceLock<Settings> = OnceLock::new();
    S.get_or_init(|| parse_gonetdebug(&std::env::var("GONETDEBUG").unwrap_or_default()))
}

fn parse_gonetdebug(value: &str) -> Settings {
    let mut s = Settings {
        sysmon: true,
        spin_abort: None,
    };
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, v) = item.split_once('=').unwrap_or((item, ""));
        match name {
            "sysmon" => s.sysmon = v != "0",
            "spinabort" => match crate::time::parse_duration(v) {
                Ok(d) if !d.is_zero() => s.spin_abort = Some(d),
                Ok(_) => s.spin_abort = None,
                Err(e) => log::warn!("gonet: GONETDEBUG: spinabort={v:?} ignored: {e}"),
            },
            _ => {}
        }
    }
    s
}

/// Whether gonet's watchdog runs (`GONETDEBUG=sysmon=0` turns it off).
pub(crate) fn enabled() -> bool {
    settings().sysmon
}

/// Coroutines running now that have run at least 10 ms ([`SPIN_AFTER`]) without parking:
/// each holds a worker thread (or a rescue thread) to itself, and the rest of the
/// program runs on the others.
///
/// Go: none (Go preempts such a goroutine instead).
///
/// ```
/// assert_eq!(gonet::runtime::num_spinning(), 0);
/// ```
pub fn num_spinning() -> usize {
    SPINNING.load(Ordering::Acquire)
}

/// How many times a coroutine has been found running 10 ms without parking since the
/// program started (each is logged once, with `log::warn!`).
///
/// ```
/// assert_eq!(gonet::runtime::spin_reports(), 0);
/// ```
pub fn spin_reports() -> u64 {
    REPORTS.load(Ordering::Acquire)
}

/// Asks sysmon for a rescue thread now (no worker is left to take injected work).
pub(crate) fn need_rescue_thread() {
    if !WANT_RESCUE.swap(true, Ordering::AcqRel) {
        proc::start_rescue_thread();
    }
}

pub(crate) fn spawn() -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("gonet-sysmon".into())
        .spawn(run)
        .map(drop)
}

/// What sysmon remembers of a thread between ticks.
#[derive(Default)]
struct Seen {
    progress: u64,
    /// When `progress` last changed, and the thread's CPU time once it had been quiet
    /// for a while (0: not read yet).
    changed_at: u64,
    cpu_at_change: u64,
    /// Reported as spinning (once per episode).
    spinning: bool,
    /// When this episode was reported.
    since: u64,
    /// When the thread was first seen asleep outside its poller in this quiet spell,
    /// and in which system call (0: not seen so).
    asleep_since: u64,
    asleep_in: i64,
}

fn site_text(site: *const Location<'static>) -> String {
    if site.is_null() {
        "a coroutine".to_string()
    } else {
        // SAFETY: sites are `&'static Location`s recorded by go!; null is handled above.
        let loc = unsafe { &*site };
        format!(
            "the coroutine started by go! at {}:{}",
            loc.file(),
            loc.line()
        )
    }
}

/// The `go!` site of the coroutine holding thread `t`: asked of the thread itself (its
/// coroutine's own record, `proc::running_site`), else the last one its slot recorded.
fn site_of(t: &ThreadSlot) -> *const Location<'static> {
    match crate::runtime::traceback::running_site(t, Duration::from_millis(50)) {
        Some(site) if !site.is_null() => site,
        _ => t.site.load(Ordering::Relaxed).cast_const(),
    }
}

fn ms(ns: u64) -> String {
    let d = Duration::from_nanos(ns);
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn run() {
    let Some(s) = proc::sched() else { return };
    let spin_ns = SPIN_AFTER.as_nanos() as u64;
    let mut seen: HashMap<usize, Seen> = HashMap::new();
    let (mut inj_waiting_since, mut inj_drained_seen) = (0u64, 0u64);
    loop {
        std::thread::sleep(TICK);
        let now = now_ns();
        for slot in proc::threads() {
            let e = seen.entry(slot as *const ThreadSlot as usize).or_default();
            let p = slot.progress.load(Ordering::Relaxed);
            if p != e.progress || e.changed_at == 0 {
                e.progress = p;
                e.changed_at = now;
                e.cpu_at_change = 0;
                e.asleep_since = 0;
            } else if e.cpu_at_change == 0 && now - e.changed_at >= POKE_AFTER_NS {
                // Quiet for a while: from now on, is it on the CPU? (Read only then: a
                // thread's CPU clock costs a system call.)
                e.cpu_at_change = thread_cpu_ns(slot).max(1);
            }
        }
        let stale_of = |seen: &HashMap<usize, Seen>, slot: *const ThreadSlot| {
            seen.get(&(slot as usize))
                .map_or(0, |e| now.saturating_sub(e.changed_at))
        };

        // Workers.
        for (j, w) in s.workers.iter().enumerate() {
            let alive_at = w.alive_at.load(Ordering::Acquire);
            if alive_at == 0 {
                // Its thread has not started yet (slow on a busy machine): the dispatcher
                // is first on the worker's own queue, so nothing can be stuck there.
                continue;
            }
            let alive_age = now.saturating_sub(alive_at);
            let poked_at = w.poked_at.load(Ordering::Acquire);
            let slot = w.thread.load(Ordering::Relaxed).cast_const();
            let stale = if slot.is_null() {
                alive_age
            } else {
                stale_of(&seen, slot)
            };
            // A worker whose thread passes scheduling points is alive: poke only a quiet
            // one (an idle worker, or a stuck one), so a busy server is never poked.
            if alive_age >= POKE_AFTER_NS && stale >= POKE_AFTER_NS && poked_at == 0 {
                s.poke(j);
            }
            let unanswered = poked_at != 0 && now.saturating_sub(poked_at) >= spin_ns / 2;
            let was = w.stuck.load(Ordering::Acquire);
            let mut how = Holds::Running;
            let stuck = alive_age >= spin_ns
                && stale >= spin_ns
                && unanswered
                && (was || {
                    // SAFETY: slots are leaked, so a non-null pointer stays valid.
                    match (!slot.is_null()).then(|| unsafe { &*slot }) {
                        None => true,
                        Some(t) => match holds(t, seen.get_mut(&(slot as usize)), now) {
                            Some(h) => {
                                how = h;
                                true
                            }
                            None => false,
                        },
                    }
                });
            if stuck && !was {
                w.stuck.store(true, Ordering::Release);
                SPINNING.fetch_add(1, Ordering::AcqRel);
                REPORTS.fetch_add(1, Ordering::AcqRel);
                let moved = crate::runtime::netpoll::rescue(j);
                // SAFETY: slots are leaked, so a non-null pointer stays valid.
                let site = if slot.is_null() {
                    std::ptr::null()
                } else {
                    site_of(unsafe { &*slot })
                };
                let what = match how {
                    Holds::Running => "has run",
                    Holds::Blocked => "has been in a blocking system call for",
                };
                log::warn!(
                    "gonet: {} {what} {} without parking on worker {j}; its {moved} sockets and queued coroutines are served elsewhere until it parks",
                    site_text(site),
                    ms(stale.min(alive_age)),
                );
                if let Some(e) = (!slot.is_null())
                    .then(|| seen.get_mut(&(slot as usize)))
                    .flatten()
                {
                    e.spinning = true;
                    e.since = now;
                }
                // The rescue thread serves the moved sockets (and, with no worker left,
                // runs coroutines itself).
                if s.rescue_threads.load(Ordering::Acquire) == 0 {
                    need_rescue_thread();
                }
                // Work may be waiting on this worker's poke: give it to another.
                s.wake_one();
            } else if was && alive_age < spin_ns {
                w.stuck.store(false, Ordering::Release);
                SPINNING.fetch_sub(1, Ordering::AcqRel);
                crate::runtime::netpoll::unrescue(j);
                let back = (!slot.is_null())
                    .then(|| seen.get_mut(&(slot as usize)))
                    .flatten()
                    .map(|e| {
                        e.spinning = false;
                        now.saturating_sub(e.since)
                    })
                    .unwrap_or(0);
                log::info!(
                    "gonet: worker {j} is back (stuck about {})",
                    ms(back + spin_ns)
                );
            }
            if was {
                if let Some(limit) = settings().spin_abort {
                    if stale.min(alive_age) >= limit.as_nanos() as u64 {
                        abort_report(s, &seen, now, limit);
                    }
                }
            }
        }

        // Rescue threads.
        let mut rescue_total = 0;
        let mut rescue_stuck = 0;
        for slot in proc::threads()
            .into_iter()
            .filter(|t| t.role == Role::Rescue)
        {
            rescue_total += 1;
            let stale = stale_of(&seen, slot);
            let busy = slot.busy.load(Ordering::Acquire);
            let key = slot as *const ThreadSlot as usize;
            let Some(e) = seen.get_mut(&key) else {
                continue;
            };
            // As for a worker: quiet is not stuck unless the thread had the CPU (or sleeps
            // in a system call) meanwhile. Rescue threads compete for the cores with the
            // spinning workers, so merely waiting for a core for 10 ms is common here.
            let how = if !busy || stale < spin_ns {
                None
            } else if e.spinning {
                Some(Holds::Running)
            } else {
                holds(slot, Some(e), now)
            };
            if let Some(how) = how {
                rescue_stuck += 1;
                if !e.spinning {
                    e.spinning = true;
                    e.since = now;
                    SPINNING.fetch_add(1, Ordering::AcqRel);
                    REPORTS.fetch_add(1, Ordering::AcqRel);
                    let what = match how {
                        Holds::Running => "has run",
                        Holds::Blocked => "has been in a blocking system call for",
                    };
                    log::warn!(
                        "gonet: {} {what} {} without parking on rescue thread {}",
                        site_text(site_of(slot)),
                        ms(stale),
                        slot.index
                    );
                }
                if let Some(limit) = settings().spin_abort {
                    if stale >= limit.as_nanos() as u64 {
                        abort_report(s, &seen, now, limit);
                    }
                }
            } else if e.spinning {
                e.spinning = false;
                SPINNING.fetch_sub(1, Ordering::AcqRel);
            }
        }
        // Every rescue thread stuck while a worker is stuck too: that worker's sockets
        // (and, with no worker left, everything) have nobody; one more thread takes
        // them, as Go starts an M for a P whose M is blocked. Not only when no worker
        // is healthy: the healthy ones never poll the rescued sockets.
        let any_stuck = s.workers.iter().any(|w| w.stuck.load(Ordering::Acquire));
        if any_stuck
            && rescue_stuck == rescue_total
            && rescue_total < MAX_RESCUE_THREADS
            && s.rescue_threads.load(Ordering::Acquire) <= rescue_total
        {
            proc::start_rescue_thread();
        }
        // Injected work: how long it has waited, as seen from here (queued, and no
        // drain since sysmon first saw it queued).
        let (queued, drained_at) = proc::injector_state();
        if !queued {
            inj_waiting_since = 0;
        } else if inj_waiting_since == 0 || drained_at != inj_drained_seen {
            inj_waiting_since = now;
        }
        inj_drained_seen = drained_at;
        let waited = if inj_waiting_since == 0 {
            0
        } else {
            now - inj_waiting_since
        };
        if waited >= STARVE_NS {
            s.wake_one();
        }
        // Poked workers that do not drain (their dispatcher taken by a stuck thread):
        // the rescue threads take the work.
        if waited >= spin_ns {
            proc::set_injector_starving();
            s.poke_rescue();
        }
    }
}

/// How a thread that passed no scheduling point for a while holds its worker.
#[derive(Clone, Copy)]
enum Holds {
    /// On the CPU: a coroutine that computes without parking.
    Running,
    /// Asleep in the kernel (not in the worker's epoll_wait, which a poke would end): a
    /// blocking call made on the worker.
    Blocked,
}

/// Whether `t`, with no scheduling point since `seen.changed_at`, really holds its
/// worker: it used half of [`SPIN_AFTER`] on the CPU meanwhile (however long the machine
/// took to give it that), or it has slept in one system call (not its poller's) for
/// [`SPIN_AFTER`]. `None` when it merely did not get the CPU (a machine busy with other
/// work), or slept only a moment (a lock another thread held while it lost its core).
fn holds(t: &ThreadSlot, seen: Option<&mut Seen>, now: u64) -> Option<Holds> {
    let Some(e) = seen else {
        return Some(Holds::Running);
    };
    if e.cpu_at_change == 0 {
        return None;
    }
    let cpu = thread_cpu_ns(t).saturating_sub(e.cpu_at_change);
    if cpu >= SPIN_AFTER.as_nanos() as u64 / 2 {
        return Some(Holds::Running);
    }
    let asleep_in = match thread_state(t.tid) {
        Some(b'S' | b'D') => syscall_nr(t.tid).filter(|&nr| !is_poller(nr)),
        _ => None,
    };
    match asleep_in {
        Some(nr) if e.asleep_since != 0 && e.asleep_in == nr => {
            (now - e.asleep_since >= SPIN_AFTER.as_nanos() as u64).then_some(Holds::Blocked)
        }
        Some(nr) => {
            e.asleep_since = now;
            e.asleep_in = nr;
            None
        }
        None => {
            e.asleep_since = 0;
            None
        }
    }
}

/// The system call thread `tid` is in, from /proc/self/task/TID/syscall, whose first
/// field is its number (`None`: running in user space, or unknown).
fn syscall_nr(tid: i32) -> Option<i64> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Whether system call `nr` is a worker waiting for work (epoll_wait).
fn is_poller(nr: i64) -> bool {
    nr == libc::SYS_epoll_wait || nr == libc::SYS_epoll_pwait || nr == 441 // epoll_pwait2
}

/// The CPU time thread `t` has used, in nanoseconds (0 if unknown).
fn thread_cpu_ns(t: &ThreadSlot) -> u64 {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: the pthread_t is of a live thread (scheduler threads never exit); clock is
    // a valid out-pointer.
    if unsafe { libc::pthread_getcpuclockid(t.pthread, &mut clock) } != 0 {
        return 0;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

/// The state letter of thread `tid` in /proc (R running, S sleeping, D disk wait...).
fn thread_state(tid: i32) -> Option<u8> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // After the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.bytes().next()
}

/// `GONETDEBUG=spinabort`: every scheduler thread's state, the stuck threads' stacks, then
/// abort(3).
fn abort_report(s: &proc::Sched, seen: &HashMap<usize, Seen>, now: u64, limit: Duration) -> ! {
    let mut out = format!(
        "gonet: fatal: a coroutine ran {} without parking (GONETDEBUG=spinabort={limit:?})\n",
        ms(limit.as_nanos() as u64)
    );
    for slot in proc::threads() {
        let stale = seen
            .get(&(slot as *const ThreadSlot as usize))
            .map_or(0, |e| now.saturating_sub(e.changed_at));
        let name = match slot.role {
            Role::Worker => {
                let j = s.workers.iter().position(|w| {
                    std::ptr::eq(w.thread.load(Ordering::Relaxed).cast_const(), slot)
                });
                match j {
                    Some(j) => format!("worker {j}"),
                    None => format!("worker thread {}", slot.index),
                }
            }
            Role::Rescue => format!("rescue thread {}", slot.index),
        };
        let stuck = stale >= SPIN_AFTER.as_nanos() as u64
            && (slot.role == Role::Worker || slot.busy.load(Ordering::Acquire));
        if stuck {
            out.push_str(&format!(
                "\n{name} (thread {}) [running {} without parking: {}]:\n",
                slot.tid,
                ms(stale),
                site_text(site_of(slot))
            ));
            match crate::runtime::traceback::capture(slot, Duration::from_secs(1)) {
                Some(stack) => out.push_str(&stack),
                None => out.push_str("    (no stack: the thread did not answer the signal)\n"),
            }
        } else {
            out.push_str(&format!("\n{name} (thread {}) [ok]\n", slot.tid));
        }
    }
    let _ = std::io::stderr().write_all(out.as_bytes());
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gonetdebug_reads_like_godebug() {
        let s = parse_gonetdebug("");
        assert!(s.sysmon && s.spin_abort.is_none());
        let s = parse_gonetdebug("http2debug=1, spinabort=1.5s ,sysmon=1");
        assert!(s.sysmon);
        assert_eq!(s.spin_abort, Some(Duration::from_millis(1500)));
        let s = parse_gonetdebug("sysmon=0,spinabort=bogus");
        assert!(!s.sysmon && s.spin_abort.is_none());
        assert!(parse_gonetdebug("spinabort=0").spin_abort.is_none());
    }
}
