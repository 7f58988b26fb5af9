//! What the person strategy compares in a patron's profile, in one compact block.
//!
//! A profile keeps each name, identifier and address in its own allocation, so comparing
//! one candidate touches a dozen scattered cache lines; with a million patrons nearly every
//! one is a miss. Memory keeps a copy of just the compared values per patron in one small
//! byte block (see `ComparisonKeys` in the memory's index), written whenever the write path
//! learns something, and scoring reads that instead. Both give the same [`ProfileKeys`],
//! so the outcome never depends on which one was read.

use chrono::NaiveDate;
use smallvec::SmallVec;

use crate::memory::PatronView;
use crate::model::profile::{IdentifierKind, Profile};
use crate::recognize::compare;

/// One identifier of a patron: its kind, its system (external ids only) and its value.
#[derive(Clone, Copy, Debug)]
pub(super) struct IdentifierKey<'a> {
    pub(super) kind: IdentifierKind,
    pub(super) system: Option<&'a str>,
    pub(super) value: &'a str,
}

/// One name a patron used: folded given and family name, the sound of each and the
/// nickname table entry of the given name's first word, when worked out beforehand
/// (`None`: work it out when needed).
#[derive(Clone, Copy, Debug)]
pub(super) struct NameKeys<'a> {
    pub(super) given: Option<&'a str>,
    pub(super) family: Option<&'a str>,
    pub(super) given_sound: Option<&'a [u8]>,
    pub(super) family_sound: Option<&'a [u8]>,
    pub(super) given_nicknames: Option<compare::NicknameEntry>,
}

/// The values of a patron's profile that the person strategy compares.
#[derive(Clone, Debug, Default)]
pub(super) struct ProfileKeys<'a> {
    pub(super) names: SmallVec<[NameKeys<'a>; 4]>,
    pub(super) identifiers: SmallVec<[IdentifierKey<'a>; 6]>,
    /// Street line and postcode of every address given.
    pub(super) addresses: SmallVec<[(Option<&'a str>, Option<&'a str>); 3]>,
    pub(super) birth_date: Option<NaiveDate>,
}

/// Numbers are written 7 bits a byte, so the whole block stays ASCII framing around the
/// (UTF-8) values and can be kept as a `str`: reading it back needs no UTF-8 check.
const NUMBER_BYTES: usize = 3;
/// The length written for an absent value.
const ABSENT: usize = (1 << (7 * NUMBER_BYTES)) - 1;
/// Birth dates are written as days from the common era, shifted to be positive.
const DAYS_SHIFT: i64 = 1 << 27;

impl<'a> ProfileKeys<'a> {
    /// Read from the patron's profile itself.
    pub(super) fn of_view(patron: &PatronView<'a>) -> Self {
        let mut keys = Self {
            birth_date: patron.birth_date(),
            ..Self::default()
        };
        keys.names.extend(patron.names().iter().map(|n| NameKeys {
            given: n.given_key(),
            family: n.family_key(),
            given_sound: None,
            family_sound: None,
            given_nicknames: None,
        }));
        keys.identifiers
            .extend(patron.identifiers().iter().map(|i| IdentifierKey {
                kind: i.kind(),
                system: i.system(),
                value: i.value(),
            }));
        keys.addresses.extend(
            patron
                .addresses()
                .iter()
                .map(|a| (a.street(), a.postcode())),
        );
        keys
    }

    /// Read from a block written by [`encode`]; `None` if it is not one.
    pub(super) fn decode(block: &'a str) -> Option<Self> {
        let mut reader = Reader { block, at: 0 };
        let mut keys = Self {
            birth_date: match reader.number(5)? {
                0 => None,
                days => i32::try_from(days as i64 - DAYS_SHIFT)
                    .ok()
                    .and_then(NaiveDate::from_num_days_from_ce_opt),
            },
            ..Self::default()
        };
        for _ in 0..reader.number(1)? {
            keys.names.push(NameKeys {
                given: reader.text()?,
                family: reader.text()?,
                given_sound: reader.text()?.map(str::as_bytes),
                family_sound: reader.text()?.map(str::as_bytes),
                given_nicknames: Some(match reader.number(1)? {
                    0 => compare::NicknameEntry::default(),
                    _ => compare::NicknameEntry::from_parts([
                        reader.entry_part()?,
                        reader.entry_part()?,
                        reader.entry_part()?,
                        reader.entry_part()?,
                    ]),
                }),
            });
        }
        for _ in 0..reader.number(1)? {
            let kind = match reader.number(1)? {
                0 => IdentifierKind::Email,
                1 => IdentifierKind::Phone,
                2 => IdentifierKind::CardToken,
                _ => IdentifierKind::External,
            };
            let system = reader.text()?;
            let value = reader.text()?.unwrap_or_default();
            keys.identifiers.push(IdentifierKey {
                kind,
                system,
                value,
            });
        }
        for _ in 0..reader.number(1)? {
            keys.addresses.push((reader.text()?, reader.text()?));
        }
        (reader.at == block.len()).then_some(keys)
    }
}

/// Writes the compared values of a profile as one block; `None` when the profile is too
/// large for the format (such a patron is compared through the profile itself).
pub(crate) fn encode(profile: &Profile) -> Option<Box<str>> {
    let mut out = String::with_capacity(128);
    let days = profile.birth_date.map_or(0, |date| {
        i64::from(chrono::Datelike::num_days_from_ce(&date)) + DAYS_SHIFT
    });
    number(&mut out, usize::try_from(days).ok()?, 5)?;
    number(&mut out, profile.names.len(), 1)?;
    for name in &profile.names {
        let sound = |key: Option<&str>| key.map(compare::phonetic_key);
        let (given_sound, family_sound) = (sound(name.given_key()), sound(name.family_key()));
        text(&mut out, name.given_key())?;
        text(&mut out, name.family_key())?;
        text(&mut out, given_sound.as_ref().map(code))?;
        text(&mut out, family_sound.as_ref().map(code))?;
        // The table entry scoring looks up for every candidate's given name, looked up
        // once here: a flag, then the entry of a name the table knows.
        let first = name
            .given_key()
            .map(|given| given.split(' ').next().unwrap_or(""));
        match first.and_then(|first| compare::NicknameEntry::of(first).parts()) {
            Some(parts) => {
                number(&mut out, 1, 1)?;
                for part in parts {
                    number(&mut out, usize::try_from(part).ok()?, NUMBER_BYTES)?;
                }
            }
            None => number(&mut out, 0, 1)?,
        }
    }
    number(&mut out, profile.identifiers.len(), 1)?;
    for identifier in &profile.identifiers {
        let kind = match identifier.kind() {
            IdentifierKind::Email => 0,
            IdentifierKind::Phone => 1,
            IdentifierKind::CardToken => 2,
            IdentifierKind::External => 3,
        };
        number(&mut out, kind, 1)?;
        text(&mut out, identifier.system())?;
        text(&mut out, Some(identifier.value()))?;
    }
    number(&mut out, profile.addresses.len(), 1)?;
    for address in &profile.addresses {
        text(&mut out, address.street())?;
        text(&mut out, address.postcode())?;
    }
    Some(out.into_boxed_str())
}

/// A phonetic code as text (its characters are ASCII).
fn code(key: &compare::PhoneticKey) -> &str {
    std::str::from_utf8(key.as_bytes()).unwrap_or_default()
}

/// Writes `value` in `bytes` bytes of 7 bits; `None` if it does not fit.
fn number(out: &mut String, value: usize, bytes: usize) -> Option<()> {
    if value >> (7 * bytes) != 0 {
        return None;
    }
    for i in (0..bytes).rev() {
        out.push(char::from(((value >> (7 * i)) & 0x7f) as u8));
    }
    Some(())
}

fn text(out: &mut String, value: Option<&str>) -> Option<()> {
    match value {
        Some(value) if value.len() < ABSENT => {
            number(out, value.len(), NUMBER_BYTES)?;
            out.push_str(value);
            Some(())
        }
        Some(_) => None,
        None => number(out, ABSENT, NUMBER_BYTES),
    }
}

struct Reader<'a> {
    block: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn number(&mut self, bytes: usize) -> Option<usize> {
        let end = self.at.checked_add(bytes)?;
        let digits = self.block.as_bytes().get(self.at..end)?;
        self.at = end;
        Some(
            digits
                .iter()
                .fold(0usize, |n, &d| (n << 7) | usize::from(d & 0x7f)),
        )
    }
    /// One of the four numbers of a nickname table entry.
    fn entry_part(&mut self) -> Option<u32> {
        u32::try_from(self.number(NUMBER_BYTES)?).ok()
    }

    /// An optional string: `Some(None)` for an absent one, `None` for a broken block.
    fn text(&mut self) -> Option<Option<&'a str>> {
        let len = self.number(NUMBER_BYTES)?;
        if len == ABSENT {
            return Some(None);
        }
        let end = self.at.checked_add(len)?;
        let value = self.block.get(self.at..end)?;
        self.at = end;
        Some(Some(value))
    }
}
