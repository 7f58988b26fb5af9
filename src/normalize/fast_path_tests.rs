//! The ASCII fast paths give exactly what the general paths give: the same value or the
//! same rejection, for any input (ASCII or not, with control characters, very long), and
//! the same when written after other text in a shared buffer.

use proptest::prelude::*;

use super::text::{self, Buf};
use super::{Country, Rejection, email, name, phone, postcode};

/// What `text::screen` did before it read bytes first: characters throughout.
fn screen_by_chars(raw: &str, max_bytes: usize) -> Result<(), Rejection> {
    text::check_length(raw, max_bytes)?;
    match raw.chars().position(text::is_forbidden_control) {
        Some(position) => Err(Rejection::ControlCharacter { position }),
        None => Ok(()),
    }
}

/// The name key through the general (Unicode) path only.
fn name_general(raw: &str) -> Result<String, Rejection> {
    text::screen(raw, 1024)?;
    let mut out = Buf::new();
    super::name::fold(text::visible(raw), &mut out)?;
    Ok(out.as_str().to_owned())
}

fn email_general(raw: &str) -> Result<String, Rejection> {
    if raw.len() > 1024 {
        return Err(Rejection::TooLong { max_bytes: 254 });
    }
    text::screen(raw, 1024)?;
    let mut out = Buf::new();
    super::email::canonical(text::visible(raw), &mut out)?;
    Ok(out.as_str().to_owned())
}

/// The number through the general (Unicode) reading only.
fn phone_general(raw: &str, country: Country) -> Result<String, Rejection> {
    text::screen(raw, 64)?;
    let lexed = super::phone::lex(raw)?;
    let mut out = Buf::new();
    super::phone::lexed_into(&lexed, country, &mut out)?;
    Ok(out.as_str().to_owned())
}

fn postcode_general(raw: &str, country: Option<Country>) -> Result<String, Rejection> {
    text::screen(raw, 64)?;
    let mut out = Buf::new();
    super::postcode::canonical(text::visible(raw), country, &mut out)?;
    Ok(out.as_str().to_owned())
}

fn clean_general(raw: &str, max_bytes: usize) -> Result<String, Rejection> {
    screen_by_chars(raw, max_bytes)?;
    let text: String = text::visible(raw).collect();
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    Ok(text)
}

/// `write` run after `prefix` in a shared buffer: the prefix is kept and what follows
/// it is the value (on success).
fn after_prefix(
    prefix: &str,
    write: impl FnOnce(&mut Buf) -> Result<(), Rejection>,
) -> Result<String, Rejection> {
    let mut out = Buf::new();
    out.push_str(prefix);
    write(&mut out)?;
    let text = out.as_str();
    assert!(text.starts_with(prefix), "the prefix was changed");
    Ok(text.get(prefix.len()..).unwrap_or_default().to_owned())
}

/// Characters that exercise every branch: ASCII letters, digits, punctuation the
/// normalizers treat specially, whitespace of both kinds, invisible characters,
/// combining marks, letters that fold to several, symbols, controls.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::char::range('A', 'Z'),
        2 => prop::char::range('0', '9'),
        3 => prop::sample::select(vec![
            ' ', '\t', '\n', '\r', '\u{B}', '\u{C}', '\'', '`', '-', '.', '@', '+', '"', '(',
            ')', ',', ':', ';', '<', '>', '[', '\\', ']', '#', 'x', '/', '_', '~',
        ]),
        1 => prop::sample::select(vec![
            '\u{0}', '\u{1}', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}', '\u{A0}', '\u{AD}',
            '\u{200B}', '\u{200D}', '\u{202E}', '\u{FEFF}', '\u{2019}', '\u{301}', '\u{3000}',
            'é', 'É', 'ß', 'ø', 'Ł', 'æ', 'И', 'Σ', 'ς', '北', '１', '٣', '😀', '\u{2010}',
            'İ', 'ﬁ', 'א', 'ع', '\u{200F}', '\u{2067}', 'Ä', 'ñ', 'Ø', 'þ', '×', '\u{B4}',
        ]),
        1 => any::<char>(),
    ]
}

fn tricky_string(max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..max_len).prop_map(|cs| cs.into_iter().collect())
}

/// Any ASCII text, control characters included.
fn ascii_string(max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..0x80, 0..max_len)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

/// Short and long values, ASCII only and mixed.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ascii_string(40),
        3 => tricky_string(40),
        1 => any::<String>(),
        1 => ascii_string(1500),
        1 => tricky_string(1500),
    ]
}

/// Values shaped like e-mail addresses, so that more of them get past the first checks.
fn email_like() -> impl Strategy<Value = String> {
    let domains = prop::sample::select(vec![
        "gmail.com",
        "GoogleMail.com",
        "outlook.com",
        "example.org",
        "example.org.",
        "exa_mple.org",
        "ex..ample",
        "",
        "ÉXAMPLE.org",
    ]);
    (tricky_string(70), domains, any::<bool>()).prop_map(|(local, domain, spaced)| {
        if spaced {
            format!(" \t{local}@{domain}\u{200B} ")
        } else {
            format!("{local}@{domain}")
        }
    })
}

/// Addresses that pass the byte checks, at the providers whose rules rewrite them and
/// elsewhere, in any case (all lower case too), some with a trailing dot, some near the length limits: what
/// the one-pass writing of plain addresses takes, and its edges.
fn plain_email() -> impl Strategy<Value = String> {
    let domains = prop::sample::select(vec![
        "gmail.com",
        "GoogleMail.COM",
        "googlemail.com.",
        "Hotmail.co.uk",
        "pm.me",
        "pm.me.",
        "proton.me",
        "protonmail.com",
        "xgmail.com",
        "gmail.co",
        "example.org",
        "a.b",
        "a..b",
        ".a.b",
        "ab.",
        "ab",
        "gmail.com..",
        "sub.example-mail.org.",
        ".",
        "",
        "..",
        "a.",
        "a.b..",
        "a.b.c",
    ]);
    let long_domain = "[a-z]{1,60}(\\.[a-z]{1,60}){1,4}\\.?";
    // Written in lower case already too, as most addresses are: the fast path then
    // leaves out lowercasing what it copied.
    let local = prop_oneof!["[A-Za-z0-9.+_-]{0,70}", "[a-z0-9.+_-]{0,30}"];
    (
        local,
        prop_oneof![3 => domains.prop_map(str::to_owned), 1 => long_domain],
        "[ \t\n\r\u{B}\u{C}]{0,2}",
    )
        .prop_map(|(local, domain, space)| format!("{space}{local}@{domain}{space}"))
}

/// Values shaped like phone numbers: digits with the formatting people type, sometimes
/// an extension, sometimes something that does not belong.
fn phone_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[0-9]{1,4}",
        2 => prop::sample::select(vec![
            " ", "-", ".", "/", "(", ")", "(0)", "(0", "+", "00", "011", "  ", "\t",
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(vec![
            " x12", " ext. 34", ";ext=5", "#7", " extension: 8", "x", "ext", "FLOWERS", "e",
            "\u{A0}", "\u{200B}", "１", "－", "\u{1}", "\u{B}", "\u{C}", "\r\n", "\u{7F}",
        ])
        .prop_map(str::to_owned),
    ];
    prop_oneof![
        8 => prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat()),
        // Realistic numbers, and plain ones either side of the length limit.
        2 => "(\\+44 (\\(0\\))?|0|00 ?44 )[1-9][0-9]{2,3} ?[0-9]{3} ?[0-9]{3,4}",
        1 => "[0-9 ().+/-]{60,70}",
    ]
}

fn country() -> impl Strategy<Value = Option<Country>> {
    prop::sample::select(vec![
        None,
        Some(Country::US),
        Some(Country::GB),
        Some(Country::DE),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ascii_whitespace_is_what_char_calls_whitespace(b in 0u8..0x80) {
        prop_assert_eq!(text::is_ascii_space(b), char::from(b).is_whitespace());
    }

    #[test]
    fn trimming_ascii_keeps_what_visible_keeps(raw in ascii_string(300)) {
        let trimmed = text::trim_ascii_space(raw.as_bytes());
        let visible: String = text::visible(&raw).collect();
        let first = visible.bytes().next();
        let last = visible.bytes().last();
        prop_assert_eq!(trimmed.first().copied(), first);
        prop_assert_eq!(trimmed.last().copied(), last);
    }

    #[test]
    fn screening_by_bytes_finds_what_characters_find(raw in any_value(), max in 0usize..2000) {
        prop_assert_eq!(text::screen(&raw, max), screen_by_chars(&raw, max));
    }

    #[test]
    fn clean_text_matches_the_general_path(
        raw in prop_oneof![any_value(), "[ \t]{0,2}[ -~]{0,30}( {1,2}[ -~]{1,10}){0,3}[ \n]{0,2}"],
        max_bytes in prop::sample::select(vec![8usize, 30, 1024]),
        prefix in tricky_string(8),
    ) {
        let fast = after_prefix(&prefix, |out| text::clean_into(&raw, max_bytes, out));
        prop_assert_eq!(fast, clean_general(&raw, max_bytes));
    }

    #[test]
    fn name_matches_the_general_path(raw in any_value(), prefix in tricky_string(8)) {
        let general = name_general(&raw);
        prop_assert_eq!(&name(&raw), &general);
        let shared = after_prefix(&prefix, |out| super::name::key_into(&raw, out));
        prop_assert_eq!(shared, general);
    }

    #[test]
    fn name_written_and_key_match_cleaning_then_folding(
        raw in prop_oneof![
            any_value(),
            ascii_string(200),
            "[A-Za-z' `.-]{100,160}",
            "[ \t\r\u{B}]{0,2}[A-Za-z]{0,130}[ \t\n\u{C}]{0,2}",
            "[ \t]{0,2}[A-Za-z]{1,20}([ \t]{1,2}[A-Za-z'-]{1,20}){0,3}[ \n]{0,2}",
        ],
        max_bytes in prop::sample::select(vec![16usize, 130, 512, 1024, 4096]),
        prefix in tricky_string(8),
    ) {
        // The text written first, with its errors; then the key, with its.
        let general = clean_general(&raw, max_bytes)
            .and_then(|written| Ok((written, name_general(&raw)?)));
        let mut out = Buf::new();
        out.push_str(&prefix);
        let fused = super::name::written_and_key_into(&raw, max_bytes, &mut out).map(|key_start| {
            let text = out.as_str();
            prop_assert!(text.starts_with(&prefix), "the prefix was changed");
            prop_assert!(key_start >= prefix.len());
            let written = text.get(prefix.len()..key_start).unwrap_or_default().to_owned();
            let key = text.get(key_start..).unwrap_or_default().to_owned();
            Ok((written, key))
        });
        match fused {
            Ok(parts) => prop_assert_eq!(Ok(parts?), general),
            Err(rejection) => prop_assert_eq!(Err(rejection), general),
        }
    }

    #[test]
    fn email_matches_the_general_path(
        raw in prop_oneof![email_like(), plain_email(), any_value()],
        prefix in tricky_string(8),
    ) {
        let general = email_general(&raw);
        prop_assert_eq!(&email(&raw), &general);
        let shared = after_prefix(&prefix, |out| super::email::email_into(&raw, out));
        prop_assert_eq!(shared, general);
    }

    #[test]
    fn postcode_matches_the_general_path(
        raw in prop_oneof![tricky_string(16), any_value()],
        country in country(),
        prefix in tricky_string(8),
    ) {
        let general = postcode_general(&raw, country);
        prop_assert_eq!(&postcode(&raw, country), &general);
        let shared =
            after_prefix(&prefix, |out| super::postcode::postcode_into(&raw, country, out));
        prop_assert_eq!(shared, general);
    }

    #[test]
    fn phone_matches_the_general_path(
        raw in prop_oneof![phone_like(), tricky_string(24), any_value()],
        country in prop::sample::select(vec![Country::GB, Country::US, Country::IT, Country::DE]),
    ) {
        prop_assert_eq!(phone(&raw, country), phone_general(&raw, country));
    }

    #[test]
    fn phone_written_after_other_text_is_the_same(
        raw in prop_oneof![tricky_string(24), any_value()],
        prefix in tricky_string(8),
    ) {
        let alone = phone(&raw, Country::GB);
        let shared =
            after_prefix(&prefix, |out| super::phone::phone_into(&raw, Country::GB, out));
        prop_assert_eq!(shared, alone);
    }
}

#[test]
fn latin1_letters_are_alphabetic() {
    let latin1 = (0x80..=0xFF).filter_map(char::from_u32);
    for c in latin1 {
        if super::name::is_latin1_letter(c) {
            assert!(c.is_alphabetic(), "{c:?}");
        }
    }
    // All 62 of them, so the shortcut is taken for every one.
    let count = (0x80..=0xFF)
        .filter_map(char::from_u32)
        .filter(|&c| super::name::is_latin1_letter(c))
        .count();
    assert_eq!(count, 62);
}
