//! Journal records: one `Command` per public call that changed memory.
//!
//! Memory journals what it was *asked*, not what it did: the call and its arguments,
//! plus the one input that does not come with them (the time an event without a time
//! was applied at). Replaying the commands through the same methods, in the same order,
//! gives the same memory, because every write is deterministic (see the crate's
//! invariants). A record is a format byte, then the command in postcard.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Memory;
use super::identity::ReviewDecision;
use crate::error::{Error, Result};
use crate::journal::MAX_RECORD_BYTES;
use crate::model::catalog::{Performance, Production, Venue};
use crate::model::event::Event;
use crate::model::ids::PatronId;
use crate::model::profile::ProfileChange;

/// The first byte of every record: the encoding of the commands after it.
const FORMAT: u8 = 1;

/// One change asked of memory. Borrowed when journaling, owned when replaying.
///
/// The variants' order is the record format: add new ones at the end, never reorder.
// One short-lived value per call: boxing the event would allocate on every observe.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Command<'a> {
    DefineVenue(Cow<'a, Venue>),
    DefineProduction(Cow<'a, Production>),
    DefinePerformance(Cow<'a, Performance>),
    /// The event exactly as given (so a re-sent event's fingerprint still matches) and
    /// the time it was applied at.
    Observe {
        event: Cow<'a, Event>,
        at: DateTime<Utc>,
    },
    UpdateProfile {
        patron: PatronId,
        change: Cow<'a, ProfileChange>,
    },
    Merge {
        survivor: PatronId,
        absorbed: PatronId,
    },
    Split {
        absorbed: PatronId,
    },
    PinApart {
        a: PatronId,
        b: PatronId,
    },
    PinTogether {
        a: PatronId,
        b: PatronId,
    },
    Unpin {
        a: PatronId,
        b: PatronId,
    },
    ResolveReview {
        review: u64,
        decision: ReviewDecision,
    },
    Tick {
        now: DateTime<Utc>,
    },
    Erase {
        patron: PatronId,
    },
    OptOut {
        patron: PatronId,
    },
    OptIn {
        patron: PatronId,
    },
}

impl Command<'_> {
    /// Appends the record to `out`; refuses a command larger than a journal record may be,
    /// before memory changes.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.push(FORMAT);
        let buffer = std::mem::take(out);
        // Plain data always encodes; the error path only guards against a future type
        // that serde cannot write without knowing a length.
        *out = postcard::to_extend(self, buffer).map_err(|_| Error::InvalidInput {
            location: "journal record".to_owned(),
            reason: crate::normalize::Rejection::Malformed {
                expected: "a value the journal can encode",
            },
        })?;
        let len = out.len() - start;
        if len > MAX_RECORD_BYTES {
            out.truncate(start);
            return Err(Error::RecordTooLarge {
                len,
                max: MAX_RECORD_BYTES,
            });
        }
        Ok(())
    }
}

/// Reads a record written by [`Command::encode`]; the error says why it cannot be read.
pub(crate) fn decode(record: &[u8]) -> std::result::Result<Command<'static>, String> {
    match record.split_first() {
        None => Err("empty record".to_owned()),
        Some((&FORMAT, body)) => {
            let (command, rest) = postcard::take_from_bytes::<Command<'static>>(body)
                .map_err(|e| format!("undecodable command: {e}"))?;
            if rest.is_empty() {
                Ok(command)
            } else {
                Err(format!("{} bytes after the command", rest.len()))
            }
        }
        Some((format, _)) => Err(format!(
            "record format {format}, this build reads format {FORMAT}"
        )),
    }
}

impl Memory {
    /// Applies a replayed command through the same method the original call went
    /// through. Journaling is off while replaying (memory holds no journal yet).
    pub(crate) fn apply(&mut self, command: Command<'_>) -> Result<()> {
        match command {
            Command::DefineVenue(venue) => self.define_venue(venue.into_owned()),
            Command::DefineProduction(production) => {
                self.define_production(production.into_owned())
            }
            Command::DefinePerformance(performance) => {
                self.define_performance(performance.into_owned())
            }
            // Sealing is idempotent: a journal written with the key replays as written.
            Command::Observe { event, at } => {
                let sealed = self.sealed_event(&event);
                self.observe_at(&sealed, at).map(drop)
            }
            Command::UpdateProfile { patron, change } => {
                self.update_profile(patron, change.into_owned())
            }
            Command::Merge { survivor, absorbed } => self.merge(survivor, absorbed).map(drop),
            Command::Split { absorbed } => self.split(absorbed).map(drop),
            Command::PinApart { a, b } => self.pin_apart(a, b),
            Command::PinTogether { a, b } => self.pin_together(a, b).map(drop),
            Command::Unpin { a, b } => {
                self.unpin(a, b);
                Ok(())
            }
            Command::ResolveReview { review, decision } => self.resolve_review(review, decision),
            Command::Tick { now } => self.try_tick(now).map(drop),
            Command::Erase { patron } => self.erase(patron).map(drop),
            Command::OptOut { patron } => self.opt_out(patron),
            Command::OptIn { patron } => self.opt_in(patron),
        }
    }
}
