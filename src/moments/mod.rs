//! Moments: small personal gestures proposed by rules when something happens.

pub(crate) mod brief;
pub(crate) mod builtin;
mod due;
pub(crate) mod engine;
pub(crate) mod ledger;
mod moment;
mod policy;
mod suppress;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

pub use brief::{Brief, BriefEntry, BriefSection};
pub use moment::{Action, Moment, MomentKind, Priority};
pub use policy::{OncePer, Policy};
pub use suppress::{SilencedMoment, Suppression, Suppressor};

use crate::memory::PatronView;
use crate::model::catalog::{Catalog, Performance, PerformanceIdx, Production, ProductionIdx};
use crate::model::event::LineItem;
use crate::model::history::{Direction, Seat};
use crate::model::ids::{OrderId, PatronId, TicketId};
use crate::model::money::Money;

/// Looks at one patron when something happened and proposes moments for them.
///
/// A rule sees a read-only [`RuleContext`]: the patron (profile, history, stats, already
/// including what just happened), the [`Trigger`], the catalog and the time. It pushes
/// zero or more [`Moment`]s; memory fires each `(rule id, patron, dedupe key)` at most
/// once, so re-observing events never repeats a moment.
///
/// The trait is object-safe and memory holds rules as `Arc<dyn MomentRule>`. Later
/// versions add hooks with default bodies, so implementing only these two methods
/// keeps compiling.
///
/// ```
/// use regulars::{Action, Moment, MomentKind, MomentRule, RuleContext, Trigger};
///
/// /// Greets anyone whose order has six or more tickets.
/// #[derive(Debug)]
/// struct GroupBooking;
///
/// impl MomentRule for GroupBooking {
///     fn id(&self) -> &str { "group-booking" }
///     fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
///         if let Trigger::Order { order, tickets, .. } = ctx.trigger() {
///             if *tickets >= 6 {
///                 out.push(
///                     Moment::new(MomentKind::Welcome, Action::BoxOfficeAlert, "Group booking")
///                         .dedupe_by(order.as_str()),
///                 );
///             }
///         }
///     }
/// }
/// let memory = regulars::Memory::builder().rule(GroupBooking).build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
pub trait MomentRule: Send + Sync + fmt::Debug {
    /// A short stable id (`"repeat-production"`), part of every dedupe key: changing it
    /// lets the rule fire again for everyone.
    fn id(&self) -> &str;

    /// Proposes moments for `ctx.patron()` given `ctx.trigger()`.
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>);

    /// How often, when and alongside what its moments may fire; see [`Policy`]. The
    /// embedding product may override it per rule.
    fn policy(&self) -> Policy {
        Policy::default()
    }

    /// For rules about time passing (going quiet, a membership running out): when this
    /// patron should next be looked at with [`Trigger::Tick`]. Memory asks after every
    /// change to the patron and keeps the answer in an index that
    /// [`Memory::tick`](crate::Memory::tick) reads, so no tick scans all patrons.
    /// `None` (the default) means never.
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let _ = (patron, now);
        None
    }

    /// Whether [`next_due`](MomentRule::next_due) may ever answer `Some`. Memory asks
    /// once, when it is built, and from then on asks `next_due` after each change to a
    /// patron only of the rules that said yes: a rule that never wakes on a tick should
    /// say `false`, so events do not pay for asking it.
    ///
    /// The default, `true`, is right for every rule (a rule saying `true` whose
    /// `next_due` always answers `None` only costs that call); saying `false` while
    /// implementing `next_due` means the rule is never woken by a tick.
    ///
    /// ```
    /// use regulars::{Moment, MomentRule, RuleContext};
    ///
    /// /// Looks only at what happens, never at time passing.
    /// #[derive(Debug)]
    /// struct OnEventsOnly;
    ///
    /// impl MomentRule for OnEventsOnly {
    ///     fn id(&self) -> &str { "on-events-only" }
    ///     fn evaluate(&self, _ctx: &RuleContext<'_>, _out: &mut Vec<Moment>) {}
    ///     fn has_due_times(&self) -> bool { false }
    /// }
    /// let memory = regulars::Memory::builder().rule(OnEventsOnly).build()?;
    /// # Ok::<(), regulars::Error>(())
    /// ```
    fn has_due_times(&self) -> bool {
        true
    }

    /// The kinds of [`Trigger`] [`evaluate`](MomentRule::evaluate) looks at: memory
    /// asks the rule only about those. Memory asks once, when it is built. The default
    /// is every kind; a rule that looks at few should say which, so other events do not
    /// pay for asking it.
    ///
    /// ```
    /// use regulars::{Moment, MomentRule, RuleContext, Trigger, TriggerKinds};
    ///
    /// /// Thanks donors.
    /// #[derive(Debug)]
    /// struct ThankDonors;
    ///
    /// impl MomentRule for ThankDonors {
    ///     fn id(&self) -> &str { "thank-donors" }
    ///     fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
    ///         if let Trigger::Donation { .. } = ctx.trigger() {
    ///             // …
    ///         }
    ///     }
    ///     fn triggers(&self) -> TriggerKinds { TriggerKinds::DONATION }
    /// }
    /// assert!(ThankDonors.triggers().contains(TriggerKinds::DONATION));
    /// assert!(!ThankDonors.triggers().contains(TriggerKinds::ORDER));
    /// ```
    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::ALL
    }
}

/// A set of [`Trigger`] kinds: the ones a rule looks at (see [`MomentRule::triggers`]).
/// Combine them with `|`.
///
/// ```
/// use regulars::TriggerKinds;
/// let at_the_door = TriggerKinds::TICKET | TriggerKinds::SCAN;
/// assert!(at_the_door.contains(TriggerKinds::SCAN));
/// assert!(!at_the_door.contains(TriggerKinds::REFUND));
/// assert!(TriggerKinds::ALL.contains(at_the_door));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TriggerKinds(u16);

impl TriggerKinds {
    /// [`Trigger::Order`].
    pub const ORDER: Self = Self(1);
    /// [`Trigger::Ticket`].
    pub const TICKET: Self = Self(1 << 1);
    /// [`Trigger::Scan`].
    pub const SCAN: Self = Self(1 << 2);
    /// [`Trigger::Refund`].
    pub const REFUND: Self = Self(1 << 3);
    /// [`Trigger::Donation`].
    pub const DONATION: Self = Self(1 << 4);
    /// [`Trigger::Membership`].
    pub const MEMBERSHIP: Self = Self(1 << 5);
    /// [`Trigger::Purchase`].
    pub const PURCHASE: Self = Self(1 << 6);
    /// [`Trigger::Tick`].
    pub const TICK: Self = Self(1 << 7);
    /// Every kind, including kinds later versions add.
    pub const ALL: Self = Self(u16::MAX);
    /// No kind: a rule that is never asked.
    pub const NONE: Self = Self(0);

    /// Every kind in `self` or in `other`.
    #[must_use]
    pub const fn or(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every kind in `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The kind of this trigger.
    ///
    /// ```
    /// use regulars::{rule_fn, TriggerKinds};
    /// let at_the_door = rule_fn("at-the-door", |ctx, _out| {
    ///     if TriggerKinds::of(ctx.trigger()) == TriggerKinds::SCAN {
    ///         // …
    ///     }
    /// });
    /// ```
    pub fn of(trigger: &Trigger<'_>) -> Self {
        match trigger {
            Trigger::Order { .. } => Self::ORDER,
            Trigger::Ticket(_) => Self::TICKET,
            Trigger::Scan { .. } => Self::SCAN,
            Trigger::Refund { .. } => Self::REFUND,
            Trigger::Donation { .. } => Self::DONATION,
            Trigger::Membership { .. } => Self::MEMBERSHIP,
            Trigger::Purchase { .. } => Self::PURCHASE,
            Trigger::Tick { .. } => Self::TICK,
        }
    }
}

impl std::ops::BitOr for TriggerKinds {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        self.or(other)
    }
}

impl fmt::Debug for TriggerKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TriggerKinds, &str); 8] = [
            (TriggerKinds::ORDER, "Order"),
            (TriggerKinds::TICKET, "Ticket"),
            (TriggerKinds::SCAN, "Scan"),
            (TriggerKinds::REFUND, "Refund"),
            (TriggerKinds::DONATION, "Donation"),
            (TriggerKinds::MEMBERSHIP, "Membership"),
            (TriggerKinds::PURCHASE, "Purchase"),
            (TriggerKinds::TICK, "Tick"),
        ];
        if *self == Self::ALL {
            return f.write_str("TriggerKinds(ALL)");
        }
        f.debug_set()
            .entries(
                NAMES
                    .iter()
                    .filter(|(kind, _)| self.contains(*kind))
                    .map(|(_, name)| name),
            )
            .finish()
    }
}

impl<R: MomentRule + ?Sized> MomentRule for Arc<R> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        (**self).evaluate(ctx, out);
    }
    fn policy(&self) -> Policy {
        (**self).policy()
    }
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (**self).next_due(patron, now)
    }
    fn has_due_times(&self) -> bool {
        (**self).has_due_times()
    }
    fn triggers(&self) -> TriggerKinds {
        (**self).triggers()
    }
}

impl<R: MomentRule + ?Sized> MomentRule for Box<R> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        (**self).evaluate(ctx, out);
    }
    fn policy(&self) -> Policy {
        (**self).policy()
    }
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (**self).next_due(patron, now)
    }
    fn has_due_times(&self) -> bool {
        (**self).has_due_times()
    }
    fn triggers(&self) -> TriggerKinds {
        (**self).triggers()
    }
}

impl<R: MomentRule + ?Sized> MomentRule for &R {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        (**self).evaluate(ctx, out);
    }
    fn policy(&self) -> Policy {
        (**self).policy()
    }
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (**self).next_due(patron, now)
    }
    fn has_due_times(&self) -> bool {
        (**self).has_due_times()
    }
    fn triggers(&self) -> TriggerKinds {
        (**self).triggers()
    }
}

const _: fn(Box<dyn MomentRule>) = |_| {};

/// A rule made from a closure; see [`rule_fn`].
pub struct FnRule<F> {
    id: String,
    f: F,
}

impl<F> fmt::Debug for FnRule<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnRule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<F> MomentRule for FnRule<F>
where
    F: Fn(&RuleContext<'_>, &mut Vec<Moment>) + Send + Sync,
{
    fn id(&self) -> &str {
        &self.id
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        (self.f)(ctx, out);
    }
    /// A closure only proposes moments: it has no due times.
    fn has_due_times(&self) -> bool {
        false
    }
}

/// Makes a rule from a closure, for rules short enough to read inline.
///
/// ```
/// use regulars::{rule_fn, Action, Moment, MomentKind, Trigger};
/// let big_donor = rule_fn("big-donor", |ctx, out| {
///     if let Trigger::Donation { amount, .. } = ctx.trigger() {
///         if amount.minor() >= 100_000 {
///             out.push(Moment::new(MomentKind::Celebration, Action::FollowUp, "Thank-you call").dedupe_by(ctx.now().to_rfc3339()));
///         }
///     }
/// });
/// let memory = regulars::Memory::builder().rule(big_donor).build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
pub fn rule_fn<F>(id: impl Into<String>, f: F) -> FnRule<F>
where
    F: Fn(&RuleContext<'_>, &mut Vec<Moment>) + Send + Sync,
{
    FnRule { id: id.into(), f }
}

/// What a rule sees: one patron, what just happened, the catalog and the time.
#[derive(Debug)]
pub struct RuleContext<'a> {
    patron: PatronView<'a>,
    trigger: &'a Trigger<'a>,
    catalog: &'a Catalog,
    now: DateTime<Utc>,
    /// Set while the engine asks one rule: what it would do with that rule's moments.
    admission: Option<engine::Admission<'a>>,
}

impl<'a> RuleContext<'a> {
    pub(crate) fn new(
        patron: PatronView<'a>,
        trigger: &'a Trigger<'a>,
        catalog: &'a Catalog,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            patron,
            trigger,
            catalog,
            now,
            admission: None,
        }
    }

    /// The same context, as seen by one rule the engine is about to ask.
    pub(crate) fn for_rule<'b>(&self, admission: engine::Admission<'b>) -> RuleContext<'b>
    where
        'a: 'b,
    {
        RuleContext {
            patron: self.patron,
            trigger: self.trigger,
            catalog: self.catalog,
            now: self.now,
            admission: Some(admission),
        }
    }

    /// The same context, as seen by the next rule the engine asks: one context serves
    /// every rule asked about one event.
    pub(crate) fn admit_as(&mut self, admission: engine::Admission<'a>) {
        self.admission = Some(admission);
    }

    /// Whether the engine would drop, unseen, the moment the rule being asked would
    /// propose with these fields (and no channel or purposes of its own): it fired
    /// already in its once-per scope, while no suppressor or missing consent would report
    /// it as silenced. A rule skips building such a moment's messages.
    pub(crate) fn drops_unseen(
        &self,
        kind: MomentKind,
        action: Action,
        performance: Option<&crate::model::ids::PerformanceId>,
        dedupe_key: Option<&str>,
    ) -> bool {
        self.admission
            .as_ref()
            .is_some_and(|a| a.drops_unseen(self, kind, action, performance, dedupe_key))
    }
    /// The patron, with what just happened already recorded.
    pub fn patron(&self) -> &PatronView<'a> {
        &self.patron
    }
    /// Another patron (a household member, a ticket's buyer or holder), read-only. A merged
    /// id gives its survivor.
    pub fn patron_by_id(&self, id: PatronId) -> Option<PatronView<'a>> {
        self.patron.other(id)
    }
    /// The people sharing the patron's contact details (see
    /// [`PatronView::household`]).
    pub fn household(&self) -> impl Iterator<Item = PatronView<'a>> + use<'a> {
        let patron = self.patron;
        patron.household().filter_map(move |id| patron.other(id))
    }
    /// The date of [`now`](RuleContext::now), in UTC.
    pub fn today(&self) -> NaiveDate {
        // The UTC time's own date: `date_naive` would add a zero offset first.
        self.now.naive_utc().date()
    }
    /// What just happened.
    pub fn trigger(&self) -> &Trigger<'a> {
        self.trigger
    }
    /// What is on.
    pub fn catalog(&self) -> &'a Catalog {
        self.catalog
    }
    /// When it happened (the event's time, or the memory clock's).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

/// What made memory ask the rules: the event, from the patron's side.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Trigger<'a> {
    /// The patron placed an order (as the buyer).
    #[non_exhaustive]
    Order {
        /// The order.
        order: &'a OrderId,
        /// How many tickets it has.
        tickets: usize,
    },
    /// The patron holds a ticket just issued (one trigger per ticket).
    Ticket(TicketInfo<'a>),
    /// The patron's ticket was scanned.
    #[non_exhaustive]
    Scan {
        /// The ticket.
        ticket: TicketInfo<'a>,
        /// In or out.
        direction: Direction,
        /// Whether this scan made them count as attending (their first entry to this
        /// performance).
        first_entry: bool,
    },
    /// Tickets of the patron's order were refunded.
    #[non_exhaustive]
    Refund {
        /// The order.
        order: &'a OrderId,
        /// The tickets refunded by this event.
        tickets: &'a [TicketId],
    },
    /// The patron donated.
    #[non_exhaustive]
    Donation {
        /// How much.
        amount: Money,
        /// To which fund.
        fund: Option<&'a str>,
    },
    /// The patron took out or renewed a membership.
    #[non_exhaustive]
    Membership {
        /// The scheme.
        scheme: &'a str,
        /// First valid day.
        valid_from: NaiveDate,
        /// Last valid day.
        valid_to: NaiveDate,
    },
    /// The patron bought at the bar or shop.
    #[non_exhaustive]
    Purchase {
        /// The performance, if said.
        performance: Option<&'a Performance>,
        /// What they bought.
        items: &'a [LineItem],
    },
    /// Time passed: [`Memory::tick`](crate::Memory::tick) reached the time the rule asked
    /// for with [`MomentRule::next_due`]. Only that rule is asked.
    #[non_exhaustive]
    Tick {
        /// The time the rule asked to be woken at.
        due: DateTime<Utc>,
    },
}

/// A ticket as rules see it: the performance and production resolved from the catalog.
#[derive(Clone, Debug)]
pub struct TicketInfo<'a> {
    pub(crate) id: &'a TicketId,
    pub(crate) order: &'a OrderId,
    pub(crate) performance: &'a Performance,
    pub(crate) production: &'a Production,
    pub(crate) seat: Option<&'a Seat>,
    pub(crate) buyer: PatronId,
    pub(crate) holder: PatronId,
    /// Where the performance and production sit in the catalog, so rules look up the
    /// patron's figures without hashing ids.
    pub(crate) performance_idx: PerformanceIdx,
    pub(crate) production_idx: ProductionIdx,
}

impl<'a> TicketInfo<'a> {
    /// The ticket id.
    pub fn id(&self) -> &'a TicketId {
        self.id
    }
    /// The order it came in.
    pub fn order(&self) -> &'a OrderId {
        self.order
    }
    /// Its performance.
    pub fn performance(&self) -> &'a Performance {
        self.performance
    }
    /// The production performed.
    pub fn production(&self) -> &'a Production {
        self.production
    }
    /// Its seat, if assigned.
    pub fn seat(&self) -> Option<&'a Seat> {
        self.seat
    }
    /// Who bought it.
    pub fn buyer(&self) -> PatronId {
        self.buyer
    }
    /// Who holds it.
    pub fn holder(&self) -> PatronId {
        self.holder
    }
}
