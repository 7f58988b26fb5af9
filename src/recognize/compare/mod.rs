//! Pure comparison primitives for person matching: how alike two values of one field are.
//!
//! Each function compares two already-normalized values and answers with a score or a
//! level; a Fellegi-Sunter strategy turns levels into weights. None allocates on the hot
//! path (the nickname table is built once, on first use), and none panics on any input:
//! empty strings, non-ASCII text and overlong values all give an answer.
//!
//! | field | function | answer |
//! | --- | --- | --- |
//! | name | [`jaro_winkler`] | similarity in `0.0..=1.0` |
//! | name | [`phonetic_key`], [`phonetic_keys_word`] | Double Metaphone code, equal keys sound alike |
//! | name | [`within_one_edit`] | one typo apart (Damerau) |
//! | given name | [`are_nicknames_known`] (with each name's [`NicknameEntry`], looked up once), [`nickname_groups`] | `bob` is `robert`, `hans` is `johannes` |
//! | birth date | [`compare_dates`] | [`DateLevel`] |
//! | phone | [`phone_one_digit_off`] | one digit mistyped or two swapped |
//! | phone | [`line_kind`] | [`LineKind`]: a mobile or a fixed line, if the numbering plan tells |
//! | e-mail | [`PreparedEmail::level`] (`email_level` in tests), [`split_email`] | [`EmailLevel`] |
//! | street line | [`address_similarity`] | token overlap in `0.0..=1.0`, house numbers must agree |
//! | postcode | [`PreparedPostcode::level`] (`postcode_level` in tests) | [`PostcodeLevel`] |
//!
//! # Levels
//!
//! A level names the strongest kind of agreement found, checked from strongest to weakest,
//! so every pair gets exactly one level:
//!
//! - [`DateLevel`]: `Exact`, then `DayMonthSwapped` (a US/European mix-up), then
//!   `OneDigitOff` (one digit of `YYYYMMDD` mistyped), then `YearOnly`, else `Different`.
//! - [`EmailLevel`]: `Exact`, then `SameLocal` (same mailbox name at another provider),
//!   then `OneEdit` (one typo anywhere in the address), else `Different`.
//! - [`PostcodeLevel`]: `Exact`, then `Near` (same UK outward code, or same first three
//!   characters elsewhere: the same district), else `Different`.
//!
//! A missing value is not a disagreement: callers skip the field when either side lacks it,
//! which is why empty inputs answer with the weakest level rather than an error.

mod address;
mod dates;
mod edit;
mod email;
mod jaro;
mod nicknames;
mod phone;
mod phonetic;

pub(crate) use address::{
    PostcodeLevel, PreparedPostcode, PreparedStreet, ReadStreet, address_similarity,
    address_similarity_read, read_street,
};
pub(crate) use dates::{DateLevel, compare_dates};
pub(crate) use edit::{
    doubled_or_swapped_letter, neighbouring_keys, phone_one_digit_off, same_but_umlauts,
    substituted_letters, within_one_edit,
};
pub(crate) use email::{EmailLevel, PreparedEmail, split_email, untagged};
pub(crate) use jaro::{byte_set, jaro_winkler, jaro_winkler_could_reach_with};
#[cfg(test)]
pub(crate) use nicknames::nickname_groups;
pub(crate) use nicknames::{NicknameEntry, NicknameGroup, are_nicknames_known};
pub(crate) use phone::{LineKind, line_kind};
#[cfg(test)]
pub(crate) use phonetic::phonetic_key_word;
pub(crate) use phonetic::{
    PhoneticKey, first_word, phonetic_key, phonetic_keys_of_word, phonetic_keys_word,
};
