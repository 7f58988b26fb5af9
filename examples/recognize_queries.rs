//! Recognizes the recognize bench's queries once each, for counting what a query costs
//! under a profiler: memory is built from the first 90 % of the accuracy generator's
//! seed-7 stream, then `run_queries` asks about one query set and nothing else.
//!
//! ```text
//! cargo run --release --example recognize_queries -- --persons 100000 --set fuzzy
//! valgrind --tool=callgrind --toggle-collect='*run_queries*' \
//!     target/release/examples/recognize_queries --persons 100000 --set settled
//! ```
//!
//! Building half a million patrons or more takes minutes natively and far longer under
//! a profiler, so `--save-snapshot PATH` writes the built memory's snapshot, with the
//! queries beside it (`PATH.queries.json`), and `--load-snapshot PATH` restores both
//! instead of building (with the shipped recognition settings; pass `--scale` again if
//! the snapshot was built with it, for the same clock).
//!
//! `--scale` builds memory and picks the queries as `examples/scale` does instead (the
//! workload's batches of 20,000 persons, seed 7, `--persons` then counting patrons, up
//! to 10,000 queries a set): the accuracy generator alone runs out of addresses long
//! before a million persons.
//!
//! Under `--instr-atstart=no` the profiler counts nothing, not even the entry into
//! `run_queries`, until its instrumentation is switched on: `--pause` waits for a line on
//! standard input once memory and the queries are ready, for `callgrind_control -i on
//! PID` to go first. `--warm-up N` asks the first N queries before the measured part, out
//! of `run_queries`, so that a cache simulation starts from a cache that recent,
//! different queries filled rather than from an empty one.
//!
//! ```text
//! target/release/examples/recognize_queries --scale --persons 500000 --save-snapshot /tmp/500k.snap
//! mkfifo /tmp/go
//! valgrind --tool=callgrind --instr-atstart=no --toggle-collect='*run_queries*' \
//!     --cache-sim=yes --LL=33554432,16,64 \
//!     target/release/examples/recognize_queries --scale --persons 500000 \
//!     --load-snapshot /tmp/500k.snap --pause --warm-up 4000 < /tmp/go &
//! exec 3> /tmp/go   # once it prints "ready": callgrind_control -i on PID; echo >&3
//! ```
//!
//! Sets: `fuzzy` (the last 10 % of the stream, as `recognize/fuzzy_mix`), `exact` (the
//! name and e-mail of every 20th seen order with an e-mail, as `recognize/exact_hit`) and
//! `settled` (those exact queries that the identifiers alone decide). Divide the
//! instructions callgrind counts in `run_queries` by the query count printed.

#[path = "support/population.rs"]
#[allow(dead_code)]
mod population;
#[path = "support/workload.rs"]
#[allow(dead_code)]
mod workload;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use regulars::normalize::Country;
use regulars::{ManualClock, Memory, Recognition, Signals};

/// Which queries to ask.
#[derive(Clone, Copy, PartialEq, Eq)]
enum QuerySet {
    Fuzzy,
    Exact,
    Settled,
}

struct Options {
    persons: usize,
    set: QuerySet,
    rounds: usize,
    /// Whether memory and queries come from the scale workload.
    scale: bool,
    /// Queries asked before the measured part, to warm caches.
    warm_up: usize,
    /// Whether to wait for a line on standard input before asking anything.
    pause: bool,
    /// Where to write the built memory's snapshot.
    save_snapshot: Option<String>,
    /// A snapshot to restore instead of streaming the seen records.
    load_snapshot: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        persons: 100_000,
        set: QuerySet::Fuzzy,
        rounds: 1,
        scale: false,
        warm_up: 0,
        pause: false,
        save_snapshot: None,
        load_snapshot: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--persons" => {
                options.persons = value()?.parse().map_err(|e| format!("--persons: {e}"))?
            }
            "--rounds" => {
                options.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?
            }
            "--warm-up" => {
                options.warm_up = value()?.parse().map_err(|e| format!("--warm-up: {e}"))?
            }
            "--pause" => options.pause = true,
            "--scale" => options.scale = true,
            "--save-snapshot" => options.save_snapshot = Some(value()?),
            "--load-snapshot" => options.load_snapshot = Some(value()?),
            "--set" => {
                options.set = match value()?.as_str() {
                    "fuzzy" => QuerySet::Fuzzy,
                    "exact" => QuerySet::Exact,
                    "settled" => QuerySet::Settled,
                    other => {
                        return Err(format!(
                            "--set: unknown set {other:?} (fuzzy, exact or settled)"
                        ));
                    }
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.persons == 0 || options.rounds == 0 {
        return Err("--persons and --rounds must be at least 1".into());
    }
    if options.load_snapshot.is_some() && !population::tuning().is_empty() {
        return Err(
            "--load-snapshot restores with the shipped settings: unset the tuning knobs".into(),
        );
    }
    Ok(options)
}

type Failure = Box<dyn std::error::Error>;

/// The memory the queries ask and the queries: restored from a snapshot (the queries
/// saved beside it) when one is given, otherwise built (and snapshotted when asked).
fn memory_and_queries(options: &Options) -> Result<Built, Failure> {
    if let Some(path) = &options.load_snapshot {
        let image = std::fs::read(path)?;
        let memory = builder(options).build_from_snapshot(&image)?;
        let queries = serde_json::from_slice(&std::fs::read(queries_path(path))?)?;
        return Ok(Built {
            memory,
            queries,
            population: None,
        });
    }
    let (memory, queries, population) = if options.scale {
        let (memory, queries) = scale_memory(options)?;
        (memory, queries, None)
    } else {
        let (memory, queries, population) = accuracy_memory(options)?;
        (memory, queries, Some(population))
    };
    if let Some(path) = &options.save_snapshot {
        std::fs::write(path, memory.snapshot())?;
        std::fs::write(queries_path(path), serde_json::to_vec(&queries)?)?;
    }
    Ok(Built {
        memory,
        queries,
        population,
    })
}

/// Memory, the queries to ask it, and what built it.
struct Built {
    memory: Memory,
    queries: Vec<Signals>,
    /// The generated population, dropped only after the measured part: freeing its many
    /// small records earlier makes the allocator consolidate its whole heap on the first
    /// larger allocation inside `run_queries`, tens of millions of instructions a
    /// profiler would count against the queries.
    population: Option<population::Population>,
}

/// Where the queries saved with a snapshot are.
fn queries_path(snapshot: &str) -> String {
    format!("{snapshot}.queries.json")
}

/// The configuration the memory is built with (the same as `population::memory` or
/// `examples/scale` build, without tuning knobs).
fn builder(options: &Options) -> regulars::MemoryBuilder {
    let mut end = population::window_end();
    if options.scale {
        end += chrono::TimeDelta::days(workload::catalog_days());
    }
    Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(end))
}

/// The first 90 % of the accuracy generator's seed-7 stream observed, and the set's
/// queries.
fn accuracy_memory(
    options: &Options,
) -> Result<(Memory, Vec<Signals>, population::Population), Failure> {
    let population = population::Population::generate(options.persons, 7);
    let held_out = population.records.len() / 10;
    let (seen, fuzzy) = population
        .records
        .split_at(population.records.len() - held_out);
    let mut memory = population::memory()?;
    population::stream(&mut memory, seen);
    let queries = match options.set {
        QuerySet::Fuzzy => fuzzy.iter().map(|r| r.signals()).collect(),
        QuerySet::Exact | QuerySet::Settled => seen
            .iter()
            .filter(|r| r.email.is_some())
            .step_by(20)
            .map(|r| r.exact_signals())
            .filter(|q| options.set == QuerySet::Exact || settled_by_identifiers(&memory, q))
            .collect(),
    };
    Ok((memory, queries, population))
}

/// Memory built from the scale workload until it holds `--persons` patrons, with the
/// queries `examples/scale` asks: held-out records of returning persons (fuzzy), and the
/// names and e-mails of observed records (exact), spread over the batches.
fn scale_memory(options: &Options) -> Result<(Memory, Vec<Signals>), Failure> {
    const QUERIES: usize = 10_000;
    const BATCH: usize = 20_000;
    let patrons = options.persons;
    let mut memory = builder(options).build()?;
    let hold_out_every = ((patrons as f64 / QUERIES as f64) as usize).max(20);
    let (mut fuzzy, mut exact) = (Vec::new(), Vec::new());
    let mut number = 0;
    while memory.patron_count() < patrons {
        let remaining = patrons - memory.patron_count();
        let persons = ((remaining as f64 * 0.93) as usize).clamp(100, BATCH);
        let batch = workload::batch(number, persons, 7, 10.0, hold_out_every);
        let quota = ((QUERIES as f64 * persons as f64 / patrons as f64).ceil() as usize).max(1);
        let observed: Vec<Signals> = batch.exact_queries().collect();
        let step = (observed.len() / quota).max(1);
        exact.extend(observed.into_iter().step_by(step).take(quota));
        for (record, returning) in batch.held_out_records() {
            if returning && fuzzy.len() < QUERIES {
                fuzzy.push(record.signals());
            }
        }
        for planned in &batch.events {
            // Rejected events are part of the workload, as in `examples/scale`.
            let _ = memory.observe(batch.event(planned));
        }
        number += 1;
    }
    let queries = match options.set {
        QuerySet::Fuzzy => fuzzy,
        QuerySet::Exact => exact,
        QuerySet::Settled => exact
            .into_iter()
            .filter(|q| settled_by_identifiers(&memory, q))
            .collect(),
    };
    Ok((memory, queries))
}

/// Whether the identifiers alone decided the query (the recognition reports how far
/// any other patron could have come).
fn settled_by_identifiers(memory: &Memory, query: &Signals) -> bool {
    matches!(
        memory.recognize(query),
        Ok(Recognition::Known {
            others_at_most: Some(_),
            ..
        })
    )
}

/// Asks queries before the measured part; kept out of line so a profiler leaves it out.
#[inline(never)]
fn warm_up(memory: &Memory, queries: &[Signals]) -> usize {
    queries
        .iter()
        .filter(|query| {
            matches!(
                black_box(memory.recognize(query)),
                Ok(Recognition::Known { .. })
            )
        })
        .count()
}

/// The measured part; kept out of line so a profiler can count it alone.
#[inline(never)]
fn run_queries(memory: &Memory, queries: &[Signals], rounds: usize) -> usize {
    let mut known = 0;
    for _ in 0..rounds {
        for query in queries {
            if let Ok(Recognition::Known { .. }) = black_box(memory.recognize(query)) {
                known += 1;
            }
        }
    }
    known
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("recognize_queries: {message}");
            return ExitCode::FAILURE;
        }
    };
    let Built {
        memory,
        queries,
        population,
    } = match memory_and_queries(&options) {
        Ok(built) => built,
        Err(error) => {
            eprintln!("recognize_queries: {error}");
            return ExitCode::FAILURE;
        }
    };
    if options.pause {
        eprintln!(
            "recognize_queries: ready, press enter to ask (process {})",
            std::process::id()
        );
        let mut line = String::new();
        if let Err(error) = std::io::stdin().read_line(&mut line) {
            eprintln!("recognize_queries: {error}");
            return ExitCode::FAILURE;
        }
    }
    let (warming, queries) = queries.split_at(options.warm_up.min(queries.len()));
    warm_up(&memory, warming);
    let started = Instant::now();
    let known = run_queries(&memory, queries, options.rounds);
    let elapsed = started.elapsed();
    let asked = queries.len() * options.rounds;
    println!(
        "{} patrons, {} queries x {} rounds, {known} known: {:.2} µs a query",
        memory.patron_count(),
        queries.len(),
        options.rounds,
        elapsed.as_secs_f64() * 1e6 / asked.max(1) as f64
    );
    drop(population);
    ExitCode::SUCCESS
}
