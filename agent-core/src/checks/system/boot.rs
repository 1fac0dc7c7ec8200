//! BOOT-01 (the GRUB password and grub.cfg's permissions) and BOOT-02
//! (Secure Boot, IMA/EVM, dm-verity on the live system).

use super::{na, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::boot::BootBackend;
use crate::finding::{Finding, Severity};
use crate::root::FileKind;

/// The generated GRUB configuration: Debian's and upstream's place, then
/// Red Hat's (`grub2-mkconfig -o /boot/grub2/grub.cfg`).
pub const GRUB_CFGS: &[&str] = &["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"];

/// The EFI variable holding the Secure Boot state (UEFI 2.10 §3.3
/// "Globally Defined Variables", EFI_GLOBAL_VARIABLE GUID): 4 attribute
/// bytes, then 1 value byte (1 = enabled).
pub const SECURE_BOOT_VAR: &str =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0cb4ef5c8a8";

/// What one grub.cfg says about authentication (GRUB manual §18
/// "Authentication and authorisation": `set superusers=`, `password`,
/// `password_pbkdf2`).
#[derive(Debug, Default)]
struct GrubAuth {
    /// The last `set superusers=...` line and its value (quotes removed).
    superusers: Option<(u32, String)>,
    /// `password_pbkdf2 USER HASH` lines: line and hash word.
    pbkdf2: Vec<(u32, String)>,
    /// `password USER PLAINTEXT` lines (the password in clear in a file).
    plain: Vec<u32>,
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(s)
}

/// The net count of `{` minus `}` on a line, outside quotes.
fn brace_delta(line: &str) -> i64 {
    let mut quote: Option<char> = None;
    let mut d = 0i64;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{') => d = d.saturating_add(1),
            (None, '}') => d = d.saturating_sub(1),
            _ => {}
        }
    }
    d
}

/// Reads the authentication settings of a grub.cfg. Only what runs when
/// GRUB loads the file counts: a `set superusers=` at the top level, not
/// inside a `menuentry`/`submenu`/`function` body (`{ … }`, run only when
/// chosen or called) nor inside an `if`/`for`/`while` block (run only when
/// its condition holds), except Red Hat's 01_users block, whose condition
/// is that user.cfg sets `GRUB2_PASSWORD` (which [`pbkdf2_ok`] checks). A
/// later top-level `unset superusers` cancels it (GRUB manual §16.3
/// "unset"). Blocks are followed line by line, which is how grub-mkconfig
/// writes them.
fn parse_grub_auth(t: &crate::root::TextFile) -> GrubAuth {
    let mut a = GrubAuth::default();
    let mut braces = 0i64;
    // Enclosing if/for/while blocks: true for Red Hat's password block.
    let mut blocks: Vec<bool> = Vec::new();
    for (n, line) in t.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next();
        let last = line
            .split(|c: char| c.is_ascii_whitespace() || c == ';')
            .rfind(|w| !w.is_empty());
        let top = braces <= 0 && blocks.iter().all(|rh| *rh);
        match first {
            Some("set") if top => {
                if let Some(v) = line
                    .strip_prefix("set")
                    .map(str::trim_start)
                    .and_then(|r| r.strip_prefix("superusers="))
                {
                    a.superusers = Some((n, unquote(v).to_owned()));
                }
            }
            Some("unset") if top && words.any(|w| w == "superusers") => a.superusers = None,
            Some("password_pbkdf2") => {
                let _user = words.next();
                a.pbkdf2
                    .push((n, words.next().map(unquote).unwrap_or("").to_owned()));
            }
            Some("password") => a.plain.push(n),
            Some("if") if last != Some("fi") => {
                blocks.push(line.contains("GRUB2_PASSWORD") || line.contains("user.cfg"));
            }
            Some("for" | "while" | "until") if last != Some("done") => blocks.push(false),
            Some("fi" | "done") => {
                blocks.pop();
            }
            _ => {}
        }
        braces = braces.saturating_add(brace_delta(line));
    }
    a
}

/// True when `hash` is a GRUB PBKDF2 hash (`grub-mkpasswd-pbkdf2` output),
/// or the `${GRUB2_PASSWORD}` of Red Hat's grub.cfg and its `user.cfg`
/// holds one.
fn pbkdf2_ok(ctx: &AuditContext<'_>, cfg: &str, hash: &str) -> bool {
    if hash.starts_with("grub.pbkdf2.") {
        return true;
    }
    if hash == "${GRUB2_PASSWORD}" || hash == "$GRUB2_PASSWORD" {
        let dir = cfg.rsplit_once('/').map_or("/", |(d, _)| d);
        let user_cfg = format!("{dir}/user.cfg");
        return ctx.read_text(&user_cfg).is_some_and(|t| {
            t.lines().any(|(_, l)| {
                l.trim()
                    .strip_prefix("GRUB2_PASSWORD=")
                    .is_some_and(|v| unquote(v).starts_with("grub.pbkdf2."))
            })
        });
    }
    false
}

/// BOOT-01 (Lynis BOOT-5122; SSG grub2_password, file_permissions_grub2_cfg,
/// file_owner_grub2_cfg): GRUB asks for a superuser's password before an
/// entry is edited or its command line changed (`set superusers=` and a
/// `password_pbkdf2` hash in grub.cfg, or Red Hat's `user.cfg`), and
/// grub.cfg is root's, mode 0600 or stricter (it holds the hash).
///
/// A root without grub.cfg does not boot through GRUB (a U-Boot device): not
/// applicable, unless `hardening.grub_required` or `boot.backend = "grub"`
/// says it should.
pub fn boot01_bootloader(ctx: &AuditContext<'_>) -> CheckOutcome {
    let mut out = Vec::new();
    let mut seen = 0usize;
    for cfg in GRUB_CFGS {
        let m = match ctx.root.metadata(cfg) {
            Ok(Some(m)) if m.kind == FileKind::File => m,
            Ok(_) => continue,
            Err(e) => {
                super::warn_at(ctx, cfg, None, "", e.to_string());
                continue;
            }
        };
        seen = seen.saturating_add(1);
        if let Some(t) = ctx.read_text(cfg) {
            grub_password(ctx, cfg, &t, &mut out);
        }
        let perms = format!("mode {:04o}, owner {}, group {}", m.mode, m.uid, m.gid);
        if m.mode & 0o077 != 0 {
            out.push(
                ctx.finding("BOOT-01", format!("{cfg} can be read by others than root"))
                    .severity(if m.mode & 0o022 != 0 {
                        Severity::High
                    } else {
                        Severity::Medium
                    })
                    .file(*cfg)
                    .observed(perms.clone())
                    .expected("mode 0600 or stricter (0400), owner root")
                    .remediation(format!("chmod 0600 {cfg}"))
                    .ssg(&["file_permissions_grub2_cfg"])
                    .build(),
            );
        }
        if m.uid != 0 {
            out.push(
                ctx.finding("BOOT-01", format!("{cfg} is not owned by root"))
                    .file(*cfg)
                    .observed(perms)
                    .expected("owner 0 (root)")
                    .remediation(format!("chown root:root {cfg}"))
                    .ssg(&["file_owner_grub2_cfg"])
                    .build(),
            );
        }
    }
    if seen == 0 {
        let required =
            ctx.config.hardening.grub_required || ctx.config.boot.backend == BootBackend::Grub;
        if !required {
            return na(
                "no /boot/grub/grub.cfg or /boot/grub2/grub.cfg: the device does not boot \
                 through GRUB (set hardening.grub_required if it should)",
            );
        }
        out.push(
            ctx.finding(
                "BOOT-01",
                "the device boots through GRUB but has no grub.cfg",
            )
            .file("/boot/grub/grub.cfg")
            .observed("absent (also /boot/grub2/grub.cfg)")
            .expected("a grub.cfg with set superusers= and password_pbkdf2, mode 0600")
            .remediation("Run update-grub (grub-mkconfig -o /boot/grub/grub.cfg).")
            .ssg(&["grub2_password"])
            .build(),
        );
    }
    CheckOutcome::Ran(out)
}

fn grub_password(
    ctx: &AuditContext<'_>,
    cfg: &str,
    t: &crate::root::TextFile,
    out: &mut Vec<Finding>,
) {
    let a = parse_grub_auth(t);
    let remediation = "Add to /etc/grub.d/40_custom: set superusers=\"root\" and \
        password_pbkdf2 root <hash from grub-mkpasswd-pbkdf2>; run update-grub \
        (or grub2-setpassword on Red Hat).";
    for line in &a.plain {
        out.push(
            ctx.finding("BOOT-01", "the GRUB password is stored in clear text")
                .at(cfg, *line)
                .observed("password USER PASSWORD")
                .expected("password_pbkdf2 USER grub.pbkdf2.sha512.…")
                .remediation(remediation)
                .ssg(&["grub2_password"])
                .build(),
        );
    }
    match &a.superusers {
        None => out.push(
            ctx.finding(
                "BOOT-01",
                "GRUB has no superuser: anyone at the console can edit the boot entries",
            )
            .file(cfg)
            .observed("no set superusers=")
            .expected("set superusers=\"root\" with a password_pbkdf2 entry")
            .remediation(remediation)
            .ssg(&["grub2_password"])
            .build(),
        ),
        Some((line, v)) if v.trim().is_empty() => out.push(
            ctx.finding("BOOT-01", "GRUB's superuser list is empty")
                .at(cfg, *line)
                .observed(format!("superusers={}", q(v)))
                .expected("set superusers=\"root\"")
                .remediation(remediation)
                .ssg(&["grub2_password"])
                .build(),
        ),
        Some(_) => {
            if !a.pbkdf2.iter().any(|(_, h)| pbkdf2_ok(ctx, cfg, h)) {
                let f = ctx
                    .finding(
                        "BOOT-01",
                        "GRUB has a superuser but no PBKDF2 password hash",
                    )
                    .observed(match a.pbkdf2.first() {
                        Some((_, h)) => format!("password_pbkdf2 with {}", q(h)),
                        None => "no password_pbkdf2 line".to_owned(),
                    })
                    .expected("password_pbkdf2 USER grub.pbkdf2.sha512.…")
                    .remediation(remediation)
                    .ssg(&["grub2_password"]);
                out.push(match a.pbkdf2.first() {
                    Some((line, _)) => f.at(cfg, *line).build(),
                    None => f.file(cfg).build(),
                });
            }
        }
    }
}

/// BOOT-02 (Lynis BOOT-5116, FINT-4339, FINT-4341; IEC 62443-4-2 HDR 3.14
/// RE1, CR 3.4 RE1), live only: the firmware verifies the boot loader (UEFI
/// Secure Boot, medium when off or absent), IMA measures files beyond the
/// boot aggregate and EVM protects their attributes (low each), and the
/// root filesystem is verified by dm-verity (low): each a layer a device
/// with a read-only root can add.
pub fn boot02_verified_boot(ctx: &AuditContext<'_>) -> CheckOutcome {
    let Some(host) = ctx.live() else {
        return na(
            "live only: Secure Boot, IMA/EVM and dm-verity are measured on the running \
             system (an image cannot say how it was booted)",
        );
    };
    let mut out = Vec::new();
    match host.secure_boot() {
        Some(true) => {}
        Some(false) => out.push(
            ctx.finding(
                "BOOT-02",
                "UEFI Secure Boot is off: the firmware boots any boot loader",
            )
            .file(SECURE_BOOT_VAR)
            .observed("SecureBoot = 0")
            .expected("SecureBoot = 1")
            .remediation("Enrol the platform keys and enable Secure Boot in the firmware setup.")
            .build(),
        ),
        None => {
            let uefi = ctx.root.exists("/sys/firmware/efi");
            out.push(
                ctx.finding(
                    "BOOT-02",
                    if uefi {
                        "the SecureBoot EFI variable is absent: Secure Boot is not in force"
                    } else {
                        "the system did not boot through UEFI: no Secure Boot verifies the boot loader"
                    },
                )
                .file(if uefi { SECURE_BOOT_VAR } else { "/sys/firmware/efi" })
                .observed(if uefi { "no SecureBoot variable" } else { "legacy BIOS or other firmware (no /sys/firmware/efi)" })
                .expected("UEFI with Secure Boot on (or a firmware that verifies the boot chain)")
                .remediation("Boot through UEFI with Secure Boot enabled, or document the verified-boot mechanism of the firmware.")
                .build(),
            );
        }
    }
    match host.ima_measurements() {
        Some(n) if n > 1 => {}
        other => out.push(
            ctx.finding("BOOT-02", "IMA does not measure files")
                .severity(Severity::Low)
                .file("/sys/kernel/security/ima/runtime_measurements_count")
                .observed(match other {
                    Some(n) => format!("{n} measurement(s): the boot aggregate only, no IMA policy"),
                    None => "IMA not available".to_owned(),
                })
                .expected("an IMA policy (ima_policy=tcb or a custom policy) measuring executables")
                .remediation("Boot with ima_policy=tcb (or load a custom IMA policy) and appraise with ima_appraise.")
                .build(),
        ),
    }
    match host.evm_mode() {
        Some(m) if m != 0 => {}
        other => out.push(
            ctx.finding("BOOT-02", "EVM does not protect file attributes")
                .severity(Severity::Low)
                .file("/sys/kernel/security/evm")
                .observed(match other {
                    Some(m) => format!("evm = {m} (not initialised)"),
                    None => "EVM not available".to_owned(),
                })
                .expected("EVM initialised (a non-zero mode)")
                .remediation("Load an EVM key (HMAC or signatures) at boot and enable EVM.")
                .build(),
        ),
    }
    let cmdline = host.kernel_cmdline().unwrap_or_default();
    let verity_cmdline = cmdline.split_whitespace().any(|w| {
        w.starts_with("roothash=")
            || w.starts_with("systemd.verity")
            || (w.starts_with("dm-mod.create=") && w.contains("verity"))
    });
    let verity_dm = host
        .dm_devices()
        .is_some_and(|d| d.iter().any(crate::live::DmDevice::is_verity));
    if !verity_cmdline && !verity_dm {
        out.push(
            ctx.finding("BOOT-02", "no filesystem is verified by dm-verity")
                .severity(Severity::Low)
                .file("/proc/cmdline")
                .observed("no CRYPT-VERITY device-mapper device; no roothash= or systemd.verity on the command line")
                .expected("a read-only root verified by dm-verity (roothash= / systemd.verity)")
                .remediation("Ship the root filesystem read-only with a dm-verity hash tree and a signed root hash.")
                .build(),
        );
    }
    CheckOutcome::Ran(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestRoot, locations, not_applicable, reason};

    const GOOD: &str = "set superusers=\"root\"\n\
        password_pbkdf2 root grub.pbkdf2.sha512.10000.AB.CD\n\
        menuentry 'Debian' --unrestricted {\n  linux /vmlinuz\n}\n";

    #[test]
    fn a_protected_grub_cfg_passes_and_weak_ones_are_reported_at_their_line() {
        let t = TestRoot::new(&[("/boot/grub/grub.cfg", GOOD)]);
        t.mode("/boot/grub/grub.cfg", 0o600);
        let r = t.audit("BOOT-01", boot01_bootloader);
        assert!(r.findings.is_empty(), "{:?}", r.findings);

        let t = TestRoot::new(&[(
            "/boot/grub/grub.cfg",
            "# set superusers=\"root\"\nset superusers=\"\"\npassword root secret\n",
        )]);
        t.mode("/boot/grub/grub.cfg", 0o644);
        let r = t.audit("BOOT-01", boot01_bootloader);
        assert_eq!(
            locations(&r),
            [
                "/boot/grub/grub.cfg:3",
                "/boot/grub/grub.cfg:2",
                "/boot/grub/grub.cfg"
            ]
        );
    }

    #[test]
    fn red_hat_user_cfg_counts_when_it_holds_a_hash() {
        let cfg = "set superusers=\"root\"\npassword_pbkdf2 root ${GRUB2_PASSWORD}\n";
        let t = TestRoot::new(&[("/boot/grub2/grub.cfg", cfg)]);
        t.mode("/boot/grub2/grub.cfg", 0o600);
        assert_eq!(
            locations(&t.audit("BOOT-01", boot01_bootloader)),
            ["/boot/grub2/grub.cfg:2"]
        );
        t.write(
            "/boot/grub2/user.cfg",
            "GRUB2_PASSWORD=grub.pbkdf2.sha512.1.A.B\n",
        );
        assert!(t.audit("BOOT-01", boot01_bootloader).findings.is_empty());
    }

    #[test]
    fn only_top_level_superusers_count_and_unset_cancels() {
        let hash = "password_pbkdf2 root grub.pbkdf2.sha512.10000.AB.CD\n";
        let t = TestRoot::new(&[]);
        let audit = |cfg: &str| {
            t.write("/boot/grub/grub.cfg", cfg);
            t.mode("/boot/grub/grub.cfg", 0o600);
            let r = t.audit("BOOT-01", boot01_bootloader);
            r.findings.into_iter().map(|f| f.title).collect::<Vec<_>>()
        };
        let none = "GRUB has no superuser: anyone at the console can edit the boot entries";
        // Inside a menu entry: runs only when that entry is chosen.
        assert_eq!(
            audit(&format!(
                "{hash}menuentry 'Debian' {{\n  set superusers=\"root\"\n  linux /vmlinuz\n}}\n"
            )),
            [none]
        );
        // Inside an if block, and a one-line if.
        assert_eq!(
            audit(&format!(
                "{hash}if [ \"$x\" = y ]; then\n  set superusers=\"root\"\nfi\n"
            )),
            [none]
        );
        assert_eq!(
            audit(&format!(
                "{hash}if [ -n \"$x\" ]; then set superusers=root; fi\n"
            )),
            [none]
        );
        // A later top-level unset cancels; one inside an entry does not.
        assert_eq!(
            audit(&format!(
                "set superusers=\"root\"\n{hash}unset superusers\n"
            )),
            [none]
        );
        assert!(
            audit(&format!(
                "set superusers=\"root\"\n{hash}menuentry 'x' {{\n unset superusers\n}}\n\
                 menuentry 'y {{' {{\n}}\nset superusers=\"root\"\n"
            ))
            .is_empty()
        );
        // After the block closes, top level again.
        assert!(
            audit(&format!(
                "if [ x ]; then\n  insmod part_gpt\nfi\nfunction f {{\n  true\n}}\n\
                 set superusers=\"root\"\n{hash}"
            ))
            .is_empty()
        );
    }

    #[test]
    fn red_hat_01_users_block_counts() {
        let cfg = "### BEGIN /etc/grub.d/01_users ###\n\
            if [ -f ${prefix}/user.cfg ]; then\n\
              source ${prefix}/user.cfg\n\
              if [ -n \"${GRUB2_PASSWORD}\" ]; then\n\
                set superusers=\"root\"\n\
                export superusers\n\
                password_pbkdf2 root ${GRUB2_PASSWORD}\n\
              fi\n\
            fi\n";
        let t = TestRoot::new(&[
            ("/boot/grub2/grub.cfg", cfg),
            (
                "/boot/grub2/user.cfg",
                "GRUB2_PASSWORD=grub.pbkdf2.sha512.1.A.B\n",
            ),
        ]);
        t.mode("/boot/grub2/grub.cfg", 0o600);
        let r = t.audit("BOOT-01", boot01_bootloader);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn no_grub_is_not_applicable_unless_required() {
        let mut t = TestRoot::new(&[("/etc/hostname", "x\n")]);
        let r = t.audit("BOOT-01", boot01_bootloader);
        assert!(not_applicable(&r));
        assert!(reason(&r).contains("grub_required"));
        t.cfg.hardening.grub_required = true;
        assert_eq!(
            locations(&t.audit("BOOT-01", boot01_bootloader)),
            ["/boot/grub/grub.cfg"]
        );
    }

    #[test]
    fn verified_boot_is_live_only() {
        let t = TestRoot::new(&[]);
        let r = t.audit("BOOT-02", boot02_verified_boot);
        assert!(not_applicable(&r));
        assert!(reason(&r).contains("live only"));
    }
}
