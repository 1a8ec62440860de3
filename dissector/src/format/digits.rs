//! Digit tables shared by the text formats that write numbers and
//! addresses without `core::fmt` (the tcpdump lines, the `conns` table and
//! the JSON objects).

/// The decimal digits of each byte value, then their count: `[b'7', 0, 0, 1]`.
pub(crate) const OCTETS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut n = 0;
    while n < 256 {
        let (b, d) = (n as u8, b'0');
        table[n] = match b {
            0..=9 => [d + b, 0, 0, 1],
            10..=99 => [d + b / 10, d + b % 10, 0, 2],
            _ => [d + b / 100, d + b / 10 % 10, d + b % 10, 3],
        };
        n += 1;
    }
    table
};

/// The two decimal digits of `n`, below 100.
#[inline]
pub(crate) fn two_digits(n: u64) -> [u8; 2] {
    let at = n as usize * 2;
    [DIGIT_PAIRS[at], DIGIT_PAIRS[at + 1]]
}

/// The most decimal digits a `u64` has.
pub(crate) const U64_DIGITS: usize = 20;

/// The decimal digits of `n`, ending at [`U64_DIGITS`] in a field of zeros
/// twice that long: the field, and where its digits start. So
/// `field[start..U64_DIGITS]` is `n` as `{}` writes it, `field[U64_DIGITS -
/// w..U64_DIGITS]` as `{:0w$}` does (for `w` digits or more), and the
/// `U64_DIGITS` bytes from `start` can be copied whole (a copy of fixed
/// size, cheaper than one of variable size), then cut to the digits.
#[inline(always)]
pub(crate) fn decimal(n: u64) -> ([u8; 2 * U64_DIGITS], usize) {
    let mut field = [b'0'; 2 * U64_DIGITS];
    let mut start = U64_DIGITS;
    let mut rest = n;
    while rest >= 100 {
        start -= 2;
        field[start..start + 2].copy_from_slice(&two_digits(rest % 100));
        rest /= 100;
    }
    if rest >= 10 {
        start -= 2;
        field[start..start + 2].copy_from_slice(&two_digits(rest));
    } else {
        start -= 1;
        field[start] = b'0' + rest as u8;
    }
    (field, start)
}

/// "00" to "99", for writing decimal numbers two digits at a time.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Lowercase hexadecimal digits.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_what_format_writes() {
        let mut values = vec![0, u64::MAX];
        for digits in 1..U64_DIGITS as u32 {
            let p = 10u64.pow(digits);
            values.extend([p - 1, p, p + 1, p / 2 + 7]);
        }
        for n in values {
            let (field, start) = decimal(n);
            let digits = &field[start..U64_DIGITS];
            assert_eq!(std::str::from_utf8(digits).unwrap(), n.to_string());
            let padded = &field[U64_DIGITS - 9..U64_DIGITS];
            if n < 1_000_000_000 {
                assert_eq!(std::str::from_utf8(padded).unwrap(), format!("{n:09}"));
            }
        }
    }
}
