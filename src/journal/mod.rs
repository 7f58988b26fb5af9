//! Durable storage of memory's changes: an ordered, checksummed log and snapshots.
//!
//! The journal does not know what it stores: the memory layer encodes every change into
//! bytes, [`Journal::append`]s them and gets a sequence number back; after a restart it
//! loads the [latest snapshot](Journal::latest_snapshot) and
//! [replays](Journal::replay) the records after it. [`Journal`] is the plugin trait (an
//! embedding product can keep the log in its own store); [`FileJournal`] is the default,
//! a directory of files; [`MemoryJournal`] keeps everything in memory, for tests and as a
//! small reference implementation to copy.
//!
//! # Sequence numbers
//!
//! The first record is seq 1; each append gets the next number, with no gaps, across
//! reopening, torn-tail recovery and compaction. A snapshot at seq `s` stands for every
//! record up to and including `s`; replay after it with `replay(s, ..)`.
//!
//! # Durability
//!
//! [`SyncPolicy`] says when an appended record reaches stable storage; each variant
//! documents its exact guarantee. [`Journal::durable_seq`] tells how far that is true right
//! now, and [`Journal::sync`] makes everything appended durable before it returns.
//!
//! # Erasing data from disk
//!
//! [`Journal::write_snapshot`] compacts: records covered by the snapshot are deleted from
//! storage together with older snapshots. A snapshot at [`Journal::last_seq`] leaves no
//! record of the past on disk, only the new snapshot: that is how an erase reaches the
//! disk. (Deleting a file frees its blocks; it does not overwrite them. Use an encrypted
//! file system if freed blocks must be unreadable too.)
//!
//! # The file format of [`FileJournal`]
//!
//! A journal directory holds segments `journal-<first seq, 20 digits>.log` and snapshots
//! `snapshot-<seq, 20 digits>.snap`; files ending in `.tmp` are unfinished writes and are
//! deleted when the journal is opened; other files are left alone. All integers are
//! little-endian. On Unix, files are created with mode 0600, and a missing directory
//! with 0700 (an existing one keeps its mode).
//!
//! | file | layout |
//! |---|---|
//! | segment header (24 bytes) | magic `RGLRSLOG`, format version `u32` (1), first seq `u64`, CRC-32 of the 20 bytes before it |
//! | record frame (16 + n bytes) | payload length `u32`, seq `u64`, CRC-32 of those 12 bytes and the payload, the payload |
//! | snapshot (32 + n bytes) | magic `RGLRSNAP`, format version `u32` (1), seq `u64`, length `u64`, CRC-32 of bytes 8..28 and the body, the body |
//!
//! A record is at most [`MAX_RECORD_BYTES`]. Segments are rotated once they pass a size
//! ([`FileJournalBuilder::segment_bytes`], 64 MiB by default) and at a snapshot if the
//! current segment holds records.
//!
//! # Recovery
//!
//! Opening a [`FileJournal`] reads the newest segment to the end. If the last frames are
//! damaged and *no valid frame follows the damage* (a frame cut short, a header running
//! past the end of the file, zeros or garbage to the end), that is a torn write from a
//! crash: the segment is truncated to its last good record and the dropped bytes are
//! reported in [`Recovery::torn_tail`]. If a valid frame does follow, truncating would lose
//! records, so opening fails with [`Error::CorruptJournal`](crate::Error::CorruptJournal)
//! naming the file and byte offset. (After a power loss under a policy that had not
//! fsynced the tail, a file system can leave exactly that: later pages written, earlier
//! ones not. Such records were never reported durable; an operator can drop them with
//! [`FileJournalBuilder::truncate_at_damage`].) Older segments were fsynced when they were closed, so
//! any damage in them is corruption; [`Journal::replay`] reports it the same way, and also
//! refuses gaps and out-of-order sequence numbers. Nothing is ever skipped silently.
//!
//! ```
//! use regulars::journal::{FileJournal, Journal, SyncPolicy};
//!
//! let dir = std::env::temp_dir().join(format!("regulars-doc-journal-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! {
//!     let mut journal = FileJournal::open(&dir, SyncPolicy::EveryAppend)?;
//!     assert_eq!(journal.append(b"ana booked hamlet")?, 1);
//!     assert_eq!(journal.append(b"ana scanned in")?, 2);
//!     journal.write_snapshot(2, b"state after 2")?;
//!     journal.append(b"ben booked lear")?;
//! }
//! // After a restart: the snapshot, then the records after it.
//! let mut journal = FileJournal::open(&dir, SyncPolicy::EveryAppend)?;
//! let (seq, state) = journal.latest_snapshot()?.expect("a snapshot was written");
//! assert_eq!((seq, state.as_slice()), (2, &b"state after 2"[..]));
//! let mut replayed = Vec::new();
//! let recovery = journal.replay(seq, &mut |seq, payload| {
//!     replayed.push((seq, payload.to_vec()));
//!     Ok(())
//! })?;
//! assert_eq!(replayed, vec![(3, b"ben booked lear".to_vec())]);
//! assert_eq!(recovery.records(), 1);
//! assert_eq!(journal.append(b"next")?, 4);
//! # drop(journal);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), regulars::Error>(())
//! ```

use std::fmt;
use std::time::Duration;

use crate::Result;

mod file;
mod flusher;
mod format;
mod fs;
mod memory;
mod reader;

pub use file::{FileJournal, FileJournalBuilder};
pub use memory::MemoryJournal;

/// The largest record a journal takes: 64 MiB. Larger appends fail with
/// [`Error::RecordTooLarge`](crate::Error::RecordTooLarge); on reading, a larger length
/// field is treated as damage, so a corrupt file cannot make the reader allocate more.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// An ordered log of opaque records with snapshots: where memory's changes are stored.
///
/// Object-safe, so an embedding product can keep the log in its own store and hand
/// memory a `Box<dyn Journal>`. An implementation must keep these promises:
///
/// - [`append`](Journal::append) numbers records 1, 2, 3, … with no gaps, continuing
///   after reopening and compaction;
/// - [`replay`](Journal::replay) hands back exactly the bytes appended, in order, and
///   fails rather than skip a record it cannot read;
/// - after [`write_snapshot`](Journal::write_snapshot) at seq `s` returns, the snapshot is
///   durable and records up to `s` may be gone (they must be gone if they were all
///   covered — erase depends on it);
/// - a method that returns an error may leave the journal unusable (later calls fail
///   too), but never makes it lie about what is durable.
///
/// `Send + Sync` so that a memory holding one can be shared between threads behind a
/// lock; a store whose handle is not `Sync` can be wrapped in a `Mutex`.
///
/// ```
/// use regulars::journal::{Journal, MemoryJournal};
///
/// fn record_all(journal: &mut dyn Journal, changes: &[&[u8]]) -> regulars::Result<u64> {
///     for change in changes {
///         journal.append(change)?;
///     }
///     journal.sync() // durable before we acknowledge
/// }
///
/// let mut journal = MemoryJournal::new();
/// assert_eq!(record_all(&mut journal, &[b"one", b"two"])?, 2);
/// let mut seen = Vec::new();
/// journal.replay(0, &mut |seq, bytes| {
///     seen.push((seq, bytes.to_vec()));
///     Ok(())
/// })?;
/// assert_eq!(seen, vec![(1, b"one".to_vec()), (2, b"two".to_vec())]);
/// # Ok::<(), regulars::Error>(())
/// ```
pub trait Journal: Send + Sync + fmt::Debug {
    /// Appends one record and returns its sequence number. When the record is durable
    /// depends on the implementation (for [`FileJournal`], on its [`SyncPolicy`]).
    ///
    /// Fails with [`Error::RecordTooLarge`](crate::Error::RecordTooLarge) for a payload
    /// over [`MAX_RECORD_BYTES`], or with an I/O error; a failed append takes no seq.
    fn append(&mut self, payload: &[u8]) -> Result<u64>;

    /// Makes every appended record durable; returns the last durable seq (which is
    /// [`last_seq`](Journal::last_seq)).
    fn sync(&mut self) -> Result<u64>;

    /// The highest seq known to be durable: every record up to it survives a power loss.
    /// Never more than [`last_seq`](Journal::last_seq).
    fn durable_seq(&self) -> u64;

    /// The seq of the last appended record; 0 if there never was one. After compaction
    /// this still counts the compacted records.
    fn last_seq(&self) -> u64;

    /// Reads every record with a seq above `after_seq`, in order, handing each to `visit`
    /// as `(seq, payload)`. The payload slice is only valid during the call. An error from
    /// `visit` stops the replay and is returned.
    ///
    /// Fails with [`Error::Compacted`](crate::Error::Compacted) if records after
    /// `after_seq` were compacted away (replay after the latest snapshot's seq instead),
    /// and with [`Error::CorruptJournal`](crate::Error::CorruptJournal) if a record
    /// cannot be read; records before it have been visited by then.
    fn replay(
        &mut self,
        after_seq: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<Recovery>;

    /// Stores `bytes` as the state after every record up to and including `seq`, durably,
    /// then compacts: deletes older snapshots and every record the snapshot covers that
    /// can be deleted (for [`FileJournal`], whole segments; a snapshot at
    /// [`last_seq`](Journal::last_seq) leaves no older record on disk).
    ///
    /// Fails with [`Error::InvalidSnapshotSeq`](crate::Error::InvalidSnapshotSeq) if
    /// `seq` is beyond the last record or before the latest snapshot. A snapshot at the
    /// latest snapshot's seq replaces it (after an erase, for example).
    fn write_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()>;

    /// The newest snapshot as `(seq, bytes)`, checksum verified, or `None` if there is
    /// none. A damaged snapshot is an error naming it, never a silent fallback. Memory
    /// relies on this check: it does not checksum the bytes a journal hands back again.
    fn latest_snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>>;
}

// Compile-time check that `Journal` stays object-safe.
const _: Option<&dyn Journal> = None;

impl<J: Journal + ?Sized> Journal for Box<J> {
    fn append(&mut self, payload: &[u8]) -> Result<u64> {
        (**self).append(payload)
    }
    fn sync(&mut self) -> Result<u64> {
        (**self).sync()
    }
    fn durable_seq(&self) -> u64 {
        (**self).durable_seq()
    }
    fn last_seq(&self) -> u64 {
        (**self).last_seq()
    }
    fn replay(
        &mut self,
        after_seq: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<Recovery> {
        (**self).replay(after_seq, visit)
    }
    fn write_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        (**self).write_snapshot(seq, bytes)
    }
    fn latest_snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        (**self).latest_snapshot()
    }
}

/// When appended records reach stable storage (fsync) in a [`FileJournal`].
///
/// Every policy hands each record to the operating system before `append` returns, so
/// under every policy an appended record survives a crash of the *process*. They differ
/// in when it survives a crash of the *machine* (power loss, kernel panic).
/// [`Journal::sync`] fsyncs at once under any policy, and [`Journal::write_snapshot`]
/// syncs the log before writing the snapshot.
///
/// ```
/// use std::time::Duration;
/// use regulars::journal::SyncPolicy;
///
/// // Each record durable about 5 ms after its append; an fsync starts early once 256 wait.
/// let policy = SyncPolicy::GroupCommit { max_delay: Duration::from_millis(5), max_batch: 256 };
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// fsync before every `append` returns: a returned seq survives a power loss.
    /// The slowest policy: one fsync (typically 0.1–10 ms) per record.
    EveryAppend,
    /// Batched fsync with a bounded delay: `append` returns without waiting for the disk,
    /// and a background thread fsyncs.
    ///
    /// Guarantee: a record survives a power loss once [`Journal::durable_seq`] reaches its
    /// seq. The thread starts an fsync no later than `max_delay` after the oldest record
    /// not yet fsynced was appended — whether or not more appends come — or as soon as
    /// `max_batch` records are waiting, and as soon as the fsync before it is finished if
    /// one is running; so a record is durable within `max_delay` plus at most two fsync
    /// durations. A record whose durability matters *now* can be followed by
    /// [`Journal::sync`]. Dropping the journal fsyncs what is still waiting.
    ///
    /// If an fsync fails, the journal stops: `durable_seq` no longer advances and every
    /// later call returns the error (the kernel may have dropped the unsynced pages, so
    /// retrying could report success for lost data). Reopen to continue from disk.
    GroupCommit {
        /// Longest time a record waits for its fsync to start.
        max_delay: Duration,
        /// Number of waiting records that starts an fsync before `max_delay` is up;
        /// at least 1.
        max_batch: usize,
    },
    /// Never fsync on append: durability is left to the operating system's page cache,
    /// which usually writes back within about 30 seconds. A record survives a crash of
    /// the process, not a power loss, until an explicit [`Journal::sync`], a snapshot or a
    /// segment rotation fsyncs it. [`Journal::durable_seq`] reports only those fsyncs.
    Os,
}

/// What a [`Journal::replay`] read, and what recovery had to drop when the journal was
/// opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    records: u64,
    last_seq: u64,
    torn_tail: Option<TornTail>,
}

impl Recovery {
    /// A report of `records` records read, the last being `last_seq` (the replay's
    /// `after_seq` if there were none). For [`Journal`] implementations.
    pub fn new(records: u64, last_seq: u64) -> Recovery {
        Recovery {
            records,
            last_seq,
            torn_tail: None,
        }
    }

    /// Adds what was truncated from a torn tail when the journal was opened.
    #[must_use]
    pub fn with_torn_tail(mut self, torn_tail: TornTail) -> Recovery {
        self.torn_tail = Some(torn_tail);
        self
    }

    /// How many records were handed to the visitor.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The seq of the last record read, or the replay's `after_seq` if none was.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The torn tail truncated when the journal was opened, if there was one.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// Bytes dropped from a torn tail when the journal was opened; 0 if none.
    pub fn truncated_bytes(&self) -> u64 {
        self.torn_tail.as_ref().map_or(0, TornTail::bytes)
    }
}

/// The incomplete end of a segment, left by a crash during a write and truncated when the
/// journal was opened. Those bytes never formed a complete record, so no appended record
/// that was durable is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    file: String,
    offset: u64,
    bytes: u64,
    reason: String,
}

impl TornTail {
    /// A torn tail of `bytes` bytes at `offset` in `file`, for `reason`. For [`Journal`]
    /// implementations.
    pub fn new(
        file: impl Into<String>,
        offset: u64,
        bytes: u64,
        reason: impl Into<String>,
    ) -> TornTail {
        TornTail {
            file: file.into(),
            offset,
            bytes,
            reason: reason.into(),
        }
    }

    /// The segment that was truncated.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Where the segment was cut: the end of its last good record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many bytes were dropped.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// What was wrong with the first dropped byte's frame.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: dropped {} bytes of torn tail at byte {} ({})",
            self.file, self.bytes, self.offset, self.reason
        )
    }
}

/// Checks a payload against [`MAX_RECORD_BYTES`].
fn check_len(payload: &[u8]) -> Result<()> {
    if payload.len() > MAX_RECORD_BYTES {
        return Err(crate::Error::RecordTooLarge {
            len: payload.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    Ok(())
}

/// Checks a snapshot's seq against the journal's last record and latest snapshot.
fn check_snapshot_seq(seq: u64, last_seq: u64, latest: Option<u64>) -> Result<()> {
    if seq > last_seq {
        return Err(crate::Error::InvalidSnapshotSeq {
            seq,
            reason: format!("the journal's last record is seq {last_seq}"),
        });
    }
    if let Some(latest) = latest.filter(|&latest| seq < latest) {
        return Err(crate::Error::InvalidSnapshotSeq {
            seq,
            reason: format!("older than the latest snapshot, at seq {latest}"),
        });
    }
    Ok(())
}
