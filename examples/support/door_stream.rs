//! The journal benches' event stream, shared by `benches/journal.rs` and
//! `examples/recovery.rs` so both time the same journal: one venue, one production with
//! [`PERFORMANCES`] evenings, and a stream in which every other event is an order with
//! one seated ticket by one of `patrons` people (typed with a name, e-mail and phone; a
//! third of them new on their first order, the rest returning) and the others the entry
//! scan of the ticket just ordered. Deterministic: event `n` is always the same.
//!
//! Include it by path, allowing dead code:
//! `#[path = "support/door_stream.rs"] #[allow(dead_code)] mod door_stream;`.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use regulars::normalize::Country;
use regulars::{
    Event, ManualClock, Memory, MemoryBuilder, Order, Performance, Production, Scan, Signals,
    Ticket, Venue,
};

/// Evenings in the catalog.
pub const PERFORMANCES: usize = 200;

/// The first evening, and the time of event 0.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 19, 30, 0)
        .single()
        .expect("valid date")
}

/// Memory's configuration for the stream: British phone numbers, the clock at [`start`].
pub fn config() -> MemoryBuilder {
    Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(start()))
}

/// Defines the venue, the production and its evenings.
pub fn define_catalog(memory: &mut Memory) -> regulars::Result<()> {
    memory.define_venue(Venue::new("main", "Main House"))?;
    memory.define_production(Production::new("rep", "Repertory").genre("drama"))?;
    for p in 0..PERFORMANCES {
        memory.define_performance(Performance::new(
            format!("perf-{p}"),
            "rep",
            "main",
            start() + TimeDelta::days(p as i64),
        ))?;
    }
    Ok(())
}

/// Event `n` of the stream, by one of `patrons` people.
pub fn event(n: usize, patrons: usize) -> Event {
    let at = start() + TimeDelta::seconds(n as i64);
    let order = n / 2;
    if n % 2 == 1 {
        return Event::scan(format!("s-{order}"), Scan::entry(format!("t-{order}"))).at(at);
    }
    let i = (order * 7919) % patrons;
    let buyer = Signals::new()
        .given_name(format!("Given{i}"))
        .family_name(format!("Family{}", i % 997))
        .email(format!("patron.{i}@example.org"))
        .phone(format!("07700 9{:05}", i % 100_000));
    let order = Order::new(format!("o-{order}"), buyer).ticket(
        Ticket::new(
            format!("t-{order}"),
            format!("perf-{}", order % PERFORMANCES),
        )
        .seat_label("F12"),
    );
    Event::order(format!("e-{n}"), order).at(at)
}
