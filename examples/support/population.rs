//! A synthetic population of theatre patrons and the order records they leave behind, for
//! measuring how well streamed record linkage recognizes returning patrons.
//!
//! People live in households in ten towns of four countries (British, German, Dutch and
//! French postcodes and phone numbers), with names from seven naming cultures drawn with
//! realistic skew (a few very common names, a long tail). Over seven years each person
//! places 1 to 30 orders (2.7 on average), on the web, as a guest check-out or at a box
//! office, and every order is written a little differently: nicknames, initials, typos,
//! lost or added diacritics, capitals, swapped name fields, Gmail dot and `+tag` spellings,
//! phone numbers in every format and now and then a wrong digit, abbreviated streets. Lives
//! change: people move house, change e-mail provider, marry and take (or add) a name, get a
//! new card. And some different people look alike: spouses, parents and children, twins,
//! fathers and sons of the same name sharing one address, e-mail or landline; namesakes in
//! one town; the box office's placeholder e-mail and its own phone number typed on
//! strangers' sales. Every record keeps the id of the person who really placed it.
//!
//! Everything comes from one seed through SplitMix64 and arithmetic that is exact on every
//! platform (integers, and only `+ - * /` on floats: no `ln` or `powf`, whose last bits
//! differ between math libraries; no hash-map iteration), so a seed gives the same records
//! on every machine and every run.
//!
//! Include it by path, allowing dead code (each includer uses its own part):
//! `#[path = "support/population.rs"] #[allow(dead_code)] mod population;` from an example,
//! with `"../examples/support/population.rs"` from a test or bench. (The attribute is the
//! includer's, not an inner one here: both together trip clippy's duplicated-attributes.)
//!
//! All of it is invented. Phone numbers are random digits in valid-looking national ranges;
//! e-mail addresses are invented mailboxes at real providers, because the normalizers treat
//! Gmail, Outlook and others specially. None is ever contacted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use regulars::normalize::{self, Country};
use regulars::{Event, ManualClock, Memory, Order, PatronId, Signals};

// ================================================================ randomness

/// SplitMix64: tiny, and the same sequence on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        // Multiply-shift maps 64 random bits onto 0..n, without modulo bias worth the name.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u32, high: u32) -> u32 {
        low + self.below((high - low + 1) as usize) as u32
    }

    /// A float in `[0, 1)`, from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// One of the items, each as likely as its weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|&(_, weight)| weight).sum();
        let mut target = self.below(total as usize) as u32;
        for &(item, weight) in items {
            if target < weight {
                return item;
            }
            target -= weight;
        }
        items[items.len() - 1].0
    }

    /// An index into a list sorted most common first: rank `r` weighs `1 / (r + offset)`,
    /// Zipf's law with a flattened head (the larger the offset, the flatter).
    pub fn zipf(&mut self, len: usize, offset: f64) -> usize {
        let weight = |rank: usize| 1.0 / (rank as f64 + offset);
        let total: f64 = (0..len).map(weight).sum();
        let mut target = self.unit() * total;
        for rank in 0..len {
            if target < weight(rank) {
                return rank;
            }
            target -= weight(rank);
        }
        len - 1
    }

    /// `n` random decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// SplitMix64's output function: every input bit affects every output bit.
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable hash of a few numbers, for facts that must not depend on the order of draws
/// (the postcode of a street block is the same for everyone who lives there).
fn mix(values: &[u64]) -> u64 {
    values.iter().fold(0x243F_6A88_85A3_08D3, |h, &v| {
        finalize(h ^ v.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    })
}

// ================================================================ time

fn midnight(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, 0, 0, 0)
        .single()
        .expect("a valid date")
}

/// When the first orders may be placed.
pub fn window_start() -> DateTime<Utc> {
    midnight(2019, 1, 1)
}

/// When the last order has been placed (exclusive).
pub fn window_end() -> DateTime<Utc> {
    midnight(2026, 1, 1)
}

fn moment_in_window(rng: &mut Rng) -> DateTime<Utc> {
    let span = (window_end() - window_start()).num_seconds();
    window_start() + TimeDelta::seconds(rng.below(span as usize) as i64)
}

/// Something about a person that changes over time: their family name, e-mail, phone, card
/// or home, each value holding from its moment until the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline<T> {
    changes: Vec<(DateTime<Utc>, T)>,
}

impl<T> Timeline<T> {
    fn new(first: T) -> Self {
        Self {
            changes: vec![(DateTime::<Utc>::MIN_UTC, first)],
        }
    }

    /// From `at` on, the value is `value` (until a later change).
    fn change(&mut self, at: DateTime<Utc>, value: T) {
        let i = self.changes.partition_point(|(from, _)| *from <= at);
        self.changes.insert(i, (at, value));
    }

    fn index_at(&self, t: DateTime<Utc>) -> usize {
        self.changes
            .partition_point(|(from, _)| *from <= t)
            .saturating_sub(1)
    }

    /// The value at `t`.
    pub fn at(&self, t: DateTime<Utc>) -> &T {
        &self.changes[self.index_at(t)].1
    }

    /// The value before the one at `t`, if it changed by then: people keep using old
    /// e-mails and names for a while.
    pub fn before(&self, t: DateTime<Utc>) -> Option<&T> {
        let i = self.index_at(t).checked_sub(1)?;
        Some(&self.changes[i].1)
    }

    /// The first value.
    pub fn first(&self) -> &T {
        &self.changes[0].1
    }

    /// The last value.
    pub fn latest(&self) -> &T {
        &self.changes[self.changes.len() - 1].1
    }
}

// ================================================================ names

/// Where a person's names come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Culture {
    English,
    German,
    French,
    Dutch,
    Italian,
    Spanish,
    Scandinavian,
}

impl Culture {
    fn book(self) -> &'static NameBook {
        match self {
            Culture::English => &ENGLISH,
            Culture::German => &GERMAN,
            Culture::French => &FRENCH,
            Culture::Dutch => &DUTCH,
            Culture::Italian => &ITALIAN,
            Culture::Spanish => &SPANISH,
            Culture::Scandinavian => &SCANDINAVIAN,
        }
    }

    /// Whether one spouse usually takes the other's family name at marriage.
    fn takes_name_at_marriage(self) -> bool {
        !matches!(self, Culture::Italian | Culture::Spanish)
    }

    /// Whether a form without diacritics gets umlauts written out (`Mueller`, `Soeren`)
    /// rather than dropped (`Muller`).
    fn writes_out_umlauts(self) -> bool {
        matches!(self, Culture::German | Culture::Scandinavian)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
}

/// The names of one culture, most common first.
struct NameBook {
    female: &'static [&'static str],
    male: &'static [&'static str],
    family: &'static [&'static str],
    /// Rarer family names are built from a particle, an onset, a vowel, a coda and an
    /// ending ("" + "Br" + "o" + "ck" + "ley"): tens of thousands of them, as flat as the
    /// real long tail.
    rare_family: [&'static [&'static str]; 5],
}

/// The share of family names from the common list; the rest come from the long tail.
/// With it, two random people share a family name about as often as in Britain (more
/// often than in Germany): harder than reality, not easier.
const COMMON_FAMILY_SHARE: f64 = 0.25;
/// Zipf offsets: given names are concentrated (the top one 5-6 % in its culture), family
/// names less (the top one ~0.8 %, like Smith or Müller).
const GIVEN_ZIPF_OFFSET: f64 = 6.0;
const FAMILY_ZIPF_OFFSET: f64 = 20.0;

impl NameBook {
    fn given(&self, sex: Sex, rng: &mut Rng) -> &'static str {
        let names = match sex {
            Sex::Female => self.female,
            Sex::Male => self.male,
        };
        names[rng.zipf(names.len(), GIVEN_ZIPF_OFFSET)]
    }

    fn family(&self, rng: &mut Rng) -> String {
        if rng.chance(COMMON_FAMILY_SHARE) {
            return self.family[rng.zipf(self.family.len(), FAMILY_ZIPF_OFFSET)].to_owned();
        }
        self.rare_family
            .iter()
            .map(|parts| rng.pick(parts))
            .collect()
    }
}

#[rustfmt::skip]
static ENGLISH: NameBook = NameBook {
    female: &["Mary", "Sarah", "Elizabeth", "Susan", "Margaret", "Emma", "Catherine", "Helen",
        "Jennifer", "Anne", "Jane", "Claire", "Rachel", "Emily", "Rebecca", "Charlotte", "Lucy",
        "Jessica", "Hannah", "Sophie", "Laura", "Victoria", "Alice", "Olivia", "Amy", "Joanne",
        "Nicola", "Patricia", "Deborah", "Karen", "Julie", "Louise", "Grace", "Abigail",
        "Eleanor", "Katherine", "Caroline", "Fiona", "Gillian", "Hazel", "Isabel", "Jacqueline",
        "Janet", "Joan", "Kathleen", "Lisa", "Lorraine", "Lynn", "Michelle", "Natalie",
        "Pauline", "Ruth", "Sandra", "Tracey", "Wendy", "Zoe", "Ella", "Freya", "Holly",
        "Imogen", "Megan", "Ruby", "Chloe", "Beatrice", "Harriet"],
    male: &["John", "David", "Michael", "James", "Robert", "William", "Richard", "Thomas",
        "Paul", "Mark", "Peter", "Andrew", "Christopher", "Stephen", "Daniel", "Matthew",
        "Anthony", "Edward", "Jonathan", "Benjamin", "Samuel", "Joseph", "Alexander", "Charles",
        "George", "Nicholas", "Timothy", "Simon", "Oliver", "Harry", "Jack", "Philip", "Martin",
        "Patrick", "Adam", "Alan", "Brian", "Colin", "Craig", "Gary", "Gordon", "Graham",
        "Henry", "Ian", "Keith", "Kevin", "Lee", "Neil", "Nigel", "Raymond", "Roger", "Ryan",
        "Scott", "Stuart", "Trevor", "Alfie", "Ethan", "Freddie", "Hugo", "Luke", "Noah",
        "Rory", "Theo", "Toby"],
    family: &["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
        "Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White",
        "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson",
        "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee",
        "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson",
        "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook",
        "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
        "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
        "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
        "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes",
        "Knight", "Lloyd", "Butler", "Russell", "O'Brien", "O'Connor", "McDonald", "MacLeod"],
    rare_family: [&[""],
        &["B", "Bl", "Br", "C", "Ch", "Cr", "D", "F", "G", "Gr", "H", "L", "M", "N", "P", "R",
            "S", "Sh", "St", "T", "Th", "W", "Wh"],
        &["a", "e", "i", "o", "u", "ea", "oo", "ai", "ow"],
        &["ck", "ll", "rr", "n", "m", "nt", "rd", "st", "tch", "dge", "ss", "th"],
        &["er", "ley", "ton", "ford", "wood", "son", "by", "well", "ham", "worth", "field", ""]],
};

#[rustfmt::skip]
static GERMAN: NameBook = NameBook {
    female: &["Anna", "Maria", "Ursula", "Monika", "Petra", "Elisabeth", "Sabine", "Renate",
        "Helga", "Karin", "Brigitte", "Ingrid", "Erika", "Andrea", "Gisela", "Claudia",
        "Susanne", "Gabriele", "Christa", "Christine", "Birgit", "Stefanie", "Julia",
        "Katharina", "Nicole", "Barbara", "Martina", "Sandra", "Lena", "Laura", "Sophie",
        "Jutta", "Heike", "Anja", "Franziska", "Johanna", "Margarete", "Anke", "Beate",
        "Bettina", "Carola", "Cornelia", "Daniela", "Doris", "Elke", "Emma", "Hannah", "Ilse",
        "Irmgard", "Jana", "Kerstin", "Lea", "Marion", "Melanie", "Mia", "Nina", "Regina",
        "Silke", "Simone", "Tanja", "Ute", "Vanessa"],
    male: &["Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Günter",
        "Stefan", "Christian", "Uwe", "Werner", "Horst", "Frank", "Dieter", "Manfred", "Bernd",
        "Hans", "Gerhard", "Joachim", "Matthias", "Helmut", "Ralf", "Markus", "Heinz", "Sven",
        "Tobias", "Johannes", "Alexander", "Maximilian", "Lukas", "Jan", "Felix", "Jörg",
        "Björn", "Friedrich", "Wilhelm", "Bernhard", "Dennis", "Detlef", "Dirk", "Erich",
        "Florian", "Georg", "Heiko", "Holger", "Jens", "Jonas", "Kai", "Karl", "Lars", "Leon",
        "Marco", "Niklas", "Olaf", "Patrick", "Paul", "Rainer", "Rolf", "Sebastian", "Timo",
        "Torsten", "Volker"],
    family: &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
        "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
        "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann",
        "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
        "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn",
        "Schubert", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler",
        "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon",
        "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer", "Vogt", "Stein",
        "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber",
        "Graf", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch",
        "Bergmann", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer"],
    rare_family: [&[""],
        &["B", "Br", "D", "Dr", "F", "Fr", "G", "Gr", "H", "K", "Kl", "Kr", "L", "M", "N", "P",
            "Pf", "R", "S", "Sch", "Schw", "St", "W", "Z"],
        &["a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au"],
        &["n", "l", "r", "rn", "lt", "nd", "ck", "tz", "rg", "nk", "ch", "st"],
        &["er", "mann", "ler", "ner", "inger", "hardt", "berg", "e", "el", "", "ke", "ert"]],
};

#[rustfmt::skip]
static FRENCH: NameBook = NameBook {
    female: &["Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Christine",
        "Monique", "Valérie", "Sandrine", "Sophie", "Céline", "Stéphanie", "Julie", "Camille",
        "Léa", "Chloé", "Manon", "Émilie", "Aurélie", "Hélène", "Anne", "Claire", "Élodie",
        "Juliette", "Louise", "Margaux", "Mathilde", "Pauline", "Véronique", "Brigitte",
        "Agnès", "Amélie", "Audrey", "Béatrice", "Caroline", "Charlotte", "Delphine", "Emma",
        "Florence", "Inès", "Jeanne", "Laetitia", "Lucie", "Marine", "Martine", "Nadine",
        "Océane", "Patricia", "Sarah", "Virginie"],
    male: &["Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "Christophe", "Patrick",
        "Laurent", "François", "Frédéric", "Éric", "Stéphane", "David", "Julien", "Thomas",
        "Sébastien", "Olivier", "Antoine", "Mathieu", "Guillaume", "Jérôme", "Hugo", "Lucas",
        "Louis", "Théo", "Maxime", "Alexandre", "Benoît", "Jacques", "Jean-Pierre", "Jean-Luc",
        "Adrien", "Arnaud", "Baptiste", "Bernard", "Bruno", "Cédric", "Clément", "Damien",
        "Didier", "Fabien", "Gabriel", "Gérard", "Jérémy", "Kévin", "Léo", "Marc", "Pascal",
        "Raphaël", "Romain", "Thierry", "Vincent", "Yves"],
    family: &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
        "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre",
        "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier",
        "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
        "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine",
        "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis",
        "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer",
        "Lucas", "Meunier", "Perez", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun",
        "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Renard", "Arnaud",
        "Caron", "Leclerc", "Da Silva", "Le Gall", "Le Roux"],
    rare_family: [&["", "", "", "", "", "", "", "", "", "Le "],
        &["B", "C", "Ch", "D", "F", "G", "J", "L", "M", "P", "R", "T", "V", "Br", "Gr"],
        &["a", "e", "i", "o", "ou", "au", "é", "ai"],
        &["r", "l", "n", "ss", "ch", "rd", "mb", "nt", "ll", "v"],
        &["ard", "et", "ier", "on", "in", "eau", "ault", "y", "ot", "and", "ois", "e"]],
};

#[rustfmt::skip]
static DUTCH: NameBook = NameBook {
    female: &["Maria", "Anna", "Johanna", "Cornelia", "Elisabeth", "Sanne", "Anne", "Lisa",
        "Emma", "Femke", "Sophie", "Iris", "Eva", "Anouk", "Lotte", "Fleur", "Marieke", "Inge",
        "Linda", "Monique", "Esther", "Sandra", "Ingrid", "Ilse", "Marloes", "Saskia", "Nienke",
        "Ellen", "Annemarie", "Petronella", "Annelies", "Bregje", "Charlotte", "Daphne", "Demi",
        "Floor", "Hanneke", "Janneke", "Julia", "Karin", "Lieke", "Maud", "Mirjam", "Noor",
        "Renske", "Roos", "Tess", "Wendy", "Yvonne"],
    male: &["Jan", "Johannes", "Cornelis", "Hendrik", "Willem", "Pieter", "Gerrit", "Jacobus",
        "Jeroen", "Dennis", "Mark", "Bas", "Sander", "Thijs", "Daan", "Sem", "Lars", "Ruben",
        "Joost", "Maarten", "Bram", "Stijn", "Wouter", "Frank", "Erik", "Martijn", "Niels",
        "Tim", "Kees", "Henk", "Sjoerd", "Arjen", "Bart", "Bastiaan", "Casper", "Dirk", "Finn",
        "Gijs", "Hans", "Jasper", "Jelle", "Jesse", "Koen", "Lucas", "Luuk", "Milan", "Pim",
        "Rik", "Roel", "Rutger", "Teun", "Thomas", "Vincent"],
    family: &["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
        "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
        "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
        "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
        "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin",
        "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven",
        "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal", "Prins", "Blom",
        "Huisman", "Peeters", "de Jonge", "Kuipers", "van Veen", "Post", "Kuiper", "Veenstra",
        "Kramer", "van den Brink", "Scholten", "van Wijk", "Postma", "Martens", "Vink",
        "de Ridder", "Jonker"],
    // About four in ten Dutch family names have a particle.
    rare_family: [&["", "", "", "", "", "", "van ", "de ", "van der ", "van den "],
        &["B", "Br", "D", "G", "Gr", "H", "K", "Kl", "M", "P", "R", "S", "Sch", "St", "V", "W",
            "Z"],
        &["a", "e", "i", "o", "oo", "ee", "aa", "ui", "ij", "ou"],
        &["k", "l", "n", "r", "s", "rt", "nk", "ld", "ng", "p"],
        &["", "er", "man", "ing", "stra", "ink", "sma", "ema", "s", "en"]],
};

#[rustfmt::skip]
static ITALIAN: NameBook = NameBook {
    female: &["Maria", "Anna", "Giuseppina", "Rosa", "Angela", "Giovanna", "Teresa", "Lucia",
        "Carmela", "Caterina", "Francesca", "Laura", "Giulia", "Chiara", "Sara", "Alessandra",
        "Valentina", "Federica", "Elena", "Silvia", "Paola", "Martina", "Sofia", "Aurora",
        "Giorgia", "Antonella"],
    male: &["Giuseppe", "Giovanni", "Antonio", "Mario", "Luigi", "Francesco", "Angelo",
        "Vincenzo", "Pietro", "Salvatore", "Carlo", "Franco", "Domenico", "Bruno", "Paolo",
        "Michele", "Giorgio", "Sergio", "Luca", "Marco", "Andrea", "Alessandro", "Lorenzo",
        "Matteo", "Niccolò", "Davide", "Stefano", "Roberto", "Fabio"],
    family: &["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
        "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro",
        "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo",
        "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis",
        "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri",
        "Bianco", "Marini", "Grasso", "Valentini", "Messina", "Sala", "De Rosa", "Gatti",
        "Pellegrini", "Palumbo", "Sanna", "Farina", "Rizzi", "Monti", "Cattaneo", "Morelli"],
    rare_family: [&["", "", "", "", "", "", "", "", "", "", "De ", "Di "],
        &["B", "C", "D", "F", "G", "L", "M", "N", "P", "R", "S", "T", "V", "Z", "Br", "Gr"],
        &["a", "e", "i", "o", "u"],
        &["l", "r", "n", "t", "s", "ss", "tt", "cc", "nz", "rt", "st", "ld"],
        &["ini", "etti", "ucci", "elli", "oni", "ino", "ese", "ato", "ari", "one", "i", "o"]],
};

#[rustfmt::skip]
static SPANISH: NameBook = NameBook {
    female: &["María", "Carmen", "Ana", "Isabel", "Laura", "Lucía", "Cristina", "Marta",
        "Pilar", "Elena", "Rosa", "Sara", "Paula", "Raquel", "Beatriz", "Patricia", "Teresa",
        "Silvia", "Sofía", "Alba", "Nuria", "Mercedes", "Rocío", "Inés", "Dolores",
        "Montserrat", "Concepción"],
    male: &["Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel",
        "José Luis", "Carlos", "Jesús", "Alejandro", "Miguel", "Rafael", "Pablo", "Pedro",
        "Ángel", "Sergio", "Fernando", "Jorge", "Luis", "Alberto", "Álvaro", "Diego", "Adrián",
        "Raúl", "Enrique", "Ramón", "Vicente", "Andrés", "Iván", "Rubén", "Óscar"],
    family: &["García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
        "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
        "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez",
        "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales",
        "Suárez", "Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez",
        "Iglesias", "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero",
        "Cano", "Prieto", "Méndez", "Cruz", "Calvo", "Gallego", "Vidal", "León", "Márquez",
        "Herrera", "Peña", "Flores", "Cabrera", "Campos", "Vega", "Fuentes", "Carrasco"],
    rare_family: [&[""],
        &["B", "C", "D", "F", "G", "L", "M", "N", "P", "R", "S", "T", "V", "Ch", "Ll"],
        &["a", "e", "i", "o", "u", "ue", "ie"],
        &["l", "r", "n", "s", "rr", "nt", "st", "rd", "lv", "b"],
        &["ez", "es", "o", "a", "era", "edo", "ales", "ado", "illa", "ón", "ero", "ana"]],
};

#[rustfmt::skip]
static SCANDINAVIAN: NameBook = NameBook {
    female: &["Anna", "Maria", "Kristina", "Karin", "Ingrid", "Eva", "Birgitta", "Margareta",
        "Elisabeth", "Kerstin", "Sofia", "Emma", "Ida", "Maja", "Astrid", "Sigrid", "Linnéa",
        "Freja", "Elin", "Johanna", "Malin", "Camilla", "Lena", "Hanna", "Sara", "Liv",
        "Solveig", "Ingeborg", "Kari", "Mette", "Signe"],
    male: &["Lars", "Anders", "Johan", "Karl", "Per", "Erik", "Nils", "Jan", "Olof", "Hans",
        "Peter", "Mikael", "Björn", "Sven", "Gustav", "Magnus", "Henrik", "Ole", "Jens",
        "Søren", "Knut", "Bjørn", "Morten", "Rasmus", "Mads", "Oskar", "Axel", "Emil", "Jonas",
        "Fredrik", "Thomas"],
    family: &["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
        "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
        "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Olofsson", "Lindström",
        "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind",
        "Lundgren", "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg",
        "Henriksson", "Forsberg", "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson",
        "Håkansson", "Lundin", "Björk", "Bergman", "Holm", "Nyström", "Hansen", "Jensen",
        "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
        "Johansen", "Olsen", "Haugen", "Dahl", "Halvorsen", "Solberg", "Strand", "Lie", "Moen"],
    rare_family: [&[""],
        &["B", "D", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Sv", "T", "V", "Sj",
            "Fj"],
        &["a", "e", "i", "o", "u", "ö", "å", "ä", "y"],
        &["l", "r", "n", "rk", "ld", "nd", "st", "g", "k", "m"],
        &["sson", "gren", "qvist", "berg", "lund", "ström", "sen", "dal", "man", "by", "ing",
            "holm"]],
};

/// Short forms people go by, for the given names that have common ones.
#[rustfmt::skip]
const DIMINUTIVES: &[(&str, &[&str])] = &[
    ("Robert", &["Bob", "Rob", "Bobby", "Robbie"]), ("William", &["Bill", "Will", "Billy"]),
    ("Richard", &["Rick", "Rich", "Dick"]), ("Elizabeth", &["Liz", "Beth", "Lizzie", "Betty"]),
    ("Elisabeth", &["Lisa", "Liesel", "Elli", "Els"]), ("Margaret", &["Maggie", "Peggy", "Meg"]),
    ("Margarete", &["Grete", "Gretel"]), ("Margareta", &["Greta", "Maggan"]),
    ("Catherine", &["Kate", "Cathy", "Katie"]), ("Katherine", &["Kate", "Kathy", "Katie"]),
    ("Katharina", &["Kati", "Katja", "Kathi"]), ("Jennifer", &["Jenny", "Jen"]),
    ("Michael", &["Mike", "Mick", "Micha"]), ("James", &["Jim", "Jimmy", "Jamie"]),
    ("Thomas", &["Tom", "Tommy"]), ("Christopher", &["Chris"]), ("Christian", &["Chris"]),
    ("Christophe", &["Chris"]), ("Anthony", &["Tony"]), ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Jonathan", &["Jon", "Jonny"]), ("Benjamin", &["Ben"]), ("Samuel", &["Sam"]),
    ("Joseph", &["Joe"]), ("Alexander", &["Alex", "Sandy", "Sander"]),
    ("Alexandre", &["Alex"]), ("Alejandro", &["Álex"]), ("Alessandro", &["Sandro", "Alex"]),
    ("Nicholas", &["Nick"]), ("Nicolas", &["Nico"]), ("Timothy", &["Tim"]),
    ("Daniel", &["Dan", "Danny"]), ("Matthew", &["Matt"]), ("Andrew", &["Andy"]),
    ("Andreas", &["Andi"]), ("Stephen", &["Steve"]), ("Peter", &["Pete"]),
    ("Patricia", &["Pat", "Trish"]), ("Rebecca", &["Becky", "Becca"]), ("Victoria", &["Vicky"]),
    ("Susan", &["Sue", "Susie"]), ("Susanne", &["Susi", "Sanne"]), ("Deborah", &["Debbie"]),
    ("Abigail", &["Abby"]), ("Eleanor", &["Ellie", "Nell"]), ("Charlotte", &["Lottie"]),
    ("Jessica", &["Jess"]), ("Nicola", &["Nicky"]), ("Philip", &["Phil"]), ("Philippe", &["Phil"]),
    ("Charles", &["Charlie"]), ("Patrick", &["Pat", "Paddy"]),
    ("Johannes", &["Hans", "Jan", "Johan", "Jo"]), ("Friedrich", &["Fritz"]),
    ("Wilhelm", &["Willi"]), ("Wolfgang", &["Wolf"]), ("Maximilian", &["Max"]),
    ("Maxime", &["Max"]), ("Stefanie", &["Steffi"]), ("Stéphanie", &["Steph"]),
    ("Franziska", &["Franzi"]), ("Gabriele", &["Gabi"]), ("Christine", &["Tine", "Chris"]),
    ("Barbara", &["Babsi", "Bärbel"]), ("Tobias", &["Tobi"]), ("Joachim", &["Achim"]),
    ("Gerhard", &["Gerd"]), ("Ursula", &["Uschi", "Ulla"]), ("Monika", &["Moni"]),
    ("Johanna", &["Hanna", "Jo"]), ("Frédéric", &["Fred"]), ("Isabelle", &["Isa"]),
    ("Valérie", &["Val"]), ("Sébastien", &["Seb"]), ("Cornelis", &["Kees", "Cor"]),
    ("Hendrik", &["Henk", "Rik"]), ("Jacobus", &["Jaap", "Koos"]),
    ("Cornelia", &["Corrie", "Nel"]), ("Petronella", &["Nel", "Petra"]), ("Willem", &["Wim"]),
    ("Pieter", &["Piet"]), ("Gerrit", &["Gert"]), ("Giuseppe", &["Peppe", "Beppe", "Pino"]),
    ("Giovanni", &["Gianni", "Nino"]), ("Salvatore", &["Totò"]), ("Antonio", &["Toni", "Tonino"]),
    ("Domenico", &["Mimmo"]), ("Vincenzo", &["Enzo"]), ("Giuseppina", &["Pina"]),
    ("Alessandra", &["Sandra"]), ("Francisco", &["Paco", "Fran"]), ("José", &["Pepe"]),
    ("Manuel", &["Manolo", "Manu"]), ("Dolores", &["Lola"]), ("Concepción", &["Concha"]),
    ("Mercedes", &["Merche"]), ("Montserrat", &["Montse"]), ("Rafael", &["Rafa"]),
    ("Enrique", &["Quique"]), ("Fernando", &["Nando"]), ("Beatriz", &["Bea"]),
    ("Cristina", &["Cris"]), ("Teresa", &["Tere"]), ("Kristina", &["Stina", "Kicki"]),
    ("Birgitta", &["Britt", "Gittan"]), ("Karl", &["Kalle"]), ("Nils", &["Nisse"]),
    ("Lars", &["Lasse"]), ("Per", &["Pelle"]), ("Mikael", &["Micke"]), ("Fredrik", &["Fredde"]),
    ("Henrik", &["Henke"]), ("Kerstin", &["Kicki"]),
];

fn diminutives(given: &str) -> &'static [&'static str] {
    DIMINUTIVES
        .iter()
        .find(|(name, _)| *name == given)
        .map_or(&[], |(_, short)| short)
}

/// Names parents give twins when they want them to rhyme.
const TWIN_NAMES: [(Sex, &str, &str); 7] = [
    (Sex::Female, "Anna", "Hanna"),
    (Sex::Female, "Lena", "Lina"),
    (Sex::Female, "Maria", "Marie"),
    (Sex::Male, "Tim", "Tom"),
    (Sex::Female, "Mia", "Pia"),
    (Sex::Male, "Jonas", "Jonah"),
    (Sex::Female, "Emma", "Emmy"),
];

/// Groups of distinct people with one very common name in one town.
const NAMESAKES: [(Culture, Sex, &str, &str, &str); 8] = [
    (Culture::English, Sex::Male, "John", "Smith", "London"),
    (Culture::German, Sex::Male, "Thomas", "Müller", "Berlin"),
    (Culture::Dutch, Sex::Male, "Jan", "de Vries", "Amsterdam"),
    (Culture::French, Sex::Female, "Marie", "Martin", "Paris"),
    (Culture::English, Sex::Male, "David", "Jones", "Manchester"),
    (Culture::German, Sex::Male, "Michael", "Schmidt", "München"),
    (Culture::English, Sex::Female, "Sarah", "Williams", "London"),
    (Culture::Spanish, Sex::Female, "María", "García", "London"),
];
/// One namesake group per this many persons.
const PERSONS_PER_NAMESAKE_GROUP: usize = 1000;

/// Mail handles that say nothing about the name.
const HANDLES: [&str; 20] = [
    "theatrefan",
    "bluefox",
    "sunnyside",
    "moonlight",
    "jazzcat",
    "bookworm",
    "redkite",
    "oakleaf",
    "seaview",
    "cityowl",
    "stargazer",
    "greenfinch",
    "nightowl",
    "wanderer",
    "papillon",
    "zonnetje",
    "sternchen",
    "lupo",
    "gatito",
    "fjord",
];

// ================================================================ places

/// A country people live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Land {
    Gb,
    De,
    Nl,
    Fr,
}

/// Where people live, in parts: the platform sells for venues in four countries.
const LANDS: [(Land, u32); 4] = [
    (Land::Gb, 50),
    (Land::De, 22),
    (Land::Nl, 14),
    (Land::Fr, 14),
];

impl Land {
    /// ISO 3166-1 alpha-2, as the country column has it.
    pub fn code(self) -> &'static str {
        match self {
            Land::Gb => "GB",
            Land::De => "DE",
            Land::Nl => "NL",
            Land::Fr => "FR",
        }
    }

    pub fn country(self) -> Country {
        match self {
            Land::Gb => Country::GB,
            Land::De => Country::DE,
            Land::Nl => Country::NL,
            Land::Fr => Country::FR,
        }
    }

    fn calling_code(self) -> &'static str {
        match self {
            Land::Gb => "44",
            Land::De => "49",
            Land::Nl => "31",
            Land::Fr => "33",
        }
    }

    /// The naming cultures of its residents, in parts.
    fn cultures(self) -> &'static [(Culture, u32)] {
        use Culture::*;
        match self {
            Land::Gb => &[
                (English, 80),
                (Italian, 4),
                (Spanish, 4),
                (French, 3),
                (German, 3),
                (Dutch, 3),
                (Scandinavian, 3),
            ],
            Land::De => &[
                (German, 80),
                (Italian, 5),
                (Spanish, 3),
                (French, 3),
                (Dutch, 3),
                (Scandinavian, 3),
                (English, 3),
            ],
            Land::Nl => &[
                (Dutch, 80),
                (German, 6),
                (English, 5),
                (Italian, 3),
                (Spanish, 2),
                (French, 2),
                (Scandinavian, 2),
            ],
            Land::Fr => &[
                (French, 82),
                (Italian, 5),
                (Spanish, 5),
                (English, 3),
                (German, 3),
                (Dutch, 1),
                (Scandinavian, 1),
            ],
        }
    }

    /// Where its residents have their mailbox, in parts.
    fn mail_providers(self) -> &'static [(&'static str, u32)] {
        match self {
            Land::Gb => &[
                ("gmail.com", 30),
                ("hotmail.co.uk", 10),
                ("outlook.com", 8),
                ("yahoo.co.uk", 7),
                ("btinternet.com", 7),
                ("icloud.com", 7),
                ("sky.com", 4),
                ("live.co.uk", 3),
                ("aol.com", 2),
                ("googlemail.com", 2),
            ],
            Land::De => &[
                ("gmx.de", 22),
                ("web.de", 22),
                ("gmail.com", 22),
                ("t-online.de", 12),
                ("outlook.de", 5),
                ("yahoo.de", 4),
                ("icloud.com", 5),
                ("posteo.de", 3),
                ("freenet.de", 3),
                ("googlemail.com", 2),
            ],
            Land::Nl => &[
                ("gmail.com", 30),
                ("hotmail.com", 15),
                ("ziggo.nl", 12),
                ("outlook.com", 10),
                ("kpnmail.nl", 8),
                ("icloud.com", 8),
                ("live.nl", 5),
                ("xs4all.nl", 5),
                ("planet.nl", 3),
            ],
            Land::Fr => &[
                ("gmail.com", 28),
                ("orange.fr", 18),
                ("free.fr", 12),
                ("hotmail.fr", 10),
                ("laposte.net", 8),
                ("sfr.fr", 8),
                ("yahoo.fr", 6),
                ("icloud.com", 6),
                ("outlook.fr", 4),
            ],
        }
    }

    /// A new mobile number: random digits after a real mobile prefix.
    fn mobile(self, rng: &mut Rng) -> Phone {
        let (digits, groups): (String, &'static [usize]) = match self {
            Land::Gb => (
                format!("7{}{}", rng.pick(&['4', '5', '7', '8', '9']), rng.digits(8)),
                &[4, 6],
            ),
            Land::De => {
                let prefix = rng.pick(&["151", "152", "157", "160", "162", "170", "171", "172"]);
                (format!("{prefix}{}", rng.digits(8)), &[3, 8])
            }
            Land::Nl => (format!("6{}{}", rng.between(1, 9), rng.digits(7)), &[1, 8]),
            Land::Fr => (
                format!("{}{}", rng.pick(&['6', '7']), rng.digits(8)),
                &[1, 2, 2, 2, 2],
            ),
        };
        Phone {
            land: self,
            digits,
            groups,
        }
    }

    /// The box office's own number, which staff type in when a buyer gives none.
    pub fn venue_phone(self) -> Phone {
        let (digits, groups): (&str, &'static [usize]) = match self {
            // Ofcom's drama range: never a real line.
            Land::Gb => ("2079460000", &[2, 4, 4]),
            Land::De => ("3020304050", &[2, 8]),
            Land::Nl => ("205300500", &[2, 3, 4]),
            Land::Fr => ("142000000", &[1, 2, 2, 2, 2]),
        };
        Phone {
            land: self,
            digits: digits.to_owned(),
            groups,
        }
    }
}

/// How a town's postcodes look.
enum Postcodes {
    /// British: the town's outward codes; the inward code follows the street block.
    British(&'static [&'static str]),
    /// German and French: five digits per district.
    Numeric(&'static [&'static str]),
    /// Dutch: four digits per neighbourhood, in this range, and two letters per block.
    Dutch(u32, u32),
}

struct Town {
    name: &'static str,
    /// How else people write it.
    other_spellings: &'static [&'static str],
    land: Land,
    /// Share of the land's residents, in parts.
    weight: u32,
    /// Landlines: the area code (national, without the trunk 0), how many digits follow,
    /// and the digit groups people write.
    area_code: &'static str,
    subscriber_digits: usize,
    landline_groups: &'static [usize],
    streets: &'static [&'static str],
    postcodes: Postcodes,
}

#[rustfmt::skip]
const TOWNS: [Town; 10] = [
    Town { name: "London", other_spellings: &["LONDON", "london", "London, UK"], land: Land::Gb,
        weight: 60, area_code: "20", subscriber_digits: 8, landline_groups: &[2, 4, 4],
        streets: &["Baker Street", "Kings Road", "Elm Grove", "Victoria Road", "Church Street",
            "Station Road", "High Street", "Albert Road", "Mill Lane", "Queens Road",
            "Grove Road", "The Avenue", "Manor Road", "Highbury Grove", "Mildmay Park",
            "Lordship Lane", "Brixton Hill", "Camden Road", "Holloway Road", "Amhurst Road"],
        postcodes: Postcodes::British(&["SW1A", "SE1", "N1", "E8", "NW3", "W11", "EC1V", "WC2H",
            "SW11", "SE15", "N16", "E2", "W4", "SW9"]) },
    Town { name: "Manchester", other_spellings: &["MANCHESTER", "Manchester, UK"],
        land: Land::Gb, weight: 25, area_code: "161", subscriber_digits: 7,
        landline_groups: &[3, 3, 4],
        streets: &["Oxford Road", "Wilmslow Road", "Deansgate", "Burton Road", "Palatine Road",
            "Barlow Moor Road", "Beech Road", "Church Lane", "Mauldeth Road", "Princess Road",
            "Mill Lane", "Station Road"],
        postcodes: Postcodes::British(&["M1", "M4", "M13", "M14", "M16", "M20", "M21"]) },
    Town { name: "Bristol", other_spellings: &["BRISTOL"], land: Land::Gb, weight: 15,
        area_code: "117", subscriber_digits: 7, landline_groups: &[3, 3, 4],
        streets: &["Gloucester Road", "Whiteladies Road", "Cotham Hill", "North Street",
            "Coronation Road", "Stapleton Road", "Church Road", "Station Road", "Park Street",
            "Zetland Road"],
        postcodes: Postcodes::British(&["BS1", "BS2", "BS3", "BS5", "BS6", "BS7", "BS8"]) },
    Town { name: "Berlin", other_spellings: &["BERLIN", "berlin"], land: Land::De, weight: 50,
        area_code: "30", subscriber_digits: 8, landline_groups: &[2, 8],
        streets: &["Hauptstraße", "Schönhauser Allee", "Kastanienallee", "Bergmannstraße",
            "Oranienstraße", "Karl-Marx-Straße", "Kantstraße", "Sonnenallee", "Torstraße",
            "Friedrichstraße", "Müllerstraße", "Prenzlauer Allee", "Gneisenaustraße",
            "Wilmersdorfer Straße", "Am Friedrichshain"],
        postcodes: Postcodes::Numeric(&["10115", "10117", "10119", "10178", "10243", "10245",
            "10247", "10405", "10435", "10437", "10551", "10585", "10627", "10707", "10777",
            "10827", "10961", "10999", "12043", "12047", "12049", "12435", "13347", "13353",
            "14050", "14193"]) },
    Town { name: "München", other_spellings: &["Munich", "Muenchen", "MÜNCHEN"], land: Land::De,
        weight: 30, area_code: "89", subscriber_digits: 8, landline_groups: &[2, 8],
        streets: &["Leopoldstraße", "Schellingstraße", "Türkenstraße", "Sendlinger Straße",
            "Lindwurmstraße", "Rosenheimer Straße", "Nymphenburger Straße", "Goethestraße",
            "Hohenzollernstraße", "Augustenstraße", "Belgradstraße"],
        postcodes: Postcodes::Numeric(&["80331", "80333", "80335", "80336", "80469", "80538",
            "80637", "80796", "80799", "80801", "81369", "81541", "81667", "81675", "81925"]) },
    Town { name: "Hamburg", other_spellings: &["HAMBURG"], land: Land::De, weight: 20,
        area_code: "40", subscriber_digits: 8, landline_groups: &[2, 8],
        streets: &["Eppendorfer Weg", "Osterstraße", "Lange Reihe", "Mühlenkamp",
            "Schanzenstraße", "Bahrenfelder Straße", "Ottenser Hauptstraße", "Hofweg",
            "Grindelallee", "Hoheluftchaussee"],
        postcodes: Postcodes::Numeric(&["20095", "20099", "20144", "20146", "20249", "20253",
            "20357", "22081", "22085", "22303", "22765", "22767", "22769"]) },
    Town { name: "Amsterdam", other_spellings: &["AMSTERDAM", "A'dam"], land: Land::Nl,
        weight: 65, area_code: "20", subscriber_digits: 7, landline_groups: &[2, 3, 4],
        streets: &["Keizersgracht", "Prinsengracht", "Herengracht", "Overtoom",
            "Ferdinand Bolstraat", "Kinkerstraat", "Javastraat", "Van Woustraat",
            "Czaar Peterstraat", "Eerste Helmersstraat", "Bilderdijkstraat",
            "Admiraal de Ruijterweg", "Jan Pieter Heijestraat"],
        postcodes: Postcodes::Dutch(1011, 1109) },
    Town { name: "Utrecht", other_spellings: &["UTRECHT"], land: Land::Nl, weight: 35,
        area_code: "30", subscriber_digits: 7, landline_groups: &[2, 3, 4],
        streets: &["Oudegracht", "Biltstraat", "Amsterdamsestraatweg", "Twijnstraat",
            "Nobelstraat", "Kanaalstraat", "Burgemeester Reigerstraat", "Adelaarstraat"],
        postcodes: Postcodes::Dutch(3511, 3585) },
    Town { name: "Paris", other_spellings: &["PARIS", "Paris Cedex"], land: Land::Fr, weight: 70,
        area_code: "1", subscriber_digits: 8, landline_groups: &[1, 2, 2, 2, 2],
        streets: &["rue de Rivoli", "boulevard Voltaire", "avenue de la République",
            "rue Oberkampf", "rue de la Roquette", "rue du Faubourg Saint-Antoine",
            "rue Saint-Maur", "boulevard Saint-Germain", "rue de Charonne", "rue des Martyrs",
            "rue Lepic", "avenue Parmentier", "rue de Belleville", "rue Mouffetard"],
        postcodes: Postcodes::Numeric(&["75001", "75002", "75003", "75004", "75005", "75006",
            "75007", "75008", "75009", "75010", "75011", "75012", "75013", "75014", "75015",
            "75016", "75017", "75018", "75019", "75020"]) },
    Town { name: "Lyon", other_spellings: &["Lyons", "LYON"], land: Land::Fr, weight: 30,
        area_code: "4", subscriber_digits: 8, landline_groups: &[1, 2, 2, 2, 2],
        streets: &["rue de la République", "cours Lafayette", "rue Garibaldi",
            "avenue Jean Jaurès", "rue Paul Bert", "cours Gambetta", "rue Victor Hugo",
            "montée de la Grande-Côte", "rue Mercière"],
        postcodes: Postcodes::Numeric(&["69001", "69002", "69003", "69004", "69005", "69006",
            "69007", "69008", "69009"]) },
];

/// Letters British inward codes use (never C, I, K, M, O or V).
const BRITISH_INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
/// Letters used in Dutch postcodes here (Dutch codes avoid SA, SD and SS: no S at all).
const DUTCH_LETTERS: &[u8] = b"ABCDEGHJKLMNPRTVWXZ";
/// Highest house number on a street.
const MAX_HOUSE_NUMBER: u32 = 240;

fn town_named(name: &str) -> usize {
    TOWNS
        .iter()
        .position(|t| t.name == name)
        .expect("a town in TOWNS")
}

fn towns_in(land: Land) -> Vec<(usize, u32)> {
    let here = TOWNS.iter().enumerate().filter(|(_, t)| t.land == land);
    here.map(|(i, t)| (i, t.weight)).collect()
}

/// A phone line, as the national significant number (no trunk 0, no country code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    land: Land,
    digits: String,
    /// How people group the digits when they write them.
    groups: &'static [usize],
}

/// Ways people write a phone number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PhoneStyle {
    /// `020 7946 0000`
    National,
    /// `02079460000`
    NationalCompact,
    /// The country's punctuation: `(020) 7946 0000`, `030/20304050`, `020-530 0500`,
    /// `01.42.00.00.00`.
    NationalPunctuated,
    /// `+44 20 7946 0000`
    International,
    /// `+442079460000`
    InternationalCompact,
    /// `+44 (0)20 7946 0000`
    InternationalWithTrunk,
    /// `0044 20 7946 0000`
    DoubleZero,
}

const PHONE_STYLES: [(PhoneStyle, u32); 7] = [
    (PhoneStyle::National, 40),
    (PhoneStyle::NationalCompact, 20),
    (PhoneStyle::NationalPunctuated, 12),
    (PhoneStyle::International, 12),
    (PhoneStyle::InternationalCompact, 8),
    (PhoneStyle::InternationalWithTrunk, 4),
    (PhoneStyle::DoubleZero, 4),
];

impl Phone {
    /// The E.164 form, as the normalizer gives it.
    pub fn e164(&self) -> String {
        format!("+{}{}", self.land.calling_code(), self.digits)
    }

    fn grouped(&self) -> Vec<&str> {
        let mut rest = self.digits.as_str();
        let mut groups = Vec::new();
        for &len in self.groups {
            let (group, tail) = rest.split_at(len.min(rest.len()));
            groups.push(group);
            rest = tail;
        }
        if !rest.is_empty() {
            groups.push(rest);
        }
        groups
    }

    fn written(&self, style: PhoneStyle) -> String {
        let groups = self.grouped();
        let (spaced, cc) = (groups.join(" "), self.land.calling_code());
        match style {
            PhoneStyle::National => format!("0{spaced}"),
            PhoneStyle::NationalCompact => format!("0{}", self.digits),
            PhoneStyle::NationalPunctuated => {
                let (area, rest) = (groups[0], &groups[1..]);
                match self.land {
                    Land::Gb => format!("(0{area}) {}", rest.join(" ")),
                    Land::De => format!("0{area}/{}", rest.concat()),
                    Land::Nl => format!("0{area}-{}", rest.join(" ")),
                    Land::Fr => format!("0{}", groups.join(".")),
                }
            }
            PhoneStyle::International => format!("+{cc} {spaced}"),
            PhoneStyle::InternationalCompact => format!("+{cc}{}", self.digits),
            PhoneStyle::InternationalWithTrunk => format!("+{cc} (0){spaced}"),
            PhoneStyle::DoubleZero => format!("00{cc} {spaced}"),
        }
    }

    /// The same number with one of its last six digits mistyped.
    fn with_wrong_digit(&self, rng: &mut Rng) -> Phone {
        let mut digits = self.digits.clone().into_bytes();
        let i = digits.len() - 1 - rng.below(6.min(digits.len() - 1));
        let wrong = (digits[i] - b'0' + 1 + rng.below(9) as u8) % 10;
        digits[i] = b'0' + wrong;
        Phone {
            digits: String::from_utf8(digits).expect("ASCII digits"),
            ..self.clone()
        }
    }
}

/// Where a household lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    town: usize,
    street: usize,
    number: u32,
    flat: Option<u32>,
    landline: Option<Phone>,
}

impl Home {
    fn town(&self) -> &'static Town {
        &TOWNS[self.town]
    }

    /// The postcode, in its usual written form; it follows from the street and block.
    fn postcode(&self) -> String {
        let (town, street) = (self.town as u64, self.street as u64);
        match self.town().postcodes {
            Postcodes::British(districts) => {
                let district = districts[mix(&[town, street]) as usize % districts.len()];
                // About a dozen houses share a British unit postcode.
                let block = mix(&[town, street, u64::from(self.number / 12)]);
                let letter = |shift: u32| {
                    let i = (block >> shift) as usize % BRITISH_INWARD_LETTERS.len();
                    char::from(BRITISH_INWARD_LETTERS[i])
                };
                format!("{district} {}{}{}", 1 + block % 9, letter(8), letter(16))
            }
            Postcodes::Numeric(codes) => codes[mix(&[town, street]) as usize % codes.len()].into(),
            Postcodes::Dutch(first, last) => {
                let span = u64::from(last - first + 1);
                let digits = u64::from(first) + mix(&[town, street]) % span;
                let block = mix(&[town, street, u64::from(self.number / 16)]);
                let letter = |shift: u32| {
                    let i = (block >> shift) as usize % DUTCH_LETTERS.len();
                    char::from(DUTCH_LETTERS[i])
                };
                format!("{digits} {}{}", letter(8), letter(16))
            }
        }
    }

    /// Street and house number (and flat), the way the country writes them.
    fn street_line(&self) -> String {
        let (street, n) = (self.town().streets[self.street], self.number);
        match (self.town().land, self.flat) {
            (Land::Gb, Some(flat)) => format!("Flat {flat}, {n} {street}"),
            (Land::Gb, None) => format!("{n} {street}"),
            (Land::De, _) => format!("{street} {n}"),
            (Land::Nl, Some(floor)) => format!("{street} {n}-{floor}"),
            (Land::Nl, None) => format!("{street} {n}"),
            (Land::Fr, Some(flat)) => format!("{n} {street}, appt {flat}"),
            (Land::Fr, None) => format!("{n} {street}"),
        }
    }
}

// ================================================================ people

/// A person's place in their household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Single,
    Partner,
    /// A single parent.
    Parent,
    Child,
    Twin,
    /// A father whose son has his given and family name.
    Father,
    Son,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HouseholdKind {
    Single,
    Couple,
    CoupleWithChild,
    ParentWithChild,
    /// Father and son of the same name (and sometimes the mother).
    FatherAndSon,
    /// Adult twins (and sometimes a parent).
    Twins,
}

/// Kinds of household, in parts. Fathers and sons of one name, and adult twins, living
/// together are rarer than one in a hundred households in reality; more here, so that
/// each shows in the figures.
const HOUSEHOLD_KINDS: [(HouseholdKind, u32); 6] = [
    (HouseholdKind::Single, 44),
    (HouseholdKind::Couple, 37),
    (HouseholdKind::CoupleWithChild, 10),
    (HouseholdKind::ParentWithChild, 7),
    (HouseholdKind::FatherAndSon, 1),
    (HouseholdKind::Twins, 1),
];

#[derive(Clone, Debug)]
pub struct Household {
    pub id: usize,
    pub kind: HouseholdKind,
    pub members: Vec<usize>,
    pub homes: Timeline<Home>,
}

/// Someone who buys tickets.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: usize,
    pub household: usize,
    pub role: Role,
    /// The namesake group (same common name, same town) they belong to, if any.
    pub namesake_group: Option<usize>,
    pub culture: Culture,
    pub sex: Sex,
    pub land: Land,
    /// The given name on their passport.
    pub given: &'static str,
    /// Family names over time: a marriage changes it.
    pub family: Timeline<String>,
    /// The name before a marriage in the window, still written now and then after it.
    pub maiden: Option<String>,
    /// A Spanish second (maternal) surname, written on some orders only.
    pub second_surname: Option<String>,
    pub birth_date: NaiveDate,
    /// The short form they usually go by, if any.
    goes_by: Option<&'static str>,
    /// Writes their name without its diacritics (a keyboard habit), adding them now and then.
    writes_plain: bool,
    pub emails: Timeline<String>,
    /// A household mailbox (joint, or a relative's) used on some orders, and how often.
    borrowed_email: Option<(String, f64)>,
    pub mobile: Timeline<Option<Phone>>,
    phone_style: PhoneStyle,
    pub cards: Timeline<Option<String>>,
    /// The partner whose card they pay with now and then.
    partner: Option<usize>,
    pub loyalty: Option<String>,
    /// Books online mostly; otherwise mostly at the box office.
    online: bool,
}

/// Who a new person is, before their contact details are made up.
struct Identity {
    culture: Culture,
    sex: Sex,
    given: &'static str,
    family: String,
    birth_date: NaiveDate,
}

// ---------------------------------------------------------------- rates

/// Persons who usually go by a short form of their given name (if it has one).
const GOES_BY_SHORT_FORM: f64 = 0.15;
/// Persons whose diacritics usually get lost (among those whose name has any).
const WRITES_PLAIN: f64 = 0.30;
/// Persons without a mobile phone.
const NO_MOBILE: f64 = 0.12;
/// Persons who get a new mobile number, or a new e-mail address, within the window.
const NEW_MOBILE: f64 = 0.08;
const NEW_EMAIL: f64 = 0.22;
/// Persons with a card token on file with the processor, and who get a new card.
const HAS_CARD: f64 = 0.50;
const NEW_CARD: f64 = 0.35;
const HAS_LOYALTY: f64 = 0.20;
/// Couples who marry during the window (one of them changing name), and the names couples
/// otherwise have: one name, two names, or a double-barrelled one.
const MARRY_IN_WINDOW: f64 = 0.15;
const SAME_SEX_COUPLES: f64 = 0.08;
/// In a mixed couple, the woman is the one who takes (or adds) the other's name.
const WOMAN_TAKES_THE_NAME: f64 = 0.9;
const DOUBLE_BARRELLED_AT_MARRIAGE: f64 = 0.25;
const NEW_EMAIL_AT_MARRIAGE: f64 = 0.35;
const COUPLE_NAMES: [(CoupleNames, u32); 3] = [
    (CoupleNames::Shared, 65),
    (CoupleNames::Own, 25),
    (CoupleNames::DoubleBarrelled, 10),
];
/// Couples sharing a joint mailbox, or one using the other's now and then.
const JOINT_MAILBOX: f64 = 0.18;
const BORROWS_PARTNERS_MAILBOX: f64 = 0.15;
/// Grown children (and sons of the same name) using a parent's mailbox now and then.
const BORROWS_PARENTS_MAILBOX: f64 = 0.35;
const TWINS_SHARE_MAILBOX: f64 = 0.30;
/// Partners sharing a family loyalty membership.
const SHARES_LOYALTY: f64 = 0.30;
/// Households with a landline.
const HAS_LANDLINE: f64 = 0.35;
/// Households that move once, twice.
const MOVES: [(usize, u32); 3] = [(0, 72), (1, 22), (2, 6)];
/// Moves that stay in town.
const MOVES_IN_TOWN: f64 = 0.6;
/// Twins with rhyming names.
const TWINS_RHYME: f64 = 0.4;
/// Flats, by country (British, Dutch and French addresses name them; German ones do not,
/// so unrelated German households can share a street address).
fn flat_share(land: Land) -> f64 {
    match land {
        Land::Gb => 0.30,
        Land::De => 0.0,
        Land::Nl => 0.30,
        Land::Fr => 0.40,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CoupleNames {
    Shared,
    Own,
    DoubleBarrelled,
}

// ================================================================ building the population

/// Everything generated from one seed: people, households and their order records, the
/// records in arrival order.
#[derive(Clone, Debug)]
pub struct Population {
    pub seed: u64,
    pub persons: Vec<Person>,
    pub households: Vec<Household>,
    pub records: Vec<Record>,
}

impl Population {
    /// `persons` people and their records, the same for the same arguments.
    pub fn generate(persons: usize, seed: u64) -> Self {
        let mut world = World::new(seed);
        world.add_namesakes(persons);
        while world.persons.len() < persons {
            let room = persons - world.persons.len();
            world.add_household(room);
        }
        // Record noise has its own stream, so that changing how records are written does
        // not change who the people are.
        let mut rng = Rng::new(seed ^ 0x5EC0_2D5E_ED00_0001);
        let mut records: Vec<Record> = Vec::new();
        for person in &world.persons {
            records.extend(world.records_of(person, &mut rng));
        }
        // Arrival order; a person's orders at the same second keep their order.
        records.sort_by(|a, b| a.ts.cmp(&b.ts).then(a.person_id.cmp(&b.person_id)));
        for (i, record) in records.iter_mut().enumerate() {
            record.record_id = format!("r{:07}", i + 1);
        }
        Population {
            seed,
            persons: world.persons,
            households: world.households,
            records,
        }
    }

    /// Pairs of different persons with the same folded given and (first) family name: how
    /// much a name alone can mislead.
    pub fn same_name_pairs(&self) -> usize {
        let mut by_name: HashMap<(String, String), usize> = HashMap::new();
        for person in &self.persons {
            let given = normalize::name(person.given).unwrap_or_default();
            let family = normalize::name(person.family.first()).unwrap_or_default();
            *by_name.entry((given, family)).or_default() += 1;
        }
        by_name.values().map(|n| n * (n - 1) / 2).sum()
    }

    /// The person behind each record, in record order.
    pub fn truth(&self) -> Vec<usize> {
        self.records.iter().map(|r| r.person_id).collect()
    }

    /// How two different persons are related, for explaining a false merge.
    pub fn relation(&self, a: usize, b: usize) -> Relation {
        let (a, b) = (&self.persons[a], &self.persons[b]);
        if a.household == b.household {
            let mut roles = [a.role, b.role];
            roles.sort();
            return match roles {
                [Role::Partner, Role::Partner] | [Role::Partner, Role::Father] => Relation::Spouses,
                [Role::Twin, Role::Twin] => Relation::Twins,
                [Role::Father, Role::Son] => Relation::FatherAndSonOfOneName,
                _ => Relation::ParentAndChild,
            };
        }
        if a.namesake_group.is_some() && a.namesake_group == b.namesake_group {
            return Relation::Namesakes;
        }
        let key = |p: &Person| {
            let family = p.family.first();
            (normalize::name(p.given).ok(), normalize::name(family).ok())
        };
        if key(a) == key(b) {
            return Relation::SameName;
        }
        Relation::Unrelated
    }
}

/// How two different persons are related.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    Spouses,
    ParentAndChild,
    FatherAndSonOfOneName,
    Twins,
    /// Same common name, same town: planted groups.
    Namesakes,
    /// Same name by chance.
    SameName,
    Unrelated,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relation::Spouses => "spouses",
            Relation::ParentAndChild => "parent and child",
            Relation::FatherAndSonOfOneName => "father and son of one name",
            Relation::Twins => "twins",
            Relation::Namesakes => "namesakes in one town",
            Relation::SameName => "same name by chance",
            Relation::Unrelated => "unrelated",
        })
    }
}

/// The generator's state: its random stream, and every identifier handed out so far, so
/// that two strangers never get one mailbox, phone line or loyalty number by accident.
struct World {
    rng: Rng,
    persons: Vec<Person>,
    households: Vec<Household>,
    mailboxes: HashSet<String>,
    phones: HashSet<String>,
    loyalty_ids: HashSet<String>,
    addresses: HashSet<(usize, usize, u32, Option<u32>)>,
}

impl World {
    fn new(seed: u64) -> Self {
        World {
            rng: Rng::new(seed),
            persons: Vec::new(),
            households: Vec::new(),
            mailboxes: HashSet::new(),
            phones: HashSet::new(),
            loyalty_ids: HashSet::new(),
            addresses: HashSet::new(),
        }
    }

    // ------------------------------------------------------------ households

    /// Groups of three to five strangers with one very common name in one town.
    fn add_namesakes(&mut self, persons: usize) {
        let groups = persons / PERSONS_PER_NAMESAKE_GROUP;
        for g in 0..groups {
            let (culture, sex, given, family, town) = NAMESAKES[g % NAMESAKES.len()];
            let size = 3 + self.rng.below(3);
            for _ in 0..size.min(persons - self.persons.len()) {
                let town = town_named(town);
                let household = self.new_household(HouseholdKind::Single, town);
                let who = Identity {
                    culture,
                    sex,
                    given,
                    family: family.to_owned(),
                    birth_date: self.adult_birth_date(),
                };
                let id = self.add_person(household, Role::Single, who);
                // Groups beyond the list repeat a name: one bigger group of namesakes.
                self.persons[id].namesake_group = Some(g % NAMESAKES.len());
            }
        }
    }

    /// One household of at most `room` persons.
    fn add_household(&mut self, room: usize) {
        let mut kind = self.rng.weighted(&HOUSEHOLD_KINDS);
        if room < 3 && kind != HouseholdKind::Single {
            kind = if room == 2 {
                HouseholdKind::Couple
            } else {
                HouseholdKind::Single
            };
        }
        let land = self.rng.weighted(&LANDS);
        let town = self.rng.weighted(&towns_in(land));
        let household = self.new_household(kind, town);
        let culture = self.rng.weighted(land.cultures());
        match kind {
            HouseholdKind::Single => {
                let who = self.someone_random(culture);
                self.add_person(household, Role::Single, who);
            }
            HouseholdKind::Couple => {
                let sexes = self.couple_sexes();
                self.add_couple(household, culture, sexes);
            }
            HouseholdKind::CoupleWithChild => {
                let sexes = self.couple_sexes();
                let (keeper, _) = self.add_couple(household, culture, sexes);
                self.add_child(household, keeper);
            }
            HouseholdKind::ParentWithChild => {
                let who = self.someone_random(culture);
                let parent = self.add_person(household, Role::Parent, who);
                self.add_child(household, parent);
            }
            HouseholdKind::FatherAndSon => self.add_father_and_son(household, culture),
            HouseholdKind::Twins => self.add_twins(household, culture),
        }
    }

    fn new_household(&mut self, kind: HouseholdKind, town: usize) -> usize {
        let first = self.new_home(town, None);
        let mut homes = Timeline::new(first);
        let mut moves: Vec<DateTime<Utc>> = (0..self.rng.weighted(&MOVES))
            .map(|_| moment_in_window(&mut self.rng))
            .collect();
        moves.sort();
        for at in moves {
            let before = homes.latest().clone();
            let land = before.town().land;
            let town = match self.rng.chance(MOVES_IN_TOWN) {
                true => before.town,
                false => self.rng.weighted(&towns_in(land)),
            };
            let home = self.new_home(town, Some(&before));
            homes.change(at, home);
        }
        let id = self.households.len();
        self.households.push(Household {
            id,
            kind,
            members: Vec::new(),
            homes,
        });
        id
    }

    /// A free address in `town`, with a landline for some; after a move from `before`, a
    /// landline goes with the household (a new number, or the old one within a town).
    fn new_home(&mut self, town: usize, before: Option<&Home>) -> Home {
        let land = TOWNS[town].land;
        let (street, number, flat) = loop {
            let street = self.rng.below(TOWNS[town].streets.len());
            let number = self.rng.between(1, MAX_HOUSE_NUMBER);
            let flat = self
                .rng
                .chance(flat_share(land))
                .then(|| self.rng.between(1, 12));
            // German addresses name no flat: several households per building is normal.
            if land == Land::De || self.addresses.insert((town, street, number, flat)) {
                break (street, number, flat);
            }
        };
        let landline = match before {
            None => self
                .rng
                .chance(HAS_LANDLINE)
                .then(|| self.new_landline(town)),
            Some(old) => match &old.landline {
                Some(line) if old.town == town && self.rng.chance(0.2) => Some(line.clone()),
                Some(_) if self.rng.chance(0.75) => Some(self.new_landline(town)),
                _ => None,
            },
        };
        Home {
            town,
            street,
            number,
            flat,
            landline,
        }
    }

    fn new_landline(&mut self, town: usize) -> Phone {
        let t = &TOWNS[town];
        loop {
            let first = self.rng.between(2, 9);
            let rest = self.rng.digits(t.subscriber_digits - 1);
            let phone = Phone {
                land: t.land,
                digits: format!("{}{first}{rest}", t.area_code),
                groups: t.landline_groups,
            };
            if self.claim_phone(&phone) {
                return phone;
            }
        }
    }

    fn claim_phone(&mut self, phone: &Phone) -> bool {
        self.phones
            .insert(format!("{}{}", phone.land.calling_code(), phone.digits))
    }

    /// The sexes of a couple, the one who keeps their family name first.
    fn couple_sexes(&mut self) -> (Sex, Sex) {
        if self.rng.chance(SAME_SEX_COUPLES) {
            let sex = self.random_sex();
            return (sex, sex);
        }
        match self.rng.chance(WOMAN_TAKES_THE_NAME) {
            true => (Sex::Male, Sex::Female),
            false => (Sex::Female, Sex::Male),
        }
    }

    /// Two partners: the first keeps their family name, the second may take it (or add
    /// it). Returns them in that order.
    fn add_couple(
        &mut self,
        household: usize,
        culture: Culture,
        (first_sex, second_sex): (Sex, Sex),
    ) -> (usize, usize) {
        let first = self.someone(culture, first_sex);
        let land = self.land_of(household);
        let partner_culture = match self.rng.chance(0.8) {
            true => culture,
            false => self.rng.weighted(land.cultures()),
        };
        let mut second = self.someone(partner_culture, second_sex);
        second.birth_date = self.near(first.birth_date, 8);
        let takes_name = partner_culture.takes_name_at_marriage();
        let marries_now = takes_name && self.rng.chance(MARRY_IN_WINDOW);
        if takes_name && !marries_now {
            second.family = match self.rng.weighted(&COUPLE_NAMES) {
                CoupleNames::Shared => first.family.clone(),
                CoupleNames::Own => second.family,
                CoupleNames::DoubleBarrelled => format!("{}-{}", second.family, first.family),
            };
        }
        let partner_family = first.family.clone();
        let a = self.add_person(household, Role::Partner, first);
        let b = self.add_person(household, Role::Partner, second);
        self.persons[a].partner = Some(b);
        self.persons[b].partner = Some(a);
        if marries_now {
            let at = moment_in_window(&mut self.rng);
            self.marry(b, &partner_family, at);
        }
        self.share_between_partners(a, b);
        (a, b)
    }

    /// From `at` on, `person` carries their partner's family name (or both names).
    fn marry(&mut self, person: usize, partner_family: &str, at: DateTime<Utc>) {
        let maiden = self.persons[person].family.first().clone();
        let married = match self.rng.chance(DOUBLE_BARRELLED_AT_MARRIAGE) {
            true => format!("{maiden}-{partner_family}"),
            false => partner_family.to_owned(),
        };
        if self.rng.chance(NEW_EMAIL_AT_MARRIAGE) {
            let p = &self.persons[person];
            let (given, land, year) = (p.given, p.land, p.birth_date.year());
            let mailbox = self.new_mailbox(land, given, &married, year);
            self.persons[person].emails.change(at, mailbox);
        }
        let p = &mut self.persons[person];
        p.family.change(at, married);
        p.maiden = Some(maiden);
    }

    /// A joint mailbox, one partner using the other's, a shared loyalty membership.
    fn share_between_partners(&mut self, a: usize, b: usize) {
        if self.rng.chance(JOINT_MAILBOX) {
            let joint = self.joint_mailbox(a, b);
            self.persons[a].borrowed_email = Some((joint.clone(), 0.75));
            self.persons[b].borrowed_email = Some((joint, 0.75));
        } else if self.rng.chance(BORROWS_PARTNERS_MAILBOX) {
            let theirs = self.persons[a].emails.first().clone();
            self.persons[b].borrowed_email = Some((theirs, 0.5));
        }
        if self.persons[a].loyalty.is_some() && self.rng.chance(SHARES_LOYALTY) {
            self.persons[b].loyalty = self.persons[a].loyalty.clone();
        }
    }

    /// A grown child of `parent`, using the parent's mailbox now and then.
    fn add_child(&mut self, household: usize, parent: usize) -> usize {
        let p = &self.persons[parent];
        let (culture, family, parent_birth) = (p.culture, p.family.first().clone(), p.birth_date);
        let mut child = self.someone_random(culture);
        child.family = family;
        child.birth_date = self.years_later(parent_birth, 22, 38);
        let id = self.add_person(household, Role::Child, child);
        if self.rng.chance(BORROWS_PARENTS_MAILBOX) {
            let theirs = self.persons[parent].emails.first().clone();
            self.persons[id].borrowed_email = Some((theirs, 0.5));
        }
        id
    }

    /// A father and his son of the same given and family name, sometimes with the mother.
    fn add_father_and_son(&mut self, household: usize, culture: Culture) {
        let father = if self.rng.chance(0.6) {
            let (father, _) = self.add_couple(household, culture, (Sex::Male, Sex::Female));
            self.persons[father].role = Role::Father;
            father
        } else {
            let who = self.someone(culture, Sex::Male);
            self.add_person(household, Role::Father, who)
        };
        let p = &self.persons[father];
        let (given, family, birth) = (p.given, p.family.first().clone(), p.birth_date);
        let son = Identity {
            culture,
            sex: Sex::Male,
            given,
            family,
            birth_date: self.years_later(birth, 24, 36),
        };
        let son = self.add_person(household, Role::Son, son);
        if self.rng.chance(BORROWS_PARENTS_MAILBOX) {
            let theirs = self.persons[father].emails.first().clone();
            self.persons[son].borrowed_email = Some((theirs, 0.5));
        }
    }

    /// Adult twins (same birth date, same family name, sometimes rhyming given names),
    /// sometimes living with a parent.
    fn add_twins(&mut self, household: usize, culture: Culture) {
        let parent = self.rng.chance(0.5).then(|| {
            let who = self.someone_random(culture);
            self.add_person(household, Role::Parent, who)
        });
        let family = match parent {
            Some(p) => self.persons[p].family.first().clone(),
            None => culture.book().family(&mut self.rng),
        };
        let birth_date = match parent {
            Some(p) => self.years_later(self.persons[p].birth_date, 22, 38),
            None => self.adult_birth_date(),
        };
        let (sexes, names) = if self.rng.chance(TWINS_RHYME) {
            let (sex, a, b) = self.rng.pick(&TWIN_NAMES);
            ([sex, sex], [a, b])
        } else {
            let sexes = [self.random_sex(), self.random_sex()];
            let book = culture.book();
            let a = book.given(sexes[0], &mut self.rng);
            let b = loop {
                let b = book.given(sexes[1], &mut self.rng);
                if b != a {
                    break b;
                }
            };
            (sexes, [a, b])
        };
        let mut twins = Vec::new();
        for (sex, given) in sexes.into_iter().zip(names) {
            let who = Identity {
                culture,
                sex,
                given,
                family: family.clone(),
                birth_date,
            };
            twins.push(self.add_person(household, Role::Twin, who));
        }
        if self.rng.chance(TWINS_SHARE_MAILBOX) {
            let joint = self.joint_mailbox(twins[0], twins[1]);
            for &twin in &twins {
                self.persons[twin].borrowed_email = Some((joint.clone(), 0.6));
            }
        }
    }

    // ------------------------------------------------------------ persons

    fn random_sex(&mut self) -> Sex {
        match self.rng.chance(0.5) {
            true => Sex::Female,
            false => Sex::Male,
        }
    }

    fn land_of(&self, household: usize) -> Land {
        self.households[household].homes.first().town().land
    }

    fn someone_random(&mut self, culture: Culture) -> Identity {
        let sex = self.random_sex();
        self.someone(culture, sex)
    }

    /// A random person of a culture: the audience skews older.
    fn someone(&mut self, culture: Culture, sex: Sex) -> Identity {
        let book = culture.book();
        Identity {
            culture,
            sex,
            given: book.given(sex, &mut self.rng),
            family: book.family(&mut self.rng),
            birth_date: self.adult_birth_date(),
        }
    }

    /// Born 1938 to 2003, most around 1970 (the mean of two uniform draws).
    fn adult_birth_date(&mut self) -> NaiveDate {
        let spread = (self.rng.unit() + self.rng.unit()) / 2.0;
        let year = 1938 + (spread * 66.0) as i32;
        let day = self.rng.between(1, 365);
        NaiveDate::from_yo_opt(year, day).expect("a valid day of the year")
    }

    /// A date within `years` of `date` (not after [`latest_birth_date`]).
    fn near(&mut self, date: NaiveDate, years: u32) -> NaiveDate {
        let days = self.rng.below(2 * 365 * years as usize) as i64 - 365 * i64::from(years);
        (date + TimeDelta::days(days)).min(latest_birth_date())
    }

    /// A date `low..=high` years after `date`, but not after [`latest_birth_date`] (less a
    /// little, so that the youngest do not all share one birthday).
    fn years_later(&mut self, date: NaiveDate, low: u32, high: u32) -> NaiveDate {
        let days = 365 * i64::from(self.rng.between(low, high)) + self.rng.below(365) as i64;
        let youngest = latest_birth_date() - TimeDelta::days(self.rng.below(600) as i64);
        (date + TimeDelta::days(days)).min(youngest)
    }

    /// Adds a person to a household, making up their contact details.
    fn add_person(&mut self, household: usize, role: Role, who: Identity) -> usize {
        let id = self.persons.len();
        let land = self.land_of(household);
        let year = who.birth_date.year();
        let first_mailbox = self.new_mailbox(land, who.given, &who.family, year);
        let mut emails = Timeline::new(first_mailbox.clone());
        if self.rng.chance(NEW_EMAIL) {
            let at = moment_in_window(&mut self.rng);
            let mailbox = self.new_mailbox_elsewhere(land, &first_mailbox, &who);
            emails.change(at, mailbox);
        }
        let mobile = self.new_mobile_timeline(land, year);
        let cards = self.new_card_timeline();
        let loyalty = self.rng.chance(HAS_LOYALTY).then(|| self.new_loyalty_id());
        let short_forms = diminutives(who.given);
        let goes_by = (!short_forms.is_empty() && self.rng.chance(GOES_BY_SHORT_FORM))
            .then(|| self.rng.pick(short_forms));
        let second_surname = (who.culture == Culture::Spanish)
            .then(|| Culture::Spanish.book().family(&mut self.rng));
        let person = Person {
            id,
            household,
            role,
            namesake_group: None,
            culture: who.culture,
            sex: who.sex,
            land,
            given: who.given,
            family: Timeline::new(who.family),
            maiden: None,
            second_surname,
            birth_date: who.birth_date,
            goes_by,
            writes_plain: self.rng.chance(WRITES_PLAIN),
            emails,
            borrowed_email: None,
            mobile,
            phone_style: self.rng.weighted(&PHONE_STYLES),
            cards,
            partner: None,
            loyalty,
            online: self.rng.chance(0.7),
        };
        self.persons.push(person);
        self.households[household].members.push(id);
        id
    }

    fn new_mobile_timeline(&mut self, land: Land, birth_year: i32) -> Timeline<Option<Phone>> {
        // The oldest are likelier to have no mobile at all.
        let none = if birth_year < 1950 { 0.4 } else { NO_MOBILE };
        let first = (!self.rng.chance(none)).then(|| self.new_mobile(land));
        let mut mobile = Timeline::new(first);
        if mobile.first().is_some() && self.rng.chance(NEW_MOBILE) {
            let at = moment_in_window(&mut self.rng);
            let phone = self.new_mobile(land);
            mobile.change(at, Some(phone));
        }
        mobile
    }

    fn new_mobile(&mut self, land: Land) -> Phone {
        loop {
            let phone = land.mobile(&mut self.rng);
            if self.claim_phone(&phone) {
                return phone;
            }
        }
    }

    fn new_card_timeline(&mut self) -> Timeline<Option<String>> {
        let first = self.rng.chance(HAS_CARD).then(|| self.new_card_token());
        let mut cards = Timeline::new(first);
        if cards.first().is_some() && self.rng.chance(NEW_CARD) {
            let at = moment_in_window(&mut self.rng);
            let token = self.new_card_token();
            cards.change(at, Some(token));
        }
        cards
    }

    /// A payment processor's token: 64 random bits, so no two cards share one.
    fn new_card_token(&mut self) -> String {
        format!("tok_{:016x}", self.rng.next_u64())
    }

    fn new_loyalty_id(&mut self) -> String {
        loop {
            let id = format!("LY{}", self.rng.digits(8));
            if self.loyalty_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    // ------------------------------------------------------------ mailboxes

    /// A mailbox at another provider than `old`: people who switch, switch provider. (A
    /// mailbox drawn at the old provider is claimed and never used: harmless.)
    fn new_mailbox_elsewhere(&mut self, land: Land, old: &str, who: &Identity) -> String {
        let provider = |mailbox: &str| mailbox.split_once('@').map(|(_, domain)| domain.to_owned());
        let year = who.birth_date.year();
        loop {
            let mailbox = self.new_mailbox(land, who.given, &who.family, year);
            if provider(&mailbox) != provider(old) {
                return mailbox;
            }
        }
    }

    /// A mailbox nobody else has, made the way people make them from their names.
    fn new_mailbox(&mut self, land: Land, given: &str, family: &str, birth_year: i32) -> String {
        let pattern = self.rng.weighted(&MAILBOX_PATTERNS);
        let short_forms = diminutives(given);
        let nick = match short_forms.is_empty() {
            true => given,
            false => self.rng.pick(short_forms),
        };
        let g = mail_word(given);
        let local = pattern
            .replace("{g}", &g)
            .replace("{i}", &g[..1])
            .replace("{f}", &mail_word(family))
            .replace("{nick}", &mail_word(nick))
            .replace("{yy}", &format!("{:02}", birth_year % 100))
            .replace("{n}", &(1 + self.rng.below(99)).to_string())
            .replace("{handle}", self.rng.pick(&HANDLES));
        let domain = self.rng.weighted(land.mail_providers());
        self.claim_mailbox(&local, domain)
    }

    /// The household's joint mailbox for two of its members.
    fn joint_mailbox(&mut self, a: usize, b: usize) -> String {
        let (a, b) = (&self.persons[a], &self.persons[b]);
        let (g, h, f, land) = (a.given, b.given, a.family.first().clone(), a.land);
        let local = self
            .rng
            .pick(&JOINT_MAILBOX_PATTERNS)
            .replace("{g}", &mail_word(g))
            .replace("{h}", &mail_word(h))
            .replace("{f}", &mail_word(&f));
        let domain = self.rng.weighted(land.mail_providers());
        self.claim_mailbox(&local, domain)
    }

    /// `local@domain`, or with a number added until no one has that mailbox (compared as
    /// the normalizer does, so `j.doe@gmail.com` and `jdoe@gmail.com` are one mailbox).
    fn claim_mailbox(&mut self, local: &str, domain: &str) -> String {
        let mut address = format!("{local}@{domain}");
        loop {
            let mailbox = normalize::email(&address).expect("generated e-mails are valid");
            if self.mailboxes.insert(mailbox) {
                return address;
            }
            address = format!("{local}{}@{domain}", 2 + self.rng.below(998));
        }
    }
}

/// How people make a mailbox from their names, in parts: `{g}` given, `{i}` its initial,
/// `{f}` family, `{nick}` a short form, `{yy}` birth year, `{n}` a number.
const MAILBOX_PATTERNS: [(&str, u32); 12] = [
    ("{g}.{f}", 30),
    ("{g}{f}", 12),
    ("{i}.{f}", 8),
    ("{i}{f}", 6),
    ("{g}.{f}{yy}", 7),
    ("{g}_{f}", 4),
    ("{f}.{g}", 4),
    ("{f}{i}", 3),
    ("{g}{yy}", 7),
    ("{g}.{f}{n}", 6),
    ("{nick}.{f}", 4),
    ("{handle}{n}", 9),
];

/// Household mailboxes: `{g}` and `{h}` the two given names, `{f}` the family name.
const JOINT_MAILBOX_PATTERNS: [&str; 5] = [
    "{f}family",
    "the{f}s",
    "{g}and{h}",
    "{g}.{h}.{f}",
    "{f}.home",
];

/// A name as it goes into a mailbox: folded to ASCII, without spaces or apostrophes.
fn mail_word(name: &str) -> String {
    let folded = normalize::name(name).expect("generated names are valid");
    folded.replace(' ', "")
}

/// Buyers are adults by the time the window opens.
fn latest_birth_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2003, 12, 31).expect("a valid date")
}

// ================================================================ records

/// Where an order was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// An account checkout: name, e-mail, often phone, address, card, loyalty number.
    Web,
    /// A guest checkout: name and e-mail only.
    Guest,
    /// At the counter or by phone: a name, and a phone number or a postcode (rarely an
    /// e-mail), typed by staff.
    BoxOffice,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::Web => "web",
            Channel::Guest => "guest",
            Channel::BoxOffice => "box office",
        })
    }
}

/// Channels, in parts, for people who book online mostly and for those who come to the
/// box office.
const ONLINE_CHANNELS: [(Channel, u32); 3] = [
    (Channel::Web, 80),
    (Channel::Guest, 12),
    (Channel::BoxOffice, 8),
];
const BOX_OFFICE_CHANNELS: [(Channel, u32); 3] = [
    (Channel::Web, 20),
    (Channel::Guest, 10),
    (Channel::BoxOffice, 70),
];

/// What box-office staff take down besides the name, in parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CounterContact {
    Phone,
    Postcode,
    PhoneAndPostcode,
    Email,
}

const COUNTER_CONTACTS: [(CounterContact, u32); 4] = [
    (CounterContact::Phone, 45),
    (CounterContact::Postcode, 30),
    (CounterContact::PhoneAndPostcode, 15),
    (CounterContact::Email, 10),
];

/// Orders per person: (fewest, most) in a band, in parts. 2.7 on average: most people come
/// once or twice, a few regulars ten to thirty times.
const ORDER_COUNTS: [((usize, usize), u32); 7] = [
    ((1, 1), 535),
    ((2, 2), 200),
    ((3, 3), 90),
    ((4, 4), 50),
    ((5, 5), 25),
    ((6, 9), 55),
    ((10, 30), 45),
];
/// A regular's orders are spread over about this many days per order.
const DAYS_PER_ORDER: f64 = 70.0;

/// The placeholder box-office staff type when the buyer gives no e-mail.
pub const PLACEHOLDER_EMAIL: &str = "boxoffice@venue.example";

// Per-record rates.
const WEB_PHONE: f64 = 0.55;
const WEB_ADDRESS: f64 = 0.65;
const WEB_CARD: f64 = 0.65;
const WEB_LOYALTY: f64 = 0.50;
const WEB_BIRTH_DATE: f64 = 0.45;
const COUNTER_LOYALTY: f64 = 0.60;
const COUNTER_BIRTH_DATE: f64 = 0.10;
const PLACEHOLDER_EMAIL_RATE: f64 = 0.12;
const VENUE_PHONE_RATE: f64 = 0.08;
/// Paying with the partner's card.
const PARTNERS_CARD: f64 = 0.06;
/// Using the mobile rather than the landline, when there are both.
const MOBILE_OVER_LANDLINE: f64 = 0.75;
/// Using an old e-mail address or maiden name after the change.
const OLD_EMAIL: f64 = 0.10;
const MAIDEN_NAME: f64 = 0.25;
/// A Spanish second surname written out.
const SECOND_SURNAME: f64 = 0.5;
/// "Smith Jr." for a son of the same name.
const JUNIOR_SUFFIX: f64 = 0.2;
/// A short form by someone who usually writes the full name, and the full name by someone
/// who usually goes by a short form.
const OCCASIONAL_SHORT_FORM: f64 = 0.05;
const OCCASIONAL_FULL_NAME: f64 = 0.30;
/// An initial instead of the given name.
const WEB_INITIAL: f64 = 0.02;
const COUNTER_INITIAL: f64 = 0.10;
/// Diacritics: lost by someone who writes them, written by someone who usually does not.
const DIACRITICS_LOST: f64 = 0.20;
const DIACRITICS_WRITTEN: f64 = 0.20;
/// Typos per name field.
const WEB_NAME_TYPO: f64 = 0.015;
const COUNTER_NAME_TYPO: f64 = 0.03;
const ALL_CAPS: f64 = 0.04;
const ALL_LOWER: f64 = 0.04;
const SWAPPED_NAMES: f64 = 0.015;
/// E-mail noise.
const GMAIL_DOTS: f64 = 0.12;
const PLUS_TAG: f64 = 0.06;
const GOOGLEMAIL: f64 = 0.02;
const CAPITALIZED_EMAIL: f64 = 0.05;
const PADDED_EMAIL: f64 = 0.02;
const EMAIL_TYPO: f64 = 0.008;
const DOMAIN_TYPO: f64 = 0.004;
/// Phone noise.
const USUAL_PHONE_STYLE: f64 = 0.7;
const WRONG_DIGIT: f64 = 0.015;
/// Address noise.
const STREET_ABBREVIATED: f64 = 0.2;
const OTHER_CITY_SPELLING: f64 = 0.08;
const POSTCODE_LOWER: f64 = 0.08;
const POSTCODE_UNSPACED: f64 = 0.10;
const POSTCODE_TYPO: f64 = 0.01;
const UK_FOR_GB: f64 = 0.10;
const LOWERCASE_COUNTRY: f64 = 0.03;
/// Day and month swapped in a birth date.
const BIRTH_DATE_SWAPPED: f64 = 0.02;

/// One order as the vendor exported it: the fields as typed, and the truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub record_id: String,
    pub ts: DateTime<Utc>,
    pub channel: Channel,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Street and house number.
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub card_token: Option<String>,
    pub loyalty_id: Option<String>,
    /// Ground truth: who really placed the order.
    pub person_id: usize,
    /// Ground truth: how this record departs from the person's usual, current details
    /// (for explaining errors by scenario; never given to memory).
    pub quirks: Vec<Quirk>,
}

/// One way a record departs from the person's usual, current details: truth-only labels
/// for breaking recognition errors down by the scenario that caused them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quirk {
    Initial,
    ShortForm,
    FullNameOfShortForm,
    DiacriticsChanged,
    UmlautsWrittenOut,
    GivenTypo,
    FamilyTypo,
    Capitals,
    SwappedNames,
    MarriedName,
    MaidenName,
    SecondSurname,
    Junior,
    BorrowedMailbox,
    OldEmail,
    NewEmail,
    GmailVariant,
    PlusTag,
    EmailTypo,
    DomainTypo,
    Landline,
    NewMobile,
    WrongDigit,
    Moved,
    PartnersCard,
    NewCard,
    PlaceholderEmail,
    VenuePhone,
    BirthDateSwapped,
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quirk::Initial => "initial only",
            Quirk::ShortForm => "short form of the given name",
            Quirk::FullNameOfShortForm => "full name by one who goes by a short form",
            Quirk::DiacriticsChanged => "diacritics lost or added",
            Quirk::UmlautsWrittenOut => "umlauts written out",
            Quirk::GivenTypo => "typo in the given name",
            Quirk::FamilyTypo => "typo in the family name",
            Quirk::Capitals => "all capitals or lower case",
            Quirk::SwappedNames => "given and family name swapped",
            Quirk::MarriedName => "family name changed at marriage",
            Quirk::MaidenName => "maiden name after marriage",
            Quirk::SecondSurname => "second surname written",
            Quirk::Junior => "Jr. suffix",
            Quirk::BorrowedMailbox => "household member's or joint mailbox",
            Quirk::OldEmail => "old e-mail after a change",
            Quirk::NewEmail => "new e-mail (changed in the window)",
            Quirk::GmailVariant => "Gmail dots or googlemail",
            Quirk::PlusTag => "+tag in the e-mail",
            Quirk::EmailTypo => "typo in the e-mail",
            Quirk::DomainTypo => "typo in the e-mail domain",
            Quirk::Landline => "household landline",
            Quirk::NewMobile => "new mobile (changed in the window)",
            Quirk::WrongDigit => "phone with a wrong digit",
            Quirk::Moved => "address after a move",
            Quirk::PartnersCard => "partner's card",
            Quirk::NewCard => "new card (changed in the window)",
            Quirk::PlaceholderEmail => "box-office placeholder e-mail",
            Quirk::VenuePhone => "venue's own phone",
            Quirk::BirthDateSwapped => "birth date day and month swapped",
        })
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 14] = [
    "record_id",
    "ts",
    "given_name",
    "family_name",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
    "country",
    "birth_date",
    "card_token",
    "loyalty_id",
    "person_id",
];

impl Record {
    /// The record's names and e-mail as written: how a returning patron is recognized
    /// by an exact identifier.
    pub fn exact_signals(&self) -> Signals {
        let mut signals = Signals::new();
        if let Some(given) = &self.given_name {
            signals = signals.given_name(given.clone());
        }
        if let Some(family) = &self.family_name {
            signals = signals.family_name(family.clone());
        }
        signals.email(self.email.clone().unwrap_or_default())
    }

    fn blank(person_id: usize, ts: DateTime<Utc>, channel: Channel) -> Self {
        Record {
            record_id: String::new(),
            ts,
            channel,
            given_name: None,
            family_name: None,
            email: None,
            phone: None,
            address: None,
            postcode: None,
            city: None,
            country: None,
            birth_date: None,
            card_token: None,
            loyalty_id: None,
            person_id,
            quirks: Vec::new(),
        }
    }

    /// The fields in [`CSV_HEADER`] order, empty where absent.
    pub fn csv_row(&self) -> [String; 14] {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.record_id.clone(),
            self.ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            text(&self.given_name),
            text(&self.family_name),
            text(&self.email),
            text(&self.phone),
            text(&self.address),
            text(&self.postcode),
            text(&self.city),
            text(&self.country),
            self.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            text(&self.card_token),
            text(&self.loyalty_id),
            self.person_id.to_string(),
        ]
    }

    /// What the order says about its buyer, as a vendor integration would pass it.
    pub fn signals(&self) -> Signals {
        type Setter = fn(Signals, String) -> Signals;
        let fields: [(&Option<String>, Setter); 10] = [
            (&self.given_name, |s, v| s.given_name(v)),
            (&self.family_name, |s, v| s.family_name(v)),
            (&self.email, |s, v| s.email(v)),
            (&self.phone, |s, v| s.phone(v)),
            (&self.address, |s, v| s.street(v)),
            (&self.postcode, |s, v| s.postcode(v)),
            (&self.city, |s, v| s.city(v)),
            (&self.country, |s, v| s.country(v)),
            (&self.card_token, |s, v| s.card_token(v)),
            (&self.loyalty_id, |s, v| s.external_id("loyalty", v)),
        ];
        let mut signals = Signals::new();
        for (value, set) in fields {
            if let Some(value) = value {
                signals = set(signals, value.clone());
            }
        }
        match self.birth_date {
            Some(date) => signals.birth_date(date),
            None => signals,
        }
    }

    /// The order event: one order per record, no tickets, at the record's time.
    pub fn event(&self) -> Event {
        let order = Order::new(format!("o-{}", self.record_id), self.signals());
        Event::order(self.record_id.clone(), order).at(self.ts)
    }

    /// The identifiers memory would index, normalized as it does, with the shared ones
    /// (the placeholder e-mail, a venue's phone) told apart.
    pub fn identifiers(&self) -> Vec<(IdentifierKind, String)> {
        let mut ids = Vec::new();
        if let Some(email) = self.email.as_deref().and_then(|e| normalize::email(e).ok()) {
            let kind = match email == PLACEHOLDER_EMAIL {
                true => IdentifierKind::PlaceholderEmail,
                false => IdentifierKind::Email,
            };
            ids.push((kind, email));
        }
        let country = self.country.as_deref().and_then(|c| Country::parse(c).ok());
        let country = country.unwrap_or(Country::GB);
        if let Some(phone) = self.phone.as_deref()
            && let Ok(phone) = normalize::phone(phone, country)
        {
            let venue = |(land, _): &(Land, u32)| land.venue_phone().e164() == phone;
            let kind = match LANDS.iter().any(venue) {
                true => IdentifierKind::VenuePhone,
                false => IdentifierKind::Phone,
            };
            ids.push((kind, phone));
        }
        if let Some(token) = &self.card_token {
            ids.push((IdentifierKind::CardToken, token.trim().to_owned()));
        }
        if let Some(loyalty) = &self.loyalty_id {
            ids.push((IdentifierKind::Loyalty, loyalty.trim().to_owned()));
        }
        ids
    }
}

/// Kinds of identifier, for explaining links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    Email,
    PlaceholderEmail,
    Phone,
    VenuePhone,
    CardToken,
    Loyalty,
}

impl IdentifierKind {
    /// Whether it is one person's (not a placeholder shared by strangers).
    pub fn is_personal(self) -> bool {
        !matches!(
            self,
            IdentifierKind::PlaceholderEmail | IdentifierKind::VenuePhone
        )
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdentifierKind::Email => "e-mail",
            IdentifierKind::PlaceholderEmail => "placeholder e-mail",
            IdentifierKind::Phone => "phone",
            IdentifierKind::VenuePhone => "venue phone",
            IdentifierKind::CardToken => "card",
            IdentifierKind::Loyalty => "loyalty id",
        })
    }
}

impl World {
    /// Every order a person places, in time order, each written as it was typed that day.
    fn records_of(&self, person: &Person, rng: &mut Rng) -> Vec<Record> {
        let count = order_count(rng);
        let times = order_times(rng, count);
        times
            .into_iter()
            .map(|t| {
                let channels = match person.online {
                    true => &ONLINE_CHANNELS,
                    false => &BOX_OFFICE_CHANNELS,
                };
                let channel = rng.weighted(channels);
                self.record(person, t, channel, rng)
            })
            .collect()
    }

    fn record(&self, person: &Person, t: DateTime<Utc>, channel: Channel, rng: &mut Rng) -> Record {
        let homes = &self.households[person.household].homes;
        let home = homes.at(t);
        let mut record = Record::blank(person.id, t, channel);
        let q = &mut record.quirks;
        if homes.before(t).is_some() {
            q.push(Quirk::Moved);
        }
        let (given, family) = written_name(person, t, channel, rng, q);
        record.given_name = Some(given);
        record.family_name = Some(family);
        match channel {
            Channel::Web => {
                record.email = Some(email_written(person, t, rng, &mut record.quirks));
                if rng.chance(WEB_PHONE) {
                    record.phone = phone_written(person, home, t, rng, &mut record.quirks);
                }
                if rng.chance(WEB_ADDRESS) {
                    write_address(&mut record, home, rng);
                }
                if rng.chance(WEB_CARD) {
                    record.card_token = self.card_used(person, t, rng, &mut record.quirks);
                }
                if rng.chance(WEB_LOYALTY) {
                    record.loyalty_id = person.loyalty.clone();
                }
                if rng.chance(WEB_BIRTH_DATE) {
                    record.birth_date = Some(birth_date_written(person.birth_date, rng));
                }
            }
            Channel::Guest => {
                record.email = Some(email_written(person, t, rng, &mut record.quirks));
            }
            Channel::BoxOffice => self.counter_record(&mut record, person, home, rng),
        }
        if record.phone.is_some() || record.postcode.is_some() {
            record.country = Some(country_written(person.land, rng));
        }
        if record.birth_date.is_some_and(|d| d != person.birth_date) {
            record.quirks.push(Quirk::BirthDateSwapped);
        }
        record
    }

    /// What box-office staff type besides the name.
    fn counter_record(&self, record: &mut Record, person: &Person, home: &Home, rng: &mut Rng) {
        let t = record.ts;
        let phone = phone_written(person, home, t, rng, &mut record.quirks);
        match (rng.weighted(&COUNTER_CONTACTS), phone) {
            (CounterContact::Phone, Some(phone)) => record.phone = Some(phone),
            (CounterContact::PhoneAndPostcode, Some(phone)) => {
                record.phone = Some(phone);
                record.postcode = Some(postcode_written(home, rng));
            }
            (CounterContact::Email, _) => {
                record.email = Some(email_written(person, t, rng, &mut record.quirks));
            }
            // No phone to give: the postcode will do.
            _ => record.postcode = Some(postcode_written(home, rng)),
        }
        if record.email.is_none() && rng.chance(PLACEHOLDER_EMAIL_RATE) {
            record.email = Some(PLACEHOLDER_EMAIL.to_owned());
            record.quirks.push(Quirk::PlaceholderEmail);
        }
        if record.phone.is_none() && rng.chance(VENUE_PHONE_RATE) {
            record.quirks.push(Quirk::VenuePhone);
            let style = rng.pick(&[PhoneStyle::National, PhoneStyle::NationalCompact]);
            record.phone = Some(person.land.venue_phone().written(style));
        }
        if rng.chance(COUNTER_LOYALTY) {
            record.loyalty_id = person.loyalty.clone();
        }
        if rng.chance(COUNTER_BIRTH_DATE) {
            record.birth_date = Some(birth_date_written(person.birth_date, rng));
        }
    }

    /// Their own card, or now and then their partner's.
    fn card_used(
        &self,
        person: &Person,
        t: DateTime<Utc>,
        rng: &mut Rng,
        q: &mut Vec<Quirk>,
    ) -> Option<String> {
        let partners = person
            .partner
            .and_then(|p| self.persons[p].cards.at(t).clone());
        match partners {
            Some(card) if rng.chance(PARTNERS_CARD) => {
                q.push(Quirk::PartnersCard);
                Some(card)
            }
            _ => {
                if person.cards.before(t).is_some() {
                    q.push(Quirk::NewCard);
                }
                person.cards.at(t).clone()
            }
        }
    }
}

fn order_count(rng: &mut Rng) -> usize {
    let (fewest, most) = rng.weighted(&ORDER_COUNTS);
    // Squared, so that fewer people sit at the top of a band.
    let u = rng.unit();
    fewest + (u * u * (most - fewest + 1) as f64) as usize
}

/// `n` moments: the first anywhere in the window, the rest after it, spread over about
/// [`DAYS_PER_ORDER`] days per order (less if the window ends first).
fn order_times(rng: &mut Rng, n: usize) -> Vec<DateTime<Utc>> {
    let first = moment_in_window(rng);
    let room = (window_end() - first).num_seconds().max(1);
    let wanted = n as f64 * DAYS_PER_ORDER * 86_400.0 * (0.5 + rng.unit());
    let span = (wanted as i64).clamp(1, room);
    let mut times = vec![first];
    for _ in 1..n {
        times.push(first + TimeDelta::seconds(rng.below(span as usize) as i64));
    }
    times.sort();
    times
}

// ---------------------------------------------------------------- names as written

/// Given and family name as written on one order.
fn written_name(
    person: &Person,
    t: DateTime<Utc>,
    channel: Channel,
    rng: &mut Rng,
    q: &mut Vec<Quirk>,
) -> (String, String) {
    let counter = channel == Channel::BoxOffice;
    let mut given = given_written(person, counter, rng, q);
    let mut family = family_written(person, t, rng, q);
    // A form or keyboard without diacritics, or the reverse for someone who usually drops
    // them.
    let plain = match person.writes_plain {
        true => !rng.chance(DIACRITICS_WRITTEN),
        false => rng.chance(DIACRITICS_LOST),
    };
    let has_diacritics =
        without_diacritics(&given, false) != given || without_diacritics(&family, false) != family;
    if has_diacritics && plain != person.writes_plain {
        q.push(Quirk::DiacriticsChanged);
    }
    if plain {
        let write_out = person.culture.writes_out_umlauts() && rng.chance(0.4);
        if write_out && has_diacritics {
            q.push(Quirk::UmlautsWrittenOut);
        }
        given = without_diacritics(&given, write_out);
        family = without_diacritics(&family, write_out);
    }
    let typo = if counter {
        COUNTER_NAME_TYPO
    } else {
        WEB_NAME_TYPO
    };
    if rng.chance(typo) {
        given = with_typo(&given, rng);
        q.push(Quirk::GivenTypo);
    }
    if rng.chance(typo) {
        family = with_typo(&family, rng);
        q.push(Quirk::FamilyTypo);
    }
    if rng.chance(ALL_CAPS) {
        (given, family) = (given.to_uppercase(), family.to_uppercase());
        q.push(Quirk::Capitals);
    } else if rng.chance(ALL_LOWER) {
        (given, family) = (given.to_lowercase(), family.to_lowercase());
        q.push(Quirk::Capitals);
    }
    if !counter && rng.chance(SWAPPED_NAMES) {
        q.push(Quirk::SwappedNames);
        return (family, given);
    }
    (given, family)
}

fn given_written(person: &Person, counter: bool, rng: &mut Rng, q: &mut Vec<Quirk>) -> String {
    let initial = if counter {
        COUNTER_INITIAL
    } else {
        WEB_INITIAL
    };
    if rng.chance(initial) {
        q.push(Quirk::Initial);
        let first: String = person.given.chars().take(1).collect();
        return match rng.chance(0.7) {
            true => format!("{first}."),
            false => first,
        };
    }
    let short_forms = diminutives(person.given);
    let name = match person.goes_by {
        Some(_) if rng.chance(OCCASIONAL_FULL_NAME) => {
            q.push(Quirk::FullNameOfShortForm);
            person.given
        }
        Some(short) => short,
        None if !short_forms.is_empty() && rng.chance(OCCASIONAL_SHORT_FORM) => {
            q.push(Quirk::ShortForm);
            rng.pick(short_forms)
        }
        None => person.given,
    };
    name.to_owned()
}

fn family_written(person: &Person, t: DateTime<Utc>, rng: &mut Rng, q: &mut Vec<Quirk>) -> String {
    let current = person.family.at(t);
    let mut family = match (&person.maiden, person.family.before(t)) {
        (Some(maiden), Some(_)) if rng.chance(MAIDEN_NAME) => {
            q.push(Quirk::MaidenName);
            maiden.clone()
        }
        (_, Some(_)) => {
            q.push(Quirk::MarriedName);
            current.clone()
        }
        _ => current.clone(),
    };
    if let Some(second) = &person.second_surname
        && rng.chance(SECOND_SURNAME)
    {
        family = format!("{family} {second}");
        q.push(Quirk::SecondSurname);
    }
    if person.role == Role::Son && rng.chance(JUNIOR_SUFFIX) {
        family.push_str(" Jr.");
        q.push(Quirk::Junior);
    }
    family
}

/// The name with its diacritics dropped (`Müller` → `Muller`), or umlauts written out
/// (`Müller` → `Mueller`, `Søren` → `Soeren`).
fn without_diacritics(name: &str, write_out_umlauts: bool) -> String {
    let mut plain = String::with_capacity(name.len() + 2);
    for c in name.chars() {
        let written_out = match c {
            'ä' => "ae",
            'ö' | 'ø' => "oe",
            'ü' => "ue",
            'Ä' => "Ae",
            'Ö' | 'Ø' => "Oe",
            'Ü' => "Ue",
            'å' => "aa",
            'Å' => "Aa",
            _ => "",
        };
        if write_out_umlauts && !written_out.is_empty() {
            plain.push_str(written_out);
            continue;
        }
        let replacement = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
            'À' | 'Á' | 'Â' | 'Ä' | 'Å' => "A",
            'æ' => "ae",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'È' | 'É' | 'Ê' | 'Ë' => "E",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'Í' | 'Î' => "I",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'Ó' | 'Ö' | 'Ø' => "O",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'Ú' | 'Ü' => "U",
            'ß' => "ss",
            'œ' => "oe",
            _ => {
                plain.push(c);
                continue;
            }
        };
        plain.push_str(replacement);
    }
    plain
}

/// One slip of the fingers: a letter dropped, doubled, swapped with the next, or hit next
/// to the right key. The first letter stays: people rarely get it wrong.
fn with_typo(word: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 3 {
        return word.to_owned();
    }
    let i = 1 + rng.below(chars.len() - 1);
    match rng.below(4) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, chars[i]),
        2 if i + 1 < chars.len() => chars.swap(i, i + 1),
        _ => chars[i] = neighbouring_key(chars[i], rng),
    }
    chars.into_iter().collect()
}

/// A key next to `c` on a QWERTY keyboard (or `c` itself if it is not a letter there).
fn neighbouring_key(c: char, rng: &mut Rng) -> char {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let lower = c.to_ascii_lowercase();
    for row in ROWS {
        let row = row.as_bytes();
        if let Some(i) = row.iter().position(|&k| char::from(k) == lower) {
            let j = match (i, rng.chance(0.5)) {
                (0, _) => 1,
                (i, _) if i + 1 == row.len() => i - 1,
                (i, true) => i + 1,
                (i, false) => i - 1,
            };
            let key = char::from(row[j]);
            return match c.is_ascii_uppercase() {
                true => key.to_ascii_uppercase(),
                false => key,
            };
        }
    }
    c
}

// ---------------------------------------------------------------- contacts as written

/// The mailbox they use today, written as they write it today.
fn email_written(person: &Person, t: DateTime<Utc>, rng: &mut Rng, q: &mut Vec<Quirk>) -> String {
    let mailbox = match (&person.borrowed_email, person.emails.before(t)) {
        (Some((shared, share)), _) if rng.chance(*share) => {
            q.push(Quirk::BorrowedMailbox);
            shared
        }
        (_, Some(old)) if rng.chance(OLD_EMAIL) => {
            q.push(Quirk::OldEmail);
            old
        }
        (_, old) => {
            if old.is_some() {
                q.push(Quirk::NewEmail);
            }
            person.emails.at(t)
        }
    };
    email_variant(mailbox, rng, q)
}

/// A spelling of a mailbox: Gmail dots and `googlemail.com`, `+tags`, capitals, spaces,
/// and rarely a typo that makes it another address.
fn email_variant(mailbox: &str, rng: &mut Rng, q: &mut Vec<Quirk>) -> String {
    let (local, domain) = mailbox.split_once('@').expect("a mailbox has an @");
    let (mut local, mut domain) = (local.to_owned(), domain.to_owned());
    let gmail = domain == "gmail.com" || domain == "googlemail.com";
    if gmail && local.len() > 1 && rng.chance(GMAIL_DOTS) {
        q.push(Quirk::GmailVariant);
        local = match local.contains('.') {
            true => local.replace('.', ""),
            false => {
                let at = 1 + rng.below(local.len() - 1);
                format!("{}.{}", &local[..at], &local[at..])
            }
        };
    }
    if gmail && rng.chance(GOOGLEMAIL) {
        q.push(Quirk::GmailVariant);
        domain = "googlemail.com".to_owned();
    }
    if rng.chance(PLUS_TAG) {
        q.push(Quirk::PlusTag);
        local = format!(
            "{local}+{}",
            rng.pick(&["tickets", "theatre", "shows", "news"])
        );
    }
    if rng.chance(EMAIL_TYPO) {
        local = with_typo(&local, rng);
        q.push(Quirk::EmailTypo);
    } else if rng.chance(DOMAIN_TYPO) {
        domain = domain_with_typo(&domain);
        q.push(Quirk::DomainTypo);
    }
    let mut email = format!("{local}@{domain}");
    if rng.chance(CAPITALIZED_EMAIL) {
        email = match rng.chance(0.5) {
            true => email.to_uppercase(),
            false => capitalized(&email),
        };
    }
    if rng.chance(PADDED_EMAIL) {
        email = format!(" {email} ");
    }
    email
}

/// The usual slips in a provider's domain (each a different, valid-looking domain).
fn domain_with_typo(domain: &str) -> String {
    let typo = match domain {
        "gmail.com" => "gmial.com",
        "googlemail.com" => "googlemail.co",
        "hotmail.co.uk" => "hotmail.co",
        "hotmail.com" => "hotmial.com",
        "gmx.de" => "gmx.net",
        "web.de" => "wed.de",
        "outlook.com" => "outlok.com",
        "orange.fr" => "orange.com",
        _ => return format!("{domain}.com"),
    };
    typo.to_owned()
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Their mobile or the household's landline, written their way (or another way today),
/// now and then with a wrong digit.
fn phone_written(
    person: &Person,
    home: &Home,
    t: DateTime<Utc>,
    rng: &mut Rng,
    q: &mut Vec<Quirk>,
) -> Option<String> {
    let new_mobile = person.mobile.before(t).is_some();
    let phone = match (person.mobile.at(t), &home.landline) {
        (Some(mobile), Some(_)) if rng.chance(MOBILE_OVER_LANDLINE) => {
            if new_mobile {
                q.push(Quirk::NewMobile);
            }
            mobile
        }
        (_, Some(landline)) => {
            q.push(Quirk::Landline);
            landline
        }
        (Some(mobile), None) => {
            if new_mobile {
                q.push(Quirk::NewMobile);
            }
            mobile
        }
        (None, None) => return None,
    };
    let style = match rng.chance(USUAL_PHONE_STYLE) {
        true => person.phone_style,
        false => rng.weighted(&PHONE_STYLES),
    };
    Some(match rng.chance(WRONG_DIGIT) {
        true => {
            q.push(Quirk::WrongDigit);
            phone.with_wrong_digit(rng).written(style)
        }
        false => phone.written(style),
    })
}

/// Street, postcode and city.
fn write_address(record: &mut Record, home: &Home, rng: &mut Rng) {
    let mut street = home.street_line();
    if rng.chance(STREET_ABBREVIATED) {
        street = abbreviated(&street);
    }
    let town = home.town();
    let city = match rng.chance(OTHER_CITY_SPELLING) {
        true => rng.pick(town.other_spellings),
        false => town.name,
    };
    record.address = Some(street);
    record.postcode = Some(postcode_written(home, rng));
    record.city = Some(city.to_owned());
}

/// The street with its kind abbreviated: `Baker St`, `Hauptstr.`, `bd Voltaire`.
fn abbreviated(street: &str) -> String {
    const ABBREVIATIONS: [(&str, &str); 9] = [
        (" Street", " St"),
        (" Road", " Rd"),
        (" Lane", " Ln"),
        ("straße", "str."),
        (" Straße", " Str."),
        ("straat", "str."),
        ("boulevard", "bd"),
        ("avenue", "av."),
        ("ß", "ss"),
    ];
    for (long, short) in ABBREVIATIONS {
        if street.contains(long) {
            return street.replacen(long, short, 1);
        }
    }
    street.to_owned()
}

fn postcode_written(home: &Home, rng: &mut Rng) -> String {
    let mut postcode = home.postcode();
    if rng.chance(POSTCODE_UNSPACED) {
        postcode = postcode.replace(' ', "");
    }
    if rng.chance(POSTCODE_LOWER) {
        postcode = postcode.to_lowercase();
    }
    if rng.chance(POSTCODE_TYPO) {
        postcode = postcode_with_typo(&postcode, rng);
    }
    postcode
}

/// One character of the postcode replaced by another of its kind (digit for digit).
fn postcode_with_typo(postcode: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = postcode.chars().collect();
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_alphanumeric())
        .collect();
    let i = rng.pick(&positions);
    chars[i] = match chars[i].is_ascii_digit() {
        true => char::from(b'0' + ((chars[i] as u8 - b'0' + 1) % 10)),
        false => neighbouring_key(chars[i], rng),
    };
    chars.into_iter().collect()
}

fn country_written(land: Land, rng: &mut Rng) -> String {
    if land == Land::Gb && rng.chance(UK_FOR_GB) {
        return "UK".to_owned();
    }
    match rng.chance(LOWERCASE_COUNTRY) {
        true => land.code().to_lowercase(),
        false => land.code().to_owned(),
    }
}

/// The birth date, now and then with day and month swapped (where both could be months).
fn birth_date_written(date: NaiveDate, rng: &mut Rng) -> NaiveDate {
    let swappable = date.day() <= 12 && date.day() != date.month();
    if swappable && rng.chance(BIRTH_DATE_SWAPPED) {
        return NaiveDate::from_ymd_opt(date.year(), date.day(), date.month()).unwrap_or(date);
    }
    date
}

// ================================================================ linking and scoring

/// The memory every measurement uses: British by default (the country of most buyers;
/// other records carry their country), its clock at the end of the window, recognition as
/// shipped unless [`TUNING_KNOBS`] are set.
pub fn memory() -> regulars::Result<Memory> {
    let builder = Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(window_end()));
    tuned(builder).build()
}

/// Environment variables that change recognition settings, for trying settings without
/// recompiling. None is read unless set, so by default the figures are the shipped ones.
pub const TUNING_KNOBS: [&str; 6] = [
    "TUNE_BONUS",
    "TUNE_GROWTH",
    "TUNE_KNOWN",
    "TUNE_REVIEW",
    "TUNE_MARGIN",
    "TUNE_MERGE",
];

/// The tuning knobs that are set, with their values.
pub fn tuning() -> Vec<(&'static str, f64)> {
    let value = |name: &str| std::env::var(name).ok()?.parse().ok();
    TUNING_KNOBS
        .iter()
        .filter_map(|&name| Some((name, value(name)?)))
        .collect()
}

/// `builder` with the settings of the tuning knobs that are set.
fn tuned(mut builder: regulars::MemoryBuilder) -> regulars::MemoryBuilder {
    let knobs = tuning();
    if knobs.is_empty() {
        return builder;
    }
    let mut thresholds = regulars::Thresholds::default();
    for (name, value) in knobs {
        match name {
            "TUNE_BONUS" => {
                let model = regulars::PersonModel {
                    rare_bonus: value,
                    ..Default::default()
                };
                builder = builder
                    .without_default_strategies()
                    .strategy(regulars::PersonMatcher::with_model(model));
            }
            "TUNE_GROWTH" => thresholds = thresholds.growth(value),
            "TUNE_KNOWN" => thresholds = thresholds.known(value),
            "TUNE_REVIEW" => thresholds = thresholds.review(value),
            "TUNE_MERGE" => thresholds = thresholds.merge(value),
            _ => thresholds = thresholds.margin(value),
        }
    }
    builder.thresholds(thresholds)
}

/// What memory answered, record by record.
#[derive(Debug, Default)]
pub struct Stream {
    /// The patron each record was assigned when it arrived; `None` if it was rejected.
    pub assigned: Vec<Option<PatronId>>,
    /// Decisions as `Recognition::decision` names them ("known", "review", "new").
    pub decisions: BTreeMap<&'static str, usize>,
    /// Records memory rejected, with the error.
    pub rejected: Vec<(usize, regulars::Error)>,
    /// Each record's decision ("known", "review", "new"; "" if rejected).
    pub decided: Vec<&'static str>,
    /// The patrons each record's observation really merged into the one it was linked to.
    pub merged: Vec<Vec<PatronId>>,
    /// The candidates each recognition names (the known patron and its runner-up, the
    /// review candidates, or the nearest), best first.
    pub scored: Vec<Vec<(PatronId, regulars::Evidence)>>,
    /// How many patrons memory knew when each record arrived.
    pub patrons_before: Vec<usize>,
    /// Time spent in `observe` alone.
    pub observing: Duration,
}

/// Streams the records through `memory.observe` in arrival order.
pub fn stream(memory: &mut Memory, records: &[Record]) -> Stream {
    let events: Vec<Event> = records.iter().map(Record::event).collect();
    let mut stream = Stream::default();
    for (i, event) in events.into_iter().enumerate() {
        stream.patrons_before.push(memory.patron_count());
        let started = Instant::now();
        let seen = memory.observe(event);
        stream.observing += started.elapsed();
        let seen = match seen {
            Ok(seen) => seen,
            Err(error) => {
                stream.rejected.push((i, error));
                stream.decided.push("");
                stream.scored.push(Vec::new());
                stream.merged.push(Vec::new());
                stream.assigned.push(None);
                continue;
            }
        };
        let recognition = seen.recognition();
        let candidate = |c: &regulars::Candidate| (c.patron(), c.evidence().clone());
        let (scored, duplicates) = match recognition {
            regulars::Recognition::Known {
                patron,
                evidence,
                runner_up,
                duplicates,
                ..
            } => (
                std::iter::once((*patron, evidence.clone()))
                    .chain(runner_up.as_deref().map(candidate))
                    .collect(),
                duplicates.clone(),
            ),
            regulars::Recognition::Review { candidates, .. } => {
                (candidates.iter().map(candidate).collect(), Vec::new())
            }
            regulars::Recognition::New { nearest, .. } => {
                (nearest.iter().map(candidate).collect(), Vec::new())
            }
            _ => (Vec::new(), Vec::new()),
        };
        let decision = recognition.decision();
        *stream.decisions.entry(decision).or_default() += 1;
        let patron = seen.patron();
        let live = |id| memory.patron(id).map(|p| p.id());
        stream.decided.push(decision);
        stream.scored.push(scored);
        stream.merged.push(
            duplicates
                .into_iter()
                .filter(|&d| live(d) == live(patron))
                .collect(),
        );
        stream.assigned.push(Some(patron));
    }
    stream
}

/// Each record's patron as memory knows it now: merges forward an old id to the survivor.
pub fn current_patrons(memory: &Memory, assigned: &[Option<PatronId>]) -> Vec<Option<PatronId>> {
    assigned
        .iter()
        .map(|id| id.and_then(|id| memory.patron(id).map(|p| p.id())))
        .collect()
}

/// Pairwise linkage counts: of all pairs of records, how many memory put together, how
/// many belong together, and how many both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pairwise {
    pub predicted: u64,
    pub truth: u64,
    pub correct: u64,
}

impl Pairwise {
    /// `truth[i]` is record `i`'s person, `predicted[i]` its patron (`None`, a rejected
    /// record, is a patron of its own).
    pub fn count(truth: &[usize], predicted: &[Option<PatronId>]) -> Self {
        let mut clusters: HashMap<PatronId, u64> = HashMap::new();
        let mut persons: HashMap<usize, u64> = HashMap::new();
        let mut both: HashMap<(PatronId, usize), u64> = HashMap::new();
        for (&person, &patron) in truth.iter().zip(predicted) {
            *persons.entry(person).or_default() += 1;
            if let Some(patron) = patron {
                *clusters.entry(patron).or_default() += 1;
                *both.entry((patron, person)).or_default() += 1;
            }
        }
        let pairs = |n: &u64| n * n.saturating_sub(1) / 2;
        Pairwise {
            predicted: clusters.values().map(pairs).sum(),
            truth: persons.values().map(pairs).sum(),
            correct: both.values().map(pairs).sum(),
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.truth)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Pairs put together that are different persons.
    pub fn false_merges(&self) -> u64 {
        self.predicted - self.correct
    }

    /// Their share of the pairs put together.
    pub fn false_merge_share(&self) -> f64 {
        ratio(self.false_merges(), self.predicted)
    }

    /// Pairs of one person's records kept apart.
    pub fn missed(&self) -> u64 {
        self.truth - self.correct
    }
}

/// `a / b`, and 1 for nothing out of nothing (no pairs predicted: no wrong ones).
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}
