//! Go's `context` package: deadlines, cancellation and request-scoped values, passed down
//! every call of a request.
//!
//! `use gonet::context;` mirrors Go's `import "context"`, and the calls port one for one:
//!
//! ```
//! use gonet::context;
//! use std::time::Duration;
//!
//! // ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
//! // defer cancel()
//! let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_millis(50));
//! let (_tx, results) = gonet::chan::<u32>(0); // work that never finishes
//! // select { case r := <-results: ...; case <-ctx.Done(): return ctx.Err() }
//! let err = gonet::select! {
//!     recv(results) -> r => panic!("got {r:?}"),
//!     recv(ctx.done()) => ctx.err().unwrap(),
//! };
//! assert_eq!(err.to_string(), "context deadline exceeded");
//! assert!(gonet::is_timeout(&err));
//! cancel();
//! ```
//!
//! # How it works (Go's `context.go`, our code)
//! A [`Context`] is a handle on a node of a tree (cloning it is one reference count);
//! [`background`] and [`todo`](todo()) are the roots and cost nothing. [`with_cancel`],
//! [`with_deadline`] and [`with_timeout`] add a *cancel node* (Go's `cancelCtx` and
//! `timerCtx`), [`with_value`] and [`without_cancel`] add nodes that only carry a value or
//! cut the cancellation off (Go's `valueCtx`, `withoutCancelCtx`).
//!
//! Cancelling a parent cancels every child at once, on the cancelling thread, before
//! `cancel()` returns (Go's `cancelCtx.cancel`): every child's `err()` is set, its
//! `done()` channel closed, its after-funcs started. How: a cancel node registers with
//! the nearest cancel node above it (Go's `propagateCancel`), which keeps it in a slab of
//! weak references and cancels what it holds, walking the tree with a work list rather
//! than recursion. Unlike Go, the registration is made when it is first needed (the
//! child's first `done()`, an [`after_func`], a registered grandchild); a child that
//! nothing waits on finds an ancestor's end by looking up the chain instead. So a
//! `with_cancel` + `cancel()` that nobody waits on takes no lock. A child that is
//! cancelled, or whose every handle is dropped, leaves its parent's slab (Go's
//! `removeChild`; Go's garbage collector has no say over a registered child, which is
//! why Go needs `cancel()` to be called): a long-lived parent does not grow.
//!
//! [`Context::done`] is a gonet channel ([`Receiver<()>`](crate::Receiver)) that is closed
//! on cancellation, so it works in [`select!`](crate::select!) in a coroutine or a plain
//! thread. Like Go's it is made lazily, on the first `done()` call: a context nobody waits
//! on costs no channel. A deadline is one entry in gonet's timer heap, served by the one
//! `gonet-timer` thread (see [`time`](crate::time)): no thread or coroutine per context.
//!
//! # Differences from Go
//! - `Context` is a concrete type, not an interface: there are no user-defined contexts.
//! - The key of [`with_value`] is the value's type (as in `http::Extensions`): store a
//!   newtype to keep values apart. `ctx.value::<T>()` returns `Option<&T>`.
//! - [`Context::err`] returns an `io::Error` (gonet's `error`), whose inner error
//!   downcasts to [`Canceled`] or [`DeadlineExceeded`]; [`is_canceled`] and
//!   [`is_deadline_exceeded`] are Go's `errors.Is(err, context.Canceled)` and
//!   `errors.Is(err, context.DeadlineExceeded)`.
//! - Deadlines are [`Instant`]s, not wall-clock times.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::chan::{Receiver, chan, never};

mod cancel_ctx;
mod errors;
use cancel_ctx::CancelCtx;
pub(crate) use cancel_ctx::Ended;
pub use errors::{Canceled, DeadlineExceeded, is_canceled, is_deadline_exceeded};

// ---------------------------------------------------------------------------------------
// The Context type (Go: type Context interface)
// ---------------------------------------------------------------------------------------

/// Carries a deadline, a cancellation signal and request-scoped values across API
/// boundaries and between coroutines.
///
/// Go: `context.Context`. Cheap to clone (one reference count), `Send + Sync`: pass it by
/// reference down the calls of a request, clone it into the coroutines they start.
/// `Context::default()` is [`background()`].
///
/// ```
/// use gonet::context::{self, Context};
/// fn handle(ctx: &Context) -> std::io::Result<()> {
///     if let Some(err) = ctx.err() {
///         return Err(err); // if err := ctx.Err(); err != nil { return err }
///     }
///     Ok(())
/// }
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// assert!(handle(&ctx).is_ok());
/// cancel();
/// assert_eq!(handle(&ctx).unwrap_err().to_string(), "context canceled");
/// ```
#[derive(Clone)]
pub struct Context(Repr);

#[derive(Clone)]
enum Repr {
    /// Go: `context.Background()` (an `emptyCtx`).
    Background,
    /// Go: `context.TODO()`.
    Todo,
    Node(Arc<Node>),
}

/// A context made from a parent.
struct Node {
    parent: Context,
    kind: Kind,
}

enum Kind {
    /// Go: `cancelCtx` (and `timerCtx`, when it has a deadline).
    Cancel(CancelCtx),
    /// Go: `valueCtx`; the value and the name of its type (for `Display`).
    Value(Box<dyn Any + Send + Sync>, &'static str),
    /// Go: `withoutCancelCtx`.
    WithoutCancel,
}

impl Context {
    /// The time at which work done for this context should be abandoned, if there is one.
    ///
    /// Go: `ctx.Deadline()` (`ok == false` is `None`). A child's deadline is never later
    /// than its parent's.
    ///
    /// ```
    /// use gonet::context;
    /// use std::time::{Duration, Instant};
    /// assert_eq!(context::background().deadline(), None);
    /// let at = Instant::now() + Duration::from_secs(5);
    /// let (ctx, _cancel) = context::with_deadline(&context::background(), at);
    /// assert_eq!(ctx.deadline(), Some(at));
    /// let (later, _c) = context::with_timeout(&ctx, Duration::from_secs(3600));
    /// assert_eq!(later.deadline(), Some(at)); // the parent's is sooner
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        let mut cur = self;
        loop {
            match &cur.0 {
                Repr::Background | Repr::Todo => return None,
                Repr::Node(n) => match &n.kind {
                    Kind::Cancel(c) if c.deadline.is_some() => return c.deadline,
                    Kind::WithoutCancel => return None,
                    _ => cur = &n.parent,
                },
            }
        }
    }

    /// A channel that is closed when the context is cancelled or its deadline passes: the
    /// arm of a [`select!`](crate::select!) that ends the work.
    ///
    /// Go: `ctx.Done()`. The channel is made on the first call (later calls return the
    /// same channel); a context that can never be cancelled ([`background`], [`todo`](todo()),
    /// [`without_cancel`]) returns a channel that never receives, as Go's nil channel. A
    /// receive on it returns `None` once the context is done.
    ///
    /// ```
    /// use gonet::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let worker = gonet::go!(move || {
    ///     let (_tx, jobs) = gonet::chan::<u32>(0);
    ///     loop {
    ///         gonet::select! {
    ///             recv(jobs) -> _job => {}
    ///             recv(ctx.done()) => return ctx.err().unwrap().to_string(),
    ///         }
    ///     }
    /// });
    /// cancel();
    /// assert_eq!(worker.join().unwrap(), "context canceled");
    /// ```
    pub fn done(&self) -> Receiver<()> {
        match self.cancel_node() {
            Some(n) => cancel_ctx::done(n),
            None => never_done(),
        }
    }

    /// Why the context is done: `None` while it is not, then an error whose inner error is
    /// [`Canceled`] ("context canceled") or [`DeadlineExceeded`] ("context deadline
    /// exceeded", a timeout: [`is_timeout`](crate::is_timeout) is true for it).
    ///
    /// Go: `ctx.Err()`. Reading it takes no lock. Once `Some`, it stays the same.
    ///
    /// ```
    /// use gonet::context::{self, Canceled};
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// assert!(ctx.err().is_none());
    /// cancel();
    /// let err = ctx.err().unwrap();
    /// assert!(err.get_ref().unwrap().is::<Canceled>());
    /// assert!(context::is_canceled(&err)); // errors.Is(err, context.Canceled)
    /// ```
    pub fn err(&self) -> Option<io::Error> {
        cancel_ctx::ended(self.cancel_node()?).map(Ended::to_io_error)
    }

    /// The value of type `T` stored by the nearest [`with_value`] above this context.
    ///
    /// Go: `ctx.Value(key)`, where the key is `T` itself (store a newtype, as Go code
    /// stores an unexported key type).
    ///
    /// ```
    /// use gonet::context;
    /// #[derive(Debug, PartialEq)]
    /// struct RequestId(u64);
    /// let ctx = context::with_value(&context::background(), RequestId(7));
    /// let (child, _cancel) = context::with_cancel(&ctx);
    /// assert_eq!(child.value::<RequestId>(), Some(&RequestId(7)));
    /// assert_eq!(child.value::<String>(), None);
    /// ```
    pub fn value<T: Any + Send + Sync>(&self) -> Option<&T> {
        let mut cur = self;
        loop {
            match &cur.0 {
                Repr::Background | Repr::Todo => return None,
                Repr::Node(n) => {
                    if let Kind::Value(v, _) = &n.kind {
                        if let Some(v) = v.downcast_ref::<T>() {
                            return Some(v);
                        }
                    }
                    cur = &n.parent;
                }
            }
        }
    }

    /// Test support, not part of the API: how many children are registered with the
    /// nearest cancel node of this context (a child registers when something first waits
    /// on it; cancelled and dropped ones leave).
    ///
    /// ```
    /// use gonet::context;
    /// let (parent, _cancel) = context::with_cancel(&context::background());
    /// let (child, cancel) = context::with_cancel(&parent);
    /// assert_eq!(parent.__children(), 0);
    /// let _done = child.done();
    /// assert_eq!(parent.__children(), 1);
    /// cancel();
    /// assert_eq!(parent.__children(), 0);
    /// # drop(child);
    /// ```
    #[doc(hidden)]
    pub fn __children(&self) -> usize {
        self.cancel_node()
            .map_or(0, |n| n.cancel_ctx().children_len())
    }

    /// Test support, not part of the API: whether this context's done channel has been
    /// made (it is made by the first [`Context::done`] call).
    ///
    /// ```
    /// use gonet::context;
    /// let (ctx, _cancel) = context::with_cancel(&context::background());
    /// assert!(!ctx.__done_made());
    /// let _ = ctx.done();
    /// assert!(ctx.__done_made());
    /// ```
    #[doc(hidden)]
    pub fn __done_made(&self) -> bool {
        self.cancel_node()
            .is_some_and(|n| n.cancel_ctx().done_made())
    }

    /// Whether anything can ever cancel this context: gonet's blocking calls skip their
    /// cancellation set-up for the (common) contexts that cannot.
    pub(crate) fn can_cancel(&self) -> bool {
        self.cancel_node().is_some()
    }

    /// Why this context ended, if it has: for the net layer's `mapErr`.
    pub(crate) fn ended(&self) -> Option<Ended> {
        cancel_ctx::ended(self.cancel_node()?)
    }

    /// Go: `parentCancelCtx`: the nearest cancel node at or above this context, `None`
    /// when nothing above can ever cancel it (a root, or [`without_cancel`] on the way).
    fn cancel_node(&self) -> Option<&Arc<Node>> {
        let mut cur = self;
        loop {
            match &cur.0 {
                Repr::Background | Repr::Todo => return None,
                Repr::Node(n) => match &n.kind {
                    Kind::Cancel(_) => return Some(n),
                    Kind::WithoutCancel => return None,
                    Kind::Value(..) => cur = &n.parent,
                },
            }
        }
    }
}

impl Node {
    fn cancel_ctx(&self) -> &CancelCtx {
        match &self.kind {
            Kind::Cancel(c) => c,
            // cancel_node only returns cancel nodes.
            _ => unreachable!("gonet: context: not a cancel node"),
        }
    }
}

impl Default for Context {
    /// [`background()`].
    fn default() -> Context {
        background()
    }
}

/// The channel `done()` gives for a context that can never be cancelled (Go: nil).
fn never_done() -> Receiver<()> {
    static NEVER: OnceLock<Receiver<()>> = OnceLock::new();
    NEVER.get_or_init(never).clone()
}

/// A closed channel, for `done()` on a context cancelled before anyone asked (Go:
/// `closedchan`).
pub(crate) fn closed_done() -> Receiver<()> {
    static CLOSED: OnceLock<Receiver<()>> = OnceLock::new();
    CLOSED
        .get_or_init(|| {
            let (tx, rx) = chan(0);
            drop(tx); // the last sender closes it
            rx
        })
        .clone()
}

// ---------------------------------------------------------------------------------------
// The roots (Go: emptyCtx)
// ---------------------------------------------------------------------------------------

/// The root context: never cancelled, no deadline, no values.
///
/// Go: `context.Background()`. What `main`, tests and servers start from; free to make
/// and to clone.
///
/// ```
/// let ctx = gonet::context::background();
/// assert!(ctx.err().is_none());
/// assert_eq!(ctx.to_string(), "context.Background");
/// ```
pub fn background() -> Context {
    Context(Repr::Background)
}

/// An empty context for code that does not have one yet: the same as [`background`].
///
/// Go: `context.TODO()`.
///
/// ```
/// let ctx = gonet::context::todo();
/// assert!(ctx.deadline().is_none());
/// assert_eq!(ctx.to_string(), "context.TODO");
/// ```
pub fn todo() -> Context {
    Context(Repr::Todo)
}

// ---------------------------------------------------------------------------------------
// Cancellation (Go: WithCancel, WithCancelCause, Cause, AfterFunc, WithoutCancel)
// ---------------------------------------------------------------------------------------

/// Cancels a context: tells the work done for it to stop. Calling it again does nothing;
/// it may be called from any coroutine or thread, and cloned.
///
/// Go: `context.CancelFunc`, called the same way: `cancel()`. Cancelling also removes the
/// context from its parent and stops its timer; a context whose handles and cancel
/// function are all dropped is removed too.
pub type CancelFunc = Arc<dyn Fn() + Send + Sync>;

/// Cancels a context with a cause: `cancel(Some(err))` records `err` for [`cause`];
/// `cancel(None)` records [`Canceled`].
///
/// Go: `context.CancelCauseFunc` (Go 1.20), `cancel(err)` / `cancel(nil)`.
pub type CancelCauseFunc = Arc<dyn Fn(Option<Box<dyn StdError + Send + Sync>>) + Send + Sync>;

/// The error a context was cancelled with, as [`cause`] returns it.
pub type Cause = Arc<dyn StdError + Send + Sync>;

/// Stops an [`after_func`] from running: true if it stopped it, false if it had already
/// started (or was stopped before).
///
/// Go: the `stop func() bool` that `context.AfterFunc` returns.
pub type StopFunc = Arc<dyn Fn() -> bool + Send + Sync>;

/// A child of `parent` that is cancelled when `cancel` is called or when `parent` is,
/// whichever comes first.
///
/// Go: `context.WithCancel(parent)`. Call `cancel` as soon as the work is over: that
/// releases the child at once (dropping every handle and the cancel function releases it
/// too, which Go cannot do).
///
/// ```
/// use gonet::context;
/// let (parent, cancel_parent) = context::with_cancel(&context::background());
/// let (child, _cancel_child) = context::with_cancel(&parent);
/// cancel_parent();
/// assert_eq!(child.done().recv(), None); // closed
/// assert_eq!(child.err().unwrap().to_string(), "context canceled");
/// ```
pub fn with_cancel(parent: &Context) -> (Context, CancelFunc) {
    let node = cancel_ctx::new_cancel_node(parent, None, None);
    let n = node.clone();
    let cancel: CancelFunc = Arc::new(move || cancel_ctx::cancel(&n, true, Ended::Canceled, None));
    (Context(Repr::Node(node)), cancel)
}

/// Like [`with_cancel`], with a cancel function that records why.
///
/// Go: `context.WithCancelCause(parent)` (Go 1.20).
///
/// ```
/// use gonet::context;
/// let (ctx, cancel) = context::with_cancel_cause(&context::background());
/// cancel(Some("backend went away".into()));
/// assert_eq!(ctx.err().unwrap().to_string(), "context canceled");
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "backend went away");
/// ```
pub fn with_cancel_cause(parent: &Context) -> (Context, CancelCauseFunc) {
    let node = cancel_ctx::new_cancel_node(parent, None, None);
    let n = node.clone();
    let cancel: CancelCauseFunc =
        Arc::new(move |cause: Option<Box<dyn StdError + Send + Sync>>| {
            cancel_ctx::cancel(&n, true, Ended::Canceled, cause.map(Cause::from))
        });
    (Context(Repr::Node(node)), cancel)
}

/// Why `ctx` was cancelled: the error given to its [`CancelCauseFunc`] (or to
/// [`with_deadline_cause`]), else what [`Context::err`] says; `None` while it is not done.
/// A child cancelled by its parent has the parent's cause.
///
/// Go: `context.Cause(ctx)` (Go 1.20).
///
/// ```
/// use gonet::context;
/// let (parent, cancel) = context::with_cancel_cause(&context::background());
/// let (child, _c) = context::with_cancel(&parent);
/// assert!(context::cause(&child).is_none());
/// cancel(None);
/// assert_eq!(context::cause(&child).unwrap().to_string(), "context canceled");
/// ```
pub fn cause(ctx: &Context) -> Option<Cause> {
    cancel_ctx::cause(ctx.cancel_node()?)
}

/// Runs `f` in a coroutine of its own once `ctx` is done (at once if it already is);
/// the returned `stop()` keeps it from running.
///
/// Go: `context.AfterFunc(ctx, f)` (Go 1.21). `stop()` returns true if it stopped `f`
/// from running, false if `f` had started or `stop` was called before. `f` never runs
/// for a context that cannot be cancelled. The Go idiom that cancels a blocked read
/// ports line for line:
///
/// ```
/// use gonet::context;
/// use std::io::Read;
/// use std::time::{Duration, Instant};
///
/// let ln = gonet::listen("tcp", "127.0.0.1:0").unwrap();
/// let mut conn = gonet::dial("tcp", &ln.addr().to_string()).unwrap();
/// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_millis(20));
/// let reader = gonet::go!(move || {
///     // stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(aLongTimeAgo) })
///     // defer stop()
///     let c = conn.clone();
///     let stop = context::after_func(&ctx, move || {
///         let _ = c.set_read_deadline(Some(Instant::now()));
///     });
///     let err = conn.read(&mut [0u8; 1]).unwrap_err(); // nobody writes: the deadline wakes it
///     (gonet::is_timeout(&err), stop())
/// });
/// assert_eq!(reader.join().unwrap(), (true, false)); // timed out; f had run
/// cancel();
/// ```
pub fn after_func(ctx: &Context, f: impl FnOnce() + Send + 'static) -> StopFunc {
    let a = cancel_ctx::after_func(ctx.cancel_node(), Box::new(f));
    Arc::new(move || a.stop())
}

/// A child of `parent` that keeps its values but is never cancelled: no deadline, and
/// cancelling `parent` does not reach it.
///
/// Go: `context.WithoutCancel(parent)` (Go 1.21), for work that must outlive the request
/// that started it (a log write, a cache fill).
///
/// ```
/// use gonet::context;
/// #[derive(Debug, PartialEq)]
/// struct User(&'static str);
/// let (req, cancel) = context::with_cancel(&context::with_value(&context::background(), User("ana")));
/// let bg = context::without_cancel(&req);
/// cancel();
/// assert!(bg.err().is_none());
/// assert_eq!(bg.value::<User>(), Some(&User("ana")));
/// ```
pub fn without_cancel(parent: &Context) -> Context {
    Context(Repr::Node(Arc::new(Node {
        parent: parent.clone(),
        kind: Kind::WithoutCancel,
    })))
}

// ---------------------------------------------------------------------------------------
// Deadlines (Go: WithDeadline, WithDeadlineCause, WithTimeout, WithTimeoutCause)
// ---------------------------------------------------------------------------------------

/// A child of `parent` that is cancelled at `deadline` (with [`DeadlineExceeded`]), when
/// `cancel` is called, or when `parent` is, whichever comes first.
///
/// Go: `context.WithDeadline(parent, d)`. If `parent`'s deadline is sooner, this is
/// [`with_cancel`]. The deadline is one entry in gonet's timer heap; `cancel()` retires it.
///
/// ```
/// use gonet::context;
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// let (ctx, cancel) = context::with_deadline(&context::background(), start + Duration::from_millis(10));
/// assert_eq!(ctx.done().recv(), None);
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// assert_eq!(ctx.err().unwrap().to_string(), "context deadline exceeded");
/// cancel(); // does nothing now, but releases the context in general
/// ```
pub fn with_deadline(parent: &Context, deadline: Instant) -> (Context, CancelFunc) {
    with_deadline_cause(parent, deadline, None)
}

/// Like [`with_deadline`]; when the deadline passes, [`cause`] returns `cause` (the error
/// is still [`DeadlineExceeded`]).
///
/// Go: `context.WithDeadlineCause(parent, d, cause)` (Go 1.21).
///
/// ```
/// use gonet::context;
/// use std::time::Instant;
/// let (ctx, _cancel) = context::with_deadline_cause(
///     &context::background(),
///     Instant::now(),
///     Some("the backend is too slow".into()),
/// );
/// assert_eq!(ctx.err().unwrap().to_string(), "context deadline exceeded");
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "the backend is too slow");
/// ```
pub fn with_deadline_cause(
    parent: &Context,
    deadline: Instant,
    cause: Option<Box<dyn StdError + Send + Sync>>,
) -> (Context, CancelFunc) {
    deadline_ctx(parent, deadline, cause, Instant::now())
}

/// [`with_deadline_cause`], given the time now (which [`with_timeout_cause`] has read).
fn deadline_ctx(
    parent: &Context,
    deadline: Instant,
    cause: Option<Box<dyn StdError + Send + Sync>>,
    now: Instant,
) -> (Context, CancelFunc) {
    if parent.deadline().is_some_and(|cur| cur < deadline) {
        // Go: the current deadline is already sooner than the new one.
        return with_cancel(parent);
    }
    let node = cancel_ctx::new_cancel_node(parent, Some(deadline), cause.map(Cause::from));
    cancel_ctx::start_timer(&node, now);
    let n = node.clone();
    let cancel: CancelFunc = Arc::new(move || cancel_ctx::cancel(&n, true, Ended::Canceled, None));
    (Context(Repr::Node(node)), cancel)
}

/// [`with_deadline`] at `timeout` from now.
///
/// Go: `context.WithTimeout(parent, timeout)`. A timeout too long to represent as an
/// [`Instant`] never fires.
///
/// ```
/// use gonet::context;
/// use std::time::Duration;
/// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(3600));
/// cancel(); // done before it fired: the timer is retired
/// assert_eq!(ctx.err().unwrap().to_string(), "context canceled");
/// ```
pub fn with_timeout(parent: &Context, timeout: Duration) -> (Context, CancelFunc) {
    with_timeout_cause(parent, timeout, None)
}

/// [`with_deadline_cause`] at `timeout` from now.
///
/// Go: `context.WithTimeoutCause(parent, timeout, cause)` (Go 1.21).
///
/// ```
/// use gonet::context;
/// use std::time::Duration;
/// let (ctx, _cancel) =
///     context::with_timeout_cause(&context::background(), Duration::ZERO, Some("too slow".into()));
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "too slow");
/// ```
pub fn with_timeout_cause(
    parent: &Context,
    timeout: Duration,
    cause: Option<Box<dyn StdError + Send + Sync>>,
) -> (Context, CancelFunc) {
    let now = Instant::now();
    match now.checked_add(timeout) {
        Some(deadline) => deadline_ctx(parent, deadline, cause, now),
        None => with_cancel(parent),
    }
}

// ---------------------------------------------------------------------------------------
// Values (Go: WithValue)
// ---------------------------------------------------------------------------------------

/// A child of `parent` that carries `val`; [`Context::value::<T>()`](Context::value)
/// finds it (from this context and every context made from it).
///
/// Go: `context.WithValue(parent, key, val)`, keyed by the type `T`. Use it for
/// request-scoped data (a request id, the authenticated user), not to pass optional
/// parameters.
///
/// ```
/// use gonet::context;
/// struct TraceId(String);
/// let ctx = context::with_value(&context::background(), TraceId("abc".into()));
/// assert_eq!(ctx.value::<TraceId>().map(|t| t.0.as_str()), Some("abc"));
/// ```
pub fn with_value<T: Any + Send + Sync>(parent: &Context, val: T) -> Context {
    Context(Repr::Node(Arc::new(Node {
        parent: parent.clone(),
        kind: Kind::Value(Box::new(val), std::any::type_name::<T>()),
    })))
}

// ---------------------------------------------------------------------------------------
// Names (Go: the String methods)
// ---------------------------------------------------------------------------------------

impl fmt::Display for Context {
    /// Go's `String()`: `context.Background.WithCancel`, `context.TODO.WithValue(type T,
    /// val v)`, ...
    ///
    /// ```
    /// use gonet::context;
    /// let (ctx, _c) = context::with_cancel(&context::background());
    /// assert_eq!(ctx.to_string(), "context.Background.WithCancel");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Background => f.write_str("context.Background"),
            Repr::Todo => f.write_str("context.TODO"),
            Repr::Node(n) => {
                write!(f, "{}", n.parent)?;
                match &n.kind {
                    Kind::Cancel(c) => match c.deadline {
                        None => f.write_str(".WithCancel"),
                        Some(d) => write!(
                            f,
                            ".WithDeadline([{:?}])",
                            d.saturating_duration_since(Instant::now())
                        ),
                    },
                    Kind::Value(v, ty) => {
                        // Go prints the value if it is a string or a Stringer.
                        let text = v
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| v.downcast_ref::<&'static str>().copied());
                        match text {
                            Some(s) => write!(f, ".WithValue(type {ty}, val {s})"),
                            None => write!(f, ".WithValue(type {ty}, val <not Stringer>)"),
                        }
                    }
                    Kind::WithoutCancel => f.write_str(".WithoutCancel"),
                }
            }
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Drop for Node {
    /// A cancel node leaves its parent's children (Go's `removeChild`, which Go leaves to
    /// `cancel()`); then the parent chain is released one node at a time, so a long chain
    /// does not recurse once per level.
    fn drop(&mut self) {
        if let Kind::Cancel(c) = &self.kind {
            cancel_ctx::on_drop(self, c);
        }
        let mut parent = std::mem::take(&mut self.parent);
        while let Repr::Node(arc) = parent.0 {
            let Some(mut node) = Arc::into_inner(arc) else {
                break;
            };
            if let Kind::Cancel(c) = &node.kind {
                cancel_ctx::on_drop(&node, c);
            }
            parent = std::mem::take(&mut node.parent);
            // `node` drops here with a root for parent and no registration: no recursion.
        }
    }
}
