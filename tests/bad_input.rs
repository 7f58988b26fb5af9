//! Bad input: every rejected call returns a typed error naming the event and the field,
//! never quotes the personal value, and leaves memory exactly as it was.

mod common;

use chrono::TimeDelta;
use common::*;
use regulars::{
    Currency, Donation, Error, Event, LineItem, ManualClock, Membership, Memory, Money, Note,
    Order, PatronId, Performance, ProfileChange, Purchase, Refund, Scan, Signals, Ticket,
    normalize::Rejection,
};

/// A memory with some history: Ana bought and attended, Ben bought.
fn populated() -> (Memory, PatronId) {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [seated("t-1", "hamlet-1", "F12"), ticket("t-2", "hamlet-2")],
        ),
    )
    .patron();
    scan_in(&mut memory, "e-2", "t-1");
    observe(
        &mut memory,
        order("e-3", "o-2", ben(), [ticket("t-3", "hamlet-1")]),
    );
    (memory, ana)
}

/// Observes an event that must fail, and checks that memory did not change.
fn rejected(memory: &mut Memory, event: Event) -> Error {
    let before = snapshot(memory);
    let err = memory
        .observe(event)
        .expect_err("the event must be rejected");
    assert_eq!(
        snapshot(memory),
        before,
        "a rejected event changed memory ({err})"
    );
    err
}

/// Checks an `InvalidInput` error: its location names the event and the field, and its
/// message shows neither the personal value nor anything huge.
fn assert_invalid(err: &Error, event: &str, field: &str, secrets: &[&str]) -> Rejection {
    let Error::InvalidInput { location, reason } = err else {
        panic!("expected InvalidInput at {field}, got {err:?}");
    };
    assert!(
        location.contains(field),
        "{location:?} does not name {field}"
    );
    let message = err.to_string();
    assert!(message.contains(field), "{message:?} does not name {field}");
    assert!(message.contains(event), "{message:?} does not name {event}");
    assert!(
        message.len() < 300,
        "message too long: {} bytes",
        message.len()
    );
    assert_error_hides(err, secrets);
    reason.clone()
}

fn buyer_order(event: &str, buyer: Signals) -> Event {
    order(event, "o-new", buyer, [ticket("t-new", "hamlet-3")])
}

// ---------------------------------------------------------------- e-mails and names

#[test]
fn an_empty_email_is_rejected() {
    let (mut memory, _) = populated();
    for empty in ["", "   ", "\u{200B}"] {
        let err = rejected(
            &mut memory,
            buyer_order("e-bad", Signals::new().given_name("Ana").email(empty)),
        );
        let reason = assert_invalid(&err, "e-bad", "order.buyer.email", &[]);
        assert_eq!(reason, Rejection::Empty, "{empty:?}");
    }
    // The event id was not used up by the failures.
    observe(
        &mut memory,
        buyer_order("e-bad", Signals::new().email("new@example.org")),
    );
}

#[test]
fn an_email_without_at_is_rejected() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        buyer_order(
            "e-bad",
            Signals::new()
                .given_name("Ana")
                .email("anastasia.example.org"),
        ),
    );
    let reason = assert_invalid(
        &err,
        "e-bad",
        "order.buyer.email",
        &["anastasia", "example.org"],
    );
    assert!(matches!(reason, Rejection::Malformed { .. }), "{reason:?}");
}

#[test]
fn absurdly_long_names_and_emails_are_rejected() {
    let (mut memory, _) = populated();
    let megabyte = 1 << 20;
    let long_name = "A".repeat(megabyte);
    let long_email = format!("{}@example.org", "q".repeat(megabyte));
    let cases = [
        (
            Signals::new()
                .given_name(long_name.as_str())
                .email("x@example.org"),
            "order.buyer.given_name",
        ),
        (
            Signals::new()
                .family_name(long_name.as_str())
                .email("x@example.org"),
            "order.buyer.family_name",
        ),
        (
            Signals::new().email(long_email.as_str()),
            "order.buyer.email",
        ),
    ];
    for (signals, field) in cases {
        let err = rejected(&mut memory, buyer_order("e-huge", signals));
        let reason = assert_invalid(&err, "e-huge", field, &["AAAAAAAAAA", "qqqqqqqqqq"]);
        assert!(matches!(reason, Rejection::TooLong { .. }), "{reason:?}");
    }
    // Through `recognize` too.
    let err = memory
        .recognize(&Signals::new().given_name(long_name.as_str()))
        .expect_err("too long");
    assert!(err.to_string().contains("signals.given_name"), "{err}");
    assert_error_hides(&err, &["AAAAAAAAAA"]);
}

#[test]
fn control_characters_in_a_name_are_rejected() {
    let (mut memory, _) = populated();
    for (name, field) in [
        ("Anastasia\u{7}", "order.buyer.given_name"),
        ("Anastasia\u{1b}[31m", "order.buyer.given_name"),
        ("Anastasia\u{0}Q", "order.buyer.given_name"),
    ] {
        let err = rejected(
            &mut memory,
            buyer_order(
                "e-ctl",
                Signals::new().given_name(name).email("x@example.org"),
            ),
        );
        let reason = assert_invalid(&err, "e-ctl", field, &["anastasia"]);
        assert!(
            matches!(reason, Rejection::ControlCharacter { .. }),
            "{reason:?}"
        );
        assert!(!err.to_string().contains('\u{1b}'));
    }
    let err = rejected(
        &mut memory,
        buyer_order(
            "e-ctl",
            Signals::new()
                .given_name("Ana")
                .family_name("Quiggles\u{85}worth"),
        ),
    );
    assert_invalid(&err, "e-ctl", "order.buyer.family_name", &["quiggles"]);
}

// ---------------------------------------------------------------- phones

#[test]
fn a_phone_with_letters_is_rejected() {
    let (mut memory, _) = populated();
    for phone in ["020 7946 OO18", "call me", "+44 20 7946 OO18"] {
        let err = rejected(
            &mut memory,
            buyer_order("e-tel", Signals::new().given_name("Ana").phone(phone)),
        );
        let reason = assert_invalid(&err, "e-tel", "order.buyer.phone", &["7946", "call me"]);
        assert!(
            matches!(reason, Rejection::Malformed { .. }),
            "{phone:?}: {reason:?}"
        );
    }
}

#[test]
fn a_national_phone_needs_a_default_country() {
    let clock = ManualClock::new(t0());
    let mut memory = Memory::builder()
        .clock(clock)
        .build()
        .expect("no default country is a valid configuration");
    define_catalog(&mut memory);

    let err = rejected(
        &mut memory,
        buyer_order("e-1", Signals::new().phone("020 7946 0018")),
    );
    assert_invalid(&err, "e-1", "order.buyer.phone", &["7946"]);
    assert_eq!(memory.patron_count(), 0);

    // International numbers need no default country…
    let ana = observe(
        &mut memory,
        buyer_order("e-1", Signals::new().phone("+44 20 7946 0018")),
    )
    .patron();
    assert_eq!(
        memory
            .recognize(&Signals::new().phone("+44 (0)20 7946 0018"))
            .expect("international")
            .known_patron(),
        Some(ana)
    );
    // …and a national one with its country given is read in that country.
    assert_eq!(
        memory
            .recognize(&Signals::new().phone("020 7946 0018").country("GB"))
            .expect("country given")
            .known_patron(),
        Some(ana)
    );
    let err = memory
        .recognize(&Signals::new().phone("020 7946 0018"))
        .expect_err("national without country");
    assert!(err.to_string().contains("signals.phone"), "{err}");
}

// ---------------------------------------------------------------- orders

#[test]
fn an_unknown_performance_in_the_second_ticket_records_nothing() {
    let (mut memory, ana) = populated();
    let err = rejected(
        &mut memory,
        order(
            "e-bad",
            "o-bad",
            Signals::new()
                .given_name("Cleo")
                .email("cleo@example.com")
                .phone("07700 900123"),
            [
                seated("t-ok", "hamlet-3", "A1"),
                ticket("t-ghost", "no-such-show"),
            ],
        ),
    );
    assert!(
        matches!(&err, Error::UnknownPerformance { location, performance }
            if location.contains("order.tickets[1].performance") && performance.contains("no-such-show")),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("e-bad") && message.contains("no-such-show"),
        "{message}"
    );
    assert!(
        memory.ticket("t-ok").is_none(),
        "the first ticket was recorded"
    );
    assert_eq!(memory.tickets_for("hamlet-3").expect("known").count(), 0);
    assert_new(&memory, Signals::new().email("cleo@example.com"));

    // A known buyer learns nothing from a rejected order either.
    let err = rejected(
        &mut memory,
        order(
            "e-bad",
            "o-bad",
            Signals::new()
                .email("ana.silva@example.org")
                .phone("07700 900456"),
            [
                ticket("t-ok", "hamlet-3"),
                ticket("t-ghost", "no-such-show"),
            ],
        ),
    );
    assert!(matches!(err, Error::UnknownPerformance { .. }), "{err:?}");
    assert_new(&memory, Signals::new().phone("07700 900456"));
    assert_eq!(memory.patron(ana).expect("ana").stats().orders(), 1);

    // Corrected, the same ids go through.
    observe(
        &mut memory,
        order(
            "e-bad",
            "o-bad",
            cleo(),
            [
                seated("t-ok", "hamlet-3", "A1"),
                ticket("t-ghost", "hamlet-4"),
            ],
        ),
    );
}

fn assert_new(memory: &Memory, signals: Signals) {
    let recognition = memory.recognize(&signals).expect("usable signals");
    assert_eq!(recognition.decision(), "new", "{recognition:?}");
}

#[test]
fn a_bad_holder_in_the_second_ticket_records_nothing() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        order(
            "e-bad",
            "o-bad",
            cleo(),
            [
                ticket("t-ok", "hamlet-3").holder(ben()),
                ticket("t-bad", "hamlet-3").holder(Signals::new().email("dora at example")),
            ],
        ),
    );
    assert_invalid(
        &err,
        "e-bad",
        "order.tickets[1].holder.email",
        &["dora", "example"],
    );
    assert!(memory.ticket("t-ok").is_none());

    let err = rejected(
        &mut memory,
        order(
            "e-bad",
            "o-bad",
            cleo(),
            [ticket("t-ok", "hamlet-3").holder(Signals::new())],
        ),
    );
    assert!(
        matches!(&err, Error::NoIdentity { location } if location.contains("order.tickets[0].holder")),
        "{err:?}"
    );
}

#[test]
fn a_large_order_cannot_repeat_a_ticket() {
    let (mut memory, _) = populated();
    // Large orders are checked through a set, small ones in place: both refuse.
    for size in [3, 40] {
        let mut tickets: Vec<_> = (0..size)
            .map(|i| ticket(&format!("t-big-{i}"), "hamlet-3"))
            .collect();
        tickets.push(ticket("t-big-1", "hamlet-4"));
        let err = rejected(&mut memory, order("e-big", "o-big", cleo(), tickets));
        assert!(
            matches!(&err, Error::DuplicateId { kind: "ticket", id, .. } if id.contains("t-big-1")),
            "{size} tickets: {err:?}"
        );
        assert!(memory.ticket("t-big-0").is_none());
    }
}

#[test]
fn a_ticket_id_cannot_be_used_twice() {
    let (mut memory, _) = populated();
    // Within one order.
    let err = rejected(
        &mut memory,
        order(
            "e-dup",
            "o-dup",
            cleo(),
            [ticket("t-9", "hamlet-3"), ticket("t-9", "hamlet-4")],
        ),
    );
    assert!(
        matches!(&err, Error::DuplicateId { kind: "ticket", id, event } if id.contains("t-9") && event.contains("e-dup")),
        "{err:?}"
    );
    assert!(memory.ticket("t-9").is_none());

    // Across orders: t-1 was issued in o-1.
    let err = rejected(
        &mut memory,
        order(
            "e-dup",
            "o-dup",
            cleo(),
            [ticket("t-10", "hamlet-3"), ticket("t-1", "hamlet-3")],
        ),
    );
    assert!(
        matches!(&err, Error::DuplicateId { kind: "ticket", id, .. } if id.contains("t-1")),
        "{err:?}"
    );
    assert!(memory.ticket("t-10").is_none());
    assert_eq!(
        memory
            .ticket("t-1")
            .expect("t-1")
            .performance()
            .map(|p| p.id().as_str()),
        Some("hamlet-1")
    );
    assert_error_hides(&err, &["cleo"]);
}

#[test]
fn an_order_id_cannot_be_used_twice() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        order("e-dup", "o-1", cleo(), [ticket("t-new", "hamlet-3")]),
    );
    assert!(
        matches!(&err, Error::DuplicateId { kind: "order", id, event } if id.contains("o-1") && event.contains("e-dup")),
        "{err:?}"
    );
    assert!(err.to_string().contains("o-1"));
    assert_error_hides(&err, &["cleo"]);
}

#[test]
fn negative_amounts_are_rejected() {
    let (mut memory, _) = populated();
    let minus = gbp(-1);
    let cases = [
        (
            order(
                "e-neg",
                "o-neg",
                cleo(),
                [
                    ticket("t-a", "hamlet-3"),
                    Ticket::new("t-b", "hamlet-3").price(minus),
                ],
            ),
            "order.tickets[1].price",
        ),
        (
            Event::donation("e-neg", Donation::new(cleo(), minus)).at(order_time()),
            "donation.amount",
        ),
        (
            Event::refund("e-neg", Refund::whole_order("o-1").amount(minus)).at(order_time()),
            "refund.amount",
        ),
        (
            Event::purchase(
                "e-neg",
                Purchase::new(cleo()).item(LineItem::new("wine", 1, minus)),
            )
            .at(order_time()),
            "purchase.items[0].unit_price",
        ),
        (
            Event::membership(
                "e-neg",
                Membership::new(cleo(), "Friends", date(2026, 1, 1), date(2026, 12, 31))
                    .price(Money::new(-500, Currency::EUR)),
            )
            .at(order_time()),
            "membership.price",
        ),
    ];
    for (event, field) in cases {
        let err = rejected(&mut memory, event);
        assert_invalid(&err, "e-neg", field, &["cleo"]);
    }
    assert!(memory.ticket("t-a").is_none());
}

#[test]
fn a_seat_needs_a_printable_label() {
    let (mut memory, _) = populated();
    for (seat, field) in [
        (regulars::Seat::new(""), "order.tickets[1].seat.label"),
        (
            regulars::Seat::new("F\u{7}12"),
            "order.tickets[1].seat.label",
        ),
        (
            regulars::Seat::new("F12").in_section("   "),
            "order.tickets[1].seat.section",
        ),
    ] {
        let err = rejected(
            &mut memory,
            order(
                "e-seat",
                "o-seat",
                cleo(),
                [
                    ticket("t-a", "hamlet-3"),
                    ticket("t-b", "hamlet-3").seat(seat),
                ],
            ),
        );
        assert_invalid(&err, "e-seat", field, &["cleo"]);
    }
    assert!(memory.ticket("t-a").is_none());
}

// ---------------------------------------------------------------- references

#[test]
fn scans_and_refunds_must_refer_to_known_tickets_and_orders() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        entry_at("e-scan", "t-unknown", starts("hamlet-1")),
    );
    assert!(
        matches!(&err, Error::UnknownTicket { location, ticket }
            if location.contains("scan.ticket") && location.contains("e-scan") && ticket.contains("t-unknown")),
        "{err:?}"
    );

    let err = rejected(
        &mut memory,
        Event::refund("e-ref", Refund::whole_order("o-unknown")).at(order_time()),
    );
    assert!(
        matches!(&err, Error::UnknownOrder { location, order }
            if location.contains("refund.order") && location.contains("e-ref") && order.contains("o-unknown")),
        "{err:?}"
    );

    // A ticket that exists, but in another order.
    let err = rejected(
        &mut memory,
        Event::refund("e-ref", Refund::tickets("o-1", ["t-1", "t-3"])).at(order_time()),
    );
    assert!(
        matches!(&err, Error::UnknownTicket { location, .. } if location.contains("refund.tickets[1]")),
        "{err:?}"
    );
    assert!(
        !memory.ticket("t-1").expect("t-1").is_refunded(),
        "partially applied"
    );

    // A purchase at an unknown performance.
    let err = rejected(
        &mut memory,
        Event::purchase(
            "e-bar",
            Purchase::new(cleo())
                .at_performance("no-such-show")
                .item(LineItem::new("wine", 1, gbp(700))),
        )
        .at(order_time()),
    );
    assert!(matches!(err, Error::UnknownPerformance { .. }), "{err:?}");
    assert_error_hides(&err, &["cleo"]);
}

// ---------------------------------------------------------------- ids and dates

#[test]
fn an_empty_or_unprintable_event_id_is_rejected() {
    let (mut memory, _) = populated();
    for id in ["", "   ", "e\n1", "e\u{1b}1"] {
        let err = rejected(&mut memory, buyer_order(id, cleo()));
        let Error::InvalidInput { location, .. } = &err else {
            panic!("expected InvalidInput for {id:?}, got {err:?}");
        };
        assert!(location.contains("event id"), "{location:?}");
        assert_error_hides(&err, &["cleo"]);
    }
    let long = "e".repeat(129);
    let err = rejected(&mut memory, buyer_order(&long, cleo()));
    assert!(matches!(
        err,
        Error::InvalidInput {
            reason: Rejection::TooLong { .. },
            ..
        }
    ));
}

#[test]
fn a_birth_date_must_be_between_1880_and_the_event() {
    let (mut memory, _) = populated();
    let day = order_time().date_naive();
    for born in [
        day.succ_opt().expect("tomorrow"),
        date(2090, 1, 1),
        date(1879, 12, 31),
        date(1066, 10, 14),
    ] {
        let err = rejected(&mut memory, buyer_order("e-born", cleo().birth_date(born)));
        assert_invalid(&err, "e-born", "order.buyer.birth_date", &["cleo"]);
    }
    // The bounds themselves are fine.
    observe(
        &mut memory,
        buyer_order("e-born", cleo().birth_date(date(1880, 1, 1))),
    );
    observe(
        &mut memory,
        Event::donation("e-today", Donation::new(ben().birth_date(day), gbp(100))).at(order_time()),
    );
}

#[test]
fn a_membership_cannot_end_before_it_starts() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        Event::membership(
            "e-mem",
            Membership::new(cleo(), "Friends", date(2026, 12, 31), date(2026, 1, 1)),
        )
        .at(order_time()),
    );
    assert_invalid(&err, "e-mem", "membership.valid_to", &["cleo"]);
    // A one-day membership is fine.
    observe(
        &mut memory,
        Event::membership(
            "e-mem",
            Membership::new(cleo(), "Day pass", date(2026, 3, 1), date(2026, 3, 1)),
        )
        .at(order_time()),
    );
}

#[test]
fn a_purchase_line_needs_a_quantity() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        Event::purchase(
            "e-bar",
            Purchase::new(cleo())
                .item(LineItem::new("wine", 1, gbp(700)))
                .item(LineItem::new("crisps", 0, gbp(150))),
        )
        .at(order_time()),
    );
    assert_invalid(&err, "e-bar", "purchase.items[1].quantity", &["cleo"]);
}

// ---------------------------------------------------------------- identity

#[test]
fn signals_with_nothing_are_no_identity() {
    let (mut memory, _) = populated();
    let err = rejected(&mut memory, buyer_order("e-anon", Signals::new()));
    assert!(
        matches!(&err, Error::NoIdentity { location } if location.contains("order.buyer") && location.contains("e-anon")),
        "{err:?}"
    );
    // An address alone does not identify anyone either.
    let err = rejected(
        &mut memory,
        Event::donation(
            "e-anon",
            Donation::new(Signals::new().postcode("SW1A 1AA").city("London"), gbp(100)),
        )
        .at(order_time()),
    );
    assert!(matches!(err, Error::NoIdentity { .. }), "{err:?}");
    assert_error_hides(&err, &["sw1a", "london"]);

    let err = memory
        .recognize(&Signals::new())
        .expect_err("nothing to go on");
    assert!(matches!(err, Error::NoIdentity { .. }), "{err:?}");

    let err = rejected(
        &mut memory,
        Event::scan("e-anon", Scan::entry("")).at(order_time()),
    );
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
}

#[test]
fn recognize_rejects_unusable_signals_without_quoting_them() {
    let (memory, _) = populated();
    let before = snapshot(&memory);
    let err = memory
        .recognize(&Signals::new().email("anastasia(at)example.org"))
        .expect_err("malformed");
    let Error::InvalidInput { location, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(location, "signals.email");
    assert_error_hides(&err, &["anastasia", "example.org"]);
    assert_eq!(snapshot(&memory), before);
}

// ---------------------------------------------------------------- catalog and profile

#[test]
fn a_performance_needs_a_known_production_and_venue() {
    let (mut memory, _) = populated();
    let before = snapshot(&memory);
    let at = starts("hamlet-4") + TimeDelta::days(7);

    let err = memory
        .define_performance(Performance::new("macbeth-1", "macbeth", VENUE, at))
        .expect_err("unknown production");
    assert!(
        matches!(&err, Error::UnknownCatalogEntry { kind: "production", id, .. } if id.contains("macbeth")),
        "{err:?}"
    );
    assert!(err.to_string().contains("macbeth-1"), "{err}");

    let err = memory
        .define_performance(Performance::new("hamlet-9", HAMLET, "the-barn", at))
        .expect_err("unknown venue");
    assert!(
        matches!(&err, Error::UnknownCatalogEntry { kind: "venue", id, .. } if id.contains("the-barn")),
        "{err:?}"
    );

    assert!(memory.catalog().performance("macbeth-1").is_none());
    assert!(memory.catalog().performance("hamlet-9").is_none());
    assert!(memory.tickets_for("hamlet-9").is_none());
    assert_eq!(snapshot(&memory), before);
}

#[test]
fn update_profile_needs_a_known_patron_and_usable_text() {
    let (mut memory, ana) = populated();
    let before = snapshot(&memory);
    let stranger = PatronId::from_u64(99);
    let err = memory
        .update_profile(stranger, ProfileChange::PrefersNoFuss(true))
        .expect_err("unknown patron");
    assert_eq!(err, Error::UnknownPatron(stranger));
    assert!(err.to_string().contains("P99"), "{err}");
    assert_eq!(snapshot(&memory), before);

    for note in ["", "   ", "Rang about \u{7} Anastasia"] {
        let err = memory
            .update_profile(ana, ProfileChange::AddNote(Note::new(note, t0())))
            .expect_err("unusable note");
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains("note.text"), "{err}");
        assert_error_hides(&err, &["anastasia"]);
    }
    assert_eq!(snapshot(&memory), before);
}

#[test]
fn errors_name_the_field_and_event_but_not_the_value() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        Event::order(
            "web-1001",
            Order::new(
                "o-1001",
                Signals::new()
                    .given_name("Anastasia")
                    .family_name("Quigglesworth")
                    .email("anastasia.quigglesworth"),
            )
            .ticket(Ticket::new("t-1001", "hamlet-3")),
        )
        .at(order_time()),
    );
    let message = err.to_string();
    assert!(message.contains("order.buyer.email"), "{message}");
    assert!(message.contains("web-1001"), "{message}");
    assert_error_hides(&err, &["anastasia", "quiggles"]);
}
