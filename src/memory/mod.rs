//! `Memory`: patrons, their history, derived figures and indexes, and the one write path.

/// Times as integers in snapshots and journal records.
mod attendance;
pub(crate) mod binary_time;
mod briefing;
mod builder;
pub(crate) mod command;
mod derive;
mod durable;
pub(crate) mod footprint;
pub(crate) mod format_switch;
pub(crate) mod held;
mod identity;
mod index;
mod limits;
mod observation;
mod prepare;
mod slots;
mod snapshot;
pub(crate) mod state;
mod stats;
mod view;
mod write;

use std::fmt;
use std::sync::Arc;

pub use builder::MemoryBuilder;
pub use footprint::{Footprint, FootprintLine};
pub use identity::{IdentityChange, MergeCause, ReviewDecision, ReviewItem};
pub use index::{FiledPatrons, FiledPatronsIter, IndexView};
pub use limits::Limits;
pub use observation::{Observation, Participant};
pub use prepare::{PreparedEvent, Preparer};
pub use stats::{MembershipSpan, PatronStats, ProductionVisits};
pub use view::{History, HistoryIter, PatronView, TicketView};

use crate::clock::Clock;
use crate::error::Result;
use crate::model::catalog::Catalog;
use crate::model::ids::PatronId;
use crate::moments::engine::Engine;
use crate::normalize::Country;
use crate::recognize::{
    Candidate, Candidates, Evidence, PersonMatcher, Prepared, Recognition, Shortcut, Strategy,
    Thresholds,
};
use crate::signals::{NormalizedSignals, Signals};
pub(crate) use state::State;

/// A venue's memory of its patrons.
///
/// Feed it every vendor event with [`observe`](Memory::observe); it answers who the person
/// is and which moments to create now. Read patrons with [`patron`](Memory::patron), ask
/// "who is this?" without changing anything with [`recognize`](Memory::recognize).
///
/// `Memory` is `Send + Sync`: share it behind a lock, readers with `&Memory`, the writer
/// with `&mut Memory`.
///
/// It lives in process unless it is opened from a journal ([`Memory::open`],
/// [`MemoryBuilder::open`], [`MemoryBuilder::journal`]): then every change is journaled
/// before the call returns, and reopening gives the same memory back (see the crate's
/// guide, *Durability*).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{Event, Memory, Order, Performance, Production, Scan, Signals, Ticket, Venue};
///
/// let mut memory = Memory::new();
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet").genre("drama"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap()))?;
///
/// let ana = Signals::new().given_name("Ana").email("ana@example.org");
/// let first = memory.observe(Event::order("e-1", Order::new("o-1", ana).ticket(Ticket::new("t-1", "hamlet-1").seat_label("F12"))))?;
/// assert_eq!(first.recognition().decision(), "new");
///
/// // Same person, different spelling of the same e-mail.
/// let again = memory.recognize(&Signals::new().given_name("ANA").email(" Ana@Example.ORG"))?;
/// assert_eq!(again.known_patron(), Some(first.patron()));
///
/// memory.observe(Event::scan("e-2", Scan::entry("t-1")))?;
/// assert_eq!(memory.patron(first.patron()).unwrap().stats().performances_attended(), 1);
/// # Ok::<(), regulars::Error>(())
/// ```
pub struct Memory {
    pub(crate) default_country: Option<Country>,
    thresholds: Thresholds,
    clock: Arc<dyn Clock>,
    strategies: Vec<Arc<dyn Strategy>>,
    pub(crate) engine: Engine,
    pub(crate) state: State,
    /// The journal every change is written to, if memory is durable.
    durable: Option<durable::Durable>,
    /// How much memory accepts and keeps: configuration, never journaled.
    limits: Limits,
    /// Identifiers are kept as keyed hashes under this key, if set.
    pub(crate) identifier_key: Option<crate::privacy::IdentifierKey>,
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memory")
            .field("patrons", &self.state.patrons.len())
            .field("identifiers", &self.state.identifiers.len())
            .field("tickets", &self.state.tickets.len())
            .field("events", &self.state.events.len())
            .field(
                "strategies",
                &self.strategies.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field(
                "rules",
                &self
                    .engine
                    .rules
                    .iter()
                    .map(|r| r.rule.id())
                    .collect::<Vec<_>>(),
            )
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    /// An empty memory with the default strategy ([`PersonMatcher`](crate::PersonMatcher)), the built-in
    /// rules ([`FirstVisit`](crate::FirstVisit), [`RepeatProduction`](crate::RepeatProduction)),
    /// the system clock and no default country (phone numbers must then be international).
    pub fn new() -> Self {
        MemoryBuilder::new().build_unchecked()
    }

    /// Starts configuring a memory.
    pub fn builder() -> MemoryBuilder {
        MemoryBuilder::new()
    }

    /// Who do these signals describe? Read-only: nothing is recorded and no moment fires.
    ///
    /// Errors when a signal is unusable (an e-mail without `@`, an empty name…).
    pub fn recognize(&self, signals: &Signals) -> Result<Recognition> {
        let today = self.clock.now().date_naive();
        let signals = self.sealed_signals(signals);
        let location = |field: &str| {
            if field.is_empty() {
                "signals".to_owned()
            } else {
                format!("signals.{field}")
            }
        };
        // Read where the result holds them: the normalized signals are ~200 bytes, and
        // `?` would copy them out first. The recognition is wrapped in `Ok` where it is
        // built: wrapped after returning, its half a kilobyte was copied twice more.
        match signals.normalize(
            self.default_country,
            today,
            &self.limits,
            &location,
            self.seals_identifiers(),
        ) {
            Ok(normalized) => self.recognize_normalized_as(&normalized, None, None, Ok),
            Err(error) => Err(error),
        }
    }

    pub(crate) fn recognize_normalized(&self, signals: &NormalizedSignals) -> Recognition {
        self.recognize_normalized_noting(signals, None, None)
    }

    /// [`recognize_normalized`](Self::recognize_normalized), noting in `hints` (when
    /// given) what it worked out about the signals' names, which filing them needs again;
    /// taking what `ahead` worked out from these same signals rather than working it out
    /// again.
    pub(crate) fn recognize_normalized_noting<'s>(
        &self,
        signals: &'s NormalizedSignals,
        ahead: Option<&'s crate::recognize::SignalsAhead>,
        hints: Option<&mut crate::recognize::NameHints<'s>>,
    ) -> Recognition {
        self.recognize_normalized_as(signals, ahead, hints, |recognition| recognition)
    }

    /// [`recognize_normalized_noting`](Self::recognize_normalized_noting), handing the
    /// recognition to `wrap` where it is built, so that a caller returning it wrapped
    /// (in a `Result`) gets it written once, straight into its own return value.
    #[inline]
    fn recognize_normalized_as<'s, R>(
        &self,
        signals: &'s NormalizedSignals,
        ahead: Option<&'s crate::recognize::SignalsAhead>,
        hints: Option<&mut crate::recognize::NameHints<'s>>,
        wrap: impl FnOnce(Recognition) -> R,
    ) -> R {
        let index = IndexView { state: &self.state };
        // A record whose identifiers only one patron uses may be decided from bounds on
        // everyone else (see `PersonMatcher::shortcut`), in stages:
        // 1. the identifiers, the counts that weigh the holder's names, the holder scored:
        //    when nobody else could compete, the holder is known without looking up any
        //    blocking key, proposing or scoring anyone else;
        // 2. otherwise the candidates, from the lookups already made, and only those that
        //    could be the runner-up scored.
        // The person strategy alone works out the signals' side once, for the shortcut,
        // candidate generation and scoring.
        // (Built in locals, not in `Option`s: the prepared signals and the shortcut are
        // kilobytes, copied whenever wrapped.)
        let person = match self.strategies.as_slice() {
            [only] => only.as_person_matcher(),
            _ => None,
        };
        let Some(person) = person else {
            return self.recognize_by_scoring(signals, None, wrap);
        };
        let mut prepared = person.prepare(signals, ahead, index);
        person.look_up(&mut prepared, &self.thresholds, self.patron_count());
        let mut shortcut = person.shortcut(&prepared, &self.thresholds, self.patron_count());
        shortcut.score_holder();
        // Noted once recognition is done with the prepared signals, however it ends: as
        // a guard, so that the recognition is returned in place rather than copied out.
        let _noted = hints.map(|hints| NoteNameHints {
            prepared: &prepared,
            signals,
            hints,
        });
        // Not screened: a record settled alone names no runner-up, duplicate or household,
        // so there is nobody to keep out (and screening it cost a copy of the whole
        // recognition).
        if let Some((holder, most)) = shortcut.settle() {
            return wrap(shortcut.into_known_alone(holder, most));
        }
        self.recognize_by_scoring(signals, Some((person, &prepared, &mut shortcut)), wrap)
    }

    /// [`recognize_normalized`](Self::recognize_normalized) past the shortcut's first
    /// stage: the candidates proposed, decided by the shortcut's second stage if it can,
    /// else scored. `person` is the person strategy when it is the only one, with the
    /// signals prepared and its shortcut. The recognition is handed to `wrap` as
    /// [`recognize_normalized_as`](Self::recognize_normalized_as) does.
    fn recognize_by_scoring<R>(
        &self,
        signals: &NormalizedSignals,
        person: Option<(&PersonMatcher, &Prepared<'_>, &mut Shortcut<'_, '_>)>,
        wrap: impl FnOnce(Recognition) -> R,
    ) -> R {
        let index = IndexView { state: &self.state };
        let (person, prepared, shortcut) = match person {
            Some((person, prepared, shortcut)) => (Some(person), Some(prepared), Some(shortcut)),
            None => (None, None, None),
        };
        let mut candidates = Candidates::default();
        match prepared {
            // The same candidates, without looking the identifiers up again.
            Some(prepared) => prepared.candidates(&mut candidates),
            None => {
                for strategy in &self.strategies {
                    strategy.candidates(signals, &index, &mut candidates);
                }
            }
        }
        // Read every candidate's slot before resolving any: these reads do not depend on
        // each other, so their cache misses overlap instead of each waiting for the last.
        // Resolving and scoring read the slots and the compact blocks, never the records.
        let merged = candidates
            .as_slice()
            .iter()
            .filter_map(|&id| self.state.slots.get(id))
            .filter(|slot| slot.merged_into.is_some())
            .count();
        std::hint::black_box(merged);
        // Index entries of merged patrons stand for their survivor (once each).
        let mut views: smallvec::SmallVec<[PatronView<'_>; 16]> = smallvec::SmallVec::new();
        for &id in candidates.as_slice() {
            if let Some(view) = self.patron(id)
                && !views.iter().any(|seen| seen.id() == view.id())
            {
                views.push(view);
            }
        }
        // Each evidence list keeps the person strategy's comparisons inline: the
        // candidates are scored where they are decided, never moved (the inline room is
        // kilobytes).
        let mut scored: smallvec::SmallVec<[Candidate; 16]> = smallvec::SmallVec::new();
        if let Some(shortcut) = shortcut
            && let Some(mut known) = shortcut.decide(&views, &mut scored)
        {
            crate::privacy::screen(&self.state, &mut known);
            return wrap(known);
        }
        // The candidates the shortcut compared are not compared again.
        views.retain(|view| !scored.iter().any(|c| c.patron() == view.id()));
        let compared = scored.len();
        scored.extend(
            views
                .iter()
                .map(|view| Candidate::new(view.id(), Evidence::new())),
        );
        let to_score = scored.get_mut(compared..).unwrap_or_default();
        match person.zip(prepared) {
            Some((person, prepared)) => person.score_prepared(
                prepared,
                &views,
                to_score.iter_mut().map(Candidate::evidence_mut),
            ),
            None => {
                let mut evidence: smallvec::SmallVec<[Evidence; 16]> = smallvec::SmallVec::new();
                evidence.extend(views.iter().map(|_| Evidence::new()));
                for strategy in &self.strategies {
                    strategy.score_each(signals, &views, &mut evidence);
                }
                for (candidate, evidence) in to_score.iter_mut().zip(evidence.drain(..)) {
                    *candidate.evidence_mut() = evidence;
                }
            }
        }
        let decided = self
            .thresholds
            .decide_among(&mut scored, self.patron_count());
        let mut decided = self.junior_told_apart(signals, decided);
        crate::privacy::screen(&self.state, &mut decided);
        wrap(decided)
    }

    /// Memory's indexes and records, read-only (for training).
    pub(crate) fn index_view(&self) -> IndexView<'_> {
        IndexView { state: &self.state }
    }

    /// The patron with this id. A merged id gives the patron it was merged into, whose
    /// [`id`](PatronView::id) is the survivor's. An [erased](Self::erase) id gives `None`,
    /// as an unknown one does ([`Memory::is_erased`] tells them apart).
    pub fn patron(&self, id: PatronId) -> Option<PatronView<'_>> {
        PatronView::live(&self.state, id)
    }

    /// Every patron, oldest first.
    pub fn patrons(&self) -> impl Iterator<Item = PatronView<'_>> {
        self.state
            .patrons
            .iter()
            .enumerate()
            .map(|(at, record)| (state::id_at(at), record))
            .filter(|&(id, record)| record.merged_into.is_none() && !self.state.is_erased(id))
            .map(|(id, record)| PatronView::of(record, &self.state, id))
    }

    /// What memory holds on the heap, structure by structure (a diagnostic for sizing:
    /// it walks every patron, so call it between batches, not per event).
    ///
    /// ```
    /// let memory = regulars::Memory::new();
    /// let footprint = memory.footprint();
    /// assert_eq!(footprint.patrons(), 0);
    /// ```
    #[doc(hidden)]
    pub fn footprint(&self) -> Footprint {
        self.state.footprint(self.patron_count())
    }

    /// How many patrons memory knows (merged ones count once, as their survivor; erased
    /// ones not at all).
    pub fn patron_count(&self) -> usize {
        self.state.patrons.len()
            - self.state.identity.merges.len()
            - self.state.privacy.erased.len()
    }

    /// How many distinct events memory has observed.
    pub fn event_count(&self) -> usize {
        self.state.events.len()
    }

    /// The catalog: venues, productions, performances.
    pub fn catalog(&self) -> &Catalog {
        &self.state.catalog
    }

    /// A ticket memory has seen.
    pub fn ticket(&self, id: &str) -> Option<TicketView<'_>> {
        TicketView::find(&self.state, id)
    }

    /// The tickets issued for a performance, in issue order (refunded ones included);
    /// `None` for an unknown performance.
    pub fn tickets_for(&self, performance: &str) -> Option<impl Iterator<Item = TicketView<'_>>> {
        let idx = self.state.catalog.performance_idx(performance)?;
        let entry = self.state.catalog.performance_entry(idx)?;
        Some(
            entry
                .tickets
                .iter()
                .filter_map(|&ticket| TicketView::at(&self.state, ticket)),
        )
    }

    /// The limits memory was built with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The clock memory reads when an event carries no time.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }
}

// Memory is shared across threads by embedding products; keep it that way.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Memory>();
};

/// Notes what recognizing `signals` worked out about their names in `hints` when
/// dropped (see [`Memory::recognize_normalized_noting`]).
struct NoteNameHints<'p, 'q, 's, 'h> {
    prepared: &'p Prepared<'q>,
    signals: &'s NormalizedSignals,
    hints: &'h mut crate::recognize::NameHints<'s>,
}

impl Drop for NoteNameHints<'_, '_, '_, '_> {
    fn drop(&mut self) {
        self.prepared.note_name_hints(self.signals, self.hints);
    }
}
