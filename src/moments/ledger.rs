//! What memory remembers about moments: which fired (for once-per and cooldowns), the
//! moments themselves (for briefs, caps and exclusive groups), and when each time-based
//! rule is next due for each patron.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::Moment;
use crate::model::ids::{PatronId, TicketId};

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
    last_fired: Map<(Box<str>, PatronId), DateTime<Utc>>,
    moments: Vec<FiredMoment>,
    #[serde(skip)]
    by_patron: Map<PatronId, SmallVec<[u32; 2]>>,
    #[serde(skip)]
    due: BTreeSet<(DateTime<Utc>, PatronId, RuleIdx)>,
    #[serde(skip)]
    due_of: Map<(PatronId, RuleIdx), DateTime<Utc>>,
}

impl MomentLedger {
    pub(crate) fn has_fired(&self, key: &FiredKey) -> bool {
        self.fired.contains(key)
    }

    pub(crate) fn last_fired(&self, rule: &str, patron: PatronId) -> Option<DateTime<Utc>> {
        // Keyed by an owned rule id; a lookup by `&str` would need a borrowed key type,
        // and cooldown checks are rare enough (rules with a cooldown only) not to matter.
        self.last_fired.get(&(rule.into(), patron)).copied()
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
        self.last_fired.insert((key.rule.clone(), patron), at);
        self.fired.insert(key.clone());
        let idx = u32::try_from(self.moments.len()).unwrap_or(u32::MAX);
        self.moments.push(FiredMoment {
            moment,
            key,
            group,
            standing: Standing::Active,
        });
        self.by_patron.entry(patron).or_default().push(idx);
    }

    /// The moments fired for a patron (under this id only), oldest first, with their index.
    pub(crate) fn of_patron(&self, patron: PatronId) -> impl Iterator<Item = (u32, &FiredMoment)> {
        self.by_patron
            .get(&patron)
            .into_iter()
            .flatten()
            .filter_map(|&i| Some((i, self.moments.get(i as usize)?)))
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
        for &i in indices {
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
        let old = match due {
            Some(due) => self.due_of.insert((patron, rule), due),
            None => self.due_of.remove(&(patron, rule)),
        };
        if old == due {
            return;
        }
        if let Some(old) = old {
            self.due.remove(&(old, patron, rule));
        }
        if let Some(due) = due {
            self.due.insert((due, patron, rule));
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
            self.due_of.remove(&(first.1, first.2));
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
                .push(idx);
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
        self.last_fired.retain(|(_, p), _| !patrons.contains(p));
        self.due.retain(|(_, p, _)| !patrons.contains(p));
        self.due_of.retain(|(p, _), _| !patrons.contains(p));
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
