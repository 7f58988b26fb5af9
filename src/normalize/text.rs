//! Screening shared by every normalizer: length limits, control characters, invisible
//! characters and whitespace.

use super::Rejection;
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
pub(crate) fn screen(raw: &str, max_bytes: usize) -> Result<(), Rejection> {
    check_length(raw, max_bytes)?;
    match raw.chars().position(is_forbidden_control) {
        Some(position) => Err(Rejection::ControlCharacter { position }),
        None => Ok(()),
    }
}

/// Whether `c` is an invisible formatting character that the normalizers delete.
///
/// These render as nothing, so two values that look identical on screen can differ only
/// by them (copy-paste from web pages and chat apps adds them; bidi overrides are also a
/// spoofing trick). Deleting them makes such values compare equal.
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

    fn next(&mut self) -> Option<char> {
        if let Some(c) = self.held.take() {
            return Some(c);
        }
        loop {
            let c = self.chars.next()?;
            if is_invisible(c) {
                continue;
            }
            if c.is_whitespace() {
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
        assert_eq!(screen("a\tb\r\n", 10), Ok(()));
    }
}
