//! Installing a TUF-verified update into the inactive slot of an A/B pair
//! (issue 5, "Slots and install"; DESIGN.md flow 2).
//!
//! [`Installer::install`] takes the verified file and an [`InstallTarget`],
//! which only [`InstallTarget::from_verified`] makes, from the
//! [`TargetInfo`] that [`crate::tuf::client::Updater::get_target_info`]
//! found in verified metadata: the length, SHA-256 and release counter
//! therefore always come from signed metadata, never from the file. The
//! file itself is not trusted either: the slot is read back from the
//! device and its SHA-256 compared with the verified one ([`stream`])
//! before it can be switched to, so a file swapped or corrupted after the
//! TUF download, or a slot that does not keep what was written, is refused
//! and never booted (on a mismatch the source is hashed once to tell a bad
//! source from a bad slot).
//!
//! The steps, each journaled durably ([`journal`]) so a power cut at any
//! point leaves the booted slot untouched and bootable:
//!
//! 1. the anti-rollback floor ([`floor`]): a release counter below it is
//!    refused before anything is written;
//! 2. the pre-install hooks (executable and Rust callback) may veto;
//! 3. journal `started`; the target slot's tries are set to 0 through
//!    [`BootControl`] (the boot loader skips it from now on);
//! 4. the image is streamed into the slot, fsynced and read back from the
//!    device, overlapped ([`stream`]); or, for a directory slot, the tar
//!    archive's length and SHA-256 are checked, then it is checked entry by
//!    entry, unpacked beside the slot, fsynced and swapped in
//!    ([`archive`]); journal `written`;
//! 5. the read-back's SHA-256 (for a directory slot: the manifest of the
//!    unpacked tree) matches the verified one (on a mismatch the source is
//!    hashed to tell a bad source from a bad slot); journal `verified` (the
//!    slot's content is now good);
//! 6. the post-install hooks may veto the switch;
//! 7. the boot order names the new slot first with
//!    [`InstallPolicy::boot_tries`] tries; journal `switched`;
//! 8. the floor is raised to the target's release counter; the journal
//!    drops the install in progress ("done").
//!
//! [`Installer::open`] settles an install a crash interrupted: before
//! `verified` the slot stays bad (tries 0) and is never switched to; at
//! `verified` the switch is kept only if the boot loader's state shows it
//! was made; at `switched` the floor is raised and the install completed.
//!
//! Hook executables run with an empty environment except `PATH`
//! (`/usr/sbin:/usr/bin:/sbin:/bin`) and: `DHA_PHASE` (`pre-install` or
//! `post-install`), `DHA_SLOT` (slot name), `DHA_SLOT_PATH`,
//! `DHA_SLOT_KIND` (`image`, `block`, `directory`), `DHA_TARGET` (TUF
//! target name), `DHA_VERSION` (release counter) and `DHA_SHA256`. Standard
//! input is `/dev/null`; standard output and error are inherited. Any exit
//! other than 0, a hook that cannot be run, or one still running after
//! [`InstallPolicy::hook_timeout_secs`] (it is then killed) is a veto.
//!
//! One installer at a time: [`Installer::open`] takes the install lock
//! ([`InstallPolicy::lock_path`]) or fails with [`InstallError::Locked`].
//! [`InstallReport::event`] and [`InstallError::event`] give the events to
//! record (`update.installed`, `update.rejected`, `install.failed`).

pub mod archive;
mod event;
pub mod floor;
mod hook;
pub mod journal;
mod lock;
pub mod slot;
pub mod stream;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dir;
#[cfg(test)]
mod tests_io;

pub use journal::{
    ContentState, ImageRecord, InProgress, Journal, JournalError, Phase, SlotRecord,
};
pub use slot::{InstallPolicy, SlotConfig, SlotKind};
pub use stream::ReadBackSource;

use crate::boot::{BootControl, BootError, BootState, SlotId};
use crate::tuf::client::TargetInfo;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Why an install (or the recovery of one) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The `[install]` section does not allow installing (no slots, the
    /// booted slot is not one of them …).
    #[error("{field}: {reason}")]
    Config {
        /// The dotted key (`install.slots`).
        field: String,
        /// Why.
        reason: String,
    },
    /// The target's verified metadata lacks what an install needs.
    #[error("target {target}: {reason}")]
    Target {
        /// The target name.
        target: String,
        /// What is missing or malformed.
        reason: String,
    },
    /// The target's release counter is below the device's floor; nothing
    /// was written.
    #[error("target {target}: release counter {offered} is below the installed floor {floor}")]
    Rollback {
        /// The target name.
        target: String,
        /// The floor.
        floor: u64,
        /// The target's release counter.
        offered: u64,
    },
    /// A hook vetoed the install (`pre-install`: nothing was written;
    /// `post-install`: the slot was written but not switched to).
    #[error("{phase} hook {hook} vetoed the install: {reason}")]
    Vetoed {
        /// `pre-install` or `post-install`.
        phase: &'static str,
        /// The executable's path, or `callback`.
        hook: String,
        /// Its exit status or message.
        reason: String,
    },
    /// The file to install is not the verified target (length or SHA-256
    /// differ from the verified metadata); the slot is left bad.
    #[error("{path}: not the verified target {target}: {reason}")]
    SourceMismatch {
        /// The file.
        path: String,
        /// The target name.
        target: String,
        /// What differs.
        reason: String,
    },
    /// Reading the slot back from the device did not give the verified
    /// image ([`stream`]); the slot is left bad and not switched to.
    #[error("slot {slot}: read-back SHA-256 {found} is not the verified {expected}")]
    ReadBack {
        /// The slot.
        slot: String,
        /// The verified SHA-256.
        expected: String,
        /// What was read.
        found: String,
    },
    /// Reading the source or reading, writing or syncing a slot failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done (`writing slot B`).
        what: String,
        /// The file or device.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The boot loader's environment could not be read or written.
    #[error(transparent)]
    Boot(#[from] BootError),
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The floor file could not be read or written.
    #[error("anti-rollback floor {path}: {reason}")]
    Floor {
        /// The floor file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A tar archive for a directory slot holds an entry that could write
    /// outside the slot (absolute path, `..`, a link leading out of it), a
    /// device node or FIFO that `install.allow_devices` does not allow, or
    /// an entry type not supported ([`archive`]); the slot's content is
    /// unchanged.
    #[error("slot {slot}: archive entry {entry}: {reason}")]
    UnsafeArchive {
        /// The slot.
        slot: String,
        /// The entry's path as the archive names it.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// Another installer holds the install lock (another `dha install`, or
    /// the console's installer, is running); nothing was done.
    #[error("install lock {path}: another install is in progress (the lock is held)")]
    Locked {
        /// The lock file.
        path: String,
    },
    /// The install is refused (it would write the booted slot …).
    #[error("install refused: {0}")]
    Refused(String),
    /// The slot kind cannot be installed into by this version.
    #[error("slot {slot}: {reason}")]
    Unsupported {
        /// The slot.
        slot: String,
        /// Why.
        reason: String,
    },
}

/// What an install writes: the verified length, SHA-256 and release
/// counter of a TUF target. Only [`InstallTarget::from_verified`] makes
/// one, so these values come from verified metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallTarget {
    name: String,
    length: u64,
    sha256: String,
    release_counter: u64,
}

impl InstallTarget {
    /// The values of a target found in verified metadata. The target must
    /// list a SHA-256 hash and a `custom.release_counter` (an install
    /// without one could not be held to the anti-rollback floor).
    pub fn from_verified(info: &TargetInfo) -> Result<InstallTarget, InstallError> {
        let target = |reason: String| InstallError::Target {
            target: info.name().to_owned(),
            reason,
        };
        let sha256 = info
            .hashes()
            .get("sha256")
            .map(|h| h.to_ascii_lowercase())
            .filter(|h| journal::is_sha256_hex(h))
            .ok_or_else(|| target("verified metadata lists no SHA-256 hash".to_owned()))?;
        let release_counter = info
            .release_counter()
            .map_err(|e| target(e.to_string()))?
            .ok_or_else(|| {
                target(format!(
                    "verified metadata lists no custom.{}",
                    crate::tuf::client::RELEASE_COUNTER_FIELD
                ))
            })?;
        if info.name().is_empty() || info.name().len() > journal::MAX_TARGET_NAME {
            return Err(target("name too long for the journal".to_owned()));
        }
        Ok(InstallTarget {
            name: info.name().to_owned(),
            length: info.length(),
            sha256,
            release_counter,
        })
    }

    /// For the tests of this module only: values as if verified.
    #[cfg(test)]
    pub(crate) fn assumed_verified(name: &str, content: &[u8], release_counter: u64) -> Self {
        InstallTarget {
            name: name.to_owned(),
            length: u64::try_from(content.len()).unwrap_or(u64::MAX),
            sha256: sha256_hex(content),
            release_counter,
        }
    }

    /// The target name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its verified length.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Its verified SHA-256 (lower-case hex).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Its release counter.
    pub fn release_counter(&self) -> u64 {
        self.release_counter
    }

    fn record(&self) -> ImageRecord {
        ImageRecord {
            target: self.name.clone(),
            release_counter: self.release_counter,
            sha256: self.sha256.clone(),
            length: self.length,
        }
    }
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookPhase {
    /// Before anything is written; a veto leaves everything unchanged.
    PreInstall,
    /// After the slot was written and read back, before the boot switch; a
    /// veto leaves the old boot order.
    PostInstall,
}

impl HookPhase {
    /// `pre-install` or `post-install` (`DHA_PHASE`).
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::PreInstall => "pre-install",
            HookPhase::PostInstall => "post-install",
        }
    }
}

/// What a hook is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookContext {
    /// When it runs.
    pub phase: HookPhase,
    /// The slot written.
    pub slot: String,
    /// Its path.
    pub slot_path: PathBuf,
    /// Its kind.
    pub slot_kind: SlotKind,
    /// The TUF target name.
    pub target: String,
    /// The target's release counter.
    pub version: u64,
    /// The target's verified SHA-256.
    pub sha256: String,
}

/// A Rust hook: `Err(reason)` vetoes.
pub type HookFn<'h> = dyn FnMut(&HookContext) -> Result<(), String> + 'h;

/// What [`Installer::open`] found and did about an interrupted install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// No install was in progress.
    Clean,
    /// An install was interrupted before its slot was verified: the slot is
    /// bad, its tries 0, and the boot order was not switched to it.
    Interrupted {
        /// The slot.
        slot: String,
        /// The phase it had reached.
        phase: Phase,
    },
    /// An install was interrupted after its slot was verified and before
    /// the boot order was switched: the slot holds a good image but is not
    /// booted (install again to switch).
    NotSwitched {
        /// The slot.
        slot: String,
    },
    /// An install was interrupted after the switch: it was completed (the
    /// floor raised).
    Completed {
        /// The slot.
        slot: String,
    },
}

/// What a successful install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The slot written and switched to.
    pub slot: String,
    /// The slot that was running (untouched).
    pub booted: String,
    /// The TUF target installed.
    pub target: String,
    /// Its release counter (the new anti-rollback floor).
    pub version: u64,
    /// Its verified SHA-256 (lower-case hex).
    pub sha256: String,
    /// Bytes written (the image, or the archive unpacked into a directory
    /// slot).
    pub bytes: u64,
    /// Where the read-back check read the slot from.
    pub read_back: ReadBackSource,
}

/// One slot as [`Installer::status`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotStatus {
    /// Its configuration.
    pub config: SlotConfig,
    /// What the journal knows of its content.
    pub content: ContentState,
    /// The image it holds, when known.
    pub image: Option<ImageRecord>,
    /// The boot loader tries it first (of those with tries left).
    pub active: bool,
    /// It is running now.
    pub booted: bool,
    /// Its tries left, when the boot loader lists it.
    pub tries_left: Option<u32>,
}

/// Writes verified targets into the inactive slot and switches the boot
/// order (see the module documentation).
pub struct Installer<'a> {
    policy: &'a InstallPolicy,
    boot: &'a dyn BootControl,
    /// Held while the installer lives ([`lock`]).
    _lock: lock::InstallLock,
    #[cfg(test)]
    faults: tests::Faults,
}

impl<'a> Installer<'a> {
    /// An installer over the slots of `policy` and the boot loader behind
    /// `boot`; an install a crash interrupted is settled first (see
    /// [`Recovery`]).
    pub fn open(
        policy: &'a InstallPolicy,
        boot: &'a dyn BootControl,
    ) -> Result<(Installer<'a>, Recovery), InstallError> {
        let installer = Installer::new(policy, boot)?;
        let recovery = installer.recover()?;
        Ok((installer, recovery))
    }

    fn new(policy: &'a InstallPolicy, boot: &'a dyn BootControl) -> Result<Self, InstallError> {
        if policy.slots.len() != 2 {
            return Err(InstallError::Config {
                field: "install.slots".to_owned(),
                reason: "no A/B pair configured".to_owned(),
            });
        }
        policy
            .validate()
            .map_err(|(field, reason)| InstallError::Config { field, reason })?;
        let lock = lock::InstallLock::acquire(&policy.lock_path())?;
        Ok(Installer {
            policy,
            boot,
            _lock: lock,
            #[cfg(test)]
            faults: tests::Faults::default(),
        })
    }

    /// The slots: configuration, content state, and what the boot loader
    /// says of them.
    pub fn status(&self) -> Result<Vec<SlotStatus>, InstallError> {
        let state = self.boot.read()?;
        let journal = self.journal(&state)?;
        let booted = self.boot.booted();
        let active = first_bootable(&state);
        Ok(self
            .policy
            .slots
            .iter()
            .chain(self.policy.recovery.iter())
            .map(|s| {
                let rec = journal.slots.get(&s.name);
                let id = SlotId(s.name.clone());
                SlotStatus {
                    config: s.clone(),
                    content: rec.map_or(ContentState::Bad, |r| r.state),
                    image: rec.and_then(|r| r.image.clone()),
                    active: active.as_ref() == Some(&id),
                    booted: booted.as_ref() == Some(&id),
                    tries_left: state.tries_left.get(&id).copied(),
                }
            })
            .collect())
    }

    /// The journal, or a new one when there is none: the slot running (or,
    /// when unknown, the first bootable) is good, the others bad; slots the
    /// journal lacks are added as bad.
    fn journal(&self, state: &BootState) -> Result<Journal, InstallError> {
        let existing = Journal::load(&self.policy.journal)?;
        let fresh = existing.is_none();
        let mut journal = existing.unwrap_or_default();
        let running = self.boot.booted().or_else(|| first_bootable(state));
        for s in self.policy.slots.iter().chain(self.policy.recovery.iter()) {
            journal.slots.entry(s.name.clone()).or_insert_with(|| {
                let good = fresh && running.as_ref().is_some_and(|r| r.0 == s.name);
                SlotRecord {
                    state: if good {
                        ContentState::Good
                    } else {
                        ContentState::Bad
                    },
                    image: None,
                }
            });
        }
        Ok(journal)
    }

    /// Settles an install a crash interrupted (see [`Recovery`]).
    fn recover(&self) -> Result<Recovery, InstallError> {
        let state = self.boot.read()?;
        let mut journal = self.journal(&state)?;
        let Some(p) = journal.in_progress.clone() else {
            // A crash between the floor's raise and the final journal
            // write cannot leave the floor low; nothing to do.
            return Ok(Recovery::Clean);
        };
        let id = SlotId(p.slot.clone());
        let switched = first_bootable(&state).as_ref() == Some(&id);
        let recovery = match p.phase {
            Phase::Started | Phase::Written => {
                self.mark_bad(&state, &id)?;
                set_state(&mut journal, &p.slot, ContentState::Bad, None);
                Recovery::Interrupted {
                    slot: p.slot.clone(),
                    phase: p.phase,
                }
            }
            Phase::Verified if !switched => {
                self.mark_bad(&state, &id)?;
                Recovery::NotSwitched {
                    slot: p.slot.clone(),
                }
            }
            Phase::Verified | Phase::Switched => {
                self.raise_floor(p.image.release_counter)?;
                Recovery::Completed {
                    slot: p.slot.clone(),
                }
            }
        };
        journal.in_progress = None;
        self.store_journal(&journal)?;
        log::warn!("install journal: {recovery:?}");
        Ok(recovery)
    }

    /// Installs the verified target `target`, whose bytes are in `file`,
    /// into the inactive slot, and switches the boot order to it. `hook` is
    /// called at both hook phases after the executables. See the module
    /// documentation for the steps and what a failure at each leaves.
    pub fn install(
        &self,
        target: &InstallTarget,
        file: &Path,
        hook: Option<&mut HookFn<'_>>,
    ) -> Result<InstallReport, InstallError> {
        self.recover()?;
        let mut started = None;
        let result = self.run(target, file, hook, &mut started);
        if let (Err(e), Some(slot)) = (&result, started) {
            #[cfg(test)]
            if self.faults.crashed() {
                return result;
            }
            // Best effort: the install in progress is settled as a restart
            // would settle it; the first error is the one reported.
            if let Err(settle) = self.recover() {
                log::error!("install into slot {slot} failed ({e}); settling it failed: {settle}");
            }
        }
        result
    }

    fn run(
        &self,
        target: &InstallTarget,
        file: &Path,
        mut hook: Option<&mut HookFn<'_>>,
        started: &mut Option<String>,
    ) -> Result<InstallReport, InstallError> {
        let state = self.boot.read()?;
        let mut journal = self.journal(&state)?;
        let (booted, slot) = self.pick_slot(&state)?;
        // 1. Anti-rollback, before anything is written.
        let floor =
            floor::read_floor(&self.policy.floor).map_err(|reason| InstallError::Floor {
                path: self.policy.floor.display().to_string(),
                reason,
            })?;
        if target.release_counter < floor {
            return Err(InstallError::Rollback {
                target: target.name.clone(),
                floor,
                offered: target.release_counter,
            });
        }
        let mut source = open_source(file, target)?;
        // 2. Pre-install hooks.
        let mut ctx = HookContext {
            phase: HookPhase::PreInstall,
            slot: slot.name.clone(),
            slot_path: slot.path.clone(),
            slot_kind: slot.kind,
            target: target.name.clone(),
            version: target.release_counter,
            sha256: target.sha256.clone(),
        };
        self.run_hooks(&ctx, hook.as_deref_mut())?;
        // 3. Journal "started", then the slot is made unbootable.
        let id = SlotId(slot.name.clone());
        *started = Some(slot.name.clone());
        set_state(&mut journal, &slot.name, ContentState::Bad, None);
        journal.in_progress = Some(InProgress {
            slot: slot.name.clone(),
            image: target.record(),
            phase: Phase::Started,
        });
        self.store_journal(&journal)?;
        self.mark_bad(&state, &id)?;
        // 4. and 5. Stream, read back from the device and compared with
        // the verified SHA-256, overlapped ([`stream`]); fsync.
        let seam = self.seam();
        let written = match slot.kind {
            SlotKind::Directory => archive::install(
                slot,
                &mut source,
                file,
                target,
                self.policy.allow_devices,
                &seam,
            )?,
            SlotKind::Image | SlotKind::Block => {
                stream::write_and_check(slot, &mut source, file, target, &seam)?
            }
        };
        advance(&mut journal, Phase::Written);
        self.store_journal(&journal)?;
        set_state(
            &mut journal,
            &slot.name,
            ContentState::Good,
            Some(target.record()),
        );
        advance(&mut journal, Phase::Verified);
        self.store_journal(&journal)?;
        // 6. Post-install hooks.
        ctx.phase = HookPhase::PostInstall;
        self.run_hooks(&ctx, hook)?;
        // 7. Switch.
        let mut new_state = self.boot.read()?;
        new_state.order.retain(|s| *s != id);
        new_state.order.insert(0, id.clone());
        new_state
            .tries_left
            .insert(id.clone(), self.policy.boot_tries);
        self.write_boot(&new_state)?;
        advance(&mut journal, Phase::Switched);
        self.store_journal(&journal)?;
        // 8. Floor, then done.
        self.raise_floor(target.release_counter)?;
        journal.in_progress = None;
        self.store_journal(&journal)?;
        Ok(InstallReport {
            slot: slot.name.clone(),
            booted: booted.0,
            target: target.name.clone(),
            version: target.release_counter,
            sha256: target.sha256.clone(),
            bytes: written.bytes,
            read_back: written.read_back,
        })
    }

    /// The slot running, and the A/B slot to write (the other one). When
    /// the running slot is unknown or is the recovery slot, the A/B slot
    /// the boot order tries last is written.
    fn pick_slot(&self, state: &BootState) -> Result<(SlotId, &'a SlotConfig), InstallError> {
        let booted = self
            .boot
            .booted()
            .or_else(|| first_bootable(state))
            .ok_or_else(|| {
                InstallError::Refused("the boot loader lists no bootable slot".to_owned())
            })?;
        let pair = &self.policy.slots;
        let target = match pair.iter().position(|s| s.name == booted.0) {
            Some(i) => pair.get(1_usize.saturating_sub(i)),
            None => {
                let rank = |s: &SlotConfig| {
                    state
                        .order
                        .iter()
                        .position(|o| o.0 == s.name)
                        .unwrap_or(usize::MAX)
                };
                pair.iter().max_by_key(|s| rank(s))
            }
        };
        let target = target.ok_or_else(|| InstallError::Config {
            field: "install.slots".to_owned(),
            reason: "no A/B pair configured".to_owned(),
        })?;
        if target.name == booted.0 {
            return Err(InstallError::Refused(format!(
                "slot {} is the one running",
                target.name
            )));
        }
        Ok((booted, target))
    }

    fn run_hooks(
        &self,
        ctx: &HookContext,
        hook: Option<&mut HookFn<'_>>,
    ) -> Result<(), InstallError> {
        let exe = match ctx.phase {
            HookPhase::PreInstall => &self.policy.pre_install_hook,
            HookPhase::PostInstall => &self.policy.post_install_hook,
        };
        if let Some(exe) = exe {
            hook::run_executable(
                exe,
                ctx,
                std::time::Duration::from_secs(self.policy.hook_timeout_secs),
            )?;
        }
        if let Some(hook) = hook {
            hook(ctx).map_err(|reason| InstallError::Vetoed {
                phase: ctx.phase.as_str(),
                hook: "callback".to_owned(),
                reason,
            })?;
        }
        Ok(())
    }

    /// Sets the slot's tries to 0 unless they already are.
    fn mark_bad(&self, state: &BootState, id: &SlotId) -> Result<(), InstallError> {
        if state.tries_left.get(id) == Some(&0) {
            return Ok(());
        }
        let mut s = state.clone();
        s.tries_left.insert(id.clone(), 0);
        self.write_boot(&s)
    }

    fn write_boot(&self, state: &BootState) -> Result<(), InstallError> {
        self.point("boot write").map_err(|e| BootError::Write {
            source_name: "install".to_owned(),
            reason: e.to_string(),
        })?;
        self.boot.write(state)?;
        Ok(())
    }

    fn store_journal(&self, journal: &Journal) -> Result<(), InstallError> {
        self.point("journal write")
            .map_err(|source| JournalError::Io {
                path: self.policy.journal.display().to_string(),
                source,
            })?;
        journal.store(&self.policy.journal)?;
        Ok(())
    }

    fn raise_floor(&self, release_counter: u64) -> Result<(), InstallError> {
        let path = &self.policy.floor;
        let floor_err = |reason: String| InstallError::Floor {
            path: path.display().to_string(),
            reason,
        };
        let floor = floor::read_floor(path).map_err(floor_err)?;
        if release_counter <= floor {
            return Ok(());
        }
        self.point("floor write")
            .and_then(|()| {
                crate::durable::write_atomic(
                    path,
                    &floor::floor_bytes(release_counter),
                    Some(0o600),
                )
            })
            .map_err(|e| floor_err(e.to_string()))
    }

    #[cfg(test)]
    fn point(&self, what: &str) -> io::Result<()> {
        self.faults.hit(what)
    }

    /// The fault-injection seam for other threads (tests only).
    #[cfg(test)]
    fn seam(&self) -> impl Fn(&str) -> io::Result<()> + Sync + '_ {
        let faults = &self.faults;
        move |what| faults.hit(what)
    }

    #[cfg(not(test))]
    fn seam(&self) -> impl Fn(&str) -> io::Result<()> + Sync + '_ {
        |_| Ok(())
    }

    #[cfg(not(test))]
    #[inline]
    fn point(&self, _what: &str) -> io::Result<()> {
        Ok(())
    }
}

/// The first slot of the boot order with tries left.
fn first_bootable(state: &BootState) -> Option<SlotId> {
    state
        .order
        .iter()
        .find(|s| state.tries_left.get(*s).copied().unwrap_or(0) > 0)
        .cloned()
}

fn set_state(journal: &mut Journal, slot: &str, state: ContentState, image: Option<ImageRecord>) {
    journal
        .slots
        .insert(slot.to_owned(), SlotRecord { state, image });
}

fn advance(journal: &mut Journal, phase: Phase) {
    if let Some(p) = journal.in_progress.as_mut() {
        p.phase = phase;
    }
}

/// Opens the file to install: a regular file of the verified length.
fn open_source(file: &Path, target: &InstallTarget) -> Result<File, InstallError> {
    let io_err = |source| InstallError::Io {
        what: "opening".to_owned(),
        path: file.display().to_string(),
        source,
    };
    let f = File::open(file).map_err(io_err)?;
    let meta = f.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(InstallError::SourceMismatch {
            path: file.display().to_string(),
            target: target.name.clone(),
            reason: "not a regular file".to_owned(),
        });
    }
    if meta.len() != target.length {
        return Err(InstallError::SourceMismatch {
            path: file.display().to_string(),
            target: target.name.clone(),
            reason: format!("{} bytes, not the verified {}", meta.len(), target.length),
        });
    }
    Ok(f)
}

/// Lower-case hex (the TUF module's helper is private to it).
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lower-case hex SHA-256 of `bytes`.
#[cfg(test)]
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}
