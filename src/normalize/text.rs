//! Screening shared by every normalizer: length limits, control characters, invisible
//! characters and whitespace; and [`Buf`], where normalized values are written.
//!
//! Most values people type are plain ASCII. For them, each normalizer has a path that
//! reads bytes and skips the Unicode tables ([`is_ascii_space`] stands in for
//! [`char::is_whitespace`]; ASCII has no invisible characters), giving exactly what its
//! general path gives; the checks after the first pass are shared.

use super::Rejection;
use arrayvec::ArrayString;
use core::str::Chars;

/// Rejects `raw` if it is longer than `max_bytes`.
///
/// Looks only at the length, so a megabyte of input costs nothing to refuse; every
/// normalizer calls this before anything else.
pub(crate) fn check_length(raw: &str, max_bytes: usize) -> Result<(), Rejection> {
    if raw.len() > max_bytes {
        Err(Rejection::TooLong { max_bytes })
    } else {
        Ok(())
    }
}

/// Whether `c` is a control character the normalizers refuse.
///
/// Tab, line feed and carriage return are let through (as whitespace): they arrive from
/// spreadsheets and text areas and mean no more than a space there. Every other C0
/// control, DEL and every C1 control (including NEL) is refused: none belongs in an
/// identifier, and they are how log and terminal injection is smuggled in.
pub(crate) fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Rejects `raw` if it is longer than `max_bytes` or has a forbidden control character.
#[cfg(test)]
pub(crate) fn screen(raw: &str, max_bytes: usize) -> Result<(), Rejection> {
    screen_ascii(raw, max_bytes).map(|_| ())
}

/// [`screen`], telling also whether `raw` is ASCII: then every byte is printable, a tab,
/// a line feed or a carriage return, and a fast path may read it by bytes. The one pass
/// that screens also answers this, so no fast path reads its input an extra time.
pub(crate) fn screen_ascii(raw: &str, max_bytes: usize) -> Result<bool, Rejection> {
    check_length(raw, max_bytes)?;
    // Bytes first: in the ASCII prefix a byte's index is its character's index, so
    // only input with something else in it is read as characters, from there on.
    let bytes = raw.as_bytes();
    let Some(at) = bytes
        .iter()
        .position(|&b| !matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r'))
    else {
        return Ok(true);
    };
    if bytes.get(at).is_some_and(u8::is_ascii) {
        return Err(Rejection::ControlCharacter { position: at });
    }
    let rest = raw.get(at..).unwrap_or_default();
    match rest.chars().position(is_forbidden_control) {
        Some(position) => Err(Rejection::ControlCharacter {
            position: at + position,
        }),
        None => Ok(false),
    }
}

/// Whether `c` is an invisible formatting character that the normalizers delete.
///
/// These render as nothing, so two values that look identical on screen can differ only
/// by them (copy-paste from web pages and chat apps adds them; bidi overrides are also a
/// spoofing trick). Deleting them makes such values compare equal.
#[inline]
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{180E}' // Mongolian vowel separator (no longer whitespace)
            | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}' // byte order mark, zero-width no-break space
    )
}

/// The characters of `raw` without invisible characters, with each run of whitespace
/// (any Unicode whitespace) turned into one ASCII space and none at either end.
///
/// Expects input that [`screen`] accepted: control characters other than tab, line feed
/// and carriage return are passed through as they are.
pub(crate) fn visible(raw: &str) -> Visible<'_> {
    Visible {
        chars: raw.chars(),
        started: false,
        space_pending: false,
        held: None,
    }
}

/// Whether an ASCII byte is whitespace as [`char::is_whitespace`] sees it: space, and tab
/// to carriage return (which includes the vertical tab and form feed).
#[inline]
pub(crate) const fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// `raw` without whitespace at either end, for ASCII input ([`is_ascii_space`]).
pub(crate) fn trim_ascii_space(raw: &[u8]) -> &[u8] {
    let start = raw
        .iter()
        .position(|&b| !is_ascii_space(b))
        .unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|&b| !is_ascii_space(b))
        .map_or(start, |i| i + 1);
    raw.get(start..end).unwrap_or_default()
}

/// `raw` without the whitespace screening lets through (space, tab, line feed, carriage
/// return) at either end: for a fast path that reads input before it is screened, which
/// must leave the other controls in place for screening to find. Text in, text out, so
/// nothing needs validating again.
pub(crate) fn trim_screened_space(raw: &str) -> &str {
    let screened_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = raw.as_bytes();
    let start = bytes
        .iter()
        .position(|b| !screened_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !screened_space(b))
        .map_or(start, |i| i + 1);
    // Both ends are next to an ASCII byte, so on a character boundary.
    raw.get(start..end).unwrap_or_default()
}

/// Iterator returned by [`visible`].
#[derive(Debug, Clone)]
pub(crate) struct Visible<'a> {
    chars: Chars<'a>,
    /// A visible character has been yielded, so later whitespace is internal.
    started: bool,
    /// Whitespace was seen since the last visible character; it becomes a space only if
    /// another visible character follows, which is what trims the end.
    space_pending: bool,
    /// The visible character that follows a space just yielded.
    held: Option<char>,
}

impl Iterator for Visible<'_> {
    type Item = char;

    #[inline]
    fn next(&mut self) -> Option<char> {
        if let Some(c) = self.held.take() {
            return Some(c);
        }
        loop {
            let c = self.chars.next()?;
            // ASCII has no invisible characters, and its whitespace is what
            // `is_ascii_space` says: the Unicode tables are read only for the rest.
            let space = if c.is_ascii() {
                is_ascii_space(c as u8)
            } else if is_invisible(c) {
                continue;
            } else {
                c.is_whitespace()
            };
            if space {
                self.space_pending = self.started;
                continue;
            }
            self.started = true;
            if self.space_pending {
                self.space_pending = false;
                self.held = Some(c);
                return Some(' ');
            }
            return Some(c);
        }
    }
}

/// Appends the [`visible`] text of `raw` to `out`, after [`screen`]ing it against
/// `max_bytes`: display text (names as written, street, city).
///
/// # Errors
///
/// What [`screen`] refuses, and [`Rejection::Empty`] when nothing visible is left.
pub(crate) fn clean_into(raw: &str, max_bytes: usize, out: &mut Buf) -> Result<(), Rejection> {
    // Most text is already clean: printable ASCII words with one space between. It has
    // nothing screening refuses, and is written as it is, without the spaces around it.
    let words = raw.trim_matches(' ');
    if raw.len() <= max_bytes && !words.is_empty() && is_plain_words(words.as_bytes()) {
        out.push_str(words);
        return Ok(());
    }
    let ascii = screen_ascii(raw, max_bytes)?;
    clean_screened_into(raw, ascii, out)
}

/// Whether `text` is printable ASCII with no two spaces together: the clean text of
/// itself (less any spaces at either end), needing no screening.
pub(crate) fn is_plain_words(text: &[u8]) -> bool {
    let mut after_space = false;
    for &b in text {
        let space = b == b' ';
        if !matches!(b, b' '..=b'~') || (space && after_space) {
            return false;
        }
        after_space = space;
    }
    true
}

/// [`clean_into`] for `raw` that [`screen_ascii`] accepted, saying whether it is `ascii`.
pub(crate) fn clean_screened_into(raw: &str, ascii: bool, out: &mut Buf) -> Result<(), Rejection> {
    let start = out.len();
    if ascii {
        // Whole words at a time, one space between.
        let words = trim_ascii_space(raw.as_bytes()).split(|&b| is_ascii_space(b));
        for word in words.filter(|word| !word.is_empty()) {
            if out.len() > start {
                out.push(' ');
            }
            out.push_ascii(word);
        }
    } else {
        for c in visible(raw) {
            out.push(c);
        }
    }
    if out.len() == start {
        return Err(Rejection::Empty);
    }
    Ok(())
}

/// Text being written on the stack: a normalized value, or several end to end, that fits
/// in [`Buf::INLINE`] bytes is built without touching the heap, so that the one owned
/// copy made of it at the end is the only allocation.
///
/// Text from the start (a string on the stack, not bytes): reading it back is free,
/// where bytes were validated as UTF-8 on every read, and a normalizer that appends
/// slices of its input as `&str` validates nothing at all.
// No `Debug`: it holds personal data.
pub(crate) struct Buf {
    /// The text while it fits (then `spilled` is `None`).
    inline: ArrayString<{ Buf::INLINE }>,
    /// The whole text, once it has outgrown `inline` (then `inline` is unused).
    spilled: Option<String>,
}

impl Default for Buf {
    fn default() -> Self {
        Self::new()
    }
}

impl Buf {
    /// Bytes held before spilling to the heap: a whole name (as written and folded,
    /// given and family) or address of ordinary length fits.
    pub(crate) const INLINE: usize = 256;

    pub(crate) fn new() -> Self {
        Self {
            inline: ArrayString::new(),
            spilled: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_str().len()
    }

    /// The text, to change in place.
    fn as_mut_str(&mut self) -> &mut str {
        match &mut self.spilled {
            Some(text) => text.as_mut_str(),
            None => self.inline.as_mut_str(),
        }
    }

    /// Appends text.
    #[inline(always)]
    pub(crate) fn push_str(&mut self, text: &str) {
        if self.spilled.is_none() && self.inline.try_push_str(text).is_ok() {
            return;
        }
        self.push_spilled(text);
    }

    /// [`push_str`](Self::push_str) past the inline room.
    #[cold]
    fn push_spilled(&mut self, text: &str) {
        let inline = self.inline.as_str();
        self.spilled
            .get_or_insert_with(|| {
                let mut spilled = String::with_capacity(2 * Buf::INLINE + text.len());
                spilled.push_str(inline);
                spilled
            })
            .push_str(text);
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, c: char) {
        let mut utf8 = [0; 4];
        self.push_str(c.encode_utf8(&mut utf8));
    }

    /// Appends ASCII text given as bytes; anything else is left out (callers only pass
    /// ASCII). Validates the bytes: a caller holding the text as `&str` appends it
    /// with [`push_str`](Self::push_str) instead.
    pub(crate) fn push_ascii(&mut self, bytes: &[u8]) {
        if let Ok(text) = core::str::from_utf8(bytes)
            && text.is_ascii()
        {
            self.push_str(text);
        }
    }

    /// Lowercases the ASCII letters from byte `from` on.
    pub(crate) fn make_ascii_lowercase_from(&mut self, from: usize) {
        if let Some(tail) = self.as_mut_str().get_mut(from..) {
            tail.make_ascii_lowercase();
        }
    }

    /// The last byte written (always a whole character when it is ASCII).
    pub(crate) fn last_byte(&self) -> Option<u8> {
        self.as_str().as_bytes().last().copied()
    }

    /// Removes the last byte, which the caller knows is an ASCII character.
    pub(crate) fn pop_ascii(&mut self) {
        if self.last_byte().is_some_and(|b| b.is_ascii()) {
            self.truncate(self.len() - 1);
        }
    }

    /// Cuts the text to `len` bytes, where the caller knows a character starts (anywhere
    /// else, nothing is cut).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len() || !self.as_str().is_char_boundary(len) {
            return;
        }
        match &mut self.spilled {
            Some(text) => text.truncate(len),
            None => self.inline.truncate(len),
        }
    }

    /// Keeps, from byte `from` on, the characters whose bytes `keep` all accepts (it
    /// sees every byte, in order); the caller keeps or drops whole characters (`keep`
    /// decides by ASCII bytes, and continuation bytes follow the decision on their lead
    /// byte's character).
    pub(crate) fn retain_from(&mut self, from: usize, mut keep: impl FnMut(u8) -> bool) {
        let Some(tail) = self.as_str().get(from..) else {
            return;
        };
        let mut kept = Buf::new();
        for c in tail.chars() {
            let mut utf8 = [0; 4];
            let encoded = c.encode_utf8(&mut utf8);
            // Every byte is shown to `keep`, as a byte-by-byte filter would.
            let mut all = true;
            for b in encoded.bytes() {
                all &= keep(b);
            }
            if all {
                kept.push_str(encoded);
            }
        }
        self.truncate(from);
        self.push_str(kept.as_str());
    }

    /// The bytes from byte `from` on.
    pub(crate) fn bytes_from(&self, from: usize) -> &[u8] {
        self.as_str().as_bytes().get(from..).unwrap_or_default()
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        match &self.spilled {
            Some(text) => text,
            None => self.inline.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &str) -> String {
        visible(s).collect()
    }

    #[test]
    fn collapses_and_trims_whitespace() {
        assert_eq!(collect("  a \t\u{00A0} b\n\u{3000}c  "), "a b c");
        assert_eq!(collect(" \u{200B} "), "");
        assert_eq!(collect(""), "");
    }

    #[test]
    fn deletes_invisible_characters() {
        assert_eq!(collect("a\u{200B}b\u{202E}c\u{FEFF}\u{00AD}d"), "abcd");
        // Invisible characters between spaces do not split a whitespace run.
        assert_eq!(collect("a \u{200D} b"), "a b");
    }

    #[test]
    fn screens_length_before_content() {
        let big = "\u{1}".repeat(100);
        assert_eq!(screen(&big, 10), Err(Rejection::TooLong { max_bytes: 10 }));
        assert_eq!(
            screen("ab\u{1}", 10),
            Err(Rejection::ControlCharacter { position: 2 })
        );
        assert_eq!(
            screen("é\u{85}", 10),
            Err(Rejection::ControlCharacter { position: 1 })
        );
        assert_eq!(
            screen("ab\u{7F}", 10),
            Err(Rejection::ControlCharacter { position: 2 })
        );
        assert_eq!(
            screen("aé\u{1}", 10),
            Err(Rejection::ControlCharacter { position: 2 })
        );
        assert_eq!(screen("a\tb\r\n", 10), Ok(()));
        assert_eq!(
            screen("a\u{B}", 10),
            Err(Rejection::ControlCharacter { position: 1 })
        );
    }

    #[test]
    fn trimming_screened_space_keeps_text_and_other_controls() {
        assert_eq!(trim_screened_space(" \t\u{B}é x\r\n"), "\u{B}é x");
        assert_eq!(trim_screened_space("\u{A0}a\u{A0}"), "\u{A0}a\u{A0}");
        assert_eq!(trim_screened_space(" \r\n\t "), "");
    }

    #[test]
    fn buffer_refuses_to_cut_inside_a_character() {
        let mut buf = Buf::new();
        buf.push_str("aé");
        // Byte 2 is inside 'é': nothing is cut, and nothing panics.
        buf.truncate(2);
        assert_eq!(buf.as_str(), "aé");
        buf.truncate(1);
        assert_eq!(buf.as_str(), "a");
        // Bytes that are not ASCII are left out of `push_ascii`.
        buf.push_ascii(&[b'b', 0xC3]);
        buf.push_ascii(b"c");
        assert_eq!(buf.as_str(), "ac");
    }

    #[test]
    fn buffer_retain_shows_every_byte_in_order() {
        let mut buf = Buf::new();
        buf.push_str("x+é.y");
        let mut seen = Vec::new();
        buf.retain_from(1, |b| {
            seen.push(b);
            b != b'.'
        });
        assert_eq!(seen, "+é.y".as_bytes());
        assert_eq!(buf.as_str(), "x+éy");
    }

    #[test]
    fn buffer_keeps_whole_characters() {
        let mut buf = Buf::new();
        buf.push('a');
        buf.push('é');
        buf.push_str("+x@");
        assert_eq!(buf.as_str(), "aé+x@");
        buf.retain_from(1, |b| b != b'+');
        assert_eq!(buf.as_str(), "aéx@");
        buf.pop_ascii();
        assert_eq!(buf.as_str(), "aéx");
        buf.truncate(1);
        assert_eq!(buf.as_str(), "a");
        let long = "ß".repeat(Buf::INLINE);
        buf.push_str(&long);
        assert_eq!(buf.len(), 1 + 2 * Buf::INLINE);
        assert!(buf.as_str().ends_with(&long));
        // Past the inline room, every step works on the spilled text.
        buf.push_str("+y.");
        buf.retain_from(1, |b| b != b'+');
        assert!(buf.as_str().ends_with("ßy."));
        buf.pop_ascii();
        buf.make_ascii_lowercase_from(0);
        assert_eq!(buf.last_byte(), Some(b'y'));
        buf.truncate(3);
        assert_eq!(buf.as_str(), "aß");
        buf.push('Z');
        assert_eq!(buf.as_str(), "aßZ");
        assert_eq!(buf.bytes_from(3), b"Z");
    }
}
