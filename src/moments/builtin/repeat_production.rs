//! Repeat production: the theatre story.

use chrono::{DateTime, Utc};

use super::{TicketRef, push_decimal, push_ordinal};
use crate::model::catalog::Production;
use crate::model::history::Seat;
use crate::model::ids::PerformanceId;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Policy, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires when a patron holds a ticket for a production they have already attended at a
/// different performance: a seat note for that ticket's seat ("3rd visit to Hamlet").
///
/// A theatre put a note from the director on the seat of everyone who came to see the same
/// production more than once; people wrote back by hand.
///
/// Checked at two moments:
/// - when a ticket is issued, against the performances attended so far;
/// - when the patron is scanned in for the first time at a performance, for the tickets
///   they already hold to *later* performances of the same production (booked before this
///   visit made them repeats). These get their notes then, numbered in date order.
///
/// Counts distinct performances attended (entry scans). Never fires for a ticket to a
/// performance already attended, for refunded or used tickets, or below
/// [`min_previous_visits`] (default 1). One note per patron and performance. Without a
/// seat, the moment is a front-of-house item instead.
///
/// Priority: [`Priority::HIGH`] from the third visit to the production; for the second,
/// 176 — above a [`SecondVisit`](crate::SecondVisit) greeting (160), which it replaces in
/// the greeting group, being the more personal of the two.
///
/// [`min_previous_visits`]: RepeatProduction::min_previous_visits
///
/// ```
/// use regulars::{Memory, RepeatProduction};
/// // Only from the third visit on.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(RepeatProduction::new().min_previous_visits(2))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RepeatProduction {
    min_previous: u32,
}

impl Default for RepeatProduction {
    fn default() -> Self {
        Self { min_previous: 1 }
    }
}

impl RepeatProduction {
    /// The rule's id.
    pub const ID: &'static str = "repeat-production";

    /// Fires from the second visit on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires only when the patron attended the production at least `visits` times
    /// before (at least 1).
    #[must_use]
    pub fn min_previous_visits(mut self, visits: u32) -> Self {
        self.min_previous = visits.max(1);
        self
    }
}

/// The ticket a note is for, and what the patron had seen before it.
struct NoteFor<'a> {
    production: &'a Production,
    performance: &'a PerformanceId,
    ticket: TicketRef<'a>,
    seat: Option<&'a Seat>,
    previous: u32,
    last_seen: Option<DateTime<Utc>>,
}

/// What its notes are.
const KIND: MomentKind = MomentKind::Celebration;

impl NoteFor<'_> {
    /// A seat note with a seat, a front-of-house item without one.
    fn action(&self) -> Action {
        if self.seat.is_some() {
            Action::SeatNote
        } else {
            Action::FrontOfHouse
        }
    }

    fn moment(&self) -> Moment {
        let title = self.production.title();
        // Each text written once, by hand, into a string of about its size: notes are
        // built on every booking that earns one, and the formatting machinery would cost
        // more than the rest of the note.
        let mut message = String::with_capacity(title.len() + 16);
        push_ordinal(&mut message, self.previous + 1);
        message.push_str(" visit to ");
        message.push_str(title);
        // "attended 10 performance(s) of  before, last on 31 Dec 2026" is 58 bytes
        // besides the title: room for it once, not grown twice.
        let mut explanation = String::with_capacity(title.len() + 72);
        explanation.push_str("attended ");
        push_decimal(&mut explanation, self.previous);
        explanation.push_str(" performance(s) of ");
        explanation.push_str(title);
        explanation.push_str(" before");
        if let Some(at) = self.last_seen {
            explanation.push_str(", last on ");
            super::short_date(at.naive_utc().date()).push_to(&mut explanation);
        }
        let priority = if self.previous >= 2 {
            Priority::HIGH
        } else {
            SECOND_VISIT_NOTE
        };
        let moment = Moment::new(KIND, self.action(), message);
        let moment = match self.seat {
            Some(seat) => moment.at_seat(seat.clone()),
            None => moment,
        };
        moment
            .for_performance(self.performance.clone())
            .for_ticket(self.ticket.to_id())
            .with_priority(priority)
            .explain(explanation)
    }
}

impl MomentRule for RepeatProduction {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICKET | TriggerKinds::SCAN
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    /// An arrival greeting (see [`Policy::exclusive_group`]): a returning patron's note
    /// about the production replaces a plainer greeting for the same performance.
    fn policy(&self) -> Policy {
        Policy::new().exclusive_group(super::GREETING)
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let patron = ctx.patron();
        match ctx.trigger() {
            Trigger::Ticket(ticket) => {
                let production = ticket.production();
                let visits = patron.visits_to_at(ticket.production_idx);
                let performance = ticket.performance().id();
                if visits.count() < self.min_previous || patron.attended_at(ticket.performance_idx)
                {
                    return;
                }
                let note = NoteFor {
                    production,
                    performance,
                    ticket: TicketRef::Id(ticket.id()),
                    seat: ticket.seat(),
                    previous: visits.count(),
                    last_seen: visits.last_at(),
                };
                // Booking the same performance again: the note stands already.
                if ctx.drops_unseen(KIND, note.action(), Some(performance), None) {
                    return;
                }
                out.push(note.moment());
            }
            Trigger::Scan {
                ticket,
                first_entry: true,
                ..
            } => {
                let production = ticket.production();
                let here = ticket.performance().starts_at();
                // Most scans find no later ticket for the production: the visits are
                // decoded only for one that does.
                let mut later: Vec<_> = patron
                    .unused_tickets_later_in(ticket.production_idx, here)
                    .collect();
                if later.is_empty() {
                    return;
                }
                let visits = patron.visits_to_at(ticket.production_idx);
                later.sort_by_key(|(t, p)| (p.starts_at(), t.id()));
                later.dedup_by(|a, b| a.1.id() == b.1.id());
                for (k, (t, p)) in later.iter().enumerate() {
                    let previous = visits.count() + k as u32;
                    if previous < self.min_previous {
                        continue;
                    }
                    out.push(
                        NoteFor {
                            production,
                            performance: p.id(),
                            ticket: TicketRef::Text(t.id()),
                            seat: t.seat(),
                            previous,
                            last_seen: visits.last_at(),
                        }
                        .moment(),
                    );
                }
            }
            _ => {}
        }
    }
}

/// The priority of a note for a second visit to a production.
const SECOND_VISIT_NOTE: Priority = Priority(176);
