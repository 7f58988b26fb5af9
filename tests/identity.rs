//! Merges, splits, pins, the review queue, households and the change feed.

mod common;

use common::*;
use regulars::{
    Agreement, Error, Field, IdentityChange, MergeCause, PatronId, Recognition, ReviewDecision,
    Signals,
};

fn seed(memory: &mut regulars::Memory, name: &str, signals: Signals) -> PatronId {
    let ticket_id = format!("t-{name}");
    observe(
        memory,
        order(
            &format!("e-{name}"),
            &format!("o-{name}"),
            signals,
            [seated(&ticket_id, "hamlet-1", "A1")],
        ),
    )
    .patron()
}

#[test]
fn merge_then_split_restores_both_patrons_exactly() {
    let mut memory = memory();
    let ana = seed(&mut memory, "ana", common::ana());
    scan_in(&mut memory, "scan-ana", "t-ana");
    let ben = seed(&mut memory, "ben", common::ben());
    observe(
        &mut memory,
        order(
            "e-ben-2",
            "o-ben-2",
            common::ben(),
            [ticket("t-ben-2", "hamlet-2")],
        ),
    );
    let before = snapshot(&memory);

    let survivor = memory.merge(ana, ben).expect("merge");
    assert_eq!(survivor, ana);
    assert_eq!(memory.patron_count(), 1);
    let merged = memory.patron(ben).expect("forwards");
    assert_eq!(merged.id(), ana, "a merged id forwards to the survivor");
    assert_eq!(merged.stats().orders(), 3);
    assert_eq!(merged.stats().performances_attended(), 1);
    assert_eq!(merged.merged_from(), &[ben]);
    assert_eq!(memory.ticket("t-ben-2").expect("ticket").holder(), ana);
    assert_eq!(memory.patrons().count(), 1);

    let from = memory.split(ben).expect("split");
    assert_eq!(from, ana);
    assert_eq!(snapshot(&memory), before, "split restores both patrons");
    assert!(matches!(
        memory.identity_changes(0),
        [
            IdentityChange::Merged {
                cause: MergeCause::Manual,
                ..
            },
            IdentityChange::Split { .. }
        ]
    ));
}

#[test]
fn what_arrives_after_a_merge_stays_with_the_survivor_on_split() {
    let mut memory = memory();
    let ana = seed(&mut memory, "ana", common::ana());
    let ben = seed(&mut memory, "ben", common::ben());
    memory.merge(ana, ben).expect("merge");
    // Ben's e-mail now finds the merged patron.
    let later = observe(
        &mut memory,
        order(
            "e-later",
            "o-later",
            common::ben(),
            [ticket("t-later", "hamlet-2")],
        ),
    );
    assert_eq!(later.patron(), ana);
    memory.split(ben).expect("split");
    assert_eq!(memory.patron(ben).expect("ben").stats().orders(), 1);
    assert_eq!(memory.patron(ana).expect("ana").stats().orders(), 2);
}

#[test]
fn split_of_a_patron_never_merged_is_an_error() {
    let mut memory = memory();
    let ana = seed(&mut memory, "ana", common::ana());
    assert!(matches!(memory.split(ana), Err(Error::NotMerged(p)) if p == ana));
    assert!(matches!(
        memory.merge(ana, PatronId::from_u64(99)),
        Err(Error::UnknownPatron(_))
    ));
    assert_eq!(memory.merge(ana, ana).expect("self"), ana);
    assert!(memory.identity_changes(0).is_empty());
}

#[test]
fn pins_apart_block_manual_and_automatic_merges() {
    let mut memory = memory();
    // Two records of one person that memory could not link on their own.
    let first = seed(
        &mut memory,
        "a",
        Signals::new()
            .given_name("A")
            .family_name("Lindqvist")
            .email("al@example.org"),
    );
    let second = seed(
        &mut memory,
        "b",
        Signals::new()
            .given_name("Astrid")
            .family_name("Lindqvist")
            .birth_date(date(1984, 3, 9))
            .phone("+46 70 123 45 67"),
    );
    assert_ne!(first, second);
    memory.pin_apart(first, second).expect("pin");
    assert!(matches!(
        memory.merge(first, second),
        Err(Error::PinnedApart(..))
    ));
    // A record carrying both's identifiers with agreeing names would merge them; the pin
    // holds.
    let proof = Signals::new()
        .given_name("Astrid")
        .family_name("Lindqvist")
        .birth_date(date(1984, 3, 9))
        .email("al@example.org")
        .phone("+46 70 123 45 67");
    observe(&mut memory, order("e-proof", "o-proof", proof, []));
    assert_ne!(
        memory.patron(first).expect("first").id(),
        memory.patron(second).expect("second").id()
    );
    memory.unpin(first, second);
    memory.merge(first, second).expect("merge after unpin");
}

#[test]
fn a_record_proving_two_patrons_one_person_merges_them_automatically() {
    let mut memory = memory();
    let by_email = seed(
        &mut memory,
        "email",
        Signals::new()
            .given_name("Astrid")
            .family_name("Lindqvist")
            .email("astrid@example.org"),
    );
    let by_phone = seed(
        &mut memory,
        "phone",
        Signals::new()
            .given_name("Astrid")
            .family_name("Lindqvist")
            .birth_date(date(1984, 3, 9))
            .phone("+46 70 123 45 67"),
    );
    if by_email == by_phone {
        // The name alone linked them already; nothing left to prove.
        return;
    }
    let proof = observe(
        &mut memory,
        order(
            "e-proof",
            "o-proof",
            Signals::new()
                .given_name("Astrid")
                .family_name("Lindqvist")
                .birth_date(date(1984, 3, 9))
                .email("astrid@example.org")
                .phone("+46 70 123 45 67"),
            [],
        ),
    );
    let survivor = by_email.min(by_phone);
    assert_eq!(proof.patron(), survivor);
    assert_eq!(memory.patron(by_phone).expect("merged").id(), survivor);
    assert!(memory.identity_changes(0).iter().any(|c| matches!(
        c,
        IdentityChange::Merged {
            cause: MergeCause::Automatic { .. },
            ..
        }
    )));
}

#[test]
fn pin_together_merges_and_refuses_split_until_unpinned() {
    let mut memory = memory();
    let ana = seed(&mut memory, "ana", common::ana());
    let ben = seed(&mut memory, "ben", common::ben());
    let survivor = memory.pin_together(ben, ana).expect("pin");
    assert_eq!(survivor, ana, "the older id survives");
    assert!(matches!(memory.split(ben), Err(Error::PinnedTogether(..))));
    assert!(matches!(
        memory.pin_apart(ana, ben),
        Err(Error::PinnedTogether(..))
    ));
    memory.unpin(ana, ben);
    memory.split(ben).expect("split after unpin");
}

#[test]
fn an_uncertain_record_goes_to_a_provisional_patron_and_the_review_queue() {
    let mut memory = memory();
    let astrid = seed(
        &mut memory,
        "astrid",
        Signals::new()
            .given_name("Astrid")
            .family_name("Lindqvist")
            .email("astrid@example.org"),
    );
    // An initial and the family name: maybe her, maybe not.
    let unsure = observe(
        &mut memory,
        order(
            "e-unsure",
            "o-unsure",
            Signals::new()
                .given_name("A.")
                .family_name("Lindqvist")
                .phone("+46 70 123 45 67"),
            [],
        ),
    );
    let Recognition::Review { candidates, .. } = unsure.recognition() else {
        panic!("expected Review, got {:?}", unsure.recognition());
    };
    assert_eq!(candidates[0].patron(), astrid);
    let provisional = unsure.patron();
    assert_ne!(provisional, astrid);
    let items: Vec<_> = memory.reviews().cloned().collect();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].patron(), provisional);
    assert_eq!(items[0].event().as_str(), "e-unsure");
    assert_eq!(items[0].candidates()[0].patron(), astrid);

    memory
        .resolve_review(items[0].id(), ReviewDecision::SamePerson(astrid))
        .expect("resolve");
    assert_eq!(memory.reviews().count(), 0);
    assert_eq!(memory.patron(provisional).expect("merged").id(), astrid);
    assert!(matches!(
        memory.resolve_review(items[0].id(), ReviewDecision::Different),
        Err(Error::UnknownReview(_))
    ));
}

#[test]
fn a_review_resolved_as_different_pins_them_apart() {
    let mut memory = memory();
    let astrid = seed(
        &mut memory,
        "astrid",
        Signals::new()
            .given_name("Astrid")
            .family_name("Lindqvist")
            .email("astrid@example.org"),
    );
    let unsure = observe(
        &mut memory,
        order(
            "e-unsure",
            "o-unsure",
            Signals::new().given_name("A.").family_name("Lindqvist"),
            [],
        ),
    );
    assert_eq!(unsure.recognition().decision(), "review");
    let id = memory.reviews().next().expect("queued").id();
    memory
        .resolve_review(id, ReviewDecision::Different)
        .expect("resolve");
    assert!(matches!(
        memory.merge(astrid, unsure.patron()),
        Err(Error::PinnedApart(..))
    ));
}

#[test]
fn the_review_queue_is_bounded_and_drops_the_oldest() {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).review_limit(2));
    let families = ["Lindqvist", "Berglund", "Holmqvist", "Nyberg"];
    for family in families {
        seed(
            &mut memory,
            family,
            Signals::new()
                .given_name("Astrid")
                .family_name(family)
                .email(format!("astrid@{}.example", family.to_lowercase())),
        );
    }
    for (i, family) in families.iter().enumerate() {
        let unsure = observe(
            &mut memory,
            order(
                &format!("e-{i}"),
                &format!("o-{i}"),
                Signals::new().given_name("A.").family_name(*family),
                [],
            ),
        );
        assert_eq!(unsure.recognition().decision(), "review", "{family}");
    }
    let queued: Vec<_> = memory
        .reviews()
        .map(|r| r.event().as_str().to_owned())
        .collect();
    assert_eq!(queued, ["e-2", "e-3"], "the oldest were dropped");
}

#[test]
fn twins_sharing_everything_but_the_given_name_stay_two_patrons() {
    let mut memory = memory();
    let home = |given: &str| {
        Signals::new()
            .given_name(given)
            .family_name("Berg")
            .birth_date(date(1999, 7, 14))
            .email("berg.family@example.org")
            .street("4 Elm Row")
            .postcode("EH7 4AA")
    };
    let anna = seed(&mut memory, "anna", home("Anna"));
    let hanna = seed(&mut memory, "hanna", home("Hanna"));
    assert_ne!(anna, hanna, "twins must not be merged");
    assert_eq!(
        memory
            .patron(hanna)
            .expect("hanna")
            .household()
            .collect::<Vec<_>>(),
        [anna]
    );
    // Each is recognized as herself afterwards.
    let again = memory.recognize(&home("Anna")).expect("recognize");
    assert_eq!(again.known_patron(), Some(anna), "{}", again.explain());
    let again = memory.recognize(&home("Hanna")).expect("recognize");
    assert_eq!(again.known_patron(), Some(hanna), "{}", again.explain());
}

#[test]
fn father_and_son_of_one_name_at_one_address_stay_two_patrons() {
    let mut memory = memory();
    let person = |born: (i32, u32, u32)| {
        Signals::new()
            .given_name("Thomas")
            .family_name("Müller")
            .birth_date(date(born.0, born.1, born.2))
            .street("12 Lindenstraße")
            .postcode("10115")
            .phone("+49 30 1234567")
    };
    let father = seed(&mut memory, "father", person((1961, 2, 3)));
    let son = seed(&mut memory, "son", person((1993, 8, 21)));
    assert_ne!(father, son);
    let seen = memory.recognize(&person((1993, 8, 21))).expect("recognize");
    assert_eq!(seen.known_patron(), Some(son), "{}", seen.explain());
}

#[test]
fn a_placeholder_email_shared_by_many_stops_counting() {
    let mut memory = memory();
    let placeholder = "boxoffice@venue.example";
    let names = [
        ("Ada", "Byron"),
        ("Grace", "Hopper"),
        ("Alan", "Turing"),
        ("Edsger", "Dijkstra"),
        ("Barbara", "Liskov"),
        ("Donald", "Knuth"),
        ("Frances", "Allen"),
        ("Ken", "Thompson"),
    ];
    for (i, (given, family)) in names.iter().enumerate() {
        seed(
            &mut memory,
            &format!("p{i}"),
            Signals::new()
                .given_name(*given)
                .family_name(*family)
                .email(placeholder),
        );
    }
    assert_eq!(memory.patron_count(), names.len());
    let stranger = memory
        .recognize(&Signals::new().given_name("Tim").email(placeholder))
        .expect("recognize");
    assert_eq!(stranger.decision(), "new", "{}", stranger.explain());
    assert!(
        stranger.household().is_empty(),
        "a placeholder is no household"
    );
    if let Some(evidence) = stranger.evidence() {
        let email = evidence
            .items()
            .iter()
            .find(|i| i.field() == Field::Email)
            .expect("email compared");
        assert_eq!(email.weight(), 0.0);
        assert_eq!(email.agreement(), Agreement::Missing);
    }
}

#[test]
fn blocklisted_identifiers_never_count_or_link() {
    let clock = regulars::ManualClock::new(t0());
    let mut memory =
        build(builder(&clock).ignore_identifiers(Signals::new().email("boxoffice@venue.example")));
    let tom = seed(
        &mut memory,
        "tom",
        Signals::new()
            .given_name("Tom")
            .family_name("Jones")
            .email("boxoffice@venue.example"),
    );
    let kim = observe(
        &mut memory,
        order(
            "e-kim",
            "o-kim",
            Signals::new()
                .given_name("Kim")
                .family_name("Lee")
                .email("boxoffice@venue.example"),
            [],
        ),
    );
    assert_ne!(kim.patron(), tom);
    assert!(kim.recognition().household().is_empty());
    assert_eq!(memory.patron(tom).expect("tom").household().count(), 0);
}

#[test]
fn an_invalid_blocklist_entry_fails_the_build() {
    let result = regulars::Memory::builder()
        .ignore_identifiers(Signals::new().email("not an email"))
        .build();
    let Err(Error::InvalidInput { location, .. }) = result else {
        panic!("expected InvalidInput, got {result:?}");
    };
    assert!(location.contains("ignore_identifiers[0]"), "{location}");
}

#[test]
fn households_are_linked_both_ways_and_reported_in_the_feed() {
    let mut memory = memory();
    let jane = seed(
        &mut memory,
        "jane",
        Signals::new()
            .given_name("Jane")
            .family_name("Smith")
            .email("smiths@example.org"),
    );
    let john = seed(
        &mut memory,
        "john",
        Signals::new()
            .given_name("John")
            .family_name("Smith")
            .email("smiths@example.org"),
    );
    assert_ne!(jane, john);
    assert_eq!(
        memory
            .patron(jane)
            .expect("jane")
            .household()
            .collect::<Vec<_>>(),
        [john]
    );
    assert_eq!(
        memory
            .patron(john)
            .expect("john")
            .household()
            .collect::<Vec<_>>(),
        [jane]
    );
    assert!(
        memory
            .identity_changes(0)
            .iter()
            .any(|c| matches!(c, IdentityChange::Household { .. }))
    );
}

#[test]
fn moments_fired_before_a_merge_do_not_fire_again() {
    let mut memory = memory();
    let first = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "A1")]),
    );
    assert!(!first.moments().is_empty(), "a first-visit welcome");
    let other = seed(
        &mut memory,
        "other",
        Signals::new()
            .given_name("Ana")
            .family_name("Silva")
            .phone("+44 7700 900123"),
    );
    memory.merge(first.patron(), other).expect("merge");
    let replay_like = observe(
        &mut memory,
        order("e-3", "o-3", ana(), [seated("t-3", "hamlet-1", "A2")]),
    );
    assert!(
        replay_like.moments().iter().all(|m| m.rule() != "first-visit"
            || m.dedupe_key() != first.moments()[0].dedupe_key()),
        "{:?}",
        replay_like.moments()
    );
}

#[test]
fn a_survivor_holds_the_tickets_of_the_patron_merged_into_it() {
    let mut memory = memory();
    let ana = seed(&mut memory, "ana", common::ana());
    let ben = seed(&mut memory, "ben", common::ben());
    memory.merge(ana, ben).unwrap();
    let survivor = memory.patron(ana).unwrap();
    let mut held: Vec<String> = survivor.tickets().map(|t| t.id().to_string()).collect();
    held.sort_unstable();
    assert_eq!(held, ["t-ana", "t-ben"]);
    assert_eq!(survivor.stats().tickets(), 2);
}

/// Reopens `dir` after dropping `memory`: replaying its journal makes the same memory.
fn assert_replays_alike(memory: regulars::Memory, dir: &std::path::Path) {
    let before = snapshot(&memory);
    drop(memory);
    let reopened = strict_merging(dir);
    assert_eq!(snapshot(&reopened), before);
}

/// A memory whose merge threshold no single record below reaches, journaled in `dir` so
/// it can be reopened: only re-checking the review can join the two patrons.
fn strict_merging(dir: &std::path::Path) -> regulars::Memory {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = builder(&clock)
        .thresholds(regulars::Thresholds::default().merge(40.0))
        .open(dir)
        .expect("opens");
    if memory.last_seq() == 0 {
        define_catalog(&mut memory);
    }
    memory
}

/// Anna Rumstrom, who ordered online: her e-mail and postcode.
fn anna_rumstrom() -> Signals {
    Signals::new()
        .given_name("Anna")
        .family_name("Rumstrom")
        .email("anna.rumstrom@example.org")
        .postcode("3578 PZ")
        .country("NL")
}

/// Someone at the box office who may be Anna: an initial and a phone.
fn anna_at_the_box_office() -> Signals {
    Signals::new()
        .given_name("A.")
        .family_name("Rumstrom")
        .phone("+31 6 54257179")
        .country("NL")
}

#[test]
fn a_review_is_merged_once_later_records_prove_its_patrons_one_person() {
    let dir = TempDir::new("review-merged");
    let mut memory = strict_merging(dir.path());
    let anna = seed(&mut memory, "anna", anna_rumstrom());
    // At the box office, an initial and a phone: maybe her, maybe not. Queued for review.
    let box_office = anna_at_the_box_office;
    let provisional = seed(&mut memory, "box-1", box_office());
    assert_ne!(provisional, anna);
    let reviews: Vec<_> = memory
        .reviews()
        .map(|r| (r.patron(), r.candidates()[0].patron()))
        .collect();
    assert_eq!(reviews, [(provisional, anna)]);
    // Back with the same phone and her postcode: the record goes to the provisional
    // patron, which now matches Anna's profile on her initial, family name and postcode.
    let again = seed(&mut memory, "box-2", box_office().postcode("3578 PZ"));
    assert_eq!(again, anna, "the older id survives");
    assert_eq!(memory.patron(provisional).map(|p| p.id()), Some(anna));
    assert_eq!(memory.reviews().count(), 0, "the review is settled");
    let merged = memory.identity_changes(0).iter().any(|change| {
        matches!(change, IdentityChange::Merged { survivor, absorbed, cause: MergeCause::Automatic { .. } }
            if *survivor == anna && *absorbed == provisional)
    });
    assert!(merged, "{:?}", memory.identity_changes(0));
    // Replaying the journal makes the same decision.
    assert_replays_alike(memory, dir.path());
}

#[test]
fn a_review_stays_open_while_the_profiles_prove_nothing_more() {
    let dir = TempDir::new("review-open");
    let mut memory = strict_merging(dir.path());
    let anna = seed(&mut memory, "anna", anna_rumstrom());
    let box_office = anna_at_the_box_office;
    let provisional = seed(&mut memory, "box-1", box_office());
    // The same phone with another postcode: still only an initial and a family name in
    // common with Anna.
    let again = seed(&mut memory, "box-2", box_office().postcode("1011 AB"));
    assert_eq!(again, provisional);
    assert_ne!(memory.patron(provisional).map(|p| p.id()), Some(anna));
    assert_eq!(memory.reviews().count(), 1);
    // And a birth date that differs from Anna's says they are two people, however much
    // else later agrees.
    let other = TempDir::new("review-conflict");
    let mut memory = strict_merging(other.path());
    let anna = seed(
        &mut memory,
        "anna",
        Signals::new()
            .given_name("Anna")
            .family_name("Rumstrom")
            .postcode("3578 PZ")
            .country("NL")
            .birth_date(date(1980, 5, 1)),
    );
    let provisional = seed(&mut memory, "box-1", box_office());
    let again = seed(
        &mut memory,
        "box-2",
        box_office()
            .postcode("3578 PZ")
            .birth_date(date(1999, 2, 3)),
    );
    assert_ne!(memory.patron(again).map(|p| p.id()), Some(anna));
    assert_ne!(memory.patron(provisional).map(|p| p.id()), Some(anna));
}

#[test]
fn a_review_is_merged_once_its_patron_gives_the_full_name_and_nothing_else_differs() {
    let dir = TempDir::new("review-full-name");
    let mut memory = strict_merging(dir.path());
    let anna = seed(&mut memory, "anna", anna_rumstrom());
    let box_office = anna_at_the_box_office;
    let provisional = seed(&mut memory, "box-1", box_office());
    assert_ne!(provisional, anna);
    assert_eq!(memory.reviews().count(), 1);
    // Back with the same phone and her full name: the provisional patron now shares her
    // whole name, and nothing else of the two compares (a phone on one side, a mailbox
    // and a postcode on the other). A record of that name alone would be linked to her:
    // the provisional patron is merged by the same standard.
    let again = seed(&mut memory, "box-2", box_office().given_name("Anna"));
    assert_eq!(again, anna, "the older id survives");
    assert_eq!(memory.patron(provisional).map(|p| p.id()), Some(anna));
    assert_eq!(memory.reviews().count(), 0, "the review is settled");
    // Replaying the journal makes the same decision.
    assert_replays_alike(memory, dir.path());

    // With a mailbox of its own beside hers, the rest speaks against them: the review
    // stays for a person to decide.
    let other = TempDir::new("review-full-name-own-mailbox");
    let mut memory = strict_merging(other.path());
    let anna = seed(&mut memory, "anna", anna_rumstrom());
    let provisional = seed(&mut memory, "box-1", box_office());
    let again = seed(
        &mut memory,
        "box-2",
        box_office()
            .given_name("Anna")
            .email("zonnebloem77@example.net"),
    );
    assert_eq!(again, provisional);
    assert_ne!(memory.patron(provisional).map(|p| p.id()), Some(anna));
    assert_eq!(memory.reviews().count(), 1);
}

#[test]
fn a_review_is_not_settled_on_the_names_when_the_homes_differ() {
    let dir = TempDir::new("review-other-home");
    let mut memory = strict_merging(dir.path());
    let anna = seed(&mut memory, "anna", anna_rumstrom());
    let box_office = anna_at_the_box_office;
    // At the box office, an initial, a phone and a postcode that is not Anna's: maybe
    // her after a move, maybe not. Queued for review.
    let provisional = seed(&mut memory, "box-1", box_office().postcode("1011 AB"));
    assert_ne!(provisional, anna);
    assert_eq!(memory.reviews().count(), 1);
    // Back with the same phone and the full name, giving only the country this time: the
    // names now agree, but the homes the two gave still differ. A country says nothing
    // about where one lives, so it does not hide that: the review stays for a person.
    let again = seed(&mut memory, "box-2", box_office().given_name("Anna"));
    assert_eq!(again, provisional);
    assert_ne!(memory.patron(provisional).map(|p| p.id()), Some(anna));
    assert_eq!(memory.reviews().count(), 1);
    // Replaying the journal keeps them apart alike.
    assert_replays_alike(memory, dir.path());
}

#[test]
fn a_review_is_not_settled_on_a_shared_home_when_each_has_contact_details_of_his_own() {
    let dir = TempDir::new("review-home");
    let mut memory = strict_merging(dir.path());
    // The father, with his own mobile, at the family's postcode.
    let father = seed(&mut memory, "father", dennis_senior());
    // His son of the same name at the box office, an initial and a mobile of his own:
    // maybe the father, maybe not. Queued for review.
    let son = dennis_junior;
    let provisional = seed(&mut memory, "son-1", son());
    assert_ne!(provisional, father);
    assert_eq!(memory.reviews().count(), 1);
    // Back with the family's postcode: his profile now shares the name and the home with
    // his father's, but his mobile is not his father's. That is what a father and a son
    // of one name look like: the review stays for a person to decide.
    let again = seed(&mut memory, "son-2", son().postcode("3578 TJ"));
    assert_eq!(again, provisional);
    assert_ne!(memory.patron(provisional).map(|p| p.id()), Some(father));
    assert_eq!(memory.reviews().count(), 1);
    // Replaying the journal keeps them apart alike.
    assert_replays_alike(memory, dir.path());
}

/// Two patrons of one name seen apart, one by a mailbox and one by a phone, then a
/// record with both: the patrons' ids and whether they are one now.
fn proven_by_both_contacts(first: &str, second: &str) -> (PatronId, PatronId, bool) {
    let clock = regulars::ManualClock::new(t0());
    // Merging on little evidence, so that the shared contact details prove one person.
    let mut memory = build(builder(&clock).thresholds(regulars::Thresholds::default().merge(13.0)));
    let by_email = seed(
        &mut memory,
        "email",
        Signals::new()
            .given_name("John")
            .family_name(first)
            .email("j.oyelaran@example.org"),
    );
    let by_phone = seed(
        &mut memory,
        "phone",
        Signals::new()
            .given_name("John")
            .family_name(second)
            .phone("+44 20 7946 0311"),
    );
    assert_ne!(by_email, by_phone, "seen apart first");
    let proof = Signals::new()
        .given_name("John")
        .family_name("Oyelaran")
        .email("j.oyelaran@example.org")
        .phone("+44 20 7946 0311");
    let recognition = memory.recognize(&proof).expect("recognized");
    assert!(
        matches!(&recognition, Recognition::Known { duplicates, .. } if !duplicates.is_empty()),
        "the record proves both: {}",
        recognition.explain()
    );
    seed(&mut memory, "proof", proof);
    let one = memory.patron(by_email).map(|p| p.id()) == memory.patron(by_phone).map(|p| p.id());
    (by_email, by_phone, one)
}

#[test]
fn a_junior_and_a_senior_of_one_name_are_never_merged_automatically() {
    // "Jr." on one patron's records and "Sr." on the other's: two men, whatever a record
    // sharing both their contact details says.
    let (_, _, one) = proven_by_both_contacts("Oyelaran Jr.", "Oyelaran Sr.");
    assert!(!one, "junior and senior stay two patrons");
    // A name without a suffix says nothing: a son writes his only now and then, so his
    // patron with "Jr." and his patron without are merged once a record proves them one.
    let (_, _, one) = proven_by_both_contacts("Oyelaran Jr.", "Oyelaran");
    assert!(one, "a suffix on one side only is no conflict");
}

/// A father and his son of one name at one postcode, each seen with a mailbox and a
/// mobile of his own (the son writing `son_family` the second time), then a record giving only the name and the postcode,
/// which fits both: whether the two patrons are one afterwards.
fn merged_by_name_and_postcode(son_family: &str) -> bool {
    let clock = regulars::ManualClock::new(t0());
    // Merging on little evidence and keeping no review queue, so that only the rule
    // under test keeps them apart.
    let mut memory = build(
        builder(&clock)
            .thresholds(regulars::Thresholds::default().merge(13.0))
            .review_limit(0),
    );
    let father = seed(
        &mut memory,
        "father",
        dennis_senior().email("dennis@groungsma-bouw.nl"),
    );
    let son = |family: &str| {
        Signals::new()
            .given_name("Dennis")
            .family_name(family)
            .email("dg.2001@gmail.com")
            .phone("+31 6 98381961")
            .postcode("3578 TJ")
            .country("NL")
    };
    let son_first = seed(&mut memory, "son-1", son("Groungsma"));
    let son = seed(&mut memory, "son-2", son(son_family));
    assert_eq!(son, son_first, "his mobile links him");
    assert_ne!(father, son, "seen apart first");
    let bare = Signals::new()
        .given_name("Dennis")
        .family_name("Groungsma")
        .postcode("3578 TJ")
        .country("NL");
    let recognition = memory.recognize(&bare).expect("recognized");
    assert!(
        matches!(&recognition, Recognition::Known { duplicates, .. } if !duplicates.is_empty()),
        "the record fits both: {}",
        recognition.explain()
    );
    seed(&mut memory, "bare", bare);
    memory.patron(father).map(|p| p.id()) == memory.patron(son).map(|p| p.id())
}

#[test]
fn a_name_and_a_postcode_do_not_merge_a_junior_into_his_father_of_one_name() {
    // The son has written "Jr." and his father never has; beyond the name they share only
    // the postcode, each with a mailbox and a mobile of his own. A record with the name and the postcode
    // fits either man: they stay two patrons.
    assert!(!merged_by_name_and_postcode("Groungsma Jr."));
    // Without the suffix nothing tells a second man from one man seen twice, and the
    // record proves them one as before.
    assert!(merged_by_name_and_postcode("Groungsma"));
}

/// Memory that links and merges at `bits`, with no review queue: a record short of it
/// is a new patron.
fn linking_and_merging_at(clock: &regulars::ManualClock, bits: f64) -> regulars::Memory {
    build(
        builder(clock)
            .thresholds(regulars::Thresholds::default().known(bits).merge(bits))
            .review_limit(0),
    )
}

/// A patron seen at the box office with `first_line` and the postcode, then the same name
/// online with a mailbox and a mobile (not linked on the name alone), then a record with
/// the name, the mailbox, the mobile and the postcode: whether the two patrons are one
/// afterwards.
fn merged_across_lines(first_line: &str) -> bool {
    let clock = regulars::ManualClock::new(t0());
    // Linking and merging at 15 bits, with no review queue: the names alone stay short
    // of it, so the two are seen apart first and only the rule under test decides.
    let mut memory = linking_and_merging_at(&clock, 15.0);
    let name = || Signals::new().given_name("Jan").family_name("Groungsma");
    let at_the_box_office = seed(
        &mut memory,
        "box-office",
        name().phone(first_line).postcode("3578 TJ").country("NL"),
    );
    let online = || {
        name()
            .email("jan.groungsma@example.org")
            .phone("+31 6 98381961")
            .country("NL")
    };
    let online_patron = seed(&mut memory, "online", online());
    assert_ne!(at_the_box_office, online_patron, "seen apart first");
    seed(&mut memory, "both", online().postcode("3578 TJ"));
    memory.patron(at_the_box_office).map(|p| p.id()) == memory.patron(online_patron).map(|p| p.id())
}

#[test]
fn a_landline_beside_a_mobile_is_no_line_of_ones_own() {
    // The box office took his landline, the web shop his mobile: people have both, so the
    // record with the name, the mobile and the postcode proves the two patrons one.
    assert!(merged_across_lines("+31 20 612 3456"));
    // A second mobile is a line of one's own: beyond the name only the home agrees, as
    // with a father and his son of one name, and the two stay apart.
    assert!(!merged_across_lines("+31 6 12345678"));
}

/// A patron seen with a mailbox and the postcode (`first_phone` too, if given), then the
/// same name with another mailbox (not linked on the name alone), then a record with the
/// name, the second mailbox and the postcode (and `record_phone`): whether the two
/// patrons are one afterwards.
fn merged_by_a_second_mailbox(first_phone: Option<&str>, record_phone: Option<&str>) -> bool {
    let clock = regulars::ManualClock::new(t0());
    // Linking and merging at 13 bits, with no review queue: the names alone stay short
    // of it, so the two are seen apart first and only the rule under test decides.
    let mut memory = linking_and_merging_at(&clock, 13.0);
    let name = || Signals::new().given_name("Jan").family_name("Groungsma");
    let mut first = name()
        .email("jan.groungsma@example.org")
        .postcode("3578 TJ")
        .country("NL");
    if let Some(phone) = first_phone {
        first = first.phone(phone);
    }
    let first = seed(&mut memory, "first", first);
    let second = seed(&mut memory, "second", name().email("jg1971@example.com"));
    assert_ne!(first, second, "seen apart first");
    let mut both = name()
        .email("jg1971@example.com")
        .postcode("3578 TJ")
        .country("NL");
    if let Some(phone) = record_phone {
        both = both.phone(phone);
    }
    seed(&mut memory, "both", both);
    memory.patron(first).map(|p| p.id()) == memory.patron(second).map(|p| p.id())
}

#[test]
fn a_second_mailbox_with_the_name_and_postcode_of_a_patron_proves_them_one() {
    // The record's mailbox is the second patron's; with the first it shares the name and
    // the postcode, and only its mailbox differs: one person with two mailboxes.
    assert!(merged_by_a_second_mailbox(None, None));
    // A mobile of his own beside it (the first patron gave another) is what a father
    // and son of one name at one postcode look like: they stay apart.
    assert!(!merged_by_a_second_mailbox(
        Some("+31 6 98381961"),
        Some("+31 6 12345678")
    ));
}

/// A memory that links a record at 20 bits, merges on one record at 40, and keeps no
/// review queue (so no review item ties two patrons together), journaled in `dir`.
fn without_reviews(dir: &std::path::Path) -> regulars::Memory {
    let clock = regulars::ManualClock::new(t0());
    let mut memory = builder(&clock)
        .thresholds(regulars::Thresholds::default().known(20.0).merge(40.0))
        .review_limit(0)
        .open(dir)
        .expect("opens");
    if memory.last_seq() == 0 {
        define_catalog(&mut memory);
    }
    memory
}

#[test]
fn a_runner_up_whose_profile_proves_the_known_patron_one_person_is_merged() {
    let dir = TempDir::new("runner-up-merged");
    let mut memory = without_reviews(dir.path());
    let anna = || Signals::new().given_name("Anna").family_name("Rumstrom");
    let born = date(1980, 5, 1);
    // At the box office: her phone and her birth date.
    let by_phone = seed(
        &mut memory,
        "phone",
        anna().phone("+31 6 54257179").birth_date(born),
    );
    // Online, a mailbox and a card: the names alone do not link her.
    let by_email = seed(
        &mut memory,
        "email",
        anna()
            .email("anna.rumstrom@example.org")
            .card_token("tok_5f03e181"),
    );
    assert_ne!(by_email, by_phone, "seen apart first");
    // Online again, with her birth date: linked by mailbox and card, the phone patron a
    // runner-up the record alone cannot prove (below the merge threshold).
    let again = seed(
        &mut memory,
        "email-2",
        anna()
            .email("anna.rumstrom@example.org")
            .card_token("tok_5f03e181")
            .birth_date(born),
    );
    assert_eq!(memory.patron(again).map(|p| p.id()), Some(by_email));
    assert_ne!(
        memory.patron(by_phone).map(|p| p.id()),
        Some(by_email),
        "one record proves nothing more than its own evidence"
    );
    // A record with her names and mailbox only agrees with the phone patron on the
    // names: that brings nobody together (a merge needs an exact agreement beyond the
    // names), and the mailbox settles it.
    let names_only = seed(
        &mut memory,
        "email-names",
        anna().email("anna.rumstrom@example.org"),
    );
    assert_eq!(memory.patron(names_only).map(|p| p.id()), Some(by_email));
    assert_ne!(memory.patron(by_phone).map(|p| p.id()), Some(by_email));
    // The next record brings the two together again, with her birth date: the mailbox
    // patron's profile (her names and birth date) now proves the phone patron to be her.
    let together = anna().email("anna.rumstrom@example.org").birth_date(born);
    let recognition = memory.recognize(&together).expect("recognized");
    assert!(
        matches!(&recognition, Recognition::Known { runner_up: Some(r), .. } if r.patron() == by_phone),
        "{}",
        recognition.explain()
    );
    let last = seed(&mut memory, "email-3", together);
    assert_eq!(
        memory.patron(by_phone).map(|p| p.id()),
        Some(by_phone),
        "the older id survives"
    );
    assert_eq!(memory.patron(last).map(|p| p.id()), Some(by_phone));
    assert_eq!(memory.patron_count(), 1);
    let merged = memory.identity_changes(0).iter().any(|change| {
        matches!(change, IdentityChange::Merged { survivor, absorbed, cause: MergeCause::Automatic { .. } }
            if *survivor == by_phone && *absorbed == by_email)
    });
    assert!(merged, "{:?}", memory.identity_changes(0));
    // Replaying the journal makes the same merge.
    let before = snapshot(&memory);
    drop(memory);
    let reopened = without_reviews(dir.path());
    assert_eq!(snapshot(&reopened), before);
}

#[test]
fn a_runner_up_whose_profile_says_another_person_is_not_merged() {
    let dir = TempDir::new("runner-up-apart");
    let mut memory = without_reviews(dir.path());
    let anna = || Signals::new().given_name("Anna").family_name("Rumstrom");
    // Two women of one name: the second's birth date is not the first's.
    let first = seed(
        &mut memory,
        "phone",
        anna().phone("+31 6 54257179").birth_date(date(1980, 5, 1)),
    );
    let second = seed(
        &mut memory,
        "email",
        anna()
            .email("anna.rumstrom@example.org")
            .card_token("tok_5f03e181")
            .birth_date(date(1999, 2, 3)),
    );
    assert_ne!(first, second);
    let last = seed(
        &mut memory,
        "email-2",
        anna().email("anna.rumstrom@example.org"),
    );
    assert_eq!(memory.patron(last).map(|p| p.id()), Some(second));
    assert_eq!(memory.patron_count(), 2, "the names alone prove nothing");
    // Nor does a home they share while each keeps a mobile of her own.
    let other = TempDir::new("runner-up-home");
    let mut memory = without_reviews(other.path());
    let first = seed(
        &mut memory,
        "phone",
        anna()
            .phone("+31 6 54257179")
            .postcode("3578 PZ")
            .country("NL"),
    );
    let second = seed(
        &mut memory,
        "email",
        anna()
            .email("anna.rumstrom@example.org")
            .phone("+31 6 11122233")
            .card_token("tok_5f03e181"),
    );
    assert_ne!(first, second);
    seed(
        &mut memory,
        "email-2",
        anna()
            .email("anna.rumstrom@example.org")
            .card_token("tok_5f03e181")
            .postcode("3578 PZ")
            .country("NL"),
    );
    seed(
        &mut memory,
        "email-3",
        anna().email("anna.rumstrom@example.org"),
    );
    assert_eq!(
        memory.patron_count(),
        2,
        "a shared home with contacts of their own"
    );
}
