//! Properties that must hold for any input: normalizers are idempotent and total,
//! recognition is deterministic (also across memories, whatever their hash seeds), merge
//! then split restores the patrons exactly, and no public entry point panics — a hostile
//! call gets a typed error and changes nothing.
//!
//! Case counts come from `PROPTEST_CASES` (CI sets 256). Failing cases are saved to
//! `proptest-regressions/properties.txt` and replayed first on every run; commit that file.

mod common;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use common::{Snapshot, snapshot};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use regulars::import::OrderCsv;
use regulars::normalize::{self, Country};
use regulars::{
    Channel, Consent, Currency, Donation, Event, Flag, FlagKind, LineItem, ManualClock, Membership,
    Memory, Money, Note, Order, PatronId, Performance, Production, ProfileChange, Purchase,
    Purpose, Refund, ReviewDecision, Scan, Seat, SeatPreference, Signals, Ticket, TrainingOptions,
    Venue,
};

/// The default configuration (which reads `PROPTEST_CASES`), with failures saved where
/// the repository keeps them.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- strategies

/// Text of the kinds people and vendors really send, and worse: any Unicode, printable
/// soup, look-alikes and combining marks, invisible and bidi controls, near-misses of
/// valid values, and long runs.
fn unicode() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,48}",
        "[a-zA-Z0-9 .@+'’`\\-_()#;=xX\u{300}-\u{36f}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{feff}\u{a0}\u{3000}ßøłİıΣσςёЁаеорсхΑΟ０-９ａ-ｚ]{0,32}",
        "[A-Za-zÀ-ÿ0-9.+_\\-]{1,12}@[A-Za-zÀ-ÿ0-9\\-]{1,10}\\.(com|org|co\\.uk|ΔΟΚΙΜΉ|)\\.?",
        "[+(]?[0-9０-９٠-٩ ()./\\-]{0,20}( ?(x|ext\\.?|#) ?[0-9]{1,4})?",
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}a-z ]{0,12}",
        (1usize..3000).prop_map(|n| "é".repeat(n)),
    ]
    .boxed()
}

/// Plausible free text most of the time, hostile text otherwise: events whose every
/// field is hostile fail at their first check, so the deeper code needs plausible ones.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        5 => "[A-Za-z][A-Za-z0-9 -]{0,11}",
        1 => unicode(),
    ]
    .boxed()
}

/// Hostile text or, often, one of `valid`: ids the memory knows, so that calls get past
/// their first check and reach deeper code.
fn or_known(valid: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        5 => select(valid).prop_map(str::to_owned),
        1 => unicode(),
    ]
    .boxed()
}

const PERFORMANCES: &[&str] = &["hamlet-1", "hamlet-2", "nutcracker-1"];

/// Ticket ids: the seeded memory's, a few more that calls issue and then refer to, and
/// hostile ones.
fn ticket_id() -> BoxedStrategy<String> {
    prop_oneof![
        3 => (0u8..10).prop_map(|n| format!("t-x{n}")),
        2 => select(&["t-1", "t-2", "t-3"][..]).prop_map(str::to_owned),
        1 => unicode(),
    ]
    .boxed()
}

/// Order ids, as [`ticket_id`].
fn order_id() -> BoxedStrategy<String> {
    prop_oneof![
        3 => (0u8..6).prop_map(|n| format!("o-x{n}")),
        2 => select(&["o-1", "o-2"][..]).prop_map(str::to_owned),
        1 => unicode(),
    ]
    .boxed()
}

/// Times from the start of chrono's range to its end, with the edges and year 0 and 9999.
fn time() -> BoxedStrategy<DateTime<Utc>> {
    let edge = |y, m, d, h, min, s| {
        Utc.with_ymd_and_hms(y, m, d, h, min, s)
            .single()
            .expect("valid time")
    };
    prop_oneof![
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
        1 => Just(edge(0, 1, 1, 0, 0, 0)),
        1 => Just(edge(9999, 12, 31, 23, 59, 59)),
        2 => (-62_000_000_000i64..253_000_000_000)
            .prop_map(|s| Utc.timestamp_opt(s, 0).single().expect("in range")),
        // 2023 to 2030, around the test catalog.
        10 => (1_700_000_000i64..1_900_000_000)
            .prop_map(|s| Utc.timestamp_opt(s, 0).single().expect("in range")),
    ]
    .boxed()
}

fn date() -> BoxedStrategy<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
    prop_oneof![
        1 => Just(NaiveDate::MIN),
        1 => Just(NaiveDate::MAX),
        1 => Just(NaiveDate::from_ymd_opt(0, 1, 1).expect("valid")),
        1 => Just(NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid")),
        2 => (-800_000i64..800_000).prop_map(move |d| epoch + TimeDelta::days(d)),
        // 1940 to 2030.
        10 => (-11_000i64..22_000).prop_map(move |d| epoch + TimeDelta::days(d)),
    ]
    .boxed()
}

fn money() -> BoxedStrategy<Money> {
    (
        prop_oneof![
            1 => Just(i64::MIN),
            1 => Just(i64::MAX),
            1 => Just(-1i64),
            1 => Just(0i64),
            1 => any::<i64>(),
            10 => 0i64..100_000,
        ],
        prop_oneof![
            4 => Just(Currency::GBP),
            1 => Just(Currency::EUR),
            1 => unicode().prop_map(|code| Currency::parse(&code).unwrap_or(Currency::USD)),
        ],
    )
        .prop_map(|(minor, currency)| Money::new(minor, currency))
        .boxed()
}

/// Signals with hostile text in every field (boxed: nested strategy types this deep
/// overflow a test thread's stack in debug builds).
fn hostile_signals() -> BoxedStrategy<Signals> {
    (
        (
            proptest::option::of(unicode()),
            proptest::option::of(unicode()),
            proptest::option::of(unicode()),
            proptest::option::of(unicode()),
            proptest::option::of(unicode()),
        ),
        (
            proptest::option::of(unicode()),
            proptest::option::of(unicode()),
            proptest::option::of(prop_oneof![Just("GB".to_owned()), unicode()]),
            proptest::option::of(unicode()),
            proptest::collection::vec((unicode(), unicode()), 0..3),
            proptest::option::of(date()),
        ),
    )
        .prop_map(
            |(
                (given, family, email, phone, street),
                (postcode, city, country, card, external, born),
            )| {
                let mut s = Signals::new();
                if let Some(v) = given {
                    s = s.given_name(v);
                }
                if let Some(v) = family {
                    s = s.family_name(v);
                }
                if let Some(v) = email {
                    s = s.email(v);
                }
                if let Some(v) = phone {
                    s = s.phone(v);
                }
                if let Some(v) = street {
                    s = s.street(v);
                }
                if let Some(v) = postcode {
                    s = s.postcode(v);
                }
                if let Some(v) = city {
                    s = s.city(v);
                }
                if let Some(v) = country {
                    s = s.country(v);
                }
                if let Some(v) = card {
                    s = s.card_token(v);
                }
                for (system, value) in external {
                    s = s.external_id(system, value);
                }
                if let Some(d) = born {
                    s = s.birth_date(d);
                }
                s
            },
        )
        .boxed()
}

/// A valid buyer most of the time, hostile signals otherwise.
fn signals() -> BoxedStrategy<Signals> {
    prop_oneof![
        5 => person(),
        1 => hostile_signals(),
    ]
    .boxed()
}

// Pools small enough that generated people often share names, e-mails and phones, so
// recognition has real decisions to make.
const GIVEN: &[&str] = &[
    "Ana", "Anna", "Ann", "Ben", "Benjamin", "Cleo", "Zoë", "ZOE",
];
const FAMILY: &[&str] = &[
    "Silva",
    "Silva-Jones",
    "Okafor",
    "O'Brien",
    "Marsh",
    "Śmith",
];
const EMAILS: &[&str] = &[
    "ana.silva@example.org",
    "Ana.Silva@EXAMPLE.org",
    "ben@example.net",
    "b.e.n+x@gmail.com",
    "ben@gmail.com",
    "cleo@example.com",
    "box-office@venue.example",
];
const PHONES: &[&str] = &[
    "020 7946 0018",
    "+44 20 7946 0018",
    "020 7946 0019",
    "07700 900123",
    "+1 415 555 0132",
];
const POSTCODES: &[&str] = &["SW1A 1AA", "sw1a1aa", "N1 9GU", "EC1A 1BB"];

/// A plausible person drawn from the pools; always with a name or an identifier.
fn person() -> BoxedStrategy<Signals> {
    (
        select(GIVEN),
        proptest::option::of(select(FAMILY)),
        proptest::option::of(select(EMAILS)),
        proptest::option::of(select(PHONES)),
        proptest::option::of(select(POSTCODES)),
        proptest::option::of((1950i32..2005, 1u32..13, 1u32..29)),
    )
        .prop_map(|(given, family, email, phone, postcode, born)| {
            let mut s = Signals::new().given_name(given);
            if let Some(v) = family {
                s = s.family_name(v);
            }
            if let Some(v) = email {
                s = s.email(v);
            }
            if let Some(v) = phone {
                s = s.phone(v);
            }
            if let Some(v) = postcode {
                s = s.postcode(v);
            }
            if let Some((y, m, d)) = born {
                s = s.birth_date(NaiveDate::from_ymd_opt(y, m, d).expect("valid date"));
            }
            s
        })
        .boxed()
}

fn memory() -> Memory {
    common::memory()
}

/// Orders by `people`, one each with a ticket, the first ticket scanned in.
fn populated(people: &[Signals]) -> Memory {
    let mut memory = memory();
    for (i, person) in people.iter().enumerate() {
        let performance = PERFORMANCES[i % PERFORMANCES.len()];
        let event = common::order(
            &format!("e-{i}"),
            &format!("o-{i}"),
            person.clone(),
            [common::seated(&format!("t-{i}"), performance, "A1")],
        );
        memory.observe(event).expect("pool people are valid");
    }
    if !people.is_empty() {
        common::scan_in(&mut memory, "scan-0", "t-0");
    }
    memory
}

// ---------------------------------------------------------------- normalizers

fn country() -> impl Strategy<Value = Country> {
    select(vec![
        Country::GB,
        Country::US,
        Country::IT,
        Country::HU,
        Country::RU,
        Country::JP,
        Country::KR,
        Country::SG,
        Country::FR,
        Country::DE,
        Country::parse("BR").expect("assigned"),
    ])
}

proptest! {
    #![proptest_config(config())]

    /// Normalizing a normalized value gives it back, for every normalizer and any text.
    #[test]
    fn normalizers_are_idempotent_and_total(raw in unicode(), home in country()) {
        if let Ok(once) = normalize::email(&raw) {
            prop_assert_eq!(normalize::email(&once), Ok(once.clone()));
        }
        if let Ok(once) = normalize::name(&raw) {
            prop_assert_eq!(normalize::name(&once), Ok(once.clone()));
        }
        if let Ok(once) = normalize::phone(&raw, home) {
            prop_assert_eq!(normalize::phone(&once, home), Ok(once.clone()));
            // E.164 reads the same from anywhere.
            prop_assert_eq!(normalize::phone(&once, Country::GB), Ok(once.clone()));
        }
        for place in [None, Some(home), Some(Country::US)] {
            if let Ok(once) = normalize::postcode(&raw, place) {
                prop_assert_eq!(normalize::postcode(&once, place), Ok(once.clone()));
            }
        }
        if let Ok(parsed) = Country::parse(&raw) {
            prop_assert_eq!(Country::parse(parsed.as_str()), Ok(parsed));
        }
    }

    /// What memory stores is in normal form: a patron's identifiers and name keys come
    /// back unchanged when fed through the normalizers again.
    #[test]
    fn stored_values_are_normalized(buyer in signals()) {
        let mut memory = memory();
        let Ok(seen) = memory.observe(common::order("e-1", "o-1", buyer, [])) else {
            return Ok(());
        };
        let patron = memory.patron(seen.patron()).expect("observed patron");
        for id in patron.identifiers() {
            let again = match id.kind() {
                regulars::IdentifierKind::Email => normalize::email(id.value()),
                regulars::IdentifierKind::Phone => normalize::phone(id.value(), Country::GB),
                _ => continue,
            };
            prop_assert_eq!(again.as_deref(), Ok(id.value()));
        }
        for name in patron.names() {
            if let (Some(raw), Some(key)) = (name.given(), name.given_key()) {
                prop_assert_eq!(normalize::name(raw), Ok(key.to_owned()));
                prop_assert_eq!(normalize::name(key), Ok(key.to_owned()));
            }
            if let (Some(raw), Some(key)) = (name.family(), name.family_key()) {
                prop_assert_eq!(normalize::name(raw), Ok(key.to_owned()));
            }
        }
        for address in patron.addresses() {
            if let Some(code) = address.postcode() {
                let place = address.country().or(Some(Country::GB));
                prop_assert_eq!(normalize::postcode(code, place), Ok(code.to_owned()));
            }
        }
    }
}

// ---------------------------------------------------------------- recognition

proptest! {
    #![proptest_config(config())]

    /// The same memory asked twice, and a second memory fed the same events (with its own
    /// hash seeds), give the same answer and the same explanation.
    #[test]
    fn recognition_is_deterministic(
        people in proptest::collection::vec(person(), 0..10),
        probes in proptest::collection::vec(signals(), 1..4),
    ) {
        let first = populated(&people);
        let second = populated(&people);
        let ids = |m: &Memory| m.patrons().map(|p| p.id()).collect::<Vec<_>>();
        prop_assert_eq!(ids(&first), ids(&second));
        for probe in &probes {
            let a = first.recognize(probe);
            let again = first.recognize(probe);
            let b = second.recognize(probe);
            match (a, again, b) {
                (Ok(a), Ok(again), Ok(b)) => {
                    for other in [&again, &b] {
                        prop_assert_eq!(a.decision(), other.decision());
                        prop_assert_eq!(a.known_patron(), other.known_patron());
                        prop_assert_eq!(a.household(), other.household());
                        prop_assert_eq!(a.explain(), other.explain());
                    }
                }
                (Err(a), Err(again), Err(b)) => {
                    prop_assert_eq!(&a, &again);
                    prop_assert_eq!(&a, &b);
                }
                (a, again, b) => {
                    prop_assert!(false, "answers differ: {:?} / {:?} / {:?}", a, again, b);
                }
            }
        }
    }

    /// Merging any two patrons and splitting them again leaves memory as it was.
    #[test]
    fn merge_then_split_restores_the_patrons(
        people in proptest::collection::vec(person(), 2..10),
        pick in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        later in proptest::option::of(person()),
    ) {
        let mut memory = populated(&people);
        let ids: Vec<PatronId> = memory.patrons().map(|p| p.id()).collect();
        let (survivor, absorbed) = (pick.0.get(&ids), pick.1.get(&ids));
        if survivor == absorbed {
            return Ok(());
        }
        let before = snapshot(&memory);
        prop_assert_eq!(memory.merge(*survivor, *absorbed), Ok(*survivor));
        prop_assert_eq!(memory.patron(*absorbed).map(|p| p.id()), Some(*survivor));
        prop_assert_eq!(memory.patron_count(), before.patron_count - 1);
        prop_assert_eq!(memory.split(*absorbed), Ok(*survivor));
        prop_assert_eq!(snapshot(&memory), before.clone());

        // Again, with an order arriving between merge and split: it stays with the
        // survivor, and the absorbed patron comes back as it was. (An order that proves
        // the merged patron the same person as a third one merges them automatically;
        // that case is left out, since the split then restores into the third.)
        if let Some(person) = later {
            memory.merge(*survivor, *absorbed).expect("merge again");
            let changes = memory.identity_changes(0).len();
            let seen = memory
                .observe(common::order("e-later", "o-later", person, []))
                .expect("a pool person");
            let merged = memory
                .identity_changes(changes)
                .iter()
                .any(|change| matches!(change, regulars::IdentityChange::Merged { .. }));
            if merged {
                return Ok(());
            }
            prop_assert_eq!(memory.split(*absorbed), Ok(*survivor));
            let after = snapshot(&memory);
            prop_assert_eq!(patron_in(&after, *absorbed), patron_in(&before, *absorbed));
            if seen.patron() != *survivor {
                prop_assert_eq!(patron_in(&after, *survivor), patron_in(&before, *survivor));
            } else {
                let orders = |s: &Snapshot| patron_in(s, *survivor).map(|p| p.stats.orders());
                prop_assert_eq!(orders(&after), orders(&before).map(|n| n + 1));
            }
        }
    }
}

fn patron_in(snapshot: &Snapshot, id: PatronId) -> Option<&common::PatronSnapshot> {
    snapshot.patrons.iter().find(|p| p.id == id)
}

// ---------------------------------------------------------------- no panics

/// One call to a public entry point of `Memory`.
#[derive(Debug, Clone)]
enum Call {
    Observe(Event),
    Recognize(Signals),
    UpdateProfile(u64, ProfileChange),
    DefineVenue(Venue),
    DefineProduction(Production),
    DefinePerformance(Performance),
    Merge(u64, u64),
    Split(u64),
    PinApart(u64, u64),
    PinTogether(u64, u64),
    ResolveReview(u64, Option<u64>),
    Erase(u64),
    Export(u64),
    OptOut(u64),
    OptIn(u64),
}

/// Event ids: mostly fresh, sometimes one already used (a replay or a conflict).
fn event_id() -> BoxedStrategy<String> {
    prop_oneof![
        8 => (0u32..1000).prop_map(|n| format!("ev-{n}")),
        1 => Just("e-1".to_owned()),
        1 => unicode(),
    ]
    .boxed()
}

fn ticket() -> BoxedStrategy<Ticket> {
    (
        // Mostly ids not issued yet, as a vendor's new tickets are.
        prop_oneof![
            5 => (0u8..10).prop_map(|n| format!("t-x{n}")),
            1 => ticket_id(),
        ],
        or_known(PERFORMANCES),
        proptest::option::of((text(), proptest::option::of(text()))),
        proptest::option::of(money()),
        proptest::option::of(signals()),
    )
        .prop_map(|(id, performance, seat, price, holder)| {
            let mut ticket = Ticket::new(id, performance);
            if let Some((label, section)) = seat {
                let mut seat = Seat::new(label);
                if let Some(section) = section {
                    seat = seat.in_section(section);
                }
                ticket = ticket.seat(seat);
            }
            if let Some(price) = price {
                ticket = ticket.price(price);
            }
            if let Some(holder) = holder {
                ticket = ticket.holder(holder);
            }
            ticket
        })
        .boxed()
}

/// An event of any kind, with hostile text in every field.
fn event() -> BoxedStrategy<Event> {
    let order = (
        order_id(),
        signals(),
        proptest::collection::vec(ticket(), 0..3),
    )
        .prop_map(|(id, buyer, tickets)| {
            Event::order(
                "",
                tickets
                    .into_iter()
                    .fold(Order::new(id, buyer), Order::ticket),
            )
        });
    let scan = (ticket_id(), any::<bool>(), proptest::option::of(text())).prop_map(
        |(ticket, entry, scan_id)| {
            let mut scan = if entry {
                Scan::entry(ticket)
            } else {
                Scan::exit(ticket)
            };
            if let Some(id) = scan_id {
                scan = scan.scan_id(id);
            }
            Event::scan("", scan)
        },
    );
    let refund = (
        order_id(),
        proptest::option::of(proptest::collection::vec(ticket_id(), 0..3)),
        proptest::option::of(money()),
    )
        .prop_map(|(order, tickets, amount)| {
            let mut refund = match tickets {
                Some(tickets) => Refund::tickets(order, tickets),
                None => Refund::whole_order(order),
            };
            if let Some(amount) = amount {
                refund = refund.amount(amount);
            }
            Event::refund("", refund)
        });
    let donation =
        (signals(), money(), proptest::option::of(text())).prop_map(|(donor, amount, fund)| {
            let mut donation = Donation::new(donor, amount);
            if let Some(fund) = fund {
                donation = donation.fund(fund);
            }
            Event::donation("", donation)
        });
    let membership = (
        signals(),
        text(),
        date(),
        date(),
        proptest::option::of(money()),
    )
        .prop_map(|(member, scheme, from, to, price)| {
            let mut membership = Membership::new(member, scheme, from, to);
            if let Some(price) = price {
                membership = membership.price(price);
            }
            Event::membership("", membership)
        });
    let purchase = (
        signals(),
        proptest::option::of(or_known(PERFORMANCES)),
        proptest::collection::vec((text(), any::<u32>(), money()), 0..3),
    )
        .prop_map(|(customer, performance, items)| {
            let mut purchase = Purchase::new(customer);
            if let Some(performance) = performance {
                purchase = purchase.at_performance(performance);
            }
            for (sku, quantity, price) in items {
                purchase = purchase.item(LineItem::new(sku, quantity, price));
            }
            Event::purchase("", purchase)
        });
    (
        event_id(),
        prop_oneof![
            order.boxed(),
            scan.boxed(),
            refund.boxed(),
            donation.boxed(),
            membership.boxed(),
            purchase.boxed(),
        ],
        proptest::option::of(time()),
    )
        .prop_map(|(id, event, at)| {
            let event = Event::new(id, event.kind().clone());
            match at {
                Some(at) => event.at(at),
                None => event,
            }
        })
        .boxed()
}

/// Patron ids: the ones memory hands out first, and any other.
fn patron_id() -> BoxedStrategy<u64> {
    prop_oneof![3 => 1u64..6, 1 => any::<u64>()].boxed()
}

fn profile_change() -> BoxedStrategy<ProfileChange> {
    let channel = select(vec![
        Channel::Email,
        Channel::Sms,
        Channel::Phone,
        Channel::Post,
        Channel::InPerson,
    ]);
    let purpose = select(vec![
        Purpose::Operational,
        Purpose::Personalisation,
        Purpose::Marketing,
    ]);
    let kind = prop_oneof![
        Just(FlagKind::AccessNeeds),
        Just(FlagKind::Vip),
        text().prop_map(FlagKind::Custom),
    ];
    prop_oneof![
        proptest::option::of(prop_oneof![
            Just(SeatPreference::aisle()),
            text().prop_map(SeatPreference::section_only),
        ])
        .prop_map(ProfileChange::SeatPreference),
        any::<bool>().prop_map(ProfileChange::PrefersNoFuss),
        (text(), proptest::option::of(text()))
            .prop_map(|(key, value)| ProfileChange::CustomPreference { key, value }),
        (channel, purpose, any::<bool>(), time()).prop_map(|(c, p, granted, at)| {
            ProfileChange::Consent(if granted {
                Consent::granted(c, p, at)
            } else {
                Consent::withdrawn(c, p, at)
            })
        }),
        (
            kind.clone(),
            proptest::option::of(text()),
            proptest::option::of(date()),
            proptest::option::of(date()),
        )
            .prop_map(|(kind, detail, from, until)| {
                let mut flag = Flag::new(kind);
                if let Some(detail) = detail {
                    flag = flag.detail(detail);
                }
                if let Some(from) = from {
                    flag = flag.from(from);
                }
                if let Some(until) = until {
                    flag = flag.until(until);
                }
                ProfileChange::AddFlag(flag)
            }),
        kind.prop_map(ProfileChange::RemoveFlag),
        (text(), time(), proptest::option::of(text())).prop_map(|(text, at, author)| {
            let mut note = Note::new(text, at);
            if let Some(author) = author {
                note = note.by(author);
            }
            ProfileChange::AddNote(note)
        }),
    ]
    .boxed()
}

fn call() -> BoxedStrategy<Call> {
    prop_oneof![
        6 => event().prop_map(Call::Observe),
        1 => signals().prop_map(Call::Recognize),
        2 => (patron_id(), profile_change()).prop_map(|(p, c)| Call::UpdateProfile(p, c)),
        1 => (or_known(&["main"]), text())
            .prop_map(|(id, name)| Call::DefineVenue(Venue::new(id, name))),
        1 => (or_known(&["hamlet"]), text(), proptest::collection::vec(text(), 0..2))
            .prop_map(|(id, title, genres)| {
                Call::DefineProduction(
                    genres.iter().fold(Production::new(id, title), |p, g| p.genre(g)),
                )
            }),
        1 => (or_known(PERFORMANCES), or_known(&["hamlet", "nutcracker"]), or_known(&["main"]), time())
            .prop_map(|(id, production, venue, at)| {
                Call::DefinePerformance(Performance::new(id, production, venue, at))
            }),
        1 => (patron_id(), patron_id()).prop_map(|(a, b)| Call::Merge(a, b)),
        1 => patron_id().prop_map(Call::Split),
        1 => (patron_id(), patron_id()).prop_map(|(a, b)| Call::PinApart(a, b)),
        1 => (patron_id(), patron_id()).prop_map(|(a, b)| Call::PinTogether(a, b)),
        1 => (prop_oneof![0u64..4, any::<u64>()], proptest::option::of(patron_id()))
            .prop_map(|(r, p)| Call::ResolveReview(r, p)),
        1 => patron_id().prop_map(Call::Erase),
        1 => patron_id().prop_map(Call::Export),
        1 => patron_id().prop_map(Call::OptOut),
        1 => patron_id().prop_map(Call::OptIn),
    ]
    .boxed()
}

/// Runs `call`; a call that fails must leave memory as it was.
fn apply(memory: &mut Memory, call: Call) -> Result<(), TestCaseError> {
    let before = snapshot(memory);
    let failed = match call {
        Call::Observe(event) => match memory.observe(event) {
            Ok(seen) => {
                // A door scan of an erased person's ticket still works and names
                // their tombstone.
                prop_assert!(
                    memory.patron(seen.patron()).is_some() || memory.is_erased(seen.patron())
                );
                None
            }
            Err(e) => Some(e),
        },
        Call::Recognize(signals) => {
            let outcome = memory.recognize(&signals).err();
            // Read-only, whatever the answer.
            prop_assert_eq!(snapshot(memory), before.clone());
            outcome
        }
        Call::UpdateProfile(patron, change) => memory
            .update_profile(PatronId::from_u64(patron), change)
            .err(),
        Call::DefineVenue(venue) => memory.define_venue(venue).err(),
        Call::DefineProduction(production) => memory.define_production(production).err(),
        Call::DefinePerformance(performance) => memory.define_performance(performance).err(),
        Call::Merge(a, b) => memory
            .merge(PatronId::from_u64(a), PatronId::from_u64(b))
            .err(),
        Call::Split(a) => memory.split(PatronId::from_u64(a)).err(),
        Call::PinApart(a, b) => memory
            .pin_apart(PatronId::from_u64(a), PatronId::from_u64(b))
            .err(),
        Call::PinTogether(a, b) => memory
            .pin_together(PatronId::from_u64(a), PatronId::from_u64(b))
            .err(),
        Call::ResolveReview(review, same) => {
            let decision = match same {
                Some(p) => ReviewDecision::SamePerson(PatronId::from_u64(p)),
                None => ReviewDecision::Different,
            };
            memory.resolve_review(review, decision).err()
        }
        Call::Erase(patron) => memory.erase(PatronId::from_u64(patron)).err(),
        Call::Export(patron) => {
            let outcome = memory.export(PatronId::from_u64(patron));
            // Read-only, and what it gives is a JSON document.
            prop_assert_eq!(snapshot(memory), before.clone());
            match outcome {
                Ok(export) => {
                    let json = export.to_json();
                    prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
                    None
                }
                Err(e) => Some(e),
            }
        }
        Call::OptOut(patron) => memory.opt_out(PatronId::from_u64(patron)).err(),
        Call::OptIn(patron) => memory.opt_in(PatronId::from_u64(patron)).err(),
    };
    if let Some(error) = failed {
        prop_assert!(!error.to_string().is_empty());
        prop_assert_eq!(
            snapshot(memory),
            before,
            "a failed call changed memory: {}",
            error
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any sequence of calls with hostile arguments, on a memory that already holds
    /// patrons, tickets and a scan: no call panics, and a failed one changes nothing.
    #[test]
    fn no_entry_point_panics(calls in proptest::collection::vec(call(), 1..12)) {
        let mut memory = common::memory();
        common::observe(&mut memory, common::order("e-1", "o-1", common::ana(), [common::seated("t-1", "hamlet-1", "F12"), common::ticket("t-2", "hamlet-2")]));
        common::observe(&mut memory, common::order("e-2", "o-2", common::ben(), [common::ticket("t-3", "hamlet-1")]));
        common::scan_in(&mut memory, "e-3", "t-1");
        for call in calls {
            apply(&mut memory, call)?;
        }
        // Everything memory answers about itself still works.
        for patron in memory.patrons() {
            let _ = (patron.stats(), patron.history(), patron.household().count(), patron.genres());
        }
        let _ = memory.reviews().count();
        let _ = memory.identity_changes(0).len();
        let mut options = TrainingOptions::default();
        options.random_pairs = 200;
        let _ = memory.train(&options);
    }

    /// A CSV export of hostile values is read and observed row by row without a panic.
    #[test]
    fn import_of_hostile_values_never_panics(
        header in proptest::collection::vec(select(regulars::import::COLUMNS.to_vec()), 1..8),
        rows in proptest::collection::vec(proptest::collection::vec(unicode(), 8), 0..4),
        clock_at in time(),
    ) {
        let mut csv = String::from("record_id");
        for column in &header {
            csv.push(',');
            csv.push_str(column);
        }
        csv.push('\n');
        for row in &rows {
            for (i, value) in row.iter().take(header.len() + 1).enumerate() {
                if i > 0 {
                    csv.push(',');
                }
                csv.push('"');
                csv.push_str(&value.replace('"', "\"\""));
                csv.push('"');
            }
            csv.push('\n');
        }
        let Ok(reader) = OrderCsv::from_reader(csv.as_bytes()) else {
            // A header naming a column twice.
            return Ok(());
        };
        let mut memory = Memory::builder()
            .default_country(Country::GB)
            .clock(ManualClock::new(clock_at))
            .build()
            .expect("valid configuration");
        for row in reader {
            match row {
                Ok(record) => {
                    let line = record.line();
                    if let Err(e) = memory.observe(record.into_event()) {
                        let e = regulars::import::ImportError::from_observe(line, &e);
                        prop_assert_eq!(e.line(), Some(line));
                    }
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}
