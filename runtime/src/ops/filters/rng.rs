//! Small deterministic random numbers for the noise and sampling filters.
//!
//! Everything random in the filters is derived from fixed seeds and pixel
//! coordinates through these functions (splitmix64), so a result never depends on
//! time, threads or how the work was split.

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The splitmix64 finaliser: a bijective 64-bit mix with good avalanche.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash of three values (e.g. seed, x, y), different for every argument order.
#[inline]
pub fn hash3(a: u64, b: u64, c: u64) -> u64 {
    let h = mix64(a.wrapping_add(GOLDEN));
    let h = mix64(h ^ b.wrapping_mul(GOLDEN).wrapping_add(0x632b_e59b_d9b4_e019));
    mix64(h ^ c.wrapping_mul(0xd1b5_4a32_d192_ed03).wrapping_add(GOLDEN))
}

/// A splitmix64 generator.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[-1, 1)`.
    #[inline]
    pub fn symmetric(&mut self) -> f64 {
        self.next_f64() * 2.0 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(42);
        let b: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(43).next_u64(), a[0]);
    }

    #[test]
    fn uniform_values_are_in_range_and_centred() {
        let mut r = Rng::new(7);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let v = r.next_f64();
            assert!((0.0..1.0).contains(&v));
            let s = r.symmetric();
            assert!((-1.0..1.0).contains(&s));
            sum += v;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.01);
    }

    #[test]
    fn hash_separates_neighbours_and_orders() {
        assert_ne!(hash3(0, 1, 2), hash3(0, 2, 1));
        assert_ne!(hash3(0, 0, 0), hash3(0, 0, 1));
        assert_ne!(hash3(0, 0, 0), hash3(1, 0, 0));
        assert_eq!(hash3(5, 6, 7), hash3(5, 6, 7));
    }
}
