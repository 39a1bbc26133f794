//! Shared code of sansnet's conformance runner and cross-crate tests.
//!
//! The runner reads a scenario (`tests/conformance/FORMAT.md`), runs it on a driver, and
//! prints the canonical trace that Node prints for it.

pub mod backend;
pub mod difftest;
pub mod options;
pub mod pure;
pub mod pure_address;
mod real_backend;
pub mod runner;
pub mod scenario;
pub mod smol_backend;
pub mod std_backend;
pub mod sweep;
pub mod trace;
