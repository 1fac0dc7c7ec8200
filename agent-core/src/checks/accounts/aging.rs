//! ACC-05: password aging, for new accounts (`/etc/login.defs`,
//! `/etc/default/useradd`) and for existing ones (their shadow fields).

use super::{SHADOW, na, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Finding;
use crate::parse::accounts::{Accounts, HashKind};
use crate::parse::logindefs::{KeyValues, LoginDefs, UseraddDefaults, parse_number};

const LOGIN_DEFS: &str = "/etc/login.defs";
const USERADD: &str = "/etc/default/useradd";

/// A shadow day (days since 1970-01-01) as an ISO date, for evidence.
pub(super) fn shadow_date(day: i64) -> String {
    // Julian day 2,440,588 is 1970-01-01.
    day.checked_add(2_440_588)
        .and_then(|j| i32::try_from(j).ok())
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .map_or_else(|| format!("day {day}"), |d| d.to_string())
}

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
