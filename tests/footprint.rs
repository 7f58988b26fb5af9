//! The footprint account: what memory holds on the heap, structure by structure, grows
//! with what memory learns, reads the same after a snapshot is restored, and never
//! reports more in use than reserved.

mod common;

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use common::*;
use regulars::{Footprint, Memory};

/// A memory of a synthetic population's orders (reviews, merges, households included),
/// with a seated booking and a door scan.
fn lived_in(persons: usize) -> (Memory, regulars::ManualClock) {
    let (mut memory, clock) = memory_with_clock();
    let population = population::Population::generate(persons, 11);
    for record in &population.records {
        // Some records are rejected on purpose by the generator (hostile values).
        let _ = memory.observe(record.event());
    }
    observe(
        &mut memory,
        order("e-a1", "o-a1", ana(), [seated("t-a1", "hamlet-1", "F10")]),
    );
    scan_in(&mut memory, "s-a1", "t-a1");
    (memory, clock)
}

fn used(footprint: &Footprint, structure: &str) -> u64 {
    footprint
        .line(structure)
        .unwrap_or_else(|| panic!("no line for {structure}"))
        .used()
}

#[test]
fn an_empty_memory_holds_no_patron_data() {
    let footprint = Memory::new().footprint();
    assert_eq!(footprint.patrons(), 0);
    for structure in [
        "patrons: records",
        "patrons: names",
        "patrons: history entries",
        "events table",
        "identifier index",
    ] {
        assert_eq!(used(&footprint, structure), 0, "{structure}");
    }
}

#[test]
fn every_line_reserves_at_least_what_it_uses_and_the_totals_add_up() {
    let (memory, _) = lived_in(200);
    let footprint = memory.footprint();
    assert_eq!(footprint.patrons(), memory.patron_count());
    for line in footprint.lines() {
        assert!(
            line.reserved() >= line.used(),
            "{}: {} reserved, {} used",
            line.structure(),
            line.reserved(),
            line.used()
        );
        assert_eq!(
            line.reserved() > 0,
            line.allocations() > 0,
            "{}: bytes reserved exactly when something is allocated",
            line.structure()
        );
    }
    let sum = |f: fn(&regulars::FootprintLine) -> u64| footprint.lines().iter().map(f).sum::<u64>();
    assert_eq!(footprint.total_used(), sum(|l| l.used()));
    assert_eq!(footprint.total_reserved(), sum(|l| l.reserved()));
    assert_eq!(footprint.total_allocations(), sum(|l| l.allocations()));
    assert_eq!(
        footprint.total_resident_estimate(),
        sum(|l| l.resident_estimate())
    );
    let table = footprint.to_string();
    assert!(table.contains("patrons: history entries"), "{table}");
    assert!(
        table.lines().count() == footprint.lines().len() + 2,
        "{table}"
    );
}

/// Structures that hold something of every order: each grows when a new buyer orders.
const GROWS_WITH_EACH_ORDER: [&str; 7] = [
    "patrons: records",
    "patrons: names",
    "patrons: identifiers (shared with index)",
    "patrons: history entries",
    "tickets table",
    "orders table",
    "events table",
];

#[test]
fn the_account_grows_with_what_memory_learns() {
    let (mut memory, _) = lived_in(50);
    let before = memory.footprint();
    for structure in GROWS_WITH_EACH_ORDER
        .iter()
        .chain(["identifier index"].iter())
    {
        assert!(used(&before, structure) > 0, "{structure} is counted");
    }
    let patrons = memory.patron_count();
    observe(
        &mut memory,
        order(
            "e-new",
            "o-new",
            regulars::Signals::new()
                .given_name("Zed")
                .family_name("Newcomer")
                .email("zed.newcomer@example.org"),
            [ticket("t-new", "hamlet-2")],
        ),
    );
    assert_eq!(memory.patron_count(), patrons + 1);
    let after = memory.footprint();
    for structure in GROWS_WITH_EACH_ORDER {
        assert!(
            used(&after, structure) > used(&before, structure),
            "{structure} grows with a new patron's order"
        );
    }
}

#[test]
fn a_restored_memory_holds_the_same_values_in_no_more_room() {
    let (memory, clock) = lived_in(300);
    let built = memory.footprint();
    let restored = builder(&clock)
        .build_from_snapshot(&memory.snapshot())
        .expect("a valid image");
    let back = restored.footprint();
    assert_eq!(back.patrons(), built.patrons());
    for line in built.lines() {
        // The review queue's per-patron lookup is derived and rebuilt only when needed.
        if line.structure() == "identity: review queue" {
            continue;
        }
        assert_eq!(
            used(&back, line.structure()),
            line.used(),
            "{} reads back the same",
            line.structure()
        );
    }
    // Histories read back at their exact length.
    let history = back.line("patrons: history entries").expect("a line");
    assert_eq!(history.reserved(), history.used());
    assert!(
        history.reserved()
            <= built
                .line("patrons: history entries")
                .expect("a line")
                .reserved()
    );
}
