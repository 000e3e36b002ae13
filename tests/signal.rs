//! gonet::signal: Go's os/signal over channels, with real signals sent to this process.
//!
//! Signals belong to the whole process, and the tests here run on parallel threads of
//! one, so each takes the `serial()` lock and uses signals no other test waits for.

mod util;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gonet::signal::{self, Signal};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the process does with `sig` now: SIG_DFL, SIG_IGN or a handler's address.
fn disposition(sig: Signal) -> libc::sighandler_t {
    // SAFETY: an all-zero sigaction is valid; sigaction only writes the current one.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig.as_raw(), std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn notify_wakes_a_coroutine_parked_on_the_channel() {
    let _g = serial();
    let (tx, rx) = gonet::chan::<Signal>(1);
    signal::notify(&tx, &[Signal::USR1]).unwrap();
    let waiter = gonet::go!(move || rx.recv());
    signal::raise(Signal::USR1).unwrap();
    assert_eq!(waiter.join().unwrap(), Some(Signal::USR1));
    signal::stop(&tx);
    assert_eq!(
        disposition(Signal::USR1),
        libc::SIG_DFL,
        "stop restores the default"
    );
}

#[test]
fn a_full_channel_misses_the_signal_and_nothing_blocks() {
    let _g = serial();
    let (small_tx, small) = gonet::chan::<Signal>(1);
    let (big_tx, big) = gonet::chan::<Signal>(8);
    signal::notify(&small_tx, &[Signal::USR2]).unwrap();
    signal::notify(&big_tx, &[Signal::USR2]).unwrap();
    for _ in 0..3 {
        signal::raise(Signal::USR2).unwrap();
        // The relay sends to both channels in one pass: once `big` has it, `small` was
        // offered it too.
        assert_eq!(big.recv_timeout(WAIT), Ok(Signal::USR2));
    }
    assert_eq!(
        small.len(),
        1,
        "only the first fit; the others were dropped"
    );
    assert_eq!(small.try_recv(), Ok(Signal::USR2));
    signal::stop(&small_tx);
    signal::stop(&big_tx);
}

#[test]
fn stop_ends_delivery_to_that_channel_only() {
    let _g = serial();
    let (a_tx, a) = gonet::chan::<Signal>(1);
    let (b_tx, b) = gonet::chan::<Signal>(1);
    signal::notify(&a_tx, &[Signal::WINCH]).unwrap();
    signal::notify(&b_tx, &[Signal::WINCH]).unwrap();
    signal::stop(&a_tx);
    assert_ne!(disposition(Signal::WINCH), libc::SIG_DFL, "b still listens");
    signal::raise(Signal::WINCH).unwrap();
    assert_eq!(b.recv_timeout(WAIT), Ok(Signal::WINCH));
    assert!(a.try_recv().is_err(), "a stopped before the signal");
    signal::stop(&b_tx);
    assert_eq!(disposition(Signal::WINCH), libc::SIG_DFL);
}

#[test]
fn notify_without_signals_relays_every_catchable_one() {
    let _g = serial();
    let (tx, rx) = gonet::chan::<Signal>(4);
    signal::notify(&tx, &[]).unwrap();
    for sig in [Signal::INTERRUPT, Signal::TERM, Signal::HUP, Signal::WINCH] {
        assert_ne!(disposition(sig), libc::SIG_DFL, "{sig} is relayed");
    }
    // Faults stay with Rust's runtime.
    assert_eq!(disposition(Signal::from_raw(libc::SIGSEGV)), {
        let mut before: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: reads the current disposition into a valid sigaction.
        unsafe { libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut before) };
        before.sa_sigaction
    });
    // SIGINT would end the test process if it were not relayed.
    signal::raise(Signal::INTERRUPT).unwrap();
    assert_eq!(rx.recv_timeout(WAIT), Ok(Signal::INTERRUPT));
    signal::stop(&tx);
    for sig in [Signal::INTERRUPT, Signal::TERM, Signal::HUP, Signal::WINCH] {
        assert_eq!(
            disposition(sig),
            libc::SIG_DFL,
            "{sig} is back to its default"
        );
    }
}

#[test]
fn signals_that_cannot_be_caught_or_do_not_exist_are_refused_and_change_nothing() {
    let _g = serial();
    let (tx, rx) = gonet::chan::<Signal>(1);
    let err = signal::notify(&tx, &[Signal::QUIT, Signal::KILL]).unwrap_err();
    assert!(
        err.to_string().starts_with("signal: cannot catch killed: "),
        "{err}"
    );
    assert_eq!(disposition(Signal::QUIT), libc::SIG_DFL, "all or nothing");
    for n in [0, -1, 65] {
        let err = signal::notify(&tx, &[Signal::from_raw(n)]).unwrap_err();
        assert_eq!(err.to_string(), format!("signal: bad signal {n}"));
        assert_eq!(
            signal::ignore(&[Signal::from_raw(n)])
                .unwrap_err()
                .to_string(),
            format!("signal: bad signal {n}")
        );
    }
    drop(rx);
}

#[test]
fn ignore_keeps_a_signal_from_ending_the_process() {
    let _g = serial();
    let (tx, rx) = gonet::chan::<Signal>(1);
    signal::notify(&tx, &[Signal::HUP]).unwrap();
    signal::ignore(&[Signal::HUP]).unwrap();
    assert_eq!(disposition(Signal::HUP), libc::SIG_IGN);
    // SIGHUP ends a process by default; ignored, it does nothing and no channel gets it.
    // No reset right after: a SIGHUP raised while some thread briefly blocked all
    // signals (glibc does, while it creates a thread) stays pending for that moment,
    // and would end the process if HUP were back to its default by then.
    signal::raise(Signal::HUP).unwrap();
    signal::stop(&tx);
    assert_eq!(
        disposition(Signal::HUP),
        libc::SIG_IGN,
        "stop leaves it ignored"
    );
    assert!(rx.try_recv().is_err());
}

#[test]
fn reset_undoes_notify_and_ignore() {
    let _g = serial();
    let (tx, rx) = gonet::chan::<Signal>(1);
    let urg = Signal::from_raw(libc::SIGURG); // ignored by default: safe to raise
    signal::notify(&tx, &[urg]).unwrap();
    assert_ne!(disposition(urg), libc::SIG_DFL);
    signal::reset(&[urg]).unwrap();
    assert_eq!(disposition(urg), libc::SIG_DFL);
    signal::raise(urg).unwrap();
    signal::ignore(&[urg]).unwrap();
    assert_eq!(disposition(urg), libc::SIG_IGN);
    signal::reset(&[urg]).unwrap();
    assert_eq!(disposition(urg), libc::SIG_DFL);
    // The channel no longer listens: a later notify for another signal does not bring
    // URG back.
    signal::notify(&tx, &[Signal::WINCH]).unwrap();
    assert_eq!(disposition(urg), libc::SIG_DFL);
    signal::stop(&tx);
    assert!(rx.try_recv().is_err(), "URG came after reset");
}

#[test]
fn signals_print_as_go_prints_them() {
    for (sig, text) in [
        (libc::SIGHUP, "hangup"),
        (libc::SIGINT, "interrupt"),
        (libc::SIGQUIT, "quit"),
        (libc::SIGKILL, "killed"),
        (libc::SIGUSR1, "user defined signal 1"),
        (libc::SIGPIPE, "broken pipe"),
        (libc::SIGTERM, "terminated"),
        (libc::SIGCHLD, "child exited"),
        (libc::SIGWINCH, "window changed"),
        (40, "signal 40"),
    ] {
        assert_eq!(Signal::from_raw(sig).to_string(), text);
    }
    assert_eq!(format!("{:?}", Signal::TERM), "Signal(15: terminated)");
}
