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
//! Building a million patrons takes minutes natively and far longer under a profiler, so
//! `--save-snapshot PATH` writes the built memory's snapshot and `--load-snapshot PATH`
//! restores it instead of streaming (with the shipped recognition settings; the queries
//! are regenerated from the same seed, so pass the same `--persons`):
//!
//! ```text
//! target/release/examples/recognize_queries --persons 1000000 --save-snapshot /tmp/1m.snap
//! valgrind --tool=callgrind --toggle-collect='*run_queries*' --instr-atstart=no \
//!     target/release/examples/recognize_queries --persons 1000000 --load-snapshot /tmp/1m.snap
//! ```
//!
//! Sets: `fuzzy` (the last 10 % of the stream, as `recognize/fuzzy_mix`), `exact` (the
//! name and e-mail of every 20th seen order with an e-mail, as `recognize/exact_hit`) and
//! `settled` (those exact queries that the identifiers alone decide). Divide the
//! instructions callgrind counts in `run_queries` by the query count printed.

#[path = "support/population.rs"]
#[allow(dead_code)]
mod population;

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

/// The memory the queries ask: restored from a snapshot when one is given, otherwise
/// built by streaming the seen records (and snapshotted when asked).
fn seen_memory(
    options: &Options,
    seen: &[population::Record],
) -> Result<Memory, Box<dyn std::error::Error>> {
    if let Some(path) = &options.load_snapshot {
        let image = std::fs::read(path)?;
        // The same configuration `population::memory` builds without tuning knobs.
        let memory = Memory::builder()
            .default_country(Country::GB)
            .clock(ManualClock::new(population::window_end()))
            .build_from_snapshot(&image)?;
        return Ok(memory);
    }
    let mut memory = population::memory()?;
    population::stream(&mut memory, seen);
    if let Some(path) = &options.save_snapshot {
        std::fs::write(path, memory.snapshot())?;
    }
    Ok(memory)
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
    let population = population::Population::generate(options.persons, 7);
    let held_out = population.records.len() / 10;
    let (seen, fuzzy) = population
        .records
        .split_at(population.records.len() - held_out);
    let memory = match seen_memory(&options, seen) {
        Ok(memory) => memory,
        Err(error) => {
            eprintln!("recognize_queries: {error}");
            return ExitCode::FAILURE;
        }
    };
    let queries: Vec<Signals> = match options.set {
        QuerySet::Fuzzy => fuzzy.iter().map(|r| r.signals()).collect(),
        QuerySet::Exact | QuerySet::Settled => seen
            .iter()
            .filter(|r| r.email.is_some())
            .step_by(20)
            .map(|r| r.exact_signals())
            .filter(|q| options.set == QuerySet::Exact || settled_by_identifiers(&memory, q))
            .collect(),
    };
    let started = Instant::now();
    let known = run_queries(&memory, &queries, options.rounds);
    let elapsed = started.elapsed();
    let asked = queries.len() * options.rounds;
    println!(
        "{} patrons, {} queries x {} rounds, {known} known: {:.2} µs a query",
        memory.patron_count(),
        queries.len(),
        options.rounds,
        elapsed.as_secs_f64() * 1e6 / asked.max(1) as f64
    );
    ExitCode::SUCCESS
}
