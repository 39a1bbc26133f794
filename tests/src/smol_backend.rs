//! `--driver smol`: the conformance runner through `sansnet-smol`'s handles (see
//! [`crate::real_backend`]).

crate::real_backend::real_backend!(SmolBackend, sansnet_smol, "smol");
