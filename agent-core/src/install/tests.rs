//! Installer tests on real files in temporary directories, with an
//! in-memory boot control, and fault injection at every durable write.

use super::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

/// Injected faults: the `at`-th durable operation (journal write, boot
/// write, slot chunk write, slot fsync, floor write, and for directory
/// slots each file, directory and swap step) fails. With `crash`, the
/// installer stops dead as a killed process would (no clean-up), and the
/// test then reopens it as a restart would. Shared with the install's
/// writer thread, hence atomics.
#[derive(Default)]
pub(super) struct Faults {
    at: AtomicU32,
    /// The errno to inject; 0: ENOSPC for slot data, EIO elsewhere.
    errno: AtomicI32,
    crash: AtomicBool,
    count: AtomicU32,
    fired: AtomicBool,
    log: Mutex<Vec<String>>,
    fired_what: Mutex<Option<String>>,
}

impl Faults {
    pub(super) fn hit(&self, what: &str) -> io::Result<()> {
        let n = self.count.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        self.log.lock().unwrap().push(what.to_owned());
        if self.at.load(Ordering::SeqCst) == n {
            self.fired.store(true, Ordering::SeqCst);
            *self.fired_what.lock().unwrap() = Some(what.to_owned());
            let errno = match self.errno.load(Ordering::SeqCst) {
                // A full disk for the image data, an I/O error elsewhere.
                0 if what == "slot write" || what == "file write" => libc::ENOSPC,
                0 => libc::EIO,
                e => e,
            };
            return Err(io::Error::from_raw_os_error(errno));
        }
        Ok(())
    }

    /// Fails the `at`-th operation (1-based).
    pub(super) fn set(&self, at: u32, crash: bool) {
        self.at.store(at, Ordering::SeqCst);
        self.crash.store(crash, Ordering::SeqCst);
    }

    pub(super) fn set_errno(&self, errno: i32) {
        self.errno.store(errno, Ordering::SeqCst);
    }

    pub(super) fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// The operation that failed.
    pub(super) fn fired_what(&self) -> Option<String> {
        self.fired_what.lock().unwrap().clone()
    }

    pub(super) fn crashed(&self) -> bool {
        self.fired() && self.crash.load(Ordering::SeqCst)
    }
}

/// A boot loader environment in memory; `write` is checked by reading back
/// (trivially) and counts writes.
pub(super) struct MemBoot {
    state: RefCell<BootState>,
    booted: Option<SlotId>,
    pub(super) writes: Cell<u32>,
}

impl MemBoot {
    pub(super) fn ab(booted: &str) -> MemBoot {
        let mut tries = BTreeMap::new();
        tries.insert(SlotId("A".into()), 3);
        tries.insert(SlotId("B".into()), 3);
        MemBoot {
            state: RefCell::new(BootState {
                order: vec![SlotId("A".into()), SlotId("B".into())],
                tries_left: tries,
            }),
            booted: Some(SlotId(booted.into())),
            writes: Cell::new(0),
        }
    }
    pub(super) fn get(&self) -> BootState {
        self.state.borrow().clone()
    }
}

impl BootControl for MemBoot {
    fn read(&self) -> Result<BootState, BootError> {
        Ok(self.state.borrow().clone())
    }
    fn write(&self, state: &BootState) -> Result<(), BootError> {
        *self.state.borrow_mut() = state.clone();
        self.writes.set(self.writes.get() + 1);
        Ok(())
    }
    fn booted(&self) -> Option<SlotId> {
        self.booted.clone()
    }
}

pub(super) struct Rig {
    pub(super) dir: tempfile::TempDir,
    pub(super) policy: InstallPolicy,
    pub(super) boot: MemBoot,
}

pub(super) const OLD: &[u8] = b"the image the device shipped with";

impl Rig {
    pub(super) fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("a.img"), OLD).unwrap();
        fs::write(p.join("b.img"), b"stale").unwrap();
        let policy = InstallPolicy {
            slots: vec![
                SlotConfig {
                    name: "A".into(),
                    kind: SlotKind::Image,
                    path: p.join("a.img"),
                },
                SlotConfig {
                    name: "B".into(),
                    kind: SlotKind::Image,
                    path: p.join("b.img"),
                },
            ],
            journal: p.join("install.journal"),
            floor: p.join("install.floor"),
            ..InstallPolicy::default()
        };
        Rig {
            dir,
            policy,
            boot: MemBoot::ab("A"),
        }
    }

    /// A source file with `content`, and the target as if verified.
    pub(super) fn source(&self, content: &[u8], counter: u64) -> (PathBuf, InstallTarget) {
        let path = self.dir.path().join(format!("source-{counter}.img"));
        fs::write(&path, content).unwrap();
        (
            path,
            InstallTarget::assumed_verified("os.img", content, counter),
        )
    }

    pub(super) fn journal(&self) -> Option<Journal> {
        Journal::load(&self.policy.journal).unwrap()
    }

    pub(super) fn slot_b(&self) -> Vec<u8> {
        fs::read(self.dir.path().join("b.img")).unwrap()
    }

    /// The device can boot: the running slot A still has tries, is good in
    /// the journal and its bytes are untouched; whatever the boot loader
    /// tries first holds a verified image.
    pub(super) fn assert_bootable(&self) {
        let state = self.boot.get();
        let a = SlotId("A".into());
        assert!(state.tries_left[&a] > 0, "{state:?}");
        assert_eq!(fs::read(self.dir.path().join("a.img")).unwrap(), OLD);
        let journal = self.journal().unwrap_or_default();
        if let Some(rec) = journal.slots.get("A") {
            assert_eq!(rec.state, ContentState::Good);
        }
        let first = first_bootable(&state).unwrap();
        if first.0 == "B" {
            let rec = &journal.slots["B"];
            assert_eq!(rec.state, ContentState::Good, "{journal:?}");
            let image = rec.image.as_ref().unwrap();
            let bytes = self.slot_b();
            let len = usize::try_from(image.length).unwrap();
            assert_eq!(sha256_hex(&bytes[..len]), image.sha256);
        } else {
            assert_eq!(first.0, "A");
        }
    }
}

/// [`Installer::open`] after an earlier installer of the same test was
/// dropped. Other tests of this binary spawn processes: between their
/// `fork` and `exec` a child briefly shares every open file description,
/// the lock's included, so a lock just released can look held for that
/// instant. Retries a few times on [`InstallError::Locked`] only.
pub(super) fn reopen<'a>(
    policy: &'a InstallPolicy,
    boot: &'a dyn BootControl,
) -> (Installer<'a>, Recovery) {
    for _ in 0..200 {
        match Installer::open(policy, boot) {
            Err(InstallError::Locked { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other.unwrap(),
        }
    }
    panic!("the install lock stayed held");
}

pub(super) fn image(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            u8::try_from(i % 256)
                .unwrap()
                .wrapping_mul(31)
                .wrapping_add(seed)
        })
        .collect()
}

#[test]
fn installs_a_4_mib_image_reads_it_back_and_switches() {
    let rig = Rig::new();
    let content = image(4 * 1024 * 1024, 1);
    let (src, target) = rig.source(&content, 4);
    let (installer, recovery) = Installer::open(&rig.policy, &rig.boot).unwrap();
    assert_eq!(recovery, Recovery::Clean);
    let report = installer.install(&target, &src, None).unwrap();
    assert_eq!(report.slot, "B");
    assert_eq!(report.booted, "A");
    assert_eq!(report.bytes, 4 * 1024 * 1024);
    assert_eq!(rig.slot_b(), content);
    let state = rig.boot.get();
    assert_eq!(state.order[0], SlotId("B".into()));
    assert_eq!(state.tries_left[&SlotId("B".into())], 3);
    assert_eq!(state.tries_left[&SlotId("A".into())], 3);
    let journal = rig.journal().unwrap();
    assert_eq!(journal.in_progress, None);
    assert_eq!(journal.slots["B"].state, ContentState::Good);
    assert_eq!(
        journal.slots["B"].image.as_ref().unwrap().sha256,
        sha256_hex(&content)
    );
    assert_eq!(journal.slots["A"].state, ContentState::Good);
    assert_eq!(floor::read_floor(&rig.policy.floor).unwrap(), 4);
    let status = installer.status().unwrap();
    assert!(status[1].active && !status[1].booted);
    assert!(!status[0].active && status[0].booted);
    rig.assert_bootable();
}

#[test]
fn a_target_verified_by_the_tuf_client_installs() {
    use crate::tuf::client::Updater;
    use crate::tuf::repo::{InitOptions, Repository};
    use crate::tuf::transport::LocalDirTransport;
    let rig = Rig::new();
    let now = crate::Clock::now(&crate::SystemClock);
    let repo_dir = rig.dir.path().join("repo");
    let mut repo = Repository::init(&repo_dir, &InitOptions::default(), now).unwrap();
    let content = image(300_000, 7);
    let staged = rig.dir.path().join("staged.img");
    fs::write(&staged, &content).unwrap();
    repo.add_target(
        &staged,
        "os.img",
        None,
        Some(serde_json::json!({"release_counter": 9})),
        now,
    )
    .unwrap();
    repo.publish(now).unwrap();
    let store = rig.dir.path().join("store");
    fs::create_dir(&store).unwrap();
    Updater::init(
        &store,
        &fs::read(repo.metadata_dir().join("1.root.json")).unwrap(),
    )
    .unwrap();
    let clock = crate::SystemClock;
    let mut updater = Updater::new(
        &store,
        Box::new(LocalDirTransport::new(&repo.metadata_dir()).unwrap()),
        Box::new(LocalDirTransport::new(&repo.targets_dir()).unwrap()),
        crate::tuf::Limits::default(),
        &clock,
        None,
    )
    .unwrap();
    let info = updater.get_target_info("os.img").unwrap();
    let downloads = rig.dir.path().join("downloads");
    fs::create_dir(&downloads).unwrap();
    let file = updater.download_target(&info, &downloads).unwrap();
    let target = InstallTarget::from_verified(&info).unwrap();
    assert_eq!(target.release_counter(), 9);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    installer.install(&target, &file, None).unwrap();
    assert_eq!(rig.slot_b(), content);
    // The same verified target with a swapped file is refused.
    fs::write(&file, image(300_000, 8)).unwrap();
    let e = installer.install(&target, &file, None).unwrap_err();
    assert!(matches!(e, InstallError::SourceMismatch { .. }), "{e}");
}

#[test]
fn a_corrupted_source_is_refused_and_nothing_is_switched() {
    let rig = Rig::new();
    let content = image(2 * 1024 * 1024 + 5, 2);
    let (src, target) = rig.source(&content, 1);
    let mut corrupted = content.clone();
    corrupted[1_500_000] ^= 1;
    fs::write(&src, &corrupted).unwrap();
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(
        matches!(&e, InstallError::SourceMismatch { reason, .. } if reason.contains("SHA-256")),
        "{e}"
    );
    let state = rig.boot.get();
    assert_eq!(first_bootable(&state), Some(SlotId("A".into())));
    assert_eq!(state.tries_left[&SlotId("B".into())], 0);
    let journal = rig.journal().unwrap();
    assert_eq!(journal.in_progress, None);
    assert_eq!(journal.slots["B"].state, ContentState::Bad);
    assert_eq!(floor::read_floor(&rig.policy.floor).unwrap(), 0);
    rig.assert_bootable();
    // A longer or shorter file is refused before anything is written.
    fs::write(&src, &content[..100]).unwrap();
    let before = rig.slot_b();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(matches!(e, InstallError::SourceMismatch { .. }), "{e}");
    assert_eq!(rig.slot_b(), before);
}

#[test]
fn an_older_release_is_refused_before_anything_is_written() {
    let rig = Rig::new();
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let (src, target) = rig.source(&image(10_000, 3), 5);
    installer.install(&target, &src, None).unwrap();
    drop(installer);
    // Back on A (as after a fall-back), an older release is offered.
    let boot = MemBoot::ab("A");
    let (installer, _) = reopen(&rig.policy, &boot);
    let journal_before = fs::read(&rig.policy.journal).unwrap();
    let slot_before = rig.slot_b();
    let (src, target) = rig.source(&image(10_000, 4), 4);
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(
        matches!(
            e,
            InstallError::Rollback {
                floor: 5,
                offered: 4,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(rig.slot_b(), slot_before);
    assert_eq!(fs::read(&rig.policy.journal).unwrap(), journal_before);
    assert_eq!(boot.writes.get(), 0);
    // The same release again is accepted.
    let (src, target) = rig.source(&image(10_000, 6), 5);
    installer.install(&target, &src, None).unwrap();
}

#[test]
fn a_vetoing_hook_leaves_everything_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    let mut rig = Rig::new();
    let env_out = rig.dir.path().join("hook.env");
    let hook = rig.dir.path().join("pre-install");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nenv | grep ^DHA_ | sort > {}\nexit 3\n",
            env_out.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    rig.policy.pre_install_hook = Some(hook.clone());
    let (src, target) = rig.source(&image(5000, 5), 2);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(
        matches!(&e, InstallError::Vetoed { phase: "pre-install", reason, .. } if reason.contains('3')),
        "{e}"
    );
    assert_eq!(rig.slot_b(), b"stale");
    assert_eq!(rig.boot.writes.get(), 0);
    assert!(!rig.policy.journal.exists());
    let env = fs::read_to_string(&env_out).unwrap();
    for want in [
        "DHA_PHASE=pre-install",
        "DHA_SLOT=B",
        "DHA_SLOT_KIND=image",
        "DHA_TARGET=os.img",
        "DHA_VERSION=2",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} not in {env}");
    }
    // A callback veto, with the executable allowing.
    fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    let mut seen = Vec::new();
    let mut cb = |ctx: &HookContext| {
        seen.push(ctx.phase);
        Err("maintenance window closed".to_owned())
    };
    let e = installer.install(&target, &src, Some(&mut cb)).unwrap_err();
    assert!(matches!(e, InstallError::Vetoed { hook, .. } if hook == "callback"));
    assert_eq!(seen, [HookPhase::PreInstall]);
    assert_eq!(rig.slot_b(), b"stale");
    assert_eq!(rig.boot.writes.get(), 0);
    // A post-install veto: written and verified, never switched to.
    let mut cb = |ctx: &HookContext| match ctx.phase {
        HookPhase::PreInstall => Ok(()),
        HookPhase::PostInstall => Err("self-test failed".to_owned()),
    };
    let e = installer.install(&target, &src, Some(&mut cb)).unwrap_err();
    assert!(
        matches!(
            e,
            InstallError::Vetoed {
                phase: "post-install",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("A".into())));
    assert_eq!(rig.boot.get().tries_left[&SlotId("B".into())], 0);
    assert_eq!(rig.journal().unwrap().in_progress, None);
    rig.assert_bootable();
}

#[test]
fn an_interrupted_install_is_settled_on_open_and_never_switched_to() {
    for phase in [Phase::Started, Phase::Written, Phase::Verified] {
        let rig = Rig::new();
        let mut journal = Journal::default();
        journal.slots.insert(
            "A".into(),
            SlotRecord {
                state: ContentState::Good,
                image: None,
            },
        );
        journal.slots.insert(
            "B".into(),
            SlotRecord {
                state: ContentState::Bad,
                image: None,
            },
        );
        journal.in_progress = Some(InProgress {
            slot: "B".into(),
            image: InstallTarget::assumed_verified("os.img", b"x", 3).record(),
            phase,
        });
        journal.store(&rig.policy.journal).unwrap();
        let (_, recovery) = Installer::open(&rig.policy, &rig.boot).unwrap();
        match phase {
            Phase::Verified => assert_eq!(recovery, Recovery::NotSwitched { slot: "B".into() }),
            _ => assert_eq!(
                recovery,
                Recovery::Interrupted {
                    slot: "B".into(),
                    phase
                }
            ),
        }
        let state = rig.boot.get();
        assert_eq!(state.tries_left[&SlotId("B".into())], 0);
        assert_eq!(first_bootable(&state), Some(SlotId("A".into())));
        assert_eq!(rig.journal().unwrap().in_progress, None);
        assert_eq!(floor::read_floor(&rig.policy.floor).unwrap(), 0);
        let (_, again) = Installer::open(&rig.policy, &rig.boot).unwrap();
        assert_eq!(again, Recovery::Clean);
    }
}

/// A fault at every durable operation of an install, both as an error the
/// installer sees (it settles the install) and as a crash (it stops dead
/// and a restart settles it). After each: the journal reads, nothing is in
/// progress, the running slot is untouched and bootable, whatever boots
/// first is verified, and a new install succeeds.
#[test]
fn a_fault_at_every_durable_write_leaves_a_bootable_device() {
    let content = image(4 * 1024 * 1024 + 17, 9);
    let mut points = 0_u32;
    for crash in [true, false] {
        for at in 1_u32.. {
            let rig = Rig::new();
            let (src, target) = rig.source(&content, 2);
            let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
            installer.faults.set(at, crash);
            let result = installer.install(&target, &src, None);
            if !installer.faults.fired() {
                result.unwrap();
                assert!(at > 10, "only {at} durable operations");
                break;
            }
            points += 1;
            let what = installer.faults.fired_what().unwrap();
            assert!(result.is_err(), "fault {at} ({what}) not reported");
            drop(installer);
            let (reopened, recovery) = reopen(&rig.policy, &rig.boot);
            let journal = rig.journal().unwrap_or_default();
            assert_eq!(journal.in_progress, None, "{at} {what} {recovery:?}");
            rig.assert_bootable();
            let switched = first_bootable(&rig.boot.get()) == Some(SlotId("B".into()));
            if switched {
                // Only a fault after the switch: the install completed.
                assert_eq!(floor::read_floor(&rig.policy.floor).unwrap(), 2);
            } else if rig.slot_b() != b"stale" {
                // Writing began: the boot loader never falls back into it.
                assert_eq!(rig.boot.get().tries_left[&SlotId("B".into())], 0);
            }
            reopened.install(&target, &src, None).unwrap();
            assert_eq!(rig.slot_b(), content);
            assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("B".into())));
            rig.assert_bootable();
        }
    }
    // 2 journal + 1 boot + 5 chunks + 1 fsync + 1 journal, then
    // 1 journal + 1 boot + 1 journal + 1 floor + 1 journal, twice.
    assert_eq!(points, 2 * 14, "crash points tested");
}

#[test]
fn slot_kinds_are_checked_before_writing() {
    let mut rig = Rig::new();
    rig.policy.slots[1].kind = SlotKind::Block;
    let (src, target) = rig.source(&image(1000, 1), 1);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(e.to_string().contains("not a block device"), "{e}");
    assert_eq!(rig.slot_b(), b"stale");
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("A".into())));
    drop(installer);
    rig.policy.slots[1].kind = SlotKind::Directory;
    let (installer, _) = reopen(&rig.policy, &rig.boot);
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
    assert_eq!(rig.slot_b(), b"stale");
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("A".into())));
}

#[test]
fn running_from_b_installs_into_a() {
    let mut rig = Rig::new();
    rig.boot = MemBoot::ab("B");
    fs::write(rig.dir.path().join("b.img"), OLD).unwrap();
    let (src, target) = rig.source(&image(1000, 1), 1);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let report = installer.install(&target, &src, None).unwrap();
    assert_eq!(report.slot, "A");
    assert_eq!(rig.boot.get().order[0], SlotId("A".into()));
}
