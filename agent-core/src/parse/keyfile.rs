//! INI-style files in their two Linux dialects: GLib key files (dconf
//! keyfiles, GDM `custom.conf`, LightDM `lightdm.conf`) and systemd unit and
//! configuration files (`logind.conf`, drop-ins).
//!
//! What each dialect accepts, as its reader does:
//! - **GLib key file** (`glib/gkeyfile.c`, "Desktop Entry Specification"
//!   syntax): leading white space is ignored; a line starting with `#` is a
//!   comment (`;` is not); `[name]` starts a group (white space may follow the
//!   `]`, the name may not contain `[` or `]`); `key=value` splits at the first
//!   `=`, white space around the `=` is dropped; a key before the first group,
//!   or any other line, makes GLib reject the **whole file**
//!   (`G_KEY_FILE_ERROR_PARSE`), so such a file is marked not
//!   [`KeyFile::valid`]. A group seen twice is merged and a key seen twice
//!   keeps its last value (`g_key_file_add_key` replaces).
//! - **systemd** (`src/shared/conf-parser.c`, systemd.syntax(7)): lines are
//!   stripped; `#` and `;` start comments; a line ending in `\` continues on
//!   the next one (comment lines inside a continuation are skipped); `[Name]`
//!   starts a section; `Key=Value` splits at the first `=`. systemd warns
//!   about and ignores an assignment outside a section or a line without `=`,
//!   and keeps reading, so such a file stays valid.
//!
//! Values are kept raw (no unquoting or unescaping): each consumer interprets
//! them (dconf as GVariant text, GDM as booleans, systemd per setting).
//! Malformed lines become a [`Diagnostic`] naming file, line and key.

use crate::finding::Diagnostic;
use crate::root::TextFile;

/// Longest logical line assembled from `\` continuations, in bytes
/// (systemd's own `LONG_LINE_MAX` is 1 MiB); a longer one is cut with a
/// diagnostic so a hostile file cannot make one line grow without bound.
pub const MAX_LOGICAL_LINE: usize = 1024 * 1024;

/// Which reader's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// GLib's `GKeyFile` (dconf, GDM, LightDM).
    GKeyFile,
    /// systemd unit and configuration files.
    Systemd,
}

/// One `key=value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key as written (case-sensitive in both dialects).
    pub key: String,
    /// The value, white space around it removed, otherwise raw.
    pub value: String,
    /// The 1-based line where the entry starts.
    pub line: u32,
}

/// One `[group]` (GLib) or `[Section]` (systemd) and its entries in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The name between the brackets.
    pub name: String,
    /// The 1-based line of the header.
    pub line: u32,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

/// A parsed INI-style file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// The device path.
    pub path: String,
    /// The groups in file order (a repeated header gives a second group; the
    /// lookups below treat them as one, as both readers merge them).
    pub groups: Vec<Group>,
    /// False when GLib would refuse to load the file at all (a line that is
    /// neither comment, group nor `key=value`, or a key before any group).
    /// systemd files are always valid: systemd skips bad lines.
    pub valid: bool,
}

impl KeyFile {
    /// The effective entry of `key` in `group`: its last occurrence in any
    /// group of that name (both readers let a later line replace an earlier one).
    pub fn get(&self, group: &str, key: &str) -> Option<&Entry> {
        self.get_all(group, key).last()
    }

    /// Every entry of `key` in `group`, in file order (for settings that
    /// accumulate, such as systemd's `ExecStart=`).
    pub fn get_all<'s, 'q>(
        &'s self,
        group: &'q str,
        key: &'q str,
    ) -> impl Iterator<Item = &'s Entry> + use<'s, 'q> {
        self.groups
            .iter()
            .filter(move |g| g.name == group)
            .flat_map(|g| g.entries.iter())
            .filter(move |e| e.key == key)
    }

    /// Every `(group name, entry)` in file order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.groups
            .iter()
            .flat_map(|g| g.entries.iter().map(move |e| (g.name.as_str(), e)))
    }
}

/// Parses a GLib key file (dconf keyfile, GDM or LightDM configuration).
pub fn parse_keyfile(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> KeyFile {
    parse_ini(t, Syntax::GKeyFile, warn)
}

/// Parses a systemd unit, drop-in or configuration file.
pub fn parse_systemd(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> KeyFile {
    parse_ini(t, Syntax::Systemd, warn)
}

/// Parses an INI-style file with the rules of `syntax` (see the module documentation).
pub fn parse_ini(t: &TextFile, syntax: Syntax, warn: &mut dyn FnMut(Diagnostic)) -> KeyFile {
    let mut kf = KeyFile {
        path: t.path.clone(),
        groups: Vec::new(),
        valid: true,
    };
    let mut diag = |line: u32, field: Option<&str>, message: String| {
        warn(Diagnostic {
            file: t.path.clone(),
            line: Some(line),
            field: field.map(str::to_owned),
            message,
        });
    };
    for (n, line) in logical_lines(t, syntax, &mut diag) {
        let trimmed = match syntax {
            Syntax::GKeyFile => line.trim_start(),
            Syntax::Systemd => line.trim(),
        };
        if trimmed.is_empty() || is_comment(trimmed, syntax) {
            continue;
        }
        if trimmed.starts_with('[') {
            match group_name(trimmed, syntax) {
                Some(name) => kf.groups.push(Group {
                    name: name.to_owned(),
                    line: n,
                    entries: Vec::new(),
                }),
                None => {
                    if syntax == Syntax::GKeyFile {
                        kf.valid = false;
                    }
                    diag(n, None, bad_line_message(syntax, "invalid group header"));
                }
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            if syntax == Syntax::GKeyFile {
                kf.valid = false;
            }
            diag(n, None, bad_line_message(syntax, "not a key=value line"));
            continue;
        };
        let key = key.trim_end();
        if key.is_empty() {
            if syntax == Syntax::GKeyFile {
                kf.valid = false;
            }
            diag(n, None, bad_line_message(syntax, "empty key"));
            continue;
        }
        let value = value.trim();
        let Some(group) = kf.groups.last_mut() else {
            match syntax {
                Syntax::GKeyFile => {
                    kf.valid = false;
                    diag(
                        n,
                        Some(key),
                        "key before the first [group]: GLib rejects the whole file".to_owned(),
                    );
                }
                Syntax::Systemd => diag(
                    n,
                    Some(key),
                    "assignment outside of a [Section]: systemd ignores it".to_owned(),
                ),
            }
            continue;
        };
        group.entries.push(Entry {
            key: key.to_owned(),
            value: value.to_owned(),
            line: n,
        });
    }
    kf
}

fn bad_line_message(syntax: Syntax, what: &str) -> String {
    match syntax {
        Syntax::GKeyFile => format!("{what}: GLib rejects the whole file"),
        Syntax::Systemd => format!("{what}: systemd ignores the line"),
    }
}

fn is_comment(line: &str, syntax: Syntax) -> bool {
    match syntax {
        Syntax::GKeyFile => line.starts_with('#'),
        Syntax::Systemd => line.starts_with('#') || line.starts_with(';'),
    }
}

/// The name of a `[name]` header, or `None` when the header is malformed.
fn group_name(line: &str, syntax: Syntax) -> Option<&str> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find(']')?;
    let name = inner.get(..close)?;
    let rest = inner.get(close.saturating_add(1)..)?;
    // gkeyfile.c g_key_file_line_is_group: only spaces and tabs may follow `]`;
    // systemd strips the line, so nothing may follow.
    let rest_ok = match syntax {
        Syntax::GKeyFile => rest.chars().all(|c| c == ' ' || c == '\t'),
        Syntax::Systemd => rest.is_empty(),
    };
    let name_ok = !name.contains('[') && !name.chars().any(char::is_control);
    (rest_ok && name_ok).then_some(name)
}

/// The file's lines, with systemd's `\` continuations joined (numbered by
/// the line where each logical line starts).
fn logical_lines(
    t: &TextFile,
    syntax: Syntax,
    diag: &mut dyn FnMut(u32, Option<&str>, String),
) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    if syntax == Syntax::GKeyFile {
        for (n, l) in t.lines() {
            out.push((n, l.to_owned()));
        }
        return out;
    }
    let mut pending: Option<(u32, String)> = None;
    for (n, raw) in t.lines() {
        let l = raw.trim();
        if let Some((start, mut acc)) = pending.take() {
            // systemd ≥ 237: comment lines inside a continuation are skipped.
            if is_comment(l, syntax) {
                pending = Some((start, acc));
                continue;
            }
            let (part, more) = continued(l);
            if acc.len().saturating_add(part.len()) > MAX_LOGICAL_LINE {
                diag(
                    start,
                    None,
                    format!("continued line longer than {MAX_LOGICAL_LINE} bytes; cut"),
                );
                out.push((start, acc));
                continue;
            }
            acc.push_str(part);
            if more {
                acc.push(' ');
                pending = Some((start, acc));
            } else {
                out.push((start, acc));
            }
            continue;
        }
        if is_comment(l, syntax) {
            continue;
        }
        let (part, more) = continued(l);
        if more {
            let mut acc = part.to_owned();
            acc.push(' ');
            pending = Some((n, acc));
        } else {
            out.push((n, l.to_owned()));
        }
    }
    if let Some((start, acc)) = pending {
        out.push((start, acc));
    }
    out
}

/// Splits a trailing continuation backslash off a stripped line.
fn continued(l: &str) -> (&str, bool) {
    match l.strip_suffix('\\') {
        Some(p) => (p, true),
        None => (l, false),
    }
}

/// Interprets a GLib boolean the way GDM does (`gdm-settings-utils.c`:
/// `true`/`false` in any case, `1`/`0`); `None` when it is neither.
pub fn gdm_bool(value: &str) -> Option<bool> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("true") || v == "1" {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// Interprets a systemd boolean (`parse_boolean()` in `src/basic/parse-util.c`:
/// `1 yes y true t on` and `0 no n false f off`, case-insensitive).
pub fn systemd_bool(value: &str) -> Option<bool> {
    let v = value.trim();
    const YES: [&str; 6] = ["1", "yes", "y", "true", "t", "on"];
    const NO: [&str; 6] = ["0", "no", "n", "false", "f", "off"];
    if YES.iter().any(|y| v.eq_ignore_ascii_case(y)) {
        Some(true)
    } else if NO.iter().any(|y| v.eq_ignore_ascii_case(y)) {
        Some(false)
    } else {
        None
    }
}

/// A systemd time span (systemd.time(7)) in microseconds: `900`, `15min`,
/// `1h 30min`, `2 h`, `55s500ms`; a bare number is in `default_unit_usec`
/// (1,000,000 for the `…Sec=` settings). `Ok(None)` for `infinity`.
pub fn parse_timespan_usec(s: &str, default_unit_usec: u64) -> Result<Option<u64>, String> {
    let s = s.trim();
    if s == "infinity" {
        return Ok(None);
    }
    if s.is_empty() {
        return Err("empty time span".to_owned());
    }
    // Longest suffixes first so that `ms` is not read as `m` + junk.
    const UNITS: &[(&str, u64)] = &[
        ("usec", 1),
        ("us", 1),
        ("µs", 1),
        ("μs", 1),
        ("msec", 1_000),
        ("ms", 1_000),
        ("seconds", 1_000_000),
        ("second", 1_000_000),
        ("sec", 1_000_000),
        ("s", 1_000_000),
        ("minutes", 60_000_000),
        ("minute", 60_000_000),
        ("min", 60_000_000),
        ("months", 2_629_800_000_000),
        ("month", 2_629_800_000_000),
        ("m", 60_000_000),
        ("hours", 3_600_000_000),
        ("hour", 3_600_000_000),
        ("hr", 3_600_000_000),
        ("h", 3_600_000_000),
        ("days", 86_400_000_000),
        ("day", 86_400_000_000),
        ("d", 86_400_000_000),
        ("weeks", 604_800_000_000),
        ("week", 604_800_000_000),
        ("w", 604_800_000_000),
        ("M", 2_629_800_000_000),
        ("years", 31_557_600_000_000),
        ("year", 31_557_600_000_000),
        ("y", 31_557_600_000_000),
    ];
    let mut rest = s;
    let mut total: u64 = 0;
    let mut parts = 0usize;
    while !rest.is_empty() {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(digits_end);
        if num.is_empty() {
            return Err(format!("{s:?} is not a time span"));
        }
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '.')
            .unwrap_or(after.len());
        let (unit, tail) = after.split_at(unit_end);
        let mult = if unit.is_empty() {
            default_unit_usec
        } else {
            UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, m)| *m)
                .ok_or_else(|| format!("{s:?}: unknown time unit {unit:?}"))?
        };
        total = total
            .checked_add(scaled(num, mult).ok_or_else(|| format!("{s:?} is out of range"))?)
            .ok_or_else(|| format!("{s:?} is out of range"))?;
        parts = parts.saturating_add(1);
        rest = tail;
    }
    if parts == 0 {
        return Err(format!("{s:?} is not a time span"));
    }
    Ok(Some(total))
}

/// `num` (decimal, with an optional fraction) times `mult`, rounded down.
fn scaled(num: &str, mult: u64) -> Option<u64> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = whole.checked_mul(mult)?;
    // Fractional digits: add digit × mult / 10^k, stopping when it no longer matters.
    let mut div: u64 = 1;
    for c in frac.chars() {
        let d = u64::from(c.to_digit(10)?);
        div = match div.checked_mul(10) {
            Some(v) => v,
            None => break,
        };
        value = value.checked_add(d.checked_mul(mult)? / div)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kf(text: &str, syntax: Syntax) -> (KeyFile, Vec<Diagnostic>) {
        let t = TextFile::from_bytes("/etc/x.conf", text.as_bytes(), false);
        let mut w = Vec::new();
        let k = parse_ini(&t, syntax, &mut |d| w.push(d));
        (k, w)
    }

    #[test]
    fn gkeyfile_groups_keys_and_last_value_wins() {
        let (k, w) = kf(
            "# dconf keyfile\n[org/gnome/desktop/session]\nidle-delay = uint32 300\n\n  [org/gnome/desktop/screensaver]  \nlock-enabled=true\n[org/gnome/desktop/session]\nidle-delay=uint32 600\n",
            Syntax::GKeyFile,
        );
        assert!(w.is_empty(), "{w:?}");
        assert!(k.valid);
        let e = k.get("org/gnome/desktop/session", "idle-delay").unwrap();
        assert_eq!((e.value.as_str(), e.line), ("uint32 600", 8));
        assert_eq!(
            k.get("org/gnome/desktop/screensaver", "lock-enabled")
                .unwrap()
                .value,
            "true"
        );
        assert_eq!(k.entries().count(), 3);
    }

    #[test]
    fn gkeyfile_rejects_bad_lines_and_keys_before_a_group() {
        let (k, w) = kf("lonely=1\n[ok]\na=b\n", Syntax::GKeyFile);
        assert!(!k.valid);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(1));
        assert_eq!(w[0].field.as_deref(), Some("lonely"));
        let (k, w) = kf(
            "[daemon]\nthis is junk\n; not a comment here\n",
            Syntax::GKeyFile,
        );
        assert!(!k.valid);
        assert_eq!(w.len(), 2);
        let (k, w) = kf("[bad]x\n[also[bad]\n[]=\n", Syntax::GKeyFile);
        assert!(!k.valid);
        assert_eq!(w.len(), 3, "{w:?}");
    }

    #[test]
    fn systemd_comments_continuations_and_outside_assignments() {
        let (k, w) = kf(
            "Stray=1\n; comment\n[Service]\nExecStart=\nExecStart=-/sbin/agetty \\\n# skipped comment\n  --autologin root \\\n  --noclear %I $TERM\nNoEquals\n",
            Syntax::Systemd,
        );
        assert!(k.valid);
        assert_eq!(w.len(), 2, "{w:?}");
        let all: Vec<_> = k.get_all("Service", "ExecStart").collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].value, "");
        assert_eq!(all[1].line, 5);
        let words: Vec<&str> = all[1].value.split_whitespace().collect();
        assert_eq!(
            words,
            [
                "-/sbin/agetty",
                "--autologin",
                "root",
                "--noclear",
                "%I",
                "$TERM"
            ]
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(gdm_bool("True"), Some(true));
        assert_eq!(gdm_bool("0"), Some(false));
        assert_eq!(gdm_bool("yes"), None);
        assert_eq!(systemd_bool("on"), Some(true));
        assert_eq!(systemd_bool("No"), Some(false));
        assert_eq!(systemd_bool("maybe"), None);
    }

    #[test]
    fn timespans() {
        let s = |v: &str| parse_timespan_usec(v, 1_000_000);
        assert_eq!(s("900"), Ok(Some(900_000_000)));
        assert_eq!(s("15min"), Ok(Some(900_000_000)));
        assert_eq!(s("1h 30min"), Ok(Some(5_400_000_000)));
        assert_eq!(s("2 h"), Ok(Some(7_200_000_000)));
        assert_eq!(s("55s500ms"), Ok(Some(55_500_000)));
        assert_eq!(s("1.5min"), Ok(Some(90_000_000)));
        assert_eq!(s("infinity"), Ok(None));
        assert!(s("").is_err());
        assert!(s("ten").is_err());
        assert!(s("5 fortnights").is_err());
        assert!(s("99999999999999999999y").is_err());
        assert!(s("1..2s").is_err());
    }
}
