//! The probabilistic person strategy (Fellegi-Sunter): graded comparisons of every field,
//! weighted by how often true matches and strangers agree that way.

mod ahead;
mod keys;
mod model;
mod train;

pub(crate) use ahead::SignalsAhead;
pub(crate) use keys::{KnownSounds, encode_with};
use keys::{NameExtras, NameKeys, ProfileKeys, StreetKey};

use smallvec::SmallVec;

pub use model::{Comparison, Level, LevelWeight, PersonModel};
pub use train::{LevelChange, RuleEstimate, Training, TrainingOptions};

use super::compare::{self, DateLevel, EmailLevel, PostcodeLevel};
use super::{
    Agreement, BlockingKey, BlockingKeys, Candidate, Candidates, Evidence, EvidenceItem, Field,
    KeyPrefix, Recognition, Strategy, Thresholds,
};
use crate::memory::{FiledPatrons, IndexView, PatronView};
use crate::model::ids::PatronId;
use crate::model::profile::{Identifier, IdentifierKind};
use crate::signals::NormalizedSignals;

/// How many of the most recent patrons under one blocking key are proposed: a key shared
/// by thousands ("John Smith") costs the same as a rare one.
const PER_KEY: usize = 12;

/// How many of the candidates the indexes point at most strongly are scored.
const MAX_SCORED: usize = 8;

/// How many of those are scored however loosely they were found: past these, only
/// patrons found by more than one blocking key or by an identifier are. A patron under one
/// loose key alone is what every common name brings by the dozen; measured over the
/// accuracy generator's records and the fuzzy queries at 100,000 patrons, the ones past
/// the fourth place almost never change who is recognized, yet cost a full scoring each.
const LOOSE_SCORED: usize = 4;

/// Recognizes people the way a careful box-office clerk would: it compares names
/// (nicknames, typos, sound-alikes, initials, swapped order), birth dates, e-mails, phones,
/// addresses, postcodes, card tokens and external ids, each at graded levels, and adds up
/// the weight of each level in bits. A match on a common name counts less than on a rare
/// one; a missing value counts nothing.
///
/// Candidates come from identifier indexes and from blocking keys (sound of the family
/// name with birth year or postcode, sound of both names, given name with birth date,
/// e-mail local part), never from a scan.
///
/// When the record's identifiers are used by one patron only, memory scores that patron
/// first and decides without comparing everyone's names if nobody else could change the
/// outcome: the holder agrees with the record, is sure enough to be known, and the best
/// anyone else could score trails it by the margin, with nobody else sharing an
/// identifier or a street, and nobody else able to be merged on the record (a merge
/// needs an exact agreement beyond the names, and a score at the merge threshold, or for
/// a runner-up the review threshold). It goes in two stages:
///
/// 1. Before any blocking key is looked up: with every field at its best level for
///    anyone who does not hold the record's identifiers (names swapped only if someone
///    else is filed under a name in the other's place, or at a name's most until that is
///    looked up), the holder is known, no other candidate is proposed or scored, and
///    [`Recognition::Known`]'s `others_at_most` reports that bound in place of a
///    runner-up. A record without a birth date, postcode or street (a name and an
///    e-mail, say) is settled here whenever the holder leads that bound by the margin:
///    nobody else can agree with it exactly beyond the names.
/// 2. Otherwise, among the candidates, each at its names' best levels and its other
///    fields as they compare; the runner-up is then found by branch and bound: the other
///    candidates are scored in decreasing order of the most they could score, until the
///    next could no longer beat the best found.
///
/// Either way the decision (patron, evidence, confidence, no duplicates or household) is
/// the one scoring every candidate gives, and so is the runner-up in the second stage.
///
/// This is memory's default strategy.
///
/// ```
/// use regulars::{Event, Memory, Order, Signals};
/// let mut memory = Memory::new();
/// let robert = memory.observe(Event::order("e-1", Order::new("o-1",
///     Signals::new().given_name("Robert").family_name("Oyelaran")
///         .email("rob@example.org").phone("+44 20 7946 0311"))))?.patron();
/// // A nickname and a new e-mail, the same phone: still him, and the evidence says why.
/// let seen = memory.recognize(&Signals::new().given_name("Bob").family_name("Oyelaran")
///     .email("bob.o@example.net").phone("+44 20 7946 0311"))?;
/// assert_eq!(seen.known_patron(), Some(robert));
/// assert!(seen.explain().contains("given name partly agrees (nickname)"));
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PersonMatcher {
    model: PersonModel,
    /// The model's weight of every level of every field, worked out once.
    bits: Box<[[Option<f64>; LEVELS]; FIELDS]>,
    /// Per field, [`most_inexact`](Self::most_inexact) worked out once (every
    /// recognition's bound reads it several times).
    most_inexact: [f64; FIELDS],
    /// Per field, the model's exact level and its weight, as
    /// [`PersonModel::exact_bits_with_frequency`] finds them, found once.
    exact: [Option<(LevelWeight, f64)>; FIELDS],
}

impl Default for PersonMatcher {
    fn default() -> Self {
        Self::with_model(PersonModel::default())
    }
}

/// Every field the model can weigh, in table order.
const FIELDS: usize = 11;
/// Every level, in table order.
const LEVELS: usize = 16;

fn field_slot(field: Field) -> usize {
    match field {
        Field::GivenName => 0,
        Field::FamilyName => 1,
        Field::BirthDate => 2,
        Field::Email => 3,
        Field::Phone => 4,
        Field::CardToken => 5,
        Field::ExternalId => 6,
        Field::Postcode => 7,
        Field::Address => 8,
        Field::Ticket => 9,
        Field::Event => 10,
    }
}

fn level_slot(level: Level) -> usize {
    match level {
        Level::Exact => 0,
        Level::Nickname => 1,
        Level::Close => 2,
        Level::Phonetic => 3,
        Level::Initial => 4,
        Level::Partial => 5,
        Level::Swapped => 6,
        Level::OneDigit => 7,
        Level::YearOnly => 8,
        Level::SameLocal => 9,
        Level::OneEdit => 10,
        Level::Near => 11,
        Level::Different => 12,
        Level::NamesakeMailbox => 13,
        Level::MailboxYear => 14,
        Level::MailboxOtherYear => 15,
    }
}

impl PersonMatcher {
    /// With the built-in weights.
    pub fn new() -> Self {
        Self::default()
    }

    /// With these weights (for example from [`Memory::train`](crate::Memory::train)).
    pub fn with_model(model: PersonModel) -> Self {
        let mut bits = Box::new([[None; LEVELS]; FIELDS]);
        let mut exact = [None; FIELDS];
        // The first comparison of a field wins, as in `PersonModel::bits` and
        // `PersonModel::exact_bits_with_frequency`.
        for comparison in model.comparisons.iter().rev() {
            exact[field_slot(comparison.field)] = comparison
                .level(Level::Exact)
                .map(|weight| (*weight, weight.bits()));
            let row = &mut bits[field_slot(comparison.field)];
            *row = [None; LEVELS];
            for weight in comparison.levels.iter().rev() {
                row[level_slot(weight.level)] = Some(weight.bits());
            }
            // A model from before two mailboxes of one name were told apart weighs them
            // as any other difference.
            let namesake = level_slot(Level::NamesakeMailbox);
            if row[namesake].is_none() {
                row[namesake] = row[level_slot(Level::Different)];
            }
        }
        let most_inexact = std::array::from_fn(|slot| {
            bits[slot]
                .iter()
                .enumerate()
                .filter(|&(level, _)| level != level_slot(Level::Exact))
                .map(|(_, bits)| bits.unwrap_or(0.0))
                .fold(0.0, f64::max)
        });
        Self {
            model,
            bits,
            most_inexact,
            exact,
        }
    }

    /// The weight of `level` for `field`, as [`PersonModel::bits`] gives it.
    fn bits(&self, field: Field, level: Level) -> Option<f64> {
        self.bits[field_slot(field)][level_slot(level)]
    }

    /// The weights.
    pub fn model(&self) -> &PersonModel {
        &self.model
    }

    /// Compares the prepared signals with a patron, one evidence item per comparison
    /// (missing values included, at zero weight); exact matches are weighed by how many
    /// patrons share the value.
    fn compare(&self, prepared: &Prepared<'_>, patron: &PatronView<'_>, out: &mut Evidence) {
        let block = prepared.index.comparison_keys(patron);
        let street = prepared.side.street_read();
        let mut keys = ProfileKeys::default();
        self.compare_block(prepared, street.as_ref(), patron, block, &mut keys, out);
    }

    /// [`compare`](Self::compare) with the patron's compact block already looked up, its
    /// keys read into `keys` (room reused from one candidate to the next), and the
    /// signals' street put together once for every candidate
    /// ([`SignalSide::street_read`]).
    fn compare_block<'k>(
        &self,
        prepared: &Prepared<'_>,
        street: Option<&compare::ReadStreet<'_>>,
        patron: &PatronView<'k>,
        block: Option<&'k str>,
        keys: &mut ProfileKeys<'k>,
        out: &mut Evidence,
    ) {
        if prepared.side.compares_addresses {
            keys.refill(block, patron);
        } else {
            keys.refill_but_addresses(block, patron);
        }
        // Each level weighed as it is found: no list of levels built, then read again.
        push_levels(&prepared.side, street, keys, &mut |field, level| {
            out.push(self.item(field, level, prepared));
        });
        self.withhold_unheard_bonus(out);
    }

    /// Takes the unheard family name's extra rare bonus (see [`Self::most_above_exact`])
    /// back when anything beyond the names disagrees: a mailbox, a phone (not merely
    /// another kind of line), a postcode of one's own. Nobody else holding a family name
    /// rules out strangers, not relatives: a father and son, or a mother and daughter, of
    /// one name share it, and each has contacts of their own. Only records with nothing
    /// against them keep it.
    fn withhold_unheard_bonus(&self, out: &mut Evidence) {
        let most = self.bits(Field::FamilyName, Level::Exact).unwrap_or(0.0)
            + self.model.rare_bonus.max(0.0);
        // The family name comes second: most candidates are done with after two items.
        let items = out.items();
        let Some(family) = items.iter().position(|i| i.field() == Field::FamilyName) else {
            return;
        };
        let unheard = items
            .get(family)
            .is_some_and(|i| i.agreement() == Agreement::Agrees && i.weight() > most);
        let differs = || {
            items.iter().any(|i| {
                i.agreement() == Agreement::Disagrees
                    && !matches!(i.field(), Field::GivenName | Field::FamilyName)
                    && i.detail() != OTHER_LINE
            })
        };
        if unheard
            && differs()
            && let Some(item) = out.items_mut().get_mut(family)
        {
            item.lower_to(most);
        }
    }

    // Inlined where each field is compared: the field is then known there, and most of
    // the matching on it folds away.
    #[inline(always)]
    fn item(&self, field: Field, level: Compared<'_>, prepared: &Prepared<'_>) -> EvidenceItem {
        let Some((level, value)) = level else {
            return EvidenceItem::new(field, Agreement::Missing, "missing on one side", 0.0);
        };
        let agreement = match level {
            Level::Exact => Agreement::Agrees,
            Level::Different | Level::NamesakeMailbox => Agreement::Disagrees,
            // The birth date is missing on one side; the mailbox only hints.
            Level::MailboxOtherYear => Agreement::Missing,
            _ => Agreement::Partly,
        };
        if let ValueRef::OtherLine = value {
            return EvidenceItem::new(field, agreement, OTHER_LINE, 0.0);
        }
        if let ValueRef::OtherCountry = value {
            let weight = self.bits(field, level).unwrap_or(0.0);
            return EvidenceItem::new(field, agreement, OTHER_COUNTRY, weight);
        }
        if let ValueRef::HouseholdMailbox = value {
            let weight = self.bits(field, level).unwrap_or(0.0);
            return EvidenceItem::new(field, agreement, "a household's mailbox", weight);
        }
        let base = self.bits(field, level).unwrap_or(0.0);
        if level != Level::Exact {
            return EvidenceItem::new(field, agreement, level.name(), base);
        }
        match value {
            ValueRef::Identifier(identifier) => match prepared.sharing(identifier) {
                Sharing::Neutralized => EvidenceItem::new(
                    field,
                    Agreement::Missing,
                    "shared by too many patrons: not counted",
                    0.0,
                ),
                Sharing::Users(users) => {
                    let users = users.max(1);
                    // One user (the usual case) takes nothing off: log2(1) is 0.
                    let weight = if users == 1 {
                        base
                    } else {
                        base - (users as f64).log2()
                    };
                    let detail = if users > 1 { "exact, shared" } else { "exact" };
                    EvidenceItem::new(field, agreement, detail, weight)
                }
            },
            ValueRef::Frequency(tag, value) => {
                let weight = self.exact_frequency_weight(field, tag, value, prepared);
                EvidenceItem::new(field, agreement, "exact", weight)
            }
            // Weighs as the rarer of the two: never more than the whole, which the
            // shortcut's bounds are worked out from.
            ValueRef::SharedSurname { part, whole } => {
                let weigh = |value| self.exact_frequency_weight(field, FAMILY_TAG, value, prepared);
                EvidenceItem::new(field, agreement, "exact", weigh(part).min(weigh(whole)))
            }
            ValueRef::OtherLine
            | ValueRef::HouseholdMailbox
            | ValueRef::OtherCountry
            | ValueRef::None => EvidenceItem::new(field, agreement, level.name(), base),
        }
    }
}

impl PersonMatcher {
    /// The weight of an exact match on `value` (one of the signals' own names or
    /// postcode), filed under `tag`: less for a common value.
    fn exact_frequency_weight(
        &self,
        field: Field,
        tag: &'static str,
        value: &str,
        prepared: &Prepared<'_>,
    ) -> f64 {
        prepared.frequency_weight(tag, value, |count| {
            let unheard = field == Field::FamilyName && count <= 1 && one_surname(value);
            self.exact_weight_for(field, count, unheard, prepared)
        })
    }

    /// The weight of an exact match on a value `count` patrons are filed under;
    /// `unheard` for a family name of one surname nobody else is filed under, which may
    /// reach one rare bonus more (see [`Self::most_above_exact`]).
    fn exact_weight_for(
        &self,
        field: Field,
        count: usize,
        unheard: bool,
        prepared: &Prepared<'_>,
    ) -> f64 {
        let base = self.bits(field, Level::Exact).unwrap_or(0.0);
        match self.exact[field_slot(field)] {
            Some((exact, exact_bits)) => {
                let unheard = if unheard {
                    self.model.rare_bonus.max(0.0)
                } else {
                    0.0
                };
                self.model.frequency_bits(
                    &exact,
                    exact_bits + unheard,
                    count,
                    prepared.index.patron_count(),
                )
            }
            None => base,
        }
    }

    /// The most above its built-in exact weight an exact match on `field` can reach by
    /// its frequency: the rare bonus, and for a family name twice that. Strangers share
    /// a family name mostly when it is a common one; a family name no other patron is
    /// filed under is one memory has never seen on anyone else, so two records sharing
    /// it (and the given name) are far likelier one person than two sharing a common
    /// one, whose namesakes box offices meet every week. Not a double surname, whose
    /// parts may each be common ("García Ruiz" is exact beside "García"), and not once
    /// anything beyond the names disagrees ([`Self::withhold_unheard_bonus`]).
    fn most_above_exact(&self, field: Field) -> f64 {
        let rare_bonus = self.model.rare_bonus.max(0.0);
        match field {
            Field::FamilyName => 2.0 * rare_bonus,
            _ => rare_bonus,
        }
    }

    /// The most a birth date compares at for a record without one: its mailbox's year
    /// (see [`Level::MailboxYear`]), or nothing.
    fn mailbox_year_bits(&self) -> f64 {
        self.bits(Field::BirthDate, Level::MailboxYear)
            .unwrap_or(0.0)
            .max(0.0)
    }

    /// The most a comparison of `field` can add at any level other than an exact match
    /// (never less than nothing: a missing value adds nothing).
    fn most_inexact(&self, field: Field) -> f64 {
        self.most_inexact[field_slot(field)]
    }

    /// The most the given and family name comparisons can add together, whoever the
    /// patron: each at its best level, exact matches at the weight their frequency gives
    /// them; with the names swapped too unless `swappable` is false (nobody it bounds can
    /// compare that way).
    fn most_for_names(&self, prepared: &Prepared<'_>, swappable: bool) -> f64 {
        // An exact match weighs what the name's frequency gives it, even for a name nobody
        // is filed under (memory restored from a snapshot taken with other strategies
        // lacks those keys, yet compares names all the same).
        let name = |field: Field, tag: &'static str, value: &str| {
            let exact = self.exact_frequency_weight(field, tag, value, prepared);
            self.most_inexact(field).max(exact)
        };
        let (given, family) = (prepared.side.given_key(), prepared.side.family_key());
        let in_place = given.map_or(0.0, |g| name(Field::GivenName, GIVEN_TAG, g))
            + family.map_or(0.0, |f| name(Field::FamilyName, FAMILY_TAG, f));
        // People swap names on forms: the family name compared with a given name, and the
        // other way round (only ever counted when both names are given).
        let swapped = match (given, family) {
            (Some(g), Some(f)) if swappable => {
                name(Field::GivenName, GIVEN_TAG, f) + name(Field::FamilyName, FAMILY_TAG, g)
            }
            _ => f64::NEG_INFINITY,
        };
        in_place.max(swapped)
    }

    /// [`most_for_names`](Self::most_for_names) without looking up who is filed under the
    /// names swapped: the swap at the most any name's frequency can give it (a rare
    /// name's cap), never less than the exact bound.
    fn most_for_names_capped(&self, prepared: &Prepared<'_>) -> f64 {
        let side = &prepared.side;
        let at_cap = |field: Field| {
            let exact =
                self.bits(field, Level::Exact).unwrap_or(0.0) + self.most_above_exact(field);
            self.most_inexact(field).max(exact)
        };
        let in_place = self.most_for_names(prepared, false);
        match (side.given_key(), side.family_key()) {
            (Some(_), Some(_)) => {
                in_place.max(at_cap(Field::GivenName) + at_cap(Field::FamilyName))
            }
            _ => in_place,
        }
    }

    /// The most weight any patron could get from these signals without sharing one of
    /// their identifiers or their street: every field at its best level (exact names and
    /// postcode at the weight their frequency gives them), identifiers at their best
    /// level short of exact.
    fn most_without_identifiers(&self, prepared: &Prepared<'_>, names: f64) -> f64 {
        let signals = prepared.side.signals;
        let mut total = names;
        if signals.birth_date().is_some() {
            let exact = self.bits(Field::BirthDate, Level::Exact).unwrap_or(0.0);
            total += self.most_inexact(Field::BirthDate).max(exact);
        } else if prepared.side.has_mailbox_year() {
            total += self.mailbox_year_bits();
        }
        if let Some(postcode) = prepared.side.postcode_key() {
            total += self
                .most_inexact(Field::Postcode)
                .max(self.exact_frequency_weight(
                    Field::Postcode,
                    POSTCODE_TAG,
                    postcode,
                    prepared,
                ));
        }
        for (kind, field) in [
            (IdentifierKind::Email, Field::Email),
            (IdentifierKind::Phone, Field::Phone),
            (IdentifierKind::CardToken, Field::CardToken),
            (IdentifierKind::External, Field::ExternalId),
        ] {
            if signals.identifiers().iter().any(|i| i.kind() == kind) {
                total += self.most_inexact(field);
            }
        }
        total
    }

    /// Works out the signals' side of every comparison once per recognition, for the
    /// shortcut, candidate generation and scoring to share; the identifiers' users looked
    /// up, the rest left to [`look_up`](Self::look_up). In two steps so that the
    /// prepared signals, most of a kilobyte, are built where they stay rather than
    /// copied there. What `ahead` worked out from these same signals is taken rather
    /// than worked out again.
    pub(crate) fn prepare<'a>(
        &self,
        signals: &'a NormalizedSignals,
        ahead: Option<&'a SignalsAhead>,
        index: IndexView<'a>,
    ) -> Prepared<'a> {
        Prepared::unlooked(signals, ahead, index, true)
    }

    /// Looks up the counts and keys recognition needs (see [`Prepared::look_up_staged`]).
    /// When one patron alone holds the signals' identifiers and bounds could settle the
    /// record (see [`could_settle_early`](Self::could_settle_early)), the blocking keys
    /// are left for [`Prepared::candidates`] to look up if they do not.
    pub(crate) fn look_up(
        &self,
        prepared: &mut Prepared<'_>,
        thresholds: &Thresholds,
        patrons: usize,
    ) {
        prepared.look_up_staged(|side| self.could_settle_early(side, thresholds, patrons));
    }

    /// Whether bounds alone might settle a record with these signals, judged before any
    /// count is looked up: the record has no street, and either nothing but its
    /// identifiers could agree exactly with another patron's (no birth date or
    /// postcode), or the most anyone without its identifiers could score, with exact
    /// names and postcode at the most their frequency can give them, stays under the
    /// merge threshold and the runner-up's (see
    /// [`Shortcut::settle`]). Only decides whether the
    /// blocking keys are looked up with the counts or after them, never the decision:
    /// names at that most are the common case in a large memory, where a record failing
    /// this needs the candidates anyway and its lookups should overlap.
    fn could_settle_early(
        &self,
        side: &SignalSide<'_>,
        thresholds: &Thresholds,
        patrons: usize,
    ) -> bool {
        let signals = side.signals;
        if side.street_line.is_some() {
            return false;
        }
        if signals.birth_date().is_none() && side.postcode_key().is_none() {
            // Only the margin can stop the holder, and it depends on their score.
            return true;
        }
        let most_exact_or_not = |field: Field, frequency: bool| {
            let exact = self.bits(field, Level::Exact).unwrap_or(0.0);
            let exact = if frequency {
                exact + self.most_above_exact(field)
            } else {
                exact
            };
            self.most_inexact(field).max(exact)
        };
        let names = [
            (side.given_key(), Field::GivenName),
            (side.family_key(), Field::FamilyName),
        ];
        let mut most: f64 = names
            .iter()
            .filter(|(value, _)| value.is_some())
            .map(|&(_, field)| most_exact_or_not(field, true))
            .sum();
        if signals.birth_date().is_some() {
            most += most_exact_or_not(Field::BirthDate, false);
        } else if side.has_mailbox_year() {
            most += self.mailbox_year_bits();
        }
        if side.postcode_key().is_some() {
            most += most_exact_or_not(Field::Postcode, true);
        }
        for (kind, field) in [
            (IdentifierKind::Email, Field::Email),
            (IdentifierKind::Phone, Field::Phone),
            (IdentifierKind::CardToken, Field::CardToken),
            (IdentifierKind::External, Field::ExternalId),
        ] {
            if signals.identifiers().iter().any(|i| i.kind() == kind) {
                most += self.most_inexact(field);
            }
        }
        most < thresholds.merge_at().min(thresholds.review_at()) + thresholds.raise_for(patrons)
    }

    /// The shortcut for a record, its holder not scored yet (see
    /// [`Shortcut::score_holder`]).
    pub(crate) fn shortcut<'p, 'a>(
        &'p self,
        prepared: &'p Prepared<'a>,
        thresholds: &Thresholds,
        patrons: usize,
    ) -> Shortcut<'p, 'a> {
        let raise = thresholds.raise_for(patrons);
        Shortcut {
            usable: false,
            matcher: self,
            names: 0.0,
            names_capped: false,
            holder: None,
            evidence: Evidence::new(),
            weight: f64::NEG_INFINITY,
            known_at: thresholds.known_at() + raise,
            merge_at: thresholds.merge_at() + raise,
            runner_up_merge_at: thresholds.review_at() + raise,
            margin: thresholds.margin_needed(),
            prepared,
        }
    }

    /// Scores each patron against prepared signals, one evidence list each: the same
    /// evidence [`Strategy::score_each`] gives.
    pub(crate) fn score_prepared<'e>(
        &self,
        prepared: &Prepared<'_>,
        patrons: &[PatronView<'_>],
        out: impl IntoIterator<Item = &'e mut Evidence>,
    ) {
        // Look every candidate's block up, and read each of its cache lines, before
        // scoring any: these loads do not depend on each other, so their cache misses
        // overlap instead of each candidate waiting for its own.
        // Pushed one by one into room made once: collecting goes through a generic extend.
        let mut blocks: SmallVec<[Option<&str>; 16]> = SmallVec::with_capacity(patrons.len());
        for patron in patrons {
            blocks.push(prepared.index.comparison_keys(patron));
        }
        touch(blocks.iter().copied());
        let mut keys = ProfileKeys::default();
        let street = prepared.side.street_read();
        for ((patron, evidence), block) in patrons.iter().zip(out).zip(blocks) {
            self.compare_block(
                prepared,
                street.as_ref(),
                patron,
                block,
                &mut keys,
                evidence,
            );
        }
    }
}

/// The holder of a record's identifiers, scored, and what deciding without scoring
/// every candidate must prove: see [`Shortcut::settle`] and [`Shortcut::decide`].
///
/// The decision is the one scoring every candidate gives: the same patron, evidence and
/// confidence; no duplicates or household, because nobody else can reach the merge
/// threshold or share an identifier or a street. When nobody at all could compete it is
/// taken before any candidate is looked up, with a bound on everyone else's score in
/// place of the runner-up; otherwise the runner-up is the same, found by branch and
/// bound (candidates scored in decreasing order of the most they could score, until the
/// next could no longer beat the best found).
#[derive(Debug)]
pub(crate) struct Shortcut<'p, 'a> {
    /// Whether the holder agrees with the record and is sure enough to be known: if not,
    /// the shortcut never decides, but the holder's evidence is reused when scoring.
    usable: bool,
    matcher: &'p PersonMatcher,
    prepared: &'p Prepared<'a>,
    /// The most the names can add, whoever the patron (worked out when usable).
    names: f64,
    /// Whether `names` counts the names swapped at their frequency cap rather than at
    /// what the patrons filed that way give (see [`uncap`](Self::uncap)).
    names_capped: bool,
    /// The sole holder of the record's identifiers, if there is one.
    holder: Option<PatronId>,
    evidence: Evidence,
    weight: f64,
    /// The weight from which the holder is sure enough to be known (the raised
    /// threshold).
    known_at: f64,
    merge_at: f64,
    /// The weight from which a runner-up agreeing exactly with the record beyond the
    /// names may be merged into the holder when their profiles prove them one (the
    /// raised review threshold): a record settled without its runner-up must rule that
    /// out.
    runner_up_merge_at: f64,
    margin: f64,
}

/// A candidate other than the holder: where its compared values are (its block, if that
/// was read), where its evidence sits in the items [`Shortcut::decide`] keeps for every
/// bound (every field but the names, as [`levels_of`] orders them, then the names' two
/// items if they were compared), and the most it could score. One list for every bound's
/// items keeps a bound small: bounds are pushed by value, and each item list inline was
/// a third of a kilobyte copied with it.
struct Bounded<'c> {
    patron: &'c PatronView<'c>,
    block: Option<&'c str>,
    others: std::ops::Range<usize>,
    /// Where the given and family names' items sit, in that order.
    names: Option<usize>,
    most: f64,
}

/// The evidence items of every bounded candidate (see [`Bounded`]): room inline for
/// seven candidates' fields and names.
type BoundItems = SmallVec<[EvidenceItem; 64]>;

impl Shortcut<'_, '_> {
    /// Sums taken in another order may differ in the last bits: a hair of slack.
    const SLACK: f64 = 1e-9;

    /// Scores the holder of a record whose identifiers only one patron uses: compatible
    /// with the record and sure enough to be known, the shortcut is usable. Without such
    /// a patron the shortcut never decides (see [`decide`](Self::decide)). Scored in
    /// place, once the shortcut is where it stays: its evidence is half a kilobyte,
    /// copied on every move.
    pub(crate) fn score_holder(&mut self) {
        let prepared = self.prepared;
        let Some(holder) = prepared.sole_holder() else {
            return;
        };
        self.matcher.compare(prepared, &holder, &mut self.evidence);
        let weight = self.evidence.weight();
        self.usable = !person_conflict(&self.evidence) && weight >= self.known_at;
        if self.usable {
            // The bound is on everyone but the holder. Until the patrons filed under the
            // names swapped are looked up, the swap counts at the most any name's
            // frequency can give it: a bound that usually settles the record as well.
            if prepared.in_the_others_place.get().is_some() {
                self.uncap();
            } else {
                self.names = self.matcher.most_for_names_capped(prepared);
                self.names_capped = true;
            }
        }
        self.holder = Some(holder.id());
        self.weight = weight;
    }

    /// The names' bound from the patrons actually filed under the names swapped (looked
    /// up now if they were not).
    fn uncap(&mut self) {
        let prepared = self.prepared;
        self.names = self
            .matcher
            .most_for_names(prepared, !prepared.only_the_holder_swaps());
        self.names_capped = false;
    }

    /// Whether a patron who may score up to `most` cannot change the decision: the holder
    /// leads them by the margin, and they cannot be proven a duplicate. Only a patron
    /// who could agree exactly with the record beyond the names (`could_agree_exactly`)
    /// can be a duplicate, whatever they score (see
    /// [`agrees_exactly_beyond_names`](crate::recognize::agrees_exactly_beyond_names)).
    fn outscores(&self, most: f64, could_agree_exactly: bool) -> bool {
        let most = most + Self::SLACK;
        self.usable
            && self.weight > most
            && self.weight - most >= self.margin
            && (!could_agree_exactly || most < self.merge_at)
    }

    /// The most anyone but the holder could score, if nobody at all could compete with
    /// the holder: every field at its best level for anyone who does not hold the
    /// record's identifiers (and the record has no street, which would make a household).
    ///
    /// Nobody else holds the record's identifiers, so only its birth date or postcode
    /// could agree exactly with someone else's: without them nobody else can be a
    /// duplicate or a runner-up merged by its profile, however close their names and
    /// near misses bring them. With them, the bound must stay under both thresholds.
    fn nobody_competes(&self) -> Option<f64> {
        let side = &self.prepared.side;
        if self.holder.is_none() || side.street_line.is_some() {
            return None;
        }
        let most = self
            .matcher
            .most_without_identifiers(self.prepared, self.names);
        let could_agree_exactly =
            side.signals.birth_date().is_some() || side.postcode_key().is_some();
        let no_runner_up_merge =
            !could_agree_exactly || most + Self::SLACK < self.runner_up_merge_at;
        (self.outscores(most, could_agree_exactly) && no_runner_up_merge).then_some(most)
    }

    /// The decision, taken before any candidate is looked up, when nobody at all could
    /// compete with the holder: the holder known, with no duplicates or household (nobody
    /// else can be merged on the record or share an identifier or a street), and the
    /// most anyone else could score in place of the runner-up. Scoring every candidate
    /// links the same patron with the same evidence, since whoever it would rank second
    /// trails by the margin. (Were the holder not among the candidates, eight other
    /// patrons being filed under more of the record's blocking keys, scoring would link
    /// someone trailing the holder by the margin: the holder is linked instead, as
    /// scoring them would.)
    ///
    /// `None` when it does not settle the record; the holder's evidence is then kept for
    /// [`decide`](Self::decide). Otherwise the holder and the bound, for
    /// [`into_known_alone`](Self::into_known_alone) to take the evidence where it is.
    pub(crate) fn settle(&mut self) -> Option<(PatronId, f64)> {
        let most = match self.nobody_competes() {
            Some(most) => most,
            None if self.names_capped => {
                self.uncap();
                self.nobody_competes()?
            }
            None => return None,
        };
        Some((self.holder?, most))
    }

    /// The recognition of a record [settled](Self::settle) alone: the holder known with
    /// its evidence, `others_at_most` in place of the runner-up. The shortcut is used up,
    /// so its evidence moves once, straight into the recognition (taking it out first
    /// copied the list twice and wrote an empty one back).
    #[inline]
    pub(crate) fn into_known_alone(self, holder: PatronId, others_at_most: f64) -> Recognition {
        Recognition::known_alone(holder, self.evidence, others_at_most)
    }

    /// Decides among the candidates recognition would score, when none of the others can
    /// compete: each at its names' best levels plus what its other fields actually
    /// compare at. The runner-up is then the one scoring every candidate reports.
    /// (A record nobody at all could compete for was [settled](Self::settle) before the
    /// candidates were looked up.)
    ///
    /// The decision scoring every candidate gives, or `None`: it then adds to `scored`
    /// every candidate it compared (the holder if among the candidates, and the others
    /// compared before it gave up), each with the evidence scoring gives, so scoring need
    /// not compare them again.
    pub(crate) fn decide<'v>(
        &mut self,
        candidates: &[PatronView<'v>],
        scored: &mut impl Extend<Candidate>,
    ) -> Option<Recognition> {
        let holder = self.holder?;
        if self.names_capped {
            // Candidates are bounded one by one: the tighter bound skips more of them.
            self.uncap();
        }
        if !candidates.iter().any(|c| c.id() == holder) {
            return None;
        }
        if !self.usable {
            return self.hand_back(&[], &[], scored);
        }
        let mut blocks: SmallVec<[(&PatronView<'v>, Option<&str>); 16]> =
            SmallVec::with_capacity(candidates.len());
        for candidate in candidates.iter().filter(|c| c.id() != holder) {
            blocks.push((candidate, self.prepared.index.comparison_keys(candidate)));
        }
        // Read every block's first byte before comparing any, so their cache misses
        // overlap (as scoring does).
        touch(blocks.iter().map(|(_, block)| *block));
        let mut others: SmallVec<[Bounded<'_>; 8]> = SmallVec::with_capacity(blocks.len());
        let mut items = BoundItems::new();
        let mut keys = ProfileKeys::default();
        let street = self.prepared.side.street_read();
        for (candidate, block) in blocks {
            let read = keys.refill(block, candidate);
            let start = items.len();
            let (mut rest, mut household, mut agrees_exactly) = (0.0, false, false);
            let (matcher, prepared) = (self.matcher, self.prepared);
            push_other_levels(
                &prepared.side,
                street.as_ref(),
                &keys,
                &mut |field, level| {
                    let item = matcher.item(field, level, prepared);
                    if item.agreement() == Agreement::Agrees {
                        // Agreeing on a household field with another name makes a household.
                        household |= matches!(
                            field,
                            Field::Email | Field::Phone | Field::CardToken | Field::Address
                        );
                        agrees_exactly |= item.weight() > 0.0;
                    }
                    rest += item.weight();
                    items.push(item);
                },
            );
            if household {
                return self.hand_back(&others, &items, scored);
            }
            let mut bounded = Bounded {
                patron: candidate,
                block: block.filter(|_| read),
                others: start..items.len(),
                names: None,
                most: self.names + rest,
            };
            if !self.outscores(bounded.most, agrees_exactly) {
                // With their names at best they could compete: compare the names, so the
                // bound is their actual score (and the comparison is kept for ranking).
                let compared = self.names_of(&keys);
                bounded.most = compared[0].weight() + compared[1].weight() + rest;
                bounded.names = Some(items.len());
                items.extend(compared);
            }
            let competes = !self.outscores(bounded.most, agrees_exactly);
            others.push(bounded);
            if competes {
                return self.hand_back(&others, &items, scored);
            }
        }
        let runner_up = self.runner_up(&others, &items);
        let evidence = std::mem::take(&mut self.evidence);
        Some(Recognition::known_over(holder, evidence, runner_up))
    }

    /// Gives up: adds the holder and every other candidate compared so far to `scored`,
    /// with the evidence `compare_block` gives them.
    fn hand_back(
        &mut self,
        others: &[Bounded<'_>],
        items: &[EvidenceItem],
        scored: &mut impl Extend<Candidate>,
    ) -> Option<Recognition> {
        let mut keys = ProfileKeys::default();
        for other in others {
            let mut evidence = Evidence::new();
            self.fill_evidence(other, items, &mut keys, &mut evidence);
            scored.extend(Some(Candidate::new(other.patron.id(), evidence)));
        }
        if let Some(holder) = self.holder {
            let evidence = std::mem::take(&mut self.evidence);
            scored.extend(Some(Candidate::new(holder, evidence)));
        }
        None
    }

    /// What `compare_block` adds for a bounded candidate, with the fields other than the
    /// names reused from the bound: the names first (compared now unless they were),
    /// then the rest in `levels_of`'s order, read from `items` where `decide` kept them.
    fn fill_evidence<'c>(
        &self,
        other: &Bounded<'c>,
        items: &[EvidenceItem],
        keys: &mut ProfileKeys<'c>,
        out: &mut Evidence,
    ) {
        match other.names.and_then(|at| items.get(at..at + 2)) {
            Some(names) => {
                for item in names {
                    out.push(item.clone());
                }
            }
            None => {
                keys.refill_names(other.block, other.patron);
                for item in self.names_of(keys) {
                    out.push(item);
                }
            }
        }
        for item in items.get(other.others.clone()).unwrap_or_default() {
            out.push(item.clone());
        }
        self.matcher.withhold_unheard_bonus(out);
    }

    /// The evidence of the given and family names of a candidate, as `compare_block`
    /// gives it.
    fn names_of(&self, keys: &ProfileKeys<'_>) -> [EvidenceItem; 2] {
        let (given, family) = compare_names(&self.prepared.side, &keys.names);
        [
            self.matcher.item(Field::GivenName, given, self.prepared),
            self.matcher.item(Field::FamilyName, family, self.prepared),
        ]
    }

    /// The best of the other candidates as scoring every candidate ranks them (the
    /// highest weight, ties to the older patron), scoring only those whose bound could
    /// still beat the best found.
    fn runner_up(&self, others: &[Bounded<'_>], items: &[EvidenceItem]) -> Option<Candidate> {
        // Most promising first; among equal bounds the older patron, so a tie is met in
        // the order ranking breaks it.
        let mut order: SmallVec<[usize; 8]> = (0..others.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (&others[a], &others[b]);
            b.most
                .total_cmp(&a.most)
                .then(a.patron.id().cmp(&b.patron.id()))
        });
        let mut best: Option<(f64, PatronId)> = None;
        let mut best_evidence = Evidence::new();
        let mut scratch = Evidence::new();
        let mut keys = ProfileKeys::default();
        for other in order.iter().filter_map(|&at| others.get(at)) {
            if let Some((weight, _)) = best
                && other.most + Self::SLACK < weight
            {
                // Bounds only fall from here: nobody left can beat or tie the best.
                break;
            }
            scratch.clear();
            self.fill_evidence(other, items, &mut keys, &mut scratch);
            let weight = scratch.weight();
            let beats = best.is_none_or(|(best_weight, best)| {
                weight
                    .total_cmp(&best_weight)
                    .then(best.cmp(&other.patron.id()))
                    .is_gt()
            });
            if beats {
                best = Some((weight, other.patron.id()));
                std::mem::swap(&mut best_evidence, &mut scratch);
            }
        }
        best.map(|(_, patron)| Candidate::new(patron, best_evidence))
    }
}

/// Reads a byte of every cache line of every block: these loads do not depend on each
/// other, so their cache misses overlap instead of each candidate waiting for its own
/// as its block is decoded.
fn touch<'b>(blocks: impl Iterator<Item = Option<&'b str>>) {
    /// The cache line of every current x86-64 and most Arm cores.
    const LINE: usize = 64;
    let sampled: u32 = blocks
        .flatten()
        .flat_map(|b| b.as_bytes().iter().step_by(LINE))
        .map(|&b| u32::from(b))
        .sum();
    std::hint::black_box(sampled);
}

/// How many patrons use one of the signals' identifiers.
#[derive(Clone, Copy, Debug)]
enum Sharing {
    /// On the blocklist or past the shared limit: not counted.
    Neutralized,
    /// Used by this many patrons.
    Users(usize),
}

/// One side of a name comparison: the folded name, its first word, and, worked out on
/// first need (a name that agrees exactly needs neither), the first word's place in the
/// nickname table, the name's sound and both sounds of its first word (which its
/// blocking keys combine).
#[derive(Clone, Debug)]
struct NameSide<'a> {
    key: &'a str,
    /// Up to the first space (see [`up_to_space`](Self::up_to_space)), found on first
    /// need: a name that agrees exactly never asks for it.
    up_to_space: std::cell::Cell<Option<&'a str>>,
    /// The first whitespace-separated word (see [`compare::first_word`]), which the sounds are of:
    /// found on first need, once, as every blocking key of the name's words asks for it.
    first_word: std::cell::Cell<Option<&'a str>>,
    /// The name's bytes as a set (see [`compare::byte_set`]), for the spelling bound
    /// every candidate's name is checked against, worked out on first need (many sides
    /// are made for blocking keys alone).
    bytes: std::cell::Cell<Option<u64>>,
    /// The generation suffix the name ends with (see [`generation`]), on first need.
    generation: std::cell::Cell<Option<Option<&'static str>>>,
    first_nicknames: std::cell::Cell<Option<compare::NicknameEntry>>,
    sounds: std::cell::Cell<Option<NameSounds>>,
}

/// A name's Double Metaphone primary code, and both codes of its first word (as
/// [`compare::phonetic_keys_word`] gives them).
#[derive(Clone, Copy, Debug)]
struct NameSounds {
    sound: compare::PhoneticKey,
    word_sounds: (compare::PhoneticKey, compare::PhoneticKey),
}

impl<'a> NameSide<'a> {
    fn new(key: &'a str) -> Self {
        Self {
            key,
            up_to_space: std::cell::Cell::new(None),
            first_word: std::cell::Cell::new(None),
            bytes: std::cell::Cell::new(None),
            generation: std::cell::Cell::new(None),
            first_nicknames: std::cell::Cell::new(None),
            sounds: std::cell::Cell::new(None),
        }
    }

    /// The name up to its first space, found once.
    fn up_to_space(&self) -> &'a str {
        if let Some(first) = self.up_to_space.get() {
            return first;
        }
        // A byte search: `split(' ')` walks a searcher through the name.
        let key = self.key;
        let first = match key.as_bytes().iter().position(|&b| b == b' ') {
            Some(space) => key.get(..space).unwrap_or(key),
            None => key,
        };
        self.up_to_space.set(Some(first));
        first
    }

    /// Takes what was worked out ahead for this name as if worked out here.
    fn know(&self, ahead: &ahead::NameAhead) {
        self.sounds.set(Some(ahead.sounds));
        self.first_nicknames.set(Some(ahead.nicknames));
        self.bytes.set(Some(ahead.bytes));
        self.generation.set(Some(ahead.generation));
    }

    /// The first word's nickname table entry, looked up once.
    fn nicknames(&self) -> compare::NicknameEntry {
        if let Some(entry) = self.first_nicknames.get() {
            return entry;
        }
        let entry = compare::NicknameEntry::of(self.up_to_space());
        self.first_nicknames.set(Some(entry));
        entry
    }

    /// See [`NameSide::bytes`](#structfield.bytes).
    fn bytes(&self) -> u64 {
        if let Some(bytes) = self.bytes.get() {
            return bytes;
        }
        let bytes = compare::byte_set(self.key.as_bytes());
        self.bytes.set(Some(bytes));
        bytes
    }

    /// See [`NameSide::generation`](#structfield.generation).
    fn generation(&self) -> Option<&'static str> {
        if let Some(known) = self.generation.get() {
            return known;
        }
        let known = generation(self.key);
        self.generation.set(Some(known));
        known
    }

    /// See [`NameSide::first_word`](#structfield.first_word).
    fn first_word(&self) -> &'a str {
        if let Some(word) = self.first_word.get() {
            return word;
        }
        let word = compare::first_word(self.key);
        self.first_word.set(Some(word));
        word
    }

    /// The name's sounds, worked out once.
    fn name_sounds(&self) -> NameSounds {
        if let Some(sounds) = self.sounds.get() {
            return sounds;
        }
        // The first word as found once for this side, not searched for again.
        let word = self.first_word();
        let word_sounds = compare::phonetic_keys_of_word(word);
        // A one-word name sounds as its word does: Double Metaphone is worked out once
        // for both (the primary code does not depend on asking for the alternate too).
        let sound = if word == self.key {
            word_sounds.0
        } else {
            compare::phonetic_key(self.key)
        };
        let sounds = NameSounds { sound, word_sounds };
        self.sounds.set(Some(sounds));
        sounds
    }

    /// The name's Double Metaphone primary code.
    fn sound(&self) -> compare::PhoneticKey {
        self.name_sounds().sound
    }

    /// Both Double Metaphone codes of the name's first word.
    fn word_sounds(&self) -> (compare::PhoneticKey, compare::PhoneticKey) {
        self.name_sounds().word_sounds
    }

    /// Both sounds of the first word of `text` (a word of this name), as
    /// [`compare::phonetic_keys_word`] gives them: the name's own first word's are known.
    fn sounds_of_word(&self, text: &str) -> (compare::PhoneticKey, compare::PhoneticKey) {
        let own = self.first_word();
        // The name's own first word (all of a one-word name) is its own first word: no
        // search needed to tell.
        if std::ptr::eq(text, own) || compare::first_word(text) == own {
            self.word_sounds()
        } else {
            compare::phonetic_keys_word(text)
        }
    }

    /// The nickname table groups of the name's first word. The entry is kept: a
    /// recognition files the name under its groups and compares it with every candidate's.
    fn nickname_groups(&self) -> &'static [compare::NicknameGroup] {
        self.nicknames().groups()
    }

    /// Whether `other` (whose sound is `other_sound`, if known) sounds like this name.
    fn sounds_like(&self, other: &str, other_sound: Option<&[u8]>) -> bool {
        match other_sound {
            Some(sound) => self.sound().as_bytes() == sound,
            None => self.sound() == compare::phonetic_key(other),
        }
    }
}

/// The signals' side of every comparison that does not need memory.
#[derive(Debug)]
struct SignalSide<'a> {
    signals: &'a NormalizedSignals,
    /// What was worked out from the signals ahead, taken rather than worked out again.
    ahead: Option<&'a SignalsAhead>,
    given: Option<NameSide<'a>>,
    family: Option<NameSide<'a>>,
    /// The e-mail signals, in their order, each split once with what only depends on
    /// the record worked out: on first need, as most calls compare no e-mail.
    emails: std::cell::OnceCell<SmallVec<[EmailSide<'a>; 1]>>,
    /// What only comparing candidates' streets or names inexactly needs, on first need
    /// and out of line: an exact hit neither fills nor moves its kilobyte.
    comparing: std::cell::OnceCell<Box<Comparing>>,
    /// The names' letters as mailboxes spell them, on first need.
    name_letters: std::cell::OnceCell<NameLetters>,
    /// Whether one of the signals' e-mails is a household's mailbox, on first need.
    household_mailbox: std::cell::OnceCell<bool>,
    /// The year each of the signals' e-mails ends in (see [`mailbox_year`]), in their
    /// order, on first need: the bound and every comparison with a dated patron read it.
    mailbox_years: std::cell::OnceCell<SmallVec<[Option<u8>; 1]>>,
    /// The postcode read once: every candidate's postcodes are compared with it.
    postcode: Option<compare::PreparedPostcode<'a>>,
    /// The signals' postcode and street line, read once: the signals keep their parts
    /// packed, and the bounds and weights ask for them often.
    postcode_key: Option<&'a str>,
    street_line: Option<&'a str>,
    /// Whether the signals have a street, postcode or country: without one, no
    /// comparison reads a patron's addresses.
    compares_addresses: bool,
}

/// The signals' street line read (see [`Comparing`]).
fn read_street(signals: &NormalizedSignals) -> Option<compare::PreparedStreet> {
    signals
        .address()
        .street()
        .and_then(compare::PreparedStreet::new)
}

/// The part of [`SignalSide`] only inexact comparisons read.
#[derive(Debug)]
struct Comparing {
    /// The street line read once: every candidate's streets are compared with it.
    street: Option<compare::PreparedStreet>,
    /// Name comparisons already made in this recognition: candidates found through one
    /// blocking key often share a name, and the spelling comparisons are the costly part.
    names_compared: NameMemo,
}

/// Letters only, as a mailbox spells a name (`van den Berg` is `vandenberg`).
type Letters = SmallVec<[u8; 32]>;

fn letters(s: &str) -> Letters {
    let bytes = s.as_bytes();
    if bytes.len() > 32 {
        return bytes
            .iter()
            .copied()
            .filter(u8::is_ascii_lowercase)
            .collect();
    }
    // Every candidate's mailbox goes through here: copy each byte and advance only past
    // letters, without a branch or a growth check per byte.
    let mut kept = [0u8; 32];
    let mut len = 0;
    for &b in bytes {
        kept[len] = b;
        len += usize::from(b.is_ascii_lowercase());
    }
    Letters::from_slice(&kept[..len])
}

/// Where `word` (non-empty) first occurs in `text`. Recognition looks for words in every
/// candidate's mailbox: testing the first letter before comparing the rest keeps most
/// windows from costing a comparison call.
fn find_word(text: &[u8], word: &[u8]) -> Option<usize> {
    let (&first, rest) = word.split_first()?;
    if text.len() < word.len() {
        return None;
    }
    text.windows(word.len())
        .position(|w| w[0] == first && &w[1..] == rest)
}

/// The signals' names as mailboxes spell them: the whole given name, its first word,
/// and the family name.
#[derive(Clone, Debug)]
struct NameLetters {
    given: Letters,
    first_given: Letters,
    family: Letters,
}

impl NameLetters {
    // Inlined where it is read on first need, as it was before it was shared.
    #[inline]
    fn of(given: Option<&NameSide<'_>>, family: Option<&NameSide<'_>>) -> Self {
        Self {
            given: letters(given.map_or("", |n| n.key)),
            first_given: letters(given.map_or("", |n| n.up_to_space())),
            family: letters(family.map_or("", |n| n.key)),
        }
    }
}

impl<'a> SignalSide<'a> {
    fn new(signals: &'a NormalizedSignals, ahead: Option<&'a SignalsAhead>) -> Self {
        let address = signals.address();
        let postcode_key = address.postcode();
        let street_line = address.street();
        Self {
            signals,
            ahead,
            given: signals.given_key().map(NameSide::new),
            family: signals.family_key().map(NameSide::new),
            emails: std::cell::OnceCell::new(),
            comparing: std::cell::OnceCell::new(),
            name_letters: std::cell::OnceCell::new(),
            household_mailbox: std::cell::OnceCell::new(),
            mailbox_years: std::cell::OnceCell::new(),
            postcode: postcode_key.map(compare::PreparedPostcode::new),
            postcode_key,
            street_line,
            compares_addresses: street_line.is_some()
                || postcode_key.is_some()
                || address.country().is_some(),
        }
    }

    /// Takes what was worked out ahead, as if worked out here. Not in
    /// [`new`](Self::new), which builds the side where it stays: taking them there
    /// moved it, a copy every recognition paid.
    #[inline(never)]
    fn know(&self, ahead: &SignalsAhead) {
        if let (Some(side), Some(known)) = (&self.given, ahead.given()) {
            side.know(known);
        }
        if let (Some(side), Some(known)) = (&self.family, ahead.family()) {
            side.know(known);
        }
        // Set where they are read, rather than read from `ahead` there: those reads are
        // once per candidate, and stay as they are for a recognition with nothing ahead.
        let _ = self.name_letters.set(ahead.name_letters().clone());
        let _ = self.household_mailbox.set(ahead.household_mailbox());
    }

    /// The signals' folded given name (the one [`NameSide`] compares).
    fn given_key(&self) -> Option<&'a str> {
        self.given.as_ref().map(|name| name.key)
    }

    /// The signals' folded family name (the one [`NameSide`] compares).
    fn family_key(&self) -> Option<&'a str> {
        self.family.as_ref().map(|name| name.key)
    }

    /// The signals' postcode, normalized.
    fn postcode_key(&self) -> Option<&'a str> {
        self.postcode_key
    }

    /// See [`SignalSide::mailbox_years`](#structfield.mailbox_years).
    fn mailbox_years(&self) -> &[Option<u8>] {
        self.mailbox_years.get_or_init(|| {
            // Pushed one by one: collecting through the filter goes through a generic
            // extend, which costs more than the one e-mail a record usually has.
            let mut years = SmallVec::new();
            for identifier in self.signals.identifiers() {
                if identifier.kind() == IdentifierKind::Email {
                    years.push(mailbox_year(identifier.value()));
                }
            }
            years
        })
    }

    /// Whether a record without a birth date could still compare on one: a mailbox of
    /// its ends in two digits, to be read as a birth year (see [`Level::MailboxYear`]),
    /// from the years read once.
    fn has_mailbox_year(&self) -> bool {
        self.mailbox_years().iter().any(Option::is_some)
    }

    /// The street line's words and numbers, put together from the line read once: for
    /// comparing with every candidate's line a block keeps read (see
    /// [`compare_streets`]).
    fn street_read(&self) -> Option<compare::ReadStreet<'_>> {
        self.street().map(compare::PreparedStreet::read)
    }

    /// The street line read once (see [`Comparing`]).
    fn street(&self) -> Option<&compare::PreparedStreet> {
        self.street_line?;
        self.comparing().street.as_ref()
    }

    /// See [`Comparing`].
    fn comparing(&self) -> &Comparing {
        self.comparing.get_or_init(|| {
            Box::new(Comparing {
                street: match self.ahead {
                    Some(ahead) => ahead.street(),
                    None => read_street(self.signals),
                },
                names_compared: NameMemo::default(),
            })
        })
    }

    /// See [`NameLetters`].
    fn name_letters(&self) -> &NameLetters {
        (self.name_letters)
            .get_or_init(|| NameLetters::of(self.given.as_ref(), self.family.as_ref()))
    }

    /// Whether one of the signals' e-mails is a household's mailbox (see
    /// [`is_household_mailbox`]).
    fn has_household_mailbox(&self) -> bool {
        *self.household_mailbox.get_or_init(|| {
            self.emails()
                .iter()
                .any(|e| is_household_mailbox(&e.email, self))
        })
    }

    /// The e-mail signals, prepared (see [`EmailSide`]).
    fn emails(&self) -> &[EmailSide<'a>] {
        self.emails.get_or_init(|| {
            // Pushed one by one, as the years are (see `mailbox_years`).
            let mut emails = SmallVec::new();
            for identifier in self.signals.identifiers() {
                if identifier.kind() == IdentifierKind::Email {
                    emails.push(EmailSide::new(identifier, self));
                }
            }
            emails
        })
    }
}

/// One of the signals' e-mails, split once, with the answers that depend on the record
/// alone: whether its mailbox is spelled from the record's names, and the record's given
/// name when the mailbox spells it.
#[derive(Debug)]
struct EmailSide<'a> {
    identifier: &'a Identifier,
    email: compare::PreparedEmail<'a>,
    /// See [`local_is_name`]: worked out when a patron first shares the mailbox name.
    local_is_name: std::cell::Cell<Option<bool>>,
    /// The record's given name (its first word, of three letters or more) when the local
    /// part spells it: see [`EmailSide::edit_changes_own_given_name`].
    spelled_given: Option<&'a str>,
}

impl<'a> EmailSide<'a> {
    fn new(identifier: &'a Identifier, side: &SignalSide<'a>) -> Self {
        let email = compare::PreparedEmail::new(identifier.value());
        let spelled_given = side
            .given
            .as_ref()
            .map(NameSide::up_to_space)
            .filter(|g| g.len() >= 3)
            .filter(|g| {
                email
                    .untagged_local()
                    .is_some_and(|local| local.contains(g))
            });
        Self {
            identifier,
            email,
            local_is_name: std::cell::Cell::new(None),
            spelled_given,
        }
    }

    /// How the record's address compares with a patron's, as `push_other_levels` grades
    /// it.
    fn level(&self, theirs: &compare::PreparedEmail<'_>, side: &SignalSide<'_>) -> Level {
        match self.email.level_split(theirs) {
            EmailLevel::Exact => Level::Exact,
            // john.smith@ at two providers is what anyone named John Smith picks:
            // the names already count, so the mailbox adds nothing of its own.
            EmailLevel::SameLocal if self.local_is_name(side) => Level::Different,
            EmailLevel::SameLocal => Level::SameLocal,
            // smith1@ and smith2@ are two accounts, not a typo.
            EmailLevel::OneEdit if differ_in_digits(self.identifier.value(), theirs.whole()) => {
                self.different(theirs, side)
            }
            // emma.berg@ and emmy.berg@ are two sisters' mailboxes, not a typo: the one
            // edit falls in the given name the record's mailbox is spelled from. A letter
            // doubled, two swapped or a neighbouring key (florennce.berg@) is a slip of the
            // finger, as in a given name (see `another_letter_and_sound`).
            EmailLevel::OneEdit
                if self.edit_changes_own_given_name(theirs)
                    && !slip_of_the_finger(self.identifier.value(), theirs.whole()) =>
            {
                Level::Different
            }
            // john.smith@ and johnsmith@ at one provider are how two John Smiths' mailboxes
            // differ (the second takes the name without the dot), not a typo.
            EmailLevel::OneEdit
                if differ_in_separators(self.identifier.value(), theirs.whole())
                    && self.local_is_name(side) =>
            {
                self.different(theirs, side)
            }
            EmailLevel::OneEdit => Level::OneEdit,
            EmailLevel::Different => self.different(theirs, side),
        }
    }

    /// How a mailbox other than the patron's `theirs` compares: a namesake's when both
    /// are spelled from the record's names alone, else just different.
    fn different(&self, theirs: &compare::PreparedEmail<'_>, side: &SignalSide<'_>) -> Level {
        if self.local_is_name(side) && local_is_name(theirs, side) {
            Level::NamesakeMailbox
        } else {
            Level::Different
        }
    }

    /// [`local_is_name`] of this address, worked out once.
    fn local_is_name(&self, side: &SignalSide<'_>) -> bool {
        if let Some(known) = self.local_is_name.get() {
            return known;
        }
        let answer = local_is_name(&self.email, side);
        self.local_is_name.set(Some(answer));
        answer
    }

    /// Whether the record's e-mail spells the record's own given name (of three letters
    /// or more) in its local part and the patron's `theirs` does not: a one-edit
    /// difference between them is then a different name, a sibling's or twin's mailbox
    /// (`emma.berg@` and `emmy.berg@`), rather than a typo of the same one.
    fn edit_changes_own_given_name(&self, theirs: &compare::PreparedEmail<'_>) -> bool {
        let Some(given) = self.spelled_given else {
            return false;
        };
        theirs
            .untagged_local()
            .is_some_and(|theirs| !theirs.contains(given))
    }
}

/// Which comparison a remembered name level came from: the name function used, and
/// whether the signals' names were swapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NameComparison {
    Given { swapped: bool },
    Family { swapped: bool },
}

/// One remembered name comparison: the candidate's folded name (kept inline, so
/// remembering allocates nothing) and the level it compared at.
#[derive(Clone, Copy, Debug)]
struct RememberedName {
    comparison: NameComparison,
    len: u8,
    name: [u8; NameMemo::LONGEST],
    level: Level,
}

/// The levels of name comparisons made so far in one recognition, looked up by the
/// candidate's name. The level depends only on the two names, so reusing it gives the
/// same evidence as comparing again.
#[derive(Debug, Default)]
struct NameMemo {
    /// Room inline for the names of a usual recognition (eight candidates, a name or two
    /// each): spilling to the heap would allocate every call.
    remembered: std::cell::RefCell<SmallVec<[RememberedName; NameMemo::INLINE]>>,
}

impl NameMemo {
    /// Names longer than this are compared every time.
    const LONGEST: usize = 30;
    /// Remembering stops here: a recognition scores at most a few candidates.
    const MOST: usize = 32;
    /// Remembered without allocating.
    const INLINE: usize = 16;

    /// The level of `comparison` against `name`, worked out by `compare` unless already
    /// known.
    fn level(
        &self,
        comparison: NameComparison,
        name: &str,
        compare: impl FnOnce() -> Level,
    ) -> Level {
        let bytes = name.as_bytes();
        if bytes.len() > Self::LONGEST {
            return compare();
        }
        if let Ok(remembered) = self.remembered.try_borrow()
            && let Some(hit) = remembered.iter().find(|r| {
                r.comparison == comparison
                    && usize::from(r.len) == bytes.len()
                    && r.name.get(..bytes.len()) == Some(bytes)
            })
        {
            return hit.level;
        }
        let level = compare();
        if let Ok(mut remembered) = self.remembered.try_borrow_mut()
            && remembered.len() < Self::MOST
        {
            let mut entry = RememberedName {
                comparison,
                len: bytes.len() as u8,
                name: [0; Self::LONGEST],
                level,
            };
            if let Some(slot) = entry.name.get_mut(..bytes.len()) {
                slot.copy_from_slice(bytes);
                remembered.push(entry);
            }
        }
        level
    }
}

/// The signals prepared once per recognition and reused for every candidate: the sounds
/// of their names, how many patrons share each identifier and each exact name and
/// postcode (these only depend on the signals, not on the candidate).
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    side: SignalSide<'a>,
    index: IndexView<'a>,
    /// The patrons using each of the signals' identifiers, in their order; `None` for a
    /// neutralized one.
    users: SmallVec<[Option<&'a [PatronId]>; 4]>,
    /// The weight of an exact match on the signals' own given name, family name and
    /// postcode (which depends on how many patrons share it), then on the family name
    /// filed as a given name and the given name as a family name, worked out on first
    /// need.
    frequency_weights: [std::cell::Cell<Option<f64>>; 5],
    /// How many patrons are filed under the signals' own given name, family name and
    /// postcode, then under the family name as a given name and the given name as a
    /// family name (as [`frequency_weight`](Self::frequency_weight) numbers them); `None`
    /// where the signals lack the value or it is looked up on need.
    own_counts: [Option<usize>; 5],
    /// The patrons filed under the signals' family name as a given name and under their
    /// given name as a family name: the only ones the names can compare with swapped
    /// (empty where the signals lack a name). Looked up with the other counts when the
    /// blocking keys are; for a record the holder's score may settle, only if the
    /// names' most at their frequency cap does not (see
    /// [`PersonMatcher::shortcut`]).
    in_the_others_place: std::cell::OnceCell<[FiledPatrons<'a>; 2]>,
    /// The one live patron using the signals' identifiers, if there is one (looked for
    /// only for a whole recognition).
    holder: Option<PatronView<'a>>,
    /// The person strategy's candidates, when their blocking keys were looked up with
    /// the counts; `None` until [`candidates`](Self::candidates) looks them up.
    proposed: Option<Candidates>,
}

impl<'a> Prepared<'a> {
    /// For scoring only: no candidates are proposed from it, and no holder looked for.
    fn new(signals: &'a NormalizedSignals, index: IndexView<'a>) -> Self {
        let mut prepared = Self::unlooked(signals, None, index, false);
        prepared.look_up(Some(&BlockingKeys::default()));
        prepared
    }

    /// For a whole recognition, in stages. The identifiers were looked up first: when one
    /// patron alone holds them and `could_settle` says bounds might settle the record,
    /// only the counts their score and the shortcut's bound need are looked up now, and
    /// the blocking keys only if the shortcut does not settle it
    /// ([`candidates`](Self::candidates)). Otherwise the blocking keys are looked up
    /// now, with the counts, in one batch.
    fn look_up_staged(&mut self, could_settle: impl FnOnce(&SignalSide<'a>) -> bool) {
        if let Some(ahead) = self.side.ahead {
            self.side.know(ahead);
        }
        if self.holder.is_some() && could_settle(&self.side) {
            self.look_up(None);
        } else if let Some(ahead) = self.side.ahead {
            self.look_up(Some(ahead.query_keys()));
        } else {
            let mut keys = BlockingKeys::default();
            query_keys(&self.side, &mut keys);
            self.look_up(Some(&keys));
        }
    }

    /// The patrons using each of the signals' identifiers, in their order; `None` for a
    /// neutralized one.
    fn users_of(
        signals: &'a NormalizedSignals,
        index: IndexView<'a>,
    ) -> SmallVec<[Option<&'a [PatronId]>; 4]> {
        // Pushed one by one: collecting goes through a generic extend, which costs more
        // than the one or two lookups.
        let mut users = SmallVec::new();
        for identifier in signals.identifiers() {
            users.push(index.counted_patrons_with(identifier));
        }
        users
    }

    /// Nothing looked up yet but the identifiers' users, and their sole holder if
    /// `find_holder` (see [`look_up`](Self::look_up)).
    fn unlooked(
        signals: &'a NormalizedSignals,
        ahead: Option<&'a SignalsAhead>,
        index: IndexView<'a>,
        find_holder: bool,
    ) -> Self {
        let users = Self::users_of(signals, index);
        let holder = if find_holder {
            sole_holder(&users, index)
        } else {
            None
        };
        Self {
            side: SignalSide::new(signals, ahead),
            index,
            users,
            frequency_weights: Default::default(),
            own_counts: [None; 5],
            in_the_others_place: std::cell::OnceCell::new(),
            holder,
            proposed: None,
        }
    }

    /// The counts of the signals' own names and postcode looked up, and, given candidate
    /// keys, the patrons filed under them (candidates proposed).
    fn look_up(&mut self, keys: Option<&BlockingKeys>) {
        let index = self.index;
        // The candidates' blocking keys and the keys whose counts weigh exact matches on
        // the signals' own values are looked up in one batch, so that all their cache
        // misses overlap: nearly every recognition needs both.
        let candidate_keys = keys.map_or(0, |keys| keys.as_slice().len());
        let (given, family) = (self.side.given_key(), self.side.family_key());
        // Names swapped only weigh in when someone holds the record's identifiers (the
        // shortcut's bound on names): a stranger counts them only if scoring needs them,
        // and a record the holder may settle only if the bound at the names' cap does
        // not (they are looked up on need).
        let held = keys.is_some()
            && self
                .users
                .iter()
                .flatten()
                .any(|patrons| !patrons.is_empty());
        let counted = [
            (GIVEN_TAG, given),
            (FAMILY_TAG, family),
            (POSTCODE_TAG, self.side.postcode_key()),
            (GIVEN_TAG, family.filter(|_| held)),
            (FAMILY_TAG, given.filter(|_| held)),
        ];
        let mut looked_up: SmallVec<[BlockingKey; BlockingKeys::CAP + 5]> = SmallVec::new();
        if let Some(keys) = keys {
            looked_up.extend_from_slice(keys.as_slice());
        }
        // Pushed one by one: a generic extend costs more than the few keys it adds.
        for &(tag, value) in &counted {
            if let Some(value) = value {
                looked_up.push(BlockingKey::of(tag, value));
            }
        }
        let mut found: SmallVec<[FiledPatrons<'a>; BlockingKeys::CAP + 5]> = SmallVec::new();
        index.patrons_under_each(&looked_up, &mut found);
        let mut filed = found.get(candidate_keys..).unwrap_or_default().iter();
        let own_filed = counted.map(|(_, value)| value.and_then(|_| filed.next().copied()));
        self.own_counts = own_filed.map(|patrons| patrons.map(|patrons| patrons.len()));
        let [_, _, _, family_as_given, given_as_family] = own_filed;
        if held {
            let _ = self.in_the_others_place.set([
                family_as_given.unwrap_or_default(),
                given_as_family.unwrap_or_default(),
            ]);
        }
        found.truncate(candidate_keys);
        if keys.is_some() {
            let proposed = self.proposed.insert(Candidates::default());
            propose(self.users.iter().copied(), &found, proposed);
        }
    }

    /// The person strategy's candidates (as [`Strategy::candidates`] proposes them),
    /// without looking the identifiers up again; the blocking keys are looked up now
    /// unless they already were.
    pub(crate) fn candidates(&self, out: &mut Candidates) {
        if let Some(proposed) = &self.proposed {
            for &patron in proposed.as_slice() {
                out.push(patron);
            }
            return;
        }
        let mut keys = BlockingKeys::default();
        let keys = match self.side.ahead {
            Some(ahead) => ahead.query_keys(),
            None => {
                query_keys(&self.side, &mut keys);
                &keys
            }
        };
        let mut filed: SmallVec<[FiledPatrons<'a>; BlockingKeys::CAP]> = SmallVec::new();
        self.index.patrons_under_each(keys.as_slice(), &mut filed);
        propose(self.users.iter().copied(), &filed, out);
    }

    /// The one live patron using every identifier of the signals that anyone uses, if
    /// there is one (see [`sole_holder`]).
    fn sole_holder(&self) -> Option<PatronView<'a>> {
        self.holder
    }

    /// Whether no patron but the holder can compare with the signals' names swapped:
    /// swapping is only tried for a patron whose family name is the signals' given name
    /// or whose given name is their family name, exactly, and memory files every patron
    /// under each of their given and family names. Nobody else being filed there, a
    /// bound on anyone else's names need not consider the swap. (An entry under another
    /// id merged into the holder counts as someone else: reading records to resolve it
    /// would cost more than the rare miss.)
    fn only_the_holder_swaps(&self) -> bool {
        let Some(holder) = self.holder else {
            return false;
        };
        if self.side.given_key().is_none() || self.side.family_key().is_none() {
            // Swapping only counts when both names are given.
            return true;
        }
        self.in_the_others_place()
            .iter()
            .all(|patrons| patrons.iter().all(|patron| patron == holder.id()))
    }

    /// The patrons filed under the signals' family name as a given name and under their
    /// given name as a family name, looked up now unless they already were.
    fn in_the_others_place(&self) -> &[FiledPatrons<'a>; 2] {
        self.in_the_others_place.get_or_init(|| {
            let swapped = [
                self.side
                    .family_key()
                    .map(|f| BlockingKey::of(GIVEN_TAG, f)),
                self.side
                    .given_key()
                    .map(|g| BlockingKey::of(FAMILY_TAG, g)),
            ];
            let keys: SmallVec<[BlockingKey; 2]> = swapped.iter().flatten().copied().collect();
            let mut found: SmallVec<[FiledPatrons<'a>; 2]> = SmallVec::new();
            self.index.patrons_under_each(&keys, &mut found);
            let mut found = found.into_iter();
            swapped.map(|key| key.and_then(|_| found.next()).unwrap_or_default())
        })
    }

    /// How many patrons share one of the signals' identifiers.
    fn sharing(&self, identifier: &Identifier) -> Sharing {
        let identifiers = self.side.signals.identifiers();
        let users = match identifiers
            .iter()
            .position(|i| std::ptr::eq(i, identifier))
            .and_then(|at| self.users.get(at))
        {
            Some(&users) => users,
            None => self.index.counted_patrons_with(identifier),
        };
        users.map_or(Sharing::Neutralized, |users| Sharing::Users(users.len()))
    }

    /// The weight `weigh` gives an exact match on `value`, from how many patrons are filed
    /// under it for `tag`. The signals' own names and postcode are looked up once per
    /// recognition, each name under both tags (swapped names compare a family name with
    /// given names).
    fn frequency_weight(
        &self,
        tag: &'static str,
        value: &str,
        weigh: impl Fn(usize) -> f64,
    ) -> f64 {
        let side = &self.side;
        let is_own = |own: Option<&str>| own.is_some_and(|own| std::ptr::eq(own, value));
        let slot = match tag {
            GIVEN_TAG if is_own(side.given_key()) => Some(0),
            FAMILY_TAG if is_own(side.family_key()) => Some(1),
            POSTCODE_TAG if is_own(side.postcode_key()) => Some(2),
            GIVEN_TAG if is_own(side.family_key()) => Some(3),
            FAMILY_TAG if is_own(side.given_key()) => Some(4),
            _ => None,
        };
        let lookup = || {
            let counted = slot.and_then(|slot| self.own_counts.get(slot).copied().flatten());
            // The names swapped, if not counted with the rest, are read with the patrons
            // filed there (the shortcut's bound reads both).
            let swapped = match slot {
                Some(3) => Some(0),
                Some(4) => Some(1),
                _ => None,
            };
            let counted = counted.or_else(|| {
                swapped.and_then(|at| self.in_the_others_place().get(at).map(|p| p.len()))
            });
            weigh(counted.unwrap_or_else(|| self.index.count_under(BlockingKey::of(tag, value))))
        };
        let Some(cell) = slot.and_then(|slot| self.frequency_weights.get(slot)) else {
            return lookup();
        };
        if let Some(weight) = cell.get() {
            return weight;
        }
        let weight = lookup();
        cell.set(Some(weight));
        weight
    }
}

/// The one live patron using every identifier of the signals that anyone uses, if there
/// is one: `None` when there are no identifiers, nobody uses them, one is neutralized (a
/// placeholder proves nothing either way) or two patrons use them.
fn sole_holder<'a>(
    users: &[Option<&'a [PatronId]>],
    index: IndexView<'a>,
) -> Option<PatronView<'a>> {
    let mut holder: Option<PatronView<'a>> = None;
    for users in users {
        for &user in (*users)? {
            let user = index.patron(user)?;
            match holder {
                Some(h) if h.id() != user.id() => return None,
                Some(_) => {}
                None => holder = Some(user),
            }
        }
    }
    holder
}

/// What an exact match was on, for frequency adjustment.
#[derive(Clone, Copy, Debug)]
enum ValueRef<'a> {
    Identifier(&'a Identifier),
    Frequency(&'static str, &'a str),
    /// Phones that differ, but are lines of different kinds (see `only_other_lines`):
    /// they weigh nothing, yet still show a contact of the record's own.
    OtherLine,
    /// E-mails that differ where one side is a household's mailbox (see
    /// `household_mailbox_either_side`): they weigh as any two mailboxes that differ,
    /// reported apart.
    HouseholdMailbox,
    /// A record's country none of the patron's addresses named, where no postcode
    /// compares (see `compare_countries`): weighs as two postcodes that differ.
    OtherCountry,
    /// An exact family name that is a surname added to the patron's (see
    /// `shared_surname`): the `part` both wrote of the signals' `whole` one.
    SharedSurname {
        part: &'a str,
        whole: &'a str,
    },
    None,
}

/// How phones that are lines of different kinds (see `only_other_lines`) are reported.
const OTHER_LINE: &str = "another kind of line";
/// How a record's country none of the patron's addresses named is reported (see
/// [`compare_countries`]).
const OTHER_COUNTRY: &str = "another country";

const GIVEN_TAG: &str = "given";
const FAMILY_TAG: &str = "family";
const POSTCODE_TAG: &str = "postcode";

/// How one field compared, and on what value; `None` when missing on one side.
type Compared<'a> = Option<(Level, ValueRef<'a>)>;

type Levels<'a> = SmallVec<[(Field, Compared<'a>); 10]>;

/// Every comparison between signals and a patron, in a fixed order.
fn levels<'a>(signals: &'a NormalizedSignals, patron: &PatronView<'a>) -> Levels<'a> {
    levels_of(
        &SignalSide::new(signals, None),
        &ProfileKeys::of_view(patron),
    )
}

/// [`levels`], with the signals' side worked out beforehand.
fn levels_of<'a>(side: &SignalSide<'a>, patron: &ProfileKeys<'_>) -> Levels<'a> {
    let mut out = Levels::new();
    push_levels(
        side,
        side.street_read().as_ref(),
        patron,
        &mut |field, level| {
            out.push((field, level));
        },
    );
    out
}

/// [`levels_of`], each handed to `out` as it is found, with the signals' street put
/// together beforehand ([`SignalSide::street_read`]).
fn push_levels<'a>(
    side: &SignalSide<'a>,
    street: Option<&compare::ReadStreet<'_>>,
    patron: &ProfileKeys<'_>,
    out: &mut impl FnMut(Field, Compared<'a>),
) {
    let (given, family) = compare_names(side, &patron.names);
    out(Field::GivenName, given);
    out(Field::FamilyName, family);
    push_other_levels(side, street, patron, out);
}

/// Every comparison but the names (the cheap ones), in [`levels_of`]'s order.
fn push_other_levels<'a>(
    side: &SignalSide<'a>,
    street: Option<&compare::ReadStreet<'_>>,
    patron: &ProfileKeys<'_>,
    out: &mut impl FnMut(Field, Compared<'a>),
) {
    let signals = side.signals;
    let my_emails = || {
        signals
            .identifiers()
            .iter()
            .filter(|i| i.kind() == IdentifierKind::Email)
            .map(|i| i.value())
    };
    let their_emails = || {
        patron
            .identifiers
            .iter()
            .filter(|i| i.kind == IdentifierKind::Email)
            .map(|i| i.value)
    };
    let birth = match (signals.birth_date(), patron.birth_date) {
        (Some(a), Some(b)) => Some(match compare::compare_dates(a, b) {
            DateLevel::Exact => Level::Exact,
            DateLevel::DayMonthSwapped => Level::Swapped,
            DateLevel::OneDigitOff => Level::OneDigit,
            DateLevel::YearOnly => Level::YearOnly,
            DateLevel::Different => Level::Different,
        }),
        (None, Some(theirs)) => mailbox_year_level(
            my_emails().zip(side.mailbox_years().iter().copied()),
            their_emails,
            theirs,
        ),
        (Some(mine), None) => mailbox_year_level(
            their_emails().map(|email| (email, mailbox_year(email))),
            my_emails,
            mine,
        ),
        (None, None) => None,
    };
    out(Field::BirthDate, birth.map(|level| (level, ValueRef::None)));
    out(Field::Email, compare_emails(side, patron));
    let phone = best_identifier(signals, patron, IdentifierKind::Phone, |a, b| {
        if a == b {
            Level::Exact
        } else if compare::phone_one_digit_off(a, b) {
            Level::OneDigit
        } else {
            Level::Different
        }
    });
    let phone = match phone {
        Some((Level::Different, _)) if only_other_lines(signals, patron) => {
            Some((Level::Different, ValueRef::OtherLine))
        }
        phone => phone,
    };
    out(Field::Phone, phone);
    out(Field::Address, compare_streets(side, street, patron));
    let postcode = compare_postcodes(side, patron).or_else(|| compare_countries(signals, patron));
    out(Field::Postcode, postcode);
    out(
        Field::CardToken,
        best_identifier(signals, patron, IdentifierKind::CardToken, |a, b| {
            if a == b {
                Level::Exact
            } else {
                Level::Different
            }
        }),
    );
    out(Field::ExternalId, compare_external(signals, patron));
}

/// Whether an e-mail's local part is spelled from the signals' own names alone (with
/// dots, digits and the like left out): `john.smith`, `jsmith`, `smith.j`, `john`.
fn local_is_name(email: &compare::PreparedEmail<'_>, side: &SignalSide<'_>) -> bool {
    let Some(local) = email.untagged_local() else {
        return false;
    };
    // The letters copied once, then each spelling is a length check and two slice
    // comparisons: candidates of one name (the usual fuzzy ones) have mailboxes of the
    // right length, and walking the letters again per spelling cost more than the copy.
    let local = letters(local);
    let names = side.name_letters();
    let (g, f) = (names.given.as_slice(), names.family.as_slice());
    let (gi, fi) = (&g[..g.len().min(1)], &f[..f.len().min(1)]);
    let spelled = |a: &[u8], b: &[u8]| {
        a.len() + b.len() > 0
            && local.len() == a.len() + b.len()
            && local.starts_with(a)
            && local.ends_with(b)
    };
    spelled(g, f)
        || spelled(f, g)
        || spelled(gi, f)
        || spelled(f, gi)
        || spelled(g, fi)
        || spelled(g, &[])
        || spelled(f, &[])
}

/// The two digits a mailbox's local part ends with (`anna.berg84@` gives 84), if it ends
/// with exactly two after a letter or a separator: often the owner's birth year.
fn mailbox_year(email: &str) -> Option<u8> {
    let (local, _) = compare::split_email(email)?;
    let local = compare::untagged(local).as_bytes();
    match local {
        [.., before, tens, units]
            if !before.is_ascii_digit() && tens.is_ascii_digit() && units.is_ascii_digit() =>
        {
            Some((tens - b'0') * 10 + (units - b'0'))
        }
        _ => None,
    }
}

/// How one side's mailboxes (each with the year it ends in, see [`mailbox_year`]) compare
/// with the other side's birth date: one ends in its
/// year's two digits ([`Level::MailboxYear`]), else one the birth date's side never used
/// ends in two other digits ([`Level::MailboxOtherYear`]), else they say nothing. A
/// mailbox both sides used is left out of the second: beside the birth date it shows only
/// that its digits are not that person's year.
fn mailbox_year_level<'v, I: Iterator<Item = &'v str>>(
    emails: impl Iterator<Item = (&'v str, Option<u8>)>,
    birth_side_emails: impl Fn() -> I,
    birth: chrono::NaiveDate,
) -> Option<Level> {
    let year = two_digit_year(birth);
    let mut level = None;
    for (email, year_digits) in emails {
        match year_digits {
            Some(digits) if digits == year => return Some(Level::MailboxYear),
            Some(_) if level.is_none() && !birth_side_emails().any(|own| own == email) => {
                level = Some(Level::MailboxOtherYear);
            }
            _ => {}
        }
    }
    level
}

/// A birth date's year as people write it in a mailbox: its last two digits.
fn two_digit_year(date: chrono::NaiveDate) -> u8 {
    use chrono::Datelike;
    date.year().rem_euclid(100) as u8
}

/// Whether two strings one edit apart differ by a slip of the finger: a letter written
/// once or twice, two neighbouring letters swapped, or a key next to the right one.
fn slip_of_the_finger(a: &str, b: &str) -> bool {
    compare::doubled_or_swapped_letter(a, b)
        || compare::substituted_letters(a, b).is_some_and(|(x, y)| compare::neighbouring_keys(x, y))
}

/// Whether two strings differ only in a separator one of them has (`.`, `_`, `-`).
fn differ_in_separators(a: &str, b: &str) -> bool {
    fn letters(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes().filter(|c| !matches!(c, b'.' | b'_' | b'-'))
    }
    a != b && letters(a).eq(letters(b))
}

/// Whether two strings differ only where one of them has a digit.
fn differ_in_digits(a: &str, b: &str) -> bool {
    fn letters(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes().filter(|c| !c.is_ascii_digit())
    }
    let digit_swapped = a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .any(|(x, y)| x != y && (x.is_ascii_digit() || y.is_ascii_digit()));
    a != b && (letters(a).eq(letters(b)) || digit_swapped)
}

fn rank(level: Level) -> u8 {
    match level {
        Level::Exact => 0,
        Level::Swapped | Level::Nickname | Level::SameLocal => 1,
        Level::Close | Level::OneEdit | Level::OneDigit | Level::Partial | Level::Near => 2,
        Level::Phonetic => 3,
        Level::Initial | Level::YearOnly | Level::MailboxYear | Level::MailboxOtherYear => 4,
        // Two mailboxes of one name speak against the patron more than any other
        // difference: found among the patron's mailboxes, it is the one reported.
        Level::NamesakeMailbox => 5,
        Level::Different => 6,
    }
}

/// The best level between any of the signals' e-mails and any of the patron's, as
/// [`best_identifier`] finds it, with each of the signals' e-mails split once.
fn compare_emails<'a>(side: &SignalSide<'a>, patron: &ProfileKeys<'_>) -> Compared<'a> {
    // Nothing to compare: the signals' e-mails need not be prepared.
    if !patron
        .identifiers
        .iter()
        .any(|i| i.kind == IdentifierKind::Email)
    {
        return None;
    }
    // An exact match is the best level there is, and the signals' first e-mail with one
    // is the one kept: when their first e-mail is one of the patron's as it stands (an
    // identifier's usual hit), that is the answer, found without splitting any address.
    let first = side
        .signals
        .identifiers()
        .iter()
        .find(|i| i.kind() == IdentifierKind::Email);
    if let Some(mine) = first
        && !mine.value().is_empty()
        && patron
            .identifiers
            .iter()
            .any(|theirs| theirs.kind == IdentifierKind::Email && theirs.value == mine.value())
    {
        return Some((Level::Exact, ValueRef::Identifier(mine)));
    }
    compare_emails_split(side, patron)
}

/// [`compare_emails`] without its first check: every pair of e-mails split and graded.
fn compare_emails_split<'a>(side: &SignalSide<'a>, patron: &ProfileKeys<'_>) -> Compared<'a> {
    let mut best: Compared<'a> = None;
    if side.emails().is_empty() {
        return best;
    }
    // Each of the patron's e-mails split once, for every rule that reads its parts.
    // (Pushed one by one: collecting through the filter reserves for none and grows.)
    let mut their_emails: SmallVec<[compare::PreparedEmail<'_>; 4]> = SmallVec::new();
    for theirs in &patron.identifiers {
        if theirs.kind == IdentifierKind::Email {
            their_emails.push(compare::PreparedEmail::new(theirs.value));
        }
    }
    for mine in side.emails() {
        for theirs in &their_emails {
            let l = mine.level(theirs, side);
            if best.is_none_or(|(b, _)| rank(l) < rank(b)) {
                best = Some((l, ValueRef::Identifier(mine.identifier)));
            }
        }
    }
    match best {
        Some((Level::Different, _)) if household_mailbox_either_side(side, &their_emails) => {
            Some((Level::Different, ValueRef::HouseholdMailbox))
        }
        best => best,
    }
}

/// Whether the record's e-mail, or every one the patron gave, is a household's mailbox
/// rather than a person's own: spelled from the record's family name with a household
/// word (`smithfamily@`, `thesmiths@`, `smith.home@`) or with two given names
/// (`john.mary.smith@`). A person writes the household's mailbox on some orders and
/// their own on others, but a housemate of the name (a parent, a spouse) writes it as
/// often: the two differing weighs as any two mailboxes that differ.
fn household_mailbox_either_side(
    side: &SignalSide<'_>,
    their_emails: &[compare::PreparedEmail<'_>],
) -> bool {
    side.has_household_mailbox()
        || !their_emails.is_empty()
            && their_emails
                .iter()
                .all(|email| is_household_mailbox(email, side))
}

/// See [`household_mailbox_either_side`].
fn is_household_mailbox(email: &compare::PreparedEmail<'_>, side: &SignalSide<'_>) -> bool {
    let names = side.name_letters();
    let family = &names.family;
    if family.len() < 3 {
        return false;
    }
    let Some(local) = email.untagged_local() else {
        return false;
    };
    // Every candidate's differing mailbox comes here: its letters are copied once, and
    // the family name is cut out of that copy in place rather than into another.
    let mut rest = letters(local);
    // Every household form adds three letters or more to the family name.
    if rest.len() < family.len() + 3 {
        return false;
    }
    let Some(at) = find_word(&rest, family) else {
        return false;
    };
    let after = at + family.len();
    let len = rest.len();
    rest.copy_within(after.., at);
    rest.truncate(len - family.len());
    let has = |word: &[u8]| find_word(&rest, word).is_some();
    if rest.starts_with(b"the") || has(b"family") || has(b"home") {
        return true;
    }
    // Two given names: the record's own and someone else's (three letters or more). The
    // length first: a mailbox of the record's two names alone is too short.
    let given = &names.first_given;
    given.len() >= 3 && rest.len() >= given.len() + 3 && has(given)
}

/// The best level between any signal identifier of `kind` and any of the patron's.
fn best_identifier<'a>(
    signals: &'a NormalizedSignals,
    patron: &ProfileKeys<'_>,
    kind: IdentifierKind,
    level: impl Fn(&str, &str) -> Level,
) -> Option<(Level, ValueRef<'a>)> {
    let mut best: Option<(Level, ValueRef<'a>)> = None;
    for mine in signals.identifiers().iter().filter(|i| i.kind() == kind) {
        for theirs in patron.identifiers.iter().filter(|i| i.kind == kind) {
            let l = level(mine.value(), theirs.value);
            if best.is_none_or(|(b, _)| rank(l) < rank(b)) {
                best = Some((l, ValueRef::Identifier(mine)));
            }
        }
    }
    best
}

/// Whether the record's phones and the patron's are all of known kinds, and none of the
/// record's is of a kind the patron gave: a landline beside mobiles, or a mobile beside
/// landlines. A person gives their mobile on one order and the home's landline on
/// another, so such numbers differing says nothing (two mobiles differing does).
fn only_other_lines(signals: &NormalizedSignals, patron: &ProfileKeys<'_>) -> bool {
    let mine = line_kinds(
        signals
            .identifiers()
            .iter()
            .filter(|i| i.kind() == IdentifierKind::Phone)
            .map(|i| i.value()),
    );
    let theirs = line_kinds(
        patron
            .identifiers
            .iter()
            .filter(|i| i.kind == IdentifierKind::Phone)
            .map(|i| i.value),
    );
    match (mine, theirs) {
        (Some((mobile, fixed)), Some((their_mobile, their_fixed))) => {
            !(mobile && their_mobile || fixed && their_fixed)
        }
        _ => false,
    }
}

/// Whether any of `numbers` is a mobile, and whether any is a fixed line; `None` when the
/// kind of one of them is unknown.
fn line_kinds<'v>(numbers: impl Iterator<Item = &'v str>) -> Option<(bool, bool)> {
    let (mut mobile, mut fixed) = (false, false);
    for number in numbers {
        match compare::line_kind(number)? {
            compare::LineKind::Mobile => mobile = true,
            compare::LineKind::Fixed => fixed = true,
        }
    }
    Some((mobile, fixed))
}

/// External ids only compare within one system: a loyalty number is no evidence against a
/// museum pass.
fn compare_external<'a>(
    signals: &'a NormalizedSignals,
    patron: &ProfileKeys<'_>,
) -> Option<(Level, ValueRef<'a>)> {
    let mut best: Option<(Level, ValueRef<'a>)> = None;
    for mine in signals
        .identifiers()
        .iter()
        .filter(|i| i.kind() == IdentifierKind::External)
    {
        for theirs in patron.identifiers.iter() {
            if theirs.kind != IdentifierKind::External || theirs.system != mine.system() {
                continue;
            }
            let l = if theirs.value == mine.value() {
                Level::Exact
            } else {
                Level::Different
            };
            if best.is_none_or(|(b, _)| rank(l) < rank(b)) {
                best = Some((l, ValueRef::Identifier(mine)));
            }
        }
    }
    best
}

/// `street` is the signals' line put together beforehand (see
/// [`SignalSide::street_read`]).
fn compare_streets<'a>(
    side: &SignalSide<'a>,
    street: Option<&compare::ReadStreet<'_>>,
    patron: &ProfileKeys<'_>,
) -> Option<(Level, ValueRef<'a>)> {
    let line = side.street_line?;
    let mut best: Option<f64> = None;
    let mut read = None;
    for &(theirs, _) in &patron.addresses {
        if let Some(theirs) = theirs {
            // The record's line was read once for every candidate, and a block keeps each
            // candidate's line read.
            let s = match theirs {
                StreetKey::Read(words) => {
                    let read = read.get_or_insert_with(compare::ReadStreet::new);
                    StreetKey::read_into(words, read);
                    match street {
                        Some(mine) => mine.similarity(read),
                        None => compare::address_similarity_read(line, read),
                    }
                }
                StreetKey::Line(theirs) => match side.street() {
                    Some(prepared) => prepared.similarity(theirs),
                    None => compare::address_similarity(line, theirs),
                },
            };
            best = Some(best.map_or(s, |b: f64| b.max(s)));
        }
    }
    let s = best?;
    let level = if s >= 0.9 {
        Level::Exact
    } else if s >= 0.6 {
        Level::Close
    } else {
        Level::Different
    };
    Some((level, ValueRef::None))
}

/// A record whose country none of the patron's addresses named, when no postcode
/// compares (missing on one side): as far apart as two postcodes that differ. People do
/// not change country between orders; namesakes abroad are everywhere.
fn compare_countries<'a>(
    signals: &NormalizedSignals,
    patron: &ProfileKeys<'_>,
) -> Option<(Level, ValueRef<'a>)> {
    let mine = keys::country_code(&signals.address().country()?)?;
    let elsewhere = !patron.countries.is_empty() && !patron.countries.contains(&mine);
    elsewhere.then_some((Level::Different, ValueRef::OtherCountry))
}

fn compare_postcodes<'a>(
    side: &SignalSide<'a>,
    patron: &ProfileKeys<'_>,
) -> Option<(Level, ValueRef<'a>)> {
    let postcode = side.postcode_key()?;
    let mine = side.postcode.as_ref()?;
    let mut best: Option<Level> = None;
    for &(_, theirs) in &patron.addresses {
        if let Some(theirs) = theirs {
            let l = match mine.level(theirs) {
                PostcodeLevel::Exact => Level::Exact,
                PostcodeLevel::Near => Level::Near,
                PostcodeLevel::Different => Level::Different,
            };
            if best.is_none_or(|b| rank(l) < rank(b)) {
                best = Some(l);
            }
        }
    }
    best.map(|l| {
        let value = if l == Level::Exact {
            ValueRef::Frequency(POSTCODE_TAG, postcode)
        } else {
            ValueRef::None
        };
        (l, value)
    })
}

/// Compares given and family names against every name the patron has used, in both
/// orders (people swap them on forms), keeping the best pair.
fn compare_names<'a>(
    side: &SignalSide<'a>,
    names: &[NameKeys<'_>],
) -> (Compared<'a>, Compared<'a>) {
    let given = side.given.as_ref();
    let family = side.family.as_ref();
    let mut best_given: Option<Level> = None;
    let mut best_family: Option<Level> = None;
    let mut best_score = u8::MAX;
    let mut swapped = false;
    let mut their_best_family: Option<&str> = None;
    // An initial the patron once gave stands for their full given name, not for every
    // name with that letter: once memory knows a full one, a full name is compared with
    // the full ones only (Mary is not "M." Tumton when that M is Mike).
    let knows_full_given = names.iter().any(|n| n.given.is_some_and(is_full_name));
    'names: for name in names {
        let (their_given, their_family) = (name.given, name.family);
        let only_an_initial = their_given.is_some_and(|g| !is_full_name(g));
        // Swapped order is only worth comparing when a name sits in the other's place.
        let swapped_fits = given.is_some_and(|g| their_family == Some(g.key))
            || family.is_some_and(|f| their_given == Some(f.key));
        for swap in [false, true] {
            if swap && !swapped_fits {
                continue;
            }
            let (g, f) = if swap {
                (family, given)
            } else {
                (given, family)
            };
            if knows_full_given && only_an_initial && g.is_some_and(|g| is_full_name(g.key)) {
                continue;
            }
            // The stored sounds are of the names in their own places.
            let sounds = if swap {
                NameExtras::default()
            } else {
                name.extras
            };
            let gl = g.zip(their_given).map(|(a, b)| {
                // Two initials that agree are left to `given_level`: they count as an
                // initial, not as a name.
                if a.key == b && b.len() > 1 {
                    return Level::Exact;
                }
                side.comparing().names_compared.level(
                    NameComparison::Given { swapped: swap },
                    b,
                    || {
                        given_level(
                            a,
                            (b, name.extras.given_first(b)),
                            || sounds.given_sound(),
                            || name.extras.given_nicknames(),
                        )
                    },
                )
            });
            let fl = f.zip(their_family).map(|(a, b)| {
                if a.key == b {
                    return Level::Exact;
                }
                side.comparing().names_compared.level(
                    NameComparison::Family { swapped: swap },
                    b,
                    || family_level(a, b, || sounds.family_sound()),
                )
            });
            // Swapping only counts when it explains both names.
            if swap && !(gl.is_some_and(|l| rank(l) <= 2) && fl.is_some_and(|l| rank(l) <= 2)) {
                continue;
            }
            let score = gl.map_or(3, rank) + fl.map_or(3, rank);
            if score < best_score {
                best_score = score;
                best_given = gl;
                best_family = fl;
                their_best_family = their_family;
                swapped = swap;
                // Both names exact: nothing after can score lower (only lower replaces),
                // so the patron's other names need not be compared.
                if best_score == 0 {
                    break 'names;
                }
            }
        }
    }
    let key = |side: Option<&NameSide<'a>>| side.map(|s| s.key);
    let given_value = if swapped { key(family) } else { key(given) };
    let family_value = if swapped { key(given) } else { key(family) };
    let with_value = |level: Option<Level>, tag: &'static str, value: Option<&'a str>| {
        level.map(|l| match (l, value) {
            (Level::Exact, Some(v)) => (l, ValueRef::Frequency(tag, v)),
            _ => (l, ValueRef::None),
        })
    };
    let family = with_value(best_family, FAMILY_TAG, family_value).map(|(level, value)| {
        match (value, their_best_family) {
            (ValueRef::Frequency(_, whole), Some(theirs)) => match shared_surname(whole, theirs) {
                Some(part) => (level, ValueRef::SharedSurname { part, whole }),
                None => (level, value),
            },
            _ => (level, value),
        }
    });
    (with_value(best_given, GIVEN_TAG, given_value), family)
}

/// The part of the signals' family name `ours` that is all of the patron's shorter one
/// `theirs` ("garcia" of "garcia ruiz" beside "garcia"), if it is one. The two share that
/// surname only: the one added to it says nothing of how rare the shared one is.
fn shared_surname<'a>(ours: &'a str, theirs: &str) -> Option<&'a str> {
    if theirs.len() >= ours.len() {
        return None;
    }
    let start = ours.len() - theirs.len();
    let space_at = |at: usize| ours.as_bytes().get(at) == Some(&b' ');
    if ours.starts_with(theirs) && space_at(theirs.len()) {
        ours.get(..theirs.len())
    } else if ours.ends_with(theirs) && start > 0 && space_at(start - 1) {
        ours.get(start..)
    } else {
        None
    }
}

/// Whether a folded given name is more than an initial.
fn is_full_name(name: &str) -> bool {
    name.len() > 1
}

/// How a given name compares with one the patron used, `b` with its first word if
/// known beforehand. `b_sound` gives the sound of `b`, and `b_nicknames` the nickname
/// table entry of its first word, if known beforehand (asked only when a rule reads it).
fn given_level<'s>(
    side: &NameSide<'_>,
    (b, b_first): (&str, Option<&str>),
    b_sound: impl Fn() -> Option<&'s [u8]>,
    b_nicknames: impl FnOnce() -> Option<compare::NicknameEntry>,
) -> Level {
    let a = side.key;
    if a == b {
        // Two initials that agree say no more than an initial that fits a name.
        return if a.len() == 1 {
            Level::Initial
        } else {
            Level::Exact
        };
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let fb = b_first.unwrap_or_else(|| b.split(' ').next().unwrap_or(""));
    let fa = side.up_to_space();
    if fa == fb && !fa.is_empty() {
        // "Anna Maria" and "Anna": the first given name agrees.
        return Level::Close;
    }
    // Each side's table entry is looked up once: the record's with the record, the
    // patron's when memory wrote their compact block.
    let eb = b_nicknames().unwrap_or_else(|| compare::NicknameEntry::of(fb));
    let ea = side.nicknames();
    if compare::are_nicknames_known(fa, ea, fb, eb) {
        return Level::Nickname;
    }
    if short.len() == 1 {
        return if long.starts_with(short) {
            Level::Initial
        } else {
            Level::Different
        };
    }
    // Two real names that are not nicknames of each other end at `Different` whatever
    // the spelling comparisons below find (both known demotes a close spelling or sound,
    // and only an unknown name can be a typo of a nickname): settled without them. Keep
    // in step with the rules below.
    if known_name(ea) && known_name(eb) {
        // Ana and Anna, Michael and Micheal: one name spelled two ways.
        return if compare::doubled_or_swapped_letter(a, b) {
            Level::Close
        } else {
            Level::Different
        };
    }
    if gendered_pair(fa, fb) && !slipped_ending((fa, ea), (fb, eb)) {
        return Level::Different;
    }
    // Below 0.8 both thresholds fail alike: unlike names skip the full score.
    let jw = if compare::jaro_winkler_could_reach_with((a, side.bytes()), b, 0.8) {
        compare::jaro_winkler(a, b)
    } else {
        0.0
    };
    let level = if another_letter_and_sound(side, b, &b_sound) {
        return Level::Different;
    } else if compare::within_one_edit(a, b) || jw >= 0.94 {
        Level::Close
    } else if jw >= 0.8 && side.sounds_like(b, b_sound()) {
        Level::Phonetic
    } else {
        return typo_of_a_nickname((fa, ea), (fb, eb));
    };
    // Two spellings that are both real names (Anna and Hanna, Jon and Joan) are two people
    // more often than one person's typo: twins and spouses share everything else.
    if known_name(ea) && known_name(eb) {
        return Level::Different;
    }
    level
}

/// Whether `b` is the signals' name with one letter replaced by a key far from it on the
/// keyboard, and sounds different: Jonas and Jonah, Mia and Pia are twins' names, not a
/// slip of the finger (a slip hits a neighbouring key; a misheard name still sounds
/// alike, as Jakob and Jacob do).
fn another_letter_and_sound<'s>(
    side: &NameSide<'_>,
    b: &str,
    b_sound: impl Fn() -> Option<&'s [u8]>,
) -> bool {
    compare::substituted_letters(side.key, b)
        .is_some_and(|(x, y)| !compare::neighbouring_keys(x, y))
        && !side.sounds_like(b, b_sound())
}

/// `Close` when one name is a typo of a nickname of the other ("Mickk" for Michael,
/// "Ullla" for Ursula), else `Different`. Only a name the table does not know can be a
/// typo: two real names (Anna and Hanna) stay two people.
/// Each name comes with its nickname table entry.
fn typo_of_a_nickname(
    a: (&str, compare::NicknameEntry),
    b: (&str, compare::NicknameEntry),
) -> Level {
    let ((typed, _), (name, entry)) = match (known_name(a.1), known_name(b.1)) {
        (false, true) => (a, b),
        (true, false) => (b, a),
        _ => return Level::Different,
    };
    let fits = typed.len() >= 3 && entry.one_edit_from_a_name_on_its_groups(typed, name);
    if fits { Level::Close } else { Level::Different }
}

/// Whether the table knows the name whose entry this is.
fn known_name(entry: compare::NicknameEntry) -> bool {
    entry.is_known()
}

/// Whether one name is the other, a name the table knows, with its last letter dropped
/// or doubled by a slip of the finger, the slip making a name the table does not know:
/// "Laur" and "Pierr" for Laura and Pierre, "Miaa" for Mia. Two names of a gendered pair
/// (Daniel and Daniela) are both names, so a known shorter one is not a slip.
fn slipped_ending(a: (&str, compare::NicknameEntry), b: (&str, compare::NicknameEntry)) -> bool {
    let ((short, short_entry), (long, long_entry)) = if a.0.len() < b.0.len() {
        (a, b)
    } else {
        (b, a)
    };
    if long.len() != short.len() + 1 || !long.starts_with(short) {
        return false;
    }
    let doubled = long.as_bytes().last() == short.as_bytes().last();
    if doubled {
        known_name(short_entry) && !known_name(long_entry)
    } else {
        known_name(long_entry) && !known_name(short_entry)
    }
}

/// Names that differ only by a final vowel are usually two names, not a typo: Mario and
/// Maria, Daniel and Daniela, Jan and Jana.
fn gendered_pair(a: &str, b: &str) -> bool {
    fn stem(s: &str) -> &str {
        match s.as_bytes().last() {
            Some(b'a' | b'e' | b'o' | b'i') if s.len() > 3 => &s[..s.len() - 1],
            _ => s,
        }
    }
    a != b && stem(a) == stem(b)
}

/// How a family name compares with one the patron used, `b_sound` giving the sound of
/// `b` if known beforehand (asked only when a rule reads it).
fn family_level<'s>(
    side: &NameSide<'_>,
    b: &str,
    b_sound: impl FnOnce() -> Option<&'s [u8]>,
) -> Level {
    let a = side.key;
    // Müller written Mueller is the same name, not a typo.
    if a == b || compare::same_but_umlauts(a, b) {
        return Level::Exact;
    }
    // "Smith Jr." beside "Smith" is a son beside his father of the same name far more
    // often than one man who sometimes writes his suffix: two people.
    if side.generation() != generation(b) {
        return Level::Different;
    }
    if compare::within_one_edit(a, b)
        || (compare::jaro_winkler_could_reach_with((a, side.bytes()), b, 0.94)
            && compare::jaro_winkler(a, b) >= 0.94)
    {
        return Level::Close;
    }
    // "garcia lopez" and "garcia", "martin durand" and "martin": the whole of one name
    // begins or ends the other, which only adds a second surname (or a partner's at
    // marriage). That is the same family name written in full, not just a shared word.
    // The two rules below need a name of more than one word, which most pairs lack: a
    // name is one word when its first word is all of it.
    let spaced = side.up_to_space().len() != a.len() || b.as_bytes().contains(&b' ');
    if spaced && (added_surname(a, b) || added_surname(b, a)) {
        return Level::Exact;
    }
    // "smith jones" and "smith": a double-barrelled or changed family name.
    if spaced {
        let words_a = a.split(' ');
        if words_a
            .clone()
            .any(|w| w.len() > 1 && !is_particle(w) && b.split(' ').any(|v| v == w))
        {
            return Level::Partial;
        }
    }
    if side.sounds_like(b, b_sound()) {
        return Level::Phonetic;
    }
    Level::Different
}

/// The generation suffix a folded family name ends with ("jr", "sr", "iii"), as one
/// generation: `None` for none.
fn generation(family: &str) -> Option<&'static str> {
    // Every suffix below ends in r, i or v: most names are settled without a search.
    if !matches!(family.as_bytes().last(), Some(b'r' | b'i' | b'v')) {
        return None;
    }
    let (_, last) = family.rsplit_once(' ')?;
    match last {
        "jr" | "junior" | "jnr" => Some("junior"),
        "sr" | "senior" | "snr" => Some("senior"),
        "ii" => Some("ii"),
        "iii" => Some("iii"),
        "iv" => Some("iv"),
        _ => None,
    }
}

/// Whether `long` is `short` with a surname added before or after it: `short` has a word
/// that is not a particle, and what `long` adds is a word of its own, not only a particle
/// or a suffix ("smith jr" is someone's son as often as it is Smith himself).
fn added_surname(short: &str, long: &str) -> bool {
    let added = match (long.strip_prefix(short), long.strip_suffix(short)) {
        (Some(rest), _) if rest.starts_with(' ') => rest,
        (_, Some(rest)) if rest.ends_with(' ') => rest,
        _ => return false,
    };
    let real_word = |w: &&str| w.len() > 1 && !is_particle(w);
    short.split(' ').any(|w| real_word(&w)) && added.split(' ').any(|w| real_word(&w))
}

/// Whether a folded family name is one surname, particles aside ("de vries", not
/// "garcia ruiz" or "reant-taylor", nor "smith jr"): how rare a double surname is as a
/// whole says nothing of how rare the part two records share is.
fn one_surname(family: &str) -> bool {
    family
        .split([' ', '-'])
        .filter(|w| !w.is_empty() && !is_particle(w))
        .count()
        <= 1
}

/// Whether a word of a family name is a particle ("van", "de", "von"): shared by
/// thousands of unrelated names, so sharing it says nothing.
fn is_particle(word: &str) -> bool {
    matches!(
        word,
        "van"
            | "von"
            | "de"
            | "der"
            | "den"
            | "del"
            | "della"
            | "di"
            | "da"
            | "dos"
            | "das"
            | "du"
            | "des"
            | "la"
            | "le"
            | "les"
            | "el"
            | "al"
            | "ten"
            | "ter"
            | "te"
            | "zu"
            | "zur"
            | "vom"
            | "af"
            | "av"
            | "mac"
            | "mc"
            | "st"
            | "saint"
            | "jr"
            | "sr"
    )
}

/// Whether a comparison says these are two different people, whatever else they share:
/// a different given name or a different birth date. Shared e-mails, phones and
/// addresses then make them a household, never one patron.
pub(crate) fn person_conflict(evidence: &Evidence) -> bool {
    evidence.items().iter().any(|i| {
        i.agreement() == Agreement::Disagrees
            && matches!(i.field(), Field::GivenName | Field::BirthDate)
    })
}

/// Whether the given name or the birth date speaks for the candidate.
pub(crate) fn person_agrees(evidence: &Evidence) -> bool {
    evidence
        .items()
        .iter()
        .any(|i| i.weight() > 0.0 && matches!(i.field(), Field::GivenName | Field::BirthDate))
}

/// Whether the candidate's only link beyond the names is the home it shares with the
/// record, while the record's own e-mail, phone or membership number is one the candidate
/// never used: no
/// identifier and no birth date agree. A mobile beside the candidate's landline (or the
/// other way round) is not a line of one's own. A father and his son of the same name at one
/// address look exactly like this (each with his own mailbox and mobile), so it proves
/// no more than "someone of this name lives there": never enough to merge two patrons.
pub(crate) fn only_the_home_agrees(evidence: &Evidence) -> bool {
    let mut home = false;
    let mut own_contact_differs = false;
    for item in evidence.items() {
        match (item.field(), item.agreement()) {
            (
                Field::Email
                | Field::Phone
                | Field::CardToken
                | Field::ExternalId
                | Field::BirthDate,
                Agreement::Agrees | Agreement::Partly,
            ) => return false,
            // A mobile beside a patron who gave only a landline (or the other way round)
            // is no line of one's own: people have both.
            (Field::Phone, Agreement::Disagrees) if item.detail() == OTHER_LINE => {}
            (Field::Email | Field::Phone | Field::ExternalId, Agreement::Disagrees) => {
                own_contact_differs = true;
            }
            (Field::Address | Field::Postcode, Agreement::Agrees | Agreement::Partly) => {
                home = true;
            }
            _ => {}
        }
    }
    home && own_contact_differs
}

/// Whether a duplicate that shares only the home with the record ([`only_the_home_agrees`])
/// is still one person with the best candidate: the record's own e-mail, phone or number
/// is the best candidate's, while with the duplicate it shares the names and the postcode
/// (the street not compared: one of them gave only the postcode) and nothing else of it
/// differs but the mailbox. One person writes another mailbox now and then; a father and
/// a son of one name each have a mobile or a number of their own too, or a mailbox
/// spelled from the name they share, and give the address where they live.
pub(crate) fn a_second_mailbox_at_the_postcode(best: &Evidence, duplicate: &Evidence) -> bool {
    let identified = best.items().iter().any(|item| {
        item.agreement() == Agreement::Agrees
            && item.weight() > 0.0
            && matches!(
                item.field(),
                Field::Email | Field::Phone | Field::CardToken | Field::ExternalId
            )
    });
    let mut postcode = false;
    let mut mailbox = false;
    for item in duplicate.items() {
        match (item.field(), item.agreement()) {
            (Field::GivenName | Field::FamilyName, _) | (_, Agreement::Missing) => {}
            (Field::Postcode, Agreement::Agrees) => postcode = true,
            (Field::Email, Agreement::Disagrees) if item.detail() == Level::Different.name() => {
                mailbox = true;
            }
            _ => return false,
        }
    }
    identified && postcode && mailbox
}

/// Whether a candidate the record shares a home with is not proven to be the record's
/// person, however heavy the names and the home weigh, so the record goes to review
/// instead of being linked:
///
/// - **each has a phone of his own**: beyond the names only the home agrees
///   ([`only_the_home_agrees`]), and the record's phone is one the candidate never used,
///   of the same kind (a mobile beside a mobile, a landline beside a landline). A father
///   and son of one name living together look exactly like this, each with his own
///   mobile; one person keeps his number for years, and a landline changes with a move,
///   when the home no longer agrees. So is a mailbox of one's own spelled from the name the
///   candidate's is spelled from ([`Level::NamesakeMailbox`]), even without a phone: a
///   son named after his father writes one, where a returning person rarely changes to
///   one. So is a membership number of one's own (another loyalty number in the same
///   scheme): a person keeps one, each of two housemates has their own.
/// - **another family name at home**: the given names agree, the family names differ,
///   and beyond them only the home agrees while the record's e-mail or phone is one the
///   candidate never used. A mother and a daughter (or two in-laws) of one given name
///   look like that as often as one woman who married and kept her address.
/// - **a nickname at home**: the given names agree only as a nickname (Emmy for Emma),
///   the home agrees, no identifier does, and the record's e-mail or phone is one the
///   candidate never used. Siblings and twins in one household are given related names,
///   and twins share the birth date too, so a nickname with a contact of one's own is a
///   second person as often as the same one.
pub(crate) fn housemate_not_proven(evidence: &Evidence) -> bool {
    let mut home = false;
    let mut identifier_agrees = false;
    let mut nickname = false;
    let (mut email_differs, mut phone_differs) = (false, false);
    let mut namesake_mailbox = false;
    let mut family_differs = false;
    let mut own_number = false;
    for item in evidence.items() {
        match (item.field(), item.agreement()) {
            (
                Field::Email | Field::Phone | Field::CardToken | Field::ExternalId,
                Agreement::Agrees | Agreement::Partly,
            ) => identifier_agrees = true,
            (Field::Email, Agreement::Disagrees) => {
                email_differs = true;
                namesake_mailbox = item.detail() == Level::NamesakeMailbox.name();
            }
            // A mobile beside a patron who gave only a landline (or the other way round)
            // is no line of one's own: people have both.
            (Field::Phone, Agreement::Disagrees) => phone_differs |= item.detail() != OTHER_LINE,
            (Field::Address | Field::Postcode, Agreement::Agrees | Agreement::Partly) => {
                home = true;
            }
            (Field::GivenName, Agreement::Partly) => {
                nickname = item.detail() == Level::Nickname.name();
            }
            (Field::FamilyName, Agreement::Disagrees) => family_differs = true,
            (Field::ExternalId, Agreement::Disagrees) => own_number = true,
            _ => {}
        }
    }
    let own_contacts =
        (phone_differs || namesake_mailbox || own_number) && only_the_home_agrees(evidence);
    let nickname_at_home =
        home && nickname && !identifier_agrees && (email_differs || phone_differs);
    let other_family_at_home = family_differs && only_the_home_agrees(evidence);
    own_contacts || nickname_at_home || other_family_at_home
}

/// Whether two records share something a household shares: an identifier or an address.
pub(crate) fn shares_household_field(evidence: &Evidence) -> bool {
    evidence.items().iter().any(|i| {
        i.agreement() == Agreement::Agrees
            && matches!(
                i.field(),
                Field::Email | Field::Phone | Field::CardToken | Field::Address
            )
    })
}

impl PersonMatcher {
    /// [`Strategy::blocking_keys`], also giving the sounds and table entry of the
    /// signals' names worked out for them (for their comparison block).
    /// `hints` are what recognizing the signals worked out about their names.
    pub(crate) fn blocking_keys_and_sounds<'a>(
        &self,
        signals: &'a NormalizedSignals,
        hints: &NameHints<'_>,
        out: &mut BlockingKeys,
    ) -> KnownSounds<'a> {
        index_keys_hinted(signals, hints, out)
    }
}

impl Strategy for PersonMatcher {
    fn name(&self) -> &str {
        "person"
    }

    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        let users = signals
            .identifiers()
            .iter()
            .map(|identifier| index.counted_patrons_with(identifier));
        let mut keys = BlockingKeys::default();
        query_keys(&SignalSide::new(signals, None), &mut keys);
        let mut filed: SmallVec<[FiledPatrons<'_>; BlockingKeys::CAP]> = SmallVec::new();
        index.patrons_under_each(keys.as_slice(), &mut filed);
        propose(users, &filed, out);
    }

    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        let prepared = Prepared::new(signals, patron.index());
        self.compare(&prepared, patron, out);
    }

    fn score_each(
        &self,
        signals: &NormalizedSignals,
        patrons: &[PatronView<'_>],
        out: &mut [Evidence],
    ) {
        let Some(first) = patrons.first() else {
            return;
        };
        let prepared = Prepared::new(signals, first.index());
        self.score_prepared(&prepared, patrons, out);
    }

    fn blocking_keys(&self, signals: &NormalizedSignals, out: &mut BlockingKeys) {
        index_keys(signals, out);
    }

    fn as_person_matcher(&self) -> Option<&PersonMatcher> {
        Some(self)
    }
}

/// The candidates worth scoring (see [`Strategy::candidates`]), given the patrons using
/// each of the signals' identifiers (`None` for a neutralized one) and the patrons filed
/// under each of their blocking keys.
fn propose<'a>(
    users: impl Iterator<Item = Option<&'a [PatronId]>>,
    filed: &[FiledPatrons<'a>],
    out: &mut Candidates,
) {
    // Count how strongly the indexes point at each patron (a shared identifier counts
    // as much as four blocking keys) and score only the strongest: scoring is the
    // expensive part, and a patron found by one loose key rarely wins.
    let users: SmallVec<[&'a [PatronId]; 4]> = users.flatten().collect();
    // Read the newest patrons of every key before taking any: in a loop of nothing but
    // reads, many keys' cache misses are under way at once.
    let newest = filed
        .iter()
        .flat_map(|patrons| patrons.iter().rev().take(PER_KEY))
        .fold(0, |sum: u64, patron| sum ^ patron.as_u64());
    std::hint::black_box(newest);
    let hits = users.iter().map(|patrons| patrons.len()).sum::<usize>()
        + filed
            .iter()
            .map(|patrons| patrons.len().min(PER_KEY))
            .sum::<usize>();
    if hits == 0 {
        // A stranger: nobody to count.
        return;
    }
    // Each patron's summed hits, in an open-addressing table built in place (power of
    // two many slots, at most half in use), so that nothing allocates or moves for a
    // usual recognition's few dozen hits. A slot is one number, the weight above the
    // id (ids fit four bytes: see `MAX_PATRONS`), so a table is half the bytes to zero
    // and twice the hits fit inline; 0 (no weight) marks an empty slot.
    let len = hits.saturating_mul(2).next_power_of_two().max(16);
    // Zeroed where it stays, only as large as needed: a table built by `smallvec!` was
    // returned, all two kilobytes of its inline room copied, every recognition.
    let (mut small, mut large, mut spilled): ([u64; 64], [u64; 256], Vec<u64>);
    let counts: &mut [u64] = if len <= 64 {
        small = [0; 64];
        small.get_mut(..len).unwrap_or_default()
    } else if len <= 256 {
        large = [0; 256];
        large.get_mut(..len).unwrap_or_default()
    } else {
        spilled = vec![0; len];
        &mut spilled
    };
    // Where each counted patron sits, in the order first counted: read back instead of
    // the whole table, most of which is empty.
    let mut taken: SmallVec<[u32; 128]> = SmallVec::new();
    let mut add = |patron: PatronId, weight: u64| {
        // An id past them (never held) becomes `u32::MAX`, which names no patron.
        let id = u64::from(u32::try_from(patron.as_u64()).unwrap_or(u32::MAX));
        let mask = len - 1;
        let mut at = (patron.as_u64().wrapping_mul(0x9e37_79b9_7f4a_7c15)
            >> (64 - len.trailing_zeros())) as usize;
        // Never more hits than half the slots: a free slot is always found.
        for _ in 0..len {
            let Some(slot) = counts.get_mut(at) else {
                return;
            };
            if *slot == 0 {
                *slot = (weight << 32) | id;
                taken.push(at as u32);
                return;
            }
            if *slot & u64::from(u32::MAX) == id {
                // Weights stay far below four billion: at most four per hit.
                *slot += weight << 32;
                return;
            }
            at = (at + 1) & mask;
        }
    };
    for &patrons in &users {
        for &patron in patrons {
            add(patron, 4);
        }
    }
    for patrons in filed {
        for patron in patrons.iter().rev().take(PER_KEY) {
            add(patron, 1);
        }
    }
    // Strongest first; among equals the newer patron, deterministically (patrons are
    // distinct, so this order is total and the strongest few are the same however
    // they were counted): a slot's number orders both, the weight above the id.
    // The strongest few, kept in order as the counts are read: a few dozen counted
    // patrons need neither a list of them all nor a sort of it.
    let mut strongest = [0_u64; MAX_SCORED];
    let mut kept = 0;
    for &entry in taken.iter().filter_map(|&at| counts.get(at as usize)) {
        // Into the first free place, or in place of the weakest kept if it is weaker.
        let mut at = if kept < MAX_SCORED {
            kept += 1;
            kept - 1
        } else if strongest.last().is_some_and(|&weakest| weakest < entry) {
            MAX_SCORED - 1
        } else {
            continue;
        };
        // Moved up past every weaker one.
        while let Some(at_before) = at.checked_sub(1) {
            let Some(&before) = strongest.get(at_before) else {
                break;
            };
            if before > entry {
                break;
            }
            if let Some(place) = strongest.get_mut(at) {
                *place = before;
            }
            at = at_before;
        }
        if let Some(place) = strongest.get_mut(at) {
            *place = entry;
        }
    }
    // Strongest first, so those found under one key alone are the tail (the count is
    // the high half).
    let found_twice = strongest
        .get(..kept)
        .unwrap_or_default()
        .iter()
        .take_while(|&&entry| entry >> 32 > 1)
        .count();
    let scored = found_twice.max(kept.min(LOOSE_SCORED));
    for &entry in strongest.get(..scored).unwrap_or_default() {
        // The id is the low half.
        out.push(PatronId::from_u64(entry & u64::from(u32::MAX)));
    }
}

/// What recognizing some signals worked out about their names that filing the same
/// names needs again: each name's sounds and its first word's nickname table entry, as
/// far as recognition needed them. The write path hands them from recognition to the
/// blocking keys and comparison block of the patron it files the signals under.
#[derive(Clone, Debug, Default)]
pub(crate) struct NameHints<'a> {
    given: Option<NameHint<'a>>,
    family: Option<NameHint<'a>>,
    /// The signals' street line, and what reading it for comparisons gave (when
    /// recognition compared streets): the comparison block writes what reading gives.
    street: Option<(&'a str, compare::PreparedStreet)>,
}

/// What [`NameHints`] keeps for one name.
#[derive(Clone, Copy, Debug)]
struct NameHint<'a> {
    key: &'a str,
    sounds: Option<NameSounds>,
    nicknames: Option<compare::NicknameEntry>,
}

impl<'a> NameHint<'a> {
    /// What `side` knows, when it is the side of `key` itself (not merely equal text).
    fn of(key: Option<&'a str>, side: Option<&NameSide<'_>>) -> Option<Self> {
        let (key, side) = (key?, side?);
        std::ptr::eq(side.key, key).then(|| Self {
            key,
            sounds: side.sounds.get(),
            nicknames: side.first_nicknames.get(),
        })
    }

    /// A side for `key`, with what this hint knows about it when it is about `key`.
    fn side<'k>(hint: Option<&NameHint<'_>>, key: &'k str) -> NameSide<'k> {
        let side = NameSide::new(key);
        if let Some(hint) = hint.filter(|hint| hint.key == key) {
            side.sounds.set(hint.sounds);
            side.first_nicknames.set(hint.nicknames);
        }
        side
    }
}

impl<'a> NameHints<'a> {
    /// The names' sounds and table entry, as a comparison block takes them, where the
    /// hints know the sounds (the rest is worked out there as before).
    pub(crate) fn known_sounds(&self) -> KnownSounds<'_> {
        let known = |hint: &NameHint<'a>| {
            hint.sounds
                .is_some()
                .then(|| NameHint::side(Some(hint), hint.key))
        };
        KnownSounds {
            given: self.given.as_ref().and_then(|hint| {
                let side = known(hint)?;
                Some((hint.key, side.sound(), side.nicknames()))
            }),
            family: self.family.as_ref().and_then(|hint| {
                let side = known(hint)?;
                Some((hint.key, side.sound()))
            }),
            street: self.street(),
        }
    }
}

impl NameHints<'_> {
    /// The street line recognition read, with what reading it gave.
    fn street(&self) -> Option<(&str, &compare::PreparedStreet)> {
        self.street.as_ref().map(|(line, read)| (*line, read))
    }

    /// `known` (the sounds filing the names' blocking keys worked out), with the street
    /// line recognition read.
    pub(crate) fn with_street<'k>(&'k self, known: KnownSounds<'k>) -> KnownSounds<'k> {
        KnownSounds {
            street: self.street(),
            ..known
        }
    }
}

impl Prepared<'_> {
    /// Notes in `hints` what recognizing `signals` (the signals this was prepared from)
    /// worked out about their names; nothing for other signals.
    pub(crate) fn note_name_hints<'s>(
        &self,
        signals: &'s NormalizedSignals,
        hints: &mut NameHints<'s>,
    ) {
        if std::ptr::eq(self.side.signals, signals) {
            hints.given = NameHint::of(signals.given_key(), self.side.given.as_ref());
            hints.family = NameHint::of(signals.family_key(), self.side.family.as_ref());
            // Only a line comparisons read already: reading it for this is no saving.
            hints.street = signals.address().street().zip(
                self.side
                    .comparing
                    .get()
                    .and_then(|comparing| comparing.street.clone()),
            );
        }
    }
}

/// The keys a patron is filed under for these signals: blocking keys plus the plain
/// values whose frequency weights exact matches.
fn index_keys<'a>(signals: &'a NormalizedSignals, out: &mut BlockingKeys) -> KnownSounds<'a> {
    index_keys_hinted(signals, &NameHints::default(), out)
}

/// [`index_keys`], taking what `hints` know about the names rather than working it out.
fn index_keys_hinted<'a>(
    signals: &'a NormalizedSignals,
    hints: &NameHints<'_>,
    out: &mut BlockingKeys,
) -> KnownSounds<'a> {
    if let Some(given) = signals.given_key() {
        out.push(BlockingKey::of(GIVEN_TAG, given));
    }
    if let Some(family) = signals.family_key() {
        out.push(BlockingKey::of(FAMILY_TAG, family));
    }
    if let Some(postcode) = signals.address().postcode() {
        out.push(BlockingKey::of(POSTCODE_TAG, postcode));
    }
    let given = signals
        .given_key()
        .map(|key| NameHint::side(hints.given.as_ref(), key));
    let family = signals
        .family_key()
        .map(|key| NameHint::side(hints.family.as_ref(), key));
    let sounds = name_keys_of_sides(given, family, signals, out);
    email_local_keys(signals, out);
    sounds
}

/// The keys to look up: the index keys, plus the names swapped. The names' sounds and
/// table entries come from the signals' side, where comparisons read them too.
fn query_keys(side: &SignalSide<'_>, out: &mut BlockingKeys) {
    name_keys_of(side.given.as_ref(), side.family.as_ref(), side.signals, out);
    name_keys_of(side.family.as_ref(), side.given.as_ref(), side.signals, out);
    email_local_keys(side.signals, out);
}

/// The blocking keys of a given and a family name with the signals' postcode and birth
/// date (see [`name_keys_of`]).
/// Returns the names' sounds and the given name's table entry, worked out for them.
fn name_keys<'a>(
    given: Option<&'a str>,
    family: Option<&'a str>,
    signals: &NormalizedSignals,
    out: &mut BlockingKeys,
) -> KnownSounds<'a> {
    name_keys_of_sides(
        given.map(NameSide::new),
        family.map(NameSide::new),
        signals,
        out,
    )
}

/// [`name_keys`] for the names' sides.
fn name_keys_of_sides<'a>(
    given: Option<NameSide<'a>>,
    family: Option<NameSide<'a>>,
    signals: &NormalizedSignals,
    out: &mut BlockingKeys,
) -> KnownSounds<'a> {
    name_keys_of(given.as_ref(), family.as_ref(), signals, out);
    KnownSounds {
        given: given.map(|g| (g.key, g.sound(), g.nicknames())),
        family: family.map(|f| (f.key, f.sound())),
        street: None,
    }
}

/// [`name_keys`], with each name's sounds and table entry worked out beforehand.
fn name_keys_of(
    given: Option<&NameSide<'_>>,
    family: Option<&NameSide<'_>>,
    signals: &NormalizedSignals,
    out: &mut BlockingKeys,
) {
    let postcode = signals.address().postcode();
    let birth = signals.birth_date();
    // Every key combines two values: a name alone (a given name with nothing else, say)
    // files under none.
    let given = given.filter(|_| family.is_some() || postcode.is_some() || birth.is_some());
    let family = family.filter(|_| given.is_some() || postcode.is_some() || birth.is_some());
    let given_sound = given.map(|g| g.word_sounds().0).filter(|k| !k.is_empty());
    // Nicknames sound nothing alike (Bob, Robert): their table groups block together.
    let given_groups: &[compare::NicknameGroup] = given.map_or(&[], NameSide::nickname_groups);
    let given = given.map(|g| g.key);
    if let Some(family_side) = family {
        // Every key below is `BlockingKey::of(tag, &(first, second))`, the tag and the
        // value that stays the same over the loops hashed once (see `KeyPrefix`).
        const NAMES: KeyPrefix = KeyPrefix::tag("names");
        const FAMILY_INITIAL: KeyPrefix = KeyPrefix::tag("family+initial");
        const NICKNAME_FAMILY: KeyPrefix = KeyPrefix::tag("nickname+family");
        const FAMILY_POSTCODE: KeyPrefix = KeyPrefix::tag("family+postcode");
        const FAMILY_YEAR: KeyPrefix = KeyPrefix::tag("family+year");
        let names = given_sound.map(|g| NAMES.then_sound(&g));
        // An array, not a collected small vector: collecting went through a generic
        // extend that cost more than the one or two groups.
        let mut nickname_family = [NICKNAME_FAMILY; 3];
        let nickname_family = nickname_family
            .get_mut(..given_groups.len().min(3))
            .unwrap_or_default();
        for (prefix, group) in nickname_family.iter_mut().zip(given_groups) {
            *prefix = prefix.then(group);
        }
        let initial = given.and_then(|g| g.bytes().next());
        let year = birth.map(|b| chrono::Datelike::year(&b));
        // Each word of a double-barrelled name, so "Smith-Jones" finds "Smith"; both
        // Double Metaphone codes, so "Schmidt" finds "Smith". A name of one word (its
        // first word is all of it, as for most) is that word, found without a search.
        // The (at most two) words go into an array: a chained iterator over either cost
        // more than the keys of a short name.
        let mut words = [""; 2];
        let mut count = 0;
        if family_side.up_to_space().len() == family_side.key.len() {
            if family_side.key.len() > 1 {
                words = [family_side.key, ""];
                count = 1;
            }
        } else {
            let long_enough = family_side.key.split(' ').filter(|w| w.len() > 1);
            for (slot, word) in words.iter_mut().zip(long_enough) {
                *slot = word;
                count += 1;
            }
        }
        for &word in words.get(..count).unwrap_or_default() {
            let (primary, alternate) = family_side.sounds_of_word(word);
            let sounds = [Some(primary), (alternate != primary).then_some(alternate)];
            for sound in sounds.into_iter().flatten().filter(|k| !k.is_empty()) {
                if let Some(names) = names {
                    out.push(names.finish_sound(&sound));
                }
                // The initial finds "A. Lindqvist" for Astrid, and Astrid for "A. Lindqvist".
                if let Some(initial) = initial {
                    out.push(FAMILY_INITIAL.then_sound(&sound).finish(&initial));
                }
                for group in nickname_family.iter() {
                    out.push(group.finish_sound(&sound));
                }
                if let Some(p) = postcode {
                    out.push(FAMILY_POSTCODE.then_sound(&sound).finish(p));
                }
                if let Some(year) = year {
                    out.push(FAMILY_YEAR.then_sound(&sound).finish(&year));
                }
            }
        }
    }
    if let Some(g) = given_sound {
        // Family names change at marriage; a given name with a birth date or a postcode
        // still finds the person. Each key is `BlockingKey::of(tag, &(g, value))`, the
        // tag hashed at compile time.
        const GIVEN_BIRTH: KeyPrefix = KeyPrefix::tag("given+birth");
        const GIVEN_POSTCODE: KeyPrefix = KeyPrefix::tag("given+postcode");
        if let Some(b) = birth {
            out.push(GIVEN_BIRTH.then_sound(&g).finish(&b));
        }
        if let Some(p) = postcode {
            out.push(GIVEN_POSTCODE.then_sound(&g).finish(p));
        }
    }
}

fn email_local_keys(signals: &NormalizedSignals, out: &mut BlockingKeys) {
    for identifier in signals.identifiers() {
        if identifier.kind() != IdentifierKind::Email {
            continue;
        }
        if let Some((local, _)) = compare::split_email(identifier.value()) {
            // Short local parts ("info", "tom") say little about who wrote them.
            if local.len() >= 5 {
                out.push(BlockingKey::of("email-local", local));
            }
        }
    }
}

/// Whether one of two patrons has written a generation suffix ("Smith Jr.") and the other
/// never has: a son who writes his now and then, or a father and his son of one name.
pub(crate) fn generation_written_by_one(a: &PatronView<'_>, b: &PatronView<'_>) -> bool {
    let writes = |v: &PatronView<'_>| {
        v.names()
            .iter()
            .any(|n| n.family_key().and_then(generation).is_some())
    };
    writes(a) != writes(b)
}

/// Whether a record written without a generation suffix is compared with a patron who
/// has written one ("Smith Jr."): the record may be the junior or his father of one name.
pub(crate) fn bare_name_meets_a_junior(
    signals: &NormalizedSignals,
    patron: &PatronView<'_>,
) -> bool {
    signals.family_key().and_then(generation).is_none()
        && patron
            .names()
            .iter()
            .any(|n| n.family_key().and_then(generation).is_some())
}

/// Whether two patrons' profiles say they are different people: both birth dates known
/// and different, or no given name of one fits any given name of the other.
pub(crate) fn profiles_conflict<'a>(a: &PatronView<'a>, b: &PatronView<'a>) -> bool {
    if let (Some(x), Some(y)) = (a.birth_date(), b.birth_date())
        && compare::compare_dates(x, y) == DateLevel::Different
    {
        return true;
    }
    // "Smith Jr." and "Smith Sr." are two men. A name without a suffix says nothing (a
    // son writes his only now and then), so only two patrons who each wrote one, and
    // never the same one, conflict.
    let generations = |v: &PatronView<'a>| -> SmallVec<[&'static str; 2]> {
        let mut all: SmallVec<[&'static str; 2]> = v
            .names()
            .iter()
            .filter_map(|n| n.family_key().and_then(generation))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let (ga, gb) = (generations(a), generations(b));
    if !ga.is_empty() && !gb.is_empty() && !ga.iter().any(|g| gb.contains(g)) {
        return true;
    }
    // Initials stand for the full names beside them, as in `compare_names`.
    let given = |v: &PatronView<'a>| -> Vec<&'a str> {
        let all: Vec<&'a str> = v.names().iter().filter_map(|n| n.given_key()).collect();
        match all.iter().any(|g| is_full_name(g)) {
            true => all.into_iter().filter(|g| is_full_name(g)).collect(),
            false => all,
        }
    };
    let (ga, gb) = (given(a), given(b));
    !ga.is_empty()
        && !gb.is_empty()
        && !ga.iter().any(|x| {
            let x = NameSide::new(x);
            gb.iter()
                .any(|y| given_level(&x, (y, None), || None, || None) != Level::Different)
        })
}

#[cfg(test)]
mod address_tests;

#[cfg(test)]
mod mailbox_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::{Address, PersonName, Profile};

    /// The blocking keys of a given and a family name as they were worked out before the
    /// names' sounds were shared with comparisons: each sound and table entry computed
    /// where used. Patrons are filed under these keys in memories and snapshots already
    /// written, so the keys must not change.
    fn name_keys_as_first_written(
        given: Option<&str>,
        family: Option<&str>,
        signals: &NormalizedSignals,
        out: &mut BlockingKeys,
    ) {
        let postcode = signals.address().postcode();
        let birth = signals.birth_date();
        let given = given.filter(|_| family.is_some() || postcode.is_some() || birth.is_some());
        let family = family.filter(|_| given.is_some() || postcode.is_some() || birth.is_some());
        let given_sound = given
            .map(compare::phonetic_key_word)
            .filter(|k| !k.is_empty());
        let given_groups: &[compare::NicknameGroup] = given
            .and_then(|g| g.split(' ').next())
            .map_or(&[], compare::nickname_groups);
        if let Some(family) = family {
            for word in family.split(' ').filter(|w| w.len() > 1).take(2) {
                let (primary, alternate) = compare::phonetic_keys_word(word);
                let sounds = [Some(primary), (alternate != primary).then_some(alternate)];
                for sound in sounds.into_iter().flatten().filter(|k| !k.is_empty()) {
                    if let Some(g) = given_sound {
                        out.push(BlockingKey::of("names", &(g, sound)));
                    }
                    if let Some(initial) = given.and_then(|g| g.bytes().next()) {
                        out.push(BlockingKey::of("family+initial", &(sound, initial)));
                    }
                    for group in given_groups.iter().take(3) {
                        out.push(BlockingKey::of("nickname+family", &(group, sound)));
                    }
                    if let Some(p) = postcode {
                        out.push(BlockingKey::of("family+postcode", &(sound, p)));
                    }
                    if let Some(b) = birth {
                        out.push(BlockingKey::of(
                            "family+year",
                            &(sound, chrono::Datelike::year(&b)),
                        ));
                    }
                }
            }
        }
        if let Some(g) = given_sound {
            if let Some(b) = birth {
                out.push(BlockingKey::of("given+birth", &(g, b)));
            }
            if let Some(p) = postcode {
                out.push(BlockingKey::of("given+postcode", &(g, p)));
            }
        }
    }

    fn signals(
        given: Option<&str>,
        family: Option<&str>,
        postcode: Option<&str>,
        birth: Option<chrono::NaiveDate>,
    ) -> NormalizedSignals {
        let name = PersonName::new(given.map(|g| (g, g)), family.map(|f| (f, f)));
        NormalizedSignals::from_parts(
            Some(name),
            [],
            Address::new(None, postcode, None, None),
            birth,
        )
    }

    /// The e-mail comparison's first check (the record's first e-mail among the patron's
    /// as it stands) gives what grading every pair gives: the same level, on the same
    /// one of the record's e-mails.
    #[test]
    fn an_email_found_as_it_stands_compares_as_every_pair_graded() {
        let addresses = [
            "anna.berg@example.org",
            "anna.berg+tickets@example.org",
            "anna.berg@example.com",
            "anna.berk@example.org",
            "annaberg@example.org",
            "anna.berg84@example.org",
            "bergfamily@example.org",
            "j.doe@example.net",
        ];
        let mut lists: Vec<Vec<&str>> = vec![vec![]];
        for &a in &addresses {
            lists.push(vec![a]);
            for &b in &addresses {
                lists.push(vec![a, b]);
            }
        }
        let mut compared = 0;
        for mine in &lists {
            let name = PersonName::new(Some(("Anna", "anna")), Some(("Berg", "berg")));
            let signals = NormalizedSignals::from_parts(
                Some(name),
                mine.iter()
                    .map(|&email| Identifier::new(IdentifierKind::Email, email)),
                Address::new(None, None, None, None),
                None,
            );
            let side = SignalSide::new(&signals, None);
            let which = |compared: Compared<'_>| {
                compared.map(|(level, value)| {
                    let at = match value {
                        ValueRef::Identifier(identifier) => signals
                            .identifiers()
                            .iter()
                            .position(|i| std::ptr::eq(i, identifier)),
                        _ => None,
                    };
                    (level, at, matches!(value, ValueRef::HouseholdMailbox))
                })
            };
            for theirs in &lists {
                let patron = ProfileKeys {
                    identifiers: theirs
                        .iter()
                        .map(|&value| keys::IdentifierKey {
                            kind: IdentifierKind::Email,
                            system: None,
                            value,
                        })
                        .collect(),
                    ..ProfileKeys::default()
                };
                let graded = if theirs.is_empty() {
                    None
                } else {
                    compare_emails_split(&side, &patron)
                };
                assert_eq!(
                    which(compare_emails(&side, &patron)),
                    which(graded),
                    "{mine:?} {theirs:?}"
                );
                compared += 1;
            }
        }
        assert!(compared > 4000);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Any names, not only the listed ones, file and are looked up under the keys they
        /// were first filed under: one word or several, short words, runs of spaces,
        /// other whitespace and letters that are not ASCII.
        #[test]
        fn names_file_under_the_keys_they_were_first_filed_under_whatever_they_are(
            given in proptest::option::of("[a-z ]{0,12}|[a-z\t\u{e9}\u{a0} ]{0,10}"),
            family in proptest::option::of("[a-z ]{0,16}|[a-z\t\u{e9}\u{a0} ]{0,10}"),
            postcode in proptest::option::of("[0-9a-z ]{1,8}"),
            born in proptest::bool::ANY,
        ) {
            let birth = chrono::NaiveDate::from_ymd_opt(1971, 4, 2).filter(|_| born);
            let signals = signals(given.as_deref(), family.as_deref(), postcode.as_deref(), birth);
            let (g, f) = (signals.given_key(), signals.family_key());
            let mut expected = BlockingKeys::default();
            name_keys_as_first_written(g, f, &signals, &mut expected);
            let mut keys = BlockingKeys::default();
            name_keys(g, f, &signals, &mut keys);
            proptest::prop_assert_eq!(keys.as_slice(), expected.as_slice());
            name_keys_as_first_written(f, g, &signals, &mut expected);
            email_local_keys(&signals, &mut expected);
            let mut queried = BlockingKeys::default();
            query_keys(&SignalSide::new(&signals, None), &mut queried);
            proptest::prop_assert_eq!(queried.as_slice(), expected.as_slice());
        }
    }

    #[test]
    fn names_file_under_the_keys_they_were_first_filed_under() {
        let names = [
            None,
            Some(""),
            Some("a"),
            Some("bob"),
            Some("robert"),
            Some("anna maria"),
            Some("jean luc"),
            Some("smith"),
            Some("schmidt"),
            Some("smith jones"),
            Some("van der berg"),
            Some("o brien"),
            Some("garcia lopez"),
            Some("x"),
            Some("ursula"),
            Some("mickk"),
            Some(" anna"),
            Some("anna  maria"),
            Some("zoë"),
            Some("christopher"),
        ];
        let birth = chrono::NaiveDate::from_ymd_opt(1971, 4, 2);
        let mut filed = 0;
        for given in names {
            for family in names {
                for (postcode, birth) in [
                    (None, None),
                    (Some("sw1a 1aa"), None),
                    (None, birth),
                    (Some("75011"), birth),
                ] {
                    let signals = signals(given, family, postcode, birth);
                    let (g, f) = (signals.given_key(), signals.family_key());
                    let mut expected = BlockingKeys::default();
                    name_keys_as_first_written(g, f, &signals, &mut expected);
                    let mut keys = BlockingKeys::default();
                    name_keys(g, f, &signals, &mut keys);
                    assert_eq!(keys.as_slice(), expected.as_slice(), "{g:?} {f:?}");
                    // A recognition looks its names up both ways round.
                    name_keys_as_first_written(f, g, &signals, &mut expected);
                    email_local_keys(&signals, &mut expected);
                    let mut queried = BlockingKeys::default();
                    query_keys(&SignalSide::new(&signals, None), &mut queried);
                    assert_eq!(queried.as_slice(), expected.as_slice(), "{g:?} {f:?}");
                    filed += expected.as_slice().len();
                }
            }
        }
        assert!(filed > 1_000, "{filed}");
    }

    /// Filing signals with what recognizing them worked out about their names (as the
    /// write path does) files them under the same keys, and writes the same comparison
    /// block, as working it all out again; hints about other names are not taken.
    #[test]
    fn names_filed_with_recognitions_hints_file_as_worked_out_afresh() {
        let names = [
            None,
            Some("bob"),
            Some("anna maria"),
            Some("smith jones"),
            Some("schmidt"),
            Some("o brien"),
            Some("zoë"),
            Some("x"),
        ];
        let birth = chrono::NaiveDate::from_ymd_opt(1971, 4, 2);
        let known = |k: &KnownSounds<'_>| {
            (
                k.given
                    .map(|(key, sound, entry)| (key.to_owned(), sound, entry.id())),
                k.family.map(|(key, sound)| (key.to_owned(), sound)),
            )
        };
        // What a recognition of the signals leaves: the sounds its lookups worked out.
        let hints_of = |signals: &NormalizedSignals, f: &mut dyn FnMut(&NameHints<'_>)| {
            let side = SignalSide::new(signals, None);
            query_keys(&side, &mut BlockingKeys::default());
            f(&NameHints {
                given: NameHint::of(signals.given_key(), side.given.as_ref()),
                family: NameHint::of(signals.family_key(), side.family.as_ref()),
                street: None,
            });
        };
        let other = signals(Some("ursula"), Some("garcia lopez"), None, birth);
        let mut hinted = 0;
        for given in names {
            for family in names {
                for (postcode, birth) in [(None, birth), (Some("75011"), None)] {
                    let signals = signals(given, family, postcode, birth);
                    let mut afresh = BlockingKeys::default();
                    let sounds = index_keys(&signals, &mut afresh);
                    let mut profile = Profile::default();
                    profile.names.extend(signals.name().cloned());
                    let block = encode_with(&profile, &KnownSounds::default());
                    let mut check = |hints: &NameHints<'_>| {
                        let mut keys = BlockingKeys::default();
                        let hinted_sounds = index_keys_hinted(&signals, hints, &mut keys);
                        assert_eq!(keys.as_slice(), afresh.as_slice(), "{given:?} {family:?}");
                        assert_eq!(known(&hinted_sounds), known(&sounds));
                        assert_eq!(encode_with(&profile, &hints.known_sounds()), block);
                    };
                    hints_of(&signals, &mut |hints| {
                        hinted += usize::from(hints.given.is_some_and(|h| h.sounds.is_some()));
                        check(hints);
                    });
                    hints_of(&other, &mut check);
                }
            }
        }
        assert!(hinted > 20, "{hinted}");
    }

    /// The candidates as proposed before hits were counted in a table: every hit sorted
    /// by patron and summed, then all sorted by strength.
    fn propose_as_first_written(
        users: &[&[PatronId]],
        filed: &[FiledPatrons<'_>],
    ) -> Vec<PatronId> {
        let mut found: Vec<(PatronId, u32)> = Vec::new();
        for patrons in users {
            found.extend(patrons.iter().map(|&p| (p, 4)));
        }
        for patrons in filed {
            found.extend(patrons.iter().rev().take(PER_KEY).map(|p| (p, 1)));
        }
        found.sort_unstable_by_key(|&(p, _)| p);
        let mut summed: Vec<(PatronId, u32)> = Vec::new();
        for (patron, weight) in found {
            match summed.last_mut() {
                Some(last) if last.0 == patron => last.1 += weight,
                _ => summed.push((patron, weight)),
            }
        }
        summed.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        summed
            .iter()
            .take(MAX_SCORED)
            .enumerate()
            .filter(|&(at, &(_, weight))| at < LOOSE_SCORED || weight > 1)
            .map(|(_, &(p, _))| p)
            .collect()
    }

    #[test]
    fn candidates_are_the_strongest_hits_whatever_the_mix() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        let mut tables = [0_u32; 3];
        for round in 0..2_000 {
            // Few patrons, so hits collide often; now and then many keys and long lists.
            let population = 1 + next(if round % 3 == 0 { 12 } else { 400 });
            let keys = next(if round % 5 == 0 { 32 } else { 12 }) as usize;
            let lists: Vec<Vec<u32>> = (0..keys + 3)
                .map(|_| {
                    let len = next(if round % 7 == 0 { 40 } else { 4 });
                    (0..len).map(|_| 1 + next(population) as u32).collect()
                })
                .collect();
            let (users, filed) = lists.split_at(next(3) as usize);
            let users: Vec<Vec<PatronId>> = users
                .iter()
                .map(|ids| {
                    ids.iter()
                        .map(|&id| PatronId::from_u64(id.into()))
                        .collect()
                })
                .collect();
            let users: Vec<&[PatronId]> = users.iter().map(Vec::as_slice).collect();
            let filed: Vec<FiledPatrons<'_>> =
                filed.iter().map(|ids| FiledPatrons::of(ids)).collect();
            let mut proposed = Candidates::default();
            propose(users.iter().map(|&u| Some(u)), &filed, &mut proposed);
            assert_eq!(
                proposed.as_slice(),
                propose_as_first_written(&users, &filed),
                "round {round}"
            );
            // Which of the counting table's three homes (see `propose`) this round used.
            let hits = users.iter().map(|u| u.len()).sum::<usize>()
                + filed.iter().map(|f| f.len().min(PER_KEY)).sum::<usize>();
            let slots = hits.saturating_mul(2).next_power_of_two().max(16);
            tables[usize::from(slots > 64) + usize::from(slots > 256)] += 1;
        }
        // Every home of the table was checked, dozens of times at least.
        assert!(tables.iter().all(|&rounds| rounds >= 50), "{tables:?}");
    }

    /// Takes a record through the shortcut as memory does, up to its decision among the
    /// candidates: the decision if it took one, and what it handed back otherwise; with
    /// the candidates and the evidence scoring each of them fully gives.
    fn decide_as_memory_does(
        memory: &crate::Memory,
        record: &crate::Signals,
    ) -> (
        Option<Recognition>,
        Vec<Candidate>,
        Vec<(PatronId, Evidence)>,
    ) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let location = |field: &str| field.to_owned();
        let limits = crate::memory::Limits::default();
        let signals = record
            .normalize(None, today, &limits, &location, false)
            .expect("valid signals");
        let person = PersonMatcher::default();
        let thresholds = Thresholds::default();
        let patrons = memory.patron_count();
        let mut prepared = person.prepare(&signals, None, memory.index_view());
        person.look_up(&mut prepared, &thresholds, patrons);
        let mut shortcut = person.shortcut(&prepared, &thresholds, patrons);
        shortcut.score_holder();
        assert!(shortcut.settle().is_none(), "someone could compete");
        let mut candidates = Candidates::default();
        prepared.candidates(&mut candidates);
        let views: Vec<PatronView<'_>> = candidates
            .as_slice()
            .iter()
            .filter_map(|&id| memory.patron(id))
            .collect();
        let mut scored: Vec<Candidate> = Vec::new();
        let decided = shortcut.decide(&views, &mut scored);
        let mut full = vec![Evidence::new(); views.len()];
        person.score_prepared(&prepared, &views, full.iter_mut());
        let full = views.iter().map(PatronView::id).zip(full).collect();
        (decided, scored, full)
    }

    #[test]
    fn a_hand_back_carries_each_compared_candidate_once_with_the_evidence_scoring_gives() {
        let born = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        let ana = crate::Signals::new()
            .given_name("Ana")
            .family_name("Lindqvist")
            .birth_date(born(1984, 3, 2).expect("date"))
            .postcode("SW1A 1AA")
            .email("ana.lindqvist@example.org");
        // Namesakes born other years, and one (born another year too, so someone else)
        // living at Ana's postcode: asked for by Ana's e-mail, names and postcode, she
        // could be the record's duplicate, so the shortcut hands back.
        let mut records = vec![ana];
        for (at, year) in [1961, 1972, 1990, 1999].into_iter().enumerate() {
            records.push(
                crate::Signals::new()
                    .given_name("Ana")
                    .family_name("Lindqvist")
                    .birth_date(born(year, 7, 15).expect("date"))
                    .email(format!("ana{at}@example.net")),
            );
        }
        records.push(
            crate::Signals::new()
                .given_name("Ana")
                .family_name("Lindqvist")
                .birth_date(born(1993, 11, 5).expect("date"))
                .postcode("SW1A 1AA"),
        );
        let query = crate::Signals::new()
            .given_name("Ana")
            .family_name("Lindqvist")
            .postcode("SW1A 1AA")
            .email("ana.lindqvist@example.org");
        let mut memory = crate::Memory::new();
        let mut patrons = Vec::new();
        for (at, record) in records.iter().enumerate() {
            let order = crate::Order::new(format!("o-{at}"), record.clone());
            let observed = memory
                .observe(crate::Event::order(format!("e-{at}"), order))
                .expect("order");
            patrons.push(observed.patron());
        }
        let mut distinct = patrons.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            records.len(),
            "six people, six patrons: {patrons:?}"
        );

        let (decided, handed_back, full) = decide_as_memory_does(&memory, &query);
        assert!(
            decided.is_none(),
            "the neighbour could be a duplicate: handed back"
        );
        // The holder and at least the neighbour, each once.
        assert!(handed_back.len() >= 2, "{handed_back:?}");
        assert!(handed_back.iter().any(|c| c.patron() == patrons[0]));
        assert!(handed_back.iter().any(|c| c.patron() == patrons[5]));
        for (at, candidate) in handed_back.iter().enumerate() {
            let again = handed_back
                .iter()
                .skip(at + 1)
                .any(|c| c.patron() == candidate.patron());
            assert!(!again, "{} handed back twice", candidate.patron());
            // Nothing lost or counted twice: item for item what scoring gives.
            let (_, scoring) = full
                .iter()
                .find(|(id, _)| *id == candidate.patron())
                .expect("a candidate scoring compares");
            assert_eq!(candidate.evidence(), scoring, "{}", candidate.patron());
        }
    }

    #[test]
    fn the_largest_patron_ids_are_counted_and_proposed_whole() {
        // A slot keeps the id in four bytes under the weight: the largest ids memory can
        // hold must neither lose bits nor run into the weight.
        let largest = crate::model::ids::MAX_PATRONS as u32;
        let users: Vec<PatronId> = [largest, largest - 1]
            .iter()
            .map(|&id| PatronId::from_u64(id.into()))
            .collect();
        let lists: Vec<Vec<u32>> = vec![vec![largest - 1, 7], vec![largest - 1], vec![7]];
        let filed: Vec<FiledPatrons<'_>> = lists.iter().map(|ids| FiledPatrons::of(ids)).collect();
        let mut proposed = Candidates::default();
        propose(
            std::iter::once(Some(users.as_slice())),
            &filed,
            &mut proposed,
        );
        let proposed: Vec<u64> = proposed.as_slice().iter().map(|p| p.as_u64()).collect();
        // Weights 6, 4 and 2: the order of the weights, each id whole.
        assert_eq!(
            proposed,
            [u64::from(largest - 1), u64::from(largest), 7],
            "weights 4 + 2, 4 and 2"
        );
    }

    #[test]
    fn patrons_under_one_loose_key_fill_only_the_first_places() {
        let propose_from = |lists: &[Vec<u32>]| {
            let filed: Vec<FiledPatrons<'_>> =
                lists.iter().map(|ids| FiledPatrons::of(ids)).collect();
            let mut proposed = Candidates::default();
            propose(std::iter::empty(), &filed, &mut proposed);
            proposed
                .as_slice()
                .iter()
                .map(|p| p.as_u64())
                .collect::<Vec<_>>()
        };
        // Ten namesakes under one key each: only the newest few are scored.
        let loose: Vec<Vec<u32>> = (1..=10).map(|id| vec![id]).collect();
        assert_eq!(propose_from(&loose), [10, 9, 8, 7]);
        assert_eq!(LOOSE_SCORED, 4);
        // The oldest patron, found under two keys, comes first, and the loose ones still
        // fill the first places.
        let mut with_one_twice = loose.clone();
        with_one_twice.push(vec![1]);
        assert_eq!(propose_from(&with_one_twice), [1, 10, 9, 8]);
        // Six found twice are all scored, and no loose one with them.
        let mut six_twice = loose.clone();
        six_twice.extend((1..=6).map(|id| vec![id]));
        assert_eq!(propose_from(&six_twice), [6, 5, 4, 3, 2, 1]);
        // Twelve found twice: the strongest eight, as before.
        let twelve: Vec<Vec<u32>> = (1..=12).flat_map(|id| [vec![id], vec![id]]).collect();
        assert_eq!(propose_from(&twelve), [12, 11, 10, 9, 8, 7, 6, 5]);
    }

    #[test]
    fn the_first_word_is_the_first_whitespace_separated_one() {
        // Every ASCII character around a word, and some whitespace outside ASCII.
        let mut texts: Vec<String> = (0u8..128)
            .map(char::from)
            .flat_map(|c| [format!("{c}ab"), format!("ab{c}cd"), format!("{c}{c}a{c}")])
            .collect();
        for text in [
            "",
            " ",
            "anna maria",
            "  van der berg",
            "\u{a0}anna",
            "anna\u{2003}maria",
            "zoë x",
            "\u{85}o",
            "é\tb",
        ] {
            texts.push(text.to_owned());
        }
        for text in &texts {
            assert_eq!(
                compare::first_word(text),
                text.split_whitespace().next().unwrap_or_default(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_name_sounds_as_it_did_when_worked_out_on_its_own() {
        for name in [
            "",
            "a",
            "smith",
            "schmidt",
            "anna maria",
            "van der berg",
            " anna",
            "zoë",
            "o brien",
            "anna\tmaria",
            "zoë\u{a0}ann",
        ] {
            let side = NameSide::new(name);
            assert_eq!(side.sound(), compare::phonetic_key(name), "{name:?}");
            assert_eq!(
                side.word_sounds(),
                compare::phonetic_keys_word(name),
                "{name:?}"
            );
            assert_eq!(
                side.word_sounds().0,
                compare::phonetic_key_word(name),
                "{name:?}"
            );
            assert_eq!(
                side.nickname_groups(),
                compare::nickname_groups(side.up_to_space())
            );
            // Every word of the name, the whole name and the name's own first word (the
            // same slice, told without a search) sound as their first word does.
            let own = side.first_word();
            for text in name.split(' ').chain([name, own, " x", ""]) {
                assert_eq!(
                    side.sounds_of_word(text),
                    compare::phonetic_keys_word(text),
                    "{name:?} {text:?}"
                );
            }
        }
    }

    /// The level of two given names, compared both ways round.
    fn given_levels(a: &str, b: &str) -> (Level, Level) {
        (
            given_level(&NameSide::new(a), (b, None), || None, || None),
            given_level(&NameSide::new(b), (a, None), || None, || None),
        )
    }

    #[test]
    fn a_slipped_last_letter_is_a_typo_not_a_gendered_pair() {
        for (typed, name) in [("laur", "laura"), ("pierr", "pierre"), ("miaa", "mia")] {
            assert_eq!(
                given_levels(typed, name),
                (Level::Close, Level::Close),
                "{typed} {name}"
            );
        }
        // Both are names: a brother and a sister, not a slip.
        assert_eq!(
            given_levels("daniel", "daniela"),
            (Level::Different, Level::Different)
        );
        // Neither is known: a gendered pair stays two names.
        assert_eq!(
            given_levels("mario", "maria"),
            (Level::Different, Level::Different)
        );
    }

    #[test]
    fn a_known_name_spelled_with_a_doubled_or_swapped_letter_is_close() {
        // One known name spelled two ways.
        assert_eq!(given_levels("ana", "anna"), (Level::Close, Level::Close));
        assert_eq!(
            given_levels("michael", "micheal"),
            (Level::Close, Level::Close)
        );
        // Two known names a letter apart are still two names.
        assert_eq!(
            given_levels("anna", "hanna"),
            (Level::Different, Level::Different)
        );
        assert_eq!(
            given_levels("louis", "luis"),
            (Level::Different, Level::Different)
        );
    }
}
