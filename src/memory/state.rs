//! Everything memory holds, in one place, so the write path and the views share one shape.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use super::index::IdentifierIndex;
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
    pub(crate) tickets: Map<TicketId, TicketRecord>,
    pub(crate) orders: Map<OrderId, OrderRecord>,
    pub(crate) events: Map<EventId, SeenEvent>,
    pub(crate) scans: Set<ScanId>,
    /// Keyed by patron and production, so "how many times has this patron seen this
    /// production?" is one hash probe.
    pub(crate) production_visits: Map<(PatronId, ProductionIdx), ProductionVisits>,
    pub(crate) attended: Set<(PatronId, PerformanceIdx)>,
    pub(crate) fired: Set<FiredKey>,
}

impl State {
    pub(crate) fn patron(&self, id: PatronId) -> Option<&PatronRecord> {
        let idx = usize::try_from(id.as_u64()).ok()?.checked_sub(1)?;
        self.patrons.get(idx)
    }

    pub(crate) fn patron_mut(&mut self, id: PatronId) -> Option<&mut PatronRecord> {
        let idx = usize::try_from(id.as_u64()).ok()?.checked_sub(1)?;
        self.patrons.get_mut(idx)
    }

    pub(crate) fn next_patron_id(&self) -> PatronId {
        PatronId::from_u64(self.patrons.len() as u64 + 1)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PatronRecord {
    pub(crate) id: PatronId,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) profile: Profile,
    pub(crate) history: Vec<Interaction>,
    pub(crate) stats: PatronStats,
    /// Attendances per genre, sorted by genre.
    pub(crate) genres: SmallVec<[(GenreIdx, u32); 4]>,
}

#[derive(Debug, Clone)]
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

#[derive(Debug, Clone)]
pub(crate) struct OrderRecord {
    pub(crate) buyer: PatronId,
    pub(crate) tickets: Vec<TicketId>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SeenEvent {
    pub(crate) fingerprint: u64,
    pub(crate) patron: PatronId,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FiredKey {
    pub(crate) rule: Box<str>,
    pub(crate) patron: PatronId,
    pub(crate) key: Box<str>,
}
