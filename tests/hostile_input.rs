//! Whatever a vendor sends, `observe` and `recognize` answer with a value or a typed
//! error: they never panic, and a rejected event leaves memory as it was.

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use regulars::normalize::Country;
use regulars::{
    Event, ManualClock, Memory, Order, Performance, Production, Scan, Seat, Signals, Ticket, Venue,
};

fn memory() -> Memory {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 1, 19, 30, 0)
        .single()
        .expect("valid date");
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(start))
        .build()
        .expect("valid configuration");
    memory
        .define_venue(Venue::new("main", "Main House"))
        .expect("venue");
    memory
        .define_production(Production::new("hamlet", "Hamlet").genre("drama"))
        .expect("production");
    memory
        .define_performance(Performance::new("hamlet-1", "hamlet", "main", start))
        .expect("performance");
    memory
}

/// Strings of the kinds vendors really send: empty, plausible, Unicode soup, control
/// and invisible characters, and long runs.
fn hostile() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z .'+@-]{1,24}",
        "[a-z]{1,8}@[a-z]{1,8}\\.(com|org)",
        "\\+?[0-9 ()-]{3,20}",
        any::<String>(),
        "[\\x00-\\x1f\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{feff}a-z]{0,16}",
        "\\PC{0,40}",
        (1usize..5000).prop_map(|n| "é".repeat(n)),
    ]
    .boxed()
}

/// Boxed: nested strategy types this deep overflow a test thread's stack in debug builds.
fn signals() -> BoxedStrategy<Signals> {
    (
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of((hostile(), hostile())),
        proptest::option::of(-100_000i32..100_000),
    )
        .prop_map(
            |(given, family, email, phone, postcode, country, card, external, days)| {
                let mut s = Signals::new();
                if let Some(v) = given {
                    s = s.given_name(v);
                }
                if let Some(v) = family {
                    s = s.family_name(v);
                }
                if let Some(v) = email {
                    s = s.email(v);
                }
                if let Some(v) = phone {
                    s = s.phone(v);
                }
                if let Some(v) = postcode {
                    s = s.postcode(v);
                }
                if let Some(v) = country {
                    s = s.country(v);
                }
                if let Some(v) = card {
                    s = s.card_token(v);
                }
                if let Some((system, value)) = external {
                    s = s.external_id(system, value);
                }
                if let Some(d) = days {
                    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
                    if let Some(date) = epoch.checked_add_signed(chrono::TimeDelta::days(d.into()))
                    {
                        s = s.birth_date(date);
                    }
                }
                s
            },
        )
        .boxed()
}

proptest! {
    #[test]
    fn observe_never_panics_and_rejections_change_nothing(
        buyer in signals(),
        holder in proptest::option::of(signals()),
        event_id in hostile(),
        order_id in hostile(),
        ticket_id in hostile(),
        seat in hostile(),
        performance in prop_oneof![Just("hamlet-1".to_owned()), hostile()],
    ) {
        let mut memory = memory();
        // Someone already known, whose record must survive whatever comes next.
        memory
            .observe(Event::order("seed", Order::new("seed-o", Signals::new().email("ana@example.org"))))
            .expect("seed order");
        let before = (memory.patron_count(), memory.event_count(), memory.ticket(&ticket_id).is_some());

        let mut ticket = Ticket::new(ticket_id.clone(), performance).seat(Seat::new(seat));
        if let Some(holder) = holder {
            ticket = ticket.holder(holder);
        }
        let event = Event::order(event_id, Order::new(order_id, buyer.clone()).ticket(ticket));
        match memory.observe(event) {
            Ok(observation) => {
                prop_assert!(memory.patron(observation.patron()).is_some());
                prop_assert_eq!(memory.event_count(), before.1 + 1);
                // The ticket it issued can be scanned.
                prop_assert!(memory.observe(Event::scan("scan", Scan::entry(ticket_id))).is_ok());
            }
            Err(error) => {
                prop_assert!(!error.to_string().is_empty());
                prop_assert_eq!(
                    (memory.patron_count(), memory.event_count(), memory.ticket(&ticket_id).is_some()),
                    before
                );
            }
        }
        // The read-only half must not panic either.
        let _ = memory.recognize(&buyer);
        prop_assert!(memory.recognize(&Signals::new().email("ana@example.org")).is_ok());
    }
}
