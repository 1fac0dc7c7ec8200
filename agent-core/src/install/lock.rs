//! The install lock: one installer at a time on a device (two `dha install`
//! runs, or the CLI and the console's installer through the C ABI, would
//! otherwise write the same slot and journal at once).
//!
//! The lock is an exclusive `flock(2)` (nix's safe wrapper: std's
//! `File::try_lock` is newer than the workspace's rust-version) on the file
//! [`super::InstallPolicy::lock_path`] (`install.journal` with `.lock`
//! appended), taken by [`super::Installer::open`] without waiting and held
//! until the installer is dropped. The kernel releases it when the holder
//! exits or dies, so a crashed install never leaves a stale lock. The lock
//! file itself is never removed (removing it would let two holders lock
//! two different files of the same name).

use super::InstallError;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A held install lock; dropping it releases the lock.
#[derive(Debug)]
pub(super) struct InstallLock {
    _held: nix::fcntl::Flock<File>,
}

impl InstallLock {
    /// Takes the lock at `path` (creating the file, mode 0600), or says who
    /// holds it: [`InstallError::Locked`] naming the file.
    pub(super) fn acquire(path: &Path) -> Result<InstallLock, InstallError> {
        let shown = path.display().to_string();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|source| InstallError::Io {
                what: "opening the install lock".to_owned(),
                path: shown.clone(),
                source,
            })?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(InstallLock { _held: held }),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(InstallError::Locked { path: shown }),
            Err((_, e)) => Err(InstallError::Io {
                what: "locking".to_owned(),
                path: shown,
                source: std::io::Error::from(e),
            }),
        }
    }
}
