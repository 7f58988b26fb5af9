//! Crash safety: a child process writes events through a file journal and says which
//! ones are durable; the parent SIGKILLs it at a random moment, reopens the memory and
//! checks that every acknowledged event is there and that memory is exactly a fresh
//! memory fed the same prefix of events. Hundreds of short trials, in directories that
//! live through many crashes (so recovery itself is crashed into), under both fsyncing
//! policies, with small segments and frequent checkpoints so that kills land in
//! rotations and snapshot writes too. A quarter of the kills wait for the child's first
//! acknowledgement before the random delay, so every run checks acknowledged events even
//! when a loaded machine keeps the child from writing within the delay.
//!
//! The child is this test binary itself, re-run with an environment variable on the
//! `child_writes_until_killed` test, which does nothing without it.

#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::TimeDelta;
use common::*;
use regulars::journal::{FileJournal, SyncPolicy};
use regulars::{
    Donation, Event, ManualClock, Memory, MemoryBuilder, Moment, Refund, Scan, Signals,
};

/// Set in the child: the journal directory.
const CHILD_DIR: &str = "REGULARS_KILL_TEST_DIR";
/// Set in the child: `every-append` or `group-commit`.
const CHILD_POLICY: &str = "REGULARS_KILL_TEST_POLICY";

const TRIALS: usize = 200;
/// Trials sharing one directory before a fresh one is started.
const TRIALS_PER_DIR: usize = 20;
/// The longest the parent lets the child write before killing it.
const MAX_DELAY_MICROS: u64 = 20_000;
/// The child stops writing after this many events in one run (then waits to be killed),
/// which keeps memories small enough to compare quickly.
const MAX_EVENTS_PER_RUN: usize = 600;

// ---------------------------------------------------------------- the event stream

/// Event `i` of the one stream every child writes: orders from fifty recurring people,
/// entry scans, refunds and donations, at increasing times.
fn event(i: usize) -> Event {
    let at = t0() + TimeDelta::minutes(i as i64);
    let person = |k: usize| {
        let k = k % 50;
        Signals::new()
            .given_name(format!("Given{k}"))
            .family_name(format!("Family{}", k % 17))
            .email(format!("person{k}@example.org"))
    };
    let performance = |k: usize| PERFORMANCES[k % PERFORMANCES.len()].0;
    let id = format!("e-{i}");
    match i % 10 {
        // The order six events earlier (`i - 6` ends in 0) has ticket `t-{i-6}`.
        6 => Event::scan(id, Scan::entry(format!("t-{}", i - 6))).at(at),
        // The order six events earlier ends in 1.
        7 => Event::refund(id, Refund::whole_order(format!("o-{}", i - 6))).at(at),
        8 => Event::donation(id, Donation::new(person(i * 3), gbp(1000))).at(at),
        _ => order_at(
            &id,
            &format!("o-{i}"),
            person(i * 7),
            [seated(
                &format!("t-{i}"),
                performance(i),
                &format!("R{}", i % 30),
            )],
            at,
        ),
    }
}

fn config() -> MemoryBuilder {
    builder(&ManualClock::new(t0()))
}

// ---------------------------------------------------------------- the child

/// The child: opens the memory in `$REGULARS_KILL_TEST_DIR`, continues the event stream
/// where memory ends, and prints `ack <event id>` for each event once it is durable.
#[test]
fn child_writes_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let policy = match std::env::var(CHILD_POLICY).as_deref() {
        Ok("every-append") => SyncPolicy::EveryAppend,
        _ => SyncPolicy::GroupCommit {
            max_delay: Duration::from_millis(1),
            max_batch: 32,
        },
    };
    let journal = FileJournal::builder(&dir)
        .sync_policy(policy)
        .segment_bytes(16 * 1024)
        .open()
        .expect("child: the journal opens");
    let mut memory = config()
        .journal(journal)
        .checkpoint_every(97)
        .build()
        .expect("child: memory opens");
    define_catalog(&mut memory);
    println!("ready");
    let start = memory.event_count();
    let mut waiting = std::collections::VecDeque::new();
    for i in start..start + MAX_EVENTS_PER_RUN {
        let seen = memory.observe(event(i)).expect("child: event accepted");
        assert!(!seen.is_replay(), "child: event {i} was in memory already");
        waiting.push_back((memory.last_seq(), i));
        let durable = memory.durable_seq();
        while let Some(&(seq, i)) = waiting.front() {
            if seq > durable {
                break;
            }
            println!("ack e-{i}");
            waiting.pop_front();
        }
    }
    memory.sync().expect("child: sync");
    for (_, i) in waiting {
        println!("ack e-{i}");
    }
    // Wait to be killed, like a server with nothing to do.
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

// ---------------------------------------------------------------- the parent

/// SplitMix64: the same delays on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(n: usize) -> TempDir {
        let path = std::env::temp_dir().join(format!("regulars-kill-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// When the parent starts counting the delay before the kill.
#[derive(Clone, Copy, Debug)]
enum KillAfter {
    /// From when the child has recovered and starts writing.
    Ready,
    /// From the child's first acknowledgement, so that a loaded machine, where the child
    /// may not get to write within the delay, still has trials that kill a child with
    /// acknowledged events.
    FirstAck,
}

/// What the child printed before it died: the events it acknowledged as durable.
fn run_child(dir: &Path, policy: &str, kill_after: KillAfter, delay: Duration) -> Vec<String> {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "child_writes_until_killed",
            "--nocapture",
            "--quiet",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_POLICY, policy)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (lines_tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut acks = Vec::new();
    let mut ready = false;
    loop {
        let started = match kill_after {
            KillAfter::Ready => ready,
            KillAfter::FirstAck => !acks.is_empty(),
        };
        if started {
            break;
        }
        match lines.recv_timeout(Duration::from_secs(60)) {
            // The harness may print the test's name on the same line first.
            Ok(line) if line.ends_with("ready") => ready = true,
            Ok(line) => acks.extend(line.strip_prefix("ack ").map(str::to_owned)),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("the child never got to {kill_after:?}: {status:?}");
            }
        }
    }
    std::thread::sleep(delay);
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("the child is reaped");
    assert_eq!(
        status.signal(),
        Some(9),
        "the child died of something else: {status:?}"
    );
    reader.join().expect("the reader thread");
    // A line cut short by the kill was never a complete acknowledgement; `lines()`
    // yields it without its newline, so only complete `ack` lines of known events count.
    acks.extend(
        lines
            .try_iter()
            .filter_map(|l| l.strip_prefix("ack ").map(str::to_owned)),
    );
    acks
}

/// What the parent compares: everything memory shows, and its moments.
fn view(memory: &Memory) -> (Snapshot, Vec<Moment>, usize) {
    let moments = memory
        .patrons()
        .flat_map(|p| memory.moments_of(p.id()).collect::<Vec<_>>())
        .collect();
    (snapshot(memory), moments, memory.pending_ticks())
}

#[test]
fn killed_writers_lose_no_acknowledged_event() {
    let mut rng = Rng(0x6b69_6c6c);
    let (mut acked_total, mut torn_tails, mut unacknowledged) = (0usize, 0usize, 0usize);
    let mut dirs = Vec::new();
    let mut twin = build(config());
    let mut acked: BTreeSet<usize> = BTreeSet::new();
    for trial in 0..TRIALS {
        if trial.is_multiple_of(TRIALS_PER_DIR) {
            dirs.push(TempDir::new(trial));
            twin = build(config());
            acked.clear();
        }
        let dir = &dirs.last().expect("a directory").0;
        let policy = if (trial / TRIALS_PER_DIR).is_multiple_of(2) {
            "group-commit"
        } else {
            "every-append"
        };
        let delay = Duration::from_micros(rng.below(MAX_DELAY_MICROS));
        let kill_after = if trial.is_multiple_of(4) {
            KillAfter::FirstAck
        } else {
            KillAfter::Ready
        };
        let acks = run_child(dir, policy, kill_after, delay);
        acked_total += acks.len();
        for ack in &acks {
            let i = ack
                .strip_prefix("e-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("trial {trial}: odd acknowledgement {ack:?}"));
            acked.insert(i);
        }

        let mut memory = config()
            .sync_policy(SyncPolicy::Os)
            .open(dir)
            .unwrap_or_else(|e| panic!("trial {trial}: reopening failed: {e}"));
        let n = memory.event_count();
        torn_tails += usize::from(memory.recovery().and_then(|r| r.torn_tail()).is_some());
        // Every acknowledged event survived, in this trial and every earlier one.
        if let Some(&last) = acked.last() {
            assert!(
                last < n,
                "trial {trial} ({policy}, {kill_after:?} + {delay:?}): event e-{last} was acknowledged, \
                 memory holds only {n} events"
            );
        }
        // Memory is exactly the prefix of the stream it holds: nothing half-applied.
        let fed = twin.event_count();
        assert!(
            fed <= n,
            "trial {trial}: memory lost events it had ({fed} > {n})"
        );
        // Events the child wrote but did not live to acknowledge may be there too.
        unacknowledged += (n - fed).saturating_sub(acks.len());
        for i in fed..n {
            observe(&mut twin, event(i));
        }
        assert!(
            view(&memory) == view(&twin),
            "trial {trial} ({policy}, {kill_after:?} + {delay:?}): memory after recovery differs from a \
             fresh memory fed its {n} events"
        );
        // Acknowledged events are seen: sending them again changes nothing.
        let seq = memory.last_seq();
        for ack in &acks {
            let i: usize = ack[2..].parse().expect("checked above");
            let again = memory.observe(event(i)).expect("a re-sent event");
            assert!(again.is_replay(), "trial {trial}: {ack} is not in memory");
        }
        assert_eq!(memory.last_seq(), seq, "re-sent events journal nothing");
    }
    eprintln!(
        "{TRIALS} kills: {acked_total} events acknowledged, {unacknowledged} more found \
         written but unacknowledged, {torn_tails} torn tails cut off"
    );
    assert!(acked_total > 0, "no child ever acknowledged an event");
}
