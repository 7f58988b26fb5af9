//! On-disk layout: file names, headers and record frames.
//!
//! All integers are little-endian. A segment is a header followed by frames; a snapshot
//! is a header followed by the snapshot bytes. See the module docs of
//! [`journal`](super) for the format as users see it.

use crate::journal::MAX_RECORD_BYTES;

/// Version of both file formats; bumped on any incompatible change.
pub(super) const VERSION: u32 = 1;

pub(super) const SEGMENT_MAGIC: [u8; 8] = *b"RGLRSLOG";
pub(super) const SNAPSHOT_MAGIC: [u8; 8] = *b"RGLRSNAP";

/// Segment header: magic, version u32, first seq u64, CRC-32 of the 20 bytes before it.
pub(super) const SEGMENT_HEADER_LEN: usize = 24;
/// Snapshot header: magic, version u32, seq u64, length u64, CRC-32 of bytes 8..28 and
/// of the snapshot bytes.
pub(super) const SNAPSHOT_HEADER_LEN: usize = 32;
/// Frame header: payload length u32, seq u64, CRC-32 of those 12 bytes and the payload.
pub(super) const FRAME_HEADER_LEN: usize = 16;

const SEGMENT_PREFIX: &str = "journal-";
const SEGMENT_SUFFIX: &str = ".log";
const SNAPSHOT_PREFIX: &str = "snapshot-";
const SNAPSHOT_SUFFIX: &str = ".snap";
pub(super) const TEMP_SUFFIX: &str = ".tmp";
/// Zero-padded so that names sort in sequence order.
const SEQ_DIGITS: usize = 20;

pub(super) fn segment_name(first_seq: u64) -> String {
    format!("{SEGMENT_PREFIX}{first_seq:0SEQ_DIGITS$}{SEGMENT_SUFFIX}")
}

pub(super) fn snapshot_name(seq: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{seq:0SEQ_DIGITS$}{SNAPSHOT_SUFFIX}")
}

/// What a directory entry is to the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Segment(u64),
    Snapshot(u64),
    /// A temporary file this journal writes before a rename; left over by a crash.
    Temp,
}

/// Classifies a file name; `None` for anything the journal did not write (left alone).
pub(super) fn classify(name: &str) -> Option<FileKind> {
    if let Some(stem) = name.strip_suffix(TEMP_SUFFIX) {
        return match classify(stem) {
            Some(FileKind::Segment(_) | FileKind::Snapshot(_)) => Some(FileKind::Temp),
            _ => None,
        };
    }
    if let Some(seq) = parse_seq(name, SEGMENT_PREFIX, SEGMENT_SUFFIX) {
        return Some(FileKind::Segment(seq));
    }
    parse_seq(name, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX).map(FileKind::Snapshot)
}

fn parse_seq(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(super) fn segment_header(first_seq: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&first_seq.to_le_bytes());
    let crc = crc32fast::hash(&h[..20]);
    h[20..24].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Checks a segment header; returns the first seq it names, or why it is not valid.
pub(super) fn parse_segment_header(h: &[u8; SEGMENT_HEADER_LEN]) -> Result<u64, String> {
    if h[..8] != SEGMENT_MAGIC {
        return Err("not a journal segment (bad magic)".into());
    }
    if crc32fast::hash(&h[..20]) != le_u32(&h[20..24]) {
        return Err("segment header checksum mismatch".into());
    }
    let version = le_u32(&h[8..12]);
    if version != VERSION {
        return Err(format!(
            "segment format version {version}; this build reads version {VERSION}"
        ));
    }
    Ok(le_u64(&h[12..20]))
}

pub(super) fn snapshot_header(seq: u64, bytes: &[u8]) -> [u8; SNAPSHOT_HEADER_LEN] {
    let mut h = [0u8; SNAPSHOT_HEADER_LEN];
    h[..8].copy_from_slice(&SNAPSHOT_MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&seq.to_le_bytes());
    h[20..28].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[8..28]);
    crc.update(bytes);
    h[28..32].copy_from_slice(&crc.finalize().to_le_bytes());
    h
}

/// A snapshot header's fields, before the body is checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct SnapshotHeader {
    pub(super) seq: u64,
    pub(super) len: u64,
    pub(super) crc: u32,
}

pub(super) fn parse_snapshot_header(
    h: &[u8; SNAPSHOT_HEADER_LEN],
) -> Result<SnapshotHeader, String> {
    if h[..8] != SNAPSHOT_MAGIC {
        return Err("not a journal snapshot (bad magic)".into());
    }
    let version = le_u32(&h[8..12]);
    if version != VERSION {
        return Err(format!(
            "snapshot format version {version}; this build reads version {VERSION}"
        ));
    }
    Ok(SnapshotHeader {
        seq: le_u64(&h[12..20]),
        len: le_u64(&h[20..28]),
        crc: le_u32(&h[28..32]),
    })
}

/// CRC of a snapshot: the header fields after the magic, then the body.
#[cfg(test)]
pub(super) fn snapshot_crc(h: &[u8; SNAPSHOT_HEADER_LEN], body: &[u8]) -> u32 {
    let mut crc = snapshot_crc_start(h);
    crc.update(body);
    crc.finalize()
}

/// The CRC of a snapshot with only its header fed in: the body follows in pieces.
pub(super) fn snapshot_crc_start(h: &[u8; SNAPSHOT_HEADER_LEN]) -> crc32fast::Hasher {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[8..28]);
    crc
}

/// Appends one frame to `out`. The caller has checked the payload against
/// [`MAX_RECORD_BYTES`].
pub(super) fn encode_frame(out: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_RECORD_BYTES);
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out[start..start + 12]);
    crc.update(payload);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(payload);
}

/// A frame header's fields, before the payload is checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct FrameHeader {
    pub(super) len: u32,
    pub(super) seq: u64,
    pub(super) crc: u32,
}

pub(super) fn parse_frame_header(h: &[u8]) -> FrameHeader {
    FrameHeader {
        len: le_u32(&h[0..4]),
        seq: le_u64(&h[4..12]),
        crc: le_u32(&h[12..16]),
    }
}

/// The checksum a frame with this header and payload must carry.
pub(super) fn frame_crc(h: &[u8], payload: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[..12]);
    crc.update(payload);
    crc.finalize()
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_in_seq_order() {
        assert_eq!(segment_name(7), "journal-00000000000000000007.log");
        assert_eq!(classify(&segment_name(7)), Some(FileKind::Segment(7)));
        assert_eq!(
            classify(&snapshot_name(u64::MAX)),
            Some(FileKind::Snapshot(u64::MAX))
        );
        assert_eq!(
            classify("snapshot-00000000000000000009.snap.tmp"),
            Some(FileKind::Temp)
        );
        assert_eq!(classify("journal-7.log"), None);
        assert_eq!(classify("notes.txt.tmp"), None);
        assert!(segment_name(9) < segment_name(10));
    }

    #[test]
    fn zeros_are_never_a_valid_frame() {
        let zeros = [0u8; FRAME_HEADER_LEN];
        let h = parse_frame_header(&zeros);
        assert_ne!(frame_crc(&zeros, &[]), h.crc);
    }

    #[test]
    fn headers_round_trip() {
        assert_eq!(parse_segment_header(&segment_header(42)), Ok(42));
        let mut h = segment_header(42);
        h[13] ^= 1;
        assert!(parse_segment_header(&h).is_err());
        let body = b"state";
        let h = snapshot_header(9, body);
        let parsed = parse_snapshot_header(&h).expect("valid header");
        assert_eq!((parsed.seq, parsed.len), (9, 5));
        assert_eq!(snapshot_crc(&h, body), parsed.crc);
    }
}
