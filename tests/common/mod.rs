//! Shared setup for the integration tests: a fixed clock, a small catalog (one venue, two
//! productions with genres, six performances at known dates), people, event builders and
//! a snapshot of everything memory shows, to prove that a failed call changed nothing.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use regulars::{
    Address, Consent, Currency, Error, Event, Flag, Identifier, Interaction, ManualClock, Memory,
    MemoryBuilder, Moment, Money, Note, Observation, Order, PatronId, PatronStats, Performance,
    PersonName, Preferences, Production, Scan, Signals, Ticket, Venue, normalize::Country,
};

// ---------------------------------------------------------------- time

/// A UTC instant.
pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid test time")
}

/// A calendar date.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// Where every test clock starts.
pub fn t0() -> DateTime<Utc> {
    utc(2026, 1, 5, 9, 0)
}

/// When the orders of the tests are placed unless they say otherwise.
pub fn order_time() -> DateTime<Utc> {
    utc(2026, 2, 1, 10, 0)
}

// ---------------------------------------------------------------- catalog

pub const VENUE: &str = "main";
pub const HAMLET: &str = "hamlet";
pub const HAMLET_TITLE: &str = "Hamlet";
pub const NUTCRACKER: &str = "nutcracker";
pub const NUTCRACKER_TITLE: &str = "The Nutcracker";

/// A start time: year, month, day, hour, minute (UTC).
pub type Start = (i32, u32, u32, u32, u32);

/// Every performance of the catalog: id, production, start.
pub const PERFORMANCES: [(&str, &str, Start); 6] = [
    ("hamlet-1", HAMLET, (2026, 3, 1, 19, 30)),
    ("hamlet-2", HAMLET, (2026, 3, 8, 19, 30)),
    ("hamlet-3", HAMLET, (2026, 3, 15, 19, 30)),
    ("hamlet-4", HAMLET, (2026, 3, 22, 14, 30)),
    ("nutcracker-1", NUTCRACKER, (2026, 12, 10, 19, 0)),
    ("nutcracker-2", NUTCRACKER, (2026, 12, 17, 14, 0)),
];

/// When a catalog performance starts.
pub fn starts(performance: &str) -> DateTime<Utc> {
    let (_, _, (y, m, d, h, min)) = PERFORMANCES
        .iter()
        .find(|(id, _, _)| *id == performance)
        .unwrap_or_else(|| panic!("no performance {performance} in the test catalog"));
    utc(*y, *m, *d, *h, *min)
}

/// Defines the test catalog in `memory`.
pub fn define_catalog(memory: &mut Memory) {
    memory
        .define_venue(Venue::new(VENUE, "Main House"))
        .expect("venue");
    memory
        .define_production(
            Production::new(HAMLET, HAMLET_TITLE)
                .genre("Drama")
                .genre("Shakespeare"),
        )
        .expect("hamlet");
    memory
        .define_production(
            Production::new(NUTCRACKER, NUTCRACKER_TITLE)
                .genre("Ballet")
                .genre("Family"),
        )
        .expect("nutcracker");
    for (id, production, _) in PERFORMANCES {
        memory
            .define_performance(Performance::new(id, production, VENUE, starts(id)))
            .expect("performance");
    }
}

// ---------------------------------------------------------------- memories

/// A builder with the test defaults: GB phone numbers, the given clock.
pub fn builder(clock: &ManualClock) -> MemoryBuilder {
    Memory::builder()
        .default_country(Country::GB)
        .clock(clock.clone())
}

/// Builds and fills in the catalog.
pub fn build(builder: MemoryBuilder) -> Memory {
    let mut memory = builder.build().expect("valid configuration");
    define_catalog(&mut memory);
    memory
}

/// A memory with the default strategies and rules, the catalog, and a clock at [`t0`].
pub fn memory() -> Memory {
    memory_with_clock().0
}

/// Like [`memory`], also returning the clock it reads.
pub fn memory_with_clock() -> (Memory, ManualClock) {
    let clock = ManualClock::new(t0());
    (build(builder(&clock)), clock)
}

// ---------------------------------------------------------------- people

/// Ana Silva: name, e-mail, phone and card token.
pub fn ana() -> Signals {
    Signals::new()
        .given_name("Ana")
        .family_name("Silva")
        .email("ana.silva@example.org")
        .phone("020 7946 0018")
        .card_token("tok_ana_4242")
}

/// Ben Okafor: name and e-mail.
pub fn ben() -> Signals {
    Signals::new()
        .given_name("Ben")
        .family_name("Okafor")
        .email("ben.okafor@example.net")
}

/// Cleo Marsh: name and e-mail.
pub fn cleo() -> Signals {
    Signals::new()
        .given_name("Cleo")
        .family_name("Marsh")
        .email("cleo@example.com")
}

/// Dennis Groungsma senior: his own mobile, at the family's postcode.
pub fn dennis_senior() -> Signals {
    Signals::new()
        .given_name("Dennis")
        .family_name("Groungsma")
        .phone("+31 6 85060636")
        .postcode("3578 TJ")
        .country("NL")
}

/// His son of the same name, at the box office: an initial and a mobile of his own.
pub fn dennis_junior() -> Signals {
    Signals::new()
        .given_name("D.")
        .family_name("Groungsma")
        .phone("+31 6 98381961")
        .country("NL")
}

// ---------------------------------------------------------------- events

/// Pounds sterling, in pence.
pub fn gbp(pence: i64) -> Money {
    Money::new(pence, Currency::GBP)
}

/// A ticket at £30 with no seat.
pub fn ticket(id: &str, performance: &str) -> Ticket {
    Ticket::new(id, performance).price(gbp(3000))
}

/// A ticket at £30 in a seat.
pub fn seated(id: &str, performance: &str, seat: &str) -> Ticket {
    ticket(id, performance).seat_label(seat)
}

/// An order event placed at `at`.
pub fn order_at(
    event: &str,
    order: &str,
    buyer: Signals,
    tickets: impl IntoIterator<Item = Ticket>,
    at: DateTime<Utc>,
) -> Event {
    let order = tickets
        .into_iter()
        .fold(Order::new(order, buyer), Order::ticket);
    Event::order(event, order).at(at)
}

/// An order event placed at [`order_time`].
pub fn order(
    event: &str,
    order: &str,
    buyer: Signals,
    tickets: impl IntoIterator<Item = Ticket>,
) -> Event {
    order_at(event, order, buyer, tickets, order_time())
}

/// An entry-scan event at `at`.
pub fn entry_at(event: &str, ticket: &str, at: DateTime<Utc>) -> Event {
    Event::scan(event, Scan::entry(ticket)).at(at)
}

/// An exit-scan event at `at`.
pub fn exit_at(event: &str, ticket: &str, at: DateTime<Utc>) -> Event {
    Event::scan(event, Scan::exit(ticket)).at(at)
}

/// Scans a ticket in twenty minutes before its performance starts.
pub fn scan_in(memory: &mut Memory, event: &str, ticket: &str) -> Observation {
    let starts_at = memory
        .ticket(ticket)
        .and_then(|t| t.performance())
        .map(Performance::starts_at)
        .unwrap_or_else(|| panic!("ticket {ticket} is not known"));
    memory
        .observe(entry_at(event, ticket, starts_at - TimeDelta::minutes(20)))
        .expect("entry scan")
}

/// Observes an event that must succeed.
pub fn observe(memory: &mut Memory, event: Event) -> Observation {
    let id = event.id().to_string();
    memory
        .observe(event)
        .unwrap_or_else(|e| panic!("event {id} should be accepted: {e}"))
}

/// Every moment memory holds, patron by patron.
pub fn all_moments(memory: &Memory) -> Vec<Moment> {
    memory
        .patrons()
        .flat_map(|p| memory.moments_of(p.id()).collect::<Vec<_>>())
        .collect()
}

/// The moments proposed by one rule.
pub fn moments_of<'a>(observation: &'a Observation, rule: &str) -> Vec<&'a Moment> {
    observation
        .moments()
        .iter()
        .filter(|m| m.rule() == rule)
        .collect()
}

// ---------------------------------------------------------------- snapshots

/// Everything memory shows about one patron.
#[derive(Debug, Clone, PartialEq)]
pub struct PatronSnapshot {
    pub id: PatronId,
    pub names: Vec<PersonName>,
    pub identifiers: Vec<Identifier>,
    pub addresses: Vec<Address>,
    pub birth_date: Option<NaiveDate>,
    pub preferences: Preferences,
    pub consents: Vec<Consent>,
    pub flags: Vec<Flag>,
    pub notes: Vec<Note>,
    pub history: Vec<Interaction>,
    pub stats: PatronStats,
    pub genres: Vec<(String, u32)>,
}

/// One issued ticket as memory shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketSnapshot {
    pub id: String,
    pub order: String,
    pub buyer: PatronId,
    pub holder: PatronId,
    pub refunded: bool,
    pub scanned_in: bool,
}

/// Everything memory shows through its public API.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub patron_count: usize,
    pub event_count: usize,
    pub patrons: Vec<PatronSnapshot>,
    pub performances: Vec<Performance>,
    pub tickets: Vec<(String, Vec<TicketSnapshot>)>,
}

/// Takes a snapshot of `memory`.
pub fn snapshot(memory: &Memory) -> Snapshot {
    let patrons = memory
        .patrons()
        .map(|p| PatronSnapshot {
            id: p.id(),
            names: p.names().to_vec(),
            identifiers: p.identifiers().to_vec(),
            addresses: p.addresses().to_vec(),
            birth_date: p.birth_date(),
            preferences: p.preferences().clone(),
            consents: p.consents().to_vec(),
            flags: p.flags().to_vec(),
            notes: p.notes().to_vec(),
            history: p.history().to_vec(),
            stats: p.stats().clone(),
            genres: p
                .genres()
                .into_iter()
                .map(|(g, n)| (g.to_owned(), n))
                .collect(),
        })
        .collect();
    let performances: Vec<Performance> = memory.catalog().performances().cloned().collect();
    let tickets = performances
        .iter()
        .map(|perf| {
            let id = perf.id().as_str();
            let tickets = memory
                .tickets_for(id)
                .expect("catalog performance")
                .map(|t| TicketSnapshot {
                    id: t.id().to_string(),
                    order: t.order().to_string(),
                    buyer: t.buyer(),
                    holder: t.holder(),
                    refunded: t.is_refunded(),
                    scanned_in: t.is_scanned_in(),
                })
                .collect();
            (id.to_owned(), tickets)
        })
        .collect();
    Snapshot {
        patron_count: memory.patron_count(),
        event_count: memory.event_count(),
        patrons,
        performances,
        tickets,
    }
}

/// Panics unless `text` (compared case-insensitively) contains none of `secrets`.
pub fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    let lower = text.to_lowercase();
    for secret in secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{what} shows personal data {secret:?}: {text}"
        );
    }
}

/// Panics unless the error's message and `Debug` hide every one of `secrets`.
pub fn assert_error_hides(error: &Error, secrets: &[&str]) {
    assert_no_secrets("error message", &error.to_string(), secrets);
    assert_no_secrets("error Debug", &format!("{error:?}"), secrets);
}

// ---------------------------------------------------------------- data directories

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// A directory no other test (in this process or another) uses.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("regulars-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Names of the files in the directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("data directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
