//! `conformance --driver D FILE.json`: runs a scenario and prints Node's trace.
fn main() {}
