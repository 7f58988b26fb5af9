//! What `observe` answers.

use serde::Serialize;

use crate::model::ids::{PatronId, TicketId};
use crate::moments::{Moment, SilencedMoment};
use crate::recognize::Recognition;

/// The answer to [`Memory::observe`](crate::Memory::observe): who the event's person is,
/// who else it involved, and the moments to create now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observation {
    pub(crate) patron: PatronId,
    pub(crate) recognition: Recognition,
    pub(crate) participants: Vec<Participant>,
    pub(crate) moments: Vec<Moment>,
    pub(crate) silenced: Vec<SilencedMoment>,
    pub(crate) replayed: bool,
}

impl Observation {
    /// The event's person: the buyer, the scanned ticket's holder, the donor, the member
    /// or the customer.
    pub fn patron(&self) -> PatronId {
        self.patron
    }
    /// How they were recognized (`New` if memory created them).
    pub fn recognition(&self) -> &Recognition {
        &self.recognition
    }
    /// Ticket holders named in an order, other than the buyer, in ticket order.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }
    /// Moments to create now, highest priority first. Empty on a replay.
    pub fn moments(&self) -> &[Moment] {
        &self.moments
    }
    /// Moments rules proposed that were not fired, with the reason: a suppressor ("leave
    /// me alone"), missing consent, an exclusive group or the per-visit cap. For staff who
    /// wonder why nothing happened; never act on them.
    pub fn silenced(&self) -> &[SilencedMoment] {
        &self.silenced
    }
    /// Whether the event (or its scan) was seen before, so nothing changed.
    pub fn is_replay(&self) -> bool {
        self.replayed
    }
}

/// A ticket holder named in an order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Participant {
    pub(crate) ticket: TicketId,
    pub(crate) patron: PatronId,
    pub(crate) recognition: Recognition,
}

impl Participant {
    /// The ticket they hold.
    pub fn ticket(&self) -> &TicketId {
        &self.ticket
    }
    /// Who they are.
    pub fn patron(&self) -> PatronId {
        self.patron
    }
    /// How they were recognized.
    pub fn recognition(&self) -> &Recognition {
        &self.recognition
    }
}
