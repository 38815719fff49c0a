//! Test support shared by the crates' robustness tests: a fixed-seed generator and
//! input mutations (bytes flipped, inserted, deleted, truncated, repeated), so a
//! parser fed thousands of damaged inputs fails reproducibly if it ever panics.
//! Not part of the engine's API.

/// xorshift64*: small, fast and the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = b"\x00\xff\x7f\x80()[]{}<>->:.,'\"#=\\\n 0123456789-eE+";

/// One mutation of `seed`: a few edits of the kinds fuzzers find bugs with.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        let last = v.len().saturating_sub(1);
        match rng.below(6) {
            0 if !v.is_empty() => v[at.min(last)] ^= 1 << rng.below(8),
            1 => v.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if at < v.len() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            3 => v.truncate(at),
            4 if !v.is_empty() => {
                // Repeat a slice of itself: deep nesting, long runs, duplicated chunks.
                let from = rng.below(v.len());
                let len = (1 + rng.below(32)).min(v.len() - from);
                let chunk: Vec<u8> = v[from..from + len].to_vec();
                for _ in 0..1 + rng.below(8) {
                    v.splice(at.min(v.len())..at.min(v.len()), chunk.iter().copied());
                }
            }
            _ if !v.is_empty() => v[at.min(last)] = rng.next_u64() as u8,
            _ => {}
        }
    }
    v
}
