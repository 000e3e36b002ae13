//! Spawning on gonet's stacks: the room checks before a stack is mapped, the error a
//! spawn that cannot get one returns, and may's pool of ready coroutines, whose stacks
//! later spawns reuse (see [`super::stack`]).
//!
//! Go: `runtime/proc.go` `newproc1` and `gfget` (a free G with its stack, else a new
//! stack from `stackalloc`), and the runtime's `fatal error: out of memory`.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::mem::size_of;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use may::coroutine::JoinHandle;

use super::stack::FAILED;
use super::stack_guard::{StackGuard, configured_stack_bytes, page_size, stack_guard};
use super::stack_locate::SCAN_BASE;
use super::stack_overflow::Buf;
use super::stack_pool::take_pooled;

/// Closures bigger than this are boxed, so that the frames between a coroutine's first
/// frame and generator's context (which hold copies of the closure) stay small.
const BOX_ABOVE: usize = 1024;

thread_local! {
    /// Set while this thread is inside may's spawn: a panic there (generator's "failed to
    /// alloc sys stack") is gonet's to report, and the panic hook stays quiet about it.
    static SPAWNING: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the panic hook once, so that a failed stack allocation inside may's spawn is
/// reported by gonet (as an error) and not printed, with a backtrace that cannot be
/// symbolized when the mappings are gone (it deadlocks).
fn quiet_spawn_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        if std::thread::panicking() {
            return;
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if SPAWNING.with(Cell::get) {
                return;
            }
            previous(info)
        }));
    });
}

/// Why a coroutine could not be started: its stack could not be mapped.
///
/// Go: the runtime's `fatal error: out of memory`; `gonet::go!` reports it the same way,
/// [`try_go`](super::try_go) returns it (as an [`io::Error`] of kind `OutOfMemory`).
#[derive(Debug, Clone)]
pub struct SpawnError {
    stack_bytes: usize,
    os: Option<i32>,
    detail: String,
    limit: Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// The process has (nearly) `vm.max_map_count` mappings.
    MapCount { maps: usize, max: usize },
    /// The address space limit (`RLIMIT_AS`, `ulimit -v`) is (nearly) reached.
    AddressSpace { limit: usize, used: usize },
    /// Neither: the kernel refused the memory (`vm.overcommit_memory`, cgroup limits).
    Memory,
}

impl SpawnError {
    fn new(os: Option<i32>, detail: String) -> SpawnError {
        let stack_bytes = configured_stack_bytes();
        SpawnError {
            stack_bytes,
            os,
            detail,
            limit: diagnose(stack_bytes),
        }
    }

    /// Reports the error as Go's runtime does when it runs out of memory and exits with
    /// status 2. Writes without allocating.
    pub(crate) fn fatal(&self) -> ! {
        let mut buf = Buf::new();
        let _ = fmt::write(
            &mut buf,
            format_args!("runtime: {self}\nfatal error: out of memory\n"),
        );
        buf.write_stderr();
        // SAFETY: _exit ends the process at once; nothing is left half-done that exit's
        // handlers could finish (Go's fatal errors do not run them either).
        unsafe { libc::_exit(2) }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot allocate a {}-byte coroutine stack: {}",
            self.stack_bytes, self.detail
        )?;
        match self.limit {
            Limit::MapCount { maps, max } => write!(
                f,
                "; the process has {maps} memory mappings and vm.max_map_count is {max} (raise it: sysctl -w vm.max_map_count={}; {})",
                (max.max(65530) * 4).next_power_of_two(),
                match stack_guard() {
                    StackGuard::Lightweight =>
                        "coroutine stacks share mappings here, but a new one needs two until it starts",
                    StackGuard::Mprotect =>
                        "each coroutine stack is two mappings on this kernel: Linux 6.13+ has lightweight guard pages, which need none",
                }
            ),
            Limit::AddressSpace { limit, used } => write!(
                f,
                "; the address space limit (RLIMIT_AS, ulimit -v) is {limit} bytes and {used} are in use (raise it, or lower the stack size with gonet::runtime::set_stack_size)"
            ),
            Limit::Memory => f.write_str(
                "; the kernel refused the memory (see vm.overcommit_memory and the cgroup's memory limit)",
            ),
        }
    }
}

impl std::error::Error for SpawnError {}

impl From<SpawnError> for io::Error {
    fn from(e: SpawnError) -> io::Error {
        io::Error::new(io::ErrorKind::OutOfMemory, e)
    }
}

impl SpawnError {
    /// The OS error that failed the stack's mapping, if one did.
    ///
    /// ```
    /// # let _ = |e: gonet::runtime::SpawnError| e.raw_os_error();
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.os
    }
}

/// Which limit a failed stack allocation ran into.
fn diagnose(stack_bytes: usize) -> Limit {
    let map_bytes = stack_bytes + 2 * page_size();
    if let (Some(max), Some(maps)) = (super::max_map_count(), super::map_count()) {
        if maps + 16 >= max {
            return Limit::MapCount { maps, max };
        }
    }
    if let Some(limit) = address_space_limit() {
        let used = address_space_used().unwrap_or(0);
        if used.saturating_add(map_bytes) > limit {
            return Limit::AddressSpace { limit, used };
        }
    }
    Limit::Memory
}

/// The soft `RLIMIT_AS`, if there is one.
pub(super) fn address_space_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    Some(usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX))
}

/// The process's mapped address space (the first field of /proc/self/statm, in pages).
pub(super) fn address_space_used() -> Option<usize> {
    use std::io::Read;
    let mut f = std::fs::File::open("/proc/self/statm").ok()?;
    let mut buf = [0u8; 128];
    let n = f.read(&mut buf).ok()?;
    let pages: usize = std::str::from_utf8(&buf[..n])
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(pages * page_size())
}

/// Spawns that needed a new stack since start, for spacing out the room checks.
static SPAWNS: AtomicUsize = AtomicUsize::new(0);
/// Set when a room check found the process near a limit: every spawn then first maps (and
/// unmaps) a stack of its own, as generator would, so that a failure is an error here and
/// not a panic inside may.
static CAREFUL: AtomicBool = AtomicBool::new(false);
/// How many spawns apart the room checks are.
const CHECK_EVERY: usize = 4096;
/// How many new stacks' worth of room a check wants, to stay out of careful mode.
const ROOM_FOR: usize = 256;

/// Fails if a new stack could not be mapped now; cheap unless the process is near a
/// limit. Called for spawns that map a new stack: a stack from may's pool needs no room
/// (and a check reads /proc/self/maps, thousands of lines).
fn check_room(stack_bytes: usize) -> Result<(), SpawnError> {
    if SPAWNS.fetch_add(1, Ordering::Relaxed) % CHECK_EVERY == 0 {
        CAREFUL.store(near_limit(stack_bytes), Ordering::Relaxed);
    }
    if CAREFUL.load(Ordering::Relaxed) {
        probe_stack(stack_bytes)?;
    }
    Ok(())
}

/// Whether the next `ROOM_FOR` new stacks might not fit. (Between checks a process can
/// use more: then generator's failure is caught, quietly, inside may's spawn.)
pub(super) fn near_limit(stack_bytes: usize) -> bool {
    let map_bytes = stack_bytes + 2 * page_size();
    if let Some(limit) = address_space_limit() {
        let used = address_space_used().unwrap_or(limit);
        if used.saturating_add(ROOM_FOR * map_bytes) >= limit {
            return true;
        }
    }
    // The mapping count is only cheap to read when stacks share mappings; with mprotect
    // guards a near-full table is tens of thousands of lines, and a failure there is
    // still caught (quietly) in may's spawn.
    if stack_guard() == StackGuard::Lightweight {
        if let (Some(max), Some(maps)) = (super::max_map_count(), super::map_count()) {
            // Each new stack needs up to two mappings until it is converted.
            return maps + 2 * ROOM_FOR + 64 >= max;
        }
    }
    false
}

/// Maps, guards and unmaps a stack the way generator's `SysStack::allocate` does.
fn probe_stack(stack_bytes: usize) -> Result<(), SpawnError> {
    let page = page_size();
    let len = stack_bytes + 2 * page;
    // SAFETY: a fresh private anonymous mapping, unmapped before returning.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            return Err(SpawnError::new(e.raw_os_error(), format!("mmap: {e}")));
        }
        let rc = libc::mprotect(p, page, libc::PROT_NONE);
        let e = io::Error::last_os_error();
        libc::munmap(p, len);
        if rc != 0 {
            return Err(SpawnError::new(e.raw_os_error(), format!("mprotect: {e}")));
        }
    }
    Ok(())
}

/// Starts `f` in a new coroutine on gonet's stacks, placed by `proc::spawn`; the body
/// behind `go!`, `try_go` and `gonet::Server`. `site` is the `go!` site.
pub(crate) fn spawn<F, T>(
    site: &'static std::panic::Location<'static>,
    f: F,
) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if size_of::<F>() > BOX_ABOVE {
        // A big closure is copied into several frames above the coroutine's first one:
        // boxed, it stays out of `enter`'s way (and off the stack).
        let f: Box<dyn FnOnce() -> T + Send> = Box::new(f);
        return spawn_small(site, f);
    }
    spawn_small(site, f)
}

/// Runs `spawn` (a call into may's spawn) with a failed stack allocation's panic caught
/// and kept quiet: gonet reports it as a [`SpawnError`].
pub(super) fn quietly<R>(spawn: impl FnOnce() -> R) -> std::thread::Result<R> {
    quiet_spawn_panics();
    SPAWNING.with(|s| s.set(true));
    let spawned = catch_unwind(AssertUnwindSafe(spawn));
    SPAWNING.with(|s| s.set(false));
    spawned
}

fn spawn_small<F, T>(
    site: &'static std::panic::Location<'static>,
    f: F,
) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    super::init();
    if !take_pooled() {
        check_room(configured_stack_bytes())?;
    }
    let spawned = quietly(|| super::proc::spawn(may::coroutine::Builder::new(), site, f));
    let failed = match spawned {
        Ok(Ok((handle, local))) => {
            // After SPAWNING is reset: this may park, and resume on another thread.
            if local {
                super::proc::after_local_spawn();
            }
            return Ok(handle);
        }
        Ok(Err(e)) => SpawnError::new(e.raw_os_error(), e.to_string()),
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "may's spawn panicked".to_string());
            // generator: "failed to alloc sys stack: IoError(Os { code: 12, .. })".
            let os = text
                .split_once("code: ")
                .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            let detail = match os {
                Some(code) => format!("mmap: {}", io::Error::from_raw_os_error(code)),
                None => text,
            };
            SpawnError::new(os, detail)
        }
    };
    FAILED.fetch_add(1, Ordering::Relaxed);
    // Near a limit from now on: check before every spawn until a room check says
    // otherwise.
    CAREFUL.store(true, Ordering::Relaxed);
    Err(failed)
}

/// How far above `enter`'s frame generator's context may be, for a coroutine running an
/// `F` that returns a `T`: copies of the closure and of its result sit in the frames
/// between (generator's functor, may's closure, proc's closure).
pub(crate) fn scan_hint<F, T>() -> usize {
    3 * size_of::<F>() + 2 * size_of::<T>() + SCAN_BASE
}
