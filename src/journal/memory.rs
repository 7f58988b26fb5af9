//! A journal kept in memory: for tests, and the smallest complete [`Journal`] to copy.

use std::collections::VecDeque;
use std::fmt;

use super::{Journal, Recovery, check_len, check_snapshot_seq};
use crate::{Error, Result};

/// A [`Journal`] that keeps records and the latest snapshot in memory.
///
/// Nothing survives the process; within it, every appended record counts as durable.
/// Compaction drops exactly the records a snapshot covers. Cloning gives an independent
/// copy, which tests can use as "the journal after a restart".
///
/// Its `Debug` output shows counts, never record bytes (they hold personal data).
///
/// ```
/// use regulars::journal::{Journal, MemoryJournal};
///
/// let mut journal = MemoryJournal::new();
/// journal.append(b"first")?;
/// journal.append(b"second")?;
/// journal.write_snapshot(1, b"state after first")?;
/// assert_eq!(journal.len(), 1); // record 1 is compacted away
///
/// let mut after = Vec::new();
/// journal.replay(1, &mut |seq, bytes| {
///     after.push((seq, bytes.to_vec()));
///     Ok(())
/// })?;
/// assert_eq!(after, vec![(2, b"second".to_vec())]);
/// assert!(journal.replay(0, &mut |_, _| Ok(())).is_err()); // record 1 is gone
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone)]
pub struct MemoryJournal {
    /// Records `first_seq`, `first_seq + 1`, … in order.
    records: VecDeque<Vec<u8>>,
    /// The seq of `records[0]`, or of the next append if there are none.
    first_seq: u64,
    snapshot: Option<(u64, Vec<u8>)>,
}

impl MemoryJournal {
    /// An empty journal; the first append gets seq 1.
    pub fn new() -> MemoryJournal {
        MemoryJournal {
            records: VecDeque::new(),
            first_seq: 1,
            snapshot: None,
        }
    }

    /// How many records are held (appended and not compacted away).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn next_seq(&self) -> u64 {
        self.first_seq + self.records.len() as u64
    }
}

impl Default for MemoryJournal {
    fn default() -> MemoryJournal {
        MemoryJournal::new()
    }
}

impl fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryJournal")
            .field("records", &self.records.len())
            .field("last_seq", &self.last_seq())
            .field("snapshot_seq", &self.snapshot.as_ref().map(|(seq, _)| *seq))
            .finish()
    }
}

impl Journal for MemoryJournal {
    fn append(&mut self, payload: &[u8]) -> Result<u64> {
        check_len(payload)?;
        self.records.push_back(payload.to_vec());
        Ok(self.next_seq() - 1)
    }

    fn sync(&mut self) -> Result<u64> {
        Ok(self.last_seq())
    }

    fn durable_seq(&self) -> u64 {
        self.last_seq()
    }

    fn last_seq(&self) -> u64 {
        self.next_seq() - 1
    }

    fn replay(
        &mut self,
        after_seq: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<Recovery> {
        let mut recovery = Recovery::new(0, after_seq);
        if after_seq >= self.last_seq() {
            return Ok(recovery);
        }
        let first = self.first_seq;
        if after_seq + 1 < first {
            return Err(Error::Compacted {
                after_seq,
                first_available: first,
            });
        }
        let skip = usize::try_from(after_seq + 1 - first).unwrap_or(usize::MAX);
        for (seq, record) in (first..).zip(&self.records).skip(skip) {
            visit(seq, record)?;
            recovery.records += 1;
            recovery.last_seq = seq;
        }
        Ok(recovery)
    }

    fn write_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        check_snapshot_seq(
            seq,
            self.last_seq(),
            self.snapshot.as_ref().map(|(s, _)| *s),
        )?;
        let first = self.first_seq;
        let covered = usize::try_from((seq + 1).saturating_sub(first)).unwrap_or(usize::MAX);
        self.records.drain(..covered.min(self.records.len()));
        self.first_seq = first.max(seq + 1);
        self.snapshot = Some((seq, bytes.to_vec()));
        Ok(())
    }

    fn latest_snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        Ok(self.snapshot.clone())
    }
}
