//! How the visit rules number a booking: memory keeps each patron's bookings ahead in
//! date order as tickets are issued, scanned and refunded, performances rescheduled, and
//! patrons merged and split, and derives them again when a snapshot is loaded or a journal
//! replayed. If that running order drifted from the tickets a patron really holds, the
//! milestone would number a booking wrongly: these tests number every booking by hand
//! from the public view and compare.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use regulars::normalize::Country;
use regulars::{
    Event, ManualClock, Memory, MemoryBuilder, Milestone, Observation, Order, PatronId,
    Performance, Production, Refund, Scan, Signals, Ticket, Venue,
};

/// Performances `show-0` … `show-{SHOWS - 1}`, a day apart, in two productions.
const SHOWS: usize = 24;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 19, 30, 0)
        .single()
        .expect("a valid date")
}

fn show(p: usize) -> String {
    format!("show-{p}")
}

fn show_starts(p: usize) -> DateTime<Utc> {
    start() + TimeDelta::days(p as i64)
}

fn person(i: usize) -> Signals {
    Signals::new()
        .given_name(format!("Given{i}"))
        .family_name(format!("Family{i}"))
        .email(format!("person.{i}@example.org"))
}

/// Only the milestone, celebrating every visit count, so every booking it numbers says
/// its number.
fn rules() -> MemoryBuilder {
    Memory::builder()
        .without_default_rules()
        .rule(Milestone::new().thresholds(1..=1_000))
        .default_country(Country::GB)
}

fn define_catalog(memory: &mut Memory) {
    memory
        .define_venue(Venue::new("main", "Main House"))
        .expect("venue");
    for production in ["drama", "opera"] {
        memory
            .define_production(Production::new(production, production))
            .expect("production");
    }
    for p in 0..SHOWS {
        define_show(memory, p, show_starts(p));
    }
}

fn define_show(memory: &mut Memory, p: usize, at: DateTime<Utc>) {
    let production = if p.is_multiple_of(2) {
        "drama"
    } else {
        "opera"
    };
    memory
        .define_performance(Performance::new(show(p), production, "main", at))
        .expect("performance");
}

fn memory() -> Memory {
    let mut memory = rules()
        .clock(ManualClock::new(start() - TimeDelta::days(30)))
        .build()
        .expect("valid configuration");
    define_catalog(&mut memory);
    memory
}

/// The visit number the milestone gave the booking of `performance` (fired or silenced
/// as fired before), if it numbered one.
fn numbered(seen: &Observation, performance: &str) -> Option<u64> {
    let moments = seen
        .moments()
        .iter()
        .chain(seen.silenced().iter().map(|s| s.moment()));
    let mut numbers = moments
        .filter(|m| m.rule() == Milestone::ID)
        .filter(|m| m.performance().is_some_and(|p| p.as_str() == performance))
        .map(visit_of);
    let number = numbers.next();
    assert!(numbers.next().is_none(), "one note per booking");
    number
}

/// The visit a milestone note is for: its message starts with it ("12th visit …").
fn visit_of(note: &regulars::Moment) -> u64 {
    let digits: String = note
        .message()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("the note starts with the visit")
}

/// The visit a booking of `performance` is for, worked out by hand from what the patron
/// attended and the tickets they hold unused: visits made, plus the distinct performances
/// booked that start after `now` and before it, plus one. `None` if they attended it.
fn by_hand(
    memory: &Memory,
    patron: PatronId,
    performance: &str,
    now: DateTime<Utc>,
) -> Option<u64> {
    let view = memory.patron(patron).expect("known patron");
    if view.attended(performance) {
        return None;
    }
    let this = memory.catalog().performance(performance).expect("defined");
    let key = |p: &Performance| (p.starts_at(), p.id().as_str().to_owned());
    let mut before: Vec<String> = view
        .unused_tickets()
        .filter_map(|t| t.performance())
        .filter(|p| p.starts_at() > now && !view.attended(p.id().as_str()) && key(p) < key(this))
        .map(|p| p.id().as_str().to_owned())
        .collect();
    before.sort_unstable();
    before.dedup();
    Some(u64::from(view.stats().performances_attended()) + 1 + before.len() as u64)
}

/// Books `performance` for `who` at `now` (one ticket), checks the milestone numbered it
/// as counted by hand, and gives the patron and the number.
fn book_and_check(
    memory: &mut Memory,
    who: usize,
    performance: &str,
    ticket: &str,
    now: DateTime<Utc>,
) -> (PatronId, Option<u64>) {
    let order = Order::new(format!("o-{ticket}"), person(who))
        .ticket(Ticket::new(ticket, performance).seat_label("A1"));
    let seen = memory
        .observe(Event::order(format!("e-{ticket}"), order).at(now))
        .expect("order");
    let expected = by_hand(memory, seen.patron(), performance, now);
    let mut number = numbered(&seen, performance);
    // A note for this visit at this performance fired before (another ticket for it is
    // held) fires once: the note standing is the number.
    if number.is_none() && expected.is_some() {
        number = memory
            .moments_of(seen.patron())
            .filter(|m| m.rule() == Milestone::ID)
            .filter(|m| m.performance().is_some_and(|p| p.as_str() == performance))
            .map(|m| visit_of(&m))
            .find(|&n| Some(n) == expected);
    }
    assert_eq!(
        number, expected,
        "booking {ticket} of {performance} by person {who} at {now}"
    );
    (seen.patron(), number)
}

fn scan(memory: &mut Memory, id: &str, ticket: &str, at: DateTime<Utc>) {
    memory
        .observe(Event::scan(id, Scan::entry(ticket)).at(at))
        .expect("scan");
}

fn refund(memory: &mut Memory, id: &str, order: &str, tickets: &[&str], at: DateTime<Utc>) {
    memory
        .observe(Event::refund(id, Refund::tickets(order, tickets.iter().copied())).at(at))
        .expect("refund");
}

/// The visit number the milestone gave a new booking `ticket` of `performance`.
fn order_numbered(
    memory: &mut Memory,
    who: usize,
    performance: &str,
    ticket: &str,
    at: DateTime<Utc>,
) -> Option<u64> {
    let order = Order::new(format!("o-{ticket}"), person(who))
        .ticket(Ticket::new(ticket, performance).seat_label("A1"));
    let seen = memory
        .observe(Event::order(format!("e-{ticket}"), order).at(at))
        .expect("order");
    numbered(&seen, performance)
}

/// Two tickets for one performance are one visit; a refund of one of them leaves the
/// visit booked, of both takes it off; a visit attended early (scanned in before it
/// starts) is a visit made, not a booking, even with its second ticket unused.
#[test]
fn bookings_count_once_per_performance_until_refunded_or_attended() {
    let mut memory = memory();
    let now = start() - TimeDelta::days(10);
    // Nine visits made.
    for p in 0..9 {
        let ticket = format!("past-{p}");
        let order = Order::new(format!("o-{ticket}"), person(0))
            .ticket(Ticket::new(ticket.as_str(), show(p).as_str()));
        memory
            .observe(Event::order(format!("e-{ticket}"), order).at(now))
            .expect("order");
        scan(&mut memory, &format!("s-{ticket}"), &ticket, show_starts(p));
    }
    let now = show_starts(9) - TimeDelta::days(1);
    // Two tickets for show-10 in one order: one booking, the 10th visit.
    let order = Order::new("o-pair", person(0))
        .ticket(Ticket::new("pair-1", "show-10"))
        .ticket(Ticket::new("pair-2", "show-10"));
    memory
        .observe(Event::order("e-pair", order).at(now))
        .expect("order");
    // show-12 comes after show-10: the 11th, not the 12th.
    assert_eq!(
        order_numbered(&mut memory, 0, "show-12", "t-12", now),
        Some(11)
    );
    // show-11 comes between them: the 11th as well (a note decided ahead stands).
    assert_eq!(
        order_numbered(&mut memory, 0, "show-11", "t-11", now),
        Some(11)
    );
    // One of the pair refunded: show-10 is still booked, so show-13 is the 13th.
    refund(&mut memory, "r-1", "o-pair", &["pair-1"], now);
    assert_eq!(
        order_numbered(&mut memory, 0, "show-13", "t-13", now),
        Some(13)
    );
    // Both refunded: show-10 is no booking, so show-14 is the 13th.
    refund(&mut memory, "r-2", "o-pair", &["pair-2"], now);
    assert_eq!(
        order_numbered(&mut memory, 0, "show-14", "t-14", now),
        Some(13)
    );
    // Two tickets for show-9; one scanned in before the curtain: a visit made (the 10th),
    // its unused twin no booking. show-15 follows show-11 … show-14: the 15th.
    let order = Order::new("o-twin", person(0))
        .ticket(Ticket::new("twin-1", "show-9"))
        .ticket(Ticket::new("twin-2", "show-9"));
    memory
        .observe(Event::order("e-twin", order).at(now))
        .expect("order");
    let early = show_starts(9) - TimeDelta::minutes(30);
    scan(&mut memory, "s-twin", "twin-1", early);
    assert_eq!(
        order_numbered(&mut memory, 0, "show-15", "t-15", early),
        Some(15)
    );
    // A booking whose performance has started without a scan is a no-show: show-11 is
    // under way, so show-16 follows show-12 … show-15 only.
    let late = show_starts(11) + TimeDelta::minutes(5);
    assert_eq!(
        order_numbered(&mut memory, 0, "show-16", "t-16", late),
        Some(15)
    );
}

/// A performance moved to a later date moves its booking: what comes after it is
/// numbered one earlier, what it now follows one later.
#[test]
fn a_rescheduled_performance_is_numbered_at_its_new_date() {
    let mut memory = memory();
    let now = start() - TimeDelta::days(10);
    assert_eq!(
        order_numbered(&mut memory, 1, "show-2", "t-2", now),
        Some(1)
    );
    assert_eq!(
        order_numbered(&mut memory, 1, "show-4", "t-4", now),
        Some(2)
    );
    // show-2 moves after show-6.
    define_show(&mut memory, 2, show_starts(6) + TimeDelta::hours(1));
    assert_eq!(
        order_numbered(&mut memory, 1, "show-5", "t-5", now),
        Some(2)
    );
    assert_eq!(
        order_numbered(&mut memory, 1, "show-7", "t-7", now),
        Some(4)
    );
    // And back before everything: show-1 now follows it.
    define_show(&mut memory, 2, show_starts(0));
    assert_eq!(
        order_numbered(&mut memory, 1, "show-1", "t-1", now),
        Some(2)
    );
}

/// Deterministic pseudo-random numbers (a linear congruential generator).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A long run of bookings (some of one performance twice, some held for someone else),
/// entry scans (some before the curtain), refunds, reschedules, merges, splits and
/// snapshot restores, with time moving on: every booking is numbered as counted by hand.
#[test]
fn every_booking_is_numbered_as_counted_by_hand() {
    let clock = ManualClock::new(start() - TimeDelta::days(30));
    let mut memory = rules().clock(clock.clone()).build().expect("valid");
    define_catalog(&mut memory);
    let mut rng = Lcg(17);
    let mut now = start() - TimeDelta::days(3);
    let mut state = Run::default();
    let mut checked = 0;
    for step in 0..1_500 {
        now += TimeDelta::minutes(rng.below(90) as i64);
        clock.set(now);
        if rng.below(20) == 17 {
            memory = rules()
                .clock(clock.clone())
                .build_from_snapshot(&memory.snapshot())
                .expect("restores");
        } else if state.step(&mut memory, &mut rng, step, now) {
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked} bookings numbered");
}

/// What a run has issued, for scans, refunds, merges and splits to pick from.
#[derive(Default)]
struct Run {
    /// (ticket, order) of every ticket issued.
    tickets: Vec<(String, String)>,
    patrons: Vec<PatronId>,
}

impl Run {
    /// One random step at `now`; whether it was a booking checked by hand.
    fn step(
        &mut self,
        memory: &mut Memory,
        rng: &mut Lcg,
        step: usize,
        now: DateTime<Utc>,
    ) -> bool {
        let who = rng.below(8);
        match rng.below(17) {
            0..=7 => {
                let p = rng.below(SHOWS);
                let ticket = format!("t-{step}");
                let (patron, _) = book_and_check(memory, who, &show(p), &ticket, now);
                self.patrons.push(patron);
                self.tickets.push((ticket.clone(), format!("o-{ticket}")));
                return true;
            }
            8 => {
                // Two tickets for one performance, the second held by someone else.
                let p = rng.below(SHOWS);
                let order = format!("o-pair-{step}");
                let (a, b) = (format!("pa-{step}"), format!("pb-{step}"));
                let pair = Order::new(order.as_str(), person(who))
                    .ticket(Ticket::new(a.as_str(), show(p).as_str()))
                    .ticket(
                        Ticket::new(b.as_str(), show(p).as_str()).holder(person((who + 1) % 8)),
                    );
                let seen = memory
                    .observe(Event::order(format!("e-{order}"), pair).at(now))
                    .expect("order");
                self.patrons.push(seen.patron());
                self.tickets.push((a, order.clone()));
                self.tickets.push((b, order));
            }
            9..=11 if !self.tickets.is_empty() => {
                let (ticket, _) = &self.tickets[rng.below(self.tickets.len())];
                // A refunded ticket is refused at the door; that changes nothing.
                let _ = memory.observe(
                    Event::scan(format!("s-{step}"), Scan::entry(ticket.as_str())).at(now),
                );
            }
            12 if !self.tickets.is_empty() => {
                let (ticket, order) = &self.tickets[rng.below(self.tickets.len())];
                refund(memory, &format!("r-{step}"), order, &[ticket.as_str()], now);
            }
            13 => {
                // Somewhere in the season, perhaps before or after a neighbour.
                let p = rng.below(SHOWS);
                let at = start() + TimeDelta::hours(rng.below(SHOWS * 24) as i64);
                define_show(memory, p, at);
            }
            14 if self.patrons.len() >= 2 => {
                let a = self.patrons[rng.below(self.patrons.len())];
                let b = self.patrons[rng.below(self.patrons.len())];
                // The same person twice, or one merged away already, is refused.
                let _ = memory.merge(a, b);
            }
            15 if !self.patrons.is_empty() => {
                // Most patrons were never merged: that is refused and changes nothing.
                let _ = memory.split(self.patrons[rng.below(self.patrons.len())]);
            }
            _ => {}
        }
        false
    }
}

/// A memory replayed from its journal numbers bookings as the memory that wrote it did:
/// the bookings ahead are derived again on opening.
#[test]
fn a_replayed_journal_numbers_bookings_as_before() {
    let dir = std::env::temp_dir().join(format!("regulars-bookings-ahead-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = ManualClock::new(start() - TimeDelta::days(30));
    let mut twin = rules().clock(clock.clone()).build().expect("valid");
    define_catalog(&mut twin);
    let now = {
        let mut journaled = rules().clock(clock.clone()).open(&dir).expect("opens");
        define_catalog(&mut journaled);
        let (mut a, mut b) = (Run::default(), Run::default());
        let (mut rng_a, mut rng_b) = (Lcg(5), Lcg(5));
        let mut now = start() - TimeDelta::days(3);
        for step in 0..400 {
            now += TimeDelta::minutes(50);
            clock.set(now);
            a.step(&mut journaled, &mut rng_a, step, now);
            b.step(&mut twin, &mut rng_b, step, now);
        }
        journaled.sync().expect("sync");
        now
    };
    let mut replayed = rules().clock(clock.clone()).open(&dir).expect("reopens");
    for who in 0..8 {
        for p in 0..SHOWS {
            let ticket = format!("probe-{who}-{p}");
            let (_, expected) = book_and_check(&mut twin, who, &show(p), &ticket, now);
            let (_, number) = book_and_check(&mut replayed, who, &show(p), &ticket, now);
            assert_eq!(number, expected, "{ticket}");
        }
    }
    drop(replayed);
    let _ = std::fs::remove_dir_all(&dir);
}
