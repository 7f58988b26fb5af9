//! The one write path: every change to memory happens in this module, after every check
//! has passed, so a failed call leaves memory exactly as it was.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use smallvec::SmallVec;

use super::Memory;
use super::command::Command;
use super::identity::MergeCause;
use super::observation::{Observation, Participant};
use super::prepare::{Ahead, PreparedBuyer};
use super::state::{OrderRecord, PatronRecord, SeenEvent, TicketRecord};
use super::stats::{MembershipSpan, add_money};
use crate::error::{Error, Result, at, shown};
use crate::model::catalog::{Performance, PerformanceIdx, Production, Venue};
use crate::model::event::{Donation, Event, EventKind, Membership, Order, Purchase, Refund, Scan};
use crate::model::history::{Direction, Entry, EntryKind, InteractionKind};
use crate::model::ids::{CompactPatronId, Filing, Handle, MAX_HANDLES, MAX_PATRONS};
use crate::model::ids::{EventId, OrderId, PatronId, TicketId, check_vendor_id};
use crate::model::money::{Money, check_amount};
use crate::model::profile::{FlagKind, ProfileChange, push_exact};
use crate::moments::engine::{DueTimes, Outcome, Proposal};
use crate::moments::ledger::RuleIdx;
use crate::moments::{Moment, RuleContext, TicketInfo, Trigger};
use crate::normalize::Rejection;
use crate::recognize::{
    Agreement, Evidence, EvidenceItem, Field, NameHints, Recognition, SignalsAhead,
};
use crate::signals::{NormalizedSignals, Signals};

/// The fingerprint of an event: the same in every run and build, so a replayed event is
/// recognized as one even after a restart from a snapshot.
pub(super) fn fingerprint(event: &Event) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = crate::stable_hash::StableHasher::new(0x6576_656e_7473);
    event.hash(&mut hasher);
    hasher.finish()
}

/// Orders of up to this many tickets are checked for a repeated ticket id by comparing
/// each with the ones before it: cheaper than a set at this size.
const SMALL_ORDER: usize = 16;

fn invalid(event: &str, field: impl std::fmt::Display, reason: Rejection) -> Error {
    Error::InvalidInput {
        location: at(event, field),
        reason,
    }
}

fn check_id(event: &str, field: impl std::fmt::Display, id: &str) -> Result<()> {
    check_vendor_id(id).map_err(|r| invalid(event, field, r))
}

/// The name of one field of an event's list entry, e.g. `order.tickets[2].holder`:
/// written out only for an error, so a valid event formats no field names.
#[derive(Clone, Copy)]
struct ItemField {
    list: &'static str,
    index: usize,
    field: &'static str,
}

impl std::fmt::Display for ItemField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}].{}", self.list, self.index, self.field)
    }
}

/// Free text: at most [`Limits::text_bytes`](super::Limits::text_bytes), and no control
/// characters except line breaks and tabs in notes.
fn check_text(text: &str, multiline: bool, max_bytes: usize) -> Result<(), Rejection> {
    if text.len() > max_bytes {
        return Err(Rejection::TooLong { max_bytes });
    }
    if text.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    match text.chars().position(|c| c.is_control() && !allowed(c)) {
        Some(position) => Err(Rejection::ControlCharacter { position }),
        None => Ok(()),
    }
}

/// A recognition that needs no scoring: the event itself names the patron (the holder of
/// a scanned ticket, the buyer of a refunded order, a replayed event's patron).
fn certain(patron: PatronId, field: Field, detail: &'static str) -> Recognition {
    let mut evidence = Evidence::new();
    evidence.push(EvidenceItem::new(field, Agreement::Agrees, detail, 30.0));
    Recognition::known(patron, evidence)
}

/// An error in a catalog entry's field, e.g. ``production `hamlet`: title``.
fn catalog_error(kind: &str, id: &str, field: &str, reason: Rejection) -> Error {
    Error::InvalidInput {
        location: format!("{kind} {}: {field}", shown(id)),
        reason,
    }
}

impl Memory {
    /// Records one vendor event and answers who it was about and which moments to create.
    ///
    /// The one write path for events: recognize (or create) the person, record the
    /// interaction, update figures and indexes, ask the moment rules. Observing an event
    /// whose id was seen before changes nothing and fires nothing (`is_replay()`); if its
    /// content differs, that is [`Error::ConflictingEvent`]. The event's time is
    /// [`Event::at`], or the memory's clock when absent.
    ///
    /// On error, memory is unchanged. A journaled memory appends the event, and the time
    /// it was applied at, to its journal before returning (unless it was seen before);
    /// see [`Memory::durable_seq`] for when that is durable, and [`Error::JournalFailed`]
    /// for what a journal failure means.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let order = Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org")));
    /// let first = memory.observe(order.clone())?;
    /// let again = memory.observe(order)?;
    /// assert!(again.is_replay());
    /// assert_eq!(again.patron(), first.patron());
    /// assert_eq!(memory.patron_count(), 1);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn observe(&mut self, event: Event) -> Result<Observation> {
        self.observe_with(&event, Ahead::default())
    }

    /// [`observe`](Self::observe), with the order buyer's signals normalized already if
    /// `buyer` is given (see [`Memory::observe_prepared`]).
    pub(super) fn observe_with(&mut self, event: &Event, ahead: Ahead<'_>) -> Result<Observation> {
        let at = event.occurred_at().unwrap_or_else(|| self.clock.now());
        // With an identifier key, the sealed event is the one journaled, fingerprinted
        // and recorded: no raw identifier goes further.
        let sealed = self.sealed_event(event);
        let event: &Event = &sealed;
        let pending = self.begin(&Command::Observe {
            event: Cow::Borrowed(event),
            at,
        })?;
        // A seen event changes nothing (even if it is a scan seen under another event
        // id, that id is new and recorded), so only a new event id is journaled: one
        // the observation filed, which the table's length tells without a lookup.
        let events_before = self.state.events.len();
        // Returned as it came (not taken out and wrapped again): an observation is over
        // half a kilobyte, and every move copies it.
        let observed = self.observe_at_with(event, at, ahead);
        if observed.is_ok() {
            let new = self.state.events.len() > events_before;
            self.commit(pending, new)?;
        }
        observed
    }

    /// Observes an event at `now` (its own time, or the clock's when it was first
    /// observed): the write path of [`observe`](Self::observe) and of its replay.
    pub(crate) fn observe_at(&mut self, event: &Event, now: DateTime<Utc>) -> Result<Observation> {
        self.observe_at_with(event, now, Ahead::default())
    }

    /// [`observe_at`](Self::observe_at), taking what `ahead` worked out from the event.
    fn observe_at_with(
        &mut self,
        event: &Event,
        now: DateTime<Utc>,
        ahead: Ahead<'_>,
    ) -> Result<Observation> {
        let id = event.id();
        check_vendor_id(id.as_str()).map_err(|reason| Error::InvalidInput {
            location: "event id".to_owned(),
            reason,
        })?;
        let fingerprint = ahead.fingerprint.unwrap_or_else(|| fingerprint(event));
        // Filed first, in the one probe that looks for it, so the history it records
        // names it (and rules reading that history see it); taken back if the event is
        // refused.
        let filed = self.state.events.file_new(id.as_str(), || {
            SeenEvent::new(fingerprint, CompactPatronId::of_held(PatronId::from_u64(0)))
        });
        let filed = match filed {
            Filing::New(handle) => handle,
            Filing::Held(handle) => {
                let seen = self.state.events.value(handle).copied();
                let Some(seen) = seen.filter(|seen| seen.fingerprint() == fingerprint) else {
                    return Err(Error::ConflictingEvent {
                        event: shown(id.as_str()),
                    });
                };
                let patron = self.state.live(seen.patron.get());
                return Ok(Observation {
                    patron,
                    recognition: certain(patron, Field::Event, "event observed before"),
                    participants: Vec::new(),
                    moments: Vec::new(),
                    silenced: Vec::new(),
                    replayed: true,
                });
            }
            Filing::Full => {
                return Err(Error::InvalidInput {
                    location: "event id".to_owned(),
                    reason: Rejection::TooMany { max: MAX_HANDLES },
                });
            }
        };
        // An event creates at most its buyer and one holder per ticket; patron ids must
        // fit the four bytes tickets, orders and events keep them in.
        let creatable = self.limits.max_tickets_per_order().saturating_add(1);
        if self.state.patrons.len().saturating_add(creatable) > MAX_PATRONS {
            self.state.events.remove_last();
            return Err(Error::InvalidInput {
                location: "patrons".to_owned(),
                reason: Rejection::TooMany { max: MAX_PATRONS },
            });
        }
        let mut observed = match event.kind() {
            EventKind::Order(order) => self.observe_order(id, now, order, ahead.buyer),
            EventKind::Scan(scan) => self.observe_scan(id, now, scan),
            EventKind::Refund(refund) => self.observe_refund(id, now, refund),
            EventKind::Donation(donation) => self.observe_donation(id, now, donation),
            EventKind::Membership(membership) => self.observe_membership(id, now, membership),
            EventKind::Purchase(purchase) => self.observe_purchase(id, now, purchase),
        };
        // Completed where it lies, and returned as it came (see `observe_with`).
        let Ok(observation) = &mut observed else {
            self.state.events.remove_last();
            return observed;
        };
        observation
            .moments
            .sort_by_key(|m| std::cmp::Reverse(m.priority()));
        observation
            .silenced
            .retain(|s| !observation.moments.contains(s.moment()));
        // The patron is known now: completed through the handle, without looking the id
        // up again.
        if let Some(seen) = self.state.events.value_mut(filed) {
            seen.patron = CompactPatronId::of_held(observation.patron);
        }
        observed
    }

    /// Adds a venue, or replaces the one with the same id.
    pub fn define_venue(&mut self, venue: Venue) -> Result<()> {
        let pending = self.begin(&Command::DefineVenue(Cow::Borrowed(&venue)))?;
        let id = venue.id().as_str();
        check_vendor_id(id).map_err(|r| catalog_error("venue", id, "id", r))?;
        check_text(venue.name(), false, self.limits.max_text_bytes())
            .map_err(|r| catalog_error("venue", id, "name", r))?;
        // Defining the catalog again at every start is common: the same entry changes
        // nothing, so it is not journaled again.
        let changed = self.state.catalog.venue(id) != Some(&venue);
        self.state.catalog.upsert_venue(venue);
        self.commit(pending, changed)
    }

    /// Adds a production, or replaces the one with the same id. Genre counts already
    /// recorded for patrons stay as they were.
    pub fn define_production(&mut self, production: Production) -> Result<()> {
        let pending = self.begin(&Command::DefineProduction(Cow::Borrowed(&production)))?;
        let id = production.id().as_str();
        let error = |field, r| catalog_error("production", id, field, r);
        check_vendor_id(id).map_err(|r| error("id", r))?;
        check_text(production.title(), false, self.limits.max_text_bytes())
            .map_err(|r| error("title", r))?;
        for genre in production.genres() {
            check_vendor_id(genre).map_err(|r| error("genres", r))?;
        }
        let changed = self.state.catalog.production(id) != Some(&production);
        self.state.catalog.upsert_production(production);
        self.commit(pending, changed)
    }

    /// Adds a performance, or replaces the one with the same id. Its production and venue
    /// must be defined; once tickets exist, its production cannot change.
    pub fn define_performance(&mut self, performance: Performance) -> Result<()> {
        let pending = self.begin(&Command::DefinePerformance(Cow::Borrowed(&performance)))?;
        let location =
            |field: &str| format!("performance {}: {field}", shown(performance.id().as_str()));
        check_vendor_id(performance.id().as_str())
            .map_err(|r| catalog_error("performance", performance.id().as_str(), "id", r))?;
        let catalog = &self.state.catalog;
        let production = catalog
            .production_idx(performance.production().as_str())
            .ok_or_else(|| Error::UnknownCatalogEntry {
                location: location("production"),
                kind: "production",
                id: shown(performance.production().as_str()),
            })?;
        if !catalog.has_venue(performance.venue().as_str()) {
            return Err(Error::UnknownCatalogEntry {
                location: location("venue"),
                kind: "venue",
                id: shown(performance.venue().as_str()),
            });
        }
        if let Some(existing) = catalog
            .performance_idx(performance.id().as_str())
            .and_then(|idx| catalog.performance_entry(idx))
            && existing.production != production
            && !existing.tickets.is_empty()
        {
            return Err(Error::CatalogConflict {
                location: location("production"),
                what: "tickets were issued for it under another production",
            });
        }
        let changed = catalog.performance(performance.id().as_str()) != Some(&performance);
        // Patrons keep their bookings in date order: a new start moves this one.
        let rescheduled = catalog
            .performance_idx(performance.id().as_str())
            .filter(|&idx| {
                catalog
                    .performance_entry(idx)
                    .is_some_and(|e| e.performance.starts_at() != performance.starts_at())
            });
        self.state
            .catalog
            .upsert_performance(performance, production);
        if let Some(idx) = rescheduled {
            self.state.reorder_held(idx);
        }
        self.commit(pending, changed)
    }

    /// Changes a patron's preferences, consent, flags or notes.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, ProfileChange, Signals};
    /// let mut memory = Memory::new();
    /// let seen = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// memory.update_profile(seen.patron(), ProfileChange::PrefersNoFuss(true))?;
    /// assert!(memory.patron(seen.patron()).unwrap().preferences().prefers_no_fuss());
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn update_profile(&mut self, patron: PatronId, change: ProfileChange) -> Result<()> {
        let pending = self.begin(&Command::UpdateProfile {
            patron,
            change: Cow::Borrowed(&change),
        })?;
        self.state.require(patron)?;
        let location = |field: &str| format!("patron {patron}: {field}");
        let max_bytes = self.limits.max_text_bytes();
        let check = |field: &str, text: &str, multiline: bool| {
            check_text(text, multiline, max_bytes).map_err(|reason| Error::InvalidInput {
                location: location(field),
                reason,
            })
        };
        match &change {
            ProfileChange::SeatPreference(Some(seat)) => {
                if let Some(section) = seat.section() {
                    check("seat_preference.section", section, false)?;
                }
            }
            ProfileChange::CustomPreference { key, value } => {
                check("preference.key", key, false)?;
                if let Some(value) = value {
                    check("preference.value", value, false)?;
                }
            }
            ProfileChange::AddFlag(flag) => {
                if let FlagKind::Custom(name) = flag.kind() {
                    check("flag.kind", name, false)?;
                }
                if let Some(detail) = flag.detail_text() {
                    check("flag.detail", detail, true)?;
                }
                if let (Some(from), Some(until)) = (flag.valid_from(), flag.valid_until())
                    && from > until
                {
                    return Err(Error::InvalidInput {
                        location: location("flag.valid_until"),
                        reason: Rejection::Malformed {
                            expected: "a date on or after valid_from",
                        },
                    });
                }
            }
            ProfileChange::AddNote(note) => {
                check("note.text", note.text(), true)?;
                if let Some(author) = note.author() {
                    check("note.author", author, false)?;
                }
            }
            _ => {}
        }
        let mut changed = false;
        if let Some(record) = self.state.patron_mut(patron) {
            // Whether anything changed decides both journaling and refiling due times,
            // so a memory with and without a journal end up the same.
            let before = record.profile.clone();
            record.profile.apply(change);
            changed = before != record.profile;
        }
        // Consent or preferences may change what a time-based rule wants. The time
        // given to the rules is the patron's last activity, not the clock, so replaying
        // the journal refiles exactly the same due times.
        if changed {
            let live = self.state.live(patron);
            if let Some(record) = self.state.patron(live) {
                let at = record.stats.last_seen_at().unwrap_or(record.created_at);
                self.reschedule(live, at, None);
            }
        }
        self.commit(pending, changed)
    }

    fn normalize(
        &mut self,
        signals: &Signals,
        event: &str,
        path: impl std::fmt::Display,
        today: NaiveDate,
    ) -> Result<NormalizedSignals> {
        // Replaying a record that holds what normalizing gave takes it from there.
        if let Some(recorded) = self.recorded_person() {
            return Ok(recorded);
        }
        let location = |field: &str| {
            if field.is_empty() {
                at(event, &path)
            } else {
                at(event, format_args!("{path}.{field}"))
            }
        };
        // Events reach here sealed already when memory has an identifier key.
        let normalized = signals.normalize(
            self.default_country,
            today,
            &self.limits,
            &location,
            self.seals_identifiers(),
        )?;
        self.note_person(&normalized);
        Ok(normalized)
    }

    fn observe_order(
        &mut self,
        event: &EventId,
        now: DateTime<Utc>,
        order: &Order,
        buyer: Option<&Result<PreparedBuyer>>,
    ) -> Result<Observation> {
        let ev = event.as_str();
        check_id(ev, "order.id", order.id.as_str())?;
        if self.state.orders.contains_key(order.id.as_str()) {
            return Err(Error::DuplicateId {
                event: shown(ev),
                kind: "order",
                id: shown(order.id.as_str()),
            });
        }
        let max_tickets = self.limits.max_tickets_per_order();
        if order.tickets.len() > max_tickets {
            return Err(invalid(
                ev,
                "order.tickets",
                Rejection::TooMany { max: max_tickets },
            ));
        }
        let today = now.date_naive();
        let normalized_here;
        let (buyer, buyer_ahead) = match buyer {
            Some(prepared) => {
                let prepared = prepared.as_ref().map_err(Error::clone)?;
                // Journaled as if normalized here: replay takes it from the record.
                self.note_person(&prepared.signals);
                (&prepared.signals, Some(&prepared.ahead))
            }
            None => {
                normalized_here = self.normalize(&order.buyer, ev, "order.buyer", today)?;
                (&normalized_here, None)
            }
        };
        // Most orders are of one or two tickets: planned, and their holders kept, in
        // place rather than in two allocations per order.
        let mut planned: SmallVec<[(PerformanceIdx, Option<NormalizedSignals>); 2]> =
            SmallVec::with_capacity(order.tickets.len());
        // Only an order of several tickets can repeat one. A small order (nearly all of
        // them) is searched in place; a large one through a set, so that a hostile order
        // of thousands of tickets is not searched in quadratic time.
        let mut in_this_order = HashSet::new();
        let several = order.tickets.len() > SMALL_ORDER;
        for (i, ticket) in order.tickets.iter().enumerate() {
            let field = |field| ItemField {
                list: "order.tickets",
                index: i,
                field,
            };
            check_id(ev, field("id"), ticket.id.as_str())?;
            let repeated = if several {
                !in_this_order.insert(ticket.id.as_str())
            } else {
                order
                    .tickets
                    .iter()
                    .take(i)
                    .any(|earlier| earlier.id == ticket.id)
            };
            if repeated || self.state.tickets.contains_key(ticket.id.as_str()) {
                return Err(Error::DuplicateId {
                    event: shown(ev),
                    kind: "ticket",
                    id: shown(ticket.id.as_str()),
                });
            }
            let performance = self
                .state
                .catalog
                .performance_idx(ticket.performance.as_str())
                .ok_or_else(|| Error::UnknownPerformance {
                    location: at(ev, field("performance")),
                    performance: shown(ticket.performance.as_str()),
                })?;
            if let Some(price) = &ticket.price {
                check_amount(price).map_err(|r| invalid(ev, field("price"), r))?;
            }
            if let Some(seat) = &ticket.seat {
                check_vendor_id(seat.label()).map_err(|r| invalid(ev, field("seat.label"), r))?;
                if let Some(section) = seat.section() {
                    check_vendor_id(section).map_err(|r| invalid(ev, field("seat.section"), r))?;
                }
            }
            let holder = match &ticket.holder {
                Some(signals) => Some(self.normalize(signals, ev, field("holder"), today)?),
                None => None,
            };
            planned.push((performance, holder));
        }
        let adding = super::Limits::order_interactions(order.tickets.len());
        let mut hints = NameHints::default();
        // Settled in place below: mutable from the start, as moving it into a mutable
        // binding copies half a kilobyte.
        let mut recognition = self.recognition_for_write_ahead(buyer, buyer_ahead, &mut hints);
        self.check_recognized_history(&recognition, adding, || at(ev, "order.buyer"))?;
        if self.longest_history().saturating_add(adding) > self.limits.max_history_per_patron() {
            for (i, (_, holder)) in planned.iter().enumerate() {
                if let Some(signals) = holder {
                    let recognition = self.recognize_normalized(signals);
                    self.check_recognized_history(&recognition, adding, || {
                        at(ev, format_args!("order.tickets[{i}].holder"))
                    })?;
                }
            }
        }

        if !self.state.orders.has_room(1) || !self.state.tickets.has_room(order.tickets.len()) {
            return Err(invalid(
                ev,
                "order.tickets",
                Rejection::TooMany { max: MAX_HANDLES },
            ));
        }

        // Every check passed: from here on nothing fails.
        let buyer_id = self.settle(&mut recognition, &hints, buyer, event, now, adding);
        // The order is filed first, its tickets right after: their handles follow on.
        let ticket_count = u32::try_from(order.tickets.len()).unwrap_or(u32::MAX);
        let first_ticket = Handle::try_from(self.state.tickets.len()).unwrap_or(Handle::MAX);
        // The checks found the order's and tickets' ids absent: filed without looking
        // them up again.
        let order_handle = self
            .state
            .orders
            .insert_absent(
                order.id.as_str(),
                OrderRecord {
                    buyer: CompactPatronId::of_held(buyer_id),
                    first_ticket,
                    tickets: ticket_count,
                },
            )
            .unwrap_or(Handle::MAX);
        let mut participants = Vec::new();
        let mut holders: SmallVec<[(PatronId, PerformanceIdx); 4]> =
            SmallVec::with_capacity(planned.len());
        let mut amount: SmallVec<[Money; 1]> = SmallVec::new();
        // Walked in place: each holder's signals are only read, and taking them out one
        // by one would copy each.
        for (ticket, &(performance, ref holder)) in order.tickets.iter().zip(&planned) {
            let holder_id = match holder {
                Some(signals) => {
                    let (id, recognition) = self.resolve(signals, event, now, adding);
                    // Naming yourself as the holder does not make you a participant.
                    if id != buyer_id {
                        participants.push(Participant {
                            ticket: ticket.id.clone(),
                            patron: id,
                            recognition,
                        });
                    }
                    id
                }
                None => buyer_id,
            };
            holders.push((holder_id, performance));
            if let Some(price) = ticket.price {
                add_money(&mut amount, price);
            }
            let (seat, price) = self
                .state
                .share_seat_and_price(ticket.seat.as_ref(), ticket.price.as_ref());
            let Some(ticket_handle) = self.state.tickets.insert_absent(
                ticket.id.as_str(),
                TicketRecord::new(
                    order_handle,
                    performance,
                    seat,
                    price,
                    CompactPatronId::of_held(holder_id),
                ),
            ) else {
                continue;
            };
            if let Some(entry) = self.state.catalog.performance_entry_mut(performance) {
                entry.tickets.push(ticket_handle);
            }
            self.record(
                holder_id,
                now,
                EntryKind::Ticketed {
                    ticket: ticket_handle,
                },
                |stats| stats.tickets = stats.tickets.saturating_add(1),
            );
            self.state.hold(holder_id, ticket_handle, performance);
        }
        self.record(
            buyer_id,
            now,
            EntryKind::Ordered {
                order: order_handle,
            },
            |stats| {
                stats.orders = stats.orders.saturating_add(1);
                for money in &amount {
                    add_money(&mut stats.spend, *money);
                }
            },
        );

        let mut moments = Outcome::default();
        let trigger = Trigger::Order {
            order: &order.id,
            tickets: order.tickets.len(),
        };
        let mut proposed = Proposal::default();
        self.propose(buyer_id, &trigger, now, &mut proposed);
        self.admit_unfiled(&mut proposed, &mut moments);
        for (ticket, &(holder, performance)) in order.tickets.iter().zip(&holders) {
            let mut proposed = Proposal::default();
            {
                let Some(info) = self.ticket_info(
                    &ticket.id,
                    &order.id,
                    performance,
                    ticket.seat.as_ref(),
                    buyer_id,
                    holder,
                ) else {
                    continue;
                };
                self.propose(holder, &Trigger::Ticket(info), now, &mut proposed);
            }
            self.admit_unfiled(&mut proposed, &mut moments);
        }
        // Each patron's due times are refiled once, after all their moments: they depend
        // on the patron, not on the moments.
        let mut refile: SmallVec<[PatronId; 4]> = std::iter::once(buyer_id)
            .chain(holders.iter().map(|&(holder, _)| holder))
            .map(|p| self.state.live(p))
            .collect();
        refile.sort_unstable();
        refile.dedup();
        for patron in refile {
            self.reschedule(patron, now, None);
        }
        Ok(Observation {
            patron: buyer_id,
            recognition,
            participants,
            moments: moments.fired,
            silenced: moments.silenced,
            replayed: false,
        })
    }

    fn observe_scan(
        &mut self,
        event: &EventId,
        now: DateTime<Utc>,
        scan: &Scan,
    ) -> Result<Observation> {
        let ev = event.as_str();
        check_id(ev, "scan.ticket", scan.ticket.as_str())?;
        if let Some(scan_id) = &scan.scan_id {
            check_id(ev, "scan.scan_id", scan_id.as_str())?;
        }
        let unknown = || Error::UnknownTicket {
            location: at(ev, "scan.ticket"),
            ticket: shown(scan.ticket.as_str()),
        };
        let ticket_handle = self
            .state
            .tickets
            .handle(scan.ticket.as_str())
            .ok_or_else(unknown)?;
        let ticket = self
            .state
            .tickets
            .value(ticket_handle)
            .ok_or_else(unknown)?;
        let (holder, buyer, performance) = (
            self.state.live(ticket.holder()),
            self.state.live(self.state.ticket_buyer(ticket)),
            ticket.performance,
        );
        let (order, seat) = (
            self.state.orders.key(ticket.order).map(OrderId::from),
            self.state.seats.of(ticket).cloned(),
        );
        let replayed_scan = scan
            .scan_id
            .as_ref()
            .is_some_and(|id| self.state.scans.contains_key(id.as_str()));
        if replayed_scan {
            return Ok(Observation {
                patron: holder,
                recognition: certain(holder, Field::Ticket, "holds the scanned ticket"),
                participants: Vec::new(),
                moments: Vec::new(),
                silenced: Vec::new(),
                replayed: true,
            });
        }
        if ticket.refunded {
            return Err(Error::TicketRefunded {
                location: at(ev, "scan.ticket"),
                ticket: shown(scan.ticket.as_str()),
            });
        }
        self.check_history(holder, 1, || at(ev, "scan.ticket"))?;
        if !self.state.scans.has_room(1) {
            return Err(invalid(
                ev,
                "scan.scan_id",
                Rejection::TooMany { max: MAX_HANDLES },
            ));
        }

        // Every check passed: from here on nothing fails.
        if let Some(scan_id) = &scan.scan_id {
            self.state.scans.insert(scan_id.as_str(), ());
        }
        let first_entry = scan.direction == Direction::Entry && self.attend(holder, performance);
        if scan.direction == Direction::Entry
            && let Some(ticket) = self.state.tickets.value_mut(ticket_handle)
        {
            ticket.scanned_in = true;
            self.state.release(ticket_handle);
        }
        self.record(
            holder,
            now,
            EntryKind::Scanned {
                ticket: ticket_handle,
                direction: scan.direction,
            },
            |_| {},
        );
        let mut moments = Outcome::default();
        let info = order.as_ref().and_then(|order| {
            self.ticket_info(
                &scan.ticket,
                order,
                performance,
                seat.as_ref(),
                buyer,
                holder,
            )
        });
        let mut proposed = Proposal::default();
        if let Some(info) = info {
            let trigger = Trigger::Scan {
                ticket: info,
                direction: scan.direction,
                first_entry,
            };
            self.propose(holder, &trigger, now, &mut proposed);
        }
        self.admit(&mut proposed, &mut moments);
        Ok(Observation {
            patron: holder,
            recognition: certain(holder, Field::Ticket, "holds the scanned ticket"),
            participants: Vec::new(),
            moments: moments.fired,
            silenced: moments.silenced,
            replayed: false,
        })
    }

    fn observe_refund(
        &mut self,
        event: &EventId,
        now: DateTime<Utc>,
        refund: &Refund,
    ) -> Result<Observation> {
        let ev = event.as_str();
        check_id(ev, "refund.order", refund.order.as_str())?;
        let order = *self
            .state
            .orders
            .get(refund.order.as_str())
            .ok_or_else(|| Error::UnknownOrder {
                location: at(ev, "refund.order"),
                order: shown(refund.order.as_str()),
            })?;
        let buyer = self.state.live(order.buyer.get());
        let requested: Vec<Handle> = if refund.tickets.is_empty() {
            order.ticket_handles().collect()
        } else {
            let mut requested = Vec::with_capacity(refund.tickets.len());
            for (i, ticket) in refund.tickets.iter().enumerate() {
                let handle = self
                    .state
                    .tickets
                    .handle(ticket.as_str())
                    .filter(|h| order.ticket_handles().any(|t| t == *h))
                    .ok_or_else(|| Error::UnknownTicket {
                        location: at(ev, format_args!("refund.tickets[{i}]")),
                        ticket: shown(ticket.as_str()),
                    })?;
                requested.push(handle);
            }
            requested
        };
        if let Some(amount) = &refund.amount {
            check_amount(amount).map_err(|r| invalid(ev, "refund.amount", r))?;
        }
        self.check_history(buyer, 1, || at(ev, "refund.order"))?;

        // Every check passed: from here on nothing fails. Tickets refunded before are
        // left alone, so a partial refund followed by a whole-order one counts each once.
        let mut refunded_handles: SmallVec<[Handle; 4]> = SmallVec::new();
        let mut returned: SmallVec<[Money; 1]> = SmallVec::new();
        for handle in requested {
            if let Some(ticket) = self.state.tickets.value_mut(handle)
                && !ticket.refunded
            {
                ticket.refunded = true;
                if let Some(price) = self.state.prices.of(ticket) {
                    add_money(&mut returned, price);
                }
                refunded_handles.push(handle);
            }
        }
        for &handle in &refunded_handles {
            self.state.release(handle);
        }
        let refunded: Vec<TicketId> = refunded_handles
            .iter()
            .filter_map(|&handle| self.state.tickets.key(handle).map(TicketId::from))
            .collect();
        // A stated amount replaces the ticket prices, but only for tickets this event
        // really refunded: a re-sent refund returns nothing twice.
        if let Some(amount) = refund.amount {
            returned = if refunded.is_empty() {
                SmallVec::new()
            } else {
                SmallVec::from_elem(amount, 1)
            };
        }
        let count = u32::try_from(refunded.len()).unwrap_or(u32::MAX);
        let order_id = refund.order.clone();
        self.record(
            buyer,
            now,
            EntryKind::Other(InteractionKind::Refunded {
                order: order_id,
                tickets: refunded.clone(),
                amount: returned.first().copied(),
            }),
            |stats| {
                stats.refunded(count);
                for money in &returned {
                    add_money(
                        &mut stats.spend,
                        Money::new(money.minor().saturating_neg(), money.currency()),
                    );
                }
            },
        );
        // Moments for refunded tickets are no longer to be acted on, and the holders'
        // time-based rules may see them differently now (no future ticket).
        for id in &refunded {
            if let Some(holder) = self
                .state
                .tickets
                .get(id.as_str())
                .map(TicketRecord::holder)
            {
                let holder = self.state.live(holder);
                for member in self.state.cluster(holder) {
                    self.state.ledger.retire_tickets(
                        member,
                        std::slice::from_ref(id),
                        &self.state.tickets,
                    );
                }
                if holder != buyer {
                    self.reschedule(holder, now, None);
                }
            }
        }
        let mut moments = Outcome::default();
        let trigger = Trigger::Refund {
            order: &refund.order,
            tickets: &refunded,
        };
        let mut proposed = Proposal::default();
        self.propose(buyer, &trigger, now, &mut proposed);
        self.admit(&mut proposed, &mut moments);
        Ok(Observation {
            patron: buyer,
            recognition: certain(buyer, Field::Event, "buyer of the refunded order"),
            participants: Vec::new(),
            moments: moments.fired,
            silenced: moments.silenced,
            replayed: false,
        })
    }

    fn observe_donation(
        &mut self,
        event: &EventId,
        now: DateTime<Utc>,
        donation: &Donation,
    ) -> Result<Observation> {
        let ev = event.as_str();
        let donor = self.normalize(&donation.donor, ev, "donation.donor", now.date_naive())?;
        check_amount(&donation.amount).map_err(|r| invalid(ev, "donation.amount", r))?;
        if let Some(fund) = &donation.fund {
            check_text(fund, false, self.limits.max_text_bytes())
                .map_err(|r| invalid(ev, "donation.fund", r))?;
        }

        let mut hints = NameHints::default();
        // Settled in place: mutable from the start, as moving it into a mutable
        // binding copies half a kilobyte.
        let mut recognition = self.recognition_for_write(&donor, &mut hints);
        self.check_recognized_history(&recognition, 1, || at(ev, "donation.donor"))?;
        let patron = self.settle(&mut recognition, &hints, &donor, event, now, 1);
        let amount = donation.amount;
        self.record(
            patron,
            now,
            EntryKind::Other(InteractionKind::Donated {
                amount,
                fund: donation.fund.clone(),
            }),
            |stats| {
                stats.donated_once(amount);
            },
        );
        let trigger = Trigger::Donation {
            amount,
            fund: donation.fund.as_deref(),
        };
        Ok(self.finish_single(patron, recognition, &trigger, now))
    }

    fn observe_membership(
        &mut self,
        event: &EventId,
        now: DateTime<Utc>,
        membership: &Membership,
    ) -> Result<Observation> {
        let ev = event.as_str();
        let member = self.normalize(
            &membership.member,
            ev,
            "membership.member",
            now.date_naive(),
        )?;
        check_text(&membership.scheme, false, self.limits.max_text_bytes())
            .map_err(|r| invalid(ev, "membership.scheme", r))?;
        if membership.valid_from > membership.valid_to {
            return Err(invalid(
                ev,
                "membership.valid_to",
                Rejection::Malformed {
                    expected: "a date on or after valid_from",
                },
            ));
        }
        if let Some(price) = &membership.price {
            check_amount(price).map_err(|r| invalid(ev, "membership.price", r))?;
        }

        let mut hints = NameHints::default();
        // Settled in place: mutable from the start, as moving it into a mutable
        // binding copies half a kilobyte.
        let mut recognition = self.recognition_for_write(&member, &mut hints);
        self.check_recognized_history(&recognition, 1, || at(ev, "membership.member"))?;
        let patron = self.settle(&mut recognition, &hints, &member, event, now, 1);
        let span = MembershipSpan {
            scheme: membership.scheme.clone(),
            valid_from: membership.valid_from,
            valid_to: membership.valid_to,
        };
        let price = membership.price;
        self.record(
            patron,
            now,
            EntryKind::Other(InteractionKind::Membership {
                scheme: membership.scheme.clone(),
                valid_from: membership.valid_from,
                valid_to: membership.valid_to,
                price,
            }),
            |stats| {
                stats.joined(span);
                if let Some(price) = price {
                    add_money(&mut stats.spend, price);
                }
            },
        );
        let trigger = Trigger::Membership {
            scheme: &membership.scheme,
            valid_from: membership.valid_from,
            valid_to: membership.valid_to,
        };
        Ok(self.finish_single(patron, recognition, &trigger, now))
    }

    fn observe_purchase(
        &mut self,
        event: &EventId,
        now: DateTime<Utc>,
        purchase: &Purchase,
    ) -> Result<Observation> {
        let ev = event.as_str();
        let customer = self.normalize(
            &purchase.customer,
            ev,
            "purchase.customer",
            now.date_naive(),
        )?;
        let performance =
            match &purchase.performance {
                Some(id) => Some(self.state.catalog.performance_idx(id.as_str()).ok_or_else(
                    || Error::UnknownPerformance {
                        location: at(ev, "purchase.performance"),
                        performance: shown(id.as_str()),
                    },
                )?),
                None => None,
            };
        let max_items = self.limits.max_items_per_purchase();
        if purchase.items.len() > max_items {
            return Err(invalid(
                ev,
                "purchase.items",
                Rejection::TooMany { max: max_items },
            ));
        }
        let mut totals: SmallVec<[Money; 1]> = SmallVec::new();
        for (i, item) in purchase.items.iter().enumerate() {
            let field = |field| ItemField {
                list: "purchase.items",
                index: i,
                field,
            };
            check_vendor_id(item.sku()).map_err(|r| invalid(ev, field("sku"), r))?;
            if item.quantity() == 0 {
                return Err(invalid(
                    ev,
                    field("quantity"),
                    Rejection::Malformed {
                        expected: "a quantity of at least 1",
                    },
                ));
            }
            check_amount(&item.unit_price()).map_err(|r| invalid(ev, field("unit_price"), r))?;
            let total = item.total().ok_or_else(|| {
                invalid(
                    ev,
                    field("quantity"),
                    Rejection::Malformed {
                        expected: "a total that fits in 64 bits",
                    },
                )
            })?;
            add_money(&mut totals, total);
        }

        let mut hints = NameHints::default();
        // Settled in place: mutable from the start, as moving it into a mutable
        // binding copies half a kilobyte.
        let mut recognition = self.recognition_for_write(&customer, &mut hints);
        self.check_recognized_history(&recognition, 1, || at(ev, "purchase.customer"))?;
        let patron = self.settle(&mut recognition, &hints, &customer, event, now, 1);
        let performance_id = performance.and_then(|idx| {
            self.state
                .catalog
                .performance_entry(idx)
                .map(|e| e.performance.id().clone())
        });
        let items = self.state.share_items(&purchase.items);
        self.record(
            patron,
            now,
            EntryKind::Other(InteractionKind::Purchased {
                performance: performance_id,
                items,
            }),
            |stats| {
                stats.purchases = stats.purchases.saturating_add(1);
                for money in &totals {
                    add_money(&mut stats.spend, *money);
                }
            },
        );
        let performance = performance
            .and_then(|idx| self.state.catalog.performance_entry(idx))
            .map(|e| &e.performance);
        let trigger = Trigger::Purchase {
            performance,
            items: &purchase.items,
        };
        let mut proposed = Proposal::default();
        self.propose(patron, &trigger, now, &mut proposed);
        let mut moments = Outcome::default();
        self.admit(&mut proposed, &mut moments);
        Ok(Observation {
            patron,
            recognition,
            participants: Vec::new(),
            moments: moments.fired,
            silenced: moments.silenced,
            replayed: false,
        })
    }

    /// Asks the rules about an event with one person, and wraps up the observation.
    fn finish_single(
        &mut self,
        patron: PatronId,
        recognition: Recognition,
        trigger: &Trigger<'_>,
        now: DateTime<Utc>,
    ) -> Observation {
        let mut proposed = Proposal::default();
        self.propose(patron, trigger, now, &mut proposed);
        let mut moments = Outcome::default();
        self.admit(&mut proposed, &mut moments);
        Observation {
            patron,
            recognition,
            participants: Vec::new(),
            moments: moments.fired,
            silenced: moments.silenced,
            replayed: false,
        }
    }

    /// Recognizes the person, learning new identifiers if known, creating them if not.
    ///
    /// A `Review` keeps the record on a new, provisional patron and queues a review item:
    /// linking on doubt risks showing one person another's history. A `Known` record that
    /// proves other patrons to be the same person merges them, unless they are pinned
    /// apart, their own profiles say they are different people, the joint history and
    /// the `adding` interactions this event brings would not fit the history limit, or
    /// the proof rests on a home a junior shares with his father of one name
    /// ([`merge_rests_on_the_home`](Self::merge_rests_on_the_home)).
    /// Household members the recognition found are linked.
    fn resolve(
        &mut self,
        signals: &NormalizedSignals,
        event: &EventId,
        now: DateTime<Utc>,
        adding: usize,
    ) -> (PatronId, Recognition) {
        let mut hints = NameHints::default();
        let mut recognition = self.recognition_for_write(signals, &mut hints);
        let patron = self.settle(&mut recognition, &hints, signals, event, now, adding);
        (patron, recognition)
    }

    /// The recognition a write goes by: while a journal is replayed, the decision it
    /// recorded (so replay does not score again); otherwise a fresh one.
    /// A fresh one notes in `hints` what it worked out about the signals' names, for
    /// filing them.
    fn recognition_for_write<'s>(
        &mut self,
        signals: &'s NormalizedSignals,
        hints: &mut NameHints<'s>,
    ) -> Recognition {
        self.recognition_for_write_ahead(signals, None, hints)
    }

    /// [`recognition_for_write`](Self::recognition_for_write), taking what `ahead` worked
    /// out from these same signals.
    fn recognition_for_write_ahead<'s>(
        &mut self,
        signals: &'s NormalizedSignals,
        ahead: Option<&'s SignalsAhead>,
        hints: &mut NameHints<'s>,
    ) -> Recognition {
        match self.recorded_recognition() {
            Some(recorded) => recorded,
            None => self.recognize_normalized_noting(signals, ahead, Some(hints)),
        }
    }

    /// [`resolve`](Self::resolve) with the recognition already made (by the checks,
    /// against this same memory): completed in place (a runner-up proven a duplicate),
    /// as it is half a kilobyte that moving in and out would copy twice.
    fn settle(
        &mut self,
        recognition: &mut Recognition,
        hints: &NameHints<'_>,
        signals: &NormalizedSignals,
        event: &EventId,
        now: DateTime<Utc>,
        adding: usize,
    ) -> PatronId {
        // Checked before the decision is noted, so a journal replays the merge as one of
        // the decision's duplicates.
        if let Recognition::Known {
            patron,
            runner_up: Some(runner_up),
            duplicates,
            ..
        } = recognition
            && !duplicates.contains(&runner_up.patron())
            && self.runner_up_proven(*patron, runner_up, adding)
        {
            duplicates.push(runner_up.patron());
        }
        self.note_recognition(recognition);
        let patron = match &*recognition {
            Recognition::Known {
                patron, duplicates, ..
            } => {
                let mut patron = *patron;
                let mut merged = false;
                for &duplicate in duplicates {
                    let (p, d) = (self.state.live(patron), self.state.live(duplicate));
                    // An opted-out patron is not merged automatically: that would learn.
                    if p != d
                        && !self.state.pinned_apart(p, d)
                        && !self.profiles_conflict(p, d)
                        && !self.state.holds_back(p)
                        && !self.state.holds_back(d)
                        && self.merged_history_fits(p, d, adding)
                        && !self.merge_rests_on_the_home(signals, p, d)
                    {
                        // The older id survives, so long-lived ids stay stable.
                        let (survivor, absorbed) = if p < d { (p, d) } else { (d, p) };
                        self.state.merge_live(
                            survivor,
                            absorbed,
                            MergeCause::Automatic {
                                event: event.clone(),
                            },
                            &self.limits,
                        );
                        patron = survivor;
                        merged = true;
                    }
                }
                // What it learned (or a merge brought) may prove an open review's two
                // patrons one person; a profile that did not change proves nothing new.
                if self.learn(patron, signals, hints) || merged {
                    self.merge_proven_reviews(patron, event, adding)
                } else {
                    self.state.live(patron)
                }
            }
            Recognition::Review { candidates, .. } => {
                let patron = self.create_patron(signals, hints, now);
                self.queue_review(patron, event, now, candidates.clone());
                patron
            }
            _ => self.create_patron(signals, hints, now),
        };
        for &member in recognition.household() {
            self.state.link_household(patron, member);
        }
        patron
    }

    /// Whether two patrons' joint history, and `adding` more, fit the history limit.
    fn merged_history_fits(&self, a: PatronId, b: PatronId, adding: usize) -> bool {
        let len = |id| self.state.patron(id).map_or(0, |r| r.history.len());
        len(a).saturating_add(len(b)).saturating_add(adding) <= self.limits.max_history_per_patron()
    }

    /// Errors with [`Error::HistoryFull`] unless `adding` interactions fit in the history
    /// of the patron `patron` stands for now.
    fn check_history(
        &self,
        patron: PatronId,
        adding: usize,
        location: impl FnOnce() -> String,
    ) -> Result<()> {
        let patron = self.state.live(patron);
        let len = self.state.patron(patron).map_or(0, |r| r.history.len());
        let max = self.limits.max_history_per_patron();
        if len.saturating_add(adding) > max {
            return Err(Error::HistoryFull {
                location: location(),
                patron,
                len,
                adding,
                max,
            });
        }
        Ok(())
    }

    /// [`check_history`](Self::check_history) for the patron a recognition links to; a
    /// new patron starts empty, and the builder made sure the largest event fits that.
    fn check_recognized_history(
        &self,
        recognition: &Recognition,
        adding: usize,
        location: impl FnOnce() -> String,
    ) -> Result<()> {
        match recognition.known_patron() {
            Some(patron) => self.check_history(patron, adding, location),
            None => Ok(()),
        }
    }

    /// At least the longest history of any live patron; worked out once after a snapshot
    /// was loaded, then kept up by `record` and merges.
    fn longest_history(&mut self) -> usize {
        let state = &mut self.state;
        let patrons = &state.patrons;
        *state
            .identity
            .longest_history
            .get_or_insert_with(|| patrons.iter().map(|r| r.history.len()).max().unwrap_or(0))
    }

    /// Whether two patrons' own profiles say they are different people.
    fn profiles_conflict(&self, a: PatronId, b: PatronId) -> bool {
        match (self.patron(a), self.patron(b)) {
            (Some(a), Some(b)) => crate::recognize::profiles_conflict(&a, &b),
            _ => true,
        }
    }

    fn create_patron(
        &mut self,
        signals: &NormalizedSignals,
        hints: &NameHints<'_>,
        now: DateTime<Utc>,
    ) -> PatronId {
        let id = self.state.next_patron_id();
        self.state.push_patron(PatronRecord::new(now));
        self.learn(id, signals, hints);
        id
    }

    /// Adds what the signals say that the patron's profile does not have yet, and files
    /// the patron under the strategies' blocking keys when something was new.
    /// Returns whether the patron's compared values changed (something new, or a known
    /// address moved to the front). `hints` are what recognizing the signals worked out
    /// about their names.
    fn learn(&mut self, id: PatronId, signals: &NormalizedSignals, hints: &NameHints<'_>) -> bool {
        if self.state.holds_back(id) {
            return false;
        }
        let state = &mut self.state;
        let Some(record) = state.patron_mut(id) else {
            return false;
        };
        let limits = &self.limits;
        let profile = &mut record.profile;
        let mut learned = false;
        // Whether the limits refused a name or identifier the profile does not have:
        // noted as they are tried, rather than looked for again afterwards.
        let mut refused = false;
        if let Some(name) = signals.name()
            && !profile.names.iter().any(|n| n.same_keys(name))
        {
            if profile.names.len() < limits.max_names_per_patron() {
                push_exact(&mut profile.names, name.clone());
                learned = true;
            } else {
                refused = true;
            }
        }
        let mut new_identifiers: SmallVec<[&crate::Identifier; 4]> = SmallVec::new();
        for identifier in signals.identifiers() {
            if profile.identifiers.contains(identifier) {
                continue;
            }
            if profile.identifiers.len() < limits.max_identifiers_per_patron() {
                push_exact(&mut profile.identifiers, identifier.clone());
                new_identifiers.push(identifier);
                learned = true;
            } else {
                refused = true;
            }
        }
        let address = signals.address();
        // Whether the compared values changed at all (a known address moving to the
        // front changes their order without teaching anything).
        let mut changed = false;
        if !address.is_empty() && profile.addresses.last() != Some(address) {
            changed = true;
            learned |= !profile.addresses.contains(address);
            profile.addresses.retain(|a| a != address);
            // The oldest addresses go first: the latest one matters most.
            let keep = limits.max_addresses_per_patron().saturating_sub(1);
            let excess = profile.addresses.len().saturating_sub(keep);
            profile.addresses.drain(..excess);
            push_exact(&mut profile.addresses, address.clone());
        }
        if profile.birth_date.is_none() && signals.birth_date().is_some() {
            profile.birth_date = signals.birth_date();
            learned = true;
        }
        // Only what was kept is filed under blocking keys: a name or identifier refused
        // by the limits must not make the patron a candidate for it, nor let a flood of
        // junk grow the index.
        let kept_name = |name: &crate::PersonName| profile.names.iter().any(|n| n.same_keys(name));
        let trimmed = (learned && refused).then(|| {
            NormalizedSignals::from_parts(
                signals.name().filter(|name| kept_name(name)).cloned(),
                signals
                    .identifiers()
                    .iter()
                    .filter(|i| profile.identifiers.contains(i))
                    .cloned(),
                signals.address().clone(),
                signals.birth_date(),
            )
        });
        let filed = trimmed.as_ref().unwrap_or(signals);
        for identifier in new_identifiers {
            state.identifiers.insert(identifier.clone(), id);
        }
        // The person strategy's keys need the names' sounds, which the comparison block
        // holds too: taken from recognition where it worked them out, else worked out
        // once for both.
        let mut known = None;
        if learned {
            let mut keys = crate::recognize::BlockingKeys::default();
            for strategy in &self.strategies {
                keys.clear();
                match strategy.as_person_matcher() {
                    Some(person) => {
                        known = Some(person.blocking_keys_and_sounds(filed, hints, &mut keys));
                    }
                    None => strategy.blocking_keys(filed, &mut keys),
                }
                for &key in keys.as_slice() {
                    state.blocking.insert(key, id);
                }
            }
        }
        // A returning patron usually brings nothing new: their compact copy, if it is up
        // to date, would be written again the same.
        let current = || {
            let index = super::index::IndexView { state };
            state
                .patron(id)
                .map(|record| super::view::PatronView::of(record, state, id))
                .is_some_and(|view| index.current_comparison_keys(&view).is_some())
        };
        if learned || changed || !current() {
            let known = match known {
                Some(known) => hints.with_street(known),
                None => hints.known_sounds(),
            };
            state.refresh_comparison_keys_with(id, &known);
        }
        learned || changed
    }

    /// Appends to a patron's history and updates their figures.
    fn record(
        &mut self,
        patron: PatronId,
        at: DateTime<Utc>,
        kind: EntryKind,
        update: impl FnOnce(&mut super::stats::PatronStats),
    ) {
        // Nothing is recorded about an erased or opted-out patron; the ticket records
        // that door scans need are kept apart from history.
        if self.state.holds_back(patron) {
            return;
        }
        // The event being observed was filed last, before it was observed.
        let Some(event) = self
            .state
            .events
            .len()
            .checked_sub(1)
            .and_then(|last| Handle::try_from(last).ok())
        else {
            return;
        };
        let interaction = Entry::new(at, event, kind);
        let max = self.limits.max_history_per_patron();
        if let Some(record) = self.state.patron_mut(patron) {
            record.stats.seen(at);
            update(&mut record.stats);
            // The limit was checked before the write began, against the patron each
            // person was recognized as then. This only keeps memory bounded should a
            // ticket holder resolve, once the buyer is recorded, to a patron that check
            // could not foresee: the interaction is counted but not kept.
            let history = &mut record.history;
            if history.len() < max {
                // Histories grow by a quarter, not by doubling: a million patrons with
                // ten entries each would otherwise carry six empty 96-byte slots apiece.
                if history.len() == history.capacity() {
                    history.reserve_exact((history.len() / 4).max(2));
                }
                history.push(interaction);
            }
            let len = history.len();
            if let Some(longest) = &mut self.state.identity.longest_history {
                *longest = (*longest).max(len);
            }
        }
    }

    /// Counts an attendance once per patron and performance; returns whether it was new.
    fn attend(&mut self, patron: PatronId, performance: PerformanceIdx) -> bool {
        if self.state.holds_back(patron) {
            return false;
        }
        let state = &mut self.state;
        match super::state::slot(patron).and_then(|i| state.patrons.get_mut(i)) {
            Some(record) => super::derive::attend(record, &state.catalog, performance),
            None => false,
        }
    }

    fn ticket_info<'a>(
        &'a self,
        id: &'a crate::TicketId,
        order: &'a crate::OrderId,
        performance: PerformanceIdx,
        seat: Option<&'a crate::Seat>,
        buyer: PatronId,
        holder: PatronId,
    ) -> Option<TicketInfo<'a>> {
        let entry = self.state.catalog.performance_entry(performance)?;
        let production = self.state.catalog.production_at(entry.production)?;
        Some(TicketInfo {
            id,
            order,
            performance: &entry.performance,
            production,
            seat,
            buyer,
            holder,
            performance_idx: performance,
            production_idx: entry.production,
        })
    }

    /// Asks every rule about one patron; memory stamps each moment with the rule and the
    /// patron, so a rule cannot speak for anyone else. Fills `proposed`, a default
    /// proposal of the caller's: returned, its inline moment would be copied.
    fn propose(
        &self,
        patron: PatronId,
        trigger: &Trigger<'_>,
        now: DateTime<Utc>,
        proposed: &mut Proposal,
    ) {
        self.propose_from(patron, trigger, now, None, proposed);
    }

    fn propose_from(
        &self,
        patron: PatronId,
        trigger: &Trigger<'_>,
        now: DateTime<Utc>,
        only: Option<RuleIdx>,
        proposed: &mut Proposal,
    ) {
        // No moment of any kind fires for a patron who opted out.
        let Some(view) = self
            .patron(patron)
            .filter(|v| !self.state.is_opted_out(v.id()))
        else {
            return;
        };
        // Replaying a record that says whose moments fired asks only those rules.
        let only = match self.planned_rules() {
            Some([]) => {
                proposed.nothing_for(view.id(), now);
                return;
            }
            Some(&[rule]) if only.is_none_or(|only| only == rule) => Some(rule),
            _ => only,
        };
        if !self.engine.hears(trigger) {
            proposed.nothing_for(view.id(), now);
            return;
        }
        let ctx = RuleContext::new(view, trigger, &self.state.catalog, now);
        // Most patrons absorbed nobody: their record, at hand, says so without walking
        // the cluster.
        let cluster = if view.record.absorbed.is_empty() {
            smallvec::smallvec![view.id()]
        } else {
            self.state.cluster(view.id())
        };
        self.engine
            .propose(&ctx, only, &self.state.ledger, cluster, proposed);
    }

    /// Fires what the engine admits, then refiles the patron's due times. A merged
    /// patron's moments count for the survivor too, so a merge never makes a moment fire
    /// twice for one person.
    fn admit(&mut self, proposal: &mut Proposal, out: &mut Outcome) {
        self.admit_handled(proposal, out, None);
    }

    /// Fires what the engine admits; the caller refiles the patron's due times.
    fn admit_unfiled(&mut self, proposal: &mut Proposal, out: &mut Outcome) {
        if proposal.subject().is_none() {
            return;
        }
        let before = out.fired.len();
        // Most events make no rule propose anything: nothing to admit (but a journal
        // still notes that nothing fired).
        if !proposal.is_empty() {
            self.engine
                .admit(proposal, &mut self.state.ledger, &self.state.tickets, out);
        }
        self.note_fired(&out.fired[before..]);
    }

    fn admit_handled(
        &mut self,
        proposal: &mut Proposal,
        out: &mut Outcome,
        handled: Option<(RuleIdx, DateTime<Utc>)>,
    ) {
        let Some((patron, now)) = proposal.subject() else {
            return;
        };
        let before = out.fired.len();
        if !proposal.is_empty() {
            self.engine
                .admit(proposal, &mut self.state.ledger, &self.state.tickets, out);
        }
        self.note_fired(&out.fired[before..]);
        self.reschedule(patron, now, handled);
    }

    /// Files when each time-based rule is next due for the patron.
    fn reschedule(
        &mut self,
        patron: PatronId,
        now: DateTime<Utc>,
        handled: Option<(RuleIdx, DateTime<Utc>)>,
    ) {
        let Some(view) = self
            .patron(patron)
            .filter(|v| !self.state.is_opted_out(v.id()))
        else {
            return;
        };
        let mut due = DueTimes::new();
        self.engine.due_times(&view, now, handled, &mut due);
        self.state.ledger.schedule_patron(patron, &due);
    }

    /// Runs the time-based rules due at or before `now` (going quiet, a membership
    /// running out…): only the patrons and rules filed as due are looked at, never every
    /// patron. Returns the moments fired, highest priority first.
    ///
    /// A journaled memory journals the tick when something was due. This call cannot
    /// return an error: if memory refuses writes, it does nothing and returns no moment,
    /// and if the journal fails here, the moments are returned and memory refuses writes
    /// from now on. [`try_tick`](Self::try_tick) reports both.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use regulars::Memory;
    /// let mut memory = Memory::new();
    /// let fired = memory.tick(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
    /// assert!(fired.is_empty());
    /// ```
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Moment> {
        let pending = match self.begin(&Command::Tick { now }) {
            Ok(pending) => pending,
            Err(_) => return Vec::new(),
        };
        let (fired, changed) = self.run_due(now);
        // The failure is kept: `journal_failure`, `sync` and every later write report it.
        let _ = self.commit(pending, changed);
        fired
    }

    /// [`tick`](Self::tick), reporting a journal failure: [`Error::JournalFailed`] if
    /// memory refused the call (nothing changed), or the journal's error if the tick
    /// could not be journaled (it did run; memory refuses writes from now on).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use regulars::Memory;
    /// let mut memory = Memory::new();
    /// let fired = memory.try_tick(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap())?;
    /// assert!(fired.is_empty());
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn try_tick(&mut self, now: DateTime<Utc>) -> Result<Vec<Moment>> {
        let pending = self.begin(&Command::Tick { now })?;
        let (fired, changed) = self.run_due(now);
        self.commit(pending, changed)?;
        Ok(fired)
    }

    /// Runs what is due; also says whether anything was (if not, nothing changed).
    fn run_due(&mut self, now: DateTime<Utc>) -> (Vec<Moment>, bool) {
        let mut out = Outcome::default();
        let due = self.state.ledger.take_due(now);
        let changed = !due.is_empty();
        for (due, patron, rule) in due {
            // Entries of a merged patron are stale: the survivor has its own.
            if self.state.live(patron) != patron {
                continue;
            }
            let trigger = Trigger::Tick { due };
            let mut proposal = Proposal::default();
            self.propose_from(patron, &trigger, now, Some(rule), &mut proposal);
            self.admit_handled(&mut proposal, &mut out, Some((rule, due)));
        }
        out.fired.sort_by_key(|m| std::cmp::Reverse(m.priority()));
        (out.fired, changed)
    }
}
