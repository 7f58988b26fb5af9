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

#[test]
fn names_addresses_and_identifiers_serialize_as_their_parts() {
    use regulars::{Event, Memory, Order, Signals};
    let mut memory = Memory::new();
    let signals = Signals::new()
        .given_name("Ana")
        .family_name("Núñez")
        .email("Ana@Example.org")
        .street("1 High Street")
        .postcode("sw1a 1aa")
        .city("London")
        .country("GB");
    let seen = memory
        .observe(Event::order("e-1", Order::new("o-1", signals)))
        .unwrap();
    let patron = memory.patron(seen.patron()).unwrap();

    // A name's four parts share one allocation, but read and save one by one, as
    // before: snapshots and exports written earlier stay readable.
    let name = &patron.names()[0];
    assert_eq!((name.given(), name.family()), (Some("Ana"), Some("Núñez")));
    assert_eq!(name.display(), "Ana Núñez");
    let json = serde_json::to_value(name).unwrap();
    assert_eq!(json["given"], "Ana");
    assert_eq!(json["family"], "Núñez");
    assert_eq!(json["given_key"], name.given_key().unwrap());
    assert_eq!(json["family_key"], name.family_key().unwrap());
    let back: regulars::PersonName = serde_json::from_value(json).unwrap();
    assert_eq!(&back, name);
    // Debug says which parts are known, never what they say.
    let debug = format!("{name:?}");
    assert!(
        !debug.contains("Ana") && !debug.contains("Núñez"),
        "{debug}"
    );
    assert!(debug.contains("given: Some(<redacted>)"), "{debug}");

    let address = &patron.addresses()[0];
    assert_eq!(address.street(), Some("1 High Street"));
    assert_eq!(address.city(), Some("London"));
    assert_eq!(address.postcode(), Some("SW1A1AA"));
    let json = serde_json::to_value(address).unwrap();
    assert_eq!(json["street"], "1 High Street");
    assert_eq!(json["postcode"], "SW1A1AA");
    assert_eq!(json["city"], "London");
    let back: regulars::Address = serde_json::from_value(json).unwrap();
    assert_eq!(&back, address);
    let debug = format!("{address:?}");
    assert!(
        !debug.contains("High") && !debug.contains("London"),
        "{debug}"
    );
    // Absent parts stay absent, empty ones empty.
    let partial: regulars::Address =
        serde_json::from_str(r#"{"street":null,"postcode":"","city":"Leeds","country":null}"#)
            .unwrap();
    assert_eq!(partial.street(), None);
    assert_eq!(partial.postcode(), Some(""));
    assert_eq!(partial.city(), Some("Leeds"));

    let identifier = &patron.identifiers()[0];
    let json = serde_json::to_string(identifier).unwrap();
    assert_eq!(json, r#""e:ana@example.org""#);
    let back: regulars::Identifier = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, identifier);
    assert_eq!(back.value(), "ana@example.org");
}

#[test]
fn line_items_serialize_as_before() {
    let item = regulars::LineItem::new("espresso", 2, Money::new(250, Currency::GBP));
    let json = serde_json::to_string(&item).unwrap();
    assert_eq!(
        json,
        r#"{"sku":"espresso","quantity":2,"unit_price":{"minor":250,"currency":"GBP"}}"#
    );
    let back: regulars::LineItem = serde_json::from_str(&json).unwrap();
    assert_eq!(back, item);
    assert_eq!(back.sku(), "espresso");
}

#[test]
fn ticket_views_lend_their_ids_as_text() {
    use chrono::{TimeZone, Utc};
    use regulars::{Event, Memory, Order, Performance, Production, Signals, Ticket, Venue};
    let mut memory = Memory::new();
    memory
        .define_venue(Venue::new("main", "Main House"))
        .unwrap();
    memory
        .define_production(Production::new("hamlet", "Hamlet"))
        .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 19, 30, 0).unwrap();
    memory
        .define_performance(Performance::new("hamlet-1", "hamlet", "main", at))
        .unwrap();
    let order = Order::new("o-1", Signals::new().email("ana@example.org"))
        .ticket(Ticket::new("t-1", "hamlet-1"))
        .ticket(Ticket::new("t-2", "hamlet-1"));
    memory.observe(Event::order("e-1", order)).unwrap();
    let ids: Vec<(&str, &str)> = memory
        .tickets_for("hamlet-1")
        .unwrap()
        .map(|t| (t.id(), t.order()))
        .collect();
    assert_eq!(ids, [("t-1", "o-1"), ("t-2", "o-1")]);
    // An owned id compares with the text it came from.
    let ticket = TicketId::from(ids[1].0);
    assert!(ticket == "t-2");
    assert_eq!(ticket, *"t-2");
}
