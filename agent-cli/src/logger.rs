//! A minimal `log` backend: one line per record on standard error.
//!
//! Standard output carries only the report (a table or JSON that a test rig
//! parses), so every log line goes to standard error.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write as _;

/// The level for `-q` / `-v` counts: `-q` silences logging; by default only
/// errors are logged (input problems are already in the report's warnings);
/// each `-v` shows one level more: warnings, information, debugging, tracing.
pub fn level_for(verbose: u8, quiet: bool) -> LevelFilter {
    if quiet {
        return LevelFilter::Off;
    }
    match verbose {
        0 => LevelFilter::Error,
        1 => LevelFilter::Warn,
        2 => LevelFilter::Info,
        3 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

struct StderrLogger {
    level: LevelFilter,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format_record(record.level(), record.target(), &record.args().to_string());
        // Nothing sensible is left to do when standard error itself fails.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// `dha: warning: message`; at debug and trace levels the module is named too.
/// The message is cleaned: it may quote a line of the audited device.
fn format_record(level: Level, target: &str, message: &str) -> String {
    let message = crate::term::clean(message);
    match level {
        Level::Error => format!("dha: error: {message}"),
        Level::Warn => format!("dha: warning: {message}"),
        Level::Info => format!("dha: {message}"),
        Level::Debug | Level::Trace => {
            format!(
                "dha: {}: {target}: {message}",
                level.as_str().to_lowercase()
            )
        }
    }
}

/// Installs the logger (once; a second call changes nothing).
pub fn init(level: LevelFilter) {
    if log::set_boxed_logger(Box::new(StderrLogger { level })).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level_for(0, true), LevelFilter::Off);
        assert_eq!(level_for(3, true), LevelFilter::Off);
        assert_eq!(level_for(0, false), LevelFilter::Error);
        assert_eq!(level_for(1, false), LevelFilter::Warn);
        assert_eq!(level_for(2, false), LevelFilter::Info);
        assert_eq!(level_for(3, false), LevelFilter::Debug);
        assert_eq!(level_for(9, false), LevelFilter::Trace);
    }

    #[test]
    fn records_are_prefixed_and_cleaned() {
        assert_eq!(
            format_record(Level::Warn, "dha_core::audit", "/etc/shadow:3: bad"),
            "dha: warning: /etc/shadow:3: bad"
        );
        assert_eq!(
            format_record(Level::Debug, "dha_core::audit", "running ACC-01"),
            "dha: debug: dha_core::audit: running ACC-01"
        );
        assert_eq!(
            format_record(Level::Error, "x", "name \u{1b}[2J"),
            "dha: error: name \\x1b[2J"
        );
    }
}
