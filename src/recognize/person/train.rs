//! Training the person model on memory itself, without labels: `u` from random pairs of
//! patrons, `m` and the share of matches by expectation maximisation (EM) over the
//! candidate pairs that blocking brings together.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::model::bits;
use super::{GIVEN_TAG, Level, PER_KEY, PersonModel, email_local_keys, levels, name_keys};
use crate::memory::{IndexView, PatronView};
use crate::model::ids::PatronId;
use crate::model::profile::{Address, Identifier, IdentifierKind, Profile};
use crate::recognize::{BlockingKey, BlockingKeys, Candidates, Field};
use crate::signals::NormalizedSignals;

/// Trained probabilities stay within `[EPSILON, 1 - EPSILON]`, so no weight is infinite.
const EPSILON: f64 = 1e-6;

/// A level a pair does not reach: the value is missing on one side, or the model does
/// not have the comparison or the level.
const MISSING: u8 = u8::MAX;

/// The share of matches EM starts from.
const INITIAL_MATCH_SHARE: f64 = 0.1;

/// Separate pseudo-random streams for the two samples, so changing one option does not
/// reshuffle the other sample.
const RANDOM_STREAM: u64 = 0x7261_6e64_6f6d_0001;
const BLOCKED_STREAM: u64 = 0x626c_6f63_6b65_0002;

/// How [`Memory::train`](crate::Memory::train) samples pairs and runs EM.
///
/// ```
/// use regulars::{PersonModel, TrainingOptions};
/// let options = TrainingOptions::default()
///     .seed(7)
///     .random_pairs(5_000)
///     .max_iterations(10)
///     .starting_model(PersonModel::default());
/// assert_eq!(options.max_pairs, 50_000);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TrainingOptions {
    /// Seed of the pseudo-random samples. The same seed on the same memory gives the same
    /// training, bit for bit.
    pub seed: u64,
    /// How many random pairs of distinct patrons estimate `u` (default 20,000).
    pub random_pairs: usize,
    /// At most how many candidate pairs EM looks at (default 50,000).
    pub max_pairs: usize,
    /// At most how many EM iterations run (default 25).
    pub max_iterations: usize,
    /// EM stops once no `m` and no match share moves by more than this (default `1e-4`).
    pub tolerance: f64,
    /// How many pairs' worth of weight the starting model carries against the data when
    /// `m` and `u` are estimated (default 10): with little data the starting value rules.
    /// Negative or non-finite counts as 0.
    pub prior_pairs: f64,
    /// The model training starts from; its levels, and its weights where memory has no
    /// data (default [`PersonModel::default`]).
    pub starting_model: PersonModel,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        Self {
            seed: 0x5eed_7a11_0000_0001,
            random_pairs: 20_000,
            max_pairs: 50_000,
            max_iterations: 25,
            tolerance: 1e-4,
            prior_pairs: 10.0,
            starting_model: PersonModel::default(),
        }
    }
}

impl TrainingOptions {
    /// Sets [`seed`](Self::seed).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets [`random_pairs`](Self::random_pairs).
    #[must_use]
    pub fn random_pairs(mut self, pairs: usize) -> Self {
        self.random_pairs = pairs;
        self
    }
    /// Sets [`max_pairs`](Self::max_pairs).
    #[must_use]
    pub fn max_pairs(mut self, pairs: usize) -> Self {
        self.max_pairs = pairs;
        self
    }
    /// Sets [`max_iterations`](Self::max_iterations).
    #[must_use]
    pub fn max_iterations(mut self, iterations: usize) -> Self {
        self.max_iterations = iterations;
        self
    }
    /// Sets [`tolerance`](Self::tolerance).
    #[must_use]
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }
    /// Sets [`prior_pairs`](Self::prior_pairs).
    #[must_use]
    pub fn prior_pairs(mut self, pairs: f64) -> Self {
        self.prior_pairs = pairs;
        self
    }
    /// Sets [`starting_model`](Self::starting_model).
    #[must_use]
    pub fn starting_model(mut self, model: PersonModel) -> Self {
        self.starting_model = model;
        self
    }
}

/// How one level of one comparison moved in training.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LevelChange {
    /// The comparison.
    pub field: Field,
    /// The level.
    pub level: Level,
    /// `m` of the starting model.
    pub m_before: f64,
    /// `m` after training.
    pub m_after: f64,
    /// `u` of the starting model.
    pub u_before: f64,
    /// `u` after training.
    pub u_after: f64,
    /// How many candidate pairs (from blocking) landed at this level.
    pub pairs_at_level: u64,
    /// How many random pairs landed at this level.
    pub random_at_level: u64,
    /// How many variant pairs (one patron's earliest and latest values, known matches)
    /// landed at this level; never counted at `exact` (see [`Memory::train`](crate::Memory::train)).
    pub variants_at_level: u64,
}

impl LevelChange {
    /// The weight in bits before training.
    pub fn bits_before(&self) -> f64 {
        bits(self.m_before, self.u_before)
    }
    /// The weight in bits after training.
    pub fn bits_after(&self) -> f64 {
        bits(self.m_after, self.u_after)
    }
}

/// One blocking rule in training: how many candidate pairs it proposed, and the share
/// of matches EM estimated among them.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuleEstimate {
    /// The rule (`"names"`, `"family name + postcode"`, `"e-mail"`…).
    pub rule: String,
    /// Candidate pairs it proposed (without person conflicts).
    pub pairs: u64,
    /// Their estimated share of matches.
    pub match_share: f64,
}

/// What [`Memory::train`](crate::Memory::train) learned: the trained model and how it got
/// there. Serializable, so a training can be stored and reviewed before it is used.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Training {
    model: PersonModel,
    match_share: f64,
    iterations: usize,
    converged: bool,
    random_pairs: usize,
    blocked_pairs: usize,
    conflicting_pairs: usize,
    variant_pairs: usize,
    rules: Vec<RuleEstimate>,
    changes: Vec<LevelChange>,
}

impl Training {
    /// The trained model; use it with [`PersonMatcher::with_model`](crate::PersonMatcher::with_model).
    pub fn model(&self) -> &PersonModel {
        &self.model
    }
    /// The trained model, by value.
    pub fn into_model(self) -> PersonModel {
        self.model
    }
    /// The estimated share of matches (λ) among the candidate pairs, pooled over the
    /// blocking rules (a pair meeting several rules counts in each); 0 when there were
    /// none. See [`rules`](Self::rules) for the share per rule.
    pub fn match_share(&self) -> f64 {
        self.match_share
    }
    /// How many EM iterations ran.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Whether EM settled within the tolerance before the iteration limit (also `true`
    /// when there were no candidate pairs, so nothing to iterate).
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// How many random pairs estimated `u`.
    pub fn random_pairs(&self) -> usize {
        self.random_pairs
    }
    /// How many candidate pairs from blocking EM used.
    pub fn blocked_pairs(&self) -> usize {
        self.blocked_pairs
    }
    /// How many of the candidate pairs EM left out as two people by the strategy's own
    /// rule: different given names or different birth dates (usually a household).
    pub fn conflicting_pairs(&self) -> usize {
        self.conflicting_pairs
    }
    /// How many patrons with several values of a field gave a known-match variant pair.
    pub fn variant_pairs(&self) -> usize {
        self.variant_pairs
    }
    /// Per blocking rule, the candidate pairs it proposed and their estimated share of
    /// matches.
    pub fn rules(&self) -> &[RuleEstimate] {
        &self.rules
    }
    /// Every level of every comparison, before and after, in the model's order.
    pub fn changes(&self) -> &[LevelChange] {
        &self.changes
    }

    /// A plain-text table of the training for staff and engineers: the pairs used, the
    /// match share, and per level `m`, `u` and the weight in bits before and after, with
    /// how many pairs landed there.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals, TrainingOptions};
    /// let mut memory = Memory::new();
    /// let people = [("Ana", "Silva", "ana@example.org"), ("Ana", "Silva", "ana.s@example.net"),
    ///     ("Ben", "Okafor", "ben@example.org"), ("Cleo", "Marsh", "cleo@example.org")];
    /// for (i, (given, family, email)) in people.into_iter().enumerate() {
    ///     let buyer = Signals::new().given_name(given).family_name(family).email(email);
    ///     memory.observe(Event::order(format!("e-{i}"), Order::new(format!("o-{i}"), buyer)))?;
    /// }
    /// let training = memory.train(&TrainingOptions::default().random_pairs(200));
    /// let table = training.explain();
    /// assert!(table.contains("given name") && table.contains("email"));
    /// println!("{table}");
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Person model trained on {} candidate pairs ({} left out as two people: different \
             given names or birth dates), {} variant pairs (known matches) and {} random pairs.",
            self.blocked_pairs, self.conflicting_pairs, self.variant_pairs, self.random_pairs
        );
        let _ = writeln!(
            out,
            "Estimated share of matches among candidate pairs: {:.2}%. EM ran {} iteration{} \
             and {}.",
            self.match_share * 100.0,
            self.iterations,
            if self.iterations == 1 { "" } else { "s" },
            if self.converged {
                "converged"
            } else {
                "stopped before converging"
            }
        );
        for rule in self.rules.iter().filter(|r| r.pairs > 0) {
            let _ = writeln!(
                out,
                "  blocking rule {}: {} pairs, {:.2}% matches",
                rule.rule,
                rule.pairs,
                rule.match_share * 100.0
            );
        }
        let _ = writeln!(out);
        let header = [
            "field",
            "level",
            "m was",
            "m now",
            "u was",
            "u now",
            "bits was",
            "bits now",
            "candidates",
            "random",
            "variants",
        ];
        let rows: Vec<[String; 11]> = self
            .changes
            .iter()
            .map(|c| {
                [
                    c.field.name().to_owned(),
                    c.level.name().to_owned(),
                    probability(c.m_before),
                    probability(c.m_after),
                    probability(c.u_before),
                    probability(c.u_after),
                    format!("{:+.2}", c.bits_before()),
                    format!("{:+.2}", c.bits_after()),
                    c.pairs_at_level.to_string(),
                    c.random_at_level.to_string(),
                    c.variants_at_level.to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let mut line = |cells: &[&str]| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                // Names to the left, numbers to the right.
                if i < 2 {
                    let _ = write!(text, "{cell:<w$}");
                } else {
                    let _ = write!(text, "{cell:>w$}");
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(&header);
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            line(&cells);
        }
        out
    }
}

fn probability(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

impl crate::Memory {
    /// Estimates the person model's `m` and `u` from this memory, without labels.
    ///
    /// - **`u`** (how often strangers land at each level) comes from
    ///   [`random_pairs`](TrainingOptions::random_pairs) pairs of distinct patrons drawn
    ///   with a seeded generator: the share of pairs at each level of each comparison, pairs
    ///   missing the value on one side skipped, smoothed towards the starting `u` by
    ///   [`prior_pairs`](TrainingOptions::prior_pairs) pseudo-pairs. A level no pair
    ///   reached keeps the smaller of its starting `u` and `1/n` (for `n` pairs compared
    ///   on that field): the sample shows it is rarer than about one in `n`, not how much
    ///   rarer, so it never drops to zero or to a weight the sample cannot support. A
    ///   comparison no pair could make keeps its starting `u`.
    /// - **Candidate pairs** come from the person strategy's own blocking, rule by rule:
    ///   names that sound alike; family name with postcode or birth year; given name with
    ///   birth date or postcode; a shared e-mail or e-mail local part; a shared phone,
    ///   card token or external id. Each patron's profile (latest name, every identifier, latest
    ///   address, birth date) is looked up under each rule's keys (the strategy's key
    ///   functions, fed only that rule's fields, most recent patrons per key as in
    ///   recognition). Patrons merged into others and the patron itself are skipped, and
    ///   patrons are visited in a seeded shuffle of id order until
    ///   [`max_pairs`](TrainingOptions::max_pairs) distinct pairs. The profile is
    ///   compared with the other patron's whole profile, as in recognition (a close
    ///   given-name spelling that some third patron uses as a name counts as different).
    ///   Memory already joined the records it recognized, so the matches among these
    ///   pairs are the duplicates it left apart.
    /// - **Person conflicts**: a candidate pair whose given names or birth dates differ
    ///   is two people by the strategy's own rule (recognition then files them as a
    ///   household, never as one patron), so EM leaves it out: otherwise a household,
    ///   sharing a family name, an address and a phone, would pass for one person and
    ///   teach the model that matches rarely share a given name.
    /// - **Blocking bias**: pairs proposed because both names sound alike agree on the
    ///   names whether or not they are matches; taking that as evidence would make
    ///   strangers called John Smith look like one person. So, as in Splink, each pair
    ///   joins the rules that proposed it, and within a rule the rule's own fields (and
    ///   the address, for postcode rules) are left out. Each rule has its own match share
    ///   λ; `m` is shared.
    /// - **EM** keeps `u` fixed and starts from the starting `m` and λ = 0.1 for every
    ///   rule. The E-step gives each pair the probability that it is a match under
    ///   conditional independence, `λ·Πm / (λ·Πm + (1−λ)·Πu)` over the comparisons it
    ///   reaches outside its rule; the M-step sets each λ to the rule's mean
    ///   probability and `m` of each level to the probability-weighted share of
    ///   observations there, pooled over the rules and smoothed towards the starting `m`.
    ///   It stops when no λ and no `m` moves by more than
    ///   [`tolerance`](TrainingOptions::tolerance), or after
    ///   [`max_iterations`](TrainingOptions::max_iterations).
    /// - **Variant pairs**: a patron who used several names, addresses, or identifiers of
    ///   one kind is a known match with themself. Their earliest values are compared with
    ///   their latest ones, and every comparison that lands below `exact` is counted as a
    ///   certain match. Such pairs differ by construction, so they say nothing about how
    ///   often a match agrees exactly: they only shape how the non-exact share of `m` is
    ///   split between nickname, typo, other domain, different and so on. The exact share
    ///   comes from EM alone.
    /// - **Levels with no data** (no candidate pair weighed there and no variant pair)
    ///   keep their starting `m`; the levels with data share what remains. Estimated `m`
    ///   and `u` are kept within `[1e-6, 1 − 1e-6]`. On an empty memory the result is the
    ///   starting model.
    /// - **Two mailboxes of one name** ([`Level::NamesakeMailbox`]) count as `different`
    ///   and keep their starting `m` and `u`: the level speaks only between people who
    ///   share a name, which random pairs almost never do.
    ///
    /// Deterministic: the same memory and options give the same [`Training`]. Read-only,
    /// and it costs time in proportion to the pairs sampled, not to the square of the
    /// patrons.
    ///
    /// A trained model is used by building a memory whose strategy carries it:
    ///
    /// ```
    /// use regulars::{Memory, PersonMatcher, TrainingOptions};
    /// let memory = Memory::new();
    /// let training = memory.train(&TrainingOptions::default());
    /// let retrained = Memory::builder()
    ///     .without_default_strategies()
    ///     .strategy(PersonMatcher::with_model(training.model().clone()))
    ///     .build()?;
    /// # let _ = retrained;
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn train(&self, options: &TrainingOptions) -> Training {
        Trainer::new(self, options).run()
    }
}

/// How a blocking rule finds candidates: one family of the person strategy's keys, or
/// one kind of identifier.
#[derive(Clone, Copy)]
enum Lookup {
    Names,
    FamilyPostcode,
    FamilyBirth,
    GivenBirth,
    GivenPostcode,
    /// A shared e-mail or e-mail local part.
    Email,
    Identifier(IdentifierKind),
}

/// The person strategy's blocking, rule by rule, with the fields each rule's pairs agree
/// on by construction: within a rule those fields are no evidence of a match. A postcode
/// brings its street with it, so postcode rules leave the address out too.
const RULES: [(&str, Lookup, &[Field]); 9] = [
    (
        "names",
        Lookup::Names,
        &[Field::GivenName, Field::FamilyName],
    ),
    (
        "family name + postcode",
        Lookup::FamilyPostcode,
        &[Field::FamilyName, Field::Postcode, Field::Address],
    ),
    (
        "family name + birth year",
        Lookup::FamilyBirth,
        &[Field::FamilyName, Field::BirthDate],
    ),
    (
        "given name + birth date",
        Lookup::GivenBirth,
        &[Field::GivenName, Field::BirthDate],
    ),
    (
        "given name + postcode",
        Lookup::GivenPostcode,
        &[Field::GivenName, Field::Postcode, Field::Address],
    ),
    ("e-mail", Lookup::Email, &[Field::Email]),
    (
        "same phone",
        Lookup::Identifier(IdentifierKind::Phone),
        &[Field::Phone],
    ),
    (
        "same card token",
        Lookup::Identifier(IdentifierKind::CardToken),
        &[Field::CardToken],
    ),
    (
        "same external id",
        Lookup::Identifier(IdentifierKind::External),
        &[Field::ExternalId],
    ),
];

/// The candidate pairs as EM sees them.
struct CandidatePairs {
    /// Pairs per level, all fields.
    counts: Counts,
    /// Observations per level EM weighs (a pair counts once per rule that proposed it,
    /// without the rule's fields).
    observed: Counts,
    /// Unique (rule, masked levels) patterns with how many pairs share them.
    patterns: Vec<((u8, Vec<u8>), f64)>,
    /// Distinct pairs.
    pairs: usize,
    /// Pairs left out of EM because the given names or birth dates differ.
    conflicting: usize,
}

/// The comparisons and levels of the starting model, by position.
struct Layout {
    fields: Vec<Field>,
    levels: Vec<Vec<Level>>,
    exact: Vec<Option<usize>>,
}

impl Layout {
    fn of(model: &PersonModel) -> Self {
        let fields: Vec<Field> = model.comparisons.iter().map(|c| c.field).collect();
        let levels: Vec<Vec<Level>> = model
            .comparisons
            .iter()
            .map(|c| c.levels.iter().map(|l| l.level).collect())
            .collect();
        let exact = levels
            .iter()
            .map(|ls| ls.iter().position(|&l| l == Level::Exact))
            .collect();
        Self {
            fields,
            levels,
            exact,
        }
    }

    fn code(&self, field: Field, level: Level) -> Option<(usize, u8)> {
        let c = self.fields.iter().position(|&f| f == field)?;
        let l = self.levels[c].iter().position(|&l| l == level)?;
        Some((c, u8::try_from(l).ok().filter(|&l| l != MISSING)?))
    }

    fn zeros<T: Default + Clone>(&self) -> Vec<Vec<T>> {
        self.levels
            .iter()
            .map(|ls| vec![T::default(); ls.len()])
            .collect()
    }
}

/// How many pairs landed at each level of each comparison.
struct Counts(Vec<Vec<u64>>);

impl Counts {
    fn add(&mut self, code: &[u8], exact: Option<&[Option<usize>]>) {
        for (c, &l) in code.iter().enumerate() {
            if l == MISSING {
                continue;
            }
            let l = usize::from(l);
            if exact.is_some_and(|e| e[c] == Some(l)) {
                continue;
            }
            self.0[c][l] += 1;
        }
    }
}

/// A tiny seeded generator (SplitMix64): deterministic, no dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

struct Trainer<'m> {
    memory: &'m crate::Memory,
    index: IndexView<'m>,
    options: &'m TrainingOptions,
    layout: Layout,
    prior: f64,
    /// Live patrons in id order, and each one's profile as signals.
    live: Vec<PatronView<'m>>,
    signals: Vec<NormalizedSignals>,
}

impl<'m> Trainer<'m> {
    fn new(memory: &'m crate::Memory, options: &'m TrainingOptions) -> Self {
        let live: Vec<PatronView<'m>> = memory.patrons().collect();
        let signals = live
            .iter()
            .map(|p| profile_signals(&p.record.profile))
            .collect();
        let prior = if options.prior_pairs.is_finite() {
            options.prior_pairs.max(0.0)
        } else {
            0.0
        };
        Self {
            memory,
            index: memory.index_view(),
            options,
            layout: Layout::of(&options.starting_model),
            prior,
            live,
            signals,
        }
    }

    /// The levels a pair reaches, one per comparison of the layout.
    fn encode(
        &self,
        signals: &NormalizedSignals,
        other: &PatronView<'_>,
        exclude: [PatronId; 2],
        out: &mut Vec<u8>,
    ) {
        out.clear();
        out.resize(self.layout.fields.len(), MISSING);
        for (field, level) in levels(signals, other) {
            let Some((mut level, _)) = level else {
                continue;
            };
            if field == Field::GivenName
                && matches!(level, Level::Close | Level::Phonetic)
                && signals
                    .given_key()
                    .is_some_and(|given| self.used_by_others(given, exclude))
            {
                level = Level::Different;
            }
            if level == Level::NamesakeMailbox {
                // Counted as the difference it is; its own rates are not trained.
                level = Level::Different;
            }
            if let Some((c, l)) = self.layout.code(field, level)
                && out[c] == MISSING
            {
                out[c] = l;
            }
        }
    }

    /// Whether a given name is one some patron other than the two compared uses (the
    /// adjustment recognition makes, without counting the pair itself).
    fn used_by_others(&self, given: &str, exclude: [PatronId; 2]) -> bool {
        self.index
            .patrons_under(BlockingKey::of(GIVEN_TAG, given))
            .iter()
            .any(|p| !exclude.contains(&self.index.state.live(p)))
    }

    fn run(self) -> Training {
        let start = &self.options.starting_model;
        let mut code = Vec::new();

        // u: random pairs of distinct live patrons.
        let mut random = Counts(self.layout.zeros());
        let mut random_pairs = 0;
        if self.live.len() >= 2 {
            let mut rng = SplitMix64(self.options.seed ^ RANDOM_STREAM);
            for _ in 0..self.options.random_pairs {
                let i = rng.below(self.live.len());
                let mut j = rng.below(self.live.len() - 1);
                if j >= i {
                    j += 1;
                }
                let exclude = [self.live[i].id(), self.live[j].id()];
                self.encode(&self.signals[i], &self.live[j], exclude, &mut code);
                random.add(&code, None);
                random_pairs += 1;
            }
        }
        let u = self.estimate_u(&random);

        // Candidate pairs from blocking, as unique patterns per rule with counts.
        let pairs = self.candidate_pairs(&mut code);

        // Known-match variant pairs.
        let (variants, variant_pairs) = self.variant_pairs(&mut code);

        // EM: one match share per blocking rule, one `m` for all.
        let m0: Vec<Vec<f64>> = start
            .comparisons
            .iter()
            .map(|c| c.levels.iter().map(|l| l.m).collect())
            .collect();
        let ln_u: Vec<Vec<f64>> = u
            .iter()
            .map(|ls| ls.iter().map(|&x| ln(x)).collect())
            .collect();
        let sessions = RULES.len();
        let mut totals = vec![0.0; sessions];
        for ((rule, _), n) in &pairs.patterns {
            totals[usize::from(*rule)] += n;
        }
        let mut m = m0.clone();
        let mut lambdas = vec![INITIAL_MATCH_SHARE; sessions];
        let mut matched = vec![0.0; sessions];
        let mut iterations = 0;
        let mut converged = false;
        if pairs.patterns.is_empty() {
            m = self.update_m(&m0, &self.layout.zeros(), &pairs.observed, &variants);
            converged = true;
        } else {
            while iterations < self.options.max_iterations {
                iterations += 1;
                let ln_m: Vec<Vec<f64>> = m
                    .iter()
                    .map(|ls| ls.iter().map(|&x| ln(x)).collect())
                    .collect();
                let mut weights: Vec<Vec<f64>> = self.layout.zeros();
                matched.iter_mut().for_each(|x| *x = 0.0);
                for ((rule, pattern), n) in &pairs.patterns {
                    let rule = usize::from(*rule);
                    let (mut a, mut b) = (ln(lambdas[rule]), ln(1.0 - lambdas[rule]));
                    for (c, &l) in pattern.iter().enumerate() {
                        if l != MISSING {
                            a += ln_m[c][usize::from(l)];
                            b += ln_u[c][usize::from(l)];
                        }
                    }
                    let posterior = 1.0 / (1.0 + (b - a).exp());
                    let w = n * posterior;
                    matched[rule] += w;
                    for (c, &l) in pattern.iter().enumerate() {
                        if l != MISSING {
                            weights[c][usize::from(l)] += w;
                        }
                    }
                }
                let mut delta: f64 = 0.0;
                for (rule, lambda) in lambdas.iter_mut().enumerate() {
                    if totals[rule] > 0.0 {
                        let next = (matched[rule] / totals[rule]).clamp(EPSILON, 1.0 - EPSILON);
                        delta = delta.max((next - *lambda).abs());
                        *lambda = next;
                    }
                }
                let next_m = self.update_m(&m0, &weights, &pairs.observed, &variants);
                for (a, b) in next_m.iter().flatten().zip(m.iter().flatten()) {
                    delta = delta.max((a - b).abs());
                }
                m = next_m;
                if delta < self.options.tolerance {
                    converged = true;
                    break;
                }
            }
        }
        let all: f64 = totals.iter().sum();
        let match_share = if iterations > 0 && all > 0.0 {
            matched.iter().sum::<f64>() / all
        } else {
            0.0
        };
        let rules = RULES
            .iter()
            .map(|(name, _, _)| *name)
            .enumerate()
            .map(|(r, name)| RuleEstimate {
                rule: name.to_owned(),
                pairs: totals[r] as u64,
                match_share: if iterations > 0 && totals[r] > 0.0 {
                    matched[r] / totals[r]
                } else {
                    0.0
                },
            })
            .collect();

        let mut changes = Vec::new();
        let mut model = start.clone();
        for (c, comparison) in start.comparisons.iter().enumerate() {
            for (l, before) in comparison.levels.iter().enumerate() {
                // A level that only means something between people of one name keeps
                // its starting rates: random pairs almost never share a name, so they
                // would make it look rare among strangers, the opposite of what it says.
                let kept = before.level == Level::NamesakeMailbox;
                let change = LevelChange {
                    field: comparison.field,
                    level: before.level,
                    m_before: before.m,
                    m_after: if kept { before.m } else { m[c][l] },
                    u_before: before.u,
                    u_after: if kept { before.u } else { u[c][l] },
                    pairs_at_level: pairs.counts.0[c][l],
                    random_at_level: random.0[c][l],
                    variants_at_level: variants.0[c][l],
                };
                // Only a field's first comparison, and its first entry of a level, ever gets
                // data; a repeat keeps its starting values, so it needs no writing.
                let first = self.layout.code(change.field, change.level)
                    == u8::try_from(l).ok().map(|l| (c, l));
                if let Some(weight) = model
                    .comparison_mut(change.field)
                    .filter(|_| first)
                    .and_then(|w| w.level_mut(change.level))
                {
                    weight.m = change.m_after;
                    weight.u = change.u_after;
                }
                changes.push(change);
            }
        }
        Training {
            model,
            match_share,
            iterations,
            converged,
            random_pairs,
            blocked_pairs: pairs.pairs,
            conflicting_pairs: pairs.conflicting,
            variant_pairs,
            rules,
            changes,
        }
    }

    /// `u` per level: the share of random pairs there, smoothed towards the starting `u`.
    /// A level no pair reached keeps the smaller of its starting `u` and `1/n`: `n` pairs
    /// only show that it is rarer than about one in `n`, not how much rarer.
    fn estimate_u(&self, random: &Counts) -> Vec<Vec<f64>> {
        self.options
            .starting_model
            .comparisons
            .iter()
            .zip(&random.0)
            .map(|(comparison, counts)| {
                let u0: Vec<f64> = comparison.levels.iter().map(|l| l.u).collect();
                let n: u64 = counts.iter().sum();
                let denominator = n as f64 + self.prior * u0.iter().sum::<f64>();
                if n == 0 || denominator <= 0.0 {
                    return u0;
                }
                counts
                    .iter()
                    .zip(&u0)
                    .map(|(&k, &u)| {
                        let estimate = if k == 0 {
                            u.min(1.0 / n as f64)
                        } else {
                            (k as f64 + self.prior * u) / denominator
                        };
                        estimate.clamp(EPSILON, 1.0 - EPSILON)
                    })
                    .collect()
            })
            .collect()
    }

    /// Candidate pairs, rule by rule: each patron's profile is looked up under each rule's
    /// keys (the strategy's own key functions, fed only the fields of that rule), and each
    /// pair joins the rule that proposed it, with the rule's fields masked.
    fn candidate_pairs(&self, code: &mut Vec<u8>) -> CandidatePairs {
        let mut pairs = CandidatePairs {
            counts: Counts(self.layout.zeros()),
            observed: Counts(self.layout.zeros()),
            patterns: Vec::new(),
            pairs: 0,
            conflicting: 0,
        };
        let mut patterns: BTreeMap<(u8, Vec<u8>), u64> = BTreeMap::new();
        let mut order: Vec<usize> = (0..self.live.len()).collect();
        let mut rng = SplitMix64(self.options.seed ^ BLOCKED_STREAM);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        // Both maps are only probed, never iterated: hash order cannot leak into results.
        // A pair's levels (`None` for a person conflict), computed once.
        let mut levels_of: HashMap<(PatronId, PatronId), Option<Vec<u8>>> = HashMap::new();
        let mut filed: HashSet<(u8, PatronId, PatronId)> = HashSet::new();
        let state = self.index.state;
        let mut keys = BlockingKeys::default();
        let mut masked = Vec::new();
        'patrons: for &i in &order {
            let me = self.live[i].id();
            let signals = &self.signals[i];
            for (r, (_, lookup, fields)) in RULES.iter().enumerate() {
                let mut candidates = Candidates::default();
                self.rule_candidates(*lookup, signals, &mut keys, &mut candidates);
                for &candidate in candidates.as_slice() {
                    let other = state.live(candidate);
                    let pair = (me.min(other), me.max(other));
                    if other == me || !filed.insert((r as u8, pair.0, pair.1)) {
                        continue;
                    }
                    let levels = match levels_of.get(&pair) {
                        Some(levels) => levels.as_deref(),
                        None => {
                            if pairs.pairs >= self.options.max_pairs {
                                break 'patrons;
                            }
                            let Some(view) = self.memory.patron(other) else {
                                continue;
                            };
                            self.encode(signals, &view, [me, other], code);
                            pairs.counts.add(code, None);
                            pairs.pairs += 1;
                            // Two people by the strategy's own rule, whatever else they
                            // share (usually a household): not weighed.
                            let conflict = [Field::GivenName, Field::BirthDate]
                                .into_iter()
                                .any(|f| self.level(code, f) == Some(Level::Different));
                            pairs.conflicting += usize::from(conflict);
                            levels_of
                                .entry(pair)
                                .or_insert((!conflict).then(|| code.clone()))
                                .as_deref()
                        }
                    };
                    let Some(levels) = levels else {
                        continue;
                    };
                    masked.clear();
                    masked.extend_from_slice(levels);
                    for &field in *fields {
                        if let Some(c) = self.layout.fields.iter().position(|&f| f == field) {
                            masked[c] = MISSING;
                        }
                    }
                    pairs.observed.add(&masked, None);
                    *patterns.entry((r as u8, masked.clone())).or_insert(0) += 1;
                }
            }
        }
        pairs.patterns = patterns.into_iter().map(|(p, n)| (p, n as f64)).collect();
        pairs
    }

    /// The patrons one rule proposes for these signals, as the strategy's candidate
    /// lookup does: every patron of a shared identifier (unless neutralized), the most
    /// recent `PER_KEY` under each key.
    fn rule_candidates(
        &self,
        lookup: Lookup,
        signals: &NormalizedSignals,
        keys: &mut BlockingKeys,
        out: &mut Candidates,
    ) {
        let shared = match lookup {
            Lookup::Identifier(kind) => Some(kind),
            Lookup::Email => Some(IdentifierKind::Email),
            _ => None,
        };
        if let Some(kind) = shared {
            for identifier in signals.identifiers().iter().filter(|i| i.kind() == kind) {
                if self.index.is_neutralized(identifier) {
                    continue;
                }
                for &patron in self.index.patrons_with(identifier) {
                    out.push(patron);
                }
            }
        }
        // The strategy's key functions, fed only this rule's fields.
        let (given, family) = (signals.given_key(), signals.family_key());
        let only = |postcode: bool, birth: bool| {
            let address = Address::new(
                None,
                signals.address().postcode().filter(|_| postcode),
                None,
                None,
            );
            NormalizedSignals::from_parts(None, [], address, signals.birth_date().filter(|_| birth))
        };
        keys.clear();
        match lookup {
            Lookup::Names => {
                let bare = only(false, false);
                name_keys(given, family, &bare, keys);
                name_keys(family, given, &bare, keys);
            }
            Lookup::FamilyPostcode | Lookup::FamilyBirth => {
                let with = only(
                    matches!(lookup, Lookup::FamilyPostcode),
                    matches!(lookup, Lookup::FamilyBirth),
                );
                name_keys(None, family, &with, keys);
                name_keys(None, given, &with, keys);
            }
            Lookup::GivenBirth | Lookup::GivenPostcode => {
                let with = only(
                    matches!(lookup, Lookup::GivenPostcode),
                    matches!(lookup, Lookup::GivenBirth),
                );
                name_keys(given, None, &with, keys);
                name_keys(family, None, &with, keys);
            }
            Lookup::Email => email_local_keys(signals, keys),
            Lookup::Identifier(_) => {}
        }
        for &key in keys.as_slice() {
            for patron in self.index.patrons_under(key).iter().rev().take(PER_KEY) {
                out.push(patron);
            }
        }
    }

    /// The level a pair reached on a field, if any.
    fn level(&self, code: &[u8], field: Field) -> Option<Level> {
        let c = self.layout.fields.iter().position(|&f| f == field)?;
        self.layout.levels[c].get(usize::from(code[c])).copied()
    }

    /// Each patron with several values of a field, earliest values against latest ones;
    /// only levels below exact are counted.
    fn variant_pairs(&self, code: &mut Vec<u8>) -> (Counts, usize) {
        let mut counts = Counts(self.layout.zeros());
        let mut pairs = 0;
        // One reusable record holds the latest values; only its profile is read.
        let mut scratch = None;
        for view in &self.live {
            let profile = &view.record.profile;
            let first = first_per_kind(&profile.identifiers);
            let last = last_per_kind(&profile.identifiers);
            if profile.names.len() < 2
                && profile.addresses.len() < 2
                && first.len() == profile.identifiers.len()
            {
                continue;
            }
            let earliest = NormalizedSignals::from_parts(
                profile.names.first().cloned(),
                first,
                profile.addresses.first().cloned().unwrap_or_default(),
                profile.birth_date,
            );
            let record = scratch.get_or_insert_with(|| {
                // Its profile is replaced below. Compact copies live in the patrons'
                // slots, not in records: this copy has none, and training compares
                // profiles (`levels`), never blocks.
                let mut record = view.record.clone();
                record.history = Vec::new();
                record
            });
            record.profile.names = profile.names.last().cloned().into_iter().collect();
            record.profile.identifiers = last;
            record.profile.addresses = profile.addresses.last().cloned().into_iter().collect();
            record.profile.birth_date = profile.birth_date;
            let latest = PatronView::of(record, self.index.state, view.id());
            self.encode(&earliest, &latest, [view.id(), view.id()], code);
            counts.add(code, Some(&self.layout.exact));
            pairs += 1;
        }
        (counts, pairs)
    }

    /// The M-step for `m`. Per comparison: levels with no EM observation and no variant
    /// pair keep their starting `m`, and the levels with data share the rest. The exact level's
    /// part of it follows the EM weights (smoothed by `prior` pseudo-pairs at the starting
    /// `m`); the other levels split what is left by EM weights plus variant pairs (same
    /// smoothing).
    fn update_m(
        &self,
        m0: &[Vec<f64>],
        weights: &[Vec<f64>],
        observed: &Counts,
        variants: &Counts,
    ) -> Vec<Vec<f64>> {
        let mut out = m0.to_vec();
        for (c, start) in m0.iter().enumerate() {
            let has_data = |l: usize| observed.0[c][l] > 0 || variants.0[c][l] > 0;
            let data: Vec<usize> = (0..start.len()).filter(|&l| has_data(l)).collect();
            if data.is_empty() {
                continue;
            }
            let kept: f64 = (0..start.len())
                .filter(|&l| !has_data(l))
                .map(|l| start[l])
                .sum();
            let free = 1.0 - kept;
            if free <= 0.0 {
                continue;
            }
            let mut rest = free;
            let mut others = data.clone();
            if let Some(e) = self.layout.exact[c].filter(|&e| has_data(e)) {
                let score = |l: usize| weights[c][l] + self.prior * start[l];
                let denominator: f64 = data.iter().map(|&l| score(l)).sum();
                let share = if denominator > 0.0 {
                    score(e) / denominator
                } else {
                    proportion(start, &data, e)
                };
                out[c][e] = free * share;
                rest = free - out[c][e];
                others.retain(|&l| l != e);
            }
            let score = |l: usize| weights[c][l] + variants.0[c][l] as f64 + self.prior * start[l];
            let denominator: f64 = others.iter().map(|&l| score(l)).sum();
            for &l in &others {
                let share = if denominator > 0.0 {
                    score(l) / denominator
                } else {
                    proportion(start, &others, l)
                };
                out[c][l] = rest * share;
            }
            for &l in &data {
                out[c][l] = out[c][l].clamp(EPSILON, 1.0 - EPSILON);
            }
        }
        out
    }
}

/// `values[l]`'s share of `values` over `among`, or an equal share if they sum to zero.
fn proportion(values: &[f64], among: &[usize], l: usize) -> f64 {
    let sum: f64 = among.iter().map(|&i| values[i].max(0.0)).sum();
    if sum > 0.0 {
        values[l].max(0.0) / sum
    } else {
        1.0 / among.len() as f64
    }
}

/// A natural log that stays finite for probabilities at or near zero.
fn ln(p: f64) -> f64 {
    p.max(1e-300).ln()
}

/// A patron's profile as the signals of one record: latest name, every identifier,
/// latest address, birth date.
fn profile_signals(profile: &Profile) -> NormalizedSignals {
    NormalizedSignals::from_parts(
        profile.names.last().cloned(),
        profile.identifiers.iter().cloned(),
        profile.addresses.last().cloned().unwrap_or_default(),
        profile.birth_date,
    )
}

fn same_kind(a: &Identifier, b: &Identifier) -> bool {
    a.kind() == b.kind() && a.system() == b.system()
}

/// The earliest identifier of each kind (of each system, for external ids).
fn first_per_kind(identifiers: &[Identifier]) -> Vec<Identifier> {
    let mut out: Vec<Identifier> = Vec::new();
    for identifier in identifiers {
        if !out.iter().any(|o| same_kind(o, identifier)) {
            out.push(identifier.clone());
        }
    }
    out
}

/// The latest identifier of each kind (of each system, for external ids).
fn last_per_kind(identifiers: &[Identifier]) -> Vec<Identifier> {
    identifiers
        .iter()
        .enumerate()
        .filter(|(i, id)| {
            !identifiers[i + 1..]
                .iter()
                .any(|later| same_kind(later, id))
        })
        .map(|(_, id)| id.clone())
        .collect()
}
