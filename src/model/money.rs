//! Amounts of money, in integer minor units (never floating point).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::normalize::Rejection;

/// An ISO 4217 currency code such as `GBP`.
///
/// ```
/// use regulars::Currency;
/// assert_eq!(Currency::parse("eur")?.as_str(), "EUR");
/// assert!(Currency::parse("euro").is_err());
/// # Ok::<(), regulars::normalize::Rejection>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Pound sterling.
    pub const GBP: Currency = Currency(*b"GBP");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");

    /// Parses a three-letter code, in any case.
    pub fn parse(code: &str) -> Result<Self, Rejection> {
        let code = code.trim();
        match code.as_bytes() {
            [] => Err(Rejection::Empty),
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok(Self([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(Rejection::Malformed {
                expected: "a three-letter currency code",
            }),
        }
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = Rejection;
    fn try_from(code: String) -> Result<Self, Rejection> {
        Self::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// An amount in a currency's minor unit (pence, cents).
///
/// ```
/// use regulars::{Currency, Money};
/// let price = Money::new(4500, Currency::GBP);
/// assert_eq!(price.to_string(), "45.00 GBP");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
    #[serde(skip)]
    niche: Niche,
}

/// A byte with one valid value, in what was padding: it gives `Option<Money>` (a ticket's
/// price, a refund's amount) a spare bit pattern for `None`, so it takes 16 bytes, not 24.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
enum Niche {
    #[default]
    Money = 0,
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Money")
            .field("minor", &self.minor)
            .field("currency", &self.currency)
            .finish()
    }
}

impl Money {
    /// `minor` units of `currency`.
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self {
            minor,
            currency,
            niche: Niche::Money,
        }
    }

    /// The amount in minor units.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

/// Checks an amount that must not be negative.
pub(crate) fn check_amount(money: &Money) -> Result<(), Rejection> {
    if money.minor < 0 {
        Err(Rejection::Malformed {
            expected: "an amount of zero or more",
        })
    } else {
        Ok(())
    }
}
