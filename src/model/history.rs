//! What happened with a patron, as memory records it.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ids::{EventId, Handle, OrderId, PerformanceId, TicketId};
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

impl<'de> Deserialize<'de> for Seat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SeatParts::deserialize(deserializer).map(|parts| Seat {
            parts: Arc::new(parts),
        })
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
        items: Vec<super::event::LineItem>,
    },
}

/// One history entry as memory stores it (32 bytes): ids are handles into memory's
/// tables, where each id's text is kept once, and what the ticket and order tables already
/// say (performance, seat, order, prices) is read from them, not repeated. The public
/// [`Interaction`] is rebuilt from it on read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    #[serde(with = "crate::memory::binary_time")]
    pub(crate) at: DateTime<Utc>,
    /// The event that recorded it (a handle in the events table).
    pub(crate) event: Handle,
    pub(crate) kind: EntryKind,
}

impl Entry {
    /// When it happened.
    pub(crate) fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// What happened, in the stored form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum EntryKind {
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
    Other(Box<InteractionKind>),
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Entry>() == 32);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<EntryKind>() == 16);
