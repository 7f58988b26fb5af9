//! Replay: a vendor's CSV export fed to a [`Memory`] one row at a time, with each row's
//! decision printed as it is made.
//!
//! ```text
//! cargo run --release --example replay -- [--country XX] [--clusters FILE] [--skip-bad] [--data-dir DIR] [--moments] INPUT.csv
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
//! An import of past orders proposes no moments: a gesture for an order placed years ago
//! has no one to reach, and the moments an import would fire are not the ones the box
//! office should act on. So memory is built without moment rules, which also spares the
//! import their cost. `--moments` keeps memory's default rules, for a data dir that is to
//! carry on live with the ledger of what they would have fired (decisions, the printed
//! rows and `--clusters` are the same either way).
//!
//! The file is read and parsed, and each row's signals normalized (with
//! [`Memory::preparer`]), on a second thread a few hundred rows ahead, while the main
//! thread observes the rows in file order: the output is the same as one thread's.
//!
//! Stderr gets a progress bar (on a terminal, for files over 1 MiB) and a summary. A bad
//! row stops the run with exit code 2 and a one-line error naming its line and column;
//! with `--skip-bad` it is reported, counted and skipped. Usage errors exit with 2 too.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use regulars::import::{ImportError, OrderCsv};
use regulars::normalize::Country;
use regulars::{Error, Memory, PatronId, PreparedEvent, Preparer};

const USAGE: &str = "\
usage: replay [--country XX] [--clusters FILE] [--skip-bad] [--data-dir DIR] [--moments] INPUT.csv

  --country XX      read national phone numbers as this country's (ISO 3166-1 alpha-2)
  --clusters FILE   write record_id,patron_id for every row at the end, after merges
  --skip-bad        skip bad rows (and count them) instead of stopping at the first
  --data-dir DIR    keep memory in DIR: start from it, print rows once durable, skip rows seen
  --moments         run memory's default moment rules on the imported orders (off: past
                    orders propose no moments)
  -h, --help        this help";

/// Files under this size get no progress bar: they are done before it would show.
const PROGRESS_MIN_BYTES: u64 = 1 << 20;
/// The progress bar moves every this many rows.
const PROGRESS_EVERY: u64 = 4096;
/// With `--skip-bad`, this many skipped rows are reported one by one; the rest counted.
const SKIPS_SHOWN: u64 = 20;
/// The reader thread sends rows on this many at a time, so that the two threads meet
/// once per batch rather than once per row.
const BATCH_ROWS: usize = 256;
/// The reader thread stays at most this many batches ahead: memory use stays bounded
/// however long the file.
const BATCHES_AHEAD: usize = 8;

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
    /// Run memory's default moment rules on the imported orders.
    moments: bool,
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
    let mut moments = false;
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
            "--moments" => moments = true,
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
        moments,
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
    let mut memory = build_memory(options)?;
    let rows =
        OrderCsv::from_reader(file).map_err(|e| Failure::Input(format!("{input_name}: {e}")))?;

    let progress = progress_bar(size);
    let mut run = Run {
        options,
        input_name: &input_name,
        progress: &progress,
        out: BufWriter::new(io::stdout().lock()),
        tally: Tally::default(),
        decided: Decided::new(options.clusters.is_some()),
        waiting: Waiting::default(),
        line: Vec::with_capacity(64),
    };
    writeln!(run.out, "record_id,patron_id,decision,score").map_err(stdout_failure)?;
    // The reader parses ahead on its own thread; rows arrive here in file order. When
    // this thread stops early, dropping `batches` ends the reader at its next send.
    std::thread::scope(|scope| {
        let (sender, batches) = mpsc::sync_channel(BATCHES_AHEAD);
        // Room for every batch there can be, so that giving one back never waits.
        let (give_back, spares) = mpsc::sync_channel(BATCHES_AHEAD + 2);
        let preparer = memory.preparer();
        scope.spawn(move || read_ahead(rows, &preparer, &sender, &spares));
        run.observe_all(&mut memory, &batches, &give_back)
    })?;
    let synced = memory.sync().map_err(Failure::Memory)?;
    let Run {
        mut out,
        tally,
        mut decided,
        mut waiting,
        ..
    } = run;
    waiting
        .print_durable(&mut out, synced)
        .map_err(stdout_failure)?;
    out.flush().map_err(stdout_failure)?;
    progress.finish_and_clear();

    let moved = decided.follow_merges(&memory);
    if let (Some(file), Some(path)) = (clusters_file, &options.clusters) {
        decided.write_clusters(file).map_err(output(path))?;
    }
    print_summary(&tally, memory.patron_count(), moved, started.elapsed());
    if options.data_dir.is_some() {
        eprintln!(
            "replay: {} rows were in memory already (not printed again); memory is durable up to record {}",
            tally.seen,
            memory.durable_seq()
        );
    } else {
        // The process ends now: freeing every patron one by one would only add to the
        // run's time. (A journaled memory is dropped, so its journal closes properly.)
        std::mem::forget(memory);
    }
    Ok(())
}

/// Rows the reader thread parsed and prepared, in file order, and how far into the file
/// it was.
struct Batch {
    rows: Vec<Result<ReadRow, ImportError>>,
    /// The rows' record ids as printed (CSV-quoted where needed), each with the comma
    /// that follows it, one after the other.
    record_ids: Vec<u8>,
    bytes_read: u64,
}

/// A row as the reader thread hands it on: its line, its event with the signals
/// normalized already, and where its printed record id is in its batch's `record_ids`.
struct ReadRow {
    line: u64,
    event: PreparedEvent,
    record_id: Range<usize>,
}

/// Observed batches' buffers, sent back to the reader thread to be emptied and filled
/// again: reused, they are not allocated anew for every batch, and the rows they still
/// hold are dropped there, their frees off the main thread.
struct Spare {
    rows: Vec<Result<ReadRow, ImportError>>,
    record_ids: Vec<u8>,
}

/// Parses the export, quotes each row's record id for printing and normalizes its
/// signals (memory's own work, done here so that memory's thread has less of it), then
/// sends the rows on in batches, until the file ends, a fatal error ends the reader, or
/// nobody listens any more.
fn read_ahead(
    mut rows: OrderCsv<File>,
    preparer: &Preparer,
    sender: &SyncSender<Batch>,
    spares: &Receiver<Spare>,
) {
    loop {
        let Spare {
            rows: mut batch,
            mut record_ids,
        } = spares.try_recv().unwrap_or_else(|_| Spare {
            rows: Vec::with_capacity(BATCH_ROWS),
            record_ids: Vec::new(),
        });
        batch.clear();
        record_ids.clear();
        batch.extend(rows.by_ref().take(BATCH_ROWS).map(|row| {
            row.map(|row| {
                let start = record_ids.len();
                write_field(&mut record_ids, row.record_id());
                ReadRow {
                    line: row.line(),
                    record_id: start..record_ids.len(),
                    event: preparer.prepare(row.into_event()),
                }
            })
        }));
        if batch.is_empty() {
            return;
        }
        let batch = Batch {
            rows: batch,
            record_ids,
            bytes_read: rows.bytes_read(),
        };
        if sender.send(batch).is_err() {
            return;
        }
    }
}

/// The main thread's side of a run: memory is fed the rows, and their decisions printed.
struct Run<'a, W: Write> {
    options: &'a Options,
    input_name: &'a str,
    progress: &'a ProgressBar,
    out: W,
    tally: Tally,
    decided: Decided,
    /// Rows decided but not durable yet (`--data-dir`), each with its journal seq.
    waiting: Waiting,
    /// The row being printed; reused, so that printing a row allocates nothing.
    line: Vec<u8>,
}

impl<W: Write> Run<'_, W> {
    fn observe_all(
        &mut self,
        memory: &mut Memory,
        batches: &Receiver<Batch>,
        give_back: &SyncSender<Spare>,
    ) -> Result<(), Failure> {
        let mut next_progress = PROGRESS_EVERY;
        for batch in batches {
            // Observed in place: the rows go back to the reader thread to be dropped.
            for row in &batch.rows {
                self.tally.rows += 1;
                self.observe(memory, row, &batch.record_ids)?;
            }
            if self.tally.rows >= next_progress {
                self.progress.set_position(batch.bytes_read);
                next_progress = self.tally.rows + PROGRESS_EVERY;
            }
            // Only fails when the reader is done: the buffers are then simply dropped.
            let _ = give_back.try_send(Spare {
                rows: batch.rows,
                record_ids: batch.record_ids,
            });
        }
        Ok(())
    }

    /// Observes one row and prints its decision (once durable, with `--data-dir`).
    fn observe(
        &mut self,
        memory: &mut Memory,
        row: &Result<ReadRow, ImportError>,
        record_ids: &[u8],
    ) -> Result<(), Failure> {
        let durable = self.options.data_dir.is_some();
        let row = match row {
            Ok(row) => row,
            Err(error) => return self.bad_row(memory, error),
        };
        let ReadRow {
            line,
            event,
            record_id,
        } = row;
        self.line.clear();
        self.line.extend_from_slice(&record_ids[record_id.clone()]);
        let seen = match memory.observe_prepared(event) {
            Ok(seen) => seen,
            // The journal failing is not the row's fault, and no row can go on after it.
            Err(
                error @ (Error::Io { .. } | Error::JournalFailed(_) | Error::RecordTooLarge { .. }),
            ) => {
                self.progress.finish_and_clear();
                self.out.flush().map_err(stdout_failure)?;
                return Err(Failure::Memory(error));
            }
            Err(error) => return self.bad_row(memory, &ImportError::from_observe(*line, &error)),
        };
        let patron = seen.patron();
        self.decided.push(&self.line, patron);
        // Done by an earlier run (or earlier in this file): not printed again.
        if durable && seen.is_replay() {
            self.tally.seen += 1;
            return Ok(());
        }
        let recognition = seen.recognition();
        let decision = recognition.decision();
        count_decision(&mut self.tally, decision);
        finish_row(&mut self.line, patron, decision, recognition.score());
        if durable {
            self.waiting.push(memory.last_seq(), self.line.clone());
            self.waiting
                .print_durable(&mut self.out, memory.durable_seq())
                .map_err(stdout_failure)
        } else {
            self.out.write_all(&self.line).map_err(stdout_failure)
        }
    }

    /// A row that could not be observed: skipped with `--skip-bad`, else the end of the run.
    fn bad_row(&mut self, memory: &mut Memory, error: &ImportError) -> Result<(), Failure> {
        let input_name = self.input_name;
        if self.options.skip_bad && !error.is_fatal() {
            self.tally.skipped += 1;
            if self.tally.skipped <= SKIPS_SHOWN {
                self.progress
                    .suspend(|| eprintln!("replay: {input_name}: skipped {error}"));
            } else if self.tally.skipped == SKIPS_SHOWN + 1 {
                self.progress
                    .suspend(|| eprintln!("replay: further bad rows are counted only"));
            }
            return Ok(());
        }
        self.progress.finish_and_clear();
        // What was decided before the bad row is made durable and printed.
        let synced = memory.sync().map_err(Failure::Memory)?;
        self.waiting
            .print_durable(&mut self.out, synced)
            .map_err(stdout_failure)?;
        self.out.flush().map_err(stdout_failure)?;
        Err(Failure::Input(format!("{input_name}: {error}")))
    }
}

fn build_memory(options: &Options) -> Result<Memory, Failure> {
    let mut builder = Memory::builder();
    if let Some(country) = options.country {
        builder = builder.default_country(country);
    }
    if !options.moments {
        builder = builder.without_default_rules();
    }
    match &options.data_dir {
        Some(dir) => builder.open(dir).map_err(Failure::Memory),
        None => builder
            .build()
            .map_err(|e| Failure::Input(format!("memory: {e}"))),
    }
}

/// Every row observed, in file order: the patron memory gave it, and (for `--clusters`)
/// its record id as printed, all ids in one buffer rather than one allocation each.
struct Decided {
    patrons: Vec<PatronId>,
    /// The printed record ids one after the other, and where each ends; empty unless
    /// the clusters are asked for.
    record_ids: Vec<u8>,
    ends: Vec<usize>,
    keep_ids: bool,
}

impl Decided {
    fn new(keep_ids: bool) -> Self {
        Self {
            patrons: Vec::new(),
            record_ids: Vec::new(),
            ends: Vec::new(),
            keep_ids,
        }
    }

    /// Files a row: `field` starts with the record id as printed, then a comma.
    fn push(&mut self, field: &[u8], patron: PatronId) {
        self.patrons.push(patron);
        if self.keep_ids {
            let id = field.strip_suffix(b",").unwrap_or(field);
            self.record_ids.extend_from_slice(id);
            self.ends.push(self.record_ids.len());
        }
    }

    /// Points every row at the patron its patron id forwards to now (a merged id forwards
    /// to the survivor); returns how many rows moved.
    fn follow_merges(&mut self, memory: &Memory) -> u64 {
        let mut moved = 0;
        for patron in &mut self.patrons {
            if let Some(now) = memory.patron(*patron).map(|p| p.id())
                && now != *patron
            {
                *patron = now;
                moved += 1;
            }
        }
        moved
    }

    fn write_clusters(&self, file: File) -> io::Result<()> {
        let mut out = BufWriter::new(file);
        writeln!(out, "record_id,patron_id")?;
        let mut start = 0;
        let mut line = Vec::with_capacity(64);
        for (&end, patron) in self.ends.iter().zip(&self.patrons) {
            line.clear();
            line.extend_from_slice(&self.record_ids[start..end]);
            line.push(b',');
            write_u64(&mut line, patron.as_u64());
            line.push(b'\n');
            out.write_all(&line)?;
            start = end;
        }
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()
    }
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

/// Ends a printed row, which holds its record id and a comma: patron id, decision and
/// score, then the line break.
fn finish_row(line: &mut Vec<u8>, patron: PatronId, decision: &str, score: Option<f64>) {
    write_u64(line, patron.as_u64());
    line.push(b',');
    line.extend_from_slice(decision.as_bytes());
    line.push(b',');
    if let Some(score) = score {
        write_score(line, score);
    }
    line.push(b'\n');
}

/// Appends `n` in decimal, as `{n}` would, without going through `fmt` (which costs
/// several times more, on the thread that observes).
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Appends `score` as `{score:.2}` would, byte for byte, but without `fmt`'s exact
/// float formatting for the scores (nearly all) whose rounding the hundredths in `f64`
/// settle beyond doubt; the others (near a tie, huge, not finite) go through `fmt`.
fn write_score(out: &mut Vec<u8>, score: f64) {
    let hundredths = score.abs() * 100.0;
    let whole = hundredths.floor();
    // Exact: the fraction of an `f64` is an `f64`.
    let fraction = hundredths - whole;
    // Below 2^32 hundredths, `score * 100` is within 2^-20 of its exact value, so a
    // fraction this far from one half rounds the same way as the exact value would.
    if hundredths < 4_294_967_296.0 && (fraction - 0.5).abs() > 1e-4 {
        let rounded = whole as u64 + u64::from(fraction > 0.5);
        // `fmt` keeps the sign of a negative score, even one that rounds to zero.
        if score.is_sign_negative() {
            out.push(b'-');
        }
        write_u64(out, rounded / 100);
        let cents = (rounded % 100) as u8;
        out.extend_from_slice(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
    } else {
        // Writing to a `Vec` cannot fail.
        let _ = write!(out, "{score:.2}");
    }
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

/// Appends a CSV field and a comma: the field quoted when it holds a comma, a quote, a
/// line break or edge spaces.
fn write_field(out: &mut Vec<u8>, text: &str) {
    let needs_quotes = text.contains([',', '"', '\n', '\r'])
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace);
    if needs_quotes {
        out.push(b'"');
        for part in text.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
    out.push(b',');
}

/// An option as typed, escaped and cut short: it is untrusted text.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).flat_map(char::escape_debug).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{write_score, write_u64};

    /// `write_score` must print exactly what `{:.2}` prints, ties and signs included:
    /// the rows replay prints are compared byte for byte across versions.
    #[test]
    fn scores_print_as_fmt_prints_them() {
        let mut specials = vec![
            0.0,
            -0.0,
            0.004,
            -0.004,
            0.005,
            -0.005,
            0.015,
            0.125,
            -0.125,
            0.375,
            1.005,
            2.675,
            30.85,
            -9.83,
            42_949_672.95,
            42_949_672.96,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // Exact binary fractions (ties such as x.125 among them) and near-ties.
        specials.extend((-40_000..40_000).map(|i| f64::from(i) / 1024.0));
        specials.extend((-40_000..40_000).map(|i| f64::from(i) * 0.005));
        // Arbitrary bit patterns, from a fixed seed.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            specials.push(f64::from_bits(state));
            specials.push((state >> 11) as f64 / (1u64 << 53) as f64 * 400.0 - 200.0);
        }
        let mut printed = Vec::new();
        for score in specials {
            printed.clear();
            write_score(&mut printed, score);
            assert_eq!(
                String::from_utf8_lossy(&printed),
                format!("{score:.2}"),
                "{score:e}"
            );
        }
    }

    #[test]
    fn integers_print_as_fmt_prints_them() {
        let mut printed = Vec::new();
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            printed.clear();
            write_u64(&mut printed, n);
            assert_eq!(printed, n.to_string().into_bytes());
        }
    }
}
