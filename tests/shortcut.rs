//! Recognition decides a record whose identifiers only one patron uses without scoring
//! everyone else when nobody else could compete. These tests hold it to the decision
//! scoring every candidate gives: a memory whose person strategy is wrapped (so memory
//! cannot take the shortcut) must decide every record the same way. (The two may differ
//! only when scoring would not even look at the identifier's holder; this population has
//! no such record.)

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use regulars::{
    BlockingKeys, Candidates, Evidence, IndexView, Memory, NormalizedSignals, PatronView,
    PersonMatcher, Recognition, Signals, Strategy,
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

/// Everything but the runner-up, which the shortcut does not report.
fn without_runner_up(recognition: &Recognition) -> String {
    let text = format!("{recognition:?}");
    match (text.find("runner_up: "), text.find(", duplicates: ")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &text[..start], &text[end + 2..])
        }
        _ => text,
    }
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
    let mut shortcut_taken = 0;
    for record in queries {
        let signals = record.signals();
        let (Ok(fast), Ok(full)) = (shortcut.recognize(&signals), everyone.recognize(&signals))
        else {
            continue;
        };
        assert_eq!(
            without_runner_up(&fast),
            without_runner_up(&full),
            "{}\n---\n{}",
            fast.explain(),
            full.explain()
        );
        if let (Recognition::Known { runner_up: a, .. }, Recognition::Known { runner_up: b, .. }) =
            (&fast, &full)
        {
            match a {
                Some(a) => assert_eq!(Some(a), b.as_ref()),
                None => shortcut_taken += usize::from(b.is_some()),
            }
        }
    }
    // The comparison means something only if the shortcut was taken.
    assert!(shortcut_taken > 10, "shortcut taken {shortcut_taken} times");
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
    let mut shortcut = Memory::new();
    let mut everyone = Memory::builder()
        .without_default_strategies()
        .strategy(EveryCandidate::default())
        .build()
        .expect("valid configuration");
    let person = |email: &str| {
        Signals::new()
            .given_name("Maximilian")
            .family_name("Quackenbush")
            .birth_date(chrono::NaiveDate::from_ymd_opt(1980, 4, 2).expect("date"))
            .email(email)
    };
    for memory in [&mut shortcut, &mut everyone] {
        for (i, email) in ["max.quack@example.org", "max.quak@example.org"]
            .into_iter()
            .enumerate()
        {
            let order = regulars::Order::new(format!("o-{i}"), person(email));
            memory
                .observe(regulars::Event::order(format!("e-{i}"), order))
                .expect("order");
        }
    }
    let query = person("max.quack@example.org");
    let fast = shortcut.recognize(&query).expect("valid signals");
    let full = everyone.recognize(&query).expect("valid signals");
    assert_eq!(fast, full, "{}\n---\n{}", fast.explain(), full.explain());
}
