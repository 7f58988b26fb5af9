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
use crate::model::catalog::Catalog;
use crate::model::ids::{EventId, OrderId, PatronId, ScanId, SharedIds, TicketId};
use crate::moments::ledger::{LegacyLedger, MomentLedger};
use crate::privacy::PrivacyState;

/// The first bytes of every snapshot, then the format version.
const MAGIC: &[u8; 8] = b"RGLRSNAP";
const VERSION: u32 = 3;
/// Version 1 images (before erasure and opt-out) are still read: they had no privacy
/// section.
const VERSION_WITHOUT_PRIVACY: u32 = 1;
/// Version 2 images (and 1) are still read: they saved fired moments with their strings,
/// which loading converts to today's compact ledger.
const VERSION_WITH_STRING_MOMENTS: u32 = 2;

type Map<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
type Set<K> = std::collections::HashSet<K, ahash::RandomState>;

/// What a snapshot saves, borrowed from memory.
#[derive(Serialize)]
struct Saved<'a> {
    catalog: &'a Catalog,
    patrons: &'a [PatronRecord],
    identifiers: &'a IdentifierIndex,
    blocking: &'a BlockingIndex,
    tickets: &'a Map<TicketId, TicketRecord>,
    orders: &'a Map<OrderId, OrderRecord>,
    events: &'a Map<EventId, SeenEvent>,
    scans: &'a Set<ScanId>,
    ledger: &'a MomentLedger,
    due: Vec<(DateTime<Utc>, PatronId, &'a str)>,
    identity: &'a Identity,
    privacy: &'a PrivacyState,
}

/// The same, owned, as loaded (with the ledger in the shape of the image's version).
#[derive(Deserialize)]
struct Loaded<Ledger = MomentLedger> {
    catalog: Catalog,
    patrons: Vec<PatronRecord>,
    identifiers: IdentifierIndex,
    blocking: BlockingIndex,
    tickets: Map<TicketId, TicketRecord>,
    orders: Map<OrderId, OrderRecord>,
    events: Map<EventId, SeenEvent>,
    scans: Set<ScanId>,
    ledger: Ledger,
    due: Vec<(DateTime<Utc>, PatronId, String)>,
    identity: Identity,
}

impl Loaded<LegacyLedger> {
    /// An older image's contents with its fired moments in today's shape.
    fn upgrade(self) -> Loaded {
        Loaded {
            catalog: self.catalog,
            patrons: self.patrons,
            identifiers: self.identifiers,
            blocking: self.blocking,
            tickets: self.tickets,
            orders: self.orders,
            events: self.events,
            scans: self.scans,
            ledger: self.ledger.upgrade(),
            due: self.due,
            identity: self.identity,
        }
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
        if version != VERSION
            && version != VERSION_WITH_STRING_MOMENTS
            && version != VERSION_WITHOUT_PRIVACY
        {
            return Err(corrupt(format!(
                "format version {version}, this build reads {VERSION}"
            )));
        }
        // Each id is saved once per copy; reading them back through a table of recent ids
        // makes most copies share an allocation again, as in the memory that was saved.
        let sharing = SharedIds::start();
        let undecodable = |e: postcard::Error| corrupt(format!("undecodable: {e}"));
        let (loaded, rest): (Loaded, _) = if version == VERSION {
            postcard::take_from_bytes(&body[header..]).map_err(undecodable)?
        } else {
            let (loaded, rest): (Loaded<LegacyLedger>, _) =
                postcard::take_from_bytes(&body[header..]).map_err(undecodable)?;
            (loaded.upgrade(), rest)
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
            decisions: defaults.decisions,
        };
        state.identity.review_limit = defaults.identity.review_limit;
        state.privacy.keep_aggregates = defaults.privacy.keep_aggregates;
        state.ledger.reindex(state.patrons.len()).map_err(corrupt)?;
        // The compact copies recognition compares are derived, not saved.
        let ids: Vec<PatronId> = state.patrons.iter().map(|record| record.id).collect();
        for id in ids {
            state.refresh_comparison_keys(id);
        }
        state.refresh_all_held();
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
        let history = &state.patrons[0].history;
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
        let (table_event, _) = state.events.get_key_value("e-1").unwrap();
        assert!(
            history.iter().all(|interaction| std::ptr::eq(
                interaction.event().as_str(),
                table_event.as_str()
            ))
        );
    }
}
