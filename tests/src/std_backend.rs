//! `--driver std`: the conformance runner through `sansnet-std`'s handles (see
//! [`crate::real_backend`]).

crate::real_backend::real_backend!(StdBackend, sansnet_std, crate::real_backend::RealHost);

impl StdBackend {
    /// A backend with nothing open yet.
    pub fn new() -> StdBackend {
        StdBackend::with_host(crate::real_backend::RealHost::new("std"))
    }
}

impl Default for StdBackend {
    fn default() -> Self {
        StdBackend::new()
    }
}
