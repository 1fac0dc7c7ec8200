//! `dha.toml`: one document, safe defaults for every value (DESIGN.md "Configuration").
//!
//! Unknown keys are an error that names the key, its line and column, so a
//! typo can never silently turn a check off. The C ABI takes the same document
//! as a string ([`Config::from_toml_str`]).

use crate::catalogue;
use crate::finding::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// The signed-update client (`[update]`, issue 3).
    pub update: UpdatePolicy,
    /// File integrity monitoring (`[integrity]`, issue 4): the baseline, its
    /// key, and the rules. Checked (compiled) when the document is loaded.
    pub integrity: crate::integrity::IntegrityPolicy,
    /// The A/B slots, install journal, anti-rollback floor and hooks
    /// (`[install]`, issue 5).
    pub install: crate::install::InstallPolicy,
    /// The boot loader and the health checks run before a boot is marked
    /// good (`[boot]`, issue 5).
    pub boot: crate::boot::BootConfig,
    /// Where the tamper-evident event log and its key file live
    /// (`[eventlog]`, issue 5).
    pub eventlog: crate::events::EventLogPolicy,
    /// What is done when an event happens: ordered actions per event kind
    /// and severity, with retries (`[recovery]`, issue 5).
    pub recovery: crate::recovery::RecoveryPolicy,
    /// Wanted kernel settings and modules that must not load (`[kernel]`,
    /// KRN-01, KRN-02; issue 6).
    pub kernel: crate::checks::kernel::KernelPolicy,
    /// Boot, integrity, update, logging, backup and encryption expectations
    /// (`[hardening]`, BOOT-01/02, INT-01, UPD-01, LOG-01, BAK-01, ENC-01).
    pub hardening: crate::checks::system::HardeningPolicy,
    /// What the device is expected to run, expose and carry SUID/SGID
    /// (`[allow]`, NET-01, PRC-01, FS-01).
    pub allow: crate::allow::AllowPolicy,
    /// `dha monitor`: interval and storage thresholds (`[monitor]`).
    pub monitor: crate::monitor::MonitorPolicy,
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
    /// Most entries the FS-01 tree walk examines (files, directories,
    /// links); beyond it the walk stops with a warning. Default 2,000,000.
    pub max_walk_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 16 * 1024 * 1024,
            max_include_depth: 8,
            max_included_files: 256,
            max_walk_entries: 2_000_000,
        }
    }
}

/// The signed-update client: the device's hardware id, the TUF download and
/// search limits, and how repositories are reached over HTTPS (issue 3).
/// Used by `dha_updater_new` and `dha update --config`; the command line's
/// options override it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdatePolicy {
    /// This device's hardware id: a target whose `custom.hardware_id` names
    /// other hardware is refused (wrong-software protection, in the spirit
    /// of Uptane). Default none: targets for any hardware are accepted.
    pub hardware_id: Option<String>,
    /// Largest `root.json` accepted, in bytes. Default 512,000.
    pub max_root_bytes: u64,
    /// Largest `timestamp.json`, in bytes. Default 16,384.
    pub max_timestamp_bytes: u64,
    /// Largest `snapshot.json` when the timestamp gives no length, in bytes. Default 2,000,000.
    pub max_snapshot_bytes: u64,
    /// Largest targets or delegated-targets metadata when the snapshot gives
    /// no length, in bytes. Default 5,000,000.
    pub max_targets_bytes: u64,
    /// Most root versions applied in one refresh (TUF 1.0.34 §5.3.3). Default 256.
    pub max_root_rotations: u32,
    /// Most delegated roles visited in one target search (TUF 1.0.34 §5.6.7). Default 32.
    pub max_delegations: u32,
    /// Absolute path of the PEM file of CA certificates trusted for
    /// `https://` repositories: the only roots trusted, never the system's.
    /// Default none (an `https://` repository then needs one from the
    /// command line or `dha_updater_set_ca_bundle`).
    pub ca_bundle: Option<PathBuf>,
    /// Time to set up a connection (TCP and TLS), in seconds. Default 30.
    pub connect_timeout_secs: u64,
    /// Time any single read may wait for data, in seconds. Default 60.
    pub read_timeout_secs: u64,
    /// Time for a whole request, body included, in seconds. Default 3600.
    pub overall_timeout_secs: u64,
    /// Accept plain `http://` repositories. For test rigs only: TUF still
    /// verifies every byte, but what the device fetches is visible on the
    /// network. Default false.
    pub allow_plain_http: bool,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        // One source for the defaults: the client's own.
        let limits = crate::tuf::Limits::default();
        UpdatePolicy {
            hardware_id: None,
            max_root_bytes: limits.max_root_bytes,
            max_timestamp_bytes: limits.max_timestamp_bytes,
            max_snapshot_bytes: limits.max_snapshot_bytes,
            max_targets_bytes: limits.max_targets_bytes,
            max_root_rotations: limits.max_root_rotations,
            max_delegations: limits.max_delegations,
            ca_bundle: None,
            connect_timeout_secs: crate::tuf::https::DEFAULT_CONNECT_TIMEOUT.as_secs(),
            read_timeout_secs: crate::tuf::https::DEFAULT_READ_TIMEOUT.as_secs(),
            overall_timeout_secs: crate::tuf::https::DEFAULT_OVERALL_TIMEOUT.as_secs(),
            allow_plain_http: false,
        }
    }
}

impl UpdatePolicy {
    /// The client's download and search limits.
    pub fn limits(&self) -> crate::tuf::Limits {
        crate::tuf::Limits {
            max_root_bytes: self.max_root_bytes,
            max_timestamp_bytes: self.max_timestamp_bytes,
            max_snapshot_bytes: self.max_snapshot_bytes,
            max_targets_bytes: self.max_targets_bytes,
            max_root_rotations: self.max_root_rotations,
            max_delegations: self.max_delegations,
        }
    }

    /// The transport settings for the repository at `base_url` (`https://`,
    /// or `http://` when [`UpdatePolicy::allow_plain_http`] is set), trusting
    /// `ca_bundle` (which overrides [`UpdatePolicy::ca_bundle`] when given).
    pub fn https_config(
        &self,
        base_url: &str,
        ca_bundle: Option<crate::tuf::https::CaBundle>,
    ) -> crate::tuf::https::HttpsConfig {
        use crate::tuf::https::{CaBundle, HttpsConfig};
        use std::time::Duration;
        let ca_bundle = ca_bundle.or_else(|| self.ca_bundle.clone().map(CaBundle::PemFile));
        let mut config = match ca_bundle {
            Some(bundle) => HttpsConfig::new(base_url, bundle),
            None => HttpsConfig::insecure_http_for_test_rigs(base_url),
        };
        config.connect_timeout = Duration::from_secs(self.connect_timeout_secs);
        config.read_timeout = Duration::from_secs(self.read_timeout_secs);
        config.overall_timeout = Duration::from_secs(self.overall_timeout_secs);
        config.allow_insecure_http = self.allow_plain_http;
        config
    }

    fn validate(&self, invalid: impl Fn(&str, String) -> ConfigError) -> Result<(), ConfigError> {
        let positive = [
            ("max_root_bytes", self.max_root_bytes),
            ("max_timestamp_bytes", self.max_timestamp_bytes),
            ("max_snapshot_bytes", self.max_snapshot_bytes),
            ("max_targets_bytes", self.max_targets_bytes),
            ("max_root_rotations", u64::from(self.max_root_rotations)),
            ("max_delegations", u64::from(self.max_delegations)),
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("read_timeout_secs", self.read_timeout_secs),
            ("overall_timeout_secs", self.overall_timeout_secs),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(invalid(
                &format!("update.{key}"),
                "must be at least 1".to_owned(),
            ));
        }
        // Durations far beyond any use would overflow the time arithmetic
        // of the HTTP client; a day is more than any download needs.
        const DAY: u64 = 24 * 60 * 60;
        let timeouts = [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("read_timeout_secs", self.read_timeout_secs),
            ("overall_timeout_secs", self.overall_timeout_secs),
        ];
        if let Some((key, _)) = timeouts.iter().find(|(_, v)| *v > DAY) {
            return Err(invalid(
                &format!("update.{key}"),
                format!("must be at most {DAY} (one day)"),
            ));
        }
        if let Some(id) = &self.hardware_id {
            if id.is_empty() {
                return Err(invalid(
                    "update.hardware_id",
                    "must not be empty (leave the key out for none)".to_owned(),
                ));
            }
        }
        if let Some(path) = &self.ca_bundle {
            if !path.is_absolute() {
                return Err(invalid(
                    "update.ca_bundle",
                    format!("{}: must be an absolute path", path.display()),
                ));
            }
        }
        Ok(())
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
    /// The boot-counting policy: a slot that is switched to or marked good
    /// gets `install.boot_tries` tries (the one setting for both; `[boot]`
    /// has none).
    pub fn boot_policy(&self) -> crate::boot::BootPolicy {
        crate::boot::BootPolicy {
            max_tries: self.install.boot_tries,
        }
    }

    /// Parses a configuration from a TOML document; `origin` names it in errors.
    pub fn from_toml_named(doc: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(doc).map_err(|e| ConfigError::Parse {
            file: origin.to_owned(),
            message: describe_toml_error(doc, &e),
        })?;
        cfg.validate(origin)?;
        // A bad integrity policy is refused when the file is loaded, with
        // the file, the dotted key and its line named.
        cfg.integrity
            .compile()
            .map_err(|e| integrity_config_error(doc, origin, e))?;
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
        self.update.validate(invalid)?;
        self.install
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
        self.boot
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
        self.eventlog
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
        self.recovery
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
        self.kernel
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
        self.allow
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
        self.monitor
            .validate()
            .map_err(|(field, message)| invalid(&field, message))?;
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

/// A compile error of the `[integrity]` section as a [`ConfigError::Invalid`]
/// naming the dotted key and, when the document holds it, its line and column.
fn integrity_config_error(
    doc: &str,
    origin: &str,
    e: crate::integrity::IntegrityError,
) -> ConfigError {
    let (field, reason) = match e {
        crate::integrity::IntegrityError::Policy { field, reason } => (field, reason),
        other => ("integrity".to_owned(), other.to_string()),
    };
    let message = match locate_key(doc, &field) {
        Some((line, column)) => format!("{reason} (line {line}, column {column})"),
        None => reason,
    };
    ConfigError::Invalid {
        file: origin.to_owned(),
        field,
        message,
    }
}

/// 1-based line and column of the value at the dotted key `field`
/// (`integrity.rules[0].attributes[1]`) in `doc`, or of the deepest part of
/// the key found there; `None` when `doc` does not hold even its first part.
fn locate_key(doc: &str, field: &str) -> Option<(usize, usize)> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(doc).ok()?;
    let mut steps: Vec<Result<&str, usize>> = Vec::new();
    for part in field.split('.') {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            steps.push(Ok(key));
        }
        for index in pieces {
            steps.push(Err(index.trim_end_matches(']').parse().ok()?));
        }
    }
    let mut found: Option<&toml::Spanned<DeValue<'_>>> = None;
    for step in steps {
        let table = match found.map(toml::Spanned::get_ref) {
            None => Some(root.get_ref()),
            Some(DeValue::Table(t)) => Some(t),
            Some(_) => None,
        };
        let next = match step {
            Ok(key) => table.and_then(|t| {
                t.iter()
                    .find(|(k, _)| k.get_ref().as_ref() == key)
                    .map(|(_, v)| v)
            }),
            Err(index) => match found.map(toml::Spanned::get_ref) {
                Some(DeValue::Array(a)) => a.get(index),
                _ => None,
            },
        };
        match next {
            Some(v) => found = Some(v),
            None => break,
        }
    }
    let start = found?.span().start;
    let before = doc.get(..start).unwrap_or(doc);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
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
    fn update_section_sets_the_client() {
        let c = Config::from_toml_str(
            "[update]\nhardware_id = \"mr-scanner-03\"\nmax_delegations = 8\n\
             ca_bundle = \"/etc/dha/ca.pem\"\nread_timeout_secs = 5\nallow_plain_http = true\n",
        )
        .unwrap();
        assert_eq!(c.update.hardware_id.as_deref(), Some("mr-scanner-03"));
        let limits = c.update.limits();
        assert_eq!(limits.max_delegations, 8);
        assert_eq!(
            limits.max_root_bytes,
            crate::tuf::Limits::default().max_root_bytes
        );
        let https = c.update.https_config("https://u.example/m", None);
        assert_eq!(
            https.ca_bundle,
            Some(crate::tuf::https::CaBundle::PemFile(
                "/etc/dha/ca.pem".into()
            ))
        );
        assert_eq!(https.read_timeout, std::time::Duration::from_secs(5));
        assert_eq!(
            https.connect_timeout,
            crate::tuf::https::DEFAULT_CONNECT_TIMEOUT
        );
        assert!(https.allow_insecure_http);
        // A bundle given by the caller overrides the configured one.
        let given = crate::tuf::https::CaBundle::PemFile("/tmp/other.pem".into());
        let https = c
            .update
            .https_config("https://u.example/m", Some(given.clone()));
        assert_eq!(https.ca_bundle, Some(given));
        // The defaults are the client's own.
        assert_eq!(
            UpdatePolicy::default().limits(),
            crate::tuf::Limits::default()
        );
        assert!(!UpdatePolicy::default().allow_plain_http);
    }

    #[test]
    fn bad_update_values_name_their_key() {
        for key in [
            "max_root_bytes",
            "max_timestamp_bytes",
            "max_snapshot_bytes",
            "max_targets_bytes",
            "max_root_rotations",
            "max_delegations",
            "connect_timeout_secs",
            "read_timeout_secs",
            "overall_timeout_secs",
        ] {
            let e = Config::from_toml_str(&format!("[update]\n{key} = 0\n")).unwrap_err();
            assert!(
                matches!(&e, ConfigError::Invalid { field, .. } if *field == format!("update.{key}")),
                "{e}"
            );
            assert!(e.to_string().contains("must be at least 1"), "{e}");
        }
        let e = Config::from_toml_str("[update]\nread_timeout_secs = 86401\n").unwrap_err();
        assert!(e.to_string().contains("update.read_timeout_secs"), "{e}");
        let e = Config::from_toml_str("[update]\nhardware_id = \"\"\n").unwrap_err();
        assert!(e.to_string().contains("update.hardware_id"), "{e}");
        let e = Config::from_toml_str("[update]\nca_bundle = \"ca.pem\"\n").unwrap_err();
        assert!(e.to_string().contains("update.ca_bundle"), "{e}");
        // Wrong types and unknown keys: line, column and dotted key.
        let e = Config::from_toml_str("[update]\n\nmax_delegations = -1\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3, column 19: update.max_delegations:"),
            "{e}"
        );
        let e = Config::from_toml_str("[update]\nhardware_id = 7\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 2, column 15: update.hardware_id:"),
            "{e}"
        );
        let e = Config::from_toml_str("[update]\nallow_insecure_http = true\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 2, column 1: update.allow_insecure_http:"),
            "{e}"
        );
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
