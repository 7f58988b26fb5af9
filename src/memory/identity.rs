//! The identity graph: merges and splits, pins that automatic decisions respect, the
//! review queue, and the change feed the embedding product consumes.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::Memory;
use super::command::Command;
use super::derive;
use super::format_switch::Raised;
use super::limits::Limits;
use super::state::{MergedInto, PatronRecord, State, slot};
use crate::error::{Error, Result};
use crate::model::history::Entry;
use crate::model::ids::{CompactPatronId, EventId, PatronId};
use crate::model::profile::Profile;
use crate::model::sparse::Sparse;
use crate::recognize::{
    Candidate, Evidence, EvidenceItem, Field, Recognition, Strategy, only_the_home_agrees,
    person_agrees, person_conflict,
};
use crate::signals::NormalizedSignals;

/// Why two patrons were merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MergeCause {
    /// [`Memory::merge`] was called.
    Manual,
    /// A record carried enough evidence for both (see [`Thresholds::merge`](crate::Thresholds::merge)),
    /// or taught one patron of an open [review](ReviewItem) enough that its profile now
    /// matches the other's as surely as a record is linked.
    Automatic {
        /// The event whose record proved it.
        event: EventId,
    },
    /// A review item was resolved as the same person.
    Review {
        /// The review item.
        review: u64,
    },
    /// [`Memory::pin_together`] was called.
    Pinned,
}

/// One change to who is who, in the order memory made them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IdentityChange {
    /// `absorbed` now forwards to `survivor`.
    Merged {
        /// The patron that remains.
        survivor: PatronId,
        /// The patron merged into it; its id forwards to the survivor.
        absorbed: PatronId,
        /// Why.
        cause: MergeCause,
    },
    /// A merge was undone: `restored` is its own patron again.
    Split {
        /// The patron `restored` had been merged into.
        survivor: PatronId,
        /// The patron split off again, with its own history.
        restored: PatronId,
    },
    /// Two patrons share contact details but are different people.
    Household {
        /// One of them.
        a: PatronId,
        /// The other.
        b: PatronId,
    },
    /// The patron was erased ([`Memory::erase`]): the id answers nothing any more and
    /// everything held under it elsewhere should go too.
    Erased {
        /// The erased id (one change per id merged into the erased person too).
        patron: PatronId,
    },
}

/// A record memory was unsure about: it was kept on a provisional patron, and a person
/// should say whether that patron is one of the candidates.
///
/// Memory settles an item itself when later records prove it: each time a record is
/// linked to the provisional patron or to a candidate, the provisional patron's profile
/// is compared with each candidate's, as if it were one record, and merged into the one
/// it now matches as surely as a Known record (over the raised Known threshold, leading
/// the other candidates by the margin, its given name or birth date agreeing, nothing
/// beyond the names speaking against it, nothing saying they are two people, not pinned
/// apart). A shared home is not enough when each has an e-mail or phone the other never
/// used: a father and a son of one name look just like that.
/// The merge appears in [`Memory::identity_changes`] as
/// [`MergeCause::Automatic`], and [`Memory::split`] undoes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub(crate) id: u64,
    pub(crate) patron: PatronId,
    pub(crate) event: EventId,
    pub(crate) at: DateTime<Utc>,
    // Exactly as many as queued: a vector grown from one to two candidates keeps room
    // for four, and each candidate's evidence is some 400 bytes.
    pub(crate) candidates: Box<[Candidate]>,
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<ReviewItem>() == 64);

impl ReviewItem {
    /// The item's id, for [`Memory::resolve_review`].
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The provisional patron holding the record.
    pub fn patron(&self) -> PatronId {
        self.patron
    }
    /// The event whose record was uncertain.
    pub fn event(&self) -> &EventId {
        &self.event
    }
    /// When it was queued (the event's time).
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
    /// The patrons it might be, best first, with the evidence for each.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }
}

/// How a person resolved a review item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReviewDecision {
    /// The provisional patron is this patron: merge them.
    SamePerson(PatronId),
    /// The provisional patron is none of the candidates: pin them apart, so automatic
    /// decisions never join them.
    Different,
}

/// The record of one merge, kept so it can be undone.
#[derive(Clone, Debug)]
pub(crate) struct MergeRecord {
    pub(crate) survivor: PatronId,
    /// The survivor as it was just before the merge.
    pub(crate) survivor_before: Box<SurvivorBefore>,
}

/// What a split needs of the survivor as it was just before the merge (its own history
/// back in its own order, its profile, its age) and erasure (the identifiers, names and
/// household links that copy still names). Figures, attendance and the rest of the
/// record are derived again from the history when a split restores it, so they are not
/// kept: a copy per merge.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SurvivorBefore {
    #[serde(with = "super::binary_time")]
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) profile: Profile,
    pub(crate) history: Vec<Entry>,
    pub(crate) household: Sparse<PatronId>,
}

impl SurvivorBefore {
    /// What is kept of `record`.
    fn of(record: &PatronRecord) -> Self {
        Self {
            created_at: record.created_at,
            profile: record.profile.clone(),
            history: record.history.clone(),
            household: record.household.clone(),
        }
    }
}

thread_local! {
    /// Whether merge records read or written on this thread hold the survivor's whole
    /// record (see [`WholeMergeCopies`]).
    static WHOLE_MERGE_COPIES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While the guard `start` returns is alive, merge records read on this thread are
/// expected to hold the survivor's whole record, as snapshots before version 7 saved
/// them (and are written so, as those were: what is not kept is written as a new
/// patron's).
pub(crate) struct WholeMergeCopies;

impl WholeMergeCopies {
    pub(crate) fn start() -> Raised {
        Raised::raise(&WHOLE_MERGE_COPIES)
    }
}

/// A merge record as snapshots save it: `S` is how the survivor's copy is saved (whole
/// before version 7).
#[derive(Serialize, Deserialize)]
#[serde(rename = "MergeRecord")]
struct SavedMergeRecord<S> {
    survivor: PatronId,
    survivor_before: S,
}

impl Serialize for MergeRecord {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        if WHOLE_MERGE_COPIES.get() {
            let before = &*self.survivor_before;
            let mut record = PatronRecord::new(before.created_at);
            record.profile = before.profile.clone();
            record.history = before.history.clone();
            record.household = before.household.clone();
            return SavedMergeRecord {
                survivor: self.survivor,
                survivor_before: record.saved_as(self.survivor),
            }
            .serialize(serializer);
        }
        SavedMergeRecord {
            survivor: self.survivor,
            survivor_before: &*self.survivor_before,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MergeRecord {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        if WHOLE_MERGE_COPIES.get() {
            let whole = SavedMergeRecord::<PatronRecord>::deserialize(deserializer)?;
            let record = whole.survivor_before;
            return Ok(Self {
                survivor: whole.survivor,
                survivor_before: Box::new(SurvivorBefore {
                    created_at: record.created_at,
                    profile: record.profile,
                    history: record.history,
                    household: record.household,
                }),
            });
        }
        let saved = SavedMergeRecord::<Box<SurvivorBefore>>::deserialize(deserializer)?;
        Ok(Self {
            survivor: saved.survivor,
            survivor_before: saved.survivor_before,
        })
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub(crate) merges: BTreeMap<PatronId, MergeRecord>,
    #[serde(serialize_with = "save_pins_in_order")]
    pub(crate) apart: HashSet<(PatronId, PatronId), ahash::RandomState>,
    #[serde(serialize_with = "save_pins_in_order")]
    pub(crate) together: HashSet<(PatronId, PatronId), ahash::RandomState>,
    pub(crate) changes: Vec<IdentityChange>,
    pub(crate) reviews: BTreeMap<u64, ReviewItem>,
    pub(crate) next_review: u64,
    /// Configuration, not memory: set by the builder, never saved.
    #[serde(skip)]
    pub(crate) review_limit: usize,
    /// At least the longest live history, kept so the history limit is only checked
    /// against recognition when some patron is near it; `None` when not known yet (after
    /// a snapshot is loaded). Not memory: derived, never saved.
    #[serde(skip)]
    pub(crate) longest_history: Option<usize>,
    /// The open review items each patron is in (as the provisional patron or as a
    /// candidate), by the id the item names; `None` until first needed (after a snapshot
    /// is loaded). Not memory: derived, never saved. Entries of items that left the queue
    /// may linger; lookups skip them.
    #[serde(skip)]
    pub(crate) reviews_by_patron: Option<ReviewsByPatron>,
}

/// Saves pinned pairs in order, not the hash set's (which depends on its random hasher),
/// so the same memory saves the same bytes.
fn save_pins_in_order<S: serde::Serializer>(
    pins: &HashSet<(PatronId, PatronId), ahash::RandomState>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut pins: Vec<_> = pins.iter().collect();
    pins.sort_unstable();
    serializer.collect_seq(pins)
}

/// Whether something beyond the names is exactly the same on both sides.
fn something_shared(evidence: &Evidence) -> bool {
    crate::recognize::agrees_exactly_beyond_names(evidence)
}

/// Review item ids by patron.
pub(crate) type ReviewsByPatron = HashMap<PatronId, SmallVec<[u64; 2]>, ahash::RandomState>;

/// The most names, and addresses, of a patron compared with the other patron of a review
/// when it is checked again: the latest ones.
const RECHECKED_NAMES: usize = 4;
const RECHECKED_ADDRESSES: usize = 2;

impl ReviewItem {
    /// Keeps only the candidates `keep` accepts, in their order (without spare room).
    pub(crate) fn retain_candidates(&mut self, keep: impl FnMut(&Candidate) -> bool) {
        let mut kept = std::mem::take(&mut self.candidates).into_vec();
        kept.retain(keep);
        self.candidates = kept.into_boxed_slice();
    }

    /// The provisional patron and every candidate, as the item names them.
    fn members(&self) -> impl Iterator<Item = PatronId> + '_ {
        std::iter::once(self.patron).chain(self.candidates.iter().map(Candidate::patron))
    }
}

impl Identity {
    /// The review index, built from the queue if it is not yet.
    fn reviews_by_patron(&mut self) -> &mut ReviewsByPatron {
        let reviews = &self.reviews;
        self.reviews_by_patron.get_or_insert_with(|| {
            let mut index = ReviewsByPatron::default();
            for item in reviews.values() {
                for member in item.members() {
                    index.entry(member).or_default().push(item.id);
                }
            }
            index
        })
    }

    /// Takes a review item out of the queue and the index.
    fn remove_review(&mut self, review: u64) -> Option<ReviewItem> {
        let item = self.reviews.remove(&review)?;
        if let Some(index) = &mut self.reviews_by_patron {
            for member in item.members() {
                if let Some(ids) = index.get_mut(&member) {
                    ids.retain(|id| *id != review);
                    if ids.is_empty() {
                        index.remove(&member);
                    }
                }
            }
        }
        Some(item)
    }
}

/// The most household links one patron keeps: a shared placeholder would otherwise link
/// everyone with everyone.
const MAX_HOUSEHOLD: usize = 16;

fn pair(a: PatronId, b: PatronId) -> (PatronId, PatronId) {
    if a <= b { (a, b) } else { (b, a) }
}

impl State {
    /// Every original id that now stands for `live`, itself included.
    pub(crate) fn cluster(&self, live: PatronId) -> SmallVec<[PatronId; 2]> {
        let mut out: SmallVec<[PatronId; 2]> = smallvec::smallvec![live];
        let mut i = 0;
        while i < out.len() && out.len() < 4096 {
            if let Some(record) = self.patron(out[i]) {
                out.extend(record.absorbed.iter().copied());
            }
            i += 1;
        }
        out
    }

    /// Whether any member of one patron's cluster is pinned apart from any of the other's.
    pub(crate) fn pinned_apart(&self, a: PatronId, b: PatronId) -> bool {
        if self.identity.apart.is_empty() {
            return false;
        }
        let (ca, cb) = (self.cluster(self.live(a)), self.cluster(self.live(b)));
        ca.iter().any(|&x| {
            cb.iter()
                .any(|&y| self.identity.apart.contains(&pair(x, y)))
        })
    }

    /// Errors unless the patron exists and was not erased.
    pub(crate) fn require(&self, id: PatronId) -> Result<()> {
        self.patron(id).ok_or(Error::UnknownPatron(id))?;
        if self.is_erased(id) {
            return Err(Error::ErasedPatron(id));
        }
        Ok(())
    }

    /// Merges `absorbed` into `survivor` (both live). Cannot fail once called.
    pub(crate) fn merge_live(
        &mut self,
        survivor: PatronId,
        absorbed: PatronId,
        cause: MergeCause,
        limits: &Limits,
    ) {
        let (Some(s), Some(a)) = (self.patron(survivor), self.patron(absorbed)) else {
            return;
        };
        let before = Box::new(SurvivorBefore::of(s));
        let taken = a.clone();
        let tables = derive::Tables {
            catalog: &self.catalog,
            tickets: &self.tickets,
            orders: &self.orders,
            prices: &self.prices,
        };
        let Some(record) = slot(survivor).and_then(|i| self.patrons.get_mut(i)) else {
            return;
        };
        // History in time order; equal times keep the survivor's first (stable sort).
        record.history.extend(taken.history.iter().cloned());
        record.history.sort_by_key(|i| i.at());
        let profile = &mut record.profile;
        // Within the limits: the survivor's names and identifiers first, the newest
        // addresses last (the oldest go).
        for name in &taken.profile.names {
            if profile.names.len() < limits.max_names_per_patron()
                && !profile.names.iter().any(|n| n.same_keys(name))
            {
                profile.names.push(name.clone());
            }
        }
        for identifier in &taken.profile.identifiers {
            if profile.identifiers.len() < limits.max_identifiers_per_patron()
                && !profile.identifiers.contains(identifier)
            {
                profile.identifiers.push(identifier.clone());
            }
        }
        for address in &taken.profile.addresses {
            if !profile.addresses.contains(address) {
                profile.addresses.push(address.clone());
            }
        }
        let excess = profile
            .addresses
            .len()
            .saturating_sub(limits.max_addresses_per_patron());
        profile.addresses.drain(..excess);
        if profile.birth_date.is_none() {
            profile.birth_date = taken.profile.birth_date;
        }
        for consent in &taken.profile.consents {
            profile.apply(crate::ProfileChange::Consent(*consent));
        }
        for flag in &taken.profile.flags {
            if !profile.flags.iter().any(|f| f.kind() == flag.kind()) {
                profile.flags.push(flag.clone());
            }
        }
        profile.notes.extend(taken.profile.notes.iter().cloned());
        if profile.preferences == Default::default() {
            profile.preferences = taken.profile.preferences.clone();
        }
        for &h in &taken.household {
            if h != survivor
                && !record.household.contains(&h)
                && record.household.len() < MAX_HOUSEHOLD
            {
                record.household.push(h);
            }
        }
        record.household.retain(|h| *h != absorbed);
        record.absorbed.push(absorbed);
        record.created_at = record.created_at.min(taken.created_at);
        derive::rebuild(record, tables);
        let merged_len = record.history.len();
        if let Some(longest) = &mut self.identity.longest_history {
            *longest = (*longest).max(merged_len);
        }
        self.set_merged_into(absorbed, MergedInto::into_survivor(survivor));
        self.refresh_held(survivor);
        self.identity.merges.insert(
            absorbed,
            MergeRecord {
                survivor,
                survivor_before: before,
            },
        );
        self.identity.changes.push(IdentityChange::Merged {
            survivor,
            absorbed,
            cause,
        });
        // Recognition compares the survivor's profile as it now is.
        self.refresh_comparison_keys(survivor);
    }

    /// Links two different people who share contact details.
    pub(crate) fn link_household(&mut self, a: PatronId, b: PatronId) {
        let (a, b) = (self.live(a), self.live(b));
        // Nobody is linked to an erased or opted-out patron: that too is learning.
        if a == b || self.holds_back(a) || self.holds_back(b) {
            return;
        }
        let mut linked = false;
        for (x, y) in [(a, b), (b, a)] {
            if let Some(record) = self.patron_mut(x)
                && !record.household.contains(&y)
                && record.household.len() < MAX_HOUSEHOLD
            {
                record.household.push(y);
                linked = true;
            }
        }
        if linked {
            self.identity.changes.push(IdentityChange::Household {
                a: a.min(b),
                b: a.max(b),
            });
        }
    }
}

fn remove_one<T: PartialEq>(from: &mut Vec<T>, item: &T) {
    if let Some(i) = from.iter().position(|x| x == item) {
        from.remove(i);
    }
}

/// The direct survivor's profile after a split: as it was before the merge, plus what it
/// learned since that the absorbed patron did not bring.
fn restore_profile(current: &Profile, before: &Profile, brought: &Profile) -> Profile {
    let mut profile = before.clone();
    for name in &current.names {
        let known = |names: &[crate::PersonName]| names.iter().any(|n| n.same_keys(name));
        if !known(&profile.names) && !known(&brought.names) {
            profile.names.push(name.clone());
        }
    }
    for identifier in &current.identifiers {
        if !profile.identifiers.contains(identifier) && !brought.identifiers.contains(identifier) {
            profile.identifiers.push(identifier.clone());
        }
    }
    for address in &current.addresses {
        if !profile.addresses.contains(address) && !brought.addresses.contains(address) {
            profile.addresses.push(address.clone());
        }
    }
    if profile.birth_date.is_none() && current.birth_date != brought.birth_date {
        profile.birth_date = current.birth_date;
    }
    for consent in &current.consents {
        if !brought.consents.contains(consent) {
            profile.apply(crate::ProfileChange::Consent(*consent));
        }
    }
    for flag in &current.flags {
        if !profile.flags.contains(flag) && !brought.flags.contains(flag) {
            profile.flags.push(flag.clone());
        }
    }
    let mut notes = current.notes.to_vec();
    for note in before.notes.iter().chain(&brought.notes) {
        remove_one(&mut notes, note);
    }
    profile.notes.extend(notes);
    if current.preferences != brought.preferences {
        profile.preferences = current.preferences.clone();
    }
    profile
}

/// Drops from the profile of a patron the direct survivor was merged into since what the
/// split patron brought and the direct survivor did not have before. (Consents, birth
/// date and preferences stay: that patron may have given them itself.)
fn drop_brought(profile: &mut Profile, before: &Profile, brought: &Profile) {
    let has = |names: &[crate::PersonName], name: &crate::PersonName| {
        names.iter().any(|n| n.same_keys(name))
    };
    profile
        .names
        .retain(|name| !has(&brought.names, name) || has(&before.names, name));
    profile
        .identifiers
        .retain(|i| !brought.identifiers.contains(i) || before.identifiers.contains(i));
    profile
        .addresses
        .retain(|a| !brought.addresses.contains(a) || before.addresses.contains(a));
    profile
        .flags
        .retain(|f| !brought.flags.contains(f) || before.flags.contains(f));
    for note in &brought.notes {
        if !before.notes.contains(note) {
            let mut notes = profile.notes.take();
            remove_one(&mut notes, note);
            profile.notes.extend(notes);
        }
    }
}

impl Memory {
    /// Merges patron `absorbed` into `survivor`: one history, one profile, figures
    /// recomputed. `absorbed`'s id forwards to the survivor from now on, and
    /// [`split`](Self::split) undoes it. Either id may already be merged into another; the
    /// patrons they stand for now are merged. Merging a patron with itself does nothing.
    ///
    /// Errors: an unknown patron, or patrons [pinned apart](Self::pin_apart).
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let a = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?.patron();
    /// let b = memory.observe(Event::order("e-2", Order::new("o-2", Signals::new().phone("+46 70 123 45 67"))))?.patron();
    /// let survivor = memory.merge(a, b)?;
    /// assert_eq!(survivor, a);
    /// assert_eq!(memory.patron(b).unwrap().id(), a); // b forwards to a
    /// assert_eq!(memory.patron(a).unwrap().stats().orders(), 2);
    /// memory.split(b)?;
    /// assert_eq!(memory.patron(b).unwrap().stats().orders(), 1);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn merge(&mut self, survivor: PatronId, absorbed: PatronId) -> Result<PatronId> {
        let pending = self.begin(&Command::Merge { survivor, absorbed })?;
        let changed = self.state.live(survivor) != self.state.live(absorbed);
        let survivor = self.merge_with_cause(survivor, absorbed, MergeCause::Manual)?;
        self.commit(pending, changed)?;
        Ok(survivor)
    }

    pub(crate) fn merge_with_cause(
        &mut self,
        survivor: PatronId,
        absorbed: PatronId,
        cause: MergeCause,
    ) -> Result<PatronId> {
        let state = &mut self.state;
        state.require(survivor)?;
        state.require(absorbed)?;
        let (s, a) = (state.live(survivor), state.live(absorbed));
        if s == a {
            return Ok(s);
        }
        if state.pinned_apart(s, a) {
            return Err(Error::PinnedApart(survivor, absorbed));
        }
        // Figures are recomputed from the joint history, so it must fit whole.
        let len = |id| state.patron(id).map_or(0, |r| r.history.len());
        let (kept, adding) = (len(s), len(a));
        let max = self.limits.max_history_per_patron();
        if kept.saturating_add(adding) > max {
            return Err(Error::HistoryFull {
                location: format!("merge of patrons {s} and {a}"),
                patron: s,
                len: kept,
                adding,
                max,
            });
        }
        state.merge_live(s, a, cause, &self.limits);
        Ok(s)
    }

    /// Undoes the merge of `absorbed`: it becomes its own patron again with the history
    /// and profile it brought, and the patron it was merged into loses them. What arrived
    /// after the merge stays with that patron. This holds along chains too: if that
    /// patron took in others or was merged on since, they keep what they brought, and
    /// every interaction stays with exactly one patron. Returns the live patron it was
    /// split from.
    ///
    /// Errors: an unknown patron, one that was never merged, or a merge pinned together.
    pub fn split(&mut self, absorbed: PatronId) -> Result<PatronId> {
        let pending = self.begin(&Command::Split { absorbed })?;
        let survivor = self.split_merge(absorbed)?;
        self.commit(pending, true)?;
        Ok(survivor)
    }

    fn split_merge(&mut self, absorbed: PatronId) -> Result<PatronId> {
        let state = &mut self.state;
        state.require(absorbed)?;
        let Some(merge) = state.identity.merges.get(&absorbed) else {
            return Err(Error::NotMerged(absorbed));
        };
        let survivor = state.live(merge.survivor);
        if state
            .identity
            .together
            .contains(&pair(merge.survivor, absorbed))
        {
            return Err(Error::PinnedTogether(merge.survivor, absorbed));
        }
        let Some(merge) = state.identity.merges.remove(&absorbed) else {
            return Err(Error::NotMerged(absorbed));
        };
        let before = merge.survivor_before;
        let Some(taken) = state.patron(absorbed).cloned() else {
            return Err(Error::UnknownPatron(absorbed));
        };
        // The patron `absorbed` was merged into, and every patron that one was merged into
        // since, up to the live survivor: each holds what `absorbed` brought, and each
        // gives it back, so that a later split of any of them restores nothing twice.
        let direct = merge.survivor;
        let mut chain: SmallVec<[PatronId; 2]> = smallvec::smallvec![direct];
        while let Some(next) = chain
            .last()
            .and_then(|&id| state.patron(id))
            .and_then(|r| r.merged_into.get())
            .map(CompactPatronId::get)
            .filter(|_| chain.len() < 64)
        {
            chain.push(next);
        }
        // The direct survivor is as old as it was before the merge, or as the patrons it
        // took in since (each is as old as its own oldest member).
        let created_at = state.patron(direct).map_or(before.created_at, |record| {
            record
                .absorbed
                .iter()
                .filter(|&&p| p != absorbed)
                .filter_map(|&p| state.patron(p))
                .map(|r| r.created_at)
                .fold(before.created_at, DateTime::min)
        });
        let tables = derive::Tables {
            catalog: &state.catalog,
            tickets: &state.tickets,
            orders: &state.orders,
            prices: &state.prices,
        };
        for &id in &chain {
            let Some(record) = slot(id).and_then(|i| state.patrons.get_mut(i)) else {
                continue;
            };
            // What the merge brought leaves, one copy per copy brought; whatever arrived
            // after it stays (those records were linked to the merged patron).
            let mut remaining = std::mem::take(&mut record.history);
            for interaction in &taken.history {
                remove_one(&mut remaining, interaction);
            }
            if id == direct {
                // The direct survivor's own interactions go back in the order it had
                // them, then what arrived since.
                let mut history = Vec::with_capacity(remaining.len());
                for interaction in &before.history {
                    if let Some(i) = remaining.iter().position(|x| x == interaction) {
                        history.push(remaining.remove(i));
                    }
                }
                history.extend(remaining);
                record.history = history;
                record.profile = restore_profile(&record.profile, &before.profile, &taken.profile);
                record.absorbed.retain(|p| *p != absorbed);
                record.created_at = created_at;
            } else {
                record.history = remaining;
                drop_brought(&mut record.profile, &before.profile, &taken.profile);
            }
            derive::rebuild(record, tables);
        }
        // The other merges into the chain remember their survivor as it was then, perhaps
        // with what `absorbed` brought: that goes too, or undoing them would bring it back.
        let later: SmallVec<[PatronId; 4]> = chain
            .iter()
            .filter_map(|&id| state.patron(id))
            .flat_map(|record| record.absorbed.iter().copied())
            .filter(|&p| p != absorbed)
            .collect();
        for p in later {
            if let Some(merge) = state.identity.merges.get_mut(&p) {
                let earlier = &mut merge.survivor_before;
                for interaction in &taken.history {
                    remove_one(&mut earlier.history, interaction);
                }
                drop_brought(&mut earlier.profile, &before.profile, &taken.profile);
            }
        }
        state.set_merged_into(absorbed, MergedInto::NOT);
        state.refresh_held(survivor);
        state.refresh_held(absorbed);
        state.identity.changes.push(IdentityChange::Split {
            survivor,
            restored: absorbed,
        });
        // Both profiles changed: recognition compares them as they now are.
        state.refresh_comparison_keys(survivor);
        state.refresh_comparison_keys(absorbed);
        Ok(survivor)
    }

    /// Pins two patrons apart: they are never merged, automatically or by
    /// [`merge`](Self::merge), until [`unpin`](Self::unpin). Errors if they are one patron
    /// now (split them first) or unknown.
    pub fn pin_apart(&mut self, a: PatronId, b: PatronId) -> Result<()> {
        let pending = self.begin(&Command::PinApart { a, b })?;
        let state = &mut self.state;
        state.require(a)?;
        state.require(b)?;
        if state.live(a) == state.live(b) {
            return Err(Error::PinnedTogether(a, b));
        }
        let unpinned = state.identity.together.remove(&pair(a, b));
        let pinned = state.identity.apart.insert(pair(a, b));
        self.commit(pending, unpinned || pinned)
    }

    /// Pins two patrons together: merges them (into the older one) now, and
    /// [`split`](Self::split) refuses to undo it until [`unpin`](Self::unpin). Returns the
    /// survivor.
    pub fn pin_together(&mut self, a: PatronId, b: PatronId) -> Result<PatronId> {
        let pending = self.begin(&Command::PinTogether { a, b })?;
        let (older, newer) = if a <= b { (a, b) } else { (b, a) };
        let merged = self.state.live(older) != self.state.live(newer);
        let survivor = self.merge_with_cause(older, newer, MergeCause::Pinned)?;
        let pinned = self.state.identity.together.insert(pair(older, newer));
        self.commit(pending, merged || pinned)?;
        Ok(survivor)
    }

    /// Removes any pin between the two patrons.
    ///
    /// This call cannot return an error: if memory refuses writes (see
    /// [`journal_failure`](Self::journal_failure)) it does nothing, and if the journal
    /// fails here, the pin is removed and memory refuses writes from now on.
    pub fn unpin(&mut self, a: PatronId, b: PatronId) {
        let Ok(pending) = self.begin(&Command::Unpin { a, b }) else {
            return;
        };
        let apart = self.state.identity.apart.remove(&pair(a, b));
        let together = self.state.identity.together.remove(&pair(a, b));
        // The failure is kept: `journal_failure`, `sync` and every later write report it.
        let _ = self.commit(pending, apart || together);
    }

    /// The changes to who is who (merges, splits, household links) from position `since`
    /// on, oldest first. Keep the position of the last change you handled and pass it back.
    ///
    /// ```
    /// # use regulars::{Event, Memory, Order, Signals, IdentityChange};
    /// # let mut memory = Memory::new();
    /// # let a = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?.patron();
    /// # let b = memory.observe(Event::order("e-2", Order::new("o-2", Signals::new().email("bo@example.org"))))?.patron();
    /// memory.merge(a, b)?;
    /// let changes = memory.identity_changes(0);
    /// assert!(matches!(changes[0], IdentityChange::Merged { .. }));
    /// assert!(memory.identity_changes(changes.len()).is_empty());
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn identity_changes(&self, since: usize) -> &[IdentityChange] {
        self.state.identity.changes.get(since..).unwrap_or(&[])
    }

    /// The open review items, oldest first.
    pub fn reviews(&self) -> impl Iterator<Item = &ReviewItem> {
        self.state.identity.reviews.values()
    }

    /// Resolves a review item: `SamePerson(p)` merges the provisional patron into `p`
    /// (which need not be one of the candidates); `Different` pins it apart from every
    /// candidate. The item leaves the queue.
    pub fn resolve_review(&mut self, review: u64, decision: ReviewDecision) -> Result<()> {
        let pending = self.begin(&Command::ResolveReview { review, decision })?;
        let Some(item) = self.state.identity.reviews.get(&review) else {
            return Err(Error::UnknownReview(review));
        };
        let provisional = item.patron;
        match decision {
            ReviewDecision::SamePerson(patron) => {
                self.merge_with_cause(patron, provisional, MergeCause::Review { review })?;
            }
            ReviewDecision::Different => {
                let candidates: Vec<PatronId> =
                    item.candidates.iter().map(Candidate::patron).collect();
                for candidate in candidates {
                    if self.state.live(candidate) != self.state.live(provisional) {
                        self.state
                            .identity
                            .apart
                            .insert(pair(candidate, provisional));
                    }
                }
            }
        }
        self.state.identity.remove_review(review);
        self.commit(pending, true)
    }

    /// Queues a review item, dropping the oldest when the queue is full (its provisional
    /// patron simply stays a patron of its own).
    pub(crate) fn queue_review(
        &mut self,
        patron: PatronId,
        event: &EventId,
        at: DateTime<Utc>,
        candidates: Vec<Candidate>,
    ) {
        let identity = &mut self.state.identity;
        if identity.review_limit == 0 {
            return;
        }
        while identity.reviews.len() >= identity.review_limit {
            let Some(&oldest) = identity.reviews.keys().next() else {
                break;
            };
            identity.remove_review(oldest);
        }
        identity.next_review += 1;
        let id = identity.next_review;
        let item = ReviewItem {
            id,
            patron,
            event: event.clone(),
            at,
            candidates: candidates.into_boxed_slice(),
        };
        if let Some(index) = &mut identity.reviews_by_patron {
            for member in item.members() {
                index.entry(member).or_default().push(id);
            }
        }
        identity.reviews.insert(id, item);
    }

    /// After a record was linked to `patron` and taught it what the record said: checks
    /// again every open review `patron` is in, comparing the provisional patron's profile
    /// with each candidate's as if it were one record, and merges the provisional patron
    /// into the candidate it now matches as surely as a record is linked: the weight
    /// reaches the (raised) Known threshold and leads every other candidate by the margin,
    /// the given name or birth date speaks for it, nothing beyond the names speaks against
    /// it, and nothing says they are two people. The review item then leaves the queue.
    /// Returns the patron `patron` now stands for.
    ///
    /// Only the reviews `patron` is in are read (through an index), so the cost does not
    /// grow with the queue.
    pub(crate) fn merge_proven_reviews(
        &mut self,
        patron: PatronId,
        event: &EventId,
        adding: usize,
    ) -> PatronId {
        let mut current = self.state.live(patron);
        if self.state.identity.reviews.is_empty() {
            return current;
        }
        let members = self.state.cluster(current);
        let index = self.state.identity.reviews_by_patron();
        let mut reviews: SmallVec<[u64; 4]> = members
            .iter()
            .filter_map(|member| index.get(member))
            .flatten()
            .copied()
            .collect();
        if reviews.is_empty() {
            return current;
        }
        reviews.sort_unstable();
        reviews.dedup();
        for review in reviews {
            let Some(item) = self.state.identity.reviews.get(&review) else {
                continue;
            };
            let provisional = self.state.live(item.patron);
            let mut candidates: SmallVec<[PatronId; 4]> = SmallVec::new();
            for candidate in &item.candidates {
                let live = self.state.live(candidate.patron());
                if live != provisional && !candidates.contains(&live) {
                    candidates.push(live);
                }
            }
            let Some(same) = self.reviewed_match(provisional, &candidates, adding) else {
                continue;
            };
            // The older id survives, so long-lived ids stay stable.
            let (survivor, absorbed) = if provisional < same {
                (provisional, same)
            } else {
                (same, provisional)
            };
            let cause = MergeCause::Automatic {
                event: event.clone(),
            };
            self.state
                .merge_live(survivor, absorbed, cause, &self.limits);
            self.state.identity.remove_review(review);
            current = self.state.live(current);
        }
        current
    }

    /// The candidate the provisional patron of a review now matches surely enough to be
    /// merged into it (see [`merge_proven_reviews`](Self::merge_proven_reviews)), if any.
    fn reviewed_match(
        &self,
        provisional: PatronId,
        candidates: &[PatronId],
        adding: usize,
    ) -> Option<PatronId> {
        let raise = self.thresholds.raise_for(self.patron_count());
        let known_at = self.thresholds.known_at() + raise;
        let mut best: Option<(f64, PatronId)> = None;
        let mut second = f64::NEG_INFINITY;
        for &candidate in candidates {
            let Some((weight, qualifies)) = self.profile_weight(provisional, candidate) else {
                continue;
            };
            if !qualifies {
                // It cannot be proven, but it still competes.
                second = second.max(weight);
                continue;
            }
            match best {
                Some((top, _)) if weight <= top => second = second.max(weight),
                _ => {
                    second = best.map_or(second, |(top, _)| second.max(top));
                    best = Some((weight, candidate));
                }
            }
        }
        let (weight, candidate) = best?;
        let sure = weight >= known_at && weight - second >= self.thresholds.margin_needed();
        (sure && self.may_merge(provisional, candidate, adding)).then_some(candidate)
    }

    /// Whether the runner-up of a Known record is the same person as the patron it was
    /// linked to, proven by their own profiles: the record made memory compare the two
    /// (it agrees with both, though it could not prove them one by itself), and the
    /// runner-up's profile, as one record, matches the patron as surely as a record is
    /// linked, under the same conditions as a review's provisional patron (see
    /// [`merge_proven_reviews`](Self::merge_proven_reviews)). Fragments of one person that
    /// never shared a review item are merged this way once a record brings them together.
    ///
    /// The record must agree exactly with the runner-up on something beyond the names
    /// (as with a record's [duplicates](crate::Recognition::Known)): a patron the record
    /// only resembles by name and near misses was kept apart when their own records
    /// arrived, and a record that exactly identifies someone else is no reason to compare
    /// them again.
    pub(crate) fn runner_up_proven(
        &self,
        patron: PatronId,
        runner_up: &Candidate,
        adding: usize,
    ) -> bool {
        let raise = self.thresholds.raise_for(self.patron_count());
        let evidence = runner_up.evidence();
        if person_conflict(evidence)
            || evidence.weight() < self.thresholds.review_at() + raise
            || !something_shared(evidence)
        {
            return false;
        }
        let (a, b) = (self.state.live(runner_up.patron()), self.state.live(patron));
        if a == b {
            return false;
        }
        let known_at = self.thresholds.known_at() + raise;
        let proves = |x, y| matches!(self.profile_weight_with(x, y, true), Some((weight, true)) if weight >= known_at);
        (proves(a, b) || proves(b, a)) && self.may_merge(a, b, adding)
    }

    /// Whether two patrons may be merged automatically: not pinned apart, neither erased
    /// nor opted out, their profiles do not say they are two people, and their joint
    /// history (and `adding` more) fits.
    fn may_merge(&self, a: PatronId, b: PatronId, adding: usize) -> bool {
        let state = &self.state;
        if state.pinned_apart(a, b) || state.holds_back(a) || state.holds_back(b) {
            return false;
        }
        let (Some(va), Some(vb)) = (self.patron(a), self.patron(b)) else {
            return false;
        };
        let history = va.record.history.len() + vb.record.history.len();
        history.saturating_add(adding) <= self.limits.max_history_per_patron()
            && !crate::recognize::profiles_conflict(&va, &vb)
    }

    /// The best weight of patron `a`'s profile compared with patron `b` as one record
    /// (each of its latest names and addresses with all its identifiers and birth date)
    /// where nothing says they are two people, and whether that comparison could prove
    /// them one: the given name or birth date speaks for `b` and the rest, taken together,
    /// does not speak against it. `None` when every comparison conflicts.
    fn profile_weight(&self, a: PatronId, b: PatronId) -> Option<(f64, bool)> {
        self.profile_weight_with(a, b, false)
    }

    /// [`profile_weight`](Self::profile_weight), where with `shared` only a comparison
    /// in which something beyond the names is exactly the same (an identifier, the birth
    /// date, the address or the postcode) can prove them one: near misses on every field
    /// are what two strangers with similar details look like.
    fn profile_weight_with(&self, a: PatronId, b: PatronId, shared: bool) -> Option<(f64, bool)> {
        let mut best: Option<(f64, bool)> = None;
        self.compare_profiles(a, b, |evidence| {
            let beyond_names: f64 = evidence
                .items()
                .iter()
                .filter(|i| !matches!(i.field(), Field::GivenName | Field::FamilyName))
                .map(EvidenceItem::weight)
                .sum();
            if person_conflict(evidence) {
                return;
            }
            // Beyond the names, the rest must not speak against them: a patron whose
            // profile shares only the names with the candidate, nothing of either
            // compared (one seen by a phone, the other by a mailbox), is proven one by
            // the standard a record with those names is linked by (the raised Known
            // threshold, the margin over the others), and is left to review no longer.
            let found = (
                evidence.weight(),
                beyond_names >= 0.0
                    && person_agrees(evidence)
                    && !only_the_home_agrees(evidence)
                    && (!shared || something_shared(evidence)),
            );
            // The heavier comparison wins; on a tie, one that can prove.
            if best.is_none_or(|b| found.0 > b.0 || (found.0 == b.0 && found.1 && !b.1)) {
                best = Some(found);
            }
        });
        best
    }

    /// Whether a record proving patron `duplicate` the same person as `patron` would
    /// merge a father and his son of one name: one of the two has written a generation
    /// suffix ("Winkler Jr.") and the other never has, the record agrees with `duplicate`
    /// on nothing of one person's own (an identifier, the birth date), and the two
    /// profiles share only the home beyond the names, one with a mailbox, phone or
    /// number the other never used. A record giving just the name and the postcode fits
    /// both men at that address, and proves no more than that someone of the name lives
    /// there.
    pub(crate) fn merge_rests_on_the_home(
        &self,
        signals: &NormalizedSignals,
        patron: PatronId,
        duplicate: PatronId,
    ) -> bool {
        let (Some(a), Some(b)) = (self.patron(patron), self.patron(duplicate)) else {
            return false;
        };
        if !crate::recognize::generation_written_by_one(&a, &b) {
            return false;
        }
        let Some(matcher) = self.profile_matcher() else {
            return false;
        };
        let mut evidence = Evidence::new();
        matcher.score(signals, &b, &mut evidence);
        !agrees_exactly_beyond_home(&evidence)
            && (self.only_the_home_shared(patron, duplicate)
                || self.only_the_home_shared(duplicate, patron))
    }

    /// `decided`, or a review instead of a link to a patron who has written a generation
    /// suffix ("Winkler Jr.") when the record gives the name without one and agrees with
    /// him on nothing of one man's own (an identifier, the birth date). A junior has a
    /// father of his name, often at his address: a bare name, with or without the home,
    /// fits either of them.
    pub(crate) fn junior_told_apart(
        &self,
        signals: &NormalizedSignals,
        decided: Recognition,
    ) -> Recognition {
        let junior = match &decided {
            Recognition::Known {
                patron,
                evidence,
                duplicates,
                ..
            } => {
                duplicates.is_empty()
                    && !agrees_exactly_beyond_home(evidence)
                    && self.patron(*patron).is_some_and(|view| {
                        crate::recognize::bare_name_meets_a_junior(signals, &view)
                    })
            }
            _ => false,
        };
        if !junior {
            return decided;
        }
        let Recognition::Known {
            patron,
            evidence,
            runner_up,
            household,
            ..
        } = decided
        else {
            return decided;
        };
        let review_at =
            self.thresholds.review_at() + self.thresholds.raise_for(self.patron_count());
        let mut candidates = vec![Candidate::new(patron, evidence)];
        candidates.extend(
            runner_up
                .map(|r| *r)
                .filter(|r| r.evidence().weight() >= review_at && !person_conflict(r.evidence())),
        );
        Recognition::Review {
            candidates,
            household,
        }
    }

    /// The person strategy, or (when a vendor wrapped or replaced it) the first one:
    /// profiles are compared by whatever scores records.
    fn profile_matcher(&self) -> Option<&dyn crate::recognize::Strategy> {
        match self.strategies.iter().find_map(|s| s.as_person_matcher()) {
            Some(person) => Some(person),
            None => self.strategies.first().map(|first| first.as_ref()),
        }
    }

    /// Whether patron `a`'s profile, compared with patron `b` as one record, shares only
    /// the home with it beyond the names, while `a` has a mailbox, phone or number `b`
    /// never used ([`only_the_home_agrees`]) in its heaviest comparison.
    pub(crate) fn only_the_home_shared(&self, a: PatronId, b: PatronId) -> bool {
        let mut best: Option<(f64, bool)> = None;
        self.compare_profiles(a, b, |evidence| {
            let found = (evidence.weight(), only_the_home_agrees(evidence));
            if best.is_none_or(|b| found.0 > b.0) {
                best = Some(found);
            }
        });
        best.is_some_and(|(_, home_only)| home_only)
    }

    /// Compares patron `a`'s profile with patron `b` as one record (each of its latest
    /// names and addresses with all its identifiers and birth date), handing each
    /// comparison's evidence to `visit`.
    fn compare_profiles(&self, a: PatronId, b: PatronId, mut visit: impl FnMut(&Evidence)) {
        let Some(matcher) = self.profile_matcher() else {
            return;
        };
        let (Some(va), Some(vb)) = (self.patron(a), self.patron(b)) else {
            return;
        };
        // An address giving neither a street nor a postcode (a box office's country)
        // compares as none: compared as the profile's home, it would hide the home the
        // profile does give, and two namesakes living apart would look like one person
        // seen once without an address.
        let homes: SmallVec<[&crate::Address; RECHECKED_ADDRESSES]> = va
            .addresses()
            .iter()
            .rev()
            .filter(|a| a.street().is_some() || a.postcode().is_some())
            .take(RECHECKED_ADDRESSES)
            .collect();
        let no_address = crate::Address::default();
        let no_home = [&no_address];
        let addresses = match homes.is_empty() {
            true => &no_home[..],
            false => &homes[..],
        };
        let names = va.names();
        let names = &names[names.len().saturating_sub(RECHECKED_NAMES)..];
        for name in names.iter().rev() {
            for &address in addresses {
                let signals = NormalizedSignals::from_parts(
                    Some(name.clone()),
                    va.identifiers().iter().cloned(),
                    address.clone(),
                    va.birth_date(),
                );
                // Kept inline: a comparison's items fit in the room evidence keeps.
                let mut evidence = Evidence::new();
                matcher.score(&signals, &vb, &mut evidence);
                visit(&evidence);
            }
        }
    }
}

/// Whether the evidence agrees exactly, with positive weight, on something of one
/// person's own beyond the names and the home: an identifier or the birth date. Everyone
/// living at an address shares its street and postcode.
fn agrees_exactly_beyond_home(evidence: &Evidence) -> bool {
    evidence.items().iter().any(|item| {
        item.agreement() == crate::recognize::Agreement::Agrees
            && item.weight() > 0.0
            && !matches!(
                item.field(),
                Field::GivenName | Field::FamilyName | Field::Address | Field::Postcode
            )
    })
}
