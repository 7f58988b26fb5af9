//! First-visit anniversary: a year (or several) since they first came.

use chrono::{Days, NaiveDate};

use super::booked::{self, Booking, add_months, day};
use crate::model::catalog::Performance;
use crate::moments::{
    Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires for a visit around the anniversary of a patron's first attendance: a seat note
/// for that performance, "1 year since their first visit — Hamlet, 1 Mar 2026" (a
/// front-of-house item without a seat).
///
/// Checked when a ticket is issued (`Trigger::Ticket`), so the note is in
/// [`Memory::brief`](crate::Memory::brief) before the show, and for the patron's bookings
/// still ahead when they refund tickets of their own order (`Trigger::Refund`), as one of
/// them may now be the first visit in its window.
///
/// The window is in performance dates (UTC): the *n*-th anniversary (n ≥ 1) is the first
/// attended performance's date plus *n* years (29 February gives 28 February), and the
/// booked performance's date must be within [`days`] (default 14) of it, either side,
/// both ends included. With the defaults, a first visit on 1 March 2026 makes 15 February
/// to 15 March 2027 the first window.
///
/// One visit per window: not if they already attended a performance dated in the window,
/// nor if they hold another booking in it (a ticket not refunded, not scanned in, for a
/// performance that has not started yet) that comes first. Never for someone who never
/// attended, nor for a performance already attended.
///
/// [`MomentKind::Celebration`], [`Priority::NORMAL`]. One moment per patron and
/// performance ([`OncePer::Key`](crate::OncePer::Key), keyed by the performance), so a
/// refunded booking does not use up the anniversary for the visit they really make. A
/// note decided at order time stands if a visit booked later comes first in the window:
/// only refunds retire moments.
///
/// [`days`]: FirstVisitAnniversary::days
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{Event, FirstVisitAnniversary, Memory, Order, Performance, Production};
/// use regulars::{Scan, Signals, Ticket, Venue};
///
/// let at = |year, month, day| Utc.with_ymd_and_hms(year, month, day, 19, 30, 0).single().expect("a date");
/// let rule = FirstVisitAnniversary::new();
/// let mut memory = Memory::builder().without_default_rules().rule(rule).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at(2026, 3, 1)))?;
/// memory.define_performance(Performance::new("hamlet-2", "hamlet", "main", at(2027, 3, 5)))?;
///
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// let order = Order::new("o-1", ana()).ticket(Ticket::new("t-1", "hamlet-1"));
/// memory.observe(Event::order("e-1", order).at(at(2026, 2, 1)))?;
/// memory.observe(Event::scan("e-2", Scan::entry("t-1")).at(at(2026, 3, 1)))?;
/// let order = Order::new("o-2", ana()).ticket(Ticket::new("t-2", "hamlet-2").seat_label("C4"));
/// let booked = memory.observe(Event::order("e-3", order).at(at(2027, 2, 1)))?;
/// assert_eq!(booked.moments()[0].message(), "1 year since their first visit — Hamlet, 1 Mar 2026");
///
/// // Or: only for visits within a week of the anniversary.
/// let rule = FirstVisitAnniversary::new().days(7);
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FirstVisitAnniversary {
    days: u32,
}

impl Default for FirstVisitAnniversary {
    fn default() -> Self {
        Self { days: 14 }
    }
}

impl FirstVisitAnniversary {
    /// The rule's id.
    pub const ID: &'static str = "first-visit-anniversary";

    /// Fires for visits within 14 days of an anniversary.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many days either side of the anniversary a visit may fall (0 to 180; values
    /// above are clamped, so windows of successive years never overlap). 0 means the day
    /// itself only.
    #[must_use]
    pub fn days(mut self, days: u32) -> Self {
        self.days = days.min(180);
        self
    }

    /// The anniversary whose window holds `date`: (years, first day, last day).
    fn window(&self, first: NaiveDate, date: NaiveDate) -> Option<(u32, NaiveDate, NaiveDate)> {
        use chrono::Datelike;
        // Twelve months after any date are at least 365 days after it (29 Feb goes to
        // 28 Feb), so a date before the first window's first day is in no window: most
        // patrons who came for the first time this year, skipped without calendar sums.
        if (date - first).num_days() < 365 - i64::from(self.days) {
            return None;
        }
        let years = u32::try_from(date.year() - first.year()).ok()?;
        let span = Days::new(u64::from(self.days));
        // The window of `years` can reach into the next or previous calendar year.
        [years.saturating_sub(1), years, years + 1]
            .into_iter()
            .filter(|&n| n >= 1)
            .find_map(|n| {
                let anniversary = add_months(first, n.checked_mul(12)?)?;
                let (from, to) = (
                    anniversary.checked_sub_days(span)?,
                    anniversary.checked_add_days(span)?,
                );
                (from <= date && date <= to).then_some((n, from, to))
            })
    }
}

impl FirstVisitAnniversary {
    /// The note for `booking` if it is the first visit around an anniversary.
    fn decide(&self, ctx: &RuleContext<'_>, booking: Booking<'_>) -> Option<Moment> {
        let patron = ctx.patron();
        let first_at = patron.stats().first_attended_at()?;
        let this = booking.performance;
        let (years, from, to) = self.window(
            first_at.naive_utc().date(),
            this.starts_at().naive_utc().date(),
        )?;
        let in_window = |p: &Performance| {
            let date = p.starts_at().naive_utc().date();
            from <= date && date <= to
        };
        if booking.attended_by(patron)
            || patron.attendances().any(&in_window)
            || booked::booked_before_within(patron, this, ctx.now(), from, to)
        {
            return None;
        }
        let first = patron.first_attendance()?;
        let title = ctx.catalog().production_of(first).map_or("", |p| p.title());
        let span = if years == 1 {
            "1 year".to_owned()
        } else {
            format!("{years} years")
        };
        let moment = booking
            .moment(
                MomentKind::Celebration,
                booking.note_action(),
                format!(
                    "{span} since their first visit — {title}, {}",
                    day(first_at)
                ),
            )
            .with_priority(Priority::NORMAL)
            .explain(format!(
                "first attended {title} ({}) on {}; this performance is within {} day(s) of \
                 the anniversary ({} to {}), with no other visit in that window",
                first.id(),
                day(first_at),
                self.days,
                from.format("%-d %b %Y"),
                to.format("%-d %b %Y"),
            ));
        Some(moment)
    }
}

impl MomentRule for FirstVisitAnniversary {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICKET | TriggerKinds::REFUND
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        match ctx.trigger() {
            Trigger::Ticket(ticket) => out.extend(self.decide(ctx, Booking::of(ticket))),
            // A refunded booking may leave a later one as the first in its window.
            Trigger::Refund { .. } if ctx.patron().stats().first_attended_at().is_some() => {
                let patron = ctx.patron();
                out.extend(booked::upcoming(patron, ctx.now()).filter_map(|b| self.decide(ctx, b)));
            }
            _ => {}
        }
    }
}
