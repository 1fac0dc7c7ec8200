//! UPD-01: package sources are signed, and the update client's trust root
//! is present, well-formed, self-signed and not expired.

use super::{DAY_SECS, device_path, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Finding, Severity};
use crate::parse::apt_sources::{AptSources, apt_bool};
use crate::tuf::metadata::{Metadata, Root};

/// APT configuration that applies to every source (apt.conf(5)).
pub const APT_CONF: &str = "/etc/apt/apt.conf";

/// apt.conf(5) drop-ins.
pub const APT_CONF_DIR: &str = "/etc/apt/apt.conf.d";

/// Global APT options that turn signature checks off or down (apt-secure(8)
/// "UNSIGNED REPOSITORIES"; apt.conf(5)), lower case.
const INSECURE_OPTIONS: &[&str] = &[
    "acquire::allowinsecurerepositories",
    "acquire::allowdowngradetoinsecurerepositories",
    "apt::get::allowunauthenticated",
    "acquire::allowweakrepositories",
];

/// The global option that, set to false, lets APT accept Release files past
/// their `Valid-Until` (apt.conf(5) `Acquire::Check-Valid-Until`): an
/// attacker can replay an old, correctly signed Release to withhold
/// security updates. Lower case.
const CHECK_VALID_UNTIL: &str = "acquire::check-valid-until";

/// Whether APT reads a file of `apt.conf.d` (apt.conf(5): the files "which
/// have either no or "conf" as filename extension and which only contain
/// alphanumeric, hyphen (-), underscore (_) and period (.) characters";
/// others are ignored, with a notice unless `Dir::Ignore-Files-Silently`
/// matches, e.g. `*.dpkg-old`, `*.ucf-dist`, `*~`). A name ending in a
/// period is never read (apt-pkg/contrib/fileutl.cc `GetListOfFilesInDir`).
pub fn apt_reads_part(name: &str) -> bool {
    let ok_chars = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ext_ok = match name.rsplit_once('.') {
        None => true,
        Some((_, ext)) => ext == "conf",
    };
    ok_chars && ext_ok && !name.ends_with('.')
}

/// The trust root expiring within this many days is a low finding.
const EXPIRY_WARNING_DAYS: u64 = 30;

/// UPD-01 (Lynis PKGS-7388; IEC 62443-4-2 HDR 3.10 RE1).
///
/// APT verifies the signature of every repository's Release file (apt-secure(8))
/// unless told not to: `trusted=yes` / `Trusted: yes` (the source is
/// trusted without a signature), `allow-insecure`, `allow-weak`,
/// `allow-downgrade-to-insecure` in sources.list(5), or the matching
/// global `Acquire::Allow…` / `APT::Get::AllowUnauthenticated` in apt.conf
/// (one-line `Key "value";` settings; the nested `Acquire { … }` form is not
/// read; of `apt.conf.d` only the files APT reads, see [`apt_reads_part`]):
/// each high. `Acquire::Check-Valid-Until "false"` there, or
/// `check-valid-until=no` on a source, is medium: an old signed Release
/// file can be replayed to hold back updates. A plain `http://` (or `ftp://`) source is low: the
/// signature still protects the packages, but what the device installs is
/// visible on the network and a stale mirror can withhold updates until the
/// Release file's `Valid-Until`.
///
/// The trust root of `dha update` (`root.json` in
/// `hardening.tuf_metadata_dir`): absent, malformed, not signed by a
/// threshold of its own root keys (TUF 1.0.34 §5.3.4) or expired by the
/// audit's clock (§5.3.10): high, as no update can then be accepted; expiring
/// within 30 days: low.
pub fn upd01_update_trust(ctx: &AuditContext<'_>) -> CheckOutcome {
    let mut out = Vec::new();
    apt(ctx, &mut out);
    apt_conf(ctx, &mut out);
    tuf_root(ctx, &mut out);
    CheckOutcome::Ran(out)
}

fn apt(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let sources = ctx.get::<AptSources>();
    for s in sources.sources.iter().filter(|s| s.enabled) {
        for (opt, what) in [
            ("trusted", "is trusted without a signature (trusted=yes)"),
            ("allow-insecure", "may be used unsigned (allow-insecure)"),
            (
                "allow-downgrade-to-insecure",
                "may drop its signature (allow-downgrade-to-insecure)",
            ),
            (
                "allow-weak",
                "may be signed with weak algorithms (allow-weak)",
            ),
        ] {
            if let Some((true, line)) = s.flag(opt) {
                out.push(
                    ctx.finding("UPD-01", format!("an APT source {what}"))
                        .severity(if opt == "allow-weak" {
                            Severity::Medium
                        } else {
                            Severity::High
                        })
                        .at(&s.file, line)
                        .observed(format!(
                            "{opt}={} for {}",
                            q(&s.options.get(opt).map(|o| o.0.clone()).unwrap_or_default()),
                            uris(s)
                        ))
                        .expected("every source verified by its Release signature (no such option)")
                        .remediation(format!(
                            "Remove {opt} and give the source its signing key (signed-by=/usr/share/keyrings/….gpg)."
                        ))
                        .build(),
                );
            }
        }
        if let Some((v, line)) = s
            .options
            .get("check-valid-until")
            .filter(|(v, _)| apt_bool(v) == Some(false))
        {
            out.push(replay_finding(
                ctx,
                &s.file,
                *line,
                format!("check-valid-until={} for {}", q(v), uris(s)),
            ));
        }
        for (uri, line) in &s.uris {
            let lower = uri.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("ftp://") {
                out.push(
                    ctx.finding("UPD-01", "an APT source is fetched without transport encryption")
                        .severity(Severity::Low)
                        .at(&s.file, *line)
                        .observed(q(uri))
                        .expected("https:// (the Release signature still protects the packages)")
                        .remediation("Use the https:// address of the mirror (apt-transport-https is built into APT ≥ 1.5).")
                        .build(),
                );
            }
        }
    }
}

fn uris(s: &crate::parse::apt_sources::AptSource) -> String {
    s.uris
        .iter()
        .map(|(u, _)| q(u))
        .collect::<Vec<_>>()
        .join(", ")
}

fn apt_conf(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let mut files = vec![APT_CONF.to_owned()];
    files.extend(
        ctx.dir_files(APT_CONF_DIR)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| apt_reads_part(f.rsplit('/').next().unwrap_or(f))),
    );
    for f in files {
        let Some(t) = ctx.read_text(&f) else {
            continue;
        };
        for (n, raw) in t.lines() {
            let line = raw.split("//").next().unwrap_or("").trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once(|c: char| c.is_ascii_whitespace()) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let value = value.trim().trim_end_matches(';').trim().trim_matches('"');
            if key == CHECK_VALID_UNTIL && apt_bool(value) == Some(false) {
                out.push(replay_finding(ctx, &f, n, q(line)));
                continue;
            }
            if !INSECURE_OPTIONS.contains(&key.as_str()) {
                continue;
            }
            if apt_bool(value) == Some(true) {
                out.push(
                    ctx.finding(
                        "UPD-01",
                        "APT is configured to accept unsigned or weakly signed repositories",
                    )
                    .at(&f, n)
                    .observed(q(line))
                    .expected(format!("{key} unset or \"false\""))
                    .remediation(format!("Remove the setting from {f}."))
                    .build(),
                );
            }
        }
    }
}

fn replay_finding(ctx: &AuditContext<'_>, file: &str, line: u32, observed: String) -> Finding {
    ctx.finding(
        "UPD-01",
        "APT accepts expired Release files: an old signed one can be replayed",
    )
    .severity(Severity::Medium)
    .at(file, line)
    .observed(observed)
    .expected("Check-Valid-Until unset or \"true\" (apt.conf(5), sources.list(5))")
    .remediation(format!(
        "Remove the setting from {file}; if a mirror's Release lacks Valid-Until, fix the mirror."
    ))
    .build()
}

fn tuf_root(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let dir = device_path(&ctx.config.hardening.tuf_metadata_dir);
    let path = crate::root::join(&dir, "root.json");
    let fix = "Seed the update client with the root metadata this device ships \
               (dha update init --metadata-dir DIR root.json), and publish a new \
               root before the old one expires.";
    let bytes = match ctx.root.read(&path) {
        Ok(Some((b, false))) => Ok(b),
        Ok(Some((_, true))) => Err("larger than the read limit".to_owned()),
        Ok(None) => Err("absent".to_owned()),
        Err(e) => Err(e.to_string()),
    };
    let max = ctx.config.update.max_root_bytes;
    let parsed = bytes.and_then(|b| {
        if u64::try_from(b.len()).unwrap_or(u64::MAX) > max {
            return Err(format!("larger than update.max_root_bytes ({max})"));
        }
        Metadata::<Root>::from_bytes("root", &b).map_err(|e| e.to_string())
    });
    let root = match parsed {
        Ok(r) => r,
        Err(why) => {
            out.push(
                ctx.finding(
                    "UPD-01",
                    "no usable update trust root: no update can be verified",
                )
                .file(&path)
                .observed(why)
                .expected("the TUF root metadata the device trusts (hardening.tuf_metadata_dir)")
                .remediation(fix)
                .build(),
            );
            return;
        }
    };
    let signed = root
        .signed
        .role("root")
        .ok_or_else(|| "root lists no keys for the root role".to_owned())
        .and_then(|r| {
            root.verify("root", &root.signed.keys, &r.keyids, r.threshold)
                .map_err(|e| e.to_string())
        });
    if let Err(why) = signed {
        out.push(
            ctx.finding(
                "UPD-01",
                "the update trust root is not signed by its own root keys",
            )
            .file(&path)
            .observed(why)
            .expected("a threshold of the root role's keys signed it (TUF 1.0.34 §5.3.4)")
            .remediation(fix)
            .build(),
        );
    }
    let now = ctx.clock.now();
    let expires = root.signed.common.expires;
    let expires_text = crate::clock::rfc3339(expires);
    if root.is_expired_at(now) {
        out.push(
            ctx.finding(
                "UPD-01",
                "the update trust root has expired: every update is refused",
            )
            .file(&path)
            .observed(format!(
                "version {}, expired {expires_text}",
                root.version()
            ))
            .expected("a root that has not expired (TUF 1.0.34 §5.3.10)")
            .remediation(fix)
            .build(),
        );
    } else if expires
        .duration_since(now)
        .is_ok_and(|d| d.as_secs() < EXPIRY_WARNING_DAYS.saturating_mul(DAY_SECS))
    {
        out.push(
            ctx.finding("UPD-01", "the update trust root expires soon")
                .severity(Severity::Low)
                .file(&path)
                .observed(format!(
                    "version {}, expires {expires_text}",
                    root.version()
                ))
                .expected(format!("more than {EXPIRY_WARNING_DAYS} days of validity"))
                .remediation(fix)
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestRoot, locations};

    #[test]
    fn unsigned_and_plain_sources_and_insecure_apt_conf_are_reported() {
        let t = TestRoot::new(&[
            (
                "/etc/apt/sources.list",
                "deb https://deb.debian.org/debian bookworm main\n\
                 deb [trusted=yes] https://vendor.example/apt stable main\n\
                 deb http://deb.debian.org/debian-security bookworm-security main\n",
            ),
            (
                "/etc/apt/sources.list.d/v.sources",
                "Types: deb\nURIs: https://v/\nSuites: s\nAllow-Insecure: yes\n\n\
                 Types: deb\nURIs: http://off/\nSuites: s\nEnabled: no\n",
            ),
            (
                "/etc/apt/sources.list.d/ignored.txt",
                "deb [trusted=yes] http://x/ y\n",
            ),
            (
                "/etc/apt/apt.conf.d/99insecure",
                "// vendor\nAcquire::AllowInsecureRepositories \"true\";\nAPT::Get::AllowUnauthenticated \"false\";\n",
            ),
        ]);
        let r = t.audit("UPD-01", upd01_update_trust);
        assert_eq!(
            locations(&r),
            [
                "/etc/apt/sources.list:2",
                "/etc/apt/sources.list:3",
                "/etc/apt/sources.list.d/v.sources:4",
                "/etc/apt/apt.conf.d/99insecure:2",
                "/var/lib/dha/tuf/root.json",
            ]
        );
        assert_eq!(r.findings[1].severity, Severity::Low);
    }

    #[test]
    fn apt_ignores_parts_with_other_extensions() {
        for n in [
            "99vendor",
            "00trustcdrom",
            "50unattended-upgrades",
            "a_b.c.conf",
            "x.conf",
        ] {
            assert!(apt_reads_part(n), "{n}");
        }
        for n in [
            "99vendor.dpkg-old",
            "99vendor.conf.dpkg-dist",
            "99vendor.ucf-old",
            "99vendor~",
            "99 vendor",
            "99vendor.",
            "x.cfg",
            "",
        ] {
            assert!(!apt_reads_part(n), "{n}");
        }
        let t = TestRoot::new(&[
            ("/var/lib/dha/tuf/root.json", "not json"),
            (
                "/etc/apt/apt.conf.d/99vendor.dpkg-old",
                "APT::Get::AllowUnauthenticated \"true\";\n",
            ),
            (
                "/etc/apt/apt.conf.d/98vendor.conf",
                "Acquire::Check-Valid-Until \"false\";\nAcquire::Check-Valid-Until \"true\";\n",
            ),
            (
                "/etc/apt/sources.list",
                "deb [check-valid-until=no] https://snapshot.example/ x main\n",
            ),
        ]);
        let r = t.audit("UPD-01", upd01_update_trust);
        assert_eq!(
            locations(&r),
            [
                "/etc/apt/sources.list:1",
                "/etc/apt/apt.conf.d/98vendor.conf:1",
                "/var/lib/dha/tuf/root.json",
            ]
        );
        assert_eq!(r.findings[0].severity, Severity::Medium);
        assert_eq!(r.findings[1].severity, Severity::Medium);
    }
}
