//! Hash indexes from normalized identifiers and blocking keys to patrons.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::state::{PatronRecord, State};
use super::view::PatronView;
use crate::model::ids::PatronId;
use crate::model::ids::entries_to_reserve;
use crate::model::profile::{Identifier, Profile};
use crate::recognize::{BlockingKey, KnownSounds, encode_with};

/// Identifier → patrons that used it. Most identifiers belong to one patron, who is
/// kept inline (see [`PostingMap`]).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct IdentifierIndex {
    map: PostingMap<Identifier>,
}

impl IdentifierIndex {
    pub(crate) fn get(&self, identifier: &Identifier) -> &[PatronId] {
        self.map.get(identifier)
    }

    pub(crate) fn insert(&mut self, identifier: Identifier, patron: PatronId) {
        self.map
            .insert_unless(identifier, patron, |patrons| patrons.contains(&patron));
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Takes these patrons off an identifier, dropping the identifier once nobody uses
    /// it (erasure: the key itself is personal data).
    pub(crate) fn remove(&mut self, identifier: &Identifier, patrons: &[PatronId]) {
        self.map.remove(identifier, patrons);
    }
}

/// Blocking key → patrons filed under it, oldest first.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct BlockingIndex {
    map: KeyTable,
}

/// A patron's compact copy of the profile values recognition compares (names,
/// identifiers, addresses, birth date) in one small block, so that scoring a candidate
/// reads one or two cache lines instead of a dozen scattered allocations.
///
/// Kept in the patron's slot (see [`PatronSlots`](super::slots::PatronSlots)), which
/// recognition reads anyway to resolve the candidate: the block's address is at hand
/// without reading the patron's record.
///
/// The copy is derived, and every change to a profile's compared values rewrites it
/// (learning, merge and split) or drops it (erasure); loading a snapshot writes them
/// all. Recognition therefore reads the block without looking at the profile: checking
/// it against the profile would read one or two more of the record's cache lines per
/// candidate. Each block carries a stamp of the profile it was written from, which the
/// write path checks before trusting a returning patron's copy and debug builds check
/// on every read.
#[derive(Default, Clone)]
pub(crate) struct ComparisonKeys {
    block: Option<(u64, Box<str>)>,
}

impl ComparisonKeys {
    /// Whether a compact copy is kept.
    #[cfg(test)]
    pub(crate) fn is_held(&self) -> bool {
        self.block.is_some()
    }

    /// The block kept, if any.
    #[cfg(test)]
    pub(crate) fn block(&self) -> Option<&str> {
        self.block.as_ref().map(|(_, block)| &**block)
    }

    /// Drops the copy (erasure: it holds names and identifiers).
    pub(crate) fn clear(&mut self) {
        self.block = None;
    }
}

impl fmt::Debug for ComparisonKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The block holds personal data: show only whether there is one.
        f.debug_struct("ComparisonKeys")
            .field("held", &self.block.is_some())
            .finish()
    }
}

/// A fingerprint of where a profile's compared values live and how many there are. Any
/// change to them by merge or split reallocates or resizes a list (or sets the birth
/// date), so a block written before such a change no longer matches.
fn stamp(profile: &Profile) -> u64 {
    let parts = [
        profile.names.as_ptr() as u64,
        profile.names.len() as u64,
        profile.identifiers.as_ptr() as u64,
        profile.identifiers.len() as u64,
        profile.addresses.as_ptr() as u64,
        profile.addresses.len() as u64,
        profile
            .birth_date
            .map_or(u64::MAX, |d| chrono::Datelike::num_days_from_ce(&d) as u64),
    ];
    parts.iter().fold(0x9e37_79b9_7f4a_7c15, |h, &p| {
        (h ^ p).wrapping_mul(0x0100_0000_01b3).rotate_left(29)
    })
}

impl State {
    /// Rewrites the compact copy of a patron's compared values; the write path calls it
    /// after learning about the patron.
    pub(crate) fn refresh_comparison_keys(&mut self, id: PatronId) {
        self.refresh_comparison_keys_with(id, &KnownSounds::default());
    }

    /// [`refresh_comparison_keys`](Self::refresh_comparison_keys), taking the sounds of
    /// names filing their blocking keys worked out already.
    pub(crate) fn refresh_comparison_keys_with(&mut self, id: PatronId, known: &KnownSounds<'_>) {
        let record = super::state::slot(id).and_then(|at| self.patrons.get(at));
        if let (Some(record), Some(slot)) = (record, self.slots.get_mut(id)) {
            refresh_record(record, &mut slot.comparison, known);
        }
    }
}

/// Writes the compact copy of one patron's compared values.
fn refresh_record(record: &PatronRecord, keys: &mut ComparisonKeys, known: &KnownSounds<'_>) {
    keys.block = encode_with(&record.profile, known).map(|block| (stamp(&record.profile), block));
}

/// Below this many patrons, loading writes their compact copies on one thread: starting
/// another costs more than it saves.
pub(crate) const PARALLEL_REFRESH_MIN: usize = 4096;

/// Patrons whose compact copies a thread writes before it takes more.
const REFRESH_CHUNK: usize = 2048;

/// Writes the compact copy of every patron's compared values, as loading a snapshot does,
/// while this thread also does `meanwhile` (other loading work): for a large memory, a
/// thread of its own starts on the copies at once and this one joins it once `meanwhile`
/// is done, both taking patrons a chunk at a time, so they finish together however long
/// `meanwhile` takes (on this thread alone if another cannot be started). Each copy
/// depends on its patron's profile alone, so they are the same however the work was
/// shared.
pub(crate) fn refresh_all_comparison_keys(
    patrons: &crate::chunked::Chunked<PatronRecord>,
    slots: &mut super::slots::PatronSlots,
    meanwhile: impl FnOnce(),
) {
    // Each run of slots with the position of its first, whose record is at the same one.
    let refresh = |(first, run): (usize, &mut [super::slots::PatronSlot])| {
        for (at, slot) in (first..).zip(run) {
            if let Some(record) = patrons.get(at) {
                refresh_record(record, &mut slot.comparison, &KnownSounds::default());
            }
        }
    };
    let parallel = patrons.len() >= PARALLEL_REFRESH_MIN;
    let mut first = 0;
    let mut runs = Vec::new();
    for stored in slots.chunks_mut() {
        for run in stored.chunks_mut(REFRESH_CHUNK) {
            let len = run.len();
            runs.push((first, run));
            first += len;
        }
    }
    if !parallel {
        meanwhile();
        runs.into_iter().for_each(refresh);
        return;
    }
    let chunks = std::sync::Mutex::new(runs.into_iter());
    let drain = || {
        loop {
            let next = chunks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .next();
            match next {
                Some(chunk) => refresh(chunk),
                None => break,
            }
        }
    };
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("regulars-snapshot-keys".to_owned())
            .spawn_scoped(scope, drain);
        meanwhile();
        drain();
        if let Ok(handle) = other {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
}

impl BlockingIndex {
    /// How far back a new entry looks for the same patron: enough to keep a patron from
    /// being filed twice in the usual case without walking a key shared by thousands.
    const DEDUPE_WINDOW: usize = 32;

    pub(crate) fn get(&self, key: BlockingKey) -> FiledPatrons<'_> {
        self.map.get(key)
    }

    /// How many patrons are filed under `key`, without reading their list.
    pub(crate) fn count(&self, key: BlockingKey) -> usize {
        self.map.count(key)
    }

    pub(crate) fn insert(&mut self, key: BlockingKey, patron: PatronId) {
        self.map.insert_unless(key, patron, |patrons| {
            patrons
                .iter()
                .rev()
                .take(Self::DEDUPE_WINDOW)
                .any(|p| p == patron)
        });
    }

    /// Takes these patrons off every key, dropping keys nobody is filed under any more.
    /// Walks the whole index: only erasure calls it, and keys are one-way hashes that
    /// cannot be recomputed from an erased profile with certainty.
    pub(crate) fn remove_everywhere(&mut self, patrons: &[PatronId]) {
        self.map.remove_everywhere(patrons);
    }
}

/// Keys to the patrons filed under each, oldest first, in one word a key: most keys
/// name one patron, kept inline, and a key shared by several holds where its list is
/// in a [`ListArena`] and how long it is, so a shared key's patrons are one read away.
///
/// Saved as a map from key to its list of patrons.
#[derive(Clone)]
pub(crate) struct PostingMap<K> {
    map: HashMap<K, Posting, ahash::RandomState>,
    lists: ListArena<Posting>,
}

/// The longest list a key keeps: its length fits 31 bits and never reads as an empty
/// key-table slot.
const LONGEST_LIST: usize = (1 << 31) - 2;

/// What a key holds: its only patron, or where its list lies in a [`ListArena`] and how
/// long it is. The one patron is kept as the lists keep patrons, so that it can be lent
/// as a list of one.
trait Listing: Copy {
    /// A patron as the lists keep it.
    type Id: Copy + PartialEq;
    /// What a block's places hold before a list takes them.
    const FILLER: Self::Id;
    fn one(patron: Self::Id) -> Self;
    /// A list of `len` patrons at `at` in the arena.
    fn listed(at: u32, len: usize) -> Self;
    /// The list's place and length, for a key shared by several patrons.
    fn list(self) -> Option<(usize, usize)>;
    /// The only patron, for a key that holds no list.
    fn only(&self) -> &Self::Id;

    /// How many patrons the key names, without reading its list.
    fn count(self) -> usize {
        self.list().map_or(1, |(_, len)| len)
    }

    /// The patrons the key names, its list read from `lists`.
    fn patrons<'a>(&'a self, lists: &'a ListArena<Self>) -> &'a [Self::Id] {
        match self.list() {
            Some((at, len)) => lists.get(at, len),
            None => std::slice::from_ref(self.only()),
        }
    }
}

/// What an identifier holds: its only patron, or (with [`Posting::LIST`] set) its list's
/// length in bits 32 to 62 and its place in the [`ListArena`] in bits 0 to 31.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Posting(PatronId);

impl Posting {
    /// Marks a list. Patron ids are handed out densely from 1 and never reach it; ids
    /// read from a snapshot that do are refused.
    const LIST: u64 = 1 << 63;
}

impl Listing for Posting {
    type Id = PatronId;
    const FILLER: PatronId = PatronId::from_u64(0);

    fn one(patron: PatronId) -> Self {
        Self(patron)
    }

    fn listed(at: u32, len: usize) -> Self {
        let len = len.min(LONGEST_LIST) as u64;
        Self(PatronId::from_u64(Self::LIST | (len << 32) | u64::from(at)))
    }

    fn list(self) -> Option<(usize, usize)> {
        let raw = self.0.as_u64();
        (raw & Self::LIST != 0).then_some((
            (raw & 0xffff_ffff) as usize,
            ((raw >> 32) & 0x7fff_ffff) as usize,
        ))
    }

    fn only(&self) -> &PatronId {
        &self.0
    }
}

/// What a blocking key holds: its only patron's id in four bytes (`len` 0), or where
/// its list of four-byte ids lies in the arena (`first`) and how long it is (`len`, at
/// least 2). Patron ids fit: memory holds at most
/// [`MAX_PATRONS`](crate::model::ids::MAX_PATRONS) patrons.
#[derive(Clone, Copy, PartialEq, Eq)]
struct KeyPosting {
    first: u32,
    len: u32,
}

impl Listing for KeyPosting {
    type Id = u32;
    const FILLER: u32 = 0;

    fn one(patron: u32) -> Self {
        Self {
            first: patron,
            len: 0,
        }
    }

    fn listed(at: u32, len: usize) -> Self {
        Self {
            first: at,
            len: len.min(LONGEST_LIST) as u32,
        }
    }

    fn list(self) -> Option<(usize, usize)> {
        (self.len != 0).then_some((self.first as usize, self.len as usize))
    }

    fn only(&self) -> &u32 {
        &self.first
    }
}

/// A patron id as a blocking list keeps it; `None` past what memory holds.
fn key_id(patron: PatronId) -> Option<u32> {
    u32::try_from(patron.as_u64())
        .ok()
        .filter(|&id| id as usize <= crate::model::ids::MAX_PATRONS)
}

/// Where [`KeyTable::get_each`] appends what it finds: pushed one by one into room
/// reserved for the batch, rather than through a generic extend.
pub(crate) trait FiledOut<'a> {
    /// Room for `more` further entries.
    fn reserve_more(&mut self, more: usize);
    /// Appends one key's patrons.
    fn push_filed(&mut self, filed: FiledPatrons<'a>);
}

impl<'a, const N: usize> FiledOut<'a> for SmallVec<[FiledPatrons<'a>; N]> {
    #[inline]
    fn reserve_more(&mut self, more: usize) {
        self.reserve(more);
    }
    #[inline]
    fn push_filed(&mut self, filed: FiledPatrons<'a>) {
        self.push(filed);
    }
}

impl<'a> FiledOut<'a> for Vec<FiledPatrons<'a>> {
    #[inline]
    fn reserve_more(&mut self, more: usize) {
        self.reserve(more);
    }
    #[inline]
    fn push_filed(&mut self, filed: FiledPatrons<'a>) {
        self.push(filed);
    }
}

/// The patrons filed under a blocking key, oldest first (see
/// [`IndexView::patrons_under`]), read from the index's list of four-byte ids.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct FiledPatrons<'a> {
    ids: &'a [u32],
}

impl<'a> FiledPatrons<'a> {
    /// Patrons with these four-byte ids (for tests of what reads them).
    #[cfg(test)]
    pub(crate) fn of(ids: &'a [u32]) -> Self {
        Self { ids }
    }

    /// How many patrons are filed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nobody is filed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The patrons, oldest first.
    pub fn iter(&self) -> FiledPatronsIter<'a> {
        FiledPatronsIter {
            ids: self.ids.iter(),
        }
    }

    /// Whether this patron is filed.
    pub fn contains(&self, patron: PatronId) -> bool {
        key_id(patron).is_some_and(|id| self.ids.contains(&id))
    }

    /// The patrons, oldest first, in a vector.
    pub fn to_vec(&self) -> Vec<PatronId> {
        self.iter().collect()
    }
}

impl fmt::Debug for FiledPatrons<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq<[PatronId]> for FiledPatrons<'_> {
    fn eq(&self, other: &[PatronId]) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

impl PartialEq<&[PatronId]> for FiledPatrons<'_> {
    fn eq(&self, other: &&[PatronId]) -> bool {
        *self == **other
    }
}

impl<const N: usize> PartialEq<[PatronId; N]> for FiledPatrons<'_> {
    fn eq(&self, other: &[PatronId; N]) -> bool {
        *self == other[..]
    }
}

impl PartialEq<Vec<PatronId>> for FiledPatrons<'_> {
    fn eq(&self, other: &Vec<PatronId>) -> bool {
        *self == other[..]
    }
}

impl<'a> IntoIterator for FiledPatrons<'a> {
    type Item = PatronId;
    type IntoIter = FiledPatronsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

// Saved as the list of ids it reads as.
impl Serialize for FiledPatrons<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// The patrons of a [`FiledPatrons`], oldest first.
#[derive(Clone, Debug)]
pub struct FiledPatronsIter<'a> {
    ids: std::slice::Iter<'a, u32>,
}

impl Iterator for FiledPatronsIter<'_> {
    type Item = PatronId;
    #[inline]
    fn next(&mut self) -> Option<PatronId> {
        self.ids.next().map(|&id| PatronId::from_u64(u64::from(id)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl DoubleEndedIterator for FiledPatronsIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<PatronId> {
        self.ids
            .next_back()
            .map(|&id| PatronId::from_u64(u64::from(id)))
    }
}

impl ExactSizeIterator for FiledPatronsIter<'_> {}

impl std::iter::FusedIterator for FiledPatronsIter<'_> {}

/// The lists of keys filed under more than one patron, back to back in one vector. A
/// key holds its list's place and length itself, so reading a shared key's patrons is
/// one read after the key's own: no list header stands between them.
///
/// A list of `n` patrons has a block of `n.next_power_of_two()` places, so it grows in
/// place until its block is full and then moves to a block twice the size, like a
/// vector. A move leaves a hole that the next list needing a block of that size takes.
/// Every hole was once a smaller block of a list still held, so the holes never hold
/// more places than the lists do; should they ever (lists shortened one by one),
/// the arena is rewritten without them, which the many inserts since pay for.
#[derive(Clone)]
struct ListArena<P: Listing> {
    entries: Vec<P::Id>,
    /// Holes by size: `holes[c]` holds where free blocks of `1 << c` places start.
    holes: Vec<Vec<u32>>,
    /// Places in holes.
    idle: usize,
}

impl<P: Listing> Default for ListArena<P> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            holes: Vec::new(),
            idle: 0,
        }
    }
}

impl<P: Listing> ListArena<P> {
    /// The places a list of `len` patrons has.
    fn block(len: usize) -> usize {
        len.next_power_of_two()
    }

    fn get(&self, at: usize, len: usize) -> &[P::Id] {
        self.entries
            .get(at..at.saturating_add(len))
            .unwrap_or_default()
    }

    /// Whether the holes have come to outweigh the lists.
    fn wasteful(&self) -> bool {
        self.idle > 64 && self.idle * 2 > self.entries.len()
    }

    /// A block with room for `len` patrons, a hole of its size if there is one; `None`
    /// once places run out (they are counted in 32 bits).
    fn take_block(&mut self, len: usize) -> Option<usize> {
        let size = Self::block(len);
        let class = size.trailing_zeros() as usize;
        if let Some(at) = self.holes.get_mut(class).and_then(Vec::pop) {
            self.idle -= size;
            return Some(at as usize);
        }
        let at = self.entries.len();
        let end = at
            .checked_add(size)
            .filter(|&end| end <= u32::MAX as usize)?;
        if end > self.entries.capacity() {
            // Grown by half rather than doubled: this is one of memory's larger vectors.
            let capacity = self.entries.capacity();
            let wanted = (capacity + capacity / 2).max(end).max(64);
            self.entries.reserve_exact(wanted - at);
        }
        self.entries.resize(end, P::FILLER);
        Some(at)
    }

    /// Gives a block back, as a hole for the next list of its size.
    fn release(&mut self, at: usize, size: usize) {
        let class = size.trailing_zeros() as usize;
        if self.holes.len() <= class {
            self.holes.resize_with(class + 1, Vec::new);
        }
        if let (Some(holes), Ok(at)) = (self.holes.get_mut(class), u32::try_from(at)) {
            holes.push(at);
            self.idle += size;
        }
    }

    /// A new list holding `patrons`.
    fn alloc(&mut self, patrons: &[P::Id]) -> Option<P> {
        if patrons.len() > LONGEST_LIST {
            return None;
        }
        let at = self.take_block(patrons.len())?;
        self.entries
            .get_mut(at..at + patrons.len())?
            .copy_from_slice(patrons);
        Some(P::listed(u32::try_from(at).ok()?, patrons.len()))
    }

    /// What a key holding `posting` holds once `patron` is filed under it too, unless
    /// `filed` says its list already has them (`None`: nothing changes).
    fn add(&mut self, posting: P, patron: P::Id, filed: impl Fn(&[P::Id]) -> bool) -> Option<P> {
        let Some((at, len)) = posting.list() else {
            let only = *posting.only();
            return (only != patron)
                .then(|| self.alloc(&[only, patron]))
                .flatten();
        };
        if filed(self.get(at, len)) || len >= LONGEST_LIST {
            return None;
        }
        if len < Self::block(len) {
            *self.entries.get_mut(at + len)? = patron;
            return Some(P::listed(u32::try_from(at).ok()?, len + 1));
        }
        // The block is full: the list moves to one twice the size.
        let to = self.take_block(len + 1)?;
        self.entries.copy_within(at..at + len, to);
        *self.entries.get_mut(to + len)? = patron;
        self.release(at, Self::block(len));
        Some(P::listed(u32::try_from(to).ok()?, len + 1))
    }

    /// What a key holding `posting` holds once these patrons are taken off it: `None`
    /// once nobody is left. A list down to one patron goes back inline; a list that
    /// needs a smaller block keeps the front of its own and gives the rest back.
    fn retain(&mut self, posting: P, patrons: &[P::Id]) -> Option<P> {
        let Some((at, len)) = posting.list() else {
            return (!patrons.contains(posting.only())).then_some(posting);
        };
        let list = self.entries.get_mut(at..at + len)?;
        let mut left = 0;
        for read in 0..list.len() {
            let Some(&patron) = list.get(read) else { break };
            if !patrons.contains(&patron)
                && let Some(place) = list.get_mut(left)
            {
                *place = patron;
                left += 1;
            }
        }
        let only = list.first().copied();
        let size = Self::block(len);
        if left <= 1 {
            self.release(at, size);
            return only.filter(|_| left == 1).map(P::one);
        }
        // The block's back halves, largest first, become holes (each a power of two,
        // as every block is).
        let mut kept = Self::block(left);
        while kept < size {
            self.release(at + kept, kept);
            kept *= 2;
        }
        Some(P::listed(u32::try_from(at).ok()?, left))
    }

    /// The arena rewritten without holes: each list in `postings` (in their order) is
    /// copied over and its posting updated.
    fn compact<'p>(&mut self, postings: impl Iterator<Item = &'p mut P>)
    where
        P: 'p,
    {
        let old = std::mem::take(self);
        let live = old.entries.len() - old.idle;
        self.entries.reserve_exact(live);
        for posting in postings {
            let Some((at, len)) = posting.list() else {
                continue;
            };
            // The arena only shrinks, so a block is always found.
            if let Some(moved) = self.alloc(old.get(at, len)) {
                *posting = moved;
            }
        }
    }

    /// The lists' places count as used, the holes and their bookkeeping only as
    /// reserved: memory read back from a snapshot holds the same lists without holes.
    fn tally(&self, tally: &mut super::footprint::Tally) {
        let size = size_of::<P::Id>();
        tally.with_holes(
            (self.entries.len() - self.idle) * size,
            self.entries.len() * size,
            self.entries.capacity() * size,
        );
        let bookkeeping = self.holes.capacity() * size_of::<Vec<u32>>();
        tally.with_holes(0, bookkeeping, bookkeeping);
        for holes in &self.holes {
            let bytes = holes.capacity() * size_of::<u32>();
            tally.with_holes(0, bytes, bytes);
        }
    }
}

impl<K> Default for PostingMap<K> {
    fn default() -> Self {
        Self {
            map: HashMap::default(),
            lists: ListArena::default(),
        }
    }
}

impl<K: Eq + std::hash::Hash> PostingMap<K> {
    pub(crate) fn get<Q>(&self, key: &Q) -> &[PatronId]
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ?Sized,
    {
        self.map
            .get(key)
            .map_or(&[], |posting| posting.patrons(&self.lists))
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Files `patron` under `key` unless `filed` says the key's list already has them.
    fn insert_unless(&mut self, key: K, patron: PatronId, filed: impl Fn(&[PatronId]) -> bool) {
        let posting = match self.map.entry(key) {
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(Posting::one(patron));
                return;
            }
            std::collections::hash_map::Entry::Occupied(occupied) => occupied.into_mut(),
        };
        if let Some(updated) = self.lists.add(*posting, patron, filed) {
            *posting = updated;
        }
        if self.lists.wasteful() {
            self.lists.compact(self.map.values_mut());
        }
    }

    /// Takes these patrons off one key, dropping the key once nobody is under it.
    fn remove<Q>(&mut self, key: &Q, patrons: &[PatronId])
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ?Sized,
    {
        let Some(posting) = self.map.get_mut(key) else {
            return;
        };
        match self.lists.retain(*posting, patrons) {
            Some(kept) => *posting = kept,
            None => {
                self.map.remove(key);
            }
        }
        if self.lists.wasteful() {
            self.lists.compact(self.map.values_mut());
        }
    }
}

impl<K: fmt::Debug + Eq + std::hash::Hash> fmt::Debug for PostingMap<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.map
                    .iter()
                    .map(|(key, posting)| (key, posting.patrons(&self.lists))),
            )
            .finish()
    }
}

// Saved in key order, not the hash table's: the table's order depends on its random
// hasher and on how it grew, and the same memory must save the same bytes.
impl<K: Serialize + Ord + std::hash::Hash> Serialize for PostingMap<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &Posting)> = self.map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_map(
            entries
                .into_iter()
                .map(|(key, posting)| (key, posting.patrons(&self.lists))),
        )
    }
}

impl<'de, K: Deserialize<'de> + Eq + std::hash::Hash> Deserialize<'de> for PostingMap<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Reader<K>(std::marker::PhantomData<K>);
        impl<'de, K: Deserialize<'de> + Eq + std::hash::Hash> serde::de::Visitor<'de> for Reader<K> {
            type Value = PostingMap<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from keys to patrons")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut postings = PostingMap::default();
                // The hint comes from the input: bounded by the loading budget.
                let entry_bytes = size_of::<K>() + size_of::<Posting>() + 1;
                let expected = entries_to_reserve(map.size_hint().unwrap_or(0), entry_bytes);
                postings.map.reserve(expected);
                while let Some((key, patrons)) = map.next_entry::<K, SmallVec<[PatronId; 2]>>()? {
                    if patrons.iter().any(|p| p.as_u64() & Posting::LIST != 0) {
                        return Err(serde::de::Error::custom(
                            "an index names a patron id out of range",
                        ));
                    }
                    let posting = read_posting(&mut postings.lists, &patrons)?;
                    let Some(posting) = posting else { continue };
                    if postings.map.insert(key, posting).is_some() {
                        return Err(serde::de::Error::custom("an index lists a key twice"));
                    }
                }
                Ok(postings)
            }
        }
        deserializer.deserialize_map(Reader(std::marker::PhantomData))
    }
}

/// What a key read from a snapshot holds (`None`: nobody, so the key is skipped), its
/// list filed in `lists`.
fn read_posting<P: Listing, E: serde::de::Error>(
    lists: &mut ListArena<P>,
    patrons: &[P::Id],
) -> Result<Option<P>, E> {
    match patrons {
        [] => Ok(None),
        [only] => Ok(Some(P::one(*only))),
        _ if patrons.len() > LONGEST_LIST => {
            Err(E::custom("a key lists more patrons than an index holds"))
        }
        _ => lists
            .alloc(patrons)
            .map(Some)
            .ok_or_else(|| E::custom("more shared keys than an index holds")),
    }
}

/// Blocking keys to the patrons filed under each, oldest first: an open-addressing table
/// on the key itself (already a well-mixed 64-bit hash), one 16-byte slot a key. A lookup
/// reads one slot in the usual case, where a general-purpose map hashes the key again and
/// reads a control byte and then a bucket; with millions of keys each read is a cache
/// miss.
///
/// Slots are kept in Robin Hood order (no key farther from its home slot than a key it
/// passed on the way), so looking up an absent key stops after a slot or two. Most keys
/// name one patron, kept in the slot; a key shared by several keeps its list in a
/// [`ListArena`] and the list's place and length in the slot, so counting a key's
/// patrons never reads the list, and reading them is one read after the slot.
///
/// Saved as a map from key to its list of patrons, in key order, as [`PostingMap`] is.
#[derive(Clone)]
pub(crate) struct KeyTable {
    /// The slots (none, or at least [`Self::MIN_SLOTS`]), at most four fifths in use
    /// (see [`Self::slots_for`]).
    slots: Vec<KeySlot>,
    /// Slots in use.
    len: usize,
    /// The lists of keys filed under more than one patron.
    lists: ListArena<KeyPosting>,
    /// Mixed into each key before it picks its home slot. Keys are stable hashes of
    /// vendor text (the same in every process), so placing them by a mix keyed per
    /// table keeps crafted names from piling up in one run of slots.
    seed: u64,
}

impl Default for KeyTable {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
            lists: ListArena::default(),
            seed: ahash::RandomState::new().hash_one(0x5eed_u64),
        }
    }
}

/// One slot: a key and what it holds (see [`Posting`]); all bits set, no key at all.
#[derive(Clone, Copy)]
struct KeySlot {
    key: u64,
    posting: KeyPosting,
}

impl KeySlot {
    /// No key: a list mark with a length no list reaches.
    const EMPTY: KeySlot = KeySlot {
        key: 0,
        posting: KeyPosting {
            first: u32::MAX,
            len: u32::MAX,
        },
    };

    fn is_empty(self) -> bool {
        self.posting.len == u32::MAX
    }

    /// How many patrons the key names.
    fn count(self) -> usize {
        if self.is_empty() {
            0
        } else {
            self.posting.count()
        }
    }
}

/// What [`KeyTable::seek`] found for a key.
enum Seek {
    /// The key's slot.
    Found(usize),
    /// The key is absent; placing it begins at this slot, this far from its home.
    Vacant { at: usize, distance: usize },
    /// The key is absent, and the table has no slot to begin at (it is empty).
    Unplaced,
}

impl KeyTable {
    /// The fewest slots a table that holds anything has.
    const MIN_SLOTS: usize = 16;

    /// The table grows by half once more than four fifths of its slots would be in use:
    /// with any number of slots (not only powers of two) it stays between about 53 and
    /// 80 % full, where doubling past three quarters left it between 37 and 75 %.
    const MAX_LOAD: (usize, usize) = (4, 5);

    /// The fewest slots that hold `keys` keys within [`Self::MAX_LOAD`].
    fn slots_for(keys: usize) -> usize {
        let (most, of) = Self::MAX_LOAD;
        keys.saturating_mul(of).div_ceil(most).max(Self::MIN_SLOTS)
    }

    /// The key, mixed with the table's seed (a folded multiply: both halves of the
    /// 128-bit product, so every key bit reaches the top bits), picks its home slot: the
    /// mix scaled to the number of slots (its top bits, for any table size).
    fn home(&self, key: u64) -> usize {
        let product = u128::from(key ^ self.seed) * 0x9e37_79b9_7f4a_7c15_u128;
        let mixed = (product as u64) ^ ((product >> 64) as u64);
        ((u128::from(mixed) * self.slots.len() as u128) >> 64) as usize
    }

    /// The slot after `at`, wrapping round at the end.
    fn next(&self, at: usize) -> usize {
        if at + 1 >= self.slots.len() {
            0
        } else {
            at + 1
        }
    }

    /// How far slot `at`, holding `key`, is from the key's home.
    fn distance(&self, at: usize, key: u64) -> usize {
        let home = self.home(key);
        if at >= home {
            at - home
        } else {
            at + self.slots.len() - home
        }
    }

    /// Where `key` sits, given a copy of its home slot already read.
    fn find_from(&self, key: u64, home: usize, first: KeySlot) -> Option<usize> {
        if first.is_empty() {
            return None;
        }
        if first.key == key {
            return Some(home);
        }
        let mut at = home;
        for distance in 1..self.slots.len() {
            at = self.next(at);
            let slot = *self.slots.get(at)?;
            if slot.is_empty() {
                return None;
            }
            // Keys are unique: a match needs no distance worked out.
            if slot.key == key {
                return Some(at);
            }
            // A key nearer its home than this one would be means it is not here.
            if self.distance(at, slot.key) < distance {
                return None;
            }
        }
        None
    }

    /// Where `key` sits, or where placing it would begin: the first slot of its walk
    /// that is empty or holds a key nearer its own home, and how far that is from the
    /// key's home.
    fn seek(&self, key: u64) -> Seek {
        if self.slots.is_empty() {
            return Seek::Unplaced;
        }
        let mut at = self.home(key);
        for distance in 0..self.slots.len() {
            let Some(slot) = self.slots.get(at) else {
                return Seek::Unplaced;
            };
            if slot.is_empty() {
                return Seek::Vacant { at, distance };
            }
            if slot.key == key {
                return Seek::Found(at);
            }
            // A key at its home is never nearer it than this one would be.
            if distance > 0 && self.distance(at, slot.key) < distance {
                return Seek::Vacant { at, distance };
            }
            at = self.next(at);
        }
        Seek::Unplaced
    }

    fn find(&self, key: u64) -> Option<usize> {
        let home = self.home(key);
        let first = *self.slots.get(home)?;
        self.find_from(key, home, first)
    }

    fn slot(&self, key: BlockingKey) -> Option<KeySlot> {
        self.find(key.as_u64())
            .and_then(|at| self.slots.get(at).copied())
    }

    fn patrons<'a>(lists: &'a ListArena<KeyPosting>, slot: &'a KeySlot) -> FiledPatrons<'a> {
        if slot.is_empty() {
            return FiledPatrons::default();
        }
        FiledPatrons {
            ids: slot.posting.patrons(lists),
        }
    }

    pub(crate) fn get(&self, key: BlockingKey) -> FiledPatrons<'_> {
        match self.find(key.as_u64()).and_then(|at| self.slots.get(at)) {
            Some(slot) => Self::patrons(&self.lists, slot),
            None => FiledPatrons::default(),
        }
    }

    /// How many patrons are filed under `key`.
    pub(crate) fn count(&self, key: BlockingKey) -> usize {
        self.slot(key).map_or(0, KeySlot::count)
    }

    /// Keys whose home slots [`get_each`](Self::get_each) reads together: about as many
    /// misses as a core keeps in flight.
    const BATCH: usize = 16;

    /// The patrons filed under each of `keys`, in order, appended to `out`. Every key's
    /// home slot (of a batch of them) is read before any is examined: these reads do not depend on each
    /// other, so their cache misses overlap instead of each key waiting for the last.
    /// Nothing here reads a list itself (a slot says where it is and how long), so a
    /// caller that only counts never waits for one.
    pub(crate) fn get_each<'a>(&'a self, keys: &[BlockingKey], out: &mut impl FiledOut<'a>) {
        // In batches of a fixed array on the stack: a small vector with room for every
        // key was a kilobyte copied on creation, more than the lookups themselves.
        out.reserve_more(keys.len());
        for batch in keys.chunks(Self::BATCH) {
            let mut homes = [(0, KeySlot::EMPTY); Self::BATCH];
            for (key, home) in batch.iter().zip(homes.iter_mut()) {
                let at = self.home(key.as_u64());
                *home = (at, self.slots.get(at).copied().unwrap_or(KeySlot::EMPTY));
            }
            // Pushed one by one into the room reserved: appending through a generic
            // extend, its closure holding the probe, cost more than the probes.
            for (key, &(home, first)) in batch.iter().zip(&homes) {
                let slot = self
                    .find_from(key.as_u64(), home, first)
                    .and_then(|at| self.slots.get(at));
                out.push_filed(match slot {
                    Some(slot) => Self::patrons(&self.lists, slot),
                    None => FiledPatrons::default(),
                });
            }
        }
    }

    /// Room for one more key, growing by half (and refiling every key) past
    /// [`Self::MAX_LOAD`].
    fn reserve_one(&mut self) {
        if Self::slots_for(self.len + 1) <= self.slots.len() {
            return;
        }
        let wanted = (self.slots.len() + self.slots.len() / 2).max(Self::slots_for(self.len + 1));
        self.resize(wanted);
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![KeySlot::EMPTY; slots]);
        self.len = 0;
        for slot in old.into_iter().filter(|s| !s.is_empty()) {
            self.place(slot);
        }
    }

    /// Puts a key known to be absent into a table with room for it.
    fn place(&mut self, entry: KeySlot) {
        self.place_from(self.home(entry.key), 0, entry);
    }

    /// [`place`](Self::place), starting `distance` slots past the key's home, at `at`:
    /// every slot before it holds a key at least as far from its own home (so placing
    /// from the home would pass them by, as [`seek`](Self::seek) found).
    fn place_from(&mut self, mut at: usize, mut distance: usize, mut entry: KeySlot) {
        for _ in 0..self.slots.len() {
            let theirs = match self.slots.get(at) {
                Some(slot) if slot.is_empty() => None,
                Some(slot) => Some(self.distance(at, slot.key)),
                None => return,
            };
            let Some(slot) = self.slots.get_mut(at) else {
                return;
            };
            match theirs {
                None => {
                    *slot = entry;
                    self.len += 1;
                    return;
                }
                // Robin Hood: the key nearer its home gives its place up and moves on.
                Some(theirs) if theirs < distance => {
                    std::mem::swap(slot, &mut entry);
                    distance = theirs;
                }
                Some(_) => {}
            }
            at = self.next(at);
            distance += 1;
        }
    }

    /// Files `patron` under `key` unless `filed` says the key's list already has them.
    pub(crate) fn insert_unless(
        &mut self,
        key: BlockingKey,
        patron: PatronId,
        filed: impl Fn(FiledPatrons<'_>) -> bool,
    ) {
        // Never fails: memory holds no patron past what a list keeps.
        let Some(patron) = key_id(patron) else {
            return;
        };
        let key = key.as_u64();
        let entry = KeySlot {
            key,
            posting: KeyPosting::one(patron),
        };
        let at = match self.seek(key) {
            Seek::Found(at) => at,
            // A new key goes where the search for it stopped, unless the table must
            // grow first (its slots then all move): one walk instead of two.
            Seek::Vacant { at, distance } if Self::slots_for(self.len + 1) <= self.slots.len() => {
                self.place_from(at, distance, entry);
                return;
            }
            Seek::Vacant { .. } | Seek::Unplaced => {
                self.reserve_one();
                self.place(entry);
                return;
            }
        };
        let Some(slot) = self.slots.get_mut(at) else {
            return;
        };
        let filed = |ids: &[u32]| filed(FiledPatrons { ids });
        if let Some(updated) = self.lists.add(slot.posting, patron, filed) {
            slot.posting = updated;
        }
        if self.lists.wasteful() {
            self.compact();
        }
    }

    /// The lists rewritten without holes.
    fn compact(&mut self) {
        let postings = self
            .slots
            .iter_mut()
            .filter(|slot| !slot.is_empty())
            .map(|slot| &mut slot.posting);
        self.lists.compact(postings);
    }

    /// Takes these patrons off every key, dropping the keys nobody is under any more
    /// (a walk over the whole table, which is then refiled, its lists rewritten
    /// without holes).
    pub(crate) fn remove_everywhere(&mut self, patrons: &[PatronId]) {
        let patrons: Vec<u32> = patrons.iter().copied().filter_map(key_id).collect();
        let patrons = patrons.as_slice();
        let mut kept = Vec::with_capacity(self.len);
        for mut slot in std::mem::take(&mut self.slots) {
            if slot.is_empty() {
                continue;
            }
            if let Some(posting) = self.lists.retain(slot.posting, patrons) {
                slot.posting = posting;
                kept.push(slot);
            }
        }
        self.len = 0;
        self.slots = if kept.is_empty() {
            Vec::new()
        } else {
            vec![KeySlot::EMPTY; Self::slots_for(kept.len())]
        };
        for slot in kept {
            self.place(slot);
        }
        self.compact();
    }

    /// Every key and its patrons, in no particular order.
    fn entries(&self) -> impl Iterator<Item = (BlockingKey, FiledPatrons<'_>)> {
        self.slots
            .iter()
            .filter(|slot| !slot.is_empty())
            .map(|slot| {
                (
                    BlockingKey::from_u64(slot.key),
                    Self::patrons(&self.lists, slot),
                )
            })
    }
}

impl fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

// Saved in key order, as `PostingMap` is: the same memory saves the same bytes.
impl Serialize for KeyTable {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(BlockingKey, FiledPatrons<'_>)> = self.entries().collect();
        entries.sort_unstable_by_key(|(key, _)| *key);
        serializer.collect_map(entries)
    }
}

impl<'de> Deserialize<'de> for KeyTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Reader;
        impl<'de> serde::de::Visitor<'de> for Reader {
            type Value = KeyTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from keys to patrons")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut table = KeyTable::default();
                // The hint comes from the input: bounded by the loading budget.
                let expected =
                    entries_to_reserve(map.size_hint().unwrap_or(0), size_of::<KeySlot>() + 1);
                // Room for a quarter more keys: a journal's tail replays into the table
                // right after, and growing a table of millions refiles every key.
                if expected > 0 {
                    let room = expected.saturating_add(expected / 4);
                    table.slots = vec![KeySlot::EMPTY; KeyTable::slots_for(room)];
                }
                while let Some((key, KeyIds(ids))) = map.next_entry::<BlockingKey, KeyIds>()? {
                    if table.find(key.as_u64()).is_some() {
                        return Err(serde::de::Error::custom("an index lists a key twice"));
                    }
                    let Some(posting) = read_posting(&mut table.lists, &ids)? else {
                        continue;
                    };
                    table.reserve_one();
                    table.place(KeySlot {
                        key: key.as_u64(),
                        posting,
                    });
                }
                Ok(table)
            }
        }
        deserializer.deserialize_map(Reader)
    }
}

/// A key's patrons as a [`KeyTable`] reads them from a snapshot: each id checked and
/// kept in four bytes as it is read, with no list of eight-byte ids on the way.
struct KeyIds(SmallVec<[u32; 2]>);

impl<'de> Deserialize<'de> for KeyIds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Reader;
        impl<'de> serde::de::Visitor<'de> for Reader {
            type Value = KeyIds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of patrons")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut ids = SmallVec::new();
                while let Some(patron) = seq.next_element::<PatronId>()? {
                    let id = key_id(patron).ok_or_else(|| {
                        serde::de::Error::custom("an index names a patron id out of range")
                    })?;
                    ids.push(id);
                }
                Ok(KeyIds(ids))
            }
        }
        deserializer.deserialize_seq(Reader)
    }
}

/// Identifiers that never count as evidence: the configured blocklist, plus the limit
/// past which an identifier is taken to be a placeholder (a box-office e-mail, the
/// venue's own phone).
#[derive(Debug, Clone)]
pub(crate) struct Neutralized {
    pub(crate) blocklist: HashSet<Identifier, ahash::RandomState>,
    pub(crate) shared_limit: usize,
}

impl Neutralized {
    /// Past this many patrons an identifier stops counting, unless configured otherwise.
    pub(crate) const DEFAULT_SHARED_LIMIT: usize = 6;
}

impl Default for Neutralized {
    fn default() -> Self {
        Self {
            blocklist: HashSet::default(),
            shared_limit: Self::DEFAULT_SHARED_LIMIT,
        }
    }
}

/// Counting the indexes for [`Footprint`](crate::Footprint) (a diagnostic walk).
impl State {
    /// The identifier index's table and lists (the keys' text is counted with the
    /// profiles, which share it).
    pub(crate) fn tally_identifier_index(&self, tally: &mut super::footprint::Tally) {
        self.identifiers.map.tally(tally);
    }

    /// The blocking index's slots and lists.
    pub(crate) fn tally_blocking_index(&self, tally: &mut super::footprint::Tally) {
        let map = &self.blocking.map;
        tally.block(
            map.len * size_of::<KeySlot>(),
            map.slots.capacity() * size_of::<KeySlot>(),
        );
        map.lists.tally(tally);
    }

    /// The compact copies of compared values.
    pub(crate) fn tally_comparison_keys(&self, tally: &mut super::footprint::Tally) {
        // The room each takes in its slot is counted with the slots.
        for (_, block) in self
            .slots
            .iter()
            .filter_map(|s| s.comparison.block.as_ref())
        {
            tally.text(block.len(), block.len());
        }
    }

    /// The neutralized identifiers' set.
    pub(crate) fn tally_neutralized(&self, tally: &mut super::footprint::Tally) {
        let set = &self.neutralized.blocklist;
        tally.table(set.len(), set.capacity(), size_of::<Identifier>());
    }
}

impl<K> PostingMap<K> {
    fn tally(&self, tally: &mut super::footprint::Tally) {
        let item = size_of::<K>() + size_of::<Posting>();
        tally.table(self.map.len(), self.map.capacity(), item);
        self.lists.tally(tally);
    }
}

/// Read-only access to memory's indexes, for [`Strategy`](crate::Strategy) implementations.
#[derive(Debug, Clone, Copy)]
pub struct IndexView<'a> {
    pub(crate) state: &'a State,
}

impl<'a> IndexView<'a> {
    /// The patrons that used this identifier, oldest first.
    pub fn patrons_with(&self, identifier: &Identifier) -> &'a [PatronId] {
        self.state.identifiers.get(identifier)
    }

    /// The patrons filed under a blocking key, oldest first (see
    /// [`Strategy::blocking_keys`](crate::Strategy::blocking_keys)): a view of the
    /// index's list, which keeps each id in four bytes.
    pub fn patrons_under(&self, key: BlockingKey) -> FiledPatrons<'a> {
        self.state.blocking.get(key)
    }

    /// The patrons filed under each of `keys`, in order, appended to `out`: looked up
    /// together, so that their cache misses overlap (see [`KeyTable::get_each`]).
    pub(crate) fn patrons_under_each(&self, keys: &[BlockingKey], out: &mut impl FiledOut<'a>) {
        self.state.blocking.map.get_each(keys, out);
    }

    /// How many patrons are filed under a blocking key, without reading their list.
    pub(crate) fn count_under(&self, key: BlockingKey) -> usize {
        self.state.blocking.count(key)
    }

    /// Whether this identifier must not count as evidence: it is on the blocklist, or more
    /// patrons than the configured limit use it.
    pub fn is_neutralized(&self, identifier: &Identifier) -> bool {
        self.counted_patrons_with(identifier).is_none()
    }

    /// The patrons that used this identifier, or `None` if it must not count as evidence
    /// (see [`is_neutralized`](Self::is_neutralized)): one lookup for both questions.
    pub(crate) fn counted_patrons_with(&self, identifier: &Identifier) -> Option<&'a [PatronId]> {
        let neutralized = &self.state.neutralized;
        let patrons = self.patrons_with(identifier);
        let blocked = patrons.len() > neutralized.shared_limit
            || (!neutralized.blocklist.is_empty() && neutralized.blocklist.contains(identifier));
        (!blocked).then_some(patrons)
    }

    /// The compact copy of a patron's compared values, if one is kept: current with the
    /// profile, as every write keeps it (see [`ComparisonKeys`]), so the profile is not
    /// read to check it.
    pub(crate) fn comparison_keys(&self, patron: &PatronView<'a>) -> Option<&'a str> {
        let (stamped, block) = self.stamped_block(patron)?;
        debug_assert_eq!(
            *stamped,
            stamp(&patron.record.profile),
            "a comparison block kept past a change to its profile"
        );
        Some(&**block)
    }

    /// [`comparison_keys`](Self::comparison_keys), only if its stamp says it was written
    /// from the profile as it is now (for the write path, which may find it otherwise).
    pub(crate) fn current_comparison_keys(&self, patron: &PatronView<'a>) -> Option<&'a str> {
        let (stamped, block) = self.stamped_block(patron)?;
        (*stamped == stamp(&patron.record.profile)).then_some(&**block)
    }

    /// The patron's comparison block in its slot, with the stamp of the profile it was
    /// written from.
    fn stamped_block(&self, patron: &PatronView<'a>) -> Option<&'a (u64, Box<str>)> {
        self.state.slots.get(patron.id())?.comparison.block.as_ref()
    }

    /// The live patron an index entry stands for (a merged id gives its survivor); `None`
    /// for an erased or unknown one.
    pub(crate) fn patron(&self, id: PatronId) -> Option<PatronView<'a>> {
        PatronView::live(self.state, id)
    }

    /// How many patrons memory holds (merged ones included), for frequency weights.
    pub fn patron_count(&self) -> usize {
        self.state.patrons.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(raw: &[u64]) -> Vec<PatronId> {
        raw.iter().copied().map(PatronId::from_u64).collect()
    }

    #[test]
    fn a_key_keeps_its_one_patron_inline_and_several_in_a_list() {
        let mut map: PostingMap<u64> = PostingMap::default();
        let filed = |list: &[PatronId], p: PatronId| list.contains(&p);
        map.insert_unless(7, PatronId::from_u64(1), |l| {
            filed(l, PatronId::from_u64(1))
        });
        assert_eq!(map.get(&7), ids(&[1]));
        assert!(map.lists.entries.is_empty(), "one patron needs no list");
        map.insert_unless(7, PatronId::from_u64(1), |l| {
            filed(l, PatronId::from_u64(1))
        });
        map.insert_unless(7, PatronId::from_u64(2), |l| {
            filed(l, PatronId::from_u64(2))
        });
        map.insert_unless(7, PatronId::from_u64(3), |l| {
            filed(l, PatronId::from_u64(3))
        });
        map.insert_unless(7, PatronId::from_u64(3), |l| {
            filed(l, PatronId::from_u64(3))
        });
        assert_eq!(map.get(&7), ids(&[1, 2, 3]));
        map.insert_unless(8, PatronId::from_u64(2), |l| {
            filed(l, PatronId::from_u64(2))
        });
        assert_eq!(map.get(&9), ids(&[]));

        // Down to one patron, the key goes back inline and its list's block (four
        // places) is a hole beside the one of two it grew from; the next lists of two
        // and of three or four take them.
        map.remove(&7, &ids(&[1, 3]));
        assert_eq!(map.get(&7), ids(&[2]));
        assert_eq!(map.lists.idle, 6);
        for patron in [4, 5] {
            map.insert_unless(8, PatronId::from_u64(patron), |l| {
                filed(l, PatronId::from_u64(patron))
            });
        }
        assert_eq!(map.get(&8), ids(&[2, 4, 5]));
        assert_eq!(map.lists.entries.len(), 6, "the hole was reused");
        assert_eq!(map.lists.idle, 2, "the list of two it grew from is a hole");
        tiles(&map.lists, map.map.values().copied());
    }

    /// The lists' blocks and the holes cover the arena exactly once: nothing is lost
    /// and no two lists share a place.
    fn tiles<P: Listing>(lists: &ListArena<P>, postings: impl Iterator<Item = P>) {
        let mut blocks: Vec<(usize, usize)> = postings
            .filter_map(P::list)
            .map(|(at, len)| (at, ListArena::<P>::block(len)))
            .collect();
        let mut idle = 0;
        for (class, holes) in lists.holes.iter().enumerate() {
            blocks.extend(holes.iter().map(|&at| (at as usize, 1 << class)));
            idle += holes.len() << class;
        }
        assert_eq!(idle, lists.idle);
        blocks.sort_unstable();
        let mut end = 0;
        for (at, size) in blocks {
            assert_eq!(at, end, "a gap or an overlap at {at}");
            assert_eq!(at % size.min(2), 0);
            end = at + size;
        }
        assert_eq!(end, lists.entries.len());
    }

    /// The postings of a table's filled slots.
    fn table_postings(table: &KeyTable) -> impl Iterator<Item = KeyPosting> + '_ {
        table
            .slots
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.posting)
    }

    /// A small deterministic generator for the mixes below.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn lists_grow_move_and_shrink_without_losing_a_place() {
        // Keys of very different lengths, filed in an interleaved order so that lists
        // move past each other's holes; then patrons taken off a few at a time.
        let mut map: PostingMap<u64> = PostingMap::default();
        let mut expected: HashMap<u64, Vec<PatronId>> = HashMap::new();
        let mut table = KeyTable::default();
        let mut state = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let key = next(&mut state) % 64;
            // Key k holds up to 4 * (k + 1) patrons.
            let patron = PatronId::from_u64(1 + next(&mut state) % (4 * (key + 1)));
            map.insert_unless(key, patron, |l| l.contains(&patron));
            table.insert_unless(BlockingKey::from_u64(key), patron, |l| l.contains(patron));
            let list = expected.entry(key).or_default();
            if !list.contains(&patron) {
                list.push(patron);
            }
        }
        for (key, list) in &expected {
            assert_eq!(map.get(key), list.as_slice(), "key {key}");
            assert_eq!(table.get(BlockingKey::from_u64(*key)), list.as_slice());
            assert_eq!(table.count(BlockingKey::from_u64(*key)), list.len());
        }
        tiles(&map.lists, map.map.values().copied());
        tiles(&table.lists, table_postings(&table));
        let live: usize = map
            .map
            .values()
            .map(|p| {
                p.list()
                    .map_or(0, |(_, len)| ListArena::<Posting>::block(len))
            })
            .sum();
        assert!(
            map.lists.idle <= live,
            "holes {} outgrew lists {live}",
            map.lists.idle
        );
        for round in 0..40 {
            let gone: Vec<PatronId> = (0..5)
                .map(|_| PatronId::from_u64(1 + next(&mut state) % 256))
                .collect();
            table.remove_everywhere(&gone);
            assert_eq!(table.lists.idle, 0);
            for key in 0..64u64 {
                map.remove(&key, &gone);
                if let Some(list) = expected.get_mut(&key) {
                    list.retain(|p| !gone.contains(p));
                    if list.is_empty() {
                        expected.remove(&key);
                    }
                }
            }
            for key in 0..64u64 {
                let want = expected.get(&key).map_or(&[][..], Vec::as_slice);
                assert_eq!(map.get(&key), want, "round {round}, key {key}");
                assert_eq!(table.get(BlockingKey::from_u64(key)), want);
            }
            tiles(&table.lists, table_postings(&table));
            tiles(&map.lists, map.map.values().copied());
            assert!(!map.lists.wasteful(), "round {round}: holes left standing");
        }
        assert_eq!(map.len(), expected.len());
    }

    /// A key table and the map it replaced, filed the same way.
    fn both(filings: &[(u64, u64)]) -> (KeyTable, PostingMap<BlockingKey>) {
        let mut table = KeyTable::default();
        let mut map: PostingMap<BlockingKey> = PostingMap::default();
        for &(key, patron) in filings {
            let (key, patron) = (BlockingKey::from_u64(key), PatronId::from_u64(patron));
            table.insert_unless(key, patron, |l| l.contains(patron));
            map.insert_unless(key, patron, |l| l.contains(&patron));
        }
        (table, map)
    }

    /// Keys that crowd a few home slots (their top bits agree), with some shared.
    fn crowded_filings(keys: u64) -> Vec<(u64, u64)> {
        (0..keys)
            .flat_map(|k| {
                let key = (k % 7) << 61 | k.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 8;
                let sharers = 1 + k % 4;
                (0..sharers).map(move |s| (key, 1 + (k * 3 + s) % 50))
            })
            .collect()
    }

    /// Each key's patrons are appended after what the list held, one entry a key (an
    /// empty one for a key nobody is filed under), over more keys than one batch, from
    /// an empty table and from a filled one, into either kind of list.
    #[test]
    fn patrons_under_each_key_are_appended_one_entry_a_key() {
        let empty = KeyTable::default();
        let filings = crowded_filings(300);
        let (table, map) = both(&filings);
        let keys: Vec<BlockingKey> = filings
            .iter()
            .map(|&(k, _)| BlockingKey::from_u64(k))
            .step_by(7)
            .chain([BlockingKey::from_u64(12_345)])
            .collect();
        assert!(keys.len() > KeyTable::BATCH * 2, "{} keys", keys.len());
        let held = FiledPatrons::of(&[7]);
        let mut small: SmallVec<[FiledPatrons<'_>; 4]> = SmallVec::from_slice(&[held]);
        empty.get_each(&keys, &mut small);
        assert_eq!(small.len(), keys.len() + 1);
        assert_eq!(small.first(), Some(&held));
        assert!(small.iter().skip(1).all(|filed| filed.is_empty()));
        let mut each = vec![held];
        table.get_each(&keys, &mut each);
        let expected: Vec<&[PatronId]> = keys.iter().map(|k| map.get(k)).collect();
        assert_eq!(each.first(), Some(&held));
        assert!(each.iter().skip(1).eq(expected.iter()));
    }

    #[test]
    fn a_key_table_finds_what_a_map_finds_and_saves_the_same_bytes() {
        let filings = crowded_filings(3_000);
        let (table, map) = both(&filings);
        let absent = (0..500u64).map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        for key in filings.iter().map(|&(k, _)| k).chain(absent) {
            let key = BlockingKey::from_u64(key);
            assert_eq!(table.get(key), map.get(&key), "key {key:?}");
            assert_eq!(table.count(key), map.get(&key).len());
        }
        let keys: Vec<BlockingKey> = filings
            .iter()
            .map(|&(k, _)| BlockingKey::from_u64(k))
            .step_by(5)
            .chain([BlockingKey::from_u64(12_345)])
            .collect();
        let mut each: Vec<FiledPatrons<'_>> = Vec::new();
        table.get_each(&keys, &mut each);
        let expected: Vec<&[PatronId]> = keys.iter().map(|k| map.get(k)).collect();
        assert!(each.iter().eq(expected.iter()));
        // Snapshots hold the same bytes whichever structure wrote them, and read back.
        let bytes = postcard::to_stdvec(&table).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&map).unwrap());
        let back: KeyTable = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_stdvec(&back).unwrap(), bytes);
        for &(key, _) in &filings {
            let key = BlockingKey::from_u64(key);
            assert_eq!(back.get(key), table.get(key));
        }
    }

    /// A growing key table is never more than four fifths full and, once past its
    /// smallest size, never less than half full right after it grows; read back, it
    /// keeps room for a quarter more keys, no more.
    #[test]
    fn a_key_table_stays_between_half_and_four_fifths_full() {
        let mut table = KeyTable::default();
        let mut slots = 0;
        for n in 0..60_000u64 {
            let key = BlockingKey::from_u64(n.wrapping_mul(0x2545_f491_4f6c_dd1d));
            table.insert_unless(key, PatronId::from_u64(n + 1), |_| false);
            assert!(table.len * 5 <= table.slots.len() * 4, "{n}");
            if table.slots.len() != slots {
                slots = table.slots.len();
                assert!(slots == KeyTable::MIN_SLOTS || table.len * 2 > slots, "{n}");
            }
        }
        let back: KeyTable = postcard::from_bytes(&postcard::to_stdvec(&table).unwrap()).unwrap();
        assert_eq!(back.len, table.len);
        assert_eq!(
            back.slots.len(),
            KeyTable::slots_for(table.len + table.len / 4)
        );
        for n in (0..60_000u64).step_by(7) {
            let key = BlockingKey::from_u64(n.wrapping_mul(0x2545_f491_4f6c_dd1d));
            assert_eq!(back.get(key), [PatronId::from_u64(n + 1)]);
        }
    }

    /// Filing a new key where the search for it stopped lays the table out exactly as
    /// placing it from its home would: the same slots, so the same walks for every
    /// lookup after.
    #[test]
    fn a_new_key_lands_where_placing_it_from_its_home_would_put_it() {
        let mut filed = KeyTable::default();
        // The same homes for both.
        let mut placed = KeyTable {
            seed: filed.seed,
            ..KeyTable::default()
        };
        for (key, patron) in crowded_filings(20_000) {
            let key = BlockingKey::from_u64(key);
            let patron = PatronId::from_u64(patron);
            filed.insert_unless(key, patron, |p| p.contains(patron));
            if placed.find(key.as_u64()).is_none() {
                placed.reserve_one();
                placed.place(KeySlot {
                    key: key.as_u64(),
                    posting: KeyPosting::one(key_id(patron).unwrap()),
                });
            }
            let at = filed.find(key.as_u64()).unwrap();
            assert_eq!(placed.find(key.as_u64()), Some(at), "{key:?}");
        }
        assert_eq!(filed.len, placed.len);
        let keys = |table: &KeyTable| table.slots.iter().map(|s| s.key).collect::<Vec<_>>();
        assert_eq!(keys(&filed), keys(&placed));
    }

    #[test]
    fn keys_crafted_to_share_a_home_slot_do_not_pile_up() {
        // Keys whose Fibonacci home (the fixed multiplier a vendor could know) is the
        // same slot for any table size up to 2^20: placement by the table's own keyed
        // hash spreads them like any other keys.
        const FIBONACCI: u64 = 0x9e37_79b9_7f4a_7c15;
        let inverse = (0..6).fold(FIBONACCI, |x, _| {
            x.wrapping_mul(2u64.wrapping_sub(FIBONACCI.wrapping_mul(x)))
        });
        assert_eq!(FIBONACCI.wrapping_mul(inverse), 1);
        let mut table = KeyTable::default();
        for n in 0..4_000u64 {
            let key = BlockingKey::from_u64((n + 1).wrapping_mul(inverse));
            table.insert_unless(key, PatronId::from_u64(n), |_| false);
        }
        let farthest = (0..table.slots.len())
            .filter(|&at| !table.slots[at].is_empty())
            .map(|at| table.distance(at, table.slots[at].key))
            .max();
        assert!(farthest.is_some_and(|d| d < 64), "{farthest:?}");
        for n in 0..4_000u64 {
            let key = BlockingKey::from_u64((n + 1).wrapping_mul(inverse));
            assert_eq!(table.get(key), [PatronId::from_u64(n)]);
        }
    }

    #[test]
    fn a_key_table_takes_patrons_off_everywhere_and_keeps_the_rest() {
        let filings = crowded_filings(2_000);
        let (mut table, _) = both(&filings);
        let gone = ids(&[1, 2, 3, 10, 49]);
        table.remove_everywhere(&gone);
        let kept: Vec<(u64, u64)> = filings
            .iter()
            .copied()
            .filter(|&(_, p)| !gone.contains(&PatronId::from_u64(p)))
            .collect();
        let (_, expected) = both(&kept);
        assert_eq!(
            postcard::to_stdvec(&table).unwrap(),
            postcard::to_stdvec(&expected).unwrap()
        );
        for &(key, _) in &filings {
            let key = BlockingKey::from_u64(key);
            assert_eq!(table.get(key), expected.get(&key));
            for patron in table.get(key) {
                assert!(!gone.contains(&patron));
            }
        }
        // The lists are rewritten without holes, each in the smallest block it fits.
        assert_eq!(table.lists.idle, 0);
        tiles(
            &table.lists,
            table
                .slots
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.posting),
        );
        table.insert_unless(BlockingKey::from_u64(77), PatronId::from_u64(1), |_| false);
        table.insert_unless(BlockingKey::from_u64(77), PatronId::from_u64(2), |_| false);
        assert_eq!(table.get(BlockingKey::from_u64(77)), ids(&[1, 2]));
        // Everyone gone leaves nothing.
        let everyone: Vec<PatronId> = (1..=50).map(PatronId::from_u64).collect();
        table.remove_everywhere(&everyone);
        assert!(table.entries().next().is_none());
        assert_eq!(table.get(BlockingKey::from_u64(77)), ids(&[]));
    }

    #[test]
    fn a_key_table_refuses_forged_snapshots() {
        let fine = postcard::to_stdvec(&vec![(3u64, vec![1u64, 2]), (4, vec![2])]).unwrap();
        let table = postcard::from_bytes::<KeyTable>(&fine).unwrap();
        assert_eq!(table.get(BlockingKey::from_u64(3)), ids(&[1, 2]));
        // Lists keep four-byte ids: an id past the most patrons memory holds is refused,
        // the last one it holds is read back.
        let most = crate::model::ids::MAX_PATRONS as u64;
        for forged in [Posting::LIST | 5, u64::from(u32::MAX), 1 << 32, most + 1] {
            let one = postcard::to_stdvec(&vec![(3u64, vec![forged])]).unwrap();
            assert!(postcard::from_bytes::<KeyTable>(&one).is_err(), "{forged}");
            let listed = postcard::to_stdvec(&vec![(3u64, vec![1, forged])]).unwrap();
            assert!(
                postcard::from_bytes::<KeyTable>(&listed).is_err(),
                "{forged}"
            );
        }
        let last = postcard::to_stdvec(&vec![(3u64, vec![1, most]), (4, vec![most])]).unwrap();
        let table = postcard::from_bytes::<KeyTable>(&last).unwrap();
        assert_eq!(table.get(BlockingKey::from_u64(3)), ids(&[1, most]));
        assert_eq!(table.get(BlockingKey::from_u64(4)), ids(&[most]));
        assert_eq!(postcard::to_stdvec(&table).unwrap(), last);
        let twice = postcard::to_stdvec(&vec![(3u64, vec![1u64]), (3, vec![2])]).unwrap();
        assert!(postcard::from_bytes::<KeyTable>(&twice).is_err());
        // A key nobody is filed under is skipped.
        let empty = postcard::to_stdvec(&vec![(3u64, Vec::<u64>::new()), (4, vec![9])]).unwrap();
        let table = postcard::from_bytes::<KeyTable>(&empty).unwrap();
        assert_eq!(table.get(BlockingKey::from_u64(3)), ids(&[]));
        assert_eq!(table.get(BlockingKey::from_u64(4)), ids(&[9]));
    }

    #[test]
    fn postings_save_as_lists_and_refuse_ids_out_of_range() {
        let mut map: PostingMap<u64> = PostingMap::default();
        for (key, patron) in [(1, 10), (1, 11), (2, 12)] {
            map.insert_unless(key, PatronId::from_u64(patron), |_| false);
        }
        let json = serde_json::to_value(&map).unwrap();
        assert_eq!(json["1"], serde_json::json!([10, 11]));
        assert_eq!(json["2"], serde_json::json!([12]));
        let bytes = postcard::to_stdvec(&map).unwrap();
        let back: PostingMap<u64> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.get(&1), ids(&[10, 11]));
        assert_eq!(back.get(&2), ids(&[12]));
        // An id with the list mark set would read as a list position: refused.
        let forged = postcard::to_stdvec(&[(3u64, vec![Posting::LIST | 5])]).unwrap();
        assert!(postcard::from_bytes::<PostingMap<u64>>(&forged).is_err());
        let twice = postcard::to_stdvec(&[(3u64, vec![1u64]), (3, vec![2])]).unwrap();
        assert!(postcard::from_bytes::<PostingMap<u64>>(&twice).is_err());
    }
}
