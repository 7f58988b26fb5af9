//! Keyed hashing of identifiers at rest: e-mails, phones, card tokens and external ids
//! kept only as keyed hashes, which still match exactly.

use std::borrow::Cow;
use std::fmt;

use crate::memory::Memory;
use crate::model::event::{Event, EventKind};
use crate::model::profile::Identifier;
use crate::normalize::Rejection;
use crate::signals::Signals;

/// How a sealed identifier value starts: the scheme's version, so another scheme could
/// follow without confusing the two.
const SCHEME: &str = "k:";
/// Bytes of the keyed hash kept: 128 bits, so two identifiers share a value only by a
/// collision no realistic memory reaches.
const KEPT_BYTES: usize = 16;

/// The key identifiers are hashed with. `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct IdentifierKey(blake3::Hasher);

impl fmt::Debug for IdentifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentifierKey(<redacted>)")
    }
}

impl IdentifierKey {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self(blake3::Hasher::new_keyed(key))
    }

    /// The sealed value of a normalized identifier: `k:` and 32 hex digits. The kind and
    /// system are hashed with the value, so one value under two kinds seals differently.
    pub(crate) fn seal(&self, identifier: &Identifier) -> String {
        let mut hasher = self.0.clone();
        hasher.update(identifier.kind().name().as_bytes());
        hasher.update(b"\0");
        hasher.update(identifier.system().unwrap_or_default().as_bytes());
        hasher.update(b"\0");
        hasher.update(identifier.value().as_bytes());
        let hash = hasher.finalize();
        let mut out = String::with_capacity(SCHEME.len() + 2 * KEPT_BYTES);
        out.push_str(SCHEME);
        for byte in &hash.as_bytes()[..KEPT_BYTES] {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks a sealed value read back from the journal: `k:` and 32 lower-case hex digits.
pub(crate) fn check_sealed(value: &str) -> Result<(), Rejection> {
    let well_formed = value
        .strip_prefix(SCHEME)
        .is_some_and(|hex| hex.len() == 2 * KEPT_BYTES && hex.bytes().all(|b| HEX.contains(&b)));
    if well_formed {
        Ok(())
    } else {
        Err(Rejection::Malformed {
            expected: "a sealed identifier (k: and 32 hex digits)",
        })
    }
}

impl Memory {
    /// The signals with their identifiers sealed, when memory has an identifier key.
    pub(crate) fn sealed_signals<'a>(&self, signals: &'a Signals) -> Cow<'a, Signals> {
        match &self.identifier_key {
            Some(key) => Cow::Owned(signals.seal(self.default_country, &|id| key.seal(id))),
            None => Cow::Borrowed(signals),
        }
    }

    /// The event with every identifier it carries sealed, when memory has an identifier
    /// key: what memory journals, fingerprints and records, so no raw identifier
    /// reaches memory or its files.
    pub(crate) fn sealed_event<'a>(&self, event: &'a Event) -> Cow<'a, Event> {
        let Some(key) = &self.identifier_key else {
            return Cow::Borrowed(event);
        };
        let seal = |signals: &mut Signals| {
            *signals = signals.seal(self.default_country, &|id| key.seal(id));
        };
        let mut kind = event.kind().clone();
        match &mut kind {
            EventKind::Order(order) => {
                seal(&mut order.buyer);
                for ticket in &mut order.tickets {
                    if let Some(holder) = &mut ticket.holder {
                        seal(holder);
                    }
                }
            }
            EventKind::Donation(donation) => seal(&mut donation.donor),
            EventKind::Membership(membership) => seal(&mut membership.member),
            EventKind::Purchase(purchase) => seal(&mut purchase.customer),
            EventKind::Scan(_) | EventKind::Refund(_) => return Cow::Borrowed(event),
        }
        let mut sealed = Event::new(event.id().clone(), kind);
        if let Some(at) = event.occurred_at() {
            sealed = sealed.at(at);
        }
        Cow::Owned(sealed)
    }

    /// Whether memory keeps identifiers as keyed hashes.
    pub(crate) fn seals_identifiers(&self) -> bool {
        self.identifier_key.is_some()
    }
}
