//! Going quiet: a regular who has not been seen for a long while.

use chrono::{DateTime, Datelike, Months, TimeDelta, Utc};

use super::{MAX_MONTHS, bookings_after, long_date};
use crate::memory::PatronView;
use crate::model::profile::Channel;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// How long after a booked performance a patron is looked at again: time for the door
/// scans of that evening to arrive before they are taken for absent.
const AFTER_BOOKING: TimeDelta = TimeDelta::days(1);

/// Fires from [`Memory::tick`](crate::Memory::tick) for a patron whose last attended
/// performance started between 12 and 18 months ago (the window is
/// [`window_months`](GoingQuiet::window_months)) and who holds no ticket, not refunded,
/// for a performance starting after the tick: a follow-up by e-mail ("Not seen since
/// 1 Mar 2025 (13 months); nothing booked").
///
/// - **Trigger:** [`Trigger::Tick`] only. [`next_due`](MomentRule::next_due) files the
///   patron for the start of the window (last attendance + 12 months), so a tick looks
///   at them then and at no other time; a patron in the window who holds a booking is
///   refiled for the day after its performance. Patrons who never attended are never
///   filed.
/// - **Boundaries:** fires at exactly last attendance + 12 months, not a second before;
///   not at or after last attendance + 18 months (the window is half-open). Months are
///   calendar months (31 Jan + 1 month = 28 Feb).
/// - **Moment:** [`MomentKind::Marketing`], [`Action::FollowUp`] on the
///   [channel](GoingQuiet::via) (default [`Channel::Email`]), [`Priority::NORMAL`], no
///   performance. Asking a lapsed patron back is selling to them, so it needs their
///   marketing consent on that channel (the engine checks), and
///   [`LeaveMeBe`](crate::LeaveMeBe) silences it.
/// - **Policy:** once per quiet spell: the dedupe key is the day of the last attendance,
///   so a patron who comes back and goes quiet again is asked again, but a tick never
///   repeats it.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{
///     Channel, Consent, Event, GoingQuiet, ManualClock, Memory, Order, Performance,
///     Production, ProfileChange, Purpose, Scan, Signals, Ticket, Venue,
/// };
///
/// let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 19, 30, 0).unwrap();
/// let mut memory = Memory::builder()
///     .without_default_rules()
///     .rule(GoingQuiet::new())
///     .clock(ManualClock::new(at(2025, 1, 1)))
///     .build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at(2025, 3, 1)))?;
///
/// let ana = Signals::new().email("ana@example.org");
/// let order = Order::new("o-1", ana).ticket(Ticket::new("t-1", "hamlet-1"));
/// let seen = memory.observe(Event::order("e-1", order).at(at(2025, 2, 1)))?;
/// memory.update_profile(
///     seen.patron(),
///     ProfileChange::Consent(Consent::granted(Channel::Email, Purpose::Marketing, at(2025, 2, 1))),
/// )?;
/// memory.observe(Event::scan("e-2", Scan::entry("t-1")).at(at(2025, 3, 1)))?;
/// assert_eq!(memory.pending_ticks(), 1);
///
/// assert!(memory.tick(at(2026, 2, 28)).is_empty()); // not quite 12 months
/// let fired = memory.tick(at(2026, 3, 1));
/// assert_eq!(fired[0].message(), "Not seen since 1 Mar 2025 (12 months); nothing booked");
/// assert!(memory.tick(at(2026, 4, 1)).is_empty()); // never twice
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GoingQuiet {
    after: u32,
    until: u32,
    channel: Channel,
}

impl Default for GoingQuiet {
    fn default() -> Self {
        Self {
            after: 12,
            until: 18,
            channel: Channel::Email,
        }
    }
}

impl GoingQuiet {
    /// The rule's id.
    pub const ID: &'static str = "going-quiet";

    /// Between 12 and 18 months after the last attendance, by e-mail.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires from `from` months after the last attendance until before `to` months after
    /// it. `from` is kept between 1 and 1199, and `to` between `from + 1` and 1200.
    #[must_use]
    pub fn window_months(mut self, from: u32, to: u32) -> Self {
        self.after = from.clamp(1, MAX_MONTHS - 1);
        self.until = to.clamp(self.after + 1, MAX_MONTHS);
        self
    }

    /// How the follow-up reaches them (default [`Channel::Email`]); consent is checked on
    /// this channel.
    #[must_use]
    pub fn via(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// The window `[start, end)` after an attendance at `last`.
    fn window(&self, last: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((
            last.checked_add_months(Months::new(self.after))?,
            last.checked_add_months(Months::new(self.until))?,
        ))
    }
}

/// A last visit before this year has a window of at most [`MAX_MONTHS`] that chrono can
/// write down (its dates end in year 262142).
const LAST_YEAR_WITH_A_WINDOW: i32 = 262_000;

/// Whole calendar months from `from` to `to` (`to` not earlier).
fn whole_months(from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    let mut months = u32::try_from(months).unwrap_or(0);
    if from
        .checked_add_months(Months::new(months))
        .is_none_or(|at| at > to)
    {
        months = months.saturating_sub(1);
    }
    months
}

impl MomentRule for GoingQuiet {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICK
    }

    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let last = patron.stats().last_attended_at()?;
        let start = last.checked_add_months(Months::new(self.after))?;
        // The window's end is later than its start, and exists unless the last visit is
        // within a hundred years of the last date chrono knows.
        if now < start && last.year() < LAST_YEAR_WITH_A_WINDOW {
            // Bookings are looked at when it is due: most patrons are far from the window,
            // and this runs after every change to them.
            return Some(start);
        }
        let (start, end) = self.window(last)?;
        if now >= end {
            return None;
        }
        let due = match bookings_after(patron, now).map(|(_, starts)| starts).max() {
            Some(booked) => booked.checked_add_signed(AFTER_BOOKING)?.max(start),
            None => start,
        };
        (due < end).then_some(due)
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Tick { .. } = ctx.trigger() else {
            return;
        };
        let patron = ctx.patron();
        let now = ctx.now();
        let Some(last) = patron.stats().last_attended_at() else {
            return;
        };
        let Some((start, end)) = self.window(last) else {
            return;
        };
        if now < start || now >= end || bookings_after(patron, now).next().is_some() {
            return;
        }
        let day = last.date_naive();
        out.push(
            Moment::new(
                MomentKind::Marketing,
                Action::FollowUp,
                format!(
                    "Not seen since {} ({} months); nothing booked",
                    long_date(day),
                    whole_months(last, now)
                ),
            )
            .via(self.channel)
            .with_priority(Priority::NORMAL)
            .dedupe_by(format!("quiet since {day}"))
            .explain(format!(
                "last attended a performance on {}; no ticket for a later performance; \
                 looked at between {} and {} months after",
                long_date(day),
                self.after,
                self.until
            )),
        );
    }
}
