//! Membership expiring: a reminder before a membership runs out.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use super::{days, long_date};
use crate::memory::{MembershipSpan, PatronView};
use crate::model::profile::Channel;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Longest configurable notice, in days.
const MAX_DAYS_BEFORE: u32 = 366;

/// Fires from [`Memory::tick`](crate::Memory::tick) when a patron's membership is
/// [`days_before`](MembershipExpiring::days_before) days (default 30) from its last valid
/// day and they have not renewed: a follow-up by e-mail ("Friends membership ends
/// 31 Aug 2026 (in 30 days); not renewed").
///
/// - **Which membership:** the one whose last valid day is the latest (of any scheme).
///   Renewing means recording any membership that runs later: the reminder then moves to
///   the new one, and a reminder for the old one that has not fired yet never will.
/// - **Trigger:** [`Trigger::Tick`] only. [`next_due`](MomentRule::next_due) files the
///   patron for midnight (UTC) at the start of the reminder day, `valid_to − days`; after
///   the last valid day they are not filed. A membership that starts after its reminder
///   day (shorter than the notice) gets no reminder.
/// - **Boundaries:** fires on any day from the reminder day to the last valid day, both
///   included (so a tick that runs late still reminds), never before or after.
/// - **Moment:** [`MomentKind::Marketing`], [`Action::FollowUp`] on the
///   [channel](MembershipExpiring::via) (default [`Channel::Email`]),
///   [`Priority::NORMAL`], no performance. A renewal prompt sells, so it needs marketing
///   consent on that channel (the engine checks) and [`LeaveMeBe`](crate::LeaveMeBe)
///   silences it.
/// - **Policy:** once per membership end date (the dedupe key), so a renewal that runs
///   out in turn is reminded again.
///
/// ```
/// use regulars::{Channel, Memory, MembershipExpiring};
/// // A letter two months ahead.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(MembershipExpiring::new().days_before(60).via(Channel::Post))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MembershipExpiring {
    days_before: u32,
    channel: Channel,
}

impl Default for MembershipExpiring {
    fn default() -> Self {
        Self {
            days_before: 30,
            channel: Channel::Email,
        }
    }
}

impl MembershipExpiring {
    /// The rule's id.
    pub const ID: &'static str = "membership-expiring";

    /// 30 days ahead, by e-mail.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many days before the last valid day to remind them (default 30; 0 reminds on
    /// the last day itself; at most 366).
    #[must_use]
    pub fn days_before(mut self, days: u32) -> Self {
        self.days_before = days.min(MAX_DAYS_BEFORE);
        self
    }

    /// How the reminder reaches them (default [`Channel::Email`]); consent is checked on
    /// this channel.
    #[must_use]
    pub fn via(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// The day to remind them of `span` on, if it is active then.
    fn reminder_day(&self, span: &MembershipSpan) -> Option<NaiveDate> {
        let day = span
            .valid_to()
            .checked_sub_days(Days::new(u64::from(self.days_before)))?;
        (day >= span.valid_from()).then_some(day)
    }
}

/// The membership that runs latest (the last recorded among equals).
fn latest<'a>(patron: &PatronView<'a>) -> Option<&'a MembershipSpan> {
    patron
        .stats()
        .memberships()
        .iter()
        .max_by_key(|m| m.valid_to())
}

impl MomentRule for MembershipExpiring {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICK
    }

    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let span = latest(patron)?;
        if now.date_naive() > span.valid_to() {
            return None;
        }
        let day = self.reminder_day(span)?;
        Some(day.and_time(NaiveTime::MIN).and_utc())
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Tick { .. } = ctx.trigger() else {
            return;
        };
        let Some(span) = latest(ctx.patron()) else {
            return;
        };
        let Some(day) = self.reminder_day(span) else {
            return;
        };
        let today = ctx.today();
        if today < day || today > span.valid_to() {
            return;
        }
        let left = (span.valid_to() - today).num_days().unsigned_abs();
        let when = if left == 0 {
            "today".to_owned()
        } else {
            format!("in {}", days(left))
        };
        out.push(
            Moment::new(
                MomentKind::Marketing,
                Action::FollowUp,
                format!(
                    "{} membership ends {} ({when}); not renewed",
                    span.scheme(),
                    long_date(span.valid_to())
                ),
            )
            .via(self.channel)
            .with_priority(Priority::NORMAL)
            .dedupe_by(format!("ends {}", span.valid_to()))
            .explain(format!(
                "{} membership valid {} to {}; no membership running later; reminder {} before",
                span.scheme(),
                long_date(span.valid_from()),
                long_date(span.valid_to()),
                days(u64::from(self.days_before))
            )),
        );
    }
}
