//! A patron's figures from their history: the same rules the write path applies one
//! interaction at a time, run over a whole history when a merge or split reshapes it.

use super::state::{OrderRecord, PatronRecord, Prices, TicketRecord};
use super::stats::{PatronStats, add_money};
use crate::model::catalog::{Catalog, PerformanceIdx};
use crate::model::history::{Direction, EntryKind, InteractionKind, OtherRef};
use crate::model::ids::TextTable;
use crate::model::money::Money;

/// The tables history entries refer to.
#[derive(Clone, Copy)]
pub(crate) struct Tables<'a> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) tickets: &'a TextTable<TicketRecord>,
    pub(crate) orders: &'a TextTable<OrderRecord>,
    /// The prices tickets name by number.
    pub(crate) prices: &'a Prices,
}

/// Counts an attendance once per patron and performance; returns whether it was new.
pub(crate) fn attend(
    record: &mut PatronRecord,
    catalog: &Catalog,
    performance: PerformanceIdx,
) -> bool {
    let Some(entry) = catalog.performance_entry(performance) else {
        return false;
    };
    let starts_at = entry.performance.starts_at();
    let production = entry.production;
    if !record.attendance.attend(
        performance,
        production,
        starts_at,
        catalog.genres_of(production),
    ) {
        return false;
    }
    // A ticket still held for it is no booking ahead any more.
    record.held.attended(performance);
    record.stats.attended(starts_at);
    true
}

/// Recomputes every figure of a patron from their history (in any order).
pub(crate) fn rebuild(record: &mut PatronRecord, tables: Tables<'_>) {
    let catalog = tables.catalog;
    record.stats = PatronStats::default();
    record.attendance = super::attendance::Attendance::default();
    let history = std::mem::take(&mut record.history);
    for entry in &history {
        let stats = &mut record.stats;
        stats.seen(entry.at());
        let kind = match entry.kind() {
            EntryKind::Ordered { order } => {
                stats.orders = stats.orders.saturating_add(1);
                let tickets = tables.orders.value(order).map(OrderRecord::ticket_handles);
                for ticket in tickets.into_iter().flatten() {
                    if let Some(price) = tables
                        .tickets
                        .value(ticket)
                        .and_then(|t| tables.prices.of(t))
                    {
                        add_money(&mut stats.spend, price);
                    }
                }
                continue;
            }
            EntryKind::Ticketed { .. } => {
                stats.tickets = stats.tickets.saturating_add(1);
                continue;
            }
            EntryKind::Scanned { ticket, direction } => {
                if direction == Direction::Entry
                    && let Some(t) = tables.tickets.value(ticket)
                {
                    attend(record, catalog, t.performance);
                }
                continue;
            }
            EntryKind::Other(OtherRef::Purchased { items, .. }) => {
                stats.purchases = stats.purchases.saturating_add(1);
                for total in items.iter().filter_map(|i| i.total()) {
                    add_money(&mut stats.spend, total);
                }
                continue;
            }
            EntryKind::Other(OtherRef::Whole(kind)) => kind,
        };
        match kind {
            InteractionKind::Refunded {
                tickets, amount, ..
            } => {
                let count = u32::try_from(tickets.len()).unwrap_or(u32::MAX);
                stats.refunded(count);
                if let Some(money) = amount {
                    add_money(
                        &mut stats.spend,
                        Money::new(money.minor().saturating_neg(), money.currency()),
                    );
                }
            }
            InteractionKind::Donated { amount, .. } => {
                stats.donated_once(*amount);
            }
            InteractionKind::Membership {
                scheme,
                valid_from,
                valid_to,
                price,
            } => {
                stats.joined(super::stats::MembershipSpan {
                    scheme: scheme.clone(),
                    valid_from: *valid_from,
                    valid_to: *valid_to,
                });
                if let Some(price) = price {
                    add_money(&mut stats.spend, *price);
                }
            }
            // Stored in their compact forms, counted above.
            InteractionKind::Purchased { .. }
            | InteractionKind::Ordered { .. }
            | InteractionKind::Ticketed { .. }
            | InteractionKind::Scanned { .. } => {}
        }
    }
    record.history = history;
}
