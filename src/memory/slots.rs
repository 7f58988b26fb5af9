//! A few bytes per patron beside the records: what recognition reads of every candidate
//! before scoring it, so that gathering and screening candidates never read a patron's
//! record (some 400 bytes, a cache miss or two of their own per candidate).
//!
//! Slot `n - 1` is patron `n`'s, as records are. A slot holds where a merged patron
//! forwards (a copy of the record's `merged_into`, written by the one method that
//! writes both) and the compact copy of the patron's compared values (derived from the
//! profile; see [`ComparisonKeys`]). Every write that adds a patron, merges, splits or
//! erases one goes through [`State`]'s methods here; loading a snapshot derives the
//! table from the records.

use super::index::ComparisonKeys;
use super::state::{MergedInto, PatronRecord, State, slot};
use crate::chunked::Chunked;
use crate::model::ids::PatronId;

/// One patron's slot.
#[derive(Debug, Default, Clone)]
pub(crate) struct PatronSlot {
    /// The survivor this patron was merged into: the record's own, copied.
    pub(crate) merged_into: MergedInto,
    /// The compact copy of the profile's compared values.
    pub(crate) comparison: ComparisonKeys,
}

// Two slots a cache line: a byte here is a megabyte at a million patrons.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<PatronSlot>() == 32);

/// Every patron's slot, by position.
#[derive(Debug, Default)]
pub(crate) struct PatronSlots {
    slots: Chunked<PatronSlot>,
}

impl PatronSlots {
    /// The slots of these records, as loading a snapshot finds them: forwarding copied,
    /// no compact copies yet (see [`refresh_all_comparison_keys`](super::index::refresh_all_comparison_keys)).
    pub(crate) fn of(records: &Chunked<PatronRecord>) -> Self {
        let mut slots = Chunked::default();
        for record in records.iter() {
            slots.push(PatronSlot {
                merged_into: record.merged_into,
                comparison: ComparisonKeys::default(),
            });
        }
        Self { slots }
    }

    pub(crate) fn get(&self, id: PatronId) -> Option<&PatronSlot> {
        self.slots.get(slot(id)?)
    }

    pub(crate) fn get_mut(&mut self, id: PatronId) -> Option<&mut PatronSlot> {
        self.slots.get_mut(slot(id)?)
    }

    /// Every slot in patron order, a chunk at a time (for writing the compact copies
    /// on several threads).
    pub(crate) fn chunks_mut(&mut self) -> Vec<&mut [PatronSlot]> {
        self.slots.chunks_mut()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &PatronSlot> {
        self.slots.iter()
    }

    pub(crate) fn tally(&self, tally: &mut super::footprint::Tally) {
        self.slots.tally(tally);
    }
}

impl State {
    /// Adds a patron's record, and its slot.
    pub(crate) fn push_patron(&mut self, record: PatronRecord) {
        self.slots.slots.push(PatronSlot {
            merged_into: record.merged_into,
            comparison: ComparisonKeys::default(),
        });
        self.patrons.push(record);
    }

    /// Sets whom a patron forwards to, in their record and their slot.
    pub(crate) fn set_merged_into(&mut self, id: PatronId, merged_into: MergedInto) {
        if let Some(record) = self.patron_mut(id) {
            record.merged_into = merged_into;
        }
        if let Some(slot) = self.slots.get_mut(id) {
            slot.merged_into = merged_into;
        }
    }

    /// Whether every slot says what its record does: one slot per record, the same
    /// forwarding, and a compact copy exactly when the patron is not erased, written from
    /// the profile as it is now. `Err` names the first patron whose slot is out of step.
    #[cfg(test)]
    pub(crate) fn check_slots(&self) -> Result<(), String> {
        use crate::recognize::{KnownSounds, encode_with};
        if self.slots.slots.len() != self.patrons.len() {
            return Err(format!(
                "{} slots for {} records",
                self.slots.slots.len(),
                self.patrons.len()
            ));
        }
        for (at, (record, slot)) in self.patrons.iter().zip(self.slots.iter()).enumerate() {
            let id = super::state::id_at(at);
            if slot.merged_into != record.merged_into {
                return Err(format!("patron {id}: the slot forwards elsewhere"));
            }
            let expected = encode_with(&record.profile, &KnownSounds::default());
            let erased = self.is_erased(id);
            if erased && record.profile != crate::model::profile::Profile::default() {
                return Err(format!("patron {id}: erased, but their profile is kept"));
            }
            // An erased patron's copy is dropped, though loading a snapshot writes one of
            // the tombstone's empty profile (holding nothing, and never read).
            let held = slot.comparison.block();
            let in_step = held == expected.as_deref() || (erased && held.is_none());
            if !in_step {
                return Err(format!(
                    "patron {id}: the compact copy is not the profile's"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Event, Memory, Order, PatronId, Recognition, Signals};

    fn order(memory: &mut Memory, n: usize, signals: &Signals) -> crate::Result<PatronId> {
        let event = Event::order(
            format!("e-{n}"),
            Order::new(format!("o-{n}"), signals.clone()),
        );
        Ok(memory.observe(event)?.patron())
    }

    fn in_step(memory: &Memory, after: &str) {
        if let Err(out_of_step) = memory.state.check_slots() {
            panic!("after {after}: {out_of_step}");
        }
    }

    /// Every write that adds, changes, merges, splits, opts out or erases a patron keeps
    /// their slot in step with their record, and so do loading a snapshot and replaying
    /// a journal; recognition resolves merged ids through the slots.
    #[test]
    fn every_write_keeps_the_slots_in_step_with_the_records() -> crate::Result<()> {
        let dir = std::env::temp_dir().join(format!("regulars-slots-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut memory = Memory::open(&dir)?;
        let ana = Signals::new()
            .given_name("Ana")
            .family_name("Quintero")
            .email("ana.quintero@example.org");
        let ana_phone = Signals::new()
            .given_name("Anita")
            .family_name("Sato")
            .phone("+44 20 7946 0018");
        let ben = Signals::new()
            .given_name("Ben")
            .family_name("Okafor")
            .email("ben.okafor@example.org");
        let cy = Signals::new()
            .given_name("Cy")
            .family_name("Lindqvist")
            .email("cy.lindqvist@example.org");
        let dee = Signals::new()
            .given_name("Dee")
            .family_name("Marsh")
            .email("dee.marsh@example.org");
        let a = order(&mut memory, 1, &ana)?;
        let a2 = order(&mut memory, 2, &ana_phone)?;
        let b = order(&mut memory, 3, &ben)?;
        let c = order(&mut memory, 4, &cy)?;
        let d = order(&mut memory, 5, &dee)?;
        assert_ne!(a, a2, "another name and a phone: a new patron");
        in_step(&memory, "observing");

        memory.merge(a, a2)?;
        in_step(&memory, "a merge");
        assert_eq!(memory.patron(a2).map(|p| p.id()), Some(a));
        let seen = memory.recognize(&ana_phone)?;
        assert_eq!(seen.known_patron(), Some(a), "{}", seen.explain());

        memory.merge(b, c)?;
        memory.merge(a, b)?;
        in_step(&memory, "a chain of merges");
        assert_eq!(memory.patron(c).map(|p| p.id()), Some(a));

        memory.split(b)?;
        in_step(&memory, "a split");
        assert_eq!(memory.patron(c).map(|p| p.id()), Some(b));
        order(
            &mut memory,
            6,
            &ana.clone().street("12 High Street").postcode("N1 9GU"),
        )?;
        in_step(&memory, "learning");

        memory.opt_out(d)?;
        in_step(&memory, "an opt-out");
        memory.erase(c)?;
        in_step(&memory, "an erasure");
        assert!(memory.patron(b).is_none() && memory.patron(c).is_none());
        let gone = memory.recognize(&ben)?;
        assert!(
            !matches!(gone, Recognition::Known { .. }),
            "{}",
            gone.explain()
        );

        let restored = Memory::builder().build_from_snapshot(&memory.snapshot())?;
        in_step(&restored, "loading a snapshot");
        memory.checkpoint()?;
        order(&mut memory, 7, &dee.clone().phone("+44 20 7946 0019"))?;
        memory.merge(a, d).ok();
        drop(memory);
        let reopened = Memory::open(&dir)?;
        in_step(&reopened, "a snapshot and a journal replayed");
        assert_eq!(reopened.patron(a2).map(|p| p.id()), Some(a));
        drop(reopened);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
