//! Journal append and recovery throughput.
fn main() {}
