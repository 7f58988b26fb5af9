//! Journal records: one `Command` per public call that changed memory.
//!
//! Memory journals what it was *asked*: the call and its arguments, plus the one input
//! that does not come with them (the time an event without a time was applied at).
//! Replaying the commands through the same methods, in the same order, gives the same
//! memory, because every write is deterministic (see the crate's invariants).
//!
//! It also journals the one decision that is expensive to make again: what recognition
//! decided for each set of signals an event carried (known patron and the duplicates it
//! proved, review with its candidates, or new; household members in each case). Replay
//! applies those [`Decision`]s instead of scoring candidates again, through the same write
//! path (`resolve` takes the recorded decision where it would have asked the strategies),
//! so opening is faster and a memory reopened under changed strategies or thresholds still
//! holds the patrons it held: a recorded decision wins over what scoring would say now.
//!
//! Recorded decisions are *trusted, and checked for consistency*: replay does not score
//! again to confirm them, but refuses (with [`Error::JournalReplay`] naming the seq) a
//! decision that names a patron memory does not hold, links a merged patron, or a record
//! whose event needed more or fewer decisions than it carries. Moments, figures, indexes
//! and due times are recomputed by the write path as before.
//!
//! A record is a format byte, then the command in postcard; under formats 2 and 4 the
//! command is followed by the decisions (a postcard sequence of [`Decision`]). Records
//! without decisions (formats 1 and 3: journals written before decisions were recorded,
//! or a command whose decisions would not fit in one record) are replayed by scoring
//! again. Formats 3 and 4, written now, hold times as integers
//! ([`binary_time`](super::binary_time)); 1 and 2 hold them as RFC 3339 text and are still
//! read.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Memory;
use super::identity::ReviewDecision;
use super::state::State;
use crate::error::{Error, Result};
use crate::journal::MAX_RECORD_BYTES;
use crate::model::catalog::{Performance, Production, Venue};
use crate::model::event::Event;
use crate::model::ids::PatronId;
use crate::model::profile::ProfileChange;
use crate::recognize::{Agreement, Candidate, Evidence, EvidenceItem, Field, Recognition};

/// The first byte of a record holding a command alone.
const FORMAT: u8 = 3;
/// The first byte of a record holding a command, then the recognition decisions made
/// while applying it.
const FORMAT_WITH_DECISIONS: u8 = 4;
/// [`FORMAT`] and [`FORMAT_WITH_DECISIONS`] as written before times were integers.
const TEXT_TIMES_FORMAT: u8 = 1;
const TEXT_TIMES_FORMAT_WITH_DECISIONS: u8 = 2;

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
        #[serde(with = "super::binary_time")]
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
        #[serde(with = "super::binary_time")]
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

/// Appends the recognition decisions made while applying the command already encoded
/// in `record` (by [`Command::encode`]), turning it into a format 2 record. Leaves the
/// record as it was (format 1: replay will score again) if they would make it too large.
pub(crate) fn append_decisions(record: &mut Vec<u8>, decisions: &[Decision]) {
    if decisions.is_empty() || record.first() != Some(&FORMAT) {
        return;
    }
    let len = record.len();
    let buffer = std::mem::take(record);
    match postcard::to_extend(decisions, buffer) {
        Ok(mut extended) if extended.len() <= MAX_RECORD_BYTES => {
            extended[0] = FORMAT_WITH_DECISIONS;
            *record = extended;
        }
        Ok(mut extended) => {
            extended.truncate(len);
            *record = extended;
        }
        // Plain data always encodes; should it not, the record keeps the command alone.
        Err(_) => {}
    }
}

/// A record read back: the command, and the decisions recorded with it (format 2).
#[derive(Debug)]
pub(crate) struct Replayed {
    pub(crate) command: Command<'static>,
    pub(crate) decisions: Option<Vec<Decision>>,
}

/// Reads a record written by [`Command::encode`] (and [`append_decisions`]); the error
/// says why it cannot be read.
pub(crate) fn decode(record: &[u8]) -> std::result::Result<Replayed, String> {
    let _text_times = matches!(
        record.first(),
        Some(&(TEXT_TIMES_FORMAT | TEXT_TIMES_FORMAT_WITH_DECISIONS))
    )
    .then(super::binary_time::TextTimes::start);
    match record.split_first() {
        None => Err("empty record".to_owned()),
        Some((&(FORMAT | TEXT_TIMES_FORMAT), body)) => {
            let (command, rest) = postcard::take_from_bytes::<Command<'static>>(body)
                .map_err(|e| format!("undecodable command: {e}"))?;
            if rest.is_empty() {
                Ok(Replayed {
                    command,
                    decisions: None,
                })
            } else {
                Err(format!("{} bytes after the command", rest.len()))
            }
        }
        Some((&(FORMAT_WITH_DECISIONS | TEXT_TIMES_FORMAT_WITH_DECISIONS), body)) => {
            let (command, rest) = postcard::take_from_bytes::<Command<'static>>(body)
                .map_err(|e| format!("undecodable command: {e}"))?;
            let (decisions, rest) = postcard::take_from_bytes::<Vec<Decision>>(rest)
                .map_err(|e| format!("undecodable recognition decisions: {e}"))?;
            if rest.is_empty() {
                Ok(Replayed {
                    command,
                    decisions: Some(decisions),
                })
            } else {
                Err(format!("{} bytes after the decisions", rest.len()))
            }
        }
        Some((format, _)) => Err(format!(
            "record format {format}, this build reads formats 1 to {FORMAT_WITH_DECISIONS}"
        )),
    }
}

/// What recognition decided for one set of signals, as journaled: everything the write
/// path acts on (who, which duplicates to merge, which candidates to queue for review,
/// which household members to link), none of the scoring that led there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Decision {
    /// A patron memory knew, and the other patrons the record proved to be them.
    Known {
        patron: PatronId,
        duplicates: Vec<PatronId>,
        household: Vec<PatronId>,
    },
    /// Not sure: a new provisional patron and a review item with these candidates.
    Review {
        candidates: Vec<Candidate>,
        household: Vec<PatronId>,
    },
    /// Nobody memory knew: a new patron.
    New { household: Vec<PatronId> },
}

impl Decision {
    fn of(recognition: &Recognition) -> Decision {
        match recognition {
            Recognition::Known {
                patron,
                duplicates,
                household,
                ..
            } => Decision::Known {
                patron: *patron,
                duplicates: duplicates.clone(),
                household: household.clone(),
            },
            Recognition::Review {
                candidates,
                household,
            } => Decision::Review {
                candidates: candidates.clone(),
                household: household.clone(),
            },
            Recognition::New { household, .. } => Decision::New {
                household: household.clone(),
            },
        }
    }

    /// The recognition the write path acts on, once the decision is found consistent
    /// with memory as it is now.
    fn into_recognition(self, state: &State) -> std::result::Result<Recognition, String> {
        let exists = |id: PatronId, role: &str| match state.patron(id) {
            Some(_) => Ok(()),
            None => Err(format!(
                "the recorded recognition names {role} patron {id}, which memory does not hold"
            )),
        };
        let check_all =
            |ids: &[PatronId], role: &str| ids.iter().try_for_each(|&id| exists(id, role));
        match self {
            Decision::Known {
                patron,
                duplicates,
                household,
            } => {
                exists(patron, "known")?;
                if state.live(patron) != patron {
                    return Err(format!(
                        "the recorded recognition links patron {patron}, which was merged"
                    ));
                }
                check_all(&duplicates, "duplicate")?;
                check_all(&household, "household")?;
                let mut evidence = Evidence::new();
                evidence.push(EvidenceItem::new(
                    Field::Event,
                    Agreement::Agrees,
                    "recognition recorded in the journal",
                    30.0,
                ));
                Ok(Recognition::Known {
                    patron,
                    confidence: evidence.confidence(),
                    evidence,
                    runner_up: None,
                    duplicates,
                    household,
                })
            }
            Decision::Review {
                candidates,
                household,
            } => {
                candidates
                    .iter()
                    .try_for_each(|c| exists(c.patron(), "candidate"))?;
                check_all(&household, "household")?;
                Ok(Recognition::Review {
                    candidates,
                    household,
                })
            }
            Decision::New { household } => {
                check_all(&household, "household")?;
                Ok(Recognition::New {
                    nearest: None,
                    household,
                })
            }
        }
    }
}

/// The recognition decisions of the command being applied: recorded while a journaled
/// memory applies a call, handed back in order while replaying a format 2 record.
#[derive(Debug, Default)]
pub(crate) struct Decisions {
    mode: Mode,
}

#[derive(Debug, Default)]
enum Mode {
    /// Neither: a memory without a journal, or a format 1 record being replayed.
    #[default]
    Off,
    Recording(Vec<Decision>),
    Replaying {
        recorded: std::vec::IntoIter<Decision>,
        /// Why a recorded decision could not be applied (scoring was used instead, and
        /// replay fails once the command is applied).
        refused: Option<String>,
    },
}

impl Decisions {
    /// Starts recording the decisions of a journaled call (dropping any left by a call
    /// that failed before it was journaled).
    pub(crate) fn record(&mut self) {
        match &mut self.mode {
            Mode::Recording(made) => made.clear(),
            mode => *mode = Mode::Recording(Vec::new()),
        }
    }

    /// The decisions recorded since [`record`](Self::record).
    pub(crate) fn recorded(&self) -> &[Decision] {
        match &self.mode {
            Mode::Recording(made) => made,
            _ => &[],
        }
    }
}

impl Memory {
    /// The recognition a replayed record decided, if it recorded one: the write path
    /// acts on it instead of scoring candidates again. `None` otherwise (and when the
    /// recorded decision is inconsistent with memory: that refuses the record once it
    /// is applied).
    pub(crate) fn recorded_recognition(&mut self) -> Option<Recognition> {
        let Mode::Replaying { recorded, refused } = &mut self.state.decisions.mode else {
            return None;
        };
        if refused.is_some() {
            return None;
        }
        let Some(decision) = recorded.next() else {
            *refused =
                Some("its event needed more recognition decisions than it recorded".to_owned());
            return None;
        };
        match decision.into_recognition(&self.state) {
            Ok(recognition) => Some(recognition),
            Err(reason) => {
                if let Mode::Replaying { refused, .. } = &mut self.state.decisions.mode {
                    *refused = Some(reason);
                }
                None
            }
        }
    }

    /// Notes what recognition decided, when the call is being journaled.
    pub(crate) fn note_recognition(&mut self, recognition: &Recognition) {
        if let Mode::Recording(made) = &mut self.state.decisions.mode {
            made.push(Decision::of(recognition));
        }
    }

    /// Applies a replayed record through the same method the original call went
    /// through, with the recognition decisions it recorded. Journaling is off while
    /// replaying (memory holds no journal yet). The error says why the record could not
    /// be applied, for [`Error::JournalReplay`].
    pub(crate) fn apply_replayed(&mut self, replayed: Replayed) -> std::result::Result<(), String> {
        let Some(decisions) = replayed.decisions else {
            self.state.decisions.mode = Mode::Off;
            return self.apply(replayed.command).map_err(|e| e.to_string());
        };
        self.state.decisions.mode = Mode::Replaying {
            recorded: decisions.into_iter(),
            refused: None,
        };
        let applied = self.apply(replayed.command);
        let mode = std::mem::take(&mut self.state.decisions.mode);
        applied.map_err(|e| e.to_string())?;
        let Mode::Replaying { recorded, refused } = mode else {
            return Ok(());
        };
        if let Some(reason) = refused {
            return Err(reason);
        }
        if !recorded.as_slice().is_empty() {
            return Err(format!(
                "{} recognition decisions recorded that its event did not need",
                recorded.len()
            ));
        }
        Ok(())
    }

    /// Applies a replayed command through the same method the original call went
    /// through. Journaling is off while replaying (memory holds no journal yet).
    fn apply(&mut self, command: Command<'_>) -> Result<()> {
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
