//! Brought a newcomer: a regular bringing someone who has never been.

use super::booked::{self, Booking};
use crate::model::profile::{Channel, Purpose};
use crate::moments::engine::consent_allows;
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires when a regular — a buyer with at least [`min_visits`] (default 5) performances
/// attended — buys a ticket held by someone else who has never attended: a front-of-house
/// item for the newcomer's performance and seat, "Guest of a regular — first visit,
/// booked by P12 (14 visits)", so staff can welcome the two together.
///
/// Checked when the ticket is issued to its holder (`Trigger::Ticket`), so the item is
/// in [`Memory::brief`](crate::Memory::brief) before the show. The moment is the
/// **holder's** (the newcomer's): it sits on their ticket and seat, shows in the brief
/// next to their name and retires if their ticket is refunded. The buyer is named by
/// patron id only, as messages carry no names; the rule reads the buyer's figures through
/// [`RuleContext::patron_by_id`].
///
/// Boundaries: the buyer's attendances are counted at order time (entry scans so far;
/// [`min_visits`] exactly is enough); "never attended" is the holder's, at order time, as
/// for [`FirstVisit`](crate::FirstVisit). Never when buyer and holder are the same
/// patron. The moment tells staff about the buyer too, so never when the buyer objected
/// to personalisation in person or [prefers no fuss](crate::Preferences::prefers_no_fuss):
/// memory checks consent and suppressors for the holder only. The holder's own consent
/// and wishes are checked by memory, as for every moment.
///
/// [`MomentKind::Recognition`], [`Action::FrontOfHouse`], [`Priority::NORMAL`]. Not in
/// the exclusive greeting group: it adds the host to [`FirstVisit`](crate::FirstVisit)'s
/// welcome rather than replacing it. One moment per holder and performance
/// ([`OncePer::Key`](crate::OncePer::Key), keyed by the performance).
///
/// [`min_visits`]: BroughtANewcomer::min_visits
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{BroughtANewcomer, Event, Memory, Order, Performance, Production, Scan};
/// use regulars::{Signals, Ticket, Venue};
///
/// let at = |month| Utc.with_ymd_and_hms(2026, month, 1, 19, 30, 0).single().expect("a date");
/// // Anyone with one visit behind them counts as a regular here.
/// let rule = BroughtANewcomer::new().min_visits(1);
/// let mut memory = Memory::builder().without_default_rules().rule(rule).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at(3)))?;
/// memory.define_performance(Performance::new("hamlet-2", "hamlet", "main", at(5)))?;
///
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// let order = Order::new("o-1", ana()).ticket(Ticket::new("t-1", "hamlet-1"));
/// let first = memory.observe(Event::order("e-1", order).at(at(2)))?;
/// memory.observe(Event::scan("e-2", Scan::entry("t-1")).at(at(3)))?;
///
/// // Ana buys Ben his first ticket.
/// let ben = Signals::new().given_name("Ben").email("ben@example.net");
/// let order = Order::new("o-2", ana()).ticket(Ticket::new("t-2", "hamlet-2").holder(ben));
/// let booked = memory.observe(Event::order("e-3", order).at(at(4)))?;
/// let moment = &booked.moments()[0];
/// assert_eq!(moment.patron(), booked.participants()[0].patron());
/// assert_eq!(
///     moment.message(),
///     format!("Guest of a regular — first visit, booked by {} (1 visit)", first.patron())
/// );
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BroughtANewcomer {
    min_visits: u32,
}

impl Default for BroughtANewcomer {
    fn default() -> Self {
        Self { min_visits: 5 }
    }
}

impl BroughtANewcomer {
    /// The rule's id.
    pub const ID: &'static str = "brought-a-newcomer";

    /// A buyer with five visits counts as a regular.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many performances the buyer must have attended to count as a regular (1 to
    /// 10 000; values outside are clamped).
    #[must_use]
    pub fn min_visits(mut self, visits: u32) -> Self {
        self.min_visits = visits.clamp(1, 10_000);
        self
    }
}

impl MomentRule for BroughtANewcomer {
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
        let holder = ctx.patron();
        if ticket.buyer() == ticket.holder() || holder.stats().performances_attended() > 0 {
            return;
        }
        let Some(buyer) = ctx.patron_by_id(ticket.buyer()) else {
            return;
        };
        let visits = buyer.stats().performances_attended();
        if buyer.id() == holder.id()
            || visits < self.min_visits
            || !consent_allows(&buyer, Channel::InPerson, Purpose::Personalisation)
            || buyer.preferences().prefers_no_fuss()
        {
            return;
        }
        let moment = Booking::of(ticket)
            .moment(
                MomentKind::Recognition,
                Action::FrontOfHouse,
                format!(
                    "Guest of a regular — first visit, booked by {} ({})",
                    buyer.id(),
                    booked::visits(visits)
                ),
            )
            .with_priority(Priority::NORMAL)
            .explain(format!(
                "holder has no attendance on record; ticket bought by {}, who attended \
                 {visits} performance(s) (at least {})",
                buyer.id(),
                self.min_visits
            ));
        out.push(moment);
    }
}
