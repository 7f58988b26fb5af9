//! Hash indexes from normalized identifiers and blocking keys to patrons.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::state::State;
use crate::model::ids::PatronId;
use crate::model::profile::Identifier;
use crate::recognize::BlockingKey;

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
        let neutralized = &self.state.neutralized;
        neutralized.blocklist.contains(identifier)
            || self.patrons_with(identifier).len() > neutralized.shared_limit
    }

    /// How many patrons memory holds (merged ones included), for frequency weights.
    pub fn patron_count(&self) -> usize {
        self.state.patrons.len()
    }
}
