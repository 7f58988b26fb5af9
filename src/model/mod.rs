//! The patron memory model: ids, catalog, profiles, history and the events that feed them.

pub(crate) mod catalog;
pub(crate) mod event;
pub(crate) mod history;
pub(crate) mod ids;
pub(crate) mod money;
pub(crate) mod profile;
pub(crate) mod sparse;
