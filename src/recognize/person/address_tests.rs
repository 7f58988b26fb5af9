//! Comparing a record with no address leaves the patron's addresses unread (see
//! [`ProfileKeys::refill_but_addresses`]): the evidence must be the evidence reading every
//! address gives, for every patron and every record.

use super::*;
use crate::{Event, Memory, Order, Signals};
use proptest::prelude::{ProptestConfig, prop_assert, prop_assert_eq, proptest};
use proptest::strategy::Strategy as _;

/// [`PersonMatcher::compare`] with every part of the patron's block read, as it was before
/// records without an address left the addresses out.
fn compare_reading_every_address(
    person: &PersonMatcher,
    prepared: &Prepared<'_>,
    patron: &PatronView<'_>,
) -> Evidence {
    let block = prepared.index.comparison_keys(patron);
    let mut keys = ProfileKeys::default();
    keys.refill(block, patron);
    let street = prepared.side.street_read();
    let mut out = Evidence::new();
    push_levels(
        &prepared.side,
        street.as_ref(),
        &keys,
        &mut |field, level| {
            out.push(person.item(field, level, prepared));
        },
    );
    person.withhold_unheard_bonus(&mut out);
    out
}

/// One person's values, each drawn from a small pool so that records and patrons share
/// names, mailboxes and homes often.
#[derive(Clone, Debug)]
struct Person {
    given: Option<&'static str>,
    family: Option<&'static str>,
    email: Option<&'static str>,
    phone: Option<&'static str>,
    street: Option<&'static str>,
    postcode: Option<&'static str>,
    country: Option<&'static str>,
    born: Option<(i32, u32, u32)>,
}

impl Person {
    fn signals(&self) -> Signals {
        let mut signals = Signals::new();
        if let Some(given) = self.given {
            signals = signals.given_name(given);
        }
        if let Some(family) = self.family {
            signals = signals.family_name(family);
        }
        if let Some(email) = self.email {
            signals = signals.email(email);
        }
        if let Some(phone) = self.phone {
            signals = signals.phone(phone);
        }
        if let Some(street) = self.street {
            signals = signals.street(street);
        }
        if let Some(postcode) = self.postcode {
            signals = signals.postcode(postcode);
        }
        if let Some(country) = self.country {
            signals = signals.country(country);
        }
        if let Some(born) = self
            .born
            .and_then(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d))
        {
            signals = signals.birth_date(born);
        }
        signals
    }
}

fn person(with_address: bool) -> impl proptest::strategy::Strategy<Value = Person> {
    let pick =
        |values: &'static [&'static str]| proptest::option::of(proptest::sample::select(values));
    let address = |values: &'static [&'static str]| {
        pick(values).prop_map(move |value| value.filter(|_| with_address))
    };
    (
        pick(&["Ana", "Anna", "Ana Maria", "A", "Lindqvist"]),
        pick(&["Lindqvist", "Lindquist", "Garcia Ruiz", "Garcia", "Ana"]),
        pick(&[
            "ana.lindqvist@example.org",
            "ana.lindqvist84@example.org",
            "ana+tickets@example.org",
            "lindqvistfamily@example.net",
        ]),
        pick(&["+44 20 7946 0311", "+44 7700 900123", "+44 20 7946 0312"]),
        address(&["12 Elm Road", "12 Elm Rd", "3 Oak Lane"]),
        address(&["SW1A 1AA", "SW1A 1AB", "EC1A 1BB"]),
        address(&["GB", "SE", "IE"]),
        proptest::option::of((1980..1986i32, 1..3u32, 1..3u32)),
    )
        .prop_map(
            |(given, family, email, phone, street, postcode, country, born)| Person {
                given,
                family,
                email,
                phone,
                street,
                postcode,
                country,
                born,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every patron compares with a record lacking an address (and with one, which reads
    /// every address as before) exactly as reading the whole of their block does: the
    /// same items, details and weights.
    #[test]
    fn a_record_without_an_address_compares_as_reading_every_address(
        people in proptest::collection::vec(person(true), 1..6),
        record in person(false),
        record_with_address in person(true),
    ) {
        let mut memory = Memory::new();
        for (at, person) in people.iter().enumerate() {
            let order = Order::new(format!("o-{at}"), person.signals());
            // Records memory refuses (nothing to know anyone by) are left out.
            let _ = memory.observe(Event::order(format!("e-{at}"), order));
        }
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let location = |field: &str| field.to_owned();
        let limits = crate::memory::Limits::default();
        let matcher = PersonMatcher::default();
        for query in [&record, &record_with_address] {
            let Ok(signals) = query
                .signals()
                .normalize(None, today, &limits, &location, false)
            else {
                continue;
            };
            let prepared = Prepared::new(&signals, memory.index_view());
            if std::ptr::eq(query, &record) {
                prop_assert!(!prepared.side.compares_addresses);
            }
            for id in 1..=memory.patron_count() as u64 {
                let Some(patron) = memory.patron(PatronId::from_u64(id)) else {
                    continue;
                };
                let mut evidence = Evidence::new();
                matcher.compare(&prepared, &patron, &mut evidence);
                let every_address = compare_reading_every_address(&matcher, &prepared, &patron);
                prop_assert_eq!(&evidence, &every_address, "patron {}", id);
            }
        }
    }
}
