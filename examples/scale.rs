//! Scale: builds a memory of many patrons from the deterministic workload and prints what
//! a venue group would pay for it: observe throughput and latency, recognize latency
//! (exact hit, fuzzy hit, someone new), peak RSS, bytes per patron, snapshot size and how
//! long memory takes to come back.
//!
//! ```text
//! cargo run --release --example scale -- [--patrons 100000] [--interactions-per-patron 10]
//!     [--seed 7] [--batch 20000] [--queries 10000] [--all-rules | --no-rules] [--heap] [--footprint] [--journal DIR]
//! ```
//!
//! People come from the accuracy generator (`support/population.rs`: households,
//! nicknames, typos, moves, shared e-mails), in batches of `--batch` persons so the whole
//! population is never held at once; `support/workload.rs` turns each of their orders
//! into the events a ticketing system sends (tickets, door scans, bar purchases,
//! donations) over a catalog of three stages and seven seasons. Building stops once memory
//! holds `--patrons` patrons.
//!
//! Memory has the default rules unless `--all-rules` (every built-in rule) or `--no-rules`
//! (none: the difference is what remembering fired moments costs).
//! `--heap` counts the bytes the program holds on the heap (a counting allocator: it
//! costs a little observe speed, so throughput figures are taken without it).
//! `--footprint` prints what memory holds on the heap structure by structure (bytes per
//! patron used, reserved, and an estimate of what is resident), after the build
//! and again after restoring the snapshot, beside the resident memory it explains.
//! `--journal DIR` builds a durable memory in DIR (group commit) and reopens it at the
//! end to time recovery; DIR must not exist or be empty.
//!
//! Peak and current RSS come from `/proc/self/status` (Linux); elsewhere they print as
//! unknown.

#[path = "support/population.rs"]
#[allow(dead_code)]
mod population;
#[path = "support/workload.rs"]
#[allow(dead_code)]
mod workload;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use regulars::normalize::Country;
use regulars::{ManualClock, Memory, MemoryBuilder, Signals};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

// ================================================================ heap counting

/// The system allocator, counting live bytes while [`COUNTING`] is on.
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is only
// arithmetic on the sizes passed in.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Live heap bytes counted since counting began (it wraps if something allocated before
/// counting is freed during it; only differences between two readings mean anything).
fn live_heap() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed) as isize
}

// ================================================================ process figures

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`), on Linux.
fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Time this thread has spent on a CPU (Linux): on a shared machine, wall-clock rates
/// measure the neighbours too.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Anonymous resident memory (the heap and other private mappings), on Linux.
fn rss_anon() -> Option<u64> {
    proc_status("RssAnon:")
}

fn rss() -> Option<u64> {
    proc_status("VmRSS:")
}

fn peak_rss() -> Option<u64> {
    proc_status("VmHWM:")
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("unknown".to_owned(), |b| {
        format!("{:.1} MiB", b as f64 / 1048576.0)
    })
}

// ================================================================ latency histogram

/// Latencies in nanoseconds, in log-linear buckets (32 per power of two: within 3 %),
/// so that millions of samples take 15 KiB.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
    sum: u128,
}

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; 64 * 32],
            total: 0,
            max: 0,
            sum: 0,
        }
    }

    fn bucket(nanos: u64) -> usize {
        if nanos < 64 {
            return nanos as usize;
        }
        let shift = 63 - nanos.leading_zeros() as usize - 5;
        shift * 32 + (nanos >> shift) as usize
    }

    fn lower_bound(bucket: usize) -> u64 {
        if bucket < 64 {
            return bucket as u64;
        }
        let shift = bucket / 32 - 1;
        ((bucket - shift * 32) as u64) << shift
    }

    fn record(&mut self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::bucket(nanos)] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
        self.sum += u128::from(nanos);
    }

    /// The latency at quantile `q` (0..=1), in microseconds.
    fn quantile(&self, q: f64) -> f64 {
        let rank = ((self.total as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::lower_bound(bucket) as f64 / 1000.0;
            }
        }
        self.max as f64 / 1000.0
    }

    fn line(&self) -> String {
        format!(
            "p50 {:>7.2} µs   p99 {:>7.2} µs   max {:>9.2} µs   mean {:>6.2} µs   ({} calls)",
            self.quantile(0.5),
            self.quantile(0.99),
            self.max as f64 / 1000.0,
            self.sum as f64 / self.total.max(1) as f64 / 1000.0,
            self.total
        )
    }
}

// ================================================================ footprint

/// What glibc's allocator says it holds (`mallinfo2`): bytes in use, and bytes free but
/// kept in its heap (holes between live allocations). Other C libraries: unknown.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn allocator_figures() -> Option<(u64, u64)> {
    /// glibc's `struct mallinfo2`: ten `size_t` fields.
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    unsafe extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value.
    let info = unsafe { mallinfo2() };
    let _ = (info.arena, info.ordblks, info.smblks, info.hblks);
    let _ = (info.usmblks, info.fsmblks, info.keepcost);
    Some(((info.uordblks + info.hblkhd) as u64, info.fordblks as u64))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn allocator_figures() -> Option<(u64, u64)> {
    None
}

/// Asks glibc's allocator to give free pages back to the system (`malloc_trim`), so
/// that resident memory shows what is live; elsewhere does nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_back_free_pages() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_free_pages() {}

/// Prints memory's heap account beside the growth of anonymous resident memory.
fn print_footprint(memory: &Memory, what: &str, anon_before: Option<u64>, anon: Option<u64>) {
    let started = Instant::now();
    let footprint = memory.footprint();
    println!();
    println!(
        "footprint of the {what} memory (walked in {:.2} s)",
        started.elapsed().as_secs_f64()
    );
    for line in footprint.to_string().lines() {
        println!("  {line}");
    }
    if let (Some(before), Some(after)) = (anon_before, anon) {
        let growth = after.saturating_sub(before) as f64;
        let accounted = footprint.total_resident_estimate() as f64;
        let patrons = footprint.patrons().max(1) as f64;
        println!(
            "  anonymous RSS growth {:.0} bytes per patron; its estimate from the footprint \
             {:.0}; not accounted for {:.0}",
            growth / patrons,
            accounted / patrons,
            (growth - accounted) / patrons
        );
        if let Some((in_use, free)) = allocator_figures() {
            println!(
                "  the allocator: {:.0} bytes per patron in use, {:.0} free but kept in its heap",
                in_use as f64 / patrons,
                free as f64 / patrons
            );
        }
        give_back_free_pages();
        if let Some(trimmed) = rss_anon() {
            println!(
                "  anonymous RSS growth once free pages are given back: {:.0} bytes per patron",
                trimmed.saturating_sub(before) as f64 / patrons
            );
        }
    }
}

// ================================================================ options

struct Options {
    patrons: usize,
    interactions: f64,
    seed: u64,
    batch: usize,
    queries: usize,
    all_rules: bool,
    no_rules: bool,
    heap: bool,
    footprint: bool,
    journal: Option<PathBuf>,
}

const USAGE: &str = "usage: scale [--patrons N] [--interactions-per-patron N] [--seed S] \
     [--batch PERSONS] [--queries N] [--all-rules | --no-rules] [--heap] [--footprint] [--journal DIR]";

fn options() -> Result<Options> {
    let mut options = Options {
        patrons: 100_000,
        interactions: 10.0,
        seed: 7,
        batch: 20_000,
        queries: 10_000,
        all_rules: false,
        no_rules: false,
        heap: false,
        footprint: false,
        journal: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--patrons" => options.patrons = value()?.parse()?,
            "--interactions-per-patron" => options.interactions = value()?.parse()?,
            "--seed" => options.seed = value()?.parse()?,
            "--batch" => options.batch = value()?.parse::<usize>()?.max(100),
            "--queries" => options.queries = value()?.parse::<usize>()?.max(1),
            "--all-rules" => options.all_rules = true,
            "--no-rules" => options.no_rules = true,
            "--heap" => options.heap = true,
            "--footprint" => options.footprint = true,
            "--journal" => options.journal = Some(value()?.into()),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {flag}\n{USAGE}").into()),
        }
    }
    if options.patrons == 0 {
        return Err("--patrons must be at least 1".into());
    }
    Ok(options)
}

/// The configuration every memory here is built with (a reopened journal needs the same).
fn builder(options: &Options) -> MemoryBuilder {
    let clock = population::window_end() + chrono::TimeDelta::days(workload::catalog_days());
    let builder = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(clock));
    if options.no_rules {
        builder.without_default_rules()
    } else if options.all_rules {
        builder.all_builtin_rules()
    } else {
        builder
    }
}

// ================================================================ building

/// What building memory measured, and the queries kept for recognition.
#[derive(Default)]
struct Built {
    events: u64,
    rejected: BTreeMap<String, u64>,
    observing: Duration,
    generating: Duration,
    /// CPU time of the build loop (event construction and observe), if known.
    observing_cpu: Option<Duration>,
    by_kind: BTreeMap<&'static str, Histogram>,
    exact: Vec<Signals>,
    fuzzy: Vec<Signals>,
    new: Vec<Signals>,
    persons: usize,
    records: usize,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

fn build(memory: &mut Memory, options: &Options) -> Result<Built> {
    let mut built = Built::default();
    let bar = ProgressBar::new(options.patrons as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} patrons  {msg}  (eta {eta})",
        )?
        .progress_chars("=> "),
    );
    // About 2.7 orders per person: hold out enough of them for the fuzzy and new queries.
    let expected_records = options.patrons as f64 * 2.5;
    let hold_out_every = ((expected_records / (options.queries as f64 * 2.5)) as usize).max(20);
    let mut number = 0;
    let started = Instant::now();
    let mut cpu = Some(Duration::ZERO);
    while memory.patron_count() < options.patrons {
        let remaining = options.patrons - memory.patron_count();
        // Persons become a few percent more patrons (provisional ones under review).
        let persons = ((remaining as f64 * 0.93) as usize).clamp(100, options.batch);
        let generating = Instant::now();
        let batch = workload::batch(
            number,
            persons,
            options.seed,
            options.interactions,
            hold_out_every,
        );
        built.generating += generating.elapsed();
        built.persons += persons;
        built.records += batch.population.records.len();
        let share = persons as f64 / options.patrons as f64;
        let exact_quota = ((options.queries as f64 * share).ceil() as usize).max(1);
        let exact: Vec<Signals> = batch.exact_queries().collect();
        let step = (exact.len() / exact_quota).max(1);
        built
            .exact
            .extend(exact.into_iter().step_by(step).take(exact_quota));
        for (record, returning) in batch.held_out_records() {
            let queries = if returning {
                &mut built.fuzzy
            } else {
                &mut built.new
            };
            if queries.len() < options.queries {
                queries.push(record.signals());
            }
        }
        let cpu_before = cpu_time();
        for (i, planned) in batch.events.iter().enumerate() {
            let event = batch.event(planned);
            let started = Instant::now();
            let outcome = memory.observe(event);
            let elapsed = started.elapsed();
            built.observing += elapsed;
            built
                .by_kind
                .entry(planned.kind.name())
                .or_default()
                .record(elapsed);
            built.events += 1;
            if let Err(error) = outcome {
                let kind = format!("{}: {error}", planned.kind.name());
                let kind = kind.split(" at ").next().unwrap_or_default().to_owned();
                *built.rejected.entry(kind).or_default() += 1;
            }
            if i % 4096 == 0 {
                bar.set_position(memory.patron_count() as u64);
                let rate = built.events as f64 / built.observing.as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "{} events, {:.0}k events/s",
                    built.events,
                    rate / 1e3
                ));
            }
        }
        cpu = match (cpu, cpu_before, cpu_time()) {
            (Some(sum), Some(before), Some(after)) => Some(sum + after.saturating_sub(before)),
            _ => None,
        };
        number += 1;
    }
    built.observing_cpu = cpu;
    bar.set_position(memory.patron_count() as u64);
    bar.finish_and_clear();
    eprintln!(
        "built in {:.1} s ({} batches)",
        started.elapsed().as_secs_f64(),
        number
    );
    Ok(built)
}

// ================================================================ recognition

/// Times `recognize` on every query, repeating the set until at least `calls` calls.
/// Also returns the CPU time the calls took, when known.
fn time_recognize(
    memory: &Memory,
    queries: &[Signals],
    calls: usize,
) -> (Histogram, Option<Duration>) {
    let mut histogram = Histogram::new();
    if queries.is_empty() {
        return (histogram, None);
    }
    let cpu_before = cpu_time();
    let rounds = calls.div_ceil(queries.len()).max(1);
    for _ in 0..rounds {
        for query in queries {
            let started = Instant::now();
            let _ = black_box(memory.recognize(black_box(query)));
            histogram.record(started.elapsed());
        }
    }
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    (histogram, cpu)
}

fn main() -> Result<()> {
    let options = options()?;
    println!(
        "scale: target {} patrons, ~{} history entries per patron, seed {}{}{}",
        options.patrons,
        options.interactions,
        options.seed,
        match (options.no_rules, options.all_rules) {
            (true, _) => ", no moment rules",
            (false, true) => ", every built-in rule",
            (false, false) => ", default rules",
        },
        match &options.journal {
            Some(dir) => format!(", journal in {}", dir.display()),
            None => ", no journal".to_owned(),
        }
    );
    let mut memory = match &options.journal {
        Some(dir) => builder(&options).open(dir)?,
        None => builder(&options).build()?,
    };
    let performances = workload::define_catalog(&mut memory)?;
    let rss_before = rss();
    let anon_before = rss_anon();
    COUNTING.store(options.heap, Ordering::Relaxed);
    let heap_before = live_heap();

    let built = build(&mut memory, &options)?;
    if options.journal.is_some() {
        memory.sync()?;
    }
    let patrons = memory.patron_count();
    let entries: usize = memory.patrons().map(|p| p.history().len()).sum();
    let rss_built = rss();
    let anon_built = rss_anon();
    let peak_built = peak_rss();
    let heap_built = live_heap();

    println!();
    println!("memory");
    println!(
        "  {patrons} patrons from {} persons and {} orders; {} events observed ({} rejected), \
         {} history entries ({:.1} per patron); catalog of {performances} performances",
        built.persons,
        built.records,
        memory.event_count(),
        built.rejected.values().sum::<u64>(),
        entries,
        entries as f64 / patrons as f64
    );
    for (reason, count) in &built.rejected {
        println!("  rejected {count}: {reason}");
    }
    println!(
        "  generating the workload took {:.1} s (not counted below)",
        built.generating.as_secs_f64()
    );

    println!();
    println!("observe (the build stream, one call at a time)");
    let rate = built.events as f64 / built.observing.as_secs_f64();
    println!(
        "  throughput {:.0} events/s ({} events in {:.2} s of observe){}",
        rate,
        built.events,
        built.observing.as_secs_f64(),
        if options.heap {
            " — counting allocator on, slower"
        } else {
            ""
        }
    );
    if let Some(cpu) = built.observing_cpu {
        println!(
            "  per CPU-second: {:.0} events/s (CPU time of the loop, event construction included)",
            built.events as f64 / cpu.as_secs_f64().max(1e-9)
        );
    }
    let mut all = Histogram::new();
    for (kind, histogram) in &built.by_kind {
        println!("  {kind:<9} {}", histogram.line());
        for (a, b) in all.counts.iter_mut().zip(&histogram.counts) {
            *a += b;
        }
        all.total += histogram.total;
        all.max = all.max.max(histogram.max);
        all.sum += histogram.sum;
    }
    println!("  {:<9} {}", "all", all.line());

    println!();
    println!("recognize (read-only, after the build)");
    let calls = (options.queries * 5).max(20_000);
    for (name, queries) in [
        ("exact", &built.exact),
        ("fuzzy", &built.fuzzy),
        ("new", &built.new),
    ] {
        let (histogram, cpu) = time_recognize(&memory, queries, calls);
        let rate = cpu.map_or("unknown".to_owned(), |cpu| {
            format!(
                "{:.0}",
                histogram.total as f64 / cpu.as_secs_f64().max(1e-9)
            )
        });
        println!(
            "  {name:<6} {}   {rate} calls per CPU-second, {} distinct queries",
            histogram.line(),
            queries.len()
        );
    }

    println!();
    println!("resident memory");
    let growth = match (rss_before, rss_built) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    println!(
        "  RSS before building {}, after {}, peak while building {}",
        mib(rss_before),
        mib(rss_built),
        mib(peak_built)
    );
    match growth {
        Some(growth) => println!(
            "  bytes per patron (RSS growth / patrons): {:.0}",
            growth as f64 / patrons as f64
        ),
        None => println!("  bytes per patron: unknown (no /proc/self/status)"),
    }
    if options.heap {
        let heap = heap_built - heap_before;
        println!(
            "  live heap held by memory: {} ({:.0} bytes per patron; queries kept for recognize included)",
            mib(Some(heap.max(0) as u64)),
            heap as f64 / patrons as f64
        );
    }

    if options.footprint {
        print_footprint(&memory, "built", anon_before, anon_built);
    }

    println!();
    println!("snapshot and recovery");
    let started = Instant::now();
    let image = memory.snapshot();
    let snapshotting = started.elapsed();
    println!(
        "  snapshot: {} ({:.0} bytes per patron) in {:.2} s",
        mib(Some(image.len() as u64)),
        image.len() as f64 / patrons as f64,
        snapshotting.as_secs_f64()
    );
    let events = memory.event_count();
    drop(memory);
    let heap_before_restore = live_heap();
    let started = Instant::now();
    let restored = builder(&options).build_from_snapshot(&image)?;
    println!(
        "  restore from the snapshot image: {:.2} s ({} patrons, {} events)",
        started.elapsed().as_secs_f64(),
        restored.patron_count(),
        restored.event_count()
    );
    if options.heap {
        let heap = live_heap() - heap_before_restore;
        println!(
            "  live heap held by the restored memory: {} ({:.0} bytes per patron)",
            mib(Some(heap.max(0) as u64)),
            heap as f64 / patrons as f64
        );
    }
    if options.footprint {
        print_footprint(&restored, "restored", anon_before, rss_anon());
    }
    if restored.patron_count() != patrons || restored.event_count() != events {
        return Err("the restored memory differs from the one snapshotted".into());
    }
    drop(restored);
    drop(image);
    if let Some(dir) = &options.journal {
        let started = Instant::now();
        let reopened = builder(&options).open(dir)?;
        let recovery = reopened.recovery().map_or(0, |r| r.records());
        println!(
            "  reopen {}: {:.2} s (latest checkpoint, then {} journal records replayed)",
            dir.display(),
            started.elapsed().as_secs_f64(),
            recovery
        );
        if reopened.patron_count() != patrons {
            return Err("the reopened memory differs from the one built".into());
        }
    }
    println!("  peak RSS over the whole run: {}", mib(peak_rss()));
    Ok(())
}
