//! Blocking: the index keys that bring likely candidates together without a scan.
//!
//! A strategy derives keys from the signals (say "family name sounds like MLR, born
//! 1971"). Memory files every patron under the keys of every record it learned from them,
//! and a later recognition looks its own keys up. Keys are hashes, so a collision only
//! proposes an extra candidate, which scoring then rejects.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::recognize::compare::PhoneticKey;
use crate::stable_hash::StableHasher;

/// One blocking key: an opaque hash of a strategy's tag and the values it combines.
///
/// ```
/// use regulars::BlockingKey;
/// let a = BlockingKey::of("family+year", &("mlr", 1971));
/// assert_eq!(a, BlockingKey::of("family+year", &("mlr", 1971)));
/// assert_ne!(a, BlockingKey::of("family+year", &("mlr", 1972)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct BlockingKey(u64);

impl BlockingKey {
    /// The key for `values` under `tag` (a short name of what the key combines). The same
    /// across builds and runs, so indexes saved in a snapshot stay valid.
    pub fn of<T: Hash + ?Sized>(tag: &str, values: &T) -> Self {
        let mut hasher = StableHasher::new(Self::SEED);
        tag.hash(&mut hasher);
        values.hash(&mut hasher);
        Self(hasher.finish())
    }

    const SEED: u64 = 0x5eed_b10c;

    /// The raw hash.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The key with this raw hash (as an index keeps it).
    pub(crate) fn from_u64(raw: u64) -> Self {
        Self(raw)
    }
}

/// A [`BlockingKey`] hashed part-way: its tag and the first of its values. Keys that
/// share them (a name's sound beside each of a record's other values) hash them once;
/// [`finish`](Self::finish) gives the key [`BlockingKey::of`] gives for the values as
/// one tuple, as a tuple hashes its values one after another.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyPrefix(StableHasher);

impl KeyPrefix {
    /// The tag alone: hashed at compile time for a constant tag, as `str` hashes (its
    /// bytes, then `0xff`).
    pub(crate) const fn tag(tag: &str) -> Self {
        Self(
            StableHasher::new(BlockingKey::SEED)
                .written(tag.as_bytes())
                .written(&[0xff]),
        )
    }

    /// The prefix with `value` hashed after what it holds.
    pub(crate) fn then<T: Hash + ?Sized>(mut self, value: &T) -> Self {
        value.hash(&mut self.0);
        self
    }

    /// [`then`](Self::then) for a name's sound, hashed as its `Hash` hashes it, in
    /// fewer steps (see [`PhoneticKey::hash_stably`]).
    pub(crate) fn then_sound(mut self, sound: &PhoneticKey) -> Self {
        sound.hash_stably(&mut self.0);
        self
    }

    /// [`finish`](Self::finish) with a name's sound last (see
    /// [`then_sound`](Self::then_sound)).
    pub(crate) fn finish_sound(self, sound: &PhoneticKey) -> BlockingKey {
        let mut hasher = self.0;
        sound.hash_stably(&mut hasher);
        BlockingKey(hasher.finish())
    }

    /// The key of the prefix's values followed by `last`.
    pub(crate) fn finish<T: Hash + ?Sized>(self, last: &T) -> BlockingKey {
        let mut hasher = self.0;
        last.hash(&mut hasher);
        BlockingKey(hasher.finish())
    }
}

/// The keys one set of signals files under, without repeats.
#[derive(Clone, Debug, Default)]
pub struct BlockingKeys {
    /// Room for every key inline: a recognition looks up about twenty, and spilling to
    /// the heap would allocate on every call.
    keys: SmallVec<[BlockingKey; BlockingKeys::CAP]>,
    /// One bit per key held (bit `key % 64`): a key whose bit is clear is not held,
    /// so most keys are added without searching the list for them.
    held: u64,
}

impl BlockingKeys {
    /// The most keys one set of signals produces; more are dropped, so a hostile record
    /// cannot file a patron under thousands of keys.
    pub const CAP: usize = 32;

    /// Adds a key.
    pub fn push(&mut self, key: BlockingKey) {
        let bit = 1 << (key.0 % 64);
        if self.keys.len() < Self::CAP && (self.held & bit == 0 || !self.keys.contains(&key)) {
            self.keys.push(key);
            self.held |= bit;
        }
    }
    /// The keys.
    pub fn as_slice(&self) -> &[BlockingKey] {
        &self.keys
    }
    /// Removes every key.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys as first pushed, without repeats, at most `CAP`.
    fn first_occurrences(raw: &[u64]) -> Vec<BlockingKey> {
        let mut kept: Vec<BlockingKey> = Vec::new();
        for &r in raw {
            let key = BlockingKey::from_u64(r);
            if kept.len() < BlockingKeys::CAP && !kept.contains(&key) {
                kept.push(key);
            }
        }
        kept
    }

    #[test]
    fn a_prefix_finishes_as_the_whole_key() {
        const TAG: KeyPrefix = KeyPrefix::tag("family+postcode");
        for (tag, first, last) in [("family+postcode", "SM0", "10115"), ("", "", "")] {
            let key = BlockingKey::of(tag, &(first, last));
            assert_eq!(KeyPrefix::tag(tag).then(first).finish(last), key);
            assert_eq!(KeyPrefix::tag(tag).then(&(first, last)).finish(&()), key);
        }
        assert_eq!(
            TAG.then(&7u8).finish(&1971i32),
            BlockingKey::of("family+postcode", &(7u8, 1971i32))
        );
        assert_ne!(
            TAG.then("a").finish("bc"),
            BlockingKey::of("family+postcode", &("ab", "c"))
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// A name's sound hashed in the fast steps gives the keys its `Hash` gives, first
        /// and last, whatever the name: none, every length of code up to full, and codes
        /// past full cut short.
        #[test]
        fn a_sound_hashed_stably_gives_the_keys_its_hash_gives(
            name in "[a-zA-Z ]{0,24}|\\PC{0,12}",
            other in "[a-z]{0,6}",
            year in proptest::prelude::any::<i32>(),
        ) {
            let sound = crate::recognize::compare::phonetic_key(&name);
            let (primary, alternate) = crate::recognize::compare::phonetic_keys_word(&name);
            const TAG: KeyPrefix = KeyPrefix::tag("family+year");
            for sound in [sound, primary, alternate] {
                proptest::prop_assert_eq!(
                    TAG.then_sound(&sound).finish(&year),
                    TAG.then(&sound).finish(&year)
                );
                proptest::prop_assert_eq!(
                    TAG.then(other.as_str()).finish_sound(&sound),
                    TAG.then(other.as_str()).finish(&sound)
                );
                proptest::prop_assert_eq!(
                    TAG.then_sound(&sound).finish_sound(&primary),
                    BlockingKey::of("family+year", &(sound, primary))
                );
            }
        }
    }

    /// Codes of every length, the empty one and a full one included, hash alike both
    /// ways (what the property above draws may miss an extreme).
    #[test]
    fn sounds_of_every_length_hash_alike_both_ways() {
        let names = [
            "",
            "a",
            "smith",
            "schmidt",
            "catherine",
            "christopher",
            "wolfeschlegelsteinhausen",
        ];
        let mut lengths = std::collections::BTreeSet::new();
        for name in names {
            let sound = crate::recognize::compare::phonetic_key(name);
            lengths.insert(sound.as_bytes().len());
            let tag = KeyPrefix::tag("names");
            assert_eq!(
                tag.then_sound(&sound).finish(&()),
                tag.then(&sound).finish(&()),
                "{name}"
            );
            assert_eq!(tag.finish_sound(&sound), tag.finish(&sound), "{name}");
        }
        assert!(lengths.contains(&0) && lengths.contains(&8), "{lengths:?}");
    }

    #[test]
    fn keys_are_kept_once_in_the_order_first_pushed() {
        // Keys sharing their low bits (64 and 128 apart), repeats near and far, and more
        // distinct keys than fit.
        let raw: Vec<u64> = (0..200u64)
            .map(|i| {
                let j = i * i % 97;
                (j % 13) * 64 + j % 4
            })
            .collect();
        let distinct = first_occurrences(&raw).len();
        assert!(distinct > 20 && distinct < 97, "{distinct}");
        for len in [0, 1, 5, 20, 40, 200] {
            let mut keys = BlockingKeys::default();
            for &r in &raw[..len] {
                keys.push(BlockingKey::from_u64(r));
            }
            assert_eq!(keys.as_slice(), first_occurrences(&raw[..len]), "{len}");
            keys.clear();
            assert!(keys.as_slice().is_empty());
            // After clearing, a key pushed before is taken again.
            if let Some(&r) = raw.first() {
                keys.push(BlockingKey::from_u64(r));
                assert_eq!(keys.as_slice(), [BlockingKey::from_u64(r)]);
            }
        }
    }
}
