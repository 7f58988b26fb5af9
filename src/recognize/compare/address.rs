//! Street lines and postcodes.

use super::edit::within_one_edit;

/// Bytes of a street line read; the rest of an overlong line is ignored.
const MAX_LINE: usize = 160;
/// Words read from a street line; more are ignored.
const MAX_WORDS: usize = 16;
/// House and flat numbers read from a street line; more are ignored.
const MAX_NUMBERS: usize = 4;
/// A word one typo away from a word of the other line counts this much of a match:
/// `hgih` is probably `high`, but `mill` and `hill` are both real.
const TYPO_CREDIT: f64 = 0.8;
/// Share of the word score kept when the house numbers disagree.
const NUMBERS_DISAGREE: f64 = 0.3;
/// Share of the word score kept when only one line has a house number.
const NUMBER_MISSING: f64 = 0.8;

/// Street-type words and their abbreviations, mapped to one spelling so that `High St`
/// meets `High Street` and `Hauptstr.` meets `Hauptstraße`. Keys are lowercase.
const CANONICAL: &[(&str, &str)] = &[
    ("st", "street"),
    ("str", "strasse"),
    ("strasse", "strasse"),
    ("straße", "strasse"),
    ("straat", "strasse"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("pl", "place"),
    ("platz", "place"),
    ("plein", "place"),
    ("plaza", "place"),
    ("ln", "lane"),
    ("dr", "drive"),
    ("ct", "court"),
    ("sq", "square"),
    ("cres", "crescent"),
    ("blvd", "boulevard"),
    ("bd", "boulevard"),
    ("boul", "boulevard"),
    ("hwy", "highway"),
    ("pde", "parade"),
    ("tce", "terrace"),
    ("terr", "terrace"),
    ("gdns", "gardens"),
    ("cl", "close"),
    ("pk", "park"),
    ("gr", "grove"),
    ("pkwy", "parkway"),
    ("rte", "route"),
    ("chem", "chemin"),
    ("imp", "impasse"),
];

/// Endings of compound street names (`Hauptstraße`, `Marktplatz`, `Kerkstraat`), split off
/// so that `Hauptstr. 5` and `Haupt Straße 5` agree. Checked in order; lowercase.
const COMPOUND_ENDINGS: &[(&str, &str)] = &[
    ("strasse", "strasse"),
    ("straße", "strasse"),
    ("straat", "strasse"),
    ("str", "strasse"),
    ("platz", "place"),
    ("plein", "place"),
    ("gasse", "gasse"),
    ("allee", "allee"),
    ("weg", "weg"),
    ("laan", "laan"),
];

/// The stem left by a compound ending must be at least this long (`weg` alone stays).
const MIN_STEM: usize = 3;

/// Longest word [`IGNORED`] or [`CANONICAL`] lists, and shortest word a compound ending
/// can be split from: a word outside these lengths is not looked for in those lists.
const LONGEST_LISTED: usize = max_len(IGNORED, CANONICAL);
const SHORTEST_COMPOUND: usize = MIN_STEM + min_len(COMPOUND_ENDINGS);

const fn max_len(words: &[&str], pairs: &[(&str, &str)]) -> usize {
    let mut longest = 0;
    let mut i = 0;
    while i < words.len() {
        if words[i].len() > longest {
            longest = words[i].len();
        }
        i += 1;
    }
    let mut i = 0;
    while i < pairs.len() {
        if pairs[i].0.len() > longest {
            longest = pairs[i].0.len();
        }
        i += 1;
    }
    longest
}

const fn min_len(pairs: &[(&str, &str)]) -> usize {
    let mut shortest = usize::MAX;
    let mut i = 0;
    while i < pairs.len() {
        if pairs[i].0.len() < shortest {
            shortest = pairs[i].0.len();
        }
        i += 1;
    }
    shortest
}

/// Words that only say a flat or floor follows; they carry nothing about the street.
const IGNORED: &[&str] = &[
    "flat",
    "apt",
    "apartment",
    "unit",
    "suite",
    "floor",
    "whg",
    "wohnung",
    "etage",
    "app",
    "appt",
    "nr",
    "no",
];

/// How alike two street lines are, from `0.0` to `1.0`.
///
/// Both lines are lowercased (ASCII letters) and split on anything but letters and digits. Street-type
/// words are mapped to one spelling (`st`→`street`, `str`/`straße`→`strasse`,
/// `rd`→`road`, `ave`→`avenue`, `pl`/`platz`→`place`, …), compound endings are split off
/// (`hauptstr` → `haupt strasse`), and flat markers (`flat`, `apt`, `whg`, …) dropped.
/// Tokens with a digit are house or flat numbers (`12a` and `12 a` are the same).
///
/// The score is the Jaccard index of the words (a word one typo from a word of the other
/// line counts 0.8 of a match), scaled by how the numbers agree: kept whole when every
/// number of the line with fewer numbers is in the other, scaled to 0.3 when none is (so
/// `12 high street` against `21 high street` scores 0.3), 0.8 when only one line has a
/// number. Two lines with nothing to compare score `0.0`. Reads at most 160 bytes,
/// 16 words and 4 numbers a line; allocation-free.
pub(crate) fn address_similarity(a: &str, b: &str) -> f64 {
    let mut buf_a = [0u8; MAX_LINE];
    let mut buf_b = [0u8; MAX_LINE];
    let a = Tokens::read(lowercase(a, &mut buf_a));
    let b = Tokens::read(lowercase(b, &mut buf_b));
    similarity(&a, &b)
}

/// A street line read once (lowercased, split into canonical words and numbers), to be
/// compared with many others: [`PreparedStreet::similarity`] answers exactly as
/// [`address_similarity`] with this line first, without reading this line again.
// No `Debug` derive: it holds personal data.
#[derive(Clone)]
pub(crate) struct PreparedStreet {
    /// The lowercased line the pieces point into.
    line: [u8; MAX_LINE],
    /// How many bytes of `line` are used.
    line_len: usize,
    /// The line's similarity with itself, worked out on first need: a line that
    /// lowercases to this one (the same person typing their address the same way) reads
    /// the same, so needs no reading.
    itself: std::cell::OnceCell<f64>,
    words: [Piece; MAX_WORDS],
    word_count: usize,
    /// Main part and suffix of each number.
    numbers: [(Piece, Piece); MAX_NUMBERS],
    number_count: usize,
}

/// Where a word of a prepared line is: a stretch of the lowercased line, or a canonical
/// spelling it was mapped to.
#[derive(Clone, Copy)]
enum Piece {
    Line { start: u8, len: u8 },
    Canonical(&'static str),
}

impl std::fmt::Debug for PreparedStreet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedStreet")
            .field("words", &self.word_count)
            .finish_non_exhaustive()
    }
}

impl PreparedStreet {
    /// Reads `line` once; `None` only if a piece cannot be kept (never for the lines
    /// [`address_similarity`] reads, which are cut to fit).
    pub(crate) fn new(line: &str) -> Option<Self> {
        let mut buf = [0u8; MAX_LINE];
        let lowered = lowercase(line, &mut buf);
        let tokens = Tokens::read(lowered);
        let base = lowered.as_ptr() as usize;
        let piece = |text: &str| -> Option<Piece> {
            let at = (text.as_ptr() as usize).wrapping_sub(base);
            if text.is_empty() {
                return Some(Piece::Canonical(""));
            }
            if at < lowered.len() && at + text.len() <= lowered.len() {
                return Some(Piece::Line {
                    start: u8::try_from(at).ok()?,
                    len: u8::try_from(text.len()).ok()?,
                });
            }
            // Not a stretch of the line: one of the canonical spellings.
            CANONICAL
                .iter()
                .chain(COMPOUND_ENDINGS)
                .map(|&(_, canon)| canon)
                .find(|&canon| canon == text)
                .map(Piece::Canonical)
        };
        let mut prepared = Self {
            line: [0; MAX_LINE],
            line_len: lowered.len(),
            itself: std::cell::OnceCell::new(),
            words: [Piece::Canonical(""); MAX_WORDS],
            word_count: 0,
            numbers: [(Piece::Canonical(""), Piece::Canonical("")); MAX_NUMBERS],
            number_count: 0,
        };
        for (slot, word) in prepared.words.iter_mut().zip(tokens.words()) {
            *slot = piece(word)?;
            prepared.word_count += 1;
        }
        for (slot, number) in prepared.numbers.iter_mut().zip(tokens.numbers().iter()) {
            *slot = (piece(number.main)?, piece(number.suffix)?);
            prepared.number_count += 1;
        }
        prepared.line = buf;
        Some(prepared)
    }

    /// [`address_similarity`] of this line and `other`.
    pub(crate) fn similarity(&self, other: &str) -> f64 {
        let line = self.line.get(..self.line_len).unwrap_or_default();
        if other.len() <= MAX_LINE && other.as_bytes().eq_ignore_ascii_case(line) {
            return *self.itself.get_or_init(|| {
                let tokens = self.tokens();
                similarity(&tokens, &tokens)
            });
        }
        let mut buf = [0u8; MAX_LINE];
        let other = Tokens::read(lowercase(other, &mut buf));
        similarity(&self.tokens(), &other)
    }

    /// Hands `with` this line's words and numbers, as [`read_street`] hands them for
    /// the line this was prepared from, without reading the line again.
    pub(crate) fn with_read<R>(&self, with: impl FnOnce(&[&str], &[(&str, &str)]) -> R) -> R {
        let tokens = self.tokens();
        let read = tokens.numbers();
        let mut numbers = [("", ""); MAX_NUMBERS];
        for (slot, number) in numbers.iter_mut().zip(read.iter()) {
            *slot = (number.main, number.suffix);
        }
        let count = read.len();
        with(tokens.words(), numbers.get(..count).unwrap_or_default())
    }

    /// This line's words and numbers, put together once for comparing with many lines
    /// read beforehand (see [`ReadStreet::similarity`]).
    pub(crate) fn read(&self) -> ReadStreet<'_> {
        ReadStreet(self.tokens())
    }

    /// The words and numbers as [`Tokens::read`] gave them.
    fn tokens(&self) -> Tokens<'_> {
        // Checked once here rather than piece by piece: it was the lowercased line.
        let line = self
            .line
            .get(..self.line_len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default();
        let text = |piece: Piece| -> &str {
            match piece {
                Piece::Line { start, len } => {
                    let (start, len) = (usize::from(start), usize::from(len));
                    line.get(start..start + len).unwrap_or_default()
                }
                Piece::Canonical(canon) => canon,
            }
        };
        let mut tokens = Tokens::empty();
        for &word in self.words.iter().take(self.word_count) {
            tokens.push_word(text(word));
        }
        for &(main, suffix) in self.numbers.iter().take(self.number_count) {
            tokens.push_number(Number {
                main: text(main),
                suffix: text(suffix),
            });
        }
        tokens
    }
}

/// A street line's words and numbers as [`address_similarity`] reads them, put back
/// together from pieces kept beforehand (see [`read_street`]): comparing with it gives
/// what comparing with the line gives, without reading the line again.
// No `Debug`: it holds personal data.
pub(crate) struct ReadStreet<'a>(Tokens<'a>);

impl<'a> ReadStreet<'a> {
    /// No words and no numbers yet.
    pub(crate) fn new() -> Self {
        Self(Tokens::empty())
    }

    /// Back to no words and no numbers, for another line.
    pub(crate) fn clear(&mut self) {
        self.0.word_count = 0;
        self.0.number_count = 0;
    }

    /// Adds a word [`read_street`] gave, in its order.
    pub(crate) fn push_word(&mut self, word: &'a str) {
        self.0.push_word(word);
    }

    /// Adds a number [`read_street`] gave, in its order.
    pub(crate) fn push_number(&mut self, main: &'a str, suffix: &'a str) {
        self.0.push_number(Number { main, suffix });
    }

    /// [`address_similarity`] of the two lines these were read from.
    pub(crate) fn similarity(&self, other: &ReadStreet<'_>) -> f64 {
        similarity(&self.0, &other.0)
    }
}

/// Reads `line` as [`address_similarity`] does and hands `with` its words and numbers
/// (main part and suffix), each in order: the pieces a [`ReadStreet`] is put back
/// together from.
pub(crate) fn read_street<R>(line: &str, with: impl FnOnce(&[&str], &[(&str, &str)]) -> R) -> R {
    let mut buf = [0u8; MAX_LINE];
    let tokens = Tokens::read(lowercase(line, &mut buf));
    let read = tokens.numbers();
    let mut numbers = [("", ""); MAX_NUMBERS];
    for (slot, number) in numbers.iter_mut().zip(read.iter()) {
        *slot = (number.main, number.suffix);
    }
    let count = read.len();
    with(tokens.words(), numbers.get(..count).unwrap_or_default())
}

/// [`address_similarity`] of `line` and a line read beforehand.
pub(crate) fn address_similarity_read(line: &str, other: &ReadStreet<'_>) -> f64 {
    let mut buf = [0u8; MAX_LINE];
    similarity(&Tokens::read(lowercase(line, &mut buf)), &other.0)
}

/// [`address_similarity`] of two lines already read.
fn similarity(a: &Tokens<'_>, b: &Tokens<'_>) -> f64 {
    let (words_a, words_b) = (a.words(), b.words());
    let (numbers_a, numbers_b) = (a.numbers(), b.numbers());
    if (words_a.is_empty() && numbers_a.is_empty()) || (words_b.is_empty() && numbers_b.is_empty())
    {
        return 0.0;
    }

    let words = if words_a.is_empty() && words_b.is_empty() {
        1.0
    } else {
        soft_jaccard(words_a, words_b)
    };
    let numbers = match (numbers_a.is_empty(), numbers_b.is_empty()) {
        (true, true) => 1.0,
        (true, false) | (false, true) => NUMBER_MISSING,
        (false, false) => {
            let shared = numbers_a.iter().filter(|n| numbers_b.contains(n)).count();
            let overlap = shared as f64 / numbers_a.len().min(numbers_b.len()) as f64;
            NUMBERS_DISAGREE + (1.0 - NUMBERS_DISAGREE) * overlap
        }
    };
    (words * numbers).clamp(0.0, 1.0)
}

/// The Jaccard index of two word lists, with a word one typo from an unmatched word of the
/// other list counting [`TYPO_CREDIT`] of a match.
fn soft_jaccard(a: &[&str], b: &[&str]) -> f64 {
    let (a, b) = (&a[..a.len().min(MAX_WORDS)], &b[..b.len().min(MAX_WORDS)]);
    let mut used = [false; MAX_WORDS];
    let mut exact = [false; MAX_WORDS];
    let mut matched = 0.0;
    // Exact matches first, so a typo match never takes a word an exact one needs.
    for (word, exact) in a.iter().zip(&mut exact) {
        let free = b
            .iter()
            .zip(&mut used)
            .find(|(other, used)| !**used && *other == word);
        if let Some((_, used)) = free {
            *used = true;
            *exact = true;
            matched += 1.0;
        }
    }
    for (word, _) in a
        .iter()
        .zip(&exact)
        .filter(|(w, exact)| !**exact && w.len() >= 4)
    {
        let free = b
            .iter()
            .zip(&mut used)
            .find(|(other, used)| !**used && other.len() >= 4 && within_one_edit(other, word));
        if let Some((_, used)) = free {
            *used = true;
            matched += TYPO_CREDIT;
        }
    }
    let union = (a.len() + b.len()) as f64 - matched;
    if union <= 0.0 { 0.0 } else { matched / union }
}

/// `text` with ASCII letters lowercased, cut to at most [`MAX_LINE`] bytes at a character
/// boundary.
fn lowercase<'b>(text: &str, buf: &'b mut [u8; MAX_LINE]) -> &'b str {
    let mut end = text.len().min(MAX_LINE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text.get(..end).unwrap_or_default();
    for (slot, byte) in buf.iter_mut().zip(text.bytes()) {
        *slot = byte.to_ascii_lowercase();
    }
    // Lowercasing ASCII bytes keeps UTF-8 valid.
    std::str::from_utf8(buf.get(..end).unwrap_or_default()).unwrap_or_default()
}

/// A house or flat number: its digits and letters (`12a` and `12 a` give `12` and `a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Number<'a> {
    /// The token, from its first digit.
    main: &'a str,
    /// A single letter that followed as its own token, or `""`.
    suffix: &'a str,
}

impl Number<'_> {
    /// Whether `self` and `other` name the same number, however the letter was attached.
    fn same(&self, other: &Number<'_>) -> bool {
        let (a, b) = (self.split(), other.split());
        a == b
    }

    /// Digits and letter suffix, with an attached suffix (`12a`) moved to the second part.
    fn split(&self) -> (&str, &str) {
        if !self.suffix.is_empty() {
            return (self.main, self.suffix);
        }
        let digits = self.main.bytes().take_while(u8::is_ascii_digit).count();
        (
            self.main.get(..digits).unwrap_or_default(),
            self.main.get(digits..).unwrap_or_default(),
        )
    }
}

/// The runs of letters and digits of `line` (what splitting on anything else and dropping
/// the empty pieces gives), reading ASCII bytes without decoding them.
fn alphanumeric_runs(line: &str) -> impl Iterator<Item = &str> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let bytes = line.as_bytes();
        let mut start = None;
        while let Some(&byte) = bytes.get(at) {
            let (alphanumeric, width) = if byte.is_ascii() {
                (byte.is_ascii_alphanumeric(), 1)
            } else {
                let c = line.get(at..).and_then(|rest| rest.chars().next())?;
                (c.is_alphanumeric(), c.len_utf8())
            };
            match (alphanumeric, start) {
                (true, None) => start = Some(at),
                (false, Some(from)) => {
                    let run = line.get(from..at);
                    at += width;
                    return run;
                }
                _ => {}
            }
            at += width;
        }
        start.and_then(|from| line.get(from..))
    })
}

/// The words and numbers of one street line.
// No `Debug`: it holds personal data.
struct Tokens<'a> {
    /// Canonical words, in order.
    words: [&'a str; MAX_WORDS],
    /// How many of `words` are used.
    word_count: usize,
    /// House and flat numbers, in order.
    numbers: [Number<'a>; MAX_NUMBERS],
    /// How many of `numbers` are used.
    number_count: usize,
}

impl<'a> Tokens<'a> {
    /// Splits a lowercased line into canonical words and numbers.
    fn read(line: &'a str) -> Self {
        let mut tokens = Tokens::empty();
        let mut after_number = false;
        for token in alphanumeric_runs(line) {
            if token.bytes().any(|b| b.is_ascii_digit()) {
                tokens.push_number(Number {
                    main: token,
                    suffix: "",
                });
                after_number = true;
                continue;
            }
            if after_number && token.len() == 1 && tokens.attach_suffix(token) {
                after_number = false;
                continue;
            }
            after_number = false;
            let listed = token.len() <= LONGEST_LISTED;
            if listed && IGNORED.contains(&token) {
                continue;
            }
            if listed && let Some(&(_, canon)) = CANONICAL.iter().find(|(k, _)| *k == token) {
                tokens.push_word(canon);
                continue;
            }
            let compound = (token.len() >= SHORTEST_COMPOUND)
                .then(|| {
                    COMPOUND_ENDINGS.iter().find_map(|&(ending, canon)| {
                        let stem = token.strip_suffix(ending)?;
                        (stem.len() >= MIN_STEM).then_some((stem, canon))
                    })
                })
                .flatten();
            match compound {
                Some((stem, canon)) => {
                    tokens.push_word(stem);
                    tokens.push_word(canon);
                }
                None => tokens.push_word(token),
            }
        }
        tokens
    }

    /// No words and no numbers.
    fn empty() -> Self {
        Tokens {
            words: [""; MAX_WORDS],
            word_count: 0,
            numbers: [Number::default(); MAX_NUMBERS],
            number_count: 0,
        }
    }

    /// Adds a word, unless the line already has as many as are read.
    fn push_word(&mut self, word: &'a str) {
        if let Some(slot) = self.words.get_mut(self.word_count) {
            *slot = word;
            self.word_count += 1;
        }
    }

    /// Adds a number, unless the line already has as many as are read.
    fn push_number(&mut self, number: Number<'a>) {
        if let Some(slot) = self.numbers.get_mut(self.number_count) {
            *slot = number;
            self.number_count += 1;
        }
    }

    /// Attaches a one-letter token to the number before it, if that number is digits only.
    fn attach_suffix(&mut self, letter: &'a str) -> bool {
        let Some(last) = self
            .number_count
            .checked_sub(1)
            .and_then(|i| self.numbers.get_mut(i))
        else {
            return false;
        };
        if last.suffix.is_empty() && last.main.bytes().all(|b| b.is_ascii_digit()) {
            last.suffix = letter;
            true
        } else {
            false
        }
    }

    /// The words read.
    fn words(&self) -> &[&'a str] {
        self.words.get(..self.word_count).unwrap_or_default()
    }

    /// The numbers read.
    fn numbers(&self) -> Numbers<'_, 'a> {
        Numbers(self.numbers.get(..self.number_count).unwrap_or_default())
    }
}

/// The numbers of a line, compared with [`Number::same`].
#[derive(Debug, Clone, Copy)]
struct Numbers<'s, 'a>(&'s [Number<'a>]);

impl Numbers<'_, '_> {
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    fn len(&self) -> usize {
        self.0.len()
    }

    /// The numbers.
    fn iter(&self) -> impl Iterator<Item = &Number<'_>> {
        self.0.iter()
    }

    /// Whether one of them is the same number as `number`.
    fn contains(&self, number: &Number<'_>) -> bool {
        self.0.iter().any(|n| n.same(number))
    }
}

/// How two postcodes agree. See [`PreparedPostcode::level`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PostcodeLevel {
    /// The same postcode.
    Exact,
    /// The same district: the same outward code for UK postcodes (`SW1A 1AA`, `SW1A 2BB`),
    /// otherwise the same first three characters (`10115`, `10117`; `1012AB`, `1012CD`).
    Near,
    /// None of the above.
    Different,
}

/// Longest postcode compared; longer input reads as different from everything but itself.
const MAX_POSTCODE: usize = 12;

/// [`PreparedPostcode::level`] of `a` and `b`.
#[cfg(test)]
pub(crate) fn postcode_level(a: &str, b: &str) -> PostcodeLevel {
    PreparedPostcode::new(a).level(b)
}

/// One postcode read once, to be compared with many others.
pub(crate) struct PreparedPostcode<'a> {
    text: &'a str,
    read: Option<Postcode>,
}

// Not derived: it holds personal data.
impl std::fmt::Debug for PreparedPostcode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPostcode").finish_non_exhaustive()
    }
}

impl<'a> PreparedPostcode<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            read: Postcode::read(text),
        }
    }

    /// Compares this postcode with `other`, both in `normalize::postcode`'s form
    /// (`SW1A1AA`, `10115`, `1234AB`); spaces, hyphens and lowercase are tolerated too.
    /// `Exact` when equal; `Near` when both are UK-shaped (a 2–4 character outward code
    /// starting with a letter, then a digit and two letters) with the same outward code, or,
    /// for any other pair of codes of at least 4 characters, the same first three (for
    /// 4-digit codes that is the same first three of four). Empty postcodes are
    /// `Different`. Allocation-free.
    pub(crate) fn level(&self, other: &str) -> PostcodeLevel {
        let (Some(a), Some(b)) = (self.read.as_ref(), Postcode::read(other)) else {
            return if !self.text.is_empty() && self.text == other {
                PostcodeLevel::Exact
            } else {
                PostcodeLevel::Different
            };
        };
        let (a, b) = (a.chars(), b.chars());
        if a.is_empty() || b.is_empty() {
            return PostcodeLevel::Different;
        }
        if a == b {
            return PostcodeLevel::Exact;
        }
        let near = match (uk_outward(a), uk_outward(b)) {
            (Some(x), Some(y)) => x == y,
            (None, None) => a.len() >= 4 && b.len() >= 4 && a.get(..3) == b.get(..3),
            // One UK postcode and one not: different countries.
            _ => false,
        };
        if near {
            PostcodeLevel::Near
        } else {
            PostcodeLevel::Different
        }
    }
}

/// A postcode's letters and digits, uppercased, on the stack.
// No `Debug`: it holds personal data.
struct Postcode {
    /// The characters.
    buf: [u8; MAX_POSTCODE],
    /// How many of `buf` are used.
    len: usize,
}

impl Postcode {
    /// Reads `text`, skipping spaces and hyphens; `None` for any other character or more than
    /// 12 letters and digits.
    fn read(text: &str) -> Option<Self> {
        let mut code = Postcode {
            buf: [0; MAX_POSTCODE],
            len: 0,
        };
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() {
                *code.buf.get_mut(code.len)? = byte.to_ascii_uppercase();
                code.len += 1;
            } else if byte != b' ' && byte != b'-' {
                return None;
            }
        }
        Some(code)
    }

    /// The characters read.
    fn chars(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// The outward code of a UK-shaped postcode (`SW1A` of `SW1A1AA`), or `None`.
fn uk_outward(code: &[u8]) -> Option<&[u8]> {
    if !(5..=7).contains(&code.len()) {
        return None;
    }
    let (outward, inward) = code.split_at(code.len() - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    let outward_ok = outward[0].is_ascii_alphabetic() && outward.iter().any(u8::is_ascii_digit);
    (inward_ok && outward_ok).then_some(outward)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(a: &str, b: &str) -> f64 {
        let s = address_similarity(a, b);
        assert!((s - address_similarity(b, a)).abs() < 1e-9, "{a} | {b}");
        assert_same_prepared(a, b);
        assert_same_prepared(b, a);
        assert!((0.0..=1.0).contains(&s));
        s
    }

    /// `line` put back together from the pieces [`read_street`] gives, kept as owned
    /// text the way a block keeps them.
    fn kept(line: &str) -> (Vec<String>, Vec<(String, String)>) {
        read_street(line, |words, numbers| {
            let words = words.iter().map(|w| w.to_string()).collect();
            let numbers = numbers
                .iter()
                .map(|(main, suffix)| (main.to_string(), suffix.to_string()))
                .collect();
            (words, numbers)
        })
    }

    fn put_back(kept: &(Vec<String>, Vec<(String, String)>)) -> ReadStreet<'_> {
        let mut street = ReadStreet::new();
        for word in &kept.0 {
            street.push_word(word);
        }
        for (main, suffix) in &kept.1 {
            street.push_number(main, suffix);
        }
        street
    }

    /// A line read once compares with another exactly as reading both each time does,
    /// and so does a line put back together from the pieces kept of it.
    fn assert_same_prepared(a: &str, b: &str) {
        let expected = address_similarity(a, b).to_bits();
        let prepared = PreparedStreet::new(a).map(|p| p.similarity(b).to_bits());
        assert_eq!(prepared, Some(expected), "{a} | {b}");
        let b_kept = kept(b);
        let b_read = put_back(&b_kept);
        let prepared = PreparedStreet::new(a).map(|p| p.read().similarity(&b_read).to_bits());
        assert_eq!(prepared, Some(expected), "{a} put together | kept {b}");
        assert_eq!(
            address_similarity_read(a, &b_read).to_bits(),
            expected,
            "{a} | kept {b}"
        );
    }

    proptest::proptest! {
        #[test]
        fn prepared_lines_compare_as_plain_ones(
            a in "([0-9]{1,3}[a-c]? |[A-Za-z]{1,9}(str|straße|platz)? |(St|Rd|Flat|apt|ß|é) |[,/-]){0,20}",
            b in "([0-9]{1,3}[a-c]? |[A-Za-z]{1,9}(str|straße|platz)? |(St|Rd|Flat|apt|ß|é) |[,/-]){0,20}",
        ) {
            assert_same_prepared(&a, &b);
            assert_same_prepared(&b, &a);
            // A line written as the prepared one, or in other capitals, is not read again.
            assert_same_prepared(&a, &a);
            assert_same_prepared(&a, &a.to_uppercase());
        }

        #[test]
        fn runs_are_the_pieces_between_other_characters(line in "[a-z0-9 ,./ßéΩ\u{300}-]{0,40}") {
            let split: Vec<&str> = line
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .collect();
            proptest::prop_assert_eq!(alphanumeric_runs(&line).collect::<Vec<_>>(), split);
        }
    }

    #[test]
    fn a_line_typed_as_the_prepared_one_scores_as_read() {
        let long = format!("{} 12 high street", "é".repeat(100));
        for line in ["12 High Street", "", "!!!", "12", long.as_str()] {
            assert_same_prepared(line, line);
            assert_same_prepared(line, &line.to_uppercase());
        }
    }

    #[test]
    fn abbreviations_and_compounds() {
        assert_eq!(sim("12 High Street", "12 high st"), 1.0);
        assert_eq!(sim("Hauptstraße 5", "Hauptstr. 5"), 1.0);
        assert_eq!(sim("Hauptstrasse 5", "Haupt-Str 5"), 1.0);
        assert_eq!(sim("Marktplatz 1", "Markt Pl. 1"), 1.0);
        assert_eq!(sim("Kerkstraat 14", "kerkstr 14"), 1.0);
        assert_eq!(sim("3 Acacia Ave", "3 acacia avenue"), 1.0);
        assert_eq!(sim("Flat 3, 12 High Street", "3/12 high st"), 1.0);
    }

    #[test]
    fn house_numbers() {
        let same = sim("12 high street", "12 high street");
        let swapped = sim("12 high street", "21 high street");
        assert_eq!(same, 1.0);
        assert!(swapped <= 0.3 + 1e-9, "{swapped}");
        assert_eq!(sim("12a high street", "12 a high street"), 1.0);
        assert!(sim("12a high street", "12b high street") <= 0.3 + 1e-9);
        assert!((sim("high street", "12 high street") - 0.8).abs() < 1e-9);
        // A flat number on one side only still agrees on the house.
        assert_eq!(sim("flat 3 12 high street", "12 high street"), 1.0);
    }

    #[test]
    fn words() {
        assert!(sim("12 high street", "12 station road") < 0.2);
        let typo = sim("12 hgih street", "12 high street");
        assert!(typo > 0.6 && typo < 1.0, "{typo}");
        assert_eq!(sim("", ""), 0.0);
        assert_eq!(sim("", "12 high street"), 0.0);
        assert_eq!(sim("!!!", "???"), 0.0);
        assert_eq!(sim("12", "12"), 1.0);
        assert!(sim("rue de l'église 4", "rue de l eglise 4") > 0.5);
        let long = "word ".repeat(200);
        let _ = sim(&long, &long);
        let _ = sim(&"é".repeat(200), "éé");
        let _ = sim(&"1 ".repeat(50), "1");
    }

    #[test]
    fn postcodes() {
        use PostcodeLevel::*;
        assert_eq!(postcode_level("SW1A1AA", "SW1A1AA"), Exact);
        assert_eq!(postcode_level("sw1a 1aa", "SW1A1AA"), Exact);
        assert_eq!(postcode_level("SW1A1AA", "SW1A2BB"), Near);
        assert_eq!(postcode_level("SW1A1AA", "SW1B1AA"), Different);
        assert_eq!(postcode_level("M11AE", "M12AE"), Near);
        assert_eq!(postcode_level("M11AE", "M21AE"), Different);
        assert_eq!(postcode_level("10115", "10117"), Near);
        assert_eq!(postcode_level("10115", "10245"), Different);
        assert_eq!(postcode_level("1012AB", "1012CD"), Near);
        assert_eq!(postcode_level("8001", "8002"), Near);
        assert_eq!(postcode_level("K1A0B1", "K1A0B2"), Near);
        assert_eq!(postcode_level("123", "124"), Different);
        assert_eq!(postcode_level("", ""), Different);
        assert_eq!(postcode_level("", "10115"), Different);
        assert_eq!(postcode_level("SW1A1AA", "10115"), Different);
        assert_eq!(postcode_level("1234567890123", "1234567890123"), Exact);
        assert_eq!(postcode_level("1234567890123", "1234567890124"), Different);
        assert_eq!(postcode_level("ü", "ü"), Exact);
        assert_eq!(postcode_level("ü1", "ü2"), Different);
    }
}
