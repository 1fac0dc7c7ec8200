//! The `[boot]` section of dha.toml: which boot-loader environment dha
//! reads and writes, and the health checks run before a boot is marked
//! good.
//!
//! The tries a slot gets when it is armed are not here: they are
//! `install.boot_tries` ([`crate::Config::boot_policy`]), the one setting
//! used by an install's switch, `dha boot switch` and `mark-good`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the boot loader keeps its variables (`boot.backend`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootBackend {
    /// None configured (the default): boot control is refused, naming
    /// `boot.backend`.
    #[default]
    None,
    /// A text file of `KEY=VALUE` lines (`boot.env`), for test rigs.
    File,
    /// The U-Boot environment, through `boot.fw_printenv` and
    /// `boot.fw_setenv`.
    Uboot,
    /// A GRUB environment block (`boot.env`), through `boot.grub_editenv`.
    Grub,
}

impl BootBackend {
    /// The name written in dha.toml.
    pub fn name(self) -> &'static str {
        match self {
            BootBackend::None => "none",
            BootBackend::File => "file",
            BootBackend::Uboot => "uboot",
            BootBackend::Grub => "grub",
        }
    }
}

/// One health-check executable (`boot.health_checks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// The executable (absolute path). It runs with an empty environment
    /// except `PATH`, `DHA_PHASE=health-check` and `DHA_SLOT` (the running
    /// slot); exit 0 is healthy, anything else is not.
    pub path: PathBuf,
    /// Seconds it may run; when they are up it is killed and counts as
    /// unhealthy. Default 30, at most [`MAX_HEALTH_TIMEOUT_SECS`].
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl HealthCheckConfig {
    /// How long it may run.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

fn default_timeout_secs() -> u64 {
    30
}

/// The most health checks `boot.health_checks` may list.
pub const MAX_HEALTH_CHECKS: usize = 32;

/// The longest timeout of one health check (an hour).
pub const MAX_HEALTH_TIMEOUT_SECS: u64 = 3600;

/// The `[boot]` section of dha.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootConfig {
    /// Where the boot loader keeps its variables. Default
    /// [`BootBackend::None`].
    pub backend: BootBackend,
    /// The environment file: the variables of the `file` back end, or the
    /// GRUB environment block (`/boot/grub/grubenv`) of the `grub` one
    /// (absolute path; required by both, refused for the others).
    pub env: Option<PathBuf>,
    /// The `fw_printenv` program of the `uboot` back end (a name looked up
    /// on `PATH`, or an absolute path; its own configuration,
    /// `/etc/fw_env.config`, says where the environment is).
    pub fw_printenv: PathBuf,
    /// The `fw_setenv` program of the `uboot` back end (as `fw_printenv`).
    pub fw_setenv: PathBuf,
    /// The `grub-editenv` program of the `grub` back end (as `fw_printenv`).
    pub grub_editenv: PathBuf,
    /// The executables run, in order, by `dha boot confirm` before the
    /// running slot is marked good. Default none (every boot is healthy).
    pub health_checks: Vec<HealthCheckConfig>,
    /// When a health check fails, also mark the running slot bad, so that
    /// the next boot starts the other slot at once instead of after the
    /// slot's remaining tries (refused, and reported, when no bootable slot
    /// would remain). Default false: the boot counter decides.
    pub mark_bad_on_failure: bool,
}

impl Default for BootConfig {
    fn default() -> Self {
        BootConfig {
            backend: BootBackend::None,
            env: None,
            fw_printenv: PathBuf::from("fw_printenv"),
            fw_setenv: PathBuf::from("fw_setenv"),
            grub_editenv: PathBuf::from("grub-editenv"),
            health_checks: Vec::new(),
            mark_bad_on_failure: false,
        }
    }
}

/// A program named by a bare name (looked up on `PATH`) or an absolute
/// path; a relative path with a `/` would depend on the working directory.
fn program_ok(p: &Path) -> bool {
    p.is_absolute() || (p.components().count() == 1 && !p.as_os_str().is_empty())
}

impl BootConfig {
    /// Checks the section; the error is `(dotted key, why)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, why: String| Err((format!("boot.{k}"), why));
        match (self.backend, &self.env) {
            (BootBackend::File | BootBackend::Grub, None) => {
                return bad(
                    "env",
                    format!(
                        "backend {:?} needs the environment file",
                        self.backend.name()
                    ),
                );
            }
            (BootBackend::File | BootBackend::Grub, Some(p)) if !p.is_absolute() => {
                return bad("env", format!("{}: must be an absolute path", p.display()));
            }
            (BootBackend::None | BootBackend::Uboot, Some(_)) => {
                return bad(
                    "env",
                    format!(
                        "is for the file and grub back ends, not {:?} (uboot uses \
                         fw_printenv's own configuration)",
                        self.backend.name()
                    ),
                );
            }
            _ => {}
        }
        for (k, p) in [
            ("fw_printenv", &self.fw_printenv),
            ("fw_setenv", &self.fw_setenv),
            ("grub_editenv", &self.grub_editenv),
        ] {
            if !program_ok(p) {
                return bad(
                    k,
                    format!(
                        "{}: must be a program name or an absolute path",
                        p.display()
                    ),
                );
            }
        }
        if self.health_checks.len() > MAX_HEALTH_CHECKS {
            return bad(
                "health_checks",
                format!(
                    "{} checks, more than the limit of {MAX_HEALTH_CHECKS}",
                    self.health_checks.len()
                ),
            );
        }
        for (i, c) in self.health_checks.iter().enumerate() {
            if !c.path.is_absolute() {
                return bad(
                    &format!("health_checks[{i}].path"),
                    format!("{}: must be an absolute path", c.path.display()),
                );
            }
            if c.timeout_secs == 0 || c.timeout_secs > MAX_HEALTH_TIMEOUT_SECS {
                return bad(
                    &format!("health_checks[{i}].timeout_secs"),
                    format!(
                        "must be 1 to {MAX_HEALTH_TIMEOUT_SECS}, not {}",
                        c.timeout_secs
                    ),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BootConfig, String> {
        let c: BootConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map_err(|(k, why)| format!("{k}: {why}"))?;
        Ok(c)
    }

    #[test]
    fn defaults_have_no_backend_and_no_checks() {
        let c = parse("").unwrap();
        assert_eq!(c, BootConfig::default());
        assert_eq!(c.backend, BootBackend::None);
        assert!(c.health_checks.is_empty());
    }

    #[test]
    fn a_full_section_parses() {
        let c = parse(
            "backend = \"file\"\nenv = \"/tmp/rig/bootenv\"\nmark_bad_on_failure = true\n\
             health_checks = [ { path = \"/usr/libexec/dha/health\", timeout_secs = 5 },\n\
             { path = \"/bin/true\" } ]\n",
        )
        .unwrap();
        assert_eq!(c.backend, BootBackend::File);
        assert_eq!(c.health_checks.len(), 2);
        assert_eq!(c.health_checks[0].timeout(), Duration::from_secs(5));
        assert_eq!(c.health_checks[1].timeout_secs, 30);
        let c = parse("backend = \"uboot\"\nfw_setenv = \"/usr/sbin/fw_setenv\"\n").unwrap();
        assert_eq!(c.fw_printenv, PathBuf::from("fw_printenv"));
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, key) in [
            ("backend = \"file\"\n", "boot.env"),
            ("backend = \"grub\"\nenv = \"grubenv\"\n", "boot.env"),
            ("backend = \"uboot\"\nenv = \"/x\"\n", "boot.env"),
            ("env = \"/x\"\n", "boot.env"),
            ("fw_printenv = \"bin/fw_printenv\"\n", "boot.fw_printenv"),
            (
                "health_checks = [ { path = \"check\" } ]\n",
                "boot.health_checks[0].path",
            ),
            (
                "health_checks = [ { path = \"/c\", timeout_secs = 0 } ]\n",
                "boot.health_checks[0].timeout_secs",
            ),
            (
                "health_checks = [ { path = \"/c\", timeout_secs = 3601 } ]\n",
                "boot.health_checks[0].timeout_secs",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(&format!("{key}:")), "{text:?}: {e}");
        }
        let many = format!(
            "health_checks = [ {} ]\n",
            vec!["{ path = \"/c\" }"; MAX_HEALTH_CHECKS + 1].join(", ")
        );
        assert!(parse(&many).unwrap_err().contains("limit"));
        assert!(parse("backend = \"lilo\"\n").is_err());
        assert!(parse("health_checks = [ { path = \"/c\", timeout = 1 } ]\n").is_err());
    }
}
