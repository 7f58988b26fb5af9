//! Milestones: the 10th, 25th, 50th, 100th performance attended.

use chrono::{DateTime, Utc};

use super::booked::{self, Booking, month};
use crate::moments::builtin::{push_decimal, push_ordinal};
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires for the visit that makes a patron's 10th, 25th, 50th or 100th distinct
/// performance attended ([`thresholds`] configurable): a seat note for that performance,
/// "10th visit — coming since March 2024" (a front-of-house item without a seat).
///
/// Attendance counts at the first entry scan (re-entry counts once), so the rule numbers
/// bookings ahead of time: a booking is visit *n + 1 + k*, where *n* is the performances
/// attended so far and *k* the patron's other bookings (tickets not refunded, not scanned
/// in, for distinct performances that have not started yet) that come before it. Checked:
/// - when a ticket is issued (`Trigger::Ticket`), so the note is in
///   [`Memory::brief`](crate::Memory::brief) before the show;
/// - when the patron's bookings change — a first entry scan (`Trigger::Scan` with
///   `first_entry`; a visit nobody had booked may have come first), or a refund of their
///   own order (`Trigger::Refund`) — for every booking still ahead, renumbered;
/// - at a first entry scan that reaches a threshold, when that performance had no note
///   yet (the noted booking was missed): an [`Action::ScanAttention`] for the door.
///
/// Once per threshold: it cannot fire for a threshold already reached, and before then
/// only for the booking that would reach it. Refunding that booking retires its moment
/// and the booking that now reaches the threshold gets one
/// ([`OncePer::Key`](crate::OncePer::Key), keyed by threshold and performance). A note
/// decided ahead stands if a visit booked later comes first: only refunds retire moments.
///
/// Memory keeps each patron's bookings ahead in date order, so numbering a booking costs
/// two binary searches however many bookings the patron holds.
///
/// [`MomentKind::Celebration`], [`Priority::HIGH`].
///
/// [`thresholds`]: Milestone::thresholds
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use regulars::{Event, Memory, Milestone, Order, Performance, Production, Scan, Signals};
/// use regulars::{Ticket, Venue};
///
/// let at = |day| Utc.with_ymd_and_hms(2026, 3, day, 19, 30, 0).single().expect("a date");
/// // Every fifth visit up to the 20th.
/// let rule = Milestone::new().thresholds([5, 10, 15, 20]);
/// let mut memory = Memory::builder().without_default_rules().rule(rule).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
///
/// // Ana came four times; the fifth booking gets the note on her seat.
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// for day in 1..=5 {
///     let (performance, ticket) = (format!("hamlet-{day}"), format!("t-{day}"));
///     memory.define_performance(Performance::new(performance.as_str(), "hamlet", "main", at(day)))?;
///     let order = Order::new(format!("o-{day}"), ana())
///         .ticket(Ticket::new(ticket.as_str(), performance.as_str()).seat_label("B7"));
///     let booked = memory.observe(Event::order(format!("e-{day}"), order).at(at(day) - TimeDelta::hours(2)))?;
///     if day == 5 {
///         assert_eq!(booked.moments()[0].message(), "5th visit — coming since March 2026");
///     } else {
///         assert!(booked.moments().is_empty());
///     }
///     memory.observe(Event::scan(format!("scan-{day}"), Scan::entry(ticket.as_str())).at(at(day)))?;
/// }
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Milestone {
    /// Sorted, distinct, none zero.
    thresholds: Vec<u32>,
}

impl Default for Milestone {
    fn default() -> Self {
        Self {
            thresholds: vec![10, 25, 50, 100],
        }
    }
}

impl Milestone {
    /// The rule's id.
    pub const ID: &'static str = "milestone";

    /// Fires at the 10th, 25th, 50th and 100th visit.
    pub fn new() -> Self {
        Self::default()
    }

    /// The visit counts to celebrate, in any order; duplicates and 0 are ignored. None at
    /// all means the rule never fires.
    #[must_use]
    pub fn thresholds(mut self, thresholds: impl IntoIterator<Item = u32>) -> Self {
        let mut thresholds: Vec<u32> = thresholds.into_iter().filter(|&t| t > 0).collect();
        thresholds.sort_unstable();
        thresholds.dedup();
        self.thresholds = thresholds;
        self
    }

    /// The visit counts it celebrates, in increasing order.
    pub fn visit_counts(&self) -> &[u32] {
        &self.thresholds
    }

    fn is_threshold(&self, visit: u64) -> bool {
        u32::try_from(visit).is_ok_and(|v| self.thresholds.binary_search(&v).is_ok())
    }

    /// Whether a threshold lies in `from..=to`.
    fn any_in(&self, from: u64, to: u64) -> bool {
        let i = self.thresholds.partition_point(|&t| u64::from(t) < from);
        self.thresholds.get(i).is_some_and(|&t| u64::from(t) <= to)
    }
}

/// Appends `n` in decimal (see [`push_decimal`]); counts past `u32::MAX` the slow way.
fn push_count(out: &mut String, n: u64) {
    match u32::try_from(n) {
        Ok(n) => push_decimal(out, n),
        Err(_) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{n}");
        }
    }
}

/// The visit a note is for.
struct Note<'a> {
    visit: u64,
    booking: Booking<'a>,
    attended: u32,
    booked_before: u64,
    since: Option<DateTime<Utc>>,
    at_door: bool,
}

impl Note<'_> {
    fn moment(&self) -> Moment {
        // Written by hand where it is plain text and numbers: the formatting machinery
        // costs more than the rest of the note, made on every booking that earns one.
        let nth = u32::try_from(self.visit).unwrap_or(u32::MAX);
        let mut message = String::with_capacity(48);
        push_ordinal(&mut message, nth);
        message.push_str(" visit");
        if let Some(since) = self.since {
            message.push_str(" — coming since ");
            month(since).push_to(&mut message);
        }
        let mut explanation = String::with_capacity(96);
        push_count(&mut explanation, u64::from(self.attended));
        let action = if self.at_door {
            explanation
                .push_str(" performance(s) attended with this one; no note was made for it ahead");
            Action::ScanAttention
        } else {
            explanation.push_str(" performance(s) attended, ");
            push_count(&mut explanation, self.booked_before);
            explanation.push_str(" booked before this one: this is the ");
            push_ordinal(&mut explanation, nth);
            self.booking.note_action()
        };
        let performance = self.booking.performance.id().as_str();
        let mut dedupe_key = String::with_capacity(performance.len() + 8);
        push_count(&mut dedupe_key, self.visit);
        dedupe_key.push_str(" at ");
        dedupe_key.push_str(performance);
        self.booking
            .moment(MomentKind::Celebration, action, message)
            .with_priority(Priority::HIGH)
            .dedupe_by(dedupe_key)
            .explain(explanation)
    }
}

impl Milestone {
    /// Notes for the bookings ahead that reach a threshold, numbered in date order after
    /// the `n` visits made.
    fn renumber(&self, ctx: &RuleContext<'_>, n: u64, held: u64, out: &mut Vec<Moment>) {
        // Cheap bounds first, so only a patron near a threshold pays for sorting.
        if !self.any_in(n + 1, n + held) {
            return;
        }
        let patron = ctx.patron();
        // Memory keeps the bookings in date order: the one reaching a threshold is read
        // by its position, whatever the number held.
        let ahead = booked::ahead(patron, ctx.now());
        let count = ahead.len() as u64;
        let since = patron.stats().first_attended_at();
        let attended = patron.stats().performances_attended();
        let from = self.thresholds.partition_point(|&t| u64::from(t) < n + 1);
        for &threshold in self.thresholds.get(from..).unwrap_or_default() {
            let visit = u64::from(threshold);
            if visit > n + count {
                break;
            }
            let k = visit - n - 1;
            let Some(booking) = usize::try_from(k)
                .ok()
                .and_then(|k| ahead.get(k))
                .and_then(|&p| booked::booking_at(patron, p))
            else {
                continue;
            };
            let note = Note {
                visit,
                booking,
                attended,
                booked_before: k,
                since,
                at_door: false,
            };
            out.push(note.moment());
        }
    }
}

impl MomentRule for Milestone {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICKET | TriggerKinds::SCAN | TriggerKinds::REFUND
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let patron = ctx.patron();
        let stats = patron.stats();
        let attended = stats.performances_attended();
        let n = u64::from(attended);
        // Every booking ahead is a ticket they hold and did not use for a performance
        // attended: no more than that many can come first. (Refunds count on the buyer's
        // figures, not the holder's, so they cannot tighten this bound.)
        let held = u64::from(stats.tickets().saturating_sub(attended));
        // When they first came is read only for a note: most events make none.
        match ctx.trigger() {
            Trigger::Ticket(ticket) => {
                let this = ticket.performance();
                if !self.any_in(n + 1, n + held) || patron.attended_at(ticket.performance_idx) {
                    return;
                }
                let before = booked::booked_before(patron, this, ctx.now()) as u64;
                let visit = n + 1 + before;
                if self.is_threshold(visit) {
                    let note = Note {
                        visit,
                        booking: Booking::of(ticket),
                        attended,
                        booked_before: before,
                        since: stats.first_attended_at(),
                        at_door: false,
                    };
                    out.push(note.moment());
                }
            }
            Trigger::Scan {
                ticket,
                first_entry: true,
                ..
            } => {
                // The visit that reaches a threshold, if no note was made for it ahead.
                if self.is_threshold(n) {
                    let note = Note {
                        visit: n,
                        booking: Booking::of(ticket),
                        attended,
                        booked_before: 0,
                        since: stats.first_attended_at(),
                        at_door: true,
                    };
                    out.push(note.moment());
                }
                self.renumber(ctx, n, held, out);
            }
            Trigger::Refund { .. } => self.renumber(ctx, n, held, out),
            _ => {}
        }
    }
}
