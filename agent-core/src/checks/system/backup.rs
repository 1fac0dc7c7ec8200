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
    let recovery_ok = pol.recovery.as_ref().is_some_and(|r| present(ctx, r));
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
        let recovery_note = match &pol.recovery {
            Some(r) => format!(
                "; recovery slot {} not found at {}",
                q(&r.name),
                r.path.display()
            ),
            None => "; no recovery slot".to_owned(),
        };
        out.push(
            ctx.finding("BAK-01", "no known-good slot to fall back to")
                .file(&journal_path)
                .observed(format!("{}{recovery_note}", states.join(", ")))
                .expected("both A/B slots good, or a recovery slot")
                .remediation("Install a verified image into the other slot (dha install) and confirm it, or provide a recovery slot.")
                .build(),
        );
    }
    let slots = pol.slots.iter().chain(pol.recovery.iter());
    for s in slots {
        if let Some(rec) = journal
            .slots
            .get(&s.name)
            .filter(|r| r.state == ContentState::Good)
        {
            verify(ctx, s, rec, &journal_path, &mut out);
        }
    }
    CheckOutcome::Ran(out)
}

/// True when the slot exists in the root (a block device is judged present:
/// an image holds no `/dev`).
fn present(ctx: &AuditContext<'_>, s: &SlotConfig) -> bool {
    s.kind == SlotKind::Block || ctx.root.exists(&device_path(&s.path))
}

fn verify(
    ctx: &AuditContext<'_>,
    s: &SlotConfig,
    rec: &SlotRecord,
    journal_path: &str,
    out: &mut Vec<Finding>,
) {
    let (SlotKind::Image, Some(image)) = (s.kind, &rec.image) else {
        return;
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
        return;
    }
    let file = match ctx.root.metadata(&path) {
        Ok(Some(m)) if m.kind == FileKind::File => ctx.root.resolve(&path, true).ok().flatten(),
        Ok(Some(_)) => {
            out.push(fail("not a regular file".to_owned()));
            return;
        }
        _ => None,
    };
    let Some(file) = file else {
        out.push(fail("absent".to_owned()));
        return;
    };
    match sha256_prefix(&file, image.length) {
        Ok(Some(d)) if d.eq_ignore_ascii_case(&image.sha256) => {}
        Ok(Some(d)) => out.push(fail(format!("SHA-256 {d}"))),
        Ok(None) => out.push(fail("shorter than the recorded image".to_owned())),
        Err(e) => out.push(fail(format!("cannot be read: {e}"))),
    }
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
        assert!(t.audit("BAK-01", bak01_recovery_slot).findings.is_empty());
        t.cfg.hardening.slot_verify_max_bytes = 3;
        let r = t.audit("BAK-01", bak01_recovery_slot);
        assert_eq!(r.findings[0].severity, Severity::Info);
    }
}
