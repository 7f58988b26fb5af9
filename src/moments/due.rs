//! When each time-based rule is next due for each patron, filed so that refiling after
//! an event costs the same whatever the number of patrons, and a tick reads only what is
//! due (and the few entries sharing the due ones' ten minutes).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::ledger::RuleIdx;
use crate::model::ids::PatronId;

/// One entry: when `rule` is next due for `patron`. Ordered by time, then patron, then
/// rule: the order a tick handles them in.
pub(crate) type DueEntry = (DateTime<Utc>, PatronId, RuleIdx);

/// The width of a bucket, in seconds. Entries are filed by bucket, unordered within it:
/// a tick reads every entry of the bucket its time falls in, so a narrow bucket keeps
/// that small; the buckets themselves are few (one per ten minutes holding any entry).
const BUCKET_SECONDS: i64 = 600;

fn bucket_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(BUCKET_SECONDS)
}

/// The due entries, in ten-minute buckets: filing or removing an entry is a hash lookup
/// of its bucket and one in it, where an ordered set over every entry would walk a tree
/// as deep as the patrons are many. Only the buckets' times are kept in order.
#[derive(Debug, Default)]
pub(crate) struct DueIndex {
    buckets: HashMap<i64, HashSet<DueEntry, ahash::RandomState>, ahash::RandomState>,
    /// The buckets holding entries, earliest first.
    times: BTreeSet<i64>,
    len: usize,
}

impl DueIndex {
    /// Counts the buckets' tables and the ordered times (see
    /// [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        let set = size_of::<HashSet<DueEntry, ahash::RandomState>>();
        tally.table(self.buckets.len(), self.buckets.capacity(), 8 + set);
        for entries in self.buckets.values() {
            tally.table(entries.len(), entries.capacity(), size_of::<DueEntry>());
        }
        tally.btree(self.times.len(), 8);
    }

    /// Files an entry; `false` if it was filed already.
    pub(crate) fn insert(&mut self, entry: DueEntry) -> bool {
        let bucket = bucket_of(entry.0);
        let entries = self.buckets.entry(bucket).or_insert_with(|| {
            self.times.insert(bucket);
            HashSet::default()
        });
        let new = entries.insert(entry);
        self.len += usize::from(new);
        new
    }

    /// Removes an entry; `false` if it was not filed.
    pub(crate) fn remove(&mut self, entry: &DueEntry) -> bool {
        let bucket = bucket_of(entry.0);
        let Some(entries) = self.buckets.get_mut(&bucket) else {
            return false;
        };
        let removed = entries.remove(entry);
        if entries.is_empty() {
            self.buckets.remove(&bucket);
            self.times.remove(&bucket);
        }
        self.len -= usize::from(removed);
        removed
    }

    /// Takes every entry due at or before `now`, in order (see [`DueEntry`]).
    pub(crate) fn take_until(&mut self, now: DateTime<Utc>) -> Vec<DueEntry> {
        let last = bucket_of(now);
        let mut taken = Vec::new();
        while let Some(&bucket) = self.times.first() {
            if bucket > last {
                break;
            }
            let Some(mut entries) = self.buckets.remove(&bucket) else {
                self.times.pop_first();
                continue;
            };
            if bucket < last {
                taken.extend(entries);
                self.times.pop_first();
                continue;
            }
            // The bucket `now` falls in: only what is due by now; the rest stays.
            entries.retain(|&entry| {
                let due = entry.0 <= now;
                if due {
                    taken.push(entry);
                }
                !due
            });
            if entries.is_empty() {
                self.times.pop_first();
            } else {
                self.buckets.insert(bucket, entries);
            }
            break;
        }
        self.len -= taken.len();
        // Within a bucket, entries are in no particular order.
        taken.sort_unstable();
        taken
    }

    /// Every entry, in order, for saving.
    pub(crate) fn iter(&self) -> impl Iterator<Item = DueEntry> + '_ {
        self.times.iter().flat_map(|bucket| {
            let mut entries: Vec<DueEntry> = self
                .buckets
                .get(bucket)
                .map(|entries| entries.iter().copied().collect())
                .unwrap_or_default();
            entries.sort_unstable();
            entries
        })
    }

    /// How many entries are filed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
