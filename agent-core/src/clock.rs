//! Time, through a trait, so that tests can move it (STYLE.md: rustls' `TimeProvider`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
///
/// Code that needs "now" takes a `&dyn Clock`; the command line passes
/// [`SystemClock`], tests pass a [`FixedClock`].
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Whole days since the Unix epoch, as `/etc/shadow` counts them.
    fn days_since_epoch(&self) -> i64 {
        match self.now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs() / 86_400).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs() / 86_400).unwrap_or(i64::MAX) - 1,
        }
    }
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that always answers the same instant (for tests and reproducible runs).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl FixedClock {
    /// A clock stopped `secs` seconds after the Unix epoch.
    pub fn from_unix_secs(secs: u64) -> Self {
        FixedClock(UNIX_EPOCH + Duration::from_secs(secs))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Formats a time as RFC 3339 in UTC (`2026-11-29T08:00:00Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    dt.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Formats a time as RFC 3339 in UTC with exactly three fraction digits
/// (`2026-11-29T08:00:00.250Z`): every such string has the same length, so a
/// report's size does not change with the digits of its timestamps (a C
/// caller sizes its buffer with one call and fills it with the next).
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let whole = rfc3339(UNIX_EPOCH + Duration::from_secs(d.as_secs()));
    match whole.strip_suffix('Z') {
        Some(s) => format!("{s}.{:03}Z", d.subsec_millis()),
        None => whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_millis_has_a_fixed_width() {
        let at = |ns: u64| rfc3339_millis(UNIX_EPOCH + Duration::from_nanos(ns));
        assert_eq!(at(1_700_000_000_000_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(at(1_700_000_000_250_000_000), "2023-11-14T22:13:20.250Z");
        assert_eq!(at(1_700_000_000_999_999_999), "2023-11-14T22:13:20.999Z");
    }

    #[test]
    fn days_since_epoch_counts_whole_days() {
        assert_eq!(FixedClock::from_unix_secs(0).days_since_epoch(), 0);
        assert_eq!(FixedClock::from_unix_secs(86_399).days_since_epoch(), 0);
        assert_eq!(
            FixedClock::from_unix_secs(86_400 * 20_000 + 5).days_since_epoch(),
            20_000
        );
    }

    #[test]
    fn rfc3339_is_utc() {
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20Z"
        );
    }
}
