//! Privacy: erasing a patron, exporting everything known about them, and opting them
//! out of recognition.
//!
//! - [`Memory::erase`](crate::Memory::erase) removes a person's personal data from
//!   memory and, on a durable memory, from every file of its journal.
//! - [`Memory::export`](crate::Memory::export) gives everything memory holds about a
//!   patron as one JSON document.
//! - [`Memory::opt_out`](crate::Memory::opt_out) stops memory learning about a patron
//!   and firing moments for them.
//!
//! `Debug` output of every type holding personal data is redacted (see `crate::pii`).

mod erase;
mod export;
mod keyed;
mod opt_out;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use erase::Erasure;
pub use export::PatronExport;
pub(crate) use keyed::{IdentifierKey, check_sealed};
pub(crate) use opt_out::screen;

use crate::memory::State;
use crate::model::ids::PatronId;

/// Who was erased and who opted out. Saved in snapshots.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct PrivacyState {
    /// Tombstones: ids of erased patrons, never reused, never answered again.
    pub(crate) erased: BTreeSet<PatronId>,
    /// Patrons (by the id they were opted out under) memory must not learn about.
    pub(crate) opted_out: BTreeSet<PatronId>,
    /// Configuration, not memory: set by the builder, never saved.
    #[serde(skip)]
    pub(crate) keep_aggregates: bool,
}

impl State {
    /// Whether this id was erased.
    pub(crate) fn is_erased(&self, id: PatronId) -> bool {
        !self.privacy.erased.is_empty() && self.privacy.erased.contains(&id)
    }

    /// Whether the patron this id stands for (or anyone merged into it) opted out.
    pub(crate) fn is_opted_out(&self, id: PatronId) -> bool {
        if self.privacy.opted_out.is_empty() {
            return false;
        }
        self.cluster(self.live(id))
            .iter()
            .any(|member| self.privacy.opted_out.contains(member))
    }

    /// Whether memory must not learn anything more about this patron: erased or opted out.
    pub(crate) fn holds_back(&self, id: PatronId) -> bool {
        self.is_erased(id) || self.is_opted_out(id)
    }
}
