//! Secure Boot, IMA/EVM, the kernel command line, device-mapper devices:
//! what `/proc` and `/sys` say about how the running system was booted.
//!
//! Every read is of a small pseudo-file, bounded by [`MAX_PSEUDO_FILE`];
//! anything absent or unreadable is `None` ("not measurable here"), never
//! a guess.

use dha_core::live::DmDevice;
use std::io::Read as _;
use std::path::Path;

/// The Secure Boot EFI variable (UEFI 2.10 §3.3, EFI_GLOBAL_VARIABLE GUID).
pub const SECURE_BOOT_VAR: &str =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0cb4ef5c8a8";

/// IMA's measurement count (securityfs, mounted by systemd at boot).
pub const IMA_COUNT: &str = "/sys/kernel/security/ima/runtime_measurements_count";

/// EVM's state (securityfs; Documentation/ABI/testing/evm).
pub const EVM: &str = "/sys/kernel/security/evm";

/// Largest pseudo-file read (a kernel command line is at most a few KiB;
/// `COMMAND_LINE_SIZE` is 2048 on x86, 4096 on arm64).
pub const MAX_PSEUDO_FILE: u64 = 64 * 1024;

/// Most device-mapper devices listed.
pub const MAX_DM_DEVICES: usize = 4096;

/// Most devices listed below one device-mapper device (`slaves/`).
pub const MAX_DM_SLAVES: usize = 256;

fn read_small(path: &Path) -> Option<Vec<u8>> {
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(MAX_PSEUDO_FILE).read_to_end(&mut buf).ok()?;
    Some(buf)
}

fn read_trimmed(path: &Path) -> Option<String> {
    read_small(path).map(|b| String::from_utf8_lossy(&b).trim().to_owned())
}

/// The kernel command line (`/proc/cmdline`), trimmed.
pub fn kernel_cmdline() -> Option<String> {
    read_trimmed(Path::new("/proc/cmdline"))
}

/// The UEFI Secure Boot state: the value byte after the 4 attribute bytes
/// of the `SecureBoot` variable (efivarfs layout, Documentation/filesystems/
/// efivarfs.rst) is 1 when on. `None` when the system did not boot through
/// UEFI or the variable is absent or short.
pub fn secure_boot() -> Option<bool> {
    secure_boot_from(&read_small(Path::new(SECURE_BOOT_VAR))?)
}

/// Interprets the bytes of the `SecureBoot` variable file.
pub fn secure_boot_from(bytes: &[u8]) -> Option<bool> {
    bytes.get(4).map(|v| *v == 1)
}

/// The number of IMA measurements; `None` when IMA (or securityfs) is absent.
pub fn ima_measurements() -> Option<u64> {
    read_trimmed(Path::new(IMA_COUNT))?.parse().ok()
}

/// The EVM mode (a bit mask; 0 is not initialised); `None` when EVM (or
/// securityfs) is absent.
pub fn evm_mode() -> Option<u32> {
    read_trimmed(Path::new(EVM))?.parse().ok()
}

/// The device-mapper devices: every `/sys/block/dm-N` with its `dm/name`
/// and `dm/uuid` (Documentation/ABI/testing/sysfs-block-dm) and the devices
/// directly below it, the entries of `slaves/` (Documentation/ABI/stable/
/// sysfs-block, "holders"/"slaves"). `None` when
/// `/sys/block` cannot be read; an empty list when there is none.
pub fn dm_devices() -> Option<Vec<DmDevice>> {
    dm_devices_in(Path::new("/sys/block"))
}

/// [`dm_devices`] under another `sys/block` directory (for tests).
pub fn dm_devices_in(sys_block: &Path) -> Option<Vec<DmDevice>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(sys_block).ok()?.flatten() {
        let kernel_name = e.file_name().to_string_lossy().into_owned();
        if !kernel_name.starts_with("dm-") || out.len() >= MAX_DM_DEVICES {
            continue;
        }
        let dm = e.path().join("dm");
        let Some(name) = read_trimmed(&dm.join("name")) else {
            continue;
        };
        out.push(DmDevice {
            kernel_name,
            name,
            uuid: read_trimmed(&dm.join("uuid")).unwrap_or_default(),
            slaves: slaves(&e.path().join("slaves")),
        });
    }
    out.sort_by(|a, b| a.kernel_name.cmp(&b.kernel_name));
    Some(out)
}

/// The entry names of a `slaves/` directory, sorted; empty when unreadable.
fn slaves(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .take(MAX_DM_SLAVES)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_the_kernels() {
        let raw = std::fs::read_to_string("/proc/cmdline").unwrap();
        assert_eq!(kernel_cmdline().as_deref(), Some(raw.trim()));
    }

    #[test]
    fn secure_boot_matches_the_efi_variable_or_its_absence() {
        match std::fs::read(SECURE_BOOT_VAR) {
            Ok(b) => assert_eq!(secure_boot(), b.get(4).map(|v| *v == 1)),
            Err(_) => assert_eq!(secure_boot(), None),
        }
        assert_eq!(secure_boot_from(&[6, 0, 0, 0, 1]), Some(true));
        assert_eq!(secure_boot_from(&[6, 0, 0, 0, 0]), Some(false));
        assert_eq!(secure_boot_from(&[6, 0, 0]), None);
    }

    #[test]
    fn ima_and_evm_match_securityfs() {
        let want = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
        assert_eq!(
            ima_measurements(),
            want(IMA_COUNT).and_then(|s| s.parse().ok())
        );
        assert_eq!(evm_mode(), want(EVM).and_then(|s| s.parse().ok()));
    }

    #[test]
    fn dm_devices_match_sys_block() {
        let want: Vec<String> = std::fs::read_dir("/sys/block")
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("dm-"))
            .collect();
        let got = dm_devices().unwrap();
        assert_eq!(got.len(), want.len());
        for d in &got {
            assert!(want.contains(&d.kernel_name));
        }
        // A fake sysfs tree: names, uuids, and a device without a dm directory.
        let dir = tempfile::tempdir().unwrap();
        for (k, name, uuid) in [
            ("dm-0", "sda3_crypt", "CRYPT-LUKS2-0123-sda3_crypt"),
            ("dm-1", "root", "CRYPT-VERITY-4567-root"),
        ] {
            let dm = dir.path().join(k).join("dm");
            std::fs::create_dir_all(&dm).unwrap();
            std::fs::write(dm.join("name"), format!("{name}\n")).unwrap();
            std::fs::write(dm.join("uuid"), format!("{uuid}\n")).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("dm-2")).unwrap();
        std::fs::create_dir_all(dir.path().join("vda")).unwrap();
        let v = dm_devices_in(dir.path()).unwrap();
        assert_eq!(v.len(), 2);
        assert!(v[0].is_crypt() && !v[0].is_verity());
        assert!(v[1].is_verity() && !v[1].is_crypt());
        assert_eq!(v[0].name, "sda3_crypt");
        assert!(v[0].slaves.is_empty());
        assert!(dm_devices_in(&dir.path().join("absent")).is_none());
    }

    #[test]
    fn dm_slaves_are_read_from_the_slaves_directory() {
        // LVM on LUKS: dm-1 (vg-root) sits on dm-0 (sda3_crypt) on sda3,
        // as sysfs links them (slaves/NAME -> ../../NAME).
        let dir = tempfile::tempdir().unwrap();
        for (k, name, uuid, below) in [
            ("dm-0", "sda3_crypt", "CRYPT-LUKS2-0123-sda3_crypt", "sda3"),
            ("dm-1", "vg-root", "LVM-abc", "dm-0"),
        ] {
            let dm = dir.path().join(k).join("dm");
            std::fs::create_dir_all(&dm).unwrap();
            std::fs::write(dm.join("name"), format!("{name}\n")).unwrap();
            std::fs::write(dm.join("uuid"), format!("{uuid}\n")).unwrap();
            let sl = dir.path().join(k).join("slaves");
            std::fs::create_dir_all(&sl).unwrap();
            std::os::unix::fs::symlink(format!("../../{below}"), sl.join(below)).unwrap();
        }
        let v = dm_devices_in(dir.path()).unwrap();
        assert_eq!(v[0].slaves, ["sda3"]);
        assert_eq!(v[1].slaves, ["dm-0"]);
        // The live tree: every dm device's slaves are its slaves/ entries.
        for d in dm_devices().unwrap() {
            let p = Path::new("/sys/block").join(&d.kernel_name).join("slaves");
            let mut want: Vec<String> = std::fs::read_dir(p)
                .map(|r| {
                    r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            want.sort();
            assert_eq!(d.slaves, want);
        }
    }
}
