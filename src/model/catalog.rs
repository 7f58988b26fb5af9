//! What a venue sells: venues, productions and their performances.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{PerformanceId, ProductionId, VenueId};

/// A place where performances happen.
///
/// ```
/// use regulars::Venue;
/// let venue = Venue::new("main", "Main House");
/// assert_eq!(venue.name(), "Main House");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Venue {
    id: VenueId,
    name: String,
}

impl Venue {
    /// A venue with the vendor's id and a display name.
    pub fn new(id: impl Into<VenueId>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
    /// The vendor's id.
    pub fn id(&self) -> &VenueId {
        &self.id
    }
    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A show, whatever its dates: "Hamlet", "The Nutcracker 2026".
///
/// ```
/// use regulars::Production;
/// let hamlet = Production::new("hamlet", "Hamlet").genre("Drama").genre("Classics");
/// assert_eq!(hamlet.genres(), ["drama", "classics"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Production {
    id: ProductionId,
    title: String,
    genres: Vec<String>,
}

impl Production {
    /// A production with the vendor's id and its title.
    pub fn new(id: impl Into<ProductionId>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            genres: Vec::new(),
        }
    }
    /// Adds a genre; genres are compared trimmed and lower-cased.
    #[must_use]
    pub fn genre(mut self, genre: impl AsRef<str>) -> Self {
        let genre = genre.as_ref().trim().to_lowercase();
        if !self.genres.contains(&genre) {
            self.genres.push(genre);
        }
        self
    }
    /// The vendor's id.
    pub fn id(&self) -> &ProductionId {
        &self.id
    }
    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The genres, lower-cased, in the order given.
    pub fn genres(&self) -> &[String] {
        &self.genres
    }
}

/// One performance of a production at a venue.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::Performance;
/// let opening = Performance::new("hamlet-1", "hamlet", "main", Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap());
/// assert_eq!(opening.production().as_str(), "hamlet");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Performance {
    id: PerformanceId,
    production: ProductionId,
    venue: VenueId,
    starts_at: DateTime<Utc>,
}

impl Performance {
    /// A performance of `production` at `venue`, starting at `starts_at`.
    pub fn new(
        id: impl Into<PerformanceId>,
        production: impl Into<ProductionId>,
        venue: impl Into<VenueId>,
        starts_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.into(),
            production: production.into(),
            venue: venue.into(),
            starts_at,
        }
    }
    /// The vendor's id.
    pub fn id(&self) -> &PerformanceId {
        &self.id
    }
    /// The production performed.
    pub fn production(&self) -> &ProductionId {
        &self.production
    }
    /// The venue.
    pub fn venue(&self) -> &VenueId {
        &self.venue
    }
    /// When the curtain goes up.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }
}

/// Dense index of a production inside the catalog.
pub(crate) type ProductionIdx = u32;
/// Dense index of a performance inside the catalog.
pub(crate) type PerformanceIdx = u32;
/// Dense index of a genre inside the catalog.
pub(crate) type GenreIdx = u32;

/// Everything the memory knows about what is on: venues, productions, performances.
///
/// Read it through [`Memory::catalog`](crate::Memory::catalog); change it through
/// [`Memory::define_venue`](crate::Memory::define_venue) and its siblings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "CatalogData")]
pub struct Catalog {
    venues: Vec<Venue>,
    productions: Vec<ProductionEntry>,
    performances: Vec<PerformanceEntry>,
    genres: Vec<String>,
    #[serde(skip)]
    lookup: Lookup,
}

/// The serialized form of a catalog: everything but the lookup tables, which are rebuilt.
#[derive(Deserialize)]
struct CatalogData<P = PerformanceEntry> {
    venues: Vec<Venue>,
    productions: Vec<ProductionEntry>,
    performances: Vec<P>,
    genres: Vec<String>,
}

/// A catalog as snapshots before version 5 saved it: each performance with the ids of
/// its tickets, which memory now derives from its tickets table.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct CatalogWithTickets(CatalogData<PerformanceWithTickets>);

#[derive(Deserialize)]
struct PerformanceWithTickets {
    performance: Performance,
    production: ProductionIdx,
    _tickets: Vec<super::ids::TicketId>,
}

impl Catalog {
    /// The catalog as version 4 snapshots saved it, each performance with its tickets'
    /// ids (`id_of` names a ticket handle), to check that such images still load.
    #[cfg(test)]
    pub(crate) fn saved_with_ticket_ids(
        &self,
        id_of: impl Fn(super::ids::Handle) -> Option<super::ids::TicketId>,
    ) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Saved<'a> {
            venues: &'a [Venue],
            productions: &'a [ProductionEntry],
            performances: Vec<SavedPerformance<'a>>,
            genres: &'a [String],
        }
        #[derive(Serialize)]
        struct SavedPerformance<'a> {
            performance: &'a Performance,
            production: ProductionIdx,
            tickets: Vec<super::ids::TicketId>,
        }
        Saved {
            venues: &self.venues,
            productions: &self.productions,
            performances: self
                .performances
                .iter()
                .map(|entry| SavedPerformance {
                    performance: &entry.performance,
                    production: entry.production,
                    tickets: entry.tickets.iter().filter_map(|&h| id_of(h)).collect(),
                })
                .collect(),
            genres: &self.genres,
        }
    }
}

impl From<CatalogWithTickets> for Catalog {
    fn from(CatalogWithTickets(data): CatalogWithTickets) -> Self {
        Self::from(CatalogData {
            venues: data.venues,
            productions: data.productions,
            performances: data
                .performances
                .into_iter()
                .map(|p| PerformanceEntry {
                    performance: p.performance,
                    production: p.production,
                    tickets: Vec::new(),
                })
                .collect(),
            genres: data.genres,
        })
    }
}

impl From<CatalogData> for Catalog {
    fn from(data: CatalogData) -> Self {
        let index = |i: usize| i as u32;
        let lookup = Lookup {
            venues: data
                .venues
                .iter()
                .enumerate()
                .map(|(i, v)| (v.id.clone(), index(i)))
                .collect(),
            productions: data
                .productions
                .iter()
                .enumerate()
                .map(|(i, p)| (p.production.id.clone(), index(i)))
                .collect(),
            performances: data
                .performances
                .iter()
                .enumerate()
                .map(|(i, p)| (p.performance.id.clone(), index(i)))
                .collect(),
            genres: data
                .genres
                .iter()
                .enumerate()
                .map(|(i, g)| (g.clone(), index(i)))
                .collect(),
        };
        Self {
            venues: data.venues,
            productions: data.productions,
            performances: data.performances,
            genres: data.genres,
            lookup,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ProductionEntry {
    pub(crate) production: Production,
    pub(crate) genres: Vec<GenreIdx>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PerformanceEntry {
    pub(crate) performance: Performance,
    pub(crate) production: ProductionIdx,
    /// Tickets issued for this performance (handles in the tickets table), in issue
    /// order. Derived: rebuilt from the tickets table when a snapshot loads.
    #[serde(skip)]
    pub(crate) tickets: Vec<super::ids::Handle>,
}

#[derive(Clone, Debug, Default)]
struct Lookup {
    venues: HashMap<VenueId, u32, ahash::RandomState>,
    productions: HashMap<ProductionId, ProductionIdx, ahash::RandomState>,
    performances: HashMap<PerformanceId, PerformanceIdx, ahash::RandomState>,
    genres: HashMap<String, GenreIdx, ahash::RandomState>,
}

impl Catalog {
    /// Counts the tickets filed per performance into `tickets` and the rest of the
    /// catalog into `rest` (see [`Footprint`](crate::Footprint)); ids count at their
    /// length plus a shared string's counters, wherever they are shared.
    pub(crate) fn tally(
        &self,
        tickets: &mut crate::memory::footprint::Tally,
        rest: &mut crate::memory::footprint::Tally,
    ) {
        rest.vec(&self.venues);
        for venue in &self.venues {
            rest.shared_text(venue.id.as_str().len());
            rest.text(venue.name.len(), venue.name.capacity());
        }
        rest.vec(&self.productions);
        for entry in &self.productions {
            let production = &entry.production;
            rest.shared_text(production.id.as_str().len());
            rest.text(production.title.len(), production.title.capacity());
            rest.vec(&production.genres);
            for genre in &production.genres {
                rest.text(genre.len(), genre.capacity());
            }
            rest.vec(&entry.genres);
        }
        rest.vec(&self.performances);
        for entry in &self.performances {
            rest.shared_text(entry.performance.id.as_str().len());
            tickets.vec(&entry.tickets);
        }
        rest.vec(&self.genres);
        for genre in &self.genres {
            rest.text(genre.len(), genre.capacity());
        }
        let lookup = &self.lookup;
        let pair = |k: usize, v: usize| k + v.max(4);
        rest.table(lookup.venues.len(), lookup.venues.capacity(), pair(8, 4));
        rest.table(
            lookup.productions.len(),
            lookup.productions.capacity(),
            pair(8, 4),
        );
        rest.table(
            lookup.performances.len(),
            lookup.performances.capacity(),
            pair(8, 4),
        );
        rest.table(lookup.genres.len(), lookup.genres.capacity(), pair(24, 8));
    }
}

impl Catalog {
    /// The venue with this id.
    pub fn venue(&self, id: &str) -> Option<&Venue> {
        let idx = *self.lookup.venues.get(id)?;
        self.venues.get(idx as usize)
    }

    /// The production with this id.
    pub fn production(&self, id: &str) -> Option<&Production> {
        let idx = *self.lookup.productions.get(id)?;
        self.production_at(idx)
    }

    /// The performance with this id.
    pub fn performance(&self, id: &str) -> Option<&Performance> {
        let idx = *self.lookup.performances.get(id)?;
        self.performances
            .get(idx as usize)
            .map(|entry| &entry.performance)
    }

    /// The production a performance belongs to.
    pub fn production_of(&self, performance: &Performance) -> Option<&Production> {
        self.production(performance.production().as_str())
    }

    /// All venues, in the order defined.
    pub fn venues(&self) -> impl Iterator<Item = &Venue> {
        self.venues.iter()
    }

    /// All productions, in the order defined.
    pub fn productions(&self) -> impl Iterator<Item = &Production> {
        self.productions.iter().map(|e| &e.production)
    }

    /// All performances, in the order defined.
    pub fn performances(&self) -> impl Iterator<Item = &Performance> {
        self.performances.iter().map(|e| &e.performance)
    }

    pub(crate) fn production_at(&self, idx: ProductionIdx) -> Option<&Production> {
        self.productions.get(idx as usize).map(|e| &e.production)
    }

    pub(crate) fn production_idx(&self, id: &str) -> Option<ProductionIdx> {
        self.lookup.productions.get(id).copied()
    }

    pub(crate) fn performance_idx(&self, id: &str) -> Option<PerformanceIdx> {
        self.lookup.performances.get(id).copied()
    }

    pub(crate) fn performance_entry(&self, idx: PerformanceIdx) -> Option<&PerformanceEntry> {
        self.performances.get(idx as usize)
    }

    pub(crate) fn performance_entry_mut(
        &mut self,
        idx: PerformanceIdx,
    ) -> Option<&mut PerformanceEntry> {
        self.performances.get_mut(idx as usize)
    }

    pub(crate) fn genres_of(&self, production: ProductionIdx) -> &[GenreIdx] {
        self.productions
            .get(production as usize)
            .map_or(&[], |e| e.genres.as_slice())
    }

    pub(crate) fn genre_idx(&self, genre: &str) -> Option<GenreIdx> {
        self.lookup.genres.get(genre).copied()
    }

    pub(crate) fn genre_name(&self, idx: GenreIdx) -> Option<&str> {
        self.genres.get(idx as usize).map(String::as_str)
    }

    pub(crate) fn has_venue(&self, id: &str) -> bool {
        self.lookup.venues.contains_key(id)
    }

    /// Adds or replaces a venue.
    pub(crate) fn upsert_venue(&mut self, venue: Venue) {
        match self.lookup.venues.get(venue.id().as_str()) {
            Some(&idx) => self.venues[idx as usize] = venue,
            None => {
                self.lookup
                    .venues
                    .insert(venue.id().clone(), self.venues.len() as u32);
                self.venues.push(venue);
            }
        }
    }

    /// Adds or replaces a production (its genres are interned).
    pub(crate) fn upsert_production(&mut self, production: Production) {
        let genres = production
            .genres()
            .iter()
            .map(|g| self.intern_genre(g))
            .collect();
        let entry = ProductionEntry { production, genres };
        match self.lookup.productions.get(entry.production.id().as_str()) {
            Some(&idx) => self.productions[idx as usize] = entry,
            None => {
                self.lookup
                    .productions
                    .insert(entry.production.id().clone(), self.productions.len() as u32);
                self.productions.push(entry);
            }
        }
    }

    /// Adds or replaces a performance; the caller has checked that its production exists
    /// and that replacing it contradicts no history.
    pub(crate) fn upsert_performance(
        &mut self,
        performance: Performance,
        production: ProductionIdx,
    ) {
        match self.lookup.performances.get(performance.id().as_str()) {
            Some(&idx) => {
                let entry = &mut self.performances[idx as usize];
                entry.performance = performance;
                entry.production = production;
            }
            None => {
                self.lookup
                    .performances
                    .insert(performance.id().clone(), self.performances.len() as u32);
                self.performances.push(PerformanceEntry {
                    performance,
                    production,
                    tickets: Vec::new(),
                });
            }
        }
    }

    fn intern_genre(&mut self, genre: &str) -> GenreIdx {
        if let Some(&idx) = self.lookup.genres.get(genre) {
            return idx;
        }
        let idx = self.genres.len() as GenreIdx;
        self.genres.push(genre.to_owned());
        self.lookup.genres.insert(genre.to_owned(), idx);
        idx
    }
}
