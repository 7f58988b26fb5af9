//! A venue's own moment rule, next to the built-in ones.
//!
//! `cargo run --example custom_rule`
//!
//! The venue runs a talk after some shows. Someone who has already seen two shows of the
//! genre gets a personal invitation at the box office, once per production, and only if
//! they agreed to hear about such things in person.

use chrono::{TimeZone, Utc};
use regulars::{
    Action, Channel, Consent, Event, Memory, Moment, MomentKind, MomentRule, OncePer, Policy,
    Priority, ProfileChange, Purpose, RuleContext, Scan, Signals, Ticket, Trigger, Venue,
};
use regulars::{Order, Performance, Production};

/// Invites genre fans to the post-show talk.
#[derive(Debug)]
struct PostShowTalk {
    genre: &'static str,
}

impl MomentRule for PostShowTalk {
    fn id(&self) -> &str {
        "post-show-talk"
    }

    fn policy(&self) -> Policy {
        Policy::new().once_per(OncePer::Production)
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, out: &mut Vec<Moment>) {
        let Trigger::Ticket(ticket) = ctx.trigger() else {
            return;
        };
        let in_genre = ticket.production().genres().iter().any(|g| g == self.genre);
        let seen = ctx.patron().attendances_in_genre(self.genre);
        if !in_genre || seen < 2 {
            return;
        }
        let message = format!("Invite to the talk after {}", ticket.production().title());
        out.push(
            Moment::new(MomentKind::Marketing, Action::BoxOfficeAlert, message)
                .for_performance(ticket.performance().id().clone())
                .for_ticket(ticket.id().clone())
                .with_priority(Priority::LOW)
                .explain(format!("has seen {seen} {} shows", self.genre)),
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let at = |month, day| Utc.with_ymd_and_hms(2026, month, day, 19, 0, 0).unwrap();
    let mut memory = Memory::builder()
        .rule(PostShowTalk { genre: "opera" })
        .build()?;
    memory.define_venue(Venue::new("main", "Main House"))?;
    for (id, title) in [("tosca", "Tosca"), ("carmen", "Carmen"), ("aida", "Aida")] {
        memory.define_production(Production::new(id, title).genre("opera"))?;
        memory.define_performance(Performance::new(format!("{id}-1"), id, "main", at(3, 1)))?;
    }
    let mia = || Signals::new().given_name("Mia").email("mia@example.org");
    for (i, show) in ["tosca-1", "carmen-1"].into_iter().enumerate() {
        let order = Order::new(format!("o-{i}"), mia()).ticket(Ticket::new(format!("t-{i}"), show));
        memory.observe(Event::order(format!("e-{i}"), order).at(at(2, 1)))?;
        memory
            .observe(Event::scan(format!("s-{i}"), Scan::entry(format!("t-{i}"))).at(at(3, 1)))?;
    }

    // A third opera: the rule proposes, but marketing needs her consent in person.
    let order = Order::new("o-2", mia()).ticket(Ticket::new("t-2", "aida-1"));
    let seen = memory.observe(Event::order("e-2", order).at(at(3, 2)))?;
    for silenced in seen.silenced() {
        println!(
            "not proposed: {} ({})",
            silenced.moment(),
            silenced.reason()
        );
    }

    // She says yes at the bar; the next opera ticket brings the invitation.
    let yes = Consent::granted(Channel::InPerson, Purpose::Marketing, at(3, 2));
    memory.update_profile(seen.patron(), ProfileChange::Consent(yes))?;
    let order = Order::new("o-3", mia()).ticket(Ticket::new("t-3", "aida-1"));
    for moment in memory
        .observe(Event::order("e-3", order).at(at(3, 3)))?
        .moments()
    {
        println!("proposed: {moment} — {}", moment.explanation());
    }
    Ok(())
}
