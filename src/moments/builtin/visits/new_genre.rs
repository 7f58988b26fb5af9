//! New genre: a patron with a habit trying something different.

use smallvec::SmallVec;

use super::booked::{self, Booking};
use crate::memory::PatronView;
use crate::model::catalog::{Catalog, GenreIdx, PerformanceIdx};
use crate::moments::{
    Action, Moment, MomentKind, MomentRule, Priority, RuleContext, Trigger, TriggerKinds,
};

/// Fires for a patron's first visit in a genre after [`min_visits`] (default 3) or more
/// attendances in other genres: a front-of-house item for that performance and seat, "New
/// to ballet — usually here for drama (5 visits)".
///
/// A genre is new to a patron while they have attended no performance of a production
/// with that genre (genres as in [`Production::genres`](crate::Production::genres)).
/// "Attendances in other genres" counts the distinct performances attended whose
/// production has at least one genre; productions without genres say nothing about taste
/// and do not count. Attendance counts at the first entry scan. Checked:
/// - when a ticket is issued (`Trigger::Ticket`), so the item is in
///   [`Memory::brief`](crate::Memory::brief) before the show;
/// - when a first entry scan (`Trigger::Scan` with `first_entry`) brings the attendances
///   in genres to exactly [`min_visits`]: the bookings the patron already holds in genres
///   new to them now qualify;
/// - for the bookings still ahead when the patron refunds tickets of their own order
///   (`Trigger::Refund`), as one may now be the first in its genre.
///
/// Only the first visit in a genre fires: a booking in a new genre does not when another
/// booking the patron holds in that genre (a ticket not refunded, not scanned in, for a
/// performance that has not started yet) comes before it. A production with several new
/// genres names them all in one moment. Never for a performance already attended, nor
/// for a production without genres.
///
/// [`MomentKind::Recognition`], [`Action::FrontOfHouse`], [`Priority::LOW`]: nice to
/// know, the first to give way under the per-visit cap. One moment per patron and
/// performance ([`OncePer::Key`](crate::OncePer::Key), keyed by the performance), so a
/// refunded booking does not use up the moment for the visit they really make.
///
/// [`min_visits`]: NewGenre::min_visits
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{Event, Memory, NewGenre, Order, Performance, Production, Scan, Signals};
/// use regulars::{Ticket, Venue};
///
/// let at = |month, day| Utc.with_ymd_and_hms(2026, month, day, 19, 30, 0).single().expect("a date");
/// let mut memory = Memory::builder().without_default_rules().rule(NewGenre::new()).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet").genre("Drama"))?;
/// memory.define_production(Production::new("swan", "Swan Lake").genre("Ballet"))?;
///
/// // Three dramas, then a ballet.
/// let ana = || Signals::new().given_name("Ana").email("ana@example.org");
/// for day in 1..=3 {
///     let (performance, ticket) = (format!("hamlet-{day}"), format!("t-{day}"));
///     memory.define_performance(Performance::new(performance.as_str(), "hamlet", "main", at(3, day)))?;
///     let order = Order::new(format!("o-{day}"), ana()).ticket(Ticket::new(ticket.as_str(), performance.as_str()));
///     memory.observe(Event::order(format!("e-{day}"), order).at(at(2, 1)))?;
///     memory.observe(Event::scan(format!("scan-{day}"), Scan::entry(ticket.as_str())).at(at(3, day)))?;
/// }
/// memory.define_performance(Performance::new("swan-1", "swan", "main", at(5, 1)))?;
/// let order = Order::new("o-4", ana()).ticket(Ticket::new("t-4", "swan-1"));
/// let booked = memory.observe(Event::order("e-4", order).at(at(4, 1)))?;
/// assert_eq!(booked.moments()[0].message(), "New to ballet — usually here for drama (3 visits)");
///
/// // Or: only for patrons with five visits behind them.
/// let rule = NewGenre::new().min_visits(5);
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct NewGenre {
    min_visits: u32,
}

impl Default for NewGenre {
    fn default() -> Self {
        Self { min_visits: 3 }
    }
}

impl NewGenre {
    /// The rule's id.
    pub const ID: &'static str = "new-genre";

    /// Fires after three attendances in other genres.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many attendances in other genres make a habit worth noticing (1 to 10 000;
    /// values outside are clamped).
    #[must_use]
    pub fn min_visits(mut self, visits: u32) -> Self {
        self.min_visits = visits.clamp(1, 10_000);
        self
    }

    /// Distinct performances attended in productions with genres, counted up to `limit`.
    fn in_genres(patron: &PatronView<'_>, catalog: &Catalog, limit: u32) -> u32 {
        let mut count = 0;
        for &performance in patron.record.attendance.performances() {
            if has_genres(catalog, performance) {
                count += 1;
                if count >= limit {
                    break;
                }
            }
        }
        count
    }
}

/// The genres of the production of the performance at this catalog position, as catalog
/// positions: rules compare genres without hashing their names.
fn genres_at(catalog: &Catalog, performance: PerformanceIdx) -> &[GenreIdx] {
    catalog
        .performance_entry(performance)
        .map_or(&[], |entry| catalog.genres_of(entry.production))
}

fn has_genres(catalog: &Catalog, performance: PerformanceIdx) -> bool {
    !genres_at(catalog, performance).is_empty()
}

/// The genres of a performance's production the patron never attended.
fn new_genres(
    patron: &PatronView<'_>,
    catalog: &Catalog,
    performance: PerformanceIdx,
) -> SmallVec<[GenreIdx; 4]> {
    let attendance = &patron.record.attendance;
    genres_at(catalog, performance)
        .iter()
        .copied()
        .filter(|g| attendance.in_genre(*g) == 0)
        .collect()
}

/// The names of these genres, in the same order.
fn names<'a>(catalog: &'a Catalog, genres: &[GenreIdx]) -> SmallVec<[&'a str; 4]> {
    genres
        .iter()
        .filter_map(|&g| catalog.genre_name(g))
        .collect()
}

impl NewGenre {
    /// The moment for a booking in `genres` (new to the patron, and to no booking before).
    fn moment(&self, patron: &PatronView<'_>, booking: Booking<'_>, genres: &[&str]) -> Moment {
        let new = genres.join(" and ");
        let usual = patron.genres();
        let message = match usual.first() {
            Some((genre, visits)) => {
                format!(
                    "New to {new} — usually here for {genre} ({})",
                    booked::visits(*visits)
                )
            }
            None => format!("New to {new}"),
        };
        let habits = usual
            .iter()
            .map(|(genre, visits)| format!("{genre} {visits}"))
            .collect::<Vec<_>>()
            .join(", ");
        booking
            .moment(MomentKind::Recognition, Action::FrontOfHouse, message)
            .with_priority(Priority::LOW)
            .explain(format!(
                "never attended {new}; at least {} performance(s) attended in other genres \
                 (attendances per genre: {habits})",
                self.min_visits
            ))
    }

    /// The moment for `booking` if it is their first visit in a genre new to them, with
    /// enough attendances elsewhere.
    fn decide(&self, ctx: &RuleContext<'_>, booking: Booking<'_>) -> Option<Moment> {
        let patron = ctx.patron();
        let catalog = ctx.catalog();
        let this = booking.performance;
        if booking.attended_by(patron) {
            return None;
        }
        let mut new = new_genres(patron, catalog, booking.performance_idx());
        if new.is_empty() || Self::in_genres(patron, catalog, self.min_visits) < self.min_visits {
            return None;
        }
        // A booking in the genre that comes first is their first visit in it.
        // Only the bookings before this one are read, not every one held.
        for &earlier in booked::ahead_of(patron, this, ctx.now()) {
            let genres = genres_at(catalog, earlier);
            new.retain(|g| !genres.contains(g));
            if new.is_empty() {
                return None;
            }
        }
        Some(self.moment(patron, booking, &names(catalog, &new)))
    }
}

impl MomentRule for NewGenre {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICKET | TriggerKinds::SCAN | TriggerKinds::REFUND
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let patron = ctx.patron();
        let catalog = ctx.catalog();
        if patron.stats().performances_attended() < self.min_visits {
            return;
        }
        match ctx.trigger() {
            Trigger::Ticket(ticket) => out.extend(self.decide(ctx, Booking::of(ticket))),
            // A refunded booking may leave a later one as the first in its genre.
            Trigger::Refund { .. } => {
                out.extend(booked::upcoming(patron, ctx.now()).filter_map(|b| self.decide(ctx, b)));
            }
            Trigger::Scan {
                ticket,
                first_entry: true,
                ..
            } => {
                // Only the scan that reaches the count: before it nothing qualified, after
                // it every booking was checked when issued.
                if !has_genres(catalog, ticket.performance_idx)
                    || Self::in_genres(patron, catalog, self.min_visits + 1) != self.min_visits
                {
                    return;
                }
                let mut claimed: SmallVec<[GenreIdx; 4]> = SmallVec::new();
                for booking in booked::in_order(patron, ctx.now()) {
                    let new = new_genres(patron, catalog, booking.performance_idx());
                    let fresh: SmallVec<[GenreIdx; 4]> = new
                        .iter()
                        .filter(|g| !claimed.contains(g))
                        .copied()
                        .collect();
                    claimed.extend(new);
                    if !fresh.is_empty() {
                        out.push(self.moment(patron, booking, &names(catalog, &fresh)));
                    }
                }
            }
            _ => {}
        }
    }
}
