//! Scheduler settings, coroutine stacks and process limits: the parts of Go's `runtime`
//! (and `runtime/debug`) a server needs, mapped onto may's configuration.
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
//! gonet::runtime::set_stack_size(512 * 1024);
//! let h = gonet::go!(|| "running");
//! assert_eq!(h.join().unwrap(), "running");
//! ```
//!
//! # Blocking calls and coroutines that never park
//! [`blocking`] runs a call that blocks its thread (a C library, a std lock held long, a
//! slow computation) on a pool of OS threads, parking only the calling coroutine;
//! `gonet::os` and name lookups use it. A coroutine that runs [`SPIN_AFTER`] (10 ms)
//! without parking keeps its worker, since may cannot preempt it; gonet's sysmon thread
//! then logs it once (its `go!` site, the worker), counts it ([`num_spinning`],
//! [`spin_reports`]) and serves that worker's sockets, queued coroutines and new spawns
//! elsewhere until it parks. `GONETDEBUG=spinabort=5s` aborts the process, with a stack
//! report, once one has run 5 s without parking.
//!
//! ```
//! let h = gonet::go!(|| gonet::runtime::blocking(|| std::thread::sleep(std::time::Duration::from_millis(5))));
//! h.join().unwrap();
//! assert_eq!(gonet::runtime::num_spinning(), 0);
//! ```
//!
//! # What a coroutine costs
//! A goroutine starts on a 2 KiB stack that grows by copying, up to 1 GB. A may coroutine
//! stack cannot move, so gonet gives each one a big fixed stack, [`DEFAULT_STACK_SIZE`]
//! (256 KiB), of which only the touched pages take memory: a literal port of Go code that
//! recurses a few thousand frames deep or keeps a `var buf [65536]byte` runs, while a
//! parked coroutine costs one resident page (4 KiB) plus about 0.5 KiB of may's and
//! gonet's bookkeeping and 0.5 KiB of page tables (measured with 1,000,000 coroutines:
//! tests/goroutines.rs, bench/PROFILE.md). Below every stack lies a guard page: a
//! coroutine that runs off its end gets Go's `fatal error: stack overflow` (exit status
//! 2), never a silent corruption.
//!
//! On Linux 6.13 and later the guard is a page-table marker ([`StackGuard::Lightweight`],
//! see [`stack_guard`]), so stacks share kernel memory mappings and a process holds a
//! million coroutines on default settings. Older kernels keep a `PROT_NONE` page per stack
//! ([`StackGuard::Mprotect`]): two mappings per coroutine, and Linux caps a process at
//! `vm.max_map_count` mappings (65530 by default, about 32,000 coroutines); raise the
//! sysctl there (see [`max_map_count`]). `GONETDEBUG=stackguard=mprotect` keeps the
//! mprotect guards on any kernel, to see how a program runs on an older one. A spawn that cannot get a stack is a fatal error
//! in `go!`, as in Go, and an error from [`try_go`] (which `gonet::Server` uses: it closes
//! the connection and goes on).

mod stack;
mod stack_exit;
mod stack_guard;
mod stack_locate;
mod stack_overflow;
mod stack_pool;
mod stack_spawn;
#[doc(hidden)]
pub use self::stack::{__current_stack, __stack_stats, StackStats};
pub use self::stack::{SpawnError, StackGuard, stack_guard};

/// The stack size of a coroutine unless [`set_stack_size`] says otherwise: 256 KiB.
///
/// Virtual space is cheap once a stack costs no mapping of its own, and untouched pages
/// cost nothing, so the default is sized for literal ports of Go code (deep recursion, a
/// `var buf [65536]byte` in a handler) rather than for memory: a parked coroutine still
/// holds one 4 KiB page. What it does cost is address space (256 GiB for a million
/// coroutines, a concern only under `ulimit -v`) and page tables (about 0.5 KiB per
/// coroutine, since each stack's top page has a page-table page shared with seven other
/// stacks). bench/PROFILE.md has the measurements behind the choice.
///
/// ```
/// assert_eq!(gonet::runtime::DEFAULT_STACK_SIZE, 256 * 1024);
/// ```
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// Starts `f` in a new coroutine, as [`go!`](crate::go) does, but returns an error instead
/// of ending the process when no stack can be allocated for it.
///
/// Go: no equivalent (`go f()` cannot fail; the runtime dies with "fatal error: out of
/// memory"). For accept loops that would rather refuse one connection: `gonet::Server`
/// does exactly that with it. The error (kind `OutOfMemory`) names the limit that was hit
/// and how to raise it.
///
/// ```
/// let h = gonet::runtime::try_go(|| 6 * 7).expect("a stack");
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[track_caller]
pub fn try_go<F, T>(f: F) -> std::io::Result<may::coroutine::JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    stack::spawn(std::panic::Location::caller(), f).map_err(std::io::Error::from)
}

/// The body of `go!`: a spawn that cannot get a stack ends the process with Go's
/// "fatal error: out of memory" and the limit that was hit. Where the coroutine is queued
/// (never behind a stuck worker): runtime/proc.rs.
#[track_caller]
pub(crate) fn go<F, T>(f: F) -> may::coroutine::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match stack::spawn(std::panic::Location::caller(), f) {
        Ok(handle) => handle,
        Err(e) => e.fatal(),
    }
}

/// Runs `f` as the program's main goroutine and returns what it returns; a panic in it
/// goes on in the caller. Call it from `fn main`, with the body of Go's `main` inside.
///
/// Go: `runtime.main`, which runs `main.main` on a goroutine. Rust's `main` is a plain
/// thread: its `go!` statements hand each new coroutine to a worker thread through
/// gonet's injector (a system call and a wake-up per spawn) and its channel waits block
/// the thread. From a coroutine, a `go!` queues the new coroutine on the spawning worker's
/// own run queue, as Go's `newproc` does, so a port whose `main` spawns in a loop runs
/// the way its Go original does. As in Go, returning ends the process even while other
/// coroutines still run (Rust's `main` returns right after).
///
/// ```
/// fn main() {
///     let n = gonet::runtime::main(|| {
///         let (tx, rx) = gonet::chan::<i32>(0);
///         gonet::go!(move || tx.send(42).unwrap());
///         rx.recv().unwrap()
///     });
///     assert_eq!(n, 42);
/// }
/// ```
// The example shows where the call goes: in `fn main`.
#[allow(clippy::needless_doctest_main)]
#[track_caller]
pub fn main<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match go(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

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
        // may's own default (0x1000 words, 32 KiB) unless someone set another already.
        if config.get_stack_size() == 0x1000 {
            config.set_stack_size(DEFAULT_STACK_SIZE / std::mem::size_of::<usize>());
        }
        stack::init_pool();
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
/// (no I/O, channel, lock or sleep) keeps its worker until it calls this (gonet's sysmon
/// reports it after 10 ms and moves the worker's other work elsewhere meanwhile: see
/// [`num_spinning`]).
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
    proc::gosched();
}

// ---------------------------------------------------------------------------------------
// Coroutine stacks (Go: runtime/debug.SetMaxStack, loosely)
// ---------------------------------------------------------------------------------------

/// Sets the stack size, in **bytes**, of coroutines spawned from now on, and returns the
/// previous size in bytes; `0` changes nothing and just reports it. The default is
/// [`DEFAULT_STACK_SIZE`] (256 KiB).
///
/// Go: no direct equivalent (goroutine stacks grow on demand up to 1 GB;
/// `debug.SetMaxStack` sets that cap). may's stacks are fixed, so this is the most any
/// coroutine may use; one that needs more dies with Go's `fatal error: stack overflow`.
///
/// may counts stacks in machine words; this converts, rounding up to whole pages (which
/// also keeps the word count even: may prints every coroutine's stack usage to stdout when
/// it is odd). Only touched pages cost memory, so a bigger stack costs address space and
/// page tables, not RAM (see the [module docs](self)).
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
        let page = stack::page_size();
        let rounded = bytes.div_ceil(page).saturating_mul(page);
        config.set_stack_size(rounded / word);
    }
    previous
}

// ---------------------------------------------------------------------------------------
// Process limits (RLIMIT_NOFILE, vm.max_map_count): see the module docs for why they
// matter to a coroutine server.
// ---------------------------------------------------------------------------------------
//
// How many connections fit (issue 6). A gonet server spends, per connection, one
// descriptor (two while a read and a write are parked at once) and one coroutine. The fd
// limit is raised to the hard limit on the first listen or dial. With lightweight guards
// (Linux 6.13+) coroutine stacks share mappings and memory is the limit; with mprotect
// guards (older kernels) every stack is two memory mappings and the limit is the sysctl
// `vm.max_map_count` (65530 by default, about 32,700 coroutines), which only root can
// raise, for the whole machine:
//
//     sysctl -w vm.max_map_count=262144                                   # until reboot
//     echo vm.max_map_count=262144 > /etc/sysctl.d/90-gonet.conf         # for good
//
// Past a limit a new stack cannot be mapped: `go!` ends the process with Go's "fatal
// error: out of memory" and the limit's name, `try_go` returns that as an error, and
// `gonet::Server` closes the new connection and goes on.

/// Memory mappings each coroutine costs with [`StackGuard::Mprotect`] guards: its stack
/// and the guard page below it. With [`StackGuard::Lightweight`] guards a stack costs no
/// mapping of its own: see [`maps_per_coroutine`].
///
/// ```
/// assert_eq!(gonet::runtime::MAPS_PER_COROUTINE, 2);
/// ```
pub const MAPS_PER_COROUTINE: usize = 2;

/// Memory mappings each coroutine costs here, on average: 0 with lightweight guards
/// (stacks share mappings; a new stack needs two for a moment, until it starts), 2 with
/// mprotect guards.
///
/// Go: no equivalent (goroutine stacks live in Go's heap).
///
/// ```
/// let n = gonet::runtime::maps_per_coroutine();
/// assert!(n == 0 || n == 2);
/// ```
pub fn maps_per_coroutine() -> usize {
    match stack_guard() {
        StackGuard::Lightweight => 0,
        _ => MAPS_PER_COROUTINE,
    }
}

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

/// The memory mappings this process has now (the lines of `/proc/self/maps`). With
/// mprotect guards each live or pooled coroutine accounts for [`MAPS_PER_COROUTINE`] of
/// them; with lightweight guards neighbouring stacks share one (a million parked
/// coroutines measured about 105 mappings in all).
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

/// How many more coroutines can be spawned before a stack cannot be mapped, an estimate:
/// the smallest of what each limit leaves room for.
///
/// - **Mappings**: with mprotect guards, (`max_map_count` - mappings in use) /
///   [`MAPS_PER_COROUTINE`] (measured: 31,734 estimated at start, 32,734 spawned with the
///   default 65530, may's pool of reusable stacks making up the difference). With
///   lightweight guards a stack needs no mapping once it runs, so mappings only bound the
///   count when the table is full: 0 then (a new stack needs two mappings for a moment).
/// - **Memory**: `MemAvailable` / 5.5 KiB (a parked coroutine's stack page, its
///   bookkeeping and its share of page tables).
/// - **Address space**, under `ulimit -v` (`RLIMIT_AS`): the space left / the mapped size
///   of one stack ([`set_stack_size`] plus two pages).
///
/// Go: no equivalent; goroutines are bounded by memory alone.
///
/// ```
/// let n = gonet::runtime::coroutine_capacity().unwrap();
/// assert!(n > 100);
/// ```
pub fn coroutine_capacity() -> Option<usize> {
    coroutine_room().map(|(n, _)| n)
}

/// The limit that bounds [`coroutine_capacity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoomLimit {
    /// `vm.max_map_count`: with mprotect guards every stack is two mappings; with
    /// lightweight guards the table is full.
    MapCount { lightweight: bool },
    /// `MemAvailable`.
    Memory,
    /// `RLIMIT_AS` (`ulimit -v`).
    AddressSpace,
}

/// [`coroutine_capacity`] and the limit that bounds it.
pub(crate) fn coroutine_room() -> Option<(usize, RoomLimit)> {
    let max = max_map_count()?;
    let used = map_count()?;
    let headroom = max.saturating_sub(used);
    let lightweight = stack_guard() == StackGuard::Lightweight;
    let by_maps = if !lightweight {
        Some(headroom / MAPS_PER_COROUTINE)
    } else if headroom < 2 {
        Some(0)
    } else {
        None
    };
    let page = stack::page_size();
    let by_memory = mem_available().map(|m| m / (page + 1536));
    let by_space = stack::address_space_limit().map(|limit| {
        let used = stack::address_space_used().unwrap_or(limit);
        limit.saturating_sub(used) / (stack::configured_stack_bytes() + 2 * page)
    });
    [
        by_maps.map(|n| (n, RoomLimit::MapCount { lightweight })),
        by_memory.map(|n| (n, RoomLimit::Memory)),
        by_space.map(|n| (n, RoomLimit::AddressSpace)),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|&(n, _)| n)
}

/// `MemAvailable` from /proc/meminfo, in bytes.
fn mem_available() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// How many more connections this process can serve at once, one coroutine each: the
/// smaller of [`coroutine_capacity`] and the descriptors left under [`open_files_limit`].
/// A `gonet::Server` warns once at start when the coroutines are the smaller, naming the
/// limit that binds (the mapping table, memory or `ulimit -v`) and how to raise it.
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

// ---------------------------------------------------------------------------------------
// Blocking calls (Go: entersyscall / exitsyscall): runtime/blocking.rs
// ---------------------------------------------------------------------------------------

mod blocking;
mod coop;
pub(crate) mod park;
pub(crate) use blocking::spawn_detached;
pub use blocking::{
    BLOCKING_IDLE_TIMEOUT, DEFAULT_MAX_BLOCKING_THREADS, blocking, blocking_threads,
    set_max_blocking_threads,
};

// ---------------------------------------------------------------------------------------
// Coroutines that never park (Go: sysmon, preemption): runtime/proc.rs, sysmon.rs,
// netpoll.rs, traceback.rs
// ---------------------------------------------------------------------------------------

pub(crate) mod netpoll;
pub(crate) mod proc;
mod sysmon;
mod traceback;
pub use sysmon::{SPIN_AFTER, TICK as SYSMON_TICK, num_spinning, spin_reports};
