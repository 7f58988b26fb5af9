//! The engine: asks the rules, then applies each rule's policy, the suppressors, consent,
//! exclusive groups and the per-visit cap, so rules only say what would be fitting.

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use smallvec::SmallVec;

use super::ledger::{MomentLedger, OnceKey, RuleIdx, Standing};
use super::moment::{Text, channel_of, dedupe_key_of, default_purpose};
use super::{
    Action, Moment, MomentKind, MomentRule, OncePer, Policy, RuleContext, SilencedMoment,
    Suppressor, Trigger, TriggerKinds,
};
use crate::memory::PatronView;
use crate::memory::state::TicketRecord;
use crate::model::ids::{PatronId, PerformanceId, TextTable};
use crate::model::profile::{Channel, Purpose};

/// Rules whose due times fit on the stack: every built-in one, so refiling after each
/// event allocates nothing.
const DUE_INLINE: usize = 32;

/// One list of rules for every bit a [`TriggerKinds`] can have, used or not: a kind of
/// trigger added later still finds its rules.
const TRIGGER_KINDS: usize = u16::BITS as usize;

/// When each rule that may have due times is next due for one patron (see
/// [`Engine::due_times`]).
pub(crate) type DueTimes = SmallVec<[(RuleIdx, Option<DateTime<Utc>>); DUE_INLINE]>;

/// Most moments one patron gets at one performance unless configured.
pub(crate) const DEFAULT_PER_VISIT: usize = 3;

/// A rule with the policy in force for it (its own, or the embedding product's override).
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) rule: Arc<dyn MomentRule>,
    pub(crate) policy: Policy,
}

impl fmt::Debug for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("rule", &self.rule.id())
            .field("policy", &self.policy)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Engine {
    pub(crate) rules: Vec<Registered>,
    pub(crate) suppressors: Vec<Arc<dyn Suppressor>>,
    pub(crate) per_visit: usize,
    /// The rules that may have due times ([`MomentRule::has_due_times`], asked once
    /// here): the only ones asked [`MomentRule::next_due`] after each event.
    timed: Vec<RuleIdx>,
    /// For each kind of trigger (by its bit in [`TriggerKinds`]), the rules that look at
    /// it ([`MomentRule::triggers`], asked once here), in registration order: an event
    /// visits only the rules that can react to it, not every rule to ask whether it would.
    asked_on: [Vec<RuleIdx>; TRIGGER_KINDS],
    /// The triggers any rule looks at: about the others (orders and purchases, for the
    /// built-in rules) nobody is asked, and memory skips asking at once.
    heard: TriggerKinds,
    /// Each rule's once-per key with its id hashed already, by registration order: its
    /// keys go on from there (see [`OnceKey::with_scope`]).
    once_keys: Vec<OnceKey>,
    /// Each rule's id as its moments carry it, by registration order: stamping a moment
    /// shares this copy instead of looking the id up.
    rule_texts: Vec<Text>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(Vec::new(), Vec::new(), DEFAULT_PER_VISIT)
    }
}

/// What the suppressors active for one patron say: (suppressor's position, suppression).
type Suppressions = SmallVec<[(usize, super::Suppression); 1]>;

/// The suppressors' answers for the patron being asked about, worked out when first
/// needed: most events make no rule propose anything, and then no suppressor is asked.
pub(crate) struct LazySuppressions<'a> {
    suppressors: &'a [Arc<dyn Suppressor>],
    answers: OnceCell<Suppressions>,
}

impl LazySuppressions<'_> {
    fn get(&self, ctx: &RuleContext<'_>) -> &Suppressions {
        self.answers.get_or_init(|| {
            self.suppressors
                .iter()
                .enumerate()
                .filter_map(|(i, s)| Some((i, s.suppress(ctx)?)))
                .collect()
        })
    }

    /// The id of the suppressor at this position.
    fn id(&self, i: usize) -> &str {
        self.suppressors.get(i).map_or("", |s| s.id())
    }
}

/// What the engine will do with the moments of the rule it is asking: enough to tell a
/// moment it would drop unseen before the rule builds it.
#[derive(Clone, Copy)]
pub(crate) struct Admission<'a> {
    /// What is the same for every rule asked about the event: only the rest is written
    /// for each rule.
    asking: &'a Asking<'a>,
    policy: &'a Policy,
    once_key: &'a OnceKey,
    rule: RuleIdx,
}

/// What the engine asks every rule about one event with: references only, so it needs
/// no dropping, and the cluster it borrows moves to the proposal as soon as the rules
/// are asked.
struct Asking<'a> {
    ledger: &'a MomentLedger,
    cluster: &'a [PatronId],
    suppressions: &'a LazySuppressions<'a>,
    /// The key [`drops_unseen`](Admission::drops_unseen) worked out last, and for
    /// which rule.
    asked: &'a Cell<Option<AskedKey>>,
}

/// A once-per key asked about for a moment at this performance (or none) without a
/// dedupe key of its own: the moment the rule then proposes usually has the same
/// fields, and its key is not hashed twice.
struct AskedKey {
    /// The rule that asked: a key left by an earlier rule is not this one's (tagged
    /// rather than cleared before each rule, as most rules never ask).
    rule: RuleIdx,
    performance: Option<PerformanceId>,
    key: u64,
    /// Whether the patron or anyone merged into them held the key when asked: the
    /// ledger does not change while the rules are asked.
    fired: bool,
}

impl AskedKey {
    /// The key and whether it was held, if `moment` has the fields it was worked out
    /// from (the rule's scope and the time are the same for every moment of one asking).
    fn key_for(&self, rule: RuleIdx, moment: &Moment) -> Option<(u64, bool)> {
        (self.rule == rule
            && moment.dedupe_key.is_none()
            && moment.performance() == self.performance.as_ref())
        .then_some((self.key, self.fired))
    }
}

impl fmt::Debug for Admission<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admission")
            .field("rule", &self.rule)
            .finish_non_exhaustive()
    }
}

impl Admission<'_> {
    /// See [`RuleContext::drops_unseen`]: the same checks as [`Engine::propose`], in the
    /// same order, on the fields they read.
    pub(crate) fn drops_unseen(
        &self,
        ctx: &RuleContext<'_>,
        kind: MomentKind,
        action: Action,
        performance: Option<&PerformanceId>,
        dedupe_key: Option<&str>,
    ) -> bool {
        // The ledger first: a moment not fired yet is not dropped, whatever the
        // suppressors would say, and asking them costs more.
        let own_key = dedupe_key.is_some();
        let dedupe_key = dedupe_key_of(dedupe_key, performance);
        let key = key_of(
            self.once_key,
            self.policy.scope(),
            performance,
            dedupe_key,
            ctx,
            ctx.now(),
        );
        let asking = self.asking;
        let fired = asking
            .cluster
            .iter()
            .any(|&member| asking.ledger.has_fired(member, key));
        if !own_key {
            asking.asked.set(Some(AskedKey {
                rule: self.rule,
                performance: performance.cloned(),
                key,
                fired,
            }));
        }
        fired
            && consent_allows(
                ctx.patron(),
                channel_of(None, action),
                default_purpose(kind),
            )
            && asking.suppressions.get(ctx).is_empty()
    }
}

/// A moment a rule proposed that passed the read-only checks, waiting for admission.
#[derive(Debug)]
pub(crate) struct Candidate {
    moment: Moment,
    /// Its once-per key.
    key: u64,
    /// The rule that proposed it, whose policy names its exclusive group.
    rule: RuleIdx,
}

/// What the rules proposed for one patron and one trigger.
#[derive(Debug, Default)]
pub(crate) struct Proposal {
    patron: Option<PatronId>,
    now: Option<DateTime<Utc>>,
    /// Most proposals hold one moment or none: one is kept without allocating.
    candidates: SmallVec<[Candidate; 1]>,
    silenced: Vec<SilencedMoment>,
    /// The patron and everyone merged into them, as the proposal was made: admitting it
    /// right after checks the candidates against what they fired without working them
    /// out again.
    cluster: SmallVec<[PatronId; 2]>,
}

impl Proposal {
    /// Whom and when the rules were asked about (nothing for an unknown patron).
    pub(crate) fn subject(&self) -> Option<(PatronId, DateTime<Utc>)> {
        Some((self.patron?, self.now?))
    }

    /// Whether admitting it would fire and silence nothing: no rule proposed anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.candidates.is_empty() && self.silenced.is_empty()
    }

    /// Makes this proposal, filled by nothing yet, what asking rules that propose nothing
    /// gives for `patron` at `now`: admitting it fires nothing (a journal replay that
    /// knows no rule proposed skips asking them).
    pub(crate) fn nothing_for(&mut self, patron: PatronId, now: DateTime<Utc>) {
        self.patron = Some(patron);
        self.now = Some(now);
    }
}

/// Moments fired and silenced while handling one call.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) fired: Vec<Moment>,
    pub(crate) silenced: Vec<SilencedMoment>,
    /// The ledger index of the first moment fired in this call: the ones from there on
    /// were fired by it.
    first_fired: Option<u32>,
}

/// Whether the patron's answers allow using their data for `purpose` on `channel`.
///
/// Operational use (running their visit) needs no consent. Personalisation is allowed
/// unless they objected on that channel; marketing only where they agreed to it.
pub(crate) fn consent_allows(patron: &PatronView<'_>, channel: Channel, purpose: Purpose) -> bool {
    match purpose {
        Purpose::Operational => true,
        Purpose::Personalisation => patron.consent(channel, purpose) != Some(false),
        _ => patron.consent(channel, purpose) == Some(true),
    }
}

fn purpose_name(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Operational => "operational use",
        Purpose::Personalisation => "personalisation",
        _ => "marketing",
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "by e-mail",
        Channel::Sms => "by text message",
        Channel::Phone => "by phone",
        Channel::Post => "by post",
        _ => "in person",
    }
}

impl Engine {
    /// The engine of these rules and suppressors; asks each rule here, once, whether it
    /// has due times and which triggers it looks at.
    pub(crate) fn new(
        rules: Vec<Registered>,
        suppressors: Vec<Arc<dyn Suppressor>>,
        per_visit: usize,
    ) -> Self {
        let timed = rules
            .iter()
            .enumerate()
            .filter(|(_, registered)| registered.rule.has_due_times())
            .map_while(|(idx, _)| RuleIdx::try_from(idx).ok())
            .collect();
        let interest: Vec<TriggerKinds> = rules
            .iter()
            .map(|registered| registered.rule.triggers())
            .collect();
        let heard = interest
            .iter()
            .fold(TriggerKinds::NONE, |heard, &kinds| heard | kinds);
        let asked_on = std::array::from_fn(|bit| {
            let kind = TriggerKinds(1 << bit);
            interest
                .iter()
                .enumerate()
                .filter(|(_, interest)| interest.contains(kind))
                .map_while(|(idx, _)| RuleIdx::try_from(idx).ok())
                .collect()
        });
        let once_keys = rules
            .iter()
            .map(|registered| OnceKey::new(registered.rule.id()))
            .collect();
        let rule_texts = rules
            .iter()
            .map(|registered| Text::Shared(Arc::from(registered.rule.id())))
            .collect();
        Self {
            rules,
            suppressors,
            per_visit,
            timed,
            asked_on,
            heard,
            once_keys,
            rule_texts,
        }
    }

    /// Whether any rule looks at this kind of trigger: if none does, asking them proposes
    /// nothing.
    pub(crate) fn hears(&self, trigger: &Trigger<'_>) -> bool {
        self.heard.contains(TriggerKinds::of(trigger))
    }

    /// The rules that look at this kind of trigger, in registration order.
    fn asked_on(&self, trigger: &Trigger<'_>) -> &[RuleIdx] {
        let bit = TriggerKinds::of(trigger).0.trailing_zeros();
        usize::try_from(bit)
            .ok()
            .and_then(|bit| self.asked_on.get(bit))
            .map_or(&[], Vec::as_slice)
    }

    /// Asks the rules (all, or only `only`) about the context's patron and applies the
    /// checks that need no writing: date windows, cooldowns, suppressors, consent and
    /// the once-per scope. `cluster` is the patron and everyone merged into them.
    ///
    /// Fills `proposal`, a default one filled by nothing yet: the caller's, as returning
    /// it would copy the moment it keeps inline.
    pub(crate) fn propose(
        &self,
        ctx: &RuleContext<'_>,
        only: Option<RuleIdx>,
        ledger: &MomentLedger,
        cluster: SmallVec<[PatronId; 2]>,
        proposal: &mut Proposal,
    ) {
        let patron = ctx.patron();
        let now = ctx.now();
        let today = ctx.today();
        let suppressions = &LazySuppressions {
            suppressors: &self.suppressors,
            answers: OnceCell::new(),
        };
        let asking = Asking {
            ledger,
            cluster: &cluster,
            suppressions,
            asked: &Cell::new(None),
        };
        proposal.nothing_for(patron.id(), now);
        let mut buffer = Vec::new();
        let asked_on = self.asked_on(ctx.trigger());
        if !asked_on.is_empty() {
            // The rules read the patron's attendances, genres and bookings, then ask the
            // ledger what fired: reading the first line of each now, together, lets their
            // cache misses overlap instead of following one another.
            let record = patron.record;
            std::hint::black_box((
                ledger.warm(patron.id()),
                record.attendance.performances().first().copied(),
                record.held.performances().first().copied(),
            ));
        }
        // One context for every rule asked, only what the engine will do with the
        // rule's moments changing from one to the next.
        let mut rule_ctx: Option<RuleContext<'_>> = None;
        for &rule_idx in asked_on {
            if only.is_some_and(|only| only != rule_idx) {
                continue;
            }
            let idx = usize::from(rule_idx);
            let (Some(registered), Some(once_key)) = (self.rules.get(idx), self.once_keys.get(idx))
            else {
                break;
            };
            let (rule, policy) = (&registered.rule, &registered.policy);
            if !policy.is_active_on(today) {
                continue;
            }
            let admission = Admission {
                asking: &asking,
                policy,
                once_key,
                rule: rule_idx,
            };
            let rule_ctx = match &mut rule_ctx {
                Some(rule_ctx) => {
                    rule_ctx.admit_as(admission);
                    &*rule_ctx
                }
                None => &*rule_ctx.insert(ctx.for_rule(admission)),
            };
            rule.evaluate(rule_ctx, &mut buffer);
            if buffer.is_empty() {
                // Most evaluations propose nothing.
                continue;
            }
            let asked = asking.asked.take();
            // Rules only read, so whether the rule is cooling down is asked only when it
            // proposed something.
            if let Some(cooldown) = policy.cooldown_period()
                && cluster.iter().any(|&member| {
                    ledger
                        .last_fired(rule.id(), member)
                        .is_some_and(|at| now < at + cooldown)
                })
            {
                buffer.clear();
                continue;
            }
            let rule_text = match self.rule_texts.get(idx) {
                Some(text) => text.clone(),
                None => Text::Owned(rule.id().to_owned()),
            };
            for mut moment in buffer.drain(..) {
                moment.stamp(rule_text.clone(), patron.id());
                if let Some((by, suppression)) = suppressions
                    .get(ctx)
                    .iter()
                    .find(|(_, s)| s.silences(&moment))
                {
                    let by = suppressions.id(*by);
                    let reason = format!("{by}: {}", suppression.reason());
                    proposal.silenced.push(SilencedMoment::new(moment, reason));
                    continue;
                }
                let channel = moment.channel();
                if let Some(&purpose) = moment
                    .purposes()
                    .iter()
                    .find(|&&p| !consent_allows(patron, channel, p))
                {
                    let reason = format!(
                        "no consent to {} {}",
                        purpose_name(purpose),
                        channel_name(channel)
                    );
                    proposal.silenced.push(SilencedMoment::new(moment, reason));
                    continue;
                }
                let (key, fired) = match asked
                    .as_ref()
                    .and_then(|asked| asked.key_for(rule_idx, &moment))
                {
                    Some(asked) => asked,
                    None => {
                        let key = key_of(
                            once_key,
                            policy.scope(),
                            moment.performance(),
                            moment.dedupe_key(),
                            ctx,
                            now,
                        );
                        (
                            key,
                            cluster.iter().any(|&member| ledger.has_fired(member, key)),
                        )
                    }
                };
                if fired {
                    continue;
                }
                proposal.candidates.push(Candidate {
                    moment,
                    key,
                    rule: rule_idx,
                });
            }
        }
        proposal.cluster = cluster;
    }

    /// Fires what survives exclusive groups and the per-visit cap, highest priority first.
    ///
    /// A new moment displaces an earlier, lower-priority one of the same patron at the same
    /// performance (same group, or the cap reached); on equal priority the earlier stays.
    ///
    /// `ledger` is the one the proposal was made from, unchanged since: memory admits each
    /// proposal right after making it. `tickets` is memory's tickets table, where the
    /// ledger finds the tickets moments name.
    ///
    /// Its moments are taken out of `proposal` (left in place rather than moved in).
    pub(crate) fn admit(
        &self,
        proposal: &mut Proposal,
        ledger: &mut MomentLedger,
        tickets: &TextTable<TicketRecord>,
        out: &mut Outcome,
    ) {
        let Some((patron, now)) = proposal.subject() else {
            return;
        };
        out.silenced.append(&mut proposal.silenced);
        let cluster = &proposal.cluster;
        let candidates = &mut proposal.candidates;
        // Stable: among equal priorities, registration order decides.
        candidates.sort_by_key(|c| std::cmp::Reverse(c.moment.priority()));
        // The ledger is as the proposal found it, which kept no candidate holding a key
        // already, until this call fires one: only then can a later candidate's key be
        // held (two moments of one rule with one key).
        let mut fired_here = false;
        for candidate in candidates.drain(..) {
            if fired_here && ledger.has_fired(patron, candidate.key) {
                continue;
            }
            let group = self
                .rules
                .get(usize::from(candidate.rule))
                .and_then(|r| r.policy.group());
            let performance = candidate.moment.performance();
            let priority = candidate.moment.priority();
            let first_fired = out.first_fired;
            // Earlier moments at the same performance, or fired in this call when the
            // moment has none: (index, priority, same group, operational).
            let rivals: SmallVec<[(u32, crate::Priority, bool, bool); 4]> = cluster
                .iter()
                .flat_map(|&member| ledger.of_visit(member, performance))
                .filter(|(_, fired)| fired.standing() == Standing::Active)
                .map(|(i, fired)| {
                    let same_group = ledger.in_group(fired, group);
                    let operational = fired.kind() == MomentKind::Operational;
                    (i, fired, same_group, operational)
                })
                // Operational moments serve the visit: the cap never counts or drops them.
                .filter(|&(_, _, same_group, operational)| !operational || same_group)
                .filter(|&(i, fired, ..)| {
                    performance.is_some()
                        || (!fired.has_performance() && first_fired.is_some_and(|f| i >= f))
                })
                .map(|(i, fired, same_group, operational)| {
                    (i, fired.priority(), same_group, operational)
                })
                .collect();
            let mut displaced: SmallVec<[u32; 2]> = SmallVec::new();
            if let Some(&(i, rival, ..)) = rivals.iter().find(|r| r.2) {
                if rival >= priority {
                    let reason = format!(
                        "exclusive group {}: an earlier moment won",
                        group.unwrap_or_default()
                    );
                    out.silenced
                        .push(SilencedMoment::new(candidate.moment, reason));
                    continue;
                }
                displaced.push(i);
            }
            let active = rivals
                .iter()
                .filter(|r| !r.3 && !displaced.contains(&r.0))
                .count();
            let capped = candidate.moment.kind() != MomentKind::Operational;
            if capped && performance.is_some() && active >= self.per_visit {
                let lowest = rivals
                    .iter()
                    .filter(|r| !displaced.contains(&r.0))
                    .filter(|r| !r.3)
                    .min_by_key(|r| (r.1, std::cmp::Reverse(r.0)));
                match lowest {
                    Some(&(i, rival, ..)) if rival < priority && self.per_visit > 0 => {
                        displaced.push(i);
                    }
                    _ => {
                        let reason = format!("at most {} moments per visit", self.per_visit);
                        out.silenced
                            .push(SilencedMoment::new(candidate.moment, reason));
                        continue;
                    }
                }
            }
            for i in displaced {
                ledger.set_standing(i, Standing::Superseded);
            }
            let idx = ledger.fire_from(
                &candidate.moment,
                candidate.key,
                group,
                now,
                Some(candidate.rule),
                tickets,
            );
            fired_here = true;
            out.first_fired.get_or_insert(idx);
            // The caller gets the moment the rule built; the ledger keeps its own compact
            // record of it, so nothing is copied.
            out.fired.push(candidate.moment);
        }
    }

    /// When each rule that may have due times is next due for the patron. A rule just
    /// handled by a tick is only refiled for a later time than the one handled, so a tick
    /// never loops.
    ///
    /// Written into `due` (emptied first), which the caller keeps on its stack: returned,
    /// the room for every built-in rule would be copied on each event.
    pub(crate) fn due_times(
        &self,
        patron: &PatronView<'_>,
        now: DateTime<Utc>,
        handled: Option<(RuleIdx, DateTime<Utc>)>,
        due: &mut DueTimes,
    ) {
        due.clear();
        for &idx in &self.timed {
            let Some(registered) = self.rules.get(usize::from(idx)) else {
                continue;
            };
            let mut next = registered.rule.next_due(patron, now);
            if let Some((rule, at)) = handled
                && rule == idx
                && next.is_some_and(|next| next <= at)
            {
                next = None;
            }
            due.push((idx, next));
        }
    }
}

/// The once-per key of a rule's moment for this performance (if any) with this dedupe
/// key: a hash of the scope text, which is the performance, production, year or dedupe
/// key the policy's [`OncePer`] names, going on from the rule's `once_key` (see
/// [`OnceKey`]).
fn key_of(
    once_key: &OnceKey,
    once: OncePer,
    performance: Option<&PerformanceId>,
    dedupe_key: &str,
    ctx: &RuleContext<'_>,
    now: DateTime<Utc>,
) -> u64 {
    let key = *once_key;
    match once {
        OncePer::Patron => key.with_scope(&["patron"]),
        OncePer::Year => {
            use std::fmt::Write as _;
            let mut key = key;
            // Writing into a hasher cannot fail.
            let _ = write!(key, "year {}", now.year());
            key.finish()
        }
        OncePer::Performance => match performance {
            Some(p) => key.with_scope(&["performance ", p.as_str()]),
            None => key.with_scope(&[dedupe_key]),
        },
        OncePer::Production => {
            match performance.and_then(|p| ctx.catalog().performance(p.as_str())) {
                Some(p) => key.with_scope(&["production ", p.production().as_str()]),
                None => key.with_scope(&[dedupe_key]),
            }
        }
        _ => key.with_scope(&[dedupe_key]),
    }
}
