//! Email addresses.

use super::Rejection;
use super::text::{self, Buf, Visible};

/// Longest address accepted (RFC 5321's limit on a forward path, less the brackets).
const MAX_BYTES: usize = 254;
/// Longest local part accepted (RFC 5321).
const MAX_LOCAL_BYTES: usize = 64;
/// Raw input past this is refused before any other work; it leaves room for surrounding
/// whitespace and invisible characters around an address of [`MAX_BYTES`].
const MAX_RAW_BYTES: usize = 1024;

/// A mail provider known to deliver several spellings of an address to one mailbox.
struct Provider {
    /// The domain all of its domains are rewritten to, where the provider treats them as
    /// one (an address at googlemail.com is the same mailbox at gmail.com).
    canonical_domain: Option<&'static str>,
    /// Whether dots in the local part are ignored by the provider.
    ignores_dots: bool,
}

/// Gmail: dots ignored, `googlemail.com` is `gmail.com`.
const GMAIL: Provider = Provider {
    canonical_domain: Some("gmail.com"),
    ignores_dots: true,
};

/// Providers that only drop the tag.
const SUB_ADDRESSING: Provider = Provider {
    canonical_domain: None,
    ignores_dots: false,
};

/// The provider whose variations are dropped for an address at `domain` (lowercase).
/// Every one of them delivers `name+tag@` to `name@` (sub-addressing), so the tag is
/// always dropped. Only Gmail also ignores dots.
///
/// Yahoo is deliberately absent: its disposable addresses use `-` and are separate
/// mailboxes, and it does not document `+` delivery for every account, so neither rule
/// would be safe there. Unknown domains keep their tags, as the tag may be part of the
/// mailbox name.
///
/// A `match` rather than a table searched in order: the domain's length picks the few
/// candidates, compared without a call.
fn provider(domain: &[u8]) -> Option<&'static Provider> {
    match domain {
        b"gmail.com" | b"googlemail.com" => Some(&GMAIL),
        b"outlook.com" | b"hotmail.com" | b"hotmail.co.uk" | b"live.com" | b"msn.com"
        | b"icloud.com" | b"me.com" | b"mac.com" | b"fastmail.com" | b"fastmail.fm"
        | b"protonmail.com" | b"proton.me" | b"pm.me" => Some(&SUB_ADDRESSING),
        _ => None,
    }
}

/// The canonical form of an email address, for recognizing the same mailbox however it
/// was typed.
///
/// - Surrounding whitespace and invisible characters (zero-width spaces, bidi controls,
///   byte order marks, …) are removed.
/// - The whole address is lowercased, with Unicode case rules so that internationalized
///   domains in Unicode form compare case-insensitively (they are not converted to
///   punycode, and not Unicode-normalized). The local part is lowercased too: RFC 5321
///   allows case-sensitive mailboxes, but every major provider ignores case, and an order
///   form typed with caps lock must still match.
/// - One trailing dot on the domain (`example.com.`) is removed.
/// - For Gmail, dots in the local part and everything from the first `+` are removed, and
///   `googlemail.com` becomes `gmail.com`. For Outlook/Hotmail/Live/MSN, iCloud,
///   Fastmail and Proton, everything from the first `+` is removed but dots are kept.
///   Other domains are left as typed.
///
/// Dots in the local part are otherwise not checked (some real mailboxes have
/// consecutive or trailing dots). The result passed in again comes back unchanged.
///
/// ```
/// use regulars::normalize::email;
///
/// assert_eq!(email(" J.Doe+news@GoogleMail.com ")?, "jdoe@gmail.com");
/// assert_eq!(email("J.Doe+news@outlook.com")?, "j.doe@outlook.com");
/// assert_eq!(email("J.Doe+news@example.org.")?, "j.doe+news@example.org");
/// # Ok::<(), regulars::normalize::Rejection>(())
/// ```
///
/// # Errors
///
/// - [`Rejection::Empty`] for blank input; [`Rejection::TooLong`] past 254 bytes.
/// - [`Rejection::ControlCharacter`] for control characters other than surrounding tabs
///   and line breaks.
/// - [`Rejection::Malformed`] unless there is exactly one `@` with a local part of at most
///   64 bytes before it and a dotted domain with non-empty labels after it; for whitespace
///   inside the address; for `"` (quoted local parts such as `"a b"@example.com` are valid
///   but not supported); for `( ) , : ; < > [ \ ]` (display names, comments and address
///   literals are not addresses); and for a local part that is empty once a provider's
///   rules are applied (`+tag@gmail.com`).
pub fn email(raw: &str) -> Result<String, Rejection> {
    let mut out = Buf::new();
    email_into(raw, &mut out)?;
    Ok(out.as_str().to_owned())
}

/// Appends the address [`email`] gives for `raw` to `out`. On error `out` may hold part
/// of it.
pub(crate) fn email_into(raw: &str, out: &mut Buf) -> Result<(), Rejection> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_BYTES,
        });
    }
    if plain_ascii_into(raw, out) {
        return Ok(());
    }
    if text::screen_ascii(raw, MAX_RAW_BYTES)? {
        canonical_ascii(raw.as_bytes(), out)
    } else {
        canonical(text::visible(raw), out)
    }
}

/// What an address may not contain, and the error for it, whichever part it is in.
fn check_anywhere(c: char) -> Result<(), Rejection> {
    match c {
        ' ' => Err(malformed("no whitespace inside the address")),
        '"' => Err(malformed("an unquoted local part")),
        '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']' => Err(malformed(
            "a bare address, without brackets, commas, colons or semicolons",
        )),
        _ => Ok(()),
    }
}

/// What a domain may not contain.
fn check_in_domain(c: char) -> Result<(), Rejection> {
    if c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return Err(malformed("only letters, digits, '-' and '.' in the domain"));
    }
    Ok(())
}

/// [`canonical`] for screened ASCII input: every byte is checked in order, as
/// [`canonical`] checks characters, then the address is copied and lowercased in one
/// piece. Gives exactly what [`canonical`] gives.
pub(super) fn canonical_ascii(raw: &[u8], out: &mut Buf) -> Result<(), Rejection> {
    let address = text::trim_ascii_space(raw);
    // Most addresses pass every check: the local part and the domain are each checked
    // with one table read a byte, and only an address that fails is read again, byte by
    // byte in order, to find the first error.
    let at = match address.iter().position(|&b| b == b'@') {
        Some(at) if passes_checks(address, at) => Some(at),
        _ => first_error_ascii(address)?,
    };
    let start = out.len();
    out.push_ascii(address);
    out.make_ascii_lowercase_from(start);
    finish(out, start, at)
}

/// Writes the canonical form of `raw` when it is a plain address: ASCII, perhaps with
/// spaces, tabs or line breaks around it, that passes every check. One pass over the
/// bytes checks them; the provider's rules are applied while the address is copied out
/// as text (slices of `raw`, so nothing is validated again), and lowercased in place.
/// Returns `false`, having written nothing, for anything else (or an address near a
/// length limit), so that the general steps screen it and find its error.
fn plain_ascii_into(raw: &str, out: &mut Buf) -> bool {
    let address = text::trim_screened_space(raw);
    // The rules only shorten an address, so one this short stays within the limit.
    if address.len() > MAX_BYTES {
        return false;
    }
    // Every byte the checks let through is printable ASCII (no control character, so
    // screening has nothing to refuse), and an `@` only once.
    let mut at = None;
    let mut part = IN_LOCAL;
    // Most addresses are written in lower case already: noted here, so that they are
    // not lowercased again once copied.
    let mut classes = 0;
    for (i, &b) in address.as_bytes().iter().enumerate() {
        let class = ADDRESS_CLASS.get(usize::from(b)).copied().unwrap_or(0);
        classes |= class;
        if class & part == 0 {
            if b != b'@' || at.is_some() {
                return false;
            }
            at = Some(i);
            part = IN_DOMAIN;
        }
    }
    let Some(at) = at else {
        return false;
    };
    let (Some(local), Some(domain)) = (address.get(..at), address.get(at + 1..)) else {
        return false;
    };
    // A fully qualified domain may end in a dot; mail systems ignore it.
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let labels = domain.as_bytes();
    // One pass for both: a dot first, last or after another is an empty label.
    let (mut dotted, mut empty_label, mut after_dot) = (false, false, true);
    for &b in labels {
        let dot = b == b'.';
        dotted |= dot;
        empty_label |= dot && after_dot;
        after_dot = dot;
    }
    if local.is_empty() || !dotted || empty_label || after_dot {
        return false;
    }
    // Providers are known by their domains lowercased: only a domain no longer than
    // theirs is lowercased (on the stack) to look for one.
    let mut lowered = [0u8; PROVIDER_DOMAIN_BYTES];
    let provider = lowered.get_mut(..labels.len()).and_then(|lowered| {
        for (slot, &b) in lowered.iter_mut().zip(labels) {
            *slot = b.to_ascii_lowercase();
        }
        provider(lowered)
    });
    let (local, ignores_dots, domain) = match provider {
        Some(provider) => {
            // By bytes: a `str` pattern search costs more than these few bytes.
            let tag = local.bytes().position(|b| b == b'+').unwrap_or(local.len());
            let untagged = local.get(..tag).unwrap_or_default();
            let domain = provider.canonical_domain.unwrap_or(domain);
            (untagged, provider.ignores_dots, domain)
        }
        None => (local, false, domain),
    };
    let start = out.len();
    if ignores_dots {
        let mut piece = 0;
        for (i, b) in local.bytes().enumerate() {
            if b == b'.' {
                out.push_str(local.get(piece..i).unwrap_or_default());
                piece = i + 1;
            }
        }
        out.push_str(local.get(piece..).unwrap_or_default());
    } else {
        out.push_str(local);
    }
    let local_len = out.len() - start;
    if local_len == 0 || local_len > MAX_LOCAL_BYTES {
        out.truncate(start);
        return false;
    }
    out.push('@');
    out.push_str(domain);
    // What was copied is part of the address or a provider's own (lower-case) domain.
    if classes & UPPER != 0 {
        out.make_ascii_lowercase_from(start);
    }
    true
}

/// The longest domain [`provider`] knows (`googlemail.com`, `protonmail.com`).
const PROVIDER_DOMAIN_BYTES: usize = 14;

/// Whether an address (ASCII, trimmed) with its first `@` at `at` has nothing the checks
/// of [`first_error_ascii`] refuse: no second `@`, and only the characters each part
/// allows.
fn passes_checks(address: &[u8], at: usize) -> bool {
    let (Some(local), Some(domain)) = (address.get(..at), address.get(at + 1..)) else {
        return false;
    };
    let allowed = |b: &u8, part: u8| {
        ADDRESS_CLASS
            .get(usize::from(*b))
            .is_some_and(|c| c & part != 0)
    };
    local.iter().all(|b| allowed(b, IN_LOCAL)) && domain.iter().all(|b| allowed(b, IN_DOMAIN))
}

/// Bit in [`ADDRESS_CLASS`]: allowed in the local part (not `@`).
const IN_LOCAL: u8 = 1;
/// Bit in [`ADDRESS_CLASS`]: allowed in the domain.
const IN_DOMAIN: u8 = 2;
/// Bit in [`ADDRESS_CLASS`]: an upper-case letter.
const UPPER: u8 = 4;

/// For every ASCII byte, where in an address [`first_error_ascii`] lets it through.
static ADDRESS_CLASS: [u8; 128] = {
    let mut table = [0; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        let anywhere = byte.is_ascii_graphic()
            && !matches!(
                byte,
                b'@' | b'"' | b'(' | b')' | b',' | b':' | b';' | b'<' | b'>' | b'[' | b'\\' | b']'
            );
        if anywhere {
            table[b] = IN_LOCAL;
            if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.' {
                table[b] |= IN_DOMAIN;
            }
            if byte.is_ascii_uppercase() {
                table[b] |= UPPER;
            }
        }
        b += 1;
    }
    table
};

/// Checks every byte of an address (ASCII, trimmed) in order, as [`canonical`] checks
/// characters, and returns where its `@` is.
fn first_error_ascii(address: &[u8]) -> Result<Option<usize>, Rejection> {
    let mut at = None;
    for (i, &b) in address.iter().enumerate() {
        // Whitespace left after trimming is inside the address.
        let c = if text::is_ascii_space(b) {
            ' '
        } else {
            char::from(b)
        };
        check_anywhere(c)?;
        if c == '@' {
            if at.is_some() {
                return Err(malformed("exactly one '@'"));
            }
            at = Some(i);
        } else if at.is_some() {
            check_in_domain(c)?;
        }
    }
    Ok(at)
}

/// Writes the canonical form of the visible characters of a screened address to the end
/// of `out`.
pub(super) fn canonical(chars: Visible<'_>, out: &mut Buf) -> Result<(), Rejection> {
    let start = out.len();
    // Where the '@' is, from `start`.
    let mut at = None;
    for c in chars {
        check_anywhere(c)?;
        if c == '@' {
            if at.is_some() {
                return Err(malformed("exactly one '@'"));
            }
            at = Some(out.len() - start);
        } else if at.is_some() {
            check_in_domain(c)?;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            // Per-character lowercasing (no final-sigma rule) keeps this idempotent.
            for lower in c.to_lowercase() {
                out.push(lower);
            }
        }
    }
    finish(out, start, at)
}

/// Checks the address written to `out` from `start` (its `@` at `at` from there) and
/// applies its provider's rules.
fn finish(out: &mut Buf, start: usize, at: Option<usize>) -> Result<(), Rejection> {
    if out.len() == start {
        return Err(Rejection::Empty);
    }
    let Some(at) = at else {
        return Err(malformed("exactly one '@'"));
    };
    // A fully qualified domain may end in a dot; mail systems ignore it.
    if out.len() - start > at + 1 && out.last_byte() == Some(b'.') {
        out.pop_ascii();
    }

    // By bytes: every check is on ASCII bytes, and `at` is where the '@' is.
    let address = out.bytes_from(start);
    let (local, domain) = split(address, at);
    if local.is_empty() {
        return Err(malformed("a local part before the '@'"));
    }
    if domain.is_empty() {
        return Err(malformed("a domain after the '@'"));
    }
    let labels = domain;
    if !labels.contains(&b'.') {
        return Err(malformed("a domain with a '.'"));
    }
    // An empty label: a dot at either end, or two together.
    if labels.first() == Some(&b'.')
        || labels.last() == Some(&b'.')
        || labels.windows(2).any(|pair| pair == b"..")
    {
        return Err(malformed("no empty labels in the domain"));
    }

    if let Some(provider) = provider(domain) {
        apply(provider, out, start);
    }

    let address = out.bytes_from(start);
    let at = address.iter().position(|&b| b == b'@').unwrap_or(0);
    if at == 0 {
        return Err(malformed("a local part that is not only dots or a '+' tag"));
    }
    if at > MAX_LOCAL_BYTES {
        return Err(malformed("a local part of at most 64 bytes"));
    }
    if address.len() > MAX_BYTES {
        return Err(Rejection::TooLong {
            max_bytes: MAX_BYTES,
        });
    }
    Ok(())
}

fn malformed(expected: &'static str) -> Rejection {
    Rejection::Malformed { expected }
}

/// The local part and domain of `address`, whose `@` is at byte `at`.
fn split(address: &[u8], at: usize) -> (&[u8], &[u8]) {
    let local = address.get(..at).unwrap_or_default();
    let domain = address.get(at + 1..).unwrap_or_default();
    (local, domain)
}

/// Rewrites the address at the end of `out` from `start` (lowercase, with one `@`) by
/// `provider`'s rules, in place.
fn apply(provider: &Provider, out: &mut Buf, start: usize) {
    let mut in_local = true;
    let mut tagged = false;
    // By bytes: every byte the rules look at is ASCII, and a character's continuation
    // bytes share the fate of its first (all are in the local part, after a tag or not).
    out.retain_from(start, |b| {
        if !in_local {
            return true;
        }
        match b {
            b'@' => {
                in_local = false;
                true
            }
            b'+' => {
                tagged = true;
                false
            }
            b'.' if provider.ignores_dots => false,
            _ => !tagged,
        }
    });
    if let Some(domain) = provider.canonical_domain {
        let at = out.bytes_from(start).iter().position(|&b| b == b'@');
        if let Some(at) = at {
            out.truncate(start + at + 1);
            out.push_str(domain);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_rules_apply_to_each_provider_domain() {
        let gmail = ["gmail.com", "googlemail.com"];
        let tags_only = [
            "outlook.com",
            "hotmail.com",
            "hotmail.co.uk",
            "live.com",
            "msn.com",
            "icloud.com",
            "me.com",
            "mac.com",
            "fastmail.com",
            "fastmail.fm",
            "protonmail.com",
            "proton.me",
            "pm.me",
        ];
        for domain in gmail {
            assert_eq!(email(&format!("A.b+t@{domain}")), Ok("ab@gmail.com".into()));
            let upper = domain.to_ascii_uppercase();
            assert_eq!(email(&format!("A.b+t@{upper}.")), Ok("ab@gmail.com".into()));
        }
        for domain in tags_only {
            assert_eq!(
                email(&format!("A.b+t@{domain}")),
                Ok(format!("a.b@{domain}"))
            );
            let upper = domain.to_ascii_uppercase();
            assert_eq!(
                email(&format!("A.b+t@{upper}.")),
                Ok(format!("a.b@{domain}"))
            );
        }
        assert_eq!(email("A.b+t@yahoo.com"), Ok("a.b+t@yahoo.com".into()));
        assert_eq!(email("A.b+t@xgmail.com"), Ok("a.b+t@xgmail.com".into()));
    }
}
