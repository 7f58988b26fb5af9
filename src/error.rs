//! The crate's one error type.

use crate::normalize::Rejection;

/// Everything that can go wrong when feeding or querying a [`Memory`](crate::Memory).
///
/// Every variant says *what* was wrong and *where* (the event id and the field path), never
/// the offending personal data itself, so messages are safe to log. When an operation returns
/// an error, memory is exactly as it was before the call — except when a journaled memory
/// fails to write its journal (see [`Error::JournalFailed`]).
///
/// ```
/// use regulars::{Event, Memory, Order, PerformanceId, Signals, Ticket, Error};
///
/// let mut memory = Memory::new();
/// let order = Order::new("o-1", Signals::new().email("ana@example.org"))
///     .ticket(Ticket::new("t-1", PerformanceId::new("no-such-show")));
/// let err = memory.observe(Event::order("e-1", order)).unwrap_err();
/// assert!(matches!(err, Error::UnknownPerformance { .. }));
/// assert_eq!(memory.patron_count(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given by the caller could not be used.
    #[error("{location}: {reason}")]
    InvalidInput {
        /// Where the value was: the event id (if any) and the field path.
        location: String,
        /// What was wrong with it.
        reason: Rejection,
    },
    /// A person was described with nothing that could identify them.
    #[error("{location}: no identifier and no name to recognize the person by")]
    NoIdentity {
        /// Where the person was described.
        location: String,
    },
    /// An event id was seen before with different content.
    #[error("event {event}: already observed with different content")]
    ConflictingEvent {
        /// The reused event id.
        event: String,
    },
    /// An id that must be unique was already used by another event.
    #[error("event {event}: {kind} {id} was already used by another event")]
    DuplicateId {
        /// The event that tried to reuse the id.
        event: String,
        /// What kind of id (`"order"`, `"ticket"`, `"scan"`).
        kind: &'static str,
        /// The reused id.
        id: String,
    },
    /// An event referred to a performance that is not in the catalog.
    #[error("{location}: unknown performance {performance}")]
    UnknownPerformance {
        /// Where the reference was.
        location: String,
        /// The performance id as given.
        performance: String,
    },
    /// A catalog entry referred to a production or venue that is not defined.
    #[error("{location}: unknown {kind} {id}")]
    UnknownCatalogEntry {
        /// Where the reference was.
        location: String,
        /// `"production"` or `"venue"`.
        kind: &'static str,
        /// The id as given.
        id: String,
    },
    /// A scan or refund referred to a ticket this memory has never seen.
    #[error("{location}: unknown ticket {ticket}")]
    UnknownTicket {
        /// Where the reference was.
        location: String,
        /// The ticket id as given.
        ticket: String,
    },
    /// A refund referred to an order this memory has never seen.
    #[error("{location}: unknown order {order}")]
    UnknownOrder {
        /// Where the reference was.
        location: String,
        /// The order id as given.
        order: String,
    },
    /// A scan presented a ticket that was refunded.
    #[error("{location}: ticket {ticket} was refunded")]
    TicketRefunded {
        /// Where the scan was.
        location: String,
        /// The refunded ticket.
        ticket: String,
    },
    /// A [`MemoryBuilder`](crate::MemoryBuilder) setting cannot work.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No patron has this id.
    #[error("unknown patron {0}")]
    UnknownPatron(crate::PatronId),
    /// A catalog change would contradict history already recorded against it.
    #[error("{location}: {what}")]
    CatalogConflict {
        /// The catalog entry.
        location: String,
        /// What the change would contradict.
        what: &'static str,
    },
    /// The patrons were pinned apart, so they cannot be merged.
    #[error("patrons {0} and {1} are pinned apart")]
    PinnedApart(crate::PatronId, crate::PatronId),
    /// The patrons were pinned together, so their merge cannot be undone.
    #[error("patrons {0} and {1} are pinned together")]
    PinnedTogether(crate::PatronId, crate::PatronId),
    /// The patron was never merged into another, so there is nothing to split.
    #[error("patron {0} is not merged into another")]
    NotMerged(crate::PatronId),
    /// No open review item has this id.
    #[error("unknown review item {0}")]
    UnknownReview(u64),
    /// A snapshot could not be loaded: not a snapshot, damaged, or from another format
    /// version.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(String),
    /// Reading or writing a journal or snapshot file failed.
    ///
    /// Holds the [`std::io::ErrorKind`] and the system's message rather than the
    /// [`std::io::Error`] itself, so the error stays `Clone + PartialEq`.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory the operation was on.
        path: String,
        /// The kind of I/O failure.
        kind: std::io::ErrorKind,
        /// What was being done, and the system's message.
        message: String,
    },
    /// A journal segment or snapshot is damaged in a way recovery must not paper over:
    /// a bad record followed by good ones, a bad header, a gap in sequence numbers.
    #[error("{file}: corrupt at byte {offset}: {reason}")]
    CorruptJournal {
        /// The damaged file.
        file: String,
        /// Byte offset of the damage in the file.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A journal record was larger than
    /// [`MAX_RECORD_BYTES`](crate::journal::MAX_RECORD_BYTES).
    #[error("journal record of {len} bytes is larger than the {max} byte limit")]
    RecordTooLarge {
        /// The record's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Records asked for by a replay are no longer in the journal: a snapshot covers them.
    #[error(
        "journal records after seq {after_seq} were compacted into a snapshot; \
         the journal now starts at seq {first_available}"
    )]
    Compacted {
        /// The `after_seq` the replay was asked for.
        after_seq: u64,
        /// The first sequence number the journal still holds.
        first_available: u64,
    },
    /// A snapshot was given a sequence number the journal cannot take.
    #[error("snapshot at seq {seq}: {reason}")]
    InvalidSnapshotSeq {
        /// The sequence number given.
        seq: u64,
        /// Why it cannot be used.
        reason: String,
    },
    /// A journal record could not be replayed when memory was opened: it does not decode,
    /// or applying it failed. Either the journal was written by another version of this
    /// crate, or memory was opened with another configuration (strategies, rules,
    /// thresholds) than the one that wrote it, so the same commands no longer have the
    /// same effect.
    #[error("journal record {seq} cannot be replayed: {reason}")]
    JournalReplay {
        /// The record's sequence number.
        seq: u64,
        /// Why it could not be decoded or applied.
        reason: String,
    },
    /// Memory takes no more writes: an earlier write changed memory but could not be
    /// journaled (or made durable), so memory may be ahead of the disk. Reopen the memory
    /// from its journal to continue; it then holds exactly what the journal holds.
    #[error("memory refuses writes until it is reopened: journaling failed earlier: {0}")]
    JournalFailed(Box<Error>),
    /// Recording this would take a patron's history past
    /// [`Limits::history_per_patron`](crate::Limits::history_per_patron); memory is
    /// unchanged. Nothing is evicted: see that setter for why.
    #[error(
        "{location}: patron {patron} has {len} interactions; \
         {adding} more would pass the history_per_patron limit of {max}"
    )]
    HistoryFull {
        /// Where the patron came from: the event and field, or the identity operation.
        location: String,
        /// The patron whose history is full.
        patron: crate::PatronId,
        /// Interactions in that patron's history now.
        len: usize,
        /// How many the call would add.
        adding: usize,
        /// The limit.
        max: usize,
    },
    /// The patron was erased ([`Memory::erase`](crate::Memory::erase)): nothing about them
    /// can be read, changed or merged any more. A person who comes back is a new patron.
    #[error("patron {0} was erased")]
    ErasedPatron(crate::PatronId),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shows a vendor-supplied id in a message: escaped, and cut to a readable length, because
/// vendor strings are untrusted and may be huge or full of control characters.
pub(crate) fn shown(id: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out = String::with_capacity(id.len().min(MAX_CHARS) + 2);
    out.push('`');
    for (i, c) in id.chars().enumerate() {
        if i == MAX_CHARS {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('`');
    out
}

/// Builds the location of a field inside an event, e.g. ``event `e-7`: order.buyer.email``.
pub(crate) fn at(event: &str, field: impl std::fmt::Display) -> String {
    format!("event {}: {field}", shown(event))
}
