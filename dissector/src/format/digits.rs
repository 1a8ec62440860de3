//! Digit tables shared by the text formats that write numbers and
//! addresses without `core::fmt` (the tcpdump lines and the `conns` table).

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

/// "00" to "99", for writing decimal numbers two digits at a time.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Lowercase hexadecimal digits.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
