//! How compactly memory stores what it holds: the sizes the scale figures rely on, and
//! that the compact forms serialize exactly as the plain ones did (snapshots and journals
//! written before stay readable).

use std::mem::size_of;

use regulars::{Currency, EventId, Interaction, Money, Seat, TicketId};

#[test]
#[cfg(target_pointer_width = "64")]
fn prices_seats_and_history_entries_stay_small() {
    // A ticket's price and seat are optional in every ticket and history entry.
    assert_eq!(size_of::<Option<Money>>(), 16);
    assert_eq!(size_of::<Option<Seat>>(), 8);
    // Ten history entries per patron: each byte here is 10 MB at a million patrons.
    assert!(
        size_of::<Interaction>() <= 96,
        "{}",
        size_of::<Interaction>()
    );
    assert_eq!(size_of::<EventId>(), 16);
}

#[test]
fn vendor_ids_serialize_as_bare_strings() {
    let id = TicketId::new("t-1");
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"t-1\"");
    let back: TicketId = serde_json::from_str("\"t-1\"").unwrap();
    assert_eq!(back, id);
    assert_eq!(back.as_str(), "t-1");
    // Clones are equal and hash alike (maps are looked up by `&str`).
    let clone = id.clone();
    assert_eq!(clone, id);
    let mut map = std::collections::HashMap::new();
    map.insert(clone, 1);
    assert_eq!(map.get("t-1"), Some(&1));
    assert_eq!(EventId::from("e-1").to_string(), "e-1");
}

#[test]
fn seats_serialize_as_section_and_label() {
    let seat = Seat::new("F12").in_section("Stalls");
    let json = serde_json::to_string(&seat).unwrap();
    assert_eq!(json, r#"{"section":"Stalls","label":"F12"}"#);
    let back: Seat = serde_json::from_str(&json).unwrap();
    assert_eq!(back, seat);
    assert_eq!((back.section(), back.label()), (Some("Stalls"), "F12"));
    let bare: Seat = serde_json::from_str(r#"{"section":null,"label":"A1"}"#).unwrap();
    assert_eq!(bare, Seat::new("A1"));
    // A clone changed afterwards does not change the original.
    let moved = seat.clone().in_section("Circle");
    assert_eq!(seat.section(), Some("Stalls"));
    assert_eq!(moved.section(), Some("Circle"));
    assert_eq!(
        format!("{seat:?}"),
        r#"Seat { section: Some("Stalls"), label: "F12" }"#
    );
}

#[test]
fn money_serializes_as_amount_and_currency() {
    let price = Money::new(4500, Currency::GBP);
    let json = serde_json::to_string(&price).unwrap();
    assert_eq!(json, r#"{"minor":4500,"currency":"GBP"}"#);
    let back: Money = serde_json::from_str(&json).unwrap();
    assert_eq!(back, price);
    assert_eq!(Some(back), Some(price));
    assert_ne!(Some(back), None);
    assert_eq!(format!("{price:?}"), "Money { minor: 4500, currency: GBP }");
}

#[test]
fn a_refused_event_leaves_no_trace_and_its_id_stays_free() {
    use regulars::{Event, Memory, Order, Signals, Ticket};
    let mut memory = Memory::new();
    memory
        .observe(Event::order(
            "e-1",
            Order::new("o-1", Signals::new().email("ana@example.org")),
        ))
        .expect("first order");
    // A ticket for a performance memory does not know: refused.
    let refused = Order::new("o-2", Signals::new().email("ana@example.org"))
        .ticket(Ticket::new("t-1", "nowhere"));
    assert!(memory.observe(Event::order("e-2", refused)).is_err());
    assert_eq!(memory.event_count(), 1);
    // The same event id, sent again correctly, is new (not a replay, not a conflict),
    // and the history names it.
    let fixed = Order::new("o-2", Signals::new().email("ana@example.org"));
    let seen = memory
        .observe(Event::order("e-2", fixed))
        .expect("accepted");
    assert!(!seen.is_replay());
    assert_eq!(memory.event_count(), 2);
    let history = memory.patron(seen.patron()).expect("ana").history();
    let events: Vec<String> = history.iter().map(|i| i.event().to_string()).collect();
    assert_eq!(events, ["e-1", "e-2"]);
    assert_eq!(history.len(), 2);
    assert_eq!(history.last(), history.get(1));
    assert_eq!(history.iter().next_back(), history.last());
}
