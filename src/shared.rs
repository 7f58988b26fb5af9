//! One copy of each distinct value, numbered in the order first filed: memory's tickets
//! name their seats and prices by number, the moments ledger its performances, seats
//! and labels (four bytes each, where a pointer or the value itself took more).

/// A value's number in a [`Shared`] table, or [`NONE_SHARED`].
pub(crate) type SharedNumber = u32;

/// The number of no value (or of a value not filed: the table held four billion, which
/// memory's own tables reach first). Values are numbered from 0.
pub(crate) const NONE_SHARED: SharedNumber = SharedNumber::MAX;

/// Distinct values, each kept once and named by its number.
pub(crate) struct Shared<T> {
    values: Vec<T>,
    /// Numbers by the hash of their value.
    numbers: hashbrown::HashTable<SharedNumber>,
    hasher: ahash::RandomState,
    /// The number filed last: values come in runs (the tickets of one order mostly share
    /// a price, moments fired together a performance and seat).
    last: SharedNumber,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            numbers: hashbrown::HashTable::new(),
            hasher: ahash::RandomState::new(),
            last: NONE_SHARED,
        }
    }
}

impl<T: std::hash::Hash + Eq + Clone> Shared<T> {
    /// The number of a value, filed now if new; [`NONE_SHARED`] for none.
    pub(crate) fn file(&mut self, value: Option<&T>) -> SharedNumber {
        match value {
            Some(value) => self.file_as(value, T::clone),
            None => NONE_SHARED,
        }
    }

    /// The number of the value that borrows as `value` (a performance id's text), filed
    /// as `make` makes it if new: a value read is made only when it is new.
    pub(crate) fn file_as<Q>(&mut self, value: &Q, make: impl FnOnce(&Q) -> T) -> SharedNumber
    where
        T: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let same = |kept: &T| <T as std::borrow::Borrow<Q>>::borrow(kept) == value;
        if self.values.get(self.last as usize).is_some_and(same) {
            return self.last;
        }
        // Hashed as what it borrows as: equal to the value's own hash (`Borrow`).
        let hash = self.hasher.hash_one(value);
        let values = &self.values;
        let number = match self
            .numbers
            .find(hash, |&n| values.get(n as usize).is_some_and(same))
        {
            Some(&held) => held,
            None => match SharedNumber::try_from(self.values.len()) {
                Ok(number) if number != NONE_SHARED => {
                    self.values.push(make(value));
                    let (values, hasher) = (&self.values, &self.hasher);
                    self.numbers.insert_unique(hash, number, |&n| {
                        values.get(n as usize).map_or(0, |v| {
                            hasher.hash_one(<T as std::borrow::Borrow<Q>>::borrow(v))
                        })
                    });
                    number
                }
                _ => NONE_SHARED,
            },
        };
        self.last = number;
        number
    }
}

impl<T> Shared<T> {
    /// The value a number names (`None` for [`NONE_SHARED`]).
    pub(crate) fn get(&self, number: SharedNumber) -> Option<&T> {
        self.values.get(number as usize)
    }

    /// Every value, in the order filed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.values.iter()
    }

    /// How many values it holds.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// Counts the list and its index (what the values own is the caller's to count).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        tally.vec(&self.values);
        tally.table(
            self.numbers.len(),
            self.numbers.capacity(),
            size_of::<SharedNumber>(),
        );
    }
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("count", &self.values.len())
            .finish_non_exhaustive()
    }
}
