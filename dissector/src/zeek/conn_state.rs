//! The `conn_state` function of `base/protocols/conn/main.zeek`.

use super::{ZeekConnection, ZeekEndpointState};

impl ZeekConnection {
    /// `conn_state` as Zeek's conn.log writes it.
    pub fn conn_state(&self) -> &'static str {
        // Both sides' states are read before `orig` picks between them: a
        // model out of cache (as an ending connection's is) then waits for
        // `orig` and the states at once, not for `orig` and then a state.
        let states = (self.sides[0].state, self.sides[1].state);
        let (os, rs) = if self.orig == 0 {
            states
        } else {
            (states.1, states.0)
        };
        use ZeekEndpointState::*;
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent)
                || (os == Reset && self.size(self.orig) == 0 && self.size(self.orig ^ 1) == 0)
            {
                "REJ"
            } else if os.is_inactive() {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if rs.is_inactive() {
                if rstos0_history(self.history()) {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if rs.is_inactive() {
                "SH"
            } else {
                "S2"
            }
        } else if rs == Closed {
            if os.is_inactive() {
                "SHR"
            } else {
                "S3"
            }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }
}

/// `/^?S[^HAFGIQ]*R.*/ == history`: a SYN, then a RST before any sign of an
/// answer or of data.
fn rstos0_history(h: &str) -> bool {
    let rest = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = rest.strip_prefix('S') else {
        return false;
    };
    rest.bytes().find(|b| b"HAFGIQR".contains(b)) == Some(b'R')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstos0_pattern() {
        assert!(rstos0_history("SR"));
        assert!(rstos0_history("^SaR"));
        assert!(!rstos0_history("SaFR"));
        assert!(!rstos0_history("R"));
        // The pattern is case-sensitive: only the originator's letters stop it.
        assert!(rstos0_history("ShR"));
        assert!(!rstos0_history("SAR"));
    }
}
