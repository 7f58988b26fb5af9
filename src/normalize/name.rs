//! Personal names.

use super::Rejection;
use super::text;

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
    text::screen(raw, MAX_RAW_BYTES)?;

    let mut key = Key {
        out: String::with_capacity(raw.len().min(MAX_KEY_BYTES)),
        space_pending: false,
    };
    let mut empty = true;
    for c in text::visible(raw) {
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
        if key.out.len() > MAX_KEY_BYTES {
            // The key never ends in a space, so it can only grow from here.
            return Err(Rejection::TooLong {
                max_bytes: MAX_KEY_BYTES,
            });
        }
    }
    if empty {
        return Err(Rejection::Empty);
    }
    if !key.out.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(Rejection::NoLetters);
    }
    Ok(key.out)
}

/// The key being built: words separated by single spaces, none at either end.
struct Key {
    out: String,
    /// A separator was seen since the last character; it becomes a space only if
    /// another character follows.
    space_pending: bool,
}

impl Key {
    /// Appends an ASCII letter or digit, lowercased.
    fn push(&mut self, c: char) {
        if self.space_pending && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.space_pending = false;
        self.out.push(c.to_ascii_lowercase());
    }

    fn separate(&mut self) {
        self.space_pending = true;
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
