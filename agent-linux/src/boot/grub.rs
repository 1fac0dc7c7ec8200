//! The GRUB environment block through `grub-editenv`.

use super::{booted_from_cmdline_file, check_read_back, env_vars, parse_env, run_tool};
use dha_core::boot::{BootControl, BootError, BootState, SlotId};
use std::path::PathBuf;
use std::process::Command;

/// Boot control over a GRUB environment block (`/boot/grub/grubenv`),
/// which a `grub.cfg` reads with `load_env` to choose the slot (RAUC's GRUB
/// integration uses the same variables).
///
/// Reads with `grub-editenv FILE list`; writes every variable in one
/// `grub-editenv FILE set K=V …` call (grub-editenv rewrites the 1 KiB
/// block in place), then reads back. The running slot is the kernel
/// command line's `rauc.slot=` or `dha.slot=`.
#[derive(Debug, Clone)]
pub struct GrubEnv {
    tool: PathBuf,
    file: PathBuf,
    cmdline: PathBuf,
}

impl GrubEnv {
    /// The environment block `file`, edited with `grub-editenv` from `PATH`.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        GrubEnv {
            tool: PathBuf::from("grub-editenv"),
            file: file.into(),
            cmdline: PathBuf::from("/proc/cmdline"),
        }
    }

    /// Uses this `grub-editenv`.
    pub fn with_tool(mut self, tool: impl Into<PathBuf>) -> Self {
        self.tool = tool.into();
        self
    }

    /// Reads the running slot from this file instead of `/proc/cmdline`.
    pub fn with_cmdline(mut self, path: impl Into<PathBuf>) -> Self {
        self.cmdline = path.into();
        self
    }

    fn source_name(&self) -> String {
        format!("{} ({})", self.file.display(), self.tool.display())
    }
}

impl BootControl for GrubEnv {
    fn read(&self) -> Result<BootState, BootError> {
        let text = run_tool(
            Command::new(&self.tool).arg(&self.file).arg("list"),
            &self.tool,
            false,
        )?;
        parse_env(&text, &self.source_name())
    }

    fn write(&self, state: &BootState) -> Result<(), BootError> {
        let name = self.source_name();
        let mut cmd = Command::new(&self.tool);
        cmd.arg(&self.file).arg("set");
        for (k, v) in env_vars(state, &name)? {
            cmd.arg(format!("{k}={v}"));
        }
        run_tool(&mut cmd, &self.tool, true)?;
        check_read_back(state, &self.read()?, &name)
    }

    fn booted(&self) -> Option<SlotId> {
        booted_from_cmdline_file(&self.cmdline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dha_core::boot::{self, BootPolicy};
    use std::os::unix::fs::PermissionsExt as _;

    fn id(s: &str) -> SlotId {
        SlotId(s.to_owned())
    }

    /// The real grub-editenv (package grub-common), which CI installs.
    fn grub_editenv() -> PathBuf {
        let p = PathBuf::from("/usr/bin/grub-editenv");
        assert!(
            p.exists(),
            "grub-editenv missing: apt-get install grub-common"
        );
        p
    }

    #[test]
    fn real_grub_editenv_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("grubenv");
        let tool = grub_editenv();
        let st = Command::new(&tool)
            .arg(&file)
            .arg("create")
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::write(dir.path().join("cmdline"), "dha.slot=A\n").unwrap();
        let bc = GrubEnv::new(&file)
            .with_tool(&tool)
            .with_cmdline(dir.path().join("cmdline"));
        assert!(
            matches!(bc.read(), Err(BootError::Read { .. })),
            "empty block has no order"
        );
        let init = BootState {
            order: vec![id("A"), id("B")],
            tries_left: [(id("A"), 3), (id("B"), 0)].into_iter().collect(),
        };
        bc.write(&init).unwrap();
        assert_eq!(bc.read().unwrap(), init);
        boot::switch(&bc, BootPolicy::default(), &id("B")).unwrap();
        assert_eq!(bc.read().unwrap().order, vec![id("B"), id("A")]);
        assert_eq!(bc.booted(), Some(id("A")));
        // The block is GRUB's fixed 1 KiB format.
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 1024);
    }

    #[test]
    fn a_grub_editenv_that_ignores_set_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("grubenv");
        let real = grub_editenv();
        let st = Command::new(&real)
            .arg(&file)
            .args(["set", "BOOT_ORDER=A B", "BOOT_A_LEFT=3", "BOOT_B_LEFT=0"])
            .status()
            .unwrap();
        assert!(st.success());
        // A fake that lists with the real tool but drops every `set`.
        let fake = dir.path().join("grub-editenv");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\n[ \"$2\" = list ] && exec '{}' \"$@\"\nexit 0\n",
                real.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bc = GrubEnv::new(&file).with_tool(&fake);
        let e = boot::switch(&bc, BootPolicy::default(), &id("B")).unwrap_err();
        assert!(matches!(e, BootError::Write { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("BOOT_ORDER is \"A B\", wrote \"B A\""),
            "{e}"
        );
    }
}
