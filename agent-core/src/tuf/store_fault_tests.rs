//! Power-loss safety of the trusted-metadata store by fault injection
//! (issue 5): a crash, a torn write, an `EIO` and an `ENOSPC` at every
//! durable step of a refresh that stores two rotated roots (the snapshot
//! key, then the timestamp key), deletes the trusted timestamp and snapshot
//! (TUF 1.0.34 §5.3.11) and stores a new timestamp, snapshot and targets;
//! and at every step of raising an anti-rollback floor. After each, a
//! restart loads a trusted root, every stored role holds bytes that were
//! trusted before or after the refresh (never a partial or an unverified
//! file), and the next refresh reaches the new state.

use super::*;
use crate::fault::{self, Fault, Step};
use crate::tuf::client::Updater;
use crate::tuf::metadata::{Metadata, Root, Snapshot, Targets, Timestamp};
use crate::tuf::repo::{InitOptions, KeyType, Repository};
use crate::tuf::transport::LocalDirTransport;
use crate::{Clock, SystemClock};

const ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// The bytes of each role in a store directory (absent roles left out).
fn stored(dir: &Path) -> BTreeMap<&'static str, Vec<u8>> {
    ROLES
        .iter()
        .filter_map(|r| {
            fs::read(dir.join(format!("{r}.json")))
                .ok()
                .map(|b| (*r, b))
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn updater<'c>(store: &Path, repo: &Repository, clock: &'c dyn Clock) -> Updater<'c> {
    Updater::new(
        store,
        Box::new(LocalDirTransport::new(&repo.metadata_dir()).unwrap()),
        Box::new(LocalDirTransport::new(&repo.targets_dir()).unwrap()),
        crate::tuf::Limits::default(),
        clock,
        None,
    )
    .unwrap()
}

struct Fixture {
    dir: tempfile::TempDir,
    repo: Repository,
    /// The store as it was before the refresh under test.
    base: PathBuf,
    /// Every root version published (1, 2, 3).
    roots: Vec<Vec<u8>>,
    /// The roles trusted before the refresh.
    old: BTreeMap<&'static str, Vec<u8>>,
    /// The roles trusted after it.
    new: BTreeMap<&'static str, Vec<u8>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemClock.now();
    let clock = SystemClock;
    let mut repo =
        Repository::init(&dir.path().join("repo"), &InitOptions::default(), now).unwrap();
    let staged = dir.path().join("a.img");
    fs::write(&staged, b"image a").unwrap();
    repo.add_target(&staged, "a.img", None, None, now).unwrap();
    repo.publish(now).unwrap();
    let base = dir.path().join("base");
    Updater::init(
        &base,
        &fs::read(repo.metadata_dir().join("1.root.json")).unwrap(),
    )
    .unwrap();
    updater(&base, &repo, &clock).refresh().unwrap();
    let old = stored(&base);
    assert_eq!(old.len(), 4);
    // Root 2 rotates the snapshot key, root 3 the timestamp key; targets 2
    // lists a new image.
    repo.keygen("snapshot-2", KeyType::Ed25519).unwrap();
    repo.rotate_key("snapshot", Some("snapshot-1"), "snapshot-2", None, now)
        .unwrap();
    repo.publish(now).unwrap();
    repo.keygen("timestamp-2", KeyType::Ed25519).unwrap();
    repo.rotate_key("timestamp", Some("timestamp-1"), "timestamp-2", None, now)
        .unwrap();
    fs::write(&staged, b"image b").unwrap();
    repo.add_target(&staged, "b.img", None, None, now).unwrap();
    repo.publish(now).unwrap();
    let roots = (1..=3)
        .map(|v| fs::read(repo.metadata_dir().join(format!("{v}.root.json"))).unwrap())
        .collect();
    let scratch = dir.path().join("scratch");
    copy_dir(&base, &scratch);
    updater(&scratch, &repo, &clock).refresh().unwrap();
    let new = stored(&scratch);
    Fixture {
        dir,
        repo,
        base,
        roots,
        old,
        new,
    }
}

/// Whether `bytes` of top-level `role` are signed by the threshold of the
/// keys `root` gives the role.
fn verifies_under(root: &Root, role: &str, bytes: &[u8]) -> bool {
    let r = root.role(role).unwrap();
    let check = |md: Result<(), TufError>| md.is_ok();
    match role {
        "timestamp" => check(
            Metadata::<Timestamp>::from_bytes(role, bytes)
                .and_then(|m| m.verify(role, &root.keys, &r.keyids, r.threshold)),
        ),
        "snapshot" => check(
            Metadata::<Snapshot>::from_bytes(role, bytes)
                .and_then(|m| m.verify(role, &root.keys, &r.keyids, r.threshold)),
        ),
        _ => check(
            Metadata::<Targets>::from_bytes(role, bytes)
                .and_then(|m| m.verify(role, &root.keys, &r.keyids, r.threshold)),
        ),
    }
}

/// What a restart after a fault finds; returns whether an old timestamp
/// that still verifies was left beside a root that rotated the snapshot
/// key (see the test's note).
fn restart_and_check(f: &Fixture, store: &Path, what: &str) -> bool {
    let clock = SystemClock;
    // Opening sweeps the temporaries a crash left; nothing else is there.
    drop(TrustedStore::open(store, u64::MAX).unwrap());
    for e in fs::read_dir(store).unwrap() {
        let name = e.unwrap().file_name();
        let name = name.to_string_lossy();
        assert!(
            !name.starts_with(durable::TEMP_PREFIX),
            "{what}: {name} left"
        );
    }
    // The trusted root is never lost: the updater loads and checks it.
    let mut u = updater(store, &f.repo, &clock);
    let now = stored(store);
    let root_bytes = now.get("root").unwrap_or_else(|| panic!("{what}: no root"));
    let root_version = f
        .roots
        .iter()
        .position(|r| r == root_bytes)
        .unwrap_or_else(|| panic!("{what}: a root never published"));
    let root = Metadata::<Root>::from_bytes("root", root_bytes).unwrap();
    let mut window = false;
    for role in ["timestamp", "snapshot", "targets"] {
        let Some(bytes) = now.get(role) else {
            // Only the deletion of §5.3.11 removes a role.
            assert_ne!(role, "targets", "{what}: targets lost");
            assert!(root_version > 0, "{what}: {role} deleted under root 1");
            continue;
        };
        let is_old = *bytes == f.old[role];
        assert!(
            is_old || *bytes == f.new[role],
            "{what}: {role}: neither old nor new"
        );
        if root_version == 0 {
            // Nothing new is stored before the root that signs it.
            assert!(is_old, "{what}: new {role} under the old root");
        }
        if !verifies_under(&root.signed, role, bytes) {
            // An old role whose keys the stored root rotated: the client
            // ignores it, as §5.3.11 would have deleted it.
            assert!(is_old && root_version > 0, "{what}: {role} does not verify");
        } else if is_old && role == "timestamp" && root_version > 0 {
            window = true;
        }
    }
    // The next refresh reaches the new state.
    u.refresh()
        .unwrap_or_else(|e| panic!("{what}: refresh after restart: {e}"));
    assert_eq!(stored(store), f.new, "{what}");
    window
}

/// The steps of the refresh, counted once without a fault.
fn steps_of_the_refresh(f: &Fixture) -> Vec<Step> {
    let store = f.dir.path().join("count");
    copy_dir(&f.base, &store);
    let clock = SystemClock;
    let mut u = updater(&store, &f.repo, &clock);
    fault::arm(0, Fault::Crash);
    u.refresh().unwrap();
    let steps = fault::disarm().steps;
    assert_eq!(stored(&store), f.new);
    steps
}

/// Runs the refresh on a copy of the old store with `kind` at step `at`.
fn run_with(f: &Fixture, at: usize, kind: Fault, name: &str) -> (PathBuf, TufError) {
    let store = f.dir.path().join(name);
    copy_dir(&f.base, &store);
    let clock = SystemClock;
    let mut u = updater(&store, &f.repo, &clock);
    fault::arm(at, kind);
    let result = u.refresh();
    let outcome = fault::disarm();
    assert!(outcome.fired.is_some(), "fault {at} did not fire");
    let e = result.expect_err("a fault was not reported");
    (store, e)
}

/// A crash between storing a root that rotates the snapshot key and
/// deleting the trusted timestamp (§5.3.11) would leave the old timestamp,
/// which still verifies under the new root (harmful if an attacker had
/// fast-forwarded it: the case §5.3.11 recovers from). The rotation marker
/// written before the root makes the next start finish the deletions: no
/// crash point may leave that window.
#[test]
fn a_crash_at_every_durable_step_of_a_refresh_keeps_a_trusted_state() {
    let f = fixture();
    let steps = steps_of_the_refresh(&f);
    let (mut points, mut windows) = (0, 0);
    for (i, step) in steps.iter().enumerate() {
        let at = i + 1;
        let kinds: &[Fault] = if *step == Step::Write {
            &[Fault::Crash, Fault::TornCrash, Fault::PowerCut]
        } else {
            &[Fault::Crash, Fault::PowerCut]
        };
        for &kind in kinds {
            let (store, e) = run_with(&f, at, kind, &format!("crash-{at}-{kind:?}"));
            let what = format!("{kind:?} at step {at} ({step:?}): {e}");
            assert!(matches!(e, TufError::Io { .. }), "{what}");
            if restart_and_check(&f, &store, &what) {
                windows += 1;
            }
            points += 1;
        }
    }
    eprintln!(
        "trusted-metadata store: {points} crash points ({} durable steps of a refresh, torn writes and lost renames included; {windows} leave an old timestamp beside a rotated snapshot key)",
        steps.len()
    );
    assert_eq!(
        windows, 0,
        "crash points leaving an old timestamp behind a rotation"
    );
    assert!(steps.len() >= 20, "{steps:?}");
}

#[test]
fn an_io_error_or_a_full_disk_at_every_durable_step_of_a_refresh_is_reported() {
    let f = fixture();
    let steps = steps_of_the_refresh(&f);
    let mut points = 0;
    for (errno, text) in [
        (libc::EIO, "Input/output error"),
        (libc::ENOSPC, "No space left on device"),
    ] {
        for (i, step) in steps.iter().enumerate() {
            let at = i + 1;
            let (store, e) = run_with(&f, at, Fault::Errno(errno), &format!("errno-{errno}-{at}"));
            let what = format!("errno {errno} at step {at} ({step:?}): {e}");
            // The error names the store's file (or the store itself, for a
            // directory fsync) and the cause.
            match &e {
                TufError::Io { path, message } => {
                    assert!(Path::new(path).starts_with(&store), "{what}");
                    assert!(message.contains(text), "{what}");
                }
                other => panic!("{what}: not an I/O error: {other:?}"),
            }
            restart_and_check(&f, &store, &what);
            points += 1;
        }
    }
    eprintln!("trusted-metadata store: {points} injected-error points (EIO and ENOSPC)");
}

#[test]
fn a_fault_at_every_durable_step_of_raising_a_floor_keeps_a_floor() {
    let mut points = 0;
    for kind in [
        Fault::Crash,
        Fault::TornCrash,
        Fault::PowerCut,
        Fault::Errno(libc::EIO),
        Fault::Errno(libc::ENOSPC),
    ] {
        for at in 1.. {
            let d = tempfile::tempdir().unwrap();
            let mut floors = TargetFloors::open(d.path()).unwrap();
            floors.raise_floor("os.img", 5).unwrap();
            fault::arm(at, kind);
            let result = floors.raise_floor("os.img", 9);
            if fault::disarm().fired.is_none() {
                result.unwrap();
                assert!(at > 4, "only {} steps", at - 1);
                break;
            }
            let what = format!("{kind:?} at step {at}");
            let e = result.expect_err(&what);
            assert!(e.to_string().contains(FLOORS_FILE), "{what}: {e}");
            // Memory follows the disk only on success.
            assert_eq!(floors.floor("os.img"), Some(5), "{what}");
            // A restart finds the old floor or the new one, never none.
            drop(TrustedStore::open(d.path(), u64::MAX).unwrap());
            let mut again = TargetFloors::open(d.path()).unwrap();
            let floor = again.floor("os.img").unwrap();
            assert!(floor == 5 || floor == 9, "{what}: {floor}");
            again.raise_floor("os.img", 9).unwrap();
            assert_eq!(
                TargetFloors::open(d.path()).unwrap().floor("os.img"),
                Some(9)
            );
            points += 1;
        }
    }
    eprintln!(
        "anti-rollback floors: {points} fault points (crash, torn write, power cut, EIO, ENOSPC)"
    );
}

#[test]
fn the_refresh_is_counted_in_known_steps() {
    // A guard for the counts above: a store write is five steps (create,
    // write, fsync, rename; and the directory fsync of a root or a sync).
    let f = fixture();
    let steps = steps_of_the_refresh(&f);
    let renames = steps.iter().filter(|s| **s == Step::Rename).count();
    let removes = steps.iter().filter(|s| **s == Step::Remove).count();
    // Two roots, timestamp, snapshot, targets, and the rotation marker
    // before each root; timestamp and snapshot deleted at each rotation
    // (the second finds them gone, but the attempt is a step), then the
    // marker.
    assert_eq!((renames, removes), (7, 6), "{steps:?}");
}
