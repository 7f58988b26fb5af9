//! A list that grows in fixed chunks: appending never moves what is already there.
//!
//! Memory's big tables (patron records, the vendor-id tables, the fired moments) grow
//! one value at a time for as long as memory lives. In one `Vec`, each doubling copies
//! every value so far into fresh memory: the old buffer, freed in the middle of the
//! heap, stays resident as a hole, and for a moment both copies are (a 100k-patron
//! memory lost about 280 bytes of resident memory per patron that way). In chunks of
//! about 64 KiB, each page is written once, when the values it holds arrive, and nothing
//! is ever freed while memory grows.

use std::fmt;
use std::ops::{Index, IndexMut};

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// About how many bytes of values a chunk holds (a power of two elements fits in it).
const CHUNK_BYTES: usize = 64 * 1024;

/// Values by position, stored in chunks of a power of two of them (about
/// [`CHUNK_BYTES`]). Serialized as a plain sequence, the same as a `Vec` of them.
#[derive(Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Chunked<T> {
    /// Values per chunk, as a shift: a power of two, so a position splits into chunk and
    /// offset with a shift and a mask.
    const SHIFT: u32 = if Self::SIZE >= CHUNK_BYTES {
        0
    } else {
        (CHUNK_BYTES / Self::SIZE).ilog2()
    };
    const PER_CHUNK: usize = 1 << Self::SHIFT;
    const SIZE: usize = if size_of::<T>() == 0 {
        1
    } else {
        size_of::<T>()
    };

    /// Counts the chunks and the list of them (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        tally.vec(&self.chunks);
        for chunk in &self.chunks {
            tally.vec(chunk);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        if let Some(chunk) = self.chunks.last_mut()
            && chunk.len() < Self::PER_CHUNK
        {
            chunk.push(value);
        } else {
            self.push_to_new_chunk(value);
        }
        self.len += 1;
    }

    /// Starts the next chunk with `value` (once per chunk: kept out of the inlined
    /// [`push`](Self::push)).
    #[cold]
    #[inline(never)]
    fn push_to_new_chunk(&mut self, value: T) {
        let mut chunk = Vec::with_capacity(Self::PER_CHUNK);
        chunk.push(value);
        self.chunks.push(chunk);
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks
            .get(i >> Self::SHIFT)?
            .get(i & (Self::PER_CHUNK - 1))
    }

    #[inline]
    pub(crate) fn last(&self) -> Option<&T> {
        self.get(self.len.checked_sub(1)?)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i >> Self::SHIFT)?
            .get_mut(i & (Self::PER_CHUNK - 1))
    }

    /// Takes the last value off (its chunk stays, for the next push, unless it was
    /// empty already: then it goes, so every chunk but the last is full).
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.chunks.last().is_some_and(Vec::is_empty) {
            self.chunks.pop();
        }
        let value = self.chunks.last_mut()?.pop()?;
        self.len -= 1;
        Some(value)
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub(crate) fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }

    /// The values, in order, taken out.
    pub(crate) fn into_values(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }

    /// The chunks, each a slice of consecutive values (to share work out by chunk).
    pub(crate) fn chunks_mut(&mut self) -> Vec<&mut [T]> {
        self.chunks.iter_mut().map(Vec::as_mut_slice).collect()
    }

    /// Appends values until there are `len` (nothing if there are as many already).
    pub(crate) fn resize_with(&mut self, len: usize, mut value: impl FnMut() -> T) {
        while self.len < len {
            self.push(value());
        }
    }

    /// Keeps the elements `keep` accepts, in order (positions change).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let old = std::mem::take(self);
        for value in old.chunks.into_iter().flatten() {
            if keep(&value) {
                self.push(value);
            }
        }
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> Self::SHIFT][i & (Self::PER_CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> Self::SHIFT][i & (Self::PER_CHUNK - 1)]
    }
}

impl<'a, T> IntoIterator for &'a Chunked<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

impl<'a, T> IntoIterator for &'a mut Chunked<T> {
    type Item = &'a mut T;
    type IntoIter = std::iter::Flatten<std::slice::IterMut<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter_mut().flatten()
    }
}

impl<T> Extend<T> for Chunked<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for value in iter {
            self.push(value);
        }
    }
}

impl<T> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut out = Self::default();
        out.extend(iter);
        out
    }
}

impl<T: Serialize> Serialize for Chunked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for value in self.iter() {
            seq.serialize_element(value)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Chunked<T> {
    /// Read as a sequence, straight into chunks (no whole-table buffer on the way).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChunkedVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ChunkedVisitor<T> {
            type Value = Chunked<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chunked<T>, A::Error> {
                let mut out = Chunked::default();
                while let Some(value) = seq.next_element()? {
                    out.push(value);
                }
                Ok(out)
            }
        }

        deserializer.deserialize_seq(ChunkedVisitor(std::marker::PhantomData))
    }
}

/// Bytes of text a [`ChunkedText`] chunk holds.
pub(crate) const TEXT_CHUNK: usize = 64 * 1024;

/// Texts end to end, in chunks of [`TEXT_CHUNK`] bytes, none split between two chunks
/// (one that does not fit in the last chunk starts the next). Positions are offsets as
/// if the chunks lay end to end, full: chunk `k` covers `k * TEXT_CHUNK` onwards, so a
/// text is found from where it ends and where the one before it ends.
#[derive(Clone, Default)]
pub(crate) struct ChunkedText {
    chunks: Vec<String>,
}

impl ChunkedText {
    /// Where the next text would start if it fits in the last chunk: the offset after
    /// the last text.
    pub(crate) fn len(&self) -> usize {
        match self.chunks.split_last() {
            Some((last, before)) => before.len() * TEXT_CHUNK + last.len(),
            None => 0,
        }
    }

    /// Where a text of `len` bytes would end, appended now; `None` if no chunk holds
    /// that much.
    pub(crate) fn end_after(&self, len: usize) -> Option<usize> {
        Self::end_from(self.len(), len)
    }

    /// Where a text of `len` bytes appended after a text ending at `end` ends; `None` if
    /// no chunk holds that much.
    #[inline]
    pub(crate) fn end_from(end: usize, len: usize) -> Option<usize> {
        if len > TEXT_CHUNK {
            return None;
        }
        // After an exactly full chunk, `end` is the next one's start: a whole chunk of room.
        let room = TEXT_CHUNK - end % TEXT_CHUNK;
        if len <= room {
            Some(end + len)
        } else {
            Some(end.next_multiple_of(TEXT_CHUNK) + len)
        }
    }

    /// Appends a text and returns where it ends (as [`end_after`](Self::end_after) said).
    #[inline]
    pub(crate) fn push(&mut self, text: &str) -> Option<usize> {
        if text.len() > TEXT_CHUNK {
            return None;
        }
        // Chunk `k` covers `k * TEXT_CHUNK` onwards.
        let last_start = self.chunks.len().saturating_sub(1) * TEXT_CHUNK;
        if let Some(chunk) = self.chunks.last_mut()
            && chunk.len() + text.len() <= TEXT_CHUNK
        {
            chunk.push_str(text);
            return Some(last_start + chunk.len());
        }
        let mut chunk = String::with_capacity(TEXT_CHUNK);
        chunk.push_str(text);
        self.chunks.push(chunk);
        Some((self.chunks.len() - 1) * TEXT_CHUNK + text.len())
    }

    /// The text ending at `end` whose predecessor ends at `previous_end` (0 for the
    /// first); `None` if those offsets name no text.
    #[inline]
    pub(crate) fn get(&self, previous_end: usize, end: usize) -> Option<&str> {
        if end <= previous_end {
            return (end == previous_end).then_some("");
        }
        // It lies whole in the chunk of its last byte, from its start or after the text
        // before it, whichever comes later.
        let chunk = (end - 1) / TEXT_CHUNK;
        let base = chunk * TEXT_CHUNK;
        let start = previous_end.max(base);
        self.chunks.get(chunk)?.get(start - base..end - base)
    }

    /// Drops everything from offset `len` on (a text appended last, taken back: `len`
    /// is where the one before it ends).
    pub(crate) fn truncate(&mut self, len: usize) {
        while self.chunks.len() > 1 && (self.chunks.len() - 1) * TEXT_CHUNK >= len {
            self.chunks.pop();
        }
        let base = self.chunks.len().saturating_sub(1) * TEXT_CHUNK;
        if let Some(last) = self.chunks.last_mut() {
            last.truncate(len.saturating_sub(base));
        }
    }

    /// Counts the chunks and the list of them (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        tally.vec(&self.chunks);
        for chunk in &self.chunks {
            tally.text(chunk.len(), chunk.capacity());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_growth_across_chunks() {
        let per_chunk = Chunked::<u64>::PER_CHUNK;
        let mut list = Chunked::default();
        for i in 0..(3 * per_chunk + 5) as u64 {
            list.push(i);
        }
        assert_eq!(list.len(), 3 * per_chunk + 5);
        assert_eq!(list.chunks.len(), 4);
        for i in [0, per_chunk - 1, per_chunk, 3 * per_chunk + 4] {
            assert_eq!(list.get(i), Some(&(i as u64)));
            assert_eq!(list[i], i as u64);
        }
        assert_eq!(list.get(3 * per_chunk + 5), None);
        assert_eq!(list.iter().next_back(), Some(&(3 * per_chunk as u64 + 4)));
        assert!(list.iter().copied().eq(0..(3 * per_chunk + 5) as u64));
        *list.get_mut(per_chunk).unwrap() = 7;
        list[per_chunk + 1] = 8;
        assert_eq!((list[per_chunk], list[per_chunk + 1]), (7, 8));
    }

    #[test]
    fn a_chunk_is_never_moved_once_written() {
        let mut list = Chunked::default();
        list.push(1u32);
        let first = std::ptr::from_ref(&list[0]);
        for i in 0..100_000 {
            list.push(i);
        }
        assert_eq!(std::ptr::from_ref(&list[0]), first);
        // Every chunk is as big as it will ever be: no doubling slack but the last one's.
        let full = list.chunks.iter().rev().skip(1);
        assert!(
            full.into_iter()
                .all(|c| c.capacity() == Chunked::<u32>::PER_CHUNK)
        );
    }

    #[test]
    fn chunks_hold_about_64_kib() {
        assert_eq!(Chunked::<u32>::PER_CHUNK, 16 * 1024);
        assert_eq!(Chunked::<[u8; 416]>::PER_CHUNK, 128);
        assert_eq!(Chunked::<[u8; 100_000]>::PER_CHUNK, 1);
        assert_eq!(Chunked::<()>::PER_CHUNK, 64 * 1024);
    }

    #[test]
    fn serialized_as_the_same_bytes_as_a_vec() {
        let values: Vec<u32> = (0..40_000).collect();
        let chunked: Chunked<u32> = values.iter().copied().collect();
        let a = postcard::to_allocvec(&values).unwrap();
        let b = postcard::to_allocvec(&chunked).unwrap();
        assert_eq!(a, b);
        let back: Chunked<u32> = postcard::from_bytes(&b).unwrap();
        assert!(back.iter().eq(values.iter()));
        assert_eq!(back.len(), values.len());
    }

    #[test]
    fn pop_across_a_chunk_boundary() {
        let per_chunk = Chunked::<u64>::PER_CHUNK;
        let mut list: Chunked<u64> = (0..per_chunk as u64 + 1).collect();
        assert_eq!(list.pop(), Some(per_chunk as u64));
        assert_eq!(list.pop(), Some(per_chunk as u64 - 1));
        assert_eq!(list.iter().next_back(), Some(&(per_chunk as u64 - 2)));
        list.push(40);
        list.push(41);
        assert_eq!(list.len(), per_chunk + 1);
        assert_eq!((list[per_chunk - 1], list[per_chunk]), (40, 41));
        let mut empty = Chunked::<u8>::default();
        assert_eq!(empty.pop(), None);
        assert_eq!(empty.len(), 0);
    }

    #[test]
    fn retain_keeps_order() {
        let mut list: Chunked<u32> = (0..50_000).collect();
        list.retain(|v| v % 3 == 0);
        assert!(list.iter().copied().eq((0..50_000).filter(|v| v % 3 == 0)));
    }

    #[test]
    fn texts_are_found_from_their_ends_across_chunks() {
        let mut text = ChunkedText::default();
        let mut ends = Vec::new();
        let word = "x".repeat(100);
        for i in 0..5000 {
            let id = format!("{i}-{}", &word[..i % 100]);
            let end = text.end_after(id.len());
            assert_eq!(text.push(&id), end, "{i}");
            ends.push((end.unwrap(), id));
        }
        let end = text.end_after(0);
        assert_eq!(text.push(""), end);
        ends.push((end.unwrap(), String::new()));
        assert!(text.chunks.len() > 2);
        assert!(text.chunks.iter().all(|c| c.len() <= TEXT_CHUNK));
        let mut previous = 0;
        for (end, id) in &ends {
            assert_eq!(text.get(previous, *end), Some(id.as_str()));
            previous = *end;
        }
        assert_eq!(text.end_after(TEXT_CHUNK + 1), None);
        assert_eq!(text.push(&"y".repeat(TEXT_CHUNK + 1)), None);
        assert_eq!(text.get(10, 5), None);
    }

    #[test]
    fn a_full_chunk_is_followed_at_its_end() {
        let mut text = ChunkedText::default();
        let half = "h".repeat(TEXT_CHUNK / 2);
        assert_eq!(text.push(&half), Some(TEXT_CHUNK / 2));
        assert_eq!(text.push(&half), Some(TEXT_CHUNK));
        assert_eq!(text.push("next"), Some(TEXT_CHUNK + 4));
        assert_eq!(text.get(TEXT_CHUNK, TEXT_CHUNK + 4), Some("next"));
        assert_eq!(text.get(TEXT_CHUNK / 2, TEXT_CHUNK), Some(half.as_str()));
        // Too long for what is left of a chunk: it starts the next one.
        let mut text = ChunkedText::default();
        text.push(&"a".repeat(TEXT_CHUNK - 2)).unwrap();
        let end = text.push("bcd").unwrap();
        assert_eq!(end, TEXT_CHUNK + 3);
        assert_eq!(text.get(TEXT_CHUNK - 2, end), Some("bcd"));
        // Taking it back leaves the first chunk as it was.
        text.truncate(TEXT_CHUNK - 2);
        assert_eq!(text.len(), TEXT_CHUNK - 2);
        assert_eq!(text.push("ef"), Some(TEXT_CHUNK));
        text.truncate(0);
        assert_eq!(text.len(), 0);
    }
}
