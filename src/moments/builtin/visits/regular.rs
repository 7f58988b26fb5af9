//! Regular: someone who has been coming often lately.

use chrono::{Days, TimeDelta};

use super::booked::{Booking, day};
use crate::moments::builtin::ordinal;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Policy, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires at the door when a patron's visit makes at least [`visits`] (default 4)
/// performances attended in the trailing [`days`] (default 90): a message for the door
/// scanner, "Regular — 4th visit in 90 days".
///
/// Checked when a first entry scan counts an attendance (`Trigger::Scan` with
/// `first_entry`), not at order time: the count is then a fact (the visits they made, this
/// one included) rather than a guess about bookings, and the door is where a regular is
/// recognized. Order time, re-entries and exit scans never fire.
///
/// The window is in performance dates (UTC): the [`days`] days ending on this
/// performance's date, that date included. With the defaults, for a performance on 1 March
/// 2026 a visit on 2 December 2025 (89 days before) counts and one on 1 December (90 days
/// before) does not. Only performances starting no later than this one count.
///
/// [`MomentKind::Recognition`], [`Action::ScanAttention`], [`Priority::NORMAL`]. Its
/// [`Policy`] has a cooldown of [`cooldown_days`] (default 90): after it fires for a
/// patron it stays quiet for them that long, whatever the visit (0: no cooldown). At most
/// one moment per patron and performance.
///
/// [`visits`]: Regular::visits
/// [`days`]: Regular::days
/// [`cooldown_days`]: Regular::cooldown_days
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use regulars::{Event, Memory, Order, Performance, Production, Regular, Scan, Signals};
/// use regulars::{Ticket, Venue};
///
/// let at = |day| Utc.with_ymd_and_hms(2026, 3, day, 19, 30, 0).single().expect("a date");
/// // Three visits in a month, recognized at most once a month.
/// let rule = Regular::new().visits(3).days(30).cooldown_days(30);
/// let mut memory = Memory::builder().without_default_rules().rule(rule).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
///
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// for (n, day) in [(1, 2), (2, 9), (3, 16)] {
///     let (performance, ticket) = (format!("hamlet-{n}"), format!("t-{n}"));
///     memory.define_performance(Performance::new(performance.as_str(), "hamlet", "main", at(day)))?;
///     let order = Order::new(format!("o-{n}"), ana()).ticket(Ticket::new(ticket.as_str(), performance.as_str()));
///     memory.observe(Event::order(format!("e-{n}"), order).at(at(1)))?;
///     let scan = Event::scan(format!("scan-{n}"), Scan::entry(ticket.as_str()));
///     let arrived = memory.observe(scan.at(at(day) - TimeDelta::minutes(20)))?;
///     // The third visit in 30 days is recognized at the door.
///     assert_eq!(arrived.moments().len(), usize::from(n == 3));
/// }
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Regular {
    visits: u32,
    days: u32,
    cooldown_days: u32,
}

impl Default for Regular {
    fn default() -> Self {
        Self {
            visits: 4,
            days: 90,
            cooldown_days: 90,
        }
    }
}

impl Regular {
    /// The rule's id.
    pub const ID: &'static str = "regular";

    /// Four visits in 90 days, with a 90-day cooldown.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many visits in the window make a regular (2 to 10 000; values outside are
    /// clamped: one visit is no habit).
    #[must_use]
    pub fn visits(mut self, visits: u32) -> Self {
        self.visits = visits.clamp(2, 10_000);
        self
    }

    /// How many days the window spans, this performance's date included (1 to 3660;
    /// values outside are clamped).
    #[must_use]
    pub fn days(mut self, days: u32) -> Self {
        self.days = days.clamp(1, 3660);
        self
    }

    /// How many days the rule stays quiet for a patron after firing (0 to 3660; values
    /// above are clamped). 0 means it may fire at every qualifying visit.
    #[must_use]
    pub fn cooldown_days(mut self, days: u32) -> Self {
        self.cooldown_days = days.min(3660);
        self
    }
}

impl MomentRule for Regular {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::SCAN
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    /// Quiet for [`cooldown_days`](Regular::cooldown_days) after firing.
    fn policy(&self) -> Policy {
        Policy::new().cooldown(TimeDelta::days(i64::from(self.cooldown_days)))
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Scan {
            ticket,
            first_entry: true,
            ..
        } = ctx.trigger()
        else {
            return;
        };
        let patron = ctx.patron();
        if patron.stats().performances_attended() < self.visits {
            return;
        }
        let this = ticket.performance();
        let starts = this.starts_at();
        let last_day = starts.naive_utc().date();
        let Some(first_day) = last_day.checked_sub_days(Days::new(u64::from(self.days) - 1)) else {
            return;
        };
        let mut count = 0u32;
        let mut earliest = starts;
        for performance in patron.attendances() {
            let at = performance.starts_at();
            if at <= starts && at.naive_utc().date() >= first_day {
                count += 1;
                earliest = earliest.min(at);
            }
        }
        if count < self.visits {
            return;
        }
        let moment = Booking::of(ticket)
            .moment(
                MomentKind::Recognition,
                Action::ScanAttention,
                format!("Regular — {} visit in {} days", ordinal(count), self.days),
            )
            .with_priority(Priority::NORMAL)
            .explain(format!(
                "attended {count} performance(s) from {} to {}, this one included (at least \
                 {} in {} days)",
                day(earliest),
                day(starts),
                self.visits,
                self.days,
            ));
        out.push(moment);
    }
}
