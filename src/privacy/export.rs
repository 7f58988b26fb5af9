//! Export: everything memory knows about one patron, as one document.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::memory::Memory;
use crate::memory::{IdentityChange, PatronStats, ReviewItem};
use crate::model::history::{Interaction, Seat};
use crate::model::ids::{OrderId, PatronId, PerformanceId, TicketId};
use crate::model::money::Money;
use crate::model::profile::{Address, Consent, Flag, IdentifierKind, Note, Preferences};
use crate::moments::Moment;
use crate::moments::ledger::Standing;

/// Everything memory holds about one patron (a subject access request), built by
/// [`Memory::export`]. Serialize it with serde, or call [`to_json`](Self::to_json).
///
/// The document holds personal data; its `Debug` shows only the patron id and counts.
///
/// Fields, in the JSON: `patron` (the id asked about, resolved to the survivor of any
/// merge), `ids` (every id that stands for them), `created_at`, `opted_out`, `names`
/// (`given`, `family`), `identifiers` (`kind`, `system`, `value`), `addresses`,
/// `birth_date`, `preferences`, `consents`, `flags`, `notes`, `history` (every
/// interaction), `stats`, `tickets` (bought or held, with seat, price, refund and scan
/// state), `moments` (every moment fired for them, with its `standing`), `household`,
/// `identity` (merges, splits and household links involving them) and `reviews` (open
/// review items about them).
#[derive(Clone, Serialize)]
pub struct PatronExport {
    patron: PatronId,
    ids: Vec<PatronId>,
    created_at: DateTime<Utc>,
    opted_out: bool,
    names: Vec<ExportedName>,
    identifiers: Vec<ExportedIdentifier>,
    addresses: Vec<Address>,
    birth_date: Option<NaiveDate>,
    preferences: Preferences,
    consents: Vec<Consent>,
    flags: Vec<Flag>,
    notes: Vec<Note>,
    history: Vec<Interaction>,
    stats: PatronStats,
    tickets: Vec<ExportedTicket>,
    moments: Vec<ExportedMoment>,
    household: Vec<PatronId>,
    identity: Vec<IdentityChange>,
    reviews: Vec<ReviewItem>,
}

#[derive(Clone, Serialize)]
struct ExportedName {
    given: Option<String>,
    family: Option<String>,
}

#[derive(Clone, Serialize)]
struct ExportedIdentifier {
    kind: IdentifierKind,
    system: Option<String>,
    value: String,
}

#[derive(Clone, Serialize)]
struct ExportedTicket {
    ticket: TicketId,
    order: OrderId,
    performance: Option<PerformanceId>,
    seat: Option<Seat>,
    price: Option<Money>,
    buyer: PatronId,
    holder: PatronId,
    refunded: bool,
    scanned_in: bool,
}

#[derive(Clone, Serialize)]
struct ExportedMoment {
    #[serde(flatten)]
    moment: Moment,
    standing: &'static str,
}

impl PatronExport {
    /// The patron the export is about.
    pub fn patron(&self) -> PatronId {
        self.patron
    }

    /// The export as one JSON document.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let ana = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().given_name("Ana").email("ana@example.org"))))?.patron();
    /// let json = memory.export(ana)?.to_json();
    /// assert!(json.contains("ana@example.org"));
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        // Every map in the document has string keys and every value is plain data, so
        // serde_json cannot refuse it; should a future field break that, the document
        // says so instead of panicking.
        serde_json::to_string(self).unwrap_or_else(|e| {
            serde_json::json!({ "patron": self.patron, "error": e.to_string() }).to_string()
        })
    }
}

impl fmt::Debug for PatronExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatronExport")
            .field("patron", &self.patron)
            .field("ids", &self.ids)
            .field("names", &self.names.len())
            .field("identifiers", &self.identifiers.len())
            .field("history", &self.history.len())
            .field("tickets", &self.tickets.len())
            .field("moments", &self.moments.len())
            .finish_non_exhaustive()
    }
}

impl Memory {
    /// Everything memory knows about a patron, as one document: profile, identifiers,
    /// names, addresses, preferences, consent, flags, notes, history, tickets, figures,
    /// the moments fired for them, household links, merge history and open review items
    /// about them (see [`PatronExport`]). A merged id exports the patron it stands for,
    /// with everyone merged into them.
    ///
    /// Export walks the tickets memory holds to find theirs (including any issued after
    /// an [opt-out](Self::opt_out), which history does not show): its cost grows with
    /// memory's size, unlike the calls on the hot path.
    ///
    /// Errors: [`Error::UnknownPatron`], [`Error::ErasedPatron`].
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let ana = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().given_name("Ana").email("ana@example.org"))))?.patron();
    /// let export: serde_json::Value = serde_json::from_str(&memory.export(ana)?.to_json()).unwrap();
    /// assert_eq!(export["names"][0]["given"], "Ana");
    /// assert_eq!(export["identifiers"][0]["value"], "ana@example.org");
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn export(&self, patron: PatronId) -> Result<PatronExport> {
        let state = &self.state;
        state.require(patron)?;
        let live = state.live(patron);
        if state.is_erased(live) {
            return Err(Error::ErasedPatron(patron));
        }
        let record = state.patron(live).ok_or(Error::UnknownPatron(patron))?;
        let mut ids = state.cluster(live).into_vec();
        ids.sort_unstable();
        ids.dedup();
        let profile = &record.profile;

        let mut tickets: Vec<ExportedTicket> = state
            .tickets
            .iter()
            .filter(|(_, t)| ids.contains(&state.ticket_buyer(t)) || ids.contains(&t.holder()))
            .filter_map(|(id, t)| {
                Some(ExportedTicket {
                    ticket: TicketId::new(id),
                    order: OrderId::new(state.orders.key(t.order)?),
                    performance: state
                        .catalog
                        .performance_entry(t.performance)
                        .map(|e| e.performance.id().clone()),
                    seat: state.seats.of(t).cloned(),
                    price: state.prices.of(t),
                    buyer: state.live(state.ticket_buyer(t)),
                    holder: state.live(t.holder()),
                    refunded: t.refunded,
                    scanned_in: t.scanned_in,
                })
            })
            .collect();
        tickets.sort_by(|a, b| a.ticket.as_str().cmp(b.ticket.as_str()));

        let mut moments: Vec<(u32, ExportedMoment)> = ids
            .iter()
            .flat_map(|&member| state.ledger.of_patron(member))
            .map(|(idx, fired)| {
                let standing = match fired.standing() {
                    Standing::Active => "active",
                    Standing::Superseded => "superseded",
                    Standing::Retired => "retired",
                };
                (
                    idx,
                    ExportedMoment {
                        moment: state.ledger.moment(fired, &state.tickets),
                        standing,
                    },
                )
            })
            .collect();
        moments.sort_by_key(|(idx, _)| *idx);

        let involves = |change: &IdentityChange| match change {
            IdentityChange::Merged {
                survivor, absorbed, ..
            } => ids.contains(survivor) || ids.contains(absorbed),
            IdentityChange::Split { survivor, restored } => {
                ids.contains(survivor) || ids.contains(restored)
            }
            IdentityChange::Household { a, b } => ids.contains(a) || ids.contains(b),
            IdentityChange::Erased { patron } => ids.contains(patron),
        };

        Ok(PatronExport {
            patron: live,
            ids: ids.clone(),
            created_at: record.created_at,
            opted_out: state.is_opted_out(live),
            names: profile
                .names
                .iter()
                .map(|n| ExportedName {
                    given: n.given().map(str::to_owned),
                    family: n.family().map(str::to_owned),
                })
                .collect(),
            identifiers: profile
                .identifiers
                .iter()
                .map(|i| ExportedIdentifier {
                    kind: i.kind(),
                    system: i.system().map(str::to_owned),
                    value: i.value().to_owned(),
                })
                .collect(),
            addresses: profile.addresses.clone(),
            birth_date: profile.birth_date,
            preferences: (*profile.preferences).clone(),
            consents: profile.consents.to_vec(),
            flags: profile.flags.to_vec(),
            notes: profile.notes.to_vec(),
            history: record
                .history
                .iter()
                .filter_map(|entry| state.interaction(entry))
                .collect(),
            stats: record.stats.clone(),
            tickets,
            moments: moments.into_iter().map(|(_, m)| m).collect(),
            household: record.household.iter().map(|&h| state.live(h)).collect(),
            identity: state
                .identity
                .changes
                .iter()
                .filter(|c| involves(c))
                .cloned()
                .collect(),
            reviews: state
                .identity
                .reviews
                .values()
                .filter(|item| ids.contains(&item.patron()))
                .cloned()
                .collect(),
        })
    }
}
