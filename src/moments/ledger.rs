//! What memory remembers about moments: which fired (for once-per and cooldowns), the
//! moments themselves (for briefs, caps and exclusive groups), and when each time-based
//! rule is next due for each patron.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::Hasher as _;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::due::DueIndex;
use super::moment::Text;
use super::{Action, Moment, MomentKind, Priority};
use crate::chunked::Chunked;
use crate::memory::format_switch::Raised;
use crate::model::history::Seat;
use crate::model::ids::{
    CompactPatronId, Filing, Handle, PatronId, PerformanceId, ReadIdText, TextTable, TicketId,
};
use crate::model::profile::{Channel, Purpose};
use crate::shared::{NONE_SHARED, Shared};
use crate::stable_hash::StableHasher;

type Map<K, V> = HashMap<K, V, ahash::RandomState>;
type Set<K> = HashSet<K, ahash::RandomState>;

/// A rule's index in the engine's registration order.
pub(crate) type RuleIdx = u16;

/// One of the ledger's texts (rule ids, group names, messages, explanations, dedupe
/// keys), by its position in the ledger's table.
type TextId = u32;

/// No text (no dedupe key, no group).
const NO_TEXT: TextId = TextId::MAX;

/// Seeds the once-per key hash, so it differs from the crate's other stable hashes.
const ONCE_PER_SEED: u64 = 0x6f6e_6365_2d70_6572;

/// The once-per key of a rule's moment: a stable 64-bit hash of the rule id and the
/// scope text (`"patron"`, `"year 2026"`, `"performance hamlet-3"`, `"production
/// hamlet"` or the dedupe key), the same text memory used to keep as the key itself.
///
/// Why a hash is safe for this: the key is only compared with the keys of the *same
/// patron* (the ledger files keys by exact patron id), so a false "fired already" needs
/// two of one patron's (rule, scope) pairs to collide. With k keys per patron the odds
/// are about k² / 2⁶⁵: for a million patrons with a thousand keys each, about 3 in 10⁸
/// over the life of the memory, and a collision only withholds one moment. Nothing
/// depends on it beyond that. The rule id is length-prefixed, so no two (rule, scope)
/// pairs feed the hasher the same bytes. The hash is the crate's stable one: keys are
/// saved in snapshots.
///
/// A `OnceKey` made for a rule is the hash of its id so far: the engine keeps one per
/// rule and goes on from a copy of it for each scope (see [`OnceKey::with_scope`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OnceKey(StableHasher);

impl OnceKey {
    pub(crate) fn new(rule: &str) -> Self {
        let mut hasher = StableHasher::new(ONCE_PER_SEED);
        hasher.write_usize(rule.len());
        hasher.write(rule.as_bytes());
        Self(hasher)
    }

    pub(crate) fn finish(&self) -> u64 {
        // 0 marks a released key.
        self.0.finish().max(1)
    }

    /// The once-per key of the rule this was made for, for the scope text made of these
    /// parts: what [`once_key`] gives for the text they make together, without hashing
    /// the rule id again or the formatting machinery.
    pub(crate) fn with_scope(mut self, scope: &[&str]) -> u64 {
        for part in scope {
            self.0.write(part.as_bytes());
        }
        self.finish()
    }
}

impl std::fmt::Write for OnceKey {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.write(text.as_bytes());
        Ok(())
    }
}

/// The once-per key of `rule`'s moment for this scope text.
pub(crate) fn once_key(rule: &str, scope: std::fmt::Arguments<'_>) -> u64 {
    let mut key = OnceKey::new(rule);
    // Writing into a hasher cannot fail.
    let _ = key.write_fmt(scope);
    key.finish()
}

/// Whether a fired moment is still to be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Standing {
    Active,
    /// A higher-priority moment took its place (per-visit cap or exclusive group).
    Superseded,
    /// Its ticket was refunded, or the patron opted out.
    Retired,
}

/// One fired moment as the ledger keeps it: the moment's fields, with every text an
/// index into the ledger's table of distinct texts (most messages and explanations are
/// shared by many patrons: "2nd visit to Hamlet"), its rule, group and dedupe key one
/// position in the ledger's table of [`Labels`], its performance, ticket and seat
/// handles into the ledger's tables of them, and its kind, action, priority, channel,
/// purposes and standing packed in four bytes: 52 bytes, where the moment with its
/// strings took about 500.
#[derive(Debug, Clone)]
pub(crate) struct FiredMoment {
    /// The patron it is for (memory holds it, so its id fits: see [`CompactPatronId`]).
    patron: CompactPatronId,
    /// When it fired, for cooldowns.
    at: DateTime<Utc>,
    /// Its once-per key (see [`OnceKey`]), high half first: two halves keep the moment
    /// at four-byte alignment.
    key: [u32; 2],
    performance: SharedRef,
    ticket: TicketRef,
    seat: SharedRef,
    message: TextId,
    explanation: TextId,
    /// Its rule's id, group and dedupe key (see [`Labels`]).
    labels: SharedRef,
    /// Its kind, action, priority, channel, purposes, standing, and whether it still
    /// holds its once-per key.
    flags: MomentFlags,
}

// Kept small: one per fired moment, and most patrons have some.
const _: () = assert!(std::mem::size_of::<FiredMoment>() == 52);

/// The texts a fired moment shares with many others (its rule's id, its exclusive
/// group, its dedupe key): few distinct ones, so the ledger keeps each set once in a
/// [`Shared`] table and a moment names it in four bytes, not twelve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Labels {
    rule: TextId,
    group: TextId,
    dedupe_key: TextId,
}

impl Labels {
    /// For a moment whose labels are lost (never filed: the table was full).
    const NONE: Labels = Labels {
        rule: NO_TEXT,
        group: NO_TEXT,
        dedupe_key: NO_TEXT,
    };
}

/// A fired moment's small fields in one `u32` (seven bytes apart, which rounded the
/// moment up to 64): bits 0–7 the priority, 8–15 the purposes (see
/// [`PackedPurposes`]), 16–18 the kind, 19–21 the action, 22–24 the channel (0 for
/// none), 25–26 the standing, and bit 27 whether it still holds its once-per key: a
/// refund releases it (the moment may fire again for the visit that does happen); an
/// opt-out or a rival does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MomentFlags(u32);

impl MomentFlags {
    const PURPOSES: u32 = 8;
    const KIND: u32 = 16;
    const ACTION: u32 = 19;
    const CHANNEL: u32 = 22;
    const STANDING: u32 = 25;
    const HOLDS_KEY: u32 = 1 << 27;

    fn pack(
        kind: MomentKind,
        action: Action,
        priority: Priority,
        channel: Option<Channel>,
        purposes: PackedPurposes,
        standing: Standing,
        holds_key: bool,
    ) -> Self {
        let kind = match kind {
            MomentKind::Welcome => 0,
            MomentKind::Celebration => 1,
            MomentKind::Recognition => 2,
            MomentKind::Operational => 3,
            MomentKind::Marketing => 4,
        };
        let action = match action {
            Action::SeatNote => 0,
            Action::BoxOfficeAlert => 1,
            Action::ScanAttention => 2,
            Action::FrontOfHouse => 3,
            Action::FollowUp => 4,
        };
        let channel = match channel {
            None => 0,
            Some(Channel::Email) => 1,
            Some(Channel::Sms) => 2,
            Some(Channel::Phone) => 3,
            Some(Channel::Post) => 4,
            Some(Channel::InPerson) => 5,
        };
        let mut flags = Self(
            u32::from(priority.0)
                | u32::from(purposes.0) << Self::PURPOSES
                | kind << Self::KIND
                | action << Self::ACTION
                | channel << Self::CHANNEL,
        );
        flags.set_standing(standing);
        flags.set_holds_key(holds_key);
        flags
    }

    /// Three bits from `shift` on.
    fn field(self, shift: u32) -> u32 {
        (self.0 >> shift) & 0b111
    }

    fn priority(self) -> Priority {
        Priority(self.0 as u8)
    }

    fn purposes(self) -> PackedPurposes {
        PackedPurposes((self.0 >> Self::PURPOSES) as u8)
    }

    fn kind(self) -> MomentKind {
        match self.field(Self::KIND) {
            0 => MomentKind::Welcome,
            1 => MomentKind::Celebration,
            2 => MomentKind::Recognition,
            3 => MomentKind::Operational,
            _ => MomentKind::Marketing,
        }
    }

    fn action(self) -> Action {
        match self.field(Self::ACTION) {
            0 => Action::SeatNote,
            1 => Action::BoxOfficeAlert,
            2 => Action::ScanAttention,
            3 => Action::FrontOfHouse,
            _ => Action::FollowUp,
        }
    }

    fn channel(self) -> Option<Channel> {
        match self.field(Self::CHANNEL) {
            1 => Some(Channel::Email),
            2 => Some(Channel::Sms),
            3 => Some(Channel::Phone),
            4 => Some(Channel::Post),
            5 => Some(Channel::InPerson),
            _ => None,
        }
    }

    fn standing(self) -> Standing {
        match (self.0 >> Self::STANDING) & 0b11 {
            0 => Standing::Active,
            1 => Standing::Superseded,
            _ => Standing::Retired,
        }
    }

    fn set_standing(&mut self, standing: Standing) {
        let code = match standing {
            Standing::Active => 0,
            Standing::Superseded => 1,
            Standing::Retired => 2,
        };
        self.0 = (self.0 & !(0b11 << Self::STANDING)) | code << Self::STANDING;
    }

    fn holds_key(self) -> bool {
        self.0 & Self::HOLDS_KEY != 0
    }

    fn set_holds_key(&mut self, holds_key: bool) {
        if holds_key {
            self.0 |= Self::HOLDS_KEY;
        } else {
            self.0 &= !Self::HOLDS_KEY;
        }
    }
}

/// A fired moment as snapshots save it: the fields it had when it held its strings and
/// ids itself (the bytes are unchanged). `P`, `T` and `S` are how the performance id,
/// ticket id and seat are held: borrowed from the ledger when saving, owned when loading.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename = "FiredMoment")]
struct SavedMoment<P, T, S> {
    patron: PatronId,
    #[serde(with = "crate::memory::binary_time::moment")]
    at: DateTime<Utc>,
    key: u64,
    performance: Option<P>,
    ticket: Option<T>,
    seat: Option<S>,
    rule: TextId,
    message: TextId,
    explanation: TextId,
    dedupe_key: TextId,
    group: TextId,
    kind: MomentKind,
    action: Action,
    priority: Priority,
    channel: Option<Channel>,
    purposes: PackedPurposes,
    standing: Standing,
    holds_key: bool,
}

impl<P, T, S> SavedMoment<P, T, S> {
    /// The patron as the ledger keeps it, refused past the most memory holds.
    fn compact_patron(&self) -> Result<CompactPatronId, String> {
        CompactPatronId::new(self.patron).ok_or_else(|| {
            format!(
                "a fired moment names patron {}, past the most memory holds",
                self.patron
            )
        })
    }

    /// Its rule, group and dedupe key.
    fn labels(&self) -> Labels {
        Labels {
            rule: self.rule,
            group: self.group,
            dedupe_key: self.dedupe_key,
        }
    }

    /// The moment as the ledger keeps it, with its patron, performance, ticket and seat
    /// as filed from whichever form the snapshot saved them in, and its labels filed in
    /// `labels`.
    fn fired(
        self,
        patron: CompactPatronId,
        performance: SharedRef,
        ticket: TicketRef,
        seat: SharedRef,
        labels: &mut Shared<Labels>,
    ) -> Result<FiredMoment, String> {
        let filed = labels.file(Some(&self.labels()));
        if filed == NONE_SHARED {
            return Err("too many rule, group and dedupe key texts".to_owned());
        }
        Ok(FiredMoment {
            patron,
            at: self.at,
            key: split_key(self.key),
            performance,
            ticket,
            seat,
            message: self.message,
            explanation: self.explanation,
            labels: filed,
            flags: MomentFlags::pack(
                self.kind,
                self.action,
                self.priority,
                self.channel,
                self.purposes,
                self.standing,
                self.holds_key,
            ),
        })
    }
}

/// A fired moment's ticket: its handle in memory's tickets table marked with
/// [`MEMORY_TICKET`], or its handle in the ledger's own table of ticket ids, or
/// [`NO_TICKET`]. Most moments are for a ticket memory holds, and a copy of its id in
/// the ledger's own table cost about 33 bytes a patron; the ledger's table keeps only the
/// ids of tickets memory did not hold when the moment fired (a rule may name any).
pub(crate) type TicketRef = Handle;

/// No ticket (never a handle: a table holds fewer ids).
const NO_TICKET: TicketRef = TicketRef::MAX;

/// Marks a [`TicketRef`] as a handle in memory's tickets table. The ledger's own table
/// never gets that far: an id past it is kept as no ticket, as when a table is full.
const MEMORY_TICKET: TicketRef = 1 << 31;

/// Where a fired moment's ticket id is: memory's tickets table (`Memory`, its handle),
/// the ledger's own table (`Own`, its handle), or nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TicketAt {
    Memory(Handle),
    Own(Handle),
    Nowhere,
}

impl TicketAt {
    fn of(ticket: TicketRef) -> Self {
        if ticket == NO_TICKET {
            TicketAt::Nowhere
        } else if ticket & MEMORY_TICKET != 0 {
            TicketAt::Memory(ticket & !MEMORY_TICKET)
        } else {
            TicketAt::Own(ticket)
        }
    }
}

/// The reference to memory's ticket at `handle`, if the mark leaves it room.
fn memory_ticket(handle: Handle) -> Option<TicketRef> {
    (handle < !MEMORY_TICKET).then_some(handle | MEMORY_TICKET)
}

/// A fired moment's performance or seat: its number in the ledger's [`Shared`] table
/// of them, or [`NONE_SHARED`].
type SharedRef = crate::shared::SharedNumber;

impl FiredMoment {
    /// The patron it is for.
    fn patron(&self) -> PatronId {
        self.patron.get()
    }

    /// Its once-per key.
    fn key(&self) -> u64 {
        (u64::from(self.key[0]) << 32) | u64::from(self.key[1])
    }

    /// Whether it is for a performance.
    pub(crate) fn has_performance(&self) -> bool {
        self.performance != NONE_SHARED
    }
    pub(crate) fn kind(&self) -> MomentKind {
        self.flags.kind()
    }
    pub(crate) fn priority(&self) -> Priority {
        self.flags.priority()
    }
    /// Whether it is still to be acted on (see [`Standing`]).
    pub(crate) fn standing(&self) -> Standing {
        self.flags.standing()
    }
    /// Whether it still holds its once-per key (see [`MomentFlags`]).
    fn holds_key(&self) -> bool {
        self.flags.holds_key()
    }
}

/// A moment's purposes in their order, two bits each (at most one of each of the three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
struct PackedPurposes(u8);

impl PackedPurposes {
    fn pack(purposes: &[Purpose]) -> Self {
        let mut packed = 0u8;
        for (i, purpose) in purposes.iter().take(4).enumerate() {
            let code = match purpose {
                Purpose::Operational => 1,
                Purpose::Personalisation => 2,
                Purpose::Marketing => 3,
            };
            packed |= code << (2 * i);
        }
        Self(packed)
    }

    fn unpack(self) -> SmallVec<[Purpose; 3]> {
        (0..4)
            .map_while(|i| match (self.0 >> (2 * i)) & 3 {
                1 => Some(Purpose::Operational),
                2 => Some(Purpose::Personalisation),
                3 => Some(Purpose::Marketing),
                _ => None,
            })
            .collect()
    }
}

/// The ledger's distinct texts, each kept once and shared by every moment that says it.
/// `Debug` shows how many: messages may name patrons.
///
/// Found by a hash of the text: a table of ids (4 bytes a slot, so it stays small
/// enough to be read from cache) and, in front of it, the ids of the texts interned
/// lately, by their hash. Moments fired around the same time tend to say the same
/// things ("2nd visit to Hamlet" for everyone booking Hamlet this week), and a text said
/// lately is found there without reading the table.
#[derive(Default)]
struct Texts {
    all: Vec<Arc<str>>,
    /// Ids by the hash of their text.
    ids: hashbrown::HashTable<TextId>,
    hasher: ahash::RandomState,
    /// The latest text interned for each value of a hash's low bits, with its full hash:
    /// [`RECENT`] slots, made on first use.
    recent: Vec<(u64, TextId)>,
}

/// Slots of [`Texts::recent`] (a power of two): 16 KiB per memory.
const RECENT: usize = 1024;

impl Texts {
    fn intern(&mut self, text: &str) -> TextId {
        let hash = self.hasher.hash_one(text);
        let slot = (hash as usize) & (RECENT - 1);
        if let Some(&(known, id)) = self.recent.get(slot)
            && known == hash
            && self.get(id).is_some_and(|known| **known == *text)
        {
            return id;
        }
        let all = &self.all;
        let id = match self.ids.find(hash, |&id| {
            all.get(id as usize).is_some_and(|known| **known == *text)
        }) {
            Some(&id) => id,
            None => self.insert_new(hash, Arc::from(text)),
        };
        if self.recent.is_empty() {
            self.recent = vec![(0, NO_TEXT); RECENT];
        }
        if let Some(recent) = self.recent.get_mut(slot) {
            *recent = (hash, id);
        }
        id
    }

    /// Adds a text not in the table (its hash is `hash`) and returns its id.
    fn insert_new(&mut self, hash: u64, text: Arc<str>) -> TextId {
        let id = TextId::try_from(self.all.len()).unwrap_or(NO_TEXT);
        self.all.push(text);
        let (all, hasher) = (&self.all, &self.hasher);
        self.ids.insert_unique(hash, id, |&id| {
            all.get(id as usize)
                .map_or(0, |text| hasher.hash_one(&**text))
        });
        id
    }

    fn intern_optional(&mut self, text: Option<&str>) -> TextId {
        text.map_or(NO_TEXT, |text| self.intern(text))
    }

    /// [`intern`](Texts::intern), trying `hint` first: the id this text had last time,
    /// which is still its id unless erasure compacted the table (then the text is
    /// looked up as usual). Comparing the text costs less than hashing it.
    fn intern_hinted(&mut self, text: &str, hint: TextId) -> TextId {
        if self.get(hint).is_some_and(|known| **known == *text) {
            return hint;
        }
        self.intern(text)
    }

    fn id_of(&self, text: &str) -> Option<TextId> {
        let all = &self.all;
        self.ids
            .find(self.hasher.hash_one(text), |&id| {
                all.get(id as usize).is_some_and(|known| **known == *text)
            })
            .copied()
    }

    fn get(&self, id: TextId) -> Option<&Arc<str>> {
        self.all.get(id as usize)
    }

    /// The text as a moment holds it, sharing this copy.
    fn text(&self, id: TextId) -> Text {
        self.get(id)
            .map_or_else(Text::default, |text| Text::Shared(Arc::clone(text)))
    }
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts")
            .field("count", &self.all.len())
            .finish_non_exhaustive()
    }
}

impl Serialize for Texts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.all.iter().map(|text| &**text))
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let all: Vec<String> = Deserialize::deserialize(deserializer)?;
        let mut texts = Texts::default();
        for text in all {
            // A repeated text keeps its first id; later ones still read back.
            match texts.id_of(&text) {
                Some(_) => texts.all.push(Arc::from(text)),
                None => {
                    let hash = texts.hasher.hash_one(text.as_str());
                    texts.insert_new(hash, Arc::from(text));
                }
            }
        }
        Ok(texts)
    }
}

/// Saved in snapshots: the distinct texts and the fired moments. The once-per keys still
/// held and the per-patron index are rebuilt from the moments; the due index is saved by
/// rule id (rule indices are configuration, which may change between runs).
#[derive(Debug, Default)]
pub(crate) struct MomentLedger {
    texts: Texts,
    moments: Chunked<FiredMoment>,
    /// The ids of tickets fired moments name that memory's tickets table did not hold
    /// when they fired, each once (see [`TicketRef`]); derived: saved within the moments.
    tickets: TextTable<()>,
    /// The performances and seats fired moments name, each once; derived likewise.
    performances: Shared<PerformanceId>,
    seats: Shared<Seat>,
    /// The labels fired moments name, each once; derived likewise.
    labels: Shared<Labels>,
    /// Each patron's moments, by the patron's position in memory's table: one lookup
    /// answers both "fired already?" and "what else is there at this visit?", reading
    /// only that patron's entries.
    by_patron: Chunked<PatronFiled>,
    due: DueIndex,
    /// The due times filed per patron, so refiling a patron's rules after an event is one
    /// lookup, not one per rule.
    due_of: Map<PatronId, DueTimes>,
    /// The text id each rule's id had when the rule last fired, by registration
    /// position, and the last exclusive group's: hints that spare hashing them on each
    /// moment (see [`Texts::intern_hinted`]). Checked before use, so a stale one costs
    /// a lookup, never a wrong text.
    hints: TextHints,
}

/// The ledger as snapshots hold it: the texts, then the moments, each with its ticket id.
#[derive(Serialize)]
#[serde(rename = "MomentLedger", bound = "")]
struct SavedLedger<'a, V> {
    texts: &'a Texts,
    moments: SavedMoments<'a, V>,
}

/// The fired moments, each with its performance, ticket and seat in place of its handles.
struct SavedMoments<'a, V>(&'a LedgerImage<'a, V>);

impl<V> Serialize for SavedMoments<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let LedgerImage { ledger, tickets } = *self.0;
        let mut seq = serializer.serialize_seq(Some(ledger.moments.len()))?;
        for fired in ledger.moments.iter() {
            seq.serialize_element(&ledger.saved(fired, tickets))?;
        }
        seq.end()
    }
}

/// A ledger as snapshots save it, with memory's tickets table, which holds the ids of
/// most of the tickets its moments name (see [`TicketRef`]). The bytes are those the
/// ledger saved when it kept every ticket id itself.
pub(crate) struct LedgerImage<'a, V> {
    ledger: &'a MomentLedger,
    tickets: &'a TextTable<V>,
}

impl<V> Clone for LedgerImage<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for LedgerImage<'_, V> {}

impl<V> LedgerImage<'_, V> {
    /// Where a ticket is among every ticket id the ledger can name: memory's handles
    /// first, then the ledger's own handles past them; `u32::MAX` for none. An id in
    /// both tables (filed in the ledger's before memory held it) counts as memory's, so
    /// it is saved once, as when the ledger kept every id itself.
    fn ticket_place(&self, ticket: TicketRef) -> u32 {
        let own = |handle: Handle| {
            u32::try_from(self.tickets.len() + handle as usize).unwrap_or(u32::MAX)
        };
        match TicketAt::of(ticket) {
            TicketAt::Memory(handle) => handle,
            TicketAt::Own(handle) => self
                .ledger
                .tickets
                .key(handle)
                .and_then(|id| self.tickets.handle(id))
                .unwrap_or_else(|| own(handle)),
            TicketAt::Nowhere => u32::MAX,
        }
    }

    /// The ticket id at a place [`ticket_place`](Self::ticket_place) gave.
    fn ticket_at_place(&self, place: u32) -> Option<&str> {
        match (place as usize).checked_sub(self.tickets.len()) {
            None => self.tickets.key(place),
            Some(own) => self.ledger.tickets.key(u32::try_from(own).ok()?),
        }
    }
}

impl<V> Serialize for LedgerImage<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ledger = self.ledger;
        if MOMENTS_WITH_IDS.get() {
            return SavedLedger {
                texts: &ledger.texts,
                moments: SavedMoments(self),
            }
            .serialize(serializer);
        }
        let tickets = Positions::of(
            self.tickets.len() + ledger.tickets.len(),
            ledger.moments.iter().map(|f| self.ticket_place(f.ticket)),
        );
        let performances = Positions::of(
            ledger.performances.len(),
            ledger.moments.iter().map(|f| f.performance),
        );
        let seats = Positions::of(ledger.seats.len(), ledger.moments.iter().map(|f| f.seat));
        TabledLedger {
            texts: &ledger.texts,
            tickets: TabledTickets(self, &tickets.order),
            performances: TabledValues(&ledger.performances, &performances.order),
            seats: TabledValues(&ledger.seats, &seats.order),
            moments: TabledMoments {
                image: self,
                tickets: &tickets,
                performances: &performances,
                seats: &seats,
            },
        }
        .serialize(serializer)
    }
}

thread_local! {
    /// Whether ledgers read or written on this thread save each fired moment with its
    /// performance, ticket id and seat (see [`MomentsWithIds`]).
    static MOMENTS_WITH_IDS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While the guard `start` returns is alive, ledgers read on this thread are expected
/// to hold each fired moment with its performance, ticket id and seat, as snapshots
/// before version 8 saved them (and are written so, as those were).
pub(crate) struct MomentsWithIds;

impl MomentsWithIds {
    pub(crate) fn start() -> Raised {
        Raised::raise(&MOMENTS_WITH_IDS)
    }
}

/// The ledger as snapshots since version 8 hold it: the texts; the ticket ids,
/// performances and seats its moments name, each once, in the order the moments first
/// name them; then the moments, naming them by position. Loading reads each id and seat
/// once, not once per moment, and files nothing by its text. The order makes the bytes
/// depend on the moments alone, never on what the tables kept besides.
#[derive(Serialize)]
#[serde(rename = "MomentLedger", bound = "")]
struct TabledLedger<'a, V> {
    texts: &'a Texts,
    tickets: TabledTickets<'a, V>,
    performances: TabledValues<'a, PerformanceId>,
    seats: TabledValues<'a, Seat>,
    moments: TabledMoments<'a, V>,
}

/// A ledger table's entries as saved: each entry the moments name, at the position of
/// its first mention.
struct Positions {
    /// By handle in the ledger's table, its saved position, or `u32::MAX` if unnamed.
    of: Vec<u32>,
    /// The handles in saved order.
    order: Vec<u32>,
}

impl Positions {
    /// The positions of the entries `named` names (`u32::MAX`: none), in a table of `len`.
    fn of(len: usize, named: impl Iterator<Item = u32>) -> Self {
        let mut positions = Self {
            of: vec![u32::MAX; len],
            order: Vec::new(),
        };
        for at in named {
            if let Some(position) = positions.of.get_mut(at as usize)
                && *position == u32::MAX
            {
                // Fewer than `len` entries, and `len` is a table's: it fits.
                *position = u32::try_from(positions.order.len()).unwrap_or(u32::MAX);
                positions.order.push(at);
            }
        }
        positions
    }

    /// The saved position of the entry at `at`, if the moment names one.
    fn get(&self, at: u32) -> Option<u32> {
        self.of.get(at as usize).copied().filter(|&p| p != u32::MAX)
    }
}

/// The ticket ids moments name, saved as a table of ids is (a map to nothing); by
/// their places (see [`LedgerImage::ticket_place`]).
struct TabledTickets<'a, V>(&'a LedgerImage<'a, V>, &'a [u32]);

impl<V> Serialize for TabledTickets<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.1.len()))?;
        for &place in self.1 {
            map.serialize_entry(self.0.ticket_at_place(place).unwrap_or_default(), &())?;
        }
        map.end()
    }
}

/// The performances or seats moments name, saved in turn.
struct TabledValues<'a, T>(&'a Shared<T>, &'a [u32]);

impl<T: Serialize + std::hash::Hash + Eq + Clone> Serialize for TabledValues<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = serializer.serialize_seq(Some(self.1.len()))?;
        for &at in self.1 {
            if let Some(value) = self.0.get(at) {
                seq.serialize_element(value)?;
            }
        }
        seq.end()
    }
}

/// The fired moments, each naming its performance, ticket and seat by saved position.
struct TabledMoments<'a, V> {
    image: &'a LedgerImage<'a, V>,
    tickets: &'a Positions,
    performances: &'a Positions,
    seats: &'a Positions,
}

impl<V> Serialize for TabledMoments<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let moments = &self.image.ledger.moments;
        let mut seq = serializer.serialize_seq(Some(moments.len()))?;
        for fired in moments.iter() {
            seq.serialize_element(&fired.with_parts(
                self.image.ledger.labels_of(fired),
                self.performances.get(fired.performance),
                self.tickets.get(self.image.ticket_place(fired.ticket)),
                self.seats.get(fired.seat),
            ))?;
        }
        seq.end()
    }
}

/// A fired moment as version 8 saves it: its performance, ticket and seat by position
/// in the tables saved before the moments.
type TabledMoment = SavedMoment<u32, u32, u32>;

/// The ledger as read from a snapshot: its moments with their tickets filed.
#[derive(Deserialize)]
#[serde(rename = "MomentLedger")]
struct LoadedLedger {
    texts: Texts,
    moments: LoadedMoments,
}

/// Fired moments read one at a time, each performance, ticket id and seat filed as it is
/// read.
#[derive(Default)]
struct LoadedMoments {
    moments: Chunked<FiredMoment>,
    tickets: TextTable<()>,
    performances: Shared<PerformanceId>,
    seats: Shared<Seat>,
    labels: Shared<Labels>,
}

impl<'de> Deserialize<'de> for LoadedMoments {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MomentsVisitor;

        impl<'de> serde::de::Visitor<'de> for MomentsVisitor {
            type Value = LoadedMoments;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("fired moments")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LoadedMoments, A::Error> {
                // Most moments name a ticket: the ticket table is reserved once for
                // them (and the moments replay fires next), not grown as it fills.
                let mut loaded = LoadedMoments {
                    tickets: TextTable::reserved_for(seq.size_hint().unwrap_or(0)),
                    ..LoadedMoments::default()
                };
                while let Some(saved) = seq.next_element::<LoadedMoment<'de>>()? {
                    let fired = loaded.file(saved).map_err(serde::de::Error::custom)?;
                    loaded.moments.push(fired);
                }
                Ok(loaded)
            }
        }

        deserializer.deserialize_seq(MomentsVisitor)
    }
}

/// A fired moment as read from a snapshot.
type LoadedMoment<'a> = SavedMoment<ReadPerformance<'a>, ReadTicket<'a>, Seat>;

/// A fired moment's ticket id as read: the ledger files its text in a table of its own,
/// so it is borrowed from the image where it can be, never put in an allocation of its
/// own to be dropped right after.
struct ReadTicket<'a>(ReadIdText<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for ReadTicket<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TicketId::read_text(deserializer).map(Self)
    }
}

/// A fired moment's performance id as read, likewise: the ledger keeps one copy of each
/// performance's id, made when the first moment for it is read.
struct ReadPerformance<'a>(ReadIdText<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for ReadPerformance<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PerformanceId::read_text(deserializer).map(Self)
    }
}

impl LoadedMoments {
    /// The moment as the ledger keeps it, its performance, ticket and seat filed.
    fn file(&mut self, saved: LoadedMoment<'_>) -> Result<FiredMoment, String> {
        let patron = saved.compact_patron()?;
        let ticket = match &saved.ticket {
            Some(ticket) => file_ticket(&mut self.tickets, ticket.0.as_str())
                .ok_or_else(|| "too many ticket ids".to_owned())?,
            None => NO_TICKET,
        };
        let performance = match &saved.performance {
            Some(performance) => self
                .performances
                .file_as(performance.0.as_str(), |text: &str| {
                    PerformanceId::new(text)
                }),
            None => NONE_SHARED,
        };
        let seat = self.seats.file(saved.seat.as_ref());
        let full = |at: SharedRef, given: bool| at == NONE_SHARED && given;
        if full(performance, saved.performance.is_some()) || full(seat, saved.seat.is_some()) {
            return Err("too many performances or seats".to_owned());
        }
        saved.fired(patron, performance, ticket, seat, &mut self.labels)
    }
}

impl FiredMoment {
    /// The moment as snapshots save it, with `performance`, `ticket` and `seat` for its
    /// handles.
    fn with_parts<P, T, S>(
        &self,
        labels: Labels,
        performance: Option<P>,
        ticket: Option<T>,
        seat: Option<S>,
    ) -> SavedMoment<P, T, S> {
        SavedMoment {
            patron: self.patron(),
            at: self.at,
            key: self.key(),
            performance,
            ticket,
            seat,
            rule: labels.rule,
            message: self.message,
            explanation: self.explanation,
            dedupe_key: labels.dedupe_key,
            group: labels.group,
            kind: self.flags.kind(),
            action: self.flags.action(),
            priority: self.flags.priority(),
            channel: self.flags.channel(),
            purposes: self.flags.purposes(),
            standing: self.flags.standing(),
            holds_key: self.flags.holds_key(),
        }
    }

    /// A moment as version 8 saves it, its positions kept as read (see
    /// [`LoadedTabledLedger::ledger`]).
    fn tabled(saved: TabledMoment, labels: &mut Shared<Labels>) -> Result<FiredMoment, String> {
        let patron = saved.compact_patron()?;
        // A position equal to "none" is past any table: refused, not read as none.
        let position = |at: Option<u32>, none: u32| match at {
            Some(at) if at == none => Err("a fired moment names a position past its table"),
            Some(at) => Ok(at),
            None => Ok(none),
        };
        let performance = position(saved.performance, NONE_SHARED)?;
        let ticket = position(saved.ticket, NO_TICKET)?;
        let seat = position(saved.seat, NONE_SHARED)?;
        saved.fired(patron, performance, ticket, seat, labels)
    }
}

/// A once-per key in the halves a [`FiredMoment`] keeps, high first.
fn split_key(key: u64) -> [u32; 2] {
    [(key >> 32) as u32, key as u32]
}

impl<'de> Deserialize<'de> for MomentLedger {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !MOMENTS_WITH_IDS.get() {
            let loaded = LoadedTabledLedger::deserialize(deserializer)?;
            return loaded.ledger().map_err(serde::de::Error::custom);
        }
        let loaded = LoadedLedger::deserialize(deserializer)?;
        Ok(MomentLedger {
            texts: loaded.texts,
            moments: loaded.moments.moments,
            tickets: loaded.moments.tickets,
            performances: loaded.moments.performances,
            seats: loaded.moments.seats,
            labels: loaded.moments.labels,
            ..MomentLedger::default()
        })
    }
}

/// A version 8 ledger as read (see [`TabledLedger`]).
#[derive(Deserialize)]
#[serde(rename = "MomentLedger")]
struct LoadedTabledLedger {
    texts: Texts,
    tickets: TextTable<()>,
    performances: LoadedValues<PerformanceId>,
    seats: LoadedValues<Seat>,
    moments: LoadedTabledMoments,
}

/// Performances or seats read in turn, each filed at its position; one listed twice
/// is refused.
struct LoadedValues<T>(Shared<T>);

impl<'de, T> Deserialize<'de> for LoadedValues<T>
where
    T: Deserialize<'de> + std::hash::Hash + Eq + Clone,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T> serde::de::Visitor<'de> for ValuesVisitor<T>
        where
            T: Deserialize<'de> + std::hash::Hash + Eq + Clone,
        {
            type Value = Shared<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the performances or seats fired moments name")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Shared<T>, A::Error> {
                let mut shared = Shared::default();
                while let Some(value) = seq.next_element::<T>()? {
                    let expected = shared.len();
                    if shared.file(Some(&value)) as usize != expected {
                        return Err(serde::de::Error::custom(
                            "a performance or seat listed twice, or too many",
                        ));
                    }
                }
                Ok(shared)
            }
        }

        deserializer
            .deserialize_seq(ValuesVisitor(std::marker::PhantomData))
            .map(LoadedValues)
    }
}

/// Version 8 moments read one at a time, their positions kept as read (checked against
/// the tables once all is read), and their labels filed.
struct LoadedTabledMoments(Chunked<FiredMoment>, Shared<Labels>);

impl<'de> Deserialize<'de> for LoadedTabledMoments {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MomentsVisitor;

        impl<'de> serde::de::Visitor<'de> for MomentsVisitor {
            type Value = LoadedTabledMoments;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("fired moments")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LoadedTabledMoments, A::Error> {
                let (mut moments, mut labels) = (Chunked::default(), Shared::default());
                while let Some(saved) = seq.next_element::<TabledMoment>()? {
                    let fired = FiredMoment::tabled(saved, &mut labels);
                    moments.push(fired.map_err(serde::de::Error::custom)?);
                }
                Ok(LoadedTabledMoments(moments, labels))
            }
        }

        deserializer.deserialize_seq(MomentsVisitor)
    }
}

impl LoadedTabledLedger {
    /// The ledger, once every position its moments name is checked against its table.
    fn ledger(self) -> Result<MomentLedger, String> {
        let LoadedTabledMoments(moments, labels) = self.moments;
        let (tickets, performances, seats) = (
            self.tickets.len(),
            self.performances.0.len(),
            self.seats.0.len(),
        );
        let within = |at: u32, none: u32, len: usize| at == none || (at as usize) < len;
        if let Some(i) = moments.iter().position(|f| {
            !(within(f.ticket, NO_TICKET, tickets)
                && within(f.performance, NONE_SHARED, performances)
                && within(f.seat, NONE_SHARED, seats))
        }) {
            return Err(format!(
                "fired moment {i} names a ticket, performance or seat the image does not hold"
            ));
        }
        Ok(MomentLedger {
            texts: self.texts,
            moments,
            tickets: self.tickets,
            performances: self.performances.0,
            seats: self.seats.0,
            labels,
            ..MomentLedger::default()
        })
    }
}

/// The reference a moment fired now keeps to a ticket: its handle in memory's
/// `tickets` if that holds it, else its handle in the ledger's `own` table, filed if new.
fn ticket_ref<V>(own: &mut TextTable<()>, ticket: &str, tickets: &TextTable<V>) -> TicketRef {
    tickets
        .handle(ticket)
        .and_then(memory_ticket)
        .or_else(|| file_ticket(own, ticket))
        .unwrap_or(NO_TICKET)
}

/// A ticket id's handle in `tickets`, filed if new; `None` only once the table is full.
fn file_ticket(tickets: &mut TextTable<()>, ticket: &str) -> Option<TicketRef> {
    match tickets.file_new(ticket, || ()) {
        Filing::New(handle) | Filing::Held(handle) if handle < MEMORY_TICKET => Some(handle),
        _ => None,
    }
}

/// See [`MomentLedger::hints`].
#[derive(Debug, Default)]
struct TextHints {
    /// By rule: its id's text id, and the labels its last moment had.
    rules: Vec<(TextId, SharedRef)>,
    group: TextId,
}

/// A patron's part of the per-patron index (40 bytes, a line for every patron up to the
/// last with a moment): asking whether a moment fired already, what else there is at a
/// visit, or whether the due times changed, usually reads nothing else.
#[derive(Debug, Clone, Default)]
struct PatronFiled {
    /// One bit per once-per key held (see [`filter_bit`]): a clear bit proves the key
    /// is not held, without reading the moments. A released key keeps its bit (the
    /// moments then answer). 32 bits, not 64: most patrons hold a key or two, so a
    /// false "maybe" stays rare (then the patron's few moments answer), and the line
    /// is 8 bytes shorter.
    keys: u32,
    /// One bit per visit fingerprint filed, likewise.
    visits: u32,
    /// A fingerprint of the due times last filed for the patron by
    /// [`MomentLedger::schedule_patron`] (see [`due_fingerprint`]), or [`UNKNOWN_DUE`]
    /// once anything else changed them.
    due: u64,
    /// Its moments, oldest first: two inline, as most patrons have at most two.
    filed: SmallVec<[Filed; 2]>,
}

// A line per patron: each byte here is a megabyte at a million patrons.
const _: () = assert!(std::mem::size_of::<PatronFiled>() == 40);

/// The bit a 64-bit fingerprint sets in a [`PatronFiled`] filter: its top five bits.
fn filter_bit(fingerprint: u64) -> u32 {
    1 << (fingerprint >> 59)
}

/// The bit of a visit fingerprint (32 bits; its top five).
fn visit_bit(visit: u32) -> u32 {
    filter_bit(u64::from(visit) << 32)
}

/// No fingerprint of due times: the next [`MomentLedger::schedule_patron`] files them.
const UNKNOWN_DUE: u64 = 0;

/// A fingerprint of the due times computed for a patron, never [`UNKNOWN_DUE`]. Equal
/// fingerprints are taken as equal due times, with the odds of a false match those of
/// the once-per keys (see [`OnceKey`]), for the same patron's consecutive refilings.
fn due_fingerprint(due: &[(RuleIdx, Option<DateTime<Utc>>)]) -> u64 {
    let mut hasher = StableHasher::new(DUE_SEED);
    for &(rule, at) in due {
        hasher.write_u16(rule);
        match at {
            Some(at) => {
                hasher.write_u8(1);
                hasher.write_i64(at.timestamp());
                hasher.write_u32(at.timestamp_subsec_nanos());
            }
            None => hasher.write_u8(0),
        }
    }
    hasher.finish().max(1)
}

/// Seeds the due-times fingerprint.
const DUE_SEED: u64 = 0x6475_652d_7469_6d65;

/// One of a patron's fired moments, as the per-patron index files it. The once-per key
/// it holds is the moment's own (read only when the key filter cannot rule it out).
#[derive(Debug, Clone, Copy)]
struct Filed {
    /// Its index in the ledger.
    idx: u32,
    /// A fingerprint of its performance (see [`visit_key`]).
    visit: u32,
}

/// The key filter's place for a moment that holds none (its ticket was refunded); never
/// a once-per key.
const RELEASED: u64 = 0;

/// The due times filed for one patron, by rule.
type DueTimes = SmallVec<[(RuleIdx, DateTime<Utc>); 2]>;

/// A fingerprint of the performance a moment is for (0 for none), to skip the moments of
/// other visits without reading them.
fn visit_key(performance: Option<&PerformanceId>) -> u32 {
    match performance {
        None => 0,
        Some(performance) => {
            let mut hasher = StableHasher::new(0);
            hasher.write(performance.as_str().as_bytes());
            // The low half, never 0.
            (hasher.finish() as u32) | 1
        }
    }
}

impl MomentLedger {
    /// Counts the fired moments (and the ids they own) into `moments`, the per-patron
    /// index into `by_patron`, the due times into `due` and the texts into `texts`
    /// (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(
        &self,
        moments: &mut crate::memory::footprint::Tally,
        by_patron: &mut crate::memory::footprint::Tally,
        due: &mut crate::memory::footprint::Tally,
        texts: &mut crate::memory::footprint::Tally,
    ) {
        // Ticket ids are kept in the ledger's table. Each performance id and seat is
        // kept once, and counted as the ledger's own: a moment fired from an event holds
        // the event's copy of its seat, and a loaded one holds the image's.
        self.moments.tally(moments);
        self.tickets.tally(moments);
        self.performances.tally(moments);
        for performance in self.performances.iter() {
            moments.shared_text(performance.as_str().len());
        }
        self.seats.tally(moments);
        self.labels.tally(moments);
        for seat in self.seats.iter() {
            // Two counters, an optional section and a label.
            moments.block(48, 48);
            moments.text(seat.label().len(), seat.label().len());
            if let Some(section) = seat.section() {
                moments.text(section.len(), section.len());
            }
        }
        self.by_patron.tally(by_patron);
        for filed in &self.by_patron {
            by_patron.small(&filed.filed);
        }
        self.due.tally(due);
        let times = size_of::<DueTimes>();
        due.table(self.due_of.len(), self.due_of.capacity(), 8 + times);
        for times in self.due_of.values() {
            due.small(times);
        }
        texts.vec(&self.texts.all);
        for text in &self.texts.all {
            texts.shared_text(text.len());
        }
        texts.table(self.texts.ids.len(), self.texts.ids.capacity(), 16 + 4);
    }

    /// Whether `patron` holds the once-per key `key` (see [`once_key`]).
    pub(crate) fn has_fired(&self, patron: PatronId, key: u64) -> bool {
        self.index_of(patron).is_some_and(|index| {
            index.keys & filter_bit(key) != 0
                && index.filed.iter().any(|filed| {
                    self.moments
                        .get(filed.idx as usize)
                        .is_some_and(|fired| fired.holds_key() && fired.key() == key)
                })
        })
    }

    /// Reads the patron's line of the per-patron index and answers its key filter, for
    /// callers that will ask about the patron soon (see [`Engine::propose`]).
    ///
    /// [`Engine::propose`]: super::engine::Engine::propose
    pub(crate) fn warm(&self, patron: PatronId) -> u64 {
        self.index_of(patron)
            .map_or(0, |index| u64::from(index.keys))
    }

    /// A patron's part of the per-patron index, if anything was filed for them.
    fn index_of(&self, patron: PatronId) -> Option<&PatronFiled> {
        crate::memory::state::slot(patron).and_then(|slot| self.by_patron.get(slot))
    }

    /// A patron's part of the per-patron index, made if need be.
    fn index_of_mut(&mut self, patron: PatronId) -> Option<&mut PatronFiled> {
        let slot = crate::memory::state::slot(patron)?;
        // In fixed chunks: a line per patron, and most patrons get one, so a doubling
        // vector would leave up to half the lines unused (or copy them all as it grows).
        self.by_patron.resize_with(slot + 1, PatronFiled::default);
        self.by_patron.get_mut(slot)
    }

    /// A patron's index entries, oldest first.
    fn filed(&self, patron: PatronId) -> &[Filed] {
        self.index_of(patron)
            .map_or(&[], |index| index.filed.as_slice())
    }

    /// When `rule` last fired for `patron` (under this id only).
    pub(crate) fn last_fired(&self, rule: &str, patron: PatronId) -> Option<DateTime<Utc>> {
        let rule = self.texts.id_of(rule)?;
        self.filed(patron)
            .iter()
            .rev()
            .filter_map(|filed| self.moments.get(filed.idx as usize))
            .find(|fired| self.labels_of(fired).rule == rule)
            .map(|fired| fired.at)
    }

    /// Records a fired moment (stamped with its rule and patron) under its once-per key,
    /// its ticket id in the ledger's own table. Returns its index.
    pub(crate) fn fire(
        &mut self,
        moment: &Moment,
        key: u64,
        group: Option<&str>,
        at: DateTime<Utc>,
    ) -> u32 {
        self.fire_from(moment, key, group, at, None, &TextTable::<()>::default())
    }

    /// [`fire`](MomentLedger::fire) for the rule registered at `rule`, whose id's text
    /// id is remembered for its next moments. A ticket `tickets` (memory's table) holds
    /// is named by its handle there.
    pub(crate) fn fire_from<V>(
        &mut self,
        moment: &Moment,
        key: u64,
        group: Option<&str>,
        at: DateTime<Utc>,
        rule: Option<RuleIdx>,
        tickets: &TextTable<V>,
    ) -> u32 {
        let texts = &mut self.texts;
        let hints = &mut self.hints;
        let rule_hint = rule.and_then(|rule| hints.rules.get(usize::from(rule)).copied());
        let (text_hint, labels_hint) = rule_hint.unwrap_or((NO_TEXT, NONE_SHARED));
        let rule_id = texts.intern_hinted(&moment.rule, text_hint);
        let group = match group {
            Some(group) => {
                hints.group = texts.intern_hinted(group, hints.group);
                hints.group
            }
            None => NO_TEXT,
        };
        let message = texts.intern(&moment.message);
        let explanation = texts.intern(&moment.explanation);
        let labels = Labels {
            rule: rule_id,
            group,
            dedupe_key: texts.intern_optional(moment.dedupe_key.as_deref()),
        };
        // A rule's moments mostly have the labels its last one had: no hashing then.
        // Full only past four billion labels, as for performances.
        let labels = match self.labels.get(labels_hint) {
            Some(hinted) if *hinted == labels => labels_hint,
            _ => self.labels.file(Some(&labels)),
        };
        if let Some(rule) = rule.map(usize::from) {
            if hints.rules.len() <= rule {
                hints.rules.resize(rule + 1, (NO_TEXT, NONE_SHARED));
            }
            if let Some(hint) = hints.rules.get_mut(rule) {
                *hint = (rule_id, labels);
            }
        }
        let fired = FiredMoment {
            patron: CompactPatronId::of_held(moment.patron),
            at,
            key: split_key(key),
            // Full only past four billion ids (memory's own tables fill first).
            performance: self.performances.file(moment.performance.as_ref()),
            ticket: moment.ticket.as_ref().map_or(NO_TICKET, |ticket| {
                ticket_ref(&mut self.tickets, ticket.as_str(), tickets)
            }),
            seat: self.seats.file(moment.seat.as_ref()),
            message,
            explanation,
            labels,
            flags: MomentFlags::pack(
                moment.kind,
                moment.action,
                moment.priority,
                moment.channel,
                PackedPurposes::pack(&moment.purposes),
                Standing::Active,
                true,
            ),
        };
        let idx = u32::try_from(self.moments.len()).unwrap_or(u32::MAX);
        self.file(&fired, idx);
        self.moments.push(fired);
        idx
    }

    /// Adds a moment to its patron's index entries.
    fn file(&mut self, fired: &FiredMoment, idx: u32) {
        let visit = visit_key(self.performances.get(fired.performance));
        let Some(index) = self.index_of_mut(fired.patron()) else {
            return;
        };
        let key = if fired.holds_key() {
            fired.key()
        } else {
            RELEASED
        };
        index.keys |= filter_bit(key);
        index.visits |= visit_bit(visit);
        index.filed.push(Filed { idx, visit });
    }

    /// The moment as rules proposed it, its texts shared with the ledger's copies;
    /// `tickets` is memory's tickets table.
    pub(crate) fn moment<V>(&self, fired: &FiredMoment, tickets: &TextTable<V>) -> Moment {
        let texts = &self.texts;
        let labels = self.labels_of(fired);
        Moment {
            rule: texts.text(labels.rule),
            patron: fired.patron(),
            kind: fired.flags.kind(),
            action: fired.flags.action(),
            performance: self.performances.get(fired.performance).cloned(),
            ticket: self.ticket_of(fired, tickets).map(TicketId::new),
            seat: self.seats.get(fired.seat).cloned(),
            message: texts.text(fired.message),
            priority: fired.flags.priority(),
            dedupe_key: (labels.dedupe_key != NO_TEXT).then(|| texts.text(labels.dedupe_key)),
            explanation: texts.text(fired.explanation),
            channel: fired.flags.channel(),
            purposes: fired.flags.purposes().unpack(),
        }
    }

    /// A fired moment as snapshots save it.
    fn saved<'a, V>(
        &'a self,
        fired: &FiredMoment,
        tickets: &TextTable<V>,
    ) -> SavedMoment<&'a PerformanceId, TicketId, &'a Seat> {
        fired.with_parts(
            self.labels_of(fired),
            self.performances.get(fired.performance),
            self.ticket_of(fired, tickets).map(TicketId::new),
            self.seats.get(fired.seat),
        )
    }

    /// A fired moment's rule, group and dedupe key.
    fn labels_of(&self, fired: &FiredMoment) -> Labels {
        self.labels
            .get(fired.labels)
            .copied()
            .unwrap_or(Labels::NONE)
    }

    /// The id of the ticket a fired moment is for, if any; `tickets` is memory's
    /// tickets table.
    pub(crate) fn ticket_of<'a, V>(
        &'a self,
        fired: &FiredMoment,
        tickets: &'a TextTable<V>,
    ) -> Option<&'a str> {
        match TicketAt::of(fired.ticket) {
            TicketAt::Memory(handle) => tickets.key(handle),
            TicketAt::Own(handle) => self.tickets.key(handle),
            TicketAt::Nowhere => None,
        }
    }

    /// The ledger as snapshots save it; `tickets` is memory's tickets table.
    pub(crate) fn image<'a, V>(&'a self, tickets: &'a TextTable<V>) -> LedgerImage<'a, V> {
        LedgerImage {
            ledger: self,
            tickets,
        }
    }

    /// Names each ticket memory's table (`tickets`) holds by its handle there, dropping
    /// the ledger's own copy of its id: for a ledger read from a snapshot, which saves
    /// the ids, once memory's tickets are read too.
    pub(crate) fn share_tickets<V>(&mut self, tickets: &TextTable<V>) {
        if self.tickets.len() == 0 {
            return;
        }
        let old = std::mem::take(&mut self.tickets);
        let refs: Vec<TicketRef> = (0..old.len())
            .map(|handle| {
                TicketRef::try_from(handle)
                    .ok()
                    .and_then(|handle| old.key(handle))
                    .map_or(NO_TICKET, |id| ticket_ref(&mut self.tickets, id, tickets))
            })
            .collect();
        for fired in self.moments.iter_mut() {
            if let TicketAt::Own(handle) = TicketAt::of(fired.ticket) {
                fired.ticket = refs.get(handle as usize).copied().unwrap_or(NO_TICKET);
            }
        }
    }

    /// Whether a fired moment is in `group` (an exclusive group's name, or none).
    pub(crate) fn in_group(&self, fired: &FiredMoment, group: Option<&str>) -> bool {
        match (group, self.texts.get(self.labels_of(fired).group)) {
            (Some(group), Some(its)) => **its == *group,
            _ => false,
        }
    }

    /// The moments fired for a patron (under this id only), oldest first, with their index.
    pub(crate) fn of_patron(&self, patron: PatronId) -> impl Iterator<Item = (u32, &FiredMoment)> {
        self.filed(patron)
            .iter()
            .filter_map(|filed| Some((filed.idx, self.moments.get(filed.idx as usize)?)))
    }

    /// The moments fired for a patron (under this id only) at one performance, or
    /// without one, oldest first, with their index.
    pub(crate) fn of_visit<'a>(
        &'a self,
        patron: PatronId,
        performance: Option<&'a PerformanceId>,
    ) -> impl Iterator<Item = (u32, &'a FiredMoment)> + 'a {
        let visit = visit_key(performance);
        let filed = match self.index_of(patron) {
            Some(index) if index.visits & visit_bit(visit) != 0 => index.filed.as_slice(),
            // No moment at this visit: its entries need not be read.
            _ => &[],
        };
        filed
            .iter()
            .filter(move |filed| filed.visit == visit)
            .filter_map(|filed| Some((filed.idx, self.moments.get(filed.idx as usize)?)))
            .filter(move |(_, fired)| self.performances.get(fired.performance) == performance)
    }

    pub(crate) fn set_standing(&mut self, idx: u32, standing: Standing) {
        if let Some(fired) = self.moments.get_mut(idx as usize) {
            fired.flags.set_standing(standing);
        }
    }

    /// Retires a patron's active moments for refunded tickets and releases their
    /// once-per keys: a moment for a visit that will not happen may fire again for the
    /// visit that does (a refunded birthday booking does not use up the birthday).
    /// `memory` is memory's tickets table.
    pub(crate) fn retire_tickets<V>(
        &mut self,
        patron: PatronId,
        tickets: &[TicketId],
        memory: &TextTable<V>,
    ) {
        let Some(index) =
            crate::memory::state::slot(patron).and_then(|slot| self.by_patron.get(slot))
        else {
            return;
        };
        // A ticket may be named both ways: from the ledger's own table by moments fired
        // before memory held it.
        let refs: SmallVec<[TicketRef; 4]> = tickets
            .iter()
            .flat_map(|ticket| {
                [
                    memory.handle(ticket.as_str()).and_then(memory_ticket),
                    self.tickets.handle(ticket.as_str()),
                ]
            })
            .flatten()
            .collect();
        if refs.is_empty() {
            return;
        }
        for filed in &index.filed {
            if let Some(fired) = self.moments.get_mut(filed.idx as usize)
                && fired.standing() == Standing::Active
                && refs.contains(&fired.ticket)
            {
                fired.flags.set_standing(Standing::Retired);
                fired.flags.set_holds_key(false);
            }
        }
    }

    /// Files (or refiles, or removes) when `rule` is next due for `patron`.
    pub(crate) fn schedule(&mut self, patron: PatronId, rule: RuleIdx, due: Option<DateTime<Utc>>) {
        self.file_due(patron, &[(rule, due)]);
        self.forget_due_fingerprint(patron);
    }

    /// Files (or refiles, or removes) when each of these rules is next due for `patron`:
    /// every rule memory asks after a change to them. Nothing is looked up when they are
    /// the due times filed last time, as after most events.
    pub(crate) fn schedule_patron(
        &mut self,
        patron: PatronId,
        due: &[(RuleIdx, Option<DateTime<Utc>>)],
    ) {
        if due.is_empty() {
            // No rule has due times.
            return;
        }
        let fingerprint = due_fingerprint(due);
        let index = self.index_of(patron);
        if index.is_some_and(|index| index.due == fingerprint) {
            return;
        }
        // A patron with nothing filed gets an index entry only for due times to keep.
        let keep = index.is_some() || due.iter().any(|(_, at)| at.is_some());
        self.file_due(patron, due);
        if keep && let Some(index) = self.index_of_mut(patron) {
            index.due = fingerprint;
        }
    }

    /// After a change to a patron's due times other than [`schedule_patron`]'s: the
    /// next one files them whatever they are.
    ///
    /// [`schedule_patron`]: MomentLedger::schedule_patron
    fn forget_due_fingerprint(&mut self, patron: PatronId) {
        if let Some(index) =
            crate::memory::state::slot(patron).and_then(|slot| self.by_patron.get_mut(slot))
        {
            index.due = UNKNOWN_DUE;
        }
    }

    fn file_due(&mut self, patron: PatronId, due: &[(RuleIdx, Option<DateTime<Utc>>)]) {
        let filed = match self.due_of.get_mut(&patron) {
            Some(filed) => filed,
            // Most patrons have nothing filed and nothing to file.
            None if due.iter().all(|(_, at)| at.is_none()) => return,
            None => self.due_of.entry(patron).or_default(),
        };
        for &(rule, at) in due {
            let i = filed.iter().position(|(r, _)| *r == rule);
            let old = i.and_then(|i| filed.get(i)).map(|&(_, old)| old);
            if old == at {
                continue;
            }
            if let Some(old) = old {
                self.due.remove(&(old, patron, rule));
            }
            match (i, at) {
                (Some(i), Some(at)) => filed[i].1 = at,
                (Some(i), None) => {
                    filed.remove(i);
                }
                (None, Some(at)) => filed.push((rule, at)),
                (None, None) => {}
            }
            if let Some(at) = at {
                self.due.insert((at, patron, rule));
            }
        }
        if filed.is_empty() {
            self.due_of.remove(&patron);
        }
    }

    /// Takes every entry due at or before `now`, earliest first.
    pub(crate) fn take_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, PatronId, RuleIdx)> {
        let taken = self.due.take_until(now);
        for &(_, patron, rule) in &taken {
            self.forget_due_fingerprint(patron);
            if let Some(filed) = self.due_of.get_mut(&patron) {
                filed.retain(|(r, _)| *r != rule);
                if filed.is_empty() {
                    self.due_of.remove(&patron);
                }
            }
        }
        taken
    }

    /// Rebuilds the per-patron index (with the once-per keys held) after loading;
    /// refuses moments naming texts the image does not hold, or patrons beyond the
    /// `patrons` memory has.
    pub(crate) fn reindex(&mut self, patrons: usize) -> Result<(), String> {
        let texts = self.texts.all.len();
        let known = |id: TextId| (id as usize) < texts;
        let optional = |id: TextId| id == NO_TEXT || known(id);
        if let Some(i) = self.moments.iter().position(|f| {
            let labels = self.labels.get(f.labels);
            !(labels.is_some_and(|labels| {
                known(labels.rule) && optional(labels.dedupe_key) && optional(labels.group)
            }) && known(f.message)
                && known(f.explanation))
        }) {
            return Err(format!(
                "fired moment {i} names a text the image does not hold"
            ));
        }
        if let Some(i) = self
            .moments
            .iter()
            .position(|f| crate::memory::state::slot(f.patron()).is_none_or(|slot| slot >= patrons))
        {
            return Err(format!(
                "fired moment {i} is for a patron memory does not have"
            ));
        }
        // Loaded seats were filed once each as they were read (see [`Shared`]).
        let moments = std::mem::take(&mut self.moments);
        self.by_patron = Chunked::default();
        for (i, fired) in moments.iter().enumerate() {
            self.file(fired, u32::try_from(i).unwrap_or(u32::MAX));
        }
        self.moments = moments;
        Ok(())
    }

    /// The due index, in order, for saving.
    pub(crate) fn due_entries(
        &self,
    ) -> impl Iterator<Item = (DateTime<Utc>, PatronId, RuleIdx)> + '_ {
        self.due.iter()
    }

    /// Forgets these patrons entirely, for erasure: their fired moments (a message may
    /// name them) and the texts only they used, once-per keys, cooldowns and due times.
    /// Walks every fired moment: erasure is rare and must not miss one. Returns how many
    /// moments went.
    pub(crate) fn forget(&mut self, patrons: &[PatronId]) -> usize {
        let before = self.moments.len();
        self.moments
            .retain(|fired| !patrons.contains(&fired.patron()));
        // Their due times, found from their own list: the index is not walked.
        for &patron in patrons {
            for (rule, at) in self.due_of.remove(&patron).unwrap_or_default() {
                self.due.remove(&(at, patron, rule));
            }
        }
        self.compact_texts();
        self.compact_tickets();
        // The moments kept are for patrons already filed: reindexing cannot fail here.
        let _ = self.reindex(self.by_patron.len());
        before - self.moments.len()
    }

    /// Redacts every fired moment's message and explanation, for erasure: `words_for`
    /// gives, for the patron a moment is for, the whole words (lower-case) to replace by
    /// `<erased>`. Texts no moment says any more are dropped. Returns how many moments
    /// changed.
    pub(crate) fn redact(&mut self, mut words_for: impl FnMut(PatronId) -> Vec<String>) -> usize {
        let mut changed = 0;
        for i in 0..self.moments.len() {
            let Some(fired) = self.moments.get(i) else {
                break;
            };
            let words = words_for(fired.patron());
            if words.is_empty() {
                continue;
            }
            let (message, explanation) = (fired.message, fired.explanation);
            let redact = |texts: &mut Texts, id: TextId| {
                let redacted = texts
                    .get(id)
                    .and_then(|text| super::moment::redact_words(text, &words))?;
                Some(texts.intern(&redacted))
            };
            let message = redact(&mut self.texts, message);
            let explanation = redact(&mut self.texts, explanation);
            if let Some(fired) = self.moments.get_mut(i) {
                if let Some(message) = message {
                    fired.message = message;
                }
                if let Some(explanation) = explanation {
                    fired.explanation = explanation;
                }
            }
            changed += usize::from(message.is_some() || explanation.is_some());
        }
        if changed > 0 {
            self.compact_texts();
        }
        changed
    }

    /// Keeps only the texts some fired moment says, in the order the moments first say
    /// them, so an erased patron's name leaves no copy behind.
    fn compact_texts(&mut self) {
        let old = std::mem::take(&mut self.texts);
        let keep = |id: TextId, texts: &mut Texts| match old.get(id) {
            Some(text) => texts.intern(text),
            None => NO_TEXT,
        };
        let old_labels = std::mem::take(&mut self.labels);
        for fired in self.moments.iter_mut() {
            let labels = old_labels
                .get(fired.labels)
                .copied()
                .unwrap_or(Labels::NONE);
            let rule = keep(labels.rule, &mut self.texts);
            fired.message = keep(fired.message, &mut self.texts);
            fired.explanation = keep(fired.explanation, &mut self.texts);
            let dedupe_key = keep(labels.dedupe_key, &mut self.texts);
            let group = keep(labels.group, &mut self.texts);
            fired.labels = self.labels.file(Some(&Labels {
                rule,
                group,
                dedupe_key,
            }));
        }
    }

    /// Keeps only the ticket ids of the ledger's own table some fired moment names.
    fn compact_tickets(&mut self) {
        let old = std::mem::take(&mut self.tickets);
        for fired in self.moments.iter_mut() {
            if let TicketAt::Own(handle) = TicketAt::of(fired.ticket) {
                fired.ticket = old
                    .key(handle)
                    .and_then(|id| file_ticket(&mut self.tickets, id))
                    .unwrap_or(NO_TICKET);
            }
        }
    }

    /// How many (patron, rule) pairs wait for a tick.
    pub(crate) fn due_count(&self) -> usize {
        self.due.len()
    }
}

/// The ledger as snapshot versions 1 and 2 saved it: each moment with its strings, the
/// once-per keys as strings, and when each rule last fired per patron. Read only to
/// upgrade.
#[derive(Deserialize)]
pub(crate) struct LegacyLedger {
    fired: Set<LegacyKey>,
    last_fired: Map<(Box<str>, PatronId), DateTime<Utc>>,
    moments: Vec<LegacyFired>,
}

#[derive(Deserialize, PartialEq, Eq, Hash)]
struct LegacyKey {
    rule: Box<str>,
    patron: PatronId,
    scope: Box<str>,
}

#[derive(Deserialize)]
struct LegacyFired {
    moment: Moment,
    key: LegacyKey,
    group: Option<Box<str>>,
    standing: Standing,
}

impl LegacyLedger {
    /// The same moments, keys and cooldowns in today's shape. The once-per key hashes
    /// the old key's text, so every key still held stays held.
    /// Refuses (naming it) a moment for a patron past the `patrons` the image holds: the
    /// index has a slot per patron, so a forged id must not size it.
    pub(crate) fn upgrade(self, patrons: u64) -> Result<MomentLedger, String> {
        let mut ledger = MomentLedger::default();
        for old in self.moments {
            if old.moment.patron.as_u64() == 0 || old.moment.patron.as_u64() > patrons {
                return Err(format!(
                    "a fired moment names patron {}, and the image holds {patrons}",
                    old.moment.patron
                ));
            }
            let key = once_key(&old.key.rule, format_args!("{}", old.key.scope));
            // Only the last firing of a rule was kept: each of its moments gets that
            // time, which is all a cooldown reads.
            let at = self
                .last_fired
                .get(&(old.key.rule.clone(), old.moment.patron))
                .copied()
                .unwrap_or_default();
            let idx = ledger.fire(&old.moment, key, old.group.as_deref(), at);
            let holds_key = self.fired.contains(&old.key);
            if let Some(fired) = ledger.moments.get_mut(idx as usize) {
                fired.flags.set_standing(old.standing);
                fired.flags.set_holds_key(holds_key);
            }
        }
        // The index is rebuilt, with the keys held, when the image is loaded.
        Ok(ledger)
    }
}

#[cfg(test)]
mod tests {
    use super::{OnceKey, RECENT, Texts, once_key};

    /// Every kind, action, channel and standing, any priority and the purposes, packed
    /// into a moment's four bytes of flags, read back as they were, and changing the
    /// standing or the key held changes nothing else.
    #[test]
    fn moment_flags_read_back_every_value_packed() {
        use super::{
            Action, Channel, MomentFlags, MomentKind, PackedPurposes, Priority, Purpose, Standing,
        };
        let kinds = [
            MomentKind::Welcome,
            MomentKind::Celebration,
            MomentKind::Recognition,
            MomentKind::Operational,
            MomentKind::Marketing,
        ];
        let actions = [
            Action::SeatNote,
            Action::BoxOfficeAlert,
            Action::ScanAttention,
            Action::FrontOfHouse,
            Action::FollowUp,
        ];
        let channels = [
            None,
            Some(Channel::Email),
            Some(Channel::Sms),
            Some(Channel::Phone),
            Some(Channel::Post),
            Some(Channel::InPerson),
        ];
        let standings = [Standing::Active, Standing::Superseded, Standing::Retired];
        let purposes = PackedPurposes::pack(&[
            Purpose::Marketing,
            Purpose::Operational,
            Purpose::Personalisation,
        ]);
        for (i, &kind) in kinds.iter().enumerate() {
            for &action in &actions {
                for &channel in &channels {
                    for &standing in &standings {
                        for holds_key in [true, false] {
                            let priority = Priority(if i % 2 == 0 { 255 } else { i as u8 });
                            let mut flags = MomentFlags::pack(
                                kind, action, priority, channel, purposes, standing, holds_key,
                            );
                            assert_eq!(flags.kind(), kind);
                            assert_eq!(flags.action(), action);
                            assert_eq!(flags.priority(), priority);
                            assert_eq!(flags.channel(), channel);
                            assert_eq!(flags.purposes(), purposes);
                            assert_eq!(flags.standing(), standing);
                            assert_eq!(flags.holds_key(), holds_key);
                            flags.set_standing(Standing::Retired);
                            flags.set_holds_key(!holds_key);
                            assert_eq!(flags.standing(), Standing::Retired);
                            assert_eq!(flags.holds_key(), !holds_key);
                            assert_eq!(
                                (flags.kind(), flags.action(), flags.priority()),
                                (kind, action, priority)
                            );
                            assert_eq!((flags.channel(), flags.purposes()), (channel, purposes));
                        }
                    }
                }
            }
        }
    }

    /// A text interned again gets its first id, whether it is still among the recent
    /// ones or only in the table; different texts get different ids, in order.
    #[test]
    fn interning_gives_each_distinct_text_one_id() {
        let mut texts = Texts::default();
        let count = RECENT * 3;
        let ids: Vec<u32> = (0..count)
            .map(|i| texts.intern(&format!("attended {i} performance(s)")))
            .collect();
        assert_eq!(ids, (0..count as u32).collect::<Vec<_>>());
        // Long evicted from the recent ones (each slot was written about three times),
        // found in the table; then found among the recent ones.
        for _ in 0..2 {
            for (i, &id) in ids.iter().enumerate() {
                assert_eq!(texts.intern(&format!("attended {i} performance(s)")), id);
                assert_eq!(
                    texts.id_of(&format!("attended {i} performance(s)")),
                    Some(id)
                );
            }
        }
        assert_eq!(texts.all.len(), count);
        assert_eq!(texts.id_of("never said"), None);
        assert_eq!(texts.intern(""), count as u32);
        assert_eq!(texts.intern(""), count as u32);
    }

    /// Saved texts read back with the same ids, a repeated one (as older images may
    /// hold) keeping its first id while the later copy still reads back.
    #[test]
    fn texts_read_back_with_their_ids() {
        let saved = vec!["2nd visit to Hamlet", "First visit", "2nd visit to Hamlet"];
        let bytes = postcard::to_allocvec(&saved).expect("encodes");
        let mut texts: Texts = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(texts.all.len(), 3);
        assert_eq!(texts.get(2).map(|t| &**t), Some("2nd visit to Hamlet"));
        assert_eq!(texts.id_of("2nd visit to Hamlet"), Some(0));
        assert_eq!(texts.intern("First visit"), 1);
        assert_eq!(texts.intern("3rd visit to Hamlet"), 3);
        let again = postcard::to_allocvec(&texts).expect("encodes");
        assert_eq!(
            postcard::from_bytes::<Vec<String>>(&again).expect("decodes"),
            [
                "2nd visit to Hamlet",
                "First visit",
                "2nd visit to Hamlet",
                "3rd visit to Hamlet"
            ]
        );
    }

    /// The key of `rule`'s moment for the scope text made of `scope`, as the engine
    /// makes it: from the rule's key made once.
    fn once_key_of(rule: &str, scope: &[&str]) -> u64 {
        let made_once = OnceKey::new(rule);
        // Going on from a copy leaves the rule's key as it was for the next scope.
        let _ = made_once.with_scope(&["something else"]);
        made_once.with_scope(scope)
    }

    /// Keys are saved in snapshots: the one made from parts must be the formatted one.
    #[test]
    fn once_key_of_parts_is_the_formatted_key() {
        for (rule, performance) in [("repeat-production", "hamlet-3"), ("x", ""), ("", "é")] {
            assert_eq!(
                once_key_of(rule, &["performance ", performance]),
                once_key(rule, format_args!("performance {performance}"))
            );
            assert_eq!(
                once_key_of(rule, &[performance]),
                once_key(rule, format_args!("{performance}"))
            );
            assert_eq!(
                once_key_of(rule, &["production ", performance]),
                once_key(rule, format_args!("production {performance}"))
            );
        }
        assert_eq!(
            once_key_of("first-visit", &["patron"]),
            once_key("first-visit", format_args!("patron"))
        );
        assert_ne!(once_key_of("a", &["b"]), once_key_of("ab", &[""]));
    }

    /// Ticket ids, performances and seats are kept once in the ledger's tables and saved
    /// within each moment as the old shape saved them (the moment holding its ids, seat
    /// and key itself): the same bytes, read back to the same moments; forgetting a
    /// patron drops ticket ids only they named.
    #[test]
    fn moment_ids_and_seats_are_saved_within_their_moments_and_read_back() {
        use super::{Channel, MomentLedger, PackedPurposes, Standing, TextId};
        use crate::model::history::Seat;
        use crate::model::ids::{PatronId, PerformanceId, TicketId};
        use crate::moments::{Action, Moment, MomentKind, Priority};
        use chrono::{DateTime, Utc};
        use serde::Serialize;

        /// The fired moment as the ledger kept it before it held handles.
        #[derive(Serialize)]
        struct OldShape {
            patron: PatronId,
            #[serde(with = "crate::memory::binary_time::moment")]
            at: DateTime<Utc>,
            key: u64,
            performance: Option<PerformanceId>,
            ticket: Option<TicketId>,
            seat: Option<Seat>,
            rule: TextId,
            message: TextId,
            explanation: TextId,
            dedupe_key: TextId,
            group: TextId,
            kind: MomentKind,
            action: Action,
            priority: Priority,
            channel: Option<Channel>,
            purposes: PackedPurposes,
            standing: Standing,
            holds_key: bool,
        }

        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 5).unwrap();
        let (ana, ben) = (PatronId::from_u64(1), PatronId::from_u64(2));
        let mut ledger = MomentLedger::default();
        // Memory's tickets table: empty, so the ledger keeps every ticket id itself.
        let none = crate::model::ids::TextTable::<()>::default();
        let moment = |patron, ticket: Option<&str>, performance: Option<&str>, seat| {
            let mut moment = Moment::new(MomentKind::Welcome, Action::BoxOfficeAlert, "Hello");
            moment.patron = patron;
            if let Some(performance) = performance {
                moment = moment.for_performance(performance);
            }
            if let Some(seat) = seat {
                moment = moment.at_seat(Seat::new(seat).in_section("Stalls"));
            }
            match ticket {
                Some(ticket) => moment.for_ticket(ticket),
                None => moment,
            }
        };
        let fired = [
            moment(ana, Some("T-1"), Some("hamlet-1"), Some("F12")),
            moment(ben, Some("T-1"), Some("hamlet-1"), Some("F13")),
            moment(ben, Some("T-2"), Some("lear-1"), Some("F12")),
            moment(ana, None, None, None),
        ];
        // Keys with both halves set, so a swapped or dropped half shows.
        let key = |i: u64| 0x8123_4567_0000_0000 | (i << 40) | i;
        for (i, m) in (1..).zip(&fired) {
            ledger.fire(m, key(i), None, at);
        }
        assert_eq!(ledger.tickets.len(), 2);
        assert_eq!(ledger.performances.len(), 2);
        assert_eq!(ledger.seats.len(), 2);
        let moments = |ledger: &MomentLedger| -> Vec<Moment> {
            ledger
                .moments
                .iter()
                .map(|f| ledger.moment(f, &none))
                .collect()
        };
        let same = |got: &[Moment], expected: &[&Moment]| {
            assert_eq!(got.len(), expected.len());
            for (got, expected) in got.iter().zip(expected) {
                assert_eq!(got.patron(), expected.patron());
                assert_eq!(got.performance(), expected.performance());
                assert_eq!(got.ticket(), expected.ticket());
                assert_eq!(got.seat(), expected.seat());
                assert_eq!(got.message(), expected.message());
            }
        };
        same(&moments(&ledger), &fired.iter().collect::<Vec<_>>());

        // Snapshots before version 8: each moment with its ids and seat.
        let _with_ids = super::MomentsWithIds::start();
        let saved = postcard::to_allocvec(&ledger.image(&none)).unwrap();
        let old_shape: Vec<OldShape> = (1..)
            .zip(&fired)
            .zip(ledger.moments.iter())
            .map(|((i, m), f)| OldShape {
                patron: m.patron(),
                at,
                key: key(i),
                performance: m.performance().cloned(),
                ticket: m.ticket().cloned(),
                seat: m.seat().cloned(),
                rule: ledger.labels_of(f).rule,
                message: f.message,
                explanation: f.explanation,
                dedupe_key: ledger.labels_of(f).dedupe_key,
                group: ledger.labels_of(f).group,
                kind: m.kind(),
                action: m.action(),
                priority: m.priority(),
                channel: f.flags.channel(),
                purposes: f.flags.purposes(),
                standing: Standing::Active,
                holds_key: true,
            })
            .collect();
        assert_eq!(
            saved,
            postcard::to_allocvec(&(&ledger.texts, &old_shape)).unwrap()
        );
        let mut loaded: MomentLedger = postcard::from_bytes(&saved).unwrap();
        loaded.reindex(2).unwrap();
        same(&moments(&loaded), &fired.iter().collect::<Vec<_>>());
        assert_eq!(loaded.tickets.len(), 2);
        assert_eq!(postcard::to_allocvec(&loaded.image(&none)).unwrap(), saved);
        // The key halves read back whole: the keys are still held.
        assert!(loaded.has_fired(ana, key(1)) && loaded.has_fired(ana, key(4)));
        assert!(loaded.has_fired(ben, key(2)) && loaded.has_fired(ben, key(3)));
        assert!(!loaded.has_fired(ana, key(2)));
        // Moments at a performance are found by it, and by none when no moment names it.
        let hamlet = PerformanceId::new("hamlet-1");
        assert_eq!(loaded.of_visit(ben, Some(&hamlet)).count(), 1);
        assert_eq!(loaded.of_visit(ana, None).count(), 1);
        assert_eq!(
            loaded
                .of_visit(ana, Some(&PerformanceId::new("macbeth-1")))
                .count(),
            0
        );

        assert_eq!(loaded.forget(&[ben]), 2);
        same(&moments(&loaded), &[&fired[0], &fired[3]]);
        assert_eq!(loaded.tickets.len(), 1);
        drop(_with_ids);

        // Since version 8: the ids and seats once each, in the order moments first name
        // them, then the moments naming them by position.
        let saved = postcard::to_allocvec(&ledger.image(&none)).unwrap();
        let tabled: Vec<super::TabledMoment> = ledger
            .moments
            .iter()
            .zip([
                (Some(0), Some(0), Some(0)),
                (Some(0), Some(0), Some(1)),
                (Some(1), Some(1), Some(0)),
                (None, None, None),
            ])
            .map(|(f, (performance, ticket, seat))| {
                f.with_parts(ledger.labels_of(f), performance, ticket, seat)
            })
            .collect();
        let seat = |label| Seat::new(label).in_section("Stalls");
        assert_eq!(
            saved,
            postcard::to_allocvec(&(
                &ledger.texts,
                vec![("T-1", ()), ("T-2", ())],
                vec!["hamlet-1", "lear-1"],
                vec![seat("F12"), seat("F13")],
                &tabled
            ))
            .unwrap()
        );
        let mut loaded: MomentLedger = postcard::from_bytes(&saved).unwrap();
        loaded.reindex(2).unwrap();
        same(&moments(&loaded), &fired.iter().collect::<Vec<_>>());
        assert_eq!(postcard::to_allocvec(&loaded.image(&none)).unwrap(), saved);
        assert!(loaded.has_fired(ana, key(1)) && loaded.has_fired(ben, key(3)));
        assert_eq!(loaded.of_visit(ben, Some(&hamlet)).count(), 1);
        // After an erasure only what the remaining moments name is saved (the
        // performance and seat tables keep theirs): the bytes of a ledger that only
        // ever fired those.
        assert_eq!(loaded.forget(&[ben]), 2);
        let mut kept = MomentLedger::default();
        kept.fire(&fired[0], key(1), None, at);
        kept.fire(&fired[3], key(4), None, at);
        assert_eq!(
            postcard::to_allocvec(&loaded.image(&none)).unwrap(),
            postcard::to_allocvec(&kept.image(&none)).unwrap()
        );
        // A position past its table is refused, not read as none.
        let mut past = tabled.clone();
        past[0].ticket = Some(2);
        let forged = postcard::to_allocvec(&(
            &ledger.texts,
            vec![("T-1", ()), ("T-2", ())],
            vec!["hamlet-1", "lear-1"],
            vec![seat("F12"), seat("F13")],
            &past,
        ))
        .unwrap();
        assert!(postcard::from_bytes::<MomentLedger>(&forged).is_err());
        past[0].ticket = Some(u32::MAX);
        let forged = postcard::to_allocvec(&(
            &ledger.texts,
            vec![("T-1", ()), ("T-2", ())],
            vec!["hamlet-1", "lear-1"],
            vec![seat("F12"), seat("F13")],
            &past,
        ))
        .unwrap();
        assert!(postcard::from_bytes::<MomentLedger>(&forged).is_err());
        // A seat listed twice is refused.
        let forged = postcard::to_allocvec(&(
            &ledger.texts,
            vec![("T-1", ()), ("T-2", ())],
            vec!["hamlet-1", "lear-1"],
            vec![seat("F12"), seat("F12")],
            &tabled,
        ))
        .unwrap();
        assert!(postcard::from_bytes::<MomentLedger>(&forged).is_err());
    }

    /// A moment for a ticket memory holds names it by memory's handle, keeping no copy
    /// of its id; one for a ticket memory does not hold keeps the id itself. Either way
    /// it reads back the same ticket, is retired by a refund of it, and is saved in the
    /// bytes of a ledger that kept every id itself (so snapshots are unchanged); loaded
    /// and shared again, the copies go.
    #[test]
    fn tickets_memory_holds_are_named_by_its_handles_and_saved_as_before() {
        use super::{MomentLedger, Standing};
        use crate::model::ids::{PatronId, TextTable, TicketId};
        use crate::moments::{Action, Moment, MomentKind};
        use chrono::{DateTime, Utc};

        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let (ana, ben) = (PatronId::from_u64(1), PatronId::from_u64(2));
        let moment = |patron, ticket: &str| {
            let mut moment = Moment::new(MomentKind::Welcome, Action::BoxOfficeAlert, "Hello");
            moment.patron = patron;
            moment.for_ticket(ticket)
        };
        let mut memory = TextTable::<()>::default();
        memory.insert("T-1", ());
        memory.insert("T-2", ());
        let none = TextTable::<()>::default();
        // T-3 is not memory's yet when ben's moment for it fires, and is when ana's does.
        let fired = [
            moment(ana, "T-1"),
            moment(ben, "T-3"),
            moment(ben, "T-2"),
            moment(ana, "T-3"),
        ];
        let (mut shared, mut own) = (MomentLedger::default(), MomentLedger::default());
        for (i, m) in (1u64..).zip(&fired) {
            if i == 4 {
                memory.insert("T-3", ());
            }
            shared.fire_from(m, i, None, at, None, &memory);
            own.fire(m, i, None, at);
        }
        assert_eq!(
            shared.tickets.len(),
            1,
            "only T-3, filed before memory held it"
        );
        assert_eq!(own.tickets.len(), 3);
        let tickets = |ledger: &MomentLedger, memory: &TextTable<()>| -> Vec<Option<TicketId>> {
            ledger
                .moments
                .iter()
                .map(|f| ledger.moment(f, memory).ticket().cloned())
                .collect()
        };
        let expected: Vec<Option<TicketId>> = fired.iter().map(|m| m.ticket().cloned()).collect();
        assert_eq!(tickets(&shared, &memory), expected);
        for with_ids in [false, true] {
            let _with_ids = with_ids.then(super::MomentsWithIds::start);
            let saved = postcard::to_allocvec(&shared.image(&memory)).unwrap();
            assert_eq!(saved, postcard::to_allocvec(&own.image(&none)).unwrap());
            let mut loaded: MomentLedger = postcard::from_bytes(&saved).unwrap();
            loaded.reindex(2).unwrap();
            assert_eq!(loaded.tickets.len(), 3);
            loaded.share_tickets(&memory);
            assert_eq!(loaded.tickets.len(), 0, "memory holds every id");
            assert_eq!(tickets(&loaded, &memory), expected);
            assert_eq!(
                postcard::to_allocvec(&loaded.image(&memory)).unwrap(),
                saved
            );
        }

        // A refund of T-3 retires both its moments, named either way.
        shared.retire_tickets(ben, &[TicketId::new("T-3")], &memory);
        shared.retire_tickets(ana, &[TicketId::new("T-3")], &memory);
        let standings: Vec<Standing> = shared.moments.iter().map(|f| f.standing()).collect();
        use Standing::{Active, Retired};
        assert_eq!(standings, [Active, Retired, Active, Retired]);
        assert!(!shared.has_fired(ben, 2) && !shared.has_fired(ana, 4));
        assert!(shared.has_fired(ana, 1) && shared.has_fired(ben, 3));

        // Erasing ben drops his copy of T-3; ana's moments still read theirs.
        assert_eq!(shared.forget(&[ben]), 2);
        assert_eq!(shared.tickets.len(), 0);
        assert_eq!(
            tickets(&shared, &memory),
            [Some(TicketId::new("T-1")), Some(TicketId::new("T-3"))]
        );
    }

    /// A rule's moments share one entry of the labels table (rule id, group, dedupe
    /// key); each moment still reads back its own, finds its group and its rule's last
    /// firing, and keeps them through an erasure that renumbers the texts.
    #[test]
    fn moments_of_a_rule_share_their_labels() {
        use super::MomentLedger;
        use crate::model::ids::{PatronId, TextTable};
        use crate::moments::moment::Text;
        use crate::moments::{Action, Moment, MomentKind};
        use chrono::{DateTime, TimeDelta, Utc};

        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let moment = |rule: &str, patron: u64, dedupe: Option<&str>| {
            let mut moment = Moment::new(MomentKind::Welcome, Action::SeatNote, "Hello");
            moment.stamp(Text::Owned(rule.to_owned()), PatronId::from_u64(patron));
            match dedupe {
                Some(dedupe) => moment.dedupe_by(dedupe),
                None => moment,
            }
        };
        let none = TextTable::<()>::default();
        let mut ledger = MomentLedger::default();
        let fired = [
            (moment("welcome", 1, None), Some("greeting"), 0),
            (moment("welcome", 2, None), Some("greeting"), 0),
            (moment("birthday", 1, Some("birthday 2026")), None, 1),
            (moment("welcome", 3, None), Some("greeting"), 0),
            (moment("birthday", 2, Some("birthday 2027")), None, 1),
        ];
        for (i, (m, group, rule)) in (1u64..).zip(&fired) {
            let when = at + TimeDelta::days(i as i64);
            ledger.fire_from(m, i, *group, when, Some(*rule), &none);
        }
        assert_eq!(ledger.labels.len(), 3, "welcome, and birthday twice");
        let check = |ledger: &MomentLedger, kept: &[usize]| {
            let read: Vec<Moment> = ledger
                .moments
                .iter()
                .map(|f| ledger.moment(f, &none))
                .collect();
            assert_eq!(read.len(), kept.len());
            for (got, &i) in read.iter().zip(kept) {
                let (expected, group, _) = &fired[i];
                assert_eq!(got.rule(), expected.rule());
                assert_eq!(got.dedupe_key(), expected.dedupe_key());
                let f = ledger
                    .moments
                    .get(kept.iter().position(|&k| k == i).unwrap())
                    .unwrap();
                assert!(ledger.in_group(f, Some("greeting")) == group.is_some());
            }
        };
        check(&ledger, &[0, 1, 2, 3, 4]);
        let ben = PatronId::from_u64(2);
        assert_eq!(
            ledger.last_fired("birthday", ben),
            Some(at + TimeDelta::days(5))
        );
        assert_eq!(
            ledger.last_fired("welcome", ben),
            Some(at + TimeDelta::days(2))
        );
        assert_eq!(ledger.forget(&[PatronId::from_u64(1)]), 2);
        check(&ledger, &[1, 3, 4]);
        assert_eq!(ledger.labels.len(), 2);
        assert_eq!(
            ledger.last_fired("birthday", ben),
            Some(at + TimeDelta::days(5))
        );
    }
}
