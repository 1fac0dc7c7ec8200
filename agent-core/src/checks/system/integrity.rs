//! INT-01: the integrity baseline of `[integrity]` exists, its seal
//! verifies with the configured key, it is recent and was checked recently;
//! and installed package files still match their dpkg digests.

use super::{DAY_SECS, device_path, warn_at};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Finding, Severity};
use crate::integrity::checked::{CheckRecord, SUFFIX};
use crate::integrity::{VerifyKey, read_baseline};
use crate::root::{FileKind, join};
use std::collections::BTreeSet;
use std::io::Read as _;
use std::time::UNIX_EPOCH;

/// dpkg's per-package control files (dpkg(1) "FILES"): `<pkg>.md5sums`
/// (`MD5  path` lines, paths relative to `/`) and `<pkg>.conffiles`.
pub const DPKG_INFO: &str = "/var/lib/dpkg/info";

/// dpkg's diversions (dpkg-divert(1)): triples of lines, the diverted path,
/// where it went, and the package diverting it ("`:`" for a local one).
pub const DPKG_DIVERSIONS: &str = "/var/lib/dpkg/diversions";

/// INT-01 (Lynis FINT-4314..4316, PKGS-7370; SSG aide_build_database,
/// aide_periodic_cron_checking; IEC 62443-4-2 CR 3.4 RE2).
///
/// The baseline: absent, unverifiable (no key, a key that cannot be read,
/// a seal that does not verify: high), older than
/// `hardening.baseline_max_age_days` (medium), not checked (no record
/// beside it, written by `dha integrity check`) or not within
/// `hardening.check_max_age_days` (medium).
///
/// The package files: each file listed in `/var/lib/dpkg/info/*.md5sums`
/// is hashed and compared (as `dpkg --verify` does), at most
/// `hardening.dpkg_verify_max_files` a run. MD5 is what dpkg records: this
/// is a consistency check against accidental or careless change, not a
/// security claim (a deliberate attacker can forge MD5 collisions and can
/// rewrite the md5sums file; the sealed baseline is the security claim).
/// Configuration files (`<pkg>.conffiles`) are meant to change and are
/// skipped, as are diverted files (dpkg-divert(1)) and files that are
/// absent (a `path-exclude` in dpkg.cfg.d removes documentation on
/// purpose). A changed file is a medium finding naming it.
pub fn int01_integrity(ctx: &AuditContext<'_>) -> CheckOutcome {
    let mut out = Vec::new();
    baseline(ctx, &mut out);
    dpkg_digests(ctx, &mut out);
    CheckOutcome::Ran(out)
}

fn baseline(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let pol = &ctx.config.integrity;
    let bl = device_path(&pol.baseline);
    let key_path = device_path(&pol.key);
    let fix = "Make a baseline (dha integrity init --config /etc/dha/dha.toml), check \
               against it regularly (dha integrity check, from a timer), and accept \
               intended changes (dha integrity accept).";
    let Some(bl_file) = regular_file(ctx, &bl) else {
        out.push(
            ctx.finding(
                "INT-01",
                "no integrity baseline: file changes cannot be detected",
            )
            .file(&bl)
            .observed("absent")
            .expected("a sealed baseline made by dha integrity init ([integrity] baseline)")
            .remediation(fix)
            .ssg(&["aide_build_database"])
            .build(),
        );
        return;
    };
    let key = match regular_file(ctx, &key_path) {
        None => Err("absent".to_owned()),
        Some(k) => VerifyKey::load(&k).map_err(|e| strip_root(ctx, &e.to_string())),
    };
    let key = match key {
        Ok(k) => k,
        Err(why) => {
            out.push(
                ctx.finding("INT-01", "the baseline's key cannot be read: its seal cannot be verified")
                    .file(&key_path)
                    .observed(why)
                    .expected("the Ed25519 public key (or HMAC key) that sealed the baseline ([integrity] key)")
                    .remediation("Install the baseline's verifying key at [integrity] key.")
                    .ssg(&["aide_build_database"])
                    .build(),
            );
            return;
        }
    };
    let b = match read_baseline(&bl_file, &key) {
        Ok(b) => b,
        Err(e) => {
            out.push(
                ctx.finding(
                    "INT-01",
                    "the integrity baseline is refused: its seal does not verify",
                )
                .file(&bl)
                .observed(strip_root(ctx, &e.to_string()))
                .expected(format!("a baseline sealed by key {}", key.key_id()))
                .remediation(fix)
                .ssg(&["aide_build_database"])
                .build(),
            );
            return;
        }
    };
    let now = unix_secs(ctx.clock.now());
    let hp = &ctx.config.hardening;
    let age_days = now.saturating_sub(b.created.secs) / i64::try_from(DAY_SECS).unwrap_or(1);
    if hp.baseline_max_age_days != 0 && age_days > i64::from(hp.baseline_max_age_days) {
        out.push(
            ctx.finding("INT-01", "the integrity baseline is old")
                .severity(Severity::Medium)
                .file(&bl)
                .observed(format!("made {age_days} days ago ({})", b.created))
                .expected(format!(
                    "at most {} days old (hardening.baseline_max_age_days)",
                    hp.baseline_max_age_days
                ))
                .remediation(
                    "Review the changes since the baseline and renew it (dha integrity accept).",
                )
                .ssg(&["aide_build_database"])
                .build(),
        );
    }
    let record_path = format!("{bl}{SUFFIX}");
    let record = match ctx.root.read(&record_path) {
        Ok(Some((bytes, _))) => CheckRecord::from_bytes(&bytes).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    let checked = match record {
        Ok(r) => r.and_then(|r| r.checked_at().ok()).map(unix_secs),
        Err(e) => {
            warn_at(ctx, &record_path, None, "", e);
            None
        }
    };
    let too_old = |t: i64| {
        hp.check_max_age_days != 0
            && now.saturating_sub(t) / i64::try_from(DAY_SECS).unwrap_or(1)
                > i64::from(hp.check_max_age_days)
    };
    let observed = match checked {
        None => Some("never checked (no record of a check)".to_owned()),
        Some(t) if too_old(t) => Some(format!(
            "last checked {} days ago",
            now.saturating_sub(t) / i64::try_from(DAY_SECS).unwrap_or(1)
        )),
        Some(_) => None,
    };
    if let Some(observed) = observed {
        out.push(
            ctx.finding(
                "INT-01",
                "the files are not checked against the baseline regularly",
            )
            .severity(Severity::Medium)
            .file(record_path)
            .observed(observed)
            .expected(format!(
                "a check within the last {} days (hardening.check_max_age_days)",
                hp.check_max_age_days
            ))
            .remediation("Run dha integrity check from a timer (daily) or dha integrity watch.")
            .ssg(&["aide_periodic_cron_checking"])
            .build(),
        );
    }
}

fn unix_secs(t: std::time::SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The machine path of a regular file inside the root (symlinks resolved
/// inside it), or `None` when it is absent or not a regular file (a FIFO is
/// never opened).
fn regular_file(ctx: &AuditContext<'_>, p: &str) -> Option<std::path::PathBuf> {
    match ctx.root.metadata(p) {
        Ok(Some(m)) if m.kind == FileKind::File => ctx.root.resolve(p, true).ok().flatten(),
        Ok(Some(_)) => {
            warn_at(ctx, p, None, "", "not a regular file: not read".to_owned());
            None
        }
        Ok(None) => None,
        Err(e) => {
            warn_at(ctx, p, None, "", e.to_string());
            None
        }
    }
}

/// An error message with the audited root's directory removed from paths
/// (the report speaks of device paths).
fn strip_root(ctx: &AuditContext<'_>, msg: &str) -> String {
    if ctx.root.is_live() {
        return msg.to_owned();
    }
    msg.replace(&ctx.root.dir().display().to_string(), "")
}

fn dpkg_digests(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let budget = usize::try_from(ctx.config.hardening.dpkg_verify_max_files).unwrap_or(usize::MAX);
    if budget == 0 {
        return;
    }
    let names = match ctx.root.read_dir(DPKG_INFO) {
        Ok(Some(n)) => n,
        Ok(None) => return,
        Err(e) => {
            warn_at(ctx, DPKG_INFO, None, "", e.to_string());
            return;
        }
    };
    let diverted = diversions(ctx);
    let mut hashed = 0usize;
    let mut listed = 0usize;
    for name in names.iter().filter(|n| n.ends_with(".md5sums")) {
        let pkg = name.strip_suffix(".md5sums").unwrap_or(name);
        let sums_path = join(DPKG_INFO, name);
        let Some(sums) = ctx.read_text(&sums_path) else {
            continue;
        };
        let conffiles: BTreeSet<String> = ctx
            .read_text(&join(DPKG_INFO, &format!("{pkg}.conffiles")))
            .map(|t| {
                t.lines()
                    .filter_map(|(_, l)| l.split_whitespace().next().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for (n, line) in sums.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let Some((digest, rel)) = parse_md5sums_line(line) else {
                warn_at(
                    ctx,
                    &sums_path,
                    Some(n),
                    "digest",
                    "not an `MD5  path` line (32 hex digits, spaces, a path)".to_owned(),
                );
                continue;
            };
            let path = format!("/{}", rel.trim_start_matches('/'));
            if conffiles.contains(&path) || diverted.contains(&path) {
                continue;
            }
            listed = listed.saturating_add(1);
            if hashed >= budget {
                continue;
            }
            let Some(file) = (match ctx.root.metadata(&path) {
                Ok(Some(m)) if m.kind == FileKind::File => {
                    ctx.root.resolve(&path, true).ok().flatten()
                }
                _ => None,
            }) else {
                continue;
            };
            hashed = hashed.saturating_add(1);
            let got = match md5_file(&file) {
                Ok(d) => d,
                Err(e) => {
                    warn_at(ctx, &path, None, "", format!("cannot be hashed: {e}"));
                    continue;
                }
            };
            if !got.eq_ignore_ascii_case(digest) {
                out.push(
                    ctx.finding("INT-01", format!("{path} differs from the file package {pkg} installed"))
                        .severity(Severity::Medium)
                        .file(&path)
                        .observed(format!("MD5 {got}"))
                        .expected(format!("MD5 {digest} ({sums_path}:{n})"))
                        .remediation(format!(
                            "Find out why it changed; reinstall it (apt-get install --reinstall {pkg}) if the change was not intended."
                        ))
                        .build(),
                );
            }
        }
    }
    if listed > hashed && hashed >= budget {
        out.push(
            ctx.finding(
                "INT-01",
                "only part of the package files were compared with their dpkg digests",
            )
            .severity(Severity::Info)
            .file(DPKG_INFO)
            .observed(format!("{hashed} of {listed} files compared"))
            .expected(format!("hardening.dpkg_verify_max_files = {budget}"))
            .remediation("Raise hardening.dpkg_verify_max_files to compare every file.")
            .build(),
        );
    }
}

/// `MD5  path` (md5sum(1) output): 32 hex digits, white space, the path.
fn parse_md5sums_line(line: &str) -> Option<(&str, &str)> {
    let (digest, rest) = line.split_once(|c: char| c.is_ascii_whitespace())?;
    let path = rest.trim_start();
    (digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit()) && !path.is_empty())
        .then_some((digest, path))
}

/// The paths dpkg-divert moved away: the package file no longer sits there.
fn diversions(ctx: &AuditContext<'_>) -> BTreeSet<String> {
    let Some(t) = ctx.read_text(DPKG_DIVERSIONS) else {
        return BTreeSet::new();
    };
    t.lines()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(_, (_, l))| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The MD5 of a file, streamed (any size), in lower-case hex.
fn md5_file(path: &std::path::Path) -> std::io::Result<String> {
    use md5::Digest as _;
    let mut f = super::open_regular(path)?;
    let mut h = md5::Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::{Baseline, FileTime, SealKey, SealKind, write_baseline};
    use crate::testing::{NOW, TestRoot, locations};

    fn sealed(t: &TestRoot, created_secs: i64) {
        let key = SealKey::generate(SealKind::Ed25519).unwrap();
        let b = Baseline::from_records(
            FileTime {
                secs: created_secs,
                nanos: 0,
            },
            [0; 32],
            Vec::new(),
        )
        .unwrap();
        std::fs::create_dir_all(t.path("/var/lib/dha")).unwrap();
        std::fs::create_dir_all(t.path("/etc/dha")).unwrap();
        write_baseline(&t.path("/var/lib/dha/integrity.baseline"), &b, &key).unwrap();
        key.public()
            .write(&t.path("/etc/dha/integrity.key"))
            .unwrap();
    }

    fn record(t: &TestRoot, secs: u64) {
        let when = UNIX_EPOCH + std::time::Duration::from_secs(secs);
        CheckRecord::new(when, "full", 0, "k")
            .write_beside(&t.path("/var/lib/dha/integrity.baseline"))
            .unwrap();
    }

    const NOW_I: i64 = NOW as i64;

    #[test]
    fn a_fresh_checked_baseline_passes() {
        let t = TestRoot::new(&[]);
        sealed(&t, NOW_I - 10 * 86_400);
        record(&t, NOW - 86_400);
        let r = t.audit("INT-01", int01_integrity);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn missing_old_unchecked_and_forged_baselines_are_reported() {
        let t = TestRoot::new(&[]);
        assert_eq!(
            locations(&t.audit("INT-01", int01_integrity)),
            ["/var/lib/dha/integrity.baseline"]
        );
        sealed(&t, NOW_I - 200 * 86_400);
        assert_eq!(
            locations(&t.audit("INT-01", int01_integrity)),
            [
                "/var/lib/dha/integrity.baseline",
                "/var/lib/dha/integrity.baseline.checked"
            ]
        );
        record(&t, NOW - 30 * 86_400);
        let r = t.audit("INT-01", int01_integrity);
        assert!(
            r.findings[1].evidence.observed.as_deref() == Some("last checked 30 days ago"),
            "{:?}",
            r.findings
        );
        // A baseline sealed by another key is refused.
        let other = SealKey::generate(SealKind::Ed25519).unwrap();
        std::fs::remove_file(t.path("/etc/dha/integrity.key")).unwrap();
        other
            .public()
            .write(&t.path("/etc/dha/integrity.key"))
            .unwrap();
        let r = t.audit("INT-01", int01_integrity);
        assert_eq!(locations(&r), ["/var/lib/dha/integrity.baseline"]);
        assert!(r.findings[0].title.contains("seal"), "{:?}", r.findings);
        assert!(
            !r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap()
                .contains("/tmp/"),
            "{:?}",
            r.findings[0]
        );
    }

    #[test]
    fn changed_package_files_are_reported_conffiles_and_diversions_skipped() {
        // MD5("hello\n") = b1946ac92492d2347c6235b4d2611184
        let t = TestRoot::new(&[
            (
                "/var/lib/dpkg/info/tool.md5sums",
                "b1946ac92492d2347c6235b4d2611184  usr/bin/tool\n\
                 b1946ac92492d2347c6235b4d2611184  usr/bin/changed\n\
                 b1946ac92492d2347c6235b4d2611184  etc/tool.conf\n\
                 b1946ac92492d2347c6235b4d2611184  usr/bin/diverted\n\
                 b1946ac92492d2347c6235b4d2611184  usr/share/doc/tool/README\n\
                 nonsense\n",
            ),
            ("/var/lib/dpkg/info/tool.conffiles", "/etc/tool.conf\n"),
            (
                "/var/lib/dpkg/diversions",
                "/usr/bin/diverted\n/usr/bin/diverted.real\nother\n",
            ),
            ("/usr/bin/tool", "hello\n"),
            ("/usr/bin/changed", "HELLO\n"),
            ("/etc/tool.conf", "edited\n"),
            ("/usr/bin/diverted", "other\n"),
        ]);
        sealed(&t, NOW_I);
        record(&t, NOW);
        let r = t.audit("INT-01", int01_integrity);
        assert_eq!(locations(&r), ["/usr/bin/changed"]);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert_eq!(r.warnings[0].line, Some(6));
        assert_eq!(
            r.findings[0].evidence.expected.as_deref(),
            Some("MD5 b1946ac92492d2347c6235b4d2611184 (/var/lib/dpkg/info/tool.md5sums:2)")
        );
        let mut t = t;
        t.cfg.hardening.dpkg_verify_max_files = 1;
        let r = t.audit("INT-01", int01_integrity);
        assert_eq!(locations(&r), [DPKG_INFO]);
        assert_eq!(r.findings[0].severity, Severity::Info);
    }
}
