//! Running figures after a mixed history: attendance (re-entry and exit scans count once,
//! first/last follow performance starts whatever the scan order), visits per production,
//! genres, spend per currency net of refunds and including the bar, counts, last seen.

mod common;

use chrono::TimeDelta;
use common::*;
use regulars::{
    Currency, Donation, Event, LineItem, Membership, Memory, Money, PatronId, Purchase, Refund,
    Signals, Ticket,
};

struct History {
    memory: Memory,
    ana: PatronId,
    ben: PatronId,
}

fn before(performance: &str, minutes: i64) -> chrono::DateTime<chrono::Utc> {
    starts(performance) - TimeDelta::minutes(minutes)
}

/// Ana's mixed history, with events arriving out of order, and Ben at one performance.
fn mixed_history() -> History {
    let mut memory = memory();
    let ana_id = observe(
        &mut memory,
        order_at(
            "e-o1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F12"),
                seated("t-2", "hamlet-2", "F12"),
                Ticket::new("t-3", "nutcracker-1").price(gbp(2500)),
                ticket("t-4", "hamlet-3"),
            ],
            utc(2026, 2, 1, 10, 0),
        ),
    )
    .patron();
    observe(
        &mut memory,
        order_at(
            "e-o2",
            "o-2",
            Signals::new().email("ana.silva@example.org"),
            [Ticket::new("t-5", "nutcracker-2").price(gbp(2500))],
            utc(2026, 2, 3, 10, 0),
        ),
    );
    observe(
        &mut memory,
        Event::refund("e-r1", Refund::whole_order("o-2")).at(utc(2026, 2, 10, 10, 0)),
    );

    // Scans arrive late and out of order: hamlet-2 first, then nutcracker-1, then
    // hamlet-1 with an interval (exit) and a re-entry. Hamlet-3 is a no-show.
    observe(&mut memory, entry_at("e-s1", "t-2", before("hamlet-2", 20)));
    observe(
        &mut memory,
        entry_at("e-s2", "t-3", before("nutcracker-1", 15)),
    );
    observe(&mut memory, entry_at("e-s3", "t-1", before("hamlet-1", 25)));
    observe(
        &mut memory,
        exit_at("e-s4", "t-1", starts("hamlet-1") + TimeDelta::minutes(75)),
    );
    observe(
        &mut memory,
        entry_at("e-s5", "t-1", starts("hamlet-1") + TimeDelta::minutes(90)),
    );

    // Bar at hamlet-1 in pounds, shop in euros.
    observe(
        &mut memory,
        Event::purchase(
            "e-p1",
            Purchase::new(Signals::new().card_token("tok_ana_4242"))
                .at_performance("hamlet-1")
                .item(LineItem::new("glass of wine", 2, gbp(750))),
        )
        .at(starts("hamlet-1") + TimeDelta::minutes(80)),
    );
    observe(
        &mut memory,
        Event::purchase(
            "e-p2",
            Purchase::new(Signals::new().card_token("tok_ana_4242")).item(LineItem::new(
                "poster",
                1,
                Money::new(600, Currency::EUR),
            )),
        )
        .at(utc(2026, 3, 8, 22, 0)),
    );

    // Observed last, but happened before the latest scan.
    observe(
        &mut memory,
        Event::donation("e-d1", Donation::new(ana(), gbp(10_000))).at(utc(2026, 4, 1, 12, 0)),
    );
    observe(
        &mut memory,
        Event::membership(
            "e-m1",
            Membership::new(ana(), "Friends", date(2026, 4, 1), date(2027, 3, 31)),
        )
        .at(utc(2026, 4, 1, 12, 5)),
    );

    // Ben saw hamlet-1 too.
    let ben = observe(
        &mut memory,
        order_at(
            "e-o3",
            "o-3",
            ben(),
            [seated("t-6", "hamlet-1", "G1")],
            utc(2026, 2, 5, 10, 0),
        ),
    )
    .patron();
    observe(&mut memory, entry_at("e-s6", "t-6", before("hamlet-1", 5)));

    History {
        memory,
        ana: ana_id,
        ben,
    }
}

#[test]
fn distinct_performances_attended_ignores_exits_and_re_entries() {
    let h = mixed_history();
    let ana = h.memory.patron(h.ana).expect("ana");
    assert_eq!(ana.stats().performances_attended(), 3);
    for (performance, attended) in [
        ("hamlet-1", true),
        ("hamlet-2", true),
        ("nutcracker-1", true),
        ("hamlet-3", false),
        ("nutcracker-2", false),
        ("no-such-performance", false),
    ] {
        assert_eq!(ana.attended(performance), attended, "{performance}");
    }
}

#[test]
fn first_and_last_attended_are_performance_starts_whatever_the_scan_order() {
    let h = mixed_history();
    let stats = h.memory.patron(h.ana).expect("ana").stats().clone();
    assert_eq!(stats.first_attended_at(), Some(starts("hamlet-1")));
    assert_eq!(stats.last_attended_at(), Some(starts("nutcracker-1")));

    let ben = h.memory.patron(h.ben).expect("ben").stats().clone();
    assert_eq!(ben.first_attended_at(), Some(starts("hamlet-1")));
    assert_eq!(ben.last_attended_at(), Some(starts("hamlet-1")));
}

#[test]
fn visits_to_counts_distinct_performances_of_a_production() {
    let h = mixed_history();
    let ana = h.memory.patron(h.ana).expect("ana");

    let hamlet = ana.visits_to(HAMLET);
    assert_eq!(hamlet.count(), 2);
    assert_eq!(hamlet.first_at(), Some(starts("hamlet-1")));
    assert_eq!(hamlet.last_at(), Some(starts("hamlet-2")));

    let nutcracker = ana.visits_to(NUTCRACKER);
    assert_eq!(nutcracker.count(), 1);
    assert_eq!(nutcracker.first_at(), Some(starts("nutcracker-1")));
    assert_eq!(nutcracker.last_at(), Some(starts("nutcracker-1")));

    let unknown = ana.visits_to("no-such-production");
    assert_eq!(unknown.count(), 0);
    assert_eq!(unknown.first_at(), None);

    let ben = h.memory.patron(h.ben).expect("ben");
    assert_eq!(ben.visits_to(HAMLET).count(), 1);
    assert_eq!(ben.visits_to(NUTCRACKER).count(), 0);
}

#[test]
fn attendances_are_counted_per_genre() {
    let h = mixed_history();
    let ana = h.memory.patron(h.ana).expect("ana");
    assert_eq!(ana.attendances_in_genre("drama"), 2);
    assert_eq!(ana.attendances_in_genre("shakespeare"), 2);
    assert_eq!(ana.attendances_in_genre("ballet"), 1);
    assert_eq!(ana.attendances_in_genre("family"), 1);
    assert_eq!(ana.attendances_in_genre("opera"), 0);
    assert_eq!(
        ana.genres(),
        [
            ("drama", 2),
            ("shakespeare", 2),
            ("ballet", 1),
            ("family", 1)
        ],
        "most attended first, then by name"
    );

    let ben = h.memory.patron(h.ben).expect("ben");
    assert_eq!(ben.genres(), [("drama", 1), ("shakespeare", 1)]);
    assert_eq!(ben.attendances_in_genre("ballet"), 0);
}

#[test]
fn spend_is_per_currency_net_of_refunds_and_includes_the_bar() {
    let h = mixed_history();
    let stats = h.memory.patron(h.ana).expect("ana").stats().clone();
    // Tickets 30 + 30 + 25 + 30, plus 25 refunded, plus 2 × 7.50 at the bar.
    assert_eq!(
        stats.spend_in(Currency::GBP),
        3000 + 3000 + 2500 + 3000 + 2500 - 2500 + 1500
    );
    assert_eq!(stats.spend_in(Currency::EUR), 600);
    assert_eq!(stats.spend_in(Currency::USD), 0);
    let mut spend: Vec<Money> = stats.spend().to_vec();
    spend.sort_by_key(|m| m.currency());
    assert_eq!(spend, [Money::new(600, Currency::EUR), gbp(13_000)]);
    assert_eq!(stats.donated(), [gbp(10_000)]);

    let ben = h.memory.patron(h.ben).expect("ben").stats().clone();
    assert_eq!(ben.spend(), [gbp(3000)]);
}

#[test]
fn counts_of_orders_tickets_and_other_interactions() {
    let h = mixed_history();
    let ana = h.memory.patron(h.ana).expect("ana");
    let stats = ana.stats();
    assert_eq!(stats.orders(), 2);
    assert_eq!(stats.tickets(), 5);
    assert_eq!(stats.tickets_refunded(), 1);
    assert_eq!(stats.purchases(), 2);
    assert_eq!(stats.donations(), 1);
    assert_eq!(stats.memberships().len(), 1);
    assert_eq!(
        stats.membership_on(date(2026, 12, 10)).map(|m| m.scheme()),
        Some("Friends")
    );
    // 5 + 1 tickets and orders, a refund, 5 scans, 2 purchases, a donation, a membership.
    assert_eq!(ana.history().len(), 4 + 1 + 1 + 1 + 1 + 5 + 2 + 1 + 1);
    assert_eq!(h.memory.patron_count(), 2);
    assert_eq!(h.memory.event_count(), 14);
}

#[test]
fn first_and_last_seen_are_the_earliest_and_latest_interactions() {
    let h = mixed_history();
    let stats = h.memory.patron(h.ana).expect("ana").stats().clone();
    assert_eq!(stats.first_seen_at(), Some(utc(2026, 2, 1, 10, 0)));
    // The nutcracker scan, although the donation and membership were observed after it.
    assert_eq!(stats.last_seen_at(), Some(before("nutcracker-1", 15)));
}

#[test]
fn an_exit_scan_alone_is_not_an_attendance() {
    let mut memory = memory();
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    )
    .patron();
    observe(
        &mut memory,
        exit_at("e-2", "t-1", starts("hamlet-1") + TimeDelta::hours(2)),
    );
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.stats().performances_attended(), 0);
    assert_eq!(patron.stats().first_attended_at(), None);
    assert_eq!(patron.visits_to(HAMLET).count(), 0);
    assert!(patron.genres().is_empty());
    assert!(!patron.attended("hamlet-1"));
    assert!(!memory.ticket("t-1").expect("t-1").is_scanned_in());

    // Coming in afterwards counts, once.
    observe(&mut memory, entry_at("e-3", "t-1", before("hamlet-1", 30)));
    observe(&mut memory, entry_at("e-4", "t-1", before("hamlet-1", 10)));
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.stats().performances_attended(), 1);
    assert_eq!(patron.visits_to(HAMLET).count(), 1);
    assert_eq!(patron.attendances_in_genre("drama"), 1);
}

#[test]
fn two_tickets_to_one_performance_count_one_attendance() {
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
    observe(&mut memory, entry_at("e-2", "t-1", before("hamlet-1", 10)));
    observe(&mut memory, entry_at("e-3", "t-2", before("hamlet-1", 9)));
    let patron = memory.patron(ana).expect("ana");
    assert_eq!(patron.stats().performances_attended(), 1);
    assert_eq!(patron.visits_to(HAMLET).count(), 1);
    assert_eq!(patron.attendances_in_genre("shakespeare"), 1);
}
