//! What kind of line a telephone number is: a mobile or a fixed line.
//!
//! People give a mobile on one order and their home's landline (or the office's) on
//! another, so two numbers of different kinds are no evidence of two people, where two
//! mobiles that differ are. The kind is read from the numbering plan of the country's
//! calling code; for countries whose plans do not tell mobiles apart by their first
//! digits (North America, Denmark, …) it is unknown.

/// The kind of line an E.164 number (`+` and digits, as `normalize::phone` writes it)
/// belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    Mobile,
    Fixed,
}

/// The kind of line `e164` is, if its country's numbering plan tells: `+447…` is a UK
/// mobile, `+4420…` a London landline. `None` for an unknown plan, a non-geographic or
/// special number, or anything that is not `+` and digits.
pub(crate) fn line_kind(e164: &str) -> Option<LineKind> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    use LineKind::{Fixed, Mobile};
    // Each plan: (calling code, the number's digits after it) -> kind.
    let after = |code: &str| digits.strip_prefix(code).map(str::as_bytes);
    let kind = if let Some(n) = after("44") {
        // United Kingdom: 07 mobiles (070 personal numbers and 076 pagers aside), 01
        // and 02 geographic.
        match n {
            [b'7', b'0' | b'6', ..] => return None,
            [b'7', ..] => Mobile,
            [b'1' | b'2', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("49") {
        // Germany: 015, 016, 017 mobiles; area codes start with 2 to 9.
        match n {
            [b'1', b'5' | b'6' | b'7', ..] => Mobile,
            [b'2'..=b'9', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("31") {
        // Netherlands: 06 mobiles (066 pagers aside); 01 to 05 and 07 geographic.
        match n {
            [b'6', b'6', ..] => return None,
            [b'6', ..] => Mobile,
            [b'1'..=b'5' | b'7', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("33") {
        // France: 06 and 07 mobiles; 01 to 05 geographic.
        match n {
            [b'6' | b'7', ..] => Mobile,
            [b'1'..=b'5', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("34") {
        // Spain: 6 and 7 mobiles; 8 and 9 geographic (80x and 90x are special rates).
        match n {
            [b'6' | b'7', ..] => Mobile,
            [b'8' | b'9', b'0', ..] => return None,
            [b'8' | b'9', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("39") {
        // Italy: 3 mobiles, 0 geographic (the leading 0 is kept).
        match n {
            [b'3', ..] => Mobile,
            [b'0', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("43") {
        // Austria: 06 mobiles; 01 to 05 and 07 geographic.
        match n {
            [b'6', ..] => Mobile,
            [b'1'..=b'5' | b'7', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("41") {
        // Switzerland: 075 to 079 mobiles; 02 to 06 geographic, and 071.
        match n {
            [b'7', b'5'..=b'9', ..] => Mobile,
            [b'2'..=b'6', ..] | [b'7', b'1', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("32") {
        // Belgium: 045 to 049 mobiles.
        match n {
            [b'4', b'5'..=b'9', ..] => Mobile,
            [b'2' | b'3' | b'5' | b'6' | b'8' | b'9', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("353") {
        // Ireland: 083 to 089 mobiles.
        match n {
            [b'8', b'3'..=b'9', ..] => Mobile,
            [b'1' | b'2' | b'4'..=b'7' | b'9', ..] => Fixed,
            _ => return None,
        }
    } else if let Some(n) = after("351") {
        // Portugal: 9 mobiles, 2 geographic.
        match n {
            [b'9', ..] => Mobile,
            [b'2', ..] => Fixed,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_numbering_plan() {
        for mobile in [
            "+447983834844",
            "+4915212655631",
            "+31637671206",
            "+33614773943",
            "+34612345678",
            "+393471234567",
            "+436641234567",
            "+41791234567",
            "+32471234567",
            "+353871234567",
            "+351912345678",
        ] {
            assert_eq!(line_kind(mobile), Some(LineKind::Mobile), "{mobile}");
        }
        for fixed in [
            "+442079460018",
            "+441175330741",
            "+493020304050",
            "+31204882425",
            "+33142685300",
            "+34912345678",
            "+390612345678",
            "+4312345678",
            "+41441234567",
            "+3221234567",
            "+35312345678",
            "+351212345678",
        ] {
            assert_eq!(line_kind(fixed), Some(LineKind::Fixed), "{fixed}");
        }
        for unknown in [
            "+14155550132",
            "+4570123456",
            "+447012345678",
            "+448001234567",
            "+34901234567",
            "",
            "+",
            "447983834844",
            "+44 7983",
            "+44٧983834844",
        ] {
            assert_eq!(line_kind(unknown), None, "{unknown}");
        }
    }
}
