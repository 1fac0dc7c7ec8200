//! Account checks (CHECKS.md "User management"): ACC-01 UID 0, ACC-02 unique
//! identifiers, ACC-03 shadowed passwords, ACC-05 password aging, ACC-09
//! system accounts and shells, ACC-10 root password and rescue mode, ACC-13
//! account file modes, ACC-14 home directories.
//!
//! Every check reads the parsed [`Accounts`], [`LoginDefs`] and
//! [`UseraddDefaults`] of the audit and the root's metadata, so it runs the
//! same on `/` and on an extracted image. Each is linear in the number of
//! accounts (hash lookups, never pairwise comparisons): a device with 100,000
//! directory-synchronised accounts is audited in one pass. Findings describe
//! password fields ([`HashKind::describe`]) and never copy them.

use crate::audit::{AuditContext, CheckOutcome, Source};
use crate::finding::{Diagnostic, Finding, Severity};
use crate::parse::accounts::{Accounts, HashKind, PasswdEntry, Shells};
use crate::parse::keyfile::systemd_bool;
use crate::parse::logindefs::{KeyValues, LoginDefs, UseraddDefaults, parse_number};
use crate::parse::units::{self, Directive, ExecCommand, UnitLookup};
use crate::root::{FileKind, FileMeta, ResolvedDir, join};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

#[cfg(test)]
mod tests;

const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";
const GROUP: &str = "/etc/group";
const LOGIN_DEFS: &str = "/etc/login.defs";
const USERADD: &str = "/etc/default/useradd";

/// The overflow UID (`nobody`): a system account whatever `UID_MIN` says.
const OVERFLOW_UID: u32 = 65_534;

/// passwd(5): "If this field is empty, it defaults to the value /bin/sh."
fn login_shell(u: &PasswdEntry) -> &str {
    if u.shell.is_empty() {
        "/bin/sh"
    } else {
        &u.shell
    }
}

/// A value read from an input file, quoted and escaped for a report (a
/// hostile name cannot inject terminal escapes or fake report lines).
fn q(s: &str) -> String {
    format!("{s:?}")
}

fn na(reason: &str) -> CheckOutcome {
    CheckOutcome::NotApplicable(reason.to_owned())
}

/// A shadow day (days since 1970-01-01) as an ISO date, for evidence.
fn shadow_date(day: i64) -> String {
    // Julian day 2,440,588 is 1970-01-01.
    day.checked_add(2_440_588)
        .and_then(|j| i32::try_from(j).ok())
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .map_or_else(|| format!("day {day}"), |d| d.to_string())
}

/// The first UID of human users: `UID_MIN` of login.defs (as useradd(8)
/// reads it), else `accounts.uid_min`. Loaded once per audit, so a bad value
/// is reported once.
struct UidMin(u32);

impl Source for UidMin {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let fallback = ctx.config.accounts.uid_min;
        let defs = ctx.get::<LoginDefs>();
        let Some(s) = defs.0.get("UID_MIN") else {
            return UidMin(fallback);
        };
        match parse_number(&s.value).and_then(|v| u32::try_from(v).ok()) {
            Some(v) => UidMin(v),
            None => {
                ctx.warn(Diagnostic {
                    file: s.file.clone(),
                    line: Some(s.line),
                    field: Some("UID_MIN".to_owned()),
                    message: format!(
                        "{} is not a UID; using accounts.uid_min = {fallback}",
                        q(&s.value)
                    ),
                });
                UidMin(fallback)
            }
        }
    }
}

// ---------------------------------------------------------------- ACC-01

/// ACC-01 (Lynis AUTH-9204; SSG accounts_no_uid_except_zero,
/// accounts_root_gid_zero): only root has UID 0, and root's primary group is 0.
pub fn acc01_uid_zero(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(passwd) = acc.passwd.path.as_deref() else {
        return na("/etc/passwd is absent: there are no local accounts to check");
    };
    let mut out = Vec::new();
    for u in &acc.passwd.entries {
        // The kernel checks the number, not the name: every UID 0 account is
        // a full superuser, usually a forgotten test account or a backdoor.
        if u.uid == 0 && u.name != "root" {
            out.push(
                ctx.finding(
                    "ACC-01",
                    format!("account {} has UID 0: a second superuser", q(&u.name)),
                )
                .severity(Severity::Critical)
                .at(passwd, u.line)
                .observed(format!("{} with UID 0", q(&u.name)))
                .expected("only root has UID 0")
                .remediation(
                    "Remove the account, or give it its own UID (usermod -u) \
                    after checking which files it owns.",
                )
                .ssg(&["accounts_no_uid_except_zero"])
                .build(),
            );
        }
    }
    if let Some(root) = acc.user("root") {
        if root.gid != 0 {
            out.push(
                ctx.finding("ACC-01", "root's primary group is not GID 0")
                    .severity(Severity::High)
                    .at(passwd, root.line)
                    .observed(format!("root with primary GID {}", root.gid))
                    .expected("root with primary GID 0")
                    .remediation(
                        "Set root's primary group back to 0 (usermod -g 0 root): \
                        files root creates would otherwise belong to another \
                        group.",
                    )
                    .ssg(&["accounts_root_gid_zero"])
                    .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-02

/// ACC-02 (Lynis AUTH-9208, AUTH-9222, AUTH-9226; SSG account_unique_id,
/// account_unique_name, group_unique_id, group_unique_name,
/// gid_passwd_group_same): unique UIDs, user names, GIDs and group names, and
/// every primary GID has a group. Each duplicate is reported at its later
/// line and names the first; one pass with hash maps.
pub fn acc02_unique_ids(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    if !acc.passwd.present() && !acc.group.present() {
        return na("/etc/passwd and /etc/group are absent: there are no identifiers to compare");
    }
    let passwd = acc.passwd.path_or(PASSWD);
    let group = acc.group.path_or(GROUP);
    let mut out = Vec::new();
    let mut first_uid: HashMap<u32, &PasswdEntry> =
        HashMap::with_capacity(acc.passwd.entries.len());
    for u in &acc.passwd.entries {
        // Two accounts with one UID are one identity to the kernel: audit
        // records and file ownership cannot tell them apart (CR 1.1 RE1).
        match first_uid.entry(u.uid) {
            Entry::Occupied(first) => {
                let first = *first.get();
                out.push(
                    ctx.finding(
                        "ACC-02",
                        format!(
                            "UID {} is shared by {} and {}",
                            u.uid,
                            q(&first.name),
                            q(&u.name)
                        ),
                    )
                    .severity(Severity::High)
                    .at(passwd, u.line)
                    .observed(format!(
                        "{} has UID {}, already used by {} at {passwd}:{}",
                        q(&u.name),
                        u.uid,
                        q(&first.name),
                        first.line
                    ))
                    .expected("each UID used by one account")
                    .remediation(
                        "Give each account its own UID (usermod -u) and fix the \
                            ownership of its files.",
                    )
                    .ssg(&["account_unique_id"])
                    .build(),
                );
            }
            Entry::Vacant(v) => {
                v.insert(u);
            }
        }
        // glibc's getpwnam() returns the first entry: a later one of the same
        // name is unreachable by name but still owns its UID.
        if let Some(first) = acc.user(&u.name).filter(|f| f.line != u.line) {
            out.push(
                ctx.finding("ACC-02", format!("user name {} appears twice", q(&u.name)))
                    .severity(Severity::High)
                    .at(passwd, u.line)
                    .observed(format!("{} also at {passwd}:{}", q(&u.name), first.line))
                    .expected("each user name once")
                    .remediation("Remove or rename the duplicate entry (vipw).")
                    .ssg(&["account_unique_name"])
                    .build(),
            );
        }
        if acc.group.present() && acc.group_by_gid(u.gid).is_none() {
            out.push(
                ctx.finding(
                    "ACC-02",
                    format!("primary GID {} of {} has no group", u.gid, q(&u.name)),
                )
                .severity(Severity::Low)
                .at(passwd, u.line)
                .observed(format!(
                    "{} has primary GID {}, not defined in {group}",
                    q(&u.name),
                    u.gid
                ))
                .expected("every primary GID defined in /etc/group")
                .remediation(
                    "Create the group (groupadd -g) or change the account's \
                        primary group; a group created later with that GID would \
                        inherit the account's files.",
                )
                .ssg(&["gid_passwd_group_same"])
                .build(),
            );
        }
    }
    if acc.passwd.present() && !acc.group.present() {
        out.push(
            ctx.finding(
                "ACC-02",
                "/etc/group is absent: no primary GID resolves to a group",
            )
            .severity(Severity::Low)
            .file(GROUP)
            .observed("/etc/group absent")
            .expected("/etc/group defining every primary GID")
            .remediation("Restore /etc/group (grpconv, or from the image's build).")
            .ssg(&["gid_passwd_group_same"])
            .build(),
        );
    }
    for g in &acc.group.entries {
        if let Some(first) = acc.group_by_gid(g.gid).filter(|f| f.line != g.line) {
            out.push(
                ctx.finding(
                    "ACC-02",
                    format!(
                        "GID {} is shared by groups {} and {}",
                        g.gid,
                        q(&first.name),
                        q(&g.name)
                    ),
                )
                .severity(Severity::Medium)
                .at(group, g.line)
                .observed(format!(
                    "{} has GID {}, already used by {} at {group}:{}",
                    q(&g.name),
                    g.gid,
                    q(&first.name),
                    first.line
                ))
                .expected("each GID used by one group")
                .remediation(
                    "Give each group its own GID (groupmod -g) and fix group \
                        ownership of its files.",
                )
                .ssg(&["group_unique_id"])
                .build(),
            );
        }
        if let Some(first) = acc.group_named(&g.name).filter(|f| f.line != g.line) {
            out.push(
                ctx.finding("ACC-02", format!("group name {} appears twice", q(&g.name)))
                    .severity(Severity::Medium)
                    .at(group, g.line)
                    .observed(format!("{} also at {group}:{}", q(&g.name), first.line))
                    .expected("each group name once")
                    .remediation("Remove or rename the duplicate entry (vigr).")
                    .ssg(&["group_unique_name"])
                    .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-03

/// ACC-03 (Lynis AUTH-9283; SSG accounts_password_all_shadowed,
/// no_empty_passwords_etc_shadow): every passwd entry says `x` so that the
/// hash lives in the unreadable shadow file; no empty password field.
pub fn acc03_shadowed(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    if !acc.passwd.present() && !acc.shadow.present() {
        return na("/etc/passwd and /etc/shadow are absent: there are no passwords to check");
    }
    let passwd = acc.passwd.path_or(PASSWD);
    let shadow = acc.shadow.path_or(SHADOW);
    let mut out = Vec::new();
    let mut any_shadowed = false;
    for u in &acc.passwd.entries {
        match u.password.as_str() {
            "x" => {
                any_shadowed = true;
                if acc.shadow.present() && acc.shadow_of(&u.name).is_none() {
                    out.push(
                        ctx.finding(
                            "ACC-03",
                            format!("{} has no entry in /etc/shadow", q(&u.name)),
                        )
                        .severity(Severity::Low)
                        .at(passwd, u.line)
                        .observed(format!(
                            "{} shadowed (x) without a shadow entry",
                            q(&u.name)
                        ))
                        .expected("a shadow entry for every account (pwck)")
                        .remediation(
                            "Run pwconv (or pwck) to add the entry, then lock or set \
                                the password; without it the account has no aging and its \
                                lock state is undefined.",
                        )
                        .ssg(&["accounts_password_all_shadowed"])
                        .build(),
                    );
                }
            }
            // pam_unix and glibc use a non-`x` field directly: empty means
            // no password at all.
            "" => out.push(
                ctx.finding(
                    "ACC-03",
                    format!(
                        "{} has an empty password field in /etc/passwd: no password \
                    needed",
                        q(&u.name)
                    ),
                )
                .severity(Severity::Critical)
                .at(passwd, u.line)
                .observed(format!("{}: empty password field", q(&u.name)))
                .expected("x (password kept in /etc/shadow)")
                .remediation(
                    "Put x in the field (pwconv) and lock or set the password \
                        (passwd -l / passwd).",
                )
                .ssg(&["accounts_password_all_shadowed"])
                .build(),
            ),
            other => {
                let kind = HashKind::of(other);
                let (sev, why) = if kind == HashKind::Locked {
                    (
                        Severity::Low,
                        "a lock marker in /etc/passwd (not shadowed)".to_owned(),
                    )
                } else {
                    // /etc/passwd is world-readable: any local user can copy
                    // the hash and crack it offline.
                    (
                        Severity::High,
                        format!("a {} hash in world-readable /etc/passwd", kind.describe()),
                    )
                };
                out.push(
                    ctx.finding(
                        "ACC-03",
                        format!("password of {} is not shadowed", q(&u.name)),
                    )
                    .severity(sev)
                    .at(passwd, u.line)
                    .observed(format!("{}: {why}", q(&u.name)))
                    .expected("x (password kept in /etc/shadow)")
                    .remediation(
                        "Run pwconv to move the password to /etc/shadow, then \
                            change it: the old hash has been readable by everyone.",
                    )
                    .ssg(&["accounts_password_all_shadowed"])
                    .build(),
                );
            }
        }
    }
    if !acc.shadow.present() && any_shadowed {
        out.push(
            ctx.finding(
                "ACC-03",
                "/etc/shadow is absent although /etc/passwd refers to it",
            )
            .severity(Severity::Medium)
            .file(SHADOW)
            .observed("/etc/shadow absent")
            .expected("/etc/shadow with an entry for every account")
            .remediation("Recreate /etc/shadow (pwconv) and set or lock every password.")
            .ssg(&["accounts_password_all_shadowed"])
            .build(),
        );
    }
    for s in &acc.shadow.entries {
        if s.password.is_empty() {
            out.push(
                ctx.finding(
                    "ACC-03",
                    format!(
                        "{} has an empty password in /etc/shadow: no password needed",
                        q(&s.name)
                    ),
                )
                .severity(Severity::Critical)
                .at(shadow, s.line)
                .observed(format!("{}: empty password field", q(&s.name)))
                .expected(
                    "a strong hash, or ! / * when the account must not log in with a password",
                )
                .remediation("Lock the account (passwd -l) or set a password (passwd).")
                .ssg(&["no_empty_passwords_etc_shadow"])
                .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-05

/// How a login.defs aging key is judged.
struct AgingKey {
    key: &'static str,
    ssg: &'static str,
    /// What shadow-utils does when the key is absent or unreadable
    /// (`getdef_num(key, -1)`).
    default_meaning: &'static str,
}

const MAX_DAYS: AgingKey = AgingKey {
    key: "PASS_MAX_DAYS",
    ssg: "accounts_maximum_age_login_defs",
    default_meaning: "passwords never expire",
};
const MIN_DAYS: AgingKey = AgingKey {
    key: "PASS_MIN_DAYS",
    ssg: "accounts_minimum_age_login_defs",
    default_meaning: "passwords may be changed again at once",
};
const WARN_AGE: AgingKey = AgingKey {
    key: "PASS_WARN_AGE",
    ssg: "accounts_password_warn_age_login_defs",
    default_meaning: "no warning before expiry",
};

/// Judges one login.defs key; `ok` gets the effective value (-1 when absent
/// or unreadable, as shadow-utils uses it).
fn aging_key(
    ctx: &AuditContext<'_>,
    defs: &KeyValues,
    file: &str,
    k: &AgingKey,
    expected: String,
    ok: impl Fn(i64) -> bool,
    out: &mut Vec<Finding>,
) {
    let (title, observed, line) = match defs.get(k.key) {
        None if ok(-1) => return,
        None => (
            format!("login.defs does not set {}", k.key),
            format!("{} absent: {}", k.key, k.default_meaning),
            None,
        ),
        Some(s) => match parse_number(&s.value) {
            Some(v) if ok(v) => return,
            Some(v) => (
                format!("login.defs {} is weak", k.key),
                format!("{} {v}", k.key),
                Some(s.line),
            ),
            None => (
                format!("login.defs {} is not a number", k.key),
                format!(
                    "{} {}: shadow-utils ignores it ({})",
                    k.key,
                    q(&s.value),
                    k.default_meaning
                ),
                Some(s.line),
            ),
        },
    };
    let f = ctx.finding("ACC-05", title);
    let f = match line {
        Some(l) => f.at(file, l),
        None => f.file(file),
    };
    out.push(
        f.observed(observed)
            .expected(expected)
            .remediation(format!(
                "Set {} in /etc/login.defs; existing accounts also need chage.",
                k.key
            ))
            .ssg(&[k.ssg])
            .build(),
    );
}

/// ACC-05 (Lynis AUTH-9282, AUTH-9286, AUTH-9288; SSG
/// accounts_maximum_age_login_defs, accounts_minimum_age_login_defs,
/// accounts_password_warn_age_login_defs, account_disable_post_pw_expiration,
/// accounts_password_set_max_life_existing, accounts_set_post_pw_existing,
/// accounts_password_last_change_is_in_past): password lifetime for new and
/// existing accounts, inactivity lock, and no change date in the future.
pub fn acc05_aging(ctx: &AuditContext<'_>) -> CheckOutcome {
    let defs = ctx.get::<LoginDefs>();
    let acc = ctx.get::<Accounts>();
    if !defs.0.present() && !acc.shadow.present() {
        return na(
            "/etc/login.defs and /etc/shadow are absent: there is no password aging to check",
        );
    }
    let pol = &ctx.config.password;
    let mut out = Vec::new();
    match defs.0.path.as_deref() {
        Some(file) => {
            let (max, min, warn) = (
                i64::from(pol.max_days),
                i64::from(pol.min_days),
                i64::from(pol.warn_days),
            );
            // -1 (and any negative value) disables the limit in shadow-utils.
            aging_key(
                ctx,
                &defs.0,
                file,
                &MAX_DAYS,
                format!("PASS_MAX_DAYS between 0 and {max}"),
                |v| (0..=max).contains(&v),
                &mut out,
            );
            aging_key(
                ctx,
                &defs.0,
                file,
                &MIN_DAYS,
                format!("PASS_MIN_DAYS {min} or more"),
                |v| v.max(0) >= min,
                &mut out,
            );
            aging_key(
                ctx,
                &defs.0,
                file,
                &WARN_AGE,
                format!("PASS_WARN_AGE {warn} or more"),
                |v| v.max(0) >= warn,
                &mut out,
            );
        }
        None => out.push(
            ctx.finding(
                "ACC-05",
                "/etc/login.defs is absent: new accounts get no password aging",
            )
            .file(LOGIN_DEFS)
            .observed(
                "/etc/login.defs absent: shadow-utils defaults (no maximum, minimum or warning)",
            )
            .expected(format!(
                "PASS_MAX_DAYS {}, PASS_MIN_DAYS {}, PASS_WARN_AGE {}",
                pol.max_days, pol.min_days, pol.warn_days
            ))
            .remediation("Install /etc/login.defs with the aging policy.")
            .ssg(&[MAX_DAYS.ssg, MIN_DAYS.ssg, WARN_AGE.ssg])
            .build(),
        ),
    }
    inactive_default(ctx, &mut out);
    per_account_aging(ctx, &acc, &mut out);
    CheckOutcome::Ran(out)
}

/// `INACTIVE` of /etc/default/useradd: days after expiry before the account
/// is disabled; useradd(8): "A value of -1 disables the feature", and -1 is
/// the default when it is absent.
fn inactive_default(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let useradd = ctx.get::<UseraddDefaults>();
    let limit = ctx.config.password.inactive_days;
    let f = ctx
        .finding(
            "ACC-05",
            "new accounts are never disabled after their password expires",
        )
        .expected(format!("INACTIVE between 0 and {limit}"))
        .remediation(format!(
            "Set INACTIVE={limit} in /etc/default/useradd (useradd -D \
            -f {limit}); existing accounts need chage --inactive."
        ))
        .ssg(&["account_disable_post_pw_expiration"]);
    let f = match (&useradd.0.path, useradd.0.get("INACTIVE")) {
        (None, _) => f
            .file(USERADD)
            .observed("/etc/default/useradd absent: INACTIVE defaults to -1 (never)"),
        (Some(p), None) => f
            .file(p)
            .observed("INACTIVE absent: defaults to -1 (never)"),
        (Some(_), Some(s)) => match parse_number(&s.value) {
            Some(v) if (0..=i64::from(limit)).contains(&v) => return,
            Some(v) => f.at(&s.file, s.line).observed(format!("INACTIVE={v}")),
            None => f
                .at(&s.file, s.line)
                .observed(format!("INACTIVE={} is not a number", q(&s.value))),
        },
    };
    out.push(f.build());
}

/// Shadow fields of existing accounts: login.defs only applies to accounts
/// created after it was set.
fn per_account_aging(ctx: &AuditContext<'_>, acc: &Accounts, out: &mut Vec<Finding>) {
    let shadow = acc.shadow.path_or(SHADOW);
    let today = ctx.clock.days_since_epoch();
    let max = i64::from(ctx.config.password.max_days);
    let inactive = i64::from(ctx.config.password.inactive_days);
    for s in &acc.shadow.entries {
        // A change date in the future postpones expiry and warnings by as
        // much (a clock set wrong when the password was set, or tampering).
        if let Some(lc) = s.last_change.filter(|&lc| lc > today) {
            out.push(
                ctx.finding(
                    "ACC-05",
                    format!("password of {} was last changed in the future", q(&s.name)),
                )
                .at(shadow, s.line)
                .observed(format!(
                    "last change {} (day {lc}), today {} (day {today})",
                    shadow_date(lc),
                    shadow_date(today)
                ))
                .expected("a last-change date not after today")
                .remediation(format!(
                    "Check the device clock, then reset the date (chage -d) or \
                        force a change (chage -d 0 {}).",
                    s.name
                ))
                .ssg(&["accounts_password_last_change_is_in_past"])
                .build(),
            );
        }
        // Aging only matters for a password that can be used.
        if matches!(s.hash_kind(), HashKind::Locked | HashKind::Empty) || s.is_expired(today) {
            continue;
        }
        match s.max_days {
            Some(v) if (0..=max).contains(&v) => {}
            v => out.push(
                ctx.finding(
                    "ACC-05",
                    format!(
                        "password of {} does not expire within {max} days",
                        q(&s.name)
                    ),
                )
                .at(shadow, s.line)
                .observed(match v {
                    Some(v) if v >= 0 => format!("maximum age {v} days"),
                    _ => "no maximum age".to_owned(),
                })
                .expected(format!("maximum age between 0 and {max} days"))
                .remediation(format!("chage -M {max} {}", s.name))
                .ssg(&["accounts_password_set_max_life_existing"])
                .build(),
            ),
        }
        match s.inactive_days {
            Some(v) if (0..=inactive).contains(&v) => {}
            v => out.push(
                ctx.finding(
                    "ACC-05",
                    format!(
                        "{} is never disabled after its password expires",
                        q(&s.name)
                    ),
                )
                .at(shadow, s.line)
                .observed(match v {
                    Some(v) if v >= 0 => format!("inactivity period {v} days"),
                    _ => "no inactivity period".to_owned(),
                })
                .expected(format!("inactivity period between 0 and {inactive} days"))
                .remediation(format!("chage --inactive {inactive} {}", s.name))
                .ssg(&["accounts_set_post_pw_existing"])
                .build(),
            ),
        }
    }
}

// ---------------------------------------------------------------- ACC-09

/// ACC-09 (Lynis AUTH-9284, SHLL-6211; SSG no_shelllogin_for_systemaccounts,
/// no_invalid_shell_accounts_unlocked): system accounts have no login shell
/// unless locked; every unlocked account's shell is listed in /etc/shells.
pub fn acc09_system_shells(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(passwd) = acc.passwd.path.as_deref() else {
        return na("/etc/passwd is absent: there are no accounts to check");
    };
    let shells = ctx.get::<Shells>();
    let uid_min = ctx.get::<UidMin>().0;
    let pol = &ctx.config.accounts;
    let today = ctx.clock.days_since_epoch();
    let mut out = Vec::new();
    for u in &acc.passwd.entries {
        let shell = login_shell(u);
        if pol.nologin_shells.iter().any(|n| n == shell) || acc.is_locked(u, today) {
            continue;
        }
        let system = u.name != "root"
            && (u.uid < uid_min || u.uid == OVERFLOW_UID)
            && !pol.system_accounts_with_shell.contains(&u.name);
        if system {
            out.push(
                ctx.finding(
                    "ACC-09",
                    format!(
                        "system account {} has a login shell and is not locked",
                        q(&u.name)
                    ),
                )
                .at(passwd, u.line)
                .observed(format!(
                    "{} (UID {}) with shell {} and a usable password",
                    q(&u.name),
                    u.uid,
                    q(shell)
                ))
                .expected(format!(
                    "system accounts (UID below {uid_min}) with a nologin \
                        shell, or locked"
                ))
                .remediation(format!(
                    "usermod -s /usr/sbin/nologin {} (and passwd -l): a locked \
                        password alone does not stop key-based SSH login.",
                    u.name
                ))
                .ssg(&["no_shelllogin_for_systemaccounts"])
                .build(),
            );
        }
        if !shells.contains(shell) {
            let listed = if shells.present() {
                "not listed in /etc/shells".to_owned()
            } else {
                format!(
                    "/etc/shells absent; getusershell(3) accepts only {}",
                    Shells::DEFAULT.join(" and ")
                )
            };
            out.push(
                ctx.finding(
                    "ACC-09",
                    format!(
                        "unlocked account {} has a shell that is not a valid login \
                    shell",
                        q(&u.name)
                    ),
                )
                .at(passwd, u.line)
                .observed(format!("{} with shell {}: {listed}", q(&u.name), q(shell)))
                .expected("a shell listed in /etc/shells, or a nologin shell")
                .remediation(
                    "Set a listed shell or a nologin shell (usermod -s), or \
                        lock the account; an unlisted program as shell escapes the \
                        checks chsh and ftp daemons make.",
                )
                .ssg(&["no_invalid_shell_accounts_unlocked"])
                .build(),
            );
        } else if !pol.allowed_shells.is_empty() && !pol.allowed_shells.iter().any(|a| a == shell) {
            out.push(
                ctx.finding(
                    "ACC-09",
                    format!("unlocked account {} has a shell the device policy does not allow", q(&u.name)),
                )
                .severity(Severity::Low)
                .at(passwd, u.line)
                .observed(format!("{} with shell {}", q(&u.name), q(shell)))
                .expected(format!("one of accounts.allowed_shells: {}", pol.allowed_shells.join(", ")))
                .remediation("Set an allowed shell (usermod -s) or lock the account, or add the shell to accounts.allowed_shells in dha.toml.")
                .ssg(&["no_invalid_shell_accounts_unlocked"])
                .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-10

/// The rescue units and the SSG rule each answers.
const RESCUE_UNITS: [(&str, &str, &str); 2] = [
    ("rescue.service", "require_singleuser_auth", "rescue"),
    (
        "emergency.service",
        "require_emergency_target_auth",
        "emergency",
    ),
];

/// Interactive shells: run without `-c`, they give whoever is at the console
/// a root prompt.
const SHELLS: [&str; 8] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"];

/// What a rescue-unit command does about authentication.
#[derive(Debug, PartialEq, Eq)]
enum RescueCommand {
    /// Runs sulogin (directly, through systemd-sulogin-shell, or as the first
    /// command of `sh -c`); `forced` when it passes `-e`/`--force`.
    Sulogin { forced: bool },
    /// Runs something else.
    Other,
}

/// sulogin(8) `-e`/`--force`: with a locked root, start a shell without asking.
fn sulogin_forced<'a>(args: impl IntoIterator<Item = &'a str>) -> bool {
    for a in args {
        if a == "--" {
            break;
        }
        if a == "--force" {
            return true;
        }
        if let Some(short) = a.strip_prefix('-').filter(|s| !s.starts_with('-')) {
            // `-t` takes the rest of the word as its value.
            for c in short.chars() {
                match c {
                    'e' => return true,
                    't' => break,
                    _ => {}
                }
            }
        }
    }
    false
}

fn classify_rescue(cmd: &ExecCommand) -> RescueCommand {
    match cmd.program_name() {
        "systemd-sulogin-shell" => RescueCommand::Sulogin { forced: false },
        "sulogin" => RescueCommand::Sulogin {
            forced: sulogin_forced(cmd.args.iter().map(String::as_str)),
        },
        // systemd < 240 and RHEL 7: ExecStart=-/bin/sh -c "/sbin/sulogin; …".
        name if SHELLS.contains(&name) => {
            let script = cmd
                .args
                .iter()
                .position(|a| a == "-c")
                .and_then(|i| cmd.args.get(i.saturating_add(1)));
            let Some(script) = script else {
                return RescueCommand::Other;
            };
            let first = script.split([';', '&', '|', '\n']).next().unwrap_or("");
            let words = units::split_words(first);
            let mut it = words.iter().map(String::as_str);
            match it.next() {
                Some(p) if p.rsplit('/').next() == Some("sulogin") => RescueCommand::Sulogin {
                    forced: sulogin_forced(it),
                },
                _ => RescueCommand::Other,
            }
        }
        _ => RescueCommand::Other,
    }
}

/// ACC-10 (Lynis AUTH-9308, BOOT-5260; SSG ensure_root_password_configured,
/// require_singleuser_auth, require_emergency_target_auth): root has a
/// password or is locked deliberately, and the rescue and emergency units ask
/// for it before giving a root shell on the console.
pub fn acc10_root_password(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(shadow) = acc.shadow.path.as_deref() else {
        return na("/etc/shadow is absent: root's password cannot be assessed");
    };
    let mut out = Vec::new();
    let root_locked = root_password(ctx, &acc, shadow, &mut out);
    for (unit, ssg, target) in RESCUE_UNITS {
        // Units absent (a system without systemd, or a minimal image): only
        // the root password part applies.
        if let UnitLookup::Found(u) = units::load_system_unit(ctx, unit) {
            rescue_unit(ctx, &u, ssg, target, root_locked, &mut out);
        }
    }
    CheckOutcome::Ran(out)
}

/// Judges root's effective password; returns true when it is locked.
fn root_password(
    ctx: &AuditContext<'_>,
    acc: &Accounts,
    shadow: &str,
    out: &mut Vec<Finding>,
) -> bool {
    let passwd = acc.passwd.path_or(PASSWD);
    let root = acc.user("root");
    // The field that sulogin and pam_unix use: passwd's unless it is `x`.
    let (kind, file, line) = match root {
        Some(r) if r.password != "x" => (Some(HashKind::of(&r.password)), passwd, Some(r.line)),
        _ => match acc.shadow_of("root") {
            Some(s) => (Some(s.hash_kind()), shadow, Some(s.line)),
            None => (None, shadow, None),
        },
    };
    let expected = "root with a strong password, or locked deliberately (! or *)";
    let (title, sev, observed, remediation, locked) = match kind {
        Some(HashKind::Empty) => (
            // sulogin(8) starts a root shell at once for an empty password,
            // and so does pam_unix with nullok.
            "root has an empty password: a root shell for anyone at the console",
            Severity::Critical,
            "root: empty password field",
            "Set a root password (passwd root) or lock root (passwd -l \
                root) and give rescue access another way.",
            false,
        ),
        // Locking root is a legitimate choice (sudo-only devices); it is
        // reported as evidence so that the decision is visible in the MDS2 file.
        Some(HashKind::Locked) => (
            "root is locked: rescue and emergency mode refuse console access",
            Severity::Info,
            "root: password locked",
            "Nothing, if locking root is deliberate and another \
                recovery path is documented; SYSTEMD_SULOGIN_FORCE must \
                then stay unset, or the lock gives a passwordless shell.",
            true,
        ),
        // glibc returns "x" to sulogin, which then never matches any input.
        None => (
            "root has no shadow entry: no root password can be verified",
            Severity::Medium,
            "no root entry in /etc/shadow",
            "Add the entry (pwconv) and set a root password (passwd \
                root) or lock it (passwd -l root).",
            false,
        ),
        Some(_) => return false,
    };
    let f = ctx.finding("ACC-10", title);
    let f = match line {
        Some(l) => f.at(file, l),
        None => f.file(file),
    };
    out.push(
        f.severity(sev)
            .observed(observed)
            .expected(expected)
            .remediation(remediation)
            .ssg(&["ensure_root_password_configured"])
            .build(),
    );
    locked
}

fn excerpt(d: &Directive) -> String {
    let mut s = format!("{}={}", d.key, d.value);
    if s.chars().count() > 200 {
        s = s.chars().take(200).collect::<String>() + "…";
    }
    s
}

/// Judges one rescue unit's commands and environment.
fn rescue_unit(
    ctx: &AuditContext<'_>,
    u: &units::Unit,
    ssg: &str,
    target: &str,
    root_locked: bool,
    out: &mut Vec<Finding>,
) {
    let expected = format!("ExecStart=-/usr/lib/systemd/systemd-sulogin-shell {target}");
    let forced = |d: &Directive, how: String| {
        // sulogin --force with root locked starts a shell without asking.
        let sev = if root_locked {
            Severity::Critical
        } else {
            Severity::Medium
        };
        ctx.finding(
            "ACC-10",
            format!(
                "{} forces sulogin: a locked root gives a shell without \
            password",
                u.name
            ),
        )
        .severity(sev)
        .at(&d.file, d.line)
        .observed(how)
        .expected(format!(
            "{expected}, without SYSTEMD_SULOGIN_FORCE or --force"
        ))
        .remediation(
            "Remove the setting: with root locked, rescue mode must \
                refuse the console rather than open it.",
        )
        .ssg(&[ssg])
        .build()
    };
    for d in u.list("Service", "ExecStart") {
        let Some(cmd) = units::parse_exec(&d.value) else {
            continue;
        };
        match classify_rescue(&cmd) {
            RescueCommand::Sulogin { forced: false } => {}
            RescueCommand::Sulogin { forced: true } => out.push(forced(d, excerpt(d))),
            RescueCommand::Other => out.push(
                ctx.finding(
                    "ACC-10",
                    format!(
                        "{} starts {} instead of sulogin: a root shell without password",
                        u.name,
                        q(cmd.program_name())
                    ),
                )
                .at(&d.file, d.line)
                .observed(excerpt(d))
                .expected(expected.clone())
                .remediation(format!(
                    "Remove the override so that {} runs systemd-sulogin-shell \
                        (systemctl revert {}).",
                    u.name, u.name
                ))
                .ssg(&[ssg])
                .build(),
            ),
        }
    }
    // An interactive shell before or after sulogin is just as open.
    for key in ["ExecStartPre", "ExecStartPost"] {
        for d in u.list("Service", key) {
            let Some(cmd) = units::parse_exec(&d.value) else {
                continue;
            };
            if SHELLS.contains(&cmd.program_name()) && !cmd.args.iter().any(|a| a == "-c") {
                out.push(
                    ctx.finding(
                        "ACC-10",
                        format!("{} runs an interactive shell in {key}=", u.name),
                    )
                    .at(&d.file, d.line)
                    .observed(excerpt(d))
                    .expected(format!("no interactive shell outside sulogin ({expected})"))
                    .remediation(format!("Remove the {key}= line."))
                    .ssg(&[ssg])
                    .build(),
                );
            }
        }
    }
    // systemd-sulogin-shell passes --force to sulogin when this is true.
    if let Some(v) = u.environment(ctx).get("SYSTEMD_SULOGIN_FORCE") {
        if systemd_bool(&v.value) == Some(true) {
            let d = Directive {
                section: "Service".to_owned(),
                key: "Environment".to_owned(),
                value: format!("SYSTEMD_SULOGIN_FORCE={}", v.value),
                file: v.file.clone(),
                line: v.line,
            };
            out.push(forced(
                &d,
                format!("SYSTEMD_SULOGIN_FORCE={} for {}", v.value, u.name),
            ));
        }
    }
}

// ---------------------------------------------------------------- ACC-13

/// One account database file and what it may be.
struct Guarded {
    path: &'static str,
    /// Holds hashes: group `shadow` may read it, others nothing.
    secret: bool,
    /// SSG rules: permissions, owner, group owner.
    ssg: [&'static str; 3],
}

const GUARDED: [Guarded; 8] = [
    Guarded {
        path: "/etc/passwd",
        secret: false,
        ssg: [
            "file_permissions_etc_passwd",
            "file_owner_etc_passwd",
            "file_groupowner_etc_passwd",
        ],
    },
    Guarded {
        path: "/etc/shadow",
        secret: true,
        ssg: [
            "file_permissions_etc_shadow",
            "file_owner_etc_shadow",
            "file_groupowner_etc_shadow",
        ],
    },
    Guarded {
        path: "/etc/group",
        secret: false,
        ssg: [
            "file_permissions_etc_group",
            "file_owner_etc_group",
            "file_groupowner_etc_group",
        ],
    },
    Guarded {
        path: "/etc/gshadow",
        secret: true,
        ssg: [
            "file_permissions_etc_gshadow",
            "file_owner_etc_gshadow",
            "file_groupowner_etc_gshadow",
        ],
    },
    Guarded {
        path: "/etc/passwd-",
        secret: false,
        ssg: [
            "file_permissions_backup_etc_passwd",
            "file_owner_backup_etc_passwd",
            "file_groupowner_backup_etc_passwd",
        ],
    },
    Guarded {
        path: "/etc/shadow-",
        secret: true,
        ssg: [
            "file_permissions_backup_etc_shadow",
            "file_owner_backup_etc_shadow",
            "file_groupowner_backup_etc_shadow",
        ],
    },
    Guarded {
        path: "/etc/group-",
        secret: false,
        ssg: [
            "file_permissions_backup_etc_group",
            "file_owner_backup_etc_group",
            "file_groupowner_backup_etc_group",
        ],
    },
    Guarded {
        path: "/etc/gshadow-",
        secret: true,
        ssg: [
            "file_permissions_backup_etc_gshadow",
            "file_owner_backup_etc_gshadow",
            "file_groupowner_backup_etc_gshadow",
        ],
    },
];

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "a regular file",
        FileKind::Dir => "a directory",
        FileKind::Symlink => "a symbolic link",
        FileKind::Other => "a device, FIFO or socket",
    }
}

fn describe_meta(m: &FileMeta) -> String {
    format!("mode {:04o} owner {}:{}", m.mode, m.uid, m.gid)
}

/// ACC-13 (Lynis FILE-7524; SSG file_permissions_etc_*, file_owner_etc_*,
/// file_groupowner_etc_* and their backup_ variants): the account databases
/// and their `-` backups are root-owned, not writable by others, and the
/// shadow files readable by root and group shadow only.
pub fn acc13_file_modes(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let shadow_gid = acc.group_named("shadow").map(|g| g.gid);
    let mut out = Vec::new();
    let mut seen = 0usize;
    for g in &GUARDED {
        let m = match ctx.root.metadata(g.path) {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) => {
                ctx.warn(Diagnostic {
                    file: g.path.to_owned(),
                    line: None,
                    field: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        seen = seen.saturating_add(1);
        let [perm_rule, owner_rule, group_rule] = g.ssg;
        let allowed: u32 = if g.secret { 0o640 } else { 0o644 };
        let groups_ok: Vec<u32> = if g.secret {
            std::iter::once(0).chain(shadow_gid).collect()
        } else {
            vec![0]
        };
        let expected = format!(
            "a regular file, mode {allowed:04o} or stricter, owner 0 (root), group {}",
            if g.secret && shadow_gid.is_some() {
                format!("0 (root) or {} (shadow)", shadow_gid.unwrap_or(0))
            } else {
                "0 (root)".to_owned()
            }
        );
        if m.kind != FileKind::File {
            out.push(
                ctx.finding("ACC-13", format!("{} is not a regular file", g.path))
                    .severity(Severity::Medium)
                    .file(g.path)
                    .observed(format!("{}, {}", kind_name(m.kind), describe_meta(&m)))
                    .expected(expected)
                    .remediation(format!("Restore {} as a regular file.", g.path))
                    .ssg(&[perm_rule])
                    .build(),
            );
            continue;
        }
        let extra = m.mode & !allowed;
        if extra != 0 {
            let sev = if extra & 0o022 != 0 {
                // Anyone who can write an account file can make themselves root.
                Severity::Critical
            } else if extra & 0o044 != 0 {
                // Hashes readable beyond root and group shadow.
                Severity::High
            } else {
                Severity::Low
            };
            out.push(
                ctx.finding(
                    "ACC-13",
                    format!("{} has permissions beyond {allowed:04o}", g.path),
                )
                .severity(sev)
                .file(g.path)
                .observed(describe_meta(&m))
                .expected(expected.clone())
                .remediation(format!("chmod {allowed:04o} {}", g.path))
                .ssg(&[perm_rule])
                .build(),
            );
        }
        if m.uid != 0 {
            out.push(
                ctx.finding("ACC-13", format!("{} is not owned by root", g.path))
                    .file(g.path)
                    .observed(describe_meta(&m))
                    .expected(expected.clone())
                    .remediation(format!("chown root {}", g.path))
                    .ssg(&[owner_rule])
                    .build(),
            );
        }
        if !groups_ok.contains(&m.gid) {
            // A foreign group matters when it can read a secret or write anything.
            let sev = if m.mode & 0o020 != 0 || (g.secret && m.mode & 0o040 != 0) {
                Severity::High
            } else {
                Severity::Low
            };
            out.push(
                ctx.finding("ACC-13", format!("{} belongs to group {}", g.path, m.gid))
                    .severity(sev)
                    .file(g.path)
                    .observed(describe_meta(&m))
                    .expected(expected)
                    .remediation(format!(
                        "chgrp {} {}",
                        if g.secret && shadow_gid.is_some() {
                            "shadow"
                        } else {
                            "root"
                        },
                        g.path
                    ))
                    .ssg(&[group_rule])
                    .build(),
            );
        }
    }
    if seen == 0 {
        return na(
            "none of /etc/passwd, /etc/shadow, /etc/group, /etc/gshadow or their backups exists",
        );
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-14

/// Files in a home directory that grant access without a password, with the
/// SSG rule for each.
const TRUST_FILES: [(&str, &str, &str); 3] = [
    (
        ".netrc",
        "no_netrc_files",
        "holds plain-text credentials for other hosts",
    ),
    (
        ".rhosts",
        "no_rsh_trust_files",
        "lets remote users in without a password (rsh/rlogin trust)",
    ),
    (
        ".shosts",
        "no_user_host_based_files",
        "lets remote users in without a password (SSH host-based trust)",
    ),
];

/// System-wide trust files, with the SSG rule for each.
const HOST_TRUST_FILES: [(&str, &str); 3] = [
    ("/etc/hosts.equiv", "no_rsh_trust_files"),
    ("/etc/shosts.equiv", "no_host_based_files"),
    ("/etc/ssh/shosts.equiv", "no_host_based_files"),
];

/// ACC-14 (Lynis HOME-9302..9306; SSG
/// accounts_user_interactive_home_directory_exists,
/// file_ownership_home_directories, file_permissions_home_directories,
/// no_netrc_files, no_rsh_trust_files, no_user_host_based_files,
/// no_host_based_files): interactive users' homes exist, belong to them and
/// are 0750 or stricter; no trust files in any home or in /etc. Only homes
/// named in passwd are looked at, each once.
pub fn acc14_homes(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(passwd) = acc.passwd.path.as_deref() else {
        return na("/etc/passwd is absent: there are no home directories to check");
    };
    let uid_min = ctx.get::<UidMin>().0;
    let nologin = &ctx.config.accounts.nologin_shells;
    let mut out = Vec::new();
    let mut visited: HashSet<&str> = HashSet::with_capacity(acc.passwd.entries.len());
    let mut homes = HomeProbe::new(ctx.root);
    for u in &acc.passwd.entries {
        let interactive = u.name == "root"
            || (u.uid >= uid_min
                && u.uid != OVERFLOW_UID
                && !nologin.iter().any(|n| n == login_shell(u)));
        let is_dir = if interactive {
            home_of_interactive(ctx, &mut homes, u, passwd, &mut out)
        } else {
            u.home.starts_with('/')
                && matches!(homes.metadata(&u.home), Ok(Some(m)) if m.kind == FileKind::Dir)
        };
        if is_dir && visited.insert(u.home.as_str()) {
            let home_dir = homes.dir(&u.home);
            for (name, rule, why) in TRUST_FILES {
                let p = join(&u.home, name);
                let meta = match &home_dir {
                    Some(d) => ctx.root.entry_metadata(d, name, false),
                    None => ctx.root.symlink_metadata(&p),
                };
                if let Ok(Some(_)) = meta {
                    out.push(
                        ctx.finding("ACC-14", format!("{p} exists: it {why}"))
                            .severity(Severity::High)
                            .file(&p)
                            .observed(format!("{name} in the home of {}", q(&u.name)))
                            .expected(format!("no {name} in any home directory"))
                            .remediation(format!(
                                "Remove {p} and use key-based or managed credentials."
                            ))
                            .ssg(&[rule])
                            .build(),
                    );
                }
            }
        }
    }
    for (p, rule) in HOST_TRUST_FILES {
        if let Ok(Some(_)) = ctx.root.symlink_metadata(p) {
            out.push(
                ctx.finding(
                    "ACC-14",
                    format!("{p} exists: remote hosts are trusted without a password"),
                )
                .severity(Severity::High)
                .file(p)
                .observed(format!("{p} present"))
                .expected(format!("no {p}"))
                .remediation(format!("Remove {p}."))
                .ssg(&[rule])
                .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

/// Looks at home directories with as few system calls as possible: the
/// parent of each home (`/home`) is resolved once per audit, then each home
/// and each file probed in it costs one `lstat`. On a device with 10,000
/// accounts this is what keeps ACC-14 linear and fast (see the bench-audit
/// benchmark); the answers are those of `Root::metadata` (tested in root.rs).
struct HomeProbe<'r> {
    root: &'r crate::root::Root,
    parents: HashMap<String, Option<ResolvedDir>>,
}

impl<'r> HomeProbe<'r> {
    fn new(root: &'r crate::root::Root) -> Self {
        HomeProbe {
            root,
            parents: HashMap::new(),
        }
    }

    /// Splits a plain absolute path (`/home/tech`) into parent and name;
    /// `None` for anything unusual (`..`, `//`, a trailing `/`, `/`), which
    /// then takes the full resolution.
    fn split(home: &str) -> Option<(&str, &str)> {
        if !home.starts_with('/') || home.ends_with('/') || home.contains("//") {
            return None;
        }
        let (parent, name) = home.rsplit_once('/')?;
        if name == "." || name == ".." || parent.split('/').any(|c| c == "." || c == "..") {
            return None;
        }
        Some((if parent.is_empty() { "/" } else { parent }, name))
    }

    fn parent(&mut self, parent: &str) -> Option<&ResolvedDir> {
        if !self.parents.contains_key(parent) {
            let d = self.root.resolve_dir(parent).ok().flatten();
            self.parents.insert(parent.to_owned(), d);
        }
        self.parents.get(parent).and_then(Option::as_ref)
    }

    /// The same as `root.metadata(home)`.
    fn metadata(&mut self, home: &str) -> Result<Option<FileMeta>, crate::root::RootError> {
        let root = self.root;
        match Self::split(home) {
            Some((parent, name)) => match self.parent(parent) {
                Some(d) => root.entry_metadata(d, name, true),
                None => root.metadata(home),
            },
            None => root.metadata(home),
        }
    }

    /// The home as a resolved directory, when it is one.
    fn dir(&mut self, home: &str) -> Option<ResolvedDir> {
        let root = self.root;
        match Self::split(home) {
            Some((parent, name)) => match self.parent(parent) {
                Some(d) => root.entry_dir(d, name).ok().flatten(),
                None => root.resolve_dir(home).ok().flatten(),
            },
            None => root.resolve_dir(home).ok().flatten(),
        }
    }
}

/// Checks an interactive user's home; true when it is a directory.
fn home_of_interactive(
    ctx: &AuditContext<'_>,
    homes: &mut HomeProbe<'_>,
    u: &PasswdEntry,
    passwd: &str,
    out: &mut Vec<Finding>,
) -> bool {
    let f = |title: String| ctx.finding("ACC-14", title).at(passwd, u.line);
    if !u.home.starts_with('/') || (u.home == "/" && u.name != "root") {
        out.push(
            f(format!("{} has no home directory of its own", q(&u.name)))
                .observed(format!("{} with home {}", q(&u.name), q(&u.home)))
                .expected("an absolute home directory owned by the user")
                .remediation(format!(
                    "Give the user a home directory (usermod -d /home/{} -m {}).",
                    u.name, u.name
                ))
                .ssg(&["accounts_user_interactive_home_directory_exists"])
                .build(),
        );
        return false;
    }
    let m = match homes.metadata(&u.home) {
        Ok(Some(m)) => m,
        Ok(None) => {
            out.push(
                f(format!("home directory of {} does not exist", q(&u.name)))
                    .observed(format!("{} absent", u.home))
                    .expected(format!("{} a directory owned by UID {}", u.home, u.uid))
                    .remediation(format!(
                        "Create it (mkhomedir_helper {}) or correct the home in /etc/passwd.",
                        u.name
                    ))
                    .ssg(&["accounts_user_interactive_home_directory_exists"])
                    .build(),
            );
            return false;
        }
        Err(e) => {
            ctx.warn(Diagnostic {
                file: u.home.clone(),
                line: None,
                field: None,
                message: e.to_string(),
            });
            return false;
        }
    };
    if m.kind != FileKind::Dir {
        out.push(
            f(format!("home of {} is not a directory", q(&u.name)))
                .observed(format!(
                    "{}: {}, {}",
                    u.home,
                    kind_name(m.kind),
                    describe_meta(&m)
                ))
                .expected(format!("{} a directory owned by UID {}", u.home, u.uid))
                .remediation(format!(
                    "Replace {} with a directory owned by {}.",
                    u.home, u.name
                ))
                .ssg(&["accounts_user_interactive_home_directory_exists"])
                .build(),
        );
        return false;
    }
    if m.uid != u.uid {
        // Owned by another account, that account controls this user's
        // dotfiles (.profile, .ssh/authorized_keys); root-owned is only a nuisance.
        let sev = if m.uid == 0 {
            Severity::Low
        } else {
            Severity::High
        };
        out.push(
            f(format!("home of {} is owned by UID {}", q(&u.name), m.uid))
                .severity(sev)
                .observed(format!("{}: {}", u.home, describe_meta(&m)))
                .expected(format!("owner {} ({})", u.uid, u.name))
                .remediation(format!("chown {} {}", u.name, u.home))
                .ssg(&["file_ownership_home_directories"])
                .build(),
        );
    }
    let extra = m.mode & !0o750;
    if extra != 0 {
        // Writable by others: anyone can plant a .bashrc the user will run.
        let sev = if m.mode & 0o022 != 0 {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(
            f(format!(
                "home of {} has permissions beyond 0750",
                q(&u.name)
            ))
            .severity(sev)
            .observed(format!("{}: {}", u.home, describe_meta(&m)))
            .expected("mode 0750 or stricter")
            .remediation(format!(
                "chmod 0750 {} (HOME_MODE 0750 in /etc/login.defs for new users)",
                u.home
            ))
            .ssg(&["file_permissions_home_directories"])
            .build(),
        );
    }
    true
}
