//! Recognition decides a record whose identifiers only one patron uses without comparing
//! everyone's names when nobody else could compete. These tests hold it to the decision
//! scoring every candidate gives, runner-up included: a memory whose person strategy is
//! wrapped (so memory cannot take the shortcut) must decide every record the same way,
//! with the same runner-up (patron, score and evidence). (The two may differ only when
//! scoring would not even look at the identifier's holder; this population has no such
//! record.)

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use regulars::{
    Agreement, BlockingKeys, Candidate, Candidates, Evidence, Field, IndexView, Memory,
    NormalizedSignals, PatronId, PatronView, PersonMatcher, Recognition, Signals, Strategy,
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
        // evidence and score.
        assert_eq!(fast, full, "{}\n---\n{}", fast.explain(), full.explain());
        shortcut_shaped_decisions += usize::from(shortcut_shaped(&fast));
    }
    // The comparison means something only if the shortcut could be taken, with someone
    // else to report.
    assert!(
        shortcut_shaped_decisions > 10,
        "shortcut-shaped decisions: {shortcut_shaped_decisions}"
    );
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

/// Recognizes `query` in both memories, asserts the whole decisions equal, and gives the
/// shortcut's.
fn same_decision(shortcut: &Memory, everyone: &Memory, query: &Signals) -> Recognition {
    let fast = shortcut.recognize(query).expect("valid signals");
    let full = everyone.recognize(query).expect("valid signals");
    assert_eq!(fast, full, "{}\n---\n{}", fast.explain(), full.explain());
    fast
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
fn the_runner_up_is_found_when_nobody_could_compete() {
    // A given name and an e-mail only: nobody without the e-mail could come near its
    // holder, yet another Ana with the same mailbox at another provider is proposed (by
    // the e-mail's local part) and must be reported as the runner-up.
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
    assert_eq!(
        runner_up_of(&fast).map(Candidate::patron),
        Some(patrons[1]),
        "{}",
        fast.explain()
    );
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
