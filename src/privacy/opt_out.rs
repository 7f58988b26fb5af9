//! Opting out of recognition: memory stops learning about a patron and firing moments.

use crate::error::Result;
use crate::memory::Memory;
use crate::memory::State;
use crate::memory::command::Command;
use crate::model::ids::PatronId;
use crate::moments::ledger::{RuleIdx, Standing};
use crate::recognize::Recognition;

impl Memory {
    /// Opts a patron out of recognition and profiling: from now on memory learns nothing
    /// new about them and no moment of any kind fires for them.
    ///
    /// Precisely, for the patron this id stands for (with everyone merged into them):
    ///
    /// - An event carrying their identifiers is still resolved to their id, so they do
    ///   not come back as a new, profiled patron; but no new name, identifier, address or
    ///   birth date is added, nothing is added to their history or figures, and they
    ///   are never merged automatically nor linked as a household. Ticket records
    ///   (who holds which ticket, whether it was scanned or refunded) are still kept:
    ///   the door needs them.
    /// - They are linked only on a sure decision (`Known`): on doubt they are left out,
    ///   so they never appear as a review candidate (they leave open review items too;
    ///   an item left without candidates goes), a household member, a duplicate or the
    ///   nearest candidate in another person's recognition.
    ///   [`recognize`](Self::recognize) reports them as `Known` like anyone;
    ///   [`is_opted_out`](Self::is_opted_out) tells them apart.
    /// - No moment fires for them, on events or on [`tick`](Self::tick); their pending
    ///   due times are dropped, and moments fired earlier and not yet acted on are
    ///   retired (they leave [`moments_of`](Self::moments_of) and briefs).
    /// - What memory already holds stays, readable and exportable; [`erase`](Self::erase)
    ///   removes it. [`opt_in`](Self::opt_in) undoes the opt-out; what happened meanwhile
    ///   is not recovered.
    ///
    /// Journaled like every change. Opting out twice changes nothing. Errors:
    /// [`Error::UnknownPatron`](crate::Error::UnknownPatron),
    /// [`Error::ErasedPatron`](crate::Error::ErasedPatron), or the journal's errors.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let ana = Signals::new().given_name("Ana").email("ana@example.org");
    /// let id = memory.observe(Event::order("e-1", Order::new("o-1", ana.clone())))?.patron();
    /// memory.opt_out(id)?;
    /// let again = memory.observe(Event::order("e-2", Order::new("o-2", ana.phone("+44 20 7946 0018"))))?;
    /// assert_eq!(again.patron(), id);
    /// assert!(again.moments().is_empty());
    /// let patron = memory.patron(id).unwrap();
    /// assert_eq!(patron.identifiers().len(), 1); // the phone was not learned
    /// assert_eq!(patron.stats().orders(), 1); // nor the second order
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn opt_out(&mut self, patron: PatronId) -> Result<()> {
        let pending = self.begin(&Command::OptOut { patron })?;
        self.state.require(patron)?;
        let live = self.state.live(patron);
        let changed = !self.state.is_opted_out(live);
        if changed {
            self.state.privacy.opted_out.insert(live);
            let rules = RuleIdx::try_from(self.engine.rules.len()).unwrap_or(RuleIdx::MAX);
            let cluster = self.state.cluster(live);
            let ledger = &mut self.state.ledger;
            for &member in &cluster {
                for rule in 0..rules {
                    ledger.schedule(member, rule, None);
                }
                let active: Vec<u32> = ledger
                    .of_patron(member)
                    .filter(|(_, fired)| fired.standing() == Standing::Active)
                    .map(|(idx, _)| idx)
                    .collect();
                for idx in active {
                    ledger.set_standing(idx, Standing::Retired);
                }
            }
            // Nor do they stay a candidate in someone else's open review.
            self.state.identity.reviews.retain(|_, item| {
                item.retain_candidates(|c| !cluster.contains(&c.patron()));
                !item.candidates.is_empty()
            });
        }
        self.commit(pending, changed)
    }

    /// Undoes [`opt_out`](Self::opt_out): memory learns about the patron again from the
    /// next event on, and rules may fire for them. Moments retired by the opt-out stay
    /// retired. Opting in a patron who did not opt out changes nothing.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let id = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?.patron();
    /// memory.opt_out(id)?;
    /// assert!(memory.is_opted_out(id));
    /// memory.opt_in(id)?;
    /// assert!(!memory.is_opted_out(id));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn opt_in(&mut self, patron: PatronId) -> Result<()> {
        let pending = self.begin(&Command::OptIn { patron })?;
        self.state.require(patron)?;
        let live = self.state.live(patron);
        let mut changed = false;
        for member in self.state.cluster(live) {
            changed |= self.state.privacy.opted_out.remove(&member);
        }
        self.commit(pending, changed)
    }

    /// Whether the patron this id stands for opted out (see [`opt_out`](Self::opt_out)).
    pub fn is_opted_out(&self, patron: PatronId) -> bool {
        self.state.is_opted_out(patron)
    }
}

/// Keeps opted-out patrons out of a recognition except as its sure answer: never a
/// duplicate to merge, a household member, a review candidate or the nearest miss.
/// In place: a recognition keeps its evidence inline, and moving it in and out cost a
/// copy of half a kilobyte each way, even with nobody opted out.
pub(crate) fn screen(state: &State, recognition: &mut Recognition) {
    if state.privacy.opted_out.is_empty() {
        return;
    }
    let out = |id: &crate::PatronId| state.is_opted_out(*id);
    match recognition {
        Recognition::Known {
            patron,
            runner_up,
            duplicates,
            household,
            ..
        } => {
            if out(patron) {
                duplicates.clear();
                household.clear();
            } else {
                duplicates.retain(|d| !out(d));
                household.retain(|h| !out(h));
            }
            if runner_up.as_ref().is_some_and(|c| out(&c.patron())) {
                *runner_up = None;
            }
        }
        Recognition::Review {
            candidates,
            household,
        } => {
            candidates.retain(|c| !out(&c.patron()));
            household.retain(|h| !out(h));
            if candidates.is_empty() {
                let household = std::mem::take(household);
                *recognition = Recognition::New {
                    nearest: None,
                    household,
                };
            }
        }
        Recognition::New { nearest, household } => {
            if nearest.as_ref().is_some_and(|c| out(&c.patron())) {
                *nearest = None;
            }
            household.retain(|h| !out(h));
        }
    }
}
