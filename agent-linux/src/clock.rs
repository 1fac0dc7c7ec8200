//! The boot-time monotonic clock of the event log's stamps.

use dha_core::events::Monotonic;
use nix::time::{ClockId, clock_gettime};

/// Nanoseconds since the kernel booted, counting time suspended
/// (`CLOCK_BOOTTIME`, clock_gettime(2)), through `nix` (the C library's
/// `clock_gettime`: `rustix`'s own vDSO lookup makes an invalid read, then
/// a SIGSEGV, under Valgrind, which integrators run libdha under).
///
/// Unlike [`dha_core::events::ProcessMonotonic`], whose origin is the
/// process's start, every process of one boot reads the same origin, so
/// the monotonic stamps of events recorded by different `dha` runs (and by
/// the integrator's process) order the records of a boot
/// ([`dha_core::events::BootId`]). It never goes backwards within a boot,
/// whatever is done to the wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct BootTimeMonotonic;

impl Monotonic for BootTimeMonotonic {
    fn nanos(&self) -> u64 {
        // CLOCK_BOOTTIME exists since Linux 2.6.39 and clock_gettime(2)
        // cannot fail for it; should it, 0 is no worse than a missing stamp.
        let Ok(t) = clock_gettime(ClockId::CLOCK_BOOTTIME) else {
            return 0;
        };
        // A boot-time clock is never negative; saturate rather than wrap.
        let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
        let nanos = u64::try_from(t.tv_nsec()).unwrap_or(0);
        secs.saturating_mul(1_000_000_000).saturating_add(nanos)
    }
}

/// The stamps of the running system for an event log: the kernel's boot
/// id, the system clock and [`BootTimeMonotonic`].
pub fn system_stamps() -> dha_core::events::Stamps {
    dha_core::events::Stamps {
        boot_id: dha_core::events::BootId::detect(),
        clock: Box::new(dha_core::SystemClock),
        monotonic: Box::new(BootTimeMonotonic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_time_is_since_boot_and_never_goes_back() {
        // /proc/uptime's first field is seconds since boot, counting
        // suspend (proc(5)), the same origin as CLOCK_BOOTTIME.
        let before = BootTimeMonotonic.nanos();
        let uptime = std::fs::read_to_string("/proc/uptime").unwrap();
        let after = BootTimeMonotonic.nanos();
        assert!(after >= before);
        // "12345.67 …": the whole seconds.
        let up_secs: u64 = uptime.split(['.', ' ']).next().unwrap().parse().unwrap();
        // Read around the same instant: equal to the second, allowing one
        // tick of /proc/uptime's hundredths on either side.
        assert!(
            before / 1_000_000_000 <= up_secs.saturating_add(1)
                && up_secs <= after / 1_000_000_000 + 1,
            "CLOCK_BOOTTIME {before}..{after} ns, /proc/uptime {uptime} s"
        );
        let stamps = system_stamps();
        assert!(stamps.monotonic.nanos() >= after);
    }
}
