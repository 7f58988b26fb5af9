//! Erasure: a person's personal data out of memory and out of the journal's files.

use serde::Serialize;
use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::memory::Memory;
use crate::memory::State;
use crate::memory::command::Command;
use crate::memory::state::PatronRecord;
use crate::model::ids::PatronId;
use crate::model::profile::Identifier;

/// What [`Memory::erase`] removed.
///
/// ```
/// use regulars::{Event, Memory, Order, Signals};
/// let mut memory = Memory::new();
/// let ana = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().given_name("Ana").email("ana@example.org"))))?.patron();
/// let erasure = memory.erase(ana)?;
/// assert_eq!(erasure.patrons(), &[ana]);
/// assert_eq!(erasure.identifiers(), 1);
/// assert_eq!(erasure.names(), 1);
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erasure {
    patrons: Vec<PatronId>,
    names: usize,
    identifiers: usize,
    addresses: usize,
    interactions: usize,
    notes: usize,
    moments: usize,
    reviews: usize,
    checkpoint: Option<u64>,
}

impl Erasure {
    /// The ids erased: the patron asked for and everyone merged with them, oldest first.
    /// Empty when the patron had been erased before (nothing was left to do).
    pub fn patrons(&self) -> &[PatronId] {
        &self.patrons
    }
    /// How many distinct names went.
    pub fn names(&self) -> usize {
        self.names
    }
    /// How many identifiers (e-mails, phones, card tokens, external ids) went.
    pub fn identifiers(&self) -> usize {
        self.identifiers
    }
    /// How many postal addresses went.
    pub fn addresses(&self) -> usize {
        self.addresses
    }
    /// How many history entries went.
    pub fn interactions(&self) -> usize {
        self.interactions
    }
    /// How many staff notes went.
    pub fn notes(&self) -> usize {
        self.notes
    }
    /// How many fired moments went.
    pub fn moments(&self) -> usize {
        self.moments
    }
    /// How many review items went (their provisional patron was this person, or this
    /// person was their only candidate).
    pub fn reviews(&self) -> usize {
        self.reviews
    }
    /// On a durable memory, the seq of the checkpoint the erasure wrote: from then on no
    /// file of the journal holds the person's data. `None` without a journal.
    pub fn checkpoint(&self) -> Option<u64> {
        self.checkpoint
    }
}

impl Memory {
    /// Erases a person: every piece of personal data memory holds about them goes, from
    /// memory and, on a durable memory, from every file in its journal.
    ///
    /// The patron this id stands for is erased together with everyone merged into them
    /// (to memory they are one person; [`split`](Self::split) a wrong merge first). What
    /// goes: names, e-mails, phones, card tokens, external ids, addresses, birth date,
    /// preferences, consents, flags, notes, history, figures (unless
    /// [`MemoryBuilder::keep_anonymous_aggregates`](crate::MemoryBuilder::keep_anonymous_aggregates)),
    /// fired and due moments, review items about them, their entries in the identifier
    /// and blocking indexes, household links and pins to them, and the copies merge
    /// records keep so a merge can be undone.
    ///
    /// What stays: the ids, as tombstones (ids are never reused), and the
    /// [identity changes](Self::identity_changes) that name them (ids only), followed by
    /// an [`IdentityChange::Erased`](crate::IdentityChange::Erased) for each, so systems
    /// fed by that feed can erase them too. An erased id answers
    /// [`patron`](Self::patron) with `None`, [`is_erased`](Self::is_erased) with `true`,
    /// and [`Error::ErasedPatron`] to every call that would change or read them. Tickets
    /// and orders stay, with no personal data, so door scans and refunds of tickets
    /// already sold still work (and record nothing). Event ids seen stay too, so an old
    /// event sent again is still a replay and does not bring the person back; a person
    /// who comes back with a new event is a new patron, with a new id.
    ///
    /// On a durable memory the erasure is journaled, then a [checkpoint](Self::checkpoint)
    /// is written at once (whatever
    /// [`checkpoint_every`](crate::MemoryBuilder::checkpoint_every) says): the snapshot
    /// replaces older snapshots and journal segments, which the journal deletes. If the
    /// process dies between the two, opening the memory replays the erasure and writes
    /// the checkpoint then. Blocks freed on the disk are not overwritten: use an
    /// encrypted file system where that matters.
    ///
    /// Erasing an erased patron changes nothing and returns an empty [`Erasure`].
    /// Errors: [`Error::UnknownPatron`], or the journal's errors. If the erasure was
    /// journaled but its checkpoint failed, memory is erased and the error is returned:
    /// the files still hold the person's data until [`checkpoint`](Self::checkpoint)
    /// succeeds or the memory is opened again (which writes it).
    ///
    /// Erasure walks the blocking index and the fired moments once: it costs time in
    /// proportion to memory's size, unlike the calls on the hot path.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let ana = Signals::new().given_name("Ana").email("ana@example.org");
    /// let first = memory.observe(Event::order("e-1", Order::new("o-1", ana.clone())))?.patron();
    /// memory.erase(first)?;
    /// assert!(memory.patron(first).is_none());
    /// assert!(memory.is_erased(first));
    /// assert_eq!(memory.patron_count(), 0);
    /// // She comes back: a new patron.
    /// let again = memory.observe(Event::order("e-2", Order::new("o-2", ana)))?;
    /// assert_eq!(again.recognition().decision(), "new");
    /// assert_ne!(again.patron(), first);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn erase(&mut self, patron: PatronId) -> Result<Erasure> {
        let pending = self.begin(&Command::Erase { patron })?;
        if self.state.patron(patron).is_none() {
            return Err(Error::UnknownPatron(patron));
        }
        if self.state.is_erased(self.state.live(patron)) {
            self.commit(pending, false)?;
            return Ok(Erasure::default());
        }
        let mut erasure = self.state.erase(patron);
        self.commit(pending, true)?;
        if self.has_journal() {
            self.release_scratch();
            erasure.checkpoint = Some(self.checkpoint()?);
        }
        Ok(erasure)
    }

    /// Whether this id was [erased](Self::erase).
    pub fn is_erased(&self, patron: PatronId) -> bool {
        self.state.is_erased(patron)
    }

    /// The figures an erased patron left, when memory was built with
    /// [`keep_anonymous_aggregates`](crate::MemoryBuilder::keep_anonymous_aggregates):
    /// counts, spend and dates, with nothing saying who it was. `None` for other ids.
    pub fn erased_stats(&self, patron: PatronId) -> Option<&crate::PatronStats> {
        if !self.state.privacy.keep_aggregates || !self.state.is_erased(patron) {
            return None;
        }
        self.state.patron(patron).map(|record| &record.stats)
    }
}

/// The lower-cased words of a patron's names.
fn own_words(names: &[crate::PersonName]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| n.given().into_iter().chain(n.family()))
        .flat_map(|part| part.split(|c: char| !c.is_alphanumeric()))
        .map(str::to_lowercase)
        .collect()
}

impl State {
    /// Erases the patron `id` stands for and everyone merged into them. Cannot fail.
    pub(crate) fn erase(&mut self, id: PatronId) -> Erasure {
        let live = self.live(id);
        let mut cluster: Vec<PatronId> = self.cluster(live).into_vec();
        cluster.sort_unstable();
        cluster.dedup();

        let mut erasure = Erasure {
            patrons: cluster.clone(),
            ..Erasure::default()
        };
        if let Some(record) = self.patron(live) {
            let profile = &record.profile;
            erasure.names = profile.names.len();
            erasure.identifiers = profile.identifiers.len();
            erasure.addresses = profile.addresses.len();
            erasure.interactions = record.history.len();
            erasure.notes = profile.notes.len();
        }

        // Every identifier any copy of this person ever held: their records, and the
        // survivors' pre-merge copies kept for splits.
        let mut identifiers: Vec<Identifier> = Vec::new();
        let mut household: SmallVec<[PatronId; 4]> = SmallVec::new();
        for &member in &cluster {
            if let Some(record) = self.patron(member) {
                identifiers.extend(record.profile.identifiers.iter().cloned());
                household.extend(record.household.iter().copied());
            }
            if let Some(merge) = self.identity.merges.get(&member) {
                identifiers.extend(merge.survivor_before.profile.identifiers.iter().cloned());
                household.extend(merge.survivor_before.household.iter().copied());
            }
        }
        identifiers.sort_unstable();
        identifiers.dedup();
        for identifier in &identifiers {
            self.identifiers.remove(identifier, &cluster);
        }
        self.blocking.remove_everywhere(&cluster);
        // Their compact copies of compared values hold names and identifiers too.
        for &member in &cluster {
            if let Some(slot) = self.slots.get_mut(member) {
                slot.comparison.clear();
            }
        }

        // Merge records of the person (their copies hold the data), and nobody else's
        // copy may keep a link to them.
        for member in &cluster {
            self.identity.merges.remove(member);
        }
        for merge in self.identity.merges.values_mut() {
            merge
                .survivor_before
                .household
                .retain(|h| !cluster.contains(h));
        }
        self.identity
            .apart
            .retain(|(a, b)| !cluster.contains(a) && !cluster.contains(b));
        self.identity
            .together
            .retain(|(a, b)| !cluster.contains(a) && !cluster.contains(b));
        let reviews_before = self.identity.reviews.len();
        self.identity.reviews.retain(|_, item| {
            if cluster.contains(&item.patron) {
                return false;
            }
            item.retain_candidates(|c| !cluster.contains(&c.patron()));
            !item.candidates.is_empty()
        });
        erasure.reviews = reviews_before - self.identity.reviews.len();

        household.sort_unstable();
        household.dedup();
        for other in household {
            if let Some(record) = self.patron_mut(other) {
                record.household.retain(|h| !cluster.contains(h));
            }
        }

        // Other patrons' moments that name them (a rule may write "Ana's partner"):
        // the words of every name they used, unless the moment's own patron uses the
        // same word (another Ana's "Welcome back, Ana" stays).
        let mut words: Vec<String> = Vec::new();
        for &member in &cluster {
            let profiles = self.patron(member).map(|r| &r.profile).into_iter().chain(
                self.identity
                    .merges
                    .get(&member)
                    .map(|merge| &merge.survivor_before.profile),
            );
            for profile in profiles {
                for name in &profile.names {
                    for part in name.given().into_iter().chain(name.family()) {
                        words.extend(
                            part.split(|c: char| !c.is_alphanumeric())
                                .filter(|w| w.chars().count() >= 2)
                                .map(str::to_lowercase),
                        );
                    }
                }
            }
        }
        words.sort_unstable();
        words.dedup();
        erasure.moments = self.ledger.forget(&cluster);
        if !words.is_empty() {
            let patrons = &self.patrons;
            self.ledger.redact(|patron| {
                let own = crate::memory::state::slot(patron)
                    .and_then(|i| patrons.get(i))
                    .map(|r| own_words(&r.profile.names))
                    .unwrap_or_default();
                words.iter().filter(|w| !own.contains(w)).cloned().collect()
            });
        }

        let keep = self.privacy.keep_aggregates;
        for &member in &cluster {
            let Some(record) = self.patron_mut(member) else {
                continue;
            };
            let mut tombstone = PatronRecord::new(record.created_at);
            // Only the surviving record's figures: absorbed records' figures are
            // already counted in it.
            if keep && member == live {
                tombstone.stats = std::mem::take(&mut record.stats);
                tombstone.attendance = std::mem::take(&mut record.attendance);
            }
            *record = tombstone;
            // The tombstone forwards nowhere: nor does its slot.
            self.set_merged_into(member, crate::memory::state::MergedInto::NOT);
            self.identity
                .changes
                .push(crate::memory::IdentityChange::Erased { patron: member });
            self.privacy.erased.insert(member);
            self.privacy.opted_out.remove(&member);
        }
        erasure
    }
}

#[cfg(test)]
mod tests {
    use crate::{Event, Memory, Order, Signals};

    /// The compact copy of compared values recognition keeps per patron holds names and
    /// identifiers too: erasure must not leave it behind in memory.
    #[test]
    fn erasure_drops_the_compact_copy_recognition_compares() -> crate::Result<()> {
        let mut memory = Memory::new();
        let ana = Signals::new()
            .given_name("Ana")
            .family_name("Quintero")
            .email("ana@example.org");
        let ben = Signals::new().given_name("Ben").email("ben@example.org");
        let first = memory.observe(Event::order("e-1", Order::new("o-1", ana)))?;
        memory.observe(Event::order("e-2", Order::new("o-2", ben)))?;
        let held = |memory: &Memory, id: crate::PatronId| {
            memory
                .state
                .slots
                .get(id)
                .is_some_and(|slot| slot.comparison.is_held())
        };
        assert!(held(&memory, first.patron()));
        memory.erase(first.patron())?;
        assert!(!held(&memory, first.patron()));
        assert!(
            held(&memory, crate::PatronId::from_u64(2)),
            "the other patron's copy stays"
        );
        Ok(())
    }
}
