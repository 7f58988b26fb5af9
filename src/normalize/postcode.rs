//! Postal codes.

use super::text::{self, Buf, Visible};
use super::{Country, Rejection};

/// Raw input past this is refused before any other work.
const MAX_RAW_BYTES: usize = 64;
/// Longest postcode accepted, in letters and digits; the longest in use have 10.
const MAX_CHARS: usize = 12;

/// The canonical form of a postal code: uppercase ASCII letters and digits, with spaces
/// and hyphens removed, so `sw1a 1aa`, `SW1A1AA` and `SW1A-1AA` compare equal.
///
/// Full-width and other non-ASCII letters and digits are transliterated (`１２３` → `123`).
/// With `Some(Country::US)`, a ZIP+4 code keeps only its 5-digit ZIP code, so
/// `12345-6789` matches `12345`; other countries get the general rules. The result passed
/// in again (with the same country) comes back unchanged.
///
/// ```
/// use regulars::normalize::{postcode, Country};
///
/// assert_eq!(postcode(" sw1a 1aa ", Some(Country::GB))?, "SW1A1AA");
/// assert_eq!(postcode("12345-6789", Some(Country::US))?, "12345");
/// assert_eq!(postcode("1234 ab", None)?, "1234AB");
/// # Ok::<(), regulars::normalize::Rejection>(())
/// ```
///
/// # Errors
///
/// - [`Rejection::Empty`] for blank input; [`Rejection::TooLong`] past 64 bytes;
///   [`Rejection::ControlCharacter`] for control characters other than tab and line breaks.
/// - [`Rejection::Malformed`] for characters other than letters, digits, whitespace and
///   hyphens, for input with no letter or digit, and for more than 12 letters and digits.
/// - For the US: [`Rejection::TooFewDigits`] under 5 digits, and
///   [`Rejection::Malformed`] for letters or a length other than 5 or 9 digits.
pub fn postcode(raw: &str, country: Option<Country>) -> Result<String, Rejection> {
    let mut out = Buf::new();
    postcode_into(raw, country, &mut out)?;
    Ok(out.as_str().to_owned())
}

/// Appends the postcode [`postcode`] gives for `raw` to `out`. On error `out` may hold
/// part of it.
pub(crate) fn postcode_into(
    raw: &str,
    country: Option<Country>,
    out: &mut Buf,
) -> Result<(), Rejection> {
    if text::screen_ascii(raw, MAX_RAW_BYTES)? {
        canonical_ascii(raw.as_bytes(), country, out)
    } else {
        canonical(text::visible(raw), country, out)
    }
}

/// [`canonical`] for screened ASCII input, by bytes. Gives exactly what [`canonical`]
/// gives.
pub(super) fn canonical_ascii(
    raw: &[u8],
    country: Option<Country>,
    out: &mut Buf,
) -> Result<(), Rejection> {
    let start = out.len();
    let mut empty = true;
    for &b in raw {
        if text::is_ascii_space(b) {
            continue;
        }
        empty = false;
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b.to_ascii_uppercase()));
        } else if b != b'-' {
            return Err(malformed("letters, digits, spaces and hyphens"));
        }
        if out.len() - start > MAX_CHARS {
            return Err(malformed("at most 12 letters and digits"));
        }
    }
    check(out, start, empty, country)
}

/// Writes the canonical form of the visible characters of a screened postcode to the
/// end of `out`.
pub(super) fn canonical(
    chars: Visible<'_>,
    country: Option<Country>,
    out: &mut Buf,
) -> Result<(), Rejection> {
    let start = out.len();
    let mut empty = true;
    for c in chars {
        empty = false;
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if c == ' ' || is_hyphen(c) {
            // Separators people put in or leave out as they like.
        } else if c.is_alphanumeric() {
            match deunicode::deunicode_char(c) {
                Some(ascii)
                    if !ascii.is_empty() && ascii.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    for t in ascii.chars() {
                        out.push(t.to_ascii_uppercase());
                    }
                }
                _ => return Err(malformed("letters, digits, spaces and hyphens")),
            }
        } else {
            return Err(malformed("letters, digits, spaces and hyphens"));
        }
        if out.len() - start > MAX_CHARS {
            return Err(malformed("at most 12 letters and digits"));
        }
    }
    check(out, start, empty, country)
}

/// Checks the code written to `out` from `start`, and cuts a ZIP+4 code to its ZIP code.
fn check(
    out: &mut Buf,
    start: usize,
    empty: bool,
    country: Option<Country>,
) -> Result<(), Rejection> {
    if empty {
        return Err(Rejection::Empty);
    }
    let code = out.as_str().get(start..).unwrap_or_default();
    if code.is_empty() {
        return Err(malformed("letters or digits"));
    }

    if country == Some(Country::US) {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("a ZIP code of digits only"));
        }
        match code.len() {
            0..5 => return Err(Rejection::TooFewDigits { min: 5 }),
            5 => {}
            // ZIP+4 names a delivery segment within the ZIP code; the patron's address
            // is the same with or without it.
            9 => out.truncate(start + 5),
            _ => return Err(malformed("5 digits, or 9 for ZIP+4")),
        }
    }
    Ok(())
}

fn malformed(expected: &'static str) -> Rejection {
    Rejection::Malformed { expected }
}

/// ASCII hyphen-minus and the Unicode dashes that word processors substitute for it.
fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}
