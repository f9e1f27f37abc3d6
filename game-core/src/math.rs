//! Fixed-point numbers for authoritative state.
//!
//! Positions, velocities and distances are integers underneath, so a simulation
//! trace is bit-identical on every machine and compiler. `Fixed` is a signed Q23.8
//! number: one unit is one metre, resolved to 1/256 m (about 4 mm), with a range
//! of about +/- 8,000 km. Squared lengths are computed in `i64` and cannot overflow.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// A Q23.8 fixed-point number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Fixed(i32);

impl Fixed {
    pub const FRAC_BITS: u32 = 8;
    pub const ONE: Fixed = Fixed(1 << Self::FRAC_BITS);
    pub const ZERO: Fixed = Fixed(0);

    pub const fn from_raw(raw: i32) -> Self {
        Fixed(raw)
    }

    pub const fn raw(self) -> i32 {
        self.0
    }

    pub const fn from_int(n: i32) -> Self {
        Fixed(n.saturating_mul(1 << Self::FRAC_BITS))
    }

    /// Rounds towards negative infinity.
    pub const fn floor_int(self) -> i32 {
        self.0 >> Self::FRAC_BITS
    }

    /// Converts for display and client-side rendering only; never feed the result
    /// back into authoritative state.
    pub fn to_f32(self) -> f32 {
        self.0 as f32 / (1 << Self::FRAC_BITS) as f32
    }

    /// The nearest fixed-point value (client-side input only).
    pub fn from_f32(v: f32) -> Self {
        let scaled = (v * (1 << Self::FRAC_BITS) as f32).round();
        // `as` saturates for out-of-range floats and maps NaN to zero.
        Fixed(scaled as i32)
    }

    pub const fn abs(self) -> Self {
        Fixed(self.0.saturating_abs())
    }
}

impl Add for Fixed {
    type Output = Fixed;
    fn add(self, o: Fixed) -> Fixed {
        Fixed(self.0.saturating_add(o.0))
    }
}

impl Sub for Fixed {
    type Output = Fixed;
    fn sub(self, o: Fixed) -> Fixed {
        Fixed(self.0.saturating_sub(o.0))
    }
}

impl Neg for Fixed {
    type Output = Fixed;
    fn neg(self) -> Fixed {
        Fixed(self.0.saturating_neg())
    }
}

impl Mul for Fixed {
    type Output = Fixed;
    fn mul(self, o: Fixed) -> Fixed {
        let wide = (self.0 as i64 * o.0 as i64) >> Self::FRAC_BITS;
        Fixed(wide.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
    }
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.to_f32())
    }
}

/// A fixed-point 2-D vector: ground-plane position or velocity.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Vec2 {
    pub x: Fixed,
    pub y: Fixed,
}

impl Vec2 {
    pub const ZERO: Vec2 = Vec2 {
        x: Fixed::ZERO,
        y: Fixed::ZERO,
    };

    pub const fn new(x: Fixed, y: Fixed) -> Self {
        Vec2 { x, y }
    }

    pub const fn from_ints(x: i32, y: i32) -> Self {
        Vec2 {
            x: Fixed::from_int(x),
            y: Fixed::from_int(y),
        }
    }

    /// Squared length in raw units squared (2^16 per square metre); exact.
    pub fn length_squared_raw(self) -> i64 {
        let (x, y) = (self.x.raw() as i64, self.y.raw() as i64);
        x * x + y * y
    }

    /// The squared distance to `other` in raw units, exactly, saturating at
    /// `u64::MAX` (which only points more than 2^31.5 raw units apart on both
    /// axes reach). Branch-free: the AOI and replication call it for every
    /// pair they look at.
    #[inline]
    pub fn distance_squared_raw(self, other: Vec2) -> u64 {
        // Differences of two i32 fit in 33 bits, so each square fits in a
        // u64; only the sum can overflow.
        let dx = (self.x.raw() as i64 - other.x.raw() as i64).unsigned_abs();
        let dy = (self.y.raw() as i64 - other.y.raw() as i64).unsigned_abs();
        let (sum, overflow) = (dx * dx).overflowing_add(dy * dy);
        // Saturating without a branch: all ones when it overflowed.
        sum | (overflow as u64).wrapping_neg()
    }

    /// Whether `other` is within `radius` of `self` (inclusive), exactly.
    pub fn within(self, other: Vec2, radius: Fixed) -> bool {
        let r = radius.raw().unsigned_abs() as u64;
        self.distance_squared_raw(other) <= r * r
    }
}

impl Add for Vec2 {
    type Output = Vec2;
    fn add(self, o: Vec2) -> Vec2 {
        Vec2::new(self.x + o.x, self.y + o.y)
    }
}

impl Sub for Vec2 {
    type Output = Vec2;
    fn sub(self, o: Vec2) -> Vec2 {
        Vec2::new(self.x - o.x, self.y - o.y)
    }
}

impl fmt::Debug for Vec2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:?}, {:?})", self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_arithmetic_is_exact_and_saturating() {
        let a = Fixed::from_int(3);
        let half = Fixed::from_raw(128);
        assert_eq!((a * half).raw(), 384);
        assert_eq!((a + half).to_f32(), 3.5);
        assert_eq!(
            Fixed::from_raw(i32::MAX) + Fixed::ONE,
            Fixed::from_raw(i32::MAX)
        );
        assert_eq!(Fixed::from_f32(f32::NAN), Fixed::ZERO);
        assert_eq!(Fixed::from_f32(-1.25).raw(), -320);
        assert_eq!(Fixed::from_raw(-1).floor_int(), -1);
    }

    #[test]
    fn within_radius_is_inclusive_and_exact() {
        let o = Vec2::ZERO;
        assert!(o.within(Vec2::from_ints(3, 4), Fixed::from_int(5)));
        assert!(!o.within(
            Vec2::new(Fixed::from_int(3), Fixed::from_raw(4 * 256 + 1)),
            Fixed::from_int(5)
        ));
        let far = Vec2::new(Fixed::from_raw(i32::MAX), Fixed::from_raw(i32::MIN));
        assert!(far.length_squared_raw() > 0);
    }

    #[test]
    fn distances_across_the_whole_range_do_not_overflow() {
        let (lo, hi) = (Fixed::from_raw(i32::MIN), Fixed::from_raw(i32::MAX));
        let (a, b) = (Vec2::new(lo, lo), Vec2::new(hi, hi));
        assert_eq!(a.distance_squared_raw(b), u64::MAX, "saturates");
        assert!(!a.within(b, Fixed::from_raw(i32::MAX)));
        let d = (u32::MAX as u64) * (u32::MAX as u64);
        assert_eq!(
            Vec2::new(lo, Fixed::ZERO).distance_squared_raw(Vec2::new(hi, Fixed::ZERO)),
            d
        );
        assert!(Vec2::ZERO.within(
            Vec2::new(Fixed::from_raw(3), Fixed::from_raw(4)),
            Fixed::from_raw(5)
        ));
        assert!(!Vec2::ZERO.within(
            Vec2::new(Fixed::from_raw(3), Fixed::from_raw(4)),
            Fixed::from_raw(4)
        ));
    }
}
