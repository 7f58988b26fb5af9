//! The mailbox checks every compared e-mail goes through ([`local_is_name`] and
//! [`is_household_mailbox`]) must answer as they did when first written, for every
//! record's names and every mailbox: recognition decides on their answers.

use super::*;
use crate::model::profile::{Address, PersonName};
use proptest::prelude::{ProptestConfig, prop_assert_eq, proptest};
use proptest::strategy::Strategy as _;

/// [`local_is_name`] as first written: the local part's letters walked again for each
/// spelling.
fn local_is_name_as_first_written(
    email: &compare::PreparedEmail<'_>,
    side: &SignalSide<'_>,
) -> bool {
    let Some(local) = email.untagged_local() else {
        return false;
    };
    let local = local.as_bytes();
    let local_letters = || local.iter().copied().filter(u8::is_ascii_lowercase);
    let count = local_letters().count();
    let names = side.name_letters();
    let (g, f) = (names.given.as_slice(), names.family.as_slice());
    let (gi, fi) = (&g[..g.len().min(1)], &f[..f.len().min(1)]);
    let spelled = |a: &[u8], b: &[u8]| {
        a.len() + b.len() > 0
            && count == a.len() + b.len()
            && local_letters().eq(a.iter().chain(b).copied())
    };
    spelled(g, f)
        || spelled(f, g)
        || spelled(gi, f)
        || spelled(f, gi)
        || spelled(g, fi)
        || spelled(g, &[])
        || spelled(f, &[])
}

/// [`is_household_mailbox`] as first written: the letters counted, copied, and the
/// family name cut out into a second copy.
fn is_household_mailbox_as_first_written(
    email: &compare::PreparedEmail<'_>,
    side: &SignalSide<'_>,
) -> bool {
    let names = side.name_letters();
    let family = &names.family;
    if family.len() < 3 {
        return false;
    }
    let Some(local) = email.untagged_local() else {
        return false;
    };
    if local.bytes().filter(u8::is_ascii_lowercase).count() < family.len() + 3 {
        return false;
    }
    let local = letters(local);
    let Some(at) = find_word(&local, family) else {
        return false;
    };
    let mut rest = Letters::from_slice(&local[..at]);
    rest.extend_from_slice(&local[at + family.len()..]);
    let has = |word: &[u8]| find_word(&rest, word).is_some();
    if rest.starts_with(b"the") || has(b"family") || has(b"home") {
        return true;
    }
    let given = &names.first_given;
    given.len() >= 3 && has(given) && rest.len() >= given.len() + 3
}

fn signals(given: Option<&str>, family: Option<&str>) -> NormalizedSignals {
    let name = PersonName::new(given.map(|g| (g, g)), family.map(|f| (f, f)));
    NormalizedSignals::from_parts(Some(name), [], Address::new(None, None, None, None), None)
}

const GIVEN: &[&str] = &["anna", "jo", "mary", "anna maria", "j", "john", "florence"];
const FAMILY: &[&str] = &["berg", "li", "smith", "van den berg", "o'neil", "smithson"];
/// Pieces a mailbox is put together from: the names' own letters, household words,
/// separators and digits, so that every branch of both checks is reached often.
const PIECES: &[&str] = &[
    "anna",
    "a",
    "jo",
    "j",
    "mary",
    "m",
    "john",
    "florence",
    "f",
    "berg",
    "b",
    "li",
    "l",
    "smith",
    "s",
    "vandenberg",
    "v",
    "oneil",
    "o",
    "smithson",
    "the",
    "family",
    "home",
    "fam",
    "s",
    ".",
    "_",
    "-",
    "84",
    "1",
    "x",
];

fn local_part() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..6)
        .prop_map(|pieces| pieces.concat())
        .boxed()
        .prop_union(
            proptest::string::string_regex("[a-z0-9._-]{0,40}")
                .expect("a valid pattern")
                .boxed(),
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn mailbox_checks_answer_as_first_written(
        given in proptest::option::of(proptest::sample::select(GIVEN)),
        family in proptest::option::of(proptest::sample::select(FAMILY)),
        local in local_part(),
        tag in proptest::option::of("[a-z]{1,5}"),
    ) {
        let signals = signals(given, family);
        let side = SignalSide::new(&signals, None);
        let address = match tag {
            Some(tag) => format!("{local}+{tag}@example.org"),
            None => format!("{local}@example.org"),
        };
        let email = compare::PreparedEmail::new(&address);
        prop_assert_eq!(
            local_is_name(&email, &side),
            local_is_name_as_first_written(&email, &side),
            "local_is_name of {}", address
        );
        prop_assert_eq!(
            is_household_mailbox(&email, &side),
            is_household_mailbox_as_first_written(&email, &side),
            "is_household_mailbox of {}", address
        );
    }
}

/// The spellings and household forms the checks exist for, so the comparison above is
/// not only of two wrong answers.
#[test]
fn mailbox_checks_know_a_name_and_a_household() {
    let signals = signals(Some("anna"), Some("berg"));
    let side = SignalSide::new(&signals, None);
    let check = |address: &str| {
        let email = compare::PreparedEmail::new(address);
        (
            local_is_name(&email, &side),
            is_household_mailbox(&email, &side),
        )
    };
    assert_eq!(check("anna.berg@example.org"), (true, false));
    assert_eq!(check("berg.a@example.org"), (true, false));
    assert_eq!(check("anna.berg84+tix@example.org"), (true, false));
    assert_eq!(check("annab@example.org"), (true, false));
    assert_eq!(check("annaberger@example.org"), (false, false));
    assert_eq!(check("thebergs@example.org"), (false, true));
    assert_eq!(check("berg.family@example.org"), (false, true));
    assert_eq!(check("anna.mary.berg@example.org"), (false, true));
    assert_eq!(check("mary.berg@example.org"), (false, false));
}
