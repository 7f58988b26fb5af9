//! Donor recognition: thanking recent donors at their next performance.

use chrono::{DateTime, Months, TimeDelta, Utc};

use super::{MAX_MONTHS, bookings_after, long_date};
use crate::memory::PatronView;
use crate::model::history::{InteractionKind, Seat};
use crate::model::ids::PerformanceId;
use crate::model::money::{Currency, Money};
use crate::moments::builtin::TicketRef;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Policy, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires when a patron whose donations over the trailing 12 months reach the
/// [`tier`](DonorRecognition::tier) (default 100.00 GBP) has a ticket for their next
/// performance: a front-of-house item for that performance and seat ("Donor: 250.00 GBP
/// given in the last 12 months"), so staff can thank them.
///
/// - **Triggers:**
///   - [`Trigger::Ticket`]: the ticket's performance starts after the order and no
///     other ticket of theirs (not refunded) is for an earlier one;
///   - [`Trigger::Donation`]: a gift (with which they reach the tier) puts the item on
///     the earliest performance they already hold a ticket for (not refunded, starting
///     after the gift), if any, so a donor who booked first is thanked too.
/// - **Boundaries:** donations in the tier's currency (others are not converted) made in
///   the [`trailing_months`](DonorRecognition::trailing_months) (default 12) calendar
///   months up to the triggering event, both ends included, add up to **at least** the
///   tier: one minor unit less does not fire.
/// - **Moment:** [`MomentKind::Celebration`], [`Action::FrontOfHouse`] at the ticket's
///   seat, [`Priority::HIGH`] (a donor's thanks should not give way to a repeat-visit
///   note under the per-visit cap). [`LeaveMeBe`](crate::LeaveMeBe) silences it.
/// - **Policy:** once per performance, and then not again for the
///   [`cooldown`](DonorRecognition::cooldown) (default 180 days), so a donor is thanked
///   at their next visit, not at every one.
///
/// ```
/// use chrono::TimeDelta;
/// use regulars::{Currency, DonorRecognition, Memory, Money};
/// // Gifts of 500 euros or more in a year; thanked at most once a year.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(
///         DonorRecognition::new()
///             .tier(Money::new(50_000, Currency::EUR))
///             .cooldown(TimeDelta::days(365)),
///     )
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DonorRecognition {
    tier: Money,
    months: u32,
    cooldown: TimeDelta,
}

impl Default for DonorRecognition {
    fn default() -> Self {
        Self {
            tier: Money::new(10_000, Currency::GBP),
            months: 12,
            cooldown: TimeDelta::days(180),
        }
    }
}

/// The ticket an item is for.
struct Target<'a> {
    performance: &'a PerformanceId,
    ticket: TicketRef<'a>,
    seat: Option<&'a Seat>,
}

impl DonorRecognition {
    /// The rule's id.
    pub const ID: &'static str = "donor-recognition";

    /// 100.00 GBP in the trailing 12 months; not again for 180 days.
    pub fn new() -> Self {
        Self::default()
    }

    /// The least a patron must have given, in its currency. An amount below one minor
    /// unit counts as one (a tier of nothing would thank everyone who gave a penny).
    #[must_use]
    pub fn tier(mut self, tier: Money) -> Self {
        self.tier = Money::new(tier.minor().max(1), tier.currency());
        self
    }

    /// Over how many calendar months before the triggering event gifts add up (default
    /// 12; between 1 and 1200).
    #[must_use]
    pub fn trailing_months(mut self, months: u32) -> Self {
        self.months = months.clamp(1, MAX_MONTHS);
        self
    }

    /// After thanking a patron, stay quiet for them this long (default 180 days; zero or
    /// less means once per performance only).
    #[must_use]
    pub fn cooldown(mut self, cooldown: TimeDelta) -> Self {
        self.cooldown = cooldown.max(TimeDelta::zero());
        self
    }

    /// What they gave in the tier's currency from `since` to `now`, and in how many gifts.
    fn given(
        &self,
        patron: &PatronView<'_>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (i64, u32) {
        let currency = self.tier.currency();
        patron
            .history()
            .iter()
            .filter(|i| since <= i.at() && i.at() <= now)
            .filter_map(|i| match i.kind() {
                InteractionKind::Donated { amount, .. } if amount.currency() == currency => {
                    Some(amount.minor())
                }
                _ => None,
            })
            .fold((0i64, 0u32), |(sum, n), minor| {
                (sum.saturating_add(minor), n.saturating_add(1))
            })
    }
}

impl MomentRule for DonorRecognition {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICKET | TriggerKinds::DONATION
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    fn policy(&self) -> Policy {
        if self.cooldown > TimeDelta::zero() {
            Policy::new().cooldown(self.cooldown)
        } else {
            Policy::new()
        }
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let patron = ctx.patron();
        let now = ctx.now();
        let currency = self.tier.currency();
        // Everything they ever gave is a bound on the trailing sum, and costs nothing.
        let ever = patron
            .stats()
            .donated()
            .iter()
            .find(|m| m.currency() == currency)
            .map_or(0, Money::minor);
        if ever < self.tier.minor() {
            return;
        }
        let target = match ctx.trigger() {
            Trigger::Ticket(ticket) => {
                let starts = ticket.performance().starts_at();
                if starts <= now || bookings_after(patron, now).any(|(_, other)| other < starts) {
                    return;
                }
                Target {
                    performance: ticket.performance().id(),
                    ticket: TicketRef::Id(ticket.id()),
                    seat: ticket.seat(),
                }
            }
            Trigger::Donation { .. } => {
                let Some((ticket, performance)) = bookings_after(patron, now)
                    .min_by_key(|&(_, starts)| starts)
                    .and_then(|(t, _)| Some((t, t.performance()?)))
                else {
                    return;
                };
                Target {
                    performance: performance.id(),
                    ticket: TicketRef::Text(ticket.id()),
                    seat: ticket.seat(),
                }
            }
            _ => return,
        };
        let Some(since) = now.checked_sub_months(Months::new(self.months)) else {
            return;
        };
        let (given, gifts) = self.given(patron, since, now);
        if given < self.tier.minor() {
            return;
        }
        let mut moment = Moment::new(
            MomentKind::Celebration,
            Action::FrontOfHouse,
            format!(
                "Donor: {} given in the last {} months",
                Money::new(given, currency),
                self.months
            ),
        )
        .for_performance(target.performance.clone())
        .for_ticket(target.ticket.to_id())
        .with_priority(Priority::HIGH)
        .explain(format!(
            "{gifts} gift(s) since {}, at least the {} tier; their next booked performance",
            long_date(since.date_naive()),
            self.tier
        ));
        if let Some(seat) = target.seat {
            moment = moment.at_seat(seat.clone());
        }
        out.push(moment);
    }
}
