#![doc = include_str!("../README.md")]
//!
//! # Guide
//!
//! ## Concepts
//!
//! - **[`Memory`]** holds everything: the [`Catalog`] (venues, productions,
//!   performances), patrons with their profile, history and running
//!   [`PatronStats`], and hash indexes of their identifiers.
//! - **[`Event`]s** are what a vendor sends: an [`Order`] with [`Ticket`]s, a door
//!   [`Scan`], a [`Refund`], a [`Donation`], a [`Membership`], a bar or shop
//!   [`Purchase`]. Each carries [`Signals`]: what it says about a person.
//! - **[`Memory::observe`]** is the one write path. It normalizes the signals, recognizes
//!   the person ([`Recognition`]: `Known`, `Review` or `New`, with [`Evidence`]), records
//!   the interaction, updates figures and indexes, and asks every [`MomentRule`] for
//!   [`Moment`]s. An event id seen before changes nothing.
//! - **[`Memory::recognize`]** is the read-only half: who is this, without recording it.
//! - **[`Strategy`]** is the plugin trait for recognition; [`PersonMatcher`] (graded,
//!   frequency-weighted comparisons of every field, candidates from blocking indexes) is
//!   the default and [`ExactIdentifiers`] a simpler alternative. Uncertain records go to
//!   a review queue ([`Memory::reviews`]); people sharing contact details but not a name
//!   or birth date are a household, never merged; [`Memory::merge`] and
//!   [`Memory::split`] shape the identity graph, and [`Memory::identity_changes`] feeds
//!   it to the embedding product. **[`MomentRule`]** is the plugin trait for moments; [`FirstVisit`] and
//!   [`RepeatProduction`] ship built in, and [`rule_fn`] turns a closure into a rule.
//! - **[`normalize`]** has the pure functions that make e-mails, phones, names and
//!   postcodes comparable.
//! - **[`journal`]** stores changes durably as opaque, checksummed records and snapshots:
//!   the [`Journal`](journal::Journal) plugin trait, [`FileJournal`](journal::FileJournal)
//!   (segment files, torn-tail recovery, compaction) with a
//!   [`SyncPolicy`](journal::SyncPolicy), and [`MemoryJournal`](journal::MemoryJournal).
//!
//! ## Invariants
//!
//! - One write path: every change goes through `Memory`'s methods taking `&mut self`,
//!   and a call that returns an error has changed nothing.
//! - Determinism: the same events in the same order give the same patron ids, the same
//!   recognitions and the same moments. Time comes from the event or the injected
//!   [`Clock`]; results never depend on hash order.
//! - Idempotence: an event id (or door-scan id) seen before changes nothing and fires
//!   nothing; each `(rule, patron, dedupe key)` fires at most once.
//! - Stable ids: a [`PatronId`] is never reused; a merged id forwards to the survivor,
//!   and a split gives it back its own patron.
//! - No full scans on the hot path: recognition probes indexes, and the figures rules
//!   read are kept up to date as interactions arrive.
//! - Privacy by default: `Debug` output never shows names, e-mails, phones, addresses,
//!   birth dates or notes, and error messages never quote personal data.
//!   [`Memory::erase`] leaves nothing of a person in memory or in its files,
//!   [`Memory::export`] gives everything memory holds about them, [`Memory::opt_out`]
//!   stops memory learning about them, and [`MemoryBuilder::identifier_key`] keeps
//!   identifiers only as keyed hashes.
//!
//! ## Durability
//!
//! Memory lives in process. To keep it across restarts, open it from a directory with
//! [`Memory::open`] or [`MemoryBuilder::open`] (a [`journal::FileJournal`] with group
//! commit), or give [`MemoryBuilder::journal`] any [`journal::Journal`]. Every call that
//! changes memory (`observe`, `define_*`, `update_profile`, `merge`, `split`, the pins,
//! `resolve_review`, a `tick` that had something due, `erase`, `opt_out`, `opt_in`) is
//! then appended to the journal as a command before it returns; calls that change
//! nothing (a re-sent event, a failed call, the same catalog entry again) append nothing.
//! Opening loads the latest
//! snapshot and replays the commands after it through the same methods, so by
//! determinism the memory is the one that was left: same ids, figures, indexes, fired
//! moments and due times. Each event's record also carries what recognition decided
//! for it, and replay applies that decision instead of scoring again: changing
//! strategies or thresholds changes how new events are recognized, never who past
//! events were about. Open it with the same rules, policies and [`Limits`] that wrote
//! the journal; a command that no longer applies fails opening with
//! [`Error::JournalReplay`] naming its seq. [`Memory::checkpoint`] (and
//! automatically every [`MemoryBuilder::checkpoint_every`] records) writes a snapshot
//! and drops the records it covers.
//!
//! When a change is safe depends on the [`journal::SyncPolicy`]:
//!
//! | policy | when a write returns, its change survives | survives a power loss |
//! |---|---|---|
//! | `EveryAppend` | a crash of the process and of the machine | at once |
//! | `GroupCommit` (the default of `open`: 2 ms) | a crash of the process | once [`Memory::durable_seq`] reaches the [`Memory::last_seq`] read after the write: within the delay plus at most two fsyncs, or at once after [`Memory::sync`] |
//! | `Os` | a crash of the process | after [`Memory::sync`] or a checkpoint |
//!
//! To acknowledge only durable work, note `last_seq()` after each write and answer once
//! `durable_seq()` covers it (the `replay` example does this), or call `sync()` before
//! answering. If the journal fails while a write is being recorded, memory has already
//! changed: the call returns the journal's error and memory refuses every later write
//! with [`Error::JournalFailed`] until it is reopened, so it never runs ahead of its
//! disk unnoticed.
//!
//! ## Performance
//!
//! Recognition probes identifier and blocking indexes (at most 16 patrons per key, 64
//! candidates in all) and scores the candidates, so its cost does not grow with memory; see `BENCHMARKS.md` for measured figures and the commands that
//! reproduce them.
//!
//! ## Minimum supported Rust version
//!
//! Rust 1.88 (edition 2024), as declared in `Cargo.toml`.

#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]

mod chunked;
mod clock;
mod error;
#[cfg(feature = "csv")]
pub mod import;
pub mod journal;
mod memory;
mod model;
mod moments;
pub mod normalize;
mod pii;
mod privacy;
mod recognize;
mod shared;
mod signals;
mod stable_hash;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use memory::Limits;
pub use memory::{FiledPatrons, FiledPatronsIter};
#[doc(hidden)]
pub use memory::{Footprint, FootprintLine};
pub use memory::{History, HistoryIter};
pub use memory::{
    IdentityChange, IndexView, MembershipSpan, Memory, MemoryBuilder, MergeCause, Observation,
    Participant, PatronStats, PatronView, ProductionVisits, ReviewDecision, ReviewItem, TicketView,
};
pub use memory::{PreparedEvent, Preparer};
pub use model::catalog::{Catalog, Performance, Production, Venue};
pub use model::event::{
    Donation, Event, EventKind, LineItem, Membership, Order, Purchase, Refund, Scan, Ticket,
};
pub use model::history::{Direction, Interaction, InteractionKind, Seat};
pub use model::ids::{
    EventId, OrderId, PatronId, PerformanceId, ProductionId, ScanId, TicketId, VenueId,
};
pub use model::money::{Currency, Money};
pub use model::profile::{
    Address, Channel, Consent, Flag, FlagKind, Identifier, IdentifierKind, Note, PersonName,
    Preferences, ProfileChange, Purpose, SeatPreference,
};
pub use moments::TriggerKinds;
pub use moments::builtin::*;
pub use moments::{
    Action, Brief, BriefEntry, BriefSection, FnRule, Moment, MomentKind, MomentRule, OncePer,
    Policy, Priority, RuleContext, SilencedMoment, Suppression, Suppressor, TicketInfo, Trigger,
    rule_fn,
};
pub use privacy::{Erasure, PatronExport};
pub use recognize::{
    Agreement, BlockingKey, BlockingKeys, Candidate, Candidates, Comparison, Evidence,
    EvidenceItem, ExactIdentifiers, ExactWeights, Field, Level, LevelChange, LevelWeight,
    PersonMatcher, PersonModel, Recognition, RuleEstimate, Strategy, Thresholds, Training,
    TrainingOptions,
};
pub use signals::{NormalizedSignals, Signals};
