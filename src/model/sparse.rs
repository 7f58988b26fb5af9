//! A list most records leave empty, in one pointer.

use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

/// The boxed part of a [`Sparse`] list: its first two items inline, so the usual short
/// list is a single allocation (a box around a vector would be two). For items of up to
/// 8 bytes (patron ids, held tickets) room for two costs no more than room for one: the
/// heap pointer and length of a longer list take 16 bytes anyway.
type Items<T> = SmallVec<[T; 2]>;

/// A list that most records leave empty (consents, flags, notes, memberships, household
/// links, merged ids, held tickets): a null pointer while empty, 8 bytes instead of a
/// vector's 24; one allocation holding the items while there are one or two, and a
/// second one only for a longer list. Reads as a slice; saved exactly as a vector is.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Sparse<T>(Option<Box<Items<T>>>);

impl<T> Default for Sparse<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T> Sparse<T> {
    /// The list, to grow or change (boxed now if it was empty).
    fn make_mut(&mut self) -> &mut Items<T> {
        self.0.get_or_insert_with(Box::default)
    }

    pub(crate) fn push(&mut self, item: T) {
        let list = self.make_mut();
        // Exact growth: these lists stay short.
        list.reserve_exact(1);
        list.push(item);
    }

    /// Keeps the items `keep` says to, freeing the box once none is left.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        if let Some(list) = &mut self.0 {
            list.retain(|item| keep(item));
            if list.is_empty() {
                self.0 = None;
            }
        }
    }

    /// Takes the items out, leaving it empty.
    pub(crate) fn take(&mut self) -> Vec<T> {
        self.0.take().map_or_else(Vec::new, |list| list.into_vec())
    }

    /// Counts its box and, for a longer list, the items' own buffer (see
    /// [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        if let Some(list) = &self.0 {
            let boxed = size_of::<Items<T>>();
            let inline = if list.spilled() { 0 } else { list.len() };
            tally.block(inline * size_of::<T>(), boxed);
            tally.small(list);
        }
    }
}

impl<T> Extend<T> for Sparse<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        let mut items = items.into_iter().peekable();
        if items.peek().is_some() {
            self.make_mut().extend(items);
        }
    }
}

impl<T> FromIterator<T> for Sparse<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self::from(items.into_iter().collect::<Vec<T>>())
    }
}

impl<T> From<Vec<T>> for Sparse<T> {
    fn from(list: Vec<T>) -> Self {
        if list.is_empty() {
            return Self(None);
        }
        // Exact: these lists rarely grow once made (up to two items move inline).
        let mut items = Items::from_vec(list);
        items.shrink_to_fit();
        Self(Some(Box::new(items)))
    }
}

impl<'a, T> IntoIterator for &'a Sparse<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> Deref for Sparse<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], Items::as_slice)
    }
}

impl<T> DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.0.as_deref_mut().map_or(&mut [], Items::as_mut_slice)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Sparse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Serialize> Serialize for Sparse<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sparse<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Sparse<u64>>() == 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_holds_no_box_and_saves_as_a_vector_does() {
        let mut list: Sparse<u32> = Sparse::default();
        assert!(list.0.is_none() && list.is_empty());
        list.extend([]);
        assert!(list.0.is_none(), "extending by nothing boxes nothing");
        list.push(3);
        list.extend([4, 5]);
        assert_eq!(&*list, [3, 4, 5]);
        let bytes = postcard::to_stdvec(&list).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&vec![3u32, 4, 5]).unwrap());
        let back: Sparse<u32> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, list);
        list.retain(|&n| n > 3);
        assert_eq!(list.take(), [4, 5]);
        assert!(list.0.is_none());
        list.push(1);
        list.retain(|_| false);
        assert!(list.0.is_none(), "emptied, the box is freed");
        let empty: Sparse<u32> = postcard::from_bytes(&[0]).unwrap();
        assert!(empty.0.is_none());
    }

    #[test]
    fn a_list_of_one_or_two_is_one_allocation_and_longer_lists_read_the_same() {
        let mut list: Sparse<u64> = Sparse::default();
        list.push(7);
        let boxed = list.0.as_ref().unwrap();
        assert!(!boxed.spilled(), "the one item sits in the box");
        let mut tally = crate::memory::footprint::Tally::default();
        list.tally(&mut tally);
        let mut one = crate::memory::footprint::Account::default();
        one.line("list", tally);
        assert_eq!(one.finish(1).total_allocations(), 1);
        list.push(8);
        assert!(
            !list.0.as_ref().unwrap().spilled(),
            "two items still sit in the box"
        );
        list.push(9);
        assert!(list.0.as_ref().unwrap().spilled(), "a third moves them out");
        assert_eq!(&*list, [7, 8, 9]);
        let read: Sparse<u64> = Sparse::from(vec![7, 8, 9]);
        assert_eq!(read, list);
        let single: Sparse<u64> =
            postcard::from_bytes(&postcard::to_stdvec(&vec![5u64]).unwrap()).unwrap();
        assert!(
            !single.0.as_ref().unwrap().spilled(),
            "read back inline too"
        );
        assert_eq!(&*single, [5]);
    }
}
