//! Reading fired moments back: per patron, and as a brief for one performance.

use super::Memory;
use crate::error::{Error, Result, shown};
use crate::model::ids::{PatronId, TicketId};
use crate::moments::brief::{Brief, BriefEntry, BriefSection};
use crate::moments::ledger::{FiredMoment, Standing};
use crate::moments::{Moment, MomentKind};
use crate::pii::Pii;

use smallvec::SmallVec;

impl Memory {
    /// The moments fired for a patron (and anyone merged into them) that are still to be
    /// acted on, oldest first: not replaced by a higher-priority one, not for a refunded
    /// ticket.
    ///
    /// Memory keeps fired moments compactly and rebuilds each one as it is read; the
    /// moments share memory's copies of their texts, so reading them allocates little.
    ///
    /// ```
    /// use regulars::{Event, Memory, Order, Signals};
    /// let mut memory = Memory::new();
    /// let seen = memory.observe(Event::order("e-1", Order::new("o-1", Signals::new().email("ana@example.org"))))?;
    /// assert_eq!(memory.moments_of(seen.patron()).count(), seen.moments().len());
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn moments_of(&self, patron: PatronId) -> impl Iterator<Item = Moment> + '_ {
        let (ledger, tickets) = (&self.state.ledger, &self.state.tickets);
        self.active_fired(patron)
            .into_iter()
            .map(move |fired| ledger.moment(fired, tickets))
    }

    /// The fired moments of a patron and everyone merged into them that are still to be
    /// acted on, oldest first, as the ledger keeps them (read before building any).
    fn active_fired(&self, patron: PatronId) -> Vec<&FiredMoment> {
        let live = self.state.live(patron);
        let cluster = self.state.cluster(live);
        let ledger = &self.state.ledger;
        let mut moments: Vec<(u32, &FiredMoment)> = cluster
            .iter()
            .flat_map(|&member| ledger.of_patron(member))
            .filter(|(_, fired)| fired.standing() == Standing::Active)
            .collect();
        moments.sort_by_key(|&(i, _)| i);
        moments.into_iter().map(|(_, fired)| fired).collect()
    }

    /// How many (patron, time-based rule) pairs wait for [`tick`](Memory::tick).
    pub fn pending_ticks(&self) -> usize {
        self.state.ledger.due_count()
    }

    /// The brief for one performance: for everyone holding a ticket (not refunded), the
    /// moments to act on there, grouped by section and ordered by priority.
    ///
    /// Moments for the performance count, and so do operational ones without a
    /// performance (an access need the patron told the box office about). Errors for an
    /// unknown performance.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use regulars::{Event, Memory, Order, Performance, Production, Signals, Ticket, Venue};
    /// let mut memory = Memory::new();
    /// memory.define_venue(Venue::new("main", "Main House"))?;
    /// memory.define_production(Production::new("hamlet", "Hamlet"))?;
    /// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap()))?;
    /// let ana = Signals::new().given_name("Ana").email("ana@example.org");
    /// memory.observe(Event::order("e-1", Order::new("o-1", ana).ticket(Ticket::new("t-1", "hamlet-1").seat_label("F12"))))?;
    /// let brief = memory.brief("hamlet-1")?;
    /// assert_eq!(brief.entries().next().unwrap().name(), Some("Ana"));
    /// println!("{brief}");
    /// # Ok::<(), regulars::Error>(())
    /// ```
    pub fn brief(&self, performance: &str) -> Result<Brief> {
        let catalog = &self.state.catalog;
        let unknown = || Error::UnknownPerformance {
            location: "brief".to_owned(),
            performance: shown(performance),
        };
        let idx = catalog.performance_idx(performance).ok_or_else(unknown)?;
        let entry = catalog.performance_entry(idx).ok_or_else(unknown)?;
        let title = catalog
            .production_at(entry.production)
            .map(|p| p.title().to_owned())
            .unwrap_or_default();
        let this = entry.performance.id();
        let mut tickets = 0;
        let mut sections: Vec<BriefSection> = Vec::new();
        for ticket in entry
            .tickets
            .iter()
            .filter_map(|&ticket| super::TicketView::at(&self.state, ticket))
        {
            if ticket.is_refunded() {
                continue;
            }
            tickets += 1;
            let holder = ticket.holder();
            let ledger = &self.state.ledger;
            // Only the holder's moments at this performance and those at none are read
            // (the ledger's index tells them apart), in the order they fired.
            let cluster = self.state.cluster(self.state.live(holder));
            let mut fired: SmallVec<[(u32, &FiredMoment); 8]> = cluster
                .iter()
                .flat_map(|&member| {
                    ledger
                        .of_visit(member, Some(this))
                        .chain(ledger.of_visit(member, None))
                })
                .filter(|(_, fired)| fired.standing() == Standing::Active)
                .filter(|(_, m)| match m.has_performance() {
                    true => ledger
                        .ticket_of(m, &self.state.tickets)
                        .is_none_or(|t| t == ticket.id()),
                    false => m.kind() == MomentKind::Operational,
                })
                .collect();
            fired.sort_unstable_by_key(|&(i, _)| i);
            let mut moments: Vec<Moment> = fired
                .iter()
                .map(|&(_, fired)| ledger.moment(fired, &self.state.tickets))
                .collect();
            if moments.is_empty() {
                continue;
            }
            moments.sort_by_key(|m| std::cmp::Reverse(m.priority()));
            let name = self
                .patron(holder)
                .and_then(|p| p.latest_name().map(|n| n.display()))
                .filter(|n| !n.is_empty())
                .map(Pii::new);
            let seat = ticket.seat().cloned();
            let section = seat.as_ref().and_then(|s| s.section()).map(str::to_owned);
            let entry = BriefEntry {
                ticket: TicketId::from(ticket.id()),
                seat,
                patron: holder,
                name,
                moments,
            };
            match sections.iter_mut().find(|s| s.name == section) {
                Some(existing) => existing.entries.push(entry),
                None => sections.push(BriefSection {
                    name: section,
                    entries: vec![entry],
                }),
            }
        }
        // Named sections alphabetically, then the rest; within one, the most important
        // first, then by seat in natural order (A2 before A10).
        sections.sort_by(|a, b| match (&a.name, &b.name) {
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        for section in &mut sections {
            // Each entry's key worked out once, borrowing its labels; (key, position)
            // pairs are all distinct, so the order is the stable one.
            let mut order: Vec<_> = section
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let top = e.moments.first().map(Moment::priority);
                    ((std::cmp::Reverse(top), seat_order(e)), i)
                })
                .collect();
            order.sort_unstable();
            let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
            let mut entries: Vec<Option<BriefEntry>> = std::mem::take(&mut section.entries)
                .into_iter()
                .map(Some)
                .collect();
            section.entries = order
                .into_iter()
                .filter_map(|i| entries.get_mut(i).and_then(Option::take))
                .collect();
        }
        Ok(Brief {
            performance: this.clone(),
            title,
            starts_at: entry.performance.starts_at(),
            tickets,
            sections,
        })
    }
}

/// Sorts seat labels naturally: row letters, then the seat number as a number (its
/// first 18 digits), then the label; entries without a seat last, by ticket.
fn seat_order(entry: &BriefEntry) -> (bool, &str, u64, &str) {
    let Some(seat) = &entry.seat else {
        return (true, "", 0, entry.ticket.as_str());
    };
    let label = seat.label();
    let split = label
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(label.len());
    let (row, rest) = label.split_at(split);
    let number = rest
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(18)
        .fold(0u64, |n, digit| n * 10 + u64::from(digit - b'0'));
    (false, row, number, label)
}
