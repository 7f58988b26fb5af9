//! Normalizing allocates only what it hands back: each normalizer one string (its
//! result), and preparing an order's buyer one allocation per value memory keeps on the
//! heap (an address, a name or identifier too long to be kept inline), with nothing
//! built and thrown away on the way.
//! Allocation is the cost that grows with a fragmented heap, so this is checked by
//! counting, not by timing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chrono::{TimeZone, Utc};
use regulars::normalize::{self, Country};
use regulars::{Event, Memory, Order, Signals};

/// Counts the allocations made on the current thread (tests run on several).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What `f` returns, and how many allocations (and reallocations) it made.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (value, ALLOCATIONS.with(Cell::get) - before)
}

#[test]
fn each_normalizer_allocates_only_its_result() {
    let names = [
        "Anne-Marie",
        "  O'Neill  ",
        "van der  Berg",
        " Zoë  O’Brien-Śmith ",
        "Иван",
    ];
    for raw in names {
        let (key, allocations) = counted(|| normalize::name(raw));
        assert!(key.is_ok(), "{raw}");
        assert_eq!(allocations, 1, "name {raw:?}");
    }
    let emails = [
        "Anne.Marie@Example.org",
        " j.o.neill+tickets@GoogleMail.com ",
        "berg+x@outlook.com",
        "zoë@exämple.org.",
    ];
    for raw in emails {
        let (address, allocations) = counted(|| normalize::email(raw));
        assert!(address.is_ok(), "{raw}");
        assert_eq!(allocations, 1, "email {raw:?}");
    }
    for raw in [
        "020 7946 0018",
        "+44 (0)20 7946 0958 ext. 12",
        "０２０ ７９４６ ００１８",
    ] {
        let (number, allocations) = counted(|| normalize::phone(raw, Country::GB));
        assert!(number.is_ok(), "{raw}");
        assert_eq!(allocations, 1, "phone {raw:?}");
    }
    for raw in ["sw1a 1aa", "EH1-2NG", "１２３４５"] {
        let (code, allocations) = counted(|| normalize::postcode(raw, Some(Country::GB)));
        assert!(code.is_ok(), "{raw}");
        assert_eq!(allocations, 1, "postcode {raw:?}");
    }
}

#[test]
fn rejections_allocate_nothing() {
    for raw in ["", "   ", "!!!", "a\u{1}b", &"x".repeat(2000)] {
        let (key, allocations) = counted(|| normalize::name(raw));
        assert!(key.is_err(), "{raw:?}");
        assert_eq!(allocations, 0, "name {raw:?}");
    }
    for raw in ["no-at-sign", "a b@example.org", "a@b", "+tag@gmail.com"] {
        let (address, allocations) = counted(|| normalize::email(raw));
        assert!(address.is_err(), "{raw:?}");
        assert_eq!(allocations, 0, "email {raw:?}");
    }
}

#[test]
fn preparing_a_buyer_allocates_once_per_value_kept_on_the_heap() {
    let memory = Memory::builder()
        .default_country(Country::GB)
        .build()
        .expect("valid configuration");
    let preparer = memory.preparer();
    let at = Utc
        .with_ymd_and_hms(2026, 3, 1, 19, 30, 0)
        .single()
        .expect("valid date");
    let buyers = [
        // Name, e-mail: both short enough to be kept inline.
        (
            Signals::new()
                .given_name("Anne-Marie")
                .family_name("O'Neill")
                .email("Anne.Marie+x@GoogleMail.com"),
            0,
        ),
        // A long name, e-mail, phone, card, address: the name and the address on the
        // heap, the three identifiers inline.
        (
            Signals::new()
                .given_name(" Zoë ")
                .family_name("Śmietana-Łukasik")
                .email("zoe@example.org")
                .phone("020 7946 0018")
                .card_token("tok_123")
                .street("10  High Street")
                .postcode("sw1a 1aa")
                .city("London")
                .country("GB"),
            2,
        ),
        // A short name, a long e-mail address: the address on the heap.
        (
            Signals::new()
                .given_name("Ana")
                .email("ana.maria.da.silva.santos@example.org"),
            1,
        ),
    ];
    for (i, (buyer, kept)) in buyers.into_iter().enumerate() {
        memory.recognize(&buyer).expect("valid signals");
        let event = Event::order(format!("e-{i}"), Order::new(format!("o-{i}"), buyer)).at(at);
        let (prepared, allocations) = counted(|| preparer.prepare(event));
        assert!(prepared.is_prepared());
        assert_eq!(allocations, kept, "buyer {i}");
    }
}
