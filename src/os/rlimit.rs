//! Raising the open-file limit, as every Go program does at start.
//!
//! Go: `os/rlimit.go` (Go 1.19+): the soft RLIMIT_NOFILE is raised to the hard limit at
//! start-up, because a server holding thousands of connections needs thousands of
//! descriptors and the usual soft limit is 1024. gonet does it on the first `listen` or
//! `dial`, once.

use std::sync::Once;

/// Raises the soft RLIMIT_NOFILE to the hard limit, once per process; logged at debug.
pub(crate) fn raise_open_files_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| match raise() {
        Ok((from, to)) if from != to => {
            log::debug!("gonet: RLIMIT_NOFILE raised from {from} to {to}")
        }
        Ok(_) => {}
        Err(e) => log::debug!("gonet: cannot raise RLIMIT_NOFILE: {e}"),
    });
}

fn raise() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let from = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: lim is a valid rlimit with soft <= hard.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((from, lim.rlim_cur))
}
