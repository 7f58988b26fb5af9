//! What a vendor sends: one event per order, scan, refund, donation, membership or purchase.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::history::{Direction, Seat};
use super::ids::{EventId, OrderId, PerformanceId, ScanId, TicketId};
use super::money::Money;
use crate::signals::Signals;

/// One copy of each product code memory has seen in a purchase.
pub(crate) type SharedSkus = std::collections::HashSet<Arc<str>, ahash::RandomState>;

/// Serializes shared text as a plain string.
mod shared_text {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        text: &Arc<str>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Arc<str>, D::Error> {
        let text = crate::model::ids::IdText::deserialize(deserializer)?;
        Ok(Arc::from(text.as_str()))
    }
}

/// One thing that happened at the venue, as the vendor reports it.
///
/// Every event has an id: observing an event with an id seen before changes nothing
/// (and is an error if its content differs). The time comes from [`Event::at`] or, when
/// absent, from the memory's [`Clock`](crate::Clock).
///
/// ```
/// use regulars::{Event, Order, Signals, Ticket};
/// let event = Event::order(
///     "web-1001",
///     Order::new("o-1001", Signals::new().email("ana@example.org"))
///         .ticket(Ticket::new("t-1", "hamlet-1").seat_label("F12")),
/// );
/// assert_eq!(event.id().as_str(), "web-1001");
/// ```
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Event {
    id: EventId,
    #[serde(with = "crate::memory::binary_time::option")]
    at: Option<DateTime<Utc>>,
    kind: EventKind,
}

/// The payload of an [`Event`].
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EventKind {
    /// Tickets were bought.
    Order(Order),
    /// A ticket was scanned at a door.
    Scan(Scan),
    /// Tickets were refunded.
    Refund(Refund),
    /// A donation was given.
    Donation(Donation),
    /// A membership was taken out or renewed.
    Membership(Membership),
    /// Something was bought at the bar or shop.
    Purchase(Purchase),
}

impl Event {
    /// An event of any kind.
    pub fn new(id: impl Into<EventId>, kind: EventKind) -> Self {
        Self {
            id: id.into(),
            at: None,
            kind,
        }
    }
    /// An order event.
    pub fn order(id: impl Into<EventId>, order: Order) -> Self {
        Self::new(id, EventKind::Order(order))
    }
    /// A door-scan event.
    pub fn scan(id: impl Into<EventId>, scan: Scan) -> Self {
        Self::new(id, EventKind::Scan(scan))
    }
    /// A refund event.
    pub fn refund(id: impl Into<EventId>, refund: Refund) -> Self {
        Self::new(id, EventKind::Refund(refund))
    }
    /// A donation event.
    pub fn donation(id: impl Into<EventId>, donation: Donation) -> Self {
        Self::new(id, EventKind::Donation(donation))
    }
    /// A membership event.
    pub fn membership(id: impl Into<EventId>, membership: Membership) -> Self {
        Self::new(id, EventKind::Membership(membership))
    }
    /// A bar or shop purchase event.
    pub fn purchase(id: impl Into<EventId>, purchase: Purchase) -> Self {
        Self::new(id, EventKind::Purchase(purchase))
    }
    /// Sets when it happened.
    #[must_use]
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }
    /// The vendor's event id.
    pub fn id(&self) -> &EventId {
        &self.id
    }
    /// When it happened, if the vendor said.
    pub fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.at
    }
    /// The payload.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }
}

/// An order: a buyer and the tickets they bought.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Order {
    pub(crate) id: OrderId,
    pub(crate) buyer: Signals,
    pub(crate) tickets: Vec<Ticket>,
}

impl Order {
    /// An order with the vendor's id, placed by the person the signals describe.
    pub fn new(id: impl Into<OrderId>, buyer: Signals) -> Self {
        Self {
            id: id.into(),
            buyer,
            tickets: Vec::new(),
        }
    }
    /// Adds a ticket.
    #[must_use]
    pub fn ticket(mut self, ticket: Ticket) -> Self {
        self.tickets.push(ticket);
        self
    }
    /// The vendor's order id.
    pub fn id(&self) -> &OrderId {
        &self.id
    }
    /// Who bought.
    pub fn buyer(&self) -> &Signals {
        &self.buyer
    }
    /// The tickets.
    pub fn tickets(&self) -> &[Ticket] {
        &self.tickets
    }
}

/// A ticket in an order: a performance, maybe a seat and a price, and maybe a holder
/// who is not the buyer.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Ticket {
    pub(crate) id: TicketId,
    pub(crate) performance: PerformanceId,
    pub(crate) seat: Option<Seat>,
    pub(crate) price: Option<Money>,
    pub(crate) holder: Option<Signals>,
}

impl Ticket {
    /// A ticket (its id is usually the barcode) for a performance.
    pub fn new(id: impl Into<TicketId>, performance: impl Into<PerformanceId>) -> Self {
        Self {
            id: id.into(),
            performance: performance.into(),
            seat: None,
            price: None,
            holder: None,
        }
    }
    /// Sets the seat.
    #[must_use]
    pub fn seat(mut self, seat: Seat) -> Self {
        self.seat = Some(seat);
        self
    }
    /// Sets the seat by label alone.
    #[must_use]
    pub fn seat_label(self, label: impl Into<String>) -> Self {
        self.seat(Seat::new(label))
    }
    /// Sets the price paid.
    #[must_use]
    pub fn price(mut self, price: Money) -> Self {
        self.price = Some(price);
        self
    }
    /// Names the person who will use the ticket, when it is not the buyer.
    #[must_use]
    pub fn holder(mut self, holder: Signals) -> Self {
        self.holder = Some(holder);
        self
    }
    /// The ticket id.
    pub fn id(&self) -> &TicketId {
        &self.id
    }
    /// The performance.
    pub fn performance(&self) -> &PerformanceId {
        &self.performance
    }
    /// The seat, if assigned.
    pub fn seat_assigned(&self) -> Option<&Seat> {
        self.seat.as_ref()
    }
    /// The price, if given.
    pub fn price_paid(&self) -> Option<&Money> {
        self.price.as_ref()
    }
    /// The holder, if not the buyer.
    pub fn holder_signals(&self) -> Option<&Signals> {
        self.holder.as_ref()
    }
}

/// A door scan of a ticket.
///
/// A scan with a [`ScanId`] seen before counts once, whatever its event id; scanning the
/// same ticket in again (after going out) is recorded but attendance counts once per
/// performance.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Scan {
    pub(crate) ticket: TicketId,
    pub(crate) scan_id: Option<ScanId>,
    pub(crate) direction: Direction,
}

impl Scan {
    /// An entry scan of a ticket.
    pub fn entry(ticket: impl Into<TicketId>) -> Self {
        Self {
            ticket: ticket.into(),
            scan_id: None,
            direction: Direction::Entry,
        }
    }
    /// An exit scan of a ticket.
    pub fn exit(ticket: impl Into<TicketId>) -> Self {
        Self {
            direction: Direction::Exit,
            ..Self::entry(ticket)
        }
    }
    /// Sets the scanner's own id for this scan.
    #[must_use]
    pub fn scan_id(mut self, id: impl Into<ScanId>) -> Self {
        self.scan_id = Some(id.into());
        self
    }
    /// The scanned ticket.
    pub fn ticket(&self) -> &TicketId {
        &self.ticket
    }
    /// In or out.
    pub fn direction(&self) -> Direction {
        self.direction
    }
}

/// A refund of some or all tickets of an order.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Refund {
    pub(crate) order: OrderId,
    pub(crate) tickets: Vec<TicketId>,
    pub(crate) amount: Option<Money>,
}

impl Refund {
    /// Refunds every ticket of the order.
    pub fn whole_order(order: impl Into<OrderId>) -> Self {
        Self {
            order: order.into(),
            tickets: Vec::new(),
            amount: None,
        }
    }
    /// Refunds these tickets of the order.
    pub fn tickets<T: Into<TicketId>>(
        order: impl Into<OrderId>,
        tickets: impl IntoIterator<Item = T>,
    ) -> Self {
        Self {
            order: order.into(),
            tickets: tickets.into_iter().map(Into::into).collect(),
            amount: None,
        }
    }
    /// Sets the amount returned (otherwise the refunded tickets' prices).
    #[must_use]
    pub fn amount(mut self, amount: Money) -> Self {
        self.amount = Some(amount);
        self
    }
}

/// A donation.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Donation {
    pub(crate) donor: Signals,
    pub(crate) amount: Money,
    pub(crate) fund: Option<String>,
}

impl Donation {
    /// A donation of `amount` by the person the signals describe.
    pub fn new(donor: Signals, amount: Money) -> Self {
        Self {
            donor,
            amount,
            fund: None,
        }
    }
    /// Names the fund or campaign.
    #[must_use]
    pub fn fund(mut self, fund: impl Into<String>) -> Self {
        self.fund = Some(fund.into());
        self
    }
}

/// A membership or subscription, valid between two dates (inclusive).
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Membership {
    pub(crate) member: Signals,
    pub(crate) scheme: String,
    pub(crate) valid_from: NaiveDate,
    pub(crate) valid_to: NaiveDate,
    pub(crate) price: Option<Money>,
}

impl Membership {
    /// A membership of `scheme` for the person the signals describe.
    pub fn new(
        member: Signals,
        scheme: impl Into<String>,
        valid_from: NaiveDate,
        valid_to: NaiveDate,
    ) -> Self {
        Self {
            member,
            scheme: scheme.into(),
            valid_from,
            valid_to,
            price: None,
        }
    }
    /// Sets what they paid.
    #[must_use]
    pub fn price(mut self, price: Money) -> Self {
        self.price = Some(price);
        self
    }
}

/// A bar or shop purchase by a recognizable customer (a card token, a loyalty id, or a
/// scanned ticket's holder described by the vendor).
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub struct Purchase {
    pub(crate) customer: Signals,
    pub(crate) performance: Option<PerformanceId>,
    pub(crate) items: Vec<LineItem>,
}

impl Purchase {
    /// A purchase by the person the signals describe.
    pub fn new(customer: Signals) -> Self {
        Self {
            customer,
            performance: None,
            items: Vec::new(),
        }
    }
    /// Says which performance it was bought at.
    #[must_use]
    pub fn at_performance(mut self, performance: impl Into<PerformanceId>) -> Self {
        self.performance = Some(performance.into());
        self
    }
    /// Adds an item.
    #[must_use]
    pub fn item(mut self, item: LineItem) -> Self {
        self.items.push(item);
        self
    }
}

/// One line of a bar or shop purchase.
///
/// ```
/// use regulars::{Currency, LineItem, Money};
/// let espresso = LineItem::new("espresso", 1, Money::new(250, Currency::GBP));
/// assert_eq!(espresso.sku(), "espresso");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineItem {
    /// Shared: memory keeps one copy of each product code for every purchase of it.
    #[serde(with = "shared_text")]
    sku: Arc<str>,
    quantity: u32,
    unit_price: Money,
}

impl LineItem {
    /// `quantity` of the product `sku` at `unit_price` each.
    pub fn new(sku: impl Into<String>, quantity: u32, unit_price: Money) -> Self {
        Self {
            sku: Arc::from(sku.into()),
            quantity,
            unit_price,
        }
    }

    /// The same item naming `skus`' copy of its product code (filed there on first
    /// sight), so that a million purchases of an espresso hold one "espresso".
    pub(crate) fn share_sku(&mut self, skus: &mut SharedSkus) {
        match skus.get(&*self.sku) {
            Some(shared) => self.sku = Arc::clone(shared),
            None => {
                skus.insert(Arc::clone(&self.sku));
            }
        }
    }
    /// The product code or name.
    pub fn sku(&self) -> &str {
        &self.sku
    }
    /// How many.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }
    /// Price of one.
    pub fn unit_price(&self) -> Money {
        self.unit_price
    }
    /// Quantity times unit price, or `None` on overflow.
    pub fn total(&self) -> Option<Money> {
        self.unit_price
            .minor()
            .checked_mul(i64::from(self.quantity))
            .map(|minor| Money::new(minor, self.unit_price.currency()))
    }
}
