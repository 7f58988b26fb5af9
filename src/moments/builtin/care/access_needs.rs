//! Access needs: telling front of house what a patron needs to enjoy their visit.

use super::{at_ticket, first_entry, long_date, performance_day};
use crate::memory::PatronView;
use crate::model::profile::{Channel, Flag, FlagKind, Purpose};
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires when a patron whose access-needs flag ([`FlagKind::AccessNeeds`]) holds on the
/// performance's day is issued a ticket: a front-of-house item for that performance and
/// seat with the flag's detail ("Access needs: step-free route, wheelchair space").
///
/// - **Triggers:** [`Trigger::Ticket`] gives an [`Action::FrontOfHouse`] item (in the
///   [brief](crate::Memory::brief)); the first entry scan
///   ([`Trigger::Scan`] with `first_entry`) gives an [`Action::ScanAttention`] instead
///   when the performance has none yet, for a flag added after the booking.
/// - **Boundaries:** the flag's validity window covers the performance's day (UTC), both
///   ends included; open ends are open.
/// - **Consent:** the flag is recorded by staff at the patron's request, so it counts as
///   consented unless they withdrew operational use in person
///   (`Consent::withdrawn(Channel::InPerson, Purpose::Operational, _)`: "don't single me
///   out"). With [`require_explicit_consent`](AccessNeeds::require_explicit_consent)
///   they must have granted it. Personalisation consent plays no part.
/// - **Moment:** [`MomentKind::Operational`], so it fires for patrons who prefer no fuss
///   ([`LeaveMeBe`](crate::LeaveMeBe) never silences it) and without personalisation
///   consent. Priority 224, above [`Priority::HIGH`], so celebrations never push it out
///   under the per-visit cap.
/// - **Policy:** once per performance.
///
/// ```
/// use regulars::{AccessNeeds, Memory};
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(AccessNeeds::new())
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct AccessNeeds {
    explicit: bool,
}

impl AccessNeeds {
    /// The rule's id.
    pub const ID: &'static str = "access-needs";

    /// The priority of its moments: above every celebration.
    pub const PRIORITY: Priority = Priority(224);

    /// Unless operational use in person was withdrawn.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the patron must have granted operational use in person (`true`), or only
    /// not withdrawn it (`false`, the default).
    #[must_use]
    pub fn require_explicit_consent(mut self, required: bool) -> Self {
        self.explicit = required;
        self
    }

    fn consented(&self, patron: &PatronView<'_>) -> bool {
        let answer = patron.consent(Channel::InPerson, Purpose::Operational);
        if self.explicit {
            answer == Some(true)
        } else {
            answer != Some(false)
        }
    }
}

/// "from 1 Mar 2026 until 31 Dec 2026", "with no end date".
fn validity(flag: &Flag) -> String {
    match (flag.valid_from(), flag.valid_until()) {
        (Some(from), Some(until)) => {
            format!("from {} until {}", long_date(from), long_date(until))
        }
        (Some(from), None) => format!("from {}", long_date(from)),
        (None, Some(until)) => format!("until {}", long_date(until)),
        (None, None) => "with no end date".to_owned(),
    }
}

impl MomentRule for AccessNeeds {
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

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let (ticket, action) = match ctx.trigger() {
            Trigger::Ticket(ticket) => (ticket, Action::FrontOfHouse),
            trigger => match first_entry(trigger) {
                Some(ticket) => (ticket, Action::ScanAttention),
                None => return,
            },
        };
        let patron = ctx.patron();
        let day = performance_day(ticket);
        let Some(flag) = patron.active_flag(&FlagKind::AccessNeeds, day) else {
            return;
        };
        if !self.consented(patron) {
            return;
        }
        let message = match flag.detail_text() {
            Some(detail) => format!("Access needs: {detail}"),
            None => "Access needs on file: ask how to help".to_owned(),
        };
        let moment = Moment::new(MomentKind::Operational, action, message)
            .with_priority(Self::PRIORITY)
            .explain(format!(
                "access-needs flag valid {} covers {}",
                validity(flag),
                long_date(day)
            ));
        out.push(at_ticket(moment, ticket));
    }
}
