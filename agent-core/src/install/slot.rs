//! The `[install]` section of `dha.toml`: the slots an update is written
//! to, where the install journal and the anti-rollback floor live, and the
//! hooks (issue 5, "Slots and install").
//!
//! ```toml
//! [install]
//! journal = "/var/lib/dha/install.journal"
//! floor = "/var/lib/dha/install.floor"
//! boot_tries = 3
//! slots = [
//!     { name = "A", kind = "block", path = "/dev/mmcblk0p2" },
//!     { name = "B", kind = "block", path = "/dev/mmcblk0p3" },
//! ]
//! recovery = { name = "recovery", kind = "block", path = "/dev/mmcblk0p4" }
//! pre_install_hook = "/etc/dha/hooks/pre-install"
//! post_install_hook = "/etc/dha/hooks/post-install"
//! hook_timeout_secs = 300
//! allow_devices = false
//! ```

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What a slot is on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotKind {
    /// A regular file holding a raw image (test rigs, loop-mounted images):
    /// created when missing, written from offset 0, never truncated.
    Image,
    /// A block device or partition: must exist and be a block device; never
    /// created or truncated; the image must fit its size.
    Block,
    /// A directory a tar archive is unpacked into ([`crate::install::archive`]):
    /// created when missing; its content is replaced as a whole.
    Directory,
}

impl SlotKind {
    /// The name used in `dha.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SlotKind::Image => "image",
            SlotKind::Block => "block",
            SlotKind::Directory => "directory",
        }
    }
}

/// One slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotConfig {
    /// The slot's name as the boot loader knows it (`A`, `B`, `recovery`):
    /// the [`crate::boot::SlotId`] of [`crate::boot::BootControl`].
    pub name: String,
    /// What the slot is.
    pub kind: SlotKind,
    /// Its absolute path (image file, block device or directory).
    pub path: PathBuf,
}

/// The `[install]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstallPolicy {
    /// The A/B pair: exactly two slots, or none (the default: installing
    /// is then refused, naming `install.slots`).
    pub slots: Vec<SlotConfig>,
    /// An optional recovery slot, never written by an install. Default none.
    pub recovery: Option<SlotConfig>,
    /// The install journal (absolute path). Default
    /// `/var/lib/dha/install.journal`.
    pub journal: PathBuf,
    /// The anti-rollback floor (absolute path). Default
    /// `/var/lib/dha/install.floor`.
    pub floor: PathBuf,
    /// Tries the boot loader gives a freshly installed slot before it
    /// falls back (`BOOT_x_LEFT`). Default 3.
    pub boot_tries: u32,
    /// An executable run before anything is written; a non-zero exit
    /// vetoes the install. Default none.
    pub pre_install_hook: Option<PathBuf>,
    /// An executable run after the slot is written and read back, before
    /// the boot order is switched; a non-zero exit vetoes the switch.
    /// Default none.
    pub post_install_hook: Option<PathBuf>,
    /// Seconds a hook executable may run; one still running then is killed
    /// and counts as a veto. 1 to 86400; default 300.
    pub hook_timeout_secs: u64,
    /// Whether a tar archive for a directory slot may create device nodes
    /// and FIFOs (a root file system image may need `/dev` entries).
    /// Default false: such an entry refuses the archive.
    pub allow_devices: bool,
}

impl Default for InstallPolicy {
    fn default() -> Self {
        InstallPolicy {
            slots: Vec::new(),
            recovery: None,
            journal: PathBuf::from("/var/lib/dha/install.journal"),
            floor: PathBuf::from("/var/lib/dha/install.floor"),
            boot_tries: 3,
            pre_install_hook: None,
            post_install_hook: None,
            hook_timeout_secs: 300,
            allow_devices: false,
        }
    }
}

/// Longest hook timeout accepted, in seconds (a day).
pub const MAX_HOOK_TIMEOUT_SECS: u64 = 86_400;

/// Most tries a slot may be given (U-Boot scripts count in a byte).
pub const MAX_BOOT_TRIES: u32 = 100;

impl InstallPolicy {
    /// Checks the section; the error is `(dotted key, why)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, why: String| Err((format!("install.{k}"), why));
        if !self.slots.is_empty() && self.slots.len() != 2 {
            return bad(
                "slots",
                format!(
                    "must list exactly two slots (the A/B pair), not {}",
                    self.slots.len()
                ),
            );
        }
        let mut all: Vec<(String, &SlotConfig)> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("slots[{i}]"), s))
            .collect();
        if let Some(r) = &self.recovery {
            all.push(("recovery".to_owned(), r));
        }
        for (i, (key, slot)) in all.iter().enumerate() {
            if slot.name.is_empty()
                || slot.name.len() > 64
                || !slot
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return bad(
                    &format!("{key}.name"),
                    format!(
                        "{:?}: must be 1 to 64 letters, digits, '_' or '-'",
                        slot.name
                    ),
                );
            }
            if !slot.path.is_absolute() {
                return bad(
                    &format!("{key}.path"),
                    format!("{}: must be an absolute path", slot.path.display()),
                );
            }
            for (other_key, other) in all.iter().take(i) {
                if other.name == slot.name {
                    return bad(
                        &format!("{key}.name"),
                        format!("{:?} is also the name of install.{other_key}", slot.name),
                    );
                }
                if other.path == slot.path {
                    return bad(
                        &format!("{key}.path"),
                        format!(
                            "{} is also the path of install.{other_key}",
                            slot.path.display()
                        ),
                    );
                }
            }
        }
        for (key, path) in [("journal", &self.journal), ("floor", &self.floor)] {
            if !path.is_absolute() {
                return bad(key, format!("{}: must be an absolute path", path.display()));
            }
        }
        if self.journal == self.floor {
            return bad("floor", "must differ from install.journal".to_owned());
        }
        if self.floor == self.lock_path() {
            return bad(
                "floor",
                "must differ from the install lock (install.journal + \".lock\")".to_owned(),
            );
        }
        for (key, path) in [
            ("pre_install_hook", &self.pre_install_hook),
            ("post_install_hook", &self.post_install_hook),
        ] {
            if let Some(p) = path {
                if !p.is_absolute() {
                    return bad(key, format!("{}: must be an absolute path", p.display()));
                }
            }
        }
        if self.hook_timeout_secs == 0 || self.hook_timeout_secs > MAX_HOOK_TIMEOUT_SECS {
            return bad(
                "hook_timeout_secs",
                format!(
                    "must be 1 to {MAX_HOOK_TIMEOUT_SECS}, not {}",
                    self.hook_timeout_secs
                ),
            );
        }
        if self.boot_tries == 0 || self.boot_tries > MAX_BOOT_TRIES {
            return bad(
                "boot_tries",
                format!("must be 1 to {MAX_BOOT_TRIES}, not {}", self.boot_tries),
            );
        }
        Ok(())
    }

    /// The install lock file: `install.journal` with `.lock` appended
    /// (`/var/lib/dha/install.journal.lock`).
    pub fn lock_path(&self) -> PathBuf {
        let mut p = self.journal.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// The slot named `name` (A/B pair or recovery).
    pub fn slot(&self, name: &str) -> Option<&SlotConfig> {
        self.slots
            .iter()
            .chain(self.recovery.iter())
            .find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> InstallPolicy {
        InstallPolicy {
            slots: vec![
                SlotConfig {
                    name: "A".into(),
                    kind: SlotKind::Image,
                    path: "/slots/a.img".into(),
                },
                SlotConfig {
                    name: "B".into(),
                    kind: SlotKind::Image,
                    path: "/slots/b.img".into(),
                },
            ],
            ..InstallPolicy::default()
        }
    }

    #[test]
    fn defaults_and_a_pair_are_valid() {
        InstallPolicy::default().validate().unwrap();
        pair().validate().unwrap();
    }

    #[test]
    fn bad_values_name_their_dotted_key() {
        let cases: Vec<(InstallPolicy, &str)> = vec![
            (
                InstallPolicy {
                    slots: pair().slots.into_iter().take(1).collect(),
                    ..pair()
                },
                "install.slots",
            ),
            (
                {
                    let mut p = pair();
                    p.slots[1].name = "A".into();
                    p
                },
                "install.slots[1].name",
            ),
            (
                {
                    let mut p = pair();
                    p.slots[1].path = "/slots/a.img".into();
                    p
                },
                "install.slots[1].path",
            ),
            (
                {
                    let mut p = pair();
                    p.slots[0].path = "a.img".into();
                    p
                },
                "install.slots[0].path",
            ),
            (
                {
                    let mut p = pair();
                    p.slots[0].name = "a/b".into();
                    p
                },
                "install.slots[0].name",
            ),
            (
                {
                    let mut p = pair();
                    p.recovery = Some(SlotConfig {
                        name: "R".into(),
                        kind: SlotKind::Block,
                        path: "/slots/b.img".into(),
                    });
                    p
                },
                "install.recovery.path",
            ),
            (
                InstallPolicy {
                    journal: "journal".into(),
                    ..pair()
                },
                "install.journal",
            ),
            (
                InstallPolicy {
                    floor: "/var/lib/dha/install.journal".into(),
                    ..pair()
                },
                "install.floor",
            ),
            (
                InstallPolicy {
                    pre_install_hook: Some("hook".into()),
                    ..pair()
                },
                "install.pre_install_hook",
            ),
            (
                InstallPolicy {
                    boot_tries: 0,
                    ..pair()
                },
                "install.boot_tries",
            ),
        ];
        for (policy, key) in cases {
            let (field, why) = policy.validate().unwrap_err();
            assert_eq!(field, key, "{why}");
        }
    }

    #[test]
    fn config_section_is_read_and_checked() {
        let c = crate::Config::from_toml_str(
            "[install]\nslots = [\n { name = \"A\", kind = \"image\", path = \"/s/a\" },\n \
             { name = \"B\", kind = \"block\", path = \"/dev/sdb2\" },\n]\n",
        )
        .unwrap();
        assert_eq!(c.install.slots[1].kind, SlotKind::Block);
        let e = crate::Config::from_toml_str(
            "[install]\nslots = [{ name = \"A\", kind = \"image\", path = \"/s/a\" }]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("install.slots"), "{e}");
        let e = crate::Config::from_toml_str(
            "[install]\nslots = [{ name = \"A\", kind = \"disk\", path = \"/s/a\" }]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("disk"), "{e}");
    }
}
