//! `dha.toml`: one document, safe defaults for every value (DESIGN.md "Configuration").
//!
//! Unknown keys are an error that names the key, its line and column, so a
//! typo can never silently turn a check off. The C ABI takes the same document
//! as a string ([`Config::from_toml_str`]).

use crate::catalogue;
use crate::finding::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Errors of loading a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file as given.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The document is not valid TOML or has a wrong or unknown key (the
    /// message names it, with line and column).
    #[error("{file}: {message}")]
    Parse {
        /// The file (or `<string>` for a document given as a string).
        file: String,
        /// The parser's message, naming the key, line and column.
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("{file}: {field}: {message}")]
    Invalid {
        /// The file (or `<string>`).
        file: String,
        /// The dotted key, e.g. `password.min_length`.
        field: String,
        /// Why.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Password policy wanted (ACC-04 to ACC-07).
    pub password: PasswordPolicy,
    /// Lock-out after failed logins (ACC-07).
    pub lockout: LockoutPolicy,
    /// Accounts and shells (ACC-09, ACC-12, ACC-14).
    pub accounts: AccountPolicy,
    /// Session time-outs (SES-01, SES-02).
    pub session: SessionPolicy,
    /// SSH daemon policy (SSH-01).
    pub ssh: SshPolicy,
    /// Bounds on what the audit reads.
    pub limits: Limits,
    /// Per-check settings, keyed by check id (`[checks.ACC-05]`).
    pub checks: BTreeMap<String, CheckSettings>,
}

/// Password policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// Largest allowed `PASS_MAX_DAYS` (and shadow field 5). Default 90.
    pub max_days: u32,
    /// Smallest allowed `PASS_MIN_DAYS`. Default 1.
    pub min_days: u32,
    /// Smallest allowed `PASS_WARN_AGE`. Default 7.
    pub warn_days: u32,
    /// Largest allowed `INACTIVE` in `/etc/default/useradd` (days). Default 30.
    pub inactive_days: u32,
    /// Smallest allowed `minlen`. Default 12.
    pub min_length: u32,
    /// Smallest allowed `minclass`. Default 3.
    pub min_classes: u32,
    /// Smallest allowed pam_pwhistory / pam_unix `remember`. Default 5.
    pub history: u32,
    /// Smallest `rounds=` for SHA-512 (`$6$`) hashes. Default 5000 (glibc's default, SSG's floor).
    pub sha512_min_rounds: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            max_days: 90,
            min_days: 1,
            warn_days: 7,
            inactive_days: 30,
            min_length: 12,
            min_classes: 3,
            history: 5,
            sha512_min_rounds: 5000,
        }
    }
}

/// Lock-out policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutPolicy {
    /// Largest allowed `deny` (failed attempts before lock-out). Default 5.
    pub max_attempts: u32,
    /// Smallest allowed `unlock_time` in seconds (0, "never", is also accepted). Default 900.
    pub min_unlock_time_secs: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_attempts: 5,
            min_unlock_time_secs: 900,
        }
    }
}

/// Account policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountPolicy {
    /// First UID of human users when `/etc/login.defs` has no `UID_MIN`. Default 1000.
    pub uid_min: u32,
    /// Shells that count as "no login" for system accounts.
    pub nologin_shells: Vec<String>,
    /// Login shells the device's policy allows for unlocked accounts (ACC-09).
    /// Empty (the default) allows every shell `/etc/shells` lists; a device
    /// that ships only bash sets `["/bin/bash", "/usr/bin/bash"]`, and any
    /// other listed shell on an unlocked account is then a finding.
    pub allowed_shells: Vec<String>,
    /// System accounts allowed to keep a login shell (besides root). Default: `sync`, `shutdown`, `halt`.
    pub system_accounts_with_shell: Vec<String>,
    /// The loosest acceptable default umask, in octal. Default `027`.
    pub umask: String,
    /// Group allowed to use `su` (pam_wheel `group=`); empty means any group. Default empty.
    pub su_group: String,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            uid_min: 1000,
            nologin_shells: [
                "/usr/sbin/nologin",
                "/sbin/nologin",
                "/bin/false",
                "/usr/bin/false",
            ]
            .map(String::from)
            .to_vec(),
            allowed_shells: Vec::new(),
            system_accounts_with_shell: ["sync", "shutdown", "halt"].map(String::from).to_vec(),
            umask: "027".to_owned(),
            su_group: String::new(),
        }
    }
}

/// Session time-outs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionPolicy {
    /// Longest allowed idle time before a session locks or ends, in seconds. Default 900.
    pub max_idle_secs: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { max_idle_secs: 900 }
    }
}

/// SSH daemon policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshPolicy {
    /// Largest allowed `MaxAuthTries`. Default 4.
    pub max_auth_tries: u32,
    /// Whether `PasswordAuthentication yes` is acceptable. Default false.
    pub allow_password_authentication: bool,
    /// Ciphers considered strong.
    pub ciphers: Vec<String>,
    /// MACs considered strong.
    pub macs: Vec<String>,
    /// Key-exchange algorithms considered strong.
    pub kex: Vec<String>,
}

impl Default for SshPolicy {
    fn default() -> Self {
        SshPolicy {
            max_auth_tries: 4,
            allow_password_authentication: false,
            ciphers: [
                "chacha20-poly1305@openssh.com",
                "aes256-gcm@openssh.com",
                "aes128-gcm@openssh.com",
                "aes256-ctr",
                "aes192-ctr",
                "aes128-ctr",
            ]
            .map(String::from)
            .to_vec(),
            macs: [
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
                "umac-128-etm@openssh.com",
                "hmac-sha2-512",
                "hmac-sha2-256",
            ]
            .map(String::from)
            .to_vec(),
            kex: [
                "sntrup761x25519-sha512@openssh.com",
                "sntrup761x25519-sha512",
                "mlkem768x25519-sha256",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group-exchange-sha256",
                "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp521",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Bounds on what the audit reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest file read, in bytes (the rest is ignored, with a warning). Default 16 MiB.
    pub max_file_bytes: u64,
    /// Deepest nesting of includes (PAM, sudoers, sshd). Default 8.
    pub max_include_depth: u32,
    /// Most files one include directive may pull in. Default 256.
    pub max_included_files: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 16 * 1024 * 1024,
            max_include_depth: 8,
            max_included_files: 256,
        }
    }
}

/// Settings of one check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckSettings {
    /// `false` turns the check off (it is listed as disabled in the report). Default true.
    pub enabled: Option<bool>,
    /// Replaces the severity of every finding of the check.
    pub severity: Option<Severity>,
}

impl Config {
    /// Parses a configuration from a TOML document; `origin` names it in errors.
    pub fn from_toml_named(doc: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(doc).map_err(|e| ConfigError::Parse {
            file: origin.to_owned(),
            message: describe_toml_error(doc, &e),
        })?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Parses a configuration given as a string (named `<string>` in errors).
    pub fn from_toml_str(doc: &str) -> Result<Config, ConfigError> {
        Config::from_toml_named(doc, "<string>")
    }

    /// Reads and parses a configuration file (at most 1 MiB).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        use std::io::Read;
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        let mut bytes = Vec::new();
        f.take(1024 * 1024 + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| ConfigError::Read {
                file: file.clone(),
                source,
            })?;
        if bytes.len() > 1024 * 1024 {
            return Err(ConfigError::Parse {
                file,
                message: "larger than 1 MiB".to_owned(),
            });
        }
        let doc = String::from_utf8(bytes).map_err(|e| ConfigError::Parse {
            file: file.clone(),
            message: format!(
                "not UTF-8 (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Config::from_toml_named(&doc, &file)
    }

    /// The read limits for a [`crate::Root`] audited with this configuration.
    pub fn read_limits(&self) -> crate::root::ReadLimits {
        crate::root::ReadLimits {
            max_file_bytes: self.limits.max_file_bytes,
            ..crate::root::ReadLimits::default()
        }
    }

    /// The settings of a check (defaults when not configured).
    pub fn check(&self, id: &str) -> CheckSettings {
        self.checks.get(id).cloned().unwrap_or_default()
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            file: origin.to_owned(),
            field: field.to_owned(),
            message,
        };
        for id in self.checks.keys() {
            if catalogue::lookup(id).is_none() {
                return Err(invalid(
                    &format!("checks.{id}"),
                    "unknown check id (see `dha checks`)".to_owned(),
                ));
            }
        }
        if self.password.min_days > self.password.max_days {
            return Err(invalid(
                "password.min_days",
                "must not exceed password.max_days".to_owned(),
            ));
        }
        if self.lockout.max_attempts == 0 {
            return Err(invalid(
                "lockout.max_attempts",
                "must be at least 1".to_owned(),
            ));
        }
        if self.session.max_idle_secs == 0 {
            return Err(invalid(
                "session.max_idle_secs",
                "must be at least 1".to_owned(),
            ));
        }
        if parse_octal_umask(&self.accounts.umask).is_none() {
            return Err(invalid(
                "accounts.umask",
                format!("{:?} is not an octal umask", self.accounts.umask),
            ));
        }
        if self.limits.max_file_bytes == 0 {
            return Err(invalid(
                "limits.max_file_bytes",
                "must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Parses an octal umask such as `027` or `0077`.
pub fn parse_octal_umask(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || s.len() > 4 {
        return None;
    }
    u32::from_str_radix(s, 8).ok().filter(|v| *v <= 0o777)
}

/// `line L, column C: message` (1-based, from the error's byte span), on one line.
fn describe_toml_error(doc: &str, e: &toml::de::Error) -> String {
    let msg = one_line(e.message());
    let Some(span) = e.span() else {
        return msg;
    };
    let before = doc.get(..span.start).unwrap_or(doc);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    match key_at(doc, line) {
        Some(key) => format!("line {line}, column {column}: {key}: {msg}"),
        None => format!("line {line}, column {column}: {msg}"),
    }
}

/// The dotted key defined on 1-based `line` (`password.max_days`), from the
/// last `[table]` header above it; `None` when the line defines no key.
fn key_at(doc: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (i, l) in doc.lines().enumerate() {
        let l = l.trim();
        if i + 1 == line {
            if l.starts_with('[') {
                return None;
            }
            let key = l.split_once('=')?.0.trim().trim_matches('"');
            if key.is_empty() {
                return None;
            }
            return Some(if table.is_empty() {
                key.to_owned()
            } else {
                format!("{table}.{key}")
            });
        }
        if let Some(h) = l.strip_prefix('[') {
            table = h
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
        }
    }
    None
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_exactly_the_defaults() {
        let doc = include_str!("../../dha.example.toml");
        assert_eq!(Config::from_toml_str(doc).unwrap(), Config::default());
    }

    #[test]
    fn empty_document_gives_defaults() {
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let e = Config::from_toml_str("[password]\nmax_days = 60\nmin_lenght = 14\n").unwrap_err();
        let m = e.to_string();
        assert!(m.contains("min_lenght"), "{m}");
        assert!(m.contains("line 3"), "{m}");
    }

    #[test]
    fn per_check_settings_and_unknown_ids() {
        let c = Config::from_toml_str(
            "[checks.ACC-05]\nenabled = false\n[checks.SSH-01]\nseverity = \"low\"\n",
        )
        .unwrap();
        assert_eq!(c.check("ACC-05").enabled, Some(false));
        assert_eq!(c.check("SSH-01").severity, Some(Severity::Low));
        let e = Config::from_toml_str("[checks.ACC-99]\nenabled = false\n").unwrap_err();
        assert!(e.to_string().contains("checks.ACC-99"), "{e}");
        let e = Config::from_toml_str("[checks.ACC-01]\nseverity = \"severe\"\n").unwrap_err();
        assert!(e.to_string().contains("severe"), "{e}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let e = Config::from_toml_str("[accounts]\numask = \"999\"\n").unwrap_err();
        assert!(e.to_string().contains("accounts.umask"), "{e}");
        let e = Config::from_toml_str("[password]\nmax_days = -1\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 2, column 12: password.max_days:"),
            "{e}"
        );
    }
}
