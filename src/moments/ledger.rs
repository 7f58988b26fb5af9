//! What memory remembers about moments: which fired (for once-per and cooldowns), the
//! moments themselves (for briefs, caps and exclusive groups), and when each time-based
//! rule is next due for each patron.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::Moment;
use crate::model::ids::{PatronId, PerformanceId, TicketId};

type Map<K, V> = HashMap<K, V, ahash::RandomState>;
type Set<K> = HashSet<K, ahash::RandomState>;

/// A rule's index in the engine's registration order.
pub(crate) type RuleIdx = u16;

/// One firing of a rule for a patron within its once-per scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct FiredKey {
    pub(crate) rule: Box<str>,
    pub(crate) patron: PatronId,
    pub(crate) scope: Box<str>,
}

/// Whether a fired moment is still to be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Standing {
    Active,
    /// A higher-priority moment took its place (per-visit cap or exclusive group).
    Superseded,
    /// Its ticket was refunded.
    Retired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FiredMoment {
    pub(crate) moment: Moment,
    /// Its once-per key, released if the moment is retired.
    pub(crate) key: FiredKey,
    pub(crate) group: Option<Box<str>>,
    pub(crate) standing: Standing,
}

/// Saved in snapshots: the fired keys, cooldown times and moments. The per-patron index is
/// rebuilt from the moments, and the due index is saved by rule id (rule indices are
/// configuration, which may change between runs).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct MomentLedger {
    fired: Set<FiredKey>,
    /// When each rule last fired for a patron, per patron so a cooldown check needs no
    /// owned key. Saved as one map keyed by (rule id, patron).
    #[serde(
        serialize_with = "save_last_fired",
        deserialize_with = "load_last_fired"
    )]
    last_fired: Map<PatronId, LastFired>,
    moments: Vec<FiredMoment>,
    /// Each patron's moments (index, and a fingerprint of the performance, so finding
    /// the moments of one visit reads only theirs).
    #[serde(skip)]
    by_patron: Map<PatronId, SmallVec<[(u32, u64); 2]>>,
    #[serde(skip)]
    due: BTreeSet<(DateTime<Utc>, PatronId, RuleIdx)>,
    /// The due times filed per patron, so refiling a patron's rules after an event is one
    /// lookup, not one per rule.
    #[serde(skip)]
    due_of: Map<PatronId, DueTimes>,
}

/// The due times filed for one patron, by rule.
type DueTimes = SmallVec<[(RuleIdx, DateTime<Utc>); 2]>;

/// A fingerprint of the performance a moment is for (0 for none), to skip the moments of
/// other visits without reading them.
fn visit_key(performance: Option<&PerformanceId>) -> u64 {
    use std::hash::Hasher;
    match performance {
        None => 0,
        Some(performance) => {
            let mut hasher = crate::stable_hash::StableHasher::new(0);
            hasher.write(performance.as_str().as_bytes());
            hasher.finish() | 1
        }
    }
}

/// When each rule last fired for one patron.
type LastFired = SmallVec<[(Box<str>, DateTime<Utc>); 2]>;

fn save_last_fired<S: serde::Serializer>(
    last_fired: &Map<PatronId, LastFired>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    // The length first: compact formats need it before the entries.
    let len = last_fired.values().map(SmallVec::len).sum();
    let mut map = serializer.serialize_map(Some(len))?;
    for (&patron, rules) in last_fired {
        for (rule, at) in rules {
            map.serialize_entry(&(&**rule, patron), at)?;
        }
    }
    map.end()
}

fn load_last_fired<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<PatronId, LastFired>, D::Error> {
    let flat: Map<(Box<str>, PatronId), DateTime<Utc>> = Deserialize::deserialize(deserializer)?;
    let mut last_fired: Map<PatronId, LastFired> = Map::default();
    for ((rule, patron), at) in flat {
        last_fired.entry(patron).or_default().push((rule, at));
    }
    Ok(last_fired)
}

impl MomentLedger {
    pub(crate) fn has_fired(&self, key: &FiredKey) -> bool {
        self.fired.contains(key)
    }

    pub(crate) fn last_fired(&self, rule: &str, patron: PatronId) -> Option<DateTime<Utc>> {
        self.last_fired
            .get(&patron)?
            .iter()
            .find(|(r, _)| &**r == rule)
            .map(|&(_, at)| at)
    }

    /// Records a fired moment.
    pub(crate) fn fire(
        &mut self,
        key: FiredKey,
        moment: Moment,
        group: Option<Box<str>>,
        at: DateTime<Utc>,
    ) {
        let patron = moment.patron();
        let visit = visit_key(moment.performance());
        let rules = self.last_fired.entry(patron).or_default();
        match rules.iter_mut().find(|(r, _)| *r == key.rule) {
            Some((_, last)) => *last = at,
            None => rules.push((key.rule.clone(), at)),
        }
        self.fired.insert(key.clone());
        let idx = u32::try_from(self.moments.len()).unwrap_or(u32::MAX);
        self.moments.push(FiredMoment {
            moment,
            key,
            group,
            standing: Standing::Active,
        });
        self.by_patron.entry(patron).or_default().push((idx, visit));
    }

    /// The moments fired for a patron (under this id only), oldest first, with their index.
    pub(crate) fn of_patron(&self, patron: PatronId) -> impl Iterator<Item = (u32, &FiredMoment)> {
        self.by_patron
            .get(&patron)
            .into_iter()
            .flatten()
            .filter_map(|&(i, _)| Some((i, self.moments.get(i as usize)?)))
    }

    /// The moments fired for a patron (under this id only) at one performance, or
    /// without one, oldest first, with their index.
    pub(crate) fn of_visit<'a>(
        &'a self,
        patron: PatronId,
        performance: Option<&'a PerformanceId>,
    ) -> impl Iterator<Item = (u32, &'a FiredMoment)> + 'a {
        let key = visit_key(performance);
        self.by_patron
            .get(&patron)
            .into_iter()
            .flatten()
            .filter(move |&&(_, k)| k == key)
            .filter_map(|&(i, _)| Some((i, self.moments.get(i as usize)?)))
            .filter(move |(_, fired)| fired.moment.performance() == performance)
    }

    pub(crate) fn set_standing(&mut self, idx: u32, standing: Standing) {
        if let Some(fired) = self.moments.get_mut(idx as usize) {
            fired.standing = standing;
        }
    }

    /// Retires a patron's active moments for refunded tickets and releases their
    /// once-per keys: a moment for a visit that will not happen may fire again for the
    /// visit that does (a refunded birthday booking does not use up the birthday).
    pub(crate) fn retire_tickets(&mut self, patron: PatronId, tickets: &[TicketId]) {
        let Some(indices) = self.by_patron.get(&patron) else {
            return;
        };
        for &(i, _) in indices {
            if let Some(fired) = self.moments.get_mut(i as usize)
                && fired.standing == Standing::Active
                && fired.moment.ticket().is_some_and(|t| tickets.contains(t))
            {
                fired.standing = Standing::Retired;
                self.fired.remove(&fired.key);
            }
        }
    }

    /// Files (or refiles, or removes) when `rule` is next due for `patron`.
    pub(crate) fn schedule(&mut self, patron: PatronId, rule: RuleIdx, due: Option<DateTime<Utc>>) {
        self.schedule_patron(patron, &[(rule, due)]);
    }

    /// Files (or refiles, or removes) when each of these rules is next due for `patron`.
    pub(crate) fn schedule_patron(
        &mut self,
        patron: PatronId,
        due: &[(RuleIdx, Option<DateTime<Utc>>)],
    ) {
        let filed = match self.due_of.get_mut(&patron) {
            Some(filed) => filed,
            // Most patrons have nothing filed and nothing to file.
            None if due.iter().all(|(_, at)| at.is_none()) => return,
            None => self.due_of.entry(patron).or_default(),
        };
        for &(rule, at) in due {
            let i = filed.iter().position(|(r, _)| *r == rule);
            let old = i.and_then(|i| filed.get(i)).map(|&(_, old)| old);
            if old == at {
                continue;
            }
            if let Some(old) = old {
                self.due.remove(&(old, patron, rule));
            }
            match (i, at) {
                (Some(i), Some(at)) => filed[i].1 = at,
                (Some(i), None) => {
                    filed.remove(i);
                }
                (None, Some(at)) => filed.push((rule, at)),
                (None, None) => {}
            }
            if let Some(at) = at {
                self.due.insert((at, patron, rule));
            }
        }
        if filed.is_empty() {
            self.due_of.remove(&patron);
        }
    }

    /// Takes every entry due at or before `now`, earliest first.
    pub(crate) fn take_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, PatronId, RuleIdx)> {
        let mut taken = Vec::new();
        while let Some(&first) = self.due.first() {
            if first.0 > now {
                break;
            }
            self.due.pop_first();
            if let Some(filed) = self.due_of.get_mut(&first.1) {
                filed.retain(|(rule, _)| *rule != first.2);
                if filed.is_empty() {
                    self.due_of.remove(&first.1);
                }
            }
            taken.push(first);
        }
        taken
    }

    /// Rebuilds the per-patron index after loading.
    pub(crate) fn reindex(&mut self) {
        self.by_patron.clear();
        for (i, fired) in self.moments.iter().enumerate() {
            let idx = u32::try_from(i).unwrap_or(u32::MAX);
            self.by_patron
                .entry(fired.moment.patron())
                .or_default()
                .push((idx, visit_key(fired.moment.performance())));
        }
    }

    /// The due index, in order, for saving.
    pub(crate) fn due_entries(
        &self,
    ) -> impl Iterator<Item = (DateTime<Utc>, PatronId, RuleIdx)> + '_ {
        self.due.iter().copied()
    }

    /// Forgets these patrons entirely, for erasure: their fired moments (a message may
    /// name them), once-per keys, cooldowns and due times. Walks every fired moment:
    /// erasure is rare and must not miss one. Returns how many moments went.
    pub(crate) fn forget(&mut self, patrons: &[PatronId]) -> usize {
        let before = self.moments.len();
        self.moments
            .retain(|fired| !patrons.contains(&fired.moment.patron()));
        self.fired.retain(|key| !patrons.contains(&key.patron));
        self.last_fired.retain(|p, _| !patrons.contains(p));
        self.due.retain(|(_, p, _)| !patrons.contains(p));
        self.due_of.retain(|p, _| !patrons.contains(p));
        self.reindex();
        before - self.moments.len()
    }

    /// Every fired moment, to redact what they say (erasure).
    pub(crate) fn moments_mut(&mut self) -> impl Iterator<Item = &mut Moment> {
        self.moments.iter_mut().map(|fired| &mut fired.moment)
    }

    /// How many (patron, rule) pairs wait for a tick.
    pub(crate) fn due_count(&self) -> usize {
        self.due.len()
    }
}
