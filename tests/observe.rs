//! `Memory::observe` and `update_profile`: idempotent replays, conflicting event ids,
//! door-scan ids, ticket holders, time from the clock, refunds, donations, memberships,
//! purchases, ticket listings and profile changes.

mod common;

use chrono::TimeDelta;
use common::*;
use regulars::{
    Agreement, Channel, Consent, Currency, Direction, Donation, Error, Event, Field, Flag,
    FlagKind, InteractionKind, LineItem, Membership, Memory, Money, Note, Observation,
    ProfileChange, Purchase, Purpose, Refund, Scan, SeatPreference, Signals,
};

// ---------------------------------------------------------------- replays

#[test]
fn observing_the_same_event_twice_changes_nothing_the_second_time() {
    let mut memory = memory();
    let event = order(
        "e-1",
        "o-1",
        ana(),
        [
            seated("t-1", "hamlet-1", "F12"),
            ticket("t-2", "hamlet-2").holder(ben()),
        ],
    );
    let first = observe(&mut memory, event.clone());
    assert!(!first.is_replay());
    assert!(!first.moments().is_empty(), "a first order welcomes them");
    assert_eq!(first.participants().len(), 1);

    let before = snapshot(&memory);
    let again = observe(&mut memory, event);
    assert!(again.is_replay());
    assert_eq!(again.patron(), first.patron());
    assert_eq!(again.recognition().known_patron(), Some(first.patron()));
    assert!(again.moments().is_empty(), "{:?}", again.moments());
    assert!(again.participants().is_empty());
    assert_eq!(snapshot(&memory), before);
    assert_eq!(memory.patron_count(), 2);
    assert_eq!(memory.event_count(), 1);

    // Every kind of event replays the same way.
    let scan = entry_at("e-2", "t-1", starts("hamlet-1") - TimeDelta::minutes(10));
    let donation = Event::donation("e-3", Donation::new(ana(), gbp(5000))).at(order_time());
    let purchase = Event::purchase(
        "e-4",
        Purchase::new(Signals::new().card_token("tok_ana_4242")).item(LineItem::new(
            "wine",
            2,
            gbp(750),
        )),
    )
    .at(starts("hamlet-1"));
    for event in [scan, donation, purchase] {
        let first = observe(&mut memory, event.clone());
        assert!(!first.is_replay());
        let before = snapshot(&memory);
        let again = observe(&mut memory, event);
        assert!(again.is_replay());
        assert_eq!(again.patron(), first.patron());
        assert!(again.moments().is_empty());
        assert_eq!(snapshot(&memory), before);
    }
    assert_eq!(memory.event_count(), 4);
}

#[test]
fn reusing_an_event_id_with_other_content_is_a_conflict() {
    let mut memory = memory();
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    let before = snapshot(&memory);

    let changed = [
        order(
            "e-1",
            "o-1",
            ana(),
            [seated("t-1", "hamlet-1", "F12"), ticket("t-2", "hamlet-1")],
        ),
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F13")]),
        order("e-1", "o-9", ben(), [ticket("t-9", "hamlet-2")]),
        Event::donation("e-1", Donation::new(ana(), gbp(100))).at(order_time()),
    ];
    for event in changed {
        let err = memory.observe(event).expect_err("conflicting content");
        assert!(
            matches!(&err, Error::ConflictingEvent { event } if event.contains("e-1")),
            "{err:?}"
        );
        assert!(err.to_string().contains("e-1"), "{err}");
        assert_eq!(snapshot(&memory), before);
    }
    assert!(memory.ticket("t-2").is_none());
    assert!(memory.ticket("t-9").is_none());
}

#[test]
fn a_scan_id_seen_before_counts_once_whatever_the_event_id() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    let at = starts("hamlet-1") - TimeDelta::minutes(15);

    let first = observe(
        &mut memory,
        Event::scan("e-scan-1", Scan::entry("t-1").scan_id("door-7-001")).at(at),
    );
    assert!(!first.is_replay());
    assert_eq!(first.patron(), ana);
    let before = stats_and_history(&memory, ana);

    // The scanner re-sends the same scan under a new event id, a minute later.
    let resent = observe(
        &mut memory,
        Event::scan("e-scan-2", Scan::entry("t-1").scan_id("door-7-001"))
            .at(at + TimeDelta::minutes(1)),
    );
    assert!(resent.is_replay());
    assert_eq!(resent.patron(), ana);
    assert!(resent.moments().is_empty());
    let after = stats_and_history(&memory, ana);
    assert_eq!(after, before, "a re-sent scan changed the patron");
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.stats().performances_attended(), 1);
    let scans = patron
        .history()
        .iter()
        .filter(|i| matches!(i.kind(), InteractionKind::Scanned { .. }))
        .count();
    assert_eq!(scans, 1);
}

/// Stats and history of a patron, to compare before and after.
fn stats_and_history(
    memory: &regulars::Memory,
    patron: regulars::PatronId,
) -> (regulars::PatronStats, Vec<regulars::Interaction>) {
    let view = memory.patron(patron).expect("patron");
    (view.stats().clone(), view.history().to_vec())
}

// ---------------------------------------------------------------- holders

/// Ana orders two seats for Hamlet: t-1 for herself, t-2 held by Ben.
fn ana_buys_t1_and_t2_for_ben(memory: &mut Memory) -> Observation {
    observe(
        memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F11"),
                seated("t-2", "hamlet-1", "F12").holder(ben()),
            ],
        ),
    )
}

#[test]
fn ticket_holders_other_than_the_buyer_become_their_own_patrons() {
    let mut memory = memory();
    let observation = ana_buys_t1_and_t2_for_ben(&mut memory);
    let ana = observation.patron();
    let participants = observation.participants();
    assert_eq!(participants.len(), 1, "{participants:?}");
    assert_eq!(participants[0].ticket().as_str(), "t-2");
    assert_eq!(participants[0].recognition().decision(), "new");
    let ben = participants[0].patron();
    assert_ne!(ben, ana);
    assert_eq!(memory.patron_count(), 2);

    let t2 = memory.ticket("t-2").expect("issued");
    assert_eq!(t2.buyer(), ana);
    assert_eq!(t2.holder(), ben);
    let t1 = memory.ticket("t-1").expect("issued");
    assert_eq!((t1.buyer(), t1.holder()), (ana, ana));

    // Ben goes in: the attendance is his.
    let scanned = scan_in(&mut memory, "e-2", "t-2");
    assert_eq!(scanned.patron(), ben);
    assert_eq!(scanned.recognition().known_patron(), Some(ben));
    let ben_view = memory.patron(ben).expect("ben");
    assert_eq!(ben_view.stats().performances_attended(), 1);
    assert!(ben_view.attended("hamlet-1"));
    assert_eq!(ben_view.stats().orders(), 0);
    assert_eq!(ben_view.stats().tickets(), 1);
    assert_eq!(ben_view.stats().spend_in(Currency::GBP), 0);
    assert!(ben_view.history().iter().any(|i| matches!(
        i.kind(),
        InteractionKind::Ticketed { ticket, .. } if ticket.as_str() == "t-2"
    )));
    assert!(
        !ben_view
            .history()
            .iter()
            .any(|i| matches!(i.kind(), InteractionKind::Ordered { .. }))
    );

    // Ana paid for both and has not been in yet.
    let ana_view = memory.patron(ana).expect("ana");
    assert_eq!(ana_view.stats().performances_attended(), 0);
    assert!(!ana_view.attended("hamlet-1"));
    assert_eq!(ana_view.stats().orders(), 1);
    assert_eq!(ana_view.stats().tickets(), 1);
    assert_eq!(ana_view.stats().spend_in(Currency::GBP), 6000);

    // Next time Ben is named as a holder, he is recognized.
    let again = observe(
        &mut memory,
        order(
            "e-3",
            "o-2",
            ana_signals_email_only(),
            [ticket("t-3", "hamlet-2").holder(ben_signals_email_only())],
        ),
    );
    assert_eq!(again.patron(), ana);
    assert_eq!(again.participants().len(), 1);
    assert_eq!(again.participants()[0].patron(), ben);
    assert_eq!(
        again.participants()[0].recognition().known_patron(),
        Some(ben)
    );
    assert_eq!(memory.patron_count(), 2);
}

fn ana_signals_email_only() -> Signals {
    Signals::new().email("ana.silva@example.org")
}

fn ben_signals_email_only() -> Signals {
    Signals::new().email("ben.okafor@example.net")
}

/// `Observation::participants` promises "ticket holders named in an order, other than the
/// buyer": a vendor that fills in the holder with the buyer's own details must not make
/// the buyer a participant of their own order.
#[test]
fn a_holder_who_is_the_buyer_is_not_a_participant() {
    let mut memory = memory();
    let observation = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F11").holder(ana()),
                seated("t-2", "hamlet-1", "F12").holder(ben()),
            ],
        ),
    );
    let ana = observation.patron();
    assert_eq!(memory.patron_count(), 2);
    assert_eq!(memory.ticket("t-1").expect("t-1").holder(), ana);
    let listed: Vec<(&str, regulars::PatronId)> = observation
        .participants()
        .iter()
        .map(|p| (p.ticket().as_str(), p.patron()))
        .collect();
    assert!(
        observation.participants().iter().all(|p| p.patron() != ana),
        "the buyer is listed as a participant of their own order: {listed:?}"
    );
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].0, "t-2");
}

// ---------------------------------------------------------------- time

#[test]
fn an_event_without_a_time_takes_the_clocks() {
    let (mut memory, clock) = memory_with_clock();
    let noon = utc(2026, 2, 14, 12, 0);
    clock.set(noon);

    let placed = observe(
        &mut memory,
        Event::order(
            "e-1",
            regulars::Order::new("o-1", ana()).ticket(ticket("t-1", "hamlet-1")),
        ),
    );
    let patron = memory.patron(placed.patron()).expect("created");
    assert_eq!(patron.created_at(), noon);
    assert!(patron.history().iter().all(|i| i.at() == noon));
    assert_eq!(patron.stats().first_seen_at(), Some(noon));
    assert_eq!(patron.stats().last_seen_at(), Some(noon));

    clock.advance(TimeDelta::hours(3));
    observe(
        &mut memory,
        Event::donation("e-2", Donation::new(ana(), gbp(1000))),
    );
    let patron = memory.patron(placed.patron()).expect("known");
    assert_eq!(
        patron.history().last().expect("donation").at(),
        noon + TimeDelta::hours(3)
    );
    assert_eq!(
        patron.stats().last_seen_at(),
        Some(noon + TimeDelta::hours(3))
    );
    assert_eq!(patron.stats().first_seen_at(), Some(noon));

    // Replaying an event without a time after the clock moved is still a replay.
    clock.advance(TimeDelta::days(1));
    let replay = observe(
        &mut memory,
        Event::donation("e-2", Donation::new(ana(), gbp(1000))),
    );
    assert!(replay.is_replay());
    let patron = memory.patron(placed.patron()).expect("known");
    assert_eq!(patron.stats().donations(), 1);
    assert_eq!(
        patron.stats().last_seen_at(),
        Some(noon + TimeDelta::hours(3))
    );

    // A time on the event wins over the clock.
    let given = utc(2026, 2, 10, 8, 0);
    observe(
        &mut memory,
        Event::donation("e-3", Donation::new(ana(), gbp(1000))).at(given),
    );
    let patron = memory.patron(placed.patron()).expect("known");
    assert_eq!(patron.history().last().expect("donation").at(), given);
    assert_eq!(patron.stats().first_seen_at(), Some(given));
    assert_eq!(
        patron.stats().last_seen_at(),
        Some(noon + TimeDelta::hours(3))
    );
}

// ---------------------------------------------------------------- refunds

#[test]
fn refunds_count_each_ticket_once_and_lower_spend() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                ticket("t-1", "hamlet-1"),
                ticket("t-2", "hamlet-1"),
                ticket20("t-3", "hamlet-1"),
            ],
        ),
    )
    .patron();
    let stats = |m: &regulars::Memory| m.patron(ana).expect("ana").stats().clone();
    assert_eq!(stats(&memory).spend_in(Currency::GBP), 8000);
    assert_eq!(stats(&memory).tickets(), 3);

    // Partial refund of one ticket.
    let partial = observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-1"])).at(order_time() + TimeDelta::days(1)),
    );
    assert_eq!(partial.patron(), ana);
    assert_eq!(stats(&memory).tickets_refunded(), 1);
    assert_eq!(stats(&memory).spend_in(Currency::GBP), 5000);
    assert!(memory.ticket("t-1").expect("t-1").is_refunded());
    assert!(!memory.ticket("t-2").expect("t-2").is_refunded());

    // The whole order: only the two tickets not yet refunded count.
    observe(
        &mut memory,
        Event::refund("e-3", Refund::whole_order("o-1")).at(order_time() + TimeDelta::days(2)),
    );
    assert_eq!(stats(&memory).tickets_refunded(), 3);
    assert_eq!(stats(&memory).spend_in(Currency::GBP), 0);
    assert_eq!(
        stats(&memory).tickets(),
        3,
        "refunded tickets still count as held"
    );
    assert_eq!(stats(&memory).orders(), 1);

    let refunded: Vec<Vec<String>> = memory
        .patron(ana)
        .expect("ana")
        .history()
        .iter()
        .filter_map(|i| match i.kind() {
            InteractionKind::Refunded { tickets, .. } => {
                Some(tickets.iter().map(|t| t.to_string()).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(refunded, [vec!["t-1"], vec!["t-2", "t-3"]]);

    // Refunding an already refunded ticket again changes no figure.
    observe(
        &mut memory,
        Event::refund("e-4", Refund::tickets("o-1", ["t-2"])).at(order_time() + TimeDelta::days(3)),
    );
    assert_eq!(stats(&memory).tickets_refunded(), 3);
    assert_eq!(stats(&memory).spend_in(Currency::GBP), 0);
}

#[test]
fn refund_amounts_are_returned_once_per_ticket() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [ticket("t-1", "hamlet-1"), ticket("t-2", "hamlet-1")],
        ),
    )
    .patron();
    let spend = |m: &regulars::Memory| m.patron(ana).expect("ana").stats().spend_in(Currency::GBP);
    assert_eq!(spend(&memory), 6000);

    // A refund less a £5 fee.
    observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-1"]).amount(gbp(2500)))
            .at(order_time() + TimeDelta::days(1)),
    );
    assert_eq!(spend(&memory), 3500);
    // The rest of the order, with its amount.
    observe(
        &mut memory,
        Event::refund("e-3", Refund::whole_order("o-1").amount(gbp(3000)))
            .at(order_time() + TimeDelta::days(2)),
    );
    assert_eq!(spend(&memory), 500);

    // The vendor re-sends the whole-order refund under a new event id: no ticket is left
    // to refund, so no money goes back a second time.
    observe(
        &mut memory,
        Event::refund("e-4", Refund::whole_order("o-1").amount(gbp(3000)))
            .at(order_time() + TimeDelta::days(3)),
    );
    let stats = memory.patron(ana).expect("ana").stats().clone();
    assert_eq!(stats.tickets_refunded(), 2);
    assert_eq!(
        stats.spend_in(Currency::GBP),
        500,
        "money returned for tickets already refunded"
    );
}

/// A £20 ticket.
fn ticket20(id: &str, performance: &str) -> regulars::Ticket {
    regulars::Ticket::new(id, performance).price(gbp(2000))
}

#[test]
fn scanning_a_refunded_ticket_is_an_error_and_changes_nothing() {
    let mut memory = memory();
    observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [ticket("t-1", "hamlet-1"), ticket("t-2", "hamlet-1")],
        ),
    );
    observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-1"])).at(order_time()),
    );
    let before = snapshot(&memory);

    let at = starts("hamlet-1") - TimeDelta::minutes(5);
    for scan in [
        entry_at("e-3", "t-1", at),
        Event::scan("e-3", Scan::entry("t-1").scan_id("door-1")).at(at),
    ] {
        let err = memory.observe(scan).expect_err("refunded");
        assert!(matches!(err, Error::TicketRefunded { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("e-3") && message.contains("t-1"),
            "{message}"
        );
        assert_eq!(snapshot(&memory), before);
    }

    // The other ticket of the order still works, and the failed event id is free.
    let ok = observe(&mut memory, entry_at("e-3", "t-2", at));
    assert!(!ok.is_replay());
    assert!(memory.ticket("t-2").expect("t-2").is_scanned_in());
}

// ---------------------------------------------------------------- other events

#[test]
fn donations_are_recorded_in_history_and_stats() {
    let mut memory = memory();
    let first = observe(
        &mut memory,
        Event::donation("e-1", Donation::new(ana(), gbp(5000)).fund("Annual appeal"))
            .at(order_time()),
    );
    let ana = first.patron();
    assert_eq!(first.recognition().decision(), "new");
    let second = observe(
        &mut memory,
        Event::donation("e-2", Donation::new(ana_signals_email_only(), gbp(2500)))
            .at(order_time() + TimeDelta::days(30)),
    );
    assert_eq!(second.patron(), ana);

    let patron = memory.patron(ana).expect("ana");
    let stats = patron.stats();
    assert_eq!(stats.donations(), 2);
    assert_eq!(stats.donated(), [gbp(7500)]);
    assert_eq!(stats.spend_in(Currency::GBP), 0, "donations are not spend");
    let kinds: Vec<_> = patron.history().iter().map(|i| i.kind().clone()).collect();
    assert!(
        matches!(
            &kinds[0],
            InteractionKind::Donated { amount, fund: Some(fund) } if *amount == gbp(5000) && fund == "Annual appeal"
        ),
        "{kinds:?}"
    );
    assert!(
        matches!(
            &kinds[1],
            InteractionKind::Donated { amount, fund: None } if *amount == gbp(2500)
        ),
        "{kinds:?}"
    );
}

#[test]
fn memberships_are_recorded_and_answer_membership_on() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        Event::membership(
            "e-1",
            Membership::new(ana(), "Friends", date(2026, 1, 1), date(2026, 12, 31))
                .price(gbp(6000)),
        )
        .at(t0()),
    )
    .patron();

    let patron = memory.patron(ana).expect("ana");
    let stats = patron.stats();
    assert_eq!(stats.memberships().len(), 1);
    assert!(matches!(
        patron.history().first().expect("membership").kind(),
        InteractionKind::Membership { scheme, valid_from, valid_to, price }
            if scheme == "Friends" && *valid_from == date(2026, 1, 1)
                && *valid_to == date(2026, 12, 31) && *price == Some(gbp(6000))
    ));
    for day in [date(2026, 1, 1), date(2026, 6, 15), date(2026, 12, 31)] {
        let span = stats.membership_on(day).expect("member that day");
        assert_eq!(span.scheme(), "Friends");
        assert_eq!(span.valid_from(), date(2026, 1, 1));
        assert_eq!(span.valid_to(), date(2026, 12, 31));
    }
    assert!(stats.membership_on(date(2025, 12, 31)).is_none());
    assert!(stats.membership_on(date(2027, 1, 1)).is_none());

    // A renewal and an overlapping upgrade.
    observe(
        &mut memory,
        Event::membership(
            "e-2",
            Membership::new(
                ana_signals_email_only(),
                "Friends",
                date(2027, 1, 1),
                date(2027, 12, 31),
            ),
        )
        .at(utc(2026, 12, 1, 9, 0)),
    );
    observe(
        &mut memory,
        Event::membership(
            "e-3",
            Membership::new(
                ana_signals_email_only(),
                "Patron circle",
                date(2026, 6, 1),
                date(2027, 5, 31),
            ),
        )
        .at(utc(2026, 6, 1, 9, 0)),
    );
    let stats = memory.patron(ana).expect("ana").stats();
    assert_eq!(stats.memberships().len(), 3);
    assert_eq!(
        stats.membership_on(date(2026, 3, 1)).map(|m| m.scheme()),
        Some("Friends")
    );
    assert_eq!(
        stats.membership_on(date(2026, 7, 1)).map(|m| m.scheme()),
        Some("Patron circle"),
        "the one running longest"
    );
    let renewal = stats.membership_on(date(2027, 8, 1)).expect("renewed");
    assert_eq!(renewal.valid_from(), date(2027, 1, 1));
    assert!(stats.membership_on(date(2028, 1, 1)).is_none());
}

#[test]
fn purchases_are_recorded_and_add_to_spend() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    )
    .patron();

    let bar = observe(
        &mut memory,
        Event::purchase(
            "e-2",
            Purchase::new(Signals::new().card_token("tok_ana_4242"))
                .at_performance("hamlet-1")
                .item(LineItem::new("espresso", 2, gbp(250)))
                .item(LineItem::new("programme", 1, gbp(500))),
        )
        .at(starts("hamlet-1") + TimeDelta::minutes(70)),
    );
    assert_eq!(bar.patron(), ana, "recognized by card token");
    assert_eq!(bar.recognition().known_patron(), Some(ana));

    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.stats().purchases(), 1);
    assert_eq!(patron.stats().spend_in(Currency::GBP), 3000 + 1000);
    let last = patron.history().last().expect("purchase");
    match last.kind() {
        InteractionKind::Purchased { performance, items } => {
            assert_eq!(performance.as_ref().map(|p| p.as_str()), Some("hamlet-1"));
            let skus: Vec<(&str, u32)> = items.iter().map(|i| (i.sku(), i.quantity())).collect();
            assert_eq!(skus, [("espresso", 2), ("programme", 1)]);
        }
        other => panic!("expected a purchase, got {other:?}"),
    }
    assert_eq!(last.event().as_str(), "e-2");
    assert_eq!(last.at(), starts("hamlet-1") + TimeDelta::minutes(70));
}

// ---------------------------------------------------------------- tickets

#[test]
fn tickets_for_lists_a_performances_tickets_in_issue_order() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-b", "hamlet-1", "B2"),
                ticket("t-a", "hamlet-2"),
                seated("t-c", "hamlet-1", "A1"),
            ],
        ),
    )
    .patron();
    let ben = observe(
        &mut memory,
        order("e-2", "o-2", ben(), [ticket("t-0", "hamlet-1")]),
    )
    .patron();
    observe(
        &mut memory,
        Event::refund("e-3", Refund::tickets("o-1", ["t-c"])).at(order_time()),
    );

    let ids = |perf: &str| -> Vec<String> {
        memory
            .tickets_for(perf)
            .expect("catalog performance")
            .map(|t| t.id().to_string())
            .collect()
    };
    assert_eq!(ids("hamlet-1"), ["t-b", "t-c", "t-0"]);
    assert_eq!(ids("hamlet-2"), ["t-a"]);
    assert!(ids("hamlet-3").is_empty());
    assert!(memory.tickets_for("no-such-performance").is_none());

    let tickets: Vec<_> = memory.tickets_for("hamlet-1").expect("known").collect();
    assert_eq!(tickets[0].order(), "o-1");
    assert_eq!(tickets[0].seat().map(|s| s.label()), Some("B2"));
    assert_eq!(tickets[0].price(), Some(gbp(3000)));
    assert_eq!(
        tickets[0].performance().map(|p| p.id().as_str()),
        Some("hamlet-1")
    );
    assert!(tickets[1].is_refunded(), "refunded tickets are listed");
    assert_eq!(tickets[2].buyer(), ben);
    assert_eq!(tickets[0].buyer(), ana);
}

// ---------------------------------------------------------------- profile

fn seeded() -> (regulars::Memory, regulars::PatronId) {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    )
    .patron();
    (memory, ana)
}

#[test]
fn consent_keeps_the_latest_answer_whatever_the_arrival_order() {
    let (mut memory, ana) = seeded();
    let consent = |m: &regulars::Memory, channel| {
        m.patron(ana)
            .expect("ana")
            .consent(channel, Purpose::Marketing)
    };
    assert_eq!(consent(&memory, Channel::Email), None, "never asked");

    let (t1, t2, t3) = (
        utc(2026, 1, 10, 9, 0),
        utc(2026, 2, 10, 9, 0),
        utc(2026, 3, 10, 9, 0),
    );
    memory
        .update_profile(
            ana,
            ProfileChange::Consent(Consent::granted(Channel::Email, Purpose::Marketing, t2)),
        )
        .expect("consent");
    // An older answer arrives late: it does not override the newer one.
    memory
        .update_profile(
            ana,
            ProfileChange::Consent(Consent::withdrawn(Channel::Email, Purpose::Marketing, t1)),
        )
        .expect("consent");
    assert_eq!(consent(&memory, Channel::Email), Some(true));
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.consents().len(), 1);
    assert_eq!(patron.consents()[0].at(), t2);

    // A newer withdrawal does.
    memory
        .update_profile(
            ana,
            ProfileChange::Consent(Consent::withdrawn(Channel::Email, Purpose::Marketing, t3)),
        )
        .expect("consent");
    assert_eq!(consent(&memory, Channel::Email), Some(false));

    // Other channels and purposes are separate answers.
    memory
        .update_profile(
            ana,
            ProfileChange::Consent(Consent::granted(Channel::Sms, Purpose::Marketing, t1)),
        )
        .expect("consent");
    assert_eq!(consent(&memory, Channel::Sms), Some(true));
    assert_eq!(consent(&memory, Channel::Email), Some(false));
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.consents().len(), 2);
    assert_eq!(
        patron.consent(Channel::Email, Purpose::Personalisation),
        None
    );
}

#[test]
fn a_flag_replaces_the_flag_of_the_same_kind() {
    let (mut memory, ana) = seeded();
    memory
        .update_profile(
            ana,
            ProfileChange::AddFlag(Flag::new(FlagKind::AccessNeeds).detail("wheelchair space")),
        )
        .expect("flag");
    memory
        .update_profile(
            ana,
            ProfileChange::AddFlag(
                Flag::new(FlagKind::AccessNeeds)
                    .detail("step-free route")
                    .until(date(2026, 6, 30)),
            ),
        )
        .expect("flag");
    memory
        .update_profile(ana, ProfileChange::AddFlag(Flag::new(FlagKind::Vip)))
        .expect("flag");

    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.flags().len(), 2);
    let access = patron
        .active_flag(&FlagKind::AccessNeeds, date(2026, 6, 30))
        .expect("active on its last day");
    assert_eq!(access.detail_text(), Some("step-free route"));
    assert!(
        patron
            .active_flag(&FlagKind::AccessNeeds, date(2026, 7, 1))
            .is_none()
    );
    assert!(
        patron
            .active_flag(&FlagKind::Vip, date(2030, 1, 1))
            .is_some()
    );

    memory
        .update_profile(ana, ProfileChange::RemoveFlag(FlagKind::Vip))
        .expect("remove");
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.flags().len(), 1);
    assert_eq!(patron.flags()[0].kind(), &FlagKind::AccessNeeds);
}

#[test]
fn preferences_and_notes_change_the_profile_only() {
    let (mut memory, ana) = seeded();
    let before = snapshot(&memory);

    memory
        .update_profile(ana, ProfileChange::PrefersNoFuss(true))
        .expect("no fuss");
    assert!(
        memory
            .patron(ana)
            .expect("ana")
            .preferences()
            .prefers_no_fuss()
    );
    memory
        .update_profile(
            ana,
            ProfileChange::SeatPreference(Some(SeatPreference::aisle().in_section("Stalls"))),
        )
        .expect("seat");
    memory
        .update_profile(
            ana,
            ProfileChange::CustomPreference {
                key: "drink".into(),
                value: Some("gin and tonic".into()),
            },
        )
        .expect("custom");
    memory
        .update_profile(
            ana,
            ProfileChange::AddNote(Note::new("Prefers the matinee", t0()).by("box office")),
        )
        .expect("note");

    let patron = memory.patron(ana).expect("ana");
    let prefs = patron.preferences();
    assert!(prefs.prefers_no_fuss());
    assert!(prefs.seat().expect("seat").wants_aisle());
    assert_eq!(prefs.seat().and_then(|s| s.section()), Some("Stalls"));
    assert_eq!(prefs.custom("drink"), Some("gin and tonic"));
    assert_eq!(patron.notes().len(), 1);
    assert_eq!(patron.notes()[0].text(), "Prefers the matinee");
    assert_eq!(patron.notes()[0].author(), Some("box office"));

    memory
        .update_profile(ana, ProfileChange::PrefersNoFuss(false))
        .expect("fuss again");
    memory
        .update_profile(
            ana,
            ProfileChange::CustomPreference {
                key: "drink".into(),
                value: None,
            },
        )
        .expect("remove custom");
    let patron = memory.patron(ana).expect("ana");
    assert!(!patron.preferences().prefers_no_fuss());
    assert_eq!(patron.preferences().custom("drink"), None);

    // History, figures and counts are untouched by profile changes.
    let after = snapshot(&memory);
    assert_eq!(after.patron_count, before.patron_count);
    assert_eq!(after.event_count, before.event_count);
    assert_eq!(after.patrons[0].history, before.patrons[0].history);
    assert_eq!(after.patrons[0].stats, before.patrons[0].stats);
}

#[test]
fn scans_are_recorded_with_their_direction() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    let start = starts("hamlet-1");
    observe(
        &mut memory,
        entry_at("e-2", "t-1", start - TimeDelta::minutes(20)),
    );
    observe(
        &mut memory,
        exit_at("e-3", "t-1", start + TimeDelta::minutes(80)),
    );
    let directions: Vec<Direction> = memory
        .patron(ana)
        .expect("ana")
        .history()
        .iter()
        .filter_map(|i| match i.kind() {
            InteractionKind::Scanned {
                ticket,
                performance,
                direction,
            } => {
                assert_eq!(ticket.as_str(), "t-1");
                assert_eq!(performance.as_str(), "hamlet-1");
                Some(*direction)
            }
            _ => None,
        })
        .collect();
    assert_eq!(directions, [Direction::Entry, Direction::Exit]);
    assert!(memory.ticket("t-1").expect("t-1").is_scanned_in());
}

#[test]
fn each_scan_is_recognized_as_its_own_tickets_holder_by_the_ticket() {
    let mut memory = memory();
    let observation = ana_buys_t1_and_t2_for_ben(&mut memory);
    let ana = observation.patron();
    let ben = observation.participants()[0].patron();
    // One after the other, so that what the first scan's recognition said cannot stand
    // for the second's.
    let first = scan_in(&mut memory, "e-2", "t-2");
    let second = scan_in(&mut memory, "e-3", "t-1");
    for (scanned, holder) in [(&first, ben), (&second, ana)] {
        let recognition = scanned.recognition();
        assert_eq!(scanned.patron(), holder);
        assert_eq!(recognition.known_patron(), Some(holder));
        assert_eq!(recognition.decision(), "known");
        let evidence = recognition.evidence().expect("evidence");
        let items: Vec<_> = evidence
            .items()
            .iter()
            .map(|item| (item.field(), item.agreement(), item.detail().to_owned()))
            .collect();
        assert_eq!(
            items,
            [(
                Field::Ticket,
                Agreement::Agrees,
                "holds the scanned ticket".to_owned()
            )]
        );
        assert!(recognition.household().is_empty());
    }
    // Each event seen again is its own patron's, whichever was seen last.
    let scanned_at = starts("hamlet-1") - TimeDelta::minutes(20);
    for (event, ticket, holder) in [("e-2", "t-2", ben), ("e-3", "t-1", ana)] {
        let replayed = observe(&mut memory, entry_at(event, ticket, scanned_at));
        assert!(replayed.is_replay());
        assert_eq!(replayed.recognition().known_patron(), Some(holder));
    }
}

#[test]
fn money_in_other_currencies_is_kept_apart() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    )
    .patron();
    observe(
        &mut memory,
        Event::purchase(
            "e-2",
            Purchase::new(ana_signals_email_only()).item(LineItem::new(
                "tote bag",
                1,
                Money::new(1200, Currency::EUR),
            )),
        )
        .at(order_time()),
    );
    let stats = memory.patron(ana).expect("ana").stats().clone();
    assert_eq!(stats.spend_in(Currency::GBP), 3000);
    assert_eq!(stats.spend_in(Currency::EUR), 1200);
    assert_eq!(stats.spend_in(Currency::USD), 0);
    assert_eq!(stats.spend().len(), 2);
}
