//! Bounded memory: every limit of `Limits` holds at its boundary (exactly at the limit is
//! accepted, one past is refused or evicted as documented), a refused event changes
//! nothing, and a flood of junk keeps every patron within the limits.

mod common;

use common::TempDir;

use std::sync::{Arc, Mutex};

use common::*;
use proptest::prelude::*;
use regulars::normalize::Rejection;
use regulars::{
    BlockingKey, BlockingKeys, Candidates, Evidence, IndexView, Limits, NormalizedSignals,
    PatronId, PatronView, Strategy as RecognitionStrategy, Thresholds,
};
use regulars::{
    Donation, Error, Event, LineItem, ManualClock, Membership, Memory, MemoryBuilder, Note,
    Production, ProfileChange, Purchase, Refund, Scan, Signals, Venue,
};

/// A memory with the test catalog, the test clock and these limits.
fn limited(limits: Limits) -> Memory {
    let clock = ManualClock::new(t0());
    build(builder(&clock).limits(limits))
}

/// The builder of [`limited`], for the tests that configure more.
fn limited_builder(limits: Limits) -> MemoryBuilder {
    builder(&ManualClock::new(t0())).limits(limits)
}

/// Observes an event that must be refused, and checks that memory did not change.
fn refused(memory: &mut Memory, event: Event) -> Error {
    let before = snapshot(memory);
    let err = memory
        .observe(event)
        .expect_err("the event must be refused");
    assert_eq!(snapshot(memory), before, "a refused event changed memory");
    err
}

/// The location and rejection of an `InvalidInput` error.
fn invalid_input(err: &Error) -> (&str, &Rejection) {
    match err {
        Error::InvalidInput { location, reason } => (location, reason),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// An order with no tickets: one interaction for its buyer.
fn bare_order(n: usize, buyer: Signals) -> Event {
    order(&format!("e-{n}"), &format!("o-{n}"), buyer, [])
}

fn history_len(memory: &Memory, patron: PatronId) -> usize {
    memory.patron(patron).expect("patron").history().len()
}

/// Panics unless every patron is within `limits`.
fn assert_within(memory: &Memory, limits: &Limits) {
    for patron in memory.patrons() {
        let id = patron.id();
        assert!(
            patron.names().len() <= limits.max_names_per_patron(),
            "{id}: names"
        );
        assert!(
            patron.identifiers().len() <= limits.max_identifiers_per_patron(),
            "{id}: identifiers"
        );
        assert!(
            patron.addresses().len() <= limits.max_addresses_per_patron(),
            "{id}: addresses"
        );
        assert!(
            patron.history().len() <= limits.max_history_per_patron(),
            "{id}: history"
        );
    }
    assert!(memory.reviews().count() <= limits.max_review_queue());
}

// ---------------------------------------------------------------- configuration

#[test]
fn defaults_are_the_limits_memory_always_had() {
    let limits = Limits::default();
    assert_eq!(limits.max_text_bytes(), 4096);
    assert_eq!(limits.max_signal_bytes(), 512);
    assert_eq!(limits.max_tickets_per_order(), 10_000);
    assert_eq!(limits.max_items_per_purchase(), 1_000);
    assert_eq!(limits.max_names_per_patron(), 8);
    assert_eq!(limits.max_identifiers_per_patron(), 32);
    assert_eq!(limits.max_addresses_per_patron(), 8);
    assert_eq!(limits.max_history_per_patron(), 100_000);
    assert_eq!(limits.max_review_queue(), 10_000);
    assert_eq!(Limits::new(), limits);
    assert_eq!(Memory::new().limits(), &limits);
    assert_eq!(
        Memory::builder().build().expect("defaults").limits(),
        &limits
    );
}

#[test]
fn a_limit_that_cannot_work_fails_the_build_naming_it() {
    let cases: [(Limits, &str); 8] = [
        (Limits::default().text_bytes(0), "text_bytes"),
        (Limits::default().signal_bytes(0), "signal_bytes"),
        (Limits::default().tickets_per_order(0), "tickets_per_order"),
        (
            Limits::default().items_per_purchase(0),
            "items_per_purchase",
        ),
        (Limits::default().names_per_patron(0), "names_per_patron"),
        (
            Limits::default().identifiers_per_patron(0),
            "identifiers_per_patron",
        ),
        (
            Limits::default().addresses_per_patron(0),
            "addresses_per_patron",
        ),
        (
            Limits::default()
                .tickets_per_order(10)
                .history_per_patron(10),
            "history_per_patron",
        ),
    ];
    for (limits, name) in cases {
        match Memory::builder().limits(limits).build() {
            Err(Error::InvalidConfig(message)) => assert!(message.contains(name), "{message}"),
            other => panic!("{name}: expected InvalidConfig, got {other:?}"),
        }
    }
    // The smallest limits that work build; an empty review queue is allowed.
    let smallest = Limits::default()
        .text_bytes(1)
        .signal_bytes(1)
        .tickets_per_order(1)
        .items_per_purchase(1)
        .names_per_patron(1)
        .identifiers_per_patron(1)
        .addresses_per_patron(1)
        .history_per_patron(2)
        .review_queue(0);
    let memory = Memory::builder().limits(smallest.clone()).build();
    assert_eq!(memory.expect("smallest limits").limits(), &smallest);
}

#[test]
fn review_limit_is_a_shortcut_for_the_review_queue_limit() {
    let memory = Memory::builder()
        .review_limit(3)
        .build()
        .expect("review limit");
    assert_eq!(memory.limits().max_review_queue(), 3);
    assert_eq!(
        memory.limits(),
        &Limits::default().review_queue(3),
        "nothing else changes"
    );
    // `limits` replaces every limit, the review queue's included.
    let memory = Memory::builder()
        .review_limit(3)
        .limits(Limits::default().tickets_per_order(5))
        .build()
        .expect("limits");
    assert_eq!(memory.limits().max_review_queue(), 10_000);
    assert_eq!(memory.limits().max_tickets_per_order(), 5);
    // And a later shortcut adjusts the limits given.
    let memory = Memory::builder()
        .limits(Limits::default().tickets_per_order(5))
        .review_limit(1)
        .build()
        .expect("limits then shortcut");
    assert_eq!(memory.limits().max_review_queue(), 1);
    assert_eq!(memory.limits().max_tickets_per_order(), 5);
}

// ---------------------------------------------------------------- lengths

#[test]
fn free_text_is_accepted_up_to_text_bytes_and_refused_past_it() {
    let mut memory = limited(Limits::default().text_bytes(16));
    let at_limit = "x".repeat(16);
    let past = "x".repeat(17);

    memory
        .define_venue(Venue::new("barn", at_limit.as_str()))
        .expect("a name of exactly 16 bytes");
    let err = memory
        .define_venue(Venue::new("shed", past.as_str()))
        .expect_err("17 bytes");
    let (location, reason) = invalid_input(&err);
    assert!(location.ends_with("name"), "{location}");
    assert_eq!(reason, &Rejection::TooLong { max_bytes: 16 });
    assert!(memory.catalog().venue("shed").is_none());

    memory
        .define_production(Production::new("short", at_limit.as_str()))
        .expect("a title of exactly 16 bytes");
    let err = memory
        .define_production(Production::new("long", past.as_str()))
        .expect_err("17 bytes");
    assert_eq!(invalid_input(&err).1, &Rejection::TooLong { max_bytes: 16 });

    let ana_id = observe(&mut memory, bare_order(1, ana())).patron();
    memory
        .update_profile(
            ana_id,
            ProfileChange::AddNote(Note::new(at_limit.as_str(), t0())),
        )
        .expect("a note of exactly 16 bytes");
    let before = snapshot(&memory);
    let err = memory
        .update_profile(
            ana_id,
            ProfileChange::AddNote(Note::new(past.as_str(), t0())),
        )
        .expect_err("17 bytes");
    let (location, reason) = invalid_input(&err);
    assert!(location.ends_with("note.text"), "{location}");
    assert_eq!(reason, &Rejection::TooLong { max_bytes: 16 });
    assert_eq!(snapshot(&memory), before);

    observe(
        &mut memory,
        Event::donation(
            "e-d1",
            Donation::new(ana(), gbp(500)).fund(at_limit.as_str()),
        ),
    );
    let err = refused(
        &mut memory,
        Event::donation("e-d2", Donation::new(ana(), gbp(500)).fund(past.as_str())),
    );
    let (location, reason) = invalid_input(&err);
    assert!(location.ends_with("donation.fund"), "{location}");
    assert_eq!(reason, &Rejection::TooLong { max_bytes: 16 });

    let membership =
        |scheme: &str| Membership::new(ana(), scheme, date(2026, 1, 1), date(2026, 12, 31));
    observe(
        &mut memory,
        Event::membership("e-m1", membership(&at_limit)),
    );
    let err = refused(&mut memory, Event::membership("e-m2", membership(&past)));
    assert!(invalid_input(&err).0.ends_with("membership.scheme"));
}

#[test]
fn every_signal_is_accepted_up_to_signal_bytes_and_refused_past_it() {
    let mut memory = limited(Limits::default().signal_bytes(24));
    // 24 bytes exactly: accepted in every kind of field.
    let email = format!("{}@example.org", "a".repeat(24 - "@example.org".len()));
    assert_eq!(email.len(), 24);
    let name = "N".repeat(24);
    let street = format!("1 {}", "S".repeat(22));
    let token = "t".repeat(24);
    let person = Signals::new()
        .given_name(name.as_str())
        .family_name(name.as_str())
        .email(email.as_str())
        .street(street.as_str())
        .city(name.as_str())
        .card_token(token.as_str())
        .external_id("loyalty", token.as_str());
    let seen = observe(&mut memory, bare_order(1, person));
    assert_eq!(
        memory
            .patron(seen.patron())
            .expect("patron")
            .identifiers()
            .len(),
        3
    );

    // One byte more, field by field: refused, naming the field and the limit.
    let long_email = format!("a{email}");
    let long = "x".repeat(25);
    let cases: [(Signals, &str); 9] = [
        (ana().given_name(long.as_str()), "given_name"),
        (ana().family_name(long.as_str()), "family_name"),
        (ana().email(long_email.as_str()), "email"),
        (
            ana().phone(format!("020 7946 0018{}", " ".repeat(12))),
            "phone",
        ),
        (ana().street(long.as_str()), "street"),
        (
            ana().postcode(format!("SW1A 1AA{}", " ".repeat(17))),
            "postcode",
        ),
        (ana().city(long.as_str()), "city"),
        (ana().card_token(long.as_str()), "card_token"),
        (
            ana().external_id("loyalty", long.as_str()),
            "external_ids.value",
        ),
    ];
    for (i, (signals, field)) in cases.into_iter().enumerate() {
        let err = refused(&mut memory, bare_order(100 + i, signals));
        let (location, reason) = invalid_input(&err);
        assert!(
            location.ends_with(&format!("order.buyer.{field}")),
            "{field}: {location}"
        );
        assert_eq!(reason, &Rejection::TooLong { max_bytes: 24 }, "{field}");
    }
    // Read-only recognition measures the same way.
    let err = memory
        .recognize(&Signals::new().email(long_email.as_str()))
        .expect_err("too long to recognize");
    assert_eq!(invalid_input(&err).1, &Rejection::TooLong { max_bytes: 24 });
}

#[test]
fn a_looser_signal_limit_keeps_longer_names_and_addresses() {
    // The default refuses a street of 600 bytes; a looser limit keeps it whole.
    let street = format!("1 {}", "Long Road ".repeat(60));
    let event = bare_order(1, ana().street(street.as_str()));
    let err = refused(&mut memory(), event.clone());
    assert_eq!(
        invalid_input(&err).1,
        &Rejection::TooLong { max_bytes: 512 }
    );

    let mut memory = limited(Limits::default().signal_bytes(1000));
    let seen = observe(&mut memory, event);
    let patron = memory.patron(seen.patron()).expect("patron");
    let kept = patron.addresses()[0].street().expect("street");
    assert_eq!(kept, street.trim_end());
}

// ---------------------------------------------------------------- counts per event

#[test]
fn an_order_may_carry_exactly_tickets_per_order() {
    let mut memory = limited(Limits::default().tickets_per_order(3));
    let tickets = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| ticket(&format!("{prefix}-{i}"), "hamlet-1"))
            .collect::<Vec<_>>()
    };
    let seen = observe(&mut memory, order("e-1", "o-1", ana(), tickets("a", 3)));
    assert_eq!(memory.patron(seen.patron()).unwrap().stats().tickets(), 3);

    let err = refused(&mut memory, order("e-2", "o-2", ana(), tickets("b", 4)));
    let (location, reason) = invalid_input(&err);
    assert!(location.ends_with("order.tickets"), "{location}");
    assert_eq!(reason, &Rejection::TooMany { max: 3 });
    assert!(err.to_string().contains("more than 3"), "{err}");
}

#[test]
fn a_purchase_may_carry_exactly_items_per_purchase() {
    let mut memory = limited(Limits::default().items_per_purchase(2));
    let purchase = |n: usize| {
        (0..n).fold(Purchase::new(ana()), |p, i| {
            p.item(LineItem::new(format!("sku-{i}"), 1, gbp(450)))
        })
    };
    let seen = observe(&mut memory, Event::purchase("e-1", purchase(2)));
    assert_eq!(memory.patron(seen.patron()).unwrap().stats().purchases(), 1);

    let err = refused(&mut memory, Event::purchase("e-2", purchase(3)));
    let (location, reason) = invalid_input(&err);
    assert!(location.ends_with("purchase.items"), "{location}");
    assert_eq!(reason, &Rejection::TooMany { max: 2 });
}

// ---------------------------------------------------------------- kept per patron

#[test]
fn names_past_names_per_patron_are_not_kept() {
    let mut memory = limited(Limits::default().names_per_patron(2));
    let first = observe(&mut memory, bare_order(1, ana())).patron();
    let second = observe(&mut memory, bare_order(2, ana().family_name("Silvaa"))).patron();
    assert_eq!(second, first);
    let family = |memory: &Memory| -> Vec<String> {
        memory
            .patron(first)
            .unwrap()
            .names()
            .iter()
            .map(|n| n.family().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(family(&memory), ["Silva", "Silvaa"], "exactly at the limit");

    let third = observe(&mut memory, bare_order(3, ana().family_name("Sillva")));
    assert_eq!(third.patron(), first, "still recognized");
    assert_eq!(
        family(&memory),
        ["Silva", "Silvaa"],
        "the third name is not kept"
    );
    assert_eq!(
        history_len(&memory, first),
        3,
        "the event is still recorded"
    );
}

#[test]
fn identifiers_past_identifiers_per_patron_are_not_kept_or_indexed() {
    // ana() brings three identifiers: e-mail, phone, card token.
    let mut memory = limited(Limits::default().identifiers_per_patron(4));
    let ana_id = observe(&mut memory, bare_order(1, ana())).patron();
    observe(
        &mut memory,
        bare_order(2, ana().external_id("loyalty", "L-1")),
    );
    assert_eq!(
        memory.patron(ana_id).unwrap().identifiers().len(),
        4,
        "exactly at the limit"
    );

    let past = observe(&mut memory, bare_order(3, ana().external_id("crm", "C-1")));
    assert_eq!(past.patron(), ana_id);
    assert_eq!(memory.patron(ana_id).unwrap().identifiers().len(), 4);
    assert_eq!(history_len(&memory, ana_id), 3);
    // What was not kept is not evidence either.
    let kept = memory
        .recognize(&Signals::new().external_id("loyalty", "L-1"))
        .expect("recognize");
    assert_eq!(kept.known_patron(), Some(ana_id));
    let dropped = memory
        .recognize(&Signals::new().external_id("crm", "C-1"))
        .expect("recognize");
    assert_eq!(dropped.known_patron(), None);
}

/// A strategy that files every patron under a key per family name, and reports who is
/// filed under the family name asked about: what a plugin sees of the index.
#[derive(Debug, Default)]
struct FamilyProbe {
    filed: Arc<Mutex<Vec<PatronId>>>,
}

impl RecognitionStrategy for FamilyProbe {
    fn name(&self) -> &str {
        "family-probe"
    }
    fn blocking_keys(&self, signals: &NormalizedSignals, out: &mut BlockingKeys) {
        if let Some(family) = signals.family_key() {
            out.push(BlockingKey::of("probe", family));
        }
    }
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, _: &mut Candidates) {
        if let Some(family) = signals.family_key() {
            let filed = index.patrons_under(BlockingKey::of("probe", family));
            *self.filed.lock().expect("probe") = filed.to_vec();
        }
    }
    fn score(&self, _: &NormalizedSignals, _: &PatronView<'_>, _: &mut Evidence) {}
}

#[test]
fn a_name_not_kept_is_not_filed_under_blocking_keys() {
    let filed = Arc::new(Mutex::new(Vec::new()));
    let probe = FamilyProbe {
        filed: Arc::clone(&filed),
    };
    let mut memory = build(limited_builder(Limits::default().names_per_patron(2)).strategy(probe));
    let ana_id = observe(&mut memory, bare_order(1, ana())).patron();
    observe(&mut memory, bare_order(2, ana().family_name("Silvaa")));
    // A new address makes the third event teach memory something, with a name it will
    // not keep.
    let third = bare_order(3, ana().family_name("Sillva").postcode("SW1A 1AA"));
    assert_eq!(observe(&mut memory, third).patron(), ana_id);
    let filed_under = |family: &str| {
        memory
            .recognize(&Signals::new().family_name(family))
            .expect("recognize");
        filed.lock().expect("probe").clone()
    };
    assert_eq!(filed_under("Silva"), [ana_id]);
    assert_eq!(filed_under("Silvaa"), [ana_id], "exactly at the limit");
    assert_eq!(filed_under("Sillva"), [], "not kept, so not filed");
}

#[test]
fn addresses_past_addresses_per_patron_drop_the_oldest() {
    let mut memory = limited(Limits::default().addresses_per_patron(2));
    let at = |street: &str| ana().street(street).city("London");
    let ana_id = observe(&mut memory, bare_order(1, at("1 Elm Road"))).patron();
    observe(&mut memory, bare_order(2, at("2 Oak Road")));
    let streets = |memory: &Memory| -> Vec<String> {
        memory
            .patron(ana_id)
            .unwrap()
            .addresses()
            .iter()
            .map(|a| a.street().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(streets(&memory), ["1 Elm Road", "2 Oak Road"]);
    observe(&mut memory, bare_order(3, at("3 Ash Road")));
    assert_eq!(streets(&memory), ["2 Oak Road", "3 Ash Road"]);
    // An address seen again moves to the newest place.
    observe(&mut memory, bare_order(4, at("2 Oak Road")));
    assert_eq!(streets(&memory), ["3 Ash Road", "2 Oak Road"]);
}

#[test]
fn the_review_queue_keeps_review_queue_items_and_drops_the_oldest() {
    let mut memory = limited(Limits::default().review_queue(2));
    let families = ["Lindqvist", "Berglund", "Holmqvist"];
    for (i, family) in families.iter().enumerate() {
        observe(
            &mut memory,
            order(
                &format!("e-seed-{i}"),
                &format!("o-seed-{i}"),
                Signals::new()
                    .given_name("Astrid")
                    .family_name(*family)
                    .email(format!("astrid@{}.example", family.to_lowercase())),
                [],
            ),
        );
    }
    let mut queued = Vec::new();
    for (i, family) in families.iter().enumerate() {
        let unsure = observe(
            &mut memory,
            order(
                &format!("e-{i}"),
                &format!("o-{i}"),
                Signals::new().given_name("A.").family_name(*family),
                [],
            ),
        );
        assert_eq!(unsure.recognition().decision(), "review", "{family}");
        queued = memory
            .reviews()
            .map(|r| r.event().as_str().to_owned())
            .collect();
        if i == 1 {
            assert_eq!(queued, ["e-0", "e-1"], "exactly at the limit");
        }
    }
    assert_eq!(queued, ["e-1", "e-2"], "the oldest was dropped");
}

// ---------------------------------------------------------------- history per patron

/// Tickets per order 2, so the history limit can be small.
fn small_history(max: usize) -> Memory {
    limited(
        Limits::default()
            .tickets_per_order(2)
            .history_per_patron(max),
    )
}

#[test]
fn a_history_fills_to_exactly_history_per_patron_then_refuses() {
    let mut memory = small_history(5);
    let mut ana_id = None;
    for n in 0..5 {
        ana_id = Some(observe(&mut memory, bare_order(n, ana())).patron());
    }
    let ana_id = ana_id.expect("ana");
    assert_eq!(history_len(&memory, ana_id), 5, "exactly at the limit");

    let stats = memory.patron(ana_id).unwrap().stats().clone();
    let err = refused(&mut memory, bare_order(5, ana()));
    match &err {
        Error::HistoryFull {
            location,
            patron,
            len,
            adding,
            max,
        } => {
            assert!(location.contains("e-5") && location.ends_with("order.buyer"));
            assert_eq!((*patron, *len, *adding, *max), (ana_id, 5, 1, 5));
        }
        other => panic!("expected HistoryFull, got {other:?}"),
    }
    assert!(err.to_string().contains("history_per_patron"), "{err}");
    assert_eq!(memory.patron(ana_id).unwrap().stats(), &stats);

    // Every kind of event for her is refused; other patrons carry on.
    let refusals = [
        (
            Event::donation("e-d", Donation::new(ana(), gbp(100))),
            "donation.donor",
        ),
        (
            Event::membership(
                "e-m",
                Membership::new(ana(), "friends", date(2026, 1, 1), date(2026, 12, 31)),
            ),
            "membership.member",
        ),
        (
            Event::purchase(
                "e-p",
                Purchase::new(ana()).item(LineItem::new("wine", 1, gbp(700))),
            ),
            "purchase.customer",
        ),
    ];
    for (event, field) in refusals {
        let err = refused(&mut memory, event);
        assert!(
            matches!(&err, Error::HistoryFull { location, .. } if location.ends_with(field)),
            "{field}: {err:?}"
        );
    }
    let ben = observe(&mut memory, bare_order(6, ben()));
    assert_ne!(ben.patron(), ana_id);
    assert_eq!(history_len(&memory, ben.patron()), 1);
    // Replaying an accepted event is still answered.
    assert!(
        memory
            .observe(bare_order(0, ana()))
            .expect("replay")
            .is_replay()
    );
}

#[test]
fn an_order_counts_itself_and_each_ticket_against_the_history_limit() {
    let mut memory = small_history(5);
    let ana_id = observe(&mut memory, bare_order(1, ana())).patron();
    observe(&mut memory, bare_order(2, ana()));
    // 2 + the order + 2 tickets = 5: exactly at the limit.
    observe(
        &mut memory,
        order(
            "e-3",
            "o-3",
            ana(),
            [ticket("t-1", "hamlet-1"), ticket("t-2", "hamlet-2")],
        ),
    );
    assert_eq!(history_len(&memory, ana_id), 5);

    // Scans and refunds of a full patron are refused too.
    let err = refused(&mut memory, entry_at("e-s", "t-1", starts("hamlet-1")));
    assert!(
        matches!(&err, Error::HistoryFull { location, adding: 1, .. } if location.ends_with("scan.ticket")),
        "{err:?}"
    );
    let err = refused(
        &mut memory,
        Event::refund("e-r", Refund::whole_order("o-3")),
    );
    assert!(
        matches!(&err, Error::HistoryFull { location, .. } if location.ends_with("refund.order")),
        "{err:?}"
    );

    // One interaction short of the limit: a bare order fits, an order with a ticket not.
    let mut memory = small_history(5);
    for n in 0..4 {
        observe(&mut memory, bare_order(n, ana()));
    }
    let err = refused(
        &mut memory,
        order("e-t", "o-t", ana(), [ticket("t-9", "hamlet-1")]),
    );
    assert!(
        matches!(
            err,
            Error::HistoryFull {
                len: 4,
                adding: 2,
                ..
            }
        ),
        "{err:?}"
    );
    observe(&mut memory, bare_order(4, ana()));
    let ana_id = memory.patrons().next().expect("ana").id();
    assert_eq!(history_len(&memory, ana_id), 5);
}

#[test]
fn a_full_patron_named_as_a_ticket_holder_refuses_the_order() {
    let mut memory = small_history(4);
    let ana_id = observe(&mut memory, bare_order(0, ana())).patron();
    for n in 1..4 {
        observe(&mut memory, bare_order(n, ana()));
    }
    assert_eq!(history_len(&memory, ana_id), 4);
    let gift = order(
        "e-gift",
        "o-gift",
        ben(),
        [ticket("t-gift", "hamlet-1").holder(ana())],
    );
    let err = refused(&mut memory, gift.clone());
    assert!(
        matches!(&err, Error::HistoryFull { location, patron, .. }
            if location.ends_with("order.tickets[0].holder") && *patron == ana_id),
        "{err:?}"
    );

    // The same after a snapshot is loaded, when memory must work out the longest history.
    let image = memory.snapshot();
    let mut restored =
        limited_builder(Limits::default().tickets_per_order(2).history_per_patron(4))
            .build_from_snapshot(&image)
            .expect("restore");
    let err = refused(&mut restored, gift);
    assert!(matches!(err, Error::HistoryFull { .. }), "{err:?}");
}

#[test]
fn merges_past_the_history_limit_are_refused_or_not_made() {
    let limits = Limits::default().tickets_per_order(2).history_per_patron(5);
    let mut memory = limited(limits.clone());
    let ana_id = observe(&mut memory, bare_order(0, ana())).patron();
    let ben_id = observe(&mut memory, bare_order(1, ben())).patron();
    for n in 2..5 {
        observe(&mut memory, bare_order(n, ana()));
    }
    observe(&mut memory, bare_order(5, ben()));
    // 4 + 2 = 6 interactions: too many for one patron.
    let before = snapshot(&memory);
    let err = memory.merge(ana_id, ben_id).expect_err("too much history");
    assert!(
        matches!(
            err,
            Error::HistoryFull {
                len: 4,
                adding: 2,
                max: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(memory.pin_together(ana_id, ben_id).is_err());
    assert_eq!(snapshot(&memory), before);

    // An automatic merge that would pass the limit is not made: the event goes to the
    // patron recognized, the other stays apart.
    // With `known` raised past what a name alone weighs, the two records stay two
    // patrons until one carrying both identifiers proves them one person.
    let by_email = Signals::new()
        .given_name("Astrid")
        .family_name("Lindqvist")
        .email("astrid@example.org");
    let by_phone = Signals::new()
        .given_name("Astrid")
        .family_name("Lindqvist")
        .phone("+46 70 123 45 67");
    let proof = Signals::new()
        .given_name("Astrid")
        .family_name("Lindqvist")
        .email("astrid@example.org")
        .phone("+46 70 123 45 67");
    let run = |memory: &mut Memory, extra: usize| {
        let a = observe(memory, order("e-a", "o-a", by_email.clone(), [])).patron();
        let b = observe(memory, order("e-b", "o-b", by_phone.clone(), [])).patron();
        for n in 0..extra {
            observe(
                memory,
                order(&format!("e-x{n}"), &format!("o-x{n}"), by_phone.clone(), []),
            );
        }
        let seen = observe(memory, order("e-proof", "o-proof", proof.clone(), []));
        (a, b, seen.patron())
    };
    // With room, the proof merges them (the precondition of this test).
    let (a, b, proved) = run(&mut memory_with_limits(&limits), 0);
    assert_ne!(a, b, "two patrons before the proof");
    assert_eq!(proved, a.min(b));
    // Without room (1 + 4 + the proof's 1 > 5), both stay; the proof is still recorded.
    let mut full = memory_with_limits(&limits);
    let (a, b, proved) = run(&mut full, 3);
    assert_ne!(a, b);
    assert_eq!(full.patron(b).expect("b").id(), b, "b was not merged");
    assert!(proved == a || proved == b);
    assert_within(&full, &limits);
}

fn memory_with_limits(limits: &Limits) -> Memory {
    build(limited_builder(limits.clone()).thresholds(Thresholds::default().known(14.0)))
}

// ---------------------------------------------------------------- configuration and replay

#[test]
fn a_data_dir_reopens_the_same_under_the_same_limits_and_refuses_tighter_ones() {
    let dir = TempDir::new("reopen");
    let limits = Limits::default()
        .tickets_per_order(2)
        .history_per_patron(4)
        .identifiers_per_patron(3);
    let open = |limits: &Limits| {
        let clock = ManualClock::new(t0());
        builder(&clock).limits(limits.clone()).open(dir.path())
    };
    let before = {
        let mut memory = open(&limits).expect("open");
        define_catalog(&mut memory);
        for n in 0..4 {
            observe(
                &mut memory,
                bare_order(n, ana().external_id("loyalty", format!("L-{n}"))),
            );
        }
        refused(&mut memory, bare_order(9, ana()));
        memory.sync().expect("sync");
        snapshot(&memory)
    };
    let reopened = open(&limits).expect("reopen with the same limits");
    assert_eq!(snapshot(&reopened), before);
    drop(reopened);

    // Tighter: a journaled event is now refused, and opening says which record.
    let tighter = limits.clone().history_per_patron(3);
    match open(&tighter) {
        Err(Error::JournalReplay { reason, .. }) => {
            assert!(reason.contains("history_per_patron"), "{reason}")
        }
        other => panic!("expected JournalReplay, got {other:?}"),
    }
}

// ---------------------------------------------------------------- floods

#[test]
fn a_flood_of_junk_for_one_patron_stays_within_the_limits() {
    let limits = Limits::default()
        .tickets_per_order(4)
        .names_per_patron(3)
        .identifiers_per_patron(6)
        .addresses_per_patron(3)
        .history_per_patron(300)
        .review_queue(50);
    let mut memory = limited(limits.clone());
    let ana_id = observe(&mut memory, bare_order(0, ana())).patron();
    let mut accepted = 0;
    let mut full = 0;
    for n in 1..3000 {
        // Ana's e-mail, with a junk identifier, name and address every time.
        let junk = ana()
            .family_name(format!("Silva-{n}"))
            .external_id("junk", format!("J-{n}"))
            .street(format!("{n} Junk Street"))
            .city("Junkton");
        let tickets: Vec<_> = (0..n % 3)
            .map(|i| ticket(&format!("t-{n}-{i}"), "hamlet-1"))
            .collect();
        match memory.observe(order(&format!("e-{n}"), &format!("o-{n}"), junk, tickets)) {
            Ok(seen) => {
                assert_eq!(seen.patron(), ana_id, "event {n}");
                accepted += 1;
            }
            Err(Error::HistoryFull { patron, .. }) => {
                assert_eq!(patron, ana_id);
                full += 1;
            }
            Err(other) => panic!("event {n}: {other:?}"),
        }
    }
    assert!(
        accepted > 50 && full > 2000,
        "accepted {accepted}, full {full}"
    );
    let patron = memory.patron(ana_id).expect("ana");
    assert_eq!(patron.names().len(), 3);
    assert_eq!(patron.identifiers().len(), 6);
    assert_eq!(patron.addresses().len(), 3);
    assert!(patron.history().len() <= 300);
    // Full to within the largest order.
    assert!(
        patron.history().len() > 300 - 5,
        "{}",
        patron.history().len()
    );
    assert_within(&memory, &limits);
    assert!(memory.patron_count() < 10, "{}", memory.patron_count());
}

#[test]
fn a_flood_of_junk_scans_of_one_ticket_stops_at_the_history_limit() {
    let limits = Limits::default()
        .tickets_per_order(2)
        .history_per_patron(100);
    let mut memory = limited(limits.clone());
    let ana_id = observe(
        &mut memory,
        order("e-0", "o-0", ana(), [ticket("t-0", "hamlet-1")]),
    )
    .patron();
    let mut refusals = 0;
    for n in 0..2000 {
        let scan = Event::scan(format!("e-s{n}"), Scan::exit("t-0")).at(starts("hamlet-1"));
        if let Err(err) = memory.observe(scan) {
            assert!(matches!(err, Error::HistoryFull { .. }), "{err:?}");
            refusals += 1;
        }
    }
    assert_eq!(history_len(&memory, ana_id), 100);
    assert_eq!(refusals, 2000 - 98);
}

// ---------------------------------------------------------------- properties

#[derive(Clone, Debug)]
enum Step {
    Order {
        person: usize,
        tickets: usize,
        junk: u16,
    },
    Donation {
        person: usize,
    },
    Merge {
        a: usize,
        b: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..3usize, any::<u16>())
            .prop_map(|(person, tickets, junk)| Step::Order { person, tickets, junk }),
        1 => (0..3usize).prop_map(|person| Step::Donation { person }),
        1 => (0..3usize, 0..3usize).prop_map(|(a, b)| Step::Merge { a, b }),
    ]
}

fn person(i: usize) -> Signals {
    match i {
        0 => ana(),
        1 => ben(),
        _ => cleo(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever arrives, every patron stays within the limits and a refused call leaves
    /// memory exactly as it was.
    #[test]
    fn any_sequence_keeps_every_patron_within_the_limits(steps in prop::collection::vec(step(), 1..60)) {
        let limits = Limits::default()
            .tickets_per_order(2)
            .names_per_patron(2)
            .identifiers_per_patron(4)
            .addresses_per_patron(2)
            .history_per_patron(12);
        let mut memory = limited(limits.clone());
        let mut ids: Vec<Option<PatronId>> = vec![None; 3];
        for (n, step) in steps.into_iter().enumerate() {
            let before = snapshot(&memory);
            let result = match step {
                Step::Order { person: p, tickets, junk } => {
                    let signals = person(p)
                        .given_name(format!("N{}", junk % 5))
                        .external_id("junk", format!("J{junk}"))
                        .street(format!("{} Road", junk % 7));
                    let tickets: Vec<_> = (0..tickets)
                        .map(|i| ticket(&format!("t-{n}-{i}"), "hamlet-1"))
                        .collect();
                    memory
                        .observe(order(&format!("e-{n}"), &format!("o-{n}"), signals, tickets))
                        .map(|seen| ids[p] = Some(seen.patron()))
                }
                Step::Donation { person: p } => memory
                    .observe(Event::donation(format!("e-{n}"), Donation::new(person(p), gbp(100))))
                    .map(|seen| ids[p] = Some(seen.patron())),
                Step::Merge { a, b } => match (ids[a], ids[b]) {
                    (Some(a), Some(b)) => memory.merge(a, b).map(drop),
                    _ => Ok(()),
                },
            };
            if let Err(err) = result {
                prop_assert!(matches!(err, Error::HistoryFull { .. }), "{err:?}");
                prop_assert_eq!(snapshot(&memory), before);
            }
            assert_within(&memory, &limits);
        }
    }
}
