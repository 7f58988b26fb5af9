//! The scale workload: a venue group's seven seasons (three stages, a production every
//! four weeks on each, a performance every evening) and, around every order record of the
//! population generator (`population.rs`), the events a ticketing system would send:
//! the order with its tickets, a door scan for most tickets, now and then a bar purchase
//! at the performance or a donation. Returning patrons come back as the population writes
//! them: nicknames, typos, new e-mails, moves.
//!
//! People are generated in batches (each its own population, from a seed derived from the
//! batch number), so that a million patrons never need the whole population in memory at
//! once. Ids carry the batch number, so batches never collide. Everything is
//! deterministic: the same seed and sizes give the same events in the same order.
//!
//! Include it next to the population, by path, allowing dead code:
//! `#[path = "support/workload.rs"] #[allow(dead_code)] mod workload;` (it refers to
//! `crate::population`).

use chrono::{DateTime, TimeDelta, Utc};
use regulars::{
    Currency, Donation, Event, LineItem, Memory, Money, Order, Performance, Production, Purchase,
    Scan, Seat, Signals, Ticket, Venue,
};

use crate::population::{Population, Record, Rng, window_end, window_start};

/// The stages: id, name, rows of seats, seats per row, sections by row.
const VENUES: [(&str, &str, u32, u32); 3] = [
    ("main", "Main House", 26, 40),
    ("studio", "Studio", 10, 20),
    ("hall", "Concert Hall", 40, 50),
];
/// Share of orders per stage (percent).
const VENUE_SHARE: [(usize, u32); 3] = [(0, 55), (1, 15), (2, 30)];
const GENRES: [&str; 8] = [
    "drama",
    "comedy",
    "musical",
    "opera",
    "dance",
    "concert",
    "family",
    "new writing",
];
/// How long one production runs on a stage.
const RUN_DAYS: i64 = 28;
/// How far ahead of a performance people book, at most.
const BOOKING_HORIZON_DAYS: i64 = 60;
/// Tickets that are scanned at the door (the rest are no-shows).
pub const SCANNED: f64 = 0.9;
/// Attendances with a bar purchase, and orders followed by a donation.
pub const BAR_PURCHASE: f64 = 0.15;
pub const DONATION: f64 = 0.02;
/// History entries one ticket leaves on average: the ticket, its scan, its bar purchase.
const ENTRIES_PER_TICKET: f64 = 1.0 + SCANNED + SCANNED * BAR_PURCHASE;
/// Patrons memory ends with per person generated (provisional patrons under review,
/// people it could not link), as measured on this workload.
const PATRONS_PER_PERSON: f64 = 1.12;
/// Orders carry at most this many tickets.
const MAX_TICKETS: usize = 8;

/// The days the catalog covers: the order window and the booking horizon after it.
pub fn catalog_days() -> i64 {
    (window_end() - window_start()).num_days() + BOOKING_HORIZON_DAYS + 1
}

fn performance_id(venue: usize, day: i64) -> String {
    format!("{}-{day}", VENUES[venue].0)
}

fn production_id(venue: usize, run: i64) -> String {
    format!("{}-run-{run}", VENUES[venue].0)
}

fn starts_at(day: i64) -> DateTime<Utc> {
    window_start() + TimeDelta::days(day) + TimeDelta::minutes(19 * 60 + 30)
}

/// Defines the catalog: three stages, a production per stage every four weeks, one
/// performance per stage every evening. Returns the number of performances.
pub fn define_catalog(memory: &mut Memory) -> regulars::Result<usize> {
    let days = catalog_days();
    let mut performances = 0;
    for (v, (id, name, _, _)) in VENUES.iter().enumerate() {
        memory.define_venue(Venue::new(*id, *name))?;
        for run in 0..=(days / RUN_DAYS) {
            let genre = GENRES[(run as usize * 3 + v) % GENRES.len()];
            let title = format!("{name} production {run}");
            memory.define_production(Production::new(production_id(v, run), title).genre(genre))?;
        }
        for day in 0..days {
            memory.define_performance(Performance::new(
                performance_id(v, day),
                production_id(v, day / RUN_DAYS),
                *id,
                starts_at(day),
            ))?;
            performances += 1;
        }
    }
    Ok(performances)
}

/// One event of a batch, small until it is built: which record it comes from and what it is.
#[derive(Clone, Copy, Debug)]
pub struct Planned {
    pub at: DateTime<Utc>,
    /// The record (order) it belongs to, in the batch.
    pub record: u32,
    pub kind: PlannedKind,
}

/// What a planned event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannedKind {
    /// The order, with its tickets.
    Order,
    /// The entry scan of the order's ticket number `n`.
    Scan(u8),
    /// A bar purchase at the performance of ticket `n`.
    Purchase(u8),
    /// A donation after the order.
    Donation,
}

impl PlannedKind {
    /// A short name, for per-kind figures.
    pub fn name(self) -> &'static str {
        match self {
            PlannedKind::Order => "order",
            PlannedKind::Scan(_) => "scan",
            PlannedKind::Purchase(_) => "purchase",
            PlannedKind::Donation => "donation",
        }
    }
}

/// What one order record turns into: its tickets' stage, day and seats.
#[derive(Clone, Debug)]
pub struct Booking {
    pub venue: usize,
    pub day: i64,
    pub tickets: u8,
    pub first_seat: u32,
    pub price: i64,
}

/// One batch of the workload: a population and the events around its orders, in time
/// order.
#[derive(Debug)]
pub struct Batch {
    pub number: usize,
    pub population: Population,
    pub bookings: Vec<Booking>,
    pub events: Vec<Planned>,
    /// Records kept out of the stream (not observed), to ask `recognize` about later.
    pub held_out: Vec<bool>,
}

/// `persons` people (batch `number` of the workload with `seed`), with events for about
/// `entries_per_person` history entries each; every `hold_out_every`-th record (0: none)
/// is kept out of the stream.
pub fn batch(
    number: usize,
    persons: usize,
    seed: u64,
    entries_per_person: f64,
    hold_out_every: usize,
) -> Batch {
    let batch_seed = seed ^ (number as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let population = Population::generate(persons, batch_seed);
    let mut rng = Rng::new(batch_seed ^ 0x5CA1_E000_0000_0001);
    let held_out: Vec<bool> = population
        .records
        .iter()
        .map(|_| hold_out_every > 0 && rng.below(hold_out_every) == 0)
        .collect();
    let observed = held_out.iter().filter(|&&held| !held).count().max(1);
    // Each order leaves one entry itself, a donation now and then, and the rest come from
    // its tickets: choose the mean ticket count that gives the entries asked for (per
    // patron: persons become a few percent more patrons).
    let per_order = entries_per_person * PATRONS_PER_PERSON * persons as f64 / observed as f64;
    let tickets_mean = ((per_order - 1.0 - DONATION) / ENTRIES_PER_TICKET).max(0.0);
    let mut bookings = Vec::with_capacity(population.records.len());
    let mut events = Vec::with_capacity(population.records.len() * 4);
    let days = catalog_days();
    for (i, record) in population.records.iter().enumerate() {
        let whole = tickets_mean as usize;
        let extra = usize::from(rng.chance(tickets_mean - whole as f64));
        let tickets = (whole + extra).min(MAX_TICKETS) as u8;
        let venue = rng.weighted(&VENUE_SHARE);
        let today = (record.ts - window_start()).num_days();
        let day = (today + 1 + rng.below(BOOKING_HORIZON_DAYS as usize) as i64).min(days - 1);
        let (_, _, rows, per_row) = VENUES[venue];
        let first_seat = rng.below((rows * per_row) as usize) as u32;
        let price = 1500 + 500 * rng.below(12) as i64;
        bookings.push(Booking {
            venue,
            day,
            tickets,
            first_seat,
            price,
        });
        if held_out[i] {
            continue;
        }
        let record_no = i as u32;
        events.push(Planned {
            at: record.ts,
            record: record_no,
            kind: PlannedKind::Order,
        });
        let doors = starts_at(day) - TimeDelta::minutes(45);
        for n in 0..tickets {
            if rng.chance(SCANNED) {
                let scanned = doors + TimeDelta::seconds(rng.below(50 * 60) as i64);
                events.push(Planned {
                    at: scanned,
                    record: record_no,
                    kind: PlannedKind::Scan(n),
                });
                if rng.chance(BAR_PURCHASE) {
                    events.push(Planned {
                        at: starts_at(day) + TimeDelta::minutes(70 + rng.below(20) as i64),
                        record: record_no,
                        kind: PlannedKind::Purchase(n),
                    });
                }
            }
        }
        if rng.chance(DONATION) {
            events.push(Planned {
                at: record.ts + TimeDelta::minutes(5),
                record: record_no,
                kind: PlannedKind::Donation,
            });
        }
    }
    // Time order; an order's own events keep their order at the same second.
    events.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then(a.record.cmp(&b.record))
            .then(rank(a.kind).cmp(&rank(b.kind)))
    });
    Batch {
        number,
        population,
        bookings,
        events,
        held_out,
    }
}

fn rank(kind: PlannedKind) -> u8 {
    match kind {
        PlannedKind::Order => 0,
        PlannedKind::Donation => 1,
        PlannedKind::Scan(_) => 2,
        PlannedKind::Purchase(_) => 3,
    }
}

impl Batch {
    fn key(&self, record: u32) -> String {
        format!(
            "b{}-{}",
            self.number, self.population.records[record as usize].record_id
        )
    }

    fn ticket_id(&self, record: u32, n: u8) -> String {
        format!("t-{}-{n}", self.key(record))
    }

    /// The vendor event a planned event stands for.
    pub fn event(&self, planned: &Planned) -> Event {
        let record = &self.population.records[planned.record as usize];
        let booking = &self.bookings[planned.record as usize];
        let key = self.key(planned.record);
        let event = match planned.kind {
            PlannedKind::Order => {
                let mut order = Order::new(format!("o-{key}"), record.signals());
                let (_, _, _, per_row) = VENUES[booking.venue];
                for n in 0..booking.tickets {
                    let seat = booking.first_seat + u32::from(n);
                    let row = (seat / per_row) as u8;
                    let label = format!("{}{}", char::from(b'A' + row % 26), seat % per_row + 1);
                    let section = if row < 12 { "Stalls" } else { "Circle" };
                    order = order.ticket(
                        Ticket::new(
                            self.ticket_id(planned.record, n),
                            performance_id(booking.venue, booking.day),
                        )
                        .seat(Seat::new(label).in_section(section))
                        .price(Money::new(booking.price, Currency::GBP)),
                    );
                }
                Event::order(key, order)
            }
            PlannedKind::Scan(n) => Event::scan(
                format!("s-{key}-{n}"),
                Scan::entry(self.ticket_id(planned.record, n)),
            ),
            PlannedKind::Purchase(n) => {
                // At the bar people pay by card when they have one, else give their name.
                let customer = match &record.card_token {
                    Some(token) => Signals::new().card_token(token.clone()),
                    None => record.signals(),
                };
                let items = 1 + (planned.record as usize + usize::from(n)) % 3;
                let purchase = Purchase::new(customer)
                    .at_performance(performance_id(booking.venue, booking.day))
                    .item(LineItem::new(
                        "interval-drink",
                        items as u32,
                        Money::new(650, Currency::GBP),
                    ));
                Event::purchase(format!("p-{key}-{n}"), purchase)
            }
            PlannedKind::Donation => Event::donation(
                format!("d-{key}"),
                Donation::new(
                    record.signals(),
                    Money::new(1000 * (1 + booking.price / 2500), Currency::GBP),
                )
                .fund("annual appeal"),
            ),
        };
        event.at(planned.at)
    }

    /// The records kept out of the stream, with whether the same person placed an
    /// observed order before it (a returning patron) or not (someone new).
    pub fn held_out_records(&self) -> impl Iterator<Item = (&Record, bool)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (record, &held) in self.population.records.iter().zip(&self.held_out) {
            if held {
                out.push((record, seen.contains(&record.person_id)));
            } else {
                seen.insert(record.person_id);
            }
        }
        out.into_iter()
    }

    /// Observed records with an e-mail: what an exact hit looks like (the e-mail and name
    /// exactly as memory has them).
    pub fn exact_queries(&self) -> impl Iterator<Item = Signals> + '_ {
        self.population
            .records
            .iter()
            .zip(&self.held_out)
            .filter(|(r, held)| !**held && r.email.is_some())
            .map(|(r, _)| r.exact_signals())
    }
}

/// The workload's events after the first `next_batch` batches, one at a time, each
/// batch of `persons` people generated when the last one is used up (so a benchmark
/// generates them outside its timed part).
pub struct EventStream {
    queue: std::collections::VecDeque<Event>,
    next_batch: usize,
    persons: usize,
    seed: u64,
}

impl EventStream {
    /// Starts at batch `next_batch` of the workload of `seed`, `persons` people a batch.
    pub fn new(next_batch: usize, persons: usize, seed: u64) -> Self {
        Self {
            queue: std::collections::VecDeque::new(),
            next_batch,
            persons,
            seed,
        }
    }

    /// The next event.
    pub fn next_event(&mut self) -> Event {
        if self.queue.is_empty() {
            let batch = batch(self.next_batch, self.persons, self.seed, 10.0, 0);
            self.next_batch += 1;
            self.queue = batch.events.iter().map(|p| batch.event(p)).collect();
        }
        self.queue.pop_front().expect("a batch has events")
    }
}
