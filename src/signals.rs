//! What an order, scan or purchase says about a person, raw and normalized.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::memory::Limits;
use crate::model::profile::{Address, Identifier, IdentifierKind, PersonName};
use crate::normalize::text::{self, Buf};
use crate::normalize::{self, Country, Rejection};
use crate::pii::Pii;

/// Everything an event says about a person, exactly as the vendor sent it.
///
/// Nothing is checked when a value is set: memory normalizes and checks the signals when
/// it sees them, and rejects the event with an error naming the field if one is unusable.
/// An absent value is neutral; an empty one is an error (vendors should leave it out).
///
/// ```
/// use chrono::NaiveDate;
/// use regulars::Signals;
///
/// let ana = Signals::new()
///     .given_name("Ana")
///     .family_name("Silva")
///     .email("Ana.Silva@Example.org")
///     .phone("020 7946 0018")
///     .postcode("SW1A 1AA")
///     .country("GB")
///     .birth_date(NaiveDate::from_ymd_opt(1980, 5, 17).unwrap())
///     .external_id("loyalty", "L-0042");
/// assert!(!ana.is_empty());
/// // Debug never shows the values.
/// assert!(!format!("{ana:?}").contains("Silva"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signals {
    given_name: Option<Pii>,
    family_name: Option<Pii>,
    email: Option<Pii>,
    phone: Option<Pii>,
    street: Option<Pii>,
    postcode: Option<Pii>,
    city: Option<Pii>,
    country: Option<Pii>,
    birth_date: Option<NaiveDate>,
    card_token: Option<Pii>,
    external_ids: Vec<(String, Pii)>,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = Some(Pii::new(value.into()));
            self
        }
    };
}

impl Signals {
    /// No signals yet.
    pub fn new() -> Self {
        Self::default()
    }

    setter!(
        /// Given (first) name.
        given_name
    );
    setter!(
        /// Family (last) name.
        family_name
    );
    setter!(
        /// E-mail address.
        email
    );
    setter!(
        /// Phone number in any common format; national numbers use the memory's default country.
        phone
    );
    setter!(
        /// Street and house number.
        street
    );
    setter!(
        /// Postcode or ZIP.
        postcode
    );
    setter!(
        /// City.
        city
    );
    setter!(
        /// Country as an ISO 3166-1 alpha-2 code (`GB`, `de`).
        country
    );
    setter!(
        /// A payment card token from the payment processor (never a card number).
        card_token
    );

    /// Date of birth.
    #[must_use]
    pub fn birth_date(mut self, date: NaiveDate) -> Self {
        self.birth_date = Some(date);
        self
    }

    /// An id in another system (`"loyalty"`, `"crm"`, `"membership"`).
    #[must_use]
    pub fn external_id(mut self, system: impl Into<String>, value: impl Into<String>) -> Self {
        self.external_ids
            .push((system.into(), Pii::new(value.into())));
        self
    }

    /// Whether no signal at all was given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Normalizes and checks every signal. `location` names where the signals sit in the
    /// event (e.g. ``event `e-7`: order.buyer``) for error messages. With `sealed` (a
    /// memory with an identifier key), identifiers sealed by [`seal`](Self::seal) are
    /// taken as they are.
    pub(crate) fn normalize<'a>(
        &'a self,
        default_country: Option<Country>,
        today: NaiveDate,
        limits: &Limits,
        location: &dyn Fn(&str) -> String,
        sealed: bool,
    ) -> Result<NormalizedSignals> {
        let field = |name: &str, reason: Rejection| Error::InvalidInput {
            location: location(name),
            reason,
        };
        // A sealed identifier is taken as it is, once checked.
        let unseal = |raw: &'a str, name: &str| -> Result<Option<&'a str>> {
            match raw.strip_prefix(SEALED_MARK) {
                Some(value) if sealed => crate::privacy::check_sealed(value)
                    .map(|()| Some(value))
                    .map_err(|reason| field(name, reason)),
                _ => Ok(None),
            }
        };
        // Every value is measured before any work is done on it, so an oversized one
        // costs nothing to refuse.
        let max_bytes = limits.max_signal_bytes();
        let values = [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("email", &self.email),
            ("phone", &self.phone),
            ("street", &self.street),
            ("postcode", &self.postcode),
            ("city", &self.city),
            ("country", &self.country),
            ("card_token", &self.card_token),
        ];
        // Each value's first byte is read here too: values sit in separate allocations,
        // often not in cache, and asking for them all at once lets the memory system
        // fetch them side by side rather than one after another as each is reached.
        let mut first_bytes = 0u8;
        for (name, value) in values {
            if let Some(raw) = value {
                text::check_length(raw, max_bytes).map_err(|r| field(name, r))?;
                first_bytes ^= raw.as_bytes().first().copied().unwrap_or_default();
            }
        }
        std::hint::black_box(first_bytes);
        for (_, value) in self.external_ids.iter().take(MAX_EXTERNAL_IDS + 1) {
            text::check_length(value, max_bytes).map_err(|r| field("external_ids.value", r))?;
        }

        // Values are written on the stack, and each stored value is copied out of it
        // once, straight into the allocation that keeps it.
        let mut written = Buf::new();

        // Given name as written, its key, family name as written, its key: the order a
        // `PersonName` keeps them in.
        let mut name_spans: [Option<core::ops::Range<usize>>; 4] = Default::default();
        let parts = [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
        ];
        for ((name, value), spans) in parts.into_iter().zip(name_spans.chunks_exact_mut(2)) {
            if let Some(raw) = value {
                let start = written.len();
                let folded = normalize::name_written_and_key_into(raw, max_bytes, &mut written)
                    .map_err(|r| field(name, r))?;
                spans[0] = Some(start..folded);
                spans[1] = Some(folded..written.len());
            }
        }
        // The parts are end to end in the buffer, in the order the name keeps them.
        let name = (self.given_name.is_some() || self.family_name.is_some()).then(|| {
            PersonName::from_written(written.as_str(), name_spans.map(|span| Some(span?.len())))
        });
        written.truncate(0);

        let country = match &self.country {
            Some(raw) => Some(Country::parse(raw).map_err(|r| field("country", r))?),
            None => None,
        };

        let mut identifiers = SmallVec::new();
        if let Some(raw) = &self.email {
            match unseal(raw, "email")? {
                Some(value) => identifiers.push(Identifier::new(IdentifierKind::Email, value)),
                None => {
                    normalize::email_into(raw, &mut written).map_err(|r| field("email", r))?;
                    identifiers.push(Identifier::new(IdentifierKind::Email, written.as_str()));
                    written.truncate(0);
                }
            }
        }
        if let Some(raw) = &self.phone {
            match unseal(raw, "phone")? {
                Some(value) => identifiers.push(Identifier::new(IdentifierKind::Phone, value)),
                None => {
                    match country.or(default_country) {
                        Some(home) => normalize::phone_into(raw, home, &mut written),
                        // With no home country only numbers written with `+` can be
                        // read, and for those the country passed is never consulted.
                        None if raw.trim_start().starts_with('+') => {
                            normalize::phone_into(raw, Country::GB, &mut written)
                        }
                        None => Err(Rejection::UnsupportedCountry),
                    }
                    .map_err(|r| field("phone", r))?;
                    identifiers.push(Identifier::new(IdentifierKind::Phone, written.as_str()));
                    written.truncate(0);
                }
            }
        }
        if let Some(raw) = &self.card_token {
            let value = match unseal(raw, "card_token")? {
                Some(value) => value,
                None => token(raw).map_err(|r| field("card_token", r))?,
            };
            identifiers.push(Identifier::new(IdentifierKind::CardToken, value));
        }
        if self.external_ids.len() > MAX_EXTERNAL_IDS {
            return Err(field(
                "external_ids",
                Rejection::Malformed {
                    expected: "at most 8 external ids",
                },
            ));
        }
        for (system, value) in &self.external_ids {
            external_system_into(system, &mut written)
                .map_err(|r| field("external_ids.system", r))?;
            let value = match unseal(value, "external_ids.value")? {
                Some(sealed) => sealed,
                None => token(value).map_err(|r| field("external_ids.value", r))?,
            };
            let id = Identifier::external(written.as_str(), value);
            written.truncate(0);
            if !identifiers.contains(&id) {
                identifiers.push(id);
            }
        }

        // Postcode first, as its errors come first; the address keeps street, postcode
        // and city in that order, whatever order they were written in here.
        let postcode = match &self.postcode {
            Some(raw) => {
                let start = written.len();
                normalize::postcode_into(raw, country.or(default_country), &mut written)
                    .map_err(|r| field("postcode", r))?;
                Some(start..written.len())
            }
            None => None,
        };
        let street = match &self.street {
            Some(raw) => {
                let start = written.len();
                text::clean_into(raw, max_bytes, &mut written).map_err(|r| field("street", r))?;
                Some(start..written.len())
            }
            None => None,
        };
        let city = match &self.city {
            Some(raw) => {
                let start = written.len();
                text::clean_into(raw, max_bytes, &mut written).map_err(|r| field("city", r))?;
                Some(start..written.len())
            }
            None => None,
        };
        let address = if written.len() == 0 {
            // Most queries give no address at all: nothing to put together.
            match country {
                None => Address::default(),
                Some(_) => Address::new(None, None, None, country),
            }
        } else {
            let text = written.as_str();
            let part = |span: Option<core::ops::Range<usize>>| span.and_then(|span| text.get(span));
            Address::new(part(street), part(postcode), part(city), country)
        };

        if let Some(date) = self.birth_date {
            // Nobody alive was born before 1880; a date after the event is a typo.
            let min = NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(NaiveDate::MIN);
            if date < min || date > today {
                return Err(field(
                    "birth_date",
                    Rejection::Malformed {
                        expected: "a date between 1880-01-01 and the event's date",
                    },
                ));
            }
        }

        if identifiers.is_empty() && name.is_none() {
            return Err(Error::NoIdentity {
                location: location(""),
            });
        }
        Ok(NormalizedSignals {
            name,
            identifiers,
            address,
            birth_date: self.birth_date,
        })
    }
}

/// Marks an identifier signal already sealed (replaced by its keyed hash), so that a
/// memory with an identifier key takes it as it is. A control character: no vendor
/// value that normalizes can start with it.
pub(crate) const SEALED_MARK: char = '\u{1}';

impl Signals {
    /// A copy whose identifier signals (e-mail, phone, card token, external ids) are
    /// replaced by `seal` of their normalized form, marked with [`SEALED_MARK`]. A value
    /// that does not normalize is left as it is, so that normalizing the copy reports it
    /// as usual; one already sealed stays.
    pub(crate) fn seal(
        &self,
        default_country: Option<Country>,
        seal: &dyn Fn(&Identifier) -> String,
    ) -> Signals {
        let mut sealed = self.clone();
        let country = self.country.as_deref().and_then(|c| Country::parse(c).ok());
        let marked =
            |identifier: Identifier| Pii::new(format!("{SEALED_MARK}{}", seal(&identifier)));
        let is_sealed = |raw: &Pii| raw.starts_with(SEALED_MARK);
        if let Some(raw) = self.email.as_ref().filter(|r| !is_sealed(r))
            && let Ok(email) = normalize::email(raw)
        {
            sealed.email = Some(marked(Identifier::new(IdentifierKind::Email, &email)));
        }
        if let Some(raw) = self.phone.as_ref().filter(|r| !is_sealed(r)) {
            let phone = match country.or(default_country) {
                Some(home) => normalize::phone(raw, home),
                None if raw.trim_start().starts_with('+') => normalize::phone(raw, Country::GB),
                None => Err(Rejection::UnsupportedCountry),
            };
            if let Ok(phone) = phone {
                sealed.phone = Some(marked(Identifier::new(IdentifierKind::Phone, &phone)));
            }
        }
        if let Some(raw) = self.card_token.as_ref().filter(|r| !is_sealed(r))
            && let Ok(card) = token(raw)
        {
            sealed.card_token = Some(marked(Identifier::new(IdentifierKind::CardToken, card)));
        }
        for (system, value) in &mut sealed.external_ids {
            if is_sealed(value) {
                continue;
            }
            let mut folded = Buf::new();
            if let (Ok(()), Ok(id)) = (external_system_into(system, &mut folded), token(value)) {
                *value = marked(Identifier::external(folded.as_str(), id));
            }
        }
        sealed
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only which signals are present: every value is personal data.
        let mut present: Vec<&str> = Vec::new();
        let fields = [
            ("given_name", self.given_name.is_some()),
            ("family_name", self.family_name.is_some()),
            ("email", self.email.is_some()),
            ("phone", self.phone.is_some()),
            ("street", self.street.is_some()),
            ("postcode", self.postcode.is_some()),
            ("city", self.city.is_some()),
            ("country", self.country.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("card_token", self.card_token.is_some()),
            ("external_ids", !self.external_ids.is_empty()),
        ];
        present.extend(fields.iter().filter(|(_, p)| *p).map(|(n, _)| *n));
        f.debug_struct("Signals")
            .field("present", &present)
            .finish_non_exhaustive()
    }
}

const MAX_EXTERNAL_IDS: usize = 8;
const MAX_TOKEN_BYTES: usize = 128;
const MAX_SYSTEM_BYTES: usize = 32;

/// An opaque token or external id value: trimmed, bounded, no spaces or control characters.
fn token(raw: &str) -> Result<&str, Rejection> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_TOKEN_BYTES,
        });
    }
    // Tokens are printable ASCII with no space anywhere: such a value is its own trimmed
    // form with nothing to refuse, and is taken without reading it as characters.
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(raw);
    }
    token_by_chars(raw)
}

/// [`token`] for any value within the length limit, read as characters.
fn token_by_chars(raw: &str) -> Result<&str, Rejection> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Rejection::Empty);
    }
    if let Some(position) = value.chars().position(char::is_control) {
        // Positions count in the input as given, before the trim.
        let leading = raw.len() - raw.trim_start().len();
        let skipped = raw.get(..leading).map_or(0, |s| s.chars().count());
        return Err(Rejection::ControlCharacter {
            position: skipped + position,
        });
    }
    if value.contains(char::is_whitespace) {
        return Err(Rejection::Malformed {
            expected: "no whitespace inside the value",
        });
    }
    Ok(value)
}

/// The name of an external system, folded, appended to `out`: `"Loyalty "` and
/// `"loyalty"` are one system.
fn external_system_into(raw: &str, out: &mut Buf) -> Result<(), Rejection> {
    let system = raw.trim();
    if system.is_empty() {
        return Err(Rejection::Empty);
    }
    // Measured before anything is written, so a megabyte costs nothing to refuse.
    if system.len() > MAX_SYSTEM_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_SYSTEM_BYTES,
        });
    }
    if !system
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(Rejection::Malformed {
            expected: "a system name of at most 32 letters, digits, '-', '_' or '.'",
        });
    }
    // Checked as ASCII above, so lowercasing its letters is folding it.
    let start = out.len();
    out.push_str(system);
    out.make_ascii_lowercase_from(start);
    Ok(())
}

/// Signals after normalization: what recognition strategies compare.
///
/// Built once per observed person and shared by every strategy, so each comparison is
/// against precomputed keys. `Debug` hides every value.
#[derive(Clone, PartialEq)]
pub struct NormalizedSignals {
    name: Option<PersonName>,
    /// Inline room for an e-mail address, a phone number and a card token: the most
    /// a buyer usually gives (an identifier is 32 bytes, and these signals are moved).
    identifiers: SmallVec<[Identifier; 3]>,
    address: Address,
    birth_date: Option<NaiveDate>,
}

impl fmt::Debug for NormalizedSignals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NormalizedSignals")
            .field("name", &self.name)
            .field("identifiers", &self.identifiers)
            .field("address", &self.address)
            .field("birth_date", &self.birth_date.map(|_| crate::pii::REDACTED))
            .finish()
    }
}

impl NormalizedSignals {
    /// Signals made of values memory already holds (already normalized), such as one
    /// patron's profile: used by training to compare patrons with one another.
    pub(crate) fn from_parts(
        name: Option<PersonName>,
        identifiers: impl IntoIterator<Item = Identifier>,
        address: Address,
        birth_date: Option<NaiveDate>,
    ) -> Self {
        Self {
            name,
            identifiers: identifiers.into_iter().collect(),
            address,
            birth_date,
        }
    }

    /// The name given, raw and folded.
    pub fn name(&self) -> Option<&PersonName> {
        self.name.as_ref()
    }
    /// The folded given name.
    pub fn given_key(&self) -> Option<&str> {
        self.name.as_ref()?.given_key()
    }
    /// The folded family name.
    pub fn family_key(&self) -> Option<&str> {
        self.name.as_ref()?.family_key()
    }
    /// E-mail, phone, card token and external ids, normalized.
    pub fn identifiers(&self) -> &[Identifier] {
        &self.identifiers
    }
    /// The address given (postcode normalized).
    pub fn address(&self) -> &Address {
        &self.address
    }
    /// The birth date given.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.birth_date
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Display text as the public pieces give it: screened, invisible characters
    /// dropped, whitespace collapsed.
    fn clean(raw: &str, max_bytes: usize) -> std::result::Result<String, Rejection> {
        text::screen(raw, max_bytes)?;
        let cleaned: String = text::visible(raw).collect();
        if cleaned.is_empty() {
            return Err(Rejection::Empty);
        }
        Ok(cleaned)
    }

    /// Name parts (given, given key, family, family key), identifier keys, and address
    /// parts (street, postcode, city).
    type Expected = (
        Option<[Option<String>; 4]>,
        Vec<String>,
        [Option<String>; 3],
    );
    /// The field that failed, and why.
    type Failure = (&'static str, Rejection);

    /// What normalizing must give, put together from the public normalizers one value
    /// at a time: the first field that fails (in the order normalizing reads them)
    /// names the error, and otherwise every value is what its normalizer says.
    fn expected(signals: &Signals, max_bytes: usize) -> std::result::Result<Expected, Failure> {
        let fail = |field: &'static str| move |r: Rejection| (field, r);
        // Every value is measured before any is read.
        let measured = [
            ("given_name", &signals.given_name),
            ("family_name", &signals.family_name),
            ("email", &signals.email),
            ("phone", &signals.phone),
            ("street", &signals.street),
            ("postcode", &signals.postcode),
            ("city", &signals.city),
            ("country", &signals.country),
        ];
        for (field, raw) in measured {
            if let Some(raw) = raw {
                text::check_length(raw, max_bytes).map_err(fail(field))?;
            }
        }
        let mut name = None;
        if signals.given_name.is_some() || signals.family_name.is_some() {
            let mut parts: [Option<String>; 4] = Default::default();
            for (i, field, raw) in [
                (0, "given_name", &signals.given_name),
                (2, "family_name", &signals.family_name),
            ] {
                if let Some(raw) = raw {
                    parts[i] = Some(clean(raw, max_bytes).map_err(fail(field))?);
                    parts[i + 1] = Some(normalize::name(raw).map_err(fail(field))?);
                }
            }
            name = Some(parts);
        }
        let country = signals
            .country
            .as_deref()
            .map(Country::parse)
            .transpose()
            .map_err(fail("country"))?;
        let mut identifiers = Vec::new();
        if let Some(raw) = &signals.email {
            identifiers.push(format!(
                "e:{}",
                normalize::email(raw).map_err(fail("email"))?
            ));
        }
        if let Some(raw) = &signals.phone {
            let home = country.unwrap_or(Country::GB);
            identifiers.push(format!(
                "p:{}",
                normalize::phone(raw, home).map_err(fail("phone"))?
            ));
        }
        let postcode = signals
            .postcode
            .as_deref()
            .map(|raw| normalize::postcode(raw, Some(country.unwrap_or(Country::GB))))
            .transpose()
            .map_err(fail("postcode"))?;
        let street = signals
            .street
            .as_deref()
            .map(|raw| clean(raw, max_bytes))
            .transpose()
            .map_err(fail("street"))?;
        let city = signals
            .city
            .as_deref()
            .map(|raw| clean(raw, max_bytes))
            .transpose()
            .map_err(fail("city"))?;
        Ok((name, identifiers, [street, postcode, city]))
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        let chars = prop_oneof![
            6 => prop::char::range('a', 'z'),
            2 => prop::char::range('A', 'Z'),
            2 => prop::char::range('0', '9'),
            3 => prop::sample::select(vec![
                ' ', '\t', '\'', '-', '.', '@', '+', '(', ')', '\u{1}', '\u{A0}', '\u{200B}',
                'é', 'ß', 'Ł', 'И', '１', '😀', '\u{301}',
            ]),
        ];
        prop::option::of(prop_oneof![
            8 => prop::collection::vec(chars, 0..24).prop_map(|cs| cs.into_iter().collect()),
            1 => any::<String>(),
            1 => "[a-z ]{500,600}",
        ])
    }

    fn email_or_any() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            value(),
            (
                "[A-Za-z.+]{1,12}",
                prop::sample::select(vec!["gmail.com", "Example.org", "outlook.com"])
            )
                .prop_map(|(local, domain)| Some(format!(" {local}@{domain} "))),
        ]
    }

    /// A token read as characters only, the limit checked first as `token` checks it.
    fn token_general(raw: &str) -> std::result::Result<&str, Rejection> {
        if raw.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::TooLong {
                max_bytes: MAX_TOKEN_BYTES,
            });
        }
        token_by_chars(raw)
    }

    /// An external system's name folded a character at a time.
    fn system_general(raw: &str) -> std::result::Result<String, Rejection> {
        let mut checked = Buf::new();
        external_system_into(raw, &mut checked)?;
        Ok(raw.trim().chars().map(|c| c.to_ascii_lowercase()).collect())
    }

    /// Card tokens and loyalty numbers as vendors send them, with the spaces, controls
    /// and Unicode that must send a value down the general path.
    fn token_like() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            8 => prop::char::range('!', '~'),
            2 => prop::sample::select(vec![
                ' ', '\t', '\n', '\r', '\u{B}', '\u{1}', '\u{7F}', '\u{85}', '\u{A0}',
                '\u{2003}', '\u{200B}', 'é', '😀',
            ]),
        ];
        prop_oneof![
            4 => prop::collection::vec(chars, 0..140).prop_map(|cs| cs.into_iter().collect()),
            2 => "tok_[0-9a-f]{16}|LY[0-9]{8}|[!-~]{120,135}",
            1 => any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// A token taken by bytes is the token read as characters, and a token refused
        /// is refused for the same reason at the same position.
        #[test]
        fn a_token_reads_as_its_characters_do(raw in token_like()) {
            prop_assert_eq!(token(&raw), token_general(&raw));
        }

        /// An external system's name folds by bytes as it does a character at a time,
        /// written after other text, and is refused for the same reasons.
        #[test]
        fn a_system_name_folds_as_its_characters_do(
            raw in prop_oneof!["[A-Za-z0-9._-]{0,40}", token_like()],
            prefix in "[a-zé]{0,4}",
        ) {
            let mut out = Buf::new();
            out.push_str(&prefix);
            let folded = external_system_into(&raw, &mut out)
                .map(|()| out.as_str().get(prefix.len()..).unwrap_or_default().to_owned());
            prop_assert_eq!(folded, system_general(&raw));
            prop_assert!(out.as_str().starts_with(prefix.as_str()));
        }

        /// Normalizing a whole record in one buffer gives, value for value and error for
        /// error, what the public normalizers give one value at a time.
        #[test]
        fn a_record_normalizes_as_its_values_do(
            given in value(),
            family in value(),
            email in email_or_any(),
            phone in prop_oneof![value(), Just(Some("020 7946 0018".to_owned()))],
            postcode in prop_oneof![value(), Just(Some("sw1a 1aa".to_owned()))],
            street in value(),
            city in value(),
            country in prop::option::of(prop::sample::select(vec!["GB", "us", "XX"])),
        ) {
            let mut signals = Signals::new();
            signals.given_name = given.map(Pii::new);
            signals.family_name = family.map(Pii::new);
            signals.email = email.map(Pii::new);
            signals.phone = phone.map(Pii::new);
            signals.postcode = postcode.map(Pii::new);
            signals.street = street.map(Pii::new);
            signals.city = city.map(Pii::new);
            signals.country = country.map(Pii::new);
            let limits = Limits::default();
            let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
            let location = |field: &str| field.to_owned();
            let got = signals.normalize(Some(Country::GB), today, &limits, &location, false);
            match (got, expected(&signals, limits.max_signal_bytes())) {
                (Ok(got), Ok((name, identifiers, [street, postcode, city]))) => {
                    let name_parts = got.name().map(|n| {
                        [n.given(), n.given_key(), n.family(), n.family_key()]
                            .map(|part| part.map(str::to_owned))
                    });
                    prop_assert_eq!(name_parts, name);
                    let keys: Vec<String> = got
                        .identifiers()
                        .iter()
                        .map(|i| format!("{}:{}", &i.kind().name()[..1], i.value()))
                        .collect();
                    prop_assert_eq!(keys, identifiers);
                    let address = got.address();
                    prop_assert_eq!(address.street().map(str::to_owned), street);
                    prop_assert_eq!(address.postcode().map(str::to_owned), postcode);
                    prop_assert_eq!(address.city().map(str::to_owned), city);
                }
                (Err(Error::InvalidInput { location, reason }), Err((field, rejection))) => {
                    prop_assert_eq!(location, field);
                    prop_assert_eq!(reason, rejection);
                }
                (Err(Error::NoIdentity { .. }), Ok((None, identifiers, _))) => {
                    prop_assert!(identifiers.is_empty());
                }
                (got, want) => prop_assert!(false, "got {got:?}, want {want:?}"),
            }
        }
    }
}
