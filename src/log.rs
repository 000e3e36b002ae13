//! Go's `log` package: timestamped lines to standard error (or any writer), and
//! `Fatal` / `Panic`.
//!
//! `use gonet::log;` mirrors Go's `import "log"`, and the calls port one for one:
//!
//! ```
//! use gonet::log;
//! log::set_output(std::io::sink()); // (keep the doctest quiet)
//! log::set_flags(log::LSTD_FLAGS | log::LSHORTFILE);
//! log::println!("listening on", "127.0.0.1:8080"); // log.Println("listening on", addr)
//! log::printf!("{} connections", 3);               // log.Printf("%d connections", 3)
//! # log::set_output(std::io::stderr());
//! # log::set_flags(log::LSTD_FLAGS);
//! ```
//!
//! The default line is Go's: `2009/11/10 23:00:00 message` (local time; [`LUTC`] for
//! UTC). Each line is built whole and written with one `write` call under the logger's
//! lock, so lines from many coroutines never interleave. Go's `Print` and `Println`
//! operand rules hold: [`print!`] puts a space between two operands when neither is a
//! string, [`println!`] between every two. [`printf!`] takes Rust's format syntax
//! (`{}`), not Go's verbs (`%d`).
//!
//! # gonet::log and the `log` crate
//! gonet reports its own diagnostics (an accept error being retried, a handler that
//! panicked) through the [`log`](https://docs.rs/log) crate's macros, which an
//! application routes where it likes (`env_logger`, syslog, ...) and which print
//! nothing until it installs a logger. `gonet::log` is a different thing: Go's `log`
//! package for the application's own lines, which always prints, in Go's format. The two
//! meet only if the application wants them to: [`route_log_crate`] makes the standard
//! logger here the `log` crate's logger too, so gonet's diagnostics come out in the same
//! format, on the same output, as the application's `log::printf!` lines. (In a file that
//! uses both, rename one: `use gonet::log as golog;`.)

use std::any::TypeId;
use std::fmt::{self, Display, Write as _};
use std::io::{self, Write};
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::sync::Mutex;

/// The date in the local time zone: `2009/01/23`. Go: `log.Ldate`.
pub const LDATE: i32 = 1;
/// The time in the local time zone: `01:23:23`. Go: `log.Ltime`.
pub const LTIME: i32 = 2;
/// Microseconds: `01:23:23.123123`; implies [`LTIME`]. Go: `log.Lmicroseconds`.
pub const LMICROSECONDS: i32 = 4;
/// The source file and line of the call: `src/main.rs:23`. Go: `log.Llongfile` (Go's
/// path is absolute; Rust's `file!()` is relative to the crate).
pub const LLONGFILE: i32 = 8;
/// The file's last element and the line: `main.rs:23`; overrides [`LLONGFILE`]. Go:
/// `log.Lshortfile`.
pub const LSHORTFILE: i32 = 16;
/// UTC instead of the local time zone. Go: `log.LUTC`.
pub const LUTC: i32 = 32;
/// The prefix goes before the message instead of at the start of the line. Go:
/// `log.Lmsgprefix`.
pub const LMSGPREFIX: i32 = 64;
/// [`LDATE`] | [`LTIME`]: the standard logger's flags. Go: `log.LstdFlags`.
pub const LSTD_FLAGS: i32 = LDATE | LTIME;

/// A logger: writes each message as one line (a newline is added if missing) with a
/// header chosen by its flags, and serialises its writes.
///
/// Go: `log.Logger`. Safe to share between coroutines and threads.
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "[svc] ", log::LMSGPREFIX);
/// l.output("ready").unwrap();
/// assert_eq!(l.prefix(), "[svc] ");
/// ```
pub struct Logger {
    mu: Mutex<State>,
    /// Go: `isDiscard`: the output is `io::sink()`; formatting is skipped.
    discard: AtomicBool,
    flag: AtomicI32,
}

struct State {
    prefix: String,
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
}

impl Logger {
    /// A logger writing to `out`, with `prefix` at the start of each line (or before the
    /// message, with [`LMSGPREFIX`]) and the header `flag` asks for.
    ///
    /// Go: `log.New(out, prefix, flag)`.
    ///
    /// ```
    /// let l = gonet::log::Logger::new(std::io::sink(), "", 0);
    /// assert_eq!(l.flags(), 0);
    /// ```
    pub fn new<W: Write + Send + 'static>(out: W, prefix: &str, flag: i32) -> Logger {
        Logger {
            discard: AtomicBool::new(is_sink::<W>()),
            flag: AtomicI32::new(flag),
            mu: Mutex::new(State {
                prefix: prefix.to_string(),
                out: Box::new(out),
                buf: Vec::with_capacity(128),
            }),
        }
    }

    /// Writes `s` as one line, with the header. The file and line shown by
    /// [`LSHORTFILE`] are the caller's.
    ///
    /// Go: `l.Output(calldepth, s)`.
    ///
    /// ```
    /// # let l = gonet::log::Logger::new(std::io::sink(), "", 0);
    /// l.output("ready").unwrap();
    /// ```
    #[track_caller]
    pub fn output(&self, s: &str) -> io::Result<()> {
        self.output_at(Location::caller(), s)
    }

    /// [`Logger::output`] with the call site given (the macros pass theirs).
    #[doc(hidden)]
    pub fn __output_at(&self, at: &'static Location<'static>, s: &str) -> io::Result<()> {
        self.output_at(at, s)
    }

    fn output_at(&self, at: &Location<'_>, s: &str) -> io::Result<()> {
        let now = SystemTime::now(); // Go: get this early
        let flag = self.flags();
        let mut st = self.mu.lock().unwrap_or_else(|e| e.into_inner());
        let State { prefix, out, buf } = &mut *st;
        buf.clear();
        format_header(buf, prefix, flag, now, at);
        buf.extend_from_slice(s.as_bytes());
        if !s.ends_with('\n') {
            buf.push(b'\n');
        }
        out.write_all(buf)
    }

    /// Whether formatting can be skipped (the output is `io::sink()`).
    #[doc(hidden)]
    pub fn __discards(&self) -> bool {
        self.discard.load(Ordering::Relaxed)
    }

    /// The flags. Go: `l.Flags()`.
    ///
    /// ```
    /// assert_eq!(gonet::log::Logger::new(std::io::sink(), "", 3).flags(), 3);
    /// ```
    pub fn flags(&self) -> i32 {
        self.flag.load(Ordering::Relaxed)
    }

    /// Sets the flags. Go: `l.SetFlags(flag)`.
    ///
    /// ```
    /// let l = gonet::log::Logger::new(std::io::sink(), "", 0);
    /// l.set_flags(gonet::log::LUTC | gonet::log::LSTD_FLAGS);
    /// assert_eq!(l.flags(), 35);
    /// ```
    pub fn set_flags(&self, flag: i32) {
        self.flag.store(flag, Ordering::Relaxed);
    }

    /// The prefix. Go: `l.Prefix()`.
    ///
    /// ```
    /// assert_eq!(gonet::log::Logger::new(std::io::sink(), "x: ", 0).prefix(), "x: ");
    /// ```
    pub fn prefix(&self) -> String {
        self.mu
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .prefix
            .clone()
    }

    /// Sets the prefix. Go: `l.SetPrefix(prefix)`.
    ///
    /// ```
    /// let l = gonet::log::Logger::new(std::io::sink(), "", 0);
    /// l.set_prefix("api: ");
    /// assert_eq!(l.prefix(), "api: ");
    /// ```
    pub fn set_prefix(&self, prefix: &str) {
        self.mu.lock().unwrap_or_else(|e| e.into_inner()).prefix = prefix.to_string();
    }

    /// Sets the output. Go: `l.SetOutput(w)`.
    ///
    /// ```
    /// let l = gonet::log::Logger::new(std::io::stderr(), "", 0);
    /// l.set_output(std::io::sink());
    /// ```
    pub fn set_output<W: Write + Send + 'static>(&self, w: W) {
        let mut st = self.mu.lock().unwrap_or_else(|e| e.into_inner());
        st.out = Box::new(w);
        self.discard.store(is_sink::<W>(), Ordering::Relaxed);
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("flags", &self.flags())
            .finish_non_exhaustive()
    }
}

fn is_sink<W: 'static>() -> bool {
    TypeId::of::<W>() == TypeId::of::<io::Sink>()
}

/// The standard logger: standard error, no prefix, [`LSTD_FLAGS`].
///
/// Go: `log.Default()`.
///
/// ```
/// assert_eq!(gonet::log::default().flags() & gonet::log::LDATE, gonet::log::LDATE);
/// ```
pub fn default() -> &'static Logger {
    static STD: OnceLock<Logger> = OnceLock::new();
    STD.get_or_init(|| Logger::new(io::stderr(), "", LSTD_FLAGS))
}

/// Sets the standard logger's output. Go: `log.SetOutput(w)`.
///
/// ```
/// gonet::log::set_output(std::io::stderr());
/// ```
pub fn set_output<W: Write + Send + 'static>(w: W) {
    default().set_output(w);
}

/// The standard logger's flags. Go: `log.Flags()`.
///
/// ```
/// let _ = gonet::log::flags();
/// ```
pub fn flags() -> i32 {
    default().flags()
}

/// Sets the standard logger's flags. Go: `log.SetFlags(flag)`.
///
/// ```
/// gonet::log::set_flags(gonet::log::LSTD_FLAGS);
/// ```
pub fn set_flags(flag: i32) {
    default().set_flags(flag);
}

/// The standard logger's prefix. Go: `log.Prefix()`.
///
/// ```
/// let _ = gonet::log::prefix();
/// ```
pub fn prefix() -> String {
    default().prefix()
}

/// Sets the standard logger's prefix. Go: `log.SetPrefix(prefix)`.
///
/// ```
/// gonet::log::set_prefix("");
/// ```
pub fn set_prefix(prefix: &str) {
    default().set_prefix(prefix);
}

/// Writes `s` through the standard logger. Go: `log.Output(calldepth, s)`.
///
/// ```
/// # gonet::log::set_output(std::io::sink());
/// gonet::log::output("plain").unwrap();
/// # gonet::log::set_output(std::io::stderr());
/// ```
#[track_caller]
pub fn output(s: &str) -> io::Result<()> {
    default().output_at(Location::caller(), s)
}

/// Go: `formatHeader`: the prefix (unless [`LMSGPREFIX`]), date, time, file:line, then
/// the prefix (with [`LMSGPREFIX`]).
fn format_header(buf: &mut Vec<u8>, prefix: &str, flag: i32, now: SystemTime, at: &Location<'_>) {
    if flag & LMSGPREFIX == 0 {
        buf.extend_from_slice(prefix.as_bytes());
    }
    if flag & (LDATE | LTIME | LMICROSECONDS) != 0 {
        let tm = broken_down(now, flag & LUTC != 0);
        let mut s = String::with_capacity(32);
        if flag & LDATE != 0 {
            let _ = write!(s, "{:04}/{:02}/{:02} ", tm.year, tm.month, tm.day);
        }
        if flag & (LTIME | LMICROSECONDS) != 0 {
            let _ = write!(s, "{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec);
            if flag & LMICROSECONDS != 0 {
                let _ = write!(s, ".{:06}", tm.micros);
            }
            s.push(' ');
        }
        buf.extend_from_slice(s.as_bytes());
    }
    if flag & (LSHORTFILE | LLONGFILE) != 0 {
        let mut file = at.file();
        if flag & LSHORTFILE != 0 {
            file = file.rsplit('/').next().unwrap_or(file);
        }
        buf.extend_from_slice(format!("{file}:{}: ", at.line()).as_bytes());
    }
    if flag & LMSGPREFIX != 0 {
        buf.extend_from_slice(prefix.as_bytes());
    }
}

struct Tm {
    year: i64,
    month: i32,
    day: i32,
    hour: i32,
    min: i32,
    sec: i32,
    micros: u32,
}

/// The calendar time of `t`, local (the C library's time zone: `TZ`, /etc/localtime) or
/// UTC.
fn broken_down(t: SystemTime, utc: bool) -> Tm {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX);
    // SAFETY: tm is plain data (all-zero is valid); localtime_r/gmtime_r only write into
    // it and read `secs`; both are thread-safe.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe {
        if utc {
            !libc::gmtime_r(&secs, &mut tm).is_null()
        } else {
            !libc::localtime_r(&secs, &mut tm).is_null()
        }
    };
    if !ok {
        return Tm {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            min: 0,
            sec: 0,
            micros: 0,
        };
    }
    Tm {
        year: i64::from(tm.tm_year) + 1900,
        month: tm.tm_mon + 1,
        day: tm.tm_mday,
        hour: tm.tm_hour,
        min: tm.tm_min,
        sec: tm.tm_sec,
        micros: d.subsec_micros(),
    }
}

// ---------------------------------------------------------------------------------------
// The printing calls: Go's Print, Printf, Println, Fatal*, Panic* (as macros, for the
// operand lists and the call site)
// ---------------------------------------------------------------------------------------

/// The end of the print macros; not part of the API.
#[doc(hidden)]
#[track_caller]
pub fn __emit(l: &Logger, text: impl FnOnce() -> String) {
    if l.__discards() {
        return;
    }
    let _ = l.output_at(Location::caller(), &text());
}

/// The end of the fatal macros (Go: `l.Output`, then `os.Exit(1)`): it never returns,
/// so `fatal!` ends a function the way Go's `log.Fatal` does for the compiler's flow
/// analysis. Not part of the API.
#[doc(hidden)]
#[track_caller]
pub fn __emit_exit(l: &Logger, text: impl FnOnce() -> String) -> ! {
    let _ = l.output_at(Location::caller(), &text());
    std::process::exit(1)
}

/// The end of the panic macros (Go: `l.Output`, then `panic(s)`); not part of the API.
#[doc(hidden)]
#[track_caller]
pub fn __emit_panic(l: &Logger, text: impl FnOnce() -> String) -> ! {
    let s = text();
    let _ = l.output_at(Location::caller(), &s);
    std::panic::panic_any(s)
}

/// Go's `fmt.Sprint` operand list: a space between two operands when neither is a
/// string. Not part of the API.
#[doc(hidden)]
pub fn __sprint(ops: &[(&dyn Display, bool)]) -> String {
    let mut s = String::new();
    for (i, (v, is_str)) in ops.iter().enumerate() {
        if i > 0 && !is_str && !ops[i - 1].1 {
            s.push(' ');
        }
        let _ = write!(s, "{v}");
    }
    s
}

/// Go's `fmt.Sprintln`: spaces between all operands, and a newline. Not part of the API.
#[doc(hidden)]
pub fn __sprintln(ops: &[&dyn Display]) -> String {
    let mut s = String::new();
    for (i, v) in ops.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{v}");
    }
    s.push('\n');
    s
}

/// An operand of [`print!`], to tell strings from the rest (for Go's `Sprint`
/// spacing); not part of the API.
#[doc(hidden)]
pub struct __Operand<'a, T>(pub &'a T);

/// Strings (autoref specialisation: chosen before [`__NotStr`]); not part of the API.
#[doc(hidden)]
pub trait __IsStr<'a> {
    fn __op(&self) -> (&'a dyn Display, bool);
}
impl<'a> __IsStr<'a> for __Operand<'a, &str> {
    fn __op(&self) -> (&'a dyn Display, bool) {
        (self.0, true)
    }
}
impl<'a> __IsStr<'a> for __Operand<'a, String> {
    fn __op(&self) -> (&'a dyn Display, bool) {
        (self.0, true)
    }
}
impl<'a> __IsStr<'a> for __Operand<'a, &String> {
    fn __op(&self) -> (&'a dyn Display, bool) {
        (self.0, true)
    }
}

/// Everything else; not part of the API.
#[doc(hidden)]
pub trait __NotStr<'a> {
    fn __op(&self) -> (&'a dyn Display, bool);
}
impl<'a, T: Display> __NotStr<'a> for &__Operand<'a, T> {
    fn __op(&self) -> (&'a dyn Display, bool) {
        (self.0, false)
    }
}

/// Makes the standard logger the `log` crate's logger too, up to `max` (gonet's own
/// diagnostics, and any crate's `log::warn!`), in Go's line format: `2009/11/10 23:00:00
/// WARN message`.
///
/// Go: none (Go's packages log through `log` directly).
///
/// ```
/// gonet::log::set_output(std::io::sink());
/// let _ = gonet::log::route_log_crate(::log::LevelFilter::Warn);
/// ::log::warn!("through the log crate");
/// # gonet::log::set_output(std::io::stderr());
/// ```
pub fn route_log_crate(max: ::log::LevelFilter) -> Result<(), ::log::SetLoggerError> {
    ::log::set_logger(default())?;
    ::log::set_max_level(max);
    Ok(())
}

impl ::log::Log for Logger {
    fn enabled(&self, _: &::log::Metadata<'_>) -> bool {
        !self.__discards()
    }

    fn log(&self, record: &::log::Record<'_>) {
        if self.__discards() {
            return;
        }
        let s = format!("{} {}", record.level(), record.args());
        let line = record.line().unwrap_or(0);
        let file = record.file().unwrap_or("???");
        // The record's own call site, for LSHORTFILE / LLONGFILE.
        let loc = RecordSite { file, line };
        let now = SystemTime::now();
        let flag = self.flags();
        let mut st = self.mu.lock().unwrap_or_else(|e| e.into_inner());
        let State { prefix, out, buf } = &mut *st;
        buf.clear();
        loc.header(buf, prefix, flag, now);
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'\n');
        let _ = out.write_all(buf);
    }

    fn flush(&self) {
        let _ = self
            .mu
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .out
            .flush();
    }
}

/// A `log` crate record's call site (its file is not a `Location`).
struct RecordSite<'a> {
    file: &'a str,
    line: u32,
}

impl RecordSite<'_> {
    fn header(&self, buf: &mut Vec<u8>, prefix: &str, flag: i32, now: SystemTime) {
        // The header without the file part, then the file part from the record.
        let here = Location::caller();
        let lead = if flag & LMSGPREFIX != 0 { "" } else { prefix };
        format_header(
            buf,
            lead,
            flag & !(LSHORTFILE | LLONGFILE | LMSGPREFIX),
            now,
            here,
        );
        if flag & (LSHORTFILE | LLONGFILE) != 0 {
            let mut file = self.file;
            if flag & LSHORTFILE != 0 {
                file = file.rsplit('/').next().unwrap_or(file);
            }
            buf.extend_from_slice(format!("{file}:{}: ", self.line).as_bytes());
        }
        if flag & LMSGPREFIX != 0 {
            buf.extend_from_slice(prefix.as_bytes());
        }
    }
}

// The macros are exported at the crate root under `log_*` names and re-exported here
// under Go's: `log::printf!` is `gonet::log_printf!`.
pub use crate::{
    log_fatal as fatal, log_fatalf as fatalf, log_fatalln as fatalln, log_panic as panic,
    log_panicf as panicf, log_panicln as panicln, log_print as print, log_printf as printf,
    log_println as println,
};

/// Go's `log.Print(v...)`: the operands, a space between two of them when neither is a
/// string (Go's `fmt.Sprint`). `log::print!(l => a, b)` is `l.Print(a, b)` for a
/// [`Logger`].
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "", 0);
/// log::print!(&l => "x=", 5, 6, "!");  // x=5 6!
/// ```
#[macro_export]
macro_rules! log_print {
    ($l:expr => $($v:expr),+ $(,)?) => {
        $crate::log::__emit($l, || {
            #[allow(unused_imports)]
            use $crate::log::{__IsStr as _, __NotStr as _};
            $crate::log::__sprint(&[$((&$crate::log::__Operand(&$v)).__op()),+])
        })
    };
    ($($v:expr),+ $(,)?) => { $crate::log_print!($crate::log::default() => $($v),+) };
}

/// Go's `log.Println(v...)`: the operands separated by spaces (Go's `fmt.Sprintln`).
/// `log::println!(l => a, b)` is `l.Println(a, b)`.
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "", 0);
/// log::println!(&l => "listening on", "127.0.0.1:80"); // listening on 127.0.0.1:80
/// ```
#[macro_export]
macro_rules! log_println {
    ($l:expr => $($v:expr),* $(,)?) => {
        $crate::log::__emit($l, || {
            $crate::log::__sprintln(&[$(&$v as &dyn ::core::fmt::Display),*])
        })
    };
    ($($v:expr),* $(,)?) => { $crate::log_println!($crate::log::default() => $($v),*) };
}

/// Go's `log.Printf(format, v...)`, with Rust's format syntax. `log::printf!(l => ...)`
/// is `l.Printf(...)`.
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "", 0);
/// log::printf!(&l => "{} of {}", 1, 2);
/// ```
#[macro_export]
macro_rules! log_printf {
    ($l:expr => $($arg:tt)+) => {
        $crate::log::__emit($l, || ::std::format!($($arg)+))
    };
    ($($arg:tt)+) => { $crate::log_printf!($crate::log::default() => $($arg)+) };
}

/// Go's `log.Fatal(v...)`: [`print!`], then `os.Exit(1)`. Like Go's, it does not
/// return (its type is `!`), so it ends a branch that needs a value:
///
/// ```no_run
/// let ln = match gonet::listen("tcp", "127.0.0.1:0") {
///     Ok(ln) => ln,
///     Err(e) => gonet::log::fatal!("cannot listen: ", e),
/// };
/// # drop(ln);
/// ```
#[macro_export]
macro_rules! log_fatal {
    ($l:expr => $($v:expr),+ $(,)?) => {
        $crate::log::__emit_exit($l, || {
            #[allow(unused_imports)]
            use $crate::log::{__IsStr as _, __NotStr as _};
            $crate::log::__sprint(&[$((&$crate::log::__Operand(&$v)).__op()),+])
        })
    };
    ($($v:expr),+ $(,)?) => { $crate::log_fatal!($crate::log::default() => $($v),+) };
}

/// Go's `log.Fatalln(v...)`: [`println!`], then `os.Exit(1)`.
///
/// ```no_run
/// gonet::log::fatalln!("cannot listen:", 8080);
/// ```
#[macro_export]
macro_rules! log_fatalln {
    ($l:expr => $($v:expr),* $(,)?) => {
        $crate::log::__emit_exit($l, || {
            $crate::log::__sprintln(&[$(&$v as &dyn ::core::fmt::Display),*])
        })
    };
    ($($v:expr),* $(,)?) => { $crate::log_fatalln!($crate::log::default() => $($v),*) };
}

/// Go's `log.Fatalf(format, v...)`: [`printf!`], then `os.Exit(1)`.
///
/// ```no_run
/// gonet::log::fatalf!("cannot listen on {}", 8080);
/// ```
#[macro_export]
macro_rules! log_fatalf {
    ($l:expr => $($arg:tt)+) => {
        $crate::log::__emit_exit($l, || ::std::format!($($arg)+))
    };
    ($($arg:tt)+) => { $crate::log_fatalf!($crate::log::default() => $($arg)+) };
}

/// Go's `log.Panic(v...)`: [`print!`], then a panic with the same text.
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "", 0);
/// let p = std::panic::catch_unwind(|| log::panic!(&l => "bad ", "state")).unwrap_err();
/// assert_eq!(p.downcast_ref::<String>().unwrap(), "bad state");
/// ```
#[macro_export]
macro_rules! log_panic {
    ($l:expr => $($v:expr),+ $(,)?) => {
        $crate::log::__emit_panic($l, || {
            #[allow(unused_imports)]
            use $crate::log::{__IsStr as _, __NotStr as _};
            $crate::log::__sprint(&[$((&$crate::log::__Operand(&$v)).__op()),+])
        })
    };
    ($($v:expr),+ $(,)?) => { $crate::log_panic!($crate::log::default() => $($v),+) };
}

/// Go's `log.Panicln(v...)`: [`println!`], then a panic with the same text.
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "", 0);
/// let p = std::panic::catch_unwind(|| log::panicln!(&l => "bad", 1)).unwrap_err();
/// assert_eq!(p.downcast_ref::<String>().unwrap(), "bad 1\n");
/// ```
#[macro_export]
macro_rules! log_panicln {
    ($l:expr => $($v:expr),* $(,)?) => {
        $crate::log::__emit_panic($l, || {
            $crate::log::__sprintln(&[$(&$v as &dyn ::core::fmt::Display),*])
        })
    };
    ($($v:expr),* $(,)?) => { $crate::log_panicln!($crate::log::default() => $($v),*) };
}

/// Go's `log.Panicf(format, v...)`: [`printf!`], then a panic with the same text.
///
/// ```
/// use gonet::log::{self, Logger};
/// let l = Logger::new(std::io::sink(), "", 0);
/// let p = std::panic::catch_unwind(|| log::panicf!(&l => "code {}", 7)).unwrap_err();
/// assert_eq!(p.downcast_ref::<String>().unwrap(), "code 7");
/// ```
#[macro_export]
macro_rules! log_panicf {
    ($l:expr => $($arg:tt)+) => {
        $crate::log::__emit_panic($l, || ::std::format!($($arg)+))
    };
    ($($arg:tt)+) => { $crate::log_panicf!($crate::log::default() => $($arg)+) };
}
