//! A proposed personal gesture.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::model::history::Seat;
use crate::model::ids::{PatronId, PerformanceId, TicketId};
use crate::model::profile::{Channel, Purpose};

/// What sort of gesture a moment is; policies (and "leave me alone") act on this.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MomentKind {
    /// A greeting: welcome, welcome back.
    Welcome,
    /// Marking an occasion: a milestone, a repeat visit, a birthday.
    Celebration,
    /// Knowing their habits: the usual drink, the aisle seat.
    Recognition,
    /// Serving them: access needs, a problem with their booking.
    Operational,
    /// Selling to them.
    Marketing,
}

/// How staff or systems should act on a moment.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Action {
    /// A note left on their seat.
    SeatNote,
    /// An alert for box-office staff.
    BoxOfficeAlert,
    /// A message shown to the door scanner when their ticket is scanned.
    ScanAttention,
    /// An item in the front-of-house brief for the performance.
    FrontOfHouse,
    /// A message sent afterwards.
    FollowUp,
}

/// How much a moment matters, 0 (least) to 255. Higher wins when only some can be acted on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Priority(pub u8);

impl Priority {
    /// Nice to have.
    pub const LOW: Priority = Priority(64);
    /// The default.
    pub const NORMAL: Priority = Priority(128);
    /// Act on this first.
    pub const HIGH: Priority = Priority(192);
}

impl Default for Priority {
    fn default() -> Self {
        Priority::NORMAL
    }
}

/// A small personal gesture proposed by a rule for one patron.
///
/// `Debug` shows everything but the message and explanation, which rules may write the
/// patron's name or history into; [`Display`](std::fmt::Display) and the accessors show
/// them.
///
/// Rules build moments with [`Moment::new`] and the setters; memory fills in the rule id
/// and the patron, and fires each `(rule, patron, dedupe key)` at most once, ever.
///
/// ```
/// use regulars::{Action, Moment, MomentKind, Priority, Seat};
/// let note = Moment::new(MomentKind::Celebration, Action::SeatNote, "Third time at Hamlet")
///     .for_performance("hamlet-3")
///     .at_seat(Seat::new("F12"))
///     .with_priority(Priority::HIGH)
///     .explain("attended hamlet-1 and hamlet-2");
/// assert_eq!(note.dedupe_key(), "hamlet-3");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Moment {
    pub(crate) rule: Text,
    pub(crate) patron: PatronId,
    pub(crate) kind: MomentKind,
    pub(crate) action: Action,
    pub(crate) performance: Option<PerformanceId>,
    pub(crate) ticket: Option<TicketId>,
    pub(crate) seat: Option<Seat>,
    pub(crate) message: Text,
    pub(crate) priority: Priority,
    pub(crate) dedupe_key: Option<Text>,
    pub(crate) explanation: Text,
    pub(crate) channel: Option<Channel>,
    /// At most one of each purpose, so three fit without allocating.
    pub(crate) purposes: SmallVec<[Purpose; 3]>,
}

/// A moment's text: owned as the rule wrote it, shared with memory's one copy of it
/// (moments read back from memory share their texts, so reading one allocates nothing),
/// or a built-in rule's fixed words. Compared, hashed and serialized as the text.
#[derive(Clone)]
pub(crate) enum Text {
    Owned(String),
    Shared(Arc<str>),
    Static(&'static str),
}

impl Default for Text {
    fn default() -> Self {
        Text::Owned(String::new())
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Owned(text) => text,
            Text::Shared(text) => text,
            Text::Static(text) => text,
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text::Owned(text)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Text::Owned)
    }
}

impl Moment {
    /// A moment of `kind`, acted on by `action`, with the `message` staff will see.
    pub fn new(kind: MomentKind, action: Action, message: impl Into<String>) -> Self {
        Self {
            rule: Text::default(),
            patron: PatronId::from_u64(0),
            kind,
            action,
            performance: None,
            ticket: None,
            seat: None,
            message: Text::Owned(message.into()),
            priority: Priority::NORMAL,
            dedupe_key: None,
            explanation: Text::default(),
            channel: None,
            purposes: SmallVec::new(),
        }
    }
    /// The performance it is for.
    #[must_use]
    pub fn for_performance(mut self, performance: impl Into<PerformanceId>) -> Self {
        self.performance = Some(performance.into());
        self
    }
    /// The ticket it is for, so a refund or resale can retire it.
    #[must_use]
    pub fn for_ticket(mut self, ticket: impl Into<TicketId>) -> Self {
        self.ticket = Some(ticket.into());
        self
    }
    /// The seat it is for.
    #[must_use]
    pub fn at_seat(mut self, seat: Seat) -> Self {
        self.seat = Some(seat);
        self
    }
    /// Its priority.
    #[must_use]
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }
    /// What makes it "the same moment" for this rule and patron. Defaults to the
    /// performance id, or to `"once"` (once per patron, ever) without a performance.
    #[must_use]
    pub fn dedupe_by(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(Text::Owned(key.into()));
        self
    }
    /// The facts that justify it, for staff who wonder why.
    #[must_use]
    pub fn explain(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = Text::Owned(explanation.into());
        self
    }

    /// [`explain`](Moment::explain) with fixed words, kept without copying them.
    pub(crate) fn explain_static(mut self, explanation: &'static str) -> Self {
        self.explanation = Text::Static(explanation);
        self
    }

    /// How it reaches the patron, for follow-ups (`Channel::Email` unless said).
    #[must_use]
    pub fn via(mut self, channel: Channel) -> Self {
        self.channel = Some(channel);
        self
    }
    /// A purpose the moment uses personal data for; consent is checked for each on the
    /// moment's [channel](Moment::channel). Without any, memory assumes the kind's usual
    /// one: operational for [`MomentKind::Operational`], marketing for
    /// [`MomentKind::Marketing`], personalisation otherwise.
    #[must_use]
    pub fn relies_on(mut self, purpose: Purpose) -> Self {
        if !self.purposes.contains(&purpose) {
            self.purposes.push(purpose);
        }
        self
    }

    pub(crate) fn stamp(&mut self, rule: Text, patron: PatronId) {
        self.rule = rule;
        self.patron = patron;
        if self.purposes.is_empty() {
            self.purposes.push(default_purpose(self.kind));
        }
    }

    /// The rule that proposed it.
    pub fn rule(&self) -> &str {
        &self.rule
    }
    /// The patron it is for.
    pub fn patron(&self) -> PatronId {
        self.patron
    }
    /// What sort of gesture it is.
    pub fn kind(&self) -> MomentKind {
        self.kind
    }
    /// How to act on it.
    pub fn action(&self) -> Action {
        self.action
    }
    /// The performance, if any.
    pub fn performance(&self) -> Option<&PerformanceId> {
        self.performance.as_ref()
    }
    /// The ticket, if any.
    pub fn ticket(&self) -> Option<&TicketId> {
        self.ticket.as_ref()
    }
    /// The seat, if any.
    pub fn seat(&self) -> Option<&Seat> {
        self.seat.as_ref()
    }
    /// What staff will see.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Its priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }
    /// The dedupe key in force.
    pub fn dedupe_key(&self) -> &str {
        dedupe_key_of(self.dedupe_key.as_deref(), self.performance.as_ref())
    }
    /// Why it was proposed.
    pub fn explanation(&self) -> &str {
        &self.explanation
    }
    /// How it reaches the patron: staff in person for everything at the venue, the
    /// channel set with [`via`](Moment::via) (e-mail by default) for follow-ups.
    pub fn channel(&self) -> Channel {
        channel_of(self.channel, self.action)
    }
    /// The purposes it uses personal data for (after memory stamped it, never empty).
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }
}

/// `text` with each whole word found in `words` (compared lower-cased) replaced, or
/// `None` if there is none.
pub(crate) fn redact_words(text: &str, words: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    let mut changed = false;
    let mut start = None;
    // A sentinel non-word character at the end closes the last word.
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (start, c.is_alphanumeric()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                start = None;
                let word = &text[s..i];
                if words.iter().any(|w| *w == word.to_lowercase()) {
                    out.push_str(&text[copied..s]);
                    out.push_str("<erased>");
                    copied = i;
                    changed = true;
                }
            }
            _ => {}
        }
    }
    changed.then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

impl fmt::Debug for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Moment")
            .field("rule", &&*self.rule)
            .field("patron", &self.patron)
            .field("kind", &self.kind)
            .field("action", &self.action)
            .field("performance", &self.performance)
            .field("ticket", &self.ticket)
            .field("seat", &self.seat)
            .field("message", &crate::pii::REDACTED)
            .field("priority", &self.priority)
            .field("dedupe_key", &self.dedupe_key.as_deref())
            .field("explanation", &crate::pii::REDACTED)
            .field("channel", &self.channel)
            .field("purposes", &self.purposes)
            .finish()
    }
}

/// The dedupe key of a moment with this key set (or none) for this performance (or none).
pub(crate) fn dedupe_key_of<'a>(
    key: Option<&'a str>,
    performance: Option<&'a PerformanceId>,
) -> &'a str {
    match (key, performance) {
        (Some(key), _) => key,
        (None, Some(performance)) => performance.as_str(),
        (None, None) => "once",
    }
}

/// The channel of a moment with this channel set (or none) and action.
pub(crate) fn channel_of(channel: Option<Channel>, action: Action) -> Channel {
    match (channel, action) {
        (Some(channel), _) => channel,
        (None, Action::FollowUp) => Channel::Email,
        (None, _) => Channel::InPerson,
    }
}

/// What a moment of this kind relies on when its rule named nothing.
pub(crate) fn default_purpose(kind: MomentKind) -> Purpose {
    match kind {
        MomentKind::Operational => Purpose::Operational,
        MomentKind::Marketing => Purpose::Marketing,
        _ => Purpose::Personalisation,
    }
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", &*self.rule, &*self.message)?;
        if let Some(seat) = &self.seat {
            write!(f, " (seat {seat})")?;
        }
        Ok(())
    }
}
