//! What a user pays per call: recognizing a person, and observing events.
//!
//! Run with `cargo bench --bench observe`; figures are recorded in BENCHMARKS.md.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use regulars::normalize::Country;
use regulars::{
    Event, ManualClock, Memory, Order, Performance, Production, Scan, Signals, Ticket, Venue,
};

const SIZES: [usize; 2] = [10_000, 100_000];
const PERFORMANCES: usize = 200;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 19, 30, 0)
        .single()
        .expect("valid date")
}

fn email(i: usize) -> String {
    format!("patron.{i}@example.org")
}

fn phone(i: usize) -> String {
    format!("07700 9{:05}", i % 100_000)
}

/// A memory with `patrons` people, each created by one order with an e-mail, a phone
/// and a name, and a catalog of a few hundred performances.
fn memory_with(patrons: usize) -> Memory {
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(start()))
        .build()
        .expect("valid configuration");
    memory
        .define_venue(Venue::new("main", "Main House"))
        .expect("venue");
    memory
        .define_production(Production::new("rep", "Repertory").genre("drama"))
        .expect("production");
    for p in 0..PERFORMANCES {
        memory
            .define_performance(Performance::new(
                format!("perf-{p}"),
                "rep",
                "main",
                start() + TimeDelta::days(p as i64),
            ))
            .expect("performance");
    }
    for i in 0..patrons {
        let buyer = Signals::new()
            .given_name(format!("Given{i}"))
            .family_name(format!("Family{}", i % 997))
            .email(email(i))
            .phone(phone(i));
        let order = Order::new(format!("o-{i}"), buyer).ticket(Ticket::new(
            format!("t-{i}"),
            format!("perf-{}", i % PERFORMANCES),
        ));
        memory
            .observe(Event::order(format!("e-{i}"), order).at(start()))
            .expect("order");
    }
    memory
}

fn recognize(c: &mut Criterion) {
    let mut group = c.benchmark_group("recognize");
    for &size in &SIZES {
        let memory = memory_with(size);
        // The same people, typed differently: upper-case e-mail, international phone.
        let known: Vec<Signals> = (0..1024)
            .map(|k| {
                let i = (k * 7919) % size;
                Signals::new()
                    .given_name(format!("GIVEN{i}"))
                    .email(email(i).to_uppercase())
            })
            .collect();
        let strangers: Vec<Signals> = (0..1024)
            .map(|k| {
                Signals::new()
                    .given_name("Stranger")
                    .email(format!("stranger.{k}@example.net"))
            })
            .collect();
        let mut k = 0;
        group.bench_with_input(BenchmarkId::new("exact_hit", size), &size, |b, _| {
            b.iter(|| {
                k = (k + 1) % known.len();
                black_box(memory.recognize(&known[k]).expect("valid signals"))
            })
        });
        group.bench_with_input(BenchmarkId::new("new_person", size), &size, |b, _| {
            b.iter(|| {
                k = (k + 1) % strangers.len();
                black_box(memory.recognize(&strangers[k]).expect("valid signals"))
            })
        });
    }
    group.finish();
}

fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe");
    group.throughput(Throughput::Elements(2));
    for &size in &SIZES {
        let mut memory = memory_with(size);
        let mut n = 0usize;
        // A returning patron orders a ticket and is scanned in: two events, both
        // recognized, stats and moments evaluated.
        group.bench_with_input(
            BenchmarkId::new("returning_order_and_scan", size),
            &size,
            |b, _| {
                b.iter(|| {
                    n += 1;
                    let i = (n * 7919) % size;
                    let ticket = format!("bench-t-{n}");
                    let order = Order::new(
                        format!("bench-o-{n}"),
                        Signals::new()
                            .given_name(format!("Given{i}"))
                            .phone(phone(i)),
                    )
                    .ticket(
                        Ticket::new(ticket.clone(), format!("perf-{}", n % PERFORMANCES))
                            .seat_label("F12"),
                    );
                    let at = start() + TimeDelta::seconds(n as i64);
                    black_box(
                        memory
                            .observe(Event::order(format!("bench-e-{n}"), order).at(at))
                            .expect("order"),
                    );
                    black_box(
                        memory
                            .observe(
                                Event::scan(format!("bench-s-{n}"), Scan::entry(ticket)).at(at),
                            )
                            .expect("scan"),
                    );
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, recognize, observe);
criterion_main!(benches);
