//! Privacy: erasure leaves no personal data in memory or on disk, export holds everything
//! memory knows, opting out stops learning and moments, `Debug` never shows personal data.

mod common;

use common::TempDir;

use std::fs;
use std::path::Path;

use chrono::TimeDelta;
use common::*;
use regulars::journal::{FileJournal, Journal, Recovery, SyncPolicy};
use regulars::{
    Channel, Consent, Donation, Error, Event, Flag, FlagKind, LineItem, ManualClock, Membership,
    Memory, MemoryBuilder, Note, PatronId, ProfileChange, Purchase, Purpose, Recognition, Refund,
    SeatPreference, Signals,
};

// ---------------------------------------------------------------- helpers

/// Every file's bytes under `dir`, lower-cased (ASCII), with its name.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = fs::read(&path).expect("readable file");
                out.push((path.display().to_string(), bytes.to_ascii_lowercase()));
            }
        }
    }
    assert!(!out.is_empty(), "the data dir holds no file");
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The files of `dir` that hold `needle` (case-insensitively).
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    files_of(dir)
        .into_iter()
        .filter(|(_, bytes)| contains(bytes, needle))
        .map(|(name, _)| name)
        .collect()
}

// Anastasia Featherstonehaugh: every kind of personal data, each value distinctive
// enough that finding its bytes by chance is impossible.
const GIVEN: &str = "Anastasia";
const FAMILY: &str = "Featherstonehaugh";
const EMAIL: &str = "anastasia.f@featherstone.example";
const WORK_EMAIL: &str = "a.featherstonehaugh@quillworks.example";
const PHONE: &str = "020 7946 0321";
const PHONE_DIGITS: &str = "2079460321";
const CARD: &str = "tok_anastasia_9137";
const LOYALTY: &str = "LOY-558812";
const STREET: &str = "17 Cherry Orchard Lane";
const CITY: &str = "Wolverhampton";
const NOTE: &str = "Anastasia prefers the quiet foyer";
const FLAG_DETAIL: &str = "needs the hearing loop in row Q";
const PREFERENCE: &str = "oat milk flat white";

fn anastasia() -> Signals {
    Signals::new()
        .given_name(GIVEN)
        .family_name(FAMILY)
        .email(EMAIL)
        .phone(PHONE)
        .card_token(CARD)
        .external_id("loyalty", LOYALTY)
        .street(STREET)
        .city(CITY)
        .postcode("WV1 4QQ")
        .country("GB")
        .birth_date(date(1984, 7, 19))
}

/// The same person under her work e-mail only.
fn anastasia_at_work() -> Signals {
    Signals::new()
        .given_name(GIVEN)
        .family_name(FAMILY)
        .email(WORK_EMAIL)
}

/// Every value of Anastasia's that must not survive an erasure, as it would be stored
/// (raw or normalized).
const ANASTASIA_SECRETS: [&str; 13] = [
    GIVEN,
    FAMILY,
    EMAIL,
    WORK_EMAIL,
    PHONE_DIGITS,
    CARD,
    LOYALTY,
    STREET,
    CITY,
    "WV14QQ",
    NOTE,
    FLAG_DETAIL,
    PREFERENCE,
];

const BEN_EMAIL: &str = "ben.okafor@example.net";

/// Fills a memory with Anastasia (two records merged, a profile full of data, tickets,
/// a scan, moments), Ben and Cleo. Returns Anastasia's two ids.
fn fill(memory: &mut Memory) -> (PatronId, PatronId) {
    define_catalog(memory);
    let ana = observe(
        memory,
        order(
            "e-1",
            "o-1",
            anastasia(),
            [seated("t-1", "hamlet-1", "F12")],
        ),
    )
    .patron();
    scan_in(memory, "e-2", "t-1");
    // Her work e-mail arrives as someone else first, then staff merge the two.
    let work = observe(
        memory,
        order(
            "e-3",
            "o-2",
            Signals::new().email(WORK_EMAIL),
            [seated("t-2", "hamlet-2", "F13")],
        ),
    )
    .patron();
    assert_ne!(work, ana, "the work record starts as its own patron");
    memory
        .update_profile(work, ProfileChange::AddNote(Note::new(NOTE, t0())))
        .expect("note");
    memory.merge(ana, work).expect("merge");
    for change in [
        ProfileChange::AddFlag(Flag::new(FlagKind::AccessNeeds).detail(FLAG_DETAIL)),
        ProfileChange::CustomPreference {
            key: "coffee".to_owned(),
            value: Some(PREFERENCE.to_owned()),
        },
        ProfileChange::SeatPreference(Some(SeatPreference::aisle())),
        ProfileChange::Consent(Consent::granted(Channel::Email, Purpose::Marketing, t0())),
    ] {
        memory.update_profile(ana, change).expect("profile change");
    }
    observe(
        memory,
        order("e-4", "o-3", ben(), [seated("t-3", "hamlet-1", "F14")]),
    );
    observe(
        memory,
        order("e-5", "o-4", cleo(), [ticket("t-4", "nutcracker-1")]),
    );
    observe(
        memory,
        order(
            "e-6",
            "o-5",
            anastasia_at_work(),
            [seated("t-5", "hamlet-3", "A1")],
        ),
    );
    (ana, work)
}

fn durable_builder(clock: &ManualClock) -> MemoryBuilder {
    builder(clock).sync_policy(SyncPolicy::EveryAppend)
}

// ---------------------------------------------------------------- erase

#[test]
fn erase_leaves_no_personal_data_in_any_file_of_the_data_dir() {
    let dir = TempDir::new("erase");
    let clock = ManualClock::new(t0());
    let (ana, work) = {
        let mut memory = durable_builder(&clock).open(dir.path()).expect("open");
        let (ana, work) = fill(&mut memory);
        // Some of it in a snapshot, some only in the journal after it.
        memory.checkpoint().expect("checkpoint");
        observe(
            &mut memory,
            order("e-7", "o-6", anastasia(), [ticket("t-6", "hamlet-4")]),
        );
        memory.sync().expect("sync");
        for secret in [GIVEN, EMAIL, WORK_EMAIL, PHONE_DIGITS, NOTE] {
            assert!(
                !files_holding(dir.path(), secret).is_empty(),
                "before erasure, {secret:?} is on disk (the scan can see it)"
            );
        }

        let erasure = memory.erase(work).expect("erase");
        assert_eq!(erasure.patrons(), &[ana, work], "the merged records go too");
        assert_eq!(erasure.names(), 1);
        assert_eq!(
            erasure.identifiers(),
            5,
            "two e-mails, phone, card, loyalty id"
        );
        assert!(erasure.interactions() > 0);
        assert_eq!(erasure.notes(), 1);
        assert!(erasure.moments() > 0, "her first-visit moment goes");
        assert_eq!(erasure.checkpoint(), Some(memory.last_seq()));
        (ana, work)
    };

    for secret in ANASTASIA_SECRETS {
        let holding = files_holding(dir.path(), secret);
        assert!(
            holding.is_empty(),
            "{secret:?} survived the erasure in {holding:?}"
        );
    }
    assert!(
        !files_holding(dir.path(), BEN_EMAIL).is_empty(),
        "another patron's e-mail is still on disk"
    );

    // Reopened: she is gone, the others are intact.
    let mut memory = durable_builder(&clock).open(dir.path()).expect("reopen");
    for id in [ana, work] {
        assert!(memory.patron(id).is_none());
        assert!(memory.is_erased(id));
        assert_eq!(memory.export(id).unwrap_err(), Error::ErasedPatron(id));
    }
    assert_eq!(memory.patron_count(), 2);
    let ben = memory
        .recognize(&ben())
        .expect("recognize")
        .known_patron()
        .expect("Ben is still known");
    let ben_view = memory.patron(ben).expect("Ben");
    assert_eq!(ben_view.identifiers()[0].value(), BEN_EMAIL);
    assert_eq!(ben_view.stats().orders(), 1);
    assert!(
        memory
            .brief("hamlet-1")
            .expect("brief")
            .entries()
            .all(|e| e.patron() != ana),
        "her moments left the brief"
    );
    assert!(memory.moments_of(ana).next().is_none());

    // She comes back: a new patron with a new id, who knows nothing of the old one.
    let seen = observe(
        &mut memory,
        order("e-20", "o-20", anastasia(), [ticket("t-20", "hamlet-4")]),
    );
    assert_eq!(seen.recognition().decision(), "new");
    let new = seen.patron();
    assert!(new > work && new > ana, "ids are never reused");
    let view = memory.patron(new).expect("the new patron");
    assert_eq!(view.stats().orders(), 1);
    assert!(view.notes().is_empty());
    // An old event sent again is a replay: it does not bring the erased person back.
    let replay = memory
        .observe(order(
            "e-1",
            "o-1",
            anastasia(),
            [seated("t-1", "hamlet-1", "F12")],
        ))
        .expect("replay");
    assert!(replay.is_replay());
    assert!(memory.patron(replay.patron()).is_none());
}

#[test]
fn erase_clears_memory_everywhere_without_a_journal() {
    let clock = ManualClock::new(t0());
    let mut memory = builder(&clock).build().expect("build");
    let (ana, work) = fill(&mut memory);
    let ben = memory.recognize(&ben()).unwrap().known_patron().unwrap();
    let erasure = memory.erase(ana).expect("erase");
    assert_eq!(erasure.checkpoint(), None);
    assert_eq!(erasure.patrons(), &[ana, work]);
    let erased: Vec<PatronId> = memory
        .identity_changes(0)
        .iter()
        .filter_map(|change| match change {
            regulars::IdentityChange::Erased { patron } => Some(*patron),
            _ => None,
        })
        .collect();
    assert_eq!(erased, [ana, work], "the change feed tells other systems");

    // Nothing of hers in the snapshot image, which holds everything memory knows.
    let image = memory.snapshot().to_ascii_lowercase();
    for secret in ANASTASIA_SECRETS {
        assert!(!contains(&image, secret), "{secret:?} is still in memory");
    }
    assert!(contains(&image, BEN_EMAIL));

    // Nobody can reach her by any identifier, and nothing can change her.
    for signals in [
        Signals::new().email(EMAIL),
        Signals::new().phone(PHONE),
        Signals::new().card_token(CARD),
        Signals::new().external_id("loyalty", LOYALTY),
        Signals::new().given_name(GIVEN).family_name(FAMILY),
    ] {
        let recognition = memory.recognize(&signals).expect("recognize");
        assert_eq!(recognition.decision(), "new");
    }
    assert_eq!(
        memory.update_profile(ana, ProfileChange::PrefersNoFuss(true)),
        Err(Error::ErasedPatron(ana))
    );
    assert_eq!(memory.merge(ben, ana), Err(Error::ErasedPatron(ana)));
    assert_eq!(memory.split(work), Err(Error::ErasedPatron(work)));
    assert_eq!(memory.opt_out(ana), Err(Error::ErasedPatron(ana)));
    assert_eq!(memory.patrons().count(), 2);
    // A second erasure has nothing left to do.
    assert!(
        memory
            .erase(work)
            .expect("erase again")
            .patrons()
            .is_empty()
    );
    assert_eq!(
        memory.erase(PatronId::from_u64(999)).unwrap_err(),
        Error::UnknownPatron(PatronId::from_u64(999))
    );

    // Her ticket still opens the door, and records nothing about anyone.
    let scan = scan_in(&mut memory, "e-30", "t-5");
    assert_eq!(scan.patron(), ana);
    assert!(scan.moments().is_empty());
    assert!(memory.patron(ana).is_none());
    let image = memory.snapshot().to_ascii_lowercase();
    for secret in ANASTASIA_SECRETS {
        assert!(!contains(&image, secret), "{secret:?} came back");
    }
}

#[test]
fn anonymous_aggregates_are_kept_only_when_configured() {
    for keep in [false, true] {
        let clock = ManualClock::new(t0());
        let mut memory = builder(&clock)
            .keep_anonymous_aggregates(keep)
            .build()
            .expect("build");
        let (ana, work) = fill(&mut memory);
        let orders = memory.patron(ana).unwrap().stats().orders();
        memory.erase(ana).expect("erase");
        let stats = memory.erased_stats(ana);
        if keep {
            assert_eq!(stats.map(|s| s.orders()), Some(orders));
            assert_eq!(stats.map(|s| s.performances_attended()), Some(1));
        } else {
            assert!(stats.is_none());
        }
        assert!(memory.erased_stats(work).is_none_or(|s| s.orders() == 0));
        assert!(memory.patron(ana).is_none());
    }
}

/// A file journal that cannot write snapshots: the erasure is journaled, its checkpoint
/// fails, as if the process died between the two.
#[derive(Debug)]
struct NoSnapshots(FileJournal);

impl Journal for NoSnapshots {
    fn append(&mut self, payload: &[u8]) -> regulars::Result<u64> {
        self.0.append(payload)
    }
    fn sync(&mut self) -> regulars::Result<u64> {
        self.0.sync()
    }
    fn durable_seq(&self) -> u64 {
        self.0.durable_seq()
    }
    fn last_seq(&self) -> u64 {
        self.0.last_seq()
    }
    fn replay(
        &mut self,
        after_seq: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> regulars::Result<()>,
    ) -> regulars::Result<Recovery> {
        self.0.replay(after_seq, visit)
    }
    fn write_snapshot(&mut self, _seq: u64, _bytes: &[u8]) -> regulars::Result<()> {
        Err(Error::InvalidConfig(
            "snapshots are switched off".to_owned(),
        ))
    }
    fn latest_snapshot(&mut self) -> regulars::Result<Option<(u64, Vec<u8>)>> {
        self.0.latest_snapshot()
    }
}

#[test]
fn an_erasure_whose_checkpoint_failed_is_completed_when_memory_is_opened() {
    let dir = TempDir::new("interrupted");
    let clock = ManualClock::new(t0());
    let ana = {
        let journal = FileJournal::open(dir.path(), SyncPolicy::EveryAppend).expect("journal");
        let mut memory = builder(&clock)
            .journal(NoSnapshots(journal))
            .build()
            .expect("build");
        let (ana, _) = fill(&mut memory);
        assert!(memory.erase(ana).is_err(), "the checkpoint failed");
        assert!(
            !files_holding(dir.path(), EMAIL).is_empty(),
            "until a checkpoint, her records are on disk"
        );
        ana
    };
    let memory = durable_builder(&clock).open(dir.path()).expect("reopen");
    assert!(memory.is_erased(ana));
    for secret in ANASTASIA_SECRETS {
        let holding = files_holding(dir.path(), secret);
        assert!(holding.is_empty(), "{secret:?} survived in {holding:?}");
    }
    assert!(!files_holding(dir.path(), BEN_EMAIL).is_empty());
}

#[test]
fn erasure_is_journaled_and_replayed() {
    let dir = TempDir::new("replayed");
    let clock = ManualClock::new(t0());
    let (ana, seq) = {
        let mut memory = durable_builder(&clock)
            .checkpoint_every(0)
            .open(dir.path())
            .expect("open");
        let (ana, _) = fill(&mut memory);
        memory.erase(ana).expect("erase");
        // Work after the erasure lives in the journal only.
        memory
            .opt_out(memory.recognize(&ben()).unwrap().known_patron().unwrap())
            .expect("opt out");
        (ana, memory.last_seq())
    };
    let memory = durable_builder(&clock).open(dir.path()).expect("reopen");
    assert_eq!(memory.last_seq(), seq);
    assert!(memory.is_erased(ana));
    let ben = memory.recognize(&ben()).unwrap().known_patron().unwrap();
    assert!(memory.is_opted_out(ben));
    assert_eq!(memory.patron_count(), 2);
}

#[test]
fn erasing_a_household_member_unlinks_them() {
    let mut memory = memory();
    // Two people sharing one phone: a household, never merged.
    let shared = "020 7946 0999";
    let a = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            Signals::new()
                .given_name("Ottoline")
                .family_name("Quince")
                .phone(shared),
            [],
        ),
    )
    .patron();
    let b = observe(
        &mut memory,
        order(
            "e-2",
            "o-2",
            Signals::new()
                .given_name("Barnaby")
                .family_name("Quince")
                .phone(shared),
            [],
        ),
    )
    .patron();
    assert_ne!(a, b);
    assert_eq!(
        memory.patron(b).unwrap().household().collect::<Vec<_>>(),
        vec![a]
    );
    memory.erase(a).expect("erase");
    assert_eq!(memory.patron(b).unwrap().household().count(), 0);
    let image = memory.snapshot().to_ascii_lowercase();
    assert!(!contains(&image, "ottoline"));
    assert!(contains(&image, "barnaby"));
    // The phone is Barnaby's alone now.
    let recognition = memory
        .recognize(&Signals::new().given_name("Barnaby").phone(shared))
        .unwrap();
    assert_eq!(recognition.known_patron(), Some(b));
}

/// Astrid, then "A. Lindqvist" with a phone: a review item with Astrid as candidate.
fn astrid_and_a_doubtful_record(memory: &mut Memory) -> (PatronId, PatronId) {
    let astrid = observe(
        memory,
        order(
            "e-1",
            "o-1",
            Signals::new()
                .given_name("Astrid")
                .family_name("Lindqvist")
                .email("astrid@example.org"),
            [],
        ),
    )
    .patron();
    let unsure = observe(
        memory,
        order(
            "e-2",
            "o-2",
            Signals::new()
                .given_name("A.")
                .family_name("Lindqvist")
                .phone("+46 70 123 45 67"),
            [],
        ),
    )
    .patron();
    assert_eq!(memory.reviews().count(), 1, "the doubtful record is queued");
    (astrid, unsure)
}

#[test]
fn erasing_the_only_candidate_of_a_review_drops_the_review() {
    let mut memory = memory();
    let (astrid, unsure) = astrid_and_a_doubtful_record(&mut memory);
    let erasure = memory.erase(astrid).expect("erase");
    assert_eq!(erasure.reviews(), 1);
    assert_eq!(memory.reviews().count(), 0);
    assert!(memory.patron(unsure).is_some());
    let image = memory.snapshot().to_ascii_lowercase();
    assert!(!contains(&image, "astrid"));
    assert!(contains(&image, "+46701234567"));
}

#[test]
fn erasing_the_subject_of_a_review_drops_the_review() {
    let mut memory = memory();
    let (astrid, unsure) = astrid_and_a_doubtful_record(&mut memory);
    memory.erase(unsure).expect("erase");
    assert_eq!(memory.reviews().count(), 0);
    assert!(memory.patron(astrid).is_some());
    let image = memory.snapshot().to_ascii_lowercase();
    assert!(!contains(&image, "+46701234567"));
    assert!(contains(&image, "astrid@example.org"));
}

// ---------------------------------------------------------------- export

/// The export of `patron`, parsed.
fn export_json(memory: &Memory, patron: PatronId) -> serde_json::Value {
    let json = memory.export(patron).expect("export").to_json();
    serde_json::from_str(&json).expect("the export is valid JSON")
}

fn strings_of(values: &serde_json::Value, field: &str) -> Vec<String> {
    values
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|v| v[field].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn export_holds_everything_memory_knows_about_the_patron() {
    let clock = ManualClock::new(t0());
    let mut memory = builder(&clock).build().expect("build");
    let (ana, work) = fill(&mut memory);
    // Every kind of interaction.
    observe(
        &mut memory,
        Event::donation(
            "e-40",
            Donation::new(anastasia_at_work(), gbp(5000)).fund("Youth theatre"),
        )
        .at(order_time()),
    );
    observe(
        &mut memory,
        Event::membership(
            "e-41",
            Membership::new(
                anastasia_at_work(),
                "Friends",
                date(2026, 2, 1),
                date(2027, 1, 31),
            )
            .price(gbp(6000)),
        )
        .at(order_time()),
    );
    observe(
        &mut memory,
        Event::purchase(
            "e-42",
            Purchase::new(anastasia_at_work())
                .at_performance("hamlet-1")
                .item(LineItem::new("programme-hamlet", 2, gbp(500))),
        )
        .at(order_time()),
    );
    observe(
        &mut memory,
        Event::refund("e-43", Refund::whole_order("o-2")).at(order_time()),
    );
    let ben = memory.recognize(&ben()).unwrap().known_patron().unwrap();
    let patron = memory.patron(ana).expect("Anastasia");
    let fired: Vec<String> = memory
        .moments_of(ana)
        .map(|m| m.rule().to_owned())
        .collect();
    assert!(!fired.is_empty(), "the fixture fires moments for her");
    let history_len = patron.history().len();
    let export = export_json(&memory, work);

    assert_eq!(export["patron"], ana.as_u64());
    assert_eq!(
        export["ids"],
        serde_json::json!([ana.as_u64(), work.as_u64()])
    );
    assert_eq!(export["opted_out"], false);
    assert_eq!(export["names"][0]["given"], GIVEN);
    assert_eq!(export["names"][0]["family"], FAMILY);
    let mut identifiers = strings_of(&export["identifiers"], "value");
    identifiers.sort();
    let mut expected = vec![
        EMAIL.to_owned(),
        WORK_EMAIL.to_owned(),
        "+44".to_owned() + PHONE_DIGITS,
        CARD.to_owned(),
        LOYALTY.to_owned(),
    ];
    expected.sort();
    assert_eq!(identifiers, expected);
    let loyalty = export["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["value"] == LOYALTY)
        .unwrap();
    assert_eq!(loyalty["system"], "loyalty");
    let address = &export["addresses"][0];
    assert_eq!(address["street"], STREET);
    assert_eq!(address["city"], CITY);
    assert!(address["postcode"].as_str().unwrap().contains("WV1"));
    assert_eq!(export["birth_date"], "1984-07-19");
    assert_eq!(export["preferences"]["no_fuss"], false);
    assert_eq!(export["preferences"]["seat"]["aisle"], true);
    assert_eq!(
        export["preferences"]["custom"],
        serde_json::json!([["coffee", PREFERENCE]])
    );
    assert_eq!(export["consents"][0]["channel"], "Email");
    assert_eq!(export["consents"][0]["purpose"], "Marketing");
    assert_eq!(export["consents"][0]["granted"], true);
    assert_eq!(export["flags"][0]["detail"], FLAG_DETAIL);
    assert_eq!(export["notes"][0]["text"], NOTE);

    let history = export["history"].as_array().unwrap();
    assert_eq!(history.len(), history_len);
    let events: Vec<&str> = history.iter().filter_map(|h| h["event"].as_str()).collect();
    for event in ["e-1", "e-2", "e-3", "e-6", "e-40", "e-41", "e-42", "e-43"] {
        assert!(
            events.contains(&event),
            "history misses {event}: {events:?}"
        );
    }
    let text = export.to_string();
    for fact in ["Youth theatre", "Friends", "programme-hamlet"] {
        assert!(text.contains(fact), "the export misses {fact:?}");
    }

    assert_eq!(export["stats"]["orders"], 3);
    assert_eq!(export["stats"]["performances_attended"], 1);
    assert_eq!(export["stats"]["donations"], 1);
    let tickets = strings_of(&export["tickets"], "ticket");
    assert_eq!(tickets, ["t-1", "t-2", "t-5"]);
    let t1 = &export["tickets"][0];
    assert_eq!(t1["performance"], "hamlet-1");
    assert_eq!(t1["seat"]["label"], "F12");
    assert_eq!(t1["scanned_in"], true);
    assert_eq!(t1["price"]["minor"], 3000);
    assert_eq!(export["tickets"][1]["refunded"], true);

    let exported_rules = strings_of(&export["moments"], "rule");
    for rule in &fired {
        assert!(exported_rules.contains(rule), "moment {rule} missing");
    }
    assert!(
        export["moments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["standing"].is_string() && m["message"].is_string())
    );
    let identity = export["identity"].as_array().unwrap();
    assert!(
        identity
            .iter()
            .any(|c| c["Merged"]["absorbed"] == work.as_u64()),
        "the merge is in the export: {identity:?}"
    );
    assert!(export["household"].as_array().unwrap().is_empty());
    assert!(export["reviews"].as_array().unwrap().is_empty());

    // Nobody else's data.
    assert!(!text.contains(BEN_EMAIL));
    assert!(!text.contains("Okafor"));
    assert!(!text.contains("\"t-3\""), "Ben's ticket is not hers");
    let ben_export = export_json(&memory, ben);
    assert!(!ben_export.to_string().contains(GIVEN));
}

#[test]
fn export_of_unknown_or_erased_patrons_is_an_error() {
    let mut memory = memory();
    let unknown = PatronId::from_u64(42);
    assert_eq!(
        memory.export(unknown).unwrap_err(),
        Error::UnknownPatron(unknown)
    );
    let id = observe(&mut memory, order("e-1", "o-1", ana(), [])).patron();
    memory.erase(id).expect("erase");
    assert_eq!(memory.export(id).unwrap_err(), Error::ErasedPatron(id));
    let ben = observe(&mut memory, order("e-2", "o-2", ben(), [])).patron();
    let export = memory.export(ben);
    let debug = format!("{:?}", export.expect("export"));
    assert_no_secrets("PatronExport Debug", &debug, &["Ben", "Okafor", BEN_EMAIL]);
}

// ---------------------------------------------------------------- opt-out

#[test]
fn an_opted_out_patron_is_recognized_but_nothing_is_learned_and_no_moment_fires() {
    let (mut memory, _clock) = memory_with_clock();
    let id = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    assert!(!memory.moments_of(id).collect::<Vec<_>>().is_empty());
    let before = memory.export(id).expect("export").to_json();
    memory.opt_out(id).expect("opt out");
    assert!(memory.is_opted_out(id));
    assert_eq!(
        memory.moments_of(id).count(),
        0,
        "pending moments are retired"
    );
    assert_eq!(
        memory.pending_ticks(),
        0,
        "no time-based rule waits for her"
    );

    // She comes back with a new phone and an address: still her, nothing learned.
    let signals = ana()
        .phone("+44 7700 900123")
        .street("1 New Street")
        .postcode("SW1A 1AA")
        .country("GB");
    let seen = observe(
        &mut memory,
        order(
            "e-2",
            "o-2",
            signals.clone(),
            [seated("t-2", "hamlet-2", "G1")],
        ),
    );
    assert_eq!(seen.patron(), id);
    assert!(seen.moments().is_empty());
    let scan = scan_in(&mut memory, "e-3", "t-2");
    assert_eq!(scan.patron(), id);
    assert!(scan.moments().is_empty());
    assert!(scan_in(&mut memory, "e-4", "t-1").moments().is_empty());
    assert!(
        memory
            .tick(starts("nutcracker-2") + TimeDelta::days(800))
            .is_empty()
    );
    // Her tickets are still valid at the door.
    assert!(memory.ticket("t-2").expect("ticket").is_scanned_in());
    let after = memory.export(id).expect("export").to_json();
    let (before, after): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&before).unwrap(),
        serde_json::from_str(&after).unwrap(),
    );
    for field in [
        "names",
        "identifiers",
        "addresses",
        "birth_date",
        "history",
        "stats",
        "household",
    ] {
        assert_eq!(
            before[field], after[field],
            "{field} changed after the opt-out"
        );
    }
    assert_eq!(after["opted_out"], true);
    assert_eq!(
        strings_of(&after["tickets"], "ticket"),
        ["t-1", "t-2"],
        "the export still shows the tickets issued after the opt-out"
    );
    assert!(memory.recognize(&signals).unwrap().known_patron() == Some(id));
}

/// Whether the recognition offers `patron` as anything but its sure answer.
fn offers(recognition: &Recognition, patron: PatronId) -> bool {
    recognition.household().contains(&patron)
        || match recognition {
            Recognition::Review { candidates, .. } => {
                candidates.iter().any(|c| c.patron() == patron)
            }
            Recognition::New { nearest, .. } => {
                nearest.as_ref().is_some_and(|c| c.patron() == patron)
            }
            _ => false,
        }
}

#[test]
fn an_opted_out_patron_is_never_evidence_for_someone_else() {
    let mut memory = memory();
    let astrid = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            Signals::new()
                .given_name("Astrid")
                .family_name("Lindqvist")
                .email("astrid@example.org"),
            [],
        ),
    )
    .patron();
    let doubtful = Signals::new()
        .given_name("A.")
        .family_name("Lindqvist")
        .phone("+46 70 999 88 77");
    let before = memory.recognize(&doubtful).unwrap();
    assert!(
        offers(&before, astrid),
        "before the opt-out she is a candidate: {before:?}"
    );
    memory.opt_out(astrid).expect("opt out");
    let after = memory.recognize(&doubtful).unwrap();
    assert!(!offers(&after, astrid), "after it she is not: {after:?}");
    let seen = observe(&mut memory, order("e-9", "o-9", doubtful, []));
    assert_ne!(seen.patron(), astrid);
    assert!(
        memory
            .reviews()
            .all(|r| r.candidates().iter().all(|c| c.patron() != astrid))
    );

    // Sharing her e-mail makes no household link either.
    let partner = observe(
        &mut memory,
        order(
            "e-10",
            "o-10",
            Signals::new()
                .given_name("Bjorn")
                .family_name("Lindqvist")
                .email("astrid@example.org"),
            [],
        ),
    )
    .patron();
    assert_eq!(memory.patron(astrid).unwrap().household().count(), 0);
    assert_eq!(memory.reviews().count(), 0);
    assert!(
        memory
            .patron(partner)
            .unwrap()
            .household()
            .all(|h| h != astrid)
    );
}

#[test]
fn opting_in_again_resumes_learning() {
    let mut memory = memory();
    let id = observe(&mut memory, order("e-1", "o-1", ana(), [])).patron();
    memory.opt_out(id).expect("opt out");
    observe(&mut memory, order("e-2", "o-2", ana(), []));
    assert_eq!(memory.patron(id).unwrap().stats().orders(), 1);
    memory.opt_in(id).expect("opt in");
    assert!(!memory.is_opted_out(id));
    observe(&mut memory, order("e-3", "o-3", ana(), []));
    assert_eq!(memory.patron(id).unwrap().stats().orders(), 2);
}

#[test]
fn opt_out_survives_a_restart() {
    let dir = TempDir::new("opt-out");
    let clock = ManualClock::new(t0());
    let id = {
        let mut memory = durable_builder(&clock).open(dir.path()).expect("open");
        define_catalog(&mut memory);
        let id = observe(&mut memory, order("e-1", "o-1", ana(), [])).patron();
        let seq = memory.last_seq();
        memory.opt_out(id).expect("opt out");
        assert_eq!(memory.last_seq(), seq + 1, "the opt-out is journaled");
        memory.opt_out(id).expect("again");
        assert_eq!(
            memory.last_seq(),
            seq + 1,
            "a second opt-out changes nothing"
        );
        id
    };
    {
        let mut memory = durable_builder(&clock).open(dir.path()).expect("reopen");
        assert!(memory.is_opted_out(id));
        memory.checkpoint().expect("checkpoint");
    }
    let mut memory = durable_builder(&clock)
        .open(dir.path())
        .expect("from the snapshot");
    assert!(memory.is_opted_out(id));
    let seen = observe(
        &mut memory,
        order("e-2", "o-2", ana(), [ticket("t-2", "hamlet-2")]),
    );
    assert!(seen.moments().is_empty());
    assert_eq!(memory.patron(id).unwrap().stats().orders(), 1);
}

#[test]
fn opting_out_takes_the_patron_out_of_open_reviews() {
    let mut memory = memory();
    let (astrid, unsure) = astrid_and_a_doubtful_record(&mut memory);
    memory.opt_out(astrid).expect("opt out");
    assert_eq!(memory.reviews().count(), 0, "its only candidate opted out");
    assert!(memory.patron(unsure).is_some());
}

// ---------------------------------------------------------------- Debug

/// Everything of Anastasia's `Debug` must never show, in any spelling memory keeps.
const DEBUG_SECRETS: [&str; 19] = [
    GIVEN,
    FAMILY,
    "anastasia",
    "featherstonehaugh",
    EMAIL,
    WORK_EMAIL,
    PHONE,
    PHONE_DIGITS,
    CARD,
    LOYALTY,
    STREET,
    CITY,
    "WV1",
    "1984",
    NOTE,
    "Rosalind Stagehand",
    FLAG_DETAIL,
    PREFERENCE,
    "Dear Anastasia",
];

/// A strategy that writes down the `Debug` of everything it is shown.
#[derive(Debug, Default, Clone)]
struct Spy(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Spy {
    fn note(&self, text: String) {
        self.0.lock().expect("spy log").push(text);
    }
}

impl regulars::Strategy for Spy {
    fn name(&self) -> &str {
        "spy"
    }
    fn candidates(
        &self,
        signals: &regulars::NormalizedSignals,
        index: &regulars::IndexView<'_>,
        _out: &mut regulars::Candidates,
    ) {
        self.note(format!("{signals:?}"));
        self.note(format!("{index:?}"));
    }
    fn score(
        &self,
        signals: &regulars::NormalizedSignals,
        patron: &regulars::PatronView<'_>,
        _out: &mut regulars::Evidence,
    ) {
        self.note(format!("{signals:?} {patron:?}"));
    }
}

#[test]
fn debug_output_never_shows_personal_data() {
    let spy = Spy::default();
    let rule_log = Spy::default();
    let greeter = {
        let log = rule_log.clone();
        regulars::rule_fn("greeter", move |ctx, out| {
            log.note(format!("{ctx:?}"));
            let name = ctx
                .patron()
                .latest_name()
                .and_then(|n| n.given())
                .unwrap_or("friend");
            out.push(
                regulars::Moment::new(
                    regulars::MomentKind::Welcome,
                    regulars::Action::FrontOfHouse,
                    format!("Dear {name}, welcome"),
                )
                .explain(format!("{name} is here"))
                .dedupe_by(ctx.now().to_rfc3339()),
            );
        })
    };
    let clock = ManualClock::new(t0());
    let builder = builder(&clock)
        .strategy(spy.clone())
        .rule(greeter)
        .ignore_identifiers(Signals::new().email(WORK_EMAIL));
    let builder_debug = format!("{builder:?}");
    let mut memory = builder.build().expect("build");
    let (ana, _) = {
        let mut log = Vec::new();
        define_catalog(&mut memory);
        let event = order(
            "e-1",
            "o-1",
            anastasia(),
            [seated("t-1", "hamlet-1", "F12")],
        );
        log.push(format!("{event:?}"));
        let seen = memory.observe(event).expect("order");
        log.push(format!("{seen:?}"));
        log.push(format!("{:?}", seen.recognition()));
        let scan = scan_in(&mut memory, "e-2", "t-1");
        log.push(format!("{scan:?}"));
        let ana = seen.patron();
        let changes = [
            ProfileChange::AddNote(Note::new(NOTE, t0()).by("Rosalind Stagehand")),
            ProfileChange::AddFlag(Flag::new(FlagKind::AccessNeeds).detail(FLAG_DETAIL)),
            ProfileChange::CustomPreference {
                key: "coffee".to_owned(),
                value: Some(PREFERENCE.to_owned()),
            },
        ];
        for change in changes {
            log.push(format!("{change:?}"));
            memory.update_profile(ana, change).expect("change");
        }
        let again = memory
            .observe(order("e-3", "o-3", anastasia(), []))
            .expect("again");
        log.push(format!("{again:?}"));
        let view = memory.patron(ana).expect("view");
        log.push(format!("{view:?}"));
        log.push(format!("{:?}", view.names()));
        log.push(format!("{:?}", view.identifiers()));
        log.push(format!("{:?}", view.addresses()));
        log.push(format!("{:?}", view.notes()));
        log.push(format!("{:?}", view.flags()));
        log.push(format!("{:?}", view.preferences()));
        log.push(format!("{:?}", view.history()));
        log.push(format!("{:?}", view.stats()));
        log.push(format!("{:?}", memory.moments_of(ana).collect::<Vec<_>>()));
        log.push(format!("{:?}", memory.brief("hamlet-1").expect("brief")));
        log.push(format!("{:?}", memory.ticket("t-1").expect("ticket")));
        log.push(format!("{:?}", memory.export(ana).expect("export")));
        log.push(format!(
            "{:?}",
            memory.recognize(&anastasia()).expect("recognize")
        ));
        log.push(format!("{:?}", anastasia()));
        log.push(format!("{memory:?}"));
        log.push(builder_debug.clone());
        let error = memory
            .observe(order("e-4", "o-4", anastasia().email("anastasia@@bad"), []))
            .unwrap_err();
        log.push(format!("{error:?}"));
        log.push(error.to_string());
        for (i, text) in log.iter().enumerate() {
            assert_no_secrets(&format!("Debug #{i}"), text, &DEBUG_SECRETS);
        }
        (ana, ())
    };
    // What the plugins were shown.
    let seen_by_plugins = spy.0.lock().unwrap().clone();
    assert!(seen_by_plugins.len() >= 3, "the spy saw the recognitions");
    for text in seen_by_plugins
        .iter()
        .chain(rule_log.0.lock().unwrap().iter())
    {
        assert_no_secrets("a plugin's view", text, &DEBUG_SECRETS);
    }
    // The data is there, only hidden: the accessors and the moment's text show it.
    let view = memory.patron(ana).expect("view");
    assert_eq!(view.names()[0].given(), Some(GIVEN));
    assert!(
        memory
            .moments_of(ana)
            .any(|m| m.message().contains("Dear Anastasia"))
    );
    assert_eq!(view.notes()[0].author(), Some("Rosalind Stagehand"));
}

// ---------------------------------------------------------------- keyed identifiers

const KEY: [u8; 32] = *b"the venue's secret identifier k1";
const OTHER_KEY: [u8; 32] = *b"another venue's secret identifie";

/// Raw identifier values as they would be stored without a key.
const RAW_IDENTIFIERS: [&str; 5] = [EMAIL, PHONE_DIGITS, CARD, LOYALTY, BEN_EMAIL];

#[test]
fn keyed_identifiers_match_exactly_and_never_reach_the_disk() {
    let dir = TempDir::new("keyed");
    let clock = ManualClock::new(t0());
    let keyed = |key: [u8; 32]| durable_builder(&clock).identifier_key(key);
    let ana = {
        let mut memory = keyed(KEY).open(dir.path()).expect("open");
        define_catalog(&mut memory);
        let ana = observe(
            &mut memory,
            order(
                "e-1",
                "o-1",
                anastasia(),
                [seated("t-1", "hamlet-1", "F12")],
            ),
        )
        .patron();
        observe(&mut memory, order("e-2", "o-2", ben(), []));
        // The same e-mail however written, the phone alone, the loyalty id alone.
        for (i, signals) in [
            Signals::new().email(EMAIL.to_uppercase()),
            Signals::new().phone("+44 20 7946 0321"),
            Signals::new().external_id("Loyalty", LOYALTY),
        ]
        .into_iter()
        .enumerate()
        {
            let seen = observe(
                &mut memory,
                order(&format!("e-1{i}"), &format!("o-1{i}"), signals, []),
            );
            assert_eq!(seen.patron(), ana, "matched exactly by its hash");
        }
        // A re-sent event is still a replay.
        assert!(
            memory
                .observe(order(
                    "e-1",
                    "o-1",
                    anastasia(),
                    [seated("t-1", "hamlet-1", "F12")]
                ))
                .expect("re-sent")
                .is_replay()
        );
        let stored: Vec<String> = memory
            .patron(ana)
            .unwrap()
            .identifiers()
            .iter()
            .map(|i| i.value().to_owned())
            .collect();
        assert_eq!(stored.len(), 4);
        assert!(
            stored.iter().all(|v| v.starts_with("k:") && v.len() == 34),
            "{stored:?}"
        );
        memory.sync().expect("sync");
        ana
    };
    let no_raw_identifier = |when: &str| {
        for raw in RAW_IDENTIFIERS {
            let holding = files_holding(dir.path(), raw);
            assert!(
                holding.is_empty(),
                "{when}: {raw:?} is on disk in {holding:?}"
            );
        }
        assert!(
            !files_holding(dir.path(), "Okafor").is_empty(),
            "{when}: names are kept (the scan sees the files)"
        );
    };
    no_raw_identifier("in the journal");

    // Same key: the same memory, and new events still match.
    {
        let mut memory = keyed(KEY).open(dir.path()).expect("reopen");
        assert_eq!(memory.patron_count(), 2);
        let again = memory
            .recognize(&Signals::new().email(EMAIL))
            .expect("recognize");
        assert_eq!(again.known_patron(), Some(ana));
        let seen = observe(
            &mut memory,
            order("e-20", "o-20", Signals::new().card_token(CARD), []),
        );
        assert_eq!(seen.patron(), ana);
        memory.checkpoint().expect("checkpoint");
    }
    no_raw_identifier("in the snapshot");
    {
        let memory = keyed(KEY).open(dir.path()).expect("from the snapshot");
        let again = memory
            .recognize(&Signals::new().phone(PHONE))
            .expect("recognize");
        assert_eq!(again.known_patron(), Some(ana));
    }

    // Another key: memory opens, but nobody matches by identifier any more.
    {
        let memory = keyed(OTHER_KEY).open(dir.path()).expect("other key");
        assert_eq!(memory.patron_count(), 2);
        for signals in [
            Signals::new().email(EMAIL),
            Signals::new().phone(PHONE),
            Signals::new().card_token(CARD),
            Signals::new().email(BEN_EMAIL),
        ] {
            let recognition = memory.recognize(&signals).expect("recognize");
            assert_eq!(recognition.decision(), "new", "{recognition:?}");
        }
    }
}

#[test]
fn a_keyed_journal_does_not_open_without_its_key() {
    let dir = TempDir::new("keyless");
    let clock = ManualClock::new(t0());
    {
        let mut memory = durable_builder(&clock)
            .identifier_key(KEY)
            .open(dir.path())
            .expect("open");
        observe(&mut memory, order("e-1", "o-1", ben(), []));
    }
    let error = durable_builder(&clock).open(dir.path()).unwrap_err();
    assert!(
        matches!(error, Error::JournalReplay { seq: 1, .. }),
        "{error}"
    );
}

#[test]
fn sealed_values_are_refused_from_vendors_without_a_key_and_checked_with_one() {
    let mut plain = memory();
    let sealed = format!("\u{1}k:{}", "0".repeat(32));
    let error = plain
        .observe(order(
            "e-1",
            "o-1",
            Signals::new().email(sealed.clone()),
            [],
        ))
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
    assert_eq!(plain.patron_count(), 0);

    let clock = ManualClock::new(t0());
    let mut keyed = builder(&clock).identifier_key(KEY).build().expect("build");
    let error = keyed
        .observe(order(
            "e-1",
            "o-1",
            Signals::new().card_token("\u{1}k:not-hex"),
            [],
        ))
        .unwrap_err();
    assert!(
        error.to_string().contains("card_token"),
        "the error names the field: {error}"
    );
    assert_eq!(keyed.patron_count(), 0);
}

#[test]
fn keyed_memory_erases_and_exports_like_any_other() {
    let clock = ManualClock::new(t0());
    let mut memory = builder(&clock).identifier_key(KEY).build().expect("build");
    let (ana, _) = fill(&mut memory);
    let export = export_json(&memory, ana);
    assert!(!export.to_string().contains(EMAIL));
    assert_eq!(export["names"][0]["given"], GIVEN);
    memory.erase(ana).expect("erase");
    let image = memory.snapshot().to_ascii_lowercase();
    for secret in ANASTASIA_SECRETS {
        assert!(!contains(&image, secret), "{secret:?} is still in memory");
    }
    let back = observe(&mut memory, order("e-50", "o-50", anastasia(), []));
    assert_eq!(back.recognition().decision(), "new");
}

#[test]
fn erasure_redacts_their_name_in_other_patrons_moments() {
    // A venue rule that writes who sits next to whom into the seat note.
    let neighbours = regulars::rule_fn("neighbours", |ctx, out| {
        let Some(name) = ctx.patron().latest_name().map(|n| n.display()) else {
            return;
        };
        let message = match name.as_str() {
            "Ben Okafor" => "Ben sits next to Anastasia Featherstonehaugh",
            "Anastasia Brown" => "Anastasia Brown, not to be confused with Featherstonehaugh",
            _ => return,
        };
        out.push(
            regulars::Moment::new(
                regulars::MomentKind::Welcome,
                regulars::Action::SeatNote,
                message,
            )
            .dedupe_by("once"),
        );
    });
    let clock = ManualClock::new(t0());
    let mut memory = builder(&clock).rule(neighbours).build().expect("build");
    let (ana, _) = fill(&mut memory);
    let brown = observe(
        &mut memory,
        order(
            "e-60",
            "o-60",
            Signals::new()
                .given_name(GIVEN)
                .family_name("Brown")
                .email("a.brown@example.org"),
            [],
        ),
    )
    .patron();
    let ben = memory.recognize(&ben()).unwrap().known_patron().unwrap();
    memory.erase(ana).expect("erase");

    let message_of = |patron| {
        memory
            .moments_of(patron)
            .find(|m| m.rule() == "neighbours")
            .map(|m| m.message().to_owned())
            .expect("the moment stays")
    };
    assert_eq!(message_of(ben), "Ben sits next to <erased> <erased>");
    assert_eq!(
        message_of(brown),
        "Anastasia Brown, not to be confused with <erased>",
        "her own name is hers to keep"
    );
    let image = memory.snapshot().to_ascii_lowercase();
    assert!(!contains(&image, FAMILY));
}
