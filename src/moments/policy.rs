//! How often, when and alongside what a rule's moments may fire.

use std::borrow::Cow;

use chrono::{NaiveDate, TimeDelta};

/// What "the same moment" means for a rule: memory fires a rule's moment at most once per
/// patron and per this scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OncePer {
    /// Once per the moment's [dedupe key](crate::Moment::dedupe_by) (its performance by
    /// default). Rules with thresholds (10th, 25th visit) put the threshold in the key.
    #[default]
    Key,
    /// Once per patron, ever.
    Patron,
    /// Once per production (of the moment's performance).
    Production,
    /// Once per performance.
    Performance,
    /// Once per calendar year (of the triggering event).
    Year,
}

/// What a rule declares about its moments, and what an embedding product may override with
/// [`MemoryBuilder::rule_with_policy`](crate::MemoryBuilder::rule_with_policy).
///
/// The engine applies it around the rule: a rule outside its date window or in its cooldown
/// is not even asked; what it proposes is then checked against suppressors, consent, the
/// once-per scope, its exclusive group and the per-visit cap.
///
/// ```
/// use chrono::{NaiveDate, TimeDelta};
/// use regulars::{OncePer, Policy};
/// let policy = Policy::new()
///     .once_per(OncePer::Year)
///     .cooldown(TimeDelta::days(90))
///     .exclusive_group("greeting")
///     .active_from(NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());
/// assert_eq!(policy.group(), Some("greeting"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    once: OncePer,
    cooldown: Option<TimeDelta>,
    group: Option<Cow<'static, str>>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

impl Policy {
    /// Once per dedupe key, no cooldown, no group, always active.
    pub fn new() -> Self {
        Self::default()
    }
    /// The once-per scope.
    #[must_use]
    pub fn once_per(mut self, once: OncePer) -> Self {
        self.once = once;
        self
    }
    /// After the rule fires for a patron, it stays quiet for them for this long (whatever
    /// the dedupe key).
    #[must_use]
    pub fn cooldown(mut self, cooldown: TimeDelta) -> Self {
        self.cooldown = Some(cooldown);
        self
    }
    /// Rules in one exclusive group compete: a patron gets at most one of the group's
    /// moments per performance (per event when there is no performance), the highest
    /// priority winning.
    #[must_use]
    pub fn exclusive_group(mut self, group: impl Into<Cow<'static, str>>) -> Self {
        self.group = Some(group.into());
        self
    }
    /// The first day (of the triggering event) the rule is active.
    #[must_use]
    pub fn active_from(mut self, date: NaiveDate) -> Self {
        self.from = Some(date);
        self
    }
    /// The last day the rule is active.
    #[must_use]
    pub fn active_until(mut self, date: NaiveDate) -> Self {
        self.until = Some(date);
        self
    }

    /// The once-per scope.
    pub fn scope(&self) -> OncePer {
        self.once
    }
    /// The cooldown, if any.
    pub fn cooldown_period(&self) -> Option<TimeDelta> {
        self.cooldown
    }
    /// The exclusive group, if any.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }
    /// Whether the rule is active on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|from| date >= from) && self.until.is_none_or(|until| date <= until)
    }
}
