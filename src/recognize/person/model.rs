//! The weights of the person strategy: for each comparison and each level of agreement,
//! how often true matches (`m`) and non-matches (`u`) land there.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::recognize::Field;

/// How closely one field agreed, from the comparisons the person strategy makes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Level {
    /// The same value.
    Exact,
    /// One is a nickname or diminutive of the other (Bob, Robert).
    Nickname,
    /// Close spelling: a typo or a near Jaro-Winkler match.
    Close,
    /// Sounds the same.
    Phonetic,
    /// Only an initial was given, and it fits.
    Initial,
    /// One of several words matches (a double-barrelled family name).
    Partial,
    /// Day and month swapped.
    Swapped,
    /// One digit different.
    OneDigit,
    /// Only the year is the same.
    YearOnly,
    /// Same e-mail local part at another domain.
    SameLocal,
    /// One edit apart.
    OneEdit,
    /// Nearby (the same postcode district).
    Near,
    /// One side's birth year is the two digits the other's mailbox ends with
    /// (`anna.berg84@`, born 1984).
    MailboxYear,
    /// One side's birth year is not the two digits the other's mailbox ends with
    /// (`anna.berg84@`, born 1991): the birth date is missing on one side, and the
    /// mailbox's digits speak a little against the other.
    MailboxOtherYear,
    /// Each has a mailbox of their own spelled from the one name they share
    /// (`saskia.vandenberg57@` and `saskia.vandenberg@`): two namesakes' mailboxes as
    /// often as one person's old and new one.
    NamesakeMailbox,
    /// Different.
    Different,
}

impl Level {
    /// A short lower-case name for explanations.
    pub fn name(self) -> &'static str {
        match self {
            Level::Exact => "exact",
            Level::Nickname => "nickname",
            Level::Close => "close spelling",
            Level::Phonetic => "sounds alike",
            Level::Initial => "initial only",
            Level::Partial => "one of the words",
            Level::Swapped => "day and month swapped",
            Level::OneDigit => "one digit off",
            Level::YearOnly => "same year only",
            Level::SameLocal => "same name at another domain",
            Level::OneEdit => "one edit apart",
            Level::Near => "nearby",
            Level::MailboxYear => "birth year in the mailbox",
            Level::MailboxOtherYear => "another year in the mailbox",
            Level::NamesakeMailbox => "another mailbox of the same name",
            Level::Different => "different",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `m` and `u` for one level of one comparison.
///
/// `m` is the share of true matches (two records of one person) whose comparison lands at
/// this level; `u` the share of non-matches. The weight is `log2(m / u)` bits.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct LevelWeight {
    /// The level.
    pub level: Level,
    /// Share of true matches at this level.
    pub m: f64,
    /// Share of non-matches at this level.
    pub u: f64,
}

impl LevelWeight {
    /// The weight in bits, `log2(m / u)`, kept within ±30 bits.
    pub fn bits(&self) -> f64 {
        bits(self.m, self.u)
    }
}

pub(crate) fn bits(m: f64, u: f64) -> f64 {
    let m = m.clamp(1e-9, 1.0);
    let u = u.clamp(1e-9, 1.0);
    (m / u).log2().clamp(-30.0, 30.0)
}

/// The levels of one comparison.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Comparison {
    /// What is compared.
    pub field: Field,
    /// Its levels, best first; the last is the disagreement.
    pub levels: Vec<LevelWeight>,
}

impl Comparison {
    fn new(field: Field, levels: &[(Level, f64, f64)]) -> Self {
        Self {
            field,
            levels: levels
                .iter()
                .map(|&(level, m, u)| LevelWeight { level, m, u })
                .collect(),
        }
    }

    /// The `m`/`u` of a level, if this comparison has it.
    pub fn level(&self, level: Level) -> Option<&LevelWeight> {
        self.levels.iter().find(|l| l.level == level)
    }

    pub(crate) fn level_mut(&mut self, level: Level) -> Option<&mut LevelWeight> {
        self.levels.iter_mut().find(|l| l.level == level)
    }
}

/// Every comparison the person strategy makes, with its weights. Serializable, so trained
/// weights can be stored and reviewed; [`PersonModel::default`] works from day one.
///
/// ```
/// use regulars::{Field, Level, PersonModel};
/// let model = PersonModel::default();
/// let email = model.comparison(Field::Email).unwrap();
/// assert!(email.level(Level::Exact).unwrap().bits() > 10.0);
/// assert!(email.level(Level::Different).unwrap().bits() < 0.0);
/// ```
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct PersonModel {
    /// The comparisons.
    pub comparisons: Vec<Comparison>,
    /// How many patrons' worth of weight the built-in `u` of an exact name or postcode
    /// carries against the observed frequency of that value (term-frequency smoothing):
    /// with few patrons the built-in value rules, with many the observed one.
    pub frequency_prior: f64,
    /// How many bits above the built-in exact weight a rare name or postcode may reach;
    /// a family name of one surname no other patron holds may reach twice as many, unless
    /// something beyond the names disagrees.
    pub rare_bonus: f64,
}

impl Default for PersonModel {
    fn default() -> Self {
        use Level::*;
        // Built-in rates, set from what box offices see: a returning person's given name
        // is usually spelled the same, sometimes shortened, rarely mistyped; a stranger
        // shares a given name about one time in a hundred (adjusted by frequency).
        let comparisons = vec![
            Comparison::new(
                Field::GivenName,
                &[
                    (Exact, 0.82, 0.01),
                    (Nickname, 0.06, 0.0015),
                    (Close, 0.05, 0.003),
                    (Phonetic, 0.02, 0.004),
                    // An initial is written on a few records of anyone (`m`); a
                    // stranger's record carries one as often, but it fits only when
                    // the letter does: about one time in four among the candidates
                    // blocking brings, who mostly share a family name or a household.
                    (Initial, 0.03, 0.0075),
                    (Different, 0.02, 0.92),
                ],
            ),
            Comparison::new(
                Field::FamilyName,
                &[
                    (Exact, 0.86, 0.004),
                    (Close, 0.04, 0.002),
                    (Phonetic, 0.02, 0.003),
                    (Partial, 0.03, 0.001),
                    (Different, 0.05, 0.99),
                ],
            ),
            Comparison::new(
                Field::BirthDate,
                &[
                    (Exact, 0.95, 0.0003),
                    (Swapped, 0.01, 0.0003),
                    (OneDigit, 0.02, 0.004),
                    (YearOnly, 0.005, 0.015),
                    // Only one birth date given, and the other side's mailbox ends in
                    // its year's two digits: people put their birth year there (about
                    // half the mailboxes ending in two digits), a stranger's digits
                    // hit it about one time in sixty (+4.6 bits).
                    (MailboxYear, 0.01, 0.0004),
                    // Only one birth date given, and the other side's mailbox ends in
                    // two digits that are not its year: as many of a person's pairs as
                    // the year itself (the other half of such mailboxes), but most
                    // strangers' digits (-1.3 bits). The birth date still counts as
                    // missing: digits prove no one a different person.
                    (MailboxOtherYear, 0.01, 0.024),
                    (Different, 0.015, 0.98),
                ],
            ),
            Comparison::new(
                Field::Email,
                &[
                    (Exact, 0.55, 0.00002),
                    (SameLocal, 0.05, 0.001),
                    (OneEdit, 0.03, 0.0002),
                    // Both mailboxes spelled from the one name the two share, yet
                    // different: one person's old and new mailbox (few of a person's
                    // pairs), or two namesakes' own, which is how namesakes' mailboxes
                    // usually compare. Its rates are among people of one name, the
                    // only ones it is ever seen between: about a quarter of those
                    // strangers, 2 % of a person's pairs (-3.6 bits; kept by training).
                    (NamesakeMailbox, 0.02, 0.25),
                    (Different, 0.37, 0.999),
                ],
            ),
            Comparison::new(
                Field::Phone,
                &[
                    (Exact, 0.6, 0.0001),
                    (OneDigit, 0.02, 0.0005),
                    // Two numbers of one kind: a mobile beside a landline is another
                    // kind of line and weighs nothing, so what is left is a person who
                    // changed mobile (or gave a work line beside the home's) on about
                    // one pair in seven, where two people of one name each give their
                    // own (-2.7 bits).
                    (Different, 0.15, 0.999),
                ],
            ),
            Comparison::new(
                Field::Address,
                &[
                    (Exact, 0.7, 0.002),
                    (Close, 0.06, 0.004),
                    (Different, 0.24, 0.994),
                ],
            ),
            Comparison::new(
                Field::Postcode,
                &[
                    (Exact, 0.75, 0.01),
                    (Near, 0.05, 0.05),
                    (Different, 0.2, 0.94),
                ],
            ),
            Comparison::new(
                Field::CardToken,
                &[(Exact, 0.4, 0.00001), (Different, 0.6, 0.99999)],
            ),
            Comparison::new(
                Field::ExternalId,
                &[(Exact, 0.9, 0.00001), (Different, 0.1, 0.99999)],
            ),
        ];
        Self {
            comparisons,
            frequency_prior: 500.0,
            rare_bonus: 1.0,
        }
    }
}

impl PersonModel {
    /// The comparison of `field`, if the model has one.
    pub fn comparison(&self, field: Field) -> Option<&Comparison> {
        self.comparisons.iter().find(|c| c.field == field)
    }

    pub(crate) fn comparison_mut(&mut self, field: Field) -> Option<&mut Comparison> {
        self.comparisons.iter_mut().find(|c| c.field == field)
    }

    /// The weight of `level` for `field`, or `None` if the model does not compare it.
    pub fn bits(&self, field: Field, level: Level) -> Option<f64> {
        self.comparison(field)?.level(level).map(LevelWeight::bits)
    }

    /// The weight of an exact match on a value `count` of `patrons` patrons share: the
    /// built-in `u` smoothed towards the observed frequency, so a common name counts less.
    pub fn exact_bits_with_frequency(
        &self,
        field: Field,
        count: usize,
        patrons: usize,
    ) -> Option<f64> {
        let exact = self.comparison(field)?.level(Level::Exact)?;
        Some(self.frequency_bits(exact, exact.bits(), count, patrons))
    }

    /// [`exact_bits_with_frequency`](Self::exact_bits_with_frequency) from the field's
    /// exact level and its weight (`exact.bits()`), for callers that keep both.
    pub(crate) fn frequency_bits(
        &self,
        exact: &LevelWeight,
        exact_bits: f64,
        count: usize,
        patrons: usize,
    ) -> f64 {
        let prior = self.frequency_prior.max(0.0);
        let u = (count as f64 + prior * exact.u) / (patrons as f64 + prior);
        // A rare value counts at most as much as the built-in rate says: two strangers
        // sharing an unusual name is rarer than a typo, but not impossible.
        bits(exact.m, u).min(exact_bits + self.rare_bonus)
    }
}
