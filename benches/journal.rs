//! What the durable layer costs: appending a 100-byte record under each sync policy, and
//! replaying (reading and checksumming) a journal of a million records.
//!
//! Run with `cargo bench --bench journal`; figures are recorded in BENCHMARKS.md. The
//! journals live in the system temp dir, so the figures are that file system's.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regulars::journal::{FileJournal, Journal, SyncPolicy};

const PAYLOAD_BYTES: usize = 100;
const REPLAY_RECORDS: u64 = 1_000_000;

/// A fresh directory for one benchmark; removed when dropped.
struct BenchDir(PathBuf);

impl BenchDir {
    fn new(name: &str) -> BenchDir {
        let path = std::env::temp_dir().join(format!(
            "regulars-journal-bench-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        BenchDir(path)
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn payload(i: u64) -> [u8; PAYLOAD_BYTES] {
    let mut p = [b'x'; PAYLOAD_BYTES];
    p[..8].copy_from_slice(&i.to_le_bytes());
    p
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal_append_100b");
    group.throughput(Throughput::Elements(1));
    let policies = [
        (
            "group_commit_5ms",
            SyncPolicy::GroupCommit {
                max_delay: Duration::from_millis(5),
                max_batch: 4096,
            },
        ),
        ("os", SyncPolicy::Os),
    ];
    for (name, policy) in policies {
        let dir = BenchDir::new(name);
        let mut journal = FileJournal::open(&dir.0, policy).expect("open");
        let mut i = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                black_box(journal.append(&payload(i)).expect("append"))
            })
        });
    }
    // One fsync per record: few samples, or this alone takes minutes.
    group.sample_size(10);
    let dir = BenchDir::new("every_append");
    let mut journal = FileJournal::open(&dir.0, SyncPolicy::EveryAppend).expect("open");
    let mut i = 0u64;
    group.bench_function("every_append", |b| {
        b.iter(|| {
            i += 1;
            black_box(journal.append(&payload(i)).expect("append"))
        })
    });
    group.finish();
}

fn replay(c: &mut Criterion) {
    let dir = BenchDir::new("replay");
    {
        let mut journal = FileJournal::open(&dir.0, SyncPolicy::Os).expect("open");
        for i in 1..=REPLAY_RECORDS {
            journal.append(&payload(i)).expect("append");
        }
        journal.sync().expect("sync");
    }
    let mut journal = FileJournal::open(&dir.0, SyncPolicy::Os).expect("reopen");
    let mut group = c.benchmark_group("journal_replay");
    group.throughput(Throughput::Elements(REPLAY_RECORDS));
    group.sample_size(10);
    group.bench_function("1m_records_100b", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            let recovery = journal
                .replay(0, &mut |_, payload| {
                    bytes += payload.len();
                    Ok(())
                })
                .expect("replay");
            assert_eq!(recovery.records(), REPLAY_RECORDS);
            black_box(bytes)
        })
    });
    group.finish();
}

criterion_group!(benches, append, replay);
criterion_main!(benches);
