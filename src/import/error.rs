//! What can go wrong reading a vendor export, always named by line and column.

use std::fmt;

use crate::error::Error;

use super::Column;

/// Why a row (or the whole file) could not be imported.
///
/// Every variant names the line of the file (the header is line 1; a row spanning
/// several lines is named by its first) and, where one is to blame, the column. Messages
/// never quote the values: they are personal data, and import errors end up in logs.
///
/// Errors for one row leave the reader able to go on with the next row; an error for
/// which [`is_fatal`](ImportError::is_fatal) is true ends the import.
///
/// ```
/// use regulars::import::{ImportError, OrderCsv};
///
/// let csv = "record_id,birth_date\nr-1,17/05/1980\n";
/// let err = OrderCsv::from_reader(csv.as_bytes())?.next().unwrap().unwrap_err();
/// assert_eq!(err.line(), Some(2));
/// assert_eq!(err.column(), Some("birth_date"));
/// assert_eq!(err.to_string(), "line 2, column birth_date: value is malformed: expected YYYY-MM-DD");
/// assert!(!err.is_fatal());
/// # Ok::<(), ImportError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A value could not be used: a malformed date or timestamp, an unknown country
    /// code, an empty or repeated record id, a value longer than
    /// [`MAX_FIELD_BYTES`](super::MAX_FIELD_BYTES), or one `Memory::observe` refused (see
    /// [`from_observe`](ImportError::from_observe)).
    #[error("line {line}, column {column}: {reason}")]
    Field {
        /// The row's line.
        line: u64,
        /// The column's name, as listed in [`COLUMNS`](super::COLUMNS).
        column: &'static str,
        /// What was wrong, without the value.
        reason: String,
    },
    /// The row is not well-formed CSV for this file: it has a different number of fields
    /// than the header, or a column read is not valid UTF-8.
    #[error("line {line}{}: {reason}", InColumn(*.column))]
    Csv {
        /// The row's line.
        line: u64,
        /// The column, when one field is to blame.
        column: Option<&'static str>,
        /// What was wrong.
        reason: String,
    },
    /// The row says nothing to recognize a person by: every one of the name and
    /// identifier columns is missing or empty.
    #[error(
        "line {line}: no name and no identifier (given_name, family_name, email, phone, \
         card_token and loyalty_id are all empty)"
    )]
    NoIdentity {
        /// The row's line.
        line: u64,
    },
    /// `Memory::observe` refused the row's event for a reason no single column explains.
    #[error("line {line}: {source}")]
    Observe {
        /// The row's line.
        line: u64,
        /// The error `observe` returned.
        #[source]
        source: Error,
    },
    /// A required column is not in the header. Fatal.
    #[error("line {line}: the header has no {column} column")]
    MissingColumn {
        /// The header's line.
        line: u64,
        /// The column's name.
        column: &'static str,
    },
    /// A column appears twice in the header (names are compared trimmed and
    /// case-insensitively). Fatal.
    #[error("line {line}: the header has column {column} twice (fields {first} and {second})")]
    DuplicateColumn {
        /// The header's line.
        line: u64,
        /// The column's name.
        column: &'static str,
        /// Where it first appears, counting fields from 1.
        first: usize,
        /// Where it appears again, counting fields from 1.
        second: usize,
    },
    /// One record is longer than [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES); reading
    /// stops rather than buffer it. Fatal.
    #[error("line {line}: record is longer than {max_bytes} bytes; reading stopped")]
    RecordTooLong {
        /// The line at which the record starts.
        line: u64,
        /// The bound.
        max_bytes: usize,
    },
    /// Reading the input failed. Fatal.
    #[error("line {line}: reading failed: {source}")]
    Io {
        /// About where reading stopped.
        line: u64,
        /// The error from the reader.
        #[source]
        source: std::io::Error,
    },
}

/// Shows ", column NAME" when a column is known.
struct InColumn(Option<&'static str>);

impl fmt::Display for InColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(column) => write!(f, ", column {column}"),
            None => Ok(()),
        }
    }
}

impl ImportError {
    /// The error `Memory::observe` returned for the event of the row at `line`, named by
    /// the CSV column that caused it.
    ///
    /// Observe names a signal by its path in the event (``event `r-17`:
    /// order.buyer.email``); this finds the column that filled it: `street` is the
    /// `address` column, an external id is `loyalty_id`, the event and order ids are
    /// `record_id`. A person described by nothing is [`ImportError::NoIdentity`]; any
    /// other error is kept whole as [`ImportError::Observe`].
    ///
    /// ```
    /// use regulars::Memory;
    /// use regulars::import::{ImportError, OrderCsv};
    ///
    /// let csv = "record_id,email\nr-1,not-an-address\n";
    /// let row = OrderCsv::from_reader(csv.as_bytes())?.next().unwrap()?;
    /// let mut memory = Memory::new();
    /// let err = memory.observe(row.event().clone()).unwrap_err();
    /// let err = ImportError::from_observe(row.line(), &err);
    /// assert_eq!((err.line(), err.column()), (Some(2), Some("email")));
    /// assert!(!err.to_string().contains("not-an-address"));
    /// # Ok::<(), ImportError>(())
    /// ```
    pub fn from_observe(line: u64, error: &Error) -> ImportError {
        match error {
            Error::InvalidInput { location, reason } => match column_of(location) {
                Some(column) => ImportError::Field {
                    line,
                    column,
                    reason: format!("value {reason}"),
                },
                None => ImportError::Observe {
                    line,
                    source: error.clone(),
                },
            },
            Error::NoIdentity { .. } => ImportError::NoIdentity { line },
            Error::ConflictingEvent { .. } => ImportError::Field {
                line,
                column: Column::RecordId.name(),
                reason: "record id was already observed with different content".to_owned(),
            },
            Error::DuplicateId { kind: "order", .. } => ImportError::Field {
                line,
                column: Column::RecordId.name(),
                reason: "record id was already used as an order id by another event".to_owned(),
            },
            _ => ImportError::Observe {
                line,
                source: error.clone(),
            },
        }
    }

    /// The line the error is about (`None` for none yet).
    pub fn line(&self) -> Option<u64> {
        match self {
            ImportError::Field { line, .. }
            | ImportError::Csv { line, .. }
            | ImportError::NoIdentity { line }
            | ImportError::Observe { line, .. }
            | ImportError::MissingColumn { line, .. }
            | ImportError::DuplicateColumn { line, .. }
            | ImportError::RecordTooLong { line, .. }
            | ImportError::Io { line, .. } => Some(*line),
        }
    }

    /// The column to blame, when one is.
    pub fn column(&self) -> Option<&'static str> {
        match self {
            ImportError::Field { column, .. }
            | ImportError::MissingColumn { column, .. }
            | ImportError::DuplicateColumn { column, .. } => Some(column),
            ImportError::Csv { column, .. } => *column,
            _ => None,
        }
    }

    /// Whether the import cannot go on: the header is unusable, a record is too long, or
    /// reading failed. Other errors concern one row, and the next row can be read.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ImportError::MissingColumn { .. }
                | ImportError::DuplicateColumn { .. }
                | ImportError::RecordTooLong { .. }
                | ImportError::Io { .. }
        )
    }
}

/// The column that filled the signal at `location`, e.g. ``event `r-17`:
/// order.buyer.email`` → `email`.
fn column_of(location: &str) -> Option<&'static str> {
    // The field path comes last and never contains ": "; an event id shown before it may.
    let path = location
        .rsplit_once(": ")
        .map_or(location, |(_, path)| path);
    if path == "event id" || path == "order.id" {
        return Some(Column::RecordId.name());
    }
    let field = path
        .strip_prefix("order.buyer.")
        .or_else(|| path.strip_prefix("signals."))?;
    let column = match field {
        "given_name" => Column::GivenName,
        "family_name" => Column::FamilyName,
        "email" => Column::Email,
        "phone" => Column::Phone,
        "street" => Column::Address,
        "postcode" => Column::Postcode,
        "city" => Column::City,
        "country" => Column::Country,
        "birth_date" => Column::BirthDate,
        "card_token" => Column::CardToken,
        "external_ids" | "external_ids.system" | "external_ids.value" => Column::LoyaltyId,
        _ => return None,
    };
    Some(column.name())
}
