//! Rules about looking after a patron: their needs, memberships, gifts, habits and wishes.
//!
//! The helpers below are shared by these rules only; nothing here allocates unless a rule
//! is about to fire.

mod access_needs;
mod birthday;
mod donor_recognition;
mod going_quiet;
mod leave_me_be;
mod member_at_door;
mod membership_expiring;
mod the_usual;
mod vip_arrival;

pub use access_needs::AccessNeeds;
pub use birthday::Birthday;
pub use donor_recognition::DonorRecognition;
pub use going_quiet::GoingQuiet;
pub use leave_me_be::LeaveMeBe;
pub use member_at_door::MemberAtDoor;
pub use membership_expiring::MembershipExpiring;
pub use the_usual::TheUsual;
pub use vip_arrival::VipArrival;

use std::fmt::Display;

use chrono::{DateTime, NaiveDate, Utc};

use crate::memory::{PatronView, TicketView};
use crate::model::history::Direction;
use crate::moments::{Moment, TicketInfo, Trigger};

/// Longest configurable span in months (a century): keeps date arithmetic far from
/// chrono's limits.
const MAX_MONTHS: u32 = 1200;

/// "14 Mar 2026", as staff read dates.
fn long_date(date: NaiveDate) -> impl Display {
    super::short_date(date)
}

/// The day a performance falls on (UTC, like [`RuleContext::today`](crate::RuleContext::today)).
fn performance_day(ticket: &TicketInfo<'_>) -> NaiveDate {
    ticket.performance().starts_at().naive_utc().date()
}

/// Targets a moment at a ticket: its performance, the ticket (so a refund retires the
/// moment) and its seat when it has one.
fn at_ticket(moment: Moment, ticket: &TicketInfo<'_>) -> Moment {
    let moment = moment
        .for_performance(ticket.performance().id().clone())
        .for_ticket(ticket.id().clone());
    match ticket.seat() {
        Some(seat) => moment.at_seat(seat.clone()),
        None => moment,
    }
}

/// The ticket of a scan that made the patron count as attending: their first entry to
/// the performance. Re-entries and exits give nothing, so door moments come once.
fn first_entry<'t, 'a>(trigger: &'t Trigger<'a>) -> Option<&'t TicketInfo<'a>> {
    match trigger {
        Trigger::Scan {
            ticket,
            direction: Direction::Entry,
            first_entry: true,
            ..
        } => Some(ticket),
        _ => None,
    }
}

/// Their tickets that still stand (not refunded) for performances starting after `after`,
/// with that start.
fn bookings_after<'a>(
    patron: &PatronView<'a>,
    after: DateTime<Utc>,
) -> impl Iterator<Item = (TicketView<'a>, DateTime<Utc>)> + 'a {
    patron.tickets().filter_map(move |ticket| {
        if ticket.is_refunded() {
            return None;
        }
        let starts = ticket.performance()?.starts_at();
        (starts > after).then_some((ticket, starts))
    })
}

/// "1 day", "3 days".
fn days(n: u64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}
