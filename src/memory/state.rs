//! Everything memory holds, in one place, so the write path and the views share one shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::attendance::Attendance;
use super::held::HeldTickets;
use super::identity::Identity;
use super::index::{BlockingIndex, IdentifierIndex, Neutralized};
use super::stats::add_money;
use super::stats::{PatronStats, ProductionVisits};
use crate::chunked::Chunked;
use crate::model::catalog::{Catalog, GenreIdx, PerformanceIdx, ProductionIdx};
use crate::model::history::{Entry, EntryKind, Interaction, InteractionKind, Seat};
use crate::model::ids::{
    CompactPatronId, EventId, Handle, OrderId, PatronId, PerformanceId, TextTable, TicketId,
};
use crate::model::money::Money;
use crate::model::profile::Profile;
use crate::model::sparse::Sparse;
pub(crate) use crate::shared::{NONE_SHARED, Shared, SharedNumber};

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) catalog: Catalog,
    /// Patron `n` lives at index `n - 1`: ids are dense and never reused.
    pub(crate) patrons: crate::chunked::Chunked<PatronRecord>,
    /// What recognition reads of each patron beside their record (derived: see
    /// [`PatronSlots`](super::slots::PatronSlots)).
    pub(crate) slots: super::slots::PatronSlots,
    pub(crate) identifiers: IdentifierIndex,
    pub(crate) blocking: BlockingIndex,
    pub(crate) neutralized: Neutralized,
    /// Every vendor id is kept once, in its table; elsewhere a 4-byte handle names it.
    pub(crate) tickets: TextTable<TicketRecord>,
    pub(crate) orders: TextTable<OrderRecord>,
    pub(crate) events: TextTable<SeenEvent>,
    pub(crate) scans: TextTable<()>,
    /// One copy of each distinct seat: seat labels repeat at every performance, so
    /// tickets name them by number (derived: rebuilt from the tickets when a snapshot
    /// loads).
    pub(crate) seats: Seats,
    /// One copy of each distinct ticket price, which tickets name by number likewise
    /// (derived the same way).
    pub(crate) prices: Prices,
    /// One copy of each product code bought (derived: rebuilt from the histories when a
    /// snapshot loads).
    pub(crate) skus: crate::model::event::SharedSkus,
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

    /// Who bought `ticket` (as recorded: a merged buyer forwards to the survivor): its
    /// order's buyer.
    pub(crate) fn ticket_buyer(&self, ticket: &TicketRecord) -> PatronId {
        buyer_of(&self.orders, ticket).get()
    }

    /// The patron an id stands for now: itself, or the survivor it was merged into.
    pub(crate) fn live(&self, id: PatronId) -> PatronId {
        let mut current = id;
        // Merge chains are short; the bound only guards against a cycle bug looping forever.
        for _ in 0..64 {
            // The slot's copy of the forwarding: the record is not read.
            match self.slots.get(current).and_then(|s| s.merged_into.get()) {
                Some(next) => current = next.get(),
                None => break,
            }
        }
        current
    }

    pub(crate) fn next_patron_id(&self) -> PatronId {
        PatronId::from_u64(self.patrons.len() as u64 + 1)
    }

    /// Files a ticket just issued (recorded in `holder`'s history) as held by them.
    pub(crate) fn hold(&mut self, holder: PatronId, ticket: Handle, performance: PerformanceIdx) {
        let catalog = &self.catalog;
        if let Some(record) = slot(holder).and_then(|i| self.patrons.get_mut(i)) {
            let attended = record.has_attended(performance);
            let held = HeldTicket {
                ticket,
                performance,
            };
            record.held.hold(held, catalog, attended);
        }
    }

    /// Puts the bookings of everyone holding a ticket for `performance` back in date
    /// order: it was rescheduled.
    pub(crate) fn reorder_held(&mut self, performance: PerformanceIdx) {
        let Some(entry) = self.catalog.performance_entry(performance) else {
            return;
        };
        let holders: Vec<PatronId> = entry
            .tickets
            .iter()
            .filter_map(|&t| self.tickets.value(t))
            .map(|t| self.live(t.holder()))
            .collect();
        let catalog = &self.catalog;
        for holder in holders {
            if let Some(record) = slot(holder).and_then(|i| self.patrons.get_mut(i)) {
                record.held.reorder(catalog);
            }
        }
    }

    /// The numbers of a seat and a price in the shared tables (each filed on first
    /// sight), so a million tickets do not each carry their own copy, nor a pointer.
    pub(crate) fn share_seat_and_price(
        &mut self,
        seat: Option<&Seat>,
        price: Option<&Money>,
    ) -> (SharedNumber, SharedNumber) {
        (self.seats.file(seat), self.prices.file(price))
    }

    /// Files the tickets of a loaded snapshot, each naming its seat and price by number
    /// in the shared tables (an image saves them with every ticket).
    pub(crate) fn file_loaded_tickets(&mut self, loaded: TextTable<LoadedTicket>) {
        let (seats, prices) = (&mut self.seats, &mut self.prices);
        self.tickets = loaded.map_values(|ticket| {
            let mut record = ticket.record;
            record.seat = seats.file(ticket.seat.as_ref());
            record.price = prices.file(ticket.price.as_ref());
            record
        });
    }

    /// Purchase items naming the shared copies of their product codes.
    pub(crate) fn share_items(&mut self, items: &[crate::LineItem]) -> Vec<crate::LineItem> {
        items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item.share_sku(&mut self.skus);
                item
            })
            .collect()
    }

    /// Makes every purchase item in every history name the shared copy of its product
    /// code (after loading a snapshot, which reads one copy per item).
    pub(crate) fn share_all_skus(&mut self) {
        let skus = &mut self.skus;
        for record in &mut self.patrons {
            for entry in &mut record.history {
                if let Some(items) = entry.purchase_items_mut() {
                    for item in items {
                        item.share_sku(skus);
                    }
                }
            }
        }
    }

    /// Takes a ticket off its holder's held list: it was refunded or scanned in.
    pub(crate) fn release(&mut self, ticket: Handle) {
        let Some(holder) = self.tickets.value(ticket).map(TicketRecord::holder) else {
            return;
        };
        let holder = self.live(holder);
        if let Some(record) = self.patron_mut(holder) {
            // Every copy: a history reshaped by merges and splits may list a ticket twice.
            record.held.release(ticket);
        }
    }

    /// A stored history entry as the public [`Interaction`], its ids and the ticket
    /// and order details read from the tables; `None` only if a handle names nothing
    /// (which loading a snapshot rules out).
    pub(crate) fn interaction(&self, entry: &Entry) -> Option<Interaction> {
        let event = EventId::new(self.events.key(entry.event())?);
        let kind = match entry.kind() {
            EntryKind::Ordered { order } => {
                let record = self.orders.value(order)?;
                let mut amount: SmallVec<[Money; 1]> = SmallVec::new();
                for ticket in record.ticket_handles() {
                    let ticket = self.tickets.value(ticket);
                    if let Some(price) = ticket.and_then(|t| self.prices.of(t)) {
                        add_money(&mut amount, price);
                    }
                }
                InteractionKind::Ordered {
                    order: OrderId::new(self.orders.key(order)?),
                    tickets: record.tickets,
                    amount: amount.to_vec(),
                }
            }
            EntryKind::Ticketed { ticket } => {
                let (id, record) = self.tickets.entry(ticket)?;
                InteractionKind::Ticketed {
                    ticket: TicketId::new(id),
                    performance: self.performance_id(record.performance),
                    seat: self.seats.of(record).cloned(),
                    order: OrderId::new(self.orders.key(record.order)?),
                }
            }
            EntryKind::Scanned { ticket, direction } => {
                let (id, record) = self.tickets.entry(ticket)?;
                InteractionKind::Scanned {
                    ticket: TicketId::new(id),
                    performance: self.performance_id(record.performance),
                    direction,
                }
            }
            EntryKind::Other(kind) => kind.to_kind(),
        };
        Some(Interaction::new(event, entry.at(), kind))
    }

    /// The catalog's id of a performance (empty should the catalog not hold it, as
    /// scans recorded it before).
    fn performance_id(&self, performance: PerformanceIdx) -> PerformanceId {
        self.catalog
            .performance_entry(performance)
            .map_or_else(|| PerformanceId::new(""), |e| e.performance.id().clone())
    }

    /// What a loaded snapshot must hold for every handle to name something: the
    /// first broken reference found, if any.
    pub(crate) fn broken_reference(&self) -> Option<String> {
        // Ids are looked up only for the message: reading each one's text costs more
        // than the check.
        let tickets = self.tickets.len() as u64;
        if let Some(at) = self
            .orders
            .values()
            .position(|record| u64::from(record.first_ticket) + u64::from(record.tickets) > tickets)
        {
            let id = self.orders.iter().nth(at).map_or("", |(id, _)| id);
            return Some(format!("order {id} lists tickets the table does not hold"));
        }
        if let Some(at) = self
            .tickets
            .values()
            .position(|record| !self.orders.holds(record.order))
        {
            let id = self.tickets.iter().nth(at).map_or("", |(id, _)| id);
            return Some(format!(
                "ticket {id} names an order the table does not hold"
            ));
        }
        for (at, record) in self.patrons.iter().enumerate() {
            for entry in &record.history {
                let known = self.events.holds(entry.event())
                    && match entry.kind() {
                        EntryKind::Ordered { order } => self.orders.holds(order),
                        EntryKind::Ticketed { ticket } | EntryKind::Scanned { ticket, .. } => {
                            self.tickets.holds(ticket)
                        }
                        EntryKind::Other(_) => true,
                    };
                if !known {
                    return Some(format!(
                        "patron {} has history naming an unknown event, order or ticket",
                        id_at(at)
                    ));
                }
            }
        }
        None
    }

    /// Recomputes a patron's held tickets from their history, after a merge or split
    /// reshaped it or a snapshot was loaded: the tickets in it they hold now (a merged
    /// holder's are the survivor's), not refunded and not scanned in.
    pub(crate) fn refresh_held(&mut self, patron: PatronId) {
        let Some(record) = self.patron(patron) else {
            return;
        };
        let issued = record
            .history
            .iter()
            .filter_map(|entry| match entry.kind() {
                EntryKind::Ticketed { ticket } => {
                    let t = self.tickets.value(ticket)?;
                    (self.live(t.holder()) == patron && !t.refunded && !t.scanned_in).then_some(
                        HeldTicket {
                            ticket,
                            performance: t.performance,
                        },
                    )
                }
                _ => None,
            });
        let held = HeldTickets::derive(issued, |p| record.has_attended(p), &self.catalog);
        if let Some(record) = self.patron_mut(patron) {
            record.held = held;
        }
    }

    /// Recomputes every patron's held tickets (after loading a snapshot).
    pub(crate) fn refresh_all_held(&mut self) {
        for i in 0..self.patrons.len() {
            let id = id_at(i);
            if self.patrons[i].merged_into.is_none() {
                self.refresh_held(id);
            } else {
                self.patrons[i].held = HeldTickets::default();
            }
        }
    }
}

/// Where a patron's record sits in the dense table: ids are handed out from 1.
pub(crate) fn slot(id: PatronId) -> Option<usize> {
    usize::try_from(id.as_u64()).ok()?.checked_sub(1)
}

/// The id of the patron at position `slot` (the inverse of [`slot`]).
pub(crate) fn id_at(slot: usize) -> PatronId {
    PatronId::from_u64((slot as u64).saturating_add(1))
}

/// A patron's record; `H` is how history entries are stored (the compact [`Entry`],
/// or the spelled-out [`Interaction`] of snapshots before version 3).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "LoadedRecord<H>")]
pub(crate) struct PatronRecord<H = Entry> {
    // No id: patron `n` is the record at position `n - 1` (see [`slot`] and [`id_at`]),
    // and leaving it out takes 8 bytes off every record.
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) profile: Profile,
    pub(crate) history: Vec<H>,
    pub(crate) stats: PatronStats,
    /// Attendances per genre and per production, and the performances attended.
    pub(crate) attendance: Attendance,
    /// The survivor this patron was merged into (see [`MergedInto`]).
    pub(crate) merged_into: MergedInto,
    /// Patrons merged into this one, in merge order.
    pub(crate) absorbed: Sparse<PatronId>,
    /// Other people sharing contact details (household members).
    pub(crate) household: Sparse<PatronId>,
    /// Tickets in their history they hold and have not used: not refunded, not scanned
    /// in, in the order issued. Derived (see [`State::refresh_held`]), so the visit rules
    /// find bookings ahead without walking the whole history.
    pub(crate) held: HeldTickets,
}

/// A record as it is saved: its attendance as the three lists it always was.
#[derive(Serialize)]
#[serde(rename = "PatronRecord")]
struct SavedRecord<'a, H> {
    id: PatronId,
    #[serde(with = "super::binary_time")]
    created_at: DateTime<Utc>,
    profile: &'a Profile,
    history: &'a [H],
    stats: &'a PatronStats,
    genres: SavedGenres<'a>,
    visits: SavedVisits<'a>,
    attended: &'a [PerformanceIdx],
    merged_into: MergedInto,
    absorbed: &'a Sparse<PatronId>,
    household: &'a Sparse<PatronId>,
}

/// Attendances per genre, saved as the list they read as.
struct SavedGenres<'a>(&'a Attendance);

impl Serialize for SavedGenres<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.genres())
    }
}

/// Visits per production, saved as the list they read as.
struct SavedVisits<'a>(&'a Attendance);

impl Serialize for SavedVisits<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.visits())
    }
}

/// A record as it is read back.
#[derive(Deserialize)]
#[serde(rename = "PatronRecord")]
struct LoadedRecord<H> {
    id: PatronId,
    #[serde(with = "super::binary_time")]
    created_at: DateTime<Utc>,
    profile: Profile,
    history: Vec<H>,
    stats: PatronStats,
    genres: SmallVec<[(GenreIdx, u32); 4]>,
    visits: SmallVec<[(ProductionIdx, ProductionVisits); 4]>,
    attended: SmallVec<[PerformanceIdx; 16]>,
    merged_into: MergedInto,
    absorbed: Sparse<PatronId>,
    household: Sparse<PatronId>,
}

impl<H> PatronRecord<H> {
    /// The record as saved, with the id it is saved under (its own, or in a merge copy
    /// the survivor's).
    pub(crate) fn saved_as(&self, id: PatronId) -> impl Serialize + '_
    where
        H: Serialize,
    {
        SavedRecord {
            id,
            created_at: self.created_at,
            profile: &self.profile,
            history: &self.history,
            stats: &self.stats,
            genres: SavedGenres(&self.attendance),
            visits: SavedVisits(&self.attendance),
            attended: self.attendance.performances(),
            merged_into: self.merged_into,
            absorbed: &self.absorbed,
            household: &self.household,
        }
    }
}

/// Saves memory's records in order, each with the id its position gives it: the bytes
/// records saved when they kept their id.
pub(crate) fn save_patrons<S: serde::Serializer>(
    patrons: &&Chunked<PatronRecord>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = serializer.serialize_seq(Some(patrons.len()))?;
    for (at, record) in patrons.iter().enumerate() {
        seq.serialize_element(&record.saved_as(id_at(at)))?;
    }
    seq.end()
}

/// Records as a snapshot lists them, and the first whose saved id is not the one its
/// position gives, if any: memory finds a patron at the position its id names, so a
/// hostile image must not break that (the loader refuses it, naming both).
pub(crate) struct LoadedPatronList<H = Entry> {
    pub(crate) records: Chunked<PatronRecord<H>>,
    pub(crate) misplaced: Option<(PatronId, usize)>,
}

impl<'de, H: Deserialize<'de>> Deserialize<'de> for LoadedPatronList<H> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<H>(std::marker::PhantomData<H>);

        impl<'de, H: Deserialize<'de>> serde::de::Visitor<'de> for ListVisitor<H> {
            type Value = LoadedPatronList<H>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of patron records")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut list = LoadedPatronList {
                    records: Chunked::default(),
                    misplaced: None,
                };
                while let Some(saved) = seq.next_element::<LoadedRecord<H>>()? {
                    let at = list.records.len();
                    if list.misplaced.is_none() && slot(saved.id) != Some(at) {
                        list.misplaced = Some((saved.id, at));
                    }
                    list.records.push(saved.into());
                }
                Ok(list)
            }
        }

        deserializer.deserialize_seq(ListVisitor(std::marker::PhantomData))
    }
}

impl<H> From<LoadedRecord<H>> for PatronRecord<H> {
    fn from(saved: LoadedRecord<H>) -> Self {
        Self {
            created_at: saved.created_at,
            profile: saved.profile,
            history: saved.history,
            stats: saved.stats,
            attendance: Attendance::from_lists(&saved.genres, &saved.visits, &saved.attended),
            merged_into: saved.merged_into,
            absorbed: saved.absorbed,
            household: saved.household,
            held: HeldTickets::default(),
        }
    }
}

/// The survivor a merged patron forwards to, in four bytes rather than an optional
/// id's eight: patron ids start at 1, so 0 says not merged. Saved as the optional
/// patron id it stands for, as it always was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MergedInto(u32);

impl Default for MergedInto {
    fn default() -> Self {
        Self::NOT
    }
}

impl MergedInto {
    /// Not merged.
    pub(crate) const NOT: Self = Self(0);

    /// Merged into `survivor`, a patron memory holds (whose id fits: see
    /// [`CompactPatronId`]); one that does not fit forwards to `u32::MAX`, which names
    /// no patron.
    pub(crate) fn into_survivor(survivor: PatronId) -> Self {
        match u32::try_from(survivor.as_u64()) {
            Ok(raw) if raw != 0 => Self(raw),
            _ => Self(u32::MAX),
        }
    }

    /// The survivor, if merged.
    pub(crate) fn get(self) -> Option<CompactPatronId> {
        (self.0 != 0).then(|| CompactPatronId::of_held(PatronId::from_u64(u64::from(self.0))))
    }

    pub(crate) fn is_none(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn is_some(self) -> bool {
        self.0 != 0
    }
}

impl Serialize for MergedInto {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MergedInto {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Option::<CompactPatronId>::deserialize(deserializer)? {
            None => Ok(Self::NOT),
            // Patron 0 does not exist: merged into it would read as not merged.
            Some(survivor) if survivor.get().as_u64() == 0 => Err(serde::de::Error::custom(
                "a patron merged into patron 0, which does not exist",
            )),
            Some(survivor) => Ok(Self::into_survivor(survivor.get())),
        }
    }
}

/// A ticket a patron holds and has not used yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeldTicket {
    /// Handle in the tickets table.
    pub(crate) ticket: Handle,
    pub(crate) performance: PerformanceIdx,
}

impl<H> PatronRecord<H> {
    pub(crate) fn new(created_at: DateTime<Utc>) -> Self {
        Self {
            created_at,
            profile: Profile::default(),
            history: Vec::new(),
            stats: PatronStats::default(),
            attendance: Attendance::default(),
            merged_into: MergedInto::NOT,
            absorbed: Sparse::default(),
            household: Sparse::default(),
            held: HeldTickets::default(),
        }
    }

    /// The same record with its history stored another way.
    pub(crate) fn with_history<T>(self, history: Vec<T>) -> PatronRecord<T> {
        PatronRecord {
            created_at: self.created_at,
            profile: self.profile,
            history,
            stats: self.stats,
            attendance: self.attendance,
            merged_into: self.merged_into,
            absorbed: self.absorbed,
            household: self.household,
            held: self.held,
        }
    }

    pub(crate) fn has_attended(&self, performance: PerformanceIdx) -> bool {
        self.attendance.has_attended(performance)
    }

    pub(crate) fn visits_to(&self, production: ProductionIdx) -> Option<ProductionVisits> {
        self.attendance.visits_to(production)
    }
}

/// The seats tickets name, each once.
pub(crate) type Seats = Shared<Seat>;
/// The prices tickets were sold at, each once.
pub(crate) type Prices = Shared<Money>;

impl Seats {
    /// The seat of a ticket.
    pub(crate) fn of(&self, ticket: &TicketRecord) -> Option<&Seat> {
        self.get(ticket.seat)
    }
}

impl Prices {
    /// What was paid for a ticket.
    pub(crate) fn of(&self, ticket: &TicketRecord) -> Option<Money> {
        self.get(ticket.price).copied()
    }
}

/// A ticket as memory keeps it (24 bytes, four-byte aligned: its seat and its price are
/// numbers in the shared [`Seats`] and [`Prices`], and the holder takes four bytes). Its
/// buyer is its order's ([`State::ticket_buyer`]): the write path files every ticket
/// with its order's buyer, so a copy per ticket would repeat it. Saved as the fields it
/// reads as, the seat, price and buyer included ([`SavedTickets`]).
#[derive(Debug, Clone)]
pub(crate) struct TicketRecord {
    /// Handle in the orders table.
    pub(crate) order: Handle,
    pub(crate) performance: PerformanceIdx,
    /// Its seat's number in [`State::seats`].
    seat: SharedNumber,
    /// Its price's number in [`State::prices`].
    price: SharedNumber,
    holder: CompactPatronId,
    pub(crate) refunded: bool,
    pub(crate) scanned_in: bool,
}

impl TicketRecord {
    /// A ticket just issued (its seat and price numbered in the shared tables): not
    /// refunded, not scanned in.
    pub(crate) fn new(
        order: Handle,
        performance: PerformanceIdx,
        seat: SharedNumber,
        price: SharedNumber,
        holder: CompactPatronId,
    ) -> Self {
        Self {
            order,
            performance,
            seat,
            price,
            holder,
            refunded: false,
            scanned_in: false,
        }
    }

    /// Who holds it (as recorded: a merged holder forwards to the survivor).
    pub(crate) fn holder(&self) -> PatronId {
        self.holder.get()
    }
}

/// A ticket as snapshots save it: with its seat, price and buyer, as it always was. Read
/// back, the buyer is left out: it is the order's, which the image saves with the order.
#[derive(Serialize, Deserialize)]
#[serde(rename = "TicketRecord")]
pub(crate) struct SavedTicket<Seats = Option<Seat>> {
    order: Handle,
    performance: PerformanceIdx,
    seat: Seats,
    price: Option<Money>,
    buyer: CompactPatronId,
    holder: CompactPatronId,
    refunded: bool,
    scanned_in: bool,
}

impl TicketRecord {
    /// The ticket as snapshots save it, bought by `buyer` (its order's), its seat and
    /// price found in the shared tables.
    pub(crate) fn saved<'s>(
        &self,
        buyer: CompactPatronId,
        shared: SharedValues<'s>,
    ) -> SavedTicket<Option<&'s Seat>> {
        SavedTicket {
            order: self.order,
            performance: self.performance,
            seat: shared.seats.of(self),
            price: shared.prices.of(self),
            buyer,
            holder: self.holder,
            refunded: self.refunded,
            scanned_in: self.scanned_in,
        }
    }
}

/// The shared tables tickets name their seats and prices in.
#[derive(Clone, Copy)]
pub(crate) struct SharedValues<'a> {
    pub(crate) seats: &'a Seats,
    pub(crate) prices: &'a Prices,
}

impl State {
    /// The shared seats and prices, to read tickets with.
    pub(crate) fn shared_values(&self) -> SharedValues<'_> {
        SharedValues {
            seats: &self.seats,
            prices: &self.prices,
        }
    }
}

/// The tickets table as snapshots save it: each ticket with its seat, price and its
/// order's buyer.
#[derive(Clone, Copy)]
pub(crate) struct SavedTickets<'a> {
    pub(crate) tickets: &'a TextTable<TicketRecord>,
    pub(crate) orders: &'a TextTable<OrderRecord>,
    pub(crate) shared: SharedValues<'a>,
}

impl Serialize for SavedTickets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.tickets.serialize_as(serializer, |ticket| {
            ticket.saved(buyer_of(self.orders, ticket), self.shared)
        })
    }
}

/// Who bought `ticket`: its order's buyer. A ticket whose order the table does not hold
/// (which a loaded image is checked against, and the write path never files) reads as
/// bought by its holder.
fn buyer_of(orders: &TextTable<OrderRecord>, ticket: &TicketRecord) -> CompactPatronId {
    orders
        .value(ticket.order)
        .map_or(ticket.holder, |order| order.buyer)
}

/// A ticket as a snapshot loads it: the record, and the seat and price it saved, which
/// [`State::file_loaded_tickets`] files in the shared tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "SavedTicket")]
pub(crate) struct LoadedTicket {
    pub(crate) record: TicketRecord,
    pub(crate) seat: Option<Seat>,
    pub(crate) price: Option<Money>,
}

impl LoadedTicket {
    /// A ticket as read, its seat and price still to be filed.
    pub(crate) fn new(
        order: Handle,
        performance: PerformanceIdx,
        seat: Option<Seat>,
        price: Option<Money>,
        holder: CompactPatronId,
    ) -> Self {
        Self {
            record: TicketRecord::new(order, performance, NONE_SHARED, NONE_SHARED, holder),
            seat,
            price,
        }
    }
}

impl From<SavedTicket> for LoadedTicket {
    fn from(saved: SavedTicket) -> Self {
        let mut loaded = Self::new(
            saved.order,
            saved.performance,
            saved.seat,
            saved.price,
            saved.holder,
        );
        loaded.record.refunded = saved.refunded;
        loaded.record.scanned_in = saved.scanned_in;
        loaded
    }
}

/// An order: its tickets were filed together, so their handles are consecutive.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct OrderRecord {
    pub(crate) buyer: CompactPatronId,
    /// Handle of its first ticket in the tickets table.
    pub(crate) first_ticket: Handle,
    /// How many tickets it has.
    pub(crate) tickets: u32,
}

impl OrderRecord {
    /// Its tickets' handles, in the order given.
    pub(crate) fn ticket_handles(&self) -> impl Iterator<Item = Handle> + use<> {
        let end = self.first_ticket.saturating_add(self.tickets);
        self.first_ticket..end
    }
}

/// An event seen (12 bytes): its fingerprint, in two halves so the record needs only
/// four-byte alignment, and the patron it was about. Saved as the fingerprint and the id.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(from = "SavedSeenEvent", into = "SavedSeenEvent")]
pub(crate) struct SeenEvent {
    fingerprint: [u32; 2],
    /// The patron it was about (as recorded: a merged patron forwards to the survivor).
    pub(crate) patron: CompactPatronId,
}

impl SeenEvent {
    pub(crate) fn new(fingerprint: u64, patron: CompactPatronId) -> Self {
        // The halves of a u64, high first.
        let fingerprint = [(fingerprint >> 32) as u32, fingerprint as u32];
        Self {
            fingerprint,
            patron,
        }
    }

    /// The fingerprint of the event as first seen.
    pub(crate) fn fingerprint(&self) -> u64 {
        (u64::from(self.fingerprint[0]) << 32) | u64::from(self.fingerprint[1])
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "SeenEvent")]
struct SavedSeenEvent {
    fingerprint: u64,
    patron: CompactPatronId,
}

impl From<SavedSeenEvent> for SeenEvent {
    fn from(saved: SavedSeenEvent) -> Self {
        SeenEvent::new(saved.fingerprint, saved.patron)
    }
}

impl From<SeenEvent> for SavedSeenEvent {
    fn from(seen: SeenEvent) -> Self {
        SavedSeenEvent {
            fingerprint: seen.fingerprint(),
            patron: seen.patron,
        }
    }
}

// The records every patron, ticket and order holds: a byte here is a megabyte at a
// million patrons.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::size_of::<TicketRecord>() == 24);
    assert!(std::mem::size_of::<OrderRecord>() == 12);
    assert!(std::mem::size_of::<SeenEvent>() == 12);
    assert!(std::mem::size_of::<HeldTicket>() == 8);
    // The compact copy recognition compares lives in the patron's slot (32 bytes).
    assert!(std::mem::size_of::<PatronRecord>() == 264);
    assert!(std::mem::size_of::<Profile>() == 112);
    assert!(std::mem::size_of::<super::stats::PatronStats>() == 72);
    assert!(std::mem::size_of::<super::stats::MoneyTotals>() == 16);
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Tickets keep no buyer of their own, yet save exactly as when each held one (the
    /// fields in the order they had), their order's buyer in its place, and read back
    /// the same.
    #[test]
    fn tickets_save_their_orders_buyer_as_they_did_when_they_held_it() {
        #[derive(Serialize)]
        struct TicketWithBuyer {
            order: Handle,
            performance: PerformanceIdx,
            seat: Option<Seat>,
            price: Option<Money>,
            buyer: CompactPatronId,
            holder: CompactPatronId,
            refunded: bool,
            scanned_in: bool,
        }
        let patron = |n| CompactPatronId::of_held(PatronId::from_u64(n));
        let mut orders = TextTable::default();
        for (id, buyer, first_ticket) in [("o-1", 7, 0), ("o-2", 9, 2)] {
            orders.insert(
                id,
                OrderRecord {
                    buyer: patron(buyer),
                    first_ticket,
                    tickets: 2,
                },
            );
        }
        let seat = Seat::new("F12").in_section("Stalls");
        let mut seats = Seats::default();
        let number = seats.file(Some(&seat));
        let mut prices = Prices::default();
        let price = Money::new(-2_500, crate::Currency::parse("zar").expect("a code"));
        let mut tickets = TextTable::default();
        let mut old = Vec::new();
        for (id, order, price, holder, refunded, scanned_in) in [
            ("t-1", 0, Some(price), 7, false, false),
            ("t-2", 0, None, 8, true, false),
            ("t-3", 1, Some(price), 9, false, true),
            ("t-4", 1, None, 10, true, true),
        ] {
            let price_number = prices.file(price.as_ref());
            let mut record =
                TicketRecord::new(order, order + 3, number, price_number, patron(holder));
            record.refunded = refunded;
            record.scanned_in = scanned_in;
            tickets.insert(id, record);
            old.push((
                id,
                TicketWithBuyer {
                    order,
                    performance: order + 3,
                    seat: Some(seat.clone()),
                    price,
                    buyer: patron([7, 9][order as usize]),
                    holder: patron(holder),
                    refunded,
                    scanned_in,
                },
            ));
        }
        let saved = postcard::to_allocvec(&SavedTickets {
            tickets: &tickets,
            orders: &orders,
            shared: SharedValues {
                seats: &seats,
                prices: &prices,
            },
        })
        .expect("saved");
        let before = postcard::to_allocvec(&OldTable(&old)).expect("saved");
        assert_eq!(saved, before);
        let read: TextTable<LoadedTicket> = postcard::from_bytes(&saved).expect("read back");
        assert_eq!(read.len(), tickets.len());
        for ((id, loaded), (expected_id, expected)) in read.iter().zip(tickets.iter()) {
            assert_eq!(id, expected_id);
            let read = &loaded.record;
            assert_eq!(
                (read.order, read.performance, &loaded.seat, loaded.price),
                (
                    expected.order,
                    expected.performance,
                    &Some(seat.clone()),
                    prices.of(expected)
                )
            );
            assert_eq!(
                (read.holder(), read.refunded, read.scanned_in),
                (expected.holder(), expected.refunded, expected.scanned_in)
            );
        }
        let mut state = State {
            orders,
            ..State::default()
        };
        state.file_loaded_tickets(read);
        let buyers: Vec<u64> = state
            .tickets
            .values()
            .map(|t| state.ticket_buyer(t).as_u64())
            .collect();
        let loaded_prices: Vec<Option<Money>> =
            state.tickets.values().map(|t| state.prices.of(t)).collect();
        assert_eq!(loaded_prices, [Some(price), None, Some(price), None]);
        assert_eq!(buyers, [7, 7, 9, 9]);

        /// The table as a map of ids to the old shape, as text tables save.
        struct OldTable<'a>(&'a [(&'a str, TicketWithBuyer)]);
        impl Serialize for OldTable<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(id, t)| (id, t)))
            }
        }
    }

    /// Tickets name their seat by number: equal seats (equal label and section) share
    /// one, seats that differ in either do not, and every number gives its seat back.
    #[test]
    fn tickets_share_one_number_per_distinct_seat_and_get_it_back() {
        let mut seats = Seats::default();
        let given = [
            Seat::new("F12").in_section("Stalls"),
            Seat::new("F12"),
            Seat::new("F12").in_section("Circle"),
            Seat::new("F13").in_section("Stalls"),
            Seat::new("\u{e9}\u{0}"),
            Seat::new(""),
        ];
        let numbers: Vec<SharedNumber> = given.iter().map(|s| seats.file(Some(s))).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
        // Equal copies, made apart, find the same number.
        for (seat, &number) in given.iter().zip(&numbers) {
            let copy = Seat::new(seat.label());
            let copy = match seat.section() {
                Some(section) => copy.in_section(section),
                None => copy,
            };
            assert_eq!(seats.file(Some(&copy)), number);
            assert_eq!(seats.get(number), Some(seat));
        }
        assert_eq!(seats.len(), given.len());
        assert_eq!(seats.file(None), NONE_SHARED);
        assert_eq!(seats.get(NONE_SHARED), None);
        // Loaded tickets, each with its own copy, end up naming the shared numbers.
        let holder = CompactPatronId::of_held(PatronId::from_u64(1));
        let mut loaded = TextTable::default();
        for (n, seat) in given.iter().chain(&given).enumerate() {
            let copy = Seat::new(seat.label());
            let copy = match seat.section() {
                Some(section) => copy.in_section(section),
                None => copy,
            };
            let ticket = LoadedTicket::new(0, 0, Some(copy), None, holder);
            loaded.insert(&format!("t-{n}"), ticket);
        }
        loaded.insert("t-none", LoadedTicket::new(0, 0, None, None, holder));
        let mut state = State::default();
        state.file_loaded_tickets(loaded);
        assert_eq!(state.seats.len(), given.len());
        let read: Vec<Option<&Seat>> = state.tickets.values().map(|t| state.seats.of(t)).collect();
        let expected: Vec<Option<&Seat>> =
            given.iter().chain(&given).map(Some).chain([None]).collect();
        assert_eq!(read, expected);
        assert_eq!(state.tickets.key(12), Some("t-none"));
    }

    /// Prices keep every minor amount an `i64` holds, in any currency: equal prices
    /// share one number, prices that differ in amount or currency do not, and no price
    /// stays none.
    #[test]
    fn ticket_prices_keep_every_amount_exactly() {
        let holder = CompactPatronId::of_held(PatronId::from_u64(1));
        let currencies = ["GBP", "EUR", "JPY", "AAA", "ZZZ"];
        let amounts = [
            0,
            1,
            -1,
            2_500,
            i64::from(u32::MAX),
            i64::from(u32::MAX) + 1,
            i64::from(i32::MIN),
            1 << 47,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let mut prices = Prices::default();
        let mut given = Vec::new();
        for code in currencies {
            let currency = crate::Currency::parse(code).expect("a code");
            for minor in amounts {
                given.push(Money::new(minor, currency));
            }
        }
        // Twice over, the second time after others: the same numbers again.
        for _ in 0..2 {
            for (n, price) in given.iter().enumerate() {
                let number = prices.file(Some(price));
                assert_eq!(number as usize, n, "{price:?}");
                let ticket = TicketRecord::new(0, 0, NONE_SHARED, number, holder);
                assert_eq!(prices.of(&ticket), Some(*price));
            }
        }
        assert_eq!(prices.len(), given.len());
        assert_eq!(prices.file(None), NONE_SHARED);
        let ticket = TicketRecord::new(0, 0, NONE_SHARED, NONE_SHARED, holder);
        assert_eq!(prices.of(&ticket), None);
    }

    proptest::proptest! {
        /// Whatever seats and prices tickets come with (labels and sections with control
        /// bytes, non-ASCII or nothing; any amount; any currency code), each ticket gives
        /// back exactly its own, live and after a save and load, and equal values share
        /// one number.
        #[test]
        fn tickets_give_back_their_seat_and_price_exactly(
            given in proptest::collection::vec(
                (
                    proptest::option::of((
                        "(?s).{0,6}",
                        proptest::option::of("[\\x00-\\x1f a-z\u{e9}\u{1F600}]{0,4}"),
                    )),
                    proptest::option::of((
                        proptest::prelude::any::<i64>(),
                        "[A-C]{3}",
                    )),
                ),
                0..40,
            ),
        ) {
            let holder = CompactPatronId::of_held(PatronId::from_u64(1));
            let mut state = State::default();
            let mut expected = Vec::new();
            for (n, (seat, price)) in given.iter().enumerate() {
                let seat = seat.as_ref().map(|(label, section)| match section {
                    Some(section) => Seat::new(label.as_str()).in_section(section.as_str()),
                    None => Seat::new(label.as_str()),
                });
                let price = price.as_ref().map(|(minor, code)| {
                    Money::new(*minor, crate::Currency::parse(code).expect("a code"))
                });
                let (seat_number, price_number) =
                    state.share_seat_and_price(seat.as_ref(), price.as_ref());
                let record = TicketRecord::new(0, 0, seat_number, price_number, holder);
                state.tickets.insert(&format!("t-{n}"), record);
                expected.push((seat, price));
            }
            let read = |state: &State| -> Vec<(Option<Seat>, Option<Money>)> {
                state
                    .tickets
                    .values()
                    .map(|t| (state.seats.of(t).cloned(), state.prices.of(t)))
                    .collect()
            };
            proptest::prop_assert_eq!(read(&state), expected.clone());
            let distinct = |values: Vec<String>| {
                values.into_iter().collect::<std::collections::HashSet<_>>().len()
            };
            let seats = expected.iter().filter_map(|(s, _)| s.as_ref().map(|s| format!("{s:?}")));
            proptest::prop_assert_eq!(state.seats.len(), distinct(seats.collect()));
            let prices = expected.iter().filter_map(|(_, p)| p.map(|p| format!("{p:?}")));
            proptest::prop_assert_eq!(state.prices.len(), distinct(prices.collect()));
            // Saved as each ticket's own seat and price, and numbered again on loading.
            let saved = postcard::to_allocvec(&SavedTickets {
                tickets: &state.tickets,
                orders: &state.orders,
                shared: state.shared_values(),
            })
            .expect("saved");
            let loaded: TextTable<LoadedTicket> = postcard::from_bytes(&saved).expect("read back");
            let mut restored = State::default();
            restored.file_loaded_tickets(loaded);
            proptest::prop_assert_eq!(read(&restored), expected);
            let again = postcard::to_allocvec(&SavedTickets {
                tickets: &restored.tickets,
                orders: &restored.orders,
                shared: restored.shared_values(),
            })
            .expect("saved again");
            proptest::prop_assert_eq!(again, saved);
        }
    }

    /// The four-byte survivor saves as the optional patron id it replaced and reads
    /// back the same; a survivor named 0 is refused, not read as "not merged".
    #[test]
    fn merged_into_saves_as_an_optional_patron_id() {
        for survivor in [None, Some(1), Some(300), Some(u64::from(u32::MAX) - 1)] {
            let merged = survivor.map_or(MergedInto::NOT, |raw| {
                MergedInto::into_survivor(PatronId::from_u64(raw))
            });
            assert_eq!(merged.is_some(), survivor.is_some());
            assert_eq!(merged.get().map(|s| s.get().as_u64()), survivor);
            let saved = postcard::to_allocvec(&merged).unwrap();
            let old: Option<PatronId> = survivor.map(PatronId::from_u64);
            assert_eq!(saved, postcard::to_allocvec(&old).unwrap());
            assert_eq!(postcard::from_bytes::<MergedInto>(&saved).unwrap(), merged);
        }
        let zero = postcard::to_allocvec(&Some(PatronId::from_u64(0))).unwrap();
        assert!(postcard::from_bytes::<MergedInto>(&zero).is_err());
        let too_big = postcard::to_allocvec(&Some(PatronId::from_u64(1 << 40))).unwrap();
        assert!(postcard::from_bytes::<MergedInto>(&too_big).is_err());
        // A survivor past the ids memory holds forwards to none it holds.
        let past = MergedInto::into_survivor(PatronId::from_u64(1 << 40));
        assert!(
            past.get()
                .is_some_and(|s| slot(s.get()) >= Some(crate::model::ids::MAX_PATRONS))
        );
    }

    #[test]
    fn a_history_entry_naming_nothing_is_a_broken_reference() {
        let mut state = State::default();
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let mut record = PatronRecord::new(at);
        record
            .history
            .push(Entry::new(at, 0, EntryKind::Ticketed { ticket: 7 }));
        state.push_patron(record);
        state.events.insert(
            "e-1",
            SeenEvent::new(0, CompactPatronId::of_held(PatronId::from_u64(1))),
        );
        assert!(state.broken_reference().is_some());
        state.patrons[0].history[0] = Entry::new(
            at,
            0,
            EntryKind::Other(InteractionKind::Donated {
                amount: Money::new(100, crate::Currency::GBP),
                fund: None,
            }),
        );
        assert_eq!(state.broken_reference(), None);
        // An order listing tickets past the end of the tickets table is broken too.
        state.orders.insert(
            "o-1",
            OrderRecord {
                buyer: CompactPatronId::of_held(PatronId::from_u64(1)),
                first_ticket: 0,
                tickets: 2,
            },
        );
        let broken = state.broken_reference().expect("tickets past the end");
        assert!(broken.contains("order o-1"), "{broken}");
        // Once the tickets are there, a ticket naming an order past the end of the
        // orders table is broken.
        let holder = CompactPatronId::of_held(PatronId::from_u64(1));
        let ticket = |order| TicketRecord::new(order, 0, NONE_SHARED, NONE_SHARED, holder);
        state.tickets.insert("t-1", ticket(0));
        state.tickets.insert("t-2", ticket(1));
        let broken = state.broken_reference().expect("an order past the end");
        assert!(broken.contains("ticket t-2"), "{broken}");
        state.tickets.values_mut().for_each(|t| t.order = 0);
        assert_eq!(state.broken_reference(), None);
    }

    /// Records keep no id, yet save exactly as when each held its own (the id its
    /// position gives, first), read back the same, and a list whose saved ids are out of
    /// place is caught, naming the first.
    #[test]
    fn records_save_the_id_their_position_gives_as_when_they_held_it() {
        #[derive(Serialize)]
        struct RecordWithId<'a> {
            id: PatronId,
            #[serde(with = "super::super::binary_time")]
            created_at: DateTime<Utc>,
            profile: &'a Profile,
            history: &'a [Entry],
            stats: &'a PatronStats,
            genres: SavedGenres<'a>,
            visits: SavedVisits<'a>,
            attended: &'a [PerformanceIdx],
            merged_into: MergedInto,
            absorbed: &'a Sparse<PatronId>,
            household: &'a Sparse<PatronId>,
        }
        #[derive(Serialize)]
        struct Saved<'a> {
            #[serde(serialize_with = "save_patrons")]
            patrons: &'a Chunked<PatronRecord>,
        }
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap_or_default();
        let mut records = Chunked::default();
        for n in 0..3_i64 {
            let mut record = PatronRecord::new(at(1_700_000_000 + n));
            record.history.push(Entry::new(
                at(1_700_000_100 + n),
                0,
                EntryKind::Ordered { order: 2 },
            ));
            if n == 2 {
                record.merged_into = MergedInto::into_survivor(PatronId::from_u64(1));
            }
            records.push(record);
        }
        let with_ids = |order: [u64; 3]| {
            let listed: Vec<RecordWithId<'_>> = order
                .iter()
                .zip(records.iter())
                .map(|(&id, r)| RecordWithId {
                    id: PatronId::from_u64(id),
                    created_at: r.created_at,
                    profile: &r.profile,
                    history: &r.history,
                    stats: &r.stats,
                    genres: SavedGenres(&r.attendance),
                    visits: SavedVisits(&r.attendance),
                    attended: r.attendance.performances(),
                    merged_into: r.merged_into,
                    absorbed: &r.absorbed,
                    household: &r.household,
                })
                .collect();
            postcard::to_allocvec(&listed).unwrap()
        };
        let saved = postcard::to_allocvec(&Saved { patrons: &records }).unwrap();
        assert_eq!(saved, with_ids([1, 2, 3]));
        let read: LoadedPatronList = postcard::from_bytes(&saved).unwrap();
        assert_eq!(read.misplaced, None);
        assert_eq!(read.records.len(), 3);
        for (read, kept) in read.records.iter().zip(records.iter()) {
            assert_eq!(read.created_at, kept.created_at);
            assert_eq!(read.history, kept.history);
            assert_eq!(read.merged_into, kept.merged_into);
        }
        let swapped: LoadedPatronList = postcard::from_bytes(&with_ids([1, 3, 2])).unwrap();
        assert_eq!(swapped.misplaced, Some((PatronId::from_u64(3), 1)));
        let from_zero: LoadedPatronList = postcard::from_bytes(&with_ids([0, 1, 2])).unwrap();
        assert_eq!(from_zero.misplaced, Some((PatronId::from_u64(0), 0)));
        assert_eq!(id_at(0), PatronId::from_u64(1));
        assert_eq!(slot(id_at(41)), Some(41));
    }
}
