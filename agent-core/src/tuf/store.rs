//! The trusted metadata store and the per-target anti-rollback floors.
//!
//! [`TrustedStore`] keeps, in one directory, the exact bytes last accepted
//! for each role under unversioned names (`root.json`, `timestamp.json`,
//! `snapshot.json`, `targets.json`, and `<percent-encoded name>.json` for a
//! delegated role), as the reference client does (python-tuf
//! `ngclient.Updater._persist_metadata`). They are the client's trusted
//! state at the next start (TUF 1.0.34 §5.2, §5.3.1, §5.4.3, §5.5.3,
//! §5.6.3). Every write replaces a file atomically (content fsynced, then
//! renamed: [`crate::durable`]), so a power cut leaves either the old or the
//! new bytes of a role, never an empty or partial file.
//!
//! ## When the directory is synced
//!
//! [`TrustedStore::store`] (used for `root`, the trust anchor) also fsyncs
//! the directory before returning. [`TrustedStore::store_deferred`] (used
//! for timestamp, snapshot, targets and delegated roles) leaves that to one
//! [`TrustedStore::sync`] at the end of the client's refresh or lookup,
//! which does not return success before it. This does not weaken rollback
//! protection: the rename of a file that has not passed every check never
//! happens (nothing trusted is overwritten by something not verified), and
//! a crash before the directory sync can only lose renames, that is, leave
//! some roles at the version trusted before the interrupted cycle. Every
//! role's file then still holds a version that passed every check when it
//! was written, at least as new as at the start of that cycle, and the next
//! cycle's rollback checks (§5.4.3, §5.5.5) compare against it. The same
//! state follows a crash just before the write with a sync per file.
//!
//! [`TargetFloors`] is the device addition in the spirit of Uptane (issue 3):
//! a release counter per target name, persisted durably, that may never
//! decrease.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::TufError;
use crate::durable;

/// File mode of stored metadata and of the floor file: readable by all,
/// writable by the owner (the metadata is signed and public).
const FILE_MODE: u32 = 0o644;

/// The name of the floor file. It does not end in `.json`, so no role's
/// file name (which always does) can be the same.
pub const FLOORS_FILE: &str = "target-floors";

/// Largest floor file read back (bytes).
const MAX_FLOORS_BYTES: u64 = 4 * 1024 * 1024;

/// Percent-encodes `name` exactly as python's
/// `urllib.parse.quote(name, safe="")`, which python-tuf uses for role file
/// names and URLs: the UTF-8 bytes, with every byte other than ASCII letters,
/// digits and `_.-~` written as `%XX` (upper-case hex). `/` and `%` are
/// always encoded, so an encoded name is one path component and two names
/// never share an encoding.
pub fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The file name under which the store keeps `role`: the percent-encoded
/// name followed by `.json`.
///
/// Refused: a name whose file name would begin with
/// [`durable::TEMP_PREFIX`] (the sweep at open would delete it). The
/// encoding itself never yields `/`, `..` alone, or an empty name.
pub fn role_file_name(role: &str) -> Result<String, TufError> {
    let name = format!("{}.json", percent_encode(role));
    if name.starts_with(durable::TEMP_PREFIX) {
        return Err(TufError::UnsafeName {
            name: role.to_owned(),
            reason: format!(
                "a stored role's file name cannot start with {:?}",
                durable::TEMP_PREFIX
            ),
        });
    }
    Ok(name)
}

fn io_err(path: &Path, e: &io::Error) -> TufError {
    TufError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads `path` whole if it exists and holds at most `cap` bytes.
fn read_capped(path: &Path, cap: u64) -> Result<Option<Vec<u8>>, TufError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, &e)),
    };
    let too_large = || TufError::TooLarge {
        path: path.display().to_string(),
        limit: cap,
    };
    let len = file.metadata().map_err(|e| io_err(path, &e))?.len();
    if len > cap {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| io_err(path, &e))?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > cap {
        return Err(too_large());
    }
    Ok(Some(out))
}

/// The directory of trusted metadata: one file per role, holding the exact
/// bytes that passed every check.
#[derive(Debug, Clone)]
pub struct TrustedStore {
    dir: PathBuf,
    max_file_bytes: u64,
    /// Whether a [`TrustedStore::store_deferred`] rename awaits
    /// [`TrustedStore::sync`] (shared by clones: one directory).
    unsynced: Arc<AtomicBool>,
}

impl TrustedStore {
    /// Opens (creating it if needed) the store in `dir`, and removes the
    /// temporaries of writes a crash interrupted. `max_file_bytes` bounds
    /// what [`TrustedStore::load`] reads and [`TrustedStore::store`] writes;
    /// it must be at least the largest metadata the client accepts (for
    /// example the largest of the [`crate::tuf::Limits`] byte bounds and any
    /// larger length a parent role gives).
    pub fn open(dir: &Path, max_file_bytes: u64) -> Result<Self, TufError> {
        // A directory created here holds no temporaries to sweep.
        let created = match fs::create_dir(dir) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(_) => {
                fs::create_dir_all(dir).map_err(|e| io_err(dir, &e))?;
                true
            }
        };
        if !created {
            durable::remove_stale_temporaries(dir).map_err(|e| io_err(dir, &e))?;
        }
        Ok(TrustedStore {
            dir: dir.to_path_buf(),
            max_file_bytes,
            unsynced: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, role: &str) -> Result<PathBuf, TufError> {
        Ok(self.dir.join(role_file_name(role)?))
    }

    /// The bytes stored for `role`, or `None` if there are none. More than
    /// the store's size bound is an error ([`TufError::TooLarge`]), never a
    /// truncated read.
    pub fn load(&self, role: &str) -> Result<Option<Vec<u8>>, TufError> {
        read_capped(&self.path(role)?, self.max_file_bytes)
    }

    /// Replaces the bytes stored for `role`, atomically and durably.
    ///
    /// The caller stores only bytes that have passed every check for the role
    /// (signatures, threshold, version, expiry, hash and length: TUF 1.0.34
    /// §5.3.8, §5.4.5, §5.5.7, §5.6.6); this module cannot tell. On error
    /// the previous bytes are left in place.
    pub fn store(&self, role: &str, bytes: &[u8]) -> Result<(), TufError> {
        self.store_deferred(role, bytes)?;
        self.sync()
    }

    /// [`TrustedStore::store`] without the directory fsync: the file is
    /// replaced atomically with fsynced content, but the replacement is
    /// durable only once [`TrustedStore::sync`] has returned (see the
    /// module documentation for why this keeps rollback protection). The
    /// same preconditions as [`TrustedStore::store`]; on error the previous
    /// bytes are left in place.
    pub fn store_deferred(&self, role: &str, bytes: &[u8]) -> Result<(), TufError> {
        let path = self.path(role)?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > self.max_file_bytes {
            return Err(TufError::TooLarge {
                path: path.display().to_string(),
                limit: self.max_file_bytes,
            });
        }
        // Marked before the rename, so a failure after it still syncs.
        self.unsynced.store(true, Ordering::SeqCst);
        durable::write_atomic_defer_dir_sync(&path, bytes, Some(FILE_MODE))
            .map_err(|e| io_err(&path, &e))
    }

    /// Makes every replacement since the last sync durable (one fsync of
    /// the directory); nothing to do when there was none.
    pub fn sync(&self) -> Result<(), TufError> {
        if self.unsynced.swap(false, Ordering::SeqCst) {
            if let Err(e) = durable::sync_dir(&self.dir) {
                self.unsynced.store(true, Ordering::SeqCst);
                return Err(io_err(&self.dir, &e));
            }
        }
        Ok(())
    }

    /// Deletes what is stored for `role` (nothing stored is not an error).
    /// Fast-forward attack recovery deletes the trusted timestamp and
    /// snapshot after a rotation of their keys (TUF 1.0.34 §5.3.11).
    pub fn remove(&self, role: &str) -> Result<(), TufError> {
        self.remove_path(&self.path(role)?)
    }
}

impl TrustedStore {
    /// Deletes `path` durably (nothing there is not an error), through the
    /// fault-injection seam (free in a normal build).
    fn remove_path(&self, path: &Path) -> Result<(), TufError> {
        match crate::fault::remove_file(path) {
            Ok(()) => {
                self.unsynced.store(true, Ordering::SeqCst);
                self.sync()
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(path, &e)),
        }
    }

    /// The marker of a root rotation whose §5.3.11 deletions may not have
    /// happened yet. Not a role's file name (those end in `.json`), so no
    /// delegated role can overwrite it.
    pub const ROTATION_MARKER: &'static str = "rotation-pending";

    /// Records, durably, that the root of `root_version` rotates the
    /// timestamp or snapshot keys and that the trusted timestamp and
    /// snapshot must be deleted once it is stored (TUF 1.0.34 §5.3.11).
    /// Written before that root is stored, so a power cut between storing
    /// the root and the deletions cannot leave a possibly fast-forwarded
    /// timestamp behind the new root: [`Self::settle_rotation`] finishes
    /// the deletions on the next start.
    pub fn begin_rotation(&self, root_version: u64) -> Result<(), TufError> {
        let path = self.dir.join(Self::ROTATION_MARKER);
        durable::write_atomic(
            &path,
            format!("{root_version}\n").as_bytes(),
            Some(FILE_MODE),
        )
        .map_err(|e| io_err(&path, &e))
    }

    /// Deletes the trusted timestamp and snapshot (§5.3.11) and then the
    /// marker of [`Self::begin_rotation`].
    pub fn finish_rotation(&self) -> Result<(), TufError> {
        self.remove("timestamp")?;
        self.remove("snapshot")?;
        self.remove_path(&self.dir.join(Self::ROTATION_MARKER))
    }

    /// Settles a rotation a crash interrupted, given the version of the
    /// trusted root now stored: when that root is the one the marker names
    /// (or a later one), the deletions are done now; when it is older (the
    /// crash came before the root was stored), only the marker is removed
    /// (the next refresh rotates again). A marker that cannot be read as a
    /// version is treated as naming version 0 (the deletions are done: it
    /// only costs a download of the timestamp and snapshot).
    pub fn settle_rotation(&self, trusted_root_version: u64) -> Result<(), TufError> {
        let path = self.dir.join(Self::ROTATION_MARKER);
        let Some(bytes) = read_capped(&path, 64)? else {
            return Ok(());
        };
        let named = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if trusted_root_version >= named {
            log::info!(
                "{}: finishing an interrupted root rotation: deleting the trusted timestamp and snapshot (TUF 1.0.34 §5.3.11)",
                self.dir.display()
            );
            return self.finish_rotation();
        }
        self.remove_path(&path)
    }
}

/// On-disk form of the floor file.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FloorsFile {
    /// Format version; 1.
    version: u32,
    /// Target name to the lowest release counter still accepted.
    floors: BTreeMap<String, u64>,
}

/// The per-target anti-rollback floors: for each target name, the lowest
/// release counter the device will still accept. A floor never decreases;
/// it survives restarts in [`FLOORS_FILE`], written with
/// [`crate::durable::write_atomic`].
#[derive(Debug, Clone)]
pub struct TargetFloors {
    path: PathBuf,
    floors: BTreeMap<String, u64>,
}

impl TargetFloors {
    /// Reads the floors kept in `dir` (none yet if the file is missing). A
    /// floor file that cannot be read or parsed is an error, never an empty
    /// set: forgetting floors would allow a rollback.
    pub fn open(dir: &Path) -> Result<Self, TufError> {
        let path = dir.join(FLOORS_FILE);
        let floors = match read_capped(&path, MAX_FLOORS_BYTES)? {
            None => BTreeMap::new(),
            Some(bytes) => {
                let file: FloorsFile =
                    serde_json::from_slice(&bytes).map_err(|e| TufError::Io {
                        path: path.display().to_string(),
                        message: format!("unreadable anti-rollback floors: {e}"),
                    })?;
                if file.version != 1 {
                    return Err(TufError::Io {
                        path: path.display().to_string(),
                        message: format!("unknown floor file version {}", file.version),
                    });
                }
                file.floors
            }
        };
        Ok(TargetFloors { path, floors })
    }

    /// The floor of target `name`, if one was ever set.
    pub fn floor(&self, name: &str) -> Option<u64> {
        self.floors.get(name).copied()
    }

    /// Raises the floor of `name` to `value`, durably, before returning.
    /// The same value again is accepted and writes nothing; a lower one is
    /// [`TufError::FloorRollback`] and changes nothing.
    pub fn raise_floor(&mut self, name: &str, value: u64) -> Result<(), TufError> {
        match self.floor(name) {
            Some(current) if value < current => {
                return Err(TufError::FloorRollback {
                    target: name.to_owned(),
                    floor: current,
                    offered: value,
                });
            }
            Some(current) if value == current => return Ok(()),
            _ => {}
        }
        let mut floors = self.floors.clone();
        floors.insert(name.to_owned(), value);
        let file = FloorsFile { version: 1, floors };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| TufError::Io {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        durable::write_atomic(&self.path, &bytes, Some(FILE_MODE))
            .map_err(|e| io_err(&self.path, &e))?;
        // Memory follows the disk only once the disk holds the new floor.
        self.floors = file.floors;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: u64 = 5_000_000;

    #[derive(serde::Deserialize)]
    struct Vector {
        name: String,
        quoted: String,
    }

    /// Vectors from python's `urllib.parse.quote(name, safe="")`, the call
    /// python-tuf's ngclient makes (tests/data/tuf/store/).
    #[test]
    fn percent_encoding_matches_python_quote() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/tuf/store/quote-vectors.json"
        ));
        let vectors: Vec<Vector> = serde_json::from_str(text).unwrap();
        assert!(vectors.len() >= 20);
        for v in &vectors {
            assert_eq!(percent_encode(&v.name), v.quoted, "{:?}", v.name);
        }
    }

    #[test]
    fn roles_round_trip_under_unversioned_names() {
        let d = tempfile::tempdir().unwrap();
        let s = TrustedStore::open(d.path(), CAP).unwrap();
        assert_eq!(s.load("root").unwrap(), None);
        s.store("root", b"{\"r\":1}").unwrap();
        s.store("timestamp", b"ts").unwrap();
        s.store("a/b", b"delegated").unwrap();
        assert_eq!(s.load("root").unwrap().unwrap(), b"{\"r\":1}");
        assert_eq!(
            fs::read(d.path().join("timestamp.json")).unwrap(),
            b"ts".to_vec()
        );
        assert_eq!(
            fs::read(d.path().join("a%2Fb.json")).unwrap(),
            b"delegated".to_vec()
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(d.path().join("root.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o644);
        s.store("root", b"two").unwrap();
        assert_eq!(s.load("root").unwrap().unwrap(), b"two");
    }

    #[test]
    fn hostile_role_names_stay_in_the_directory_and_do_not_collide() {
        let d = tempfile::tempdir().unwrap();
        let inner = d.path().join("meta");
        let s = TrustedStore::open(&inner, CAP).unwrap();
        let names = [
            "../x",
            "/etc/passwd",
            "a/../../b",
            "a/b",
            "a%2Fb",
            "%",
            "..",
            ".",
            "",
            "caf\u{e9}",
            "cafe\u{301}",
            "\u{65e5}\u{672c}",
            "nul\0",
        ];
        for (i, n) in names.iter().enumerate() {
            s.store(n, format!("{i}").as_bytes()).unwrap();
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(s.load(n).unwrap().unwrap(), format!("{i}").as_bytes());
        }
        // One flat file per name, all inside the store, none outside.
        let files: Vec<_> = fs::read_dir(&inner).unwrap().map(|e| e.unwrap()).collect();
        assert_eq!(files.len(), names.len());
        assert!(files.iter().all(|e| e.file_type().unwrap().is_file()));
        let outside: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(outside.len(), 1);
        assert!(!Path::new("/etc/passwd.json").exists());
    }

    #[test]
    fn deferred_writes_are_read_back_and_synced_once() {
        let d = tempfile::tempdir().unwrap();
        let s = TrustedStore::open(d.path(), CAP).unwrap();
        s.sync().unwrap();
        s.store_deferred("timestamp", b"t1").unwrap();
        s.store_deferred("snapshot", b"s1").unwrap();
        assert!(s.unsynced.load(Ordering::SeqCst));
        assert_eq!(s.load("timestamp").unwrap().unwrap(), b"t1");
        s.sync().unwrap();
        assert!(!s.unsynced.load(Ordering::SeqCst));
        s.sync().unwrap();
        assert!(matches!(
            s.store_deferred(".dha-tmp-x", b"y"),
            Err(TufError::UnsafeName { .. })
        ));
        // Only the two role files, no temporary left.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn remove_deletes_and_tolerates_absence() {
        let d = tempfile::tempdir().unwrap();
        let s = TrustedStore::open(d.path(), CAP).unwrap();
        s.store("snapshot", b"s").unwrap();
        s.remove("snapshot").unwrap();
        assert_eq!(s.load("snapshot").unwrap(), None);
        s.remove("snapshot").unwrap();
    }

    #[test]
    fn load_and_store_are_bounded() {
        let d = tempfile::tempdir().unwrap();
        let s = TrustedStore::open(d.path(), 8).unwrap();
        s.store("root", b"12345678").unwrap();
        assert!(matches!(
            s.store("root", b"123456789"),
            Err(TufError::TooLarge { limit: 8, .. })
        ));
        assert_eq!(s.load("root").unwrap().unwrap(), b"12345678");
        fs::write(d.path().join("targets.json"), b"123456789").unwrap();
        assert!(matches!(
            s.load("targets"),
            Err(TufError::TooLarge { limit: 8, .. })
        ));
    }

    #[test]
    fn open_sweeps_stale_temporaries_only() {
        let d = tempfile::tempdir().unwrap();
        let stale = d.path().join(format!("{}abc123", durable::TEMP_PREFIX));
        fs::write(&stale, b"half").unwrap();
        fs::write(d.path().join("root.json"), b"kept").unwrap();
        let s = TrustedStore::open(d.path(), CAP).unwrap();
        assert!(!stale.exists());
        assert_eq!(s.load("root").unwrap().unwrap(), b"kept");
        // A role whose file would look like a temporary is refused.
        assert!(matches!(
            s.store(".dha-tmp-x", b"y"),
            Err(TufError::UnsafeName { .. })
        ));
    }

    #[test]
    fn a_floor_never_goes_down_and_survives_a_reopen() {
        let d = tempfile::tempdir().unwrap();
        let mut f = TargetFloors::open(d.path()).unwrap();
        assert_eq!(f.floor("fw.img"), None);
        f.raise_floor("fw.img", 5).unwrap();
        f.raise_floor("fw.img", 5).unwrap();
        f.raise_floor("other/app.tar", 1).unwrap();
        assert_eq!(
            f.raise_floor("fw.img", 4).unwrap_err(),
            TufError::FloorRollback {
                target: "fw.img".into(),
                floor: 5,
                offered: 4
            }
        );
        assert_eq!(f.floor("fw.img"), Some(5));
        drop(f);
        let mut f = TargetFloors::open(d.path()).unwrap();
        assert_eq!(f.floor("fw.img"), Some(5));
        assert_eq!(f.floor("other/app.tar"), Some(1));
        assert!(f.raise_floor("fw.img", 0).is_err());
        f.raise_floor("fw.img", 7).unwrap();
        let f = TargetFloors::open(d.path()).unwrap();
        assert_eq!(f.floor("fw.img"), Some(7));
        // The floor file lives beside the store and is not a role file.
        let s = TrustedStore::open(d.path(), CAP).unwrap();
        assert_eq!(s.load("target-floors").unwrap(), None);
        assert_eq!(f.floor("fw.img"), Some(7));
    }

    #[test]
    fn a_corrupt_floor_file_is_an_error_not_an_empty_set() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join(FLOORS_FILE), b"{not json").unwrap();
        assert!(matches!(
            TargetFloors::open(d.path()),
            Err(TufError::Io { .. })
        ));
    }
}

#[cfg(test)]
#[path = "store_fault_tests.rs"]
mod fault_tests;
