//! ENC-01: the filesystems holding the device's data are encrypted
//! (dm-crypt: LUKS or plain).

use super::q;
use crate::audit::{AuditContext, CheckOutcome};
use crate::live::DmDevice;
use crate::parse::crypttab::{CRYPTTAB, CryptEntry, parse_crypttab};
use crate::parse::fstab::{self, FstabEntry};
use std::collections::BTreeMap;

/// The static filesystem table.
pub const FSTAB: &str = "/etc/fstab";

/// The live mount table, as the findings name it.
pub const PROC_MOUNTS: &str = "/proc/self/mounts";

/// A filesystem a data path lives on: where it is mounted, its source, and
/// where it is described.
struct Holder {
    target: String,
    source: String,
    line: Option<u32>,
}

/// ENC-01 (Lynis CRYP-7930; IEC 62443-4-2 CR 4.1; MDS2 STCF).
///
/// Each of `hardening.data_mounts` that exists in the root (or has its own
/// fstab line) is judged by the filesystem holding it: the fstab(5) entry
/// with the longest mount point above it (`/` when none). It is encrypted
/// when that entry's source is `/dev/mapper/NAME` (or
/// `/dev/disk/by-id/dm-name-NAME`) with `NAME` a crypttab(5) volume, or
/// another device-mapper or LVM path while crypttab lists a persistent
/// volume (LVM on LUKS, the Debian installer's "encrypted LVM": the mapping
/// below LVM is not visible in fstab, so this is assumed). One medium
/// finding per unencrypted filesystem, at its fstab line, naming the data
/// paths on it.
///
/// Live (root `/` with a mount table and device-mapper list): the same
/// judgement on `/proc/self/mounts`, a source being encrypted when an
/// encrypting dm-crypt mapping (`CRYPT-LUKS1/2-`, `CRYPT-PLAIN-`, …, see
/// [`DmDevice::is_crypt`]) is its device-mapper device or lies below it in
/// the device stack (`/sys/block/dm-N/slaves/`, recursively: LVM on LUKS);
/// a mapping crypttab keys at random (`swap`, `tmp`, `/dev/urandom`) never
/// counts. The live result replaces the fstab one.
pub fn enc01_encryption(ctx: &AuditContext<'_>) -> CheckOutcome {
    let crypt: Vec<CryptEntry> = ctx
        .read_text(CRYPTTAB)
        .map(|t| parse_crypttab(&t, &mut |d| ctx.warn(d)))
        .unwrap_or_default();
    let persistent_crypt = crypt.iter().any(|c| !c.ephemeral());
    let random: Vec<&str> = crypt
        .iter()
        .filter(|c| random_key(c))
        .map(|c| c.name.as_str())
        .collect();
    let data: Vec<String> = ctx
        .config
        .hardening
        .data_mounts
        .iter()
        .map(|m| crate::root::display_path(m.trim_end_matches('/')))
        .map(|m| if m.is_empty() { "/".to_owned() } else { m })
        .collect();
    let live = ctx
        .live()
        .and_then(|h| Some((h.mounts()?, h.dm_devices().unwrap_or_default())));
    // Warnings of malformed fstab lines come from FS-01, which reads it too.
    let fstab: Option<Vec<FstabEntry>> =
        ctx.read_text(FSTAB).map(|t| fstab::parse(&t, &mut |_| {}));
    let present: Vec<&String> = data
        .iter()
        .filter(|d| {
            ctx.root.exists(d)
                || fstab
                    .as_ref()
                    .is_some_and(|f| fstab::mounted_at(f, d).is_some())
        })
        .collect();
    if present.is_empty() {
        return super::na(format!(
            "none of the data paths (hardening.data_mounts: {}) exists in this root",
            data.join(", ")
        ));
    }
    // (holder, its data paths), keyed by mount point.
    let mut unencrypted: BTreeMap<String, (Holder, Vec<String>)> = BTreeMap::new();
    let (file, live_mode) = match &live {
        Some(_) => (PROC_MOUNTS, true),
        None => (FSTAB, false),
    };
    for d in present {
        let (holder, encrypted) = match &live {
            Some((mounts, dms)) => {
                let Some(m) = longest(mounts.iter().map(|m| (m.target.as_str(), m)), d) else {
                    continue;
                };
                (
                    Holder {
                        target: m.target.clone(),
                        source: m.source.clone(),
                        line: None,
                    },
                    live_encrypted(&m.source, dms, &random),
                )
            }
            None => match fstab
                .as_ref()
                .and_then(|f| longest(f.iter().map(|e| (e.target.as_str(), e)), d))
            {
                Some(e) => (
                    Holder {
                        target: e.target.clone(),
                        source: e.source.clone(),
                        line: Some(e.line),
                    },
                    fstab_encrypted(&e.source, &crypt, persistent_crypt),
                ),
                None => (
                    Holder {
                        target: "/".to_owned(),
                        source: "(no fstab entry)".to_owned(),
                        line: None,
                    },
                    false,
                ),
            },
        };
        if !encrypted {
            unencrypted
                .entry(holder.target.clone())
                .or_insert_with(|| (holder, Vec::new()))
                .1
                .push(d.clone());
        }
    }
    let out = unencrypted
        .into_values()
        .map(|(h, paths)| {
            let f = ctx
                .finding(
                    "ENC-01",
                    format!(
                        "data at rest is not encrypted: {} {} on an unencrypted filesystem",
                        paths.join(", "),
                        if paths.len() > 1 { "are" } else { "is" }
                    ),
                )
                .observed(format!("{} mounted from {}", h.target, q(&h.source)))
                .expected(if live_mode {
                    "a dm-crypt (LUKS) device-mapper source".to_owned()
                } else {
                    format!("a /dev/mapper/NAME source with NAME in {CRYPTTAB}")
                })
                .remediation(
                    "Put the data filesystems on LUKS2 volumes (cryptsetup luksFormat; \
                     list them in /etc/crypttab, unlocked by TPM2 or a key server), \
                     and mount them from /dev/mapper.",
                );
            match h.line {
                Some(l) => f.at(file, l).build(),
                None => f.file(file).build(),
            }
        })
        .collect();
    CheckOutcome::Ran(out)
}

/// The item whose mount point is the longest prefix (by path component) of
/// `path`; the last such line wins when a point is mounted twice.
fn longest<'a, T>(items: impl Iterator<Item = (&'a str, T)>, path: &str) -> Option<T> {
    let mut best: Option<(usize, T)> = None;
    for (target, item) in items {
        let t = target.trim_end_matches('/');
        let covers =
            t.is_empty() || path == t || path.strip_prefix(t).is_some_and(|r| r.starts_with('/'));
        if covers && best.as_ref().is_none_or(|(l, _)| t.len() >= *l) {
            best = Some((t.len(), item));
        }
    }
    best.map(|(_, i)| i)
}

fn mapper_name(source: &str) -> Option<&str> {
    source
        .strip_prefix("/dev/mapper/")
        .or_else(|| source.strip_prefix("/dev/disk/by-id/dm-name-"))
}

fn fstab_encrypted(source: &str, crypt: &[CryptEntry], persistent_crypt: bool) -> bool {
    if let Some(name) = mapper_name(source) {
        if crypt.iter().any(|c| c.name == name) {
            return true;
        }
        // LVM (VG-LV) on a crypttab volume.
        return persistent_crypt;
    }
    // /dev/VG/LV: an LVM path (not a partition such as /dev/sda1).
    let lvm = source
        .strip_prefix("/dev/")
        .is_some_and(|r| r.split('/').count() == 2 && !r.starts_with("disk/"));
    lvm && persistent_crypt
}

/// True when a crypttab volume is keyed afresh from a random source at every
/// boot (`swap`/`tmp`, or `/dev/urandom` / `/dev/random` as key file,
/// crypttab(5)): it protects nothing that must outlive the boot.
fn random_key(c: &CryptEntry) -> bool {
    c.ephemeral()
        || c.key_file
            .as_deref()
            .is_some_and(|k| k == "/dev/urandom" || k == "/dev/random")
}

/// Most device-mapper levels followed down from a mount's source.
const MAX_STACK_DEPTH: usize = 16;

/// True when the live source is a device-mapper device with an encrypting
/// mapping ([`DmDevice::is_crypt`]) at it or below it in the device stack
/// (its `slaves`, recursively: LVM on LUKS is `vg-lv` → `sdaN_crypt` →
/// `sdaN`). A mapping crypttab names as random-keyed (`random`) never
/// counts: a swap or tmp volume elsewhere says nothing about the data.
fn live_encrypted(source: &str, dms: &[DmDevice], random: &[&str]) -> bool {
    let top = match mapper_name(source) {
        Some(name) => dms.iter().find(|d| d.name == name),
        None => source
            .strip_prefix("/dev/")
            .and_then(|k| dms.iter().find(|d| d.kernel_name == k)),
    };
    let mut todo: Vec<(&DmDevice, usize)> = top.into_iter().map(|d| (d, 0)).collect();
    let mut seen: Vec<&str> = Vec::new();
    while let Some((d, depth)) = todo.pop() {
        if seen.contains(&d.kernel_name.as_str()) {
            continue;
        }
        seen.push(&d.kernel_name);
        if d.is_crypt() && !random.contains(&d.name.as_str()) {
            return true;
        }
        if depth >= MAX_STACK_DEPTH {
            continue;
        }
        for s in &d.slaves {
            if let Some(below) = dms.iter().find(|x| &x.kernel_name == s) {
                todo.push((below, depth.saturating_add(1)));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestRoot, locations, not_applicable};

    #[test]
    fn data_on_crypttab_volumes_passes_and_plain_partitions_are_reported() {
        let t = TestRoot::new(&[
            (
                FSTAB,
                "UUID=1 / ext4 defaults 0 1\n\
                 /dev/mapper/data /var/lib ext4 defaults 0 2\n\
                 /dev/mapper/home /home ext4 defaults 0 2\n",
            ),
            (CRYPTTAB, "data UUID=2 none luks\nhome UUID=3 none luks\n"),
        ]);
        t.mkdir("/var/lib/app", 0o755);
        t.mkdir("/home", 0o755);
        t.mkdir("/srv", 0o755);
        let r = t.audit("ENC-01", enc01_encryption);
        // /srv is on the unencrypted root.
        assert_eq!(locations(&r), ["/etc/fstab:1"]);
        assert!(r.findings[0].title.contains("/srv"), "{:?}", r.findings);
        t.write(
            CRYPTTAB,
            "data UUID=2 none luks\ncswap /dev/sda3 /dev/urandom swap\n",
        );
        t.write(
            FSTAB,
            "/dev/mapper/root / ext4 defaults 0 1\n/dev/mapper/data /var/lib ext4 defaults 0 2\n",
        );
        // root is not a crypttab volume but LVM-on-LUKS is assumed: a persistent volume exists.
        assert!(t.audit("ENC-01", enc01_encryption).findings.is_empty());
        t.write(CRYPTTAB, "cswap /dev/sda3 /dev/urandom swap\n");
        assert_eq!(
            locations(&t.audit("ENC-01", enc01_encryption)),
            ["/etc/fstab:1", "/etc/fstab:2"]
        );
    }

    #[test]
    fn no_fstab_and_no_data_paths() {
        let t = TestRoot::new(&[]);
        assert!(not_applicable(&t.audit("ENC-01", enc01_encryption)));
        t.mkdir("/var/lib", 0o755);
        assert_eq!(locations(&t.audit("ENC-01", enc01_encryption)), [FSTAB]);
    }

    fn dm(k: &str, name: &str, uuid: &str, slaves: &[&str]) -> DmDevice {
        DmDevice {
            kernel_name: k.into(),
            name: name.into(),
            uuid: uuid.into(),
            slaves: slaves.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn live_sources_are_encrypted_only_with_a_crypt_mapping_below_them() {
        let dms = vec![
            dm(
                "dm-0",
                "sda3_crypt",
                "CRYPT-LUKS2-abc-sda3_crypt",
                &["sda3"],
            ),
            dm("dm-1", "vg-root", "LVM-xyz", &["dm-0"]),
            dm("dm-2", "vg2-data", "LVM-uvw", &["sdb1"]),
            dm("dm-3", "cswap", "CRYPT-PLAIN-cswap", &["sda2"]),
            dm("dm-4", "integ", "CRYPT-INTEGRITY-def-integ", &["sdc1"]),
            dm("dm-5", "vg3-lv", "LVM-rst", &["dm-4"]),
            dm("dm-6", "tmpcrypt", "CRYPT-PLAIN-tmpcrypt", &["sdd1"]),
        ];
        assert!(live_encrypted("/dev/mapper/sda3_crypt", &dms, &[]));
        assert!(live_encrypted("/dev/mapper/vg-root", &dms, &[]));
        assert!(live_encrypted("/dev/dm-0", &dms, &[]));
        assert!(!live_encrypted("/dev/vda1", &dms, &[]));
        // LVM on a plain disk, while a random-key swap mapping exists.
        assert!(!live_encrypted("/dev/mapper/vg2-data", &dms, &["cswap"]));
        // LVM on dm-integrity only: integrity is not encryption.
        assert!(!live_encrypted("/dev/mapper/vg3-lv", &dms, &[]));
        // A random-keyed mapping is never a data volume's encryption.
        assert!(!live_encrypted("/dev/mapper/tmpcrypt", &dms, &["tmpcrypt"]));
        assert!(live_encrypted("/dev/mapper/tmpcrypt", &dms, &[]));
        // A slave cycle (impossible in sysfs) ends.
        let cyc = vec![
            dm("dm-0", "a", "LVM-a", &["dm-1"]),
            dm("dm-1", "b", "LVM-b", &["dm-0"]),
        ];
        assert!(!live_encrypted("/dev/mapper/a", &cyc, &[]));
    }

    #[test]
    fn random_keys_come_from_crypttab() {
        let t = crate::root::TextFile::from_bytes(
            CRYPTTAB,
            b"cswap /dev/sda2 /dev/urandom swap\nt /dev/sdd1 /dev/urandom plain\ndata UUID=1 none luks\n",
            false,
        );
        let c = parse_crypttab(&t, &mut |_| {});
        let r: Vec<&str> = c
            .iter()
            .filter(|c| random_key(c))
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(r, ["cswap", "t"]);
    }
}
