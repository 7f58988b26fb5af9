//! Configuring a `Memory`.

use std::fmt;
use std::sync::Arc;

use super::Memory;
use super::limits::Limits;
use super::state::State;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::moments::engine::{DEFAULT_PER_VISIT, Engine, Registered};
use crate::moments::ledger::RuleIdx;
use crate::moments::{MomentRule, Policy, Suppressor};
use crate::normalize::Country;
use crate::recognize::{PersonMatcher, Strategy, Thresholds};
use crate::signals::Signals;

/// Configures a [`Memory`]; start with [`Memory::builder`].
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{ManualClock, Memory, Thresholds, normalize::Country};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap());
/// let memory = Memory::builder()
///     .default_country(Country::GB)
///     .clock(clock)
///     .thresholds(Thresholds::default().known(10.0))
///     .build()?;
/// # Ok::<(), regulars::Error>(())
/// ```
#[must_use]
pub struct MemoryBuilder {
    default_country: Option<Country>,
    thresholds: Thresholds,
    clock: Arc<dyn Clock>,
    default_strategies: bool,
    strategies: Vec<Arc<dyn Strategy>>,
    default_rules: bool,
    rules: Vec<Registered>,
    policies: Vec<(String, Policy)>,
    suppressors: Vec<Arc<dyn Suppressor>>,
    per_visit: usize,
    ignored: Vec<Signals>,
    shared_limit: usize,
    limits: Limits,
    keep_anonymous_aggregates: bool,
    identifier_key: Option<crate::privacy::IdentifierKey>,
    /// The journal and its options (methods in `durable.rs`).
    pub(super) durable: super::durable::DurableOptions,
}

impl fmt::Debug for MemoryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBuilder")
            .field("default_country", &self.default_country)
            .field("thresholds", &self.thresholds)
            .field("default_strategies", &self.default_strategies)
            .field("strategies", &self.strategies)
            .field("default_rules", &self.default_rules)
            .field("rules", &self.rules)
            .field("policies", &self.policies)
            .field("suppressors", &self.suppressors)
            .field("per_visit", &self.per_visit)
            .field("ignored", &self.ignored)
            .field("shared_limit", &self.shared_limit)
            .field("limits", &self.limits)
            .field("keep_anonymous_aggregates", &self.keep_anonymous_aggregates)
            .field("identifier_key", &self.identifier_key)
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

impl MemoryBuilder {
    pub(crate) fn new() -> Self {
        Self {
            default_country: None,
            thresholds: Thresholds::default(),
            clock: Arc::new(SystemClock),
            default_strategies: true,
            strategies: Vec::new(),
            default_rules: true,
            rules: Vec::new(),
            policies: Vec::new(),
            suppressors: Vec::new(),
            per_visit: DEFAULT_PER_VISIT,
            ignored: Vec::new(),
            shared_limit: super::index::Neutralized::DEFAULT_SHARED_LIMIT,
            limits: Limits::default(),
            keep_anonymous_aggregates: false,
            identifier_key: None,
            durable: Default::default(),
        }
    }

    /// The country of phone numbers and postcodes written without one (`020 7946 0018`).
    pub fn default_country(mut self, country: Country) -> Self {
        self.default_country = Some(country);
        self
    }

    /// Where evidence turns into `Known`, `Review` or `New`.
    pub fn thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// The clock read when an event carries no time.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a recognition strategy (after the default ones, unless removed).
    pub fn strategy(mut self, strategy: impl Strategy + 'static) -> Self {
        self.strategies.push(Arc::new(strategy));
        self
    }

    /// Drops the default strategy ([`PersonMatcher`] with the built-in weights).
    pub fn without_default_strategies(mut self) -> Self {
        self.default_strategies = false;
        self
    }

    /// Adds a moment rule (after the built-in ones, unless removed), with the policy it
    /// declares.
    pub fn rule(mut self, rule: impl MomentRule + 'static) -> Self {
        let policy = rule.policy();
        self.rules.push(Registered {
            rule: Arc::new(rule),
            policy,
        });
        self
    }

    /// Adds a moment rule with a policy of the embedding product's instead of its own.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use regulars::{FirstVisit, Memory, Policy};
    /// let memory = Memory::builder()
    ///     .without_default_rules()
    ///     .rule_with_policy(FirstVisit::new(), Policy::new().cooldown(TimeDelta::days(30)))
    ///     .build()?;
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn rule_with_policy(mut self, rule: impl MomentRule + 'static, policy: Policy) -> Self {
        self.rules.push(Registered {
            rule: Arc::new(rule),
            policy,
        });
        self
    }

    /// Replaces the policy of a rule registered by id, built-in ones included. Building
    /// fails if no rule has that id.
    pub fn policy_for(mut self, rule: impl Into<String>, policy: Policy) -> Self {
        self.policies.push((rule.into(), policy));
        self
    }

    /// Adds a suppressor, run before the rules for each patron.
    pub fn suppressor(mut self, suppressor: impl Suppressor + 'static) -> Self {
        self.suppressors.push(Arc::new(suppressor));
        self
    }

    /// At most this many moments for one patron at one performance (default 3); the
    /// highest priorities win. `0` leaves only moments without a performance.
    pub fn moments_per_visit(mut self, moments: usize) -> Self {
        self.per_visit = moments;
        self
    }

    /// Adds the built-in rules that are off by default, with their default settings:
    /// [`Regular`](crate::Regular), [`FirstVisitAnniversary`](crate::FirstVisitAnniversary),
    /// [`NewGenre`](crate::NewGenre), [`BroughtANewcomer`](crate::BroughtANewcomer),
    /// [`Birthday`](crate::Birthday), [`DonorRecognition`](crate::DonorRecognition) (tier
    /// £100), [`GoingQuiet`](crate::GoingQuiet) and
    /// [`MembershipExpiring`](crate::MembershipExpiring). To configure one, add it with
    /// [`rule`](MemoryBuilder::rule) instead.
    ///
    /// ```
    /// use regulars::Memory;
    /// let memory = Memory::builder().all_builtin_rules().build()?;
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn all_builtin_rules(mut self) -> Self {
        for rule in crate::moments::builtin::optional_rules() {
            self.rules.push(Registered {
                policy: rule.policy(),
                rule,
            });
        }
        self
    }

    /// Drops the built-in rules and suppressors, so only the ones added here run.
    pub fn without_default_rules(mut self) -> Self {
        self.default_rules = false;
        self
    }

    /// Identifiers that never count as evidence, such as the placeholder e-mail the box
    /// office types for walk-up sales or the venue's own phone number. Every identifier in
    /// `signals` (e-mails, phones, card tokens, external ids) is normalized at
    /// [`build`](Self::build), which fails if one is invalid.
    ///
    /// ```
    /// use regulars::{Memory, Signals};
    /// let memory = Memory::builder()
    ///     .ignore_identifiers(Signals::new().email("boxoffice@venue.example").phone("+44 20 7946 0000"))
    ///     .build()?;
    /// # let _ = memory;
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn ignore_identifiers(mut self, signals: Signals) -> Self {
        self.ignored.push(signals);
        self
    }

    /// Past how many patrons an identifier stops counting as evidence (default 6): a
    /// household shares an e-mail, a placeholder is shared by dozens.
    pub fn shared_identifier_limit(mut self, patrons: usize) -> Self {
        self.shared_limit = patrons;
        self
    }

    /// How many review items are kept (default 10,000); when full, the oldest is dropped
    /// and its provisional patron simply stays a patron of its own. Zero keeps none.
    ///
    /// A shortcut for [`Limits::review_queue`] on the builder's current
    /// [`limits`](Self::limits).
    pub fn review_limit(mut self, items: usize) -> Self {
        self.limits = self.limits.review_queue(items);
        self
    }

    /// How much memory accepts in one event and keeps per patron (see [`Limits`]).
    /// Replaces every limit set before, the [`review_limit`](Self::review_limit)
    /// included. Building fails with [`Error::InvalidConfig`] for limits that cannot work
    /// (a zero where at least one is needed).
    ///
    /// Limits are configuration: reopen a data directory with the limits that wrote it.
    ///
    /// ```
    /// use regulars::{Error, Limits, Memory};
    /// let memory = Memory::builder()
    ///     .limits(Limits::default().tickets_per_order(100).history_per_patron(5_000))
    ///     .build()?;
    /// assert_eq!(memory.limits().max_tickets_per_order(), 100);
    ///
    /// let zero = Memory::builder().limits(Limits::default().identifiers_per_patron(0)).build();
    /// assert!(matches!(zero, Err(Error::InvalidConfig(_))));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether [`Memory::erase`] keeps the erased patron's figures ([`PatronStats`](crate::PatronStats):
    /// counts, spend, attendance dates) on the anonymous tombstone left behind, readable
    /// with [`Memory::erased_stats`]. Off by default: erasure then keeps nothing but the
    /// id. Names, identifiers, addresses, notes and history go either way.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::builder().keep_anonymous_aggregates(true).build()?;
    /// let ana = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?.patron();
    /// memory.erase(ana)?;
    /// assert!(memory.patron(ana).is_none());
    /// assert_eq!(memory.erased_stats(ana).map(|s| s.orders()), Some(1));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn keep_anonymous_aggregates(mut self, keep: bool) -> Self {
        self.keep_anonymous_aggregates = keep;
        self
    }

    /// Keeps identifiers (e-mails, phones, card tokens, external ids) only as keyed
    /// hashes: in memory, in its indexes, snapshots and journal. The embedding product
    /// supplies the 32-byte key and keeps it secret; memory never stores it.
    ///
    /// Every identifier is normalized, then replaced by the first 128 bits of its
    /// BLAKE3 keyed hash (with its kind and system), written `k:` and 32 hex digits; the
    /// events memory journals carry these sealed values instead of the raw ones. Exact
    /// matching works as before: the same e-mail, however written, gives the same hash.
    /// What does not: graded comparisons of e-mails and phones (same local part at
    /// another domain, one typo, one digit off) see only whether two hashes are equal,
    /// and [`PatronView::identifiers`](crate::PatronView::identifiers) and
    /// [`Memory::export`] show the sealed values. Names, addresses and birth dates are
    /// not hashed: fuzzy name matching needs them.
    ///
    /// Open a memory with the key it was written with: with another key, memory opens
    /// (the journal holds sealed values) but no new event matches anyone by identifier;
    /// without a key, opening fails with [`Error::JournalReplay`]. Set the key when the
    /// memory is created: a memory written without one keeps its raw identifiers in its
    /// snapshot until it is rebuilt.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let key = [7u8; 32]; // from the product's secret store
    /// let mut memory = Memory::builder().identifier_key(key).build()?;
    /// let ana = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?.patron();
    /// let again = memory.recognize(&Signals::new().email(" Ana@Example.ORG"))?;
    /// assert_eq!(again.known_patron(), Some(ana));
    /// let stored = memory.patron(ana).unwrap().identifiers()[0].value().to_owned();
    /// assert!(stored.starts_with("k:") && !stored.contains("ana"));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn identifier_key(mut self, key: [u8; 32]) -> Self {
        self.identifier_key = Some(crate::privacy::IdentifierKey::new(&key));
        self
    }

    /// Builds the memory.
    ///
    /// Errors when there is no strategy, two rules share an id, an ignored identifier is
    /// invalid, the thresholds are not finite or not ordered `review <= known <= merge`, or
    /// a [limit](Self::limits) cannot work.
    pub fn build(mut self) -> Result<Memory> {
        self.limits.validate()?;
        let ignored = std::mem::take(&mut self.ignored);
        let policies = std::mem::take(&mut self.policies);
        let durable = std::mem::take(&mut self.durable);
        let mut memory = self.build_unchecked();
        let today = memory.clock.now().date_naive();
        for (i, signals) in ignored.iter().enumerate() {
            let signals = memory.sealed_signals(signals);
            let normalized = signals.normalize(
                memory.default_country,
                today,
                &memory.limits,
                &|field| format!("ignore_identifiers[{i}].{field}"),
                memory.seals_identifiers(),
            )?;
            for identifier in normalized.identifiers() {
                memory
                    .state
                    .neutralized
                    .blocklist
                    .insert(identifier.clone());
            }
        }
        if memory.strategies.is_empty() {
            return Err(Error::InvalidConfig("no recognition strategy".into()));
        }
        let t = memory.thresholds;
        let finite = [t.known_at(), t.review_at(), t.margin_needed()]
            .iter()
            .all(|x| x.is_finite());
        if !finite
            || !t.merge_at().is_finite()
            || t.review_at() > t.known_at()
            || t.known_at() > t.merge_at()
            || t.margin_needed() < 0.0
        {
            return Err(Error::InvalidConfig(
                "thresholds must be finite, with review <= known <= merge and margin >= 0".into(),
            ));
        }
        let rules = &mut memory.engine.rules;
        for (i, registered) in rules.iter().enumerate() {
            let id = registered.rule.id();
            if rules[..i].iter().any(|r| r.rule.id() == id) {
                return Err(Error::InvalidConfig(format!(
                    "two rules have the id {}",
                    crate::error::shown(id)
                )));
            }
        }
        if rules.len() > usize::from(RuleIdx::MAX) {
            return Err(Error::InvalidConfig(format!(
                "at most {} rules",
                RuleIdx::MAX
            )));
        }
        for (id, policy) in policies {
            let registered = rules
                .iter_mut()
                .find(|r| r.rule.id() == id)
                .ok_or_else(|| {
                    Error::InvalidConfig(format!(
                        "policy_for: no rule has the id {}",
                        crate::error::shown(&id)
                    ))
                })?;
            registered.policy = policy;
        }
        durable.open(memory)
    }

    /// Builds, then loads what a [`Memory::snapshot`] saved. The configuration (rules,
    /// strategies, thresholds, clock) is this builder's; the snapshot brings only what
    /// memory learned. Errors for a damaged image or one of another format version, and
    /// for a builder with a [`journal`](Self::journal), which has its own snapshots.
    pub fn build_from_snapshot(self, image: &[u8]) -> Result<Memory> {
        if self.durable.has_journal() {
            return Err(Error::InvalidConfig(
                "build_from_snapshot: a journaled memory loads its journal's snapshot".into(),
            ));
        }
        let mut memory = self.build()?;
        memory.restore(image)?;
        Ok(memory)
    }

    pub(crate) fn build_unchecked(self) -> Memory {
        let mut strategies: Vec<Arc<dyn Strategy>> = Vec::new();
        if self.default_strategies {
            strategies.push(Arc::new(PersonMatcher::new()));
        }
        strategies.extend(self.strategies);
        let mut rules = Vec::new();
        if self.default_rules {
            rules = crate::moments::builtin::standard_rules()
                .into_iter()
                .map(|rule| Registered {
                    policy: rule.policy(),
                    rule,
                })
                .collect();
        }
        rules.extend(self.rules);
        let mut suppressors = Vec::new();
        if self.default_rules {
            suppressors = crate::moments::builtin::standard_suppressors();
        }
        suppressors.extend(self.suppressors);
        let mut state = State::default();
        state.neutralized.shared_limit = self.shared_limit;
        state.identity.review_limit = self.limits.max_review_queue();
        state.identity.longest_history = Some(0);
        state.privacy.keep_aggregates = self.keep_anonymous_aggregates;
        Memory {
            default_country: self.default_country,
            thresholds: self.thresholds,
            clock: self.clock,
            strategies,
            engine: Engine::new(rules, suppressors, self.per_visit),
            state,
            durable: None,
            limits: self.limits,
            identifier_key: self.identifier_key,
        }
    }
}
