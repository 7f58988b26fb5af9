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
//! - Privacy by default: `Debug` output never shows names, e-mails, phones or addresses,
//!   and error messages never quote personal data.
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
mod recognize;
mod signals;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use memory::{
    IdentityChange, IndexView, MembershipSpan, Memory, MemoryBuilder, MergeCause, Observation,
    Participant, PatronStats, PatronView, ProductionVisits, ReviewDecision, ReviewItem, TicketView,
};
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
pub use moments::builtin::{FirstVisit, RepeatProduction};
pub use moments::{
    Action, FnRule, Moment, MomentKind, MomentRule, Priority, RuleContext, TicketInfo, Trigger,
    rule_fn,
};
pub use recognize::{
    Agreement, BlockingKey, BlockingKeys, Candidate, Candidates, Comparison, Evidence,
    EvidenceItem, ExactIdentifiers, ExactWeights, Field, Level, LevelChange, LevelWeight,
    PersonMatcher, PersonModel, Recognition, RuleEstimate, Strategy, Thresholds, Training,
    TrainingOptions,
};
pub use signals::{NormalizedSignals, Signals};
