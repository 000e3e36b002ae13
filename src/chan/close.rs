//! Closing (Go's `closechan`), and what dropping the last end of a channel does: the last
//! [`Sender`] closes it, the last [`Receiver`] orphans it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::hchan::{Chan, State};
use super::waitq::claim_first;
use super::{CloseError, Receiver, Sender};
use crate::select::Signal;

impl<T> State<T> {
    /// Completes every parked operation: receivers get "closed" (an empty slot), senders
    /// get their value back (a full slot). Returns the signals to wake after unlocking.
    fn fire_all(&mut self) -> Vec<Arc<Signal>> {
        let mut wake = Vec::new();
        for q in [&mut self.recvq, &mut self.sendq] {
            while let Some(w) = claim_first(q) {
                w.signal.fire(w.case);
                wake.push(w.signal.clone());
            }
        }
        wake
    }
}

impl<T> Chan<T> {
    /// Closes the channel; `Err` if it was already closed.
    pub(super) fn close(&self) -> Result<(), CloseError> {
        let wake = {
            let mut g = self.locked();
            let st = g.state();
            if st.closed {
                return Err(CloseError);
            }
            st.closed = true;
            st.fire_all()
        };
        for s in wake {
            s.wake();
        }
        Ok(())
    }

    /// The last receiver is gone: fail every parked and future send, free the buffer.
    fn orphan(&self) {
        let (wake, buf) = {
            let mut g = self.locked();
            let st = g.state();
            st.orphaned = true;
            let wake = st.fire_all();
            (wake, std::mem::take(&mut st.buf))
        };
        // Values are dropped here, outside the lock: their Drop may use this channel.
        drop(buf);
        for s in wake {
            s.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: nobody can send or close any more. Close, unless done.
            let _ = self.chan.close();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.orphan();
        }
    }
}
