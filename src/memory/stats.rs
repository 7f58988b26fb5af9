//! Figures kept up to date as interactions arrive, never recomputed from history.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::model::money::Money;
use crate::model::sparse::Sparse;

/// A patron's running figures.
///
/// Every figure is updated when an interaction is recorded, so reading one costs the same
/// whatever the length of the patron's history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PatronStats {
    pub(crate) performances_attended: u32,
    #[serde(with = "crate::memory::binary_time::option")]
    pub(crate) first_attended_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    pub(crate) last_attended_at: Option<DateTime<Utc>>,
    pub(crate) orders: u32,
    pub(crate) tickets: u32,
    pub(crate) tickets_refunded: u32,
    pub(crate) spend: SmallVec<[Money; 1]>,
    pub(crate) donations: u32,
    /// Few patrons donate: a null pointer until they do.
    pub(crate) donated: Sparse<Money>,
    pub(crate) purchases: u32,
    pub(crate) memberships: Sparse<MembershipSpan>,
    #[serde(with = "crate::memory::binary_time::option")]
    pub(crate) first_seen_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::memory::binary_time::option")]
    pub(crate) last_seen_at: Option<DateTime<Utc>>,
}

impl PatronStats {
    /// Distinct performances attended (entry scans; re-entry counts once).
    pub fn performances_attended(&self) -> u32 {
        self.performances_attended
    }
    /// Start of the earliest performance attended.
    pub fn first_attended_at(&self) -> Option<DateTime<Utc>> {
        self.first_attended_at
    }
    /// Start of the latest performance attended.
    pub fn last_attended_at(&self) -> Option<DateTime<Utc>> {
        self.last_attended_at
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
        self.tickets_refunded
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
        self.donations
    }
    /// Total donated per currency.
    pub fn donated(&self) -> &[Money] {
        &self.donated
    }
    /// Bar and shop purchases.
    pub fn purchases(&self) -> u32 {
        self.purchases
    }
    /// Memberships taken out, in the order recorded.
    pub fn memberships(&self) -> &[MembershipSpan] {
        &self.memberships
    }
    /// The membership valid on `date`, if any (the one running longest, if several).
    pub fn membership_on(&self, date: NaiveDate) -> Option<&MembershipSpan> {
        self.memberships
            .iter()
            .filter(|m| m.valid_from <= date && date <= m.valid_to)
            .max_by_key(|m| m.valid_to)
    }
    /// When memory first heard of them.
    pub fn first_seen_at(&self) -> Option<DateTime<Utc>> {
        self.first_seen_at
    }
    /// Their latest interaction of any kind.
    pub fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.last_seen_at
    }

    pub(crate) fn seen(&mut self, at: DateTime<Utc>) {
        self.first_seen_at = Some(self.first_seen_at.map_or(at, |t| t.min(at)));
        self.last_seen_at = Some(self.last_seen_at.map_or(at, |t| t.max(at)));
    }

    pub(crate) fn attended(&mut self, starts_at: DateTime<Utc>) {
        self.performances_attended = self.performances_attended.saturating_add(1);
        self.first_attended_at = Some(
            self.first_attended_at
                .map_or(starts_at, |t| t.min(starts_at)),
        );
        self.last_attended_at = Some(
            self.last_attended_at
                .map_or(starts_at, |t| t.max(starts_at)),
        );
    }
}

/// Running totals, one per currency.
pub(crate) trait Totals: std::ops::DerefMut<Target = [Money]> {
    /// Starts the total of a new currency.
    fn start(&mut self, amount: Money);
}

impl Totals for SmallVec<[Money; 1]> {
    fn start(&mut self, amount: Money) {
        self.push(amount);
    }
}

impl Totals for Sparse<Money> {
    fn start(&mut self, amount: Money) {
        self.push(amount);
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
