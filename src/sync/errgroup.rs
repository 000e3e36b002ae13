//! golang.org/x/sync/errgroup: a [`sync::WaitGroup`](crate::sync::WaitGroup) for
//! coroutines that can fail, whose first error cancels the others through a
//! [`Context`].
//!
//! `use gonet::sync::errgroup;` mirrors Go's `import "golang.org/x/sync/errgroup"`:
//!
//! ```
//! use gonet::{context, sync::errgroup};
//! use std::io;
//!
//! // g, ctx := errgroup.WithContext(ctx)
//! let (g, ctx) = errgroup::with_context::<io::Error>(&context::background());
//! for i in 0..3 {
//!     let ctx = ctx.clone();
//!     g.go(move || {
//!         if i == 1 {
//!             return Err(io::Error::other("task 1 failed"));
//!         }
//!         ctx.done().recv(); // the others wait until the failure cancels them
//!         Ok(())
//!     });
//! }
//! // if err := g.Wait(); err != nil { ... }
//! assert_eq!(g.wait().unwrap_err().to_string(), "task 1 failed");
//! assert_eq!(context::cause(&ctx).unwrap().to_string(), "task 1 failed");
//! ```
//!
//! # Differences from Go
//! - `Group<E>` is generic over the error type (`io::Error` by default); the first
//!   error is returned by the first [`Group::wait`] (a later `wait` returns `Ok(())`:
//!   Rust errors have one owner). [`context::cause`] of the
//!   group's context carries its text.
//! - A task that panics does not end the process, as it would in Go: it cancels the
//!   group's context like an error, and [`Group::wait`] resumes the panic once every
//!   task has returned (as `std::thread::scope` does).
//! - `Group` is a cheap handle: clone it to call `go` from inside a task.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::chan::{Receiver, Sender, chan};
use crate::context::{self, CancelCauseFunc, Context};
use crate::sync::WaitGroup;

/// A collection of coroutines working on subtasks of one task.
///
/// Go: `errgroup.Group`. [`Group::new()`] is Go's zero `Group`: no limit, and no context
/// to cancel on error; [`with_context`] makes one that cancels.
///
/// ```
/// use gonet::sync::errgroup::Group;
/// let g = Group::<String>::new();
/// for i in 0..4 {
///     g.go(move || if i == 2 { Err(format!("task {i}")) } else { Ok(()) });
/// }
/// assert_eq!(g.wait(), Err("task 2".to_string()));
/// ```
pub struct Group<E = io::Error> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    /// Go: `cancel func(error)`.
    cancel: Option<CancelCauseFunc>,
    wg: WaitGroup,
    /// Go: `sem chan token`: one slot per running task when there is a limit.
    sem: Mutex<Option<Sem>>,
    /// Go: `errOnce` + `err`; and the first panic's payload.
    first: Mutex<First<E>>,
}

#[derive(Clone)]
struct Sem {
    tx: Sender<()>,
    rx: Receiver<()>,
}

struct First<E> {
    err: Option<E>,
    failed: bool,
    panic: Option<Box<dyn Any + Send>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Held for a few assignments only; recover the data if something panicked.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A group, and a child of `ctx` that is cancelled the first time a task returns an
/// error (or panics), or when [`Group::wait`] returns, whichever comes first.
///
/// Go: `errgroup.WithContext(ctx)`. The context's [`cause`](crate::context::cause) is
/// the first error's text.
///
/// ```
/// use gonet::{context, sync::errgroup};
/// let (g, ctx) = errgroup::with_context::<std::io::Error>(&context::background());
/// g.go(|| Ok(()));
/// g.wait().unwrap();
/// assert!(ctx.err().is_some()); // wait() cancels it
/// ```
pub fn with_context<E>(ctx: &Context) -> (Group<E>, Context) {
    let (ctx, cancel) = context::with_cancel_cause(ctx);
    (Group::with_cancel(Some(cancel)), ctx)
}

impl<E> Group<E> {
    /// A group with no limit and no context (Go's zero `Group`).
    ///
    /// ```
    /// let g = gonet::sync::errgroup::Group::<std::io::Error>::new();
    /// assert!(g.wait().is_ok());
    /// ```
    pub fn new() -> Group<E> {
        Group::with_cancel(None)
    }

    fn with_cancel(cancel: Option<CancelCauseFunc>) -> Group<E> {
        Group {
            inner: Arc::new(Inner {
                cancel,
                wg: WaitGroup::new(),
                sem: Mutex::new(None),
                first: Mutex::new(First {
                    err: None,
                    failed: false,
                    panic: None,
                }),
            }),
        }
    }

    /// Limits the number of running tasks to `n`; a negative `n` removes the limit, and
    /// 0 lets no task start.
    ///
    /// Go: `g.SetLimit(n)`. Later [`go`](Group::go) calls park until a slot frees.
    ///
    /// # Panics
    /// If tasks are running, with Go's message `errgroup: modify limit while N goroutines
    /// in the group are still active`.
    ///
    /// ```
    /// use gonet::sync::errgroup::Group;
    /// let g = Group::<std::io::Error>::new();
    /// g.set_limit(2);
    /// for _ in 0..10 {
    ///     g.go(|| Ok(())); // at most two at a time
    /// }
    /// g.wait().unwrap();
    /// ```
    pub fn set_limit(&self, n: isize) {
        let mut sem = lock(&self.inner.sem);
        if let Some(s) = sem.as_ref() {
            let active = s.tx.len();
            if active != 0 {
                panic!(
                    "errgroup: modify limit while {active} goroutines in the group are still active"
                );
            }
        }
        *sem = usize::try_from(n).ok().map(|n| {
            let (tx, rx) = chan(n);
            Sem { tx, rx }
        });
    }

    fn sem(&self) -> Option<Sem> {
        lock(&self.inner.sem).clone()
    }
}

impl<E: fmt::Display + Send + 'static> Group<E> {
    /// Runs `f` in a new coroutine, after parking until the limit (if any) allows it.
    /// The first task to fail cancels the group's context; its error is what
    /// [`wait`](Group::wait) returns.
    ///
    /// Go: `g.Go(f)`.
    ///
    /// ```
    /// let g = gonet::sync::errgroup::Group::new();
    /// g.go(|| std::fs::metadata("/").map(drop));
    /// g.wait().unwrap();
    /// ```
    pub fn go(&self, f: impl FnOnce() -> Result<(), E> + Send + 'static) {
        let sem = self.sem();
        if let Some(s) = &sem {
            // Go: g.sem <- token{}. The receiver lives in the same Sem: no error.
            let _ = s.tx.send(());
        }
        self.start(sem, f);
    }

    /// Runs `f` in a new coroutine only if the limit allows it now; returns whether it
    /// did.
    ///
    /// Go: `g.TryGo(f)`.
    ///
    /// ```
    /// let g = gonet::sync::errgroup::Group::<std::io::Error>::new();
    /// g.set_limit(0);
    /// assert!(!g.try_go(|| Ok(())));
    /// ```
    pub fn try_go(&self, f: impl FnOnce() -> Result<(), E> + Send + 'static) -> bool {
        let sem = self.sem();
        if let Some(s) = &sem {
            if s.tx.try_send(()).is_err() {
                return false;
            }
        }
        self.start(sem, f);
        true
    }

    fn start(&self, sem: Option<Sem>, f: impl FnOnce() -> Result<(), E> + Send + 'static) {
        self.inner.wg.add(1);
        // Go: `defer g.done()`. Held by the coroutine's closure, so that a coroutine that
        // never runs (a failed spawn) still counts as done.
        let done = Done {
            inner: self.inner.clone(),
            sem,
        };
        crate::go!(move || {
            let done = done;
            match catch_unwind(AssertUnwindSafe(f)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => done.inner.fail(Some(e), None),
                Err(panic) => done.inner.fail(None, Some(panic)),
            }
        });
    }

    /// Waits for every task to return, cancels the group's context, and returns the
    /// first error (a later call returns `Ok(())`).
    ///
    /// Go: `g.Wait()`.
    ///
    /// # Panics
    /// If a task panicked: the first panic is resumed here, once every task is done.
    ///
    /// ```
    /// let g = gonet::sync::errgroup::Group::<&str>::new();
    /// g.go(|| Err("first"));
    /// assert_eq!(g.wait(), Err("first"));
    /// assert_eq!(g.wait(), Ok(()));
    /// ```
    pub fn wait(&self) -> Result<(), E> {
        self.inner.wg.wait();
        let (err, panic) = {
            let mut first = lock(&self.inner.first);
            (first.err.take(), first.panic.take())
        };
        if let Some(cancel) = &self.inner.cancel {
            // Go: g.cancel(g.err): a no-op when the first error already cancelled.
            cancel(None);
        }
        if let Some(p) = panic {
            resume_unwind(p);
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<E: fmt::Display> Inner<E> {
    /// Go: `g.errOnce.Do(func() { g.err = err; g.cancel(g.err) })`.
    fn fail(&self, err: Option<E>, panic: Option<Box<dyn Any + Send>>) {
        let cause = {
            let mut first = lock(&self.first);
            if first.failed {
                return;
            }
            first.failed = true;
            let cause = match (&err, &panic) {
                (Some(e), _) => e.to_string(),
                (None, Some(p)) => format!("errgroup: a task panicked: {}", panic_text(&**p)),
                (None, None) => String::new(),
            };
            first.err = err;
            first.panic = panic;
            cause
        };
        if let Some(cancel) = &self.cancel {
            cancel(Some(Box::new(GroupError(cause))));
        }
    }
}

/// The cause recorded on a group's context: the first error's text.
#[derive(Debug)]
struct GroupError(String);

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GroupError {}

fn panic_text(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_string())
}

/// Go: `g.done()`: frees the task's slot and marks it done in the wait group.
struct Done<E> {
    inner: Arc<Inner<E>>,
    sem: Option<Sem>,
}

impl<E> Drop for Done<E> {
    fn drop(&mut self) {
        if let Some(s) = &self.sem {
            let _ = s.rx.try_recv();
        }
        self.inner.wg.done();
    }
}

impl<E> Clone for Group<E> {
    fn clone(&self) -> Group<E> {
        Group {
            inner: self.inner.clone(),
        }
    }
}

impl<E> Default for Group<E> {
    fn default() -> Group<E> {
        Group::new()
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}
