//! First visit: someone who has never attended holds a ticket.

use super::GREETING;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Policy, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires when a ticket is issued to a patron who has never attended a performance
/// (no entry scan on record): a front-of-house item for that performance and seat, so
/// staff can make a first visit easy.
///
/// Fires once per patron and performance, for as long as they have not attended: a
/// newcomer who books two shows is welcomed at both, and a refunded or unused first
/// booking does not use up the welcome for the visit they really make.
///
/// ```
/// use regulars::{FirstVisit, Memory};
/// let memory = Memory::builder().without_default_rules().rule(FirstVisit::new()).build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct FirstVisit {
    _private: (),
}

impl FirstVisit {
    /// The rule's id.
    pub const ID: &'static str = "first-visit";

    /// The rule.
    pub fn new() -> Self {
        Self::default()
    }
}

impl MomentRule for FirstVisit {
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

    /// One arrival greeting per performance (see [`Policy::exclusive_group`]).
    fn policy(&self) -> Policy {
        Policy::new().exclusive_group(GREETING)
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Ticket(ticket) = ctx.trigger() else {
            return;
        };
        if ctx.patron().stats().performances_attended() > 0 {
            return;
        }
        // Another ticket for the same performance: the welcome stands already.
        let performance = ticket.performance().id();
        if ctx.drops_unseen(
            MomentKind::Welcome,
            Action::FrontOfHouse,
            Some(performance),
            None,
        ) {
            return;
        }
        // Put together by hand: the formatting machinery cost as much as the rest of
        // the welcome.
        let title = ticket.production().title();
        let mut message = String::with_capacity(29 + title.len());
        message.push_str("First visit: welcome them to ");
        message.push_str(title);
        let mut moment = Moment::new(MomentKind::Welcome, Action::FrontOfHouse, message)
            .for_performance(performance.clone())
            .for_ticket(ticket.id().clone())
            .with_priority(Priority::NORMAL)
            .explain_static("no attendance on record");
        if let Some(seat) = ticket.seat() {
            moment = moment.at_seat(seat.clone());
        }
        out.push(moment);
    }
}
