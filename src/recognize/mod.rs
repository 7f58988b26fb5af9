//! Who is this? Strategies propose and score candidates; a decision turns scores into
//! `Known`, `Review` or `New`.

mod blocking;
mod compare;
mod evidence;
mod exact;
mod person;

use std::fmt::Debug;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

pub(crate) use blocking::KeyPrefix;
pub use blocking::{BlockingKey, BlockingKeys};
pub use evidence::{Agreement, Evidence, EvidenceItem, Field};
pub use exact::{ExactIdentifiers, ExactWeights};
pub(crate) use person::housemate_not_proven;
pub use person::{
    Comparison, Level, LevelChange, LevelWeight, PersonMatcher, PersonModel, RuleEstimate,
    Training, TrainingOptions,
};
pub(crate) use person::{
    KnownSounds, NameHints, a_second_mailbox_at_the_postcode, bare_name_meets_a_junior,
    encode_with, generation_written_by_one, only_the_home_agrees, person_agrees, person_conflict,
    profiles_conflict, shares_household_field,
};
pub(crate) use person::{Prepared, Shortcut, SignalsAhead};

use crate::memory::{IndexView, PatronView};
use crate::model::ids::PatronId;
use crate::signals::NormalizedSignals;

/// A way of recognizing people: it proposes candidate patrons from memory's indexes and
/// scores each one. Memory sums the evidence of every strategy it was built with.
///
/// Strategies see memory read-only and cannot change it. The trait is object-safe: memory
/// holds strategies as `Arc<dyn Strategy>`.
///
/// ```
/// use regulars::{Agreement, Candidates, Evidence, EvidenceItem, Field, IndexView,
///     NormalizedSignals, PatronView, Strategy};
///
/// /// Adds a little weight when the birth dates are the same day.
/// #[derive(Debug)]
/// struct SameBirthDate;
///
/// impl Strategy for SameBirthDate {
///     fn name(&self) -> &str { "same-birth-date" }
///     fn candidates(&self, _: &NormalizedSignals, _: &IndexView<'_>, _: &mut Candidates) {
///         // Proposes nobody itself: only scores the others' candidates.
///     }
///     fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
///         if let (Some(a), Some(b)) = (signals.birth_date(), patron.birth_date()) {
///             if a == b {
///                 out.push(EvidenceItem::new(Field::BirthDate, Agreement::Agrees, "same day", 1.0));
///             }
///         }
///     }
/// }
/// let memory = regulars::Memory::builder().strategy(SameBirthDate).build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
pub trait Strategy: Send + Sync + Debug {
    /// A short stable name, used in explanations.
    fn name(&self) -> &str;

    /// Adds the patrons worth scoring for these signals, found through `index` (never by
    /// looking at every patron).
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates);

    /// Compares the signals with one candidate and adds what speaks for or against them
    /// being the same person.
    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence);

    /// Adds the blocking keys these signals file a patron under. Memory calls it whenever
    /// it learns something new about a patron, and indexes the patron under each key;
    /// [`Strategy::candidates`] finds them again with [`IndexView::patrons_under`].
    /// The default files nothing.
    fn blocking_keys(&self, signals: &NormalizedSignals, out: &mut BlockingKeys) {
        let _ = (signals, out);
    }

    /// Scores every candidate of one recognition: adds to `out[i]` what speaks for or
    /// against `patrons[i]`. Memory calls this rather than [`Strategy::score`], so a
    /// strategy can work out its side of the signals once instead of once per candidate.
    /// The default calls [`Strategy::score`] for each; an override must add the same
    /// evidence it would.
    fn score_each(
        &self,
        signals: &NormalizedSignals,
        patrons: &[PatronView<'_>],
        out: &mut [Evidence],
    ) {
        for (patron, evidence) in patrons.iter().zip(out) {
            self.score(signals, patron, evidence);
        }
    }

    /// Memory's built-in person strategy, if this is it: memory then takes the person
    /// strategy's shortcut for identifiers only one patron uses. Not meant to be
    /// overridden (the default, `None`, is right for every other strategy).
    #[doc(hidden)]
    fn as_person_matcher(&self) -> Option<&PersonMatcher> {
        None
    }
}

impl<S: Strategy + ?Sized> Strategy for Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn as_person_matcher(&self) -> Option<&PersonMatcher> {
        (**self).as_person_matcher()
    }
    fn blocking_keys(&self, signals: &NormalizedSignals, out: &mut BlockingKeys) {
        (**self).blocking_keys(signals, out);
    }
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        (**self).candidates(signals, index, out);
    }
    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        (**self).score(signals, patron, out);
    }
    fn score_each(
        &self,
        signals: &NormalizedSignals,
        patrons: &[PatronView<'_>],
        out: &mut [Evidence],
    ) {
        (**self).score_each(signals, patrons, out);
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn as_person_matcher(&self) -> Option<&PersonMatcher> {
        (**self).as_person_matcher()
    }
    fn blocking_keys(&self, signals: &NormalizedSignals, out: &mut BlockingKeys) {
        (**self).blocking_keys(signals, out);
    }
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        (**self).candidates(signals, index, out);
    }
    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        (**self).score(signals, patron, out);
    }
    fn score_each(
        &self,
        signals: &NormalizedSignals,
        patrons: &[PatronView<'_>],
        out: &mut [Evidence],
    ) {
        (**self).score_each(signals, patrons, out);
    }
}

const _: fn(Box<dyn Strategy>) = |_| {};

/// The patrons proposed for scoring, without repeats, in the order first proposed.
///
/// Capped (see [`Candidates::CAP`]) so that a signal shared by thousands of patrons
/// cannot make one recognition expensive.
#[derive(Debug, Default, Clone)]
pub struct Candidates {
    ids: SmallVec<[PatronId; 8]>,
    overflowed: bool,
}

impl Candidates {
    /// The most candidates one recognition scores.
    pub const CAP: usize = 64;

    /// Proposes a patron; returns `false` if the cap was reached and it was dropped.
    pub fn push(&mut self, patron: PatronId) -> bool {
        if self.ids.contains(&patron) {
            return true;
        }
        if self.ids.len() >= Self::CAP {
            self.overflowed = true;
            return false;
        }
        self.ids.push(patron);
        true
    }
    /// The proposed patrons.
    pub fn as_slice(&self) -> &[PatronId] {
        &self.ids
    }
    /// How many were proposed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    /// Whether some were dropped at the cap.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }
}

/// A scored candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    patron: PatronId,
    evidence: Evidence,
}

impl Candidate {
    pub(crate) fn new(patron: PatronId, evidence: Evidence) -> Self {
        Self { patron, evidence }
    }
    /// Its evidence, for scoring in place (the inline list is some 400 bytes).
    pub(crate) fn evidence_mut(&mut self) -> &mut Evidence {
        &mut self.evidence
    }
    /// Moved out, its evidence left empty: for choosing among candidates kept in place.
    fn take(&mut self) -> Self {
        Self::new(self.patron, std::mem::take(&mut self.evidence))
    }
    /// The patron.
    pub fn patron(&self) -> PatronId {
        self.patron
    }
    /// What speaks for and against them.
    pub fn evidence(&self) -> &Evidence {
        &self.evidence
    }
    /// The chance, from 0 to 1, that they are the person described.
    pub fn confidence(&self) -> f64 {
        self.evidence.confidence()
    }
}

/// Who the person described by an event is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Recognition {
    /// A patron memory already knows, sure enough to link automatically.
    #[non_exhaustive]
    Known {
        /// The patron.
        patron: PatronId,
        /// From 0 to 1.
        confidence: f64,
        /// Why.
        evidence: Evidence,
        /// The next best candidate and why it lost: the best scoring of the other
        /// candidates the indexes proposed (ties to the older patron), conflicting ones
        /// included, duplicates not. `None` when there was nobody else, when the event
        /// itself named the patron (a scanned ticket, a decision replayed from the
        /// journal), when the runner-up opted out, or when the record's identifiers
        /// settled it before any other candidate was looked up (`others_at_most` then
        /// says how far behind everyone else is). A record otherwise decided by the
        /// identifier shortcut (see [`PersonMatcher`]) reports the same runner-up as
        /// scoring every candidate would.
        runner_up: Option<Box<Candidate>>,
        /// Other patrons this record proves to be the same person (each reached the merge
        /// threshold with nothing against it, and agrees with the record exactly on
        /// something beyond the names: an identifier, the birth date, the address or the
        /// postcode). Observing the record merges them into `patron` unless they are
        /// pinned apart, their own profiles conflict, or the record fits both only by the
        /// name and the home while one of them has written a generation suffix ("Jr.")
        /// and the other never has (a father and his son of one name). A patron that
        /// only shares the names and near misses (an e-mail one letter off) is a namesake
        /// kept apart, not a duplicate: close enough, it sends the record to review
        /// instead.
        duplicates: Vec<PatronId>,
        /// Patrons who share an identifier or address with the record but are someone
        /// else (a different given name or birth date): the household.
        household: Vec<PatronId>,
        /// The most any other patron could score for this record, in bits, when the
        /// record's identifiers settled it before any other candidate was looked up: the
        /// patron alone uses them, and nobody else, with every other field agreeing at
        /// its best level, could come within the margin. Nor could anyone else be merged
        /// on this record: without a birth date or postcode nobody else can agree with it
        /// exactly beyond the names, which a merge needs; with one, the bound stays under
        /// the merge and review thresholds. The runner-up is then not looked for
        /// (`runner_up` is `None`) and `explain` names this bound instead of why the
        /// runner-up lost; it is at least the score the runner-up would have had. `None`
        /// for every other decision.
        ///
        /// ```
        /// use regulars::{Event, Memory, Order, Recognition, Signals};
        /// let mut memory = Memory::new();
        /// let ana = Signals::new().given_name("Ana").email("ana.lindqvist@example.org");
        /// memory.observe(Event::order("e-1", Order::new("o-1", ana.clone())))?;
        /// let seen = memory.recognize(&ana)?;
        /// let Recognition::Known { evidence, others_at_most: Some(most), .. } = &seen else {
        ///     panic!("settled by the e-mail: {}", seen.explain());
        /// };
        /// assert!(evidence.weight() - most >= regulars::Thresholds::default().margin_needed());
        /// assert!(seen.explain().contains("nobody else could come within"));
        /// # Ok::<(), regulars::Error>(())
        /// ```
        #[serde(default)]
        others_at_most: Option<f64>,
    },
    /// Maybe one of these patrons, but not sure enough to link: a person should look.
    /// Best candidate first. Observing such a record keeps it on a provisional patron and
    /// queues a review item (see [`Memory::reviews`](crate::Memory::reviews)).
    #[non_exhaustive]
    Review {
        /// The candidates, best first.
        candidates: Vec<Candidate>,
        /// As for `Known`.
        household: Vec<PatronId>,
    },
    /// Nobody memory knows.
    #[non_exhaustive]
    New {
        /// The best-scoring candidate that fell short of a review, if any were found:
        /// why it was not linked is in its evidence.
        nearest: Option<Candidate>,
        /// As for `Known`.
        household: Vec<PatronId>,
    },
}

impl Recognition {
    /// The patron, when known.
    pub fn known_patron(&self) -> Option<PatronId> {
        match self {
            Recognition::Known { patron, .. } => Some(*patron),
            _ => None,
        }
    }
    /// `"known"`, `"review"` or `"new"`.
    pub fn decision(&self) -> &'static str {
        match self {
            Recognition::Known { .. } => "known",
            Recognition::Review { .. } => "review",
            Recognition::New { .. } => "new",
        }
    }
    /// The total weight of evidence in bits for the best candidate (the linked patron, the
    /// first under review, or the nearest that fell short); `None` when there was no
    /// candidate at all.
    ///
    /// ```
    /// use regulars::{Memory, Signals};
    /// let memory = Memory::new();
    /// let recognition = memory.recognize(&Signals::new().email("ana@example.org"))?;
    /// assert_eq!(recognition.score(), None);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn score(&self) -> Option<f64> {
        match self {
            Recognition::Known { evidence, .. } => Some(evidence.weight()),
            Recognition::Review { candidates, .. } => {
                candidates.first().map(|c| c.evidence.weight())
            }
            Recognition::New { nearest, .. } => nearest.as_ref().map(|c| c.evidence.weight()),
        }
    }
    /// The patrons who share an identifier or address with the record but are someone else.
    pub fn household(&self) -> &[PatronId] {
        match self {
            Recognition::Known { household, .. }
            | Recognition::Review { household, .. }
            | Recognition::New { household, .. } => household,
        }
    }

    /// The evidence for the linked patron, or for the best candidate that was not linked.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            Recognition::Known { evidence, .. } => Some(evidence),
            Recognition::Review { candidates, .. } => candidates.first().map(Candidate::evidence),
            Recognition::New { nearest, .. } => nearest.as_ref().map(Candidate::evidence),
        }
    }

    /// A plain-text account of the decision for staff: every comparison with its weight,
    /// and why the runner-up lost.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let ana = Signals::new().given_name("Ana").family_name("Lindqvist").email("ana@example.org");
    /// memory.observe(Event::order("e-1", Order::new("o-1", ana.clone())))?;
    /// let text = memory.recognize(&ana)?.explain();
    /// assert!(text.starts_with("known: patron #1"));
    /// assert!(text.contains("email agrees (exact)"));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn explain(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let household = |out: &mut String, household: &[PatronId]| {
            if !household.is_empty() {
                let ids: Vec<String> = household
                    .iter()
                    .map(|p| format!("#{}", p.as_u64()))
                    .collect();
                let _ = writeln!(
                    out,
                    "  household (someone else sharing contact details): {}",
                    ids.join(", ")
                );
            }
        };
        let candidate = |out: &mut String, c: &Candidate| {
            for item in c.evidence.items() {
                let _ = writeln!(out, "    {}", item);
            }
            let _ = writeln!(out, "    total {:+.1} bits", c.evidence.weight());
        };
        match self {
            Recognition::Known {
                patron,
                evidence,
                runner_up,
                duplicates,
                household: h,
                others_at_most,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "known: patron #{} ({:+.1} bits)",
                    patron.as_u64(),
                    evidence.weight()
                );
                candidate(&mut out, &Candidate::new(*patron, evidence.clone()));
                if let Some(r) = runner_up {
                    let _ = writeln!(
                        out,
                        "  runner-up patron #{} lost by {:.1} bits:",
                        r.patron.as_u64(),
                        evidence.weight() - r.evidence.weight()
                    );
                    candidate(&mut out, r);
                }
                if let Some(most) = others_at_most {
                    let _ = writeln!(
                        out,
                        "  no runner-up looked for: nobody else could come within {:.1} bits (any other patron scores at most {:+.1} bits)",
                        evidence.weight() - most,
                        most
                    );
                }
                if !duplicates.is_empty() {
                    let ids: Vec<String> = duplicates
                        .iter()
                        .map(|p| format!("#{}", p.as_u64()))
                        .collect();
                    let _ = writeln!(out, "  proves the same person as: {}", ids.join(", "));
                }
                household(&mut out, h);
            }
            Recognition::Review {
                candidates,
                household: h,
            } => {
                let _ = writeln!(
                    out,
                    "review: {} candidates, none sure enough",
                    candidates.len()
                );
                for c in candidates {
                    let _ = writeln!(out, "  patron #{}:", c.patron.as_u64());
                    candidate(&mut out, c);
                }
                household(&mut out, h);
            }
            Recognition::New {
                nearest,
                household: h,
            } => {
                let _ = writeln!(out, "new: nobody memory knows");
                if let Some(c) = nearest {
                    let _ = writeln!(out, "  nearest patron #{} fell short:", c.patron.as_u64());
                    candidate(&mut out, c);
                }
                household(&mut out, h);
            }
        }
        out
    }

    pub(crate) fn known(patron: PatronId, evidence: Evidence) -> Self {
        Self::known_over(patron, evidence, None)
    }

    /// `patron` known, ahead of `runner_up`, with no duplicates or household.
    #[inline]
    pub(crate) fn known_over(
        patron: PatronId,
        evidence: Evidence,
        runner_up: Option<Candidate>,
    ) -> Self {
        Recognition::Known {
            patron,
            confidence: evidence.confidence(),
            evidence,
            runner_up: runner_up.map(Box::new),
            duplicates: Vec::new(),
            household: Vec::new(),
            others_at_most: None,
        }
    }

    /// `patron` known from identifiers nobody else uses, with nobody else able to score
    /// more than `others_at_most`: no runner-up looked for, no duplicates or household.
    #[inline]
    pub(crate) fn known_alone(patron: PatronId, evidence: Evidence, others_at_most: f64) -> Self {
        Recognition::Known {
            patron,
            confidence: evidence.confidence(),
            evidence,
            runner_up: None,
            duplicates: Vec::new(),
            household: Vec::new(),
            others_at_most: Some(others_at_most),
        }
    }
}

/// Where the total weight of evidence turns into a decision.
///
/// The best candidate is `Known` when its weight reaches `known` and it leads the
/// runner-up by at least `margin`; otherwise candidates reaching `review` make a `Review`;
/// otherwise the person is `New`.
///
/// A candidate that shares only the names and the home with a record whose e-mail or
/// phone it never used (a father and a son of one name look just like that) is never
/// proven the same person as the one the record is linked to, however much it weighs:
/// the two are not merged. Unless the record's own contact is the linked patron's and,
/// beyond the names, the other shares its postcode and differs only in the mailbox: one
/// person writing a second mailbox.
///
/// ```
/// use regulars::Thresholds;
/// let strict = Thresholds::default().known(12.0);
/// assert_eq!(strict.known_at(), 12.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    known: f64,
    review: f64,
    margin: f64,
    merge: f64,
    growth: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            known: 12.0,
            review: 6.0,
            margin: 4.0,
            merge: 16.0,
            growth: 1.0,
        }
    }
}

impl Thresholds {
    /// Sets the weight at which a candidate is linked automatically.
    #[must_use]
    pub fn known(mut self, bits: f64) -> Self {
        self.known = bits;
        self
    }
    /// Sets the weight at which a candidate is worth a review.
    #[must_use]
    pub fn review(mut self, bits: f64) -> Self {
        self.review = bits;
        self
    }
    /// Sets how far the best candidate must lead the runner-up to be linked.
    #[must_use]
    pub fn margin(mut self, bits: f64) -> Self {
        self.margin = bits;
        self
    }
    /// Sets the weight at which a record that matches two patrons proves them one person,
    /// so they are merged.
    #[must_use]
    pub fn merge(mut self, bits: f64) -> Self {
        self.merge = bits;
        self
    }
    /// Sets how many bits every threshold rises each time memory doubles past 1,000
    /// patrons (default 1). The more people memory knows, the likelier a stranger shares a
    /// name and a postcode with one of them, so the same evidence proves less.
    #[must_use]
    pub fn growth(mut self, bits_per_doubling: f64) -> Self {
        self.growth = bits_per_doubling;
        self
    }
    /// The rise per doubling of memory past 1,000 patrons.
    pub fn growth_per_doubling(&self) -> f64 {
        self.growth
    }
    /// How far every threshold is raised for a memory of `patrons` patrons.
    pub fn raise_for(&self, patrons: usize) -> f64 {
        self.growth * ((patrons.max(1000) as f64) / 1000.0).log2()
    }
    /// The weight for an automatic merge.
    pub fn merge_at(&self) -> f64 {
        self.merge
    }
    /// The weight for `Known`.
    pub fn known_at(&self) -> f64 {
        self.known
    }
    /// The weight for `Review`.
    pub fn review_at(&self) -> f64 {
        self.review
    }
    /// The lead needed over the runner-up.
    pub fn margin_needed(&self) -> f64 {
        self.margin
    }

    /// [`decide_among`](Self::decide_among) candidates handed over by value.
    #[cfg(test)]
    pub(crate) fn decide(
        &self,
        scored: impl IntoIterator<Item = Candidate>,
        patrons: usize,
    ) -> Recognition {
        let mut candidates: SmallVec<[Candidate; 16]> = SmallVec::new();
        candidates.extend(scored);
        self.decide_among(&mut candidates, patrons)
    }

    /// Decides from scored candidates (any order). Ties break towards the older patron,
    /// so the outcome never depends on hash order.
    ///
    /// A candidate whose given name or birth date disagrees is someone else, however much
    /// else agrees: it is never linked, and if it shares an identifier or an address it is
    /// reported as household.
    ///
    /// The candidates are decided where they were scored: only those chosen are moved
    /// (their evidence taken), as each keeps some 400 bytes of evidence inline.
    pub(crate) fn decide_among(&self, candidates: &mut [Candidate], patrons: usize) -> Recognition {
        let raise = self.raise_for(patrons);
        let (known_at, review_at, merge_at) =
            (self.known + raise, self.review + raise, self.merge + raise);
        // Each weight is a sum over the evidence and each conflict a search of it: work
        // them out once per candidate.
        let ranked: SmallVec<[Ranked<'_>; 16]> = candidates
            .iter()
            .map(|candidate| Ranked {
                weight: candidate.evidence.weight(),
                conflict: person_conflict(&candidate.evidence),
                candidate,
            })
            .collect();
        // Best first, ties to the older patron: every choice below is "the first in this
        // order that …". Positions are sorted rather than the candidates, whose evidence
        // is kept inline and costly to move.
        let mut order: SmallVec<[usize; 16]> = (0..ranked.len()).collect();
        let key = |at: usize| ranked.get(at).map(|r| (r.weight, r.candidate.patron));
        order.sort_by(|&a, &b| match (key(a), key(b)) {
            (Some((wa, pa)), Some((wb, pb))) => wb.total_cmp(&wa).then(pa.cmp(&pb)),
            _ => std::cmp::Ordering::Equal,
        });
        // From here `at` is a rank (0 is the best).
        let rank = |at: usize| order.get(at).and_then(|&i| ranked.get(i));
        let weight = |at: usize| rank(at).map_or(f64::NEG_INFINITY, |r| r.weight);
        let compatible: SmallVec<[usize; 16]> = (0..order.len())
            .filter(|&at| rank(at).is_some_and(|r| !r.conflict))
            .collect();
        let mut household: Vec<PatronId> = ranked
            .iter()
            .filter(|r| r.conflict && shares_household_field(&r.candidate.evidence))
            .map(|r| r.candidate.patron)
            .collect();
        household.sort();
        let best_weight = compatible
            .first()
            .map_or(f64::NEG_INFINITY, |&at| weight(at));
        if best_weight < review_at {
            // The nearest is the best of everyone, conflicting candidates included.
            drop(ranked);
            let nearest = order
                .first()
                .and_then(|&i| candidates.get_mut(i))
                .map(Candidate::take);
            return Recognition::New { nearest, household };
        }
        let second_weight = compatible
            .get(1)
            .map_or(f64::NEG_INFINITY, |&at| weight(at));
        // Two patrons are proven one person only when the record's own person evidence
        // (a given name or birth date) agrees with both, not just shared identifiers.
        let vouched = |at: usize| rank(at).is_some_and(|r| person_agrees(&r.candidate.evidence));
        // Proof is judged against the raised merge threshold, as each duplicate is: two
        // namesakes that merely clear the unraised one prove nothing.
        // A duplicate agrees exactly with the record on something beyond the names (an
        // identifier, the birth date, the address or the postcode): names with near
        // misses on the rest are what a namesake kept apart looks like (see
        // `agrees_exactly_beyond_names`).
        let exactly = |at: usize| {
            rank(at).is_some_and(|r| agrees_exactly_beyond_names(&r.candidate.evidence))
        };
        // Runners-up the record shares nothing but a name with (none of their other
        // details compare) are what any patron of the name looks like: they do not hold
        // back a best candidate that also agrees exactly beyond the names (the postcode,
        // a phone), as a clerk would pick the one whose details match.
        let only_names_behind = || {
            compatible.first().is_some_and(|&at| exactly(at))
                && compatible
                    .iter()
                    .skip(1)
                    .take_while(|&&at| best_weight - weight(at) < self.margin)
                    .all(|&at| rank(at).is_some_and(|r| only_names_compare(&r.candidate.evidence)))
        };
        let clear_lead = best_weight - second_weight >= self.margin || only_names_behind();
        let proven = best_weight >= merge_at
            && second_weight >= merge_at
            && compatible.first().is_some_and(|&at| vouched(at))
            && compatible.get(1).is_some_and(|&at| exactly(at));
        // A housemate the record only shares a home with (or a nickname at home) is a
        // question for a person, however heavy the names and the home weigh.
        let housemate =
            |at: usize| rank(at).is_some_and(|r| housemate_not_proven(&r.candidate.evidence));
        if best_weight >= known_at
            && (clear_lead || proven)
            && let Some(&best_at) = compatible.first()
            && !housemate(best_at)
        {
            let duplicates: SmallVec<[usize; 4]> = if proven {
                compatible
                    .iter()
                    .skip(1)
                    .copied()
                    .filter(|&at| {
                        weight(at) >= merge_at
                            && vouched(at)
                            && exactly(at)
                            && rank(at).is_some_and(|r| {
                                !only_the_home_agrees(&r.candidate.evidence)
                                    || rank(best_at).is_some_and(|best| {
                                        a_second_mailbox_at_the_postcode(
                                            &best.candidate.evidence,
                                            &r.candidate.evidence,
                                        )
                                    })
                            })
                    })
                    .collect()
            } else {
                SmallVec::new()
            };
            // The runner-up is the best of everyone else, conflicting candidates included:
            // "why not the twin" is the question staff ask.
            let runner_up_at =
                (0..order.len()).find(|at| *at != best_at && !duplicates.contains(at));
            let duplicate_ids: Vec<PatronId> = order
                .iter()
                .enumerate()
                .filter(|(at, _)| duplicates.contains(at))
                .filter_map(|(_, &i)| ranked.get(i).map(|r| r.candidate.patron))
                .collect();
            drop(ranked);
            // Each evidence list is taken straight into the recognition: taken into a
            // candidate first, it was copied twice more on the way.
            let runner_up = runner_up_at
                .and_then(|at| order.get(at))
                .and_then(|&i| candidates.get_mut(i))
                .map(|candidate| Box::new(candidate.take()));
            let Some(best) = order.get(best_at).and_then(|&i| candidates.get_mut(i)) else {
                return Recognition::New {
                    nearest: None,
                    household,
                };
            };
            return Recognition::Known {
                patron: best.patron,
                confidence: best.evidence.confidence(),
                evidence: std::mem::take(&mut best.evidence),
                runner_up,
                duplicates: duplicate_ids,
                household,
                others_at_most: None,
            };
        }
        let reviewed: SmallVec<[usize; 16]> = order
            .iter()
            .copied()
            .filter(|&i| {
                ranked
                    .get(i)
                    .is_some_and(|r| !r.conflict && r.weight >= review_at)
            })
            .collect();
        drop(ranked);
        let mut chosen = Vec::with_capacity(reviewed.len());
        for &i in &reviewed {
            if let Some(candidate) = candidates.get_mut(i) {
                chosen.push(candidate.take());
            }
        }
        Recognition::Review {
            candidates: chosen,
            household,
        }
    }
}

/// Whether the evidence agrees exactly, with positive weight, on something beyond the
/// names: an identifier, the birth date, the address or the postcode.
///
/// An automatic merge a record brings about (a duplicate, or a runner-up proven by its
/// profile) needs it. A namesake whose details are near misses of the record's (an
/// e-mail one edit away) was kept apart when their own records arrived, or they would
/// have been linked then; a record that exactly identifies another patron is weak
/// evidence for merging them now, so such a record goes to review instead when the
/// namesake competes, and is linked without a merge when it does not.
pub(crate) fn agrees_exactly_beyond_names(evidence: &Evidence) -> bool {
    evidence.items().iter().any(|item| {
        item.agreement() == Agreement::Agrees
            && item.weight() > 0.0
            && !matches!(item.field(), Field::GivenName | Field::FamilyName)
    })
}

/// Whether nothing but the names compares: every other field is missing on one side.
pub(crate) fn only_names_compare(evidence: &Evidence) -> bool {
    evidence.items().iter().all(|item| {
        item.agreement() == Agreement::Missing
            || matches!(item.field(), Field::GivenName | Field::FamilyName)
    })
}

/// A scored candidate with its total weight and whether its person evidence conflicts,
/// each worked out once.
struct Ranked<'c> {
    weight: f64,
    conflict: bool,
    candidate: &'c Candidate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_only(patron: u64, bits: f64) -> Candidate {
        let mut evidence = Evidence::new();
        evidence.push(EvidenceItem::new(
            Field::GivenName,
            Agreement::Agrees,
            "exact",
            bits / 2.0,
        ));
        evidence.push(EvidenceItem::new(
            Field::FamilyName,
            Agreement::Agrees,
            "exact",
            bits / 2.0,
        ));
        Candidate::new(PatronId::from_u64(patron), evidence)
    }

    /// Two namesakes tied above the built-in merge threshold, but below it once raised
    /// for a memory of 5,000 patrons: neither is proven, so a person must decide.
    #[test]
    fn namesakes_tied_below_the_raised_merge_threshold_are_reviewed() {
        let thresholds = Thresholds::default();
        let patrons = 5000;
        let bits = thresholds.merge_at() + 0.1;
        assert!(bits < thresholds.merge_at() + thresholds.raise_for(patrons));
        let decided = thresholds.decide(
            vec![
                with_postcode(names_only(1, bits)),
                with_postcode(names_only(2, bits)),
            ],
            patrons,
        );
        assert_eq!(decided.decision(), "review", "{}", decided.explain());
        // Where the threshold is not raised, the same tie proves one person.
        let small = thresholds.decide(
            vec![
                with_postcode(names_only(1, bits)),
                with_postcode(names_only(2, bits)),
            ],
            500,
        );
        assert_eq!(small.decision(), "known", "{}", small.explain());
    }

    /// The names' candidate agreeing exactly on the postcode too (a light weight).
    fn with_postcode(candidate: Candidate) -> Candidate {
        let mut evidence = candidate.evidence().clone();
        evidence.push(EvidenceItem::new(
            Field::Postcode,
            Agreement::Agrees,
            "exact",
            0.5,
        ));
        Candidate::new(candidate.patron(), evidence)
    }

    /// Namesakes tied above the merge threshold on the names alone (and near misses):
    /// a merge needs an exact agreement beyond the names, so a person must decide.
    #[test]
    fn namesakes_tied_on_names_alone_are_reviewed_not_merged() {
        let thresholds = Thresholds::default();
        let bits = thresholds.merge_at() + 2.0;
        let decided = thresholds.decide(vec![names_only(1, bits), names_only(2, bits)], 500);
        assert_eq!(decided.decision(), "review", "{}", decided.explain());
        // One of them ahead by the margin is linked, the other not merged into them.
        let ahead = thresholds.decide(
            vec![
                names_only(1, bits + thresholds.margin_needed()),
                names_only(2, bits),
            ],
            500,
        );
        let Recognition::Known { duplicates, .. } = &ahead else {
            panic!("known: {}", ahead.explain());
        };
        assert!(duplicates.is_empty(), "{}", ahead.explain());
    }

    /// The names' candidate agreeing on the birth date too.
    fn with_birth_date(candidate: Candidate) -> Candidate {
        let mut evidence = candidate.evidence().clone();
        evidence.push(EvidenceItem::new(
            Field::BirthDate,
            Agreement::Agrees,
            "exact",
            3.0,
        ));
        Candidate::new(candidate.patron(), evidence)
    }

    /// The known patron, its duplicate and the runner-up are each reported with their
    /// own evidence, whatever order the candidates were scored in: the evidence is taken
    /// out of the candidates where they were decided, not out of their positions.
    #[test]
    fn the_known_patron_and_runner_up_keep_their_own_evidence() {
        let thresholds = Thresholds::default();
        let bits = thresholds.merge_at() + 2.0;
        let best = with_birth_date(names_only(1, bits));
        let duplicate = with_birth_date(names_only(2, bits));
        let runner_up = names_only(3, bits - 1.0);
        let far_behind = names_only(4, 1.0);
        let decided = thresholds.decide(
            vec![far_behind, runner_up.clone(), duplicate, best.clone()],
            500,
        );
        let Recognition::Known {
            patron,
            evidence,
            runner_up: Some(second),
            duplicates,
            ..
        } = &decided
        else {
            panic!("known ahead of a runner-up: {}", decided.explain());
        };
        assert_eq!(*patron, best.patron(), "{}", decided.explain());
        assert_eq!(evidence, best.evidence());
        assert_eq!(duplicates, &[PatronId::from_u64(2)]);
        assert_eq!(**second, runner_up);
    }
}
