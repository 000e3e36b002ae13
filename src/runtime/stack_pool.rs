//! may's pool of ready coroutines, as gonet's spawn sees it: the part of
//! [`super::stack`] that counts the stacks a spawn can reuse.
//!
//! Go: `runtime/proc.go` `gfget`/`gfput` (a dead G keeps its stack for the next `go`).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Finished coroutines may's pool probably holds (a stack to reuse): counted up when a
/// gonet coroutine ends, down at every gonet spawn. An estimate (may's own spawns move the
/// pool too); when it is 0 the next spawn probably maps a new stack.
pub(super) static POOL_ESTIMATE: AtomicUsize = AtomicUsize::new(0);

/// Called once before may's scheduler starts, which fills its pool with
/// `get_pool_capacity()` ready coroutines (stacks mapped off the accept path: an
/// 8,000-dial burst takes its first thousand stacks from there).
///
/// Measured: starting with an empty pool instead (capacity 1 while the scheduler
/// starts, then back) saved 2,000 mappings at start and a guard conversion in each of the
/// first thousand spawns, but every connection of the burst then mapped its stack on the
/// accept path, and the burst overflowed the listen queue in every round
/// (bench/PROFILE.md section 10).
pub(super) fn init_pool_estimate() {
    POOL_ESTIMATE.store(may::config().get_pool_capacity(), Ordering::Relaxed);
}

/// Counts a spawn out of may's pool; whether the pool probably had a stack for it.
pub(super) fn take_pooled() -> bool {
    POOL_ESTIMATE
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}
