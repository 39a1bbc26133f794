//! `--driver std`: the conformance runner through `sansnet-std`'s handles (see
//! [`crate::real_backend`]).

crate::real_backend::real_backend!(StdBackend, sansnet_std, "std");
