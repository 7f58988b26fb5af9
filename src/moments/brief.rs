//! Briefs: the moments to act on at one performance, for front-of-house staff.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Moment;
use crate::model::history::Seat;
use crate::model::ids::{PatronId, PerformanceId, TicketId};
use crate::pii::Pii;

/// Everything staff should act on at one performance: for each ticket holder with active
/// moments, those moments, grouped by section and ordered by priority. Built by
/// [`Memory::brief`](crate::Memory::brief); `Display` renders it as plain text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Brief {
    pub(crate) performance: PerformanceId,
    pub(crate) title: String,
    pub(crate) starts_at: DateTime<Utc>,
    pub(crate) tickets: usize,
    pub(crate) sections: Vec<BriefSection>,
}

impl Brief {
    /// The performance.
    pub fn performance(&self) -> &PerformanceId {
        &self.performance
    }
    /// The production's title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// When it starts.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }
    /// How many tickets (not refunded) the performance has.
    pub fn tickets(&self) -> usize {
        self.tickets
    }
    /// Sections in name order; seats without a section and unseated tickets last, as the
    /// section with no name ("House" in the text).
    pub fn sections(&self) -> &[BriefSection] {
        &self.sections
    }
    /// Every entry, section by section.
    pub fn entries(&self) -> impl Iterator<Item = &BriefEntry> {
        self.sections.iter().flat_map(|s| s.entries.iter())
    }
    /// How many moments in all.
    pub fn moment_count(&self) -> usize {
        self.entries().map(|e| e.moments.len()).sum()
    }
}

/// The entries of one section of the house.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BriefSection {
    pub(crate) name: Option<String>,
    pub(crate) entries: Vec<BriefEntry>,
}

impl BriefSection {
    /// The section's name; `None` for seats without a section and unseated tickets.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Its entries, the most important first (then by seat).
    pub fn entries(&self) -> &[BriefEntry] {
        &self.entries
    }
}

/// One ticket holder and the moments to act on for them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BriefEntry {
    pub(crate) ticket: TicketId,
    pub(crate) seat: Option<Seat>,
    pub(crate) patron: PatronId,
    pub(crate) name: Option<Pii>,
    pub(crate) moments: Vec<Moment>,
}

impl BriefEntry {
    /// Their ticket.
    pub fn ticket(&self) -> &TicketId {
        &self.ticket
    }
    /// Their seat, if assigned.
    pub fn seat(&self) -> Option<&Seat> {
        self.seat.as_ref()
    }
    /// Who they are.
    pub fn patron(&self) -> PatronId {
        self.patron
    }
    /// Their latest name, for staff.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The moments, highest priority first.
    pub fn moments(&self) -> &[Moment] {
        &self.moments
    }
}

impl fmt::Display for Brief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Brief for {} ({}), {}",
            self.title,
            self.performance,
            self.starts_at.format("%a %-d %b %Y %H:%M UTC")
        )?;
        let people: usize = self.sections.iter().map(|s| s.entries.len()).sum();
        writeln!(
            f,
            "{} tickets; {} moments for {} people",
            self.tickets,
            self.moment_count(),
            people
        )?;
        for section in &self.sections {
            writeln!(f)?;
            writeln!(f, "{}", section.name.as_deref().unwrap_or("House"))?;
            for entry in &section.entries {
                let seat = entry.seat.as_ref().map_or("-", Seat::label);
                let name = entry.name.as_deref().unwrap_or("(no name)");
                for (i, moment) in entry.moments.iter().enumerate() {
                    if i == 0 {
                        write!(f, "  {seat:<6} {:<24}", truncate(name, 24))?;
                    } else {
                        write!(f, "  {:<6} {:<24}", "", "")?;
                    }
                    writeln!(f, " {} [{}]", moment.message(), moment.rule())?;
                }
            }
        }
        Ok(())
    }
}

/// At most `max` characters, so a hostile name cannot break the layout.
fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
