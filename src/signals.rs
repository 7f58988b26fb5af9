//! What an order, scan or purchase says about a person, raw and normalized.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::memory::Limits;
use crate::model::profile::{Address, Identifier, IdentifierKind, PersonName};
use crate::normalize::{self, Country, Rejection, text};
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
    pub(crate) fn normalize(
        &self,
        default_country: Option<Country>,
        today: NaiveDate,
        limits: &Limits,
        location: &dyn Fn(&str) -> String,
        sealed: bool,
    ) -> Result<NormalizedSignals> {
        let unseal = |raw: &str, name: &str| -> Result<Option<String>> {
            match raw.strip_prefix(SEALED_MARK) {
                Some(value) if sealed => crate::privacy::check_sealed(value)
                    .map(|()| Some(value.to_owned()))
                    .map_err(|reason| Error::InvalidInput {
                        location: location(name),
                        reason,
                    }),
                _ => Ok(None),
            }
        };
        let field = |name: &str, reason: Rejection| Error::InvalidInput {
            location: location(name),
            reason,
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
        for (name, value) in values {
            if let Some(raw) = value {
                text::check_length(raw, max_bytes).map_err(|r| field(name, r))?;
            }
        }
        for (_, value) in self.external_ids.iter().take(MAX_EXTERNAL_IDS + 1) {
            text::check_length(value, max_bytes).map_err(|r| field("external_ids.value", r))?;
        }

        let given = match &self.given_name {
            Some(raw) => Some((
                clean_text(raw, max_bytes).map_err(|r| field("given_name", r))?,
                normalize::name(raw).map_err(|r| field("given_name", r))?,
            )),
            None => None,
        };
        let family = match &self.family_name {
            Some(raw) => Some((
                clean_text(raw, max_bytes).map_err(|r| field("family_name", r))?,
                normalize::name(raw).map_err(|r| field("family_name", r))?,
            )),
            None => None,
        };
        let name = (given.is_some() || family.is_some()).then(|| {
            PersonName::new(
                given
                    .as_ref()
                    .map(|(raw, key)| (raw.as_str(), key.as_str())),
                family
                    .as_ref()
                    .map(|(raw, key)| (raw.as_str(), key.as_str())),
            )
        });

        let country = match &self.country {
            Some(raw) => Some(Country::parse(raw).map_err(|r| field("country", r))?),
            None => None,
        };

        let mut identifiers = SmallVec::new();
        if let Some(value) = self
            .email
            .as_deref()
            .map(|raw| unseal(raw, "email"))
            .transpose()?
            .flatten()
        {
            identifiers.push(Identifier::new(IdentifierKind::Email, &value));
        } else if let Some(raw) = &self.email {
            let email = normalize::email(raw).map_err(|r| field("email", r))?;
            identifiers.push(Identifier::new(IdentifierKind::Email, &email));
        }
        if let Some(value) = self
            .phone
            .as_deref()
            .map(|raw| unseal(raw, "phone"))
            .transpose()?
            .flatten()
        {
            identifiers.push(Identifier::new(IdentifierKind::Phone, &value));
        } else if let Some(raw) = &self.phone {
            let phone = match country.or(default_country) {
                Some(home) => normalize::phone(raw, home),
                // With no home country only numbers written with `+` can be read, and
                // for those the country passed is never consulted.
                None if raw.trim_start().starts_with('+') => normalize::phone(raw, Country::GB),
                None => Err(Rejection::UnsupportedCountry),
            }
            .map_err(|r| field("phone", r))?;
            identifiers.push(Identifier::new(IdentifierKind::Phone, &phone));
        }
        if let Some(value) = self
            .card_token
            .as_deref()
            .map(|raw| unseal(raw, "card_token"))
            .transpose()?
            .flatten()
        {
            identifiers.push(Identifier::new(IdentifierKind::CardToken, &value));
        } else if let Some(raw) = &self.card_token {
            let token = token(raw).map_err(|r| field("card_token", r))?;
            identifiers.push(Identifier::new(IdentifierKind::CardToken, token));
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
            let system = external_system(system).map_err(|r| field("external_ids.system", r))?;
            let id = match unseal(value, "external_ids.value")? {
                Some(sealed) => Identifier::external(&system, &sealed),
                None => {
                    let value = token(value).map_err(|r| field("external_ids.value", r))?;
                    Identifier::external(&system, value)
                }
            };
            if !identifiers.contains(&id) {
                identifiers.push(id);
            }
        }

        let postcode = match &self.postcode {
            Some(raw) => Some(Pii::new(
                normalize::postcode(raw, country.or(default_country))
                    .map_err(|r| field("postcode", r))?,
            )),
            None => None,
        };
        let street = match &self.street {
            Some(raw) => Some(Pii::new(
                clean_text(raw, max_bytes).map_err(|r| field("street", r))?,
            )),
            None => None,
        };
        let city = match &self.city {
            Some(raw) => Some(Pii::new(
                clean_text(raw, max_bytes).map_err(|r| field("city", r))?,
            )),
            None => None,
        };
        let address = Address::new(
            street.as_deref(),
            postcode.as_deref(),
            city.as_deref(),
            country,
        );

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
            if let (Ok(folded), Ok(id)) = (external_system(system), token(value)) {
                *value = marked(Identifier::external(&folded, id));
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

/// Display text (names as written, street, city): bounded, no control characters,
/// invisible and bidi-control characters removed (they can make a name render as another),
/// whitespace collapsed.
fn clean_text(raw: &str, max_bytes: usize) -> Result<String, Rejection> {
    text::screen(raw, max_bytes)?;
    let text: String = text::visible(raw).collect();
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    Ok(text)
}

/// An opaque token or external id value: trimmed, bounded, no spaces or control characters.
fn token(raw: &str) -> Result<&str, Rejection> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_TOKEN_BYTES,
        });
    }
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

/// The name of an external system, folded: `"Loyalty "` and `"loyalty"` are one system.
fn external_system(raw: &str) -> Result<String, Rejection> {
    let system = raw.trim();
    if system.is_empty() {
        return Err(Rejection::Empty);
    }
    // Measured before the copy is made, so a megabyte costs nothing to refuse.
    if system.len() > MAX_SYSTEM_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_SYSTEM_BYTES,
        });
    }
    let system = system.to_ascii_lowercase();
    if !system
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(Rejection::Malformed {
            expected: "a system name of at most 32 letters, digits, '-', '_' or '.'",
        });
    }
    Ok(system)
}

/// Signals after normalization: what recognition strategies compare.
///
/// Built once per observed person and shared by every strategy, so each comparison is
/// against precomputed keys. `Debug` hides every value.
#[derive(Clone, PartialEq)]
pub struct NormalizedSignals {
    name: Option<PersonName>,
    identifiers: SmallVec<[Identifier; 4]>,
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
