//! A hash that stays the same across builds, crate versions and runs, for values that are
//! kept on disk: event fingerprints and blocking keys.
//!
//! `ahash` with fixed seeds is fast but may change with its version or the CPU features a
//! build enables; a snapshot written by one build must mean the same to the next.

use std::hash::Hasher;

/// FNV-1a over the bytes `Hash` feeds it, finished with MurmurHash3's 64-bit mixer so
/// nearby inputs spread over all bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StableHasher(u64);

impl StableHasher {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) const fn new(seed: u64) -> Self {
        Self(Self::OFFSET ^ seed)
    }

    /// The hasher after [`write`](Hasher::write) of `bytes`, at compile time for constant
    /// bytes.
    pub(crate) const fn written(self, bytes: &[u8]) -> Self {
        let mut hash = self.0;
        let mut at = 0;
        while at < bytes.len() {
            hash = (hash ^ bytes[at] as u64).wrapping_mul(Self::PRIME);
            at += 1;
        }
        Self(hash)
    }

    /// The hasher after [`write`](Hasher::write) of `count` zero bytes: a zero byte
    /// leaves the xor as it was, so its step is the multiply alone, and eight of them
    /// one multiply by the prime's eighth power. Zero padding and the high bytes of
    /// small lengths hash in one step instead of one a byte.
    pub(crate) fn write_zeros(&mut self, count: usize) {
        let (eighths, rest) = (count / 8, count % 8);
        for _ in 0..eighths {
            self.0 = self.0.wrapping_mul(Self::PRIME_POWERS[8]);
        }
        // `rest` is below 8: always in the table.
        let power = Self::PRIME_POWERS.get(rest).copied().unwrap_or(1);
        self.0 = self.0.wrapping_mul(power);
    }

    /// `PRIME` to the powers 0 to 8.
    const PRIME_POWERS: [u64; 9] = {
        let mut powers = [1u64; 9];
        let mut at = 1;
        while at < powers.len() {
            powers[at] = powers[at - 1].wrapping_mul(Self::PRIME);
            at += 1;
        }
        powers
    };
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(Self::PRIME);
        }
    }

    // Integers in little-endian order whatever the machine, so the hash is portable.
    fn write_u16(&mut self, n: u16) {
        self.write(&n.to_le_bytes());
    }
    fn write_u32(&mut self, n: u32) {
        self.write(&n.to_le_bytes());
    }
    fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }
    fn write_usize(&mut self, n: usize) {
        self.write(&(n as u64).to_le_bytes());
    }
    fn write_i32(&mut self, n: i32) {
        self.write(&n.to_le_bytes());
    }
    fn write_i64(&mut self, n: i64) {
        self.write(&n.to_le_bytes());
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{Hash, Hasher};

    use super::StableHasher;

    fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
        let mut hasher = StableHasher::new(0);
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn written_is_write() {
        for bytes in [&b""[..], b"a", b"family+postcode", &[0xff, 0, 0x80, 7]] {
            let mut hasher = StableHasher::new(3);
            hasher.write(bytes);
            assert_eq!(
                StableHasher::new(3).written(bytes).finish(),
                hasher.finish()
            );
        }
    }

    #[test]
    fn zeros_hash_as_zero_bytes_written() {
        for count in 0..=20 {
            let mut written = StableHasher::new(7).written(b"sm0");
            written.write(&vec![0; count]);
            let mut zeros = StableHasher::new(7).written(b"sm0");
            zeros.write_zeros(count);
            assert_eq!(zeros.finish(), written.finish(), "{count} zeros");
        }
    }

    #[test]
    fn the_same_value_hashes_the_same_in_every_build() {
        // Pinned: a change here would orphan every snapshot on disk.
        assert_eq!(hash("regulars"), 0x7efd_d1e1_114a_c2bf);
        assert_eq!(hash(&("mlr", 1971_u16)), hash(&("mlr", 1971_u16)));
        assert_ne!(hash(&("mlr", 1971_u16)), hash(&("mlr", 1972_u16)));
    }
}
