//! The one helper for durable writes (DESIGN.md "Persistence").
//!
//! Every state file dha keeps (trusted metadata, install state, baselines, the
//! event log, spools) is written through [`write_atomic`]: the new content goes
//! to a temporary file in the same directory, is fsynced, renamed over the old
//! file, and then the directory is fsynced so the rename itself survives a
//! power cut. A reader therefore sees either the complete old file or the
//! complete new one, never a mixture or an empty file.

use crate::fault;
use std::fs;
use std::io;
use std::path::Path;

/// Writes `data` to `path` atomically and durably.
///
/// `mode` (for example `0o600`) is applied to the new file before it becomes
/// visible; `None` keeps the process umask's default. The parent directory
/// must exist. On error the old file, if any, is left untouched.
pub fn write_atomic(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    write_atomic_defer_dir_sync(path, data, mode)?;
    sync_dir(parent_dir(path))
}

/// [`write_atomic`] without its last step, the fsync of the directory: for
/// a caller that writes several files of one directory in a row and then
/// calls [`sync_dir`] once before it reports success.
///
/// The new content is fsynced before the rename, so after a power cut the
/// file holds either its complete old content or its complete new content,
/// never an empty or partial file. Until the directory is synced, the
/// rename itself may be lost: the old file is then found intact. Only a
/// caller for which "the previous version survives a crash" is an
/// acceptable outcome may use this (see `tuf::store` for the trusted
/// metadata store's reasoning).
pub fn write_atomic_defer_dir_sync(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = parent_dir(path);
    // Each durable step goes through the fault-injection seam (free in a
    // normal build: `crate::fault`).
    let prefix = temp_prefix_for(path);
    let tmp = fault::create_temp(tempfile::Builder::new().prefix(&prefix), dir)?;
    let written = match mode {
        Some(mode) => {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(mode))
        }
        None => Ok(()),
    }
    .and_then(|()| fault::write_all(tmp.as_file(), data))
    .and_then(|()| fault::sync_all(tmp.as_file()));
    if let Err(e) = written {
        fault::abandon(tmp);
        return Err(e);
    }
    fault::persist(tmp, path)
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The name prefix of the temporary files [`write_atomic`] creates.
pub const TEMP_PREFIX: &str = ".dha-tmp-";

/// The name prefix of the temporaries [`write_atomic`] creates for `path`:
/// [`TEMP_PREFIX`], then (up to 64 bytes of) the file's name and a dot, so
/// that a component can tell the temporaries of its own file from those of
/// another file in the same directory (`.dha-tmp-events.key.` + random).
pub fn temp_prefix_for(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    format!("{TEMP_PREFIX}{}.", name.get(..end).unwrap_or(""))
}

/// Removes temporary files that a write interrupted by a crash or a kill left
/// in `dir` (they never replaced anything, so they hold nothing trusted).
/// Call it when a component that keeps state in `dir` starts. Returns how
/// many were removed.
pub fn remove_stale_temporaries(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry.file_type()?.is_file()
        {
            fs::remove_file(entry.path())?;
            n += 1;
        }
    }
    Ok(n)
}

/// Fsyncs a directory so that a rename or a new entry in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fault::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state.json");
        write_atomic(&p, b"one", None).unwrap();
        write_atomic(&p, b"two", Some(0o600)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn missing_directory_is_an_error_and_writes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("no/such/dir/state");
        assert!(write_atomic(&p, b"x", None).is_err());
        assert!(!p.exists());
    }
}
