//! The result of an integrity check: one [`IntegrityReport`] value, printed
//! as a table for a person ([`IntegrityReport::to_table`]) or as JSON with a
//! `schema_version` for machines ([`IntegrityReport::to_json`]), both from
//! the same value (DESIGN.md "Output").
//!
//! Paths are always shown in full, never cut to fit a column. They are
//! bytes on Linux; both outputs render them with the lossless escape of
//! [`render::escape_bytes`]: valid UTF-8 as it is, a backslash as `\\`, and
//! each byte of an invalid UTF-8 sequence or of a control or bidirectional
//! character as `\xNN` — so a JSON path can be turned back into the exact
//! bytes ([`render::unescape_bytes`]), and a file name cannot write escape
//! sequences to the terminal.

use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use crate::Severity;
use crate::integrity::diff::{Change, ChangeKind};
use crate::integrity::record::FileTime;
use crate::integrity::render;
use crate::report::SeverityCounts;

/// The version of the JSON integrity report. Raised on any incompatible
/// change.
pub const SCHEMA_VERSION: u32 = 1;

/// How the check was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    /// Every file rehashed.
    Full,
    /// Files whose size, mtime, ctime, inode and device are unchanged were
    /// trusted without being read.
    Quick,
    /// Re-checks of the paths the kernel reported changed (watch mode).
    Watch,
}

impl CheckMode {
    /// The mode's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            CheckMode::Full => "full",
            CheckMode::Quick => "quick",
            CheckMode::Watch => "watch",
        }
    }
}

/// The baseline the check compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaselineInfo {
    /// The baseline file (escaped as paths are).
    pub path: String,
    /// When the baseline was made (RFC 3339, UTC).
    pub created: String,
    /// The identifier of the key that sealed it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl BaselineInfo {
    /// The description of the baseline at `path`, made at `created`.
    pub fn new(path: &Path, created: FileTime, key_id: Option<String>) -> Self {
        use std::os::unix::ffi::OsStrExt as _;
        let created = render::file_time(created);
        BaselineInfo {
            path: render::escape_bytes(path.as_os_str().as_bytes()),
            created,
            key_id,
        }
    }
}

/// What the scan did (copied from the scanner's statistics by the caller).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReportStats {
    /// Regular files recorded.
    pub files: u64,
    /// Directories recorded.
    pub directories: u64,
    /// Other objects recorded (symlinks, FIFOs, sockets, devices).
    pub others: u64,
    /// Bytes of content read and hashed.
    pub bytes_hashed: u64,
    /// Regular files whose content was read.
    pub files_hashed: u64,
    /// Regular files trusted in quick mode (not read).
    pub files_trusted_quick: u64,
}

/// A path the scan could not (fully) examine, and why. Not a change: the
/// check still fails on it (exit status 2 in the command line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The full path (JSON: escaped text).
    #[serde(serialize_with = "ser_bytes")]
    pub path: Box<[u8]>,
    /// What went wrong (`permission denied`, `vanished during the scan`).
    pub reason: String,
}

fn ser_bytes<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&render::escape_bytes(b))
}

/// The number of changes of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// Paths added.
    pub added: usize,
    /// Paths removed.
    pub removed: usize,
    /// Paths whose type changed.
    pub type_changed: usize,
    /// Paths modified.
    pub modified: usize,
}

/// The changes counted by kind and by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    /// By kind.
    pub by_kind: KindCounts,
    /// By severity (the governing rule's).
    pub by_severity: SeverityCounts,
}

impl ChangeCounts {
    /// Counts `changes`.
    pub fn of(changes: &[Change]) -> Self {
        let mut c = ChangeCounts::default();
        for ch in changes {
            let k = &mut c.by_kind;
            let slot = match ch.kind {
                ChangeKind::Added => &mut k.added,
                ChangeKind::Removed => &mut k.removed,
                ChangeKind::TypeChanged { .. } => &mut k.type_changed,
                ChangeKind::Modified => &mut k.modified,
            };
            *slot = slot.saturating_add(1);
            let s = &mut c.by_severity;
            let slot = match ch.severity {
                Severity::Info => &mut s.info,
                Severity::Low => &mut s.low,
                Severity::Medium => &mut s.medium,
                Severity::High => &mut s.high,
                Severity::Critical => &mut s.critical,
            };
            *slot = slot.saturating_add(1);
        }
        c
    }
}

/// The report of one integrity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrityReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The baseline compared with.
    pub baseline: BaselineInfo,
    /// How the check was made.
    pub mode: CheckMode,
    /// When the check started (RFC 3339, UTC).
    pub started: String,
    /// When it ended (RFC 3339, UTC).
    pub finished: String,
    /// What the scan did, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<ReportStats>,
    /// The changes, sorted by path.
    pub changes: Vec<Change>,
    /// The paths that could not be examined.
    pub problems: Vec<Problem>,
    /// The changes counted.
    pub counts: ChangeCounts,
}

impl IntegrityReport {
    /// The report of a check that ran from `started` to `finished`; the
    /// counts are computed here.
    pub fn new(
        baseline: BaselineInfo,
        mode: CheckMode,
        started: SystemTime,
        finished: SystemTime,
        stats: Option<ReportStats>,
        changes: Vec<Change>,
        problems: Vec<Problem>,
    ) -> Self {
        let counts = ChangeCounts::of(&changes);
        IntegrityReport {
            schema_version: SCHEMA_VERSION,
            baseline,
            mode,
            started: crate::clock::rfc3339(started),
            finished: crate::clock::rfc3339(finished),
            stats,
            changes,
            problems,
            counts,
        }
    }

    /// True when something changed.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The highest severity among the changes, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.changes.iter().map(|c| c.severity).max()
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        // The report holds only strings, numbers and lists: serialisation
        // cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as a table for a terminal, in the style of the audit
    /// report's (a heading, `label  value` fields, a column header, one line
    /// per change then its attributes indented, a summary). Not coloured;
    /// every path in full; every string escaped, so the table is safe to
    /// print.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = self.write_table(&mut out);
        out
    }

    fn write_table(&self, out: &mut String) -> std::fmt::Result {
        let clean = |s: &str| render::clean_text(s).into_owned();
        writeln!(out, "dha {} integrity report", crate::VERSION)?;
        field(out, "baseline", &clean(&self.baseline.path))?;
        field(out, "created", &clean(&self.baseline.created))?;
        if let Some(k) = &self.baseline.key_id {
            field(out, "key", &clean(k))?;
        }
        field(out, "mode", self.mode.name())?;
        let time = if self.started == self.finished {
            clean(&self.started)
        } else {
            format!("{} to {}", clean(&self.started), clean(&self.finished))
        };
        field(out, "time", &time)?;
        if let Some(s) = &self.stats {
            let mut text = format!(
                "{} files, {} directories, {} others; {} files hashed ({} bytes)",
                s.files, s.directories, s.others, s.files_hashed, s.bytes_hashed
            );
            if self.mode == CheckMode::Quick {
                let _ = write!(text, ", {} trusted unchanged", s.files_trusted_quick);
            }
            field(out, "scanned", &text)?;
        }

        writeln!(out, "\nCHANGES ({})", self.changes.len())?;
        if self.changes.is_empty() {
            writeln!(out, "  No changes.")?;
        } else {
            writeln!(out, "\n{:KIND_W$}{:SEV_W$}PATH", "KIND", "SEVERITY")?;
            for c in &self.changes {
                // The old and new types of a type change follow on a
                // `type: file -> directory` line, as every attribute does.
                writeln!(
                    out,
                    "{:KIND_W$}{:SEV_W$}{}",
                    c.kind_name(),
                    c.severity.as_str(),
                    c.path_text()
                )?;
                for a in &c.attrs {
                    let name = match &a.name {
                        Some(n) => format!("{} {}", a.attr, clean(n)),
                        None => a.attr.name().to_owned(),
                    };
                    writeln!(
                        out,
                        "{:indent$}{name}: {} -> {}",
                        "",
                        clean(&a.old),
                        clean(&a.new),
                        indent = KIND_W + SEV_W + 2
                    )?;
                }
            }
        }

        if !self.problems.is_empty() {
            writeln!(out, "\nPROBLEMS ({})", self.problems.len())?;
            for p in &self.problems {
                writeln!(
                    out,
                    "  {}: {}",
                    render::escape_bytes(&p.path),
                    clean(&p.reason)
                )?;
            }
        }

        writeln!(out, "\nSUMMARY")?;
        let k = &self.counts.by_kind;
        field(
            out,
            "changes",
            &format!(
                "{} added, {} removed, {} type changed, {} modified",
                k.added, k.removed, k.type_changed, k.modified
            ),
        )?;
        let sev: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .map(|s| format!("{} {s}", self.counts.by_severity.get(*s)))
            .collect();
        field(out, "severity", &sev.join(", "))?;
        let verdict = match (self.has_changes(), self.problems.is_empty()) {
            (false, true) => "PASS: nothing changed".to_owned(),
            (true, _) => format!(
                "CHANGED: {} path(s) differ from the baseline",
                self.changes.len()
            ),
            (false, false) => format!(
                "INCOMPLETE: {} path(s) could not be examined",
                self.problems.len()
            ),
        };
        field(out, "result", &verdict)
    }
}

/// Width of the kind column (`type_changed` and a space, at least).
const KIND_W: usize = 14;
/// Width of the severity column (`critical` and two spaces).
const SEV_W: usize = 10;
/// Width of the labels of `label  value` fields.
const LABEL_W: usize = 10;

fn field(out: &mut String, label: &str, value: &str) -> std::fmt::Result {
    writeln!(out, "  {label:LABEL_W$}{value}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::attrs::Attr;
    use crate::integrity::diff::AttrChange;
    use crate::integrity::record::EntryType;
    use std::time::{Duration, UNIX_EPOCH};

    fn change(path: &[u8], kind: ChangeKind, severity: Severity, attrs: Vec<AttrChange>) -> Change {
        Change {
            path: path.into(),
            kind,
            severity,
            attrs,
        }
    }

    fn sample() -> IntegrityReport {
        let long = format!(
            "/opt/{}/deep/file.conf",
            "a-very-long-directory-name".repeat(4)
        );
        let changes = vec![
            change(
                b"/etc/\xffodd\x1b[2J",
                ChangeKind::Added,
                Severity::High,
                vec![],
            ),
            change(
                b"/etc/passwd",
                ChangeKind::Modified,
                Severity::Critical,
                vec![
                    AttrChange {
                        attr: Attr::Perm,
                        name: None,
                        old: "0644".into(),
                        new: "0666".into(),
                    },
                    AttrChange {
                        attr: Attr::Xattrs,
                        name: Some("user.note".into()),
                        old: "(absent)".into(),
                        new: "hi".into(),
                    },
                ],
            ),
            change(
                b"/etc/x",
                ChangeKind::TypeChanged {
                    old: EntryType::Regular,
                    new: EntryType::Directory,
                },
                Severity::High,
                vec![AttrChange {
                    attr: Attr::Type,
                    name: None,
                    old: "file".into(),
                    new: "directory".into(),
                }],
            ),
            change(long.as_bytes(), ChangeKind::Removed, Severity::Low, vec![]),
        ];
        IntegrityReport::new(
            BaselineInfo::new(
                Path::new("/var/lib/dha/baseline.dhab"),
                FileTime {
                    secs: 1_700_000_000,
                    nanos: 0,
                },
                Some("ed25519:ab12".into()),
            ),
            CheckMode::Quick,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            UNIX_EPOCH + Duration::from_secs(1_800_000_003),
            Some(ReportStats {
                files: 10,
                directories: 2,
                others: 1,
                bytes_hashed: 4096,
                files_hashed: 3,
                files_trusted_quick: 7,
            }),
            changes,
            vec![Problem {
                path: b"/etc/shadow".as_slice().into(),
                reason: "permission denied".into(),
            }],
        )
    }

    #[test]
    fn json_has_every_field_and_paths_survive() {
        let r = sample();
        let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(j["schema_version"], 1);
        assert_eq!(j["mode"], "quick");
        assert_eq!(j["baseline"]["path"], "/var/lib/dha/baseline.dhab");
        assert_eq!(j["baseline"]["created"], "2023-11-14T22:13:20.000000000Z");
        assert_eq!(j["baseline"]["key_id"], "ed25519:ab12");
        assert_eq!(j["started"], "2027-01-15T08:00:00Z");
        assert_eq!(j["finished"], "2027-01-15T08:00:03Z");
        assert_eq!(j["stats"]["files_trusted_quick"], 7);
        assert_eq!(j["problems"][0]["path"], "/etc/shadow");
        assert_eq!(j["problems"][0]["reason"], "permission denied");
        assert_eq!(j["counts"]["by_kind"]["added"], 1);
        assert_eq!(j["counts"]["by_kind"]["type_changed"], 1);
        assert_eq!(j["counts"]["by_severity"]["high"], 2);
        assert_eq!(j["counts"]["by_severity"]["critical"], 1);
        let c = &j["changes"];
        assert_eq!(c.as_array().unwrap().len(), 4);
        // The non-UTF-8 path, with an escape sequence in it, comes back as
        // the same bytes.
        let odd = c[0]["path"].as_str().unwrap();
        assert_eq!(odd, "/etc/\\xffodd\\x1b[2J");
        assert_eq!(render::unescape_bytes(odd).unwrap(), b"/etc/\xffodd\x1b[2J");
        assert_eq!(c[1]["kind"], "modified");
        assert_eq!(
            c[1]["attrs"][0],
            serde_json::json!({"attr": "perm", "old": "0644", "new": "0666"})
        );
        assert_eq!(c[1]["attrs"][1]["name"], "user.note");
        assert_eq!(c[2]["old_type"], "file");
        assert!(r.has_changes());
        assert_eq!(r.max_severity(), Some(Severity::Critical));
    }

    #[test]
    fn table_shows_full_paths_and_arrow_lines() {
        let r = sample();
        let t = r.to_table();
        assert!(!t.contains('\x1b'), "{t}");
        for want in [
            "  baseline  /var/lib/dha/baseline.dhab",
            "  mode      quick",
            "CHANGES (4)",
            "KIND          SEVERITY  PATH",
            "added         high      /etc/\\xffodd\\x1b[2J",
            "modified      critical  /etc/passwd",
            "                          perm: 0644 -> 0666",
            "                          xattrs user.note: (absent) -> hi",
            "type_changed  high      /etc/x",
            "                          type: file -> directory",
            &format!(
                "removed       low       /opt/{}/deep/file.conf",
                "a-very-long-directory-name".repeat(4)
            ),
            "PROBLEMS (1)",
            "  /etc/shadow: permission denied",
            "  changes   1 added, 1 removed, 1 type changed, 1 modified",
            "  severity  1 critical, 2 high, 0 medium, 1 low, 0 info",
            "  result    CHANGED: 4 path(s) differ from the baseline",
            "7 trusted unchanged",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
    }

    #[test]
    fn an_empty_report_passes() {
        let r = IntegrityReport::new(
            BaselineInfo::new(Path::new("/b"), FileTime::default(), None),
            CheckMode::Full,
            UNIX_EPOCH,
            UNIX_EPOCH,
            None,
            vec![],
            vec![],
        );
        let t = r.to_table();
        assert!(
            t.contains("No changes.") && t.contains("PASS: nothing changed"),
            "{t}"
        );
        let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert!(j.get("stats").is_none() && j["baseline"].get("key_id").is_none());
        assert_eq!(j["changes"], serde_json::json!([]));
        assert!(!r.has_changes());
    }
}
