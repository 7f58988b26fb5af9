//! Recognition by exact identifiers: e-mail, phone, card token, external ids.

use serde::{Deserialize, Serialize};

use super::{Agreement, Candidates, Evidence, EvidenceItem, Field, Strategy};
use crate::memory::{IndexView, PatronView};
use crate::model::profile::IdentifierKind;
use crate::signals::NormalizedSignals;

/// Weights, in bits, that [`ExactIdentifiers`] gives each comparison.
///
/// The defaults link on any one identifier, but let a clearly different given name or
/// birth date veto the link: a household sharing one e-mail address stays several people.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExactWeights {
    /// Same normalized e-mail.
    pub email: f64,
    /// Same E.164 phone number.
    pub phone: f64,
    /// Same payment card token.
    pub card_token: f64,
    /// Same id in the same external system.
    pub external_id: f64,
    /// Same folded given name.
    pub given_name_agrees: f64,
    /// Clearly different given names (not an initial or a shortened form of the other).
    pub given_name_disagrees: f64,
    /// Same folded family name.
    pub family_name_agrees: f64,
    /// Different family names (mild: people marry).
    pub family_name_disagrees: f64,
    /// Same birth date.
    pub birth_date_agrees: f64,
    /// Different birth dates.
    pub birth_date_disagrees: f64,
}

impl Default for ExactWeights {
    fn default() -> Self {
        Self {
            email: 12.0,
            phone: 8.0,
            card_token: 10.0,
            external_id: 14.0,
            given_name_agrees: 2.0,
            given_name_disagrees: -9.0,
            family_name_agrees: 1.0,
            family_name_disagrees: -4.0,
            birth_date_agrees: 4.0,
            birth_date_disagrees: -10.0,
        }
    }
}

/// Finds patrons who share an identifier with the signals, and weighs names and birth
/// dates against them.
///
/// Candidates come from one hash probe per identifier. An identifier value shared by more
/// than [`ExactIdentifiers::SHARED_LIMIT`] patrons (a box-office placeholder address) is
/// not used to propose anyone.
///
/// ```
/// use regulars::{ExactIdentifiers, ExactWeights, Memory};
/// let mut weights = ExactWeights::default();
/// weights.phone = 6.0; // landlines are shared: not enough on their own
/// let memory = Memory::builder()
///     .without_default_strategies()
///     .strategy(ExactIdentifiers::with_weights(weights))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ExactIdentifiers {
    weights: ExactWeights,
}

impl ExactIdentifiers {
    /// Identifier values shared by more patrons than this propose nobody.
    pub const SHARED_LIMIT: usize = 16;

    /// With the default weights.
    pub fn new() -> Self {
        Self::default()
    }

    /// With these weights.
    pub fn with_weights(weights: ExactWeights) -> Self {
        Self { weights }
    }

    /// The weights in use.
    pub fn weights(&self) -> &ExactWeights {
        &self.weights
    }

    fn identifier_weight(&self, kind: IdentifierKind) -> (Field, f64) {
        let w = &self.weights;
        match kind {
            IdentifierKind::Email => (Field::Email, w.email),
            IdentifierKind::Phone => (Field::Phone, w.phone),
            IdentifierKind::CardToken => (Field::CardToken, w.card_token),
            IdentifierKind::External => (Field::ExternalId, w.external_id),
        }
    }
}

impl Strategy for ExactIdentifiers {
    fn name(&self) -> &str {
        "exact-identifiers"
    }

    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        for identifier in signals.identifiers() {
            let patrons = index.patrons_with(identifier);
            if patrons.len() > Self::SHARED_LIMIT {
                continue;
            }
            for &patron in patrons {
                out.push(patron);
            }
        }
    }

    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        for identifier in signals.identifiers() {
            if patron.identifiers().contains(identifier) {
                let (field, weight) = self.identifier_weight(identifier.kind());
                out.push(EvidenceItem::new(field, Agreement::Agrees, "exact", weight));
            }
        }
        let w = &self.weights;
        if let Some(given) = signals.given_key() {
            let known = patron.names().iter().filter_map(|n| n.given_key());
            match compare_given(given, known) {
                Some(Agreement::Agrees) => out.push(EvidenceItem::new(
                    Field::GivenName,
                    Agreement::Agrees,
                    "exact",
                    w.given_name_agrees,
                )),
                Some(Agreement::Partly) => out.push(EvidenceItem::new(
                    Field::GivenName,
                    Agreement::Partly,
                    "initial or shortened",
                    0.0,
                )),
                Some(Agreement::Disagrees) => out.push(EvidenceItem::new(
                    Field::GivenName,
                    Agreement::Disagrees,
                    "different",
                    w.given_name_disagrees,
                )),
                Some(Agreement::Missing) | None => {}
            }
        }
        if let Some(family) = signals.family_key() {
            let mut known = patron
                .names()
                .iter()
                .filter_map(|n| n.family_key())
                .peekable();
            if known.peek().is_some() {
                let item = if known.any(|k| k == family) {
                    EvidenceItem::new(
                        Field::FamilyName,
                        Agreement::Agrees,
                        "exact",
                        w.family_name_agrees,
                    )
                } else {
                    EvidenceItem::new(
                        Field::FamilyName,
                        Agreement::Disagrees,
                        "different",
                        w.family_name_disagrees,
                    )
                };
                out.push(item);
            }
        }
        if let (Some(given), Some(known)) = (signals.birth_date(), patron.birth_date()) {
            out.push(if given == known {
                EvidenceItem::new(
                    Field::BirthDate,
                    Agreement::Agrees,
                    "exact",
                    w.birth_date_agrees,
                )
            } else {
                EvidenceItem::new(
                    Field::BirthDate,
                    Agreement::Disagrees,
                    "different",
                    w.birth_date_disagrees,
                )
            });
        }
    }
}

/// Compares a folded given name with every one the patron has used: the best agreement
/// wins; `None` when the patron has no given name on record.
fn compare_given<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> Option<Agreement> {
    let mut best = None;
    for name in known {
        let agreement = if name == given {
            return Some(Agreement::Agrees);
        } else if compatible(given, name) {
            Agreement::Partly
        } else {
            Agreement::Disagrees
        };
        if best != Some(Agreement::Partly) {
            best = Some(agreement);
        }
    }
    best
}

/// An initial (`j` / `jane`), or one name being the first word of the other
/// (`mary` / `mary ann`): not the same, but no reason to think them different people.
fn compatible(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let first_word = long.split(' ').next().unwrap_or(long);
    (short.len() == 1 && long.starts_with(short)) || short == first_word
}
