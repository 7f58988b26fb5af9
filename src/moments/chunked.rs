//! A list that grows in fixed chunks: appending never moves what is already there.
//!
//! The ledger appends a fired moment on most bookings that earn one. In one `Vec`, each
//! doubling copied every moment so far into fresh memory, touching twice the pages the
//! moments need (and holding both copies for a moment); in chunks, each page is touched
//! once, when the moments written to it arrive.

use serde::ser::SerializeSeq as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Elements per chunk.
const CHUNK: usize = 1024;

/// Elements by position, stored in chunks of [`CHUNK`]. Serialized as a plain sequence,
/// the same as a `Vec` of them.
#[derive(Debug, Clone)]
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

impl<T> Chunked<T> {
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

    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
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

impl<T> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut out = Self::default();
        for value in iter {
            out.push(value);
        }
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
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let all: Vec<T> = Deserialize::deserialize(deserializer)?;
        Ok(all.into_iter().collect())
    }
}
