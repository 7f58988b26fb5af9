//! Identifiers: the crate's own patron ids and the vendor's ids for everything else.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A patron's id in this memory. Ids are handed out in increasing order, never reused,
/// and survive merges (a merged id keeps forwarding to the patron it was merged into).
///
/// ```
/// use regulars::PatronId;
/// let id = PatronId::from_u64(42);
/// assert_eq!(id.as_u64(), 42);
/// assert_eq!(id.to_string(), "P42");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatronId(u64);

impl PatronId {
    /// The id with this number (for ids stored by the embedding product).
    pub const fn from_u64(raw: u64) -> Self {
        Self(raw)
    }

    /// The id's number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PatronId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

macro_rules! vendor_id {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        ///
        /// Any string the vendor uses; it is checked (non-empty, at most
        /// 128 bytes, no control characters) when memory first sees it.
        ///
        /// Cloning is cheap: clones share one copy of the text.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps the vendor's id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(Arc::from(id.into()))
            }

            /// The id as the vendor gave it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self::new(id)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Serialized as the bare string, except by a snapshot (see `NumberedIds`).
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                write_id($kind, &self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                read_id($kind, deserializer).map(Self)
            }
        }
    };
}

vendor_id!(
    /// The vendor's id of one event (an order placed, a door scan, a donation…); memory
    /// uses it to recognize a replayed event.
    EventId,
    0
);
vendor_id!(
    /// The vendor's id of an order.
    OrderId,
    1
);
vendor_id!(
    /// The vendor's id of a ticket (usually its barcode).
    TicketId,
    2
);
vendor_id!(
    /// The scanner's id of one door scan, so that a scanner re-sending it counts once.
    ScanId,
    3
);
vendor_id!(
    /// The vendor's id of a venue.
    VenueId,
    4
);
vendor_id!(
    /// The vendor's id of a production (a show, whatever its dates).
    ProductionId,
    5
);
vendor_id!(
    /// The vendor's id of one performance of a production.
    PerformanceId,
    6
);

thread_local! {
    /// Ids read recently while [`SharedIds`] is alive, so that copies of one id read
    /// back from a snapshot share one allocation, as observed ids do.
    static SHARED_IDS: RefCell<Option<SharedTables>> = const { RefCell::new(None) };
}

/// How many kinds of vendor id there are.
const ID_KINDS: usize = 7;

/// Slots per kind of id (a power of two). Copies of one id mostly sit close together
/// in a snapshot, so a small table that forgets shares most of them and stays in
/// cache: a table of every id shared all of them but made loading 70 % slower, missing
/// the cache on almost every lookup.
const SHARED_SLOTS: usize = 256;

/// The tables: [`SHARED_SLOTS`] slots per kind, picked by the text's hash, each holding
/// the latest id that fell in it.
struct SharedTables {
    hasher: ahash::RandomState,
    tables: [Vec<Option<Arc<str>>>; ID_KINDS],
}

/// While alive, a vendor id deserialized on this thread shares the copy of the last id
/// of its kind read into its slot when their texts are equal. Dropping it forgets the
/// copies it kept, so it holds nothing once a load is done.
pub(crate) struct SharedIds {
    /// Whether an outer guard was already sharing (then it keeps the tables).
    nested: bool,
}

impl SharedIds {
    /// Starts sharing the ids deserialized on this thread.
    pub(crate) fn start() -> Self {
        let nested = SHARED_IDS.with(|shared| {
            let mut shared = shared.borrow_mut();
            let nested = shared.is_some();
            if !nested {
                *shared = Some(SharedTables {
                    hasher: ahash::RandomState::new(),
                    tables: std::array::from_fn(|_| vec![None; SHARED_SLOTS]),
                });
            }
            nested
        });
        Self { nested }
    }
}

impl Drop for SharedIds {
    fn drop(&mut self) {
        if !self.nested {
            // Taken out first so the tables are freed outside the borrow.
            let tables = SHARED_IDS.with(|shared| shared.borrow_mut().take());
            drop(tables);
        }
    }
}

/// The text of an id: the shared copy while [`SharedIds`] is alive, a new one otherwise.
fn shared_text(kind: usize, text: &str) -> Arc<str> {
    SHARED_IDS.with(|shared| {
        let mut shared = shared.borrow_mut();
        let Some(shared) = shared.as_mut() else {
            return Arc::from(text);
        };
        let hash = shared.hasher.hash_one(text);
        let Some(table) = shared.tables.get_mut(kind) else {
            return Arc::from(text);
        };
        // The low bits of the hash pick the slot: dropping the high ones is the point.
        #[allow(clippy::cast_possible_truncation)]
        let slot = hash as usize & (SHARED_SLOTS - 1);
        match table.get_mut(slot) {
            Some(Some(copy)) if &**copy == text => Arc::clone(copy),
            Some(entry) => Arc::clone(entry.insert(Arc::from(text))),
            None => Arc::from(text),
        }
    })
}

/// Reads an id's text without an intermediate `String`.
struct SharedText(usize);

impl Visitor<'_> for SharedText {
    type Value = Arc<str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id (a string)")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(shared_text(self.0, text))
    }
}

/// Longest vendor id accepted, in bytes.
pub(crate) const MAX_ID_BYTES: usize = 128;

/// Checks a vendor id: what makes it unusable, if anything.
pub(crate) fn check_vendor_id(id: &str) -> Result<(), crate::normalize::Rejection> {
    use crate::normalize::Rejection;
    if id.len() > MAX_ID_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_ID_BYTES,
        });
    }
    if id.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    if let Some(position) = id.chars().position(char::is_control) {
        return Err(Rejection::ControlCharacter { position });
    }
    Ok(())
}

// ---------------------------------------------------------------- numbered ids

thread_local! {
    /// The recent ids written or read while a [`NumberedIds`] guard is alive.
    static NUMBERED_IDS: RefCell<Option<Numbering>> = const { RefCell::new(None) };
}

/// How many of the latest ids of each kind written whole a later copy can refer to by
/// number (a power of two). Small on purpose: the referred copy is then still in cache
/// on both sides (a table of every id shared them all but was slower to read than
/// allocating a copy each time), and copies of one id mostly sit close together.
const RECENT_IDS: usize = 256;

/// Per kind of id, the latest ids written whole, by their number modulo [`RECENT_IDS`].
enum Numbering {
    /// Writing: in each slot (picked by the allocation's address), an id allocation and
    /// the number it was written whole under. Holding the clone keeps its address from
    /// being reused meanwhile.
    Writing([RecentWritten; ID_KINDS]),
    /// Reading: in slot `n % RECENT_IDS`, the id written whole as number `n`.
    Reading([RecentRead; ID_KINDS]),
}

#[derive(Default)]
struct RecentWritten {
    written: u64,
    slots: Vec<Option<(Arc<str>, u64)>>,
}

#[derive(Default)]
struct RecentRead {
    read: u64,
    slots: Vec<Option<Arc<str>>>,
}

/// While alive, vendor ids serialized or deserialized on this thread are numbered: an id
/// is written whole, and a copy of an id written whole shortly before (among the last
/// [`RECENT_IDS`] of its kind) as the number of that copy, so that reading gives back one
/// shared allocation for both without looking up their text. Snapshots use it (each
/// section under one guard, written and read in the same order); everything else
/// writes and reads ids as bare strings.
pub(crate) struct NumberedIds {
    previous: Option<Numbering>,
}

impl NumberedIds {
    /// Starts numbering the ids serialized on this thread.
    pub(crate) fn writing() -> Self {
        Self::start(Numbering::Writing(Default::default()))
    }

    /// Starts reading ids numbered by [`writing`](Self::writing) on this thread.
    pub(crate) fn reading() -> Self {
        Self::start(Numbering::Reading(Default::default()))
    }

    fn start(numbering: Numbering) -> Self {
        let previous = NUMBERED_IDS.with(|numbered| numbered.borrow_mut().replace(numbering));
        Self { previous }
    }
}

impl Drop for NumberedIds {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Taken out first so the tables are freed outside the borrow.
        let numbering =
            NUMBERED_IDS.with(|numbered| std::mem::replace(&mut *numbered.borrow_mut(), previous));
        drop(numbering);
    }
}

/// An id as a snapshot writes it: whole, or as the slot of a recent copy.
#[derive(Serialize)]
enum WrittenId<'a> {
    New(&'a str),
    Recent(u16),
}

/// The same, read back.
#[derive(Deserialize)]
enum ReadId {
    New(FreshText),
    Recent(u16),
}

/// An id's text read into a new shared copy, without an intermediate `String`.
struct FreshText(Arc<str>);

impl<'de> Deserialize<'de> for FreshText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Arc<str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a string)")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Arc::from(text))
            }
        }
        deserializer.deserialize_str(Text).map(FreshText)
    }
}

/// The slot of a recent id: `number` modulo [`RECENT_IDS`].
#[allow(clippy::cast_possible_truncation)]
fn recent_slot(number: u64) -> usize {
    number as usize & (RECENT_IDS - 1)
}

fn write_id<S: Serializer>(kind: usize, id: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    let recent = NUMBERED_IDS.with(|numbered| match &mut *numbered.borrow_mut() {
        Some(Numbering::Writing(tables)) => {
            let table = tables.get_mut(kind)?;
            if table.slots.is_empty() {
                table.slots = vec![None; RECENT_IDS];
            }
            // Where this allocation was last noted: its address picks the slot.
            let at = (Arc::as_ptr(id).cast::<u8>() as usize >> 4) & (RECENT_IDS - 1);
            let written = table.written;
            let slot = table.slots.get_mut(at)?;
            match slot {
                // Still in the reader's window of the last RECENT_IDS written whole.
                Some((copy, number))
                    if Arc::ptr_eq(copy, id) && written - *number <= RECENT_IDS as u64 =>
                {
                    u16::try_from(recent_slot(*number)).ok().map(Some)
                }
                _ => {
                    *slot = Some((Arc::clone(id), written));
                    table.written += 1;
                    Some(None)
                }
            }
        }
        _ => None,
    });
    match recent {
        None => serializer.serialize_str(id),
        Some(None) => WrittenId::New(id).serialize(serializer),
        Some(Some(slot)) => WrittenId::Recent(slot).serialize(serializer),
    }
}

fn read_id<'de, D: Deserializer<'de>>(kind: usize, deserializer: D) -> Result<Arc<str>, D::Error> {
    let reading =
        NUMBERED_IDS.with(|numbered| matches!(&*numbered.borrow(), Some(Numbering::Reading(_))));
    if !reading {
        return deserializer.deserialize_str(SharedText(kind));
    }
    let read = ReadId::deserialize(deserializer)?;
    NUMBERED_IDS.with(|numbered| {
        let mut numbered = numbered.borrow_mut();
        let Some(Numbering::Reading(tables)) = &mut *numbered else {
            return Err(serde::de::Error::custom("id numbering ended while reading"));
        };
        let Some(table) = tables.get_mut(kind) else {
            return Err(serde::de::Error::custom("unknown kind of id"));
        };
        if table.slots.is_empty() {
            table.slots = vec![None; RECENT_IDS];
        }
        match read {
            ReadId::New(FreshText(text)) => {
                let at = recent_slot(table.read);
                if let Some(slot) = table.slots.get_mut(at) {
                    *slot = Some(Arc::clone(&text));
                }
                table.read += 1;
                Ok(text)
            }
            ReadId::Recent(at) => table
                .slots
                .get(usize::from(at))
                .and_then(Option::clone)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("id slot {at} refers to no id read yet"))
                }),
        }
    })
}
