//! The Linux audit daemon's configuration: `auditd.conf` (auditd.conf(5):
//! `keyword = value` lines, `#` comments, keywords in lower case) and the
//! rule files `augenrules` merges (`/etc/audit/rules.d/*.rules`, or the
//! merged `/etc/audit/audit.rules`; auditctl(8) syntax, one rule a line).

use crate::finding::Diagnostic;
use crate::root::TextFile;
use std::collections::BTreeMap;

/// The daemon's configuration.
pub const AUDITD_CONF: &str = "/etc/audit/auditd.conf";

/// The rule drop-ins `augenrules` merges (files ending in `.rules`).
pub const RULES_DIR: &str = "/etc/audit/rules.d";

/// The merged rules auditd loads at start.
pub const AUDIT_RULES: &str = "/etc/audit/audit.rules";

/// auditd.conf: each keyword's last value (auditd keeps the last) and line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditdConf {
    /// The file.
    pub path: String,
    /// keyword (lower case) → (value, line).
    pub values: BTreeMap<String, (String, u32)>,
}

impl AuditdConf {
    /// The value of `keyword` and its line.
    pub fn get(&self, keyword: &str) -> Option<(&str, u32)> {
        self.values.get(keyword).map(|(v, l)| (v.as_str(), *l))
    }
}

/// Parses auditd.conf; a line that is not `keyword = value` is a diagnostic
/// (auditd itself refuses to start on one).
pub fn parse_auditd_conf(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> AuditdConf {
    let mut c = AuditdConf {
        path: t.path.clone(),
        values: BTreeMap::new(),
    };
    for (n, raw) in t.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            warn(Diagnostic {
                file: t.path.clone(),
                line: Some(n),
                field: None,
                message: "not a `keyword = value` line".to_owned(),
            });
            continue;
        };
        c.values
            .insert(k.trim().to_ascii_lowercase(), (v.trim().to_owned(), n));
    }
    c
}

/// The rules of one file that record something: file watches (`-w`) and
/// syscall rules (`-a`, `-A`), as `(line, rule)`. Control lines (`-D`,
/// `-b`, `-f`, `-e`, `--backlog_wait_time`, …) and comments are skipped.
pub fn recording_rules(t: &TextFile) -> Vec<(u32, String)> {
    t.lines()
        .filter_map(|(n, raw)| {
            let line = raw.trim();
            let first = line.split_whitespace().next()?;
            matches!(first, "-w" | "-a" | "-A").then(|| (n, line.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_last_value_wins_and_rules_are_counted() {
        let mut w = Vec::new();
        let t = TextFile::from_bytes(
            AUDITD_CONF,
            b"# c\nmax_log_file = 8\nMax_Log_File_Action=ROTATE\nbroken\nmax_log_file = 16\n",
            false,
        );
        let c = parse_auditd_conf(&t, &mut |d| w.push(d));
        assert_eq!(c.get("max_log_file"), Some(("16", 5)));
        assert_eq!(c.get("max_log_file_action"), Some(("ROTATE", 3)));
        assert_eq!(w.len(), 1);
        let r = TextFile::from_bytes(
            "/etc/audit/rules.d/a.rules",
            b"-D\n-b 8192\n# -w /etc/x\n-w /etc/passwd -p wa -k identity\n-a always,exit -F arch=b64 -S execve\n-e 2\n",
            false,
        );
        assert_eq!(
            recording_rules(&r).iter().map(|x| x.0).collect::<Vec<_>>(),
            [4, 5]
        );
    }
}
