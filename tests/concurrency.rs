//! `Memory` shared between threads the documented way (`Arc<RwLock<Memory>>`): readers
//! recognize and brief while a writer observes. No deadlock, every read sees a whole
//! memory, and the end state equals the same events observed serially.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;

use chrono::TimeDelta;
use common::*;
use regulars::{Event, Memory, Recognition, Signals};

const PEOPLE: usize = 60;
const ROUNDS: usize = 5;

fn person(i: usize) -> Signals {
    Signals::new()
        .given_name(["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay"][i % 6])
        .family_name(format!("Stress{}", i / 6))
        .email(format!("person.{i}@example.org"))
}

/// Every person orders a ticket per round and is scanned in: orders and scans interleaved.
fn events() -> Vec<Event> {
    let shows = [
        "hamlet-1",
        "hamlet-2",
        "hamlet-3",
        "hamlet-4",
        "nutcracker-1",
    ];
    let mut events = Vec::new();
    for round in 0..ROUNDS {
        for i in 0..PEOPLE {
            let ticket = format!("t-{round}-{i}");
            let show = shows[round % shows.len()];
            let at = order_time() + TimeDelta::minutes((round * PEOPLE + i) as i64);
            events.push(order_at(
                &format!("o-{round}-{i}"),
                &format!("o-{round}-{i}"),
                person(i),
                [seated(&ticket, show, &format!("R{i}"))],
                at,
            ));
            events.push(entry_at(&format!("s-{round}-{i}"), &ticket, starts(show)));
        }
    }
    events
}

#[test]
fn readers_and_a_writer_share_one_memory_and_end_as_the_serial_run() {
    let shared = Arc::new(RwLock::new(memory()));
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));

    let readers: Vec<_> = (0..3)
        .map(|r| {
            let (shared, done, reads) = (shared.clone(), done.clone(), reads.clone());
            thread::spawn(move || {
                let mut k = r;
                // Bounded, so a bug cannot hang the test: the writer finishes long before.
                for _ in 0..200_000 {
                    if done.load(Ordering::Acquire) {
                        break;
                    }
                    k = (k + 7) % PEOPLE;
                    let memory = shared.read().expect("no reader or writer panicked");
                    match memory.recognize(&person(k)).expect("valid signals") {
                        // A whole memory: the patron named exists and is that person.
                        Recognition::Known { patron, .. } => {
                            let view = memory.patron(patron).expect("a known patron exists");
                            assert!(
                                view.identifiers()
                                    .iter()
                                    .any(|id| id.value() == format!("person.{k}@example.org"))
                            );
                        }
                        Recognition::New { .. } | Recognition::Review { .. } => {}
                        other => panic!("unexpected recognition {other:?}"),
                    }
                    let brief = memory.brief("hamlet-1").expect("a known performance");
                    assert!(brief.moment_count() <= brief.tickets() * 3 + brief.tickets());
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    for event in events() {
        let mut memory = shared.write().expect("no reader panicked");
        observe(&mut memory, event);
        drop(memory);
        thread::yield_now();
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.join().expect("a reader panicked");
    }
    assert!(reads.load(Ordering::Relaxed) > 0, "the readers ran");

    let mut serial = memory();
    for event in events() {
        observe(&mut serial, event);
    }
    let shared = shared.read().expect("no thread panicked");
    assert_eq!(snapshot(&shared), snapshot(&serial));
    assert_eq!(shared.patron_count(), PEOPLE);
    let briefs = |m: &Memory| m.brief("hamlet-2").expect("brief");
    assert_eq!(briefs(&shared), briefs(&serial));
}
