//! Second visit: the visit that turns a newcomer into someone who comes back.

use chrono::{DateTime, Utc};

use super::booked::{self, Booking, add_months, month};
use crate::model::catalog::Performance;
use crate::moments::builtin::GREETING;
use crate::moments::builtin::{push_decimal, short_date};
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Policy, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires for a patron's second visit when it comes within [`within_months`] (default 12)
/// of their first: a front-of-house greeting for that performance and seat, "2nd visit —
/// first came to Hamlet in March 2026".
///
/// Attendance counts at the first entry scan, so the rule numbers bookings ahead of time:
/// a booking is the patron's second visit when they attended exactly one performance and
/// hold no other booking (a ticket not refunded, not scanned in, for a performance that
/// has not started yet) that comes before it. Checked:
/// - when a ticket is issued (`Trigger::Ticket`), so the greeting is in
///   [`Memory::brief`](crate::Memory::brief) before the show;
/// - when the patron's bookings change — the first entry scan of their first visit
///   (`Trigger::Scan` with `first_entry`), or a refund of their own order
///   (`Trigger::Refund`) — for their next booking, which may now be the second visit;
/// - when a first entry scan makes the second attendance and that performance had no
///   second-visit moment yet (the greeted booking was missed): an
///   [`Action::ScanAttention`] for the door.
///
/// Boundaries: the second visit's performance starts after the first one's and falls on a
/// date (UTC) no later than the first one's date plus [`within_months`] calendar months,
/// that day included (first on 1 March 2026: a second on 1 March 2027 fires, on 2 March
/// 2027 it does not; a first visit on 29 February counts to 28 February). A booking whose
/// performance has started without a scan is a no-show and no longer comes first. Never
/// for a performance already attended, a third visit, or someone who never attended.
///
/// [`MomentKind::Welcome`], [`Action::FrontOfHouse`], priority 160 — above
/// [`FirstVisit`](crate::FirstVisit)'s [`Priority::NORMAL`], so that for a booking made
/// before the first visit the second-visit greeting replaces the outdated first-visit
/// welcome. In the exclusive greeting group with [`FirstVisit`](crate::FirstVisit) and
/// [`WelcomeBack`](crate::WelcomeBack): at most one greeting per performance. One moment
/// per patron and performance ([`OncePer::Key`](crate::OncePer::Key), keyed by the
/// performance), so a refunded booking does not use up the greeting for the visit they
/// really make.
///
/// A booking greeted as the second visit stays greeted if a visit booked later comes
/// before it: only refunds retire moments.
///
/// [`within_months`]: SecondVisit::within_months
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{Event, Memory, Order, Performance, Production, Scan, SecondVisit};
/// use regulars::{Signals, Ticket, Venue};
///
/// let at = |month, day| Utc.with_ymd_and_hms(2026, month, day, 19, 30, 0).single().expect("a date");
/// let mut memory = Memory::builder().without_default_rules().rule(SecondVisit::new()).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
/// memory.define_production(Production::new("lear", "King Lear"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at(3, 1)))?;
/// memory.define_performance(Performance::new("lear-1", "lear", "main", at(6, 10)))?;
///
/// // Ana comes to Hamlet in March, then books King Lear.
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// let order = Order::new("o-1", ana()).ticket(Ticket::new("t-1", "hamlet-1"));
/// memory.observe(Event::order("e-1", order).at(at(2, 1)))?;
/// memory.observe(Event::scan("e-2", Scan::entry("t-1")).at(at(3, 1)))?;
/// let order = Order::new("o-2", ana()).ticket(Ticket::new("t-2", "lear-1").seat_label("F12"));
/// let booked = memory.observe(Event::order("e-3", order).at(at(5, 1)))?;
/// assert_eq!(booked.moments()[0].message(), "2nd visit — first came to Hamlet in March 2026");
///
/// // Or: a second visit within two years still counts.
/// let rule = SecondVisit::new().within_months(24);
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SecondVisit {
    within_months: u32,
}

impl Default for SecondVisit {
    fn default() -> Self {
        Self { within_months: 12 }
    }
}

/// Above `FirstVisit`'s, so a corrected greeting wins the group (see the rule's docs).
const PRIORITY: Priority = Priority(160);

impl SecondVisit {
    /// The rule's id.
    pub const ID: &'static str = "second-visit";

    /// Fires for a second visit within 12 months of the first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires only when the second visit falls within `months` calendar months of the
    /// first (1 to 1200; values outside are clamped).
    #[must_use]
    pub fn within_months(mut self, months: u32) -> Self {
        self.within_months = months.clamp(1, 1200);
        self
    }

    /// Whether a visit to `this` is close enough after the first one, `first`.
    fn in_window(&self, first: DateTime<Utc>, this: &Performance) -> bool {
        let starts = this.starts_at();
        starts > first
            && add_months(first.naive_utc().date(), self.within_months)
                .is_some_and(|last_day| starts.naive_utc().date() <= last_day)
    }

    /// The greeting for `booking` if it is the second visit after `first`: close enough
    /// after it and, unless the patron is at the door for it, not attended yet with no
    /// other booking coming first.
    fn decide(
        &self,
        ctx: &RuleContext<'_>,
        first: &Performance,
        booking: Booking<'_>,
        at_door: bool,
    ) -> Option<Moment> {
        let patron = ctx.patron();
        let this = booking.performance;
        if !self.in_window(first.starts_at(), this)
            || (!at_door
                && (booking.attended_by(patron)
                    || booked::booked_before(patron, this, ctx.now()) > 0))
        {
            return None;
        }
        let action = if at_door {
            Action::ScanAttention
        } else {
            Action::FrontOfHouse
        };
        // Greeted for this performance already (another ticket for it): nothing to write.
        if ctx.drops_unseen(MomentKind::Welcome, action, Some(this.id()), None) {
            return None;
        }
        let title = ctx.catalog().production_of(first).map_or("", |p| p.title());
        let first_at = first.starts_at();
        let days = (this.starts_at().naive_utc().date() - first_at.naive_utc().date()).num_days();
        // Written piece by piece into strings of about their size: the formatting
        // machinery cost more than the rest of the rule on every second visit.
        use std::fmt::Write as _;
        let mut message = String::with_capacity(title.len() + 48);
        message.push_str("2nd visit — first came to ");
        message.push_str(title);
        message.push_str(" in ");
        month(first_at).push_to(&mut message);
        let first_id = first.id().as_str();
        // The fixed words and the numbers take up to 105 bytes.
        let mut explanation = String::with_capacity(title.len() + first_id.len() + 112);
        explanation.push_str("one performance attended before: ");
        explanation.push_str(title);
        explanation.push_str(" (");
        explanation.push_str(first_id);
        explanation.push_str(") on ");
        short_date(first_at.naive_utc().date()).push_to(&mut explanation);
        explanation.push_str("; this one is ");
        match u32::try_from(days) {
            Ok(days) => push_decimal(&mut explanation, days),
            Err(_) => {
                let _ = write!(explanation, "{days}");
            }
        }
        explanation.push_str(" day(s) later, within ");
        push_decimal(&mut explanation, self.within_months);
        explanation.push_str(" month(s)");
        let moment = booking
            .moment(MomentKind::Welcome, action, message)
            .with_priority(PRIORITY)
            .explain(explanation);
        Some(moment)
    }
}

impl MomentRule for SecondVisit {
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

    /// One arrival greeting per performance (see [`Policy::exclusive_group`]).
    fn policy(&self) -> Policy {
        Policy::new().exclusive_group(GREETING)
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let patron = ctx.patron();
        let attended = patron.stats().performances_attended();
        let moment = match (ctx.trigger(), attended) {
            (Trigger::Ticket(ticket), 1) => patron
                .first_attendance()
                .and_then(|first| self.decide(ctx, first, Booking::of(ticket), false)),
            // Their bookings changed: the next one may now be the second visit.
            (
                Trigger::Scan {
                    first_entry: true, ..
                }
                | Trigger::Refund { .. },
                1,
            ) => patron.first_attendance().and_then(|first| {
                let next = booked::next(patron, ctx.now())?;
                self.decide(ctx, first, next, false)
            }),
            // This scan was the second visit: greet at the door unless greeted already.
            (
                Trigger::Scan {
                    ticket,
                    first_entry: true,
                    ..
                },
                2,
            ) => {
                let this = ticket.performance();
                patron
                    .attendances()
                    .find(|p| p.id() != this.id())
                    .and_then(|first| self.decide(ctx, first, Booking::of(ticket), true))
            }
            _ => None,
        };
        out.extend(moment);
    }
}
