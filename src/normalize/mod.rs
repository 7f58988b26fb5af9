//! Canonical forms of the things people type into order forms.
//!
//! Every function here is pure: the same input gives the same output on every machine,
//! it never panics, and it rejects input it cannot make sense of with a [`Rejection`]
//! saying why. Normalizing twice gives the same result as normalizing once.
//!
//! ```
//! use regulars::normalize::{self, Country};
//!
//! assert_eq!(normalize::email(" Jane.Doe+tickets@GoogleMail.com ")?, "janedoe@gmail.com");
//! assert_eq!(normalize::phone("020 7946 0018", Country::GB)?, "+442079460018");
//! assert_eq!(normalize::name("  Zoë  O'Brien-Śmith ")?, "zoe obrien smith");
//! assert_eq!(normalize::postcode("sw1a 1aa", Some(Country::GB))?, "SW1A1AA");
//! # Ok::<(), regulars::normalize::Rejection>(())
//! ```

mod country;
mod email;
mod name;
mod phone;
mod postcode;
mod rejection;
pub(crate) mod text;

pub use country::Country;
pub use email::email;
pub use name::name;
pub use phone::phone;
pub use postcode::postcode;
pub use rejection::Rejection;

pub(crate) use email::email_into;
pub(crate) use name::written_and_key_into as name_written_and_key_into;
pub(crate) use phone::phone_into;
pub(crate) use postcode::postcode_into;

#[cfg(test)]
mod fast_path_tests;
