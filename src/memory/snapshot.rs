//! Snapshots: memory as one checksummed binary image, so a restart does not replay every
//! event.
//!
//! A snapshot holds what memory learned (catalog, patrons, indexes, tickets, orders, seen
//! events, fired moments, the identity graph), never its configuration (strategies,
//! rules, thresholds, clock), which comes from the builder that loads it.
//!
//! Loading a large memory is mostly allocating its many small values and filing them in
//! hash tables: the tables of tickets, orders, events and scans are sized once for the
//! entries the image holds instead of growing (and hashing every key again) step by step.

use std::cell::Cell;
use std::hash::Hash;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::Memory;
use super::identity::Identity;
use super::index::{BlockingIndex, IdentifierIndex};
use super::state::{OrderRecord, PatronRecord, SeenEvent, State, TicketRecord};
use crate::error::{Error, Result};
use crate::model::catalog::Catalog;
use crate::model::ids::{EventId, OrderId, PatronId, ScanId, TicketId};
use crate::moments::ledger::MomentLedger;

/// The first bytes of every snapshot, then the format version.
const MAGIC: &[u8; 8] = b"RGLRSNAP";
const VERSION: u32 = 1;

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
}

/// The same, owned, as loaded.
#[derive(Deserialize)]
struct Loaded {
    catalog: Catalog,
    patrons: Vec<PatronRecord>,
    identifiers: IdentifierIndex,
    blocking: BlockingIndex,
    tickets: Presized<Map<TicketId, TicketRecord>>,
    orders: Presized<Map<OrderId, OrderRecord>>,
    events: Presized<Map<EventId, SeenEvent>>,
    scans: Presized<Set<ScanId>>,
    ledger: MomentLedger,
    due: Vec<(DateTime<Utc>, PatronId, String)>,
    identity: Identity,
}

thread_local! {
    /// Bytes of the image being decoded on this thread: a bound on how many entries a
    /// map can really hold, so a hostile length cannot make [`Presized`] reserve more.
    static DECODING_BYTES: Cell<usize> = const { Cell::new(0) };
}

/// Decodes `bytes` as a `T`, letting maps reserve room for the entries `bytes` can hold.
fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T> {
    let before = DECODING_BYTES.replace(bytes.len());
    let decoded = postcard::from_bytes(bytes);
    DECODING_BYTES.set(before);
    decoded.map_err(|e| corrupt(format!("undecodable: {e}")))
}

/// A hash map or set decoded into a table sized once for all its entries: growing it
/// step by step would allocate and hash every key again at each step.
struct Presized<T>(T);

/// Room to reserve for a map said to hold `claimed` entries: each takes at least one
/// byte of the image.
fn room(claimed: Option<usize>) -> usize {
    claimed.unwrap_or(0).min(DECODING_BYTES.get())
}

impl<'de, K, V> Deserialize<'de> for Presized<Map<K, V>>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Deserialize<'de> + Eq + Hash,
            V: Deserialize<'de>,
        {
            type Value = Map<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut map = Map::with_capacity_and_hasher(
                    room(access.size_hint()),
                    ahash::RandomState::default(),
                );
                while let Some((key, value)) = access.next_entry()? {
                    map.insert(key, value);
                }
                Ok(map)
            }
        }
        deserializer
            .deserialize_map(MapVisitor(PhantomData))
            .map(Presized)
    }
}

impl<'de, K> Deserialize<'de> for Presized<Set<K>>
where
    K: Deserialize<'de> + Eq + Hash,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct SetVisitor<K>(PhantomData<K>);
        impl<'de, K> Visitor<'de> for SetVisitor<K>
        where
            K: Deserialize<'de> + Eq + Hash,
        {
            type Value = Set<K>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a set")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut set = Set::with_capacity_and_hasher(
                    room(access.size_hint()),
                    ahash::RandomState::default(),
                );
                while let Some(key) = access.next_element()? {
                    set.insert(key);
                }
                Ok(set)
            }
        }
        deserializer
            .deserialize_seq(SetVisitor(PhantomData))
            .map(Presized)
    }
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
        if version != VERSION {
            return Err(corrupt(format!(
                "format version {version}, this build reads {VERSION}"
            )));
        }
        let loaded: Loaded = decode(&body[header..])?;
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
            tickets: loaded.tickets.0,
            orders: loaded.orders.0,
            events: loaded.events.0,
            scans: loaded.scans.0,
            ledger: loaded.ledger,
            identity: loaded.identity,
            decisions: defaults.decisions,
        };
        state.identity.review_limit = defaults.identity.review_limit;
        state.ledger.reindex();
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
