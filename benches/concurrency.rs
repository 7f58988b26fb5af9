//! Memory shared between threads: readers (recognize a returning patron, then read their
//! profile and figures) alongside a writer (observe the next event of the workload), on a
//! memory of 50,000 patrons built from the scale workload.
//!
//! Two ways of sharing are measured, both `std::sync`:
//!
//! - `RwLock<Memory>`: readers take the read lock, the writer the write lock;
//! - `Mutex<Memory>`: everyone takes turns.
//!
//! Benchmarks (criterion's figure is per operation, summed over all threads, so the
//! throughput line is the aggregate):
//!
//! - `readers/{lock}/{n}`: `n` reader threads, no writer;
//! - `readers_with_writer/{lock}/{n}`: the same while a writer observes flat out;
//! - `writer_with_readers/{lock}/{n}`: the writer's time per event while `n` readers
//!   read flat out.
//!
//! Before criterion's run, a fairness table is printed: for 2 s, a writer and `n`
//! readers run together; for each side, operations per second and the time spent waiting
//! for the lock (p50, p99, max). A starved side shows as a tiny rate and a huge wait.
//!
//! Run with `cargo bench --bench concurrency`; figures are recorded in BENCHMARKS.md.

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;
#[path = "../examples/support/workload.rs"]
#[allow(dead_code)]
mod workload;
use workload::EventStream;

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use regulars::normalize::Country;
use regulars::{ManualClock, Memory, Signals};

const PATRONS: usize = 50_000;
const SEED: u64 = 11;
const READERS: [usize; 3] = [1, 2, 4];
const FAIRNESS_RUN: Duration = Duration::from_secs(2);

/// A way of sharing one memory between threads.
trait Shared: Sync {
    const NAME: &'static str;
    fn read<R>(&self, f: impl FnOnce(&Memory) -> R) -> R;
    fn write<R>(&self, f: impl FnOnce(&mut Memory) -> R) -> R;
}

impl Shared for RwLock<Memory> {
    const NAME: &'static str = "rwlock";
    fn read<R>(&self, f: impl FnOnce(&Memory) -> R) -> R {
        f(&self.read().unwrap_or_else(|e| e.into_inner()))
    }
    fn write<R>(&self, f: impl FnOnce(&mut Memory) -> R) -> R {
        f(&mut self.write().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Shared for Mutex<Memory> {
    const NAME: &'static str = "mutex";
    fn read<R>(&self, f: impl FnOnce(&Memory) -> R) -> R {
        f(&self.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn write<R>(&self, f: impl FnOnce(&mut Memory) -> R) -> R {
        f(&mut self.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Memory of about [`PATRONS`] patrons, the reader's queries (returning patrons, exact
/// and fuzzy) and the batch number the writer continues from.
fn build() -> (Memory, Vec<Signals>, usize) {
    let clock = population::window_end() + chrono::TimeDelta::days(workload::catalog_days());
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(clock))
        .build()
        .expect("valid configuration");
    workload::define_catalog(&mut memory).expect("catalog");
    let mut queries = Vec::new();
    let mut number = 0;
    while memory.patron_count() < PATRONS {
        let batch = workload::batch(number, 10_000, SEED, 10.0, 40);
        number += 1;
        queries.extend(batch.exact_queries().step_by(16));
        queries.extend(
            batch
                .held_out_records()
                .filter(|(_, returning)| *returning)
                .map(|(record, _)| record.signals()),
        );
        for planned in &batch.events {
            let _ = memory.observe(batch.event(planned));
        }
    }
    (memory, queries, number)
}

/// One reader operation: who is this, and what do we know about them.
fn read_once(memory: &Memory, query: &Signals) -> u32 {
    let Ok(recognition) = memory.recognize(query) else {
        return 0;
    };
    recognition
        .known_patron()
        .and_then(|id| memory.patron(id))
        .map_or(0, |patron| {
            patron.stats().orders() + patron.names().len() as u32
        })
}

/// Waits for the lock, in nanoseconds, kept whole (runs are short).
#[derive(Default)]
struct Waits(Vec<u64>);

impl Waits {
    fn line(&mut self, ops: usize, elapsed: Duration) -> String {
        self.0.sort_unstable();
        let at = |p: f64| {
            self.0
                .get(((self.0.len().max(1) - 1) as f64 * p) as usize)
                .map_or(0.0, |&n| n as f64 / 1000.0)
        };
        format!(
            "{:>9.0} ops/s   lock wait p50 {:>8.2} µs  p99 {:>9.2} µs  max {:>10.2} µs",
            ops as f64 / elapsed.as_secs_f64(),
            at(0.5),
            at(0.99),
            at(1.0)
        )
    }
}

/// A writer and `readers` readers for [`FAIRNESS_RUN`]: how often each side gets in.
fn fairness<S: Shared>(shared: &S, queries: &[Signals], stream: &mut EventStream, readers: usize) {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (writes, mut write_waits, reads, mut read_waits) = thread::scope(|scope| {
        let handles: Vec<_> = (0..readers)
            .map(|r| {
                let stop = &stop;
                scope.spawn(move || {
                    let mut waits = Waits::default();
                    let mut k = r * 7919;
                    let mut ops = 0;
                    while !stop.load(Ordering::Relaxed) {
                        k = (k + 1) % queries.len();
                        let asked = Instant::now();
                        shared.read(|memory| {
                            waits.0.push(asked.elapsed().as_nanos() as u64);
                            black_box(read_once(memory, &queries[k]));
                        });
                        ops += 1;
                    }
                    (ops, waits)
                })
            })
            .collect();
        let mut waits = Waits::default();
        let mut writes = 0;
        while started.elapsed() < FAIRNESS_RUN {
            let event = stream.next_event();
            let asked = Instant::now();
            shared.write(|memory| {
                waits.0.push(asked.elapsed().as_nanos() as u64);
                let _ = black_box(memory.observe(event));
            });
            writes += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let mut reads = 0;
        let mut read_waits = Waits::default();
        for handle in handles {
            let (ops, waits) = handle.join().expect("reader thread");
            reads += ops;
            read_waits.0.extend(waits.0);
        }
        (writes, waits, reads, read_waits)
    });
    let elapsed = started.elapsed();
    eprintln!(
        "fairness/{}/{readers} readers: writer {}",
        S::NAME,
        write_waits.line(writes, elapsed)
    );
    eprintln!(
        "fairness/{}/{readers} readers: readers {}",
        S::NAME,
        read_waits.line(reads, elapsed)
    );
}

/// `iters` reader operations spread over `readers` threads; the wall time they took.
fn timed_reads<S: Shared>(shared: &S, queries: &[Signals], readers: usize, iters: u64) -> Duration {
    let per_thread = iters.div_ceil(readers as u64);
    let started = Instant::now();
    thread::scope(|scope| {
        for r in 0..readers {
            scope.spawn(move || {
                let mut k = r * 7919;
                for _ in 0..per_thread {
                    k = (k + 1) % queries.len();
                    shared.read(|memory| black_box(read_once(memory, &queries[k])));
                }
            });
        }
    });
    started.elapsed()
}

fn bench_model<S: Shared>(
    c: &mut Criterion,
    shared: &S,
    queries: &[Signals],
    stream: &mut EventStream,
) {
    for readers in READERS {
        fairness(shared, queries, stream, readers);
    }

    let mut group = c.benchmark_group("readers");
    group.throughput(Throughput::Elements(1));
    for readers in READERS {
        group.bench_with_input(BenchmarkId::new(S::NAME, readers), &readers, |b, &n| {
            b.iter_custom(|iters| timed_reads(shared, queries, n, iters))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("readers_with_writer");
    group.throughput(Throughput::Elements(1));
    for readers in READERS {
        let stop = AtomicBool::new(false);
        thread::scope(|scope| {
            let stop = &stop;
            let writer = scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let event = stream.next_event();
                    shared.write(|memory| black_box(memory.observe(event).is_ok()));
                }
            });
            group.bench_with_input(BenchmarkId::new(S::NAME, readers), &readers, |b, &n| {
                b.iter_custom(|iters| timed_reads(shared, queries, n, iters))
            });
            stop.store(true, Ordering::Relaxed);
            writer.join().expect("writer thread");
        });
    }
    group.finish();

    let mut group = c.benchmark_group("writer_with_readers");
    group.throughput(Throughput::Elements(1));
    for readers in READERS {
        let stop = AtomicBool::new(false);
        thread::scope(|scope| {
            for r in 0..readers {
                let stop = &stop;
                scope.spawn(move || {
                    let mut k = r * 7919;
                    while !stop.load(Ordering::Relaxed) {
                        k = (k + 1) % queries.len();
                        shared.read(|memory| black_box(read_once(memory, &queries[k])));
                    }
                });
            }
            group.bench_with_input(BenchmarkId::new(S::NAME, readers), &readers, |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let event = stream.next_event();
                        let started = Instant::now();
                        shared.write(|memory| black_box(memory.observe(event).is_ok()));
                        total += started.elapsed();
                    }
                    total
                })
            });
            stop.store(true, Ordering::Relaxed);
        });
    }
    group.finish();
}

fn concurrency(c: &mut Criterion) {
    let started = Instant::now();
    let (memory, queries, next_batch) = build();
    eprintln!(
        "concurrency: {} patrons built in {:.1} s; {} reader queries; {} cores",
        memory.patron_count(),
        started.elapsed().as_secs_f64(),
        queries.len(),
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut stream = EventStream::new(next_batch, 1_000, SEED);
    let shared = RwLock::new(memory);
    bench_model(c, &shared, &queries, &mut stream);
    let memory = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let shared = Mutex::new(memory);
    bench_model(c, &shared, &queries, &mut stream);
}

criterion_group!(benches, concurrency);
criterion_main!(benches);
