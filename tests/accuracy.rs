//! Accuracy of streamed recognition on a small synthetic population whose truth is known
//! (`examples/support/population.rs`). The full benchmark, with explanations of every
//! error, is `cargo run --release --example accuracy`.

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use population::{Pairwise, Population};

/// Several small populations, pooled: one alone swings too much with its few hard cases.
const PERSONS: usize = 2_000;
const SEEDS: [u64; 3] = [7, 8, 9];

/// What recognition must reach on these populations. Precision is held strictly: at most
/// one linked pair in two hundred may be two different persons. `min_f1` is what the
/// current recognizer reaches (0.9923, with 0.32 % false merges, on 2026-11-22; 0.984
/// and 0.44 % before initials, umlauts, `+tag`s and name-spelled mailboxes were compared
/// as they are now) less a small margin for harmless changes. Raise it as recognition
/// improves.
const FLOOR: Floor = Floor {
    min_f1: 0.988,
    max_false_merge_share: 0.005,
};

/// Pairwise figures (see [`Pairwise`]) a recognizer must reach.
struct Floor {
    /// Harmonic mean of pairwise precision and recall.
    min_f1: f64,
    /// Of the pairs of records memory links, the share that are different persons: the
    /// error that shows one patron another's history.
    max_false_merge_share: f64,
}

#[test]
fn the_same_seed_gives_the_same_records() {
    let first = Population::generate(400, 11);
    let again = Population::generate(400, 11);
    assert!(
        first.records.len() > 400,
        "most persons order more than once"
    );
    assert_eq!(first.records, again.records);
}

#[test]
fn another_seed_gives_other_records() {
    let first = Population::generate(400, 11);
    let other = Population::generate(400, 12);
    assert_ne!(first.records, other.records);
}

#[test]
fn records_arrive_in_time_order_with_unique_ids() {
    let population = Population::generate(400, 11);
    let records = &population.records;
    assert!(records.windows(2).all(|w| w[0].ts <= w[1].ts));
    let mut ids: Vec<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), records.len());
    assert!(
        records
            .iter()
            .all(|r| r.person_id < population.persons.len())
    );
}

/// Streams each population through a fresh memory; the pair counts, summed.
fn measure() -> regulars::Result<Pairwise> {
    let mut pooled = Pairwise::default();
    for seed in SEEDS {
        let population = Population::generate(PERSONS, seed);
        let mut memory = population::memory()?;
        let stream = population::stream(&mut memory, &population.records);
        let rejected: Vec<String> = stream.rejected.iter().map(|(_, e)| e.to_string()).collect();
        assert!(
            rejected.is_empty(),
            "generated records are all valid: {rejected:?}"
        );
        let patrons = population::current_patrons(&memory, &stream.assigned);
        let pairs = Pairwise::count(&population.truth(), &patrons);
        pooled.predicted += pairs.predicted;
        pooled.truth += pairs.truth;
        pooled.correct += pairs.correct;
    }
    Ok(pooled)
}

#[test]
fn recognition_meets_the_floor() -> regulars::Result<()> {
    let pairs = measure()?;
    let figures = figures(&pairs);
    println!("{figures}");
    assert!(
        pairs.false_merge_share() <= FLOOR.max_false_merge_share,
        "too many false merges: {figures}"
    );
    assert!(pairs.f1() >= FLOOR.min_f1, "F1 below the floor: {figures}");
    Ok(())
}

fn figures(pairs: &Pairwise) -> String {
    format!(
        "precision {:.4}, recall {:.4}, F1 {:.4}, false merges {} of {} pairs ({:.3} %)",
        pairs.precision(),
        pairs.recall(),
        pairs.f1(),
        pairs.false_merges(),
        pairs.predicted,
        pairs.false_merge_share() * 100.0,
    )
}
