//! A wrapper that keeps personal data out of `Debug` output and logs.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

/// A personal value (name, e-mail, phone, address…). Its `Debug` prints only that it is
/// redacted, so deriving `Debug` on a type that holds it is safe.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Pii(Box<str>);

/// What `Debug` prints in place of a personal value.
pub(crate) const REDACTED: Redacted = Redacted;

/// Prints `<redacted>` in `Debug`: stands in for a value that is not a [`Pii`] (a birth
/// date, a staff member's name).
#[derive(Clone, Copy)]
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Pii {
    pub(crate) fn new(value: impl Into<Box<str>>) -> Self {
        Self(value.into())
    }
}

impl Deref for Pii {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pii {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
