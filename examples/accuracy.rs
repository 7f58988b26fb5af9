//! Accuracy: how well memory recognizes returning patrons when their orders arrive one at
//! a time, measured on a synthetic population whose truth is known.
//!
//! It generates people and their orders (see `support/population.rs`: households, twins,
//! namesakes, nicknames, typos, moves, marriages, placeholder e-mails and all), streams the
//! orders through [`Memory::observe`] in arrival order, one ticketless order per record,
//! and compares the patrons memory ends with against the truth, pair by pair: precision,
//! recall and F1, the false merges (different people made one patron: the dangerous kind,
//! since it shows one person another's history) and the missed links (one person split
//! over several patrons). Then it explains the errors by kind, with examples.
//!
//! The data is synthetic, so the examples print names, e-mails and phones; this is a
//! development tool, not something to point at real records.
//!
//! ```text
//! cargo run --release --example accuracy -- [--persons 20000] [--seed 7] [--csv OUT.csv]
//! ```
//!
//! `--csv` also writes the records, with the truth in the last column (`person_id`).
//!
//! After the pairwise figures it replays memory's decisions against the truth, record by
//! record, and breaks the errors down: which decision went wrong (a link to another
//! person, a merge of two persons, a returning person not linked), what recognition saw
//! (the shapes of its candidates, and how far the right one was from the threshold), and
//! which of the generator's scenarios (the record's quirks: a nickname, a move, a new
//! e-mail, …) the record came from. Environment variables print more:
//!
//! - `ACCURACY_SHAPES=<text>`: examples of the errors whose shape contains the text, with
//!   every candidate's evidence (`ACCURACY_SHAPES="review: own top"`, `="wrong:"`);
//! - `ACCURACY_MIXED=1`: the records of the patrons mixing the most persons, each with the
//!   decision that put it there;
//! - `ACCURACY_TRAIN=1`: what training on the final memory estimates (see `Memory::train`);
//!   `ACCURACY_TRAIN=<file.json>` also writes the trained model there;
//! - `ACCURACY_FRAGMENTS=1`: the missed fragments by what their first record shares with
//!   the nearest record of the person's main patron (an identifier, the given name exactly
//!   or as an initial, the family name, the postcode), with examples;
//! - `ACCURACY_MODEL=<file.json>`: recognizes with this person model (a serialized
//!   `PersonModel`, e.g. one a training run wrote) instead of the built-in weights.

#[path = "support/population.rs"]
#[allow(dead_code)]
mod population;

use std::collections::BTreeMap;
use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use regulars::PatronId;
use regulars::normalize;

use population::{
    CSV_HEADER, Channel, IdentifierKind, Pairwise, Population, Quirk, Record, Relation, Stream,
};

/// Prints a line of the report; when whoever reads it has gone (`| head`), stops quietly
/// instead of panicking as `println!` does.
macro_rules! say {
    () => { say!("") };
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    };
}

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// How many examples of each kind of error to print.
const EXAMPLES: usize = 10;

struct Options {
    persons: usize,
    seed: u64,
    csv: Option<PathBuf>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        persons: 20_000,
        seed: 7,
        csv: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--persons" => options.persons = value()?.parse()?,
            "--seed" => options.seed = value()?.parse()?,
            "--csv" => options.csv = Some(value()?.into()),
            _ => {
                let usage = "usage: accuracy [--persons N] [--seed S] [--csv OUT.csv]";
                return Err(format!("unknown argument {flag}\n{usage}").into());
            }
        }
    }
    Ok(options)
}

fn main() -> Result<()> {
    let options = options()?;
    let started = Instant::now();
    let population = Population::generate(options.persons, options.seed);
    let generating = started.elapsed();
    if let Some(path) = &options.csv {
        write_csv(path, &population.records)?;
    }

    let mut memory = memory()?;
    let stream = population::stream(&mut memory, &population.records);
    let patrons = population::current_patrons(&memory, &stream.assigned);
    let pairs = Pairwise::count(&population.truth(), &patrons);

    let title = format!(
        "regulars accuracy: {} persons, seed {}",
        options.persons, options.seed
    );
    say!("{title}\n{}\n", "=".repeat(title.len()));
    print_population(&population, generating.as_secs_f64());
    print_results(&stream, &pairs, memory.patron_count());

    let analysis = Analysis::new(&population, &patrons);
    print_false_merges(&population, &analysis);
    print_missed_links(&population, &analysis);
    print_decisions_by_scenario(&population, &stream);
    if std::env::var_os("ACCURACY_TRAIN").is_some() {
        let training = memory.train(&regulars::TrainingOptions::default());
        say!("\n{}", training.explain());
        if let Some(path) = std::env::var_os("ACCURACY_TRAIN").filter(|p| p != "1") {
            std::fs::write(&path, serde_json::to_string_pretty(training.model())?)?;
        }
    }
    if std::env::var_os("ACCURACY_MIXED").is_some() {
        for &(patron, _, _) in analysis.mixed_patrons.iter().take(8) {
            say!("\nmixed patron {patron}");
            for (i, record) in population.records.iter().enumerate() {
                if patrons[i] == Some(patron) {
                    print!("  {:<7}{:?} ", stream.decided[i], stream.assigned[i]);
                    print_record(record);
                    if let Some((id, evidence)) = stream.scored[i].first() {
                        say!("           -> {id} {}", weighed(evidence));
                    }
                }
            }
        }
    }
    if let Some(path) = &options.csv {
        say!("\nrecords written to {}", path.display());
    }
    Ok(())
}

/// The memory the records stream into: the population's, or one recognizing with the
/// person model `ACCURACY_MODEL` names.
fn memory() -> Result<regulars::Memory> {
    let Some(path) = std::env::var_os("ACCURACY_MODEL") else {
        return Ok(population::memory()?);
    };
    let model: regulars::PersonModel = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    say!("person model from {}", Path::new(&path).display());
    Ok(regulars::Memory::builder()
        .default_country(normalize::Country::GB)
        .clock(regulars::ManualClock::new(population::window_end()))
        .without_default_strategies()
        .strategy(regulars::PersonMatcher::with_model(model))
        .build()?)
}

// ================================================================ figures

fn print_population(population: &Population, generating_secs: f64) {
    let records = &population.records;
    let (persons, households) = (population.persons.len(), population.households.len());
    let mut per_person = vec![0usize; persons];
    for record in records {
        per_person[record.person_id] += 1;
    }
    let returning = per_person.iter().filter(|&&n| n > 1).count();
    let most = per_person.iter().max().copied().unwrap_or(0);
    let namesakes = population.same_name_pairs();
    let (n, per) = (records.len(), ratio(records.len(), persons));
    let ms = generating_secs * 1e3;
    let share = |n: usize| percent(ratio(n, records.len()));
    let channel = |c: Channel| share(records.iter().filter(|r| r.channel == c).count());
    let (web, guest) = (channel(Channel::Web), channel(Channel::Guest));
    let counter = channel(Channel::BoxOffice);
    let born = share(records.iter().filter(|r| r.birth_date.is_some()).count());

    say!("Population");
    say!("  persons     {persons} in {households} households, {returning} order again");
    say!("  orders      at most {most} per person");
    say!("  namesakes   {namesakes} pairs of different persons share a full name");
    say!("  records     {n} ({per:.2} per person), generated in {ms:.0} ms");
    say!("  channels    web {web}, guest {guest}, box office {counter}; birth date on {born}");
}

fn print_results(stream: &Stream, pairs: &Pairwise, patrons: usize) {
    let decision = |name| stream.decisions.get(name).copied().unwrap_or(0);
    let (known, review, new) = (decision("known"), decision("review"), decision("new"));
    let rejected = stream.rejected.len();
    let (precision, recall, f1) = (pairs.precision(), pairs.recall(), pairs.f1());
    let (predicted, truth, both) = (pairs.predicted, pairs.truth, pairs.correct);
    let (wrong, wrong_share) = (pairs.false_merges(), percent(pairs.false_merge_share()));
    let (missed, missed_share) = (pairs.missed(), percent(1.0 - recall));
    let observed = stream.assigned.len() - rejected;
    let secs = stream.observing.as_secs_f64();
    let (ms, rate) = (secs * 1e3, observed as f64 / secs.max(1e-9) / 1e3);
    let micros = secs * 1e6 / observed.max(1) as f64;

    say!("\nWhat memory made of it");
    let knobs = population::tuning();
    if !knobs.is_empty() {
        say!("  TUNED       {knobs:?}: not the shipped settings");
    }
    say!("  decisions   known {known}, review {review}, new {new} -> {patrons} patrons");
    say!("  rejected    {rejected} records (an input the normalizers refused)");
    print_rejections(stream);
    say!("  precision   {precision:.4}");
    say!("  recall      {recall:.4}");
    say!("  F1          {f1:.4}");
    say!("  pairs       {predicted} predicted, {truth} true, {both} both");
    say!("  false merge {wrong} pairs ({wrong_share} of predicted pairs)");
    say!("  missed      {missed} pairs ({missed_share} of true pairs)");
    say!(
        "  speed       {observed} records in {ms:.0} ms: {rate:.0}k records/s, {micros:.2} µs/record"
    );
}

/// Rejections grouped by what was wrong (the message without its event id).
fn print_rejections(stream: &Stream) {
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (_, error) in &stream.rejected {
        let message = error.to_string();
        let reason = message
            .split_once(": ")
            .map_or(message.as_str(), |(_, r)| r);
        *reasons.entry(reason.to_owned()).or_default() += 1;
    }
    for (reason, n) in reasons {
        say!("              {n} × {reason}");
    }
}

// ================================================================ errors, explained

/// A pair of different persons memory made one patron.
struct FalseMerge {
    relation: Relation,
    /// What the most alike pair of their records has in common.
    link: Link,
    /// That pair.
    records: (usize, usize),
    record_pairs: usize,
}

/// What two records have in common, the most telling first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Link {
    Identifier(IdentifierKind),
    NameAndPostcode,
    Name,
    FamilyNameAndPostcode,
    Postcode,
    /// Nothing: other records linked them.
    Nothing,
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Link::Identifier(kind) => write!(f, "shared {kind}"),
            Link::NameAndPostcode => f.write_str("same name and postcode"),
            Link::Name => f.write_str("same name"),
            Link::FamilyNameAndPostcode => f.write_str("same family name and postcode"),
            Link::Postcode => f.write_str("same postcode"),
            Link::Nothing => f.write_str("nothing in common (linked through others)"),
        }
    }
}

/// A record's comparable parts, normalized as memory normalizes them.
struct Keys {
    identifiers: Vec<(IdentifierKind, String)>,
    given: Option<String>,
    family: Option<String>,
    postcode: Option<String>,
}

impl Keys {
    fn of(record: &Record) -> Self {
        let name = |n: &Option<String>| n.as_deref().and_then(|n| normalize::name(n).ok());
        let postcode = record.postcode.as_deref();
        Keys {
            identifiers: record.identifiers(),
            given: name(&record.given_name),
            family: name(&record.family_name),
            postcode: postcode.and_then(|p| normalize::postcode(p, None).ok()),
        }
    }

    /// What two records have in common, spelled out field by field, with a rank (lower
    /// shares more): an identifier, the given name (exactly, or one's initial fitting the
    /// other), the family name, the postcode.
    fn shared(&self, other: &Keys) -> (u8, String) {
        let identifier = self
            .identifiers
            .iter()
            .filter(|id| other.identifiers.contains(id))
            .map(|(kind, _)| *kind)
            .min();
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        let initial = match (&self.given, &other.given) {
            (Some(a), Some(b)) => {
                let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
                short.len() == 1 && long.starts_with(short.as_str())
            }
            _ => false,
        };
        let mut parts = Vec::new();
        let mut rank = 0;
        if let Some(kind) = identifier {
            parts.push(format!("{kind}"));
        } else {
            rank += 8;
        }
        if same(&self.given, &other.given) {
            parts.push("given name".to_string());
        } else if initial {
            parts.push("initial".to_string());
            rank += 1;
        } else {
            rank += 2;
        }
        if same(&self.family, &other.family) {
            parts.push("family name".to_string());
        } else {
            rank += 2;
        }
        if same(&self.postcode, &other.postcode) {
            parts.push("postcode".to_string());
        } else {
            rank += 1;
        }
        let what = if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(" + ")
        };
        (rank, what)
    }

    fn link(&self, other: &Keys) -> Link {
        let shared = self
            .identifiers
            .iter()
            .filter(|id| other.identifiers.contains(id));
        if let Some((kind, _)) = shared.min() {
            return Link::Identifier(*kind);
        }
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        let given = same(&self.given, &other.given);
        let family = same(&self.family, &other.family);
        let postcode = same(&self.postcode, &other.postcode);
        match (given && family, family, postcode) {
            (true, _, true) => Link::NameAndPostcode,
            (true, _, false) => Link::Name,
            (false, true, true) => Link::FamilyNameAndPostcode,
            (false, _, true) => Link::Postcode,
            _ => Link::Nothing,
        }
    }
}

/// Why a person's records ended up in more than one patron.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MissCause {
    /// The record carried no identifier of the person's own (name and postcode only, or a
    /// placeholder): nothing exact to find them by.
    NoPersonalIdentifier,
    /// Its identifiers are all different from those of the person's main patron (a new
    /// e-mail, another phone, a typo).
    NothingInCommon,
    /// It shares an identifier with the main patron, but the evidence said no (the
    /// differences listed), or another candidate competed.
    SharedButRefused(String),
}

impl MissCause {
    fn label(&self) -> String {
        match self {
            MissCause::NoPersonalIdentifier => "no personal identifier in the record".into(),
            MissCause::NothingInCommon => "no identifier in common with the main patron".into(),
            MissCause::SharedButRefused(why) => format!("identifier shared, not linked: {why}"),
        }
    }
}

/// One fragment: records of one person in a patron that is not their main one.
struct Fragment {
    cause: MissCause,
    /// What its first record shares with the main patron's most alike record, and that
    /// record (see [`Keys::shared`]).
    shared: (String, usize),
    /// A record of the main patron that shows the cause best, and the fragment's first.
    records: (usize, usize),
    size: usize,
}

/// The errors, found by grouping records by final patron and by person.
struct Analysis {
    false_merges: Vec<FalseMerge>,
    fragments: Vec<Fragment>,
    /// Patrons holding records of more than one person: (patron, records, persons), the
    /// most mixed first.
    mixed_patrons: Vec<(PatronId, usize, usize)>,
}

/// Record indexes by person, for each patron.
type PersonsByPatron = BTreeMap<PatronId, BTreeMap<usize, Vec<usize>>>;

impl Analysis {
    fn new(population: &Population, patrons: &[Option<PatronId>]) -> Self {
        let keys: Vec<Keys> = population.records.iter().map(Keys::of).collect();
        let mut by_patron = PersonsByPatron::new();
        let mut by_person: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, record) in population.records.iter().enumerate() {
            by_person.entry(record.person_id).or_default().push(i);
            if let Some(patron) = patrons[i] {
                let persons = by_patron.entry(patron).or_default();
                persons.entry(record.person_id).or_default().push(i);
            }
        }
        let fragments = by_person
            .values()
            .flat_map(|records| fragments_of(population, &keys, patrons, records))
            .collect();
        Analysis {
            false_merges: false_merges(population, &keys, &by_patron),
            fragments,
            mixed_patrons: mixed_patrons(&by_patron),
        }
    }
}

/// Every pair of persons sharing a patron.
fn false_merges(
    population: &Population,
    keys: &[Keys],
    by_patron: &PersonsByPatron,
) -> Vec<FalseMerge> {
    let mut merges = Vec::new();
    for persons in by_patron.values() {
        let persons: Vec<(&usize, &Vec<usize>)> = persons.iter().collect();
        for (k, &(&p, p_records)) in persons.iter().enumerate() {
            for &(&q, q_records) in &persons[k + 1..] {
                let (link, records) = most_alike(keys, p_records, q_records);
                merges.push(FalseMerge {
                    relation: population.relation(p, q),
                    link,
                    records,
                    record_pairs: p_records.len() * q_records.len(),
                });
            }
        }
    }
    merges
}

fn mixed_patrons(by_patron: &PersonsByPatron) -> Vec<(PatronId, usize, usize)> {
    let mut mixed: Vec<(PatronId, usize, usize)> = by_patron
        .iter()
        .filter(|(_, persons)| persons.len() > 1)
        .map(|(&patron, persons)| (patron, persons.values().map(Vec::len).sum(), persons.len()))
        .collect();
    mixed.sort_by_key(|&(patron, records, persons)| {
        (usize::MAX - persons, usize::MAX - records, patron)
    });
    mixed
}

/// Of two persons' records, the pair with the most telling thing in common (the earliest
/// such pair).
fn most_alike(keys: &[Keys], a: &[usize], b: &[usize]) -> (Link, (usize, usize)) {
    let mut best = (Link::Nothing, (a[0], b[0]));
    for &i in a {
        for &j in b {
            let link = keys[i].link(&keys[j]);
            if link < best.0 {
                best = (link, (i, j));
            }
        }
    }
    best
}

/// A person's records outside their main patron (the one holding most of their records,
/// the earliest on a tie), one fragment per other patron; a rejected record is a fragment
/// of its own.
fn fragments_of(
    population: &Population,
    keys: &[Keys],
    patrons: &[Option<PatronId>],
    records: &[usize],
) -> Vec<Fragment> {
    let groups = by_patron(records, patrons);
    let largest = |&g: &usize| (groups[g].len(), usize::MAX - g);
    let Some(main) = (0..groups.len()).max_by_key(largest) else {
        return Vec::new();
    };
    let mut fragments = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        if g != main {
            let (cause, shown) = miss_cause(population, keys, &groups[main], group[0]);
            let shared = groups[main]
                .iter()
                .map(|&j| (keys[group[0]].shared(&keys[j]), j))
                .min()
                .map(|((_, what), j)| (what, j))
                .unwrap_or_default();
            fragments.push(Fragment {
                cause,
                shared,
                records: (shown, group[0]),
                size: group.len(),
            });
        }
    }
    fragments
}

/// Records grouped by patron, in order of first appearance; each rejected record alone.
fn by_patron(records: &[usize], patrons: &[Option<PatronId>]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Option<PatronId>, Vec<usize>)> = Vec::new();
    for &i in records {
        let same = |(p, _): &&mut (Option<PatronId>, Vec<usize>)| p.is_some() && *p == patrons[i];
        match groups.iter_mut().find(same) {
            Some((_, group)) => group.push(i),
            None => groups.push((patrons[i], vec![i])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// Why record `first` was not linked to the `main` patron, and the main patron's record
/// that shows it best (one sharing an identifier, else the one nearest in time).
fn miss_cause(
    population: &Population,
    keys: &[Keys],
    main: &[usize],
    first: usize,
) -> (MissCause, usize) {
    let personal = |i: usize| keys[i].identifiers.iter().filter(|(k, _)| k.is_personal());
    let shares = |j: usize| personal(first).any(|id| personal(j).any(|other| other == id));
    let nearest = main
        .iter()
        .copied()
        .min_by_key(|&j| j.abs_diff(first))
        .unwrap_or(first);
    match (
        personal(first).next(),
        main.iter().copied().find(|&j| shares(j)),
    ) {
        (None, _) => (MissCause::NoPersonalIdentifier, nearest),
        (Some(_), None) => (MissCause::NothingInCommon, nearest),
        (Some(_), Some(j)) => {
            let why = differences(&population.records[first], &population.records[j]);
            (MissCause::SharedButRefused(why), j)
        }
    }
}

/// What differs between two records of one person that share an identifier, as the
/// recognizer compares them: folded names, birth dates.
fn differences(a: &Record, b: &Record) -> String {
    let key = |name: &Option<String>| name.as_deref().and_then(|n| normalize::name(n).ok());
    let differ = |x: Option<String>, y: Option<String>| x.is_some() && y.is_some() && x != y;
    let mut what = Vec::new();
    if differ(key(&a.given_name), key(&b.given_name)) {
        what.push("given name");
    }
    if differ(key(&a.family_name), key(&b.family_name)) {
        what.push("family name");
    }
    if let (Some(x), Some(y)) = (a.birth_date, b.birth_date)
        && x != y
    {
        what.push("birth date");
    }
    match what.len() {
        0 => "names agree (another candidate competed)".into(),
        1 => format!("{} differs", what[0]),
        _ => format!("{} differ", what.join(" and ")),
    }
}

/// How many errors of one kind, how many records they involve, and which they are.
#[derive(Default)]
struct Tally {
    count: usize,
    records: usize,
    items: Vec<usize>,
}

/// Tallies items by kind, the kinds involving the most records first.
fn tally<K: Ord>(items: impl Iterator<Item = (K, usize)>) -> Vec<(K, Tally)> {
    let mut kinds: BTreeMap<K, Tally> = BTreeMap::new();
    for (i, (kind, records)) in items.enumerate() {
        let tally = kinds.entry(kind).or_default();
        tally.count += 1;
        tally.records += records;
        tally.items.push(i);
    }
    let mut kinds: Vec<(K, Tally)> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.records.cmp(&a.1.records).then(a.0.cmp(&b.0)));
    kinds
}

fn print_false_merges(population: &Population, analysis: &Analysis) {
    let merges = &analysis.false_merges;
    let kinds = tally(
        merges
            .iter()
            .map(|m| ((m.relation, m.link), m.record_pairs)),
    );
    say!(
        "\nFalse merges: {} pairs of persons made one patron",
        merges.len()
    );
    say!("  persons  record pairs  relation · most alike records");
    for ((relation, link), tally) in &kinds {
        let (n, records) = (tally.count, tally.records);
        say!("  {n:>7} {records:>13}  {relation} · {link}");
    }
    print_largest_mixed_patrons(analysis);
    let groups: Vec<&[usize]> = kinds.iter().map(|(_, t)| t.items.as_slice()).collect();
    let examples = round_robin(&groups, EXAMPLES);
    if !examples.is_empty() {
        say!("\nExamples of false merges");
    }
    for m in examples {
        let merge = &merges[m];
        say!("  {} · {}", merge.relation, merge.link);
        print_record(&population.records[merge.records.0]);
        print_record(&population.records[merge.records.1]);
    }
}

fn print_missed_links(population: &Population, analysis: &Analysis) {
    let fragments = &analysis.fragments;
    let causes = tally(fragments.iter().map(|f| (f.cause.clone(), f.size)));
    let extra = fragments.len();
    say!("\nMissed links: {extra} extra patrons (a person's records outside their main one)");
    say!("  fragments  records  why the first record was not linked");
    for (cause, tally) in &causes {
        let (n, records, label) = (tally.count, tally.records, cause.label());
        say!("  {n:>9} {records:>8}  {label}");
    }
    let groups: Vec<&[usize]> = causes.iter().map(|(_, t)| t.items.as_slice()).collect();
    let examples = round_robin(&groups, EXAMPLES);
    if !examples.is_empty() {
        say!("\nExamples of missed links (a main-patron record, then the one not linked)");
    }
    for f in examples {
        let fragment = &fragments[f];
        say!("  {}", fragment.cause.label());
        print_record(&population.records[fragment.records.0]);
        print_record(&population.records[fragment.records.1]);
    }
    if std::env::var_os("ACCURACY_FRAGMENTS").is_none() {
        return;
    }
    let shared = tally(fragments.iter().map(|f| (f.shared.0.clone(), f.size)));
    say!("\nMissed fragments by what their first record shares with the main patron");
    say!("  fragments  records  shared");
    for (what, tally) in &shared {
        say!("  {:>9} {:>8}  {what}", tally.count, tally.records);
    }
    let groups: Vec<&[usize]> = shared.iter().map(|(_, t)| t.items.as_slice()).collect();
    for f in round_robin(&groups, EXAMPLES) {
        let fragment = &fragments[f];
        say!("  shares {}", fragment.shared.0);
        print_record(&population.records[fragment.shared.1]);
        print_record(&population.records[fragment.records.1]);
    }
}

/// The patrons mixing the most persons: one chain of links can make a crowd of one.
fn print_largest_mixed_patrons(analysis: &Analysis) {
    let mixed = &analysis.mixed_patrons;
    let persons: usize = mixed.iter().map(|m| m.2).sum();
    let largest = mixed.iter().take(5);
    let largest: Vec<String> = largest
        .map(|(patron, records, persons)| format!("{patron} {records} records of {persons}"))
        .collect();
    let (n, largest) = (mixed.len(), largest.join(", "));
    say!("  {n} patrons hold records of {persons} different persons; largest: {largest}");
}

/// Up to `n` items, taking the first of each group in turn, so that every kind shows.
fn round_robin(groups: &[&[usize]], n: usize) -> Vec<usize> {
    let mut picked = Vec::new();
    for depth in 0.. {
        let row: Vec<usize> = groups
            .iter()
            .filter_map(|g| g.get(depth).copied())
            .collect();
        if row.is_empty() {
            break;
        }
        for item in row {
            if picked.len() == n {
                return picked;
            }
            picked.push(item);
        }
    }
    picked
}

/// One record on one line, fields as typed (quoted where spacing or case matter).
/// The total weight, then every comparison that moved it: `12.3: Email:exact +9.1, …`.
fn weighed(evidence: &regulars::Evidence) -> String {
    let items: Vec<String> = evidence
        .items()
        .iter()
        .filter(|e| e.weight() != 0.0)
        .map(|e| format!("{:?}:{} {:+.1}", e.field(), e.detail(), e.weight()))
        .collect();
    format!("{:.1}: {}", evidence.weight(), items.join(", "))
}

fn print_record(record: &Record) {
    let mut fields = vec![format!(
        "{:?} {:?}",
        record.given_name.as_deref().unwrap_or(""),
        record.family_name.as_deref().unwrap_or("")
    )];
    fields.extend(record.email.as_ref().map(|e| format!("{e:?}")));
    fields.extend(record.phone.clone());
    let address = [
        &record.address,
        &record.postcode,
        &record.city,
        &record.country,
    ];
    let address: Vec<&str> = address.iter().filter_map(|f| f.as_deref()).collect();
    if !address.is_empty() {
        fields.push(address.join(", "));
    }
    fields.extend(record.birth_date.map(|d| format!("b. {d}")));
    fields.extend(record.card_token.clone());
    fields.extend(record.loyalty_id.clone());
    let (id, date) = (&record.record_id, record.ts.format("%Y-%m-%d"));
    say!(
        "    {id} {date} {:<10} {} [person {}]",
        record.channel.to_string(),
        fields.join(" · "),
        record.person_id
    );
}

fn percent(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

fn ratio(a: usize, b: usize) -> f64 {
    a as f64 / b.max(1) as f64
}

// ================================================================ decisions, by scenario

/// What went wrong when one record arrived, judged against the truth at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum WrongStep {
    /// Linked (`Known`) to a patron holding none of this person's records, though this
    /// person was known already under another patron.
    LinkedToAnotherPersonAndMissed(Relation),
    /// Linked (`Known`) to a patron holding none of this person's records (a first record).
    LinkedToAnotherPerson(Relation),
    /// Merged patrons holding different persons' records.
    MergedDifferentPersons(Relation),
    /// Not linked ("review" or "new") though the person was known already.
    Missed(&'static str),
}

impl std::fmt::Display for WrongStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WrongStep::LinkedToAnotherPersonAndMissed(r) => {
                write!(f, "known to another person ({r}), own patron missed")
            }
            WrongStep::LinkedToAnotherPerson(r) => write!(f, "known to another person ({r})"),
            WrongStep::MergedDifferentPersons(r) => write!(f, "merged two persons ({r})"),
            WrongStep::Missed(decision) => write!(f, "missed: decided {decision}"),
        }
    }
}

/// Replays the stream's decisions against the truth, record by record: which decision
/// went wrong, for which scenario (the record's channel and quirks), and how many record
/// pairs it cost at that moment.
fn print_decisions_by_scenario(population: &Population, stream: &Stream) {
    let records = &population.records;
    // Union of patron ids as memory merged them; each cluster's records by person.
    let mut forward: BTreeMap<PatronId, PatronId> = BTreeMap::new();
    let mut persons: BTreeMap<PatronId, BTreeMap<usize, usize>> = BTreeMap::new();
    let mut seen_person: BTreeMap<usize, usize> = BTreeMap::new();
    fn live(forward: &BTreeMap<PatronId, PatronId>, mut id: PatronId) -> PatronId {
        while let Some(&next) = forward.get(&id) {
            id = next;
        }
        id
    }
    let mut steps: Vec<(WrongStep, usize, usize)> = Vec::new();
    // Each error with the shape of what recognition saw, and how far the best own (or
    // the wrongly linked) candidate was from the Known threshold of that moment.
    let mut shapes: Vec<(String, usize, usize, Option<f64>, String)> = Vec::new();
    let thresholds = regulars::Thresholds::default();
    let known_at =
        |i: usize| thresholds.known_at() + thresholds.raise_for(stream.patrons_before[i]);
    for (i, record) in records.iter().enumerate() {
        let Some(patron) = stream.assigned[i] else {
            continue;
        };
        let decision = stream.decided[i];
        let person = record.person_id;
        let patron = live(&forward, patron);
        for &d in &stream.merged[i] {
            let d = live(&forward, d);
            if d == patron {
                continue;
            }
            let absorbed = persons.remove(&d).unwrap_or_default();
            let into = persons.entry(patron).or_default();
            let mut cost = 0;
            let mut relation = None;
            for (&p, &n) in &absorbed {
                for (&q, &m) in into.iter() {
                    if p != q {
                        cost += n * m;
                        relation.get_or_insert(population.relation(p, q));
                    }
                }
            }
            if let Some(relation) = relation {
                steps.push((WrongStep::MergedDifferentPersons(relation), i, cost));
            }
            for (p, n) in absorbed {
                *into.entry(p).or_default() += n;
            }
            forward.insert(d, patron);
        }
        let earlier = seen_person.get(&person).copied().unwrap_or(0);
        let cluster = persons.entry(patron).or_default().clone();
        let own_here = cluster.get(&person).copied().unwrap_or(0);
        let others: usize = cluster
            .iter()
            .filter(|(p, _)| **p != person)
            .map(|(_, n)| n)
            .sum();
        if decision == "known" && own_here == 0 && others > 0 {
            let main = cluster
                .iter()
                .filter(|(p, _)| **p != person)
                .max_by_key(|(_, n)| **n)
                .map(|(p, _)| *p)
                .unwrap_or(person);
            let relation = population.relation(person, main);
            let step = match earlier {
                0 => WrongStep::LinkedToAnotherPerson(relation),
                _ => WrongStep::LinkedToAnotherPersonAndMissed(relation),
            };
            steps.push((step, i, others + earlier));
            let linked = stream.scored[i].first().map(|(_, e)| e);
            let gap = linked.map(|e| e.weight() - known_at(i));
            let signature = linked.map_or_else(String::new, signature);
            shapes.push((
                format!("wrong: {step}"),
                i,
                others + earlier,
                gap,
                signature,
            ));
        } else if earlier > own_here {
            steps.push((WrongStep::Missed(decision), i, earlier - own_here));
            let owner = |id: PatronId| {
                let live = live(&forward, id);
                persons.get(&live).is_some_and(|c| c.contains_key(&person))
            };
            let scored = &stream.scored[i];
            let own: Vec<bool> = scored.iter().map(|(id, _)| owner(*id)).collect();
            let shape = match (decision, own.first(), own.get(1)) {
                ("known", _, Some(true)) => "known to one fragment, runner-up another own",
                ("known", _, _) => "known to one fragment, runner-up not own",
                (d, Some(true), Some(true)) => {
                    if d == "review" {
                        "review: own fragments competed"
                    } else {
                        "new: own fragments"
                    }
                }
                ("review", Some(true), Some(false)) => "review: own top, another person second",
                ("review", Some(true), None) => "review: own top, alone",
                ("review", Some(false), _) if own.contains(&true) => {
                    "review: another person top, own lower"
                }
                ("review", _, _) => "review: own not a candidate",
                ("new", Some(true), _) => "new: nearest own",
                ("new", Some(false), _) => "new: nearest another person",
                _ => "new: no candidate",
            };
            let own_evidence = scored
                .iter()
                .zip(&own)
                .find(|(_, o)| **o)
                .map(|((_, e), _)| e);
            let gap = own_evidence.map(|e| e.weight() - known_at(i));
            let signature = own_evidence.map_or_else(String::new, signature);
            shapes.push((shape.to_owned(), i, earlier - own_here, gap, signature));
        }
        *persons
            .entry(patron)
            .or_default()
            .entry(person)
            .or_default() += 1;
        *seen_person.entry(person).or_default() += 1;
    }

    say!("\nDecisions that went wrong, record by record (pairs: record pairs it cost then)");
    let mut by_step: BTreeMap<WrongStep, (usize, usize)> = BTreeMap::new();
    for &(step, _, cost) in &steps {
        let entry = by_step.entry(step).or_default();
        entry.0 += 1;
        entry.1 += cost;
    }
    let mut by_step: Vec<_> = by_step.into_iter().collect();
    by_step.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
    say!("  records    pairs  what");
    for (step, (n, cost)) in &by_step {
        say!("  {n:>7} {cost:>8}  {step}");
    }
    let mut by_shape: BTreeMap<&str, (usize, usize, Vec<usize>)> = BTreeMap::new();
    for (shape, _, cost, gap, _) in &shapes {
        let (cost, gap) = (*cost, *gap);
        let entry = by_shape.entry(shape).or_default();
        entry.0 += 1;
        entry.1 += cost;
        if let Some(gap) = gap {
            let bucket = (gap / 2.0).floor().clamp(-6.0, 5.0) as i64 + 6;
            entry.2.resize(12, 0);
            entry.2[bucket as usize] += 1;
        }
    }
    say!(
        "\n  misses and wrong links by what recognition saw (gap: best own candidate, or the linked one, minus the Known threshold, 2-bit buckets from -12)"
    );
    say!("  records    pairs  shape");
    for (shape, (n, cost, gaps)) in &by_shape {
        say!("  {n:>7} {cost:>8}  {shape}  {gaps:?}");
    }
    if std::env::var_os("ACCURACY_SIGNATURES").is_some() {
        print_signatures(&shapes);
    }
    if let Ok(wanted) = std::env::var("ACCURACY_SHAPES") {
        for (shape, i, _, gap, _) in shapes
            .iter()
            .filter(|s| s.0.contains(wanted.as_str()))
            .take(25)
        {
            let i = *i;
            say!("\n  {shape} (gap {gap:?})");
            print_record(&records[i]);
            for (id, evidence) in &stream.scored[i] {
                say!("      {id} {}", weighed(evidence));
                let first = (0..i).find(|&j| {
                    stream.assigned[j].is_some_and(|a| live(&forward, a) == live(&forward, *id))
                });
                if let Some(j) = first {
                    print_record(&records[j]);
                }
            }
        }
    }
    for (title, wrong_link) in [("wrong links and merges", true), ("misses", false)] {
        let mut by_scenario: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for &(step, i, cost) in &steps {
            if matches!(step, WrongStep::Missed(_)) == wrong_link {
                continue;
            }
            let record = &records[i];
            let mut labels: Vec<String> = record.quirks.iter().map(Quirk::to_string).collect();
            labels.sort();
            labels.dedup();
            if labels.is_empty() {
                labels.push("(no quirk)".into());
            }
            labels.push(format!("channel {}", record.channel));
            for label in labels {
                let entry = by_scenario.entry(label).or_default();
                entry.0 += 1;
                entry.1 += cost;
            }
        }
        let mut by_scenario: Vec<_> = by_scenario.into_iter().collect();
        by_scenario.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
        say!("\n  {title}, by the record's scenario (a record counts under each of its quirks)");
        say!("  records    pairs  scenario");
        for (label, (n, cost)) in by_scenario {
            say!("  {n:>7} {cost:>8}  {label}");
        }
    }
}

/// The evidence's levels, field by field, in a fixed order: what kind of match it was,
/// whatever the exact weights.
fn signature(evidence: &regulars::Evidence) -> String {
    let mut items: Vec<String> = evidence
        .items()
        .iter()
        .map(|i| format!("{:?}:{}", i.field(), i.detail()))
        .collect();
    items.sort();
    items.join(" ")
}

/// The misses and wrong links tallied by the evidence signature of the own (or the wrongly
/// linked) candidate and by the shape of the decision: which kinds of evidence are left
/// below the thresholds, and which link the wrong person.
fn print_signatures(shapes: &[(String, usize, usize, Option<f64>, String)]) {
    let mut tally: BTreeMap<(&str, &str), (usize, usize, f64)> = BTreeMap::new();
    for (shape, _, cost, gap, signature) in shapes {
        let kind = if shape.starts_with("wrong") {
            "wrong"
        } else if shape.starts_with("known") {
            "known to a fragment"
        } else {
            shape.split(':').next().unwrap_or("")
        };
        let entry = tally.entry((kind, signature)).or_default();
        entry.0 += 1;
        entry.1 += cost;
        entry.2 += gap.unwrap_or(0.0);
    }
    let mut rows: Vec<_> = tally.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.1));
    say!("\n  errors by evidence signature (records, pairs, mean gap to Known)");
    for ((kind, signature), (n, cost, gap)) in rows.iter().take(60) {
        let mean = gap / *n as f64;
        say!("  {n:>7} {cost:>8} {mean:>6.1}  {kind:<20} {signature}");
    }
}

// ================================================================ CSV

/// The records as CSV, quoted by RFC 4180 (a field with a comma, quote, line break or
/// outer space is quoted, its quotes doubled). Written by hand so that the example builds
/// without the crate's optional `csv` feature.
fn write_csv(path: &Path, records: &[Record]) -> Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "{}", CSV_HEADER.join(","))?;
    for record in records {
        let row = record.csv_row();
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    out.flush()?;
    Ok(())
}

fn csv_field(field: &str) -> String {
    let needs_quotes =
        field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ');
    match needs_quotes {
        true => format!("\"{}\"", field.replace('"', "\"\"")),
        false => field.to_owned(),
    }
}
