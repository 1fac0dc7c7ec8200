//! The U-Boot environment through `fw_printenv` / `fw_setenv`
//! (libubootenv or U-Boot's own tools), as RAUC uses it.

use super::{booted_from_cmdline_file, check_read_back, env_vars, parse_env, run_tool};
use dha_core::boot::{BootControl, BootError, BootState, SlotId};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// Boot control over the U-Boot environment.
///
/// Reads with `fw_printenv` (every variable, `NAME=VALUE` per line); writes
/// every variable in one `fw_setenv -s SCRIPT` call, so that the tool
/// writes them in one environment update (RAUC does the same, and
/// libubootenv keeps a redundant copy so that a power cut leaves the old
/// environment or the new one), then reads back with `fw_printenv`. The
/// running slot is the kernel command line's `rauc.slot=` or `dha.slot=`.
#[derive(Debug, Clone)]
pub struct UBootEnv {
    printenv: PathBuf,
    setenv: PathBuf,
    cmdline: PathBuf,
}

impl Default for UBootEnv {
    fn default() -> Self {
        UBootEnv::new("fw_printenv", "fw_setenv")
    }
}

impl UBootEnv {
    /// The tools at these paths (or names looked up on `PATH`); the kernel
    /// command line is `/proc/cmdline`.
    pub fn new(printenv: impl Into<PathBuf>, setenv: impl Into<PathBuf>) -> Self {
        UBootEnv {
            printenv: printenv.into(),
            setenv: setenv.into(),
            cmdline: PathBuf::from("/proc/cmdline"),
        }
    }

    /// Reads the running slot from this file instead of `/proc/cmdline`.
    pub fn with_cmdline(mut self, path: impl Into<PathBuf>) -> Self {
        self.cmdline = path.into();
        self
    }
}

impl BootControl for UBootEnv {
    fn read(&self) -> Result<BootState, BootError> {
        let text = run_tool(&mut Command::new(&self.printenv), &self.printenv, false)?;
        parse_env(&text, &self.printenv.display().to_string())
    }

    fn write(&self, state: &BootState) -> Result<(), BootError> {
        let name = self.setenv.display().to_string();
        let werr = |reason: String| BootError::Write {
            source_name: name.clone(),
            reason,
        };
        // The script format of fw_setenv -s: "NAME VALUE" per line.
        let mut script = tempfile::Builder::new()
            .prefix("dha-fw_setenv-")
            .tempfile()
            .map_err(|e| werr(format!("cannot create the script file: {e}")))?;
        for (k, v) in env_vars(state, &name)? {
            writeln!(script, "{k} {v}")
                .map_err(|e| werr(format!("cannot write the script file: {e}")))?;
        }
        script
            .flush()
            .map_err(|e| werr(format!("cannot write the script file: {e}")))?;
        run_tool(
            Command::new(&self.setenv).arg("-s").arg(script.path()),
            &self.setenv,
            true,
        )?;
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
    use std::path::Path;

    fn id(s: &str) -> SlotId {
        SlotId(s.to_owned())
    }

    fn script(path: &Path, body: &str) {
        std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// File-backed fakes of `fw_printenv` and `fw_setenv` (the real tools
    /// need a flash device): the environment is `env` in the temporary
    /// directory, one `NAME=VALUE` a line. `setenv_body` replaces the fake
    /// `fw_setenv` when given.
    fn fakes(dir: &Path, setenv_body: Option<&str>) -> UBootEnv {
        let env = dir.join("env");
        std::fs::write(
            &env,
            "bootdelay=0\nBOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n",
        )
        .unwrap();
        script(
            &dir.join("fw_printenv"),
            &format!("cat '{}'\n", env.display()),
        );
        let set = format!(
            r#"env='{env}'
[ "$1" = "-s" ] || {{ echo "usage: fw_setenv -s SCRIPT" >&2; exit 1; }}
while read -r k v; do
  grep -v "^$k=" "$env" > "$env.new" || true
  echo "$k=$v" >> "$env.new"
  mv "$env.new" "$env"
done < "$2"
"#,
            env = env.display()
        );
        script(&dir.join("fw_setenv"), setenv_body.unwrap_or(&set));
        std::fs::write(
            dir.join("cmdline"),
            "root=/dev/mmcblk0p2 rauc.slot=A quiet\n",
        )
        .unwrap();
        UBootEnv::new(dir.join("fw_printenv"), dir.join("fw_setenv"))
            .with_cmdline(dir.join("cmdline"))
    }

    #[test]
    fn switch_and_mark_good_through_fw_setenv_script() {
        let dir = tempfile::tempdir().unwrap();
        let bc = fakes(dir.path(), None);
        assert_eq!(bc.booted(), Some(id("A")));
        boot::switch(&bc, BootPolicy::default(), &id("B")).unwrap();
        let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
        assert!(env.contains("bootdelay=0\n"), "{env}");
        assert!(
            env.contains("BOOT_ORDER=B A\n") && env.contains("BOOT_B_LEFT=3\n"),
            "{env}"
        );
        boot::mark_bad(&bc, &id("B")).unwrap();
        let s = bc.read().unwrap();
        assert_eq!(s.order, vec![id("A")]);
        assert_eq!(s.tries_left.get(&id("B")), Some(&0));
    }

    #[test]
    fn a_write_that_silently_did_nothing_is_caught_by_the_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let bc = fakes(dir.path(), Some("exit 0\n"));
        let e = boot::mark_good(&bc, BootPolicy::default(), &id("B")).unwrap_err();
        assert!(matches!(e, BootError::Write { .. }), "{e}");
        assert!(e.to_string().contains("BOOT_B_LEFT is 0, wrote 3"), "{e}");
    }

    #[test]
    fn a_failing_tool_is_an_error_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let bc = fakes(
            dir.path(),
            Some("echo 'Cannot access MTD device /dev/mtd1' >&2; exit 1\n"),
        );
        let e = boot::switch(&bc, BootPolicy::default(), &id("B")).unwrap_err();
        assert!(matches!(e, BootError::Write { .. }), "{e}");
        assert!(e.to_string().contains("Cannot access MTD device"), "{e}");
        let missing = UBootEnv::new(dir.path().join("nope"), dir.path().join("nope"));
        assert!(matches!(missing.read(), Err(BootError::Read { .. })));
    }
}
