//! Box office: one season of a small theatre fed through [`Memory::observe`], then the
//! front-of-house list for its closing night.
//!
//! Everything is generated here from a fixed seed, so every run prints the same (but for
//! the last line, a timing): 300 fictional people book tickets for twenty performances
//! of five productions (one two seasons ago), bring named guests, write their e-mail or
//! phone however they like that day, turn up or not, ask for refunds, donate and buy wine
//! at the interval. The events go to a [`Memory`] in time order until the doors open for
//! the closing night of *Hamlet*. Then it prints what went in and what memory made of it,
//! checked against the truth (each person exactly one patron: "0 missed, 0 wrong"); the
//! front-of-house list for tonight; the seat notes and front-of-house items the moment
//! rules proposed; every spelling one of tonight's patrons used; and moment counts.
//!
//! All data is fictional: e-mails at example.org, example.com and gmail.com, and phone
//! numbers from Ofcom's drama ranges (020 7946 0xxx, 07700 900xxx). Times are UTC.
//!
//! ```text
//! cargo run --release --example box_office
//! ```

use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::iter::{once, repeat_n};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use regulars::normalize::{self, Country};
use regulars::{
    Currency, Donation, Event, LineItem, ManualClock, Memory, Moment, Money, Order, PatronId,
    PatronView, Performance, Production, Purchase, Refund, Scan, Signals, Ticket, TicketView,
    Venue,
};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

// ================================================================ the season

/// Change it to get another season; the same seed always prints the same thing.
const SEED: u64 = 0x5EA5_2025_2026_0613;
const PEOPLE: usize = 300;
/// Closing night of Hamlet: the performance whose front-of-house list is printed.
const TONIGHT: &str = "hamlet-6";
const ORDERS_PER_PERFORMANCE: usize = 28;
/// Doors open this long before curtain; nothing later than that is fed.
const DOORS_BEFORE: TimeDelta = TimeDelta::minutes(45);

const VENUES: [(&str, &str); 2] = [("main", "Main House"), ("studio", "The Studio")];

/// A production: id, title, genres, venue and curtain times (UTC).
type Show = (Str, Str, &'static [Str], Str, &'static [Str]);
type Str = &'static str;

// Twelfth Night was two seasons ago: who came then and not since is "back after a while".
#[rustfmt::skip]
const SHOWS: [Show; 5] = [
    ("twelfth-night", "Twelfth Night", &["drama", "comedy"], "main", &["2023-10-14 19:30"]),
    ("hamlet", "Hamlet", &["drama"], "main", &["2025-09-20 19:30", "2025-10-25 19:30",
        "2025-11-29 14:30", "2026-01-24 19:30", "2026-03-14 19:30", "2026-06-13 19:30"]),
    ("earnest", "The Importance of Being Earnest", &["comedy"], "main", &["2025-10-04 19:30",
        "2025-11-08 19:30", "2026-02-14 19:30", "2026-04-18 14:30"]),
    ("nutcracker", "The Nutcracker", &["dance", "family"], "main", &["2025-12-06 14:30",
        "2025-12-13 19:30", "2025-12-20 14:30", "2025-12-23 19:30", "2025-12-27 14:30"]),
    ("late-jazz", "Late Night Jazz", &["music"], "studio", &["2025-09-27 21:30",
        "2026-01-31 21:30", "2026-03-28 21:30", "2026-05-23 21:30"]),
];

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

/// Ways to write a UK number, the usual one first; `#` is the person's three digits.
#[rustfmt::skip]
const PHONES: [[&str; 6]; 2] = [
    ["020 7946 0#", "+44 20 7946 0#", "(020) 7946-0#", "02079460#", "+44 (0)20 7946 0#",
     "0044 20 7946 0#"],
    ["07700 900#", "+44 7700 900#", "07700-900-#", "+447700900#", "(07700) 900 #",
     "0044 7700 900 #"],
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
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Every performance, earliest first.
fn performances() -> Result<Vec<Performance>> {
    let mut perfs = Vec::new();
    for (id, _, _, venue, dates) in SHOWS {
        for (i, date) in (1..).zip(dates) {
            let starts_at = NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M")?.and_utc();
            perfs.push(Performance::new(format!("{id}-{i}"), id, venue, starts_at));
        }
    }
    perfs.sort_by_key(|p| p.starts_at());
    Ok(perfs)
}

struct Person {
    given: &'static str,
    family: &'static str,
    /// E-mail local part as they usually write it, lower-case ASCII.
    local: String,
    domain: &'static str,
    /// How their phone can be written, and their three digits.
    phone: Option<(&'static [&'static str; 6], String)>,
    /// A payment-processor token, for those who pay by card online.
    card: Option<String>,
    card_on_file: bool,
    /// How keen they are: their weight when drawing who books next.
    appetite: usize,
    /// Every raw e-mail and phone they sent so far, first first.
    spellings: Vec<String>,
}

fn people(rng: &mut Rng) -> Result<Vec<Person>> {
    // Every (given, family) pair is someone else, with a mailbox of their own.
    let mut names: Vec<_> = GIVEN.iter().flat_map(|&g| FAMILY.map(|f| (g, f))).collect();
    names.sort_by_cached_key(|_| rng.next());
    let mut people = Vec::new();
    for (i, (given, family)) in names.into_iter().take(PEOPLE).enumerate() {
        // The library's own name folding gives ASCII e-mail parts: "Łukasz" -> "lukasz".
        let g = normalize::name(given)?.replace(' ', "");
        let f = normalize::name(family)?.replace(' ', "");
        let local = [format!("{g}.{f}"), format!("{g}{f}"), format!("{f}.{g}")];
        let local = local[rng.below(3)].clone();
        let phone = PHONES.get(rng.below(3));
        people.push(Person {
            given,
            family,
            local,
            domain: rng.pick(&["gmail.com", "gmail.com", "example.org", "example.com"]),
            phone: phone.map(|forms| (forms, format!("{i:03}"))),
            card: rng.chance(40).then(|| format!("tok-sample-{i:04}")),
            card_on_file: false,
            appetite: rng.pick(&[8, 3, 3, 3, 1, 1, 1, 1, 1, 1]),
            spellings: Vec::new(),
        });
    }
    Ok(people)
}

/// Who the story sends to each performance.
type Story = Vec<Vec<usize>>;

/// The story, by performance: who it sends there. Three people who rarely come saw
/// Twelfth Night two seasons ago (the first performance) and nothing since until tonight,
/// three more are newcomers who book closing night only, and sixteen keener people saw
/// Hamlet once and come back for closing night. Story bookings always go ahead.
fn story(people: &mut [Person], perfs: &[Performance], tonight: usize, rng: &mut Rng) -> Story {
    let hamlet = (0..tonight).filter(|&i| perfs[i].production() == perfs[tonight].production());
    let hamlet: Vec<usize> = hamlet.collect();
    let mut by_appetite = |keep: fn(usize) -> bool| {
        let mut chosen: Vec<usize> = (0..PEOPLE).filter(|&p| keep(people[p].appetite)).collect();
        chosen.sort_by_cached_key(|_| rng.next());
        chosen
    };
    let (occasional, keen) = (by_appetite(|a| a == 1), by_appetite(|a| a > 1));
    let mut story = vec![Vec::new(); perfs.len()];
    for (k, &person) in occasional.iter().take(6).enumerate() {
        people[person].appetite = 0; // Never drawn: they come when the story says.
        if k < 3 {
            story[0].push(person);
        }
        story[tonight].push(person);
    }
    for &person in keen.iter().take(16) {
        story[rng.pick(&hamlet)].push(person);
        story[tonight].push(person);
    }
    story
}

/// Who buys, how many tickets, and who holds the second ticket if not the buyer.
type Sale = (usize, usize, Option<usize>);

/// Someone from the pool for whom `taken` is false, if one turns up soon.
fn draw(pool: &[usize], rng: &mut Rng, taken: &dyn Fn(usize) -> bool) -> Option<usize> {
    (0..500).map(|_| rng.pick(pool)).find(|&c| !taken(c))
}

/// `n` adjacent seats in one of 16 rows of 24, none of them `taken` yet.
fn seats(taken: &mut HashSet<String>, n: usize, rng: &mut Rng) -> Vec<String> {
    loop {
        let row = char::from(b'A' + rng.below(16) as u8);
        let first = 1 + rng.below(25 - n);
        let seats: Vec<String> = (first..first + n).map(|s| format!("{row}{s}")).collect();
        if seats.iter().all(|s| !taken.contains(s)) {
            taken.extend(seats.iter().cloned());
            return seats;
        }
    }
}

/// Spelling `k` of an e-mail: 0-2 work anywhere, 3-5 only at Gmail, which ignores dots
/// and +tags, and takes googlemail.com for gmail.com.
fn email_spelling(local: &str, domain: &str, k: usize, rng: &mut Rng) -> String {
    let tag = rng.pick(&["theatre", "tickets", "hamlet"]);
    match k {
        0 => format!("{local}@{domain}"),
        1 => format!("  {local}@{domain} "),
        2 => format!("{local}@{domain}").to_uppercase(),
        3 if local.contains('.') => format!("{}@{domain}", local.replace('.', "")),
        3 => format!("{}.{}@{domain}", &local[..1], &local[1..]),
        4 => format!("{local}+{tag}@{domain}"),
        _ => format!("{local}@googlemail.com"),
    }
}

// ================================================================ feeding memory

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// Web checkout: name, e-mail, sometimes phone, card token.
    Web,
    /// Box-office phone booking: name and phone number only.
    Phone,
    /// The app, or a named guest on someone's order: name and e-mail only.
    App,
}

/// What memory answered, checked against the generator's truth: one person, one patron.
#[derive(Default)]
struct Tally {
    /// Events observed and held back, by kind.
    fed: BTreeMap<&'static str, usize>,
    held_back: BTreeMap<&'static str, usize>,
    /// Memory's decisions ("known", "review", "new") for the buyers in orders.
    buyers: BTreeMap<&'static str, usize>,
    /// The patron each person became at their first appearance.
    patron_of: BTreeMap<usize, PatronId>,
    missed: usize,
    wrong: usize,
    /// Every moment proposed, by orders and door scans alike.
    moments: Vec<Moment>,
    observing: Duration,
}

/// The season as it happens: what people send the box office, and what memory answers.
struct Season {
    memory: Memory,
    people: Vec<Person>,
    rng: Rng,
    doors: DateTime<Utc>,
    /// Seats sold for the performance on sale.
    taken: HashSet<String>,
    orders: usize,
    tally: Tally,
}

impl Season {
    /// What this person says about themselves through this channel today.
    fn signals(&mut self, p: usize, channel: Channel) -> Signals {
        let (person, rng) = (&mut self.people[p], &mut self.rng);
        let first = person.spellings.is_empty();
        // Without a phone, a phone booking is a web booking.
        let channel = match channel {
            Channel::Phone if person.phone.is_none() => Channel::Web,
            other => other,
        };
        let name = Signals::new().given_name(person.given);
        let mut signals = name.family_name(person.family);
        let mut raw = Vec::new();
        if channel != Channel::Phone {
            // The usual form the first time, any form after that.
            let forms = if person.domain == "gmail.com" { 6 } else { 3 };
            let k = if first { 0 } else { rng.below(forms) };
            let email = email_spelling(&person.local, person.domain, k, rng);
            signals = signals.email(email.clone());
            raw.push(email);
        }
        // Everyone gives their phone the first time, so that phone bookings find them.
        let with_phone = match channel {
            Channel::Phone => true,
            Channel::Web => first || rng.chance(30),
            Channel::App => first,
        };
        if let (true, Some((forms, digits))) = (with_phone, &person.phone) {
            let phone = forms[if first { 0 } else { rng.below(6) }].replace('#', digits);
            signals = signals.phone(phone.clone());
            raw.push(phone);
        }
        if let (Channel::Web, Some(card)) = (channel, &person.card) {
            signals = signals.card_token(card.clone());
            person.card_on_file = true;
        }
        raw.retain(|r| !person.spellings.contains(r));
        person.spellings.extend(raw);
        signals
    }

    /// Sells tickets for a performance; returns the order id and the ticket ids.
    fn sell(&mut self, at: DateTime<Utc>, perf: &str, sale: Sale) -> Result<(String, Vec<String>)> {
        let (buyer, tickets, guest) = sale;
        self.orders += 1;
        let order = format!("O{:05}", self.orders);
        let first = self.people[buyer].spellings.is_empty();
        let channel = match (first, self.rng.below(4)) {
            (true, _) | (false, 0 | 1) => Channel::Web,
            (false, 2) => Channel::Phone,
            (false, _) => Channel::App,
        };
        let signals = self.signals(buyer, channel);
        let (mut event, mut people) = (Order::new(order.as_str(), signals), vec![buyer]);
        let seats = seats(&mut self.taken, tickets, &mut self.rng);
        let tickets: Vec<String> = (1..=tickets).map(|k| format!("{order}-{k}")).collect();
        for (k, (id, seat)) in tickets.iter().zip(seats).enumerate() {
            let ticket = Ticket::new(id.as_str(), perf).seat_label(seat);
            let mut ticket = ticket.price(Money::new(3600, Currency::GBP));
            if let (1, Some(guest)) = (k, guest) {
                ticket = ticket.holder(self.signals(guest, Channel::App));
                people.push(guest);
            }
            event = event.ticket(ticket);
        }
        let event = Event::order(format!("evt-{order}"), event).at(at);
        self.observe(event, "order", &people)?;
        Ok((order, tickets))
    }

    /// Observes an event unless it happens after the doors open, and checks who memory
    /// says its people are: the event's own person first, then named ticket holders.
    fn observe(&mut self, event: Event, kind: &'static str, people: &[usize]) -> Result<()> {
        let tally = &mut self.tally;
        if event.occurred_at().is_none_or(|at| at >= self.doors) {
            *tally.held_back.entry(kind).or_default() += 1;
            return Ok(());
        }
        let started = Instant::now();
        let observation = self.memory.observe(event)?;
        tally.observing += started.elapsed();
        *tally.fed.entry(kind).or_default() += 1;

        let own = (observation.patron(), observation.recognition());
        let holders = observation.participants().iter();
        let answers = once(own).chain(holders.map(|p| (p.patron(), p.recognition())));
        for (k, (&person, (patron, recognition))) in people.iter().zip(answers).enumerate() {
            let decision = recognition.decision();
            let first = !tally.patron_of.contains_key(&person);
            let expected = *tally.patron_of.entry(person).or_insert(patron);
            // Right: their own patron, new at their first appearance and only then.
            let right = expected == patron && first == (decision == "new");
            tally.wrong += usize::from(!right && decision == "known");
            tally.missed += usize::from(!right && decision != "known");
            if kind == "order" && k == 0 {
                *tally.buyers.entry(decision).or_default() += 1;
            }
        }
        // A door scan can propose notes for a later performance: keep every moment.
        tally.moments.extend_from_slice(observation.moments());
        Ok(())
    }
}

/// The season in time order. Before each performance: its orders, spread over the weeks
/// since the one before (the story's people first, then others drawn by appetite, some
/// with a named guest); now and then a donation; refunds the day before. On the night:
/// door scans from the doors opening, then drinks at the interval.
fn run(season: &mut Season, perfs: &[Performance], story: &Story) -> Result<()> {
    let gbp = |pence| Money::new(pence, Currency::GBP);
    // A person is in the pool once per unit of appetite.
    let appetite = |p: usize| season.people[p].appetite;
    let pool: Vec<usize> = (0..PEOPLE).flat_map(|p| repeat_n(p, appetite(p))).collect();
    let mut last_curtain = DateTime::<Utc>::MIN_UTC;
    for (k, perf) in perfs.iter().enumerate() {
        let (start, id, rng) = (perf.starts_at(), perf.id().as_str(), &mut season.rng);
        let mut holding: HashSet<usize> = story[k].iter().copied().collect();
        let mut sales = Vec::new();
        while sales.len() < ORDERS_PER_PERFORMANCE {
            // The story's people first, then others drawn by appetite.
            let next = story[k].get(sales.len()).copied();
            let Some(buyer) = next.or_else(|| draw(&pool, rng, &|p| holding.contains(&p))) else {
                break;
            };
            let tickets = rng.pick(&[1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 4]);
            let guest = match tickets == 2 && rng.chance(35) {
                true => draw(&pool, rng, &|p| p == buyer || holding.contains(&p)),
                false => None,
            };
            holding.extend(once(buyer).chain(guest));
            sales.push((buyer, tickets, guest));
        }
        let on_sale = (start - TimeDelta::days(28)).max(last_curtain + TimeDelta::hours(3));
        last_curtain = start;
        let gap = (start - TimeDelta::days(2) - on_sale) / (sales.len() as i32 + 1);
        season.taken.clear();
        let mut sold = Vec::new();
        for (n, sale) in (1..).zip(sales) {
            sold.push((sale.0, season.sell(on_sale + gap * n, id, sale)?));
        }

        // Now and then a donation, more often from the keen.
        if season.rng.chance(90) {
            let (giver, pence) = (season.rng.pick(&pool), season.rng.pick(&[1000, 2500, 5000]));
            let donation = Donation::new(season.signals(giver, Channel::App), gbp(pence));
            let at = start - TimeDelta::hours(36);
            let event = Event::donation(format!("don-{id}"), donation).at(at);
            season.observe(event, "donation", &[giver])?;
        }
        // Story bookings always go ahead; others are now and then refunded or not used.
        let (mut scans, mut drinks) = (Vec::new(), Vec::new());
        for (n, (buyer, (order, tickets))) in (1..).zip(sold) {
            let story = story[k].contains(&buyer);
            if !story && season.rng.chance(5) {
                let refund = Refund::whole_order(order.as_str());
                let at = start - TimeDelta::days(1) + TimeDelta::minutes(n);
                let event = Event::refund(format!("ref-{order}"), refund).at(at);
                season.observe(event, "refund", &[])?;
                continue;
            }
            let rng = &mut season.rng;
            if story || !rng.chance(5) {
                let used = tickets.iter().filter(|_| story || !rng.chance(3));
                scans.extend(used.cloned());
                // The till sees only the card: drinks go to those who gave it online.
                if season.people[buyer].card_on_file && rng.chance(25) {
                    drinks.push((buyer, 1 + rng.below(3) as u32));
                }
            }
        }
        let doors = start - DOORS_BEFORE;
        for (n, ticket) in (1..).zip(scans) {
            let scan = Scan::entry(ticket.as_str()).scan_id(format!("door-{ticket}"));
            let at = doors + TimeDelta::seconds(20 * n);
            let event = Event::scan(format!("scan-{ticket}"), scan).at(at);
            season.observe(event, "door scan", &[])?;
        }
        for (n, (person, glasses)) in (1..).zip(drinks) {
            let card = season.people[person].card.clone().unwrap_or_default();
            let wine = LineItem::new("glass-of-wine", glasses, gbp(750));
            let purchase = Purchase::new(Signals::new().card_token(card)).at_performance(id);
            let at = start + TimeDelta::minutes(80 + n);
            let event = Event::purchase(format!("bar-{id}-{person}"), purchase.item(wine));
            season.observe(event.at(at), "bar purchase", &[person])?;
        }
    }
    Ok(())
}

// ================================================================ printing

/// "3 door scans", "1 refund".
fn count(noun: &str, n: usize) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// "1st", "2nd", "11th", "23rd".
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) | (0 | 4.., _) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        _ => "rd",
    };
    format!("{n}{suffix}")
}

/// "F12" sorts as row F, seat 12 (not before "F2" as text would).
fn seat_key(label: &str) -> (String, u32) {
    let (row, number) = label.split_at(label.find(char::is_numeric).unwrap_or(0));
    (row.to_owned(), number.parse().unwrap_or(0))
}

/// "F11-12" for a block in one row, otherwise the labels.
fn seats_text(labels: &[String]) -> String {
    let keys: Vec<(String, u32)> = labels.iter().map(|l| seat_key(l)).collect();
    let next = |w: &[(String, u32)]| w[0].0 == w[1].0 && w[0].1 + 1 == w[1].1;
    match (&keys[..], keys.windows(2).all(next)) {
        ([first, .., last], true) => format!("{}{}-{}", first.0, first.1, last.1),
        _ => labels.join(" "),
    }
}

fn name_of(memory: &Memory, patron: PatronId) -> String {
    let name = memory.patron(patron).and_then(|p| p.latest_name());
    name.map_or_else(|| "(no name)".to_owned(), |n| n.display())
}

/// One line of a list for front of house.
fn print_row(seat: &str, name: &str, text: &str) {
    println!("  {seat:<7} {name:<24} {text}");
}

/// What front of house should know about this person's visits, as of tonight.
fn visits(patron: &PatronView<'_>, tonight: &Performance, production: &Production) -> String {
    let stats = patron.stats();
    let attended = stats.performances_attended();
    if attended == 0 {
        return "first visit".to_owned();
    }
    let mut parts = Vec::new();
    let here = patron.visits_to(production.id().as_str()).count();
    if here > 0 {
        let (nth, title) = (ordinal(here + 1), production.title());
        parts.push(format!("{nth} visit to {title}"));
    }
    let away = tonight.starts_at() - stats.last_attended_at().unwrap_or(tonight.starts_at());
    let months = away.num_days() * 12 / 365;
    if months >= 12 {
        parts.push(format!("back after {months} months"));
    }
    if attended >= 5 {
        parts.push(format!("regular: {attended} shows"));
    } else if parts.is_empty() {
        parts.push(count("show", attended as usize) + " before");
    }
    parts.join(" · ")
}

fn print_header(memory: &Memory, tally: &Tally, tonight: &Performance) {
    let catalog = memory.catalog();
    let cutoff = tonight.starts_at() - TimeDelta::days(365);
    let old = catalog.performances().filter(|p| p.starts_at() < cutoff);
    let (venues, productions) = (catalog.venues().count(), catalog.productions().count());
    let (performances, old) = (catalog.performances().count(), old.count());
    let counts = |counts: &BTreeMap<&str, usize>| -> Vec<String> {
        counts.iter().map(|(kind, &n)| count(kind, n)).collect()
    };
    let fed: Vec<String> = counts(&tally.fed).chunks(3).map(|c| c.join(", ")).collect();
    let all: usize = tally.fed.values().sum();
    let fed = fed.join(",\n             ");
    let held_back = counts(&tally.held_back).join(", ");
    let (patrons, people) = (memory.patron_count(), tally.patron_of.len());
    let buyers = |decision| tally.buyers.get(decision).copied().unwrap_or(0);
    let (known, review, new) = (buyers("known"), buyers("review"), buyers("new"));
    let orders = known + review + new;
    let (missed, wrong) = (tally.missed, tally.wrong);
    let verdict = match missed + wrong {
        0 => "every answer matches the generator's truth",
        _ => "MISMATCHES with the generator's truth",
    };

    let title = format!("regulars: box office sample (seed {SEED:#x})");
    println!("{title}\n{}\n", "=".repeat(title.len()));
    println!("Fed in, in time order");
    print!("  catalog    {venues} venues, {productions} productions, {performances} performances");
    println!(" ({old} from two seasons ago)");
    println!("  events     {all} observed: {fed}");
    println!("  held back  {held_back} (after the doors open)");
    println!("\nWhat memory made of it");
    println!("  patrons    {patrons} created, one per person who appeared ({people} of {PEOPLE})");
    print!("  orders     {orders}: {known} recognized a returning patron,");
    println!(" {new} new, {review} for review");
    println!("  check      {verdict} ({missed} missed, {wrong} wrong)");
}

/// One line per ticket holder, by seat, with what memory knows of their visits; returns
/// the holders.
fn print_front_of_house(memory: &Memory, tonight: &Performance) -> Result<Vec<PatronId>> {
    let catalog = memory.catalog();
    let production = catalog.production_of(tonight).ok_or("no production")?;
    let venue = catalog.venue(tonight.venue().as_str()).ok_or("no venue")?;
    let mut holders: Vec<(PatronId, PatronId, Vec<String>)> = Vec::new(); // holder, buyer, seats
    let mut refunded = 0;
    for ticket in memory.tickets_for(TONIGHT).ok_or("no TONIGHT")? {
        let (holder, buyer) = (ticket.holder(), ticket.buyer());
        refunded += usize::from(ticket.is_refunded());
        if ticket.is_refunded() || holders.iter().any(|h| h.0 == holder) {
            continue;
        }
        // Their seats tonight, from the tickets they hold.
        let patron = memory.patron(holder).ok_or("holders are patrons")?;
        let here = |t: &TicketView<'_>| t.performance().is_some_and(|p| p.id() == tonight.id());
        let tickets = patron.tickets().filter(|t| !t.is_refunded() && here(t));
        let seat = |t: TicketView<'_>| Some(t.seat()?.label().to_owned());
        let mut seats: Vec<String> = tickets.filter_map(seat).collect();
        seats.sort_by_key(|s| seat_key(s));
        holders.push((holder, buyer, seats));
    }
    holders.sort_by_key(|(_, _, seats)| seat_key(&seats[0]));

    let (title, venue, count) = (production.title(), venue.name(), holders.len());
    let curtain = tonight.starts_at().format("%a %-d %b %Y, %H:%M");
    let doors = (tonight.starts_at() - DOORS_BEFORE).format("%H:%M");
    let tickets: usize = holders.iter().map(|h| h.2.len()).sum();
    println!("\nFront of house: {title}, {curtain} · {venue}");
    print!("as of {doors}, doors open: {count} holders, {tickets} tickets");
    println!(" ({refunded} refunded left out)\n");
    for (holder, buyer, seats) in &holders {
        let patron = memory.patron(*holder).ok_or("holders are patrons")?;
        let mut info = visits(&patron, tonight, production);
        if holder != buyer {
            info += &format!(" · guest of {}", name_of(memory, *buyer));
        }
        print_row(&seats_text(seats), &name_of(memory, *holder), &info);
    }
    Ok(holders.into_iter().map(|h| h.0).collect())
}

/// Tonight's brief: the moments still to act on (refunded tickets' moments are retired),
/// by section and priority, as memory keeps them.
fn print_brief(memory: &Memory) -> Result<()> {
    let brief = memory.brief(TONIGHT)?;
    println!("\n{brief}");
    Ok(())
}

/// Every e-mail and phone spelling of tonight's holder who used the most: they show best
/// what normalizing is for.
fn print_spellings(people: &[Person], tally: &Tally, holders: &[PatronId]) {
    let here = tally.patron_of.iter().filter(|e| holders.contains(e.1));
    let most = here.max_by_key(|&(&p, _)| people[p].spellings.len());
    if let Some((&person, _)) = most {
        let (given, family) = (people[person].given, people[person].family);
        print!("\nEvery spelling {given} {family} used this season,");
        println!(" all recognized as one patron:");
        for spelling in &people[person].spellings {
            println!("  {spelling:?}");
        }
    }
}

fn print_summary(tally: &Tally) {
    let mut by_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for m in &tally.moments {
        let (all, tonight) = by_rule.entry(m.rule()).or_default();
        *all += 1;
        *tonight += usize::from(m.performance().is_some_and(|p| p.as_str() == TONIGHT));
    }
    let rules: Vec<String> = by_rule
        .iter()
        .map(|(rule, (all, tonight))| format!("{rule} {all} ({tonight} for tonight)"))
        .collect();
    println!("\nMoments proposed this season: {}", rules.join(", "));

    // The one line that differs between runs.
    let fed: usize = tally.fed.values().sum();
    let secs = tally.observing.as_secs_f64();
    let (ms, rate) = (secs * 1e3, fed as f64 / secs.max(1e-9) / 1e3);
    println!("\n--\nobserved {fed} events in {ms:.1} ms ({rate:.0}k events/s)");
}

fn main() -> Result<()> {
    let mut rng = Rng(SEED);
    let mut people = people(&mut rng)?;
    let perfs = performances()?;
    let tonight = perfs.iter().position(|p| p.id().as_str() == TONIGHT);
    let tonight = tonight.ok_or("TONIGHT is not in SHOWS")?;
    let story = story(&mut people, &perfs, tonight, &mut rng);

    let doors = perfs[tonight].starts_at() - DOORS_BEFORE;
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        // Every event carries its own time; the clock stands at doors-open for the rest.
        .clock(ManualClock::new(doors))
        .build()?;
    for (id, name) in VENUES {
        memory.define_venue(Venue::new(id, name))?;
    }
    for (id, title, genres, ..) in SHOWS {
        let production = Production::new(id, title);
        memory.define_production(genres.iter().fold(production, |p, g| p.genre(g)))?;
    }
    for performance in &perfs {
        memory.define_performance(performance.clone())?;
    }
    let mut season = Season {
        memory,
        people,
        rng,
        doors,
        taken: HashSet::new(),
        orders: 0,
        tally: Tally::default(),
    };
    run(&mut season, &perfs, &story)?;

    let (memory, tally, tonight) = (&season.memory, &season.tally, &perfs[tonight]);
    print_header(memory, tally, tonight);
    let holders = print_front_of_house(memory, tonight)?;
    print_brief(memory)?;
    print_spellings(&season.people, tally, &holders);
    print_summary(tally);
    Ok(())
}
