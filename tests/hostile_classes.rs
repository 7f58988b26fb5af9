//! Classes of hostile input that the other test files do not cover, one test per class
//! (see RELIABILITY.md for the whole table). Where the crate accepts something odd on
//! purpose, or has a known limit, the test pins down what happens so that a change is
//! noticed.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::*;
use regulars::import::OrderCsv;
use regulars::normalize::{self, Rejection};
use regulars::{
    Currency, Donation, Error, Event, IdentifierKind, LineItem, Membership, Memory, Money, Note,
    PatronId, Performance, Production, ProfileChange, Purchase, Refund, Scan, Seat, Signals,
    Ticket, Venue,
};

/// A memory where Ana ordered two tickets and Ben one.
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
    observe(
        &mut memory,
        order("e-2", "o-2", ben(), [ticket("t-3", "hamlet-1")]),
    );
    (memory, ana)
}

/// Observes an event that must fail, and checks that memory did not change and that the
/// message is short and free of the personal values given.
fn rejected(memory: &mut Memory, event: Event, secrets: &[&str]) -> Error {
    let before = snapshot(memory);
    let err = memory
        .observe(event)
        .expect_err("the event must be rejected");
    assert_eq!(snapshot(memory), before, "a rejected event changed memory");
    let message = err.to_string();
    assert!(message.len() < 400, "message of {} bytes", message.len());
    assert_error_hides(&err, secrets);
    err
}

fn reason(err: &Error) -> &Rejection {
    match err {
        Error::InvalidInput { reason, .. } => reason,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn location(err: &Error) -> &str {
    match err {
        Error::InvalidInput { location, .. } => location,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// Every place a vendor string goes into an event, with `value` put there, and the field
/// path the error must name.
fn every_field(value: &str) -> Vec<(Event, &'static str)> {
    let person = || Signals::new().given_name("Cleo").email("cleo@example.com");
    let with = |s: Signals| order("e-x", "o-x", s, [ticket("t-x", "hamlet-3")]);
    let at = order_time();
    vec![
        (with(person().street(value)), "order.buyer.street"),
        (with(person().city(value)), "order.buyer.city"),
        (with(person().postcode(value)), "order.buyer.postcode"),
        (with(person().phone(value)), "order.buyer.phone"),
        (with(person().country(value)), "order.buyer.country"),
        (with(person().card_token(value)), "order.buyer.card_token"),
        (
            with(person().external_id("loyalty", value)),
            "order.buyer.external_ids.value",
        ),
        (
            with(person().external_id(value, "L-1")),
            "order.buyer.external_ids.system",
        ),
        (
            with(Signals::new().email("cleo@example.com").given_name(value)),
            "order.buyer.given_name",
        ),
        (
            with(Signals::new().given_name("Cleo").email(value)),
            "order.buyer.email",
        ),
        (
            order("e-x", value, person(), [ticket("t-x", "hamlet-3")]),
            "order.id",
        ),
        (
            order("e-x", "o-x", person(), [ticket(value, "hamlet-3")]),
            "order.tickets[0].id",
        ),
        (
            order(
                "e-x",
                "o-x",
                person(),
                [ticket("t-x", "hamlet-3").seat(Seat::new(value))],
            ),
            "order.tickets[0].seat.label",
        ),
        (
            order(
                "e-x",
                "o-x",
                person(),
                [ticket("t-x", "hamlet-3").seat(Seat::new("A1").in_section(value))],
            ),
            "order.tickets[0].seat.section",
        ),
        (order("e-x", "o-x", person(), []), "event id"),
        (
            Event::scan("e-x", Scan::entry("t-1").scan_id(value)).at(at),
            "scan.scan_id",
        ),
        (
            Event::donation("e-x", Donation::new(person(), gbp(100)).fund(value)).at(at),
            "donation.fund",
        ),
        (
            Event::membership(
                "e-x",
                Membership::new(person(), value, date(2026, 1, 1), date(2026, 12, 31)),
            )
            .at(at),
            "membership.scheme",
        ),
        (
            Event::purchase(
                "e-x",
                Purchase::new(person()).item(LineItem::new(value, 1, gbp(100))),
            )
            .at(at),
            "purchase.items[0].sku",
        ),
    ]
}

/// The event id case of [`every_field`] puts the value in the event id.
fn place(event: Event, field: &str, value: &str) -> Event {
    if field == "event id" {
        Event::new(value, event.kind().clone()).at(order_time())
    } else {
        event
    }
}

// ---------------------------------------------------------------- size

#[test]
fn a_megabyte_in_any_field_is_refused_by_its_length() {
    let (mut memory, _) = populated();
    let megabyte = "Q".repeat(1 << 20);
    for (event, field) in every_field(&megabyte) {
        let event = place(event, field, &megabyte);
        let err = rejected(&mut memory, event, &["QQQQQQQQ"]);
        assert!(location(&err).ends_with(field), "{err}");
        assert!(
            matches!(reason(&err), Rejection::TooLong { .. }),
            "{field}: {err:?}"
        );
    }
    // Catalog entries and profile text too.
    let err = memory
        .define_venue(Venue::new("barn", megabyte.as_str()))
        .expect_err("huge name");
    assert!(matches!(reason(&err), Rejection::TooLong { .. }), "{err:?}");
    let err = memory
        .define_production(Production::new("macbeth", megabyte.as_str()))
        .expect_err("huge title");
    assert!(matches!(reason(&err), Rejection::TooLong { .. }), "{err:?}");
    let ana = memory.patrons().next().expect("a patron").id();
    let err = memory
        .update_profile(
            ana,
            ProfileChange::AddNote(Note::new(megabyte.as_str(), t0())),
        )
        .expect_err("huge note");
    assert!(matches!(reason(&err), Rejection::TooLong { .. }), "{err:?}");
    assert!(memory.catalog().venue("barn").is_none());
}

#[test]
fn a_megabyte_reference_is_refused_and_never_quoted_whole() {
    let (mut memory, _) = populated();
    let megabyte = "Q".repeat(1 << 20);
    for event in [
        order("e-x", "o-x", cleo(), [ticket("t-x", megabyte.as_str())]),
        Event::purchase(
            "e-x",
            Purchase::new(cleo()).at_performance(megabyte.as_str()),
        )
        .at(order_time()),
        Event::scan("e-x", Scan::entry(megabyte.as_str())).at(order_time()),
        Event::refund("e-x", Refund::whole_order(megabyte.as_str())).at(order_time()),
    ] {
        let err = rejected(&mut memory, event, &[]);
        // Ids are not personal data and are quoted to help find the event, but cut short.
        assert!(
            matches!(
                err,
                Error::UnknownPerformance { .. }
                    | Error::InvalidInput {
                        reason: Rejection::TooLong { .. },
                        ..
                    }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().len() < 200,
            "{} bytes",
            err.to_string().len()
        );
    }
}

// ---------------------------------------------------------------- control characters

#[test]
fn control_characters_in_any_field_are_refused() {
    let (mut memory, _) = populated();
    for control in [
        "\u{0}",
        "\u{7}",
        "\u{1b}[2J",
        "\u{7f}",
        "\u{85}",
        "\u{9b}31m",
    ] {
        let value = format!("Quux{control}9");
        for (event, field) in every_field(&value) {
            let event = place(event, field, &value);
            let err = rejected(&mut memory, event, &["quux"]);
            assert!(location(&err).ends_with(field), "{err}");
            assert!(
                matches!(
                    reason(&err),
                    Rejection::ControlCharacter { .. } | Rejection::Malformed { .. }
                ),
                "{field} {control:?}: {err:?}"
            );
            // Never echoed into logs or terminals.
            assert!(!err.to_string().contains(control), "{field}: {err}");
        }
    }
}

#[test]
fn control_characters_in_references_are_escaped_in_messages() {
    let (mut memory, _) = populated();
    let err = rejected(
        &mut memory,
        order("e-x", "o-x", cleo(), [ticket("t-x", "ghost\u{1b}[2J")]),
        &[],
    );
    assert!(matches!(err, Error::UnknownPerformance { .. }), "{err:?}");
    assert!(!err.to_string().contains('\u{1b}'), "{err}");
    assert!(err.to_string().contains("ghost\\u{1b}[2J"), "{err}");
}

// ---------------------------------------------------------------- invisible characters

#[test]
fn bidi_overrides_and_zero_width_characters_do_not_hide_a_returning_patron() {
    let (mut memory, ana) = populated();
    // Ana again, her details salted with characters that render as nothing.
    let disguised = Signals::new()
        .given_name("\u{202E}Ana\u{200B}")
        .family_name("Sil\u{200D}va\u{2066}")
        .email("\u{FEFF}ana.silva\u{200B}@example.org\u{200F}")
        .phone("020\u{200B}7946\u{2060}0018");
    let seen = observe(
        &mut memory,
        order("e-x", "o-x", disguised, [ticket("t-x", "hamlet-3")]),
    );
    assert_eq!(seen.patron(), ana, "{}", seen.recognition().explain());
    let patron = memory.patron(ana).expect("ana");
    // What staff see has none of them.
    for name in patron.names() {
        let shown = name.display();
        assert!(
            !shown.contains(['\u{202E}', '\u{200B}', '\u{200D}', '\u{2066}']),
            "{shown:?}"
        );
    }
    for id in patron.identifiers() {
        assert!(
            id.value()
                .chars()
                .all(|c| !c.is_whitespace() && c.is_ascii())
        );
    }
}

#[test]
fn bidi_overrides_in_vendor_ids_and_labels_are_kept_verbatim_and_escaped_in_messages() {
    let (mut memory, _) = populated();
    // Ids and seat labels are the vendor's opaque strings: memory keeps them as given, so
    // "F12" and "F\u{202E}12" are two labels (see RELIABILITY.md).
    let label = "F\u{202E}21";
    observe(
        &mut memory,
        order("e-x", "o-x", cleo(), [seated("t-x", "hamlet-3", label)]),
    );
    let seat = memory.ticket("t-x").expect("issued").seat().cloned();
    assert_eq!(seat.map(|s| s.label().to_owned()), Some(label.to_owned()));
    // In messages they are escaped, so a log line cannot be reordered by them.
    let err = rejected(
        &mut memory,
        Event::scan("e-y", Scan::entry("t-\u{202E}x")).at(order_time()),
        &[],
    );
    assert!(!err.to_string().contains('\u{202E}'), "{err}");
    assert!(err.to_string().contains("\\u{202e}"), "{err}");
}

// ---------------------------------------------------------------- e-mails

#[test]
fn a_homoglyph_email_is_another_mailbox() {
    let (memory, ana) = populated();
    // Cyrillic "а" and full-width letters look like Ana's address but are other
    // mailboxes: they never link by e-mail alone.
    for lookalike in [
        "\u{0430}na.silva@example.org",
        "ana.silva@ex\u{0430}mple.org",
        "\u{FF41}na.silva@example.org",
    ] {
        let normalized = normalize::email(lookalike).expect("a valid address");
        assert_ne!(normalized, "ana.silva@example.org");
        let recognition = memory
            .recognize(&Signals::new().email(lookalike))
            .expect("usable");
        assert_eq!(recognition.known_patron(), None, "{lookalike}");
    }
    // With her name and phone as well, it is Ana, and the look-alike e-mail counts
    // against her, as any other address would.
    let recognition = memory
        .recognize(
            &Signals::new()
                .given_name("Ana")
                .family_name("Silva")
                .phone("020 7946 0018")
                .email("\u{0430}na.silva@example.org"),
        )
        .expect("usable");
    assert_eq!(
        recognition.known_patron(),
        Some(ana),
        "{}",
        recognition.explain()
    );
    assert!(
        recognition.explain().contains("email disagrees"),
        "{}",
        recognition.explain()
    );
    // A name in look-alike letters folds to the same key.
    assert_eq!(normalize::name("\u{0410}na"), Ok("ana".to_owned()));
}

#[test]
fn quoted_and_bracketed_addresses_are_refused_with_a_reason() {
    let (mut memory, _) = populated();
    for address in [
        "\"ana silva\"@example.org",
        "Ana Silva <ana.silva@example.org>",
        "ana.silva@[192.0.2.1]",
        "ana(comment)@example.org",
    ] {
        let err = rejected(
            &mut memory,
            order(
                "e-x",
                "o-x",
                Signals::new().given_name("Cleo").email(address),
                [],
            ),
            &["silva"],
        );
        assert!(location(&err).ends_with("order.buyer.email"), "{err}");
        assert!(
            matches!(reason(&err), Rejection::Malformed { .. }),
            "{address}: {err:?}"
        );
    }
}

#[test]
fn idn_addresses_match_in_one_form_only() {
    // Unicode domains are compared case-insensitively…
    assert_eq!(
        normalize::email("Ana@BÜCHER.example"),
        normalize::email("ana@bücher.example")
    );
    // …but neither converted to punycode nor Unicode-normalized: the ACE form and a
    // decomposed "ü" are other strings (a known limit; see RELIABILITY.md).
    assert_ne!(
        normalize::email("ana@xn--bcher-kva.example"),
        normalize::email("ana@bücher.example")
    );
    assert_ne!(
        normalize::email("ana@bu\u{0308}cher.example"),
        normalize::email("ana@b\u{00FC}cher.example")
    );
    // Both forms are accepted, so neither is lost.
    assert!(normalize::email("ana@xn--bcher-kva.example").is_ok());
    assert!(normalize::email("ana@bu\u{0308}cher.example").is_ok());
}

// ---------------------------------------------------------------- phones

#[test]
fn a_phone_with_a_zero_in_parentheses_reads_the_same_twice() {
    // Found by the phone fuzzer: dropping the "(0)" after a calling code without data
    // ("+5") left "+52…" (Mexico), which the second pass read by Mexico's rules.
    for (raw, country) in [
        ("+5 (0)20 790018", regulars::normalize::Country::GR),
        ("+4(0)20 7946 0018", regulars::normalize::Country::GB),
        ("+44 (0)20 7946 0018", regulars::normalize::Country::US),
    ] {
        if let Ok(once) = normalize::phone(raw, country) {
            assert_eq!(normalize::phone(&once, country), Ok(once.clone()), "{raw}");
        }
    }
    assert_eq!(
        normalize::phone("+5 (0)20 790018", regulars::normalize::Country::GR),
        Err(Rejection::TooFewDigits { min: 10 })
    );
    // Romania's code is 40: a "(0)" inside a code is one of its digits.
    assert_eq!(
        normalize::phone("+4(0)21 123 4567", regulars::normalize::Country::GB),
        Ok("+40211234567".to_owned())
    );
}

// ---------------------------------------------------------------- dates and times

fn edge_times() -> [DateTime<Utc>; 4] {
    [
        DateTime::<Utc>::MIN_UTC,
        utc(0, 1, 1, 0, 0),
        utc(9999, 12, 31, 23, 59),
        DateTime::<Utc>::MAX_UTC,
    ]
}

#[test]
fn events_at_the_ends_of_the_calendar_are_recorded_as_given() {
    // Event times are the vendor's; memory does not judge them (see RELIABILITY.md), but
    // nothing computed from them may overflow.
    let (mut memory, _) = populated();
    for (i, at) in edge_times().into_iter().enumerate() {
        let buyer = Signals::new()
            .given_name("Edge")
            .email(format!("edge{i}@example.org"));
        let seen = observe(
            &mut memory,
            order_at(
                &format!("e-edge-{i}"),
                &format!("o-edge-{i}"),
                buyer,
                [ticket(&format!("t-edge-{i}"), "hamlet-3")],
                at,
            ),
        );
        let stats = memory
            .patron(seen.patron())
            .expect("patron")
            .stats()
            .clone();
        assert_eq!(
            (stats.first_seen_at(), stats.last_seen_at()),
            (Some(at), Some(at))
        );
        observe(
            &mut memory,
            entry_at(&format!("s-edge-{i}"), &format!("t-edge-{i}"), at),
        );
        observe(
            &mut memory,
            Event::donation(
                format!("d-edge-{i}"),
                Donation::new(
                    Signals::new().email(format!("edge{i}@example.org")),
                    gbp(100),
                ),
            )
            .at(at),
        );
    }
    // A performance at either end of the calendar, attended.
    for (i, at) in edge_times().into_iter().enumerate() {
        let id = format!("hamlet-edge-{i}");
        memory
            .define_performance(Performance::new(id.as_str(), HAMLET, VENUE, at))
            .expect("any start time");
        observe(
            &mut memory,
            order(
                &format!("e-perf-{i}"),
                &format!("o-perf-{i}"),
                ana(),
                [ticket(&format!("t-perf-{i}"), &id)],
            ),
        );
        observe(
            &mut memory,
            entry_at(&format!("s-perf-{i}"), &format!("t-perf-{i}"), at),
        );
    }
}

#[test]
fn birth_dates_in_year_0_and_9999_are_refused() {
    let (mut memory, _) = populated();
    for born in [
        date(0, 1, 1),
        date(9999, 12, 31),
        chrono::NaiveDate::MIN,
        chrono::NaiveDate::MAX,
    ] {
        let err = rejected(
            &mut memory,
            order("e-x", "o-x", cleo().birth_date(born), []),
            &["cleo"],
        );
        assert!(location(&err).ends_with("order.buyer.birth_date"), "{err}");
    }
    // The check is against the event's own date: an event dated in year 9999 admits a
    // birth date in 9000 (see RELIABILITY.md).
    observe(
        &mut memory,
        order_at(
            "e-far",
            "o-far",
            cleo().birth_date(date(9000, 1, 1)),
            [],
            utc(9999, 1, 1, 0, 0),
        ),
    );
}

#[test]
fn import_reads_timestamps_in_year_0_and_9999_and_refuses_impossible_dates() {
    let csv = "record_id,ts,given_name,birth_date\n\
               r-1,0000-01-01,Ana,\n\
               r-2,9999-12-31T23:59:59Z,Ben,\n\
               r-3,2026-02-30,Cleo,\n\
               r-4,2026-01-01,Dora,0000-00-00\n\
               r-5,+10000-01-01T00:00:00Z,Eve,\n";
    let rows: Vec<_> = OrderCsv::from_reader(csv.as_bytes())
        .expect("header")
        .collect();
    assert_eq!(rows.len(), 5);
    let at = |i: usize| rows[i].as_ref().expect("good row").event().occurred_at();
    assert_eq!(at(0), Some(utc(0, 1, 1, 0, 0)));
    assert_eq!(
        at(1),
        Some(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap())
    );
    for (i, column) in [(2, "ts"), (3, "birth_date"), (4, "ts")] {
        let err = rows[i].as_ref().expect_err("bad date");
        assert_eq!(
            (err.line(), err.column()),
            (Some(i as u64 + 2), Some(column))
        );
        assert!(!err.is_fatal());
    }
}

#[test]
fn out_of_order_events_keep_first_and_last_seen_by_time_not_arrival() {
    let (mut memory, _) = populated();
    let late = order_time() + TimeDelta::days(30);
    let early = order_time() - TimeDelta::days(30);
    let cleo_id = observe(
        &mut memory,
        order_at(
            "e-late",
            "o-late",
            cleo(),
            [ticket("t-late", "hamlet-3")],
            late,
        ),
    )
    .patron();
    observe(
        &mut memory,
        Event::donation("e-early", Donation::new(cleo(), gbp(500))).at(early),
    );
    let patron = memory.patron(cleo_id).expect("cleo");
    assert_eq!(patron.stats().first_seen_at(), Some(early));
    assert_eq!(patron.stats().last_seen_at(), Some(late));
    // History is in the order memory learned it.
    let events: Vec<String> = patron
        .history()
        .iter()
        .map(|i| i.event().to_string())
        .collect();
    assert_eq!(events.first().map(String::as_str), Some("e-late"));
    assert_eq!(events.last().map(String::as_str), Some("e-early"));
}

// ---------------------------------------------------------------- money

#[test]
fn amounts_too_large_to_add_saturate_and_too_large_to_multiply_are_refused() {
    let (mut memory, _) = populated();
    // Money is whole minor units in an i64, so NaN and fractions cannot be expressed.
    let huge = Money::new(i64::MAX, Currency::GBP);
    let seen = observe(
        &mut memory,
        order(
            "e-x",
            "o-x",
            cleo(),
            [
                Ticket::new("t-x", "hamlet-3").price(huge),
                Ticket::new("t-y", "hamlet-3").price(huge),
            ],
        ),
    );
    let stats = memory.patron(seen.patron()).expect("cleo").stats().clone();
    assert_eq!(stats.spend_in(Currency::GBP), i64::MAX);
    // A refund of it all brings spend down without wrapping.
    observe(
        &mut memory,
        Event::refund("e-r", Refund::whole_order("o-x").amount(huge)).at(order_time()),
    );
    let spend = memory
        .patron(seen.patron())
        .expect("cleo")
        .stats()
        .spend_in(Currency::GBP);
    assert!((0..=i64::MAX).contains(&spend), "{spend}");
    // A purchase line whose total does not fit is refused, naming the line.
    let err = rejected(
        &mut memory,
        Event::purchase(
            "e-p",
            Purchase::new(cleo()).item(LineItem::new("wine", 3, huge)),
        )
        .at(order_time()),
        &["cleo"],
    );
    assert!(
        location(&err).ends_with("purchase.items[0].quantity"),
        "{err}"
    );
    let err = rejected(
        &mut memory,
        Event::donation(
            "e-d",
            Donation::new(cleo(), Money::new(i64::MIN, Currency::GBP)),
        )
        .at(order_time()),
        &["cleo"],
    );
    assert!(location(&err).ends_with("donation.amount"), "{err}");
}

// ---------------------------------------------------------------- references and ids

#[test]
fn a_scan_before_its_order_is_refused_and_can_be_sent_again() {
    let (mut memory, _) = populated();
    let scan = entry_at("e-scan", "t-x", starts("hamlet-3"));
    let err = rejected(&mut memory, scan.clone(), &[]);
    assert!(matches!(err, Error::UnknownTicket { .. }), "{err:?}");
    // Once the order is in, the same scan (same event id) goes through.
    let cleo_id = observe(
        &mut memory,
        order("e-x", "o-x", cleo(), [ticket("t-x", "hamlet-3")]),
    )
    .patron();
    let seen = observe(&mut memory, scan);
    assert_eq!(seen.patron(), cleo_id);
    assert!(memory.ticket("t-x").expect("issued").is_scanned_in());
    assert_eq!(
        memory
            .patron(cleo_id)
            .expect("cleo")
            .stats()
            .performances_attended(),
        1
    );
}

#[test]
fn a_scan_timed_before_its_order_counts_the_attendance() {
    // Clocks of scanners and web shops disagree: a scan time before the order time is
    // taken as given.
    let (mut memory, _) = populated();
    let cleo_id = observe(
        &mut memory,
        order_at(
            "e-x",
            "o-x",
            cleo(),
            [ticket("t-x", "hamlet-3")],
            starts("hamlet-3"),
        ),
    )
    .patron();
    observe(
        &mut memory,
        entry_at("e-scan", "t-x", starts("hamlet-3") - TimeDelta::hours(2)),
    );
    let stats = memory.patron(cleo_id).expect("cleo").stats().clone();
    assert_eq!(stats.performances_attended(), 1);
    assert_eq!(
        stats.first_seen_at(),
        Some(starts("hamlet-3") - TimeDelta::hours(2))
    );
}

#[test]
fn a_performance_cannot_move_to_another_production_once_tickets_exist() {
    let (mut memory, _) = populated();
    let before = snapshot(&memory);
    let err = memory
        .define_performance(Performance::new(
            "hamlet-1",
            NUTCRACKER,
            VENUE,
            starts("hamlet-1"),
        ))
        .expect_err("tickets were issued under hamlet");
    assert!(matches!(err, Error::CatalogConflict { .. }), "{err:?}");
    assert_eq!(snapshot(&memory), before);
    // Defining it again as it was, or with another start time, is fine: catalog ids
    // replace what they name.
    let later = starts("hamlet-1") + TimeDelta::hours(1);
    memory
        .define_performance(Performance::new("hamlet-1", HAMLET, VENUE, later))
        .expect("same production");
    assert_eq!(
        memory
            .catalog()
            .performance("hamlet-1")
            .map(|p| p.starts_at()),
        Some(later)
    );
    // A performance without tickets may move.
    memory
        .define_performance(Performance::new(
            "hamlet-4",
            NUTCRACKER,
            VENUE,
            starts("hamlet-4"),
        ))
        .expect("no tickets yet");
}

#[test]
fn an_external_id_given_twice_in_one_record_counts_once() {
    let mut memory = memory();
    let seen = observe(
        &mut memory,
        order(
            "e-x",
            "o-x",
            cleo()
                .external_id("loyalty", "L-1")
                .external_id("Loyalty ", " L-1 "),
            [],
        ),
    );
    let patron = memory.patron(seen.patron()).expect("cleo");
    let external = patron
        .identifiers()
        .iter()
        .filter(|id| id.kind() == IdentifierKind::External)
        .count();
    assert_eq!(external, 1);
}

#[test]
fn ids_differing_only_by_invisible_characters_are_different_ids() {
    // Vendor ids are opaque: a zero-width space makes another ticket (see RELIABILITY.md).
    let (mut memory, _) = populated();
    observe(
        &mut memory,
        order("e-x", "o-x", cleo(), [ticket("t-1\u{200B}", "hamlet-3")]),
    );
    assert!(memory.ticket("t-1").is_some());
    assert!(memory.ticket("t-1\u{200B}").is_some());
}

#[test]
fn a_token_with_a_space_or_a_control_character_says_which() {
    let memory = memory();
    let reason_for = |token: &str| {
        let err = memory
            .recognize(&Signals::new().given_name("Cleo").card_token(token))
            .expect_err("unusable token");
        assert_eq!(location(&err), "signals.card_token");
        reason(&err).clone()
    };
    assert!(matches!(
        reason_for("tok 4242"),
        Rejection::Malformed { .. }
    ));
    assert!(matches!(
        reason_for("tok\u{3000}4242"),
        Rejection::Malformed { .. }
    ));
    // Positions count in the input as given, surrounding whitespace included.
    assert_eq!(
        reason_for("  tok\u{7}"),
        Rejection::ControlCharacter { position: 5 }
    );
    assert_eq!(
        reason_for("\u{7}tok"),
        Rejection::ControlCharacter { position: 0 }
    );
    // A system name is measured before it is copied.
    let err = memory
        .recognize(&Signals::new().external_id("x".repeat(33), "L-1"))
        .expect_err("long system");
    assert_eq!(reason(&err), &Rejection::TooLong { max_bytes: 32 });
}

#[test]
fn an_export_with_old_mac_line_endings_names_each_row_by_its_line() {
    // The CSV reader ends a record at a lone "\r", but only "\n" was counted, so every
    // row was "line 1" (the import fuzzer's line-order check fails on it).
    let csv = "record_id,given_name\rr-1,Ana\rr-2,\"Be\rn\"\rr-3,Cleo\r\nr-4,Dora\n\nr-5,Eve";
    let lines: Vec<u64> = OrderCsv::from_reader(csv.as_bytes())
        .expect("header")
        .map(|row| row.expect("good row").line())
        .collect();
    assert_eq!(lines, [2, 3, 5, 6, 8]);
    let csv = "record_id,birth_date\rr-1,1980-01-01\rr-2,yesterday\r";
    let rows: Vec<_> = OrderCsv::from_reader(csv.as_bytes())
        .expect("header")
        .collect();
    let err = rows[1].as_ref().expect_err("bad date");
    assert_eq!((err.line(), err.column()), (Some(3), Some("birth_date")));

    // Past the point where the reader drops bytes it has counted, with every ending.
    let mut csv = String::from("record_id,given_name,address\r");
    let mut expected = Vec::new();
    let mut line = 2;
    for i in 0..6000 {
        expected.push(line);
        let ending = ["\r", "\n", "\r\n"][i % 3];
        if i % 5 == 0 {
            csv.push_str(&format!("r-{i},Ana,\"1 High St\rFlat {i}\"{ending}"));
            line += 2;
        } else {
            csv.push_str(&format!("r-{i},Ana,1 High St{ending}"));
            line += 1;
        }
    }
    let lines: Vec<u64> = OrderCsv::from_reader(csv.as_bytes())
        .expect("header")
        .map(|row| row.expect("good row").line())
        .collect();
    assert_eq!(lines, expected);
}
