//! What happened with a patron, as memory records it.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::event::LineItem;
use super::ids::{EventId, Handle, IdText, OrderId, PerformanceId, TicketId};
use super::money::Money;

/// A seat: a label such as `F12`, optionally in a section such as `Stalls`.
///
/// Cloning is cheap: a ticket's seat is held by the ticket, the patron's history and the
/// moments about it, and they share one copy.
///
/// ```
/// use regulars::Seat;
/// let seat = Seat::new("F12").in_section("Stalls");
/// assert_eq!(seat.to_string(), "Stalls F12");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seat {
    // One pointer wide, so an `Option<Seat>` in every ticket and history entry costs 8 bytes.
    parts: Arc<SeatParts>,
}

/// What a seat says; serialized as the seat (section, then label).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename = "Seat")]
struct SeatParts {
    section: Option<Box<str>>,
    label: Box<str>,
}

impl Seat {
    /// A seat with this label.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            parts: Arc::new(SeatParts {
                section: None,
                label: label.into().into_boxed_str(),
            }),
        }
    }
    /// Puts the seat in a section.
    #[must_use]
    pub fn in_section(mut self, section: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.parts).section = Some(section.into().into_boxed_str());
        self
    }
    /// The seat's label (`F12`).
    pub fn label(&self) -> &str {
        &self.parts.label
    }
    /// The section, if given.
    pub fn section(&self) -> Option<&str> {
        self.parts.section.as_deref()
    }
    /// Whether both are the same shared copy (not just equal).
    #[cfg(test)]
    pub(crate) fn is_same_copy(&self, other: &Seat) -> bool {
        Arc::ptr_eq(&self.parts, &other.parts)
    }
}

impl fmt::Debug for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seat")
            .field("section", &self.parts.section)
            .field("label", &self.parts.label)
            .finish()
    }
}

impl Serialize for Seat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.parts.serialize(serializer)
    }
}

/// A seat as read, its text borrowed from the input where the format allows.
#[derive(Deserialize)]
#[serde(rename = "Seat")]
struct ReadSeat<'a> {
    #[serde(borrow)]
    section: Option<IdText<'a>>,
    #[serde(borrow)]
    label: IdText<'a>,
}

impl ReadSeat<'_> {
    fn section(&self) -> Option<&str> {
        self.section.as_ref().map(IdText::as_str)
    }

    fn to_seat(&self) -> Seat {
        Seat {
            parts: Arc::new(SeatParts {
                section: self.section().map(Box::from),
                label: Box::from(self.label.as_str()),
            }),
        }
    }
}

thread_local! {
    /// The seats read on this thread while [`SharedSeats`] is alive.
    static SHARED_SEATS: RefCell<Option<SeatTable>> = const { RefCell::new(None) };
}

/// Every distinct seat read so far, by its section and label.
struct SeatTable {
    hasher: ahash::RandomState,
    seats: hashbrown::HashTable<Seat>,
}

/// While alive, every copy of one seat deserialized on this thread is one shared copy
/// (a snapshot holds a copy per ticket and fired moment, and a venue has few seats):
/// loading allocates each seat once. Dropping it forgets the seats it kept.
pub(crate) struct SharedSeats {
    /// Whether an outer guard was already sharing (then it keeps the table).
    nested: bool,
}

impl SharedSeats {
    /// Starts sharing the seats deserialized on this thread.
    pub(crate) fn start() -> Self {
        let nested = SHARED_SEATS.with(|shared| {
            let mut shared = shared.borrow_mut();
            let nested = shared.is_some();
            if !nested {
                *shared = Some(SeatTable {
                    hasher: ahash::RandomState::new(),
                    seats: hashbrown::HashTable::new(),
                });
            }
            nested
        });
        Self { nested }
    }
}

impl Drop for SharedSeats {
    fn drop(&mut self) {
        if !self.nested {
            // Taken out first so the table is freed outside the borrow.
            let table = SHARED_SEATS.with(|shared| shared.borrow_mut().take());
            drop(table);
        }
    }
}

impl<'de> Deserialize<'de> for Seat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = ReadSeat::deserialize(deserializer)?;
        Ok(SHARED_SEATS.with(|shared| {
            let mut shared = shared.borrow_mut();
            let Some(table) = shared.as_mut() else {
                return read.to_seat();
            };
            let (section, label) = (read.section(), read.label.as_str());
            let hasher = &table.hasher;
            let hash = hasher.hash_one((section, label));
            let found = table.seats.find(hash, |seat| {
                seat.section() == section && seat.label() == label
            });
            if let Some(seat) = found {
                return seat.clone();
            }
            let seat = read.to_seat();
            table.seats.insert_unique(hash, seat.clone(), |seat| {
                hasher.hash_one((seat.section(), seat.label()))
            });
            seat
        }))
    }
}

impl fmt::Display for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.section() {
            Some(section) => write!(f, "{section} {}", self.label()),
            None => f.write_str(self.label()),
        }
    }
}

/// Which way a door scan went.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Direction {
    /// Coming in: counts as attending.
    Entry,
    /// Going out.
    Exit,
}

/// One thing that happened with a patron, in their history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    event: EventId,
    #[serde(with = "crate::memory::binary_time")]
    at: DateTime<Utc>,
    kind: InteractionKind,
}

impl Interaction {
    pub(crate) fn new(event: EventId, at: DateTime<Utc>, kind: InteractionKind) -> Self {
        Self { event, at, kind }
    }
    /// Takes it apart (for the stored form).
    pub(crate) fn into_kind(self) -> InteractionKind {
        self.kind
    }
    /// The event that recorded it.
    pub fn event(&self) -> &EventId {
        &self.event
    }
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
    /// What happened.
    pub fn kind(&self) -> &InteractionKind {
        &self.kind
    }
}

/// What happened, from this patron's side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum InteractionKind {
    /// They placed an order (as the buyer).
    Ordered {
        /// The order.
        order: OrderId,
        /// Tickets in it.
        tickets: u32,
        /// Sum of the ticket prices, per currency.
        amount: Vec<Money>,
    },
    /// They hold a ticket (bought by them or for them).
    Ticketed {
        /// The ticket.
        ticket: TicketId,
        /// Its performance.
        performance: PerformanceId,
        /// Its seat.
        seat: Option<Seat>,
        /// The order it came in.
        order: OrderId,
    },
    /// Their ticket was scanned at the door.
    Scanned {
        /// The ticket.
        ticket: TicketId,
        /// Its performance.
        performance: PerformanceId,
        /// In or out.
        direction: Direction,
    },
    /// Tickets of theirs were refunded (as the buyer).
    Refunded {
        /// The order.
        order: OrderId,
        /// The refunded tickets.
        tickets: Vec<TicketId>,
        /// The amount returned.
        amount: Option<Money>,
    },
    /// They gave a donation.
    Donated {
        /// How much.
        amount: Money,
        /// To which fund, if said.
        fund: Option<String>,
    },
    /// They took out or renewed a membership.
    Membership {
        /// The scheme or tier ("Friends", "Patron circle").
        scheme: String,
        /// First valid day.
        valid_from: NaiveDate,
        /// Last valid day.
        valid_to: NaiveDate,
        /// What they paid.
        price: Option<Money>,
    },
    /// They bought at the bar or shop.
    Purchased {
        /// The performance it was bought at, if any.
        performance: Option<PerformanceId>,
        /// The items.
        items: Vec<LineItem>,
    },
}

/// One history entry as memory stores it (16 bytes): ids are handles into memory's
/// tables, where each id's text is kept once, and what the ticket and order tables already
/// say (performance, seat, order, prices) is read from them, not repeated. The public
/// [`Interaction`] is rebuilt from it on read.
///
/// The common entries (orders, tickets, scans) are packed inline (see [`PackedEntry`]);
/// the rarer ones that carry their own data (refunds, donations, memberships, purchases),
/// and a common one whose time or handle does not pack, keep time, event and data
/// together in a box (see [`OtherEntry`]). Saved as before: time, event, then the kind.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entry {
    /// An order placed as the buyer, a ticket held or a door scan.
    Packed(PackedEntry),
    /// Refunds, donations, memberships and purchases (and common entries that do not pack).
    Boxed(Box<OtherEntry>),
}

/// An order, ticket or scan entry in 16 bytes: its time in microseconds since the Unix
/// epoch with the kind in the two low bits, its event's handle plus one (never zero, so
/// an [`Entry`] tells the box apart by it at no extra byte) and its order's or ticket's
/// handle.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PackedEntry {
    micros_and_kind: i64,
    event_plus_one: std::num::NonZeroU32,
    handle: Handle,
}

impl PackedEntry {
    const ORDERED: i64 = 0;
    const TICKETED: i64 = 1;
    const SCANNED_IN: i64 = 2;
    const SCANNED_OUT: i64 = 3;

    /// Packs an order, ticket or scan; `None` for the other kinds, for a time with
    /// nanoseconds finer than a microsecond (or a leap second) or beyond ±73,000 years
    /// of 1970, and for the one handle with no successor.
    fn pack<O>(at: DateTime<Utc>, event: Handle, kind: &EntryKind<O>) -> Option<Self> {
        let (tag, handle) = Self::tag(kind)?;
        let nanos = at.timestamp_subsec_nanos();
        if !nanos.is_multiple_of(1_000) || nanos >= 1_000_000_000 {
            return None;
        }
        // Whole microseconds of a valid time: they read back as the same time.
        let micros = at
            .timestamp()
            .checked_mul(1_000_000)?
            .checked_add(i64::from(nanos / 1_000))?;
        Self::pack_micros(micros, event, tag, handle)
    }

    /// Packs a time given as microseconds since the epoch; `None` beyond ±73,000 years
    /// (every count within is a valid time: chrono's range is wider) and for the one
    /// event handle with no successor.
    fn pack_micros(micros: i64, event: Handle, tag: i64, handle: Handle) -> Option<Self> {
        let shifted = micros.checked_mul(4)?;
        Some(Self {
            micros_and_kind: shifted | tag,
            event_plus_one: std::num::NonZeroU32::new(event.checked_add(1)?)?,
            handle,
        })
    }

    /// The tag and handle of an order, ticket or scan; `None` for the other kinds.
    fn tag<O>(kind: &EntryKind<O>) -> Option<(i64, Handle)> {
        Some(match *kind {
            EntryKind::Ordered { order } => (Self::ORDERED, order),
            EntryKind::Ticketed { ticket } => (Self::TICKETED, ticket),
            EntryKind::Scanned {
                ticket,
                direction: Direction::Entry,
            } => (Self::SCANNED_IN, ticket),
            EntryKind::Scanned {
                ticket,
                direction: Direction::Exit,
            } => (Self::SCANNED_OUT, ticket),
            EntryKind::Other(_) => return None,
        })
    }

    fn at(&self) -> DateTime<Utc> {
        // Every value `pack` made is a valid time: the epoch is never read.
        DateTime::from_timestamp_micros(self.micros_and_kind >> 2).unwrap_or_default()
    }

    fn event(&self) -> Handle {
        self.event_plus_one.get() - 1
    }

    fn kind<O>(&self) -> EntryKind<O> {
        let handle = self.handle;
        match self.micros_and_kind & 3 {
            Self::ORDERED => EntryKind::Ordered { order: handle },
            Self::TICKETED => EntryKind::Ticketed { ticket: handle },
            Self::SCANNED_IN => EntryKind::Scanned {
                ticket: handle,
                direction: Direction::Entry,
            },
            _ => EntryKind::Scanned {
                ticket: handle,
                direction: Direction::Exit,
            },
        }
    }
}

/// A history entry that does not pack, in its box: purchases, nearly all of them, keep
/// their performance and items here (48 bytes, not the 80 a whole kind takes); the rarer
/// kinds keep their whole kind in a second box.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OtherEntry {
    at: DateTime<Utc>,
    event: Handle,
    kind: StoredKind,
}

/// What a boxed entry holds.
#[derive(Clone, Debug, PartialEq)]
enum StoredKind {
    /// A bar or shop purchase, its items exactly as many as bought (no spare capacity).
    Purchased {
        performance: Option<PerformanceId>,
        items: Box<[LineItem]>,
    },
    /// Refunds, donations, memberships, and orders, tickets or scans that do not pack:
    /// rare enough that a second box costs less than widening every purchase to hold them.
    Whole(Box<EntryKind>),
}

/// The data of a refund, donation, membership or purchase, borrowed from its entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum OtherRef<'a> {
    /// A bar or shop purchase ([`InteractionKind::Purchased`], stored apart).
    Purchased {
        /// The performance it was bought at, if any.
        performance: Option<&'a PerformanceId>,
        /// The items.
        items: &'a [LineItem],
    },
    /// A refund, donation or membership, kept whole.
    Whole(&'a InteractionKind),
}

impl OtherRef<'_> {
    /// The public kind, copied out.
    pub(crate) fn to_kind(self) -> InteractionKind {
        match self {
            OtherRef::Purchased { performance, items } => InteractionKind::Purchased {
                performance: performance.cloned(),
                items: items.to_vec(),
            },
            OtherRef::Whole(kind) => kind.clone(),
        }
    }
}

impl Serialize for OtherRef<'_> {
    /// Exactly as the [`InteractionKind`] it stands for.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStructVariant;
        match *self {
            OtherRef::Purchased { performance, items } => {
                // `InteractionKind::Purchased` is variant 6, with these two fields.
                let mut variant =
                    serializer.serialize_struct_variant("InteractionKind", 6, "Purchased", 2)?;
                variant.serialize_field("performance", &performance)?;
                variant.serialize_field("items", items)?;
                variant.end()
            }
            OtherRef::Whole(kind) => kind.serialize(serializer),
        }
    }
}

impl Entry {
    /// An entry recorded at `at` by the event with handle `event`.
    pub(crate) fn new(at: DateTime<Utc>, event: Handle, kind: EntryKind) -> Self {
        if let Some(packed) = PackedEntry::pack(at, event, &kind) {
            return Entry::Packed(packed);
        }
        let kind = match kind {
            EntryKind::Other(InteractionKind::Purchased { performance, items }) => {
                StoredKind::Purchased {
                    performance,
                    items: items.into_boxed_slice(),
                }
            }
            kind => StoredKind::Whole(Box::new(kind)),
        };
        Entry::Boxed(Box::new(OtherEntry { at, event, kind }))
    }

    /// When it happened.
    pub(crate) fn at(&self) -> DateTime<Utc> {
        match self {
            Entry::Packed(packed) => packed.at(),
            Entry::Boxed(other) => other.at,
        }
    }

    /// The handle of the event that recorded it (in the events table).
    pub(crate) fn event(&self) -> Handle {
        match self {
            Entry::Packed(packed) => packed.event(),
            Entry::Boxed(other) => other.event,
        }
    }

    /// What happened, borrowed.
    pub(crate) fn kind(&self) -> EntryKind<OtherRef<'_>> {
        match self {
            Entry::Packed(packed) => packed.kind(),
            Entry::Boxed(other) => match &other.kind {
                StoredKind::Purchased { performance, items } => {
                    EntryKind::Other(OtherRef::Purchased {
                        performance: performance.as_ref(),
                        items,
                    })
                }
                StoredKind::Whole(kind) => match &**kind {
                    EntryKind::Ordered { order } => EntryKind::Ordered { order: *order },
                    EntryKind::Ticketed { ticket } => EntryKind::Ticketed { ticket: *ticket },
                    EntryKind::Scanned { ticket, direction } => EntryKind::Scanned {
                        ticket: *ticket,
                        direction: *direction,
                    },
                    EntryKind::Other(kind) => EntryKind::Other(OtherRef::Whole(kind)),
                },
            },
        }
    }

    /// Whether it is kept in a box of its own (a [`OtherEntry`]).
    pub(crate) fn is_boxed(&self) -> bool {
        matches!(self, Entry::Boxed(_))
    }

    /// The items of a purchase, to change them.
    pub(crate) fn purchase_items_mut(&mut self) -> Option<&mut [LineItem]> {
        match self {
            Entry::Boxed(other) => match &mut other.kind {
                StoredKind::Purchased { items, .. } => Some(items),
                StoredKind::Whole(_) => None,
            },
            Entry::Packed(_) => None,
        }
    }
}

/// An entry as snapshots save it (the shape entries had when they were a struct).
#[derive(Serialize)]
#[serde(rename = "Entry")]
struct SavedEntryRef<'a> {
    #[serde(with = "crate::memory::binary_time")]
    at: DateTime<Utc>,
    event: Handle,
    kind: EntryKind<OtherRef<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "Entry")]
struct SavedEntry {
    at: crate::memory::binary_time::ReadTime,
    event: Handle,
    kind: EntryKind,
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SavedEntryRef {
            at: self.at(),
            event: self.event(),
            kind: self.kind(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let saved = SavedEntry::deserialize(deserializer)?;
        // Most entries are packed: straight from the integers read, when they fit.
        if let Some(micros) = saved.at.whole_micros()
            && let Some((tag, handle)) = PackedEntry::tag(&saved.kind)
            && let Some(packed) = PackedEntry::pack_micros(micros, saved.event, tag, handle)
        {
            return Ok(Entry::Packed(packed));
        }
        Ok(Entry::new(saved.at.time()?, saved.event, saved.kind))
    }
}

/// What happened, in the stored form: `O` is the data of the rarer kinds, owned when an
/// entry is made ([`Entry::new`]) and borrowed when one is read ([`Entry::kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum EntryKind<O = InteractionKind> {
    /// An order placed as the buyer: the ticket count and amount are its tickets'.
    Ordered {
        /// Handle in the orders table.
        order: Handle,
    },
    /// A ticket held: its performance, seat and order are in the ticket table.
    Ticketed {
        /// Handle in the tickets table.
        ticket: Handle,
    },
    /// A door scan of a ticket.
    Scanned {
        /// Handle in the tickets table.
        ticket: Handle,
        /// In or out.
        direction: Direction,
    },
    /// Refunds, donations, memberships and purchases, which are rarer and carry their
    /// own data, kept whole.
    Other(O),
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Entry>() == 16);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<OtherEntry>() == 48);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_read_while_shared_are_one_copy_and_read_alike_otherwise() {
        let seats = vec![
            Seat::new("F12").in_section("Stalls"),
            Seat::new("F12"),
            Seat::new("F12").in_section("Stalls"),
            Seat::new("F12"),
            Seat::new("F13").in_section("Stalls"),
        ];
        let bytes = postcard::to_allocvec(&seats).unwrap();
        let read: Vec<Seat> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(read, seats);
        assert!(
            !read[0].is_same_copy(&read[2]),
            "not shared without the guard"
        );
        let shared: Vec<Seat> = {
            let _shared = SharedSeats::start();
            postcard::from_bytes(&bytes).unwrap()
        };
        assert_eq!(shared, seats);
        assert!(shared[0].is_same_copy(&shared[2]));
        assert!(shared[1].is_same_copy(&shared[3]));
        assert!(!shared[0].is_same_copy(&shared[1]));
        assert!(!shared[0].is_same_copy(&shared[4]));
        // Formats that cannot lend their text (escapes in JSON) read the same, and share.
        let json = r#"[{"section":"St\u0061lls","label":"F12"},{"section":"Stalls","label":"F12"},{"section":null,"label":"F12"}]"#;
        let _shared = SharedSeats::start();
        let from_json: Vec<Seat> = serde_json::from_str(json).unwrap();
        assert_eq!(
            from_json,
            [seats[0].clone(), seats[0].clone(), seats[1].clone()]
        );
        assert!(from_json[0].is_same_copy(&from_json[1]));
    }
    use crate::model::money::Money;

    /// The shape entries were saved in when they were a struct (snapshot versions 3 to 5).
    #[derive(Serialize)]
    struct StructEntry {
        #[serde(with = "crate::memory::binary_time")]
        at: DateTime<Utc>,
        event: Handle,
        kind: EntryKind<Box<InteractionKind>>,
    }

    /// `entry` saves exactly as the struct `StructEntry { at, event, kind }` did, and
    /// loads back equal (returned).
    fn saves_as_the_struct_did(
        entry: &Entry,
        at: DateTime<Utc>,
        event: Handle,
        kind: EntryKind<Box<InteractionKind>>,
    ) -> Entry {
        let before = postcard::to_allocvec(&StructEntry { at, event, kind }).expect("saved");
        let saved = postcard::to_allocvec(entry).expect("saved");
        assert_eq!(saved, before);
        let loaded: Entry = postcard::from_bytes(&saved).expect("loaded");
        assert_eq!(&loaded, entry);
        loaded
    }

    /// Every kind, purchases included (kept apart from the whole kinds), saves exactly as
    /// the struct did, in postcard and in JSON, and reads back as made.
    #[test]
    fn entries_of_every_kind_save_as_the_struct_did_and_load_back() {
        let at = DateTime::<Utc>::from_timestamp(1_770_000_000, 123_456_789).expect("a time");
        let donated = InteractionKind::Donated {
            amount: Money::new(2_500, crate::Currency::GBP),
            fund: Some("roof".to_owned()),
        };
        let espresso = LineItem::new("espresso", 2, Money::new(250, crate::Currency::GBP));
        let cake = LineItem::new("cake", 1, Money::new(400, crate::Currency::EUR));
        let purchases = [
            InteractionKind::Purchased {
                performance: Some(PerformanceId::new("hamlet-1")),
                items: vec![espresso.clone(), cake],
            },
            InteractionKind::Purchased {
                performance: None,
                items: vec![espresso],
            },
            InteractionKind::Purchased {
                performance: None,
                items: Vec::new(),
            },
        ];
        let kinds = [
            EntryKind::Ordered { order: 3 },
            EntryKind::Ticketed { ticket: 4 },
            EntryKind::Scanned {
                ticket: 5,
                direction: Direction::Exit,
            },
            EntryKind::Other(donated),
        ]
        .into_iter()
        .chain(purchases.into_iter().map(EntryKind::Other));
        for (event, kind) in kinds.enumerate() {
            let event = event as Handle + 10;
            let entry = Entry::new(at, event, kind.clone());
            assert_eq!((entry.at(), entry.event()), (at, event));
            let boxed = match kind.clone() {
                EntryKind::Ordered { order } => EntryKind::Ordered { order },
                EntryKind::Ticketed { ticket } => EntryKind::Ticketed { ticket },
                EntryKind::Scanned { ticket, direction } => {
                    EntryKind::Scanned { ticket, direction }
                }
                EntryKind::Other(other) => EntryKind::Other(Box::new(other)),
            };
            let as_json = serde_json::to_string(&StructEntry {
                at,
                event,
                kind: boxed.clone(),
            })
            .expect("saved");
            assert_eq!(serde_json::to_string(&entry).expect("saved"), as_json);
            let loaded = saves_as_the_struct_did(&entry, at, event, boxed);
            let read = match loaded.kind() {
                EntryKind::Other(other) => {
                    let is_purchase = matches!(other.to_kind(), InteractionKind::Purchased { .. });
                    assert_eq!(
                        matches!(other, OtherRef::Purchased { .. }),
                        is_purchase,
                        "purchases, and only they, are stored apart"
                    );
                    EntryKind::Other(other.to_kind())
                }
                EntryKind::Ordered { order } => EntryKind::Ordered { order },
                EntryKind::Ticketed { ticket } => EntryKind::Ticketed { ticket },
                EntryKind::Scanned { ticket, direction } => {
                    EntryKind::Scanned { ticket, direction }
                }
            };
            assert_eq!(read, kind);
        }
    }

    /// A purchase's items can be changed in place (to share product codes), and nothing
    /// else offers items to change.
    #[test]
    fn only_purchases_lend_their_items_to_change() {
        let at = DateTime::<Utc>::from_timestamp(1_770_000_000, 0).expect("a time");
        let tea = LineItem::new("tea", 1, Money::new(200, crate::Currency::GBP));
        let mut purchase = Entry::new(
            at,
            1,
            EntryKind::Other(InteractionKind::Purchased {
                performance: None,
                items: vec![tea],
            }),
        );
        let items = purchase.purchase_items_mut().expect("a purchase");
        items[0] = LineItem::new("coffee", 3, Money::new(300, crate::Currency::GBP));
        let EntryKind::Other(OtherRef::Purchased { items, .. }) = purchase.kind() else {
            panic!("a purchase");
        };
        assert_eq!((items[0].sku(), items.len()), ("coffee", 1));
        let mut donation = Entry::new(
            at,
            2,
            EntryKind::Other(InteractionKind::Donated {
                amount: Money::new(100, crate::Currency::GBP),
                fund: None,
            }),
        );
        assert!(donation.purchase_items_mut().is_none());
        let mut ticket = Entry::new(at, 3, EntryKind::Ticketed { ticket: 1 });
        assert!(ticket.purchase_items_mut().is_none());
    }

    /// Entries are packed straight from the integers a snapshot holds: the same entry,
    /// or the same refusal, as from the time those integers make, at every edge of the
    /// packed range, chrono's range and the microsecond count's.
    #[test]
    fn entries_read_from_integers_are_the_entries_their_times_make() {
        let quarter = i64::MAX / 4 / 1_000_000;
        let seconds = [
            0,
            -1,
            1_770_000_000,
            quarter,
            quarter + 1,
            -quarter - 1,
            -quarter - 2,
            8_210_266_876_799,
            8_210_266_876_800,
            i64::MAX / 1_000_000,
            i64::MAX / 1_000_000 + 1,
            i64::MAX,
            i64::MIN,
        ];
        let nanos = [
            0,
            775_807_000,
            999_999_000,
            1_000,
            1,
            1_000_000_000,
            1_999_999_000,
        ];
        let kinds: [EntryKind; 2] = [
            EntryKind::Ticketed { ticket: 9 },
            EntryKind::Other(InteractionKind::Donated {
                amount: Money::new(100, crate::Currency::GBP),
                fund: None,
            }),
        ];
        for seconds in seconds {
            // A leap second is only ever the last second of a minute.
            for seconds in [
                seconds,
                seconds
                    .saturating_sub(seconds.rem_euclid(60))
                    .saturating_add(59),
            ] {
                for nanos in nanos {
                    for kind in &kinds {
                        let bytes =
                            postcard::to_allocvec(&((seconds, nanos), 7u32, kind)).expect("saved");
                        let read = postcard::from_bytes::<Entry>(&bytes);
                        match DateTime::<Utc>::from_timestamp(seconds, nanos) {
                            Some(at) => {
                                let read = read.expect("a time reads");
                                assert_eq!(read, Entry::new(at, 7, kind.clone()));
                                assert_eq!(
                                    read.is_boxed(),
                                    Entry::new(at, 7, kind.clone()).is_boxed()
                                );
                            }
                            None => assert!(read.is_err(), "{seconds} s {nanos} ns"),
                        }
                    }
                }
            }
        }
    }

    /// Orders, tickets and scans are packed in 16 bytes whenever their time and handles
    /// allow, and kept whole otherwise: either way an entry reads back exactly as made and
    /// saves as the struct did.
    #[test]
    fn common_entries_pack_when_they_can_and_read_back_exactly_either_way() {
        let time =
            |seconds, nanos| DateTime::<Utc>::from_timestamp(seconds, nanos).expect("a time");
        let packable = [
            time(1_770_000_000, 0),
            time(1_770_000_000, 123_456_000),
            time(0, 0),
            time(-1, 999_999_000),
            time(-62_135_596_800, 0),
            time(253_402_300_799, 0),
        ];
        let unpackable = [
            time(1_770_000_000, 123_456_789),
            time(1_770_000_000, 1),
            // A leap second.
            time(1_483_228_799, 1_500_000_000),
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::MIN_UTC,
        ];
        let kinds: [EntryKind; 4] = [
            EntryKind::Ordered { order: 3 },
            EntryKind::Ticketed { ticket: u32::MAX },
            EntryKind::Scanned {
                ticket: 0,
                direction: Direction::Entry,
            },
            EntryKind::Scanned {
                ticket: 5,
                direction: Direction::Exit,
            },
        ];
        let cases = packable
            .iter()
            .map(|&at| (at, true))
            .chain(unpackable.iter().map(|&at| (at, false)));
        for (at, packs) in cases {
            for (event, packs) in [
                (0, packs),
                (77, packs),
                (u32::MAX - 1, packs),
                (u32::MAX, false),
            ] {
                for kind in &kinds {
                    let entry = Entry::new(at, event, kind.clone());
                    assert_eq!(entry.is_boxed(), !packs, "{at:?} {event} {kind:?}");
                    assert_eq!((entry.at(), entry.event()), (at, event));
                    let (read, saved_kind): (EntryKind, EntryKind<Box<InteractionKind>>) =
                        match entry.kind() {
                            EntryKind::Ordered { order } => {
                                (EntryKind::Ordered { order }, EntryKind::Ordered { order })
                            }
                            EntryKind::Ticketed { ticket } => (
                                EntryKind::Ticketed { ticket },
                                EntryKind::Ticketed { ticket },
                            ),
                            EntryKind::Scanned { ticket, direction } => (
                                EntryKind::Scanned { ticket, direction },
                                EntryKind::Scanned { ticket, direction },
                            ),
                            EntryKind::Other(_) => panic!("an order, ticket or scan"),
                        };
                    assert_eq!(&read, kind);
                    saves_as_the_struct_did(&entry, at, event, saved_kind);
                }
            }
        }
    }
}
