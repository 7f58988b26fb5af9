//! The default journal: segment and snapshot files in one directory.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::flusher::Shared;
use super::format::{
    self, FRAME_HEADER_LEN, FileKind, SEGMENT_HEADER_LEN, SNAPSHOT_HEADER_LEN, segment_header,
    segment_name, snapshot_header, snapshot_name,
};
use super::fs::{self as jfs, io_error};
use super::reader::{Next, SegmentReader, corrupt, find_valid_frame};
use super::{Journal, Recovery, SyncPolicy, TornTail, check_len, check_snapshot_seq};
use crate::{Error, Result};

const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// The newest segment's frames are kept from opening to the first replay if they take
/// at most this much: a full segment of the default size, with room for the record that
/// took it past that size, unless the record is very large.
const KEEP_CHECKED_FRAMES: usize = DEFAULT_SEGMENT_BYTES as usize + (1 << 20);
/// The largest sequence number a file name may carry.
const MAX_SEQ: u64 = i64::MAX as u64;

/// A [`Journal`] in a directory of checksummed segment and snapshot files.
///
/// See the [module docs](super) for the file format and how recovery treats damage, and
/// [`SyncPolicy`] for when appends become durable. Opening reads the newest segment to the
/// end (truncating a torn tail); older segments are read by [`Journal::replay`]. The
/// newest segment's records, as opening read and checked them, are kept (up to 65 MiB)
/// until the first replay, append or snapshot, so that replay after opening does not
/// read and checksum them again.
///
/// One `FileJournal` per directory: two journals appending to the same directory, in one
/// process or two, corrupt it, and this is not detected.
///
/// ```
/// use std::time::Duration;
/// use regulars::journal::{FileJournal, Journal, SyncPolicy};
///
/// let dir = std::env::temp_dir().join(format!("regulars-doc-file-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let policy = SyncPolicy::GroupCommit { max_delay: Duration::from_millis(2), max_batch: 64 };
/// let mut journal = FileJournal::open(&dir, policy)?;
/// let seq = journal.append(b"an encoded change")?;
/// assert!(journal.durable_seq() <= seq);
/// assert_eq!(journal.sync()?, seq); // durable now, without waiting for the delay
/// assert_eq!(journal.durable_seq(), seq);
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), regulars::Error>(())
/// ```
pub struct FileJournal {
    dir: PathBuf,
    policy: SyncPolicy,
    segment_bytes: u64,
    /// First seqs of the segments on disk, ascending; the last one is appended to.
    segments: Vec<u64>,
    /// Seqs of the snapshots on disk, ascending.
    snapshots: Vec<u64>,
    /// The current segment (also in `shared`, for the flusher), and its path.
    file: Arc<File>,
    path: PathBuf,
    /// Its length, as far as this journal has written it.
    segment_len: u64,
    next_seq: u64,
    /// Encoding buffer reused by every append.
    scratch: Vec<u8>,
    torn_tail: Option<TornTail>,
    /// The newest segment's frames as opening read and checked them, until the first
    /// replay or append: replay hands them out rather than read and checksum the file
    /// again.
    checked_tail: Option<CheckedTail>,
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

/// The good frames of the segment starting at seq `first`, read and checked (length,
/// checksum, seqs one after the other from `first`) when the journal was opened.
struct CheckedTail {
    first: u64,
    frames: Vec<u8>,
}

/// Options for opening a [`FileJournal`]; from [`FileJournal::builder`].
///
/// ```
/// use regulars::journal::{FileJournal, SyncPolicy};
///
/// let dir = std::env::temp_dir().join(format!("regulars-doc-builder-{}", std::process::id()));
/// let journal = FileJournal::builder(&dir)
///     .sync_policy(SyncPolicy::Os)
///     .segment_bytes(8 * 1024 * 1024)
///     .open()?;
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct FileJournalBuilder {
    dir: PathBuf,
    policy: SyncPolicy,
    segment_bytes: u64,
    truncate_at_damage: bool,
}

impl FileJournalBuilder {
    /// When appends become durable; [`SyncPolicy::EveryAppend`] by default.
    pub fn sync_policy(mut self, policy: SyncPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Starts a new segment once the current one holds this many bytes (64 MiB by
    /// default). Smaller segments let compaction delete covered records sooner; opening
    /// reads the newest segment in full, so larger ones make opening slower. A segment
    /// always takes at least one record, whatever its size.
    pub fn segment_bytes(mut self, bytes: u64) -> Self {
        self.segment_bytes = bytes;
        self
    }

    /// Lets opening cut the newest segment at its first damaged record even when valid
    /// records follow the damage, losing them; off by default, when that is an
    /// [`Error::CorruptJournal`].
    ///
    /// For an operator recovering by hand: after a power loss under
    /// [`SyncPolicy::GroupCommit`] or [`SyncPolicy::Os`], a file system may have written
    /// later pages of the unsynced tail but not earlier ones, which looks exactly like
    /// corruption in the middle. The records after the damage were never reported
    /// durable in that case. What was cut is reported in [`FileJournal::torn_tail`].
    pub fn truncate_at_damage(mut self, truncate: bool) -> Self {
        self.truncate_at_damage = truncate;
        self
    }

    /// Opens the journal, creating the directory if it is missing, and recovers: deletes
    /// unfinished temporary files, checks every segment header, reads the newest segment
    /// and truncates a torn tail (see [`FileJournal::torn_tail`]).
    ///
    /// Fails with [`Error::InvalidConfig`] for a group commit with `max_batch` 0, with
    /// [`Error::CorruptJournal`] if the files are damaged beyond a torn tail, and with
    /// [`Error::Io`] if the file system fails.
    pub fn open(self) -> Result<FileJournal> {
        FileJournal::open_with(self)
    }
}

/// The files found in a journal directory.
struct Listing {
    segments: Vec<u64>,
    snapshots: Vec<u64>,
    removed_temps: bool,
}

impl FileJournal {
    /// Opens (or creates) the journal in `dir` with default options; see
    /// [`FileJournalBuilder::open`].
    pub fn open(dir: impl AsRef<Path>, policy: SyncPolicy) -> Result<FileJournal> {
        FileJournal::builder(dir).sync_policy(policy).open()
    }

    /// Options for opening the journal in `dir`.
    pub fn builder(dir: impl AsRef<Path>) -> FileJournalBuilder {
        FileJournalBuilder {
            dir: dir.as_ref().to_path_buf(),
            policy: SyncPolicy::EveryAppend,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            truncate_at_damage: false,
        }
    }

    /// The journal's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The policy appends are made durable by.
    pub fn sync_policy(&self) -> SyncPolicy {
        self.policy
    }

    /// The torn tail truncated when the journal was opened, if any. Every
    /// [`Recovery`] from this journal's replays reports it too.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    fn open_with(options: FileJournalBuilder) -> Result<FileJournal> {
        let FileJournalBuilder {
            dir,
            policy,
            segment_bytes,
            truncate_at_damage,
        } = options;
        if let SyncPolicy::GroupCommit { max_batch: 0, .. } = policy {
            return Err(Error::InvalidConfig(
                "group commit max_batch must be at least 1".into(),
            ));
        }
        jfs::create_dir(&dir)?;
        let Listing {
            mut segments,
            snapshots,
            removed_temps,
        } = list(&dir)?;
        let mut dir_changed = removed_temps;

        let snapshot_seq = match snapshots.last() {
            Some(&seq) => {
                check_snapshot_header(&dir.join(snapshot_name(seq)), seq)?;
                Some(seq)
            }
            None => None,
        };
        for &first in &segments {
            let path = dir.join(segment_name(first));
            let mut file = jfs::open_read(&path)?;
            let len = file
                .metadata()
                .map_err(|e| io_error(&path, "could not read metadata", &e))?
                .len();
            let named = super::reader::read_segment_header(&mut file, &path, len)?;
            if named != first {
                return Err(corrupt(
                    &path,
                    12,
                    format!("header says the first seq is {named}, the file name says {first}"),
                ));
            }
        }

        let mut torn_tail = None;
        let mut checked_tail = None;
        let (mut next_seq, mut segment_len) = match segments.last() {
            Some(&first) => {
                let path = dir.join(segment_name(first));
                let recovered = recover_segment(&path, first, truncate_at_damage)?;
                dir_changed |= recovered.torn.is_some();
                torn_tail = recovered.torn;
                checked_tail = recovered
                    .checked
                    .map(|frames| CheckedTail { first, frames });
                (recovered.next_seq, recovered.len)
            }
            None => (0, 0),
        };
        // A fresh directory, or (only if files were removed by hand) a log that ends
        // before the snapshot: continue after the snapshot in a new segment.
        let resume = snapshot_seq.map_or(1, |seq| seq + 1);
        if segments.is_empty() || next_seq < resume {
            create_segment(&dir, resume)?;
            segments.push(resume);
            next_seq = resume;
            segment_len = SEGMENT_HEADER_LEN as u64;
            dir_changed = true;
        }

        let path = dir.join(segment_name(next_segment_first(&segments)));
        let file = jfs::open_append(&path)?;
        // What a crashed process left in the page cache becomes durable now, so that
        // `durable_seq` can start at the last record.
        file.sync_data()
            .map_err(|e| io_error(&path, "could not fsync", &e))?;
        if dir_changed {
            jfs::sync_dir(&dir)?;
        }
        let file = Arc::new(file);
        let shared = Arc::new(Shared::new(Arc::clone(&file), path.clone(), next_seq - 1));
        let flusher = match policy {
            SyncPolicy::GroupCommit {
                max_delay,
                max_batch,
            } => Some(
                shared
                    .spawn_flusher(max_delay, max_batch)
                    .map_err(|e| io_error(&dir, "could not start the group commit thread", &e))?,
            ),
            _ => None,
        };
        Ok(FileJournal {
            dir,
            policy,
            segment_bytes,
            segments,
            snapshots,
            file,
            path,
            segment_len,
            next_seq,
            scratch: Vec::new(),
            torn_tail,
            checked_tail,
            shared,
            flusher,
        })
    }

    fn check_usable(&self) -> Result<()> {
        match &self.shared.lock().failed {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Records the failure that makes the journal unusable, and returns it.
    fn fail(&self, error: Error) -> Error {
        let mut state = self.shared.lock();
        state.failed.get_or_insert(error).clone()
    }

    /// Whether the current segment holds any record.
    fn segment_has_records(&self) -> bool {
        self.segment_len > SEGMENT_HEADER_LEN as u64
    }

    /// Closes the current segment (fsynced, so a later crash cannot tear it) and starts
    /// a new one at the next seq.
    fn rotate(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| self.fail(io_error(&self.path, "could not fsync", &e)))?;
        let first = self.next_seq;
        create_segment(&self.dir, first)?;
        let path = self.dir.join(segment_name(first));
        let file = Arc::new(jfs::open_append(&path)?);
        {
            let mut state = self.shared.lock();
            state.file = Arc::clone(&file);
            state.path = path.clone();
            // Everything written went to the old segment, which is fsynced.
            state.durable = state.durable.max(state.written);
            state.waiting = 0;
            state.oldest_waiting = None;
        }
        self.file = file;
        self.path = path;
        self.segments.push(first);
        self.segment_len = SEGMENT_HEADER_LEN as u64;
        Ok(())
    }

    /// Deletes snapshots older than `seq` and segments wholly covered by it.
    fn compact(&mut self, seq: u64) -> Result<()> {
        let covered_segments = self
            .segments
            .windows(2)
            .take_while(|pair| pair[1] <= seq.saturating_add(1))
            .count();
        let older_snapshots = self.snapshots.iter().take_while(|&&s| s < seq).count();
        if covered_segments == 0 && older_snapshots == 0 {
            return Ok(());
        }
        // The lists follow the disk even if a deletion fails half-way.
        let mut removed = 0;
        let result = self.segments[..covered_segments]
            .iter()
            .try_for_each(|&first| {
                jfs::remove(&self.dir.join(segment_name(first)))?;
                removed += 1;
                Ok(())
            });
        self.segments.drain(..removed);
        result?;
        let mut removed = 0;
        let result = self.snapshots[..older_snapshots]
            .iter()
            .try_for_each(|&snap| {
                jfs::remove(&self.dir.join(snapshot_name(snap)))?;
                removed += 1;
                Ok(())
            });
        self.snapshots.drain(..removed);
        result?;
        jfs::sync_dir(&self.dir)
    }

    /// Writes the encoded frame in `scratch` to the current segment; on failure, cuts
    /// the segment back so that no partial frame stays in the middle of the log.
    fn write_frame(&mut self) -> Result<()> {
        if let Err(e) = (&*self.file).write_all(&self.scratch) {
            let error = io_error(&self.path, "could not append", &e);
            return match self.file.set_len(self.segment_len) {
                Ok(()) => Err(error),
                Err(undo) => Err(self.fail(io_error(
                    &self.path,
                    &format!("could not append ({e}) nor cut the partial record off"),
                    &undo,
                ))),
            };
        }
        self.segment_len += self.scratch.len() as u64;
        Ok(())
    }
}

impl Journal for FileJournal {
    fn append(&mut self, payload: &[u8]) -> Result<u64> {
        check_len(payload)?;
        self.check_usable()?;
        self.checked_tail = None;
        if self.segment_has_records() && self.segment_len >= self.segment_bytes {
            self.rotate()?;
        }
        let seq = self.next_seq;
        self.scratch.clear();
        format::encode_frame(&mut self.scratch, seq, payload);
        self.write_frame()?;
        self.next_seq += 1;
        let mut state = self.shared.lock();
        state.written = seq;
        match self.policy {
            SyncPolicy::EveryAppend => {
                drop(state);
                self.file
                    .sync_data()
                    .map_err(|e| self.fail(io_error(&self.path, "could not fsync", &e)))?;
                let mut state = self.shared.lock();
                state.durable = state.durable.max(seq);
            }
            SyncPolicy::GroupCommit { max_batch, .. } => {
                self.shared.record_waiting(&mut state, max_batch);
            }
            SyncPolicy::Os => {}
        }
        Ok(seq)
    }

    fn sync(&mut self) -> Result<u64> {
        let (target, file, path) = {
            let mut state = self.shared.lock();
            if let Some(error) = &state.failed {
                return Err(error.clone());
            }
            if state.durable >= state.written {
                return Ok(state.durable);
            }
            // This fsync covers what waits for the flusher.
            state.waiting = 0;
            state.oldest_waiting = None;
            (state.written, Arc::clone(&state.file), state.path.clone())
        };
        file.sync_data()
            .map_err(|e| self.fail(io_error(&path, "could not fsync", &e)))?;
        let mut state = self.shared.lock();
        state.durable = state.durable.max(target);
        Ok(state.durable)
    }

    fn durable_seq(&self) -> u64 {
        self.shared.lock().durable
    }

    fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    fn replay(
        &mut self,
        after_seq: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<Recovery> {
        self.check_usable()?;
        // Whatever this replay reads, the next one reads the files.
        let checked_tail = self.checked_tail.take();
        let mut recovery = Recovery::new(0, after_seq);
        if let Some(torn) = &self.torn_tail {
            recovery = recovery.with_torn_tail(torn.clone());
        }
        if after_seq >= self.last_seq() {
            return Ok(recovery);
        }
        let first_available = self.segments[0];
        if after_seq + 1 < first_available {
            return Err(Error::Compacted {
                after_seq,
                first_available,
            });
        }
        // The segment holding `after_seq + 1`: the last one starting at or before it.
        let start = self
            .segments
            .partition_point(|&first| first <= after_seq + 1)
            - 1;
        for i in start..self.segments.len() {
            let first = self.segments[i];
            let path = self.dir.join(segment_name(first));
            let is_last = i + 1 == self.segments.len();
            if let Some(tail) = checked_tail.as_ref().filter(|tail| {
                is_last
                    && tail.first == first
                    && tail.frames.len() as u64 + SEGMENT_HEADER_LEN as u64 == self.segment_len
            }) {
                replay_checked(&path, tail, after_seq, self.next_seq, visit, &mut recovery)?;
                continue;
            }
            // The current segment is read only as far as this journal wrote it.
            let len = is_last.then_some(self.segment_len);
            let mut reader = SegmentReader::open(&path, first, len)?;
            let mut expected = reader.first_seq();
            loop {
                match reader.next_frame()? {
                    Next::Record {
                        seq,
                        offset,
                        payload,
                    } => {
                        let frame = Frame {
                            seq,
                            offset,
                            payload,
                        };
                        take_frame(&path, frame, &mut expected, after_seq, visit, &mut recovery)?;
                    }
                    Next::End => break,
                    Next::Damaged { offset, reason } => {
                        return Err(corrupt(&path, offset, reason));
                    }
                }
            }
            let next = self.segments.get(i + 1).copied().unwrap_or(self.next_seq);
            check_segment_end(reader.path(), reader.offset(), expected, next)?;
        }
        Ok(recovery)
    }

    fn write_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        self.check_usable()?;
        self.checked_tail = None;
        check_snapshot_seq(seq, self.last_seq(), self.snapshots.last().copied())?;
        // The log is durable up to the snapshot before the snapshot exists, so the
        // segments never end before the newest snapshot.
        self.sync()?;
        let header = snapshot_header(seq, bytes);
        jfs::write_atomically(&self.dir, &snapshot_name(seq), &[&header, bytes])?;
        if self.snapshots.last() != Some(&seq) {
            self.snapshots.push(seq);
        }
        // A new segment, so that the one holding `seq` is wholly covered if `seq` is
        // the last record.
        if self.segment_has_records() {
            self.rotate()?;
        }
        self.compact(seq)
    }

    fn latest_snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        self.check_usable()?;
        let Some(&seq) = self.snapshots.last() else {
            return Ok(None);
        };
        let bytes = read_snapshot(&self.dir.join(snapshot_name(seq)), seq)?;
        // Finishes a compaction a crash interrupted, now that the snapshot is known good.
        self.compact(seq)?;
        Ok(Some((seq, bytes)))
    }
}

impl fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileJournal")
            .field("dir", &self.dir)
            .field("policy", &self.policy)
            .field("last_seq", &self.last_seq())
            .field("durable_seq", &self.durable_seq())
            .field("segments", &self.segments.len())
            .field("snapshot_seq", &self.snapshots.last())
            .finish_non_exhaustive()
    }
}

impl Drop for FileJournal {
    fn drop(&mut self) {
        // The flusher fsyncs what is still waiting before it stops, keeping the group
        // commit promise; an error there can only be seen by calling `sync` first.
        if let Some(flusher) = self.flusher.take() {
            self.shared.shutdown();
            let _ = flusher.join();
        }
    }
}

/// The first seq of the current segment.
fn next_segment_first(segments: &[u64]) -> u64 {
    segments.last().copied().unwrap_or(1)
}

fn list(dir: &Path) -> Result<Listing> {
    let mut listing = Listing {
        segments: Vec::new(),
        snapshots: Vec::new(),
        removed_temps: false,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| io_error(dir, "could not list the directory", &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, "could not list the directory", &e))?;
        let name = entry.file_name();
        // Names the journal did not write are left alone.
        let Some(kind) = name.to_str().and_then(format::classify) else {
            continue;
        };
        match kind {
            FileKind::Segment(first) => listing.segments.push(first),
            FileKind::Snapshot(seq) => listing.snapshots.push(seq),
            FileKind::Temp => {
                // An unfinished snapshot or segment from a crash: the rename never
                // happened, so nothing refers to it.
                jfs::remove(&entry.path())?;
                listing.removed_temps = true;
            }
        }
    }
    // Sequence numbers this large never come from appends (2^63 records); refusing
    // them keeps all seq arithmetic far from overflow, whatever the directory holds.
    let out_of_range = listing
        .segments
        .iter()
        .map(|&s| (s, segment_name(s)))
        .chain(listing.snapshots.iter().map(|&s| (s, snapshot_name(s))))
        .find(|&(seq, _)| seq > MAX_SEQ);
    if let Some((seq, name)) = out_of_range {
        return Err(corrupt(
            &dir.join(name),
            0,
            format!("sequence number {seq} in the file name is out of range"),
        ));
    }
    listing.segments.sort_unstable();
    listing.snapshots.sort_unstable();
    Ok(listing)
}

/// Creates an empty segment starting at `first`, atomically.
fn create_segment(dir: &Path, first: u64) -> Result<()> {
    jfs::write_atomically(dir, &segment_name(first), &[&segment_header(first)])
}

/// Replays the frames of the newest segment as opening read and checked them: the same
/// seq checks as [`FileJournal::replay`] makes on a file, without reading it or working
/// out the checksums again.
fn replay_checked(
    path: &Path,
    tail: &CheckedTail,
    after_seq: u64,
    next_seq: u64,
    visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    recovery: &mut Recovery,
) -> Result<()> {
    let mut expected = tail.first;
    let mut rest = tail.frames.as_slice();
    let mut offset = SEGMENT_HEADER_LEN as u64;
    while !rest.is_empty() {
        let frame = rest
            .split_at_checked(FRAME_HEADER_LEN)
            .and_then(|(header, after)| {
                let header = format::parse_frame_header(header);
                after
                    .split_at_checked(usize::try_from(header.len).ok()?)
                    .map(|(payload, after)| (header.seq, payload, after))
            });
        // Opening checked these frames: only memory changing under us gets here.
        let Some((seq, payload, after)) = frame else {
            return Err(corrupt(
                path,
                offset,
                "frame checked when opening no longer reads",
            ));
        };
        let frame = Frame {
            seq,
            offset,
            payload,
        };
        take_frame(path, frame, &mut expected, after_seq, visit, recovery)?;
        offset += (FRAME_HEADER_LEN + payload.len()) as u64;
        rest = after;
    }
    check_segment_end(path, offset, expected, next_seq)
}

/// One record frame read back from a segment, where it starts in the file.
struct Frame<'a> {
    seq: u64,
    offset: u64,
    payload: &'a [u8],
}

/// Checks that `frame` is the record the sequence expects next and hands it to `visit`
/// when it comes after `after_seq`: one rule for frames read from a file and frames
/// opening already read, so the two replays cannot drift apart.
fn take_frame(
    path: &Path,
    frame: Frame<'_>,
    expected: &mut u64,
    after_seq: u64,
    visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    recovery: &mut Recovery,
) -> Result<()> {
    let Frame {
        seq,
        offset,
        payload,
    } = frame;
    if seq != *expected {
        return Err(corrupt(
            path,
            offset,
            format!("expected the record with seq {expected}, found seq {seq}"),
        ));
    }
    *expected += 1;
    if seq > after_seq {
        visit(seq, payload)?;
        recovery.records += 1;
        recovery.last_seq = seq;
    }
    Ok(())
}

/// A segment must end where the next one (or the journal) continues: a gap means
/// records were lost.
fn check_segment_end(path: &Path, offset: u64, expected: u64, next: u64) -> Result<()> {
    if expected != next {
        return Err(corrupt(
            path,
            offset,
            format!("segment ends before seq {expected}, but the journal continues at seq {next}"),
        ));
    }
    Ok(())
}

/// What opening found in the newest segment.
struct Recovered {
    /// The seq after its last good record.
    next_seq: u64,
    /// The length of its good part.
    len: u64,
    /// What was truncated, if its end was torn.
    torn: Option<TornTail>,
    /// Its good frames as read and checked, if it was small enough to keep them.
    checked: Option<Vec<u8>>,
}

/// Reads the newest segment to its end, truncating a torn tail.
fn recover_segment(path: &Path, first: u64, truncate_at_damage: bool) -> Result<Recovered> {
    let mut reader = SegmentReader::open_whole(path, first, KEEP_CHECKED_FRAMES)?;
    let mut expected = first;
    let damage = loop {
        match reader.next_frame()? {
            Next::Record { seq, offset, .. } => {
                if seq != expected {
                    return Err(corrupt(
                        path,
                        offset,
                        format!("expected the record with seq {expected}, found seq {seq}"),
                    ));
                }
                expected += 1;
            }
            Next::End => {
                let len = reader.offset();
                return Ok(Recovered {
                    next_seq: expected,
                    len,
                    torn: None,
                    checked: reader.into_checked(len),
                });
            }
            Next::Damaged { offset, reason } => break (offset, reason),
        }
    };
    let (offset, reason) = damage;
    let checked = reader.into_checked(offset);
    let file_len = std::fs::metadata(path)
        .map_err(|e| io_error(path, "could not read metadata", &e))?
        .len();
    let mut reason = reason;
    if let Some((valid_at, valid_seq)) = find_valid_frame(path, offset, file_len, expected)? {
        reason = format!(
            "{reason}; a valid record (seq {valid_seq}) follows at byte {valid_at}, \
             so this is not a torn tail"
        );
        if !truncate_at_damage {
            return Err(corrupt(path, offset, reason));
        }
    }
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_error(path, "could not open to truncate the torn tail", &e))?;
    file.set_len(offset)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(path, "could not truncate the torn tail", &e))?;
    let torn = TornTail::new(
        path.display().to_string(),
        offset,
        file_len - offset,
        reason,
    );
    Ok(Recovered {
        next_seq: expected,
        len: offset,
        torn: Some(torn),
        checked,
    })
}

/// Checks a snapshot's header when opening, without reading the body.
fn check_snapshot_header(path: &Path, seq: u64) -> Result<()> {
    let mut file = jfs::open_read(path)?;
    let len = file
        .metadata()
        .map_err(|e| io_error(path, "could not read metadata", &e))?
        .len();
    read_snapshot_header(&mut file, path, len, seq).map(|_| ())
}

/// A snapshot header as stored, and its fields.
type RawSnapshotHeader = ([u8; SNAPSHOT_HEADER_LEN], format::SnapshotHeader);

fn read_snapshot_header(
    file: &mut File,
    path: &Path,
    file_len: u64,
    seq: u64,
) -> Result<RawSnapshotHeader> {
    if file_len < SNAPSHOT_HEADER_LEN as u64 {
        return Err(corrupt(
            path,
            0,
            format!("{file_len} bytes is shorter than the snapshot header"),
        ));
    }
    let mut raw = [0u8; SNAPSHOT_HEADER_LEN];
    file.read_exact(&mut raw)
        .map_err(|e| io_error(path, "could not read the snapshot header", &e))?;
    let header = format::parse_snapshot_header(&raw).map_err(|reason| corrupt(path, 0, reason))?;
    if header.seq != seq {
        return Err(corrupt(
            path,
            12,
            format!("header says seq {}, the file name says {seq}", header.seq),
        ));
    }
    let body = file_len - SNAPSHOT_HEADER_LEN as u64;
    if header.len != body {
        return Err(corrupt(
            path,
            20,
            format!(
                "header says {} bytes follow, the file holds {body}",
                header.len
            ),
        ));
    }
    Ok((raw, header))
}

/// A snapshot is read and checksummed this much at a time (well within a core's cache).
const SNAPSHOT_READ_PIECE: usize = 256 << 10;

/// From this size on a snapshot is read on two threads, half each: the copy out of the
/// page cache, the page faults of the fresh buffer and the checksum are a tenth of
/// opening a large memory, and nothing else runs yet.
const SNAPSHOT_SPLIT_READ_MIN: usize = 2 << 20;

/// Reads and verifies a whole snapshot.
fn read_snapshot(path: &Path, seq: u64) -> Result<Vec<u8>> {
    let mut file = jfs::open_read(path)?;
    let len = file
        .metadata()
        .map_err(|e| io_error(path, "could not read metadata", &e))?
        .len();
    let (raw, header) = read_snapshot_header(&mut file, path, len, seq)?;
    // The length was checked against the file's size, so this allocates no more than
    // the file holds.
    let body_len = usize::try_from(header.len).map_err(|_| {
        corrupt(
            path,
            20,
            "snapshot is larger than this platform can address",
        )
    })?;
    let mut body = vec![0u8; body_len];
    let mut crc = format::snapshot_crc_start(&raw);
    read_checksummed(&file, path, &mut body, &mut crc)?;
    if crc.finalize() != header.crc {
        return Err(corrupt(
            path,
            SNAPSHOT_HEADER_LEN as u64,
            "snapshot checksum mismatch",
        ));
    }
    Ok(body)
}

/// Fills `body` with the snapshot's bytes after its header and feeds them to `crc`: on
/// two threads for a large snapshot (each half checksummed alone, the two checksums
/// combined), on this one otherwise or if a thread cannot be started.
#[cfg(unix)]
fn read_checksummed(
    file: &File,
    path: &Path,
    body: &mut [u8],
    crc: &mut crc32fast::Hasher,
) -> Result<()> {
    if body.len() < SNAPSHOT_SPLIT_READ_MIN {
        return read_at(file, path, body, SNAPSHOT_HEADER_LEN as u64, crc);
    }
    let half = body.len() / 2;
    let (first, second) = body.split_at_mut(half);
    let second_at = (SNAPSHOT_HEADER_LEN + half) as u64;
    // Behind a lock only so that this thread can read it if the other cannot start.
    let second = std::sync::Mutex::new(second);
    let read_second = || {
        let mut second_crc = crc32fast::Hasher::new();
        let mut second = second
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        read_at(file, path, &mut second, second_at, &mut second_crc).map(|()| second_crc)
    };
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("regulars-snapshot-read".to_owned())
            .spawn_scoped(scope, read_second);
        read_at(file, path, first, SNAPSHOT_HEADER_LEN as u64, crc)?;
        let second_crc = match other {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
            Err(_) => read_second()?,
        };
        crc.combine(&second_crc);
        Ok(())
    })
}

/// Reads `into` from the file at byte `offset`, a piece at a time, checksumming each
/// piece while it is still in cache rather than in a second pass over the whole image.
#[cfg(unix)]
fn read_at(
    file: &File,
    path: &Path,
    into: &mut [u8],
    offset: u64,
    crc: &mut crc32fast::Hasher,
) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let mut at = offset;
    for piece in into.chunks_mut(SNAPSHOT_READ_PIECE) {
        file.read_exact_at(piece, at)
            .map_err(|e| io_error(path, "could not read the snapshot", &e))?;
        crc.update(piece);
        at += piece.len() as u64;
    }
    Ok(())
}

/// Fills `body` with the snapshot's bytes after its header (where the file is read up
/// to) and feeds them to `crc`, a piece at a time.
#[cfg(not(unix))]
fn read_checksummed(
    mut file: &File,
    path: &Path,
    body: &mut [u8],
    crc: &mut crc32fast::Hasher,
) -> Result<()> {
    let _ = SNAPSHOT_SPLIT_READ_MIN;
    for piece in body.chunks_mut(SNAPSHOT_READ_PIECE) {
        file.read_exact(piece)
            .map_err(|e| io_error(path, "could not read the snapshot", &e))?;
        crc.update(piece);
    }
    Ok(())
}
