//! Visits on the books: how the visit rules number a booking before it happens.
//!
//! Attendance counts at the first entry scan, so at order time a patron's figures hold the
//! visits made so far. A booking is their next visit unless they hold another booking
//! that comes first; the rules number it after both.

use crate::memory::PatronView;
use crate::memory::held::chronological;
use crate::memory::state::State;
use crate::model::catalog::{Performance, PerformanceIdx};
use crate::model::history::Seat;
use crate::model::ids::{Handle, TicketId};
use crate::moments::{Action, Moment, MomentKind, TicketInfo};
use chrono::{DateTime, Months, NaiveDate, Utc};

/// A ticket a moment can be for: the one just issued or scanned, or one held for later.
#[derive(Clone, Copy, Debug)]
pub(super) struct Booking<'a> {
    pub(super) performance: &'a Performance,
    performance_idx: PerformanceIdx,
    ticket: TicketOf<'a>,
}

/// Where a booking's ticket id and seat come from: the trigger's ticket has them at hand
/// (its id as memory's shared text); a held one is read from the tickets table only when
/// a moment is made for it, so counting bookings reads no ticket.
#[derive(Clone, Copy, Debug)]
enum TicketOf<'a> {
    Known(&'a TicketId, Option<&'a Seat>),
    Held(Handle, &'a State),
}

impl<'a> Booking<'a> {
    /// The trigger's ticket.
    pub(super) fn of(ticket: &TicketInfo<'a>) -> Self {
        Self {
            performance: ticket.performance(),
            performance_idx: ticket.performance_idx,
            ticket: TicketOf::Known(ticket.id(), ticket.seat()),
        }
    }

    /// Where this booking's performance sits in the catalog.
    pub(super) fn performance_idx(&self) -> PerformanceIdx {
        self.performance_idx
    }

    /// Whether the patron attended this booking's performance.
    pub(super) fn attended_by(&self, patron: &PatronView<'_>) -> bool {
        patron.attended_at(self.performance_idx)
    }

    /// The ticket's id (empty for a handle the tickets table does not hold, which memory
    /// never files).
    fn ticket_text(&self) -> &'a str {
        match self.ticket {
            TicketOf::Known(id, _) => id.as_str(),
            TicketOf::Held(ticket, state) => state.tickets.key(ticket).unwrap_or_default(),
        }
    }

    fn seat(&self) -> Option<&'a Seat> {
        match self.ticket {
            TicketOf::Known(_, seat) => seat,
            TicketOf::Held(ticket, state) => state.seats.of(state.tickets.value(ticket)?),
        }
    }

    /// A moment for this ticket's performance and seat, so briefs show it and a refund
    /// retires it.
    pub(super) fn moment(&self, kind: MomentKind, action: Action, message: String) -> Moment {
        let moment = Moment::new(kind, action, message)
            .for_performance(self.performance.id().clone())
            .for_ticket(match self.ticket {
                TicketOf::Known(id, _) => id.clone(),
                TicketOf::Held(..) => TicketId::new(self.ticket_text()),
            });
        match self.seat() {
            Some(seat) => moment.at_seat(seat.clone()),
            None => moment,
        }
    }

    /// A seat note with a seat, a front-of-house item without one.
    pub(super) fn note_action(&self) -> Action {
        if self.seat().is_some() {
            Action::SeatNote
        } else {
            Action::FrontOfHouse
        }
    }
}

/// The patron's bookings still ahead: tickets they hold (not refunded, not scanned in)
/// for performances they have not attended that start after `now`, in the order issued.
/// A booking whose performance has started without a scan is a no-show and no longer
/// counts. Memory keeps the unused tickets per patron, so this never walks the history.
pub(super) fn upcoming<'a>(
    patron: &PatronView<'a>,
    now: DateTime<Utc>,
) -> impl Iterator<Item = Booking<'a>> + use<'a> {
    let state = patron.state;
    patron
        .bookings_ahead(now)
        .map(move |(ticket, performance_idx, performance)| Booking {
            performance,
            performance_idx,
            ticket: TicketOf::Held(ticket, state),
        })
}

/// The order bookings happen in: by performance, then ticket id (read only for a tie).
fn in_booking_order(a: &Booking<'_>, b: &Booking<'_>) -> std::cmp::Ordering {
    (a.performance.starts_at(), a.performance.id())
        .cmp(&(b.performance.starts_at(), b.performance.id()))
        .then_with(|| a.ticket_text().cmp(b.ticket_text()))
}

/// The distinct performances the patron has booked ahead (see [`upcoming`]), in the order
/// they happen: memory keeps them so, so this is one binary search (past `now`), not a
/// walk of the bookings.
pub(super) fn ahead<'a>(patron: &PatronView<'a>, now: DateTime<Utc>) -> &'a [PerformanceIdx] {
    let catalog = &patron.state.catalog;
    let all = patron.record.held.performances();
    // A performance that has started without a scan is a no-show: no booking.
    let from = all.partition_point(|&p| chronological(catalog, p).is_none_or(|(at, _)| at <= now));
    all.get(from..).unwrap_or_default()
}

/// The distinct performances the patron has booked ahead of `this` (see [`ahead`]), in the
/// order they happen; `this` itself never counts.
pub(super) fn ahead_of<'a>(
    patron: &PatronView<'a>,
    this: &Performance,
    now: DateTime<Utc>,
) -> &'a [PerformanceIdx] {
    let catalog = &patron.state.catalog;
    let ahead = ahead(patron, now);
    let key = (this.starts_at(), this.id().as_str());
    let before = ahead.partition_point(|&p| chronological(catalog, p).is_none_or(|k| k < key));
    ahead.get(..before).unwrap_or_default()
}

/// How many distinct performances other than `this` the patron has booked ahead of it.
pub(super) fn booked_before(
    patron: &PatronView<'_>,
    this: &Performance,
    now: DateTime<Utc>,
) -> usize {
    ahead_of(patron, this, now).len()
}

/// Whether the patron has booked a performance ahead of `this` that starts on a day from
/// `from` to `to`.
pub(super) fn booked_before_within(
    patron: &PatronView<'_>,
    this: &Performance,
    now: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
) -> bool {
    let catalog = &patron.state.catalog;
    let day = |p: PerformanceIdx| chronological(catalog, p).map(|(at, _)| at.naive_utc().date());
    // In date order, those in the window are together: the first one on or after `from`
    // is in it if any is.
    let before = ahead_of(patron, this, now);
    let first = before.partition_point(|&p| day(p).is_none_or(|d| d < from));
    before
        .get(first)
        .and_then(|&p| day(p))
        .is_some_and(|d| d <= to)
}

/// The booking of `performance`: its lowest ticket id among those the patron holds
/// unused, as [`in_order`] picks it. `None` if they hold none for it.
pub(super) fn booking_at<'a>(
    patron: &PatronView<'a>,
    performance: PerformanceIdx,
) -> Option<Booking<'a>> {
    let state = patron.state;
    let entry = state.catalog.performance_entry(performance)?;
    patron
        .record
        .held
        .iter()
        .filter(|held| held.performance == performance)
        .map(|held| Booking {
            performance: &entry.performance,
            performance_idx: performance,
            ticket: TicketOf::Held(held.ticket, state),
        })
        .min_by(|a, b| a.ticket_text().cmp(b.ticket_text()))
}

/// The patron's next booking (see [`upcoming`]).
pub(super) fn next<'a>(patron: &PatronView<'a>, now: DateTime<Utc>) -> Option<Booking<'a>> {
    let &first = ahead(patron, now).first()?;
    booking_at(patron, first)
}

/// The patron's bookings still ahead in the order they will happen, one per performance
/// (its lowest ticket id).
pub(super) fn in_order<'a>(patron: &PatronView<'a>, now: DateTime<Utc>) -> Vec<Booking<'a>> {
    let mut bookings: Vec<_> = upcoming(patron, now).collect();
    bookings.sort_by(in_booking_order);
    bookings.dedup_by(|later, earlier| later.performance.id() == earlier.performance.id());
    bookings
}

/// `date` plus whole calendar months; the 31st becomes the last day of a shorter month
/// and 29 February becomes 28 February. `None` past the end of the calendar.
pub(super) fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

/// Whole calendar months from `from` to `to` (0 if `to` is earlier).
pub(super) fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    use chrono::Datelike;
    if to <= from {
        return 0;
    }
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    let mut months = u32::try_from(months).unwrap_or(0);
    // Not a whole month yet if the day of the month has not come round.
    if add_months(from, months).is_none_or(|d| d > to) {
        months = months.saturating_sub(1);
    }
    months
}

/// "1 visit", "5 visits".
pub(super) fn visits(n: u32) -> String {
    if n == 1 {
        "1 visit".to_owned()
    } else {
        format!("{n} visits")
    }
}

/// "1 Mar 2026".
pub(super) fn day(at: DateTime<Utc>) -> impl std::fmt::Display {
    crate::moments::builtin::short_date(at.naive_utc().date())
}

/// "March 2026": what chrono writes for `%B %Y`, without parsing a format string each
/// time (greetings and milestone notes name the month on every booking that earns one).
pub(super) fn month(at: DateTime<Utc>) -> MonthOf {
    MonthOf(at.naive_utc().date())
}

/// See [`month`].
#[derive(Clone, Copy, Debug)]
pub(super) struct MonthOf(NaiveDate);

impl MonthOf {
    /// Appends "March 2026" to `out`, as [`Display`](std::fmt::Display) writes it.
    pub(super) fn push_to(self, out: &mut String) {
        use chrono::Datelike;
        let date = self.0;
        match MONTHS.get(date.month0() as usize) {
            // Written by hand: the formatter's padding machinery costs more than the
            // rest of a greeting's message.
            Some(month) if (0..=9999).contains(&date.year()) => {
                let year = date.year().unsigned_abs();
                out.push_str(month);
                out.push(' ');
                for place in [1000, 100, 10, 1] {
                    out.push(char::from(b'0' + (year / place % 10) as u8));
                }
            }
            // Writing into a string cannot fail.
            _ => {
                use std::fmt::Write as _;
                let _ = write!(out, "{self}");
            }
        }
    }
}

/// Month names as chrono's `%B` writes them.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl std::fmt::Display for MonthOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::Datelike;
        let date = self.0;
        match MONTHS.get(date.month0() as usize) {
            // chrono pads years to four digits and signs the others.
            Some(month) if (0..=9999).contains(&date.year()) => {
                write!(f, "{month} {:04}", date.year())
            }
            _ => write!(f, "{}", date.format("%B %Y")),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::month;

    /// The month is written as chrono's `%B %Y` writes it, for every month and for
    /// years chrono pads or signs.
    #[test]
    fn month_writes_what_chrono_writes() {
        for year in [-44, 0, 7, 999, 1000, 2026, 9999, 10_000] {
            for m in 1..=12 {
                let at = NaiveDate::from_ymd_opt(year, m, 28)
                    .expect("a date")
                    .and_time(NaiveTime::MIN)
                    .and_utc();
                assert_eq!(month(at).to_string(), at.format("%B %Y").to_string());
                let mut pushed = String::from("since ");
                month(at).push_to(&mut pushed);
                assert_eq!(pushed, format!("since {}", at.format("%B %Y")));
            }
        }
    }
}
