//! Per-thread switches that tell serde code which older layout it is reading (or
//! writing, for tests of those layouts): the decoders of one format version raise the
//! ones that version needs while they run.

use std::cell::Cell;
use std::thread::LocalKey;

/// While alive, `switch` reads `true` on this thread; dropping it restores what the
/// switch read before, so switches nest.
pub(crate) struct Raised {
    switch: &'static LocalKey<Cell<bool>>,
    previous: bool,
}

impl Raised {
    /// Raises `switch` until the returned guard is dropped.
    pub(crate) fn raise(switch: &'static LocalKey<Cell<bool>>) -> Self {
        Self {
            switch,
            previous: switch.replace(true),
        }
    }
}

impl Drop for Raised {
    fn drop(&mut self) {
        self.switch.set(self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static SWITCH: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    fn a_raised_switch_falls_back_to_what_it_was_when_dropped() {
        assert!(!SWITCH.get());
        let outer = Raised::raise(&SWITCH);
        assert!(SWITCH.get());
        drop(Raised::raise(&SWITCH));
        assert!(
            SWITCH.get(),
            "the inner guard restores the outer one's state"
        );
        drop(outer);
        assert!(!SWITCH.get());
    }
}
