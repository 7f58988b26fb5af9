//! The tickets a patron holds and has not used, kept two ways: in the order issued (what
//! [`PatronView::unused_tickets`](crate::PatronView::unused_tickets) lists), and as the
//! distinct performances they are for, in date order, so the visit rules number a booking
//! by two binary searches however many bookings a patron holds.

use std::ops::Deref;

use smallvec::SmallVec;

use super::footprint::Tally;
use super::state::HeldTicket;
use crate::model::catalog::{Catalog, PerformanceIdx};
use crate::model::ids::Handle;

/// A patron's unused tickets (see the module docs): one pointer while they hold none, one
/// allocation for the usual few. Reads as the tickets in the order issued.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeldTickets(Option<Box<Lists>>);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Lists {
    /// Tickets not refunded and not scanned in, in the order issued (a history reshaped
    /// by merges and splits may list one twice).
    issued: SmallVec<[HeldTicket; 2]>,
    /// The distinct performances of `issued` that the patron has not attended and the
    /// catalog defines, by start and then id: [`chronological`].
    performances: SmallVec<[PerformanceIdx; 4]>,
}

/// The order bookings happen in: by start, then by id, so two performances starting
/// together still have one. `None` (a position the catalog does not hold) never occurs
/// among filed performances.
pub(crate) fn chronological(
    catalog: &Catalog,
    performance: PerformanceIdx,
) -> Option<(chrono::DateTime<chrono::Utc>, &str)> {
    let performance = &catalog.performance_entry(performance)?.performance;
    Some((performance.starts_at(), performance.id().as_str()))
}

impl HeldTickets {
    /// Derives both lists from the unused tickets in the order issued; `attended` says
    /// which performances the patron attended (those are not bookings ahead).
    pub(crate) fn derive(
        issued: impl IntoIterator<Item = HeldTicket>,
        attended: impl Fn(PerformanceIdx) -> bool,
        catalog: &Catalog,
    ) -> Self {
        let issued: SmallVec<[HeldTicket; 2]> = issued.into_iter().collect();
        if issued.is_empty() {
            return Self::default();
        }
        let mut performances: SmallVec<[PerformanceIdx; 4]> = issued
            .iter()
            .map(|held| held.performance)
            .filter(|&p| !attended(p) && catalog.performance_entry(p).is_some())
            .collect();
        performances.sort_by_cached_key(|&p| chronological(catalog, p));
        performances.dedup();
        Self(Some(Box::new(Lists {
            issued,
            performances,
        })))
    }

    /// Files a ticket just issued; `attended` says whether the patron attended its
    /// performance already.
    pub(crate) fn hold(&mut self, held: HeldTicket, catalog: &Catalog, attended: bool) {
        let lists = self.0.get_or_insert_with(Box::default);
        // Exact growth: most patrons hold a few tickets.
        lists.issued.reserve_exact(1);
        lists.issued.push(held);
        let Some(key) = chronological(catalog, held.performance) else {
            return;
        };
        if attended {
            return;
        }
        let at = lists
            .performances
            .partition_point(|&p| chronological(catalog, p) < Some(key));
        if lists.performances.get(at) != Some(&held.performance) {
            lists.performances.insert(at, held.performance);
        }
    }

    /// Takes a ticket off (every copy): it was refunded or scanned in. Its performance is
    /// no longer a booking once no other ticket for it is held.
    pub(crate) fn release(&mut self, ticket: Handle) {
        let Some(lists) = &mut self.0 else {
            return;
        };
        let Some(performance) = lists
            .issued
            .iter()
            .find(|held| held.ticket == ticket)
            .map(|held| held.performance)
        else {
            return;
        };
        lists.issued.retain(|held| held.ticket != ticket);
        if lists.issued.is_empty() {
            self.0 = None;
            return;
        }
        if !lists
            .issued
            .iter()
            .any(|held| held.performance == performance)
        {
            lists.performances.retain(|p| *p != performance);
        }
    }

    /// The patron attended `performance`: a ticket still held for it is no booking ahead.
    pub(crate) fn attended(&mut self, performance: PerformanceIdx) {
        if let Some(lists) = &mut self.0 {
            lists.performances.retain(|p| *p != performance);
        }
    }

    /// Puts the performances back in date order after one of them was rescheduled.
    pub(crate) fn reorder(&mut self, catalog: &Catalog) {
        if let Some(lists) = &mut self.0 {
            lists
                .performances
                .sort_by_cached_key(|&p| chronological(catalog, p));
        }
    }

    /// The distinct performances they hold a ticket for and have not attended, in the
    /// order they happen (see [`chronological`]), past ones included.
    pub(crate) fn performances(&self) -> &[PerformanceIdx] {
        self.0
            .as_deref()
            .map_or(&[], |lists| lists.performances.as_slice())
    }

    /// Counts the box and any spilled buffer (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut Tally) {
        if let Some(lists) = &self.0 {
            let inline =
                |spilled: bool, len: usize, size: usize| if spilled { 0 } else { len * size };
            let used = inline(
                lists.issued.spilled(),
                lists.issued.len(),
                size_of::<HeldTicket>(),
            ) + inline(
                lists.performances.spilled(),
                lists.performances.len(),
                size_of::<PerformanceIdx>(),
            );
            tally.block(used, size_of::<Lists>());
            tally.small(&lists.issued);
            tally.small(&lists.performances);
        }
    }
}

impl Deref for HeldTickets {
    type Target = [HeldTicket];
    fn deref(&self) -> &[HeldTicket] {
        self.0
            .as_deref()
            .map_or(&[], |lists| lists.issued.as_slice())
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<HeldTickets>() == 8);
