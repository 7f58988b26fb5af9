//! The journal through its public API: records come back as appended, sequence numbers
//! continue across restarts and compaction, a torn tail is cut off, corruption anywhere
//! else is an error naming the file and offset, and compaction removes data from disk.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
mod common;

use common::TempDir;
use regulars::Error;
use regulars::journal::{
    FileJournal, Journal, MAX_RECORD_BYTES, MemoryJournal, Recovery, SyncPolicy,
};

// ---------------------------------------------------------------- helpers

const FRAME_HEADER: u64 = 16;
const SEGMENT_HEADER: u64 = 24;
const FIRST_SEGMENT: &str = "journal-00000000000000000001.log";

fn group_commit(max_delay: Duration, max_batch: usize) -> SyncPolicy {
    SyncPolicy::GroupCommit {
        max_delay,
        max_batch,
    }
}

fn all_policies() -> Vec<SyncPolicy> {
    vec![
        SyncPolicy::EveryAppend,
        group_commit(Duration::from_millis(2), 16),
        SyncPolicy::Os,
    ]
}

/// A payload of `len` bytes that names its record, so a mix-up shows.
fn payload(i: u64, len: usize) -> Vec<u8> {
    let tag = format!("<record {i}>");
    tag.bytes().cycle().take(len).collect()
}

fn open(dir: &Path) -> Result<FileJournal, Error> {
    FileJournal::open(dir, SyncPolicy::Os)
}

/// Every record after `after`, and the replay's report.
/// Records as replayed: `(seq, payload)`.
type Records = Vec<(u64, Vec<u8>)>;

fn replay(journal: &mut dyn Journal, after: u64) -> Result<(Records, Recovery), Error> {
    let mut records = Vec::new();
    let recovery = journal.replay(after, &mut |seq, bytes| {
        records.push((seq, bytes.to_vec()));
        Ok(())
    })?;
    Ok((records, recovery))
}

fn seqs(records: &[(u64, Vec<u8>)]) -> Vec<u64> {
    records.iter().map(|(seq, _)| *seq).collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn segments(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with("journal-") && n.ends_with(".log"))
        .collect()
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).expect("read file");
    bytes[offset as usize] ^= 0x5a;
    fs::write(path, bytes).expect("write file");
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).expect("metadata").len()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Writes `count` records of `len` bytes each; returns the offset of every record.
fn write_records(dir: &Path, count: u64, len: usize) -> Vec<u64> {
    let mut journal = open(dir).expect("open");
    let segment = dir.join(FIRST_SEGMENT);
    let mut offsets = Vec::new();
    for i in 1..=count {
        offsets.push(file_len(&segment));
        assert_eq!(journal.append(&payload(i, len)).expect("append"), i);
    }
    offsets
}

/// Waits up to a generous deadline for `done`; a liveness check, not a timing one.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    done()
}

fn assert_corrupt(error: Error, file: &str, offset: u64) {
    match &error {
        Error::CorruptJournal {
            file: f, offset: o, ..
        } => {
            assert!(f.ends_with(file), "{error} should name {file}");
            assert_eq!(*o, offset, "{error}");
            let message = error.to_string();
            assert!(message.contains(file), "{message}");
            assert!(message.contains(&format!("byte {offset}")), "{message}");
        }
        other => panic!("expected CorruptJournal in {file} at {offset}, got {other:?}"),
    }
}

// ---------------------------------------------------------------- both implementations

/// What every `Journal` promises, checked on a fresh journal.
fn conformance(journal: &mut dyn Journal) {
    assert_eq!((journal.last_seq(), journal.durable_seq()), (0, 0));
    assert_eq!(journal.latest_snapshot().expect("no snapshot"), None);
    let sizes = [0usize, 1, 15, 16, 17, 100, 4096, 70_000];
    let mut appended = Vec::new();
    for i in 1..=40u64 {
        let bytes = payload(i, sizes[i as usize % sizes.len()]);
        assert_eq!(journal.append(&bytes).expect("append"), i);
        appended.push((i, bytes));
    }
    assert_eq!(journal.sync().expect("sync"), 40);
    assert_eq!(journal.durable_seq(), 40);

    let (all, recovery) = replay(journal, 0).expect("replay all");
    assert_eq!(all, appended);
    assert_eq!((recovery.records(), recovery.last_seq()), (40, 40));
    let (tail, recovery) = replay(journal, 25).expect("replay tail");
    assert_eq!(tail, appended[25..]);
    assert_eq!(recovery.records(), 15);
    let (none, recovery) = replay(journal, 40).expect("replay nothing");
    assert!(none.is_empty());
    assert_eq!((recovery.records(), recovery.last_seq()), (0, 40));
    assert!(
        replay(journal, u64::MAX)
            .expect("replay nothing")
            .0
            .is_empty()
    );

    // A visitor's error stops the replay and comes back unchanged.
    let mut visited = 0;
    let stop = Error::InvalidConfig("stop".into());
    let err = journal
        .replay(0, &mut |seq, _| {
            visited += 1;
            if seq == 3 { Err(stop.clone()) } else { Ok(()) }
        })
        .expect_err("visitor stops replay");
    assert_eq!((err, visited), (stop, 3));

    // Snapshots: in the future or behind the latest one are refused.
    assert!(matches!(
        journal.write_snapshot(41, b"future"),
        Err(Error::InvalidSnapshotSeq { seq: 41, .. })
    ));
    journal
        .write_snapshot(30, b"state at 30")
        .expect("snapshot");
    assert!(matches!(
        journal.write_snapshot(29, b"older"),
        Err(Error::InvalidSnapshotSeq { seq: 29, .. })
    ));
    assert_eq!(
        journal.latest_snapshot().expect("snapshot"),
        Some((30, b"state at 30".to_vec()))
    );
    let (after, _) = replay(journal, 30).expect("replay after snapshot");
    assert_eq!(after, appended[30..]);

    // A snapshot at the last record leaves nothing before it; seqs continue.
    journal
        .write_snapshot(40, b"state at 40")
        .expect("snapshot");
    assert!(matches!(
        replay(journal, 0),
        Err(Error::Compacted {
            after_seq: 0,
            first_available: 41
        })
    ));
    assert_eq!(journal.append(b"after").expect("append"), 41);
    let (after, _) = replay(journal, 40).expect("replay");
    assert_eq!(after, vec![(41, b"after".to_vec())]);

    // Too large a record is refused and takes no seq.
    let huge = vec![0u8; MAX_RECORD_BYTES + 1];
    assert!(matches!(
        journal.append(&huge),
        Err(Error::RecordTooLarge { len, max }) if len == MAX_RECORD_BYTES + 1 && max == MAX_RECORD_BYTES
    ));
    assert_eq!(journal.append(b"next").expect("append"), 42);
}

#[test]
fn memory_journal_keeps_the_journal_promises() {
    conformance(&mut MemoryJournal::new());
    conformance(&mut MemoryJournal::default());
}

#[test]
fn file_journal_keeps_the_journal_promises_under_every_policy() {
    for policy in all_policies() {
        let dir = TempDir::new("conformance");
        let mut journal: Box<dyn Journal> =
            Box::new(FileJournal::open(dir.path(), policy).expect("open"));
        conformance(&mut journal);
    }
}

#[test]
fn debug_output_shows_no_record_bytes() {
    let mut memory = MemoryJournal::new();
    memory.append(b"ana.silva@example.org").expect("append");
    let dir = TempDir::new("debug");
    let mut file = open(dir.path()).expect("open");
    file.append(b"ana.silva@example.org").expect("append");
    for debug in [format!("{memory:?}"), format!("{file:?}")] {
        assert!(!debug.contains("ana"), "{debug}");
        assert!(debug.contains("last_seq: 1"), "{debug}");
    }
}

// ---------------------------------------------------------------- reopening

#[test]
fn records_and_seqs_survive_reopening_under_every_policy() {
    for policy in all_policies() {
        let dir = TempDir::new("reopen");
        {
            let mut journal = FileJournal::open(dir.path(), policy).expect("open");
            for i in 1..=10 {
                assert_eq!(journal.append(&payload(i, 50)).expect("append"), i);
            }
        }
        let mut journal = FileJournal::open(dir.path(), policy).expect("reopen");
        assert_eq!(journal.last_seq(), 10);
        // What a closed journal left is durable once it is opened again.
        assert_eq!(journal.durable_seq(), 10);
        assert_eq!(journal.append(b"eleven").expect("append"), 11);
        drop(journal);
        let mut journal = FileJournal::open(dir.path(), policy).expect("reopen");
        let (records, recovery) = replay(&mut journal, 0).expect("replay");
        assert_eq!(seqs(&records), (1..=11).collect::<Vec<_>>(), "{policy:?}");
        assert_eq!(records[4].1, payload(5, 50));
        assert_eq!(records[10].1, b"eleven");
        assert_eq!(recovery.truncated_bytes(), 0);
        assert!(journal.torn_tail().is_none());
    }
}

#[test]
fn opening_creates_missing_directories() {
    let dir = TempDir::new("nested");
    let nested = dir.path().join("a").join("b");
    let mut journal = open(&nested).expect("open");
    journal.append(b"x").expect("append");
    assert_eq!(segments(&nested), vec![FIRST_SEGMENT]);
}

#[test]
fn segments_rotate_and_replay_across_them() {
    let dir = TempDir::new("rotate");
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::Os)
            .segment_bytes(1000)
            .open()
            .expect("open");
        for i in 1..=100 {
            journal.append(&payload(i, 100)).expect("append");
        }
    }
    assert!(segments(dir.path()).len() >= 10, "{:?}", names(dir.path()));
    let mut journal = open(dir.path()).expect("reopen");
    let (records, _) = replay(&mut journal, 0).expect("replay");
    assert_eq!(seqs(&records), (1..=100).collect::<Vec<_>>());
    let (records, _) = replay(&mut journal, 57).expect("replay from the middle");
    assert_eq!(seqs(&records), (58..=100).collect::<Vec<_>>());
    assert_eq!(records[0].1, payload(58, 100));
    assert_eq!(journal.append(b"more").expect("append"), 101);
}

#[test]
fn a_missing_segment_is_refused_not_skipped() {
    let dir = TempDir::new("gap");
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::Os)
            .segment_bytes(500)
            .open()
            .expect("open");
        for i in 1..=30 {
            journal.append(&payload(i, 100)).expect("append");
        }
    }
    let all = segments(dir.path());
    assert!(all.len() >= 3);
    fs::remove_file(dir.path().join(&all[1])).expect("remove a middle segment");
    let mut journal = open(dir.path()).expect("open reads only the newest segment");
    let error = replay(&mut journal, 0).expect_err("gap");
    let Error::CorruptJournal { file, reason, .. } = &error else {
        panic!("expected CorruptJournal, got {error:?}");
    };
    assert!(file.ends_with(&all[0]), "{error}");
    assert!(reason.contains("continues at seq"), "{error}");
}

// ---------------------------------------------------------------- torn tails

#[test]
fn a_torn_last_record_is_truncated_at_every_byte() {
    let source = TempDir::new("torn-source");
    let offsets = write_records(source.path(), 5, 100);
    let full = fs::read(source.path().join(FIRST_SEGMENT)).expect("read");
    let last = offsets[4];
    assert_eq!(full.len() as u64, last + FRAME_HEADER + 100);
    for cut in last..full.len() as u64 {
        let dir = TempDir::new("torn");
        fs::create_dir_all(dir.path()).expect("mkdir");
        let segment = dir.path().join(FIRST_SEGMENT);
        fs::write(&segment, &full[..cut as usize]).expect("write cut file");

        let mut journal = open(dir.path()).expect("a torn tail opens");
        assert_eq!(journal.last_seq(), 4, "cut at {cut}");
        let (records, recovery) = replay(&mut journal, 0).expect("replay");
        assert_eq!(seqs(&records), vec![1, 2, 3, 4], "cut at {cut}");
        assert_eq!(recovery.truncated_bytes(), cut - last, "cut at {cut}");
        if cut > last {
            let torn = recovery.torn_tail().expect("torn tail reported");
            assert_eq!(torn.offset(), last);
            assert!(torn.file().ends_with(FIRST_SEGMENT));
            assert!(!torn.reason().is_empty());
        }
        assert_eq!(
            file_len(&segment),
            last,
            "truncated to the last good record"
        );

        // Appending continues at the right seq, and the file reads back cleanly.
        assert_eq!(journal.append(b"after the crash").expect("append"), 5);
        drop(journal);
        let mut journal = open(dir.path()).expect("reopen");
        let (records, recovery) = replay(&mut journal, 0).expect("replay");
        assert_eq!(seqs(&records), vec![1, 2, 3, 4, 5]);
        assert_eq!(records[4].1, b"after the crash");
        assert_eq!(recovery.truncated_bytes(), 0);
    }
}

#[test]
fn a_zero_filled_tail_is_truncated() {
    let dir = TempDir::new("zeros");
    write_records(dir.path(), 3, 100);
    let segment = dir.path().join(FIRST_SEGMENT);
    let good = file_len(&segment);
    // A crash after the file grew but before the data reached the disk reads as zeros.
    OpenOptions::new()
        .append(true)
        .open(&segment)
        .and_then(|mut f| f.write_all(&[0u8; 4096]))
        .expect("append zeros");

    let mut journal = open(dir.path()).expect("open");
    assert_eq!(journal.torn_tail().map(|t| t.bytes()), Some(4096));
    assert_eq!(file_len(&segment), good);
    assert_eq!(journal.append(b"four").expect("append"), 4);
    drop(journal);
    let mut journal = open(dir.path()).expect("reopen");
    let (records, _) = replay(&mut journal, 0).expect("replay");
    assert_eq!(seqs(&records), vec![1, 2, 3, 4]);
}

#[test]
fn a_garbage_last_frame_is_truncated() {
    let dir = TempDir::new("garbage");
    write_records(dir.path(), 3, 100);
    let segment = dir.path().join(FIRST_SEGMENT);
    let good = file_len(&segment);
    // A plausible header (length 40, seq 4) with a wrong checksum, and its 40 bytes.
    let mut frame = Vec::new();
    frame.extend_from_slice(&40u32.to_le_bytes());
    frame.extend_from_slice(&4u64.to_le_bytes());
    frame.extend_from_slice(&0xdead_beefu32.to_le_bytes());
    frame.extend_from_slice(&[0xab; 40]);
    OpenOptions::new()
        .append(true)
        .open(&segment)
        .and_then(|mut f| f.write_all(&frame))
        .expect("append garbage");

    let mut journal = open(dir.path()).expect("open");
    let (records, recovery) = replay(&mut journal, 0).expect("replay");
    assert_eq!(seqs(&records), vec![1, 2, 3]);
    assert_eq!(recovery.truncated_bytes(), frame.len() as u64);
    assert_eq!(file_len(&segment), good);
}

#[test]
fn a_huge_length_in_the_last_frame_is_a_torn_tail_and_allocates_nothing() {
    let dir = TempDir::new("huge-tail");
    let offsets = write_records(dir.path(), 3, 100);
    let segment = dir.path().join(FIRST_SEGMENT);
    let mut bytes = fs::read(&segment).expect("read");
    let last = offsets[2] as usize;
    bytes[last..last + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&segment, &bytes).expect("write");

    let mut journal = open(dir.path()).expect("open");
    let (records, recovery) = replay(&mut journal, 0).expect("replay");
    assert_eq!(seqs(&records), vec![1, 2]);
    assert_eq!(recovery.truncated_bytes(), FRAME_HEADER + 100);
    assert!(
        recovery
            .torn_tail()
            .expect("torn")
            .reason()
            .contains("limit")
    );
}

// ---------------------------------------------------------------- corruption

#[test]
fn a_flipped_byte_in_an_early_record_is_an_error_with_file_and_offset() {
    // A byte of the payload, of the seq, of the checksum, and of the length field.
    for within in [FRAME_HEADER + 10, 6, 13, 0, 3] {
        let dir = TempDir::new("flip");
        let offsets = write_records(dir.path(), 10, 100);
        let segment = dir.path().join(FIRST_SEGMENT);
        let before = fs::read(&segment).expect("read");
        flip_byte(&segment, offsets[2] + within);

        let error = open(dir.path()).expect_err("corruption in the middle");
        assert_corrupt(error, FIRST_SEGMENT, offsets[2]);
        // Refusing changed nothing on disk.
        let mut after = fs::read(&segment).expect("read");
        after[(offsets[2] + within) as usize] ^= 0x5a;
        assert_eq!(after, before, "flip at +{within}");
    }
}

#[test]
fn the_first_replay_hands_out_the_newest_segment_as_opening_checked_it() {
    // Opening reads and checks the newest segment to its end; the first replay hands
    // out those bytes rather than read and checksum the file again. A byte changed on
    // disk in between is not seen by it, and is by the next replay, which reads the file.
    let dir = TempDir::new("checked-tail");
    let offsets = write_records(dir.path(), 10, 100);
    let mut journal = open(dir.path()).expect("open");
    let segment = dir.path().join(FIRST_SEGMENT);
    flip_byte(&segment, offsets[4] + FRAME_HEADER + 1);

    let (records, recovery) = replay(&mut journal, 3).expect("replayed as checked");
    assert_eq!(seqs(&records), (4..=10).collect::<Vec<_>>());
    for (seq, bytes) in &records {
        assert_eq!(*bytes, payload(*seq, 100), "record {seq}");
    }
    assert_eq!((recovery.records(), recovery.last_seq()), (7, 10));
    let error = replay(&mut journal, 3).expect_err("the file is read again");
    assert_corrupt(error, FIRST_SEGMENT, offsets[4]);

    // An append first: replay reads the file.
    let dir = TempDir::new("checked-tail-append");
    let offsets = write_records(dir.path(), 10, 100);
    let mut journal = open(dir.path()).expect("open");
    flip_byte(
        &dir.path().join(FIRST_SEGMENT),
        offsets[4] + FRAME_HEADER + 1,
    );
    journal.append(&payload(11, 100)).expect("append");
    let error = replay(&mut journal, 0).expect_err("the file is read");
    assert_corrupt(error, FIRST_SEGMENT, offsets[4]);
}

#[test]
fn an_operator_can_cut_at_damage_in_the_middle() {
    let dir = TempDir::new("cut-at-damage");
    let offsets = write_records(dir.path(), 10, 100);
    let segment = dir.path().join(FIRST_SEGMENT);
    let len = file_len(&segment);
    flip_byte(&segment, offsets[6] + FRAME_HEADER + 1);
    assert_corrupt(
        open(dir.path()).expect_err("refused by default"),
        FIRST_SEGMENT,
        offsets[6],
    );

    let mut journal = FileJournal::builder(dir.path())
        .sync_policy(SyncPolicy::Os)
        .truncate_at_damage(true)
        .open()
        .expect("opens when asked to cut");
    let torn = journal.torn_tail().expect("the cut is reported").clone();
    assert_eq!(
        (torn.offset(), torn.bytes()),
        (offsets[6], len - offsets[6])
    );
    assert!(torn.reason().contains("seq 8"), "{torn}");
    let (records, _) = replay(&mut journal, 0).expect("replay");
    assert_eq!(seqs(&records), (1..=6).collect::<Vec<_>>());
    assert_eq!(journal.append(b"seven again").expect("append"), 7);
}

#[test]
fn corruption_in_an_older_segment_is_found_by_replay() {
    let dir = TempDir::new("old-segment");
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::Os)
            .segment_bytes(600)
            .open()
            .expect("open");
        for i in 1..=20 {
            journal.append(&payload(i, 100)).expect("append");
        }
    }
    let first = dir.path().join(FIRST_SEGMENT);
    let record_two = SEGMENT_HEADER + FRAME_HEADER + 100;
    flip_byte(&first, record_two + FRAME_HEADER + 1);

    let mut journal = open(dir.path()).expect("opening reads only the newest segment");
    let mut visited = Vec::new();
    let error = journal
        .replay(0, &mut |seq, _| {
            visited.push(seq);
            Ok(())
        })
        .expect_err("replay finds it");
    assert_corrupt(error, FIRST_SEGMENT, record_two);
    assert_eq!(visited, vec![1], "records before the damage were read");
    // Damage at the end of an older segment is not a torn tail either.
    let dir = TempDir::new("old-segment-tail");
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::Os)
            .segment_bytes(300)
            .open()
            .expect("open");
        for i in 1..=10 {
            journal.append(&payload(i, 100)).expect("append");
        }
    }
    let first = dir.path().join(FIRST_SEGMENT);
    let len = file_len(&first);
    OpenOptions::new()
        .write(true)
        .open(&first)
        .and_then(|f| f.set_len(len - 1))
        .expect("cut");
    let mut journal = open(dir.path()).expect("open");
    let error = replay(&mut journal, 0).expect_err("cut older segment");
    assert!(
        matches!(error, Error::CorruptJournal { ref file, .. } if file.ends_with(FIRST_SEGMENT))
    );
}

#[test]
fn a_file_that_is_not_a_segment_is_refused() {
    let dir = TempDir::new("foreign");
    fs::create_dir_all(dir.path()).expect("mkdir");
    fs::write(
        dir.path().join(FIRST_SEGMENT),
        b"hello, this is not a journal",
    )
    .expect("write");
    assert_corrupt(open(dir.path()).expect_err("bad magic"), FIRST_SEGMENT, 0);
    // Absurd sequence numbers in file names are refused, not computed with.
    let dir = TempDir::new("huge-seq");
    fs::create_dir_all(dir.path()).expect("mkdir");
    let name = "snapshot-18446744073709551615.snap";
    fs::write(dir.path().join(name), b"x").expect("write");
    assert_corrupt(open(dir.path()).expect_err("out of range"), name, 0);
    // Files with names the journal does not use are left alone.
    let dir = TempDir::new("others");
    fs::create_dir_all(dir.path()).expect("mkdir");
    fs::write(dir.path().join("notes.txt"), b"mine").expect("write");
    fs::write(dir.path().join("notes.txt.tmp"), b"mine too").expect("write");
    open(dir.path()).expect("open");
    assert!(names(dir.path()).contains(&"notes.txt".to_string()));
    assert!(names(dir.path()).contains(&"notes.txt.tmp".to_string()));
}

// ---------------------------------------------------------------- snapshots and compaction

#[test]
fn a_snapshot_at_the_last_record_removes_every_earlier_byte_from_disk() {
    let dir = TempDir::new("erase");
    let secret = b"ana.silva@example.org";
    let old_state = b"OLD-SNAPSHOT-with-ana.silva@example.org";
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::EveryAppend)
            .segment_bytes(2000)
            .open()
            .expect("open");
        for i in 1..=60 {
            let mut record = payload(i, 80);
            if i % 7 == 0 {
                record.extend_from_slice(secret);
            }
            journal.append(&record).expect("append");
        }
        journal
            .write_snapshot(30, old_state)
            .expect("first snapshot");
        for i in 61..=70 {
            journal.append(&payload(i, 80)).expect("append");
        }
        assert!(segments(dir.path()).len() > 2);
        // "Erase": the state without her, at the last record.
        journal
            .write_snapshot(70, b"state without her")
            .expect("snapshot");
        assert_eq!(
            names(dir.path()),
            vec![
                "journal-00000000000000000071.log".to_string(),
                "snapshot-00000000000000000070.snap".to_string(),
            ]
        );
        assert_eq!(journal.append(b"later").expect("append"), 71);
    }
    for name in names(dir.path()) {
        let bytes = fs::read(dir.path().join(&name)).expect("read");
        assert!(!contains(&bytes, secret), "{name} still holds the secret");
        assert!(
            !contains(&bytes, b"OLD-SNAPSHOT"),
            "{name} holds the old snapshot"
        );
        assert!(!contains(&bytes, b"<record "), "{name} holds an old record");
    }
    let mut journal = open(dir.path()).expect("reopen");
    assert_eq!(journal.last_seq(), 71);
    assert_eq!(
        journal.latest_snapshot().expect("snapshot"),
        Some((70, b"state without her".to_vec()))
    );
    let (records, _) = replay(&mut journal, 70).expect("replay");
    assert_eq!(records, vec![(71, b"later".to_vec())]);
    assert!(matches!(
        replay(&mut journal, 10),
        Err(Error::Compacted {
            after_seq: 10,
            first_available: 71
        })
    ));
    assert_eq!(journal.append(b"72").expect("append"), 72);
}

#[test]
fn a_snapshot_replaces_one_at_the_same_seq() {
    let dir = TempDir::new("same-seq");
    let mut journal = open(dir.path()).expect("open");
    journal.append(b"one").expect("append");
    journal
        .write_snapshot(1, b"with ana.silva@example.org")
        .expect("snapshot");
    journal.write_snapshot(1, b"without her").expect("snapshot");
    drop(journal);
    for name in names(dir.path()) {
        let bytes = fs::read(dir.path().join(&name)).expect("read");
        assert!(!contains(&bytes, b"ana.silva"), "{name}");
    }
    let mut journal = open(dir.path()).expect("open");
    assert_eq!(
        journal.latest_snapshot().expect("snapshot"),
        Some((1, b"without her".to_vec()))
    );
}

#[test]
fn a_snapshot_before_the_last_record_keeps_the_records_after_it() {
    let dir = TempDir::new("partial");
    let mut journal = FileJournal::builder(dir.path())
        .sync_policy(SyncPolicy::Os)
        .segment_bytes(600)
        .open()
        .expect("open");
    for i in 1..=40 {
        journal.append(&payload(i, 100)).expect("append");
    }
    let before = segments(dir.path()).len();
    journal
        .write_snapshot(25, b"state at 25")
        .expect("snapshot");
    let after = segments(dir.path());
    assert!(after.len() < before, "covered segments deleted: {after:?}");
    // The segment holding 26 is kept, so it may still hold records up to 25.
    let (records, _) = replay(&mut journal, 25).expect("replay");
    assert_eq!(seqs(&records), (26..=40).collect::<Vec<_>>());
    assert_eq!(journal.append(b"41").expect("append"), 41);
    drop(journal);
    let mut journal = open(dir.path()).expect("reopen");
    assert_eq!(
        journal.latest_snapshot().expect("snapshot").map(|s| s.0),
        Some(25)
    );
    let (records, _) = replay(&mut journal, 25).expect("replay");
    assert_eq!(seqs(&records), (26..=41).collect::<Vec<_>>());
}

#[test]
fn leftovers_of_a_crash_during_a_snapshot_are_ignored_and_removed() {
    let dir = TempDir::new("leftover");
    {
        let mut journal = open(dir.path()).expect("open");
        journal.append(b"one").expect("append");
        journal.append(b"two").expect("append");
        journal.write_snapshot(2, b"state at 2").expect("snapshot");
        journal.append(b"three").expect("append");
    }
    // A crash while writing the next snapshot, and while creating a segment.
    fs::write(
        dir.path().join("snapshot-00000000000000000003.snap.tmp"),
        b"half a snap",
    )
    .expect("write");
    fs::write(
        dir.path().join("journal-00000000000000000004.log.tmp"),
        b"RGL",
    )
    .expect("write");

    let mut journal = open(dir.path()).expect("open");
    assert_eq!(
        journal.latest_snapshot().expect("snapshot"),
        Some((2, b"state at 2".to_vec()))
    );
    assert!(
        !names(dir.path()).iter().any(|n| n.ends_with(".tmp")),
        "{:?}",
        names(dir.path())
    );
    let (records, _) = replay(&mut journal, 2).expect("replay");
    assert_eq!(records, vec![(3, b"three".to_vec())]);
}

#[test]
fn a_large_snapshot_reads_back_whole_and_damage_anywhere_in_it_is_caught() {
    let dir = TempDir::new("large-snapshot");
    let name = "snapshot-00000000000000000001.snap";
    // Several pieces of the reading (and a part piece at the end), every byte different
    // from its neighbours, so a piece read twice or skipped would not compare equal.
    let image: Vec<u8> = (0..3_000_001u32).map(|i| (i % 251) as u8).collect();
    {
        let mut journal = open(dir.path()).expect("open");
        journal.append(b"one").expect("append");
        journal.write_snapshot(1, &image).expect("snapshot");
    }
    let mut journal = open(dir.path()).expect("open");
    assert_eq!(
        journal.latest_snapshot().expect("snapshot"),
        Some((1, image))
    );
    drop(journal);
    // The header is 32 bytes: the first byte of the body, the last of its first half and
    // the first of its second (a large snapshot is read in two halves), the last.
    for offset in [32, 32 + 1_499_999, 32 + 1_500_000, 32 + 3_000_000] {
        flip_byte(&dir.path().join(name), offset);
        let mut journal = open(dir.path()).expect("the header is fine");
        assert_corrupt(journal.latest_snapshot().expect_err("checksum"), name, 32);
        drop(journal);
        flip_byte(&dir.path().join(name), offset);
    }
}

#[test]
fn a_damaged_snapshot_is_an_error_naming_it() {
    let dir = TempDir::new("bad-snapshot");
    let name = "snapshot-00000000000000000002.snap";
    {
        let mut journal = open(dir.path()).expect("open");
        journal.append(b"one").expect("append");
        journal.append(b"two").expect("append");
        journal.write_snapshot(2, b"state at 2").expect("snapshot");
    }
    flip_byte(&dir.path().join(name), 35);
    let mut journal = open(dir.path()).expect("the header is fine");
    assert_corrupt(journal.latest_snapshot().expect_err("checksum"), name, 32);
    drop(journal);

    // A snapshot cut short is caught by its header when opening.
    let path = dir.path().join(name);
    let len = file_len(&path);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(len - 3))
        .expect("cut");
    assert_corrupt(open(dir.path()).expect_err("short snapshot"), name, 20);
}

#[test]
fn a_crash_between_snapshot_and_cleanup_is_finished_later() {
    let dir = TempDir::new("unfinished-compaction");
    let saved = TempDir::new("unfinished-compaction-saved");
    fs::create_dir_all(saved.path()).expect("mkdir");
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::Os)
            .segment_bytes(500)
            .open()
            .expect("open");
        for i in 1..=20 {
            journal.append(&payload(i, 100)).expect("append");
        }
        journal.write_snapshot(10, b"ten").expect("snapshot");
        for name in segments(dir.path()) {
            fs::copy(dir.path().join(&name), saved.path().join(&name)).expect("save");
        }
        for i in 21..=30 {
            journal.append(&payload(i, 100)).expect("append");
        }
        // Saved before the second snapshot deletes them: what a crash right after
        // the snapshot's rename would leave.
        for name in segments(dir.path()) {
            fs::copy(dir.path().join(&name), saved.path().join(&name)).expect("save");
        }
        journal.write_snapshot(30, b"thirty").expect("snapshot");
    }
    // Put back the old segments and the old snapshot, as if cleanup never ran.
    for name in names(saved.path()) {
        if !dir.path().join(&name).exists() {
            fs::copy(saved.path().join(&name), dir.path().join(&name)).expect("restore");
        }
    }
    let mut journal = open(dir.path()).expect("open");
    assert!(segments(dir.path()).len() > 1);
    assert_eq!(
        journal.latest_snapshot().expect("snapshot"),
        Some((30, b"thirty".to_vec()))
    );
    assert_eq!(
        segments(dir.path()),
        vec!["journal-00000000000000000031.log"]
    );
    assert_eq!(journal.append(b"31").expect("append"), 31);
}

// ---------------------------------------------------------------- durability

#[cfg(unix)]
#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("perms");
    {
        let mut journal = FileJournal::builder(dir.path())
            .sync_policy(SyncPolicy::Os)
            .segment_bytes(200)
            .open()
            .expect("open");
        for i in 1..=10 {
            journal.append(&payload(i, 100)).expect("append");
        }
        journal.write_snapshot(5, b"state").expect("snapshot");
    }
    let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(dir.path()), 0o700);
    let all = names(dir.path());
    assert!(all.len() >= 3, "{all:?}");
    for name in all {
        assert_eq!(mode(&dir.path().join(&name)), 0o600, "{name}");
    }
}

#[test]
fn every_append_is_durable_when_it_returns() {
    let dir = TempDir::new("every");
    let mut journal = FileJournal::open(dir.path(), SyncPolicy::EveryAppend).expect("open");
    for i in 1..=5 {
        assert_eq!(journal.append(b"x").expect("append"), i);
        assert_eq!(journal.durable_seq(), i);
    }
}

#[test]
fn os_policy_is_durable_only_after_sync() {
    let dir = TempDir::new("os");
    let mut journal = FileJournal::open(dir.path(), SyncPolicy::Os).expect("open");
    for _ in 0..5 {
        journal.append(b"x").expect("append");
    }
    assert_eq!(journal.durable_seq(), 0);
    assert_eq!(journal.sync().expect("sync"), 5);
    assert_eq!(journal.durable_seq(), 5);
    journal.append(b"y").expect("append");
    assert_eq!(journal.durable_seq(), 5);
}

#[test]
fn group_commit_becomes_durable_after_the_delay_without_more_appends() {
    let dir = TempDir::new("group-delay");
    // A batch that never fills: only the delay can make these durable.
    let policy = group_commit(Duration::from_millis(20), usize::MAX);
    let mut journal = FileJournal::open(dir.path(), policy).expect("open");
    for i in 1..=5 {
        assert_eq!(journal.append(&payload(i, 100)).expect("append"), i);
    }
    assert!(journal.durable_seq() <= 5);
    assert!(
        eventually(|| journal.durable_seq() == 5),
        "durable_seq stuck at {}",
        journal.durable_seq()
    );
    // And again for a second batch.
    journal.append(b"six").expect("append");
    assert!(eventually(|| journal.durable_seq() == 6));
}

#[test]
fn group_commit_syncs_a_full_batch_before_the_delay() {
    let dir = TempDir::new("group-batch");
    // A delay no test waits for: only the batch size can make these durable.
    let policy = group_commit(Duration::from_secs(3600), 4);
    let mut journal = FileJournal::open(dir.path(), policy).expect("open");
    for i in 1..=4 {
        journal.append(&payload(i, 100)).expect("append");
    }
    assert!(
        eventually(|| journal.durable_seq() == 4),
        "durable_seq stuck at {}",
        journal.durable_seq()
    );
    journal.append(b"five").expect("append");
    assert_eq!(journal.sync().expect("sync"), 5);
    assert_eq!(journal.durable_seq(), 5);
}

#[test]
fn group_commit_rejects_an_empty_batch() {
    let dir = TempDir::new("group-zero");
    let error = FileJournal::open(dir.path(), group_commit(Duration::from_millis(1), 0))
        .expect_err("max_batch 0");
    assert!(matches!(error, Error::InvalidConfig(_)));
}

#[test]
fn group_commit_records_survive_drop_and_reopen() {
    let dir = TempDir::new("group-drop");
    let policy = group_commit(Duration::from_secs(3600), usize::MAX);
    {
        let mut journal = FileJournal::open(dir.path(), policy).expect("open");
        for i in 1..=100 {
            journal.append(&payload(i, 100)).expect("append");
        }
    }
    let mut journal = FileJournal::open(dir.path(), policy).expect("reopen");
    let (records, _) = replay(&mut journal, 0).expect("replay");
    assert_eq!(seqs(&records), (1..=100).collect::<Vec<_>>());
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever prefix of the file survives a crash, opening keeps exactly the records
    /// that are whole in it, and never panics.
    #[test]
    fn any_cut_keeps_exactly_the_whole_records(
        sizes in prop::collection::vec(0usize..300, 1..12),
        cut_fraction in 0.0f64..=1.0,
    ) {
        let dir = TempDir::new("prop-cut");
        let mut ends = Vec::new();
        {
            let mut journal = open(dir.path()).expect("open");
            for (i, &size) in sizes.iter().enumerate() {
                journal.append(&payload(i as u64 + 1, size)).expect("append");
                ends.push(file_len(&dir.path().join(FIRST_SEGMENT)));
            }
        }
        let segment = dir.path().join(FIRST_SEGMENT);
        let total = file_len(&segment);
        let cut = SEGMENT_HEADER + ((total - SEGMENT_HEADER) as f64 * cut_fraction) as u64;
        OpenOptions::new().write(true).open(&segment).and_then(|f| f.set_len(cut)).expect("cut");

        let mut journal = open(dir.path()).expect("a cut file opens");
        let whole = ends.iter().filter(|&&end| end <= cut).count() as u64;
        let (records, recovery) = replay(&mut journal, 0).expect("replay");
        prop_assert_eq!(seqs(&records), (1..=whole).collect::<Vec<_>>());
        let good = if whole == 0 { SEGMENT_HEADER } else { ends[whole as usize - 1] };
        prop_assert_eq!(recovery.truncated_bytes(), cut - good);
        prop_assert_eq!(journal.append(b"next").expect("append"), whole + 1);
    }

    /// Any damaged byte anywhere gives either an error or the records before it, and
    /// never a wrong record or a panic.
    #[test]
    fn any_damaged_byte_is_caught(
        sizes in prop::collection::vec(0usize..200, 1..8),
        at_fraction in 0.0f64..1.0,
        xor in 1u8..=255,
    ) {
        let dir = TempDir::new("prop-flip");
        {
            let mut journal = open(dir.path()).expect("open");
            for (i, &size) in sizes.iter().enumerate() {
                journal.append(&payload(i as u64 + 1, size)).expect("append");
            }
        }
        let segment = dir.path().join(FIRST_SEGMENT);
        let total = file_len(&segment);
        let at = (total as f64 * at_fraction) as u64;
        let mut bytes = fs::read(&segment).expect("read");
        bytes[at as usize] ^= xor;
        fs::write(&segment, bytes).expect("write");

        if let Ok(mut journal) = open(dir.path()) {
            let (records, _) = replay(&mut journal, 0).expect("opened journals replay");
            prop_assert!(records.len() < sizes.len(), "damage went unnoticed");
            for (seq, bytes) in records {
                prop_assert_eq!(bytes, payload(seq, sizes[seq as usize - 1]));
            }
        }
    }
}
