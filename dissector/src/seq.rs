//! Sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4).

/// `a` is after `b` in sequence space.
#[inline]
pub fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a` is `b` or after it.
#[inline]
pub fn at_or_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around() {
        assert!(after(5, u32::MAX - 5));
        assert!(!after(u32::MAX - 5, 5));
        assert!(at_or_after(7, 7));
        assert!(!after(7, 7));
    }
}
