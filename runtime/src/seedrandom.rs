//! A seeded random number generator that gives exactly the numbers of the
//! JavaScript `seedrandom` library (its default ARC4 generator), so graphs written
//! for NoFlo's `seedrandom/RandomArray` draw the same picture for the same seed.
//!
//! The algorithm: the seed string's UTF-16 code units are mixed into a key of at
//! most 256 bytes, the key schedules an RC4 state, the first 256 output bytes are
//! discarded, and each number is built from 6 output bytes (topped up byte by byte
//! until it has 52 significant bits) divided by the matching power of 256.

const WIDTH: f64 = 256.0;
/// 256^6: the denominator of a 6-byte draw.
const START_DENOM: f64 = 281_474_976_710_656.0;
/// 2^52 and 2^53: a draw keeps 52 significant bits.
const SIGNIFICANCE: f64 = 4_503_599_627_370_496.0;
const OVERFLOW: f64 = 9_007_199_254_740_992.0;

/// The generator, seeded from a string.
#[derive(Clone, Debug)]
pub struct SeedRandom {
    i: u8,
    j: u8,
    s: [u8; 256],
}

impl SeedRandom {
    pub fn new(seed: &str) -> SeedRandom {
        let key = mix_key(seed);
        let mut s = [0u8; 256];
        for (i, v) in s.iter_mut().enumerate() {
            *v = i as u8;
        }
        // An empty seed schedules with the one-byte key [0].
        let key: &[u8] = if key.is_empty() { &[0] } else { &key };
        let mut j = 0u8;
        for i in 0..256 {
            let t = s[i];
            j = j.wrapping_add(key[i % key.len()]).wrapping_add(t);
            s[i] = s[j as usize];
            s[j as usize] = t;
        }
        let mut rng = SeedRandom { i: 0, j: 0, s };
        // RC4-drop[256]: the first bytes of RC4 are biased.
        for _ in 0..256 {
            rng.byte();
        }
        rng
    }

    fn byte(&mut self) -> u8 {
        self.i = self.i.wrapping_add(1);
        let t = self.s[self.i as usize];
        self.j = self.j.wrapping_add(t);
        self.s[self.i as usize] = self.s[self.j as usize];
        self.s[self.j as usize] = t;
        self.s[(self.s[self.i as usize].wrapping_add(t)) as usize]
    }

    /// The next `count` bytes as one big-endian number.
    fn bytes(&mut self, count: usize) -> f64 {
        let mut r = 0.0;
        for _ in 0..count {
            r = r * WIDTH + f64::from(self.byte());
        }
        r
    }

    /// The next number in [0, 1), as `prng()` returns it.
    pub fn next_f64(&mut self) -> f64 {
        let mut n = self.bytes(6);
        let mut d = START_DENOM;
        let mut x = 0u32;
        while n < SIGNIFICANCE {
            n = (n + f64::from(x)) * WIDTH;
            d *= WIDTH;
            x = u32::from(self.byte());
        }
        while n >= OVERFLOW {
            n /= 2.0;
            d /= 2.0;
            x >>= 1;
        }
        (n + f64::from(x)) / d
    }
}

/// Mixes the seed's UTF-16 code units into a key of at most 256 bytes: each unit
/// lands on position `j mod 256`, combined with a running smear of what was there.
fn mix_key(seed: &str) -> Vec<u8> {
    let mut key: Vec<u8> = Vec::new();
    let mut smear: u32 = 0;
    for (j, unit) in seed.encode_utf16().enumerate() {
        let at = j & 255;
        if at == key.len() {
            key.push(0);
        }
        smear ^= u32::from(key[at]) * 19;
        key[at] = (smear.wrapping_add(u32::from(unit)) & 255) as u8;
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First five numbers of `seedrandom(seed)()` from the npm package (2.3.6 and
    /// 3.0.5 agree), printed by Node with full precision.
    const KNOWN: &[(&str, [f64; 5])] = &[
        ("", [0.23144008215179881, 0.27404636548159655, 0.7901279251811976, 0.40384160557189036, 0.1321140086237582]),
        (
            "foobar",
            [0.18127051272640832, 0.7972945080708022, 0.5967954035989502, 0.37634666983560366, 0.1587186444763846],
        ),
        (
            "3858f62230ac3c915f300c664312c63f",
            [0.5062066042683144, 0.5276189435515396, 0.8357100120298618, 0.4758814438966403, 0.9859566426084885],
        ),
        (
            "hello.",
            [0.9282578795792454, 0.3752569768646784, 0.7316977468919549, 0.23707962084956113, 0.06057665448709666],
        ),
        (
            "3858f",
            [0.6220649739347093, 0.6253459577523095, 0.40430572080613486, 0.03052895227229792, 0.6001824807089113],
        ),
    ];

    #[test]
    fn matches_the_javascript_library() {
        for (seed, expected) in KNOWN {
            let mut rng = SeedRandom::new(seed);
            let got: Vec<f64> = (0..5).map(|_| rng.next_f64()).collect();
            assert_eq!(got, expected.to_vec(), "seed {seed:?}");
        }
    }

    #[test]
    fn long_and_non_ascii_seeds_match_too() {
        // Over 256 code units the key wraps around; non-ASCII seeds mix UTF-16 units.
        for (seed, expected) in [
            ("x".repeat(600), [0.07126547695686472, 0.24504413817144263, 0.5560706138005013]),
            ("ünïcödé ✓".to_string(), [0.2225365713586062, 0.24536314504813167, 0.045975034622036774]),
        ] {
            let mut rng = SeedRandom::new(&seed);
            let got: Vec<f64> = (0..3).map(|_| rng.next_f64()).collect();
            assert_eq!(got, expected.to_vec());
        }
    }
}
