//! Identifiers: the crate's own patron ids and the vendor's ids for everything else.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::chunked::{Chunked, ChunkedText};

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

/// Most patrons memory holds: a patron id fits the four bytes of a [`CompactPatronId`]
/// (`u32::MAX` itself is kept free, so that no id names a patron by saturating).
pub(crate) const MAX_PATRONS: usize = u32::MAX as usize - 1;

/// A [`PatronId`] in four bytes, for the records memory keeps by the million (tickets,
/// orders, events seen): memory refuses to create a patron past [`MAX_PATRONS`], so the
/// id of every patron it holds fits. Saved exactly as the [`PatronId`] it stands for;
/// loading refuses one that does not fit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct CompactPatronId(u32);

impl CompactPatronId {
    /// The id, if it fits.
    pub(crate) fn new(id: PatronId) -> Option<Self> {
        u32::try_from(id.as_u64()).ok().map(Self)
    }

    /// The id of a patron memory holds (which fits: see [`MAX_PATRONS`]). One that does
    /// not fit becomes `u32::MAX`, which names no patron, rather than another's id.
    pub(crate) fn of_held(id: PatronId) -> Self {
        Self::new(id).unwrap_or(Self(u32::MAX))
    }

    /// The id it stands for.
    pub(crate) fn get(self) -> PatronId {
        PatronId::from_u64(u64::from(self.0))
    }
}

impl Serialize for CompactPatronId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CompactPatronId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = PatronId::deserialize(deserializer)?;
        Self::new(id).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "patron id {id} is past the most patrons memory holds ({MAX_PATRONS})"
            ))
        })
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

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                *self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                *self.0 == **other
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                // Straight into the shared copy: through a `String` first would allocate
                // twice and copy twice.
                Self(Arc::from(id))
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
    EVENT_KIND
);
vendor_id!(
    /// The vendor's id of an order.
    OrderId,
    ORDER_KIND
);
vendor_id!(
    /// The vendor's id of a ticket (usually its barcode).
    TicketId,
    TICKET_KIND
);
vendor_id!(
    /// The scanner's id of one door scan, so that a scanner re-sending it counts once.
    ScanId,
    SCAN_KIND
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
    PERFORMANCE_KIND
);

thread_local! {
    /// Ids read recently while [`SharedIds`] is alive, so that copies of one id read
    /// back from a snapshot share one allocation, as observed ids do.
    static SHARED_IDS: RefCell<Option<SharedTables>> = const { RefCell::new(None) };
}

/// How many kinds of vendor id there are.
const ID_KINDS: usize = 7;
/// The kinds of the ids each journal record names anew.
const EVENT_KIND: usize = 0;
const ORDER_KIND: usize = 1;
const TICKET_KIND: usize = 2;
const SCAN_KIND: usize = 3;
const PERFORMANCE_KIND: usize = 6;

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
        Self::start_kinds(|_| true)
    }

    /// Starts sharing the ids deserialized on this thread that journal records name
    /// again and again (tickets, venues, productions, performances). Each event, order
    /// and scan id a record holds is new: looking it up would only find a miss and
    /// evict an id that could have been shared.
    pub(crate) fn start_for_records() -> Self {
        Self::start_kinds(|kind| ![EVENT_KIND, ORDER_KIND, SCAN_KIND].contains(&kind))
    }

    fn start_kinds(shared_kind: impl Fn(usize) -> bool) -> Self {
        let nested = SHARED_IDS.with(|shared| {
            let mut shared = shared.borrow_mut();
            let nested = shared.is_some();
            if !nested {
                *shared = Some(SharedTables {
                    hasher: ahash::RandomState::new(),
                    tables: std::array::from_fn(|kind| {
                        if shared_kind(kind) {
                            vec![None; SHARED_SLOTS]
                        } else {
                            Vec::new()
                        }
                    }),
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
        // A kind not shared has no slots.
        let Some(table) = shared
            .tables
            .get_mut(kind)
            .filter(|table| !table.is_empty())
        else {
            return Arc::from(text);
        };
        let hash = shared.hasher.hash_one(text);
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
    // Every event checks a few ids, nearly always printable ASCII: one pass over the
    // bytes tells (no space, control or non-ASCII byte), and anything else is read by
    // character.
    if !id.is_empty() && all_printable_ascii(id.as_bytes()) {
        return Ok(());
    }
    if id.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    if let Some(position) = id.chars().position(char::is_control) {
        return Err(Rejection::ControlCharacter { position });
    }
    Ok(())
}

/// Whether every byte is printable ASCII other than the space (`!` to `~`), eight bytes
/// at a time: an id is a few words, and a byte at a time cost more than the rest of
/// checking it.
fn all_printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Each byte's high bit, after adding this to its low seven bits, says it is `!` or
    // more: 0x21 + 0x5f = 0x80 (and no byte carries into the next).
    const FROM_BANG: u64 = u64::from_ne_bytes([0x80 - b'!'; 8]);
    let unprintable = |word: u64| {
        let low = word & !HIGH;
        // Non-ASCII, DEL (0x7f: adding one sets its high bit), or below `!`.
        (word | low.wrapping_add(ONES) | !low.wrapping_add(FROM_BANG)) & HIGH != 0
    };
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        if unprintable(u64::from_ne_bytes(eight)) {
            return false;
        }
    }
    // The last few bytes, padded with a printable one.
    let rest = words.remainder();
    let mut last = [b'a'; 8];
    last.get_mut(..rest.len())
        .unwrap_or_default()
        .copy_from_slice(rest);
    !unprintable(u64::from_ne_bytes(last))
}

/// A dense handle: an id's position in its [`IdTable`]. Four bytes wherever memory
/// refers to an id, instead of a 16-byte shared pointer.
pub(crate) type Handle = u32;

/// Most ids of one kind a table holds: handles are `u32` positions.
pub(crate) const MAX_HANDLES: usize = u32::MAX as usize;

/// Vendor ids of one kind, each a value of its own, in the order first seen, with what
/// memory kept about it: how version 4 snapshots saved the ticket and order tables
/// (their ids numbered, see [`NumberedIds`]). Loading reads one and files its ids in a
/// [`TextTable`], where a handle (the position) names the same id.
#[derive(Clone)]
pub(crate) struct IdTable<K, V> {
    keys: Vec<K>,
    values: Vec<V>,
    index: hashbrown::HashTable<Handle>,
    hasher: ahash::RandomState,
}

impl<K, V> Default for IdTable<K, V> {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            values: Vec::new(),
            index: hashbrown::HashTable::new(),
            hasher: ahash::RandomState::new(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for IdTable<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.keys.iter().zip(&self.values))
            .finish()
    }
}

impl<K: Borrow<str>, V> IdTable<K, V> {
    /// The handle of an id, if the table holds it.
    #[cfg(test)]
    pub(crate) fn handle(&self, id: &str) -> Option<Handle> {
        let hash = self.hasher.hash_one(id);
        let keys = &self.keys;
        self.index
            .find(hash, |&h| {
                keys.get(h as usize).is_some_and(|key| key.borrow() == id)
            })
            .copied()
    }

    /// Files an id (or replaces what is kept about it) and gives its handle.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<Handle> {
        if let Some(handle) = self.handle(key.borrow()) {
            if let Some(slot) = self.values.get_mut(handle as usize) {
                *slot = value;
            }
            return Some(handle);
        }
        let handle = Handle::try_from(self.keys.len()).ok()?;
        let hash = self.hasher.hash_one(key.borrow());
        let (keys, hasher) = (&self.keys, &self.hasher);
        self.index.insert_unique(hash, handle, |&h| {
            keys.get(h as usize)
                .map_or(0, |key| hasher.hash_one(key.borrow()))
        });
        self.keys.push(key);
        self.values.push(value);
        Some(handle)
    }

    /// Every id with what is kept about it, in the order first seen, taken apart.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (K, V)> {
        self.keys.into_iter().zip(self.values)
    }
}

// Saved as a map from id to record (a sequence of pairs, in the order first seen), so
// handles read back as they were.
impl<K: Serialize, V: Serialize> Serialize for IdTable<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.keys.iter().zip(&self.values))
    }
}

thread_local! {
    /// Bytes the tables being read on this thread may still reserve up front, while a
    /// [`ReserveBudget`] is open (see there).
    static RESERVE_BUDGET: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Most entries a table reserves up front from its input's length when no
/// [`ReserveBudget`] is open.
const UNBUDGETED_RESERVE: usize = 1 << 16;

/// How much room the tables decoded on this thread may reserve from the lengths their
/// input announces, while it lives: at most `bytes` in all. With it, a table announcing
/// a million entries is reserved once instead of growing twenty times; without it, a
/// table reserves at most [`UNBUDGETED_RESERVE`] entries. A hostile length can make
/// memory reserve no more than the budget, and the budget is spent in the order the
/// tables are read, so what is reserved does not depend on timing.
pub(crate) struct ReserveBudget {
    previous: Option<usize>,
}

impl ReserveBudget {
    /// Opens a budget of `bytes` on this thread until the value is dropped.
    pub(crate) fn start(bytes: usize) -> Self {
        Self {
            previous: RESERVE_BUDGET.with(|budget| budget.replace(Some(bytes))),
        }
    }
}

impl Drop for ReserveBudget {
    fn drop(&mut self) {
        RESERVE_BUDGET.with(|budget| budget.set(self.previous));
    }
}

thread_local! {
    /// Records a journal will replay into the tables being read on this thread, while a
    /// [`RoomForRecords`] is open (see there).
    static ROOM_FOR_RECORDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Room the text tables read on this thread keep for the records a journal replays right
/// after the snapshot they come from, while it lives. Each record files at most about one
/// id in each (an event, an order, a ticket, a scan); a table sized only for what it holds
/// would grow mid-replay, and growing a table of a million ids hashes every one of them
/// again (a sixth of replaying a hundred thousand records). A table keeps at most as many
/// again as it holds: what growing would have given it anyway.
pub(crate) struct RoomForRecords {
    previous: usize,
}

impl RoomForRecords {
    /// Keeps room for `records` more ids in each text table read on this thread until
    /// the value is dropped.
    pub(crate) fn start(records: usize) -> Self {
        Self {
            previous: ROOM_FOR_RECORDS.with(|room| room.replace(records)),
        }
    }
}

impl Drop for RoomForRecords {
    fn drop(&mut self) {
        ROOM_FOR_RECORDS.with(|room| room.set(self.previous));
    }
}

/// The room a text table holding `entries` keeps for the records still to be replayed.
fn room_for_records(entries: usize) -> usize {
    ROOM_FOR_RECORDS.with(|room| room.get().min(entries))
}

/// How many of the `announced` entries (of about `entry_bytes` each) a table being read
/// reserves room for now, taken from this thread's budget.
pub(crate) fn entries_to_reserve(announced: usize, entry_bytes: usize) -> usize {
    RESERVE_BUDGET.with(|budget| match budget.get() {
        None => announced.min(UNBUDGETED_RESERVE),
        Some(left) => {
            let entries = announced.min(left / entry_bytes.max(1));
            budget.set(Some(left - entries * entry_bytes.max(1)));
            entries
        }
    })
}

impl<'de, K, V> Deserialize<'de> for IdTable<K, V>
where
    K: Deserialize<'de> + Borrow<str>,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor(std::marker::PhantomData))
    }
}

/// Reads a table back, refusing an id listed twice (a handle must name one id).
struct TableVisitor<K, V>(std::marker::PhantomData<(K, V)>);

impl<'de, K, V> Visitor<'de> for TableVisitor<K, V>
where
    K: Deserialize<'de> + Borrow<str>,
    V: Deserialize<'de>,
{
    type Value = IdTable<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of ids")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut table = IdTable::default();
        // The size hint comes from the input: bounded by the budget, so a hostile one
        // cannot make us reserve gigabytes up front.
        let entry_bytes = size_of::<K>() + size_of::<V>() + size_of::<Handle>() + 1;
        let expected = entries_to_reserve(map.size_hint().unwrap_or(0), entry_bytes);
        table.keys.reserve_exact(expected);
        table.values.reserve_exact(expected);
        let hasher = &table.hasher;
        let keys = &table.keys;
        table.index.reserve(expected, |&h| {
            keys.get(h as usize)
                .map_or(0, |key: &K| hasher.hash_one(Borrow::<str>::borrow(key)))
        });
        while let Some((key, value)) = map.next_entry::<K, V>()? {
            let handle = Handle::try_from(table.keys.len())
                .map_err(|_| serde::de::Error::custom("more ids than a table holds"))?;
            // One hash and one probe per id: find a copy, or file it.
            let hash = table.hasher.hash_one(key.borrow());
            let (keys, hasher) = (&table.keys, &table.hasher);
            match table.index.entry(
                hash,
                |&h| {
                    keys.get(h as usize)
                        .is_some_and(|k: &K| Borrow::<str>::borrow(k) == key.borrow())
                },
                |&h| {
                    keys.get(h as usize)
                        .map_or(0, |k: &K| hasher.hash_one(Borrow::<str>::borrow(k)))
                },
            ) {
                hashbrown::hash_table::Entry::Occupied(_) => {
                    return Err(serde::de::Error::custom(format_args!(
                        "id {:?} listed twice",
                        key.borrow()
                    )));
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(handle);
                }
            }
            table.keys.push(key);
            table.values.push(value);
        }
        Ok(table)
    }
}

/// Vendor ids of one kind that memory only looks up and never lends out (event and scan
/// ids), with what memory keeps about each: the texts sit end to end in one string, so
/// an id costs its bytes and about two bytes to find them (see [`Spans`])
/// rather than an allocation of its own. Handles and insertion order work as in
/// [`IdTable`].
#[derive(Clone)]
pub(crate) struct TextTable<V> {
    text: ChunkedText,
    /// Where each id's text lies in `text`.
    ends: Spans,
    values: Chunked<V>,
    index: hashbrown::HashTable<Handle>,
    hasher: ahash::RandomState,
}

impl<V> Default for TextTable<V> {
    fn default() -> Self {
        Self {
            text: ChunkedText::default(),
            ends: Spans::default(),
            values: Chunked::default(),
            index: hashbrown::HashTable::new(),
            hasher: ahash::RandomState::new(),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for TextTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// What [`TextTable::file_new`] did with an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filing {
    /// Filed now, under this handle.
    New(Handle),
    /// Held already, under this handle; nothing changed.
    Held(Handle),
    /// New, and the table has no room for it; nothing changed.
    Full,
}

/// Ids per group of [`Spans`]: each group's ends are kept relative to where the text
/// before it ends. 64 ids of at most [`MAX_ID_BYTES`] each, plus the room skipped at one
/// chunk's end, stay well within 16 bits.
const SPAN_GROUP: usize = 64;

/// A relative end that means "too far: see [`Spans::far`]".
const FAR_END: u16 = u16::MAX;

/// Where each id of a [`TextTable`] lies in its [`ChunkedText`]: where each id's text
/// ends, in 16 bits relative to where the text before its group of [`SPAN_GROUP`] ids
/// ends (kept in 32 bits a group), so an id's span is two reads whatever its place
/// (about 2.06 bytes an id, where a full end offset for each took 4). Every id the
/// write path files is at most [`MAX_ID_BYTES`] long; an end too far from its group's
/// start (an image could hold long ids) is kept aside.
#[derive(Clone, Default)]
struct Spans {
    ends: Chunked<u16>,
    /// The end of the text before each group's first id (0 for the first group).
    group_starts: Chunked<u32>,
    /// The ends of ids whose end does not fit 16 bits from their group's start, by handle.
    far: std::collections::HashMap<Handle, u32, ahash::RandomState>,
    /// The last group's start (as in `group_starts`), which every push reads.
    last_start: u32,
}

impl Spans {
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where id `i` ends, given its group's start and its relative end.
    #[inline]
    fn end(&self, i: usize, start: usize, relative: u16) -> Option<usize> {
        if relative != FAR_END {
            return Some(start + usize::from(relative));
        }
        let handle = Handle::try_from(i).ok()?;
        self.far.get(&handle).map(|&end| end as usize)
    }

    /// Where the text before id `handle` ends and where its own ends (see
    /// [`ChunkedText::get`]).
    #[inline]
    fn span(&self, handle: Handle) -> Option<(usize, usize)> {
        let i = handle as usize;
        let start = *self.group_starts.get(i / SPAN_GROUP)? as usize;
        let own = self.end(i, start, *self.ends.get(i)?)?;
        if i.is_multiple_of(SPAN_GROUP) {
            return Some((start, own));
        }
        let previous = self.end(i - 1, start, *self.ends.get(i - 1)?)?;
        Some((previous, own))
    }

    /// Files the end of the next id, appended to a text ending at `previous_end` and
    /// ending at `end` (as [`ChunkedText::push`] gives it; `None`: too long for any).
    #[inline]
    fn push_end(&mut self, previous_end: usize, end: Option<usize>) {
        let i = self.ends.len();
        if i.is_multiple_of(SPAN_GROUP) {
            self.last_start = u32::try_from(previous_end).unwrap_or(u32::MAX);
            self.group_starts.push(self.last_start);
        }
        let start = self.last_start as usize;
        let end = end.unwrap_or(usize::MAX);
        match end
            .checked_sub(start)
            .and_then(|relative| u16::try_from(relative).ok())
        {
            Some(relative) if relative != FAR_END => self.ends.push(relative),
            _ => {
                if let Ok(handle) = Handle::try_from(i) {
                    self.far
                        .insert(handle, u32::try_from(end).unwrap_or(u32::MAX));
                }
                self.ends.push(FAR_END);
            }
        }
    }

    /// Forgets the last id.
    fn pop(&mut self) {
        let Some(last) = self.ends.len().checked_sub(1) else {
            return;
        };
        if let Ok(handle) = Handle::try_from(last) {
            self.far.remove(&handle);
        }
        self.ends.pop();
        if last.is_multiple_of(SPAN_GROUP) {
            self.group_starts.pop();
            self.last_start = self.group_starts.last().copied().unwrap_or(0);
        }
    }

    /// Every id's span, in handle order, each starting where the one before ended (or
    /// at its group's start).
    fn iter(&self) -> impl Iterator<Item = Option<(usize, usize)>> {
        let mut previous = 0;
        let mut start = 0;
        self.ends.iter().enumerate().map(move |(i, &relative)| {
            if i.is_multiple_of(SPAN_GROUP) {
                start = *self.group_starts.get(i / SPAN_GROUP)? as usize;
                previous = start;
            }
            let end = self.end(i, start, relative)?;
            Some((std::mem::replace(&mut previous, end), end))
        })
    }

    fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        self.ends.tally(tally);
        self.group_starts.tally(tally);
        let item = size_of::<Handle>() + size_of::<u32>();
        tally.table(self.far.len(), self.far.capacity(), item);
    }
}

/// The text of id `handle` in a table's arena.
#[inline]
fn text_at<'t>(text: &'t ChunkedText, ends: &Spans, handle: Handle) -> Option<&'t str> {
    let (previous_end, end) = ends.span(handle)?;
    text.get(previous_end, end)
}

impl<V> TextTable<V> {
    /// An empty table about to be filled from input announcing up to `announced` ids:
    /// its index reserved for them (within this thread's [`ReserveBudget`]) and for the
    /// records a journal replays next (see [`RoomForRecords`]), so it does not grow
    /// while being filled nor right after.
    pub(crate) fn reserved_for(announced: usize) -> Self {
        let mut table = TextTable::default();
        let entry_bytes = size_of::<u32>() + size_of::<V>() + size_of::<Handle>() + 1;
        let expected = entries_to_reserve(announced, entry_bytes);
        let room = expected.saturating_add(room_for_records(expected));
        let (text, ends, hasher) = (&table.text, &table.ends, &table.hasher);
        table.index.reserve(room, |&h| {
            text_at(text, ends, h).map_or(0, |id| hasher.hash_one(id))
        });
        table
    }

    /// How many ids it holds.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The same ids under the same handles, with what is kept about each made anew from
    /// what was (a table loaded in one form and kept in another).
    pub(crate) fn map_values<W>(self, value: impl FnMut(V) -> W) -> TextTable<W> {
        TextTable {
            text: self.text,
            ends: self.ends,
            values: self.values.into_values().map(value).collect(),
            index: self.index,
            hasher: self.hasher,
        }
    }

    /// Appends an id's text and files where it ends.
    #[inline]
    fn push_text(&mut self, id: &str) {
        let previous_end = self.text.len();
        let end = self.text.push(id);
        self.ends.push_end(previous_end, end);
    }

    /// The handle of an id, if the table holds it.
    pub(crate) fn handle(&self, id: &str) -> Option<Handle> {
        let hash = self.hasher.hash_one(id);
        let (text, ends) = (&self.text, &self.ends);
        self.index
            .find(hash, |&h| text_at(text, ends, h) == Some(id))
            .copied()
    }

    /// Whether the table holds an id.
    pub(crate) fn contains_key(&self, id: &str) -> bool {
        self.handle(id).is_some()
    }

    /// What is kept about an id.
    pub(crate) fn get(&self, id: &str) -> Option<&V> {
        self.values.get(self.handle(id)? as usize)
    }

    /// The id a handle names.
    pub(crate) fn key(&self, handle: Handle) -> Option<&str> {
        text_at(&self.text, &self.ends, handle)
    }

    /// Whether a handle names an id of the table (as [`key`](Self::key) being `Some`,
    /// without slicing the text: every id filed has its text).
    pub(crate) fn holds(&self, handle: Handle) -> bool {
        (handle as usize) < self.ends.len()
    }

    /// Files an id (or replaces what is kept about it) and gives its handle; `None`
    /// only once the table is full (callers check [`has_room`](Self::has_room) before
    /// they change anything).
    pub(crate) fn insert(&mut self, id: &str, value: V) -> Option<Handle> {
        if let Some(handle) = self.handle(id) {
            if let Some(slot) = self.values.get_mut(handle as usize) {
                *slot = value;
            }
            return Some(handle);
        }
        self.insert_absent(id, value)
    }

    /// Files an id the caller has just found absent, without looking it up again;
    /// `None` only once the table is full. Filing an id the table holds would give it
    /// two handles, so only call it right after a lookup missed.
    pub(crate) fn insert_absent(&mut self, id: &str, value: V) -> Option<Handle> {
        debug_assert!(self.handle(id).is_none(), "an id filed twice");
        let handle = Handle::try_from(self.ends.len()).ok()?;
        u32::try_from(self.text.end_after(id.len())?).ok()?;
        let hash = self.hasher.hash_one(id);
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.index.insert_unique(hash, handle, |&h| {
            text_at(text, ends, h).map_or(0, |id| hasher.hash_one(id))
        });
        self.push_text(id);
        self.values.push(value);
        Some(handle)
    }

    /// Files an id unless the table holds it, with one hash and one probe (the write
    /// path's lookup of a new event id misses the cache; a second probe to file it
    /// would be pure overhead). `value` is only made for a new id.
    pub(crate) fn file_new(&mut self, id: &str, value: impl FnOnce() -> V) -> Filing {
        let hash = self.hasher.hash_one(id);
        let room = self.has_room(1);
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        let entry = self.index.entry(
            hash,
            |&h| text_at(text, ends, h) == Some(id),
            |&h| text_at(text, ends, h).map_or(0, |id| hasher.hash_one(id)),
        );
        let slot = match entry {
            hashbrown::hash_table::Entry::Occupied(held) => return Filing::Held(*held.get()),
            hashbrown::hash_table::Entry::Vacant(slot) => slot,
        };
        let handle = Handle::try_from(self.ends.len()).ok();
        // Offsets are kept in 32 bits.
        let fits = self
            .text
            .end_after(id.len())
            .is_some_and(|end| u32::try_from(end).is_ok());
        let (true, Some(handle), true) = (room, handle, fits) else {
            return Filing::Full;
        };
        slot.insert(handle);
        self.push_text(id);
        self.values.push(value());
        Filing::New(handle)
    }

    /// What is kept about the id a handle names.
    pub(crate) fn value(&self, handle: Handle) -> Option<&V> {
        self.values.get(handle as usize)
    }

    /// What is kept about the id a handle names, to change it.
    pub(crate) fn value_mut(&mut self, handle: Handle) -> Option<&mut V> {
        self.values.get_mut(handle as usize)
    }

    /// The id a handle names and what is kept about it.
    pub(crate) fn entry(&self, handle: Handle) -> Option<(&str, &V)> {
        Some((self.key(handle)?, self.value(handle)?))
    }

    /// What is kept about each id, in the order filed (handle order).
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.values.iter()
    }

    /// What is kept about each id, to change it, in the order filed.
    #[cfg(test)]
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.values.iter_mut()
    }

    /// Takes back the id filed last (an observation that failed after filing it).
    pub(crate) fn remove_last(&mut self) {
        let Some(last) = self.ends.len().checked_sub(1) else {
            return;
        };
        let Ok(handle) = Handle::try_from(last) else {
            return;
        };
        if let Some(id) = self.key(handle) {
            let hash = self.hasher.hash_one(id);
            if let Ok(entry) = self.index.find_entry(hash, |&h| h == handle) {
                entry.remove();
            }
        }
        let start = self
            .ends
            .span(handle)
            .map_or(0, |(previous_end, _)| previous_end);
        self.text.truncate(start);
        self.ends.pop();
        self.values.pop();
    }

    /// Whether `more` new ids (of at most [`MAX_ID_BYTES`] each) still fit.
    pub(crate) fn has_room(&self, more: usize) -> bool {
        // An id that does not fit in what is left of a text chunk starts the next one:
        // up to its own length again in offsets.
        let bytes = more.saturating_mul(2 * MAX_ID_BYTES);
        self.ends.len().saturating_add(more) <= MAX_HANDLES
            && self.text.len().saturating_add(bytes) <= u32::MAX as usize
    }

    /// Counts its text, ends, values and hash index (see
    /// [`Footprint`](crate::Footprint)); what the values own is the caller's to count.
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        self.text.tally(tally);
        self.ends.tally(tally);
        self.values.tally(tally);
        tally.table(self.index.len(), self.index.capacity(), size_of::<Handle>());
    }

    /// Every id with what is kept about it, in the order first seen.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.ends
            .iter()
            .zip(self.values.iter())
            .filter_map(|(span, value)| {
                let (previous_end, end) = span?;
                Some((self.text.get(previous_end, end)?, value))
            })
    }
}

// Saved as a map from id to record, in the order first seen, exactly as an
// [`IdTable`] of the same ids is.
impl<V> TextTable<V> {
    /// Serializes the table as it would be with each value saved as `saved` makes it
    /// (a value can leave out what is kept elsewhere and still be saved whole).
    pub(crate) fn serialize_as<'a, S: Serializer, W: Serialize>(
        &'a self,
        serializer: S,
        saved: impl Fn(&'a V) -> W,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // The length first: compact formats need it up front.
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (id, value) in self.iter() {
            map.serialize_entry(id, &saved(value))?;
        }
        map.end()
    }
}

impl<V: Serialize> Serialize for TextTable<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_as(serializer, |value| value)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for TextTable<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TextTableVisitor(std::marker::PhantomData))
    }
}

/// Reads a text table back, refusing an id listed twice.
struct TextTableVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for TextTableVisitor<V> {
    type Value = TextTable<V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of ids")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Bounded by the budget: the hint comes from the input.
        let mut table = TextTable::reserved_for(map.size_hint().unwrap_or(0));
        while let Some(id) = map.next_key::<IdText<'_>>()? {
            let value = map.next_value::<V>()?;
            let id = &*id.0;
            let handle = Handle::try_from(table.ends.len()).ok();
            // Offsets are kept in 32 bits.
            let fits = table
                .text
                .end_after(id.len())
                .is_some_and(|end| u32::try_from(end).is_ok());
            let (Some(handle), true) = (handle, fits) else {
                return Err(serde::de::Error::custom("more ids than a table holds"));
            };
            // One hash and one probe per id: find a copy, or file it.
            let hash = table.hasher.hash_one(id);
            let (text, ends, hasher) = (&table.text, &table.ends, &table.hasher);
            match table.index.entry(
                hash,
                |&h| text_at(text, ends, h) == Some(id),
                |&h| text_at(text, ends, h).map_or(0, |id| hasher.hash_one(id)),
            ) {
                hashbrown::hash_table::Entry::Occupied(_) => {
                    return Err(serde::de::Error::custom(format_args!(
                        "id {id:?} listed twice"
                    )));
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(handle);
                }
            }
            table.push_text(id);
            table.values.push(value);
        }
        Ok(table)
    }
}

/// An id's (or any) text as read, borrowed from the input when it can be.
pub(crate) struct IdText<'de>(std::borrow::Cow<'de, str>);

impl IdText<'_> {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for IdText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Text<'a> {
            type Value = IdText<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a string)")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(IdText(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IdText(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Text(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vendor_id_is_refused_for_a_control_character_wherever_it_is() {
        use crate::normalize::Rejection;
        let odd = [
            '\u{80}', '\u{9f}', '\u{a0}', 'é', '\u{202e}', '\u{feff}', '😀',
        ];
        for c in (0..=0x7f_u8).map(char::from).chain(odd) {
            for at in [0, 3, 16, 40] {
                let id: String = "x".repeat(at) + &c.to_string() + "y";
                let expected = if c.is_control() {
                    Err(Rejection::ControlCharacter { position: at })
                } else {
                    Ok(())
                };
                assert_eq!(check_vendor_id(&id), expected, "{c:?} at {at}");
            }
        }
        assert_eq!(check_vendor_id(""), Err(Rejection::Empty));
        assert_eq!(check_vendor_id("   "), Err(Rejection::Empty));
        assert_eq!(check_vendor_id(&"a".repeat(MAX_ID_BYTES)), Ok(()));
    }

    /// The byte-wise reading of printable ASCII ids answers as reading them by character
    /// does.
    #[test]
    fn ascii_ids_are_checked_as_characters_are() {
        let by_chars = |id: &str| {
            use crate::normalize::Rejection;
            if id.len() > MAX_ID_BYTES {
                Err(Rejection::TooLong {
                    max_bytes: MAX_ID_BYTES,
                })
            } else if id.trim().is_empty() {
                Err(Rejection::Empty)
            } else {
                match id.chars().position(char::is_control) {
                    Some(position) => Err(Rejection::ControlCharacter { position }),
                    None => Ok(()),
                }
            }
        };
        let mut ids: Vec<String> = [
            "",
            " ",
            "\t",
            " \r\n\x0b\x0c ",
            "o-1",
            " o-1 ",
            "a\tb",
            "a\x7fb",
            "\x00",
            "ab\x1f",
            "é",
            "\u{85}",
            " \u{a0} ",
            "t-\u{85}",
            "\u{2028}",
            "x\u{9f}",
        ]
        .iter()
        .map(|id| (*id).to_owned())
        .collect();
        ids.extend((0..=127u8).map(|b| format!("k{}", char::from(b))));
        ids.extend((0..=127u8).map(|b| char::from(b).to_string()));
        ids.push("x".repeat(MAX_ID_BYTES + 1));
        for id in &ids {
            assert_eq!(check_vendor_id(id), by_chars(id), "{id:?}");
        }
    }

    #[test]
    fn compact_patron_ids_save_as_patron_ids_and_refuse_what_does_not_fit() {
        for raw in [0, 1, 300, u64::from(u32::MAX)] {
            let id = PatronId::from_u64(raw);
            let compact = CompactPatronId::new(id).expect("fits");
            assert_eq!(compact.get(), id);
            let saved = postcard::to_allocvec(&compact).expect("saved");
            assert_eq!(saved, postcard::to_allocvec(&id).expect("saved"));
            let loaded: CompactPatronId = postcard::from_bytes(&saved).expect("loaded");
            assert_eq!(loaded, compact);
        }
        let too_big = PatronId::from_u64(u64::from(u32::MAX) + 1);
        assert_eq!(CompactPatronId::new(too_big), None);
        let saved = postcard::to_allocvec(&too_big).expect("saved");
        let refused = postcard::from_bytes::<CompactPatronId>(&saved);
        assert!(refused.is_err());
        // Ids past the limit never name a patron memory could hold.
        let held = CompactPatronId::of_held(too_big).get().as_u64();
        assert!(held > MAX_PATRONS as u64);
    }

    #[test]
    fn ids_read_for_records_share_repeated_kinds_and_keep_no_copy_of_the_others() {
        let saved = postcard::to_allocvec(&(
            EventId::new("e-1"),
            OrderId::new("o-1"),
            ScanId::new("s-1"),
            PerformanceId::new("hamlet-1"),
            PerformanceId::new("hamlet-1"),
        ))
        .expect("saved");
        let _sharing = SharedIds::start_for_records();
        type Read = (EventId, OrderId, ScanId, PerformanceId, PerformanceId);
        let (event, order, scan, first, again): Read = postcard::from_bytes(&saved).expect("read");
        assert_eq!(
            (event.as_str(), order.as_str(), scan.as_str()),
            ("e-1", "o-1", "s-1")
        );
        // Each record's own ids are not held past the record.
        for text in [&event.0, &order.0, &scan.0] {
            assert_eq!(Arc::strong_count(text), 1);
        }
        // A performance named again shares the copy read first.
        assert!(Arc::ptr_eq(&first.0, &again.0));
    }

    #[test]
    fn text_tables_keep_ids_end_to_end_and_take_back_the_last() {
        let mut table: TextTable<u8> = TextTable::default();
        assert_eq!(table.insert("e-1", 1), Some(0));
        assert_eq!(table.insert("event-two", 2), Some(1));
        assert_eq!(table.insert("e-3", 3), Some(2));
        assert_eq!(table.key(1), Some("event-two"));
        assert_eq!(table.get("e-3"), Some(&3));
        table.remove_last();
        assert_eq!(table.len(), 2);
        assert!(!table.contains_key("e-3"));
        assert_eq!(table.key(2), None);
        // The taken-back id can be filed again, at the same position.
        assert_eq!(table.insert("e-4", 4), Some(2));
        assert_eq!(table.key(2), Some("e-4"));
        assert_eq!(table.handle("e-1"), Some(0));
        // `holds` answers as `key` does, without reading the text.
        table.remove_last();
        for handle in 0..5 {
            assert_eq!(table.holds(handle), table.key(handle).is_some(), "{handle}");
        }
        assert!(table.holds(1) && !table.holds(2));
    }

    /// Ids of every length (runs of long ones whose ends lie too far from their group's
    /// start for 16 bits too), across groups and text chunks, are found by handle and by text, listed in order, taken back one
    /// by one and read back from their saved form.
    #[test]
    fn text_tables_find_ids_of_any_length_across_groups_and_chunks() {
        let mut table: TextTable<u32> = TextTable::default();
        let mut ids = Vec::new();
        for i in 0..6_000u32 {
            let len = match i % 97 {
                0 => 254,
                1 => 255,
                2 => 300 + (i as usize % 7),
                3 => 0,
                4..=7 => 20_000,
                n => n as usize,
            };
            let id = if len == 0 {
                String::new()
            } else {
                let head = format!("{i}-");
                format!("{head}{}", "x".repeat(len.saturating_sub(head.len())))
            };
            if table.contains_key(&id) {
                continue;
            }
            assert_eq!(table.insert(&id, i), Some(ids.len() as Handle));
            ids.push((id, i));
        }
        assert!(table.text.len() > 3 * 64 * 1024, "several text chunks");
        assert!(!table.ends.far.is_empty(), "some ends kept aside");
        let check = |table: &TextTable<u32>, ids: &[(String, u32)]| {
            assert_eq!(table.len(), ids.len());
            for (handle, (id, value)) in ids.iter().enumerate() {
                let handle = handle as Handle;
                assert_eq!(table.key(handle), Some(id.as_str()));
                assert_eq!(table.handle(id), Some(handle));
                assert_eq!(table.value(handle), Some(value));
            }
            assert_eq!(table.key(ids.len() as Handle), None);
            assert!(
                table
                    .iter()
                    .eq(ids.iter().map(|(id, value)| (id.as_str(), value)))
            );
        };
        check(&table, &ids);
        let bytes = postcard::to_stdvec(&table).unwrap();
        let back: TextTable<u32> = postcard::from_bytes(&bytes).unwrap();
        check(&back, &ids);
        assert_eq!(postcard::to_stdvec(&back).unwrap(), bytes);
        // Taking ids back crosses groups and long ids; filing them again gives the same.
        for _ in 0..40 {
            table.remove_last();
        }
        check(&table, &ids[..ids.len() - 40]);
        for (id, value) in &ids[ids.len() - 40..] {
            table.insert(id, *value);
        }
        check(&table, &ids);
        assert_eq!(postcard::to_stdvec(&table).unwrap(), bytes);
    }

    #[test]
    fn tables_save_as_maps_and_refuse_an_id_listed_twice() {
        let mut ids: IdTable<EventId, u8> = IdTable::default();
        let mut texts: TextTable<u8> = TextTable::default();
        for (i, id) in ["b", "a", "c"].into_iter().enumerate() {
            let value = u8::try_from(i).unwrap();
            ids.insert(EventId::new(id), value);
            texts.insert(id, value);
        }
        let json = serde_json::to_string(&texts).unwrap();
        assert_eq!(json, r#"{"b":0,"a":1,"c":2}"#);
        assert_eq!(serde_json::to_string(&ids).unwrap(), json);
        let bytes = postcard::to_stdvec(&texts).unwrap();
        assert_eq!(postcard::to_stdvec(&ids).unwrap(), bytes);
        let back: TextTable<u8> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.handle("c"), Some(2));
        let back: IdTable<EventId, u8> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.handle("a"), Some(1));
        let twice = r#"{"b":0,"b":1}"#;
        assert!(serde_json::from_str::<TextTable<u8>>(twice).is_err());
        assert!(serde_json::from_str::<IdTable<EventId, u8>>(twice).is_err());
        let bytes = postcard::to_stdvec(&[("b", 0u8), ("b", 1)]).unwrap();
        let _budget = ReserveBudget::start(1 << 20);
        assert!(postcard::from_bytes::<TextTable<u8>>(&bytes).is_err());
        assert!(postcard::from_bytes::<IdTable<EventId, u8>>(&bytes).is_err());
    }

    #[test]
    fn tables_reserve_what_their_input_announces_within_the_budget() {
        let mut texts: TextTable<u32> = TextTable::default();
        for i in 0..5000u32 {
            texts.insert(&format!("e-{i}"), i);
        }
        let bytes = postcard::to_stdvec(&texts).unwrap();
        {
            let _budget = ReserveBudget::start(bytes.len() * 4);
            let back: TextTable<u32> = postcard::from_bytes(&bytes).unwrap();
            // The index reserved once (the values go in fixed chunks: nothing to reserve).
            assert!(back.index.capacity() >= 5000);
            assert_eq!(
                back.iter().collect::<Vec<_>>(),
                texts.iter().collect::<Vec<_>>()
            );
        }
        {
            let _budget = ReserveBudget::start(bytes.len() * 4);
            let back: IdTable<EventId, u32> = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back.values.capacity(), 5000);
            assert_eq!(back.handle("e-4999"), Some(4999));
        }
        // A hostile length (four billion entries, none following) reserves no more than
        // the budget and is refused.
        let hostile = [0xff, 0xff, 0xff, 0xff, 0x0f];
        let _budget = ReserveBudget::start(1000);
        let read = postcard::from_bytes::<IdTable<EventId, u64>>(&hostile);
        assert!(read.is_err());
        let left = RESERVE_BUDGET.with(std::cell::Cell::get).unwrap();
        assert!(left < 1000);
        // What is left is all that can still be reserved, once.
        assert_eq!(entries_to_reserve(usize::MAX, 1), left);
        assert_eq!(entries_to_reserve(usize::MAX, 1), 0);
    }

    #[test]
    fn text_tables_read_before_a_replay_keep_room_for_its_records() {
        let mut texts: TextTable<u32> = TextTable::default();
        for i in 0..5000u32 {
            texts.insert(&format!("e-{i}"), i);
        }
        let bytes = postcard::to_stdvec(&texts).unwrap();
        let read = |records: usize| {
            let _budget = ReserveBudget::start(bytes.len() * 4);
            let _room = RoomForRecords::start(records);
            let mut back: TextTable<u32> = postcard::from_bytes(&bytes).unwrap();
            let capacity = back.index.capacity();
            // Filing as many ids as it kept room for grows nothing.
            for i in 0..records.min(5000) as u32 {
                back.insert(&format!("r-{i}"), i);
            }
            assert_eq!(back.handle("r-0").is_some(), records > 0);
            (capacity, back.index.capacity())
        };
        let (plain, _) = read(0);
        let (roomy, after) = read(3000);
        assert!(roomy >= 8000 && roomy > plain);
        assert_eq!(after, roomy, "no growth while replaying");
        // A journal claiming more records than the table holds gets it as many again.
        let (capped, _) = read(usize::MAX);
        assert!((10_000..40_000).contains(&capped));
        // Room is only kept while asked for.
        let back: TextTable<u32> = postcard::from_bytes(&bytes).unwrap();
        assert!(back.index.capacity() < roomy);
    }

    #[test]
    fn ticket_ids_read_as_text_give_the_same_ids_and_keep_copies_by_number_readable() {
        let first = TicketId::new("t-1");
        let ids = vec![first.clone(), TicketId::new("t-2"), first.clone(), first];
        let numbered = {
            let _numbered = NumberedIds::writing();
            postcard::to_allocvec(&ids).unwrap()
        };
        // Read as text, then as ids: each reading gives the texts written, in order,
        // whichever way the id written whole was read.
        let read = {
            let _numbered = NumberedIds::reading();
            postcard::from_bytes::<Vec<One>>(&numbered).unwrap()
        };
        let read: Vec<&str> = read.iter().map(|one| one.0.as_str()).collect();
        assert_eq!(read, ["t-1", "t-2", "t-1", "t-1"]);
        // An id read as text and a copy of it read as an id, in one section.
        let (text, copies) = {
            let _numbered = NumberedIds::reading();
            // After the sequence's length (one byte).
            let (text, rest) = postcard::take_from_bytes::<One>(&numbered[1..]).unwrap();
            let (_, rest) = postcard::take_from_bytes::<TicketId>(rest).unwrap();
            let copies: Vec<TicketId> = (0..2)
                .scan(rest, |rest, _| {
                    let (id, after) = postcard::take_from_bytes::<TicketId>(rest).unwrap();
                    *rest = after;
                    Some(id)
                })
                .collect();
            (text.0, copies)
        };
        assert_eq!(text, "t-1");
        assert_eq!(copies, [TicketId::new("t-1"), TicketId::new("t-1")]);
        assert!(std::ptr::eq(copies[0].as_str(), copies[1].as_str()));
        // Outside a snapshot, the bare string.
        let bare = postcard::to_allocvec(&TicketId::new("t-9")).unwrap();
        assert_eq!(postcard::from_bytes::<One>(&bare).unwrap().0, "t-9");
        // A copy by number before any id was read: an error, not a panic.
        let _numbered = NumberedIds::reading();
        assert!(postcard::from_bytes::<One>(&[1, 5]).is_err());
    }

    /// How many of the ids in `written` (a numbered sequence) are written whole.
    fn written_whole(written: &[u8]) -> usize {
        let read: Vec<ReadId> = postcard::from_bytes(written).unwrap();
        read.iter()
            .filter(|id| matches!(id, ReadId::New(_)))
            .count()
    }

    #[test]
    fn every_id_among_the_last_written_whole_is_copied_by_number() {
        // 200 performances named again and again, as fired moments name them: each is
        // written whole once, however their texts hash, and read back as written.
        let distinct: Vec<PerformanceId> = (0..200)
            .map(|n| PerformanceId::new(format!("perf-{n}")))
            .collect();
        let ids: Vec<PerformanceId> = (0..1000).map(|n| distinct[(n * 7) % 200].clone()).collect();
        assert_eq!(written_whole_and_read_back(&ids), 200);
        // Past the reader's window an id is written whole again: 300 ids in turn.
        let distinct: Vec<PerformanceId> = (0..300)
            .map(|n| PerformanceId::new(format!("perf-{n}")))
            .collect();
        let ids: Vec<PerformanceId> = (0..900).map(|n| distinct[n % 300].clone()).collect();
        assert_eq!(written_whole_and_read_back(&ids), 900);
        // 256 ids in turn, the window's size: each is still held when it comes again.
        let ids: Vec<PerformanceId> = (0..768)
            .map(|n| PerformanceId::new(format!("perf-{}", n % 256)))
            .collect();
        assert_eq!(written_whole_and_read_back(&ids), 256);
    }

    /// How many of `ids` numbering writes whole; they are read back as written.
    fn written_whole_and_read_back(ids: &[PerformanceId]) -> usize {
        let numbered = {
            let _numbered = NumberedIds::writing();
            postcard::to_allocvec(ids).unwrap()
        };
        let read: Vec<PerformanceId> = {
            let _numbered = NumberedIds::reading();
            postcard::from_bytes(&numbered).unwrap()
        };
        assert_eq!(read, ids);
        written_whole(&numbered)
    }

    /// A ticket id read as text.
    struct One(String);

    impl<'de> Deserialize<'de> for One {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            TicketId::read_text(deserializer).map(|text| One(text.as_str().to_owned()))
        }
    }
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
    /// Writing: the ids the reader still holds, as it holds them, and where each is.
    /// (Both sides boxed: one guard's worth of tables is a few hundred bytes.)
    Writing(Box<[RecentWritten; ID_KINDS]>),
    /// Reading: in slot `n % RECENT_IDS`, the id written whole as number `n`.
    Reading(Box<[RecentRead; ID_KINDS]>),
}

/// The writer's mirror of [`RecentRead`]: slot `n % RECENT_IDS` holds the id written
/// whole as number `n`, and `numbers` finds each id in the slots by its text. Slots
/// picked by the number, as the reader picks them, never collide: every id among the
/// last [`RECENT_IDS`] written whole is found (slots picked by a checksum of the text
/// lost one of two colliding ids, and with it every later copy of it).
#[derive(Default)]
struct RecentWritten {
    written: u64,
    slots: Vec<Option<Arc<str>>>,
    /// The number each id in `slots` was written whole under, by its text: the text,
    /// never the allocation's address, so the same memory (built live, replayed or
    /// restored) always writes the same bytes.
    numbers: std::collections::HashMap<Arc<str>, u64, ahash::RandomState>,
}

impl RecentWritten {
    /// The slot of the copy of `id` the reader holds, or `None` after noting `id` as
    /// written whole under the next number (in place of the id that slot held).
    fn copy_or_note(&mut self, id: &Arc<str>) -> Option<u16> {
        if let Some(&number) = self.numbers.get(&**id) {
            return u16::try_from(recent_slot(number)).ok();
        }
        if self.slots.is_empty() {
            self.slots = vec![None; RECENT_IDS];
            self.numbers.reserve(RECENT_IDS);
        }
        let number = self.written;
        if let Some(slot) = self.slots.get_mut(recent_slot(number)) {
            if let Some(gone) = slot.replace(Arc::clone(id)) {
                self.numbers.remove(&gone);
            }
            self.numbers.insert(Arc::clone(id), number);
        }
        self.written += 1;
        None
    }
}

#[derive(Default)]
struct RecentRead {
    read: u64,
    slots: Vec<ReadSlot>,
}

/// An id read whole, as a later copy by number finds it: shared, or (read by
/// [`read_id_text`], for a table that keeps its own copy) its text alone, shared only
/// once a copy asks for it. The text's buffer is reused for the next id in its slot.
#[derive(Clone, Default)]
enum ReadSlot {
    #[default]
    Empty,
    Shared(Arc<str>),
    Text(String),
}

impl ReadSlot {
    /// The id in this slot, shared from now on.
    fn shared(&mut self) -> Option<Arc<str>> {
        match self {
            Self::Empty => None,
            Self::Shared(id) => Some(Arc::clone(id)),
            Self::Text(text) => {
                let id: Arc<str> = Arc::from(text.as_str());
                *self = Self::Shared(Arc::clone(&id));
                Some(id)
            }
        }
    }

    /// Keeps `text` as the id read whole into this slot.
    fn keep_text(&mut self, text: &str) {
        if let Self::Text(kept) = self {
            kept.clear();
            kept.push_str(text);
        } else {
            *self = Self::Text(text.to_owned());
        }
    }
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
            Some(table.copy_or_note(id))
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
    with_recent_reads(kind, |table| match read {
        ReadId::New(FreshText(text)) => {
            let at = recent_slot(table.read);
            if let Some(slot) = table.slots.get_mut(at) {
                *slot = ReadSlot::Shared(Arc::clone(&text));
            }
            table.read += 1;
            Ok(text)
        }
        ReadId::Recent(at) => table
            .slots
            .get_mut(usize::from(at))
            .and_then(ReadSlot::shared)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("id slot {at} refers to no id read yet"))
            }),
    })
}

/// Runs `read` on the recent ids of `kind` while a snapshot's numbered ids are read
/// (their slots made on first use); an error if numbering ended or `kind` is unknown.
fn with_recent_reads<T, E: serde::de::Error>(
    kind: usize,
    read: impl FnOnce(&mut RecentRead) -> Result<T, E>,
) -> Result<T, E> {
    NUMBERED_IDS.with(|numbered| {
        let mut numbered = numbered.borrow_mut();
        let Some(Numbering::Reading(tables)) = &mut *numbered else {
            return Err(E::custom("id numbering ended while reading"));
        };
        let Some(table) = tables.get_mut(kind) else {
            return Err(E::custom("unknown kind of id"));
        };
        if table.slots.is_empty() {
            table.slots = vec![ReadSlot::Empty; RECENT_IDS];
        }
        read(table)
    })
}

/// An id's text as [`read_id_text`] gives it: borrowed from the input (or read into a
/// string of its own where the format cannot lend it), or the shared copy of an id read
/// whole before.
pub(crate) enum ReadIdText<'a> {
    Text(IdText<'a>),
    Shared(Arc<str>),
}

impl ReadIdText<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Text(text) => text.as_str(),
            Self::Shared(id) => id,
        }
    }
}

/// An id as a snapshot writes it, read back with its text borrowed.
#[derive(Deserialize)]
#[serde(rename = "ReadId")]
enum BorrowedReadId<'a> {
    New(#[serde(borrow)] IdText<'a>),
    Recent(u16),
}

/// Reads an id of `kind` as its type's `Deserialize` does, for a table that keeps its
/// own copy of the text: an id read whole is not put in a shared allocation (which the
/// table would copy and drop), only noted for the copies by number that may follow.
fn read_id_text<'de: 'a, 'a, D: Deserializer<'de>>(
    kind: usize,
    deserializer: D,
) -> Result<ReadIdText<'a>, D::Error> {
    let reading =
        NUMBERED_IDS.with(|numbered| matches!(&*numbered.borrow(), Some(Numbering::Reading(_))));
    if !reading {
        return IdText::deserialize(deserializer).map(ReadIdText::Text);
    }
    let read = BorrowedReadId::deserialize(deserializer)?;
    with_recent_reads(kind, |table| match read {
        BorrowedReadId::New(text) => {
            let at = recent_slot(table.read);
            if let Some(slot) = table.slots.get_mut(at) {
                slot.keep_text(text.as_str());
            }
            table.read += 1;
            Ok(ReadIdText::Text(text))
        }
        BorrowedReadId::Recent(at) => table
            .slots
            .get_mut(usize::from(at))
            .and_then(ReadSlot::shared)
            .map(ReadIdText::Shared)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("id slot {at} refers to no id read yet"))
            }),
    })
}

impl TicketId {
    /// Reads a ticket id as `Deserialize` does, its text borrowed where it can be (see
    /// [`read_id_text`]).
    pub(crate) fn read_text<'de: 'a, 'a, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ReadIdText<'a>, D::Error> {
        read_id_text(TICKET_KIND, deserializer)
    }
}

impl PerformanceId {
    /// Reads a performance id as `Deserialize` does, its text borrowed where it can be
    /// (see [`read_id_text`]).
    pub(crate) fn read_text<'de: 'a, 'a, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ReadIdText<'a>, D::Error> {
        read_id_text(PERFORMANCE_KIND, deserializer)
    }
}
