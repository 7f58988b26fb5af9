//! The tickets a patron holds and has not used yet (`PatronView::unused_tickets`), which
//! memory keeps as events arrive so the visit rules never walk a whole history: right
//! after issue, scan, refund, merge, split and snapshot restore, always the same as the
//! patron's tickets filtered by hand, and what the visit rules number bookings by.

mod common;

use common::{ana, ben, cleo, entry_at, exit_at, order_at, seated, ticket, utc};
use regulars::{
    Event, ManualClock, Memory, Milestone, PatronId, Refund, Signals, Ticket, normalize::Country,
};

/// A memory with the test catalog and only the rules given.
fn memory_with(builder: regulars::MemoryBuilder) -> Memory {
    let clock = ManualClock::new(common::t0());
    common::build(builder.default_country(Country::GB).clock(clock))
}

fn memory() -> Memory {
    memory_with(Memory::builder())
}

/// The patron's unused tickets, as memory keeps them.
fn unused(memory: &Memory, patron: PatronId) -> Vec<String> {
    memory
        .patron(patron)
        .expect("known patron")
        .unused_tickets()
        .map(|t| t.id().to_owned())
        .collect()
}

/// The same, worked out from every ticket of the patron.
fn unused_by_hand(memory: &Memory, patron: PatronId) -> Vec<String> {
    memory
        .patron(patron)
        .expect("known patron")
        .tickets()
        .filter(|t| !t.is_refunded() && !t.is_scanned_in())
        .map(|t| t.id().to_owned())
        .collect()
}

fn observe(memory: &mut Memory, event: Event) -> PatronId {
    memory.observe(event).expect("accepted").patron()
}

fn when() -> chrono::DateTime<chrono::Utc> {
    common::order_time()
}

#[test]
fn an_issued_ticket_is_unused_by_its_holder_until_scanned_in() {
    let mut memory = memory();
    let order = order_at(
        "e-1",
        "o-1",
        ana(),
        [
            seated("t-1", "hamlet-1", "F1"),
            ticket("t-2", "hamlet-2").holder(ben()),
        ],
        when(),
    );
    let seen = memory.observe(order).expect("accepted");
    let (a, b) = (seen.patron(), seen.participants()[0].patron());
    assert_eq!(unused(&memory, a), ["t-1"]);
    assert_eq!(
        unused(&memory, b),
        ["t-2"],
        "the holder has it, not the buyer"
    );

    // Leaving does not use a ticket; entering does, once.
    observe(
        &mut memory,
        exit_at("e-2", "t-1", common::starts("hamlet-1")),
    );
    assert_eq!(unused(&memory, a), ["t-1"]);
    observe(
        &mut memory,
        entry_at("e-3", "t-1", common::starts("hamlet-1")),
    );
    assert!(unused(&memory, a).is_empty());
    observe(
        &mut memory,
        entry_at("e-4", "t-1", common::starts("hamlet-1")),
    );
    assert!(unused(&memory, a).is_empty());
    assert_eq!(unused(&memory, b), ["t-2"]);
}

#[test]
fn a_refunded_ticket_is_no_longer_unused_for_its_holder() {
    let mut memory = memory();
    let seen = memory
        .observe(order_at(
            "e-1",
            "o-1",
            ana(),
            [
                ticket("t-1", "hamlet-1"),
                ticket("t-2", "hamlet-2").holder(ben()),
                ticket("t-3", "hamlet-3"),
            ],
            when(),
        ))
        .expect("accepted");
    let (a, b) = (seen.patron(), seen.participants()[0].patron());
    observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-2", "t-3"])).at(when()),
    );
    assert_eq!(unused(&memory, a), ["t-1"]);
    assert!(
        unused(&memory, b).is_empty(),
        "the holder's refunded ticket"
    );
    // A whole-order refund afterwards takes the rest; the re-sent part changes nothing.
    observe(
        &mut memory,
        Event::refund("e-3", Refund::whole_order("o-1")).at(when()),
    );
    assert!(unused(&memory, a).is_empty());
}

#[test]
fn a_merge_brings_the_absorbed_patrons_unused_tickets_and_a_split_takes_them_back() {
    let mut memory = memory();
    let a = observe(
        &mut memory,
        order_at("e-1", "o-1", ana(), [ticket("t-1", "hamlet-3")], when()),
    );
    let b = observe(
        &mut memory,
        order_at(
            "e-2",
            "o-2",
            cleo(),
            [ticket("t-2", "hamlet-1"), ticket("t-3", "hamlet-2")],
            when() + chrono::TimeDelta::hours(1),
        ),
    );
    observe(
        &mut memory,
        entry_at("e-3", "t-2", common::starts("hamlet-1")),
    );
    assert_eq!(unused(&memory, b), ["t-3"]);

    memory.merge(a, b).expect("merged");
    // In history order: the survivor's ticket came first.
    assert_eq!(unused(&memory, a), ["t-1", "t-3"]);
    assert_eq!(unused(&memory, b), ["t-1", "t-3"], "b forwards to a");

    // A ticket of the absorbed patron used after the merge is gone for the survivor.
    observe(
        &mut memory,
        entry_at("e-4", "t-3", common::starts("hamlet-2")),
    );
    assert_eq!(unused(&memory, a), ["t-1"]);

    // One issued after the merge stays with the survivor when split.
    observe(
        &mut memory,
        order_at(
            "e-5",
            "o-5",
            ana(),
            [ticket("t-5", "nutcracker-1")],
            when() + chrono::TimeDelta::days(40),
        ),
    );
    memory.split(b).expect("split");
    assert_eq!(unused(&memory, a), ["t-1", "t-5"]);
    assert!(unused(&memory, b).is_empty(), "t-3 was used while merged");
}

#[test]
fn a_split_gives_back_tickets_still_unused() {
    let mut memory = memory();
    let a = observe(
        &mut memory,
        order_at("e-1", "o-1", ana(), [ticket("t-1", "hamlet-3")], when()),
    );
    let b = observe(
        &mut memory,
        order_at("e-2", "o-2", cleo(), [ticket("t-2", "hamlet-2")], when()),
    );
    memory.merge(a, b).expect("merged");
    memory.split(b).expect("split");
    assert_eq!(unused(&memory, a), ["t-1"]);
    assert_eq!(unused(&memory, b), ["t-2"]);
    // And the split-off patron's list keeps working.
    observe(
        &mut memory,
        entry_at("e-3", "t-2", common::starts("hamlet-2")),
    );
    assert!(unused(&memory, b).is_empty());
}

#[test]
fn a_restored_snapshot_has_the_same_unused_tickets() {
    let mut memory = memory();
    let seen = memory
        .observe(order_at(
            "e-1",
            "o-1",
            ana(),
            [
                ticket("t-1", "hamlet-1"),
                ticket("t-2", "hamlet-2").holder(ben()),
                ticket("t-3", "hamlet-3"),
            ],
            when(),
        ))
        .expect("accepted");
    let (a, b) = (seen.patron(), seen.participants()[0].patron());
    let c = observe(
        &mut memory,
        order_at("e-2", "o-2", cleo(), [ticket("t-4", "hamlet-4")], when()),
    );
    observe(
        &mut memory,
        entry_at("e-3", "t-1", common::starts("hamlet-1")),
    );
    memory.merge(a, c).expect("merged");

    let restored = Memory::builder()
        .build_from_snapshot(&memory.snapshot())
        .expect("restores");
    assert_eq!(unused(&restored, a), ["t-3", "t-4"]);
    assert_eq!(unused(&restored, b), ["t-2"]);
    assert_eq!(unused(&restored, c), ["t-3", "t-4"]);
    for patron in [a, b, c] {
        assert_eq!(unused(&restored, patron), unused(&memory, patron));
    }
}

/// A small deterministic generator, so the long run below is the same every time.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn unused_tickets_always_match_the_tickets_filtered_by_hand() {
    let people: Vec<Signals> = (0..6)
        .map(|i| {
            Signals::new()
                .given_name(format!("Person{i}"))
                .family_name(format!("Family{i}"))
                .email(format!("person{i}@example.org"))
        })
        .collect();
    let performances = [
        "hamlet-1",
        "hamlet-2",
        "hamlet-3",
        "hamlet-4",
        "nutcracker-1",
        "nutcracker-2",
    ];
    let mut memory = memory();
    let mut rng = Lcg(7);
    let mut tickets: Vec<(String, String)> = Vec::new(); // (ticket, order)
    let mut patrons: Vec<PatronId> = Vec::new();
    for step in 0..400 {
        let at = utc(2026, 2, 1, 10, 0) + chrono::TimeDelta::minutes(step);
        match rng.below(10) {
            0..=3 => {
                let buyer = people[rng.below(people.len())].clone();
                let order = format!("o-{step}");
                let mut tickets_here = Vec::new();
                for k in 0..=rng.below(3) {
                    let id = format!("t-{step}-{k}");
                    let mut t = Ticket::new(id.as_str(), performances[rng.below(6)]);
                    if rng.below(3) == 0 {
                        t = t.holder(people[rng.below(people.len())].clone());
                    }
                    tickets_here.push(t);
                    tickets.push((id, order.clone()));
                }
                let seen = memory
                    .observe(order_at(
                        &format!("e-{step}"),
                        &order,
                        buyer,
                        tickets_here,
                        at,
                    ))
                    .expect("order");
                patrons.push(seen.patron());
                patrons.extend(seen.participants().iter().map(|p| p.patron()));
            }
            4..=5 if !tickets.is_empty() => {
                let (t, _) = &tickets[rng.below(tickets.len())];
                let scan = if rng.below(4) == 0 {
                    exit_at(&format!("e-{step}"), t, at)
                } else {
                    entry_at(&format!("e-{step}"), t, at)
                };
                // A refunded ticket is refused at the door; that changes nothing.
                let _ = memory.observe(scan);
            }
            6 if !tickets.is_empty() => {
                let (t, o) = &tickets[rng.below(tickets.len())];
                let refund = if rng.below(3) == 0 {
                    Refund::whole_order(o.as_str())
                } else {
                    Refund::tickets(o.as_str(), [t.as_str()])
                };
                memory
                    .observe(Event::refund(format!("e-{step}"), refund).at(at))
                    .expect("refund");
            }
            7 if patrons.len() >= 2 => {
                let (x, y) = (
                    patrons[rng.below(patrons.len())],
                    patrons[rng.below(patrons.len())],
                );
                memory.merge(x, y).expect("merge");
            }
            8 if !patrons.is_empty() => {
                // Most patrons were never merged: that is refused and changes nothing.
                let _ = memory.split(patrons[rng.below(patrons.len())]);
            }
            9 => {
                memory = Memory::builder()
                    .default_country(Country::GB)
                    .clock(ManualClock::new(common::t0()))
                    .build_from_snapshot(&memory.snapshot())
                    .expect("restores");
            }
            _ => {}
        }
        for &patron in &patrons {
            assert_eq!(
                unused(&memory, patron),
                unused_by_hand(&memory, patron),
                "patron {patron} after step {step}"
            );
        }
    }
    let held: usize = patrons.iter().map(|&p| unused(&memory, p).len()).sum();
    assert!(held > 0, "the run leaves some tickets unused");
}

/// The milestone counts the bookings a patron holds ahead of a new one: ones brought by
/// a merge, and after a restore, count too.
#[test]
fn visit_rules_count_bookings_brought_by_a_merge_and_kept_through_a_restore() {
    let rules = || {
        Memory::builder()
            .without_default_rules()
            .rule(Milestone::new().thresholds([4]))
    };
    let mut memory = memory_with(rules());
    let a = observe(
        &mut memory,
        order_at(
            "e-1",
            "o-1",
            ana(),
            [seated("t-1", "hamlet-1", "A1")],
            when(),
        ),
    );
    observe(
        &mut memory,
        entry_at("e-2", "t-1", common::starts("hamlet-1")),
    );
    let b = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-3",
            cleo(),
            [seated("t-2", "hamlet-2", "A2")],
            when(),
        ),
    );
    memory.merge(a, b).expect("merged");
    let after_first = common::starts("hamlet-1") + chrono::TimeDelta::days(1);

    // One visit made, hamlet-2 held ahead: hamlet-3 is the third visit.
    let third = memory
        .observe(order_at(
            "e-4",
            "o-4",
            ana(),
            [seated("t-3", "hamlet-3", "A3")],
            after_first,
        ))
        .expect("order");
    assert!(third.moments().is_empty(), "{:?}", third.moments());

    // After a restore, hamlet-4 is the fourth: the note is on its seat.
    let mut restored = rules()
        .default_country(Country::GB)
        .clock(ManualClock::new(common::t0()))
        .build_from_snapshot(&memory.snapshot())
        .expect("restores");
    let fourth = restored
        .observe(order_at(
            "e-5",
            "o-5",
            ana(),
            [seated("t-4", "hamlet-4", "A4")],
            after_first,
        ))
        .expect("order");
    let notes: Vec<_> = fourth
        .moments()
        .iter()
        .map(|m| {
            (
                m.message().to_owned(),
                m.seat().map(|s| s.label().to_owned()),
            )
        })
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].0.starts_with("4th visit"), "{notes:?}");
    assert_eq!(notes[0].1.as_deref(), Some("A4"));
}
