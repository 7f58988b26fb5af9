//! Recognition: the same person is found however their identifiers were typed, memory
//! learns new identifiers from a match, `recognize` is read-only, households stay apart,
//! decisions are deterministic and explained, and `Debug` never shows personal data.

mod common;

use common::*;
use regulars::{
    Agreement, Evidence, Field, IdentifierKind, Memory, PatronId, Recognition, Signals,
};

/// Observes an order by `signals` (one ticket) and returns the buyer.
fn seed(memory: &mut Memory, key: &str, signals: Signals) -> PatronId {
    let observation = observe(
        memory,
        order(
            &format!("e-{key}"),
            &format!("o-{key}"),
            signals,
            [ticket(&format!("t-{key}"), "hamlet-1")],
        ),
    );
    observation.patron()
}

fn recognize(memory: &Memory, signals: Signals) -> Recognition {
    memory
        .recognize(&signals)
        .expect("usable signals must be recognized")
}

fn assert_known(memory: &Memory, signals: Signals, patron: PatronId, case: &str) {
    let recognition = recognize(memory, signals);
    assert_eq!(
        recognition.known_patron(),
        Some(patron),
        "{case}: expected Known({patron}), got {recognition:?}"
    );
}

fn assert_new(memory: &Memory, signals: Signals, case: &str) {
    let recognition = recognize(memory, signals);
    assert!(
        matches!(recognition, Recognition::New { .. }),
        "{case}: {recognition:?}"
    );
}

fn evidence_of(recognition: &Recognition) -> &Evidence {
    match recognition {
        Recognition::Known { evidence, .. } => evidence,
        Recognition::Review { candidates, .. } => candidates[0].evidence(),
        other => panic!("no evidence in {other:?}"),
    }
}

fn has_item(evidence: &Evidence, field: Field, agreement: Agreement) -> bool {
    evidence
        .items()
        .iter()
        .any(|i| i.field() == field && i.agreement() == agreement)
}

// ---------------------------------------------------------------- exact identifiers

#[test]
fn email_matches_whatever_its_case_and_surrounding_whitespace() {
    let mut memory = memory();
    let ana = seed(
        &mut memory,
        "1",
        Signals::new().email("Ana.Silva@Example.org"),
    );

    for typed in [
        "ana.silva@example.org",
        " ANA.SILVA@EXAMPLE.ORG ",
        "\tAna.Silva@example.ORG\n",
        "ana.silva@example.org.",
    ] {
        assert_known(&memory, Signals::new().email(typed), ana, typed);
    }
    let known = recognize(&memory, Signals::new().email(" ANA.SILVA@example.org"));
    assert!(has_item(
        evidence_of(&known),
        Field::Email,
        Agreement::Agrees
    ));

    assert_new(
        &memory,
        Signals::new().email("ana.silva@example.com"),
        "other domain",
    );
    assert_new(
        &memory,
        Signals::new().email("anasilva@example.org"),
        "dots matter outside Gmail",
    );
}

#[test]
fn gmail_dots_plus_tags_and_googlemail_are_one_mailbox() {
    let mut memory = memory();
    let jane = seed(&mut memory, "1", Signals::new().email("jane.doe@gmail.com"));

    for typed in [
        "janedoe@gmail.com",
        "JaneDoe+tickets@googlemail.com",
        "j.a.n.e.d.o.e@GMAIL.com",
        "jane.doe+theatre+2026@gmail.com",
        " Jane.Doe@GoogleMail.COM ",
    ] {
        assert_known(&memory, Signals::new().email(typed), jane, typed);
    }
    assert_new(
        &memory,
        Signals::new().email("jane.doe@example.org"),
        "same local part, other provider",
    );
    assert_new(
        &memory,
        Signals::new().email("jane.doe2@gmail.com"),
        "other mailbox",
    );
}

#[test]
fn phone_matches_across_national_and_international_formats() {
    let formats = [
        "020 7946 0018",
        "+44 20 7946 0018",
        "0044 (0)20-7946-0018",
        "+44 (0)20 7946 0018",
        "(020) 7946-0018",
    ];
    for seeded in formats {
        let mut memory = memory();
        let patron = seed(&mut memory, "1", Signals::new().phone(seeded));
        for typed in formats {
            assert_known(
                &memory,
                Signals::new().phone(typed),
                patron,
                &format!("seeded {seeded:?}, typed {typed:?}"),
            );
        }
        let known = recognize(&memory, Signals::new().phone("+442079460018"));
        assert!(has_item(
            evidence_of(&known),
            Field::Phone,
            Agreement::Agrees
        ));
        assert_new(
            &memory,
            Signals::new().phone("020 7946 0019"),
            "another number",
        );
    }
}

#[test]
fn card_token_and_external_id_match_exactly_with_system_case_folded() {
    let mut memory = memory();
    let ana = seed(
        &mut memory,
        "1",
        Signals::new()
            .card_token("tok_4242")
            .external_id("Loyalty", "L-0042"),
    );

    assert_known(
        &memory,
        Signals::new().card_token(" tok_4242 "),
        ana,
        "card token",
    );
    let by_card = recognize(&memory, Signals::new().card_token("tok_4242"));
    assert!(has_item(
        evidence_of(&by_card),
        Field::CardToken,
        Agreement::Agrees
    ));
    assert_new(
        &memory,
        Signals::new().card_token("tok_4243"),
        "other card token",
    );

    for system in ["loyalty", "LOYALTY", " Loyalty ", "LoYaLtY"] {
        assert_known(
            &memory,
            Signals::new().external_id(system, "L-0042"),
            ana,
            system,
        );
    }
    let by_loyalty = recognize(&memory, Signals::new().external_id("LOYALTY", "L-0042"));
    assert!(has_item(
        evidence_of(&by_loyalty),
        Field::ExternalId,
        Agreement::Agrees
    ));
    assert_new(
        &memory,
        Signals::new().external_id("crm", "L-0042"),
        "same value in another system",
    );
    assert_new(
        &memory,
        Signals::new().external_id("loyalty", "L-0043"),
        "other loyalty id",
    );
    // The card token is not an external id, nor the other way round.
    assert_new(
        &memory,
        Signals::new().external_id("loyalty", "tok_4242"),
        "card token value as an external id",
    );

    let patron = memory.patron(ana).expect("seeded");
    let external = patron
        .identifiers()
        .iter()
        .find(|i| i.kind() == IdentifierKind::External)
        .expect("external id learned");
    assert_eq!(external.system(), Some("loyalty"));
    assert_eq!(external.value(), "L-0042");
}

// ---------------------------------------------------------------- learning

#[test]
fn a_shared_phone_links_a_new_email_which_is_then_known_on_its_own() {
    let mut memory = memory();
    let first = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            Signals::new()
                .given_name("Ana")
                .email("ana@example.org")
                .phone("020 7946 0018"),
            [ticket("t-1", "hamlet-1")],
        ),
    );
    let ana = first.patron();
    assert_eq!(first.recognition().decision(), "new");

    // Before the second order, the new e-mail means nobody.
    assert_new(
        &memory,
        Signals::new().email("ana.new@example.com"),
        "unseen e-mail",
    );

    let second = observe(
        &mut memory,
        order_at(
            "e-2",
            "o-2",
            Signals::new()
                .given_name("Ana")
                .phone("+44 20 7946 0018")
                .email("ana.new@example.com"),
            [ticket("t-2", "hamlet-2")],
            order_time() + chrono::TimeDelta::days(3),
        ),
    );
    assert_eq!(second.recognition().known_patron(), Some(ana));
    assert!(has_item(
        evidence_of(second.recognition()),
        Field::Phone,
        Agreement::Agrees
    ));
    assert_eq!(second.patron(), ana);
    assert_eq!(memory.patron_count(), 1);

    // The new e-mail alone now finds her.
    assert_known(
        &memory,
        Signals::new().email("ANA.NEW@example.com"),
        ana,
        "learned e-mail",
    );
    let patron = memory.patron(ana).expect("known");
    let emails: Vec<&str> = patron
        .identifiers()
        .iter()
        .filter(|i| i.kind() == IdentifierKind::Email)
        .map(|i| i.value())
        .collect();
    assert_eq!(emails, ["ana@example.org", "ana.new@example.com"]);
    assert_eq!(patron.stats().orders(), 2);
}

#[test]
fn recognize_is_read_only() {
    let mut memory = memory();
    let ana = seed(
        &mut memory,
        "1",
        Signals::new()
            .given_name("Ana")
            .email("ana@example.org")
            .phone("020 7946 0018"),
    );
    let before = snapshot(&memory);

    // Known, and carrying an identifier memory has not seen.
    let known = recognize(
        &memory,
        Signals::new()
            .given_name("Ana")
            .phone("020 7946 0018")
            .email("ana.other@example.com")
            .external_id("loyalty", "L-7"),
    );
    assert_eq!(known.known_patron(), Some(ana));
    // Nobody at all.
    assert_new(&memory, cleo(), "stranger");
    // A description that contradicts the patron creates nobody either.
    let _ = recognize(
        &memory,
        Signals::new()
            .email("ana@example.org")
            .given_name("Zed")
            .family_name("Other"),
    );

    assert_eq!(snapshot(&memory), before, "recognize changed memory");
    assert_eq!(memory.patron_count(), 1);
    assert_eq!(memory.event_count(), 1);
    assert_eq!(memory.patron(ana).expect("seeded").identifiers().len(), 2);
    // The identifiers only seen by `recognize` were not learned.
    assert_new(
        &memory,
        Signals::new().email("ana.other@example.com"),
        "e-mail only recognized, never observed",
    );
    assert_new(
        &memory,
        Signals::new().external_id("loyalty", "L-7"),
        "external id only recognized, never observed",
    );
}

// ---------------------------------------------------------------- names

#[test]
fn a_household_sharing_an_email_is_not_one_person() {
    let mut memory = memory();
    let shared = "smiths@example.org";
    let jane = seed(
        &mut memory,
        "jane",
        Signals::new()
            .given_name("Jane")
            .family_name("Smith")
            .email(shared),
    );
    let jane_before = memory.patron(jane).expect("seeded").history().to_vec();

    // Same e-mail, same family, different given name: someone else in Jane's household.
    let john = recognize(
        &memory,
        Signals::new()
            .given_name("John")
            .family_name("Smith")
            .email(shared),
    );
    assert_ne!(john.decision(), "known", "{john:?}");
    let Recognition::New {
        nearest: Some(nearest),
        household,
        ..
    } = &john
    else {
        panic!("expected New with Jane as household, got {john:?}");
    };
    assert_eq!(nearest.patron(), jane);
    assert_eq!(household, &[jane]);
    let evidence = nearest.evidence();
    assert!(has_item(evidence, Field::Email, Agreement::Agrees));
    assert!(
        has_item(evidence, Field::GivenName, Agreement::Disagrees),
        "evidence must explain the given name: {evidence}"
    );
    assert!(evidence.has_conflict());
    assert!(evidence.to_string().contains("given name disagrees"));

    // Same e-mail and a different given name alone: not linked either.
    let bare = recognize(&memory, Signals::new().given_name("John").email(shared));
    assert_ne!(bare.known_patron(), Some(jane), "{bare:?}");
    assert_ne!(bare.decision(), "known");

    // Observing John's order keeps him apart from Jane.
    let observed = observe(
        &mut memory,
        order(
            "e-john",
            "o-john",
            Signals::new()
                .given_name("John")
                .family_name("Smith")
                .email(shared),
            [ticket("t-john", "hamlet-2")],
        ),
    );
    assert_ne!(observed.recognition().decision(), "known");
    let john = observed.patron();
    assert_ne!(john, jane);
    assert_eq!(memory.patron_count(), 2);
    assert_eq!(
        memory.patron(jane).expect("jane").history(),
        jane_before.as_slice(),
        "John's order landed in Jane's history"
    );

    // From now on each is recognized as themselves.
    assert_known(
        &memory,
        Signals::new()
            .given_name("Jane")
            .family_name("Smith")
            .email(shared),
        jane,
        "Jane again",
    );
    assert_known(
        &memory,
        Signals::new()
            .given_name("John")
            .family_name("Smith")
            .email(shared),
        john,
        "John again",
    );
}

#[test]
fn an_initial_does_not_veto_a_match() {
    let mut memory = memory();
    let jane = seed(
        &mut memory,
        "1",
        Signals::new()
            .given_name("Jane")
            .family_name("Smith")
            .email("jane@example.org"),
    );

    for initial in ["J", "j.", " J "] {
        let recognition = recognize(
            &memory,
            Signals::new().given_name(initial).email("jane@example.org"),
        );
        assert_eq!(recognition.known_patron(), Some(jane), "{initial:?}");
        let evidence = evidence_of(&recognition);
        assert!(has_item(evidence, Field::GivenName, Agreement::Partly));
        assert!(!evidence.has_conflict(), "{evidence}");
    }

    let observed = observe(
        &mut memory,
        order(
            "e-2",
            "o-2",
            Signals::new().given_name("J").email("jane@example.org"),
            [ticket("t-2", "hamlet-2")],
        ),
    );
    assert_eq!(observed.patron(), jane);
    assert_eq!(memory.patron_count(), 1);
}

// ---------------------------------------------------------------- decisions

/// A memory with several patrons, among them two that a query can tie.
fn populated() -> (Memory, [PatronId; 4]) {
    let mut memory = memory();
    let ana = seed(&mut memory, "ana", ana());
    let loyal = seed(
        &mut memory,
        "loyal",
        Signals::new().external_id("loyalty", "L-1"),
    );
    let crm = seed(&mut memory, "crm", Signals::new().external_id("crm", "C-2"));
    let jane = seed(
        &mut memory,
        "jane",
        Signals::new()
            .given_name("Jane")
            .family_name("Smith")
            .email("smiths@example.org"),
    );
    (memory, [ana, loyal, crm, jane])
}

#[test]
fn decisions_are_deterministic() {
    let (first, ids_first) = populated();
    let (second, ids_second) = populated();
    assert_eq!(ids_first, ids_second, "same events, same patron ids");

    let queries = [
        ana(),
        Signals::new().given_name("A").phone("+44 20 7946 0018"),
        Signals::new()
            .external_id("loyalty", "L-1")
            .external_id("crm", "C-2"),
        Signals::new()
            .given_name("John")
            .family_name("Smith")
            .email("smiths@example.org"),
        cleo(),
    ];
    let mut decisions = Vec::new();
    for query in queries {
        let once = recognize(&first, query.clone());
        let twice = recognize(&first, query.clone());
        let elsewhere = recognize(&second, query);
        assert_eq!(once, twice, "same memory, same signals");
        assert_eq!(once, elsewhere, "same history, same signals");
        assert_eq!(
            evidence_of_opt(&once).map(ToString::to_string),
            evidence_of_opt(&elsewhere).map(ToString::to_string)
        );
        decisions.push(once.decision());
    }
    // An initial that fits the one patron holding that phone is her. Two patrons'
    // external ids without a name to vouch for either: a person should look. John at
    // Jane's e-mail is someone new in her household.
    assert_eq!(decisions, ["known", "known", "review", "new", "new"]);
}

fn evidence_of_opt(recognition: &Recognition) -> Option<&Evidence> {
    match recognition {
        Recognition::New { .. } => None,
        other => Some(evidence_of(other)),
    }
}

#[test]
fn two_patrons_each_holding_one_identifier_make_a_review() {
    let (mut memory, [_, loyal, crm, _]) = populated();

    // An exact tie: both ids weigh the same.
    let tie = recognize(
        &memory,
        Signals::new()
            .external_id("loyalty", "L-1")
            .external_id("crm", "C-2"),
    );
    let Recognition::Review { candidates, .. } = &tie else {
        panic!("expected Review, got {tie:?}");
    };
    let ids: Vec<PatronId> = candidates.iter().map(|c| c.patron()).collect();
    assert_eq!(ids, [loyal, crm], "ties break towards the older patron");
    assert_eq!(
        candidates[0].evidence().weight(),
        candidates[1].evidence().weight()
    );

    // Near tie: a card token and a phone held by two different patrons.
    let carded = seed(&mut memory, "card", Signals::new().card_token("tok_777"));
    let phoned = seed(&mut memory, "phone", Signals::new().phone("020 7946 0999"));
    let near = recognize(
        &memory,
        Signals::new()
            .phone("+44 20 7946 0999")
            .card_token("tok_777"),
    );
    let Recognition::Review { candidates, .. } = &near else {
        panic!("expected Review, got {near:?}");
    };
    let ids: Vec<PatronId> = candidates.iter().map(|c| c.patron()).collect();
    assert_eq!(ids, [carded, phoned], "best candidate first");
    assert!(candidates[0].confidence() >= candidates[1].confidence());

    // Observing such an event links to neither.
    let before = snapshot(&memory);
    let observed = observe(
        &mut memory,
        order(
            "e-tie",
            "o-tie",
            Signals::new()
                .external_id("loyalty", "L-1")
                .external_id("crm", "C-2"),
            [ticket("t-tie", "hamlet-3")],
        ),
    );
    assert_eq!(observed.recognition().decision(), "review");
    assert!(observed.patron() != loyal && observed.patron() != crm);
    assert_eq!(memory.patron_count(), before.patron_count + 1);
    for id in [loyal, crm] {
        let now = memory.patron(id).expect("patron");
        let then = before.patrons.iter().find(|p| p.id == id).expect("patron");
        assert_eq!(now.history(), then.history.as_slice());
    }
}

#[test]
fn evidence_display_lists_each_comparison() {
    let mut memory = memory();
    let ana = seed(&mut memory, "1", ana().birth_date(date(1980, 5, 17)));
    let recognition = recognize(
        &memory,
        Signals::new()
            .given_name("Ana")
            .family_name("Silva")
            .email("ana.silva@example.org")
            .phone("020 7946 0018")
            .birth_date(date(1980, 5, 17)),
    );
    assert_eq!(recognition.known_patron(), Some(ana));
    let evidence = evidence_of(&recognition);
    let shown = evidence.to_string();

    let fields: Vec<Field> = evidence.items().iter().map(|i| i.field()).collect();
    for field in [
        Field::Email,
        Field::Phone,
        Field::GivenName,
        Field::FamilyName,
        Field::BirthDate,
    ] {
        assert!(fields.contains(&field), "{field:?} missing from {shown}");
    }
    for item in evidence.items() {
        let verb = match item.agreement() {
            Agreement::Agrees => "agrees",
            Agreement::Partly => "partly agrees",
            Agreement::Missing => "not compared",
            _ => "disagrees",
        };
        let expected = format!(
            "{} {verb} ({}) {:+.1}",
            item.field().name(),
            item.detail(),
            item.weight()
        );
        assert!(shown.contains(&expected), "{expected:?} not in {shown:?}");
    }
    assert_eq!(shown.matches("; ").count(), evidence.items().len());
    assert!(
        shown.ends_with(&format!("total {:+.1}", evidence.weight())),
        "{shown}"
    );
    assert!(shown.contains("email agrees (exact) +14.7"), "{shown}");
    assert_no_secrets("evidence", &shown, &["ana.silva", "silva", "7946", "1980"]);
}

#[test]
fn debug_output_never_shows_personal_data() {
    let mut memory = memory();
    let signals = Signals::new()
        .given_name("Anastasia")
        .family_name("Quigglesworth")
        .email("anastasia.q@example.org")
        .phone("020 7946 0018")
        .street("12 Lilac Lane")
        .postcode("SW1A 1AA")
        .city("Westminster")
        .country("GB")
        .birth_date(date(1980, 5, 17))
        .card_token("tok_secret_99")
        .external_id("loyalty", "L-0042");
    let secrets = [
        "anastasia",
        "quiggles",
        "example.org",
        "7946",
        "lilac",
        "sw1a",
        "westminster",
        "tok_secret",
        "l-0042",
    ];
    assert_no_secrets("Signals Debug", &format!("{signals:?}"), &secrets);
    assert_no_secrets("Signals Debug", &format!("{signals:#?}"), &secrets);

    let observation = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            signals.clone(),
            [seated("t-1", "hamlet-1", "F12")],
        ),
    );
    assert_no_secrets("Observation Debug", &format!("{observation:#?}"), &secrets);
    let patron = memory.patron(observation.patron()).expect("patron");
    assert_eq!(patron.identifiers().len(), 4);
    assert_no_secrets("PatronView Debug", &format!("{patron:?}"), &secrets);
    assert_no_secrets("PatronView Debug", &format!("{patron:#?}"), &secrets);
    for identifier in patron.identifiers() {
        let shown = format!("{identifier:?}");
        assert_no_secrets("Identifier Debug", &shown, &secrets);
        assert!(shown.contains(identifier.kind().name()), "{shown}");
    }
    for name in patron.names() {
        assert_no_secrets("PersonName Debug", &format!("{name:?}"), &secrets);
    }
    for address in patron.addresses() {
        assert_no_secrets("Address Debug", &format!("{address:?}"), &secrets);
    }
    assert_no_secrets("Memory Debug", &format!("{memory:?}"), &secrets);
    let recognition = recognize(&memory, signals);
    assert_eq!(recognition.known_patron(), Some(patron.id()));
    assert_no_secrets("Recognition Debug", &format!("{recognition:#?}"), &secrets);
}

// ---------------------------------------------------------------- fuzzy matches

fn seeded(signals: Signals) -> (Memory, PatronId) {
    let mut memory = memory();
    let patron = seed(&mut memory, "first", signals);
    (memory, patron)
}

#[test]
fn a_nickname_with_the_same_phone_is_the_same_person() {
    let (memory, robert) = seeded(
        Signals::new()
            .given_name("Robert")
            .family_name("Oyelaran")
            .email("robert.oyelaran@example.org")
            .phone("020 7946 0311"),
    );
    for nickname in ["Bob", "Rob", "Bobby"] {
        let seen = recognize(
            &memory,
            Signals::new()
                .given_name(nickname)
                .family_name("Oyelaran")
                .phone("+44 20 7946 0311"),
        );
        assert_eq!(
            seen.known_patron(),
            Some(robert),
            "{nickname}: {}",
            seen.explain()
        );
        let evidence = seen.evidence().expect("evidence");
        let given = evidence
            .items()
            .iter()
            .find(|i| i.field() == Field::GivenName)
            .expect("given name compared");
        assert_eq!(given.detail(), "nickname", "{nickname}");
        assert!(given.weight() > 0.0);
    }
}

#[test]
fn a_typo_in_a_name_still_finds_the_person() {
    let (memory, katharina) = seeded(
        Signals::new()
            .given_name("Katharina")
            .family_name("Schmidt")
            .birth_date(date(1978, 11, 2))
            .postcode("SW1A 1AA")
            .email("k.schmidt@example.de"),
    );
    // A new e-mail, the family name mistyped, the birth date's day and month swapped.
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("Katharina")
            .family_name("Schmitt")
            .birth_date(date(1978, 2, 11))
            .postcode("SW1A 1AA")
            .email("kathi.s@example.net"),
    );
    assert_eq!(seen.known_patron(), Some(katharina), "{}", seen.explain());
    let text = seen.explain();
    assert!(
        text.contains("family name partly agrees (close spelling)"),
        "{text}"
    );
    assert!(
        text.contains("birth date partly agrees (day and month swapped)"),
        "{text}"
    );
}

#[test]
fn swapped_given_and_family_names_are_recognized() {
    let (memory, wei) = seeded(
        Signals::new()
            .given_name("Wei")
            .family_name("Zhangsun")
            .email("wei.zhangsun@example.org"),
    );
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("Zhangsun")
            .family_name("Wei")
            .email("wei.zhangsun@example.org"),
    );
    assert_eq!(seen.known_patron(), Some(wei), "{}", seen.explain());
}

#[test]
fn explanations_list_every_comparison_and_the_runner_up() {
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
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("Jane")
            .family_name("Smith")
            .email("smiths@example.org"),
    );
    let Recognition::Known {
        patron,
        evidence,
        runner_up,
        ..
    } = &seen
    else {
        panic!("expected Known, got {seen:?}");
    };
    assert_eq!(*patron, jane);
    let fields: Vec<Field> = evidence.items().iter().map(|i| i.field()).collect();
    for field in [
        Field::GivenName,
        Field::FamilyName,
        Field::BirthDate,
        Field::Email,
        Field::Phone,
        Field::Address,
        Field::Postcode,
        Field::CardToken,
        Field::ExternalId,
    ] {
        assert!(fields.contains(&field), "{field:?} missing from {evidence}");
    }
    let runner_up = runner_up.as_ref().expect("John was the runner-up");
    assert_eq!(runner_up.patron(), john);
    let text = seen.explain();
    assert!(
        text.contains(&format!("runner-up patron #{}", john.as_u64())),
        "{text}"
    );
    assert!(text.contains("given name disagrees"), "{text}");
    assert_no_secrets("explanation", &text, &["jane", "smiths@"]);
}

#[test]
fn a_common_name_counts_less_than_a_rare_one() {
    let mut memory = memory();
    for i in 0..40 {
        seed(
            &mut memory,
            &format!("smith-{i}"),
            Signals::new()
                .given_name(format!(
                    "Giv{}{}",
                    char::from(b'a' + (i / 26) as u8),
                    char::from(b'a' + (i % 26) as u8)
                ))
                .family_name("Smith")
                .email(format!("smith{i}@example.org")),
        );
    }
    seed(
        &mut memory,
        "rare",
        Signals::new()
            .given_name("Xanthe")
            .family_name("Quayle")
            .email("xq@example.org"),
    );
    let family_weight = |family: &str| {
        let seen = recognize(
            &memory,
            Signals::new()
                .given_name("Xanthe")
                .family_name(family)
                .email("xq@example.org"),
        );
        seen.evidence()
            .expect("evidence")
            .items()
            .iter()
            .find(|i| i.field() == Field::FamilyName)
            .map(|i| i.weight())
            .expect("family compared")
    };
    let rare = family_weight("Quayle");
    let common = {
        let seen = recognize(
            &memory,
            Signals::new()
                .given_name("Givaa")
                .family_name("Smith")
                .email("smith0@example.org"),
        );
        seen.evidence()
            .expect("evidence")
            .items()
            .iter()
            .find(|i| i.field() == Field::FamilyName)
            .map(|i| i.weight())
            .expect("family compared")
    };
    assert!(rare > common + 2.0, "rare {rare} vs common {common}");
}

/// People with nicknames, typos, shared households, several identifiers and addresses:
/// enough for every comparison to be exercised.
fn varied() -> (Memory, regulars::ManualClock) {
    let (mut memory, clock) = memory_with_clock();
    let people = [
        Signals::new()
            .given_name("Robert")
            .family_name("Oyelaran")
            .email("rob@example.org")
            .phone("+44 20 7946 0311")
            .postcode("SW1A 1AA")
            .street("12 Downing Street"),
        Signals::new()
            .given_name("Bob")
            .family_name("Oyelaran")
            .email("bob.o@example.net"),
        Signals::new()
            .given_name("Margit")
            .family_name("Schmidt-Lindqvist")
            .birth_date(date(1971, 4, 2))
            .card_token("tok-1"),
        Signals::new()
            .given_name("Jan")
            .family_name("de Vries")
            .email("jan.devries@example.nl")
            .external_id("loyalty", "L-7"),
        Signals::new()
            .given_name("Janneke")
            .family_name("de Vries")
            .email("jan.devries@example.nl"),
        Signals::new()
            .given_name("Ana")
            .family_name("Silva")
            .postcode("EC1V 3AQ")
            .birth_date(date(1980, 5, 17)),
    ];
    for (i, signals) in people.into_iter().enumerate() {
        seed(&mut memory, &format!("v{i}"), signals);
    }
    (memory, clock)
}

fn varied_queries() -> Vec<Signals> {
    vec![
        Signals::new()
            .given_name("Bobby")
            .family_name("Oyelaran")
            .phone("020 7946 0311"),
        Signals::new()
            .given_name("Robert")
            .family_name("Oyelarn")
            .postcode("SW1A 1AB"),
        Signals::new()
            .given_name("Margit")
            .family_name("Smith")
            .birth_date(date(1971, 2, 4)),
        Signals::new()
            .given_name("M")
            .family_name("Lindqvist")
            .card_token("tok-1"),
        Signals::new()
            .given_name("Jan")
            .family_name("de Vries")
            .external_id("loyalty", "L-7"),
        Signals::new()
            .given_name("Johanna")
            .family_name("de Vries")
            .email("jan.devries@example.nl"),
        Signals::new()
            .given_name("Silva")
            .family_name("Ana")
            .street("1 Old Street")
            .postcode("EC1V 3AQ"),
        Signals::new()
            .given_name("Stranger")
            .family_name("Nobody")
            .email("nobody@example.com"),
    ]
}

/// Recognition reads a compact copy of each patron's compared values when memory has one
/// and the profile itself otherwise (after a snapshot, a merge or a split): the outcome
/// and every word of the explanation must be the same either way.
#[test]
fn recognition_is_the_same_whichever_copy_of_a_profile_is_read() {
    let (mut original, clock) = varied();
    let mut restored = builder(&clock)
        .build_from_snapshot(&original.snapshot())
        .expect("a valid image");
    let same = |a: &Memory, b: &Memory, when: &str| {
        for query in varied_queries() {
            let (x, y) = (recognize(a, query.clone()), recognize(b, query));
            assert_eq!(x, y, "{when}");
            assert_eq!(x.explain(), y.explain(), "{when}");
        }
    };
    same(&original, &restored, "after a snapshot");
    let (robert, bob) = (PatronId::from_u64(1), PatronId::from_u64(2));
    for memory in [&mut original, &mut restored] {
        memory.merge(robert, bob).expect("both exist");
    }
    same(&original, &restored, "after a merge");
    let merged = recognize(
        &original,
        Signals::new()
            .given_name("Bob")
            .family_name("Oyelaran")
            .email("bob.o@example.net"),
    );
    assert_eq!(
        merged.known_patron(),
        Some(robert),
        "the merged patron's e-mail counts"
    );
    for memory in [&mut original, &mut restored] {
        memory.split(bob).expect("was merged");
    }
    same(&original, &restored, "after a split");
}

/// "van den Popen" and "van der Pising" share only a particle, which thousands of
/// unrelated Dutch names share: that is no evidence.
#[test]
fn a_shared_name_particle_is_not_a_shared_family_name() {
    let mut memory = memory();
    seed(
        &mut memory,
        "stijn",
        Signals::new()
            .given_name("Stijn")
            .family_name("van der Pising"),
    );
    let other = recognize(
        &memory,
        Signals::new()
            .given_name("Stijn")
            .family_name("van den Popen")
            .postcode("EC1V 3AQ"),
    );
    let evidence = other.evidence().expect("the namesake was a candidate");
    assert!(
        has_item(evidence, Field::FamilyName, Agreement::Disagrees),
        "{}",
        other.explain()
    );
    assert_ne!(other.decision(), "known");
    // A real shared word still counts.
    let married = recognize(
        &memory,
        Signals::new()
            .given_name("Stijn")
            .family_name("Pising van Dam"),
    );
    assert!(
        has_item(
            married.evidence().expect("a candidate"),
            Field::FamilyName,
            Agreement::Partly
        ),
        "{}",
        married.explain()
    );
}

/// The detail and agreement of one field's comparison in a recognition's best evidence.
fn compared(recognition: &Recognition, field: Field) -> (String, Agreement) {
    // The linked patron's evidence, or the best unlinked candidate's.
    let evidence = recognition
        .evidence()
        .unwrap_or_else(|| panic!("no candidate: {}", recognition.explain()));
    let item = evidence
        .items()
        .iter()
        .find(|i| i.field() == field)
        .unwrap_or_else(|| panic!("{field:?} compared: {}", recognition.explain()));
    (item.detail().to_owned(), item.agreement())
}

#[test]
fn an_initial_a_patron_gave_does_not_let_another_given_name_in() {
    let mut memory = memory();
    let mike = seed(
        &mut memory,
        "mike",
        Signals::new()
            .given_name("Mike")
            .family_name("Tumton")
            .email("michael.tumton@example.org")
            .street("201 Highbury Grove")
            .postcode("E2 9ED"),
    );
    // Mike again, writing only his initial: memory now knows him as Mike and as M.
    let again = seed(
        &mut memory,
        "m",
        Signals::new()
            .given_name("M.")
            .family_name("Tumton")
            .email("michael.tumton@example.org"),
    );
    assert_eq!(again, mike);
    // Mary at the same address is his household, not him: the initial stands for Mike.
    let mary = recognize(
        &memory,
        Signals::new()
            .given_name("Mary")
            .family_name("Tumton")
            .email("tumton.mary@example.net")
            .street("201 Highbury Grove")
            .postcode("E2 9ED"),
    );
    assert_ne!(mary.known_patron(), Some(mike), "{}", mary.explain());
    assert_eq!(mary.household(), [mike], "{}", mary.explain());
    // An initial on the record still fits him.
    let initial = recognize(
        &memory,
        Signals::new()
            .given_name("M")
            .family_name("Tumton")
            .email("michael.tumton@example.org"),
    );
    assert_eq!(initial.known_patron(), Some(mike), "{}", initial.explain());
}

#[test]
fn two_initials_that_agree_count_as_an_initial_not_as_a_name() {
    let (memory, _) = seeded(
        Signals::new()
            .given_name("T.")
            .family_name("Mollenkamp")
            .postcode("10437")
            .country("DE"),
    );
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("T")
            .family_name("Mollenkamp")
            .postcode("10437")
            .country("DE"),
    );
    let (detail, agreement) = compared(&seen, Field::GivenName);
    assert_eq!(detail, "initial only", "{}", seen.explain());
    assert_eq!(agreement, Agreement::Partly);
}

#[test]
fn umlauts_written_out_or_dropped_are_one_family_name() {
    let (memory, sabine) = seeded(
        Signals::new()
            .given_name("Sabine")
            .family_name("Müller")
            .phone("+49 40 39812641"),
    );
    for written in ["Mueller", "Muller", "MUELLER"] {
        let seen = recognize(
            &memory,
            Signals::new()
                .given_name("Sabine")
                .family_name(written)
                .phone("040 39812641")
                .country("DE"),
        );
        assert_eq!(seen.known_patron(), Some(sabine), "{written}");
        let (detail, agreement) = compared(&seen, Field::FamilyName);
        assert_eq!(
            (detail.as_str(), agreement),
            ("exact", Agreement::Agrees),
            "{written}: {}",
            seen.explain()
        );
    }
}

#[test]
fn a_second_surname_written_out_is_the_same_family_name() {
    let (memory, _) = seeded(
        Signals::new()
            .given_name("Antonio")
            .family_name("Turana")
            .email("turanaa@example.org"),
    );
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("Antonio")
            .family_name("Turana Cuestana")
            .postcode("M21 8JT"),
    );
    let (detail, agreement) = compared(&seen, Field::FamilyName);
    assert_eq!((detail.as_str(), agreement), ("exact", Agreement::Agrees));
    // A suffix is not a surname: Smith Jr. is Smith's son as often as Smith himself.
    let (memory, _) = seeded(Signals::new().given_name("Sebastian").family_name("Kocher"));
    let junior = recognize(
        &memory,
        Signals::new()
            .given_name("Sebastian")
            .family_name("Kocher Jr."),
    );
    let (detail, _) = compared(&junior, Field::FamilyName);
    assert_ne!(detail, "exact", "{}", junior.explain());
}

#[test]
fn a_mailbox_spelled_from_the_name_at_another_provider_is_no_second_clue() {
    let (memory, _) = seeded(
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@example.org"),
    );
    // Any John Johnson might pick john.johnson@ anywhere: the names already count.
    let namesake = recognize(
        &memory,
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@example.net"),
    );
    let (_, agreement) = compared(&namesake, Field::Email);
    assert_eq!(agreement, Agreement::Disagrees, "{}", namesake.explain());
    // A handle of their own at another provider still speaks for them.
    let (memory, _) = seeded(
        Signals::new()
            .given_name("Isabelle")
            .family_name("Tausse")
            .email("fjord63@example.org"),
    );
    let handle = recognize(
        &memory,
        Signals::new()
            .given_name("Isabelle")
            .family_name("Tausse")
            .email("fjord63@example.net"),
    );
    let (detail, agreement) = compared(&handle, Field::Email);
    assert_eq!(
        (detail.as_str(), agreement),
        ("same name at another domain", Agreement::Partly)
    );
}

#[test]
fn a_slip_in_the_mailbox_provider_is_the_same_mailbox() {
    // john.johnson@ at another provider says nothing beyond the names (see above), but at
    // a domain one slip from theirs it is their own mailbox mistyped.
    let (memory, patron) = seeded(
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@hotmail.com"),
    );
    let slipped = recognize(
        &memory,
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson+shows@hotmial.com"),
    );
    let (detail, agreement) = compared(&slipped, Field::Email);
    assert_eq!(
        (detail.as_str(), agreement),
        ("one edit apart", Agreement::Partly),
        "{}",
        slipped.explain()
    );
    assert_eq!(
        slipped.known_patron(),
        Some(patron),
        "{}",
        slipped.explain()
    );
    // A domain cut short at a dot is the same slip.
    let (memory, patron) = seeded(
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@hotmail.co.uk"),
    );
    let cut_short = recognize(
        &memory,
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@hotmail.co"),
    );
    let (detail, _) = compared(&cut_short, Field::Email);
    assert_eq!(detail, "one edit apart", "{}", cut_short.explain());
    assert_eq!(
        cut_short.known_patron(),
        Some(patron),
        "{}",
        cut_short.explain()
    );
    // Gmail ignores the dots, so memory keeps its addresses without them; the slipped
    // domain keeps them as typed, and is still that mailbox.
    let (memory, patron) = seeded(
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@gmail.com"),
    );
    let slipped = recognize(
        &memory,
        Signals::new()
            .given_name("John")
            .family_name("Johnson")
            .email("john.johnson@gmial.com"),
    );
    let (detail, _) = compared(&slipped, Field::Email);
    assert_eq!(detail, "one edit apart", "{}", slipped.explain());
    assert_eq!(
        slipped.known_patron(),
        Some(patron),
        "{}",
        slipped.explain()
    );
}

#[test]
fn a_slip_of_the_finger_in_the_given_name_of_a_mailbox_is_a_typo() {
    // The mailbox memory knows was typed with a letter doubled in the given name.
    let (memory, patron) = seeded(
        Signals::new()
            .given_name("Florence")
            .family_name("Moreau")
            .email("florennce.moreau35@example.org"),
    );
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("Florence")
            .family_name("Moreau")
            .email("florence.moreau35@example.org"),
    );
    let (detail, _) = compared(&seen, Field::Email);
    assert_eq!(detail, "one edit apart", "{}", seen.explain());
    assert_eq!(seen.known_patron(), Some(patron), "{}", seen.explain());
    // Another letter far from it on the keyboard is a sister's name, not a slip.
    let (memory, _) = seeded(
        Signals::new()
            .given_name("Emmy")
            .family_name("Moreau")
            .email("emmy.moreau35@example.org"),
    );
    let sister = recognize(
        &memory,
        Signals::new()
            .given_name("Emma")
            .family_name("Moreau")
            .email("emma.moreau35@example.org"),
    );
    let (detail, _) = compared(&sister, Field::Email);
    assert_ne!(detail, "one edit apart", "{}", sister.explain());
}

#[test]
fn a_name_mailbox_with_and_without_a_dot_is_two_namesakes() {
    let (memory, patron) = seeded(
        Signals::new()
            .given_name("Daniel")
            .family_name("Price")
            .email("daniel.price@hotmail.co.uk"),
    );
    // The second Daniel Price at that provider takes the name without the dot.
    let namesake = recognize(
        &memory,
        Signals::new()
            .given_name("Daniel")
            .family_name("Price")
            .email("danielprice@hotmail.co.uk"),
    );
    let (detail, agreement) = compared(&namesake, Field::Email);
    assert_eq!(
        (detail.as_str(), agreement),
        ("another mailbox of the same name", Agreement::Disagrees),
        "{}",
        namesake.explain()
    );
    assert_ne!(
        namesake.known_patron(),
        Some(patron),
        "{}",
        namesake.explain()
    );
    // A handle of their own with a dot left out is still a slip of theirs.
    let (memory, _) = seeded(
        Signals::new()
            .given_name("Daniel")
            .family_name("Price")
            .email("blue.fox88@hotmail.co.uk"),
    );
    let slipped = recognize(
        &memory,
        Signals::new()
            .given_name("Daniel")
            .family_name("Price")
            .email("bluefox88@hotmail.co.uk"),
    );
    let (detail, _) = compared(&slipped, Field::Email);
    assert_eq!(detail, "one edit apart", "{}", slipped.explain());
}

#[test]
fn common_diminutives_are_nicknames() {
    for (name, short) in [
        ("Ursula", "Uschi"),
        ("Catherine", "Kate"),
        ("Joachim", "Achim"),
    ] {
        let (memory, patron) = seeded(
            Signals::new()
                .given_name(name)
                .family_name("Drechel")
                .phone("+31 6 42848962"),
        );
        let seen = recognize(
            &memory,
            Signals::new()
                .given_name(short)
                .family_name("Drechel")
                .phone("06 42848962")
                .country("NL"),
        );
        assert_eq!(seen.known_patron(), Some(patron), "{short}");
        let (detail, _) = compared(&seen, Field::GivenName);
        assert_eq!(detail, "nickname", "{name}/{short}: {}", seen.explain());
    }
}

#[test]
fn a_typo_in_a_nickname_still_finds_the_person_but_two_real_names_stay_two() {
    let (memory, michael) = seeded(
        Signals::new()
            .given_name("Michael")
            .family_name("Laster")
            .email("michael.laster@example.org"),
    );
    let typo = recognize(
        &memory,
        Signals::new()
            .given_name("Mickk")
            .family_name("Laster")
            .email("michael.laster@example.org"),
    );
    assert_eq!(typo.known_patron(), Some(michael), "{}", typo.explain());
    let (detail, _) = compared(&typo, Field::GivenName);
    assert_eq!(detail, "close spelling");
    // Hanna is a name of its own, not a typo of Anna's nickname.
    let (memory, anna) = seeded(
        Signals::new()
            .given_name("Anna")
            .family_name("Draunke")
            .email("draunke@example.org"),
    );
    let twin = recognize(
        &memory,
        Signals::new()
            .given_name("Hanna")
            .family_name("Draunke")
            .email("draunke@example.org"),
    );
    assert_ne!(twin.known_patron(), Some(anna), "{}", twin.explain());
    assert_eq!(twin.household(), [anna], "{}", twin.explain());
}

#[test]
fn a_letter_far_away_on_the_keyboard_makes_another_name_but_a_slip_does_not() {
    // Twins at one address with one mailbox: Jonas and Jonah differ by one letter, but
    // `s` and `h` are far apart on a keyboard and the names sound different.
    let (memory, jonas) = seeded(
        Signals::new()
            .given_name("Jonas")
            .family_name("Reinecker")
            .email("reinecker.twins@example.org")
            .street("Twijnstraat 89")
            .postcode("3539 TZ")
            .country("NL"),
    );
    let jonah = recognize(
        &memory,
        Signals::new()
            .given_name("Jonah")
            .family_name("Reinecker")
            .email("reinecker.twins@example.org")
            .street("Twijnstraat 89")
            .postcode("3539 TZ")
            .country("NL"),
    );
    assert_ne!(jonah.known_patron(), Some(jonas), "{}", jonah.explain());
    assert_eq!(jonah.household(), [jonas], "{}", jonah.explain());
    let (detail, agreement) = compared(&jonah, Field::GivenName);
    assert_eq!(
        (detail.as_str(), agreement),
        ("different", Agreement::Disagrees)
    );
    // A finger slipping to the neighbouring key (`a` for `s`) is still him.
    let slip = recognize(
        &memory,
        Signals::new()
            .given_name("Jonaa")
            .family_name("Reinecker")
            .email("reinecker.twins@example.org"),
    );
    assert_eq!(slip.known_patron(), Some(jonas), "{}", slip.explain());
    assert_eq!(compared(&slip, Field::GivenName).0, "close spelling");
    // And a letter far away that sounds the same (Aiden, Aidan) is one name misspelled.
    let (memory, aiden) = seeded(
        Signals::new()
            .given_name("Aiden")
            .family_name("Reinecker")
            .email("aiden.r@example.org"),
    );
    let aidan = recognize(
        &memory,
        Signals::new()
            .given_name("Aidan")
            .family_name("Reinecker")
            .email("aiden.r@example.org"),
    );
    assert_eq!(aidan.known_patron(), Some(aiden), "{}", aidan.explain());
    assert_eq!(compared(&aidan, Field::GivenName).0, "close spelling");
}

#[test]
fn a_junior_suffix_on_one_side_only_is_another_family_name() {
    // The father, seen first, at his address.
    let (memory, father) = seeded(
        Signals::new()
            .given_name("Cornelis")
            .family_name("Boonstrak")
            .email("cornelis.boonstrak@example.org")
            .street("Keizersgracht 32")
            .postcode("1106 CP")
            .country("NL"),
    );
    // His son of the same name, writing "Jr.", at the box office: a postcode and his
    // own phone.
    let son = Signals::new()
        .given_name("Cornelis")
        .family_name("Boonstrak Jr.")
        .phone("+31 6 57493154")
        .postcode("1106 CP")
        .country("NL");
    let seen = recognize(&memory, son);
    let (detail, agreement) = compared(&seen, Field::FamilyName);
    assert_eq!(
        (detail.as_str(), agreement),
        ("different", Agreement::Disagrees)
    );
    assert_ne!(seen.known_patron(), Some(father), "{}", seen.explain());
    // The son, once known with his suffix, is found by it.
    let (memory, junior) = seeded(
        Signals::new()
            .given_name("Cornelis")
            .family_name("Boonstrak Jr")
            .email("kees.b@example.net"),
    );
    let again = recognize(
        &memory,
        Signals::new()
            .given_name("Cornelis")
            .family_name("Boonstrak Jr.")
            .email("kees.b@example.net"),
    );
    assert_eq!(again.known_patron(), Some(junior), "{}", again.explain());
    assert_eq!(compared(&again, Field::FamilyName).0, "exact");
}

#[test]
fn a_record_proves_no_merge_with_a_namesake_who_only_shares_its_home() {
    let clock = regulars::ManualClock::new(t0());
    // Merging on little evidence, so that the name and the home would be enough.
    let mut memory = build(builder(&clock).thresholds(regulars::Thresholds::default().merge(13.0)));
    let father = seed(&mut memory, "father", dennis_senior());
    // His son of the same name, with his own mailbox and mobile, writing an initial: not
    // linked on the name.
    let son = || dennis_junior().email("dennis.groungsma@example.org");
    let provisional = seed(&mut memory, "son-1", son());
    assert_ne!(provisional, father);
    // The son again, at home: surely him, and for the father only the name and the home
    // agree while the mobile is not his. That proves nothing about the father.
    let again = recognize(&memory, son().postcode("3578 TJ"));
    assert_eq!(
        again.known_patron(),
        Some(provisional),
        "{}",
        again.explain()
    );
    match &again {
        Recognition::Known { duplicates, .. } => assert!(duplicates.is_empty(), "{duplicates:?}"),
        other => panic!("{other:?}"),
    }
    seed(&mut memory, "son-2", son().postcode("3578 TJ"));
    let (f, s) = (memory.patron(father), memory.patron(provisional));
    assert_ne!(
        f.map(|p| p.id()),
        s.map(|p| p.id()),
        "father and son stay two"
    );
}

/// The father at home, with his own mailbox and mobile.
fn dennis_at_home() -> Signals {
    dennis_at_home_without_contacts()
        .email("d.groungsma@example.org")
        .phone("+31 6 85060636")
}

/// The name and home the father and his son share, without contact details.
fn dennis_at_home_without_contacts() -> Signals {
    Signals::new()
        .given_name("Dennis")
        .family_name("Groungsma")
        .street("Nobelstraat 132-7")
        .postcode("3578 TJ")
        .country("NL")
}

#[test]
fn a_namesake_at_home_with_a_mailbox_and_a_mobile_of_his_own_is_reviewed_not_linked() {
    let (memory, father) = seeded(dennis_at_home());
    // His son of the same name at the same address, with a mailbox and a mobile the
    // father never used: the names and the home weigh far past the Known threshold, yet
    // they prove only "a Dennis Groungsma lives there".
    let son = dennis_at_home_without_contacts;
    let seen = recognize(
        &memory,
        son()
            .email("dennisgroungsma@example.net")
            .phone("+31 6 98381961"),
    );
    assert_eq!(seen.decision(), "review", "{}", seen.explain());
    assert_eq!(seen.known_patron(), None);
    let weight = seen.evidence().map(Evidence::weight).unwrap_or_default();
    assert!(
        weight >= regulars::Thresholds::default().known_at(),
        "the rule, not the weight, holds it back: {}",
        seen.explain()
    );
    // One new contact detail alone is what a returning person brings (a new mailbox,
    // the same home): still him.
    let new_mailbox = recognize(&memory, son().email("blue.heron@example.net"));
    assert_eq!(
        new_mailbox.known_patron(),
        Some(father),
        "{}",
        new_mailbox.explain()
    );
    // Unless that mailbox is spelled from the very name his own is: a second mailbox of
    // the name at one home is the son's as often as a new one of the father's.
    let namesake_mailbox = recognize(&memory, son().email("dennisgroungsma@example.net"));
    assert_eq!(
        namesake_mailbox.decision(),
        "review",
        "{}",
        namesake_mailbox.explain()
    );
    // His own mobile at home is him, whatever the mailbox.
    let own_mobile = recognize(
        &memory,
        son()
            .email("dennisgroungsma@example.net")
            .phone("+31 6 85060636"),
    );
    assert_eq!(
        own_mobile.known_patron(),
        Some(father),
        "{}",
        own_mobile.explain()
    );
}

#[test]
fn a_namesake_at_home_with_a_mobile_of_his_own_is_reviewed_not_linked() {
    let (memory, father) = seeded(dennis_at_home());
    let son = dennis_at_home_without_contacts;
    // A mobile the father never used, and nothing but the home beside the names: his son
    // of the name, each with his own mobile, looks just like this. A person keeps his
    // number for years.
    let seen = recognize(&memory, son().phone("+31 6 98381961"));
    assert_eq!(seen.decision(), "review", "{}", seen.explain());
    let weight = seen.evidence().map(Evidence::weight).unwrap_or_default();
    assert!(
        weight >= regulars::Thresholds::default().known_at(),
        "the rule, not the weight, holds it back: {}",
        seen.explain()
    );
    // A landline beside his mobile is no line of one's own: people have both.
    let landline = recognize(&memory, son().phone("+31 30 2542608"));
    assert_eq!(
        landline.known_patron(),
        Some(father),
        "{}",
        landline.explain()
    );
}

/// One twin at home with her own mailbox and her birth date.
fn emma_at_home() -> Signals {
    Signals::new()
        .given_name("Emma")
        .family_name("van den Berg")
        .email("emma.vandenberg@example.org")
        .postcode("3539 JV")
        .birth_date(date(1971, 4, 2))
        .country("NL")
}

#[test]
fn a_nickname_at_home_with_a_mailbox_of_her_own_is_reviewed_not_linked() {
    let (memory, emma) = seeded(emma_at_home());
    // Her twin: "Emmy" is in the nickname table as a short form of Emma, and twins share
    // the family name, the home and the birth date. Her own mailbox says she is someone
    // else as often as not.
    let emmy = || {
        Signals::new()
            .given_name("Emmy")
            .family_name("van den Berg")
            .postcode("3539 JV")
            .birth_date(date(1971, 4, 2))
            .country("NL")
    };
    let seen = recognize(&memory, emmy().email("emmy.vandenberg@example.org"));
    assert_eq!(seen.decision(), "review", "{}", seen.explain());
    assert_eq!(
        compared(&seen, Field::GivenName),
        ("nickname".to_owned(), Agreement::Partly)
    );
    // Without a contact detail of her own, the nickname at home is still Emma.
    let no_contact = recognize(&memory, emmy());
    assert_eq!(
        no_contact.known_patron(),
        Some(emma),
        "{}",
        no_contact.explain()
    );
    // A nickname with Emma's own mailbox is Emma.
    let her_mailbox = recognize(&memory, emmy().email("emma.vandenberg@example.org"));
    assert_eq!(
        her_mailbox.known_patron(),
        Some(emma),
        "{}",
        her_mailbox.explain()
    );
}

#[test]
fn a_mailbox_one_letter_off_in_the_given_name_is_another_persons() {
    let (memory, _) = seeded(emma_at_home());
    // emmy.vandenberg@ is one edit from emma.vandenberg@, but the edit is the name: her
    // twin's mailbox, not a typo of Emma's.
    let twin = recognize(
        &memory,
        Signals::new()
            .given_name("Emmy")
            .family_name("van den Berg")
            .email("emmy.vandenberg@example.org"),
    );
    assert_eq!(
        compared(&twin, Field::Email),
        ("different".to_owned(), Agreement::Disagrees)
    );
    // A slip in the family name part is still a typo of her mailbox.
    let typo = recognize(
        &memory,
        Signals::new()
            .given_name("Emma")
            .family_name("van den Berg")
            .email("emma.vandenbergh@example.org"),
    );
    assert_eq!(
        compared(&typo, Field::Email),
        ("one edit apart".to_owned(), Agreement::Partly)
    );
}

// ---------------------------------------------------------------- kinds of phone line

/// The phone item of the best candidate's evidence for `signals`.
fn phone_item(memory: &Memory, signals: Signals) -> (Agreement, String, f64) {
    let recognition = recognize(memory, signals);
    evidence_of(&recognition)
        .items()
        .iter()
        .find(|i| i.field() == Field::Phone)
        .map(|i| (i.agreement(), i.detail().to_owned(), i.weight()))
        .expect("a phone item")
}

#[test]
fn a_landline_beside_a_mobile_weighs_nothing_two_mobiles_that_differ_do() {
    let mut memory = memory();
    let ana = || {
        Signals::new()
            .given_name("Ana")
            .family_name("Lindqvist")
            .postcode("SW1A 1AA")
            .country("GB")
    };
    seed(&mut memory, "1", ana().phone("07700 900123"));

    // The home's landline: another kind of line, no evidence either way, though still a
    // number the patron never gave.
    let (agreement, detail, weight) = phone_item(&memory, ana().phone("020 7946 0018"));
    assert_eq!(agreement, Agreement::Disagrees);
    assert_eq!(detail, "another kind of line");
    assert_eq!(weight, 0.0);

    // Another mobile counts against.
    let (agreement, detail, weight) = phone_item(&memory, ana().phone("07700 900999"));
    assert_eq!(agreement, Agreement::Disagrees);
    assert_ne!(detail, "another kind of line");
    assert!(weight < 0.0, "{weight}");

    // A number whose kind the numbering plan does not tell counts against too.
    let (_, _, weight) = phone_item(&memory, ana().phone("+1 415 555 0132"));
    assert!(weight < 0.0, "{weight}");
}

#[test]
fn a_new_mobile_beside_a_home_landline_is_no_line_of_ones_own() {
    // Known from an order with his mailbox, the home's landline and the address.
    let pieter = || {
        Signals::new()
            .given_name("Pieter")
            .family_name("Lindqvist")
            .street("14 Mill Lane")
            .postcode("W11 3TZ")
            .country("GB")
    };
    let at_home = |landline: &str| {
        let mut memory = memory();
        let patron = seed(
            &mut memory,
            "1",
            pieter()
                .email("pieter.lindqvist@example.org")
                .phone(landline),
        );
        (memory, patron)
    };
    // A new mailbox and his mobile: a landline beside a mobile shows no line of his own,
    // so only the mailbox differs, as when anyone changes mailbox at home.
    let (memory, patron) = at_home("020 8123 4567");
    let again = || pieter().email("redfox@example.net").phone("07700 900123");
    assert_known(&memory, again(), patron, "a new mailbox and his mobile");
    // A mobile he never gave beside the one he did, with a new mailbox: a son of his
    // name living there looks just like that, so a person has to look.
    let (memory, _) = at_home("07700 900999");
    let son = recognize(&memory, again());
    assert_eq!(son.decision(), "review", "{}", son.explain());
}

#[test]
fn another_family_name_at_home_with_a_mailbox_of_her_own_is_reviewed() {
    let maria = |family: &str| {
        Signals::new()
            .given_name("Maria")
            .family_name(family)
            .street("43 Mill Lane")
            .postcode("W11 3TZ")
            .country("GB")
    };
    let mut memory = memory();
    let patron = seed(
        &mut memory,
        "1",
        maria("Roenke").email("maria.r@example.org"),
    );
    // Her mailbox under her married name: the same woman.
    assert_known(
        &memory,
        maria("Wolf").email("maria.r@example.org"),
        patron,
        "married, her mailbox kept",
    );
    // Another family name at her address, from a mailbox the patron never used: a
    // daughter or an in-law of the same given name as often as her, married.
    let other = recognize(&memory, maria("Wolf").email("sunflower@example.net"));
    assert_eq!(other.decision(), "review", "{}", other.explain());
}

#[test]
fn a_loyalty_number_of_ones_own_at_home_is_reviewed() {
    let thomas = || {
        Signals::new()
            .given_name("Thomas")
            .family_name("Lindqvist")
            .postcode("W11 3TZ")
            .country("GB")
    };
    let mut memory = memory();
    let patron = seed(&mut memory, "1", thomas().external_id("loyalty", "LY1001"));
    assert_known(
        &memory,
        thomas().external_id("loyalty", "LY1001"),
        patron,
        "his loyalty number",
    );
    // Another member of the scheme with his name at his postcode: a son of his name with
    // his own card looks just like that.
    let other = recognize(&memory, thomas().external_id("loyalty", "LY2002"));
    assert_eq!(other.decision(), "review", "{}", other.explain());
}

// ---------------------------------------------------------------- namesakes' mailboxes

/// The e-mail item of the best candidate's evidence for `signals`.
fn email_item(memory: &Memory, signals: Signals) -> (Agreement, String, f64) {
    let recognition = recognize(memory, signals);
    evidence_of(&recognition)
        .items()
        .iter()
        .find(|i| i.field() == Field::Email)
        .map(|i| (i.agreement(), i.detail().to_owned(), i.weight()))
        .expect("an e-mail item")
}

fn saskia() -> Signals {
    Signals::new()
        .given_name("Saskia")
        .family_name("van den Berg")
        .country("NL")
}

#[test]
fn two_mailboxes_spelled_from_one_name_count_against_more_than_any_other() {
    let (memory, _) = seeded(saskia().email("saskia.vandenberg@example.org"));

    // Each Saskia van den Berg has a mailbox spelled from her name: differing only by a
    // year, or by how the name is written, they are two namesakes' as often as not.
    let (agreement, detail, namesake) =
        email_item(&memory, saskia().email("saskia.vandenberg57@example.net"));
    assert_eq!(agreement, Agreement::Disagrees);
    assert_eq!(detail, "another mailbox of the same name");
    let (_, detail, _) = email_item(&memory, saskia().email("svandenberg@example.org"));
    assert_eq!(detail, "another mailbox of the same name");

    // A mailbox not spelled from her name (a handle, a household member's) is only
    // another mailbox, and weighs less against her.
    let (agreement, detail, other) = email_item(&memory, saskia().email("fjord63@example.net"));
    assert_eq!(
        (agreement, detail.as_str()),
        (Agreement::Disagrees, "different")
    );
    let (_, detail, household) = email_item(&memory, saskia().email("piet.vandenberg@example.org"));
    assert_eq!(detail, "different");
    assert!(namesake < other - 1.0, "{namesake} vs {other}");
    assert_eq!(other, household);
}

#[test]
fn a_namesake_writing_from_her_own_mailbox_is_not_linked_on_the_name() {
    // A Known threshold low enough that the names and another mailbox link: a second
    // mailbox spelled from the very name keeps the stranger apart.
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).thresholds(regulars::Thresholds::default().known(10.0)));
    let saskia_patron = seed(
        &mut memory,
        "first",
        saskia().email("saskia.vandenberg@example.org"),
    );
    assert_known(
        &memory,
        saskia().email("fjord63@example.net"),
        saskia_patron,
        "a handle of her own",
    );
    let namesake = recognize(&memory, saskia().email("saskia.vandenberg57@example.net"));
    assert!(namesake.known_patron().is_none(), "{}", namesake.explain());
}

#[test]
fn a_households_mailbox_beside_a_persons_own_weighs_as_another_mailbox() {
    let (memory, _) = seeded(saskia().email("saskia.vandenberg@example.org"));
    // A handle of her own that differs: another mailbox.
    let (_, _, other) = email_item(&memory, saskia().email("fjord63@example.net"));
    assert!(other < 0.0, "{other}");
    // The family's mailbox on one order, her own on another: a housemate of her name
    // writes it as often as she does, so it counts against as another mailbox does.
    for household in [
        "thevandenbergs@example.net",
        "vandenberg.home@example.net",
        "vandenbergfamily@example.net",
        "saskia.piet.vandenberg@example.net",
    ] {
        let (agreement, detail, weight) = email_item(&memory, saskia().email(household));
        assert_eq!(agreement, Agreement::Disagrees, "{household}");
        assert_eq!(detail, "a household's mailbox", "{household}");
        assert_eq!(weight, other, "{household}");
    }
    // The patron known only by the household's mailbox, the record with her own.
    let (memory, _) = seeded(saskia().email("thevandenbergs@example.net"));
    let (_, detail, weight) = email_item(&memory, saskia().email("fjord63@example.org"));
    assert_eq!((detail.as_str(), weight), ("a household's mailbox", other));

    // A person's own mailbox that differs is reported as such.
    let (memory, _) = seeded(saskia().email("saskia.vandenberg@example.org"));
    for own in [
        "fjord63@example.net",
        "s.berg@example.net",
        "anderson@example.net",
    ] {
        let (_, detail, weight) = email_item(&memory, saskia().email(own));
        assert_ne!(detail, "a household's mailbox", "{own}");
        assert!(weight < 0.0, "{own}: {weight}");
    }
}

#[test]
fn a_name_on_a_households_mailbox_is_not_linked_on_the_name_alone() {
    // A Known threshold the full name just reaches: the household's mailbox beside her
    // own mailbox counts against, so a housemate of her name is not linked on it.
    let clock = regulars::ManualClock::new(t0());
    let (memory, _) = seeded(saskia().email("saskia.vandenberg@example.org"));
    let names = evidence_of(&recognize(&memory, saskia())).weight();
    let mut memory =
        build(builder(&clock).thresholds(regulars::Thresholds::default().known(names - 0.5)));
    let saskia_patron = seed(
        &mut memory,
        "first",
        saskia().email("saskia.vandenberg@example.org"),
    );
    assert_known(&memory, saskia(), saskia_patron, "the full name alone");
    let household = recognize(&memory, saskia().email("thevandenbergs@example.net"));
    assert!(
        household.known_patron().is_none(),
        "{}",
        household.explain()
    );
}

// ---------------------------------------------------------------- a birth year in the mailbox

/// The birth-date item of the best candidate's evidence for `signals`.
fn birth_item(memory: &Memory, signals: Signals) -> (Agreement, String, f64) {
    let recognition = recognize(memory, signals);
    evidence_of(&recognition)
        .items()
        .iter()
        .find(|i| i.field() == Field::BirthDate)
        .map(|i| (i.agreement(), i.detail().to_owned(), i.weight()))
        .expect("a birth-date item")
}

#[test]
fn a_birth_year_in_the_mailbox_speaks_for_the_patron_born_that_year() {
    // Known by her birth date, the record by a mailbox ending in its year.
    let (memory, _) = seeded(saskia().birth_date(date(1957, 11, 23)));
    let (agreement, detail, weight) =
        birth_item(&memory, saskia().email("saskia.vandenberg57@example.net"));
    assert_eq!(
        (agreement, detail.as_str()),
        (Agreement::Partly, "birth year in the mailbox")
    );
    assert!(weight > 2.0, "{weight}");
    // Three digits, or none: nothing to compare.
    for other in [
        "saskia.vandenberg157@example.net",
        "saskia.vandenberg@example.net",
    ] {
        let (agreement, _, weight) = birth_item(&memory, saskia().email(other));
        assert_eq!((agreement, weight), (Agreement::Missing, 0.0), "{other}");
    }
    // The other way round: her mailbox known, the record with her birth date.
    let (memory, _) = seeded(saskia().email("saskia.vandenberg57@example.net"));
    let (_, detail, weight) = birth_item(&memory, saskia().birth_date(date(1957, 11, 23)));
    assert_eq!(detail, "birth year in the mailbox");
    assert!(weight > 2.0, "{weight}");
}

#[test]
fn another_year_in_the_mailbox_speaks_a_little_against_the_patron() {
    // Known by her birth date, the record by a mailbox ending in two other digits: the
    // birth date is still missing on one side (no person conflict), but it weighs less.
    let (memory, _) = seeded(saskia().birth_date(date(1957, 11, 23)));
    let (agreement, detail, weight) =
        birth_item(&memory, saskia().email("saskia.vandenberg62@example.net"));
    assert_eq!(
        (agreement, detail.as_str()),
        (Agreement::Missing, "another year in the mailbox")
    );
    assert!((-2.0..-0.5).contains(&weight), "{weight}");
    // The other way round: her mailbox known, the record with another birth date.
    let (memory, _) = seeded(saskia().email("saskia.vandenberg62@example.net"));
    let (agreement, detail, weight) = birth_item(&memory, saskia().birth_date(date(1957, 11, 23)));
    assert_eq!(
        (agreement, detail.as_str()),
        (Agreement::Missing, "another year in the mailbox")
    );
    assert!(weight < -0.5, "{weight}");
    // The record's own mailbox with its birth date: the digits are not her year, and
    // the patron's same mailbox says no more than that.
    let (agreement, _, weight) = birth_item(
        &memory,
        saskia()
            .email("saskia.vandenberg62@example.net")
            .birth_date(date(1957, 11, 23)),
    );
    assert_eq!((agreement, weight), (Agreement::Missing, 0.0));
}

#[test]
fn another_year_in_the_mailbox_can_keep_a_names_only_record_apart() {
    // A father known by his birth date; a record of the name with a mailbox ending in
    // another year (his son's). Where the names alone just reach the Known threshold,
    // the year tips the record to review; the same record with a mailbox without digits
    // is still linked.
    let father = || saskia().given_name("Pieter");
    let (memory, _) = seeded(father().birth_date(date(1957, 11, 23)));
    let plain = father().email("pieter.vandenberg@example.net");
    let names_only = evidence_of(&recognize(&memory, plain.clone())).weight();
    let clock = regulars::ManualClock::new(t0());
    let mut strict =
        build(builder(&clock).thresholds(regulars::Thresholds::default().known(names_only - 0.5)));
    let patron = seed(
        &mut strict,
        "first",
        father().birth_date(date(1957, 11, 23)),
    );
    assert_known(&strict, plain, patron, "a mailbox without digits");
    let son = recognize(&strict, father().email("pieter.vandenberg93@example.net"));
    assert!(son.known_patron().is_none(), "{}", son.explain());
}

#[test]
fn a_namesake_known_by_the_name_alone_does_not_hold_back_a_matching_home() {
    let oyelaran = |given: &str| Signals::new().given_name(given).family_name("Oyelaran");
    let build = |namesake: Signals| {
        let mut memory = memory();
        let namesake = seed(&mut memory, "namesake", namesake);
        let home = seed(
            &mut memory,
            "home",
            oyelaran("J.").postcode("SW1A 1AA").country("GB"),
        );
        assert_ne!(namesake, home);
        (memory, home)
    };
    let record = || oyelaran("Joseph").postcode("SW1A 1AA").country("GB");
    // A Joseph Oyelaran known by his mailbox only shares nothing but the name with the
    // record: the patron whose postcode matches too is linked, though the full name
    // brings the namesake within the margin.
    let (memory, home) = build(oyelaran("Joseph").email("joseph.o@example.org"));
    let seen = recognize(&memory, record());
    assert_eq!(seen.known_patron(), Some(home), "{}", seen.explain());
    // A namesake living nearby (a postcode of the same district) competes: a person
    // has to look.
    let (memory, _) = build(oyelaran("Joseph").postcode("SW1A 2AA").country("GB"));
    let seen = recognize(&memory, record());
    assert_eq!(seen.decision(), "review", "{}", seen.explain());
}

#[test]
fn a_second_mailbox_of_the_name_with_her_birth_year_is_still_her() {
    let (memory, saskia_patron) = seeded(
        saskia()
            .email("saskia.vandenberg@example.org")
            .birth_date(date(1957, 11, 23)),
    );
    // Another mailbox of the name counts against, but the year in it is hers.
    assert_known(
        &memory,
        saskia().email("saskia.vandenberg57@example.net"),
        saskia_patron,
        "her birth year in the new mailbox",
    );
    // Another year: a namesake's mailbox.
    let namesake = recognize(&memory, saskia().email("saskia.vandenberg62@example.net"));
    assert!(namesake.known_patron().is_none(), "{}", namesake.explain());
}

#[test]
fn another_mobile_beside_the_full_name_alone_is_not_enough() {
    // A Known threshold that the full name alone clears in this young memory.
    let clock = regulars::ManualClock::new(t0());
    let mut memory = build(builder(&clock).thresholds(regulars::Thresholds::default().known(11.0)));
    let name = || {
        Signals::new()
            .given_name("Marieke")
            .family_name("Oosterbroek")
            .country("GB")
    };
    let patron = seed(&mut memory, "1", name().phone("07700 900123"));
    assert_known(&memory, name(), patron, "the full name alone");
    assert_known(
        &memory,
        name().phone("07700 900123"),
        patron,
        "the name and her mobile",
    );
    // Another mobile beside the name: two people of one name, each with a mobile of their
    // own, as often as one person who changed number. A mobile beside a landline is no
    // such sign (another kind of line), so what is left differing weighs well against.
    let other = recognize(&memory, name().phone("07700 900999"));
    assert_eq!(other.decision(), "review", "{}", other.explain());
}

/// A junior of one name seen twice by his mobile, once writing `second_family`, and what
/// a record with `bare` makes of him.
fn junior_then(second_family: &str, bare: Signals) -> (PatronId, Recognition) {
    let mut memory = memory();
    let son = |family: &str| {
        Signals::new()
            .given_name("Dennis")
            .family_name(family)
            .phone("+31 6 98381961")
            .postcode("3578 TJ")
            .country("NL")
    };
    let junior = seed(&mut memory, "son-1", son("Groungsma"));
    assert_eq!(seed(&mut memory, "son-2", son(second_family)), junior);
    (junior, recognize(&memory, bare))
}

#[test]
fn a_bare_name_at_a_juniors_home_is_reviewed_not_linked() {
    let bare = || {
        Signals::new()
            .given_name("Dennis")
            .family_name("Groungsma")
            .postcode("3578 TJ")
            .country("NL")
    };
    // He has written "Jr.", so a Dennis Groungsma senior exists, likely at this postcode:
    // the name and the postcode fit the father as well as the son.
    let (junior, seen) = junior_then("Groungsma Jr.", bare());
    assert!(
        matches!(&seen, Recognition::Review { candidates, .. }
            if candidates.iter().any(|c| c.patron() == junior)),
        "{}",
        seen.explain()
    );
    // His own mobile tells him from his father: linked.
    let (junior, seen) = junior_then("Groungsma Jr.", bare().phone("+31 6 98381961"));
    assert_eq!(seen.known_patron(), Some(junior), "{}", seen.explain());
    // Never having written a suffix, he is linked on the name and the postcode as before.
    let (junior, seen) = junior_then("Groungsma", bare());
    assert_eq!(seen.known_patron(), Some(junior), "{}", seen.explain());
}

// ---------------------------------------------------------------- a family name nobody else holds

/// A memory of `fillers` patrons of made-up one-surname names (each their own), enough
/// for a rare family name's weight to reach its cap, then the patrons of `named`.
fn crowd_with(fillers: usize, named: &[(&str, Signals)]) -> (Memory, Vec<PatronId>) {
    let mut memory = memory();
    let letter = |i: usize| char::from(b'a' + (i % 26) as u8);
    for i in 0..fillers {
        let made_up = format!("Q{}{}{}x", letter(i / 676), letter(i / 26), letter(i));
        seed(
            &mut memory,
            &format!("filler-{i}"),
            Signals::new()
                .given_name(format!("G{made_up}"))
                .family_name(made_up)
                .email(format!("filler{i}@example.org")),
        );
    }
    let patrons = named
        .iter()
        .map(|(key, signals)| seed(&mut memory, key, signals.clone()))
        .collect();
    (memory, patrons)
}

/// The family name's weight in the evidence of the best candidate for `signals`.
fn family_weight(memory: &Memory, signals: Signals) -> f64 {
    let seen = recognize(memory, signals);
    seen.evidence()
        .and_then(|e| e.items().iter().find(|i| i.field() == Field::FamilyName))
        .map(|i| i.weight())
        .unwrap_or_else(|| panic!("family compared: {}", seen.explain()))
}

#[test]
fn a_family_name_nobody_else_holds_weighs_more_until_something_else_differs() {
    let quayle = || Signals::new().given_name("Xanthe").family_name("Quayle");
    let pennock = || Signals::new().given_name("Yorick").family_name("Pennock");
    let (memory, _) = crowd_with(
        3000,
        &[
            ("quayle", quayle().phone("+44 7700 900123")),
            ("pennock-1", pennock().email("yorick@example.org")),
            (
                "pennock-2",
                Signals::new().given_name("Zelda").family_name("Pennock"),
            ),
        ],
    );
    // Both rare enough for the cap; only Quayle is held by nobody else.
    let unheard = family_weight(&memory, quayle());
    let rare = family_weight(&memory, pennock());
    assert!(unheard > rare + 0.5, "unheard {unheard} vs rare {rare}");
    // A mobile of one's own beside his: a relative of the name as likely as him, so the
    // name counts as any rare one.
    let own_mobile = family_weight(&memory, quayle().phone("+44 7700 900999"));
    assert!((own_mobile - rare).abs() < 1e-9, "{own_mobile} vs {rare}");
    // Another kind of line says nothing against him: the bonus stays.
    let landline = family_weight(&memory, quayle().phone("+44 20 7946 0123"));
    assert!((landline - unheard).abs() < 1e-9, "{landline} vs {unheard}");
}

#[test]
fn a_double_surname_nobody_else_holds_weighs_as_any_rare_one() {
    // "Quayle Pennock" is exact beside "Quayle" and held by her alone, but how rare the
    // whole is says nothing of how rare the part they share is.
    let (memory, _) = crowd_with(
        3000,
        &[
            (
                "double",
                Signals::new()
                    .given_name("Ulla")
                    .family_name("Quayle-Pennock"),
            ),
            (
                "pennock-1",
                Signals::new().given_name("Yorick").family_name("Pennock"),
            ),
            (
                "pennock-2",
                Signals::new().given_name("Zelda").family_name("Pennock"),
            ),
        ],
    );
    let double = family_weight(
        &memory,
        Signals::new()
            .given_name("Ulla")
            .family_name("Quayle-Pennock"),
    );
    let rare = family_weight(
        &memory,
        Signals::new().given_name("Yorick").family_name("Pennock"),
    );
    assert!((double - rare).abs() < 1e-9, "{double} vs {rare}");
}

#[test]
fn a_surname_added_to_a_common_one_weighs_as_the_common_one() {
    // Sixty patrons are filed under García: a common family name here. "García Chuelva"
    // is exact beside Ana García (a second surname written) and held by nobody, but the
    // two share García only.
    let garcias: Vec<(String, Signals)> = (0..60)
        .map(|i| {
            let given = format!("Hal{}", char::from(b'a' + (i % 26) as u8));
            let given = format!("{given}{}", char::from(b'a' + (i / 26) as u8));
            (
                format!("garcia-{i}"),
                Signals::new().given_name(given).family_name("García"),
            )
        })
        .collect();
    let mut named: Vec<(&str, Signals)> = garcias
        .iter()
        .map(|(key, signals)| (key.as_str(), signals.clone()))
        .collect();
    named.push((
        "olga",
        Signals::new().given_name("Olga").family_name("Quorvell"),
    ));
    named.push((
        "ana",
        Signals::new()
            .given_name("Ana")
            .family_name("García")
            .email("ana.garcia@example.org"),
    ));
    let (memory, patrons) = crowd_with(3000, &named);
    let ana = *patrons.last().expect("seeded");
    let written_in_full = || {
        Signals::new()
            .given_name("Ana")
            .family_name("García Chuelva")
    };
    let shared = family_weight(&memory, written_in_full());
    let garcia = family_weight(
        &memory,
        Signals::new().given_name("Ana").family_name("García"),
    );
    assert!((shared - garcia).abs() < 1e-9, "{shared} vs {garcia}");
    // A rare family name reaches more: García weighs as a common one.
    let rare = family_weight(
        &memory,
        Signals::new().given_name("Olga").family_name("Quorvell"),
    );
    assert!(rare > garcia + 1.0, "{rare} vs {garcia}");
    let seen = recognize(&memory, written_in_full());
    assert_ne!(seen.known_patron(), Some(ana), "{}", seen.explain());
    // Her mailbox beside the names links her all the same.
    let seen = recognize(&memory, written_in_full().email("ana.garcia@example.org"));
    assert_eq!(seen.known_patron(), Some(ana), "{}", seen.explain());
}

// ---------------------------------------------------------------- countries

/// Uwe at home in Munich: a name, a postcode and the country.
fn uwe_in_munich() -> Signals {
    Signals::new()
        .given_name("Uwe")
        .family_name("Koch")
        .postcode("80469")
        .country("DE")
}

#[test]
fn a_country_the_patron_never_gave_counts_against_a_link_on_names() {
    let (memory, uwe) = seeded(uwe_in_munich());
    // A box-office record of the name with a phone and only a country: from Germany it
    // is Uwe as the names say; from Austria it is a namesake as often as not, and the
    // country weighs as a postcode that differs would.
    let at_the_box_office = |country: &str| {
        Signals::new()
            .given_name("Uwe")
            .family_name("Koch")
            .phone("+43 664 1234567")
            .country(country)
    };
    let home = recognize(&memory, at_the_box_office("DE"));
    assert_eq!(home.known_patron(), Some(uwe), "{}", home.explain());
    assert_eq!(compared(&home, Field::Postcode).1, Agreement::Missing);
    let abroad = recognize(&memory, at_the_box_office("AT"));
    assert_eq!(
        compared(&abroad, Field::Postcode),
        ("another country".to_owned(), Agreement::Disagrees),
        "{}",
        abroad.explain()
    );
    let weight = |r: &Recognition| r.evidence().map(Evidence::weight).unwrap_or_default();
    let postcode_differs = regulars::PersonModel::default()
        .bits(Field::Postcode, regulars::Level::Different)
        .unwrap_or_default();
    assert!(postcode_differs < 0.0);
    assert!(
        weight(&abroad) <= weight(&home) + postcode_differs + 1e-9,
        "{}\n{}",
        home.explain(),
        abroad.explain()
    );
    // A record naming no country, or a patron who never named one, says nothing.
    let unsaid = recognize(
        &memory,
        Signals::new()
            .given_name("Uwe")
            .family_name("Koch")
            .phone("+43 664 1234567"),
    );
    assert_eq!(compared(&unsaid, Field::Postcode).1, Agreement::Missing);
    let (memory, _) = seeded(
        Signals::new()
            .given_name("Uwe")
            .family_name("Koch")
            .email("uwe.koch@example.org"),
    );
    let never_said = recognize(&memory, at_the_box_office("AT"));
    assert_eq!(compared(&never_said, Field::Postcode).1, Agreement::Missing);
}

#[test]
fn a_patron_found_by_strong_keys_is_scored_ahead_of_many_loose_namesakes() {
    let mut memory = memory();
    let margaret = seed(
        &mut memory,
        "margaret",
        Signals::new()
            .given_name("Margaret")
            .family_name("Oyelaran")
            .birth_date(date(1950, 1, 2))
            .postcode("SW1A 1AA")
            .email("margaret.oyelaran@example.org"),
    );
    // Newer namesakes of the same family and initial, each filed under that loose key
    // alone: more than memory would ever score.
    let mut namesakes = Vec::new();
    for (i, given) in [
        "Mary", "Maria", "Martha", "Mia", "Mabel", "Maeve", "Magda", "Mandy", "Mira", "Moira",
        "Muriel", "Myra", "Milly", "Maud",
    ]
    .into_iter()
    .enumerate()
    {
        namesakes.push(seed(
            &mut memory,
            &format!("namesake-{i}"),
            Signals::new()
                .given_name(given)
                .family_name("Oyelaran")
                .postcode(format!("N{} 7QX", i + 1))
                .email(format!("m{i}.oy@example.net")),
        ));
    }
    namesakes.sort();
    namesakes.dedup();
    assert_eq!(namesakes.len(), 14, "the namesakes are separate patrons");
    assert!(!namesakes.contains(&margaret));
    // A new e-mail: only her name, birth date and postcode find her, under several keys.
    let seen = recognize(
        &memory,
        Signals::new()
            .given_name("Margaret")
            .family_name("Oyelaran")
            .birth_date(date(1950, 1, 2))
            .postcode("SW1A 1AA")
            .email("maggie.o@example.com"),
    );
    assert_eq!(seen.known_patron(), Some(margaret), "{}", seen.explain());
}
