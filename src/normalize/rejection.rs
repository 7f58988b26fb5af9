//! Why a normalizer refused its input.

/// Why a value could not be normalized.
///
/// Messages describe what was wrong and where, never the value itself: the values are
/// personal data and rejections end up in logs. They are short lowercase predicates meant
/// to follow the field's name, as in `format!("email {rejection}")` → "email is empty".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Nothing but whitespace or invisible characters.
    #[error("is empty")]
    Empty,
    /// Longer than the normalizer accepts.
    #[error("is longer than {max_bytes} bytes")]
    TooLong {
        /// The largest accepted length, in UTF-8 bytes.
        max_bytes: usize,
    },
    /// A control character (C0, DEL or C1) other than tab, line feed or carriage return,
    /// which count as whitespace.
    #[error("has a control character at position {position}")]
    ControlCharacter {
        /// Zero-based index, in characters (not bytes), into the input as given.
        position: usize,
    },
    /// Does not have the expected shape.
    #[error("is malformed: expected {expected}")]
    Malformed {
        /// What the input should have been, e.g. "exactly one '@'".
        expected: &'static str,
    },
    /// Contains no letters where a name needs some.
    #[error("contains no letters")]
    NoLetters,
    /// Contains no digits where a number needs some.
    #[error("contains no digits")]
    NoDigits,
    /// Has fewer digits than any number of its kind.
    #[error("has fewer than {min} digits")]
    TooFewDigits {
        /// The smallest accepted number of digits.
        min: usize,
    },
    /// Has more digits than any number of its kind.
    #[error("has more than {max} digits")]
    TooManyDigits {
        /// The largest accepted number of digits.
        max: usize,
    },
    /// Not an assigned ISO 3166-1 alpha-2 country code.
    #[error("is not a known country code")]
    UnknownCountry,
    /// A valid country this crate has no telephone numbering data for.
    #[error("is for a country without phone numbering data")]
    UnsupportedCountry,
    /// Has more entries than accepted (tickets in an order, lines in a purchase).
    #[error("has more than {max} entries")]
    TooMany {
        /// The largest accepted number of entries.
        max: usize,
    },
}
