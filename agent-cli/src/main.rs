//! The `dha` program (being written).
fn main() {}
