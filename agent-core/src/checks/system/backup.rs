//! BAK-01: the device can fall back to a known-good system: a recovery slot,
//! or an A/B pair whose install journal says both slots hold a good image;
//! image slots inside the root are hashed and compared with the journal.

use super::{device_path, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Finding, Severity};
use crate::install::journal::{ContentState, Journal, MAX_JOURNAL_BYTES, SlotRecord};
use crate::install::slot::{SlotConfig, SlotKind};
use crate::root::FileKind;
use std::io::Read as _;

/// BAK-01 (IEC 62443-4-2 CR 7.3 RE1 backup, CR 7.4 recovery and
/// reconstitution; MDS2 DTBK).
///
/// Reads `[install]`: with neither slots nor a recovery slot configured the
/// device has no known-good image to return to (medium). Otherwise the
/// install journal (inside the root) must exist and record a fallback: a
/// recovery slot, or both slots of the A/B pair in state `good` (whichever
/// runs, the other can take over); only one good slot is high. Every good
/// slot of kind `image` whose journal record carries a hash is read back
/// (at most `hardening.slot_verify_max_bytes`) and compared: a missing or
/// different image is high, a larger one is reported as not verified
/// (info). Block devices and directory slots are not hashed here (a block
/// device is not in an image; a directory slot's hash is its archive's).
///
/// The recovery slot counts only when it exists and verifies (CHECKS.md):
/// an `image` slot must be a non-empty regular file, and is hashed against
/// its journal record like the others when the journal records one (a
/// different image is high and no fallback); a `block` slot on the live
/// root must be a block device (a missing one is no fallback); a `directory`
/// slot must be a directory. Where it exists but cannot be verified (no
/// recorded hash, larger than the limit, a block device, or a block device
/// of an image root, which holds no `/dev`) it still counts, with an info
/// finding "exists, not verified". A recovery slot that is missing or wrong
/// while the A/B pair is good is medium.
pub fn bak01_recovery_slot(ctx: &AuditContext<'_>) -> CheckOutcome {
    let pol = &ctx.config.install;
    let journal_path = device_path(&pol.journal);
    let mut out = Vec::new();
    if pol.slots.is_empty() && pol.recovery.is_none() {
        out.push(
            ctx.finding("BAK-01", "no known-good slot or recovery image configured")
                .severity(Severity::Medium)
                .file(&journal_path)
                .observed("[install] has no slots and no recovery slot")
                .expected(
                    "an A/B pair of slots (install.slots) or a recovery slot (install.recovery)",
                )
                .remediation(
                    "Configure the device's A/B slots and/or its recovery slot in [install].",
                )
                .build(),
        );
        return CheckOutcome::Ran(out);
    }
    let journal = match ctx.root.read(&journal_path) {
        Ok(Some((bytes, false)))
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) <= MAX_JOURNAL_BYTES =>
        {
            Journal::from_bytes(&bytes).map_err(|e| e.to_string())
        }
        Ok(Some(_)) => Err(format!("larger than {MAX_JOURNAL_BYTES} bytes")),
        Ok(None) => Err("absent".to_owned()),
        Err(e) => Err(e.to_string()),
    };
    let journal = match journal {
        Ok(j) => j,
        Err(why) => {
            out.push(
                ctx.finding("BAK-01", "no install journal: no slot is known to be good")
                    .file(&journal_path)
                    .observed(why)
                    .expected("the install journal recording the slots' states")
                    .remediation("Record the shipped slots as good (dha boot confirm on the booted slot, after its health checks).")
                    .build(),
            );
            return CheckOutcome::Ran(out);
        }
    };
    let good = |s: &SlotConfig| -> Option<&SlotRecord> {
        journal
            .slots
            .get(&s.name)
            .filter(|r| r.state == ContentState::Good)
    };
    let recovery = pol
        .recovery
        .as_ref()
        .map(|r| (r, recovery_state(ctx, r, good(r), &journal_path, &mut out)));
    let recovery_ok = matches!(recovery, Some((_, Ok(()))));
    let good_pair: Vec<&SlotConfig> = pol.slots.iter().filter(|s| good(s).is_some()).collect();
    if !recovery_ok && (pol.slots.len() < 2 || good_pair.len() < pol.slots.len()) {
        let states: Vec<String> = pol
            .slots
            .iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s.name,
                    match journal.slots.get(&s.name).map(|r| r.state) {
                        Some(ContentState::Good) => "good",
                        Some(ContentState::Bad) => "bad",
                        None => "unknown",
                    }
                )
            })
            .collect();
        let recovery_note = match &recovery {
            Some((r, Err((why, _)))) => format!("; recovery slot {}: {why}", q(&r.name)),
            _ => "; no recovery slot".to_owned(),
        };
        out.push(
            ctx.finding("BAK-01", "no known-good slot to fall back to")
                .file(&journal_path)
                .observed(format!("{}{recovery_note}", states.join(", ")))
                .expected("both A/B slots good, or a recovery slot")
                .remediation("Install a verified image into the other slot (dha install) and confirm it, or provide a recovery slot.")
                .build(),
        );
    } else if let Some((r, Err((why, false)))) = &recovery {
        out.push(
            ctx.finding("BAK-01", format!("recovery slot {} is not usable", q(&r.name)))
                .severity(Severity::Medium)
                .file(device_path(&r.path))
                .observed(why.clone())
                .expected("the configured recovery slot, holding the recorded image")
                .remediation("Restore the recovery image (dha install into the recovery slot) or correct install.recovery.")
                .build(),
        );
    }
    for s in &pol.slots {
        if let Some(rec) = good(s) {
            verify(ctx, s, rec, &journal_path, &mut out);
        }
    }
    CheckOutcome::Ran(out)
}

/// Whether the recovery slot exists and verifies: `Ok` when it can serve as
/// a fallback (with an info finding pushed when it could not be verified),
/// `Err((why, reported))` when it cannot, `reported` when [`verify`] already
/// pushed a finding for it.
fn recovery_state(
    ctx: &AuditContext<'_>,
    s: &SlotConfig,
    rec: Option<&SlotRecord>,
    journal_path: &str,
    out: &mut Vec<Finding>,
) -> Result<(), (String, bool)> {
    let path = device_path(&s.path);
    let missing = |why: String| Err((why, false));
    let unverified = |why: &str, out: &mut Vec<Finding>| {
        out.push(
            ctx.finding(
                "BAK-01",
                format!("recovery slot {} exists, not verified", q(&s.name)),
            )
            .severity(Severity::Info)
            .file(&path)
            .observed(why.to_owned())
            .expected(format!(
                "its image's SHA-256 recorded in {journal_path} and compared"
            ))
            .remediation(
                "Record the recovery image in the install journal (install it with dha install) so that the audit can verify it.",
            )
            .build(),
        );
    };
    let meta = match ctx.root.metadata(&path) {
        Ok(m) => m,
        Err(e) => return missing(e.to_string()),
    };
    match s.kind {
        SlotKind::Block if !ctx.root.is_live() => {
            unverified("a block device: not in an image root", out);
            Ok(())
        }
        SlotKind::Block => {
            let host = match ctx.root.resolve(&path, true) {
                Ok(Some(h)) => h,
                Ok(None) => return missing(format!("no such device: {path}")),
                Err(e) => return missing(e.to_string()),
            };
            if !is_block_device(&host) {
                return missing(format!("{path} is not a block device"));
            }
            unverified("a block device: not hashed by the audit", out);
            Ok(())
        }
        SlotKind::Directory => match meta {
            Some(m) if m.kind == FileKind::Dir => {
                unverified("a directory slot: its recorded hash is its archive's", out);
                Ok(())
            }
            Some(_) => missing(format!("{path} is not a directory")),
            None => missing(format!("not found at {path}")),
        },
        SlotKind::Image => match meta {
            None => missing(format!("not found at {path}")),
            Some(m) if m.kind != FileKind::File => missing(format!("{path} is not a regular file")),
            Some(m) if m.size == 0 => missing(format!("{path} is empty")),
            Some(_) => match rec {
                Some(rec) if rec.image.is_some() => match verify(ctx, s, rec, journal_path, out) {
                    Verified::Yes | Verified::TooLarge => Ok(()),
                    Verified::No => Err((
                        "does not hold the image the journal records".to_owned(),
                        true,
                    )),
                },
                _ => {
                    unverified("the install journal records no good image for it", out);
                    Ok(())
                }
            },
        },
    }
}

/// True when `host` is a block device (stat(2) `S_IFBLK`).
fn is_block_device(host: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::metadata(host).is_ok_and(|m| m.file_type().is_block_device())
}

/// What [`verify`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verified {
    /// The slot holds the recorded image (or there is nothing to hash).
    Yes,
    /// Larger than `hardening.slot_verify_max_bytes`: not read (info pushed).
    TooLarge,
    /// Absent or different (high pushed).
    No,
}

fn verify(
    ctx: &AuditContext<'_>,
    s: &SlotConfig,
    rec: &SlotRecord,
    journal_path: &str,
    out: &mut Vec<Finding>,
) -> Verified {
    let (SlotKind::Image, Some(image)) = (s.kind, &rec.image) else {
        return Verified::Yes;
    };
    let path = device_path(&s.path);
    let max = ctx.config.hardening.slot_verify_max_bytes;
    let fail = |why: String| {
        ctx.finding(
            "BAK-01",
            format!(
                "slot {} does not hold the image the journal records",
                q(&s.name)
            ),
        )
        .file(&path)
        .observed(why)
        .expected(format!(
            "{} release {}, SHA-256 {} over {} bytes ({journal_path})",
            q(&image.target),
            image.release_counter,
            image.sha256,
            image.length
        ))
        .remediation("Reinstall a verified image into the slot (dha install) before relying on it.")
        .build()
    };
    if image.length > max {
        out.push(
            ctx.finding(
                "BAK-01",
                format!(
                    "slot {} was not verified: its image is larger than the limit",
                    q(&s.name)
                ),
            )
            .severity(Severity::Info)
            .file(&path)
            .observed(format!("{} bytes", image.length))
            .expected(format!("at most hardening.slot_verify_max_bytes = {max}"))
            .remediation("Raise hardening.slot_verify_max_bytes to verify it in the audit.")
            .build(),
        );
        return Verified::TooLarge;
    }
    let file = match ctx.root.metadata(&path) {
        Ok(Some(m)) if m.kind == FileKind::File => ctx.root.resolve(&path, true).ok().flatten(),
        Ok(Some(_)) => {
            out.push(fail("not a regular file".to_owned()));
            return Verified::No;
        }
        _ => None,
    };
    let Some(file) = file else {
        out.push(fail("absent".to_owned()));
        return Verified::No;
    };
    let why = match sha256_prefix(&file, image.length) {
        Ok(Some(d)) if d.eq_ignore_ascii_case(&image.sha256) => return Verified::Yes,
        Ok(Some(d)) => format!("SHA-256 {d}"),
        Ok(None) => "shorter than the recorded image".to_owned(),
        Err(e) => format!("cannot be read: {e}"),
    };
    out.push(fail(why));
    Verified::No
}

/// The SHA-256 of the first `len` bytes of a file (an image slot is never
/// truncated, so it may be longer than the image); `None` when shorter.
fn sha256_prefix(path: &std::path::Path, len: u64) -> std::io::Result<Option<String>> {
    let f = super::open_regular(path)?;
    let mut r = f.take(len);
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(buf.get(..n).unwrap_or_default());
        read = read.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }
    if read < len {
        return Ok(None);
    }
    Ok(Some(
        ctx.finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestRoot, locations};
    use std::path::PathBuf;

    // SHA-256("image-A") and ("image-B").
    fn sha(s: &str) -> String {
        ring::digest::digest(&ring::digest::SHA256, s.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn slot(name: &str) -> SlotConfig {
        SlotConfig {
            name: name.to_owned(),
            kind: SlotKind::Image,
            path: PathBuf::from(format!("/var/lib/slots/{name}.img")),
        }
    }

    fn journal(b_state: &str, a_image: &str) -> String {
        format!(
            "{{\"schema_version\":1,\"slots\":{{\
             \"A\":{{\"state\":\"good\",\"image\":{{\"target\":\"os.img\",\"release_counter\":1,\"sha256\":\"{}\",\"length\":7}}}},\
             \"B\":{{\"state\":\"{b_state}\"}}}}}}",
            sha(a_image)
        )
    }

    #[test]
    fn no_slots_configured_is_medium() {
        let t = TestRoot::new(&[]);
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(locations(&r), ["/var/lib/dha/install.journal"]);
        assert_eq!(r.findings[0].severity, Severity::Medium);
    }

    #[test]
    fn a_good_pair_passes_and_a_changed_image_or_a_bad_slot_is_reported() {
        let mut t = TestRoot::new(&[
            ("/var/lib/dha/install.journal", &journal("good", "image-A")),
            ("/var/lib/slots/A.img", "image-A and padding"),
            ("/var/lib/slots/B.img", "image-B"),
        ]);
        t.cfg.install.slots = vec![slot("A"), slot("B")];
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert!(r.findings.is_empty(), "{:?}", r.findings);

        t.write("/var/lib/slots/A.img", "image-X");
        t.write("/var/lib/dha/install.journal", &journal("bad", "image-A"));
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(
            locations(&r),
            ["/var/lib/dha/install.journal", "/var/lib/slots/A.img"]
        );
        // A recovery slot is a fallback.
        t.cfg.install.recovery = Some(SlotConfig {
            name: "recovery".to_owned(),
            kind: SlotKind::Block,
            path: PathBuf::from("/dev/mmcblk0p4"),
        });
        t.write("/var/lib/slots/A.img", "image-A");
        // An image root holds no /dev: the block slot counts, not verified.
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(locations(&r), ["/dev/mmcblk0p4"]);
        assert_eq!(r.findings[0].severity, Severity::Info);
        assert!(r.findings[0].title.contains("exists, not verified"));
        t.cfg.hardening.slot_verify_max_bytes = 3;
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(locations(&r), ["/dev/mmcblk0p4", "/var/lib/slots/A.img"]);
        assert!(r.findings.iter().all(|f| f.severity == Severity::Info));
    }

    fn recovery(kind: SlotKind, path: &str) -> SlotConfig {
        SlotConfig {
            name: "recovery".to_owned(),
            kind,
            path: PathBuf::from(path),
        }
    }

    fn recovery_journal(image: Option<&str>) -> String {
        let rec = match image {
            Some(i) => format!(
                ",\"recovery\":{{\"state\":\"good\",\"image\":{{\"target\":\"r.img\",\
                 \"release_counter\":1,\"sha256\":\"{}\",\"length\":{}}}}}",
                sha(i),
                i.len()
            ),
            None => String::new(),
        };
        format!(
            "{{\"schema_version\":1,\"slots\":{{\"A\":{{\"state\":\"good\"}},\
             \"B\":{{\"state\":\"bad\"}}{rec}}}}}"
        )
    }

    #[test]
    fn a_recovery_image_counts_only_when_it_exists_and_verifies() {
        let mut t = TestRoot::new(&[
            (
                "/var/lib/dha/install.journal",
                &recovery_journal(Some("rescue")),
            ),
            ("/var/lib/slots/recovery.img", ""),
        ]);
        t.cfg.install.slots = vec![slot("A"), slot("B")];
        t.cfg.install.recovery = Some(recovery(SlotKind::Image, "/var/lib/slots/recovery.img"));
        // A 0-byte file is no fallback.
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(locations(&r), ["/var/lib/dha/install.journal"]);
        assert_eq!(r.findings[0].severity, Severity::High);
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap_or("")
                .contains("is empty"),
            "{:?}",
            r.findings
        );
        // A different image: the mismatch (high), and no fallback (high).
        t.write("/var/lib/slots/recovery.img", "rescuX");
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(
            locations(&r),
            [
                "/var/lib/slots/recovery.img",
                "/var/lib/dha/install.journal"
            ]
        );
        // The recorded image: a fallback, nothing to report.
        t.write("/var/lib/slots/recovery.img", "rescue");
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        // No recorded hash: it counts, with an info finding.
        t.write("/var/lib/dha/install.journal", &recovery_journal(None));
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(locations(&r), ["/var/lib/slots/recovery.img"]);
        assert_eq!(r.findings[0].severity, Severity::Info);
        // Missing while the pair is good: medium.
        t.write("/var/lib/dha/install.journal", &journal("good", "image-A"));
        t.write("/var/lib/slots/A.img", "image-A");
        t.write("/var/lib/slots/B.img", "image-B");
        std::fs::remove_file(t.path("/var/lib/slots/recovery.img")).unwrap();
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(locations(&r), ["/var/lib/slots/recovery.img"]);
        assert_eq!(r.findings[0].severity, Severity::Medium);
        // A directory where an image should be.
        t.mkdir("/var/lib/slots/recovery.img", 0o755);
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(r.findings[0].severity, Severity::Medium);
    }

    #[test]
    fn a_live_block_recovery_slot_must_be_a_block_device() {
        use crate::audit::Auditor;
        use crate::clock::FixedClock;
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("install.journal");
        std::fs::write(&journal_path, recovery_journal(None)).unwrap();
        let mut cfg = crate::config::Config::default();
        cfg.install.journal = journal_path.clone();
        cfg.install.slots = vec![slot("A"), slot("B")];
        let missing = dir.path().join("no-such-device");
        cfg.install.recovery = Some(recovery(SlotKind::Block, &missing.to_string_lossy()));
        let root = crate::root::Root::open("/").unwrap();
        let clock = FixedClock::from_unix_secs(crate::testing::NOW);
        let run = |cfg: &crate::config::Config| {
            Auditor::new(cfg, &clock).run_checks(&root, &[("BAK-01", bak01_recovery_slot)])
        };
        let r = run(&cfg);
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].severity, Severity::High);
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap_or("")
                .contains("no such device"),
            "{:?}",
            r.findings
        );
        // A regular file is not a block device.
        cfg.install.recovery = Some(recovery(SlotKind::Block, &journal_path.to_string_lossy()));
        let r = run(&cfg);
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap_or("")
                .contains("not a block device")
        );
        // A real block device node (mknod, as root): present, not verified.
        let node = dir.path().join("blk");
        let made = std::process::Command::new("mknod")
            .arg(&node)
            .args(["b", "7", "200"])
            .status()
            .is_ok_and(|s| s.success());
        if made {
            assert!(is_block_device(&node));
            cfg.install.recovery = Some(recovery(SlotKind::Block, &node.to_string_lossy()));
            let r = run(&cfg);
            assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
            assert_eq!(r.findings[0].severity, Severity::Info);
        }
    }
}
