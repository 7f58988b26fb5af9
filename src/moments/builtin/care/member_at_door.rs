//! Member at the door: thanking a member as they come in.

use super::{at_ticket, first_entry, long_date, performance_day};
use crate::moments::{Action, Moment, MomentKind, MomentRule, Priority, RuleContext, TriggerKinds};

/// Fires when a patron with a membership valid on the performance's day is scanned in:
/// a message on the door scanner ("Member (Friends) until 31 Aug 2026"), so the person
/// at the door can thank them.
///
/// - **Trigger:** [`Trigger::Scan`](crate::Trigger::Scan) with `first_entry` (their first
///   entry to that performance); exits and re-entries give nothing.
/// - **Boundaries:** the membership is valid on the performance's day (UTC), its first
///   and last valid days included. With several, the one running longest is named.
///   With [`scheme`](MemberAtDoor::scheme), only those schemes count (compared ignoring
///   ASCII case and surrounding spaces).
/// - **Moment:** [`MomentKind::Welcome`], [`Action::ScanAttention`] for the scanned
///   ticket's performance and seat, [`Priority::NORMAL`]. A greeting:
///   [`LeaveMeBe`](crate::LeaveMeBe) silences it for patrons who prefer no fuss.
/// - **Policy:** once per performance.
///
/// ```
/// use regulars::{MemberAtDoor, Memory};
/// // Only the top tiers are greeted.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(MemberAtDoor::new().scheme("Patron circle").scheme("Benefactors"))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemberAtDoor {
    schemes: Vec<String>,
}

impl MemberAtDoor {
    /// The rule's id.
    pub const ID: &'static str = "member-at-door";

    /// Every scheme counts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts only memberships of this scheme (and of any others added the same way). A
    /// blank name is ignored.
    #[must_use]
    pub fn scheme(mut self, scheme: impl Into<String>) -> Self {
        let scheme = scheme.into();
        let scheme = scheme.trim();
        if !scheme.is_empty() {
            self.schemes.push(scheme.to_owned());
        }
        self
    }

    fn counts(&self, scheme: &str) -> bool {
        let scheme = scheme.trim();
        self.schemes.is_empty() || self.schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme))
    }
}

impl MomentRule for MemberAtDoor {
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

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Some(ticket) = first_entry(ctx.trigger()) else {
            return;
        };
        let day = performance_day(ticket);
        let Some(span) = ctx
            .patron()
            .stats()
            .memberships()
            .iter()
            .filter(|m| m.valid_from() <= day && day <= m.valid_to() && self.counts(m.scheme()))
            .max_by_key(|m| m.valid_to())
        else {
            return;
        };
        let moment = Moment::new(
            MomentKind::Welcome,
            Action::ScanAttention,
            format!(
                "Member ({}) until {}",
                span.scheme(),
                long_date(span.valid_to())
            ),
        )
        .with_priority(Priority::NORMAL)
        .explain(format!(
            "{} membership valid {} to {} covers the performance on {}",
            span.scheme(),
            long_date(span.valid_from()),
            long_date(span.valid_to()),
            long_date(day)
        ));
        out.push(at_ticket(moment, ticket));
    }
}
