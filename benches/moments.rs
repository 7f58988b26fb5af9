//! What the moment engine costs: every built-in rule asked about an order, a tick with
//! nothing due, and the brief of a full 2,000-seat house.
//!
//! Run with `cargo bench --bench moments`; figures are recorded in BENCHMARKS.md.
//!
//! The rules' cost is the difference between observing the same order with every
//! built-in rule registered and with none (recognition and recording are the same in
//! both, and most of the cost: the person strategy scores the patrons sharing a family
//! name).
//!
//! Two kinds of order are measured. `order_*` cycles each patron through three future
//! performances, so after the first 30,000 orders (within criterion's warm-up) every
//! order books a performance again: the rules look, and their notes stand already.
//! `new_booking_*` gives each patron a performance they have not booked yet, so the
//! repeat-production note (and, once per patron, the 10th-visit milestone) fires: what a
//! first booking of a show costs. After a patron has booked all [`FUTURE`] performances,
//! the next [`FUTURE`] bookings go to a fresh copy of them (same productions, same dates,
//! new ids), so however long a run lasts, every booking is a first booking. In both,
//! patrons keep the bookings they make, so each holds more bookings ahead the longer a
//! run lasts.
//!
//! Criterion measures the two configurations minutes apart, and on a shared machine
//! their difference (a microsecond or two of some ten) moves by as much as itself. So the
//! bench also prints a paired figure for each kind of order: both memories are observed in
//! alternating rounds of 50 orders, and the median over 400 rounds of (every rule − no
//! rule) is the rules' extra per observation; rounds are short enough that most run
//! uninterrupted, and the load a round sees is shared by both halves. `paired_extra_long`
//! is the same after 500,000 orders per memory, when each patron holds some 50 bookings
//! ahead, as in criterion's rows by the end of their measurement.
//!
//! `rules_extra_order` and `rules_extra_new_booking` are the same paired measure as
//! criterion rows: each iteration observes one order in each memory, in alternating
//! rounds of up to 50, and criterion is handed the difference, so its statistics (and
//! its median over samples) are of the rules' extra itself.
//!
//! `tick_one_percent_due/1000000` is a tick over a million patrons of whom 1 % are due,
//! each tick the next 1 % (a rule wakes every patron once every 100 days, at a time of
//! their own, and proposes nothing: what finding and refiling the due ones costs);
//! `tick_tenth_percent_due` the same with 0.1 % due: the two give what a tick costs per
//! due patron, at ten times fewer due. `tick_nothing_due/1000000` shows that the
//! patrons not due cost nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use regulars::normalize::Country;
use regulars::{
    Event, ExactIdentifiers, ManualClock, Memory, MemoryBuilder, Moment, MomentRule, Order,
    PatronView, Performance, Production, RuleContext, Scan, Seat, Signals, Ticket, TriggerKinds,
    Venue,
};

const PATRONS: usize = 10_000;
/// Past performances each patron attended before the measured orders.
const VISITS: usize = 6;
const PAST: usize = 60;
const FUTURE: usize = 60;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 19, 30, 0)
        .single()
        .expect("valid date")
}

fn performance(p: usize) -> String {
    format!("perf-{p}")
}

fn buyer(i: usize) -> Signals {
    Signals::new()
        .given_name(format!("Given{i}"))
        .family_name(format!("Family{}", i % 997))
        .email(format!("patron.{i}@example.org"))
}

/// A catalog of past and future performances over three genres, and `patrons` people
/// who each booked and attended [`VISITS`] past performances.
fn memory_with(builder: MemoryBuilder, patrons: usize) -> Memory {
    let mut memory = builder
        .default_country(Country::GB)
        .clock(ManualClock::new(start() + TimeDelta::days(PAST as i64)))
        .build()
        .expect("valid configuration");
    memory
        .define_venue(Venue::new("main", "Main House"))
        .expect("venue");
    for (id, genre) in [("drama", "drama"), ("opera", "opera"), ("dance", "dance")] {
        memory
            .define_production(Production::new(id, id).genre(genre))
            .expect("production");
    }
    let productions = ["drama", "opera", "dance"];
    for p in 0..PAST + FUTURE {
        memory
            .define_performance(Performance::new(
                performance(p),
                productions[p % 3],
                "main",
                start() + TimeDelta::days(p as i64),
            ))
            .expect("performance");
    }
    for i in 0..patrons {
        for v in 0..VISITS {
            let p = (i + v * 7) % PAST;
            let at = start() + TimeDelta::days(p as i64);
            let ticket = format!("t-{i}-{v}");
            let order = Order::new(format!("o-{i}-{v}"), buyer(i))
                .ticket(Ticket::new(ticket.clone(), performance(p)).seat_label(format!("A{v}")));
            memory
                .observe(Event::order(format!("e-{i}-{v}"), order).at(at - TimeDelta::days(3)))
                .expect("order");
            memory
                .observe(Event::scan(format!("s-{i}-{v}"), Scan::entry(ticket)).at(at))
                .expect("scan");
        }
    }
    memory
}

/// Observes an order of one known patron for one future performance, a new one each call.
fn order_loop(memory: &mut Memory, n: &mut usize) -> usize {
    *n += 1;
    let i = (*n * 7919) % PATRONS;
    let p = PAST + *n % FUTURE;
    let at = start() + TimeDelta::days(PAST as i64);
    let order = Order::new(format!("bench-o-{n}"), buyer(i)).ticket(
        Ticket::new(format!("bench-t-{n}"), performance(p))
            .seat(Seat::new("B1").in_section("Stalls")),
    );
    let seen = memory
        .observe(Event::order(format!("bench-e-{n}"), order).at(at))
        .expect("order");
    seen.moments().len()
}

/// The id of the future performance `p` in copy `copy` of the future performances: the
/// catalog's own for copy 0, and for the others a performance defined by
/// [`define_future_copy`] at the same date, of the same production.
fn future_performance(p: usize, copy: usize) -> String {
    if copy == 0 {
        performance(p)
    } else {
        format!("perf-{p}-copy-{copy}")
    }
}

/// Defines copy `copy` of the future performances (see [`future_performance`]).
fn define_future_copy(memory: &mut Memory, copy: usize) {
    let productions = ["drama", "opera", "dance"];
    for p in PAST..PAST + FUTURE {
        memory
            .define_performance(Performance::new(
                future_performance(p, copy),
                productions[p % 3],
                "main",
                start() + TimeDelta::days(p as i64),
            ))
            .expect("performance");
    }
}

/// Observes an order of one known patron for a performance they have not booked yet: the
/// `k`th time a patron is picked, the `k`th performance after their own first one, in
/// copy `k / FUTURE` of the future performances (each patron is picked once every
/// [`PATRONS`] calls, so copy `c` is first needed at call `c × FUTURE × PATRONS` and
/// defined then).
fn new_booking_loop(memory: &mut Memory, n: &mut usize) -> usize {
    *n += 1;
    let i = (*n * 7919) % PATRONS;
    let picked = *n / PATRONS;
    let copy = picked / FUTURE;
    if copy > 0 && n.is_multiple_of(FUTURE * PATRONS) {
        define_future_copy(memory, copy);
    }
    let p = PAST + (i + picked) % FUTURE;
    let at = start() + TimeDelta::days(PAST as i64);
    let order = Order::new(format!("new-o-{n}"), buyer(i)).ticket(
        Ticket::new(format!("new-t-{n}"), future_performance(p, copy))
            .seat(Seat::new("B1").in_section("Stalls")),
    );
    let seen = memory
        .observe(Event::order(format!("new-e-{n}"), order).at(at))
        .expect("order");
    seen.moments().len()
}

/// Makes the builder of one measured configuration.
type Configure = fn() -> MemoryBuilder;

fn rules(c: &mut Criterion) {
    let mut group = c.benchmark_group("moments");
    let configurations: [(&str, Configure); 2] = [
        ("order_no_rules", || {
            Memory::builder().without_default_rules()
        }),
        ("order_every_builtin_rule", || {
            Memory::builder().all_builtin_rules()
        }),
    ];
    for (name, builder) in configurations {
        if !wanted(&format!("moments/{name}/{PATRONS}")) {
            continue;
        }
        let mut memory = memory_with(builder(), PATRONS);
        let mut n = 0;
        group.bench_function(BenchmarkId::new(name, PATRONS), |b| {
            b.iter(|| black_box(order_loop(&mut memory, &mut n)))
        });
    }
    for (name, builder) in configurations {
        let name = name.replacen("order_", "new_booking_", 1);
        if !wanted(&format!("moments/{name}/{PATRONS}")) {
            continue;
        }
        let mut memory = memory_with(builder(), PATRONS);
        let mut n = 0;
        group.bench_function(BenchmarkId::new(name, PATRONS), |b| {
            b.iter(|| black_box(new_booking_loop(&mut memory, &mut n)))
        });
    }
    let kinds: [(&str, ObserveLoop); 2] = [
        ("rules_extra_order", order_loop),
        ("rules_extra_new_booking", new_booking_loop),
    ];
    for (name, looped) in kinds {
        if wanted(&format!("moments/{name}/{PATRONS}")) {
            bench_rules_extra(&mut group, name, looped);
        }
    }
    if wanted(&format!("moments/tick_nothing_due/{PATRONS}")) {
        let mut memory = memory_with(Memory::builder().all_builtin_rules(), PATRONS);
        let quiet = start() + TimeDelta::days(PAST as i64);
        group.bench_function(BenchmarkId::new("tick_nothing_due", PATRONS), |b| {
            b.iter(|| black_box(memory.tick(quiet).len()))
        });
    }
    group.finish();
}

/// One step of a bench's stream: observes the next event and returns what it proposed.
type ObserveLoop = fn(&mut Memory, &mut usize) -> usize;

/// The rules' extra per observation as a criterion row: each iteration observes one
/// order in a memory with every built-in rule and the same order in one without, in
/// alternating rounds of up to 50, and criterion is given the time of the first minus
/// the time of the second. Both memories see the same orders in the same order, so
/// what they hold grows alike however long criterion runs.
fn bench_rules_extra(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    looped: ObserveLoop,
) {
    const PER_ROUND: u64 = 50;
    let mut none = memory_with(Memory::builder().without_default_rules(), PATRONS);
    let mut every = memory_with(Memory::builder().all_builtin_rules(), PATRONS);
    let (mut n_none, mut n_every) = (0, 0);
    group.bench_function(BenchmarkId::new(name, PATRONS), |b| {
        b.iter_custom(|iters| {
            let mut extra = 0.0_f64;
            let mut left = iters;
            while left > 0 {
                let round = left.min(PER_ROUND);
                let started = Instant::now();
                for _ in 0..round {
                    black_box(looped(&mut none, &mut n_none));
                }
                let without = started.elapsed();
                let started = Instant::now();
                for _ in 0..round {
                    black_box(looped(&mut every, &mut n_every));
                }
                extra += started.elapsed().as_secs_f64() - without.as_secs_f64();
                left -= round;
            }
            // A sample whose rounds ran faster with the rules (noise) counts as 1 ns per
            // observation: criterion refuses a zero, and raising a sample can only raise
            // the figure.
            Duration::from_secs_f64(extra.max(iters as f64 * 1e-9))
        })
    });
}

/// Orders observed by each memory before the paired rounds: two per patron.
const PAIRED_WARM_UP: usize = 20_000;
/// The same for the long paired figures: fifty per patron, about what criterion's rows
/// have observed by the end of their measurement.
const LONG_WARM_UP: usize = 500_000;

/// The rules' extra per observation, paired: rounds of `PER_ROUND` orders alternate
/// between a memory with every built-in rule and one without, and the median of the
/// per-round differences is printed (after both memories are warmed up as criterion's
/// would be).
fn print_paired_extra(name: &str, looped: fn(&mut Memory, &mut usize) -> usize, warm_up: usize) {
    const ROUNDS: usize = 400;
    const PER_ROUND: usize = 50;
    let mut none = memory_with(Memory::builder().without_default_rules(), PATRONS);
    let mut every = memory_with(Memory::builder().all_builtin_rules(), PATRONS);
    let (mut n_none, mut n_every) = (0, 0);
    for _ in 0..warm_up {
        black_box(looped(&mut none, &mut n_none));
        black_box(looped(&mut every, &mut n_every));
    }
    // Microseconds per observation of one round: wall time, and the thread's CPU time
    // where the platform gives it.
    let round = |memory: &mut Memory, n: &mut usize| {
        let (started, cpu_started) = (Instant::now(), thread_cpu_time());
        for _ in 0..PER_ROUND {
            black_box(looped(memory, n));
        }
        let per = |d: Duration| d.as_secs_f64() * 1e6 / PER_ROUND as f64;
        let cpu = cpu_started
            .zip(thread_cpu_time())
            .map(|(from, to)| per(to.saturating_sub(from)));
        (per(started.elapsed()), cpu)
    };
    let (mut extra, mut extra_cpu) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (without, without_cpu) = round(&mut none, &mut n_none);
        let (with, with_cpu) = round(&mut every, &mut n_every);
        extra.push(with - without);
        if let Some((with, without)) = with_cpu.zip(without_cpu) {
            extra_cpu.push(with - without);
        }
    }
    let quartiles = |extra: &mut Vec<f64>| {
        extra.sort_by(f64::total_cmp);
        let n = extra.len();
        (extra[n / 2], extra[n / 4], extra[n * 3 / 4])
    };
    let (median, low, high) = quartiles(&mut extra);
    let (wall, cpu) = if warm_up > PAIRED_WARM_UP {
        ("paired_extra_long", "paired_extra_long_cpu")
    } else {
        ("paired_extra", "paired_extra_cpu")
    };
    eprintln!(
        "moments/{wall}/{name}/{PATRONS}: every built-in rule adds {median:.2} µs per \
         observation (median of {ROUNDS} paired rounds; quartiles {low:.2} to {high:.2} µs)",
    );
    if extra_cpu.len() == ROUNDS {
        let (median, low, high) = quartiles(&mut extra_cpu);
        eprintln!(
            "moments/{cpu}/{name}/{PATRONS}: the same in the thread's CPU time: \
             {median:.2} µs (quartiles {low:.2} to {high:.2} µs)",
        );
    }
}

/// The CPU time this thread has used, where the platform says (Linux): unlike wall time,
/// it does not count the time other processes on a shared machine had the core.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through a pointer to a live one.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0;
    if failed {
        return None;
    }
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

/// See the Linux version: elsewhere only wall time is reported.
#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Whether a filter on the command line asks for the bench with this id (criterion's
/// `group/name/parameter`), so setting up memories only benches left out would use is
/// skipped (a filter naming more than the id, as `brief/full_house/2000`, asks for it
/// too). Criterion takes a filter as a regular expression: one with characters other
/// than letters, digits, `_`, `/` and `-` is taken to ask for everything.
fn wanted(id: &str) -> bool {
    // Criterion's options that take a value; anything else not starting with `--` is a
    // filter.
    const WITH_VALUE: [&str; 12] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--profile-time",
        "--color",
    ];
    let mut filters: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if arg == "--list" {
            // Listing names every bench: each must be registered.
            return true;
        } else if !arg.starts_with("--") {
            filters.push(arg);
        }
    }
    let plain = |f: &str| {
        f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '-'))
    };
    if !filters.iter().all(|f| plain(f)) {
        return true;
    }
    filters.is_empty()
        || filters
            .iter()
            .any(|f| id.contains(f.as_str()) || f.contains(id))
}

/// The paired figures, unless a filter on the command line leaves them out (they are
/// printed, not registered with criterion, so `--list` does not name them).
fn paired(_: &mut Criterion) {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    if wanted("moments/paired_extra/order") {
        print_paired_extra("order", order_loop, PAIRED_WARM_UP);
    }
    if wanted("moments/paired_extra/new_booking") {
        print_paired_extra("new_booking", new_booking_loop, PAIRED_WARM_UP);
    }
    // After as many orders as criterion's rows observe: every patron holds some 50
    // bookings ahead, so a rule whose cost grew with them would show here.
    if wanted("moments/paired_extra_long/order") {
        print_paired_extra("order", order_loop, LONG_WARM_UP);
    }
    if wanted("moments/paired_extra_long/new_booking") {
        print_paired_extra("new_booking", new_booking_loop, LONG_WARM_UP);
    }
}

/// A sold-out house: 2,000 patrons, each with a seat and their moments.
fn brief(c: &mut Criterion) {
    const SEATS: usize = 2_000;
    if !wanted("brief/full_house") {
        return;
    }
    let mut memory = memory_with(Memory::builder().all_builtin_rules(), SEATS);
    let tonight = performance(PAST + 1);
    let at = start() + TimeDelta::days(PAST as i64 - 1);
    for i in 0..SEATS {
        let row = char::from(b'A' + (i / 100) as u8);
        let seat = Seat::new(format!("{row}{}", i % 100 + 1)).in_section(if i < 1_200 {
            "Stalls"
        } else {
            "Circle"
        });
        let order = Order::new(format!("house-o-{i}"), buyer(i))
            .ticket(Ticket::new(format!("house-t-{i}"), tonight.as_str()).seat(seat));
        memory
            .observe(Event::order(format!("house-e-{i}"), order).at(at))
            .expect("order");
    }
    let moments = memory.brief(&tonight).expect("brief").moment_count();
    let mut group = c.benchmark_group("brief");
    group.bench_function(
        BenchmarkId::new("full_house", format!("{SEATS}_seats_{moments}_moments")),
        |b| b.iter(|| black_box(memory.brief(&tonight).expect("brief").moment_count())),
    );
    group.finish();
}

/// Days between two wake-ups of a patron.
const PERIOD_DAYS: i64 = 100;
/// The wake-up times in a period, each shared by 0.1 % of patrons: one every 144 minutes.
const SLOTS: i64 = 1_000;
const SLOT_MINUTES: i64 = PERIOD_DAYS * 24 * 60 / SLOTS;

/// Wakes each patron every [`PERIOD_DAYS`], starting a day after they were last seen,
/// and proposes nothing.
#[derive(Debug)]
struct EveryHundredDays;

impl MomentRule for EveryHundredDays {
    fn id(&self) -> &str {
        "every-hundred-days"
    }
    fn evaluate(&self, _ctx: &RuleContext<'_>, _out: &mut Vec<Moment>) {}
    fn next_due(&self, patron: &PatronView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let first = patron.stats().last_seen_at()? + TimeDelta::days(1);
        if now < first {
            return Some(first);
        }
        let periods = (now - first).num_days() / PERIOD_DAYS + 1;
        Some(first + TimeDelta::days(periods * PERIOD_DAYS))
    }
    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::TICK
    }
}

/// `patrons` people, each seen once (an order without tickets) in one of [`SLOTS`]
/// slots of a period, with [`EveryHundredDays`] the only rule.
fn memory_due_in_turn(patrons: usize) -> Memory {
    let mut memory = Memory::builder()
        // Each order is someone new: only exact identifiers, so building a million
        // patrons does not score family-name blocks.
        .without_default_strategies()
        .strategy(ExactIdentifiers::new())
        .without_default_rules()
        .rule(EveryHundredDays)
        .default_country(Country::GB)
        .clock(ManualClock::new(start()))
        .build()
        .expect("valid configuration");
    for i in 0..patrons {
        let at = start() + TimeDelta::minutes(i as i64 % SLOTS * SLOT_MINUTES);
        let order = Order::new(
            format!("o-{i}"),
            Signals::new().email(format!("p{i}@example.org")),
        );
        memory
            .observe(Event::order(format!("e-{i}"), order).at(at))
            .expect("order");
    }
    memory
}

/// Ticks over a million patrons, each tick a slot (0.1 % due) or ten (1 % due) later.
fn tick_scale(c: &mut Criterion) {
    const PATRONS: usize = 1_000_000;
    if ![
        "tick_tenth_percent_due",
        "tick_one_percent_due",
        "tick_nothing_due",
    ]
    .iter()
    .any(|name| wanted(&format!("moments/{name}/{PATRONS}")))
    {
        return;
    }
    let mut memory = memory_due_in_turn(PATRONS);
    assert_eq!(memory.pending_ticks(), PATRONS);
    let mut group = c.benchmark_group("moments");
    let mut now = start() + TimeDelta::days(1);
    for (name, slots) in [("tick_tenth_percent_due", 1), ("tick_one_percent_due", 10)] {
        // Each tick handles thousands of patrons: fewer, longer samples.
        group.sample_size(10);
        group.bench_function(BenchmarkId::new(name, PATRONS), |b| {
            b.iter(|| {
                now += TimeDelta::minutes(slots * SLOT_MINUTES);
                black_box(memory.tick(now).len())
            })
        });
    }
    // Every patron is still filed: the due ones were refiled a period later.
    assert_eq!(memory.pending_ticks(), PATRONS);
    group.sample_size(100);
    let before_any = start();
    group.bench_function(BenchmarkId::new("tick_nothing_due", PATRONS), |b| {
        b.iter(|| black_box(memory.tick(before_any).len()))
    });
    group.finish();
}

criterion_group!(benches, rules, paired, brief, tick_scale);
criterion_main!(benches);
