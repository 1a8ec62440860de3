//! Cache hints for the hot loops of the capture reader and its users.

/// Asks the processor to bring each cache line of `value` into its caches,
/// without waiting for them: for data that a later step will read.
#[inline(always)]
pub fn prefetch<T: ?Sized>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = (value as *const T).cast::<i8>();
        // One address in each line from the first byte's to the one past
        // the last byte's (a fixed count for a sized value, which the
        // compiler unrolls).
        let lines = std::mem::size_of_val(value).div_ceil(LINE) + 1;
        for k in 0..lines {
            let at = start.wrapping_add(k * LINE);
            // SAFETY: a prefetch is only a hint: it reads nothing the program
            // sees and never faults, whatever the address. The intrinsic is
            // unsafe only for its `sse` target feature, which every x86_64
            // processor has.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
