//! Durable storage of memory's changes: an ordered, checksummed log and snapshots.
