//! The rules that ship with the crate.

mod care;
mod first_visit;
mod repeat_production;
mod visits;

pub use care::*;
pub use visits::*;

pub use first_visit::FirstVisit;
pub use repeat_production::RepeatProduction;

use std::sync::Arc;

use super::MomentRule;

/// The exclusive group of arrival greetings (first visit, second visit, welcome back): a
/// patron gets at most one of them per performance.
pub(crate) const GREETING: &str = "greeting";

/// The rules every memory starts with unless built `without_default_rules`.
pub(crate) fn standard_rules() -> Vec<Arc<dyn MomentRule>> {
    vec![
        Arc::new(FirstVisit::new()),
        Arc::new(RepeatProduction::new()),
    ]
}

/// "1st", "2nd", "3rd", "11th"…
pub(crate) fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
