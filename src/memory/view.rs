//! Read-only views of patrons and tickets.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use super::index::IndexView;
use super::state::{PatronRecord, State, TicketRecord};
use super::stats::{PatronStats, ProductionVisits};
use crate::model::catalog::{Performance, PerformanceIdx, ProductionIdx};
use crate::model::history::{Entry, EntryKind, Interaction, Seat};
use crate::model::ids::Handle;
use crate::model::ids::PatronId;
use crate::model::money::Money;
use crate::model::profile::{
    Address, Channel, Consent, Flag, FlagKind, Identifier, Note, PersonName, Preferences, Purpose,
};

/// One patron as memory knows them: profile, history and running figures. Read-only.
///
/// ```
/// use regulars::{Event, Memory, Order, Signals};
/// let mut memory = Memory::new();
/// let seen = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().given_name("Ana").email("ana@example.org"))))?;
/// let ana = memory.patron(seen.patron()).expect("just created");
/// assert_eq!(ana.names()[0].given(), Some("Ana"));
/// assert_eq!(ana.stats().orders(), 1);
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct PatronView<'a> {
    pub(crate) record: &'a PatronRecord,
    pub(crate) state: &'a State,
    /// The record's id, kept beside it: recognition tells candidates apart and orders
    /// them by id without reading their records.
    pub(crate) id: PatronId,
}

impl fmt::Debug for PatronView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatronView")
            .field("id", &self.id)
            .field("identifiers", &self.record.profile.identifiers)
            .field("interactions", &self.record.history.len())
            .finish_non_exhaustive()
    }
}

impl<'a> PatronView<'a> {
    /// A patron's record, viewed.
    pub(crate) fn of(record: &'a PatronRecord, state: &'a State, id: PatronId) -> Self {
        Self { record, state, id }
    }

    /// The live patron `id` stands for (a merged id gives its survivor); `None` for an
    /// erased or unknown one (an erased patron's tombstone holds nothing to read).
    /// Reads the patrons' slots, never their records.
    pub(crate) fn live(state: &'a State, id: PatronId) -> Option<Self> {
        let live = state.live(id);
        if state.is_erased(live) {
            return None;
        }
        Some(Self {
            record: state.patron(live)?,
            state,
            id: live,
        })
    }

    /// Memory's indexes, for strategies that weigh a match by how common the value is.
    pub fn index(&self) -> IndexView<'a> {
        IndexView { state: self.state }
    }

    /// Another patron of the same memory (a merged id gives its survivor).
    pub(crate) fn other(&self, id: PatronId) -> Option<PatronView<'a>> {
        Self::live(self.state, id)
    }

    /// Their id.
    pub fn id(&self) -> PatronId {
        self.id
    }
    /// When memory first created them.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
    /// Every distinct name they used, first used first.
    pub fn names(&self) -> &'a [PersonName] {
        &self.record.profile.names
    }
    /// The name they used most recently.
    pub fn latest_name(&self) -> Option<&'a PersonName> {
        self.record.profile.names.last()
    }
    /// Other people who share contact details with them (an e-mail, a phone, a card or
    /// an address) but are someone else: their household, as memory has seen it.
    pub fn household(&self) -> impl Iterator<Item = PatronId> + use<'a> {
        let state = self.state;
        let me = self.id;
        let mut seen: smallvec::SmallVec<[PatronId; 4]> = smallvec::SmallVec::new();
        self.record
            .household
            .iter()
            .map(move |&p| state.live(p))
            .filter(move |&p| {
                let fresh = p != me && !seen.contains(&p);
                if fresh {
                    seen.push(p);
                }
                fresh
            })
    }
    /// Whether this patron was merged from others (see [`Memory::merge`](crate::Memory::merge)).
    pub fn merged_from(&self) -> &'a [PatronId] {
        &self.record.absorbed
    }
    /// Their identifiers (e-mails, phones, card tokens, external ids), normalized.
    pub fn identifiers(&self) -> &'a [Identifier] {
        &self.record.profile.identifiers
    }
    /// Addresses they gave, the latest last.
    pub fn addresses(&self) -> &'a [Address] {
        &self.record.profile.addresses
    }
    /// Their birth date, if they gave it.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.record.profile.birth_date
    }
    /// What they asked for.
    pub fn preferences(&self) -> &'a Preferences {
        &self.record.profile.preferences
    }
    /// Their latest consent answers, one per channel and purpose.
    pub fn consents(&self) -> &'a [Consent] {
        &self.record.profile.consents
    }
    /// Their latest answer for a channel and purpose: `None` if never asked.
    pub fn consent(&self, channel: Channel, purpose: Purpose) -> Option<bool> {
        self.record
            .profile
            .consents
            .iter()
            .find(|c| c.channel() == channel && c.purpose() == purpose)
            .map(Consent::is_granted)
    }
    /// Their flags, valid or not.
    pub fn flags(&self) -> &'a [Flag] {
        &self.record.profile.flags
    }
    /// The flag of this kind, if it holds on `date`.
    pub fn active_flag(&self, kind: &FlagKind, date: NaiveDate) -> Option<&'a Flag> {
        self.record
            .profile
            .flags
            .iter()
            .find(|f| f.kind() == kind && f.is_active_on(date))
    }
    /// Staff notes.
    pub fn notes(&self) -> &'a [Note] {
        &self.record.profile.notes
    }
    /// Everything that happened with them, in the order memory learned it.
    ///
    /// ```
    /// use regulars::{Event, InteractionKind, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let seen = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// let history = memory.patron(seen.patron()).expect("just created").history();
    /// assert_eq!(history.len(), 1);
    /// let ordered = history.last().expect("one entry");
    /// assert_eq!(ordered.event().as_str(), "e-1");
    /// assert!(matches!(ordered.kind(), InteractionKind::Ordered { order, .. } if order.as_str() == "o-1"));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn history(&self) -> History<'a> {
        History {
            entries: &self.record.history,
            state: self.state,
        }
    }
    /// Their running figures.
    pub fn stats(&self) -> &'a PatronStats {
        &self.record.stats
    }
    /// How often they attended a production (a binary search in their own short list).
    pub fn visits_to(&self, production: &str) -> ProductionVisits {
        self.state
            .catalog
            .production_idx(production)
            .and_then(|p| self.record.visits_to(p))
            .unwrap_or_default()
    }
    /// Whether they attended this performance.
    pub fn attended(&self, performance: &str) -> bool {
        self.state
            .catalog
            .performance_idx(performance)
            .is_some_and(|p| self.record.has_attended(p))
    }
    /// The performances they attended (entry scans; each once), in the order the catalog
    /// defined them, not by date. Reading it costs one step per attendance: the patron's own
    /// history, never the catalog's.
    pub fn attendances(&self) -> impl Iterator<Item = &'a Performance> + use<'a> {
        let catalog = &self.state.catalog;
        self.record
            .attendance
            .performances()
            .iter()
            .filter_map(move |&p| catalog.performance_entry(p).map(|e| &e.performance))
    }
    /// The earliest performance they attended (by start; ties broken by id): the one
    /// [`PatronStats::first_attended_at`] dates.
    pub fn first_attendance(&self) -> Option<&'a Performance> {
        self.attendances()
            .min_by(|a, b| (a.starts_at(), a.id()).cmp(&(b.starts_at(), b.id())))
    }
    /// The latest performance they attended (by start; ties broken by id): the one
    /// [`PatronStats::last_attended_at`] dates.
    pub fn last_attendance(&self) -> Option<&'a Performance> {
        self.attendances()
            .max_by(|a, b| (a.starts_at(), a.id()).cmp(&(b.starts_at(), b.id())))
    }
    /// How many performances they attended in a genre (lower-case, as in
    /// [`Production::genres`](crate::Production::genres)).
    pub fn attendances_in_genre(&self, genre: &str) -> u32 {
        let Some(idx) = self.state.catalog.genre_idx(genre) else {
            return 0;
        };
        self.record.attendance.in_genre(idx)
    }
    /// The tickets they hold, in the order issued, refunded and used ones included.
    pub fn tickets(&self) -> impl Iterator<Item = TicketView<'a>> + use<'a> {
        let state = self.state;
        let me = self.id;
        self.record
            .history
            .iter()
            .filter_map(move |entry| match entry.kind() {
                EntryKind::Ticketed { ticket } => {
                    let view = TicketView::at(state, ticket)?;
                    // A merged holder's tickets are the survivor's.
                    (state.live(view.record.holder()) == me).then_some(view)
                }
                _ => None,
            })
    }
    /// The tickets they hold and have not used yet (not refunded, not scanned in), in the
    /// order issued: the same tickets as `tickets()` filtered that way, past performances
    /// included (a no-show's ticket stays unused). Memory keeps this list as tickets are
    /// issued, scanned and refunded, so reading it costs one step per unused ticket, not
    /// one per interaction.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Performance, Production, Scan, Signals, Ticket, Venue};
    /// use chrono::{TimeZone, Utc};
    /// let mut memory = Memory::new();
    /// memory.define_venue(Venue::new("main", "Main House"))?;
    /// memory.define_production(Production::new("hamlet", "Hamlet"))?;
    /// let at = Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap();
    /// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at))?;
    /// let order = Order::new("o-1", Signals::new().email("ana@example.org"))
    ///     .ticket(Ticket::new("t-1", "hamlet-1"))
    ///     .ticket(Ticket::new("t-2", "hamlet-1"));
    /// let ana = memory.observe(Event::order("e-1", order))?.patron();
    /// memory.observe(Event::scan("e-2", Scan::entry("t-1")))?;
    /// let unused: Vec<String> = memory.patron(ana).unwrap().unused_tickets().map(|t| t.id().to_owned()).collect();
    /// assert_eq!(unused, ["t-2"]);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn unused_tickets(&self) -> impl Iterator<Item = TicketView<'a>> + use<'a> {
        let state = self.state;
        self.record
            .held
            .iter()
            .filter_map(move |held| TicketView::at(state, held.ticket))
    }
    /// Their unused tickets (see [`unused_tickets`](Self::unused_tickets)) for
    /// performances they have not attended that start after `now`, with the performance:
    /// their bookings still ahead, each ticket by its handle in the tickets table. No
    /// ticket table lookup: only the catalog's.
    pub(crate) fn bookings_ahead(
        &self,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = (Handle, PerformanceIdx, &'a Performance)> + use<'a> {
        let record = self.record;
        let state = self.state;
        record.held.iter().filter_map(move |held| {
            let performance = &state
                .catalog
                .performance_entry(held.performance)?
                .performance;
            if performance.starts_at() <= now || record.has_attended(held.performance) {
                return None;
            }
            Some((held.ticket, held.performance, performance))
        })
    }
    /// Their unused tickets (see [`unused_tickets`](Self::unused_tickets)) for
    /// performances of the production at this catalog position that start after `after`
    /// and that they have not attended, each with its performance. The other tickets are
    /// passed over by catalog position, without reading the tickets table.
    pub(crate) fn unused_tickets_later_in(
        &self,
        production: ProductionIdx,
        after: DateTime<Utc>,
    ) -> impl Iterator<Item = (TicketView<'a>, &'a Performance)> + use<'a> {
        let record = self.record;
        let state = self.state;
        record.held.iter().filter_map(move |held| {
            let entry = state.catalog.performance_entry(held.performance)?;
            if entry.production != production
                || entry.performance.starts_at() <= after
                || record.has_attended(held.performance)
            {
                return None;
            }
            Some((TicketView::at(state, held.ticket)?, &entry.performance))
        })
    }
    /// Whether they attended the performance at this catalog position.
    pub(crate) fn attended_at(&self, performance: PerformanceIdx) -> bool {
        self.record.has_attended(performance)
    }
    /// How often they attended the production at this catalog position.
    pub(crate) fn visits_to_at(&self, production: ProductionIdx) -> ProductionVisits {
        self.record.visits_to(production).unwrap_or_default()
    }
    /// Attendances per genre, most attended first.
    pub fn genres(&self) -> Vec<(&'a str, u32)> {
        let mut genres: Vec<_> = self
            .record
            .attendance
            .genres()
            .filter_map(|(g, n)| Some((self.state.catalog.genre_name(g)?, n)))
            .collect();
        genres.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        genres
    }
}

/// A ticket memory has seen, as issued.
#[derive(Clone, Copy)]
pub struct TicketView<'a> {
    pub(crate) id: &'a str,
    pub(crate) order: &'a str,
    pub(crate) record: &'a TicketRecord,
    pub(crate) state: &'a State,
}

impl fmt::Debug for TicketView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketView")
            .field("id", &self.id)
            .field("holder", &self.record.holder())
            .field("refunded", &self.record.refunded)
            .finish_non_exhaustive()
    }
}

impl<'a> TicketView<'a> {
    /// The ticket a handle names.
    pub(crate) fn at(state: &'a State, ticket: Handle) -> Option<Self> {
        let (id, record) = state.tickets.entry(ticket)?;
        Some(Self {
            id,
            order: state.orders.key(record.order)?,
            record,
            state,
        })
    }

    /// The ticket with this id.
    pub(crate) fn find(state: &'a State, ticket: &str) -> Option<Self> {
        Self::at(state, state.tickets.handle(ticket)?)
    }

    /// The ticket id, as the vendor gave it (memory keeps each id's text once, end to
    /// end with the others; [`TicketId::from`](crate::TicketId) makes an owned copy).
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Performance, Production, Signals, Ticket, Venue};
    /// use chrono::{TimeZone, Utc};
    /// let mut memory = Memory::new();
    /// memory.define_venue(Venue::new("main", "Main House"))?;
    /// memory.define_production(Production::new("hamlet", "Hamlet"))?;
    /// let at = Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap();
    /// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at))?;
    /// let order = Order::new("o-1", Signals::new().email("ana@example.org"))
    ///     .ticket(Ticket::new("t-1", "hamlet-1"));
    /// memory.observe(Event::order("e-1", order))?;
    /// let ticket = memory.ticket("t-1").expect("issued");
    /// assert_eq!((ticket.id(), ticket.order()), ("t-1", "o-1"));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn id(&self) -> &'a str {
        self.id
    }
    /// The id of the order it came in, as the vendor gave it.
    pub fn order(&self) -> &'a str {
        self.order
    }
    /// Its performance.
    pub fn performance(&self) -> Option<&'a Performance> {
        self.state
            .catalog
            .performance_entry(self.record.performance)
            .map(|e| &e.performance)
    }
    /// Its seat.
    pub fn seat(&self) -> Option<&'a Seat> {
        self.state.seats.of(self.record)
    }
    /// What was paid.
    pub fn price(&self) -> Option<Money> {
        self.state.prices.of(self.record)
    }
    /// Who bought it.
    pub fn buyer(&self) -> PatronId {
        self.state.live(self.state.ticket_buyer(self.record))
    }
    /// Who holds it.
    pub fn holder(&self) -> PatronId {
        self.state.live(self.record.holder())
    }
    /// Whether it was refunded.
    pub fn is_refunded(&self) -> bool {
        self.record.refunded
    }
    /// Whether it was scanned in.
    pub fn is_scanned_in(&self) -> bool {
        self.record.scanned_in
    }
}

/// A patron's history: everything that happened with them, in the order memory learned
/// it. Memory stores it compactly (ids as handles into its tables); each
/// [`Interaction`] is put together as it is read, its ids sharing memory's copies.
///
/// ```
/// use regulars::{Event, Memory, Order, Signals};
/// let mut memory = Memory::new();
/// let ana = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?.patron();
/// memory.observe(Event::order("e-2", Order::new("o-2", Signals::new().email("ana@example.org"))))?;
/// let history = memory.patron(ana).expect("known").history();
/// let events: Vec<String> = history.iter().map(|i| i.event().to_string()).collect();
/// assert_eq!(events, ["e-1", "e-2"]);
/// assert_eq!(history.get(1), history.last());
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct History<'a> {
    entries: &'a [Entry],
    state: &'a State,
}

impl<'a> History<'a> {
    /// How many interactions it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The interaction at a position (0 is the first memory learned).
    pub fn get(&self, position: usize) -> Option<Interaction> {
        self.state.interaction(self.entries.get(position)?)
    }
    /// The first interaction memory learned.
    pub fn first(&self) -> Option<Interaction> {
        self.get(0)
    }
    /// The latest interaction memory learned.
    pub fn last(&self) -> Option<Interaction> {
        self.state.interaction(self.entries.last()?)
    }
    /// Every interaction, in the order memory learned them.
    pub fn iter(&self) -> HistoryIter<'a> {
        HistoryIter {
            entries: self.entries.iter(),
            state: self.state,
        }
    }
    /// Every interaction, copied out.
    pub fn to_vec(&self) -> Vec<Interaction> {
        self.iter().collect()
    }
    /// The refunds, donations, memberships and purchases, with their positions, as
    /// stored (borrowed, not copied out).
    pub(crate) fn stored_kinds(
        &self,
    ) -> impl Iterator<Item = (usize, crate::model::history::OtherRef<'a>)> + use<'a> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| match entry.kind() {
                EntryKind::Other(kind) => Some((i, kind)),
                _ => None,
            })
    }
}

impl fmt::Debug for History<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for History<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<[Interaction]> for History<'_> {
    fn eq(&self, other: &[Interaction]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

impl PartialEq<&[Interaction]> for History<'_> {
    fn eq(&self, other: &&[Interaction]) -> bool {
        *self == **other
    }
}

impl PartialEq<Vec<Interaction>> for History<'_> {
    fn eq(&self, other: &Vec<Interaction>) -> bool {
        *self == other[..]
    }
}

impl<'a> IntoIterator for History<'a> {
    type Item = Interaction;
    type IntoIter = HistoryIter<'a>;
    fn into_iter(self) -> HistoryIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &History<'a> {
    type Item = Interaction;
    type IntoIter = HistoryIter<'a>;
    fn into_iter(self) -> HistoryIter<'a> {
        self.iter()
    }
}

/// The interactions of a [`History`], in order (see [`History::iter`]).
#[derive(Clone)]
pub struct HistoryIter<'a> {
    entries: std::slice::Iter<'a, Entry>,
    state: &'a State,
}

impl fmt::Debug for HistoryIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HistoryIter")
            .field("remaining", &self.entries.len())
            .finish()
    }
}

impl Iterator for HistoryIter<'_> {
    type Item = Interaction;
    fn next(&mut self) -> Option<Interaction> {
        // Every handle names something (loading a snapshot checks it), so nothing is
        // skipped in practice.
        self.entries.find_map(|entry| self.state.interaction(entry))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.entries.len()))
    }
}

impl DoubleEndedIterator for HistoryIter<'_> {
    fn next_back(&mut self) -> Option<Interaction> {
        while let Some(entry) = self.entries.next_back() {
            if let Some(interaction) = self.state.interaction(entry) {
                return Some(interaction);
            }
        }
        None
    }
}
