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

use super::format_switch::Raised;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    /// Whether binary formats being read on this thread hold times as text.
    static TEXT_TIMES: Cell<bool> = const { Cell::new(false) };
    /// Whether the fields marked [`moment`] being read on this thread hold times as text.
    static TEXT_MOMENT_TIMES: Cell<bool> = const { Cell::new(false) };
}

/// While the guard `start` returns is alive, times in binary formats read on this
/// thread are expected as RFC 3339 text, as snapshots and journal records of earlier
/// formats hold them.
pub(crate) struct TextTimes;

impl TextTimes {
    pub(crate) fn start() -> Raised {
        Raised::raise(&TEXT_TIMES)
    }
}

/// While the guard `start` returns is alive, the fields marked [`moment`] read on this
/// thread are expected as RFC 3339 text, as snapshots before version 6 hold them (and
/// written so, as those were).
pub(crate) struct TextMomentTimes;

impl TextMomentTimes {
    pub(crate) fn start() -> Raised {
        Raised::raise(&TEXT_MOMENT_TIMES)
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
    from_timestamp(seconds, nanos).ok_or_else(|| out_of_range(seconds, nanos))
}

/// The error for integers that make no time.
fn out_of_range<E: serde::de::Error>(seconds: i64, nanos: u32) -> E {
    E::custom(format!(
        "time {seconds} s {nanos} ns after 1970 is out of range"
    ))
}

/// A time as [`deserialize`] reads it, before it is made a `DateTime`: a reader that
/// keeps times as microseconds (history entries) takes them from the integers read,
/// without working out a date and time of day it would turn straight back into them.
pub(crate) enum ReadTime {
    /// Seconds since the epoch and nanoseconds, as binary formats hold them.
    Parts { seconds: i64, nanos: u32 },
    /// A time read as text.
    Time(DateTime<Utc>),
}

impl ReadTime {
    /// Microseconds since the epoch, for a time read as integers holding whole ones (no
    /// leap second) whose count fits; whether it is a time at all is for the reader to
    /// check (see [`time`](Self::time)), as is any range it keeps.
    pub(crate) fn whole_micros(&self) -> Option<i64> {
        match *self {
            Self::Parts { seconds, nanos }
                if nanos.is_multiple_of(1_000) && nanos < 1_000_000_000 =>
            {
                seconds
                    .checked_mul(1_000_000)?
                    .checked_add(i64::from(nanos / 1_000))
            }
            _ => None,
        }
    }

    /// The time, as [`deserialize`] gives it (with its error for integers out of range).
    pub(crate) fn time<E: serde::de::Error>(self) -> Result<DateTime<Utc>, E> {
        match self {
            Self::Parts { seconds, nanos } => {
                from_timestamp(seconds, nanos).ok_or_else(|| out_of_range(seconds, nanos))
            }
            Self::Time(at) => Ok(at),
        }
    }
}

impl<'de> Deserialize<'de> for ReadTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() || TEXT_TIMES.get() {
            return DateTime::<Utc>::deserialize(deserializer).map(Self::Time);
        }
        let (seconds, nanos): (i64, u32) = Deserialize::deserialize(deserializer)?;
        Ok(Self::Parts { seconds, nanos })
    }
}

/// Days since the Unix epoch of 0001-01-01 (day 1 of the common era).
const EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Slots of [`RECENT_DAYS`] (a power of two): enough for every day of the eight
/// months or so a season's sales and performances span, 4 KiB a thread (16 slots
/// missed a third of the reads of a snapshot's year of times).
const RECENT_DAY_SLOTS: usize = 256;

thread_local! {
    /// The dates of days read lately on this thread (days since the epoch, each in the
    /// slot its low bits pick): the times of a snapshot or journal fall on few days, and
    /// working out a day's date was most of reading a time.
    static RECENT_DAYS: [Cell<(i64, NaiveDate)>; RECENT_DAY_SLOTS] =
        const { [const { Cell::new((i64::MIN, NaiveDate::MIN)) }; RECENT_DAY_SLOTS] };
}

/// [`DateTime::from_timestamp`], the same time (or `None`) for every input, with the
/// date of a day read lately taken from [`RECENT_DAYS`].
fn from_timestamp(seconds: i64, nanos: u32) -> Option<DateTime<Utc>> {
    let day = seconds.div_euclid(86_400);
    let second_of_day = u32::try_from(seconds.rem_euclid(86_400)).ok()?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let slot = day as usize & (RECENT_DAY_SLOTS - 1);
    let date = RECENT_DAYS.with(|days| {
        let recent = days.get(slot)?;
        let (seen, date) = recent.get();
        if seen == day {
            return Some(date);
        }
        let date = i32::try_from(day.checked_add(EPOCH_DAYS_FROM_CE)?)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)?;
        recent.set((day, date));
        Some(date)
    })?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(second_of_day, nanos)?;
    Some(date.and_time(time).and_utc())
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
    fn times_read_are_the_times_chrono_gives_for_every_input() {
        let mut seconds: Vec<i64> = vec![
            0,
            -1,
            1,
            86_399,
            86_400,
            -86_400,
            -86_401,
            1_772_393_405,
            i64::MAX,
            i64::MIN,
            i64::MAX / 86_400 * 86_400,
            8_210_266_876_799,
            8_210_266_876_800,
            -62_135_596_800,
            -62_135_596_801,
            -8_334_632_851_200,
            -8_334_632_851_201,
        ];
        // Days read in turn, so that every slot is hit and replaced many times.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            #[allow(clippy::cast_possible_wrap)]
            let spread = (x % 4_000_000_000) as i64 - 1_000_000_000;
            seconds.push(spread);
            seconds.push(1_772_393_405 + spread % 864_000);
        }
        for &s in &seconds {
            for nanos in [
                0,
                1,
                999_999_999,
                1_000_000_000,
                1_999_999_999,
                2_000_000_000,
            ] {
                assert_eq!(
                    from_timestamp(s, nanos),
                    DateTime::from_timestamp(s, nanos),
                    "{s} s {nanos} ns"
                );
            }
        }
    }

    #[test]
    fn an_out_of_range_time_is_an_error_not_a_panic() {
        let bytes = postcard::to_allocvec(&(i64::MAX, 0u32, None::<()>)).unwrap();
        let error = postcard::from_bytes::<Times>(&bytes).unwrap_err();
        assert!(!error.to_string().is_empty());
    }
}
