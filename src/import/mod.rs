//! Vendor exports to events: CSV rows of person records become observed orders.
//!
//! A vendor's bulk export is a CSV file with a header row and one person record per row.
//! [`OrderCsv`] reads it one row at a time and turns each row into an [`Event`]: an order
//! without tickets whose event id and order id are the row's `record_id`, placed by the
//! person the other columns describe, at the row's `ts` if it has one. Feed each event to
//! [`Memory::observe`](crate::Memory::observe) in file order.
//!
//! A large export goes faster on two threads: one reads rows and normalizes their
//! signals with a [`Preparer`](crate::Preparer) (from
//! [`Memory::preparer`](crate::Memory::preparer)), the other feeds them in file order to
//! [`Memory::observe_prepared`](crate::Memory::observe_prepared), with the same results.
//! The `replay` example does this.
//!
//! # Format
//!
//! Columns are found by name in the header: in any order, names trimmed and compared
//! case-insensitively. Columns not listed here are ignored; a listed column may be left
//! out, and an empty cell is a missing value. Only `record_id` is required.
//!
//! | column | becomes |
//! |---|---|
//! | `record_id` | event id and order id; must be non-empty and unique within the file |
//! | `ts` | [`Event::at`]: RFC 3339 (`2026-03-01T19:30:00+01:00`), `YYYY-MM-DD HH:MM:SS` (UTC) or `YYYY-MM-DD` (midnight UTC) |
//! | `given_name`, `family_name` | [`Signals::given_name`], [`Signals::family_name`] |
//! | `email`, `phone` | [`Signals::email`], [`Signals::phone`] |
//! | `address` | [`Signals::street`] |
//! | `postcode`, `city` | [`Signals::postcode`], [`Signals::city`] |
//! | `country` | [`Signals::country`]: an ISO 3166-1 alpha-2 code |
//! | `birth_date` | [`Signals::birth_date`]: `YYYY-MM-DD` |
//! | `card_token` | [`Signals::card_token`] |
//! | `loyalty_id` | [`Signals::external_id`]`("loyalty", …)` |
//!
//! Values are trimmed. A UTF-8 byte-order mark at the start of the file is dropped,
//! quoted fields may hold commas, quotes and line breaks, and lines end in `\n`, `\r\n` or
//! a lone `\r` (old Mac exports); lines in errors count all three.
//! A value longer than [`MAX_FIELD_BYTES`] is refused, and reading stops at a record
//! longer than [`MAX_RECORD_BYTES`].
//!
//! # Errors
//!
//! Every [`ImportError`] names the line (the header is line 1) and, where one is to
//! blame, the column, and never the value. A bad row does not end the import: the
//! iterator goes on with the next row unless the error [is fatal](ImportError::is_fatal).
//! What `observe` refuses later (a malformed e-mail, say) is named by column with
//! [`ImportError::from_observe`].
//!
//! ```
//! use regulars::Memory;
//! use regulars::import::{ImportError, OrderCsv};
//!
//! let export = "\
//! Record_ID,Email,Given_Name,ts
//! r-1,ana.silva@example.org,Ana,2026-02-01 10:00:00
//! r-2,  Ana.Silva@EXAMPLE.org ,ANA,2026-03-10
//! ";
//! let mut memory = Memory::new();
//! let mut decisions = Vec::new();
//! for row in OrderCsv::from_reader(export.as_bytes())? {
//!     let row = row?;
//!     let line = row.line();
//!     let seen = memory
//!         .observe(row.into_event())
//!         .map_err(|e| ImportError::from_observe(line, &e))?;
//!     decisions.push(seen.recognition().decision());
//! }
//! assert_eq!(decisions, ["new", "known"]);
//! # Ok::<(), ImportError>(())
//! ```

mod error;
mod source;

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::model::event::{Event, Order};
use crate::model::ids::check_vendor_id;
use crate::normalize::Country;
use crate::signals::Signals;

pub use error::ImportError;
use source::Guarded;

/// The longest value accepted in a column this module reads, in bytes.
pub const MAX_FIELD_BYTES: usize = 4096;

/// The longest record (one row, every field, ignored columns included) read, in bytes.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The columns [`OrderCsv`] reads, as they are named in the header (case aside).
pub const COLUMNS: [&str; 13] = [
    "record_id",
    "ts",
    "given_name",
    "family_name",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
    "country",
    "birth_date",
    "card_token",
    "loyalty_id",
];

/// A column this module reads; its discriminant is its place in [`COLUMNS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    RecordId,
    Ts,
    GivenName,
    FamilyName,
    Email,
    Phone,
    Address,
    Postcode,
    City,
    Country,
    BirthDate,
    CardToken,
    LoyaltyId,
}

impl Column {
    fn name(self) -> &'static str {
        COLUMNS[self as usize]
    }
}

/// Reads a vendor's CSV export one row at a time: an iterator of
/// [`ImportedRecord`]s, or of [`ImportError`]s naming line and column.
///
/// See the [module documentation](self) for the format. The reader reads the header when
/// made, then one record per call to `next`; it holds one record and the record ids seen
/// so far, never the whole file. After a [fatal](ImportError::is_fatal) error it yields
/// nothing more.
///
/// ```
/// use regulars::import::{ImportError, OrderCsv};
///
/// let export = "record_id,given_name,family_name,email\n\
///               r-1,Ana,Silva,ana@example.org\n\
///               r-2,\"Silva, Jr\",,\n";
/// let rows: Vec<_> = OrderCsv::from_reader(export.as_bytes())?.collect::<Result<_, _>>()?;
/// assert_eq!(rows[1].record_id(), "r-2");
/// assert_eq!(rows[1].line(), 3);
/// assert_eq!(rows[1].event().id().as_str(), "r-2");
/// # Ok::<(), ImportError>(())
/// ```
pub struct OrderCsv<R> {
    csv: csv::Reader<Guarded<R>>,
    /// For each column of [`COLUMNS`], the index of its field, when the header has it.
    fields: [Option<usize>; COLUMNS.len()],
    record: csv::ByteRecord,
    /// Each record id seen, with the line it was first seen on.
    seen: HashMap<Box<str>, u64>,
    rows: u64,
    done: bool,
}

impl<R> fmt::Debug for OrderCsv<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns: Vec<&str> = self.columns().collect();
        f.debug_struct("OrderCsv")
            .field("columns", &columns)
            .field("rows", &self.rows)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Read> OrderCsv<R> {
    /// Reads the header from `reader` and maps the columns.
    ///
    /// Errors when the header has no `record_id` column
    /// ([`ImportError::MissingColumn`], also for an empty input), names one column twice
    /// ([`ImportError::DuplicateColumn`]; repeated columns this module does not read are
    /// ignored), or cannot be read.
    ///
    /// ```
    /// use regulars::import::{ImportError, OrderCsv};
    ///
    /// let err = OrderCsv::from_reader("id,email\n".as_bytes()).unwrap_err();
    /// assert!(matches!(err, ImportError::MissingColumn { column: "record_id", .. }));
    /// let err = OrderCsv::from_reader("record_id,Email, EMAIL \n".as_bytes()).unwrap_err();
    /// assert_eq!(err.to_string(), "line 1: the header has column email twice (fields 2 and 3)");
    /// ```
    pub fn from_reader(reader: R) -> Result<Self, ImportError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(Guarded::new(reader, MAX_RECORD_BYTES));
        csv.get_mut().start_record();
        let mut fields = [None; COLUMNS.len()];
        let read = csv.byte_headers().cloned();
        let end = csv.position().byte();
        let line = csv.get_mut().record_line(0, end);
        let header = read.map_err(|e| read_error(&csv, e, line))?;
        for (i, name) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(name);
            let name = name.trim().to_ascii_lowercase();
            let Some(column) = COLUMNS.iter().position(|c| *c == name) else {
                continue;
            };
            if let Some(first) = fields[column] {
                return Err(ImportError::DuplicateColumn {
                    line,
                    column: COLUMNS[column],
                    first: first + 1,
                    second: i + 1,
                });
            }
            fields[column] = Some(i);
        }
        if fields[Column::RecordId as usize].is_none() {
            return Err(ImportError::MissingColumn {
                line,
                column: Column::RecordId.name(),
            });
        }
        Ok(Self {
            csv,
            fields,
            record: csv::ByteRecord::new(),
            seen: HashMap::new(),
            rows: 0,
            done: false,
        })
    }
}

impl<R> OrderCsv<R> {
    /// The columns of [`COLUMNS`] the header has, in the order of [`COLUMNS`].
    pub fn columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        COLUMNS
            .iter()
            .zip(&self.fields)
            .filter(|(_, field)| field.is_some())
            .map(|(name, _)| *name)
    }

    /// How many rows were read so far, bad ones included.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }
}

impl<R: Read> OrderCsv<R> {
    /// How many bytes of the input were consumed so far (after a byte-order mark), for
    /// progress reports.
    pub fn bytes_read(&self) -> u64 {
        self.csv.position().byte()
    }
}

impl<R: Read> Iterator for OrderCsv<R> {
    type Item = Result<ImportedRecord, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.csv.get_mut().start_record();
        let start = self.csv.position().byte();
        let read = self.csv.read_byte_record(&mut self.record);
        let end = self.csv.position().byte();
        let line = self.csv.get_mut().record_line(start, end);
        match read {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                self.rows += 1;
                Some(self.build(line))
            }
            Err(e) => {
                let error = read_error(&self.csv, e, line);
                if error.is_fatal() {
                    self.done = true;
                } else {
                    self.rows += 1;
                }
                Some(Err(error))
            }
        }
    }
}

impl<R: Read> OrderCsv<R> {
    /// The value of a column in the current record: trimmed, `None` when the column is
    /// absent or the cell empty.
    fn value(&self, column: Column, line: u64) -> Result<Option<&str>, ImportError> {
        let Some(bytes) = self.fields[column as usize].and_then(|i| self.record.get(i)) else {
            return Ok(None);
        };
        if bytes.len() > MAX_FIELD_BYTES {
            return Err(field_error(
                line,
                column,
                format!("value is longer than {MAX_FIELD_BYTES} bytes"),
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ImportError::Csv {
            line,
            column: Some(column.name()),
            reason: "value is not valid UTF-8".to_owned(),
        })?;
        let text = text.trim();
        Ok((!text.is_empty()).then_some(text))
    }

    /// Builds the current record's event.
    fn build(&mut self, line: u64) -> Result<ImportedRecord, ImportError> {
        let record_id = self.record_id(line)?;
        let at = match self.value(Column::Ts, line)? {
            Some(text) => Some(timestamp(text).ok_or_else(|| {
                field_error(
                    line,
                    Column::Ts,
                    "value is malformed: expected an RFC 3339 timestamp, \
                     YYYY-MM-DD HH:MM:SS (UTC) or YYYY-MM-DD"
                        .to_owned(),
                )
            })?),
            None => None,
        };
        let signals = self.signals(line)?;
        let mut event = Event::order(record_id.as_str(), Order::new(record_id.as_str(), signals));
        if let Some(at) = at {
            event = event.at(at);
        }
        Ok(ImportedRecord {
            line,
            record_id,
            event,
        })
    }

    /// The current record's id, checked and remembered.
    fn record_id(&mut self, line: u64) -> Result<String, ImportError> {
        let Some(id) = self.value(Column::RecordId, line)? else {
            return Err(field_error(
                line,
                Column::RecordId,
                "value is empty".to_owned(),
            ));
        };
        check_vendor_id(id)
            .map_err(|reason| field_error(line, Column::RecordId, format!("value {reason}")))?;
        if let Some(first) = self.seen.get(id) {
            return Err(field_error(
                line,
                Column::RecordId,
                format!("record id already used on line {first}"),
            ));
        }
        let id = id.to_owned();
        self.seen.insert(id.as_str().into(), line);
        Ok(id)
    }

    /// The person the current record describes.
    fn signals(&self, line: u64) -> Result<Signals, ImportError> {
        let mut signals = Signals::new();
        let text_columns: [(Column, Setter); 9] = [
            (Column::GivenName, |s, v| s.given_name(v)),
            (Column::FamilyName, |s, v| s.family_name(v)),
            (Column::Email, |s, v| s.email(v)),
            (Column::Phone, |s, v| s.phone(v)),
            (Column::Address, |s, v| s.street(v)),
            (Column::Postcode, |s, v| s.postcode(v)),
            (Column::City, |s, v| s.city(v)),
            (Column::CardToken, |s, v| s.card_token(v)),
            (Column::LoyaltyId, |s, v| s.external_id("loyalty", v)),
        ];
        for (column, set) in text_columns {
            if let Some(value) = self.value(column, line)? {
                signals = set(signals, value);
            }
        }
        if let Some(value) = self.value(Column::Country, line)? {
            let country = Country::parse(value)
                .map_err(|reason| field_error(line, Column::Country, format!("value {reason}")))?;
            signals = signals.country(country.as_str());
        }
        if let Some(value) = self.value(Column::BirthDate, line)? {
            let date = date(value).ok_or_else(|| {
                field_error(
                    line,
                    Column::BirthDate,
                    "value is malformed: expected YYYY-MM-DD".to_owned(),
                )
            })?;
            signals = signals.birth_date(date);
        }
        Ok(signals)
    }
}

/// Sets one signal from a column's value.
type Setter = fn(Signals, &str) -> Signals;

/// One row of the export, as an event ready for [`Memory::observe`](crate::Memory::observe).
///
/// `Debug` shows which signals the row has, never their values.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedRecord {
    line: u64,
    record_id: String,
    event: Event,
}

impl ImportedRecord {
    /// The line of the file the row starts on (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }
    /// The row's `record_id`, trimmed.
    pub fn record_id(&self) -> &str {
        &self.record_id
    }
    /// The row as an event: an order without tickets, event id and order id both the
    /// record id.
    pub fn event(&self) -> &Event {
        &self.event
    }
    /// The event, to pass to [`Memory::observe`](crate::Memory::observe).
    pub fn into_event(self) -> Event {
        self.event
    }
}

fn field_error(line: u64, column: Column, reason: String) -> ImportError {
    ImportError::Field {
        line,
        column: column.name(),
        reason,
    }
}

/// Turns an error of the CSV reader into ours.
fn read_error<R: Read>(csv: &csv::Reader<Guarded<R>>, error: csv::Error, line: u64) -> ImportError {
    if csv.get_ref().tripped() {
        return ImportError::RecordTooLong {
            line,
            max_bytes: MAX_RECORD_BYTES,
        };
    }
    match error.into_kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => ImportError::Csv {
            line,
            column: None,
            reason: format!("row has {len} fields, the header has {expected_len}"),
        },
        csv::ErrorKind::Io(source) => ImportError::Io { line, source },
        _ => ImportError::Io {
            line,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "unreadable CSV"),
        },
    }
}

/// Whether `text` has the shape of `pattern`, where `d` is any ASCII digit.
fn shaped(text: &str, pattern: &str) -> bool {
    text.len() == pattern.len()
        && text.bytes().zip(pattern.bytes()).all(|(c, p)| {
            if p == b'd' {
                c.is_ascii_digit()
            } else {
                c == p
            }
        })
}

/// `YYYY-MM-DD`, exactly.
fn date(text: &str) -> Option<NaiveDate> {
    if !shaped(text, "dddd-dd-dd") {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// RFC 3339, `YYYY-MM-DD HH:MM:SS` in UTC, or `YYYY-MM-DD` at midnight UTC.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if shaped(text, "dddd-dd-dd dd:dd:dd") {
        return NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|at| at.and_utc());
    }
    date(text)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}
