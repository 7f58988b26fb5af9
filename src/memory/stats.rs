//! Figures kept up to date as interactions arrive, never recomputed from history.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::model::money::Money;

/// A patron's running figures.
///
/// Every figure is updated when an interaction is recorded, so reading one costs the same
/// whatever the length of the patron's history.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(from = "LoadedStats")]
pub struct PatronStats {
    pub(crate) performances_attended: u32,
    /// First and last attended, first and last seen (see the `*_AT` indices), 8 bytes
    /// each where an optional time takes 12.
    times: [PackedTime; 4],
    pub(crate) orders: u32,
    pub(crate) tickets: u32,
    pub(crate) spend: MoneyTotals,
    pub(crate) purchases: u32,
    /// Refunds, donations and memberships: few patrons have any.
    rare: RareFigures,
}

/// Where each time is in [`PatronStats::times`] (and in [`Rare::odd_times`]).
const FIRST_ATTENDED_AT: usize = 0;
const LAST_ATTENDED_AT: usize = 1;
const FIRST_SEEN_AT: usize = 2;
const LAST_SEEN_AT: usize = 3;

/// A time in 8 bytes: the year, the day of the year, the second of the day and the
/// microsecond, high bits to low, so packed times order as the times do and read back
/// with no calendar calculation. 0 is no time (no year has a day 0). A time that does
/// not pack (finer than a microsecond, a leap second, a year before 0) is
/// [`PackedTime::ELSEWHERE`], kept exactly in the rare figures.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct PackedTime(u64);

impl PackedTime {
    const NONE: Self = Self(0);
    /// Above every packed time: its top 18 bits would be a year no time packs with.
    const ELSEWHERE: Self = Self(u64::MAX);
    const YEAR_SHIFT: u32 = 46;
    const DAY_SHIFT: u32 = 37;
    const SECOND_SHIFT: u32 = 20;

    #[inline]
    fn pack(at: DateTime<Utc>) -> Option<Self> {
        // Read as naive: a `DateTime`'s own getters add its (zero) offset first.
        let at = at.naive_utc();
        let year = u64::try_from(at.year())
            .ok()
            .filter(|&year| year < (u64::MAX >> Self::YEAR_SHIFT))?;
        let nanos = at.nanosecond();
        if nanos >= 1_000_000_000 || !nanos.is_multiple_of(1_000) {
            return None;
        }
        Some(Self(
            (year << Self::YEAR_SHIFT)
                | (u64::from(at.ordinal()) << Self::DAY_SHIFT)
                | (u64::from(at.num_seconds_from_midnight()) << Self::SECOND_SHIFT)
                | u64::from(nanos / 1_000),
        ))
    }

    /// The time packed; `None` for [`Self::NONE`] (and [`Self::ELSEWHERE`]).
    fn unpack(self) -> Option<DateTime<Utc>> {
        let field = |shift: u32, bits: u32| ((self.0 >> shift) & ((1 << bits) - 1)) as u32;
        let year = i32::try_from(self.0 >> Self::YEAR_SHIFT).ok()?;
        let date = NaiveDate::from_yo_opt(year, field(Self::DAY_SHIFT, 9))?;
        let time = NaiveTime::from_num_seconds_from_midnight_opt(
            field(Self::SECOND_SHIFT, 17),
            field(0, 20) * 1_000,
        )?;
        Some(date.and_time(time).and_utc())
    }
}

/// The figures most patrons leave at zero, boxed once one of them is not: a null
/// pointer for everyone else.
#[derive(Clone, Default)]
struct RareFigures(Option<Box<Rare>>);

#[derive(Clone, Debug, Default, PartialEq)]
struct Rare {
    tickets_refunded: u32,
    donations: u32,
    donated: MoneyTotals,
    memberships: Vec<MembershipSpan>,
    /// The times that do not pack, where [`PatronStats::times`] says
    /// [`PackedTime::ELSEWHERE`].
    odd_times: Option<Box<[Option<DateTime<Utc>>; 4]>>,
}

impl RareFigures {
    const NONE: &'static Rare = &Rare {
        tickets_refunded: 0,
        donations: 0,
        donated: MoneyTotals::None,
        memberships: Vec::new(),
        odd_times: None,
    };

    fn get(&self) -> &Rare {
        self.0.as_deref().unwrap_or(Self::NONE)
    }

    fn make_mut(&mut self) -> &mut Rare {
        self.0.get_or_insert_with(Box::default)
    }
}

/// Boxed or not, the same figures are equal.
impl PartialEq for RareFigures {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for PatronStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatronStats")
            .field("performances_attended", &self.performances_attended)
            .field("first_attended_at", &self.first_attended_at())
            .field("last_attended_at", &self.last_attended_at())
            .field("orders", &self.orders)
            .field("tickets", &self.tickets)
            .field("tickets_refunded", &self.tickets_refunded())
            .field("spend", &self.spend())
            .field("donations", &self.donations())
            .field("donated", &self.donated())
            .field("purchases", &self.purchases)
            .field("memberships", &self.memberships())
            .field("first_seen_at", &self.first_seen_at())
            .field("last_seen_at", &self.last_seen_at())
            .finish()
    }
}

/// The figures as they are saved, in the order they always were.
#[derive(Serialize)]
#[serde(rename = "PatronStats")]
struct SavedStats<'a> {
    performances_attended: u32,
    #[serde(with = "crate::memory::binary_time::option")]
    first_attended_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    last_attended_at: Option<DateTime<Utc>>,
    orders: u32,
    tickets: u32,
    tickets_refunded: u32,
    spend: &'a [Money],
    donations: u32,
    donated: &'a [Money],
    purchases: u32,
    memberships: &'a [MembershipSpan],
    #[serde(with = "crate::memory::binary_time::option")]
    first_seen_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    last_seen_at: Option<DateTime<Utc>>,
}

/// The figures as they are read back.
#[derive(Deserialize)]
#[serde(rename = "PatronStats")]
struct LoadedStats {
    performances_attended: u32,
    #[serde(with = "crate::memory::binary_time::option")]
    first_attended_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    last_attended_at: Option<DateTime<Utc>>,
    orders: u32,
    tickets: u32,
    tickets_refunded: u32,
    spend: MoneyTotals,
    donations: u32,
    donated: MoneyTotals,
    purchases: u32,
    memberships: Vec<MembershipSpan>,
    #[serde(with = "crate::memory::binary_time::option")]
    first_seen_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    last_seen_at: Option<DateTime<Utc>>,
}

impl Serialize for PatronStats {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rare = self.rare.get();
        SavedStats {
            performances_attended: self.performances_attended,
            first_attended_at: self.first_attended_at(),
            last_attended_at: self.last_attended_at(),
            orders: self.orders,
            tickets: self.tickets,
            tickets_refunded: rare.tickets_refunded,
            spend: &self.spend,
            donations: rare.donations,
            donated: &rare.donated,
            purchases: self.purchases,
            memberships: &rare.memberships,
            first_seen_at: self.first_seen_at(),
            last_seen_at: self.last_seen_at(),
        }
        .serialize(serializer)
    }
}

impl From<LoadedStats> for PatronStats {
    fn from(saved: LoadedStats) -> Self {
        let rare = Rare {
            tickets_refunded: saved.tickets_refunded,
            donations: saved.donations,
            donated: saved.donated,
            memberships: saved.memberships,
            odd_times: None,
        };
        let mut stats = Self {
            performances_attended: saved.performances_attended,
            times: [PackedTime::NONE; 4],
            orders: saved.orders,
            tickets: saved.tickets,
            spend: saved.spend,
            purchases: saved.purchases,
            rare: RareFigures((rare != *RareFigures::NONE).then(|| Box::new(rare))),
        };
        stats.set_time(FIRST_ATTENDED_AT, saved.first_attended_at);
        stats.set_time(LAST_ATTENDED_AT, saved.last_attended_at);
        stats.set_time(FIRST_SEEN_AT, saved.first_seen_at);
        stats.set_time(LAST_SEEN_AT, saved.last_seen_at);
        stats
    }
}

impl PatronStats {
    /// Distinct performances attended (entry scans; re-entry counts once).
    pub fn performances_attended(&self) -> u32 {
        self.performances_attended
    }
    /// Start of the earliest performance attended.
    pub fn first_attended_at(&self) -> Option<DateTime<Utc>> {
        self.time(FIRST_ATTENDED_AT)
    }
    /// Start of the latest performance attended.
    pub fn last_attended_at(&self) -> Option<DateTime<Utc>> {
        self.time(LAST_ATTENDED_AT)
    }
    /// Orders placed as the buyer.
    pub fn orders(&self) -> u32 {
        self.orders
    }
    /// Tickets held (bought by or for them), refunded ones included.
    pub fn tickets(&self) -> u32 {
        self.tickets
    }
    /// Tickets of theirs refunded (as the buyer).
    pub fn tickets_refunded(&self) -> u32 {
        self.rare.get().tickets_refunded
    }
    /// Net spend per currency: tickets bought, minus refunds, plus bar and shop purchases.
    pub fn spend(&self) -> &[Money] {
        &self.spend
    }
    /// Net spend in one currency, in minor units (0 if none).
    pub fn spend_in(&self, currency: crate::Currency) -> i64 {
        self.spend
            .iter()
            .find(|m| m.currency() == currency)
            .map_or(0, Money::minor)
    }
    /// Number of donations.
    pub fn donations(&self) -> u32 {
        self.rare.get().donations
    }
    /// Total donated per currency.
    pub fn donated(&self) -> &[Money] {
        &self.rare.get().donated
    }
    /// Bar and shop purchases.
    pub fn purchases(&self) -> u32 {
        self.purchases
    }
    /// Memberships taken out, in the order recorded.
    pub fn memberships(&self) -> &[MembershipSpan] {
        &self.rare.get().memberships
    }
    /// The membership valid on `date`, if any (the one running longest, if several).
    pub fn membership_on(&self, date: NaiveDate) -> Option<&MembershipSpan> {
        self.memberships()
            .iter()
            .filter(|m| m.valid_from <= date && date <= m.valid_to)
            .max_by_key(|m| m.valid_to)
    }
    /// When memory first heard of them.
    pub fn first_seen_at(&self) -> Option<DateTime<Utc>> {
        self.time(FIRST_SEEN_AT)
    }
    /// Their latest interaction of any kind.
    pub fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.time(LAST_SEEN_AT)
    }

    /// The time at `which` (one of the `*_AT` indices).
    fn time(&self, which: usize) -> Option<DateTime<Utc>> {
        match self.times[which] {
            PackedTime::ELSEWHERE => self.rare.get().odd_times.as_ref()?[which],
            packed => packed.unpack(),
        }
    }

    /// Sets the time at `which`, packed if it packs, else kept whole in the rare figures.
    fn set_time(&mut self, which: usize, at: Option<DateTime<Utc>>) {
        let packed = match at {
            None => Some(PackedTime::NONE),
            Some(at) => PackedTime::pack(at),
        };
        if let Some(packed) = packed {
            if self.times[which] == PackedTime::ELSEWHERE {
                self.forget_odd_time(which);
            }
            self.times[which] = packed;
        } else {
            let rare = self.rare.make_mut();
            rare.odd_times.get_or_insert_with(Box::default)[which] = at;
            self.times[which] = PackedTime::ELSEWHERE;
        }
    }

    /// Drops a time kept whole, and the box (or the rare figures) if nothing else is
    /// left, so equal figures are kept alike.
    fn forget_odd_time(&mut self, which: usize) {
        let Some(rare) = self.rare.0.as_deref_mut() else {
            return;
        };
        if let Some(odd) = rare.odd_times.as_deref_mut() {
            odd[which] = None;
            if odd.iter().all(Option::is_none) {
                rare.odd_times = None;
            }
        }
        if *rare == *RareFigures::NONE {
            self.rare.0 = None;
        }
    }

    /// Moves the earliest and latest times at `first` and `last` to include `at`.
    fn widen(&mut self, first: usize, last: usize, at: DateTime<Utc>) {
        // Usually every time packs: compared packed, no time is unpacked.
        if let Some(packed) = PackedTime::pack(at)
            && self.times[first] != PackedTime::ELSEWHERE
            && self.times[last] != PackedTime::ELSEWHERE
        {
            if self.times[first] == PackedTime::NONE || packed < self.times[first] {
                self.times[first] = packed;
            }
            // NONE is 0, below every packed time.
            self.times[last] = self.times[last].max(packed);
            return;
        }
        let earliest = self.time(first).map_or(at, |t| t.min(at));
        let latest = self.time(last).map_or(at, |t| t.max(at));
        self.set_time(first, Some(earliest));
        self.set_time(last, Some(latest));
    }

    /// `count` more of their tickets refunded.
    pub(crate) fn refunded(&mut self, count: u32) {
        if count != 0 {
            let rare = self.rare.make_mut();
            rare.tickets_refunded = rare.tickets_refunded.saturating_add(count);
        }
    }

    /// One more donation, of `amount`.
    pub(crate) fn donated_once(&mut self, amount: Money) {
        let rare = self.rare.make_mut();
        rare.donations = rare.donations.saturating_add(1);
        add_money(&mut rare.donated, amount);
    }

    /// A membership taken out.
    pub(crate) fn joined(&mut self, span: MembershipSpan) {
        self.rare.make_mut().memberships.push(span);
    }

    /// Counts what it owns beyond its own bytes (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        self.spend.tally(tally);
        if let Some(rare) = &self.rare.0 {
            let boxed = size_of::<Rare>();
            tally.block(boxed, boxed);
            rare.donated.tally(tally);
            tally.vec(&rare.memberships);
            for span in &rare.memberships {
                tally.text(span.scheme.len(), span.scheme.capacity());
            }
            if rare.odd_times.is_some() {
                let boxed = size_of::<[Option<DateTime<Utc>>; 4]>();
                tally.block(boxed, boxed);
            }
        }
    }

    pub(crate) fn seen(&mut self, at: DateTime<Utc>) {
        self.widen(FIRST_SEEN_AT, LAST_SEEN_AT, at);
    }

    pub(crate) fn attended(&mut self, starts_at: DateTime<Utc>) {
        self.performances_attended = self.performances_attended.saturating_add(1);
        self.widen(FIRST_ATTENDED_AT, LAST_ATTENDED_AT, starts_at);
    }
}

/// Running totals, one per currency.
pub(crate) trait Totals: std::ops::DerefMut<Target = [Money]> {
    /// Starts the total of a new currency.
    fn start(&mut self, amount: Money);
}

/// Running totals per currency in 16 bytes: nearly every patron pays in one currency,
/// held in place; a second one moves them all to a box.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum MoneyTotals {
    #[default]
    None,
    One(Money),
    Many(Box<SmallVec<[Money; 2]>>),
}

impl MoneyTotals {
    /// Appends a total as it is (no adding to one in the same currency).
    fn push(&mut self, amount: Money) {
        *self = match std::mem::take(self) {
            Self::None => Self::One(amount),
            Self::One(first) => Self::Many(Box::new(SmallVec::from_buf([first, amount]))),
            Self::Many(mut list) => {
                list.push(amount);
                Self::Many(list)
            }
        };
    }

    /// Counts its box, if it has one.
    fn tally(&self, tally: &mut crate::memory::footprint::Tally) {
        if let Self::Many(list) = self {
            let boxed = size_of::<SmallVec<[Money; 2]>>();
            let inline = if list.spilled() { 0 } else { list.len() };
            tally.block(inline * size_of::<Money>(), boxed);
            tally.small(list);
        }
    }
}

impl std::ops::Deref for MoneyTotals {
    type Target = [Money];
    fn deref(&self) -> &[Money] {
        match self {
            Self::None => &[],
            Self::One(total) => std::slice::from_ref(total),
            Self::Many(list) => list,
        }
    }
}

impl std::ops::DerefMut for MoneyTotals {
    fn deref_mut(&mut self) -> &mut [Money] {
        match self {
            Self::None => &mut [],
            Self::One(total) => std::slice::from_mut(total),
            Self::Many(list) => list,
        }
    }
}

impl Totals for SmallVec<[Money; 1]> {
    fn start(&mut self, amount: Money) {
        self.push(amount);
    }
}

impl Totals for MoneyTotals {
    fn start(&mut self, amount: Money) {
        self.push(amount);
    }
}

/// Saved as the list it reads as.
impl Serialize for MoneyTotals {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for MoneyTotals {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Totals;
        impl<'de> serde::de::Visitor<'de> for Totals {
            type Value = MoneyTotals;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of amounts")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<MoneyTotals, A::Error> {
                let mut totals = MoneyTotals::None;
                while let Some(amount) = seq.next_element()? {
                    totals.push(amount);
                }
                Ok(totals)
            }
        }
        deserializer.deserialize_seq(Totals)
    }
}

/// Adds `amount` (negative to subtract) to the running total in its currency, saturating.
pub(crate) fn add_money(totals: &mut impl Totals, amount: Money) {
    match totals
        .iter_mut()
        .find(|m| m.currency() == amount.currency())
    {
        Some(total) => {
            *total = Money::new(
                total.minor().saturating_add(amount.minor()),
                amount.currency(),
            )
        }
        None => totals.start(amount),
    }
}

/// A membership's scheme and validity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipSpan {
    pub(crate) scheme: String,
    pub(crate) valid_from: NaiveDate,
    pub(crate) valid_to: NaiveDate,
}

impl MembershipSpan {
    /// The scheme or tier.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    /// First valid day.
    pub fn valid_from(&self) -> NaiveDate {
        self.valid_from
    }
    /// Last valid day.
    pub fn valid_to(&self) -> NaiveDate {
        self.valid_to
    }
}

/// How often a patron attended one production.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionVisits {
    pub(crate) count: u32,
    #[serde(with = "crate::memory::binary_time::option")]
    pub(crate) first_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    pub(crate) last_at: Option<DateTime<Utc>>,
}

impl ProductionVisits {
    /// Distinct performances of the production attended.
    pub fn count(&self) -> u32 {
        self.count
    }
    /// Start of the first one.
    pub fn first_at(&self) -> Option<DateTime<Utc>> {
        self.first_at
    }
    /// Start of the latest one.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        self.last_at
    }
    pub(crate) fn attended(&mut self, starts_at: DateTime<Utc>) {
        self.count = self.count.saturating_add(1);
        self.first_at = Some(self.first_at.map_or(starts_at, |t| t.min(starts_at)));
        self.last_at = Some(self.last_at.map_or(starts_at, |t| t.max(starts_at)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::money::Currency;

    /// The figures as they were laid out before the rare ones moved to a box: saved
    /// figures must read and write exactly as they did.
    #[derive(Serialize)]
    struct OldLayout {
        performances_attended: u32,
        #[serde(with = "crate::memory::binary_time::option")]
        first_attended_at: Option<DateTime<Utc>>,
        #[serde(with = "crate::memory::binary_time::option")]
        last_attended_at: Option<DateTime<Utc>>,
        orders: u32,
        tickets: u32,
        tickets_refunded: u32,
        spend: SmallVec<[Money; 1]>,
        donations: u32,
        donated: Vec<Money>,
        purchases: u32,
        memberships: Vec<MembershipSpan>,
        #[serde(with = "crate::memory::binary_time::option")]
        first_seen_at: Option<DateTime<Utc>>,
        #[serde(with = "crate::memory::binary_time::option")]
        last_seen_at: Option<DateTime<Utc>>,
    }

    fn at(seconds: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(seconds, 123_456_000)
    }

    fn figures(rare: bool) -> (PatronStats, OldLayout) {
        let gbp = |minor| Money::new(minor, Currency::GBP);
        let eur = |minor| Money::new(minor, Currency::parse("EUR").unwrap());
        let span = MembershipSpan {
            scheme: "Friends".to_owned(),
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        };
        let mut stats = PatronStats {
            performances_attended: 3,
            orders: 2,
            tickets: 5,
            purchases: 1,
            ..PatronStats::default()
        };
        stats.set_time(FIRST_ATTENDED_AT, at(1_700_000_000));
        stats.set_time(LAST_ATTENDED_AT, at(1_700_100_000));
        stats.set_time(FIRST_SEEN_AT, at(1_600_000_000));
        stats.set_time(LAST_SEEN_AT, at(1_700_200_000));
        add_money(&mut stats.spend, gbp(4500));
        add_money(&mut stats.spend, eur(-700));
        add_money(&mut stats.spend, gbp(500));
        if rare {
            stats.refunded(2);
            stats.donated_once(gbp(1000));
            stats.donated_once(eur(250));
            stats.donated_once(gbp(1000));
            stats.joined(span.clone());
        }
        let old = OldLayout {
            performances_attended: 3,
            first_attended_at: at(1_700_000_000),
            last_attended_at: at(1_700_100_000),
            orders: 2,
            tickets: 5,
            tickets_refunded: if rare { 2 } else { 0 },
            spend: SmallVec::from_vec(vec![gbp(5000), eur(-700)]),
            donations: if rare { 3 } else { 0 },
            donated: if rare {
                vec![gbp(2000), eur(250)]
            } else {
                vec![]
            },
            purchases: 1,
            memberships: if rare { vec![span] } else { vec![] },
            first_seen_at: at(1_600_000_000),
            last_seen_at: at(1_700_200_000),
        };
        (stats, old)
    }

    #[test]
    fn saved_exactly_as_the_old_layout_and_read_back_equal() {
        for rare in [false, true] {
            let (stats, old) = figures(rare);
            let bytes = postcard::to_stdvec(&stats).unwrap();
            assert_eq!(bytes, postcard::to_stdvec(&old).unwrap());
            assert_eq!(
                serde_json::to_string(&stats).unwrap(),
                serde_json::to_string(&old).unwrap()
            );
            let back: PatronStats = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, stats);
            assert_eq!(back.rare.0.is_some(), rare);
            assert_eq!(back.tickets_refunded(), stats.tickets_refunded());
            assert_eq!(back.donated(), stats.donated());
            assert_eq!(back.memberships(), stats.memberships());
        }
    }

    #[test]
    fn one_currency_stays_in_place_and_a_second_moves_to_a_box() {
        let mut totals = MoneyTotals::default();
        assert!(totals.is_empty());
        add_money(&mut totals, Money::new(100, Currency::GBP));
        add_money(&mut totals, Money::new(-30, Currency::GBP));
        assert_eq!(totals, MoneyTotals::One(Money::new(70, Currency::GBP)));
        let eur = Currency::parse("EUR").unwrap();
        add_money(&mut totals, Money::new(5, eur));
        assert!(matches!(totals, MoneyTotals::Many(_)));
        assert_eq!(
            &totals[..],
            [Money::new(70, Currency::GBP), Money::new(5, eur)]
        );
    }

    #[test]
    fn no_refund_leaves_the_rare_figures_unboxed() {
        let mut stats = PatronStats::default();
        stats.refunded(0);
        assert!(stats.rare.0.is_none());
        stats.refunded(1);
        assert_eq!(stats.tickets_refunded(), 1);
        assert_eq!(stats.donations(), 0);
    }

    /// Times are kept in 8 bytes where they pack, and exactly whatever they are: times
    /// finer than a microsecond, leap seconds and years far off read back, save and load
    /// as they were, and the earliest and latest stay right as packed and odd times mix.
    #[test]
    fn every_time_reads_back_exactly_and_the_earliest_and_latest_stay_right() {
        let time = |secs, nanos| DateTime::from_timestamp(secs, nanos).unwrap();
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        let far = |year| {
            NaiveDate::from_ymd_opt(year, 12, 31)
                .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
                .unwrap()
                .and_utc()
        };
        let packs = [
            time(0, 0),
            time(1_700_000_000, 0),
            time(1_700_000_000, 999_999_000),
            far(1),
            far(0),
            far(262_142),
        ];
        let odd = [
            time(1_700_000_000, 1),
            time(1_700_000_000, 999_999_999),
            leap,
            far(-1),
            far(-44),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ];
        for (at, should_pack) in packs
            .iter()
            .map(|t| (*t, true))
            .chain(odd.iter().map(|t| (*t, false)))
        {
            assert_eq!(PackedTime::pack(at).is_some(), should_pack, "{at:?}");
            if let Some(packed) = PackedTime::pack(at) {
                assert_eq!(packed.unpack(), Some(at));
                assert!(packed != PackedTime::NONE && packed != PackedTime::ELSEWHERE);
            }
            let mut stats = PatronStats::default();
            stats.seen(at);
            stats.attended(at);
            for read in [
                stats.first_seen_at(),
                stats.last_seen_at(),
                stats.first_attended_at(),
                stats.last_attended_at(),
            ] {
                assert_eq!(read, Some(at));
            }
            assert_eq!(stats.rare.0.is_some(), !should_pack);
            let bytes = postcard::to_stdvec(&stats).unwrap();
            let back: PatronStats = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, stats);
            assert_eq!(back.last_seen_at(), Some(at));
        }
        // Packed order is time order, and mixing in odd times keeps min and max right.
        let mut all: Vec<DateTime<Utc>> = packs.iter().chain(odd.iter()).copied().collect();
        let mut packed: Vec<PackedTime> =
            packs.iter().filter_map(|t| PackedTime::pack(*t)).collect();
        packed.sort();
        let mut by_time = packs.to_vec();
        by_time.sort();
        assert_eq!(
            packed
                .iter()
                .map(|p| p.unpack().unwrap())
                .collect::<Vec<_>>(),
            by_time
        );
        for rotation in 0..all.len() {
            all.rotate_left(1);
            let mut stats = PatronStats::default();
            for at in &all {
                stats.seen(*at);
            }
            assert_eq!(
                stats.first_seen_at(),
                all.iter().min().copied(),
                "{rotation}"
            );
            assert_eq!(
                stats.last_seen_at(),
                all.iter().max().copied(),
                "{rotation}"
            );
            assert_eq!(stats.first_attended_at(), None);
        }
        // Once odd times give way to packed ones, no box is left behind.
        let mut stats = PatronStats::default();
        stats.seen(time(1_700_000_000, 1));
        assert!(stats.rare.0.is_some());
        stats.set_time(FIRST_SEEN_AT, Some(time(1_600_000_000, 0)));
        stats.set_time(LAST_SEEN_AT, Some(time(1_800_000_000, 0)));
        assert!(stats.rare.0.is_none());
        let mut plain = PatronStats::default();
        plain.seen(time(1_600_000_000, 0));
        plain.seen(time(1_800_000_000, 0));
        assert_eq!(stats, plain);
    }
}
