//! Journal records: one `Command` per public call that changed memory.
//!
//! Memory journals what it was *asked*: the call and its arguments, plus the one input
//! that does not come with them (the time an event without a time was applied at).
//! Replaying the commands through the same methods, in the same order, gives the same
//! memory, because every write is deterministic (see the crate's invariants).
//!
//! It also journals what is expensive to work out again. First, what normalizing each
//! person's signals gave (names folded, e-mails and phones in canonical form, address,
//! birth date): replay takes them from the record instead of normalizing again, so a
//! journal written before a change to normalization still replays to the memory it was.
//! A memory with an identifier key records none and normalizes again: its identifiers
//! are sealed already (cheap to take as they are), and that checks them against the key.
//! Second, what recognition decided for each set of signals an event carried (known patron and the duplicates it
//! proved, review with its candidates, or new; household members in each case). Replay
//! applies those [`Decision`]s instead of scoring candidates again, through the same write
//! path (`resolve` takes the recorded decision where it would have asked the strategies),
//! so opening is faster and a memory reopened under changed strategies or thresholds still
//! holds the patrons it held: a recorded decision wins over what scoring would say now.
//!
//! Recorded decisions are *trusted, and checked for consistency*: replay does not score
//! again to confirm them, but refuses (with [`Error::JournalReplay`] naming the seq) a
//! decision that names a patron memory does not hold, links a merged patron, or a record
//! whose event needed more or fewer decisions than it carries.
//!
//! Moments are recomputed by the write path, but a record also says whose moments fired
//! each time the rules were asked while applying it (most of the time: no rule's). Replay
//! asks only those rules, and skips asking when none fired. That fires the same moments:
//! rules only read memory, which is the same, so those rules propose what they proposed
//! then; the engine admits candidates one by one and a candidate it did not fire changed
//! nothing, so leaving out the other rules' candidates leaves the fate of these as it was.
//! The same once-per keys are held and the same due times filed. Rules are named by
//! position, so a record also carries a fingerprint of the rule set that wrote it (the
//! rule ids in registration order): a memory opened with other rules (added, removed or
//! reordered) asks every rule again for it, as for a record without fired rules. A record
//! whose call asked the rules more or fewer times than it says, or that names a rule
//! position past the end of its own rule set, is refused like an inconsistent decision.
//!
//! A record is a format byte, then the command in postcard. Format 5, written now, follows
//! the command with the decisions (a postcard sequence of [`Decision`]), the rule set's
//! fingerprint (a `u32`), for each time the
//! rules were asked the indices (in registration order) of the rules whose moments fired,
//! and the people as normalized (a sequence of name, identifiers, address, birth date) in
//! the order the call normalized them. Format 3 is the command alone: a call that neither
//! normalized nor recognized anyone nor asked the rules, or one whose record would not fit
//! otherwise; replay normalizes, scores and asks every rule again for it. Earlier formats are still read: 4 (command and decisions; replay
//! asks every rule), and 1 and 2 (as 3 and 4, with times as RFC 3339 text rather than
//! integers, see [`binary_time`](super::binary_time)).

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Memory;
use super::identity::ReviewDecision;
use super::state::State;
use crate::error::{Error, Result};
use crate::journal::MAX_RECORD_BYTES;
use crate::model::catalog::{Performance, Production, Venue};
use crate::model::event::Event;
use crate::model::ids::PatronId;
use crate::model::profile::{Address, Identifier, PersonName, ProfileChange};
use crate::moments::Moment;
use crate::moments::ledger::RuleIdx;
use crate::recognize::{Agreement, Candidate, Evidence, EvidenceItem, Field, Recognition};
use crate::signals::NormalizedSignals;

/// The first byte of a record holding a command alone.
const FORMAT: u8 = 3;
/// The first byte of a record holding a command, then the recognition decisions made
/// while applying it.
const FORMAT_WITH_DECISIONS: u8 = 4;
/// The first byte of a record holding a command, the recognition decisions made while
/// applying it, then the rules whose moments fired each time the rules were asked.
const FORMAT_WITH_PLANS: u8 = 5;
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

/// Appends what was recorded while applying the command already encoded in `record` (by
/// [`Command::encode`]): the recognition decisions, the rules whose moments fired and the
/// people as normalizing their signals gave them,
/// turning it into a format 5 record. Leaves the record as it was (the command alone:
/// replay will score and ask every rule again) if nothing was recorded or it would make
/// the record too large.
pub(crate) fn append_recorded(record: &mut Vec<u8>, recorded: &Decisions, rule_set: u32) {
    let Mode::Recording {
        decisions,
        plans,
        people,
        people_count,
    } = &recorded.mode
    else {
        return;
    };
    // `usize::MAX` people: one could not be encoded, so the record keeps the command
    // alone.
    if (decisions.is_empty() && plans.is_empty() && *people_count == 0)
        || *people_count == usize::MAX
        || record.first() != Some(&FORMAT)
    {
        return;
    }
    let len = record.len();
    let buffer = std::mem::take(record);
    // The people are encoded already, one after the other: with their count in front
    // they read back as a sequence.
    let extended = postcard::to_extend(decisions, buffer)
        .and_then(|buffer| postcard::to_extend(&rule_set, buffer))
        .and_then(|buffer| postcard::to_extend(plans, buffer))
        .and_then(|buffer| postcard::to_extend(people_count, buffer))
        .map(|mut buffer| {
            buffer.extend_from_slice(people);
            buffer
        });
    match extended {
        Ok(mut extended) if extended.len() <= MAX_RECORD_BYTES => {
            extended[0] = FORMAT_WITH_PLANS;
            *record = extended;
        }
        Ok(mut extended) => {
            extended.truncate(len);
            *record = extended;
        }
        // Plain data always encodes; should it not, the record keeps the command alone
        // (the buffer went with the error: encoding it again costs only this rare case).
        Err(_) => {}
    }
}

/// A record read back: the command, the decisions recorded with it (formats 2, 4 and 5)
/// and the rules whose moments fired (format 5).
#[derive(Debug)]
pub(crate) struct Replayed {
    pub(crate) command: Command<'static>,
    pub(crate) decisions: Option<Vec<Decision>>,
    /// The fingerprint of the rule set that wrote them, and the fired rules.
    pub(crate) plans: Option<(u32, Vec<FiredRules>)>,
    pub(crate) people: Option<Vec<NormalizedSignals>>,
}

/// One person's signals as normalizing gave them, as a record holds them (written from
/// borrowed parts, read back owned).
#[derive(Serialize)]
struct PersonRecord<'a> {
    name: Option<&'a PersonName>,
    identifiers: &'a [Identifier],
    address: &'a Address,
    birth_date: Option<NaiveDate>,
}

/// [`PersonRecord`] read back. The identifiers are read straight into the inline
/// storage [`NormalizedSignals`] keeps them in (a slice and a small vector are written
/// alike), rather than into a vector copied there and freed.
#[derive(Deserialize)]
struct ReadPerson {
    name: Option<PersonName>,
    identifiers: smallvec::SmallVec<[Identifier; 4]>,
    address: Address,
    birth_date: Option<NaiveDate>,
}

impl From<ReadPerson> for NormalizedSignals {
    fn from(person: ReadPerson) -> Self {
        NormalizedSignals::from_parts(
            person.name,
            person.identifiers,
            person.address,
            person.birth_date,
        )
    }
}

/// A sequence read onto the end of a vector replay keeps from one record to the next, so
/// that reading a record allocates no vector for its decisions, fired rules or people.
/// Items are read as `R` and kept as `T` (the people straight into the normalized signals
/// replay hands out, rather than into a vector of [`ReadPerson`] converted into a second
/// one).
struct ReadInto<'v, T, R>(&'v mut Vec<T>, std::marker::PhantomData<R>);

impl<'de, T, R> serde::de::DeserializeSeed<'de> for ReadInto<'_, T, R>
where
    R: Deserialize<'de> + Into<T>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T, R> serde::de::Visitor<'de> for ReadInto<'_, T, R>
where
    R: Deserialize<'de> + Into<T>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<(), A::Error> {
        // The count comes from the record: a few items at most in practice, and a larger
        // claim only costs what the record's bytes can fill.
        self.0.reserve(seq.size_hint().unwrap_or(0).min(8));
        while let Some(item) = seq.next_element::<R>()? {
            self.0.push(item.into());
        }
        Ok(())
    }
}

/// Reads a sequence from the front of `bytes` onto the end of `into`; returns the bytes
/// after it.
fn read_into<'de, T, R: Deserialize<'de> + Into<T>>(
    bytes: &'de [u8],
    into: &mut Vec<T>,
) -> postcard::Result<&'de [u8]> {
    use serde::de::DeserializeSeed;
    let mut deserializer = postcard::Deserializer::from_bytes(bytes);
    ReadInto::<T, R>(into, std::marker::PhantomData).deserialize(&mut deserializer)?;
    deserializer.finalize()
}

/// The vectors a replayed record's decisions, fired rules and people are read into, kept
/// (empty) from one record to the next.
#[derive(Debug, Default)]
pub(crate) struct ReplayBuffers {
    decisions: Vec<Decision>,
    plans: Vec<FiredRules>,
    people: Vec<NormalizedSignals>,
}

/// The rules (by registration index, in that order) whose moments fired when the rules
/// were asked once: usually none, rarely more than one.
pub(crate) type FiredRules = smallvec::SmallVec<[RuleIdx; 2]>;

/// Reads a record written by [`Command::encode`] (and [`append_decisions`]); the error
/// says why it cannot be read.
///
/// Its decisions, fired rules and people are read into the vectors of `buffers` (handed
/// back by [`Memory::apply_replayed`] once the record is applied).
fn decode(record: &[u8], buffers: &mut ReplayBuffers) -> std::result::Result<Replayed, String> {
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
                    plans: None,
                    people: None,
                })
            } else {
                Err(format!("{} bytes after the command", rest.len()))
            }
        }
        Some((&(FORMAT_WITH_DECISIONS | TEXT_TIMES_FORMAT_WITH_DECISIONS), body)) => {
            let (command, rest) = postcard::take_from_bytes::<Command<'static>>(body)
                .map_err(|e| format!("undecodable command: {e}"))?;
            let mut decisions = std::mem::take(&mut buffers.decisions);
            decisions.clear();
            let rest = read_into::<_, Decision>(rest, &mut decisions)
                .map_err(|e| format!("undecodable recognition decisions: {e}"))?;
            if rest.is_empty() {
                Ok(Replayed {
                    command,
                    decisions: Some(decisions),
                    plans: None,
                    people: None,
                })
            } else {
                Err(format!("{} bytes after the decisions", rest.len()))
            }
        }
        Some((&FORMAT_WITH_PLANS, body)) => {
            let (command, rest) = postcard::take_from_bytes::<Command<'static>>(body)
                .map_err(|e| format!("undecodable command: {e}"))?;
            let mut decisions = std::mem::take(&mut buffers.decisions);
            decisions.clear();
            let rest = read_into::<_, Decision>(rest, &mut decisions)
                .map_err(|e| format!("undecodable recognition decisions: {e}"))?;
            let (rule_set, rest) = postcard::take_from_bytes::<u32>(rest)
                .map_err(|e| format!("undecodable rule set: {e}"))?;
            let mut plans = std::mem::take(&mut buffers.plans);
            plans.clear();
            let rest = read_into::<_, FiredRules>(rest, &mut plans)
                .map_err(|e| format!("undecodable fired rules: {e}"))?;
            let mut people = std::mem::take(&mut buffers.people);
            people.clear();
            let rest = read_into::<_, ReadPerson>(rest, &mut people)
                .map_err(|e| format!("undecodable normalized signals: {e}"))?;
            if rest.is_empty() {
                Ok(Replayed {
                    command,
                    decisions: Some(decisions),
                    plans: Some((rule_set, plans)),
                    people: Some(people),
                })
            } else {
                Err(format!("{} bytes after the normalized signals", rest.len()))
            }
        }
        Some((format, _)) => Err(format!(
            "record format {format}, this build reads formats 1 to {FORMAT_WITH_PLANS}"
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
                    others_at_most: None,
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

/// What the command being applied decided: recorded while a journaled memory applies a
/// call, handed back in order while replaying a record that holds it.
#[derive(Debug, Default)]
pub(crate) struct Decisions {
    mode: Mode,
    /// How many times the rules were asked so far while replaying a format 5 record: the
    /// position of the next of its fired rules. Asking reads memory only (`&self`),
    /// hence the atomic; replay runs on one thread, so it is never contended.
    next_plan: AtomicUsize,
    /// The fingerprint of memory's rule set (see [`Memory::rule_set`]), computed once.
    rule_set: std::sync::OnceLock<u32>,
    /// What replayed records are read into.
    buffers: ReplayBuffers,
}

#[derive(Debug, Default)]
enum Mode {
    /// Neither: a memory without a journal, or a format 1 or 3 record being replayed.
    #[default]
    Off,
    Recording {
        decisions: Vec<Decision>,
        plans: Vec<FiredRules>,
        /// The people normalized, each encoded as a [`PersonRecord`].
        people: Vec<u8>,
        people_count: usize,
    },
    /// The recorded decisions and people are held last first, each taken from the
    /// back, so that their vectors are handed back to [`ReplayBuffers`] afterwards.
    Replaying {
        recorded: Vec<Decision>,
        /// Why a recorded decision could not be applied (scoring was used instead, and
        /// replay fails once the command is applied).
        refused: Option<String>,
        /// The fired rules of each time the rules were asked (format 5), or `None`
        /// to ask every rule.
        plans: Option<Vec<FiredRules>>,
        /// The people as normalizing gave them (format 5), in the order the call
        /// normalized them, or `None` to normalize again.
        people: Option<Vec<NormalizedSignals>>,
    },
}

impl Decisions {
    /// Starts recording the decisions of a journaled call (dropping any left by a call
    /// that failed before it was journaled).
    pub(crate) fn record(&mut self) {
        match &mut self.mode {
            Mode::Recording {
                decisions,
                plans,
                people,
                people_count,
            } => {
                decisions.clear();
                plans.clear();
                people.clear();
                *people_count = 0;
            }
            mode => {
                *mode = Mode::Recording {
                    decisions: Vec::new(),
                    plans: Vec::new(),
                    people: Vec::new(),
                    people_count: 0,
                }
            }
        }
    }
}

impl Memory {
    /// A fingerprint of the moment rules memory asks, in registration order: records
    /// name fired rules by position, which means the same rules only under the same
    /// fingerprint.
    pub(crate) fn rule_set(&self) -> u32 {
        *self.state.decisions.rule_set.get_or_init(|| {
            use std::hash::Hasher;
            let mut hasher = crate::stable_hash::StableHasher::new(0x5275_6c65_5365_7421);
            hasher.write_usize(self.engine.rules.len());
            for registered in &self.engine.rules {
                let id = registered.rule.id();
                hasher.write_usize(id.len());
                hasher.write(id.as_bytes());
            }
            // The low half of a well-mixed hash: one rule set in four billion collides.
            hasher.finish() as u32
        })
    }

    /// The recognition a replayed record decided, if it recorded one: the write path
    /// acts on it instead of scoring candidates again. `None` otherwise (and when the
    /// recorded decision is inconsistent with memory: that refuses the record once it
    /// is applied).
    pub(crate) fn recorded_recognition(&mut self) -> Option<Recognition> {
        let Mode::Replaying {
            recorded, refused, ..
        } = &mut self.state.decisions.mode
        else {
            return None;
        };
        if refused.is_some() {
            return None;
        }
        let Some(decision) = recorded.pop() else {
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
        if let Mode::Recording { decisions, .. } = &mut self.state.decisions.mode {
            decisions.push(Decision::of(recognition));
        }
    }

    /// Notes whose moments fired when the rules were asked once (`fired`: what that
    /// admission fired), when the call is being journaled. Called after every admission
    /// of a proposal about a patron: each time the rules were asked, as replay counts.
    pub(crate) fn note_fired(&mut self, fired: &[Moment]) {
        let Mode::Recording { plans, .. } = &mut self.state.decisions.mode else {
            return;
        };
        // By id: every rule registered under a fired moment's id is named, so two rules
        // sharing an id are both asked again (asking more rules than fired is harmless).
        let rules = self
            .engine
            .rules
            .iter()
            .enumerate()
            .filter(|(_, registered)| fired.iter().any(|m| m.rule() == registered.rule.id()))
            .filter_map(|(idx, _)| RuleIdx::try_from(idx).ok())
            .collect();
        plans.push(rules);
    }

    /// Notes a person's normalized signals, when the call is being journaled by a memory
    /// without an identifier key (with one, replay normalizes again: taking sealed
    /// identifiers as they are costs little, and it checks them against the key).
    pub(crate) fn note_person(&mut self, person: &NormalizedSignals) {
        if self.seals_identifiers() {
            return;
        }
        let Mode::Recording {
            people,
            people_count,
            ..
        } = &mut self.state.decisions.mode
        else {
            return;
        };
        let record = PersonRecord {
            name: person.name(),
            identifiers: person.identifiers(),
            address: person.address(),
            birth_date: person.birth_date(),
        };
        if *people_count == usize::MAX {
            return;
        }
        // Plain data always encodes; should it not, the record must not name fewer
        // people than the call normalized, so it is written with the command alone.
        match postcard::to_extend(&record, std::mem::take(people)) {
            Ok(encoded) => {
                *people = encoded;
                *people_count += 1;
            }
            Err(_) => *people_count = usize::MAX,
        }
    }

    /// While replaying a format 5 record, the next person as normalizing their signals
    /// gave them when the record was written; `None` to normalize them again (and when
    /// the record holds fewer people than its call normalizes: that refuses it).
    pub(crate) fn recorded_person(&mut self) -> Option<NormalizedSignals> {
        let Mode::Replaying {
            people: Some(people),
            refused,
            ..
        } = &mut self.state.decisions.mode
        else {
            return None;
        };
        let next = people.pop();
        if next.is_none() && refused.is_none() {
            *refused = Some("its event normalized more people than it recorded".to_owned());
        }
        next
    }

    /// While replaying a format 5 record, the rules whose moments fired the next time the
    /// rules are asked (an empty slice: none); `None` to ask every rule. Called once each
    /// time the rules are about to be asked about a patron.
    pub(crate) fn planned_rules(&self) -> Option<&[RuleIdx]> {
        let Mode::Replaying {
            plans: Some(plans), ..
        } = &self.state.decisions.mode
        else {
            return None;
        };
        // Counted even past the end, so the record is refused once applied.
        let next = self
            .state
            .decisions
            .next_plan
            .fetch_add(1, Ordering::Relaxed);
        plans.get(next).map(|plan| plan.as_slice())
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
        // Rules are named by where they were registered: under another rule set (added,
        // removed or reordered rules) that names other rules, so every rule is asked
        // again, as for records written before format 5.
        let rule_set = self.rule_set();
        let plans = replayed
            .plans
            .and_then(|(written_by, plans)| (written_by == rule_set).then_some(plans));
        let rules = self.engine.rules.len();
        if let Some(rule) = plans
            .iter()
            .flatten()
            .flatten()
            .find(|&&rule| usize::from(rule) >= rules)
        {
            return Err(format!(
                "it names moment rule {rule}, and memory has {rules} rules"
            ));
        }
        // Taken from the back: last first.
        let mut recorded = decisions;
        recorded.reverse();
        self.state.decisions.mode = Mode::Replaying {
            recorded,
            refused: None,
            plans,
            // A memory with an identifier key seals what it normalizes: it normalizes
            // again rather than take people a memory without one recorded.
            people: replayed
                .people
                .filter(|_| !self.seals_identifiers())
                .map(|mut people| {
                    people.reverse();
                    people
                }),
        };
        self.state.decisions.next_plan = AtomicUsize::new(0);
        let applied = self.apply(replayed.command);
        let mode = std::mem::take(&mut self.state.decisions.mode);
        applied.map_err(|e| e.to_string())?;
        let Mode::Replaying {
            recorded,
            refused,
            plans,
            people,
        } = mode
        else {
            return Ok(());
        };
        let unused_decisions = recorded.len();
        let unused_people = people.as_ref().map_or(0, Vec::len);
        let planned = plans.as_ref().map(Vec::len);
        // The vectors go back for the next record to read into.
        let buffers = &mut self.state.decisions.buffers;
        buffers.decisions = recorded;
        if let Some(plans) = plans {
            buffers.plans = plans;
        }
        if let Some(people) = people {
            buffers.people = people;
        }
        if let Some(reason) = refused {
            return Err(reason);
        }
        if unused_decisions > 0 {
            return Err(format!(
                "{unused_decisions} recognition decisions recorded that its event did not need"
            ));
        }
        if unused_people > 0 {
            return Err(format!(
                "{unused_people} people recorded that its event did not normalize"
            ));
        }
        let asked = *self.state.decisions.next_plan.get_mut();
        match planned {
            Some(planned) if planned != asked => Err(format!(
                "it records fired rules for {planned} askings of the rules, and applying it \
                 asked them {asked} times"
            )),
            _ => Ok(()),
        }
    }

    /// Frees the vectors replayed records were read into, once replay is over (their
    /// spare room may still hold bits of the last records).
    pub(crate) fn release_replay_buffers(&mut self) {
        self.state.decisions.buffers = ReplayBuffers::default();
    }

    /// Reads a replayed record (see [`decode`]) into the vectors the previous record was
    /// read into.
    pub(crate) fn decode_replayed(
        &mut self,
        record: &[u8],
    ) -> std::result::Result<Replayed, String> {
        decode(record, &mut self.state.decisions.buffers)
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
