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
use crate::normalize::Country;
use crate::recognize::compare;

/// One identifier of a patron: its kind, its system (external ids only) and its value.
#[derive(Clone, Copy, Debug)]
pub(super) struct IdentifierKey<'a> {
    pub(super) kind: IdentifierKind,
    pub(super) system: Option<&'a str>,
    pub(super) value: &'a str,
}

/// One name a patron used: folded given and family name, and what a block keeps worked
/// out beside them (see [`NameExtras`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct NameKeys<'a> {
    pub(super) given: Option<&'a str>,
    pub(super) family: Option<&'a str>,
    pub(super) extras: NameExtras<'a>,
}

/// What a block keeps worked out beside a name, as the block's section written by
/// `name_extras`: the length of the given name's first word, its nickname table entry,
/// and the sound of each name. Read only when a comparison needs one of them, as most
/// candidates are settled by the names alone or by fewer of these. Every reader answers
/// `None` for "not known beforehand: work it out" (a name read from the profile, or a
/// section that is not one), so what it answers never changes an outcome.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct NameExtras<'a>(Option<&'a str>);

impl<'a> NameExtras<'a> {
    /// The section's reader, after the first word's length.
    fn after_first(&self) -> Option<Reader<'a>> {
        let mut reader = Reader {
            block: self.0?,
            at: 0,
        };
        // Absent for a name without a given name: what follows is written alike.
        let _first_length = reader.short()?;
        Some(reader)
    }

    /// The length of the first word of the given name (`given`), as `given`'s prefix.
    pub(super) fn given_first(&self, given: &'a str) -> Option<&'a str> {
        let mut reader = Reader {
            block: self.0?,
            at: 0,
        };
        given.get(..reader.short()?.ok()?)
    }

    /// The nickname table entry of the given name's first word.
    pub(super) fn given_nicknames(&self) -> Option<compare::NicknameEntry> {
        let mut reader = self.after_first()?;
        Some(match reader.number(ENTRY_BYTES)? {
            0 => compare::NicknameEntry::default(),
            id => compare::NicknameEntry::of_id(u32::try_from(id - 1).ok()?),
        })
    }

    /// The sound of the given name.
    pub(super) fn given_sound(&self) -> Option<&'a [u8]> {
        let mut reader = self.after_first()?;
        reader.number(ENTRY_BYTES)?;
        reader.text()?.map(str::as_bytes)
    }

    /// The sound of the family name.
    pub(super) fn family_sound(&self) -> Option<&'a [u8]> {
        let mut reader = self.after_first()?;
        reader.number(ENTRY_BYTES)?;
        reader.text()?;
        reader.text()?.map(str::as_bytes)
    }
}

/// A patron's street line: as given (read from the profile itself), or as the words and
/// numbers comparing reads from it, kept in the block so that scoring a candidate does
/// not read their line again.
#[derive(Clone, Copy, Debug)]
pub(super) enum StreetKey<'a> {
    Line(&'a str),
    /// The block's section written by `street`.
    Read(&'a str),
}

impl<'a> StreetKey<'a> {
    /// The line's words and numbers, put back together from the block's section (see
    /// `street`), for [`StreetKey::Read`] only.
    #[cfg(test)]
    pub(super) fn read(section: &'a str) -> compare::ReadStreet<'a> {
        let mut street = compare::ReadStreet::new();
        Self::read_into(section, &mut street);
        street
    }

    /// [`read`](Self::read) into `street`, in place of what it held: the words and numbers
    /// are a few hundred bytes, copied on every return.
    pub(super) fn read_into(section: &'a str, street: &mut compare::ReadStreet<'a>) {
        street.clear();
        let mut reader = Reader {
            block: section,
            at: 0,
        };
        // Memory wrote the section: nothing here fails, and a section that is not one
        // reads as fewer words, never as a panic.
        let (words, numbers) = (reader.byte(), reader.byte());
        for _ in 0..words.unwrap_or(0) {
            street.push_word(reader.text().flatten().unwrap_or_default());
        }
        for _ in 0..numbers.unwrap_or(0) {
            let main = reader.text().flatten().unwrap_or_default();
            let suffix = reader.text().flatten().unwrap_or_default();
            street.push_number(main, suffix);
        }
    }
}

/// The values of a patron's profile that the person strategy compares.
#[derive(Clone, Debug, Default)]
pub(super) struct ProfileKeys<'a> {
    pub(super) names: SmallVec<[NameKeys<'a>; 4]>,
    pub(super) identifiers: SmallVec<[IdentifierKey<'a>; 6]>,
    /// Street line and postcode of every address given.
    pub(super) addresses: SmallVec<[(Option<StreetKey<'a>>, Option<&'a str>); 3]>,
    /// The country of every address that named one, as its two-letter code.
    pub(super) countries: SmallVec<[[u8; 2]; 3]>,
    pub(super) birth_date: Option<NaiveDate>,
}

/// Numbers are written 7 bits a byte, so the whole block stays ASCII framing around the
/// (UTF-8) values and can be kept as a `str`.
/// Lengths and table positions are written short: one byte below [`LONG`], else
/// [`LONG`] and then [`LONG_BYTES`] bytes; so that most blocks fit memory's fixed slot.
const LONG: usize = 0x7e;
/// The bytes of a long number after its [`LONG`] mark.
const LONG_BYTES: usize = 3;
/// The length written for an absent value (one byte).
const ABSENT: usize = 0x7f;
/// A nickname table entry is written as its id plus one (0 for none) in this many bytes:
/// the table's ids fit (see the test `every_nickname_id_fits_a_block`).
const ENTRY_BYTES: usize = 2;
/// Birth dates are written as days from the common era, shifted to be positive.
const DAYS_SHIFT: i64 = 1 << 27;

impl<'a> ProfileKeys<'a> {
    /// Read from the patron's profile itself.
    pub(super) fn of_view(patron: &PatronView<'a>) -> Self {
        let mut keys = Self::default();
        keys.fill_from_view(patron);
        keys
    }

    /// Read from a block written by [`encode`]; `None` if it is not one.
    #[cfg(test)]
    pub(super) fn decode(block: &'a str) -> Option<Self> {
        let mut keys = Self::default();
        keys.fill_from_block(block).then_some(keys)
    }

    /// Refilled, in place, with the patron's keys: from `block` (the compact copy memory
    /// keeps when it is current) unless it is not one, else from the profile itself. Both
    /// give the same keys. In place because the inline room is most of a kilobyte, and
    /// moving it for every candidate compared cost more than reading the block. Whether
    /// the block was read.
    pub(super) fn refill(&mut self, block: Option<&'a str>, patron: &PatronView<'a>) -> bool {
        let read = block.is_some_and(|block| self.fill_from_block(block));
        if !read {
            self.fill_from_view(patron);
        }
        read
    }

    /// [`refill`](Self::refill) for a record with no address to compare (no street,
    /// postcode or country): the patron's addresses and countries, which no comparison
    /// with it reads, are left empty rather than read. Whether the block was read.
    pub(super) fn refill_but_addresses(
        &mut self,
        block: Option<&'a str>,
        patron: &PatronView<'a>,
    ) -> bool {
        self.clear();
        let read = block.is_some_and(|block| {
            let mut reader = Reader { block, at: 0 };
            self.read_people(&mut reader).is_some()
        });
        if !read {
            self.fill_from_view(patron);
        }
        read
    }

    /// Only the names, as [`refill`](Self::refill) reads them, for a block `refill` read
    /// (or `None`): a block's names come first, so the rest is not read.
    pub(super) fn refill_names(&mut self, block: Option<&'a str>, patron: &PatronView<'a>) {
        self.clear();
        let read = block.is_some_and(|block| {
            let mut reader = Reader { block, at: 0 };
            reader.number(5).is_some() && self.read_names(&mut reader).is_some()
        });
        if !read {
            self.fill_from_view(patron);
        }
    }

    fn clear(&mut self) {
        self.names.clear();
        self.identifiers.clear();
        self.addresses.clear();
        self.countries.clear();
        self.birth_date = None;
    }

    fn fill_from_view(&mut self, patron: &PatronView<'a>) {
        self.clear();
        self.birth_date = patron.birth_date();
        self.names.extend(patron.names().iter().map(|n| NameKeys {
            given: n.given_key(),
            family: n.family_key(),
            extras: NameExtras::default(),
        }));
        self.identifiers
            .extend(patron.identifiers().iter().map(|i| IdentifierKey {
                kind: i.kind(),
                system: i.system(),
                value: i.value(),
            }));
        self.addresses.extend(
            patron
                .addresses()
                .iter()
                .map(|a| (a.street().map(StreetKey::Line), a.postcode())),
        );
        self.countries.extend(
            patron
                .addresses()
                .iter()
                .filter_map(|a| a.country().and_then(|c| country_code(&c))),
        );
    }

    /// Whether `block` was one written by [`encode`]; if not, `self` is left partly
    /// filled.
    fn fill_from_block(&mut self, block: &'a str) -> bool {
        self.clear();
        let mut reader = Reader { block, at: 0 };
        self.read_block(&mut reader).is_some() && reader.at == block.len()
    }

    fn read_block(&mut self, reader: &mut Reader<'a>) -> Option<()> {
        self.read_people(reader)?;
        for _ in 0..reader.byte()? {
            self.addresses.push((reader.street()?, reader.text()?));
            if let Some(country) = reader.country()? {
                self.countries.push(country);
            }
        }
        Some(())
    }

    /// The block up to its addresses: the birth date, names and identifiers.
    fn read_people(&mut self, reader: &mut Reader<'a>) -> Option<()> {
        self.birth_date = match reader.number(5)? {
            0 => None,
            days => i32::try_from(days as i64 - DAYS_SHIFT)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt),
        };
        self.read_names(reader)?;
        for _ in 0..reader.byte()? {
            let kind = match reader.byte()? {
                0 => IdentifierKind::Email,
                1 => IdentifierKind::Phone,
                2 => IdentifierKind::CardToken,
                _ => IdentifierKind::External,
            };
            let system = reader.text()?;
            let value = reader.text()?.unwrap_or_default();
            self.identifiers.push(IdentifierKey {
                kind,
                system,
                value,
            });
        }
        Some(())
    }

    fn read_names(&mut self, reader: &mut Reader<'a>) -> Option<()> {
        for _ in 0..reader.byte()? {
            self.names.push(NameKeys {
                given: reader.text()?,
                family: reader.text()?,
                extras: NameExtras(Some(reader.text()??)),
            });
        }
        Some(())
    }
}

/// The sounds and nickname table entry of one person's names, worked out for filing
/// their blocking keys: [`encode_with`] takes them for a profile name with the same
/// keys rather than working them out again.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KnownSounds<'a> {
    /// A given name, its sound and the table entry of its first word.
    pub(super) given: Option<(&'a str, compare::PhoneticKey, compare::NicknameEntry)>,
    /// A family name and its sound.
    pub(super) family: Option<(&'a str, compare::PhoneticKey)>,
    /// A street line and what reading it gave.
    pub(super) street: Option<(&'a str, &'a compare::PreparedStreet)>,
}

/// Writes the compared values of a profile as one block; `None` when the profile is too
/// large for the format (such a patron is compared through the profile itself).
#[cfg(test)]
pub(crate) fn encode(profile: &Profile) -> Option<Box<str>> {
    encode_with(profile, &KnownSounds::default())
}

thread_local! {
    /// The block being written on this thread: [`encode_with`] keeps an exact copy of
    /// it, where a fresh string for every patron, shrunk to fit, cost an allocation more
    /// and a reallocation each.
    static BLOCK: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// A block buffer past this capacity (a profile far larger than any seen) is not kept.
const KEPT_BLOCK_CAPACITY: usize = 4096;

/// Writes the compared values of a profile as one block, taking the sounds and table
/// entry of names `known` holds from there rather than working them out again (the
/// block is the same); `None` when the profile is too large for the format (such a
/// patron is compared through the profile itself).
pub(crate) fn encode_with(profile: &Profile, known: &KnownSounds<'_>) -> Option<Box<str>> {
    BLOCK.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut out) => {
            out.clear();
            let block = write_block(&mut out, profile, known).map(|()| Box::from(out.as_str()));
            if out.capacity() > KEPT_BLOCK_CAPACITY {
                *out = String::new();
            }
            block
        }
        // Not reached (nothing in writing a block writes another), but never a panic.
        Err(_) => {
            let mut out = String::new();
            write_block(&mut out, profile, known).map(|()| out.into_boxed_str())
        }
    })
}

/// Appends the block of [`encode_with`] to `out`.
fn write_block(out: &mut String, profile: &Profile, known: &KnownSounds<'_>) -> Option<()> {
    let days = profile.birth_date.map_or(0, |date| {
        i64::from(chrono::Datelike::num_days_from_ce(&date)) + DAYS_SHIFT
    });
    number(out, usize::try_from(days).ok()?, 5)?;
    number(out, profile.names.len(), 1)?;
    for name in &profile.names {
        // Each read once: a name's keys are found by walking its packed parts.
        let (given, family) = (name.given_key(), name.family_key());
        let known_given = known.given.filter(|&(key, _, _)| given == Some(key));
        let given_sound = match known_given {
            Some((_, sound, _)) => Some(sound),
            None => given.map(compare::phonetic_key),
        };
        let family_sound = match known.family {
            Some((key, sound)) if family == Some(key) => Some(sound),
            _ => family.map(compare::phonetic_key),
        };
        let first = given.map(|given| given.split(' ').next().unwrap_or(""));
        // The table entry scoring looks up for every candidate's given name, looked up
        // once here.
        let entry = match known_given {
            Some((_, _, entry)) => Some(entry),
            None => first.map(compare::NicknameEntry::of),
        };
        text(out, given)?;
        text(out, family)?;
        name_extras(
            out,
            first.map(str::len),
            entry.and_then(compare::NicknameEntry::id),
            given_sound.as_ref().map(code),
            family_sound.as_ref().map(code),
        )?;
    }
    number(out, profile.identifiers.len(), 1)?;
    for identifier in &profile.identifiers {
        let kind = match identifier.kind() {
            IdentifierKind::Email => 0,
            IdentifierKind::Phone => 1,
            IdentifierKind::CardToken => 2,
            IdentifierKind::External => 3,
        };
        number(out, kind, 1)?;
        text(out, identifier.system())?;
        text(out, Some(identifier.value()))?;
    }
    number(out, profile.addresses.len(), 1)?;
    for address in &profile.addresses {
        street(out, address.street(), known.street)?;
        text(out, address.postcode())?;
        country(out, address.country().as_ref())?;
    }
    Some(())
}

/// Appends the section [`NameExtras`] reads, behind its length: the given name's first
/// word's length ([`ABSENT`] for no given name), its nickname table entry's id plus one
/// (0 for none) in [`ENTRY_BYTES`], then the given and the family name's sounds. The
/// length is worked out first, so the section is written in place.
fn name_extras(
    out: &mut String,
    first: Option<usize>,
    entry: Option<u32>,
    given_sound: Option<&str>,
    family_sound: Option<&str>,
) -> Option<()> {
    let len =
        first.map_or(1, short_len) + ENTRY_BYTES + text_len(given_sound) + text_len(family_sound);
    short(out, len)?;
    match first {
        Some(first) => short(out, first)?,
        None => number(out, ABSENT, 1)?,
    }
    let entry = match entry {
        Some(id) => usize::try_from(id).ok()?.checked_add(1)?,
        None => 0,
    };
    number(out, entry, ENTRY_BYTES)?;
    text(out, given_sound)?;
    text(out, family_sound)
}

/// A phonetic code as text (its characters are ASCII).
#[inline]
fn code(key: &compare::PhoneticKey) -> &str {
    std::str::from_utf8(key.as_bytes()).unwrap_or_default()
}

/// Writes `value` in `bytes` bytes of 7 bits; `None` if it does not fit.
#[inline]
fn number(out: &mut String, value: usize, bytes: usize) -> Option<()> {
    if value >> (7 * bytes) != 0 {
        return None;
    }
    for i in (0..bytes).rev() {
        out.push(char::from(((value >> (7 * i)) & 0x7f) as u8));
    }
    Some(())
}

/// Writes a length or table position short (see [`LONG`]); `None` if it does not fit.
#[inline]
fn short(out: &mut String, value: usize) -> Option<()> {
    if value < LONG {
        number(out, value, 1)
    } else {
        number(out, LONG, 1)?;
        number(out, value, LONG_BYTES)
    }
}

/// The bytes [`short`] writes for `value`.
#[inline]
fn short_len(value: usize) -> usize {
    if value < LONG { 1 } else { 1 + LONG_BYTES }
}

/// The bytes [`text`] writes for `value`.
#[inline]
fn text_len(value: Option<&str>) -> usize {
    value.map_or(1, |value| short_len(value.len()) + value.len())
}

/// Writes a street line as the words and numbers comparing reads from it (see
/// [`compare::read_street`]), as one section behind its length, so that reading a block
/// steps over it and only comparing a street reads it: how many words, how many numbers,
/// each word, then each number's main part and suffix; [`ABSENT`] for no line. The
/// length is worked out first, so the section is written in place.
/// `known` is a line read already and what reading it gave, taken when it is this line.
fn street(
    out: &mut String,
    line: Option<&str>,
    known: Option<(&str, &compare::PreparedStreet)>,
) -> Option<()> {
    let Some(line) = line else {
        return number(out, ABSENT, 1);
    };
    let write = |words: &[&str], numbers: &[(&str, &str)]| {
        let words_len: usize = words.iter().map(|word| text_len(Some(word))).sum();
        let numbers_len: usize = numbers
            .iter()
            .map(|(main, suffix)| text_len(Some(main)) + text_len(Some(suffix)))
            .sum();
        short(out, 2 + words_len + numbers_len)?;
        number(out, words.len(), 1)?;
        number(out, numbers.len(), 1)?;
        for word in words {
            text(out, Some(word))?;
        }
        for (main, suffix) in numbers {
            text(out, Some(main))?;
            text(out, Some(suffix))?;
        }
        Some(())
    };
    match known.filter(|&(known_line, _)| known_line == line) {
        Some((_, read)) => read.with_read(write),
        None => compare::read_street(line, write),
    }
}

/// A country's two-letter code as bytes, as a block keeps it.
pub(super) fn country_code(country: &Country) -> Option<[u8; 2]> {
    country.as_str().as_bytes().try_into().ok()
}

/// Writes an address's country as its two letters, or [`ABSENT`] for none: two bytes
/// where a length before them would make three.
fn country(out: &mut String, value: Option<&Country>) -> Option<()> {
    match value {
        Some(country) => {
            out.push_str(country.as_str());
            Some(())
        }
        None => number(out, ABSENT, 1),
    }
}

#[inline]
fn text(out: &mut String, value: Option<&str>) -> Option<()> {
    match value {
        Some(value) => {
            short(out, value.len())?;
            out.push_str(value);
            Some(())
        }
        None => number(out, ABSENT, 1),
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
    /// A number written in one byte: [`number`](Self::number)`(1)` without the loop,
    /// as nearly every length and count a block holds is one byte.
    fn byte(&mut self) -> Option<usize> {
        let byte = *self.block.as_bytes().get(self.at)?;
        self.at += 1;
        Some(usize::from(byte & 0x7f))
    }

    /// A length or table position written short (see [`LONG`]); `Err(())` for the
    /// absent mark, `None` for a broken block.
    fn short(&mut self) -> Option<Result<usize, ()>> {
        Some(match self.byte()? {
            LONG => Ok(self.number(LONG_BYTES)?),
            ABSENT => Err(()),
            n => Ok(n),
        })
    }

    /// A street written by `street`: `Some(None)` for an absent one, `None` for a broken
    /// block. Its section is read when a street is compared (see [`StreetKey::read`]).
    fn street(&mut self) -> Option<Option<StreetKey<'a>>> {
        Some(self.text()?.map(StreetKey::Read))
    }

    /// A country written by `country`: `Some(None)` for an absent one, `None` for a
    /// broken block.
    fn country(&mut self) -> Option<Option<[u8; 2]>> {
        let bytes = self.block.as_bytes();
        if usize::from(*bytes.get(self.at)?) == ABSENT {
            self.at += 1;
            return Some(None);
        }
        let code: [u8; 2] = bytes
            .get(self.at..self.at.checked_add(2)?)?
            .try_into()
            .ok()?;
        // Letters only: anything else is not a block this module wrote.
        if !code.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        self.at += 2;
        Some(Some(code))
    }

    /// An optional string: `Some(None)` for an absent one, `None` for a broken block.
    fn text(&mut self) -> Option<Option<&'a str>> {
        let Ok(len) = self.short()? else {
            return Some(None);
        };
        let end = self.at.checked_add(len)?;
        let value = self.block.get(self.at..end)?;
        self.at = end;
        Some(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, Memory, Order, PatronId, Signals};

    /// A street's words and numbers as comparing reads them, however it was kept.
    fn words(street: StreetKey<'_>) -> String {
        match street {
            StreetKey::Line(line) => {
                compare::read_street(line, |words, numbers| format!("{words:?} {numbers:?}"))
            }
            StreetKey::Read(section) => {
                let mut reader = Reader {
                    block: section,
                    at: 0,
                };
                let (words, numbers) = (reader.byte(), reader.byte());
                let words: Vec<_> = (0..words.unwrap_or(0))
                    .map(|_| reader.text().flatten().unwrap_or_default())
                    .collect();
                let numbers: Vec<_> = (0..numbers.unwrap_or(0))
                    .map(|_| {
                        let main = reader.text().flatten().unwrap_or_default();
                        (main, reader.text().flatten().unwrap_or_default())
                    })
                    .collect();
                assert_eq!(reader.at, section.len(), "the whole section is read");
                format!("{words:?} {numbers:?}")
            }
        }
    }

    /// What a block and the profile both give, in a form that compares: the sounds and
    /// nickname entries a block adds are left out (the profile works them out on need),
    /// and streets are compared as the words and numbers comparing reads from them.
    fn plain(keys: &ProfileKeys<'_>) -> String {
        let names: Vec<_> = keys.names.iter().map(|n| (n.given, n.family)).collect();
        let identifiers: Vec<_> = keys
            .identifiers
            .iter()
            .map(|i| (i.kind, i.system, i.value))
            .collect();
        let addresses: Vec<_> = keys
            .addresses
            .iter()
            .map(|&(street, postcode)| (street.map(words), postcode))
            .collect();
        format!(
            "{names:?} {identifiers:?} {addresses:?} {:?} {:?}",
            keys.countries, keys.birth_date
        )
    }

    /// Observes each of `people` as one order, in turn.
    fn observe_orders(
        memory: &mut Memory,
        people: impl IntoIterator<Item = Signals>,
    ) -> crate::Result<()> {
        for (n, signals) in people.into_iter().enumerate() {
            let order = Order::new(format!("o-{n}"), signals);
            memory.observe(Event::order(format!("e-{n}"), order))?;
        }
        Ok(())
    }

    /// Every patron's kept comparison block is the block written from its profile alone.
    fn assert_kept_blocks_are_the_profiles(memory: &Memory) {
        for (record, slot) in memory.state.patrons.iter().zip(memory.state.slots.iter()) {
            let kept = slot.comparison.block().expect("a block is kept");
            assert_eq!(Some(kept), encode(&record.profile).as_deref());
        }
    }

    /// A block gives back every value of the profile it was written from, long ones
    /// (written with a long length) and absent ones included.
    #[test]
    fn a_block_gives_back_the_profile_it_was_written_from() -> crate::Result<()> {
        let mut memory = Memory::new();
        // One word long enough to be written long, and more words than are compared.
        let long_street = format!("12 a {} Road {}", "Longacre".repeat(16), "Elm ".repeat(20));
        let records = [
            Signals::new()
                .given_name("Ana Maria")
                .family_name("Quintero de la Vega")
                .email("ana.quintero+tickets@example.org")
                .phone("+44 20 7946 0311")
                .street(long_street.as_str())
                .postcode("SW1A 1AA")
                .country("GB")
                .birth_date(chrono::NaiveDate::from_ymd_opt(1984, 2, 29).expect("a date"))
                .card_token("tok_4242")
                .external_id("loyalty", "L-77"),
            Signals::new().email("only@example.org"),
            Signals::new().given_name("Bob").postcode("SW1A 2AA"),
        ];
        for (n, signals) in records.into_iter().enumerate() {
            let order = Order::new(format!("o-{n}"), signals);
            memory.observe(Event::order(format!("e-{n}"), order))?;
        }
        for id in 1..=3 {
            let state = &memory.state;
            let record = state.patron(PatronId::from_u64(id)).expect("observed");
            let view = PatronView::of(record, state, PatronId::from_u64(id));
            let block = encode(&record.profile).expect("fits the format");
            let decoded = ProfileKeys::decode(&block).expect("a block it wrote");
            if id == 1 {
                let read = decoded.addresses.iter().filter_map(|&(street, _)| street);
                assert!(
                    read.map(words).any(
                        |w| w.contains(&"longacre".repeat(16)) && w.contains("(\"12\", \"a\")")
                    ),
                    "a street with a word long enough to be written long, and its number"
                );
            }
            assert_eq!(plain(&decoded), plain(&ProfileKeys::of_view(&view)));
            // Every given name's first word, table entry and sound are written beside it,
            // and the family name's sound.
            for name in &decoded.names {
                let extras = name.extras;
                assert_eq!(
                    name.given.and_then(|g| extras.given_first(g)),
                    name.given.map(|g| g.split(' ').next().unwrap_or(""))
                );
                let sound = |key: Option<&str>| key.map(compare::phonetic_key);
                assert_eq!(
                    extras.given_sound(),
                    sound(name.given).as_ref().map(|k| k.as_bytes())
                );
                assert_eq!(
                    extras.family_sound(),
                    sound(name.family).as_ref().map(|k| k.as_bytes())
                );
                let first = name.given.map(|g| g.split(' ').next().unwrap_or(""));
                assert_eq!(
                    extras.given_nicknames().and_then(|e| e.id()),
                    first.and_then(|f| compare::NicknameEntry::of(f).id())
                );
                assert!(extras.given_nicknames().is_some());
            }
        }
        Ok(())
    }

    /// The blocks the write path keeps, written with the sounds worked out for filing
    /// blocking keys, are the blocks worked out from the profile alone: for one-word and
    /// several-word names, nicknames, names the table does not know, a second name
    /// learned later and a name with only one part.
    #[test]
    fn blocks_written_with_known_sounds_are_the_blocks_of_the_profile() -> crate::Result<()> {
        let mut memory = Memory::new();
        let people = [
            Signals::new()
                .given_name("Ana Maria")
                .family_name("Quintero de la Vega")
                .email("ana@example.org")
                .postcode("SW1A 1AA"),
            Signals::new()
                .given_name("Bob")
                .family_name("Smith-Jones")
                .email("bob@example.org"),
            Signals::new()
                .given_name("Zoë")
                .family_name("Łukasiewicz")
                .email("zoe@example.org"),
            Signals::new()
                .given_name("José Luis")
                .family_name("Jiménez")
                .email("jose@example.org"),
            // Ana again under a married name: a second name learned.
            Signals::new()
                .given_name("Ana")
                .family_name("Schmidt")
                .email("ana@example.org"),
            Signals::new()
                .family_name("Okafor")
                .email("okafor@example.org"),
            Signals::new().given_name("Xq").email("xq@example.org"),
        ];
        observe_orders(&mut memory, people)?;
        assert_kept_blocks_are_the_profiles(&memory);
        let names: usize = memory
            .state
            .patrons
            .iter()
            .map(|r| r.profile.names.len())
            .sum();
        assert!(names >= 7, "{names} names");
        // Sounds known for another name are not taken for this one.
        let state = &memory.state;
        let ana = &state.patrons[0].profile;
        let other = KnownSounds {
            given: Some((
                "bob",
                compare::phonetic_key("bob"),
                compare::NicknameEntry::of("bob"),
            )),
            family: Some(("smith", compare::phonetic_key("smith"))),
            street: None,
        };
        assert_eq!(encode_with(ana, &other), encode(ana));
        Ok(())
    }

    /// The blocks the write path keeps, written with the street lines recognition read
    /// while comparing, are the blocks worked out from the profile alone: for a patron
    /// seen again at the same line, at the line written another way, and moved.
    #[test]
    fn blocks_written_with_streets_read_already_are_the_blocks_of_the_profile() -> crate::Result<()>
    {
        let mut memory = Memory::new();
        let ana = || Signals::new().given_name("Ana").family_name("Garcia");
        let people = [
            ana()
                .email("ana@example.org")
                .street("12 High Street")
                .postcode("75011"),
            ana()
                .email("ana.g@example.org")
                .street("12 High Street")
                .postcode("75011"),
            ana()
                .phone("+33 6 12 34 56 78")
                .street("12, HIGH ST.")
                .postcode("75011"),
            ana()
                .email("ana@example.org")
                .street("Flat 3, 221b Baker Street")
                .postcode("75011"),
            ana()
                .email("garcia@example.org")
                .street("3 Rue de la Roquette")
                .postcode("75011"),
            Signals::new()
                .given_name("Bob")
                .family_name("Garcia")
                .street("12 High Street")
                .postcode("75011"),
        ];
        observe_orders(&mut memory, people)?;
        assert_kept_blocks_are_the_profiles(&memory);
        let addresses: usize = memory
            .state
            .patrons
            .iter()
            .map(|r| r.profile.addresses.len())
            .sum();
        assert!(addresses >= 4, "{addresses} addresses");
        Ok(())
    }

    /// Every id of the nickname table (plus one, 0 standing for none) fits the bytes a
    /// block keeps it in.
    #[test]
    fn every_nickname_id_fits_a_block() {
        assert!(compare::NicknameEntry::count() < (1 << (7 * ENTRY_BYTES)));
        let last = u32::try_from(compare::NicknameEntry::count() - 1).expect("fits");
        let mut written = String::new();
        name_extras(&mut written, Some(3), Some(last), Some("ANT"), None).expect("fits");
        let extras = Reader {
            block: &written,
            at: 0,
        }
        .text()
        .flatten();
        let read = NameExtras(extras);
        assert_eq!(read.given_nicknames().and_then(|e| e.id()), Some(last));
        assert_eq!(read.given_first("anna"), Some("ann"));
        assert_eq!(read.given_sound(), Some(&b"ANT"[..]));
        assert_eq!(read.family_sound(), None);
    }

    /// A section that is not one answers "not known" rather than anything wrong.
    #[test]
    fn a_broken_name_section_answers_not_known() {
        for broken in ["", "\u{7e}", "\u{3}\u{7f}"] {
            let read = NameExtras(Some(broken));
            assert!(read.given_nicknames().is_none(), "{broken:?}");
            assert_eq!(read.given_sound(), None, "{broken:?}");
            assert_eq!(read.family_sound(), None, "{broken:?}");
        }
        for broken in ["", "\u{7e}", "\u{9}", "\u{7f}"] {
            assert_eq!(NameExtras(Some(broken)).given_first("anna"), None);
        }
    }

    /// A street section is stepped over when a block is read and read only when a street
    /// is compared: one that is not a section reads as fewer words, without a panic.
    #[test]
    fn a_street_section_is_read_on_need() {
        let mut out = String::new();
        street(&mut out, Some("12a High Street"), None).expect("fits");
        let mut reader = Reader { block: &out, at: 0 };
        let Some(Some(read)) = reader.street() else {
            panic!("a street section");
        };
        assert_eq!(reader.at, out.len(), "one step over the whole section");
        assert_eq!(
            words(read),
            words(StreetKey::Line("12a High Street")),
            "the section gives back the line's words and numbers"
        );
        for broken in ["", "\u{7f}\u{7f}", "\u{3}\u{1}\u{7e}", "\u{2}\u{0}\u{9}ab"] {
            StreetKey::read(broken);
        }
    }

    /// A street line read for comparing writes the section reading the line writes, and
    /// only for that line.
    #[test]
    fn a_street_read_already_writes_the_same_section() {
        let lines = [
            "12a High Street",
            "Flat 3, 221b Baker Street",
            "  RUE DE LA ROQUETTE 17 bis ",
            "Hauptstr. 5-7",
            "",
            "Apt 4B 1200 Avenue of the Americas Suite 9 Floor 3",
        ];
        for line in lines {
            let Some(read) = compare::PreparedStreet::new(line) else {
                continue;
            };
            let (mut afresh, mut taken, mut other) = (String::new(), String::new(), String::new());
            street(&mut afresh, Some(line), None).expect("fits");
            street(&mut taken, Some(line), Some((line, &read))).expect("fits");
            assert_eq!(taken, afresh, "{line:?}");
            // Known for another line, it is not taken.
            street(&mut other, Some("1 Other Road"), Some((line, &read))).expect("fits");
            let mut plain = String::new();
            street(&mut plain, Some("1 Other Road"), None).expect("fits");
            assert_eq!(other, plain);
        }
    }

    /// A cut or padded block is refused rather than read wrong.
    #[test]
    fn a_broken_block_is_refused() {
        let profile = Profile::default();
        let block = encode(&profile).expect("an empty profile fits");
        assert!(ProfileKeys::decode(&block).is_some());
        assert!(ProfileKeys::decode(&block[..block.len() - 1]).is_none());
        assert!(ProfileKeys::decode(&format!("{block}x")).is_none());
    }
    // Blocks as they were written before sections were written in place: each section
    // built in a string of its own, then copied behind its length, and the block grown
    // in a fresh string shrunk to fit.
    fn reference_encode_with(profile: &Profile, known: &KnownSounds<'_>) -> Option<Box<str>> {
        let mut out = String::with_capacity(128);
        let days = profile.birth_date.map_or(0, |date| {
            i64::from(chrono::Datelike::num_days_from_ce(&date)) + DAYS_SHIFT
        });
        number(&mut out, usize::try_from(days).ok()?, 5)?;
        number(&mut out, profile.names.len(), 1)?;
        for name in &profile.names {
            let known_given = known
                .given
                .filter(|&(key, _, _)| name.given_key() == Some(key));
            let given_sound = match known_given {
                Some((_, sound, _)) => Some(sound),
                None => name.given_key().map(compare::phonetic_key),
            };
            let family_sound = match known.family {
                Some((key, sound)) if name.family_key() == Some(key) => Some(sound),
                _ => name.family_key().map(compare::phonetic_key),
            };
            let first = name
                .given_key()
                .map(|given| given.split(' ').next().unwrap_or(""));
            // The table entry scoring looks up for every candidate's given name, looked up
            // once here.
            let entry = match known_given {
                Some((_, _, entry)) => Some(entry),
                None => first.map(compare::NicknameEntry::of),
            };
            text(&mut out, name.given_key())?;
            text(&mut out, name.family_key())?;
            let extras = reference_name_extras(
                first.map(str::len),
                entry.and_then(compare::NicknameEntry::id),
                given_sound.as_ref().map(code),
                family_sound.as_ref().map(code),
            )?;
            text(&mut out, Some(&extras))?;
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
            reference_street(&mut out, address.street())?;
            text(&mut out, address.postcode())?;
            match address.country() {
                Some(country) => out.push_str(country.as_str()),
                None => number(&mut out, ABSENT, 1)?,
            }
        }
        Some(out.into_boxed_str())
    }

    /// The section [`NameExtras`] reads: the given name's first word's length ([`ABSENT`]
    /// for no given name), its nickname table entry's id plus one (0 for none) in
    /// [`ENTRY_BYTES`], then the given and the family name's sounds.
    fn reference_name_extras(
        first: Option<usize>,
        entry: Option<u32>,
        given_sound: Option<&str>,
        family_sound: Option<&str>,
    ) -> Option<String> {
        let mut out = String::with_capacity(16);
        match first {
            Some(first) => short(&mut out, first)?,
            None => number(&mut out, ABSENT, 1)?,
        }
        let entry = match entry {
            Some(id) => usize::try_from(id).ok()?.checked_add(1)?,
            None => 0,
        };
        number(&mut out, entry, ENTRY_BYTES)?;
        text(&mut out, given_sound)?;
        text(&mut out, family_sound)?;
        Some(out)
    }

    /// Writes a street line as the words and numbers comparing reads from it (see
    /// [`compare::read_street`]), as one section behind its length, so that reading a block
    /// steps over it and only comparing a street reads it: how many words, how many numbers,
    /// each word, then each number's main part and suffix; [`ABSENT`] for no line.
    fn reference_street(out: &mut String, line: Option<&str>) -> Option<()> {
        let Some(line) = line else {
            return number(out, ABSENT, 1);
        };
        let mut section = String::with_capacity(32);
        compare::read_street(line, |words, numbers| {
            number(&mut section, words.len(), 1)?;
            number(&mut section, numbers.len(), 1)?;
            for word in words {
                text(&mut section, Some(word))?;
            }
            for (main, suffix) in numbers {
                text(&mut section, Some(main))?;
                text(&mut section, Some(suffix))?;
            }
            Some(())
        })?;
        text(out, Some(&section))
    }

    /// Writing a block's sections in place, into a buffer kept between blocks, gives
    /// the same bytes as building each section apart: for names with and without given
    /// or family name, a given name whose first word is written long, known sounds,
    /// streets whose section is written long, no street, and a street of more words
    /// than comparing reads.
    #[test]
    fn blocks_written_in_place_are_the_blocks_built_section_by_section() -> crate::Result<()> {
        let mut memory = Memory::new();
        let long_word = "Longacre".repeat(16);
        let long_street = format!("12 a {long_word} Road {}", "Elm ".repeat(20));
        let wordy_street = "E ".repeat(140);
        let long_given = format!("{} Maria", "Anastasia".repeat(15));
        let people = [
            Signals::new()
                .given_name("Ana Maria")
                .family_name("Quintero de la Vega")
                .email("ana.quintero+tickets@example.org")
                .phone("+44 20 7946 0311")
                .street(long_street.as_str())
                .postcode("SW1A 1AA")
                .country("GB")
                .birth_date(chrono::NaiveDate::from_ymd_opt(1984, 2, 29).expect("a date"))
                .card_token("tok_4242")
                .external_id("loyalty", "L-77"),
            Signals::new().email("only@example.org"),
            Signals::new().given_name("Bob").postcode("SW1A 2AA"),
            Signals::new().family_name("Okafor").street("7B Mill Lane"),
            Signals::new()
                .given_name(long_given.as_str())
                .family_name("Ng")
                .street("Flat 3, 221b Baker Street"),
            Signals::new()
                .given_name("Eve")
                .street(wordy_street.as_str()),
        ];
        observe_orders(&mut memory, people)?;
        let mut long_sections = 0;
        let sound = compare::phonetic_key("ana maria");
        let entry = compare::NicknameEntry::of("ana");
        let knowns = [
            KnownSounds::default(),
            KnownSounds {
                given: Some(("ana maria", sound, entry)),
                family: Some((
                    "quintero de la vega",
                    compare::phonetic_key("quintero de la vega"),
                )),
                street: None,
            },
        ];
        for id in 1..=6 {
            let record = memory
                .state
                .patron(PatronId::from_u64(id))
                .expect("observed");
            for known in &knowns {
                let block = encode_with(&record.profile, known);
                assert_eq!(block, reference_encode_with(&record.profile, known));
                // Again, with the buffer holding the block before.
                assert_eq!(encode_with(&record.profile, known), block);
                let block = block.expect("fits the format");
                long_sections += usize::from(block.contains(long_word.to_lowercase().as_str()));
            }
        }
        assert!(long_sections >= 2, "a street section written long");
        Ok(())
    }
}
