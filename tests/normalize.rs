//! Behaviour of the public normalizers: canonical forms, rejections, and the properties
//! every normalizer promises (no panics, idempotence, no personal data in errors).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use regulars::normalize::{Country, Rejection, email, name, phone, postcode};

fn malformed<T: std::fmt::Debug>(result: Result<T, Rejection>) -> bool {
    matches!(result, Err(Rejection::Malformed { .. }))
}

// ---------------------------------------------------------------- email

#[test]
fn email_trims_and_lowercases() {
    assert_eq!(
        email("  Jane.Doe@Example.ORG \n").as_deref(),
        Ok("jane.doe@example.org")
    );
    assert_eq!(email("a@example.com.").as_deref(), Ok("a@example.com"));
    assert_eq!(
        email("\u{200B}jane@example.com\u{FEFF}").as_deref(),
        Ok("jane@example.com")
    );
    assert_eq!(
        email("ja\u{202E}ne@exam\u{200D}ple.com").as_deref(),
        Ok("jane@example.com")
    );
}

#[test]
fn email_gmail_ignores_dots_tags_and_googlemail() {
    let canonical = Ok("janedoe@gmail.com".to_owned());
    assert_eq!(email("jane.doe@gmail.com"), canonical);
    assert_eq!(email("Jane.Doe+tickets@GMail.com"), canonical);
    assert_eq!(email("j.a.n.e.d.o.e@googlemail.com"), canonical);
    assert_eq!(email("janedoe+a+b@googlemail.com"), canonical);
}

#[test]
fn email_outlook_drops_tag_but_keeps_dots() {
    assert_eq!(
        email("Jane.Doe+news@outlook.com").as_deref(),
        Ok("jane.doe@outlook.com")
    );
    assert_eq!(
        email("jane.doe+x@hotmail.co.uk").as_deref(),
        Ok("jane.doe@hotmail.co.uk")
    );
    assert_eq!(
        email("j.doe+x@icloud.com").as_deref(),
        Ok("j.doe@icloud.com")
    );
    assert_eq!(email("j.doe+x@proton.me").as_deref(), Ok("j.doe@proton.me"));
}

#[test]
fn email_unknown_and_yahoo_domains_keep_tags() {
    assert_eq!(
        email("jane.doe+news@example.com").as_deref(),
        Ok("jane.doe+news@example.com")
    );
    assert_eq!(
        email("jane.doe+news@yahoo.com").as_deref(),
        Ok("jane.doe+news@yahoo.com")
    );
    assert_eq!(
        email("jane-shopping@yahoo.com").as_deref(),
        Ok("jane-shopping@yahoo.com")
    );
    // Subdomains of providers are not the provider.
    assert_eq!(
        email("a.b+c@mail.gmail.com").as_deref(),
        Ok("a.b+c@mail.gmail.com")
    );
}

#[test]
fn email_idn_domain_is_case_folded() {
    assert_eq!(
        email("Jürgen@MÜLLER.Example").as_deref(),
        Ok("jürgen@müller.example")
    );
    assert_eq!(email("a@ΠΑΡΆΔΕΙΓΜΑ.ΔΟΚΙΜΉ"), email("a@παράδειγμα.δοκιμή"));
}

#[test]
fn email_rejections() {
    assert_eq!(email(""), Err(Rejection::Empty));
    assert_eq!(email(" \u{200B}\t"), Err(Rejection::Empty));
    assert!(malformed(email("jane.example.com")));
    assert!(malformed(email("jane@@example.com")));
    assert!(malformed(email("a@b@example.com")));
    assert!(malformed(email("@example.com")));
    assert!(malformed(email("jane@")));
    assert!(malformed(email("jane@localhost")));
    assert!(malformed(email("jane@example..com")));
    assert!(malformed(email("jane@.example.com")));
    assert!(malformed(email("jane doe@example.com")));
    assert!(malformed(email("jane@exa mple.com")));
    assert!(malformed(email("Jane Doe <jane@example.com>")));
    assert!(malformed(email("jane@[192.0.2.1]")));
    assert!(malformed(email("jane@exa_mple.com")));
    assert!(malformed(email("+news@gmail.com")));
    assert!(malformed(email("...@gmail.com")));
    assert_eq!(
        email("jane\u{7}@example.com"),
        Err(Rejection::ControlCharacter { position: 4 })
    );
    let long_local = format!("{}@example.com", "a".repeat(65));
    assert!(malformed(email(&long_local)));
    let long_domain = format!("jane@{}.com", "a".repeat(250));
    assert_eq!(
        email(&long_domain),
        Err(Rejection::TooLong { max_bytes: 254 })
    );
}

#[test]
fn email_quoted_local_part_is_rejected_clearly() {
    assert_eq!(
        email("\"a@b\"@example.com"),
        Err(Rejection::Malformed {
            expected: "an unquoted local part"
        })
    );
    assert_eq!(
        email("\"jane doe\"@example.com"),
        Err(Rejection::Malformed {
            expected: "an unquoted local part"
        })
    );
}

// ---------------------------------------------------------------- phone

#[test]
fn phone_gb_formats_agree() {
    let canonical = Ok("+442079460018".to_owned());
    for raw in [
        "+44 (0)20 7946 0018",
        "+44 20 7946 0018",
        "+44 020 7946 0018",
        "0044 20 7946 0018",
        "00 44 (0) 20 7946 0018",
        "020-7946-0018",
        "(020) 7946 0018",
        "020.7946.0018",
        "020\u{00A0}7946\u{00A0}0018",
        "020\u{2013}7946\u{2013}0018",
        "\u{202D}020 7946 0018\u{202C}",
        "+442079460018",
    ] {
        assert_eq!(phone(raw, Country::GB), canonical, "{raw}");
    }
    // International numbers do not depend on the default country.
    assert_eq!(phone("+44 (0)20 7946 0018", Country::JP), canonical);
}

#[test]
fn phone_us_formats_agree() {
    let canonical = Ok("+14155550132".to_owned());
    for raw in [
        "(415) 555-0132",
        "415-555-0132",
        "415.555.0132",
        "1-415-555-0132",
        "1 (415) 555-0132",
        "+1 415 555 0132",
        "+1 (415) 555-0132",
        "011 1 415 555 0132",
    ] {
        assert_eq!(phone(raw, Country::US), canonical, "{raw}");
    }
    assert_eq!(phone("(415) 555-0132", Country::CA), canonical);
}

#[test]
fn phone_keeps_italian_leading_zero() {
    assert_eq!(
        phone("06 1234 5678", Country::IT).as_deref(),
        Ok("+390612345678")
    );
    assert_eq!(
        phone("+39 06 1234 5678", Country::GB).as_deref(),
        Ok("+390612345678")
    );
    assert_eq!(
        phone("+39 (0)6 1234 5678", Country::GB).as_deref(),
        Ok("+390612345678")
    );
    assert_eq!(
        phone("333 123 4567", Country::IT).as_deref(),
        Ok("+393331234567")
    );
}

#[test]
fn phone_other_countries() {
    assert_eq!(
        phone("030 12345678", Country::DE).as_deref(),
        Ok("+493012345678")
    );
    assert_eq!(
        phone("01 23 45 67 89", Country::FR).as_deref(),
        Ok("+33123456789")
    );
    assert_eq!(
        phone("+33 (0)1 23 45 67 89", Country::DE).as_deref(),
        Ok("+33123456789")
    );
    assert_eq!(
        phone("06 1 234 5678", Country::HU).as_deref(),
        Ok("+3612345678")
    );
    assert_eq!(
        phone("8 (495) 123-45-67", Country::RU).as_deref(),
        Ok("+74951234567")
    );
    assert_eq!(
        phone("0011 44 20 7946 0018", Country::AU).as_deref(),
        Ok("+442079460018")
    );
    assert_eq!(
        phone("03-1234-5678", Country::JP).as_deref(),
        Ok("+81312345678")
    );
    assert_eq!(
        phone("03ー1234ー5678", Country::JP).as_deref(),
        Ok("+81312345678")
    );
    assert_eq!(
        phone("010 44 20 7946 0018", Country::JP).as_deref(),
        Ok("+442079460018")
    );
    assert_eq!(
        phone("612 345 678", Country::ES).as_deref(),
        Ok("+34612345678")
    );
    // A calling code this crate has no plan for still works internationally.
    assert_eq!(
        phone("+20 2 1234 5678", Country::GB).as_deref(),
        Ok("+20212345678")
    );
    assert_eq!(
        phone("+234 (0)803 123 4567", Country::GB).as_deref(),
        Ok("+2348031234567")
    );
}

#[test]
fn phone_drops_extensions() {
    let canonical = Ok("+14155550132".to_owned());
    for raw in [
        "415-555-0132 x123",
        "415-555-0132x123",
        "415-555-0132 X 123",
        "415-555-0132 ext. 123",
        "415-555-0132 ext 123",
        "415-555-0132 Ext:123",
        "415-555-0132 extension 123",
        "415-555-0132;ext=123",
        "415-555-0132 #123",
    ] {
        assert_eq!(phone(raw, Country::US), canonical, "{raw}");
    }
}

#[test]
fn phone_reads_non_ascii_digits() {
    assert_eq!(
        phone("０２０ ７９４６ ００１８", Country::GB).as_deref(),
        Ok("+442079460018")
    );
    assert_eq!(
        phone("＋４４ ２０ ７９４６ ００１８", Country::US).as_deref(),
        Ok("+442079460018")
    );
    assert_eq!(
        phone("+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", Country::GB).as_deref(),
        Ok("+971501234567")
    );
    assert_eq!(
        phone("۰۲۰ ۷۹۴۶ ۰۰۱۸", Country::GB).as_deref(),
        Ok("+442079460018")
    );
}

#[test]
fn phone_rejects_letters_and_junk() {
    assert_eq!(
        phone("1-800-FLOWERS", Country::US),
        Err(Rejection::Malformed { expected: "digits" })
    );
    assert_eq!(
        phone("call 020 7946 0018", Country::GB),
        Err(Rejection::Malformed { expected: "digits" })
    );
    assert!(malformed(phone("020 7946 0018 x", Country::GB)));
    assert!(malformed(phone("020 7946 0018 ext. 12a", Country::GB)));
    assert!(malformed(phone("x123", Country::GB)));
    assert!(malformed(phone("+44 +20 7946 0018", Country::GB)));
    assert!(malformed(phone("020 +7946 0018", Country::GB)));
    assert!(malformed(phone("+0 20 7946 0018", Country::GB)));
    assert!(malformed(phone("+44 00 7946 0018", Country::GB)));
    assert!(malformed(phone("020 7946 0018 ²", Country::GB)));
    assert!(malformed(phone("020 7946 0018!", Country::GB)));
}

#[test]
fn phone_checks_lengths_and_countries() {
    assert_eq!(phone("", Country::GB), Err(Rejection::Empty));
    assert_eq!(phone("  \u{200B} ", Country::GB), Err(Rejection::Empty));
    assert_eq!(phone("+", Country::GB), Err(Rejection::NoDigits));
    assert_eq!(phone("()", Country::GB), Err(Rejection::NoDigits));
    assert_eq!(
        phone("555-0132", Country::US),
        Err(Rejection::TooFewDigits { min: 10 })
    );
    assert_eq!(
        phone("020 7946 0018 0018", Country::GB),
        Err(Rejection::TooManyDigits { max: 10 })
    );
    assert_eq!(
        phone("+999 12", Country::GB),
        Err(Rejection::TooFewDigits { min: 7 })
    );
    assert_eq!(
        phone("+999 1234 5678 9012 3", Country::GB),
        Err(Rejection::TooManyDigits { max: 15 })
    );
    assert_eq!(
        phone("020 7946 0018", Country::parse("BR").unwrap()),
        Err(Rejection::UnsupportedCountry)
    );
    assert_eq!(
        phone("+44 20 7946 0018", Country::parse("BR").unwrap()).as_deref(),
        Ok("+442079460018")
    );
    assert_eq!(
        phone("020\u{1}7946 0018", Country::GB),
        Err(Rejection::ControlCharacter { position: 3 })
    );
}

// ---------------------------------------------------------------- name

#[test]
fn name_folds_case_accents_and_punctuation() {
    assert_eq!(
        name("  Zoë  O'Brien-Śmith ").as_deref(),
        Ok("zoe obrien smith")
    );
    assert_eq!(name("O’Brien"), name("obrien"));
    assert_eq!(name("D`Angelo"), name("D´angelo"));
    assert_eq!(name("Smith-Jones"), name("smith  jones"));
    assert_eq!(
        name("Dr. J.R.R. Tolkien, Jr.").as_deref(),
        Ok("dr j r r tolkien jr")
    );
    assert_eq!(name("Louis XIV 2nd").as_deref(), Ok("louis xiv 2nd"));
    assert_eq!(
        name("Anne\tMarie\r\nSmith").as_deref(),
        Ok("anne marie smith")
    );
}

#[test]
fn name_transliterates_non_ascii() {
    for (raw, folded) in [
        ("Zoë", "zoe"),
        ("Zoe\u{0308}", "zoe"), // decomposed ë
        ("Mu\u{0308}ller", "muller"),
        ("Ångström", "angstrom"),
        ("Łukasz", "lukasz"),
        ("Müller", "muller"),
        ("Øyvind", "oyvind"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Ærø", "aero"),
        ("Иван", "ivan"),
        ("Ξενοφών", "ksenophon"),
        ("Đorđević", "dordevic"),
        ("İbrahim", "ibrahim"),
        ("Ｊａｎｅ", "jane"),
    ] {
        assert_eq!(name(raw).as_deref(), Ok(folded), "{raw}");
    }
}

#[test]
fn name_ignores_invisible_characters() {
    assert_eq!(name("Jo\u{200B}hn"), name("John"));
    assert_eq!(name("\u{202E}John\u{202C} Smith"), name("John Smith"));
    assert_eq!(name("\u{2067}Smith\u{2069}"), name("Smith"));
    assert_eq!(name("Ma\u{00AD}rie\u{FEFF}"), name("Marie"));
    assert_eq!(name("Zo\u{200D}ë"), name("Zoe"));
}

#[test]
fn name_rejections() {
    assert_eq!(name(""), Err(Rejection::Empty));
    assert_eq!(name(" \u{200B} \n"), Err(Rejection::Empty));
    assert_eq!(name("!!!"), Err(Rejection::NoLetters));
    assert_eq!(name("'"), Err(Rejection::NoLetters));
    assert_eq!(name("😀"), Err(Rejection::NoLetters));
    assert_eq!(name("🙂 ❤️ 🎉"), Err(Rejection::NoLetters));
    assert_eq!(name("12345"), Err(Rejection::NoLetters));
    assert_eq!(name("Jane 😀").as_deref(), Ok("jane"));
    assert_eq!(
        name("Jane\u{1b}[31m"),
        Err(Rejection::ControlCharacter { position: 4 })
    );
    assert_eq!(
        name(&"ab ".repeat(100)),
        Err(Rejection::TooLong { max_bytes: 256 })
    );
}

// ---------------------------------------------------------------- postcode

#[test]
fn postcode_uppercases_and_drops_separators() {
    assert_eq!(
        postcode("sw1a 1aa", Some(Country::GB)).as_deref(),
        Ok("SW1A1AA")
    );
    assert_eq!(postcode(" SW1A-1AA ", None).as_deref(), Ok("SW1A1AA"));
    assert_eq!(
        postcode("1234 ab", Some(Country::NL)).as_deref(),
        Ok("1234AB")
    );
    assert_eq!(
        postcode("k1a 0b1", Some(Country::CA)).as_deref(),
        Ok("K1A0B1")
    );
    assert_eq!(
        postcode("１０１\u{2010}００４７", Some(Country::JP)).as_deref(),
        Ok("1010047")
    );
    assert_eq!(
        postcode("Ｄ０２ Ｘ２８５", Some(Country::IE)).as_deref(),
        Ok("D02X285")
    );
    assert_eq!(postcode("HM HX", None).as_deref(), Ok("HMHX"));
}

#[test]
fn postcode_us_zip_plus_four() {
    assert_eq!(
        postcode("12345-6789", Some(Country::US)).as_deref(),
        Ok("12345")
    );
    assert_eq!(postcode("12345", Some(Country::US)).as_deref(), Ok("12345"));
    assert_eq!(
        postcode("123456789", Some(Country::US)).as_deref(),
        Ok("12345")
    );
    assert_eq!(
        postcode("2134", Some(Country::US)),
        Err(Rejection::TooFewDigits { min: 5 })
    );
    assert!(malformed(postcode("123456", Some(Country::US))));
    assert!(malformed(postcode("1234A", Some(Country::US))));
    // Without the country, ZIP+4 is kept whole.
    assert_eq!(postcode("12345-6789", None).as_deref(), Ok("123456789"));
}

#[test]
fn postcode_rejections() {
    assert_eq!(postcode("", None), Err(Rejection::Empty));
    assert_eq!(postcode(" \u{200B} ", None), Err(Rejection::Empty));
    assert!(malformed(postcode("- -", None)));
    assert!(malformed(postcode("SW1A 1AA!", None)));
    assert!(malformed(postcode("北京", None)));
    assert!(malformed(postcode("ABCDE FGHIJ KLM", None)));
    assert_eq!(
        postcode("SW1A\u{0}1AA", None),
        Err(Rejection::ControlCharacter { position: 4 })
    );
}

// ---------------------------------------------------------------- country

#[test]
fn country_parses_and_serializes() {
    assert_eq!(Country::parse(" gb "), Ok(Country::GB));
    assert_eq!(Country::parse("UK"), Ok(Country::GB));
    assert_eq!("de".parse::<Country>(), Ok(Country::DE));
    assert_eq!(Country::JP.to_string(), "JP");
    assert_eq!(format!("{:?}", Country::JP), "Country(\"JP\")");
    assert_eq!(
        Country::parse("XK").map(|c| c.to_string()).as_deref(),
        Ok("XK")
    );
    assert_eq!(Country::parse(""), Err(Rejection::Empty));
    assert_eq!(Country::parse("QQ"), Err(Rejection::UnknownCountry));
    assert!(malformed(Country::parse("GBR")));
    assert!(malformed(Country::parse("1A")));

    assert_eq!(serde_json::to_string(&Country::FR).unwrap(), "\"FR\"");
    assert_eq!(
        serde_json::from_str::<Country>("\"nz\"").unwrap(),
        Country::NZ
    );
    assert!(serde_json::from_str::<Country>("\"ZZ\"").is_err());
    assert!(serde_json::from_str::<Country>("\"GBR\"").is_err());
    assert!(serde_json::from_str::<Country>("42").is_err());
}

// ---------------------------------------------------------------- shared properties

#[test]
fn megabyte_inputs_are_rejected_quickly() {
    let huge = "a".repeat(1 << 20);
    let huge_spaces = format!("{}jane@example.com", " ".repeat(1 << 20));
    let start = Instant::now();
    for _ in 0..100 {
        assert_eq!(email(&huge), Err(Rejection::TooLong { max_bytes: 254 }));
        assert_eq!(
            email(&huge_spaces),
            Err(Rejection::TooLong { max_bytes: 254 })
        );
        assert_eq!(name(&huge), Err(Rejection::TooLong { max_bytes: 1024 }));
        assert_eq!(
            phone(&huge, Country::GB),
            Err(Rejection::TooLong { max_bytes: 64 })
        );
        assert_eq!(
            postcode(&huge, None),
            Err(Rejection::TooLong { max_bytes: 64 })
        );
        assert_eq!(
            Country::parse(&huge),
            Err(Rejection::TooLong { max_bytes: 64 })
        );
    }
    // The length is checked before the content is read: 600 rejections of a megabyte
    // take microseconds, where reading the input would take far longer.
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn error_messages_are_short_and_data_free() {
    let secret = "Zq9Xw";
    let rejections = [
        email(&format!("{secret}@@example.com")).unwrap_err(),
        email(&format!("\"{secret}\"@example.com")).unwrap_err(),
        email(&format!("{secret}\u{1}@example.com")).unwrap_err(),
        phone(&format!("020 {secret}"), Country::GB).unwrap_err(),
        name(&format!("{secret}\u{7f}")).unwrap_err(),
        postcode(&format!("{secret}!"), None).unwrap_err(),
        Country::parse(secret).unwrap_err(),
    ];
    for rejection in rejections {
        let message = rejection.to_string();
        assert!(!message.contains(secret), "{message}");
        assert!(!message.is_empty() && message.len() < 100, "{message}");
        assert!(message.starts_with(char::is_lowercase), "{message}");
    }
    assert_eq!(Rejection::Empty.to_string(), "is empty");
    assert_eq!(
        Rejection::TooLong { max_bytes: 254 }.to_string(),
        "is longer than 254 bytes"
    );
    assert_eq!(
        Rejection::ControlCharacter { position: 3 }.to_string(),
        "has a control character at position 3"
    );
}

#[test]
fn rejection_is_send_sync_error() {
    fn check<T: Send + Sync + std::error::Error + 'static>() {}
    check::<Rejection>();
}

const COUNTRIES: [Country; 8] = [
    Country::GB,
    Country::US,
    Country::IT,
    Country::DE,
    Country::AU,
    Country::HU,
    Country::RU,
    Country::JP,
];

fn country() -> impl Strategy<Value = Country> {
    prop::sample::select(&COUNTRIES[..])
}

/// Strings that look like what people type into a phone field, so that many succeed.
fn phone_like() -> impl Strategy<Value = String> {
    "[+]?(\\(?0\\)?)?[0-9 ().\\-/]{0,20}( ?(x|ext\\.?) ?[0-9]{1,4})?"
}

/// Strings that look like email addresses, including provider domains.
fn email_like() -> impl Strategy<Value = String> {
    (
        "[ ]?[A-Za-zÀ-ÿ0-9.+_\\-]{0,12}",
        prop::sample::select(vec![
            "gmail.com",
            "GoogleMail.com",
            "outlook.com",
            "example.org.",
            "ΠΑΡΆΔΕΙΓΜΑ.δοκιμή",
            "x",
        ]),
    )
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
}

proptest! {
    #[test]
    fn email_never_panics_and_is_idempotent(raw in any::<String>()) {
        if let Ok(once) = email(&raw) {
            prop_assert_eq!(email(&once), Ok(once.clone()));
        }
    }

    #[test]
    fn email_is_idempotent_on_printable_text(raw in "\\PC{0,64}") {
        if let Ok(once) = email(&raw) {
            prop_assert_eq!(email(&once), Ok(once.clone()));
        }
    }

    #[test]
    fn email_is_idempotent_on_addresses(raw in email_like()) {
        if let Ok(once) = email(&raw) {
            prop_assert_eq!(email(&once), Ok(once.clone()));
        }
    }

    #[test]
    fn phone_never_panics_and_is_idempotent(raw in any::<String>(), c in country()) {
        if let Ok(once) = phone(&raw, c) {
            prop_assert_eq!(phone(&once, c), Ok(once.clone()));
            prop_assert!(once.starts_with('+') && once.len() <= 16);
        }
    }

    #[test]
    fn phone_is_idempotent_on_printable_text(raw in "\\PC{0,64}", c in country()) {
        if let Ok(once) = phone(&raw, c) {
            prop_assert_eq!(phone(&once, c), Ok(once.clone()));
        }
    }

    #[test]
    fn phone_is_idempotent_on_numbers(raw in phone_like(), c in country(), other in country()) {
        if let Ok(once) = phone(&raw, c) {
            prop_assert_eq!(phone(&once, c), Ok(once.clone()));
            // E.164 output no longer depends on the default country.
            prop_assert_eq!(phone(&once, other), Ok(once.clone()));
            prop_assert!(once[1..].bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn name_never_panics_and_is_idempotent(raw in any::<String>()) {
        if let Ok(once) = name(&raw) {
            prop_assert_eq!(name(&once), Ok(once.clone()));
            prop_assert!(once.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' '));
        }
    }

    #[test]
    fn name_is_idempotent_on_printable_text(raw in "\\PC{0,64}") {
        if let Ok(once) = name(&raw) {
            prop_assert_eq!(name(&once), Ok(once.clone()));
        }
    }

    #[test]
    fn postcode_never_panics_and_is_idempotent(raw in any::<String>(), us in any::<bool>()) {
        let c = us.then_some(Country::US);
        if let Ok(once) = postcode(&raw, c) {
            prop_assert_eq!(postcode(&once, c), Ok(once.clone()));
        }
    }

    #[test]
    fn postcode_is_idempotent_on_printable_text(raw in "\\PC{0,64}", us in any::<bool>()) {
        let c = us.then_some(Country::US);
        if let Ok(once) = postcode(&raw, c) {
            prop_assert_eq!(postcode(&once, c), Ok(once.clone()));
        }
    }

    #[test]
    fn country_parse_never_panics(raw in any::<String>()) {
        if let Ok(country) = Country::parse(&raw) {
            prop_assert_eq!(Country::parse(country.as_str()), Ok(country));
        }
    }

    #[test]
    fn rejections_never_echo_the_input(raw in "[a-z]{0,8}Zq9Xw[a-z@ .+\\-]{0,8}") {
        for result in [email(&raw), phone(&raw, Country::GB), name(&format!("{raw}\u{7}")), postcode(&raw, None)] {
            if let Err(rejection) = result {
                prop_assert!(!rejection.to_string().contains("Zq9Xw"));
            }
        }
    }
}
