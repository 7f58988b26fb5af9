//! One-typo checks: Damerau edit distance at most one, and phone numbers one digit off.

/// Whether `a` and `b` are at most one Damerau edit apart: one byte inserted, deleted or
/// substituted, or two adjacent bytes swapped.
///
/// Equal strings (including two empty ones) are zero edits apart and answer `true`, so
/// callers that want "a typo, not the same" check equality first. Bytes are compared, so
/// on non-ASCII text one changed letter may count as more than one edit. Allocation-free.
pub(crate) fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return true;
    }
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let p = common_prefix(a, b);
    if a.len() == b.len() {
        substituted_at(a, b, p) || swapped_at(a, b, p)
    } else {
        let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
        // One byte inserted at `p`: the rest lines up shifted by one.
        short.get(p..) == long.get(p + 1..)
    }
}

/// Whether two E.164 phone numbers differ by one mistyped digit or by two adjacent digits
/// swapped: same length, every other byte equal.
///
/// Identical numbers answer `false` (nothing is off), as do numbers of different lengths
/// (a dropped digit is another number more often than a typo) and differences in anything
/// but ASCII digits. Allocation-free.
pub(crate) fn phone_one_digit_off(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a == b {
        return false;
    }
    let p = common_prefix(a, b);
    let digits = |from: usize, to: usize| {
        a.get(from..to)
            .zip(b.get(from..to))
            .is_some_and(|(x, y)| x.iter().chain(y).all(u8::is_ascii_digit))
    };
    (substituted_at(a, b, p) && digits(p, p + 1)) || (swapped_at(a, b, p) && digits(p, p + 2))
}

/// How many leading bytes `a` and `b` share.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// For equal lengths: whether only the byte at `p` differs.
fn substituted_at(a: &[u8], b: &[u8], p: usize) -> bool {
    a.get(p + 1..) == b.get(p + 1..) && p < a.len()
}

/// For equal lengths: whether the bytes at `p` and `p + 1` are swapped and all else is
/// equal.
fn swapped_at(a: &[u8], b: &[u8], p: usize) -> bool {
    match (a.get(p..p + 2), b.get(p..p + 2)) {
        (Some(x), Some(y)) => x[0] == y[1] && x[1] == y[0] && a.get(p + 2..) == b.get(p + 2..),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_kinds() {
        assert!(within_one_edit("anna", "anna"));
        assert!(within_one_edit("", ""));
        assert!(within_one_edit("", "a"));
        assert!(within_one_edit("a", ""));
        assert!(within_one_edit("meyer", "meier")); // substitution
        assert!(within_one_edit("philips", "phillips")); // insertion
        assert!(within_one_edit("phillips", "philips")); // deletion
        assert!(within_one_edit("thomson", "thompson"));
        assert!(within_one_edit("micheal", "michael")); // transposition
        assert!(within_one_edit("ab", "ba"));
        assert!(within_one_edit("smith", "smitj")); // last byte
        assert!(within_one_edit("xsmith", "smith")); // first byte
    }

    #[test]
    fn more_than_one_edit() {
        assert!(!within_one_edit("", "ab"));
        assert!(!within_one_edit("smith", "smyht"));
        assert!(!within_one_edit("abc", "cba"));
        assert!(!within_one_edit("abcd", "badc"));
        assert!(!within_one_edit("anna", "anne maria"));
        assert!(!within_one_edit("schmidt", "smith"));
        assert!(!within_one_edit("abc", "bca"));
    }

    #[test]
    fn non_ascii_never_panics() {
        assert!(!within_one_edit("zoë", "zoe")); // two bytes against one
        assert!(within_one_edit("zoë", "zoë"));
        assert!(within_one_edit("zoë", "zoëx"));
        let _ = within_one_edit("é", "\u{301}e");
    }

    #[test]
    fn phones() {
        assert!(phone_one_digit_off("+4915112345678", "+4915112345679"));
        assert!(phone_one_digit_off("+4915112345678", "+4915112354678"));
        assert!(phone_one_digit_off("+4915112345678", "+4915112345687"));
        assert!(!phone_one_digit_off("+4915112345678", "+4915112345678"));
        assert!(!phone_one_digit_off("+4915112345678", "+491511234567"));
        assert!(!phone_one_digit_off("+4915112345678", "+4915112345600"));
        assert!(!phone_one_digit_off("+4915112345678", "+4915112346587"));
        assert!(!phone_one_digit_off("+44", "-44"));
        assert!(!phone_one_digit_off("+4", "4+"));
        assert!(!phone_one_digit_off("", ""));
        assert!(phone_one_digit_off("1", "2"));
        assert!(!phone_one_digit_off("é1", "é2x"));
        assert!(!phone_one_digit_off("\u{e9}", "\u{e8}"));
    }
}

/// Whether two folded names are one name with its umlauts written out on one side and
/// dropped on the other: `mueller` and `muller`, `goetz` and `gotz`, `kaestner` and
/// `kastner` (`ä`, `ö`, `ü` are written `ae`, `oe`, `ue` where a keyboard lacks them, and
/// folded to `a`, `o`, `u` where diacritics are dropped).
///
/// Equal strings answer `true`. Allocation-free.
pub(crate) fn same_but_umlauts(a: &str, b: &str) -> bool {
    /// The bytes with `ae`, `oe` and `ue` read as `a`, `o` and `u`.
    fn plain(s: &str) -> impl Iterator<Item = u8> + '_ {
        let bytes = s.as_bytes();
        bytes.iter().enumerate().filter_map(move |(i, &c)| {
            let written_out = c == b'e' && i > 0 && matches!(bytes[i - 1], b'a' | b'o' | b'u');
            (!written_out).then_some(c)
        })
    }
    // Only worth reading when one side is longer by the digraphs it may hold.
    a == b || ((1..=3).contains(&a.len().abs_diff(b.len())) && plain(a).eq(plain(b)))
}

#[cfg(test)]
mod umlaut_tests {
    use super::same_but_umlauts;

    #[test]
    fn written_out_umlauts_are_the_same_name() {
        assert!(same_but_umlauts("mueller", "muller"));
        assert!(same_but_umlauts("waergner", "wargner"));
        assert!(same_but_umlauts("schroeder", "schroder"));
        assert!(same_but_umlauts("muller", "muller"));
        assert!(!same_but_umlauts("muller", "miller"));
        assert!(!same_but_umlauts("mueller", "mullers"));
    }
}

/// The two letters of a one-letter substitution between equal-length names (`jonas` and
/// `jonah` give `(b's', b'h')`), or `None` when they differ in any other way.
/// Allocation-free.
pub(crate) fn substituted_letters(a: &str, b: &str) -> Option<(u8, u8)> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a == b {
        return None;
    }
    let p = common_prefix(a, b);
    if !substituted_at(a, b, p) {
        return None;
    }
    Some((a[p], b[p]))
}

/// Whether two names differ only by one letter written once or twice (`ana` and `anna`,
/// `philip` and `phillip`) or by two neighbouring letters swapped (`michael` and
/// `micheal`): spellings of one name, or a slip writing it, rather than two names.
/// Allocation-free.
pub(crate) fn doubled_or_swapped_letter(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return false;
    }
    let p = common_prefix(a, b);
    if a.len() == b.len() {
        // Swapped neighbours: `..xy..` against `..yx..`, the rest equal.
        return p + 1 < a.len() && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..];
    }
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    // One letter more, and it repeats the letter before it.
    long.len() == short.len() + 1 && p > 0 && long[p] == long[p - 1] && long[p + 1..] == short[p..]
}

/// Whether two letters sit next to each other on a QWERTY keyboard (or are the same):
/// a slipped finger hits a neighbour, so a substitution of two keys far apart is
/// another name more often than a typo (Jonas and Jonah, Mia and Pia).
pub(crate) fn neighbouring_keys(x: u8, y: u8) -> bool {
    const ROWS: [&[u8]; 3] = [b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];
    let place = |c: u8| {
        let c = c.to_ascii_lowercase();
        ROWS.iter()
            .enumerate()
            .find_map(|(row, keys)| keys.iter().position(|&k| k == c).map(|col| (row, col)))
    };
    if x.eq_ignore_ascii_case(&y) {
        return true;
    }
    match (place(x), place(y)) {
        // Rows are staggered by about half a key: a neighbour in the next row is at the
        // same column or one either side.
        (Some((r1, c1)), Some((r2, c2))) => r1.abs_diff(r2) <= 1 && c1.abs_diff(c2) <= 1,
        // Not a letter on the keyboard (an accent, a digit): no claim either way.
        _ => true,
    }
}

#[cfg(test)]
mod keyboard_tests {
    use super::{doubled_or_swapped_letter, neighbouring_keys, substituted_letters};

    #[test]
    fn doubled_and_swapped_letters() {
        for (a, b) in [
            ("ana", "anna"),
            ("phillip", "philip"),
            ("mia", "miaa"),
            ("michael", "micheal"),
            ("ab", "ba"),
        ] {
            assert!(doubled_or_swapped_letter(a, b), "{a} {b}");
            assert!(doubled_or_swapped_letter(b, a), "{b} {a}");
        }
        for (a, b) in [
            ("anna", "anna"),
            ("anna", "hanna"),
            ("louis", "luis"),
            ("jonas", "jonah"),
            ("ana", "anaba"),
            ("abc", "cba"),
            ("a", ""),
            ("", ""),
            ("\u{e9}", "\u{e9}\u{e9}x"),
        ] {
            assert!(!doubled_or_swapped_letter(a, b), "{a} {b}");
            assert!(!doubled_or_swapped_letter(b, a), "{b} {a}");
        }
        // Bytes of one character doubled or swapped: any input answers, none panics.
        let _ = doubled_or_swapped_letter("\u{e9}", "\u{e9}\u{a9}");
    }

    #[test]
    fn one_letter_substitutions_name_their_letters() {
        assert_eq!(substituted_letters("jonas", "jonah"), Some((b's', b'h')));
        assert_eq!(substituted_letters("mia", "pia"), Some((b'm', b'p')));
        assert_eq!(substituted_letters("anna", "anna"), None);
        assert_eq!(substituted_letters("anna", "hanna"), None);
        assert_eq!(substituted_letters("micheal", "michael"), None);
        assert_eq!(substituted_letters("jonas", "jotah"), None);
    }

    #[test]
    fn neighbours_on_the_keyboard() {
        assert!(neighbouring_keys(b'e', b'w'));
        assert!(neighbouring_keys(b'a', b's'));
        assert!(neighbouring_keys(b'g', b'b'));
        assert!(neighbouring_keys(b'q', b'a'));
        assert!(!neighbouring_keys(b's', b'h'));
        assert!(!neighbouring_keys(b'm', b'p'));
        assert!(!neighbouring_keys(b'q', b'p'));
        assert!(neighbouring_keys(b'1', b'p'));
    }
}
