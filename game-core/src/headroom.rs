//! Headroom: room to grow, made early, so steady-state ticks do not allocate.
//!
//! A buffer reused every tick (a zone's events, despawns, held-back tables) has a
//! working size that wanders from tick to tick. Left to `Vec`'s doubling it
//! reallocates whenever a tick beats every earlier one by enough to pass a
//! power of two, which keeps happening long after start-up. [`reserve_twice_peak`] is
//! called at each tick's peak (before the buffer is cleared) and grows the
//! buffer to twice its length as soon as that passes three quarters of what it
//! holds: after that only a tick half again as busy as any before allocates.

/// Grows `v` to hold twice its length if that is over three quarters of its
/// capacity.
pub(crate) fn reserve_twice_peak<T>(v: &mut Vec<T>) {
    let len = v.len();
    if len.saturating_mul(4) > v.capacity().saturating_mul(3) {
        v.reserve(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_grows_to_twice_its_peak_once_the_peak_passes_three_quarters() {
        let mut v: Vec<u32> = Vec::with_capacity(100);
        v.resize(75, 0);
        reserve_twice_peak(&mut v);
        assert_eq!(v.capacity(), 100, "three quarters is still fine");
        v.push(0);
        reserve_twice_peak(&mut v);
        assert!(v.capacity() >= 152);
        let cap = v.capacity();
        v.clear();
        v.resize(110, 0);
        reserve_twice_peak(&mut v);
        assert_eq!(v.capacity(), cap, "no growth for a slightly busier tick");
    }
}
