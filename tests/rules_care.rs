//! The care rules: GoingQuiet and MembershipExpiring (from `tick`), Birthday,
//! MemberAtDoor, DonorRecognition, AccessNeeds, VipArrival, TheUsual, and the LeaveMeBe
//! suppressor. Each rule is tested firing, not firing at its boundaries, with consent and
//! suppression, and for idempotence; every memory runs only the rules under test.

mod common;

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use common::*;
use regulars::{
    AccessNeeds, Action, Birthday, Channel, Consent, Currency, Donation, DonorRecognition, Event,
    Flag, FlagKind, GoingQuiet, LeaveMeBe, LineItem, ManualClock, MemberAtDoor, Membership,
    MembershipExpiring, Memory, MemoryBuilder, Moment, MomentKind, Money, Observation, Order,
    PatronId, Performance, Priority, ProfileChange, Purchase, Purpose, Refund, Seat,
    SeatPreference, Signals, TheUsual, Trigger, VipArrival, rule_fn,
};

// ---------------------------------------------------------------- helpers

/// A memory with the test catalog and only what `configure` adds.
fn memory_with(configure: impl FnOnce(MemoryBuilder) -> MemoryBuilder) -> Memory {
    let clock = ManualClock::new(t0());
    build(configure(builder(&clock).without_default_rules()))
}

/// A memory running only `rule`.
fn only_rule(rule: impl regulars::MomentRule + 'static) -> Memory {
    memory_with(|b| b.rule(rule))
}

/// A memory running only `rule`, with [`LeaveMeBe`].
fn rule_and_leave_me_be(rule: impl regulars::MomentRule + 'static) -> Memory {
    memory_with(|b| b.rule(rule).suppressor(LeaveMeBe::new()))
}

/// Makes the person known to memory with an order of no tickets (which fires nothing for
/// these rules), so their profile can be set before what is tested.
fn join(memory: &mut Memory, signals: Signals, at: DateTime<Utc>) -> PatronId {
    observe(
        memory,
        Event::order("e-join", Order::new("o-join", signals)).at(at),
    )
    .patron()
}

fn change(memory: &mut Memory, patron: PatronId, change: ProfileChange) {
    memory
        .update_profile(patron, change)
        .expect("profile change accepted");
}

fn grant(memory: &mut Memory, patron: PatronId, channel: Channel, purpose: Purpose) {
    let at = utc(2026, 1, 2, 12, 0);
    change(
        memory,
        patron,
        ProfileChange::Consent(Consent::granted(channel, purpose, at)),
    );
}

fn withdraw(memory: &mut Memory, patron: PatronId, channel: Channel, purpose: Purpose) {
    let at = utc(2026, 1, 3, 12, 0);
    change(
        memory,
        patron,
        ProfileChange::Consent(Consent::withdrawn(channel, purpose, at)),
    );
}

fn no_fuss(memory: &mut Memory, patron: PatronId) {
    change(memory, patron, ProfileChange::PrefersNoFuss(true));
}

/// Adds a performance to the test catalog.
fn define(memory: &mut Memory, id: &str, production: &str, at: DateTime<Utc>) {
    memory
        .define_performance(Performance::new(id, production, VENUE, at))
        .expect("performance");
}

/// The one moment of `rule` in an observation.
fn the_one<'a>(observation: &'a Observation, rule: &str) -> &'a Moment {
    let moments = moments_of(observation, rule);
    assert_eq!(
        moments.len(),
        1,
        "expected one {rule} moment: {:?} (silenced: {:?})",
        observation.moments(),
        observation.silenced()
    );
    moments[0]
}

fn none_of(observation: &Observation, rule: &str) {
    assert!(
        moments_of(observation, rule).is_empty(),
        "expected no {rule} moment: {:?}",
        observation.moments()
    );
}

/// The reasons moments of `rule` were silenced.
fn silenced_reasons(observation: &Observation, rule: &str) -> Vec<String> {
    observation
        .silenced()
        .iter()
        .filter(|s| s.moment().rule() == rule)
        .map(|s| s.reason().to_owned())
        .collect()
}

fn perf(moment: &Moment) -> Option<&str> {
    moment.performance().map(|p| p.as_str())
}

fn ticket_of(moment: &Moment) -> Option<&str> {
    moment.ticket().map(|t| t.as_str())
}

fn second() -> TimeDelta {
    TimeDelta::seconds(1)
}

fn months(at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    at.checked_add_months(Months::new(n)).expect("in range")
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

fn espresso() -> LineItem {
    LineItem::new("espresso", 1, gbp(250))
}

fn purchase_at(event: &str, items: &[LineItem], at: DateTime<Utc>) -> Event {
    let purchase = items
        .iter()
        .cloned()
        .fold(Purchase::new(ana()), Purchase::item);
    Event::purchase(event, purchase).at(at)
}

fn donation_at(event: &str, amount: Money, at: DateTime<Utc>) -> Event {
    Event::donation(event, Donation::new(ana(), amount)).at(at)
}

fn membership_at(
    event: &str,
    scheme: &str,
    from: NaiveDate,
    to: NaiveDate,
    at: DateTime<Utc>,
) -> Event {
    Event::membership(event, Membership::new(ana(), scheme, from, to)).at(at)
}

// ---------------------------------------------------------------- GoingQuiet

const QUIET: &str = GoingQuiet::ID;

/// Ana attended hamlet-1 (1 Mar 2026, 19:30) and agreed to marketing e-mail.
fn went_to_hamlet(memory: &mut Memory) -> PatronId {
    let ana_id = observe(
        memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    grant(memory, ana_id, Channel::Email, Purpose::Marketing);
    scan_in(memory, "e-2", "t-1");
    ana_id
}

fn last_visit() -> DateTime<Utc> {
    starts("hamlet-1")
}

#[test]
fn going_quiet_fires_from_tick_at_twelve_months_and_never_twice() {
    let mut memory = only_rule(GoingQuiet::new());
    let ana_id = went_to_hamlet(&mut memory);
    assert_eq!(memory.pending_ticks(), 1, "filed for 12 months on");

    let due = months(last_visit(), 12);
    assert!(memory.tick(due - second()).is_empty());
    assert_eq!(memory.pending_ticks(), 1, "nothing due yet, still filed");

    let fired = memory.tick(due);
    assert_eq!(fired.len(), 1, "{fired:?}");
    let moment = &fired[0];
    assert_eq!(moment.rule(), QUIET);
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(moment.kind(), MomentKind::Marketing);
    assert_eq!(moment.action(), Action::FollowUp);
    assert_eq!(moment.channel(), Channel::Email);
    assert_eq!(moment.purposes(), [Purpose::Marketing]);
    assert_eq!(moment.priority(), Priority::NORMAL);
    assert_eq!(moment.performance(), None);
    assert_eq!(
        moment.message(),
        "Not seen since 1 Mar 2026 (12 months); nothing booked"
    );
    assert!(
        moment.explanation().contains("1 Mar 2026"),
        "{}",
        moment.explanation()
    );
    assert_eq!(moment.dedupe_key(), "quiet since 2026-03-01");
    assert_eq!(memory.pending_ticks(), 0, "handled, not refiled");
    assert_eq!(memory.moments_of(ana_id).count(), 1);

    // Later ticks, and re-sent events, never repeat it.
    assert!(memory.tick(due + TimeDelta::days(30)).is_empty());
    let replay = observe(
        &mut memory,
        entry_at("e-2", "t-1", last_visit() - TimeDelta::minutes(20)),
    );
    assert!(replay.is_replay());
    assert!(memory.tick(due + TimeDelta::days(60)).is_empty());
    assert_eq!(memory.moments_of(ana_id).count(), 1);
}

#[test]
fn going_quiet_counts_whole_months_when_the_tick_runs_late() {
    let mut memory = only_rule(GoingQuiet::new());
    went_to_hamlet(&mut memory);
    let fired = memory.tick(months(last_visit(), 17));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].message(),
        "Not seen since 1 Mar 2026 (17 months); nothing booked"
    );
}

#[test]
fn going_quiet_fires_until_just_before_eighteen_months() {
    let end = months(last_visit(), 18);

    let mut memory = only_rule(GoingQuiet::new());
    went_to_hamlet(&mut memory);
    assert_eq!(memory.tick(end - second()).len(), 1);

    let mut memory = only_rule(GoingQuiet::new());
    went_to_hamlet(&mut memory);
    assert!(memory.tick(end).is_empty(), "18 months is too late");
    assert_eq!(memory.pending_ticks(), 0, "past the window: not refiled");
    assert!(memory.tick(end + TimeDelta::days(400)).is_empty());
}

#[test]
fn going_quiet_never_files_a_patron_who_never_attended() {
    let mut memory = only_rule(GoingQuiet::new());
    let ana_id = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    grant(&mut memory, ana_id, Channel::Email, Purpose::Marketing);
    assert_eq!(memory.pending_ticks(), 0);
    assert!(memory.tick(utc(2028, 1, 1, 0, 0)).is_empty());
}

#[test]
fn going_quiet_waits_for_a_booked_performance_and_fires_if_they_miss_it() {
    let mut memory = only_rule(GoingQuiet::new());
    let later = utc(2027, 6, 10, 19, 30);
    define(&mut memory, "hamlet-27", HAMLET, later);
    let ana_id = went_to_hamlet(&mut memory);
    observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-27", "B2")],
            utc(2026, 12, 1, 10, 0),
        ),
    );

    // At 12 months she holds a ticket for June: not quiet, looked at again after it.
    assert!(memory.tick(months(last_visit(), 12)).is_empty());
    assert_eq!(memory.pending_ticks(), 1, "refiled for after the booking");
    let after = later + TimeDelta::days(1);
    assert!(memory.tick(after - second()).is_empty());

    // She never came: the day after, she is quiet.
    let fired = memory.tick(after);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].patron(), ana_id);
    assert_eq!(
        fired[0].message(),
        "Not seen since 1 Mar 2026 (15 months); nothing booked"
    );
}

#[test]
fn going_quiet_a_visit_starts_a_new_window_and_a_new_quiet_spell_fires_again() {
    let mut memory = only_rule(GoingQuiet::new());
    let later = utc(2027, 6, 10, 19, 30);
    define(&mut memory, "hamlet-27", HAMLET, later);
    went_to_hamlet(&mut memory);
    observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-27", "B2")],
            utc(2026, 12, 1, 10, 0),
        ),
    );
    assert!(memory.tick(months(last_visit(), 12)).is_empty());
    observe(
        &mut memory,
        entry_at("e-4", "t-2", later - TimeDelta::minutes(15)),
    );
    assert_eq!(memory.pending_ticks(), 1);
    assert!(memory.tick(later + TimeDelta::days(2)).is_empty());
    assert!(memory.tick(months(later, 12) - second()).is_empty());

    let fired = memory.tick(months(later, 12));
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(
        fired[0].message(),
        "Not seen since 10 Jun 2027 (12 months); nothing booked"
    );
    assert_eq!(fired[0].dedupe_key(), "quiet since 2027-06-10");
}

#[test]
fn going_quiet_a_refunded_booking_does_not_hold_it_back() {
    let mut memory = only_rule(GoingQuiet::new());
    define(&mut memory, "hamlet-27", HAMLET, utc(2027, 6, 10, 19, 30));
    went_to_hamlet(&mut memory);
    observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-27", "B2")],
            utc(2026, 12, 1, 10, 0),
        ),
    );
    observe(
        &mut memory,
        Event::refund("e-4", Refund::whole_order("o-2")).at(utc(2026, 12, 2, 10, 0)),
    );
    assert_eq!(memory.tick(months(last_visit(), 12)).len(), 1);
}

#[test]
fn going_quiet_booking_inside_the_window_defers_it() {
    let mut memory = only_rule(GoingQuiet::new());
    let later = utc(2027, 6, 10, 19, 30);
    define(&mut memory, "hamlet-27", HAMLET, later);
    went_to_hamlet(&mut memory);
    // Booked in the window, before any tick ran: refiled for the day after.
    observe(
        &mut memory,
        order_at(
            "e-3",
            "o-2",
            ana(),
            [seated("t-2", "hamlet-27", "B2")],
            months(last_visit(), 13),
        ),
    );
    assert_eq!(memory.pending_ticks(), 1);
    assert!(memory.tick(later).is_empty());
    assert_eq!(memory.tick(later + TimeDelta::days(1)).len(), 1);
}

#[test]
fn going_quiet_needs_marketing_consent_on_its_channel() {
    let due = months(last_visit(), 12);

    // No answer: nothing.
    let mut memory = only_rule(GoingQuiet::new());
    let ana_id = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron();
    scan_in(&mut memory, "e-2", "t-1");
    assert!(memory.tick(due).is_empty());
    assert_eq!(memory.moments_of(ana_id).count(), 0);

    // Withdrawn after agreeing: nothing.
    let mut memory = only_rule(GoingQuiet::new());
    let ana_id = went_to_hamlet(&mut memory);
    withdraw(&mut memory, ana_id, Channel::Email, Purpose::Marketing);
    assert!(memory.tick(due).is_empty());

    // Another channel, with consent there.
    let mut memory = only_rule(GoingQuiet::new().via(Channel::Post));
    went_to_hamlet(&mut memory);
    assert!(memory.tick(due).is_empty(), "agreed to e-mail, not post");
    let mut memory = only_rule(GoingQuiet::new().via(Channel::Post));
    let ana_id = went_to_hamlet(&mut memory);
    grant(&mut memory, ana_id, Channel::Post, Purpose::Marketing);
    let fired = memory.tick(due);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].channel(), Channel::Post);
}

#[test]
fn going_quiet_is_silenced_by_leave_me_be() {
    let due = months(last_visit(), 12);

    let mut memory = rule_and_leave_me_be(GoingQuiet::new());
    let ana_id = went_to_hamlet(&mut memory);
    no_fuss(&mut memory, ana_id);
    assert!(memory.tick(due).is_empty());

    // Agreed by e-mail, then objected by text message: an objection covers every channel.
    let mut memory = rule_and_leave_me_be(GoingQuiet::new());
    let ana_id = went_to_hamlet(&mut memory);
    withdraw(&mut memory, ana_id, Channel::Sms, Purpose::Marketing);
    assert!(memory.tick(due).is_empty());

    // The same patron without the suppressor gets it (consent is per channel).
    let mut memory = only_rule(GoingQuiet::new());
    let ana_id = went_to_hamlet(&mut memory);
    withdraw(&mut memory, ana_id, Channel::Sms, Purpose::Marketing);
    assert_eq!(memory.tick(due).len(), 1);
}

#[test]
fn going_quiet_window_is_configurable_and_clamped() {
    let mut memory = only_rule(GoingQuiet::new().window_months(6, 9));
    went_to_hamlet(&mut memory);
    assert!(memory.tick(months(last_visit(), 6) - second()).is_empty());
    assert_eq!(memory.tick(months(last_visit(), 6)).len(), 1);

    // (0, 0) becomes (1, 2).
    let mut memory = only_rule(GoingQuiet::new().window_months(0, 0));
    went_to_hamlet(&mut memory);
    assert_eq!(memory.tick(months(last_visit(), 1)).len(), 1);
    let mut memory = only_rule(GoingQuiet::new().window_months(0, 0));
    went_to_hamlet(&mut memory);
    assert!(memory.tick(months(last_visit(), 2)).is_empty());
}

#[test]
fn going_quiet_looks_only_at_patrons_filed_as_due() {
    let mut memory = only_rule(GoingQuiet::new());
    let ana_id = went_to_hamlet(&mut memory);
    // Ben attended a week later; Cleo only booked.
    let ben = observe(
        &mut memory,
        order("e-5", "o-5", ben(), [seated("t-5", "hamlet-2", "A1")]),
    )
    .patron();
    grant(&mut memory, ben, Channel::Email, Purpose::Marketing);
    scan_in(&mut memory, "e-6", "t-5");
    observe(
        &mut memory,
        order("e-7", "o-7", cleo(), [seated("t-7", "hamlet-3", "A2")]),
    );
    assert_eq!(memory.pending_ticks(), 2, "Ana and Ben, not Cleo");

    let fired = memory.tick(months(last_visit(), 12));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].patron(), ana_id);
    assert_eq!(memory.pending_ticks(), 1);
    let fired = memory.tick(months(starts("hamlet-2"), 12));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].patron(), ben);
    assert_eq!(memory.pending_ticks(), 0);
}

#[test]
fn going_quiet_ignores_events_other_than_ticks() {
    // Called directly with the trigger of an order, the rule proposes nothing.
    let rule = rule_fn("probe", |ctx, out| {
        let mut proposed = Vec::new();
        regulars::MomentRule::evaluate(&GoingQuiet::new(), ctx, &mut proposed);
        if !matches!(ctx.trigger(), Trigger::Tick { .. }) {
            out.extend(proposed);
        }
    });
    let mut memory = memory_with(|b| b.rule(rule));
    let ana_id = went_to_hamlet(&mut memory);
    observe(
        &mut memory,
        order_at("e-9", "o-9", ana(), [], months(last_visit(), 13)),
    );
    assert_eq!(memory.moments_of(ana_id).count(), 0);
}

// ---------------------------------------------------------------- MembershipExpiring

const EXPIRING: &str = MembershipExpiring::ID;

/// Ana, who agreed to marketing e-mail, is a Friend from 1 Jan to 31 Aug 2026.
fn friend_until_august(memory: &mut Memory) -> PatronId {
    let ana_id = join(memory, ana(), utc(2026, 1, 1, 9, 0));
    grant(memory, ana_id, Channel::Email, Purpose::Marketing);
    observe(
        memory,
        membership_at(
            "m-1",
            "Friends",
            date(2026, 1, 1),
            date(2026, 8, 31),
            utc(2026, 1, 5, 10, 0),
        ),
    );
    ana_id
}

#[test]
fn membership_expiring_reminds_thirty_days_ahead_once() {
    let mut memory = only_rule(MembershipExpiring::new());
    let ana_id = friend_until_august(&mut memory);
    assert_eq!(memory.pending_ticks(), 1);

    let due = midnight(date(2026, 8, 1));
    assert!(memory.tick(due - second()).is_empty());
    let fired = memory.tick(due);
    assert_eq!(fired.len(), 1, "{fired:?}");
    let moment = &fired[0];
    assert_eq!(moment.rule(), EXPIRING);
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(moment.kind(), MomentKind::Marketing);
    assert_eq!(moment.action(), Action::FollowUp);
    assert_eq!(moment.channel(), Channel::Email);
    assert_eq!(moment.priority(), Priority::NORMAL);
    assert_eq!(moment.performance(), None);
    assert_eq!(
        moment.message(),
        "Friends membership ends 31 Aug 2026 (in 30 days); not renewed"
    );
    assert!(moment.explanation().contains("1 Jan 2026"));
    assert_eq!(memory.pending_ticks(), 0);

    assert!(memory.tick(midnight(date(2026, 8, 20))).is_empty());
    assert_eq!(memory.moments_of(ana_id).count(), 1);
}

#[test]
fn membership_expiring_a_late_tick_still_reminds_on_the_last_day_but_not_after() {
    let mut memory = only_rule(MembershipExpiring::new());
    friend_until_august(&mut memory);
    let fired = memory.tick(utc(2026, 8, 31, 23, 0));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].message(),
        "Friends membership ends 31 Aug 2026 (today); not renewed"
    );

    let mut memory = only_rule(MembershipExpiring::new());
    friend_until_august(&mut memory);
    assert!(memory.tick(midnight(date(2026, 9, 1))).is_empty());
    assert_eq!(memory.pending_ticks(), 0);
}

#[test]
fn membership_expiring_not_after_a_renewal_but_for_the_renewal_in_turn() {
    let mut memory = only_rule(MembershipExpiring::new());
    friend_until_august(&mut memory);
    observe(
        &mut memory,
        membership_at(
            "m-2",
            "Friends",
            date(2026, 9, 1),
            date(2027, 8, 31),
            utc(2026, 7, 20, 10, 0),
        ),
    );
    assert_eq!(memory.pending_ticks(), 1, "refiled for the renewal");
    assert!(memory.tick(midnight(date(2026, 8, 1))).is_empty());
    assert!(memory.tick(midnight(date(2026, 8, 31))).is_empty());

    let fired = memory.tick(midnight(date(2027, 8, 1)));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].message(),
        "Friends membership ends 31 Aug 2027 (in 30 days); not renewed"
    );
}

#[test]
fn membership_expiring_a_membership_recorded_late_is_reminded_at_the_next_tick() {
    let mut memory = only_rule(MembershipExpiring::new());
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 1, 9, 0));
    grant(&mut memory, ana_id, Channel::Email, Purpose::Marketing);
    observe(
        &mut memory,
        membership_at(
            "m-1",
            "Friends",
            date(2026, 1, 1),
            date(2026, 8, 31),
            utc(2026, 8, 10, 10, 0),
        ),
    );
    let fired = memory.tick(utc(2026, 8, 10, 11, 0));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].message(),
        "Friends membership ends 31 Aug 2026 (in 21 days); not renewed"
    );
}

#[test]
fn membership_expiring_notice_is_configurable_and_clamped() {
    let mut memory = only_rule(MembershipExpiring::new().days_before(0));
    friend_until_august(&mut memory);
    assert!(memory.tick(utc(2026, 8, 30, 23, 59)).is_empty());
    let fired = memory.tick(midnight(date(2026, 8, 31)));
    assert_eq!(fired.len(), 1);
    assert!(fired[0].message().ends_with("(today); not renewed"));

    // A notice longer than the membership: no reminder at all.
    let mut memory = only_rule(MembershipExpiring::new().days_before(300));
    friend_until_august(&mut memory);
    assert_eq!(memory.pending_ticks(), 0);

    // 10,000 days is held to 366.
    let mut memory = only_rule(MembershipExpiring::new().days_before(10_000));
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 1, 9, 0));
    grant(&mut memory, ana_id, Channel::Email, Purpose::Marketing);
    observe(
        &mut memory,
        membership_at(
            "m-1",
            "Patron circle",
            date(2026, 1, 1),
            date(2028, 1, 1),
            utc(2026, 1, 5, 10, 0),
        ),
    );
    assert_eq!(memory.pending_ticks(), 1);
    assert!(
        memory
            .tick(midnight(date(2026, 12, 30)) - second())
            .is_empty()
    );
    let fired = memory.tick(midnight(date(2026, 12, 31)));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].message(),
        "Patron circle membership ends 1 Jan 2028 (in 366 days); not renewed"
    );
}

#[test]
fn membership_expiring_needs_marketing_consent_and_yields_to_leave_me_be() {
    let due = midnight(date(2026, 8, 1));

    let mut memory = only_rule(MembershipExpiring::new());
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 1, 9, 0));
    observe(
        &mut memory,
        membership_at(
            "m-1",
            "Friends",
            date(2026, 1, 1),
            date(2026, 8, 31),
            utc(2026, 1, 5, 10, 0),
        ),
    );
    assert!(memory.tick(due).is_empty(), "never agreed to marketing");
    assert_eq!(memory.moments_of(ana_id).count(), 0);

    let mut memory = rule_and_leave_me_be(MembershipExpiring::new());
    let ana_id = friend_until_august(&mut memory);
    no_fuss(&mut memory, ana_id);
    assert!(memory.tick(due).is_empty());

    let mut memory = only_rule(MembershipExpiring::new().via(Channel::Sms));
    let ana_id = friend_until_august(&mut memory);
    grant(&mut memory, ana_id, Channel::Sms, Purpose::Marketing);
    let fired = memory.tick(due);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].channel(), Channel::Sms);
}

#[test]
fn membership_expiring_never_files_patrons_without_a_membership() {
    let mut memory = only_rule(MembershipExpiring::new());
    observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    scan_in(&mut memory, "e-2", "t-1");
    assert_eq!(memory.pending_ticks(), 0);
}

#[test]
fn both_tick_rules_are_filed_per_patron() {
    let mut memory = memory_with(|b| b.rule(GoingQuiet::new()).rule(MembershipExpiring::new()));
    went_to_hamlet(&mut memory);
    observe(
        &mut memory,
        membership_at(
            "m-1",
            "Friends",
            date(2026, 1, 1),
            date(2026, 8, 31),
            utc(2026, 3, 5, 10, 0),
        ),
    );
    assert_eq!(memory.pending_ticks(), 2);
    assert_eq!(memory.tick(midnight(date(2026, 8, 1))).len(), 1);
    assert_eq!(memory.pending_ticks(), 1);
    let fired = memory.tick(months(last_visit(), 12));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rule(), QUIET);
    assert_eq!(memory.pending_ticks(), 0);
}

// ---------------------------------------------------------------- Birthday

const BIRTHDAY: &str = Birthday::ID;

/// Ana, born on `born`, books hamlet-1 (Sunday 1 Mar 2026) in seat F12.
fn book_hamlet_born(memory: &mut Memory, born: NaiveDate) -> Observation {
    observe(
        memory,
        order(
            "e-1",
            "o-1",
            ana().birth_date(born),
            [seated("t-1", "hamlet-1", "F12")],
        ),
    )
}

#[test]
fn birthday_fires_within_three_days_either_side() {
    for (born, message) in [
        (date(1990, 3, 1), "Birthday today (1 Mar)"),
        (date(1990, 3, 4), "Birthday in 3 days (4 Mar)"),
        (date(1990, 2, 26), "Birthday 3 days ago (26 Feb)"),
        (date(1990, 3, 2), "Birthday in 1 day (2 Mar)"),
    ] {
        let mut memory = only_rule(Birthday::new());
        let seen = book_hamlet_born(&mut memory, born);
        let moment = the_one(&seen, BIRTHDAY);
        assert_eq!(moment.message(), message);
        assert_eq!(moment.kind(), MomentKind::Celebration);
        assert_eq!(moment.action(), Action::FrontOfHouse);
        assert_eq!(moment.priority(), Priority::NORMAL);
        assert_eq!(perf(moment), Some("hamlet-1"));
        assert_eq!(ticket_of(moment), Some("t-1"));
        assert_eq!(moment.seat(), Some(&Seat::new("F12")));
        assert_eq!(moment.dedupe_key(), "birthday 2026");
        assert!(
            !moment.message().contains("1990") && !moment.explanation().contains("1990"),
            "no year of birth: {moment:?}"
        );
    }
}

#[test]
fn birthday_not_four_days_away_nor_without_a_birth_date() {
    for born in [date(1990, 3, 5), date(1990, 2, 25)] {
        let mut memory = only_rule(Birthday::new());
        none_of(&book_hamlet_born(&mut memory, born), BIRTHDAY);
    }
    let mut memory = only_rule(Birthday::new());
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&seen, BIRTHDAY);
}

#[test]
fn birthday_on_29_february_is_kept_on_the_28th() {
    let mut memory = only_rule(Birthday::new().within_days(1));
    let seen = book_hamlet_born(&mut memory, date(1992, 2, 29));
    assert_eq!(
        the_one(&seen, BIRTHDAY).message(),
        "Birthday 1 day ago (28 Feb)"
    );
}

#[test]
fn birthday_counts_across_the_new_year() {
    let mut memory = only_rule(Birthday::new());
    define(&mut memory, "nye", NUTCRACKER, utc(2026, 12, 30, 19, 0));
    let seen = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana().birth_date(date(1990, 1, 2)),
            [seated("t-1", "nye", "A1")],
        ),
    );
    let moment = the_one(&seen, BIRTHDAY);
    assert_eq!(moment.message(), "Birthday in 3 days (2 Jan)");
    assert_eq!(moment.dedupe_key(), "birthday 2027");
}

#[test]
fn birthday_the_day_of_birth_is_no_birthday() {
    // Born on 31 Jan 2026, at a matinee on 3 Feb: three days old, no birthday yet.
    let mut memory = only_rule(Birthday::new());
    define(&mut memory, "matinee", HAMLET, utc(2026, 2, 3, 14, 0));
    let seen = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana().birth_date(date(2026, 1, 31)),
            [seated("t-1", "matinee", "A1")],
        ),
    );
    none_of(&seen, BIRTHDAY);
}

#[test]
fn birthday_window_is_configurable_and_clamped() {
    let mut memory = only_rule(Birthday::new().within_days(0));
    none_of(&book_hamlet_born(&mut memory, date(1990, 3, 2)), BIRTHDAY);
    let mut memory = only_rule(Birthday::new().within_days(0));
    the_one(&book_hamlet_born(&mut memory, date(1990, 3, 1)), BIRTHDAY);

    // 400 days is held to 31.
    let mut memory = only_rule(Birthday::new().within_days(400));
    the_one(&book_hamlet_born(&mut memory, date(1990, 4, 1)), BIRTHDAY);
    let mut memory = only_rule(Birthday::new().within_days(400));
    none_of(&book_hamlet_born(&mut memory, date(1990, 4, 2)), BIRTHDAY);
}

#[test]
fn birthday_honours_consent_without_telling_anyone() {
    let ticket = || [seated("t-1", "hamlet-1", "F12")];
    let born = date(1990, 3, 2);

    // Withdrawn in person: nothing proposed, nothing silenced.
    let mut memory = only_rule(Birthday::new());
    let ana_id = join(&mut memory, ana().birth_date(born), utc(2026, 1, 10, 9, 0));
    withdraw(
        &mut memory,
        ana_id,
        Channel::InPerson,
        Purpose::Personalisation,
    );
    let seen = observe(&mut memory, order("e-1", "o-1", ana(), ticket()));
    none_of(&seen, BIRTHDAY);
    assert!(silenced_reasons(&seen, BIRTHDAY).is_empty());

    // Withdrawn by e-mail only: the note is in person, so it still fires.
    let mut memory = only_rule(Birthday::new());
    let ana_id = join(&mut memory, ana().birth_date(born), utc(2026, 1, 10, 9, 0));
    withdraw(
        &mut memory,
        ana_id,
        Channel::Email,
        Purpose::Personalisation,
    );
    the_one(
        &observe(&mut memory, order("e-1", "o-1", ana(), ticket())),
        BIRTHDAY,
    );

    // Explicit consent required: not without an answer, yes with a grant.
    let mut memory = only_rule(Birthday::new().require_explicit_consent(true));
    join(&mut memory, ana().birth_date(born), utc(2026, 1, 10, 9, 0));
    none_of(
        &observe(&mut memory, order("e-1", "o-1", ana(), ticket())),
        BIRTHDAY,
    );
    let mut memory = only_rule(Birthday::new().require_explicit_consent(true));
    let ana_id = join(&mut memory, ana().birth_date(born), utc(2026, 1, 10, 9, 0));
    grant(
        &mut memory,
        ana_id,
        Channel::InPerson,
        Purpose::Personalisation,
    );
    the_one(
        &observe(&mut memory, order("e-1", "o-1", ana(), ticket())),
        BIRTHDAY,
    );
}

#[test]
fn birthday_is_silenced_by_leave_me_be() {
    let mut memory = rule_and_leave_me_be(Birthday::new());
    let ana_id = join(
        &mut memory,
        ana().birth_date(date(1990, 3, 2)),
        utc(2026, 1, 10, 9, 0),
    );
    no_fuss(&mut memory, ana_id);
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&seen, BIRTHDAY);
    assert_eq!(
        silenced_reasons(&seen, BIRTHDAY),
        ["leave-me-be: prefers no fuss"]
    );
}

#[test]
fn birthday_once_per_birthday_and_not_on_replay() {
    let mut memory = only_rule(Birthday::new().within_days(4));
    // 4 Mar: 3 days after hamlet-1 (1 Mar), 4 days before hamlet-2 (8 Mar).
    let event = order(
        "e-1",
        "o-1",
        ana().birth_date(date(1990, 3, 4)),
        [
            seated("t-1", "hamlet-1", "F12"),
            seated("t-2", "hamlet-2", "F12"),
        ],
    );
    let seen = observe(&mut memory, event.clone());
    let moment = the_one(&seen, BIRTHDAY);
    assert_eq!(perf(moment), Some("hamlet-1"));
    let again = observe(&mut memory, event);
    assert!(again.is_replay() && again.moments().is_empty());
    let later = observe(
        &mut memory,
        order_at(
            "e-2",
            "o-2",
            ana(),
            [seated("t-3", "hamlet-2", "G1")],
            order_time() + TimeDelta::days(3),
        ),
    );
    none_of(&later, BIRTHDAY);
}

// ---------------------------------------------------------------- MemberAtDoor

const MEMBER: &str = MemberAtDoor::ID;

/// Ana, a member of `scheme` for the given days, holds t-1 for hamlet-1 (1 Mar) and t-2
/// for hamlet-2 (8 Mar).
fn member_with_tickets(
    memory: &mut Memory,
    scheme: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> PatronId {
    let ana_id = observe(
        memory,
        membership_at("m-1", scheme, from, to, utc(2026, 1, 5, 10, 0)),
    )
    .patron();
    observe(
        memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-1", "hamlet-1", "F12"),
                seated("t-2", "hamlet-2", "F13"),
            ],
        ),
    );
    ana_id
}

#[test]
fn member_at_door_on_their_last_valid_day_and_not_after() {
    let mut memory = only_rule(MemberAtDoor::new());
    let ana_id = member_with_tickets(&mut memory, "Friends", date(2026, 1, 1), date(2026, 3, 1));
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    let moment = the_one(&scanned, MEMBER);
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(moment.message(), "Member (Friends) until 1 Mar 2026");
    assert_eq!(moment.kind(), MomentKind::Welcome);
    assert_eq!(moment.action(), Action::ScanAttention);
    assert_eq!(moment.priority(), Priority::NORMAL);
    assert_eq!(perf(moment), Some("hamlet-1"));
    assert_eq!(ticket_of(moment), Some("t-1"));
    assert_eq!(moment.seat(), Some(&Seat::new("F12")));
    assert!(moment.explanation().contains("1 Jan 2026"));

    none_of(&scan_in(&mut memory, "e-3", "t-2"), MEMBER);
}

#[test]
fn member_at_door_from_their_first_valid_day() {
    let mut memory = only_rule(MemberAtDoor::new());
    member_with_tickets(&mut memory, "Friends", date(2026, 3, 8), date(2027, 3, 7));
    none_of(&scan_in(&mut memory, "e-2", "t-1"), MEMBER);
    assert_eq!(
        the_one(&scan_in(&mut memory, "e-3", "t-2"), MEMBER).message(),
        "Member (Friends) until 7 Mar 2027"
    );
}

#[test]
fn member_at_door_not_at_ordering_exits_or_re_entries() {
    let mut memory = only_rule(MemberAtDoor::new());
    let ana_id = observe(
        &mut memory,
        membership_at(
            "m-1",
            "Friends",
            date(2026, 1, 1),
            date(2026, 12, 31),
            utc(2026, 1, 5, 10, 0),
        ),
    )
    .patron();
    let ordered = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&ordered, MEMBER);
    let at = starts("hamlet-1");
    the_one(
        &observe(
            &mut memory,
            entry_at("e-2", "t-1", at - TimeDelta::minutes(20)),
        ),
        MEMBER,
    );
    none_of(
        &observe(&mut memory, exit_at("e-3", "t-1", at + TimeDelta::hours(1))),
        MEMBER,
    );
    none_of(
        &observe(
            &mut memory,
            entry_at("e-4", "t-1", at + TimeDelta::minutes(70)),
        ),
        MEMBER,
    );
    let replay = observe(
        &mut memory,
        entry_at("e-2", "t-1", at - TimeDelta::minutes(20)),
    );
    assert!(replay.is_replay() && replay.moments().is_empty());
    assert_eq!(memory.moments_of(ana_id).count(), 1);
}

#[test]
fn member_at_door_names_the_longest_running_membership_and_can_be_limited_to_schemes() {
    let mut memory = only_rule(MemberAtDoor::new());
    member_with_tickets(&mut memory, "Friends", date(2026, 1, 1), date(2026, 6, 30));
    observe(
        &mut memory,
        membership_at(
            "m-2",
            "Patron Circle",
            date(2026, 2, 1),
            date(2027, 1, 31),
            utc(2026, 2, 1, 10, 0),
        ),
    );
    assert_eq!(
        the_one(&scan_in(&mut memory, "e-2", "t-1"), MEMBER).message(),
        "Member (Patron Circle) until 31 Jan 2027"
    );

    let mut memory = only_rule(MemberAtDoor::new().scheme("  patron circle ").scheme(""));
    member_with_tickets(
        &mut memory,
        "Patron Circle",
        date(2026, 1, 1),
        date(2026, 12, 31),
    );
    the_one(&scan_in(&mut memory, "e-2", "t-1"), MEMBER);

    let mut memory = only_rule(MemberAtDoor::new().scheme("Patron Circle"));
    member_with_tickets(&mut memory, "Friends", date(2026, 1, 1), date(2026, 12, 31));
    none_of(&scan_in(&mut memory, "e-2", "t-1"), MEMBER);
}

#[test]
fn member_at_door_is_silenced_by_leave_me_be() {
    let mut memory = rule_and_leave_me_be(MemberAtDoor::new());
    let ana_id = member_with_tickets(&mut memory, "Friends", date(2026, 1, 1), date(2026, 12, 31));
    no_fuss(&mut memory, ana_id);
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    none_of(&scanned, MEMBER);
    assert_eq!(
        silenced_reasons(&scanned, MEMBER),
        ["leave-me-be: prefers no fuss"]
    );
}

// ---------------------------------------------------------------- DonorRecognition

const DONOR: &str = DonorRecognition::ID;

#[test]
fn donor_recognition_at_the_tier_and_not_a_penny_below() {
    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        donation_at("d-1", gbp(9_999), utc(2026, 1, 10, 12, 0)),
    );
    let below = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&below, DONOR);

    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        donation_at("d-1", gbp(6_000), utc(2025, 6, 10, 12, 0)),
    );
    observe(
        &mut memory,
        donation_at("d-2", gbp(4_000), utc(2026, 1, 10, 12, 0)),
    );
    let at = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    let moment = the_one(&at, DONOR);
    assert_eq!(
        moment.message(),
        "Donor: 100.00 GBP given in the last 12 months"
    );
    assert_eq!(moment.kind(), MomentKind::Celebration);
    assert_eq!(moment.action(), Action::FrontOfHouse);
    assert_eq!(moment.priority(), Priority::HIGH);
    assert_eq!(perf(moment), Some("hamlet-1"));
    assert_eq!(ticket_of(moment), Some("t-1"));
    assert_eq!(moment.seat(), Some(&Seat::new("F12")));
    assert!(
        moment
            .explanation()
            .starts_with("2 gift(s) since 1 Feb 2025"),
        "{}",
        moment.explanation()
    );
    let brief = memory.brief("hamlet-1").expect("known performance");
    assert_eq!(brief.moment_count(), 1);
}

#[test]
fn donor_recognition_counts_exactly_the_trailing_twelve_months() {
    // Orders are placed at 1 Feb 2026 10:00: a gift at 1 Feb 2025 10:00 still counts.
    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        donation_at("d-1", gbp(10_000), utc(2025, 2, 1, 10, 0)),
    );
    the_one(
        &observe(
            &mut memory,
            order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
        ),
        DONOR,
    );

    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        donation_at("d-1", gbp(10_000), utc(2025, 2, 1, 9, 59)),
    );
    none_of(
        &observe(
            &mut memory,
            order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
        ),
        DONOR,
    );

    // Six months back only.
    let mut memory = only_rule(DonorRecognition::new().trailing_months(6));
    observe(
        &mut memory,
        donation_at("d-1", gbp(10_000), utc(2025, 7, 1, 10, 0)),
    );
    none_of(
        &observe(
            &mut memory,
            order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
        ),
        DONOR,
    );
}

#[test]
fn donor_recognition_counts_only_the_tiers_currency() {
    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        donation_at(
            "d-1",
            Money::new(50_000, Currency::EUR),
            utc(2026, 1, 10, 12, 0),
        ),
    );
    none_of(
        &observe(
            &mut memory,
            order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
        ),
        DONOR,
    );

    let mut memory = only_rule(DonorRecognition::new().tier(Money::new(50_000, Currency::EUR)));
    observe(
        &mut memory,
        donation_at(
            "d-1",
            Money::new(50_000, Currency::EUR),
            utc(2026, 1, 10, 12, 0),
        ),
    );
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    assert_eq!(
        the_one(&seen, DONOR).message(),
        "Donor: 500.00 EUR given in the last 12 months"
    );
}

#[test]
fn donor_recognition_does_not_mix_currencies_in_the_trailing_sum() {
    // 100 pounds two years ago and 500 euros last month: not 100 pounds in the last 12
    // months.
    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        donation_at("d-1", gbp(10_000), utc(2024, 1, 10, 12, 0)),
    );
    observe(
        &mut memory,
        donation_at(
            "d-2",
            Money::new(50_000, Currency::EUR),
            utc(2026, 1, 10, 12, 0),
        ),
    );
    none_of(
        &observe(
            &mut memory,
            order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
        ),
        DONOR,
    );
}

#[test]
fn donor_recognition_is_for_their_next_performance_only() {
    let mut memory = only_rule(DonorRecognition::new().cooldown(TimeDelta::zero()));
    observe(
        &mut memory,
        donation_at("d-1", gbp(20_000), utc(2026, 1, 10, 12, 0)),
    );
    let seen = observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-2", "hamlet-2", "A2"),
                seated("t-1", "hamlet-1", "A1"),
            ],
        ),
    );
    let moment = the_one(&seen, DONOR);
    assert_eq!(perf(moment), Some("hamlet-1"));
    assert_eq!(ticket_of(moment), Some("t-1"));

    // hamlet-3 is not the next one while she holds hamlet-1 and hamlet-2.
    let later = observe(
        &mut memory,
        order_at(
            "e-2",
            "o-2",
            ana(),
            [seated("t-3", "hamlet-3", "A3")],
            order_time() + TimeDelta::days(1),
        ),
    );
    none_of(&later, DONOR);

    // A performance that has started is nobody's next one.
    let late = observe(
        &mut memory,
        order_at(
            "e-3",
            "o-3",
            ana(),
            [seated("t-4", "hamlet-4", "A4")],
            starts("hamlet-4") + TimeDelta::minutes(5),
        ),
    );
    none_of(&late, DONOR);
}

#[test]
fn donor_recognition_a_gift_thanks_them_at_the_performance_they_already_booked() {
    let mut memory = only_rule(DonorRecognition::new());
    observe(
        &mut memory,
        order(
            "e-1",
            "o-1",
            ana(),
            [
                seated("t-3", "hamlet-3", "C3"),
                seated("t-2", "hamlet-2", "C2"),
            ],
        ),
    );
    observe(
        &mut memory,
        Event::refund("e-2", Refund::tickets("o-1", ["t-2"])).at(order_time() + TimeDelta::days(1)),
    );
    let gift = observe(
        &mut memory,
        donation_at("d-1", gbp(15_000), order_time() + TimeDelta::days(2)),
    );
    let moment = the_one(&gift, DONOR);
    assert_eq!(perf(moment), Some("hamlet-3"), "hamlet-2 was refunded");
    assert_eq!(ticket_of(moment), Some("t-3"));
    assert_eq!(moment.seat(), Some(&Seat::new("C3")));
    assert_eq!(
        moment.message(),
        "Donor: 150.00 GBP given in the last 12 months"
    );

    // Nothing booked: a gift alone gives nothing.
    let mut memory = only_rule(DonorRecognition::new());
    let gift = observe(&mut memory, donation_at("d-1", gbp(15_000), order_time()));
    none_of(&gift, DONOR);
}

#[test]
fn donor_recognition_cooldown_keeps_it_to_their_next_visit() {
    let scenario = |rule: DonorRecognition| {
        let mut memory = only_rule(rule);
        observe(
            &mut memory,
            donation_at("d-1", gbp(10_000), utc(2026, 1, 10, 12, 0)),
        );
        the_one(
            &observe(
                &mut memory,
                order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
            ),
            DONOR,
        );
        scan_in(&mut memory, "e-2", "t-1");
        observe(
            &mut memory,
            order_at(
                "e-3",
                "o-2",
                ana(),
                [seated("t-2", "hamlet-2", "F12")],
                starts("hamlet-1") + TimeDelta::days(1),
            ),
        )
    };
    none_of(&scenario(DonorRecognition::new()), DONOR);
    the_one(
        &scenario(DonorRecognition::new().cooldown(TimeDelta::zero())),
        DONOR,
    );
    the_one(
        &scenario(DonorRecognition::new().cooldown(TimeDelta::days(-5))),
        DONOR,
    );
    none_of(
        &scenario(DonorRecognition::new().cooldown(TimeDelta::days(30))),
        DONOR,
    );
    the_one(
        &scenario(DonorRecognition::new().cooldown(TimeDelta::days(20))),
        DONOR,
    );
}

#[test]
fn donor_recognition_tier_below_one_minor_unit_is_one() {
    let mut memory = only_rule(DonorRecognition::new().tier(gbp(-500)));
    let booked = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&booked, DONOR);
    let gift = observe(
        &mut memory,
        donation_at("d-1", gbp(1), order_time() + second()),
    );
    assert_eq!(
        the_one(&gift, DONOR).message(),
        "Donor: 0.01 GBP given in the last 12 months"
    );
}

#[test]
fn donor_recognition_is_silenced_by_leave_me_be() {
    let mut memory = rule_and_leave_me_be(DonorRecognition::new());
    let ana_id = observe(
        &mut memory,
        donation_at("d-1", gbp(50_000), utc(2026, 1, 10, 12, 0)),
    )
    .patron();
    no_fuss(&mut memory, ana_id);
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&seen, DONOR);
    assert_eq!(
        silenced_reasons(&seen, DONOR),
        ["leave-me-be: prefers no fuss"]
    );
}

// ---------------------------------------------------------------- AccessNeeds

const ACCESS: &str = AccessNeeds::ID;

fn step_free() -> Flag {
    Flag::new(FlagKind::AccessNeeds).detail("step-free route, wheelchair space")
}

/// Ana, with `flag`, books hamlet-1 (1 Mar 2026).
fn flagged_booking(memory: &mut Memory, flag: Flag) -> (PatronId, Observation) {
    let ana_id = join(memory, ana(), utc(2026, 1, 10, 9, 0));
    change(memory, ana_id, ProfileChange::AddFlag(flag));
    let seen = observe(
        memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    (ana_id, seen)
}

#[test]
fn access_needs_fires_for_the_ticket_and_is_in_the_brief() {
    let mut memory = only_rule(AccessNeeds::new());
    let (ana_id, seen) = flagged_booking(&mut memory, step_free());
    let moment = the_one(&seen, ACCESS);
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(
        moment.message(),
        "Access needs: step-free route, wheelchair space"
    );
    assert_eq!(moment.kind(), MomentKind::Operational);
    assert_eq!(moment.action(), Action::FrontOfHouse);
    assert_eq!(moment.priority(), AccessNeeds::PRIORITY);
    assert!(moment.priority() > Priority::HIGH);
    assert_eq!(moment.purposes(), [Purpose::Operational]);
    assert_eq!(perf(moment), Some("hamlet-1"));
    assert_eq!(ticket_of(moment), Some("t-1"));
    assert_eq!(moment.seat(), Some(&Seat::new("F12")));
    assert_eq!(
        moment.explanation(),
        "access-needs flag valid with no end date covers 1 Mar 2026"
    );

    let brief = memory.brief("hamlet-1").expect("known performance");
    let entry = brief.entries().next().expect("one entry");
    assert_eq!(entry.moments()[0].rule(), ACCESS);

    // Once per performance: the door scan adds nothing.
    none_of(&scan_in(&mut memory, "e-2", "t-1"), ACCESS);
}

#[test]
fn access_needs_only_when_the_flag_covers_the_performance_day() {
    let cases = [
        (step_free().until(date(2026, 3, 1)), true),
        (step_free().until(date(2026, 2, 28)), false),
        (step_free().from(date(2026, 3, 1)), true),
        (step_free().from(date(2026, 3, 2)), false),
        (
            step_free().from(date(2026, 3, 1)).until(date(2026, 3, 1)),
            true,
        ),
    ];
    for (flag, fires) in cases {
        let mut memory = only_rule(AccessNeeds::new());
        let (_, seen) = flagged_booking(&mut memory, flag.clone());
        assert_eq!(
            moments_of(&seen, ACCESS).len(),
            usize::from(fires),
            "{flag:?}: {:?}",
            seen.moments()
        );
    }
    let mut memory = only_rule(AccessNeeds::new());
    let (_, seen) = flagged_booking(&mut memory, step_free().until(date(2026, 3, 1)));
    assert_eq!(
        the_one(&seen, ACCESS).explanation(),
        "access-needs flag valid until 1 Mar 2026 covers 1 Mar 2026"
    );
}

#[test]
fn access_needs_fires_for_no_fuss_patrons_and_without_personalisation() {
    let mut memory = rule_and_leave_me_be(AccessNeeds::new());
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 10, 9, 0));
    change(&mut memory, ana_id, ProfileChange::AddFlag(step_free()));
    no_fuss(&mut memory, ana_id);
    withdraw(
        &mut memory,
        ana_id,
        Channel::InPerson,
        Purpose::Personalisation,
    );
    withdraw(&mut memory, ana_id, Channel::Email, Purpose::Marketing);
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    the_one(&seen, ACCESS);
    assert!(seen.silenced().is_empty(), "{:?}", seen.silenced());
}

#[test]
fn access_needs_honours_a_withdrawal_of_operational_use_in_person() {
    let mut memory = only_rule(AccessNeeds::new());
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 10, 9, 0));
    change(&mut memory, ana_id, ProfileChange::AddFlag(step_free()));
    withdraw(&mut memory, ana_id, Channel::InPerson, Purpose::Operational);
    let seen = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&seen, ACCESS);
    assert!(silenced_reasons(&seen, ACCESS).is_empty());
    none_of(&scan_in(&mut memory, "e-2", "t-1"), ACCESS);

    // Explicit consent: not without an answer, yes with a grant.
    let mut memory = only_rule(AccessNeeds::new().require_explicit_consent(true));
    let (_, seen) = flagged_booking(&mut memory, step_free());
    none_of(&seen, ACCESS);
    let mut memory = only_rule(AccessNeeds::new().require_explicit_consent(true));
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 10, 9, 0));
    change(&mut memory, ana_id, ProfileChange::AddFlag(step_free()));
    grant(&mut memory, ana_id, Channel::InPerson, Purpose::Operational);
    the_one(
        &observe(
            &mut memory,
            order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
        ),
        ACCESS,
    );
}

#[test]
fn access_needs_added_after_booking_reaches_the_door() {
    let mut memory = only_rule(AccessNeeds::new());
    let booked = observe(
        &mut memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    );
    none_of(&booked, ACCESS);
    change(
        &mut memory,
        booked.patron(),
        ProfileChange::AddFlag(Flag::new(FlagKind::AccessNeeds)),
    );
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    let moment = the_one(&scanned, ACCESS);
    assert_eq!(moment.action(), Action::ScanAttention);
    assert_eq!(moment.message(), "Access needs on file: ask how to help");
    assert_eq!(ticket_of(moment), Some("t-1"));
    // Exits and re-entries: nothing more.
    let at = starts("hamlet-1");
    none_of(
        &observe(&mut memory, exit_at("e-3", "t-1", at + TimeDelta::hours(1))),
        ACCESS,
    );
    none_of(
        &observe(
            &mut memory,
            entry_at("e-4", "t-1", at + TimeDelta::minutes(70)),
        ),
        ACCESS,
    );
}

#[test]
fn access_needs_ignores_other_flags() {
    let mut memory = only_rule(AccessNeeds::new());
    let (_, seen) = flagged_booking(
        &mut memory,
        Flag::new(FlagKind::Vip).detail("chair of the board"),
    );
    none_of(&seen, ACCESS);
}

// ---------------------------------------------------------------- VipArrival

const VIP: &str = VipArrival::ID;

/// Ana, with `flag`, holds t-1 for hamlet-1 (1 Mar 2026).
fn flagged_ticket(memory: &mut Memory, flag: Flag) -> (PatronId, Observation) {
    flagged_booking(memory, flag)
}

#[test]
fn vip_arrival_at_the_first_entry_scan_only() {
    let mut memory = only_rule(VipArrival::new());
    let (ana_id, booked) = flagged_ticket(
        &mut memory,
        Flag::new(FlagKind::Vip).detail("chair of the board"),
    );
    none_of(&booked, VIP);
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    let moment = the_one(&scanned, VIP);
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(moment.message(), "VIP arriving: chair of the board");
    assert_eq!(moment.kind(), MomentKind::Welcome);
    assert_eq!(moment.action(), Action::ScanAttention);
    assert_eq!(moment.priority(), Priority::HIGH);
    assert_eq!(perf(moment), Some("hamlet-1"));
    assert_eq!(ticket_of(moment), Some("t-1"));
    assert_eq!(moment.seat(), Some(&Seat::new("F12")));

    let at = starts("hamlet-1");
    none_of(
        &observe(&mut memory, exit_at("e-3", "t-1", at + TimeDelta::hours(1))),
        VIP,
    );
    none_of(
        &observe(
            &mut memory,
            entry_at("e-4", "t-1", at + TimeDelta::minutes(70)),
        ),
        VIP,
    );
    assert_eq!(memory.moments_of(ana_id).count(), 1);
}

#[test]
fn vip_arrival_only_while_the_flag_holds() {
    for (flag, fires) in [
        (Flag::new(FlagKind::Vip).until(date(2026, 3, 1)), true),
        (Flag::new(FlagKind::Vip).until(date(2026, 2, 28)), false),
        (Flag::new(FlagKind::Vip).from(date(2026, 3, 1)), true),
        (Flag::new(FlagKind::Vip).from(date(2026, 3, 2)), false),
        (Flag::new(FlagKind::AccessNeeds), false),
    ] {
        let mut memory = only_rule(VipArrival::new());
        flagged_ticket(&mut memory, flag.clone());
        let scanned = scan_in(&mut memory, "e-2", "t-1");
        assert_eq!(
            moments_of(&scanned, VIP).len(),
            usize::from(fires),
            "{flag:?}"
        );
    }
    let mut memory = only_rule(VipArrival::new());
    flagged_ticket(&mut memory, Flag::new(FlagKind::Vip));
    assert_eq!(
        the_one(&scan_in(&mut memory, "e-2", "t-1"), VIP).message(),
        "VIP arriving"
    );
}

#[test]
fn vip_arrival_with_a_flag_of_the_venues_own() {
    let board = FlagKind::Custom("Board".into());
    let mut memory = only_rule(VipArrival::new().flag(board.clone()));
    flagged_ticket(&mut memory, Flag::new(board).detail("treasurer"));
    assert_eq!(
        the_one(&scan_in(&mut memory, "e-2", "t-1"), VIP).message(),
        "Board arriving: treasurer"
    );

    let mut memory = only_rule(VipArrival::new().flag(FlagKind::Custom("Board".into())));
    flagged_ticket(&mut memory, Flag::new(FlagKind::Vip));
    none_of(&scan_in(&mut memory, "e-2", "t-1"), VIP);
}

#[test]
fn vip_arrival_is_silenced_by_leave_me_be_and_by_withdrawn_personalisation() {
    let mut memory = rule_and_leave_me_be(VipArrival::new());
    let (ana_id, _) = flagged_ticket(&mut memory, Flag::new(FlagKind::Vip));
    no_fuss(&mut memory, ana_id);
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    none_of(&scanned, VIP);
    assert_eq!(
        silenced_reasons(&scanned, VIP),
        ["leave-me-be: prefers no fuss"]
    );

    let mut memory = only_rule(VipArrival::new());
    let (ana_id, _) = flagged_ticket(&mut memory, Flag::new(FlagKind::Vip));
    withdraw(
        &mut memory,
        ana_id,
        Channel::InPerson,
        Purpose::Personalisation,
    );
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    none_of(&scanned, VIP);
    assert_eq!(
        silenced_reasons(&scanned, VIP),
        ["no consent to personalisation in person"]
    );
}

// ---------------------------------------------------------------- TheUsual

const USUAL: &str = TheUsual::ID;

/// Ana's bar purchases, one event each, a day apart in January; then she holds t-1 for
/// hamlet-1.
fn regular_at_the_bar(memory: &mut Memory, purchases: &[&[LineItem]]) -> PatronId {
    for (i, items) in purchases.iter().enumerate() {
        let at = utc(2026, 1, 1, 20, 0) + TimeDelta::days(i as i64);
        observe(memory, purchase_at(&format!("bar-{i}"), items, at));
    }
    observe(
        memory,
        order("e-1", "o-1", ana(), [seated("t-1", "hamlet-1", "F12")]),
    )
    .patron()
}

#[test]
fn the_usual_from_three_purchases_at_the_door() {
    let mut memory = only_rule(TheUsual::new());
    let e = [espresso()];
    let ana_id = regular_at_the_bar(&mut memory, &[&e, &e, &e]);
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    let moment = the_one(&scanned, USUAL);
    assert_eq!(moment.patron(), ana_id);
    assert_eq!(moment.message(), "The usual: espresso (3 times)");
    assert_eq!(moment.kind(), MomentKind::Recognition);
    assert_eq!(moment.action(), Action::ScanAttention);
    assert_eq!(moment.priority(), Priority::LOW);
    assert_eq!(moment.purposes(), [Purpose::Personalisation]);
    assert_eq!(perf(moment), Some("hamlet-1"));
    assert_eq!(ticket_of(moment), Some("t-1"));
    assert_eq!(moment.seat(), Some(&Seat::new("F12")));
    assert_eq!(
        moment.explanation(),
        "espresso in 3 of 3 bar or shop purchases (at least 3 needed)"
    );

    // Once per performance.
    let at = starts("hamlet-1");
    none_of(
        &observe(
            &mut memory,
            entry_at("e-3", "t-1", at + TimeDelta::minutes(70)),
        ),
        USUAL,
    );
}

#[test]
fn the_usual_not_below_the_minimum_nor_at_ordering() {
    let mut memory = only_rule(TheUsual::new());
    let e = [espresso()];
    let other = [LineItem::new("tonic", 1, gbp(300))];
    let ana_id = regular_at_the_bar(&mut memory, &[&e, &e, &other]);
    assert_eq!(memory.moments_of(ana_id).count(), 0, "nothing at ordering");
    none_of(&scan_in(&mut memory, "e-2", "t-1"), USUAL);
}

#[test]
fn the_usual_counts_a_product_once_per_purchase() {
    // A round of six espressos, twice in one purchase, is one purchase with espresso.
    let mut memory = only_rule(TheUsual::new().min_count(2));
    let round = [
        LineItem::new("espresso", 6, gbp(250)),
        espresso(),
        LineItem::new("tonic", 1, gbp(300)),
    ];
    let tonic = [LineItem::new("tonic", 1, gbp(300))];
    regular_at_the_bar(&mut memory, &[&tonic, &round]);
    assert_eq!(
        the_one(&scan_in(&mut memory, "e-2", "t-1"), USUAL).message(),
        "The usual: tonic (2 times)"
    );
}

#[test]
fn the_usual_on_a_tie_the_latest_habit_wins() {
    let e: &[LineItem] = &[espresso()];
    let t: &[LineItem] = &[LineItem::new("tonic", 1, gbp(300))];
    for (purchases, usual) in [
        ([e, t, t, e], "The usual: espresso (2 times)"),
        ([t, e, e, t], "The usual: tonic (2 times)"),
    ] {
        let mut memory = only_rule(TheUsual::new().min_count(2));
        regular_at_the_bar(&mut memory, &purchases);
        assert_eq!(
            the_one(&scan_in(&mut memory, "e-2", "t-1"), USUAL).message(),
            usual
        );
    }
}

#[test]
fn the_usual_min_count_is_at_least_one() {
    let mut memory = only_rule(TheUsual::new().min_count(0));
    let e = [espresso()];
    regular_at_the_bar(&mut memory, &[&e]);
    assert_eq!(
        the_one(&scan_in(&mut memory, "e-2", "t-1"), USUAL).message(),
        "The usual: espresso (once)"
    );
    let mut memory = only_rule(TheUsual::new().min_count(0));
    regular_at_the_bar(&mut memory, &[]);
    none_of(&scan_in(&mut memory, "e-2", "t-1"), USUAL);
}

#[test]
fn the_usual_mentions_the_seat_preference() {
    let cases = [
        (
            SeatPreference::aisle().in_section("Stalls"),
            "an aisle seat in the Stalls",
        ),
        (SeatPreference::aisle(), "an aisle seat"),
        (SeatPreference::section_only("Circle"), "the Circle"),
    ];
    for (preference, words) in cases {
        // The seat alone.
        let mut memory = only_rule(TheUsual::new());
        let ana_id = regular_at_the_bar(&mut memory, &[]);
        change(
            &mut memory,
            ana_id,
            ProfileChange::SeatPreference(Some(preference.clone())),
        );
        let scanned = scan_in(&mut memory, "e-2", "t-1");
        let moment = the_one(&scanned, USUAL);
        assert_eq!(moment.message(), format!("Likes {words}"));
        assert_eq!(
            moment.explanation(),
            format!("seat preference on file: {words}")
        );

        // With the bar order.
        let mut memory = only_rule(TheUsual::new());
        let e = [espresso()];
        let ana_id = regular_at_the_bar(&mut memory, &[&e, &e, &e]);
        change(
            &mut memory,
            ana_id,
            ProfileChange::SeatPreference(Some(preference)),
        );
        assert_eq!(
            the_one(&scan_in(&mut memory, "e-2", "t-1"), USUAL).message(),
            format!("The usual: espresso (3 times); likes {words}")
        );
    }

    // Turned off: only the bar order, or nothing.
    let mut memory = only_rule(TheUsual::new().seat_preference(false));
    let ana_id = regular_at_the_bar(&mut memory, &[]);
    change(
        &mut memory,
        ana_id,
        ProfileChange::SeatPreference(Some(SeatPreference::aisle())),
    );
    none_of(&scan_in(&mut memory, "e-2", "t-1"), USUAL);
}

#[test]
fn the_usual_is_not_silenced_for_no_fuss_patrons_and_says_so() {
    let mut memory = rule_and_leave_me_be(TheUsual::new());
    let e = [espresso()];
    let ana_id = regular_at_the_bar(&mut memory, &[&e, &e, &e]);
    no_fuss(&mut memory, ana_id);
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    assert_eq!(
        the_one(&scanned, USUAL).message(),
        "The usual: espresso (3 times); prefers no fuss"
    );
    assert!(scanned.silenced().is_empty());
}

#[test]
fn the_usual_is_silenced_by_withdrawn_personalisation_in_person() {
    let mut memory = only_rule(TheUsual::new());
    let e = [espresso()];
    let ana_id = regular_at_the_bar(&mut memory, &[&e, &e, &e]);
    withdraw(
        &mut memory,
        ana_id,
        Channel::InPerson,
        Purpose::Personalisation,
    );
    let scanned = scan_in(&mut memory, "e-2", "t-1");
    none_of(&scanned, USUAL);
    assert_eq!(
        silenced_reasons(&scanned, USUAL),
        ["no consent to personalisation in person"]
    );
}

// ---------------------------------------------------------------- LeaveMeBe

/// Proposes one moment of every kind at every order (keyed by the order).
fn every_kind() -> impl regulars::MomentRule + 'static {
    rule_fn("every-kind", |ctx, out| {
        let Trigger::Order { order, .. } = ctx.trigger() else {
            return;
        };
        for kind in [
            MomentKind::Welcome,
            MomentKind::Celebration,
            MomentKind::Recognition,
            MomentKind::Operational,
            MomentKind::Marketing,
        ] {
            out.push(
                Moment::new(kind, Action::BoxOfficeAlert, format!("{kind:?}"))
                    .dedupe_by(format!("{order} {kind:?}"))
                    .via(Channel::Email),
            );
        }
    })
}

/// The kinds fired and the reasons for the kinds silenced at an order by a patron set
/// up by `setup`; marketing e-mail is agreed to first, so only the suppressor stops it.
fn kinds_after(
    setup: impl FnOnce(&mut Memory, PatronId),
) -> (Vec<MomentKind>, Vec<(MomentKind, String)>) {
    let mut memory = memory_with(|b| b.rule(every_kind()).suppressor(LeaveMeBe::new()));
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 1, 9, 0));
    change(
        &mut memory,
        ana_id,
        ProfileChange::Consent(Consent::granted(
            Channel::Email,
            Purpose::Marketing,
            utc(2026, 1, 1, 9, 0),
        )),
    );
    setup(&mut memory, ana_id);
    let seen = observe(
        &mut memory,
        order_at("e-1", "o-1", ana(), [], utc(2026, 2, 1, 10, 0)),
    );
    let mut fired: Vec<_> = seen.moments().iter().map(Moment::kind).collect();
    fired.sort();
    let mut silenced: Vec<_> = seen
        .silenced()
        .iter()
        .map(|s| (s.moment().kind(), s.reason().to_owned()))
        .collect();
    silenced.sort();
    (fired, silenced)
}

#[test]
fn leave_me_be_does_nothing_for_everyone_else() {
    let (fired, silenced) = kinds_after(|_, _| {});
    assert_eq!(fired.len(), 5, "{fired:?}");
    assert!(silenced.is_empty());
}

#[test]
fn leave_me_be_no_fuss_silences_greetings_celebrations_and_marketing() {
    let (fired, silenced) = kinds_after(no_fuss);
    assert_eq!(fired, [MomentKind::Recognition, MomentKind::Operational]);
    let reason = "leave-me-be: prefers no fuss".to_owned();
    assert_eq!(
        silenced,
        [
            (MomentKind::Welcome, reason.clone()),
            (MomentKind::Celebration, reason.clone()),
            (MomentKind::Marketing, reason),
        ]
    );
}

#[test]
fn leave_me_be_a_marketing_objection_silences_marketing_only() {
    let (fired, silenced) = kinds_after(|memory, ana_id| {
        withdraw(memory, ana_id, Channel::Sms, Purpose::Marketing);
    });
    assert_eq!(
        fired,
        [
            MomentKind::Welcome,
            MomentKind::Celebration,
            MomentKind::Recognition,
            MomentKind::Operational,
        ]
    );
    assert_eq!(
        silenced,
        [(
            MomentKind::Marketing,
            "leave-me-be: objected to marketing".to_owned()
        )]
    );
}

#[test]
fn leave_me_be_both_gives_the_no_fuss_row_with_both_reasons() {
    let (fired, silenced) = kinds_after(|memory, ana_id| {
        no_fuss(memory, ana_id);
        withdraw(memory, ana_id, Channel::Post, Purpose::Marketing);
    });
    assert_eq!(fired, [MomentKind::Recognition, MomentKind::Operational]);
    assert_eq!(silenced.len(), 3);
    assert!(
        silenced
            .iter()
            .all(|(_, r)| r == "leave-me-be: prefers no fuss; objected to marketing"),
        "{silenced:?}"
    );
}

#[test]
fn leave_me_be_a_later_yes_lifts_an_objection_and_a_tie_is_a_no() {
    // Objected by text message on 3 Jan, agreed again by e-mail on 4 Jan.
    let (fired, _) = kinds_after(|memory, ana_id| {
        withdraw(memory, ana_id, Channel::Sms, Purpose::Marketing);
        change(
            memory,
            ana_id,
            ProfileChange::Consent(Consent::granted(
                Channel::Email,
                Purpose::Marketing,
                utc(2026, 1, 4, 12, 0),
            )),
        );
    });
    assert!(fired.contains(&MomentKind::Marketing), "{fired:?}");

    // A yes and a no at the same moment: no.
    let (fired, silenced) = kinds_after(|memory, ana_id| {
        let at = utc(2026, 1, 4, 12, 0);
        change(
            memory,
            ana_id,
            ProfileChange::Consent(Consent::withdrawn(Channel::Sms, Purpose::Marketing, at)),
        );
        change(
            memory,
            ana_id,
            ProfileChange::Consent(Consent::granted(Channel::Email, Purpose::Marketing, at)),
        );
    });
    assert!(!fired.contains(&MomentKind::Marketing), "{fired:?}");
    assert_eq!(silenced.len(), 1);

    // Objections about other purposes are not marketing objections.
    let (fired, silenced) = kinds_after(|memory, ana_id| {
        withdraw(memory, ana_id, Channel::Email, Purpose::Personalisation);
    });
    assert!(fired.contains(&MomentKind::Marketing), "{fired:?}");
    assert!(silenced.iter().all(|(_, r)| !r.starts_with("leave-me-be")));
}

#[test]
fn leave_me_be_lifts_when_they_change_their_mind() {
    let mut memory = memory_with(|b| b.rule(every_kind()).suppressor(LeaveMeBe::new()));
    let ana_id = join(&mut memory, ana(), utc(2026, 1, 1, 9, 0));
    no_fuss(&mut memory, ana_id);
    let quiet = observe(
        &mut memory,
        order_at("e-1", "o-1", ana(), [], utc(2026, 2, 1, 10, 0)),
    );
    assert_eq!(quiet.moments().len(), 2);
    change(&mut memory, ana_id, ProfileChange::PrefersNoFuss(false));
    let chatty = observe(
        &mut memory,
        order_at("e-2", "o-2", ana(), [], utc(2026, 2, 2, 10, 0)),
    );
    // Marketing still needs consent on e-mail, which she never gave.
    let kinds: Vec<_> = chatty.moments().iter().map(Moment::kind).collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(!kinds.contains(&MomentKind::Marketing));
}

// ---------------------------------------------------------------- together

/// The breakfast lady's guest: every care rule and LeaveMeBe, for a patron who prefers
/// no fuss. He gets his access needs seen to and his usual, quietly — nothing else.
#[test]
fn the_regular_who_wants_no_fuss_gets_his_usual_and_nothing_else() {
    let mut memory = memory_with(|b| {
        b.rule(GoingQuiet::new())
            .rule(MembershipExpiring::new())
            .rule(Birthday::new())
            .rule(MemberAtDoor::new())
            .rule(DonorRecognition::new())
            .rule(AccessNeeds::new())
            .rule(VipArrival::new())
            .rule(TheUsual::new())
            .suppressor(LeaveMeBe::new())
    });
    let guest = || ana().birth_date(date(1970, 3, 2));
    let patron = join(&mut memory, guest(), utc(2025, 12, 1, 9, 0));
    no_fuss(&mut memory, patron);
    change(&mut memory, patron, ProfileChange::AddFlag(step_free()));
    change(
        &mut memory,
        patron,
        ProfileChange::AddFlag(Flag::new(FlagKind::Vip)),
    );
    grant(&mut memory, patron, Channel::Email, Purpose::Marketing);
    observe(
        &mut memory,
        membership_at(
            "m-1",
            "Friends",
            date(2026, 1, 1),
            date(2026, 12, 31),
            utc(2026, 1, 1, 10, 0),
        ),
    );
    observe(
        &mut memory,
        donation_at("d-1", gbp(50_000), utc(2026, 1, 2, 10, 0)),
    );
    for day in 0..3 {
        observe(
            &mut memory,
            purchase_at(
                &format!("bar-{day}"),
                &[espresso()],
                utc(2026, 1, 10 + day, 20, 0),
            ),
        );
    }

    let booked = observe(
        &mut memory,
        order("e-1", "o-1", guest(), [seated("t-1", "hamlet-1", "F12")]),
    );
    let fired: Vec<_> = booked.moments().iter().map(Moment::rule).collect();
    assert_eq!(fired, [ACCESS]);
    let mut silenced: Vec<_> = booked
        .silenced()
        .iter()
        .map(|s| s.moment().rule())
        .collect();
    silenced.sort();
    assert_eq!(silenced, [BIRTHDAY, DONOR]);

    let scanned = scan_in(&mut memory, "e-2", "t-1");
    let fired: Vec<_> = scanned.moments().iter().map(Moment::message).collect();
    assert_eq!(fired, ["The usual: espresso (3 times); prefers no fuss"]);
    let mut silenced: Vec<_> = scanned
        .silenced()
        .iter()
        .map(|s| s.moment().rule())
        .collect();
    silenced.sort();
    assert_eq!(silenced, [MEMBER, VIP]);

    // The brief has his access needs first, then his usual.
    let brief = memory.brief("hamlet-1").expect("known performance");
    let entry = brief.entries().next().expect("his entry");
    let rules: Vec<_> = entry.moments().iter().map(Moment::rule).collect();
    assert_eq!(rules, [ACCESS, USUAL]);

    // No "we miss you", no renewal nag.
    assert!(memory.tick(utc(2027, 6, 1, 0, 0)).is_empty());
}
