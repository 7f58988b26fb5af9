//! Moments: the built-in FirstVisit and RepeatProduction rules (the theatre story end to
//! end), dedupe, custom rules written against the public trait and `rule_fn`, rule ids
//! checked by the builder, and priority order.

mod common;

use chrono::TimeDelta;
use common::*;
use regulars::{
    Action, Donation, Error, Event, FirstVisit, Memory, Moment, MomentKind, MomentRule, Priority,
    RepeatProduction, RuleContext, Seat, Signals, Ticket, Trigger, rule_fn,
};

const FIRST_VISIT: &str = FirstVisit::ID;
const REPEAT: &str = RepeatProduction::ID;

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

// ---------------------------------------------------------------- FirstVisit

#[test]
fn first_visit_welcomes_a_newcomer_at_their_first_ticket() {
    let mut memory = memory();
    let observation = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [Ticket::new("t-1", "hamlet-1").seat(Seat::new("F12").in_section("Stalls"))],
        ),
    );
    let welcomes = moments_of(&observation, FIRST_VISIT);
    assert_eq!(welcomes.len(), 1, "{:?}", observation.moments());
    let welcome = welcomes[0];
    assert_eq!(welcome.rule(), FIRST_VISIT);
    assert_eq!(welcome.patron(), observation.patron());
    assert_eq!(welcome.kind(), MomentKind::Welcome);
    assert_eq!(welcome.action(), Action::FrontOfHouse);
    assert_eq!(welcome.performance().map(|p| p.as_str()), Some("hamlet-1"));
    assert_eq!(welcome.seat(), Some(&Seat::new("F12").in_section("Stalls")));
    assert!(
        welcome.message().contains(HAMLET_TITLE),
        "{}",
        welcome.message()
    );
    assert!(moments_of(&observation, REPEAT).is_empty());
    assert_eq!(observation.moments().len(), 1);
}

#[test]
fn first_visit_fires_once_per_performance_until_they_attend() {
    let mut memory = memory();
    let first = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-2", "A1"),
                seated("t-2", "hamlet-1", "A2"),
                seated("t-3", "hamlet-1", "A3"),
            ],
        ),
    );
    let mut welcomed: Vec<_> = moments_of(&first, FIRST_VISIT)
        .iter()
        .map(|m| {
            (
                m.performance().map(|p| p.to_string()),
                m.ticket().map(|t| t.to_string()),
            )
        })
        .collect();
    welcomed.sort();
    assert_eq!(
        welcomed,
        [
            (Some("hamlet-1".to_owned()), Some("t-2".to_owned())),
            (Some("hamlet-2".to_owned()), Some("t-1".to_owned())),
        ],
        "one welcome per booked performance, for its first ticket"
    );

    // Once they have attended, a new booking is no first visit.
    scan_in(&mut memory, "e-2", "t-2");
    let later = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-4", "nutcracker-1", "B1")],
            order_time() + days(10),
        ),
    );
    assert!(
        moments_of(&later, FIRST_VISIT).is_empty(),
        "{:?}",
        later.moments()
    );
}

#[test]
fn a_refunded_first_booking_does_not_use_up_the_welcome() {
    let mut memory = memory();
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    observe(
        &mut memory,
        Event::refund("e-2", regulars::Refund::whole_order("o-1")).at(order_time() + days(1)),
    );
    let rebooked = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-3", "C7")],
            order_time() + days(2),
        ),
    );
    let welcomes = moments_of(&rebooked, FIRST_VISIT);
    assert_eq!(welcomes.len(), 1, "{:?}", rebooked.moments());
    assert_eq!(
        welcomes[0].performance().map(|p| p.as_str()),
        Some("hamlet-3")
    );
}

/// FirstVisit's own decision, re-keyed per ticket so that dedupe cannot hide whether the
/// rule itself would fire.
#[derive(Debug)]
struct FirstVisitEveryTicket(FirstVisit);

impl MomentRule for FirstVisitEveryTicket {
    fn id(&self) -> &str {
        "first-visit-every-ticket"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Ticket(ticket) = ctx.trigger() else {
            return;
        };
        let key = ticket.id().to_string();
        let mut proposed = Vec::new();
        self.0.evaluate(ctx, &mut proposed);
        out.extend(proposed.into_iter().map(|m| m.dedupe_by(key.clone())));
    }
}

#[test]
fn first_visit_does_not_fire_for_a_patron_who_already_attended() {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(
        builder(&clock)
            .without_default_rules()
            .rule(FirstVisitEveryTicket(FirstVisit::new())),
    );
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    assert_eq!(first.moments().len(), 1);
    // Not attended yet: FirstVisit still holds.
    let second = observe(
        &mut memory,
        order_at(
            "e-2",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-2", "A1")],
            order_time() + days(1),
        ),
    );
    assert_eq!(second.moments().len(), 1);

    scan_in(&mut memory, "e-3", "t-1");
    let third = observe(
        &mut memory,
        order_at(
            "e-4",
            "o-3",
            ana(),
            [seated("t-3", "hamlet-3", "A1")],
            starts("hamlet-1") + days(1),
        ),
    );
    assert!(third.moments().is_empty(), "{:?}", third.moments());

    // With the real rule, the same story gives one welcome only.
    let mut memory = common::memory();
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    assert_eq!(moments_of(&first, FIRST_VISIT).len(), 1);
    scan_in(&mut memory, "e-2", "t-1");
    let later = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "nutcracker-1", "A1")],
            starts("hamlet-1") + days(1),
        ),
    );
    assert!(moments_of(&later, FIRST_VISIT).is_empty());
}

#[test]
fn first_visit_is_for_the_ticket_holder_and_without_a_seat_has_none() {
    let mut memory = memory();
    let observation = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [Ticket::new("t-1", "hamlet-1").holder(ben())],
        ),
    );
    let ben = observation.participants()[0].patron();
    let welcomes = moments_of(&observation, FIRST_VISIT);
    assert_eq!(welcomes.len(), 1, "the buyer holds no ticket");
    assert_eq!(welcomes[0].patron(), ben);
    assert_eq!(welcomes[0].seat(), None);
    assert_eq!(welcomes[0].action(), Action::FrontOfHouse);
}

// ---------------------------------------------------------------- RepeatProduction

#[test]
fn no_repeat_note_for_a_production_never_attended() {
    let mut memory = memory();
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "nutcracker-1", "C3")]),
    );
    scan_in(&mut memory, "e-2", "t-1");
    // Attended the Nutcracker, never Hamlet.
    let observation = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [
                seated("t-2", "hamlet-1", "C3"),
                seated("t-3", "hamlet-2", "C3"),
            ],
            starts("nutcracker-1") + days(1),
        ),
    );
    assert!(
        moments_of(&observation, REPEAT).is_empty(),
        "{:?}",
        observation.moments()
    );
}

#[test]
fn a_second_performance_of_an_attended_production_gets_a_seat_note() {
    let mut memory = memory();
    let ana_id = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    scan_in(&mut memory, "e-2", "t-1");

    let observation = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [Ticket::new("t-2", "hamlet-2").seat(Seat::new("H4").in_section("Circle"))],
            starts("hamlet-1") + days(1),
        ),
    );
    let notes = moments_of(&observation, REPEAT);
    assert_eq!(notes.len(), 1, "{:?}", observation.moments());
    let note = notes[0];
    assert_eq!(note.action(), Action::SeatNote);
    assert_eq!(note.kind(), MomentKind::Celebration);
    assert_eq!(note.seat(), Some(&Seat::new("H4").in_section("Circle")));
    assert_eq!(note.message(), "2nd visit to Hamlet");
    assert_eq!(note.performance().map(|p| p.as_str()), Some("hamlet-2"));
    assert_eq!(note.patron(), ana_id);
    assert_eq!(note.priority(), Priority(176));
    assert_eq!(observation.moments().len(), 1);
}

#[test]
fn the_theatre_story_end_to_end() {
    let mut memory = memory();
    let mut events = vec![order(
        "e-1",
        "o-1",
        ana(),
        [
            seated("t-1", "hamlet-1", "F10"),
            seated("t-2", "hamlet-2", "F11"),
        ],
    )];
    let booked = observe(&mut memory, events[0].clone());
    let ana_id = booked.patron();
    assert!(moments_of(&booked, REPEAT).is_empty(), "not attended yet");

    // At her first visit, the ticket she already holds for hamlet-2 becomes a repeat:
    // its note is placed then. Her second visit brings nothing new.
    let mut placed = Vec::new();
    for (event, ticket, performance) in [("e-2", "t-1", "hamlet-1"), ("e-3", "t-2", "hamlet-2")] {
        let scan = entry_at(event, ticket, starts(performance) - TimeDelta::minutes(20));
        events.push(scan.clone());
        let scanned = observe(&mut memory, scan);
        assert_eq!(scanned.patron(), ana_id);
        placed.extend(scanned.moments().iter().map(|m| {
            (
                event,
                m.message().to_owned(),
                m.seat().map(|s| s.to_string()),
            )
        }));
    }
    assert_eq!(
        placed,
        [(
            "e-2",
            "2nd visit to Hamlet".to_owned(),
            Some("F11".to_owned())
        )]
    );

    let third = order_at(
        "e-4",
        "o-2",
        email_only("ana.silva@example.org"),
        [Ticket::new("t-3", "hamlet-3").seat(Seat::new("F12").in_section("Stalls"))],
        starts("hamlet-2") + days(1),
    );
    events.push(third.clone());
    let observation = observe(&mut memory, third);
    assert_eq!(observation.patron(), ana_id);
    assert_eq!(
        observation.moments().len(),
        1,
        "exactly one moment: {:?}",
        observation.moments()
    );
    let note = &observation.moments()[0];
    assert_eq!(note.rule(), REPEAT);
    assert_eq!(note.patron(), ana_id);
    assert_eq!(note.action(), Action::SeatNote);
    assert_eq!(note.seat(), Some(&Seat::new("F12").in_section("Stalls")));
    assert_eq!(note.message(), "3rd visit to Hamlet");
    assert_eq!(note.performance().map(|p| p.as_str()), Some("hamlet-3"));
    assert_eq!(note.priority(), Priority::HIGH);
    assert!(
        note.explanation().contains('2') && note.explanation().contains(HAMLET_TITLE),
        "{}",
        note.explanation()
    );
    assert_eq!(
        note.to_string(),
        "[repeat-production] 3rd visit to Hamlet (seat Stalls F12)"
    );

    // Replaying the whole story fires nothing and changes nothing.
    let before = snapshot(&memory);
    for event in events {
        let again = observe(&mut memory, event);
        assert!(again.is_replay());
        assert!(again.moments().is_empty(), "{:?}", again.moments());
    }
    assert_eq!(snapshot(&memory), before);

    // One note per patron and performance: another ticket for hamlet-3 gets none.
    let more = observe(
        &mut memory,
        order_at(
            "e-5",
            "o-3",
            email_only("ana.silva@example.org"),
            [seated("t-4", "hamlet-3", "F13")],
            starts("hamlet-2") + days(2),
        ),
    );
    assert!(more.moments().is_empty(), "{:?}", more.moments());
}

/// Signals with only an e-mail.
fn email_only(email: &str) -> Signals {
    Signals::new().email(email)
}

#[test]
fn no_repeat_note_for_a_performance_already_attended() {
    let mut memory = memory();
    observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F10"),
                seated("t-2", "hamlet-2", "F10"),
            ],
        ),
    );
    scan_in(&mut memory, "e-2", "t-1");
    scan_in(&mut memory, "e-3", "t-2");

    // A ticket to hamlet-1 again (already attended) and one to hamlet-3 (not yet).
    let observation = observe(
        &mut memory,
        order_at(
            "e-4",
            "o-2",
            ana(),
            [
                seated("t-3", "hamlet-1", "G1"),
                seated("t-4", "hamlet-3", "G2"),
            ],
            starts("hamlet-1") + TimeDelta::hours(2),
        ),
    );
    let notes = moments_of(&observation, REPEAT);
    assert_eq!(notes.len(), 1, "{:?}", observation.moments());
    assert_eq!(notes[0].performance().map(|p| p.as_str()), Some("hamlet-3"));
    assert_eq!(notes[0].seat(), Some(&Seat::new("G2")));
}

#[test]
fn a_repeat_ticket_without_a_seat_becomes_a_front_of_house_item() {
    let mut memory = memory();
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    scan_in(&mut memory, "e-2", "t-1");
    let observation = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [ticket("t-2", "hamlet-2")],
            starts("hamlet-1") + days(1),
        ),
    );
    let notes = moments_of(&observation, REPEAT);
    assert_eq!(notes.len(), 1, "{:?}", observation.moments());
    assert_eq!(notes[0].action(), Action::FrontOfHouse);
    assert_eq!(notes[0].seat(), None);
    assert_eq!(notes[0].message(), "2nd visit to Hamlet");
    assert_eq!(notes[0].performance().map(|p| p.as_str()), Some("hamlet-2"));
}

#[test]
fn the_repeat_note_is_for_the_holder_who_attended() {
    let mut memory = memory();
    let first = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [seated("t-1", "hamlet-1", "A1").holder(ben())],
        ),
    );
    let ben_id = first.participants()[0].patron();
    scan_in(&mut memory, "e-2", "t-1");

    let second = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [
                seated("t-2", "hamlet-2", "B1").holder(ben()),
                seated("t-3", "hamlet-2", "B2"),
            ],
            starts("hamlet-1") + days(1),
        ),
    );
    let notes = moments_of(&second, REPEAT);
    assert_eq!(notes.len(), 1, "{:?}", second.moments());
    assert_eq!(notes[0].patron(), ben_id);
    assert_eq!(notes[0].seat(), Some(&Seat::new("B1")));
}

#[test]
fn min_previous_visits_sets_the_threshold() {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(
        builder(&clock)
            .without_default_rules()
            .rule(RepeatProduction::new().min_previous_visits(2)),
    );
    observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "A1"),
                seated("t-2", "hamlet-2", "A1"),
            ],
        ),
    );
    scan_in(&mut memory, "e-2", "t-1");

    // One previous visit: below the threshold.
    let one = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-3", "hamlet-3", "A1")],
            starts("hamlet-1") + days(1),
        ),
    );
    assert!(one.moments().is_empty(), "{:?}", one.moments());

    // Two previous visits: exactly at the threshold. Her second visit makes the hamlet-3
    // ticket she already holds a third visit, so its note comes now.
    let second_visit = scan_in(&mut memory, "e-4", "t-2");
    let caught_up = moments_of(&second_visit, REPEAT);
    assert_eq!(caught_up.len(), 1, "{:?}", second_visit.moments());
    assert_eq!(caught_up[0].message(), "3rd visit to Hamlet");
    assert_eq!(caught_up[0].ticket().map(|t| t.as_str()), Some("t-3"));
    let two = observe(
        &mut memory,
        order_at(
            "e-5",
            "o-3",
            ana(),
            [seated("t-4", "hamlet-4", "A2")],
            starts("hamlet-2") + days(1),
        ),
    );
    let notes = moments_of(&two, REPEAT);
    assert_eq!(notes.len(), 1, "{:?}", two.moments());
    assert_eq!(notes[0].message(), "3rd visit to Hamlet");

    // hamlet-3 has its note: another ticket there does not get a second one.
    let again = observe(
        &mut memory,
        order_at(
            "e-6",
            "o-4",
            ana(),
            [seated("t-5", "hamlet-3", "A3")],
            starts("hamlet-2") + days(2),
        ),
    );
    assert!(
        moments_of(&again, REPEAT).is_empty(),
        "{:?}",
        again.moments()
    );

    // Zero means one: never attended, never a note.
    let mut memory = build(
        builder(&clock)
            .without_default_rules()
            .rule(RepeatProduction::new().min_previous_visits(0)),
    );
    let none = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    assert!(none.moments().is_empty(), "{:?}", none.moments());
}

#[test]
fn without_default_rules_nothing_fires() {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).without_default_rules());
    let mut fired = Vec::new();
    let observations = [
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F10"),
                seated("t-2", "hamlet-2", "F11").holder(ben()),
            ],
        ),
        entry_at("e-2", "t-1", starts("hamlet-1")),
        entry_at("e-3", "t-2", starts("hamlet-2")),
        order_at(
            "e-4",
            "o-2",
            ana(),
            [seated("t-3", "hamlet-3", "F12")],
            starts("hamlet-2") + days(1),
        ),
        Event::donation("e-5", Donation::new(ana(), gbp(100))).at(order_time()),
    ];
    for event in observations {
        fired.extend(observe(&mut memory, event).moments().to_vec());
    }
    assert!(fired.is_empty(), "{fired:?}");
}

// ---------------------------------------------------------------- custom rules

/// Thanks a donor, proposing the same moment twice: memory must keep one.
#[derive(Debug)]
struct ThankDonors;

impl MomentRule for ThankDonors {
    fn id(&self) -> &str {
        "thank-donors"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        if let Trigger::Donation { amount, .. } = ctx.trigger() {
            for _ in 0..2 {
                out.push(
                    Moment::new(
                        MomentKind::Celebration,
                        Action::FollowUp,
                        format!("Thank them for {amount}"),
                    )
                    .dedupe_by("thanks-2026")
                    .explain("donated"),
                );
            }
        }
    }
}

#[test]
fn a_custom_rule_fires_is_stamped_and_deduplicated() {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).rule(ThankDonors));

    let first = observe(
        &mut memory,
        Event::donation("e-1", Donation::new(ana(), gbp(5000))).at(order_time()),
    );
    let thanks = moments_of(&first, "thank-donors");
    assert_eq!(thanks.len(), 1, "same dedupe key twice fires once");
    assert_eq!(thanks[0].patron(), first.patron());
    assert_eq!(thanks[0].rule(), "thank-donors");
    assert_eq!(thanks[0].message(), "Thank them for 50.00 GBP");
    assert_eq!(thanks[0].dedupe_key(), "thanks-2026");
    assert_eq!(thanks[0].action(), Action::FollowUp);

    // Same patron, same key: never again.
    let second = observe(
        &mut memory,
        Event::donation("e-2", Donation::new(ana(), gbp(9000))).at(order_time() + days(1)),
    );
    assert!(moments_of(&second, "thank-donors").is_empty());

    // Dedupe is per patron: Ben gets his own.
    let ben = observe(
        &mut memory,
        Event::donation("e-3", Donation::new(ben(), gbp(1000))).at(order_time()),
    );
    let thanks = moments_of(&ben, "thank-donors");
    assert_eq!(thanks.len(), 1);
    assert_eq!(thanks[0].patron(), ben.patron());
    assert_ne!(ben.patron(), first.patron());
}

#[test]
fn a_closure_rule_fires_and_is_stamped() {
    let welcome_back = rule_fn("welcome-back", |ctx, out| {
        if let Trigger::Scan {
            ticket,
            first_entry: true,
            ..
        } = ctx.trigger()
            && ctx.patron().stats().performances_attended() >= 2
        {
            out.push(
                Moment::new(
                    MomentKind::Welcome,
                    Action::ScanAttention,
                    format!("Welcome back to {}", ticket.production().title()),
                )
                .for_performance(ticket.performance().id().clone()),
            );
        }
    });
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).without_default_rules().rule(welcome_back));
    let ana_id = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F10"),
                seated("t-2", "hamlet-2", "F10"),
            ],
        ),
    )
    .patron();

    assert!(scan_in(&mut memory, "e-2", "t-1").moments().is_empty());
    let back = scan_in(&mut memory, "e-3", "t-2");
    assert_eq!(back.moments().len(), 1, "{:?}", back.moments());
    let moment = &back.moments()[0];
    assert_eq!(moment.rule(), "welcome-back");
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(moment.message(), "Welcome back to Hamlet");
    assert_eq!(moment.performance().map(|p| p.as_str()), Some("hamlet-2"));
    assert_eq!(
        moment.dedupe_key(),
        "hamlet-2",
        "defaults to the performance"
    );

    // Re-entry is not a first entry.
    let re_entry = observe(
        &mut memory,
        entry_at("e-4", "t-2", starts("hamlet-2") + TimeDelta::minutes(90)),
    );
    assert!(re_entry.moments().is_empty());
}

#[test]
fn the_builder_rejects_two_rules_with_one_id() {
    let noop = |_: &RuleContext<'_>, _: &mut Vec<Moment>| {};
    let err = Memory::builder()
        .without_default_rules()
        .rule(rule_fn("twice", noop))
        .rule(rule_fn("twice", noop))
        .build()
        .expect_err("duplicate rule id");
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
    assert!(err.to_string().contains("twice"), "{err}");

    // A custom rule cannot take a built-in's id while the built-ins are on…
    let err = Memory::builder()
        .rule(rule_fn(FirstVisit::ID, noop))
        .build()
        .expect_err("clashes with the built-in");
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
    let err = Memory::builder()
        .rule(RepeatProduction::new().min_previous_visits(3))
        .build()
        .expect_err("second RepeatProduction");
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");

    // …but may once they are off.
    assert!(
        Memory::builder()
            .without_default_rules()
            .rule(rule_fn(FirstVisit::ID, noop))
            .rule(rule_fn("other", noop))
            .build()
            .is_ok()
    );
}

#[test]
fn moments_come_highest_priority_first() {
    let spread = rule_fn("spread", |ctx, out| {
        if let Trigger::Order { order, .. } = ctx.trigger() {
            for (name, priority) in [
                ("low", Priority::LOW),
                ("high", Priority::HIGH),
                ("normal", Priority::NORMAL),
                ("top", Priority(250)),
            ] {
                out.push(
                    Moment::new(MomentKind::Recognition, Action::BoxOfficeAlert, name)
                        .with_priority(priority)
                        .dedupe_by(format!("{order}-{name}")),
                );
            }
        }
    });
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).rule(spread));
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    scan_in(&mut memory, "e-2", "t-1");
    let observation = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [
                seated("t-2", "hamlet-2", "A1"),
                seated("t-3", "hamlet-3", "A1"),
            ],
            starts("hamlet-1") + days(1),
        ),
    );
    let priorities: Vec<Priority> = observation.moments().iter().map(|m| m.priority()).collect();
    assert!(
        priorities.windows(2).all(|w| w[0] >= w[1]),
        "not sorted: {priorities:?}"
    );
    let spread: Vec<&str> = moments_of(&observation, "spread")
        .iter()
        .map(|m| m.message())
        .collect();
    assert_eq!(spread, ["top", "high", "normal", "low"]);
    assert_eq!(moments_of(&observation, REPEAT).len(), 2);
    assert_eq!(observation.moments().len(), 6);
}

#[test]
fn tickets_booked_before_a_first_visit_get_their_notes_at_that_visit() {
    let mut memory = memory();
    // Ana books three Hamlets at once, before seeing any.
    let booked = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "A1"),
                seated("t-3", "hamlet-3", "C3"),
                seated("t-2", "hamlet-2", "B2"),
            ],
        ),
    );
    assert!(moments_of(&booked, REPEAT).is_empty());

    // At her first visit, her later Hamlets become repeats: notes numbered in date order.
    let at_door = scan_in(&mut memory, "e-2", "t-1");
    let mut notes: Vec<_> = moments_of(&at_door, REPEAT)
        .iter()
        .map(|m| {
            (
                m.performance().map(|p| p.to_string()),
                m.ticket().map(|t| t.to_string()),
                m.seat().map(|s| s.to_string()),
                m.message().to_owned(),
                m.action(),
            )
        })
        .collect();
    notes.sort();
    assert_eq!(
        notes,
        [
            (
                Some("hamlet-2".to_owned()),
                Some("t-2".to_owned()),
                Some("B2".to_owned()),
                "2nd visit to Hamlet".to_owned(),
                Action::SeatNote
            ),
            (
                Some("hamlet-3".to_owned()),
                Some("t-3".to_owned()),
                Some("C3".to_owned()),
                "3rd visit to Hamlet".to_owned(),
                Action::SeatNote
            ),
        ]
    );

    // Her second visit changes nothing: both notes already fired.
    let second = scan_in(&mut memory, "e-3", "t-2");
    assert!(
        moments_of(&second, REPEAT).is_empty(),
        "{:?}",
        second.moments()
    );
}

#[test]
fn the_catch_up_skips_refunded_tickets_and_other_productions() {
    let mut memory = memory();
    observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "A1"),
                seated("t-2", "hamlet-2", "B2"),
                seated("t-3", "nutcracker-1", "N1"),
            ],
        ),
    );
    observe(
        &mut memory,
        Event::refund("e-2", regulars::Refund::tickets("o-1", ["t-2"])).at(order_time() + days(1)),
    );
    let at_door = scan_in(&mut memory, "e-3", "t-1");
    assert!(
        moments_of(&at_door, REPEAT).is_empty(),
        "{:?}",
        at_door.moments()
    );
}

#[test]
fn the_catch_up_respects_min_previous_visits() {
    let mut memory = build(
        builder(&regulars::ManualClock::new(t0()))
            .without_default_rules()
            .rule(RepeatProduction::new().min_previous_visits(2)),
    );
    observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "A1"),
                seated("t-2", "hamlet-2", "B2"),
                seated("t-3", "hamlet-3", "C3"),
            ],
        ),
    );
    let at_door = scan_in(&mut memory, "e-2", "t-1");
    let notes: Vec<_> = at_door
        .moments()
        .iter()
        .map(|m| m.message().to_owned())
        .collect();
    assert_eq!(
        notes,
        ["3rd visit to Hamlet"],
        "hamlet-2 would be only the 2nd"
    );
}

// ---------------------------------------------------------------- many moments

#[test]
fn thousands_of_fired_moments_read_back_the_same_after_a_snapshot_and_an_erasure() {
    // More moments than memory keeps in one block, so reading, saving, loading and
    // erasing cross its edges.
    let (mut memory, clock) = memory_with_clock();
    let mut patrons = Vec::new();
    for i in 0..2_600 {
        let who = Signals::new().email(format!("patron.{i}@example.org"));
        let ticket = Ticket::new(format!("t-{i}"), "hamlet-1").seat_label(format!("A{i}"));
        let seen = observe(
            &mut memory,
            order(&format!("e-{i}"), &format!("o-{i}"), who, [ticket]),
        );
        assert_eq!(moments_of(&seen, FIRST_VISIT).len(), 1, "patron {i}");
        patrons.push(seen.patron());
    }
    let moments_of_each = |memory: &Memory| -> Vec<Vec<Moment>> {
        patrons
            .iter()
            .map(|&p| memory.moments_of(p).collect())
            .collect()
    };
    let before = moments_of_each(&memory);
    assert!(before.iter().all(|m| m.len() == 1));
    assert_eq!(
        before[2_047][0].seat(),
        Some(&Seat::new("A2047")),
        "each patron's own moment"
    );

    let image = memory.snapshot();
    let loaded = builder(&clock).build_from_snapshot(&image).expect("loads");
    assert_eq!(moments_of_each(&loaded), before);

    // Erasing one patron early on moves every later moment down: each still reads back.
    memory.erase(patrons[5]).expect("erase");
    let after = moments_of_each(&memory);
    assert!(after[5].is_empty());
    for (i, (after, before)) in after.iter().zip(&before).enumerate() {
        if i != 5 {
            assert_eq!(after, before, "patron {i}");
        }
    }
}

/// The ledger renumbers its texts when an erasure drops the ones only the erased patron
/// used; the rule ids and once-per keys of later moments must not notice.
#[test]
fn notes_after_an_erasure_name_their_rule_and_still_fire_once_per_performance() {
    let mut memory = memory();
    // Ben's moments come first in the ledger, so erasing him moves every later text.
    let ben_id = observe(
        &mut memory,
        order("e-b1", "o-b1", ben(), [seated("t-b1", "hamlet-1", "A1")]),
    )
    .patron();
    scan_in(&mut memory, "e-b2", "t-b1");
    observe(
        &mut memory,
        order_at(
            "e-b3",
            "o-b2",
            ben(),
            [seated("t-b2", "hamlet-2", "A2")],
            starts("hamlet-1") + days(1),
        ),
    );
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    scan_in(&mut memory, "e-2", "t-1");
    let before = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-2", "F1")],
            starts("hamlet-1") + days(1),
        ),
    );
    assert_eq!(moments_of(&before, REPEAT).len(), 1);
    memory.erase(ben_id).unwrap();

    // The same performance again: the note stands already.
    let again = observe(
        &mut memory,
        order_at(
            "e-4",
            "o-3",
            ana(),
            [seated("t-3", "hamlet-2", "F2")],
            starts("hamlet-1") + days(2),
        ),
    );
    assert!(
        moments_of(&again, REPEAT).is_empty(),
        "{:?}",
        again.moments()
    );
    // Another performance: a note, named for its rule.
    let next = observe(
        &mut memory,
        order_at(
            "e-5",
            "o-4",
            ana(),
            [seated("t-4", "hamlet-3", "F3")],
            starts("hamlet-1") + days(2),
        ),
    );
    let notes = moments_of(&next, REPEAT);
    assert_eq!(notes.len(), 1, "{:?}", next.moments());
    assert_eq!(notes[0].rule(), REPEAT);
    assert_eq!(notes[0].message(), "2nd visit to Hamlet");
    let rules: Vec<String> = memory
        .moments_of(next.patron())
        .map(|m| m.rule().to_owned())
        .collect();
    assert!(
        rules.iter().filter(|r| *r == REPEAT).count() == 2,
        "{rules:?}"
    );
    // What memory holds reads back the same from a snapshot.
    let clock = regulars::ManualClock::new(t0());
    let loaded = builder(&clock)
        .build_from_snapshot(&memory.snapshot())
        .expect("loads");
    assert_eq!(all_moments(&loaded), all_moments(&memory));
}
