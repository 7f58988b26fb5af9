//! Nicknames and diminutives of given names: `bob` is `robert`, `hans` is `johannes`.
//!
//! The table is `nicknames.csv` beside this file: the Apache-2.0 `nicknames` data set by
//! Carlton Northern and Nick Crews (mostly English names), and a section of European
//! diminutives added for regulars. It is parsed once, on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::edit::within_one_edit;

/// The nickname table, one group a line; see the file's header for its format and sources.
const DATA: &str = include_str!("nicknames.csv");

/// Lookups of names up to this long with uppercase letters are lowercased on the stack;
/// longer ones (no given name is) are looked up as given.
const MAX_NAME: usize = 32;

/// One line of the nickname table: a name and its nicknames, all interchangeable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NicknameGroup(u32);

impl NicknameGroup {
    /// The names of the group, canonical name first (`robert`, `bob`, `bobby`, …).
    #[cfg(test)]
    pub(crate) fn names(self) -> &'static [Box<str>] {
        let groups = &table().groups;
        usize::try_from(self.0)
            .ok()
            .and_then(|i| groups.get(i))
            .map_or(&[], |names| &names[..])
    }

    /// The canonical name the group's line starts with.
    #[cfg(test)]
    pub(crate) fn canonical(self) -> &'static str {
        self.names().first().map_or("", |name| &name[..])
    }
}

/// Where a name's groups are in [`Table::memberships`]: two runs, each in increasing order.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// The name's place in [`Table::entries`].
    id: u32,
    /// The groups the name is on, as start and length.
    on: (u32, u32),
    /// The groups the name is the first name of, as start and length.
    heads: (u32, u32),
}

/// The parsed table.
#[derive(Debug, Default)]
struct Table {
    /// Each name's groups.
    index: HashMap<Box<str>, Entry, ahash::RandomState>,
    /// The entries of `index` by their id, so that a name's entry is kept as one number.
    entries: Vec<Entry>,
    /// The runs [`Entry`] points into.
    memberships: Vec<NicknameGroup>,
    /// The names of each group, canonical name first.
    groups: Vec<Box<[Box<str>]>>,
}

/// For each name of the table, every name on any of its groups (itself included), once
/// each and shortest first, in one flat buffer: asking whether a name is one typo from
/// any of them reads a few adjacent bytes instead of chasing every group's names.
/// Worked out on first need, apart from the table, so that the first recognition of a
/// process pays for it only if it compares such a typo.
#[derive(Debug, Default)]
struct Neighbours {
    /// Per name, where its list is in `spans`, at the start of its run of groups in
    /// [`Table::memberships`] (each name's run starts at a place of its own).
    at: Vec<(u32, u32)>,
    /// Every name of the table, once, back to back.
    text: String,
    /// The lists, back to back: each name as its start in `text`, its length and its
    /// [`byte_mask`].
    spans: Vec<(u32, u32, u32)>,
}

/// The set of a text's bytes, folded to 32 bits (each byte sets bit `byte % 32`). One
/// inserted, deleted or substituted byte changes at most two bits, and two swapped none:
/// texts whose masks differ in more bits are more than one edit apart (see
/// `within_one_edit`).
fn byte_mask(text: &str) -> u32 {
    text.bytes().fold(0, |mask, b| mask | 1 << (b & 31))
}

/// Whether at most two bits of `mask` are set.
fn at_most_two_bits(mask: u32) -> bool {
    let rest = mask & mask.wrapping_sub(1);
    rest & rest.wrapping_sub(1) == 0
}

impl Neighbours {
    /// The names on the groups of the name whose run of groups starts at `on`, shortest
    /// first, as start and length in `text`.
    fn of(&self, on: u32) -> &[(u32, u32, u32)] {
        let Some(&(start, len)) = usize::try_from(on).ok().and_then(|at| self.at.get(at)) else {
            return &[];
        };
        let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len)) else {
            return &[];
        };
        self.spans
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }
}

impl Table {
    /// The run of groups at `(start, len)`.
    fn run(&self, (start, len): (u32, u32)) -> &[NicknameGroup] {
        let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len)) else {
            return &[];
        };
        self.memberships.get(start..start + len).unwrap_or_default()
    }

    /// The entry of a name, lowercasing ASCII on the stack if needed.
    fn entry(&self, name: &str) -> Option<Entry> {
        let name = trimmed(name);
        let mut buf = [0u8; MAX_NAME];
        let key = if name.bytes().any(|b| b.is_ascii_uppercase()) && name.len() <= MAX_NAME {
            lowercase_into(name, &mut buf)
        } else {
            name
        };
        self.index.get(key).copied()
    }
}

/// The table, parsed on first use.
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse(DATA))
}

/// The table's [`Neighbours`], listed on first use.
fn neighbours() -> &'static Neighbours {
    static NEIGHBOURS: OnceLock<Neighbours> = OnceLock::new();
    NEIGHBOURS.get_or_init(|| list_neighbours(table()))
}

/// Whether one folded given name is a nickname or diminutive of the other: the same name,
/// or one is the first name of a line of the table that lists the other (`bob`/`robert`,
/// `bill`/`william`, `peggy`/`margaret`, `liz`/`elizabeth`, `hans`/`johannes`,
/// `sepp`/`josef`, `paco`/`francisco`). Symmetric; ASCII case is ignored.
///
/// Two nicknames of the same name do not match each other (`liz`/`betty`), and neither do
/// two names sharing a nickname (`alexander`/`alexandra` share `alex`): the source lists
/// nicknames that are themselves names with nicknames (`bill` lists both `william` and
/// `robert`), so going through a shared line would link unrelated names. Use
/// [`nickname_groups`] for that looser relation. Pass single words (split `anna maria`
/// first); empty names never match. Two hash probes and a merge of short sorted lists;
/// nothing allocates after the first call, which parses the table.
#[cfg(test)]
pub(crate) fn are_nicknames(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return false;
    }
    are_nicknames_known(a, NicknameEntry::of(a), b, NicknameEntry::of(b))
}

/// Where a name stands in the nickname table, looked up once: a name compared with many
/// others (the record's given name against every candidate's) needs one hash probe, not
/// one per comparison. [`are_nicknames_known`] and [`NicknameEntry::groups`] answer as
/// [`are_nicknames`] and [`nickname_groups`] do for the name it was looked up for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NicknameEntry(Option<Entry>);

impl NicknameEntry {
    /// The entry of a folded given name (none for a name the table does not know).
    pub(crate) fn of(name: &str) -> Self {
        Self(table().entry(name))
    }

    /// The entry as one number, to be kept beside a name (`None` for a name the table
    /// does not know). It stands for a place in the table this process parsed, so it is
    /// only kept in memory, never saved.
    pub(crate) fn id(self) -> Option<u32> {
        self.0.map(|entry| entry.id)
    }

    /// The entry [`id`](Self::id) gave; an unknown name's for an id the table does not
    /// have.
    pub(crate) fn of_id(id: u32) -> Self {
        let entries = &table().entries;
        Self(
            usize::try_from(id)
                .ok()
                .and_then(|at| entries.get(at))
                .copied(),
        )
    }

    /// How many names the table knows: every [`id`](Self::id) is below it.
    #[cfg(test)]
    pub(crate) fn count() -> usize {
        table().entries.len()
    }

    /// Whether the table knows the name: the same as its [`groups`](Self::groups) being
    /// some, as every name of the table is on a group, without reading them.
    pub(crate) fn is_known(self) -> bool {
        self.0.is_some()
    }

    /// [`nickname_groups`] of the name this entry was looked up for.
    pub(crate) fn groups(self) -> &'static [NicknameGroup] {
        self.0.map_or(&[], |entry| table().run(entry.on))
    }

    /// Whether `typed` is at most one edit (see `within_one_edit`) from a name other than
    /// `name` on one of this entry's [`groups`](Self::groups): "mickk" for a nickname of
    /// `michael`. The same answer as walking every name of every group, reading only the
    /// names within a letter of `typed`'s length (no other is one edit away).
    pub(crate) fn one_edit_from_a_name_on_its_groups(self, typed: &str, name: &str) -> bool {
        let Some(entry) = self.0 else {
            return false;
        };
        let neighbours = neighbours();
        let spans = neighbours.of(entry.on.0);
        let shortest = typed.len().saturating_sub(1);
        let from = spans.partition_point(|&(_, len, _)| (len as usize) < shortest);
        // Most names of the groups are several letters off: their masks tell without
        // comparing them.
        let typed_mask = byte_mask(typed);
        spans
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&(_, len, _)| len as usize <= typed.len().saturating_add(1))
            .filter(|&&(_, _, mask)| at_most_two_bits(mask ^ typed_mask))
            .filter_map(|&(start, len, _)| {
                let start = usize::try_from(start).ok()?;
                neighbours
                    .text
                    .get(start..start.saturating_add(len as usize))
            })
            .any(|short| short != name && within_one_edit(typed, short))
    }
}

/// [`are_nicknames`] of `a` and `b`, given the [`NicknameEntry`] of each.
pub(crate) fn are_nicknames_known(
    a: &str,
    a_entry: NicknameEntry,
    b: &str,
    b_entry: NicknameEntry,
) -> bool {
    let (a, b) = (trimmed(a), trimmed(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (Some(x), Some(y)) = (a_entry.0, b_entry.0) else {
        return false;
    };
    let table = table();
    intersect(table.run(x.heads), table.run(y.on)) || intersect(table.run(y.heads), table.run(x.on))
}

/// `name.trim()`, settled without decoding a character when both ends are visible
/// ASCII, as a folded name's nearly always are (no such byte is whitespace).
fn trimmed(name: &str) -> &str {
    match (name.as_bytes().first(), name.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => name,
        _ => name.trim(),
    }
}

/// Whether two sorted lists share an element.
fn intersect(x: &[NicknameGroup], y: &[NicknameGroup]) -> bool {
    let (mut x, mut y) = (x.iter(), y.iter());
    let (mut p, mut q) = (x.next(), y.next());
    while let (Some(g), Some(h)) = (p, q) {
        match g.cmp(h) {
            std::cmp::Ordering::Less => p = x.next(),
            std::cmp::Ordering::Greater => q = y.next(),
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The groups (lines of the table) a folded given name is on, in increasing order; empty
/// for a name the table does not know. `alex` is on the lines of `alexander`,
/// `alexandra`, `alexis` and more, and on its own. Group ids are stable for one build of
/// the crate, so they can key a blocking index; sharing a group is looser than
/// [`are_nicknames`].
#[cfg(test)]
pub(crate) fn nickname_groups(name: &str) -> &'static [NicknameGroup] {
    let table = table();
    table.entry(name).map_or(&[], |entry| table.run(entry.on))
}

/// `text` with ASCII letters lowercased, in `buf`; `text` must fit.
fn lowercase_into<'b>(text: &str, buf: &'b mut [u8; MAX_NAME]) -> &'b str {
    let len = text.len().min(MAX_NAME);
    for (slot, byte) in buf.iter_mut().zip(text.bytes()) {
        *slot = byte.to_ascii_lowercase();
    }
    // Lowercasing ASCII keeps UTF-8 valid; the fallback is for a cut inside a character.
    std::str::from_utf8(buf.get(..len).unwrap_or_default()).unwrap_or_default()
}

/// Parses the table: one group a line, names separated by commas, the first name heading
/// the group. Blank lines and lines starting with `#` are skipped, names are folded, and a
/// line with fewer than two distinct names (which links nothing) is dropped. Never panics,
/// whatever the text.
fn parse(data: &str) -> Table {
    let mut groups: Vec<Box<[Box<str>]>> = Vec::new();
    // Per name: the groups it is on, and those it heads.
    type Runs = (Vec<NicknameGroup>, Vec<NicknameGroup>);
    let mut by_name: HashMap<Box<str>, Runs, ahash::RandomState> = HashMap::default();
    for line in data.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut names: Vec<Box<str>> = Vec::new();
        for field in line.split(',') {
            let name = fold(field);
            if !name.is_empty() && !names.iter().any(|n| **n == *name) {
                names.push(name.into_boxed_str());
            }
        }
        let Ok(id) = u32::try_from(groups.len()) else {
            break;
        };
        if names.len() < 2 {
            continue;
        }
        for (i, name) in names.iter().enumerate() {
            let runs = by_name.entry(name.clone()).or_default();
            runs.0.push(NicknameGroup(id));
            if i == 0 {
                runs.1.push(NicknameGroup(id));
            }
        }
        groups.push(names.into_boxed_slice());
    }

    let mut table = Table {
        groups,
        ..Table::default()
    };
    table.index.reserve(by_name.len());
    for (name, (on, heads)) in by_name {
        let Ok(id) = u32::try_from(table.entries.len()) else {
            break;
        };
        let Some(on) = append_run(&mut table.memberships, on) else {
            break;
        };
        let Some(heads) = append_run(&mut table.memberships, heads) else {
            break;
        };
        let entry = Entry { id, on, heads };
        table.index.insert(name, entry);
        table.entries.push(entry);
    }
    table
}

/// Lists, for every name of the table, the names on its groups (see [`Neighbours`]).
fn list_neighbours(table: &Table) -> Neighbours {
    // Each distinct name once in the text.
    let mut placed: HashMap<&str, (u32, u32), ahash::RandomState> = HashMap::default();
    let mut neighbours = Neighbours::default();
    for name in table.groups.iter().flat_map(|names| names.iter()) {
        if placed.contains_key(&**name) {
            continue;
        }
        let (Ok(start), Ok(len)) = (
            u32::try_from(neighbours.text.len()),
            u32::try_from(name.len()),
        ) else {
            return neighbours;
        };
        neighbours.text.push_str(name);
        placed.insert(name, (start, len));
    }
    neighbours.at = vec![(0, 0); table.memberships.len()];
    for entry in table.index.values() {
        let mut spans: Vec<(u32, u32, u32)> = table
            .run(entry.on)
            .iter()
            .flat_map(|group| table.groups.get(group.0 as usize).into_iter().flatten())
            .filter_map(|name| {
                let (start, len) = placed.get(&**name).copied()?;
                Some((start, len, byte_mask(name)))
            })
            .collect();
        spans.sort_unstable_by_key(|&(start, len, _)| (len, start));
        spans.dedup();
        let (Ok(start), Ok(len)) = (
            u32::try_from(neighbours.spans.len()),
            u32::try_from(spans.len()),
        ) else {
            return neighbours;
        };
        if let Some(slot) = usize::try_from(entry.on.0)
            .ok()
            .and_then(|at| neighbours.at.get_mut(at))
        {
            *slot = (start, len);
            neighbours.spans.extend(spans);
        }
    }
    neighbours
}

/// Appends `run` to `all` and returns its start and length, or `None` past `u32`.
fn append_run(all: &mut Vec<NicknameGroup>, run: Vec<NicknameGroup>) -> Option<(u32, u32)> {
    let start = u32::try_from(all.len()).ok()?;
    let len = u32::try_from(run.len()).ok()?;
    all.extend(run);
    Some((start, len))
}

/// Folds one name of the table like `normalize::name` folds input: lowercase, apostrophes
/// dropped, any other run of non-alphanumerics a single space, no space at either end.
fn fold(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut gap = false;
    for c in field.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else if !matches!(c, '\'' | '\u{2019}' | '`') {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_is_trim() {
        for name in [
            "",
            " ",
            "bob",
            " bob",
            "bob\t",
            "\u{a0}bob\u{2003}",
            "b",
            "~x!",
            "\u{7f}a",
        ] {
            assert_eq!(trimmed(name), name.trim(), "{name:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn trimmed_is_trim_on_any_text(name in "(\\s|\\PC|[a-z]){0,12}") {
            proptest::prop_assert_eq!(trimmed(&name), name.trim());
        }
    }

    #[test]
    fn english_pairs() {
        for (a, b) in [
            ("bob", "robert"),
            ("bill", "william"),
            ("peggy", "margaret"),
            ("liz", "elizabeth"),
            ("jim", "james"),
            ("alex", "alexander"),
            ("alex", "alexandra"),
            ("robert", "bob"),
        ] {
            assert!(are_nicknames(a, b), "{a} {b}");
        }
        assert!(!are_nicknames("john", "jane"));
        assert!(!are_nicknames("alexander", "alexandra"));
        // Both are on the line of "bill", but neither lists the other.
        assert!(!are_nicknames("robert", "william"));
        assert!(!are_nicknames("liz", "betty"));
    }

    #[test]
    fn european_pairs() {
        for (a, b) in [
            ("hans", "johannes"),
            ("hannes", "johannes"),
            ("jan", "johannes"),
            ("jo", "johanna"),
            ("sepp", "josef"),
            ("fritz", "friedrich"),
            ("lisa", "elisabeth"),
            ("liesel", "elisabeth"),
            ("gretchen", "margarete"),
            ("kati", "katharina"),
            ("pepe", "jose"),
            ("paco", "francisco"),
            ("lola", "dolores"),
            ("gigi", "luigi"),
            ("beppe", "giuseppe"),
            ("sanne", "susanne"),
            ("kees", "cornelis"),
            ("kalle", "karl"),
            ("nell", "eleanor"),
            ("may", "mary"),
            ("ev", "eva"),
            ("evie", "eva"),
            ("gert", "gerrit"),
        ] {
            assert!(are_nicknames(a, b), "{a} {b}");
            assert!(are_nicknames(b, a), "{b} {a}");
        }
    }

    #[test]
    fn edges() {
        assert!(are_nicknames("anna", "anna"));
        assert!(are_nicknames("xqzv", "xqzv"));
        assert!(are_nicknames("Bob", "ROBERT"));
        assert!(are_nicknames(" bob ", "robert"));
        assert!(!are_nicknames("", ""));
        assert!(!are_nicknames("", "bob"));
        assert!(!are_nicknames("xqzv", "bob"));
        assert!(!are_nicknames("zoë", "zoe"));
        assert!(!are_nicknames("bob robert", "robert"));
        assert!(nickname_groups("nobody-knows-this").is_empty());
        assert!(nickname_groups(&"x".repeat(100)).is_empty());
        let _ = nickname_groups("ÉLISE");
        let _ = nickname_groups(&"É".repeat(20));
    }

    #[test]
    fn groups() {
        let alex = nickname_groups("alex");
        let canon: Vec<&str> = alex.iter().map(|g| g.canonical()).collect();
        for name in ["alexander", "alexandra", "alexis"] {
            assert!(canon.contains(&name), "{canon:?}");
        }
        assert!(alex.windows(2).all(|w| w[0] < w[1]));
        let bob = nickname_groups("bob");
        assert!(
            bob.iter()
                .any(|g| g.names().iter().any(|n| &**n == "robert"))
        );
        assert_eq!(NicknameGroup(u32::MAX).canonical(), "");
        assert!(NicknameGroup(u32::MAX).names().is_empty());
        // Dotted initials are folded like input names.
        assert!(are_nicknames("k c", "casey"));
    }

    #[test]
    fn entries_answer_as_lookups_do() {
        let names = [
            "bob",
            "robert",
            "Bob",
            " alex ",
            "alexandra",
            "xqzv",
            "",
            "liz",
            "betty",
        ];
        for a in names {
            assert_eq!(NicknameEntry::of(a).groups(), nickname_groups(a), "{a}");
            let kept = NicknameEntry::of(a)
                .id()
                .map_or_else(NicknameEntry::default, NicknameEntry::of_id);
            assert_eq!(kept.groups(), nickname_groups(a), "{a}");
            for b in names {
                let known = are_nicknames_known(a, NicknameEntry::of(a), b, NicknameEntry::of(b));
                assert_eq!(known, are_nicknames(a, b), "{a} {b}");
            }
        }
    }

    /// Every name within one edit of `name`'s length class: itself, each letter dropped,
    /// doubled, replaced by `x`, and each pair of letters swapped.
    fn typos(name: &str) -> Vec<String> {
        let bytes = name.as_bytes();
        let mut out = vec![name.to_string()];
        for at in 0..bytes.len() {
            let mut dropped = bytes.to_vec();
            dropped.remove(at);
            let mut doubled = bytes.to_vec();
            doubled.insert(at, bytes[at]);
            let mut replaced = bytes.to_vec();
            replaced[at] = b'x';
            let mut swapped = bytes.to_vec();
            if at + 1 < bytes.len() {
                swapped.swap(at, at + 1);
            }
            for typo in [dropped, doubled, replaced, swapped] {
                out.extend(String::from_utf8(typo).ok());
            }
        }
        out
    }

    #[test]
    fn texts_one_edit_apart_have_masks_at_most_two_bits_apart() {
        let mut pairs = 0;
        for name in ["michael", "anna", "zo\u{eb}", "o'neil", "jean-luc", "a", ""] {
            for typo in typos(name)
                .into_iter()
                .chain(["\u{e9}".to_string(), format!("{name}\u{301}")])
            {
                if within_one_edit(name, &typo) {
                    assert!(
                        at_most_two_bits(byte_mask(name) ^ byte_mask(&typo)),
                        "{name} {typo}"
                    );
                    pairs += 1;
                }
            }
        }
        assert!(pairs > 100, "{pairs}");
        // Three letters apart: not one edit, and the masks tell.
        assert!(!at_most_two_bits(byte_mask("anna") ^ byte_mask("bob")));
    }

    #[test]
    fn one_edit_from_a_name_on_its_groups_answers_as_walking_every_group() {
        let walk = |typed: &str, name: &str, entry: NicknameEntry| {
            entry.groups().iter().any(|group| {
                group
                    .names()
                    .iter()
                    .any(|short| &**short != name && within_one_edit(typed, short))
            })
        };
        let mut names: Vec<&str> = table().index.keys().map(|n| &**n).collect();
        names.sort_unstable();
        let (mut fits, mut checked) = (0, 0);
        // Every tenth name of the table against typos of the names on its groups, and
        // against names of other groups.
        for (i, &name) in names.iter().enumerate().step_by(10) {
            let entry = NicknameEntry::of(name);
            let mut typed: Vec<String> = entry
                .groups()
                .iter()
                .flat_map(|g| g.names().iter())
                .flat_map(|n| typos(n))
                .collect();
            typed.extend(names.iter().skip(i + 1).take(20).map(|n| n.to_string()));
            typed.extend(["", "a", "zz", "bobb", "\u{e9}lise"].map(String::from));
            for typed in &typed {
                let expected = walk(typed, name, entry);
                assert_eq!(
                    entry.one_edit_from_a_name_on_its_groups(typed, name),
                    expected,
                    "{typed} for {name}"
                );
                fits += usize::from(expected);
                checked += 1;
            }
        }
        assert!(fits > 1_000 && fits < checked, "{fits} of {checked}");
        // A name the table does not know has no groups.
        assert!(!NicknameEntry::of("xqzv").one_edit_from_a_name_on_its_groups("xqzw", "xqzv"));
        assert!(
            NicknameEntry::of("michael").one_edit_from_a_name_on_its_groups("mickk", "michael")
        );
        // A kept entry answers as a looked-up one.
        let kept = NicknameEntry::of("ursula")
            .id()
            .map_or_else(NicknameEntry::default, NicknameEntry::of_id);
        assert!(kept.one_edit_from_a_name_on_its_groups("ullla", "ursula"));
    }

    #[test]
    fn parser_is_robust() {
        let t =
            parse("# comment\n\n  Bob , ROBERT,bob\nlonely\n,,,\nO'Neil,neil\r\nx,\u{e9}lise\n");
        assert_eq!(t.groups.len(), 3);
        assert_eq!(&*t.groups[0][0], "bob");
        assert_eq!(&*t.groups[0][1], "robert");
        assert_eq!(&*t.groups[1][0], "oneil");
        assert_eq!(&*t.groups[2][1], "\u{e9}lise");
        let empty = parse("");
        assert!(empty.groups.is_empty() && empty.index.is_empty());
        // Every line of the shipped data parses into a group.
        let lines = DATA
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .count();
        assert_eq!(table().groups.len(), lines);
    }

    /// Every name's id gives back its entry, and an id past the table an unknown name's.
    #[test]
    fn ids_give_back_their_entries() {
        let table = table();
        assert_eq!(NicknameEntry::count(), table.index.len());
        for (name, entry) in &table.index {
            let kept = NicknameEntry::of_id(entry.id);
            assert_eq!(kept.id(), Some(entry.id), "{name}");
            assert_eq!(kept.groups(), nickname_groups(name), "{name}");
            assert!(kept.is_known() && !kept.groups().is_empty(), "{name}");
        }
        assert!(!NicknameEntry::of("xqzv").is_known());
        let past = u32::try_from(NicknameEntry::count()).expect("fits");
        assert!(NicknameEntry::of_id(past).id().is_none());
        assert!(NicknameEntry::of_id(u32::MAX).groups().is_empty());
    }
}
