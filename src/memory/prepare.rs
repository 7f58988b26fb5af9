//! Normalizing an event's signals ahead of observing it, on another thread: a bulk
//! import can parse and normalize one row while memory observes the one before.

use std::borrow::Borrow;
use std::fmt;

use super::Limits;
use super::Memory;
use super::observation::Observation;
use crate::error::{Result, at};
use crate::model::event::{Event, EventKind};
use crate::normalize::Country;
use crate::recognize::SignalsAhead;
use crate::signals::NormalizedSignals;

/// Normalizes events the way one [`Memory`] would, on any thread, so that the memory
/// observing them has less to do: made by [`Memory::preparer`], used with
/// [`Memory::observe_prepared`].
///
/// It holds the memory's settings (default country, limits), not the memory: it is
/// `Send + Sync`, cheap to clone, and works while the memory is busy on another thread.
/// What it prepares is the buyer of an order that has its own time ([`Event::at`]);
/// anything else is left for memory to normalize as usual.
#[derive(Clone, Debug)]
pub struct Preparer {
    settings: Settings,
    /// Memory keeps identifiers sealed under a key this does not hold: nothing is
    /// prepared, memory seals and normalizes everything itself.
    seals_identifiers: bool,
}

/// What normalizing depends on; memory checks these match its own before using a
/// prepared value.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    default_country: Option<Country>,
    limits: Limits,
}

/// An event made ready by a [`Preparer`], to pass to [`Memory::observe_prepared`].
///
/// `Debug` shows no personal data: the event's and the signals' own `Debug` redact it.
pub struct PreparedEvent {
    event: Event,
    /// The event's fingerprint, unless the preparer's memory seals identifiers (its
    /// fingerprint is the sealed event's).
    fingerprint: Option<u64>,
    /// The order buyer's signals normalized (or why they could not be), and the
    /// settings that was done with.
    buyer: Option<(Settings, Result<PreparedBuyer>)>,
}

/// An order buyer's signals normalized ahead, with what recognizing them works out from
/// them alone.
pub(super) struct PreparedBuyer {
    pub(super) signals: NormalizedSignals,
    pub(super) ahead: SignalsAhead,
}

/// What a memory takes over from a [`PreparedEvent`]: only what was worked out the way
/// it would work it out itself.
#[derive(Clone, Copy, Default)]
pub(super) struct Ahead<'p> {
    pub(super) fingerprint: Option<u64>,
    pub(super) buyer: Option<&'p Result<PreparedBuyer>>,
}

impl fmt::Debug for PreparedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedEvent")
            .field("event", &self.event)
            .field("buyer_prepared", &self.buyer.is_some())
            .finish()
    }
}

impl PreparedEvent {
    /// The event, as it will be observed.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event, without what was prepared.
    pub fn into_event(self) -> Event {
        self.event
    }

    /// Whether something was normalized ahead (the buyer of an order with its own time,
    /// for a memory that does not seal identifiers).
    pub fn is_prepared(&self) -> bool {
        self.buyer.is_some()
    }
}

impl Preparer {
    /// Normalizes what can be normalized ahead in `event`, and works out ahead what
    /// observing it needs from the event alone (its fingerprint, and for a buyer
    /// normalized ahead, the keys recognizing them looks up).
    ///
    /// Never fails: a signal that does not normalize is kept as the error, and
    /// [`Memory::observe_prepared`] returns that error where [`Memory::observe`] would
    /// have (after the checks that come first, such as the event id's).
    pub fn prepare(&self, event: Event) -> PreparedEvent {
        let fingerprint = (!self.seals_identifiers).then(|| super::write::fingerprint(&event));
        let buyer = match (event.kind(), event.occurred_at()) {
            (EventKind::Order(order), Some(now)) if !self.seals_identifiers => {
                let id = event.id().as_str();
                let location = |field: &str| {
                    if field.is_empty() {
                        at(id, "order.buyer")
                    } else {
                        at(id, format_args!("order.buyer.{field}"))
                    }
                };
                let normalized = order.buyer.normalize(
                    self.settings.default_country,
                    now.date_naive(),
                    &self.settings.limits,
                    &location,
                    false,
                );
                let prepared = normalized.map(|signals| PreparedBuyer {
                    ahead: SignalsAhead::of(&signals),
                    signals,
                });
                Some((self.settings.clone(), prepared))
            }
            _ => None,
        };
        PreparedEvent {
            event,
            fingerprint,
            buyer,
        }
    }
}

impl Memory {
    /// A [`Preparer`] with this memory's settings, to normalize events on another
    /// thread before [`observe_prepared`](Self::observe_prepared) takes them here.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let preparer = memory.preparer();
    /// let at = "2026-03-01T19:30:00Z".parse()?;
    /// let rows = ["ana@example.org", "ANA@example.org "];
    /// // Another thread normalizes the next row while memory observes this one.
    /// let decisions = std::thread::scope(|scope| {
    ///     let (send, receive) = std::sync::mpsc::sync_channel(16);
    ///     scope.spawn(move || {
    ///         for (i, email) in rows.iter().enumerate() {
    ///             let order = Order::new(format!("o-{i}"), Signals::new().email(*email));
    ///             let event = Event::order(format!("e-{i}"), order).at(at);
    ///             let _ = send.send(preparer.prepare(event));
    ///         }
    ///     });
    ///     receive
    ///         .iter()
    ///         .map(|prepared| Ok(memory.observe_prepared(prepared)?.recognition().decision()))
    ///         .collect::<regulars::Result<Vec<_>>>()
    /// })?;
    /// assert_eq!(decisions, ["new", "known"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preparer(&self) -> Preparer {
        Preparer {
            settings: Settings {
                default_country: self.default_country,
                limits: self.limits.clone(),
            },
            seals_identifiers: self.seals_identifiers(),
        }
    }

    /// [`observe`](Self::observe) for an event a [`Preparer`] made ready: the same
    /// result, error and journal record as observing the event itself, with less work
    /// left to do here.
    ///
    /// What was prepared is used only if it was prepared with this memory's settings
    /// (any memory's preparer works; one whose settings differ only saves nothing).
    ///
    /// Takes the prepared event or a reference to it: given a reference, the caller
    /// keeps the event, to drop it (or reuse its room) on another thread, which then
    /// spends that time rather than this one.
    pub fn observe_prepared(
        &mut self,
        prepared: impl Borrow<PreparedEvent>,
    ) -> Result<Observation> {
        let PreparedEvent {
            event,
            fingerprint,
            buyer,
        } = prepared.borrow();
        let seals = self.seals_identifiers();
        let ours = Settings {
            default_country: self.default_country,
            limits: self.limits.clone(),
        };
        let ahead = Ahead {
            // A sealing memory fingerprints the sealed event.
            fingerprint: fingerprint.filter(|_| !seals),
            buyer: buyer
                .as_ref()
                .filter(|(settings, _)| *settings == ours && !seals)
                .map(|(_, prepared)| prepared),
        };
        self.observe_with(event, ahead)
    }
}
