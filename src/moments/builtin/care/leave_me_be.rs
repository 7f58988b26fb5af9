//! Leave me be: "leave me alone" as a suppressor.

use crate::memory::PatronView;
use crate::model::profile::Purpose;
use crate::moments::{MomentKind, RuleContext, Suppression, Suppressor};

/// Silences fuss for patrons who asked for none, and marketing for patrons who objected
/// to it — never what serves them. Register it with
/// [`MemoryBuilder::suppressor`](crate::MemoryBuilder::suppressor).
///
/// Exactly:
///
/// | the patron | silenced kinds | reason given |
/// |---|---|---|
/// | [prefers no fuss](crate::Preferences::prefers_no_fuss) | [`Welcome`](MomentKind::Welcome), [`Celebration`](MomentKind::Celebration), [`Marketing`](MomentKind::Marketing) | `prefers no fuss` |
/// | objected to marketing (and not no fuss) | [`Marketing`](MomentKind::Marketing) | `objected to marketing` |
/// | neither | nothing | |
///
/// - [`Operational`](MomentKind::Operational) moments (access needs, a problem with their
///   booking) and [`Recognition`](MomentKind::Recognition) moments (the quiet
///   [`TheUsual`](crate::TheUsual)) are never silenced: serving someone the way they
///   like without a word is exactly what "no fuss" asks for.
/// - **Objected to marketing** means their most recent answer about
///   [`Purpose::Marketing`], on whichever channel, is a withdrawal (on equal times, the
///   withdrawal wins). An objection to direct marketing covers every channel, so it
///   silences marketing on channels they had agreed to earlier; a later "yes" on one
///   channel lifts it, and the engine's consent check then still requires a "yes" for
///   each channel used.
/// - A patron who is both gets the no-fuss row, with the reason
///   `prefers no fuss; objected to marketing`.
///
/// Silenced moments are listed with `leave-me-be: <reason>` in
/// [`Observation::silenced`](crate::Observation::silenced) and may fire later if the
/// patron changes their mind.
///
/// ```
/// use regulars::{
///     Action, Event, LeaveMeBe, Memory, Moment, MomentKind, Order, ProfileChange, Signals,
///     Trigger, rule_fn,
/// };
///
/// // A greeting and a booking check at every order.
/// let rule = rule_fn("at-the-box-office", |ctx, out| {
///     if let Trigger::Order { order, .. } = ctx.trigger() {
///         out.push(
///             Moment::new(MomentKind::Welcome, Action::BoxOfficeAlert, "Say hello")
///                 .dedupe_by(format!("hello {order}")),
///         );
///         out.push(
///             Moment::new(MomentKind::Operational, Action::BoxOfficeAlert, "Check the booking")
///                 .dedupe_by(format!("check {order}")),
///         );
///     }
/// });
/// let mut memory = Memory::builder()
///     .without_default_rules()
///     .rule(rule)
///     .suppressor(LeaveMeBe::new())
///     .build()?;
///
/// let ana = || Signals::new().email("ana@example.org");
/// let first = memory.observe(Event::order("e-1", Order::new("o-1", ana())))?;
/// assert_eq!(first.moments().len(), 2);
///
/// memory.update_profile(first.patron(), ProfileChange::PrefersNoFuss(true))?;
/// let second = memory.observe(Event::order("e-2", Order::new("o-2", ana())))?;
/// assert_eq!(second.moments().len(), 1);
/// assert_eq!(second.moments()[0].kind(), MomentKind::Operational);
/// assert_eq!(second.silenced()[0].reason(), "leave-me-be: prefers no fuss");
/// # Ok::<(), regulars::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct LeaveMeBe {
    _private: (),
}

impl LeaveMeBe {
    /// The suppressor's id, named in the reason of every moment it silences.
    pub const ID: &'static str = "leave-me-be";

    /// The suppressor.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Whether their latest answer about marketing, on any channel, is "no".
fn objected_to_marketing(patron: &PatronView<'_>) -> bool {
    patron
        .consents()
        .iter()
        .filter(|c| c.purpose() == Purpose::Marketing)
        // Latest first; on a tie a withdrawal (false) sorts after a grant, so it wins.
        .max_by_key(|c| (c.at(), !c.is_granted()))
        .is_some_and(|c| !c.is_granted())
}

impl Suppressor for LeaveMeBe {
    fn id(&self) -> &str {
        Self::ID
    }

    fn suppress(&self, ctx: &RuleContext<'_>) -> Option<Suppression> {
        let patron = ctx.patron();
        let no_fuss = patron.preferences().prefers_no_fuss();
        let objected = objected_to_marketing(patron);
        match (no_fuss, objected) {
            (true, objected) => Some(
                Suppression::kinds([
                    MomentKind::Welcome,
                    MomentKind::Celebration,
                    MomentKind::Marketing,
                ])
                .because(if objected {
                    "prefers no fuss; objected to marketing"
                } else {
                    "prefers no fuss"
                }),
            ),
            (false, true) => {
                Some(Suppression::kinds([MomentKind::Marketing]).because("objected to marketing"))
            }
            (false, false) => None,
        }
    }
}
