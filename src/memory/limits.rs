//! How much memory accepts and keeps: the bounds that keep a flood of junk from
//! exhausting memory.

use crate::error::{Error, Result};

/// How much memory accepts in one event and keeps per patron.
///
/// Every limit is either a refusal or a documented eviction:
///
/// | limit | past it |
/// |---|---|
/// | [`text_bytes`](Self::text_bytes) | refused: [`Rejection::TooLong`](crate::normalize::Rejection::TooLong) |
/// | [`signal_bytes`](Self::signal_bytes) | refused: [`Rejection::TooLong`](crate::normalize::Rejection::TooLong) |
/// | [`tickets_per_order`](Self::tickets_per_order) | refused: [`Rejection::TooMany`](crate::normalize::Rejection::TooMany) |
/// | [`items_per_purchase`](Self::items_per_purchase) | refused: [`Rejection::TooMany`](crate::normalize::Rejection::TooMany) |
/// | [`names_per_patron`](Self::names_per_patron) | new names not kept |
/// | [`identifiers_per_patron`](Self::identifiers_per_patron) | new identifiers not kept |
/// | [`addresses_per_patron`](Self::addresses_per_patron) | oldest address dropped |
/// | [`history_per_patron`](Self::history_per_patron) | refused: [`Error::HistoryFull`] |
/// | [`review_queue`](Self::review_queue) | oldest review item dropped |
///
/// A refused call leaves memory exactly as it was. The defaults are far above what real
/// venues send, so they only ever stop junk.
///
/// # Limits are configuration
///
/// The journal records commands, not their effects, so reopening a data directory replays
/// them under the limits the memory is opened with. Open it with the limits that wrote it
/// (or looser ones for the refusals): with tighter ones, a journaled event may now be
/// refused, which fails the open with [`Error::JournalReplay`], or keep fewer names,
/// identifiers, addresses or review items than before. Limits are not stored in
/// snapshots or in the journal.
///
/// ```
/// use regulars::{Event, Limits, Memory, Order, Signals};
///
/// let limits = Limits::default()
///     .text_bytes(1024)
///     .tickets_per_order(50)
///     .identifiers_per_patron(8)
///     .history_per_patron(10_000);
/// let mut memory = Memory::builder().limits(limits).build()?;
///
/// let order = Order::new("o-1", Signals::new().email("ana@example.org"));
/// memory.observe(Event::order("e-1", order))?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    text_bytes: usize,
    signal_bytes: usize,
    tickets_per_order: usize,
    items_per_purchase: usize,
    names_per_patron: usize,
    identifiers_per_patron: usize,
    addresses_per_patron: usize,
    history_per_patron: usize,
    review_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            text_bytes: 4096,
            signal_bytes: 512,
            tickets_per_order: 10_000,
            items_per_purchase: 1_000,
            names_per_patron: 8,
            identifiers_per_patron: 32,
            addresses_per_patron: 8,
            history_per_patron: 100_000,
            review_queue: 10_000,
        }
    }
}

impl Limits {
    /// The default limits (see the table on [`Limits`] for each one's default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Longest free text accepted, in UTF-8 bytes (default 4096): venue names, production
    /// titles, membership schemes, donation funds, notes, flag details, custom preferences.
    /// Longer text is refused with [`Rejection::TooLong`](crate::normalize::Rejection::TooLong)
    /// naming the field. At least 1.
    #[must_use]
    pub fn text_bytes(mut self, bytes: usize) -> Self {
        self.text_bytes = bytes;
        self
    }

    /// Longest value accepted in a signal field, in UTF-8 bytes as given (default 512):
    /// names, e-mail, phone, street, postcode, city, country, card token, external id
    /// values. Checked before any normalization, so a megabyte costs nothing to refuse;
    /// longer values are refused with
    /// [`Rejection::TooLong`](crate::normalize::Rejection::TooLong) naming the field.
    ///
    /// Names as written, street and city are kept up to this length. Fields whose format
    /// has its own, tighter bound keep it whatever this is: an e-mail is at most 254
    /// bytes once normalized, a phone number or postcode at most 64 bytes as given, a card
    /// token or external id at most 128, a name at most 1024 as given and 256 once folded.
    /// At least 1.
    #[must_use]
    pub fn signal_bytes(mut self, bytes: usize) -> Self {
        self.signal_bytes = bytes;
        self
    }

    /// Most tickets one order may carry (default 10,000). A longer order is refused with
    /// [`Rejection::TooMany`](crate::normalize::Rejection::TooMany) on `order.tickets`. At
    /// least 1, and less than [`history_per_patron`](Self::history_per_patron).
    #[must_use]
    pub fn tickets_per_order(mut self, tickets: usize) -> Self {
        self.tickets_per_order = tickets;
        self
    }

    /// Most lines one bar or shop purchase may carry (default 1,000). A longer purchase is
    /// refused with [`Rejection::TooMany`](crate::normalize::Rejection::TooMany) on
    /// `purchase.items`. At least 1.
    #[must_use]
    pub fn items_per_purchase(mut self, items: usize) -> Self {
        self.items_per_purchase = items;
        self
    }

    /// Most distinct names kept per patron (default 8). Past it, a new spelling is not
    /// added, nor filed under blocking keys; the event is still recorded and the patron is
    /// still recognized by the names kept. A merge keeps the survivor's names first. At
    /// least 1.
    #[must_use]
    pub fn names_per_patron(mut self, names: usize) -> Self {
        self.names_per_patron = names;
        self
    }

    /// Most distinct identifiers (e-mails, phones, card tokens, external ids) kept per
    /// patron (default 32). Past it, a new identifier is not added, indexed or filed under
    /// blocking keys: the event is still recorded, and the patron is still recognized by
    /// the identifiers kept. A merge keeps the survivor's identifiers first. At least 1.
    #[must_use]
    pub fn identifiers_per_patron(mut self, identifiers: usize) -> Self {
        self.identifiers_per_patron = identifiers;
        self
    }

    /// Most addresses kept per patron (default 8). Past it, the oldest one is dropped: a
    /// person's latest address matters most. A merge keeps the newest ones. At least 1.
    #[must_use]
    pub fn addresses_per_patron(mut self, addresses: usize) -> Self {
        self.addresses_per_patron = addresses;
        self
    }

    /// Most interactions kept in one patron's history (default 100,000).
    ///
    /// Nothing is evicted: a patron's figures are recomputed from their history when
    /// patrons are merged or split, so dropping old interactions would silently change
    /// them. Instead, an event that would take a patron past the limit is refused with
    /// [`Error::HistoryFull`] and memory is unchanged. An order counts as one interaction
    /// plus one per ticket; every other event as one. The check is on the patron the
    /// event is recognized as before anything is written, so it may refuse an order a
    /// little early (its tickets may be held by others).
    ///
    /// A merge that would take the survivor past the limit is not made: an automatic one
    /// is skipped (the event is recorded on the recognized patron alone, as for patrons
    /// pinned apart), and [`Memory::merge`](crate::Memory::merge),
    /// [`pin_together`](crate::Memory::pin_together) and a review resolved as the same
    /// person fail with [`Error::HistoryFull`].
    ///
    /// Must be more than [`tickets_per_order`](Self::tickets_per_order), so a new
    /// patron's largest order fits.
    #[must_use]
    pub fn history_per_patron(mut self, interactions: usize) -> Self {
        self.history_per_patron = interactions;
        self
    }

    /// How many review items are kept (default 10,000); when full, the oldest is dropped
    /// and its provisional patron simply stays a patron of its own. Zero keeps none.
    #[must_use]
    pub fn review_queue(mut self, items: usize) -> Self {
        self.review_queue = items;
        self
    }

    /// See [`text_bytes`](Self::text_bytes).
    pub fn max_text_bytes(&self) -> usize {
        self.text_bytes
    }
    /// See [`signal_bytes`](Self::signal_bytes).
    pub fn max_signal_bytes(&self) -> usize {
        self.signal_bytes
    }
    /// See [`tickets_per_order`](Self::tickets_per_order).
    pub fn max_tickets_per_order(&self) -> usize {
        self.tickets_per_order
    }
    /// See [`items_per_purchase`](Self::items_per_purchase).
    pub fn max_items_per_purchase(&self) -> usize {
        self.items_per_purchase
    }
    /// See [`names_per_patron`](Self::names_per_patron).
    pub fn max_names_per_patron(&self) -> usize {
        self.names_per_patron
    }
    /// See [`identifiers_per_patron`](Self::identifiers_per_patron).
    pub fn max_identifiers_per_patron(&self) -> usize {
        self.identifiers_per_patron
    }
    /// See [`addresses_per_patron`](Self::addresses_per_patron).
    pub fn max_addresses_per_patron(&self) -> usize {
        self.addresses_per_patron
    }
    /// See [`history_per_patron`](Self::history_per_patron).
    pub fn max_history_per_patron(&self) -> usize {
        self.history_per_patron
    }
    /// See [`review_queue`](Self::review_queue).
    pub fn max_review_queue(&self) -> usize {
        self.review_queue
    }

    /// Errors with [`Error::InvalidConfig`] naming the first limit that cannot work.
    pub(crate) fn validate(&self) -> Result<()> {
        let at_least_one = [
            ("text_bytes", self.text_bytes),
            ("signal_bytes", self.signal_bytes),
            ("tickets_per_order", self.tickets_per_order),
            ("items_per_purchase", self.items_per_purchase),
            ("names_per_patron", self.names_per_patron),
            ("identifiers_per_patron", self.identifiers_per_patron),
            ("addresses_per_patron", self.addresses_per_patron),
        ];
        if let Some((name, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
            return Err(Error::InvalidConfig(format!(
                "limits: {name} must be at least 1"
            )));
        }
        if self.history_per_patron <= self.tickets_per_order {
            return Err(Error::InvalidConfig(format!(
                "limits: history_per_patron ({}) must be more than tickets_per_order ({}), \
                 so a new patron's largest order fits",
                self.history_per_patron, self.tickets_per_order
            )));
        }
        Ok(())
    }

    /// Interactions an order with this many tickets may add to one patron: the order
    /// itself and every ticket.
    pub(crate) fn order_interactions(tickets: usize) -> usize {
        tickets.saturating_add(1)
    }
}
