//! Recovery: how fast a durable memory comes back after a restart, three ways.
//!
//! ```text
//! cargo run --release --example recovery -- [--events 1000000] [--runs 3] [--dir DIR]
//!     [--open replay,tail,snapshot]
//! ```
//!
//! Writes the journal of `--events` events the journal bench writes (every other event an
//! order with one seated ticket by one of `events / 3` people, a third of them new, the
//! others the entry scan of the ticket just ordered; `SyncPolicy::Os`), three times:
//!
//! - `replay`: no snapshot; opening replays every record;
//! - `tail`: a checkpoint after 90 % of the events, so opening loads that snapshot and
//!   replays the last 10 % (what the default `checkpoint_every(100_000)` leaves at most at
//!   a million events);
//! - `snapshot`: a checkpoint after the last event; opening loads it alone.
//!
//! Then opens each `--runs` times with the default sync policy (group commit; opening only
//! reads, so the policy does not change recovery) and prints the median wall-clock time
//! and the median CPU time of the process (all threads, user + system), each as events
//! per second, and the fastest of each. On a shared machine the CPU figure is the
//! steadier one.
//!
//! With `--dir DIR` the journals are kept in `DIR/replay`, `DIR/tail` and `DIR/snapshot`
//! and reused by later runs with the same `--events` (handy for profiling only the
//! opening); without it they go under the system's temporary directory and are removed.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regulars::journal::SyncPolicy;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

#[path = "support/door_stream.rs"]
#[allow(dead_code)]
mod door_stream;
use door_stream::{config, define_catalog, event};

const USAGE: &str =
    "usage: recovery [--events N] [--runs N] [--dir DIR] [--open replay,tail,snapshot]";

/// Writes the journal of `events` events into `dir`, with a checkpoint after the first
/// `checkpoint_at` of them if given.
fn write_journal(dir: &Path, events: usize, checkpoint_at: Option<usize>) -> Result<()> {
    let mut memory = config()
        .sync_policy(SyncPolicy::Os)
        .checkpoint_every(0)
        .open(dir)?;
    define_catalog(&mut memory)?;
    let patrons = (events / 3).max(1);
    for n in 0..events {
        if checkpoint_at == Some(n) {
            memory.checkpoint()?;
        }
        memory.observe(event(n, patrons))?;
    }
    if checkpoint_at == Some(events) {
        memory.checkpoint()?;
    }
    memory.sync()?;
    Ok(())
}

/// CPU time of the whole process (every thread, user + system), from `/proc/self/stat`
/// on Linux; `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in clock ticks of 1/100 s on every Linux configuration in use.
    Some(Duration::from_millis(ticks * 10))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

struct Options {
    events: usize,
    runs: usize,
    dir: Option<PathBuf>,
    open: Vec<String>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        events: 1_000_000,
        runs: 3,
        dir: None,
        open: vec!["replay".into(), "tail".into(), "snapshot".into()],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--events" => options.events = value()?.parse()?,
            "--runs" => options.runs = value()?.parse::<usize>()?.max(1),
            "--dir" => options.dir = Some(PathBuf::from(value()?)),
            "--open" => options.open = value()?.split(',').map(str::to_owned).collect(),
            "--help" | "-h" => {
                println!("{USAGE}");
                return Err("".into());
            }
            _ => return Err(format!("unknown argument {flag}\n{USAGE}").into()),
        }
    }
    Ok(options)
}

fn main() -> Result<()> {
    let options = options()?;
    let events = options.events;
    let (root, temporary) = match &options.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("regulars-recovery-{}", std::process::id())),
            true,
        ),
    };
    println!(
        "recovery: {events} events ({} people), {} runs each; journals written with \
         SyncPolicy::Os, opened with the default sync policy (group commit, 2 ms)",
        events / 3,
        options.runs
    );
    for kind in &options.open {
        let checkpoint_at = match kind.as_str() {
            "replay" => None,
            "tail" => Some(events - events / 10),
            "snapshot" => Some(events),
            other => return Err(format!("unknown --open {other}\n{USAGE}").into()),
        };
        let dir = root.join(kind);
        let marker = dir.join(format!("complete-{events}"));
        if !marker.exists() {
            let _ = std::fs::remove_dir_all(&dir);
            let started = Instant::now();
            write_journal(&dir, events, checkpoint_at)?;
            std::fs::write(&marker, b"")?;
            println!(
                "  {kind:<8} journal written in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        let mut records = 0;
        for run in 0..options.runs {
            let cpu_before = process_cpu();
            let started = Instant::now();
            let memory = config().open(&dir)?;
            walls.push(started.elapsed());
            if let (Some(after), Some(before)) = (process_cpu(), cpu_before) {
                cpus.push(after.saturating_sub(before));
            }
            records = memory.recovery().map_or(0, |r| r.records());
            // Dropping a memory this size takes a while; it is not what is measured, and
            // the last one is left for the process's exit to free, so that a profile of
            // a single run shows opening alone.
            if run + 1 == options.runs && kind == options.open.last().expect("a kind") {
                std::mem::forget(memory);
            } else {
                drop(memory);
            }
        }
        let fastest = walls.iter().min().copied().unwrap_or_default();
        let wall = median(walls);
        let rate = |d: Duration| events as f64 / d.as_secs_f64().max(1e-9);
        let cpu = if cpus.is_empty() {
            "CPU unknown".to_owned()
        } else {
            let least = cpus.iter().min().copied().unwrap_or_default();
            let cpu = median(cpus);
            format!(
                "CPU {:.3} s ({:.0} events/s; least {:.3} s)",
                cpu.as_secs_f64(),
                rate(cpu),
                least.as_secs_f64()
            )
        };
        println!(
            "  {kind:<8} open: wall {:.3} s ({:.0} events/s; fastest {:.3} s), {cpu}; \
             {records} records replayed",
            wall.as_secs_f64(),
            rate(wall),
            fastest.as_secs_f64()
        );
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(())
}
