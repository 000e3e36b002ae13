//! Scheduler settings and process limits: the parts of Go's `runtime` (and `runtime/debug`)
//! a server needs, mapped onto may's configuration.
//!
//! # When to call what
//! may reads its configuration **once**, when its scheduler starts: at the first coroutine
//! spawn (`go!`), the first coroutine sleep, timer or channel park inside a coroutine, or
//! the first socket registered with its netpoller (any gonet listen/dial). So
//! [`set_max_procs`] and [`set_stack_size`] belong at the top of `main`, before anything
//! else touches gonet or may; later calls are accepted but change nothing that runs (the
//! value they report is then the requested one, not the running one). [`num_cpu`] and
//! [`gosched`] can be called at any time.
//!
//! ```
//! // First thing in main(), before any go!, channel wait, timer or socket:
//! gonet::runtime::set_max_procs(gonet::runtime::num_cpu());
//! gonet::runtime::set_stack_size(64 * 1024);
//! let h = gonet::go!(|| "running");
//! assert_eq!(h.join().unwrap(), "running");
//! ```
//!
//! # What a coroutine costs
//! Unlike a goroutine's (2 KiB, growing by copying), a may coroutine stack is fixed at
//! spawn. Each one is its own `mmap` of the stack size rounded up to whole pages, plus one
//! `PROT_NONE` guard page below it; running off the end hits the guard page and aborts the
//! process with "coroutine has overflowed its stack". Only the pages a coroutine touches
//! take RAM (a coroutine that stays shallow costs a few pages of its 32 KiB), but every stack
//! is two kernel memory mappings (the stack and its guard), and Linux allows
//! `vm.max_map_count` (65530 by default) mappings per process: about 32,000 live
//! coroutines, fewer with the program's own mappings. may also keeps a pool of 1,000
//! ready-made coroutines (stacks included) from the moment its scheduler starts.

// ---------------------------------------------------------------------------------------
// Scheduler: worker threads (Go: GOMAXPROCS, NumCPU, Gosched)
// ---------------------------------------------------------------------------------------

/// The most worker threads gonet starts. Each may worker owns an epoll instance and an
/// eventfd, so a mistyped `GOMAXPROCS=100000` would otherwise exhaust descriptors (and
/// abort may's start) instead of running slowly.
pub const MAX_PROCS: usize = 1024;

/// Applies gonet's scheduler defaults to may's configuration, once, before may's
/// scheduler can start: every gonet path that can start it (`go!`, every gonet socket,
/// the setters in this module) calls this first.
///
/// - `GOMAXPROCS` from the environment sets the worker count, as Go's runtime reads it
///   at start: a positive decimal integer; anything else is ignored with a warning.
/// - Workers float between cores, as Go's threads do. may pins worker *i* to core *i*
///   by default; on a machine with other busy processes (a load generator, a database,
///   other services) a pinned worker cannot move off a busy core and its connections
///   wait for it while another core idles. Measured with bench/profile.sh, 5,000
///   connections of echo on 2 cores shared with the client: 59,596 round trips/s pinned,
///   97,036 floating (bench/PROFILE.md).
pub(crate) fn init() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let config = may::config();
        config.set_worker_pin(false);
        let value = std::env::var_os("GOMAXPROCS").unwrap_or_default();
        if value.is_empty() {
            return;
        }
        match parse_gomaxprocs(&value.to_string_lossy()) {
            Some(n) => {
                if n > MAX_PROCS {
                    log::warn!("GOMAXPROCS={n} is more than gonet runs; using {MAX_PROCS} workers");
                }
                config.set_workers(n.min(MAX_PROCS));
            }
            None => log::warn!(
                "GOMAXPROCS={:?} is not a positive integer; using {} workers",
                value,
                config.get_workers()
            ),
        }
    });
}

/// Go's reading of `GOMAXPROCS` (runtime/proc.go `schedinit`, runtime/string.go
/// `atoi32`): decimal digits only, a value that fits an int32, more than zero.
fn parse_gomaxprocs(s: &str) -> Option<usize> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i32 = s.parse().ok()?;
    usize::try_from(n).ok().filter(|&n| n > 0)
}

/// Sets the number of may worker threads that run coroutines and returns the previous
/// setting; `0` changes nothing and just reports it. The default is the `GOMAXPROCS`
/// environment variable if it holds a positive integer, else the number of CPUs; at most
/// [`MAX_PROCS`].
///
/// Go: `runtime.GOMAXPROCS(n)`.
///
/// Must be called before may's scheduler starts (see the [module docs](self)): may sizes
/// its worker pool once. Each worker is an OS thread with its own run queue and epoll
/// instance; a socket belongs to one worker's epoll, and idle workers steal queued
/// coroutines from busy ones. Workers are not pinned to cores (see
/// [`set_pin_workers`]). A worker that blocks its thread (a std lock,
/// `std::thread::sleep`, a blocking syscall) stalls the coroutines queued on it; idle
/// workers steal some of that work, but more workers is no substitute for parking
/// properly.
///
/// ```
/// let before = gonet::runtime::set_max_procs(0); // query only
/// assert!(before >= 1);
/// assert_eq!(gonet::runtime::set_max_procs(before), before);
/// ```
pub fn set_max_procs(n: usize) -> usize {
    init();
    let config = may::config();
    let previous = config.get_workers();
    if n > 0 {
        config.set_workers(n.min(MAX_PROCS));
    }
    previous
}

/// Sets whether may's worker threads are pinned, worker *i* to CPU core *i*, and returns
/// the previous setting. gonet's default is `false`: the kernel moves workers between
/// cores as load changes, as it does Go's threads. Pinning can help on a machine given
/// over to one server, with nothing else runnable (a burst of thousands of connects was
/// steadier pinned in bench/PROFILE.md); elsewhere it leaves a worker stuck behind
/// whatever else runs on its core (the same page: echo at 5,000 connections served 1.6x
/// the round trips unpinned). Like [`set_max_procs`], it must be called before may's
/// scheduler starts.
///
/// Go: none; Go never pins its threads (`taskset` or cgroups confine the whole process).
///
/// ```
/// let was = gonet::runtime::set_pin_workers(false);
/// assert!(!was); // gonet's default
/// ```
pub fn set_pin_workers(pin: bool) -> bool {
    init();
    let config = may::config();
    let previous = config.get_worker_pin();
    config.set_worker_pin(pin);
    previous
}

/// The number of CPUs the process may run on (its affinity mask, and a cgroup CPU quota
/// if one is set), at least 1.
///
/// Go: `runtime.NumCPU()` (which counts the affinity mask only).
///
/// ```
/// assert!(gonet::runtime::num_cpu() >= 1);
/// ```
pub fn num_cpu() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Yields the processor: the calling coroutine goes to the back of its worker's run queue
/// and others run first. From a plain thread, yields the thread to the OS.
///
/// Go: `runtime.Gosched()`. may does not preempt: a coroutine that loops without parking
/// (no I/O, channel, lock or sleep) keeps its worker until it calls this.
///
/// ```
/// let h = gonet::go!(|| {
///     let mut n = 0;
///     for _ in 0..3 {
///         n += 1;
///         gonet::runtime::gosched(); // let others run between steps
///     }
///     n
/// });
/// assert_eq!(h.join().unwrap(), 3);
/// ```
pub fn gosched() {
    may::coroutine::yield_now();
}

// ---------------------------------------------------------------------------------------
// Coroutine stacks (Go: runtime/debug.SetMaxStack, loosely)
// ---------------------------------------------------------------------------------------

/// Sets the stack size, in **bytes**, of coroutines spawned from now on, and returns the
/// previous size in bytes; `0` changes nothing and just reports it. The default is
/// 32 KiB.
///
/// Go: no direct equivalent (goroutine stacks grow on demand; `debug.SetMaxStack` caps
/// them). may's stacks are fixed, so this is the most any coroutine may use.
///
/// may counts stacks in machine words; this converts, rounding up to whole pages (which
/// also keeps the word count even: may prints every coroutine's stack usage to stdout when
/// it is odd). Each coroutine's stack is its own `mmap` plus a guard page, and only touched
/// pages cost RAM; see the [module docs](self) for the mapping limit.
///
/// Must be called before may's scheduler starts: its coroutine pool is filled with stacks
/// of the size set then, and later spawns reuse those pooled stacks.
///
/// ```
/// let before = gonet::runtime::set_stack_size(0); // query only
/// assert!(before >= 4096);
/// ```
pub fn set_stack_size(bytes: usize) -> usize {
    init();
    let word = std::mem::size_of::<usize>();
    let config = may::config();
    let previous = config.get_stack_size().saturating_mul(word);
    if bytes > 0 {
        let page = page_size();
        let rounded = bytes.div_ceil(page).saturating_mul(page);
        config.set_stack_size(rounded / word);
    }
    previous
}

/// The memory page size (4 KiB on most systems).
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

// ---------------------------------------------------------------------------------------
// Process limits (RLIMIT_NOFILE, vm.max_map_count): see the module docs for why they
// matter to a coroutine server.
// ---------------------------------------------------------------------------------------
//
// How many connections fit (issue 6). A gonet server spends, per connection, one
// descriptor (two while a read and a write are parked at once) and one coroutine, whose
// stack is two memory mappings. The fd limit is raised to the hard limit on the first
// listen or dial; the mapping limit is the sysctl `vm.max_map_count` (65530 by default,
// about 32,700 coroutines), which only root can raise, for the whole machine:
//
//     sysctl -w vm.max_map_count=262144                                   # until reboot
//     echo vm.max_map_count=262144 > /etc/sysctl.d/90-gonet.conf         # for good
//
// Past the mapping limit may cannot map a new stack and panics ("failed to alloc sys
// stack"); `gonet::Server` catches that, closes the new connection and goes on.

/// Memory mappings each coroutine costs: its stack and the guard page below it.
///
/// ```
/// assert_eq!(gonet::runtime::MAPS_PER_COROUTINE, 2);
/// ```
pub const MAPS_PER_COROUTINE: usize = 2;

/// The kernel's limit on memory mappings per process (`/proc/sys/vm/max_map_count`), or
/// `None` if it cannot be read.
///
/// Go: no equivalent (goroutine stacks live in Go's own heap, not one mapping each).
///
/// ```
/// if let Some(max) = gonet::runtime::max_map_count() {
///     assert!(max > 0);
/// }
/// ```
pub fn max_map_count() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The memory mappings this process has now (the lines of `/proc/self/maps`): each live
/// or pooled coroutine accounts for [`MAPS_PER_COROUTINE`] of them.
///
/// ```
/// assert!(gonet::runtime::map_count().unwrap() > 0);
/// ```
pub fn map_count() -> Option<usize> {
    use std::io::Read;
    let mut f = std::fs::File::open("/proc/self/maps").ok()?;
    // On the stack: this runs when the mapping budget may be gone, and a heap that has
    // to grow needs a new mapping.
    let mut buf = [0u8; 4096];
    let mut lines = 0;
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Some(lines),
            Ok(n) => lines += buf[..n].iter().filter(|&&b| b == b'\n').count(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// The soft limit on open descriptors (RLIMIT_NOFILE), which gonet raises to the hard
/// limit on the first listen or dial; `usize::MAX` if unlimited.
///
/// Go: `syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)`; `lim.Cur`.
///
/// ```
/// assert!(gonet::runtime::open_files_limit().unwrap() >= 3);
/// ```
pub fn open_files_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    Some(usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX))
}

/// The descriptors this process has open now (the entries of `/proc/self/fd`).
///
/// ```
/// assert!(gonet::runtime::open_files().unwrap() >= 3); // stdin, stdout, stderr
/// ```
pub fn open_files() -> Option<usize> {
    use std::os::fd::AsRawFd;
    // getdents64 into a stack buffer rather than read_dir, whose stream buffer is a heap
    // allocation: this runs when the mapping budget may be gone.
    let dir = std::fs::File::open("/proc/self/fd").ok()?;
    let mut buf = [0u8; 4096];
    let mut entries = 0usize;
    loop {
        // SAFETY: getdents64 writes at most buf.len() bytes of dirent64 records into buf,
        // which stays valid and exclusively ours for the call.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        let n = usize::try_from(n).ok()?; // negative: an error
        if n == 0 {
            break;
        }
        // dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated).
        let mut off = 0;
        while off + 19 < n {
            let reclen = usize::from(u16::from_ne_bytes([buf[off + 16], buf[off + 17]]));
            if buf[off + 19] != b'.' {
                entries += 1;
            }
            if reclen == 0 {
                return None;
            }
            off += reclen;
        }
    }
    // The directory's own descriptor is among the entries while it is read.
    Some(entries.saturating_sub(1))
}

/// How many more coroutines can be spawned before a stack cannot be mapped:
/// (`max_map_count` - mappings in use) / [`MAPS_PER_COROUTINE`]. An estimate: other
/// mappings (thread stacks, large allocations) come and go, and the stacks of finished
/// coroutines that may keeps in its pool (up to 1,000) are reused without a new mapping,
/// so the real ceiling can be that much higher (measured: 31,734 estimated at start, 32,734
/// spawned, with the default `vm.max_map_count` of 65530).
///
/// Go: no equivalent; goroutines are bounded by memory alone.
///
/// ```
/// let n = gonet::runtime::coroutine_capacity().unwrap();
/// assert!(n > 100);
/// ```
pub fn coroutine_capacity() -> Option<usize> {
    let max = max_map_count()?;
    let used = map_count()?;
    Some(max.saturating_sub(used) / MAPS_PER_COROUTINE)
}

/// How many more connections this process can serve at once, one coroutine each: the
/// smaller of [`coroutine_capacity`] and the descriptors left under [`open_files_limit`].
/// A `gonet::Server` warns once at start when the coroutines are the smaller, and says
/// which sysctl to raise (see the comment above this section).
///
/// ```
/// let n = gonet::runtime::connection_capacity().unwrap();
/// assert!(n <= gonet::runtime::coroutine_capacity().unwrap());
/// ```
pub fn connection_capacity() -> Option<usize> {
    let files = open_files_limit()?.saturating_sub(open_files()?);
    Some(coroutine_capacity()?.min(files))
}

#[cfg(test)]
mod open_files_tests {
    #[test]
    fn open_files_counts_what_read_dir_sees() {
        // Extra descriptors make the count move; both counts see the same set.
        let extra: Vec<std::fs::File> = (0..40)
            .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
            .collect();
        let by_read_dir = std::fs::read_dir("/proc/self/fd").unwrap().count() - 1;
        assert_eq!(super::open_files(), Some(by_read_dir));
        drop(extra);
    }
}
