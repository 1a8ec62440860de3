//! Timestamps as tcpdump's `ts_print` writes them (util-print.c), in UTC.

use super::{two_digits, Line, TimestampStyle};

/// A `struct timeval`: seconds and microseconds, as libpcap hands tcpdump a
/// record's time at its default (microsecond) precision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct TimeVal {
    pub(super) sec: u64,
    pub(super) usec: u64,
}

impl TimeVal {
    /// From nanoseconds since the epoch; the sub-microsecond part is dropped,
    /// as libpcap drops it when it scales a nanosecond file down.
    pub(super) fn from_ns(ns: u64) -> Self {
        TimeVal {
            sec: ns / 1_000_000_000,
            usec: ns % 1_000_000_000 / 1000,
        }
    }

    /// `netdissect_timevalisset`.
    fn is_set(self) -> bool {
        self.sec != 0 || self.usec != 0
    }

    /// `self - earlier`, with `self >= earlier` (`netdissect_timevalsub`).
    fn minus(self, earlier: TimeVal) -> TimeVal {
        let (mut sec, mut usec) = (
            self.sec - earlier.sec,
            self.usec as i64 - earlier.usec as i64,
        );
        if usec < 0 {
            sec -= 1;
            usec += 1_000_000;
        }
        TimeVal {
            sec,
            usec: usec as u64,
        }
    }
}

/// The reference time `-ttt` and `-ttttt` measure from (tcpdump's static `tv_ref`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Clock {
    reference: TimeVal,
}

impl Clock {
    /// Writes the timestamp of a packet taken at `tv` (with its trailing
    /// space), and moves the reference as tcpdump does. Called once for every
    /// packet of the capture, printed or not.
    pub(super) fn write(&mut self, line: &mut Line<'_>, style: TimestampStyle, tv: TimeVal) {
        match style {
            TimestampStyle::Default => {
                write_hmsfrac(line, tv, false);
                line.byte(b' ');
            }
            TimestampStyle::None => {}
            TimestampStyle::Epoch => {
                // `(unsigned)sec`: the low 32 bits, and an error when the top one is set.
                let sec = tv.sec as u32;
                if sec & 0x8000_0000 != 0 {
                    line.text("[Error converting time]");
                } else {
                    line.num(sec);
                    line.byte(b'.');
                    line.padded(tv.usec, 6, b'0');
                }
                line.byte(b' ');
            }
            TimestampStyle::Delta | TimestampStyle::SinceFirst => {
                if !self.reference.is_set() {
                    self.reference = tv;
                }
                let negative = tv < self.reference;
                let delta = if negative {
                    self.reference.minus(tv)
                } else {
                    tv.minus(self.reference)
                };
                line.byte(if negative { b'-' } else { b' ' });
                write_hmsfrac(line, delta, false);
                line.byte(b' ');
                if style == TimestampStyle::Delta {
                    self.reference = tv;
                }
            }
            TimestampStyle::Date => {
                write_hmsfrac(line, tv, true);
                line.byte(b' ');
            }
        }
    }

    /// Accounts for a packet that is not printed (only the reference moves).
    pub(super) fn skip(&mut self, style: TimestampStyle, tv: TimeVal) {
        match style {
            TimestampStyle::Delta => self.reference = tv,
            TimestampStyle::SinceFirst if !self.reference.is_set() => self.reference = tv,
            _ => {}
        }
    }
}

/// `ts_date_hmsfrac_print` in UTC: `[YYYY-MM-DD ]HH:MM:SS.ffffff`.
fn write_hmsfrac(line: &mut Line<'_>, tv: TimeVal, with_date: bool) {
    if (tv.sec as u32) & 0x8000_0000 != 0 {
        line.text("[Error converting time]");
        return;
    }
    let days = tv.sec / 86_400;
    let secs = tv.sec % 86_400;
    if with_date {
        let (y, m, d) = civil_from_days(days);
        line.padded(y, 4, b'0');
        let mut date = *b"-mm-dd ";
        date[1..3].copy_from_slice(&two_digits(m.into()));
        date[4..6].copy_from_slice(&two_digits(d.into()));
        line.bytes(&date);
    }
    let mut time = *b"HH:MM:SS.ffffff";
    time[0..2].copy_from_slice(&two_digits(secs / 3600));
    time[3..5].copy_from_slice(&two_digits(secs / 60 % 60));
    time[6..8].copy_from_slice(&two_digits(secs % 60));
    time[9..11].copy_from_slice(&two_digits(tv.usec / 10_000));
    time[11..13].copy_from_slice(&two_digits(tv.usec / 100 % 100));
    time[13..15].copy_from_slice(&two_digits(tv.usec % 100));
    line.bytes(&time);
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (H. Hinnant's `civil_from_days`, for days not before 1970).
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(clock: &mut Clock, style: TimestampStyle, ns: u64) -> String {
        let mut buf = Vec::new();
        let mut line = Line {
            buf: &mut buf,
            proto: "",
            verbose: 0,
        };
        clock.write(&mut line, style, TimeVal::from_ns(ns));
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn styles() {
        let ns = 1_700_000_000_123_456_789;
        let mut c = Clock::default();
        assert_eq!(
            render(&mut c, TimestampStyle::Default, ns),
            "22:13:20.123456 "
        );
        assert_eq!(
            render(&mut c, TimestampStyle::Date, ns),
            "2023-11-14 22:13:20.123456 "
        );
        assert_eq!(
            render(&mut c, TimestampStyle::Epoch, ns),
            "1700000000.123456 "
        );
        assert_eq!(render(&mut c, TimestampStyle::None, ns), "");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn deltas() {
        let mut c = Clock::default();
        let s = TimestampStyle::Delta;
        assert_eq!(render(&mut c, s, 5_000_900_000), " 00:00:00.000000 ");
        assert_eq!(render(&mut c, s, 6_000_000_000), " 00:00:00.999100 ");
        assert_eq!(render(&mut c, s, 5_500_000_000), "-00:00:00.500000 ");
        c.skip(s, TimeVal::from_ns(7_000_000_000));
        assert_eq!(render(&mut c, s, 7_000_001_000), " 00:00:00.000001 ");
        let mut c = Clock::default();
        let s = TimestampStyle::SinceFirst;
        c.skip(s, TimeVal::from_ns(1_000_000_000));
        assert_eq!(render(&mut c, s, 3_700_000_000), " 00:00:02.700000 ");
        assert_eq!(render(&mut c, s, 3_800_000_000), " 00:00:02.800000 ");
    }
}
