//! Process defaults (stand-in).
use crate::time::Duration;
/// `net.getDefaultAutoSelectFamily()`.
pub fn auto_select_family() -> bool {
    true
}
/// `net.getDefaultAutoSelectFamilyAttemptTimeout()`.
pub fn auto_select_family_attempt_timeout() -> Duration {
    crate::happy_eyeballs::DEFAULT_ATTEMPT_TIMEOUT
}
