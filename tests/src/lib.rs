//! Shared code of sansnet's conformance runner and cross-crate tests.
