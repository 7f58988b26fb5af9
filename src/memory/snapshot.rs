//! Snapshots: memory as one checksummed binary image, so a restart does not replay every
//! event.
//!
//! A snapshot holds what memory learned (catalog, patrons, indexes, tickets, orders, seen
//! events, fired moments, the identity graph), never its configuration (strategies,
//! rules, thresholds, clock), which comes from the builder that loads it.
//!
//! Since version 4 the body is three sections, each decodable alone, so that loading
//! uses two threads: the patrons with the tickets their histories name (and the catalog
//! and scans), decoded on one thread, which then derives what it can from them alone;
//! the rest (orders, indexes, fired moments, due times, identity graph, privacy state,
//! the patron count), decoded on the other, which then checks the fired moments against
//! that count and indexes them by patron; and the seen events in between, taken by
//! whichever thread is free first. The lengths of the first two sections come first, as
//! two `u64`s. Loading gives the same memory however the work was shared: each section
//! is decoded on its own, and they are put together in one order. History, tickets and
//! orders name vendor ids by their handle in the id tables; since version 5 the ticket
//! and order tables save their ids as plain strings (memory keeps them end to end in one
//! text per table) and each performance's tickets are not saved but derived from the
//! tickets table on load; within a section another vendor id repeated shortly after it
//! was written whole is written as a slot number (see `NumberedIds`), so its copies load
//! as one shared allocation without a lookup by text; times are integers (see
//! [`binary_time`](super::binary_time)), since version 6 fired moments' too; since
//! version 7 a merge record keeps only what a split reads of the survivor as it was;
//! since version 8 the fired moments name their ticket ids, performances and seats by
//! position in tables saved before them, each listed once.
//! Version 7 (each fired moment with its ids and seat), version 6 (merge records with the survivor's whole record), version 5
//! (fired moments' times as text), version 4 (as 5, with ticket and order ids numbered and
//! the catalog listing each performance's ticket ids) and versions 1 and 2 (one section,
//! ids spelled out, times as text, fired moments with their strings) still load,
//! converted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Memory;
use super::identity::{Identity, WholeMergeCopies};
use super::index::{BlockingIndex, IdentifierIndex};
use super::state::{
    LoadedPatronList, LoadedTicket, OrderRecord, PatronRecord, SavedTickets, SeenEvent, State,
    TicketRecord,
};
use crate::chunked::Chunked;
use crate::error::{Error, Result};
use crate::model::catalog::{Catalog, CatalogWithTickets, PerformanceIdx};
use crate::model::history::{Entry, EntryKind, Interaction, InteractionKind, Seat, SharedSeats};
use crate::model::ids::{
    CompactPatronId, Handle, IdTable, NumberedIds, OrderId, PatronId, ReserveBudget,
    RoomForRecords, SharedIds, TextTable, TicketId,
};
use crate::model::money::Money;
use crate::moments::ledger::{LedgerImage, LegacyLedger, MomentLedger, MomentsWithIds};
use crate::privacy::PrivacyState;

/// The first bytes of every snapshot, then the format version.
const MAGIC: &[u8; 8] = b"RGLRSNAP";
/// Version 4: three sections, times as integers, history, tickets and orders referring
/// to ids by their handle (position) in the id tables, fired moments as compact records,
/// the last section giving the patron count. (Version 3, as 4 without that count, was
/// never released: it is refused like any unknown version.)
///
/// Version 5: as 4, with ticket and order ids kept end to end in one text per table
/// (saved as plain strings), and each performance's tickets derived from the tickets
/// table rather than saved with the catalog.
///
/// Version 6: as 5, with the time each fired moment fired as an integer like every other
/// time (until then it was RFC 3339 text, whose parsing was a tenth of loading).
///
/// Version 7: as 6, with each merge record keeping only what a split and erasure read
/// of the survivor as it was (until then its whole record, figures included).
///
/// Version 8: as 7, with the fired moments' ticket ids, performances and seats listed
/// once each before the moments, which name them by position (until then each moment
/// held its own, so loading read and filed a ticket id and a seat per moment).
const VERSION: u32 = 8;
/// Version 7: each fired moment with its performance, ticket id and seat. Loading reads
/// them so.
const VERSION_WITH_MOMENT_IDS: u32 = 7;
/// Version 6: merge records with the survivor's whole record. Loading keeps what
/// version 7 keeps of it.
const VERSION_WITH_WHOLE_MERGE_COPIES: u32 = 6;
/// Version 5: fired moments' times as text. Loading reads them so.
const VERSION_WITH_TEXT_MOMENT_TIMES: u32 = 5;
/// Version 4: ticket and order ids saved as numbered ids, and the catalog listing each
/// performance's ticket ids. Loading converts it.
const VERSION_WITH_NUMBERED_TICKETS: u32 = 4;
/// Version 2: one section, times as RFC 3339 text, ids spelled out in history, tickets
/// and orders, fired moments saved with their strings. Loading converts it.
const VERSION_WITH_TEXT_TIMES: u32 = 2;
/// Version 1: as version 2, before erasure and opt-out (no privacy section).
const VERSION_WITHOUT_PRIVACY: u32 = 1;

/// The first section of a snapshot, borrowed from memory: the patrons and the tickets
/// their histories name (decoded on one thread, so the ids they share are shared again).
#[derive(Serialize)]
struct SavedPatrons<'a, C = &'a Catalog, T = SavedTickets<'a>> {
    catalog: C,
    #[serde(serialize_with = "super::state::save_patrons")]
    patrons: &'a Chunked<PatronRecord>,
    tickets: T,
    scans: &'a TextTable<()>,
}

/// The last section: everything else but the seen events (the section between).
#[derive(Serialize)]
struct SavedRest<'a, O = &'a TextTable<OrderRecord>> {
    orders: O,
    identifiers: &'a IdentifierIndex,
    blocking: &'a BlockingIndex,
    ledger: LedgerImage<'a, TicketRecord>,
    due: Vec<Due<&'a str>>,
    identity: &'a Identity,
    privacy: &'a PrivacyState,
    /// How many patrons the first section holds, so that the fired moments can be
    /// checked and indexed on the thread that decodes this section.
    patrons: u64,
}

/// The first section, owned, as loaded; `C` and `T` are how the catalog and tickets
/// were saved (see [`PatronsV4`]).
#[derive(Deserialize)]
struct LoadedPatrons<C = Catalog, T = TextTable<LoadedTicket>> {
    catalog: C,
    patrons: LoadedPatronList,
    tickets: T,
    scans: TextTable<()>,
}

/// The first section of a version 4 image: ticket ids each in a shared allocation of
/// their own, and repeated in the catalog's per-performance lists.
type PatronsV4 = LoadedPatrons<CatalogWithTickets, IdTable<TicketId, LoadedTicket>>;

/// The last section of a version 4 image: order ids each in an allocation of their own.
type RestV4 = LoadedRest<IdTable<OrderId, OrderRecord>>;

impl PatronsV4 {
    fn upgrade(self) -> Result<LoadedPatrons> {
        Ok(LoadedPatrons {
            catalog: self.catalog.into(),
            patrons: self.patrons,
            tickets: text_table(self.tickets)?,
            scans: self.scans,
        })
    }
}

impl RestV4 {
    fn upgrade(self) -> Result<LoadedRest> {
        Ok(LoadedRest {
            orders: text_table(self.orders)?,
            identifiers: self.identifiers,
            blocking: self.blocking,
            ledger: self.ledger,
            due: self.due,
            identity: self.identity,
            privacy: self.privacy,
            patrons: self.patrons,
            ticket_reach: 0,
        })
    }
}

/// The same ids and records, their texts end to end in one table (handles unchanged).
fn text_table<K: std::borrow::Borrow<str>, V>(table: IdTable<K, V>) -> Result<TextTable<V>> {
    let mut texts = TextTable::default();
    for (id, value) in table.into_entries() {
        texts
            .insert(id.borrow(), value)
            .ok_or_else(|| corrupt("more ids than a table holds"))?;
    }
    Ok(texts)
}

/// The last section, owned, as loaded; `O` is how the orders were saved.
#[derive(Deserialize)]
struct LoadedRest<O = TextTable<OrderRecord>> {
    orders: O,
    identifiers: IdentifierIndex,
    blocking: BlockingIndex,
    ledger: MomentLedger,
    due: Vec<Due<String>>,
    identity: Identity,
    privacy: PrivacyState,
    patrons: u64,
    /// One past the last ticket handle the orders name: worked out after loading (see
    /// [`Reach`]).
    #[serde(skip)]
    ticket_reach: u64,
}

/// How far the records of the first section reach into the tables of the others: one
/// past the largest handle they name in each. Worked out on the thread that decoded
/// them, so that checking every handle once the sections are put together compares a
/// few lengths instead of walking memory again on one thread (a cache-cold pass over
/// every patron's history, a twentieth of loading).
#[derive(Debug, Default, Clone, Copy)]
struct Reach {
    events: u64,
    orders: u64,
    tickets: u64,
}

impl Reach {
    fn event(&mut self, handle: Handle) {
        self.events = self.events.max(u64::from(handle) + 1);
    }

    fn order(&mut self, handle: Handle) {
        self.orders = self.orders.max(u64::from(handle) + 1);
    }

    fn ticket(&mut self, handle: Handle) {
        self.tickets = self.tickets.max(u64::from(handle) + 1);
    }
}

/// What versions 1 and 2 saved: ids spelled out in history, tickets and orders. Read
/// once and turned into handles, so older images still load.
#[derive(Deserialize)]
struct LoadedLegacy {
    catalog: CatalogWithTickets,
    patrons: LoadedPatronList<Interaction>,
    identifiers: IdentifierIndex,
    blocking: BlockingIndex,
    tickets: Vec<(TicketId, LegacyTicket)>,
    orders: Vec<(OrderId, LegacyOrder)>,
    events: TextTable<SeenEvent>,
    scans: TextTable<()>,
    ledger: LegacyLedger,
    due: Vec<Due<String>>,
    identity: Identity,
}

/// A ticket as versions 1 and 2 saved it.
#[derive(Deserialize)]
struct LegacyTicket {
    _order: OrderId,
    performance: PerformanceIdx,
    seat: Option<Seat>,
    price: Option<Money>,
    /// Its order's buyer, which the order says too.
    _buyer: PatronId,
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

/// A patron id as the four bytes memory keeps for tickets and orders; one past
/// [`MAX_PATRONS`](crate::model::ids::MAX_PATRONS) is refused.
fn compact(id: PatronId) -> Result<CompactPatronId> {
    CompactPatronId::new(id).ok_or_else(|| {
        corrupt(format!(
            "patron id {id} is past the most patrons memory holds"
        ))
    })
}

impl LoadedLegacy {
    /// Files every id in its table, in the order saved, each order's tickets together,
    /// and rewrites history with handles.
    fn upgrade(self, privacy: PrivacyState) -> Result<Sections<LoadedPatrons>> {
        let mut loose: std::collections::HashMap<TicketId, LegacyTicket, ahash::RandomState> =
            self.tickets.into_iter().collect();
        let mut tickets = TextTable::default();
        let mut orders = TextTable::default();
        let full = || corrupt("more ids than a table holds");
        for (order_id, order) in self.orders {
            let handle = Handle::try_from(orders.len()).map_err(|_| full())?;
            let first_ticket = Handle::try_from(tickets.len()).map_err(|_| full())?;
            let mut count = 0u32;
            for id in order.tickets {
                let Some(t) = loose.remove(id.as_str()) else {
                    continue;
                };
                let mut record =
                    LoadedTicket::new(handle, t.performance, t.seat, t.price, compact(t.holder)?);
                record.record.refunded = t.refunded;
                record.record.scanned_in = t.scanned_in;
                tickets.insert(id.as_str(), record).ok_or_else(full)?;
                count = count.saturating_add(1);
            }
            let record = OrderRecord {
                buyer: compact(order.buyer)?,
                first_ticket,
                tickets: count,
            };
            orders.insert(order_id.as_str(), record).ok_or_else(full)?;
        }
        let patron_count = self.patrons.records.len() as u64;
        let mut patrons = Chunked::default();
        let mut saved = self.patrons.records;
        for (at, kept) in saved.iter_mut().enumerate() {
            // Taken out whole, an empty record left in its place.
            let mut record = std::mem::replace(kept, PatronRecord::new(kept.created_at));
            let history = std::mem::take(&mut record.history);
            let mut entries = Vec::with_capacity(history.len());
            for interaction in history {
                let unknown = || {
                    corrupt(format!(
                        "patron {} has history naming an unknown event, order or ticket",
                        super::state::id_at(at)
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
                    other => EntryKind::Other(other),
                };
                entries.push(Entry::new(at, event, kind));
            }
            patrons.push(record.with_history(entries));
        }
        Ok((
            LoadedPatrons {
                catalog: self.catalog.into(),
                patrons: LoadedPatronList {
                    records: patrons,
                    misplaced: self.patrons.misplaced,
                },
                tickets,
                scans: self.scans,
            },
            self.events,
            LoadedRest {
                orders,
                identifiers: self.identifiers,
                blocking: self.blocking,
                ledger: self.ledger.upgrade(patron_count).map_err(corrupt)?,
                due: self.due,
                identity: self.identity,
                privacy,
                patrons: patron_count,
                ticket_reach: 0,
            },
        ))
    }
}

/// When a time-based rule (by id) is next due for a patron.
#[derive(Serialize, Deserialize)]
struct Due<Rule> {
    #[serde(with = "super::binary_time")]
    at: DateTime<Utc>,
    patron: PatronId,
    rule: Rule,
}

/// The part of a version 2 image after the rest (version 1 had none).
#[derive(Deserialize)]
struct LoadedPrivacy {
    privacy: PrivacyState,
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::InvalidSnapshot(reason.into())
}

/// An image of this version from its three sections.
fn image(
    version: u32,
    patrons: &impl Serialize,
    events: &TextTable<SeenEvent>,
    rest: &impl Serialize,
) -> Vec<u8> {
    // Older versions are written only to test reading them: before 7 whole merge
    // copies, before 8 fired moments with their ids.
    let _whole = (version <= VERSION_WITH_WHOLE_MERGE_COPIES).then(WholeMergeCopies::start);
    let _ids = (version <= VERSION_WITH_MOMENT_IDS).then(MomentsWithIds::start);
    let mut bytes = Vec::with_capacity(1 << 16);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&version.to_le_bytes());
    let lengths_at = bytes.len();
    bytes.extend_from_slice(&[0; 16]);
    // Serializing plain data into a Vec cannot fail; should it, the image is refused
    // on load (too short, or a section that does not decode) rather than panicking.
    // Each section numbers its ids afresh, so it can be read alone.
    let encoded = encode_section(bytes, Some(lengths_at), patrons)
        .and_then(|bytes| encode_section(bytes, Some(lengths_at + 8), events))
        .and_then(|bytes| encode_section(bytes, None, rest));
    let mut bytes = encoded.unwrap_or_default();
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Appends `value` as one section of a version 4 or 5 body, its ids numbered afresh so that
/// it can be read alone, and writes its length at `length_at` if given.
fn encode_section<T: Serialize>(
    bytes: Vec<u8>,
    length_at: Option<usize>,
    value: &T,
) -> postcard::Result<Vec<u8>> {
    let start = bytes.len();
    let _numbered = NumberedIds::writing();
    let mut bytes = postcard::to_extend(value, bytes)?;
    if let Some(at) = length_at {
        let len = (bytes.len() - start) as u64;
        bytes[at..at + 8].copy_from_slice(&len.to_le_bytes());
    }
    Ok(bytes)
}

/// The room the tables of a section may reserve up front from the lengths it
/// announces: a few times its size, as memory holds more per entry than the image
/// does, so that real tables are reserved once and a hostile length reserves no more
/// than the image could fill.
fn reserve_budget(section: &[u8]) -> ReserveBudget {
    ReserveBudget::start(section.len().saturating_mul(4))
}

/// What a snapshot body decodes to: memory holding the first section (with what is
/// derived from it, and how far it reaches), the seen events, and the last section.
type Sections<S = (State, Reach)> = (S, TextTable<SeenEvent>, LoadedRest);

/// Decodes one section of a version 5 (or 4) body, named `what` in errors.
fn decode_section<T: serde::de::DeserializeOwned>(section: &[u8], what: &str) -> Result<T> {
    // Each id is saved whole once, then by number: its copies share one allocation
    // again, as in the memory that was saved.
    let _numbered = NumberedIds::reading();
    // A copy per ticket and fired moment, of a few seats: each read once.
    let _seats = SharedSeats::start();
    let _budget = reserve_budget(section);
    let (value, rest) = postcard::take_from_bytes::<T>(section)
        .map_err(|e| corrupt(format!("undecodable {what} section: {e}")))?;
    if !rest.is_empty() {
        return Err(corrupt(format!(
            "{} bytes after the {what} section",
            rest.len()
        )));
    }
    Ok(value)
}

/// Decodes the seen-events section.
fn decode_events(section: &[u8]) -> Result<TextTable<SeenEvent>> {
    decode_section(section, "seen events")
}

/// Decodes the first section of a version 5 (or, as `PatronsV4`, 4) body.
fn decode_patrons<P: serde::de::DeserializeOwned>(section: &[u8]) -> Result<P> {
    decode_section(section, "patrons")
}

/// Decodes the last section of a version 5 (or, as `RestV4`, 4) body.
fn decode_rest<R: serde::de::DeserializeOwned>(section: &[u8]) -> Result<R> {
    decode_section(section, "indexes")
}

/// Decodes the last section of a version 4 or 5 body: its fired moments' times are text.
fn decode_rest_with_text_moment_times<R: serde::de::DeserializeOwned>(section: &[u8]) -> Result<R> {
    let _text_moment_times = super::binary_time::TextMomentTimes::start();
    decode_rest(section)
}

/// The last section with the per-patron index of its fired moments built (it is derived,
/// not saved), checked against the patron count the section gives, and the reach of its
/// orders into the tickets table worked out.
fn index_rest(mut rest: LoadedRest) -> Result<LoadedRest> {
    let patrons = usize::try_from(rest.patrons).unwrap_or(usize::MAX);
    rest.ledger.reindex(patrons).map_err(corrupt)?;
    rest.ticket_reach = rest
        .orders
        .values()
        .map(|order| u64::from(order.first_ticket) + u64::from(order.tickets))
        .max()
        .unwrap_or(0);
    Ok(rest)
}

/// Memory holding the first section (patrons, tickets, catalog, scans), with what is
/// derived from it alone: the compact copies recognition compares (kept in a blocking
/// index of their own until the saved one is loaded) and the tickets each patron holds.
fn patrons_state(loaded: LoadedPatrons, meanwhile: impl FnOnce()) -> Result<(State, Reach)> {
    let mut reach = Reach::default();
    // Ids are positions in the patron table: a hostile image must not break that.
    if let Some((id, at)) = loaded.patrons.misplaced {
        return Err(corrupt(format!("patron {id} stored at position {at}")));
    }
    for record in loaded.patrons.records.iter() {
        for entry in &record.history {
            reach.event(entry.event());
            match entry.kind() {
                EntryKind::Ordered { order } => reach.order(order),
                EntryKind::Ticketed { ticket } | EntryKind::Scanned { ticket, .. } => {
                    reach.ticket(ticket);
                }
                EntryKind::Other(_) => {}
            }
        }
    }
    let mut state = State {
        catalog: loaded.catalog,
        patrons: loaded.patrons.records,
        scans: loaded.scans,
        ..State::default()
    };
    // First: the held tickets below read them.
    state.file_loaded_tickets(loaded.tickets);
    // Before anything resolves a merged id (held tickets do): `live` reads the slots.
    state.slots = super::slots::PatronSlots::of(&state.patrons);
    // Each performance's tickets, in issue order: the order of their handles (a
    // ticket's position in the table; its id is not needed).
    for (at, ticket) in state.tickets.values().enumerate() {
        reach.order(ticket.order);
        if let (Ok(handle), Some(entry)) = (
            Handle::try_from(at),
            state.catalog.performance_entry_mut(ticket.performance),
        ) {
            entry.tickets.push(handle);
        }
    }
    state.refresh_all_held();
    state.share_all_skus();
    // The compact copies (a large part of loading, and split across threads at will)
    // come last, beside `meanwhile`: the held tickets, seats and codes do not read them.
    super::index::refresh_all_comparison_keys(&state.patrons, &mut state.slots, meanwhile);
    Ok((state, reach))
}

/// Decodes a version 4 body: the lengths of its first two sections, then the patrons
/// (decoded here, then `derive`d), the seen events, and the rest (decoded on a thread of
/// its own). The seen events go to whichever thread is free first, so the two stay
/// about as busy at any size of memory. Without a second thread (spawning failed), one
/// after the other. Each section is decoded alone, so the memory is the same however
/// the work was shared.
fn decode_sections(
    body: &[u8],
    records: usize,
    decode_patrons: impl FnOnce(&[u8], &mut dyn FnMut()) -> Result<(State, Reach)>,
    decode_rest: impl Fn(&[u8]) -> Result<LoadedRest> + Sync,
) -> Result<Sections> {
    let Some((lengths, sections)) = body.split_first_chunk::<16>() else {
        return Err(corrupt("too short for the lengths of its sections"));
    };
    let (first, second) = lengths.split_at(8);
    let first = u64::from_le_bytes(first.try_into().unwrap_or_default());
    let second = u64::from_le_bytes(second.try_into().unwrap_or_default());
    let Some((first_len, second_len)) = usize::try_from(first)
        .ok()
        .zip(usize::try_from(second).ok())
        .filter(|&(a, b)| a.checked_add(b).is_some_and(|end| end <= sections.len()))
    else {
        return Err(corrupt(format!(
            "first sections of {first} and {second} bytes, but only {} follow",
            sections.len()
        )));
    };
    let (patrons, sections) = sections.split_at(first_len);
    let (events, rest) = sections.split_at(second_len);
    let events_taken = std::sync::atomic::AtomicBool::new(false);
    let take_events = || {
        (!events_taken.swap(true, std::sync::atomic::Ordering::AcqRel))
            .then(|| decode_events(events))
    };
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("regulars-snapshot".to_owned())
            .spawn_scoped(scope, || {
                let _room = RoomForRecords::start(records);
                let rest = decode_rest(rest);
                (rest, take_events())
            });
        // The seen events, if still there, are decoded while another thread starts on
        // the patrons' compact copies (or after the patrons, if decoding them failed).
        let mut events_here = None;
        let state = decode_patrons(patrons, &mut || events_here = take_events());
        let events_here = events_here.or_else(take_events);
        let (rest, events_there) = match other {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => (decode_rest(rest), take_events()),
        };
        let events = events_here
            .or(events_there)
            .unwrap_or_else(|| Err(corrupt("seen events section never decoded")));
        Ok((state?, events?, rest?))
    })
}

/// Decodes a version 1 or 2 body: one section, times as text, ids spelled out, fired
/// moments with their strings, privacy state only in version 2.
fn decode_legacy(body: &[u8], version: u32) -> Result<Sections<LoadedPatrons>> {
    // Each id was saved once per copy; reading them back through a table of recent ids
    // makes most copies share an allocation again, as in the memory that was saved.
    let _sharing = SharedIds::start();
    let _seats = SharedSeats::start();
    let _text_times = super::binary_time::TextTimes::start();
    let _whole = WholeMergeCopies::start();
    let (loaded, rest): (LoadedLegacy, _) =
        postcard::take_from_bytes(body).map_err(|e| corrupt(format!("undecodable: {e}")))?;
    let privacy = if version == VERSION_WITHOUT_PRIVACY {
        PrivacyState::default()
    } else {
        let (loaded, _): (LoadedPrivacy, _) = postcard::take_from_bytes(rest)
            .map_err(|e| corrupt(format!("undecodable privacy section: {e}")))?;
        loaded.privacy
    };
    loaded.upgrade(privacy)
}

impl Memory {
    /// Memory as one binary image: everything it learned, none of its configuration.
    /// Load it with [`MemoryBuilder::build_from_snapshot`](crate::MemoryBuilder::build_from_snapshot).
    ///
    /// The image starts with a magic number and format version and ends with a CRC-32 of
    /// everything before it. It holds personal data: store it as carefully as the memory.
    /// Its body is two sections that loading decodes on two threads (one after the other
    /// where a thread cannot be started); the memory loaded is the same either way.
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
        self.image_of_version(VERSION)
    }

    /// The image [`snapshot`](Self::snapshot) writes, marked as `version` (whose layout
    /// it must have: version 5 under a `TextMomentTimes` guard).
    fn image_of_version(&self, version: u32) -> Vec<u8> {
        let state = &self.state;
        let rule_id = |idx: u16| self.engine.rules.get(usize::from(idx)).map(|r| r.rule.id());
        let patrons = SavedPatrons {
            catalog: &state.catalog,
            patrons: &state.patrons,
            tickets: SavedTickets {
                tickets: &state.tickets,
                orders: &state.orders,
                shared: state.shared_values(),
            },
            scans: &state.scans,
        };
        let rest = SavedRest {
            orders: &state.orders,
            identifiers: &state.identifiers,
            blocking: &state.blocking,
            ledger: state.ledger.image(&state.tickets),
            due: state
                .ledger
                .due_entries()
                .filter_map(|(at, patron, rule)| {
                    Some(Due {
                        at,
                        patron,
                        rule: rule_id(rule)?,
                    })
                })
                .collect(),
            identity: &state.identity,
            privacy: &state.privacy,
            patrons: state.patrons.len() as u64,
        };
        image(version, &patrons, &state.events, &rest)
    }

    /// Replaces what this (freshly built) memory learned with a snapshot's.
    pub(crate) fn restore(&mut self, image: &[u8]) -> Result<()> {
        self.restore_checking(image, true, 0)
    }

    /// [`restore`](Self::restore) for an image a journal read back: the journal has
    /// checked its bytes already ([`Journal::latest_snapshot`]), so the image's own
    /// checksum is not worked out again (a pass over the whole image). The id tables
    /// keep room for the `records` the journal replays next (see [`RoomForRecords`]).
    ///
    /// [`Journal::latest_snapshot`]: crate::journal::Journal::latest_snapshot
    pub(crate) fn restore_verified(&mut self, image: &[u8], records: usize) -> Result<()> {
        self.restore_checking(image, false, records)
    }

    fn restore_checking(&mut self, image: &[u8], check_sum: bool, records: usize) -> Result<()> {
        let header = MAGIC.len() + 4;
        if image.len() < header + 4 {
            return Err(corrupt("too short to be a snapshot"));
        }
        if &image[..MAGIC.len()] != MAGIC {
            return Err(corrupt("not a regulars snapshot (bad magic number)"));
        }
        let (body, crc) = image.split_at(image.len() - 4);
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if check_sum && crc32fast::hash(body) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        let version = u32::from_le_bytes([body[8], body[9], body[10], body[11]]);
        if ![
            VERSION,
            VERSION_WITH_MOMENT_IDS,
            VERSION_WITH_WHOLE_MERGE_COPIES,
            VERSION_WITH_TEXT_MOMENT_TIMES,
            VERSION_WITH_NUMBERED_TICKETS,
            VERSION_WITH_TEXT_TIMES,
            VERSION_WITHOUT_PRIVACY,
        ]
        .contains(&version)
        {
            return Err(corrupt(format!(
                "format version {version}, this build reads versions 1, 2, 4, 5, 6, 7 and {VERSION}"
            )));
        }
        let sections = &body[header..];
        let _room = RoomForRecords::start(records);
        // Versions 5 to 8 differ only in the last section: their patrons decode alike.
        let current_patrons = |section: &[u8], meanwhile: &mut dyn FnMut()| {
            decode_patrons::<LoadedPatrons>(section)
                .and_then(|loaded| patrons_state(loaded, meanwhile))
        };
        let ((mut state, reach), events, rest) = if version == VERSION {
            decode_sections(sections, records, current_patrons, |section| {
                decode_rest::<LoadedRest>(section).and_then(index_rest)
            })?
        } else if version == VERSION_WITH_MOMENT_IDS {
            decode_sections(sections, records, current_patrons, |section| {
                let _ids = MomentsWithIds::start();
                decode_rest::<LoadedRest>(section).and_then(index_rest)
            })?
        } else if version == VERSION_WITH_WHOLE_MERGE_COPIES {
            decode_sections(sections, records, current_patrons, |section| {
                let _ids = MomentsWithIds::start();
                let _whole = WholeMergeCopies::start();
                decode_rest::<LoadedRest>(section).and_then(index_rest)
            })?
        } else if version == VERSION_WITH_TEXT_MOMENT_TIMES {
            decode_sections(sections, records, current_patrons, |section| {
                let _ids = MomentsWithIds::start();
                let _whole = WholeMergeCopies::start();
                decode_rest_with_text_moment_times::<LoadedRest>(section).and_then(index_rest)
            })?
        } else if version == VERSION_WITH_NUMBERED_TICKETS {
            decode_sections(
                sections,
                records,
                |section, meanwhile| {
                    decode_patrons::<PatronsV4>(section)
                        .and_then(PatronsV4::upgrade)
                        .and_then(|loaded| patrons_state(loaded, meanwhile))
                },
                |section| {
                    let _ids = MomentsWithIds::start();
                    let _whole = WholeMergeCopies::start();
                    decode_rest_with_text_moment_times::<RestV4>(section)
                        .and_then(RestV4::upgrade)
                        .and_then(index_rest)
                },
            )?
        } else {
            let (patrons, events, rest) = decode_legacy(sections, version)?;
            (patrons_state(patrons, || {})?, events, index_rest(rest)?)
        };
        state.events = events;
        let defaults = std::mem::take(&mut self.state);
        state.identifiers = rest.identifiers;
        state.blocking = rest.blocking;
        state.neutralized = defaults.neutralized;
        state.orders = rest.orders;
        state.ledger = rest.ledger;
        // Saved with every ticket id it names; memory's table holds most of them.
        state.ledger.share_tickets(&state.tickets);
        state.identity = rest.identity;
        state.privacy = rest.privacy;
        state.decisions = defaults.decisions;
        // Handles are positions in the id tables: a hostile image must not break that.
        // Which handle is broken is looked for only once the reaches say one is.
        let within = |reach: u64, len: usize| reach <= len as u64;
        if !(within(reach.events, state.events.len())
            && within(reach.orders, state.orders.len())
            && within(reach.tickets, state.tickets.len())
            && within(rest.ticket_reach, state.tickets.len()))
        {
            let reason = state
                .broken_reference()
                .unwrap_or_else(|| "a handle names nothing in its table".to_owned());
            return Err(corrupt(reason));
        }
        state.identity.review_limit = defaults.identity.review_limit;
        state.privacy.keep_aggregates = defaults.privacy.keep_aggregates;
        // The fired moments were checked against this count on the other thread.
        if rest.patrons != state.patrons.len() as u64 {
            return Err(corrupt(format!(
                "the last section counts {} patrons, the first holds {}",
                rest.patrons,
                state.patrons.len()
            )));
        }
        for Due { at, patron, rule } in rest.due {
            // The ledger's index has a slot per patron: a forged id must not size it.
            if state.patron(patron).is_none() {
                return Err(corrupt(format!(
                    "a due time names patron {patron}, and the image holds {}",
                    state.patrons.len()
                )));
            }
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
    fn numbered_ids_read_back_as_one_copy_and_refuse_numbers_not_read_yet() {
        let first = TicketId::new("t-1");
        let ids = vec![first.clone(), TicketId::new("t-2"), first.clone(), first];
        let numbered = {
            let _numbered = NumberedIds::writing();
            postcard::to_allocvec(&ids).unwrap()
        };
        let bare = postcard::to_allocvec(&ids).unwrap();
        assert!(numbered.len() < bare.len(), "later copies are numbers");
        // Copies of one text in separate allocations are written the same bytes: what a
        // snapshot holds never depends on where memory put its ids.
        let apart = ["t-1", "t-2", "t-1", "t-1"].map(TicketId::new).to_vec();
        let apart_numbered = {
            let _numbered = NumberedIds::writing();
            postcard::to_allocvec(&apart).unwrap()
        };
        assert_eq!(apart_numbered, numbered);
        let read: Vec<TicketId> = {
            let _numbered = NumberedIds::reading();
            postcard::from_bytes(&numbered).unwrap()
        };
        assert_eq!(read, ids);
        assert!(std::ptr::eq(read[0].as_str(), read[2].as_str()));
        assert!(std::ptr::eq(read[0].as_str(), read[3].as_str()));
        // Outside a snapshot, ids are bare strings both ways.
        assert_eq!(postcard::from_bytes::<Vec<TicketId>>(&bare).unwrap(), ids);
        // One id, by number 5, before any was read: an error, not a panic.
        let forged = [1, 1, 5];
        let _numbered = NumberedIds::reading();
        assert!(postcard::from_bytes::<Vec<TicketId>>(&forged).is_err());
    }

    /// A version 4 image of `memory`: ticket and order ids in tables of their own
    /// (numbered), and the catalog listing each performance's ticket ids.
    fn version_4_image(memory: &Memory) -> Vec<u8> {
        let state = &memory.state;
        let mut tickets = IdTable::default();
        for (id, record) in state.tickets.iter() {
            let buyer = CompactPatronId::of_held(state.ticket_buyer(record));
            tickets.insert(
                TicketId::new(id),
                record.saved(buyer, state.shared_values()),
            );
        }
        let mut orders: IdTable<OrderId, OrderRecord> = IdTable::default();
        for (id, record) in state.orders.iter() {
            orders.insert(OrderId::new(id), *record);
        }
        let patrons = SavedPatrons {
            catalog: state
                .catalog
                .saved_with_ticket_ids(|h| state.tickets.key(h).map(TicketId::new)),
            patrons: &state.patrons,
            tickets: &tickets,
            scans: &state.scans,
        };
        let rest = rest_without_due_times(state, &orders);
        image(
            VERSION_WITH_NUMBERED_TICKETS,
            &patrons,
            &state.events,
            &rest,
        )
    }

    /// Defines Hamlet at the main house with `performances` of it, `hamlet-1`, `hamlet-2`, …
    /// one day apart.
    fn define_hamlet(memory: &mut Memory, performances: i64) {
        let starts = Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap();
        memory
            .define_venue(Venue::new("main", "Main House"))
            .unwrap();
        memory
            .define_production(Production::new("hamlet", "Hamlet"))
            .unwrap();
        for n in 1..=performances {
            let id = format!("hamlet-{n}");
            let at = starts + chrono::TimeDelta::days(n - 1);
            memory
                .define_performance(Performance::new(id, "hamlet", "main", at))
                .unwrap();
        }
    }

    /// A memory with two Hamlet performances and one order of one ticket per e-mail, the
    /// performances taken in turn.
    fn hamlet_orders_from(emails: &[&str]) -> Memory {
        let mut memory = Memory::new();
        define_hamlet(&mut memory, 2);
        for (n, email) in emails.iter().enumerate() {
            let order = Order::new(format!("o-{n}"), Signals::new().email(*email)).ticket(
                Ticket::new(format!("t-{n}"), format!("hamlet-{}", n % 2 + 1)),
            );
            memory
                .observe(Event::order(format!("e-{n}"), order))
                .unwrap();
        }
        memory
    }

    #[test]
    fn version_4_images_load_into_the_same_memory() {
        let mut memory = Memory::builder().without_default_rules().build().unwrap();
        define_hamlet(&mut memory, 2);
        let ana = Signals::new().email("ana@example.org");
        let order = Order::new("o-1", ana.clone())
            .ticket(Ticket::new("t-1", "hamlet-1"))
            .ticket(Ticket::new("t-2", "hamlet-2"));
        memory.observe(Event::order("e-1", order)).unwrap();
        let order = Order::new("o-2", Signals::new().email("bo@example.org"))
            .ticket(Ticket::new("t-3", "hamlet-1"));
        memory.observe(Event::order("e-2", order)).unwrap();
        memory
            .observe(Event::scan("e-3", crate::Scan::entry("t-1")))
            .unwrap();

        let restored = Memory::builder()
            .without_default_rules()
            .build_from_snapshot(&version_4_image(&memory))
            .unwrap();
        assert_eq!(restored.patron_count(), memory.patron_count());
        for (a, b) in restored.patrons().zip(memory.patrons()) {
            assert_eq!(a.id(), b.id());
            assert_eq!(a.identifiers(), b.identifiers());
            assert_eq!(a.history().to_vec(), b.history().to_vec());
            assert_eq!(a.stats(), b.stats());
            let held = |p: &crate::PatronView<'_>| -> Vec<String> {
                p.unused_tickets().map(|t| t.id().to_owned()).collect()
            };
            assert_eq!(held(&a), held(&b));
        }
        for performance in ["hamlet-1", "hamlet-2"] {
            let ids = |m: &Memory| -> Vec<(String, String)> {
                m.tickets_for(performance)
                    .unwrap()
                    .map(|t| (t.id().to_owned(), t.order().to_owned()))
                    .collect()
            };
            assert_eq!(ids(&restored), ids(&memory));
        }
        assert_eq!(ids_of(&restored, "hamlet-1"), ["t-1", "t-3"]);
        // Saved again, it is a current image of the same memory.
        let again = Memory::builder()
            .without_default_rules()
            .build_from_snapshot(&restored.snapshot())
            .unwrap();
        assert_eq!(ids_of(&again, "hamlet-2"), ["t-2"]);
        assert_eq!(
            again.recognize(&ana).unwrap(),
            memory.recognize(&ana).unwrap()
        );
    }

    /// A version 6 image saved each merge's survivor as its whole record: it loads to
    /// the same memory, whose splits undo the merges as the saved memory's do.
    /// `image` with its header relabelled as format `version` (and its checksum made
    /// good again), so that only the version can refuse it.
    fn relabelled(image: &[u8], version: u32) -> Vec<u8> {
        let mut relabelled = image[..image.len() - 4].to_vec();
        relabelled[8..12].copy_from_slice(&version.to_le_bytes());
        let crc = crc32fast::hash(&relabelled);
        relabelled.extend_from_slice(&crc.to_le_bytes());
        relabelled
    }

    #[test]
    fn version_6_images_with_whole_merge_copies_load_into_the_same_memory() {
        let mut memory =
            hamlet_orders_from(&["ana@example.org", "bo@example.org", "cy@example.org"]);
        let ids: Vec<PatronId> = memory.patrons().map(|p| p.id()).collect();
        let (ana, bo, cy) = (ids[0], ids[1], ids[2]);
        memory.merge(ana, bo).unwrap();
        memory.merge(ana, cy).unwrap();
        let version_6 = memory.image_of_version(VERSION_WITH_WHOLE_MERGE_COPIES);
        let current = memory.snapshot();
        assert_eq!(&version_6[8..12], &6u32.to_le_bytes());
        assert_eq!(&current[8..12], &VERSION.to_le_bytes());
        assert!(
            version_6.len() > current.len(),
            "whole records saved: {} bytes against {}",
            version_6.len(),
            current.len()
        );
        let mut restored = Memory::builder().build_from_snapshot(&version_6).unwrap();
        assert_eq!(restored.snapshot(), current);
        // Read as version 7, the whole records do not decode: the version decides.
        let relabelled = relabelled(&version_6, VERSION_WITH_MOMENT_IDS);
        assert!(Memory::builder().build_from_snapshot(&relabelled).is_err());
        // Splits undo the merges alike.
        for memory in [&mut memory, &mut restored] {
            memory.split(bo).unwrap();
        }
        assert_eq!(restored.snapshot(), memory.snapshot());
        let emails = |m: &Memory, id| {
            m.patron(id)
                .unwrap()
                .identifiers()
                .iter()
                .map(|i| i.value().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(emails(&restored, bo), ["bo@example.org"]);
        assert_eq!(emails(&restored, ana), emails(&memory, ana));
        assert_eq!(emails(&restored, ana).len(), 2);
    }

    /// A version 7 image saved each fired moment with its ids and seat: it loads to the
    /// same memory, which saves them once each from then on.
    #[test]
    fn version_7_images_with_ids_in_each_moment_load_into_the_same_memory() {
        let memory = hamlet_orders_from(&[
            "ana@example.org",
            "bo@example.org",
            "ana@example.org",
            "bo@example.org",
            "ana@example.org",
        ]);
        let ids: Vec<PatronId> = memory.patrons().map(|p| p.id()).collect();
        let version_7 = memory.image_of_version(VERSION_WITH_MOMENT_IDS);
        let current = memory.snapshot();
        assert_eq!(&version_7[8..12], &7u32.to_le_bytes());
        assert_eq!(&current[8..12], &8u32.to_le_bytes());
        assert_ne!(
            version_7[12..],
            current[12..],
            "moments name their ids by position"
        );
        let restored = Memory::builder().build_from_snapshot(&version_7).unwrap();
        assert_eq!(restored.snapshot(), current);
        let again = Memory::builder().build_from_snapshot(&current).unwrap();
        assert_eq!(again.snapshot(), current);
        let moments = |m: &Memory| {
            ids.iter()
                .flat_map(|&id| m.moments_of(id).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        assert!(
            moments(&memory)
                .iter()
                .any(|m| m.ticket().is_some() && m.performance().is_some()),
            "moments fired for tickets"
        );
        assert_eq!(moments(&restored), moments(&memory));
        assert_eq!(moments(&again), moments(&memory));
        // Read as version 8, the moments with their ids do not decode: the version decides.
        let relabelled = relabelled(&version_7, VERSION);
        assert!(matches!(
            Memory::builder().build_from_snapshot(&relabelled),
            Err(Error::InvalidSnapshot(_))
        ));
    }

    #[test]
    fn version_5_images_with_fired_moments_load_into_the_same_memory() {
        let memory = hamlet_orders_from(&["ana@example.org", "bo@example.org", "ana@example.org"]);
        let ana = memory.patrons().next().unwrap().id();
        assert!(memory.moments_of(ana).next().is_some(), "moments fired");
        let version_5 = {
            let _text = super::super::binary_time::TextMomentTimes::start();
            memory.image_of_version(VERSION_WITH_TEXT_MOMENT_TIMES)
        };
        let current = memory.snapshot();
        assert_ne!(version_5, current, "fired moments' times written as text");
        let restored = Memory::builder().build_from_snapshot(&version_5).unwrap();
        assert_eq!(restored.snapshot(), current);
        let moments = |m: &Memory| m.moments_of(ana).collect::<Vec<_>>();
        assert_eq!(moments(&restored), moments(&memory));
        // Read as version 6, the text does not decode: the version decides.
        let relabelled = relabelled(&version_5, VERSION_WITH_WHOLE_MERGE_COPIES);
        assert!(matches!(
            Memory::builder().build_from_snapshot(&relabelled),
            Err(Error::InvalidSnapshot(_))
        ));
    }

    /// A memory large enough that loading writes its patrons' compact copies on two
    /// threads gets the copies the write path kept.
    #[test]
    fn restored_comparison_blocks_are_the_ones_memory_kept() {
        let mut memory = Memory::builder().without_default_rules().build().unwrap();
        let given = ["Ana", "Bob", "José Luis", "Zoë", "Mary Ann", "Li"];
        let family = [
            "Smith-Jones",
            "Quintero",
            "Okafor",
            "Łukasiewicz",
            "Schmidt",
        ];
        let patrons = super::super::index::PARALLEL_REFRESH_MIN + 100;
        for n in 0..patrons {
            let signals = Signals::new()
                .given_name(given[n % given.len()])
                .family_name(format!("{}{}", family[n % family.len()], n % 97))
                .email(format!("p{n}@example.org"));
            let order = Order::new(format!("o-{n}"), signals);
            memory
                .observe(Event::order(format!("e-{n}"), order))
                .unwrap();
        }
        assert_eq!(memory.patron_count(), patrons);
        let restored = Memory::builder()
            .without_default_rules()
            .build_from_snapshot(&memory.snapshot())
            .unwrap();
        for (kept, loaded) in memory.state.slots.iter().zip(restored.state.slots.iter()) {
            let block = kept.comparison.block();
            assert!(block.is_some());
            assert_eq!(loaded.comparison.block(), block);
        }
        restored.state.check_slots().unwrap();
    }

    fn ids_of(memory: &Memory, performance: &str) -> Vec<String> {
        memory
            .tickets_for(performance)
            .unwrap()
            .map(|t| t.id().to_owned())
            .collect()
    }

    #[test]
    fn purchases_of_one_product_share_its_code_before_and_after_a_restore() {
        use crate::{Currency, LineItem, Money, Purchase};
        let mut memory = Memory::new();
        for (i, email) in ["ana@example.org", "bo@example.org"].iter().enumerate() {
            let purchase = Purchase::new(Signals::new().email(*email))
                .item(LineItem::new("espresso", 1, Money::new(250, Currency::GBP)))
                .item(LineItem::new(
                    format!("cake-{i}"),
                    2,
                    Money::new(300, Currency::GBP),
                ));
            memory
                .observe(Event::purchase(format!("e-{i}"), purchase))
                .unwrap();
        }
        let skus = |memory: &Memory| -> Vec<Vec<*const u8>> {
            memory
                .patrons()
                .map(|patron| {
                    patron
                        .history()
                        .iter()
                        .flat_map(|interaction| match interaction.kind() {
                            InteractionKind::Purchased { items, .. } => {
                                items.iter().map(|i| i.sku().as_ptr()).collect()
                            }
                            _ => Vec::new(),
                        })
                        .collect()
                })
                .collect()
        };
        let restored = Memory::builder()
            .build_from_snapshot(&memory.snapshot())
            .unwrap();
        for memory in [&memory, &restored] {
            let skus = skus(memory);
            assert_eq!(skus.len(), 2);
            // The espressos are one copy; the cakes are two different products.
            assert_eq!(skus[0][0], skus[1][0]);
            assert_ne!(skus[0][1], skus[1][1]);
            assert_eq!(memory.state.skus.len(), 3);
        }
    }

    #[test]
    fn restored_ids_are_kept_once_in_their_tables() {
        let mut memory = Memory::new();
        define_hamlet(&mut memory, 1);
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
        // Ticket and order ids are kept once, end to end in their tables, and the
        // performance's ticket list (derived) names the ticket by its handle.
        assert_eq!((ticket.as_str(), order.as_str()), ("t-1", "o-1"));
        let handle = state.tickets.handle("t-1").unwrap();
        assert_eq!(state.orders.handle("o-1"), Some(0));
        let performance = state.catalog.performance_idx("hamlet-1").unwrap();
        let entry = state.catalog.performance_entry(performance).unwrap();
        assert_eq!(entry.tickets, [handle]);
        // Event ids are kept once, end to end in the events table.
        assert_eq!(state.events.len(), 1);
        assert!(
            history
                .iter()
                .all(|interaction| interaction.event().as_str() == "e-1")
        );
        // The ticket has no seat: none is filed.
        assert_eq!(state.seats.len(), 0);
        assert!(
            state
                .seats
                .of(state.tickets.value(handle).unwrap())
                .is_none()
        );
    }

    /// The image with its byte at `at` set to `value` and its checksum made right again.
    fn forged(image: &[u8], at: usize, value: u8) -> Vec<u8> {
        let mut forged = image.to_vec();
        forged[at] = value;
        let body = forged.len() - 4;
        let crc = crc32fast::hash(&forged[..body]);
        forged[body..].copy_from_slice(&crc.to_le_bytes());
        forged
    }

    #[test]
    fn the_patron_count_in_the_last_section_must_match_the_first() {
        let mut memory = Memory::new();
        for (i, email) in ["ana@example.org", "bo@example.org"].iter().enumerate() {
            let order = Order::new(format!("o-{i}"), Signals::new().email(*email));
            memory
                .observe(Event::order(format!("e-{i}"), order))
                .unwrap();
        }
        let image = memory.snapshot();
        // The count is the last thing before the checksum (one byte while under 128).
        let at = image.len() - 5;
        assert_eq!(image[at], 2);
        let restored = Memory::builder().build_from_snapshot(&image).unwrap();
        assert_eq!(restored.patron_count(), 2);
        for count in [1, 3] {
            let refused = Memory::builder().build_from_snapshot(&forged(&image, at, count));
            assert!(
                matches!(&refused, Err(Error::InvalidSnapshot(reason)) if reason.contains("patrons")),
                "{refused:?}"
            );
        }
    }

    /// All but the last entry of `table`, in order.
    fn without_last<V: Clone>(table: &TextTable<V>) -> TextTable<V> {
        let mut fewer = TextTable::default();
        for (id, value) in table.iter().take(table.len() - 1) {
            fewer.insert(id, value.clone()).unwrap();
        }
        fewer
    }

    /// The second section of `state` with `orders` in place of its own and no due
    /// times, as the test images below write it.
    fn rest_without_due_times<O>(state: &State, orders: O) -> SavedRest<'_, O> {
        SavedRest {
            orders,
            identifiers: &state.identifiers,
            blocking: &state.blocking,
            ledger: state.ledger.image(&state.tickets),
            due: Vec::new(),
            identity: &state.identity,
            privacy: &state.privacy,
            patrons: state.patrons.len() as u64,
        }
    }

    /// An image of `memory` with these tables in place of its own.
    fn image_with(
        memory: &Memory,
        events: &TextTable<SeenEvent>,
        orders: &TextTable<OrderRecord>,
        tickets: &TextTable<TicketRecord>,
    ) -> Vec<u8> {
        let state = &memory.state;
        let patrons = SavedPatrons {
            catalog: &state.catalog,
            patrons: &state.patrons,
            tickets: SavedTickets {
                tickets,
                orders,
                shared: state.shared_values(),
            },
            scans: &state.scans,
        };
        let rest = rest_without_due_times(state, orders);
        image(VERSION, &patrons, events, &rest)
    }

    /// Handles are checked by how far each section reaches into the others' tables: each
    /// way a handle can name nothing is refused, and the message still names the record.
    #[test]
    fn a_loaded_image_whose_handles_name_nothing_is_refused_by_name() {
        let mut memory = Memory::builder().without_default_rules().build().unwrap();
        define_hamlet(&mut memory, 1);
        for n in 0..3 {
            let order = Order::new(
                format!("o-{n}"),
                Signals::new().email(format!("p{n}@example.org")),
            )
            .ticket(Ticket::new(format!("t-{n}"), "hamlet-1"));
            memory
                .observe(Event::order(format!("e-{n}"), order))
                .unwrap();
        }
        let state = &memory.state;
        let load = |image: Vec<u8>| {
            Memory::builder()
                .without_default_rules()
                .build_from_snapshot(&image)
                .map(drop)
        };
        assert_eq!(
            load(image_with(
                &memory,
                &state.events,
                &state.orders,
                &state.tickets
            )),
            Ok(())
        );
        // The last order claiming one ticket more than the table holds: named by no
        // history, only the orders reach past the end.
        let mut overreaching = TextTable::default();
        for (at, (id, order)) in state.orders.iter().enumerate() {
            let mut order = *order;
            if at + 1 == state.orders.len() {
                order.tickets += 1;
            }
            overreaching.insert(id, order).unwrap();
        }
        let refused = [
            (
                image_with(&memory, &state.events, &overreaching, &state.tickets),
                "order o-2 lists tickets the table does not hold",
            ),
            (
                image_with(
                    &memory,
                    &without_last(&state.events),
                    &state.orders,
                    &state.tickets,
                ),
                "has history naming an unknown event",
            ),
            (
                image_with(
                    &memory,
                    &state.events,
                    &without_last(&state.orders),
                    &state.tickets,
                ),
                "ticket t-2 names an order the table does not hold",
            ),
            (
                image_with(
                    &memory,
                    &state.events,
                    &state.orders,
                    &without_last(&state.tickets),
                ),
                "order o-2 lists tickets the table does not hold",
            ),
        ];
        for (image, expected) in refused {
            match load(image) {
                Err(Error::InvalidSnapshot(reason)) => {
                    assert!(reason.contains(expected), "{reason}");
                }
                other => panic!("expected {expected:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn an_image_of_the_unreleased_version_3_is_refused_by_name() {
        let image = Memory::new().snapshot();
        assert_eq!(&image[8..12], &VERSION.to_le_bytes());
        let refused = Memory::builder().build_from_snapshot(&forged(&image, 8, 3));
        assert!(
            matches!(&refused, Err(Error::InvalidSnapshot(reason)) if reason.contains("version 3")),
            "{refused:?}"
        );
    }
}
