//! Boot control on Linux: [`dha_core::boot::BootControl`] over the U-Boot
//! environment ([`UBootEnv`], `fw_printenv`/`fw_setenv`), the GRUB
//! environment ([`GrubEnv`], `grub-editenv`) and a plain file
//! ([`FileBootControl`], for test rigs).
//!
//! All three keep RAUC's variables (RAUC manual, "Integration – U-Boot"):
//! `BOOT_ORDER` lists the slots in the order the boot loader tries them,
//! separated by spaces, and `BOOT_<slot>_LEFT` the tries each has left.
//! Every write is read back and compared with what was written
//! ([`BootError::Write`] when they differ): a "mark good" that silently did
//! not stick is a known field failure of other tools.

use dha_core::boot::{BootError, BootState, SlotId};
use std::collections::BTreeMap;
use std::path::Path;

mod file;
mod grub;
#[cfg(test)]
mod rig_tests;
mod uboot;

pub use file::FileBootControl;
pub use grub::GrubEnv;
pub use uboot::UBootEnv;

use dha_core::boot::{BootBackend, BootConfig, BootControl};

/// The boot control the `[boot]` section of dha.toml names:
/// [`UBootEnv`] over `boot.fw_printenv` / `boot.fw_setenv`, [`GrubEnv`]
/// over `boot.env` with `boot.grub_editenv`, or [`FileBootControl`] over
/// `boot.env`. The running slot comes from `/proc/cmdline` (`rauc.slot=`,
/// `dha.slot=`) for U-Boot and GRUB, and from the file's `BOOTED=` line for
/// the file back end.
///
/// Refused ([`BootError::Refused`], naming `boot.backend`) when no back end
/// is configured, and when `config` does not validate (a file or grub back
/// end without `boot.env`, say).
pub fn from_config(config: &BootConfig) -> Result<Box<dyn BootControl>, BootError> {
    config
        .validate()
        .map_err(|(key, why)| BootError::Refused(format!("{key}: {why}")))?;
    let env = || {
        config.env.clone().ok_or_else(|| {
            BootError::Refused(format!(
                "boot.env: backend {:?} needs the environment file",
                config.backend.name()
            ))
        })
    };
    Ok(match config.backend {
        BootBackend::None => {
            return Err(BootError::Refused(
                "no boot loader configured: set boot.backend to \"uboot\", \"grub\" or \"file\" \
                 in the [boot] section of dha.toml"
                    .to_owned(),
            ));
        }
        BootBackend::File => Box::new(FileBootControl::new(env()?)),
        BootBackend::Grub => Box::new(GrubEnv::new(env()?).with_tool(&config.grub_editenv)),
        BootBackend::Uboot => Box::new(UBootEnv::new(&config.fw_printenv, &config.fw_setenv)),
    })
}

/// The variable holding the boot order.
pub const BOOT_ORDER: &str = "BOOT_ORDER";

/// The most an environment (file or tool output) may hold: a U-Boot
/// environment is a few KiB to a few hundred KiB; anything larger is not one.
pub const MAX_ENV_BYTES: usize = 1024 * 1024;

/// The most slots a boot order may list (RAUC uses two or three).
pub const MAX_SLOTS: usize = 16;

/// `BOOT_<slot>_LEFT`.
pub fn left_var(slot: &SlotId) -> String {
    format!("BOOT_{slot}_LEFT")
}

/// True for a slot name that can be spelled in a boot-loader variable and a
/// `fw_setenv` script: ASCII letters, digits, `_` and `-`, 1 to 32 bytes.
pub fn valid_slot_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses `KEY=VALUE` lines (the output of `fw_printenv` and of
/// `grub-editenv list`, and the file backend's format) into a
/// [`BootState`]. Blank lines, `#` comments and other variables are
/// ignored. `source_name` names the file or tool in errors.
pub fn parse_env(text: &str, source_name: &str) -> Result<BootState, BootError> {
    let err = |reason: String| BootError::Read {
        source_name: source_name.to_owned(),
        reason,
    };
    if text.len() > MAX_ENV_BYTES {
        return Err(err(format!(
            "{} bytes, more than the limit of {MAX_ENV_BYTES}",
            text.len()
        )));
    }
    let vars = env_lines(text);
    let order_text = vars
        .get(BOOT_ORDER)
        .ok_or_else(|| err(format!("no {BOOT_ORDER} variable")))?;
    let mut order: Vec<SlotId> = Vec::new();
    for name in order_text.split_whitespace() {
        if !valid_slot_name(name) {
            return Err(err(format!(
                "{BOOT_ORDER}: slot name {name:?} is not 1 to 32 letters, digits, '_' or '-'"
            )));
        }
        let slot = SlotId(name.to_owned());
        if order.contains(&slot) {
            return Err(err(format!("{BOOT_ORDER}: slot {name} listed twice")));
        }
        order.push(slot);
    }
    if order.is_empty() {
        return Err(err(format!("{BOOT_ORDER} is empty")));
    }
    if order.len() > MAX_SLOTS {
        return Err(err(format!(
            "{BOOT_ORDER}: {} slots, more than the limit of {MAX_SLOTS}",
            order.len()
        )));
    }
    let mut tries_left = BTreeMap::new();
    for (key, value) in &vars {
        let Some(name) = key
            .strip_prefix("BOOT_")
            .and_then(|k| k.strip_suffix("_LEFT"))
        else {
            continue;
        };
        if !valid_slot_name(name) {
            continue;
        }
        let n: u32 = value
            .trim()
            .parse()
            .map_err(|_| err(format!("{key}={value:?} is not a count of tries")))?;
        tries_left.insert(SlotId(name.to_owned()), n);
    }
    Ok(BootState { order, tries_left })
}

/// The `KEY=VALUE` lines of `text`, last one winning.
fn env_lines(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// The variables that represent `state`: `BOOT_ORDER` first, then each
/// slot's `BOOT_x_LEFT`. Refuses slot names that cannot be written.
pub fn env_vars(state: &BootState, source_name: &str) -> Result<Vec<(String, String)>, BootError> {
    let names = state.order.iter().chain(state.tries_left.keys());
    if let Some(bad) = names.clone().find(|s| !valid_slot_name(&s.0)) {
        return Err(BootError::Refused(format!(
            "{source_name}: slot name {:?} is not 1 to 32 letters, digits, '_' or '-'",
            bad.0
        )));
    }
    let order: Vec<&str> = state.order.iter().map(|s| s.0.as_str()).collect();
    let mut vars = vec![(BOOT_ORDER.to_owned(), order.join(" "))];
    for (slot, n) in &state.tries_left {
        vars.push((left_var(slot), n.to_string()));
    }
    Ok(vars)
}

/// Compares what was read back after a write with what was written: the
/// order must be the same and every written count present and equal (the
/// environment may hold other variables).
pub fn check_read_back(
    written: &BootState,
    read: &BootState,
    source_name: &str,
) -> Result<(), BootError> {
    let err = |reason: String| BootError::Write {
        source_name: source_name.to_owned(),
        reason: format!("read back after writing: {reason}"),
    };
    if read.order != written.order {
        let show = |s: &BootState| {
            s.order
                .iter()
                .map(|s| s.0.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(err(format!(
            "{BOOT_ORDER} is {:?}, wrote {:?}",
            show(read),
            show(written)
        )));
    }
    for (slot, n) in &written.tries_left {
        match read.tries_left.get(slot) {
            Some(m) if m == n => {}
            Some(m) => return Err(err(format!("{} is {m}, wrote {n}", left_var(slot)))),
            None => return Err(err(format!("{} is missing, wrote {n}", left_var(slot)))),
        }
    }
    Ok(())
}

/// The slot named on a kernel command line by `rauc.slot=` or `dha.slot=`
/// (the last one wins, as with kernel parameters).
pub fn booted_from_cmdline(cmdline: &str) -> Option<SlotId> {
    cmdline
        .split_whitespace()
        .filter_map(|w| {
            w.strip_prefix("rauc.slot=")
                .or_else(|| w.strip_prefix("dha.slot="))
        })
        .rfind(|s| valid_slot_name(s))
        .map(|s| SlotId(s.to_owned()))
}

/// Reads the kernel command line at `path` (normally `/proc/cmdline`) and
/// returns the slot it names.
pub fn booted_from_cmdline_file(path: &Path) -> Option<SlotId> {
    let text = std::fs::read_to_string(path).ok()?;
    booted_from_cmdline(&text)
}

/// Runs a boot-loader tool and returns its standard output; an exit status
/// other than 0, or output larger than [`MAX_ENV_BYTES`], is an error that
/// quotes the tool's standard error. `write` picks the error variant.
pub(crate) fn run_tool(
    cmd: &mut std::process::Command,
    tool: &Path,
    write: bool,
) -> Result<String, BootError> {
    let err = |reason: String| {
        let source_name = tool.display().to_string();
        if write {
            BootError::Write {
                source_name,
                reason,
            }
        } else {
            BootError::Read {
                source_name,
                reason,
            }
        }
    };
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| err(format!("cannot run: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first: String = stderr.trim().chars().take(200).collect();
        return Err(err(format!("exited with {}: {first}", out.status)));
    }
    if out.stdout.len() > MAX_ENV_BYTES {
        return Err(err(format!(
            "printed more than the limit of {MAX_ENV_BYTES} bytes"
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| err("printed text that is not UTF-8".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SlotId {
        SlotId(s.to_owned())
    }

    #[test]
    fn parses_rauc_variables_and_ignores_others() {
        let s = parse_env(
            "# c\nbootdelay=3\nBOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n",
            "t",
        )
        .unwrap();
        assert_eq!(s.order, vec![id("B"), id("A")]);
        assert_eq!(s.tries_left.get(&id("A")), Some(&3));
        assert_eq!(s.tries_left.get(&id("B")), Some(&0));
    }

    #[test]
    fn rejects_malformed_environments_naming_the_source() {
        for (text, needle) in [
            ("BOOT_A_LEFT=3\n", "no BOOT_ORDER"),
            ("BOOT_ORDER=\n", "is empty"),
            ("BOOT_ORDER=A A\n", "listed twice"),
            ("BOOT_ORDER=A $(x)\n", "slot name"),
            ("BOOT_ORDER=A\nBOOT_A_LEFT=-1\n", "BOOT_A_LEFT"),
            ("BOOT_ORDER=A\nBOOT_A_LEFT=99999999999\n", "BOOT_A_LEFT"),
        ] {
            let e = parse_env(text, "/x/env").unwrap_err().to_string();
            assert!(e.contains("/x/env") && e.contains(needle), "{text:?}: {e}");
        }
        let many: Vec<String> = (0..17).map(|i| format!("S{i}")).collect();
        let text = format!("BOOT_ORDER={}\n", many.join(" "));
        assert!(
            parse_env(&text, "t")
                .unwrap_err()
                .to_string()
                .contains("limit")
        );
    }

    #[test]
    fn env_vars_round_trip() {
        let s = parse_env("BOOT_ORDER=A B\nBOOT_A_LEFT=1\nBOOT_B_LEFT=3\n", "t").unwrap();
        let text: String = env_vars(&s, "t")
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        assert_eq!(text, "BOOT_ORDER=A B\nBOOT_A_LEFT=1\nBOOT_B_LEFT=3\n");
        assert_eq!(parse_env(&text, "t").unwrap(), s);
        let mut bad = s.clone();
        bad.order.push(id("a b"));
        assert!(matches!(env_vars(&bad, "t"), Err(BootError::Refused(_))));
    }

    #[test]
    fn read_back_differences_are_write_errors() {
        let w = parse_env("BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n", "t").unwrap();
        let same = parse_env("BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nx=1\n", "t").unwrap();
        check_read_back(&w, &same, "t").unwrap();
        for text in [
            "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n",
            "BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n",
            "BOOT_ORDER=A B\nBOOT_A_LEFT=3\n",
        ] {
            let r = parse_env(text, "t").unwrap();
            assert!(matches!(
                check_read_back(&w, &r, "t"),
                Err(BootError::Write { .. })
            ));
        }
    }

    #[test]
    fn the_configured_back_end_is_built_and_none_is_refused_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("bootenv");
        std::fs::write(
            &env,
            "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
        )
        .unwrap();
        let config = BootConfig {
            backend: BootBackend::File,
            env: Some(env.clone()),
            ..BootConfig::default()
        };
        let bc = from_config(&config).unwrap();
        assert_eq!(bc.booted(), Some(id("A")));
        assert_eq!(bc.read().unwrap().order, vec![id("A"), id("B")]);
        let e = from_config(&BootConfig::default()).err().unwrap();
        assert!(
            matches!(e, BootError::Refused(ref r) if r.contains("boot.backend")),
            "{e}"
        );
        let e = from_config(&BootConfig {
            backend: BootBackend::Grub,
            ..BootConfig::default()
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("boot.env"), "{e}");
        // U-Boot: the programs configured are the ones run.
        let bc = from_config(&BootConfig {
            backend: BootBackend::Uboot,
            fw_printenv: dir.path().join("no-fw_printenv"),
            ..BootConfig::default()
        })
        .unwrap();
        let e = bc.read().unwrap_err();
        assert!(e.to_string().contains("no-fw_printenv"), "{e}");
    }

    #[test]
    fn booted_slot_from_the_kernel_command_line() {
        assert_eq!(
            booted_from_cmdline("root=/dev/mmcblk0p2 rauc.slot=B quiet\n"),
            Some(id("B"))
        );
        assert_eq!(booted_from_cmdline("dha.slot=A"), Some(id("A")));
        assert_eq!(booted_from_cmdline("rauc.slot=A dha.slot=B"), Some(id("B")));
        assert_eq!(booted_from_cmdline("quiet rauc.slot="), None);
        assert_eq!(booted_from_cmdline("quiet"), None);
    }
}
