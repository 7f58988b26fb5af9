//! VIP arrival: telling the door a very important person is coming in.

use super::{at_ticket, first_entry, long_date, performance_day};
use crate::model::profile::FlagKind;
use crate::moments::{Action, Moment, MomentKind, MomentRule, Priority, RuleContext, TriggerKinds};

/// Fires when a patron whose VIP flag ([`FlagKind::Vip`], or the
/// [`flag`](VipArrival::flag) configured) holds on the performance's day is scanned in:
/// a message on the door scanner ("VIP arriving: chair of the board"), so the house
/// manager can greet them.
///
/// - **Trigger:** [`Trigger::Scan`](crate::Trigger::Scan) with `first_entry` (their first
///   entry to that performance); exits and re-entries give nothing.
/// - **Boundaries:** the flag's validity window covers the performance's day (UTC), both
///   ends included.
/// - **Moment:** [`MomentKind::Welcome`], [`Action::ScanAttention`] for the scanned
///   ticket's performance and seat, [`Priority::HIGH`]. The flag's detail, if any,
///   follows the label. A greeting: [`LeaveMeBe`](crate::LeaveMeBe) silences it for a
///   VIP who prefers no fuss, and withdrawn personalisation in person silences it too.
/// - **Policy:** once per performance.
///
/// ```
/// use regulars::{FlagKind, Memory, VipArrival};
/// // The venue marks its board with a flag of its own.
/// let memory = Memory::builder()
///     .without_default_rules()
///     .rule(VipArrival::new().flag(FlagKind::Custom("board".into())))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct VipArrival {
    flag: FlagKind,
}

impl Default for VipArrival {
    fn default() -> Self {
        Self {
            flag: FlagKind::Vip,
        }
    }
}

impl VipArrival {
    /// The rule's id.
    pub const ID: &'static str = "vip-arrival";

    /// For [`FlagKind::Vip`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Which flag marks a VIP (default [`FlagKind::Vip`]). A custom flag's name is the
    /// label in the message ("board arriving").
    #[must_use]
    pub fn flag(mut self, kind: FlagKind) -> Self {
        self.flag = kind;
        self
    }

    fn label(&self) -> &str {
        match &self.flag {
            FlagKind::Custom(name) => name,
            FlagKind::AccessNeeds => "Access needs",
            _ => "VIP",
        }
    }
}

impl MomentRule for VipArrival {
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
        let Some(flag) = ctx.patron().active_flag(&self.flag, day) else {
            return;
        };
        let label = self.label();
        let message = match flag.detail_text() {
            Some(detail) => format!("{label} arriving: {detail}"),
            None => format!("{label} arriving"),
        };
        let moment = Moment::new(MomentKind::Welcome, Action::ScanAttention, message)
            .with_priority(Priority::HIGH)
            .explain(format!("{label} flag holds on {}", long_date(day)));
        out.push(at_ticket(moment, ticket));
    }
}
