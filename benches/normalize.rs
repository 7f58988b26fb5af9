//! What turning a vendor's raw values into what recognition compares costs, by itself:
//! each public normalizer on plain ASCII and on accented or non-Latin input, and a whole
//! order's buyer prepared the way [`Memory::observe`] and [`Memory::recognize`] normalize
//! it (through [`Memory::preparer`], which does the same work on its own).
//!
//! Run with `cargo bench --bench normalize`; figures are recorded in BENCHMARKS.md.

use std::hint::black_box;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use regulars::normalize::{self, Country};
use regulars::{Event, Memory, Order, Signals};

/// Inputs as order forms send them: varied case, spacing, punctuation; some plain ASCII,
/// some not.
const ASCII_NAMES: [&str; 4] = ["Anne-Marie", "  O'Neill ", "MCDONALD", "van der Berg"];
const UNICODE_NAMES: [&str; 4] = ["Zoë", "Śmietana-Łukasik", "Иван", "Øster\u{200B}gaard"];
/// Latin-1 names, as most European box offices see them.
const LATIN1_NAMES: [&str; 4] = ["Zoë", "Müller-Lüdenscheidt", "José María", "Ångström"];
const EMAILS: [&str; 4] = [
    "Anne.Marie@Example.org",
    " j.o.neill+tickets@GoogleMail.com ",
    "mcdonald@outlook.com",
    "berg@example.co.uk.",
];
const PHONES: [&str; 4] = [
    "020 7946 0018",
    "+44 (0)20 7946 0958",
    "07700 900123",
    "0044 161 496 0000",
];
const POSTCODES: [&str; 4] = ["SW1A 1AA", "m1 1ae", "EH1-2NG", "b33 8th"];

fn fields(c: &mut Criterion) {
    let mut group = c.benchmark_group("normalize");
    let mut k = 0;
    let mut next = || {
        k = (k + 1) % 4;
        k
    };
    group.bench_function("name_ascii", |b| {
        b.iter(|| normalize::name(black_box(ASCII_NAMES[next()])))
    });
    group.bench_function("name_unicode", |b| {
        b.iter(|| normalize::name(black_box(UNICODE_NAMES[next()])))
    });
    group.bench_function("name_latin1", |b| {
        b.iter(|| normalize::name(black_box(LATIN1_NAMES[next()])))
    });
    group.bench_function("email", |b| {
        b.iter(|| normalize::email(black_box(EMAILS[next()])))
    });
    group.bench_function("phone", |b| {
        b.iter(|| normalize::phone(black_box(PHONES[next()]), Country::GB))
    });
    group.bench_function("postcode", |b| {
        b.iter(|| normalize::postcode(black_box(POSTCODES[next()]), Some(Country::GB)))
    });
    group.finish();
}

/// What an order's buyer gives.
#[derive(Clone, Copy)]
enum Record {
    /// A web checkout: given name, family name, e-mail.
    WebOrder,
    /// A box office sale: given name, family name, phone, postcode.
    BoxOffice,
    /// Everything a form asks for: names, e-mail, phone, street, postcode, city,
    /// country, birth date.
    Full,
}

/// Orders whose buyer gives what `record` says; every one is checked to normalize.
fn orders(memory: &Memory, record: Record, names: &[&str; 4]) -> Vec<Event> {
    let at = Utc
        .with_ymd_and_hms(2026, 3, 1, 19, 30, 0)
        .single()
        .expect("valid date");
    (0..4)
        .map(|i| {
            let mut buyer = Signals::new()
                .given_name(names[i])
                .family_name(names[(i + 1) % 4]);
            if let Record::WebOrder | Record::Full = record {
                buyer = buyer.email(EMAILS[i]);
            }
            if let Record::BoxOffice = record {
                buyer = buyer.phone(PHONES[i]).postcode(POSTCODES[i]);
            }
            if let Record::Full = record {
                buyer = buyer
                    .phone(PHONES[i])
                    .street(format!("{} High Street", 10 + i))
                    .postcode(POSTCODES[i])
                    .city("London")
                    .country("GB")
                    .birth_date(NaiveDate::from_ymd_opt(1980, 5, 17).expect("valid date"));
            }
            memory.recognize(&buyer).expect("valid signals");
            let order = Order::new(format!("o-{i}"), buyer);
            Event::order(format!("e-{i}"), order).at(at)
        })
        .collect()
}

fn records(c: &mut Criterion) {
    let memory = Memory::builder()
        .default_country(Country::GB)
        .build()
        .expect("valid configuration");
    let preparer = memory.preparer();
    let mut group = c.benchmark_group("normalize_record");
    for (name, events) in [
        (
            "name_and_email",
            orders(&memory, Record::WebOrder, &ASCII_NAMES),
        ),
        (
            "name_and_email_latin1",
            orders(&memory, Record::WebOrder, &LATIN1_NAMES),
        ),
        (
            "box_office",
            orders(&memory, Record::BoxOffice, &ASCII_NAMES),
        ),
        ("full_ascii", orders(&memory, Record::Full, &ASCII_NAMES)),
        ("full_latin1", orders(&memory, Record::Full, &LATIN1_NAMES)),
        (
            "full_unicode",
            orders(&memory, Record::Full, &UNICODE_NAMES),
        ),
    ] {
        let mut k = 0;
        // The event is cloned outside the timed part, and what was prepared is dropped
        // outside it too: only normalizing is measured.
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    k = (k + 1) % events.len();
                    events[k].clone()
                },
                |event| {
                    let prepared = preparer.prepare(event);
                    assert!(prepared.is_prepared());
                    prepared
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, fields, records);
criterion_main!(benches);
