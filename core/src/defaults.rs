//! Process-wide defaults, as Node keeps them in module globals: whether `connect()` uses
//! happy eyeballs when the caller does not say (`net.getDefaultAutoSelectFamily()`), the
//! per-attempt timeout (`net.getDefaultAutoSelectFamilyAttemptTimeout()`), and the default
//! stream high-water mark (`stream.getDefaultHighWaterMark(false)`).
//!
//! Stored in atomics: readable and settable from any thread, no locks, no `unsafe`. Node
//! reads them when an operation starts (`connect()` reads the happy-eyeballs defaults,
//! `new Socket()` the high-water mark), so a change affects later operations only.
//!
//! Each setter comes twice: a typed one that cannot fail (values are clamped the way Node
//! clamps them) and a loose one taking a [`Value`] that validates exactly as Node's
//! `net.setDefault…()` functions do.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use crate::error::NetError;
use crate::time::Duration;
use crate::validate;
use crate::value::Value;

/// `autoSelectFamily` when neither the option nor a setter says otherwise: `true` since
/// Node 20.0 (the `--no-network-family-autoselection` flag turns it off).
pub const DEFAULT_AUTO_SELECT_FAMILY: bool = true;

/// The happy-eyeballs per-attempt timeout when nothing else is set: 250 ms in Node 20
/// through 24 (Node 25+ uses 500 ms).
pub const DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);

/// The smallest attempt timeout Node uses: values 1..=9 ms are raised to 10 ms.
pub const MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(10);

/// The largest attempt timeout Node accepts (`validateInt32`): 2^31 − 1 ms.
pub const MAX_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// The stream high-water mark in bytes when a socket or server does not set one: 16384
/// in Node 20 (65536 from Node 22).
pub const DEFAULT_HIGH_WATER_MARK: usize = 16 * 1024;

static AUTO_SELECT_FAMILY: AtomicBool = AtomicBool::new(DEFAULT_AUTO_SELECT_FAMILY);
static ATTEMPT_TIMEOUT_MS: AtomicU32 =
    AtomicU32::new(DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT.as_millis() as u32);
static HIGH_WATER_MARK: AtomicUsize = AtomicUsize::new(DEFAULT_HIGH_WATER_MARK);

/// `net.getDefaultAutoSelectFamily()`.
pub fn auto_select_family() -> bool {
    AUTO_SELECT_FAMILY.load(Ordering::Relaxed)
}

/// `net.setDefaultAutoSelectFamily(value)` with a boolean.
pub fn set_auto_select_family(value: bool) {
    AUTO_SELECT_FAMILY.store(value, Ordering::Relaxed);
}

/// `net.getDefaultAutoSelectFamilyAttemptTimeout()`, as a duration of whole milliseconds.
pub fn auto_select_family_attempt_timeout() -> Duration {
    Duration::from_millis(u64::from(ATTEMPT_TIMEOUT_MS.load(Ordering::Relaxed)))
}

/// Sets the default attempt timeout, truncated to whole milliseconds and clamped to
/// [`MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT`]..=[`MAX_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT`];
/// returns the value stored.
pub fn set_auto_select_family_attempt_timeout(value: Duration) -> Duration {
    let stored = clamp_attempt_timeout(value);
    let ms = u32::try_from(stored.as_millis()).unwrap_or(i32::MAX as u32);
    ATTEMPT_TIMEOUT_MS.store(ms, Ordering::Relaxed);
    stored
}

/// An attempt timeout as Node uses it: whole milliseconds, at least 10 ms, at most
/// 2^31 − 1 ms.
pub fn clamp_attempt_timeout(value: Duration) -> Duration {
    let ms = value
        .as_millis()
        .min(MAX_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT.as_millis());
    Duration::from_millis(ms as u64).max(MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT)
}

/// `stream.getDefaultHighWaterMark(false)`: the byte high-water mark new sockets get.
pub fn high_water_mark() -> usize {
    HIGH_WATER_MARK.load(Ordering::Relaxed)
}

/// `stream.setDefaultHighWaterMark(false, value)` with a byte count.
pub fn set_high_water_mark(value: usize) {
    HIGH_WATER_MARK.store(value, Ordering::Relaxed);
}

/// `net.setDefaultAutoSelectFamily(value)` with any value: a non-boolean throws
/// `ERR_INVALID_ARG_TYPE` ("The "value" argument must be of type boolean…").
pub fn set_default_auto_select_family(value: &Value) -> Result<(), NetError> {
    let b = validate::validate_boolean(value, "value")?;
    set_auto_select_family(b);
    Ok(())
}

/// `net.setDefaultAutoSelectFamilyAttemptTimeout(value)` with any value:
/// `validateInt32(value, 'value', 1)` (`ERR_INVALID_ARG_TYPE` for non-numbers,
/// `ERR_OUT_OF_RANGE` for 0, negatives, fractions, ≥ 2^31), then 1..=9 stored as 10.
/// Returns the value stored.
pub fn set_default_auto_select_family_attempt_timeout(value: &Value) -> Result<Duration, NetError> {
    let ms = validate::validate_int32(value, "value", 1, i32::MAX)?;
    Ok(set_auto_select_family_attempt_timeout(
        Duration::from_millis(ms as u64),
    ))
}

/// `stream.setDefaultHighWaterMark(false, value)` with any value:
/// `validateInteger(value, 'value', 0)` (`ERR_INVALID_ARG_TYPE` for non-numbers,
/// `ERR_OUT_OF_RANGE` for fractions, negatives and values past 2^53 − 1).
pub fn set_default_high_water_mark(value: &Value) -> Result<(), NetError> {
    let n = validate::validate_number(value, "value")?;
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(validate::out_of_range("value", "an integer", value));
    }
    if !(0.0..=9_007_199_254_740_991.0).contains(&n) {
        return Err(validate::out_of_range(
            "value",
            ">= 0 && <= 9007199254740991",
            value,
        ));
    }
    set_high_water_mark(n as usize);
    Ok(())
}

/// Serialises the crate's unit tests that change or depend on the process defaults.
#[cfg(test)]
pub(crate) fn test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    // The defaults are process globals: the tests that read or change them hold
    // `test_lock()`, and this one restores them at the end.
    #[test]
    fn defaults_follow_node() {
        let _guard = test_lock();
        assert!(auto_select_family());
        assert_eq!(
            auto_select_family_attempt_timeout(),
            Duration::from_millis(250)
        );
        assert_eq!(high_water_mark(), 16384);

        let e = set_default_auto_select_family(&"x".into()).unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidArgType);
        assert_eq!(
            e.message,
            "The \"value\" argument must be of type boolean. Received type string ('x')"
        );
        set_default_auto_select_family(&false.into()).unwrap();
        assert!(!auto_select_family());
        set_auto_select_family(true);

        for bad in [0.0, 1.5, -10.0, 2147483648.0] {
            let e = set_default_auto_select_family_attempt_timeout(&bad.into()).unwrap_err();
            assert_eq!(e.code, Code::ErrOutOfRange, "{bad}");
        }
        let e = set_default_auto_select_family_attempt_timeout(&0.0.into()).unwrap_err();
        assert_eq!(
            e.message,
            "The value of \"value\" is out of range. It must be >= 1 && <= 2147483647. Received 0"
        );
        let e = set_default_auto_select_family_attempt_timeout(&"10".into()).unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidArgType);
        assert_eq!(
            auto_select_family_attempt_timeout(),
            Duration::from_millis(250)
        );

        let stored = set_default_auto_select_family_attempt_timeout(&5.0.into()).unwrap();
        assert_eq!(stored, Duration::from_millis(10));
        assert_eq!(
            auto_select_family_attempt_timeout(),
            Duration::from_millis(10)
        );
        set_default_auto_select_family_attempt_timeout(&1234.0.into()).unwrap();
        assert_eq!(
            auto_select_family_attempt_timeout(),
            Duration::from_millis(1234)
        );
        assert_eq!(
            set_auto_select_family_attempt_timeout(Duration::from_micros(9999)),
            Duration::from_millis(10)
        );
        assert_eq!(
            set_auto_select_family_attempt_timeout(Duration::from_secs(u64::MAX / 2)),
            MAX_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT
        );
        set_auto_select_family_attempt_timeout(DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT);

        assert_eq!(
            set_default_high_water_mark(&(-1.0).into())
                .unwrap_err()
                .code,
            Code::ErrOutOfRange
        );
        assert_eq!(
            set_default_high_water_mark(&"1".into()).unwrap_err().code,
            Code::ErrInvalidArgType
        );
        set_default_high_water_mark(&65536.0.into()).unwrap();
        assert_eq!(high_water_mark(), 65536);
        set_high_water_mark(DEFAULT_HIGH_WATER_MARK);
    }
}
