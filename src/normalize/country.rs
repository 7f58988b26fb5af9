//! ISO 3166-1 alpha-2 country codes, and the telephone numbering facts the phone
//! normalizer needs for the countries it supports.

use super::Rejection;
use core::fmt;
use core::str::FromStr;

/// A country, as its ISO 3166-1 alpha-2 code (`GB`, `US`, `DE`, …).
///
/// Only codes ISO has assigned are accepted, plus `XK` (Kosovo), which is user-assigned
/// but used everywhere. It serializes as the two-letter uppercase string, and
/// deserializing goes through [`Country::parse`], so an invalid code is an error.
///
/// ```
/// use regulars::normalize::Country;
///
/// assert_eq!(Country::parse(" gb ")?, Country::GB);
/// assert_eq!(Country::GB.as_str(), "GB");
/// # Ok::<(), regulars::normalize::Rejection>(())
/// ```
// Debug is written by hand to show the code as text rather than as two bytes.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

macro_rules! countries {
    ($($code:ident: $name:literal),* $(,)?) => {
        impl Country {
            $(
                #[doc = $name]
                pub const $code: Country = Country::from_const(stringify!($code));
            )*
        }
    };
}

countries! {
    AE: "United Arab Emirates.",
    AT: "Austria.",
    AU: "Australia.",
    BE: "Belgium.",
    BG: "Bulgaria.",
    CA: "Canada.",
    CH: "Switzerland.",
    CN: "China.",
    CY: "Cyprus.",
    CZ: "Czechia.",
    DE: "Germany.",
    DK: "Denmark.",
    EE: "Estonia.",
    ES: "Spain.",
    FI: "Finland.",
    FR: "France.",
    GB: "United Kingdom.",
    GR: "Greece.",
    HK: "Hong Kong.",
    HR: "Croatia.",
    HU: "Hungary.",
    IE: "Ireland.",
    IL: "Israel.",
    IN: "India.",
    IS: "Iceland.",
    IT: "Italy.",
    JP: "Japan.",
    KR: "South Korea.",
    LU: "Luxembourg.",
    LV: "Latvia.",
    MT: "Malta.",
    MX: "Mexico.",
    NL: "Netherlands.",
    NO: "Norway.",
    NZ: "New Zealand.",
    PL: "Poland.",
    PT: "Portugal.",
    RO: "Romania.",
    RU: "Russia.",
    SE: "Sweden.",
    SG: "Singapore.",
    SI: "Slovenia.",
    SK: "Slovakia.",
    TR: "Türkiye.",
    UA: "Ukraine.",
    US: "United States.",
    ZA: "South Africa.",
}

impl Country {
    /// The constants' constructor; evaluated at compile time, so a bad code fails the build.
    const fn from_const(code: &str) -> Country {
        let bytes = code.as_bytes();
        assert!(bytes.len() == 2 && bytes[0].is_ascii_uppercase() && bytes[1].is_ascii_uppercase());
        Country([bytes[0], bytes[1]])
    }

    /// Parses a two-letter ISO 3166-1 alpha-2 code, ignoring case and surrounding
    /// whitespace.
    ///
    /// `UK` is accepted as `GB`: ISO reserves it for the United Kingdom and people type it
    /// far more often than `GB`.
    ///
    /// # Errors
    ///
    /// [`Rejection::Empty`] for blank input, [`Rejection::TooLong`] past 64 bytes,
    /// [`Rejection::Malformed`] unless it is exactly two ASCII letters, and
    /// [`Rejection::UnknownCountry`] for two letters that are not an assigned code.
    pub fn parse(raw: &str) -> Result<Country, Rejection> {
        super::text::check_length(raw, 64)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Rejection::Empty);
        }
        let &[a, b] = trimmed.as_bytes() else {
            return Err(Rejection::Malformed {
                expected: "two ASCII letters",
            });
        };
        if !a.is_ascii_alphabetic() || !b.is_ascii_alphabetic() {
            return Err(Rejection::Malformed {
                expected: "two ASCII letters",
            });
        }
        let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        if code == *b"UK" {
            return Ok(Country::GB);
        }
        if is_assigned(code) {
            Ok(Country(code))
        } else {
            Err(Rejection::UnknownCountry)
        }
    }

    /// The two-letter uppercase code, e.g. `"GB"`.
    pub fn as_str(&self) -> &str {
        // Always two ASCII uppercase letters: the only constructors are `parse` and the
        // constants, so the fallback is never taken.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The country's telephone numbering facts, if this crate has them.
    pub(crate) fn phone_plan(self) -> Option<PhonePlan> {
        PHONE_PLANS
            .iter()
            .find(|(country, _)| *country == self)
            .map(|(_, plan)| *plan)
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Country").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Country {
    type Err = Rejection;

    fn from_str(s: &str) -> Result<Country, Rejection> {
        Country::parse(s)
    }
}

impl TryFrom<String> for Country {
    type Error = Rejection;

    fn try_from(s: String) -> Result<Country, Rejection> {
        Country::parse(&s)
    }
}

impl From<Country> for String {
    fn from(country: Country) -> String {
        country.as_str().to_owned()
    }
}

/// Every officially assigned ISO 3166-1 alpha-2 code (249) plus `XK`, sorted.
const ASSIGNED_CODES: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET \
FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT \
JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ \
OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA \
RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ \
VA VC VE VG VI VN VU \
WF WS \
XK \
YE YT \
ZA ZM ZW";

/// [`ASSIGNED_CODES`] as one bit per code, indexed by first letter then second letter, so
/// a lookup is two array reads.
const ASSIGNED: [u32; 26] = assigned_table(ASSIGNED_CODES);

const fn assigned_table(codes: &str) -> [u32; 26] {
    let bytes = codes.as_bytes();
    let mut table = [0u32; 26];
    let mut i = 0;
    // Evaluated at compile time only: a malformed list fails the build, not a call.
    while i + 1 < bytes.len() {
        let first = (bytes[i] - b'A') as usize;
        let second = bytes[i + 1] - b'A';
        table[first] |= 1 << second;
        i += 3;
    }
    table
}

fn is_assigned([first, second]: [u8; 2]) -> bool {
    let row = first.wrapping_sub(b'A');
    let column = second.wrapping_sub(b'A');
    column < 26
        && ASSIGNED
            .get(usize::from(row))
            .is_some_and(|bits| bits & (1 << column) != 0)
}

/// How telephone numbers are written in one country: what the phone normalizer needs to
/// turn a nationally written number into E.164.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhonePlan {
    /// The E.164 country calling code, without `+`.
    pub(crate) calling_code: &'static str,
    /// Dialled before a national number within the country and dropped in international
    /// form, e.g. `0` in the UK. `None` where numbers are dialled the same either way
    /// (Italy's leading `0` is part of the number and stays after `+39`).
    pub(crate) trunk_prefix: Option<&'static str>,
    /// What callers in the country dial before a country calling code, e.g. `00`.
    pub(crate) international_prefixes: &'static [&'static str],
    /// Fewest digits in a national significant number (after the calling code).
    pub(crate) min_digits: usize,
    /// Most digits in a national significant number.
    pub(crate) max_digits: usize,
}

impl PhonePlan {
    /// Whether numbers in this plan lose a `0` trunk prefix in international form, so a
    /// `0` right after the calling code (as in `+44 020 …`) is a typing mistake to repair.
    pub(crate) fn has_zero_trunk(&self) -> bool {
        self.trunk_prefix == Some("0")
    }
}

/// The plan whose calling code `digits` (an international number without `+`) starts with.
///
/// Country calling codes form a prefix-free code, so the first match is the only one.
pub(crate) fn plan_by_calling_code(digits: &[u8]) -> Option<PhonePlan> {
    // Codes have at most three digits, so three digits name the plan: one table read
    // instead of comparing every code.
    if let [a, b, c, ..] = *digits
        && a.is_ascii_digit()
        && b.is_ascii_digit()
        && c.is_ascii_digit()
    {
        let first_three = usize::from(a - b'0') * 100 + usize::from(b - b'0') * 10;
        let entry = *PLAN_BY_FIRST_THREE_DIGITS.get(first_three + usize::from(c - b'0'))?;
        return match entry {
            NO_PLAN => None,
            index => PHONE_PLANS.get(usize::from(index)).map(|(_, plan)| *plan),
        };
    }
    plan_by_calling_code_scan(digits)
}

/// [`plan_by_calling_code`] by comparing every calling code.
fn plan_by_calling_code_scan(digits: &[u8]) -> Option<PhonePlan> {
    PHONE_PLANS
        .iter()
        .map(|(_, plan)| *plan)
        .find(|plan| digits.starts_with(plan.calling_code.as_bytes()))
}

/// [`PLAN_BY_FIRST_THREE_DIGITS`] where no calling code starts the digits.
const NO_PLAN: u8 = u8::MAX;

/// For every three digits (as a number), the index in [`PHONE_PLANS`] of the first plan
/// whose calling code they start with, or [`NO_PLAN`].
static PLAN_BY_FIRST_THREE_DIGITS: [u8; 1000] = plan_table();

const fn plan_table() -> [u8; 1000] {
    let mut table = [NO_PLAN; 1000];
    // Backwards, so the first plan with a shared code (NANP) is the one kept.
    let mut i = PHONE_PLANS.len();
    while i > 0 {
        i -= 1;
        let code = PHONE_PLANS[i].1.calling_code.as_bytes();
        let mut prefix = 0;
        let mut k = 0;
        while k < code.len() {
            prefix = prefix * 10 + (code[k] - b'0') as usize;
            k += 1;
        }
        // Every three digits that start with the code: the code, then any digits.
        let mut span = 1;
        let mut filled = code.len();
        while filled < 3 {
            prefix *= 10;
            span *= 10;
            filled += 1;
        }
        let mut j = 0;
        while j < span {
            table[prefix + j] = i as u8;
            j += 1;
        }
    }
    table
}

const fn plan(
    calling_code: &'static str,
    trunk_prefix: Option<&'static str>,
    international_prefixes: &'static [&'static str],
    min_digits: usize,
    max_digits: usize,
) -> PhonePlan {
    PhonePlan {
        calling_code,
        trunk_prefix,
        international_prefixes,
        min_digits,
        max_digits,
    }
}

const ZERO: Option<&str> = Some("0");
const NONE: Option<&str> = None;
const DOUBLE_ZERO: &[&str] = &["00"];

/// Numbering facts per country. Length ranges are deliberately generous (they include
/// short service and long machine-to-machine numbers): the aim is to catch a digit
/// group pasted twice or cut off, not to validate numbers. Countries whose national
/// dialling is ambiguous without more data (carrier codes in Brazil, the mobile `15`
/// and `9` in Argentina, Lithuania's change of trunk prefix) are left out.
const PHONE_PLANS: &[(Country, PhonePlan)] = &[
    (Country::AE, plan("971", ZERO, DOUBLE_ZERO, 5, 12)),
    (Country::AT, plan("43", ZERO, DOUBLE_ZERO, 5, 13)),
    (Country::AU, plan("61", ZERO, &["0011"], 5, 10)),
    (Country::BE, plan("32", ZERO, DOUBLE_ZERO, 8, 9)),
    (Country::BG, plan("359", ZERO, DOUBLE_ZERO, 6, 9)),
    (Country::CA, plan("1", Some("1"), &["011"], 10, 10)),
    (Country::CH, plan("41", ZERO, DOUBLE_ZERO, 9, 12)),
    (Country::CN, plan("86", ZERO, DOUBLE_ZERO, 7, 11)),
    (Country::CY, plan("357", NONE, DOUBLE_ZERO, 8, 8)),
    (Country::CZ, plan("420", NONE, DOUBLE_ZERO, 9, 12)),
    (Country::DE, plan("49", ZERO, DOUBLE_ZERO, 5, 13)),
    (Country::DK, plan("45", NONE, DOUBLE_ZERO, 8, 8)),
    (Country::EE, plan("372", NONE, DOUBLE_ZERO, 7, 10)),
    (Country::ES, plan("34", NONE, DOUBLE_ZERO, 9, 9)),
    (Country::FI, plan("358", ZERO, DOUBLE_ZERO, 5, 12)),
    (Country::FR, plan("33", ZERO, DOUBLE_ZERO, 9, 9)),
    (Country::GB, plan("44", ZERO, DOUBLE_ZERO, 7, 10)),
    (Country::GR, plan("30", NONE, DOUBLE_ZERO, 10, 10)),
    (Country::HK, plan("852", NONE, &["001"], 8, 9)),
    (Country::HR, plan("385", ZERO, DOUBLE_ZERO, 6, 10)),
    (Country::HU, plan("36", Some("06"), DOUBLE_ZERO, 8, 9)),
    (Country::IE, plan("353", ZERO, DOUBLE_ZERO, 7, 10)),
    (Country::IL, plan("972", ZERO, DOUBLE_ZERO, 8, 10)),
    (Country::IN, plan("91", ZERO, DOUBLE_ZERO, 10, 11)),
    (Country::IS, plan("354", NONE, DOUBLE_ZERO, 7, 9)),
    (Country::IT, plan("39", NONE, DOUBLE_ZERO, 6, 11)),
    (Country::JP, plan("81", ZERO, &["010"], 8, 11)),
    (
        Country::KR,
        plan(
            "82",
            ZERO,
            &["001", "002", "005", "006", "008", "00700"],
            8,
            10,
        ),
    ),
    (Country::LU, plan("352", NONE, DOUBLE_ZERO, 4, 11)),
    (Country::LV, plan("371", NONE, DOUBLE_ZERO, 8, 8)),
    (Country::MT, plan("356", NONE, DOUBLE_ZERO, 8, 8)),
    (Country::MX, plan("52", NONE, DOUBLE_ZERO, 10, 10)),
    (Country::NL, plan("31", ZERO, DOUBLE_ZERO, 7, 11)),
    (Country::NO, plan("47", NONE, DOUBLE_ZERO, 5, 12)),
    (Country::NZ, plan("64", ZERO, DOUBLE_ZERO, 7, 10)),
    (Country::PL, plan("48", NONE, DOUBLE_ZERO, 9, 9)),
    (Country::PT, plan("351", NONE, DOUBLE_ZERO, 9, 9)),
    (Country::RO, plan("40", ZERO, DOUBLE_ZERO, 9, 9)),
    (Country::RU, plan("7", Some("8"), &["810"], 10, 10)),
    (Country::SE, plan("46", ZERO, DOUBLE_ZERO, 6, 13)),
    (
        Country::SG,
        plan("65", NONE, &["000", "001", "002", "008"], 8, 11),
    ),
    (Country::SI, plan("386", ZERO, DOUBLE_ZERO, 6, 8)),
    (Country::SK, plan("421", ZERO, DOUBLE_ZERO, 6, 9)),
    (Country::TR, plan("90", ZERO, DOUBLE_ZERO, 7, 10)),
    (Country::UA, plan("380", ZERO, DOUBLE_ZERO, 9, 9)),
    (Country::US, plan("1", Some("1"), &["011"], 10, 10)),
    (Country::ZA, plan("27", ZERO, DOUBLE_ZERO, 9, 9)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_list_is_sorted_and_complete() {
        let codes: Vec<&str> = ASSIGNED_CODES.split(' ').collect();
        assert!(codes.iter().all(|c| c.len() == 2));
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(codes.len(), 250);
        let bits: u32 = ASSIGNED.iter().map(|row| row.count_ones()).sum();
        assert_eq!(bits, 250);
        for code in codes {
            assert_eq!(Country::parse(code).map(|c| c.to_string()), Ok(code.into()));
        }
    }

    #[test]
    fn plans_are_consistent() {
        for (i, (country, plan)) in PHONE_PLANS.iter().enumerate() {
            let cc = plan.calling_code.len();
            // National numbers must survive the international length checks.
            assert!(plan.min_digits + cc >= 7, "{country}");
            assert!(plan.max_digits + cc <= 15, "{country}");
            assert!(plan.min_digits <= plan.max_digits, "{country}");
            assert!(!plan.international_prefixes.is_empty(), "{country}");
            for (other_country, other) in &PHONE_PLANS[i + 1..] {
                assert!(country < other_country, "sorted, no duplicates");
                if other.calling_code == plan.calling_code {
                    // Shared calling codes (NANP) need identical plans, or the plan found
                    // from an international number would differ from the national one.
                    assert_eq!(plan, other, "{country} {other_country}");
                } else {
                    assert!(!other.calling_code.starts_with(plan.calling_code));
                    assert!(!plan.calling_code.starts_with(other.calling_code));
                }
            }
            assert_eq!(country.phone_plan(), Some(*plan));
        }
    }

    #[test]
    fn three_digit_table_finds_what_comparing_every_code_finds() {
        assert!(PHONE_PLANS.len() < usize::from(NO_PLAN));
        assert!(
            PHONE_PLANS
                .iter()
                .all(|(_, plan)| plan.calling_code.len() <= 3)
        );
        // Every digit string of up to five digits, and some non-digits.
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), b"44a".to_vec(), b"a44".to_vec()];
        for len in 1..=5u32 {
            for n in 0..10usize.pow(len) {
                inputs.push(format!("{n:0width$}", width = len as usize).into_bytes());
            }
        }
        for digits in inputs {
            assert_eq!(
                plan_by_calling_code(&digits),
                plan_by_calling_code_scan(&digits),
                "{digits:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_codes() {
        assert_eq!(Country::parse(""), Err(Rejection::Empty));
        assert_eq!(Country::parse("ZZ"), Err(Rejection::UnknownCountry));
        assert!(matches!(
            Country::parse("G"),
            Err(Rejection::Malformed { .. })
        ));
        assert!(matches!(
            Country::parse("GBR"),
            Err(Rejection::Malformed { .. })
        ));
        assert!(matches!(
            Country::parse("G1"),
            Err(Rejection::Malformed { .. })
        ));
        assert!(matches!(
            Country::parse("ÅB"),
            Err(Rejection::Malformed { .. })
        ));
        assert_eq!(Country::parse("uk"), Ok(Country::GB));
    }
}
