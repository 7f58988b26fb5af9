//! Why a candidate was or was not taken to be the same person.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// What a piece of evidence compared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Field {
    /// Given name.
    GivenName,
    /// Family name.
    FamilyName,
    /// Birth date.
    BirthDate,
    /// E-mail address.
    Email,
    /// Phone number.
    Phone,
    /// Payment card token.
    CardToken,
    /// An id in another system.
    ExternalId,
    /// Postcode.
    Postcode,
    /// Street address.
    Address,
    /// A ticket the patron holds (door scans).
    Ticket,
    /// The event was observed before.
    Event,
}

impl Field {
    /// A short lower-case name for explanations.
    pub fn name(self) -> &'static str {
        match self {
            Field::GivenName => "given name",
            Field::FamilyName => "family name",
            Field::BirthDate => "birth date",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::CardToken => "card token",
            Field::ExternalId => "external id",
            Field::Postcode => "postcode",
            Field::Address => "address",
            Field::Ticket => "ticket",
            Field::Event => "event",
        }
    }
}

/// How the two sides compared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Agreement {
    /// The same.
    Agrees,
    /// Compatible but not the same (an initial, a nickname, a typo).
    Partly,
    /// Different.
    Disagrees,
    /// Not compared: missing on one side, or not counted (an identifier shared by too
    /// many patrons). Weighs nothing.
    Missing,
}

/// One comparison and the weight it adds, in bits: +1 makes "same person" twice as likely,
/// -1 half as likely.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    field: Field,
    agreement: Agreement,
    detail: Cow<'static, str>,
    weight: f64,
}

impl EvidenceItem {
    /// A comparison of `field` that came out as `agreement`, adding `weight` bits.
    /// `detail` says briefly how (`"exact"`, `"initial only"`).
    pub fn new(
        field: Field,
        agreement: Agreement,
        detail: impl Into<Cow<'static, str>>,
        weight: f64,
    ) -> Self {
        Self {
            field,
            agreement,
            detail: detail.into(),
            weight,
        }
    }
    /// What was compared.
    pub fn field(&self) -> Field {
        self.field
    }
    /// How it compared.
    pub fn agreement(&self) -> Agreement {
        self.agreement
    }
    /// How, in words.
    pub fn detail(&self) -> &str {
        &self.detail
    }
    /// The weight in bits.
    pub fn weight(&self) -> f64 {
        self.weight
    }
    /// Lowers the weight to `most`, if above it.
    pub(crate) fn lower_to(&mut self, most: f64) {
        self.weight = self.weight.min(most);
    }
}

/// Everything that speaks for or against one candidate: a list of comparisons whose
/// weights add up.
///
/// ```
/// use regulars::{Agreement, Evidence, EvidenceItem, Field};
/// let mut evidence = Evidence::new();
/// evidence.push(EvidenceItem::new(Field::Email, Agreement::Agrees, "exact", 12.0));
/// evidence.push(EvidenceItem::new(Field::GivenName, Agreement::Disagrees, "different", -9.0));
/// assert_eq!(evidence.weight(), 3.0);
/// assert_eq!(evidence.to_string(), "email agrees (exact) +12.0; given name disagrees (different) -9.0; total +3.0");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Inline room for every comparison the person strategy makes: recognition scores
    /// several candidates a call, and a heap list each would allocate every time.
    items: SmallVec<[EvidenceItem; Evidence::INLINE]>,
}

impl Evidence {
    /// Comparisons kept without allocating: the person strategy makes nine.
    const INLINE: usize = 10;

    /// No evidence yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a comparison.
    pub fn push(&mut self, item: EvidenceItem) {
        self.items.push(item);
    }
    /// Removes every comparison, keeping the room they took.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }
    /// The comparisons, to adjust in place.
    pub(crate) fn items_mut(&mut self) -> &mut [EvidenceItem] {
        &mut self.items
    }
    /// The comparisons, in the order made.
    pub fn items(&self) -> &[EvidenceItem] {
        &self.items
    }
    /// The total weight in bits.
    pub fn weight(&self) -> f64 {
        self.items.iter().map(|i| i.weight).sum()
    }
    /// The chance, from 0 to 1, that this is the same person, reading the weight as
    /// log-odds in bits.
    pub fn confidence(&self) -> f64 {
        1.0 / (1.0 + (-self.weight()).exp2())
    }
    /// Whether any comparison disagreed.
    pub fn has_conflict(&self) -> bool {
        self.items
            .iter()
            .any(|i| i.agreement == Agreement::Disagrees)
    }
}

impl fmt::Display for EvidenceItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.agreement {
            Agreement::Agrees => "agrees",
            Agreement::Partly => "partly agrees",
            Agreement::Disagrees => "disagrees",
            Agreement::Missing => "not compared",
        };
        write!(
            f,
            "{} {verb} ({}) {:+.1}",
            self.field.name(),
            self.detail,
            self.weight
        )
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            write!(f, "{item}; ")?;
        }
        write!(f, "total {:+.1}", self.weight())
    }
}
