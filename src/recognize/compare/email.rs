//! E-mail address agreement levels.

use super::edit::within_one_edit;

/// A local part shorter than this (`jo@`, `me@`) is too common to say anything on its own.
const MIN_SHARED_LOCAL: usize = 3;

/// How two e-mail addresses agree, strongest first. See [`email_level`] for the order of
/// checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum EmailLevel {
    /// The same address.
    Exact,
    /// The same local part, at least 3 bytes, at different domains: the same mailbox name
    /// at another provider (`anna.berg@gmx.de`, `anna.berg@web.de`).
    SameLocal,
    /// The whole addresses are one Damerau edit apart, or the local parts are the same
    /// and the domains one edit apart: a typo (`anna@gmial.com`).
    OneEdit,
    /// None of the above.
    Different,
}

/// Splits an address at its last `@` into local part and domain, both non-empty; `None`
/// when there is no `@` or either side is empty.
pub(crate) fn split_email(email: &str) -> Option<(&str, &str)> {
    // A byte scan: addresses are short, and recognition splits every candidate's (a
    // `char` pattern's searcher costs more than the scan). `@` is ASCII, so its byte
    // index is a character boundary.
    let at = email.bytes().rposition(|b| b == b'@')?;
    let (local, domain) = (&email[..at], &email[at + 1..]);
    (!local.is_empty() && !domain.is_empty()).then_some((local, domain))
}

/// Compares two normalized e-mail addresses, checking in this order and answering with the
/// first that holds: [`Exact`](EmailLevel::Exact), [`SameLocal`](EmailLevel::SameLocal),
/// [`OneEdit`](EmailLevel::OneEdit), else [`Different`](EmailLevel::Different) (a local
/// part's domain slip below is checked before `SameLocal`).
///
/// The same local part at a domain one slip from the other (one Damerau edit, as
/// `anna.berg@gmial.com` for `anna.berg@gmail.com`, or cut short or run on at a dot) is
/// `OneEdit`: a slip in typing the provider, so the same mailbox, not a mailbox of that
/// name at another provider (providers' domains are rarely one slip apart).
/// A `+tag` (sub-address) is left out of the local parts before they are compared:
/// normalization keeps it at providers not known to deliver `name+tag@` to `name@`, but
/// only the owner of `anna@web.de` writes `anna+tickets@web.de`, so the two are `Exact`.
/// An empty address on either side is `Different` (a missing value, not an agreement).
/// Addresses without an `@` can still be `Exact` or `OneEdit`. Allocation-free. An address
/// compared with many is split once with [`PreparedEmail`].
#[cfg(test)]
pub(crate) fn email_level(a: &str, b: &str) -> EmailLevel {
    PreparedEmail::new(a).level(b)
}

/// One address split once into its untagged local part and domain, to be compared with
/// many others: [`level_split`](Self::level_split) answers as [`email_level`] does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreparedEmail<'a> {
    whole: &'a str,
    /// The local part without its `+tag`, and the domain; `None` without both.
    parts: Option<(&'a str, &'a str)>,
}

impl<'a> PreparedEmail<'a> {
    pub(crate) fn new(email: &'a str) -> Self {
        Self {
            whole: email,
            parts: split_email(email).map(|(local, domain)| (untagged(local), domain)),
        }
    }

    /// The local part without its `+tag`, if the address has both parts.
    pub(crate) fn untagged_local(&self) -> Option<&'a str> {
        self.parts.map(|(local, _)| local)
    }

    /// The whole address.
    pub(crate) fn whole(&self) -> &'a str {
        self.whole
    }

    /// [`email_level`] of this address and `other`.
    #[cfg(test)]
    pub(crate) fn level(&self, other: &str) -> EmailLevel {
        self.level_split(&PreparedEmail::new(other))
    }

    /// [`email_level`] of this address and `other`, split once too: an address compared
    /// with many is compared with each one's parts, read once for every comparison.
    pub(crate) fn level_split(&self, other: &PreparedEmail<'_>) -> EmailLevel {
        let (a, other_whole) = (self.whole, other.whole);
        if a.is_empty() || other_whole.is_empty() {
            return EmailLevel::Different;
        }
        if a == other_whole {
            return EmailLevel::Exact;
        }
        if let Some((local_a, domain_a)) = self.parts
            && !local_a.is_empty()
            && let Some((local_b, domain_b)) = other.parts
        {
            // Both local parts are already without their `+tag` (`PreparedEmail::new`).
            if local_b == local_a {
                if domain_a == domain_b {
                    return EmailLevel::Exact;
                }
                if domain_slip(domain_a, domain_b) {
                    return EmailLevel::OneEdit;
                }
                if local_a.len() >= MIN_SHARED_LOCAL {
                    return EmailLevel::SameLocal;
                }
            } else if slipped_from_gmail((local_a, domain_a), (local_b, domain_b)) {
                return EmailLevel::OneEdit;
            }
        }
        if within_one_edit(a, other_whole) {
            return EmailLevel::OneEdit;
        }
        EmailLevel::Different
    }
}

/// Whether two different domains are one typed for the other: one edit apart
/// (`gmial.com`), or one cut short or run on at a dot (`hotmail.co` for `hotmail.co.uk`,
/// `web.de.com` for `web.de`). Providers' real domains are not that close.
fn domain_slip(a: &str, b: &str) -> bool {
    let cut_short = |short: &str, long: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    within_one_edit(a, b) || cut_short(a, b) || cut_short(b, a)
}

/// The domain normalization gives every Gmail address, without the dots of its local
/// part (Gmail ignores them).
const GMAIL: &str = "gmail.com";

/// Whether one address is at Gmail and the other at a domain one slip from it, with the
/// same local part but for dots: `john.smith@gmial.com` meant `johnsmith@gmail.com`, as
/// memory keeps it (normalization drops the dots only where the domain is Gmail's).
fn slipped_from_gmail(a: (&str, &str), b: (&str, &str)) -> bool {
    fn without_dots(local: &str) -> impl Iterator<Item = u8> + '_ {
        local.bytes().filter(|&c| c != b'.')
    }
    (a.1 == GMAIL) != (b.1 == GMAIL)
        && domain_slip(a.1, b.1)
        && without_dots(a.0).eq(without_dots(b.0))
}

/// A local part without its `+tag`, if it has one.
pub(crate) fn untagged(local: &str) -> &str {
    // A byte scan, as in `split_email`; `+` is ASCII.
    local
        .bytes()
        .position(|b| b == b'+')
        .map_or(local, |plus| &local[..plus])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        assert_eq!(
            split_email("anna@example.org"),
            Some(("anna", "example.org"))
        );
        assert_eq!(
            split_email("\"a@b\"@example.org"),
            Some(("\"a@b\"", "example.org"))
        );
        assert_eq!(split_email("anna"), None);
        assert_eq!(split_email("@example.org"), None);
        assert_eq!(split_email("anna@"), None);
        assert_eq!(split_email(""), None);
        assert_eq!(split_email("@"), None);
        assert_eq!(split_email("jörg@müller.de"), Some(("jörg", "müller.de")));
    }

    #[test]
    fn untagged_drops_from_the_first_plus() {
        assert_eq!(untagged("anna+tickets"), "anna");
        assert_eq!(untagged("anna+a+b"), "anna");
        assert_eq!(untagged("anna"), "anna");
        assert_eq!(untagged("+tag"), "");
        assert_eq!(untagged("jörg+ü"), "jörg");
    }

    /// The order of checks [`email_level`] documents, written out plainly.
    fn reference_level(a: &str, b: &str) -> EmailLevel {
        if a.is_empty() || b.is_empty() {
            return EmailLevel::Different;
        }
        if a == b {
            return EmailLevel::Exact;
        }
        let parts = |e| split_email(e).map(|(local, domain)| (untagged(local), domain));
        if let (Some((la, da)), Some((lb, db))) = (parts(a), parts(b))
            && la != lb
            && !la.is_empty()
            && slipped_from_gmail((la, da), (lb, db))
        {
            return EmailLevel::OneEdit;
        }
        if let (Some((la, da)), Some((lb, db))) = (parts(a), parts(b))
            && la == lb
            && !la.is_empty()
        {
            if da == db {
                return EmailLevel::Exact;
            }
            if domain_slip(da, db) {
                return EmailLevel::OneEdit;
            }
            if la.len() >= MIN_SHARED_LOCAL {
                return EmailLevel::SameLocal;
            }
        }
        if within_one_edit(a, b) {
            return EmailLevel::OneEdit;
        }
        EmailLevel::Different
    }

    #[test]
    fn a_prepared_address_compares_as_the_plain_comparison() {
        let addresses = [
            "",
            "@",
            "noat",
            "noat2",
            "anna@gmail.com",
            "anna@gmial.com",
            "an.na@gmial.com",
            "a.nna+x@gmial.com",
            "anne@gmail.com",
            "ana@gmail.com",
            "anna+news@gmail.com",
            "anna+shows@web.de",
            "anna@web.de",
            "anna@web.de.com",
            "an.na@gmail.com.uk",
            "jo@gmx.de",
            "jo@web.de",
            "jo@a.de",
            "+news@web.de",
            "+shows@web.de",
            "\"a@b\"@example.org",
            "a@b@example.org",
            "zoë@x.de",
            "zoe@x.de",
            "anna@",
            "@web.de",
        ];
        for a in addresses {
            let prepared = PreparedEmail::new(a);
            for b in addresses {
                assert_eq!(prepared.level(b), reference_level(a, b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn levels() {
        use EmailLevel::*;
        assert_eq!(email_level("anna@gmail.com", "anna@gmail.com"), Exact);
        assert_eq!(
            email_level("anna.berg@gmx.de", "anna.berg@web.de"),
            SameLocal
        );
        // A slip in the provider's domain: the same mailbox mistyped.
        assert_eq!(
            email_level("annaberg@gmail.com", "annaberg@gmial.com"),
            OneEdit
        );
        assert_eq!(
            email_level("anna.berg+news@hotmial.com", "anna.berg@hotmail.com"),
            OneEdit
        );
        assert_eq!(email_level("jo@web.de", "jo@wed.de"), OneEdit);
        assert_eq!(
            email_level("anna.berg@hotmail.co", "anna.berg@hotmail.co.uk"),
            OneEdit
        );
        assert_eq!(
            email_level("anna.berg@web.de.com", "anna.berg@web.de"),
            OneEdit
        );
        // Not cut at a dot: another domain.
        assert_eq!(
            email_level("anna.berg@web.dex", "anna.berg@web.de.com"),
            SameLocal
        );
        // Gmail's addresses are kept without dots: the slip is still found.
        assert_eq!(
            email_level("john.smith+news@gmial.com", "johnsmith@gmail.com"),
            OneEdit
        );
        assert_eq!(
            email_level("john.smith@gmial.com", "janesmith@gmail.com"),
            Different
        );
        assert_eq!(email_level("anna@gmail.com", "anne@gmail.com"), OneEdit);
        assert_eq!(email_level("anna@gmail.com", "ana@gmail.com"), OneEdit);
        // Too short a local part to count on its own.
        assert_eq!(email_level("jo@gmx.de", "jo@web.de"), Different);
        assert_eq!(email_level("jo@a.de", "jo@b.de"), OneEdit);
        assert_eq!(email_level("anna@gmail.com", "bert@web.de"), Different);
        assert_eq!(email_level("", ""), Different);
        assert_eq!(email_level("", "a@b.c"), Different);
        assert_eq!(email_level("noat", "noat"), Exact);
        assert_eq!(email_level("zoë@x.de", "zoe@x.de"), Different);
        // A sub-address is its mailbox, wherever it is kept as typed.
        assert_eq!(email_level("anna+tickets@web.de", "anna@web.de"), Exact);
        assert_eq!(email_level("anna+news@web.de", "anna+shows@web.de"), Exact);
        assert_eq!(
            email_level("anna.berg+news@web.de", "anna.berg@gmx.de"),
            SameLocal
        );
        assert_eq!(email_level("+news@web.de", "+shows@web.de"), Different);
    }
}
