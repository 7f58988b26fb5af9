//! What durability costs: appending to the journal, observing through it, checkpoints,
//! and opening a memory from its journal (replaying every record, a snapshot and the
//! records after it, a snapshot alone).
//!
//! ```sh
//! cargo bench --bench journal -- --warm-up-time 1 --measurement-time 4
//! REGULARS_BENCH_EVENTS=1000000 cargo bench --bench journal -- recover
//! ```
//!
//! `REGULARS_BENCH_EVENTS` sets the size of the journal the recovery benches open
//! (100,000 events by default). Journals are written under the system's temporary
//! directory and removed at the end.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regulars::journal::{FileJournal, Journal, SyncPolicy};

#[path = "../examples/support/door_stream.rs"]
#[allow(dead_code)]
mod door_stream;
use door_stream::{config, define_catalog, event};

/// Events per measured batch of the observe benches.
const BATCH: u64 = 1000;

fn group_commit() -> SyncPolicy {
    SyncPolicy::GroupCommit {
        max_delay: Duration::from_millis(2),
        max_batch: 1024,
    }
}

/// Events in the recovery benches' journal.
fn events() -> usize {
    std::env::var("REGULARS_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("regulars-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------- the journal alone

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(1));
    let payload = vec![0x5a_u8; 300];
    for (name, policy) in [("group_commit", group_commit()), ("os", SyncPolicy::Os)] {
        let dir = TempDir::new(&format!("append-{name}"));
        let mut journal = FileJournal::open(&dir.0, policy).expect("journal");
        group.bench_function(format!("append_300_bytes/{name}"), |b| {
            b.iter(|| black_box(journal.append(&payload).expect("append")))
        });
    }
    group.finish();
}

// ---------------------------------------------------------------- memory

/// Observing through a journal with group commit, against the same stream in memory
/// alone: what journaling adds to every write.
fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("durable_observe");
    group.throughput(Throughput::Elements(BATCH));
    let patrons = 30_000;
    let dir = TempDir::new("observe");
    let mut durable = config()
        .sync_policy(group_commit())
        .checkpoint_every(0)
        .open(&dir.0)
        .expect("memory");
    let mut plain = config().build().expect("memory");
    for (name, memory) in [("group_commit", &mut durable), ("no_journal", &mut plain)] {
        define_catalog(memory).expect("catalog");
        let mut n = 0;
        group.bench_function(format!("{name}/order_or_scan"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    black_box(memory.observe(event(n, patrons)).expect("event"));
                    n += 1;
                }
            })
        });
    }
    group.finish();
}

/// Writes a journal of `events` events to `dir`, with a checkpoint after the first
/// `checkpoint_at` of them if given; returns how long observing them took.
fn write_journal(dir: &Path, events: usize, checkpoint_at: Option<usize>) -> Duration {
    let mut memory = config()
        .sync_policy(SyncPolicy::Os)
        .checkpoint_every(0)
        .open(dir)
        .expect("memory");
    define_catalog(&mut memory).expect("catalog");
    let patrons = events / 3;
    let mut took = Duration::ZERO;
    let mut started = Instant::now();
    for n in 0..events {
        if checkpoint_at == Some(n) {
            took += started.elapsed();
            memory.checkpoint().expect("checkpoint");
            started = Instant::now();
        }
        memory.observe(event(n, patrons)).expect("event");
    }
    took += started.elapsed();
    memory.sync().expect("sync");
    took
}

/// Copies the files of directory `from` into a new directory `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory");
    for entry in std::fs::read_dir(from).expect("directory") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

/// Opening a memory from a journal of N events (throughput counts the N events):
///
/// - `replay_every_record`: no snapshot, every record replayed through the write path
///   (with the recognition decisions the records carry);
/// - `snapshot_and_tail`: a snapshot covering the first 90 % and the last 10 % replayed,
///   what a restart finds under automatic checkpoints in the worst case (the default
///   `checkpoint_every` of 100,000 records leaves at most 100,000 to replay);
/// - `load_snapshot`: a snapshot covering everything (a restart after a checkpoint).
///
/// Also the raw journal read and a checkpoint, to see where time goes. The journals are
/// written under `SyncPolicy::Os` and opened with the default group commit (opening
/// only reads; the policy decides how appends after it are synced).
fn recover(c: &mut Criterion) {
    let events = events();
    let dir = TempDir::new("recover");
    let observed = write_journal(&dir.0, events, None);
    eprintln!(
        "recover: observing the {events} events took {:.2} s ({:.0} events/s)",
        observed.as_secs_f64(),
        events as f64 / observed.as_secs_f64()
    );
    let records = FileJournal::open(&dir.0, SyncPolicy::Os)
        .expect("journal")
        .last_seq();

    let mut group = c.benchmark_group("recover");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events as u64));
    group.bench_function(format!("raw_journal_read/{events}"), |b| {
        b.iter(|| {
            let mut journal = FileJournal::open(&dir.0, SyncPolicy::Os).expect("journal");
            let mut bytes = 0usize;
            journal
                .replay(0, &mut |_, record| {
                    bytes += record.len();
                    Ok(())
                })
                .expect("replay");
            black_box(bytes)
        })
    });
    group.bench_function(format!("replay_every_record/{events}"), |b| {
        // Dropping a memory of this size takes a while; it is not what is measured.
        b.iter_with_large_drop(|| {
            let memory = config().open(&dir.0).expect("memory");
            assert_eq!(memory.last_seq(), records);
            memory
        })
    });
    drop(dir);

    // A snapshot at 90 %, then the tail.
    let tail_dir = TempDir::new("recover-tail");
    write_journal(&tail_dir.0, events, Some(events - events / 10));
    group.bench_function(format!("snapshot_and_tail/{events}"), |b| {
        b.iter_with_large_drop(|| {
            let memory = config().open(&tail_dir.0).expect("memory");
            assert_eq!(memory.last_seq(), records);
            memory
        })
    });

    // The same memory from a snapshot of everything.
    let snapshot_dir = TempDir::new("recover-snapshot");
    copy_dir(&tail_dir.0, &snapshot_dir.0);
    drop(tail_dir);
    let mut memory = config()
        .sync_policy(SyncPolicy::Os)
        .open(&snapshot_dir.0)
        .expect("memory");
    let started = Instant::now();
    memory.checkpoint().expect("checkpoint");
    eprintln!(
        "recover: a checkpoint of {} patrons took {:.1} ms",
        memory.patron_count(),
        started.elapsed().as_secs_f64() * 1e3
    );
    group.bench_function(format!("load_snapshot/{events}"), |b| {
        b.iter_with_large_drop(|| config().open(&snapshot_dir.0).expect("memory"))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("checkpoint/{events}"), |b| {
        b.iter(|| black_box(memory.checkpoint().expect("checkpoint")))
    });
    group.finish();
}

criterion_group!(benches, append, observe, recover);
criterion_main!(benches);
