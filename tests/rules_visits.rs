//! The visit rules: SecondVisit, Milestone, WelcomeBack, Regular, FirstVisitAnniversary,
//! NewGenre and BroughtANewcomer. For each: when it fires and what its moment says and
//! where it sits, when it does not at its boundaries, consent, and replays firing nothing.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{ana, ben, moments_of, observe, utc};
use regulars::normalize::Country;
use regulars::{
    Action, BroughtANewcomer, Channel, Consent, Event, FirstVisit, FirstVisitAnniversary,
    ManualClock, Memory, MemoryBuilder, Milestone, Moment, MomentKind, MomentRule, NewGenre,
    Observation, Order, PatronId, Performance, Priority, Production, ProfileChange, Purpose,
    Refund, Regular, Scan, Seat, SecondVisit, Signals, Ticket, Venue, WelcomeBack,
};

// ---------------------------------------------------------------- the house

const VENUE: &str = "main";

/// Productions: two dramas, a show without genres, two ballets.
fn productions() -> [Production; 5] {
    [
        Production::new("hamlet", "Hamlet")
            .genre("Drama")
            .genre("Shakespeare"),
        Production::new("lear", "King Lear")
            .genre("Drama")
            .genre("Shakespeare"),
        Production::new("gala", "Gala Night"),
        Production::new("nutcracker", "The Nutcracker")
            .genre("Ballet")
            .genre("Family"),
        Production::new("swan", "Swan Lake").genre("Ballet"),
    ]
}

/// A memory with a venue, the productions and performances defined as a test needs them,
/// and fresh event, order and ticket ids.
struct House {
    memory: Memory,
    seq: u32,
}

/// An order as the house placed it.
struct Booked {
    order: String,
    ticket: String,
    event: Event,
    seen: Observation,
}

impl House {
    fn with_rules(builder: MemoryBuilder) -> Self {
        let clock = ManualClock::new(utc(2024, 1, 1, 9, 0));
        let mut memory = builder
            .default_country(Country::GB)
            .clock(clock)
            .build()
            .expect("valid configuration");
        memory
            .define_venue(Venue::new(VENUE, "Main House"))
            .expect("venue");
        for production in productions() {
            memory.define_production(production).expect("production");
        }
        Self { memory, seq: 0 }
    }

    /// Only this rule.
    fn new(rule: impl MomentRule + 'static) -> Self {
        Self::with_rules(Memory::builder().without_default_rules().rule(rule))
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{}", self.seq)
    }

    /// Defines a performance.
    fn show(&mut self, id: &str, production: &str, starts: DateTime<Utc>) {
        self.memory
            .define_performance(Performance::new(id, production, VENUE, starts))
            .expect("performance");
    }

    /// An order by `buyer` for tickets to `performances` (seat labels optional, holders
    /// optional), placed at `at`; returns its order id, ticket ids and event.
    fn order(
        &mut self,
        buyer: Signals,
        tickets: &[(&str, Option<&str>, Option<Signals>)],
        at: DateTime<Utc>,
    ) -> (String, Vec<String>, Event) {
        let order_id = self.fresh("o");
        let mut order = Order::new(order_id.as_str(), buyer);
        let mut ids = Vec::new();
        for (performance, seat, holder) in tickets {
            let id = self.fresh("t");
            let mut ticket = Ticket::new(id.as_str(), *performance);
            if let Some(seat) = seat {
                ticket = ticket.seat_label(*seat);
            }
            if let Some(holder) = holder {
                ticket = ticket.holder(holder.clone());
            }
            order = order.ticket(ticket);
            ids.push(id);
        }
        let event = Event::order(self.fresh("e"), order).at(at);
        (order_id, ids, event)
    }

    /// `who` books one ticket for themselves at `at`.
    fn book(
        &mut self,
        who: Signals,
        performance: &str,
        seat: Option<&str>,
        at: DateTime<Utc>,
    ) -> Booked {
        let (order, mut tickets, event) = self.order(who, &[(performance, seat, None)], at);
        let seen = observe(&mut self.memory, event.clone());
        Booked {
            order,
            ticket: tickets.remove(0),
            event,
            seen,
        }
    }

    /// An entry scan of `ticket` at `at`.
    fn scan(&mut self, ticket: &str, at: DateTime<Utc>) -> Observation {
        let event = Event::scan(self.fresh("e"), Scan::entry(ticket)).at(at);
        observe(&mut self.memory, event)
    }

    /// Scans `ticket` in twenty minutes before its performance.
    fn arrive(&mut self, ticket: &str) -> Observation {
        let starts = self.starts(ticket);
        self.scan(ticket, starts - TimeDelta::minutes(20))
    }

    fn starts(&self, ticket: &str) -> DateTime<Utc> {
        self.memory
            .ticket(ticket)
            .and_then(|t| t.performance())
            .map(Performance::starts_at)
            .expect("a known ticket")
    }

    /// Refunds a whole order at `at`.
    fn refund(&mut self, order: &str, at: DateTime<Utc>) -> Observation {
        let event = Event::refund(self.fresh("e"), Refund::whole_order(order)).at(at);
        observe(&mut self.memory, event)
    }

    /// `who` comes to a new performance `id` of `production` at `starts`: booked a week
    /// before, scanned in. Returns the ticket.
    fn visit(&mut self, who: Signals, id: &str, production: &str, starts: DateTime<Utc>) -> String {
        self.show(id, production, starts);
        let booked = self.book(who, id, None, starts - TimeDelta::days(7));
        self.arrive(&booked.ticket);
        booked.ticket
    }

    fn patron(&self, who: &Signals) -> PatronId {
        self.memory
            .recognize(who)
            .expect("valid signals")
            .known_patron()
            .expect("a known patron")
    }

    /// The patron withdraws consent to personalisation in person.
    fn object(&mut self, who: &Signals, at: DateTime<Utc>) {
        let patron = self.patron(who);
        self.memory
            .update_profile(
                patron,
                ProfileChange::Consent(Consent::withdrawn(
                    Channel::InPerson,
                    Purpose::Personalisation,
                    at,
                )),
            )
            .expect("consent");
    }

    /// The moments still to act on for a patron, from one rule.
    fn active(&self, who: &Signals, rule: &str) -> Vec<Moment> {
        self.memory
            .moments_of(self.patron(who))
            .filter(|m| m.rule() == rule)
            .collect()
    }
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

/// The one moment `rule` fired, failing otherwise.
fn only<'a>(seen: &'a Observation, rule: &str) -> &'a Moment {
    let fired = moments_of(seen, rule);
    assert_eq!(
        fired.len(),
        1,
        "expected one {rule} moment: {:?}",
        seen.moments()
    );
    fired[0]
}

fn none(seen: &Observation, rule: &str) {
    assert!(
        moments_of(seen, rule).is_empty(),
        "expected no {rule} moment: {:?}",
        seen.moments()
    );
}

fn performance_of(moment: &Moment) -> Option<&str> {
    moment.performance().map(|p| p.as_str())
}

fn ticket_of(moment: &Moment) -> Option<&str> {
    moment.ticket().map(|t| t.as_str())
}

/// Whether a replay of `event` fires nothing.
fn replay_is_quiet(house: &mut House, event: Event) {
    let again = observe(&mut house.memory, event);
    assert!(again.is_replay());
    assert!(again.moments().is_empty(), "{:?}", again.moments());
}

/// Consent withdrawn: the moment is listed as silenced for that reason, not fired.
fn silenced_for_consent(seen: &Observation, rule: &str) {
    none(seen, rule);
    let silenced: Vec<_> = seen
        .silenced()
        .iter()
        .filter(|s| s.moment().rule() == rule)
        .collect();
    assert_eq!(silenced.len(), 1, "{:?}", seen.silenced());
    assert!(
        silenced[0]
            .reason()
            .contains("no consent to personalisation"),
        "{}",
        silenced[0].reason()
    );
}

// ---------------------------------------------------------------- SecondVisit

const SECOND: &str = SecondVisit::ID;

#[test]
fn second_visit_greets_the_second_booking_naming_the_first_visit() {
    let mut house = House::new(SecondVisit::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 6, 10, 19, 30));
    let booked = house.book(ana(), "lear-1", Some("F12"), utc(2026, 5, 1, 10, 0));

    let greeting = only(&booked.seen, SECOND);
    assert_eq!(greeting.patron(), booked.seen.patron());
    assert_eq!(greeting.kind(), MomentKind::Welcome);
    assert_eq!(greeting.action(), Action::FrontOfHouse);
    assert_eq!(greeting.priority(), Priority(160));
    assert_eq!(performance_of(greeting), Some("lear-1"));
    assert_eq!(ticket_of(greeting), Some(booked.ticket.as_str()));
    assert_eq!(greeting.seat(), Some(&Seat::new("F12")));
    assert_eq!(
        greeting.message(),
        "2nd visit — first came to Hamlet in March 2026"
    );
    assert!(
        greeting.explanation().contains("hamlet-1")
            && greeting.explanation().contains("1 Mar 2026")
            && greeting.explanation().contains("101 day(s) later"),
        "{}",
        greeting.explanation()
    );

    // Front of house sees it before the show.
    let brief = house.memory.brief("lear-1").expect("brief");
    let entry = brief.entries().next().expect("an entry for Ana");
    assert_eq!(entry.moments()[0].rule(), SECOND);

    replay_is_quiet(&mut house, booked.event);
}

/// Whether a second visit starting at `second` gets the greeting after a first visit
/// starting at `first`.
fn greets_second(rule: SecondVisit, first: DateTime<Utc>, second: DateTime<Utc>) -> bool {
    let mut house = House::new(rule);
    house.visit(ana(), "hamlet-1", "hamlet", first);
    house.show("lear-1", "lear", second);
    let booked = house.book(ana(), "lear-1", None, first + TimeDelta::hours(3));
    !moments_of(&booked.seen, SECOND).is_empty()
}

#[test]
fn second_visit_window_ends_on_the_date_twelve_months_on() {
    let first = utc(2026, 3, 1, 19, 30);
    let rule = SecondVisit::new;
    assert!(
        greets_second(rule(), first, utc(2026, 3, 1, 22, 45)),
        "later that day"
    );
    assert!(
        greets_second(rule(), first, utc(2027, 3, 1, 23, 0)),
        "the last day"
    );
    assert!(
        !greets_second(rule(), first, utc(2027, 3, 2, 0, 0)),
        "a day late"
    );
    assert!(
        !greets_second(rule(), first, utc(2026, 3, 1, 14, 30)),
        "before the first"
    );

    // Configurable.
    assert!(greets_second(
        rule().within_months(24),
        first,
        utc(2027, 3, 2, 19, 30)
    ));
    assert!(greets_second(
        rule().within_months(24),
        first,
        utc(2028, 3, 1, 19, 30)
    ));
    assert!(!greets_second(
        rule().within_months(24),
        first,
        utc(2028, 3, 2, 19, 30)
    ));
    assert!(greets_second(
        rule().within_months(1),
        first,
        utc(2026, 4, 1, 19, 30)
    ));
    assert!(!greets_second(
        rule().within_months(1),
        first,
        utc(2026, 4, 2, 19, 30)
    ));
    // 0 is clamped to one month, not "never".
    assert!(greets_second(
        rule().within_months(0),
        first,
        utc(2026, 4, 1, 19, 30)
    ));

    // A first visit on 29 February counts to 28 February.
    let leap = utc(2028, 2, 29, 19, 30);
    assert!(greets_second(rule(), leap, utc(2029, 2, 28, 19, 30)));
    assert!(!greets_second(rule(), leap, utc(2029, 3, 1, 19, 30)));
}

#[test]
fn second_visit_needs_exactly_one_visit_made() {
    let mut house = House::new(SecondVisit::new());
    // Never attended: a first visit, not a second.
    house.show("hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    let first = house.book(ana(), "hamlet-1", None, utc(2026, 2, 1, 10, 0));
    none(&first.seen, SECOND);
    house.arrive(&first.ticket);
    house.visit(ana(), "hamlet-2", "hamlet", utc(2026, 3, 8, 19, 30));

    // Two made: the next is a third visit.
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    let third = house.book(ana(), "lear-1", None, utc(2026, 3, 20, 10, 0));
    none(&third.seen, SECOND);
}

#[test]
fn second_visit_goes_to_the_booking_that_comes_first_and_moves_on_a_refund() {
    let mut house = House::new(SecondVisit::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 5, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 6, 1, 19, 30));
    let may = house.book(ana(), "lear-1", Some("A1"), utc(2026, 3, 10, 10, 0));
    assert_eq!(performance_of(only(&may.seen, SECOND)), Some("lear-1"));
    let june = house.book(ana(), "lear-2", Some("B2"), utc(2026, 3, 11, 10, 0));
    none(&june.seen, SECOND);

    // May is refunded: June is now the second visit, and May's greeting is retired.
    let refunded = house.refund(&may.order, utc(2026, 3, 12, 10, 0));
    let moved = only(&refunded, SECOND);
    assert_eq!(performance_of(moved), Some("lear-2"));
    assert_eq!(ticket_of(moved), Some(june.ticket.as_str()));
    assert_eq!(moved.seat(), Some(&Seat::new("B2")));
    let active = house.active(&ana(), SECOND);
    assert_eq!(active.len(), 1);
    assert_eq!(performance_of(&active[0]), Some("lear-2"));
}

#[test]
fn second_visit_booked_before_the_first_replaces_the_first_visit_welcome() {
    let mut house = House::with_rules(
        Memory::builder()
            .without_default_rules()
            .rule(FirstVisit::new())
            .rule(SecondVisit::new()),
    );
    house.show("hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    let (_, tickets, event) = house.order(
        ana(),
        &[("hamlet-1", None, None), ("lear-1", Some("C3"), None)],
        utc(2026, 2, 1, 10, 0),
    );
    let seen = observe(&mut house.memory, event);
    assert_eq!(moments_of(&seen, FirstVisit::ID).len(), 2);
    none(&seen, SECOND);

    // Her first visit makes the April booking her second.
    let scan = Event::scan("scan-1", Scan::entry(tickets[0].as_str())).at(utc(2026, 3, 1, 19, 10));
    let arrived = observe(&mut house.memory, scan.clone());
    let greeting = only(&arrived, SECOND);
    assert_eq!(performance_of(greeting), Some("lear-1"));
    assert_eq!(ticket_of(greeting), Some(tickets[1].as_str()));
    assert_eq!(greeting.action(), Action::FrontOfHouse);
    assert_eq!(greeting.seat(), Some(&Seat::new("C3")));

    // The brief for April shows the second-visit greeting, not the outdated welcome.
    let brief = house.memory.brief("lear-1").expect("brief");
    let rules: Vec<_> = brief
        .entries()
        .flat_map(|e| e.moments())
        .map(Moment::rule)
        .collect();
    assert_eq!(rules, [SECOND]);

    replay_is_quiet(&mut house, scan);
}

#[test]
fn second_visit_outside_the_window_is_not_greeted_when_the_first_visit_is_made() {
    let mut house = House::new(SecondVisit::new());
    house.show("hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2027, 3, 2, 19, 30));
    let (_, tickets, event) = house.order(
        ana(),
        &[("hamlet-1", None, None), ("lear-1", None, None)],
        utc(2026, 2, 1, 10, 0),
    );
    observe(&mut house.memory, event);
    let arrived = house.arrive(&tickets[0]);
    none(&arrived, SECOND);
}

#[test]
fn second_visit_is_greeted_at_the_door_when_the_greeted_booking_was_missed() {
    let mut house = House::new(SecondVisit::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 4, 8, 19, 30));
    let missed = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    assert_eq!(performance_of(only(&missed.seen, SECOND)), Some("lear-1"));
    let came = house.book(ana(), "lear-2", Some("D4"), utc(2026, 3, 11, 10, 0));
    none(&came.seen, SECOND);

    // She misses April 1st and comes on April 8th: the door gets the greeting.
    let arrived = house.arrive(&came.ticket);
    let greeting = only(&arrived, SECOND);
    assert_eq!(greeting.action(), Action::ScanAttention);
    assert_eq!(performance_of(greeting), Some("lear-2"));
    assert_eq!(greeting.seat(), Some(&Seat::new("D4")));
    assert_eq!(
        greeting.message(),
        "2nd visit — first came to Hamlet in March 2026"
    );

    // Greeted ahead already: the door gets nothing more.
    let mut house = House::new(SecondVisit::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    let booked = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    assert_eq!(moments_of(&booked.seen, SECOND).len(), 1);
    none(&house.arrive(&booked.ticket), SECOND);
}

#[test]
fn second_visit_a_missed_booking_no_longer_comes_first() {
    let mut house = House::new(SecondVisit::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 4, 20, 19, 30));
    let missed = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    assert_eq!(moments_of(&missed.seen, SECOND).len(), 1);

    // Booked before April 1st's curtain, the April 20th visit would come third; booked
    // once it went up without her, it is the second visit.
    let mut early = House::new(SecondVisit::new());
    early.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    early.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    early.show("lear-2", "lear", utc(2026, 4, 20, 19, 30));
    early.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    let before = early.book(ana(), "lear-2", None, utc(2026, 4, 1, 19, 29));
    none(&before.seen, SECOND);

    let after = house.book(ana(), "lear-2", None, utc(2026, 4, 1, 19, 30));
    assert_eq!(performance_of(only(&after.seen, SECOND)), Some("lear-2"));
}

#[test]
fn second_visit_is_silenced_without_consent_in_person() {
    let mut house = House::new(SecondVisit::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.object(&ana(), utc(2026, 3, 5, 10, 0));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    let booked = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    silenced_for_consent(&booked.seen, SECOND);
}

// ---------------------------------------------------------------- WelcomeBack

const BACK: &str = WelcomeBack::ID;

#[test]
fn welcome_back_greets_a_return_after_eighteen_months() {
    let mut house = House::new(WelcomeBack::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2024, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2025, 9, 1, 19, 30));
    let booked = house.book(ana(), "lear-1", Some("G7"), utc(2025, 8, 1, 10, 0));

    let welcome = only(&booked.seen, BACK);
    assert_eq!(welcome.kind(), MomentKind::Welcome);
    assert_eq!(welcome.action(), Action::FrontOfHouse);
    assert_eq!(welcome.priority(), Priority::HIGH);
    assert_eq!(performance_of(welcome), Some("lear-1"));
    assert_eq!(ticket_of(welcome), Some(booked.ticket.as_str()));
    assert_eq!(welcome.seat(), Some(&Seat::new("G7")));
    assert_eq!(
        welcome.message(),
        "Welcome back — last here 1 Mar 2024, for Hamlet"
    );
    assert!(
        welcome.explanation().contains("hamlet-1") && welcome.explanation().contains("18 month(s)"),
        "{}",
        welcome.explanation()
    );
    let brief = house.memory.brief("lear-1").expect("brief");
    assert_eq!(brief.moment_count(), 1);

    replay_is_quiet(&mut house, booked.event);
}

/// Whether a visit starting at `back` is welcomed back after one at `last`.
fn welcomes_back(rule: WelcomeBack, last: DateTime<Utc>, back: DateTime<Utc>) -> bool {
    let mut house = House::new(rule);
    house.visit(ana(), "hamlet-1", "hamlet", last);
    house.show("lear-1", "lear", back);
    let booked = house.book(ana(), "lear-1", None, back - days(20));
    !moments_of(&booked.seen, BACK).is_empty()
}

#[test]
fn welcome_back_starts_on_the_date_eighteen_months_on() {
    let last = utc(2024, 3, 1, 19, 30);
    let rule = WelcomeBack::new;
    assert!(
        welcomes_back(rule(), last, utc(2025, 9, 1, 0, 0)),
        "the first day"
    );
    assert!(
        !welcomes_back(rule(), last, utc(2025, 8, 31, 23, 59)),
        "a day early"
    );
    assert!(welcomes_back(rule(), last, utc(2027, 1, 1, 19, 30)));

    // Month ends: the 31st becomes the last day of the shorter month.
    let end = utc(2024, 8, 31, 19, 30);
    assert!(welcomes_back(rule(), end, utc(2026, 2, 28, 19, 30)));
    assert!(!welcomes_back(rule(), end, utc(2026, 2, 27, 19, 30)));

    // Configurable.
    assert!(welcomes_back(
        rule().after_months(12),
        last,
        utc(2025, 3, 1, 19, 30)
    ));
    assert!(!welcomes_back(
        rule().after_months(12),
        last,
        utc(2025, 2, 28, 19, 30)
    ));
}

#[test]
fn welcome_back_after_one_month_counts_calendar_months_at_month_ends() {
    // The shortest month: 31 January to 28 February is a month, and only 28 days.
    let rule = || WelcomeBack::new().after_months(1);
    let end_of_january = utc(2026, 1, 31, 19, 30);
    assert!(welcomes_back(
        rule(),
        end_of_january,
        utc(2026, 2, 28, 19, 30)
    ));
    assert!(!welcomes_back(
        rule(),
        end_of_january,
        utc(2026, 2, 27, 19, 30)
    ));
    // In a leap year, 29 February.
    let leap = utc(2024, 1, 31, 19, 30);
    assert!(welcomes_back(rule(), leap, utc(2024, 2, 29, 19, 30)));
    assert!(!welcomes_back(rule(), leap, utc(2024, 2, 28, 19, 30)));
    // Three months from 30 November, across February: 28 February, 90 days on.
    let three = || WelcomeBack::new().after_months(3);
    let november = utc(2025, 11, 30, 19, 30);
    assert!(welcomes_back(three(), november, utc(2026, 2, 28, 19, 30)));
    assert!(!welcomes_back(three(), november, utc(2026, 2, 27, 19, 30)));
}

#[test]
fn welcome_back_needs_a_visit_before() {
    let mut house = House::new(WelcomeBack::new());
    house.show("hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    let booked = house.book(ana(), "hamlet-1", None, utc(2020, 1, 1, 10, 0));
    none(&booked.seen, BACK);
}

#[test]
fn welcome_back_goes_to_the_next_visit_only_and_moves_on_a_refund() {
    let mut house = House::new(WelcomeBack::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2024, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 1, 10, 19, 30));
    house.show("lear-2", "lear", utc(2026, 2, 10, 19, 30));
    let january = house.book(ana(), "lear-1", None, utc(2025, 12, 1, 10, 0));
    assert_eq!(performance_of(only(&january.seen, BACK)), Some("lear-1"));
    let february = house.book(ana(), "lear-2", None, utc(2025, 12, 2, 10, 0));
    none(&february.seen, BACK);

    let refunded = house.refund(&january.order, utc(2025, 12, 3, 10, 0));
    let moved = only(&refunded, BACK);
    assert_eq!(performance_of(moved), Some("lear-2"));
    assert_eq!(ticket_of(moved), Some(february.ticket.as_str()));
    let active = house.active(&ana(), BACK);
    assert_eq!(active.len(), 1, "January's greeting is retired");
    assert_eq!(performance_of(&active[0]), Some("lear-2"));

    // Once back, the next booking is no welcome back.
    house.arrive(&february.ticket);
    house.show("lear-3", "lear", utc(2026, 3, 10, 19, 30));
    let march = house.book(ana(), "lear-3", None, utc(2026, 2, 20, 10, 0));
    none(&march.seen, BACK);
}

#[test]
fn welcome_back_wins_the_greeting_group_over_a_second_visit() {
    let mut house = House::with_rules(
        Memory::builder()
            .without_default_rules()
            .rule(SecondVisit::new().within_months(36))
            .rule(WelcomeBack::new()),
    );
    house.visit(ana(), "hamlet-1", "hamlet", utc(2024, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 1, 10, 19, 30));
    let booked = house.book(ana(), "lear-1", None, utc(2025, 12, 1, 10, 0));
    assert_eq!(
        booked.seen.moments().len(),
        1,
        "{:?}",
        booked.seen.moments()
    );
    only(&booked.seen, BACK);
    let lost: Vec<_> = booked
        .seen
        .silenced()
        .iter()
        .filter(|s| s.moment().rule() == SECOND)
        .collect();
    assert_eq!(lost.len(), 1);
    assert!(
        lost[0].reason().contains("exclusive group"),
        "{}",
        lost[0].reason()
    );
}

#[test]
fn welcome_back_is_silenced_without_consent_in_person() {
    let mut house = House::new(WelcomeBack::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2024, 3, 1, 19, 30));
    house.object(&ana(), utc(2025, 1, 1, 10, 0));
    house.show("lear-1", "lear", utc(2026, 1, 10, 19, 30));
    let booked = house.book(ana(), "lear-1", None, utc(2025, 12, 1, 10, 0));
    silenced_for_consent(&booked.seen, BACK);
}

// ---------------------------------------------------------------- Milestone

const MILESTONE: &str = Milestone::ID;

#[test]
fn milestone_marks_the_10th_25th_50th_and_100th_visit_and_nothing_between() {
    let mut house = House::new(Milestone::new());
    let start = utc(2024, 1, 6, 19, 30);
    let mut marked = Vec::new();
    for visit in 1..=101 {
        let id = format!("p-{visit}");
        let starts = start + days(7 * i64::from(visit));
        house.show(&id, "hamlet", starts);
        let booked = house.book(ana(), &id, Some("H8"), starts - days(3));
        for note in moments_of(&booked.seen, MILESTONE) {
            assert_eq!(performance_of(note), Some(id.as_str()));
            assert_eq!(ticket_of(note), Some(booked.ticket.as_str()));
            assert_eq!(note.kind(), MomentKind::Celebration);
            assert_eq!(note.action(), Action::SeatNote);
            assert_eq!(note.seat(), Some(&Seat::new("H8")));
            assert_eq!(note.priority(), Priority::HIGH);
            marked.push((visit, note.message().to_owned()));
        }
        // Noted ahead: nothing more at the door.
        none(&house.arrive(&booked.ticket), MILESTONE);
    }
    let since = "coming since January 2024";
    assert_eq!(
        marked,
        [
            (10, format!("10th visit — {since}")),
            (25, format!("25th visit — {since}")),
            (50, format!("50th visit — {since}")),
            (100, format!("100th visit — {since}")),
        ]
    );
}

#[test]
fn milestone_thresholds_are_validated() {
    let rule = Milestone::new().thresholds([25, 0, 10, 10]);
    assert_eq!(rule.visit_counts(), [10, 25]);
    assert_eq!(Milestone::new().visit_counts(), [10, 25, 50, 100]);

    // None at all: never fires.
    let mut house = House::new(Milestone::new().thresholds([]));
    for visit in 1..=3 {
        let id = format!("p-{visit}");
        let starts = utc(2026, 3, visit, 19, 30);
        house.show(&id, "hamlet", starts);
        let booked = house.book(ana(), &id, None, starts - days(3));
        none(&booked.seen, MILESTONE);
        none(&house.arrive(&booked.ticket), MILESTONE);
    }
}

#[test]
fn milestone_numbers_a_booking_after_the_ones_that_come_first() {
    let mut house = House::new(Milestone::new().thresholds([3]));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 4, 8, 19, 30));
    // One order, April 8th listed first: April 1st is the 2nd visit, April 8th the 3rd.
    let (_, tickets, event) = house.order(
        ana(),
        &[("lear-2", Some("J1"), None), ("lear-1", None, None)],
        utc(2026, 3, 10, 10, 0),
    );
    let seen = observe(&mut house.memory, event.clone());
    let note = only(&seen, MILESTONE);
    assert_eq!(performance_of(note), Some("lear-2"));
    assert_eq!(ticket_of(note), Some(tickets[0].as_str()));
    assert_eq!(note.message(), "3rd visit — coming since March 2026");
    assert!(
        note.explanation()
            .contains("1 performance(s) attended, 1 booked before"),
        "{}",
        note.explanation()
    );
    replay_is_quiet(&mut house, event);
}

#[test]
fn milestone_renumbers_when_a_visit_nobody_booked_comes_first() {
    let mut house = House::new(Milestone::new().thresholds([3]));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2026, 5, 1, 19, 30));
    let may = house.book(ana(), "lear-1", Some("K2"), utc(2026, 3, 10, 10, 0));
    none(&may.seen, MILESTONE);

    // A walk-in at the box office comes first: May becomes the 3rd visit.
    house.show("gala-1", "gala", utc(2026, 4, 1, 19, 30));
    let walk_in = house.book(ana(), "gala-1", None, utc(2026, 4, 1, 19, 0));
    none(&walk_in.seen, MILESTONE);
    let arrived = house.arrive(&walk_in.ticket);
    let note = only(&arrived, MILESTONE);
    assert_eq!(performance_of(note), Some("lear-1"));
    assert_eq!(ticket_of(note), Some(may.ticket.as_str()));
    assert_eq!(note.action(), Action::SeatNote);
    assert_eq!(note.seat(), Some(&Seat::new("K2")));
}

#[test]
fn milestone_passes_to_the_next_booking_on_a_refund_and_never_repeats() {
    let mut house = House::new(Milestone::new().thresholds([3]));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.visit(ana(), "hamlet-2", "hamlet", utc(2026, 3, 8, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 4, 8, 19, 30));
    let third = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    assert_eq!(performance_of(only(&third.seen, MILESTONE)), Some("lear-1"));
    let fourth = house.book(ana(), "lear-2", None, utc(2026, 3, 11, 10, 0));
    none(&fourth.seen, MILESTONE);

    let refunded = house.refund(&third.order, utc(2026, 3, 12, 10, 0));
    let moved = only(&refunded, MILESTONE);
    assert_eq!(performance_of(moved), Some("lear-2"));
    assert_eq!(ticket_of(moved), Some(fourth.ticket.as_str()));
    let active = house.active(&ana(), MILESTONE);
    assert_eq!(active.len(), 1, "the refunded booking's note is retired");

    // Reached: never again.
    none(&house.arrive(&fourth.ticket), MILESTONE);
    house.show("lear-3", "lear", utc(2026, 4, 15, 19, 30));
    let later = house.book(ana(), "lear-3", None, utc(2026, 4, 10, 10, 0));
    none(&later.seen, MILESTONE);
    none(&house.arrive(&later.ticket), MILESTONE);
}

#[test]
fn milestone_is_marked_at_the_door_when_the_noted_booking_was_missed() {
    let mut house = House::new(Milestone::new().thresholds([3]));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.visit(ana(), "hamlet-2", "hamlet", utc(2026, 3, 8, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 4, 8, 19, 30));
    let missed = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    assert_eq!(moments_of(&missed.seen, MILESTONE).len(), 1);
    let came = house.book(ana(), "lear-2", Some("L5"), utc(2026, 3, 11, 10, 0));
    none(&came.seen, MILESTONE);

    let arrived = house.arrive(&came.ticket);
    let note = only(&arrived, MILESTONE);
    assert_eq!(note.action(), Action::ScanAttention);
    assert_eq!(performance_of(note), Some("lear-2"));
    assert_eq!(note.seat(), Some(&Seat::new("L5")));
    assert_eq!(note.message(), "3rd visit — coming since March 2026");
}

#[test]
fn milestone_does_not_count_a_missed_booking() {
    let mut house = House::new(Milestone::new().thresholds([3]));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.visit(ana(), "hamlet-2", "hamlet", utc(2026, 3, 8, 19, 30));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    house.show("lear-2", "lear", utc(2026, 4, 20, 19, 30));
    let missed = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    assert_eq!(moments_of(&missed.seen, MILESTONE).len(), 1);
    // Booked after April 1st began without her: April 20th is her 3rd visit, not the 4th.
    let booked = house.book(ana(), "lear-2", None, utc(2026, 4, 2, 10, 0));
    let note = only(&booked.seen, MILESTONE);
    assert_eq!(performance_of(note), Some("lear-2"));
    assert_eq!(note.message(), "3rd visit — coming since March 2026");
}

#[test]
fn milestone_is_silenced_without_consent_in_person() {
    let mut house = House::new(Milestone::new().thresholds([2]));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.object(&ana(), utc(2026, 3, 2, 10, 0));
    house.show("lear-1", "lear", utc(2026, 4, 1, 19, 30));
    let booked = house.book(ana(), "lear-1", None, utc(2026, 3, 10, 10, 0));
    silenced_for_consent(&booked.seen, MILESTONE);
}

// ---------------------------------------------------------------- Regular

const REGULAR: &str = Regular::ID;

/// Ana's visits on these days after 1 December 2025 (19:30); what Regular fired at each
/// door, by day.
fn regular_visits(rule: Regular, days_in: &[i64]) -> Vec<(i64, Moment)> {
    let mut house = House::new(rule);
    let origin = utc(2025, 12, 1, 19, 30);
    let mut fired = Vec::new();
    for &day in days_in {
        let id = format!("p-{day}");
        house.show(&id, "hamlet", origin + days(day));
        let booked = house.book(ana(), &id, Some("M3"), origin + days(day) - days(1));
        none(&booked.seen, REGULAR);
        let arrived = house.arrive(&booked.ticket);
        fired.extend(
            moments_of(&arrived, REGULAR)
                .into_iter()
                .map(|m| (day, m.clone())),
        );
    }
    fired
}

fn fired_days(fired: &[(i64, Moment)]) -> Vec<i64> {
    fired.iter().map(|(day, _)| *day).collect()
}

#[test]
fn regular_is_recognized_at_the_door_on_the_fourth_visit_in_ninety_days() {
    // Day 0 is 1 December 2025, day 90 is 1 March 2026: 89 days back counts.
    let fired = regular_visits(Regular::new(), &[1, 40, 62, 90]);
    assert_eq!(fired_days(&fired), [90]);
    let moment = &fired[0].1;
    assert_eq!(moment.kind(), MomentKind::Recognition);
    assert_eq!(moment.action(), Action::ScanAttention);
    assert_eq!(moment.priority(), Priority::NORMAL);
    assert_eq!(performance_of(moment), Some("p-90"));
    assert_eq!(moment.seat(), Some(&Seat::new("M3")));
    assert_eq!(moment.message(), "Regular — 4th visit in 90 days");
    assert!(
        moment
            .explanation()
            .contains("from 2 Dec 2025 to 1 Mar 2026"),
        "{}",
        moment.explanation()
    );

    // 90 days back is outside the window.
    assert!(regular_visits(Regular::new(), &[0, 40, 62, 90]).is_empty());
    // Three visits are not enough; a fifth in the window is in the cooldown.
    assert!(regular_visits(Regular::new(), &[40, 62, 90]).is_empty());
    assert_eq!(
        fired_days(&regular_visits(Regular::new(), &[1, 40, 62, 90, 91])),
        [90]
    );
}

#[test]
fn regular_cooldown_keeps_it_quiet_for_ninety_days() {
    let weekly: Vec<i64> = (0..=17).map(|week| week * 7).collect();
    // 4th visit on day 21; quiet until day 111; day 112 is the next visit.
    assert_eq!(
        fired_days(&regular_visits(Regular::new(), &weekly)),
        [21, 112]
    );
    // Without a cooldown, every visit from the 4th on, once each.
    let every = regular_visits(Regular::new().cooldown_days(0), &weekly[..6]);
    assert_eq!(fired_days(&every), [21, 28, 35]);
    assert_eq!(every[2].1.message(), "Regular — 6th visit in 90 days");
}

#[test]
fn regular_thresholds_are_configurable() {
    let rule = || Regular::new().visits(2).days(7);
    assert_eq!(fired_days(&regular_visits(rule(), &[0, 6])), [6]);
    assert!(regular_visits(rule(), &[0, 7]).is_empty());
    // One visit is no habit: 1 is clamped to 2.
    let one = Regular::new().visits(1).days(7);
    assert!(regular_visits(one, &[0]).is_empty());
}

#[test]
fn regular_fires_only_at_a_first_entry() {
    let mut house = House::new(Regular::new().visits(2).cooldown_days(0));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("hamlet-2", "hamlet", utc(2026, 3, 8, 19, 30));
    let booked = house.book(ana(), "hamlet-2", None, utc(2026, 3, 2, 10, 0));
    none(&booked.seen, REGULAR);
    let scan = Event::scan("door-1", Scan::entry(booked.ticket.as_str()).scan_id("s-1"))
        .at(utc(2026, 3, 8, 19, 10));
    let arrived = observe(&mut house.memory, scan.clone());
    assert_eq!(moments_of(&arrived, REGULAR).len(), 1);
    replay_is_quiet(&mut house, scan);
    // Out and back in: the same visit.
    let out = observe(
        &mut house.memory,
        Event::scan("door-2", Scan::exit(booked.ticket.as_str())).at(utc(2026, 3, 8, 20, 30)),
    );
    none(&out, REGULAR);
    let back = house.scan(&booked.ticket, utc(2026, 3, 8, 20, 45));
    none(&back, REGULAR);
}

#[test]
fn regular_counts_only_visits_up_to_this_one() {
    // A scan that arrives late, for an earlier performance: the later visit is not part
    // of its trailing window.
    let mut house = House::new(Regular::new().visits(2).cooldown_days(0));
    house.show("hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("hamlet-2", "hamlet", utc(2026, 3, 20, 19, 30));
    let (_, tickets, event) = house.order(
        ana(),
        &[("hamlet-1", None, None), ("hamlet-2", None, None)],
        utc(2026, 2, 1, 10, 0),
    );
    observe(&mut house.memory, event);
    none(&house.arrive(&tickets[1]), REGULAR);
    let late = house.scan(&tickets[0], utc(2026, 3, 21, 9, 0));
    none(&late, REGULAR);
}

#[test]
fn regular_is_silenced_without_consent_in_person() {
    let mut house = House::new(Regular::new().visits(2));
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.object(&ana(), utc(2026, 3, 2, 10, 0));
    house.show("hamlet-2", "hamlet", utc(2026, 3, 8, 19, 30));
    let booked = house.book(ana(), "hamlet-2", None, utc(2026, 3, 2, 10, 0));
    let arrived = house.arrive(&booked.ticket);
    silenced_for_consent(&arrived, REGULAR);
}

// ---------------------------------------------------------------- FirstVisitAnniversary

const ANNIVERSARY: &str = FirstVisitAnniversary::ID;

#[test]
fn anniversary_marks_a_visit_a_year_after_the_first() {
    let mut house = House::new(FirstVisitAnniversary::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("lear-1", "lear", utc(2027, 3, 10, 19, 30));
    let booked = house.book(ana(), "lear-1", Some("N9"), utc(2027, 2, 1, 10, 0));
    let note = only(&booked.seen, ANNIVERSARY);
    assert_eq!(note.kind(), MomentKind::Celebration);
    assert_eq!(note.action(), Action::SeatNote);
    assert_eq!(note.priority(), Priority::NORMAL);
    assert_eq!(performance_of(note), Some("lear-1"));
    assert_eq!(ticket_of(note), Some(booked.ticket.as_str()));
    assert_eq!(note.seat(), Some(&Seat::new("N9")));
    assert_eq!(
        note.message(),
        "1 year since their first visit — Hamlet, 1 Mar 2026"
    );
    assert!(
        note.explanation().contains("15 Feb 2027 to 15 Mar 2027"),
        "{}",
        note.explanation()
    );
    replay_is_quiet(&mut house, booked.event);

    // Without a seat: a front-of-house item.
    house.show("lear-2", "lear", utc(2028, 3, 1, 19, 30));
    let unseated = house.book(ana(), "lear-2", None, utc(2028, 2, 1, 10, 0));
    let note = only(&unseated.seen, ANNIVERSARY);
    assert_eq!(note.action(), Action::FrontOfHouse);
    assert_eq!(
        note.message(),
        "2 years since their first visit — Hamlet, 1 Mar 2026"
    );
}

fn marks_anniversary(rule: FirstVisitAnniversary, first: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    let mut house = House::new(rule);
    house.visit(ana(), "hamlet-1", "hamlet", first);
    house.show("lear-1", "lear", at);
    let booked = house.book(ana(), "lear-1", None, at - days(30));
    !moments_of(&booked.seen, ANNIVERSARY).is_empty()
}

#[test]
fn anniversary_window_is_fourteen_days_either_side() {
    let first = utc(2026, 3, 1, 19, 30);
    let rule = FirstVisitAnniversary::new;
    assert!(marks_anniversary(rule(), first, utc(2027, 2, 15, 19, 30)));
    assert!(!marks_anniversary(rule(), first, utc(2027, 2, 14, 19, 30)));
    assert!(marks_anniversary(rule(), first, utc(2027, 3, 15, 23, 59)));
    assert!(!marks_anniversary(rule(), first, utc(2027, 3, 16, 0, 0)));
    // Not in the first year, nor between anniversaries.
    assert!(!marks_anniversary(rule(), first, utc(2026, 3, 10, 19, 30)));
    assert!(!marks_anniversary(rule(), first, utc(2027, 9, 1, 19, 30)));
    // A window reaching back into the previous calendar year.
    let january = utc(2026, 1, 5, 19, 30);
    assert!(marks_anniversary(
        rule(),
        january,
        utc(2026, 12, 22, 19, 30)
    ));
    assert!(!marks_anniversary(
        rule(),
        january,
        utc(2026, 12, 21, 19, 30)
    ));

    // The day itself only.
    assert!(marks_anniversary(
        rule().days(0),
        first,
        utc(2027, 3, 1, 12, 0)
    ));
    assert!(!marks_anniversary(
        rule().days(0),
        first,
        utc(2027, 3, 2, 12, 0)
    ));
    // The window's first day is 365 days less its width after the first visit at the
    // least (29 February to 28 February): the widest window, and the closest first day.
    assert!(marks_anniversary(
        rule().days(180),
        first,
        utc(2026, 9, 2, 19, 30)
    ));
    assert!(!marks_anniversary(
        rule().days(180),
        first,
        utc(2026, 9, 1, 19, 30)
    ));
    let leap = utc(2028, 2, 29, 19, 30);
    assert!(marks_anniversary(rule(), leap, utc(2029, 2, 14, 10, 0)));
    assert!(!marks_anniversary(rule(), leap, utc(2029, 2, 13, 23, 0)));
    // 29 February: the anniversary is 28 February.
    assert!(marks_anniversary(
        rule().days(0),
        leap,
        utc(2029, 2, 28, 19, 30)
    ));
    assert!(!marks_anniversary(
        rule().days(0),
        leap,
        utc(2029, 3, 1, 19, 30)
    ));
}

#[test]
fn anniversary_marks_one_visit_per_window() {
    let mut house = House::new(FirstVisitAnniversary::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    // A visit already made in the window: the next one in it is not marked.
    house.visit(ana(), "hamlet-2", "hamlet", utc(2027, 2, 20, 19, 30));
    house.show("lear-1", "lear", utc(2027, 3, 5, 19, 30));
    let after = house.book(ana(), "lear-1", None, utc(2027, 2, 25, 10, 0));
    none(&after.seen, ANNIVERSARY);

    // Two bookings in the next window: the first one only, until it is refunded.
    house.show("lear-2", "lear", utc(2028, 2, 20, 19, 30));
    house.show("lear-3", "lear", utc(2028, 3, 5, 19, 30));
    let early = house.book(ana(), "lear-2", None, utc(2028, 1, 10, 10, 0));
    assert_eq!(
        performance_of(only(&early.seen, ANNIVERSARY)),
        Some("lear-2")
    );
    let late = house.book(ana(), "lear-3", None, utc(2028, 1, 11, 10, 0));
    none(&late.seen, ANNIVERSARY);
    let refunded = house.refund(&early.order, utc(2028, 1, 12, 10, 0));
    let moved = only(&refunded, ANNIVERSARY);
    assert_eq!(performance_of(moved), Some("lear-3"));
    assert_eq!(ticket_of(moved), Some(late.ticket.as_str()));
}

#[test]
fn anniversary_needs_a_first_visit() {
    let mut house = House::new(FirstVisitAnniversary::new());
    house.show("hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.show("hamlet-2", "hamlet", utc(2027, 3, 1, 19, 30));
    let (_, _, event) = house.order(
        ana(),
        &[("hamlet-1", None, None), ("hamlet-2", None, None)],
        utc(2026, 2, 1, 10, 0),
    );
    let seen = observe(&mut house.memory, event);
    none(&seen, ANNIVERSARY);
}

#[test]
fn anniversary_is_silenced_without_consent_in_person() {
    let mut house = House::new(FirstVisitAnniversary::new());
    house.visit(ana(), "hamlet-1", "hamlet", utc(2026, 3, 1, 19, 30));
    house.object(&ana(), utc(2026, 6, 1, 10, 0));
    house.show("lear-1", "lear", utc(2027, 3, 1, 19, 30));
    let booked = house.book(ana(), "lear-1", None, utc(2027, 2, 1, 10, 0));
    silenced_for_consent(&booked.seen, ANNIVERSARY);
}

// ---------------------------------------------------------------- NewGenre

const NEW_GENRE: &str = NewGenre::ID;

/// Ana's visits to these productions, a week apart from 1 March 2026.
fn habit(house: &mut House, productions: &[&str]) {
    for (i, production) in productions.iter().enumerate() {
        let id = format!("{production}-{i}");
        let starts = utc(2026, 3, 1, 19, 30) + days(7 * i as i64);
        house.visit(ana(), &id, production, starts);
    }
}

#[test]
fn new_genre_notices_a_first_ballet_after_three_dramas() {
    let mut house = House::new(NewGenre::new());
    habit(&mut house, &["hamlet", "lear", "hamlet"]);
    house.show("nutcracker-1", "nutcracker", utc(2026, 12, 10, 19, 0));
    let booked = house.book(ana(), "nutcracker-1", Some("P2"), utc(2026, 11, 1, 10, 0));
    let noticed = only(&booked.seen, NEW_GENRE);
    assert_eq!(noticed.kind(), MomentKind::Recognition);
    assert_eq!(noticed.action(), Action::FrontOfHouse);
    assert_eq!(noticed.priority(), Priority::LOW);
    assert_eq!(performance_of(noticed), Some("nutcracker-1"));
    assert_eq!(ticket_of(noticed), Some(booked.ticket.as_str()));
    assert_eq!(noticed.seat(), Some(&Seat::new("P2")));
    assert_eq!(
        noticed.message(),
        "New to ballet and family — usually here for drama (3 visits)"
    );
    assert!(
        noticed.explanation().contains("drama 3, shakespeare 3"),
        "{}",
        noticed.explanation()
    );
    replay_is_quiet(&mut house, booked.event);

    // Once they came, the genre is not new.
    house.arrive(&booked.ticket);
    house.show("swan-1", "swan", utc(2026, 12, 20, 19, 0));
    let again = house.book(ana(), "swan-1", None, utc(2026, 12, 12, 10, 0));
    none(&again.seen, NEW_GENRE);
}

/// Whether a Nutcracker booking is noticed after visits to `productions`.
fn notices_nutcracker(rule: NewGenre, productions: &[&str]) -> Option<String> {
    let mut house = House::new(rule);
    habit(&mut house, productions);
    house.show("nutcracker-1", "nutcracker", utc(2026, 12, 10, 19, 0));
    let booked = house.book(ana(), "nutcracker-1", None, utc(2026, 11, 1, 10, 0));
    moments_of(&booked.seen, NEW_GENRE)
        .first()
        .map(|m| m.message().to_owned())
}

#[test]
fn new_genre_needs_three_attendances_in_genres() {
    assert_eq!(
        notices_nutcracker(NewGenre::new(), &["hamlet", "lear"]),
        None
    );
    // A production without genres says nothing about taste.
    assert_eq!(
        notices_nutcracker(NewGenre::new(), &["hamlet", "lear", "gala"]),
        None
    );
    assert!(notices_nutcracker(NewGenre::new(), &["hamlet", "gala", "lear", "lear"]).is_some());
    assert!(notices_nutcracker(NewGenre::new(), &["hamlet", "lear", "hamlet", "lear"]).is_some());
    // Configurable.
    assert!(notices_nutcracker(NewGenre::new().min_visits(2), &["hamlet", "lear"]).is_some());
    assert_eq!(
        notices_nutcracker(NewGenre::new().min_visits(4), &["hamlet", "lear", "hamlet"]),
        None
    );
}

#[test]
fn new_genre_names_only_the_genres_that_are_new() {
    // Ballet seen already: only family is new.
    assert_eq!(
        notices_nutcracker(NewGenre::new(), &["hamlet", "swan", "lear"]).as_deref(),
        Some("New to family — usually here for drama (2 visits)")
    );

    // A Swan Lake booked for earlier is the first ballet; the Nutcracker is the first
    // family show.
    let mut house = House::new(NewGenre::new());
    habit(&mut house, &["hamlet", "lear", "hamlet"]);
    house.show("swan-1", "swan", utc(2026, 11, 10, 19, 0));
    house.show("nutcracker-1", "nutcracker", utc(2026, 12, 10, 19, 0));
    let swan = house.book(ana(), "swan-1", None, utc(2026, 10, 1, 10, 0));
    assert_eq!(
        only(&swan.seen, NEW_GENRE).message(),
        "New to ballet — usually here for drama (3 visits)"
    );
    let nutcracker = house.book(ana(), "nutcracker-1", None, utc(2026, 10, 2, 10, 0));
    assert_eq!(
        only(&nutcracker.seen, NEW_GENRE).message(),
        "New to family — usually here for drama (3 visits)"
    );

    // Nothing new at all.
    let mut house = House::new(NewGenre::new());
    habit(&mut house, &["hamlet", "lear", "hamlet"]);
    house.show("lear-9", "lear", utc(2026, 12, 10, 19, 0));
    let booked = house.book(ana(), "lear-9", None, utc(2026, 11, 1, 10, 0));
    none(&booked.seen, NEW_GENRE);
}

#[test]
fn new_genre_notices_a_booking_made_before_the_habit_was_formed() {
    let mut house = House::new(NewGenre::new());
    habit(&mut house, &["hamlet", "lear"]);
    house.show("nutcracker-1", "nutcracker", utc(2026, 12, 10, 19, 0));
    let booked = house.book(ana(), "nutcracker-1", Some("Q1"), utc(2026, 4, 1, 10, 0));
    none(&booked.seen, NEW_GENRE);

    // The third drama makes the habit: the ballet booked before is noticed.
    house.visit(ana(), "hamlet-9", "hamlet", utc(2026, 5, 1, 19, 30));
    let noticed = house.active(&ana(), NEW_GENRE);
    assert_eq!(noticed.len(), 1);
    assert_eq!(performance_of(&noticed[0]), Some("nutcracker-1"));
    assert_eq!(ticket_of(&noticed[0]), Some(booked.ticket.as_str()));
    assert_eq!(noticed[0].seat(), Some(&Seat::new("Q1")));

    // The fourth changes nothing.
    house.visit(ana(), "lear-9", "lear", utc(2026, 6, 1, 19, 30));
    assert_eq!(house.active(&ana(), NEW_GENRE).len(), 1);
}

#[test]
fn new_genre_is_silenced_without_consent_in_person() {
    let mut house = House::new(NewGenre::new());
    habit(&mut house, &["hamlet", "lear", "hamlet"]);
    house.object(&ana(), utc(2026, 4, 1, 10, 0));
    house.show("nutcracker-1", "nutcracker", utc(2026, 12, 10, 19, 0));
    let booked = house.book(ana(), "nutcracker-1", None, utc(2026, 11, 1, 10, 0));
    silenced_for_consent(&booked.seen, NEW_GENRE);
}

// ---------------------------------------------------------------- BroughtANewcomer

const NEWCOMER: &str = BroughtANewcomer::ID;

/// Ana with `visits` visits buys a ticket for Ben to `lear-1`; the order observation.
fn ana_brings_ben(house: &mut House, visits: u32) -> (Vec<String>, Event, Observation) {
    for visit in 0..visits {
        let id = format!("hamlet-{visit}");
        house.visit(
            ana(),
            &id,
            "hamlet",
            utc(2026, 1, 1, 19, 30) + days(7 * i64::from(visit)),
        );
    }
    house.show("lear-1", "lear", utc(2026, 6, 1, 19, 30));
    let (_, tickets, event) = house.order(
        ana(),
        &[
            ("lear-1", Some("R1"), None),
            ("lear-1", Some("R2"), Some(ben())),
        ],
        utc(2026, 5, 1, 10, 0),
    );
    let seen = observe(&mut house.memory, event.clone());
    (tickets, event, seen)
}

#[test]
fn brought_a_newcomer_marks_the_guest_of_a_regular() {
    let mut house = House::new(BroughtANewcomer::new());
    let (tickets, event, seen) = ana_brings_ben(&mut house, 5);
    let ana_id = house.patron(&ana());
    let ben_id = seen.participants()[0].patron();
    assert_ne!(ana_id, ben_id);

    let moment = only(&seen, NEWCOMER);
    assert_eq!(moment.patron(), ben_id, "the newcomer's moment");
    assert_eq!(moment.kind(), MomentKind::Recognition);
    assert_eq!(moment.action(), Action::FrontOfHouse);
    assert_eq!(moment.priority(), Priority::NORMAL);
    assert_eq!(performance_of(moment), Some("lear-1"));
    assert_eq!(ticket_of(moment), Some(tickets[1].as_str()));
    assert_eq!(moment.seat(), Some(&Seat::new("R2")));
    assert_eq!(
        moment.message(),
        format!("Guest of a regular — first visit, booked by {ana_id} (5 visits)")
    );
    assert!(
        moment.explanation().contains("at least 5"),
        "{}",
        moment.explanation()
    );

    // In the brief, next to Ben.
    let brief = house.memory.brief("lear-1").expect("brief");
    let entry = brief.entries().find(|e| e.patron() == ben_id).expect("Ben");
    assert_eq!(entry.moments()[0].rule(), NEWCOMER);

    replay_is_quiet(&mut house, event);
}

#[test]
fn brought_a_newcomer_needs_a_regular_buyer() {
    let mut house = House::new(BroughtANewcomer::new());
    let (_, _, seen) = ana_brings_ben(&mut house, 4);
    none(&seen, NEWCOMER);

    let mut house = House::new(BroughtANewcomer::new().min_visits(4));
    let (_, _, seen) = ana_brings_ben(&mut house, 4);
    assert_eq!(moments_of(&seen, NEWCOMER).len(), 1);

    let mut house = House::new(BroughtANewcomer::new());
    let (_, _, seen) = ana_brings_ben(&mut house, 6);
    assert_eq!(moments_of(&seen, NEWCOMER).len(), 1);
}

#[test]
fn brought_a_newcomer_needs_someone_new() {
    let mut house = House::new(BroughtANewcomer::new());
    house.visit(ben(), "gala-1", "gala", utc(2025, 12, 1, 19, 30));
    let (_, _, seen) = ana_brings_ben(&mut house, 5);
    none(&seen, NEWCOMER);
}

#[test]
fn brought_a_newcomer_respects_both_peoples_consent() {
    // The regular objected: nothing is said about them.
    let mut house = House::new(BroughtANewcomer::new());
    for visit in 0..5 {
        let id = format!("hamlet-{visit}");
        house.visit(
            ana(),
            &id,
            "hamlet",
            utc(2026, 1, 1, 19, 30) + days(7 * visit),
        );
    }
    house.object(&ana(), utc(2026, 3, 1, 10, 0));
    house.show("lear-1", "lear", utc(2026, 6, 1, 19, 30));
    let (_, _, event) = house.order(
        ana(),
        &[("lear-1", None, Some(ben()))],
        utc(2026, 5, 1, 10, 0),
    );
    let seen = observe(&mut house.memory, event);
    none(&seen, NEWCOMER);
    assert!(seen.silenced().is_empty(), "{:?}", seen.silenced());

    // The newcomer objected: memory silences the moment.
    let mut house = House::new(BroughtANewcomer::new());
    house.show("gala-1", "gala", utc(2026, 7, 1, 19, 30));
    house.book(ben(), "gala-1", None, utc(2026, 1, 1, 10, 0));
    house.object(&ben(), utc(2026, 1, 2, 10, 0));
    let (_, _, seen) = ana_brings_ben(&mut house, 5);
    silenced_for_consent(&seen, NEWCOMER);
}

#[test]
fn brought_a_newcomer_leaves_a_regular_who_prefers_no_fuss_alone() {
    let mut house = House::new(BroughtANewcomer::new());
    for visit in 0..5 {
        let id = format!("hamlet-{visit}");
        house.visit(
            ana(),
            &id,
            "hamlet",
            utc(2026, 1, 1, 19, 30) + days(7 * visit),
        );
    }
    let ana_id = house.patron(&ana());
    house
        .memory
        .update_profile(ana_id, ProfileChange::PrefersNoFuss(true))
        .expect("preference");
    house.show("lear-1", "lear", utc(2026, 6, 1, 19, 30));
    let (_, _, event) = house.order(
        ana(),
        &[("lear-1", None, Some(ben()))],
        utc(2026, 5, 1, 10, 0),
    );
    let seen = observe(&mut house.memory, event);
    none(&seen, NEWCOMER);
}

#[test]
fn brought_a_newcomer_is_retired_with_the_refunded_ticket() {
    let mut house = House::new(BroughtANewcomer::new());
    let (tickets, _, seen) = ana_brings_ben(&mut house, 5);
    assert_eq!(moments_of(&seen, NEWCOMER).len(), 1);
    assert_eq!(house.active(&ben(), NEWCOMER).len(), 1);
    let ticket = house.memory.ticket(&tickets[1]).expect("Ben's ticket");
    let order = ticket.order().to_string();
    house.refund(&order, utc(2026, 5, 2, 10, 0));
    assert!(house.active(&ben(), NEWCOMER).is_empty());
}
