//! What recognition and observation cost as memory grows: 10k, 100k and 1M patrons built
//! from the scale workload (`examples/support/workload.rs`: the accuracy generator's
//! people, their orders, tickets, scans, bar purchases and donations).
//!
//! - `recognize/exact/N`: a returning patron's e-mail and name exactly as memory has them;
//! - `recognize/fuzzy/N`: a returning patron's next order, written as the generator
//!   writes people (nicknames, typos, new e-mails, moves), never observed;
//! - `recognize/new/N`: the first order of someone memory has not seen;
//! - `observe/realistic_mix/N`: the next events of the workload (orders with tickets,
//!   scans, bar purchases, donations), one per iteration, memory growing as it goes.
//!
//! Memory for the recognition benches is built from orders only (about 3 history entries
//! per patron) to keep the 1M build to a minute or two; recognition reads profiles and
//! indexes, not history. Sizes can be narrowed with `REGULARS_SCALE_SIZES=10000,100000`.
//! Per-call percentiles are printed before criterion's run (criterion reports batch
//! means, which hide the tail).
//!
//! Run with `cargo bench --bench scale`; figures are recorded in BENCHMARKS.md.

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;
#[path = "../examples/support/workload.rs"]
#[allow(dead_code)]
mod workload;
use workload::EventStream;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use regulars::normalize::Country;
use regulars::{ManualClock, Memory, Signals};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
const SEED: u64 = 7;
/// Persons per generated batch.
const BATCH: usize = 20_000;
/// Queries kept per kind.
const QUERIES: usize = 4096;

fn sizes() -> Vec<usize> {
    match std::env::var("REGULARS_SCALE_SIZES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => SIZES.to_vec(),
    }
}

fn memory() -> Memory {
    let clock = population::window_end() + chrono::TimeDelta::days(workload::catalog_days());
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(clock))
        .build()
        .expect("valid configuration");
    workload::define_catalog(&mut memory).expect("catalog");
    memory
}

/// Memory of about `patrons` patrons and the queries of each kind.
struct Built {
    memory: Memory,
    exact: Vec<Signals>,
    fuzzy: Vec<Signals>,
    new: Vec<Signals>,
    next_batch: usize,
}

fn build(patrons: usize, entries_per_person: f64) -> Built {
    let mut built = Built {
        memory: memory(),
        exact: Vec::new(),
        fuzzy: Vec::new(),
        new: Vec::new(),
        next_batch: 0,
    };
    let hold_out_every = ((patrons as f64 * 2.5 / (QUERIES as f64 * 2.5)) as usize).max(20);
    let started = Instant::now();
    while built.memory.patron_count() < patrons {
        let remaining = patrons - built.memory.patron_count();
        let persons = ((remaining as f64 * 0.93) as usize).clamp(100, BATCH);
        let batch = workload::batch(
            built.next_batch,
            persons,
            SEED,
            entries_per_person,
            hold_out_every,
        );
        built.next_batch += 1;
        let quota = (QUERIES * persons).div_ceil(patrons);
        let exact: Vec<Signals> = batch.exact_queries().collect();
        let step = (exact.len() / quota.max(1)).max(1);
        built
            .exact
            .extend(exact.into_iter().step_by(step).take(quota));
        for (record, returning) in batch.held_out_records() {
            let queries = if returning {
                &mut built.fuzzy
            } else {
                &mut built.new
            };
            if queries.len() < QUERIES {
                queries.push(record.signals());
            }
        }
        for planned in &batch.events {
            // A rejected event (none are expected) only means one record fewer.
            let _ = built.memory.observe(batch.event(planned));
        }
    }
    eprintln!(
        "scale: {} patrons built in {:.1} s",
        built.memory.patron_count(),
        started.elapsed().as_secs_f64()
    );
    built
}

fn percentiles(name: &str, memory: &Memory, queries: &[Signals]) {
    let mut nanos: Vec<u64> = Vec::with_capacity(queries.len() * 4);
    for _ in 0..4 {
        for query in queries {
            let started = Instant::now();
            let _ = black_box(memory.recognize(query));
            nanos.push(started.elapsed().as_nanos() as u64);
        }
    }
    if nanos.is_empty() {
        return;
    }
    nanos.sort_unstable();
    let at = |p: f64| nanos[((nanos.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    eprintln!(
        "{name}: {} patrons, {} queries x4: p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs",
        memory.patron_count(),
        queries.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

fn recognize(c: &mut Criterion) {
    let mut group = c.benchmark_group("recognize");
    for size in sizes() {
        let built = build(size, 3.0);
        let memory = &built.memory;
        for (kind, queries) in [
            ("exact", &built.exact),
            ("fuzzy", &built.fuzzy),
            ("new", &built.new),
        ] {
            if queries.is_empty() {
                continue;
            }
            percentiles(&format!("recognize/{kind}/{size}"), memory, queries);
            let mut k = 0;
            group.bench_with_input(BenchmarkId::new(kind, size), &size, |b, _| {
                b.iter(|| {
                    k = (k + 1) % queries.len();
                    black_box(memory.recognize(&queries[k]))
                })
            });
        }
    }
    group.finish();
}

fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe");
    group.throughput(Throughput::Elements(1));
    for size in sizes().into_iter().filter(|&s| s <= 100_000) {
        let mut built = build(size, 10.0);
        let mut stream = EventStream::new(built.next_batch, 2_000, SEED);
        group.bench_with_input(BenchmarkId::new("realistic_mix", size), &size, |b, _| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let event = stream.next_event();
                    let started = Instant::now();
                    let _ = black_box(built.memory.observe(event));
                    total += started.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, recognize, observe);
criterion_main!(benches);
