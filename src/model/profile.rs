//! What a patron told us or we learned about them: names, identifiers, addresses,
//! preferences, consent, flags and notes.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ids::IdText as Text;
use crate::model::sparse::Sparse;
use crate::normalize::Country;
use crate::normalize::text::Buf;
use crate::pii::Pii;

/// What kind of identifier a value is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IdentifierKind {
    /// A normalized e-mail address.
    Email,
    /// A phone number in E.164 form.
    Phone,
    /// A payment card token from the payment processor (never a card number).
    CardToken,
    /// An id in another system: loyalty card, membership number, CRM id.
    External,
}

impl IdentifierKind {
    /// A short lower-case name, as used in explanations.
    pub fn name(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
            IdentifierKind::CardToken => "card token",
            IdentifierKind::External => "external id",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A normalized identifier that points at one person (or, when shared, a household).
///
/// Identifiers are made by memory from [`Signals`](crate::Signals), already normalized,
/// so two identifiers are equal exactly when they match. `Debug` hides the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    key: Key,
}

/// The longest value kept inside an identifier: every phone number, card token and
/// most e-mail addresses, so that most identifiers cost no allocation of their own
/// (one per query, one per stored identifier before). `Key` stays 32 bytes.
const INLINE_VALUE: usize = 24;

/// A value short enough to be kept inline.
type InlineValue = arrayvec::ArrayString<INLINE_VALUE>;

/// An identifier's key, `tag:value` (or `x:system:value`), as kept: the tag as the
/// variant and the rest inline when it fits, or else the whole key on the heap, shared
/// by the profile that holds it and the index that files it. Each key has exactly one
/// form (a rest that fits is always inline), so derived equality and hashing hold.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(InlineValue),
    Phone(InlineValue),
    CardToken(InlineValue),
    /// `system:value`.
    External(InlineValue),
    /// The whole key: a value too long to be inline, or a key with no known tag (read
    /// from a snapshot), kept as it was read.
    Spilled(Arc<str>),
}

impl Key {
    /// The key with tag `kind` (`None`: no known tag) followed by `rest`; `whole` gives
    /// the whole key when `rest` is too long to be inline.
    fn new(kind: Option<IdentifierKind>, rest: &str, whole: impl FnOnce() -> Arc<str>) -> Self {
        let Some(kind) = kind else {
            return Key::Spilled(whole());
        };
        let Ok(inline) = InlineValue::from(rest) else {
            return Key::Spilled(whole());
        };
        match kind {
            IdentifierKind::Email => Key::Email(inline),
            IdentifierKind::Phone => Key::Phone(inline),
            IdentifierKind::CardToken => Key::CardToken(inline),
            IdentifierKind::External => Key::External(inline),
        }
    }

    /// The key as two pieces written end to end: its tag and the rest.
    fn pieces(&self) -> (&'static str, &str) {
        match self {
            Key::Email(rest) => (Identifier::key_prefix(IdentifierKind::Email), rest),
            Key::Phone(rest) => (Identifier::key_prefix(IdentifierKind::Phone), rest),
            Key::CardToken(rest) => (Identifier::key_prefix(IdentifierKind::CardToken), rest),
            Key::External(rest) => (Identifier::key_prefix(IdentifierKind::External), rest),
            Key::Spilled(key) => ("", key),
        }
    }
}

// Ordered as the whole keys are (a snapshot saves the index in this order).
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let ((tag, rest), (other_tag, other_rest)) = (self.pieces(), other.pieces());
        if tag.len() == other_tag.len() {
            // Tags of one length: comparing by tag, then rest, is comparing whole keys.
            return (tag, rest).cmp(&(other_tag, other_rest));
        }
        let bytes = tag.bytes().chain(rest.bytes());
        bytes.cmp(other_tag.bytes().chain(other_rest.bytes()))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Identifier {
    pub(crate) fn new(kind: IdentifierKind, value: &str) -> Self {
        Self {
            key: Key::new(Some(kind), value, || {
                // Put together on the stack, so that the shared key is the one allocation.
                let mut key = Buf::new();
                key.push_str(Self::key_prefix(kind));
                key.push_str(value);
                Arc::from(key.as_str())
            }),
        }
    }

    /// What the key of an identifier of `kind` starts with, before its value.
    pub(crate) fn key_prefix(kind: IdentifierKind) -> &'static str {
        match kind {
            IdentifierKind::Email => "e:",
            IdentifierKind::Phone => "p:",
            IdentifierKind::CardToken => "c:",
            IdentifierKind::External => "x:",
        }
    }

    /// The identifier whose key is `key`: [`key_prefix`](Self::key_prefix) and a value.
    pub(crate) fn from_key(key: &str) -> Self {
        let (kind, rest) = match key.split_at_checked(2) {
            Some(("e:", rest)) => (Some(IdentifierKind::Email), rest),
            Some(("p:", rest)) => (Some(IdentifierKind::Phone), rest),
            Some(("c:", rest)) => (Some(IdentifierKind::CardToken), rest),
            Some(("x:", rest)) => (Some(IdentifierKind::External), rest),
            _ => (None, key),
        };
        Self {
            key: Key::new(kind, rest, || Arc::from(key)),
        }
    }

    /// An external id; `system` has been checked to contain no `:`.
    pub(crate) fn external(system: &str, value: &str) -> Self {
        let mut key = Buf::new();
        key.push_str(Self::key_prefix(IdentifierKind::External));
        key.push_str(system);
        key.push(':');
        key.push_str(value);
        Self::from_key(key.as_str())
    }

    /// The kind of identifier.
    pub fn kind(&self) -> IdentifierKind {
        match &self.key {
            Key::Email(_) => IdentifierKind::Email,
            Key::Phone(_) => IdentifierKind::Phone,
            Key::CardToken(_) => IdentifierKind::CardToken,
            Key::External(_) => IdentifierKind::External,
            Key::Spilled(key) => match key.as_bytes().first() {
                Some(b'e') => IdentifierKind::Email,
                Some(b'p') => IdentifierKind::Phone,
                Some(b'c') => IdentifierKind::CardToken,
                _ => IdentifierKind::External,
            },
        }
    }

    /// The key after its tag: the value, or `system:value` for an external id.
    fn rest(&self) -> &str {
        match &self.key {
            Key::Email(rest) | Key::Phone(rest) | Key::CardToken(rest) | Key::External(rest) => {
                rest
            }
            Key::Spilled(key) => key.get(2..).unwrap_or_default(),
        }
    }

    /// For an external id, the system it belongs to (`"loyalty"`); otherwise `None`.
    pub fn system(&self) -> Option<&str> {
        if self.kind() != IdentifierKind::External {
            return None;
        }
        self.rest().split_once(':').map(|(system, _)| system)
    }

    /// The normalized value (e.g. `+442079460018`).
    pub fn value(&self) -> &str {
        let rest = self.rest();
        match self.kind() {
            IdentifierKind::External => rest.split_once(':').map_or(rest, |(_, v)| v),
            _ => rest,
        }
    }

    /// The length of the key kept on the heap (shared by the profile and the index), if
    /// it is not inline.
    pub(crate) fn spilled_len(&self) -> Option<usize> {
        match &self.key {
            Key::Spilled(key) => Some(key.len()),
            _ => None,
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.system() {
            Some(system) => write!(f, "Identifier({}:{system}, <redacted>)", self.kind()),
            None => write!(f, "Identifier({}, <redacted>)", self.kind()),
        }
    }
}

/// Up to `N` optional texts end to end in one allocation, so that the parts of a name
/// or an address cost one allocation rather than one each (at a million patrons, each
/// allocation saved is tens of megabytes).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Parts<const N: usize> {
    /// The present parts, in order; `None` when they are all absent or empty.
    text: Option<Pii>,
    /// Each part's length in `text`, or [`Parts::ABSENT`].
    lens: [u32; N],
}

impl<const N: usize> Parts<N> {
    const ABSENT: u32 = u32::MAX;

    fn new(parts: [Option<&str>; N]) -> Self {
        let total: usize = parts.iter().flatten().map(|part| part.len()).sum();
        let mut text = String::with_capacity(total);
        let mut lens = [Self::ABSENT; N];
        for (len, part) in lens.iter_mut().zip(parts) {
            if let Some(part) = part {
                // Parts are bounded by the text limits, far below 4 GiB; a longer one
                // would read back as absent rather than wrong.
                *len = u32::try_from(part.len()).unwrap_or(Self::ABSENT);
                if *len != Self::ABSENT {
                    text.push_str(part);
                }
            }
        }
        Self {
            text: (!text.is_empty()).then(|| Pii::new(text)),
            lens,
        }
    }

    /// [`new`](Self::new) for parts written end to end in `text`, in order, each given by
    /// its length (`None`: absent): the text is copied once, whole. Lengths that do not
    /// cut all of `text` into whole characters are read part by part, as `new` would.
    fn joined(text: &str, lens: [Option<usize>; N]) -> Self {
        let (parts, kept) = Self::cut(text, lens);
        let Some(kept) = kept else {
            return Self::new(parts);
        };
        Self {
            text: (!text.is_empty()).then(|| Pii::new(text)),
            lens: kept,
        }
    }

    /// `text` cut into parts of the lengths given (`None`: absent), and the lengths as
    /// kept when they cut all of `text` into whole characters (else `None`: the parts
    /// are read one by one, a part that cuts a character as absent).
    fn cut(text: &str, lens: [Option<usize>; N]) -> ([Option<&str>; N], Option<[u32; N]>) {
        let mut parts = [None; N];
        let mut kept = [Self::ABSENT; N];
        let mut end = 0;
        let mut whole = true;
        for ((part, kept), len) in parts.iter_mut().zip(&mut kept).zip(lens) {
            if let Some(len) = len {
                *part = text.get(end..end + len);
                end += len;
                match (part, u32::try_from(len)) {
                    (Some(_), Ok(len)) if len != Self::ABSENT => *kept = len,
                    _ => whole = false,
                }
            }
        }
        (parts, (whole && end == text.len()).then_some(kept))
    }

    /// The length of all parts together.
    fn text_len(&self) -> usize {
        self.text.as_deref().map_or(0, str::len)
    }

    /// [`new`](Self::new) from parts read as bytes: their UTF-8 is checked once for all
    /// of them together (checking each short part alone cost more than reading it), and
    /// each part must end on a character boundary, so each is UTF-8 on its own.
    fn from_bytes(parts: [Option<&[u8]>; N]) -> Result<Self, &'static str> {
        let total: usize = parts.iter().flatten().map(|part| part.len()).sum();
        let mut bytes = Vec::with_capacity(total);
        let mut lens = [Self::ABSENT; N];
        let mut ends = [0; N];
        for ((len, end), part) in lens.iter_mut().zip(&mut ends).zip(parts) {
            if let Some(part) = part {
                // As in `new`: a part too long for its length reads back as absent.
                *len = u32::try_from(part.len()).unwrap_or(Self::ABSENT);
                if *len != Self::ABSENT {
                    bytes.extend_from_slice(part);
                }
            }
            *end = bytes.len();
        }
        let text = String::from_utf8(bytes).map_err(|_| "text that is not UTF-8")?;
        if !ends.iter().all(|&end| text.is_char_boundary(end)) {
            return Err("a part that is not UTF-8 on its own");
        }
        Ok(Self {
            text: (!text.is_empty()).then(|| Pii::new(text)),
            lens,
        })
    }

    fn get(&self, at: usize) -> Option<&str> {
        let len = *self.lens.get(at)?;
        if len == Self::ABSENT {
            return None;
        }
        let start: usize = self.lens[..at]
            .iter()
            .filter(|&&len| len != Self::ABSENT)
            .map(|&len| len as usize)
            .sum();
        let text = self.text.as_deref().unwrap_or_default();
        text.get(start..start + len as usize)
    }

    fn is_empty(&self) -> bool {
        self.lens.iter().all(|&len| len == Self::ABSENT)
    }
}

impl<const N: usize> Default for Parts<N> {
    fn default() -> Self {
        Self {
            text: None,
            lens: [Self::ABSENT; N],
        }
    }
}

/// The longest name, its four parts (given, its key, family, its key) together, kept
/// inside a [`PersonName`]: most names, so that most cost no allocation of their own
/// (one per query and per stored name before). `PersonName` stays 48 bytes.
const INLINE_NAME: usize = 36;

/// [`Parts`] kept inline, with no allocation, when together they fit in
/// [`INLINE_NAME`] bytes. Parts that fit are always inline, so derived equality and
/// hashing hold.
#[derive(Clone, PartialEq, Eq, Hash)]
enum CompactParts<const N: usize> {
    Inline {
        /// Where each part ends in `text` (an absent part ends where the one before
        /// it does), so that a part is read with no sum over the ones before it.
        ends: [u8; N],
        /// Bit `i` set: part `i` is absent.
        absent: u8,
        text: arrayvec::ArrayString<INLINE_NAME>,
    },
    Spilled(Parts<N>),
}

impl<const N: usize> CompactParts<N> {
    /// Parts, in order, kept inline as `text`, each given by the length it ends at in
    /// `text` (`None`: absent).
    fn inline(text: arrayvec::ArrayString<INLINE_NAME>, ends: [Option<usize>; N]) -> Self {
        const { assert!(N <= 8, "one bit a part") };
        let mut kept = [0; N];
        let mut absent = 0;
        let mut last = 0;
        for (i, (kept, end)) in kept.iter_mut().zip(ends).enumerate() {
            match end {
                Some(end) => last = end,
                None => absent |= 1 << i,
            }
            // Every end is within the text, whose length fits a byte.
            *kept = u8::try_from(last).unwrap_or(u8::MAX);
        }
        Self::Inline {
            ends: kept,
            absent,
            text,
        }
    }

    fn new(parts: [Option<&str>; N]) -> Self {
        let mut ends = [None; N];
        let mut text = arrayvec::ArrayString::new();
        for (end, part) in ends.iter_mut().zip(parts) {
            if let Some(part) = part {
                if text.try_push_str(part).is_err() {
                    return Self::Spilled(Parts::new(parts));
                }
                *end = Some(text.len());
            }
        }
        Self::inline(text, ends)
    }

    /// [`Parts::joined`]: copied once, whole, inline or not.
    fn joined(text: &str, lens: [Option<usize>; N]) -> Self {
        if text.len() > INLINE_NAME {
            return Self::Spilled(Parts::joined(text, lens));
        }
        let mut ends = [None; N];
        let mut last: usize = 0;
        for (end, len) in ends.iter_mut().zip(lens) {
            if let Some(len) = len {
                last = last.saturating_add(len);
                if !text.is_char_boundary(last) {
                    return Self::new(Parts::<N>::cut(text, lens).0);
                }
                *end = Some(last);
            }
        }
        match arrayvec::ArrayString::from(text) {
            Ok(inline) if last == text.len() => Self::inline(inline, ends),
            _ => Self::new(Parts::<N>::cut(text, lens).0),
        }
    }

    /// [`Parts::from_bytes`], inline when the parts fit.
    fn from_bytes(parts: [Option<&[u8]>; N]) -> Result<Self, &'static str> {
        let total: usize = parts.iter().flatten().map(|part| part.len()).sum();
        if total > INLINE_NAME {
            return Parts::from_bytes(parts).map(Self::Spilled);
        }
        let mut bytes = [0u8; INLINE_NAME];
        let mut ends = [None; N];
        let mut last = 0;
        for (end, part) in ends.iter_mut().zip(parts) {
            if let Some(part) = part
                && let Some(slot) = bytes.get_mut(last..last + part.len())
            {
                slot.copy_from_slice(part);
                last += part.len();
                *end = Some(last);
            }
        }
        let written = bytes.get(..last).unwrap_or_default();
        let text = std::str::from_utf8(written).map_err(|_| "text that is not UTF-8")?;
        if !ends.iter().flatten().all(|&end| text.is_char_boundary(end)) {
            return Err("a part that is not UTF-8 on its own");
        }
        let text = arrayvec::ArrayString::from(text).map_err(|_| "a name too long")?;
        Ok(Self::inline(text, ends))
    }

    fn get(&self, at: usize) -> Option<&str> {
        let (ends, absent, text) = match self {
            Self::Inline { ends, absent, text } => (ends, *absent, text),
            Self::Spilled(parts) => return parts.get(at),
        };
        let end = usize::from(*ends.get(at)?);
        if absent & (1 << at) != 0 {
            return None;
        }
        let start = at.checked_sub(1).and_then(|before| ends.get(before));
        text.get(start.map_or(0, |&start| usize::from(start))..end)
    }

    /// The length of the text kept on the heap, if it is not inline.
    fn spilled_len(&self) -> Option<usize> {
        match self {
            Self::Inline { .. } => None,
            Self::Spilled(parts) => Some(parts.text_len()),
        }
    }
}

// Saved as its key, a bare string.
impl Serialize for Identifier {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (tag, rest) = self.key.pieces();
        if tag.is_empty() {
            return serializer.serialize_str(rest);
        }
        // An inline key: tag and value put together on the stack (always room for both).
        let mut key = arrayvec::ArrayString::<{ INLINE_VALUE + 2 }>::new();
        match key.try_push_str(tag).and_then(|()| key.try_push_str(rest)) {
            Ok(()) => serializer.serialize_str(&key),
            Err(_) => serializer.collect_str(&format_args!("{tag}{rest}")),
        }
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = Text::deserialize(deserializer)?;
        Ok(Self::from_key(key.as_str()))
    }
}

/// A name a patron used, as given and as folded for comparison.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    /// Given, given key, family, family key.
    parts: CompactParts<4>,
}

impl PersonName {
    const GIVEN: usize = 0;
    const GIVEN_KEY: usize = 1;
    const FAMILY: usize = 2;
    const FAMILY_KEY: usize = 3;

    #[cfg(test)]
    pub(crate) fn new(given: Option<(&str, &str)>, family: Option<(&str, &str)>) -> Self {
        Self::from_parts(
            given.map(|(raw, _)| raw),
            family.map(|(raw, _)| raw),
            given.map(|(_, key)| key),
            family.map(|(_, key)| key),
        )
    }

    /// A name whose parts (given, given key, family, family key; each by its length,
    /// `None` when absent) are written end to end in `text`, in that order.
    pub(crate) fn from_written(text: &str, lens: [Option<usize>; 4]) -> Self {
        Self {
            parts: CompactParts::joined(text, lens),
        }
    }

    fn from_parts(
        given: Option<&str>,
        family: Option<&str>,
        given_key: Option<&str>,
        family_key: Option<&str>,
    ) -> Self {
        Self {
            parts: CompactParts::new([given, given_key, family, family_key]),
        }
    }

    /// The length of the text kept on the heap, if the name is not inline.
    pub(crate) fn spilled_len(&self) -> Option<usize> {
        self.parts.spilled_len()
    }

    /// The given name as the patron wrote it (trimmed).
    pub fn given(&self) -> Option<&str> {
        self.parts.get(Self::GIVEN)
    }
    /// The family name as the patron wrote it (trimmed).
    pub fn family(&self) -> Option<&str> {
        self.parts.get(Self::FAMILY)
    }
    /// The given name folded for comparison (see [`normalize::name`](crate::normalize::name)).
    pub fn given_key(&self) -> Option<&str> {
        self.parts.get(Self::GIVEN_KEY)
    }
    /// The family name folded for comparison.
    pub fn family_key(&self) -> Option<&str> {
        self.parts.get(Self::FAMILY_KEY)
    }
    /// "Given Family", or whichever part is known.
    pub fn display(&self) -> String {
        match (self.given(), self.family()) {
            (Some(g), Some(f)) => format!("{g} {f}"),
            (Some(one), None) | (None, Some(one)) => one.to_owned(),
            (None, None) => String::new(),
        }
    }
    pub(crate) fn same_keys(&self, other: &PersonName) -> bool {
        self.given_key() == other.given_key() && self.family_key() == other.family_key()
    }
}

/// Shows which parts are known, never what they say.
fn redacted(part: Option<&str>) -> Option<crate::pii::Redacted> {
    part.map(|_| crate::pii::REDACTED)
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonName")
            .field("given", &redacted(self.given()))
            .field("family", &redacted(self.family()))
            .field("given_key", &redacted(self.given_key()))
            .field("family_key", &redacted(self.family_key()))
            .finish()
    }
}

/// A name as saved: its parts spelled out, as before they shared one allocation.
#[derive(Serialize)]
#[serde(rename = "PersonName")]
struct SavedName<'a> {
    given: Option<&'a str>,
    family: Option<&'a str>,
    given_key: Option<&'a str>,
    family_key: Option<&'a str>,
}

/// The same, read back (borrowing the input's text where it can).
#[derive(Deserialize)]
#[serde(rename = "PersonName")]
struct LoadedName<'a> {
    #[serde(borrow)]
    given: Option<Text<'a>>,
    #[serde(borrow)]
    family: Option<Text<'a>>,
    #[serde(borrow)]
    given_key: Option<Text<'a>>,
    #[serde(borrow)]
    family_key: Option<Text<'a>>,
}

impl Serialize for PersonName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SavedName {
            given: self.given(),
            family: self.family(),
            given_key: self.given_key(),
            family_key: self.family_key(),
        }
        .serialize(serializer)
    }
}

/// A name as a binary format saved it, its parts read as bytes (a text is saved as its
/// bytes there) and checked together by [`Parts::from_bytes`].
#[derive(Deserialize)]
#[serde(rename = "PersonName")]
struct LoadedNameBytes<'a> {
    #[serde(borrow)]
    given: Option<PartBytes<'a>>,
    #[serde(borrow)]
    family: Option<PartBytes<'a>>,
    #[serde(borrow)]
    given_key: Option<PartBytes<'a>>,
    #[serde(borrow)]
    family_key: Option<PartBytes<'a>>,
}

/// A text's bytes as a binary format holds them, borrowed from the input when it can be.
struct PartBytes<'a>(std::borrow::Cow<'a, [u8]>);

impl<'de: 'a, 'a> Deserialize<'de> for PartBytes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Bytes<'a> {
            type Value = PartBytes<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(PartBytes(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(PartBytes(std::borrow::Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(PartBytes(std::borrow::Cow::Owned(v)))
            }
        }
        deserializer.deserialize_bytes(Bytes(std::marker::PhantomData))
    }
}

fn part_bytes<'p>(part: Option<&'p PartBytes<'_>>) -> Option<&'p [u8]> {
    part.map(|part| &*part.0)
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            let saved = LoadedNameBytes::deserialize(deserializer)?;
            let parts = CompactParts::from_bytes([
                part_bytes(saved.given.as_ref()),
                part_bytes(saved.given_key.as_ref()),
                part_bytes(saved.family.as_ref()),
                part_bytes(saved.family_key.as_ref()),
            ])
            .map_err(serde::de::Error::custom)?;
            return Ok(Self { parts });
        }
        let saved = LoadedName::deserialize(deserializer)?;
        Ok(Self::from_parts(
            saved.given.as_ref().map(Text::as_str),
            saved.family.as_ref().map(Text::as_str),
            saved.given_key.as_ref().map(Text::as_str),
            saved.family_key.as_ref().map(Text::as_str),
        ))
    }
}

/// A postal address as last given.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Address {
    /// Street, postcode, city.
    parts: Parts<3>,
    country: Option<Country>,
}

impl Address {
    const STREET: usize = 0;
    const POSTCODE: usize = 1;
    const CITY: usize = 2;

    pub(crate) fn new(
        street: Option<&str>,
        postcode: Option<&str>,
        city: Option<&str>,
        country: Option<Country>,
    ) -> Self {
        Self {
            parts: Parts::new([street, postcode, city]),
            country,
        }
    }

    /// Street and house, as given (trimmed).
    pub fn street(&self) -> Option<&str> {
        self.parts.get(Self::STREET)
    }
    /// Postcode, normalized.
    pub fn postcode(&self) -> Option<&str> {
        self.parts.get(Self::POSTCODE)
    }
    /// City, as given (trimmed).
    pub fn city(&self) -> Option<&str> {
        self.parts.get(Self::CITY)
    }
    /// Country.
    pub fn country(&self) -> Option<Country> {
        self.country
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.country.is_none()
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("street", &redacted(self.street()))
            .field("postcode", &redacted(self.postcode()))
            .field("city", &redacted(self.city()))
            .field("country", &self.country)
            .finish()
    }
}

/// An address as saved: its parts spelled out.
#[derive(Serialize)]
#[serde(rename = "Address")]
struct SavedAddress<'a> {
    street: Option<&'a str>,
    postcode: Option<&'a str>,
    city: Option<&'a str>,
    country: Option<Country>,
}

/// The same, read back.
#[derive(Deserialize)]
#[serde(rename = "Address")]
struct LoadedAddress<'a> {
    #[serde(borrow)]
    street: Option<Text<'a>>,
    #[serde(borrow)]
    postcode: Option<Text<'a>>,
    #[serde(borrow)]
    city: Option<Text<'a>>,
    country: Option<Country>,
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SavedAddress {
            street: self.street(),
            postcode: self.postcode(),
            city: self.city(),
            country: self.country,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let saved = LoadedAddress::deserialize(deserializer)?;
        Ok(Self::new(
            saved.street.as_ref().map(Text::as_str),
            saved.postcode.as_ref().map(Text::as_str),
            saved.city.as_ref().map(Text::as_str),
            saved.country,
        ))
    }
}

/// Where a patron likes to sit.
///
/// ```
/// use regulars::SeatPreference;
/// let pref = SeatPreference::aisle().in_section("Stalls");
/// assert!(pref.wants_aisle());
/// assert_eq!(pref.section(), Some("Stalls"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeatPreference {
    section: Option<String>,
    aisle: bool,
}

impl SeatPreference {
    /// Wants an aisle seat.
    pub fn aisle() -> Self {
        Self {
            section: None,
            aisle: true,
        }
    }
    /// Prefers a section ("Stalls", "Circle").
    pub fn section_only(section: impl Into<String>) -> Self {
        Self {
            section: Some(section.into()),
            aisle: false,
        }
    }
    /// Adds a preferred section.
    #[must_use]
    pub fn in_section(mut self, section: impl Into<String>) -> Self {
        self.section = Some(section.into());
        self
    }
    /// The preferred section, if any.
    pub fn section(&self) -> Option<&str> {
        self.section.as_deref()
    }
    /// Whether an aisle seat is wanted.
    pub fn wants_aisle(&self) -> bool {
        self.aisle
    }
}

/// What a patron asked for: typed preferences the built-in rules understand, and free-form
/// ones for the venue's own rules. `Debug` shows the free-form keys, not their values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    seat: Option<SeatPreference>,
    no_fuss: bool,
    custom: Vec<(String, String)>,
}

impl Preferences {
    /// Where they like to sit.
    pub fn seat(&self) -> Option<&SeatPreference> {
        self.seat.as_ref()
    }
    /// "Leave me alone": no greetings, no celebrations, only what serves them.
    pub fn prefers_no_fuss(&self) -> bool {
        self.no_fuss
    }
    /// A free-form preference by key.
    pub fn custom(&self, key: &str) -> Option<&str> {
        self.custom
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// All free-form preferences, in the order first set.
    pub fn all_custom(&self) -> impl Iterator<Item = (&str, &str)> {
        self.custom.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl fmt::Debug for Preferences {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Free-form values are whatever staff typed ("allergic to nuts"): keys only.
        let keys: Vec<&str> = self.custom.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Preferences")
            .field("seat", &self.seat)
            .field("no_fuss", &self.no_fuss)
            .field("custom_keys", &keys)
            .finish()
    }
}

/// A way of reaching a patron.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Channel {
    /// E-mail.
    Email,
    /// Text message.
    Sms,
    /// Phone call.
    Phone,
    /// Letter.
    Post,
    /// Staff in person, at the venue (seat notes, greetings at the door).
    InPerson,
}

/// Why personal data is used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Purpose {
    /// Running the visit: tickets, access needs, safety.
    Operational,
    /// Tailoring their visit from their history (greetings, seat notes, the usual).
    Personalisation,
    /// Selling to them.
    Marketing,
}

/// A patron's answer on one channel for one purpose, and when they gave it.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{Channel, Consent, Purpose};
/// let at = Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap();
/// let no = Consent::withdrawn(Channel::Email, Purpose::Marketing, at);
/// assert!(!no.is_granted());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Consent {
    channel: Channel,
    purpose: Purpose,
    granted: bool,
    at: DateTime<Utc>,
}

impl Consent {
    /// They agreed, at `at`.
    pub fn granted(channel: Channel, purpose: Purpose, at: DateTime<Utc>) -> Self {
        Self {
            channel,
            purpose,
            granted: true,
            at,
        }
    }
    /// They objected or withdrew, at `at`.
    pub fn withdrawn(channel: Channel, purpose: Purpose, at: DateTime<Utc>) -> Self {
        Self {
            channel,
            purpose,
            granted: false,
            at,
        }
    }
    /// The channel.
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// The purpose.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
    /// Whether they agreed.
    pub fn is_granted(&self) -> bool {
        self.granted
    }
    /// When they answered.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// What a flag marks.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FlagKind {
    /// Access needs (wheelchair space, step-free route, hearing loop…).
    AccessNeeds,
    /// A very important person for the venue.
    Vip,
    /// The venue's own flag.
    Custom(String),
}

/// A mark on a patron, valid between two dates (inclusive; open-ended when absent).
///
/// ```
/// use chrono::NaiveDate;
/// use regulars::{Flag, FlagKind};
/// let until = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
/// let flag = Flag::new(FlagKind::AccessNeeds).detail("step-free route").until(until);
/// assert!(flag.is_active_on(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
/// assert!(!flag.is_active_on(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flag {
    kind: FlagKind,
    detail: Option<Pii>,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

impl Flag {
    /// An open-ended flag.
    pub fn new(kind: FlagKind) -> Self {
        Self {
            kind,
            detail: None,
            valid_from: None,
            valid_until: None,
        }
    }
    /// Adds a detail for staff (kept out of `Debug`: it may be health data).
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(Pii::new(detail.into()));
        self
    }
    /// Valid from this date on.
    #[must_use]
    pub fn from(mut self, date: NaiveDate) -> Self {
        self.valid_from = Some(date);
        self
    }
    /// Valid until this date, inclusive.
    #[must_use]
    pub fn until(mut self, date: NaiveDate) -> Self {
        self.valid_until = Some(date);
        self
    }
    /// What it marks.
    pub fn kind(&self) -> &FlagKind {
        &self.kind
    }
    /// The detail for staff.
    pub fn detail_text(&self) -> Option<&str> {
        self.detail.as_deref()
    }
    /// First valid day.
    pub fn valid_from(&self) -> Option<NaiveDate> {
        self.valid_from
    }
    /// Last valid day.
    pub fn valid_until(&self) -> Option<NaiveDate> {
        self.valid_until
    }
    /// Whether the flag holds on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date)
            && self.valid_until.is_none_or(|until| date <= until)
    }
}

/// A note staff wrote about a patron. `Debug` hides its text and author.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Note {
    at: DateTime<Utc>,
    author: Option<String>,
    text: Pii,
}

impl Note {
    /// A note written at `at`.
    pub fn new(text: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            at,
            author: None,
            text: Pii::new(text.into()),
        }
    }
    /// Who wrote it.
    #[must_use]
    pub fn by(mut self, author: impl Into<String>) -> Self {
        self.author = Some(author.into());
        self
    }
    /// When it was written.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
    /// Who wrote it.
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }
    /// The note.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Note")
            .field("at", &self.at)
            .field(
                "author",
                &self.author.as_ref().map(|_| crate::pii::REDACTED),
            )
            .field("text", &self.text)
            .finish()
    }
}

/// One change to a patron's profile, applied with
/// [`Memory::update_profile`](crate::Memory::update_profile). `Debug` hides personal
/// values (a free-form preference's value, a note, a flag's detail).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ProfileChange {
    /// Sets or clears the seat preference.
    SeatPreference(Option<SeatPreference>),
    /// Sets "prefers no fuss".
    PrefersNoFuss(bool),
    /// Sets (`Some`) or removes (`None`) a free-form preference.
    CustomPreference {
        /// The preference's key.
        key: String,
        /// Its value.
        value: Option<String>,
    },
    /// Records a consent answer; the latest answer per channel and purpose counts.
    Consent(Consent),
    /// Adds a flag (replacing one of the same kind).
    AddFlag(Flag),
    /// Removes the flag of this kind.
    RemoveFlag(FlagKind),
    /// Adds a note.
    AddNote(Note),
}

impl fmt::Debug for ProfileChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileChange::SeatPreference(seat) => {
                f.debug_tuple("SeatPreference").field(seat).finish()
            }
            ProfileChange::PrefersNoFuss(no_fuss) => {
                f.debug_tuple("PrefersNoFuss").field(no_fuss).finish()
            }
            ProfileChange::CustomPreference { key, value } => f
                .debug_struct("CustomPreference")
                .field("key", key)
                .field("value", &value.as_ref().map(|_| crate::pii::REDACTED))
                .finish(),
            ProfileChange::Consent(consent) => f.debug_tuple("Consent").field(consent).finish(),
            ProfileChange::AddFlag(flag) => f.debug_tuple("AddFlag").field(flag).finish(),
            ProfileChange::RemoveFlag(kind) => f.debug_tuple("RemoveFlag").field(kind).finish(),
            ProfileChange::AddNote(note) => f.debug_tuple("AddNote").field(note).finish(),
        }
    }
}

/// The profile part of a patron: everything but history and stats.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Profile {
    // Grown one at a time (`push_exact`): where they live is part of the stamp that
    // tells recognition its compact copy of them is current, so they stay vectors.
    pub(crate) names: Vec<PersonName>,
    pub(crate) identifiers: Vec<Identifier>,
    pub(crate) addresses: Vec<Address>,
    pub(crate) birth_date: Option<NaiveDate>,
    pub(crate) preferences: SparsePreferences,
    // Few patrons have any: a null pointer each until they do.
    pub(crate) consents: Sparse<Consent>,
    pub(crate) flags: Sparse<Flag>,
    pub(crate) notes: Sparse<Note>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("names", &self.names)
            .field("identifiers", &self.identifiers)
            .field("addresses", &self.addresses)
            .field("birth_date", &self.birth_date.map(|_| crate::pii::REDACTED))
            .field("preferences", &self.preferences)
            .field("consents", &self.consents)
            .field("flags", &self.flags)
            .field("notes", &self.notes)
            .finish()
    }
}

impl Profile {
    pub(crate) fn apply(&mut self, change: ProfileChange) {
        match change {
            ProfileChange::SeatPreference(seat) => self.preferences.make_mut().seat = seat,
            ProfileChange::PrefersNoFuss(no_fuss) => {
                self.preferences.make_mut().no_fuss = no_fuss;
            }
            ProfileChange::CustomPreference { key, value } => {
                let existing = self.preferences.custom.iter().position(|(k, _)| *k == key);
                match (existing, value) {
                    (Some(i), Some(value)) => self.preferences.make_mut().custom[i].1 = value,
                    (Some(i), None) => {
                        self.preferences.make_mut().custom.remove(i);
                    }
                    (None, Some(value)) => self.preferences.make_mut().custom.push((key, value)),
                    (None, None) => {}
                }
            }
            ProfileChange::Consent(consent) => {
                let key = (consent.channel, consent.purpose);
                match self
                    .consents
                    .iter_mut()
                    .find(|c| (c.channel, c.purpose) == key)
                {
                    // The latest answer counts, whatever order the answers arrive in.
                    Some(existing) if existing.at <= consent.at => *existing = consent,
                    Some(_) => {}
                    None => self.consents.push(consent),
                }
            }
            ProfileChange::AddFlag(flag) => {
                self.flags.retain(|f| f.kind != flag.kind);
                self.flags.push(flag);
            }
            ProfileChange::RemoveFlag(kind) => self.flags.retain(|f| f.kind != kind),
            ProfileChange::AddNote(note) => self.notes.push(note),
        }
    }
}

/// Appends to a profile list, growing it by exactly one: most patrons have one name and
/// one address, and a vector's first allocation holds four (one name cost a 256-byte
/// block).
pub(crate) fn push_exact<T>(list: &mut Vec<T>, item: T) {
    list.reserve_exact(1);
    list.push(item);
}

/// Preferences as a profile keeps them: nothing but a null pointer for the many patrons
/// who never stated any (8 bytes instead of 64), boxed once someone does. Reads as
/// [`Preferences`]; saved exactly as they are.
#[derive(Clone, Default)]
pub(crate) struct SparsePreferences(Option<Box<Preferences>>);

/// What no stated preference reads as.
static NO_PREFERENCES: Preferences = Preferences {
    seat: None,
    no_fuss: false,
    custom: Vec::new(),
};

impl SparsePreferences {
    /// Counts the box and what it owns (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        if let Some(preferences) = &self.0 {
            tally.block(size_of::<Preferences>(), size_of::<Preferences>());
            if let Some(section) = preferences.seat.as_ref().and_then(|s| s.section.as_ref()) {
                tally.text(section.len(), section.capacity());
            }
            tally.vec(&preferences.custom);
            for (key, value) in &preferences.custom {
                tally.text(key.len(), key.capacity());
                tally.text(value.len(), value.capacity());
            }
        }
    }

    /// The preferences, to change them (boxed from here on).
    pub(crate) fn make_mut(&mut self) -> &mut Preferences {
        self.0.get_or_insert_with(Box::default)
    }
}

impl std::ops::Deref for SparsePreferences {
    type Target = Preferences;
    fn deref(&self) -> &Preferences {
        self.0.as_deref().unwrap_or(&NO_PREFERENCES)
    }
}

impl PartialEq for SparsePreferences {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for SparsePreferences {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for SparsePreferences {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SparsePreferences {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let preferences = Preferences::deserialize(deserializer)?;
        Ok(if preferences == NO_PREFERENCES {
            Self(None)
        } else {
            Self(Some(Box::new(preferences)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of every kind, short enough to be inline and too long, and keys of no known
    /// tag as a snapshot may hold them.
    fn keys() -> Vec<String> {
        let long = "a".repeat(INLINE_VALUE - 1);
        let mut keys = vec![
            String::new(),
            "e".into(),
            "e:".into(),
            "q:odd".into(),
            "x:loyalty:L-1".into(),
            "x:noseparator".into(),
            format!("x:s:{long}"),
            "p:+442079460018".into(),
            "c:tok_1".into(),
            "é:x".into(),
        ];
        for tag in ["e:", "p:", "c:", "x:", "z:"] {
            for len in [0, 1, INLINE_VALUE - 1, INLINE_VALUE, INLINE_VALUE + 1, 60] {
                keys.push(format!("{tag}{}", "b".repeat(len)));
                keys.push(format!("{tag}{}é", "b".repeat(len)));
            }
        }
        keys
    }

    #[test]
    fn identifiers_keep_their_key_whether_inline_or_spilled() {
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        let keys = keys();
        for key in &keys {
            let id = Identifier::from_key(key);
            // Saved as the key, byte for byte, and read back equal.
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, serde_json::to_string(key).unwrap());
            let bytes = postcard::to_allocvec(&id).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(key).unwrap());
            let back: Identifier = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, id);
            // Inline exactly when a known tag's value fits.
            let known = ["e:", "p:", "c:", "x:"].iter().any(|t| key.starts_with(t));
            assert_eq!(
                id.spilled_len().is_none(),
                known && key.len() - 2 <= INLINE_VALUE,
                "{key}"
            );
            assert_eq!(id.spilled_len().unwrap_or(key.len()), key.len());
            // The same value made from its kind is the same identifier.
            if known && id.kind() != IdentifierKind::External {
                let made = Identifier::new(id.kind(), id.value());
                assert_eq!(made, id);
                assert_eq!(hasher.hash_one(&made), hasher.hash_one(&id));
            }
        }
        // Ordered as the keys are, equal exactly when the keys are.
        for a in &keys {
            for b in &keys {
                let (x, y) = (Identifier::from_key(a), Identifier::from_key(b));
                assert_eq!(x.cmp(&y), a.cmp(b), "{a} {b}");
                assert_eq!(x == y, a == b, "{a} {b}");
            }
        }
    }

    #[test]
    fn identifiers_read_their_kind_system_and_value() {
        let long = "v".repeat(40);
        let cases = [
            (
                "e:ana@example.org",
                IdentifierKind::Email,
                None,
                "ana@example.org",
            ),
            (
                "p:+442079460018",
                IdentifierKind::Phone,
                None,
                "+442079460018",
            ),
            ("c:tok_1", IdentifierKind::CardToken, None, "tok_1"),
            (
                "x:loyalty:L-1",
                IdentifierKind::External,
                Some("loyalty"),
                "L-1",
            ),
            ("x:nosystem", IdentifierKind::External, None, "nosystem"),
            ("q:odd:one", IdentifierKind::External, Some("odd"), "one"),
        ];
        for (key, kind, system, value) in cases {
            let id = Identifier::from_key(key);
            assert_eq!((id.kind(), id.system(), id.value()), (kind, system, value));
        }
        let spilled = Identifier::external("loyalty", &long);
        assert!(spilled.spilled_len().is_some());
        assert_eq!(
            (spilled.kind(), spilled.system(), spilled.value()),
            (IdentifierKind::External, Some("loyalty"), long.as_str())
        );
        assert_eq!(
            Identifier::external("loyalty", "L-1"),
            Identifier::from_key("x:loyalty:L-1")
        );
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn identifiers_and_names_stay_small() {
        // Held by every profile (and identifiers by the index): each byte more inline
        // costs every patron.
        assert_eq!(size_of::<Identifier>(), 32);
        assert_eq!(size_of::<Option<Identifier>>(), 32);
        assert_eq!(size_of::<PersonName>(), 48);
        assert_eq!(size_of::<Option<PersonName>>(), 48);
    }

    #[test]
    fn names_inline_or_spilled_are_one_name_however_made() {
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        // Together the four parts straddle what fits inline.
        for extra in 0..6 {
            let given = format!("Zoë{}", "a".repeat(INLINE_NAME / 4 + extra));
            let given_key = format!("zoe{}", "a".repeat(INLINE_NAME / 4 + extra));
            let (family, family_key) = ("Ng", "ng");
            let total = given.len() + given_key.len() + family.len() + family_key.len();
            let made = PersonName::new(Some((&given, &given_key)), Some((family, family_key)));
            assert_eq!(made.spilled_len(), (total > INLINE_NAME).then_some(total));
            let text = format!("{given}{given_key}{family}{family_key}");
            let lens = [given.len(), given_key.len(), family.len(), family_key.len()].map(Some);
            let written = PersonName::from_written(&text, lens);
            let bytes = postcard::to_allocvec(&made).unwrap();
            let read: PersonName = postcard::from_bytes(&bytes).unwrap();
            let json: PersonName =
                serde_json::from_str(&serde_json::to_string(&made).unwrap()).unwrap();
            for name in [&written, &read, &json] {
                assert_eq!(name, &made);
                assert_eq!(hasher.hash_one(name), hasher.hash_one(&made));
                assert_eq!(name.spilled_len(), made.spilled_len());
                assert_eq!(
                    [
                        name.given(),
                        name.given_key(),
                        name.family(),
                        name.family_key()
                    ],
                    [
                        Some(&*given),
                        Some(&*given_key),
                        Some(family),
                        Some(family_key)
                    ]
                );
            }
            // Saved as the plain parts were.
            assert_eq!(
                bytes,
                postcard::to_allocvec(&(
                    Some(&given),
                    Some(family),
                    Some(&given_key),
                    Some(family_key)
                ))
                .unwrap()
            );
        }
    }

    #[test]
    fn a_name_written_end_to_end_is_the_name_of_its_parts() {
        let cases: [(&str, [Option<usize>; 4], PersonName); 5] = [
            (
                "Zoëzoe",
                [Some(4), Some(3), None, None],
                PersonName::new(Some(("Zoë", "zoe")), None),
            ),
            (
                "Ngng",
                [None, None, Some(2), Some(2)],
                PersonName::new(None, Some(("Ng", "ng"))),
            ),
            (
                "AnaanaSilvasilva",
                [Some(3), Some(3), Some(5), Some(5)],
                PersonName::new(Some(("Ana", "ana")), Some(("Silva", "silva"))),
            ),
            ("", [None; 4], PersonName::new(None, None)),
            // Lengths that do not add up, or cut a character, are read part by part.
            (
                "Zoëzoe!",
                [Some(4), Some(3), None, None],
                PersonName::new(Some(("Zoë", "zoe")), None),
            ),
        ];
        for (text, lens, want) in cases {
            let got = PersonName::from_written(text, lens);
            assert_eq!(got, want);
            assert_eq!(
                [got.given(), got.given_key(), got.family(), got.family_key()],
                [
                    want.given(),
                    want.given_key(),
                    want.family(),
                    want.family_key()
                ]
            );
        }
        let cut = PersonName::from_written("Zoëzoe", [Some(3), Some(4), None, None]);
        assert_eq!(cut.given(), None);
        assert_eq!(cut.given_key(), None);
    }

    #[test]
    fn names_read_back_from_bytes_as_written_and_refuse_what_is_not_utf8() {
        let names = [
            PersonName::new(
                Some(("Zoë", "zoe")),
                Some(("Ørsted-Łukasz", "orstedlukasz")),
            ),
            PersonName::new(None, Some(("Ng", "ng"))),
            PersonName::new(Some(("", "")), None),
            PersonName::new(None, None),
        ];
        for name in names {
            let bytes = postcard::to_allocvec(&name).unwrap();
            let back: PersonName = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, name);
            assert_eq!(
                (
                    back.given(),
                    back.given_key(),
                    back.family(),
                    back.family_key()
                ),
                (
                    name.given(),
                    name.given_key(),
                    name.family(),
                    name.family_key()
                )
            );
            // The human-readable way still reads texts.
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(serde_json::from_str::<PersonName>(&json).unwrap(), name);
        }
        // Saved in the order given, family, given key, family key; a text is its length
        // and bytes, as a byte sequence is.
        let saved = |given: &[u8], given_key: &[u8]| {
            postcard::to_allocvec(&(Some(given), None::<&str>, Some(given_key), None::<&str>))
                .unwrap()
        };
        let fine = saved("Zoë".as_bytes(), b"zoe");
        let name: PersonName = postcard::from_bytes(&fine).unwrap();
        assert_eq!((name.given(), name.given_key()), (Some("Zoë"), Some("zoe")));
        // "Zo" and half of "ë", then its other half: together UTF-8, apart not.
        let split = saved(b"Zo\xc3", b"\xabe");
        assert!(postcard::from_bytes::<PersonName>(&split).is_err());
        let invalid = saved(b"Zo\xff", b"zo");
        assert!(postcard::from_bytes::<PersonName>(&invalid).is_err());
    }
}
