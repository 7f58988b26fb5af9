//! Recognition decides a record whose identifiers only one patron uses without comparing
//! everyone's names when nobody else could compete. These tests hold it to the decision
//! scoring every candidate gives: a memory whose person strategy is wrapped (so memory
//! cannot take the shortcut) must decide every record the same way. When nobody at all
//! could compete, the record is settled before any candidate is looked up: the same
//! patron, evidence and confidence, no duplicates or household, and in place of the
//! runner-up a bound (`others_at_most`) that the runner-up scoring finds never exceeds.
//! Otherwise the runner-up is the same too (patron, score and evidence). (The two may
//! differ only when scoring would not even look at the identifier's holder; this
//! population has no such record.)

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use regulars::{
    Agreement, BlockingKeys, Candidate, Candidates, Evidence, Field, IndexView, Memory,
    NormalizedSignals, PatronId, PatronView, PersonMatcher, Recognition, Signals, Strategy,
    Thresholds,
};

/// The person strategy, forwarded: memory scores every candidate through it.
#[derive(Debug, Default)]
struct EveryCandidate(PersonMatcher);

impl Strategy for EveryCandidate {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn candidates(&self, signals: &NormalizedSignals, index: &IndexView<'_>, out: &mut Candidates) {
        self.0.candidates(signals, index, out);
    }
    fn score(&self, signals: &NormalizedSignals, patron: &PatronView<'_>, out: &mut Evidence) {
        self.0.score(signals, patron, out);
    }
    fn score_each(
        &self,
        signals: &NormalizedSignals,
        patrons: &[PatronView<'_>],
        out: &mut [Evidence],
    ) {
        self.0.score_each(signals, patrons, out);
    }
    fn blocking_keys(&self, signals: &NormalizedSignals, out: &mut BlockingKeys) {
        self.0.blocking_keys(signals, out);
    }
}

fn scoring_everyone() -> Memory {
    Memory::builder()
        .default_country(regulars::normalize::Country::GB)
        .clock(regulars::ManualClock::new(population::window_end()))
        .without_default_strategies()
        .strategy(EveryCandidate::default())
        .build()
        .expect("valid configuration")
}

/// Whether a decision is one the shortcut can take: known through an identifier nobody
/// else uses, ahead of a runner-up that trails by the margin.
fn shortcut_shaped(recognition: &Recognition) -> bool {
    let Recognition::Known {
        evidence,
        runner_up: Some(runner_up),
        ..
    } = recognition
    else {
        return false;
    };
    let sole_identifier = evidence.items().iter().any(|item| {
        matches!(item.field(), Field::Email | Field::Phone)
            && item.agreement() == Agreement::Agrees
            && item.detail() == "exact"
    });
    let margin = regulars::Thresholds::default().margin_needed();
    sole_identifier && evidence.weight() - runner_up.evidence().weight() >= margin
}

#[test]
fn the_shortcut_decides_every_record_as_scoring_everyone_does() {
    let population = population::Population::generate(3000, 11);
    let held_out = population.records.len() / 10;
    let (seen, queries) = population
        .records
        .split_at(population.records.len() - held_out);
    let mut shortcut = population::memory().expect("valid configuration");
    let mut everyone = scoring_everyone();
    let a = population::stream(&mut shortcut, seen);
    let b = population::stream(&mut everyone, seen);
    // Observing takes the same decisions, so both memories hold the same patrons.
    assert_eq!(a.assigned, b.assigned);
    assert_eq!(shortcut.patron_count(), everyone.patron_count());
    let mut shortcut_shaped_decisions = 0;
    for record in queries {
        let signals = record.signals();
        let (Ok(fast), Ok(full)) = (shortcut.recognize(&signals), everyone.recognize(&signals))
        else {
            continue;
        };
        // The whole decision: patron, evidence, confidence, and the runner-up's patron,
        // evidence and score (or a bound on it, when settled early).
        assert_same_decision(&fast, &full);
        shortcut_shaped_decisions += usize::from(shortcut_shaped(&fast));
    }
    // The comparison means something only if the shortcut could be taken, with someone
    // else to report.
    assert!(
        shortcut_shaped_decisions > 10,
        "shortcut-shaped decisions: {shortcut_shaped_decisions}"
    );
}

#[test]
fn records_settled_by_their_identifiers_alone_decide_as_scoring_everyone_does() {
    // With the merge threshold out of reach, bounds alone settle most records whose
    // identifiers one patron holds: each must link the patron scoring everyone links,
    // with the same evidence, and a bound no runner-up exceeds.
    let thresholds = Thresholds::default().merge(60.0);
    let population = population::Population::generate(3000, 11);
    let held_out = population.records.len() / 10;
    let (seen, queries) = population
        .records
        .split_at(population.records.len() - held_out);
    let mut shortcut = Memory::builder()
        .default_country(regulars::normalize::Country::GB)
        .clock(regulars::ManualClock::new(population::window_end()))
        .thresholds(thresholds)
        .build()
        .expect("valid configuration");
    population::stream(&mut shortcut, seen);
    // The same memory, restored with the person strategy wrapped: observing into it
    // would differ in more than recognition (settling reviews uses the person strategy
    // too).
    let everyone = Memory::builder()
        .default_country(regulars::normalize::Country::GB)
        .clock(regulars::ManualClock::new(population::window_end()))
        .thresholds(thresholds)
        .without_default_strategies()
        .strategy(EveryCandidate::default())
        .build_from_snapshot(&shortcut.snapshot())
        .expect("restored");
    assert_eq!(shortcut.patron_count(), everyone.patron_count());
    let (mut settled, mut with_runner_up) = (0, 0);
    for record in queries {
        let signals = record.signals();
        let (Ok(fast), Ok(full)) = (shortcut.recognize(&signals), everyone.recognize(&signals))
        else {
            continue;
        };
        assert_same_decision(&fast, &full);
        if others_at_most(&fast).is_some() {
            settled += 1;
            with_runner_up += usize::from(runner_up_of(&full).is_some());
        }
    }
    // The comparison means something only if records were settled early, with someone
    // scoring everyone would have named as the runner-up.
    assert!(settled > 50, "settled early: {settled}");
    assert!(with_runner_up > 10, "with a runner-up: {with_runner_up}");
}

/// Observes each record as one order, in order, in both memories; the patron each
/// record went to (the same in both).
fn observe_all(memories: [&mut Memory; 2], records: &[Signals]) -> Vec<PatronId> {
    let mut assigned = Vec::new();
    for memory in memories {
        let patrons: Vec<PatronId> = records
            .iter()
            .enumerate()
            .map(|(i, signals)| {
                let order = regulars::Order::new(format!("o-{i}"), signals.clone());
                memory
                    .observe(regulars::Event::order(format!("e-{i}"), order))
                    .expect("order")
                    .patron()
            })
            .collect();
        assert!(assigned.is_empty() || assigned == patrons);
        assigned = patrons;
    }
    assigned
}

/// A memory as built by default, and one that scores every candidate (it never takes
/// the shortcut).
fn with_and_without_shortcut() -> (Memory, Memory) {
    let everyone = Memory::builder()
        .without_default_strategies()
        .strategy(EveryCandidate::default())
        .build()
        .expect("valid configuration");
    (Memory::new(), everyone)
}

/// Recognizes `query` in both memories, asserts the decisions the same (see
/// [`assert_same_decision`]), and gives the shortcut's.
fn same_decision(shortcut: &Memory, everyone: &Memory, query: &Signals) -> Recognition {
    let fast = shortcut.recognize(query).expect("valid signals");
    let full = everyone.recognize(query).expect("valid signals");
    assert_same_decision(&fast, &full);
    fast
}

/// The bound a record settled before any candidate was looked up carries, if it was.
fn others_at_most(recognition: &Recognition) -> Option<f64> {
    match recognition {
        Recognition::Known { others_at_most, .. } => *others_at_most,
        _ => None,
    }
}

/// `fast` (memory as built by default) decides as `full` (scoring every candidate) does:
/// equal, or, when settled before any candidate was looked up, the same patron, evidence,
/// confidence, duplicates and household (none), no runner-up, and a bound the runner-up
/// scoring finds does not exceed.
fn assert_same_decision(fast: &Recognition, full: &Recognition) {
    let Some(most) = others_at_most(fast) else {
        assert_eq!(fast, full, "{}\n---\n{}", fast.explain(), full.explain());
        return;
    };
    let (
        Recognition::Known {
            patron,
            confidence,
            evidence,
            runner_up,
            duplicates,
            household,
            ..
        },
        Recognition::Known {
            patron: full_patron,
            confidence: full_confidence,
            evidence: full_evidence,
            runner_up: full_runner_up,
            duplicates: full_duplicates,
            household: full_household,
            others_at_most: None,
            ..
        },
    ) = (fast, full)
    else {
        panic!("{}\n---\n{}", fast.explain(), full.explain());
    };
    let both = || format!("{}\n---\n{}", fast.explain(), full.explain());
    assert_eq!(patron, full_patron, "{}", both());
    assert_eq!(evidence, full_evidence, "{}", both());
    assert_eq!(confidence, full_confidence, "{}", both());
    assert!(runner_up.is_none(), "{}", both());
    assert!(
        duplicates.is_empty() && full_duplicates.is_empty(),
        "{}",
        both()
    );
    assert!(
        household.is_empty() && full_household.is_empty(),
        "{}",
        both()
    );
    let margin = Thresholds::default().margin_needed();
    assert!(evidence.weight() - most >= margin, "{}", both());
    if let Some(runner_up) = full_runner_up {
        assert!(
            runner_up.evidence().weight() <= most + 1e-9,
            "the runner-up scores more than the bound: {}",
            both()
        );
    }
    assert!(
        fast.explain().contains("nobody else could come within"),
        "{}",
        both()
    );
}

fn runner_up_of(recognition: &Recognition) -> Option<&Candidate> {
    match recognition {
        Recognition::Known { runner_up, .. } => runner_up.as_deref(),
        _ => None,
    }
}

#[test]
fn a_namesake_near_miss_is_the_runner_up_under_the_shortcut() {
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let born = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let ana = Signals::new()
        .given_name("Ana")
        .family_name("Lindqvist")
        .birth_date(born(1984, 3, 2))
        .email("ana.lindqvist@example.org");
    // Another Ana Lindqvist (born another year, so someone else) with her own e-mail,
    // and a stranger filed under nothing alike.
    let namesake = Signals::new()
        .given_name("Ana")
        .family_name("Lindqvist")
        .birth_date(born(1991, 7, 15))
        .email("a.l.1991@example.net");
    let stranger = Signals::new()
        .given_name("Bertil")
        .family_name("Okafor")
        .email("bertil@example.com");
    let patrons = observe_all(
        [&mut shortcut, &mut everyone],
        &[ana.clone(), namesake, stranger],
    );
    // Three people, three patrons.
    assert_eq!(patrons.len(), 3);
    assert!(patrons[0] != patrons[1] && patrons[1] != patrons[2]);
    // Same patron, same evidence, same score as scoring everyone.
    let fast = same_decision(&shortcut, &everyone, &ana);
    assert_eq!(fast.known_patron(), Some(patrons[0]));
    let runner_up = runner_up_of(&fast).expect("the namesake is reported");
    assert_eq!(runner_up.patron(), patrons[1]);
    assert!(
        fast.explain().contains("runner-up patron #2 lost by"),
        "{}",
        fast.explain()
    );
}

#[test]
fn nobody_competing_is_settled_with_a_bound_the_runner_up_stays_under() {
    // A given name and an e-mail only: nobody without the e-mail could come near its
    // holder. Another Ana with the same mailbox at another provider would be proposed (by
    // the e-mail's local part) and ranked second by scoring everyone; the record is
    // settled without looking her up, and the bound reported covers her score.
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let ana = Signals::new()
        .given_name("Ana")
        .email("ana.lindqvist@example.org");
    let other_ana = Signals::new()
        .given_name("Ana")
        .email("ana.lindqvist@example.net");
    let patrons = observe_all([&mut shortcut, &mut everyone], &[ana.clone(), other_ana]);
    assert_ne!(patrons[0], patrons[1]);
    let fast = same_decision(&shortcut, &everyone, &ana);
    assert_eq!(fast.known_patron(), Some(patrons[0]));
    let most = others_at_most(&fast).expect("settled from the e-mail");
    assert!(runner_up_of(&fast).is_none(), "{}", fast.explain());
    let full = everyone.recognize(&ana).expect("valid signals");
    let runner_up = runner_up_of(&full).expect("scoring everyone ranks the other Ana");
    assert_eq!(runner_up.patron(), patrons[1]);
    assert!(runner_up.evidence().weight() <= most, "{}", fast.explain());
    // The bound survives a round trip through serde, as the rest of the decision does.
    let json = serde_json::to_string(&fast).expect("serializable");
    let back: Recognition = serde_json::from_str(&json).expect("deserializable");
    assert_eq!(back.known_patron(), fast.known_patron());
    let back = others_at_most(&back).expect("the bound is kept");
    assert!((back - most).abs() < 1e-9, "{back} for {most}");
}

#[test]
fn a_record_someone_else_could_prove_a_duplicate_is_not_settled_early() {
    // A full record: anyone with these names, born that day, living there, and with an
    // e-mail one letter off the record's would reach the merge threshold (a duplicate of
    // the holder to merge), so bounds alone cannot settle it. It is decided from the
    // candidates, and the namesake born another year is named as the runner-up.
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let person = |email: &str, year| {
        Signals::new()
            .given_name("Ana")
            .family_name("Lindqvist")
            .birth_date(chrono::NaiveDate::from_ymd_opt(year, 3, 2).expect("date"))
            .postcode("SW1A 1AA")
            .email(email)
    };
    let patrons = observe_all(
        [&mut shortcut, &mut everyone],
        &[
            person("ana.lindqvist@example.org", 1984),
            person("zed@example.net", 1962),
        ],
    );
    assert_ne!(patrons[0], patrons[1]);
    let fast = same_decision(
        &shortcut,
        &everyone,
        &person("ana.lindqvist@example.org", 1984),
    );
    assert_eq!(others_at_most(&fast), None, "{}", fast.explain());
    assert_eq!(fast.known_patron(), Some(patrons[0]));
    assert_eq!(
        runner_up_of(&fast).map(Candidate::patron),
        Some(patrons[1]),
        "{}",
        fast.explain()
    );
}

/// A memory that settles records with both names early even when small: its merge
/// threshold sits above what names and a near-miss e-mail add up to.
fn with_high_merge_threshold() -> Memory {
    Memory::builder()
        .thresholds(Thresholds::default().merge(40.0))
        .build()
        .expect("valid configuration")
}

#[test]
fn swapped_names_count_in_the_bound_only_when_someone_else_could_swap() {
    // Names are compared swapped only with a patron whose family name is the record's
    // given name, or whose given name is its family name. With nobody else like that,
    // the bound leaves the swap out; once someone is, it must cover them.
    let ana = Signals::new()
        .given_name("Ana")
        .family_name("Lindqvist")
        .email("ana.lindqvist@example.org");
    // Ana is a common given name here and Lindqvist a common family name, so an exact
    // match on them in their own places weighs less than on the names swapped (nobody
    // else is called Lindqvist Ana).
    let mut crowd = Vec::new();
    for (i, other) in ["Berg", "Okafor", "Silva", "Moreau", "Kowalski", "Tanaka"]
        .iter()
        .enumerate()
    {
        crowd.push(
            Signals::new()
                .given_name("Ana")
                .family_name(*other)
                .email(format!("ana{i}@example.net")),
        );
    }
    for (i, other) in ["Bertil", "Chidi", "Sofia", "Marc", "Jerzy", "Yuki"]
        .iter()
        .enumerate()
    {
        crowd.push(
            Signals::new()
                .given_name(*other)
                .family_name("Lindqvist")
                .email(format!("lindqvist{i}@example.net")),
        );
    }
    let bound = |others: &[Signals]| {
        let mut memory = with_high_merge_threshold();
        let mut all = vec![ana.clone()];
        all.extend_from_slice(others);
        for (i, signals) in all.into_iter().enumerate() {
            let order = regulars::Order::new(format!("o-{i}"), signals);
            memory
                .observe(regulars::Event::order(format!("e-{i}"), order))
                .expect("order");
        }
        let seen = memory.recognize(&ana).expect("valid signals");
        assert_eq!(seen.decision(), "known", "{}", seen.explain());
        others_at_most(&seen)
    };
    let without_swap = bound(&crowd).expect("settled early: nobody else could compete");
    // Someone written the other way round: given name Lindqvist, family name Ana.
    crowd.push(
        Signals::new()
            .given_name("Lindqvist")
            .family_name("Ana")
            .email("l.ana@example.com"),
    );
    // Either the bound rises to cover the swap, or it no longer settles the record.
    if let Some(with_swap) = bound(&crowd) {
        assert!(
            with_swap > without_swap + 1.0,
            "with {with_swap}, without {without_swap}"
        );
    }
}

#[test]
fn equal_runner_ups_resolve_to_the_older_patron_as_scoring_everyone_does() {
    // Two identical namesakes score exactly the same: ranking breaks the tie towards the
    // older patron, and the shortcut must name the same one.
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let person = |email: &str, year| {
        Signals::new()
            .given_name("Ingrid")
            .family_name("Vasquez")
            .birth_date(chrono::NaiveDate::from_ymd_opt(year, 6, 1).expect("date"))
            .email(email)
    };
    // Three namesakes born in different years: three people.
    let patrons = observe_all(
        [&mut shortcut, &mut everyone],
        &[
            person("twin.one@example.net", 1990),
            person("twin.two@example.net", 1962),
            person("ingrid.vasquez@example.org", 1984),
        ],
    );
    assert!(patrons[0] != patrons[1] && patrons[1] != patrons[2]);
    let query = person("ingrid.vasquez@example.org", 1984);
    let fast = same_decision(&shortcut, &everyone, &query);
    assert_eq!(fast.known_patron(), Some(patrons[2]));
    assert_eq!(
        runner_up_of(&fast).map(Candidate::patron),
        Some(patrons[0]),
        "{}",
        fast.explain()
    );
}

#[test]
fn a_namesake_with_the_same_email_is_still_the_runner_up() {
    let mut memory = Memory::new();
    let ana = Signals::new()
        .given_name("Ana")
        .family_name("Lindqvist")
        .email("ana.lindqvist@example.org");
    let mut seen = Vec::new();
    for (i, signals) in [ana.clone(), ana.clone().given_name("Anders")]
        .into_iter()
        .enumerate()
    {
        let order = regulars::Order::new(format!("o-{i}"), signals);
        seen.push(
            memory
                .observe(regulars::Event::order(format!("e-{i}"), order))
                .expect("order")
                .patron(),
        );
    }
    // The e-mail is shared: memory scores both and says why Anders lost.
    let recognition = memory.recognize(&ana).expect("valid signals");
    let Recognition::Known { runner_up, .. } = &recognition else {
        panic!("expected known: {}", recognition.explain());
    };
    assert_eq!(runner_up.as_ref().map(|r| r.patron()), seen.get(1).copied());
}

#[test]
fn a_typo_in_a_namesakes_email_keeps_the_merge_proof() {
    // Two patrons, one name, e-mails one edit apart: a record with one of the e-mails
    // and the name may prove them one person, so memory must score both rather than
    // decide from the e-mail alone.
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let person = |email: &str| {
        Signals::new()
            .given_name("Maximilian")
            .family_name("Quackenbush")
            .birth_date(chrono::NaiveDate::from_ymd_opt(1980, 4, 2).expect("date"))
            .email(email)
    };
    observe_all(
        [&mut shortcut, &mut everyone],
        &[
            person("max.quack@example.org"),
            person("max.quak@example.org"),
        ],
    );
    same_decision(&shortcut, &everyone, &person("max.quack@example.org"));
}

#[test]
fn a_twin_who_could_compete_by_name_alone_is_weighed_on_her_own_name() {
    // Twins: one family name, one birth date, two given names the table knows. With her
    // names at their best the sister could come near the holder; on her own name she
    // cannot, and the decision (runner-up included) is still the one scoring everyone gives.
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let born = chrono::NaiveDate::from_ymd_opt(1984, 3, 2).expect("date");
    let oskar = Signals::new()
        .given_name("Oskar")
        .family_name("Lindqvist")
        .birth_date(born)
        .postcode("SW1A 1AA")
        .email("oskar.lindqvist@example.org");
    let maja = Signals::new()
        .given_name("Maja")
        .family_name("Lindqvist")
        .birth_date(born)
        .postcode("SW1A 1AA")
        .email("maja.l@example.net");
    let patrons = observe_all([&mut shortcut, &mut everyone], &[oskar.clone(), maja]);
    assert_ne!(patrons[0], patrons[1], "twins are two patrons");
    let fast = same_decision(&shortcut, &everyone, &oskar);
    assert_eq!(fast.known_patron(), Some(patrons[0]));
    let runner_up = runner_up_of(&fast).expect("the sister is reported");
    assert_eq!(runner_up.patron(), patrons[1]);
    let given = runner_up
        .evidence()
        .items()
        .iter()
        .find(|item| item.field() == Field::GivenName)
        .expect("given names compared");
    assert_eq!(given.agreement(), Agreement::Disagrees);
}

#[test]
fn a_namesake_only_near_the_record_beyond_the_names_is_not_its_duplicate() {
    // Two patrons of one name, kept apart on arrival (born in different years), the
    // second's e-mail one letter off the first's. A record with the name and the first's
    // e-mail (no birth date) identifies the first exactly and agrees with the second on
    // the names and a near miss only, together above the merge threshold. That is what
    // a namesake looks like: an automatic merge needs an exact agreement beyond the
    // names, so the second is the runner-up, not a duplicate, and nobody but the holder
    // could agree exactly with the record: it is settled by its e-mail alone.
    let mut memory = Memory::new();
    let born = |year| chrono::NaiveDate::from_ymd_opt(year, 4, 2).expect("date");
    let name = || {
        Signals::new()
            .given_name("Maximilian")
            .family_name("Quackenbush")
    };
    let first = name()
        .birth_date(born(1980))
        .email("max.quackenbush@example.org");
    let second = name()
        .birth_date(born(1962))
        .phone("+44 7700 900456")
        .email("max.quackenbusch@example.org");
    let patrons = observe_all([&mut memory, &mut Memory::new()], &[first, second]);
    assert_ne!(patrons[0], patrons[1], "the namesake was kept apart");
    let query = name().email("max.quackenbush@example.org");
    let merge_at = Thresholds::default().merge_at();
    // Scoring everyone: the namesake alone reaches the merge threshold.
    let everyone = {
        let (_, mut everyone) = with_and_without_shortcut();
        observe_all(
            [&mut everyone, &mut Memory::new()],
            &[
                name()
                    .birth_date(born(1980))
                    .email("max.quackenbush@example.org"),
                name()
                    .birth_date(born(1962))
                    .phone("+44 7700 900456")
                    .email("max.quackenbusch@example.org"),
            ],
        );
        everyone.recognize(&query).expect("valid signals")
    };
    let Recognition::Known {
        patron,
        runner_up: Some(runner_up),
        duplicates,
        ..
    } = &everyone
    else {
        panic!("known, with a runner-up: {}", everyone.explain());
    };
    assert_eq!(*patron, patrons[0], "{}", everyone.explain());
    assert_eq!(runner_up.patron(), patrons[1], "{}", everyone.explain());
    assert!(
        runner_up.evidence().weight() >= merge_at,
        "names and a near miss reach the merge threshold: {}",
        everyone.explain()
    );
    assert!(duplicates.is_empty(), "{}", everyone.explain());
    // The shortcut: settled by the e-mail, the namesake bounded.
    let fast = memory.recognize(&query).expect("valid signals");
    assert_same_decision(&fast, &everyone);
    assert_eq!(fast.known_patron(), Some(patrons[0]), "{}", fast.explain());
    assert!(
        others_at_most(&fast).is_some(),
        "settled early: {}",
        fast.explain()
    );
}

#[test]
fn a_record_whose_postcode_someone_else_could_share_keeps_its_runner_up() {
    // With the merge threshold out of reach, the holder of the e-mail leads anyone else
    // by the margin whatever they hold. Without a postcode nobody else could agree
    // exactly with the record beyond the names, so it is settled early. With one, a
    // namesake at that postcode could be the runner-up and, if their own profile proved
    // them the holder, be merged on this record: the runner-up must be found.
    let mut memory = with_high_merge_threshold();
    let holder = Signals::new()
        .given_name("Oskar")
        .family_name("Lindqvist")
        .postcode("SW1A 1AA")
        .email("oskar.lindqvist@example.org");
    let stranger = Signals::new()
        .given_name("Zed")
        .family_name("Abernathy")
        .email("zed@example.net");
    let patrons = observe_all(
        [&mut memory, &mut with_high_merge_threshold()],
        &[holder.clone(), stranger],
    );
    let without_postcode = Signals::new()
        .given_name("Oskar")
        .family_name("Lindqvist")
        .email("oskar.lindqvist@example.org");
    let settled = memory.recognize(&without_postcode).expect("valid signals");
    assert_eq!(
        settled.known_patron(),
        Some(patrons[0]),
        "{}",
        settled.explain()
    );
    assert!(others_at_most(&settled).is_some(), "{}", settled.explain());
    let found = memory.recognize(&holder).expect("valid signals");
    assert_eq!(
        found.known_patron(),
        Some(patrons[0]),
        "{}",
        found.explain()
    );
    assert_eq!(others_at_most(&found), None, "{}", found.explain());
}

#[test]
fn a_runner_up_sharing_only_the_names_with_the_record_is_not_merged_on_it() {
    // Two fragments of one name whose own profiles agree exactly on the birth date. A
    // record with the names and the first's mailbox only resembles the second by name:
    // that brings nobody together, even where every candidate is scored and the second
    // is the runner-up (a merge needs the record to agree exactly beyond the names).
    let scoring_everyone = || {
        Memory::builder()
            .thresholds(Thresholds::default().known(20.0).merge(40.0))
            .review_limit(0)
            .without_default_strategies()
            .strategy(EveryCandidate::default())
            .build()
            .expect("valid configuration")
    };
    let mut memory = scoring_everyone();
    let anna = || Signals::new().given_name("Anna").family_name("Rumstrom");
    let born = chrono::NaiveDate::from_ymd_opt(1980, 5, 1).expect("date");
    let email = "anna.rumstrom@example.org";
    let patrons = observe_all(
        [&mut memory, &mut scoring_everyone()],
        &[
            anna().phone("+31 6 54257179").birth_date(born),
            anna().email(email).card_token("tok_5f03e181"),
            anna()
                .email(email)
                .card_token("tok_5f03e181")
                .birth_date(born),
        ],
    );
    let (by_phone, by_email) = (patrons[0], patrons[1]);
    assert_ne!(by_phone, by_email, "seen apart first");
    assert_eq!(patrons[2], by_email);
    let names_and_mailbox = anna().email(email);
    let decided = memory.recognize(&names_and_mailbox).expect("valid signals");
    assert_eq!(
        runner_up_of(&decided).map(Candidate::patron),
        Some(by_phone),
        "{}",
        decided.explain()
    );
    let order = regulars::Order::new("o-names", names_and_mailbox);
    memory
        .observe(regulars::Event::order("e-names", order))
        .expect("order");
    assert_ne!(
        memory.patron(by_phone).map(|p| p.id()),
        memory.patron(by_email).map(|p| p.id()),
        "not merged on a record that only shares the names with one of them"
    );
}

#[test]
fn a_record_with_a_street_is_never_settled_alone() {
    // Someone else at the record's street could make a household whatever their names,
    // so a record with a street line is decided among its candidates, never settled
    // before they are looked up; the same record without the street is settled alone.
    // Both decide as scoring everyone does.
    let (mut shortcut, mut everyone) = with_and_without_shortcut();
    let with_street = Signals::new()
        .given_name("Ines")
        .family_name("Marchetti")
        .email("ines.marchetti@example.org")
        .street("14 Quayside Row")
        .postcode("NE1 3DX");
    observe_all(
        [&mut shortcut, &mut everyone],
        std::slice::from_ref(&with_street),
    );
    let housed = same_decision(&shortcut, &everyone, &with_street);
    assert!(housed.known_patron().is_some(), "{}", housed.explain());
    assert_eq!(others_at_most(&housed), None, "{}", housed.explain());
    let names_and_mailbox = Signals::new()
        .given_name("Ines")
        .family_name("Marchetti")
        .email("ines.marchetti@example.org");
    let settled = same_decision(&shortcut, &everyone, &names_and_mailbox);
    assert_eq!(settled.known_patron(), housed.known_patron());
    assert!(others_at_most(&settled).is_some(), "{}", settled.explain());
}
