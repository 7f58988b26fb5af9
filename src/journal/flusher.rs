//! State shared between a [`FileJournal`](super::FileJournal) and its group-commit thread.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::fs::io_error;
use crate::Error;

#[derive(Debug)]
pub(super) struct Shared {
    state: Mutex<State>,
    /// Wakes the flusher: records started waiting, a batch filled, or shutdown.
    wake: Condvar,
}

/// Everything about durability, behind one lock. The appender holds it while it writes a
/// record, so `written` never names a record the OS does not have yet.
#[derive(Debug)]
pub(super) struct State {
    /// The current segment; the flusher fsyncs a clone of this handle.
    pub(super) file: Arc<File>,
    pub(super) path: PathBuf,
    /// Last seq handed to the OS.
    pub(super) written: u64,
    /// Last seq fsynced.
    pub(super) durable: u64,
    /// Records written and not yet covered by an fsync that has started.
    pub(super) waiting: usize,
    /// When the oldest of them was appended.
    pub(super) oldest_waiting: Option<Instant>,
    /// The first failure that made the journal unusable; every later call returns it.
    pub(super) failed: Option<Error>,
    shutdown: bool,
}

impl Shared {
    pub(super) fn new(file: Arc<File>, path: PathBuf, last_seq: u64) -> Shared {
        Shared {
            state: Mutex::new(State {
                file,
                path,
                written: last_seq,
                durable: last_seq,
                waiting: 0,
                oldest_waiting: None,
                failed: None,
                shutdown: false,
            }),
            wake: Condvar::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock, but if one ever did, the state is
        // still consistent field by field, so keep going rather than panic too.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the flusher that a record was written (group commit only). Wakes it only
    /// when its plans change, so that most appends make no extra syscall.
    pub(super) fn record_waiting(&self, state: &mut State, max_batch: usize) {
        state.waiting += 1;
        let first = state.oldest_waiting.is_none();
        if first {
            state.oldest_waiting = Some(Instant::now());
        }
        if first || state.waiting == max_batch {
            self.wake.notify_one();
        }
    }

    /// Starts the group-commit thread.
    pub(super) fn spawn_flusher(
        self: &Arc<Self>,
        max_delay: Duration,
        max_batch: usize,
    ) -> std::io::Result<thread::JoinHandle<()>> {
        let shared = Arc::clone(self);
        thread::Builder::new()
            .name("regulars-journal-flush".into())
            .spawn(move || shared.run_flusher(max_delay, max_batch))
    }

    /// Asks the flusher to fsync what is waiting and stop.
    pub(super) fn shutdown(&self) {
        self.lock().shutdown = true;
        self.wake.notify_all();
    }

    fn run_flusher(&self, max_delay: Duration, max_batch: usize) {
        let mut state = self.lock();
        loop {
            if state.failed.is_some() {
                return;
            }
            let Some(oldest) = state.oldest_waiting else {
                if state.shutdown {
                    return;
                }
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            if !state.shutdown && state.waiting < max_batch {
                let now = Instant::now();
                match oldest.checked_add(max_delay) {
                    Some(due) if due <= now => {}
                    Some(due) => {
                        state = self
                            .wake
                            .wait_timeout(state, due - now)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                        continue;
                    }
                    // A delay too long to represent: wait for a full batch or shutdown.
                    None => {
                        state = self
                            .wake
                            .wait(state)
                            .unwrap_or_else(PoisonError::into_inner);
                        continue;
                    }
                }
            }
            let target = state.written;
            let file = Arc::clone(&state.file);
            let path = state.path.clone();
            state.waiting = 0;
            state.oldest_waiting = None;
            // The fsync runs without the lock, so appends continue meanwhile.
            drop(state);
            let result = file.sync_data();
            state = self.lock();
            match result {
                Ok(()) => state.durable = state.durable.max(target),
                Err(e) => {
                    if state.failed.is_none() {
                        state.failed = Some(io_error(&path, "group commit fsync failed", &e));
                    }
                }
            }
        }
    }
}
