//! Hash indexes from normalized identifiers to patrons.

use std::collections::HashMap;

use smallvec::SmallVec;

use crate::model::ids::PatronId;
use crate::model::profile::Identifier;

/// Identifier → patrons that used it. Most identifiers belong to one patron, so the list
/// lives inline.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdentifierIndex {
    map: HashMap<Identifier, SmallVec<[PatronId; 1]>, ahash::RandomState>,
}

impl IdentifierIndex {
    pub(crate) fn get(&self, identifier: &Identifier) -> &[PatronId] {
        self.map.get(identifier).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn insert(&mut self, identifier: Identifier, patron: PatronId) {
        let patrons = self.map.entry(identifier).or_default();
        if !patrons.contains(&patron) {
            patrons.push(patron);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Read-only access to memory's indexes, for [`Strategy::candidates`](crate::Strategy::candidates).
#[derive(Debug, Clone, Copy)]
pub struct IndexView<'a> {
    pub(crate) identifiers: &'a IdentifierIndex,
}

impl<'a> IndexView<'a> {
    /// The patrons who have used this identifier, oldest first.
    pub fn patrons_with(&self, identifier: &Identifier) -> &'a [PatronId] {
        self.identifiers.get(identifier)
    }
}
