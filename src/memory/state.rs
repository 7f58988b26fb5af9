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

    /// Files a ticket just issued (recorded in `holder`'s history) as held by them.
    pub(crate) fn hold(
        &mut self,
        holder: PatronId,
        ticket: &TicketId,
        performance: PerformanceIdx,
    ) {
        if let Some(record) = self.patron_mut(holder) {
            record.held.push(HeldTicket {
                ticket: ticket.clone(),
                performance,
            });
        }
    }

    /// Takes a ticket off its holder's held list: it was refunded or scanned in.
    pub(crate) fn release(&mut self, ticket: &str) {
        let Some(holder) = self.tickets.get(ticket).map(|t| t.holder) else {
            return;
        };
        let holder = self.live(holder);
        if let Some(record) = self.patron_mut(holder) {
            // Every copy: a history reshaped by merges and splits may list a ticket twice.
            record.held.retain(|h| h.ticket.as_str() != ticket);
        }
    }

    /// Recomputes a patron's held tickets from their history, after a merge or split
    /// reshaped it or a snapshot was loaded: the tickets in it they hold now (a merged
    /// holder's are the survivor's), not refunded and not scanned in.
    pub(crate) fn refresh_held(&mut self, patron: PatronId) {
        let Some(record) = self.patron(patron) else {
            return;
        };
        let held: SmallVec<[HeldTicket; 2]> = record
            .history
            .iter()
            .filter_map(|interaction| match interaction.kind() {
                crate::model::history::InteractionKind::Ticketed { ticket, .. } => {
                    let t = self.tickets.get(ticket.as_str())?;
                    (self.live(t.holder) == patron && !t.refunded && !t.scanned_in).then(|| {
                        HeldTicket {
                            ticket: ticket.clone(),
                            performance: t.performance,
                        }
                    })
                }
                _ => None,
            })
            .collect();
        if let Some(record) = self.patron_mut(patron) {
            record.held = held;
        }
    }

    /// Recomputes every patron's held tickets (after loading a snapshot).
    pub(crate) fn refresh_all_held(&mut self) {
        for i in 0..self.patrons.len() {
            let id = self.patrons[i].id;
            if self.patrons[i].merged_into.is_none() {
                self.refresh_held(id);
            } else {
                self.patrons[i].held.clear();
            }
        }
    }
}

/// Where a patron's record sits in the dense table: ids are handed out from 1.
pub(crate) fn slot(id: PatronId) -> Option<usize> {
    usize::try_from(id.as_u64()).ok()?.checked_sub(1)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PatronRecord {
    pub(crate) id: PatronId,
    #[serde(with = "super::binary_time")]
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
    /// Tickets in their history they hold and have not used: not refunded, not scanned
    /// in, in the order issued. Derived (see [`State::refresh_held`]), so the visit rules
    /// find bookings ahead without walking the whole history.
    #[serde(skip)]
    pub(crate) held: SmallVec<[HeldTicket; 2]>,
}

/// A ticket a patron holds and has not used yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldTicket {
    pub(crate) ticket: TicketId,
    pub(crate) performance: PerformanceIdx,
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
            held: SmallVec::new(),
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
