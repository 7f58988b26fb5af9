//! The byte source under the CSV reader: drops a UTF-8 byte-order mark at the start and
//! stops reading when one record grows past a bound, so a hostile file cannot make the
//! reader buffer gigabytes; and keeps the bytes not yet released, to count lines.
//!
//! The CSV reader's own line numbers count from where it stood before a record, which
//! is before the previous record's `\n` when lines end in `\r\n`, and before any blank
//! lines; the physical line a record starts on is counted here instead.

use std::io::{self, Read};

/// The UTF-8 byte-order mark some spreadsheet programs put at the start of a file.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Released bytes are dropped from the window once there are this many.
const COMPACT_AT: usize = 64 * 1024;

/// Wraps the caller's reader.
pub(super) struct Guarded<R> {
    inner: R,
    /// The first bytes of the input, read ahead to look for a byte-order mark.
    prefix: [u8; 3],
    prefix_len: usize,
    prefix_pos: usize,
    started: bool,
    /// Bytes read since [`Guarded::start_record`].
    in_record: usize,
    max_record_bytes: usize,
    tripped: bool,
    /// Bytes handed to the CSV reader and not yet released, and where they start in the
    /// input (after a byte-order mark).
    window: Vec<u8>,
    window_start: u64,
    /// How many bytes at the front of `window` are released.
    released: usize,
    /// Line breaks before the first byte not released.
    lines_before: u64,
    /// The byte before `window`'s first, once bytes were dropped from it: a `\n` right
    /// after a `\r` ends no line of its own.
    before_window: u8,
}

impl<R: Read> Guarded<R> {
    pub(super) fn new(inner: R, max_record_bytes: usize) -> Self {
        Self {
            inner,
            prefix: [0; 3],
            prefix_len: 0,
            prefix_pos: 0,
            started: false,
            in_record: 0,
            max_record_bytes,
            tripped: false,
            window: Vec::new(),
            window_start: 0,
            released: 0,
            lines_before: 0,
            before_window: 0,
        }
    }

    /// The line (counted from 1) of the first byte of the record the CSV reader read from
    /// byte offset `start` to `end`: the first byte that is not a line break, since the
    /// reader skips blank lines. Releases the bytes before `end`.
    pub(super) fn record_line(&mut self, start: u64, end: u64) -> u64 {
        let (base, len, released) = (self.window_start, self.window.len(), self.released);
        let offset = |at: u64| {
            usize::try_from(at.saturating_sub(base))
                .unwrap_or(usize::MAX)
                .min(len)
                .max(released)
        };
        let end = offset(end);
        let start = offset(start).min(end);
        let lead = self.window[start..end]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let line = 1 + self.lines_before + self.line_breaks(released, start + lead);
        self.lines_before += self.line_breaks(released, end);
        self.released = end;
        if self.released >= COMPACT_AT {
            self.before_window = self.window[self.released - 1];
            self.window.drain(..self.released);
            self.window_start += self.released as u64;
            self.released = 0;
        }
        line
    }

    /// Called before each record is read: the bound applies to one record at a time.
    pub(super) fn start_record(&mut self) {
        self.in_record = 0;
    }

    /// Whether reading stopped because a record was too long.
    pub(super) fn tripped(&self) -> bool {
        self.tripped
    }

    fn start(&mut self) -> io::Result<()> {
        while self.prefix_len < BOM.len() {
            match self.inner.read(&mut self.prefix[self.prefix_len..]) {
                Ok(0) => break,
                Ok(n) => self.prefix_len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.prefix[..self.prefix_len] == BOM {
            self.prefix_pos = BOM.len();
        }
        self.started = true;
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.prefix_pos < self.prefix_len {
            let pending = &self.prefix[self.prefix_pos..self.prefix_len];
            let n = pending.len().min(buf.len());
            buf[..n].copy_from_slice(&pending[..n]);
            self.prefix_pos += n;
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped {
            return Err(too_long());
        }
        if !self.started {
            self.start()?;
        }
        let n = self.read_inner(buf)?;
        self.window.extend_from_slice(&buf[..n]);
        self.in_record = self.in_record.saturating_add(n);
        if self.in_record > self.max_record_bytes {
            self.tripped = true;
            return Err(too_long());
        }
        Ok(n)
    }
}

impl<R> Guarded<R> {
    /// How many lines end in `window[from..to]`. A line ends in `\r\n`, `\n` or a lone
    /// `\r` (old Mac exports), as the CSV reader reads them: each `\r` counts, and each
    /// `\n` that does not follow one. Looking back rather than ahead means a `\r` at the
    /// end of what was read so far is counted right.
    fn line_breaks(&self, from: usize, to: usize) -> u64 {
        let mut previous = match from.checked_sub(1) {
            Some(i) => self.window[i],
            None => self.before_window,
        };
        let mut breaks = 0;
        for &b in &self.window[from..to] {
            if b == b'\r' || (b == b'\n' && previous != b'\r') {
                breaks += 1;
            }
            previous = b;
        }
        breaks
    }
}

fn too_long() -> io::Error {
    io::Error::other("record too long")
}
