//! Durable memory: every change journaled on the one write path, and memory rebuilt from
//! the journal's latest snapshot and the records after it when it is opened.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::command::{self, Command};
use super::{Memory, MemoryBuilder};
use crate::error::{Error, Result};
use crate::journal::{FileJournal, Journal, Recovery, SyncPolicy};
use crate::model::history::SharedSeats;
use crate::model::ids::SharedIds;

/// The sync policy of [`MemoryBuilder::open`] unless told otherwise: each change durable
/// within about 2 ms, one fsync for everything appended meanwhile.
const DEFAULT_POLICY: SyncPolicy = SyncPolicy::GroupCommit {
    max_delay: Duration::from_millis(2),
    max_batch: 1024,
};

/// A snapshot image this large is freed on a thread of its own while the journal
/// replays.
const LARGE_IMAGE: usize = 8 << 20;

/// Records between automatic checkpoints unless told otherwise.
const DEFAULT_CHECKPOINT_EVERY: u64 = 100_000;

/// What the builder was told about durability.
pub(crate) struct DurableOptions {
    journal: Option<Box<dyn Journal>>,
    policy: SyncPolicy,
    checkpoint_every: u64,
}

impl Default for DurableOptions {
    fn default() -> Self {
        Self {
            journal: None,
            policy: DEFAULT_POLICY,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
        }
    }
}

impl fmt::Debug for DurableOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableOptions")
            .field("journal", &self.journal)
            .field("policy", &self.policy)
            .field("checkpoint_every", &self.checkpoint_every)
            .finish()
    }
}

impl DurableOptions {
    pub(crate) fn has_journal(&self) -> bool {
        self.journal.is_some()
    }

    /// Loads the journal's latest snapshot into the freshly built `memory`, replays the
    /// records after it, and hands memory the journal.
    pub(crate) fn open(self, mut memory: Memory) -> Result<Memory> {
        let Some(mut journal) = self.journal else {
            return Ok(memory);
        };
        let after = match journal.latest_snapshot()? {
            Some((seq, image)) => {
                // The id tables keep room for the records replayed next (each table at
                // most as many again as it holds, whatever the journal claims).
                let records = journal.last_seq().saturating_sub(seq);
                let records = usize::try_from(records).unwrap_or(usize::MAX);
                memory
                    .restore_verified(&image, records)
                    .map_err(|e| match e {
                        Error::InvalidSnapshot(reason) => {
                            Error::InvalidSnapshot(format!("snapshot at seq {seq}: {reason}"))
                        }
                        other => other,
                    })?;
                free_beside(image);
                seq
            }
            None => 0,
        };
        // Memory holds no journal while replaying, so the commands are applied through
        // the public methods without being journaled again.
        let mut replayed_erasure = false;
        // Records name a few performances and seats over and over: each copy read shares
        // the last one's allocation instead of making (and soon freeing) its own, as
        // loading a snapshot does.
        let (seats, ids) = (SharedSeats::start(), SharedIds::start_for_records());
        let recovery = journal.replay(after, &mut |seq, record| {
            let replayed = memory
                .decode_replayed(record)
                .map_err(|reason| Error::JournalReplay { seq, reason })?;
            replayed_erasure |= matches!(replayed.command, Command::Erase { .. });
            memory
                .apply_replayed(replayed)
                .map_err(|reason| Error::JournalReplay { seq, reason })
        })?;
        // The copies they keep go now (an erased person's ids among them, perhaps).
        drop((seats, ids));
        memory.release_replay_buffers();
        memory.durable = Some(Durable {
            journal,
            scratch: Vec::new(),
            failed: None,
            checkpoint_every: self.checkpoint_every,
            since_checkpoint: recovery.records(),
            recovery,
        });
        // An erasure whose checkpoint a crash interrupted: the records before it still
        // hold the person's data on disk until a snapshot covers them.
        if replayed_erasure {
            memory.checkpoint()?;
        }
        Ok(memory)
    }
}

/// Hands a loaded snapshot image back to the system: a large one on a thread of its own,
/// so that unmapping it page by page (about as long as replaying a thousand records)
/// happens beside replay rather than before it. Nothing waits for that thread: it only
/// frees memory.
fn free_beside(image: Vec<u8>) {
    if image.len() < LARGE_IMAGE {
        return;
    }
    // Without a thread, the image goes with the closure, here.
    let _ = std::thread::Builder::new()
        .name("regulars-free-snapshot".to_owned())
        .spawn(move || drop(image));
}

/// A journaled memory's journal and what it needs to keep it in step.
pub(crate) struct Durable {
    journal: Box<dyn Journal>,
    /// Encoding buffer reused by every write.
    scratch: Vec<u8>,
    /// The journal failure that made memory refuse writes.
    failed: Option<Error>,
    checkpoint_every: u64,
    /// Records appended (or replayed) since the latest snapshot.
    since_checkpoint: u64,
    recovery: Recovery,
}

impl fmt::Debug for Durable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Durable")
            .field("journal", &self.journal)
            .field("failed", &self.failed)
            .field("checkpoint_every", &self.checkpoint_every)
            .field("since_checkpoint", &self.since_checkpoint)
            .finish_non_exhaustive()
    }
}

/// A write's command, encoded before memory changes; appended once it succeeded.
pub(crate) struct Pending(Vec<u8>);

impl MemoryBuilder {
    /// Makes memory durable in `journal`: [`build`](Self::build) loads the journal's
    /// latest snapshot, replays the records after it, and from then on every change is
    /// appended to the journal before the call that made it returns.
    ///
    /// Replay re-runs the calls through the same write path, except recognition: each
    /// event's record carries what recognition decided for it (which patron, which
    /// duplicates were merged, which candidates went to review, which household members
    /// were linked), and replay applies that decision instead of scoring candidates
    /// again. So changing strategies or thresholds later changes how *new* events are
    /// recognized, never who past events were about. Each record also holds the people as
    /// normalizing their signals gave them (replay takes them rather than normalizing
    /// again; a memory with an [`identifier_key`](Self::identifier_key) normalizes again)
    /// and which rules' moments fired while it was applied, so replay asks only those
    /// rules (none, most of the time) and fires the same moments. The rest of the configuration
    /// (rules and their order, policies, country, identifier limits, review limit) must be
    /// the one the journal was written with, or replay could give another memory. A record
    /// that can no longer be applied, whose recorded decision names a patron memory does
    /// not hold, or that names a moment rule memory does not have, fails the build with
    /// [`Error::JournalReplay`] naming its seq.
    ///
    /// ```
    /// use regulars::journal::MemoryJournal;
    /// use regulars::{Event, Memory, Order, Signals};
    ///
    /// let mut memory = Memory::builder().journal(MemoryJournal::new()).build()?;
    /// memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// assert_eq!(memory.last_seq(), 1);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn journal(mut self, journal: impl Journal + 'static) -> Self {
        self.durable.journal = Some(Box::new(journal));
        self
    }

    /// The sync policy [`open`](Self::open) gives its [`FileJournal`]: by default
    /// [`SyncPolicy::GroupCommit`] with a 2 ms delay, so a change is durable (survives a
    /// power loss) within about 2 ms plus an fsync, and appends never wait for the disk.
    /// See [`Memory::durable_seq`] for acknowledging only durable work.
    pub fn sync_policy(mut self, policy: SyncPolicy) -> Self {
        self.durable.policy = policy;
        self
    }

    /// Writes a checkpoint (see [`Memory::checkpoint`]) automatically once this many
    /// records were journaled since the last one; `0` never does. The default is
    /// 100,000.
    ///
    /// A checkpoint bounds how much opening has to replay, and frees the disk space of
    /// the records it covers. It costs a pause in the write that triggers it: memory is
    /// encoded whole, written and fsynced: about 0.2 s for a memory holding 100,000
    /// events and 3 s for 1,000,000 on a 2-vCPU cloud machine
    /// (see `BENCHMARKS.md`). Loading a snapshot takes less than half the work of
    /// replaying the records it covers, and opening replays at most `records` records
    /// after it. Where pauses matter more than opening time, set `0` and call
    /// [`Memory::checkpoint`] at a quiet moment.
    pub fn checkpoint_every(mut self, records: u64) -> Self {
        self.durable.checkpoint_every = records;
        self
    }

    /// Builds a memory kept in the directory `dir` (created if missing): a
    /// [`FileJournal`] with the [`sync_policy`](Self::sync_policy), then as
    /// [`journal`](Self::journal) and [`build`](Self::build). Opening loads the latest
    /// snapshot and replays the records after it; a torn tail left by a crash is cut off
    /// first (see [`Memory::recovery`]).
    ///
    /// One memory per directory at a time: two processes writing one journal corrupt it.
    /// A journal given to [`journal`](Self::journal) is replaced by this one.
    ///
    /// ```
    /// use regulars::normalize::Country;
    /// use regulars::{Event, Memory, Order, Signals};
    ///
    /// let dir = std::env::temp_dir().join(format!("regulars-doc-open-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let ana = Order::new("o-1", Signals::new().email("ana@example.org"));
    /// let patron = {
    ///     let mut memory = Memory::builder().default_country(Country::GB).open(&dir)?;
    ///     let seen = memory.observe(Event::order("e-1", ana.clone()))?;
    ///     memory.sync()?; // durable before we tell anyone
    ///     seen.patron()
    /// };
    /// // After a restart: the same memory.
    /// let mut memory = Memory::builder().default_country(Country::GB).open(&dir)?;
    /// assert_eq!(memory.patron_count(), 1);
    /// let again = memory.observe(Event::order("e-1", ana))?;
    /// assert!(again.is_replay());
    /// assert_eq!(again.patron(), patron);
    /// # drop(memory);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn open(self, dir: impl AsRef<Path>) -> Result<Memory> {
        let journal = FileJournal::open(dir, self.durable.policy)?;
        self.journal(journal).build()
    }
}

impl Memory {
    /// Opens the memory kept in the directory `dir` with the default configuration; see
    /// [`MemoryBuilder::open`].
    ///
    /// ```
    /// use regulars::Memory;
    ///
    /// let dir = std::env::temp_dir().join(format!("regulars-doc-memory-open-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let memory = Memory::open(&dir)?;
    /// assert_eq!(memory.patron_count(), 0);
    /// # drop(memory);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Memory> {
        MemoryBuilder::new().open(dir)
    }

    /// Writes a snapshot of memory at the journal's last seq, which compacts the journal:
    /// older snapshots and the records the snapshot covers are deleted. Opening then
    /// loads the snapshot and replays only what came after it. Returns the snapshot's
    /// seq.
    ///
    /// Memory is encoded whole, so this pauses writes for as long as that, the write
    /// and an fsync take. Errors if memory has no journal
    /// ([`Error::InvalidConfig`]), refuses writes ([`Error::JournalFailed`]), or the
    /// journal fails.
    ///
    /// ```
    /// use regulars::journal::MemoryJournal;
    /// use regulars::{Event, Memory, Order, Signals};
    ///
    /// let mut memory = Memory::builder().journal(MemoryJournal::new()).build()?;
    /// memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// assert_eq!(memory.checkpoint()?, 1);
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn checkpoint(&mut self) -> Result<u64> {
        match &self.durable {
            None => {
                return Err(Error::InvalidConfig(
                    "checkpoint: memory has no journal".to_owned(),
                ));
            }
            Some(durable) => durable.check_writable()?,
        }
        let image = self.snapshot();
        let Some(durable) = &mut self.durable else {
            return Ok(0);
        };
        let seq = durable.journal.last_seq();
        durable.journal.write_snapshot(seq, &image)?;
        durable.since_checkpoint = 0;
        Ok(seq)
    }

    /// Makes every change so far durable, then returns [`durable_seq`](Self::durable_seq).
    /// With the default group commit this waits for one fsync at most; call it before
    /// acknowledging work that must not be lost, or poll `durable_seq` instead.
    ///
    /// A memory without a journal has nothing to sync and returns 0. If the sync fails,
    /// memory may be ahead of the disk, so it refuses writes from then on
    /// ([`Error::JournalFailed`]).
    pub fn sync(&mut self) -> Result<u64> {
        let Some(durable) = &mut self.durable else {
            return Ok(0);
        };
        durable.check_writable()?;
        match durable.journal.sync() {
            Ok(seq) => Ok(seq),
            Err(error) => Err(durable.fail(error)),
        }
    }

    /// The seq of the last change known to be durable: every change journaled up to it
    /// survives a crash of the machine. Compare it with the [`last_seq`](Self::last_seq)
    /// read after a write to acknowledge that write only once it is durable. 0 without a
    /// journal.
    ///
    /// ```
    /// use regulars::journal::SyncPolicy;
    /// use regulars::{Event, Memory, Order, Signals};
    ///
    /// let dir = std::env::temp_dir().join(format!("regulars-doc-durable-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let mut memory = Memory::builder().sync_policy(SyncPolicy::EveryAppend).open(&dir)?;
    /// memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// let seq = memory.last_seq();
    /// assert!(memory.durable_seq() >= seq); // every append is fsynced under this policy
    /// # drop(memory);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn durable_seq(&self) -> u64 {
        self.durable
            .as_ref()
            .map_or(0, |durable| durable.journal.durable_seq())
    }

    /// The seq of the last change journaled (appended, not necessarily durable yet),
    /// counting from the journal's first record. A call that changed nothing (an event
    /// seen before, a failed call) journals nothing and leaves it as it was. 0 without a
    /// journal.
    pub fn last_seq(&self) -> u64 {
        self.durable
            .as_ref()
            .map_or(0, |durable| durable.journal.last_seq())
    }

    /// What opening replayed from the journal: how many records, up to which seq, and any
    /// torn tail a crash left and opening cut off. `None` for a memory without a journal.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.durable.as_ref().map(|durable| &durable.recovery)
    }

    /// Why memory refuses writes, if it does: the journal failure that left memory
    /// possibly ahead of the disk. Writes then fail with [`Error::JournalFailed`] until
    /// memory is reopened from its journal. Calls that cannot return an error
    /// ([`tick`](Self::tick), [`unpin`](Self::unpin)) are refused silently, so check here
    /// after them, or call [`sync`](Self::sync), which reports it.
    pub fn journal_failure(&self) -> Option<&Error> {
        self.durable
            .as_ref()
            .and_then(|durable| durable.failed.as_ref())
    }

    /// Whether memory writes a journal.
    pub(crate) fn has_journal(&self) -> bool {
        self.durable.is_some()
    }

    /// Drops the encoding buffer: its spare capacity may still hold an earlier record's
    /// bytes (an erased person's event).
    pub(crate) fn release_scratch(&mut self) {
        if let Some(durable) = &mut self.durable {
            durable.scratch = Vec::new();
        }
    }

    /// Starts a write: refuses it if memory refuses writes, and encodes its command if
    /// memory is journaled (before anything changes, so an unjournalable command changes
    /// nothing).
    pub(crate) fn begin(&mut self, command: &Command<'_>) -> Result<Option<Pending>> {
        let Some(durable) = &mut self.durable else {
            return Ok(None);
        };
        durable.check_writable()?;
        let mut record = std::mem::take(&mut durable.scratch);
        record.clear();
        command.encode(&mut record)?;
        self.state.decisions.record();
        Ok(Some(Pending(record)))
    }

    /// Finishes a write that succeeded: journals its command if it `changed` memory, and
    /// writes an automatic checkpoint when one is due. If the journal fails, memory
    /// (already changed) refuses writes from now on and the error is returned.
    pub(crate) fn commit(&mut self, pending: Option<Pending>, changed: bool) -> Result<()> {
        let rule_set = self.rule_set();
        let (Some(Pending(mut record)), Some(durable)) = (pending, &mut self.durable) else {
            return Ok(());
        };
        let appended = if changed {
            command::append_recorded(&mut record, &self.state.decisions, rule_set);
            durable.journal.append(&record).map(drop)
        } else {
            Ok(())
        };
        durable.scratch = record;
        if let Err(error) = appended {
            return Err(durable.fail(error));
        }
        if !changed {
            return Ok(());
        }
        durable.since_checkpoint += 1;
        if durable.checkpoint_every == 0 || durable.since_checkpoint < durable.checkpoint_every {
            return Ok(());
        }
        // The record is in the journal; a failed snapshot may have left the journal
        // unusable, so memory stops taking writes rather than find out later.
        let image = self.snapshot();
        let Some(durable) = &mut self.durable else {
            return Ok(());
        };
        let seq = durable.journal.last_seq();
        match durable.journal.write_snapshot(seq, &image) {
            Ok(()) => {
                durable.since_checkpoint = 0;
                Ok(())
            }
            Err(error) => Err(durable.fail(error)),
        }
    }
}

impl Durable {
    fn check_writable(&self) -> Result<()> {
        match &self.failed {
            Some(error) => Err(Error::JournalFailed(Box::new(error.clone()))),
            None => Ok(()),
        }
    }

    /// Records the failure that makes memory refuse writes, and returns it.
    fn fail(&mut self, error: Error) -> Error {
        self.failed.get_or_insert(error).clone()
    }
}
