//! Personal names.

use super::Rejection;
use super::text::{self, Buf, Visible};

/// Raw input past this is refused before any other work.
const MAX_RAW_BYTES: usize = 1024;
/// Longest folded key accepted; no real name comes near it.
const MAX_KEY_BYTES: usize = 256;

/// The folded comparison key of a personal name: a given name, a family name, or both.
///
/// The key is lowercase ASCII letters and digits in words separated by single spaces, so
/// spellings that differ only in script, accents, case, apostrophes, hyphens or spacing
/// compare equal:
///
/// - invisible characters (zero-width spaces and joiners, bidi controls, soft hyphens,
///   byte order marks) are removed;
/// - letters are transliterated to ASCII with [`deunicode`] (`ë`→`e`, `ß`→`ss`, `ø`→`o`,
///   `ł`→`l`, `æ`→`ae`, Cyrillic, Greek, CJK, …); combining accents are dropped;
/// - apostrophes (`'` `’` `‘` `` ` `` `´` `ʼ` `ʻ` `′`) are removed, so `O'Brien` → `obrien`;
/// - everything else that is not a letter or an ASCII digit (hyphens, dots, commas,
///   symbols, emoji) separates words, so `Smith-Jones` → `smith jones`.
///
/// Tabs and line breaks count as whitespace. A letter [`deunicode`] cannot transliterate
/// separates words like punctuation does, so a name written only in such letters is
/// rejected with [`Rejection::NoLetters`]. The result passed in again comes back
/// unchanged.
///
/// ```
/// use regulars::normalize::name;
///
/// assert_eq!(name(" Zoë  O’Brien-Śmith ")?, "zoe obrien smith");
/// assert_eq!(name("STRASSE")?, name("Straße")?);
/// assert_eq!(name("Иван")?, "ivan");
/// # Ok::<(), regulars::normalize::Rejection>(())
/// ```
///
/// # Errors
///
/// [`Rejection::Empty`] for blank input, [`Rejection::TooLong`] past 1024 bytes of input
/// or 256 bytes of key, [`Rejection::ControlCharacter`] for control characters other than
/// tab, line feed and carriage return, and [`Rejection::NoLetters`] when the key would
/// have no letter in it (`"!!!"`, `"😀"`, `"42"`).
pub fn name(raw: &str) -> Result<String, Rejection> {
    let mut key = Buf::new();
    key_into(raw, &mut key)?;
    Ok(key.as_str().to_owned())
}

/// Appends the key [`name`] gives for `raw` to `out`. On error `out` may hold part of it.
pub(crate) fn key_into(raw: &str, out: &mut Buf) -> Result<(), Rejection> {
    text::screen(raw, MAX_RAW_BYTES)?;
    if raw.is_ascii() {
        fold_ascii(raw.as_bytes(), out)
    } else {
        fold(text::visible(raw), out)
    }
}

/// [`fold`] for screened ASCII input, by bytes: the key is built in a fixed buffer and
/// appended in one piece. Gives exactly what [`fold`] gives.
pub(super) fn fold_ascii(raw: &[u8], out: &mut Buf) -> Result<(), Rejection> {
    let too_long = Rejection::TooLong {
        max_bytes: MAX_KEY_BYTES,
    };
    // Room for a key at the limit, plus a space and a character past it: the most one
    // step can add before the length is checked.
    let mut key = [0u8; MAX_KEY_BYTES + 2];
    let mut len = 0;
    let mut space_pending = false;
    let mut empty = true;
    let mut has_letter = false;
    for &b in raw {
        if text::is_ascii_space(b) {
            // Whitespace is a separator (inside) or nothing (at either end).
            space_pending = true;
            continue;
        }
        empty = false;
        if b == b'\'' || b == b'`' {
            continue;
        }
        if !b.is_ascii_alphanumeric() {
            space_pending = true;
            continue;
        }
        if space_pending && len > 0 {
            *key.get_mut(len).ok_or_else(|| too_long.clone())? = b' ';
            len += 1;
        }
        space_pending = false;
        has_letter |= b.is_ascii_alphabetic();
        *key.get_mut(len).ok_or_else(|| too_long.clone())? = b.to_ascii_lowercase();
        len += 1;
        if len > MAX_KEY_BYTES {
            return Err(too_long);
        }
    }
    if empty {
        return Err(Rejection::Empty);
    }
    if !has_letter {
        return Err(Rejection::NoLetters);
    }
    out.push_ascii(key.get(..len).unwrap_or_default());
    Ok(())
}

/// Folds the visible characters of a screened name into its key, appended to `out`.
pub(super) fn fold(chars: Visible<'_>, out: &mut Buf) -> Result<(), Rejection> {
    let mut key = Key {
        start: out.len(),
        out,
        space_pending: false,
        has_letter: false,
    };
    let mut empty = true;
    for c in chars {
        empty = false;
        if is_apostrophe(c) {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if c.is_ascii() {
            key.separate();
        } else if c.is_alphabetic() {
            match deunicode::deunicode_char(c) {
                Some(ascii) => {
                    for t in ascii.chars() {
                        if t.is_ascii_alphanumeric() {
                            key.push(t);
                        } else if !is_apostrophe(t) {
                            // Ideographs come out as "Bei " etc.: the space separates
                            // syllables, which is how they are romanized.
                            key.separate();
                        }
                    }
                }
                None => key.separate(),
            }
        } else if deunicode::deunicode_char(c) != Some("") {
            // Not a letter: symbols, emoji, non-ASCII digits. Only checking the source
            // character keeps emoji from becoming words (deunicode spells 😀 "grinning").
            // Characters deunicode maps to nothing are combining marks, which belong to
            // the letter before them (decomposed "Zoë") and so must not split the word.
            key.separate();
        }
        if key.len() > MAX_KEY_BYTES {
            // The key never ends in a space, so it can only grow from here.
            return Err(Rejection::TooLong {
                max_bytes: MAX_KEY_BYTES,
            });
        }
    }
    if empty {
        return Err(Rejection::Empty);
    }
    if !key.has_letter {
        return Err(Rejection::NoLetters);
    }
    Ok(())
}

/// The key being built at the end of `out`: words separated by single spaces, none at
/// either end.
struct Key<'a> {
    out: &'a mut Buf,
    /// Where the key starts in `out`.
    start: usize,
    /// A separator was seen since the last character; it becomes a space only if
    /// another character follows.
    space_pending: bool,
    /// A letter (not only digits) has been written.
    has_letter: bool,
}

impl Key<'_> {
    /// Appends an ASCII letter or digit, lowercased.
    #[inline]
    fn push(&mut self, c: char) {
        if self.space_pending && self.len() > 0 {
            self.out.push(' ');
        }
        self.space_pending = false;
        self.has_letter |= c.is_ascii_alphabetic();
        self.out.push(c.to_ascii_lowercase());
    }

    #[inline]
    fn separate(&mut self) {
        self.space_pending = true;
    }

    /// Bytes of key written so far.
    fn len(&self) -> usize {
        self.out.len() - self.start
    }
}

/// Apostrophes and look-alikes, which join the parts of `O'Brien` and `D’Angelo` rather
/// than separating them.
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`'
            | '\u{00B4}' // acute accent
            | '\u{02B9}' // modifier letter prime
            | '\u{02BB}' // modifier letter turned comma (ʻokina)
            | '\u{02BC}' // modifier letter apostrophe
            | '\u{2018}' // left single quotation mark
            | '\u{2019}' // right single quotation mark
            | '\u{201B}' // single high-reversed-9 quotation mark
            | '\u{2032}' // prime
            | '\u{FF07}' // fullwidth apostrophe
    )
}
