//! Reading segments: buffered frame parsing for replay and recovery, and the search for
//! a valid frame after damage that tells a torn tail from corruption in the middle.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::format::{self, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN, frame_crc, parse_frame_header};
use super::fs::{io_error, open_read};
use crate::journal::MAX_RECORD_BYTES;
use crate::{Error, Result};

/// Reads are this large, so replay makes one syscall per megabyte, not per record.
const READ_CHUNK: usize = 1 << 20;

pub(super) fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> Error {
    Error::CorruptJournal {
        file: path.display().to_string(),
        offset,
        reason: reason.into(),
    }
}

/// What the next bytes of a segment hold. `Debug` shows a payload's length, not its
/// bytes (records hold personal data).
pub(super) enum Next<'a> {
    /// A frame whose checksum is right.
    Record {
        seq: u64,
        offset: u64,
        payload: &'a [u8],
    },
    /// The segment ends exactly after the last frame.
    End,
    /// The bytes at `offset` are not a valid frame.
    Damaged { offset: u64, reason: String },
}

/// Parses the frames of one segment from a reusable buffer; payloads are handed out as
/// slices of it, so reading allocates only when a record is larger than the buffer.
pub(super) struct SegmentReader {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    /// Parse position in `buf`.
    start: usize,
    /// End of the bytes read into `buf`.
    end: usize,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    /// File offset up to which frames are read: the file's length, or the journal's
    /// own idea of where the segment ends.
    len: u64,
    first_seq: u64,
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Next::Record {
                seq,
                offset,
                payload,
            } => f
                .debug_struct("Record")
                .field("seq", seq)
                .field("offset", offset)
                .field("payload_len", &payload.len())
                .finish(),
            Next::End => f.write_str("End"),
            Next::Damaged { offset, reason } => f
                .debug_struct("Damaged")
                .field("offset", offset)
                .field("reason", reason)
                .finish(),
        }
    }
}

impl fmt::Debug for SegmentReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentReader")
            .field("path", &self.path)
            .field("buffered", &self.end.saturating_sub(self.start))
            .field("buf_offset", &self.buf_offset)
            .field("len", &self.len)
            .field("first_seq", &self.first_seq)
            .finish_non_exhaustive()
    }
}

impl SegmentReader {
    /// Opens a segment and checks its header against the first seq its name gives.
    /// Reads up to `len` bytes, or to the end of the file if `None`.
    pub(super) fn open(path: &Path, name_seq: u64, len: Option<u64>) -> Result<Self> {
        Self::open_buffered(path, name_seq, len, 0)
    }

    /// Opens a segment to be read to the end of the file, into one buffer the size of
    /// the file if its frames take at most `whole` bytes (so that those found good can
    /// be kept, see [`into_checked`](Self::into_checked)), in chunks otherwise.
    pub(super) fn open_whole(path: &Path, name_seq: u64, whole: usize) -> Result<Self> {
        Self::open_buffered(path, name_seq, None, whole)
    }

    fn open_buffered(path: &Path, name_seq: u64, len: Option<u64>, whole: usize) -> Result<Self> {
        let mut file = open_read(path)?;
        let file_len = file
            .metadata()
            .map_err(|e| io_error(path, "could not read metadata", &e))?
            .len();
        let len = len.unwrap_or(file_len);
        if file_len < len {
            return Err(corrupt(
                path,
                file_len,
                format!("file is {file_len} bytes, the journal wrote {len}"),
            ));
        }
        let first_seq = read_segment_header(&mut file, path, file_len)?;
        if first_seq != name_seq {
            return Err(corrupt(
                path,
                12,
                format!("header says the first seq is {first_seq}, the file name says {name_seq}"),
            ));
        }
        let frames =
            usize::try_from(len.saturating_sub(SEGMENT_HEADER_LEN as u64)).unwrap_or(usize::MAX);
        let capacity = if frames <= whole {
            frames.max(FRAME_HEADER_LEN)
        } else {
            frames.clamp(FRAME_HEADER_LEN, READ_CHUNK)
        };
        Ok(SegmentReader {
            file,
            path: path.to_path_buf(),
            buf: vec![0; capacity],
            start: 0,
            end: 0,
            buf_offset: SEGMENT_HEADER_LEN as u64,
            len,
            first_seq,
        })
    }

    pub(super) fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// File offset of the next frame.
    pub(super) fn offset(&self) -> u64 {
        self.buf_offset + self.start as u64
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The frames up to file offset `end` (where the good ones end), if the reader still
    /// holds every byte from the first frame on: a reader from
    /// [`open_whole`](Self::open_whole) does.
    pub(super) fn into_checked(mut self, end: u64) -> Option<Vec<u8>> {
        if self.buf_offset != SEGMENT_HEADER_LEN as u64 {
            return None;
        }
        let held = usize::try_from(end.checked_sub(self.buf_offset)?).ok()?;
        if held > self.end {
            return None;
        }
        self.buf.truncate(held);
        Some(self.buf)
    }

    /// The next frame, the clean end of the segment, or where and why it is damaged.
    /// `Err` is only for I/O failures and files changing under the reader.
    pub(super) fn next_frame(&mut self) -> Result<Next<'_>> {
        let offset = self.offset();
        let remaining = self.len - offset;
        if remaining == 0 {
            return Ok(Next::End);
        }
        if remaining < FRAME_HEADER_LEN as u64 {
            return Ok(Next::Damaged {
                offset,
                reason: format!("{remaining} bytes at the end are too short for a record header"),
            });
        }
        self.fill(FRAME_HEADER_LEN)?;
        let header = parse_frame_header(&self.buf[self.start..self.start + FRAME_HEADER_LEN]);
        let len = header.len as usize;
        // Checked before anything is read or allocated for the payload: a damaged
        // length must not make us allocate gigabytes.
        if len > MAX_RECORD_BYTES {
            return Ok(Next::Damaged {
                offset,
                reason: format!(
                    "record length {len} is larger than the {MAX_RECORD_BYTES} byte limit"
                ),
            });
        }
        if (len as u64) > remaining - FRAME_HEADER_LEN as u64 {
            return Ok(Next::Damaged {
                offset,
                reason: format!(
                    "record of {len} bytes runs past the end of the file ({} bytes left)",
                    remaining - FRAME_HEADER_LEN as u64
                ),
            });
        }
        let total = FRAME_HEADER_LEN + len;
        self.fill(total)?;
        let frame = &self.buf[self.start..self.start + total];
        let payload = &frame[FRAME_HEADER_LEN..];
        if frame_crc(frame, payload) != header.crc {
            return Ok(Next::Damaged {
                offset,
                reason: "record checksum mismatch".into(),
            });
        }
        self.start += total;
        Ok(Next::Record {
            seq: header.seq,
            offset,
            payload: &self.buf[self.start - len..self.start],
        })
    }

    /// Makes at least `n` bytes available from `start`; the caller has checked that the
    /// file holds them.
    fn fill(&mut self, n: usize) -> Result<()> {
        if self.end - self.start >= n {
            return Ok(());
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.buf_offset += self.start as u64;
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n {
            let file_pos = self.buf_offset + self.end as u64;
            let want = (self.buf.len() - self.end)
                .min(usize::try_from(self.len - file_pos).unwrap_or(usize::MAX));
            let read = self
                .file
                .read(&mut self.buf[self.end..self.end + want])
                .map_err(|e| io_error(&self.path, "could not read", &e))?;
            if read == 0 {
                return Err(corrupt(
                    &self.path,
                    file_pos,
                    "file ended early (changed while being read?)",
                ));
            }
            self.end += read;
        }
        Ok(())
    }
}

/// Reads and checks a segment header; returns the first seq it names.
pub(super) fn read_segment_header(file: &mut File, path: &Path, file_len: u64) -> Result<u64> {
    if file_len < SEGMENT_HEADER_LEN as u64 {
        return Err(corrupt(
            path,
            0,
            format!("{file_len} bytes is shorter than the segment header"),
        ));
    }
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    file.read_exact(&mut header)
        .map_err(|e| io_error(path, "could not read the segment header", &e))?;
    format::parse_segment_header(&header).map_err(|reason| corrupt(path, 0, reason))
}

/// Looks for a valid frame starting after `damaged_at` (where the frame with seq
/// `expected_seq` should have been) and before `len`. A torn write leaves no valid frame
/// after the damage; finding one means data after the damage would be lost by
/// truncating, so the damage is corruption in the middle.
///
/// Returns the offset and seq of the first valid frame found. Cost is one pass over the
/// rest of the file; it only runs when a segment is damaged.
pub(super) fn find_valid_frame(
    path: &Path,
    damaged_at: u64,
    len: u64,
    expected_seq: u64,
) -> Result<Option<(u64, u64)>> {
    let mut scan = open_read(path)?;
    let mut check = open_read(path)?;
    let from = damaged_at + 1;
    if from + FRAME_HEADER_LEN as u64 > len {
        return Ok(None);
    }
    scan.seek(SeekFrom::Start(from))
        .map_err(|e| io_error(path, "could not seek", &e))?;
    // Every frame takes at least a header, so seqs after the damage cannot run further.
    let max_seq = expected_seq.saturating_add((len - damaged_at) / FRAME_HEADER_LEN as u64);
    let mut window: Vec<u8> = Vec::with_capacity(READ_CHUNK + FRAME_HEADER_LEN);
    let mut window_offset = from;
    let mut payload = Vec::new();
    loop {
        let filled = window.len();
        let want = READ_CHUNK
            .min(usize::try_from(len - (window_offset + filled as u64)).unwrap_or(usize::MAX));
        window.resize(filled + want, 0);
        let read = scan
            .read(&mut window[filled..])
            .map_err(|e| io_error(path, "could not read", &e))?;
        window.truncate(filled + read);
        let mut i = 0;
        while i + FRAME_HEADER_LEN <= window.len() {
            let at = window_offset + i as u64;
            let head = &window[i..i + FRAME_HEADER_LEN];
            let h = parse_frame_header(head);
            let plausible = (h.len as usize) <= MAX_RECORD_BYTES
                && at + (FRAME_HEADER_LEN as u64) + u64::from(h.len) <= len
                && (expected_seq..=max_seq).contains(&h.seq);
            if plausible {
                payload.resize(h.len as usize, 0);
                check
                    .seek(SeekFrom::Start(at + FRAME_HEADER_LEN as u64))
                    .and_then(|_| check.read_exact(&mut payload))
                    .map_err(|e| io_error(path, "could not read", &e))?;
                if frame_crc(head, &payload) == h.crc {
                    return Ok(Some((at, h.seq)));
                }
            }
            i += 1;
        }
        window.drain(..i);
        window_offset += i as u64;
        if read == 0 || want == 0 {
            return Ok(None);
        }
    }
}
