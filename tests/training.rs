//! Training the person model on memory itself: determinism, sensible weights, the
//! explanation, and an empty memory.

use chrono::{NaiveDate, TimeZone, Utc};
use regulars::normalize::Country;
use regulars::{
    Event, Field, Level, ManualClock, Memory, Order, PersonMatcher, PersonModel, Signals, Training,
    TrainingOptions,
};

/// Given names, most common first; the first five have nicknames.
const GIVEN: [&str; 40] = [
    "Robert",
    "William",
    "Elizabeth",
    "Katherine",
    "Michael",
    "Sarah",
    "James",
    "Emma",
    "David",
    "Laura",
    "Thomas",
    "Hannah",
    "Daniel",
    "Sophie",
    "Oliver",
    "Chloe",
    "Samuel",
    "Grace",
    "Joseph",
    "Amelia",
    "Ana",
    "Benedict",
    "Cleo",
    "Farah",
    "George",
    "Ivan",
    "Julia",
    "Kwame",
    "Mateo",
    "Nadia",
    "Priya",
    "Quentin",
    "Rosa",
    "Tobias",
    "Ursula",
    "Viktor",
    "Wendy",
    "Xavier",
    "Yasmin",
    "Zoltan",
];
const NICK: [&str; 5] = ["Bob", "Bill", "Liz", "Kate", "Mike"];
const FAMILY_START: [&str; 12] = [
    "Ash", "Bram", "Carl", "Dun", "Elm", "Fair", "Gold", "Hart", "Kings", "Lang", "Mor", "Nor",
];
const FAMILY_END: [&str; 12] = [
    "ford", "well", "ton", "by", "ley", "worth", "field", "wood", "ham", "stead", "more", "croft",
];
const STREETS: [&str; 10] = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "Mill Road",
    "Victoria Street",
    "Green Lane",
    "Manor Road",
    "Kings Road",
    "Queens Walk",
];
const AREAS: [&str; 8] = ["SW", "SE", "N", "E", "W", "NW", "EC", "WC"];
const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A well-mixed number for person `i` (SplitMix64 of `i` and a salt).
fn mix(i: usize, salt: u64) -> usize {
    let mut z = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as usize
}

/// A skewed pick in `0..n`: low indexes are common, as with real names.
fn skewed(i: usize, salt: u64, n: usize) -> usize {
    let x = (mix(i, salt) % 10_000) as f64 / 10_000.0;
    ((x * x * n as f64) as usize).min(n - 1)
}

/// Everything about person `i`. Every tenth person shares a household (family name,
/// address, phone) with the one before.
struct Person {
    given: &'static str,
    family: String,
    email: String,
    phone: Option<String>,
    street: String,
    postcode: String,
    birth: Option<NaiveDate>,
}

fn person(i: usize, people: usize) -> Person {
    let home = if i % 10 == 1 { i - 1 } else { i };
    let family = format!(
        "{}{}",
        FAMILY_START[skewed(home, 1, FAMILY_START.len())],
        FAMILY_END[mix(home, 2) % FAMILY_END.len()]
    );
    let given = GIVEN[skewed(i, 3, GIVEN.len())];
    // About eight people to a street, one postcode per street.
    let street_no = mix(home, 4) % (people / 8).max(1);
    let letter = |k: usize| LETTERS[k % LETTERS.len()] as char;
    let postcode = format!(
        "{}{} {}{}{}",
        AREAS[street_no % AREAS.len()],
        1 + street_no / AREAS.len() % 20,
        1 + street_no % 9,
        letter(street_no / 7),
        letter(street_no / 3)
    );
    let street = format!(
        "{} {}",
        1 + mix(home, 5) % 150,
        STREETS[street_no % STREETS.len()]
    );
    let phone = (mix(home, 6) % 10 < 3).then(|| format!("07700 9{:05}", home % 100_000));
    let birth = (mix(i, 7) % 10 < 6).then(|| {
        NaiveDate::from_ymd_opt(
            1940 + (mix(i, 8) % 65) as i32,
            1 + (mix(i, 9) % 12) as u32,
            1 + (mix(i, 10) % 28) as u32,
        )
        .expect("valid date")
    });
    Person {
        given,
        email: format!(
            "{}.{}{i}@example.org",
            given.to_lowercase(),
            family.to_lowercase()
        ),
        family,
        phone,
        street,
        postcode,
        birth,
    }
}

/// Person `i` as first seen.
fn first_seen(p: &Person) -> Signals {
    let mut s = Signals::new()
        .given_name(p.given)
        .family_name(&p.family)
        .email(&p.email)
        .postcode(&p.postcode)
        .street(&p.street);
    if let Some(phone) = &p.phone {
        s = s.phone(phone);
    }
    if let Some(date) = p.birth {
        s = s.birth_date(date);
    }
    s
}

/// Person `i` seen again, differently: memory links some of these, the others stay
/// duplicates for training to find.
fn seen_again(i: usize, p: &Person) -> Signals {
    match (i / 5) % 5 {
        // A nickname, the same e-mail.
        0 => {
            let nick = GIVEN
                .iter()
                .position(|g| *g == p.given)
                .and_then(|k| NICK.get(k));
            Signals::new()
                .given_name(*nick.unwrap_or(&p.given))
                .family_name(&p.family)
                .email(&p.email)
        }
        // The same name, a new e-mail, the same address and birth date.
        1 => {
            let mut s = Signals::new()
                .given_name(p.given)
                .family_name(&p.family)
                .email(format!("{}{i}@mail.example.net", p.given.to_lowercase()))
                .postcode(&p.postcode)
                .street(&p.street);
            if let Some(date) = p.birth {
                s = s.birth_date(date);
            }
            s
        }
        // A typo in the family name, a new e-mail, the postcode only.
        2 => Signals::new()
            .given_name(p.given)
            .family_name(format!("{}e", p.family))
            .email(format!("{}.{i}@web.example.com", p.given.to_lowercase()))
            .postcode(&p.postcode),
        // Initial only, the same e-mail, a new address.
        3 => Signals::new()
            .given_name(&p.given[..1])
            .family_name(&p.family)
            .email(&p.email)
            .postcode("EH1 1YZ")
            .street("5 Royal Mile"),
        // The same name and birth date, a new e-mail, nothing else.
        _ => {
            let mut s = Signals::new()
                .given_name(p.given)
                .family_name(&p.family)
                .email(format!("{}{i}@other.example.com", p.family.to_lowercase()));
            if let Some(date) = p.birth {
                s = s.birth_date(date);
            }
            s
        }
    }
}

/// A memory of `people` people, one in five seen twice.
fn synthetic(people: usize) -> Memory {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 2, 1, 10, 0, 0).unwrap());
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        .clock(clock)
        .without_default_rules()
        .build()
        .expect("valid configuration");
    let mut event = 0;
    let mut observe = |memory: &mut Memory, signals: Signals| {
        event += 1;
        memory
            .observe(Event::order(
                format!("e-{event}"),
                Order::new(format!("o-{event}"), signals),
            ))
            .expect("valid order");
    };
    for i in 0..people {
        observe(&mut memory, first_seen(&person(i, people)));
    }
    for i in (0..people).step_by(5) {
        observe(&mut memory, seen_again(i, &person(i, people)));
    }
    memory
}

/// Equal JSON values, floats to within a relative 1e-12.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn options() -> TrainingOptions {
    TrainingOptions::default().random_pairs(5_000)
}

#[test]
fn training_is_deterministic_and_round_trips() {
    let memory = synthetic(600);
    let first = memory.train(&options());
    let second = memory.train(&options());
    assert_eq!(first, second);
    assert!(first.blocked_pairs() > 0 && first.random_pairs() == 5_000);

    let json = serde_json::to_string(&first).expect("serializes");
    let back: Training = serde_json::from_str(&json).expect("deserializes");
    // serde_json reads floats back to within one unit in the last place unless its
    // `float_roundtrip` feature is on; everything else comes back identical.
    assert!(
        same(
            &serde_json::to_value(&back).expect("serializes"),
            &serde_json::to_value(&first).expect("serializes")
        ),
        "{json}"
    );

    // Another seed samples other random pairs.
    let other = memory.train(&options().seed(99));
    assert_ne!(other.model(), first.model());

    let options_json = serde_json::to_string(&options()).expect("serializes");
    let options_back: TrainingOptions = serde_json::from_str(&options_json).expect("deserializes");
    assert_eq!(options_back, options());
    // Missing keys take their defaults.
    let partial: TrainingOptions = serde_json::from_str(r#"{"seed": 3}"#).expect("deserializes");
    assert_eq!(partial, TrainingOptions::default().seed(3));
}

#[test]
fn trained_weights_keep_their_order() {
    let memory = synthetic(1_500);
    let training = memory.train(&options());
    println!("{}", training.explain());
    let model = training.model();
    let bits = |field, level| model.bits(field, level).expect("the model has this level");

    assert!(bits(Field::Email, Level::Exact) > 0.0);
    assert!(bits(Field::GivenName, Level::Exact) > 0.0);
    assert!(bits(Field::FamilyName, Level::Exact) > 0.0);
    for comparison in &model.comparisons {
        let different = comparison
            .level(Level::Different)
            .expect("every comparison can disagree");
        assert!(
            different.bits() < 0.0,
            "{}: different weighs {:.2} bits\n{}",
            comparison.field.name(),
            different.bits(),
            training.explain()
        );
        if let Some(exact) = comparison.level(Level::Exact) {
            assert!(
                exact.bits() > different.bits(),
                "{}",
                comparison.field.name()
            );
        }
        for level in &comparison.levels {
            assert!(level.m > 0.0 && level.m < 1.0 && level.u > 0.0 && level.u < 1.0);
        }
    }
    assert!(training.match_share() > 0.0 && training.match_share() < 1.0);
    assert!(training.iterations() >= 1);
    assert!(training.variant_pairs() > 0);

    // Two mailboxes of one name are seen only between people who share the name: random
    // pairs cannot estimate them, so training keeps the starting rates (still against).
    let start = options().starting_model;
    assert_eq!(
        model
            .comparison(Field::Email)
            .and_then(|c| c.level(Level::NamesakeMailbox)),
        start
            .comparison(Field::Email)
            .and_then(|c| c.level(Level::NamesakeMailbox))
    );
    assert!(bits(Field::Email, Level::NamesakeMailbox) < bits(Field::Email, Level::Different));

    // A trained model drives a strategy.
    let matcher = PersonMatcher::with_model(training.model().clone());
    assert_eq!(matcher.model(), training.model());
}

#[test]
fn explain_lists_every_comparison() {
    let memory = synthetic(200);
    let training = memory.train(&options());
    let table = training.explain();
    for comparison in &training.model().comparisons {
        assert!(
            table.contains(comparison.field.name()),
            "{} missing:\n{table}",
            comparison.field.name()
        );
        for level in &comparison.levels {
            assert!(table.contains(level.level.name()));
        }
    }
    assert_eq!(
        training.changes().len(),
        training
            .model()
            .comparisons
            .iter()
            .map(|c| c.levels.len())
            .sum::<usize>()
    );
}

#[test]
fn an_empty_memory_gives_back_the_starting_model() {
    let memory = Memory::new();
    let training = memory.train(&TrainingOptions::default());
    assert_eq!(training.model(), &PersonModel::default());
    assert_eq!(training.blocked_pairs(), 0);
    assert_eq!(training.random_pairs(), 0);
    assert!(!training.explain().is_empty());

    // A starting model of one's own comes back as given.
    let start = PersonModel {
        frequency_prior: 42.0,
        ..PersonModel::default()
    };
    let training = memory.train(&TrainingOptions::default().starting_model(start.clone()));
    assert_eq!(training.model(), &start);
}
