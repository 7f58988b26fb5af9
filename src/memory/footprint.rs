//! An account of what memory holds on the heap, structure by structure: the bytes in
//! use, the bytes reserved, and how many allocations hold them. A diagnostic walk over
//! everything memory keeps (it visits every patron: never on a hot path).

use std::fmt;

use smallvec::{Array, SmallVec};

use super::state::{PatronRecord, State};
use crate::model::history::{EntryKind, InteractionKind, OtherEntry, OtherRef};
use crate::model::ids::PatronId;
use crate::model::profile::FlagKind;

/// Bytes one structure of memory holds on the heap (see [`Footprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FootprintLine {
    structure: &'static str,
    used: u64,
    reserved: u64,
    allocations: u64,
    resident: u64,
}

impl FootprintLine {
    /// What the line counts (`"patrons: history entries"`).
    pub fn structure(&self) -> &'static str {
        self.structure
    }

    /// Bytes holding values: length × size, plus the text of owned strings.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Bytes asked of the allocator: capacity × size (hash tables: every bucket and its
    /// control byte), plus owned strings and boxes.
    pub fn reserved(&self) -> u64 {
        self.reserved
    }

    /// How many heap allocations hold them.
    pub fn allocations(&self) -> u64 {
        self.allocations
    }

    /// An estimate of the resident memory they take: each small allocation as a
    /// glibc-style allocator hands it out (rounded up to 16 bytes with an 8-byte header,
    /// 32 bytes at least); a large vector or string only up to the pages its values
    /// reach, since pages reserved and never written are not resident (hash tables count
    /// whole: they write all over their buckets).
    pub fn resident_estimate(&self) -> u64 {
        self.resident
    }
}

/// What memory holds on the heap, structure by structure, from
/// [`Memory::footprint`](crate::Memory::footprint).
///
/// A diagnostic: it walks every patron, so it costs as much as memory is large. Shared
/// values (identifier keys the index and the profile both point at, seats, product
/// codes) count once, where they are kept.
///
/// ```
/// let memory = regulars::Memory::new();
/// let footprint = memory.footprint();
/// assert!(footprint.total_reserved() >= footprint.total_used());
/// println!("{footprint}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    lines: Vec<FootprintLine>,
    patrons: usize,
}

impl Footprint {
    /// Each structure, in a fixed order.
    pub fn lines(&self) -> &[FootprintLine] {
        &self.lines
    }

    /// The line for a structure, by its name.
    pub fn line(&self, structure: &str) -> Option<&FootprintLine> {
        self.lines.iter().find(|line| line.structure == structure)
    }

    /// How many patrons memory knew (the per-patron figures divide by it; merged and
    /// erased patrons' slots are counted in the totals).
    pub fn patrons(&self) -> usize {
        self.patrons
    }

    /// Bytes holding values, over every structure.
    pub fn total_used(&self) -> u64 {
        self.lines.iter().map(|line| line.used).sum()
    }

    /// Bytes asked of the allocator, over every structure.
    pub fn total_reserved(&self) -> u64 {
        self.lines.iter().map(|line| line.reserved).sum()
    }

    /// Heap allocations, over every structure.
    pub fn total_allocations(&self) -> u64 {
        self.lines.iter().map(|line| line.allocations).sum()
    }

    /// The resident estimate (see [`FootprintLine::resident_estimate`]), over every
    /// structure.
    pub fn total_resident_estimate(&self) -> u64 {
        self.lines.iter().map(|line| line.resident).sum()
    }
}

impl fmt::Display for Footprint {
    /// A table: per structure, bytes per patron used, reserved and resident (an
    /// estimate), and allocations per patron.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = |bytes: u64| bytes as f64 / self.patrons.max(1) as f64;
        writeln!(
            f,
            "{:<40} {:>9} {:>9} {:>9} {:>8}",
            "bytes per patron", "used", "reserved", "resident", "allocs"
        )?;
        for line in &self.lines {
            writeln!(
                f,
                "{:<40} {:>9.1} {:>9.1} {:>9.1} {:>8.2}",
                line.structure,
                per(line.used),
                per(line.reserved),
                per(line.resident),
                per(line.allocations)
            )?;
        }
        write!(
            f,
            "{:<40} {:>9.1} {:>9.1} {:>9.1} {:>8.2}",
            format!("total ({} patrons)", self.patrons),
            per(self.total_used()),
            per(self.total_reserved()),
            per(self.total_resident_estimate()),
            per(self.total_allocations())
        )
    }
}

/// Allocations at least this large are served as whole pages (glibc's default
/// threshold for mapping them on their own).
const LARGE: usize = 128 * 1024;

/// A page of memory.
const PAGE: usize = 4096;

/// Bytes a glibc-style allocator takes for a request of `bytes`: an 8-byte header,
/// rounded up to 16, at least 32.
fn chunk(bytes: usize) -> u64 {
    if bytes == 0 {
        return 0;
    }
    ((bytes + 8).div_ceil(16) * 16).max(32) as u64
}

/// Buckets of a SwissTable (hashbrown, std's maps and sets) that holds `capacity`
/// items: at most seven eighths full, a power of two.
fn buckets(capacity: usize) -> usize {
    match capacity {
        0 => 0,
        1..8 => (capacity + 1).next_power_of_two(),
        _ => (capacity * 8 / 7).next_power_of_two(),
    }
}

/// The running count for one structure.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    used: u64,
    reserved: u64,
    allocations: u64,
    resident: u64,
}

impl Tally {
    /// One heap allocation of `reserved` bytes, `used` of them holding values, all of it
    /// written.
    pub(crate) fn block(&mut self, used: usize, reserved: usize) {
        if reserved == 0 {
            return;
        }
        self.used += used as u64;
        self.reserved += reserved as u64;
        self.allocations += 1;
        self.resident += chunk(reserved);
    }

    /// One heap allocation written only as far as its values reach (a vector's buffer):
    /// a large one is resident only up to the page of its last value.
    pub(crate) fn filled(&mut self, used: usize, reserved: usize) {
        if reserved < LARGE {
            return self.block(used, reserved);
        }
        self.used += used as u64;
        self.reserved += reserved as u64;
        self.allocations += 1;
        self.resident += used.div_ceil(PAGE) as u64 * PAGE as u64;
    }

    /// A vector's buffer.
    pub(crate) fn vec<T>(&mut self, list: &Vec<T>) {
        let size = size_of::<T>();
        self.filled(list.len() * size, list.capacity() * size);
    }

    /// A vector's buffer in which only `used` of its `written` bytes hold values: the
    /// rest are places kept free for reuse (written, so resident, but holding nothing).
    pub(crate) fn with_holes(&mut self, used: usize, written: usize, reserved: usize) {
        self.filled(written, reserved);
        self.used = self
            .used
            .saturating_sub(written.saturating_sub(used) as u64);
    }

    /// A small vector's buffer, once it spilled to the heap.
    pub(crate) fn small<A: Array>(&mut self, list: &SmallVec<A>) {
        if list.spilled() {
            let size = size_of::<A::Item>();
            self.block(list.len() * size, list.capacity() * size);
        }
    }

    /// An owned string (boxed or not: `capacity` is its length when boxed).
    pub(crate) fn text(&mut self, len: usize, capacity: usize) {
        self.filled(len, capacity);
    }

    /// A shared string (`Arc<str>`): two counters before the text.
    pub(crate) fn shared_text(&mut self, len: usize) {
        self.block(len, len + 16);
    }

    /// A SwissTable's one allocation: every bucket, a control byte each and a group's
    /// worth more.
    pub(crate) fn table(&mut self, len: usize, capacity: usize, item: usize) {
        let buckets = buckets(capacity);
        if buckets == 0 {
            return;
        }
        let data = (buckets * item).div_ceil(16) * 16;
        self.block(len * item, data + buckets + 16);
    }

    /// A B-tree's nodes, estimated: eleven entries a node, about two thirds full.
    pub(crate) fn btree(&mut self, len: usize, entry: usize) {
        if len == 0 {
            return;
        }
        let nodes = len.div_ceil(7);
        let node = 11 * entry + 16;
        self.used += (len * entry) as u64;
        self.reserved += (nodes * node) as u64;
        self.allocations += nodes as u64;
        self.resident += nodes as u64 * chunk(node);
    }

    /// Adds what another count holds.
    pub(crate) fn add(&mut self, other: Tally) {
        self.used += other.used;
        self.reserved += other.reserved;
        self.allocations += other.allocations;
        self.resident += other.resident;
    }
}

/// Collects the lines of a [`Footprint`].
#[derive(Debug, Default)]
pub(crate) struct Account {
    lines: Vec<FootprintLine>,
}

impl Account {
    /// Adds a line (or adds to the line of that name).
    pub(crate) fn line(&mut self, structure: &'static str, tally: Tally) {
        match self.lines.iter_mut().find(|l| l.structure == structure) {
            Some(line) => {
                line.used += tally.used;
                line.reserved += tally.reserved;
                line.allocations += tally.allocations;
                line.resident += tally.resident;
            }
            None => self.lines.push(FootprintLine {
                structure,
                used: tally.used,
                reserved: tally.reserved,
                allocations: tally.allocations,
                resident: tally.resident,
            }),
        }
    }

    pub(crate) fn finish(self, patrons: usize) -> Footprint {
        Footprint {
            lines: self.lines,
            patrons,
        }
    }
}

/// The walk over everything memory keeps.
impl State {
    /// The account, per patron over `patrons` (memory's count of live patrons).
    pub(crate) fn footprint(&self, patrons: usize) -> Footprint {
        let mut account = Account::default();
        let mut records = Tally::default();
        self.patrons.tally(&mut records);
        account.line("patrons: records", records);
        let mut lines = PatronLines::default();
        for record in &self.patrons {
            lines.add(record);
        }
        lines.into_account(&mut account);

        let mut tally = Tally::default();
        self.tally_identifier_index(&mut tally);
        account.line("identifier index", tally);
        let mut tally = Tally::default();
        self.tally_blocking_index(&mut tally);
        account.line("blocking index", tally);
        let mut tally = Tally::default();
        self.slots.tally(&mut tally);
        account.line("patron slots (derived)", tally);
        let mut tally = Tally::default();
        self.tally_comparison_keys(&mut tally);
        account.line("comparison keys (derived)", tally);
        let mut tally = Tally::default();
        self.tally_neutralized(&mut tally);
        account.line("neutralized identifiers", tally);

        let mut tally = Tally::default();
        self.tickets.tally(&mut tally);
        // The distinct prices tickets name by number: part of how tickets are kept.
        self.prices.tally(&mut tally);
        account.line("tickets table", tally);
        let mut tally = Tally::default();
        self.seats.tally(&mut tally);
        for seat in self.seats.iter() {
            // The shared parts: two counters, an optional section and a label.
            tally.block(48, 48);
            tally.text(seat.label().len(), seat.label().len());
            if let Some(section) = seat.section() {
                tally.text(section.len(), section.len());
            }
        }
        account.line("seats (shared)", tally);
        let mut tally = Tally::default();
        self.orders.tally(&mut tally);
        account.line("orders table", tally);
        let mut tally = Tally::default();
        self.events.tally(&mut tally);
        account.line("events table", tally);
        let mut tally = Tally::default();
        self.scans.tally(&mut tally);
        account.line("scans table", tally);
        let mut tally = Tally::default();
        tally.table(self.skus.len(), self.skus.capacity(), 16);
        for sku in &self.skus {
            tally.shared_text(sku.len());
        }
        account.line("product codes (shared)", tally);

        let (mut tickets, mut rest) = (Tally::default(), Tally::default());
        self.catalog.tally(&mut tickets, &mut rest);
        account.line("catalog: tickets per performance", tickets);
        account.line("catalog: the rest", rest);

        let mut moments = Tally::default();
        let mut by_patron = Tally::default();
        let mut due = Tally::default();
        let mut texts = Tally::default();
        self.ledger
            .tally(&mut moments, &mut by_patron, &mut due, &mut texts);
        account.line("moments: fired", moments);
        account.line("moments: per-patron index", by_patron);
        account.line("moments: due times", due);
        account.line("moments: texts", texts);

        let (merges, links, reviews) = self.tally_identity();
        account.line("identity: merge records", merges);
        account.line("identity: pins and change feed", links);
        account.line("identity: review queue", reviews);
        let mut tally = Tally::default();
        tally.btree(self.privacy.erased.len(), 8);
        tally.btree(self.privacy.opted_out.len(), 8);
        account.line("privacy", tally);
        account.finish(patrons)
    }

    /// The merge records, the pins and change feed, and the review queue.
    fn tally_identity(&self) -> (Tally, Tally, Tally) {
        let identity = &self.identity;
        let mut tally = Tally::default();
        tally.btree(
            identity.merges.len(),
            8 + size_of::<super::identity::MergeRecord>(),
        );
        for merge in identity.merges.values() {
            // What is kept of the survivor as it was: its lists, counted as a patron's.
            let mut lines = PatronLines::default();
            lines.add_survivor_before(&merge.survivor_before);
            let kept = size_of::<super::identity::SurvivorBefore>();
            tally.block(kept, kept);
            tally.add(lines.total());
        }
        let merges = std::mem::take(&mut tally);
        let pair = size_of::<(PatronId, PatronId)>();
        tally.table(identity.apart.len(), identity.apart.capacity(), pair);
        tally.table(identity.together.len(), identity.together.capacity(), pair);
        tally.vec(&identity.changes);
        let links = std::mem::take(&mut tally);
        tally.btree(identity.reviews.len(), 8 + size_of::<crate::ReviewItem>());
        for item in identity.reviews.values() {
            tally.shared_text(item.event().as_str().len());
            let candidates = size_of_val(item.candidates());
            tally.block(candidates, candidates);
            for candidate in item.candidates() {
                // Evidence keeps ten items inline; more spill to the heap (the items'
                // own detail texts are mostly static and not counted).
                let items = candidate.evidence().items();
                if items.len() > 10 {
                    let size = size_of_val(items);
                    tally.block(size, size);
                }
            }
        }
        if let Some(by_patron) = &identity.reviews_by_patron {
            let item = size_of::<PatronId>() + size_of::<SmallVec<[u64; 2]>>();
            tally.table(by_patron.len(), by_patron.capacity(), item);
            for items in by_patron.values() {
                tally.small(items);
            }
        }
        (merges, links, tally)
    }
}

/// What the patrons' records own, by kind.
#[derive(Debug, Default)]
struct PatronLines {
    names: Tally,
    identifiers: Tally,
    addresses: Tally,
    rare_profile: Tally,
    history: Tally,
    history_boxed: Tally,
    stats: Tally,
    attendance: Tally,
    held: Tally,
    links: Tally,
}

impl PatronLines {
    fn add(&mut self, record: &PatronRecord) {
        self.add_profile(&record.profile);
        self.add_history(&record.history);

        let stats = &record.stats;
        stats.tally(&mut self.stats);

        record.attendance.tally(&mut self.attendance);
        record.held.tally(&mut self.held);
        record.absorbed.tally(&mut self.links);
        record.household.tally(&mut self.links);
    }

    /// A survivor's copy kept for a split: its profile, history and household links.
    fn add_survivor_before(&mut self, before: &super::identity::SurvivorBefore) {
        self.add_profile(&before.profile);
        self.add_history(&before.history);
        before.household.tally(&mut self.links);
    }

    fn add_profile(&mut self, profile: &crate::model::profile::Profile) {
        self.names.vec(&profile.names);
        for name in &profile.names {
            if let Some(len) = name.spilled_len() {
                self.names.text(len, len);
            }
        }
        self.identifiers.vec(&profile.identifiers);
        for identifier in &profile.identifiers {
            if let Some(len) = identifier.spilled_len() {
                self.identifiers.shared_text(len);
            }
        }
        self.addresses.vec(&profile.addresses);
        for address in &profile.addresses {
            let parts = [address.street(), address.postcode(), address.city()];
            let len: usize = parts.iter().flatten().map(|part| part.len()).sum();
            self.addresses.text(len, len);
        }
        profile.preferences.tally(&mut self.rare_profile);
        profile.consents.tally(&mut self.rare_profile);
        profile.flags.tally(&mut self.rare_profile);
        for flag in profile.flags.iter() {
            if let FlagKind::Custom(kind) = flag.kind() {
                self.rare_profile.text(kind.len(), kind.capacity());
            }
            if let Some(detail) = flag.detail_text() {
                self.rare_profile.text(detail.len(), detail.len());
            }
        }
        profile.notes.tally(&mut self.rare_profile);
        for note in profile.notes.iter() {
            self.rare_profile.text(note.text().len(), note.text().len());
            if let Some(author) = note.author() {
                self.rare_profile.text(author.len(), author.len());
            }
        }
    }

    fn add_history(&mut self, history: &Vec<crate::model::history::Entry>) {
        self.history.vec(history);
        for entry in history.iter().filter(|entry| entry.is_boxed()) {
            let boxed = size_of::<OtherEntry>();
            self.history_boxed.block(boxed, boxed);
            match entry.kind() {
                // Performance ids and product codes are shared.
                EntryKind::Other(OtherRef::Purchased { items, .. }) => {
                    let bytes = size_of_val(items);
                    self.history_boxed.block(bytes, bytes);
                }
                kind => {
                    // Every other kind is whole in a second box.
                    let whole = size_of::<EntryKind>();
                    self.history_boxed.block(whole, whole);
                    if let EntryKind::Other(OtherRef::Whole(kind)) = kind {
                        tally_kind(kind, &mut self.history_boxed);
                    }
                }
            }
        }
    }

    fn total(&self) -> Tally {
        let mut total = Tally::default();
        for tally in [
            self.names,
            self.identifiers,
            self.addresses,
            self.rare_profile,
            self.history,
            self.history_boxed,
            self.stats,
            self.attendance,
            self.held,
            self.links,
        ] {
            total.add(tally);
        }
        total
    }

    fn into_account(self, account: &mut Account) {
        account.line("patrons: names", self.names);
        account.line("patrons: identifiers (shared with index)", self.identifiers);
        account.line("patrons: addresses", self.addresses);
        account.line(
            "patrons: preferences, consents, flags, notes",
            self.rare_profile,
        );
        account.line("patrons: history entries", self.history);
        account.line("patrons: boxed history entries", self.history_boxed);
        account.line("patrons: stats lists", self.stats);
        account.line("patrons: genres, visits, attended", self.attendance);
        account.line("patrons: held tickets (derived)", self.held);
        account.line("patrons: absorbed, household", self.links);
    }
}

/// What an interaction kind owns beyond its own bytes (ids count as their own copies).
fn tally_kind(kind: &InteractionKind, tally: &mut Tally) {
    match kind {
        InteractionKind::Ordered { order, amount, .. } => {
            tally.shared_text(order.as_str().len());
            tally.vec(amount);
        }
        InteractionKind::Ticketed {
            ticket,
            performance,
            order,
            ..
        } => {
            tally.shared_text(ticket.as_str().len());
            tally.shared_text(performance.as_str().len());
            tally.shared_text(order.as_str().len());
        }
        InteractionKind::Scanned {
            ticket,
            performance,
            ..
        } => {
            tally.shared_text(ticket.as_str().len());
            tally.shared_text(performance.as_str().len());
        }
        InteractionKind::Refunded { order, tickets, .. } => {
            tally.shared_text(order.as_str().len());
            tally.vec(tickets);
            for ticket in tickets {
                tally.shared_text(ticket.as_str().len());
            }
        }
        InteractionKind::Donated { fund, .. } => {
            if let Some(fund) = fund {
                tally.text(fund.len(), fund.capacity());
            }
        }
        InteractionKind::Membership { scheme, .. } => {
            tally.text(scheme.len(), scheme.capacity());
        }
        // Performance ids and product codes are shared.
        InteractionKind::Purchased { items, .. } => tally.vec(items),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_chunks_round_up_with_a_header() {
        assert_eq!(chunk(0), 0);
        assert_eq!(chunk(1), 32);
        assert_eq!(chunk(24), 32);
        assert_eq!(chunk(25), 48);
        assert_eq!(chunk(40), 48);
    }

    #[test]
    fn tables_hold_a_power_of_two_buckets_at_most_seven_eighths_full() {
        assert_eq!(buckets(0), 0);
        assert_eq!(buckets(3), 4);
        assert_eq!(buckets(7), 8);
        assert_eq!(buckets(14), 16);
        assert_eq!(buckets(28), 32);
        let mut table = std::collections::HashSet::<u64>::new();
        for i in 0..1000 {
            table.insert(i);
            assert!(buckets(table.capacity()) * 7 / 8 >= table.len());
        }
    }
}
