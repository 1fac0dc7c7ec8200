//! `login.defs(5)` and `/etc/default/useradd`: simple `KEY value` / `KEY=value` files.

use crate::audit::{AuditContext, Source};
use crate::root::TextFile;

/// One setting with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value as written (quotes removed).
    pub value: String,
    /// The file it came from.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// A parsed key/value file. When a key appears twice, the last one wins (as
/// in shadow-utils' `getdef`).
#[derive(Debug, Clone, Default)]
pub struct KeyValues {
    /// The device path, when the file exists.
    pub path: Option<String>,
    entries: Vec<(String, Setting)>,
}

impl KeyValues {
    /// Parses lines of `KEY value` (whitespace) or `KEY=value` (when `equals`).
    pub fn parse(t: &TextFile, equals: bool) -> KeyValues {
        let mut entries = Vec::new();
        for (n, line) in t.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let split = if equals {
                line.split_once('=')
            } else {
                line.split_once(|c: char| c.is_ascii_whitespace())
            };
            let (k, v) = match split {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (line, ""),
            };
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(v);
            entries.push((
                k.to_owned(),
                Setting {
                    value: v.to_owned(),
                    file: t.path.clone(),
                    line: n,
                },
            ));
        }
        KeyValues {
            path: Some(t.path.clone()),
            entries,
        }
    }

    /// The effective value of a key (the last occurrence; keys are case-sensitive).
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s)
    }

    /// The value parsed as a (decimal, or octal with a leading 0 as shadow-utils does) integer.
    pub fn get_i64(&self, key: &str) -> Option<(i64, &Setting)> {
        let s = self.get(key)?;
        parse_number(&s.value).map(|v| (v, s))
    }

    /// True when the file exists.
    pub fn present(&self) -> bool {
        self.path.is_some()
    }
}

/// Parses a number the way shadow-utils' `getdef` does (`strtol` with base 0:
/// `0x` hex, leading `0` octal, otherwise decimal; `-1` allowed).
pub fn parse_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(digits.get(1..)?, 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// `/etc/login.defs`.
#[derive(Debug, Clone, Default)]
pub struct LoginDefs(pub KeyValues);

impl Source for LoginDefs {
    fn load(ctx: &AuditContext<'_>) -> Self {
        LoginDefs(
            ctx.read_text("/etc/login.defs")
                .map(|t| KeyValues::parse(&t, false))
                .unwrap_or_default(),
        )
    }
}

/// `/etc/default/useradd`.
#[derive(Debug, Clone, Default)]
pub struct UseraddDefaults(pub KeyValues);

impl Source for UseraddDefaults {
    fn load(ctx: &AuditContext<'_>) -> Self {
        UseraddDefaults(
            ctx.read_text("/etc/default/useradd")
                .map(|t| KeyValues::parse(&t, true))
                .unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_value_wins_and_numbers_parse() {
        let t = TextFile::from_bytes("/etc/login.defs", b"PASS_MAX_DAYS 99999\nUMASK\t022\n# x\nPASS_MAX_DAYS  60\nENCRYPT_METHOD \"SHA512\"\nLONE\n", false);
        let kv = KeyValues::parse(&t, false);
        let (v, s) = kv.get_i64("PASS_MAX_DAYS").unwrap();
        assert_eq!((v, s.line), (60, 4));
        assert_eq!(kv.get_i64("UMASK").unwrap().0, 0o22);
        assert_eq!(kv.get("ENCRYPT_METHOD").unwrap().value, "SHA512");
        assert_eq!(kv.get("LONE").unwrap().value, "");
        assert_eq!(parse_number("-1"), Some(-1));
        assert_eq!(parse_number("abc"), None);
        let t = TextFile::from_bytes(
            "/etc/default/useradd",
            b"INACTIVE=30\nSHELL=/bin/sh\n",
            false,
        );
        assert_eq!(
            KeyValues::parse(&t, true).get_i64("INACTIVE").unwrap().0,
            30
        );
    }
}
