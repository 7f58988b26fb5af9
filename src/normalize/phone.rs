//! Telephone numbers.

use super::country::{PhonePlan, plan_by_calling_code};
use super::text::{self, Buf};
use super::{Country, Rejection};

/// Raw input past this is refused before any other work; a formatted number with an
/// extension fits in well under it.
const MAX_RAW_BYTES: usize = 64;
/// Fewest digits in an international number, calling code included.
const MIN_E164_DIGITS: usize = 7;
/// Most digits in an international number, calling code included (ITU-T E.164).
const MAX_E164_DIGITS: usize = 15;

/// The E.164 form of a telephone number (`+` and up to 15 digits, e.g. `+442079460018`),
/// for recognizing the same line however it was written.
///
/// A number starting with `+` (or with the default country's international call prefix,
/// such as `00` in Europe or `011` in North America) is international: its country comes
/// from its calling code. Any other number is national in `default_country`: its trunk
/// prefix (`0` in most of Europe, `1` in North America, `06` in Hungary, `8` in Russia)
/// is dropped and the country calling code put in front. Countries whose numbers keep
/// their leading `0` (Italy) keep it.
///
/// Formatting is ignored: whitespace (including no-break spaces), `.` `-` `/` `(` `)`,
/// Unicode dashes and invisible characters. A `0` written in parentheses after the
/// calling code, as in `+44 (0)20 7946 0018`, is the trunk prefix and is dropped (kept
/// for Italy, where it is part of the number); so is a `0` typed right after the calling
/// code of a country that never has one there (`+44 020 …`). Decimal digits of any
/// script (full-width, Arabic-Indic, Devanagari, …) count as digits.
///
/// An extension at the end (`x123`, `ext. 123`, `extension 123`, `;ext=123`, `#123`) is
/// dropped: it picks a desk behind the line, and the line is what identifies a patron.
/// Letters anywhere else are rejected, including vanity numbers such as
/// `1-800-FLOWERS`, whose letters cannot be told from typos.
///
/// Country calling codes typed without `+` or a prefix (`44 20 7946 0018`) are not
/// recognized. Numbers are checked for plausible length only, not validated against
/// numbering plans. The result passed in again comes back unchanged, whatever the
/// country.
///
/// ```
/// use regulars::normalize::{phone, Country};
///
/// assert_eq!(phone("020 7946 0018", Country::GB)?, "+442079460018");
/// assert_eq!(phone("+44 (0)20 7946 0018", Country::US)?, "+442079460018");
/// assert_eq!(phone("(415) 555-0132 ext. 12", Country::US)?, "+14155550132");
/// assert_eq!(phone("06 1234 5678", Country::IT)?, "+390612345678");
/// # Ok::<(), regulars::normalize::Rejection>(())
/// ```
///
/// # Errors
///
/// - [`Rejection::Empty`] for blank input; [`Rejection::TooLong`] past 64 bytes;
///   [`Rejection::ControlCharacter`] for control characters other than tab and line breaks.
/// - [`Rejection::NoDigits`] for input with no digits, such as `"+"`.
/// - [`Rejection::Malformed`] for letters or symbols other than an extension, a `+` after
///   the first digit, a calling code starting with `0`, or more than one `0` after the
///   calling code where none belongs.
/// - [`Rejection::TooFewDigits`] and [`Rejection::TooManyDigits`] when the number is
///   shorter or longer than any in its country (national significant number, after the
///   calling code) or than E.164 allows (7 to 15 digits with the calling code).
/// - [`Rejection::UnsupportedCountry`] for a national number when this crate has no
///   numbering data for `default_country` (international numbers do not need it).
pub fn phone(raw: &str, default_country: Country) -> Result<String, Rejection> {
    let mut out = Buf::new();
    phone_into(raw, default_country, &mut out)?;
    Ok(out.as_str().to_owned())
}

/// Appends the number [`phone`] gives for `raw` to `out`; `out` is unchanged on error.
pub(crate) fn phone_into(
    raw: &str,
    default_country: Country,
    out: &mut Buf,
) -> Result<(), Rejection> {
    // Most numbers are written with digits, spaces and the usual punctuation only:
    // nothing screening refuses, so they are read in one pass without it.
    if raw.len() <= MAX_RAW_BYTES
        && let Some(lexed) = lex_plain(raw.as_bytes())
    {
        return lexed_into(&lexed, default_country, out);
    }
    let lexed = if text::screen_ascii(raw, MAX_RAW_BYTES)? {
        lex_ascii(raw)?
    } else {
        lex(raw)?
    };
    lexed_into(&lexed, default_country, out)
}

/// Appends the number read by [`lex`] (or [`lex_ascii`]) to `out`.
pub(super) fn lexed_into(
    lexed: &Lexed,
    default_country: Country,
    out: &mut Buf,
) -> Result<(), Rejection> {
    let digits = lexed.digits.as_slice();
    if digits.is_empty() {
        return Err(if lexed.empty {
            Rejection::Empty
        } else {
            Rejection::NoDigits
        });
    }

    if lexed.plus {
        return finish(digits, lexed.paren_zero, out);
    }
    let plan = default_country
        .phone_plan()
        .ok_or(Rejection::UnsupportedCountry)?;
    if let Some(prefix) = international_prefix(&plan, digits) {
        let paren_zero = lexed.paren_zero.and_then(|i| i.checked_sub(prefix.len()));
        return finish(digits.get(prefix.len()..).unwrap_or(&[]), paren_zero, out);
    }

    let national = plan
        .trunk_prefix
        .and_then(|trunk| digits.strip_prefix(trunk.as_bytes()))
        .unwrap_or(digits);
    let mut full = Digits::new();
    full.extend(plan.calling_code.as_bytes());
    full.extend(national);
    finish(full.as_slice(), None, out)
}

/// The longest of the plan's international call prefixes that `digits` starts with.
fn international_prefix(plan: &PhonePlan, digits: &[u8]) -> Option<&'static str> {
    plan.international_prefixes
        .iter()
        .copied()
        .filter(|prefix| digits.starts_with(prefix.as_bytes()))
        .max_by_key(|prefix| prefix.len())
}

/// Checks and formats an international number: `digits` are ASCII digits starting with
/// the calling code; `paren_zero` is the index of a digit written as `(0)`. Appends the
/// number to `out`.
fn finish(digits: &[u8], paren_zero: Option<usize>, out: &mut Buf) -> Result<(), Rejection> {
    let plan = plan_by_calling_code(digits);
    let code_len = plan.map_or(0, |plan| plan.calling_code.len());
    let drop = match (plan, paren_zero) {
        // "(0)" marks a trunk prefix to leave out when calling from abroad...
        (None, Some(i)) => Some(i),
        // ...as is a 0 right after the code of a country whose numbers never start with
        // one there: people copy the national form after "+44".
        (Some(plan), _) if plan.has_zero_trunk() && digits.get(code_len) == Some(&b'0') => {
            Some(code_len)
        }
        // Where there is no trunk prefix (Italy), a 0 can only be part of the number; and
        // a "(0)" inside the calling code ("+4(0)…" is Romania's 40) is one of its digits.
        (Some(plan), Some(i)) if plan.trunk_prefix.is_some() && i >= code_len => Some(i),
        _ => None,
    };

    let mut kept = Digits::new();
    let (number, plan) = match drop {
        // Nothing dropped: the number is the digits, and its plan the one found for them.
        None => (digits, plan),
        Some(drop) => {
            for (i, &d) in digits.iter().enumerate() {
                if i != drop {
                    kept.push(d);
                }
            }
            let number = kept.as_slice();
            // The result is checked by the plan its own digits name, which is the plan
            // that reads it when it is normalized again: dropping "(0)" after a code this
            // crate has no plan for can leave digits that start with another country's
            // code ("+5 (0)2…" is "+52…", Mexico).
            (number, plan_by_calling_code(number))
        }
    };
    let code_len = plan.map_or(0, |plan| plan.calling_code.len());

    if number.first() == Some(&b'0') {
        return Err(Rejection::Malformed {
            expected: "a country calling code, which never starts with 0",
        });
    }
    if let Some(plan) = plan {
        let national = number.get(code_len..).unwrap_or(&[]);
        if plan.has_zero_trunk() && national.first() == Some(&b'0') {
            // Repairing one stray 0 is safe; guessing about several is not.
            return Err(Rejection::Malformed {
                expected: "at most one 0 after the country calling code",
            });
        }
        if national.len() < plan.min_digits {
            return Err(Rejection::TooFewDigits {
                min: plan.min_digits,
            });
        }
        if national.len() > plan.max_digits {
            return Err(Rejection::TooManyDigits {
                max: plan.max_digits,
            });
        }
    }
    if number.len() < MIN_E164_DIGITS {
        return Err(Rejection::TooFewDigits {
            min: MIN_E164_DIGITS,
        });
    }
    if number.len() > MAX_E164_DIGITS {
        return Err(Rejection::TooManyDigits {
            max: MAX_E164_DIGITS,
        });
    }

    out.push('+');
    out.push_ascii(number);
    Ok(())
}

/// What [`lex`] found in a number.
pub(super) struct Lexed {
    /// The digits, as ASCII, extension excluded.
    digits: Digits,
    /// The number started with `+`.
    plus: bool,
    /// Index in `digits` of a `0` written as `(0)` after the first digit.
    paren_zero: Option<usize>,
    /// Nothing but whitespace and invisible characters.
    empty: bool,
}

/// Reads the digits out of a formatted number, dropping formatting and an extension.
pub(super) fn lex(raw: &str) -> Result<Lexed, Rejection> {
    let mut lexed = Lexed {
        digits: Digits::new(),
        plus: false,
        paren_zero: None,
        empty: true,
    };
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || text::is_invisible(c) {
            continue;
        }
        lexed.empty = false;
        if let Some(d) = digit_value(c) {
            lexed.digits.push(b'0' + d);
            continue;
        }
        let rest = raw.get(i..).unwrap_or("");
        match c {
            '+' | '\u{FF0B}' => {
                if lexed.plus || !lexed.digits.is_empty() {
                    return Err(Rejection::Malformed {
                        expected: "'+' only before the first digit",
                    });
                }
                lexed.plus = true;
            }
            '(' if !lexed.digits.is_empty() && rest.starts_with("(0)") => {
                lexed.paren_zero = Some(lexed.digits.len());
                lexed.digits.push(b'0');
                // Skip the "0)" just read.
                chars.nth(1);
            }
            c if is_separator(c) => {}
            _ if !lexed.digits.is_empty() && is_extension(rest) => break,
            _ => return Err(Rejection::Malformed { expected: "digits" }),
        }
    }
    Ok(lexed)
}

/// [`lex`] for screened ASCII input, by bytes: ASCII has no invisible characters, its
/// whitespace is what [`text::is_ascii_space`] says and its digits are `0`–`9`, so each
/// step is the one [`lex`] takes for the same character.
fn lex_ascii(raw: &str) -> Result<Lexed, Rejection> {
    let mut lexed = Lexed {
        digits: Digits::new(),
        plus: false,
        paren_zero: None,
        empty: true,
    };
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        if text::is_ascii_space(b) {
            continue;
        }
        lexed.empty = false;
        if b.is_ascii_digit() {
            lexed.digits.push(b);
            continue;
        }
        let rest = bytes.get(i - 1..).unwrap_or_default();
        match b {
            b'+' => {
                if lexed.plus || !lexed.digits.is_empty() {
                    return Err(Rejection::Malformed {
                        expected: "'+' only before the first digit",
                    });
                }
                lexed.plus = true;
            }
            b'(' if !lexed.digits.is_empty() && rest.starts_with(b"(0)") => {
                lexed.paren_zero = Some(lexed.digits.len());
                lexed.digits.push(b'0');
                // Skip the "0)" just read.
                i += 2;
            }
            b'.' | b'-' | b'/' | b'(' | b')' => {}
            _ if !lexed.digits.is_empty() && is_extension(raw.get(i - 1..).unwrap_or_default()) => {
                break;
            }
            _ => return Err(Rejection::Malformed { expected: "digits" }),
        }
    }
    Ok(lexed)
}

/// [`lex_ascii`] for a number written with nothing but ASCII digits, the whitespace
/// screening lets through (space, tab, line feed, carriage return) and `+ . - / ( )`:
/// nothing in it for screening to refuse, so it is read without screening. `None`, having
/// read it for nothing, for anything else (letters, an extension, a `+` out of place),
/// which the general steps screen and read.
fn lex_plain(raw: &[u8]) -> Option<Lexed> {
    let mut lexed = Lexed {
        digits: Digits::new(),
        plus: false,
        paren_zero: None,
        empty: true,
    };
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        match b {
            b'0'..=b'9' => lexed.digits.push(b),
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'+' if !lexed.plus && lexed.digits.is_empty() => lexed.plus = true,
            b'(' if !lexed.digits.is_empty() && raw.get(i..i + 2) == Some(b"0)") => {
                lexed.paren_zero = Some(lexed.digits.len());
                lexed.digits.push(b'0');
                // Skip the "0)" just read.
                i += 2;
            }
            b'.' | b'-' | b'/' | b'(' | b')' => {}
            _ => return None,
        }
        lexed.empty = false;
    }
    Some(lexed)
}

/// Whether `rest` is an extension: a marker, then digits and whitespace to the end.
fn is_extension(rest: &str) -> bool {
    // Longest first, so "extension" is not read as "ext" followed by letters.
    const MARKERS: [&str; 5] = [";ext=", "extension", "ext", "x", "#"];
    let Some(after) = MARKERS
        .iter()
        .find(|marker| starts_with_ignore_ascii_case(rest, marker))
        .and_then(|marker| rest.get(marker.len()..))
    else {
        return false;
    };
    let after = after.trim_start_matches(|c: char| {
        matches!(c, '.' | ':' | '=') || c.is_whitespace() || text::is_invisible(c)
    });
    let mut digits = 0;
    for c in after.chars() {
        if digit_value(c).is_some() {
            digits += 1;
        } else if !(c.is_whitespace() || text::is_invisible(c)) {
            return false;
        }
    }
    digits > 0
}

fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Punctuation people put between digit groups.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '.' | '-' | '/' | '(' | ')' | '\u{2010}'
            ..='\u{2015}' // hyphens and dashes
            | '\u{2212}' // minus sign
            | '\u{30FC}' // katakana prolonged sound mark, used as a dash in Japan
            | '\u{FE58}' // small em dash
            | '\u{FE63}' // small hyphen-minus
            | '\u{FF08}' // full-width (
            | '\u{FF09}' // full-width )
            | '\u{FF0D}' // full-width -
            | '\u{FF0E}' // full-width .
            | '\u{FF0F}' // full-width /
    )
}

/// The first code point (digit zero) of every run of ten decimal digits (Unicode general
/// category Nd) in the Basic Multilingual Plane, sorted. Unicode guarantees each run is
/// contiguous and in order 0–9; the list was generated from the Unicode 14 character
/// database. `char::to_digit` only knows ASCII.
const DIGIT_ZEROS: [u32; 37] = [
    0x0030, // ASCII
    0x0660, // Arabic-Indic
    0x06F0, // Extended Arabic-Indic (Persian, Urdu)
    0x07C0, // NKo
    0x0966, // Devanagari
    0x09E6, // Bengali
    0x0A66, // Gurmukhi
    0x0AE6, // Gujarati
    0x0B66, // Oriya
    0x0BE6, // Tamil
    0x0C66, // Telugu
    0x0CE6, // Kannada
    0x0D66, // Malayalam
    0x0DE6, // Sinhala Lith
    0x0E50, // Thai
    0x0ED0, // Lao
    0x0F20, // Tibetan
    0x1040, // Myanmar
    0x1090, // Myanmar Shan
    0x17E0, // Khmer
    0x1810, // Mongolian
    0x1946, // Limbu
    0x19D0, // New Tai Lue
    0x1A80, // Tai Tham Hora
    0x1A90, // Tai Tham Tham
    0x1B50, // Balinese
    0x1BB0, // Sundanese
    0x1C40, // Lepcha
    0x1C50, // Ol Chiki
    0xA620, // Vai
    0xA8D0, // Saurashtra
    0xA900, // Kayah Li
    0xA9D0, // Javanese
    0xA9F0, // Myanmar Tai Laing
    0xAA50, // Cham
    0xABF0, // Meetei Mayek
    0xFF10, // Full-width
];

/// The value of a decimal digit of any script in [`DIGIT_ZEROS`].
fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() {
        return None;
    }
    let code = u32::from(c);
    let run = DIGIT_ZEROS.partition_point(|&zero| zero <= code);
    let zero = DIGIT_ZEROS.get(run.checked_sub(1)?)?;
    u8::try_from(code - zero).ok().filter(|&value| value < 10)
}

/// ASCII digits in a fixed buffer, so that reading a number allocates nothing.
#[derive(Debug, Clone, Copy)]
struct Digits {
    buf: [u8; Digits::CAPACITY],
    len: usize,
}

impl Digits {
    /// Input is at most [`MAX_RAW_BYTES`], so at most that many digits, plus a calling
    /// code of at most three.
    const CAPACITY: usize = MAX_RAW_BYTES + 8;

    fn new() -> Digits {
        Digits {
            buf: [0; Digits::CAPACITY],
            len: 0,
        }
    }

    fn push(&mut self, digit: u8) {
        // Cannot overflow given the input limit; if it somehow did, extra digits would
        // be dropped and the length checks would still reject the number.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = digit;
            self.len += 1;
        }
    }

    fn extend(&mut self, digits: &[u8]) {
        for &d in digits {
            self.push(d);
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn len(&self) -> usize {
        self.len
    }

    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_are_numeric() {
        assert!(DIGIT_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
        for zero in DIGIT_ZEROS {
            for value in 0..10 {
                let c = char::from_u32(zero + value).unwrap();
                assert!(c.is_numeric(), "{c:?}");
                assert_eq!(digit_value(c), Some(value as u8), "{c:?}");
            }
        }
        assert_eq!(digit_value('\u{0669}'), Some(9));
        assert_eq!(digit_value('\u{066A}'), None);
        assert_eq!(digit_value('²'), None);
        assert_eq!(digit_value('a'), None);
    }

    /// What `finish` did before it took the digits as they are when nothing is dropped:
    /// copy them, and look their plan up again.
    fn finish_copying(digits: &[u8], paren_zero: Option<usize>) -> Result<String, Rejection> {
        let plan = plan_by_calling_code(digits);
        let code_len = plan.map_or(0, |plan| plan.calling_code.len());
        let drop = match (plan, paren_zero) {
            (None, Some(i)) => Some(i),
            (Some(plan), _) if plan.has_zero_trunk() && digits.get(code_len) == Some(&b'0') => {
                Some(code_len)
            }
            (Some(plan), Some(i)) if plan.trunk_prefix.is_some() && i >= code_len => Some(i),
            _ => None,
        };
        let number: Vec<u8> = (0..digits.len())
            .filter(|&i| Some(i) != drop)
            .filter_map(|i| digits.get(i).copied())
            .collect();
        let mut out = Buf::new();
        out.push_str("+");
        out.push_ascii(&number);
        let plan = plan_by_calling_code(&number);
        let code_len = plan.map_or(0, |plan| plan.calling_code.len());
        if number.first() == Some(&b'0') {
            return Err(Rejection::Malformed {
                expected: "a country calling code, which never starts with 0",
            });
        }
        if let Some(plan) = plan {
            let national = number.get(code_len..).unwrap_or(&[]);
            if plan.has_zero_trunk() && national.first() == Some(&b'0') {
                return Err(Rejection::Malformed {
                    expected: "at most one 0 after the country calling code",
                });
            }
            if national.len() < plan.min_digits {
                return Err(Rejection::TooFewDigits {
                    min: plan.min_digits,
                });
            }
            if national.len() > plan.max_digits {
                return Err(Rejection::TooManyDigits {
                    max: plan.max_digits,
                });
            }
        }
        if number.len() < MIN_E164_DIGITS {
            return Err(Rejection::TooFewDigits {
                min: MIN_E164_DIGITS,
            });
        }
        if number.len() > MAX_E164_DIGITS {
            return Err(Rejection::TooManyDigits {
                max: MAX_E164_DIGITS,
            });
        }
        Ok(out.as_str().to_owned())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Taking the digits as they are when nothing is dropped gives what copying them
        /// gave, for numbers with and without a "(0)", a stray 0 or a known code.
        #[test]
        fn finishing_without_a_copy_is_finishing_with_one(
            digits in "(44|39|1|49|5|52|40|0|9)0?[0-9]{0,16}",
            paren_zero in proptest::option::of(0usize..20),
        ) {
            let mut out = Buf::new();
            let got = finish(digits.as_bytes(), paren_zero, &mut out)
                .map(|()| out.as_str().to_owned());
            proptest::prop_assert_eq!(got, finish_copying(digits.as_bytes(), paren_zero));
        }
    }

    #[test]
    fn extensions() {
        for ext in [
            "x12",
            "X 12",
            "ext. 12",
            "Ext12",
            "extension: 12",
            ";ext=12",
            "#12",
            "x１２",
        ] {
            assert!(is_extension(ext), "{ext}");
        }
        for not in ["x", "ext.", "xa1", "FLOWERS", "e12", "#12a"] {
            assert!(!is_extension(not), "{not}");
        }
    }
}
