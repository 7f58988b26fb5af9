//! What a patron attended — per genre, per production, per performance — in one
//! exact-size block of 32-bit words behind one pointer.
//!
//! Three small vectors took 88 bytes in every record and spilled for a third of the
//! patrons; the block takes 16 bytes in the record and one allocation for those who
//! attended anything. It changes only when a patron attends a performance for the
//! first time, so rebuilding it then costs little.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use super::stats::ProductionVisits;
use crate::model::catalog::{GenreIdx, PerformanceIdx, ProductionIdx};

/// The words: the number of genres, the number of productions, then per genre (sorted)
/// its index and count, per production (sorted) its index, visit count and first and
/// last start, then the performances attended (sorted).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Attendance(Option<Box<[u32]>>);

const HEADER: usize = 2;
const GENRE: usize = 2;
const VISIT: usize = 8;
/// The nanosecond word of a time that is not there: a real one is below 2,000,000,000.
const NO_TIME: u32 = u32::MAX;

/// A time in three words: the year, the day of the year above the second of the day
/// (17 bits hold 86,400), and the nanosecond. Year and day read back with a table
/// lookup, where a day count would take a calendar calculation.
fn time_words(time: Option<DateTime<Utc>>) -> [u32; 3] {
    match time {
        None => [0, 0, NO_TIME],
        Some(time) => {
            let naive = time.naive_utc();
            [
                naive.date().year() as u32,
                naive.date().ordinal() << 17 | naive.time().num_seconds_from_midnight(),
                naive.time().nanosecond(),
            ]
        }
    }
}

fn time_of(words: &[u32]) -> Option<DateTime<Utc>> {
    let [year, day_and_second, nanos] = *words else {
        return None;
    };
    if nanos == NO_TIME {
        return None;
    }
    // Written by `time_words` from a valid time, so both parts read back.
    let date = NaiveDate::from_yo_opt(year as i32, day_and_second >> 17)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(day_and_second & 0x1_ffff, nanos)?;
    Some(date.and_time(time).and_utc())
}

fn visit_words(production: ProductionIdx, visits: &ProductionVisits) -> [u32; VISIT] {
    let [f0, f1, f2] = time_words(visits.first_at);
    let [l0, l1, l2] = time_words(visits.last_at);
    [production, visits.count, f0, f1, f2, l0, l1, l2]
}

fn visit_of(words: &[u32]) -> (ProductionIdx, ProductionVisits) {
    (
        words[0],
        ProductionVisits {
            count: words[1],
            first_at: time_of(&words[2..5]),
            last_at: time_of(&words[5..8]),
        },
    )
}

impl Attendance {
    fn words(&self) -> &[u32] {
        self.0.as_deref().unwrap_or(&[0, 0])
    }

    fn counts(&self) -> (usize, usize) {
        let words = self.words();
        (words[0] as usize, words[1] as usize)
    }

    fn genre_words(&self) -> &[u32] {
        let (genres, _) = self.counts();
        &self.words()[HEADER..HEADER + genres * GENRE]
    }

    fn visit_words(&self) -> &[u32] {
        let (genres, visits) = self.counts();
        let start = HEADER + genres * GENRE;
        &self.words()[start..start + visits * VISIT]
    }

    /// From the three lists as saved (taken as they are).
    pub(crate) fn from_lists(
        genres: &[(GenreIdx, u32)],
        visits: &[(ProductionIdx, ProductionVisits)],
        performances: &[PerformanceIdx],
    ) -> Self {
        if genres.is_empty() && visits.is_empty() && performances.is_empty() {
            return Self(None);
        }
        let mut words = Vec::with_capacity(
            HEADER + genres.len() * GENRE + visits.len() * VISIT + performances.len(),
        );
        // A record's lists are bounded by its history, itself far below 2^32.
        words.push(genres.len() as u32);
        words.push(visits.len() as u32);
        for &(genre, count) in genres {
            words.extend([genre, count]);
        }
        for (production, visits) in visits {
            words.extend(visit_words(*production, visits));
        }
        words.extend_from_slice(performances);
        Self(Some(words.into_boxed_slice()))
    }

    /// Attendances per genre, by genre.
    pub(crate) fn genres(&self) -> impl ExactSizeIterator<Item = (GenreIdx, u32)> + '_ {
        self.genre_words().chunks_exact(GENRE).map(|w| (w[0], w[1]))
    }

    /// Attendances in one genre (0 if none).
    pub(crate) fn in_genre(&self, genre: GenreIdx) -> u32 {
        let words = self.genre_words();
        let count = words.len() / GENRE;
        match search(count, |i| words[i * GENRE].cmp(&genre)) {
            Ok(i) => words[i * GENRE + 1],
            Err(_) => 0,
        }
    }

    /// Productions attended, by production, with their visits.
    pub(crate) fn visits(
        &self,
    ) -> impl ExactSizeIterator<Item = (ProductionIdx, ProductionVisits)> + '_ {
        self.visit_words().chunks_exact(VISIT).map(visit_of)
    }

    /// The visits to one production, if any.
    pub(crate) fn visits_to(&self, production: ProductionIdx) -> Option<ProductionVisits> {
        let words = self.visit_words();
        let count = words.len() / VISIT;
        let i = search(count, |i| words[i * VISIT].cmp(&production)).ok()?;
        Some(visit_of(&words[i * VISIT..(i + 1) * VISIT]).1)
    }

    /// Performances attended, sorted.
    pub(crate) fn performances(&self) -> &[PerformanceIdx] {
        let (genres, visits) = self.counts();
        &self.words()[HEADER + genres * GENRE + visits * VISIT..]
    }

    pub(crate) fn has_attended(&self, performance: PerformanceIdx) -> bool {
        self.performances().binary_search(&performance).is_ok()
    }

    /// Counts a first attendance of `performance`, a performance of `production`
    /// starting at `starts_at` with `genres`; returns false (changing nothing) if it was
    /// counted already.
    pub(crate) fn attend(
        &mut self,
        performance: PerformanceIdx,
        production: ProductionIdx,
        starts_at: DateTime<Utc>,
        genres: &[GenreIdx],
    ) -> bool {
        let Err(at) = self.performances().binary_search(&performance) else {
            return false;
        };
        let old = self.words();
        let (genre_count, visit_count) = self.counts();
        let old_genres = self.genre_words();
        let old_visits = self.visit_words();
        let visit = search(visit_count, |i| old_visits[i * VISIT].cmp(&production));
        // Genres not counted yet (each once, should the catalog repeat one).
        let mut new_genres: smallvec::SmallVec<[GenreIdx; 4]> = genres
            .iter()
            .copied()
            .filter(|&g| search(genre_count, |i| old_genres[i * GENRE].cmp(&g)).is_err())
            .collect();
        new_genres.sort_unstable();
        new_genres.dedup();

        // Built afresh at its exact size: one allocation, no shrinking after.
        let len = old.len().max(HEADER)
            + 1
            + if visit.is_err() { VISIT } else { 0 }
            + new_genres.len() * GENRE;
        let mut words = Vec::with_capacity(len);
        words.push((genre_count + new_genres.len()) as u32);
        words.push((visit_count + usize::from(visit.is_err())) as u32);

        // Genres: merge the old pairs with the new ones, counting this attendance.
        let mut fresh = new_genres.iter().peekable();
        for pair in old_genres.chunks_exact(GENRE) {
            while let Some(&genre) = fresh.next_if(|&&g| g < pair[0]) {
                words.extend([genre, 0]);
            }
            words.extend_from_slice(pair);
        }
        words.extend(fresh.flat_map(|&genre| [genre, 0]));
        for &genre in genres {
            let counted = &mut words[HEADER..];
            if let Ok(i) = search(counted.len() / GENRE, |i| counted[i * GENRE].cmp(&genre)) {
                counted[i * GENRE + 1] = counted[i * GENRE + 1].saturating_add(1);
            }
        }

        match visit {
            Ok(i) => {
                words.extend_from_slice(old_visits);
                let place = words.len() - old_visits.len() + i * VISIT;
                let (_, mut visits) = visit_of(&words[place..place + VISIT]);
                visits.attended(starts_at);
                words[place..place + VISIT].copy_from_slice(&visit_words(production, &visits));
            }
            Err(i) => {
                let mut visits = ProductionVisits::default();
                visits.attended(starts_at);
                words.extend_from_slice(&old_visits[..i * VISIT]);
                words.extend(visit_words(production, &visits));
                words.extend_from_slice(&old_visits[i * VISIT..]);
            }
        }

        let performances = self.performances();
        words.extend_from_slice(&performances[..at]);
        words.push(performance);
        words.extend_from_slice(&performances[at..]);
        debug_assert_eq!(words.len(), len);
        self.0 = Some(words.into_boxed_slice());
        true
    }

    /// Counts its block (see [`Footprint`](crate::Footprint)).
    pub(crate) fn tally(&self, tally: &mut super::footprint::Tally) {
        if let Some(words) = &self.0 {
            let bytes = size_of_val::<[u32]>(words);
            tally.block(bytes, bytes);
        }
    }
}

/// A binary search over `count` places by the order `at` says each is in.
fn search(count: usize, at: impl Fn(usize) -> std::cmp::Ordering) -> Result<usize, usize> {
    let (mut low, mut high) = (0, count);
    while low < high {
        let middle = low + (high - low) / 2;
        match at(middle) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return Ok(middle),
        }
    }
    Err(low)
}

impl fmt::Debug for Attendance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attendance")
            .field("genres", &self.genres().collect::<Vec<_>>())
            .field("visits", &self.visits().collect::<Vec<_>>())
            .field("attended", &self.performances())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64, nanos: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, nanos).unwrap()
    }

    #[test]
    fn times_read_back_exactly_leap_second_and_far_years_included() {
        for time in [
            at(0, 0),
            at(1_700_000_000, 123_456_789),
            // A leap second's nanoseconds run past a billion.
            at(1_483_228_799, 1_500_000_000),
            at(-62_135_596_800, 0),
            NaiveDate::MAX.and_hms_opt(23, 59, 59).unwrap().and_utc(),
            NaiveDate::MIN.and_hms_opt(0, 0, 0).unwrap().and_utc(),
        ] {
            assert_eq!(time_of(&time_words(Some(time))), Some(time));
        }
        assert_eq!(time_of(&time_words(None)), None);
    }

    #[test]
    fn attending_keeps_each_list_sorted_and_counted_once() {
        let mut seen = Attendance::default();
        assert!(seen.attend(7, 2, at(100, 0), &[5, 1]));
        assert!(seen.attend(3, 2, at(50, 1), &[5, 1]));
        assert!(seen.attend(9, 1, at(200, 0), &[3]));
        assert!(!seen.attend(3, 2, at(50, 1), &[5, 1]));
        assert_eq!(seen.performances(), [3, 7, 9]);
        assert_eq!(seen.genres().collect::<Vec<_>>(), [(1, 2), (3, 1), (5, 2)]);
        assert_eq!(seen.in_genre(5), 2);
        assert_eq!(seen.in_genre(4), 0);
        let two = seen.visits_to(2).unwrap();
        assert_eq!(
            (two.count, two.first_at, two.last_at),
            (2, Some(at(50, 1)), Some(at(100, 0)))
        );
        assert_eq!(seen.visits().map(|(p, _)| p).collect::<Vec<_>>(), [1, 2]);
        assert!(seen.visits_to(3).is_none());
        assert!(seen.has_attended(9) && !seen.has_attended(8));

        let genres: Vec<_> = seen.genres().collect();
        let visits: Vec<_> = seen.visits().collect();
        assert_eq!(
            Attendance::from_lists(&genres, &visits, seen.performances()),
            seen
        );
        assert_eq!(Attendance::from_lists(&[], &[], &[]), Attendance::default());
    }

    /// The three sorted lists the block replaced, kept the way they were.
    #[derive(Default)]
    struct Lists {
        genres: Vec<(GenreIdx, u32)>,
        visits: Vec<(ProductionIdx, ProductionVisits)>,
        attended: Vec<PerformanceIdx>,
    }

    impl Lists {
        fn attend(&mut self, p: u32, production: u32, at: DateTime<Utc>, genres: &[u32]) -> bool {
            let Err(i) = self.attended.binary_search(&p) else {
                return false;
            };
            self.attended.insert(i, p);
            match self.visits.binary_search_by_key(&production, |v| v.0) {
                Ok(i) => self.visits[i].1.attended(at),
                Err(i) => {
                    let mut visits = ProductionVisits::default();
                    visits.attended(at);
                    self.visits.insert(i, (production, visits));
                }
            }
            for &genre in genres {
                match self.genres.binary_search_by_key(&genre, |g| g.0) {
                    Ok(i) => self.genres[i].1 += 1,
                    Err(i) => self.genres.insert(i, (genre, 1)),
                }
            }
            true
        }
    }

    #[test]
    fn reads_as_the_three_lists_did_over_many_attendances() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below) as u32
        };
        let mut block = Attendance::default();
        let mut lists = Lists::default();
        for _ in 0..400 {
            let performance = next(300);
            let production = performance / 7;
            // Some productions list a genre twice: each listing counts.
            let genres: Vec<u32> = (0..next(4))
                .map(|_| (production * 3 + next(3)) % 11)
                .collect();
            let at = at(
                1_600_000_000 + i64::from(next(1_000_000)),
                next(1_000_000_000),
            );
            assert_eq!(
                block.attend(performance, production, at, &genres),
                lists.attend(performance, production, at, &genres)
            );
            assert_eq!(block.performances(), lists.attended);
            assert_eq!(block.genres().collect::<Vec<_>>(), lists.genres);
            assert_eq!(block.visits().collect::<Vec<_>>(), lists.visits);
        }
        assert!(lists.attended.len() > 100 && lists.genres.len() > 5);
    }
}
