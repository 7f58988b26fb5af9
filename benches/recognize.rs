//! Recognition on realistic people: the accuracy generator's population (nicknames,
//! typos, new e-mails, households, common names), with memory built from the first 90 %
//! of the order stream and the last 10 % recognized read-only. Most of those records are
//! returning people typed differently; the rest are new people who look like others
//! (`fuzzy_mix`). `exact_hit` asks about people memory has seen, by the name and e-mail
//! of one of their orders, as a returning web buyer writes them.
//!
//! Run with `cargo bench --bench recognize`; figures are recorded in BENCHMARKS.md.

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use regulars::{Memory, Recognition, Signals, TrainingOptions};

const PERSONS: [usize; 2] = [10_000, 100_000];

/// Memory from the first 90 % of the stream; the signals of the last 10 %, and the name
/// and e-mail of every 20th order memory saw that has an e-mail.
fn split_stream(persons: usize) -> (Memory, Vec<Signals>, Vec<Signals>) {
    let population = population::Population::generate(persons, 7);
    let held_out = population.records.len() / 10;
    let (seen, queries) = population
        .records
        .split_at(population.records.len() - held_out);
    let mut memory = population::memory().expect("valid configuration");
    population::stream(&mut memory, seen);
    let exact = seen
        .iter()
        .filter(|r| r.email.is_some())
        .step_by(20)
        .map(|r| r.exact_signals())
        .collect();
    (memory, queries.iter().map(|r| r.signals()).collect(), exact)
}

/// Per-call latency percentiles, printed once per size: criterion reports the mean of
/// batches, which hides the tail. Also how many records the identifiers settled before
/// any blocking key was looked up (those report `others_at_most`).
fn print_percentiles(name: &str, persons: usize, memory: &Memory, queries: &[Signals]) {
    let mut settled = 0;
    let mut nanos: Vec<u128> = queries
        .iter()
        .map(|q| {
            let started = Instant::now();
            let recognition = black_box(memory.recognize(q));
            let elapsed = started.elapsed().as_nanos();
            if let Ok(Recognition::Known {
                others_at_most: Some(_),
                ..
            }) = recognition
            {
                settled += 1;
            }
            elapsed
        })
        .collect();
    nanos.sort_unstable();
    let at = |p: f64| nanos[((nanos.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    eprintln!(
        "recognize/{name}/{persons}: {} patrons, {} queries: p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs; {settled} settled by their identifiers alone",
        memory.patron_count(),
        nanos.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

fn recognize(c: &mut Criterion) {
    let mut group = c.benchmark_group("recognize");
    for &persons in &PERSONS {
        let (memory, queries, exact) = split_stream(persons);
        for (name, queries) in [("fuzzy_mix", &queries), ("exact_hit", &exact)] {
            print_percentiles(name, persons, &memory, queries);
            let mut k = 0;
            group.bench_with_input(BenchmarkId::new(name, persons), &persons, |b, _| {
                b.iter(|| {
                    k = (k + 1) % queries.len();
                    black_box(memory.recognize(&queries[k]))
                })
            });
        }
    }
    group.finish();
}

/// Estimating the weights from memory itself (expectation maximisation), on the 10k
/// population's memory.
fn train(c: &mut Criterion) {
    let (memory, _, _) = split_stream(10_000);
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.bench_function("em_10000_persons", |b| {
        b.iter(|| black_box(memory.train(&TrainingOptions::default())))
    });
    group.finish();
}

criterion_group!(benches, recognize, train);
criterion_main!(benches);
