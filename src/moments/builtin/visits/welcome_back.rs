//! Welcome back: someone who used to come, coming again after a long time away.

use super::booked::{self, Booking, add_months, day, months_between};
use crate::moments::builtin::GREETING;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Policy, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires for a patron's first visit after [`after_months`] (default 18) or more without
/// one: a front-of-house greeting for that performance and seat, "Welcome back — last
/// here 1 Mar 2024, for Hamlet".
///
/// Checked when a ticket is issued (`Trigger::Ticket`), so the greeting is in
/// [`Memory::brief`](crate::Memory::brief) before the show, and for the patron's next
/// booking when they refund tickets of their own order (`Trigger::Refund`), as that
/// booking may now be the return.
///
/// The absence is measured between performance dates (UTC): from the latest performance
/// attended to the booked one, which must fall on or after the latest one's date plus
/// [`after_months`] calendar months (last here 1 March 2024: a visit on 1 September 2025
/// fires, on 31 August 2025 it does not; the 31st counts from the last day of a shorter
/// month). Attendance counts at the first entry scan, so "latest" is the latest visit
/// made by the time of the order; the booking must also be the next visit, with no other
/// booking (a ticket not refunded, not scanned in, for a performance that has not started
/// yet) before it. Never for someone who never attended, nor for a performance already
/// attended.
///
/// [`MomentKind::Welcome`], [`Action::FrontOfHouse`], [`Priority::HIGH`]: winning a
/// lapsed patron back is worth acting on first. In the exclusive greeting group with
/// [`FirstVisit`](crate::FirstVisit) and [`SecondVisit`](crate::SecondVisit): at most
/// one greeting per performance, and a welcome back wins over a second-visit greeting.
/// One moment per patron and performance ([`OncePer::Key`](crate::OncePer::Key), keyed
/// by the performance), so a refunded booking does not use up the welcome for the visit
/// they really make.
///
/// A greeting decided at order time stands if the patron comes to another performance
/// booked later but coming first: only refunds retire moments.
///
/// [`after_months`]: WelcomeBack::after_months
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{Event, Memory, Order, Performance, Production, Scan, Signals, Ticket};
/// use regulars::{Venue, WelcomeBack};
///
/// let at = |year, month| Utc.with_ymd_and_hms(year, month, 1, 19, 30, 0).single().expect("a date");
/// let mut memory = Memory::builder().without_default_rules().rule(WelcomeBack::new()).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at(2024, 3)))?;
/// memory.define_performance(Performance::new("hamlet-2", "hamlet", "main", at(2026, 1)))?;
///
/// // Ana came in March 2024, and books again for January 2026.
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// let order = Order::new("o-1", ana()).ticket(Ticket::new("t-1", "hamlet-1"));
/// memory.observe(Event::order("e-1", order).at(at(2024, 2)))?;
/// memory.observe(Event::scan("e-2", Scan::entry("t-1")).at(at(2024, 3)))?;
/// let order = Order::new("o-2", ana()).ticket(Ticket::new("t-2", "hamlet-2"));
/// let booked = memory.observe(Event::order("e-3", order).at(at(2025, 12)))?;
/// assert_eq!(booked.moments()[0].message(), "Welcome back — last here 1 Mar 2024, for Hamlet");
///
/// // Or: welcome back after a year away.
/// let rule = WelcomeBack::new().after_months(12);
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct WelcomeBack {
    after_months: u32,
}

impl Default for WelcomeBack {
    fn default() -> Self {
        Self { after_months: 18 }
    }
}

impl WelcomeBack {
    /// The rule's id.
    pub const ID: &'static str = "welcome-back";

    /// Fires after 18 months or more away.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires only after at least `months` calendar months without a visit (1 to 1200;
    /// values outside are clamped).
    #[must_use]
    pub fn after_months(mut self, months: u32) -> Self {
        self.after_months = months.clamp(1, 1200);
        self
    }
}

impl WelcomeBack {
    /// The greeting for `booking` if it is their next visit and comes long enough after
    /// the latest one.
    fn decide(&self, ctx: &RuleContext<'_>, booking: Booking<'_>) -> Option<Moment> {
        let patron = ctx.patron();
        let last_at = patron.stats().last_attended_at()?;
        let this = booking.performance;
        let starts = this.starts_at();
        // Every month has at least 28 days: sooner than that many days a month, they were
        // not away long enough, and the calendar need not be asked (most bookings).
        let soonest = i64::from(self.after_months) * 28;
        if (starts.naive_utc().date() - last_at.naive_utc().date()).num_days() < soonest {
            return None;
        }
        let away_enough = add_months(last_at.naive_utc().date(), self.after_months)
            .is_some_and(|back| starts.naive_utc().date() >= back);
        if !away_enough
            || starts <= last_at
            || booking.attended_by(patron)
            || booked::booked_before(patron, this, ctx.now()) > 0
        {
            return None;
        }
        let last = patron.last_attendance()?;
        let title = ctx.catalog().production_of(last).map_or("", |p| p.title());
        let months = months_between(last_at.naive_utc().date(), starts.naive_utc().date());
        let moment = booking
            .moment(
                MomentKind::Welcome,
                Action::FrontOfHouse,
                format!("Welcome back — last here {}, for {title}", day(last_at)),
            )
            .with_priority(Priority::HIGH)
            .explain(format!(
                "latest attendance: {title} ({}) on {}, {months} month(s) before this \
                 performance (at least {})",
                last.id(),
                day(last_at),
                self.after_months,
            ));
        Some(moment)
    }
}

impl MomentRule for WelcomeBack {
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

    /// One arrival greeting per performance (see [`Policy::exclusive_group`]).
    fn policy(&self) -> Policy {
        Policy::new().exclusive_group(GREETING)
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let moment = match ctx.trigger() {
            Trigger::Ticket(ticket) => self.decide(ctx, Booking::of(ticket)),
            // A refunded booking may leave a later one as the next visit.
            Trigger::Refund { .. } => {
                booked::next(ctx.patron(), ctx.now()).and_then(|next| self.decide(ctx, next))
            }
            _ => None,
        };
        out.extend(moment);
    }
}
