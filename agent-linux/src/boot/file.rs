//! The file-backed boot control of test rigs: RAUC's variables as
//! `KEY=VALUE` lines in a small text file.

use super::{BOOT_ORDER, MAX_ENV_BYTES, check_read_back, env_vars, parse_env, valid_slot_name};
use dha_core::boot::{BootControl, BootError, BootState, SlotId};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The line naming the running slot (`BOOTED=A`), which a test rig's
/// simulated boot loader writes.
const BOOTED: &str = "BOOTED";

/// Boot control over a text file:
///
/// ```text
/// BOOT_ORDER=A B
/// BOOT_A_LEFT=3
/// BOOT_B_LEFT=0
/// BOOTED=A
/// ```
///
/// Written with [`dha_core::durable::write_atomic`] (a power cut leaves the
/// old file or the new one), keeping any other lines, and read back after
/// each write. The running slot comes from the constructor
/// ([`FileBootControl::with_booted`]) or else from a `BOOTED=` line.
#[derive(Debug, Clone)]
pub struct FileBootControl {
    path: PathBuf,
    booted: Option<SlotId>,
}

impl FileBootControl {
    /// Boot control over the file at `path` (which must exist to be read).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileBootControl {
            path: path.into(),
            booted: None,
        }
    }

    /// The same, saying which slot is running (a test rig's simulated boot).
    pub fn with_booted(mut self, slot: SlotId) -> Self {
        self.booted = Some(slot);
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn source_name(&self) -> String {
        self.path.display().to_string()
    }

    /// The file's text, bounded by [`MAX_ENV_BYTES`].
    fn read_text(&self) -> Result<String, BootError> {
        let err = |reason: String| BootError::Read {
            source_name: self.source_name(),
            reason,
        };
        let f = std::fs::File::open(&self.path).map_err(|e| err(e.to_string()))?;
        let limit = u64::try_from(MAX_ENV_BYTES)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let mut text = String::new();
        f.take(limit)
            .read_to_string(&mut text)
            .map_err(|e| err(e.to_string()))?;
        if text.len() > MAX_ENV_BYTES {
            return Err(err(format!(
                "larger than the limit of {MAX_ENV_BYTES} bytes"
            )));
        }
        Ok(text)
    }
}

/// True for a line [`BootControl::write`] replaces.
fn is_boot_var(line: &str) -> bool {
    let key = line.split_once('=').map_or("", |(k, _)| k.trim());
    key == BOOT_ORDER || (key.starts_with("BOOT_") && key.ends_with("_LEFT"))
}

impl BootControl for FileBootControl {
    fn read(&self) -> Result<BootState, BootError> {
        parse_env(&self.read_text()?, &self.source_name())
    }

    fn write(&self, state: &BootState) -> Result<(), BootError> {
        let name = self.source_name();
        let vars = env_vars(state, &name)?;
        // Keep what else the file says (BOOTED=, comments); a missing file
        // is created.
        let old = match self.read_text() {
            Ok(t) => t,
            Err(_) if !self.path.exists() => String::new(),
            Err(e) => return Err(e),
        };
        let mut text = String::new();
        for (k, v) in &vars {
            text.push_str(&format!("{k}={v}\n"));
        }
        for line in old.lines().filter(|l| !is_boot_var(l)) {
            text.push_str(line);
            text.push('\n');
        }
        dha_core::durable::write_atomic(&self.path, text.as_bytes(), Some(0o644)).map_err(|e| {
            BootError::Write {
                source_name: name.clone(),
                reason: e.to_string(),
            }
        })?;
        check_read_back(state, &self.read()?, &name)
    }

    fn booted(&self) -> Option<SlotId> {
        if let Some(b) = &self.booted {
            return Some(b.clone());
        }
        let text = self.read_text().ok()?;
        text.lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.trim() == BOOTED)
            .map(|(_, v)| v.trim())
            .rfind(|v| valid_slot_name(v))
            .map(|v| SlotId(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dha_core::boot::{self, BootPolicy};

    fn id(s: &str) -> SlotId {
        SlotId(s.to_owned())
    }

    #[test]
    fn write_keeps_other_lines_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bootenv");
        std::fs::write(
            &path,
            "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
        )
        .unwrap();
        let bc = FileBootControl::new(&path);
        assert_eq!(bc.booted(), Some(id("A")));
        boot::switch(&bc, BootPolicy::default(), &id("B")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOTED=A\n"
        );
        assert_eq!(bc.clone().with_booted(id("B")).booted(), Some(id("B")));
    }

    #[test]
    fn missing_or_malformed_file_is_a_read_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope");
        let e = FileBootControl::new(&path).read().unwrap_err();
        assert!(
            matches!(e, BootError::Read { .. }) && e.to_string().contains("nope"),
            "{e}"
        );
        std::fs::write(&path, "BOOT_ORDER=A\nBOOT_A_LEFT=x\n").unwrap();
        let e = FileBootControl::new(&path).read().unwrap_err();
        assert!(e.to_string().contains("BOOT_A_LEFT"), "{e}");
        std::fs::write(&path, vec![b'#'; MAX_ENV_BYTES + 1]).unwrap();
        let e = FileBootControl::new(&path).read().unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
    }
}
