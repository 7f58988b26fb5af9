//! Durable memory: every change is journaled on the write path, and a memory reopened from
//! its journal (with or without a checkpoint, after a torn tail) is the same memory — same
//! patrons, ids, figures, indexes, fired moments, due times, reviews — with the same
//! future. Calls that change nothing journal nothing; a journal failure makes memory
//! refuse writes until it is reopened.

mod common;

use common::TempDir;

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use common::*;
use proptest::prelude::*;
use regulars::journal::{Journal, MemoryJournal, Recovery, SyncPolicy};
use regulars::{
    Brief, Channel, Consent, Donation, Error, Event, IdentityChange, LineItem, ManualClock,
    Membership, Memory, MemoryBuilder, Moment, MomentKind, MomentRule, Note, Observation, Order,
    PatronId, PatronView, Production, ProfileChange, Purchase, Purpose, Recognition, Refund,
    ReviewDecision, ReviewItem, RuleContext, Scan, Signals, Trigger, Venue,
};

// ---------------------------------------------------------------- helpers

/// A journal the test keeps a handle on: it can copy the journal as a restart would find
/// it, and make appends or syncs fail.
#[derive(Debug, Clone, Default)]
struct SharedJournal(Arc<Mutex<Shared>>);

#[derive(Debug, Default)]
struct Shared {
    journal: MemoryJournal,
    fail_appends: bool,
    fail_syncs: bool,
}

impl SharedJournal {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0.lock().expect("journal lock")
    }

    /// The journal as a restarted process would find it.
    fn copy(&self) -> MemoryJournal {
        self.lock().journal.clone()
    }
}

fn disk_error(what: &str) -> Error {
    Error::Io {
        path: "shared-journal".to_owned(),
        kind: std::io::ErrorKind::Other,
        message: format!("{what}: the disk is on fire"),
    }
}

impl Journal for SharedJournal {
    fn append(&mut self, payload: &[u8]) -> regulars::Result<u64> {
        let mut shared = self.lock();
        if shared.fail_appends {
            return Err(disk_error("append"));
        }
        shared.journal.append(payload)
    }
    fn sync(&mut self) -> regulars::Result<u64> {
        let mut shared = self.lock();
        if shared.fail_syncs {
            return Err(disk_error("sync"));
        }
        shared.journal.sync()
    }
    fn durable_seq(&self) -> u64 {
        self.lock().journal.durable_seq()
    }
    fn last_seq(&self) -> u64 {
        self.lock().journal.last_seq()
    }
    fn replay(
        &mut self,
        after_seq: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> regulars::Result<()>,
    ) -> regulars::Result<Recovery> {
        self.lock().journal.replay(after_seq, visit)
    }
    fn write_snapshot(&mut self, seq: u64, bytes: &[u8]) -> regulars::Result<()> {
        self.lock().journal.write_snapshot(seq, bytes)
    }
    fn latest_snapshot(&mut self) -> regulars::Result<Option<(u64, Vec<u8>)>> {
        self.lock().journal.latest_snapshot()
    }
}

/// Wakes 30 days after a patron was last seen: gives `tick` something to do.
#[derive(Debug)]
struct Quiet30;

impl MomentRule for Quiet30 {
    fn id(&self) -> &str {
        "quiet-30"
    }
    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        if let Trigger::Tick { due, .. } = ctx.trigger() {
            out.push(
                Moment::new(
                    MomentKind::Welcome,
                    regulars::Action::FollowUp,
                    "we miss you",
                )
                .dedupe_by(due.to_rfc3339()),
            );
        }
    }
    fn next_due(&self, patron: &PatronView<'_>, _now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(patron.stats().last_seen_at()? + TimeDelta::days(30))
    }
}

/// The configuration every memory of these tests is opened with.
fn config(clock: &ManualClock) -> MemoryBuilder {
    builder(clock).rule(Quiet30)
}

/// A memory without a journal, with the catalog: what a journaled memory must equal.
fn plain(clock: &ManualClock) -> Memory {
    build(config(clock))
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

/// Everything memory shows, to compare two memories.
#[derive(Debug, PartialEq)]
struct View {
    memory: Snapshot,
    moments: Vec<Moment>,
    pending_ticks: usize,
    identity: Vec<IdentityChange>,
    reviews: Vec<ReviewItem>,
    briefs: Vec<Brief>,
    recognitions: Vec<Result<Recognition, Error>>,
}

fn view(memory: &Memory) -> View {
    let performances: Vec<String> = memory
        .catalog()
        .performances()
        .map(|p| p.id().to_string())
        .collect();
    let people = [
        ana(),
        ben(),
        cleo(),
        astrid(),
        Signals::new().email("dup@example.org"),
    ];
    View {
        memory: snapshot(memory),
        moments: memory
            .patrons()
            .flat_map(|p| memory.moments_of(p.id()).collect::<Vec<_>>())
            .collect(),
        pending_ticks: memory.pending_ticks(),
        identity: memory.identity_changes(0).to_vec(),
        reviews: memory.reviews().cloned().collect(),
        briefs: performances
            .iter()
            .map(|p| memory.brief(p).expect("catalog performance"))
            .collect(),
        recognitions: people.iter().map(|s| memory.recognize(s)).collect(),
    }
}

fn astrid() -> Signals {
    Signals::new()
        .given_name("Astrid")
        .family_name("Lindqvist")
        .email("astrid@example.org")
}

fn patron_of(memory: &Memory, signals: &Signals) -> PatronId {
    memory
        .recognize(signals)
        .expect("valid signals")
        .known_patron()
        .expect("a known patron")
}

// ---------------------------------------------------------------- the life of a memory

/// One call of the public write API, named for failure messages.
type Step = (&'static str, fn(&mut Memory, &ManualClock));

/// Every kind of change memory takes, in an order that makes each one do something:
/// orders (with reviews, automatic merges and households from a synthetic population),
/// scans, refunds, donations, memberships, purchases, an event without a time, profile
/// changes, manual merges, splits, pins, reviews resolved both ways, ticks.
fn steps() -> Vec<Step> {
    vec![
        ("define_venue", |m, _| {
            m.define_venue(Venue::new("studio", "Studio")).unwrap()
        }),
        ("define_production", |m, _| {
            m.define_production(Production::new("lear", "King Lear").genre("Drama"))
                .unwrap()
        }),
        ("define_performance", |m, _| {
            let at = starts("hamlet-1") + days(1);
            m.define_performance(regulars::Performance::new("lear-1", "lear", "studio", at))
                .unwrap()
        }),
        ("population", |m, _| {
            for record in &population::Population::generate(80, 11).records {
                // The generator makes some records invalid on purpose.
                let _ = m.observe(record.event());
            }
        }),
        ("order", |m, _| {
            let tickets = [
                seated("t-a1", "hamlet-1", "F10"),
                seated("t-a2", "hamlet-2", "F11"),
                seated("t-a3", "lear-1", "B2"),
            ];
            observe(m, order("e-a1", "o-a1", ana(), tickets));
        }),
        ("scan", |m, _| {
            scan_in(m, "s-a1", "t-a1");
        }),
        ("scan with a scan id", |m, _| {
            let at = starts("hamlet-2") - TimeDelta::minutes(5);
            observe(
                m,
                Event::scan("s-a2", Scan::entry("t-a2").scan_id("gate-7")).at(at),
            );
        }),
        ("the same scan under another event id", |m, _| {
            let at = starts("hamlet-2") - TimeDelta::minutes(4);
            let seen = observe(
                m,
                Event::scan("s-a2-again", Scan::entry("t-a2").scan_id("gate-7")).at(at),
            );
            assert!(seen.is_replay());
        }),
        ("partial refund", |m, _| {
            let at = order_time() + days(2);
            observe(
                m,
                Event::refund("e-r1", Refund::tickets("o-a1", ["t-a3"])).at(at),
            );
        }),
        ("order for a holder", |m, _| {
            let ticket = ticket("t-b1", "hamlet-1").holder(cleo());
            observe(m, order("e-b1", "o-b1", ben(), [ticket]));
        }),
        ("whole refund", |m, _| {
            observe(
                m,
                Event::refund("e-r2", Refund::whole_order("o-b1").amount(gbp(2500)))
                    .at(order_time() + days(3)),
            );
        }),
        ("donation", |m, _| {
            let donation = Donation::new(ana(), gbp(5000)).fund("roof");
            observe(m, Event::donation("e-d1", donation).at(order_time()));
        }),
        ("membership", |m, _| {
            let from = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
            let to = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
            let membership = Membership::new(ben(), "friends", from, to).price(gbp(6000));
            observe(m, Event::membership("e-m1", membership).at(order_time()));
        }),
        ("purchase", |m, _| {
            let purchase = Purchase::new(ana())
                .at_performance("hamlet-1")
                .item(LineItem::new("espresso", 2, gbp(250)));
            observe(m, Event::purchase("e-p1", purchase).at(starts("hamlet-1")));
        }),
        ("event without a time", |m, clock| {
            clock.set(utc(2026, 2, 20, 12, 0));
            let order = Order::new("o-c2", cleo()).ticket(ticket("t-c2", "hamlet-3"));
            observe(m, Event::order("e-c2", order));
        }),
        ("update_profile", |m, _| {
            let ana = patron_of(m, &ana());
            m.update_profile(ana, ProfileChange::PrefersNoFuss(true))
                .unwrap();
            let note = Note::new("likes the aisle", utc(2026, 2, 2, 9, 0));
            m.update_profile(ana, ProfileChange::AddNote(note)).unwrap();
            let consent =
                Consent::granted(Channel::Email, Purpose::Marketing, utc(2026, 2, 2, 9, 0));
            m.update_profile(ana, ProfileChange::Consent(consent))
                .unwrap();
        }),
        ("merge", |m, _| {
            observe(
                m,
                order(
                    "e-dup",
                    "o-dup",
                    Signals::new().email("dup@example.org"),
                    [],
                ),
            );
            let (ana, dup) = (
                patron_of(m, &ana()),
                patron_of(m, &Signals::new().email("dup@example.org")),
            );
            m.merge(ana, dup).unwrap();
        }),
        ("split", |m, _| {
            let dup = m
                .identity_changes(0)
                .iter()
                .rev()
                .find_map(|c| match c {
                    IdentityChange::Merged { absorbed, .. } => Some(*absorbed),
                    _ => None,
                })
                .unwrap();
            m.split(dup).unwrap();
        }),
        ("pin_apart", |m, _| {
            let (ben, cleo) = (patron_of(m, &ben()), patron_of(m, &cleo()));
            m.pin_apart(ben, cleo).unwrap();
        }),
        ("unpin", |m, _| {
            let (ben, cleo) = (patron_of(m, &ben()), patron_of(m, &cleo()));
            m.unpin(ben, cleo);
        }),
        ("pin_together", |m, _| {
            let (ana, dup) = (
                patron_of(m, &ana()),
                patron_of(m, &Signals::new().email("dup@example.org")),
            );
            m.pin_together(ana, dup).unwrap();
        }),
        ("resolve_review as the same person", |m, _| {
            observe(m, order("e-as1", "o-as1", astrid(), []));
            let unsure = Signals::new()
                .given_name("A.")
                .family_name("Lindqvist")
                .phone("+46 70 123 45 67");
            let seen = observe(m, order("e-as2", "o-as2", unsure, []));
            assert_eq!(seen.recognition().decision(), "review");
            let review = m.reviews().last().unwrap().id();
            let astrid = patron_of(m, &astrid());
            m.resolve_review(review, ReviewDecision::SamePerson(astrid))
                .unwrap();
        }),
        ("resolve_review as different", |m, _| {
            let astrid = Signals::new()
                .given_name("Astrid")
                .family_name("Berglund")
                .email("astrid@berglund.example");
            observe(m, order("e-ab1", "o-ab1", astrid, []));
            let unsure = Signals::new().given_name("A.").family_name("Berglund");
            let seen = observe(m, order("e-as3", "o-as3", unsure, []));
            assert_eq!(seen.recognition().decision(), "review");
            let review = m.reviews().last().unwrap().id();
            m.resolve_review(review, ReviewDecision::Different).unwrap();
        }),
        ("tick", |m, _| {
            let fired = m.tick(order_time() + days(31));
            assert!(!fired.is_empty(), "patrons were due");
        }),
        ("try_tick", |m, _| {
            let fired = m.try_tick(order_time() + days(60)).unwrap();
            assert!(!fired.is_empty(), "patrons were due");
        }),
    ]
}

/// A memory that lived every step with the catalog defined, and the journal it wrote.
fn lived_journaled(clock: &ManualClock) -> (Memory, SharedJournal) {
    let journal = SharedJournal::default();
    let mut memory = config(clock).journal(journal.clone()).build().unwrap();
    define_catalog(&mut memory);
    live(&mut memory, clock);
    (memory, journal)
}

/// Lives every step.
fn live(memory: &mut Memory, clock: &ManualClock) {
    for (_, step) in steps() {
        step(memory, clock);
    }
}

/// What the rest of a season does to a memory, with every answer it gave: new orders
/// from known people, a re-sent order, scans, a tick that fires for some.
fn carry_on(memory: &mut Memory) -> (Vec<Observation>, Vec<Moment>) {
    let events = [
        order("e-n1", "o-n1", ana(), [seated("t-n1", "hamlet-4", "F13")]),
        order("e-n2", "o-n2", ben(), [ticket("t-n2", "nutcracker-1")]),
        order(
            "e-a1",
            "o-a1",
            ana(),
            [
                seated("t-a1", "hamlet-1", "F10"),
                seated("t-a2", "hamlet-2", "F11"),
                seated("t-a3", "lear-1", "B2"),
            ],
        ),
        entry_at("s-n1", "t-n1", starts("hamlet-4")),
        order("e-n3", "o-n3", cleo(), [ticket("t-n3", "hamlet-2")]),
        order("e-n4", "o-n4", astrid(), [ticket("t-n4", "nutcracker-2")]),
    ];
    let observations: Vec<Observation> = events.into_iter().map(|e| observe(memory, e)).collect();
    assert!(observations[2].is_replay(), "a seen event stays seen");
    let fired = memory
        .try_tick(utc(2026, 6, 1, 9, 0))
        .expect("memory takes writes");
    (observations, fired)
}

/// The memory in `dir`, opened with the test configuration.
fn open(dir: &Path, clock: &ManualClock, checkpoint_every: u64) -> Memory {
    config(clock)
        .sync_policy(SyncPolicy::Os)
        .checkpoint_every(checkpoint_every)
        .open(dir)
        .expect("the journal opens")
}

// ---------------------------------------------------------------- recovery

#[derive(Debug, Clone, Copy)]
enum Checkpoints {
    Never,
    /// One, explicitly, half-way through.
    HalfWay,
    /// Automatically, every this many records.
    Every(u64),
}

fn reopened_memory_is_the_same(checkpoints: Checkpoints) {
    let dir = TempDir::new("same");
    let clock = ManualClock::new(t0());
    let mut twin = plain(&clock);
    live(&mut twin, &clock);

    let clock = ManualClock::new(t0());
    let every = match checkpoints {
        Checkpoints::Every(n) => n,
        _ => 0,
    };
    let (last_seq, checkpoint_seq) = {
        let mut memory = open(dir.path(), &clock, every);
        define_catalog(&mut memory);
        let mut checkpoint_seq = 0;
        for (i, (name, step)) in steps().into_iter().enumerate() {
            step(&mut memory, &clock);
            if matches!(checkpoints, Checkpoints::HalfWay) && i == steps().len() / 2 {
                checkpoint_seq = memory.checkpoint().expect("checkpoint");
                assert_eq!(checkpoint_seq, memory.last_seq(), "after {name}");
            }
        }
        assert_eq!(view(&memory), view(&twin), "journaling changed nothing");
        memory.sync().expect("sync");
        assert_eq!(memory.durable_seq(), memory.last_seq());
        (memory.last_seq(), checkpoint_seq)
    };
    let snapshots = TempDir::files(&dir)
        .into_iter()
        .filter(|f| f.starts_with("snapshot-"))
        .count();

    // Later, with the clock elsewhere: events without a time keep the time they were
    // first observed at.
    clock.set(utc(2027, 1, 1, 0, 0));
    let mut reopened = open(dir.path(), &clock, every);
    assert_eq!(view(&reopened), view(&twin));
    assert_eq!(reopened.last_seq(), last_seq);
    let recovery = reopened.recovery().expect("a journaled memory").clone();
    assert_eq!(recovery.last_seq(), last_seq);
    assert_eq!(recovery.torn_tail(), None);
    match checkpoints {
        Checkpoints::Never => {
            assert_eq!(snapshots, 0);
            assert_eq!(recovery.records(), last_seq, "everything replayed");
        }
        Checkpoints::HalfWay => {
            assert_eq!(snapshots, 1);
            assert!(checkpoint_seq > 0);
            assert_eq!(recovery.records(), last_seq - checkpoint_seq);
        }
        Checkpoints::Every(n) => {
            assert_eq!(snapshots, 1, "older snapshots are compacted away");
            assert!(recovery.records() < n, "{} replayed", recovery.records());
        }
    }
    // Defining the catalog again at start changes nothing and journals nothing.
    define_catalog(&mut reopened);
    assert_eq!(reopened.last_seq(), last_seq);

    // The same future.
    assert_eq!(carry_on(&mut reopened), carry_on(&mut twin));
    assert_eq!(view(&reopened), view(&twin));
    let last_seq = reopened.last_seq();
    drop(reopened);
    // And recovering a recovered memory gives it back again.
    let again = open(dir.path(), &clock, every);
    assert_eq!(again.last_seq(), last_seq);
    assert_eq!(view(&again), view(&twin));
}

#[test]
fn a_reopened_memory_is_the_same_memory_without_a_checkpoint() {
    reopened_memory_is_the_same(Checkpoints::Never);
}

#[test]
fn a_reopened_memory_is_the_same_memory_after_a_checkpoint() {
    reopened_memory_is_the_same(Checkpoints::HalfWay);
}

#[test]
fn a_reopened_memory_is_the_same_memory_with_automatic_checkpoints() {
    reopened_memory_is_the_same(Checkpoints::Every(40));
}

#[test]
fn every_command_kind_round_trips_through_replay() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    let mut memory = config(&clock)
        .journal(journal.clone())
        .build()
        .expect("an empty journal opens");
    define_catalog(&mut memory);
    let mut twin = plain(&clock);
    for (name, step) in steps() {
        let before = memory.last_seq();
        step(&mut memory, &clock);
        step(&mut twin, &clock);
        assert!(memory.last_seq() > before, "{name} journaled nothing");
        // A restart right after this call finds the same memory.
        let reopened = config(&ManualClock::new(utc(2030, 1, 1, 0, 0)))
            .journal(journal.copy())
            .build()
            .unwrap_or_else(|e| panic!("replay after {name}: {e}"));
        assert_eq!(view(&reopened), view(&memory), "after {name}");
        assert_eq!(view(&memory), view(&twin), "{name} behaved differently");
        assert_eq!(reopened.last_seq(), memory.last_seq());
    }
}

#[test]
fn calls_that_change_nothing_journal_nothing() {
    let clock = ManualClock::new(t0());
    let mut memory = config(&clock)
        .journal(MemoryJournal::new())
        .build()
        .expect("opens");
    define_catalog(&mut memory);
    let ana_order = order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]);
    let ana = observe(&mut memory, ana_order.clone()).patron();
    let ben = observe(&mut memory, order("e-2", "o-2", ben(), [])).patron();
    memory.pin_apart(ana, ben).expect("pin");
    memory
        .update_profile(ana, ProfileChange::PrefersNoFuss(true))
        .expect("update");
    let seq = memory.last_seq();
    let unchanged = |memory: &Memory, what: &str| assert_eq!(memory.last_seq(), seq, "{what}");

    assert!(memory.observe(ana_order).expect("replay").is_replay());
    unchanged(&memory, "a re-sent event");
    let bad = order("e-3", "o-3", Signals::new().email("not-an-address"), []);
    assert!(memory.observe(bad).is_err());
    unchanged(&memory, "a rejected event");
    let conflicting = order("e-1", "o-1", cleo(), []);
    assert!(matches!(
        memory.observe(conflicting),
        Err(Error::ConflictingEvent { .. })
    ));
    unchanged(&memory, "a conflicting event");
    define_catalog(&mut memory);
    unchanged(&memory, "the same catalog again");
    assert!(memory.merge(ana, ana).is_ok());
    unchanged(&memory, "merging a patron with itself");
    assert!(matches!(
        memory.merge(ana, ben),
        Err(Error::PinnedApart(..))
    ));
    unchanged(&memory, "a refused merge");
    memory.pin_apart(ana, ben).expect("pinned again");
    unchanged(&memory, "the same pin again");
    memory.unpin(ana, PatronId::from_u64(999));
    unchanged(&memory, "removing a pin that is not there");
    memory
        .update_profile(ana, ProfileChange::PrefersNoFuss(true))
        .expect("update");
    unchanged(&memory, "a profile change to what it was");
    assert!(memory.tick(order_time()).is_empty());
    unchanged(&memory, "a tick with nothing due");
    assert!(memory.split(ana).is_err());
    unchanged(&memory, "a refused split");

    memory.unpin(ana, ben);
    assert_eq!(memory.last_seq(), seq + 1, "a real change is journaled");
}

#[test]
fn a_torn_tail_is_dropped_and_everything_before_it_kept() {
    let events: Vec<Event> = (0..12)
        .map(|i| {
            let buyer = Signals::new()
                .given_name(format!("Given{i}"))
                .family_name("Torn")
                .email(format!("torn{i}@example.org"));
            order(
                &format!("e-{i}"),
                &format!("o-{i}"),
                buyer,
                [ticket(&format!("t-{i}"), "hamlet-1")],
            )
        })
        .collect();
    // Cut into the last record, or leave garbage after it, as a crash mid-write would.
    enum Damage {
        Cut(u64),
        Zeros(usize),
    }
    for damage in [
        Damage::Cut(1),
        Damage::Cut(9),
        Damage::Cut(40),
        Damage::Zeros(7),
    ] {
        let dir = TempDir::new("torn");
        let clock = ManualClock::new(t0());
        {
            let mut memory = config(&clock)
                .sync_policy(SyncPolicy::EveryAppend)
                .open(dir.path())
                .expect("opens");
            define_catalog(&mut memory);
            for event in &events {
                observe(&mut memory, event.clone());
            }
        }
        let segment = dir.path().join(
            dir.files()
                .into_iter()
                .rfind(|f| f.starts_with("journal-"))
                .expect("a segment"),
        );
        let len = fs::metadata(&segment).expect("segment").len();
        let kept = match damage {
            Damage::Cut(bytes) => {
                let file = fs::OpenOptions::new().write(true).open(&segment).unwrap();
                file.set_len(len - bytes).unwrap();
                events.len() - 1
            }
            Damage::Zeros(n) => {
                let mut bytes = fs::read(&segment).unwrap();
                bytes.extend(std::iter::repeat_n(0u8, n));
                fs::write(&segment, bytes).unwrap();
                events.len()
            }
        };

        let mut reopened = open(dir.path(), &clock, 0);
        let torn = reopened
            .recovery()
            .and_then(Recovery::torn_tail)
            .expect("the torn tail is reported")
            .clone();
        assert!(torn.bytes() > 0);
        let mut twin = plain(&clock);
        for event in &events[..kept] {
            observe(&mut twin, event.clone());
        }
        assert_eq!(view(&reopened), view(&twin));
        assert_eq!(reopened.event_count(), kept);
        // What was lost is simply new again.
        for event in &events[kept..] {
            let again = observe(&mut reopened, event.clone());
            assert!(!again.is_replay());
            assert_eq!(again, observe(&mut twin, event.clone()));
        }
        assert_eq!(view(&reopened), view(&twin));
    }
}

#[test]
fn a_failed_append_poisons_writes_until_reopened() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    let mut memory = config(&clock)
        .journal(journal.clone())
        .build()
        .expect("opens");
    define_catalog(&mut memory);
    let ana = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    )
    .patron();
    let seq = memory.last_seq();
    assert_eq!(memory.journal_failure(), None);

    journal.lock().fail_appends = true;
    let failed = memory
        .observe(order("e-2", "o-2", ben(), []))
        .expect_err("the journal failed");
    assert!(matches!(failed, Error::Io { .. }), "{failed}");
    assert_eq!(memory.journal_failure(), Some(&failed));
    // Memory did take the event, but it is not on disk: memory says so and reads go on.
    assert_eq!(memory.event_count(), 2);
    assert!(memory.patron(ana).is_some());
    journal.lock().fail_appends = false;

    // Every write is refused now, and changes nothing, even though the journal is back.
    let before = view(&memory);
    let refused = |result: regulars::Result<()>, what: &str| match result {
        Err(Error::JournalFailed(cause)) => assert_eq!(*cause, failed, "{what}"),
        other => panic!("{what}: expected JournalFailed, got {other:?}"),
    };
    refused(
        memory.observe(order("e-3", "o-3", cleo(), [])).map(drop),
        "observe",
    );
    refused(
        memory
            .observe(order(
                "e-1",
                "o-1",
                common::ana(),
                [ticket("t-1", "hamlet-1")],
            ))
            .map(drop),
        "a re-sent event",
    );
    refused(
        memory.define_venue(Venue::new("studio", "Studio")),
        "define_venue",
    );
    refused(
        memory.update_profile(ana, ProfileChange::PrefersNoFuss(true)),
        "update_profile",
    );
    refused(memory.merge(ana, PatronId::from_u64(2)).map(drop), "merge");
    refused(memory.pin_apart(ana, PatronId::from_u64(2)), "pin_apart");
    refused(
        memory.try_tick(order_time() + days(90)).map(drop),
        "try_tick",
    );
    assert!(memory.tick(order_time() + days(90)).is_empty(), "tick");
    refused(memory.sync().map(drop), "sync");
    refused(memory.checkpoint().map(drop), "checkpoint");
    assert_eq!(view(&memory), before, "refused writes changed nothing");
    assert_eq!(memory.last_seq(), seq);
    let message = Error::JournalFailed(Box::new(failed.clone())).to_string();
    assert!(message.contains("reopened"), "{message}");

    // Reopened, memory holds exactly what the journal holds, and takes writes again.
    drop(memory);
    let mut reopened = config(&clock).journal(journal).build().expect("reopens");
    assert_eq!(reopened.event_count(), 1);
    assert_eq!(reopened.journal_failure(), None);
    let again = observe(&mut reopened, order("e-2", "o-2", common::ben(), []));
    assert!(
        !again.is_replay(),
        "the event that failed was never journaled"
    );
    assert_eq!(reopened.last_seq(), seq + 1);
}

#[test]
fn a_failed_sync_poisons_writes() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    let mut memory = config(&clock)
        .journal(journal.clone())
        .build()
        .expect("opens");
    define_catalog(&mut memory);
    observe(&mut memory, order("e-1", "o-1", ana(), []));
    journal.lock().fail_syncs = true;
    let failed = memory.sync().expect_err("sync failed");
    assert!(matches!(failed, Error::Io { .. }));
    journal.lock().fail_syncs = false;
    assert!(matches!(
        memory.observe(order("e-2", "o-2", ben(), [])),
        Err(Error::JournalFailed(_))
    ));
    // `unpin` cannot return the error: it does nothing, and memory still says why.
    memory.unpin(PatronId::from_u64(1), PatronId::from_u64(2));
    assert_eq!(memory.journal_failure(), Some(&failed));
}

#[test]
fn a_record_that_cannot_be_replayed_names_its_seq() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    {
        let mut memory = config(&clock).journal(journal.clone()).build().unwrap();
        define_catalog(&mut memory);
        observe(&mut memory, order("e-1", "o-1", ana(), []));
    }
    let seq = journal.copy().last_seq();

    // A record this build cannot read.
    let mut garbage = journal.copy();
    garbage.append(b"\x01not a command").unwrap();
    match config(&clock).journal(garbage).build() {
        Err(Error::JournalReplay { seq: at, reason }) => {
            assert_eq!(at, seq + 1);
            assert!(reason.contains("undecodable"), "{reason}");
        }
        other => panic!("expected JournalReplay, got {other:?}"),
    }
    let mut future = journal.copy();
    future.append(b"\x09from a later version").unwrap();
    let error = config(&clock).journal(future).build().unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("journal record {}", seq + 1)),
        "{error}"
    );
    assert!(error.to_string().contains("format 9"), "{error}");

    // A configuration that disagrees with the journal: without a review queue, the
    // review the journal resolves was never queued.
    let journal = SharedJournal::default();
    {
        let mut memory = config(&clock).journal(journal.clone()).build().unwrap();
        define_catalog(&mut memory);
        observe(&mut memory, order("e-1", "o-1", astrid(), []));
        let unsure = Signals::new().given_name("A.").family_name("Lindqvist");
        observe(&mut memory, order("e-2", "o-2", unsure, []));
        let review = memory.reviews().next().expect("queued").id();
        memory
            .resolve_review(review, ReviewDecision::Different)
            .unwrap();
    }
    let last = journal.copy().last_seq();
    match config(&clock)
        .review_limit(0)
        .journal(journal.copy())
        .build()
    {
        Err(Error::JournalReplay { seq, reason }) => {
            assert_eq!(seq, last);
            assert!(reason.contains("unknown review item"), "{reason}");
        }
        other => panic!("expected JournalReplay, got {other:?}"),
    }
}

#[test]
fn a_memory_without_a_journal_has_nothing_to_make_durable() {
    let mut memory = memory();
    observe(&mut memory, order("e-1", "o-1", ana(), []));
    assert_eq!(memory.last_seq(), 0);
    assert_eq!(memory.durable_seq(), 0);
    assert_eq!(memory.sync(), Ok(0));
    assert!(memory.recovery().is_none());
    assert!(matches!(memory.checkpoint(), Err(Error::InvalidConfig(_))));
    // A journaled memory loads its own snapshots.
    let image = memory.snapshot();
    let both = Memory::builder()
        .journal(MemoryJournal::new())
        .build_from_snapshot(&image);
    assert!(matches!(both, Err(Error::InvalidConfig(_))));
}

#[test]
fn durable_seq_covers_each_write_under_every_append_and_after_sync() {
    let dir = TempDir::new("durable-seq");
    let clock = ManualClock::new(t0());
    {
        let mut memory = config(&clock)
            .sync_policy(SyncPolicy::EveryAppend)
            .open(dir.path())
            .unwrap();
        define_catalog(&mut memory);
        for i in 0..5 {
            observe(
                &mut memory,
                order(&format!("e-{i}"), &format!("o-{i}"), ana(), []),
            );
            assert_eq!(memory.durable_seq(), memory.last_seq());
        }
    }
    let policy = SyncPolicy::GroupCommit {
        max_delay: std::time::Duration::from_secs(3600),
        max_batch: usize::MAX,
    };
    let mut memory = config(&clock).sync_policy(policy).open(dir.path()).unwrap();
    let opened = memory.last_seq();
    assert_eq!(memory.durable_seq(), opened, "what was on disk is durable");
    observe(&mut memory, order("e-9", "o-9", ben(), []));
    assert_eq!(memory.last_seq(), opened + 1);
    assert_eq!(memory.sync(), Ok(opened + 1));
    assert_eq!(memory.durable_seq(), opened + 1);
}

// ---------------------------------------------------------------- properties

/// One call, with arguments that may well make it fail.
#[derive(Debug, Clone)]
enum Op {
    Order {
        person: u8,
        performance: u8,
        holder: Option<u8>,
    },
    Scan(u8),
    Refund(u8),
    Resend(u8),
    Merge(u8, u8),
    Split(u8),
    PinApart(u8, u8),
    PinTogether(u8, u8),
    Unpin(u8, u8),
    NoFuss(u8, bool),
    ResolveSame(u8, u8),
    ResolveDifferent(u8),
    Tick(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..12u8, 0..6u8, proptest::option::of(0..12u8)).prop_map(
            |(person, performance, holder)| Op::Order { person, performance, holder }
        ),
        2 => any::<u8>().prop_map(Op::Scan),
        1 => any::<u8>().prop_map(Op::Refund),
        1 => any::<u8>().prop_map(Op::Resend),
        1 => (1..7u8, 1..7u8).prop_map(|(a, b)| Op::Merge(a, b)),
        1 => (1..7u8).prop_map(Op::Split),
        1 => (1..7u8, 1..7u8).prop_map(|(a, b)| Op::PinApart(a, b)),
        1 => (1..7u8, 1..7u8).prop_map(|(a, b)| Op::PinTogether(a, b)),
        1 => (1..7u8, 1..7u8).prop_map(|(a, b)| Op::Unpin(a, b)),
        1 => (1..7u8, any::<bool>()).prop_map(|(a, on)| Op::NoFuss(a, on)),
        1 => (0..4u8, 1..7u8).prop_map(|(r, p)| Op::ResolveSame(r, p)),
        1 => (0..4u8).prop_map(Op::ResolveDifferent),
        1 => (0..120u8).prop_map(Op::Tick),
    ]
}

/// People who look alike: the same few family names, initials, shared e-mails.
fn person(k: u8) -> Signals {
    let family = ["Lindqvist", "Okafor", "Silva"][usize::from(k % 3)];
    let signals = Signals::new().family_name(family);
    match k % 4 {
        0 => signals
            .given_name(format!("Name{k}"))
            .email(format!("p{k}@example.org")),
        1 => signals.given_name(format!("Name{}", k - 1)),
        2 => signals
            .given_name("A.")
            .phone(format!("+44 7700 900{k:03}")),
        _ => signals
            .given_name(format!("Name{k}"))
            .email(format!("p{}@example.org", k - 3)),
    }
}

/// Applies one call; a refused call is part of the property (it must journal nothing).
fn apply(memory: &mut Memory, op: &Op, orders: &mut Vec<Event>) {
    let id = |n: u8| PatronId::from_u64(u64::from(n));
    let nth_order =
        |orders: &Vec<Event>, n: u8| (!orders.is_empty()).then(|| usize::from(n) % orders.len());
    match op {
        Op::Order {
            person: who,
            performance,
            holder,
        } => {
            let n = orders.len();
            let mut ticket = seated(
                &format!("t-{n}"),
                PERFORMANCES[usize::from(*performance)].0,
                &format!("S{n}"),
            );
            if let Some(holder) = holder {
                ticket = ticket.holder(person(*holder));
            }
            let at = order_time() + TimeDelta::hours(n as i64);
            let event = order_at(
                &format!("e-{n}"),
                &format!("o-{n}"),
                person(*who),
                [ticket],
                at,
            );
            if memory.observe(event.clone()).is_ok() {
                orders.push(event);
            }
        }
        Op::Scan(n) => {
            if let Some(i) = nth_order(orders, *n) {
                let at = order_time() + TimeDelta::days(40);
                let _ = memory
                    .observe(Event::scan(format!("s-{n}"), Scan::entry(format!("t-{i}"))).at(at));
            }
        }
        Op::Refund(n) => {
            if let Some(i) = nth_order(orders, *n) {
                let at = order_time() + TimeDelta::days(20);
                let _ = memory.observe(
                    Event::refund(format!("r-{n}"), Refund::whole_order(format!("o-{i}"))).at(at),
                );
            }
        }
        Op::Resend(n) => {
            if let Some(i) = nth_order(orders, *n) {
                let _ = memory.observe(orders[i].clone());
            }
        }
        Op::Merge(a, b) => drop(memory.merge(id(*a), id(*b))),
        Op::Split(a) => drop(memory.split(id(*a))),
        Op::PinApart(a, b) => drop(memory.pin_apart(id(*a), id(*b))),
        Op::PinTogether(a, b) => drop(memory.pin_together(id(*a), id(*b))),
        Op::Unpin(a, b) => memory.unpin(id(*a), id(*b)),
        Op::NoFuss(a, on) => drop(memory.update_profile(id(*a), ProfileChange::PrefersNoFuss(*on))),
        Op::ResolveSame(r, p) => {
            let review = memory.reviews().nth(usize::from(*r)).map(ReviewItem::id);
            if let Some(review) = review {
                let _ = memory.resolve_review(review, ReviewDecision::SamePerson(id(*p)));
            }
        }
        Op::ResolveDifferent(r) => {
            let review = memory.reviews().nth(usize::from(*r)).map(ReviewItem::id);
            if let Some(review) = review {
                let _ = memory.resolve_review(review, ReviewDecision::Different);
            }
        }
        Op::Tick(days) => drop(memory.tick(order_time() + TimeDelta::days(i64::from(*days)))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever calls are made, succeeding or refused, a memory reopened from the journal
    /// is the memory that wrote it, and a plain memory given the same calls agrees.
    #[test]
    fn any_sequence_of_calls_survives_a_restart(ops in proptest::collection::vec(op(), 1..60)) {
        let clock = ManualClock::new(t0());
        let journal = SharedJournal::default();
        let mut memory = config(&clock).journal(journal.clone()).build().expect("opens");
        define_catalog(&mut memory);
        let mut twin = plain(&clock);
        let (mut orders, mut twin_orders) = (Vec::new(), Vec::new());
        for op in &ops {
            apply(&mut memory, op, &mut orders);
            apply(&mut twin, op, &mut twin_orders);
        }
        let mut reopened = config(&clock).journal(journal.copy()).build().expect("replays");
        prop_assert_eq!(view(&reopened), view(&memory));
        prop_assert_eq!(view(&memory), view(&twin));
        prop_assert_eq!(reopened.last_seq(), memory.last_seq());
        // The same future: pins (which no view shows) decide which merges go through.
        let merges = |memory: &mut Memory| {
            let mut results = Vec::new();
            for a in 1..7 {
                for b in 1..7 {
                    let (a, b) = (PatronId::from_u64(a), PatronId::from_u64(b));
                    results.push(memory.merge(a, b));
                }
            }
            results
        };
        let then = merges(&mut memory);
        prop_assert_eq!(merges(&mut reopened), then.clone());
        prop_assert_eq!(merges(&mut twin), then);
        prop_assert_eq!(view(&reopened), view(&memory));
    }

    /// A record with a valid frame but any content is an error naming it, never a panic.
    #[test]
    fn arbitrary_records_are_refused_by_seq(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut journal = MemoryJournal::new();
        let mut record = vec![1u8];
        record.extend_from_slice(&body);
        journal.append(&record).expect("append");
        match Memory::builder().journal(journal).build() {
            Ok(memory) => prop_assert_eq!(memory.last_seq(), 1),
            Err(Error::JournalReplay { seq, .. }) => prop_assert_eq!(seq, 1),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

// ---------------------------------------------------------------- recorded recognition

/// Thresholds no patron's evidence reaches: scoring again under them would make every
/// order's buyer someone new.
fn nobody_is_known() -> regulars::Thresholds {
    regulars::Thresholds::default()
        .review(900.0)
        .known(1000.0)
        .merge(2000.0)
}

/// The records of `journal`, in order.
fn records(journal: &mut MemoryJournal) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    journal
        .replay(0, &mut |_, record| {
            records.push(record.to_vec());
            Ok(())
        })
        .expect("replay");
    records
}

/// A journal holding `records`, in order.
fn journal_of(records: &[Vec<u8>]) -> MemoryJournal {
    let mut journal = MemoryJournal::new();
    for record in records {
        journal.append(record).expect("append");
    }
    journal
}

#[test]
fn recorded_recognition_wins_over_a_configuration_that_would_decide_otherwise() {
    let clock = ManualClock::new(t0());
    let (memory, journal) = lived_journaled(&clock);
    assert!(memory.reviews().next().is_some(), "the life queued reviews");
    assert!(
        memory.identity_changes(0).len() > 1,
        "the life merged patrons"
    );

    // The journal's decisions are what the events were: replaying them under thresholds
    // that would decide otherwise gives the memory that was journaled.
    let clock = ManualClock::new(t0());
    let reopened = config(&clock)
        .thresholds(nobody_is_known())
        .journal(journal.copy())
        .build()
        .expect("replay");
    assert_eq!(
        memory.recognize(&ana()).unwrap().decision(),
        "known",
        "ana is a patron"
    );
    assert_eq!(
        reopened.recognize(&ana()).unwrap().decision(),
        "new",
        "the reopened memory scores under the new thresholds"
    );
    assert_eq!(snapshot(&reopened), snapshot(&memory));
    assert_eq!(
        reopened.reviews().cloned().collect::<Vec<_>>(),
        memory.reviews().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        reopened.identity_changes(0).to_vec(),
        memory.identity_changes(0).to_vec()
    );
    assert_eq!(reopened.pending_ticks(), memory.pending_ticks());
}

#[test]
fn recorded_normalization_wins_over_a_configuration_that_would_normalize_otherwise() {
    let clock = ManualClock::new(t0());
    let (memory, journal) = lived_journaled(&clock);
    // Phones were given in British national form: under another default country they
    // read differently (or not at all), but replay takes them as they were normalized.
    let clock = ManualClock::new(t0());
    let reopened = config(&clock)
        .default_country(regulars::normalize::Country::US)
        .journal(journal.copy())
        .build()
        .expect("replay");
    assert_eq!(snapshot(&reopened), snapshot(&memory));
    assert_eq!(all_moments(&reopened), all_moments(&memory));
}

#[test]
fn a_journal_written_without_an_identifier_key_and_opened_with_one_seals_what_it_replays() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    let memory = {
        let mut memory = config(&clock).journal(journal.clone()).build().unwrap();
        define_catalog(&mut memory);
        observe(&mut memory, order("e-1", "o-1", ana(), []));
        observe(&mut memory, order("e-2", "o-2", ben(), []));
        memory
    };
    let identifiers = |memory: &Memory| -> Vec<String> {
        memory
            .patrons()
            .flat_map(|p| {
                p.identifiers()
                    .iter()
                    .map(|i| i.value().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert!(identifiers(&memory).iter().all(|v| !v.starts_with("k:")));
    // The records hold the people as normalized without a key; a memory with one seals
    // them instead of taking them as they were.
    let clock = ManualClock::new(t0());
    let reopened = config(&clock)
        .identifier_key(*b"the venue's secret identifier k1")
        .journal(journal.copy())
        .build()
        .expect("replay");
    assert_eq!(reopened.patron_count(), memory.patron_count());
    let sealed = identifiers(&reopened);
    assert_eq!(sealed.len(), identifiers(&memory).len());
    assert!(
        sealed.iter().all(|v| v.starts_with("k:") && v.len() == 34),
        "{sealed:?}"
    );
}

/// A journal of three orders, the second by the patron of the first: its record ends
/// with the decision "known patron 1, no duplicates, no household".
fn returning_patron_journal() -> (Vec<Vec<u8>>, Memory) {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    let mut memory = config(&clock).journal(journal.clone()).build().unwrap();
    define_catalog(&mut memory);
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]),
    );
    let again = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-2")]),
    );
    observe(
        &mut memory,
        order("e-3", "o-3", ben(), [ticket("t-3", "hamlet-2")]),
    );
    assert_eq!(first.patron(), PatronId::from_u64(1));
    assert_eq!(again.patron(), first.patron());
    assert_eq!(again.recognition().decision(), "known");
    (records(&mut journal.copy()), memory)
}

/// Format 5 records: the command, then the decisions in postcard — here one decision
/// (`01`), `Known` (`00`), patron 1 (`01`), no duplicates (`00`), no household (`00`) —
/// then the fired rules, then the people as normalized.
const KNOWN_PATRON_1: [u8; 5] = [1, 0, 1, 0, 0];

/// How many bytes at the start of `bytes` are the rule set's fingerprint (a postcard
/// varint), and how many then are the fired rules of `askings` askings of the rules, as
/// postcard writes them when every rule index is below 128 (one byte each): the count,
/// then for each asking the number of rules and their indices.
fn fired_rules_len(bytes: &[u8], askings: u8) -> Option<(usize, usize)> {
    let rule_set = bytes.iter().position(|&b| b < 128)? + 1;
    let mut at = rule_set;
    let mut next = || {
        let byte = *bytes.get(at).filter(|&&b| b < 128)?;
        at += 1;
        Some(byte)
    };
    if next()? != askings {
        return None;
    }
    for _ in 0..askings {
        for _ in 0..next()? {
            next()?;
        }
    }
    Some((rule_set, at - rule_set))
}

/// Splits a format 5 record whose decisions are `decisions` into the command (with its
/// format byte), the decisions, the rule set's fingerprint, the fired rules of `askings`
/// askings and the `people` people as normalized.
fn split_record<'r>(
    record: &'r [u8],
    decisions: &'r [u8],
    askings: u8,
    people: u8,
) -> [&'r [u8]; 5] {
    assert_eq!(
        record[0], 5,
        "a record with decisions, fired rules and people"
    );
    (0..record.len())
        .rev()
        .find_map(|end| {
            let (head, tail) = record.split_at(end);
            let command = head.strip_suffix(decisions)?;
            let (rule_set, plans) = fired_rules_len(tail, askings)?;
            let (rule_set, tail) = tail.split_at(rule_set);
            let (plans, normalized) = tail.split_at(plans);
            (normalized.first() == Some(&people))
                .then_some([command, decisions, rule_set, plans, normalized])
        })
        .unwrap_or_else(|| panic!("{record:?}: {decisions:?}, {askings} askings, {people} people"))
}

#[test]
fn a_recorded_decision_that_does_not_fit_memory_is_refused_by_seq() {
    let (records, _) = returning_patron_journal();
    let seq = records.len() - 1; // the second order's record
    let record = &records[seq - 1];
    // The buyer's order and the ticket: the rules were asked twice, about one person.
    let [command, _, rule_set, plans, people] = split_record(record, &KNOWN_PATRON_1, 2, 1);

    let replay_under = |rule_set: &[u8], parts: [&[u8]; 3]| {
        let mut tampered = records.clone();
        tampered[seq - 1] = [command, parts[0], rule_set, parts[1], parts[2]].concat();
        let clock = ManualClock::new(t0());
        config(&clock).journal(journal_of(&tampered)).build()
    };
    let replay_with = |parts: [&[u8]; 3]| replay_under(rule_set, parts);
    let known = &KNOWN_PATRON_1[..];
    let decisions = |decisions: &'static [u8]| [decisions, plans, people];
    let fired = |plans: &'static [u8]| [known, plans, people];
    let normalized = |people: &'static [u8]| [known, plans, people];
    let ana_twice = [&[2][..], &people[1..], &people[1..]].concat();
    let one_byte_more = [people, &[0]].concat();
    let refusals = [
        (decisions(&[1, 0, 99, 0, 0]), "known patron P99"),
        (decisions(&[1, 0, 1, 1, 42, 0]), "duplicate patron P42"),
        (decisions(&[1, 0, 1, 0, 1, 7]), "household patron P7"),
        (decisions(&[0]), "more recognition decisions"),
        (decisions(&[2, 0, 1, 0, 0, 2, 0]), "did not need"),
        (decisions(&[1, 9]), "undecodable recognition decisions"),
        (fired(&[1, 0]), "asked them 2 times"),
        (fired(&[3, 0, 0, 0]), "for 3 askings"),
        (fired(&[2, 1, 99, 0]), "names moment rule 99"),
        ([known, &[2, 1], &[]], "undecodable fired rules"),
        (normalized(&[0]), "normalized more people than it recorded"),
        ([known, plans, &ana_twice], "did not normalize"),
        (normalized(&[1, 1]), "undecodable normalized signals"),
        (
            [known, plans, &one_byte_more],
            "bytes after the normalized signals",
        ),
    ];
    for (parts, expected) in refusals {
        match replay_with(parts) {
            Err(Error::JournalReplay { seq: at, reason }) => {
                assert_eq!(at, seq as u64, "{parts:?}");
                assert!(reason.contains(expected), "{parts:?}: {reason}");
            }
            other => panic!("{parts:?}: expected JournalReplay, got {other:?}"),
        }
    }
    // The untampered journal replays.
    assert!(replay_with([known, plans, people]).is_ok());
    // Fired rules written under another rule set name other rules: every rule is asked
    // instead, so even a rule position this memory lacks is no reason to refuse.
    let other_rule_set = [0];
    assert_ne!(rule_set, &other_rule_set[..]);
    assert!(replay_under(&other_rule_set, [known, &[2, 1, 99, 0], people]).is_ok());
}

#[test]
fn a_decision_naming_a_merged_patron_is_refused() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    {
        let mut memory = config(&clock).journal(journal.clone()).build().unwrap();
        define_catalog(&mut memory);
        observe(&mut memory, order("e-1", "o-1", ana(), []));
        observe(&mut memory, order("e-2", "o-2", ben(), []));
        memory
            .merge(PatronId::from_u64(1), PatronId::from_u64(2))
            .expect("merge");
        observe(&mut memory, order("e-3", "o-3", ben(), []));
    }
    let mut records = records(&mut journal.copy());
    let last = records.last_mut().expect("records");
    // An order without tickets: the rules were asked once, about the buyer.
    let [command, ..] = split_record(last, &KNOWN_PATRON_1, 1, 1);
    let at = command.len() + 2;
    last[at] = 2; // the absorbed id, where ben is patron 1 now
    match config(&clock).journal(journal_of(&records)).build() {
        Err(Error::JournalReplay { seq, reason }) => {
            assert_eq!(seq, records.len() as u64);
            assert!(reason.contains("merged"), "{reason}");
        }
        other => panic!("expected JournalReplay, got {other:?}"),
    }
}

#[test]
fn records_without_decisions_are_replayed_by_scoring_again() {
    let (records, memory) = returning_patron_journal();
    // The same journal as a build that did not record decisions wrote it: format 3,
    // the command alone. The first and third orders were new patrons (`01 02 00`: one
    // decision, `New`, no household).
    const NEW_PATRON: [u8; 3] = [1, 2, 0];
    let n = records.len();
    let mut old = records.clone();
    for (i, record) in old.iter_mut().enumerate() {
        let decisions = match i {
            _ if i == n - 2 => &KNOWN_PATRON_1[..],
            _ if i == n - 3 || i == n - 1 => &NEW_PATRON[..],
            _ => {
                assert_eq!(record[0], 3, "catalog records carry no decisions");
                continue;
            }
        };
        let [command, ..] = split_record(record, decisions, 2, 1);
        let mut command = command.to_vec();
        command[0] = 3;
        *record = command;
    }
    let clock = ManualClock::new(t0());
    let reopened = config(&clock).journal(journal_of(&old)).build().unwrap();
    assert_eq!(snapshot(&reopened), snapshot(&memory));
    // Scoring again follows the configuration: under thresholds nobody reaches, the
    // returning patron is someone new.
    let strict = config(&clock)
        .thresholds(nobody_is_known())
        .journal(journal_of(&old))
        .build()
        .unwrap();
    assert_eq!(strict.patron_count(), memory.patron_count() + 1);
    let recorded = config(&clock)
        .thresholds(nobody_is_known())
        .journal(journal_of(&records))
        .build()
        .unwrap();
    assert_eq!(recorded.patron_count(), memory.patron_count());
}

proptest! {
    /// A record with decisions after a valid command, whatever they are, is applied or
    /// refused naming its seq, never a panic.
    #[test]
    fn arbitrary_decisions_are_applied_or_refused_by_seq(
        decisions in proptest::collection::vec(any::<u8>(), 0..40)
    ) {
        let (records, _) = returning_patron_journal();
        let seq = records.len() - 1;
        let [command, _, rule_set, plans, people] =
            split_record(&records[seq - 1], &KNOWN_PATRON_1, 2, 1);
        let mut tampered = records.clone();
        tampered[seq - 1] = [command, &decisions[..], rule_set, plans, people].concat();
        let clock = ManualClock::new(t0());
        match config(&clock).journal(journal_of(&tampered)).build() {
            Ok(memory) => prop_assert_eq!(memory.last_seq(), records.len() as u64),
            Err(Error::JournalReplay { seq: at, .. }) => prop_assert_eq!(at, seq as u64),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

// ---------------------------------------------------------------- recorded fired rules

/// Proposes nothing, and counts how often it is asked.
#[derive(Debug, Clone, Default)]
struct Counting(Arc<std::sync::atomic::AtomicUsize>);

impl Counting {
    fn asked(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl MomentRule for Counting {
    fn id(&self) -> &str {
        "counting"
    }
    fn evaluate(&self, _ctx: &RuleContext<'_>, _out: &mut Vec<Moment>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn replay_asks_only_the_rules_that_proposed_and_gives_the_same_moments() {
    let clock = ManualClock::new(t0());
    let journal = SharedJournal::default();
    let live_counter = Counting::default();
    let mut memory = config(&clock)
        .rule(live_counter.clone())
        .journal(journal.clone())
        .build()
        .unwrap();
    define_catalog(&mut memory);
    live(&mut memory, &clock);
    assert!(!all_moments(&memory).is_empty(), "the life fired moments");
    assert!(live_counter.asked() > 100, "{}", live_counter.asked());

    let replay_counter = Counting::default();
    let clock = ManualClock::new(t0());
    let reopened = config(&clock)
        .rule(replay_counter.clone())
        .journal(journal.copy())
        .build()
        .expect("replay");
    // A rule whose moments never fired is asked again only where the moments of more
    // than one rule fired together (then every rule is asked), which is rare.
    assert!(
        replay_counter.asked() * 10 < live_counter.asked(),
        "asked {} times while replaying, {} times live",
        replay_counter.asked(),
        live_counter.asked()
    );
    assert_eq!(snapshot(&reopened), snapshot(&memory));
    assert_eq!(all_moments(&reopened), all_moments(&memory));
    assert_eq!(reopened.pending_ticks(), memory.pending_ticks());
    // The once-per keys came back too: the same tick fires nothing again in either.
    let mut memory = memory;
    let mut reopened = reopened;
    let again = utc(2026, 6, 1, 9, 0);
    assert_eq!(
        reopened.try_tick(again).unwrap(),
        memory.try_tick(again).unwrap()
    );
    let later = utc(2026, 9, 1, 9, 0);
    assert_eq!(
        reopened.try_tick(later).unwrap(),
        memory.try_tick(later).unwrap()
    );
    assert_eq!(snapshot(&reopened), snapshot(&memory));
}

#[test]
fn a_journal_replayed_with_another_rule_set_asks_every_rule_of_that_set() {
    let clock = ManualClock::new(t0());
    let (memory, journal) = lived_journaled(&clock);
    assert!(!all_moments(&memory).is_empty(), "the life fired moments");
    // Records name fired rules by position; under another rule set (here the default
    // rules left out, and a counting rule first) those positions name other rules, so
    // replay asks every rule again, as the same life lived under that set would.
    let other_rules = |clock: &ManualClock, counter: &Counting| {
        Memory::builder()
            .default_country(regulars::normalize::Country::GB)
            .clock(clock.clone())
            .without_default_rules()
            .rule(counter.clone())
            .rule(Quiet30)
    };
    let live_counter = Counting::default();
    let clock = ManualClock::new(t0());
    let mut lived = other_rules(&clock, &live_counter).build().unwrap();
    define_catalog(&mut lived);
    live(&mut lived, &clock);

    let replay_counter = Counting::default();
    let clock = ManualClock::new(t0());
    let reopened = other_rules(&clock, &replay_counter)
        .journal(journal.copy())
        .build()
        .expect("a journal opens under another rule set");
    assert_eq!(replay_counter.asked(), live_counter.asked());
    assert_eq!(all_moments(&reopened), all_moments(&lived));
    assert_eq!(reopened.pending_ticks(), lived.pending_ticks());
    assert_ne!(all_moments(&reopened), all_moments(&memory));
}

// ---------------------------------------------------------------- older formats

/// The configuration and events the files under `tests/fixtures/v1` were written with,
/// by the build before journal records carried recognition decisions (record format 1;
/// snapshot version 1, which is still the format written): a catalog of 200
/// performances, then 60 events, every other one an order by one of 20 people and the
/// others the entry scan of the ticket just ordered.
mod v1 {
    use super::*;
    use chrono::TimeZone;
    use regulars::normalize::Country;
    use regulars::{Performance, Ticket};

    pub const EVENTS: usize = 60;
    const PERFORMANCES: usize = 200;

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 19, 30, 0).unwrap()
    }

    pub fn config() -> MemoryBuilder {
        Memory::builder()
            .default_country(Country::GB)
            .clock(ManualClock::new(start()))
    }

    pub fn define_catalog(memory: &mut Memory) {
        memory
            .define_venue(Venue::new("main", "Main House"))
            .unwrap();
        memory
            .define_production(Production::new("rep", "Repertory").genre("drama"))
            .unwrap();
        for p in 0..PERFORMANCES {
            memory
                .define_performance(Performance::new(
                    format!("perf-{p}"),
                    "rep",
                    "main",
                    start() + TimeDelta::days(p as i64),
                ))
                .unwrap();
        }
    }

    pub fn event(n: usize) -> Event {
        let patrons = EVENTS / 3;
        let at = start() + TimeDelta::seconds(n as i64);
        let order = n / 2;
        if n % 2 == 1 {
            return Event::scan(format!("s-{order}"), Scan::entry(format!("t-{order}"))).at(at);
        }
        let i = (order * 7919) % patrons;
        let buyer = Signals::new()
            .given_name(format!("Given{i}"))
            .family_name(format!("Family{}", i % 997))
            .email(format!("patron.{i}@example.org"))
            .phone(format!("07700 9{:05}", i % 100_000));
        let order = Order::new(format!("o-{order}"), buyer).ticket(
            Ticket::new(
                format!("t-{order}"),
                format!("perf-{}", order % PERFORMANCES),
            )
            .seat_label("F12"),
        );
        Event::order(format!("e-{n}"), order).at(at)
    }

    pub fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/v1")
            .join(name)
    }
}

#[test]
fn journals_and_snapshots_of_the_previous_formats_still_open_to_the_same_memory() {
    let mut now = v1::config().build().unwrap();
    v1::define_catalog(&mut now);
    for n in 0..v1::EVENTS {
        observe(&mut now, v1::event(n));
    }
    assert!(now.patron_count() > 1);

    // A journal of format 1 records, replayed by scoring again.
    let dir = TempDir::new("v1-journal");
    fs::create_dir_all(dir.path()).unwrap();
    let segment = "journal-00000000000000000001.log";
    fs::copy(v1::fixture(segment), dir.path().join(segment)).unwrap();
    let mut reopened = v1::config()
        .open(dir.path())
        .expect("a format 1 journal opens");
    assert_eq!(
        reopened.recovery().unwrap().records(),
        (2 + 200 + v1::EVENTS) as u64,
        "the catalog and the events"
    );
    assert_eq!(snapshot(&reopened), snapshot(&now));

    // Records appended now carry decisions; a journal mixing both formats replays.
    let more = |memory: &mut Memory| {
        for n in v1::EVENTS..v1::EVENTS + 10 {
            observe(memory, v1::event(n));
        }
    };
    more(&mut reopened);
    more(&mut now);
    reopened.sync().unwrap();
    drop(reopened);
    let mixed = v1::config()
        .open(dir.path())
        .expect("a mixed journal opens");
    assert_eq!(snapshot(&mixed), snapshot(&now));

    // A journal of format 4 records (decisions, no fired rules: replay asks every
    // rule), written by the build before this one from the same catalog and events.
    let dir = TempDir::new("v4-journal");
    fs::create_dir_all(dir.path()).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/records-v4");
    fs::copy(fixture.join(segment), dir.path().join(segment)).unwrap();
    let mut reopened = v1::config()
        .open(dir.path())
        .expect("a format 4 journal opens");
    assert_eq!(
        reopened.recovery().unwrap().records(),
        (2 + 200 + v1::EVENTS) as u64
    );
    let mut expected = v1::config().build().unwrap();
    v1::define_catalog(&mut expected);
    for n in 0..v1::EVENTS {
        observe(&mut expected, v1::event(n));
    }
    assert_eq!(snapshot(&reopened), snapshot(&expected));
    // Records appended now are format 5; a journal mixing both replays.
    more(&mut reopened);
    more(&mut expected);
    reopened.sync().unwrap();
    drop(reopened);
    let mixed = v1::config()
        .open(dir.path())
        .expect("a mixed journal opens");
    assert_eq!(snapshot(&mixed), snapshot(&expected));

    // A version 1 snapshot image.
    let image = fs::read(v1::fixture("snapshot-v1.bin")).unwrap();
    assert_eq!(&image[8..12], &1u32.to_le_bytes());
    let restored = v1::config()
        .build_from_snapshot(&image)
        .expect("a version 1 snapshot loads");
    let mut expected = v1::config().build().unwrap();
    v1::define_catalog(&mut expected);
    for n in 0..v1::EVENTS {
        observe(&mut expected, v1::event(n));
    }
    assert_eq!(snapshot(&restored), snapshot(&expected));
    // Its fired moments (saved with their strings then) read back the same.
    assert!(!all_moments(&expected).is_empty());
    assert_eq!(all_moments(&restored), all_moments(&expected));
    // An image written now is the current format (8: ids as handles into the id tables,
    // ticket and order ids end to end, compact fired moments naming their ids and seats
    // by position, every time an integer, merge records keeping what a split reads),
    // and loads to the same memory.
    let again = restored.snapshot();
    assert_eq!(&again[..8], &image[..8]);
    assert_eq!(&again[8..12], &8u32.to_le_bytes());
    let again = v1::config().build_from_snapshot(&again).expect("it loads");
    assert_eq!(snapshot(&again), snapshot(&expected));

    // A version 5 image (fired moments' times as text), written by the build before
    // version 6 from the same catalog and events.
    let image =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v5/snapshot-v5.bin"))
            .unwrap();
    assert_eq!(&image[8..12], &5u32.to_le_bytes());
    let restored = v1::config()
        .build_from_snapshot(&image)
        .expect("a version 5 snapshot loads");
    assert_eq!(snapshot(&restored), snapshot(&expected));
    assert_eq!(all_moments(&restored), all_moments(&expected));
}

/// The memory the version 6 and 7 fixtures were written from: the version 1 catalog and
/// events, then three merges; with the patrons' ids in order.
fn v1_with_three_merges() -> (Memory, Vec<PatronId>) {
    let mut memory = v1::config().build().unwrap();
    v1::define_catalog(&mut memory);
    for n in 0..v1::EVENTS {
        observe(&mut memory, v1::event(n));
    }
    let ids: Vec<PatronId> = memory.patrons().map(|p| p.id()).collect();
    memory.merge(ids[0], ids[1]).unwrap();
    memory.merge(ids[0], ids[2]).unwrap();
    memory.merge(ids[3], ids[4]).unwrap();
    (memory, ids)
}

/// The checked-in snapshot of format `version`, checked to say so in its header.
fn fixture_image(version: u32) -> Vec<u8> {
    let path = format!("tests/fixtures/v{version}/snapshot-v{version}.bin");
    let image = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    assert_eq!(&image[8..12], &version.to_le_bytes());
    image
}

/// A version 6 image (merge records holding the survivor's whole record), written by the
/// build before version 7 from the same catalog and events and three merges: it loads to
/// the memory this build makes of them, and its merges split alike.
#[test]
fn a_version_6_snapshot_with_merges_loads_and_splits_alike() {
    let (mut expected, ids) = v1_with_three_merges();
    let image = fixture_image(6);
    let mut restored = v1::config()
        .build_from_snapshot(&image)
        .expect("a version 6 snapshot loads");
    assert_eq!(snapshot(&restored), snapshot(&expected));
    assert_eq!(restored.snapshot(), expected.snapshot());
    for memory in [&mut restored, &mut expected] {
        memory.split(ids[1]).unwrap();
        memory.split(ids[4]).unwrap();
    }
    assert_eq!(snapshot(&restored), snapshot(&expected));
    assert_eq!(restored.snapshot(), expected.snapshot());
}

/// A version 7 image (each fired moment with its performance, ticket id and seat),
/// written by the build before version 8 from the same catalog, events and merges as the
/// version 6 one: it loads to the memory this build makes of them, moments included.
#[test]
fn a_version_7_snapshot_with_ids_in_each_moment_loads_alike() {
    let (expected, _) = v1_with_three_merges();
    let image = fixture_image(7);
    let restored = v1::config()
        .build_from_snapshot(&image)
        .expect("a version 7 snapshot loads");
    assert_eq!(snapshot(&restored), snapshot(&expected));
    assert_eq!(restored.snapshot(), expected.snapshot());
    assert!(!all_moments(&expected).is_empty());
    assert_eq!(all_moments(&restored), all_moments(&expected));
    // Written again (version 8) and loaded, still the same memory.
    let again = v1::config()
        .build_from_snapshot(&restored.snapshot())
        .expect("it loads");
    assert_eq!(snapshot(&again), snapshot(&expected));
    assert_eq!(all_moments(&again), all_moments(&expected));
}

#[test]
fn a_snapshot_claiming_more_entries_than_it_holds_reserves_nothing_for_them() {
    // A version 1 image: an empty catalog (4 empty lists), no patrons, empty identifier
    // and blocking indexes, then a ticket table claiming 2^60 entries.
    let mut image = b"RGLRSNAP".to_vec();
    image.extend_from_slice(&1u32.to_le_bytes());
    image.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0]);
    image.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    let crc = crc32fast::hash(&image);
    image.extend_from_slice(&crc.to_le_bytes());
    match Memory::builder().build_from_snapshot(&image) {
        Err(Error::InvalidSnapshot(reason)) => assert!(reason.contains("undecodable"), "{reason}"),
        other => panic!("expected InvalidSnapshot, got {other:?}"),
    }
}

// ---------------------------------------------------------------- long journals

#[path = "../examples/support/door_stream.rs"]
#[allow(dead_code)]
mod door_stream;

/// A journal of thousands of door events (tables growing many times over while it is
/// replayed) gives back the memory that wrote it, both when every record is replayed
/// and when a snapshot comes before a tail of thousands of records: the same view, and
/// a snapshot that loads back to that view, as the writer's does.
#[test]
fn a_long_journal_replays_to_the_memory_that_wrote_it_with_and_without_a_snapshot() {
    const EVENTS: usize = 12_000;
    for checkpoint_at in [None, Some(EVENTS / 4)] {
        let dir = TempDir::new("long");
        let (written, written_image, last_seq, checkpoint_seq) = {
            let mut memory = door_stream::config()
                .sync_policy(SyncPolicy::Os)
                .checkpoint_every(0)
                .open(dir.path())
                .expect("the journal opens");
            door_stream::define_catalog(&mut memory).expect("the catalog");
            let mut checkpoint_seq = 0;
            for n in 0..EVENTS {
                if checkpoint_at == Some(n) {
                    checkpoint_seq = memory.checkpoint().expect("checkpoint");
                }
                memory
                    .observe(door_stream::event(n, EVENTS / 3))
                    .expect("observed");
            }
            memory.sync().expect("sync");
            (
                view(&memory),
                memory.snapshot(),
                memory.last_seq(),
                checkpoint_seq,
            )
        };
        let reopened = door_stream::config()
            .open(dir.path())
            .expect("the journal reopens");
        let replayed = reopened.recovery().expect("journaled").records();
        assert_eq!(replayed, last_seq - checkpoint_seq, "{checkpoint_at:?}");
        assert!(
            replayed > 8192,
            "long enough to grow tables ahead: {replayed}"
        );
        assert_eq!(view(&reopened), written, "{checkpoint_at:?}");
        // A snapshot taken after replay is the writer's snapshot, byte for byte, and
        // holds the same memory.
        let image = reopened.snapshot();
        assert!(image == written_image, "{checkpoint_at:?}");
        let restored = door_stream::config()
            .build_from_snapshot(&image)
            .expect("the replayed memory's snapshot loads");
        assert_eq!(view(&restored), written, "{checkpoint_at:?}");
        let restored_written = door_stream::config()
            .build_from_snapshot(&written_image)
            .expect("the writer's snapshot loads");
        assert_eq!(view(&restored_written), written, "{checkpoint_at:?}");
    }
}

#[test]
fn only_an_event_id_not_seen_before_is_journaled() {
    let clock = ManualClock::new(t0());
    let mut memory = config(&clock)
        .journal(SharedJournal::default())
        .build()
        .unwrap();
    define_catalog(&mut memory);
    let start = memory.last_seq();
    let event = order("e-1", "o-1", ana(), [ticket("t-1", "hamlet-1")]);
    memory.observe(event.clone()).unwrap();
    assert_eq!(memory.last_seq(), start + 1);
    assert!(memory.observe(event).unwrap().is_replay());
    assert_eq!(
        memory.last_seq(),
        start + 1,
        "a seen event is not journaled again"
    );
    // One ticket scanned under two event ids: the second id is new, so it is journaled.
    scan_in(&mut memory, "s-1", "t-1");
    scan_in(&mut memory, "s-2", "t-1");
    assert_eq!(memory.last_seq(), start + 3);
}
