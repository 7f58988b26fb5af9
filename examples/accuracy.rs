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

#[path = "support/population.rs"]
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
    CSV_HEADER, Channel, IdentifierKind, Pairwise, Population, Record, Relation, Stream,
};

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

    let mut memory = population::memory()?;
    let stream = population::stream(&mut memory, &population.records);
    let patrons = population::current_patrons(&memory, &stream.assigned);
    let pairs = Pairwise::count(&population.truth(), &patrons);

    let title = format!(
        "regulars accuracy: {} persons, seed {}",
        options.persons, options.seed
    );
    println!("{title}\n{}\n", "=".repeat(title.len()));
    print_population(&population, generating.as_secs_f64());
    print_results(&stream, &pairs, memory.patron_count());

    let analysis = Analysis::new(&population, &patrons);
    print_false_merges(&population, &analysis);
    print_missed_links(&population, &analysis);
    if let Some(path) = &options.csv {
        println!("\nrecords written to {}", path.display());
    }
    Ok(())
}

// ================================================================ figures

fn print_population(population: &Population, generating_secs: f64) {
    let records = &population.records;
    let persons = population.persons.len();
    let share = |n: usize| percent(n as f64 / records.len().max(1) as f64);
    let by_channel = |c: Channel| records.iter().filter(|r| r.channel == c).count();
    let with_birth_date = records.iter().filter(|r| r.birth_date.is_some()).count();
    let mut per_person = vec![0usize; persons];
    for record in records {
        per_person[record.person_id] += 1;
    }
    let returning = per_person.iter().filter(|&&n| n > 1).count();
    let most = per_person.iter().max().copied().unwrap_or(0);

    println!("Population");
    print!("  persons     {persons} in {} households,", population.households.len());
    println!(" {returning} with more than one order (most: {most})");
    print!("  records     {} ({:.2} per person),", records.len(), ratio(records.len(), persons));
    println!(" generated in {:.0} ms", generating_secs * 1e3);
    print!("  channels    web {}, guest {},", share(by_channel(Channel::Web)), share(by_channel(Channel::Guest)));
    println!(" box office {}; birth date on {}", share(by_channel(Channel::BoxOffice)), share(with_birth_date));
}

fn print_results(stream: &Stream, pairs: &Pairwise, patrons: usize) {
    let decision = |name| stream.decisions.get(name).copied().unwrap_or(0);
    let observed = stream.assigned.len() - stream.rejected.len();
    let secs = stream.observing.as_secs_f64();
    println!("\nWhat memory made of it");
    print!("  decisions   known {}, review {}, new {}", decision("known"), decision("review"), decision("new"));
    println!(" -> {patrons} patrons");
    println!("  rejected    {} records (an input the normalizers refused)", stream.rejected.len());
    print_rejections(stream);
    println!("  precision   {:.4}", pairs.precision());
    println!("  recall      {:.4}", pairs.recall());
    println!("  F1          {:.4}", pairs.f1());
    print!("  pairs       {} predicted, {} true, {} both", pairs.predicted, pairs.truth, pairs.correct);
    println!();
    print!("  false merge {} pairs ({} of predicted pairs)", pairs.false_merges(), percent(pairs.false_merge_share()));
    println!();
    println!("  missed      {} pairs ({} of true pairs)", pairs.missed(), percent(1.0 - pairs.recall()));
    print!("  speed       {observed} records observed in {:.0} ms:", secs * 1e3);
    println!(" {:.0}k records/s, {:.2} µs/record", observed as f64 / secs.max(1e-9) / 1e3, secs * 1e6 / observed.max(1) as f64);
}

/// Rejections grouped by what was wrong (the message without its event id).
fn print_rejections(stream: &Stream) {
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (_, error) in &stream.rejected {
        let message = error.to_string();
        let reason = message.split_once(": ").map_or(message.as_str(), |(_, r)| r);
        *reasons.entry(reason.to_owned()).or_default() += 1;
    }
    for (reason, n) in reasons {
        println!("              {n} × {reason}");
    }
}

// ================================================================ errors, explained

/// A pair of different persons memory made one patron.
struct FalseMerge {
    relation: Relation,
    /// The identifier a record of each has in common, if any (else a chain linked them).
    shared: Option<IdentifierKind>,
    /// The two records that show it best.
    records: (usize, usize),
    record_pairs: usize,
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
    /// The fragment's first record, and the main patron's record closest to it.
    records: (usize, usize),
    size: usize,
}

/// The errors, found by grouping records by final patron and by person.
struct Analysis {
    false_merges: Vec<FalseMerge>,
    fragments: Vec<Fragment>,
}

impl Analysis {
    fn new(population: &Population, patrons: &[Option<PatronId>]) -> Self {
        let ids: Vec<Vec<(IdentifierKind, String)>> =
            population.records.iter().map(Record::identifiers).collect();
        let mut by_patron: BTreeMap<PatronId, BTreeMap<usize, Vec<usize>>> = BTreeMap::new();
        let mut by_person: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, record) in population.records.iter().enumerate() {
            by_person.entry(record.person_id).or_default().push(i);
            if let Some(patron) = patrons[i] {
                let persons = by_patron.entry(patron).or_default();
                persons.entry(record.person_id).or_default().push(i);
            }
        }
        let mut false_merges = Vec::new();
        for persons in by_patron.values() {
            let persons: Vec<(&usize, &Vec<usize>)> = persons.iter().collect();
            for (k, &(&p, p_records)) in persons.iter().enumerate() {
                for &(&q, q_records) in &persons[k + 1..] {
                    let (shared, records) = closest_pair(&ids, p_records, q_records);
                    false_merges.push(FalseMerge {
                        relation: population.relation(p, q),
                        shared,
                        records,
                        record_pairs: p_records.len() * q_records.len(),
                    });
                }
            }
        }
        let mut fragments = Vec::new();
        for records in by_person.values() {
            fragments.extend(fragments_of(population, &ids, patrons, records));
        }
        Analysis {
            false_merges,
            fragments,
        }
    }
}

/// Of two persons' records, a pair sharing an identifier (the most telling kind first), or
/// else their first records.
fn closest_pair(
    ids: &[Vec<(IdentifierKind, String)>],
    a: &[usize],
    b: &[usize],
) -> (Option<IdentifierKind>, (usize, usize)) {
    let mut best: Option<(IdentifierKind, (usize, usize))> = None;
    for &i in a {
        for &j in b {
            for (kind, value) in &ids[i] {
                let shared = ids[j].iter().any(|(k, v)| k == kind && v == value);
                if shared && best.as_ref().is_none_or(|(k, _)| kind < k) {
                    best = Some((*kind, (i, j)));
                }
            }
        }
    }
    match best {
        Some((kind, pair)) => (Some(kind), pair),
        None => (None, (a[0], b[0])),
    }
}

/// A person's records outside their main patron (the one holding most of their records,
/// the earliest on a tie), one fragment per other patron; a rejected record is a fragment
/// of its own.
fn fragments_of(
    population: &Population,
    ids: &[Vec<(IdentifierKind, String)>],
    patrons: &[Option<PatronId>],
    records: &[usize],
) -> Vec<Fragment> {
    let mut groups: Vec<(Option<PatronId>, Vec<usize>)> = Vec::new();
    for &i in records {
        match groups.iter_mut().find(|(p, _)| p.is_some() && *p == patrons[i]) {
            Some((_, group)) => group.push(i),
            None => groups.push((patrons[i], vec![i])),
        }
    }
    let Some(main) = (0..groups.len()).max_by_key(|&g| (groups[g].1.len(), usize::MAX - g)) else {
        return Vec::new();
    };
    let main_records = &groups[main].1;
    let mut fragments = Vec::new();
    for (g, (_, group)) in groups.iter().enumerate() {
        if g == main {
            continue;
        }
        let first = group[0];
        let personal = |i: usize| ids[i].iter().filter(|(k, _)| k.is_personal());
        let sharing = main_records.iter().copied().find(|&j| {
            personal(first).any(|(kind, value)| personal(j).any(|(k, v)| k == kind && v == value))
        });
        let nearest = *main_records
            .iter()
            .min_by_key(|&&j| j.abs_diff(first))
            .unwrap_or(&first);
        let (cause, partner) = match (personal(first).next(), sharing) {
            (None, _) => (MissCause::NoPersonalIdentifier, nearest),
            (Some(_), None) => (MissCause::NothingInCommon, nearest),
            (Some(_), Some(j)) => {
                let why = differences(&population.records[first], &population.records[j]);
                (MissCause::SharedButRefused(why), j)
            }
        };
        fragments.push(Fragment {
            cause,
            records: (partner, first),
            size: group.len(),
        });
    }
    fragments
}

/// What differs between two records of one person that share an identifier, as the
/// recognizer compares them: folded names, birth dates.
fn differences(a: &Record, b: &Record) -> String {
    let key = |name: &Option<String>| name.as_deref().and_then(|n| normalize::name(n).ok());
    let mut what = Vec::new();
    let (given_a, given_b) = (key(&a.given_name), key(&b.given_name));
    if given_a.is_some() && given_b.is_some() && given_a != given_b {
        what.push("given name");
    }
    let (family_a, family_b) = (key(&a.family_name), key(&b.family_name));
    if family_a.is_some() && family_b.is_some() && family_a != family_b {
        what.push("family name");
    }
    if let (Some(x), Some(y)) = (a.birth_date, b.birth_date) {
        if x != y {
            what.push("birth date");
        }
    }
    match what.is_empty() {
        true => "names agree (another candidate competed)".into(),
        false => format!("{} differ{}", what.join(" and "), if what.len() == 1 { "s" } else { "" }),
    }
}

fn print_false_merges(population: &Population, analysis: &Analysis) {
    let merges = &analysis.false_merges;
    let mut kinds: BTreeMap<(Relation, String), (usize, usize, Vec<usize>)> = BTreeMap::new();
    for (m, merge) in merges.iter().enumerate() {
        let via = merge.shared.map_or("no shared identifier (a chain)".into(), |k| format!("shared {k}"));
        let entry = kinds.entry((merge.relation, via)).or_default();
        entry.0 += 1;
        entry.1 += merge.record_pairs;
        entry.2.push(m);
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));

    println!("\nFalse merges: {} pairs of persons made one patron", merges.len());
    println!("  {:>7} {:>8}  {}", "persons", "records", "relation · how");
    for ((relation, via), (persons, records, _)) in &kinds {
        println!("  {persons:>7} {records:>8}  {relation} · {via}");
    }
    let groups: Vec<Vec<usize>> = kinds.iter().map(|(_, (_, _, m))| m.clone()).collect();
    let examples = round_robin(&groups, EXAMPLES);
    if !examples.is_empty() {
        println!("\nExamples of false merges");
    }
    for m in examples {
        let merge = &merges[m];
        let how = merge.shared.map_or("no shared identifier".into(), |k| format!("shared {k}"));
        println!("  {} · {how}", merge.relation);
        print_record(&population.records[merge.records.0]);
        print_record(&population.records[merge.records.1]);
    }
}

fn print_missed_links(population: &Population, analysis: &Analysis) {
    let fragments = &analysis.fragments;
    let mut causes: BTreeMap<MissCause, (usize, usize, Vec<usize>)> = BTreeMap::new();
    for (f, fragment) in fragments.iter().enumerate() {
        let entry = causes.entry(fragment.cause.clone()).or_default();
        entry.0 += 1;
        entry.1 += fragment.size;
        entry.2.push(f);
    }
    let mut causes: Vec<_> = causes.into_iter().collect();
    causes.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));

    print!("\nMissed links: {} extra patrons (a person's records", fragments.len());
    println!(" outside their main patron)");
    println!("  {:>9} {:>8}  {}", "fragments", "records", "why the first record was not linked");
    for (cause, (n, records, _)) in &causes {
        println!("  {n:>9} {records:>8}  {}", cause.label());
    }
    let groups: Vec<Vec<usize>> = causes.iter().map(|(_, (_, _, f))| f.clone()).collect();
    let examples = round_robin(&groups, EXAMPLES);
    if !examples.is_empty() {
        println!("\nExamples of missed links (a main-patron record, then the one not linked)");
    }
    for f in examples {
        let fragment = &fragments[f];
        println!("  {}", fragment.cause.label());
        print_record(&population.records[fragment.records.0]);
        print_record(&population.records[fragment.records.1]);
    }
}

/// Up to `n` items, taking the first of each group in turn, so that every kind shows.
fn round_robin(groups: &[Vec<usize>], n: usize) -> Vec<usize> {
    let mut picked = Vec::new();
    for depth in 0.. {
        let row: Vec<usize> = groups.iter().filter_map(|g| g.get(depth).copied()).collect();
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
fn print_record(record: &Record) {
    let mut fields = vec![format!(
        "{:?} {:?}",
        record.given_name.as_deref().unwrap_or(""),
        record.family_name.as_deref().unwrap_or("")
    )];
    fields.extend(record.email.as_ref().map(|e| format!("{e:?}")));
    fields.extend(record.phone.clone());
    let address = [&record.address, &record.postcode, &record.city, &record.country];
    let address: Vec<&str> = address.iter().filter_map(|f| f.as_deref()).collect();
    if !address.is_empty() {
        fields.push(address.join(", "));
    }
    fields.extend(record.birth_date.map(|d| format!("b. {d}")));
    fields.extend(record.card_token.clone());
    fields.extend(record.loyalty_id.clone());
    let (id, date) = (&record.record_id, record.ts.format("%Y-%m-%d"));
    println!("    {id} {date} {:<10} {} [person {}]", record.channel.to_string(), fields.join(" · "), record.person_id);
}

fn percent(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

fn ratio(a: usize, b: usize) -> f64 {
    a as f64 / b.max(1) as f64
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
    let needs_quotes = field.contains([',', '"', '\n', '\r'])
        || field.starts_with(' ')
        || field.ends_with(' ');
    match needs_quotes {
        true => format!("\"{}\"", field.replace('"', "\"\"")),
        false => field.to_owned(),
    }
}
