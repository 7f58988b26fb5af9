//! The usual: the breakfast lady's rule.

use smallvec::SmallVec;

use super::{at_ticket, first_entry};
use crate::memory::PatronView;
use crate::model::history::OtherRef;
use crate::model::profile::SeatPreference;
use crate::moments::builtin::push_decimal;
use crate::moments::{Action, Moment, MomentKind, MomentRule, Priority, RuleContext, TriggerKinds};

/// Fires when a patron with a known habit is scanned in: a quiet message on the door
/// scanner ("The usual: espresso (5 times); likes an aisle seat in the Stalls").
///
/// A hotel's breakfast lady brought one guest his espresso without a word, because he
/// hated talking before it. This is that rule: knowing, not performing. It is
/// [`MomentKind::Recognition`], so [`LeaveMeBe`](crate::LeaveMeBe) lets it through for
/// patrons who prefer no fuss — for them the message ends with "prefers no fuss", so
/// staff serve it without the chat.
///
/// - **Trigger:** [`Trigger::Scan`](crate::Trigger::Scan) with `first_entry` (their first
///   entry to that performance); exits and re-entries give nothing.
/// - **Habits:**
///   - the bar order: the product (SKU) found in the most of their bar and shop
///     purchases (a line counts once per purchase whatever its quantity, so one round
///     for six is not a habit), if it is in at least
///     [`min_count`](TheUsual::min_count) of them (default 3). On a tie, the one bought
///     most recently wins;
///   - the seat: their [`SeatPreference`] (aisle, section), unless turned off with
///     [`seat_preference`](TheUsual::seat_preference).
///
///   Without either, nothing fires.
/// - **Moment:** [`MomentKind::Recognition`], [`Action::ScanAttention`] for the scanned
///   ticket's performance and seat, [`Priority::LOW`]. It relies on personalisation, so
///   a patron who withdrew personalisation in person gets nothing.
/// - **Policy:** once per performance.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use regulars::{
///     Currency, Event, LineItem, Memory, Money, Order, Performance, Production, Purchase,
///     Scan, Signals, Ticket, TheUsual, Venue,
/// };
///
/// let at = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
/// let mut memory = Memory::builder().without_default_rules().rule(TheUsual::new().min_count(2)).build()?;
/// memory.define_venue(Venue::new("main", "Main House"))?;
/// memory.define_production(Production::new("hamlet", "Hamlet"))?;
/// memory.define_performance(Performance::new("hamlet-1", "hamlet", "main", at(20, 19)))?;
///
/// let guest = || Signals::new().card_token("tok_guest");
/// let espresso = LineItem::new("espresso", 1, Money::new(250, Currency::GBP));
/// for day in [1, 8] {
///     let purchase = Purchase::new(guest()).item(espresso.clone());
///     memory.observe(Event::purchase(format!("bar-{day}"), purchase).at(at(day, 18)))?;
/// }
/// let order = Order::new("o-1", guest()).ticket(Ticket::new("t-1", "hamlet-1"));
/// memory.observe(Event::order("e-1", order).at(at(10, 12)))?;
///
/// let scanned = memory.observe(Event::scan("e-2", Scan::entry("t-1")).at(at(20, 18)))?;
/// assert_eq!(scanned.moments()[0].message(), "The usual: espresso (2 times)");
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TheUsual {
    min_count: u32,
    seat: bool,
}

impl Default for TheUsual {
    fn default() -> Self {
        Self {
            min_count: 3,
            seat: true,
        }
    }
}

impl TheUsual {
    /// The rule's id.
    pub const ID: &'static str = "the-usual";

    /// A bar order from 3 purchases on, and the seat preference.
    pub fn new() -> Self {
        Self::default()
    }

    /// In how many purchases a product must be to be "the usual" (default 3; at least 1).
    #[must_use]
    pub fn min_count(mut self, purchases: u32) -> Self {
        self.min_count = purchases.max(1);
        self
    }

    /// Whether to mention their seat preference (default `true`).
    #[must_use]
    pub fn seat_preference(mut self, mention: bool) -> Self {
        self.seat = mention;
        self
    }
}

/// Their most frequent product: its SKU and in how many purchases it is, if at least
/// `min_count`.
fn usual_item<'a>(patron: &PatronView<'a>, min_count: u32) -> Option<(&'a str, u32)> {
    // (sku, purchases with it, position of the latest); inline for a typical bar menu.
    let mut counts: SmallVec<[(&'a str, u32, usize); 8]> = SmallVec::new();
    for (at, kind) in patron.history().stored_kinds() {
        let OtherRef::Purchased { items, .. } = kind else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let sku = item.sku();
            if items[..i].iter().any(|earlier| earlier.sku() == sku) {
                continue;
            }
            match counts.iter_mut().find(|(s, _, _)| *s == sku) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 = at;
                }
                None => counts.push((sku, 1, at)),
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(_, n, latest)| (n, latest))
        .filter(|&(_, n, _)| n >= min_count)
        .map(|(sku, n, _)| (sku, n))
}

/// "an aisle seat in the Stalls", "an aisle seat", "the Stalls".
fn seat_words(seat: &SeatPreference) -> Option<String> {
    match (seat.wants_aisle(), seat.section()) {
        (true, Some(section)) => Some(format!("an aisle seat in the {section}")),
        (true, None) => Some("an aisle seat".to_owned()),
        (false, Some(section)) => Some(format!("the {section}")),
        (false, None) => None,
    }
}

impl MomentRule for TheUsual {
    fn id(&self) -> &str {
        Self::ID
    }

    fn triggers(&self) -> TriggerKinds {
        TriggerKinds::SCAN
    }

    /// It looks at events only.
    fn has_due_times(&self) -> bool {
        false
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Some(ticket) = first_entry(ctx.trigger()) else {
            return;
        };
        let patron = ctx.patron();
        let purchases = patron.stats().purchases();
        // The purchase count bounds every product's: no history walk below it.
        let item = if purchases >= self.min_count {
            usual_item(patron, self.min_count)
        } else {
            None
        };
        let seat = match patron.preferences().seat() {
            Some(seat) if self.seat => seat_words(seat),
            _ => None,
        };
        if item.is_none() && seat.is_none() {
            return;
        }
        let mut message = String::new();
        let mut explanation = String::new();
        if let Some((sku, n)) = item {
            // Put together by hand: the formatting machinery cost more than finding
            // the habit.
            message.reserve(sku.len() + 64);
            message.push_str("The usual: ");
            message.push_str(sku);
            if n == 1 {
                message.push_str(" (once)");
            } else {
                message.push_str(" (");
                push_decimal(&mut message, n);
                message.push_str(" times)");
            }
            explanation.reserve(sku.len() + 96);
            explanation.push_str(sku);
            explanation.push_str(" in ");
            push_decimal(&mut explanation, n);
            explanation.push_str(" of ");
            push_decimal(&mut explanation, purchases);
            explanation.push_str(" bar or shop purchases (at least ");
            push_decimal(&mut explanation, self.min_count);
            explanation.push_str(" needed)");
        }
        if let Some(seat) = seat {
            let (message_sep, explanation_sep) = if message.is_empty() {
                ("Likes ", "")
            } else {
                ("; likes ", "; ")
            };
            message.push_str(message_sep);
            message.push_str(&seat);
            explanation.push_str(explanation_sep);
            explanation.push_str("seat preference on file: ");
            explanation.push_str(&seat);
        }
        if patron.preferences().prefers_no_fuss() {
            message.push_str("; prefers no fuss");
        }
        let moment = Moment::new(MomentKind::Recognition, Action::ScanAttention, message)
            .with_priority(Priority::LOW)
            .explain(explanation);
        out.push(at_ticket(moment, ticket));
    }
}
