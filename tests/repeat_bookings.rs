//! Booking a performance again: a rule's note that fired already is dropped without a
//! trace (memory skips building it), yet still listed as silenced whenever a suppressor
//! or missing consent would have silenced it, and a policy's once-per scope still decides
//! what counts as "again".

mod common;

use common::{ana, entry_at, order_at, seated, utc};
use regulars::normalize::Country;
use regulars::{
    Channel, Consent, ManualClock, Memory, MemoryBuilder, Observation, OncePer, PatronId, Policy,
    ProfileChange, Purpose, RepeatProduction,
};

/// The test catalog, with the given rules, and Ana back from `hamlet-1`.
fn house(builder: MemoryBuilder) -> (Memory, PatronId) {
    let clock = ManualClock::new(common::t0());
    let mut memory = common::build(builder.default_country(Country::GB).clock(clock));
    let ana_id = memory
        .observe(order_at(
            "e-0",
            "o-0",
            ana(),
            [seated("t-0", "hamlet-1", "F1")],
            common::order_time(),
        ))
        .expect("order")
        .patron();
    memory
        .observe(entry_at("s-0", "t-0", common::starts("hamlet-1")))
        .expect("scan");
    (memory, ana_id)
}

/// Only the repeat-production rule (with `policy`, if any) and the built-in suppressor.
fn repeat_rule(policy: Option<Policy>) -> MemoryBuilder {
    let builder = Memory::builder().without_default_rules();
    let builder = match policy {
        Some(policy) => builder.rule_with_policy(RepeatProduction::new(), policy),
        None => builder.rule(RepeatProduction::new()),
    };
    builder.suppressor(regulars::LeaveMeBe::new())
}

/// Ana books a seat for `performance`; the `n`th booking of the test.
fn book(memory: &mut Memory, n: u32, performance: &str) -> Observation {
    memory
        .observe(order_at(
            &format!("e-{n}"),
            &format!("o-{n}"),
            ana(),
            [seated(&format!("t-{n}"), performance, &format!("G{n}"))],
            utc(2026, 3, 2, 10, n),
        ))
        .expect("order")
}

fn rules_of(seen: &Observation) -> Vec<&str> {
    seen.moments().iter().map(|m| m.rule()).collect()
}

#[test]
fn booking_the_same_performance_again_fires_nothing_and_silences_nothing() {
    let (mut memory, _) = house(repeat_rule(None));
    let first = book(&mut memory, 1, "hamlet-2");
    assert_eq!(rules_of(&first), ["repeat-production"]);
    assert_eq!(first.moments()[0].message(), "2nd visit to Hamlet");

    let again = book(&mut memory, 2, "hamlet-2");
    assert!(again.moments().is_empty(), "{:?}", again.moments());
    assert!(again.silenced().is_empty(), "{:?}", again.silenced());

    // Another performance is another note.
    let other = book(&mut memory, 3, "hamlet-3");
    assert_eq!(rules_of(&other), ["repeat-production"]);
}

#[test]
fn a_suppressor_still_lists_a_repeated_note_as_silenced() {
    let (mut memory, ana_id) = house(repeat_rule(None));
    assert_eq!(book(&mut memory, 1, "hamlet-2").moments().len(), 1);
    memory
        .update_profile(ana_id, ProfileChange::PrefersNoFuss(true))
        .expect("profile");

    let again = book(&mut memory, 2, "hamlet-2");
    assert!(again.moments().is_empty());
    let silenced: Vec<_> = again
        .silenced()
        .iter()
        .map(|s| (s.moment().rule(), s.reason()))
        .collect();
    assert_eq!(
        silenced,
        [("repeat-production", "leave-me-be: prefers no fuss")]
    );
}

#[test]
fn missing_consent_still_lists_a_repeated_note_as_silenced() {
    let (mut memory, ana_id) = house(repeat_rule(None));
    assert_eq!(book(&mut memory, 1, "hamlet-2").moments().len(), 1);
    memory
        .update_profile(
            ana_id,
            ProfileChange::Consent(Consent::withdrawn(
                Channel::InPerson,
                Purpose::Personalisation,
                utc(2026, 3, 2, 9, 0),
            )),
        )
        .expect("profile");

    let again = book(&mut memory, 2, "hamlet-2");
    assert!(again.moments().is_empty());
    let silenced: Vec<_> = again
        .silenced()
        .iter()
        .map(|s| (s.moment().rule(), s.reason()))
        .collect();
    assert_eq!(
        silenced,
        [(
            "repeat-production",
            "no consent to personalisation in person"
        )]
    );
}

#[test]
fn the_policy_scope_decides_what_counts_as_again() {
    // Once per patron: after the first note, no other performance gets one.
    let (mut memory, _) = house(repeat_rule(Some(
        Policy::new()
            .once_per(OncePer::Patron)
            .exclusive_group("greeting"),
    )));
    assert_eq!(
        rules_of(&book(&mut memory, 1, "hamlet-2")),
        ["repeat-production"]
    );
    let other = book(&mut memory, 2, "hamlet-3");
    assert!(other.moments().is_empty(), "{:?}", other.moments());
    assert!(other.silenced().is_empty());

    // Once per year: the same.
    let (mut memory, _) = house(repeat_rule(Some(Policy::new().once_per(OncePer::Year))));
    assert_eq!(
        rules_of(&book(&mut memory, 1, "hamlet-2")),
        ["repeat-production"]
    );
    assert!(book(&mut memory, 2, "hamlet-4").moments().is_empty());

    // Once per performance: a second seat for the same show gets none, another show does.
    let (mut memory, _) = house(repeat_rule(Some(
        Policy::new().once_per(OncePer::Performance),
    )));
    assert_eq!(
        rules_of(&book(&mut memory, 1, "hamlet-2")),
        ["repeat-production"]
    );
    assert!(book(&mut memory, 2, "hamlet-2").moments().is_empty());
    assert_eq!(
        rules_of(&book(&mut memory, 3, "hamlet-3")),
        ["repeat-production"]
    );
}

#[test]
fn a_refunded_note_fires_again_for_the_next_booking_of_that_performance() {
    let (mut memory, _) = house(repeat_rule(None));
    assert_eq!(book(&mut memory, 1, "hamlet-2").moments().len(), 1);
    memory
        .observe(
            regulars::Event::refund("r-1", regulars::Refund::whole_order("o-1"))
                .at(utc(2026, 3, 2, 11, 0)),
        )
        .expect("refund");
    // The refund released the note's once-per key: booking that show again earns it.
    let again = book(&mut memory, 2, "hamlet-2");
    assert_eq!(rules_of(&again), ["repeat-production"]);
    assert_eq!(again.moments()[0].seat().map(|s| s.label()), Some("G2"));
}
