//! Chains of merges and splits: whatever the order, every interaction stays with exactly
//! one live patron, the one its record belongs to, figures match the history they are
//! computed from, and a split undoes only the merge it names.

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use regulars::{InteractionKind, Memory, PatronId, Signals};

/// Patron `i`'s contact details: an e-mail of its own, so recognition never joins two.
fn person(i: usize) -> Signals {
    Signals::new().email(format!("patron{i}@example.org"))
}

/// Records an order with one ticket for patron `who`; returns the patron it went to.
fn order(memory: &mut Memory, who: usize, n: usize) -> PatronId {
    let event = common::order(
        &format!("e-{n}"),
        &format!("o-{n}"),
        person(who),
        [common::ticket(&format!("t-{n}"), "hamlet-1")],
    );
    memory.observe(event).expect("order").patron()
}

/// Where each order's interactions are: event id → live patrons holding its `Ordered`
/// and its `Ticketed` interaction (one entry per copy).
fn holders(memory: &Memory) -> BTreeMap<String, (Vec<PatronId>, Vec<PatronId>)> {
    let mut out: BTreeMap<String, (Vec<PatronId>, Vec<PatronId>)> = BTreeMap::new();
    for patron in memory.patrons() {
        for interaction in patron.history() {
            let entry = out.entry(interaction.event().to_string()).or_default();
            match interaction.kind() {
                InteractionKind::Ordered { .. } => entry.0.push(patron.id()),
                InteractionKind::Ticketed { .. } => entry.1.push(patron.id()),
                _ => {}
            }
        }
    }
    out
}

/// Every live patron's figures are those its history implies, and no ticket is listed
/// twice.
fn assert_figures_follow_history(memory: &Memory) {
    for patron in memory.patrons() {
        let history = patron.history();
        let count =
            |f: fn(&InteractionKind) -> bool| history.iter().filter(|i| f(i.kind())).count();
        let orders = count(|k| matches!(k, InteractionKind::Ordered { .. }));
        let tickets = count(|k| matches!(k, InteractionKind::Ticketed { .. }));
        assert_eq!(
            patron.stats().orders() as usize,
            orders,
            "orders of {}",
            patron.id()
        );
        assert_eq!(
            patron.stats().tickets() as usize,
            tickets,
            "tickets of {}",
            patron.id()
        );
        let mut listed: Vec<String> = patron.tickets().map(|t| t.id().to_string()).collect();
        let all = listed.len();
        listed.sort();
        listed.dedup();
        assert_eq!(
            listed.len(),
            all,
            "a ticket listed twice for {}",
            patron.id()
        );
        assert_eq!(all, tickets, "tickets listed for {}", patron.id());
    }
}

/// Each of the numbered orders is held exactly once, by the patron `expected` names.
fn assert_held_by(memory: &Memory, expected: &[(usize, PatronId)]) {
    let found = holders(memory);
    for &(n, patron) in expected {
        let event = format!("e-{n}");
        let (ordered, ticketed) = found.get(&event).cloned().unwrap_or_default();
        assert_eq!(ordered, vec![patron], "order of {event}");
        assert_eq!(ticketed, vec![patron], "ticket of {event}");
    }
    assert_figures_follow_history(memory);
}

/// Four patrons with one order each (orders 0..4); returns their ids.
fn four() -> (Memory, Vec<PatronId>) {
    let mut memory = common::memory();
    let ids = (0..4).map(|i| order(&mut memory, i, i)).collect();
    (memory, ids)
}

#[test]
fn a_later_merge_into_the_survivor_survives_a_split_of_an_earlier_one() {
    let (mut memory, p) = four();
    let (a, b, c) = (p[0], p[1], p[2]);
    memory.merge(a, b).expect("a takes b");
    memory.merge(a, c).expect("a takes c");
    assert_held_by(&memory, &[(0, a), (1, a), (2, a)]);
    assert_eq!(memory.split(b), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, b), (2, a)]);
    assert_eq!(
        memory.patron(c).map(|v| v.id()),
        Some(a),
        "c still forwards"
    );
    assert_eq!(memory.split(c), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, b), (2, c)]);
}

#[test]
fn splits_in_forward_order_restore_everyone() {
    let (mut memory, p) = four();
    let (a, b, c) = (p[0], p[1], p[2]);
    memory.merge(a, b).expect("a takes b");
    memory.merge(a, c).expect("a takes c");
    assert_eq!(memory.split(c), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, a), (2, c)]);
    assert_eq!(memory.split(b), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, b), (2, c)]);
}

#[test]
fn splitting_from_a_survivor_that_was_merged_on_keeps_the_newer_survivor_whole() {
    let (mut memory, p) = four();
    let (a, b, d) = (p[0], p[1], p[3]);
    memory.merge(a, b).expect("a takes b");
    memory.merge(d, a).expect("d takes a");
    assert_held_by(&memory, &[(0, d), (1, d), (3, d)]);
    assert_eq!(memory.split(b), Ok(d));
    assert_held_by(&memory, &[(0, d), (1, b), (3, d)]);
    // Splitting a off d later must not bring b's order back a second time.
    assert_eq!(memory.split(a), Ok(d));
    assert_held_by(&memory, &[(0, a), (1, b), (3, d)]);
    assert_eq!(memory.patron(b).map(|v| v.id()), Some(b));
}

#[test]
fn splitting_the_outer_merge_first_keeps_the_inner_one() {
    let (mut memory, p) = four();
    let (a, b, d) = (p[0], p[1], p[3]);
    memory.merge(a, b).expect("a takes b");
    memory.merge(d, a).expect("d takes a");
    assert_eq!(memory.split(a), Ok(d));
    assert_held_by(&memory, &[(0, a), (1, a), (3, d)]);
    assert_eq!(memory.patron(b).map(|v| v.id()), Some(a));
    assert_eq!(memory.split(b), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, b), (3, d)]);
}

#[test]
fn orders_arriving_between_merges_stay_with_the_patron_they_arrived_at() {
    let (mut memory, p) = four();
    let (a, b, c) = (p[0], p[1], p[2]);
    memory.merge(a, b).expect("a takes b");
    assert_eq!(order(&mut memory, 1, 10), a, "b's details now find a");
    memory.merge(a, c).expect("a takes c");
    assert_eq!(order(&mut memory, 2, 11), a);
    assert_eq!(memory.split(b), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, b), (2, a), (10, a), (11, a)]);
    assert_eq!(memory.split(c), Ok(a));
    assert_held_by(&memory, &[(0, a), (1, b), (2, c), (10, a), (11, a)]);
}

#[test]
fn merge_split_and_merge_again_the_same_pair() {
    let (mut memory, p) = four();
    let (a, b, c) = (p[0], p[1], p[2]);
    for _ in 0..2 {
        memory.merge(a, b).expect("a takes b");
        memory.merge(a, c).expect("a takes c");
        assert_eq!(memory.split(b), Ok(a));
        assert_held_by(&memory, &[(0, a), (1, b), (2, a)]);
        memory.merge(a, b).expect("a takes b again");
        assert_held_by(&memory, &[(0, a), (1, a), (2, a)]);
        assert_eq!(memory.split(c), Ok(a));
        assert_eq!(memory.split(b), Ok(a));
        assert_held_by(&memory, &[(0, a), (1, b), (2, c)]);
    }
}

/// One step of a random chain.
#[derive(Clone, Debug)]
enum Step {
    Merge(usize, usize),
    Split(usize),
    Order(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..5usize, 0..5usize).prop_map(|(s, a)| Step::Merge(s, a)),
        3 => (0..5usize).prop_map(Step::Split),
        1 => (0..5usize).prop_map(Step::Order),
    ]
}

/// What memory should do: who each patron is merged into, and which patron each order
/// arrived at. An order belongs to whoever that patron stands for now.
struct Model {
    merged_into: Vec<Option<usize>>,
    owner: Vec<(usize, usize)>,
}

impl Model {
    fn live(&self, mut p: usize) -> usize {
        while let Some(next) = self.merged_into[p] {
            p = next;
        }
        p
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    /// Random merges, splits and orders among five patrons: after every step each order
    /// is held once, by the patron the model says, and figures follow history.
    #[test]
    fn random_chains_keep_every_interaction_with_its_patron(
        steps in proptest::collection::vec(step(), 1..14),
    ) {
        let mut memory = common::memory();
        let ids: Vec<PatronId> = (0..5).map(|i| order(&mut memory, i, i)).collect();
        let mut model = Model {
            merged_into: vec![None; 5],
            owner: (0..5).map(|i| (i, i)).collect(),
        };
        let mut next = 5;
        for step in steps {
            match step {
                Step::Merge(s, a) => {
                    let (ls, la) = (model.live(s), model.live(a));
                    prop_assert_eq!(memory.merge(ids[s], ids[a]), Ok(ids[ls]));
                    if ls != la {
                        model.merged_into[la] = Some(ls);
                    }
                }
                Step::Split(x) => match model.merged_into[x] {
                    Some(_) => {
                        let from = model.live(x);
                        prop_assert_eq!(memory.split(ids[x]), Ok(ids[from]));
                        model.merged_into[x] = None;
                    }
                    None => prop_assert!(memory.split(ids[x]).is_err()),
                },
                Step::Order(who) => {
                    let at = model.live(who);
                    prop_assert_eq!(order(&mut memory, who, next), ids[at]);
                    model.owner.push((next, at));
                    next += 1;
                }
            }
            for (i, &id) in ids.iter().enumerate() {
                prop_assert_eq!(memory.patron(id).map(|v| v.id()), Some(ids[model.live(i)]));
            }
            // Contact details follow too: each patron's e-mail is on the patron it stands
            // for now, and nowhere else.
            for patron in memory.patrons() {
                let mut emails: Vec<String> =
                    patron.identifiers().iter().map(|i| i.value().to_owned()).collect();
                emails.sort();
                let mut expected: Vec<String> = (0..5)
                    .filter(|&i| ids[model.live(i)] == patron.id())
                    .map(|i| format!("patron{i}@example.org"))
                    .collect();
                expected.sort();
                prop_assert_eq!(emails, expected, "e-mails of {}", patron.id());
            }
            let expected: Vec<(usize, PatronId)> = model
                .owner
                .iter()
                .map(|&(n, arrived)| (n, ids[model.live(arrived)]))
                .collect();
            assert_held_by(&memory, &expected);
        }
    }
}

/// The e-mails a patron's profile holds, sorted.
fn emails(memory: &Memory, id: PatronId) -> Vec<String> {
    let mut out: Vec<String> = memory
        .patron(id)
        .map(|p| {
            p.identifiers()
                .iter()
                .map(|i| i.value().to_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn contact_details_of_a_patron_split_off_earlier_do_not_come_back() {
    let (mut memory, p) = four();
    let (a, b, e) = (p[0], p[1], p[3]);
    memory.merge(a, e).expect("a takes e");
    memory.merge(a, b).expect("a takes b");
    assert_eq!(memory.split(e), Ok(a));
    assert_eq!(memory.split(b), Ok(a));
    assert_eq!(emails(&memory, a), vec!["patron0@example.org".to_owned()]);
    assert_eq!(emails(&memory, b), vec!["patron1@example.org".to_owned()]);
    assert_eq!(emails(&memory, e), vec!["patron3@example.org".to_owned()]);
    assert_held_by(&memory, &[(0, a), (1, b), (3, e)]);
}
