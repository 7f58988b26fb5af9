//! Suppressors: checks that run before the rules and silence some of what they propose.

use std::fmt;
use std::sync::Arc;

use super::{Moment, MomentKind, RuleContext};

/// Runs before the rules for a patron and may silence kinds of moments, or named rules,
/// for this evaluation — "leave me alone" as code.
///
/// Silenced moments are not fired (they may fire later, once the suppressor no longer
/// applies) and are listed, with the reason, in
/// [`Observation::silenced`](crate::Observation::silenced).
///
/// ```
/// use regulars::{MomentKind, RuleContext, Suppression, Suppressor};
///
/// /// No celebrations for staff.
/// #[derive(Debug)]
/// struct NotForStaff;
///
/// impl Suppressor for NotForStaff {
///     fn id(&self) -> &str { "not-for-staff" }
///     fn suppress(&self, ctx: &RuleContext<'_>) -> Option<Suppression> {
///         let staff = ctx.patron().preferences().custom("staff") == Some("yes");
///         staff.then(|| Suppression::kinds([MomentKind::Celebration]).because("staff member"))
///     }
/// }
/// let memory = regulars::Memory::builder().suppressor(NotForStaff).build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
pub trait Suppressor: Send + Sync + fmt::Debug {
    /// A short stable id, named in the reason a moment was silenced.
    fn id(&self) -> &str;

    /// What to silence for `ctx.patron()` now, if anything.
    fn suppress(&self, ctx: &RuleContext<'_>) -> Option<Suppression>;
}

impl<S: Suppressor + ?Sized> Suppressor for Arc<S> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn suppress(&self, ctx: &RuleContext<'_>) -> Option<Suppression> {
        (**self).suppress(ctx)
    }
}

impl<S: Suppressor + ?Sized> Suppressor for Box<S> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn suppress(&self, ctx: &RuleContext<'_>) -> Option<Suppression> {
        (**self).suppress(ctx)
    }
}

const _: fn(Box<dyn Suppressor>) = |_| {};

/// What a [`Suppressor`] silences: moments of some kinds, or of some rules, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suppression {
    kinds: Vec<MomentKind>,
    rules: Vec<String>,
    reason: String,
}

impl Suppression {
    /// Silences moments of these kinds.
    pub fn kinds(kinds: impl IntoIterator<Item = MomentKind>) -> Self {
        Self {
            kinds: kinds.into_iter().collect(),
            ..Self::default()
        }
    }
    /// Silences the moments of these rules (by id).
    pub fn rules<S: Into<String>>(rules: impl IntoIterator<Item = S>) -> Self {
        Self {
            rules: rules.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
    /// Why, for staff ("prefers no fuss").
    #[must_use]
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }
    /// Whether it silences `moment`.
    pub fn silences(&self, moment: &Moment) -> bool {
        self.kinds.contains(&moment.kind()) || self.rules.iter().any(|r| r == moment.rule())
    }
    /// Why.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A moment a rule proposed that was not fired, and why: a suppressor, missing consent,
/// an exclusive group or the per-visit cap.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SilencedMoment {
    moment: Moment,
    reason: String,
}

impl SilencedMoment {
    pub(crate) fn new(moment: Moment, reason: String) -> Self {
        Self { moment, reason }
    }
    /// The moment as proposed.
    pub fn moment(&self) -> &Moment {
        &self.moment
    }
    /// Why it was not fired ("leave-me-be: prefers no fuss").
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
