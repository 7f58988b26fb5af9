//! Everything memory holds, in one place, so the write path and the views share one shape.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::identity::Identity;
use super::index::{BlockingIndex, IdentifierIndex, Neutralized};
use super::stats::{PatronStats, ProductionVisits};
use crate::model::catalog::{Catalog, GenreIdx, PerformanceIdx, ProductionIdx};
use crate::model::history::{Interaction, Seat};
use crate::model::ids::{EventId, OrderId, PatronId, ScanId, TicketId};
use crate::model::money::Money;
use crate::model::profile::Profile;

type Map<K, V> = HashMap<K, V, ahash::RandomState>;
type Set<K> = HashSet<K, ahash::RandomState>;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) catalog: Catalog,
    /// Patron `n` lives at index `n - 1`: ids are dense and never reused.
    pub(crate) patrons: Vec<PatronRecord>,
    pub(crate) identifiers: IdentifierIndex,
    pub(crate) blocking: BlockingIndex,
    pub(crate) neutralized: Neutralized,
    pub(crate) tickets: Map<TicketId, TicketRecord>,
    pub(crate) orders: Map<OrderId, OrderRecord>,
    pub(crate) events: Map<EventId, SeenEvent>,
    pub(crate) scans: Set<ScanId>,
    /// Moments fired, their once-per keys and the due-time index of time-based rules.
    pub(crate) ledger: crate::moments::ledger::MomentLedger,
    pub(crate) identity: Identity,
    /// Erased and opted-out patrons.
    pub(crate) privacy: crate::privacy::PrivacyState,
    /// Recognition decisions of the call being journaled or replayed (not saved in
    /// snapshots: they only live for one call).
    pub(crate) decisions: super::command::Decisions,
}

impl State {
    pub(crate) fn patron(&self, id: PatronId) -> Option<&PatronRecord> {
        self.patrons.get(slot(id)?)
    }

    pub(crate) fn patron_mut(&mut self, id: PatronId) -> Option<&mut PatronRecord> {
        self.patrons.get_mut(slot(id)?)
    }

    /// The patron an id stands for now: itself, or the survivor it was merged into.
    pub(crate) fn live(&self, id: PatronId) -> PatronId {
        let mut current = id;
        // Merge chains are short; the bound only guards against a cycle bug looping forever.
        for _ in 0..64 {
            match self.patron(current).and_then(|r| r.merged_into) {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    }

    /// The patron an id stands for now, if it exists.
    /// Erased patrons are not: their tombstone holds nothing to read.
    pub(crate) fn live_patron(&self, id: PatronId) -> Option<&PatronRecord> {
        let live = self.live(id);
        if self.is_erased(live) {
            return None;
        }
        self.patron(live)
    }

    pub(crate) fn next_patron_id(&self) -> PatronId {
        PatronId::from_u64(self.patrons.len() as u64 + 1)
    }
}

/// Where a patron's record sits in the dense table: ids are handed out from 1.
pub(crate) fn slot(id: PatronId) -> Option<usize> {
    usize::try_from(id.as_u64()).ok()?.checked_sub(1)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PatronRecord {
    pub(crate) id: PatronId,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) profile: Profile,
    pub(crate) history: Vec<Interaction>,
    pub(crate) stats: PatronStats,
    /// Attendances per genre, sorted by genre.
    pub(crate) genres: SmallVec<[(GenreIdx, u32); 4]>,
    /// Productions attended, sorted, with their visits.
    pub(crate) visits: SmallVec<[(ProductionIdx, ProductionVisits); 2]>,
    /// Performances attended, sorted.
    pub(crate) attended: SmallVec<[PerformanceIdx; 4]>,
    /// The survivor this patron was merged into.
    pub(crate) merged_into: Option<PatronId>,
    /// Patrons merged into this one, in merge order.
    pub(crate) absorbed: SmallVec<[PatronId; 1]>,
    /// Other people sharing contact details (household members).
    pub(crate) household: SmallVec<[PatronId; 2]>,
}

impl PatronRecord {
    pub(crate) fn new(id: PatronId, created_at: DateTime<Utc>) -> Self {
        Self {
            id,
            created_at,
            profile: Profile::default(),
            history: Vec::new(),
            stats: PatronStats::default(),
            genres: SmallVec::new(),
            visits: SmallVec::new(),
            attended: SmallVec::new(),
            merged_into: None,
            absorbed: SmallVec::new(),
            household: SmallVec::new(),
        }
    }

    pub(crate) fn has_attended(&self, performance: PerformanceIdx) -> bool {
        self.attended.binary_search(&performance).is_ok()
    }

    pub(crate) fn visits_to(&self, production: ProductionIdx) -> Option<&ProductionVisits> {
        self.visits
            .binary_search_by_key(&production, |(p, _)| *p)
            .ok()
            .map(|i| &self.visits[i].1)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TicketRecord {
    pub(crate) order: OrderId,
    pub(crate) performance: PerformanceIdx,
    pub(crate) seat: Option<Seat>,
    pub(crate) price: Option<Money>,
    pub(crate) buyer: PatronId,
    pub(crate) holder: PatronId,
    pub(crate) refunded: bool,
    pub(crate) scanned_in: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderRecord {
    pub(crate) buyer: PatronId,
    pub(crate) tickets: Vec<TicketId>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct SeenEvent {
    pub(crate) fingerprint: u64,
    pub(crate) patron: PatronId,
}
