//! `--driver smol` and `--driver smol-sim`: the conformance runner through `sansnet-smol`'s
//! handles (see [`crate::real_backend`]), on real sockets or in its simulated runtime.

crate::real_backend::real_backend!(SmolBackend, sansnet_smol, crate::real_backend::RealHost);

impl SmolBackend {
    /// A backend on real sockets with nothing open yet.
    pub fn new() -> SmolBackend {
        SmolBackend::with_host(crate::real_backend::RealHost::new("smol"))
    }
}

impl Default for SmolBackend {
    fn default() -> Self {
        SmolBackend::new()
    }
}

/// `--driver smol-sim`: sansnet-smol's handles in its simulated runtime.
pub mod sim {
    crate::real_backend::real_backend!(SmolSimBackend, sansnet_smol, crate::real_backend::SimHost);

    impl SmolSimBackend {
        /// A backend in a simulation of `seed`, nothing open yet.
        pub fn new(seed: u64) -> SmolSimBackend {
            SmolSimBackend::with_host(crate::real_backend::SimHost::new(seed))
        }
    }
}
