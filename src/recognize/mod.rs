//! Who is this? Strategies propose and score candidates; a decision turns scores into
//! `Known`, `Review` or `New`.

mod evidence;
mod exact;

use std::fmt::Debug;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

pub use evidence::{Agreement, Evidence, EvidenceItem, Field};
pub use exact::{ExactIdentifiers, ExactWeights};

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
}

impl<S: Strategy + ?Sized> Strategy for Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        (**self).candidates(signals, index, out);
    }
    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        (**self).score(signals, patron, out);
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        (**self).candidates(signals, index, out);
    }
    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        (**self).score(signals, patron, out);
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
    },
    /// Maybe one of these patrons, but not sure enough to link: a person should look.
    /// Best candidate first.
    #[non_exhaustive]
    Review {
        /// The candidates, best first.
        candidates: Vec<Candidate>,
    },
    /// Nobody memory knows.
    #[non_exhaustive]
    New {
        /// The best-scoring candidate that fell short of a review, if any were found:
        /// why it was not linked is in its evidence.
        nearest: Option<Candidate>,
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
            Recognition::Review { candidates } => candidates.first().map(|c| c.evidence.weight()),
            Recognition::New { nearest } => nearest.as_ref().map(|c| c.evidence.weight()),
        }
    }
    pub(crate) fn known(patron: PatronId, evidence: Evidence) -> Self {
        Recognition::Known {
            patron,
            confidence: evidence.confidence(),
            evidence,
        }
    }
}

/// Where the total weight of evidence turns into a decision.
///
/// The best candidate is `Known` when its weight reaches `known` and it leads the
/// runner-up by at least `margin`; otherwise candidates reaching `review` make a `Review`;
/// otherwise the person is `New`.
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
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            known: 8.0,
            review: 4.0,
            margin: 4.0,
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

    /// Decides from scored candidates (any order). Ties break towards the older patron,
    /// so the outcome never depends on hash order.
    pub(crate) fn decide(&self, mut scored: Vec<Candidate>) -> Recognition {
        scored.sort_by(|a, b| {
            b.evidence
                .weight()
                .total_cmp(&a.evidence.weight())
                .then(a.patron.cmp(&b.patron))
        });
        if scored
            .first()
            .is_none_or(|best| best.evidence.weight() < self.review)
        {
            return Recognition::New {
                nearest: scored.into_iter().next(),
            };
        }
        scored.retain(|c| c.evidence.weight() >= self.review);
        let Some(best) = scored.first() else {
            return Recognition::New { nearest: None };
        };
        let best_weight = best.evidence.weight();
        let runner_up = scored
            .get(1)
            .map_or(f64::NEG_INFINITY, |c| c.evidence.weight());
        if best_weight >= self.known && best_weight - runner_up >= self.margin {
            let best = scored.swap_remove(0);
            return Recognition::known(best.patron, best.evidence);
        }
        Recognition::Review { candidates: scored }
    }
}
