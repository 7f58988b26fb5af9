//! The moment engine's policies: once-per scopes, cooldowns, date windows, exclusive
//! groups, the per-visit cap, suppressors, consent, refunds, ticks and briefs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use common::*;
use proptest::prelude::*;
use regulars::{
    Action, Channel, Clock, Consent, Donation, Error, Event, Memory, Moment, MomentKind,
    MomentRule, OncePer, PatronView, Policy, Priority, ProfileChange, Purpose, Refund, RuleContext,
    Seat, Suppression, Suppressor, Ticket, Trigger, TriggerKinds, rule_fn,
};

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

/// A rule that proposes one moment per ticket issued, for its performance and seat.
fn per_ticket(id: &'static str, kind: MomentKind, priority: Priority) -> impl MomentRule {
    rule_fn(id, move |ctx, out| {
        if let Trigger::Ticket(ticket) = ctx.trigger() {
            let mut moment = Moment::new(kind, Action::FrontOfHouse, format!("{id} moment"))
                .for_performance(ticket.performance().id().clone())
                .for_ticket(ticket.id().clone())
                .with_priority(priority);
            if let Some(seat) = ticket.seat() {
                moment = moment.at_seat(seat.clone());
            }
            out.push(moment);
        }
    })
}

/// A rule that proposes a moment for every order, keyed by the order.
fn per_order(id: &'static str) -> impl MomentRule {
    rule_fn(id, move |ctx, out| {
        if let Trigger::Order { order, .. } = ctx.trigger() {
            out.push(
                Moment::new(MomentKind::Celebration, Action::BoxOfficeAlert, "thanks")
                    .dedupe_by(order.as_str()),
            );
        }
    })
}

fn bare(clock_at: DateTime<Utc>) -> (regulars::MemoryBuilder, regulars::ManualClock) {
    let clock = regulars::ManualClock::new(clock_at);
    (builder(&clock).without_default_rules(), clock)
}

fn fired(observation: &regulars::Observation, rule: &str) -> usize {
    moments_of(observation, rule).len()
}

// ---------------------------------------------------------------- once-per scopes

/// A rule's moment is judged by its own once-per key, even when the rule asked just
/// before it looked at the same performance and found its own key held.
#[test]
fn a_moment_is_judged_by_its_own_rules_key() {
    let (builder, _clock) = bare(t0());
    let door_note = rule_fn("door-note", |ctx, out| {
        if let Trigger::Ticket(ticket) = ctx.trigger()
            && ticket.id().as_str() == "t-2"
        {
            out.push(
                Moment::new(MomentKind::Recognition, Action::FrontOfHouse, "door note")
                    .for_performance(ticket.performance().id().clone()),
            );
        }
    });
    let mut memory = build(builder.rule(regulars::FirstVisit::new()).rule(door_note));
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    assert_eq!(fired(&first, "first-visit"), 1);
    // The welcome stands already: the first-visit rule finds its key held and proposes
    // nothing; the note, never fired, still fires.
    let second = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-1")]),
    );
    assert_eq!(fired(&second, "first-visit"), 0);
    assert_eq!(fired(&second, "door-note"), 1);
}

#[test]
fn once_per_production_fires_at_the_first_performance_of_each_production() {
    let (b, _) = bare(t0());
    let policy = Policy::new().once_per(OncePer::Production);
    let mut memory = build(b.rule_with_policy(
        per_ticket("p", MomentKind::Welcome, Priority::NORMAL),
        policy,
    ));
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    assert_eq!(fired(&first, "p"), 1);
    let same_production = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-2")]),
    );
    assert_eq!(fired(&same_production, "p"), 0, "hamlet again");
    let other = observe(
        &mut memory,
        order("e-3", "o-3", ana(), [ticket("t-3", "nutcracker-1")]),
    );
    assert_eq!(fired(&other, "p"), 1, "a new production");
}

#[test]
fn once_per_patron_fires_once_ever() {
    let (b, _) = bare(t0());
    let mut memory = build(b.rule_with_policy(
        per_ticket("p", MomentKind::Welcome, Priority::NORMAL),
        Policy::new().once_per(OncePer::Patron),
    ));
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let second = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "nutcracker-1")]),
    );
    assert_eq!((fired(&first, "p"), fired(&second, "p")), (1, 0));
    // Someone else still gets theirs.
    let ben_order = observe(
        &mut memory,
        order("e-3", "o-3", ben(), [ticket("t-3", "hamlet-1")]),
    );
    assert_eq!(fired(&ben_order, "p"), 1);
}

#[test]
fn once_per_year_fires_again_in_a_new_calendar_year() {
    let (b, _) = bare(t0());
    let thanks = rule_fn("donor-thanks", |ctx, out| {
        if let Trigger::Donation { .. } = ctx.trigger() {
            out.push(Moment::new(
                MomentKind::Celebration,
                Action::FollowUp,
                "thanks",
            ));
        }
    });
    let mut memory = build(b.rule_with_policy(thanks, Policy::new().once_per(OncePer::Year)));
    let give = |id: &str, at| Event::donation(id, Donation::new(ana(), gbp(5000))).at(at);
    // Follow-ups by e-mail rely on personalisation, which is allowed unless withdrawn.
    let counts: Vec<usize> = [
        ("d-1", utc(2026, 1, 10, 12, 0)),
        ("d-2", utc(2026, 12, 31, 23, 0)),
        ("d-3", utc(2027, 1, 1, 0, 30)),
        ("d-4", utc(2027, 6, 1, 12, 0)),
    ]
    .into_iter()
    .map(|(id, at)| fired(&observe(&mut memory, give(id, at)), "donor-thanks"))
    .collect();
    assert_eq!(counts, [1, 0, 1, 0]);
}

// ---------------------------------------------------------------- cooldown and windows

#[test]
fn a_cooldown_keeps_a_rule_quiet_for_the_patron() {
    let (b, _) = bare(t0());
    let mut memory =
        build(b.rule_with_policy(per_order("thanks"), Policy::new().cooldown(days(30))));
    let start = utc(2026, 2, 1, 10, 0);
    let counts: Vec<usize> = [0, 10, 29, 30, 45, 61]
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let event = order_at(
                &format!("e-{i}"),
                &format!("o-{i}"),
                ana(),
                [],
                start + days(d),
            );
            fired(&observe(&mut memory, event), "thanks")
        })
        .collect();
    // Fires at day 0; quiet until day 30 (exactly 30 days later fires again); then quiet
    // until day 60.
    assert_eq!(counts, [1, 0, 0, 1, 0, 1]);
    // The cooldown is per patron.
    let ben_order = order_at("e-b", "o-b", ben(), [], start + days(31));
    assert_eq!(fired(&observe(&mut memory, ben_order), "thanks"), 1);
}

#[test]
fn a_rule_outside_its_date_window_does_not_fire() {
    let (b, _) = bare(t0());
    let policy = Policy::new()
        .active_from(date(2026, 3, 1))
        .active_until(date(2026, 3, 31));
    let mut memory = build(b.rule_with_policy(per_order("spring"), policy));
    let counts: Vec<usize> = [
        utc(2026, 2, 28, 23, 59),
        utc(2026, 3, 1, 0, 0),
        utc(2026, 3, 31, 23, 59),
        utc(2026, 4, 1, 0, 0),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, at)| {
        let event = order_at(&format!("e-{i}"), &format!("o-{i}"), ana(), [], at);
        fired(&observe(&mut memory, event), "spring")
    })
    .collect();
    assert_eq!(counts, [0, 1, 1, 0]);
}

#[test]
fn an_embedding_product_can_override_a_built_in_policy() {
    let clock = regulars::ManualClock::new(t0());
    // The product switches first-visit welcomes off after January.
    let mut memory = build(
        builder(&clock).policy_for("first-visit", Policy::new().active_until(date(2026, 1, 31))),
    );
    let february = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    assert_eq!(fired(&february, "first-visit"), 0);

    let unknown = Memory::builder()
        .policy_for("no-such-rule", Policy::new())
        .build()
        .unwrap_err();
    assert!(
        matches!(unknown, Error::InvalidConfig(ref m) if m.contains("no-such-rule")),
        "{unknown}"
    );
}

// ---------------------------------------------------------------- groups and the cap

#[test]
fn an_exclusive_group_keeps_the_highest_priority_moment() {
    let (b, _) = bare(t0());
    let group = Policy::new().exclusive_group("greeting");
    let mut memory = build(
        b.rule_with_policy(
            per_ticket("low", MomentKind::Welcome, Priority::LOW),
            group.clone(),
        )
        .rule_with_policy(
            per_ticket("high", MomentKind::Welcome, Priority::HIGH),
            group.clone(),
        )
        .rule(per_ticket("other", MomentKind::Celebration, Priority::LOW)),
    );
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    let rules: Vec<&str> = seen.moments().iter().map(Moment::rule).collect();
    assert_eq!(rules, ["high", "other"]);
    let silenced: Vec<(&str, &str)> = seen
        .silenced()
        .iter()
        .map(|s| (s.moment().rule(), s.reason()))
        .collect();
    assert_eq!(silenced.len(), 1);
    assert_eq!(silenced[0].0, "low");
    assert!(silenced[0].1.contains("greeting"), "{}", silenced[0].1);
}

#[test]
fn a_later_higher_priority_group_moment_replaces_an_earlier_one() {
    let (b, _) = bare(t0());
    let group = Policy::new().exclusive_group("greeting");
    let early = per_ticket("early", MomentKind::Welcome, Priority::LOW);
    // Proposes only once the patron holds two tickets for the performance.
    let late = rule_fn("late", |ctx, out| {
        if let Trigger::Ticket(ticket) = ctx.trigger()
            && ticket.id() == "t-2"
        {
            out.push(
                Moment::new(MomentKind::Welcome, Action::FrontOfHouse, "late")
                    .for_performance(ticket.performance().id().clone())
                    .with_priority(Priority::HIGH),
            );
        }
    });
    let mut memory = build(
        b.rule_with_policy(early, group.clone())
            .rule_with_policy(late, group),
    );
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let patron = first.patron();
    assert_eq!(fired(&first, "early"), 1);
    let second = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-1")]),
    );
    assert_eq!(fired(&second, "late"), 1);
    let active: Vec<String> = memory
        .moments_of(patron)
        .map(|m| m.rule().to_owned())
        .collect();
    assert_eq!(active, ["late"], "the early greeting was replaced");
}

#[test]
fn the_per_visit_cap_keeps_the_highest_priorities() {
    let (b, _) = bare(t0());
    let mut memory = build(
        b.moments_per_visit(2)
            .rule(per_ticket("a", MomentKind::Celebration, Priority(10)))
            .rule(per_ticket("b", MomentKind::Celebration, Priority(200)))
            .rule(per_ticket("c", MomentKind::Celebration, Priority(100)))
            .rule(per_ticket("d", MomentKind::Celebration, Priority(50))),
    );
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    let rules: Vec<&str> = seen.moments().iter().map(Moment::rule).collect();
    assert_eq!(rules, ["b", "c"]);
    let mut silenced: Vec<&str> = seen.silenced().iter().map(|s| s.moment().rule()).collect();
    silenced.sort_unstable();
    assert_eq!(silenced, ["a", "d"]);
    assert!(seen.silenced()[0].reason().contains("at most 2"));
    // Another performance has its own cap.
    let other = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-2")]),
    );
    assert_eq!(other.moments().len(), 2);
    let brief = memory.brief("hamlet-1").unwrap();
    assert_eq!(brief.moment_count(), 2);
}

// ---------------------------------------------------------------- suppressors and consent

#[derive(Debug)]
struct QuietPlease;

impl Suppressor for QuietPlease {
    fn id(&self) -> &str {
        "quiet-please"
    }
    fn suppress(&self, ctx: &RuleContext<'_>) -> Option<Suppression> {
        ctx.patron()
            .preferences()
            .prefers_no_fuss()
            .then(|| Suppression::kinds([MomentKind::Welcome]).because("prefers no fuss"))
    }
}

#[test]
fn a_suppressor_silences_its_kinds_only_while_it_applies() {
    let (b, _) = bare(t0());
    let mut memory = build(
        b.suppressor(QuietPlease)
            .rule(per_ticket("hello", MomentKind::Welcome, Priority::NORMAL))
            .rule(per_ticket("ramp", MomentKind::Operational, Priority::HIGH)),
    );
    let first = observe(&mut memory, order("e-1", "o-1", ana(), []));
    memory
        .update_profile(first.patron(), ProfileChange::PrefersNoFuss(true))
        .unwrap();
    let quiet = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let rules: Vec<&str> = quiet.moments().iter().map(Moment::rule).collect();
    assert_eq!(rules, ["ramp"], "operational moments still fire");
    assert_eq!(quiet.silenced().len(), 1);
    assert_eq!(
        quiet.silenced()[0].reason(),
        "quiet-please: prefers no fuss"
    );

    memory
        .update_profile(first.patron(), ProfileChange::PrefersNoFuss(false))
        .unwrap();
    let chatty = observe(
        &mut memory,
        order("e-3", "o-3", ana(), [ticket("t-2", "hamlet-2")]),
    );
    assert_eq!(fired(&chatty, "hello"), 1);
}

/// A marketing follow-up by e-mail for every order.
fn offer() -> impl MomentRule {
    rule_fn("offer", |ctx, out| {
        if let Trigger::Order { order, .. } = ctx.trigger() {
            out.push(
                Moment::new(MomentKind::Marketing, Action::FollowUp, "10% off")
                    .via(Channel::Email)
                    .dedupe_by(order.as_str()),
            );
        }
    })
}

#[test]
fn marketing_needs_consent_on_its_channel() {
    let (b, clock) = bare(t0());
    let mut memory = build(b.rule(offer()));
    let none = observe(&mut memory, order("e-1", "o-1", ana(), []));
    assert_eq!(fired(&none, "offer"), 0, "no answer is no consent");
    assert!(none.silenced()[0].reason().contains("marketing by e-mail"));
    let ana_id = none.patron();

    let at = clock.now();
    memory
        .update_profile(
            ana_id,
            ProfileChange::Consent(Consent::granted(Channel::Sms, Purpose::Marketing, at)),
        )
        .unwrap();
    let sms_only = observe(&mut memory, order("e-2", "o-2", ana(), []));
    assert_eq!(
        fired(&sms_only, "offer"),
        0,
        "consent by text is not consent by e-mail"
    );

    memory
        .update_profile(
            ana_id,
            ProfileChange::Consent(Consent::granted(Channel::Email, Purpose::Marketing, at)),
        )
        .unwrap();
    let granted = observe(&mut memory, order("e-3", "o-3", ana(), []));
    assert_eq!(fired(&granted, "offer"), 1);

    memory
        .update_profile(
            ana_id,
            ProfileChange::Consent(Consent::withdrawn(
                Channel::Email,
                Purpose::Marketing,
                at + days(1),
            )),
        )
        .unwrap();
    let withdrawn = observe(&mut memory, order("e-4", "o-4", ana(), []));
    assert_eq!(fired(&withdrawn, "offer"), 0);
}

#[test]
fn personalisation_is_allowed_until_withdrawn_and_operational_always() {
    let (b, clock) = bare(t0());
    let mut memory = build(
        b.rule(per_ticket(
            "note",
            MomentKind::Celebration,
            Priority::NORMAL,
        ))
        .rule(per_ticket(
            "access",
            MomentKind::Operational,
            Priority::HIGH,
        )),
    );
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    assert_eq!((fired(&first, "note"), fired(&first, "access")), (1, 1));
    memory
        .update_profile(
            first.patron(),
            ProfileChange::Consent(Consent::withdrawn(
                Channel::InPerson,
                Purpose::Personalisation,
                clock.now(),
            )),
        )
        .unwrap();
    let after = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-2")]),
    );
    assert_eq!((fired(&after, "note"), fired(&after, "access")), (0, 1));
    assert!(
        after.silenced()[0]
            .reason()
            .contains("personalisation in person")
    );
}

// ---------------------------------------------------------------- refunds and briefs

#[test]
fn a_refund_retires_the_moments_of_its_tickets() {
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(per_ticket(
        "note",
        MomentKind::Celebration,
        Priority::NORMAL,
    )));
    let seen = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "A1"),
                seated("t-2", "hamlet-2", "A2"),
            ],
        ),
    );
    assert_eq!(memory.moments_of(seen.patron()).count(), 2);
    observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-1"])).at(order_time() + days(1)),
    );
    let left: Vec<_> = memory
        .moments_of(seen.patron())
        .map(|m| m.ticket().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(left, ["t-2"]);
    assert_eq!(memory.brief("hamlet-1").unwrap().moment_count(), 0);
    assert_eq!(memory.brief("hamlet-2").unwrap().moment_count(), 1);
}

#[test]
fn a_brief_groups_by_section_and_orders_by_priority_then_seat() {
    let (b, _) = bare(t0());
    // Priority by seat row: row A is the most important.
    let by_row = rule_fn("by-row", |ctx, out| {
        if let Trigger::Ticket(ticket) = ctx.trigger()
            && let Some(seat) = ticket.seat()
        {
            let priority = if seat.label().starts_with('A') {
                Priority::HIGH
            } else {
                Priority::LOW
            };
            out.push(
                Moment::new(
                    MomentKind::Celebration,
                    Action::SeatNote,
                    format!("note {}", seat.label()),
                )
                .for_performance(ticket.performance().id().clone())
                .for_ticket(ticket.id().clone())
                .at_seat(seat.clone())
                .with_priority(priority),
            );
        }
    });
    let mut memory = build(b.rule(by_row));
    let stalls = |label: &str| Seat::new(label).in_section("Stalls");
    let circle = |label: &str| Seat::new(label).in_section("Circle");
    let seats = [
        ("t-1", stalls("B10")),
        ("t-2", stalls("B2")),
        ("t-3", circle("C1")),
        ("t-4", stalls("A7")),
    ];
    for (i, (id, seat)) in seats.into_iter().enumerate() {
        let person = regulars::Signals::new()
            .given_name(["Ann", "Bob", "Cat", "Dan"][i])
            .family_name("Test")
            .email(format!("p{i}@example.org"));
        observe(
            &mut memory,
            order(
                &format!("e-{i}"),
                &format!("o-{i}"),
                person,
                [Ticket::new(id, "hamlet-1").seat(seat)],
            ),
        );
    }
    // An unseated ticket gets no moment from this rule, so it does not appear.
    observe(
        &mut memory,
        order("e-9", "o-9", ben(), [ticket("t-9", "hamlet-1")]),
    );

    let brief = memory.brief("hamlet-1").unwrap();
    assert_eq!(brief.tickets(), 5);
    let layout: Vec<(Option<&str>, Vec<&str>)> = brief
        .sections()
        .iter()
        .map(|s| {
            (
                s.name(),
                s.entries()
                    .iter()
                    .map(|e| e.seat().unwrap().label())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        layout,
        [
            (Some("Circle"), vec!["C1"]),
            (Some("Stalls"), vec!["A7", "B2", "B10"]),
        ]
    );
    let text = brief.to_string();
    assert!(text.starts_with("Brief for Hamlet (hamlet-1)"), "{text}");
    assert!(text.contains("A7     Dan Test"), "{text}");
    assert!(text.contains("4 moments for 4 people"), "{text}");
    // Debug output of a brief never shows names.
    assert!(!format!("{brief:?}").contains("Dan"));
    assert!(matches!(
        memory.brief("nope"),
        Err(Error::UnknownPerformance { .. })
    ));
}

/// A rule that, for each ticket, notes the ticket at its performance, reminds the box
/// office of it (operational, at no performance) and thanks the patron (at no
/// performance, not operational).
fn notes_and_reminders() -> impl MomentRule {
    rule_fn("notes", |ctx, out| {
        if let Trigger::Ticket(ticket) = ctx.trigger() {
            let id = ticket.id().as_str();
            out.push(
                Moment::new(
                    MomentKind::Celebration,
                    Action::FrontOfHouse,
                    format!("note {id}"),
                )
                .for_performance(ticket.performance().id().clone())
                .for_ticket(ticket.id().clone())
                .dedupe_by(format!("note {id}")),
            );
            out.push(
                Moment::new(
                    MomentKind::Operational,
                    Action::BoxOfficeAlert,
                    format!("reminder {id}"),
                )
                .dedupe_by(format!("reminder {id}")),
            );
            out.push(
                Moment::new(
                    MomentKind::Celebration,
                    Action::FollowUp,
                    format!("thanks {id}"),
                )
                .dedupe_by(format!("thanks {id}")),
            );
        }
    })
}

#[test]
fn a_brief_lists_the_holders_moments_at_that_performance_and_operational_ones_in_firing_order() {
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(notes_and_reminders()).moments_per_visit(10));
    // Ana books hamlet-2 twice (two tickets), then other performances, then hamlet-2
    // again: many moments at other performances, some at none.
    let tickets = [
        ("t-1", "hamlet-2"),
        ("t-2", "hamlet-1"),
        ("t-3", "hamlet-2"),
        ("t-4", "nutcracker-1"),
        ("t-5", "hamlet-3"),
        ("t-6", "hamlet-2"),
    ];
    for (i, (id, performance)) in tickets.into_iter().enumerate() {
        observe(
            &mut memory,
            order(
                &format!("e-{i}"),
                &format!("o-{i}"),
                ana(),
                [ticket(id, performance)],
            ),
        );
    }
    let brief = memory.brief("hamlet-2").unwrap();
    assert_eq!(brief.tickets(), 3);
    let entries: Vec<(&str, Vec<&str>)> = brief
        .entries()
        .map(|e| {
            (
                e.ticket().as_str(),
                e.moments().iter().map(Moment::message).collect(),
            )
        })
        .collect();
    // Each ticket: its own note (not the other tickets' at the same performance) and
    // every reminder at no performance, in the order they fired (all of one priority);
    // never the thanks.
    for (ticket, moments) in &entries {
        let mut expected = Vec::new();
        for (id, _) in tickets {
            if id == *ticket {
                expected.push(format!("note {id}"));
            }
            expected.push(format!("reminder {id}"));
        }
        assert_eq!(moments, &expected, "{ticket}");
    }
    let mut listed: Vec<&str> = entries.iter().map(|(t, _)| *t).collect();
    listed.sort_unstable();
    assert_eq!(listed, ["t-1", "t-3", "t-6"]);
    // A performance she holds nothing for has no entry for her.
    assert_eq!(memory.brief("hamlet-4").unwrap().tickets(), 0);
}

#[test]
fn a_brief_orders_seats_naturally_and_unseated_tickets_last_by_ticket() {
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(per_ticket("p", MomentKind::Welcome, Priority::NORMAL)));
    let tickets = [
        ("t-9", Some("B10")),
        ("t-8", Some("B2")),
        ("t-7", None),
        ("t-6", Some("AA1")),
        ("t-5", Some("B02")),
        ("t-4", Some("Box")),
        ("t-3", None),
        ("t-2", Some("A12345678901234567890")),
        ("t-1", Some("A9")),
    ];
    for (i, (id, seat)) in tickets.into_iter().enumerate() {
        let person = regulars::Signals::new()
            .given_name(format!("P{i}"))
            .family_name("Test")
            .email(format!("p{i}@example.org"));
        let ticket = match seat {
            Some(label) => Ticket::new(id, "hamlet-1").seat(Seat::new(label)),
            None => Ticket::new(id, "hamlet-1"),
        };
        observe(
            &mut memory,
            order(&format!("e-{i}"), &format!("o-{i}"), person, [ticket]),
        );
    }
    let brief = memory.brief("hamlet-1").unwrap();
    let order: Vec<String> = brief
        .entries()
        .map(|e| match e.seat() {
            Some(seat) => seat.label().to_owned(),
            None => e.ticket().as_str().to_owned(),
        })
        .collect();
    // Row letters, then the number as a number (its first 18 digits), then the label.
    assert_eq!(
        order,
        [
            "A9",
            "A12345678901234567890",
            "AA1",
            "B02",
            "B2",
            "B10",
            "Box",
            "t-3",
            "t-7"
        ]
    );
}

// ---------------------------------------------------------------- ticks

/// Wakes 30 days after a patron was last seen; counts how often it is asked.
#[derive(Debug)]
struct Quiet30 {
    asked: Arc<AtomicUsize>,
}

impl MomentRule for Quiet30 {
    fn id(&self) -> &str {
        "quiet-30"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        if let Trigger::Tick { due, .. } = ctx.trigger() {
            self.asked.fetch_add(1, Ordering::Relaxed);
            out.push(
                Moment::new(MomentKind::Welcome, Action::FollowUp, "we miss you")
                    .dedupe_by(due.to_rfc3339()),
            );
        }
    }
    fn next_due(&self, patron: &PatronView<'_>, _now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(patron.stats().last_seen_at()? + TimeDelta::days(30))
    }
}

#[test]
fn tick_looks_only_at_what_is_due_and_fires_once() {
    let asked = Arc::new(AtomicUsize::new(0));
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(Quiet30 {
        asked: asked.clone(),
    }));
    let start = utc(2026, 2, 1, 10, 0);
    // 200 patrons seen in February, one of them (p-0) two weeks earlier than the rest.
    for i in 0..200 {
        let person = regulars::Signals::new().email(format!("p{i}@example.org"));
        let at = if i == 0 { start - days(14) } else { start };
        observe(
            &mut memory,
            order_at(&format!("e-{i}"), &format!("o-{i}"), person, [], at),
        );
    }
    assert_eq!(memory.pending_ticks(), 200);

    assert!(
        memory.tick(start + days(10)).is_empty(),
        "nobody is due yet"
    );
    assert_eq!(asked.load(Ordering::Relaxed), 0, "nobody was even asked");

    let fired = memory.tick(start + days(20));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        asked.load(Ordering::Relaxed),
        1,
        "only the due patron was asked"
    );
    assert_eq!(memory.pending_ticks(), 199);
    assert!(memory.tick(start + days(20)).is_empty(), "not twice");

    let rest = memory.tick(start + days(31));
    assert_eq!(rest.len(), 199);
    assert_eq!(asked.load(Ordering::Relaxed), 200);
    assert_eq!(memory.pending_ticks(), 0);

    // Seen again: due again 30 days after that.
    let again = order_at(
        "e-again",
        "o-again",
        regulars::Signals::new().email("p0@example.org"),
        [],
        start + days(40),
    );
    observe(&mut memory, again);
    assert_eq!(memory.pending_ticks(), 1);
    assert_eq!(memory.tick(start + days(71)).len(), 1);
}

/// Observes an order without tickets by `who` at `at`; returns the patron.
fn seen_at(memory: &mut Memory, who: &str, at: DateTime<Utc>) -> regulars::PatronId {
    let person = regulars::Signals::new().email(format!("{who}@example.org"));
    let event = format!("e-{who}-{}", at.timestamp());
    let order = format!("o-{who}-{}", at.timestamp());
    observe(memory, order_at(&event, &order, person, [], at)).patron()
}

#[test]
fn tick_takes_what_is_due_exactly_at_now_and_across_ten_minute_edges() {
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(Quiet30 {
        asked: Arc::new(AtomicUsize::new(0)),
    }));
    // A time on a ten-minute edge, and one inside those ten minutes.
    let edge = utc(2026, 3, 3, 10, 0);
    let second = TimeDelta::seconds(1);
    let minutes = TimeDelta::minutes;
    let due = [
        ("before-edge", edge - second),
        ("on-edge", edge),
        ("after-edge", edge + second),
        ("mid", edge + minutes(3)),
        ("end", edge + minutes(10) - second),
        ("next-edge", edge + minutes(10)),
        ("far", edge + days(40)),
    ];
    for (who, at) in due {
        seen_at(&mut memory, who, at - days(30));
    }
    assert_eq!(memory.pending_ticks(), due.len());

    let took = |memory: &mut Memory, now| {
        let mut fired: Vec<String> = memory
            .tick(now)
            .iter()
            .map(|m| m.dedupe_key().to_owned())
            .collect();
        fired.sort();
        fired
    };
    let key = |at: DateTime<Utc>| at.to_rfc3339();
    assert!(took(&mut memory, edge - second - TimeDelta::nanoseconds(1)).is_empty());
    assert_eq!(
        took(&mut memory, edge),
        [key(edge - second), key(edge)],
        "due by now, the one due exactly now included"
    );
    assert_eq!(
        took(&mut memory, edge + minutes(3)),
        [key(edge + second), key(edge + minutes(3))]
    );
    assert_eq!(
        took(&mut memory, edge + minutes(10) - second),
        [key(edge + minutes(10) - second)]
    );
    assert_eq!(memory.pending_ticks(), 2);
    assert_eq!(took(&mut memory, edge + days(1)), [key(edge + minutes(10))]);
    assert_eq!(memory.pending_ticks(), 1, "the far one waits");
    assert_eq!(took(&mut memory, edge + days(40)), [key(edge + days(40))]);
    assert_eq!(memory.pending_ticks(), 0);
}

/// Due at a fixed time, an hour earlier for each order the patron placed after the
/// first, or a day later for each ticket refunded: an event can move it either way.
#[derive(Debug)]
struct DueMoves {
    at: DateTime<Utc>,
}

impl MomentRule for DueMoves {
    fn id(&self) -> &str {
        "due-moves"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        if let Trigger::Tick { due, .. } = ctx.trigger() {
            out.push(
                Moment::new(MomentKind::Welcome, Action::FollowUp, "on time")
                    .dedupe_by(due.to_rfc3339()),
            );
        }
    }
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let earlier = i64::from(patron.stats().orders().saturating_sub(1));
        let at = self.at - TimeDelta::hours(earlier);
        (now < at).then_some(at)
    }
}

#[test]
fn a_due_time_refiled_earlier_or_later_is_due_only_at_its_new_time() {
    let at = order_time() + days(30);
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(DueMoves { at }));
    seen_at(&mut memory, "ana", order_time());
    seen_at(&mut memory, "ben", order_time());
    assert_eq!(memory.pending_ticks(), 2);
    // Ana orders twice more: due two hours earlier, in another ten minutes.
    seen_at(&mut memory, "ana", order_time() + days(1));
    seen_at(&mut memory, "ana", order_time() + days(2));
    assert_eq!(memory.pending_ticks(), 2, "refiled, not filed twice");
    let early = memory.tick(at - TimeDelta::hours(2));
    assert_eq!(early.len(), 1);
    assert_eq!(
        early[0].dedupe_key(),
        (at - TimeDelta::hours(2)).to_rfc3339()
    );
    assert_eq!(memory.pending_ticks(), 1);
    let on_time = memory.tick(at);
    assert_eq!(on_time.len(), 1, "ben's, at the time first filed");
    assert_eq!(on_time[0].dedupe_key(), at.to_rfc3339());
    assert_eq!(memory.pending_ticks(), 0);
}

#[test]
fn erasing_a_patron_removes_their_due_times() {
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(Quiet30 {
        asked: Arc::new(AtomicUsize::new(0)),
    }));
    let ana = seen_at(&mut memory, "ana", order_time());
    seen_at(&mut memory, "ben", order_time());
    assert_eq!(memory.pending_ticks(), 2);
    memory.erase(ana).expect("erase");
    assert_eq!(memory.pending_ticks(), 1);
    let fired = memory.tick(order_time() + days(31));
    assert_eq!(fired.len(), 1, "only ben's");
    assert_ne!(fired[0].patron(), ana);
    assert_eq!(memory.pending_ticks(), 0);
}

/// Wakes at a fixed time, whatever happens; says whether it has due times as told, and
/// counts how often memory asks when it is next due.
#[derive(Debug)]
struct WakesAt {
    at: DateTime<Utc>,
    has_due_times: bool,
    asked: Arc<AtomicUsize>,
}

impl MomentRule for WakesAt {
    fn id(&self) -> &str {
        "wakes-at"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        if let Trigger::Tick { due, .. } = ctx.trigger() {
            out.push(
                Moment::new(MomentKind::Welcome, Action::FollowUp, "good morning")
                    .dedupe_by(due.to_rfc3339()),
            );
        }
    }
    fn next_due(&self, _patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        (now < self.at).then_some(self.at)
    }
    fn has_due_times(&self) -> bool {
        self.has_due_times
    }
}

#[test]
fn a_rule_saying_it_has_no_due_times_is_never_asked_when_it_is_due() {
    let at = order_time() + days(30);
    let quiet = Arc::new(AtomicUsize::new(0));
    let timed = Arc::new(AtomicUsize::new(0));
    let (b, _) = bare(t0());
    let mut memory = build(
        b.rule(WakesAt {
            at,
            has_due_times: false,
            asked: quiet.clone(),
        })
        .rule_with_policy(
            // The same rule under another id, saying yes (the default for any rule).
            rule_with_id(WakesAt {
                at,
                has_due_times: true,
                asked: timed.clone(),
            }),
            Policy::new(),
        ),
    );
    observe(&mut memory, order("e-1", "o-1", ana(), []));
    observe(&mut memory, order("e-2", "o-2", ben(), []));
    assert_eq!(quiet.load(Ordering::Relaxed), 0, "never asked");
    assert_eq!(timed.load(Ordering::Relaxed), 2, "asked once per event");
    assert_eq!(memory.pending_ticks(), 2, "only the rule with due times");
    let fired = memory.tick(at);
    assert_eq!(fired.len(), 2);
    assert!(fired.iter().all(|m| m.rule() == "wakes-at-2"));
}

/// A rule under another id, forwarding everything else (as an embedding product would
/// register one rule twice).
#[derive(Debug)]
struct Renamed<R>(R, &'static str);

impl<R: MomentRule> MomentRule for Renamed<R> {
    fn id(&self) -> &str {
        self.1
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        self.0.evaluate(ctx, out);
    }
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.next_due(patron, now)
    }
    // `has_due_times` left to its default: yes.
}

fn rule_with_id<R: MomentRule>(rule: R) -> Renamed<R> {
    Renamed(rule, "wakes-at-2")
}

#[test]
fn due_times_filed_again_after_a_tick_took_them_are_due_again() {
    // The rule answers the same due time after every event: memory files it once, and
    // again after a tick took it and an event asked again.
    let first = order_time() + days(30);
    let asked = Arc::new(AtomicUsize::new(0));
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(Quiet30 {
        asked: asked.clone(),
    }));
    let at = order_time();
    observe(&mut memory, order_at("e-1", "o-1", ana(), [], at));
    // Seen again at the same time: the same due time, filed once.
    observe(&mut memory, order_at("e-2", "o-2", ana(), [], at));
    assert_eq!(memory.pending_ticks(), 1);
    assert_eq!(memory.tick(first).len(), 1);
    assert_eq!(
        memory.pending_ticks(),
        0,
        "handled, not refiled for the same time"
    );
    // An event that leaves their last visit where it was: due at the same time again,
    // which the tick took, so it must be filed again.
    observe(&mut memory, order_at("e-3", "o-3", ana(), [], at));
    assert_eq!(memory.pending_ticks(), 1, "filed again");
    // A tick at that same time fires nothing new: its moment is keyed by the due time.
    assert!(memory.tick(first + days(1)).is_empty());
    assert_eq!(asked.load(Ordering::Relaxed), 2);
}

/// Thanks donors, looking at donations only; counts how often it is asked.
#[derive(Debug)]
struct ThankDonors {
    asked: Arc<AtomicUsize>,
}

impl MomentRule for ThankDonors {
    fn id(&self) -> &str {
        "thank-donors"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        self.asked.fetch_add(1, Ordering::Relaxed);
        if let Trigger::Donation { amount, .. } = ctx.trigger() {
            out.push(
                Moment::new(MomentKind::Celebration, Action::FollowUp, "thank you")
                    .dedupe_by(amount.minor().to_string()),
            );
        }
    }
    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::DONATION
    }
}

#[test]
fn a_rule_is_asked_only_about_the_triggers_it_looks_at() {
    let asked = Arc::new(AtomicUsize::new(0));
    let (b, _) = bare(t0());
    let mut memory = build(b.rule(ThankDonors {
        asked: asked.clone(),
    }));
    // An order with two tickets: one order trigger and two ticket triggers, none asked.
    let seen = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [ticket("t-1", "hamlet-1"), ticket("t-2", "hamlet-2")],
        ),
    );
    assert!(seen.moments().is_empty());
    assert_eq!(asked.load(Ordering::Relaxed), 0);
    let seen = observe(
        &mut memory,
        Event::donation("e-2", Donation::new(ana(), gbp(2500))).at(order_time()),
    );
    assert_eq!(asked.load(Ordering::Relaxed), 1);
    assert_eq!(fired(&seen, "thank-donors"), 1);
}

#[test]
fn rules_looking_at_different_triggers_are_asked_in_registration_order() {
    let asked = Arc::new(AtomicUsize::new(0));
    let (b, _) = bare(t0());
    // Interleaved: rules looking at every trigger around one looking at donations only.
    let mut memory = build(
        b.rule(per_ticket("first", MomentKind::Celebration, Priority(10)))
            .rule(ThankDonors {
                asked: asked.clone(),
            })
            .rule(per_order("thanks"))
            .rule(per_ticket("second", MomentKind::Celebration, Priority(10))),
    );
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let rules: Vec<&str> = seen.moments().iter().map(|m| m.rule()).collect();
    // The order's moment outranks the tickets'; of equal priority, the rule registered
    // first comes first.
    assert_eq!(rules, ["thanks", "first", "second"]);
    assert_eq!(asked.load(Ordering::Relaxed), 0);
    let seen = observe(
        &mut memory,
        Event::donation("e-2", Donation::new(ana(), gbp(2500))).at(order_time()),
    );
    assert_eq!(asked.load(Ordering::Relaxed), 1);
    let rules: Vec<&str> = seen.moments().iter().map(|m| m.rule()).collect();
    assert_eq!(rules, ["thank-donors"]);
}

// ---------------------------------------------------------------- properties

fn shows() -> [&'static str; 4] {
    ["hamlet-1", "hamlet-2", "nutcracker-1", "nutcracker-2"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Whatever orders arrive, re-sent or reordered, no moment fires twice and no patron
    /// has more active moments at a performance than the cap.
    #[test]
    fn dedupe_and_cap_hold_under_duplicates_and_reordering(
        plan in proptest::collection::vec((0usize..3, 0usize..4, 0u8..3), 1..25),
        resend in proptest::collection::vec(any::<proptest::sample::Index>(), 0..15),
    ) {
        let (b, _) = bare(t0());
        let mut memory = build(
            b.moments_per_visit(2)
                .rule(per_ticket("a", MomentKind::Celebration, Priority(10)))
                .rule(per_ticket("b", MomentKind::Celebration, Priority(20)))
                .rule(per_ticket("c", MomentKind::Welcome, Priority(30))),
        );
        let people = [ana(), ben(), cleo()];
        let events: Vec<Event> = plan
            .iter()
            .enumerate()
            .map(|(i, &(who, show, count))| {
                let tickets = (0..=count).map(|k| ticket(&format!("t-{i}-{k}"), shows()[show]));
                order_at(&format!("e-{i}"), &format!("o-{i}"), people[who].clone(), tickets, order_time() + days(i as i64))
            })
            .collect();
        let mut stream = events.clone();
        for index in &resend {
            stream.push(events[index.index(events.len())].clone());
        }
        let mut seen = std::collections::HashSet::new();
        for event in stream {
            let observation = memory.observe(event).unwrap();
            for moment in observation.moments() {
                let key = (moment.rule().to_owned(), moment.patron(), moment.dedupe_key().to_owned());
                prop_assert!(seen.insert(key), "fired twice: {moment}");
            }
        }
        for patron in memory.patrons() {
            for show in shows() {
                let active = memory
                    .moments_of(patron.id())
                    .filter(|m| m.performance().map(|p| p.as_str()) == Some(show))
                    .count();
                prop_assert!(active <= 2, "{active} moments for {} at {show}", patron.id());
            }
        }
        // The calendar year of every event is 2026: nothing depends on wall time.
        prop_assert!(memory.patrons().all(|p| p.stats().last_seen_at().is_none_or(|t| t.year() == 2026)));
    }
}

#[test]
fn operational_moments_are_outside_the_per_visit_cap() {
    let (b, _) = bare(t0());
    let mut memory = build(
        b.moments_per_visit(1)
            .rule(per_ticket("note", MomentKind::Celebration, Priority::HIGH))
            .rule(per_ticket("ramp", MomentKind::Operational, Priority::LOW))
            .rule(per_ticket("hello", MomentKind::Welcome, Priority::NORMAL)),
    );
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let mut rules: Vec<&str> = seen.moments().iter().map(Moment::rule).collect();
    rules.sort_unstable();
    assert_eq!(rules, ["note", "ramp"], "the cap of one holds for the rest");
    assert_eq!(seen.silenced().len(), 1);
    assert_eq!(seen.silenced()[0].moment().rule(), "hello");
}

#[test]
fn a_refunded_moment_may_fire_again_for_the_visit_that_happens() {
    let (b, _) = bare(t0());
    let policy = Policy::new().once_per(OncePer::Production);
    let mut memory = build(b.rule_with_policy(
        per_ticket("p", MomentKind::Celebration, Priority::NORMAL),
        policy,
    ));
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    assert_eq!(fired(&first, "p"), 1);
    observe(
        &mut memory,
        Event::refund("e-2", Refund::whole_order("o-1")).at(order_time() + days(1)),
    );
    let rebooked = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [ticket("t-2", "hamlet-2")],
            order_time() + days(2),
        ),
    );
    assert_eq!(
        fired(&rebooked, "p"),
        1,
        "the refunded one no longer counts"
    );
    let again = observe(
        &mut memory,
        order_at(
            "e-4",
            "o-3",
            ana(),
            [ticket("t-3", "hamlet-3")],
            order_time() + days(3),
        ),
    );
    assert_eq!(
        fired(&again, "p"),
        0,
        "once per production holds for live ones"
    );
}

// ---------------------------------------------------------------- restored ledgers

#[test]
fn a_restored_memory_remembers_what_fired_what_was_refunded_and_cooldowns() {
    let (b, clock) = bare(t0());
    let configure = |b: regulars::MemoryBuilder| {
        b.rule(per_ticket("note", MomentKind::Welcome, Priority::NORMAL))
            .rule_with_policy(per_order("thanks"), Policy::new().cooldown(days(30)))
    };
    let mut memory = build(configure(b));
    let start = order_time();
    let first = observe(
        &mut memory,
        order_at(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "A1"),
                seated("t-2", "hamlet-2", "A2"),
            ],
            start,
        ),
    );
    assert_eq!(fired(&first, "note"), 2);
    assert_eq!(fired(&first, "thanks"), 1);
    // The refund releases hamlet-1's note: a new booking of it may have one again.
    observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-1"])).at(start + days(1)),
    );
    let before: Vec<Moment> = memory.moments_of(first.patron()).collect();

    let image = memory.snapshot();
    let mut restored = configure(builder(&clock).without_default_rules())
        .build_from_snapshot(&image)
        .expect("the image loads");
    assert_eq!(
        restored.moments_of(first.patron()).collect::<Vec<_>>(),
        before
    );
    for memory in [&mut memory, &mut restored] {
        let again = observe(
            memory,
            order_at(
                "e-3",
                "o-3",
                ana(),
                [
                    seated("t-3", "hamlet-1", "B1"),
                    seated("t-4", "hamlet-2", "B2"),
                ],
                start + days(10),
            ),
        );
        let notes: Vec<&str> = moments_of(&again, "note")
            .iter()
            .map(|m| m.performance().unwrap().as_str())
            .collect();
        assert_eq!(
            notes,
            ["hamlet-1"],
            "hamlet-2's note stands, hamlet-1's was released"
        );
        assert_eq!(fired(&again, "thanks"), 0, "cooling down since day 0");
        let later = observe(memory, order_at("e-4", "o-4", ana(), [], start + days(30)));
        assert_eq!(fired(&later, "thanks"), 1, "the cooldown is over");
    }
    assert_eq!(
        restored.moments_of(first.patron()).collect::<Vec<_>>(),
        memory.moments_of(first.patron()).collect::<Vec<_>>()
    );
}

#[test]
fn two_moments_with_one_key_in_one_call_fire_once() {
    let (b, _) = bare(t0());
    let twice = rule_fn("twice", |ctx, out| {
        if let Trigger::Ticket(_) = ctx.trigger() {
            for (message, priority) in [("first", Priority::LOW), ("second", Priority::HIGH)] {
                out.push(
                    Moment::new(MomentKind::Celebration, Action::BoxOfficeAlert, message)
                        .dedupe_by("one key")
                        .with_priority(priority),
                );
            }
        }
    });
    let mut memory = build(b.rule(twice));
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let messages: Vec<&str> = seen.moments().iter().map(Moment::message).collect();
    // The higher priority is admitted first and holds the key.
    assert_eq!(messages, ["second"]);
    let again = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-2")]),
    );
    assert!(again.moments().is_empty(), "{:?}", again.moments());
}
