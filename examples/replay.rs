//! Replay: a vendor's CSV export fed to a [`Memory`] one row at a time, with each row's
//! decision printed as it is made.
//!
//! ```text
//! cargo run --release --example replay -- [--country XX] [--clusters FILE] [--skip-bad] [--data-dir DIR] INPUT.csv
//! ```
//!
//! Each row of `INPUT.csv` (format: see `regulars::import`) is observed, in file order, as
//! one order. Stdout gets `record_id,patron_id,decision,score` per row as it is decided:
//! the patron id memory gave the row, `known`, `review` or `new`, and the weight of
//! evidence in bits for the best candidate (empty when there was none). `--clusters FILE`
//! writes `record_id,patron_id` for every row at the end, after any merges, so rows of one
//! person share one id. `--country XX` reads national phone numbers as that country's.
//!
//! `--data-dir DIR` keeps memory in `DIR` (created if missing), journaled with group
//! commit: the run starts from what `DIR` holds, and a row is printed only once memory
//! has made it durable (rows wait a few milliseconds in a buffer; everything is synced at
//! the end). Rows whose record id memory has seen before are not printed again, so a run
//! that was killed can simply be started again on the same input: it skips what was
//! done, and its `--clusters` file is the one a single uninterrupted run would have
//! written. A row printed was durable; a row done but not yet printed when the run was
//! killed is skipped by the next run, never printed twice.
//!
//! Stderr gets a progress bar (on a terminal, for files over 1 MiB) and a summary. A bad
//! row stops the run with exit code 2 and a one-line error naming its line and column;
//! with `--skip-bad` it is reported, counted and skipped. Usage errors exit with 2 too.

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use regulars::import::{ImportError, OrderCsv};
use regulars::normalize::Country;
use regulars::{Error, Memory, PatronId};

const USAGE: &str = "\
usage: replay [--country XX] [--clusters FILE] [--skip-bad] [--data-dir DIR] INPUT.csv

  --country XX      read national phone numbers as this country's (ISO 3166-1 alpha-2)
  --clusters FILE   write record_id,patron_id for every row at the end, after merges
  --skip-bad        skip bad rows (and count them) instead of stopping at the first
  --data-dir DIR    keep memory in DIR: start from it, print rows once durable, skip rows seen
  -h, --help        this help";

/// Files under this size get no progress bar: they are done before it would show.
const PROGRESS_MIN_BYTES: u64 = 1 << 20;
/// The progress bar moves every this many rows.
const PROGRESS_EVERY: u64 = 4096;
/// With `--skip-bad`, this many skipped rows are reported one by one; the rest counted.
const SKIPS_SHOWN: u64 = 20;

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(failure) => return report(&failure),
    };
    match replay(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

// ================================================================ options

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    input: PathBuf,
    clusters: Option<PathBuf>,
    country: Option<Country>,
    skip_bad: bool,
    data_dir: Option<PathBuf>,
}

enum Parsed {
    Run(Options),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, Failure> {
    let mut args = args.into_iter();
    let mut input = None;
    let mut clusters = None;
    let mut country = None;
    let mut skip_bad = false;
    let mut data_dir = None;
    let mut only_paths = false;
    while let Some(arg) = args.next() {
        let text = arg.to_str().filter(|_| !only_paths);
        let Some(text) = text.filter(|t| t.starts_with('-') && *t != "-") else {
            if input.replace(PathBuf::from(arg)).is_some() {
                return Err(Failure::Usage("more than one input file".to_owned()));
            }
            continue;
        };
        // `--flag=value` or `--flag value`.
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) => (flag, Some(OsString::from(value))),
            None => (text, None),
        };
        let mut value = |flag: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| Failure::Usage(format!("{flag} needs a value")))
        };
        match flag {
            "--" => only_paths = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            "--skip-bad" => skip_bad = true,
            "--clusters" => clusters = Some(PathBuf::from(value(flag)?)),
            "--country" => country = Some(parse_country(&value(flag)?)?),
            "--data-dir" => data_dir = Some(PathBuf::from(value(flag)?)),
            _ => {
                return Err(Failure::Usage(format!("unknown option {}", shown(flag))));
            }
        }
    }
    let input = input.ok_or_else(|| Failure::Usage("no input file".to_owned()))?;
    Ok(Parsed::Run(Options {
        input,
        clusters,
        country,
        skip_bad,
        data_dir,
    }))
}

fn parse_country(value: &OsString) -> Result<Country, Failure> {
    value
        .to_str()
        .and_then(|code| Country::parse(code).ok())
        .ok_or_else(|| {
            Failure::Usage("--country needs an ISO 3166-1 alpha-2 code such as GB".to_owned())
        })
}

// ================================================================ failures

/// Why the run stopped.
enum Failure {
    /// The command line is wrong: the message, then the usage. Exit code 2.
    Usage(String),
    /// The input is unusable or a row is bad. Exit code 2.
    Input(String),
    /// Output could not be written. Exit code 1.
    Output(String, io::Error),
    /// Memory's journal could not be opened or written. Exit code 1.
    Memory(Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) => write!(f, "{message}\n{USAGE}"),
            Failure::Input(message) => f.write_str(message),
            Failure::Output(what, error) => write!(f, "{what}: {error}"),
            Failure::Memory(error) => write!(f, "memory: {error}"),
        }
    }
}

fn report(failure: &Failure) -> ExitCode {
    match failure {
        // Whoever read our output stopped reading: nothing to say to them.
        Failure::Output(_, error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        _ => eprintln!("replay: {failure}"),
    }
    match failure {
        Failure::Usage(_) | Failure::Input(_) => ExitCode::from(2),
        Failure::Output(..) | Failure::Memory(_) => ExitCode::FAILURE,
    }
}

fn output(what: &Path) -> impl Fn(io::Error) -> Failure + '_ {
    move |error| Failure::Output(what.display().to_string(), error)
}

fn stdout_failure(error: io::Error) -> Failure {
    Failure::Output("stdout".to_owned(), error)
}

// ================================================================ the replay

/// What happened, for the summary.
#[derive(Default)]
struct Tally {
    rows: u64,
    known: u64,
    review: u64,
    new: u64,
    skipped: u64,
    /// Rows memory had seen before (`--data-dir`): done by an earlier run.
    seen: u64,
}

fn replay(options: &Options) -> Result<(), Failure> {
    let started = Instant::now();
    let input_name = options.input.display().to_string();
    let file = File::open(&options.input)
        .map_err(|e| Failure::Input(format!("{input_name}: cannot open: {e}")))?;
    let size = file.metadata().map_or(0, |m| m.len());
    // Made before the long part, so a bad path fails at once.
    let clusters_file = match &options.clusters {
        Some(path) => Some(File::create(path).map_err(output(path))?),
        None => None,
    };
    let mut memory = build_memory(options.country, options.data_dir.as_deref())?;
    let durable = options.data_dir.is_some();
    let mut rows =
        OrderCsv::from_reader(file).map_err(|e| Failure::Input(format!("{input_name}: {e}")))?;

    let progress = progress_bar(size);
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    writeln!(out, "record_id,patron_id,decision,score").map_err(stdout_failure)?;

    let mut tally = Tally::default();
    let mut decided: Vec<(String, PatronId)> = Vec::new();
    // Rows decided but not durable yet (`--data-dir`), each with its journal seq.
    let mut waiting = Waiting::default();
    while let Some(row) = rows.next() {
        tally.rows += 1;
        if tally.rows % PROGRESS_EVERY == 0 {
            progress.set_position(rows.bytes_read());
        }
        match observe_row(&mut memory, row) {
            // Done by an earlier run (or earlier in this file): not printed again.
            Ok(Row {
                record_id,
                patron,
                seen: true,
                ..
            }) if durable => {
                tally.seen += 1;
                decided.push((record_id, patron));
            }
            Ok(Row {
                record_id,
                patron,
                decision,
                score,
                ..
            }) => {
                count_decision(&mut tally, decision);
                if durable {
                    let mut line = Vec::new();
                    write_row(&mut line, &record_id, patron, decision, score)
                        .map_err(stdout_failure)?;
                    waiting.push(memory.last_seq(), line);
                    waiting
                        .print_durable(&mut out, memory.durable_seq())
                        .map_err(stdout_failure)?;
                } else {
                    write_row(&mut out, &record_id, patron, decision, score)
                        .map_err(stdout_failure)?;
                }
                decided.push((record_id, patron));
            }
            Err(RowError::Memory(error)) => {
                progress.finish_and_clear();
                out.flush().map_err(stdout_failure)?;
                return Err(Failure::Memory(error));
            }
            Err(RowError::Import(error)) if options.skip_bad && !error.is_fatal() => {
                tally.skipped += 1;
                if tally.skipped <= SKIPS_SHOWN {
                    progress.suspend(|| eprintln!("replay: {input_name}: skipped {error}"));
                } else if tally.skipped == SKIPS_SHOWN + 1 {
                    progress.suspend(|| eprintln!("replay: further bad rows are counted only"));
                }
            }
            Err(RowError::Import(error)) => {
                progress.finish_and_clear();
                // What was decided before the bad row is made durable and printed.
                let synced = memory.sync().map_err(Failure::Memory)?;
                waiting
                    .print_durable(&mut out, synced)
                    .map_err(stdout_failure)?;
                out.flush().map_err(stdout_failure)?;
                return Err(Failure::Input(format!("{input_name}: {error}")));
            }
        }
    }
    let synced = memory.sync().map_err(Failure::Memory)?;
    waiting
        .print_durable(&mut out, synced)
        .map_err(stdout_failure)?;
    out.flush().map_err(stdout_failure)?;
    progress.finish_and_clear();

    let moved = survivors(&memory, &mut decided);
    if let (Some(file), Some(path)) = (clusters_file, &options.clusters) {
        write_clusters(file, &decided).map_err(output(path))?;
    }
    print_summary(&tally, memory.patron_count(), moved, started.elapsed());
    if durable {
        eprintln!(
            "replay: {} rows were in memory already (not printed again); memory is durable up to record {}",
            tally.seen,
            memory.durable_seq()
        );
    }
    Ok(())
}

fn build_memory(country: Option<Country>, data_dir: Option<&Path>) -> Result<Memory, Failure> {
    let builder = Memory::builder();
    let builder = match country {
        Some(country) => builder.default_country(country),
        None => builder,
    };
    match data_dir {
        Some(dir) => builder.open(dir).map_err(Failure::Memory),
        None => builder
            .build()
            .map_err(|e| Failure::Input(format!("memory: {e}"))),
    }
}

/// What became of one row.
struct Row {
    record_id: String,
    patron: PatronId,
    decision: &'static str,
    score: Option<f64>,
    /// Memory had seen its record id before: nothing changed.
    seen: bool,
}

/// Why a row stopped: it was bad, or memory could not journal it.
enum RowError {
    Import(ImportError),
    Memory(Error),
}

/// One row, observed.
fn observe_row(
    memory: &mut Memory,
    row: Result<regulars::import::ImportedRecord, ImportError>,
) -> Result<Row, RowError> {
    let row = row.map_err(RowError::Import)?;
    let line = row.line();
    let record_id = row.record_id().to_owned();
    let seen = memory.observe(row.into_event()).map_err(|e| match e {
        // The journal failing is not the row's fault, and no row can go on after it.
        Error::Io { .. } | Error::JournalFailed(_) | Error::RecordTooLarge { .. } => {
            RowError::Memory(e)
        }
        _ => RowError::Import(ImportError::from_observe(line, &e)),
    })?;
    let recognition = seen.recognition();
    Ok(Row {
        record_id,
        patron: seen.patron(),
        decision: recognition.decision(),
        score: recognition.score(),
        seen: seen.is_replay(),
    })
}

/// Printed rows waiting for memory to make them durable, oldest first.
#[derive(Default)]
struct Waiting(std::collections::VecDeque<(u64, Vec<u8>)>);

impl Waiting {
    fn push(&mut self, seq: u64, line: Vec<u8>) {
        self.0.push_back((seq, line));
    }

    /// Prints the rows durable up to `durable_seq`, and flushes them out.
    fn print_durable(&mut self, out: &mut impl Write, durable_seq: u64) -> io::Result<()> {
        let mut printed = false;
        while let Some((seq, line)) = self.0.front() {
            if *seq > durable_seq {
                break;
            }
            out.write_all(line)?;
            printed = true;
            self.0.pop_front();
        }
        if printed { out.flush() } else { Ok(()) }
    }
}

fn count_decision(tally: &mut Tally, decision: &str) {
    match decision {
        "known" => tally.known += 1,
        "review" => tally.review += 1,
        _ => tally.new += 1,
    }
}

fn write_row(
    out: &mut impl Write,
    record_id: &str,
    patron: PatronId,
    decision: &str,
    score: Option<f64>,
) -> io::Result<()> {
    let record_id = csv_field(record_id);
    let patron = patron.as_u64();
    match score {
        Some(score) => writeln!(out, "{record_id},{patron},{decision},{score:.2}"),
        None => writeln!(out, "{record_id},{patron},{decision},"),
    }
}

/// Points every row at the patron its patron id forwards to now (a merged id forwards to
/// the survivor); returns how many rows moved.
fn survivors(memory: &Memory, decided: &mut [(String, PatronId)]) -> u64 {
    let mut moved = 0;
    for (_, patron) in decided.iter_mut() {
        if let Some(now) = memory.patron(*patron).map(|p| p.id())
            && now != *patron
        {
            *patron = now;
            moved += 1;
        }
    }
    moved
}

fn write_clusters(file: File, decided: &[(String, PatronId)]) -> io::Result<()> {
    let mut out = BufWriter::new(file);
    writeln!(out, "record_id,patron_id")?;
    for (record_id, patron) in decided {
        writeln!(out, "{},{}", csv_field(record_id), patron.as_u64())?;
    }
    out.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}

fn print_summary(tally: &Tally, patrons: usize, moved: u64, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        tally.rows as f64 / seconds
    } else {
        0.0
    };
    eprintln!(
        "replay: {} rows, {} bad rows skipped\n\
         replay: decisions: {} known, {} review, {} new\n\
         replay: {patrons} patrons; {moved} rows moved to another patron by merges\n\
         replay: {seconds:.2} s, {rate:.0} rows/s",
        tally.rows, tally.skipped, tally.known, tally.review, tally.new,
    );
}

fn progress_bar(size: u64) -> ProgressBar {
    if size < PROGRESS_MIN_BYTES || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(size).with_style(style)
}

// ================================================================ text

/// A CSV field: quoted when it holds a comma, a quote, a line break or edge spaces.
fn csv_field(text: &str) -> Cow<'_, str> {
    let needs_quotes = text.contains([',', '"', '\n', '\r'])
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace);
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

/// An option as typed, escaped and cut short: it is untrusted text.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).flat_map(char::escape_debug).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}
