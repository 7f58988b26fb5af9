//! Snapshots: a memory restored from its image is the same memory — same patrons, ids,
//! figures, indexes, fired moments and due times — and a damaged image is refused.

mod common;

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

use chrono::TimeDelta;
use common::*;
use proptest::prelude::*;
use regulars::{
    Currency, Donation, Error, Event, LineItem, Membership, Memory, Money, Observation,
    ProfileChange, Purchase, Refund,
};

/// A memory that went through everything that leaves a trace: a synthetic population's
/// orders (with reviews, merges and households), tickets, scans, a refund, a donation, a
/// membership, a purchase, a profile change, a manual merge and a pin.
fn lived_in(seed: u64) -> (Memory, regulars::ManualClock) {
    let (mut memory, clock) = memory_with_clock();
    let population = population::Population::generate(300, seed);
    for record in &population.records {
        // Some records are rejected on purpose by the generator (hostile values).
        let _ = memory.observe(record.event());
    }
    let ana_seen = observe(
        &mut memory,
        order(
            "e-a1",
            "o-a1",
            ana(),
            [
                seated("t-a1", "hamlet-1", "F10"),
                seated("t-a2", "hamlet-2", "F11"),
            ],
        ),
    );
    scan_in(&mut memory, "s-a1", "t-a1");
    observe(
        &mut memory,
        order("e-a2", "o-a2", ana(), [seated("t-a3", "hamlet-3", "F12")]),
    );
    observe(
        &mut memory,
        Event::refund("e-r", Refund::tickets("o-a2", ["t-a3"]))
            .at(order_time() + TimeDelta::days(2)),
    );
    // A donation, a membership and a bar purchase: the history kinds kept whole.
    let later = order_time() + TimeDelta::days(3);
    observe(
        &mut memory,
        Event::donation(
            "e-g",
            Donation::new(ana(), Money::new(2_500, Currency::GBP)).fund("roof"),
        )
        .at(later),
    );
    let from = later.date_naive();
    observe(
        &mut memory,
        Event::membership(
            "e-m",
            Membership::new(ana(), "Friends", from, from + TimeDelta::days(365))
                .price(Money::new(4_000, Currency::GBP)),
        )
        .at(later),
    );
    observe(
        &mut memory,
        Event::purchase(
            "e-p",
            Purchase::new(ana())
                .at_performance("hamlet-1")
                .item(LineItem::new("wine", 2, Money::new(650, Currency::GBP))),
        )
        .at(later),
    );
    memory
        .update_profile(ana_seen.patron(), ProfileChange::PrefersNoFuss(true))
        .unwrap();
    let ben = observe(
        &mut memory,
        order("e-b1", "o-b1", ben(), [ticket("t-b1", "hamlet-1")]),
    );
    let cleo = observe(
        &mut memory,
        order("e-c1", "o-c1", cleo(), [ticket("t-c1", "hamlet-4")]),
    );
    memory.pin_apart(ben.patron(), cleo.patron()).unwrap();
    let dup = observe(
        &mut memory,
        order(
            "e-d1",
            "o-d1",
            regulars::Signals::new().email("dup@example.org"),
            [],
        ),
    );
    memory.merge(ana_seen.patron(), dup.patron()).unwrap();
    (memory, clock)
}

/// What the rest of a season does to a memory, with every answer it gave.
fn carry_on(memory: &mut Memory) -> Vec<Observation> {
    let events = [
        order("e-n1", "o-n1", ana(), [seated("t-n1", "hamlet-4", "F13")]),
        order("e-n2", "o-n2", ben(), [ticket("t-n2", "nutcracker-1")]),
        order(
            "e-a1",
            "o-a1",
            ana(),
            [
                seated("t-a1", "hamlet-1", "F10"),
                seated("t-a2", "hamlet-2", "F11"),
            ],
        ),
        entry_at("s-b1", "t-b1", starts("hamlet-1")),
        order("e-n3", "o-n3", cleo(), [ticket("t-n3", "hamlet-2")]),
    ];
    events.into_iter().map(|e| observe(memory, e)).collect()
}

#[test]
fn a_restored_memory_is_the_same_memory() {
    let (mut original, clock) = lived_in(3);
    let image = original.snapshot();
    let mut restored = build_from(&clock, &image);

    assert_eq!(snapshot(&restored), snapshot(&original));
    assert_eq!(restored.patron_count(), original.patron_count());
    assert_eq!(restored.event_count(), original.event_count());
    assert_eq!(all_moments(&restored), all_moments(&original));
    assert_eq!(restored.pending_ticks(), original.pending_ticks());
    assert_eq!(restored.identity_changes(0), original.identity_changes(0));
    assert_eq!(
        restored.reviews().collect::<Vec<_>>(),
        original.reviews().collect::<Vec<_>>()
    );
    for performance in ["hamlet-1", "hamlet-2", "hamlet-3"] {
        assert_eq!(
            restored.brief(performance).unwrap(),
            original.brief(performance).unwrap()
        );
    }
    // The same future: indexes, fired moments and seen events behave the same.
    let then = carry_on(&mut original);
    let now = carry_on(&mut restored);
    assert_eq!(now, then);
    assert!(now[2].is_replay(), "a seen event stays seen");
    assert_eq!(snapshot(&restored), snapshot(&original));
    // And the image of the restored memory restores to the same again.
    let again = build_from(&clock, &restored.snapshot());
    assert_eq!(snapshot(&again), snapshot(&restored));
}

#[test]
fn the_same_memory_saves_the_same_bytes() {
    // Two memories that lived the same events (each with its own random hashers), and
    // the image of a restored memory: byte for byte one image.
    let (first, clock) = lived_in(3);
    let (second, _) = lived_in(3);
    let image = first.snapshot();
    assert_eq!(second.snapshot(), image);
    assert_eq!(build_from(&clock, &image).snapshot(), image);
}

#[test]
fn recognition_answers_the_same_after_a_restore() {
    let (original, clock) = lived_in(4);
    let restored = build_from(&clock, &original.snapshot());
    let population = population::Population::generate(300, 4);
    for record in population.records.iter().take(200) {
        let signals = record.signals();
        let (a, b) = (original.recognize(&signals), restored.recognize(&signals));
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b);
                assert_eq!(a.explain(), b.explain());
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("{a:?} vs {b:?}"),
        }
    }
}

fn build_from(clock: &regulars::ManualClock, image: &[u8]) -> Memory {
    builder(clock)
        .build_from_snapshot(image)
        .expect("a valid image")
}

#[test]
fn a_damaged_image_is_refused_with_a_reason() {
    let (memory, clock) = lived_in(5);
    let image = memory.snapshot();
    let load = |bytes: &[u8]| builder(&clock).build_from_snapshot(bytes).map(|_| ());
    let reason = |bytes: &[u8]| match load(bytes) {
        Err(Error::InvalidSnapshot(reason)) => reason,
        other => panic!("expected InvalidSnapshot, got {other:?}"),
    };
    let mut flipped = image.clone();
    flipped[image.len() / 2] ^= 0x40;
    assert!(reason(&flipped).contains("checksum"));
    assert!(reason(&image[..image.len() - 1]).contains("checksum"));
    assert!(reason(&image[..5]).contains("too short"));
    assert!(reason(b"not a snapshot at all, just some text").contains("magic"));
    let mut other_version = image[..image.len() - 4].to_vec();
    other_version[8] = 99;
    let crc = crc32(&other_version);
    other_version.extend_from_slice(&crc.to_le_bytes());
    assert!(reason(&other_version).contains("version 99"));

    // Version 5 to 8 images are three sections, the lengths of the first two first: lengths
    // running past the image, or splitting the sections in the wrong place, are refused
    // and say so.
    assert_eq!(&image[8..12], &8u32.to_le_bytes());
    let reforged = |at: usize, section_len: u64| {
        let mut forged = image[..image.len() - 4].to_vec();
        forged[at..at + 8].copy_from_slice(&section_len.to_le_bytes());
        let crc = crc32(&forged);
        forged.extend_from_slice(&crc.to_le_bytes());
        forged
    };
    for at in [12, 20] {
        let len = u64::from_le_bytes(image[at..at + 8].try_into().unwrap());
        assert!(reason(&reforged(at, u64::MAX)).contains("first sections of"));
        assert!(reason(&reforged(at, image.len() as u64)).contains("first sections of"));
        for wrong in [len - 1, len + 1, 0] {
            let reason = reason(&reforged(at, wrong));
            assert!(
                reason.contains("section") && reason.contains("undecodable")
                    || reason.contains("bytes after"),
                "{at} {wrong}: {reason}"
            );
        }
        assert!(load(&reforged(at, len)).is_ok());
    }
    assert!(reason(&image[..16]).contains("checksum"));
    let mut short = image[..22].to_vec();
    let crc = crc32(&short);
    short.extend_from_slice(&crc.to_le_bytes());
    assert!(reason(&short).contains("too short"));
}

#[test]
fn restoring_twice_gives_the_same_memory_whichever_thread_finishes_first() {
    // The two sections are decoded on two threads; the result must not depend on
    // which finishes first.
    let (original, clock) = lived_in(6);
    let image = original.snapshot();
    let expected = snapshot(&original);
    for _ in 0..4 {
        assert_eq!(snapshot(&build_from(&clock, &image)), expected);
    }
}

/// The CRC-32 snapshots end with, so a test can forge a well-formed image.
fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary bytes, even with a valid header and checksum, give an error, never a
    /// panic or a memory with broken ids.
    #[test]
    fn arbitrary_images_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        version in 1u32..=3,
        split in any::<prop::sample::Index>(),
    ) {
        let mut image = b"RGLRSNAP".to_vec();
        image.extend_from_slice(&version.to_le_bytes());
        if version == 3 {
            // First sections that fit, so that all three get decoded.
            let first = split.index(body.len() + 1);
            let second = split.index(body.len() - first + 1);
            image.extend_from_slice(&(first as u64).to_le_bytes());
            image.extend_from_slice(&(second as u64).to_le_bytes());
        }
        image.extend_from_slice(&body);
        let crc = crc32(&image);
        image.extend_from_slice(&crc.to_le_bytes());
        if let Ok(memory) = Memory::builder().build_from_snapshot(&image) {
            for patron in memory.patrons() {
                prop_assert_eq!(memory.patron(patron.id()).map(|p| p.id()), Some(patron.id()));
            }
        }
        prop_assert!(Memory::builder().build_from_snapshot(&body).is_err());
    }
}
