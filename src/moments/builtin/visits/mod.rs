//! Rules about a patron's visits: how often, how long ago, what they came to see.
