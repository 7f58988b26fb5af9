//! Birthday: a performance close to the patron's birthday.

use chrono::{Datelike, NaiveDate};

use super::{at_ticket, days, performance_day};
use crate::memory::PatronView;
use crate::model::profile::{Channel, Purpose};
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Widest configurable window, in days either side.
const MAX_WINDOW_DAYS: u32 = 31;

/// Fires when a patron with a consented birth date is issued a ticket for a performance
/// within [`within_days`](Birthday::within_days) days (default 3) of their birthday,
/// before or after: a front-of-house item for that performance and seat ("Birthday in
/// 2 days (14 Mar)").
///
/// - **Consented birth date:** memory knows their birth date (they gave it in an order's
///   signals) and they have not withdrawn personalisation in person
///   (`Consent::withdrawn(Channel::InPerson, Purpose::Personalisation, _)`). With
///   [`require_explicit_consent`](Birthday::require_explicit_consent) they must have
///   granted it. Without consent nothing is proposed at all, so staff reading silenced
///   moments do not learn the date either.
/// - **Trigger:** [`Trigger::Ticket`] only (at order time, so the item is in
///   [`Memory::brief`](crate::Memory::brief) for the performance).
/// - **Boundaries:** the performance's day (UTC) is at most `within_days` calendar days
///   from the birthday nearest to it, across a new year too (a 2 January birthday is
///   2 days from a 31 December performance). Someone born on 29 February has their
///   birthday on 28 February in other years. The day of birth itself is no birthday:
///   someone born this year has their first one next year.
/// - **Moment:** [`MomentKind::Celebration`], [`Action::FrontOfHouse`] at the ticket's
///   seat, [`Priority::NORMAL`]. The message names the day, never the year of birth or
///   the age. [`LeaveMeBe`](crate::LeaveMeBe) silences it.
/// - **Policy:** once per birthday (the dedupe key is the birthday's year): the first
///   ticket issued near it gets the item, and a refund of that ticket does not move it to
///   another.
///
/// ```
/// use regulars::{Birthday, Memory};
/// // Only for patrons who said yes, in the week around their birthday.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(Birthday::new().within_days(7).require_explicit_consent(true))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Birthday {
    within: u32,
    explicit: bool,
}

impl Default for Birthday {
    fn default() -> Self {
        Self {
            within: 3,
            explicit: false,
        }
    }
}

impl Birthday {
    /// The rule's id.
    pub const ID: &'static str = "birthday";

    /// Within 3 days, unless personalisation in person was withdrawn.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many days either side of the birthday a performance may be (default 3; 0
    /// means on the day; at most 31).
    #[must_use]
    pub fn within_days(mut self, days: u32) -> Self {
        self.within = days.min(MAX_WINDOW_DAYS);
        self
    }

    /// Whether the patron must have granted personalisation in person (`true`), or only
    /// not withdrawn it (`false`, the default).
    #[must_use]
    pub fn require_explicit_consent(mut self, required: bool) -> Self {
        self.explicit = required;
        self
    }

    fn consented(&self, patron: &PatronView<'_>) -> bool {
        let answer = patron.consent(Channel::InPerson, Purpose::Personalisation);
        if self.explicit {
            answer == Some(true)
        } else {
            answer != Some(false)
        }
    }
}

/// The birthday of someone born on `birth` in `year`, if they were born before it.
fn birthday_in(birth: NaiveDate, year: i32) -> Option<NaiveDate> {
    if year <= birth.year() {
        return None;
    }
    birth
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
}

/// The birthday nearest to `day`, and how many days it is from `day` (negative: before).
fn nearest_birthday(birth: NaiveDate, day: NaiveDate) -> Option<(NaiveDate, i64)> {
    [day.year() - 1, day.year(), day.year() + 1]
        .into_iter()
        .filter_map(|year| birthday_in(birth, year))
        .map(|birthday| (birthday, (birthday - day).num_days()))
        .min_by_key(|&(_, offset)| offset.unsigned_abs())
}

impl MomentRule for Birthday {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICKET
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Ticket(ticket) = ctx.trigger() else {
            return;
        };
        let patron = ctx.patron();
        let Some(birth) = patron.birth_date() else {
            return;
        };
        if !self.consented(patron) {
            return;
        }
        let day = performance_day(ticket);
        let Some((birthday, offset)) = nearest_birthday(birth, day) else {
            return;
        };
        if offset.unsigned_abs() > u64::from(self.within) {
            return;
        }
        let date = birthday.format("%-d %b");
        let message = match offset {
            0 => format!("Birthday today ({date})"),
            o if o < 0 => format!("Birthday {} ago ({date})", days(o.unsigned_abs())),
            o => format!("Birthday in {} ({date})", days(o.unsigned_abs())),
        };
        let moment = Moment::new(MomentKind::Celebration, Action::FrontOfHouse, message)
            .with_priority(Priority::NORMAL)
            .dedupe_by(format!("birthday {}", birthday.year()))
            .explain(format!(
                "birth date on file; personalisation in person {}; performance within {} of it",
                if self.explicit {
                    "granted"
                } else {
                    "not withdrawn"
                },
                days(u64::from(self.within))
            ));
        out.push(at_ticket(moment, ticket));
    }
}
