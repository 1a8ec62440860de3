//! Zeek's removal timers: inactivity, connection attempt, reset and close
//! delays, and the periodic expiry check.

use super::{ZeekConnection, ZeekEndpointState, NS, TCP_SESSION_TIMER};

/// `tcp_connection_linger`.
const TCP_CONNECTION_LINGER: u64 = 5 * NS;

impl ZeekConnection {
    /// Whether a timer due by `now` removes the connection, the state being
    /// what it is since the last packet. Fired timers are consumed.
    pub(super) fn timers_remove_by(&mut self, now: u64) -> bool {
        use ZeekEndpointState::*;
        if self.delete_at.is_some_and(|d| now >= d) {
            return true;
        }
        // Session::InactivityTimer.
        if now >= self.last_time.saturating_add(self.inactivity_timeout) {
            return true;
        }
        let (o, r) = (&self.sides[self.orig], &self.sides[self.orig ^ 1]);
        if let Some(at) = self.attempt_at {
            if now >= at {
                self.attempt_at = None;
                if self.is_active && matches!(o.state, SynSent | SynAckSent) && r.state == Inactive
                {
                    return true;
                }
            }
        }
        if let Some(at) = self.reset_at {
            if now >= at {
                self.reset_at = None;
                if self.is_active {
                    return true;
                }
            }
        }
        // ExpireTimer, rescheduled every tcp_session_timer.
        for slot in 0..self.expire_at.len() {
            while let Some(t) = self.expire_at[slot] {
                if t > now {
                    break;
                }
                if !self.is_active {
                    self.expire_at[slot] = None;
                    break;
                }
                if self.last_time.saturating_add(TCP_CONNECTION_LINGER) < t {
                    let any_closed = o.did_close || r.did_close;
                    let ends = (o.did_close && r.did_close)
                        || o.state == Reset
                        || r.state == Reset
                        || o.state == Inactive
                        || r.state == Inactive;
                    if (any_closed && ends) || (r.state == Inactive && o.state == Inactive) {
                        return true;
                    }
                }
                // Skip straight to the first tick that can matter.
                let mut next = t.saturating_add(TCP_SESSION_TIMER);
                let quiet_from = self.last_time.saturating_add(TCP_CONNECTION_LINGER);
                if next <= quiet_from {
                    let k = (quiet_from - next) / TCP_SESSION_TIMER + 1;
                    next = next.saturating_add(k.saturating_mul(TCP_SESSION_TIMER));
                }
                self.expire_at[slot] = Some(next);
            }
        }
        false
    }
}
