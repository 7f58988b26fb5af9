//! Repeat production: the theatre story.

use super::ordinal;
use crate::moments::{Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger};

/// Fires when a patron gets a ticket for a production they have already attended at a
/// different performance: a seat note for that ticket's seat ("3rd visit to Hamlet").
///
/// A theatre put a note from the director on the seat of everyone who came to see the same
/// production more than once; people wrote back by hand.
///
/// Counts distinct performances attended (entry scans). Does not fire for a ticket to a
/// performance they already attended, nor below [`min_previous_visits`]
/// (default 1). One note per patron and performance. Without a seat, the moment is a
/// front-of-house item instead.
///
/// [`min_previous_visits`]: RepeatProduction::min_previous_visits
///
/// ```
/// use regulars::{Memory, RepeatProduction};
/// // Only from the third visit on.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(RepeatProduction::new().min_previous_visits(2))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RepeatProduction {
    min_previous: u32,
}

impl Default for RepeatProduction {
    fn default() -> Self {
        Self { min_previous: 1 }
    }
}

impl RepeatProduction {
    /// The rule's id.
    pub const ID: &'static str = "repeat-production";

    /// Fires from the second visit on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires only when the patron attended the production at least `visits` times
    /// before (at least 1).
    #[must_use]
    pub fn min_previous_visits(mut self, visits: u32) -> Self {
        self.min_previous = visits.max(1);
        self
    }
}

impl MomentRule for RepeatProduction {
    fn id(&self) -> &str {
        Self::ID
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Ticket(ticket) = ctx.trigger() else {
            return;
        };
        let patron = ctx.patron();
        let production = ticket.production();
        let visits = patron.visits_to(production.id().as_str());
        if visits.count() < self.min_previous || patron.attended(ticket.performance().id().as_str())
        {
            return;
        }
        let nth = ordinal(visits.count() + 1);
        let last = visits
            .last_at()
            .map(|at| at.format("%-d %b %Y").to_string())
            .unwrap_or_default();
        let explanation = format!(
            "attended {} performance(s) of {} before, last on {last}",
            visits.count(),
            production.title()
        );
        let message = format!("{nth} visit to {}", production.title());
        let priority = if visits.count() >= 2 {
            Priority::HIGH
        } else {
            Priority::NORMAL
        };
        let moment = match ticket.seat() {
            Some(seat) => Moment::new(MomentKind::Celebration, Action::SeatNote, message)
                .at_seat(seat.clone()),
            None => Moment::new(MomentKind::Celebration, Action::FrontOfHouse, message),
        };
        out.push(
            moment
                .for_performance(ticket.performance().id().clone())
                .with_priority(priority)
                .explain(explanation),
        );
    }
}
