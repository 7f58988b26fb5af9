//! Identifiers: the crate's own patron ids and the vendor's ids for everything else.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A patron's id in this memory. Ids are handed out in increasing order, never reused,
/// and survive merges (a merged id keeps forwarding to the patron it was merged into).
///
/// ```
/// use regulars::PatronId;
/// let id = PatronId::from_u64(42);
/// assert_eq!(id.as_u64(), 42);
/// assert_eq!(id.to_string(), "P42");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatronId(u64);

impl PatronId {
    /// The id with this number (for ids stored by the embedding product).
    pub const fn from_u64(raw: u64) -> Self {
        Self(raw)
    }

    /// The id's number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PatronId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

macro_rules! vendor_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Any string the vendor uses; it is checked (non-empty, at most
        /// 128 bytes, no control characters) when memory first sees it.
        ///
        /// Cloning is cheap: clones share one copy of the text.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps the vendor's id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(Arc::from(id.into()))
            }

            /// The id as the vendor gave it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self::new(id)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Serialized as the bare string, as before ids were shared.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

vendor_id!(
    /// The vendor's id of one event (an order placed, a door scan, a donation…); memory
    /// uses it to recognize a replayed event.
    EventId
);
vendor_id!(
    /// The vendor's id of an order.
    OrderId
);
vendor_id!(
    /// The vendor's id of a ticket (usually its barcode).
    TicketId
);
vendor_id!(
    /// The scanner's id of one door scan, so that a scanner re-sending it counts once.
    ScanId
);
vendor_id!(
    /// The vendor's id of a venue.
    VenueId
);
vendor_id!(
    /// The vendor's id of a production (a show, whatever its dates).
    ProductionId
);
vendor_id!(
    /// The vendor's id of one performance of a production.
    PerformanceId
);

/// Longest vendor id accepted, in bytes.
pub(crate) const MAX_ID_BYTES: usize = 128;

/// Checks a vendor id: what makes it unusable, if anything.
pub(crate) fn check_vendor_id(id: &str) -> Result<(), crate::normalize::Rejection> {
    use crate::normalize::Rejection;
    if id.len() > MAX_ID_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_ID_BYTES,
        });
    }
    if id.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    if let Some(position) = id.chars().position(char::is_control) {
        return Err(Rejection::ControlCharacter { position });
    }
    Ok(())
}
