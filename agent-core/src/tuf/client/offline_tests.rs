//! [`Updater::offline`] and [`Updater::load_from_store`]: a target looked
//! up from the trusted store alone, and every way the stored chain is
//! refused (expired, missing, damaged).

use super::*;
use crate::FixedClock;
use crate::tuf::repo::{InitOptions, Repository};
use crate::tuf::store::role_file_name;
use crate::tuf::transport::LocalDirTransport;
use std::fs;
use std::time::Duration;

/// A repository published at `t0` with one target, and a device store
/// that completed one update cycle against it at `t0`.
struct Setup {
    tmp: tempfile::TempDir,
    t0: SystemTime,
}

const DAY: u64 = 86_400;

impl Setup {
    fn new(refresh: bool) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut repo =
            Repository::init(&tmp.path().join("repo"), &InitOptions::default(), t0).unwrap();
        let src = tmp.path().join("os.img");
        fs::write(&src, b"system image v2").unwrap();
        repo.add_target(
            &src,
            "os.img",
            None,
            Some(serde_json::json!({ "release_counter": 2 })),
            t0,
        )
        .unwrap();
        repo.publish(t0).unwrap();
        let store = tmp.path().join("store");
        Updater::init(
            &store,
            &fs::read(repo.metadata_dir().join("1.root.json")).unwrap(),
        )
        .unwrap();
        let s = Setup { tmp, t0 };
        if refresh {
            let clock = FixedClock(t0);
            let mut u = s.online(&clock);
            u.refresh().unwrap();
        }
        s
    }

    fn store(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    fn online<'c>(&self, clock: &'c FixedClock) -> Updater<'c> {
        let md = self.tmp.path().join("repo/metadata");
        Updater::new(
            &self.store(),
            Box::new(LocalDirTransport::new(&md).unwrap()),
            Box::new(LocalDirTransport::new(&self.tmp.path().join("repo/targets")).unwrap()),
            Limits::default(),
            clock,
            None,
        )
        .unwrap()
    }

    fn at(&self, days: u64) -> FixedClock {
        FixedClock(self.t0 + Duration::from_secs(days * DAY))
    }

    fn lookup_offline(&self, clock: &FixedClock) -> Result<TargetInfo, TufError> {
        Updater::offline(&self.store(), Limits::default(), clock, None)?.get_target_info("os.img")
    }

    fn store_file(&self, role: &str) -> PathBuf {
        self.store().join(role_file_name(role).unwrap())
    }
}

#[test]
fn a_stored_target_is_found_without_network_as_an_update_cycle_finds_it() {
    let s = Setup::new(true);
    let clock = s.at(0);
    let online = s.online(&clock).get_target_info("os.img").unwrap();
    // Half a day later, with the repository gone: the store alone.
    fs::remove_dir_all(s.tmp.path().join("repo")).unwrap();
    let before: Vec<Vec<u8>> = ["root", "timestamp", "snapshot", "targets"]
        .iter()
        .map(|r| fs::read(s.store_file(r)).unwrap())
        .collect();
    let clock = FixedClock(s.t0 + Duration::from_secs(DAY / 2));
    let info = s.lookup_offline(&clock).unwrap();
    assert_eq!(info, online);
    assert_eq!(info.length(), 15);
    assert_eq!(info.release_counter().unwrap(), Some(2));
    // Nothing in the store was rewritten.
    let after: Vec<Vec<u8>> = ["root", "timestamp", "snapshot", "targets"]
        .iter()
        .map(|r| fs::read(s.store_file(r)).unwrap())
        .collect();
    assert_eq!(before, after);
    // An unknown target is not found; a download is refused as offline.
    let mut u = Updater::offline(&s.store(), Limits::default(), &clock, None).unwrap();
    assert!(matches!(
        u.get_target_info("other.img"),
        Err(TufError::TargetNotFound { .. })
    ));
    let dest = s.tmp.path().join("downloads");
    fs::create_dir(&dest).unwrap();
    let e = u.download_target(&info, &dest).unwrap_err();
    assert!(e.to_string().contains("offline"), "{e}");
    let e = u.refresh().unwrap_err();
    assert!(e.to_string().contains("offline"), "{e}");
}

#[test]
fn expired_stored_metadata_is_refused_naming_the_role() {
    let s = Setup::new(true);
    // The repository's defaults: timestamp 1 day, snapshot 7, targets 90,
    // root 365 (§5.4.4, §5.5.6, §5.6.5, §5.3.10).
    for (days, role) in [
        (2, "timestamp"),
        (8, "timestamp"),
        (91, "timestamp"),
        (366, "root"),
    ] {
        let e = s.lookup_offline(&s.at(days)).unwrap_err();
        assert_eq!(
            e,
            TufError::Expired {
                role: role.to_owned()
            },
            "day {days}"
        );
    }
}

#[test]
fn an_expired_snapshot_or_targets_is_refused_behind_a_fresh_timestamp() {
    // Timestamp valid for 100 days, snapshot 7, targets 90: the snapshot
    // expires first, then (with a long snapshot) the targets.
    for (snapshot_days, days, role) in [(7, 8, "snapshot"), (200, 91, "targets")] {
        let tmp = tempfile::tempdir().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut opts = InitOptions::default();
        opts.expiry
            .set("timestamp", Duration::from_secs(100 * DAY))
            .unwrap();
        opts.expiry
            .set("snapshot", Duration::from_secs(snapshot_days * DAY))
            .unwrap();
        let mut repo = Repository::init(&tmp.path().join("repo"), &opts, t0).unwrap();
        let src = tmp.path().join("os.img");
        fs::write(&src, b"image").unwrap();
        repo.add_target(&src, "os.img", None, None, t0).unwrap();
        repo.publish(t0).unwrap();
        let store = tmp.path().join("store");
        Updater::init(
            &store,
            &fs::read(repo.metadata_dir().join("1.root.json")).unwrap(),
        )
        .unwrap();
        let clock = FixedClock(t0);
        Updater::new(
            &store,
            Box::new(LocalDirTransport::new(&repo.metadata_dir()).unwrap()),
            Box::new(LocalDirTransport::new(&repo.targets_dir()).unwrap()),
            Limits::default(),
            &clock,
            None,
        )
        .unwrap()
        .refresh()
        .unwrap();
        let late = FixedClock(t0 + Duration::from_secs(days * DAY));
        let e = Updater::offline(&store, Limits::default(), &late, None)
            .unwrap()
            .get_target_info("os.img")
            .unwrap_err();
        assert_eq!(
            e,
            TufError::Expired {
                role: role.to_owned()
            }
        );
    }
}

#[test]
fn a_store_that_never_completed_a_cycle_is_refused() {
    let s = Setup::new(false);
    let e = s.lookup_offline(&s.at(0)).unwrap_err();
    assert_eq!(
        e,
        TufError::NotStored {
            role: "timestamp".to_owned(),
            path: s.store().display().to_string()
        }
    );
    assert!(e.to_string().contains("run an update cycle first"), "{e}");
}

#[test]
fn a_damaged_stored_role_is_refused() {
    // A changed snapshot no longer matches the hash the timestamp lists
    // (§5.5.2); a changed timestamp no longer verifies (§5.4.2); a missing
    // targets is not stored.
    let s = Setup::new(true);
    let clock = s.at(0);
    let path = s.store_file("snapshot");
    let good = fs::read(&path).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    fs::write(&path, text.replacen("\"version\"", "\"version\" ", 1)).unwrap();
    assert!(matches!(
        s.lookup_offline(&clock),
        Err(TufError::MetadataHash { ref role, .. } | TufError::MetadataLength { ref role, .. })
            if role == "snapshot"
    ));
    fs::write(&path, &good).unwrap();
    s.lookup_offline(&clock).unwrap();

    let path = s.store_file("timestamp");
    let good = fs::read(&path).unwrap();
    let mut v: Value = serde_json::from_slice(&good).unwrap();
    v["signed"]["version"] = Value::from(99);
    fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(matches!(
        s.lookup_offline(&clock),
        Err(TufError::Threshold { ref role, .. }) if role == "timestamp"
    ));
    fs::write(&path, &good).unwrap();

    fs::remove_file(s.store_file("targets")).unwrap();
    assert!(matches!(
        s.lookup_offline(&clock),
        Err(TufError::NotStored { ref role, .. }) if role == "targets"
    ));
}

/// A clock the test moves forward (one updater, two lookups days apart).
struct MovingClock(std::sync::Mutex<SystemTime>);

impl Clock for MovingClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

#[test]
fn one_offline_updater_refuses_a_later_lookup_once_the_metadata_expired() {
    let s = Setup::new(true);
    let clock = MovingClock(std::sync::Mutex::new(s.t0));
    let mut u = Updater::offline(&s.store(), Limits::default(), &clock, None).unwrap();
    assert!(u.get_target_info("os.img").is_ok());
    // Two days later the stored timestamp (1 day) has expired: the same
    // updater, whose earlier lookup succeeded, must not reuse that result.
    *clock.0.lock().unwrap() = s.t0 + Duration::from_secs(2 * DAY);
    assert_eq!(
        u.get_target_info("os.img").unwrap_err(),
        TufError::Expired {
            role: "timestamp".to_owned()
        }
    );
}
