//! Snapshots: memory as one checksummed binary image, so a restart does not replay every
//! event.
//!
//! A snapshot holds what memory learned (catalog, patrons, indexes, tickets, orders, seen
//! events, fired moments, the identity graph), never its configuration (strategies,
//! rules, thresholds, clock), which comes from the builder that loads it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Memory;
use super::identity::Identity;
use super::index::{BlockingIndex, IdentifierIndex};
use super::state::{OrderRecord, PatronRecord, SeenEvent, State, TicketRecord};
use crate::error::{Error, Result};
use crate::model::catalog::{Catalog, PerformanceIdx};
use crate::model::history::{Entry, EntryKind, Interaction, InteractionKind, Seat};
use crate::model::ids::Handle;
use crate::model::ids::{IdTable, OrderId, PatronId, SharedIds, TextTable, TicketId};
use crate::model::money::Money;
use crate::moments::ledger::{LegacyLedger, MomentLedger};
use crate::privacy::PrivacyState;

/// The first bytes of every snapshot, then the format version.
const MAGIC: &[u8; 8] = b"RGLRSNAP";
/// Version 3: history, tickets and orders refer to ids by their handle (position) in
/// the id tables, and fired moments are compact records.
const VERSION: u32 = 3;
/// Version 1: as version 2, before erasure and opt-out (no privacy section).
const VERSION_WITHOUT_PRIVACY: u32 = 1;
/// Version 2: ids spelled out in history, tickets and orders, and fired moments saved
/// with their strings. Loading converts both to today's shape.
const VERSION_WITH_STRING_MOMENTS: u32 = 2;

/// What a snapshot saves, borrowed from memory.
#[derive(Serialize)]
struct Saved<'a> {
    catalog: &'a Catalog,
    patrons: &'a [PatronRecord],
    identifiers: &'a IdentifierIndex,
    blocking: &'a BlockingIndex,
    tickets: &'a IdTable<TicketId, TicketRecord>,
    orders: &'a IdTable<OrderId, OrderRecord>,
    events: &'a TextTable<SeenEvent>,
    scans: &'a TextTable<()>,
    ledger: &'a MomentLedger,
    due: Vec<(DateTime<Utc>, PatronId, &'a str)>,
    identity: &'a Identity,
    privacy: &'a PrivacyState,
}

/// The same, owned, as loaded.
#[derive(Deserialize)]
struct Loaded {
    catalog: Catalog,
    patrons: Vec<PatronRecord>,
    identifiers: IdentifierIndex,
    blocking: BlockingIndex,
    tickets: IdTable<TicketId, TicketRecord>,
    orders: IdTable<OrderId, OrderRecord>,
    events: TextTable<SeenEvent>,
    scans: TextTable<()>,
    ledger: MomentLedger,
    due: Vec<(DateTime<Utc>, PatronId, String)>,
    identity: Identity,
}

/// What versions 1 and 2 saved: ids spelled out in history, tickets and orders. Read
/// once and turned into handles, so older images still load.
#[derive(Deserialize)]
struct LoadedLegacy {
    catalog: Catalog,
    patrons: Vec<PatronRecord<Interaction>>,
    identifiers: IdentifierIndex,
    blocking: BlockingIndex,
    tickets: Vec<(TicketId, LegacyTicket)>,
    orders: Vec<(OrderId, LegacyOrder)>,
    events: TextTable<SeenEvent>,
    scans: TextTable<()>,
    ledger: LegacyLedger,
    due: Vec<(DateTime<Utc>, PatronId, String)>,
    identity: Identity,
}

/// A ticket as versions 1 and 2 saved it.
#[derive(Deserialize)]
struct LegacyTicket {
    _order: OrderId,
    performance: PerformanceIdx,
    seat: Option<Seat>,
    price: Option<Money>,
    buyer: PatronId,
    holder: PatronId,
    refunded: bool,
    scanned_in: bool,
}

/// An order as versions 1 and 2 saved it.
#[derive(Deserialize)]
struct LegacyOrder {
    buyer: PatronId,
    tickets: Vec<TicketId>,
}

impl LoadedLegacy {
    /// Files every id in its table, in the order saved, each order's tickets together,
    /// and rewrites history with handles.
    fn upgrade(self) -> Result<Loaded> {
        let mut loose: std::collections::HashMap<TicketId, LegacyTicket, ahash::RandomState> =
            self.tickets.into_iter().collect();
        let mut tickets = IdTable::default();
        let mut orders = IdTable::default();
        let full = || corrupt("more ids than a table holds");
        for (order_id, order) in self.orders {
            let handle = Handle::try_from(orders.len()).map_err(|_| full())?;
            let first_ticket = Handle::try_from(tickets.len()).map_err(|_| full())?;
            let mut count = 0u32;
            for id in order.tickets {
                let Some(t) = loose.remove(id.as_str()) else {
                    continue;
                };
                let record = TicketRecord {
                    order: handle,
                    performance: t.performance,
                    seat: t.seat,
                    price: t.price,
                    buyer: t.buyer,
                    holder: t.holder,
                    refunded: t.refunded,
                    scanned_in: t.scanned_in,
                };
                tickets.insert(id, record).ok_or_else(full)?;
                count = count.saturating_add(1);
            }
            let record = OrderRecord {
                buyer: order.buyer,
                first_ticket,
                tickets: count,
            };
            orders.insert(order_id, record).ok_or_else(full)?;
        }
        let mut patrons = Vec::with_capacity(self.patrons.len());
        for mut record in self.patrons {
            let history = std::mem::take(&mut record.history);
            let mut entries = Vec::with_capacity(history.len());
            for interaction in history {
                let unknown = || {
                    corrupt(format!(
                        "patron {} has history naming an unknown event, order or ticket",
                        record.id
                    ))
                };
                let event = self
                    .events
                    .handle(interaction.event().as_str())
                    .ok_or_else(unknown)?;
                let at = interaction.at();
                let kind = match interaction.into_kind() {
                    InteractionKind::Ordered { order, .. } => EntryKind::Ordered {
                        order: orders.handle(order.as_str()).ok_or_else(unknown)?,
                    },
                    InteractionKind::Ticketed { ticket, .. } => EntryKind::Ticketed {
                        ticket: tickets.handle(ticket.as_str()).ok_or_else(unknown)?,
                    },
                    InteractionKind::Scanned {
                        ticket, direction, ..
                    } => EntryKind::Scanned {
                        ticket: tickets.handle(ticket.as_str()).ok_or_else(unknown)?,
                        direction,
                    },
                    other => EntryKind::Other(Box::new(other)),
                };
                entries.push(Entry { at, event, kind });
            }
            patrons.push(record.with_history(entries));
        }
        Ok(Loaded {
            catalog: self.catalog,
            patrons,
            identifiers: self.identifiers,
            blocking: self.blocking,
            tickets,
            orders,
            events: self.events,
            scans: self.scans,
            ledger: self.ledger.upgrade(),
            due: self.due,
            identity: self.identity,
        })
    }
}

/// The part of a snapshot written since version 2, after the rest.
#[derive(Deserialize)]
struct LoadedPrivacy {
    privacy: PrivacyState,
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::InvalidSnapshot(reason.into())
}

impl Memory {
    /// Memory as one binary image: everything it learned, none of its configuration.
    /// Load it with [`MemoryBuilder::build_from_snapshot`](crate::MemoryBuilder::build_from_snapshot).
    ///
    /// The image starts with a magic number and format version and ends with a CRC-32 of
    /// everything before it. It holds personal data: store it as carefully as the memory.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// let image = memory.snapshot();
    /// let restored = Memory::builder().build_from_snapshot(&image)?;
    /// assert_eq!(restored.patron_count(), 1);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn snapshot(&self) -> Vec<u8> {
        let state = &self.state;
        let rule_id = |idx: u16| self.engine.rules.get(usize::from(idx)).map(|r| r.rule.id());
        let saved = Saved {
            catalog: &state.catalog,
            patrons: &state.patrons,
            identifiers: &state.identifiers,
            blocking: &state.blocking,
            tickets: &state.tickets,
            orders: &state.orders,
            events: &state.events,
            scans: &state.scans,
            ledger: &state.ledger,
            due: state
                .ledger
                .due_entries()
                .filter_map(|(at, patron, rule)| Some((at, patron, rule_id(rule)?)))
                .collect(),
            identity: &state.identity,
            privacy: &state.privacy,
        };
        let mut bytes = Vec::with_capacity(1 << 16);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        // Serializing plain data into a Vec cannot fail; should it, the image is refused
        // on load by its checksum rather than panicking here.
        if let Ok(body) = postcard::to_extend(&saved, bytes) {
            bytes = body;
        } else {
            bytes = Vec::new();
        }
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Replaces what this (freshly built) memory learned with a snapshot's.
    pub(crate) fn restore(&mut self, image: &[u8]) -> Result<()> {
        let header = MAGIC.len() + 4;
        if image.len() < header + 4 {
            return Err(corrupt("too short to be a snapshot"));
        }
        if &image[..MAGIC.len()] != MAGIC {
            return Err(corrupt("not a regulars snapshot (bad magic number)"));
        }
        let (body, crc) = image.split_at(image.len() - 4);
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(body) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        let version = u32::from_le_bytes([body[8], body[9], body[10], body[11]]);
        if ![
            VERSION,
            VERSION_WITH_STRING_MOMENTS,
            VERSION_WITHOUT_PRIVACY,
        ]
        .contains(&version)
        {
            return Err(corrupt(format!(
                "format version {version}, this build reads {VERSION}"
            )));
        }
        // Each id is saved once per copy; reading them back through a table of recent ids
        // makes most copies share an allocation again, as in the memory that was saved.
        let sharing = SharedIds::start();
        let undecodable = |e: postcard::Error| corrupt(format!("undecodable: {e}"));
        let (loaded, rest) = if version == VERSION {
            postcard::take_from_bytes::<Loaded>(&body[header..]).map_err(undecodable)?
        } else {
            let (legacy, rest) =
                postcard::take_from_bytes::<LoadedLegacy>(&body[header..]).map_err(undecodable)?;
            (legacy.upgrade()?, rest)
        };
        let privacy = if version == VERSION_WITHOUT_PRIVACY {
            PrivacyState::default()
        } else {
            let (loaded, _): (LoadedPrivacy, _) = postcard::take_from_bytes(rest)
                .map_err(|e| corrupt(format!("undecodable privacy section: {e}")))?;
            loaded.privacy
        };
        drop(sharing);
        // Ids are positions in the patron table: a hostile image must not break that.
        for (i, record) in loaded.patrons.iter().enumerate() {
            if super::state::slot(record.id) != Some(i) {
                return Err(corrupt(format!(
                    "patron {} stored at position {i}",
                    record.id
                )));
            }
        }
        let defaults = std::mem::take(&mut self.state);
        let mut state = State {
            catalog: loaded.catalog,
            patrons: loaded.patrons,
            identifiers: loaded.identifiers,
            blocking: loaded.blocking,
            neutralized: defaults.neutralized,
            tickets: loaded.tickets,
            orders: loaded.orders,
            events: loaded.events,
            scans: loaded.scans,
            ledger: loaded.ledger,
            identity: loaded.identity,
            privacy,
            seats: defaults.seats,
            decisions: defaults.decisions,
        };
        // Handles are positions in the id tables: a hostile image must not break that.
        if let Some(reason) = state.broken_reference() {
            return Err(corrupt(reason));
        }
        state.identity.review_limit = defaults.identity.review_limit;
        state.privacy.keep_aggregates = defaults.privacy.keep_aggregates;
        state.ledger.reindex(state.patrons.len()).map_err(corrupt)?;
        // The compact copies recognition compares are derived, not saved.
        let ids: Vec<PatronId> = state.patrons.iter().map(|record| record.id).collect();
        for id in ids {
            state.refresh_comparison_keys(id);
        }
        state.refresh_all_held();
        state.share_all_seats();
        for (at, patron, rule) in loaded.due {
            // A rule no longer configured has nothing to wake.
            if let Some(idx) = self.engine.rules.iter().position(|r| r.rule.id() == rule)
                && let Ok(idx) = u16::try_from(idx)
            {
                state.ledger.schedule(patron, idx, Some(at));
            }
        }
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::catalog::{Performance, Production, Venue};
    use crate::model::history::InteractionKind;
    use crate::{Event, Order, Signals, Ticket};

    #[test]
    fn restored_ids_share_one_copy_between_history_and_tables() {
        let mut memory = Memory::new();
        let starts = Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap();
        memory
            .define_venue(Venue::new("main", "Main House"))
            .unwrap();
        memory
            .define_production(Production::new("hamlet", "Hamlet"))
            .unwrap();
        memory
            .define_performance(Performance::new("hamlet-1", "hamlet", "main", starts))
            .unwrap();
        let order = Order::new("o-1", Signals::new().email("ana@example.org"))
            .ticket(Ticket::new("t-1", "hamlet-1"));
        memory.observe(Event::order("e-1", order)).unwrap();
        let restored = Memory::builder()
            .build_from_snapshot(&memory.snapshot())
            .unwrap();

        let state = &restored.state;
        let history: Vec<_> = state.patrons[0]
            .history
            .iter()
            .filter_map(|entry| state.interaction(entry))
            .collect();
        let (ticket, order) = history
            .iter()
            .find_map(|interaction| match interaction.kind() {
                InteractionKind::Ticketed { ticket, order, .. } => Some((ticket, order)),
                _ => None,
            })
            .unwrap();
        let (table_ticket, _) = state.tickets.get_key_value("t-1").unwrap();
        assert!(std::ptr::eq(ticket.as_str(), table_ticket.as_str()));
        let (table_order, _) = state.orders.get_key_value("o-1").unwrap();
        assert!(std::ptr::eq(order.as_str(), table_order.as_str()));
        // Event ids are kept once, end to end in the events table.
        assert_eq!(state.events.len(), 1);
        assert!(
            history
                .iter()
                .all(|interaction| interaction.event().as_str() == "e-1")
        );
        // Every ticket's seat is the shared copy of that seat.
        let mut seats = state.tickets.iter().filter_map(|(_, t)| t.seat.as_ref());
        assert!(seats.all(|seat| state.seats.get(seat).is_some_and(|s| s.is_same_copy(seat))));
    }
}
