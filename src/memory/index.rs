//! Hash indexes from normalized identifiers and blocking keys to patrons.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::state::{State, slot};
use super::view::PatronView;
use crate::model::ids::PatronId;
use crate::model::profile::{Identifier, Profile};
use crate::recognize::{BlockingKey, encode_profile_keys};

/// Identifier → patrons that used it. Most identifiers belong to one patron, so the list
/// lives inline.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct IdentifierIndex {
    map: HashMap<Identifier, SmallVec<[PatronId; 1]>, ahash::RandomState>,
}

impl IdentifierIndex {
    pub(crate) fn get(&self, identifier: &Identifier) -> &[PatronId] {
        self.map.get(identifier).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn insert(&mut self, identifier: Identifier, patron: PatronId) {
        let patrons = self.map.entry(identifier).or_default();
        if !patrons.contains(&patron) {
            patrons.push(patron);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Takes these patrons off an identifier, dropping the identifier once nobody uses
    /// it (erasure: the key itself is personal data).
    pub(crate) fn remove(&mut self, identifier: &Identifier, patrons: &[PatronId]) {
        if let Some(list) = self.map.get_mut(identifier) {
            list.retain(|p| !patrons.contains(p));
            if list.is_empty() {
                self.map.remove(identifier);
            }
        }
    }
}

/// Blocking key → patrons filed under it, oldest first.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct BlockingIndex {
    map: HashMap<BlockingKey, SmallVec<[PatronId; 2]>, ahash::RandomState>,
    /// The compared values of each patron's profile, derived (not saved in snapshots).
    #[serde(skip)]
    pub(crate) comparison: ComparisonKeys,
}

/// Per patron slot, a compact copy of the profile values recognition compares (names,
/// identifiers, addresses, birth date) in one small block, so that scoring a candidate
/// reads one or two cache lines instead of a dozen scattered allocations.
///
/// The copy is derived: each block carries a stamp of the profile it was written from,
/// and a block whose stamp no longer matches the profile (a merge or split changed it,
/// or memory came from a snapshot) is ignored, so recognition then reads the profile
/// itself and the outcome is the same either way.
#[derive(Default, Clone)]
pub(crate) struct ComparisonKeys {
    blocks: Vec<Option<(u64, Box<str>)>>,
}

#[cfg(test)]
impl ComparisonKeys {
    /// Whether a compact copy is kept for this patron slot.
    pub(crate) fn holds(&self, slot: usize) -> bool {
        matches!(self.blocks.get(slot), Some(Some(_)))
    }
}

impl fmt::Debug for ComparisonKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The blocks hold personal data: show only how many there are.
        f.debug_struct("ComparisonKeys")
            .field("blocks", &self.blocks.iter().flatten().count())
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
        let Some(at) = slot(id) else {
            return;
        };
        let Some(record) = self.patrons.get(at) else {
            return;
        };
        let blocks = &mut self.blocking.comparison.blocks;
        if blocks.len() <= at {
            blocks.resize(at + 1, None);
        }
        if let Some(entry) = blocks.get_mut(at) {
            *entry =
                encode_profile_keys(&record.profile).map(|block| (stamp(&record.profile), block));
        }
    }
}

impl BlockingIndex {
    /// How far back a new entry looks for the same patron: enough to keep a patron from
    /// being filed twice in the usual case without walking a key shared by thousands.
    const DEDUPE_WINDOW: usize = 32;

    pub(crate) fn get(&self, key: BlockingKey) -> &[PatronId] {
        self.map.get(&key).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn insert(&mut self, key: BlockingKey, patron: PatronId) {
        let patrons = self.map.entry(key).or_default();
        if !patrons
            .iter()
            .rev()
            .take(Self::DEDUPE_WINDOW)
            .any(|&p| p == patron)
        {
            patrons.push(patron);
        }
    }

    /// Takes these patrons off every key, dropping keys nobody is filed under any more.
    /// Walks the whole index: only erasure calls it, and keys are one-way hashes that
    /// cannot be recomputed from an erased profile with certainty.
    pub(crate) fn remove_everywhere(&mut self, patrons: &[PatronId]) {
        self.map.retain(|_, list| {
            list.retain(|p| !patrons.contains(p));
            !list.is_empty()
        });
        // Their compact copies hold names and identifiers too.
        for &patron in patrons {
            if let Some(entry) = slot(patron).and_then(|at| self.comparison.blocks.get_mut(at)) {
                *entry = None;
            }
        }
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
    /// [`Strategy::blocking_keys`](crate::Strategy::blocking_keys)).
    pub fn patrons_under(&self, key: BlockingKey) -> &'a [PatronId] {
        self.state.blocking.get(key)
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

    /// The compact copy of a patron's compared values, if it is up to date with the
    /// profile (see [`ComparisonKeys`]).
    pub(crate) fn comparison_keys(&self, patron: &PatronView<'_>) -> Option<&'a str> {
        let at = slot(patron.record.id)?;
        let (stamped, block) = self.state.blocking.comparison.blocks.get(at)?.as_ref()?;
        (*stamped == stamp(&patron.record.profile)).then_some(&**block)
    }

    /// The live patron an index entry stands for (a merged id gives its survivor); `None`
    /// for an erased or unknown one.
    pub(crate) fn patron(&self, id: PatronId) -> Option<PatronView<'a>> {
        self.state.live_patron(id).map(|record| PatronView {
            record,
            state: self.state,
        })
    }

    /// How many patrons memory holds (merged ones included), for frequency weights.
    pub fn patron_count(&self) -> usize {
        self.state.patrons.len()
    }
}
