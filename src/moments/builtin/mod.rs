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

/// The exclusive group of arrival greetings (repeat production, first visit, second visit,
/// welcome back): a patron gets at most one of them per performance, the highest priority
/// winning.
pub(crate) const GREETING: &str = "greeting";

/// The rules every memory starts with unless built `without_default_rules`: greetings and
/// notes about visits, and the operational and quiet ones. None of them markets, and none
/// needs settings only the venue knows.
pub(crate) fn standard_rules() -> Vec<Arc<dyn MomentRule>> {
    vec![
        // Registration order breaks priority ties in the greeting group: the note about
        // the production first.
        Arc::new(RepeatProduction::new()),
        Arc::new(FirstVisit::new()),
        Arc::new(SecondVisit::new()),
        Arc::new(WelcomeBack::new()),
        Arc::new(Milestone::new()),
        Arc::new(AccessNeeds::new()),
        Arc::new(VipArrival::new()),
        Arc::new(MemberAtDoor::new()),
        Arc::new(TheUsual::new()),
    ]
}

/// The built-in rules that are off unless asked for (see
/// [`MemoryBuilder::all_builtin_rules`](crate::MemoryBuilder::all_builtin_rules)): they
/// market, or their defaults (a donation tier, what counts as a regular) are a venue's
/// call.
pub(crate) fn optional_rules() -> Vec<Arc<dyn MomentRule>> {
    vec![
        Arc::new(Regular::new()),
        Arc::new(FirstVisitAnniversary::new()),
        Arc::new(NewGenre::new()),
        Arc::new(BroughtANewcomer::new()),
        Arc::new(Birthday::new()),
        Arc::new(DonorRecognition::new()),
        Arc::new(GoingQuiet::new()),
        Arc::new(MembershipExpiring::new()),
    ]
}

/// The suppressors every memory starts with unless built `without_default_rules`.
pub(crate) fn standard_suppressors() -> Vec<Arc<dyn super::Suppressor>> {
    vec![Arc::new(LeaveMeBe::new())]
}

/// "1st", "2nd", "3rd", "11th"…
/// "1 Mar 2026": what chrono writes for `%-d %b %Y`, without parsing a format string
/// each time (messages are built on every event a rule proposes a moment for).
pub(crate) fn short_date(date: chrono::NaiveDate) -> ShortDate {
    ShortDate(date)
}

/// See [`short_date`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShortDate(chrono::NaiveDate);

impl ShortDate {
    /// Appends the date to `out`: what `Display` writes, without the formatter's
    /// indirection for every character.
    pub(crate) fn push_to(self, out: &mut String) {
        // At most "31 Dec 9999": room made once, not character by character.
        out.reserve(11);
        // Writing into a string cannot fail.
        let _ = self.write_to(out);
    }

    fn write_to(self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        use chrono::Datelike;
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let date = self.0;
        match MONTHS.get(date.month0() as usize) {
            // chrono pads years to four digits and signs the others.
            Some(month) if (0..=9999).contains(&date.year()) => {
                // Digits written by hand: the formatter's padding machinery costs more
                // than the rest of a note's message.
                let (day, year) = (date.day(), date.year().unsigned_abs());
                let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
                if day >= 10 {
                    f.write_char(digit(day / 10))?;
                }
                f.write_char(digit(day))?;
                f.write_char(' ')?;
                f.write_str(month)?;
                f.write_char(' ')?;
                for power in [1000, 100, 10, 1] {
                    f.write_char(digit(year / power))?;
                }
                Ok(())
            }
            _ => write!(f, "{}", date.format("%-d %b %Y")),
        }
    }
}

impl std::fmt::Display for ShortDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_to(f)
    }
}

/// Appends `n` in decimal to `out`, as `Display` writes it, without the formatting
/// machinery: moment messages are written on every booking that earns one.
pub(crate) fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            *digit = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || start == 0 {
            break;
        }
    }
    for &digit in digits.get(start..).unwrap_or_default() {
        out.push(char::from(digit));
    }
}

/// Appends [`ordinal`]`(n)` to `out` (see [`push_decimal`]).
pub(crate) fn push_ordinal(out: &mut String, n: u32) {
    push_decimal(out, n);
    out.push_str(ordinal_suffix(n));
}

/// "st", "nd", "rd" or "th".
fn ordinal_suffix(n: u32) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// "1st", "2nd", "3rd", "11th"… written where it is used, without a string of its own.
pub(crate) fn ordinal(n: u32) -> Ordinal {
    Ordinal(n)
}

/// See [`ordinal`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ordinal(u32);

impl std::fmt::Display for Ordinal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        std::fmt::Display::fmt(&n, f)?;
        f.write_str(ordinal_suffix(n))
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::{ordinal, push_decimal, push_ordinal, short_date};

    /// The hand-written numbers say what `Display` says.
    #[test]
    fn pushed_numbers_and_ordinals_read_as_displayed() {
        let samples = (0..=1_200).chain([9_999, 10_000, 65_535, 1_000_001, u32::MAX - 1, u32::MAX]);
        for n in samples {
            let mut decimal = String::from("x");
            push_decimal(&mut decimal, n);
            assert_eq!(decimal, format!("x{n}"));
            let mut nth = String::new();
            push_ordinal(&mut nth, n);
            assert_eq!(nth, ordinal(n).to_string());
        }
    }

    /// The hand-written digits say what chrono's `%-d %b %Y` says, for one- and two-digit
    /// days, every month, and years chrono pads or signs.
    #[test]
    fn short_date_writes_what_chrono_writes() {
        for year in [-44, 0, 7, 999, 1000, 2026, 9999, 10_000] {
            for month in 1..=12 {
                for day in [1, 9, 10, 28] {
                    let date = NaiveDate::from_ymd_opt(year, month, day).expect("a date");
                    assert_eq!(
                        short_date(date).to_string(),
                        date.format("%-d %b %Y").to_string()
                    );
                    let mut pushed = String::new();
                    short_date(date).push_to(&mut pushed);
                    assert_eq!(pushed, date.format("%-d %b %Y").to_string());
                }
            }
        }
    }
}

/// The ticket a built-in rule's moment is for: the trigger's own ticket, whose id memory
/// already holds as shared text (the moment takes a cheap clone of it), or another ticket
/// the patron holds, read from the tickets table (its id is copied into the moment).
#[derive(Clone, Copy, Debug)]
pub(crate) enum TicketRef<'a> {
    Id(&'a crate::model::ids::TicketId),
    Text(&'a str),
}

impl TicketRef<'_> {
    /// The id as a moment holds it.
    pub(crate) fn to_id(self) -> crate::model::ids::TicketId {
        match self {
            TicketRef::Id(id) => id.clone(),
            TicketRef::Text(text) => crate::model::ids::TicketId::new(text),
        }
    }
}
