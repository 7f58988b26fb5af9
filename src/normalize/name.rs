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
    if text::screen_ascii(raw, MAX_RAW_BYTES)? {
        fold_ascii(raw.as_bytes(), out)
    } else {
        fold(text::visible(raw), out)
    }
}

/// Appends a name part as written (what [`text::clean_into`] writes for it against
/// `max_bytes`) and then its key (what [`key_into`] writes), and returns where the key
/// starts. Fails as those two, called one after the other, would; on error `out` may
/// hold part of what was written.
///
/// Input of ordinary length is read once for both: plain ASCII byte by byte, anything
/// else by its visible characters.
pub(crate) fn written_and_key_into(
    raw: &str,
    max_bytes: usize,
    out: &mut Buf,
) -> Result<usize, Rejection> {
    // Most name parts are ASCII letters, in words with one space between, perhaps
    // with spaces around them: written as the words, with the words lowercased as the
    // key. Such a part has nothing screening refuses, so it is taken before screening.
    let words = text::trim_screened_space(raw);
    if raw.len() <= max_bytes.min(ONE_PASS_BYTES) && is_plain_name(words.as_bytes()) {
        out.push_str(words);
        let key_start = out.len();
        out.push_str(words);
        out.make_ascii_lowercase_from(key_start);
        return Ok(key_start);
    }
    let ascii = text::screen_ascii(raw, max_bytes)?;
    if ascii && raw.len() <= ONE_PASS_BYTES {
        return written_and_key_ascii(raw.as_bytes(), out);
    }
    if !ascii && raw.len() <= MAX_RAW_BYTES {
        return written_and_key_visible(raw, out);
    }
    // Long input: the two, one after the other.
    text::clean_screened_into(raw, ascii, out)?;
    let key_start = out.len();
    // Screened already against `max_bytes`, so only the length can differ here.
    text::check_length(raw, MAX_RAW_BYTES)?;
    if ascii {
        fold_ascii(raw.as_bytes(), out)?;
    } else {
        fold(text::visible(raw), out)?;
    }
    Ok(key_start)
}

/// Whether `words` are ASCII letters with single spaces between (none at either end):
/// both the text written for them and, lowercased, their key.
fn is_plain_name(words: &[u8]) -> bool {
    // One pass; a space may not come first, after another, or last.
    let mut after_space = true;
    for &b in words {
        if b.is_ascii_alphabetic() {
            after_space = false;
        } else if b == b' ' && !after_space {
            after_space = true;
        } else {
            return false;
        }
    }
    !after_space
}

/// Longest input [`written_and_key_ascii`] takes: what it writes is built on the stack.
const ONE_PASS_BYTES: usize = 128;

/// [`written_and_key_into`] for screened ASCII input of at most [`ONE_PASS_BYTES`]: one
/// pass writes the words with one space between (as [`text::clean_into`]) and the key
/// (as [`fold_ascii`]).
fn written_and_key_ascii(raw: &[u8], out: &mut Buf) -> Result<usize, Rejection> {
    // The key is never longer than the text written, which is never longer than `raw`.
    let mut written = [0u8; ONE_PASS_BYTES];
    let mut key = [0u8; ONE_PASS_BYTES];
    let (mut written_len, mut key_len) = (0, 0);
    // Whitespace since the last word (text written), a separator since the last letter
    // or digit (key).
    let (mut space_pending, mut separator_pending) = (false, false);
    let mut has_letter = false;
    for &b in raw {
        let class = ASCII_CLASS.get(usize::from(b)).copied().unwrap_or(SPACE);
        if class == SPACE {
            space_pending = true;
            separator_pending = true;
            continue;
        }
        if space_pending
            && written_len > 0
            && let Some(slot) = written.get_mut(written_len)
        {
            *slot = b' ';
            written_len += 1;
        }
        space_pending = false;
        if let Some(slot) = written.get_mut(written_len) {
            *slot = b;
            written_len += 1;
        }
        match class {
            APOSTROPHE => {}
            SEPARATOR => separator_pending = true,
            _ => {
                if separator_pending
                    && key_len > 0
                    && let Some(slot) = key.get_mut(key_len)
                {
                    *slot = b' ';
                    key_len += 1;
                }
                separator_pending = false;
                has_letter |= class == LETTER;
                if let Some(slot) = key.get_mut(key_len) {
                    *slot = b.to_ascii_lowercase();
                    key_len += 1;
                }
            }
        }
    }
    if written_len == 0 {
        return Err(Rejection::Empty);
    }
    // Keys longer than `MAX_KEY_BYTES` cannot come from input this short.
    if !has_letter {
        return Err(Rejection::NoLetters);
    }
    out.push_ascii(written.get(..written_len).unwrap_or_default());
    let key_start = out.len();
    out.push_ascii(key.get(..key_len).unwrap_or_default());
    Ok(key_start)
}

/// How [`written_and_key_ascii`] reads each byte of screened ASCII.
const SPACE: u8 = 0;
const APOSTROPHE: u8 = 1;
const SEPARATOR: u8 = 2;
const LETTER: u8 = 3;
const DIGIT: u8 = 4;

/// The class of every ASCII byte: whitespace as [`text::is_ascii_space`] sees it, the
/// two ASCII apostrophes, letters, digits; everything else separates words.
static ASCII_CLASS: [u8; 128] = {
    let mut table = [SEPARATOR; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if text::is_ascii_space(byte) {
            SPACE
        } else if byte == b'\'' || byte == b'`' {
            APOSTROPHE
        } else if byte.is_ascii_alphabetic() {
            LETTER
        } else if byte.is_ascii_digit() {
            DIGIT
        } else {
            SEPARATOR
        };
        b += 1;
    }
    table
};

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
    let mut key = Key::new();
    for c in chars {
        key.fold(c)?;
    }
    key.finish()?;
    out.push_ascii(key.as_bytes());
    Ok(())
}

/// [`written_and_key_into`] for screened input of at most [`MAX_RAW_BYTES`]: one pass
/// over the visible characters writes them (as [`text::clean_into`]) and folds them (as
/// [`fold`]); the key is folded on the stack and appended after the text.
fn written_and_key_visible(raw: &str, out: &mut Buf) -> Result<usize, Rejection> {
    let start = out.len();
    let mut key = Key::new();
    for c in text::visible(raw) {
        out.push(c);
        // Something is written by now, so an error here is the first one either
        // function, called one after the other, would give.
        key.fold(c)?;
    }
    if out.len() == start {
        return Err(Rejection::Empty);
    }
    key.finish()?;
    let key_start = out.len();
    out.push_ascii(key.as_bytes());
    Ok(key_start)
}

/// The key being built, on the stack: words separated by single spaces, none at either
/// end.
struct Key {
    /// Room for a key at the limit, a space and the longest transliteration: a key that
    /// outgrows it is past the limit anyway.
    bytes: [u8; Key::CAPACITY],
    len: usize,
    /// More was folded than there is room for.
    overflowed: bool,
    /// A separator was seen since the last character; it becomes a space only if
    /// another character follows.
    space_pending: bool,
    /// A letter (not only digits) has been written.
    has_letter: bool,
    /// No character has been folded.
    empty: bool,
}

impl Key {
    const CAPACITY: usize = MAX_KEY_BYTES + 32;

    fn new() -> Self {
        Key {
            bytes: [0; Key::CAPACITY],
            len: 0,
            overflowed: false,
            space_pending: false,
            has_letter: false,
            empty: true,
        }
    }

    /// The key folded so far.
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Folds the next visible character of the name into the key.
    #[inline]
    fn fold(&mut self, c: char) -> Result<(), Rejection> {
        self.empty = false;
        // ASCII letters and digits first: most characters are, and none is an apostrophe.
        if c.is_ascii_alphanumeric() {
            self.push(c);
        } else if is_apostrophe(c) {
            return Ok(());
        } else if c.is_ascii() {
            self.separate();
        } else if is_latin1_letter(c) || c.is_alphabetic() {
            match deunicode::deunicode_char(c) {
                Some(ascii) => {
                    for t in ascii.chars() {
                        if t.is_ascii_alphanumeric() {
                            self.push(t);
                        } else if !is_apostrophe(t) {
                            // Ideographs come out as "Bei " etc.: the space separates
                            // syllables, which is how they are romanized.
                            self.separate();
                        }
                    }
                }
                None => self.separate(),
            }
        } else if deunicode::deunicode_char(c) != Some("") {
            // Not a letter: symbols, emoji, non-ASCII digits. Only checking the source
            // character keeps emoji from becoming words (deunicode spells 😀 "grinning").
            // Characters deunicode maps to nothing are combining marks, which belong to
            // the letter before them (decomposed "Zoë") and so must not split the word.
            self.separate();
        }
        if self.overflowed || self.len > MAX_KEY_BYTES {
            // The key never ends in a space, so it can only grow from here.
            return Err(Rejection::TooLong {
                max_bytes: MAX_KEY_BYTES,
            });
        }
        Ok(())
    }

    /// The key's own checks once every character is folded.
    fn finish(&self) -> Result<(), Rejection> {
        if self.empty {
            return Err(Rejection::Empty);
        }
        if !self.has_letter {
            return Err(Rejection::NoLetters);
        }
        Ok(())
    }

    /// Appends an ASCII letter or digit, lowercased.
    #[inline]
    fn push(&mut self, c: char) {
        if self.space_pending && self.len > 0 {
            self.write(b' ');
        }
        self.space_pending = false;
        self.has_letter |= c.is_ascii_alphabetic();
        // Only ASCII letters and digits are pushed.
        self.write(u8::try_from(c.to_ascii_lowercase()).unwrap_or(b' '));
    }

    #[inline]
    fn write(&mut self, b: u8) {
        match self.bytes.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.overflowed = true,
        }
    }

    #[inline]
    fn separate(&mut self) {
        self.space_pending = true;
    }
}

/// Whether `c` is one of the accented Latin-1 letters (`À` to `ÿ` but `×` and `÷`), all
/// alphabetic: most non-ASCII letters in names are, and this saves looking them up in
/// the Unicode tables.
#[inline]
pub(super) fn is_latin1_letter(c: char) -> bool {
    matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{FF}')
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
