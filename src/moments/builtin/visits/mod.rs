//! Rules about a patron's visits: how often, how long ago, what they came to see.
//!
//! Attendance counts when a ticket is scanned in, so a rule asked at order time sees the
//! visits made so far. Rules that greet or mark a visit decide at order time, so their
//! moment is in the brief before the show, and number a booking after the visits made and
//! the other bookings that come before it (`booked`). Rules about a fact of the visit
//! itself decide at the door.

mod anniversary;
mod booked;
mod milestone;
mod new_genre;
mod newcomer;
mod regular;
mod second_visit;
mod welcome_back;

pub use anniversary::FirstVisitAnniversary;
pub use milestone::Milestone;
pub use new_genre::NewGenre;
pub use newcomer::BroughtANewcomer;
pub use regular::Regular;
pub use second_visit::SecondVisit;
pub use welcome_back::WelcomeBack;
