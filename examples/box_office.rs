//! Box office: one season of a small theatre fed through [`Memory::observe`], then the
//! front-of-house list for its closing night.
//!
//! Everything is generated in this file from a fixed seed, so every run prints the same
//! thing: two venues, five productions, twenty performances (one from two seasons ago)
//! and 300 fictional people who book, bring named guests, give their e-mail or phone in
//! whatever format they type that day, turn up (or not), ask for refunds, donate, join the
//! Friends and buy a glass of wine at the interval. The events go to a [`Memory`] in time
//! order, stopping when the doors open for the closing night of *Hamlet*. Then it prints:
//!
//! 1. what went in and what memory made of it: patrons created, orders that recognized a
//!    returning patron, and how many of those only matched after normalization (the
//!    person wrote their e-mail or phone in a form they had never used before);
//! 2. the front-of-house list for tonight: every ticket holder by seat, with what memory
//!    knows of their visits;
//! 3. the seat notes and front-of-house items the moment rules proposed for tonight;
//! 4. moment counts by rule, and one throughput line (the only line that varies by run).
//!
//! All data is fictional: e-mails at example.org, example.com and gmail.com, and phone
//! numbers from Ofcom's drama ranges (020 7946 0xxx, 07700 900xxx). Times are UTC.
//!
//! ```text
//! cargo run --release --example box_office
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use regulars::normalize::{self, Country};
use regulars::{
    Action, Currency, Donation, Event, LineItem, ManualClock, Membership, Memory, Moment, Money,
    Order, PatronId, PatronView, Performance, Production, Purchase, Refund, Scan, Signals, Ticket,
    Venue,
};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

// ================================================================ sample data

/// Change it to get another season; the output is the same for the same seed.
const SEED: u64 = 0x5EA5_2025_2026_0613;
const PEOPLE: usize = 300;

const VENUES: [(&str, &str); 2] = [("main", "Main House"), ("studio", "The Studio")];

struct Show {
    id: &'static str,
    title: &'static str,
    genres: &'static [&'static str],
    venue: &'static str,
    /// Start times: year, month, day, hour, minute (UTC).
    dates: &'static [(i32, u32, u32, u32, u32)],
}

const SHOWS: [Show; 5] = [
    // Two seasons ago: the people who came then and not since are "back after a while".
    Show {
        id: "twelfth-night",
        title: "Twelfth Night",
        genres: &["drama", "comedy"],
        venue: "main",
        dates: &[(2023, 10, 14, 19, 30)],
    },
    Show {
        id: "hamlet",
        title: "Hamlet",
        genres: &["drama"],
        venue: "main",
        dates: &[
            (2025, 9, 20, 19, 30),
            (2025, 10, 25, 19, 30),
            (2025, 11, 29, 14, 30),
            (2026, 1, 24, 19, 30),
            (2026, 3, 14, 19, 30),
            (2026, 6, 13, 19, 30),
        ],
    },
    Show {
        id: "earnest",
        title: "The Importance of Being Earnest",
        genres: &["comedy"],
        venue: "main",
        dates: &[
            (2025, 10, 4, 19, 30),
            (2025, 11, 8, 19, 30),
            (2026, 2, 14, 19, 30),
            (2026, 4, 18, 14, 30),
        ],
    },
    Show {
        id: "nutcracker",
        title: "The Nutcracker",
        genres: &["dance", "family"],
        venue: "main",
        dates: &[
            (2025, 12, 6, 14, 30),
            (2025, 12, 13, 19, 30),
            (2025, 12, 20, 14, 30),
            (2025, 12, 23, 19, 30),
            (2025, 12, 27, 14, 30),
        ],
    },
    Show {
        id: "late-jazz",
        title: "Late Night Jazz",
        genres: &["music"],
        venue: "studio",
        dates: &[
            (2025, 9, 27, 21, 30),
            (2026, 1, 31, 21, 30),
            (2026, 3, 28, 21, 30),
            (2026, 5, 23, 21, 30),
        ],
    },
];

/// Closing night of Hamlet: the performance whose front-of-house list is printed.
const TONIGHT: &str = "hamlet-6";
/// Doors open this long before curtain; nothing later than that is fed.
const DOORS_BEFORE: TimeDelta = TimeDelta::minutes(45);

#[rustfmt::skip]
const GIVEN: [&str; 30] = [
    "Ana", "Zoë", "Søren", "Łukasz", "Siobhán", "José", "Chloé", "Björn", "Aoife", "Priya",
    "Oluwaseun", "Mei", "Tomás", "Ingrid", "Rhys", "Fatima", "Kwame", "Ewa", "Jürgen", "Amélie",
    "Niamh", "Mateo", "Yusuf", "Hannah", "Oliver", "Grace", "Dmitri", "Leila", "Eilidh", "Noor",
];
#[rustfmt::skip]
const FAMILY: [&str; 30] = [
    "Silva", "Müller", "O'Brien", "Nowak", "Kowalczyk", "Ødegaard", "García", "Patel", "Okafor",
    "Nguyen", "Jones", "Smith", "Williams", "Brennan", "MacLeod", "Dubois", "Rossi",
    "Andersson", "Çelik", "Schäfer", "Fernández", "Chen", "Evans", "Hughes", "Khan", "Murphy",
    "Lindqvist", "Papadopoulos", "Wójcik", "Ní Bhriain",
];

/// splitmix64: tiny, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (`n > 0`); the modulo bias does not matter here.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A number in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("the dates written in this example are valid")
}

struct Perf {
    id: String,
    show: usize,
    starts_at: DateTime<Utc>,
}

/// Every performance, earliest first.
fn performances() -> Vec<Perf> {
    let mut perfs: Vec<Perf> = SHOWS
        .iter()
        .enumerate()
        .flat_map(|(show, s)| {
            s.dates
                .iter()
                .enumerate()
                .map(move |(i, &(y, m, d, h, min))| Perf {
                    id: format!("{}-{}", s.id, i + 1),
                    show,
                    starts_at: utc(y, m, d, h, min),
                })
        })
        .collect();
    perfs.sort_by_key(|p| p.starts_at);
    perfs
}

enum Phone {
    /// 020 7946 0nnn
    Landline(usize),
    /// 07700 900nnn
    Mobile(usize),
}

struct Person {
    given: &'static str,
    family: &'static str,
    /// E-mail local part as they usually write it, lower-case ASCII.
    local: String,
    domain: &'static str,
    phone: Option<Phone>,
    /// A payment-processor token, for those who pay by card online.
    card: Option<String>,
    /// How keen they are: the weight when drawing who books next.
    appetite: u32,
}

fn people(rng: &mut Rng) -> Result<Vec<Person>> {
    let mut pairs: Vec<(usize, usize)> = (0..GIVEN.len())
        .flat_map(|g| (0..FAMILY.len()).map(move |f| (g, f)))
        .collect();
    rng.shuffle(&mut pairs);
    let mut mailboxes = HashSet::new();
    let mut people = Vec::with_capacity(PEOPLE);
    for (i, &(g, f)) in pairs.iter().take(PEOPLE).enumerate() {
        let (given, family) = (GIVEN[g], FAMILY[f]);
        // The library's own name folding gives ASCII e-mail parts: "Łukasz" -> "lukasz".
        let g_key = normalize::name(given)?.replace(' ', "");
        let f_key = normalize::name(family)?.replace(' ', "");
        let domain = match rng.below(10) {
            0..=3 => "gmail.com",
            4..=6 => "example.org",
            _ => "example.com",
        };
        let base = match rng.below(4) {
            0 => format!("{g_key}.{f_key}"),
            1 => format!("{g_key}{f_key}"),
            2 => format!("{}.{f_key}", &g_key[..1]),
            _ => format!("{f_key}.{g_key}"),
        };
        // One mailbox per person: compare canonical forms (Gmail ignores dots).
        let mut local = base.clone();
        let mut n = 1;
        while !mailboxes.insert(normalize::email(&format!("{local}@{domain}"))?) {
            n += 1;
            local = format!("{base}{n}");
        }
        let phone = match rng.below(4) {
            0 => None,
            1 => Some(Phone::Landline(i)),
            _ => Some(Phone::Mobile(i)),
        };
        people.push(Person {
            given,
            family,
            local,
            domain,
            phone,
            card: rng.chance(40).then(|| format!("tok-sample-{i:04}")),
            appetite: match rng.below(10) {
                0 => 8,
                1..=3 => 3,
                _ => 1,
            },
        });
    }
    Ok(people)
}

/// Tickets one person bought for one performance.
struct Booking {
    person: usize,
    perf: usize,
    tickets: usize,
    /// The named holder of the second ticket, when not the buyer.
    guest: Option<usize>,
    /// Part of the story (repeat visitors, lapsed patrons): always attended, never refunded.
    story: bool,
}

struct Planner {
    weights: Vec<u64>,
    /// Who holds a ticket for each performance.
    holding: Vec<HashSet<usize>>,
    orders: Vec<usize>,
    bookings: Vec<Booking>,
}

impl Planner {
    fn book(
        &mut self,
        person: usize,
        perf: usize,
        tickets: usize,
        guest: Option<usize>,
        story: bool,
    ) {
        self.holding[perf].insert(person);
        self.holding[perf].extend(guest);
        self.orders[perf] += 1;
        self.bookings.push(Booking {
            person,
            perf,
            tickets,
            guest,
            story,
        });
    }

    /// Someone drawn by appetite, for whom `allowed` holds.
    fn draw(&self, rng: &mut Rng, allowed: impl Fn(usize) -> bool) -> Option<usize> {
        let total: u64 = self.weights.iter().sum();
        for _ in 0..500 {
            let mut r = rng.next() % total;
            let person = self.weights.iter().position(|&w| {
                if r < w {
                    return true;
                }
                r -= w;
                false
            })?;
            if allowed(person) {
                return Some(person);
            }
        }
        None
    }
}

/// Who books what: the story first (lapsed patrons, repeat visitors of Hamlet), then
/// everyone else drawn by appetite until each performance has its share of orders.
fn plan(people: &[Person], perfs: &[Perf], tonight: usize, rng: &mut Rng) -> Vec<Booking> {
    let mut planner = Planner {
        weights: people.iter().map(|p| u64::from(p.appetite)).collect(),
        holding: vec![HashSet::new(); perfs.len()],
        orders: vec![0; perfs.len()],
        bookings: Vec::new(),
    };
    let mut everyone: Vec<usize> = (0..people.len()).collect();
    rng.shuffle(&mut everyone);
    // Performances are sorted by time: the first is Twelfth Night, two seasons ago.
    let old_season = 0;
    let hamlet_before: Vec<usize> = (0..perfs.len())
        .filter(|&i| SHOWS[perfs[i].show].id == "hamlet" && i != tonight)
        .collect();
    let spring: Vec<usize> = (0..perfs.len())
        .filter(|&i| perfs[i].starts_at >= utc(2026, 3, 1, 0, 0) && i != tonight)
        .collect();

    // Lapsed: came to Twelfth Night two seasons ago, then nothing until the spring (if ever).
    let lapsed: Vec<usize> = everyone
        .iter()
        .copied()
        .filter(|&p| people[p].appetite == 1)
        .take(10)
        .collect();
    for (k, &p) in lapsed.iter().enumerate() {
        planner.weights[p] = 0; // Not drawn during the season: only the story books them.
        planner.book(p, old_season, 1 + rng.below(2), None, true);
        match k {
            0..=2 => planner.book(p, tonight, 1 + rng.below(2), None, true),
            3..=6 => planner.book(p, *rng.pick(&spring), 2, None, true),
            _ => {}
        }
    }

    // Repeat visitors: saw Hamlet once (a few twice or three times), back for closing night.
    let devotees: Vec<usize> = everyone
        .iter()
        .copied()
        .filter(|p| !lapsed.contains(p))
        .take(16)
        .collect();
    for (k, &p) in devotees.iter().enumerate() {
        let before = [3, 2, 2, 2].get(k).copied().unwrap_or(1);
        let mut seen = hamlet_before.clone();
        rng.shuffle(&mut seen);
        for &perf in &seen[..before] {
            planner.book(p, perf, 1 + rng.below(2), None, true);
        }
        planner.book(p, tonight, 1 + rng.below(2), None, true);
    }

    // Everyone else, drawn by appetite.
    for (perf, p) in perfs.iter().enumerate() {
        let target = if perf == tonight {
            30
        } else if SHOWS[p.show].venue == "studio" {
            14 + rng.below(5)
        } else {
            24 + rng.below(9)
        };
        while planner.orders[perf] < target {
            let holding = &planner.holding[perf];
            let Some(buyer) = planner.draw(rng, |c| !holding.contains(&c)) else {
                break;
            };
            let tickets = match rng.below(100) {
                0..=34 => 1,
                35..=79 => 2,
                80..=91 => 3,
                _ => 4,
            };
            let guest = if tickets == 2 && rng.chance(35) {
                planner.draw(rng, |c| c != buyer && !holding.contains(&c))
            } else {
                None
            };
            planner.book(buyer, perf, tickets, guest, false);
        }
    }
    planner.bookings
}

struct SeatMap {
    rows: usize,
    per_row: usize,
    taken: Vec<bool>,
    studio: bool,
}

impl SeatMap {
    fn new(studio: bool) -> Self {
        let (rows, per_row) = if studio { (6, 12) } else { (16, 24) };
        Self {
            rows,
            per_row,
            taken: vec![false; rows * per_row],
            studio,
        }
    }

    /// `n` adjacent seats if possible (label, price in pence).
    fn take(&mut self, n: usize, rng: &mut Rng) -> Vec<(String, i64)> {
        let mut chosen: Vec<usize> = Vec::new();
        for _ in 0..200 {
            let row = rng.below(self.rows);
            let first = row * self.per_row + rng.below(self.per_row - n + 1);
            if (first..first + n).all(|s| !self.taken[s]) {
                chosen = (first..first + n).collect();
                break;
            }
        }
        if chosen.is_empty() {
            // Nearly full: any free seats will do.
            chosen = (0..self.taken.len())
                .filter(|&s| !self.taken[s])
                .take(n)
                .collect();
        }
        chosen
            .into_iter()
            .map(|s| {
                self.taken[s] = true;
                let (row, number) = (s / self.per_row, s % self.per_row + 1);
                let price = match (self.studio, row) {
                    (true, _) => 1800,
                    (false, 0..=4) => 4800,
                    (false, 5..=10) => 3600,
                    _ => 2400,
                };
                (format!("{}{number}", char::from(b'A' + row as u8)), price)
            })
            .collect()
    }
}

/// One thing that happens, before it is written as a vendor event.
enum Step {
    Order {
        booking: usize,
        seats: Vec<(String, i64)>,
    },
    Scan {
        ticket: String,
    },
    Refund {
        order: String,
        /// Empty: the whole order.
        tickets: Vec<String>,
    },
    Donation {
        person: usize,
        pence: i64,
    },
    Membership {
        person: usize,
        from: NaiveDate,
    },
    Bar {
        person: usize,
        perf: usize,
        glasses: u32,
    },
}

fn order_id(booking: usize) -> String {
    format!("O{:05}", booking + 1)
}

/// The season as a time line: orders weeks ahead, refunds in between, door scans and
/// interval drinks on the night, donations and memberships whenever.
fn timeline(
    people: &[Person],
    perfs: &[Perf],
    bookings: &[Booking],
    tonight: usize,
    rng: &mut Rng,
) -> Vec<(DateTime<Utc>, Step)> {
    let mut seat_maps: Vec<SeatMap> = perfs
        .iter()
        .map(|p| SeatMap::new(SHOWS[p.show].venue == "studio"))
        .collect();
    let mut steps = Vec::new();
    for (i, b) in bookings.iter().enumerate() {
        let start = perfs[b.perf].starts_at;
        // Closing-night orders come late enough that earlier Hamlet visits are on record.
        let lead = if b.perf == tonight {
            rng.between(3, 42)
        } else {
            rng.between(2, 56)
        };
        let ordered_at = start - TimeDelta::days(lead) - TimeDelta::minutes(rng.between(0, 600));
        let seats = seat_maps[b.perf].take(b.tickets, rng);
        let tickets: Vec<String> = (1..=seats.len())
            .map(|k| format!("{}-{k}", order_id(i)))
            .collect();
        steps.push((ordered_at, Step::Order { booking: i, seats }));

        let mut refunded = 0;
        if !b.story && lead >= 4 && rng.chance(3) {
            refunded = tickets.len();
            let at = ordered_at + TimeDelta::days(lead / 2);
            steps.push((
                at,
                Step::Refund {
                    order: order_id(i),
                    tickets: Vec::new(),
                },
            ));
        } else if !b.story && tickets.len() >= 3 && rng.chance(15) {
            refunded = 1;
            let at = ordered_at + TimeDelta::days(1);
            let last = tickets[tickets.len() - 1].clone();
            steps.push((
                at,
                Step::Refund {
                    order: order_id(i),
                    tickets: vec![last],
                },
            ));
        }

        let no_show = !b.story && rng.chance(5);
        for ticket in &tickets[..tickets.len() - refunded] {
            if no_show || (!b.story && rng.chance(3)) {
                continue;
            }
            let at = start - TimeDelta::minutes(rng.between(5, 44));
            steps.push((
                at,
                Step::Scan {
                    ticket: ticket.clone(),
                },
            ));
        }
        if refunded == 0 && !no_show && people[b.person].card.is_some() && rng.chance(25) {
            steps.push((
                start + TimeDelta::minutes(80),
                Step::Bar {
                    person: b.person,
                    perf: b.perf,
                    glasses: 1 + rng.below(3) as u32,
                },
            ));
        }
    }

    let season = utc(2025, 9, 1, 10, 0);
    // Givers lean towards the keen.
    let keen: Vec<usize> = (0..people.len())
        .filter(|&p| people[p].appetite > 1)
        .collect();
    let draw_anyone = |rng: &mut Rng| {
        if rng.chance(70) {
            *rng.pick(&keen)
        } else {
            rng.below(people.len())
        }
    };
    for _ in 0..18 {
        let at =
            season + TimeDelta::days(rng.between(0, 270)) + TimeDelta::hours(rng.between(0, 10));
        let person = draw_anyone(rng);
        let pence = *rng.pick(&[1000, 2000, 2500, 5000, 10_000, 25_000]);
        steps.push((at, Step::Donation { person, pence }));
    }
    for _ in 0..12 {
        let at =
            season + TimeDelta::days(rng.between(0, 270)) + TimeDelta::hours(rng.between(0, 10));
        let person = draw_anyone(rng);
        steps.push((
            at,
            Step::Membership {
                person,
                from: at.date_naive(),
            },
        ));
    }
    // Stable: steps at the same instant keep the order they were made in.
    steps.sort_by_key(|(at, _)| *at);
    steps
}

// ---------------------------------------------------------------- writing vendor events

/// What one person has told the venue so far: decides how they can be reached next time
/// and whether this time's raw text was ever seen before.
#[derive(Default)]
struct Told {
    introduced: bool,
    phone_known: bool,
    card_known: bool,
    /// Every raw identifier they sent, first first.
    raw: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// Web checkout: name, e-mail, sometimes phone, card token.
    Web,
    /// Box-office phone booking: name as the clerk typed it, and the phone number only.
    Phone,
    /// App or e-mail reply: name and e-mail only.
    Mail,
    /// A named holder on someone else's order: name and e-mail.
    Guest,
    /// The bar till: the card token only.
    Till,
}

impl Channel {
    fn label(self) -> &'static str {
        match self {
            Channel::Web => "web checkout (e-mail, maybe phone, card)",
            Channel::Phone => "phone bookings (phone only)",
            Channel::Mail => "the app (e-mail only)",
            Channel::Guest => "guest lists",
            Channel::Till => "the bar till (card only)",
        }
    }
}

/// The truth about one person in one event, to check memory against.
struct Contact {
    person: usize,
    /// How they reached the venue (after fallbacks).
    channel: Channel,
    /// None of this event's raw identifiers was ever sent by them before, verbatim: an
    /// exact string match would have missed them.
    new_spelling: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Order,
    Scan,
    Refund,
    Donation,
    Membership,
    Bar,
}

impl Kind {
    fn label(self, n: usize) -> String {
        let (one, many) = match self {
            Kind::Order => ("order", "orders"),
            Kind::Scan => ("door scan", "door scans"),
            Kind::Refund => ("refund", "refunds"),
            Kind::Donation => ("donation", "donations"),
            Kind::Membership => ("membership", "memberships"),
            Kind::Bar => ("bar purchase", "bar purchases"),
        };
        format!("{} {}", thousands(n), if n == 1 { one } else { many })
    }
}

/// A vendor event and the truth behind it.
struct Fed {
    event: Event,
    kind: Kind,
    /// The buyer, donor, member or customer.
    person: Option<Contact>,
    /// Named ticket holders, in ticket order.
    guests: Vec<Contact>,
}

struct Writer<'a> {
    people: &'a [Person],
    told: Vec<Told>,
    rng: Rng,
    events: usize,
}

fn email_spelling(local: &str, domain: &str, k: usize, rng: &mut Rng) -> String {
    let plain = format!("{local}@{domain}");
    let capital = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|first| first.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    match k {
        0 => plain,
        1 => {
            let local: Vec<String> = local.split('.').map(capital).collect();
            format!("{}@{}", local.join("."), capital(domain))
        }
        2 => format!("  {plain} "),
        3 => plain.to_uppercase(),
        // Gmail only from here: it ignores dots and +tags, and googlemail.com is gmail.com.
        4 if local.contains('.') => format!("{}@{domain}", local.replace('.', "")),
        4 => {
            let (head, tail) = local.split_at(2);
            let dotted: Vec<String> = head.chars().map(String::from).collect();
            format!("{}.{tail}@{domain}", dotted.join("."))
        }
        5 => format!(
            "{local}+{}@{domain}",
            rng.pick(&["theatre", "tickets", "hamlet"])
        ),
        _ => format!(
            "{}@googlemail.com",
            local.split('.').map(capital).collect::<Vec<_>>().join(".")
        ),
    }
}

fn phone_spelling(phone: &Phone, k: usize) -> String {
    match *phone {
        Phone::Landline(n) => {
            let line = format!("0{n:03}");
            match k {
                0 => format!("020 7946 {line}"),
                1 => format!("+44 20 7946 {line}"),
                2 => format!("(020) 7946-{line}"),
                3 => format!("0207946{line}"),
                4 => format!("+44 (0)20 7946 {line}"),
                _ => format!("0044 20 7946 {line}"),
            }
        }
        Phone::Mobile(n) => {
            let line = format!("{n:03}");
            match k {
                0 => format!("07700 900{line}"),
                1 => format!("+44 7700 900{line}"),
                2 => format!("07700-900-{line}"),
                3 => format!("+447700900{line}"),
                4 => format!("(07700) 900 {line}"),
                _ => format!("0044 7700 900 {line}"),
            }
        }
    }
}

impl Writer<'_> {
    /// A fresh number for event ids that have no natural key.
    fn serial(&mut self) -> usize {
        self.events += 1;
        self.events
    }

    /// What this person says about themselves through this channel today.
    fn signals(&mut self, p: usize, channel: Channel) -> (Signals, Contact) {
        let person = &self.people[p];
        let rng = &mut self.rng;
        let told = &mut self.told[p];
        let returning = told.introduced;
        // Nobody books by phone alone before the venue has their number on file.
        let channel = if channel == Channel::Phone && !told.phone_known {
            Channel::Web
        } else {
            channel
        };

        // Names vary only in case, accents and apostrophes: the folded keys stay equal.
        let (given, family) = match channel {
            Channel::Phone if rng.chance(50) => {
                (person.given.to_uppercase(), person.family.to_uppercase())
            }
            Channel::Web if returning && rng.chance(30) => (
                person.given.to_owned(),
                person.family.replace('\'', "\u{2019}"),
            ),
            _ => (person.given.to_owned(), person.family.to_owned()),
        };
        let mut signals = Signals::new().given_name(given).family_name(family);
        let mut raw = Vec::new();
        if channel != Channel::Phone {
            let spellings = if person.domain == "gmail.com" { 7 } else { 4 };
            let k = if returning {
                rng.below(spellings)
            } else {
                rng.below(2)
            };
            let email = email_spelling(&person.local, person.domain, k, rng);
            signals = signals.email(email.clone());
            raw.push(email);
        }
        let with_phone = match channel {
            Channel::Phone => true,
            Channel::Web => !returning || rng.chance(30),
            Channel::Mail | Channel::Guest | Channel::Till => false,
        };
        if let (true, Some(phone)) = (with_phone, &person.phone) {
            let k = if returning { rng.below(6) } else { 0 };
            let phone = phone_spelling(phone, k);
            signals = signals.phone(phone.clone());
            raw.push(phone);
            told.phone_known = true;
        }
        let new_spelling = returning && raw.iter().all(|r| !told.raw.contains(r));
        if let (Channel::Web, Some(card)) = (channel, &person.card) {
            signals = signals.card_token(card.clone());
            told.card_known = true;
        }
        for r in raw {
            if !told.raw.contains(&r) {
                told.raw.push(r);
            }
        }
        told.introduced = true;
        (
            signals,
            Contact {
                person: p,
                channel,
                new_spelling,
            },
        )
    }

    fn write(
        &mut self,
        at: DateTime<Utc>,
        step: Step,
        bookings: &[Booking],
        perfs: &[Perf],
    ) -> Option<Fed> {
        let fed = match step {
            Step::Order { booking, seats } => {
                let b = &bookings[booking];
                let channel = match (self.told[b.person].introduced, self.rng.below(4)) {
                    (false, _) | (true, 0 | 1) => Channel::Web,
                    (true, 2) => Channel::Phone,
                    (true, _) => Channel::Mail,
                };
                let id = order_id(booking);
                let (buyer, person) = self.signals(b.person, channel);
                let mut order = Order::new(id.clone(), buyer);
                let mut guests = Vec::new();
                for (k, (seat, pence)) in seats.into_iter().enumerate() {
                    let mut ticket =
                        Ticket::new(format!("{id}-{}", k + 1), perfs[b.perf].id.as_str())
                            .seat_label(seat)
                            .price(Money::new(pence, Currency::GBP));
                    if let (1, Some(guest)) = (k, b.guest) {
                        let (holder, contact) = self.signals(guest, Channel::Guest);
                        ticket = ticket.holder(holder);
                        guests.push(contact);
                    }
                    order = order.ticket(ticket);
                }
                Fed {
                    event: Event::order(format!("evt-{id}"), order),
                    kind: Kind::Order,
                    person: Some(person),
                    guests,
                }
            }
            Step::Scan { ticket } => Fed {
                event: Event::scan(
                    format!("scan-{ticket}"),
                    Scan::entry(ticket.as_str()).scan_id(format!("door-{ticket}")),
                ),
                kind: Kind::Scan,
                person: None,
                guests: Vec::new(),
            },
            Step::Refund { order, tickets } => {
                let refund = if tickets.is_empty() {
                    Refund::whole_order(order.as_str())
                } else {
                    Refund::tickets(order.as_str(), tickets)
                };
                Fed {
                    event: Event::refund(format!("ref-{order}"), refund),
                    kind: Kind::Refund,
                    person: None,
                    guests: Vec::new(),
                }
            }
            Step::Donation { person, pence } => {
                let (donor, contact) = self.signals(person, Channel::Mail);
                let donation =
                    Donation::new(donor, Money::new(pence, Currency::GBP)).fund("Annual Fund");
                Fed {
                    event: Event::donation(format!("don-{}", self.serial()), donation),
                    kind: Kind::Donation,
                    person: Some(contact),
                    guests: Vec::new(),
                }
            }
            Step::Membership { person, from } => {
                let (member, contact) = self.signals(person, Channel::Web);
                let to = from + TimeDelta::days(364);
                let membership = Membership::new(member, "Friends", from, to)
                    .price(Money::new(6000, Currency::GBP));
                Fed {
                    event: Event::membership(format!("mem-{}", self.serial()), membership),
                    kind: Kind::Membership,
                    person: Some(contact),
                    guests: Vec::new(),
                }
            }
            Step::Bar {
                person,
                perf,
                glasses,
            } => {
                // The till only knows the card: a card memory has never seen says nothing.
                let card = self.people[person].card.as_ref()?;
                if !self.told[person].card_known {
                    return None;
                }
                let purchase = Purchase::new(Signals::new().card_token(card.clone()))
                    .at_performance(perfs[perf].id.as_str())
                    .item(LineItem::new(
                        "glass-of-wine",
                        glasses,
                        Money::new(750, Currency::GBP),
                    ));
                Fed {
                    event: Event::purchase(format!("bar-{}-{person}", perfs[perf].id), purchase),
                    kind: Kind::Bar,
                    person: Some(Contact {
                        person,
                        channel: Channel::Till,
                        new_spelling: false,
                    }),
                    guests: Vec::new(),
                }
            }
        };
        Some(Fed {
            event: fed.event.at(at),
            ..fed
        })
    }
}

struct Season {
    people: Vec<Person>,
    perfs: Vec<Perf>,
    /// Each person's raw identifiers, in the order they first sent them.
    spellings: Vec<Vec<String>>,
}

/// The whole season: who is who, and the vendor events in time order.
fn season() -> Result<(Season, Vec<Fed>)> {
    let mut rng = Rng(SEED);
    let people = people(&mut rng)?;
    let perfs = performances();
    let tonight = perfs
        .iter()
        .position(|p| p.id == TONIGHT)
        .ok_or("TONIGHT names a performance of SHOWS")?;
    let bookings = plan(&people, &perfs, tonight, &mut rng);
    let steps = timeline(&people, &perfs, &bookings, tonight, &mut rng);
    let mut writer = Writer {
        people: &people,
        told: (0..people.len()).map(|_| Told::default()).collect(),
        rng,
        events: 0,
    };
    let feed = steps
        .into_iter()
        .filter_map(|(at, step)| writer.write(at, step, &bookings, &perfs))
        .collect();
    let spellings = writer.told.into_iter().map(|t| t.raw).collect();
    Ok((
        Season {
            people,
            perfs,
            spellings,
        },
        feed,
    ))
}

// ================================================================ feeding memory

/// Memory's answers checked against the generator's truth: one person, one patron.
#[derive(Default)]
struct Tally {
    fed: BTreeMap<Kind, usize>,
    held_back: BTreeMap<Kind, usize>,
    /// Decisions for order buyers: known, review, new.
    buyers: BTreeMap<&'static str, usize>,
    /// Known buyers whose identifiers were all in a never-used spelling.
    respelled: usize,
    /// Known buyers by how they ordered.
    known_by: BTreeMap<&'static str, usize>,
    guests: BTreeMap<&'static str, usize>,
    others: BTreeMap<&'static str, usize>,
    patron_of: HashMap<usize, PatronId>,
    missed: usize,
    wrong: usize,
    moments: Vec<Moment>,
    observing: Duration,
}

impl Tally {
    /// Whether memory's answer matches who it really was.
    fn check(&mut self, contact: &Contact, patron: PatronId, decision: &str) -> bool {
        match self.patron_of.get(&contact.person) {
            Some(&expected) if expected == patron => true,
            Some(_) => {
                if decision == "known" {
                    self.wrong += 1;
                } else {
                    self.missed += 1;
                }
                false
            }
            None => {
                self.patron_of.insert(contact.person, patron);
                // A first appearance must create a patron, not join someone else.
                if decision == "new" {
                    true
                } else {
                    self.wrong += 1;
                    false
                }
            }
        }
    }
}

/// Defines the catalog, then observes every event before `doors`, checking each answer.
fn feed(
    memory: &mut Memory,
    season: &Season,
    events: Vec<Fed>,
    doors: DateTime<Utc>,
) -> Result<Tally> {
    for (id, name) in VENUES {
        memory.define_venue(Venue::new(id, name))?;
    }
    for show in &SHOWS {
        let production = show
            .genres
            .iter()
            .fold(Production::new(show.id, show.title), |p, g| p.genre(g));
        memory.define_production(production)?;
    }
    for p in &season.perfs {
        let show = &SHOWS[p.show];
        memory.define_performance(Performance::new(
            p.id.as_str(),
            show.id,
            show.venue,
            p.starts_at,
        ))?;
    }

    let mut tally = Tally::default();
    for fed in events {
        if fed.event.occurred_at().is_none_or(|at| at >= doors) {
            *tally.held_back.entry(fed.kind).or_default() += 1;
            continue;
        }
        let started = Instant::now();
        let observation = memory.observe(fed.event)?;
        tally.observing += started.elapsed();
        *tally.fed.entry(fed.kind).or_default() += 1;

        let decision = observation.recognition().decision();
        if let Some(person) = &fed.person {
            let right = tally.check(person, observation.patron(), decision);
            if fed.kind == Kind::Order {
                *tally.buyers.entry(decision).or_default() += 1;
                if right && decision == "known" {
                    *tally.known_by.entry(person.channel.label()).or_default() += 1;
                    tally.respelled += usize::from(person.new_spelling);
                }
            } else {
                *tally.others.entry(decision).or_default() += 1;
            }
        }
        for (guest, participant) in fed.guests.iter().zip(observation.participants()) {
            let decision = participant.recognition().decision();
            tally.check(guest, participant.patron(), decision);
            *tally.guests.entry(decision).or_default() += 1;
        }
        tally.moments.extend(observation.moments().iter().cloned());
    }
    Ok(tally)
}

// ================================================================ rendering

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn decisions(counts: &BTreeMap<&'static str, usize>) -> (usize, usize, usize) {
    let get = |k| counts.get(k).copied().unwrap_or(0);
    (get("known"), get("review"), get("new"))
}

/// "F12" sorts as row F, seat 12 (not after "F1" as text would).
fn seat_key(label: &str) -> (String, u32) {
    let split = label
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(label.len());
    let (row, number) = label.split_at(split);
    (row.to_owned(), number.parse().unwrap_or(0))
}

/// "F11-12" for a block in one row, otherwise the labels.
fn seats_text(labels: &[String]) -> String {
    let keys: Vec<(String, u32)> = labels.iter().map(|l| seat_key(l)).collect();
    let block = keys.len() > 1
        && keys
            .windows(2)
            .all(|w| w[0].0 == w[1].0 && w[0].1 + 1 == w[1].1);
    match (block, keys.first(), keys.last()) {
        (true, Some(first), Some(last)) => format!("{}{}-{}", first.0, first.1, last.1),
        _ => labels.join(" "),
    }
}

fn months_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> i32 {
    let months =
        (later.year() - earlier.year()) * 12 + later.month() as i32 - earlier.month() as i32;
    if later.day() < earlier.day() {
        months - 1
    } else {
        months
    }
}

fn display_name(patron: Option<PatronView<'_>>) -> String {
    patron
        .and_then(|p| p.latest_name().map(|n| n.display()))
        .unwrap_or_else(|| "(no name)".to_owned())
}

/// What front of house should know about this person's visits, as of now.
fn visits(patron: &PatronView<'_>, production: &Production, tonight: DateTime<Utc>) -> String {
    let stats = patron.stats();
    let attended = stats.performances_attended();
    if attended == 0 {
        return "first visit".to_owned();
    }
    let mut parts = Vec::new();
    let here = patron.visits_to(production.id().as_str()).count();
    if here > 0 {
        parts.push(format!(
            "{} visit to {}",
            ordinal(here + 1),
            production.title()
        ));
    }
    if let Some(last) = stats.last_attended_at() {
        let months = months_between(last, tonight);
        if months >= 12 {
            parts.push(format!("back after {months} months"));
        }
    }
    if attended >= 5 {
        parts.push(format!("regular: {attended} shows"));
    } else if parts.is_empty() {
        let s = if attended == 1 { "" } else { "s" };
        parts.push(format!("{attended} show{s} before"));
    }
    parts.join(" · ")
}

/// Tonight's performance, production and venue, from memory's catalog.
fn tonight(memory: &Memory) -> Result<(&Performance, &Production, &Venue)> {
    let catalog = memory.catalog();
    let perf = catalog
        .performance(TONIGHT)
        .ok_or("tonight is in the catalog")?;
    let production = catalog.production_of(perf).ok_or("its production too")?;
    let venue = catalog
        .venue(perf.venue().as_str())
        .ok_or("and its venue")?;
    Ok((perf, production, venue))
}

fn print_header(memory: &Memory, season: &Season, tally: &Tally) -> Result<()> {
    let (_, production, _) = tonight(memory)?;
    let catalog = memory.catalog();
    let list = |counts: &BTreeMap<Kind, usize>| {
        let parts: Vec<String> = counts.iter().map(|(kind, &n)| kind.label(n)).collect();
        parts.join(", ")
    };
    let old = season
        .perfs
        .iter()
        .filter(|p| p.starts_at < utc(2025, 7, 1, 0, 0))
        .count();
    let (known, review, new) = decisions(&tally.buyers);
    let (g_known, g_review, g_new) = decisions(&tally.guests);
    let (o_known, o_review, o_new) = decisions(&tally.others);
    let title = format!("regulars: box office sample (seed {SEED:#x})");
    println!("{title}\n{}\n", "=".repeat(title.len()));
    println!("Fed in, in time order");
    println!(
        "  catalog    {} venues, {} productions, {} performances ({old} from two seasons ago)",
        catalog.venues().count(),
        catalog.productions().count(),
        catalog.performances().count(),
    );
    let fed: usize = tally.fed.values().sum();
    let kinds: Vec<String> = tally.fed.iter().map(|(kind, &n)| kind.label(n)).collect();
    let lines: Vec<String> = kinds.chunks(3).map(|chunk| chunk.join(", ")).collect();
    println!(
        "  events     {} observed: {}",
        thousands(fed),
        lines.join(",\n             ")
    );
    println!(
        "  held back  {} ({} has not opened its doors yet)",
        list(&tally.held_back),
        production.title()
    );
    println!();
    println!("What memory made of it");
    println!(
        "  patrons    {} created, one for each person who appeared ({} of {PEOPLE} generated)",
        memory.patron_count(),
        tally.patron_of.len()
    );
    println!(
        "  orders     {}: {} recognized a returning patron, {} new, {review} for review",
        thousands(known + review + new),
        thousands(known),
        thousands(new),
    );
    for (channel, n) in &tally.known_by {
        println!(
            "             {:>5} of them through {channel}",
            thousands(*n)
        );
    }
    println!(
        "             {} of the {} matched only after normalizing: that person had never",
        thousands(tally.respelled),
        thousands(known)
    );
    println!("             sent this e-mail or phone in this form before (case, spaces, Gmail");
    println!("             dots, +tags, googlemail, the many ways to write a UK number)");
    println!(
        "  guests     {} named ticket holders: {g_known} recognized, {g_new} new, {g_review} for review",
        g_known + g_new + g_review
    );
    println!(
        "  others     {} donors, members, bar customers: {o_known} recognized, {o_new} new, {o_review} for review",
        o_known + o_new + o_review
    );
    let verdict = if tally.missed + tally.wrong == 0 {
        "every answer matches the generator's truth"
    } else {
        "MISMATCHES with the generator's truth"
    };
    println!(
        "  check      {verdict} ({} missed, {} wrong)",
        tally.missed, tally.wrong
    );
    Ok(())
}

/// Someone holding tickets tonight.
struct Holder {
    patron: PatronId,
    buyer: PatronId,
    /// Their seats, in seat order.
    seats: Vec<String>,
}

/// One line per ticket holder, by seat, with what memory knows of their visits.
fn print_front_of_house(memory: &Memory, doors: DateTime<Utc>) -> Result<Vec<Holder>> {
    let (perf, production, venue) = tonight(memory)?;
    let mut holders: Vec<Holder> = Vec::new();
    let mut refunded = 0;
    for t in memory
        .tickets_for(TONIGHT)
        .ok_or("tonight is in the catalog")?
    {
        if t.is_refunded() {
            refunded += 1;
            continue;
        }
        let seat = t.seat().map_or("-", |s| s.label()).to_owned();
        match holders.iter_mut().find(|h| h.patron == t.holder()) {
            Some(holder) => holder.seats.push(seat),
            None => holders.push(Holder {
                patron: t.holder(),
                buyer: t.buyer(),
                seats: vec![seat],
            }),
        }
    }
    for holder in &mut holders {
        holder.seats.sort_by_key(|s| seat_key(s));
    }
    holders.sort_by_key(|h| seat_key(&h.seats[0]));
    let tickets: usize = holders.iter().map(|h| h.seats.len()).sum();

    println!();
    println!(
        "Front of house: {}, {} · {}",
        production.title(),
        perf.starts_at().format("%a %-d %b %Y, %H:%M"),
        venue.name()
    );
    println!(
        "as of {}, doors open: {} holders, {tickets} tickets ({refunded} refunded left out)",
        doors.format("%H:%M"),
        holders.len(),
    );
    println!();
    for holder in &holders {
        let patron = memory.patron(holder.patron).ok_or("holders are patrons")?;
        let mut info = visits(&patron, production, perf.starts_at());
        if holder.patron != holder.buyer {
            let buyer = display_name(memory.patron(holder.buyer));
            info.push_str(&format!(" · guest of {buyer}"));
        }
        println!(
            "  {:<7} {:<24} {info}",
            seats_text(&holder.seats),
            display_name(Some(patron))
        );
    }
    Ok(holders)
}

/// The moments the rules proposed for tonight, as they came out of `observe`.
fn print_moments(memory: &Memory, tally: &Tally, holders: &[Holder]) -> Result<()> {
    let (_, production, _) = tonight(memory)?;
    // Moments fire when a ticket is issued; a refund since then cancels them.
    let refunded: HashSet<&str> = memory
        .tickets_for(TONIGHT)
        .ok_or("tonight is in the catalog")?
        .filter(|t| t.is_refunded())
        .filter_map(|t| t.seat().map(|s| s.label()))
        .collect();
    let mut notes: Vec<&Moment> = Vec::new();
    let mut items: Vec<&Moment> = Vec::new();
    let mut dropped = 0;
    for m in &tally.moments {
        if m.performance().is_none_or(|p| p.as_str() != TONIGHT) {
            continue;
        }
        if m.seat().is_some_and(|s| refunded.contains(s.label())) {
            dropped += 1;
        } else if m.action() == Action::SeatNote {
            notes.push(m);
        } else {
            items.push(m);
        }
    }
    let by_seat = |m: &&Moment| m.seat().map(|s| seat_key(s.label()));
    notes.sort_by_key(by_seat);
    items.sort_by_key(by_seat);
    let seat = |m: &Moment| m.seat().map_or("-", |s| s.label()).to_owned();

    println!();
    println!("Seat notes to place ({})", notes.len());
    for m in &notes {
        let patron = memory.patron(m.patron());
        let last = patron
            .and_then(|p| p.visits_to(production.id().as_str()).last_at())
            .map(|at| format!(" (last saw it {})", at.format("%-d %b %Y")))
            .unwrap_or_default();
        let name = display_name(patron);
        println!("  {:<7} {name:<24} {}{last}", seat(m), m.message());
    }
    println!();
    println!("Front-of-house items ({})", items.len());
    for m in &items {
        let name = display_name(memory.patron(m.patron()));
        println!("  {:<7} {name:<24} {}", seat(m), m.message());
    }
    if dropped > 0 {
        println!("  ({dropped} left out: their tickets were refunded)");
    }
    // FirstVisit fires once per patron, at their first ticket issued: if that ticket was
    // refunded or never scanned, their real first visit gets no item. Say so.
    let unwelcomed: Vec<String> = holders
        .iter()
        .filter(|h| {
            let never = memory
                .patron(h.patron)
                .is_some_and(|p| p.stats().performances_attended() == 0);
            never && !items.iter().any(|m| m.patron() == h.patron)
        })
        .map(|h| display_name(memory.patron(h.patron)))
        .collect();
    if !unwelcomed.is_empty() {
        println!(
            "  (new tonight too, welcomed for an earlier unused ticket: {})",
            unwelcomed.join(", ")
        );
    }
    Ok(())
}

/// One of tonight's patrons and every spelling of their identifiers memory received (a
/// Gmail user with a phone if possible: they have the most ways to write themselves).
fn print_spellings(season: &Season, tally: &Tally, holders: &[Holder]) {
    let showcase = holders
        .iter()
        .filter_map(|h| {
            let person =
                (0..season.people.len()).find(|p| tally.patron_of.get(p) == Some(&h.patron))?;
            let p = &season.people[person];
            let score = (
                p.domain == "gmail.com",
                p.phone.is_some(),
                season.spellings[person].len(),
            );
            Some((score, person))
        })
        .max_by_key(|&(score, person)| (score, std::cmp::Reverse(person)));
    if let Some((_, person)) = showcase {
        let p = &season.people[person];
        println!();
        println!(
            "Every spelling {} {} used this season, all recognized as one patron:",
            p.given, p.family
        );
        for spelling in &season.spellings[person] {
            println!("  {spelling:?}");
        }
    }
}

fn print_summary(tally: &Tally) {
    let mut by_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for m in &tally.moments {
        let counts = by_rule.entry(m.rule()).or_default();
        counts.0 += 1;
        if m.performance().is_some_and(|p| p.as_str() == TONIGHT) {
            counts.1 += 1;
        }
    }
    let rules: Vec<String> = by_rule
        .iter()
        .map(|(rule, (all, tonight))| format!("{rule} {all} ({tonight} for tonight)"))
        .collect();
    println!();
    println!("Moments proposed this season: {}", rules.join(", "));

    // The one line that differs between runs.
    let fed: usize = tally.fed.values().sum();
    let secs = tally.observing.as_secs_f64();
    println!();
    println!("--");
    println!(
        "observed {} events in {:.1} ms ({:.0}k events/s)",
        thousands(fed),
        secs * 1e3,
        fed as f64 / secs.max(1e-9) / 1e3
    );
}

fn main() -> Result<()> {
    let (season, events) = season()?;
    let starts_at = season
        .perfs
        .iter()
        .find(|p| p.id == TONIGHT)
        .map(|p| p.starts_at)
        .ok_or("TONIGHT names a performance of SHOWS")?;
    let doors = starts_at - DOORS_BEFORE;
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        // Every event carries its own time; the clock stands at doors-open for the rest.
        .clock(ManualClock::new(doors))
        .build()?;
    let tally = feed(&mut memory, &season, events, doors)?;

    print_header(&memory, &season, &tally)?;
    let holders = print_front_of_house(&memory, doors)?;
    print_moments(&memory, &tally, &holders)?;
    print_spellings(&season, &tally, &holders);
    print_summary(&tally);
    Ok(())
}
