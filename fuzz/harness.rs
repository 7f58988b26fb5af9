//! What every fuzz target runs, one function per target.
//!
//! Shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and by
//! `tests/fuzz_regressions.rs`, which feeds the saved inputs in `fuzz/regressions/` through
//! the same functions under plain `cargo test`. Each function takes the fuzzer's bytes and
//! panics only when the crate breaks a promise: a panic inside the crate, or a broken
//! property (idempotence, determinism, "a rejected call changes nothing").
//!
//! Only the crate's public API and `chrono` are used, so the file builds in both places.

// Each fuzz target uses one of these functions; the test uses them all.
#![allow(dead_code)]

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use regulars::import::{ImportError, OrderCsv};
use regulars::normalize::{self, Country};
use regulars::{
    Currency, Event, ManualClock, Memory, Order, Performance, Production, Signals, Venue,
};

/// What a target runs on one input.
pub type Harness = fn(&[u8]);

/// The targets, by name: each has a file in `fuzz/fuzz_targets/` and a directory in
/// `fuzz/regressions/`.
pub const TARGETS: [(&str, Harness); 10] = [
    ("email", email),
    ("phone", phone),
    ("name", name),
    ("postcode", postcode),
    ("country", country),
    ("recognize", recognize),
    ("import_csv", import_csv),
    ("events", events),
    ("snapshot", snapshot),
    ("journal", journal),
];

/// Countries the phone and postcode targets pick from with the input's first byte: every
/// country with phone numbering data, then three without (BR, AR, LT).
const COUNTRY_CODES: [&str; 50] = [
    "AE", "AT", "AU", "BE", "BG", "CA", "CH", "CN", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR",
    "GB", "GR", "HK", "HR", "HU", "IE", "IL", "IN", "IS", "IT", "JP", "KR", "LU", "LV", "MT", "MX",
    "NL", "NO", "NZ", "PL", "PT", "RO", "RU", "SE", "SG", "SI", "SK", "TR", "UA", "US", "ZA", "BR",
    "AR", "LT",
];

fn pick_country(byte: u8) -> Country {
    let code = COUNTRY_CODES[usize::from(byte) % COUNTRY_CODES.len()];
    Country::parse(code).expect("the list holds assigned codes")
}

/// The input as text. Invalid UTF-8 is replaced rather than skipped, so that every input
/// the fuzzer tries reaches the normalizer.
fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Checks what every rejection promises: a short lowercase message.
fn check_rejection(rejection: &normalize::Rejection) {
    let message = rejection.to_string();
    assert!(!message.is_empty() && message.len() < 100, "{message:?}");
    assert!(message.starts_with(char::is_lowercase), "{message:?}");
}

// ---------------------------------------------------------------- normalizers

/// `normalize::email`: idempotent, and the result has the documented shape.
pub fn email(data: &[u8]) {
    let raw = text(data);
    match normalize::email(&raw) {
        Ok(once) => {
            assert_eq!(
                normalize::email(&once).as_ref(),
                Ok(&once),
                "not idempotent"
            );
            assert!(once.len() <= 254, "{} bytes", once.len());
            assert_eq!(once.matches('@').count(), 1, "{once:?}");
            assert!(!once.contains(char::is_whitespace), "{once:?}");
            let (local, domain) = once.split_once('@').expect("one '@'");
            assert!(!local.is_empty() && local.len() <= 64, "{once:?}");
            assert!(domain.contains('.') && !domain.ends_with('.'), "{once:?}");
        }
        Err(rejection) => check_rejection(&rejection),
    }
}

/// `normalize::phone`, in the country named by the first byte: idempotent whatever the
/// country, and E.164-shaped.
pub fn phone(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let home = pick_country(first);
    let raw = text(rest);
    match normalize::phone(&raw, home) {
        Ok(once) => {
            let digits = once.strip_prefix('+').expect("starts with '+'");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{once:?}");
            assert!((7..=15).contains(&digits.len()), "{once:?}");
            assert!(!digits.starts_with('0'), "{once:?}");
            // An E.164 number reads the same in any country.
            for other in [home, Country::GB, Country::US, Country::IT, Country::RU] {
                assert_eq!(
                    normalize::phone(&once, other).as_ref(),
                    Ok(&once),
                    "not idempotent in {other}"
                );
            }
        }
        Err(rejection) => check_rejection(&rejection),
    }
}

/// `normalize::name`: idempotent, and the key is lowercase ASCII words.
pub fn name(data: &[u8]) {
    let raw = text(data);
    match normalize::name(&raw) {
        Ok(once) => {
            assert_eq!(normalize::name(&once).as_ref(), Ok(&once), "not idempotent");
            assert!(
                once.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' '),
                "{once:?}"
            );
            assert!(once.bytes().any(|b| b.is_ascii_lowercase()), "{once:?}");
            assert!(
                !once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "),
                "{once:?}"
            );
            assert!(once.len() <= 256, "{} bytes", once.len());
        }
        Err(rejection) => check_rejection(&rejection),
    }
}

/// `normalize::postcode`, with no country (first byte even) or the country the first byte
/// names: idempotent, uppercase ASCII letters and digits.
pub fn postcode(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let country = (first % 2 == 1).then(|| pick_country(first / 2));
    let raw = text(rest);
    match normalize::postcode(&raw, country) {
        Ok(once) => {
            assert_eq!(
                normalize::postcode(&once, country).as_ref(),
                Ok(&once),
                "not idempotent"
            );
            assert!(
                once.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                "{once:?}"
            );
            assert!((1..=12).contains(&once.len()), "{once:?}");
            if country == Some(Country::US) {
                assert!(once.len() == 5, "{once:?}");
            }
        }
        Err(rejection) => check_rejection(&rejection),
    }
}

/// `Country::parse` and `Currency::parse`: what they accept reads back the same.
pub fn country(data: &[u8]) {
    let raw = text(data);
    match Country::parse(&raw) {
        Ok(country) => {
            let code = country.as_str();
            assert!(
                code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code:?}"
            );
            assert_eq!(Country::parse(code), Ok(country));
            assert_eq!(country.to_string(), code);
        }
        Err(rejection) => check_rejection(&rejection),
    }
    if let Ok(currency) = Currency::parse(&raw) {
        assert_eq!(Currency::parse(currency.as_str()), Ok(currency));
    }
}

// ---------------------------------------------------------------- recognition

/// The fields of a [`Signals`], in the order the `recognize` target reads them.
const SIGNAL_FIELDS: usize = 12;

/// Signals from the input: up to [`SIGNAL_FIELDS`] fields separated by `0xFF` (a byte that
/// never occurs in UTF-8, so each field can be any text). A field the input does not
/// reach is absent; one it reaches is set, even to an empty string. The last field, read
/// as a little-endian day count from 1970-01-01, is the birth date.
pub fn signals_from(data: &[u8]) -> Signals {
    let mut fields = data.split(|&b| b == 0xFF);
    let mut next = || fields.next().map(|field| text(field).into_owned());
    let mut signals = Signals::new();
    if let Some(v) = next() {
        signals = signals.given_name(v);
    }
    if let Some(v) = next() {
        signals = signals.family_name(v);
    }
    if let Some(v) = next() {
        signals = signals.email(v);
    }
    if let Some(v) = next() {
        signals = signals.phone(v);
    }
    if let Some(v) = next() {
        signals = signals.street(v);
    }
    if let Some(v) = next() {
        signals = signals.postcode(v);
    }
    if let Some(v) = next() {
        signals = signals.city(v);
    }
    if let Some(v) = next() {
        signals = signals.country(v);
    }
    if let Some(v) = next() {
        signals = signals.card_token(v);
    }
    if let (Some(system), Some(value)) = (next(), next()) {
        signals = signals.external_id(system, value);
    }
    if let Some(v) = next() {
        let mut days = [0u8; 4];
        for (slot, byte) in days.iter_mut().zip(v.bytes()) {
            *slot = byte;
        }
        let days = i64::from(i32::from_le_bytes(days));
        if let Some(date) = epoch().checked_add_signed(TimeDelta::days(days)) {
            signals = signals.birth_date(date);
        }
    }
    signals
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

/// When the fuzzed memories' clocks stand.
pub fn fuzz_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// A memory with a catalog and a few patrons whose details overlap with one another and
/// with what the fuzzer is likely to try, so that recognition has candidates to score.
pub fn seeded_memory() -> Memory {
    let mut memory = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(fuzz_now()))
        .build()
        .expect("valid configuration");
    memory
        .define_venue(Venue::new("main", "Main House"))
        .expect("venue");
    memory
        .define_production(Production::new("hamlet", "Hamlet").genre("drama"))
        .expect("production");
    memory
        .define_performance(Performance::new(
            "hamlet-1",
            "hamlet",
            "main",
            fuzz_now() + TimeDelta::days(7),
        ))
        .expect("performance");
    memory
        .define_performance(Performance::new(
            "hamlet-2",
            "hamlet",
            "main",
            fuzz_now() - TimeDelta::days(7),
        ))
        .expect("performance");
    let born = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let people = [
        Signals::new()
            .given_name("Ana")
            .family_name("Silva")
            .email("ana.silva@example.org")
            .phone("020 7946 0018")
            .postcode("SW1A 1AA")
            .birth_date(born(1980, 5, 17)),
        Signals::new()
            .given_name("Ann")
            .family_name("Silva")
            .email("a@b.co")
            .phone("+44 20 7946 0019")
            .card_token("tok_1"),
        Signals::new()
            .given_name("Ben")
            .family_name("Silva")
            .email("ana.silva@example.org")
            .street("1 High St")
            .city("London"),
        Signals::new()
            .given_name("A")
            .family_name("S")
            .external_id("loyalty", "L-1")
            .birth_date(born(1980, 5, 17)),
    ];
    for (i, person) in people.into_iter().enumerate() {
        memory
            .observe(Event::order(
                format!("seed-{i}"),
                Order::new(format!("seed-o-{i}"), person),
            ))
            .expect("seed order");
    }
    memory
}

/// `Memory::recognize` on signals from the input, then `observe` of an order with them:
/// recognition is deterministic and read-only, `observe` fails exactly when `recognize`
/// does (both normalize the same signals on the same day), a rejected order changes
/// nothing, and an accepted one can be replayed.
pub fn recognize(data: &[u8]) {
    let signals = signals_from(data);
    let mut memory = seeded_memory();
    let before = (memory.patron_count(), memory.event_count());

    let first = memory.recognize(&signals);
    let second = memory.recognize(&signals);
    match (&first, &second) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.decision(), b.decision());
            assert_eq!(a.known_patron(), b.known_patron());
            assert_eq!(a.explain(), b.explain());
            assert!(!a.explain().is_empty());
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("recognize answered differently twice: {first:?} then {second:?}"),
    }
    assert_eq!((memory.patron_count(), memory.event_count()), before);

    let event = Event::order("fz-1", Order::new("fz-o-1", signals.clone()));
    match memory.observe(event.clone()) {
        Ok(seen) => {
            assert!(first.is_ok(), "observe accepted what recognize refused");
            assert!(memory.patron(seen.patron()).is_some());
            assert_eq!(memory.event_count(), before.1 + 1);
            let again = memory.observe(event).expect("a replay is accepted");
            assert!(again.is_replay());
            assert_eq!(
                again.patron(),
                memory.patron(seen.patron()).expect("kept").id()
            );
            memory
                .recognize(&signals)
                .expect("signals memory took are usable");
        }
        Err(error) => {
            assert!(
                first.is_err(),
                "observe refused what recognize accepted: {error}"
            );
            assert!(!error.to_string().is_empty());
            assert_eq!((memory.patron_count(), memory.event_count()), before);
        }
    }
}

// ---------------------------------------------------------------- imports

/// `OrderCsv` over the input, each good row observed: errors name a line within the file,
/// rows come in line order, and what `observe` refuses is named by line too.
pub fn import_csv(data: &[u8]) {
    // A record's line cannot be past the last line of the input. Lines end in "\r\n",
    // "\n" or a lone "\r", as the CSV reader reads them.
    let crlf = data.windows(2).filter(|w| w == b"\r\n").count();
    let breaks = data.iter().filter(|&&b| b == b'\r' || b == b'\n').count() - crlf;
    let lines = 1 + breaks as u64;
    let reader = match OrderCsv::from_reader(data) {
        Ok(reader) => reader,
        Err(error) => {
            assert!(error.is_fatal(), "{error}");
            check_import_error(&error, lines);
            return;
        }
    };
    let mut memory = seeded_memory();
    let mut last_line = 1;
    for row in reader {
        match row {
            Ok(record) => {
                let line = record.line();
                assert!(line > last_line, "line {line} after line {last_line}");
                assert!(line <= lines, "line {line} of {lines}");
                last_line = line;
                assert_eq!(record.event().id().as_str(), record.record_id());
                let before = (memory.patron_count(), memory.event_count());
                if let Err(error) = memory.observe(record.into_event()) {
                    assert_eq!((memory.patron_count(), memory.event_count()), before);
                    let error = ImportError::from_observe(line, &error);
                    assert_eq!(error.line(), Some(line));
                    check_import_error(&error, lines);
                }
            }
            Err(error) => {
                check_import_error(&error, lines);
                if let Some(line) = error.line() {
                    assert!(line > last_line, "line {line} after line {last_line}");
                    last_line = line;
                }
            }
        }
    }
}

fn check_import_error(error: &ImportError, lines: u64) {
    assert!(!error.to_string().is_empty());
    if let Some(line) = error.line() {
        assert!(
            (1..=lines).contains(&line),
            "line {line} of {lines}: {error}"
        );
    }
}

// ---------------------------------------------------------------- event sequences

/// Reads the fuzzer's bytes as a little program of calls. Every read succeeds: past the
/// end of the input it yields zeros and empty strings, so every input is a program.
struct Program<'a> {
    data: &'a [u8],
}

impl Program<'_> {
    fn is_done(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    fn int(&mut self) -> i64 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = self.byte();
        }
        i64::from_le_bytes(bytes)
    }

    /// Text of a length given by the next byte (at most 63 bytes, or a 2000-byte run of
    /// one character when the length byte says so, for size limits).
    fn text(&mut self) -> String {
        let len = self.byte();
        if len == 0xFF {
            let c = char::from(self.byte());
            return c.to_string().repeat(2000);
        }
        let len = usize::from(len % 64).min(self.data.len());
        let (head, rest) = self.data.split_at(len);
        self.data = rest;
        String::from_utf8_lossy(head).into_owned()
    }

    /// One of `known` (usually), or text from the input.
    fn pick(&mut self, known: &[&str]) -> String {
        let i = usize::from(self.byte());
        match known.get(i % (known.len() + 1)) {
            Some(id) => (*id).to_owned(),
            None => self.text(),
        }
    }

    fn amount(&mut self) -> regulars::Money {
        let minor = match self.byte() % 4 {
            0 => self.int(),
            _ => i64::from(self.byte()) * 100,
        };
        let currency = if self.flag() {
            Currency::GBP
        } else {
            Currency::EUR
        };
        regulars::Money::new(minor, currency)
    }

    /// A time near the catalog's performances, or anywhere chrono can go.
    fn time(&mut self) -> Option<DateTime<Utc>> {
        match self.byte() % 4 {
            0 => None,
            1 => Utc.timestamp_opt(self.int(), 0).single(),
            _ => Some(fuzz_now() + TimeDelta::hours(i64::from(self.byte()) - 128)),
        }
    }

    fn date(&mut self) -> NaiveDate {
        let days = match self.byte() % 4 {
            0 => self.int() % 200_000_000,
            _ => 20_000 + i64::from(self.byte()) * 7,
        };
        epoch()
            .checked_add_signed(TimeDelta::days(days))
            .unwrap_or(NaiveDate::MIN)
    }

    fn signals(&mut self) -> Signals {
        const PEOPLE: [(&str, &str, &str, &str); 4] = [
            ("Ana", "Silva", "ana.silva@example.org", "020 7946 0018"),
            ("Ann", "Silva", "a@b.co", "+44 20 7946 0019"),
            ("Ben", "Silva", "ana.silva@example.org", "07700 900123"),
            ("Cleo", "Marsh", "cleo@example.com", "020 7946 0018"),
        ];
        let which = self.byte();
        let (given, family, email, phone) = PEOPLE[usize::from(which % 4)];
        let mut signals = Signals::new();
        // Each field present or not, from the pool or from the input.
        let fields = self.byte();
        let value = |bit: u8, pooled: &str, p: &mut Self| -> Option<String> {
            match (fields >> bit) & 1 {
                0 => None,
                _ if which >= 0xF0 => Some(p.text()),
                _ => Some(pooled.to_owned()),
            }
        };
        if let Some(v) = value(0, given, self) {
            signals = signals.given_name(v);
        }
        if let Some(v) = value(1, family, self) {
            signals = signals.family_name(v);
        }
        if let Some(v) = value(2, email, self) {
            signals = signals.email(v);
        }
        if let Some(v) = value(3, phone, self) {
            signals = signals.phone(v);
        }
        if let Some(v) = value(4, "SW1A 1AA", self) {
            signals = signals.postcode(v);
        }
        if let Some(v) = value(5, "tok_1", self) {
            signals = signals.card_token(v);
        }
        if (fields >> 6) & 1 == 1 {
            signals = signals.birth_date(self.date());
        }
        signals
    }
}

const EVENTS: [&str; 3] = ["ev-1", "ev-2", "ev-3"];
const ORDERS: [&str; 3] = ["o-1", "o-2", "o-3"];
const TICKETS: [&str; 4] = ["t-1", "t-2", "t-3", "t-4"];
const PERFORMANCES: [&str; 2] = ["hamlet-1", "hamlet-2"];

/// Everything a failed call must leave as it was, in a comparable form.
fn digest(memory: &Memory) -> String {
    let mut out = format!("{} {}\n", memory.patron_count(), memory.event_count());
    for patron in memory.patrons() {
        out.push_str(&format!(
            "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
            patron.id(),
            patron.names(),
            patron.identifiers(),
            patron.addresses(),
            patron.birth_date(),
            patron.history(),
            patron.stats(),
            patron.flags(),
            patron.notes().len(),
            patron.consents(),
        ));
    }
    for id in TICKETS {
        if let Some(ticket) = memory.ticket(id) {
            out.push_str(&format!(
                "{id} {} {} {} {}\n",
                ticket.buyer(),
                ticket.holder(),
                ticket.is_refunded(),
                ticket.is_scanned_in()
            ));
        }
    }
    out
}

/// Runs one call of the program on `memory`; the answer, as text, for comparing runs.
fn step(memory: &mut Memory, p: &mut Program<'_>) -> String {
    use regulars::{
        Donation, LineItem, Membership, Note, PatronId, ProfileChange, Purchase, Refund,
        ReviewDecision, Scan, Ticket,
    };
    let before = digest(memory);
    let event_id = |p: &mut Program<'_>| p.pick(&EVENTS);
    let outcome: Result<String, regulars::Error> = match p.byte() % 12 {
        0..=2 => {
            let id = event_id(p);
            let mut order = Order::new(p.pick(&ORDERS), p.signals());
            for _ in 0..p.byte() % 3 {
                let mut ticket = Ticket::new(p.pick(&TICKETS), p.pick(&PERFORMANCES));
                if p.flag() {
                    ticket = ticket.seat_label(p.pick(&["F12", "A1"]));
                }
                if p.flag() {
                    ticket = ticket.price(p.amount());
                }
                if p.flag() {
                    ticket = ticket.holder(p.signals());
                }
                order = order.ticket(ticket);
            }
            observe(memory, Event::order(id, order), p)
        }
        3 => {
            let id = event_id(p);
            let ticket = p.pick(&TICKETS);
            let mut scan = if p.flag() {
                Scan::entry(ticket)
            } else {
                Scan::exit(ticket)
            };
            if p.flag() {
                scan = scan.scan_id(p.pick(&["s-1", "s-2"]));
            }
            observe(memory, Event::scan(id, scan), p)
        }
        4 => {
            let id = event_id(p);
            let order = p.pick(&ORDERS);
            let mut refund = if p.flag() {
                Refund::whole_order(order)
            } else {
                Refund::tickets(order, [p.pick(&TICKETS)])
            };
            if p.flag() {
                refund = refund.amount(p.amount());
            }
            observe(memory, Event::refund(id, refund), p)
        }
        5 => {
            let id = event_id(p);
            let donation = Donation::new(p.signals(), p.amount());
            observe(memory, Event::donation(id, donation), p)
        }
        6 => {
            let id = event_id(p);
            let membership = Membership::new(p.signals(), p.pick(&["Friends"]), p.date(), p.date());
            observe(memory, Event::membership(id, membership), p)
        }
        7 => {
            let id = event_id(p);
            let mut purchase = Purchase::new(p.signals());
            if p.flag() {
                purchase = purchase.at_performance(p.pick(&PERFORMANCES));
            }
            let quantity = u32::from(p.byte());
            purchase = purchase.item(LineItem::new(p.pick(&["wine"]), quantity, p.amount()));
            observe(memory, Event::purchase(id, purchase), p)
        }
        8 => {
            let signals = p.signals();
            let first = memory.recognize(&signals);
            let again = memory.recognize(&signals);
            assert_eq!(
                first.as_ref().map(|r| r.explain()),
                again.as_ref().map(|r| r.explain()),
                "recognize answered differently twice"
            );
            first.map(|r| r.explain())
        }
        9 => {
            let patron = PatronId::from_u64(u64::from(p.byte() % 8));
            let change = match p.byte() % 3 {
                0 => ProfileChange::PrefersNoFuss(p.flag()),
                1 => ProfileChange::AddNote(Note::new(p.text(), p.time().unwrap_or(fuzz_now()))),
                _ => ProfileChange::CustomPreference {
                    key: p.text(),
                    value: p.flag().then(|| p.text()),
                },
            };
            memory
                .update_profile(patron, change)
                .map(|()| String::new())
        }
        10 => {
            let id = p.pick(&PERFORMANCES);
            let at = p.time().unwrap_or(fuzz_now());
            memory
                .define_performance(Performance::new(id, "hamlet", "main", at))
                .map(|()| String::new())
        }
        _ => {
            let a = PatronId::from_u64(u64::from(p.byte() % 8));
            let b = PatronId::from_u64(u64::from(p.byte() % 8));
            match p.byte() % 5 {
                0 => memory.merge(a, b).map(|id| id.to_string()),
                1 => memory.split(a).map(|id| id.to_string()),
                2 => memory.pin_apart(a, b).map(|()| String::new()),
                3 => memory.pin_together(a, b).map(|id| id.to_string()),
                _ => {
                    let decision = if p.flag() {
                        ReviewDecision::SamePerson(a)
                    } else {
                        ReviewDecision::Different
                    };
                    memory
                        .resolve_review(u64::from(p.byte() % 4), decision)
                        .map(|()| String::new())
                }
            }
        }
    };
    match outcome {
        Ok(answer) => answer,
        Err(error) => {
            assert_eq!(
                digest(memory),
                before,
                "a failed call changed memory: {error}"
            );
            error.to_string()
        }
    }
}

fn observe(
    memory: &mut Memory,
    event: Event,
    p: &mut Program<'_>,
) -> Result<String, regulars::Error> {
    let event = match p.time() {
        Some(at) => event.at(at),
        None => event,
    };
    let seen = memory.observe(event)?;
    assert!(memory.patron(seen.patron()).is_some());
    let moments: Vec<&str> = seen.moments().iter().map(|m| m.message()).collect();
    Ok(format!(
        "{} {} {:?} {}",
        seen.patron(),
        seen.recognition().explain(),
        moments,
        seen.is_replay()
    ))
}

/// A sequence of calls (orders, scans, refunds, donations, memberships, purchases,
/// recognitions, profile changes, catalog changes, merges, splits, pins, reviews) read
/// from the input, run on two memories: no call panics, a failed call changes nothing,
/// and the two memories (each with its own hash seeds) answer every call alike.
pub fn events(data: &[u8]) {
    let mut first = seeded_memory();
    let mut second = seeded_memory();
    let (mut a, mut b) = (Program { data }, Program { data });
    // Bounded, so one input cannot run for long.
    for _ in 0..64 {
        if a.is_done() {
            break;
        }
        let answer = step(&mut first, &mut a);
        assert_eq!(answer, step(&mut second, &mut b), "memories disagree");
    }
    assert_eq!(digest(&first), digest(&second));
}

// ---------------------------------------------------------------- stored bytes

/// CRC-32 (IEEE), bit by bit: lets the targets wrap their input in a valid header and
/// checksum, so the fuzzer reaches the decoding behind them.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `MemoryBuilder::build_from_snapshot`: the input as an image, and wrapped in a valid
/// header and checksum. Either it is refused, or the memory it loads keeps its ids and
/// saves an image that loads to the same patrons.
pub fn snapshot(data: &[u8]) {
    let _ = Memory::builder().build_from_snapshot(data);
    // As a version 1 body (one section, times and ids as text), and as a version 3 body
    // (three sections, split in thirds, decoded on two threads).
    let mut first = b"RGLRSNAP".to_vec();
    first.extend_from_slice(&1u32.to_le_bytes());
    let mut current = b"RGLRSNAP".to_vec();
    current.extend_from_slice(&3u32.to_le_bytes());
    current.extend_from_slice(&(data.len() as u64 / 3).to_le_bytes());
    current.extend_from_slice(&(data.len() as u64 / 3).to_le_bytes());
    for mut image in [first, current] {
        image.extend_from_slice(data);
        let crc = crc32(&image);
        image.extend_from_slice(&crc.to_le_bytes());
        if let Ok(memory) = Memory::builder().build_from_snapshot(&image) {
            for patron in memory.patrons() {
                assert_eq!(
                    memory.patron(patron.id()).map(|p| p.id()),
                    Some(patron.id())
                );
            }
            let again = Memory::builder()
                .build_from_snapshot(&memory.snapshot())
                .expect("a memory's own image loads");
            assert_eq!(again.patron_count(), memory.patron_count());
            assert_eq!(again.event_count(), memory.event_count());
        }
    }
}

/// Journal records and files: the input as one journaled command (replayed when memory
/// opens: decoded and applied, or refused with `JournalReplay`), and as the body of a
/// journal segment behind a valid header (opened, then replayed: refused with the file
/// and offset, or read as records). Nothing panics.
pub fn journal(data: &[u8]) {
    use regulars::journal::{FileJournal, Journal, MemoryJournal, SyncPolicy};
    use std::sync::atomic::{AtomicU64, Ordering};

    let mut records = MemoryJournal::new();
    if records.append(data).is_ok() {
        match Memory::builder().journal(records).build() {
            Ok(_) | Err(regulars::Error::JournalReplay { .. }) => {}
            Err(other) => panic!("unexpected error replaying one record: {other}"),
        }
    }

    static RUN: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "regulars-fuzz-journal-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let mut segment = b"RGLRSLOG".to_vec();
    segment.extend_from_slice(&1u32.to_le_bytes());
    segment.extend_from_slice(&1u64.to_le_bytes());
    let crc = crc32(&segment);
    segment.extend_from_slice(&crc.to_le_bytes());
    segment.extend_from_slice(data);
    let file = dir.join(format!("journal-{:020}.log", 1));
    if std::fs::write(&file, &segment).is_ok()
        && let Ok(mut journal) = FileJournal::open(&dir, SyncPolicy::Os)
    {
        let mut last = 0;
        let replayed = journal.replay(0, &mut |seq, _| {
            assert!(seq > last, "sequence numbers go up");
            last = seq;
            Ok(())
        });
        if let Ok(recovery) = replayed {
            assert_eq!(recovery.last_seq(), last);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
