//! Jaro-Winkler similarity.

/// Winkler's prefix scale: how much each common leading byte lifts the score.
const PREFIX_SCALE: f64 = 0.1;
/// At most this many common leading bytes count.
const MAX_PREFIX: usize = 4;
/// Winkler only boosts pairs that are already alike; below this the plain Jaro score
/// stands, so short unrelated names sharing a first letter are not pushed up.
const BOOST_THRESHOLD: f64 = 0.7;
/// Strings up to this many bytes keep their match flags on the stack (4 × 64 bits).
const STACK_WORDS: usize = 4;

/// The Jaro-Winkler similarity of two strings, from `0.0` (nothing in common) to `1.0`
/// (identical), as defined by Winkler (1990): the Jaro score `j`, and for `j ≥ 0.7` a boost
/// of `l × 0.1 × (1 − j)` for `l` common leading bytes, at most 4.
///
/// Bytes are compared, which is exact for the folded ASCII names this is meant for; other
/// UTF-8 text still gets a score, per byte. Two empty strings are identical (`1.0`); an
/// empty string against a non-empty one scores `0.0`. Strings up to 256 bytes are compared
/// without allocating; longer ones allocate their match flags. `martha`/`marhta` scores
/// 0.961, `dwayne`/`duane` 0.84.
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    winkler(jaro(a, b), a, b)
}

/// Winkler's boost of a Jaro score `j` for the prefix `a` and `b` share (up to
/// [`MAX_PREFIX`] bytes), given only to scores of [`BOOST_THRESHOLD`] or more.
fn winkler(j: f64, a: &[u8], b: &[u8]) -> f64 {
    if j < BOOST_THRESHOLD {
        return j;
    }
    let prefix = a
        .iter()
        .zip(b)
        .take(MAX_PREFIX)
        .take_while(|(x, y)| x == y)
        .count();
    // `prefix` is at most 4, so the conversion is exact.
    j + f64::from(prefix as u8) * PREFIX_SCALE * (1.0 - j)
}

/// Whether [`jaro_winkler`] of `a` and `b` could be `threshold` or more, from a bound that
/// costs a pass over each string: a byte of one that does not occur in the other can never
/// be a match, and Jaro with `m` matches is at most `(m/|a| + m/|b| + 1) / 3`. `false`
/// proves the score is below `threshold`; `true` only says it may not be.
pub(crate) fn jaro_winkler_could_reach(a: &str, b: &str, threshold: f64) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        // Nothing cheaper to say: these are quick to score.
        return true;
    }
    let (in_a, in_b) = (byte_set(a), byte_set(b));
    let present = |s: &[u8], set: u64| s.iter().filter(|&&c| set & (1 << (c & 63)) != 0).count();
    let most_matches = present(a, in_b).min(present(b, in_a));
    if most_matches == 0 {
        return threshold <= 0.0;
    }
    let m = most_matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + 1.0) / 3.0;
    let most = winkler(jaro, a, b);
    // Rounding may take the bound a hair under a score it equals.
    most + 1e-9 >= threshold
}

/// The bytes of `s` as a set: each byte sets bit `byte % 64`. Bytes sharing a bit (a
/// digit and a letter, or bytes beyond ASCII) only make the bounds read from it looser,
/// never wrong.
pub(crate) fn byte_set(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |set, &c| set | (1 << (c & 63)))
}

/// [`jaro_winkler_could_reach`] of `a` (whose [`byte_set`] is `a_set`) and `b`: the same
/// answer, settled for most unlike pairs from the two sets alone. Every bit one string
/// has and the other lacks stands for at least one of its bytes that cannot match, so
/// the matches are at most each length less those bits; a score that stays below
/// `threshold` even then is below it. Otherwise the bytes are counted as
/// [`jaro_winkler_could_reach`] counts them.
pub(crate) fn jaro_winkler_could_reach_with(
    (a, a_set): (&str, u64),
    b: &str,
    threshold: f64,
) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.is_empty() || y.is_empty() {
        return true;
    }
    let b_set = byte_set(y);
    let only = |set: u64, other: u64| (set & !other).count_ones() as usize;
    let most_matches =
        (x.len() - only(a_set, b_set).min(x.len())).min(y.len() - only(b_set, a_set).min(y.len()));
    if most_matches > 0 {
        let m = most_matches as f64;
        let jaro = (m / x.len() as f64 + m / y.len() as f64 + 1.0) / 3.0;
        // The bound only grows with the matches: below here, the exact count is too.
        if winkler(jaro, x, y) + 1e-9 < threshold {
            return false;
        }
    }
    jaro_winkler_could_reach(a, b, threshold)
}

/// The plain Jaro similarity of two byte strings.
fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let words_a = a.len().div_ceil(64);
    let words_b = b.len().div_ceil(64);
    if words_a <= STACK_WORDS && words_b <= STACK_WORDS {
        let mut flags_a = [0u64; STACK_WORDS];
        let mut flags_b = [0u64; STACK_WORDS];
        jaro_with(a, b, &mut flags_a[..words_a], &mut flags_b[..words_b])
    } else {
        let mut flags_a = vec![0u64; words_a];
        let mut flags_b = vec![0u64; words_b];
        jaro_with(a, b, &mut flags_a, &mut flags_b)
    }
}

/// Jaro with caller-provided, zeroed match-flag bitsets (one bit per byte).
fn jaro_with(a: &[u8], b: &[u8], flags_a: &mut [u64], flags_b: &mut [u64]) -> f64 {
    // Matching bytes count only within this distance of each other.
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut matches = 0usize;
    for (i, &byte) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        let candidates = b.get(lo..hi).unwrap_or_default();
        for (j, _) in candidates.iter().enumerate().filter(|&(_, &c)| c == byte) {
            let j = lo + j;
            let (word, bit) = (j / 64, 1u64 << (j % 64));
            if flags_b[word] & bit == 0 {
                flags_b[word] |= bit;
                flags_a[i / 64] |= 1u64 << (i % 64);
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }

    // Walk the matched bytes of both strings in order; each position where they differ
    // is half a transposition.
    let mut half_transpositions = 0usize;
    let mut b_bits = SetBits::new(flags_b);
    for i in SetBits::new(flags_a) {
        let Some(j) = b_bits.next() else { break };
        if a.get(i) != b.get(j) {
            half_transpositions += 1;
        }
    }
    let m = matches as f64;
    let t = (half_transpositions / 2) as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0
}

/// The positions of the set bits of a bitset, in increasing order.
#[derive(Debug)]
struct SetBits<'a> {
    /// The words not yet reached.
    words: &'a [u64],
    /// The unvisited bits of the current word.
    current: u64,
    /// Position of bit 0 of `current`.
    base: usize,
}

impl<'a> SetBits<'a> {
    /// Iterates over the set bits of `words`.
    fn new(words: &'a [u64]) -> Self {
        match words.split_first() {
            Some((&first, rest)) => Self {
                words: rest,
                current: first,
                base: 0,
            },
            None => Self {
                words,
                current: 0,
                base: 0,
            },
        }
    }
}

impl Iterator for SetBits<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.current == 0 {
            let (&next, rest) = self.words.split_first()?;
            self.words = rest;
            self.current = next;
            self.base += 64;
        }
        let bit = self.current.trailing_zeros() as usize;
        self.current &= self.current - 1;
        Some(self.base + bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The bound never rules out a score the strings reach.
        #[test]
        fn the_bound_is_never_below_the_score(
            a in "[a-fé ]{0,12}",
            b in "[a-fé ]{0,12}",
            threshold in 0.0f64..1.0,
        ) {
            let score = jaro_winkler(&a, &b);
            for threshold in [threshold, 0.8, 0.94, score] {
                if !jaro_winkler_could_reach(&a, &b, threshold) {
                    proptest::prop_assert!(score < threshold, "{a} {b} {score} {threshold}");
                }
            }
        }

        /// The bound read from a set worked out beforehand answers as the bound itself.
        #[test]
        fn the_bound_with_a_set_answers_as_the_bound(
            a in "[a-fé ]{0,12}",
            b in "[a-zé ]{0,12}",
            threshold in 0.0f64..1.0,
        ) {
            let set = byte_set(a.as_bytes());
            for threshold in [threshold, 0.0, 0.8, 0.94, jaro_winkler(&a, &b)] {
                proptest::prop_assert_eq!(
                    jaro_winkler_could_reach_with((&a, set), &b, threshold),
                    jaro_winkler_could_reach(&a, &b, threshold),
                    "{} {} {}", a, b, threshold
                );
            }
        }
    }

    #[test]
    fn the_bound_rules_out_unlike_names() {
        assert!(!jaro_winkler_could_reach("john", "mary", 0.8));
        assert!(!jaro_winkler_could_reach("anderson", "ng", 0.8));
        assert!(jaro_winkler_could_reach("martha", "marhta", 0.94));
        assert!(jaro_winkler_could_reach("dwayne", "duane", 0.8));
    }

    fn close(x: f64, y: f64) -> bool {
        (x - y).abs() < 1e-4
    }

    #[test]
    fn textbook_values() {
        // Winkler's and Wikipedia's worked examples.
        assert!(close(jaro_winkler("martha", "marhta"), 0.9611));
        assert!(close(jaro_winkler("dwayne", "duane"), 0.84));
        assert!(close(jaro_winkler("dixon", "dicksonx"), 0.8133));
        assert!(close(jaro(b"crate", b"trace"), 0.7333));
        assert!(close(jaro_winkler("jellyfish", "smellyfish"), 0.8963));
    }

    #[test]
    fn edges() {
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("", "anna"), 0.0);
        assert_eq!(jaro_winkler("anna", ""), 0.0);
        assert_eq!(jaro_winkler("anna", "anna"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        assert_eq!(jaro_winkler("a", "b"), 0.0);
        assert_eq!(jaro_winkler("a", "a"), 1.0);
        // Non-ASCII is compared per byte and never panics.
        let s = jaro_winkler("zoë", "zoe");
        assert!((0.0..=1.0).contains(&s));
        assert!(jaro_winkler("müller", "muller") > 0.8);
    }

    #[test]
    fn symmetric_and_bounded() {
        let names = [
            "smith", "smyth", "schmidt", "meyer", "maier", "o brien", "obrien", "x",
        ];
        for a in names {
            for b in names {
                let s = jaro_winkler(a, b);
                assert!((0.0..=1.0).contains(&s), "{a} {b} {s}");
                assert!(close(s, jaro_winkler(b, a)), "{a} {b}");
            }
        }
    }

    #[test]
    fn long_strings_match_short_path() {
        // Past 64 and past 256 bytes the result is the same function.
        let a = "abcdefghij".repeat(30);
        let mut b = a.clone();
        b.replace_range(100..102, "ba");
        let s = jaro_winkler(&a, &b);
        assert!(s > 0.99 && s < 1.0, "{s}");
        assert_eq!(jaro_winkler(&a, &a), 1.0);
        let c = "x".repeat(70);
        assert!(close(
            jaro_winkler(&c, &"x".repeat(69)),
            jaro_winkler(&c, &"x".repeat(69))
        ));
        assert!(jaro_winkler(&c, &"x".repeat(69)) > 0.99);
    }
}
