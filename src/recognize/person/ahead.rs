//! What recognizing a record works out from its signals alone, worked out ahead: a bulk
//! import does it on the thread that normalizes the rows, and the thread observing them
//! takes it over rather than working it out again.

use std::sync::{Mutex, PoisonError};

use super::{NameLetters, NameSide, NameSounds, SignalSide, query_keys, read_street};
use crate::recognize::BlockingKeys;
use crate::recognize::compare::{NicknameEntry, PreparedStreet};
use crate::signals::NormalizedSignals;

/// The signals' side of a recognition that depends on nothing in memory: the blocking
/// keys to look up, the names' sounds and nickname entries, the names' letters and
/// whether an e-mail is a household's mailbox, the street line read. Worked out by the
/// same code a recognition runs ([`SignalSide`]), so taking it over gives the same
/// recognition.
pub(crate) struct SignalsAhead {
    /// The keys [`query_keys`] gives.
    query_keys: BlockingKeys,
    given: Option<NameAhead>,
    family: Option<NameAhead>,
    name_letters: NameLetters,
    household_mailbox: bool,
    /// Locked only to be copied, once per recognition that compares streets: a street
    /// read keeps a cache in a cell, and the lock keeps a prepared event `Sync`.
    street: Mutex<Option<PreparedStreet>>,
}

impl std::fmt::Debug for SignalsAhead {
    // Names' letters and sounds are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalsAhead").finish_non_exhaustive()
    }
}

/// What a [`NameSide`] works out on first need, worked out.
#[derive(Clone, Copy, Debug)]
pub(super) struct NameAhead {
    pub(super) sounds: NameSounds,
    pub(super) nicknames: NicknameEntry,
    pub(super) bytes: u64,
    pub(super) generation: Option<&'static str>,
}

impl NameAhead {
    fn of(side: &NameSide<'_>) -> Self {
        Self {
            sounds: side.name_sounds(),
            nicknames: side.nicknames(),
            bytes: side.bytes(),
            generation: side.generation(),
        }
    }
}

impl SignalsAhead {
    /// Works out what recognizing `signals` can without memory.
    pub(crate) fn of(signals: &NormalizedSignals) -> Self {
        let mut side = SignalSide::new(signals, None);
        let mut keys = BlockingKeys::default();
        query_keys(&side, &mut keys);
        let household_mailbox = side.has_household_mailbox();
        let given = side.given.as_ref().map(NameAhead::of);
        let family = side.family.as_ref().map(NameAhead::of);
        // Read already if the signals have an e-mail.
        let name_letters = side
            .name_letters
            .take()
            .unwrap_or_else(|| NameLetters::of(side.given.as_ref(), side.family.as_ref()));
        Self {
            query_keys: keys,
            given,
            family,
            name_letters,
            household_mailbox,
            street: Mutex::new(read_street(signals)),
        }
    }

    pub(super) fn query_keys(&self) -> &BlockingKeys {
        &self.query_keys
    }

    pub(super) fn given(&self) -> Option<&NameAhead> {
        self.given.as_ref()
    }

    pub(super) fn family(&self) -> Option<&NameAhead> {
        self.family.as_ref()
    }

    pub(super) fn name_letters(&self) -> &NameLetters {
        &self.name_letters
    }

    pub(super) fn household_mailbox(&self) -> bool {
        self.household_mailbox
    }

    /// The street line read (a copy: see [`SignalsAhead::street`](#structfield.street)).
    pub(super) fn street(&self) -> Option<PreparedStreet> {
        // Nothing panics while it is held: never poisoned, but taken as it is if it were.
        self.street
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
