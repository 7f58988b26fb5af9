//! Times in snapshots and journal records as integers, not RFC 3339 text.
//!
//! chrono writes a `DateTime<Utc>` as text in every serde format, and reading that text
//! back was about a tenth of loading a snapshot. Fields marked
//! `#[serde(with = "crate::memory::binary_time")]` (or `::option` for an `Option`) are
//! written as seconds since the Unix epoch and nanoseconds (two varints in postcard, 6
//! bytes for a time of this century instead of about 25), and read back exactly. In
//! human-readable formats (the JSON of a patron export) they stay RFC 3339 text.
//!
//! Images and records written before times were integers are read under a [`TextTimes`]
//! guard, which makes these fields expect text again.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    /// Whether binary formats being read on this thread hold times as text.
    static TEXT_TIMES: Cell<bool> = const { Cell::new(false) };
    /// Whether the fields marked [`moment`] being read on this thread hold times as text.
    static TEXT_MOMENT_TIMES: Cell<bool> = const { Cell::new(false) };
}

/// While alive, times in binary formats read on this thread are expected as RFC 3339
/// text, as snapshots and journal records of earlier formats hold them.
pub(crate) struct TextTimes {
    previous: bool,
}

impl TextTimes {
    pub(crate) fn start() -> TextTimes {
        TextTimes {
            previous: TEXT_TIMES.replace(true),
        }
    }
}

impl Drop for TextTimes {
    fn drop(&mut self) {
        TEXT_TIMES.set(self.previous);
    }
}

/// While alive, the fields marked [`moment`] read on this thread are expected as RFC
/// 3339 text, as snapshots before version 6 hold them (and written so, as those were).
pub(crate) struct TextMomentTimes {
    previous: bool,
}

impl TextMomentTimes {
    pub(crate) fn start() -> TextMomentTimes {
        TextMomentTimes {
            previous: TEXT_MOMENT_TIMES.replace(true),
        }
    }
}

impl Drop for TextMomentTimes {
    fn drop(&mut self) {
        TEXT_MOMENT_TIMES.set(self.previous);
    }
}

pub(crate) fn serialize<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        return at.serialize(serializer);
    }
    (at.timestamp(), at.timestamp_subsec_nanos()).serialize(serializer)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DateTime<Utc>, D::Error> {
    if deserializer.is_human_readable() || TEXT_TIMES.get() {
        return DateTime::<Utc>::deserialize(deserializer);
    }
    let (seconds, nanos): (i64, u32) = Deserialize::deserialize(deserializer)?;
    DateTime::from_timestamp(seconds, nanos).ok_or_else(|| {
        D::Error::custom(format!(
            "time {seconds} s {nanos} ns after 1970 is out of range"
        ))
    })
}

/// The same for a time that formats kept as text for longer: a fired moment's, written
/// as text in snapshots before version 6 (read under a [`TextMomentTimes`] guard).
pub(crate) mod moment {
    use super::{DateTime, Deserialize, Deserializer, Serialize, Serializer, Utc};

    pub(crate) fn serialize<S: Serializer>(
        at: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        // Under the guard, as those snapshots were written (for tests of loading them).
        if super::TEXT_MOMENT_TIMES.get() {
            return at.serialize(serializer);
        }
        super::serialize(at, serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        if super::TEXT_MOMENT_TIMES.get() && !deserializer.is_human_readable() {
            return DateTime::<Utc>::deserialize(deserializer);
        }
        super::deserialize(deserializer)
    }
}

/// The same for an optional time.
pub(crate) mod option {
    use super::{DateTime, Deserialize, Deserializer, Serialize, Serializer, Utc};

    /// Borrows a time to write it as [`super`] does.
    struct Binary<'a>(&'a DateTime<Utc>);

    impl Serialize for Binary<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, serializer)
        }
    }

    /// Reads a time as [`super`] does.
    struct Read(DateTime<Utc>);

    impl<'de> Deserialize<'de> for Read {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::deserialize(deserializer).map(Read)
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        at.as_ref().map(Binary).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Read>::deserialize(deserializer)?.map(|Read(at)| at))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Times {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(with = "super::option")]
        maybe: Option<DateTime<Utc>>,
    }

    fn sample() -> Times {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 5).unwrap()
            + chrono::TimeDelta::nanoseconds(123_456_789);
        Times {
            at,
            maybe: Some(Utc.with_ymd_and_hms(1912, 4, 15, 2, 20, 0).unwrap()),
        }
    }

    #[test]
    fn binary_times_are_integers_and_read_back_exactly() {
        let times = sample();
        let bytes = postcard::to_allocvec(&times).unwrap();
        // Two varints each, and the option's tag: far shorter than two RFC 3339 strings.
        assert!(bytes.len() <= 16, "{} bytes", bytes.len());
        assert_eq!(postcard::from_bytes::<Times>(&bytes).unwrap(), times);
        let none = Times {
            maybe: None,
            ..sample()
        };
        let bytes = postcard::to_allocvec(&none).unwrap();
        assert_eq!(postcard::from_bytes::<Times>(&bytes).unwrap(), none);
    }

    #[test]
    fn human_readable_formats_keep_rfc3339_text() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(
            json.contains("\"2026-03-01T19:30:05.123456789Z\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Times>(&json).unwrap(), sample());
    }

    #[test]
    fn text_times_read_the_earlier_binary_layout() {
        #[derive(Serialize)]
        struct Earlier {
            at: DateTime<Utc>,
            maybe: Option<DateTime<Utc>>,
        }
        let times = sample();
        let bytes = postcard::to_allocvec(&Earlier {
            at: times.at,
            maybe: times.maybe,
        })
        .unwrap();
        assert!(postcard::from_bytes::<Times>(&bytes).is_err());
        let read = {
            let _text = TextTimes::start();
            postcard::from_bytes::<Times>(&bytes).unwrap()
        };
        assert_eq!(read, times);
    }

    #[test]
    fn moment_times_are_integers_and_text_only_under_their_guard() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Fired {
            #[serde(with = "super::moment")]
            at: DateTime<Utc>,
        }
        #[derive(Serialize)]
        struct Earlier {
            at: DateTime<Utc>,
        }
        let fired = Fired { at: sample().at };
        let bytes = postcard::to_allocvec(&fired).unwrap();
        assert!(bytes.len() <= 12, "{} bytes", bytes.len());
        assert_eq!(postcard::from_bytes::<Fired>(&bytes).unwrap(), fired);
        let text = postcard::to_allocvec(&Earlier { at: fired.at }).unwrap();
        // Text read as integers gives some other time (or none), never this one.
        assert_ne!(
            postcard::from_bytes::<Fired>(&text).ok(),
            Some(Fired { at: fired.at })
        );
        let read = {
            let _text = TextMomentTimes::start();
            postcard::from_bytes::<Fired>(&text).unwrap()
        };
        assert_eq!(read, fired);
        // The guard ends with its scope, and leaves other times binary meanwhile.
        assert_ne!(
            postcard::from_bytes::<Fired>(&text).ok(),
            Some(Fired { at: fired.at })
        );
        let _text = TextMomentTimes::start();
        let times = sample();
        let binary = postcard::to_allocvec(&times).unwrap();
        assert_eq!(postcard::from_bytes::<Times>(&binary).unwrap(), times);
        let json = serde_json::to_string(&fired).unwrap();
        assert_eq!(serde_json::from_str::<Fired>(&json).unwrap(), fired);
    }

    #[test]
    fn an_out_of_range_time_is_an_error_not_a_panic() {
        let bytes = postcard::to_allocvec(&(i64::MAX, 0u32, None::<()>)).unwrap();
        let error = postcard::from_bytes::<Times>(&bytes).unwrap_err();
        assert!(!error.to_string().is_empty());
    }
}
