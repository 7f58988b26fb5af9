//! Birth-date agreement levels.

use chrono::{Datelike, NaiveDate};

/// How two birth dates agree, strongest first. See [`compare_dates`] for the order of
/// checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DateLevel {
    /// The same day.
    Exact,
    /// Same year, with day and month swapped (`1980-03-07` against `1980-07-03`): a
    /// US-style date read as European or back.
    DayMonthSwapped,
    /// Exactly one decimal digit of `YYYYMMDD` differs (`1980-03-07` against
    /// `1980-03-01` or `1986-03-07`): a typo.
    OneDigitOff,
    /// Same year, otherwise different.
    YearOnly,
    /// None of the above.
    Different,
}

/// Compares two birth dates, checking in this order and answering with the first that
/// holds: [`Exact`](DateLevel::Exact), [`DayMonthSwapped`](DateLevel::DayMonthSwapped),
/// [`OneDigitOff`](DateLevel::OneDigitOff), [`YearOnly`](DateLevel::YearOnly), else
/// [`Different`](DateLevel::Different).
///
/// So a swap is reported as a swap whatever its digits, and a one-digit typo in the day or
/// month (same year) as `OneDigitOff` rather than `YearOnly`. A day equal to its month
/// (`05-05`) cannot be swapped. Years outside `0..=9999` have no 8-digit form and skip
/// the digit check.
pub(crate) fn compare_dates(a: NaiveDate, b: NaiveDate) -> DateLevel {
    if a == b {
        return DateLevel::Exact;
    }
    if a.year() == b.year() && a.day() == b.month() && a.month() == b.day() {
        return DateLevel::DayMonthSwapped;
    }
    if let (Some(x), Some(y)) = (yyyymmdd(a), yyyymmdd(b))
        && differing_digits(x, y) == 1
    {
        return DateLevel::OneDigitOff;
    }
    if a.year() == b.year() {
        return DateLevel::YearOnly;
    }
    DateLevel::Different
}

/// The date as the number `YYYYMMDD`, for years with four digits or fewer.
fn yyyymmdd(d: NaiveDate) -> Option<u32> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    Some(year * 10_000 + d.month() * 100 + d.day())
}

/// How many of the eight decimal digits of `x` and `y` differ.
fn differing_digits(mut x: u32, mut y: u32) -> u32 {
    let mut n = 0;
    for _ in 0..8 {
        n += u32::from(x % 10 != y % 10);
        x /= 10;
        y /= 10;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn levels() {
        use DateLevel::*;
        assert_eq!(compare_dates(d(1980, 3, 7), d(1980, 3, 7)), Exact);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1980, 7, 3)), DayMonthSwapped);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1980, 3, 1)), OneDigitOff);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1986, 3, 7)), OneDigitOff);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1980, 4, 7)), OneDigitOff);
        assert_eq!(compare_dates(d(1980, 3, 17), d(1980, 3, 27)), OneDigitOff);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1980, 11, 20)), YearOnly);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1981, 4, 7)), Different);
        assert_eq!(compare_dates(d(1980, 3, 7), d(1908, 3, 7)), Different);
        // Day and month swapped wins over any digit count.
        assert_eq!(
            compare_dates(d(2001, 10, 11), d(2001, 11, 10)),
            DayMonthSwapped
        );
        // Different year with swapped day and month is not a swap.
        assert_eq!(compare_dates(d(1980, 3, 7), d(1981, 7, 3)), Different);
    }

    #[test]
    fn extreme_years() {
        let far = NaiveDate::MAX;
        let before = NaiveDate::MIN;
        assert_eq!(compare_dates(far, far), DateLevel::Exact);
        assert_eq!(compare_dates(far, before), DateLevel::Different);
        assert_eq!(compare_dates(d(-1, 1, 1), d(-1, 1, 2)), DateLevel::YearOnly);
        assert_eq!(
            compare_dates(d(10_000, 1, 1), d(1000, 1, 1)),
            DateLevel::Different
        );
    }
}
